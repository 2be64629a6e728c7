/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IP addresses on links: strict numeric parsing, add, delete, list. */
#include "netns/nl.h"

#include <arpa/inet.h>
#include <netlink/route/addr.h>

static void rtnl_addr_putp(struct rtnl_addr **a)
{
        if (*a)
                rtnl_addr_put(*a);
}
#define _cleanup_rtaddr_ _cleanup_(rtnl_addr_putp)

int netns_ip_parse(const char *s, int family, int *ret_family, unsigned char buf[16],
                   struct lv_error **err)
{
        unsigned char b[16] = {0};
        int f = AF_UNSPEC;
        if (s && strlen(s) < NETNS_ADDR_STRLEN) {
                if ((family == AF_UNSPEC || family == AF_INET) && inet_pton(AF_INET, s, b) == 1)
                        f = AF_INET;
                else if ((family == AF_UNSPEC || family == AF_INET6) &&
                         inet_pton(AF_INET6, s, b) == 1)
                        f = AF_INET6;
        }
        if (f == AF_UNSPEC)
                return lv_error_setf(err, EINVAL, "invalid %s address '%s'",
                                     family == AF_INET    ? "IPv4"
                                     : family == AF_INET6 ? "IPv6"
                                                          : "IP",
                                     s ? s : "");
        if (ret_family)
                *ret_family = f;
        memcpy(buf, b, 16);
        return 0;
}

int netns_addr_default_prefix(int family, const unsigned char buf[16])
{
        if (family == AF_INET6)
                return 64;
        /* libvirt's classful default for IPv4 */
        if (buf[0] < 128)
                return 8;
        if (buf[0] < 192)
                return 16;
        if (buf[0] < 224)
                return 24;
        return -1;
}

static int ifindex_of(struct netns_nl *nl, const char *ifname, struct lv_error **err)
{
        struct netns_link_info info;
        int r = netns_link_get(nl, ifname, &info, err);
        return r < 0 ? r : info.ifindex;
}

static int addr_parse(const char *address, int prefix, const char *peer, int *ret_family,
                      int *ret_prefix, unsigned char buf[16], unsigned char pbuf[16],
                      struct lv_error **err)
{
        int family = 0;
        int r = netns_ip_parse(address, AF_UNSPEC, &family, buf, err);
        if (r < 0)
                return r;
        int maxp = family == AF_INET ? 32 : 128;
        if (prefix < 0) {
                prefix = netns_addr_default_prefix(family, buf);
                if (prefix < 0)
                        return lv_error_setf(err, EINVAL,
                                             "address '%s' needs a prefix (no class default)",
                                             address);
        }
        if (prefix > maxp)
                return lv_error_setf(err, EINVAL, "invalid prefix %d for address '%s' (0..%d)",
                                     prefix, address, maxp);
        if (peer && *peer) {
                r = netns_ip_parse(peer, family, NULL, pbuf, err);
                if (r < 0)
                        return lv_error_prefix(err, "peer of address '%s'", address);
        }
        *ret_family = family;
        *ret_prefix = prefix;
        return 0;
}

int netns_addr_validate(const char *address, int prefix, const char *peer, int *ret_family,
                        struct lv_error **err)
{
        unsigned char buf[16], pbuf[16];
        int family = 0, p = 0;
        int r = addr_parse(address, prefix, peer, &family, &p, buf, pbuf, err);
        if (r < 0)
                return r;
        if (ret_family)
                *ret_family = family;
        return p;
}

/* Build the rtnl_addr for ifname address/prefix [peer]. */
static int addr_build(struct netns_nl *nl, const char *ifname, const char *address, int prefix,
                      const char *peer, struct rtnl_addr **ret, struct lv_error **err)
{
        unsigned char buf[16], pbuf[16];
        int family = 0;
        int r = addr_parse(address, prefix, peer, &family, &prefix, buf, pbuf, err);
        if (r < 0)
                return r;
        int ifindex = ifindex_of(nl, ifname, err);
        if (ifindex < 0)
                return ifindex;

        _cleanup_rtaddr_ struct rtnl_addr *a = rtnl_addr_alloc();
        if (!a)
                abort();
        size_t len = family == AF_INET ? 4 : 16;
        _cleanup_nladdr_ struct nl_addr *local = nl_addr_build(family, buf, len);
        nl_addr_set_prefixlen(local, prefix);
        rtnl_addr_set_ifindex(a, ifindex);
        rtnl_addr_set_family(a, family);
        r = rtnl_addr_set_local(a, local);
        if (r < 0)
                return nl_error_set(nl, err, r, "address '%s'", address);
        if (peer && *peer) {
                _cleanup_nladdr_ struct nl_addr *p = nl_addr_build(family, pbuf, len);
                nl_addr_set_prefixlen(p, prefix);
                r = rtnl_addr_set_peer(a, p);
                if (r < 0)
                        return nl_error_set(nl, err, r, "peer '%s'", peer);
        } else if (family == AF_INET && prefix < 31) {
                unsigned char bc[4];
                uint32_t host = prefix == 0 ? 0xffffffffu : (0xffffffffu >> prefix);
                for (int i = 0; i < 4; i++)
                        bc[i] = buf[i] | (unsigned char)(host >> (8 * (3 - i)));
                _cleanup_nladdr_ struct nl_addr *b = nl_addr_build(AF_INET, bc, 4);
                rtnl_addr_set_broadcast(a, b);
        }
        rtnl_addr_set_prefixlen(a, prefix);
        *ret = TAKE_PTR(a);
        return prefix;
}

int netns_addr_add(struct netns_nl *nl, const char *ifname, const char *address, int prefix,
                   const char *peer, struct lv_error **err)
{
        _cleanup_rtaddr_ struct rtnl_addr *a = NULL;
        int p = addr_build(nl, ifname, address, prefix, peer, &a, err);
        if (p < 0)
                return p;
        nl_error_clear(nl);
        int r = rtnl_addr_add(nl->sk, a, NLM_F_EXCL);
        if (r < 0)
                return nl_error_set(nl, err, r, "adding address %s/%d to '%s'", address, p, ifname);
        return 0;
}

int netns_addr_delete(struct netns_nl *nl, const char *ifname, const char *address, int prefix,
                      struct lv_error **err)
{
        _cleanup_rtaddr_ struct rtnl_addr *a = NULL;
        int p = addr_build(nl, ifname, address, prefix, NULL, &a, err);
        if (p < 0)
                return p;
        nl_error_clear(nl);
        int r = rtnl_addr_delete(nl->sk, a, 0);
        if (r < 0)
                return nl_error_set(nl, err, r, "removing address %s/%d from '%s'", address, p,
                                    ifname);
        return 0;
}

static void addr_text(struct nl_addr *a, char out[NETNS_ADDR_STRLEN])
{
        out[0] = '\0';
        if (!a)
                return;
        int f = nl_addr_get_family(a);
        if ((f == AF_INET && nl_addr_get_len(a) == 4) ||
            (f == AF_INET6 && nl_addr_get_len(a) == 16))
                inet_ntop(f, nl_addr_get_binary_addr(a), out, NETNS_ADDR_STRLEN);
}

int netns_addr_list(struct netns_nl *nl, const char *ifname, struct netns_addr **ret, size_t *ret_n,
                    struct lv_error **err)
{
        int only = 0;
        if (ifname) {
                only = ifindex_of(nl, ifname, err);
                if (only < 0)
                        return only;
        }
        _cleanup_free_ struct netns_link_info *links = NULL;
        size_t n_links = 0;
        int r = netns_link_list(nl, &links, &n_links, err);
        if (r < 0)
                return r;
        _cleanup_cache_ struct nl_cache *cache = NULL;
        nl_error_clear(nl);
        r = rtnl_addr_alloc_cache(nl->sk, &cache);
        if (r < 0)
                return nl_error_set(nl, err, r, "listing addresses");

        size_t cap = (size_t)nl_cache_nitems(cache), n = 0;
        _cleanup_free_ struct netns_addr *v = xcalloc(cap ? cap : 1, sizeof(*v));
        for (int pass = 0; pass < 2; pass++) {
                int want = pass == 0 ? AF_INET : AF_INET6;
                for (struct nl_object *o = nl_cache_get_first(cache); o && n < cap;
                     o = nl_cache_get_next(o)) {
                        struct rtnl_addr *a = (struct rtnl_addr *)o;
                        if (rtnl_addr_get_family(a) != want)
                                continue;
                        int idx = rtnl_addr_get_ifindex(a);
                        if (only && idx != only)
                                continue;
                        struct netns_addr *x = &v[n];
                        x->family = want;
                        for (size_t i = 0; i < n_links; i++)
                                if (links[i].ifindex == idx)
                                        snprintf(x->ifname, sizeof(x->ifname), "%s", links[i].name);
                        struct nl_addr *local = rtnl_addr_get_local(a);
                        struct nl_addr *peer = rtnl_addr_get_peer(a);
                        addr_text(local ? local : peer, x->address);
                        if (local && peer && nl_addr_cmp(local, peer) != 0)
                                addr_text(peer, x->peer);
                        x->prefix = (int)rtnl_addr_get_prefixlen(a);
                        if (x->address[0])
                                n++;
                }
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}
