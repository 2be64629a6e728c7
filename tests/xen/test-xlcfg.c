/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Golden data for the xl.cfg conversion (xen/xlcfg*.c).
 *   tests/data/xen/NAME.xml          domain XML → NAME.cfg (xen_xlcfg_format);
 *                                    NAME.cfg → domain → the same NAME.cfg;
 *                                    NAME.cfg → domain → NAME.out.xml ("and
 *                                    back"), which parses to the same model
 *                                    and gives NAME.cfg again.
 *   tests/data/xen/import/NAME.cfg   an existing xl.cfg → NAME.out.xml, and
 *                                    written again → NAME.out.cfg
 *   tests/data/xen/invalid/NAME.xml  refused by the formatter: message = NAME.err
 *   tests/data/xen/invalid/NAME.cfg  refused by the parser: message = NAME.err
 * plus hostile inputs built here (size, NUL, nesting, list length).
 * LV_TEST_REGENERATE=1 rewrites the expected files. */
#include <dirent.h>

#include "conf/xml.h"
#include "util/fileio.h"
#include "tests/lib/golden.h"
#include "util/strbuf.h"
#include "xen/xlcfg.h"

static int failures, checks;
static bool regenerate;

#define FAIL(...)                                                                                  \
        do {                                                                                       \
                failures++;                                                                        \
                printf("not ok - ");                                                               \
                printf(__VA_ARGS__);                                                               \
                printf("\n");                                                                      \
        } while (0)

/* Compare with a golden file; regenerate it when asked. */
static bool golden(const char *label, const char *path, const char *got)
{
        _cleanup_free_ char *expected = golden_read(path);
        if (streq(expected, got))
                return true;
        if (regenerate) {
                golden_write(path, got);
                return true;
        }
        FAIL("%s: differs from %s; got:\n%s", label, path, got);
        return false;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir ending with suffix (not ending with exclude). */
static char **list_files(const char *dir, const char *suffix, const char *exclude)
{
        char **v = xcalloc(1, sizeof(char *));
        DIR *d = opendir(dir);
        size_t n = 0;
        if (!d)
                return v;
        struct dirent *e;
        size_t ls = strlen(suffix);
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l <= ls || strcmp(e->d_name + l - ls, suffix) != 0)
                        continue;
                if (exclude && l > strlen(exclude) &&
                    strcmp(e->d_name + l - strlen(exclude), exclude) == 0)
                        continue;
                strv_push(&v, xstrdup(e->d_name));
                n++;
        }
        closedir(d);
        qsort(v, n, sizeof(char *), name_cmp);
        return v;
}

static int parse_xml_string(const char *xml, const char *label, struct domain_def **ret,
                            struct lv_error **err)
{
        const struct conf_xml_ops *ops = conf_xml(err);
        if (!ops)
                return -ENOENT;
        return ops->domain_parse_string(xml, strlen(xml), label, ret, err);
}

/* Equal but for comment lines ("# title: ..."), which xl.cfg cannot
 * carry back. */
static char *strip_comments(const char *cfg)
{
        struct strbuf sb = {0};
        strbuf_append(&sb, "");
        for (const char *p = cfg; *p;) {
                const char *nl = strchrnul(p, '\n');
                if (*p != '#')
                        strbuf_append_len(&sb, p, (size_t)(nl - p) + (*nl ? 1 : 0));
                p = *nl ? nl + 1 : nl;
        }
        return strbuf_steal(&sb);
}

static bool cfg_equal(const char *a, const char *b)
{
        _cleanup_free_ char *x = strip_comments(a), *y = strip_comments(b);
        return streq(x, y);
}

static void test_pair(const char *dir, const char *name)
{
        _cleanup_free_ char *base = xstrndup(name, strlen(name) - 4);
        _cleanup_free_ char *xml_path = xasprintf("%s/%s", dir, name);
        _cleanup_free_ char *cfg_path = xasprintf("%s/%s.cfg", dir, base);
        _cleanup_free_ char *out_path = xasprintf("%s/%s.out.xml", dir, base);
        _cleanup_free_ char *xml = golden_read(xml_path);
        _cleanup_domain_def_ struct domain_def *def = NULL, *def2 = NULL, *def3 = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        _cleanup_free_ char *cfg = NULL, *cfg2 = NULL, *cfg3 = NULL, *out = NULL;

        checks++;
        if (parse_xml_string(xml, name, &def, &err) < 0) {
                FAIL("%s: %s", name, err->message);
                return;
        }
        if (xen_xlcfg_format(def, &cfg, &err) < 0) {
                FAIL("%s: to xl.cfg: %s", name, err->message);
                return;
        }
        if (!golden(name, cfg_path, cfg))
                return;

        /* and back: the cfg parses to a model that gives the same cfg */
        if (xen_xlcfg_parse(cfg, strlen(cfg), cfg_path, &def2, &err) < 0) {
                FAIL("%s.cfg: does not parse back: %s", base, err->message);
                return;
        }
        if (xen_xlcfg_format(def2, &cfg2, &err) < 0) {
                FAIL("%s.cfg: parsed model does not format: %s", base, err->message);
                return;
        }
        if (!cfg_equal(cfg, cfg2)) {
                FAIL("%s.cfg: cfg → domain → cfg differs:\n%s", base, cfg2);
                return;
        }
        if (domain_validate(def2, &err) < 0) {
                FAIL("%s.cfg: imported definition is not valid: %s", base, err->message);
                return;
        }
        out = domain_format(def2);
        if (!golden(name, out_path, out))
                return;
        if (parse_xml_string(out, out_path, &def3, &err) < 0) {
                FAIL("%s.out.xml: does not parse: %s", base, err->message);
                return;
        }
        if (!domain_def_equal(def2, def3)) {
                _cleanup_free_ char *again = domain_format(def3);
                FAIL("%s.out.xml: parses to another model than the one formatted%s%s", base,
                     streq(again, out) ? "" : "; it formats as:\n", streq(again, out) ? "" : again);
                return;
        }
        if (xen_xlcfg_format(def3, &cfg3, &err) < 0 || !cfg_equal(cfg3, cfg)) {
                FAIL("%s.out.xml: does not give %s.cfg again: %s", base, base,
                     err ? err->message : cfg3);
                return;
        }
        printf("ok - %s\n", name);
}

/* An existing xl.cfg imported: NAME.cfg → domain → NAME.out.xml, and
 * written again → NAME.out.cfg (which imports to itself). */
static void test_import(const char *dir, const char *name)
{
        _cleanup_free_ char *base = xstrndup(name, strlen(name) - 4);
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
        _cleanup_free_ char *xml_path = xasprintf("%s/%s.out.xml", dir, base);
        _cleanup_free_ char *cfg_path = xasprintf("%s/%s.out.cfg", dir, base);
        _cleanup_free_ char *text = golden_read(path);
        _cleanup_domain_def_ struct domain_def *def = NULL, *again = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        _cleanup_free_ char *xml = NULL, *cfg = NULL, *cfg2 = NULL;
        checks++;
        if (xen_xlcfg_parse(text, strlen(text), name, &def, &err) < 0 ||
            domain_validate(def, &err) < 0) {
                FAIL("import/%s: %s", name, err->message);
                return;
        }
        xml = domain_format(def);
        if (!golden(name, xml_path, xml))
                return;
        if (xen_xlcfg_format(def, &cfg, &err) < 0) {
                FAIL("import/%s: does not write back: %s", name, err->message);
                return;
        }
        if (!golden(name, cfg_path, cfg))
                return;
        if (xen_xlcfg_parse(cfg, strlen(cfg), cfg_path, &again, &err) < 0 ||
            xen_xlcfg_format(again, &cfg2, &err) < 0 || !streq(cfg, cfg2)) {
                FAIL("import/%s.out.cfg: does not import to itself: %s", base,
                     err ? err->message : cfg2);
                return;
        }
        printf("ok - import/%s\n", name);
}

static void expect_error(const char *label, const char *err_path, struct lv_error *err)
{
        _cleanup_free_ char *got = xasprintf("%s\n", err->message);
        if (golden(label, err_path, got))
                printf("ok - %s refused\n", label);
}

static void test_invalid_xml(const char *dir, const char *name)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
        _cleanup_free_ char *err_path = xasprintf("%s/%.*s.err", dir, (int)strlen(name) - 4, name);
        _cleanup_free_ char *xml = golden_read(path);
        _cleanup_domain_def_ struct domain_def *def = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        _cleanup_free_ char *cfg = NULL;
        checks++;
        if (parse_xml_string(xml, name, &def, &err) < 0) {
                FAIL("invalid/%s: the XML itself is refused (test the formatter, not the parser): "
                     "%s",
                     name, err->message);
                return;
        }
        if (xen_xlcfg_format(def, &cfg, &err) == 0) {
                FAIL("invalid/%s: accepted:\n%s", name, cfg);
                return;
        }
        if (cfg)
                FAIL("invalid/%s: output left behind on failure", name);
        expect_error(name, err_path, err);
}

static void test_invalid_cfg(const char *dir, const char *name)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
        _cleanup_free_ char *err_path = xasprintf("%s/%.*s.err", dir, (int)strlen(name) - 4, name);
        _cleanup_free_ char *text = golden_read(path);
        _cleanup_domain_def_ struct domain_def *def = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        checks++;
        if (xen_xlcfg_parse(text, strlen(text), name, &def, &err) == 0) {
                FAIL("invalid/%s: accepted", name);
                return;
        }
        if (def)
                FAIL("invalid/%s: a model left behind on failure", name);
        expect_error(name, err_path, err);
}

static void expect_refused(const char *label, const char *text, size_t len, const char *needle)
{
        _cleanup_domain_def_ struct domain_def *def = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        checks++;
        if (xen_xlcfg_parse(text, len, "hostile.cfg", &def, &err) == 0) {
                FAIL("%s: accepted", label);
                return;
        }
        if (!strstr(err->message, needle)) {
                FAIL("%s: message '%s' lacks '%s'", label, err->message, needle);
                return;
        }
        printf("ok - %s refused (%s)\n", label, err->message);
}

static void test_hostile(void)
{
        /* larger than the limit: refused before anything is parsed */
        size_t big = XLCFG_MAX_BYTES + 1;
        _cleanup_free_ char *huge = xmalloc(big + 1);
        memset(huge, '#', big);
        huge[big] = '\0';
        expect_refused("oversized", huge, big, "larger than 262144 bytes");

        const char nul[] = "name = \"a\0b\"\nmemory = 128\n";
        expect_refused("NUL byte", nul, sizeof(nul) - 1, "NUL byte");

        _cleanup_strbuf_ struct strbuf deep = {0};
        strbuf_append(&deep, "name = \"d\"\nmemory = 128\nkernel = \"/k\"\ndisk = ");
        for (int i = 0; i < 100; i++)
                strbuf_append(&deep, "[");
        expect_refused("deep nesting", deep.buf, deep.len,
                       "hostile.cfg:4: 'disk': lists nested deeper than 4");

        _cleanup_strbuf_ struct strbuf longlist = {0};
        strbuf_append(&longlist, "vif = [");
        for (int i = 0; i < XLCFG_MAX_LIST_ITEMS + 1; i++)
                strbuf_append(&longlist, "'x',");
        strbuf_append(&longlist, "]\n");
        expect_refused("long list", longlist.buf, longlist.len, "list longer than 256 items");

        _cleanup_strbuf_ struct strbuf many = {0};
        for (int i = 0; i < XLCFG_MAX_SETTINGS + 1; i++)
                strbuf_printf(&many, "k%d = 1\n", i);
        expect_refused("many settings", many.buf, many.len, "more than 512 settings");

        expect_refused("truncated", "name = \"abc", 11,
                       "hostile.cfg:1: 'name': unterminated string");
}

int main(void)
{
        const char *src = getenv("LV_SOURCE_ROOT");
        regenerate = golden_regenerate();
        if (!src) {
                fprintf(stderr, "LV_SOURCE_ROOT is not set\n");
                return 1;
        }
        _cleanup_free_ char *dir = xasprintf("%s/tests/data/xen", src);
        _cleanup_free_ char *invalid = xasprintf("%s/tests/data/xen/invalid", src);
        _cleanup_strv_free_ char **pairs = list_files(dir, ".xml", ".out.xml");
        for (char **n = pairs; *n; n++)
                test_pair(dir, *n);
        _cleanup_free_ char *import = xasprintf("%s/tests/data/xen/import", src);
        _cleanup_strv_free_ char **imports = list_files(import, ".cfg", ".out.cfg");
        for (char **n = imports; *n; n++)
                test_import(import, *n);
        _cleanup_strv_free_ char **bad_xml = list_files(invalid, ".xml", NULL);
        for (char **n = bad_xml; *n; n++)
                test_invalid_xml(invalid, *n);
        _cleanup_strv_free_ char **bad_cfg = list_files(invalid, ".cfg", NULL);
        for (char **n = bad_cfg; *n; n++)
                test_invalid_cfg(invalid, *n);
        test_hostile();
        printf("# %d checks, %d failed\n", checks, failures);
        return failures ? 1 : 0;
}
