/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest networking as the drivers call it: veth pairs for containers,
 * taps for VMs, each created link registering its undo on the guest. */
#include "netns/guest_net.h"

#include <sys/socket.h>

#include "util/log.h"

/* The undo of one created link: delete it if the link of that name is
 * still the one we made (same ifindex), so a name reused since is safe. */
struct link_undo {
        char name[IFNAMSIZ];
        int ifindex;
};

static void link_undo_run(void *data)
{
        struct link_undo *u = data;
        _cleanup_error_ struct lv_error *e = NULL;
        _cleanup_nl_ struct netns_nl *nl = NULL;
        struct netns_link_info info;
        if (netns_nl_open(&nl, &e) < 0 || netns_link_get(nl, u->name, &info, &e) < 0) {
                if (e && lv_error_errno(e) != -ENODEV)
                        log_warning("removing link '%s': %s", u->name, e->message);
                return; /* gone with its namespace, or with its last fd */
        }
        if (info.ifindex != u->ifindex)
                return;
        if (netns_link_delete(nl, u->name, &e) < 0 && lv_error_errno(e) != -ENODEV)
                log_warning("%s", e->message);
}

static int link_register(const struct undo_sink *undo, struct netns_nl *nl, const char *name,
                         struct lv_error **err)
{
        struct netns_link_info info;
        int r = netns_link_get(nl, name, &info, err);
        if (r < 0) {
                /* cannot be registered: do not leave it unowned */
                (void)netns_link_delete(nl, name, NULL);
                return r;
        }
        struct link_undo *u = xcalloc(1, sizeof(*u));
        memcpy(u->name, info.name, IFNAMSIZ);
        u->ifindex = info.ifindex;
        _cleanup_free_ char *what = xasprintf("link %s", name);
        undo_sink_push(undo, what, link_undo_run, u, free);
        return 0;
}

/* The host end's MAC: the guest's with the first octet 0xfe, as libvirt
 * does, so a bridge never takes its address from a guest's port. */
static void host_mac(const unsigned char guest[NETNS_MAC_LEN], unsigned char out[NETNS_MAC_LEN])
{
        memcpy(out, guest, NETNS_MAC_LEN);
        out[0] = 0xfe;
}

static int add_ips_and_routes(struct netns_nl *nl, const struct domain_net *n, const char *ifname,
                              bool with_peer, struct lv_error **err)
{
        for (int j = 0; j < n->n_ips; j++) {
                const struct domain_ip *ip = &n->ips[j];
                int r = netns_addr_add(nl, ifname, ip->address, ip->prefix,
                                       with_peer ? ip->peer : NULL, err);
                if (r < 0)
                        return r;
        }
        for (int j = 0; j < n->n_routes; j++) {
                struct netns_route rt;
                int r = netns_route_from_def(&n->routes[j], ifname, &rt, err);
                if (r < 0)
                        return r;
                r = netns_route_add(nl, &rt, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int prepare(struct domain_def *def, struct netns_nl *host, struct netns_nl *guest_nl,
                   struct lv_error **err)
{
        _cleanup_error_ struct lv_error *e = NULL;
        int removed = netns_guest_cleanup(host, def->uuid, &e);
        if (removed < 0)
                log_warning("%s", e->message);
        else if (removed > 0)
                log_info("removed %d link(s) left over by an earlier run", removed);
        netns_guest_fill_macs(def);
        return netns_guest_check(def, host, guest_nl, err);
}

static int setup_veth(const struct domain_def *def, const struct undo_sink *undo,
                      struct netns_nl *host, struct netns_nl *guest_nl, int nsfd, int i,
                      char hname[IFNAMSIZ], struct lv_error **err)
{
        const struct domain_net *n = &def->nets[i];
        char gname[IFNAMSIZ], alias[64];
        unsigned char mac[NETNS_MAC_LEN], hmac[NETNS_MAC_LEN];
        int r = netns_mac_parse(n->mac, mac, err);
        if (r < 0)
                return r;
        host_mac(mac, hmac);
        netns_guest_guest_name(def, i, gname);
        /* a generated name can be taken between choosing and creating:
         * choose again then */
        for (int attempt = 0;; attempt++) {
                r = netns_guest_host_name(host, def, i, hname, err);
                if (r < 0)
                        return r;
                struct netns_veth_spec spec = {
                        .name = hname,
                        .peer_name = gname,
                        .peer_nsfd = nsfd,
                        .mac = hmac,
                        .peer_mac = mac,
                        .mtu = n->mtu > 0 ? (unsigned)n->mtu : 0,
                };
                _cleanup_error_ struct lv_error *e = NULL;
                r = netns_veth_create(host, &spec, &e);
                if (r == -EEXIST && !n->target_dev && attempt < 3)
                        continue;
                if (r < 0) {
                        if (err && !*err)
                                *err = TAKE_PTR(e);
                        return r;
                }
                break;
        }
        r = link_register(undo, host, hname, err);
        if (r < 0)
                return r;
        netns_guest_alias(def->uuid, i, alias);
        r = netns_link_set_alias(host, hname, alias, err);
        if (r < 0)
                return r;
        if (domain_net_bridge(n)) {
                r = netns_bridge_attach(host, domain_net_bridge(n), hname, err);
                if (r < 0)
                        return r;
        }
        r = netns_link_set_up(host, hname, true, err);
        if (r < 0)
                return r;
        r = netns_link_set_up(guest_nl, gname, true, err);
        if (r < 0)
                return lv_error_prefix(err, "in the container");
        r = add_ips_and_routes(guest_nl, n, gname, true, err);
        if (r < 0)
                return lv_error_prefix(err, "in the container");
        log_info("interface %d: %s (host) <-> %s (container)%s%s", i, hname, gname,
                 domain_net_bridge(n) ? " on bridge " : "",
                 domain_net_bridge(n) ? domain_net_bridge(n) : "");
        return 0;
}

/* The container's network namespace (*ret_nsfd) and netlink sockets in
 * it and in ours; 1 when it shares ours (nothing opened). */
static int container_open(const struct domain_def *def, pid_t pid, int *ret_nsfd,
                          struct netns_nl **host, struct netns_nl **guest_nl, struct lv_error **err)
{
        _cleanup_close_ int nsfd = netns_open_pid(pid, err);
        if (nsfd < 0)
                return nsfd;
        _cleanup_close_ int self = netns_open_self(err);
        if (self < 0)
                return self;
        if (netns_same(self, nsfd)) {
                if (def->n_nets == 0)
                        return 1; /* shares the host's network, as libvirt without <interface> */
                return lv_error_setf(err, EINVAL,
                                     "has interfaces but no network namespace of its own");
        }
        int r = netns_nl_open(host, err);
        if (r < 0 || (r = netns_nl_open_fd(nsfd, guest_nl, err)) < 0)
                return r;
        *ret_nsfd = TAKE_FD(nsfd);
        return 0;
}

/* Interface i is up in the container: the running definition names its
 * host end (dumpxml's <target dev>). */
static int container_veth(struct domain_def *def, const struct undo_sink *undo,
                          struct netns_nl *host, struct netns_nl *guest_nl, int nsfd, int i,
                          struct lv_error **err)
{
        char hname[IFNAMSIZ];
        int r = setup_veth(def, undo, host, guest_nl, nsfd, i, hname, err);
        if (r < 0)
                return lv_error_prefix(err, "interface %d", i);
        free(def->nets[i].ifname);
        def->nets[i].ifname = xstrdup(hname);
        return 0;
}

int netns_guest_setup_container(struct domain_def *def, const struct undo_sink *undo,
                                pid_t child_pid, struct lv_error **err)
{
        _cleanup_close_ int nsfd = -1;
        _cleanup_nl_ struct netns_nl *host = NULL, *guest_nl = NULL;
        int r = container_open(def, child_pid, &nsfd, &host, &guest_nl, err);
        if (r != 0)
                return r < 0 ? r : 0;
        r = prepare(def, host, guest_nl, err);
        if (r < 0)
                return r;
        r = netns_link_set_up(guest_nl, "lo", true, err);
        if (r < 0)
                return lv_error_prefix(err, "in the container");
        for (int i = 0; i < def->n_nets; i++)
                if ((r = container_veth(def, undo, host, guest_nl, nsfd, i, err)) < 0)
                        return r;
        return 0;
}

int netns_guest_setup_container_one(struct domain_def *def, const struct undo_sink *undo, pid_t pid,
                                    int i, struct lv_error **err)
{
        _cleanup_close_ int nsfd = -1;
        _cleanup_nl_ struct netns_nl *host = NULL, *guest_nl = NULL;
        int r = container_open(def, pid, &nsfd, &host, &guest_nl, err);
        if (r > 0) /* (def has interface i, so this is not reached) */
                return lv_error_setf(err, EINVAL, "the container has no network namespace");
        if (r < 0)
                return r;
        netns_guest_fill_macs(def);
        if ((r = netns_guest_check_one(def, i, host, guest_nl, err)) < 0)
                return r;
        return container_veth(def, undo, host, guest_nl, nsfd, i, err);
}

void netns_guest_taps_free(struct netns_guest_tap *taps, int n)
{
        if (!taps)
                return;
        for (int i = 0; i < n; i++)
                if (taps[i].fd >= 0)
                        close(taps[i].fd);
        free(taps);
}

static int setup_tap(const struct domain_def *def, const struct undo_sink *undo,
                     struct netns_nl *host, unsigned flags, int i, struct netns_guest_tap *tap,
                     struct lv_error **err)
{
        const struct domain_net *n = &def->nets[i];
        char hname[IFNAMSIZ], alias[64];
        unsigned char mac[NETNS_MAC_LEN], hmac[NETNS_MAC_LEN];
        int r = netns_mac_parse(n->mac, mac, err);
        if (r < 0)
                return r;
        host_mac(mac, hmac);
        if (streq(n->model, "virtio"))
                flags |= NETNS_TAP_VNET_HDR;
        for (int attempt = 0;; attempt++) {
                r = netns_guest_host_name(host, def, i, hname, err);
                if (r < 0)
                        return r;
                _cleanup_error_ struct lv_error *e = NULL;
                r = netns_tap_create(hname, flags, tap->ifname, &tap->fd, &e);
                if (r == -EEXIST && !n->target_dev && attempt < 3)
                        continue;
                if (r < 0) {
                        if (err && !*err)
                                *err = TAKE_PTR(e);
                        return r;
                }
                break;
        }
        r = link_register(undo, host, tap->ifname, err);
        if (r < 0)
                return r;
        netns_guest_alias(def->uuid, i, alias);
        if ((r = netns_link_set_alias(host, tap->ifname, alias, err)) < 0 ||
            (r = netns_link_set_mac(host, tap->ifname, hmac, err)) < 0)
                return r;
        if (n->mtu > 0 && (r = netns_link_set_mtu(host, tap->ifname, (unsigned)n->mtu, err)) < 0)
                return r;
        if (domain_net_bridge(n) &&
            (r = netns_bridge_attach(host, domain_net_bridge(n), tap->ifname, err)) < 0)
                return r;
        if ((r = netns_link_set_up(host, tap->ifname, true, err)) < 0)
                return r;
        /* type='ethernet': <ip> (with peer) and <route> are the host side's */
        if (n->type == DOMAIN_NET_ETHERNET &&
            (r = add_ips_and_routes(host, n, tap->ifname, true, err)) < 0)
                return r;
        log_info("interface %d: tap %s%s%s", i, tap->ifname,
                 domain_net_bridge(n) ? " on bridge " : "",
                 domain_net_bridge(n) ? domain_net_bridge(n) : "");
        return 0;
}

int netns_guest_setup_vm(struct domain_def *def, const struct undo_sink *undo, unsigned tap_flags,
                         struct netns_guest_tap **ret, int *ret_n, struct lv_error **err)
{
        int n = def->n_nets;
        bool links = false;
        for (int i = 0; i < n; i++)
                links |= def->nets[i].type != DOMAIN_NET_USER;
        /* Only user-mode interfaces (QEMU's slirp): no link to make, so no
         * netlink socket and no scan of the host's links for leftovers (a
         * dump under the global RTNL lock: 0.1 ms idle, 13 ms traced while
         * other namespaces were busy). Leftovers of an earlier definition
         * with taps stay until a start that makes links, or
         * `lvsh domif-cleanup`. */
        _cleanup_nl_ struct netns_nl *host = NULL;
        int r = 0;
        if (!links)
                netns_guest_fill_macs(def);
        else if ((r = netns_nl_open(&host, err)) < 0 || (r = prepare(def, host, NULL, err)) < 0)
                return r;
        struct netns_guest_tap *taps = xcalloc(n ? (size_t)n : 1, sizeof(*taps));
        for (int i = 0; i < n; i++)
                taps[i].fd = -1;
        for (int i = 0; i < n; i++) {
                if (def->nets[i].type == DOMAIN_NET_USER)
                        continue;
                r = setup_tap(def, undo, host, tap_flags & NETNS_TAP_PERSIST, i, &taps[i], err);
                if (r < 0) {
                        netns_guest_taps_free(taps, n);
                        return lv_error_prefix(err, "interface %d", i);
                }
        }
        *ret = taps;
        *ret_n = n;
        return 0;
}

int netns_guest_setup_vm_one(struct domain_def *def, const struct undo_sink *undo, int i,
                             struct netns_guest_tap *tap, struct lv_error **err)
{
        *tap = (struct netns_guest_tap){.fd = -1};
        _cleanup_nl_ struct netns_nl *host = NULL;
        netns_guest_fill_macs(def);
        int r = netns_nl_open(&host, err);
        if (r < 0 || (r = netns_guest_check_one(def, i, host, NULL, err)) < 0)
                return r;
        if (def->nets[i].type == DOMAIN_NET_USER)
                return 0;
        if ((r = setup_tap(def, undo, host, 0, i, tap, err)) < 0) {
                if (tap->fd >= 0)
                        close(tap->fd);
                *tap = (struct netns_guest_tap){.fd = -1};
        }
        return r;
}
