/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Network building blocks shared by the drivers and the tests: named
 * network namespaces, links (state, MTU, MAC, name, namespace, master),
 * veth pairs, bridges, taps, addresses and routes. Everything speaks
 * rtnetlink through libnl-3/libnl-route-3; nothing shells out to `ip`.
 *
 * A struct netns_nl is an rtnetlink connection bound to ONE network
 * namespace (the one it was opened in): the functions taking it act in that
 * namespace, whatever namespace the caller runs in afterwards. Links are
 * named by their name; a missing link is -ENODEV with a message naming it.
 * Callers of this header never see libnl. */

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

#define NETNS_MAC_LEN     6
#define NETNS_MAC_STRLEN  18  /* "aa:bb:cc:dd:ee:ff" + NUL */
#define NETNS_ADDR_STRLEN 46  /* INET6_ADDRSTRLEN */
#define NETNS_ALIAS_MAX   255 /* IFALIASZ - 1 */

/* ---- rtnetlink connection (netns/nl.c) ---- */

struct netns_nl;

/* A connection in the caller's current network namespace. */
int netns_nl_open(struct netns_nl **ret, struct lv_error **err);
/* A connection in the namespace nsfd refers to (an fd on a
 * /proc/PID/ns/net or /run/netns/NAME); the caller's namespace is left as
 * it was. */
int netns_nl_open_fd(int nsfd, struct netns_nl **ret, struct lv_error **err);
void netns_nl_close(struct netns_nl *nl);
static inline void netns_nl_closep(struct netns_nl **nl)
{
        netns_nl_close(*nl);
        *nl = NULL;
}
#define _cleanup_nl_ _cleanup_(netns_nl_closep)

/* ---- network namespaces (netns/netns.c) ---- */

/* Named namespaces as `ip netns` keeps them: a bind mount of the namespace
 * on /run/netns/NAME, so `ip netns exec NAME` works on them. */
int netns_create(const char *name, struct lv_error **err);
/* Unmount and remove /run/netns/NAME; -ENOENT when it does not exist. */
int netns_delete(const char *name, struct lv_error **err);
bool netns_exists(const char *name);
/* Open (O_CLOEXEC) a namespace fd: by name, by pid, of the caller. */
int netns_open_named(const char *name, struct lv_error **err);
int netns_open_pid(pid_t pid, struct lv_error **err);
int netns_open_self(struct lv_error **err);
/* Whether two namespace fds refer to the same namespace. */
bool netns_same(int fd_a, int fd_b);
/* Run fn(data, err) with the calling thread inside namespace nsfd and come
 * back to the caller's namespace afterwards (the caller must be
 * single-threaded or accept that only this thread moves). fn's result is
 * returned. */
int netns_run_in(int nsfd, int (*fn)(void *data, struct lv_error **err), void *data,
                 struct lv_error **err);

/* ---- MAC addresses (netns/link.c) ---- */

/* "aa:bb:cc:dd:ee:ff" (either case). Rejects other shapes, multicast
 * (odd first octet) and all-zero addresses, naming the text. */
int netns_mac_parse(const char *s, unsigned char out[NETNS_MAC_LEN], struct lv_error **err);
void netns_mac_format(const unsigned char mac[NETNS_MAC_LEN], char out[NETNS_MAC_STRLEN]);

/* ---- links (netns/link.c) ---- */

struct netns_link_info {
        int ifindex;
        char name[IFNAMSIZ];
        char kind[32]; /* "veth", "bridge", "tun", "" when none */
        unsigned char mac[NETNS_MAC_LEN];
        unsigned mtu;
        unsigned flags; /* IFF_* */
        int master;     /* ifindex of the master (bridge), 0 if none */
        char alias[NETNS_ALIAS_MAX + 1];
};

/* A valid interface name: 1..15 bytes, no '/', ':', whitespace, not "." or
 * "..". The message names the text and the problem. */
int netns_ifname_check(const char *name, struct lv_error **err);

int netns_link_get(struct netns_nl *nl, const char *name, struct netns_link_info *ret,
                   struct lv_error **err);
/* A link's counters as the kernel keeps them (IFLA_STATS64), from the
 * link's own side. */
struct netns_link_stats {
        unsigned long long rx_bytes, rx_packets, rx_errs, rx_drop;
        unsigned long long tx_bytes, tx_packets, tx_errs, tx_drop;
};
int netns_link_stats_get(struct netns_nl *nl, const char *name, struct netns_link_stats *ret,
                         struct lv_error **err);
/* 1 when a link of that name exists, 0 when not, negative on error. */
int netns_link_exists(struct netns_nl *nl, const char *name, struct lv_error **err);
/* All links of the namespace; *ret is freed with free(). */
int netns_link_list(struct netns_nl *nl, struct netns_link_info **ret, size_t *ret_n,
                    struct lv_error **err);
int netns_link_set_up(struct netns_nl *nl, const char *name, bool up, struct lv_error **err);
int netns_link_set_mtu(struct netns_nl *nl, const char *name, unsigned mtu, struct lv_error **err);
int netns_link_set_mac(struct netns_nl *nl, const char *name,
                       const unsigned char mac[NETNS_MAC_LEN], struct lv_error **err);
/* The interface alias (ifalias); litevirt marks the links it owns with it. */
int netns_link_set_alias(struct netns_nl *nl, const char *name, const char *alias,
                         struct lv_error **err);
int netns_link_rename(struct netns_nl *nl, const char *name, const char *new_name,
                      struct lv_error **err);
/* Move the link into the namespace nsfd refers to. */
int netns_link_move(struct netns_nl *nl, const char *name, int nsfd, struct lv_error **err);
/* Enslave to master (a bridge), or release when master is NULL. */
int netns_link_set_master(struct netns_nl *nl, const char *name, const char *master,
                          struct lv_error **err);
int netns_link_delete(struct netns_nl *nl, const char *name, struct lv_error **err);
/* Transmit checksum offload of a link of the caller's namespace
 * (SIOCETHTOOL). Off on a network's bridge: the DHCP replies dnsmasq
 * sends then carry full checksums, which clients reading raw packets
 * (busybox udhcpc, many DHCP clients in initramfs) verify; libvirt fills
 * them with an iptables CHECKSUM rule, which nftables does not have. */
int netns_link_set_tx_checksum(const char *name, bool on, struct lv_error **err);

/* ---- veth pairs (netns/veth.c) ---- */

struct netns_veth_spec {
        const char *name;              /* the end that stays in nl's namespace */
        const char *peer_name;         /* the other end */
        int peer_nsfd;                 /* namespace of the peer end, -1 = same as nl */
        const unsigned char *mac;      /* NULL = kernel's choice */
        const unsigned char *peer_mac; /* NULL = kernel's choice */
        unsigned mtu;                  /* both ends; 0 = default */
};

/* Create both ends in one request: the peer is born in its namespace with
 * its final name, so nothing is ever left half-made. Fails with -EEXIST
 * (naming the link) when either name is taken. */
int netns_veth_create(struct netns_nl *nl, const struct netns_veth_spec *spec,
                      struct lv_error **err);

/* ---- bridges (netns/bridge.c) ---- */

int netns_bridge_create(struct netns_nl *nl, const char *name, struct lv_error **err);
/* 0 when name exists and is a bridge; -ENODEV "bridge 'x' does not exist"
 * or -EINVAL "'x' is not a bridge" otherwise. */
int netns_bridge_check(struct netns_nl *nl, const char *name, struct lv_error **err);
/* <bridge stp= delay=>: the kernel's STP on or off, and the forward delay
 * in seconds (delay < 0: unchanged). */
int netns_bridge_set_stp(struct netns_nl *nl, const char *name, bool stp, int delay,
                         struct lv_error **err);
/* Make port a port of bridge (checked to be a bridge first). */
int netns_bridge_attach(struct netns_nl *nl, const char *bridge, const char *port,
                        struct lv_error **err);

/* ---- taps (netns/tap.c) ---- */

enum {
        NETNS_TAP_PERSIST = 1 << 0,  /* survives closing the fd (QEMU opens it by name) */
        NETNS_TAP_VNET_HDR = 1 << 1, /* IFF_VNET_HDR, for virtio-net */
};

/* Create a tap named name (a template with "%d" lets the kernel number it)
 * in the caller's current namespace via /dev/net/tun. The chosen name goes
 * to ret_name; the open queue fd (O_CLOEXEC) to *ret_fd. The tap is gone
 * when the fd closes unless NETNS_TAP_PERSIST. */
int netns_tap_create(const char *name, unsigned flags, char ret_name[IFNAMSIZ], int *ret_fd,
                     struct lv_error **err);

/* ---- addresses (netns/addr.c) ---- */

struct netns_addr {
        int family; /* AF_INET, AF_INET6 */
        char ifname[IFNAMSIZ];
        char address[NETNS_ADDR_STRLEN];
        int prefix;
        char peer[NETNS_ADDR_STRLEN]; /* "" when none */
};

/* Parse a numeric IPv4/IPv6 address (no names, no prefix). family is
 * AF_INET/AF_INET6 to require one, AF_UNSPEC to accept either; the result
 * goes to *ret_family and buf (16 bytes). */
int netns_ip_parse(const char *s, int family, int *ret_family, unsigned char buf[16],
                   struct lv_error **err);
/* Add address/prefix (prefix -1: 24/16/8 by class for IPv4 as libvirt,
 * 64 for IPv6) on ifname; peer may be NULL (point-to-point otherwise). */
/* Check address/prefix [peer] without touching anything; returns the
 * prefix that would be used, the family to *ret_family (may be NULL). */
int netns_addr_validate(const char *address, int prefix, const char *peer, int *ret_family,
                        struct lv_error **err);
int netns_addr_add(struct netns_nl *nl, const char *ifname, const char *address, int prefix,
                   const char *peer, struct lv_error **err);
int netns_addr_delete(struct netns_nl *nl, const char *ifname, const char *address, int prefix,
                      struct lv_error **err);
/* Addresses of ifname (NULL: of all links), IPv4 first; freed with free(). */
int netns_addr_list(struct netns_nl *nl, const char *ifname, struct netns_addr **ret, size_t *ret_n,
                    struct lv_error **err);
/* The prefix netns_addr_add uses when prefix is -1; negative when none. */
int netns_addr_default_prefix(int family, const unsigned char buf[16]);

/* ---- routes (netns/route.c) ---- */

struct netns_route {
        int family;                  /* AF_INET, AF_INET6 */
        char dst[NETNS_ADDR_STRLEN]; /* "" = default route */
        int prefix;
        char gateway[NETNS_ADDR_STRLEN]; /* "" = none (link scope) */
        int metric;                      /* -1 = unset */
        char ifname[IFNAMSIZ];           /* "" = chosen by the kernel */
};

/* Check a route without touching anything (families agree, prefix in
 * range, no host bits set, a gateway or a link). */
int netns_route_validate(const struct netns_route *route, struct lv_error **err);
/* Add a route to the main table. family 0 = from dst or gateway. */
int netns_route_add(struct netns_nl *nl, const struct netns_route *route, struct lv_error **err);
/* Unicast routes of the main table for family (0 = both); freed with free(). */
int netns_route_list(struct netns_nl *nl, int family, struct netns_route **ret, size_t *ret_n,
                     struct lv_error **err);
