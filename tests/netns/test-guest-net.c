/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest networking from a definition, against the real kernel: "boxes"
 * (forked children in network namespaces of their own) stand in for
 * containers; the test process itself lives in a private namespace that
 * plays the host. */
#include "tests/netns/netns-test.h"

#include <linux/if_tun.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "driver-support/driver.h"
#include "netns/guest_net.h"

/* ---- the guest's undo stack (driver-support), as the drivers pass it ---- */

static int setup_container(struct lv_guest *g, pid_t pid, struct lv_error **err)
{
        struct undo_sink undo = guest_undo_sink(g);
        return netns_guest_setup_container(g->def, &undo, pid, err);
}

static int setup_vm(struct lv_guest *g, unsigned flags, struct netns_guest_tap **ret, int *ret_n,
                    struct lv_error **err)
{
        struct undo_sink undo = guest_undo_sink(g);
        return netns_guest_setup_vm(g->def, &undo, flags, ret, ret_n, err);
}

/* Forget the undos without running them: a supervisor that was killed. */
static void guest_undo_drop(struct lv_guest *g)
{
        while (g->n_undo > 0) {
                struct guest_undo *u = &g->undo[--g->n_undo];
                if (u->free_data)
                        u->free_data(u->data);
                free(u->what);
        }
        free(g->undo);
        g->undo = NULL;
}

/* ---- boxes ---- */

struct box {
        pid_t pid;
        int hold; /* the box lives until this is closed */
};

static struct box box_start(void)
{
        int ready[2], hold[2];
        assert_int_equal(pipe(ready), 0);
        assert_int_equal(pipe(hold), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(ready[0]);
                close(hold[1]);
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                char c = 1;
                if (write(ready[1], &c, 1) != 1)
                        _exit(1);
                while (read(hold[0], &c, 1) > 0)
                        ;
                _exit(0);
        }
        close(ready[1]);
        close(hold[0]);
        char c = 0;
        assert_int_equal(read(ready[0], &c, 1), 1);
        close(ready[0]);
        return (struct box){pid, hold[1]};
}

static void box_stop(struct box *b)
{
        if (b->pid <= 0)
                return;
        /* the box is ours: kill and reap it (other boxes hold copies of
         * its pipe, so EOF alone would not end it) */
        kill(b->pid, SIGKILL);
        close(b->hold);
        waitpid(b->pid, NULL, 0);
        b->pid = 0;
}

static struct netns_nl *box_nl(const struct box *b)
{
        struct netns_nl *nl = NULL;
        int fd = -1;
        nt_ok(fd = netns_open_pid(b->pid, err));
        nt_ok(netns_nl_open_fd(fd, &nl, err));
        close(fd);
        return nl;
}

/* ---- definitions ---- */

static struct domain_def *def_new(const char *name, int n_nets)
{
        struct domain_def *d = xcalloc(1, sizeof(*d));
        d->type = DOMAIN_TYPE_LXC;
        d->name = xstrdup(name);
        for (int i = 0; i < 16; i++)
                d->uuid[i] = (unsigned char)(name[i % strlen(name)] + i);
        d->nets = xcalloc((size_t)n_nets, sizeof(*d->nets));
        d->n_nets = n_nets;
        return d;
}

static void net_set(struct domain_net *n, enum domain_net_type type, const char *source,
                    const char *mac)
{
        n->type = type;
        n->source = xstrdup_null(source);
        n->mac = xstrdup_null(mac);
}

static void net_add_ip(struct domain_net *n, const char *addr, int prefix, const char *peer)
{
        n->ips = xrealloc(n->ips, sizeof(*n->ips) * (size_t)(n->n_ips + 1));
        n->ips[n->n_ips++] = (struct domain_ip){xstrdup(addr), NULL, prefix, xstrdup_null(peer)};
}

static void net_add_route(struct domain_net *n, const char *addr, int prefix, const char *gw)
{
        n->routes = xrealloc(n->routes, sizeof(*n->routes) * (size_t)(n->n_routes + 1));
        n->routes[n->n_routes++] =
                (struct domain_route){NULL, xstrdup_null(addr), prefix, xstrdup_null(gw), -1};
}

static void def_free(struct domain_def *d)
{
        for (int i = 0; i < d->n_nets; i++) {
                struct domain_net *n = &d->nets[i];
                free(n->mac);
                free(n->source);
                free(n->target_dev);
                free(n->guest_dev);
                free(n->model);
                free(n->ifname); /* the running definition's host link */
                for (int j = 0; j < n->n_ips; j++) {
                        free(n->ips[j].address);
                        free(n->ips[j].peer);
                }
                free(n->ips);
                for (int j = 0; j < n->n_routes; j++) {
                        free(n->routes[j].address);
                        free(n->routes[j].gateway);
                }
                free(n->routes);
        }
        free(d->nets);
        free(d->name);
        free(d);
}

static struct lv_guest guest_of(struct domain_def *d)
{
        return (struct lv_guest){.def = d, .name = d->name, .pidfd = -1, .console_fd = -1};
}

/* links in the host namespace whose alias says they are this guest's */
static int owned_links(const unsigned char uuid[16])
{
        struct netns_nl *nl = NULL;
        nt_ok(netns_nl_open(&nl, err));
        struct netns_link_info *v = NULL;
        size_t n = 0;
        nt_ok(netns_link_list(nl, &v, &n, err));
        int c = 0;
        for (size_t i = 0; i < n; i++)
                if (netns_guest_alias_index(v[i].alias, uuid) >= 0)
                        c++;
        free(v);
        netns_nl_close(nl);
        return c;
}

static struct netns_nl *host;

static int setup(void **state)
{
        if (unshare(CLONE_NEWNET) < 0)
                return -1;
        struct lv_error *e = NULL;
        if (netns_nl_open(&host, &e) < 0) {
                lv_error_free(e);
                return -1;
        }
        netns_bridge_create(host, "br0", NULL);
        netns_bridge_create(host, "br1", NULL);
        netns_link_set_up(host, "br0", true, NULL);
        netns_link_set_up(host, "br1", true, NULL);
        return 0;
}

static int teardown(void **state)
{
        netns_nl_close(host);
        host = NULL;
        return 0;
}

static bool addr_in(struct netns_nl *nl, const char *ifname, const char *a, int prefix)
{
        struct netns_addr *v = NULL;
        size_t n = 0;
        nt_ok(netns_addr_list(nl, ifname, &v, &n, err));
        bool found = false;
        for (size_t i = 0; i < n; i++)
                found |= streq(v[i].address, a) && v[i].prefix == prefix;
        free(v);
        return found;
}

static bool route_in(struct netns_nl *nl, const char *dst, int prefix, const char *gw,
                     const char *dev)
{
        struct netns_route *v = NULL;
        size_t n = 0;
        nt_ok(netns_route_list(nl, 0, &v, &n, err));
        bool found = false;
        for (size_t i = 0; i < n; i++)
                found |= streq(v[i].dst, dst) && v[i].prefix == prefix && streq(v[i].gateway, gw) &&
                         streq(v[i].ifname, dev);
        free(v);
        return found;
}

/* What the XML said is what the container sees. */
static void test_container_as_defined(void **state)
{
        struct domain_def *d = def_new("web1", 2);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", "52:54:00:12:34:56");
        d->nets[0].mtu = 1400;
        net_add_ip(&d->nets[0], "10.0.0.2", 24, NULL);
        net_add_ip(&d->nets[0], "fd00::2", 64, NULL);
        net_add_route(&d->nets[0], "0.0.0.0", 0, "10.0.0.1");
        net_add_route(&d->nets[0], "10.50.0.0", 16, "10.0.0.254");
        net_set(&d->nets[1], DOMAIN_NET_ETHERNET, NULL, NULL); /* MAC generated */
        d->nets[1].target_dev = xstrdup("hostside1");
        d->nets[1].guest_dev = xstrdup("inner1");
        net_add_ip(&d->nets[1], "192.168.203.1", 32, "192.168.203.2"); /* point-to-point */
        struct lv_guest g = guest_of(d);
        struct box b = box_start();

        nt_ok(setup_container(&g, b.pid, err));

        /* the generated MAC is kept in the definition, locally administered */
        assert_non_null(d->nets[1].mac);
        unsigned char m1[6];
        nt_ok(netns_mac_parse(d->nets[1].mac, m1, err));
        assert_true(m1[0] & 0x02);

        struct netns_nl *in = box_nl(&b);
        struct netns_link_info eth0, inner1, lo;
        nt_ok(netns_link_get(in, "eth0", &eth0, err));
        nt_ok(netns_link_get(in, "inner1", &inner1, err));
        nt_ok(netns_link_get(in, "lo", &lo, err));
        char mac[NETNS_MAC_STRLEN];
        netns_mac_format(eth0.mac, mac);
        assert_string_equal(mac, "52:54:00:12:34:56");
        netns_mac_format(inner1.mac, mac);
        assert_string_equal(mac, d->nets[1].mac);
        assert_int_equal(eth0.mtu, 1400);
        assert_true(eth0.flags & IFF_UP);
        assert_true(inner1.flags & IFF_UP);
        assert_true(lo.flags & IFF_UP);
        assert_true(addr_in(in, "eth0", "10.0.0.2", 24));
        assert_true(addr_in(in, "eth0", "fd00::2", 64));
        assert_true(route_in(in, "", 0, "10.0.0.1", "eth0"));
        assert_true(route_in(in, "10.50.0.0", 16, "10.0.0.254", "eth0"));
        struct netns_addr *pa = NULL;
        size_t npa = 0;
        nt_ok(netns_addr_list(in, "inner1", &pa, &npa, err));
        assert_true(npa >= 1);
        assert_string_equal(pa[0].address, "192.168.203.1");
        assert_string_equal(pa[0].peer, "192.168.203.2");
        free(pa);
        /* the same, seen from inside with ip */
        _cleanup_free_ char *ipout =
                nt_sh("nsenter --net=/proc/%d/ns/net ip -o link show eth0", (int)b.pid);
        assert_non_null(strstr(ipout, "mtu 1400"));
        assert_non_null(strstr(ipout, "52:54:00:12:34:56"));
        _cleanup_free_ char *rout =
                nt_sh("nsenter --net=/proc/%d/ns/net ip -4 route show default", (int)b.pid);
        assert_string_equal(rout, "default via 10.0.0.1 dev eth0 proto static");

        /* host side: generated name, on the bridge, fe: MAC, marked */
        struct netns_link_info h0, h1, br0;
        nt_ok(netns_link_get(host, "lvweb1-0", &h0, err));
        nt_ok(netns_link_get(host, "hostside1", &h1, err));
        nt_ok(netns_link_get(host, "br0", &br0, err));
        assert_int_equal(h0.master, br0.ifindex);
        assert_int_equal(h1.master, 0);
        netns_mac_format(h0.mac, mac);
        assert_string_equal(mac, "fe:54:00:12:34:56");
        assert_true(h0.flags & IFF_UP);
        assert_int_equal(netns_guest_alias_index(h0.alias, d->uuid), 0);
        assert_int_equal(netns_guest_alias_index(h1.alias, d->uuid), 1);
        char names[2][IFNAMSIZ];
        nt_ok(netns_guest_host_links(host, d->uuid, 2, names, err));
        assert_string_equal(names[0], "lvweb1-0");
        assert_string_equal(names[1], "hostside1");

        /* stop: the undos remove every host link */
        guest_undo_run(&g);
        assert_int_equal(owned_links(d->uuid), 0);
        assert_int_equal(netns_link_exists(host, "lvweb1-0", NULL), 0);
        assert_int_equal(netns_link_exists(in, "eth0", NULL), 0);
        netns_nl_close(in);
        box_stop(&b);
        def_free(d);
}

static char *box_ping(const struct box *b, const char *addr)
{
        return nt_sh("nsenter --net=/proc/%d/ns/net busybox ping -c 1 -W 2 %s >/dev/null 2>&1 "
                     "&& echo reached || echo unreachable",
                     (int)b->pid, addr);
}

/* Two boxes on one bridge reach each other; a third on another does not. */
static void test_bridge_reachability(void **state)
{
        if (access("/bin/busybox", X_OK) != 0 && access("/usr/bin/busybox", X_OK) != 0)
                skip();
        const char *names[3] = {"pa", "pb", "pc"};
        const char *bridges[3] = {"br0", "br0", "br1"};
        const char *addrs[3] = {"10.7.0.2", "10.7.0.3", "10.7.0.4"};
        struct domain_def *d[3];
        struct lv_guest g[3];
        struct box b[3];
        for (int i = 0; i < 3; i++) {
                d[i] = def_new(names[i], 1);
                net_set(&d[i]->nets[0], DOMAIN_NET_BRIDGE, bridges[i], NULL);
                net_add_ip(&d[i]->nets[0], addrs[i], 24, NULL);
                g[i] = guest_of(d[i]);
                b[i] = box_start();
                nt_ok(setup_container(&g[i], b[i].pid, err));
        }
        _cleanup_free_ char *ab = box_ping(&b[0], "10.7.0.3");
        _cleanup_free_ char *ba = box_ping(&b[1], "10.7.0.2");
        _cleanup_free_ char *ac = box_ping(&b[0], "10.7.0.4");
        assert_string_equal(ab, "reached");
        assert_string_equal(ba, "reached");
        assert_string_equal(ac, "unreachable");
        for (int i = 0; i < 3; i++) {
                guest_undo_run(&g[i]);
                box_stop(&b[i]);
                assert_int_equal(owned_links(d[i]->uuid), 0);
                def_free(d[i]);
        }
}

/* Each bad definition fails before anything is made. */
static void expect_refused(struct domain_def *d, int errno_, const char *needle)
{
        struct lv_guest g = guest_of(d);
        struct box b = box_start();
        size_t host_before = nt_link_count(host);
        struct netns_nl *in = box_nl(&b);
        size_t in_before = nt_link_count(in);
        nt_fails(setup_container(&g, b.pid, err), errno_, needle);
        guest_undo_run(&g); /* what the core does on a failed start */
        assert_int_equal(nt_link_count(host), host_before);
        assert_int_equal(nt_link_count(in), in_before);
        assert_int_equal(owned_links(d->uuid), 0);
        netns_nl_close(in);
        box_stop(&b);
        def_free(d);
}

static void test_refused_up_front(void **state)
{
        struct domain_def *d = def_new("bad1", 1);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "nosuchbr", NULL);
        expect_refused(d, ENODEV, "interface 0: bridge 'nosuchbr' does not exist");

        d = def_new("bad2", 1);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "lo", NULL);
        expect_refused(d, EINVAL, "'lo' is not a bridge");

        d = def_new("bad3", 2);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
        net_set(&d->nets[1], DOMAIN_NET_BRIDGE, "br0", "52:54:00:zz:00:01");
        expect_refused(d, EINVAL, "interface 1: invalid MAC address '52:54:00:zz:00:01'");

        d = def_new("bad4", 2);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
        net_set(&d->nets[1], DOMAIN_NET_BRIDGE, "br0", NULL);
        d->nets[1].target_dev = xstrdup("br1"); /* taken */
        expect_refused(d, EEXIST, "<target dev='br1'>: a link of that name already exists");

        d = def_new("bad5", 2);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
        net_set(&d->nets[1], DOMAIN_NET_BRIDGE, "br0", NULL);
        net_add_ip(&d->nets[1], "10.0.0.300", 24, NULL);
        expect_refused(d, EINVAL, "interface 1: <ip>: invalid IP address '10.0.0.300'");

        d = def_new("bad6", 1);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
        net_add_ip(&d->nets[0], "10.0.0.3", 40, NULL);
        expect_refused(d, EINVAL, "invalid prefix 40");

        d = def_new("bad7", 1);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
        net_add_route(&d->nets[0], "10.9.0.1", 16, "10.0.0.1");
        expect_refused(d, EINVAL, "<route>: route to '10.9.0.1/16': the address has bits set");

        d = def_new("bad8", 1);
        net_set(&d->nets[0], DOMAIN_NET_NETWORK, "default", NULL);
        expect_refused(d, EINVAL, "network 'default' is not active");

        d = def_new("bad9", 2);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
        net_set(&d->nets[1], DOMAIN_NET_BRIDGE, "br0", NULL);
        d->nets[1].guest_dev = xstrdup("eth0");
        expect_refused(d, EEXIST, "interfaces 0 and 1 would both be 'eth0'");

        d = def_new("bad10", 1);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
        d->nets[0].guest_dev = xstrdup("lo");
        expect_refused(d, EEXIST, "the container already has a link named 'lo'");

        d = def_new("bad12", 1);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
        d->nets[0].target_dev = xstrdup("vnet%d");
        expect_refused(d, EINVAL, "<target dev>: invalid interface name 'vnet%d'");

        d = def_new("bad13", 1);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
        d->nets[0].guest_dev = xstrdup("eth%d");
        expect_refused(d, EINVAL, "<guest dev>: invalid interface name 'eth%d'");

        d = def_new("bad11", 1);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
        d->nets[0].mtu = 20;
        expect_refused(d, EINVAL, "invalid MTU 20");
}

/* A failure the kernel only finds late (a gateway it cannot reach) after
 * a first interface was made: the undos remove it all. */
static void test_late_failure_undone(void **state)
{
        struct domain_def *d = def_new("late", 2);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
        net_add_ip(&d->nets[0], "10.8.0.2", 24, NULL);
        net_set(&d->nets[1], DOMAIN_NET_BRIDGE, "br1", NULL);
        net_add_ip(&d->nets[1], "10.9.0.2", 24, NULL);
        net_add_route(&d->nets[1], "0.0.0.0", 0, "192.168.99.1");
        struct lv_guest g = guest_of(d);
        struct box b = box_start();
        size_t before = nt_link_count(host);
        nt_fails(setup_container(&g, b.pid, err), ENETUNREACH,
                 "interface 1: in the container: adding route to 0.0.0.0/0 via "
                 "192.168.99.1 dev eth1 (kernel: Nexthop has invalid gateway)");
        assert_int_equal(owned_links(d->uuid), 2); /* made before the failure... */
        guest_undo_run(&g);
        assert_int_equal(owned_links(d->uuid), 0); /* ...and undone */
        assert_int_equal(nt_link_count(host), before);
        box_stop(&b);
        def_free(d);
}

static void test_vm_taps(void **state)
{
        if (access("/dev/net/tun", R_OK | W_OK) != 0)
                skip(); /* no tun/tap on this kernel */
        struct domain_def *d = def_new("vm1", 3);
        d->type = DOMAIN_TYPE_QEMU;
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", "52:54:00:00:00:01");
        d->nets[0].model = xstrdup("virtio");
        net_set(&d->nets[1], DOMAIN_NET_USER, NULL, NULL);
        net_set(&d->nets[2], DOMAIN_NET_ETHERNET, NULL, NULL);
        d->nets[2].target_dev = xstrdup("vmtap2");
        net_add_ip(&d->nets[2], "192.168.122.1", 24, "192.168.122.5");
        net_add_route(&d->nets[2], "10.60.0.0", 16, "192.168.122.5");
        struct lv_guest g = guest_of(d);
        struct netns_guest_tap *taps = NULL;
        int n = 0;
        nt_ok(setup_vm(&g, 0, &taps, &n, err));
        assert_int_equal(n, 3);
        assert_string_equal(taps[0].ifname, "lvvm1-0");
        assert_true(taps[0].fd >= 0);
        assert_int_equal(taps[1].fd, -1);
        assert_string_equal(taps[1].ifname, "");
        assert_string_equal(taps[2].ifname, "vmtap2");
        assert_non_null(d->nets[2].mac); /* generated: 52:54:00 for QEMU */
        assert_true(startswith(d->nets[2].mac, "52:54:00:"));

        struct netns_link_info t0, br0;
        nt_ok(netns_link_get(host, "lvvm1-0", &t0, err));
        nt_ok(netns_link_get(host, "br0", &br0, err));
        assert_string_equal(t0.kind, "tun");
        assert_int_equal(t0.master, br0.ifindex);
        char mac[NETNS_MAC_STRLEN];
        netns_mac_format(t0.mac, mac);
        assert_string_equal(mac, "fe:54:00:00:00:01");
        _cleanup_free_ char *port =
                nt_sh("ip -o link show master br0 | grep -c 'lvvm1-0.*fe:54:00:00:00:01'");
        assert_string_equal(port, "1");
        struct ifreq ifr = {0};
        assert_int_equal(ioctl(taps[0].fd, TUNGETIFF, &ifr), 0);
        assert_true(ifr.ifr_flags & IFF_VNET_HDR); /* virtio */

        /* type='ethernet': host-side address with its peer, host route */
        struct netns_addr *v = NULL;
        size_t nv = 0;
        nt_ok(netns_addr_list(host, "vmtap2", &v, &nv, err));
        assert_int_equal(nv >= 1, 1);
        assert_string_equal(v[0].address, "192.168.122.1");
        assert_string_equal(v[0].peer, "192.168.122.5");
        free(v);

        /* QEMU has the fds; at stop they close and the undos run */
        netns_guest_taps_free(taps, n);
        guest_undo_run(&g);
        assert_int_equal(owned_links(d->uuid), 0);

        /* persistent taps outlive their fds until the undo */
        nt_ok(setup_vm(&g, NETNS_TAP_PERSIST, &taps, &n, err));
        netns_guest_taps_free(taps, n);
        assert_int_equal(owned_links(d->uuid), 2);
        guest_undo_run(&g);
        assert_int_equal(owned_links(d->uuid), 0);

        /* a missing bridge: refused, no tap left */
        free(d->nets[0].source);
        d->nets[0].source = xstrdup("nobr");
        size_t before = nt_link_count(host);
        nt_fails(setup_vm(&g, 0, &taps, &n, err), ENODEV,
                 "interface 0: bridge 'nobr' does not exist");
        guest_undo_run(&g);
        assert_int_equal(nt_link_count(host), before);
        def_free(d);
}

/* A killed supervisor leaves links; the next start (or lvsh) removes the
 * guest's own and nothing else. */
static void test_leftovers(void **state)
{
        if (access("/dev/net/tun", R_OK | W_OK) != 0)
                skip(); /* no tun/tap on this kernel */
        struct domain_def *d = def_new("left", 1);
        d->type = DOMAIN_TYPE_QEMU;
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
        struct lv_guest g = guest_of(d);
        struct netns_guest_tap *taps = NULL;
        int n = 0;
        nt_ok(setup_vm(&g, NETNS_TAP_PERSIST, &taps, &n, err));
        netns_guest_taps_free(taps, n);
        guest_undo_drop(&g); /* killed: the undos never run */
        assert_int_equal(owned_links(d->uuid), 1);

        /* someone else's look-alikes */
        struct netns_veth_spec other = {.name = "lvleft-9", .peer_name = "x9", .peer_nsfd = -1};
        nt_ok(netns_veth_create(host, &other, err));
        struct netns_veth_spec other2 = {.name = "o1", .peer_name = "o2", .peer_nsfd = -1};
        nt_ok(netns_veth_create(host, &other2, err));
        nt_ok(netns_link_set_alias(host, "o1", "litevirt:00000000-0000-0000-0000-000000000000:0",
                                   err));
        nt_ok(netns_link_set_alias(host, "x9", "litevirt:not-a-uuid", err));

        /* restart: the leftover goes, the new tap takes the name again */
        nt_ok(setup_vm(&g, 0, &taps, &n, err));
        assert_string_equal(taps[0].ifname, "lvleft-0");
        assert_int_equal(owned_links(d->uuid), 1);
        netns_guest_taps_free(taps, n);
        guest_undo_run(&g);

        nt_ok(setup_vm(&g, NETNS_TAP_PERSIST, &taps, &n, err));
        netns_guest_taps_free(taps, n);
        guest_undo_drop(&g);
        int removed = -1;
        nt_ok(removed = netns_guest_cleanup(host, d->uuid, err));
        assert_int_equal(removed, 1);
        assert_int_equal(owned_links(d->uuid), 0);
        assert_int_equal(netns_link_exists(host, "lvleft-9", NULL), 1);
        assert_int_equal(netns_link_exists(host, "o1", NULL), 1);
        nt_ok(netns_link_delete(host, "lvleft-9", err));
        nt_ok(netns_link_delete(host, "o1", err));
        def_free(d);
}

static void test_host_names(void **state)
{
        struct domain_def *d = def_new("a-rather-long-guest/name", 2);
        net_set(&d->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
        net_set(&d->nets[1], DOMAIN_NET_BRIDGE, "br0", NULL);
        char name[IFNAMSIZ];
        nt_ok(netns_guest_host_name(host, d, 1, name, err));
        assert_string_equal(name, "lva-rather-lo-1");
        assert_true(strlen(name) <= 15);
        /* taken by someone else: the next free one */
        struct netns_veth_spec s = {.name = "lva-rather-lo-1", .peer_name = "t1", .peer_nsfd = -1};
        nt_ok(netns_veth_create(host, &s, err));
        nt_ok(netns_guest_host_name(host, d, 1, name, err));
        assert_string_equal(name, "lva-rather--1-1");
        /* a name another interface asks for explicitly is avoided too */
        d->nets[0].target_dev = xstrdup("lva-rather--1-1");
        nt_ok(netns_guest_host_name(host, d, 1, name, err));
        assert_string_equal(name, "lva-rather--1-2");
        free(d->name);
        d->name = xstrdup("sl/sh");
        nt_ok(netns_guest_host_name(host, d, 1, name, err));
        assert_string_equal(name, "lvsl_sh-1");
        nt_ok(netns_link_delete(host, "t1", err));
        def_free(d);
}

/* 50 containers with one interface each, started and stopped in a loop:
 * no link left over. */
static void test_fifty(void **state)
{
        for (int round = 0; round < 2; round++) {
                struct domain_def *d[50];
                struct lv_guest g[50];
                struct box b[50];
                for (int i = 0; i < 50; i++) {
                        char name[16];
                        snprintf(name, sizeof(name), "c%02d", i);
                        d[i] = def_new(name, 1);
                        net_set(&d[i]->nets[0], DOMAIN_NET_BRIDGE, "br0", NULL);
                        char a[32];
                        snprintf(a, sizeof(a), "10.11.%d.%d", round, i + 2);
                        net_add_ip(&d[i]->nets[0], a, 16, NULL);
                        g[i] = guest_of(d[i]);
                        b[i] = box_start();
                        nt_ok(setup_container(&g[i], b[i].pid, err));
                }
                _cleanup_free_ char *ports = nt_sh("ip -o link show master br0 | grep -c lvc");
                assert_string_equal(ports, "50");
                for (int i = 0; i < 50; i++) {
                        box_stop(&b[i]);
                        guest_undo_run(&g[i]);
                        assert_int_equal(owned_links(d[i]->uuid), 0);
                        def_free(d[i]);
                }
                _cleanup_free_ char *left = nt_sh("ip -o link show | grep -c 'lvc' || true");
                assert_string_equal(left, "0");
        }
}

int main(void)
{
        nt_enter_private_netns();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_container_as_defined, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bridge_reachability, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refused_up_front, setup, teardown),
                cmocka_unit_test_setup_teardown(test_late_failure_undone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vm_taps, setup, teardown),
                cmocka_unit_test_setup_teardown(test_leftovers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_host_names, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fifty, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
