/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Making and removing a running network (network/setup.c); only the
 * network supervisor uses it (it links libnl). */

#include "network/network.h"

struct netns_nl;

struct network_run {
        struct network_def *def;
        const char *statedir;
        struct netns_nl *nl;
        int bridge_ifindex; /* the bridge we made, 0: none */
        char *nft_table;    /* the table we loaded, NULL: none */
        pid_t dnsmasq_pid;
        int dnsmasq_pidfd;
};

/* Make everything; on failure what was made stays recorded in run for
 * network_run_teardown(). dnsmasq's output goes to log_fd. */
int network_run_setup(struct network_run *run, int log_fd, struct lv_error **err);
/* Remove what run records, in reverse; stops dnsmasq. Never fails. */
void network_run_teardown(struct network_run *run);
/* net-update --live of an ip-dhcp-host: change the running definition,
 * rewrite dnsmasq's hostsfile and make it re-read it (SIGHUP). */
int network_run_host_update(struct network_run *run, bool add, const struct network_dhcp_host *h,
                            struct lv_error **err);
/* net-update --live of a dns-host: the same with dnsmasq's addn-hosts. */
int network_run_dns_host_update(struct network_run *run, bool add, const struct network_dns_host *h,
                                struct lv_error **err);
/* A supervisor died: remove what its status.json and the definition say
 * it made (its dnsmasq if still the same process, its nft table, the
 * bridge carrying its mark), and the state files. */
int network_run_cleanup_stale(const struct network_def *def, const char *statedir,
                              struct lv_error **err);
