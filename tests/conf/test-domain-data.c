/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Data-driven domain XML tests.
 *   tests/data/domain/NAME.xml      parse → format equals NAME.out.xml (or the
 *                                   input itself); parse(format(x)) equals x
 *                                   (domain_def_equal); format is stable.
 *   tests/data/domain/invalid/NAME.xml   refused; message equals NAME.err
 *   libvirt's XML-to-XML vectors ($LV_LIBVIRT_TESTS/tests/..., fetched by
 *   scripts/fetch-libvirt-tests.sh): results must equal
 *                                   tests/data/domain/libvirt-vectors.txt
 * LV_TEST_REGENERATE=1 rewrites the expected files. */
#include <libgen.h>

#include "conf/xml.h"
#include "util/fileio.h"
#include "tests/lib/golden.h"
#include "tests/lib/libvirt-tests.h"
#include "util/strbuf.h"

static int failures;
static int checks;
static bool regenerate;

#define FAIL(...)                                                                                  \
        do {                                                                                       \
                failures++;                                                                        \
                printf("not ok - ");                                                               \
                printf(__VA_ARGS__);                                                               \
                printf("\n");                                                                      \
        } while (0)

static int parse(const char *path, const char *label, struct domain_def **ret,
                 struct lv_error **err)
{
        _cleanup_free_ char *data = golden_read(path);
        if (!data)
                return lv_error_setf(err, ENOENT, "cannot read %s", path);
        return conf_xml(err)->domain_parse_string(data, strlen(data), label, ret, err);
}

/* parse(format(def)) == def, format(parse(format(def))) == format(def) */
static bool check_round_trip(const char *label, const struct domain_def *def)
{
        _cleanup_free_ char *x1 = domain_format(def);
        _cleanup_domain_def_ struct domain_def *again = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        checks++;
        if (conf_xml(&err)->domain_parse_string(x1, strlen(x1), label, &again, &err) < 0) {
                FAIL("%s: formatted XML does not parse again: %s", label, err->message);
                return false;
        }
        if (!domain_def_equal(def, again)) {
                FAIL("%s: parse(format(x)) differs from x", label);
                return false;
        }
        _cleanup_free_ char *x2 = domain_format(again);
        if (!streq(x1, x2)) {
                FAIL("%s: format is not stable", label);
                return false;
        }
        return true;
}

static void test_valid(const char *dir)
{
        _cleanup_strv_free_ char **names = golden_list_xml(dir);
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, *n);
                _cleanup_free_ char *base = xstrndup(*n, strlen(*n) - 4);
                _cleanup_free_ char *outpath = xasprintf("%s/%s.out.xml", dir, base);
                _cleanup_domain_def_ struct domain_def *def = NULL;
                _cleanup_error_ struct lv_error *err = NULL;
                checks++;
                if (parse(path, *n, &def, &err) < 0) {
                        FAIL("%s: %s", *n, err->message);
                        continue;
                }
                _cleanup_free_ char *out = domain_format(def);
                _cleanup_free_ char *input = golden_read(path);
                _cleanup_free_ char *expected = golden_read(outpath);
                if (!expected)
                        expected = xstrdup(input);
                if (!streq(out, expected)) {
                        if (regenerate) {
                                if (streq(out, input))
                                        unlink(outpath);
                                else
                                        golden_write(outpath, out);
                        } else {
                                FAIL("%s: formatted XML differs from %s:\n%s", *n,
                                     access(outpath, F_OK) == 0 ? outpath : "the input", out);
                                continue;
                        }
                }
                if (check_round_trip(*n, def))
                        printf("ok - %s\n", *n);
        }
}

static void test_invalid(const char *dir)
{
        _cleanup_strv_free_ char **names = golden_list_xml(dir);
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, *n);
                _cleanup_free_ char *errpath =
                        xasprintf("%s/%.*s.err", dir, (int)strlen(*n) - 4, *n);
                _cleanup_domain_def_ struct domain_def *def = NULL;
                _cleanup_error_ struct lv_error *err = NULL;
                checks++;
                if (parse(path, *n, &def, &err) == 0) {
                        FAIL("invalid/%s: accepted", *n);
                        continue;
                }
                _cleanup_free_ char *expected = golden_read(errpath);
                _cleanup_free_ char *got = xasprintf("%s\n", err->message);
                if (!streq(expected, got)) {
                        if (regenerate) {
                                golden_write(errpath, got);
                        } else {
                                FAIL("invalid/%s: got error\n  %s  expected\n  %s", *n, got,
                                     expected ? expected : "(no .err file)\n");
                                continue;
                        }
                }
                printf("ok - invalid/%s\n", *n);
        }
}

/* libvirt's XML-to-XML vectors (the QEMU and Xen families are classified
 * by tests/qemu/test-qemu-vectors.c and tests/xen/test-xl.py). Each one is
 *   identical  litevirt's formatted definition is byte for byte libvirt's
 *              expected output (the input itself, or the *outdata file)
 *   equal      same model as libvirt's output (domain_def_equal); the
 *              elements whose lines differ are named
 *   refused    by litevirt, the message names the element
 *   wrong      accepted, but a different model than libvirt's output
 * and must round-trip (parse(format(x)) == x). No vector may be wrong. */
enum result { RES_IDENTICAL, RES_EQUAL, RES_REFUSED, RES_WRONG, N_RES };
static const char *const result_names[N_RES] = {"identical", "equal", "refused", "wrong"};

static enum result classify(const char *dir, const char *outdir, const char *family,
                            const char *name, struct strbuf *res)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
        _cleanup_free_ char *label = xasprintf("%s/%s", family, name);
        _cleanup_free_ char *outpath = outdir ? xasprintf("%s/%s", outdir, name) : NULL;
        _cleanup_domain_def_ struct domain_def *def = NULL, *odef = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        strbuf_printf(res, "%s: ", label);
        if (parse(path, name, &def, &err) < 0) {
                strbuf_printf(res, "refused: %s\n", err->message);
                return RES_REFUSED;
        }
        if (!check_round_trip(label, def)) {
                strbuf_append(res, "wrong: round trip failed\n");
                return RES_WRONG;
        }
        if (!outpath || access(outpath, F_OK) != 0) {
                free(outpath);
                outpath = xstrdup(path);
        }
        _cleanup_free_ char *ours = domain_format(def);
        _cleanup_free_ char *theirs = golden_read(outpath);
        if (streq(ours, theirs)) {
                strbuf_append(res, "identical\n");
                return RES_IDENTICAL;
        }
        if (parse(outpath, name, &odef, &err) < 0) {
                strbuf_printf(res, "refused: libvirt's output: %s\n", err->message);
                return RES_REFUSED;
        }
        _cleanup_free_ char *otext = domain_format(odef);
        _cleanup_free_ char *names = libvirt_tests_xml_diff(ours, theirs);
        if (!domain_def_equal(def, odef)) {
                _cleanup_free_ char *mnames = libvirt_tests_xml_diff(ours, otext);
                strbuf_printf(res, "wrong: model differs from libvirt's output (%s)\n", mnames);
                return RES_WRONG;
        }
        strbuf_printf(res, "equal: formatted differently (%s)\n", names);
        return RES_EQUAL;
}

static void test_libvirt_vectors(const char *results_path)
{
        static const struct {
                const char *dir;
                const char *outdir;
        } sets[] = {
                {"lxcxml2xmldata", "lxcxml2xmloutdata"},
                {"genericxml2xmlindata", "genericxml2xmloutdata"},
        };
        struct strbuf res = {0};
        int total[N_RES] = {0};
        for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
                bool skip = false, skip2 = false;
                _cleanup_free_ char *dir = libvirt_tests_dir(sets[s].dir, &skip);
                _cleanup_free_ char *outdir = libvirt_tests_dir(sets[s].outdir, &skip2);
                checks++;
                if (!dir || !outdir) {
                        if (!skip || !skip2)
                                FAIL("libvirt's %s: test data missing", sets[s].dir);
                        strbuf_reset(&res);
                        return; /* skipped (LV_LIBVIRT_TESTS_SKIP=1) or failed */
                }
                _cleanup_strv_free_ char **names = golden_list_xml(dir);
                int count[N_RES] = {0};
                for (char **n = names; *n; n++)
                        count[classify(dir, outdir, sets[s].dir, *n, &res)]++;
                strbuf_printf(&res, "total %s: %zu vectors:", sets[s].dir, strv_length(names));
                for (int r = 0; r < N_RES; r++) {
                        strbuf_printf(&res, " %d %s", count[r], result_names[r]);
                        total[r] += count[r];
                }
                strbuf_append(&res, "\n");
        }
        /* the other families' inputs (classified by their drivers' tests):
         * every accepted one round-trips */
        static const char *const others[] = {"qemuxml2argvdata", "qemuxml2xmloutdata",
                                             "xlconfigdata", "libxlxml2domconfigdata"};
        int round_trips = 0;
        for (size_t s = 0; s < ARRAY_SIZE(others); s++) {
                bool skip = false;
                _cleanup_free_ char *dir = libvirt_tests_dir(others[s], &skip);
                if (!dir) {
                        if (!skip)
                                FAIL("libvirt's %s: test data missing", others[s]);
                        continue;
                }
                _cleanup_strv_free_ char **names = golden_list_xml(dir);
                for (char **n = names; *n; n++) {
                        _cleanup_free_ char *path = xasprintf("%s/%s", dir, *n);
                        _cleanup_free_ char *label = xasprintf("%s/%s", others[s], *n);
                        _cleanup_domain_def_ struct domain_def *def = NULL;
                        _cleanup_error_ struct lv_error *err = NULL;
                        if (parse(path, *n, &def, &err) == 0 && check_round_trip(label, def))
                                round_trips++;
                }
        }
        printf("# %d accepted qemu/xen vectors round-trip\n", round_trips);
        _cleanup_free_ char *got = strbuf_steal(&res);
        _cleanup_free_ char *expected = golden_read(results_path);
        checks++;
        if (total[RES_WRONG])
                FAIL("libvirt vectors: %d accepted with a model unlike libvirt's output",
                     total[RES_WRONG]);
        if (!got || !streq(got, expected)) {
                if (regenerate && got)
                        golden_write(results_path, got);
                else
                        FAIL("libvirt vectors: results differ from %s; got:\n%s", results_path,
                             got ? got : "(nothing)");
                return;
        }
        printf("ok - libvirt vectors (%d identical, %d equal, %d refused, %d wrong)\n",
               total[RES_IDENTICAL], total[RES_EQUAL], total[RES_REFUSED], total[RES_WRONG]);
}

int main(int argc, char **argv)
{
        const char *src = getenv("LV_SOURCE_ROOT");
        regenerate = golden_regenerate();
        if (!src) {
                fprintf(stderr, "LV_SOURCE_ROOT is not set\n");
                return 1;
        }
        _cleanup_free_ char *data = xasprintf("%s/tests/data/domain", src);
        _cleanup_free_ char *invalid = xasprintf("%s/tests/data/domain/invalid", src);
        _cleanup_free_ char *results = xasprintf("%s/tests/data/domain/libvirt-vectors.txt", src);
        test_valid(data);
        test_invalid(invalid);
        test_libvirt_vectors(results);
        _cleanup_free_ char *examples = xasprintf("%s/examples", src);
        _cleanup_strv_free_ char **ex = golden_list_xml(examples);
        for (char **n = ex; *n; n++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", examples, *n);
                _cleanup_domain_def_ struct domain_def *def = NULL;
                _cleanup_error_ struct lv_error *err = NULL;
                checks++;
                if (parse(path, *n, &def, &err) < 0)
                        FAIL("examples/%s: %s", *n, err->message);
                else if (check_round_trip(*n, def))
                        printf("ok - examples/%s\n", *n);
        }
        printf("# %d checks, %d failed\n", checks, failures);
        return failures ? 1 : (checks ? 0 : 77);
}
