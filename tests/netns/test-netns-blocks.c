/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network building blocks against the real kernel, each test in a
 * fresh network namespace of its own. */
#include "tests/netns/netns-test.h"

#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static struct netns_nl *nl;
static char ns_name[64];

static int setup(void **state)
{
        if (unshare(CLONE_NEWNET) < 0)
                return -1;
        struct lv_error *e = NULL;
        if (netns_nl_open(&nl, &e) < 0) {
                fprintf(stderr, "%s\n", e->message);
                lv_error_free(e);
                return -1;
        }
        snprintf(ns_name, sizeof(ns_name), "lvtest-%d", (int)getpid());
        return 0;
}

static int teardown(void **state)
{
        netns_nl_close(nl);
        nl = NULL;
        if (netns_exists(ns_name))
                netns_delete(ns_name, NULL);
        return 0;
}

static void test_mac_and_name_checks(void **state)
{
        unsigned char mac[6];
        char s[NETNS_MAC_STRLEN];
        nt_ok(netns_mac_parse("52:54:00:AB:cd:0f", mac, err));
        netns_mac_format(mac, s);
        assert_string_equal(s, "52:54:00:ab:cd:0f");
        nt_fails(netns_mac_parse("52:54:00:ab:cd", mac, err), EINVAL, "'52:54:00:ab:cd'");
        nt_fails(netns_mac_parse("52-54-00-ab-cd-0f", mac, err), EINVAL, "expected");
        nt_fails(netns_mac_parse("52:54:00:ab:cd:0g", mac, err), EINVAL, "expected");
        nt_fails(netns_mac_parse("01:00:5e:00:00:01", mac, err), EINVAL, "multicast");
        nt_fails(netns_mac_parse("00:00:00:00:00:00", mac, err), EINVAL, "all zero");
        nt_fails(netns_mac_parse(NULL, mac, err), EINVAL, "invalid MAC");

        nt_ok(netns_ifname_check("lvweb1-0", err));
        nt_fails(netns_ifname_check("a-very-long-name0", err), EINVAL, "too long");
        nt_fails(netns_ifname_check("eth/0", err), EINVAL, "'/'");
        nt_fails(netns_ifname_check("eth 0", err), EINVAL, "not allowed");
        /* the kernel would take "%d" as a numbering template */
        nt_fails(netns_ifname_check("lv%d", err), EINVAL, "character '%' not allowed");
        nt_fails(netns_ifname_check("..", err), EINVAL, "invalid");
        nt_fails(netns_ifname_check("", err), EINVAL, "empty");
}

static void test_veth_properties(void **state)
{
        unsigned char mac[6] = {0x52, 0x54, 0x00, 0x11, 0x22, 0x33};
        unsigned char pmac[6] = {0xfe, 0x54, 0x00, 0x11, 0x22, 0x33};
        struct netns_veth_spec spec = {
                .name = "vtest0",
                .peer_name = "vtest1",
                .peer_nsfd = -1,
                .mac = mac,
                .peer_mac = pmac,
                .mtu = 1400,
        };
        nt_ok(netns_veth_create(nl, &spec, err));

        struct netns_link_info a, b;
        nt_ok(netns_link_get(nl, "vtest0", &a, err));
        nt_ok(netns_link_get(nl, "vtest1", &b, err));
        assert_string_equal(a.kind, "veth");
        assert_memory_equal(a.mac, mac, 6);
        assert_memory_equal(b.mac, pmac, 6);
        assert_int_equal(a.mtu, 1400);
        assert_int_equal(b.mtu, 1400);
        assert_false(a.flags & IFF_UP);

        nt_ok(netns_link_set_mtu(nl, "vtest0", 1280, err));
        unsigned char mac2[6] = {0x02, 0, 0, 0, 0, 0x42};
        nt_ok(netns_link_set_mac(nl, "vtest0", mac2, err));
        nt_ok(netns_link_set_alias(nl, "vtest0", "litevirt:test", err));
        nt_ok(netns_link_rename(nl, "vtest0", "renamed0", err));
        nt_ok(netns_link_set_up(nl, "renamed0", true, err));
        assert_int_equal(netns_link_exists(nl, "vtest0", NULL), 0);
        nt_ok(netns_link_get(nl, "renamed0", &a, err));
        assert_int_equal(a.mtu, 1280);
        assert_memory_equal(a.mac, mac2, 6);
        assert_string_equal(a.alias, "litevirt:test");
        assert_true(a.flags & IFF_UP);

        /* seen the same way from outside */
        _cleanup_free_ char *out = nt_sh("ip -o link show renamed0");
        assert_non_null(strstr(out, "mtu 1280"));
        assert_non_null(strstr(out, "02:00:00:00:00:42"));
        assert_non_null(strstr(out, "alias litevirt:test"));

        nt_ok(netns_link_set_up(nl, "renamed0", false, err));
        nt_ok(netns_link_get(nl, "renamed0", &a, err));
        assert_false(a.flags & IFF_UP);

        /* deleting one end removes the pair */
        nt_ok(netns_link_delete(nl, "renamed0", err));
        assert_int_equal(netns_link_exists(nl, "vtest1", NULL), 0);
        assert_int_equal(nt_link_count(nl), 1); /* lo */
}

static int sees_mv1(void *data, struct lv_error **err)
{
        struct netns_nl *here = NULL;
        int r = netns_nl_open(&here, err);
        if (r < 0)
                return r;
        *(int *)data = netns_link_exists(here, "mv1", err);
        netns_nl_close(here);
        return 0;
}

static void test_veth_peer_in_other_namespace(void **state)
{
        nt_ok(netns_create(ns_name, err));
        assert_true(netns_exists(ns_name));
        nt_fails(netns_create(ns_name, err), EEXIST, "already exists");

        int nsfd = -1;
        nt_ok(nsfd = netns_open_named(ns_name, err));
        unsigned char pmac[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
        struct netns_veth_spec spec = {
                .name = "host0",
                .peer_name = "eth0",
                .peer_nsfd = nsfd,
                .peer_mac = pmac,
                .mtu = 1450,
        };
        nt_ok(netns_veth_create(nl, &spec, err));
        assert_int_equal(netns_link_exists(nl, "eth0", NULL), 0);

        struct netns_nl *peer = NULL;
        nt_ok(netns_nl_open_fd(nsfd, &peer, err));
        struct netns_link_info info;
        nt_ok(netns_link_get(peer, "eth0", &info, err));
        assert_memory_equal(info.mac, pmac, 6);
        assert_int_equal(info.mtu, 1450);
        /* and from outside, with ip */
        _cleanup_free_ char *out = nt_sh("ip -n %s -o link show eth0", ns_name);
        assert_non_null(strstr(out, "52:54:00:aa:bb:cc"));

        /* a second pair whose peer name is taken over there: refused,
         * naming where, and nothing made here */
        size_t before = nt_link_count(nl);
        spec.name = "host1";
        nt_fails(netns_veth_create(nl, &spec, err), EEXIST, "peer's namespace");
        assert_int_equal(nt_link_count(nl), before);

        /* move a link over and back */
        struct netns_veth_spec s2 = {.name = "mv0", .peer_name = "mv1", .peer_nsfd = -1};
        nt_ok(netns_veth_create(nl, &s2, err));
        nt_ok(netns_link_move(nl, "mv1", nsfd, err));
        assert_int_equal(netns_link_exists(nl, "mv1", NULL), 0);
        assert_int_equal(netns_link_exists(peer, "mv1", NULL), 1);

        /* running a call inside the namespace */
        int seen = -1;
        nt_ok(netns_run_in(nsfd, sees_mv1, &seen, err));
        assert_int_equal(seen, 1);
        seen = -1;
        nt_ok(sees_mv1(&seen, err));
        assert_int_equal(seen, 0); /* and back home afterwards */

        nt_ok(netns_link_delete(nl, "host0", err));
        netns_nl_close(peer);
        close(nsfd);
        nt_ok(netns_delete(ns_name, err));
        assert_false(netns_exists(ns_name));
        nt_fails(netns_delete(ns_name, err), ENOENT, "does not exist");
}

static void test_bridge_and_tap(void **state)
{
        if (access("/dev/net/tun", R_OK | W_OK) != 0)
                skip(); /* no tun/tap on this kernel */
        nt_ok(netns_bridge_create(nl, "br0", err));
        nt_fails(netns_bridge_create(nl, "br0", err), EEXIST, "already exists");
        nt_ok(netns_bridge_check(nl, "br0", err));
        nt_fails(netns_bridge_check(nl, "nosuchbr", err), ENODEV,
                 "bridge 'nosuchbr' does not exist");
        nt_fails(netns_bridge_check(nl, "lo", err), EINVAL, "'lo' is not a bridge");

        char name[IFNAMSIZ];
        int fd = -1;
        nt_ok(netns_tap_create("lvtap%d", NETNS_TAP_VNET_HDR, name, &fd, err));
        assert_string_equal(name, "lvtap0");
        struct ifreq ifr = {0};
        assert_int_equal(ioctl(fd, TUNGETIFF, &ifr), 0);
        assert_true(ifr.ifr_flags & IFF_TAP);
        assert_true(ifr.ifr_flags & IFF_VNET_HDR);

        unsigned char mac[6] = {0xfe, 0x54, 0x00, 0x01, 0x02, 0x03};
        nt_ok(netns_link_set_mac(nl, name, mac, err));
        nt_ok(netns_bridge_attach(nl, "br0", name, err));
        nt_ok(netns_link_set_up(nl, name, true, err));
        struct netns_link_info tap, br;
        nt_ok(netns_link_get(nl, name, &tap, err));
        nt_ok(netns_link_get(nl, "br0", &br, err));
        assert_string_equal(tap.kind, "tun");
        assert_int_equal(tap.master, br.ifindex);
        assert_memory_equal(tap.mac, mac, 6);

        /* the bridge itself lists it as a port with that MAC */
        _cleanup_free_ char *port = nt_sh("ip -o link show master br0");
        assert_non_null(strstr(port, "lvtap0"));
        assert_non_null(strstr(port, "fe:54:00:01:02:03"));
        _cleanup_free_ char *fdb = nt_sh("bridge fdb show br br0 | grep -c 'fe:54:00:01:02:03'");
        assert_string_not_equal(fdb, "0");

        /* attaching to something that is not a bridge is refused up front */
        nt_fails(netns_bridge_attach(nl, "lo", name, err), EINVAL, "not a bridge");
        nt_fails(netns_bridge_attach(nl, "br9", name, err), ENODEV, "'br9' does not exist");

        /* a second tap of the same name: refused, first one untouched */
        int fd2 = -1;
        nt_fails(netns_tap_create("lvtap0", 0, name, &fd2, err), EEXIST, "already exists");
        assert_int_equal(fd2, -1);

        /* a tap without NETNS_TAP_PERSIST goes away with its fd */
        close(fd);
        assert_int_equal(netns_link_exists(nl, "lvtap0", NULL), 0);

        /* a persistent one stays until deleted */
        nt_ok(netns_tap_create("lvptap", NETNS_TAP_PERSIST, name, &fd, err));
        close(fd);
        assert_int_equal(netns_link_exists(nl, "lvptap", NULL), 1);
        nt_ok(netns_link_delete(nl, "lvptap", err));
        assert_int_equal(netns_link_exists(nl, "lvptap", NULL), 0);
}

static bool has_addr(const char *ifname, const char *address, int prefix, const char *peer)
{
        struct netns_addr *v = NULL;
        size_t n = 0;
        nt_ok(netns_addr_list(nl, ifname, &v, &n, err));
        bool found = false;
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].address, address) && v[i].prefix == prefix &&
                    streq(v[i].peer, peer ? peer : "") && streq(v[i].ifname, ifname))
                        found = true;
        free(v);
        return found;
}

static void test_addresses(void **state)
{
        struct netns_veth_spec spec = {.name = "a0", .peer_name = "a1", .peer_nsfd = -1};
        nt_ok(netns_veth_create(nl, &spec, err));
        nt_ok(netns_link_set_up(nl, "a0", true, err));

        nt_ok(netns_addr_add(nl, "a0", "192.168.50.2", 24, NULL, err));
        nt_ok(netns_addr_add(nl, "a0", "10.1.2.3", -1, NULL, err)); /* class A: /8 */
        nt_ok(netns_addr_add(nl, "a0", "fd00:1::2", 64, NULL, err));
        nt_ok(netns_addr_add(nl, "a0", "172.16.9.1", 32, "172.16.9.2", err));
        assert_true(has_addr("a0", "192.168.50.2", 24, NULL));
        assert_true(has_addr("a0", "10.1.2.3", 8, NULL));
        assert_true(has_addr("a0", "fd00:1::2", 64, NULL));
        assert_true(has_addr("a0", "172.16.9.1", 32, "172.16.9.2"));
        assert_false(has_addr("a0", "192.168.50.2", 16, NULL));

        _cleanup_free_ char *out = nt_sh(
                "ip -o -4 addr show dev a0 | grep -c 'inet 192.168.50.2/24 brd 192.168.50.255'");
        assert_string_equal(out, "1");

        nt_fails(netns_addr_add(nl, "a0", "192.168.50.2", 24, NULL, err), EEXIST,
                 "adding address 192.168.50.2/24 to 'a0'");
        nt_fails(netns_addr_add(nl, "a0", "192.168.500.2", 24, NULL, err), EINVAL,
                 "invalid IP address '192.168.500.2'");
        nt_fails(netns_addr_add(nl, "a0", "localhost", 24, NULL, err), EINVAL, "'localhost'");
        nt_fails(netns_addr_add(nl, "a0", "10.0.0.1", 33, NULL, err), EINVAL, "invalid prefix 33");
        nt_fails(netns_addr_add(nl, "a0", "fd00::1", 129, NULL, err), EINVAL, "0..128");
        nt_fails(netns_addr_add(nl, "a0", "224.0.0.9", -1, NULL, err), EINVAL,
                 "address '224.0.0.9' needs a prefix");
        nt_fails(netns_addr_add(nl, "a0", "10.0.0.1", 24, "fd00::9", err), EINVAL,
                 "peer of address '10.0.0.1'");
        nt_fails(netns_addr_add(nl, "nosuch", "10.0.0.1", 24, NULL, err), ENODEV,
                 "link 'nosuch' does not exist");
        assert_false(has_addr("a0", "10.0.0.1", 24, NULL));

        nt_ok(netns_addr_delete(nl, "a0", "192.168.50.2", 24, err));
        assert_false(has_addr("a0", "192.168.50.2", 24, NULL));
        nt_ok(netns_link_delete(nl, "a0", err));
}

static bool has_route(const char *dst, int prefix, const char *gw, const char *dev, int metric)
{
        struct netns_route *v = NULL;
        size_t n = 0;
        nt_ok(netns_route_list(nl, 0, &v, &n, err));
        bool found = false;
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].dst, dst) && v[i].prefix == prefix && streq(v[i].gateway, gw) &&
                    streq(v[i].ifname, dev) && (metric < 0 || v[i].metric == metric))
                        found = true;
        free(v);
        return found;
}

static void test_routes(void **state)
{
        struct netns_veth_spec spec = {.name = "r0", .peer_name = "r1", .peer_nsfd = -1};
        nt_ok(netns_veth_create(nl, &spec, err));
        nt_ok(netns_link_set_up(nl, "r0", true, err));
        nt_ok(netns_link_set_up(nl, "r1", true, err));
        nt_ok(netns_addr_add(nl, "r0", "192.168.60.2", 24, NULL, err));
        nt_ok(netns_addr_add(nl, "r0", "fd00:60::2", 64, NULL, err));

        struct netns_route def = {.prefix = 0, .metric = -1};
        snprintf(def.gateway, sizeof(def.gateway), "192.168.60.1");
        nt_ok(netns_route_add(nl, &def, err));
        struct netns_route net = {.prefix = 16, .metric = 50};
        snprintf(net.dst, sizeof(net.dst), "10.20.0.0");
        snprintf(net.gateway, sizeof(net.gateway), "192.168.60.254");
        nt_ok(netns_route_add(nl, &net, err));
        struct netns_route onlink = {.prefix = 32, .metric = -1};
        snprintf(onlink.dst, sizeof(onlink.dst), "10.99.0.7");
        snprintf(onlink.ifname, sizeof(onlink.ifname), "r0");
        nt_ok(netns_route_add(nl, &onlink, err));
        struct netns_route v6 = {.prefix = 48, .metric = -1};
        snprintf(v6.dst, sizeof(v6.dst), "fd00:70::");
        snprintf(v6.gateway, sizeof(v6.gateway), "fd00:60::1");
        nt_ok(netns_route_add(nl, &v6, err));

        assert_true(has_route("", 0, "192.168.60.1", "r0", -1));
        assert_true(has_route("10.20.0.0", 16, "192.168.60.254", "r0", 50));
        assert_true(has_route("10.99.0.7", 32, "", "r0", -1));
        assert_true(has_route("fd00:70::", 48, "fd00:60::1", "r0", -1));
        assert_false(has_route("10.20.0.0", 16, "192.168.60.254", "r0", 51));
        _cleanup_free_ char *out = nt_sh("ip -4 route show 10.20.0.0/16");
        assert_string_equal(out, "10.20.0.0/16 via 192.168.60.254 dev r0 proto static metric 50");

        /* the kernel's own reason comes through (libnl alone says
         * "Unspecific failure") */
        struct netns_route far = {.prefix = 24, .metric = -1};
        snprintf(far.dst, sizeof(far.dst), "10.30.0.0");
        snprintf(far.gateway, sizeof(far.gateway), "172.31.0.1");
        nt_fails(netns_route_add(nl, &far, err), ENETUNREACH, "Network is unreachable");
        assert_false(has_route("10.30.0.0", 24, "172.31.0.1", "r0", -1));

        struct netns_route bits = {.prefix = 16, .metric = -1};
        snprintf(bits.dst, sizeof(bits.dst), "10.20.1.0");
        snprintf(bits.gateway, sizeof(bits.gateway), "192.168.60.1");
        nt_fails(netns_route_add(nl, &bits, err), EINVAL, "bits set beyond the prefix");
        struct netns_route mixed = {.prefix = 24, .metric = -1};
        snprintf(mixed.dst, sizeof(mixed.dst), "10.40.0.0");
        snprintf(mixed.gateway, sizeof(mixed.gateway), "fd00:60::1");
        nt_fails(netns_route_add(nl, &mixed, err), EINVAL, "gateway: invalid IPv4 address");
        nt_fails(netns_route_add(nl, &def, err), EEXIST, "adding route to default/0");
        nt_ok(netns_link_delete(nl, "r0", err));
        assert_false(has_route("", 0, "192.168.60.1", "r0", -1));
}

static void test_failures_leave_nothing(void **state)
{
        size_t before = nt_link_count(nl);
        struct netns_veth_spec spec = {.name = "d0", .peer_name = "d1", .peer_nsfd = -1};
        nt_ok(netns_veth_create(nl, &spec, err));
        before += 2;

        /* duplicate names, either end */
        struct netns_veth_spec dup = {.name = "d0", .peer_name = "x1", .peer_nsfd = -1};
        nt_fails(netns_veth_create(nl, &dup, err), EEXIST, "'d0' already exists");
        dup.name = "x0";
        dup.peer_name = "d1";
        nt_fails(netns_veth_create(nl, &dup, err), EEXIST, "'d1' already exists");
        dup.peer_name = "x0";
        nt_fails(netns_veth_create(nl, &dup, err), EEXIST, "cannot both be named");
        /* names too long, MTU out of range */
        dup.peer_name = "much-too-long-name";
        nt_fails(netns_veth_create(nl, &dup, err), EINVAL, "too long");
        dup.peer_name = "x1";
        dup.mtu = 40;
        nt_fails(netns_veth_create(nl, &dup, err), EINVAL, "invalid MTU 40");
        nt_fails(netns_link_set_mtu(nl, "d0", 70000, err), EINVAL, "invalid MTU 70000");
        /* a MAC the kernel refuses (multicast), kernel errno passed on */
        unsigned char mcast[6] = {0x01, 0, 0x5e, 0, 0, 1};
        nt_fails(netns_link_set_mac(nl, "d0", mcast, err), EADDRNOTAVAIL,
                 "setting MAC 01:00:5e:00:00:01 of link 'd0'");
        nt_fails(netns_link_rename(nl, "d0", "d1", err), EEXIST, "renaming to 'd1'");
        nt_fails(netns_link_delete(nl, "nosuch", err), ENODEV, "'nosuch' does not exist");
        assert_int_equal(nt_link_count(nl), before);

        /* a namespace that cannot be made leaves no file behind */
        nt_fails(netns_create("bad/name", err), EINVAL, "invalid network namespace name");
        nt_fails(netns_open_named("lvtest-none", err), ENOENT, "does not exist");
}

int main(void)
{
        nt_enter_private_netns();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mac_and_name_checks),
                cmocka_unit_test_setup_teardown(test_veth_properties, setup, teardown),
                cmocka_unit_test_setup_teardown(test_veth_peer_in_other_namespace, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bridge_and_tap, setup, teardown),
                cmocka_unit_test_setup_teardown(test_addresses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failures_leave_nothing, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
