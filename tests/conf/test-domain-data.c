/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Data-driven domain XML tests.
 *   tests/data/domain/NAME.xml      parse → format equals NAME.out.xml (or the
 *                                   input itself); parse(format(x)) equals x
 *                                   (domain_def_equal); format is stable.
 *   tests/data/domain/invalid/NAME.xml   refused; message equals NAME.err
 *   libvirt's vectors ($LV_PEER_DIR/libvirt/...): results must equal
 *                                   tests/data/domain/peer-results.txt
 * LV_TEST_REGENERATE=1 rewrites the expected files. */
#include <dirent.h>
#include <libgen.h>

#include "conf/xml.h"
#include "util/fileio.h"
#include "tests/lib/golden.h"
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

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.xml names (not *.out.xml) of a directory. */
static char **list_xml(const char *dir)
{
        char **v = xcalloc(1, sizeof(char *));
        DIR *d = opendir(dir);
        if (!d)
                return v;
        struct dirent *e;
        size_t n = 0;
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l < 5 || strcmp(e->d_name + l - 4, ".xml") != 0 ||
                    (l > 8 && strcmp(e->d_name + l - 8, ".out.xml") == 0))
                        continue;
                strv_push(&v, xstrdup(e->d_name));
                n++;
        }
        closedir(d);
        qsort(v, n, sizeof(char *), name_cmp);
        return v;
}

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
        _cleanup_strv_free_ char **names = list_xml(dir);
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
        _cleanup_strv_free_ char **names = list_xml(dir);
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

/* libvirt's vectors: each one parses and round-trips (and, where libvirt
 * has an expected output, gives the same model as it), or is refused. */
static void test_peer(const char *peer, const char *results_path)
{
        static const struct {
                const char *dir;
                const char *outdir;
        } sets[] = {
                {"lxcxml2xmldata", NULL},         {"genericxml2xmlindata", "genericxml2xmloutdata"},
                {"qemuxml2argvdata", NULL},       {"xlconfigdata", NULL},
                {"libxlxml2domconfigdata", NULL},
        };
        struct strbuf res = {0};
        int n_ok = 0, n_refused = 0;
        for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
                _cleanup_free_ char *dir = xasprintf("%s/libvirt/%s", peer, sets[s].dir);
                _cleanup_strv_free_ char **names = list_xml(dir);
                for (char **n = names; *n; n++) {
                        _cleanup_free_ char *path = xasprintf("%s/%s", dir, *n);
                        _cleanup_free_ char *label = xasprintf("%s/%s", sets[s].dir, *n);
                        _cleanup_domain_def_ struct domain_def *def = NULL;
                        _cleanup_error_ struct lv_error *err = NULL;
                        if (parse(path, label, &def, &err) < 0) {
                                strbuf_printf(&res, "%s: refused: %s\n", label, err->message);
                                n_refused++;
                                continue;
                        }
                        if (!check_round_trip(label, def)) {
                                strbuf_printf(&res, "%s: round trip FAILED\n", label);
                                continue;
                        }
                        if (sets[s].outdir) {
                                _cleanup_free_ char *out =
                                        xasprintf("%s/libvirt/%s/%s", peer, sets[s].outdir, *n);
                                _cleanup_domain_def_ struct domain_def *odef = NULL;
                                _cleanup_error_ struct lv_error *oerr = NULL;
                                if (access(out, F_OK) == 0) {
                                        if (parse(out, label, &odef, &oerr) < 0) {
                                                strbuf_printf(&res,
                                                              "%s: libvirt's output refused: %s\n",
                                                              label, oerr->message);
                                                continue;
                                        }
                                        if (!domain_def_equal(def, odef)) {
                                                strbuf_printf(&res,
                                                              "%s: differs from libvirt's output\n",
                                                              label);
                                                continue;
                                        }
                                }
                        }
                        strbuf_printf(&res, "%s: ok\n", label);
                        n_ok++;
                }
        }
        strbuf_printf(&res, "total: %d ok, %d refused\n", n_ok, n_refused);
        _cleanup_free_ char *got = strbuf_steal(&res);
        _cleanup_free_ char *expected = golden_read(results_path);
        checks++;
        if (!streq(got, expected)) {
                if (regenerate)
                        golden_write(results_path, got);
                else
                        FAIL("libvirt vectors: results differ from %s; got:\n%s", results_path,
                             got);
                return;
        }
        printf("ok - libvirt vectors (%d ok, %d refused)\n", n_ok, n_refused);
}

int main(int argc, char **argv)
{
        const char *src = getenv("LV_SOURCE_ROOT");
        const char *peer = getenv("LV_PEER_DIR");
        regenerate = golden_regenerate();
        if (!src) {
                fprintf(stderr, "LV_SOURCE_ROOT is not set\n");
                return 1;
        }
        _cleanup_free_ char *data = xasprintf("%s/tests/data/domain", src);
        _cleanup_free_ char *invalid = xasprintf("%s/tests/data/domain/invalid", src);
        _cleanup_free_ char *results = xasprintf("%s/tests/data/domain/peer-results.txt", src);
        test_valid(data);
        test_invalid(invalid);
        _cleanup_free_ char *peerlib = peer ? xasprintf("%s/libvirt", peer) : NULL;
        if (peerlib && access(peerlib, F_OK) == 0)
                test_peer(peer, results);
        else
                printf("# libvirt vectors not found ($LV_PEER_DIR): skipped\n");
        _cleanup_free_ char *examples = xasprintf("%s/examples", src);
        _cleanup_strv_free_ char **ex = list_xml(examples);
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
