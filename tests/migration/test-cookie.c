/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Migration cookies: libvirt's vectors, golden data (tests/data/cookie),
 * and the checks around them (size bound, same host, wrong guest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>

#include "conf/cookie.h"
#include "conf/xml.h"
#include "tests/lib/libvirt-tests.h"
#include "util/fileio.h"
#include "util/strbuf.h"

#define GUEST_UUID             "c7a5fdbd-edaf-9455-926a-d65c16db1809"
#define LIBVIRT_UUID           "dcf47dbd-46d1-4d5b-b442-262a806a333a"
#define LIBVIRT_LOCAL_HOSTUUID "4a802f00-4cba-5df6-9679-a08c4c5b577f"

static const struct conf_xml_ops *ops;

static char *read_file(const char *path)
{
        char *data = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        if (file_read_bounded(path, 1 << 20, &data, NULL, &err) < 0)
                fail_msg("%s", err->message);
        return data;
}

static bool regenerate(void)
{
        const char *v = getenv("LV_TEST_REGENERATE");
        return v && *v && strcmp(v, "0") != 0;
}

static void uuid(const char *s, unsigned char out[16])
{
        assert_int_equal(domain_uuid_parse(s, out), 0);
}

static int parse(const char *xml, size_t len, const char *name, const char *uuid_str,
                 unsigned accept, struct cookie **ret, struct lv_error **err)
{
        unsigned char u[16];
        if (uuid_str)
                uuid(uuid_str, u);
        return ops->cookie_parse_string(xml, len, name, uuid_str ? u : NULL, accept, ret, err);
}

/* ---- libvirt's vectors ---- */

/* Top-level elements of libvirt's cookie that litevirt reads and writes;
 * the others (domain, network, nbd, cpu, allowReboot, capabilities,
 * blockDirtyBitmaps) are dropped from libvirt's expected output before
 * comparing. */
static bool supported_top(const char *line)
{
        static const char *const names[] = {"name",    "uuid",     "hostname",  "hostuuid",
                                            "feature", "graphics", "lockstate", "statistics"};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                size_t n = strlen(names[i]);
                if (strncmp(line + 3, names[i], n) == 0 &&
                    (line[3 + n] == '>' || line[3 + n] == ' ' || line[3 + n] == '/'))
                        return true;
        }
        return false;
}

static char *filter_supported(const char *xml)
{
        struct strbuf sb = {0};
        const char *p = xml;
        const char *skip_until = NULL; /* closing tag of a skipped element */
        _cleanup_free_ char *closing = NULL;
        while (*p) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
                bool top = len > 3 && p[0] == ' ' && p[1] == ' ' && p[2] == '<' && p[3] != '/';
                if (skip_until) {
                        if (strncmp(p, skip_until, strlen(skip_until)) == 0)
                                skip_until = NULL;
                } else if (top && !supported_top(p - 0)) {
                        /* "  <elem ...>" opens a block unless it closes itself
                         * on the same line. */
                        const char *end = p + len - 1;
                        while (end > p && (*end == '\n' || *end == ' '))
                                end--;
                        bool selfclosed = *end == '>' && end[-1] == '/';
                        bool oneline = false;
                        size_t nlen = strcspn(p + 3, " />\n");
                        free(closing);
                        closing = xasprintf("  </%.*s>", (int)nlen, p + 3);
                        if (memmem(p, len, closing + 2, strlen(closing + 2)))
                                oneline = true;
                        if (!selfclosed && !oneline)
                                skip_until = closing;
                } else {
                        strbuf_append_len(&sb, p, len);
                }
                p += len;
        }
        return strbuf_steal(&sb);
}

/* libvirt's qemumigrationcookiexmldata folder. skip() and fail() leave
 * the function by longjmp, past every cleanup attribute: nothing may be
 * allocated before them (LeakSanitizer). */
static char *vector_dir(void)
{
        bool skip_it = false;
        char *dir = libvirt_tests_dir("qemumigrationcookiexmldata", &skip_it);
        if (!dir && skip_it)
                skip();
        if (!dir)
                fail_msg("libvirt's test data is missing (scripts/fetch-libvirt-tests.sh)");
        return dir;
}

static void check_libvirt_vector(const char *name, unsigned expect_peer_features)
{
        _cleanup_free_ char *dir = vector_dir();
        _cleanup_free_ char *in_path = xasprintf("%s/%s-xml2xml-in.xml", dir, name);
        _cleanup_free_ char *out_path = xasprintf("%s/%s-xml2xml-out.xml", dir, name);
        _cleanup_free_ char *in = read_file(in_path);
        _cleanup_free_ char *out = read_file(out_path);

        /* libvirt's test parses with every flag and the guest 'upstream'. */
        _cleanup_cookie_ struct cookie *c = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        int r = parse(in, strlen(in), "upstream", LIBVIRT_UUID, COOKIE_FEATURES_ALL, &c, &err);
        if (r < 0)
                fail_msg("%s: %s", in_path, err->message);
        assert_int_equal(c->peer_mandatory, expect_peer_features);
        assert_string_equal(c->hostname, "hostname2");

        /* Formatted as the local host of libvirt's test mock. */
        free(c->hostname);
        c->hostname = xstrdup("hostname");
        uuid(LIBVIRT_LOCAL_HOSTUUID, c->hostuuid);
        _cleanup_free_ char *got = NULL;
        assert_int_equal(cookie_format(c, &got, &err), 0);
        _cleanup_free_ char *want = filter_supported(out);
        assert_string_equal(got, want);
}

static void test_libvirt_basic(void **state)
{
        check_libvirt_vector("basic", 0);
}

static void test_libvirt_full(void **state)
{
        check_libvirt_vector("full", COOKIE_FEATURE_BIT(COOKIE_FEATURE_GRAPHICS) |
                                             COOKIE_FEATURE_BIT(COOKIE_FEATURE_MEMORY_HOTPLUG));
}

/* litevirt itself does not do memory hotplug: with its own feature set the
 * same cookie is refused, naming the feature. */
static void test_libvirt_full_litevirt_features(void **state)
{
        _cleanup_free_ char *dir = vector_dir();
        _cleanup_free_ char *in_path = xasprintf("%s/full-xml2xml-in.xml", dir);
        _cleanup_free_ char *in = read_file(in_path);
        _cleanup_cookie_ struct cookie *c = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        assert_true(parse(in, strlen(in), "upstream", LIBVIRT_UUID, COOKIE_FEATURES_LITEVIRT, &c,
                          &err) < 0);
        assert_null(c);
        assert_string_equal(err->message,
                            "migration cookie, line 7: element 'feature': mandatory feature "
                            "'memory-hotplug' is not supported here");
}

/* The text of <tag>...</tag> in xml (NULL when absent). */
static char *element_text(const char *xml, const char *tag)
{
        _cleanup_free_ char *open_tag = xasprintf("<%s>", tag);
        const char *p = strstr(xml, open_tag);
        if (!p)
                return NULL;
        p += strlen(open_tag);
        return xstrndup(p, strcspn(p, "<"));
}

/* Every cookie of libvirt's qemumigrationcookiexmldata (NAME-xml2xml-in.xml
 * against NAME-xml2xml-out.xml; the other files, cookies libvirt
 * generated, against themselves), as litevirt parses them in real use
 * (its own feature set, the guest named in the cookie): identical,
 * equal (libvirt's elements litevirt does not carry are named), refused
 * (the message names the element) or wrong (must stay 0). The results
 * must equal tests/data/cookie/libvirt-vectors.txt. */
static void test_libvirt_all(void **state)
{
        _cleanup_free_ char *dir = vector_dir();
        _cleanup_free_ char *golden =
                xasprintf("%s/tests/data/cookie/libvirt-vectors.txt", getenv("LV_SOURCE_ROOT"));
        struct dirent **list = NULL;
        int n = scandir(dir, &list, NULL, alphasort);
        assert_true(n > 0);
        struct strbuf res = {0};
        int count[4] = {0}, wrong = 0;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ struct dirent *entry = list[i];
                const char *f = entry->d_name;
                size_t len = strlen(f);
                const size_t in_len = strlen("-xml2xml-in.xml"),
                             out_len = strlen("-xml2xml-out.xml");
                bool in = len > in_len && streq(f + len - in_len, "-xml2xml-in.xml");
                bool out = len > out_len && streq(f + len - out_len, "-xml2xml-out.xml");
                if (len < 5 || !streq(f + len - 4, ".xml") || out)
                        continue;
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, f);
                _cleanup_free_ char *want_path =
                        in ? xasprintf("%s/%.*s-xml2xml-out.xml", dir, (int)(len - in_len), f)
                           : xstrdup(path);
                _cleanup_free_ char *text = read_file(path);
                _cleanup_free_ char *want = read_file(want_path);
                _cleanup_free_ char *name = element_text(text, "name");
                _cleanup_free_ char *uuid_str = element_text(text, "uuid");
                _cleanup_cookie_ struct cookie *c = NULL;
                _cleanup_error_ struct lv_error *err = NULL;
                strbuf_printf(&res, "%s: ", f);
                if (!name || !uuid_str ||
                    parse(text, strlen(text), name, uuid_str, COOKIE_FEATURES_LITEVIRT, &c, &err) <
                            0) {
                        strbuf_printf(&res, "refused: %s\n", err ? err->message : "no name/uuid");
                        count[2]++;
                        continue;
                }
                /* formatted as the host that wrote the expected file */
                free(c->hostname);
                c->hostname = element_text(want, "hostname");
                _cleanup_free_ char *hostuuid = element_text(want, "hostuuid");
                if (hostuuid)
                        uuid(hostuuid, c->hostuuid);
                _cleanup_free_ char *got = NULL;
                assert_int_equal(cookie_format(c, &got, &err), 0);
                _cleanup_free_ char *filtered = filter_supported(want);
                if (streq(got, want)) {
                        strbuf_append(&res, "identical\n");
                        count[0]++;
                } else if (streq(got, filtered)) {
                        _cleanup_free_ char *names = libvirt_tests_xml_diff(got, want);
                        strbuf_printf(&res, "equal: not carried by litevirt (%s)\n", names);
                        count[1]++;
                } else {
                        _cleanup_free_ char *names = libvirt_tests_xml_diff(got, filtered);
                        strbuf_printf(&res, "wrong: differs from libvirt's (%s)\n", names);
                        count[3]++;
                        wrong++;
                }
        }
        free(list);
        strbuf_printf(&res,
                      "total qemumigrationcookiexmldata: %d vectors: %d identical %d equal %d "
                      "refused %d wrong\n",
                      count[0] + count[1] + count[2] + count[3], count[0], count[1], count[2],
                      count[3]);
        _cleanup_free_ char *got = strbuf_steal(&res);
        if (regenerate())
                assert_int_equal(file_write_atomic(golden, got, strlen(got), 0644, NULL), 0);
        _cleanup_free_ char *expected = read_file(golden);
        assert_string_equal(got, expected);
        assert_int_equal(wrong, 0);
}

/* ---- golden data ---- */

static void check_data_file(const char *dir, const char *file, int *failures)
{
        size_t n = strlen(file) - 4;
        _cleanup_free_ char *base = xstrndup(file, n);
        _cleanup_free_ char *in_path = xasprintf("%s/%s", dir, file);
        _cleanup_free_ char *out_path = xasprintf("%s/%s.out.xml", dir, base);
        _cleanup_free_ char *err_path = xasprintf("%s/%s.err", dir, base);
        _cleanup_free_ char *in = read_file(in_path);

        _cleanup_cookie_ struct cookie *c = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        int r = parse(in, strlen(in), "web1", GUEST_UUID, COOKIE_FEATURES_LITEVIRT, &c, &err);
        _cleanup_free_ char *got = NULL;
        const char *expect_path;
        if (r < 0) {
                assert_null(c);
                got = xasprintf("%s\n", err->message);
                expect_path = err_path;
        } else {
                /* Round trip: the features the sender required are
                 * written again. */
                c->mandatory = c->peer_mandatory;
                assert_int_equal(cookie_format(c, &got, &err), 0);
                expect_path = out_path;
                /* Formatting what was parsed from our own output is a
                 * fixed point. */
                _cleanup_cookie_ struct cookie *c2 = NULL;
                assert_int_equal(parse(got, strlen(got), "web1", GUEST_UUID,
                                       COOKIE_FEATURES_LITEVIRT, &c2, &err),
                                 0);
                c2->mandatory = c2->peer_mandatory;
                _cleanup_free_ char *again = NULL;
                assert_int_equal(cookie_format(c2, &again, &err), 0);
                assert_string_equal(again, got);
        }
        if (regenerate()) {
                unlink(r < 0 ? out_path : err_path);
                assert_int_equal(file_write_atomic(expect_path, got, strlen(got), 0644, NULL), 0);
                return;
        }
        if (access(expect_path, R_OK) < 0) {
                print_error("%s: %s, but %s does not exist\n", file, r < 0 ? "refused" : "accepted",
                            expect_path);
                (*failures)++;
                return;
        }
        _cleanup_free_ char *want = read_file(expect_path);
        if (strcmp(got, want) != 0) {
                print_error("%s: got:\n%s\nexpected (%s):\n%s\n", file, got, expect_path, want);
                (*failures)++;
        }
}

static void test_data(void **state)
{
        _cleanup_free_ char *dir = xasprintf("%s/tests/data/cookie", getenv("LV_SOURCE_ROOT"));
        struct dirent **list = NULL;
        int n = scandir(dir, &list, NULL, alphasort);
        assert_true(n > 0);
        int failures = 0, checked = 0;
        for (int i = 0; i < n; i++) {
                const char *f = list[i]->d_name;
                size_t len = strlen(f);
                if (len > 4 && strcmp(f + len - 4, ".xml") == 0 &&
                    !(len > 8 && strcmp(f + len - 8, ".out.xml") == 0)) {
                        check_data_file(dir, f, &failures);
                        checked++;
                }
                free(list[i]);
        }
        free(list);
        assert_true(checked >= 20);
        assert_int_equal(failures, 0);
}

/* ---- checks ---- */

static char *cookie_text(size_t pad_to)
{
        struct strbuf sb = {0};
        strbuf_append(&sb, "<qemu-migration>\n  <name>web1</name>\n  <uuid>" GUEST_UUID
                           "</uuid>\n  <hostname>a</hostname>\n"
                           "  <hostuuid>8b3f4dc4-6a8e-5f9b-94a5-4c35babd8d95</hostuuid>\n<!--");
        const char *tail = "-->\n</qemu-migration>\n";
        while (sb.len + strlen(tail) < pad_to)
                strbuf_append(&sb, "x");
        strbuf_append(&sb, tail);
        return strbuf_steal(&sb);
}

static void test_size_bound(void **state)
{
        _cleanup_free_ char *ok = cookie_text(COOKIE_MAX_BYTES);
        assert_int_equal(strlen(ok), COOKIE_MAX_BYTES);
        _cleanup_cookie_ struct cookie *c = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        assert_int_equal(parse(ok, strlen(ok), "web1", NULL, 0, &c, &err), 0);
        assert_non_null(c);

        _cleanup_free_ char *big = cookie_text(COOKIE_MAX_BYTES + 1);
        _cleanup_cookie_ struct cookie *c2 = NULL;
        assert_true(parse(big, strlen(big), "web1", NULL, 0, &c2, &err) < 0);
        assert_null(c2);
        assert_string_equal(
                err->message,
                "migration cookie: document is 16385 bytes, more than the limit of 16384");
}

static void test_nul_byte(void **state)
{
        _cleanup_free_ char *t = cookie_text(200);
        t[50] = '\0';
        _cleanup_cookie_ struct cookie *c = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        assert_true(parse(t, 200, NULL, NULL, 0, &c, &err) < 0);
        assert_string_equal(err->message, "migration cookie: document contains a NUL byte");
}

static void test_same_host(void **state)
{
        unsigned char g[16], h[16], other[16];
        uuid(GUEST_UUID, g);
        uuid("8b3f4dc4-6a8e-5f9b-94a5-4c35babd8d95", h);
        uuid("4a802f00-4cba-5df6-9679-a08c4c5b577f", other);
        _cleanup_cookie_ struct cookie *c = cookie_new("web1", g, "hosta", h);
        _cleanup_error_ struct lv_error *err = NULL;
        assert_int_equal(cookie_check_host(c, other, "web1", &err), 0);
        assert_null(err);
        assert_true(cookie_check_host(c, h, "web1", &err) < 0);
        assert_string_equal(err->message, "cannot migrate guest 'web1' to the same host "
                                          "(UUID 8b3f4dc4-6a8e-5f9b-94a5-4c35babd8d95)");
}

/* A cookie built in memory survives format → parse with every part. */
static void test_build_round_trip(void **state)
{
        unsigned char g[16], h[16];
        uuid(GUEST_UUID, g);
        uuid("8b3f4dc4-6a8e-5f9b-94a5-4c35babd8d95", h);
        _cleanup_cookie_ struct cookie *c = cookie_new("web1", g, "hosta", h);
        cookie_set_graphics(c, DOMAIN_GRAPHICS_SPICE, 5901, -1, "192.0.2.7", NULL);
        cookie_set_lockstate(c, "litevirt", "abc:1");
        c->stats = xcalloc(1, sizeof(*c->stats));
        c->stats->downtime_set = true;
        c->stats->downtime = 46;
        c->stats->sent = 91000000;
        _cleanup_free_ char *xml = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        assert_int_equal(cookie_format(c, &xml, &err), 0);
        assert_non_null(strstr(xml, "<feature name='lockstate'/>"));
        _cleanup_cookie_ struct cookie *p = NULL;
        assert_int_equal(
                parse(xml, strlen(xml), "web1", GUEST_UUID, COOKIE_FEATURES_LITEVIRT, &p, &err), 0);
        assert_int_equal(p->peer_mandatory, COOKIE_FEATURE_BIT(COOKIE_FEATURE_LOCKSTATE));
        assert_int_equal(p->graphics->type, DOMAIN_GRAPHICS_SPICE);
        assert_int_equal(p->graphics->port, 5901);
        assert_int_equal(p->graphics->tls_port, -1);
        assert_string_equal(p->graphics->listen, "192.0.2.7");
        assert_string_equal(p->lock_driver, "litevirt");
        assert_string_equal(p->lock_state, "abc:1");
        assert_true(p->stats->downtime_set);
        assert_int_equal(p->stats->downtime, 46);
        assert_int_equal(p->stats->sent, 91000000);
        assert_memory_equal(p->hostuuid, h, 16);

        /* The receiver that does not take part in lock hand-over refuses. */
        _cleanup_cookie_ struct cookie *q = NULL;
        assert_true(parse(xml, strlen(xml), "web1", GUEST_UUID,
                          COOKIE_FEATURE_BIT(COOKIE_FEATURE_GRAPHICS), &q, &err) < 0);
        assert_non_null(strstr(err->message, "mandatory feature 'lockstate' is not supported"));
}

/* <ram-pad/>: written when the guest's RAM carries the pad and read back;
 * absent (libvirt's cookies, an older litevirt's) it means no pad. */
static void test_ram_pad(void **state)
{
        unsigned char g[16], h[16];
        uuid(GUEST_UUID, g);
        uuid("8b3f4dc4-6a8e-5f9b-94a5-4c35babd8d95", h);
        for (int pad = 0; pad <= 1; pad++) {
                _cleanup_cookie_ struct cookie *c = cookie_new("web1", g, "hosta", h);
                c->ram_pad = pad;
                _cleanup_free_ char *xml = NULL;
                _cleanup_error_ struct lv_error *err = NULL;
                assert_int_equal(cookie_format(c, &xml, &err), 0);
                assert_int_equal(strstr(xml, "  <ram-pad/>\n") != NULL, pad);
                _cleanup_cookie_ struct cookie *p = NULL;
                assert_int_equal(parse(xml, strlen(xml), "web1", GUEST_UUID,
                                       COOKIE_FEATURES_LITEVIRT, &p, &err),
                                 0);
                assert_int_equal(p->ram_pad, pad);
                assert_int_equal(p->peer_mandatory, 0); /* a libvirt peer skips it */
        }
        /* given twice: refused, naming the element */
        const char *twice = "<qemu-migration><name>web1</name><uuid>" GUEST_UUID
                            "</uuid><hostname>a</hostname><hostuuid>"
                            "8b3f4dc4-6a8e-5f9b-94a5-4c35babd8d95</hostuuid>"
                            "<ram-pad/><ram-pad/></qemu-migration>";
        _cleanup_cookie_ struct cookie *p = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        assert_true(parse(twice, strlen(twice), "web1", GUEST_UUID, COOKIE_FEATURES_LITEVIRT, &p,
                          &err) < 0);
        assert_non_null(strstr(err->message, "given twice"));
        assert_non_null(strstr(err->message, "ram-pad"));
}

static void test_format_too_large(void **state)
{
        unsigned char g[16] = {1}, h[16] = {2};
        _cleanup_cookie_ struct cookie *c = cookie_new("web1", g, "hosta", h);
        _cleanup_free_ char *big = xmalloc(COOKIE_MAX_BYTES + 1);
        memset(big, 'a', COOKIE_MAX_BYTES);
        big[COOKIE_MAX_BYTES] = '\0';
        cookie_set_lockstate(c, "litevirt", big);
        _cleanup_free_ char *xml = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        assert_int_equal(cookie_format(c, &xml, &err), -E2BIG);
        assert_null(xml);
        assert_non_null(strstr(err->message, "is too large"));
}

int main(void)
{
        _cleanup_error_ struct lv_error *err = NULL;
        ops = conf_xml(&err);
        if (!ops || !ops->cookie_parse_string) {
                fprintf(stderr, "no cookie parser: %s\n", err ? err->message : "missing");
                return 1;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_libvirt_basic),
                cmocka_unit_test(test_libvirt_full),
                cmocka_unit_test(test_libvirt_full_litevirt_features),
                cmocka_unit_test(test_libvirt_all),
                cmocka_unit_test(test_data),
                cmocka_unit_test(test_size_bound),
                cmocka_unit_test(test_nul_byte),
                cmocka_unit_test(test_same_host),
                cmocka_unit_test(test_build_round_trip),
                cmocka_unit_test(test_format_too_large),
                cmocka_unit_test(test_ram_pad),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
