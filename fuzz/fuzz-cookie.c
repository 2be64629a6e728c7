/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the migration cookie parser (input from another host).
 * Beyond "no crash, no leak": whatever parses must format, and the
 * formatted text must parse again to the same text (a fixed point). */
#include <stddef.h>
#include <stdint.h>

#include "conf/cookie.h"
#include "conf/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct conf_xml_ops *ops = conf_xml(NULL);
        _cleanup_cookie_ struct cookie *c = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        if (ops->cookie_parse_string((const char *)data, size, NULL, NULL, COOKIE_FEATURES_ALL, &c,
                                     &err) < 0) {
                if (c || !err || !err->message)
                        abort();
                return 0;
        }
        c->mandatory = c->peer_mandatory;
        _cleanup_free_ char *once = NULL;
        if (cookie_format(c, &once, &err) < 0)
                return 0; /* escaping can grow it past the limit */
        _cleanup_cookie_ struct cookie *c2 = NULL;
        if (ops->cookie_parse_string(once, strlen(once), c->name, c->uuid, COOKIE_FEATURES_ALL, &c2,
                                     &err) < 0)
                abort();
        c2->mandatory = c2->peer_mandatory;
        _cleanup_free_ char *twice = NULL;
        if (cookie_format(c2, &twice, &err) < 0 || strcmp(once, twice) != 0)
                abort();
        return 0;
}
