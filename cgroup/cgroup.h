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
 * read-only). Call before cgroup_entry_open. */
#define CGROUP_PAYLOAD "payload"
int cgroup_guest_delegate(struct cgroup *cg, struct lv_error **err);
/* The guest's first process enters its cgroups itself, before it does
 * anything else, instead of being moved there by the supervisor.
 *
 * Moving another process (a pid written to cgroup.procs) takes the
 * kernel's one global cgroup_threadgroup_rwsem for writing, whose writer
 * waits for an RCU grace period (8-15 ms on this project's hosts, more
 * under load) unless another writer was there just before. A process that
 * writes "0" to a v1 hierarchy's "tasks" moves only itself, and the kernel
 * skips that lock for it (a single thread that is `current` cannot exec or
 * exit meanwhile); the cgroup2 tree is entered by the clone itself
 * (CLONE_INTO_CGROUP), which takes the lock for reading only
 * (docs/performance.md). The files are opened by the supervisor, so the
 * kernel's permission check (the opener's credentials) holds in a child
 * that is already in a user namespace of its own. */
struct cgroup_entry {
        int *tasks_fds; /* "tasks" of each v1 hierarchy, O_WRONLY */
        int n_tasks;
        int v2_dir_fd;   /* the cgroup2 directory (CLONE_INTO_CGROUP), or -1 */
        int v2_procs_fd; /* its cgroup.procs, when the clone could not use it */
        bool v2_placed;  /* the clone put the child there */
};
struct clone_args; /* <linux/sched.h> */
#define CGROUP_ENTRY_INIT                                                                          \
        {                                                                                          \
                .v2_dir_fd = -1, .v2_procs_fd = -1                                                 \
        }
/* Open the files of the guest's cgroup (its attach directories: call after
 * cgroup_guest_delegate). */
int cgroup_entry_open(const struct cgroup *cg, struct cgroup_entry *e, struct lv_error **err);
/* clone3(2) with args, into the guest's cgroup2 directory when there is
 * one; without that when the kernel refuses it (the child then enters the
 * cgroup2 tree by cgroup.procs). Returns as clone3. */
long cgroup_entry_clone(struct cgroup_entry *e, struct clone_args *args);
/* In the child, first thing: system calls only. 0, or -errno and the
 * hierarchy's index in *failed. */
int cgroup_entry_enter(const struct cgroup_entry *e, int *failed);
void cgroup_entry_close(struct cgroup_entry *e);
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
