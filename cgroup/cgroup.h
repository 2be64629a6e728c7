/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A guest's cgroup, in every hierarchy the host has (v1 controllers,
 * the cgroup2 tree, or both in hybrid mode). The guest's directory is
 * always created BELOW the supervisor's own cgroup of each hierarchy (read
 * from /proc/self/cgroup) and named "litevirt-NAME"; nothing outside that
 * subtree is ever created, moved or removed. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf/domain.h"
#include "util/error.h"

enum cgroup_mode {
        CGROUP_MODE_LEGACY,  /* v1 only */
        CGROUP_MODE_HYBRID,  /* v1 controllers + cgroup2 at /sys/fs/cgroup/unified */
        CGROUP_MODE_UNIFIED, /* cgroup2 at /sys/fs/cgroup */
};

/* In unified mode a supervisor whose own cgroup holds processes cannot
 * enable controllers for its guests ("no internal processes"): it moves
 * itself into this leaf of its own cgroup, and keeps placing guests in
 * the cgroup above it. */
#define CGROUP_SUPERVISOR_LEAF "litevirt-supervisor"

/* The default pids.max of a guest (see docs/lxc.md). */
#define CGROUP_DEFAULT_PIDS_MAX 1024

/* One hierarchy the guest has a directory in. */
struct cgroup_hier {
        char *controllers; /* "memory", "cpu,cpuacct", "" for cgroup2 */
        bool v2;
        char *dir;        /* absolute directory of the guest's cgroup */
        char *attach_dir; /* where its processes go, when not dir (payload) */
};

struct cgroup {
        enum cgroup_mode mode;
        char *name;     /* "litevirt-NAME" */
        char *rel_path; /* path of the guest's cgroup in the memory (v1)
                         * or cgroup2 hierarchy, e.g. "/x/litevirt-web1" */
        struct cgroup_hier *hier;
        int n_hier;
};

/* The cgroup root, normally "/sys/fs/cgroup"; LITEVIRT_CGROUP_ROOT overrides
 * it (tests). */
const char *cgroup_root(void);

int cgroup_detect_mode(enum cgroup_mode *ret, struct lv_error **err);
const char *cgroup_mode_to_string(enum cgroup_mode mode);

/* Create the guest's cgroup in every hierarchy and apply the limits of def.
 * devices_allow, when not NULL, is a NULL-terminated list of v1 device
 * rules ("c 1:3 rwm"): everything else is denied (v1 devices controller).
 * A stale directory of the same name (left by a supervisor that was
 * killed; the caller holds the guest's lock) is emptied and removed first.
 * On failure nothing is left behind. */
int cgroup_guest_create(const struct domain_def *def, const char *const *devices_allow,
                        struct cgroup **ret, struct lv_error **err);
/* After the hierarchies that cannot be written were left out: fail when
 * def needs a controller none of the remaining ones has (an explicit limit:
 * <memtune>, <vcpu cpuset>, <cputune>, <blkiotune>, device rules); warn
 * when only a default is lost (<memory> alone, pids.max). */
int cgroup_check_needs(const struct domain_def *def, const char *const *devices_allow,
                       const struct cgroup *cg, struct lv_error **err);
/* Hand the guest a subtree it may write, as systemd-nspawn does, for an
 * init system inside (systemd creates its own cgroups): in the cgroup2 tree
 * and the named (name=systemd) hierarchies, its processes go to the child
 * "payload" of its cgroup, so that the limits written on the guest's cgroup
 * stay out of its reach when the hierarchy is mounted writable inside
 * (lxc/mounts.c); v1 controller hierarchies are unchanged (mounted
 * read-only). Call before cgroup_guest_attach. */
#define CGROUP_PAYLOAD "payload"
int cgroup_guest_delegate(struct cgroup *cg, struct lv_error **err);
/* Move a process into the guest's cgroup in every hierarchy. */
int cgroup_guest_attach(struct cgroup *cg, pid_t pid, struct lv_error **err);
/* Moving a process (cgroup.procs) takes the kernel's one global
 * cgroup_threadgroup_rwsem for writing. Its first writer waits for an RCU
 * grace period (8-15 ms on this project's hosts, more under load);
 * writers within about a grace period after another do not (0.03 ms).
 * cgroup_attach_warm() starts that wait at once, in a short-lived child
 * that writes its own pid into the cgroup it already is in (which moves
 * nothing), and again every 2 ms until cgroup_attach_warm_end() kills
 * it (by its pid, and reaps it): the
 * cgroup_guest_attach() in between, after the guest's cgroups are made
 * and its process cloned, then finds the lock ready instead of waiting
 * for a grace period of its own (docs/performance.md). The child ends by
 * itself after CGROUP_WARM_MAX_MS, or with its parent. Start it after
 * the guest's cgroups are made: its write holds the kernel's cgroup_mutex
 * through the grace period, and every cgroup mkdir needs that mutex (the
 * creation would wait for all of it). Returns its pid,
 * or -1 when none was started (the own cgroup not found, fork failed):
 * the attach then pays the grace period itself. */
#define CGROUP_WARM_MAX_MS 2000
pid_t cgroup_attach_warm(void);
void cgroup_attach_warm_end(pid_t *pid);
/* Kill whatever still runs in the cgroup and remove its directories.
 * Idempotent. */
int cgroup_guest_destroy(struct cgroup *cg, struct lv_error **err);
void cgroup_free(struct cgroup *cg);
static inline void cgroup_freep(struct cgroup **cg)
{
        cgroup_free(*cg);
}
#define _cleanup_cgroup_ _cleanup_(cgroup_freep)

/* Remove a stale "litevirt-NAME" cgroup of a guest whose supervisor died
 * (kill its processes, rmdir). Harmless when there is none. */
int cgroup_guest_cleanup_stale(const char *guest_name, struct lv_error **err);

/* Freeze / thaw every process of the guest, waiting until the kernel
 * reports the state reached. */
int cgroup_guest_freeze(struct cgroup *cg, struct lv_error **err);
/* Set the guest's memory limit (v1 memory.limit_in_bytes, v2 memory.max)
 * to kib KiB: `lvsh setmem` of a container, as libvirt's LXC driver. */
int cgroup_guest_set_memory(struct cgroup *cg, unsigned long long kib, struct lv_error **err);
int cgroup_guest_thaw(struct cgroup *cg, struct lv_error **err);

/* Number of processes in the cgroup (0 when empty). */
int cgroup_guest_count_procs(struct cgroup *cg, unsigned *ret, struct lv_error **err);

struct cgroup_stats {
        uint64_t cpu_time_ns;  /* UINT64_MAX when unknown */
        uint64_t memory_bytes; /* current usage */
        uint64_t memory_limit; /* bytes, UINT64_MAX when unlimited/unknown */
        uint64_t pids_current;
        uint64_t pids_max;  /* UINT64_MAX when unlimited/unknown */
        uint64_t oom_kills; /* processes the OOM killer ended in it, UINT64_MAX unknown */
};
int cgroup_guest_stats(struct cgroup *cg, struct cgroup_stats *ret, struct lv_error **err);

/* A descriptor that becomes ready when the OOM killer acts in the guest's
 * memory cgroup: cgroup2 memory.events (EPOLLPRI), or on v1 an eventfd
 * registered in cgroup.event_control for memory.oom_control (EPOLLIN).
 * cgroup_guest_oom_ack() consumes an event and returns the kill count. */
int cgroup_guest_oom_watch(struct cgroup *cg, int *ret_fd, uint32_t *ret_events,
                           struct lv_error **err);
int cgroup_guest_oom_ack(struct cgroup *cg, int fd, uint64_t *ret_kills, struct lv_error **err);

/* cgroup v2 device control (cgroup_devices.c): attach a device program
 * allowing exactly rules_text (v1 syntax: "c 1:3 rwm", "c 136:* rwm", "a")
 * to the cgroup2 directory dir; everything else is denied. */
int cgroup_devices_bpf_attach(const char *dir, const char *const *rules_text,
                              struct lv_error **err);

/* The directory of the guest's cgroup in the hierarchy with `controller`
 * (NULL when there is none; "" finds the cgroup2 tree). */
const char *cgroup_guest_dir(const struct cgroup *cg, const char *controller);
