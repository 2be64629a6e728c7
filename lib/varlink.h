/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Varlink framing and messages (https://varlink.org): each message is a
 * JSON object terminated by a NUL byte. A call is
 *   {"method": "io.litevirt.Guest.Info", "parameters": {...},
 *    "more": true, "oneway": true}
 * and a reply {"parameters": {...}, "continues": true} or
 * {"error": "io.litevirt.Guest.InvalidState", "parameters": {...}}.
 * Pure code: no I/O, so it is unit-tested and fuzzed directly. */

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

struct json_object;

/* The longest message a peer may send (without its NUL). */
#define VARLINK_MESSAGE_MAX (64 * 1024)
/* JSON nesting accepted in a message. */
#define VARLINK_DEPTH_MAX 32

/* Accumulates bytes from a stream and cuts them into messages. */
struct varlink_inbuf {
        char *data;
        size_t len;      /* bytes held */
        size_t scanned;  /* bytes already known to hold no NUL */
        size_t consumed; /* the message handed out last, dropped next time */
        size_t max;      /* longest message accepted (0: VARLINK_MESSAGE_MAX) */
        size_t cap;      /* bytes allocated: grows up to max + 1 */
};
/* The first allocation of a buffer. */
#define VARLINK_INBUF_INITIAL 4096

/* Where to read into: at most *ret_space bytes at the returned pointer
 * (never 0 unless an oversized message is pending). */
char *varlink_inbuf_space(struct varlink_inbuf *b, size_t *ret_space);
void varlink_inbuf_commit(struct varlink_inbuf *b, size_t n);
/* The next complete message: 1 with *ret and *ret_len set (NUL-terminated,
 * valid until the next call), 0 when more bytes are needed, -EMSGSIZE when
 * a message exceeds the limit (the stream cannot be resynchronised). */
int varlink_inbuf_next(struct varlink_inbuf *b, const char **ret, size_t *ret_len);
void varlink_inbuf_clear(struct varlink_inbuf *b);
/* Bytes of an unfinished message are held. */
bool varlink_inbuf_pending(const struct varlink_inbuf *b);

struct varlink_call {
        char *method;                   /* "io.litevirt.Guest.Info" */
        struct json_object *parameters; /* an object, never NULL */
        bool more;
        bool oneway;
        bool upgrade;
};

/* Parse one message (without its NUL) as a call. Malformed JSON, a
 * non-object, a missing or malformed method name, parameters that are not
 * an object, flags that are not booleans: an error naming the problem. */
int varlink_call_parse(const char *msg, size_t len, struct varlink_call *ret,
                       struct lv_error **err);
void varlink_call_clear(struct varlink_call *c);

/* Parse a reply (client side): parameters (an object, never NULL),
 * error name (NULL when none), continues. */
int varlink_reply_parse(const char *msg, size_t len, struct json_object **ret_parameters,
                        char **ret_error, bool *ret_continues, struct lv_error **err);

/* Format messages, NUL included in *ret_len. Takes a reference of nothing:
 * parameters may be NULL (an empty object is sent). */
char *varlink_reply_format(struct json_object *parameters, bool continues, size_t *ret_len);
char *varlink_error_format(const char *error, struct json_object *parameters, size_t *ret_len);
/* An error whose parameters are {"message": message}. */
char *varlink_error_format_message(const char *error, const char *message, size_t *ret_len);
char *varlink_call_format(const char *method, struct json_object *parameters, bool more,
                          bool oneway, size_t *ret_len);
