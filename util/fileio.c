/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fileio.h"

#include "clock.h"

#include <dirent.h>
#include <libgen.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

int file_read_bounded(const char *path, size_t max, char **ret_data, size_t *ret_len,
                      struct lv_error **err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return lv_error_set(err, errno, "cannot open '%s'", path);

        struct stat st;
        if (fstat(fd, &st) < 0)
                return lv_error_set(err, errno, "cannot stat '%s'", path);
        if (S_ISDIR(st.st_mode))
                return lv_error_set(err, EISDIR, "cannot read '%s'", path);
        if (S_ISREG(st.st_mode) && (size_t)st.st_size > max)
                return lv_error_setf(err, EFBIG,
                                     "'%s' is too large (%lld bytes, at most "
                                     "%zu)",
                                     path, (long long)st.st_size, max);

        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = xmalloc(cap);
        for (;;) {
                if (len + 1 >= cap) {
                        if (cap > max + 1)
                                return lv_error_setf(err, EFBIG,
                                                     "'%s' is too large (at most %zu bytes)", path,
                                                     max);
                        cap *= 2;
                        buf = xrealloc(buf, cap);
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return lv_error_set(err, errno, "cannot read '%s'", path);
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return lv_error_setf(err, EFBIG, "'%s' is too large (at most %zu bytes)",
                                             path, max);
        }
        buf[len] = '\0';
        *ret_data = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int fd_write_all(int fd, const void *data, size_t len, uint64_t deadline_us)
{
        const char *p = data;
        bool sock = true;
        while (len > 0) {
                ssize_t n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
                if (n < 0 && sock && errno == ENOTSOCK) {
                        sock = false;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        int timeout = -1;
                        if (deadline_us) {
                                uint64_t now = clock_now_us();
                                if (now >= deadline_us)
                                        return -ETIMEDOUT;
                                timeout = (int)((deadline_us - now) / 1000) + 1;
                        }
                        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                        (void)poll(&pfd, 1, timeout);
                        continue;
                }
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

static int write_replace(const char *path, const char *data, size_t len, mode_t mode, bool durable,
                         struct lv_error **err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp.XXXXXX", path);
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return lv_error_set(err, errno, "cannot create temporary file for '%s'", path);
        int r = fchmod(fd, mode) < 0 ? -errno : 0;
        if (r == 0)
                r = fd_write_all(fd, data, len, 0);
        if (r == 0 && durable && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return lv_error_set(err, -r, "cannot write '%s'", path);
        }
        if (!durable)
                return 0;
        /* Make the rename itself durable. */
        _cleanup_free_ char *dir = xstrdup(path);
        _cleanup_close_ int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void)fsync(dfd);
        return 0;
}

int file_write_atomic(const char *path, const char *data, size_t len, mode_t mode,
                      struct lv_error **err)
{
        return write_replace(path, data, len, mode, true, err);
}

int file_write_replace(const char *path, const char *data, size_t len, mode_t mode,
                       struct lv_error **err)
{
        return write_replace(path, data, len, mode, false, err);
}

int mkdir_p(const char *path, mode_t mode, struct lv_error **err)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return lv_error_set(err, errno, "cannot create directory '%s'", p);
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return lv_error_set(err, errno, "cannot create directory '%s'", p);
        return 0;
}

static int rm_rf_at(int dfd, const char *name, dev_t dev, const char *top, struct lv_error **err)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return lv_error_set(err, errno, "cannot stat '%s' in '%s'", name, top);
        }
        if (!S_ISDIR(st.st_mode) || st.st_dev != dev) {
                if (S_ISDIR(st.st_mode))
                        return lv_error_setf(err, EXDEV,
                                             "'%s' in '%s' is a mount point, not removed", name,
                                             top);
                if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                        return lv_error_set(err, errno, "cannot remove '%s' in '%s'", name, top);
                return 0;
        }
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return lv_error_set(err, errno, "cannot open '%s' in '%s'", name, top);
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return lv_error_set(err, errno, "cannot list '%s'", top);
        }
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = rm_rf_at(dirfd(d), de->d_name, dev, top, err);
        }
        closedir(d);
        if (r < 0)
                return r;
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return lv_error_set(err, errno, "cannot remove '%s' in '%s'", name, top);
        return 0;
}

int rm_rf(const char *path, struct lv_error **err)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : lv_error_set(err, errno, "cannot stat '%s'", path);
        return rm_rf_at(AT_FDCWD, path, st.st_dev, path, err);
}

int file_write_string(const char *path, const char *s, struct lv_error **err)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return lv_error_set(err, errno, "cannot open '%s'", path);
        int r = fd_write_all(fd, s, strlen(s), 0);
        if (r < 0)
                return lv_error_set(err, -r, "cannot write '%s' to '%s'", s, path);
        return 0;
}
