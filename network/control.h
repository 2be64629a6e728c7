/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "network/network.h"
#include "driver-support/loop.h"

/* The network supervisor's control socket (network/control.c). */
struct netctl {
        struct lv_loop *loop;
        const struct network_def *def;
        const char *statedir;
        const pid_t *dnsmasq_pid;
        void (*stop)(struct netctl *ctl); /* Stop: tear down and exit */
        /* Update: net-update --live (command, section and fragment as
         * virsh's, parent_index -1 when not given) */
        int (*update)(struct netctl *ctl, const char *command, const char *section, const char *xml,
                      int parent_index, struct lv_error **err);
        int fd;
        struct loop_source *src;
        struct netctl_client *clients;
};

int netctl_open(struct netctl *ctl, struct lv_error **err);
void netctl_close(struct netctl *ctl);
