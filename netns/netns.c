/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network namespaces: named ones kept as `ip netns` keeps them (a bind
 * mount on /run/netns/NAME), namespace fds, and running a call inside a
 * namespace. */
#include "netns/netns.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "util/fileio.h"

#define NETNS_RUN_DIR "/run/netns"

static int netns_path(const char *name, char *buf, size_t size, struct lv_error **err)
{
        if (!name || !*name || strchr(name, '/') || streq(name, ".") || streq(name, "..") ||
            strlen(name) > 200)
                return lv_error_setf(err, EINVAL, "invalid network namespace name '%s'",
                                     name ? name : "");
        snprintf(buf, size, "%s/%s", NETNS_RUN_DIR, name);
        return 0;
}

/* /run/netns is made a shared bind mount of itself, as iproute2 does, so
 * namespaces mounted later also appear in mount namespaces made since. */
static int netns_run_dir_prepare(struct lv_error **err)
{
        int r = mkdir_p(NETNS_RUN_DIR, 0755, err);
        if (r < 0)
                return r;
        if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
                return 0;
        if (errno != EINVAL)
                return lv_error_set(err, errno, "making '%s' a shared mount", NETNS_RUN_DIR);
        /* not a mount point yet */
        if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
                return lv_error_set(err, errno, "bind-mounting '%s'", NETNS_RUN_DIR);
        if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
                return lv_error_set(err, errno, "making '%s' a shared mount", NETNS_RUN_DIR);
        return 0;
}

int netns_create(const char *name, struct lv_error **err)
{
        char path[256];
        int r = netns_path(name, path, sizeof(path), err);
        if (r < 0)
                return r;
        r = netns_run_dir_prepare(err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
        if (fd < 0) {
                if (errno == EEXIST)
                        return lv_error_setf(err, EEXIST, "network namespace '%s' already exists",
                                             name);
                return lv_error_set(err, errno, "creating '%s'", path);
        }

        /* A child unshares and mounts its new namespace on the file: the
         * caller's own namespace is never touched. */
        pid_t pid = fork();
        if (pid < 0) {
                r = lv_error_set(err, errno, "creating network namespace '%s': fork", name);
                unlink(path);
                return r;
        }
        if (pid == 0) {
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(errno);
                if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0)
                        _exit(errno);
                _exit(0);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        break;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
        if (code != 0) {
                unlink(path);
                return lv_error_set(err, code, "creating network namespace '%s'", name);
        }
        return 0;
}

int netns_delete(const char *name, struct lv_error **err)
{
        char path[256];
        int r = netns_path(name, path, sizeof(path), err);
        if (r < 0)
                return r;
        if (access(path, F_OK) < 0)
                return lv_error_setf(err, ENOENT, "network namespace '%s' does not exist", name);
        if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
                return lv_error_set(err, errno, "unmounting network namespace '%s'", name);
        if (unlink(path) < 0)
                return lv_error_set(err, errno, "removing '%s'", path);
        return 0;
}

bool netns_exists(const char *name)
{
        char path[256];
        if (netns_path(name, path, sizeof(path), NULL) < 0)
                return false;
        return access(path, F_OK) == 0;
}

int netns_open_named(const char *name, struct lv_error **err)
{
        char path[256];
        int r = netns_path(name, path, sizeof(path), err);
        if (r < 0)
                return r;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return lv_error_setf(err, ENOENT, "network namespace '%s' does not exist",
                                             name);
                return lv_error_set(err, errno, "opening network namespace '%s'", name);
        }
        return fd;
}

int netns_open_pid(pid_t pid, struct lv_error **err)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return lv_error_set(err, errno, "opening the network namespace of pid %d",
                                    (int)pid);
        return fd;
}

int netns_open_self(struct lv_error **err)
{
        int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return lv_error_set(err, errno, "opening own network namespace");
        return fd;
}

bool netns_same(int fd_a, int fd_b)
{
        struct stat a, b;
        if (fstat(fd_a, &a) < 0 || fstat(fd_b, &b) < 0)
                return false;
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int netns_run_in(int nsfd, int (*fn)(void *data, struct lv_error **err), void *data,
                 struct lv_error **err)
{
        _cleanup_close_ int self = netns_open_self(err);
        if (self < 0)
                return self;
        if (netns_same(self, nsfd))
                return fn(data, err);
        if (setns(nsfd, CLONE_NEWNET) < 0)
                return lv_error_set(err, errno, "entering network namespace");
        int r = fn(data, err);
        if (setns(self, CLONE_NEWNET) < 0) {
                fprintf(stderr, "litevirt: cannot return to own network namespace: %m\n");
                abort();
        }
        return r;
}
