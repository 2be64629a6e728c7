/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QEMU guest agent client (agent.h): one exchange is a small state
 * machine on the event loop (connected, handshake sent, command sent,
 * reply read), with one timer for its deadline. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "supervisor/agent.h"
#include "util/clock.h"
#include "util/macros.h"

#define NOT_RESPONDING "Guest agent is not responding"

enum agent_step {
        AGENT_SYNCING, /* guest-sync-delimited sent, waiting for our id */
        AGENT_SENDING, /* the command being written */
        AGENT_WAITING, /* the command sent, waiting for its reply */
};

struct agent_exchange {
        int fd;
        struct loop_source *io, *timer;
        int timeout_ms;
        char *name; /* the command's "execute" */
        char *command_line;
        long long sync_id;
        bool want_reply;
        enum agent_step step;
        char *buf; /* received, not yet consumed */
        size_t len, cap;
        bool synced; /* the 0xFF delimiter has been seen */
        char *out;   /* to send */
        size_t out_len, out_off;
        agent_done_fn done;
        void *data;
};

static const char *exchange_doing(const struct agent_exchange *x)
{
        return x->step == AGENT_SYNCING ? "guest-sync-delimited" : x->name;
}

const char *agent_exchange_name(const struct agent_exchange *x)
{
        return x->name;
}

void agent_exchange_cancel(struct agent_exchange *x)
{
        if (!x)
                return;
        loop_source_free(x->io);
        loop_source_free(x->timer);
        if (x->fd >= 0)
                close(x->fd);
        free(x->name);
        free(x->command_line);
        free(x->buf);
        free(x->out);
        free(x);
}

static void exchange_finish(struct agent_exchange *x, int r, struct json_object *ret,
                            struct lv_error *e)
{
        loop_source_freep(&x->io);
        loop_source_freep(&x->timer);
        x->done(x, r, ret, e, x->data);
        agent_exchange_cancel(x);
}

static void exchange_fail(struct agent_exchange *x, struct lv_error *e)
{
        exchange_finish(x, e->code > 0 && e->code < LV_ERR_BASE ? -e->code : -EINVAL, NULL, e);
}

/* The next JSON line after the delimiter: 1 and *ret (a new reference,
 * or NULL for a line that is not JSON, which the caller skips), 0 when
 * no whole line is held yet. */
static int exchange_next_line(struct agent_exchange *x, struct json_object **ret)
{
        if (!x->synced && x->len > 0) {
                char *ff = memchr(x->buf, 0xff, x->len);
                if (ff) {
                        x->synced = true;
                        x->len -= (size_t)(ff + 1 - x->buf);
                        memmove(x->buf, ff + 1, x->len);
                } else
                        x->len = 0;
        }
        char *nl = x->synced && x->len > 0 ? memchr(x->buf, '\n', x->len) : NULL;
        if (!nl)
                return 0;
        *nl = '\0';
        /* a line may hold another delimiter (after a stale one): the
         * reply is what follows it */
        char *start = strrchr(x->buf, 0xff);
        *ret = json_tokener_parse(start ? start + 1 : x->buf);
        x->len -= (size_t)(nl + 1 - x->buf);
        memmove(x->buf, nl + 1, x->len);
        return 1;
}

static void exchange_queue(struct agent_exchange *x, const char *data)
{
        size_t n = strlen(data);
        x->out = xrealloc(x->out, x->out_len + n);
        memcpy(x->out + x->out_len, data, n);
        x->out_len += n;
}

/* The reply's "return" (or the agent's error). */
static int reply_result(const char *name, struct json_object *reply, struct json_object **ret,
                        struct lv_error **err)
{
        struct json_object *v, *d;
        if (json_object_object_get_ex(reply, "error", &v)) {
                const char *desc = json_object_object_get_ex(v, "desc", &d)
                                           ? json_object_get_string(d)
                                           : json_object_to_json_string(v);
                return lv_error_setf(err, LV_ERR_INTERNAL,
                                     "internal error: unable to execute QEMU agent command '%s': "
                                     "%s",
                                     name, desc);
        }
        if (!json_object_object_get_ex(reply, "return", &v))
                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                     "guest agent: reply to '%s' without \"return\": %s", name,
                                     json_object_to_json_string(reply));
        *ret = json_object_get(v);
        return 0;
}

/* Lines received: the handshake's answer, then the reply. Returns 1 when
 * the exchange is over (x freed). */
static int exchange_lines(struct agent_exchange *x)
{
        struct json_object *o = NULL, *v;
        while (exchange_next_line(x, &o) == 1) {
                if (x->step == AGENT_SYNCING) {
                        bool ours = o && json_object_object_get_ex(o, "return", &v) &&
                                    json_object_is_type(v, json_type_int) &&
                                    json_object_get_int64(v) == x->sync_id;
                        json_object_put(o);
                        /* else a stale reply or an error to the resync byte */
                        if (ours) {
                                x->step = AGENT_SENDING;
                                exchange_queue(x, x->command_line);
                        }
                        continue;
                }
                if (!x->want_reply || !json_object_is_type(o, json_type_object)) {
                        json_object_put(o);
                        continue;
                }
                struct json_object *ret = NULL;
                struct lv_error *e = NULL;
                int r = reply_result(x->name, o, &ret, &e);
                json_object_put(o);
                exchange_finish(x, r, ret, e);
                return 1;
        }
        return 0;
}

static int exchange_send(struct agent_exchange *x)
{
        struct lv_error *e = NULL;
        while (x->out_off < x->out_len) {
                ssize_t w = send(x->fd, x->out + x->out_off, x->out_len - x->out_off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == EAGAIN)
                        return 0;
                if (w < 0) {
                        lv_error_set(&e, errno, NOT_RESPONDING ": sending %s", exchange_doing(x));
                        exchange_fail(x, e);
                        return 1;
                }
                x->out_off += (size_t)w;
        }
        x->out_off = x->out_len = 0;
        if (x->step == AGENT_SENDING) {
                if (!x->want_reply) {
                        exchange_finish(x, 0, NULL, NULL);
                        return 1;
                }
                x->step = AGENT_WAITING;
        }
        return 0;
}

static int exchange_receive(struct agent_exchange *x)
{
        struct lv_error *e = NULL;
        for (;;) {
                if (x->len >= AGENT_MESSAGE_MAX) {
                        lv_error_setf(&e, LV_ERR_PROTOCOL,
                                      "guest agent: a message longer than %d bytes",
                                      AGENT_MESSAGE_MAX);
                        exchange_fail(x, e);
                        return 1;
                }
                if (x->cap - x->len < 4096) {
                        x->cap = x->cap ? x->cap * 2 : 8192;
                        x->buf = xrealloc(x->buf, x->cap);
                }
                ssize_t n = recv(x->fd, x->buf + x->len, x->cap - x->len - 1, MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n < 0)
                        lv_error_set(&e, errno, NOT_RESPONDING ": reading its reply");
                else if (n == 0)
                        lv_error_setf(&e, ECONNRESET,
                                      NOT_RESPONDING ": the channel closed during %s",
                                      exchange_doing(x));
                if (e) {
                        exchange_fail(x, e);
                        return 1;
                }
                x->len += (size_t)n;
                if (exchange_lines(x))
                        return 1;
        }
}

static int on_agent_io(struct loop_source *s, int fd, uint32_t revents, void *data)
{
        struct agent_exchange *x = data;
        if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && exchange_receive(x))
                return 0;
        if (x->out_len > x->out_off && exchange_send(x))
                return 0;
        uint32_t ev = EPOLLIN | (x->out_len > x->out_off ? EPOLLOUT : 0);
        struct lv_error *e = NULL;
        if (loop_source_set_events(x->io, ev, &e) < 0)
                exchange_fail(x, e);
        return 0;
}

static int on_agent_timer(struct loop_source *s, void *data)
{
        struct agent_exchange *x = data;
        struct lv_error *e = NULL;
        lv_error_setf(&e, ETIMEDOUT,
                      NOT_RESPONDING ": no answer to %s within %d ms (is qemu-ga running in the "
                                     "guest?)",
                      exchange_doing(x), x->timeout_ms);
        exchange_fail(x, e);
        return 0;
}

static int agent_connect(const char *path, struct lv_error **err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return lv_error_setf(err, ENAMETOOLONG, "guest agent socket path '%s' is too long",
                                     path);
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return lv_error_set(err, errno, "guest agent socket");
        /* a unix socket connects at once or not at all */
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return lv_error_set(err, errno, NOT_RESPONDING ": connecting to '%s'", path);
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
                return lv_error_set(err, errno, "guest agent socket");
        return TAKE_FD(fd);
}

int agent_exchange_start(struct lv_loop *loop, const char *path, struct json_object *command,
                         int timeout_ms, bool want_reply, agent_done_fn done, void *data,
                         struct agent_exchange **ret, struct lv_error **err)
{
        struct json_object *ex;
        if (!json_object_is_type(command, json_type_object) ||
            !json_object_object_get_ex(command, "execute", &ex) ||
            !json_object_is_type(ex, json_type_string))
                return lv_error_setf(err, EINVAL,
                                     "guest agent command: not a JSON object with an "
                                     "\"execute\" string");
        int fd = agent_connect(path, err);
        if (fd < 0)
                return fd;
        struct agent_exchange *x = xcalloc(1, sizeof(*x));
        x->fd = fd;
        x->timeout_ms = timeout_ms;
        x->want_reply = want_reply;
        x->done = done;
        x->data = data;
        x->name = xstrdup(json_object_get_string(ex));
        x->command_line =
                xasprintf("%s\n", json_object_to_json_string_ext(command, JSON_C_TO_STRING_PLAIN));
        uint64_t rnd = 0;
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                rnd = (uint64_t)clock_now_ms();
        x->sync_id = (long long)(rnd >> 12); /* positive, exact in a double */
        _cleanup_free_ char *sync = xasprintf(
                "\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":%lld}}\n",
                x->sync_id);
        exchange_queue(x, sync);
        int r = loop_add_io(loop, fd, EPOLLIN | EPOLLOUT, on_agent_io, x, &x->io, err);
        if (r >= 0)
                r = loop_add_timer(loop, (uint64_t)timeout_ms * 1000, on_agent_timer, x, &x->timer,
                                   err);
        if (r < 0) {
                agent_exchange_cancel(x);
                return r;
        }
        *ret = x;
        return 0;
}

/* ---- one exchange on a loop of its own ---- */

struct agent_sync_result {
        struct lv_loop *loop;
        int r;
        struct json_object *ret;
        struct lv_error *e;
};

static void agent_sync_done(struct agent_exchange *x, int r, struct json_object *ret,
                            struct lv_error *e, void *data)
{
        struct agent_sync_result *res = data;
        res->r = r;
        res->ret = ret;
        res->e = e;
        loop_exit(res->loop, 0);
}

int agent_command(const char *path, struct json_object *command, int timeout_ms, bool want_reply,
                  struct json_object **ret, struct lv_error **err)
{
        _cleanup_loop_ struct lv_loop *loop = NULL;
        int r = loop_new(&loop, err);
        if (r < 0)
                return r;
        struct agent_sync_result res = {.loop = loop};
        struct agent_exchange *x = NULL;
        r = agent_exchange_start(loop, path, command, timeout_ms, want_reply, agent_sync_done, &res,
                                 &x, err);
        if (r < 0)
                return r;
        r = loop_run(loop);
        if (r < 0) {
                agent_exchange_cancel(x);
                return lv_error_set(err, -r, "guest agent: event loop");
        }
        if (res.r < 0) {
                if (err)
                        *err = res.e;
                else
                        lv_error_free(res.e);
                return res.r;
        }
        if (ret)
                *ret = res.ret;
        else
                json_object_put(res.ret);
        return 0;
}
