/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Disk images outside a running QEMU (image.h). */
#include "qemu/image.h"

#include <endian.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/macros.h"

/* Run qemu-img with argv (argv[0] "qemu-img"); its own words on failure,
 * after "WHAT: ". */
static int qemu_img_run(const char *const *argv, const char *what, struct lv_error **err)
{
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return lv_error_set(err, errno, "pipe");
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(pfd[0]);
                close(pfd[1]);
                return lv_error_set(err, e, "fork");
        }
        if (pid == 0) {
                dup2(pfd[1], STDERR_FILENO);
                dup2(pfd[1], STDOUT_FILENO);
                execvp("qemu-img", (char *const *)argv);
                dprintf(pfd[1], "cannot run qemu-img: %s", strerror(errno));
                _exit(127);
        }
        close(pfd[1]);
        char msg[512];
        size_t len = 0;
        ssize_t k;
        while (len < sizeof(msg) - 1 && ((k = read(pfd[0], msg + len, sizeof(msg) - 1 - len)) > 0 ||
                                         (k < 0 && errno == EINTR)))
                if (k > 0)
                        len += (size_t)k;
        close(pfd[0]);
        msg[len] = 0;
        while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
                msg[--len] = 0;
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return lv_error_set(err, errno, "waiting for qemu-img");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return lv_error_setf(err, EIO, "%s: %s", what, *msg ? msg : "qemu-img failed");
        return 0;
}

int qemu_image_overlay_create(const char *overlay, const char *backing, const char *fmt,
                              unsigned long long size, struct lv_error **err)
{
        char sz[32];
        snprintf(sz, sizeof(sz), "%llu", size);
        const char *sized[] = {"qemu-img", "create", "-q",    "-f",    "qcow2", "-u", "-F",
                               fmt,        "-b",     backing, overlay, sz,      NULL};
        const char *whole[] = {"qemu-img", "create", "-q",    "-f",    "qcow2", "-F",
                               fmt,        "-b",     backing, overlay, NULL};
        _cleanup_free_ char *what = xasprintf("creating the overlay '%s'", overlay);
        return qemu_img_run(size > 0 ? sized : whole, what, err);
}

int qemu_image_commit(const char *overlay, struct lv_error **err)
{
        const char *argv[] = {"qemu-img", "commit", "-q", "-d", "-f", "qcow2", overlay, NULL};
        _cleanup_free_ char *what = xasprintf("committing '%s' into its backing image", overlay);
        return qemu_img_run(argv, what, err);
}

int qemu_image_rebase_unsafe(const char *image, const char *backing, const char *fmt,
                             struct lv_error **err)
{
        const char *argv[] = {"qemu-img", "rebase", "-q", "-u",    "-f",  "qcow2",
                              "-F",       fmt,      "-b", backing, image, NULL};
        _cleanup_free_ char *what = xasprintf("rebasing '%s' onto '%s'", image, backing);
        return qemu_img_run(argv, what, err);
}

/* A qcow2 image's backing file name (the header's, as written), or NULL. */
static char *qcow2_backing(const char *image)
{
        _cleanup_close_ int fd = open(image, O_RDONLY | O_CLOEXEC);
        unsigned char h[20];
        if (fd < 0 || pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
            memcmp(h, "QFI\xfb", 4) != 0)
                return NULL;
        uint64_t off;
        uint32_t len;
        memcpy(&off, h + 8, sizeof(off));
        memcpy(&len, h + 16, sizeof(len));
        off = be64toh(off);
        len = be32toh(len);
        if (off == 0 || len == 0 || len > 1023) /* QEMU's limit too */
                return NULL;
        char *name = xmalloc(len + 1);
        if (pread(fd, name, len, (off_t)off) != (ssize_t)len || memchr(name, 0, len)) {
                free(name);
                return NULL;
        }
        name[len] = 0;
        return name;
}

char **qemu_image_backing_chain(const char *image)
{
        char **chain = xcalloc(1, sizeof(*chain));
        _cleanup_free_ char *cur = xstrdup(image);
        for (int depth = 0; depth < 64; depth++) {
                _cleanup_free_ char *name = qcow2_backing(cur);
                if (!name || startswith(name, "json:"))
                        break;
                char *path;
                const char *slash = strrchr(cur, '/');
                if (name[0] == '/' || !slash)
                        path = xstrdup(name);
                else
                        path = xasprintf("%.*s/%s", (int)(slash - cur), cur, name);
                strv_push(&chain, path);
                free(cur);
                cur = xstrdup(path);
        }
        return chain;
}

bool qemu_image_is_qcow2(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        char magic[4];
        return fd >= 0 && pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
               memcmp(magic, "QFI\xfb", 4) == 0;
}
