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

struct network_dns_txt {
        char *name;
        char *value;
};

/* <srv service= protocol= domain= target= port= priority= weight=/>:
 * numbers 0 when not given, as libvirt keeps them */
struct network_dns_srv {
        char *service;
        char *protocol;
        char *domain;
        char *target;
        unsigned port, priority, weight;
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
        struct network_dns_txt *dns_txts;
        int n_dns_txts;
        struct network_dns_srv *dns_srvs;
        int n_dns_srvs;
        struct network_dns_host *dns_hosts;
        int n_dns_hosts;
        struct network_ip *ips;
        int n_ips;
};

void network_def_free(struct network_def *def);
void network_dhcp_host_clear(struct network_dhcp_host *h);
void network_dns_host_clear(struct network_dns_host *h);
void network_dns_txt_clear(struct network_dns_txt *t);
void network_dns_srv_clear(struct network_dns_srv *v);
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
/* libvirt's network XML (its element order, two-space indentation). */
char *network_format(const struct network_def *def);

/* Semantic checks (names, addresses in their subnet, ranges, MACs);
 * the parser calls it, so a parsed definition is always valid. */
int network_validate(const struct network_def *def, struct lv_error **err);

/* What net-define adds, as libvirt does: a bridge name virbrN not in
 * taken (NULL-terminated), and a bridge MAC, when the definition has
 * none. Only for forward modes that make a bridge. */
void network_def_assign(struct network_def *def, char *const *taken_bridges);

/* ---- net-update ----
 * virsh net-update NAME COMMAND SECTION XML [--parent-index N]: the
 * sections and commands libvirt has. A fragment is parsed (in the XML
 * module) into a struct network_update, then applied to a definition
 * with libvirt's matching rules; the running network applies the same
 * change (network/setup.c). */
enum network_update_command {
        NETWORK_UPDATE_MODIFY,
        NETWORK_UPDATE_DELETE,
        NETWORK_UPDATE_ADD_LAST, /* "add" too */
        NETWORK_UPDATE_ADD_FIRST,
};
/* -1 with err for a command virsh does not have */
int network_update_command_from_string(const char *s, struct lv_error **err);
const char *network_update_command_to_string(int v);

enum network_update_section {
        NETWORK_SECTION_IP_DHCP_HOST,
        NETWORK_SECTION_IP_DHCP_RANGE,
        NETWORK_SECTION_FORWARD_INTERFACE,
        NETWORK_SECTION_DNS_HOST,
        NETWORK_SECTION_DNS_TXT,
        NETWORK_SECTION_DNS_SRV,
        NETWORK_SECTION_LAST
};
/* A section litevirt updates, or -1 with err saying why not (libvirt's
 * sections it cannot update, litevirt's it does not have). */
int network_update_section_from_string(const char *s, struct lv_error **err);
const char *network_update_section_to_string(int v);

struct network_update {
        int section;
        union {
                struct network_dhcp_host host;
                struct network_dhcp_range range;
                char *iface; /* forward-interface: <interface dev=/> */
                struct network_dns_host dns_host;
                struct network_dns_txt txt;
                struct network_dns_srv srv;
        };
};
void network_update_clear(struct network_update *u);

/* Parse a section's fragment (in the XML module). A delete needs only the
 * fields that find the entry (partial), as libvirt. */
int network_update_parse_string(int section, int command, const char *xml, size_t len,
                                struct network_update *ret, struct lv_error **err);
/* Apply to a definition (parent_index: the <ip> for the ip-dhcp-*
 * sections, -1 for libvirt's choice). The result is validated; on any
 * error def is unchanged. */
int network_def_update(struct network_def *def, int command, int parent_index,
                       const struct network_update *u, struct lv_error **err);
/* What a running network must do for a change of the section. */
enum network_update_effect {
        NETWORK_EFFECT_DNSMASQ_RELOAD,  /* hosts files rewritten + SIGHUP */
        NETWORK_EFFECT_DNSMASQ_RESTART, /* its configuration changed */
        NETWORK_EFFECT_FIREWALL,        /* the nftables table reloaded */
};
int network_update_effect(int section);

/* The first IPv4 <ip> (the one DHCP and NAT use), or NULL. */
const struct network_ip *network_def_ipv4(const struct network_def *def);
/* The prefix length of an <ip> (from prefix= or netmask=). */
int network_ip_prefix(const struct network_ip *ip);
/* Whether the network makes (and owns) its bridge: every mode but bridge. */
bool network_def_makes_bridge(const struct network_def *def);
