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
