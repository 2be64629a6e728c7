/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QMP client over json-c. See qemu/qmp.h. json-c's conventions (NULL
 * returns, tokener error codes) are translated to lv_error here only. */
#include "qemu/qmp.h"

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <json-c/json.h>

#include "util/log.h"
#include "util/clock.h"
#include "util/fileio.h"

struct qmp_pending {
        char id[24];
        char command[48];
        uint64_t sent_us, deadline_us;
        qmp_reply_fn fn;
        void *userdata;
        /* synchronous calls */
        bool sync;
        bool done;
        struct json_object *ret;
        struct lv_error *err;
};

struct qmp {
        int fd;
        char *what; /* for messages: the socket path */
        char *in;   /* unparsed input */
        size_t in_len;
        size_t in_cap;
        struct qmp_pending **pending;
        int n_pending;
        unsigned long long next_id;
        qmp_event_fn event_fn;
        void *event_data;
        int version;
        bool closed;
};

/* ---------------------------------------------------------------------- */
/* Message parser */

void qmp_message_clear(struct qmp_message *m)
{
        if (m->root)
                json_object_put(m->root);
        memset(m, 0, sizeof(*m));
}

static int get_int_member(struct json_object *o, const char *key, long long *ret)
{
        struct json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return -1;
        *ret = json_object_get_int64(v);
        return 0;
}

int qmp_message_parse(const char *buf, size_t len, struct qmp_message *ret, struct lv_error **err)
{
        struct qmp_message m = {0};
        m.ts_seconds = -1;
        m.ts_microseconds = -1;

        if (len > QMP_MESSAGE_MAX)
                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                     "QMP message of %zu bytes is larger than the limit of %d", len,
                                     QMP_MESSAGE_MAX);
        while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
                len--;
        if (len == 0)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "empty QMP message");
        if (memchr(buf, '\0', len))
                return lv_error_setf(err, LV_ERR_PROTOCOL, "QMP message contains a NUL byte");

        struct json_tokener *tok = json_tokener_new_ex(QMP_JSON_DEPTH_MAX);
        if (!tok)
                abort();
        /* Standard JSON only: json-c otherwise accepts e.g. "5e" as 5.
         * Trailing data is checked below, with its own message. */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
        struct json_object *root = json_tokener_parse_ex(tok, buf, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!root || jerr != json_tokener_success) {
                if (root)
                        json_object_put(root);
                return lv_error_setf(err, LV_ERR_PROTOCOL, "malformed QMP message at byte %zu: %s",
                                     end,
                                     jerr == json_tokener_continue ? "unexpected end of message"
                                                                   : json_tokener_error_desc(jerr));
        }
        m.root = root;
        for (size_t i = end; i < len; i++)
                if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n') {
                        qmp_message_clear(&m);
                        return lv_error_setf(err, LV_ERR_PROTOCOL,
                                             "QMP message has trailing data at byte %zu", i);
                }
        if (!json_object_is_type(root, json_type_object)) {
                qmp_message_clear(&m);
                return lv_error_setf(err, LV_ERR_PROTOCOL, "QMP message is not a JSON object");
        }

        struct json_object *v = NULL, *id = NULL;
        if (json_object_object_get_ex(root, "id", &id)) {
                if (!json_object_is_type(id, json_type_string)) {
                        qmp_message_clear(&m);
                        return lv_error_setf(err, LV_ERR_PROTOCOL,
                                             "QMP message: 'id' is not a string");
                }
                m.id = json_object_get_string(id);
        }

        if (json_object_object_get_ex(root, "QMP", &v)) {
                if (!json_object_is_type(v, json_type_object)) {
                        qmp_message_clear(&m);
                        return lv_error_setf(err, LV_ERR_PROTOCOL,
                                             "QMP greeting: 'QMP' is not an object");
                }
                m.kind = QMP_MSG_GREETING;
                m.ret = v;
        } else if (json_object_object_get_ex(root, "return", &v)) {
                m.kind = QMP_MSG_RETURN;
                m.ret = v;
        } else if (json_object_object_get_ex(root, "error", &v)) {
                struct json_object *cls = NULL, *desc = NULL;
                if (!json_object_is_type(v, json_type_object) ||
                    !json_object_object_get_ex(v, "class", &cls) ||
                    !json_object_is_type(cls, json_type_string) ||
                    !json_object_object_get_ex(v, "desc", &desc) ||
                    !json_object_is_type(desc, json_type_string)) {
                        qmp_message_clear(&m);
                        return lv_error_setf(err, LV_ERR_PROTOCOL,
                                             "QMP error reply without a 'class' and 'desc' string");
                }
                m.kind = QMP_MSG_ERROR;
                m.error_class = json_object_get_string(cls);
                m.error_desc = json_object_get_string(desc);
        } else if (json_object_object_get_ex(root, "event", &v)) {
                if (!json_object_is_type(v, json_type_string) ||
                    json_object_get_string_len(v) == 0) {
                        qmp_message_clear(&m);
                        return lv_error_setf(err, LV_ERR_PROTOCOL,
                                             "QMP event: 'event' is not a non-empty string");
                }
                m.kind = QMP_MSG_EVENT;
                m.event = json_object_get_string(v);
                struct json_object *data = NULL, *ts = NULL;
                if (json_object_object_get_ex(root, "data", &data)) {
                        if (!json_object_is_type(data, json_type_object)) {
                                qmp_message_clear(&m);
                                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                                     "QMP event '%.64s': 'data' is not an object",
                                                     m.event);
                        }
                        m.data = data;
                }
                if (json_object_object_get_ex(root, "timestamp", &ts)) {
                        if (!json_object_is_type(ts, json_type_object) ||
                            get_int_member(ts, "seconds", &m.ts_seconds) < 0 ||
                            get_int_member(ts, "microseconds", &m.ts_microseconds) < 0) {
                                qmp_message_clear(&m);
                                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                                     "QMP event '%.64s': malformed 'timestamp'",
                                                     m.event);
                        }
                }
        } else {
                qmp_message_clear(&m);
                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                     "QMP message is neither a greeting, a reply nor an event");
        }
        *ret = m;
        return 0;
}

/* ---------------------------------------------------------------------- */
/* Connection */

static void pending_remove(struct qmp *q, struct qmp_pending *p)
{
        for (int i = 0; i < q->n_pending; i++)
                if (q->pending[i] == p) {
                        memmove(&q->pending[i], &q->pending[i + 1],
                                (size_t)(q->n_pending - i - 1) * sizeof(*q->pending));
                        q->n_pending--;
                        return;
                }
}

/* Complete a pending command: sync ones keep the result for qmp_call,
 * async ones are handed to their callback and freed. */
static void pending_complete(struct qmp *q, struct qmp_pending *p, struct json_object *ret,
                             struct lv_error *e)
{
        pending_remove(q, p);
        if (p->sync) {
                p->done = true;
                p->ret = ret ? json_object_get(ret) : NULL;
                p->err = e;
                return;
        }
        if (p->fn)
                p->fn(q, ret, e, p->userdata);
        lv_error_free(e);
        free(p);
}

void qmp_close(struct qmp *q)
{
        if (!q || q->closed)
                return;
        q->closed = true;
        if (q->fd >= 0) {
                close(q->fd);
                q->fd = -1;
        }
        while (q->n_pending > 0) {
                struct qmp_pending *p = q->pending[0];
                struct lv_error *e = NULL;
                lv_error_setf(&e, ECONNRESET, "QMP command '%s' on %s: the connection was closed",
                              p->command, q->what);
                pending_complete(q, p, NULL, e);
        }
}

bool qmp_is_closed(const struct qmp *q)
{
        return q->closed;
}

void qmp_free(struct qmp *q)
{
        if (!q)
                return;
        qmp_close(q);
        free(q->pending);
        free(q->in);
        free(q->what);
        free(q);
}

void qmp_set_event_handler(struct qmp *q, qmp_event_fn fn, void *userdata)
{
        q->event_fn = fn;
        q->event_data = userdata;
}

int qmp_qemu_version(const struct qmp *q)
{
        return q->version;
}

int qmp_fd(const struct qmp *q)
{
        return q->fd;
}

static struct qmp_pending *pending_find(struct qmp *q, const char *id)
{
        for (int i = 0; i < q->n_pending; i++)
                if (streq(q->pending[i]->id, id))
                        return q->pending[i];
        return NULL;
}

static void handle_message(struct qmp *q, struct qmp_message *m)
{
        switch (m->kind) {
        case QMP_MSG_GREETING:
                log_debug("QMP %s: unexpected second greeting ignored", q->what);
                break;
        case QMP_MSG_EVENT:
                log_debug("QMP %s: event %s", q->what, m->event);
                if (q->event_fn)
                        q->event_fn(q, m->event, m->data, q->event_data);
                break;
        case QMP_MSG_RETURN:
        case QMP_MSG_ERROR: {
                struct qmp_pending *p = m->id ? pending_find(q, m->id) : NULL;
                if (!p) {
                        log_debug("QMP %s: reply with unknown id '%s' ignored", q->what,
                                  m->id ? m->id : "(none)");
                        break;
                }
                struct lv_error *e = NULL;
                if (m->kind == QMP_MSG_ERROR)
                        lv_error_setf(&e, LV_ERR_INTERNAL, "QMP command '%s' failed: %s (%s)",
                                      p->command, m->error_desc, m->error_class);
                pending_complete(q, p, m->kind == QMP_MSG_RETURN ? m->ret : NULL, e);
                break;
        }
        }
}

/* Take one complete line out of the input buffer. 1: *m filled; 0: need
 * more input; <0: error (the connection is unusable). */
static int next_message(struct qmp *q, struct qmp_message *m, struct lv_error **err)
{
        char *nl = q->in_len ? memchr(q->in, '\n', q->in_len) : NULL;
        if (!nl) {
                if (q->in_len > QMP_MESSAGE_MAX)
                        return lv_error_setf(err, LV_ERR_PROTOCOL,
                                             "QMP %s: message larger than %d bytes", q->what,
                                             QMP_MESSAGE_MAX);
                return 0;
        }
        size_t line = (size_t)(nl - q->in);
        struct lv_error *perr = NULL;
        int r = 0;
        /* blank lines are harmless */
        bool blank = true;
        for (size_t i = 0; i < line; i++)
                if (q->in[i] != '\r' && q->in[i] != ' ')
                        blank = false;
        if (!blank)
                r = qmp_message_parse(q->in, line, m, &perr);
        memmove(q->in, nl + 1, q->in_len - line - 1);
        q->in_len -= line + 1;
        if (r < 0) {
                r = lv_error_setf(err, LV_ERR_PROTOCOL, "QMP %s: %s", q->what, perr->message);
                lv_error_free(perr);
                return r;
        }
        if (blank)
                return next_message(q, m, err);
        return 1;
}

/* Read what is available (non-blocking). 0: read something or nothing to
 * read; -ECONNRESET at end of file. */
static int read_input(struct qmp *q, struct lv_error **err)
{
        if (q->closed)
                return lv_error_setf(err, ECONNRESET, "QMP %s: connection closed", q->what);
        for (;;) {
                if (q->in_cap - q->in_len < 65536) {
                        q->in_cap = q->in_cap ? q->in_cap * 2 : 131072;
                        q->in = xrealloc(q->in, q->in_cap);
                }
                ssize_t n = read(q->fd, q->in + q->in_len, q->in_cap - q->in_len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return lv_error_set(err, errno, "QMP %s: reading", q->what);
                }
                if (n == 0)
                        return lv_error_setf(err, ECONNRESET, "QMP %s: QEMU closed the connection",
                                             q->what);
                q->in_len += (size_t)n;
                /* stop at a complete line or at the size limit */
                if (memchr(q->in + q->in_len - (size_t)n, '\n', (size_t)n) ||
                    q->in_len > QMP_MESSAGE_MAX)
                        return 0;
        }
}

/* Handle every complete message in the buffer. */
static int process_input(struct qmp *q, struct lv_error **err)
{
        for (;;) {
                if (q->closed)
                        return 0;
                struct qmp_message m = {0};
                int r = next_message(q, &m, err);
                if (r <= 0)
                        return r;
                handle_message(q, &m);
                qmp_message_clear(&m);
        }
}

int qmp_dispatch(struct qmp *q, struct lv_error **err)
{
        int r = read_input(q, err);
        if (r >= 0)
                r = process_input(q, err);
        else if (r == -ECONNRESET)
                (void)process_input(q, NULL); /* what came before the end */
        if (r < 0)
                qmp_close(q);
        return r;
}

int qmp_timeout_ms(const struct qmp *q)
{
        if (q->n_pending == 0)
                return -1;
        uint64_t first = UINT64_MAX;
        for (int i = 0; i < q->n_pending; i++)
                if (q->pending[i]->deadline_us < first)
                        first = q->pending[i]->deadline_us;
        uint64_t now = clock_now_us();
        return first <= now ? 0 : (int)((first - now + 999) / 1000);
}

void qmp_check_timeouts(struct qmp *q)
{
        uint64_t now = clock_now_us();
        bool expired = false;
        for (int i = 0; i < q->n_pending && !expired; i++)
                if (q->pending[i]->deadline_us <= now) {
                        struct qmp_pending *p = q->pending[i];
                        struct lv_error *e = NULL;
                        lv_error_setf(&e, ETIMEDOUT, "QMP command '%s' on %s: no reply in time",
                                      p->command, q->what);
                        pending_complete(q, p, NULL, e);
                        expired = true;
                }
        /* A late reply could be taken for another command's: give up. */
        if (expired)
                qmp_close(q);
}

/* One byte of buf with fd attached (SCM_RIGHTS): QEMU takes the fd for the
 * command those bytes begin (getfd, add-fd). */
static int send_with_fd(int sock, const char *buf, uint64_t deadline, int fd)
{
        for (;;) {
                char control[CMSG_SPACE(sizeof(int))] = {0};
                struct iovec iov = {.iov_base = (void *)buf, .iov_len = 1};
                struct msghdr mh = {.msg_iov = &iov,
                                    .msg_iovlen = 1,
                                    .msg_control = control,
                                    .msg_controllen = sizeof(control)};
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
                if (sendmsg(sock, &mh, MSG_NOSIGNAL) > 0)
                        return 0;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                uint64_t now = clock_now_us();
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd pfd = {.fd = sock, .events = POLLOUT};
                (void)poll(&pfd, 1, (int)((deadline - now) / 1000) + 1);
        }
}

/* pass_fd >= 0: sent with the first byte of buf (send_with_fd). */
static int qmp_write(struct qmp *q, const char *buf, size_t len, uint64_t deadline, int pass_fd,
                     struct lv_error **err)
{
        int r = 0;
        if (pass_fd >= 0 && len > 0) {
                r = send_with_fd(q->fd, buf, deadline, pass_fd);
                buf++;
                len--;
        }
        if (r == 0)
                r = fd_write_all(q->fd, buf, len, deadline);
        if (r == -ETIMEDOUT)
                return lv_error_setf(err, ETIMEDOUT, "QMP %s: QEMU does not read its monitor",
                                     q->what);
        if (r < 0)
                return lv_error_set(err, -r, "QMP %s: writing", q->what);
        return 0;
}

static int send_command(struct qmp *q, const char *command, struct json_object *args, int pass_fd,
                        int timeout_ms, struct qmp_pending **ret, struct lv_error **err)
{
        if (q->closed) {
                if (args)
                        json_object_put(args);
                return lv_error_setf(err, ECONNRESET, "QMP command '%s' on %s: not connected",
                                     command, q->what);
        }
        if (timeout_ms <= 0)
                timeout_ms = QMP_DEFAULT_TIMEOUT_MS;
        struct qmp_pending *p = xcalloc(1, sizeof(*p));
        snprintf(p->id, sizeof(p->id), "lv-%llu", ++q->next_id);
        snprintf(p->command, sizeof(p->command), "%s", command);
        p->sent_us = clock_now_us();
        p->deadline_us = p->sent_us + (uint64_t)timeout_ms * 1000;

        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "execute", json_object_new_string(command));
        if (args)
                json_object_object_add(o, "arguments", args);
        json_object_object_add(o, "id", json_object_new_string(p->id));
        const char *text = json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        _cleanup_free_ char *line = xasprintf("%s\n", text);
        json_object_put(o);

        int r = qmp_write(q, line, strlen(line), p->deadline_us, pass_fd, err);
        if (r < 0) {
                free(p);
                qmp_close(q);
                return lv_error_prefix(err, "QMP command '%s'", command);
        }
        q->pending = xrealloc(q->pending, (size_t)(q->n_pending + 1) * sizeof(*q->pending));
        q->pending[q->n_pending++] = p;
        *ret = p;
        return 0;
}

int qmp_send(struct qmp *q, const char *command, struct json_object *args, int timeout_ms,
             qmp_reply_fn fn, void *userdata, struct lv_error **err)
{
        struct qmp_pending *p = NULL;
        int r = send_command(q, command, args, -1, timeout_ms, &p, err);
        if (r < 0)
                return r;
        p->fn = fn;
        p->userdata = userdata;
        return 0;
}

/* Wait until pred(q, data) holds, reading and dispatching meanwhile. */
static int wait_input(struct qmp *q, uint64_t deadline, struct lv_error **err)
{
        uint64_t now = clock_now_us();
        if (now >= deadline)
                return -ETIMEDOUT;
        struct pollfd pfd = {.fd = q->fd, .events = POLLIN};
        int n = poll(&pfd, 1, (int)((deadline - now + 999) / 1000));
        if (n < 0 && errno != EINTR)
                return lv_error_set(err, errno, "QMP %s: poll", q->what);
        if (n <= 0)
                return 0;
        int r = read_input(q, err);
        if (r < 0)
                return r;
        return 0;
}

int qmp_call(struct qmp *q, const char *command, struct json_object *args, int timeout_ms,
             struct json_object **ret, struct lv_error **err)
{
        return qmp_call_fd(q, command, args, -1, timeout_ms, ret, err);
}

/* Forget n synchronous commands (answered or not) and close the
 * connection. */
static void drop_replies(struct qmp *q, struct qmp_pending **p, int n)
{
        for (int i = 0; i < n; i++) {
                if (!p[i]->done)
                        pending_remove(q, p[i]);
                if (p[i]->ret)
                        json_object_put(p[i]->ret);
                lv_error_free(p[i]->err);
                free(p[i]);
                p[i] = NULL;
        }
        qmp_close(q);
}

static int read_greeting(struct qmp *q, uint64_t deadline, struct lv_error **err);

/* Wait for the replies of n synchronous commands sent back to back (each
 * with its own deadline). 0 when all came: their results stay in them;
 * otherwise the connection is closed, p[] freed, and the error returned. */
static int wait_replies(struct qmp *q, struct qmp_pending **p, int n, struct lv_error **err)
{
        int r = 0;
        for (int i = 0; i < n && r >= 0; i++) {
                while (!p[i]->done) {
                        r = process_input(q, err);
                        if (r < 0 || p[i]->done)
                                break;
                        r = wait_input(q, p[i]->deadline_us, err);
                        if (r == -ETIMEDOUT) {
                                uint64_t left = p[i]->deadline_us - p[i]->sent_us;
                                r = lv_error_setf(err, ETIMEDOUT,
                                                  "QMP command '%s' on %s: no reply within %d ms",
                                                  p[i]->command, q->what, (int)(left / 1000));
                                break;
                        }
                        if (r < 0) {
                                (void)process_input(q, NULL);
                                break;
                        }
                }
        }
        if (r >= 0)
                return 0;
        /* error while waiting: the connection cannot be trusted */
        drop_replies(q, p, n);
        return r;
}

/* One answered synchronous command: its error, or its result into *ret. */
static int take_reply(struct qmp_pending *p, struct json_object **ret, struct lv_error **err)
{
        int r = 0;
        if (p->err) {
                r = lv_error_errno(p->err);
                if (err && !*err)
                        *err = TAKE_PTR(p->err);
                lv_error_free(p->err);
                if (p->ret)
                        json_object_put(p->ret);
                r = r ? r : -EIO;
        } else if (ret) {
                *ret = p->ret;
        } else if (p->ret) {
                json_object_put(p->ret);
        }
        free(p);
        return r;
}

static int send_sync(struct qmp *q, const char *command, struct json_object *args, int fd,
                     int timeout_ms, struct qmp_pending **ret, struct lv_error **err)
{
        int r = send_command(q, command, args, fd, timeout_ms, ret, err);
        if (r == 0)
                (*ret)->sync = true;
        return r;
}

int qmp_call_fd(struct qmp *q, const char *command, struct json_object *args, int fd,
                int timeout_ms, struct json_object **ret, struct lv_error **err)
{
        struct qmp_pending *p = NULL;
        int r = send_sync(q, command, args, fd, timeout_ms, &p, err);
        if (r < 0 || (r = wait_replies(q, &p, 1, err)) < 0)
                return r;
        return take_reply(p, ret, err);
}

/* Send those of cmds[0..n) that go before or after the greeting (a
 * command NULL is not sent; after an error nothing is), noting each one's
 * pending entry. */
static int send_part(struct qmp *q, struct qmp_batch *cmds, int n, bool after, int timeout_ms,
                     struct qmp_pending **p, int *np, int r, struct lv_error **err)
{
        for (int i = 0; i < n; i++) {
                if (cmds[i].after_greeting != after)
                        continue;
                struct json_object *args = TAKE_PTR(cmds[i].args);
                cmds[i].pending = NULL;
                if (r < 0 || !cmds[i].command) {
                        if (args) /* not sent */
                                json_object_put(args);
                } else if ((r = send_sync(q, cmds[i].command, args, -1, timeout_ms, &p[*np],
                                          err)) == 0) {
                        cmds[i].pending = p[(*np)++];
                }
        }
        return r;
}

/* Send `first` (when not NULL) and cmds back to back; with
 * greeting_deadline, read the greeting meanwhile (those marked
 * after_greeting go out once it came and on_greeting ran); wait for all
 * replies. */
static int call_batch(struct qmp *q, const char *first, struct qmp_batch *cmds, int n,
                      int timeout_ms, uint64_t greeting_deadline, qmp_greeting_fn on_greeting,
                      void *data, struct lv_error **err)
{
        _cleanup_free_ struct qmp_pending **p = xcalloc((size_t)n + 1, sizeof(*p));
        int np = 0, r = 0;
        if (first && (r = send_sync(q, first, NULL, -1, timeout_ms, &p[np++], err)) < 0)
                np--;
        r = send_part(q, cmds, n, false, timeout_ms, p, &np, r, err);
        if (r == 0 && greeting_deadline) {
                r = read_greeting(q, greeting_deadline, err);
                if (r == 0 && on_greeting)
                        on_greeting(q, cmds, n, data);
        }
        r = send_part(q, cmds, n, true, timeout_ms, p, &np, r, err);
        if (r < 0) {
                drop_replies(q, p, np);
                return r;
        }
        if ((r = wait_replies(q, p, np, err)) < 0)
                return r;
        if (first)
                r = take_reply(p[0], NULL, err);
        for (int i = 0; i < n; i++) {
                if (!cmds[i].pending)
                        continue;
                int ri = take_reply(cmds[i].pending, cmds[i].want_ret ? &cmds[i].ret : NULL,
                                    r < 0 ? NULL : err);
                cmds[i].pending = NULL;
                if (r == 0)
                        r = ri;
        }
        if (r < 0)
                for (int i = 0; i < n; i++)
                        if (cmds[i].ret) {
                                json_object_put(cmds[i].ret);
                                cmds[i].ret = NULL;
                        }
        return r;
}

int qmp_call_batch(struct qmp *q, struct qmp_batch *cmds, int n, int timeout_ms,
                   struct lv_error **err)
{
        return call_batch(q, NULL, cmds, n, timeout_ms, 0, NULL, NULL, err);
}

int qmp_call_json(struct qmp *q, const char *command, const char *args_json, int timeout_ms,
                  struct json_object **ret, struct lv_error **err)
{
        struct json_object *args = NULL;
        if (args_json) {
                args = json_tokener_parse(args_json);
                if (!args || !json_object_is_type(args, json_type_object)) {
                        if (args)
                                json_object_put(args);
                        return lv_error_setf(err, EINVAL, "QMP command '%s': bad arguments %s",
                                             command, args_json);
                }
        }
        return qmp_call(q, command, args, timeout_ms, ret, err);
}

static int read_greeting(struct qmp *q, uint64_t deadline, struct lv_error **err)
{
        for (;;) {
                struct qmp_message m = {0};
                int r = next_message(q, &m, err);
                if (r < 0)
                        return r;
                if (r > 0) {
                        if (m.kind != QMP_MSG_GREETING) {
                                qmp_message_clear(&m);
                                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                                     "QMP %s: expected a greeting", q->what);
                        }
                        struct json_object *ver = NULL, *qv = NULL;
                        long long maj = 0, min = 0, mic = 0;
                        if (json_object_object_get_ex(m.ret, "version", &ver) &&
                            json_object_object_get_ex(ver, "qemu", &qv) &&
                            get_int_member(qv, "major", &maj) == 0 &&
                            get_int_member(qv, "minor", &min) == 0 &&
                            get_int_member(qv, "micro", &mic) == 0 && maj >= 0 && maj < 1000 &&
                            min >= 0 && min < 1000 && mic >= 0 && mic < 1000)
                                q->version = (int)(maj * 1000000 + min * 1000 + mic);
                        qmp_message_clear(&m);
                        return 0;
                }
                r = wait_input(q, deadline, err);
                if (r == -ETIMEDOUT)
                        return lv_error_setf(err, ETIMEDOUT, "QMP %s: no greeting from QEMU",
                                             q->what);
                if (r < 0)
                        return r;
        }
}

int qmp_open_fd_batch(int fd, const char *what, int timeout_ms, struct qmp_batch *cmds, int n,
                      qmp_greeting_fn on_greeting, void *data, struct qmp **ret,
                      struct lv_error **err)
{
        struct qmp *q = xcalloc(1, sizeof(*q));
        q->fd = fd;
        q->what = xstrdup(what);
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
                int r = lv_error_set(err, errno, "QMP %s: setting O_NONBLOCK", what);
                for (int i = 0; i < n; i++)
                        if (cmds[i].args)
                                json_object_put(TAKE_PTR(cmds[i].args));
                qmp_free(q);
                return r;
        }
        if (timeout_ms <= 0)
                timeout_ms = QMP_DEFAULT_TIMEOUT_MS;
        uint64_t deadline = clock_now_us() + (uint64_t)timeout_ms * 1000;
        /* Pipelined: qmp_capabilities and the commands go out before the
         * greeting is read (QEMU reads them once it greeted, in order; the
         * greeting comes while QEMU still initialises, the replies once
         * its main loop runs), so none waits for another's round trip. */
        int r = call_batch(q, "qmp_capabilities", cmds, n, timeout_ms, deadline, on_greeting, data,
                           err);
        if (r < 0) {
                qmp_free(q);
                return r;
        }
        *ret = q;
        return 0;
}

int qmp_open_fd(int fd, const char *what, int timeout_ms, struct qmp **ret, struct lv_error **err)
{
        return qmp_open_fd_batch(fd, what, timeout_ms, NULL, 0, NULL, NULL, ret, err);
}

int qmp_connect(const char *path, int timeout_ms, struct qmp **ret, struct lv_error **err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return lv_error_setf(err, ENAMETOOLONG, "QMP socket path '%s' is too long", path);
        strcpy(sa.sun_path, path);
        if (timeout_ms <= 0)
                timeout_ms = QMP_DEFAULT_TIMEOUT_MS;
        uint64_t deadline = clock_now_us() + (uint64_t)timeout_ms * 1000;
        unsigned delay_us = 1000;
        for (;;) {
                _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return lv_error_set(err, errno, "QMP %s: socket", path);
                if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
                        uint64_t now = clock_now_us();
                        int left = now < deadline ? (int)((deadline - now) / 1000) + 1 : 1;
                        return qmp_open_fd(TAKE_FD(fd), path, left, ret, err);
                }
                int e = errno;
                if ((e != ENOENT && e != ECONNREFUSED) || clock_now_us() + delay_us >= deadline)
                        return lv_error_set(err, e, "QMP: connecting to '%s'", path);
                /* QEMU has not created its socket yet: nothing to wait on
                 * but time (the supervisor passes a bound socket instead) */
                struct timespec ts = {0, (long)delay_us * 1000};
                nanosleep(&ts, NULL);
                if (delay_us < 50000)
                        delay_us *= 2;
        }
}
