/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Varlink framing and message parsing/formatting (see varlink.h). Shared by
 * the supervisor's control server and liblitevirt. */
#include "lib/varlink.h"

#include <ctype.h>
#include <json-c/json.h>

static size_t inbuf_max(const struct varlink_inbuf *b)
{
        return b->max ? b->max : VARLINK_MESSAGE_MAX;
}

static void inbuf_compact(struct varlink_inbuf *b)
{
        if (!b->consumed)
                return;
        memmove(b->data, b->data + b->consumed, b->len - b->consumed);
        b->len -= b->consumed;
        b->consumed = 0;
        b->scanned = 0;
}

char *varlink_inbuf_space(struct varlink_inbuf *b, size_t *ret_space)
{
        size_t full = inbuf_max(b) + 1; /* the message and its NUL */
        inbuf_compact(b);
        /* Grown as messages need it: a connection of small calls holds
         * a small buffer. */
        if (b->len == b->cap && b->cap < full) {
                size_t cap = b->cap ? 2 * b->cap : VARLINK_INBUF_INITIAL;
                b->cap = cap < full ? cap : full;
                b->data = xrealloc(b->data, b->cap);
        }
        *ret_space = b->cap - b->len;
        return b->data + b->len;
}

void varlink_inbuf_commit(struct varlink_inbuf *b, size_t n)
{
        b->len += n;
}

int varlink_inbuf_next(struct varlink_inbuf *b, const char **ret, size_t *ret_len)
{
        if (!b->data)
                return 0;
        inbuf_compact(b); /* drop the message handed out last time */
        char *nul = b->len > b->scanned ? memchr(b->data + b->scanned, '\0', b->len - b->scanned)
                                        : NULL;
        if (!nul) {
                b->scanned = b->len;
                return b->len > inbuf_max(b) ? -EMSGSIZE : 0;
        }
        size_t msg_len = (size_t)(nul - b->data);
        if (msg_len > inbuf_max(b))
                return -EMSGSIZE;
        *ret = b->data;
        *ret_len = msg_len;
        b->consumed = msg_len + 1;
        return 1;
}

bool varlink_inbuf_pending(const struct varlink_inbuf *b)
{
        return b->len > b->consumed;
}

void varlink_inbuf_clear(struct varlink_inbuf *b)
{
        free(b->data);
        *b = (struct varlink_inbuf){.max = b->max};
}

/* A key's text (between its quotes) as a string: decoded by json-c when
 * it holds escapes, so "a" and "\u0061" are the same key. */
static char *json_key_decode(const char *text, size_t len)
{
        if (!memchr(text, '\\', len))
                return xstrndup(text, len);
        _cleanup_free_ char *quoted = xasprintf("\"%.*s\"", (int)len, text);
        struct json_object *o = json_tokener_parse(quoted);
        char *s = xstrdup(o && json_object_is_type(o, json_type_string) ? json_object_get_string(o)
                                                                        : quoted);
        json_object_put(o);
        return s;
}

/* json-c keeps the last of duplicate keys silently, so that
 * {"method":"...Info","method":"...Destroy"} would be a Destroy: refuse
 * any object holding a key twice. The text is valid JSON of bounded depth
 * already (json-c parsed it); walk it once, keeping each open object's
 * keys in a set. */
static int json_check_duplicate_keys(const char *msg, size_t len, struct lv_error **err)
{
        struct json_object *keys[VARLINK_DEPTH_MAX + 2] = {0}; /* NULL: an array */
        bool want_key[VARLINK_DEPTH_MAX + 2] = {0};
        int depth = 0, r = 0;
        for (size_t i = 0; i < len && r == 0; i++) {
                char c = msg[i];
                if (c == '"') {
                        size_t start = ++i;
                        while (i < len && msg[i] != '"')
                                i += msg[i] == '\\' ? 2 : 1;
                        if (depth == 0 || !keys[depth - 1] || !want_key[depth - 1])
                                continue;
                        _cleanup_free_ char *key = json_key_decode(msg + start, i - start);
                        if (json_object_object_get_ex(keys[depth - 1], key, NULL))
                                r = lv_error_setf(err, EBADMSG,
                                                  "duplicate key '%.64s' in an object", key);
                        else
                                json_object_object_add(keys[depth - 1], key, NULL);
                        want_key[depth - 1] = false;
                } else if (c == '{' || c == '[') {
                        if (depth >= (int)ARRAY_SIZE(keys)) {
                                r = lv_error_setf(err, EBADMSG, "message nested too deeply");
                                break;
                        }
                        keys[depth] = c == '{' ? json_object_new_object() : NULL;
                        want_key[depth++] = true;
                } else if ((c == '}' || c == ']') && depth > 0) {
                        json_object_put(keys[--depth]);
                        keys[depth] = NULL;
                } else if (c == ',' && depth > 0) {
                        want_key[depth - 1] = true;
                }
        }
        while (depth > 0)
                json_object_put(keys[--depth]);
        return r;
}

/* Parse JSON text that must be exactly one value (whitespace around it is
 * fine) of bounded depth. */
static int json_parse_exact(const char *msg, size_t len, struct json_object **ret,
                            struct lv_error **err)
{
        if (len > INT32_MAX)
                return lv_error_setf(err, EMSGSIZE, "message too long");
        if (memchr(msg, '\0', len))
                return lv_error_setf(err, EBADMSG, "message contains a NUL byte");
        struct json_tokener *tok = json_tokener_new_ex(VARLINK_DEPTH_MAX);
        if (!tok)
                abort();
        /* Standard JSON only: json-c otherwise accepts e.g. "5e" as 5.
         * Trailing data is checked below, with its own message. */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
        struct json_object *o = json_tokener_parse_ex(tok, msg, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (jerr == json_tokener_continue || (!o && jerr == json_tokener_success)) {
                json_object_put(o);
                return lv_error_setf(err, EBADMSG, "message is not valid JSON: incomplete");
        }
        if (jerr != json_tokener_success) {
                json_object_put(o);
                return lv_error_setf(err, EBADMSG, "message is not valid JSON at offset %zu: %s",
                                     end, json_tokener_error_desc(jerr));
        }
        while (end < len && isspace((unsigned char)msg[end]))
                end++;
        if (end != len) {
                json_object_put(o);
                return lv_error_setf(err, EBADMSG,
                                     "message has trailing data after the JSON object at "
                                     "offset %zu",
                                     end);
        }
        int r = json_check_duplicate_keys(msg, len, err);
        if (r < 0) {
                json_object_put(o);
                return r;
        }
        *ret = o;
        return 0;
}

static bool method_name_valid(const char *s)
{
        /* interface.Method: dot-separated words of [A-Za-z0-9-], the last
         * one (the method) starting with an upper-case letter. */
        size_t n = strlen(s);
        if (n == 0 || n > 255)
                return false;
        const char *dot = strrchr(s, '.');
        if (!dot || dot == s || !isupper((unsigned char)dot[1]))
                return false;
        bool word_start = true;
        for (const char *p = s; *p; p++) {
                if (*p == '.') {
                        if (word_start)
                                return false;
                        word_start = true;
                        continue;
                }
                if (!isalnum((unsigned char)*p) && *p != '-')
                        return false;
                if (word_start && !isalpha((unsigned char)*p))
                        return false;
                word_start = false;
        }
        return !word_start;
}

static int get_bool(struct json_object *o, const char *key, bool *ret, struct lv_error **err)
{
        struct json_object *v;
        *ret = false;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return lv_error_setf(err, EBADMSG, "'%s' must be a boolean", key);
        *ret = json_object_get_boolean(v);
        return 0;
}

static int get_parameters(struct json_object *o, struct json_object **ret, struct lv_error **err)
{
        struct json_object *v;
        if (!json_object_object_get_ex(o, "parameters", &v) ||
            json_object_is_type(v, json_type_null)) {
                *ret = json_object_new_object();
                return 0;
        }
        if (!json_object_is_type(v, json_type_object))
                return lv_error_setf(err, EBADMSG, "'parameters' must be an object");
        *ret = json_object_get(v);
        return 0;
}

int varlink_call_parse(const char *msg, size_t len, struct varlink_call *ret, struct lv_error **err)
{
        struct json_object *o = NULL;
        int r = json_parse_exact(msg, len, &o, err);
        if (r < 0)
                return r;
        struct varlink_call c = {0};
        struct json_object *m;
        if (!json_object_is_type(o, json_type_object)) {
                r = lv_error_setf(err, EBADMSG, "message is not a JSON object");
                goto out;
        }
        if (!json_object_object_get_ex(o, "method", &m) ||
            !json_object_is_type(m, json_type_string)) {
                r = lv_error_setf(err, EBADMSG, "message has no 'method' string");
                goto out;
        }
        if (!method_name_valid(json_object_get_string(m))) {
                r = lv_error_setf(err, EBADMSG, "malformed method name");
                goto out;
        }
        if ((r = get_bool(o, "more", &c.more, err)) < 0 ||
            (r = get_bool(o, "oneway", &c.oneway, err)) < 0 ||
            (r = get_bool(o, "upgrade", &c.upgrade, err)) < 0 ||
            (r = get_parameters(o, &c.parameters, err)) < 0)
                goto out;
        c.method = xstrdup(json_object_get_string(m));
        *ret = c;
        c = (struct varlink_call){0};
        r = 0;
out:
        varlink_call_clear(&c);
        json_object_put(o);
        return r;
}

void varlink_call_clear(struct varlink_call *c)
{
        free(c->method);
        json_object_put(c->parameters);
        *c = (struct varlink_call){0};
}

int varlink_reply_parse(const char *msg, size_t len, struct json_object **ret_parameters,
                        char **ret_error, bool *ret_continues, struct lv_error **err)
{
        struct json_object *o = NULL, *params = NULL, *e;
        bool continues = false;
        int r = json_parse_exact(msg, len, &o, err);
        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object)) {
                r = lv_error_setf(err, EBADMSG, "reply is not a JSON object");
                goto out;
        }
        if ((r = get_bool(o, "continues", &continues, err)) < 0 ||
            (r = get_parameters(o, &params, err)) < 0)
                goto out;
        char *error = NULL;
        if (json_object_object_get_ex(o, "error", &e) && !json_object_is_type(e, json_type_null)) {
                if (!json_object_is_type(e, json_type_string)) {
                        r = lv_error_setf(err, EBADMSG, "'error' must be a string");
                        goto out;
                }
                error = xstrdup(json_object_get_string(e));
        }
        *ret_parameters = TAKE_PTR(params);
        *ret_error = error;
        *ret_continues = continues;
        r = 0;
out:
        json_object_put(params);
        json_object_put(o);
        return r;
}

static char *message_finish(struct json_object *o, size_t *ret_len)
{
        size_t n;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
        char *m = xmalloc(n + 1);
        memcpy(m, s, n + 1); /* the NUL terminates the message */
        *ret_len = n + 1;
        json_object_put(o);
        return m;
}

static struct json_object *params_or_empty(struct json_object *p)
{
        return p ? json_object_get(p) : json_object_new_object();
}

char *varlink_reply_format(struct json_object *parameters, bool continues, size_t *ret_len)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "parameters", params_or_empty(parameters));
        if (continues)
                json_object_object_add(o, "continues", json_object_new_boolean(true));
        return message_finish(o, ret_len);
}

char *varlink_error_format(const char *error, struct json_object *parameters, size_t *ret_len)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "error", json_object_new_string(error));
        json_object_object_add(o, "parameters", params_or_empty(parameters));
        return message_finish(o, ret_len);
}

char *varlink_error_format_message(const char *error, const char *message, size_t *ret_len)
{
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "message", json_object_new_string(message ? message : ""));
        char *m = varlink_error_format(error, p, ret_len);
        json_object_put(p);
        return m;
}

char *varlink_call_format(const char *method, struct json_object *parameters, bool more,
                          bool oneway, size_t *ret_len)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "method", json_object_new_string(method));
        if (parameters)
                json_object_object_add(o, "parameters", json_object_get(parameters));
        if (more)
                json_object_object_add(o, "more", json_object_new_boolean(true));
        if (oneway)
                json_object_object_add(o, "oneway", json_object_new_boolean(true));
        return message_finish(o, ret_len);
}
