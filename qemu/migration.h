/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* QEMU's part of live migration (driver-support/migration_ops.h), over
 * the driver's QMP connection. qemu/driver.c calls down into this file,
 * never the other way: it starts a destination's QEMU listening
 * (qemu_migration_incoming_listen) and forwards QEMU's MIGRATION events
 * to the guest's migration state (qemu_migration_event). */

#include <json-c/json.h>
#include <stdbool.h>

#include "driver-support/migration_ops.h"
#include "qemu/ports.h"

struct qemu_migration_wait;
struct qmp;

/* A guest's migration state, part of its struct qemu_guest
 * (driver_priv.h); zeroed but for port.lock_fd = -1. */
struct qemu_migration {
        /* Destination: the stream's port, reserved once per guest; released
         * by the guest's undo stack, or as soon as the stream is loaded. */
        struct port_lease port;
        bool port_undo; /* its undo is registered */
        bool listening; /* QEMU was started listening on it (-incoming tcp:fd:N) */
        /* A wait for MIGRATION events in progress (qemu/migration.c), or NULL. */
        struct qemu_migration_wait *wait;
        /* Storage migration (qemu/migration-storage.c): the destination's
         * NBD server port; QEMU's job events seen (JOB_STATUS_CHANGE). */
        struct port_lease nbd_port;
        bool nbd_port_undo;
        unsigned job_events;
        /* What migrate-setspeed/migrate-setmaxdowntime set (0: QEMU's
         * default), by enum lv_migration_param: on record in qemu.json
         * and given to QEMU again by a reattach. */
        unsigned long long params[2];
        /* What the driver does for this file (registered by
         * qemu_guest_new; no call upwards, docs/HACKING.md). */
        const struct qemu_migration_driver *driver;
};

struct qemu_migration_driver {
        /* qemu.json written again (m->params on record in it) */
        int (*record)(struct lv_guest *g, struct lv_error **err);
        /* --tls: read access for QEMU's uid to a file it loads while it
         * runs (nothing when all may read it), and taking it back once
         * loaded (else at QEMU's end, with the rest of its files) */
        int (*grant_read)(struct lv_guest *g, const char *path, struct lv_error **err);
        void (*forget)(struct lv_guest *g, const char *path);
};

extern const struct lv_migration_ops qemu_migration_ops;

/* Destination, before QEMU starts: reserve a port of the migration range
 * and listen on it (*ret_fd, close-on-exec; QEMU gets it as
 * "-incoming tcp:fd:N" and accepts on it), so that the source can start
 * its stream while QEMU starts up (the kernel queues the connection).
 * *ret_uri: where the source sends to ("tcp:HOST:PORT"). */
int qemu_migration_incoming_listen(struct lv_guest *g, struct qemu_migration *m, int *ret_fd,
                                   char **ret_uri, struct lv_error **err);
/* QEMU's MIGRATION event (the driver's one QMP event handler forwards it). */
void qemu_migration_event(struct qemu_migration *m, struct json_object *data);

/* QEMU's own migration bandwidth limit (bytes/s), restored after a
 * migration with --bandwidth and on reattach. */
#define QEMU_MIGRATE_DEFAULT_BANDWIDTH "134217728"

/* qemu.json's record of the parameters (m->params), and a reattach's
 * reading of it: QEMU gets them again, max-bandwidth its default when
 * none was set (a migration of a supervisor that died may have left its
 * --bandwidth). */
void qemu_migration_params_to_json(const struct qemu_migration *m, struct json_object *out);
int qemu_migration_params_reapply(struct lv_guest *g, struct qemu_migration *m,
                                  struct json_object *info, struct lv_error **err);

/* The guest's QMP connection, NULL (with *err) when it is not connected. */
struct qmp *qemu_migration_qmp(struct lv_guest *g, struct lv_error **err);
/* Wait up to timeout_ms for QEMU's monitor and read what it sent (events
 * to their handlers) — the event loop not dispatched. */
int qemu_migration_qmp_read(struct qmp *q, int timeout_ms, struct lv_error **err);
