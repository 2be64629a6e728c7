/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* veth pairs, both ends made by one RTM_NEWLINK: the peer is born in its
 * namespace with its final name, MAC and MTU. */
#include "netns/nl.h"

#include <netlink/route/link/veth.h>

static int name_free_check(struct netns_nl *nl, const char *name, const char *where,
                           struct lv_error **err)
{
        int r = netns_link_exists(nl, name, err);
        if (r < 0)
                return r;
        if (r > 0)
                return lv_error_setf(err, EEXIST, "a link named '%s' already exists%s", name,
                                     where);
        return 0;
}

int netns_veth_create(struct netns_nl *nl, const struct netns_veth_spec *spec,
                      struct lv_error **err)
{
        int r = netns_ifname_check(spec->name, err);
        if (r < 0)
                return r;
        r = netns_ifname_check(spec->peer_name, err);
        if (r < 0)
                return r;
        if (spec->mtu && (spec->mtu < 68 || spec->mtu > 65535))
                return lv_error_setf(err, EINVAL, "invalid MTU %u for veth '%s' (68..65535)",
                                     spec->mtu, spec->name);

        /* Say which name is taken before asking the kernel, whose EEXIST
         * does not tell. */
        r = name_free_check(nl, spec->name, "", err);
        if (r < 0)
                return r;
        if (spec->peer_nsfd >= 0) {
                _cleanup_nl_ struct netns_nl *peer_nl = NULL;
                r = netns_nl_open_fd(spec->peer_nsfd, &peer_nl, err);
                if (r < 0)
                        return r;
                r = name_free_check(peer_nl, spec->peer_name, " in the peer's namespace", err);
                if (r < 0)
                        return r;
        } else if (streq(spec->name, spec->peer_name)) {
                return lv_error_setf(err, EEXIST, "veth ends cannot both be named '%s'",
                                     spec->name);
        } else {
                r = name_free_check(nl, spec->peer_name, "", err);
                if (r < 0)
                        return r;
        }

        struct rtnl_link *link = rtnl_link_veth_alloc();
        if (!link)
                abort();
        _cleanup_link_ _unused_ struct rtnl_link *owned = link;
        struct rtnl_link *peer = rtnl_link_veth_get_peer(link);
        /* get_peer took a reference */
        _cleanup_link_ _unused_ struct rtnl_link *peer_ref = peer;

        rtnl_link_set_name(link, spec->name);
        rtnl_link_set_name(peer, spec->peer_name);
        if (spec->mtu) {
                rtnl_link_set_mtu(link, spec->mtu);
                rtnl_link_set_mtu(peer, spec->mtu);
        }
        if (spec->mac) {
                _cleanup_nladdr_ struct nl_addr *a = nl_addr_build(AF_LLC, spec->mac, 6);
                rtnl_link_set_addr(link, a);
        }
        if (spec->peer_mac) {
                _cleanup_nladdr_ struct nl_addr *a = nl_addr_build(AF_LLC, spec->peer_mac, 6);
                rtnl_link_set_addr(peer, a);
        }
        if (spec->peer_nsfd >= 0)
                rtnl_link_set_ns_fd(peer, spec->peer_nsfd);

        nl_error_clear(nl);
        r = rtnl_link_add(nl->sk, link, NLM_F_CREATE | NLM_F_EXCL);
        if (r < 0)
                return nl_error_set(nl, err, r, "creating veth pair '%s'/'%s'", spec->name,
                                    spec->peer_name);
        return 0;
}
