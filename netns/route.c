/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Routes in the main table: add, list. */
#include "netns/nl.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <netlink/route/route.h>

static void rtnl_route_putp(struct rtnl_route **r)
{
        if (*r)
                rtnl_route_put(*r);
}
#define _cleanup_route_ _cleanup_(rtnl_route_putp)

static bool host_bits_clear(const unsigned char *b, int prefix, int bits)
{
        for (int i = prefix; i < bits; i++)
                if (b[i / 8] & (0x80 >> (i % 8)))
                        return false;
        return true;
}

struct route_parsed {
        int family, prefix;
        bool has_gw;
        unsigned char dst[16], gw[16];
};

static int route_parse(const struct netns_route *route, struct route_parsed *p,
                       struct lv_error **err)
{
        memset(p, 0, sizeof(*p));
        int family = route->family, r;
        const char *dst_text = route->dst[0] ? route->dst : NULL;
        p->has_gw = route->gateway[0] != '\0';

        if (dst_text) {
                r = netns_ip_parse(dst_text, family, &family, p->dst, err);
                if (r < 0)
                        return lv_error_prefix(err, "route");
        }
        if (p->has_gw) {
                r = netns_ip_parse(route->gateway, family, &family, p->gw, err);
                if (r < 0)
                        return lv_error_prefix(err, "route to '%s': gateway",
                                               dst_text ? dst_text : "default");
        }
        if (family != AF_INET && family != AF_INET6)
                return lv_error_setf(err, EINVAL,
                                     "route: neither a destination nor a gateway tells "
                                     "its family");
        int bits = family == AF_INET ? 32 : 128;
        int prefix = route->prefix;
        if (prefix < 0)
                prefix = dst_text ? bits : 0;
        if (prefix > bits)
                return lv_error_setf(err, EINVAL, "route to '%s': invalid prefix %d (0..%d)",
                                     dst_text ? dst_text : "default", prefix, bits);
        if (!host_bits_clear(p->dst, prefix, bits))
                return lv_error_setf(err, EINVAL,
                                     "route to '%s/%d': the address has bits set beyond "
                                     "the prefix",
                                     dst_text, prefix);
        if (!p->has_gw && !route->ifname[0])
                return lv_error_setf(err, EINVAL, "route to '%s/%d': needs a gateway or a link",
                                     dst_text ? dst_text : "default", prefix);
        p->family = family;
        p->prefix = prefix;
        return 0;
}

int netns_route_validate(const struct netns_route *route, struct lv_error **err)
{
        struct route_parsed p;
        return route_parse(route, &p, err);
}

int netns_route_add(struct netns_nl *nl, const struct netns_route *route, struct lv_error **err)
{
        struct route_parsed p;
        int r = route_parse(route, &p, err);
        if (r < 0)
                return r;
        int family = p.family, prefix = p.prefix;
        bool has_gw = p.has_gw;
        const char *dst_text = route->dst[0] ? route->dst : NULL;
        unsigned char *dst = p.dst, *gw = p.gw;

        int ifindex = 0;
        if (route->ifname[0]) {
                struct netns_link_info info;
                r = netns_link_get(nl, route->ifname, &info, err);
                if (r < 0)
                        return r;
                ifindex = info.ifindex;
        }

        size_t len = family == AF_INET ? 4 : 16;
        _cleanup_route_ struct rtnl_route *rt = rtnl_route_alloc();
        if (!rt)
                abort();
        _cleanup_nladdr_ struct nl_addr *d = nl_addr_build(family, dst, len);
        nl_addr_set_prefixlen(d, prefix);
        rtnl_route_set_family(rt, (uint8_t)family);
        rtnl_route_set_table(rt, RT_TABLE_MAIN);
        rtnl_route_set_type(rt, RTN_UNICAST);
        rtnl_route_set_protocol(rt, RTPROT_STATIC);
        rtnl_route_set_scope(rt, has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
        r = rtnl_route_set_dst(rt, d);
        if (r < 0)
                return nl_error_set(nl, err, r, "route to '%s'", dst_text ? dst_text : "default");
        if (route->metric >= 0)
                rtnl_route_set_priority(rt, (uint32_t)route->metric);

        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        if (!nh)
                abort();
        if (ifindex)
                rtnl_route_nh_set_ifindex(nh, ifindex);
        if (has_gw) {
                _cleanup_nladdr_ struct nl_addr *g = nl_addr_build(family, gw, len);
                rtnl_route_nh_set_gateway(nh, g);
        }
        rtnl_route_add_nexthop(rt, nh); /* rt owns nh now */

        nl_error_clear(nl);
        r = rtnl_route_add(nl->sk, rt, NLM_F_EXCL);
        if (r < 0)
                return nl_error_set(nl, err, r, "adding route to %s/%d%s%s%s%s",
                                    dst_text ? dst_text : "default", prefix, has_gw ? " via " : "",
                                    has_gw ? route->gateway : "", ifindex ? " dev " : "",
                                    route->ifname);
        return 0;
}

static void route_addr_text(struct nl_addr *a, char out[NETNS_ADDR_STRLEN])
{
        out[0] = '\0';
        if (!a || nl_addr_get_len(a) == 0)
                return;
        int f = nl_addr_get_family(a);
        if ((f == AF_INET && nl_addr_get_len(a) == 4) ||
            (f == AF_INET6 && nl_addr_get_len(a) == 16))
                inet_ntop(f, nl_addr_get_binary_addr(a), out, NETNS_ADDR_STRLEN);
}

int netns_route_list(struct netns_nl *nl, int family, struct netns_route **ret, size_t *ret_n,
                     struct lv_error **err)
{
        _cleanup_free_ struct netns_link_info *links = NULL;
        size_t n_links = 0;
        int r = netns_link_list(nl, &links, &n_links, err);
        if (r < 0)
                return r;
        _cleanup_cache_ struct nl_cache *cache = NULL;
        nl_error_clear(nl);
        r = rtnl_route_alloc_cache(nl->sk, family ? family : AF_UNSPEC, 0, &cache);
        if (r < 0)
                return nl_error_set(nl, err, r, "listing routes");
        size_t cap = (size_t)nl_cache_nitems(cache), n = 0;
        _cleanup_free_ struct netns_route *v = xcalloc(cap ? cap : 1, sizeof(*v));
        for (struct nl_object *o = nl_cache_get_first(cache); o && n < cap;
             o = nl_cache_get_next(o)) {
                struct rtnl_route *rt = (struct rtnl_route *)o;
                int f = rtnl_route_get_family(rt);
                if ((f != AF_INET && f != AF_INET6) || (family && f != family))
                        continue;
                if (rtnl_route_get_table(rt) != RT_TABLE_MAIN ||
                    rtnl_route_get_type(rt) != RTN_UNICAST)
                        continue;
                struct netns_route *x = &v[n++];
                x->family = f;
                struct nl_addr *d = rtnl_route_get_dst(rt);
                route_addr_text(d, x->dst);
                x->prefix = d ? (int)nl_addr_get_prefixlen(d) : 0;
                x->metric = (int)rtnl_route_get_priority(rt);
                if (rtnl_route_get_nnexthops(rt) > 0) {
                        struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, 0);
                        route_addr_text(rtnl_route_nh_get_gateway(nh), x->gateway);
                        int idx = rtnl_route_nh_get_ifindex(nh);
                        for (size_t i = 0; i < n_links; i++)
                                if (links[i].ifindex == idx)
                                        snprintf(x->ifname, sizeof(x->ifname), "%s", links[i].name);
                }
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}
