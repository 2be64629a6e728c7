/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bridges: create, check that a name is a bridge, attach a port. */
#include "netns/nl.h"

int netns_bridge_create(struct netns_nl *nl, const char *name, struct lv_error **err)
{
        int r = netns_ifname_check(name, err);
        if (r < 0)
                return r;
        _cleanup_link_ struct rtnl_link *l = rtnl_link_alloc();
        if (!l)
                abort();
        rtnl_link_set_name(l, name);
        r = rtnl_link_set_type(l, "bridge");
        if (r < 0)
                return nl_error_set(nl, err, r, "creating bridge '%s'", name);
        nl_error_clear(nl);
        r = rtnl_link_add(nl->sk, l, NLM_F_CREATE | NLM_F_EXCL);
        if (r < 0) {
                if (nl_error_errno(nl, r) == -EEXIST) {
                        nl_error_clear(nl);
                        return lv_error_setf(err, EEXIST,
                                             "creating bridge '%s': a link of that name "
                                             "already exists",
                                             name);
                }
                return nl_error_set(nl, err, r, "creating bridge '%s'", name);
        }
        return 0;
}

int netns_bridge_check(struct netns_nl *nl, const char *name, struct lv_error **err)
{
        struct netns_link_info info;
        _cleanup_error_ struct lv_error *e = NULL;
        int r = netns_link_get(nl, name, &info, &e);
        if (r == -ENODEV)
                return lv_error_setf(err, ENODEV, "bridge '%s' does not exist", name);
        if (r < 0) {
                if (err && !*err)
                        *err = TAKE_PTR(e);
                return r;
        }
        if (!streq(info.kind, "bridge"))
                return lv_error_setf(err, EINVAL, "link '%s' is not a bridge (it is %s%s)", name,
                                     info.kind[0] ? "a " : "a device without a kind", info.kind);
        return 0;
}

int netns_bridge_attach(struct netns_nl *nl, const char *bridge, const char *port,
                        struct lv_error **err)
{
        int r = netns_bridge_check(nl, bridge, err);
        if (r < 0)
                return r;
        return netns_link_set_master(nl, port, bridge, err);
}

int netns_bridge_set_stp(struct netns_nl *nl, const char *name, bool stp, int delay,
                         struct lv_error **err)
{
        struct netns_link_info info;
        int r = netns_link_get(nl, name, &info, err);
        if (r < 0)
                return r;
        /* IFLA_BR_* in the link's IFLA_INFO_DATA (libnl has no setter for
         * a bridge's own attributes). The kernel applies the forward delay
         * before the STP state; its STP raises a delay below 2 s to 2 s. */
        struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
        if (!m)
                abort();
        struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = info.ifindex};
        struct nlattr *li, *data;
        if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
            !(li = nla_nest_start(m, IFLA_LINKINFO)) ||
            nla_put_string(m, IFLA_INFO_KIND, "bridge") < 0 ||
            !(data = nla_nest_start(m, IFLA_INFO_DATA)) ||
            (delay >= 0 && nla_put_u32(m, IFLA_BR_FORWARD_DELAY, (uint32_t)delay * 100) < 0) ||
            nla_put_u32(m, IFLA_BR_STP_STATE, stp) < 0) {
                nlmsg_free(m);
                return lv_error_setf(err, ENOBUFS, "bridge '%s': building the STP request", name);
        }
        nla_nest_end(m, data);
        nla_nest_end(m, li);
        nl_error_clear(nl);
        r = nl_send_sync(nl->sk, m); /* frees m */
        if (r < 0)
                return nl_error_set(nl, err, r, "bridge '%s': setting stp='%s' delay='%d'", name,
                                    stp ? "on" : "off", delay);
        return 0;
}
