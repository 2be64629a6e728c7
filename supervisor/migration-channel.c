/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Live migration's channel between the supervisors, the transport command
 * that carries it, and the tunnelled stream's source side
 * (supervisor/migration_priv.h). */
#include "supervisor/migration_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/migration.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/paths.h"
#include "util/clock.h"
#include "util/fileio.h"

/* ---- the channel: NUL-terminated JSON objects ---- */

/* Tunnelled mode: QEMU's stream travels on the channel between the phase
 * messages as frames: {"phase":"data","len":N} followed by N raw bytes,
 * then {"phase":"data-end"}. */

int mchan_send(struct mchan *c, struct json_object *o, struct lv_error **err)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        int r = fd_write_all(c->out, s, strlen(s) + 1 /* with the NUL */, 0);
        if (r < 0)
                return lv_error_set(err, -r, "sending to the %s", c->peer);
        return 0;
}

/* Destination, tunnelled: a frame header has been read; hand its bytes
 * to QEMU (those already buffered, then straight from the channel). */
static int tunnel_frame(struct mchan *c, const char *msg, size_t len, long long deadline,
                        struct lv_error **err)
{
        if (!strncmp(msg, "{\"phase\":\"data-end\"}", len)) {
                c->tunnel_ended = true;
                (void)shutdown(c->tunnel_fd, SHUT_WR);
                return 0;
        }
        unsigned long n = 0;
        if (sscanf(msg, "{\"phase\":\"data\",\"len\":%lu}", &n) != 1 || n == 0 || n > TUNNEL_CHUNK)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "the %s sent a malformed stream frame",
                                     c->peer);
        struct varlink_inbuf *b = &c->buf;
        size_t k = b->len - b->consumed < n ? b->len - b->consumed : n;
        int r = fd_write_all(c->tunnel_fd, b->data + b->consumed, k, 0);
        b->consumed += k;
        n -= k;
        static char chunk[65536];
        while (r >= 0 && n > 0) {
                long long left = deadline - clock_now_ms();
                struct pollfd pfd = {.fd = c->in, .events = POLLIN};
                int p = left > 0 ? poll(&pfd, 1, (int)left) : 0;
                if (p < 0 && errno == EINTR)
                        continue;
                if (p <= 0)
                        return lv_error_setf(err, ETIMEDOUT, "the %s's stream stalled", c->peer);
                ssize_t m = read(c->in, chunk, n < sizeof(chunk) ? n : sizeof(chunk));
                if (m < 0 && errno == EINTR)
                        continue;
                if (m <= 0)
                        return lv_error_setf(err, ECONNRESET,
                                             "the %s closed the channel "
                                             "mid-stream",
                                             c->peer);
                r = fd_write_all(c->tunnel_fd, chunk, (size_t)m, 0);
                n -= (size_t)m;
        }
        if (r < 0)
                return lv_error_set(err, -r, "passing the stream to the hypervisor");
        return 0;
}

int mchan_recv(struct mchan *c, int timeout_ms, struct json_object **ret, struct lv_error **err)
{
        long long deadline = clock_now_ms() + timeout_ms;
        for (;;) {
                const char *msg;
                size_t len;
                int r = varlink_inbuf_next(&c->buf, &msg, &len);
                if (r == -EMSGSIZE)
                        return lv_error_setf(err, LV_ERR_PROTOCOL,
                                             "the %s sent a message larger than %d bytes", c->peer,
                                             MIGRATION_MESSAGE_MAX);
                if (r > 0 && c->tunnel_fd > 0 && len > 10 && len < 64 &&
                    !strncmp(msg, "{\"phase\":\"data", 14)) {
                        r = tunnel_frame(c, msg, len, deadline, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (r > 0) {
                        struct json_tokener *tok = json_tokener_new_ex(16);
                        struct json_object *o = json_tokener_parse_ex(tok, msg, (int)len);
                        bool complete = json_tokener_get_error(tok) == json_tokener_success &&
                                        tok->char_offset == (int)len;
                        json_tokener_free(tok);
                        if (!o || !complete || !json_object_is_type(o, json_type_object)) {
                                json_object_put(o);
                                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                                     "the %s sent a message that is not a JSON "
                                                     "object",
                                                     c->peer);
                        }
                        *ret = o;
                        return 0;
                }
                long long left = deadline - clock_now_ms();
                if (left <= 0)
                        return lv_error_setf(err, ETIMEDOUT, "no answer from the %s within %d s",
                                             c->peer, timeout_ms / 1000);
                struct pollfd pfd = {.fd = c->in, .events = POLLIN};
                int p = poll(&pfd, 1, (int)left);
                if (p < 0 && errno != EINTR)
                        return lv_error_set(err, errno, "waiting for the %s", c->peer);
                if (p <= 0)
                        continue;
                size_t space;
                char *dst = varlink_inbuf_space(&c->buf, &space);
                ssize_t n = read(c->in, dst, space);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0)
                        return lv_error_set(err, errno, "reading from the %s", c->peer);
                if (n == 0)
                        return lv_error_setf(err, ECONNRESET, "the %s closed the channel", c->peer);
                varlink_inbuf_commit(&c->buf, (size_t)n);
        }
}

/* ---- the transport command ---- */

int transport_spawn(const char *command, struct transport *t, struct lv_error **err)
{
        int sp[2], ep[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                return lv_error_set(err, errno, "socketpair");
        if (pipe2(ep, O_CLOEXEC) < 0) {
                int r = lv_error_set(err, errno, "pipe");
                close(sp[0]);
                close(sp[1]);
                return r;
        }
        pid_t pid = fork();
        if (pid < 0) {
                int r = lv_error_set(err, errno, "fork");
                close(sp[0]);
                close(sp[1]);
                close(ep[0]);
                close(ep[1]);
                return r;
        }
        if (pid == 0) {
                if (dup2(sp[1], 0) < 0 || dup2(sp[1], 1) < 0 || dup2(ep[1], 2) < 0)
                        _exit(127);
                sigset_t all;
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                /* the destination reads its own host.conf, not our --config */
                unsetenv("LITEVIRT_HOST_CONF");
                execl("/bin/sh", "sh", "-c", command, (char *)NULL);
                _exit(127);
        }
        close(sp[1]);
        close(ep[1]);
        t->pid = pid;
        t->fd = sp[0];
        t->err_fd = ep[0];
        (void)fcntl(t->err_fd, F_SETFL, O_NONBLOCK);
        return 0;
}

/* What the transport wrote on stderr (for an error message). */
char *transport_stderr(struct transport *t)
{
        char buf[2048];
        size_t n = 0;
        for (;;) {
                ssize_t r = read(t->err_fd, buf + n, sizeof(buf) - 1 - n);
                if (r <= 0 || (n += (size_t)r) >= sizeof(buf) - 1)
                        break;
        }
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                n--;
        buf[n] = '\0';
        return xstrdup(buf);
}

/* Close the channel. When the migration failed the destination exits on
 * its own; it is killed if it has not within a few seconds. On success it
 * lives on as the guest's supervisor on the destination. */
void transport_close(struct transport *t, bool failed)
{
        if (t->fd >= 0)
                close(t->fd);
        t->fd = -1;
        if (t->pid > 0 && failed) {
                int pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
                if (pidfd >= 0) {
                        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
                        if (poll(&pfd, 1, 10000) <= 0)
                                kill(t->pid, SIGKILL);
                        close(pidfd);
                }
                while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                t->pid = 0;
        }
        if (t->err_fd >= 0)
                close(t->err_fd);
        t->err_fd = -1;
}

/* ---- tunnelled stream, source side ---- */

/* A helper process copies QEMU's stream to the channel: it must flow
 * even while the supervisor waits on QEMU's monitor synchronously (QEMU
 * answers no command while its migration thread, holding the big lock
 * for the switch-over, waits for its stream to be read). */

static int tunnel_forward(int out, const char *p, size_t n)
{
        char hdr[64];
        int h = snprintf(hdr, sizeof(hdr), "{\"phase\":\"data\",\"len\":%zu}", n);
        int r = fd_write_all(out, hdr, (size_t)h + 1, 0);
        if (r >= 0)
                r = fd_write_all(out, p, n, 0);
        return r;
}

static _noreturn_ void tunnel_child(int listen_fd, int out, pid_t parent)
{
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
                _exit(1);
        int c;
        while ((c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0 && errno == EINTR)
                ;
        if (c < 0)
                _exit(1);
        static char chunk[TUNNEL_CHUNK];
        for (;;) {
                ssize_t n = read(c, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        _exit(1);
                if (n == 0)
                        break;
                if (tunnel_forward(out, chunk, (size_t)n) < 0)
                        _exit(1);
        }
        static const char end[] = "{\"phase\":\"data-end\"}";
        _exit(fd_write_all(out, end, sizeof(end), 0) < 0 ? 1 : 0);
}

int tunnel_src_open(struct tunnel_src *t, struct lv_guest *g, struct mchan *ch, char **ret_uri,
                    struct lv_error **err)
{
        *t = (struct tunnel_src){.listen_fd = -1};
        t->path = paths_state_file(g->name, "migration.sock");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(t->path) >= sizeof(sa.sun_path))
                return lv_error_setf(err, ENAMETOOLONG, "socket path '%s' is too long", t->path);
        strcpy(sa.sun_path, t->path);
        (void)unlink(t->path);
        t->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (t->listen_fd < 0 || bind(t->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(t->listen_fd, 1) < 0)
                return lv_error_set(err, errno, "tunnel socket '%s'", t->path);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                return lv_error_set(err, errno, "fork");
        if (pid == 0)
                tunnel_child(t->listen_fd, ch->out, parent);
        t->pid = pid;
        *ret_uri = xasprintf("unix:%s", t->path);
        return 0;
}

int tunnel_src_drain(struct tunnel_src *t, struct lv_error **err)
{
        int status = 0;
        int pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
        if (pidfd >= 0) {
                struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
                if (poll(&pfd, 1, 30000) <= 0)
                        kill(t->pid, SIGKILL);
                close(pidfd);
        }
        while (waitpid(t->pid, &status, 0) < 0 && errno == EINTR)
                ;
        t->pid = 0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return lv_error_setf(err, EIO,
                                     "forwarding QEMU's stream to the destination "
                                     "failed");
        return 0;
}

void tunnel_src_close(struct tunnel_src *t)
{
        if (t->pid > 0) {
                kill(t->pid, SIGKILL);
                while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                t->pid = 0;
        }
        if (t->listen_fd >= 0)
                close(t->listen_fd);
        t->listen_fd = -1;
        if (t->path)
                (void)unlink(t->path);
        free(t->path);
        t->path = NULL;
}
