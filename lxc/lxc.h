/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internal interfaces of the LXC driver. driver.c runs in the supervisor;
 * container.c (and what it calls in mounts.c, devices.c, caps.c,
 * seccomp.c) runs in the cloned child, before it execs the container's
 * init. Everything the child needs is prepared by the parent before clone
 * (crun's model: the seccomp filter is compiled there) and handed over in
 * struct lxc_child. */

#include <stdint.h>
#include <sys/types.h>

#include "conf/domain.h"
#include "cgroup/cgroup.h"
#include "util/error.h"

/* ---- what the child gets ---- */

struct lxc_child {
        const struct domain_def *def;
        const char *rootfs; /* host path of the root filesystem */
        bool root_readonly;
        bool userns;              /* a user namespace with <idmap> */
        int sync_fd;              /* SOCK_SEQPACKET to the parent, CLOEXEC */
        int console_fd;           /* the console pty's slave */
        const char *console_path; /* host path of the slave (/dev/pts/N) */
        uint64_t caps_drop;       /* bit per CAP_* to drop from every set */
        void *seccomp;            /* compiled scmp_filter_ctx, loaded by the child */
        /* the guest's cgroup, entered by the child first */
        const struct cgroup_entry *cgroup;
};

/* container.c: the child's main. Never returns: execs init or _exits
 * after reporting the error to the parent. */
_noreturn_ void lxc_container_main(const struct lxc_child *c);

/* ---- sync.c: parent <-> child messages over the socketpair ---- */

enum lxc_sync_type { LXC_SYNC_GO = 1, LXC_SYNC_ERROR = 2, LXC_SYNC_MAPPED = 3 };

/* Parent: let the child continue: MAPPED once the id maps are written
 * (only with a user namespace), GO once cgroups and network are set up. */
int lxc_sync_send(int fd, enum lxc_sync_type type, struct lv_error **err);
/* Child: wait for that message; -EPIPE when the parent went away. */
int lxc_sync_wait(int fd, enum lxc_sync_type type);
/* Parent, after its own step failed: if the child already reported an
 * error (it runs in parallel), replace *err with the child's (the cause)
 * and return its negative code; else return r unchanged. */
int lxc_sync_child_error(int fd, int r, struct lv_error **err);
/* Child: report an error (errno code + message) to the parent. */
void lxc_sync_send_error(int fd, const struct lv_error *e);
/* Parent: wait until the child exec'd (the CLOEXEC socket closes: 0) or
 * reported an error (negative, *err set with the child's message), at
 * most timeout_ms. */
int lxc_sync_wait_exec(int fd, int timeout_ms, struct lv_error **err);

/* ---- mounts.c (child) ---- */

/* Private propagation, root bind, other <filesystem>s, /dev, pivot_root,
 * /proc and /sys. On return the process runs in the new root. */
int lxc_mounts_setup(const struct lxc_child *c, enum cgroup_mode *ret_cg_mode,
                     struct lv_error **err);
/* Open a bind-mount source (O_PATH) without following any symlink on its
 * path (openat2 RESOLVE_NO_SYMLINKS): a directory a guest can write may
 * have been replaced by a link. ELOOP with an error naming the path;
 * `what` starts the messages ("root filesystem"). */
int lxc_source_open(const char *source, const char *what, int *ret_fd, struct lv_error **err);
/* open(rel) below rootfd as a process whose root it is would
 * (openat2 RESOLVE_IN_ROOT, no magic links): a symlink stays inside. */
int lxc_open_in_root(int rootfd, const char *rel, uint64_t flags);
/* In the new root, once in the guest's cgroups and cgroup namespace: the
 * cgroup mounts, then a read-only root. */
int lxc_mounts_finish(const struct lxc_child *c, enum cgroup_mode cg_mode, struct lv_error **err);

/* ---- devices.c ---- */

/* The minimal /dev, populated in the directory dev (host path, before
 * pivot_root). */
int lxc_devices_populate(const struct lxc_child *c, const char *dev, struct lv_error **err);
/* Rules for the v1 devices controller allowing exactly that /dev. */
extern const char *const lxc_devices_cgroup_allow[];

/* ---- caps.c ---- */

/* The capabilities to drop for the definition's <features><capabilities>
 * (parent, pure; an unknown capability name is an error). */
int lxc_caps_compute(const struct domain_def *def, uint64_t *ret_drop, struct lv_error **err);
/* Child: drop from the bounding set (before changing uid). */
int lxc_caps_drop_bounding(uint64_t drop, struct lv_error **err);
/* Child: drop from effective/permitted/inheritable, clear ambient (after
 * changing uid; a non-root user keeps none). */
int lxc_caps_drop_process(uint64_t drop, struct lv_error **err);
/* Default drop set (libvirt's LXC plus sys_rawio). */
extern const char *const lxc_caps_default_drop[];

/* ---- seccomp.c ---- */

/* Compile the default filter (parent). */
int lxc_seccomp_build(const struct domain_def *def, void **ret_ctx, struct lv_error **err);
int lxc_seccomp_load(void *ctx, struct lv_error **err);
void lxc_seccomp_free(void *ctx);
extern const char *const lxc_seccomp_denied[];
/* Whether the filter for def denies writable remounts (def has a
 * read-only filesystem). */
bool lxc_seccomp_denies_remounts(const struct domain_def *def);

/* ---- idmap.c (parent) ---- */

int lxc_idmap_validate(const struct domain_def *def, struct lv_error **err);
/* Write /proc/PID/uid_map and gid_map. */
int lxc_idmap_write(pid_t pid, const struct domain_def *def, struct lv_error **err);
/* Whether the guest id `id` is mapped by the list. */
bool lxc_idmap_has(const struct domain_idmap *map, int n, unsigned id);

/* ---- user.c (child): <inituser>/<initgroup> in the container's files ---- */

struct lxc_user {
        uid_t uid;
        gid_t gid;
        char *home;
        gid_t *groups; /* supplementary groups of a named user */
        int n_groups;
};
/* Resolve user and group (names looked up in /etc/passwd and /etc/group of
 * the current root, or numbers). */
int lxc_user_resolve(const char *user, const char *group, struct lxc_user *ret,
                     struct lv_error **err);
void lxc_user_clear(struct lxc_user *u);

/* ---- hotplug.c (supervisor): devices into the running container ---- */

struct lv_guest;
/* driver.h net_attach / net_detach (the veth pair goes at once:
 * g->net_released is called before it returns). */
int lxc_net_attach(struct lv_guest *g, int i, struct lv_error **err);
int lxc_net_detach(struct lv_guest *g, int i, struct lv_error **err);
/* driver.h fs_attach: g->def->filesystems[i] bind-mounted at its target
 * (denies_remounts: the container's seccomp filter refuses writable
 * remounts); fs_detach: unmounted, 1 when busy and detached lazily. */
int lxc_fs_attach(struct lv_guest *g, int i, bool denies_remounts, struct lv_error **err);
int lxc_fs_detach(struct lv_guest *g, int i, struct lv_error **err);
