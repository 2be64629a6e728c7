/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hot-plug into a running container (docs/lxc.md, "Hot-plug"):
 * interfaces (a veth pair made as at the start, netns/) and filesystems
 * (a bind mount of a host directory made in the container's mount
 * namespace, at a target looked up inside the container's root).
 *
 * A filesystem is cloned from the host (open_tree) by the supervisor and
 * moved into the container's mount namespace by a short-lived child
 * (setns): the target is opened beforehand through /proc/PID/root with
 * RESOLVE_IN_ROOT, so a symlink the guest planted there is resolved as
 * the guest would (inside its root) and the mount can never land on the
 * host. A read-only filesystem stays read-only against the guest's root:
 * in a user namespace the mount's read-only flag is locked by the kernel
 * (the clone passes through a mount namespace owned by the container's
 * user namespace, copied from one of the host's: MNT_LOCK_READONLY); a
 * privileged container relies on its seccomp filter denying writable
 * remounts, and without that rule (no read-only filesystem at its start)
 * a read-only attach is refused. */
#include "lxc/lxc.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "driver-support/driver.h"
#include "netns/guest_net.h"
#include "util/log.h"

int lxc_net_attach(struct lv_guest *g, int i, struct lv_error **err)
{
        struct undo_sink undo = guest_undo_sink(g);
        int r = netns_guest_setup_container_one(g->def, &undo, g->pid, i, err);
        if (r < 0) {
                /* a host end made before the failure goes now, not at the
                 * guest's end */
                _cleanup_nl_ struct netns_nl *nl = NULL;
                if (netns_nl_open(&nl, NULL) == 0)
                        (void)netns_guest_host_link_remove(nl, g->def->uuid, i, g->def->n_nets,
                                                           NULL);
                return r;
        }
        free(g->def->nets[i].address.alias);
        g->def->nets[i].address.alias = xasprintf("net%d", i);
        return 0;
}

/* The veth pair goes with its host end: the guest lets go at once. */
int lxc_net_detach(struct lv_guest *g, int i, struct lv_error **err)
{
        _cleanup_nl_ struct netns_nl *nl = NULL;
        _cleanup_free_ char *mac = xstrdup(g->def->nets[i].mac);
        int r = netns_nl_open(&nl, err);
        if (r < 0 ||
            (r = netns_guest_host_link_remove(nl, g->def->uuid, i, g->def->n_nets, err)) < 0)
                return lv_error_prefix(err, "interface %s: removing its veth pair", mac);
        log_info("interface %s: veth pair removed", mac);
        if (g->net_released)
                g->net_released(g, mac);
        return 0;
}

/* ---- filesystems ---- */

/* Run fn(data) in a child of ours (it may enter the container's
 * namespaces; we stay where we are): its result (0..254), or its error,
 * which comes back over a socket as the start's child reports its own
 * (sync.c). */
static int in_child(int (*fn)(void *data, struct lv_error **err), void *data, struct lv_error **err)
{
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return lv_error_set(err, errno, "creating a socket pair");
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(sp[0]), close(sp[1]);
                return lv_error_set(err, e, "fork");
        }
        if (pid == 0) {
                close(sp[0]);
                struct lv_error *e = NULL;
                int r = fn(data, &e);
                if (r < 0)
                        lxc_sync_send_error(sp[1], e);
                _exit(r < 0 ? 255 : r);
        }
        close(sp[1]);
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        int r = WIFEXITED(st) && WEXITSTATUS(st) != 255 ? WEXITSTATUS(st) : -EIO;
        if (r < 0)
                r = lxc_sync_child_error(sp[0], lv_error_setf(err, EIO, "helper process failed"),
                                         err);
        close(sp[0]);
        return r;
}

struct fs_move {
        const char *target;
        int src;       /* the source (in the container's tree for bind) */
        int target_fd; /* the mount point, opened inside the root */
        int mntns, userns;
        bool bind, readonly;
        bool lock; /* pass through the container's user namespace first */
};

static int fs_move_child(void *data, struct lv_error **err)
{
        struct fs_move *m = data;
        /* a bind source is cloned where it is: in the container */
        if (m->bind && setns(m->mntns, CLONE_NEWNS) < 0)
                return lv_error_set(err, errno, "entering the container's mount namespace");
        int tree = open_tree(m->src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (tree < 0)
                return lv_error_set(err, errno, "cloning the source");
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        if (m->readonly && mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
                return lv_error_set(err, errno, "making the clone read-only");
        if (m->lock) {
                /* Attached in a private mount namespace of our own user
                 * namespace, then copied into one the container's user
                 * namespace owns: the kernel locks the read-only flag of
                 * the copy (MNT_LOCK_READONLY), and a clone of it keeps
                 * it. */
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
                        return lv_error_set(err, errno, "a private mount namespace");
                if (move_mount(tree, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return lv_error_set(err, errno, "attaching the read-only clone");
                if (fchdir(tree) < 0)
                        return lv_error_set(err, errno, "entering the read-only clone");
                if (setns(m->userns, CLONE_NEWUSER) < 0)
                        return lv_error_set(err, errno, "entering the container's user namespace");
                if (unshare(CLONE_NEWNS) < 0)
                        return lv_error_set(err, errno,
                                            "a mount namespace of the container's user namespace");
                if ((tree = open_tree(AT_FDCWD, ".", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) < 0)
                        return lv_error_set(err, errno, "cloning the locked mount");
        }
        if (setns(m->mntns, CLONE_NEWNS) < 0)
                return lv_error_set(err, errno, "entering the container's mount namespace");
        if (move_mount(tree, "", m->target_fd, "",
                       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return lv_error_set(err, errno, "mounting on '%s' in the container", m->target);
        return 0;
}

/* The container's root as its init sees it, and a namespace of it. */
static int open_proc(pid_t pid, const char *what, int flags, struct lv_error **err)
{
        _cleanup_free_ char *p = xasprintf("/proc/%d/%s", (int)pid, what);
        int fd = open(p, flags | O_CLOEXEC);
        if (fd < 0)
                return lv_error_set(err, errno, "opening %s", p);
        return fd;
}

/* The target directory inside the container's root (symlinks resolved
 * inside it, as the guest would). */
static int target_open(pid_t pid, const char *target, int *ret_fd, struct lv_error **err)
{
        if (!target || target[0] != '/' || streq(target, "/"))
                return lv_error_setf(err, EINVAL,
                                     "<target dir='%s'>: an absolute path other than '/' is needed",
                                     target ? target : "");
        _cleanup_close_ int root = open_proc(pid, "root", O_PATH | O_DIRECTORY, err);
        if (root < 0)
                return root;
        int fd = lxc_open_in_root(root, target + strspn(target, "/"), O_PATH | O_DIRECTORY);
        if (fd < 0)
                return lv_error_set(err, errno,
                                    "<target dir='%s'> in the container (it must be a "
                                    "directory there; symlinks resolve inside its root)",
                                    target);
        *ret_fd = fd;
        return 0;
}

int lxc_fs_attach(struct lv_guest *g, int i, bool denies_remounts, struct lv_error **err)
{
        const struct domain_fs *fs = &g->def->filesystems[i];
        bool userns = g->def->n_uidmap > 0;
        if (fs->type != DOMAIN_FS_MOUNT && fs->type != DOMAIN_FS_BIND)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "filesystem '%s': type '%s' cannot be attached to a running "
                                     "container (mount and bind only)",
                                     fs->target, domain_fs_type_to_string(fs->type));
        if (fs->readonly && !userns && !denies_remounts)
                return lv_error_setf(
                        err, LV_ERR_UNSUPPORTED,
                        "filesystem '%s': a read-only filesystem cannot be attached to this "
                        "running container: it is privileged (no <idmap>) and started without "
                        "read-only filesystems, so nothing stops its root from remounting it "
                        "writable (attach it with --config and restart, or give the container "
                        "an <idmap>)",
                        fs->target);
        _cleanup_close_ int src = -1;
        int r;
        if (fs->type == DOMAIN_FS_MOUNT) {
                _cleanup_free_ char *what = xasprintf("filesystem '%s': source", fs->target);
                if ((r = lxc_source_open(fs->source, what, &src, err)) < 0)
                        return r;
        } else {
                /* a directory of the container's own tree */
                if (!fs->source || fs->source[0] != '/')
                        return lv_error_setf(err, EINVAL,
                                             "filesystem '%s': bind source '%s': not an absolute "
                                             "path",
                                             fs->target, fs->source ? fs->source : "");
                _cleanup_close_ int root = open_proc(g->pid, "root", O_PATH | O_DIRECTORY, err);
                if (root < 0)
                        return root;
                src = lxc_open_in_root(root, fs->source + strspn(fs->source, "/"), O_PATH);
                if (src < 0)
                        return lv_error_set(err, errno,
                                            "filesystem '%s': bind source '%s' (in the container)",
                                            fs->target, fs->source);
        }
        struct fs_move m = {.target = fs->target,
                            .src = src,
                            .target_fd = -1,
                            .mntns = -1,
                            .userns = -1,
                            .bind = fs->type == DOMAIN_FS_BIND,
                            .readonly = fs->readonly,
                            .lock = fs->readonly && userns};
        if ((r = target_open(g->pid, fs->target, &m.target_fd, err)) < 0)
                return r;
        if ((m.mntns = open_proc(g->pid, "ns/mnt", O_RDONLY, err)) < 0)
                r = m.mntns;
        if (r == 0 && m.lock && (m.userns = open_proc(g->pid, "ns/user", O_RDONLY, err)) < 0)
                r = m.userns;
        if (r == 0 && (r = in_child(fs_move_child, &m, err)) < 0)
                lv_error_prefix(err, "filesystem '%s'", fs->target);
        close(m.target_fd);
        if (m.mntns >= 0)
                close(m.mntns);
        if (m.userns >= 0)
                close(m.userns);
        if (r == 0)
                log_info("filesystem %s mounted on '%s' in the container%s%s", fs->source,
                         fs->target, fs->readonly ? ", read-only" : "",
                         m.lock ? " (locked by the kernel)" : "");
        return r;
}

struct fs_umount {
        const char *target;
        int root, mntns;
        bool lazy; /* out: busy, detached lazily */
};

static int fs_umount_child(void *data, struct lv_error **err)
{
        struct fs_umount *u = data;
        if (setns(u->mntns, CLONE_NEWNS) < 0)
                return lv_error_set(err, errno, "entering the container's mount namespace");
        /* the path as the guest sees it: within its root, its symlinks
         * resolved there as at the attach */
        if (fchdir(u->root) < 0 || chroot(".") < 0)
                return lv_error_set(err, errno, "entering the container's root");
        _cleanup_free_ char *path = realpath(u->target, NULL);
        if (!path)
                return lv_error_set(err, errno, "'%s' in the container", u->target);
        if (umount2(path, UMOUNT_NOFOLLOW) == 0)
                return 0;
        if (errno != EBUSY)
                return lv_error_set(err, errno, "unmounting '%s' in the container", path);
        if (umount2(path, UMOUNT_NOFOLLOW | MNT_DETACH) < 0)
                return lv_error_set(err, errno, "unmounting '%s' (lazily) in the container", path);
        return 1;
}

/* 1: the mount was busy and detached lazily (it goes when the last
 * user lets go). */
int lxc_fs_detach(struct lv_guest *g, int i, struct lv_error **err)
{
        const struct domain_fs *fs = &g->def->filesystems[i];
        struct fs_umount u = {.target = fs->target};
        _cleanup_close_ int root = open_proc(g->pid, "root", O_PATH | O_DIRECTORY, err);
        if (root < 0)
                return lv_error_prefix(err, "filesystem '%s'", fs->target);
        _cleanup_close_ int mntns = open_proc(g->pid, "ns/mnt", O_RDONLY, err);
        if (mntns < 0)
                return lv_error_prefix(err, "filesystem '%s'", fs->target);
        u.root = root, u.mntns = mntns;
        int r = in_child(fs_umount_child, &u, err);
        if (r < 0)
                return lv_error_prefix(err, "filesystem '%s'", fs->target);
        log_info("filesystem '%s' unmounted in the container%s", fs->target,
                 r > 0 ? " (busy: detached lazily)" : "");
        return r;
}
