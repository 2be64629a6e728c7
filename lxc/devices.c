/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's minimal /dev (runs in the child, before pivot_root): a
 * tmpfs with the host's harmless character devices bind-mounted in (this
 * works inside a user namespace, where mknod does not), a new devpts
 * instance for the container's own ptys, the console pty, the usual
 * symlinks and /dev/shm. */
#include "lxc/lxc.h"

#include <sys/mount.h>
#include <sys/stat.h>

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

/* Exactly what the /dev above holds: null 1:3, zero 1:5, full 1:7,
 * random 1:8, urandom 1:9, tty 5:0, console 5:1 (and the pty behind it),
 * ptmx 5:2, and the ptys (136-143). */
const char *const lxc_devices_cgroup_allow[] = {
        "c 1:3 rwm",   "c 1:5 rwm",   "c 1:7 rwm",   "c 1:8 rwm",   "c 1:9 rwm",   "c 5:0 rwm",
        "c 5:1 rwm",   "c 5:2 rwm",   "c 136:* rwm", "c 137:* rwm", "c 138:* rwm", "c 139:* rwm",
        "c 140:* rwm", "c 141:* rwm", "c 142:* rwm", "c 143:* rwm", NULL,
};

static int bind_node(const char *src, const char *dst, struct lv_error **err)
{
        _cleanup_close_ int fd =
                open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0)
                return lv_error_set(err, errno, "creating '%s'", dst);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                return lv_error_set(err, errno, "bind-mounting '%s' on '%s'", src, dst);
        return 0;
}

static int make_symlink(const char *target, const char *dev, const char *name,
                        struct lv_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dev, name);
        if (symlink(target, path) < 0)
                return lv_error_set(err, errno, "creating symlink '%s'", path);
        return 0;
}

int lxc_devices_populate(const struct lxc_child *c, const char *dev, struct lv_error **err)
{
        int r;
        if (mkdir(dev, 0755) < 0 && errno != EEXIST)
                return lv_error_set(err, errno, "creating '%s'", dev);
        if (mount("devfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=1m,nr_inodes=256") <
            0)
                return lv_error_set(err, errno, "mounting tmpfs on '%s'", dev);

        for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
                _cleanup_free_ char *src = xasprintf("/dev/%s", dev_nodes[i]);
                _cleanup_free_ char *dst = xasprintf("%s/%s", dev, dev_nodes[i]);
                if ((r = bind_node(src, dst, err)) < 0)
                        return r;
        }

        /* The container's own ptys: a new devpts instance. gid=5 (tty) only
         * when that group exists in the container's id space. */
        _cleanup_free_ char *pts = xasprintf("%s/pts", dev);
        if (mkdir(pts, 0755) < 0)
                return lv_error_set(err, errno, "creating '%s'", pts);
        bool tty_gid = !c->userns || lxc_idmap_has(c->def->gidmap, c->def->n_gidmap, 5);
        const char *opts = tty_gid ? "newinstance,ptmxmode=0666,mode=0620,gid=5"
                                   : "newinstance,ptmxmode=0666,mode=0620";
        if (mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC, opts) < 0)
                return lv_error_set(err, errno, "mounting a new devpts instance on '%s'", pts);
        if ((r = make_symlink("pts/ptmx", dev, "ptmx", err)) < 0)
                return r;

        /* The console: the slave of the supervisor's pty. */
        _cleanup_free_ char *console = xasprintf("%s/console", dev);
        if ((r = bind_node(c->console_path, console, err)) < 0)
                return r;

        static const char *const links[][2] = {
                {"/proc/self/fd", "fd"},
                {"/proc/self/fd/0", "stdin"},
                {"/proc/self/fd/1", "stdout"},
                {"/proc/self/fd/2", "stderr"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(links); i++)
                if ((r = make_symlink(links[i][0], dev, links[i][1], err)) < 0)
                        return r;

        _cleanup_free_ char *shm = xasprintf("%s/shm", dev);
        if (mkdir(shm, 01777) < 0)
                return lv_error_set(err, errno, "creating '%s'", shm);
        if (mount("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
                return lv_error_set(err, errno, "mounting tmpfs on '%s'", shm);
        return 0;
}
