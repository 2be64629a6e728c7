/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A running virtual network (network/): what its supervisor,
 * litevirt-network, makes from a definition (conf/network.h), and how
 * others (lvsh, guest supervisors) find it. See docs/network.md. */

#include <sys/types.h>

#include "conf/domain.h"
#include "conf/network.h"

/* ---- dnsmasq (dnsmasq.c): the files given to Debian's dnsmasq, in
 * libvirt's layout (networkxml2confdata). Pure: text only. ---- */

/* Whether the network runs a dnsmasq (an IPv4/IPv6 address on a bridge
 * litevirt makes, and DNS or DHCP to serve). */
bool network_dnsmasq_wanted(const struct network_def *def);
/* dnsmasq.conf; files live in statedir (NAME.leases, NAME.hostsfile,
 * NAME.addnhosts). */
char *network_dnsmasq_conf(const struct network_def *def, const char *statedir);
/* dhcp-hostsfile: one "mac,ip,name" (or "id:DUID,[ip],name") per host. */
char *network_dnsmasq_hostsfile(const struct network_def *def);
/* addn-hosts: "ip\tname name..." per <dns><host>. */
char *network_dnsmasq_addnhosts(const struct network_def *def);

/* A DHCP lease as dnsmasq's lease file has it. */
struct network_lease {
        long long expiry; /* seconds since the epoch, 0: infinite */
        char *mac;        /* NULL for an IPv6 lease */
        char *ip;
        char *hostname; /* NULL when "*" */
        char *clientid; /* NULL when "*" */
};
/* Parse the lease file's text; lines that do not parse are skipped. */
void network_leases_parse(const char *text, struct network_lease **ret, size_t *ret_n);
void network_leases_free(struct network_lease *l, size_t n);

/* ---- nftables (firewall.c) ---- */

/* The table of litevirt's own for a network: "litevirt_<bridge>" in the
 * inet family. Nothing else is ever touched. */
char *network_nft_table(const struct network_def *def);
/* The whole table as an nft script ("table inet ... { ... }"), or NULL
 * when the forward mode needs no rules (open, bridge). Pure. */
char *network_nft_ruleset(const struct network_def *def);
/* Load a script with `nft -f -`; delete a table (absent is fine). */
int network_nft_apply(const char *script, struct lv_error **err);
int network_nft_delete(const char *table, struct lv_error **err);

/* ---- state (state.c): $NETRUNDIR/NAME/, no libnl ---- */

/* The state directory holds:
 *   lock          flock()ed by the network's supervisor for its lifetime
 *   status.json   {"pid", "bridge", "uuid", "dnsmasq_pid", "nft_table"}
 *   control.sock  varlink: io.litevirt.Network.{GetInfo,GetLeases,Update,Stop}
 *   network.xml   the definition it runs with (net-update --live included;
 *                 a transient network's only one)
 *   dnsmasq.conf, NAME.leases, NAME.hostsfile, NAME.addnhosts, dnsmasq.pid
 * 1 when a supervisor holds the lock (the network is active; *ret_pid its
 * pid when known), 0 when not (a directory may be left by a dead one:
 * see network_state_stale), negative on error. */
int network_state_active(const char *name, pid_t *ret_pid, struct lv_error **err);
/* Whether a state directory exists with nobody holding its lock. */
bool network_state_stale(const char *name);
/* The active network's bridge (malloc'd). "network 'NAME' is not
 * active" (libvirt's words) when it does not run. */
int network_state_bridge(const char *name, char **ret_bridge, struct lv_error **err);

#define NETWORK_ALIAS_PREFIX "litevirt-net:"
#define NETWORK_RUNNING_XML  "network.xml"
