/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's filesystem tree (runs in the child, in its new mount
 * namespace): propagation made private, the root filesystem bound onto
 * itself, the other <filesystem>s, /proc (partly read-only), /sys
 * (read-only), /dev, then pivot_root with the old root detached. /proc
 * and /sys are mounted before pivot_root: inside a user namespace the
 * kernel only allows a new proc/sysfs while a full one is still visible. */
#include "lxc/lxc.h"

#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

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
        if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(path), NULL) < 0)
                return lv_error_set(err, errno, "making '%s' read-only", shown);
        return 0;
}

static int bind_ro(const char *path, const char *shown, struct lv_error **err)
{
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
                return lv_error_set(err, errno, "bind-mounting '%s'", shown);
        return remount_ro(path, shown, err);
}

/* Create the mount point root+target and make sure it resolves inside
 * root (a symlink in the container's tree must not lead the supervisor to
 * mount over a host directory). */
static int mount_point(const char *root, const char *target, bool dir, char **ret,
                       struct lv_error **err)
{
        if (!target || target[0] != '/' || strstr(target, "/../") || strstr(target, "/./") ||
            (strlen(target) >= 3 && streq(target + strlen(target) - 3, "/..")))
                return lv_error_setf(err, EINVAL, "filesystem target '%s': not a clean absolute path",
                                     target ? target : "");
        _cleanup_free_ char *path = xasprintf("%s%s", root, target);
        int r = 0;
        if (dir) {
                r = mkdir_p(path, 0755, err);
        } else {
                _cleanup_free_ char *parent = xstrdup(path);
                *strrchr(parent, '/') = '\0';
                r = mkdir_p(parent, 0755, err);
                if (r == 0) {
                        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
                        if (fd < 0 && errno != EISDIR)
                                r = lv_error_set(err, errno, "creating mount point '%s'", target);
                        if (fd >= 0)
                                close(fd);
                }
        }
        if (r < 0)
                return r;
        char real[PATH_MAX];
        if (!realpath(path, real))
                return lv_error_set(err, errno, "resolving mount point '%s'", target);
        size_t rl = strlen(root);
        if (strncmp(real, root, rl) != 0 || (real[rl] != '/' && real[rl] != '\0'))
                return lv_error_setf(err, EXDEV, "mount point '%s' resolves outside the root filesystem",
                                     target);
        *ret = xstrdup(real);
        return 0;
}

static int mount_filesystem(const struct lxc_child *c, const struct domain_fs *fs,
                            struct lv_error **err)
{
        _cleanup_free_ char *dst = NULL;
        int r;
        switch (fs->type) {
        case DOMAIN_FS_MOUNT: {
                struct stat st;
                if (!fs->source || stat(fs->source, &st) < 0)
                        return lv_error_set(err, fs->source ? errno : EINVAL,
                                            "filesystem '%s': source '%s'", fs->target,
                                            fs->source ? fs->source : "");
                if ((r = mount_point(c->rootfs, fs->target, S_ISDIR(st.st_mode), &dst, err)) < 0)
                        return r;
                if (mount(fs->source, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
                        return lv_error_set(err, errno, "bind-mounting '%s' on '%s'", fs->source,
                                            fs->target);
                if (fs->readonly)
                        return remount_ro(dst, fs->target, err);
                return 0;
        }
        case DOMAIN_FS_RAM: {
                if ((r = mount_point(c->rootfs, fs->target, true, &dst, err)) < 0)
                        return r;
                _cleanup_free_ char *opts = fs->usage_kib ? xasprintf("mode=0755,size=%lluk", fs->usage_kib)
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
        static const char *const ro[] = { "sys", "sysrq-trigger", "irq", "bus", "fs" };
        for (size_t i = 0; i < ARRAY_SIZE(ro); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", proc, ro[i]);
                _cleanup_free_ char *shown = xasprintf("/proc/%s", ro[i]);
                if (access(p, F_OK) < 0)
                        continue;
                int r = bind_ro(p, shown, err);
                if (r < 0)
                        return r;
        }
        static const char *const masked[] = { "kcore", "keys", "timer_list", "sched_debug" };
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

int lxc_mounts_setup(const struct lxc_child *c, struct lv_error **err)
{
        const char *root = c->rootfs;
        int r;
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
        if (c->root_readonly && (r = remount_ro("/", "/", err)) < 0)
                return r;
        return 0;
}
