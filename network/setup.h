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
/* net-update --live: change the running definition and make the network
 * follow (dnsmasq's hosts files re-read on SIGHUP, its configuration by a
 * restart, the nftables table replaced in one transaction), as libvirt's
 * network driver does. *restart_dnsmasq is set when dnsmasq must be
 * restarted (network_run_dnsmasq_restart(), by the caller who watches
 * it). On any error the running definition is as it was. */
int network_run_update(struct network_run *run, int command, int parent_index,
                       const struct network_update *u, bool *restart_dnsmasq,
                       struct lv_error **err);
/* Stop dnsmasq and start it again on the rewritten files (its leases are
 * kept in the lease file). */
int network_run_dnsmasq_restart(struct network_run *run, int log_fd, struct lv_error **err);
/* A supervisor died: remove what its status.json and the definition say
 * it made (its dnsmasq if still the same process, its nft table, the
 * bridge carrying its mark), and the state files. */
int network_run_cleanup_stale(const struct network_def *def, const char *statedir,
                              struct lv_error **err);
