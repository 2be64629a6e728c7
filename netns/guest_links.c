/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What litevirt decides about a guest's links before and after it runs:
 * names, MACs, ownership marks (ifalias), the up-front checks, finding
 * and removing a guest's leftovers. Nothing here needs the supervisor. */
#include "netns/guest_net.h"

#include <sys/socket.h>

int netns_guest_fill_macs(struct domain_def *def)
{
        int filled = 0;
        /* 52:54:00 is locally administered; Xen keeps its own OUI as
         * libvirt does */
        enum domain_type t = def->type == DOMAIN_TYPE_XEN ? DOMAIN_TYPE_XEN : DOMAIN_TYPE_QEMU;
        for (int i = 0; i < def->n_nets; i++) {
                if (def->nets[i].mac)
                        continue;
                def->nets[i].mac = domain_mac_generate(t);
                filled++;
        }
        return filled;
}

void netns_guest_alias(const unsigned char uuid[16], int index, char out[64])
{
        char u[37];
        domain_uuid_format(uuid, u);
        snprintf(out, 64, NETNS_ALIAS_PREFIX "%s:%d", u, index);
}

int netns_guest_alias_index(const char *alias, const unsigned char uuid[16])
{
        char u[37];
        domain_uuid_format(uuid, u);
        size_t pl = strlen(NETNS_ALIAS_PREFIX);
        if (!startswith(alias, NETNS_ALIAS_PREFIX) || strncmp(alias + pl, u, 36) != 0 ||
            alias[pl + 36] != ':')
                return -1;
        const char *p = alias + pl + 37;
        char *end = NULL;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p || *end || v < 0 || v > 65535)
                return -1;
        return (int)v;
}

void netns_guest_guest_name(const struct domain_def *def, int index, char out[IFNAMSIZ])
{
        const char *dev = def->nets[index].guest_dev;
        if (dev)
                snprintf(out, IFNAMSIZ, "%s", dev);
        else
                snprintf(out, IFNAMSIZ, "eth%d", index);
}

static bool named_by_other(const struct domain_def *def, int index, const char *name)
{
        for (int i = 0; i < def->n_nets; i++)
                if (i != index && streq(def->nets[i].target_dev, name))
                        return true;
        return false;
}

int netns_guest_host_name(struct netns_nl *nl, const struct domain_def *def, int index,
                          char out[IFNAMSIZ], struct lv_error **err)
{
        const char *dev = def->nets[index].target_dev;
        if (dev) {
                int r = netns_ifname_check(dev, err);
                if (r < 0)
                        return r;
                snprintf(out, IFNAMSIZ, "%s", dev);
                return 0;
        }
        char guest[IFNAMSIZ];
        size_t n = 0;
        for (const char *p = def->name ? def->name : "guest"; *p && n < sizeof(guest) - 1; p++)
                guest[n++] =
                        (*p == '/' || *p == ':' || *p == '%' || *p <= ' ' || *p > '~') ? '_' : *p;
        guest[n] = '\0';
        for (int k = 0; k < 100; k++) {
                char tail[16], cand[IFNAMSIZ];
                if (k == 0)
                        snprintf(tail, sizeof(tail), "-%d", index);
                else
                        snprintf(tail, sizeof(tail), "-%d-%d", index, k);
                int room = IFNAMSIZ - 1 - 2 - (int)strlen(tail);
                if (room < 1)
                        break;
                snprintf(cand, sizeof(cand), "lv%.*s%s", room, guest, tail);
                if (named_by_other(def, index, cand))
                        continue;
                int r = netns_link_exists(nl, cand, err);
                if (r < 0)
                        return r;
                if (r == 0) {
                        memcpy(out, cand, IFNAMSIZ);
                        return 0;
                }
        }
        return lv_error_setf(err, EEXIST, "interface %d: no free link name of the form lv%s-%d[-N]",
                             index, guest, index);
}

int netns_guest_host_links(struct netns_nl *nl, const unsigned char uuid[16], int n,
                           char (*names)[IFNAMSIZ], struct lv_error **err)
{
        _cleanup_free_ struct netns_link_info *links = NULL;
        size_t n_links = 0;
        int r = netns_link_list(nl, &links, &n_links, err);
        if (r < 0)
                return r;
        for (int i = 0; i < n; i++)
                names[i][0] = '\0';
        for (size_t i = 0; i < n_links; i++) {
                int idx = netns_guest_alias_index(links[i].alias, uuid);
                if (idx >= 0 && idx < n)
                        memcpy(names[idx], links[i].name, IFNAMSIZ);
        }
        return 0;
}

int netns_guest_cleanup(struct netns_nl *nl, const unsigned char uuid[16], struct lv_error **err)
{
        _cleanup_free_ struct netns_link_info *links = NULL;
        size_t n_links = 0;
        int r = netns_link_list(nl, &links, &n_links, err);
        if (r < 0)
                return r;
        int removed = 0;
        for (size_t i = 0; i < n_links; i++) {
                if (netns_guest_alias_index(links[i].alias, uuid) < 0)
                        continue;
                _cleanup_error_ struct lv_error *e = NULL;
                r = netns_link_delete(nl, links[i].name, &e);
                if (r == -ENODEV)
                        continue; /* went with its peer */
                if (r < 0) {
                        if (err && !*err)
                                *err = TAKE_PTR(e);
                        return lv_error_prefix(err, "removing leftover link");
                }
                removed++;
        }
        return removed;
}

int netns_route_from_def(const struct domain_route *r, const char *ifname, struct netns_route *out,
                         struct lv_error **err)
{
        memset(out, 0, sizeof(*out));
        if (streq(r->family, "ipv4"))
                out->family = AF_INET;
        else if (streq(r->family, "ipv6"))
                out->family = AF_INET6;
        else if (r->family)
                return lv_error_setf(err, EINVAL, "route: unknown family '%s'", r->family);
        if ((r->address && strlen(r->address) >= NETNS_ADDR_STRLEN) ||
            (r->gateway && strlen(r->gateway) >= NETNS_ADDR_STRLEN))
                return lv_error_setf(err, EINVAL, "route: address too long");
        snprintf(out->dst, sizeof(out->dst), "%s", r->address ? r->address : "");
        snprintf(out->gateway, sizeof(out->gateway), "%s", r->gateway ? r->gateway : "");
        snprintf(out->ifname, sizeof(out->ifname), "%s", ifname ? ifname : "");
        out->prefix = r->prefix;
        out->metric = r->metric;
        return 0;
}

static int check_ips(const struct domain_net *n, int index, struct lv_error **err)
{
        for (int j = 0; j < n->n_ips; j++) {
                const struct domain_ip *ip = &n->ips[j];
                int family = 0;
                int r = netns_addr_validate(ip->address, ip->prefix, ip->peer, &family, err);
                if (r < 0)
                        return lv_error_prefix(err, "interface %d: <ip>", index);
                if ((streq(ip->family, "ipv4") && family != AF_INET) ||
                    (streq(ip->family, "ipv6") && family != AF_INET6))
                        return lv_error_setf(err, EINVAL,
                                             "interface %d: <ip address='%s'> is not %s", index,
                                             ip->address, ip->family);
        }
        for (int j = 0; j < n->n_routes; j++) {
                struct netns_route rt;
                int r = netns_route_from_def(&n->routes[j], "-", &rt, err);
                if (r < 0 || (r = netns_route_validate(&rt, err)) < 0)
                        return lv_error_prefix(err, "interface %d: <route>", index);
        }
        return 0;
}

int netns_guest_check_one(const struct domain_def *def, int i, struct netns_nl *host,
                          struct netns_nl *guest_nl, struct lv_error **err)
{
        bool container = guest_nl != NULL;
        const struct domain_net *n = &def->nets[i];
        int r;
        switch (n->type) {
        case DOMAIN_NET_BRIDGE:
                if (!n->source)
                        return lv_error_setf(err, EINVAL,
                                             "interface %d: type 'bridge' needs "
                                             "<source bridge=...>",
                                             i);
                r = netns_bridge_check(host, n->source, err);
                if (r < 0)
                        return lv_error_prefix(err, "interface %d", i);
                break;
        case DOMAIN_NET_NETWORK:
                /* the supervisor looked the network's bridge up */
                if (!n->network_bridge)
                        return lv_error_setf(err, LV_ERR_STATE,
                                             "interface %d: network '%s' is not active", i,
                                             n->source ? n->source : "");
                r = netns_bridge_check(host, n->network_bridge, err);
                if (r < 0)
                        return lv_error_prefix(err, "interface %d: network '%s'", i, n->source);
                break;
        case DOMAIN_NET_ETHERNET:
                break;
        case DOMAIN_NET_USER:
                if (container)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "interface %d: type 'user' is not "
                                             "supported for containers",
                                             i);
                return 0;
        default:
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "interface %d: type '%s' is not supported", i,
                                     domain_net_type_to_string(n->type));
        }
        unsigned char mac[NETNS_MAC_LEN];
        if (n->mac && (r = netns_mac_parse(n->mac, mac, err)) < 0)
                return lv_error_prefix(err, "interface %d", i);
        if (n->mtu && (n->mtu < 68 || n->mtu > 65535))
                return lv_error_setf(err, EINVAL, "interface %d: invalid MTU %d (68..65535)", i,
                                     n->mtu);
        if (n->target_dev) {
                if ((r = netns_ifname_check(n->target_dev, err)) < 0)
                        return lv_error_prefix(err, "interface %d: <target dev>", i);
                if (named_by_other(def, i, n->target_dev))
                        return lv_error_setf(err, EEXIST,
                                             "interface %d: <target dev='%s'> is given "
                                             "twice",
                                             i, n->target_dev);
                r = netns_link_exists(host, n->target_dev, err);
                if (r < 0)
                        return r;
                if (r > 0)
                        return lv_error_setf(err, EEXIST,
                                             "interface %d: <target dev='%s'>: a link "
                                             "of that name already exists",
                                             i, n->target_dev);
        }
        if (container) {
                char name[IFNAMSIZ], other[IFNAMSIZ];
                if (n->guest_dev && (r = netns_ifname_check(n->guest_dev, err)) < 0)
                        return lv_error_prefix(err, "interface %d: <guest dev>", i);
                netns_guest_guest_name(def, i, name);
                for (int j = 0; j < i; j++) {
                        netns_guest_guest_name(def, j, other);
                        if (streq(name, other))
                                return lv_error_setf(err, EEXIST,
                                                     "interfaces %d and %d would both "
                                                     "be '%s' in the container",
                                                     j, i, name);
                }
                r = netns_link_exists(guest_nl, name, err);
                if (r < 0)
                        return r;
                if (r > 0)
                        return lv_error_setf(err, EEXIST,
                                             "interface %d: the container already has "
                                             "a link named '%s'",
                                             i, name);
        }
        return check_ips(n, i, err);
}

int netns_guest_host_link_remove(struct netns_nl *nl, const unsigned char uuid[16], int index,
                                 int n, struct lv_error **err)
{
        _cleanup_free_ char(*names)[IFNAMSIZ] = xcalloc((size_t)n + 1, IFNAMSIZ);
        int r = netns_guest_host_links(nl, uuid, n, names, err);
        if (r < 0)
                return r;
        if (names[index][0] && (r = netns_link_delete(nl, names[index], err)) < 0)
                return r;
        for (int k = index + 1; k < n; k++) {
                char alias[64];
                netns_guest_alias(uuid, k - 1, alias);
                if (names[k][0] && (r = netns_link_set_alias(nl, names[k], alias, err)) < 0)
                        return r;
        }
        return 0;
}

int netns_guest_check(const struct domain_def *def, struct netns_nl *host,
                      struct netns_nl *guest_nl, struct lv_error **err)
{
        for (int i = 0; i < def->n_nets; i++) {
                int r = netns_guest_check_one(def, i, host, guest_nl, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
