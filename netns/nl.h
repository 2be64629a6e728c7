/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internal to netns/: the libnl side of struct netns_nl, and the one place
 * that turns libnl's error style (negative NLE_* codes, losing the kernel's
 * errno and its extended-ack text) into struct lv_error. */

#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "netns/netns.h"

struct netns_nl {
        struct nl_sock *sk;
        /* The last error the kernel reported on this socket (positive
         * errno, 0 when none) and its extended-ack message, recorded by
         * nl.c's error callback. */
        int kernel_errno;
        char kernel_msg[128];
};

/* Translate a failed libnl call (r < 0, an -NLE_* code) into *err:
 * "<context>: <strerror(errno)>[ (<kernel message>)]" with the kernel's
 * own errno when it sent one. Returns the negative errno. */
int nl_error_set(struct netns_nl *nl, struct lv_error **err, int r, const char *fmt, ...)
        _printf_(4, 5);
/* The errno a failed libnl call stands for (kernel's when known). */
int nl_error_errno(struct netns_nl *nl, int r);
/* Forget the recorded kernel error (before a call whose error is read). */
void nl_error_clear(struct netns_nl *nl);

/* Fetch a link by name (-ENODEV "link 'x' does not exist" when missing). */
int nl_link_get(struct netns_nl *nl, const char *name, struct rtnl_link **ret,
                struct lv_error **err);
/* Apply changes to the link called name (one RTM_NEWLINK/SETLINK). */
int nl_link_change(struct netns_nl *nl, const char *name, struct rtnl_link *changes,
                   const char *what, struct lv_error **err);

static inline void rtnl_link_putp(struct rtnl_link **l)
{
        if (*l)
                rtnl_link_put(*l);
}
#define _cleanup_link_ _cleanup_(rtnl_link_putp)
static inline void nl_cache_freep(struct nl_cache **c)
{
        if (*c)
                nl_cache_free(*c);
}
#define _cleanup_cache_ _cleanup_(nl_cache_freep)
static inline void nl_addr_putp(struct nl_addr **a)
{
        if (*a)
                nl_addr_put(*a);
}
#define _cleanup_nladdr_ _cleanup_(nl_addr_putp)
