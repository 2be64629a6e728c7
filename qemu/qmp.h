/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A QMP client (QEMU Machine Protocol, JSON over a unix socket).
 *
 * The connection is ready only once QEMU has answered qmp_capabilities
 * (not at the greeting). Commands carry ids ("lv-N"); every command has a
 * deadline. Replies that are malformed, larger than QMP_MESSAGE_MAX, or
 * never come are errors (the caller decides whether the connection is
 * still usable: after a timeout it is closed, since a late reply could
 * otherwise be taken for the answer to a later command).
 *
 * Two ways to use it, mixable on one connection:
 *  - synchronous: qmp_call() waits (poll) for the reply, handing events
 *    and replies to asynchronous commands that arrive meanwhile to their
 *    callbacks. For set-up and for tools.
 *  - event-loop driven: qmp_fd() is watched for input, qmp_dispatch() is
 *    called when it is readable, qmp_send() sends a command whose reply
 *    goes to a callback, qmp_timeout_ms()/qmp_check_timeouts() run the
 *    deadlines.
 * Callbacks may send further commands but must not free the connection;
 * they may call qmp_close(), after which the rest is dropped. */

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define QMP_MESSAGE_MAX        (1024 * 1024)
#define QMP_JSON_DEPTH_MAX     64
#define QMP_DEFAULT_TIMEOUT_MS 10000

struct json_object;
struct qmp;

/* ---- the message parser (pure; the fuzz target) ---- */

enum qmp_message_kind { QMP_MSG_GREETING, QMP_MSG_RETURN, QMP_MSG_ERROR, QMP_MSG_EVENT };

struct qmp_message {
        enum qmp_message_kind kind;
        struct json_object *root; /* owned; the others point into it */
        const char *id;           /* RETURN/ERROR: the id string, or NULL */
        struct json_object *ret;  /* RETURN: the "return" value */
        const char *error_class;  /* ERROR */
        const char *error_desc;   /* ERROR */
        const char *event;        /* EVENT: its name */
        struct json_object *data; /* EVENT: "data" (may be NULL) */
        long long ts_seconds;     /* EVENT timestamp, -1 when absent */
        long long ts_microseconds;
};

/* Parse one message (one line, without its newline). Anything that is not
 * one JSON object of a known QMP shape, nests deeper than
 * QMP_JSON_DEPTH_MAX or is longer than QMP_MESSAGE_MAX is refused with a
 * message saying what is wrong. */
int qmp_message_parse(const char *buf, size_t len, struct qmp_message *ret, struct lv_error **err);
void qmp_message_clear(struct qmp_message *m);

/* ---- the connection ---- */

typedef void (*qmp_event_fn)(struct qmp *q, const char *event, struct json_object *data,
                             void *userdata);
/* ret is the "return" value (borrowed) on success; e is set on failure
 * (QEMU's error, timeout, or the connection closing). */
typedef void (*qmp_reply_fn)(struct qmp *q, struct json_object *ret, const struct lv_error *e,
                             void *userdata);

/* Connect to QEMU's monitor socket, retrying while it does not exist or
 * refuses (QEMU still starting) until timeout_ms, read the greeting and
 * negotiate capabilities. */
int qmp_connect(const char *path, int timeout_ms, struct qmp **ret, struct lv_error **err);
/* The same on an already connected socket (takes the fd). */
int qmp_open_fd(int fd, const char *what, int timeout_ms, struct qmp **ret, struct lv_error **err);

/* Commands sent back to back, each without waiting for the one before:
 * one round trip for all. args (may be NULL) is consumed; with want_ret,
 * ret gets a reference to the "return" value (to be put by the caller). */
struct qmp_batch {
        const char *command; /* NULL: not sent */
        struct json_object *args;
        bool want_ret;
        struct json_object *ret;
        /* qmp_open_fd_batch: sent once the greeting came (and on_greeting
         * ran, which may set command to NULL) */
        bool after_greeting;
        void *pending; /* internal */
};
typedef void (*qmp_greeting_fn)(struct qmp *q, struct qmp_batch *cmds, int n, void *data);
/* qmp_open_fd that sends cmds right behind qmp_capabilities, before the
 * greeting is read (those marked after_greeting once it came and
 * on_greeting, when not NULL, ran), and waits for all their replies
 * (timeout_ms for the whole); the first error fails the open. QEMU greets
 * while it still initialises and answers once its main loop runs. */
int qmp_open_fd_batch(int fd, const char *what, int timeout_ms, struct qmp_batch *cmds, int n,
                      qmp_greeting_fn on_greeting, void *data, struct qmp **ret,
                      struct lv_error **err);
/* Synchronous commands sent back to back; the first error is returned
 * (after all replies came). */
int qmp_call_batch(struct qmp *q, struct qmp_batch *cmds, int n, int timeout_ms,
                   struct lv_error **err);
void qmp_free(struct qmp *q);
static inline void qmp_freep(struct qmp **q)
{
        qmp_free(*q);
}
#define _cleanup_qmp_ _cleanup_(qmp_freep)

void qmp_set_event_handler(struct qmp *q, qmp_event_fn fn, void *userdata);
/* QEMU's version from the greeting, e.g. 7002022 for 7.2.22. */
int qmp_qemu_version(const struct qmp *q);

/* Synchronous command. args (may be NULL) is consumed. *ret (when not
 * NULL) gets a reference to the "return" value, to be put by the caller. */
int qmp_call(struct qmp *q, const char *command, struct json_object *args, int timeout_ms,
             struct json_object **ret, struct lv_error **err);
/* The same, passing fd (SCM_RIGHTS) with the command: getfd, add-fd. */
int qmp_call_fd(struct qmp *q, const char *command, struct json_object *args, int fd,
                int timeout_ms, struct json_object **ret, struct lv_error **err);
/* Like qmp_call with the arguments as a JSON text ("{\"device\":\"x\"}"). */
int qmp_call_json(struct qmp *q, const char *command, const char *args_json, int timeout_ms,
                  struct json_object **ret, struct lv_error **err);

/* Asynchronous command: the reply (or the timeout) goes to fn. */
int qmp_send(struct qmp *q, const char *command, struct json_object *args, int timeout_ms,
             qmp_reply_fn fn, void *userdata, struct lv_error **err);

/* For an event loop: the socket, what to do when it is readable, and the
 * deadlines. qmp_dispatch returns -ECONNRESET (with *err) once QEMU closed
 * the connection: pending commands have then been failed. */
int qmp_fd(const struct qmp *q);
int qmp_dispatch(struct qmp *q, struct lv_error **err);
int qmp_timeout_ms(const struct qmp *q); /* until the next deadline, -1: none */
void qmp_check_timeouts(struct qmp *q);
/* Fail every pending command and close the socket (the object stays valid
 * until qmp_free). */
void qmp_close(struct qmp *q);
bool qmp_is_closed(const struct qmp *q);
