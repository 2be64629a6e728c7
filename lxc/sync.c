/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Messages between the supervisor and the container's child process over
 * a SOCK_SEQPACKET socketpair: the parent sends MAPPED once the id maps
 * are written (user namespace only) and GO once cgroups and network are in
 * place; the child builds its filesystem tree meanwhile and waits for GO
 * only before it needs them. It either execs init (its CLOEXEC end closes:
 * the parent reads end-of-file) or sends ERROR with errno and message. */
#include "lxc/lxc.h"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#define LXC_SYNC_MSG_MAX 1024

struct lxc_sync_msg {
        int32_t type;
        int32_t code;
        char message[LXC_SYNC_MSG_MAX];
};

/* A child that failed before it read what we sent (MAPPED, GO) closes
 * its end with that unread: the kernel then reports ECONNRESET once,
 * ahead of the error message the child sent before, still queued here. */
static ssize_t sync_recv_nowait(int fd, struct lxc_sync_msg *m)
{
        ssize_t n;
        bool reset = false;
        do {
                n = recv(fd, m, sizeof *m, MSG_DONTWAIT);
                if (n < 0 && errno == ECONNRESET && !reset) {
                        reset = true;
                        errno = EINTR;
                }
        } while (n < 0 && errno == EINTR);
        return n;
}

int lxc_sync_send(int fd, enum lxc_sync_type type, struct lv_error **err)
{
        struct lxc_sync_msg m = {.type = type};
        if (send(fd, &m, sizeof m, MSG_NOSIGNAL) < 0)
                return lv_error_set(err, errno, "telling the container process to continue");
        return 0;
}

int lxc_sync_wait(int fd, enum lxc_sync_type type)
{
        struct lxc_sync_msg m;
        for (;;) {
                ssize_t n = recv(fd, &m, sizeof m, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0 || m.type != (int32_t)type)
                        return -EPIPE;
                return 0;
        }
}

int lxc_sync_child_error(int fd, int r, struct lv_error **err)
{
        struct lxc_sync_msg m;
        ssize_t n = sync_recv_nowait(fd, &m);
        if (n != (ssize_t)sizeof m || m.type != LXC_SYNC_ERROR)
                return r;
        m.message[sizeof m.message - 1] = '\0';
        int code = m.code > 0 ? m.code : EIO;
        if (err) {
                lv_error_free(*err);
                *err = NULL;
        }
        return lv_error_setf(err, code, "%s", m.message);
}

void lxc_sync_send_error(int fd, const struct lv_error *e)
{
        struct lxc_sync_msg m = {.type = LXC_SYNC_ERROR};
        m.code = e ? e->code : EIO;
        snprintf(m.message, sizeof m.message, "%s",
                 e && e->message ? e->message : "unknown error in the container process");
        (void)send(fd, &m, sizeof m, MSG_NOSIGNAL);
}

int lxc_sync_wait_exec(int fd, int timeout_ms, struct lv_error **err)
{
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r;
        do
                r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return lv_error_set(err, errno, "waiting for the container process");
        if (r == 0)
                return lv_error_setf(err, ETIMEDOUT,
                                     "the container process did not exec init within %d s",
                                     timeout_ms / 1000);

        struct lxc_sync_msg m;
        ssize_t n = sync_recv_nowait(fd, &m);
        if (n < 0)
                return lv_error_set(err, errno, "reading from the container process");
        if (n > 0) {
                if ((size_t)n != sizeof m || m.type != LXC_SYNC_ERROR)
                        return lv_error_setf(err, EPROTO,
                                             "malformed message from the container process");
                m.message[sizeof m.message - 1] = '\0';
                int code = m.code > 0 ? m.code : EIO;
                return lv_error_setf(err, code, "%s", m.message);
        }
        /* End of file: the child exec'd init (its end is close-on-exec).
         * The child reports every failure before it exits, so an init
         * that ends right away is the guest's business, seen by the core
         * on the pidfd like any later end. */
        return 0;
}
