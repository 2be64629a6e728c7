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
#include "driver-support/migration_ops.h"
#include "supervisor/supervisor.h"

#define MIGRATION_MESSAGE_MAX (DOMAIN_XML_MAX_BYTES + 2 * COOKIE_MAX_BYTES + 4096)

/* The migration itself has no deadline (--timeout suspends the guest).
 * Waits on the hypervisor that have no end of their own — the storage
 * mirrors getting in step, the last post-copy pages while a cut link is
 * not reported — are bounded by this, so that a silent peer does not hold
 * a supervisor for ever: one day (docs/migration.md). */
#define MIGRATION_WAIT_MAX_S (24 * 3600)

struct migration_params {
        const char *transport;       /* shell command whose stdin/stdout is the channel */
        bool persistent;             /* define the guest on the destination */
        bool undefine_source;        /* remove the source's definition on success */
        int timeout_s;               /* --timeout: suspend the guest after it; 0: never */
        unsigned long bandwidth_mib; /* 0: the hypervisor's default */
        bool tunnelled;              /* QEMU's stream through the channel, no TCP port */
        bool suspend;                /* --suspend: the guest stays paused on the destination */
        const char *graphics_uri;    /* --graphicsuri TYPE://HOST[:PORT][?tlsPort=N], or NULL */
        /* --copy-storage-all / --copy-storage-inc (migration-storage.c) */
        enum { MIGRATION_STORAGE_SHARED, MIGRATION_STORAGE_ALL, MIGRATION_STORAGE_INC } storage;
        bool postcopy;      /* --postcopy: migration_job_postcopy may switch to post-copy */
        bool auto_converge; /* --auto-converge: the guest's CPUs throttled to converge */
        bool tls;           /* --tls: QEMU's stream encrypted (migration-tls.c) */
};

/* Source. 0: the guest runs on the destination (*ret_summary says where,
 * graphics included); the caller then ends the local copy. < 0: it did
 * not move and runs here as before (its leases taken back), or — only if
 * the destination may be running it — stays paused, as *err says. */
int migration_source_run(struct supervisor *sv, const struct migration_params *p,
                         char **ret_summary, struct lv_error **err);

/* Offline (virsh migrate --offline --persistent): the stored definition
 * of guest NAME, which does not run, is defined on the destination (a
 * destination supervisor that stores it and starts nothing); with
 * p->undefine_source it is removed here. *ret_summary says where. */
int migration_offline_run(const char *name, const struct migration_params *p, char **ret_summary,
                          struct lv_error **err);

/* The migration job (sv->job, job.h), while migration_source_run runs
 * (its waits dispatch the event loop) or a guest arrives: its progress as
 * a JSON object (virsh domjobinfo's fields; {"type":"none"} when no
 * migration runs); cancelling it (source only: the guest stays here, as
 * on any failure). */
int migration_job_info(struct supervisor *sv, struct json_object **ret, struct lv_error **err);
/* A completed migration as sv->completed_job (replacing the last one):
 * JobInfo's fields from the statistics, type "completed", time_elapsed
 * the whole job's (ms). */
void migration_job_completed(struct supervisor *sv, bool incoming, const struct cookie_stats *st,
                             unsigned long long elapsed_ms);
struct json_object *migration_job_completed_json(bool incoming, const struct cookie_stats *st,
                                                 unsigned long long elapsed_ms);
int migration_job_abort(struct supervisor *sv, struct lv_error **err);
/* lvsh migrate-postcopy: switch the running --postcopy migration to
 * post-copy (the guest runs on the destination at once, its memory
 * follows on demand). */
int migration_job_postcopy(struct supervisor *sv, struct lv_error **err);

/* Destination (--incoming), in three steps around the normal set-up:
 *  begin:  read Prepare from in_fd, parse the definition and cookie
 *          (wrong guest, same host: refused); sets sv->g.def and
 *          sv->g.incoming (owned by mi);
 *  [the caller sets up the state directory and starts the guest, which
 *   the driver starts paused waiting for the stream, without leases]
 *  finish: open the stream's endpoint, answer Prepare, wait for Finish, take the leases with the
 *          source's lock state, resume, answer Finish, detach from the
 *          channel. On any failure after begin, call migration_incoming_fail
 *          (answers the source if it still listens). */
struct migration_incoming;
/* After begin: an offline migration, all done (the definition stored). */
bool migration_incoming_done(const struct migration_incoming *mi);
int migration_incoming_begin(struct supervisor *sv, int in_fd, int out_fd,
                             struct migration_incoming **ret, struct lv_error **err);
int migration_incoming_finish(struct supervisor *sv, struct migration_incoming *mi,
                              struct lv_error **err);
void migration_incoming_fail(struct migration_incoming *mi, const struct lv_error *e);
void migration_incoming_free(struct migration_incoming *mi);
