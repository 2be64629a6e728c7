/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: domain XML → xl.cfg (xen/xlcfg.c). For any definition the
 * XML parser accepts, the conversion either refuses with a message or
 * writes an xl.cfg that litevirt's own import reads back to a model giving
 * the same xl.cfg (comment lines aside). */
#include <stdint.h>

#include "conf/xml.h"
#include "xen/xlcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *strip_comments(const char *cfg)
{
        size_t n = strlen(cfg);
        char *out = xmalloc(n + 1), *q = out;
        for (const char *p = cfg; *p;) {
                const char *nl = strchrnul(p, '\n');
                size_t l = (size_t)(nl - p) + (*nl ? 1 : 0);
                if (*p != '#') {
                        memcpy(q, p, l);
                        q += l;
                }
                p += l;
        }
        *q = '\0';
        return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_domain_def_ struct domain_def *def = NULL, *again = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        const struct conf_xml_ops *xml = conf_xml(&err);
        if (!xml)
                abort();
        if (xml->domain_parse_string((const char *)data, size, "fuzz.xml", &def, &err) < 0)
                return 0;
        _cleanup_free_ char *c1 = NULL, *c2 = NULL;
        if (xen_xlcfg_format(def, &c1, &err) < 0) {
                if (!err || !err->message || !*err->message || c1)
                        abort();
                return 0;
        }
        if (xen_xlcfg_parse(c1, strlen(c1), "written.cfg", &again, &err) < 0) {
                fprintf(stderr, "written config does not import: %s\n%s", err->message, c1);
                abort();
        }
        if (xen_xlcfg_format(again, &c2, &err) < 0) {
                fprintf(stderr, "imported config does not write back: %s\n%s", err->message, c1);
                abort();
        }
        _cleanup_free_ char *s1 = strip_comments(c1), *s2 = strip_comments(c2);
        if (strcmp(s1, s2) != 0) {
                fprintf(stderr, "xl.cfg changed on import:\n%s---\n%s", c1, c2);
                abort();
        }
        return 0;
}
