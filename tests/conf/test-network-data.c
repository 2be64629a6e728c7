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
 * LV_TEST_REGENERATE=1 rewrites the expected files. */
#include "conf/xml.h"
#include "network/network.h"
#include "tests/lib/golden.h"

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
        test_invalid(invalid);
        test_valid(examples, false);
        test_assign();
        printf("%s\n", failures ? "FAIL" : "PASS");
        return failures ? 1 : 0;
}
