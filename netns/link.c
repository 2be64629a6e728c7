/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Links: look up, list, and change one property at a time (state, MTU,
 * MAC, alias, name, namespace, master), delete. Also MAC text checks
 * (interface names: nl.c). */
#include "netns/nl.h"

#include <ctype.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char)tolower((unsigned char)c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int netns_mac_parse(const char *s, unsigned char out[NETNS_MAC_LEN], struct lv_error **err)
{
        unsigned char mac[NETNS_MAC_LEN];
        if (!s || strlen(s) != NETNS_MAC_STRLEN - 1)
                return lv_error_setf(err, EINVAL,
                                     "invalid MAC address '%s': expected aa:bb:cc:dd:ee:ff",
                                     s ? s : "");
        for (int i = 0; i < NETNS_MAC_LEN; i++) {
                int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
                if (hi < 0 || lo < 0 || (i < NETNS_MAC_LEN - 1 && s[i * 3 + 2] != ':'))
                        return lv_error_setf(err, EINVAL,
                                             "invalid MAC address '%s': expected "
                                             "aa:bb:cc:dd:ee:ff",
                                             s);
                mac[i] = (unsigned char)(hi << 4 | lo);
        }
        if (mac[0] & 1)
                return lv_error_setf(err, EINVAL, "invalid MAC address '%s': a multicast address",
                                     s);
        static const unsigned char zero[NETNS_MAC_LEN];
        if (memcmp(mac, zero, sizeof(mac)) == 0)
                return lv_error_setf(err, EINVAL, "invalid MAC address '%s': all zero", s);
        memcpy(out, mac, sizeof(mac));
        return 0;
}

void netns_mac_format(const unsigned char mac[NETNS_MAC_LEN], char out[NETNS_MAC_STRLEN])
{
        snprintf(out, NETNS_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
                 mac[3], mac[4], mac[5]);
}

static void link_info_fill(struct rtnl_link *l, struct netns_link_info *info)
{
        memset(info, 0, sizeof(*info));
        info->ifindex = rtnl_link_get_ifindex(l);
        const char *s = rtnl_link_get_name(l);
        snprintf(info->name, sizeof(info->name), "%s", s ? s : "");
        s = rtnl_link_get_type(l);
        snprintf(info->kind, sizeof(info->kind), "%s", s ? s : "");
        struct nl_addr *a = rtnl_link_get_addr(l);
        if (a && nl_addr_get_len(a) == NETNS_MAC_LEN)
                memcpy(info->mac, nl_addr_get_binary_addr(a), NETNS_MAC_LEN);
        info->mtu = rtnl_link_get_mtu(l);
        info->flags = rtnl_link_get_flags(l);
        info->master = rtnl_link_get_master(l);
        s = rtnl_link_get_ifalias(l);
        snprintf(info->alias, sizeof(info->alias), "%s", s ? s : "");
}

int netns_link_get(struct netns_nl *nl, const char *name, struct netns_link_info *ret,
                   struct lv_error **err)
{
        _cleanup_link_ struct rtnl_link *l = NULL;
        int r = nl_link_get(nl, name, &l, err);
        if (r < 0)
                return r;
        link_info_fill(l, ret);
        return 0;
}

int netns_link_stats_get(struct netns_nl *nl, const char *name, struct netns_link_stats *ret,
                         struct lv_error **err)
{
        _cleanup_link_ struct rtnl_link *l = NULL;
        int r = nl_link_get(nl, name, &l, err);
        if (r < 0)
                return r;
        *ret = (struct netns_link_stats){
                .rx_bytes = rtnl_link_get_stat(l, RTNL_LINK_RX_BYTES),
                .rx_packets = rtnl_link_get_stat(l, RTNL_LINK_RX_PACKETS),
                .rx_errs = rtnl_link_get_stat(l, RTNL_LINK_RX_ERRORS),
                .rx_drop = rtnl_link_get_stat(l, RTNL_LINK_RX_DROPPED),
                .tx_bytes = rtnl_link_get_stat(l, RTNL_LINK_TX_BYTES),
                .tx_packets = rtnl_link_get_stat(l, RTNL_LINK_TX_PACKETS),
                .tx_errs = rtnl_link_get_stat(l, RTNL_LINK_TX_ERRORS),
                .tx_drop = rtnl_link_get_stat(l, RTNL_LINK_TX_DROPPED),
        };
        return 0;
}

int netns_link_exists(struct netns_nl *nl, const char *name, struct lv_error **err)
{
        _cleanup_error_ struct lv_error *e = NULL;
        _cleanup_link_ struct rtnl_link *l = NULL;
        int r = nl_link_get(nl, name, &l, &e);
        if (r == -ENODEV)
                return 0;
        if (r < 0) {
                if (err && !*err)
                        *err = TAKE_PTR(e);
                return r;
        }
        return 1;
}

int netns_link_list(struct netns_nl *nl, struct netns_link_info **ret, size_t *ret_n,
                    struct lv_error **err)
{
        _cleanup_cache_ struct nl_cache *cache = NULL;
        nl_error_clear(nl);
        int r = rtnl_link_alloc_cache(nl->sk, AF_UNSPEC, &cache);
        if (r < 0)
                return nl_error_set(nl, err, r, "listing links");
        size_t n = (size_t)nl_cache_nitems(cache), i = 0;
        struct netns_link_info *v = xcalloc(n ? n : 1, sizeof(*v));
        for (struct nl_object *o = nl_cache_get_first(cache); o && i < n; o = nl_cache_get_next(o))
                link_info_fill((struct rtnl_link *)o, &v[i++]);
        *ret = v;
        *ret_n = i;
        return 0;
}

static struct rtnl_link *changes_new(void)
{
        struct rtnl_link *c = rtnl_link_alloc();
        if (!c)
                abort();
        return c;
}

int netns_link_set_up(struct netns_nl *nl, const char *name, bool up, struct lv_error **err)
{
        _cleanup_link_ struct rtnl_link *c = changes_new();
        if (up)
                rtnl_link_set_flags(c, IFF_UP);
        else
                rtnl_link_unset_flags(c, IFF_UP);
        return nl_link_change(nl, name, c, up ? "setting up" : "setting down", err);
}

int netns_link_set_mtu(struct netns_nl *nl, const char *name, unsigned mtu, struct lv_error **err)
{
        if (mtu < 68 || mtu > 65535)
                return lv_error_setf(err, EINVAL, "invalid MTU %u for link '%s' (68..65535)", mtu,
                                     name);
        _cleanup_link_ struct rtnl_link *c = changes_new();
        rtnl_link_set_mtu(c, mtu);
        char what[64];
        snprintf(what, sizeof(what), "setting MTU %u", mtu);
        return nl_link_change(nl, name, c, what, err);
}

int netns_link_set_mac(struct netns_nl *nl, const char *name,
                       const unsigned char mac[NETNS_MAC_LEN], struct lv_error **err)
{
        _cleanup_nladdr_ struct nl_addr *a = nl_addr_build(AF_LLC, mac, NETNS_MAC_LEN);
        if (!a)
                abort();
        _cleanup_link_ struct rtnl_link *c = changes_new();
        rtnl_link_set_addr(c, a);
        char what[64], s[NETNS_MAC_STRLEN];
        netns_mac_format(mac, s);
        snprintf(what, sizeof(what), "setting MAC %s", s);
        return nl_link_change(nl, name, c, what, err);
}

int netns_link_set_alias(struct netns_nl *nl, const char *name, const char *alias,
                         struct lv_error **err)
{
        if (strlen(alias) > NETNS_ALIAS_MAX)
                return lv_error_setf(err, EINVAL, "alias for link '%s' is too long", name);
        _cleanup_link_ struct rtnl_link *c = changes_new();
        rtnl_link_set_ifalias(c, alias);
        return nl_link_change(nl, name, c, "setting the alias", err);
}

int netns_link_rename(struct netns_nl *nl, const char *name, const char *new_name,
                      struct lv_error **err)
{
        int r = netns_ifname_check(new_name, err);
        if (r < 0)
                return r;
        _cleanup_link_ struct rtnl_link *c = changes_new();
        rtnl_link_set_name(c, new_name);
        char what[64];
        snprintf(what, sizeof(what), "renaming to '%s'", new_name);
        return nl_link_change(nl, name, c, what, err);
}

int netns_link_move(struct netns_nl *nl, const char *name, int nsfd, struct lv_error **err)
{
        _cleanup_link_ struct rtnl_link *c = changes_new();
        rtnl_link_set_ns_fd(c, nsfd);
        return nl_link_change(nl, name, c, "moving to another network namespace", err);
}

int netns_link_set_master(struct netns_nl *nl, const char *name, const char *master,
                          struct lv_error **err)
{
        int idx = 0;
        if (master) {
                struct netns_link_info m;
                int r = netns_link_get(nl, master, &m, err);
                if (r < 0)
                        return r;
                idx = m.ifindex;
        }
        _cleanup_link_ struct rtnl_link *c = changes_new();
        rtnl_link_set_master(c, idx);
        char what[64];
        snprintf(what, sizeof(what), master ? "attaching to '%s'" : "detaching%s",
                 master ? master : "");
        return nl_link_change(nl, name, c, what, err);
}

int netns_link_delete(struct netns_nl *nl, const char *name, struct lv_error **err)
{
        _cleanup_link_ struct rtnl_link *l = NULL;
        int r = nl_link_get(nl, name, &l, err);
        if (r < 0)
                return r;
        nl_error_clear(nl);
        r = rtnl_link_delete(nl->sk, l);
        if (r < 0)
                return nl_error_set(nl, err, r, "deleting link '%s'", name);
        return 0;
}

int netns_link_set_tx_checksum(const char *name, bool on, struct lv_error **err)
{
        int r = netns_ifname_check(name, err);
        if (r < 0)
                return r;
        struct ethtool_value v = {.cmd = ETHTOOL_STXCSUM, .data = on ? 1 : 0};
        struct ifreq ifr = {0};
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        ifr.ifr_data = (void *)&v;
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return lv_error_set(err, errno, "link '%s': cannot create a socket", name);
        if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
                return lv_error_set(err, errno, "link '%s': turning transmit checksumming %s", name,
                                    on ? "on" : "off");
        return 0;
}
