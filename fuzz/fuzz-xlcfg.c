/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: xl.cfg import (xen/xlcfg_syntax.c, xen/xlcfg_parse.c).
 * Every refusal carries a message; whatever is imported and valid writes
 * back to an xl.cfg that imports to a config giving the same text again,
 * and its domain XML parses to the same model. */
#include <stdint.h>

#include "conf/xml.h"
#include "xen/xlcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_domain_def_ struct domain_def *def = NULL, *again = NULL, *from_xml = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        if (xen_xlcfg_parse((const char *)data, size, "fuzz.cfg", &def, &err) < 0) {
                if (!err || !err->message || !*err->message || def)
                        abort();
                return 0;
        }
        if (domain_validate(def, &err) < 0)
                return 0;
        _cleanup_free_ char *c1 = NULL, *c2 = NULL;
        if (xen_xlcfg_format(def, &c1, &err) < 0) {
                fprintf(stderr, "imported config does not write back: %s\n", err->message);
                abort();
        }
        if (xen_xlcfg_parse(c1, strlen(c1), "written.cfg", &again, &err) < 0) {
                fprintf(stderr, "written config does not import: %s\n%s", err->message, c1);
                abort();
        }
        if (xen_xlcfg_format(again, &c2, &err) < 0 || strcmp(c1, c2) != 0) {
                fprintf(stderr, "xl.cfg round trip is not stable:\n%s---\n%s", c1, c2 ? c2 : "");
                abort();
        }
        const struct conf_xml_ops *xml = conf_xml(&err);
        if (!xml)
                abort();
        _cleanup_free_ char *x = domain_format(def);
        if (xml->domain_parse_string(x, strlen(x), "imported.xml", &from_xml, &err) < 0) {
                fprintf(stderr, "imported domain XML does not parse: %s\n%s", err->message, x);
                abort();
        }
        if (!domain_def_equal(def, from_xml)) {
                fprintf(stderr, "imported domain XML parses to another model:\n%s", x);
                abort();
        }
        return 0;
}
