/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Live migration between two supervisors (docs/migration.md).
 *
 * The source supervisor runs the transport command (`ssh HOST
 * litevirt-supervisor --incoming`, or any command) with its stdin/stdout
 * as the channel; phase messages are NUL-terminated JSON objects carrying
 * the cookie (XML text) and, for Prepare, the guest's definition. */

#include <json-c/json.h>
#include <stdbool.h>

#include "conf/cookie.h"
#include "supervisor/supervisor.h"

#define MIGRATION_MESSAGE_MAX       (DOMAIN_XML_MAX_BYTES + 2 * COOKIE_MAX_BYTES + 4096)
#define MIGRATION_DEFAULT_TIMEOUT_S 300

/* What a driver does for migration (struct lv_driver.migration). */
struct lv_migration_ops {
        /* Destination, Prepare: the graphics clients will reconnect to
         * (the first <graphics>); 0 with ret->port -1 when there is none. */
        int (*graphics_info)(struct lv_guest *g, struct cookie_graphics *ret,
                             struct lv_error **err);
        /* Destination, Prepare: the hypervisor was started waiting for an
         * incoming migration (g->incoming_uri "defer"): open the stream's
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
};

struct migration_params {
        const char *transport;       /* shell command whose stdin/stdout is the channel */
        bool persistent;             /* define the guest on the destination */
        bool undefine_source;        /* remove the source's definition on success */
        int timeout_s;               /* 0: MIGRATION_DEFAULT_TIMEOUT_S */
        unsigned long bandwidth_mib; /* 0: the hypervisor's default */
        bool tunnelled;              /* QEMU's stream through the channel, no TCP port */
};

/* Source. 0: the guest runs on the destination (*ret_summary says where,
 * graphics included); the caller then ends the local copy. < 0: it did
 * not move and runs here as before (its leases taken back), or — only if
 * the destination may be running it — stays paused, as *err says. */
int migration_source_run(struct supervisor *sv, const struct migration_params *p,
                         char **ret_summary, struct lv_error **err);

/* Source, while migration_source_run runs (its waits dispatch the event
 * loop): whether a job runs; its progress as a JSON object (virsh
 * domjobinfo's fields; {"type":"none"} when no job runs); cancelling it
 * (the guest stays here, as on any failure). */
bool migration_job_running(void);
int migration_job_info(struct supervisor *sv, struct json_object **ret, struct lv_error **err);
int migration_job_abort(struct supervisor *sv, struct lv_error **err);

/* Destination (--incoming), in three steps around the normal set-up:
 *  begin:  read Prepare from in_fd, parse the definition and cookie
 *          (wrong guest, same host: refused); sets sv->g.def and
 *          sv->g.incoming_uri ("defer");
 *  [the caller sets up the state directory and starts the guest, which
 *   the driver starts paused waiting on incoming_uri, without leases]
 *  finish: open the stream's endpoint, answer Prepare, wait for Finish, take the leases with the
 *          source's lock state, resume, answer Finish, detach from the
 *          channel. On any failure after begin, call migration_incoming_fail
 *          (answers the source if it still listens). */
struct migration_incoming;
int migration_incoming_begin(struct supervisor *sv, int in_fd, int out_fd,
                             struct migration_incoming **ret, struct lv_error **err);
int migration_incoming_finish(struct supervisor *sv, struct migration_incoming *mi,
                              struct lv_error **err);
void migration_incoming_fail(struct migration_incoming *mi, const struct lv_error *e);
void migration_incoming_free(struct migration_incoming *mi);
