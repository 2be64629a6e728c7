/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Data-driven network XML tests.
 *   tests/data/network/NAME.xml          parse → format equals NAME.out.xml
 *                                        (or the input itself); format is
 *                                        stable over parse(format(x)).
 *   tests/data/network/invalid/NAME.xml  refused; message equals NAME.err
 *   tests/data/network/conf/NAME.conf    what dnsmasq gets for NAME.xml (its
 *                                        conf, hostsfile, addn-hosts), in
 *                                        libvirt's networkxml2confdata layout
 *   tests/data/network/conf/NAME.nft     the network's nftables table
 *   examples/networks/NAME.xml           parse.
 *   libvirt's vectors ($LV_LIBVIRT_TESTS/tests/networkxml2xmlin, ...out,
 *   networkxml2confdata, fetched by scripts/fetch-libvirt-tests.sh): the
 *   table of results must equal tests/data/network/libvirt-vectors.txt
 * LV_TEST_REGENERATE=1 rewrites the expected files. */
#include "conf/xml.h"
#include "network/network.h"
#include "tests/lib/golden.h"
#include "tests/lib/libvirt-tests.h"
#include "util/strbuf.h"

static int failures;

#define FAIL(...)                                                                                  \
        do {                                                                                       \
                failures++;                                                                        \
                printf("not ok - ");                                                               \
                printf(__VA_ARGS__);                                                               \
                printf("\n");                                                                      \
        } while (0)

static int parse(const char *path, const char *label, struct network_def **ret,
                 struct lv_error **err)
{
        _cleanup_free_ char *data = golden_read(path);
        if (!data)
                return lv_error_setf(err, ENOENT, "cannot read %s", path);
        return conf_xml(err)->network_parse_string(data, strlen(data), label, ret, err);
}

static bool check_round_trip(const char *label, const struct network_def *def)
{
        _cleanup_free_ char *x1 = network_format(def);
        _cleanup_network_def_ struct network_def *again = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        if (conf_xml(&err)->network_parse_string(x1, strlen(x1), label, &again, &err) < 0) {
                FAIL("%s: formatted XML does not parse again: %s", label, err->message);
                return false;
        }
        _cleanup_free_ char *x2 = network_format(again);
        if (!streq(x1, x2)) {
                FAIL("%s: format is not stable:\n%s---\n%s", label, x1, x2);
                return false;
        }
        return true;
}

static void test_valid(const char *dir, bool golden)
{
        _cleanup_strv_free_ char **names = golden_list_xml(dir);
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, *n);
                _cleanup_free_ char *outpath =
                        xasprintf("%s/%.*s.out.xml", dir, (int)strlen(*n) - 4, *n);
                _cleanup_network_def_ struct network_def *def = NULL;
                _cleanup_error_ struct lv_error *err = NULL;
                if (parse(path, *n, &def, &err) < 0) {
                        FAIL("%s: %s", *n, err->message);
                        continue;
                }
                if (golden) {
                        _cleanup_free_ char *out = network_format(def);
                        _cleanup_free_ char *input = golden_read(path);
                        _cleanup_free_ char *expected = golden_read(outpath);
                        if (!expected)
                                expected = xstrdup(input);
                        if (!streq(out, expected)) {
                                if (!golden_regenerate()) {
                                        FAIL("%s: formatted XML differs from %s:\n%s", *n,
                                             access(outpath, F_OK) == 0 ? outpath : "the input",
                                             out);
                                        continue;
                                }
                                if (streq(out, input))
                                        unlink(outpath);
                                else
                                        golden_write(outpath, out);
                        }
                }
                if (check_round_trip(*n, def))
                        printf("ok - %s\n", *n);
        }
}

static void golden_check(const char *label, const char *path, const char *got)
{
        _cleanup_free_ char *expected = golden_read(path);
        if (streq_ptr(expected, got) || (!expected && !got))
                return;
        if (golden_regenerate()) {
                if (got)
                        golden_write(path, got);
                else
                        unlink(path);
                return;
        }
        FAIL("%s: differs from %s:\n%s", label, path, got ? got : "(nothing)\n");
}

/* dnsmasq's files and the nftables table made from each valid network. */
static void test_runtime(const char *dir)
{
        _cleanup_strv_free_ char **names = golden_list_xml(dir);
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, *n);
                _cleanup_free_ char *base = xstrndup(*n, strlen(*n) - 4);
                _cleanup_network_def_ struct network_def *def = NULL;
                _cleanup_error_ struct lv_error *err = NULL;
                if (parse(path, *n, &def, &err) < 0)
                        continue; /* reported by test_valid */
                network_def_assign(def, NULL);
                int before = failures;
                _cleanup_free_ char *conf = NULL;
                if (network_dnsmasq_wanted(def)) {
                        _cleanup_free_ char *statedir =
                                xasprintf("/run/litevirt-net/%s", def->name);
                        _cleanup_free_ char *c = network_dnsmasq_conf(def, statedir);
                        _cleanup_free_ char *h = network_dnsmasq_hostsfile(def);
                        _cleanup_free_ char *a = network_dnsmasq_addnhosts(def);
                        conf = xasprintf("%s## %s.hostsfile\n%s## %s.addnhosts\n%s", c, def->name,
                                         h, def->name, a);
                }
                _cleanup_free_ char *nft = network_nft_ruleset(def);
                _cleanup_free_ char *cpath = xasprintf("%s/conf/%s.conf", dir, base);
                _cleanup_free_ char *npath = xasprintf("%s/conf/%s.nft", dir, base);
                golden_check(*n, cpath, conf);
                golden_check(*n, npath, nft);
                if (failures == before)
                        printf("ok - conf/%s\n", base);
        }
}

static void test_invalid(const char *dir)
{
        _cleanup_strv_free_ char **names = golden_list_xml(dir);
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, *n);
                _cleanup_free_ char *errpath =
                        xasprintf("%s/%.*s.err", dir, (int)strlen(*n) - 4, *n);
                _cleanup_network_def_ struct network_def *def = NULL;
                _cleanup_error_ struct lv_error *err = NULL;
                if (parse(path, *n, &def, &err) == 0) {
                        FAIL("invalid/%s: accepted", *n);
                        continue;
                }
                _cleanup_free_ char *expected = golden_read(errpath);
                _cleanup_free_ char *got = xasprintf("%s\n", err->message);
                if (!streq(expected, got)) {
                        if (!golden_regenerate()) {
                                FAIL("invalid/%s: got error\n  %s  expected\n  %s", *n, got,
                                     expected ? expected : "(no .err file)\n");
                                continue;
                        }
                        golden_write(errpath, got);
                }
                printf("ok - invalid/%s\n", *n);
        }
}

/* Lines of theirs (libvirt's dnsmasq conf, comments and its file paths
 * aside) that ours lacks, as their keys ("dhcp-range", ...). */
static char *conf_missing(const char *ours, const char *theirs, int *ret_same, int *ret_total)
{
        struct strbuf sb = {0};
        _cleanup_free_ char *copy = xstrdup(theirs);
        char *save = NULL;
        *ret_same = *ret_total = 0;
        strbuf_append(&sb, "");
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (l[0] == '#')
                        continue;
                (*ret_total)++;
                /* file names differ by design (paths of the state dir) */
                bool path = strstr(l, "/var/lib/libvirt/") != NULL;
                _cleanup_free_ char *key = xstrndup(l, strcspn(l, "="));
                _cleanup_free_ char *needle =
                        path ? xasprintf("\n%s=", key) : xasprintf("\n%s\n", l);
                _cleanup_free_ char *hay = xasprintf("\n%s", ours);
                if (strstr(hay, needle)) {
                        (*ret_same)++;
                        continue;
                }
                strbuf_printf(&sb, " %s", key);
        }
        return strbuf_steal(&sb);
}

/* libvirt's network vectors, tabled: refused (with litevirt's message),
 * or accepted and compared with libvirt's output (XML) and libvirt's
 * dnsmasq conf (the share of its lines litevirt's conf has). */
static void test_libvirt_vectors(const char *expected_path)
{
        bool skip1 = false, skip2 = false, skip3 = false;
        _cleanup_free_ char *in = libvirt_tests_dir("networkxml2xmlin", &skip1);
        _cleanup_free_ char *out = libvirt_tests_dir("networkxml2xmlout", &skip2);
        _cleanup_free_ char *conf = libvirt_tests_dir("networkxml2confdata", &skip3);
        if (!in || !out || !conf) {
                if (!skip1 || !skip2 || !skip3)
                        FAIL("libvirt's network test data missing");
                return;
        }
        struct strbuf res = {0};
        int n_in = 0, same = 0, differ = 0, refused = 0, c_acc = 0, c_ref = 0, c_lines = 0,
            c_total = 0;
        _cleanup_strv_free_ char **names = golden_list_xml(in);
        for (char **n = names; *n; n++, n_in++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", in, *n);
                _cleanup_free_ char *opath = xasprintf("%s/%s", out, *n);
                _cleanup_network_def_ struct network_def *def = NULL;
                _cleanup_error_ struct lv_error *err = NULL;
                if (parse(path, *n, &def, &err) < 0) {
                        strbuf_printf(&res, "xml %s: refused: %s\n", *n, err->message);
                        refused++;
                        continue;
                }
                if (!check_round_trip(*n, def))
                        continue;
                _cleanup_free_ char *theirs = golden_read(opath);
                if (!theirs) {
                        strbuf_printf(&res,
                                      "xml %s: accepted, libvirt has no output (it refuses)\n", *n);
                        differ++;
                        continue;
                }
                _cleanup_free_ char *ours = network_format(def);
                _cleanup_free_ char *diff = libvirt_tests_xml_diff(ours, theirs);
                if (!*diff) {
                        strbuf_printf(&res, "xml %s: same as libvirt's output\n", *n);
                        same++;
                } else {
                        strbuf_printf(&res, "xml %s: differs from libvirt's output: %s\n", *n,
                                      diff);
                        differ++;
                }
        }
        _cleanup_strv_free_ char **cnames = golden_list_xml(conf);
        for (char **n = cnames; *n; n++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", conf, *n);
                _cleanup_free_ char *cpath =
                        xasprintf("%s/%.*s.conf", conf, (int)strlen(*n) - 4, *n);
                _cleanup_network_def_ struct network_def *def = NULL;
                _cleanup_error_ struct lv_error *err = NULL;
                if (parse(path, *n, &def, &err) < 0) {
                        strbuf_printf(&res, "conf %s: refused: %s\n", *n, err->message);
                        c_ref++;
                        continue;
                }
                network_def_assign(def, NULL);
                _cleanup_free_ char *theirs = golden_read(cpath);
                _cleanup_free_ char *ours = network_dnsmasq_wanted(def)
                                                    ? network_dnsmasq_conf(def, "/run/x")
                                                    : xstrdup("");
                int k = 0, total = 0;
                _cleanup_free_ char *missing = conf_missing(ours, theirs ? theirs : "", &k, &total);
                strbuf_printf(&res, "conf %s: %d/%d of libvirt's lines%s%s\n", *n, k, total,
                              *missing ? "; not:" : "", missing);
                c_acc++;
                c_lines += k;
                c_total += total;
        }
        strbuf_printf(&res,
                      "total networkxml2xmlin: %d vectors: %d same as libvirt's output, %d "
                      "differ, %d refused\n"
                      "total networkxml2confdata: %d accepted (%d/%d of libvirt's dnsmasq lines), "
                      "%d refused\n",
                      n_in, same, differ, refused, c_acc, c_lines, c_total, c_ref);
        _cleanup_free_ char *got = strbuf_steal(&res);
        golden_check("libvirt's network vectors", expected_path, got);
        printf("# libvirt network vectors: %d same, %d differ, %d refused; conf %d/%d lines\n",
               same, differ, refused, c_lines, c_total);
}

/* net-define's defaults: the first free virbrN, a locally administered MAC. */
static void test_assign(void)
{
        static const char xml[] = "<network><name>a</name><ip address='10.0.0.1' "
                                  "prefix='24'/></network>";
        _cleanup_network_def_ struct network_def *def = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        if (conf_xml(&err)->network_parse_string(xml, strlen(xml), "a", &def, &err) < 0) {
                FAIL("assign: %s", err->message);
                return;
        }
        char *taken[] = {"virbr0", "virbr2", NULL};
        network_def_assign(def, taken);
        if (!streq(def->bridge, "virbr1") || !def->mac || !startswith(def->mac, "52:54:00:"))
                FAIL("assign: bridge %s mac %s", def->bridge, def->mac);
        else
                printf("ok - assign\n");
}

int main(void)
{
        const char *src = getenv("LV_SOURCE_ROOT");
        if (!src)
                src = ".";
        _cleanup_free_ char *dir = xasprintf("%s/tests/data/network", src);
        _cleanup_free_ char *invalid = xasprintf("%s/invalid", dir);
        _cleanup_free_ char *examples = xasprintf("%s/examples/networks", src);
        test_valid(dir, true);
        test_runtime(dir);
        _cleanup_free_ char *vectors = xasprintf("%s/libvirt-vectors.txt", dir);
        test_libvirt_vectors(vectors);
        test_invalid(invalid);
        test_valid(examples, false);
        test_assign();
        printf("%s\n", failures ? "FAIL" : "PASS");
        return failures ? 1 : 0;
}
