/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* liblitevirt: connections and calls (see include/litevirt/litevirt.h). */
#include <json-c/json.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "litevirt/litevirt.h"
#include "lib/client-internal.h"
#include "lib/varlink.h"
#include "util/paths.h"
#include "util/clock.h"
#include "lib/methods.h"

struct lv_conn {
        int fd;
        int timeout_ms;
        struct varlink_inbuf in;
        char *name; /* for messages */
};

void lv_client_error_free(lv_client_error *e)
{
        if (!e)
                return;
        free(e->error);
        free(e->message);
        free(e);
}

int lv_client_error_set(lv_client_error **err, int code, const char *error, const char *fmt, ...)
{
        if (code > 0)
                code = -code;
        if (!err || *err)
                return code;
        lv_client_error *e = xcalloc(1, sizeof(*e));
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&e->message, fmt, ap) < 0)
                abort();
        va_end(ap);
        e->code = code;
        e->error = xstrdup_null(error);
        *err = e;
        return code;
}

int lv_client_error_from(lv_client_error **err, struct lv_error *e)
{
        return lv_client_error_set(err, lv_error_errno(e), NULL, "%s", e->message);
}

int lv_connect_path(const char *path, lv_conn **ret, lv_client_error **err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return lv_client_error_set(err, ENAMETOOLONG, NULL, "socket path '%s' is too long",
                                           path);
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return lv_client_error_set(err, errno, NULL, "cannot create a socket: %s",
                                           strerror(errno));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int e = errno;
                if (e == ENOENT || e == ECONNREFUSED)
                        return lv_client_error_set(err, ENOENT, LV_ERROR_NO_SUCH_GUEST,
                                                   "no supervisor answers on '%s'", path);
                return lv_client_error_set(err, e, NULL, "cannot connect to '%s': %s", path,
                                           strerror(e));
        }
        lv_conn *c = xcalloc(1, sizeof(*c));
        c->fd = TAKE_FD(fd);
        c->timeout_ms = LV_CALL_TIMEOUT_MS;
        c->in.max = LV_REPLY_MAX;
        *ret = c;
        return 0;
}

int lv_connect(const char *name, lv_conn **ret, lv_client_error **err)
{
        if (!name || !*name || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return lv_client_error_set(err, EINVAL, NULL, "invalid guest name '%s'",
                                           name ? name : "");
        _cleanup_free_ char *path = paths_state_file(name, "control.sock");
        lv_client_error *e = NULL;
        int r = lv_connect_path(path, ret, &e);
        if (r == -ENOENT) {
                lv_client_error_free(e);
                return lv_client_error_set(err, ENOENT, LV_ERROR_NO_SUCH_GUEST,
                                           "guest '%s' is not running", name);
        }
        if (r < 0) {
                if (err && !*err)
                        *err = e;
                else
                        lv_client_error_free(e);
                return r;
        }
        (*ret)->name = xstrdup(name);
        return 0;
}

void lv_disconnect(lv_conn *c)
{
        if (!c)
                return;
        close(c->fd);
        varlink_inbuf_clear(&c->in);
        free(c->name);
        free(c);
}

void lv_conn_set_timeout(lv_conn *c, int timeout_ms)
{
        c->timeout_ms = timeout_ms;
}

int lv_conn_fd(const lv_conn *c)
{
        return c->fd;
}

static const char *conn_what(const lv_conn *c)
{
        return c->name ? c->name : "?";
}

/* Wait for fd readiness within the call's deadline. */
static int conn_wait(lv_conn *c, short events, long long deadline, lv_client_error **err)
{
        for (;;) {
                int t = -1;
                if (deadline >= 0) {
                        long long left = deadline - clock_now_ms();
                        t = left < 0 ? 0 : (int)left;
                }
                struct pollfd p = {.fd = c->fd, .events = events};
                int n = poll(&p, 1, t);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return lv_client_error_set(err, errno, NULL, "poll: %s", strerror(errno));
                if (n == 0)
                        return lv_client_error_set(
                                err, ETIMEDOUT, NULL,
                                "guest '%s': no reply from the supervisor within "
                                "%d ms",
                                conn_what(c), c->timeout_ms);
                return 0;
        }
}

static long long deadline_of(const lv_conn *c)
{
        return c->timeout_ms < 0 ? -1 : clock_now_ms() + c->timeout_ms;
}

static int conn_send(lv_conn *c, const char *msg, size_t len, lv_client_error **err)
{
        long long deadline = deadline_of(c);
        while (len > 0) {
                ssize_t n = send(c->fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                        int r = conn_wait(c, POLLOUT, deadline, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* The supervisor answered and closed before reading (it
                 * refuses a peer at once): that answer is the reply. */
                char b;
                if (n < 0 && (errno == EPIPE || errno == ECONNRESET) &&
                    recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1)
                        return 0;
                if (n < 0)
                        return lv_client_error_set(err, errno, NULL,
                                                   "guest '%s': cannot send to the supervisor: %s",
                                                   conn_what(c), strerror(errno));
                msg += n;
                len -= (size_t)n;
        }
        return 0;
}

static int conn_send_call(lv_conn *c, const char *method, struct json_object *params, bool more,
                          lv_client_error **err)
{
        size_t len;
        _cleanup_free_ char *msg = varlink_call_format(method, params, more, false, &len);
        return conn_send(c, msg, len, err);
}

/* Read one whole message; *ret points into the buffer until the next read. */
static int conn_read_message(lv_conn *c, const char **ret, size_t *ret_len, lv_client_error **err)
{
        long long deadline = deadline_of(c);
        for (;;) {
                int r = varlink_inbuf_next(&c->in, ret, ret_len);
                if (r == -EMSGSIZE)
                        return lv_client_error_set(err, EMSGSIZE, NULL,
                                                   "guest '%s': reply longer than %d bytes",
                                                   conn_what(c), LV_REPLY_MAX);
                if (r > 0)
                        return 0;
                size_t space;
                char *p = varlink_inbuf_space(&c->in, &space);
                ssize_t n = recv(c->fd, p, space, MSG_DONTWAIT);
                if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                        r = conn_wait(c, POLLIN, deadline, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (n < 0)
                        return lv_client_error_set(
                                err, errno, NULL, "guest '%s': cannot read from the supervisor: %s",
                                conn_what(c), strerror(errno));
                if (n == 0)
                        return lv_client_error_set(
                                err, ECONNRESET, NULL,
                                "guest '%s': the supervisor closed the connection", conn_what(c));
                varlink_inbuf_commit(&c->in, (size_t)n);
        }
}

static int error_errno(const char *error)
{
        if (streq(error, LV_ERROR_NO_SUCH_GUEST))
                return ENOENT;
        if (streq(error, LV_ERROR_INVALID_STATE))
                return EBUSY;
        if (streq(error, LV_ERROR_PERMISSION_DENIED))
                return EACCES;
        if (streq(error, LV_ERROR_NOT_SUPPORTED))
                return EOPNOTSUPP;
        if (streq(error, LV_ERROR_CONSOLE_BUSY))
                return EBUSY;
        if (streq(error, "org.varlink.service.MethodNotFound") ||
            streq(error, "org.varlink.service.InterfaceNotFound"))
                return EOPNOTSUPP;
        return EIO;
}

int lv_read_reply(lv_conn *c, struct json_object **ret_reply, bool *ret_continues,
                  lv_client_error **err)
{
        const char *msg;
        size_t len;
        int r = conn_read_message(c, &msg, &len, err);
        if (r < 0)
                return r;
        struct json_object *params = NULL;
        _cleanup_free_ char *error = NULL;
        bool continues = false;
        _cleanup_error_ struct lv_error *e = NULL;
        if (varlink_reply_parse(msg, len, &params, &error, &continues, &e) < 0)
                return lv_client_error_set(err, EBADMSG, NULL,
                                           "guest '%s': malformed reply from the supervisor: %s",
                                           conn_what(c), e->message);
        if (error) {
                struct json_object *m;
                const char *text = NULL;
                if (json_object_object_get_ex(params, "message", &m))
                        text = json_object_get_string(m);
                r = lv_client_error_set(
                        err, error_errno(error), error, "%s",
                        text ? text
                             : json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN));
                if (err && *err && !text) {
                        /* No message: say which error it was. */
                        char *full = xasprintf("%s %s", error, (*err)->message);
                        free((*err)->message);
                        (*err)->message = full;
                }
                json_object_put(params);
                return r;
        }
        if (ret_continues)
                *ret_continues = continues;
        if (ret_reply)
                *ret_reply = params;
        else
                json_object_put(params);
        return 0;
}

int lv_call(lv_conn *c, const char *method, struct json_object *params,
            struct json_object **ret_reply, lv_client_error **err)
{
        int r = conn_send_call(c, method, params, false, err);
        if (r < 0)
                return r;
        return lv_read_reply(c, ret_reply, NULL, err);
}

int lv_call_more(lv_conn *c, const char *method, struct json_object *params, lv_client_error **err)
{
        return conn_send_call(c, method, params, true, err);
}

size_t lv_conn_take_buffered(lv_conn *c, char *buf, size_t max)
{
        /* Whatever follows the last message handed out. */
        const char *msg;
        size_t len;
        if (varlink_inbuf_next(&c->in, &msg, &len) == 1) {
                /* A NUL in raw data: give it all back as bytes. */
                c->in.consumed = 0;
        }
        size_t n = c->in.len - c->in.consumed;
        if (n > max)
                n = max;
        if (n == 0)
                return 0;
        memcpy(buf, c->in.data + c->in.consumed, n);
        c->in.consumed += n;
        c->in.scanned = c->in.consumed;
        return n;
}
