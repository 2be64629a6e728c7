/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The virtual network model: what litevirt understands of libvirt's
 * network XML (<network>). Like the domain model, every string is owned
 * (malloc'd), NULL when absent; the parser is conf/network_parse.c
 * (libxml2, in the XML module), the rest here needs no libxml2. */

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define NETWORK_XML_MAX_BYTES (256 * 1024)
#define NETWORK_NAME_MAX      64

enum network_forward {
        NETWORK_FORWARD_NONE, /* isolated: no <forward> */
        NETWORK_FORWARD_NAT,
        NETWORK_FORWARD_ROUTE,
        NETWORK_FORWARD_OPEN,
        NETWORK_FORWARD_BRIDGE, /* an existing host bridge, nothing managed */
        NETWORK_FORWARD_LAST
};
const char *network_forward_to_string(int v);
int network_forward_from_string(const char *s);

struct network_dhcp_range {
        char *start;
        char *end;
};

struct network_dhcp_host {
        char *mac; /* lower case, IPv4 only */
        char *id;  /* IPv6: DUID */
        char *name;
        char *ip;
};

struct network_ip {
        bool ipv6; /* family='ipv6' (or an IPv6 address) */
        bool family_given;
        char *address;
        char *netmask; /* IPv4, as given */
        int prefix;    /* -1 when not given */
        struct network_dhcp_range *ranges;
        int n_ranges;
        struct network_dhcp_host *hosts;
        int n_hosts;
        bool has_dhcp; /* a <dhcp> element, even empty */
};

struct network_dns_host {
        char *ip;
        char **hostnames;
};

struct network_def {
        char *name;
        unsigned char uuid[16];
        enum network_forward forward;
        char *forward_dev;
        unsigned nat_port_start, nat_port_end; /* 0: not given */
        char *bridge;
        int stp;      /* -1 not given, 0 off, 1 on */
        int delay;    /* -1 not given */
        unsigned mtu; /* 0: not given */
        char *mac;    /* the bridge's, lower case */
        char *domain; /* <domain name> */
        bool domain_local_only;
        bool dns_disabled; /* <dns enable='no'> */
        char **dns_forwarders;
        struct network_dns_host *dns_hosts;
        int n_dns_hosts;
        struct network_ip *ips;
        int n_ips;
};

void network_def_free(struct network_def *def);
static inline void network_def_freep(struct network_def **d)
{
        network_def_free(*d);
        *d = NULL;
}
#define _cleanup_network_def_ _cleanup_(network_def_freep)

/* Parse (in the XML module: call through conf_xml()). Unsupported or
 * invalid content is refused with "FILE:LINE: element 'x': ..."; a missing
 * uuid is generated. */
int network_parse_string(const char *xml, size_t len, const char *filename,
                         struct network_def **ret, struct lv_error **err);
int network_parse_file(const char *path, struct network_def **ret, struct lv_error **err);
/* A lone <host mac= id= name= ip=/> (net-update ip-dhcp-host): the same
 * loader and refusals; checked against a network by
 * network_def_host_update(). */
int network_host_parse_string(const char *xml, size_t len, struct network_dhcp_host *ret,
                              struct lv_error **err);

/* libvirt's network XML (its element order, two-space indentation). */
char *network_format(const struct network_def *def);

/* Semantic checks (names, addresses in their subnet, ranges, MACs);
 * the parser calls it, so a parsed definition is always valid. */
int network_validate(const struct network_def *def, struct lv_error **err);

/* What net-define adds, as libvirt does: a bridge name virbrN not in
 * taken (NULL-terminated), and a bridge MAC, when the definition has
 * none. Only for forward modes that make a bridge. */
void network_def_assign(struct network_def *def, char *const *taken_bridges);

/* net-update ip-dhcp-host on a definition: add a host to the IPv4 <ip>
 * (refused when its MAC, name or address is already there), or delete
 * the one matching the given MAC (else name, else address). The result
 * is validated; on any error def is unchanged. */
int network_def_host_update(struct network_def *def, bool add, const struct network_dhcp_host *h,
                            struct lv_error **err);

/* A lone <host ip=><hostname>…</hostname></host> (net-update dns-host). */
int network_dns_host_parse_string(const char *xml, size_t len, struct network_dns_host *ret,
                                  struct lv_error **err);
/* net-update dns-host on a definition, as libvirt: add a host (refused
 * when its address or one of its names is already there), or delete the
 * one with that address or a name in common. The result is validated; on
 * any error def is unchanged. */
int network_def_dns_host_update(struct network_def *def, bool add, const struct network_dns_host *h,
                                struct lv_error **err);

/* The first IPv4 <ip> (the one DHCP and NAT use), or NULL. */
const struct network_ip *network_def_ipv4(const struct network_def *def);
/* The prefix length of an <ip> (from prefix= or netmask=). */
int network_ip_prefix(const struct network_ip *ip);
/* Whether the network makes (and owns) its bridge: every mode but bridge. */
bool network_def_makes_bridge(const struct network_def *def);
