/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The driver-facing side of guest networking. From a definition's
 * <interface> elements:
 *  - a container gets, per interface, a veth pair: the host end (named
 *    <target dev=...> or lv<guest>-<n>) on its bridge and up, the guest end
 *    born inside the container's network namespace with its final name
 *    (<guest dev=...> or eth<n>), MAC, MTU, addresses, routes, up;
 *  - a VM gets a tap per interface on its bridge, and its fd.
 * Everything is checked before anything is made (types, MACs, names,
 * bridges, addresses, routes), and every link made registers its undo
 * (on the caller's undo sink: the drivers pass guest_undo_sink()), so a
 * failed start or a stop leaves nothing.
 *
 * Ownership: each host-side link carries the ifalias
 * "litevirt:<guest uuid>:<interface index>", so leftovers of a supervisor
 * that was killed are provably the guest's own and can be removed (and
 * nothing else ever is). */

#include "netns/netns.h"
#include "conf/domain.h"
#include "util/undo.h"

#define NETNS_ALIAS_PREFIX "litevirt:"

/* ---- netns/guest_links.c (no supervisor dependency) ---- */

/* Give each interface without <mac> a generated one, locally administered
 * (52:54:00:xx:xx:xx; 00:16:3e:xx:xx:xx for Xen as libvirt). Returns how
 * many were filled. The define path calls this so the MAC is written into
 * the definition and stays stable across restarts. */
int netns_guest_fill_macs(struct domain_def *def);

/* "litevirt:<uuid>:<index>" */
void netns_guest_alias(const unsigned char uuid[16], int index, char out[64]);
/* The index an alias gives for this guest, or -1 when not this guest's. */
int netns_guest_alias_index(const char *alias, const unsigned char uuid[16]);

/* The host-side name for interface index of the guest: <target dev> when
 * given, else the first of lv<guest>-<index>, lv<guest>-<index>-<k>...
 * (guest part shortened to fit IFNAMSIZ, characters not allowed in link
 * names replaced by '_') that no link in nl's namespace uses and no other
 * interface of def names. */
int netns_guest_host_name(struct netns_nl *nl, const struct domain_def *def, int index,
                          char out[IFNAMSIZ], struct lv_error **err);
/* The container-side name: <guest dev> or eth<index>. */
void netns_guest_guest_name(const struct domain_def *def, int index, char out[IFNAMSIZ]);

/* Host-side links of the guest (by alias) in nl's namespace: names[i] is
 * the link of interface i, "" when none. names has def->n_nets entries. */
int netns_guest_host_links(struct netns_nl *nl, const unsigned char uuid[16], int n,
                           char (*names)[IFNAMSIZ], struct lv_error **err);
/* Delete every link in nl's namespace whose alias marks it as this
 * guest's. Returns the number deleted. */
int netns_guest_cleanup(struct netns_nl *nl, const unsigned char uuid[16], struct lv_error **err);

/* A <route> of the definition as a netns route through ifname. */
int netns_route_from_def(const struct domain_route *r, const char *ifname, struct netns_route *out,
                         struct lv_error **err);

/* Everything that can be checked before anything is made. host: the
 * supervisor's namespace (bridges, host names); guest_nl: the container's
 * (NULL for a VM). */
int netns_guest_check(const struct domain_def *def, struct netns_nl *host,
                      struct netns_nl *guest_nl, struct lv_error **err);
/* The same for interface i alone (hot-plug). */
int netns_guest_check_one(const struct domain_def *def, int i, struct netns_nl *host,
                          struct netns_nl *guest_nl, struct lv_error **err);
/* Interface index of n has left the guest (hot-unplug): its host-side
 * link is deleted and the links of the interfaces after it are marked
 * with their new indexes (index+1 becomes index, ...). */
int netns_guest_host_link_remove(struct netns_nl *nl, const unsigned char uuid[16], int index,
                                 int n, struct lv_error **err);

/* ---- netns/guest_net.c (hands each link's undo to the sink) ---- */

/* Container: called by the LXC driver in the parent after clone, while the
 * child waits, with the child's pid. Links appear in def (MACs filled
 * when missing). */
int netns_guest_setup_container(struct domain_def *def, const struct undo_sink *undo,
                                pid_t child_pid, struct lv_error **err);

/* Container hot-plug: the veth pair of interface i alone (checked
 * alone) into the running container of pid, as above. */
int netns_guest_setup_container_one(struct domain_def *def, const struct undo_sink *undo, pid_t pid,
                                    int i, struct lv_error **err);

/* VM: one tap per interface in def->nets order. taps[i].fd is the queue
 * fd to hand to QEMU (-netdev tap,fd=N), or -1 with ifname "" for an
 * interface that needs none (type='user'). The caller owns the fds (close
 * them once QEMU has them); the links' undos delete them at stop. With
 * NETNS_TAP_PERSIST the taps survive their fds (QEMU opens them by name). */
struct netns_guest_tap {
        char ifname[IFNAMSIZ];
        int fd;
};
int netns_guest_setup_vm(struct domain_def *def, const struct undo_sink *undo, unsigned tap_flags,
                         struct netns_guest_tap **ret, int *ret_n, struct lv_error **err);
void netns_guest_taps_free(struct netns_guest_tap *taps, int n);
/* VM hot-plug: the tap of interface i alone (checked alone), as above;
 * tap->fd -1 for type='user'. */
int netns_guest_setup_vm_one(struct domain_def *def, const struct undo_sink *undo, int i,
                             struct netns_guest_tap *tap, struct lv_error **err);
