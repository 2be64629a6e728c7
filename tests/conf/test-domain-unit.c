/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the domain model's pure helpers and the parser's safety
 * limits (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conf/xml.h"
#include "util/strbuf.h"

static const char *const lxc_xml =
        "<domain type='lxc'><name>c1</name><uuid>e21987a5-e98e-9c99-0e35-803e4d9ad1fe</uuid>"
        "<memory unit='MiB'>64</memory><os><type>exe</type><init>/sbin/init</init></os>"
        "<devices><filesystem type='mount'><source dir='/srv/c1'/><target dir='/'/></filesystem>"
        "<interface type='bridge'><source bridge='br0'/></interface>"
        "<console type='pty'/></devices></domain>";

static int parse(const char *xml, size_t len, struct domain_def **def, struct lv_error **err)
{
        return conf_xml(err)->domain_parse_string(xml, len, "t.xml", def, err);
}

static void test_memory_units(void **state)
{
        unsigned long long kib = 0;
        const char *reason = NULL;
        static const struct {
                const char *v, *unit;
                unsigned long long kib;
        } ok[] = {
                {"1", NULL, 1},         {"1", "KiB", 1},
                {"1", "k", 1},          {"1", "K", 1},
                {"1000", "KB", 977},    {"1", "MiB", 1024},
                {"1", "M", 1024},       {"1", "MB", 977},
                {"1", "GiB", 1048576},  {"1", "G", 1048576},
                {"1", "GB", 976563},    {"1", "TiB", 1073741824},
                {"1", "T", 1073741824}, {"1", "TB", 976562500},
                {"1025", "b", 2},       {"1024", "bytes", 1},
                {"0", "b", 0},          {"8191", "PiB", 9222246136947933184ULL / 1024},
        };
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                assert_int_equal(domain_memory_to_kib(ok[i].v, ok[i].unit, &kib, &reason), 0);
                assert_true(kib == ok[i].kib);
        }
        assert_int_equal(domain_memory_to_kib("8192", "PiB", &kib, &reason), -ERANGE);
        assert_int_equal(domain_memory_to_kib("9", "EiB", &kib, &reason), -ERANGE);
        assert_int_equal(domain_memory_to_kib("18446744073709551616", NULL, &kib, &reason),
                         -ERANGE);
        assert_int_equal(domain_memory_to_kib("9007199254740992", "KiB", &kib, &reason), -ERANGE);
        assert_int_equal(domain_memory_to_kib("1", "parsecs", &kib, &reason), -EINVAL);
        assert_string_equal(reason, "unknown unit");
        assert_int_equal(domain_memory_to_kib("1", "mib", &kib, &reason), -EINVAL);
        assert_int_equal(domain_memory_to_kib("-1", NULL, &kib, &reason), -EINVAL);
        assert_int_equal(domain_memory_to_kib("1.5", "GiB", &kib, &reason), -EINVAL);
        assert_int_equal(domain_memory_to_kib("", NULL, &kib, &reason), -EINVAL);
        assert_int_equal(domain_memory_to_kib(" 1", NULL, &kib, &reason), -EINVAL);
}

static void test_uuid(void **state)
{
        unsigned char u[16], g1[16], g2[16];
        char s[37];
        assert_int_equal(domain_uuid_parse("e21987a5-e98e-9c99-0e35-803e4d9ad1fe", u), 0);
        domain_uuid_format(u, s);
        assert_string_equal(s, "e21987a5-e98e-9c99-0e35-803e4d9ad1fe");
        assert_int_equal(domain_uuid_parse("E21987A5E98E9C990E35803E4D9AD1FE", u), 0);
        domain_uuid_format(u, s);
        assert_string_equal(s, "e21987a5-e98e-9c99-0e35-803e4d9ad1fe");
        assert_int_equal(domain_uuid_parse(" e21987a5-e98e-9c99-0e35-803e4d9ad1fe\n", u), 0);
        assert_int_equal(domain_uuid_parse("e21987a5-e98e-9c99-0e35-803e4d9ad1f", u), -EINVAL);
        assert_int_equal(domain_uuid_parse("e21987a5-e98e-9c99-0e35-803e4d9ad1fe0", u), -EINVAL);
        assert_int_equal(domain_uuid_parse("g21987a5-e98e-9c99-0e35-803e4d9ad1fe", u), -EINVAL);
        assert_int_equal(domain_uuid_parse("", u), -EINVAL);
        assert_int_equal(domain_uuid_generate(g1), 0);
        assert_int_equal(domain_uuid_generate(g2), 0);
        assert_memory_not_equal(g1, g2, 16);
        assert_int_equal(g1[6] >> 4, 4);      /* version 4 */
        assert_int_equal(g1[8] & 0xc0, 0x80); /* RFC 4122 variant */
}

static void test_mac(void **state)
{
        unsigned char m[6];
        assert_true(domain_mac_parse("00:16:3E:0f:ef:8a", m));
        assert_int_equal(m[2], 0x3e);
        assert_false(domain_mac_parse("00:16:3e:0f:ef", m));
        assert_false(domain_mac_parse("00-16-3e-0f-ef-8a", m));
        assert_false(domain_mac_parse("00:16:3e:0f:ef:8g", m));
        assert_false(domain_mac_parse("00:16:3e:0f:ef:8a:", m));
        _cleanup_free_ char *q = domain_mac_generate(DOMAIN_TYPE_KVM);
        _cleanup_free_ char *x = domain_mac_generate(DOMAIN_TYPE_LXC);
        assert_true(startswith(q, "52:54:00:"));
        assert_true(startswith(x, "52:54:00:"));
        _cleanup_free_ char *xen = domain_mac_generate(DOMAIN_TYPE_XEN);
        assert_true(startswith(xen, "00:16:3e:"));
        assert_true(domain_mac_parse(q, m));
        assert_int_equal(m[0] & 1, 0);
}

static void test_enums(void **state)
{
        assert_string_equal(domain_type_to_string(DOMAIN_TYPE_KVM), "kvm");
        assert_int_equal(domain_type_from_string("xen"), DOMAIN_TYPE_XEN);
        assert_int_equal(domain_type_from_string("vbox"), -1);
        assert_int_equal(domain_type_from_string(NULL), -1);
        assert_null(domain_type_to_string(DOMAIN_TYPE_LAST));
        assert_null(domain_type_to_string(-1));
        for (int i = 0; i < DOMAIN_LIFECYCLE_LAST; i++)
                assert_int_equal(domain_lifecycle_from_string(domain_lifecycle_to_string(i)), i);
        for (int i = 0; i < DOMAIN_NET_LAST; i++)
                assert_int_equal(domain_net_type_from_string(domain_net_type_to_string(i)), i);
        for (int i = 0; i < DOMAIN_DISK_BUS_LAST; i++)
                assert_int_equal(domain_disk_bus_from_string(domain_disk_bus_to_string(i)), i);
}

static void test_parse_basics(void **state)
{
        _cleanup_domain_def_ struct domain_def *def = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        assert_int_equal(parse(lxc_xml, strlen(lxc_xml), &def, &err), 0);
        assert_int_equal(def->type, DOMAIN_TYPE_LXC);
        assert_string_equal(def->name, "c1");
        assert_true(def->memory_kib == 65536);
        assert_true(def->current_memory_kib == 65536);
        assert_int_equal(def->vcpus, 1);
        assert_string_equal(def->os.init, "/sbin/init");
        assert_non_null(domain_root_fs(def));
        assert_string_equal(domain_root_fs(def)->source, "/srv/c1");
        assert_int_equal(def->n_nets, 1);
        /* a missing MAC is generated, locally administered, unicast */
        assert_true(startswith(def->nets[0].mac, "52:54:00:"));
        assert_int_equal(def->n_chrs, 1);
        assert_int_equal(def->on_reboot, DOMAIN_LIFECYCLE_RESTART);

        /* equality sees every difference */
        _cleanup_domain_def_ struct domain_def *b = NULL;
        _cleanup_free_ char *x = domain_format(def);
        assert_int_equal(parse(x, strlen(x), &b, &err), 0);
        assert_true(domain_def_equal(def, b));
        b->nets[0].mtu = 1400;
        assert_false(domain_def_equal(def, b));
        b->nets[0].mtu = 0;
        free(b->filesystems[0].source);
        b->filesystems[0].source = xstrdup("/srv/other");
        assert_false(domain_def_equal(def, b));
}

static void test_uuid_generated(void **state)
{
        const char *xml = "<domain type='qemu'><name>v</name><memory>1024</memory>"
                          "<os><type>hvm</type></os></domain>";
        _cleanup_domain_def_ struct domain_def *a = NULL, *b = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        assert_int_equal(parse(xml, strlen(xml), &a, &err), 0);
        assert_int_equal(parse(xml, strlen(xml), &b, &err), 0);
        assert_memory_not_equal(a->uuid, b->uuid, 16);
}

static void expect_refused(const char *xml, size_t len, const char *message)
{
        _cleanup_domain_def_ struct domain_def *def = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        assert_true(parse(xml, len, &def, &err) < 0);
        assert_null(def);
        assert_non_null(err);
        if (!strstr(err->message, message))
                fail_msg("message '%s' lacks '%s'", err->message, message);
}

static void test_hostile_size(void **state)
{
        /* one byte over the limit, refused before parsing */
        size_t n = DOMAIN_XML_MAX_BYTES + 1;
        char *big = xmalloc(n);
        memset(big, ' ', n);
        memcpy(big, "<domain>", 8);
        expect_refused(big, n, "more than the limit of 1048576");
        free(big);
        /* embedded NUL */
        expect_refused("<domain type='lxc'>\0</domain>", 28, "NUL byte");
}

static void test_hostile_entities(void **state)
{
        /* external entity reading a local file: refused, never read */
        const char *xxe =
                "<?xml version='1.0'?>\n<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
                "<domain type='lxc'><name>&x;</name></domain>";
        expect_refused(xxe, strlen(xxe), "t.xml:2: DOCTYPE and entity declarations are refused");
        const char *net = "<!DOCTYPE domain SYSTEM 'http://127.0.0.1:1/x.dtd'><domain/>";
        expect_refused(net, strlen(net), "DOCTYPE and entity declarations are refused");
        /* an undeclared entity reference is a well-formedness error */
        const char *undeclared = "<domain type='lxc'><name>&x;</name></domain>";
        expect_refused(undeclared, strlen(undeclared), "t.xml:1: Entity 'x' not defined");
        /* XInclude is not processed: an unknown element */
        const char *xi = "<domain type='lxc' xmlns:xi='http://www.w3.org/2001/XInclude'>"
                         "<name>c</name><memory>1</memory><os><type>exe</type><init>/i</init></os>"
                         "<xi:include href='/etc/passwd' parse='text'/></domain>";
        expect_refused(xi, strlen(xi), "element 'xi:include': not supported by litevirt");
}

static void test_hostile_depth(void **state)
{
        struct strbuf b = {0};
        strbuf_append(&b, "<domain type='lxc'><name>c</name><metadata>");
        for (int i = 0; i < 40; i++)
                strbuf_append(&b, "<a>");
        for (int i = 0; i < 40; i++)
                strbuf_append(&b, "</a>");
        strbuf_append(&b, "</metadata></domain>");
        expect_refused(b.buf, b.len, "nested deeper than 32 levels");
        strbuf_reset(&b);
        /* libxml2's own limit protects the parser itself */
        for (int i = 0; i < 5000; i++)
                strbuf_append(&b, "<a>");
        expect_refused(b.buf, b.len, "t.xml:1:");
        strbuf_reset(&b);
}

static void test_error_lines(void **state)
{
        const char *xml =
                "<domain type='lxc'>\n  <name>c</name>\n  <memory>1</memory>\n"
                "  <os><type>exe</type><init>/i</init></os>\n"
                "  <devices>\n    <filesystem><source dir='/r'/><target dir='/'/></filesystem>\n"
                "    <smartcard mode='host'/>\n  </devices>\n</domain>";
        expect_refused(xml, strlen(xml), "t.xml:7: element 'smartcard': not supported by litevirt");
        const char *attr = "<domain type='lxc' id='5'><name>c</name><memory>1</memory>"
                           "<os><type>exe</type><init>/i</init></os></domain>";
        expect_refused(attr, strlen(attr),
                       "t.xml:1: attribute 'id' of element 'domain': not supported by litevirt");
        const char *garbage = "<domain";
        expect_refused(garbage, strlen(garbage), "t.xml:1:");
        expect_refused("", 0, "t.xml");
}

/* A model built by hand (as an xl.cfg importer does): defaults make it
 * equal to what its XML parses to; validation refuses what XML cannot carry. */
static void test_defaults_and_text(void **state)
{
        _cleanup_domain_def_ struct domain_def *def = xcalloc(1, sizeof(*def));
        _cleanup_error_ struct lv_error *err = NULL;
        def->type = DOMAIN_TYPE_XEN;
        def->name = xstrdup("x1");
        assert_int_equal(domain_uuid_generate(def->uuid), 0);
        def->memory_kib = 262144;
        def->os.type = DOMAIN_OS_HVM;
        def->graphics = xcalloc(1, sizeof(*def->graphics));
        def->n_graphics = 1;
        def->graphics[0].type = DOMAIN_GRAPHICS_VNC;
        def->graphics[0].autoport = true;
        def->graphics[0].port = 5901;
        def->graphics[0].tls_port = def->graphics[0].websocket = -1;
        def->graphics[0].listen = xstrdup("127.0.0.1");
        def->disks = xcalloc(1, sizeof(*def->disks));
        def->n_disks = 1;
        def->disks[0].target_dev = xstrdup("xvda");
        def->disks[0].source = xstrdup("/img");
        def->nets = xcalloc(1, sizeof(*def->nets));
        def->n_nets = 1;
        def->nets[0].type = DOMAIN_NET_BRIDGE;
        def->nets[0].source = xstrdup("xenbr0");
        def->nets[0].mac = xstrdup("00:16:3E:AA:BB:CC");
        def->nets[0].mtu = 0;
        def->nets[0].address.type = NULL;
        domain_def_apply_defaults(def);
        assert_true(def->current_memory_kib == 262144);
        assert_string_equal(def->vcpu_placement, "static");
        assert_int_equal(def->vcpus, 1);
        assert_int_equal(def->os.n_boot, 1);
        assert_int_equal(def->disks[0].bus, DOMAIN_DISK_BUS_XEN);
        assert_int_equal(def->graphics[0].port, -1);
        assert_int_equal(def->graphics[0].n_listens, 1);
        assert_string_equal(def->graphics[0].listens[0].address, "127.0.0.1");
        assert_string_equal(def->nets[0].mac, "00:16:3e:aa:bb:cc");
        assert_int_equal(domain_validate(def, &err), 0);
        _cleanup_free_ char *x = domain_format(def);
        _cleanup_domain_def_ struct domain_def *back = NULL;
        assert_int_equal(parse(x, strlen(x), &back, &err), 0);
        assert_true(domain_def_equal(def, back));
        /* idempotent */
        domain_def_apply_defaults(back);
        assert_true(domain_def_equal(def, back));

        free(def->description);
        def->description = xstrdup("caf\xc3");
        assert_true(domain_validate(def, &err) < 0);
        assert_non_null(strstr(err->message, "not valid UTF-8 (byte 0xc3)"));
        lv_error_freep(&err);
        free(def->description);
        def->description = xstrdup("bell\x07");
        assert_true(domain_validate(def, &err) < 0);
        assert_non_null(strstr(err->message, "U+0007"));
        lv_error_freep(&err);
        free(def->description);
        def->description = xstrdup("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82");
        assert_int_equal(domain_validate(def, &err), 0);
        free(def->description);
        def->description = xstrdup("overlong \xc0\xaf");
        assert_true(domain_validate(def, &err) < 0);
}

/* A running guest's live values: shown by dumpxml (DOMAIN_FORMAT_LIVE:
 * ports, host-side links; aliases and ptys always), and that XML, as
 * virsh dumpxml gives it, defines back to the same model (libvirt drops
 * aliases and an autoport's port at define; a user alias is refused). */
static void test_live_values(void **state)
{
        static const char *const xml =
                "<domain type='qemu'><name>v1</name><memory unit='MiB'>128</memory>"
                "<os><type>hvm</type></os><devices>"
                "<disk type='file' device='disk'><source file='/img'/>"
                "<target dev='vda' bus='virtio'/></disk>"
                "<interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>"
                "<serial type='pty'><target port='0'/></serial>"
                "<console type='pty'><target type='serial' port='0'/></console>"
                "<graphics type='vnc' autoport='yes' passwd='s3cret'/></devices></domain>";
        _cleanup_domain_def_ struct domain_def *def = NULL, *back = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        assert_int_equal(parse(xml, strlen(xml), &def, &err), 0);
        def->disks[0].address.alias = xstrdup("virtio-disk0");
        def->nets[0].address.alias = xstrdup("net0");
        def->nets[0].ifname = xstrdup("lvv1-0");
        def->chrs[0].alias = xstrdup("serial0");
        def->chrs[0].source_path = xstrdup("/dev/pts/3");
        def->chrs[1].alias = xstrdup("serial0");
        def->chrs[1].source_path = xstrdup("/dev/pts/3");
        def->graphics[0].live_port = 5901;

        _cleanup_free_ char *live = domain_format_flags(def, DOMAIN_FORMAT_LIVE);
        _cleanup_free_ char *hidden =
                domain_format_flags(def, DOMAIN_FORMAT_LIVE | DOMAIN_FORMAT_HIDE_SECRETS);
        assert_non_null(strstr(live, "<graphics type='vnc' port='5901' autoport='yes'"));
        assert_non_null(strstr(live, "passwd='s3cret'"));
        assert_null(strstr(hidden, "s3cret"));
        assert_non_null(strstr(live, "<target dev='lvv1-0'/>"));
        assert_non_null(strstr(live, "<target dev='vda' bus='virtio'/>\n"
                                     "      <alias name='virtio-disk0'/>\n"));
        assert_non_null(strstr(live, "<alias name='net0'/>"));
        assert_non_null(strstr(live, "<console type='pty' tty='/dev/pts/3'>\n"
                                     "      <source path='/dev/pts/3'/>"));
        assert_non_null(strstr(live, "<alias name='serial0'/>\n    </serial>"));
        /* without LIVE (the stored form, migration): no port, no link */
        _cleanup_free_ char *plain = domain_format(def);
        assert_non_null(strstr(plain, "port='-1' autoport='yes'"));
        assert_null(strstr(plain, "lvv1-0"));
        assert_non_null(strstr(plain, "s3cret"));

        assert_int_equal(parse(live, strlen(live), &back, &err), 0);
        assert_null(back->disks[0].address.alias);
        assert_int_equal(back->graphics[0].port, -1);
        /* litevirt's own link name stays (the one it would pick anyway);
         * libvirt's generated ones are dropped */
        assert_string_equal(back->nets[0].target_dev, "lvv1-0");
        free(back->nets[0].target_dev);
        back->nets[0].target_dev = NULL;
        assert_true(domain_def_equal(def, back));
        char *vnet = xstrdup(live);
        memcpy(strstr(vnet, "lvv1-0"), "vnet12", 6);
        _cleanup_domain_def_ struct domain_def *v = NULL;
        assert_int_equal(parse(vnet, strlen(vnet), &v, &err), 0);
        free(vnet);
        assert_null(v->nets[0].target_dev);

        static const char *const ua =
                "<domain type='qemu'><name>v1</name><memory unit='MiB'>128</memory>"
                "<os><type>hvm</type></os><devices><disk type='file' device='disk'>"
                "<source file='/img'/><target dev='vda' bus='virtio'/><alias name='ua-mine'/>"
                "</disk></devices></domain>";
        _cleanup_domain_def_ struct domain_def *u = NULL;
        assert_true(parse(ua, strlen(ua), &u, &err) < 0);
        assert_non_null(strstr(err->message, "user alias 'ua-mine' not supported"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_memory_units),
                cmocka_unit_test(test_uuid),
                cmocka_unit_test(test_mac),
                cmocka_unit_test(test_enums),
                cmocka_unit_test(test_parse_basics),
                cmocka_unit_test(test_uuid_generated),
                cmocka_unit_test(test_hostile_size),
                cmocka_unit_test(test_hostile_entities),
                cmocka_unit_test(test_hostile_depth),
                cmocka_unit_test(test_error_lines),
                cmocka_unit_test(test_defaults_and_text),
                cmocka_unit_test(test_live_values),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
