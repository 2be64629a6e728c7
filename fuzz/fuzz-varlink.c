/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the control protocol (varlink framing and messages) as a
 * supervisor receives it. The input is cut into reads of varying sizes
 * (taken from the input itself) and fed to a bounded input buffer; every
 * message that comes out is parsed as a call and as a reply. A refused
 * message carries a message; an accepted call has a well-formed method and
 * an object of parameters, and survives format + parse unchanged. The
 * buffer never holds more than its limit. */
#include <json-c/json.h>
#include <stdint.h>

#include "lib/varlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *msg, size_t len)
{
        struct varlink_call c = {0};
        struct lv_error *err = NULL;
        if (varlink_call_parse(msg, len, &c, &err) < 0) {
                if (!err || !err->message || !*err->message || c.method)
                        abort();
                lv_error_free(err);
        } else {
                if (err || !c.method || !strchr(c.method, '.') ||
                    !json_object_is_type(c.parameters, json_type_object))
                        abort();
                size_t n;
                char *again = varlink_call_format(c.method, c.parameters, c.more, c.oneway, &n);
                struct varlink_call d = {0};
                if (n == 0 || again[n - 1] != '\0' ||
                    varlink_call_parse(again, n - 1, &d, NULL) < 0 || !streq(c.method, d.method) ||
                    c.more != d.more || c.oneway != d.oneway ||
                    !json_object_equal(c.parameters, d.parameters))
                        abort();
                varlink_call_clear(&d);
                free(again);
                varlink_call_clear(&c);
        }
        struct json_object *params = NULL;
        char *error = NULL;
        bool continues;
        err = NULL;
        if (varlink_reply_parse(msg, len, &params, &error, &continues, &err) < 0) {
                if (!err || params || error)
                        abort();
                lv_error_free(err);
        } else {
                if (!params)
                        abort();
                json_object_put(params);
                free(error);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct varlink_inbuf b = {.max = 4096};
        size_t off = 0;
        unsigned chunk = size ? (data[0] % 64) + 1 : 1;
        while (off < size) {
                size_t space;
                char *p = varlink_inbuf_space(&b, &space);
                if (space == 0)
                        break; /* an oversized message is pending: the connection ends */
                size_t n = size - off < chunk ? size - off : chunk;
                if (n > space)
                        n = space;
                memcpy(p, data + off, n);
                varlink_inbuf_commit(&b, n);
                off += n;
                chunk = (unsigned)(data[off - 1] % 97) + 1;
                for (;;) {
                        const char *msg;
                        size_t len;
                        int r = varlink_inbuf_next(&b, &msg, &len);
                        if (r == -EMSGSIZE) {
                                varlink_inbuf_clear(&b);
                                return 0;
                        }
                        if (r == 0)
                                break;
                        if (r != 1 || len > 4096 || msg[len] != '\0')
                                abort();
                        check_message(msg, len);
                }
                if (b.len > 4097)
                        abort();
        }
        varlink_inbuf_clear(&b);
        return 0;
}
