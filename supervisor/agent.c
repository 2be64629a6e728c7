/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QEMU guest agent client (agent.h). */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "supervisor/agent.h"
#include "util/clock.h"
#include "util/macros.h"
#include "util/strbuf.h"

#define NOT_RESPONDING "Guest agent is not responding"

struct agent_conn {
        int fd;
        long long deadline_ms;
        int timeout_ms;
        char *buf; /* received, not yet consumed */
        size_t len, cap;
        bool synced; /* the 0xFF delimiter has been seen */
};

static int agent_timeout_error(struct agent_conn *c, const char *doing, struct lv_error **err)
{
        return lv_error_setf(err, ETIMEDOUT,
                             NOT_RESPONDING ": no answer to %s within %d ms (is qemu-ga "
                                            "running in the guest?)",
                             doing, c->timeout_ms);
}

static int agent_write(struct agent_conn *c, const char *data, size_t n, const char *doing,
                       struct lv_error **err)
{
        while (n > 0) {
                ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w > 0) {
                        data += w;
                        n -= (size_t)w;
                        continue;
                }
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno != EAGAIN)
                        return lv_error_set(err, errno, NOT_RESPONDING ": sending %s", doing);
                long long left = c->deadline_ms - clock_now_ms();
                if (left <= 0)
                        return agent_timeout_error(c, doing, err);
                struct pollfd p = {.fd = c->fd, .events = POLLOUT};
                if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
                        return lv_error_set(err, errno, "guest agent: poll");
        }
        return 0;
}

/* Read more bytes into the buffer, waiting until the deadline. */
static int agent_fill(struct agent_conn *c, const char *doing, struct lv_error **err)
{
        for (;;) {
                long long left = c->deadline_ms - clock_now_ms();
                if (left <= 0)
                        return agent_timeout_error(c, doing, err);
                struct pollfd p = {.fd = c->fd, .events = POLLIN};
                int pr = poll(&p, 1, (int)left);
                if (pr < 0 && errno != EINTR)
                        return lv_error_set(err, errno, "guest agent: poll");
                if (pr <= 0)
                        continue;
                if (c->len >= AGENT_MESSAGE_MAX)
                        return lv_error_setf(err, LV_ERR_PROTOCOL,
                                             "guest agent: a message longer than %d bytes",
                                             AGENT_MESSAGE_MAX);
                if (c->cap - c->len < 4096) {
                        c->cap = c->cap ? c->cap * 2 : 8192;
                        c->buf = xrealloc(c->buf, c->cap);
                }
                ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, MSG_DONTWAIT);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0)
                        return lv_error_set(err, errno, NOT_RESPONDING ": reading its reply");
                if (n == 0)
                        return lv_error_setf(err, ECONNRESET,
                                             NOT_RESPONDING ": the channel closed during %s",
                                             doing);
                c->len += (size_t)n;
                return 0;
        }
}

/* The next JSON line after the delimiter (*ret: a new reference, or NULL
 * for a line that is not JSON, which the caller skips). */
static int agent_read_line(struct agent_conn *c, const char *doing, struct json_object **ret,
                           struct lv_error **err)
{
        for (;;) {
                if (!c->synced && c->len > 0) {
                        char *ff = memchr(c->buf, 0xff, c->len);
                        if (ff) {
                                c->synced = true;
                                c->len -= (size_t)(ff + 1 - c->buf);
                                memmove(c->buf, ff + 1, c->len);
                        } else
                                c->len = 0;
                }
                char *nl = c->synced && c->len > 0 ? memchr(c->buf, '\n', c->len) : NULL;
                if (nl) {
                        *nl = '\0';
                        /* a line may hold another delimiter (after a
                         * stale one): the reply is what follows it */
                        char *start = strrchr(c->buf, 0xff);
                        *ret = json_tokener_parse(start ? start + 1 : c->buf);
                        c->len -= (size_t)(nl + 1 - c->buf);
                        memmove(c->buf, nl + 1, c->len);
                        return 0;
                }
                int r = agent_fill(c, doing, err);
                if (r < 0)
                        return r;
        }
}

static int agent_connect(struct agent_conn *c, const char *path, struct lv_error **err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return lv_error_setf(err, ENAMETOOLONG, "guest agent socket path '%s' is too long",
                                     path);
        strcpy(sa.sun_path, path);
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return lv_error_set(err, errno, "guest agent socket");
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return lv_error_set(err, errno, NOT_RESPONDING ": connecting to '%s'", path);
        return 0;
}

static int agent_sync(struct agent_conn *c, struct lv_error **err)
{
        uint64_t rnd = 0;
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                rnd = (uint64_t)clock_now_ms();
        long long id = (long long)(rnd >> 12); /* positive, exact in a double */
        _cleanup_free_ char *msg = xasprintf(
                "\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":%lld}}\n", id);
        int r = agent_write(c, msg, strlen(msg), "guest-sync-delimited", err);
        if (r < 0)
                return r;
        for (;;) {
                struct json_object *o = NULL, *v;
                r = agent_read_line(c, "guest-sync-delimited", &o, err);
                if (r < 0)
                        return r;
                bool ours = o && json_object_object_get_ex(o, "return", &v) &&
                            json_object_is_type(v, json_type_int) && json_object_get_int64(v) == id;
                json_object_put(o);
                if (ours)
                        return 0;
                /* a stale reply or an error to the resync byte: skip */
        }
}

int agent_command(const char *path, struct json_object *command, int timeout_ms, bool want_reply,
                  struct json_object **ret, struct lv_error **err)
{
        struct json_object *ex;
        if (!json_object_is_type(command, json_type_object) ||
            !json_object_object_get_ex(command, "execute", &ex) ||
            !json_object_is_type(ex, json_type_string))
                return lv_error_setf(err, EINVAL,
                                     "guest agent command: not a JSON object with an "
                                     "\"execute\" string");
        const char *name = json_object_get_string(ex);
        struct agent_conn c = {
                .fd = -1, .deadline_ms = clock_now_ms() + timeout_ms, .timeout_ms = timeout_ms};
        int r = agent_connect(&c, path, err);
        if (r >= 0)
                r = agent_sync(&c, err);
        if (r >= 0) {
                const char *text = json_object_to_json_string_ext(command, JSON_C_TO_STRING_PLAIN);
                _cleanup_free_ char *line = xasprintf("%s\n", text);
                r = agent_write(&c, line, strlen(line), name, err);
        }
        struct json_object *reply = NULL;
        while (r >= 0 && want_reply && !reply) {
                r = agent_read_line(&c, name, &reply, err);
                if (r >= 0 && !json_object_is_type(reply, json_type_object)) {
                        json_object_put(reply);
                        reply = NULL;
                }
        }
        if (c.fd >= 0)
                close(c.fd);
        free(c.buf);
        if (r < 0 || !want_reply)
                return r;
        struct json_object *v, *d;
        if (json_object_object_get_ex(reply, "error", &v)) {
                const char *desc = json_object_object_get_ex(v, "desc", &d)
                                           ? json_object_get_string(d)
                                           : json_object_to_json_string(v);
                r = lv_error_setf(err, LV_ERR_INTERNAL,
                                  "internal error: unable to execute QEMU agent command '%s': %s",
                                  name, desc);
        } else if (!json_object_object_get_ex(reply, "return", &v))
                r = lv_error_setf(err, LV_ERR_PROTOCOL,
                                  "guest agent: reply to '%s' without \"return\": %s", name,
                                  json_object_to_json_string(reply));
        else if (ret)
                *ret = json_object_get(v);
        json_object_put(reply);
        return r;
}
