/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "conf/cookie.h"
#include "driver-support/driver.h"

/* What a driver does for live migration (struct lv_driver.migration);
 * supervisor/migration.c drives it (docs/migration.md). */
struct lv_migration_ops {
        /* Destination, Prepare: the graphics clients will reconnect to
         * (the first <graphics>); 0 with ret->port -1 when there is none. */
        int (*graphics_info)(struct lv_guest *g, struct cookie_graphics *ret,
                             struct lv_error **err);
        /* Destination, Prepare: the hypervisor was started waiting for an
         * incoming migration without listening itself (g->incoming with
         * no started hook: "-incoming defer"): open the stream's
         * endpoint (a port from host.conf's migration range on its
         * migration_address) and return the URI the source sends to
         * ("tcp:HOST:PORT"; hostname when no migration_address is set). */
        int (*incoming_setup)(struct lv_guest *g, const char *hostname, char **ret_uri,
                              struct lv_error **err);
        /* Source, Perform: tell connected graphics clients where the guest
         * goes (SPICE client_migrate_info; nothing for VNC). */
        int (*graphics_relocate)(struct lv_guest *g, const struct cookie_graphics *dest,
                                 struct lv_error **err);
        /* Source, Perform: migrate to uri ("tcp:HOST:PORT"). switchover is
         * called once the CPUs are stopped for the final pass; when it fails
         * the migration is cancelled. Returns once QEMU reports completed
         * (the guest stays paused here) or failed; stats filled on success. */
        int (*migrate)(struct lv_guest *g, const char *uri, int timeout_s,
                       unsigned long bandwidth_mib, /* 0: the hypervisor's own */
                       int (*switchover)(void *data, struct lv_error **err), void *data,
                       struct cookie_stats *stats, struct lv_error **err);
        /* Source, Perform (called while migrate waits: the driver keeps
         * the event loop running, driver.h's g->loop): progress of the
         * stream, QEMU's status word, and cancelling it. */
        int (*job_info)(struct lv_guest *g, struct cookie_stats *ret, char *status, size_t n,
                        unsigned long long *expected_downtime, struct lv_error **err);
        int (*job_cancel)(struct lv_guest *g, struct lv_error **err);
        /* Source: whether the guest is paused now (after a failure). */
        int (*is_paused)(struct lv_guest *g, bool *ret, struct lv_error **err);
        /* Destination, Finish: wait until the incoming stream has been
         * loaded (the guest stays paused). */
        int (*incoming_wait)(struct lv_guest *g, int timeout_s, struct lv_error **err);
        /* Save (lvsh save, managedsave; supervisor/save.c): the core has
         * stopped the guest's CPUs; write the migration stream to fd (a
         * file, from its current offset; the hypervisor never opens a
         * path) and return once it is written, or failed (the guest stays
         * paused either way). job_info reports its progress meanwhile. */
        int (*save)(struct lv_guest *g, int fd, int timeout_s, struct lv_error **err);
        /* Restore: the hypervisor was started for an incoming stream
         * (g->incoming without a started hook); load it from fd (a file at
         * the stream's offset) and return once loaded (the guest paused). */
        int (*restore)(struct lv_guest *g, int fd, int timeout_s, struct lv_error **err);
};
