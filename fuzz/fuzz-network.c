/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the network XML parser. Whatever parses must format to XML
 * that parses again and formats the same (stable), and every refusal
 * carries a message. */
#include <stdint.h>

#include "conf/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_network_def_ struct network_def *def = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        const struct conf_xml_ops *xml = conf_xml(&err);
        if (!xml)
                abort();
        if (xml->network_parse_string((const char *)data, size, "fuzz.xml", &def, &err) < 0) {
                if (!err || !err->message || !*err->message)
                        abort();
                return 0;
        }
        _cleanup_free_ char *x1 = network_format(def);
        _cleanup_network_def_ struct network_def *again = NULL;
        _cleanup_error_ struct lv_error *err2 = NULL;
        if (xml->network_parse_string(x1, strlen(x1), "formatted.xml", &again, &err2) < 0) {
                fprintf(stderr, "formatted XML does not parse: %s\n%s", err2->message, x1);
                abort();
        }
        _cleanup_free_ char *x2 = network_format(again);
        if (strcmp(x1, x2) != 0) {
                fprintf(stderr, "format is not stable:\n%s---\n%s", x1, x2);
                abort();
        }
        return 0;
}
