/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's filesystem tree (runs in the child, in its new mount
 * namespace): propagation made private, the root filesystem bound onto
 * itself, the other <filesystem>s, /proc (partly read-only), /sys
 * (read-only), /dev, then pivot_root with the old root detached. /proc
 * and /sys are mounted before pivot_root: inside a user namespace the
 * kernel only allows a new proc/sysfs while a full one is still visible. */
#include "lxc/lxc.h"

#include <limits.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "cgroup/cgroup.h"
#include "util/fileio.h"

/* A remount must keep the flags the kernel locked on the mount (nosuid,
 * nodev, noexec, atime) or it fails inside a user namespace. */
static unsigned long locked_flags(const char *path)
{
        struct statvfs sv;
        if (statvfs(path, &sv) < 0)
                return 0;
        unsigned long f = 0;
        if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME)
                f |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
                f |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
                f |= MS_RELATIME;
        return f;
}

static int remount_ro(const char *path, const char *shown, struct lv_error **err)
{
        if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(path), NULL) <
            0)
                return lv_error_set(err, errno, "making '%s' read-only", shown);
        return 0;
}

static int bind_ro(const char *path, const char *shown, struct lv_error **err)
{
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
                return lv_error_set(err, errno, "bind-mounting '%s'", shown);
        return remount_ro(path, shown, err);
}

int lxc_open_in_root(int rootfd, const char *rel, uint64_t flags)
{
        struct open_how how = {
                .flags = flags | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        return (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof how);
}

int lxc_source_open(const char *source, const char *what, int *ret_fd, struct lv_error **err)
{
        if (!source || source[0] != '/')
                return lv_error_setf(err, EINVAL, "%s '%s': not an absolute path", what,
                                     source ? source : "");
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int)syscall(SYS_openat2, AT_FDCWD, source, &how, sizeof how);
        if (fd < 0 && errno == ELOOP)
                return lv_error_setf(
                        err, ELOOP,
                        "%s '%s' has a symbolic link in its path (refused: a guest may "
                        "have planted it; give the path without symlinks)",
                        what, source);
        if (fd < 0)
                return lv_error_set(err, errno, "%s '%s'", what, source);
        *ret_fd = fd;
        return 0;
}

/* Create the mount point `target` inside the root filesystem and return
 * it as /proc/self/fd/N of an O_PATH descriptor (*ret_fd). Every lookup
 * is made with RESOLVE_IN_ROOT, so a symlink in the container's tree is
 * resolved as the container would (inside its root) and can never lead
 * the supervisor to create or mount anything on the host. */
static int mount_point(const char *root, const char *target, bool dir, int *ret_fd, char **ret,
                       struct lv_error **err)
{
        if (!target || target[0] != '/' || strlen(target) >= PATH_MAX)
                return lv_error_setf(err, EINVAL, "filesystem target '%s': not an absolute path",
                                     target ? target : "");
        _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return lv_error_set(err, errno, "opening the root filesystem '%s'", root);

        _cleanup_free_ char *rel = xstrdup(target + strspn(target, "/"));
        size_t len = strlen(rel);
        while (len > 0 && rel[len - 1] == '/')
                rel[--len] = '\0';
        if (len == 0)
                return lv_error_setf(err, EINVAL, "filesystem target '%s': the root itself",
                                     target);

        /* Create each component below its (resolved-in-root) parent. */
        for (char *slash = rel;; slash++) {
                slash = strchr(slash, '/');
                bool last = !slash;
                if (slash)
                        *slash = '\0';
                char *name = strrchr(rel, '/');
                _cleanup_close_ int parent = -1;
                if (name) {
                        *name = '\0';
                        parent = lxc_open_in_root(rootfd, rel, O_PATH | O_DIRECTORY);
                        if (parent < 0)
                                return lv_error_set(err, errno, "mount point '%s': resolving '/%s'",
                                                    target, rel);
                        *name++ = '/';
                } else {
                        name = rel;
                        parent = lxc_open_in_root(rootfd, "", O_PATH | O_DIRECTORY);
                        if (parent < 0)
                                return lv_error_set(err, errno, "mount point '%s'", target);
                }
                if (!last || dir) {
                        if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
                                return lv_error_set(err, errno, "mount point '%s': creating '/%s'",
                                                    target, rel);
                } else {
                        /* A file to bind a file on; O_NOFOLLOW: an existing
                         * symlink is resolved below, inside the root. */
                        int fd = openat(parent, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                                        0644);
                        if (fd < 0 && errno != EISDIR && errno != ELOOP)
                                return lv_error_set(err, errno, "mount point '%s': creating '/%s'",
                                                    target, rel);
                        if (fd >= 0)
                                close(fd);
                }
                if (last)
                        break;
                *slash = '/';
        }
        int fd = lxc_open_in_root(rootfd, rel, O_PATH | (dir ? O_DIRECTORY : 0));
        if (fd < 0)
                return lv_error_set(err, errno, "mount point '%s'", target);
        *ret_fd = fd;
        *ret = xasprintf("/proc/self/fd/%d", fd);
        return 0;
}

/* Bind the source (an O_PATH descriptor) on the filesystem's mount point,
 * read-only with <readonly/>: a remount the kernel locks in a container
 * with a user namespace (the guest cannot make it writable again). */
static int bind_source(const struct lxc_child *c, const struct domain_fs *fs, int src,
                       struct lv_error **err)
{
        _cleanup_free_ char *dst = NULL;
        _cleanup_close_ int dst_fd = -1;
        struct stat st;
        if (fstat(src, &st) < 0)
                return lv_error_set(err, errno, "filesystem '%s': source '%s'", fs->target,
                                    fs->source);
        int r = mount_point(c->rootfs, fs->target, S_ISDIR(st.st_mode), &dst_fd, &dst, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *src_path = xasprintf("/proc/self/fd/%d", src);
        if (mount(src_path, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
                return lv_error_set(err, errno, "bind-mounting '%s' on '%s'", fs->source,
                                    fs->target);
        if (!fs->readonly)
                return 0;
        /* The descriptor names the covered directory: reopen to reach the
         * new mount. */
        _cleanup_close_ int rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int top =
                rootfd < 0 ? -1 : lxc_open_in_root(rootfd, fs->target + 1, O_PATH);
        if (top < 0)
                return lv_error_set(err, errno, "reopening mount point '%s'", fs->target);
        _cleanup_free_ char *top_path = xasprintf("/proc/self/fd/%d", top);
        return remount_ro(top_path, fs->target, err);
}

static int mount_filesystem(const struct lxc_child *c, const struct domain_fs *fs,
                            struct lv_error **err)
{
        _cleanup_free_ char *dst = NULL;
        _cleanup_close_ int dst_fd = -1;
        int r;
        switch (fs->type) {
        case DOMAIN_FS_MOUNT: {
                /* Mounted from a descriptor opened without following any
                 * symlink: a guest that replaced a directory on the source
                 * path by a link (to "/", say) is refused, not obeyed. */
                _cleanup_close_ int src = -1;
                _cleanup_free_ char *what = xasprintf("filesystem '%s': source", fs->target);
                if ((r = lxc_source_open(fs->source, what, &src, err)) < 0)
                        return r;
                return bind_source(c, fs, src, err);
        }
        case DOMAIN_FS_BIND: {
                /* A directory of the container's own tree (with the
                 * filesystems before this one mounted), looked up as the
                 * container would: a symlink in it stays inside the root,
                 * as libvirt mounts it after pivot_root. */
                _cleanup_close_ int rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (rootfd < 0)
                        return lv_error_set(err, errno, "opening the root filesystem '%s'",
                                            c->rootfs);
                _cleanup_close_ int src =
                        lxc_open_in_root(rootfd, fs->source + strspn(fs->source, "/"), O_PATH);
                if (src < 0)
                        return lv_error_set(err, errno,
                                            "filesystem '%s': bind source '%s' (in the container)",
                                            fs->target, fs->source);
                return bind_source(c, fs, src, err);
        }
        case DOMAIN_FS_RAM: {
                if ((r = mount_point(c->rootfs, fs->target, true, &dst_fd, &dst, err)) < 0)
                        return r;
                _cleanup_free_ char *opts =
                        fs->usage_kib ? xasprintf("mode=0755,size=%lluk", fs->usage_kib)
                                      : xstrdup("mode=0755");
                unsigned long flags = MS_NOSUID | MS_NODEV | (fs->readonly ? MS_RDONLY : 0);
                if (mount("tmpfs", dst, "tmpfs", flags, opts) < 0)
                        return lv_error_set(err, errno, "mounting tmpfs on '%s'", fs->target);
                return 0;
        }
        default:
                return lv_error_setf(err, ENOTSUP,
                                     "filesystem '%s': type '%s' is not supported for containers",
                                     fs->target, domain_fs_type_to_string(fs->type));
        }
}

/* /proc with the parts that reach the host read-only or hidden, as
 * libvirt's LXC and other runtimes do; /proc/sys/net stays writable (it
 * belongs to the container's network namespace). */
static int mount_proc(const char *root, struct lv_error **err)
{
        _cleanup_free_ char *proc = xasprintf("%s/proc", root);
        if (mkdir(proc, 0555) < 0 && errno != EEXIST)
                return lv_error_set(err, errno, "creating '/proc'");
        if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return lv_error_set(err, errno, "mounting '/proc'");

        _cleanup_free_ char *net = xasprintf("%s/sys/net", proc);
        if (mount(net, net, NULL, MS_BIND, NULL) < 0)
                return lv_error_set(err, errno, "bind-mounting '/proc/sys/net'");
        static const char *const ro[] = {"sys", "sysrq-trigger", "irq", "bus", "fs"};
        for (size_t i = 0; i < ARRAY_SIZE(ro); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", proc, ro[i]);
                _cleanup_free_ char *shown = xasprintf("/proc/%s", ro[i]);
                if (access(p, F_OK) < 0)
                        continue;
                int r = bind_ro(p, shown, err);
                if (r < 0)
                        return r;
        }
        static const char *const masked[] = {"kcore", "keys", "timer_list", "sched_debug"};
        _cleanup_free_ char *null = xasprintf("%s/dev/null", root);
        for (size_t i = 0; i < ARRAY_SIZE(masked); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", proc, masked[i]);
                if (access(p, F_OK) < 0)
                        continue;
                if (mount(null, p, NULL, MS_BIND, NULL) < 0)
                        return lv_error_set(err, errno, "masking '/proc/%s'", masked[i]);
        }
        return 0;
}

static int mount_sys(const char *root, struct lv_error **err)
{
        _cleanup_free_ char *sys = xasprintf("%s/sys", root);
        if (mkdir(sys, 0555) < 0 && errno != EEXIST)
                return lv_error_set(err, errno, "creating '/sys'");
        if (mount("sysfs", sys, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) < 0)
                return lv_error_set(err, errno, "mounting '/sys'");
        return 0;
}

/* /sys/fs/cgroup, showing the guest's own cgroups (the child is in its
 * cgroup namespace already): cgroup2 on a unified host; on a legacy or
 * hybrid host a read-only tmpfs with each v1 hierarchy (and the cgroup2
 * tree at unified/), as systemd and libvirt lay it out. */
static int mount_cgroups(const char *root, enum cgroup_mode mode, struct lv_error **err)
{
        const unsigned long ro = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
        int r;
        _cleanup_free_ char *base = xasprintf("%s/sys/fs/cgroup", root);
        if (access(base, F_OK) < 0)
                return 0; /* a kernel without cgroups in sysfs */
        if (mode == CGROUP_MODE_UNIFIED) {
                /* writable: the guest's own subtree (see below) */
                if (mount("cgroup2", base, "cgroup2", ro & ~MS_RDONLY, NULL) < 0)
                        return lv_error_set(err, errno, "mounting '/sys/fs/cgroup'");
                return 0;
        }
        if (mount("cgroup", base, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k") <
            0)
                return lv_error_set(err, errno, "mounting tmpfs on '/sys/fs/cgroup'");
        _cleanup_free_ char *self = NULL;
        if ((r = file_read_bounded("/proc/self/cgroup", 64 * 1024, &self, NULL, err)) < 0)
                return r;
        char *save = NULL;
        for (char *line = strtok_r(self, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c1 || !c2)
                        continue;
                *c2 = '\0';
                const char *ctrls = c1 + 1;
                const char *dir_name, *type = "cgroup";
                _cleanup_free_ char *opts = NULL;
                if (*ctrls == '\0') {
                        if (mode != CGROUP_MODE_HYBRID)
                                continue;
                        dir_name = "unified";
                        type = "cgroup2";
                } else if (startswith(ctrls, "name=")) {
                        dir_name = ctrls + 5;
                        opts = xasprintf("none,%s", ctrls);
                } else {
                        dir_name = ctrls;
                        opts = xstrdup(ctrls);
                }
                _cleanup_free_ char *dir = xasprintf("%s/%s", base, dir_name);
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return lv_error_set(err, errno, "creating '/sys/fs/cgroup/%s'", dir_name);
                /* The guest's own subtree (its payload cgroup, see
                 * cgroup_guest_delegate) writable where an init system
                 * inside makes its cgroups: cgroup2 and name=systemd, as
                 * nspawn does; the v1 controllers read-only. */
                bool writable = *ctrls == '\0' || startswith(ctrls, "name=");
                if (mount("cgroup", dir, type, writable ? ro & ~MS_RDONLY : ro, opts) < 0)
                        return lv_error_set(err, errno, "mounting '/sys/fs/cgroup/%s'", dir_name);
                /* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct". */
                if (strchr(ctrls, ',') && !startswith(ctrls, "name=")) {
                        _cleanup_free_ char *list = xstrdup(ctrls);
                        for (char *s2 = NULL, *t = strtok_r(list, ",", &s2); t;
                             t = strtok_r(NULL, ",", &s2)) {
                                _cleanup_free_ char *link = xasprintf("%s/%s", base, t);
                                (void)symlink(ctrls, link);
                        }
                }
        }
        return remount_ro(base, "/sys/fs/cgroup", err);
}

int lxc_mounts_setup(const struct lxc_child *c, enum cgroup_mode *ret_cg_mode,
                     struct lv_error **err)
{
        const char *root = c->rootfs;
        /* The host's cgroup layout, seen while its /sys is still here. */
        int r = cgroup_detect_mode(ret_cg_mode, err);
        if (r < 0)
                return r;
        /* Nothing done here may propagate back to the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return lv_error_set(err, errno, "making mounts private");
        if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
                return lv_error_set(err, errno, "bind-mounting the root filesystem '%s'", root);

        const struct domain_def *def = c->def;
        for (int i = 0; i < def->n_filesystems; i++) {
                const struct domain_fs *fs = &def->filesystems[i];
                if (streq(fs->target, "/"))
                        continue;
                if ((r = mount_filesystem(c, fs, err)) < 0)
                        return r;
        }

        _cleanup_free_ char *dev = xasprintf("%s/dev", root);
        if ((r = lxc_devices_populate(c, dev, err)) < 0)
                return lv_error_prefix(err, "setting up /dev");
        if ((r = mount_proc(root, err)) < 0 || (r = mount_sys(root, err)) < 0)
                return r;

        /* pivot_root(".", ".") stacks the old root under the new one; the
         * detach then removes it without a directory to hide it in. */
        if (chdir(root) < 0)
                return lv_error_set(err, errno, "entering the root filesystem '%s'", root);
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return lv_error_set(err, errno, "pivot_root to '%s'", root);
        if (mount(NULL, ".", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return lv_error_set(err, errno, "making the old root a slave");
        if (umount2(".", MNT_DETACH) < 0)
                return lv_error_set(err, errno, "detaching the old root");
        if (chdir("/") < 0)
                return lv_error_set(err, errno, "entering '/'");
        return 0;
}

/* After the cgroup attach and unshare(CLONE_NEWCGROUP): the cgroup
 * mounts show the guest's cgroup as their root. */
int lxc_mounts_finish(const struct lxc_child *c, enum cgroup_mode cg_mode, struct lv_error **err)
{
        int r;
        if ((r = mount_cgroups("", cg_mode, err)) < 0)
                return r;
        if (c->root_readonly && (r = remount_ro("/", "/", err)) < 0)
                return r;
        return 0;
}
