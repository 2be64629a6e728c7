/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* QEMU's part of live migration (supervisor/migration.h's operations),
 * over the driver's QMP connection. */

#include "qemu/command.h"
#include "qemu/qmp.h"
#include "driver-support/driver.h"
#include "supervisor/migration.h"

extern const struct lv_migration_ops qemu_migration_ops;

/* Destination, before QEMU starts: reserve a port of the migration range
 * and listen on it (*ret_fd, close-on-exec; QEMU gets it as
 * "-incoming tcp:fd:N" and accepts on it), so that the source can start
 * its stream while QEMU starts up (the kernel queues the connection).
 * *ret_uri: where the source sends to ("tcp:HOST:PORT"). */
int qemu_migration_incoming_listen(struct lv_guest *g, int *ret_fd, char **ret_uri,
                                   struct lv_error **err);
extern bool qemu_migration_incoming_prestarted;

/* From qemu/driver.c: the guest's monitor, its n-th graphics ports and
 * listen address, and the driver's QMP event handler (which migration
 * chains to while it watches MIGRATION events). */
struct qmp *qemu_guest_qmp(struct lv_guest *g);
int qemu_guest_graphics(struct lv_guest *g, int n, struct qemu_graphics_ports *ret_ports,
                        const char **ret_listen);
void qemu_guest_qmp_event(struct qmp *q, const char *event, struct json_object *data,
                          void *userdata);

/* QEMU's own migration bandwidth limit (bytes/s), restored after a
 * migration with --bandwidth and on reattach. */
#define QEMU_MIGRATE_DEFAULT_BANDWIDTH "134217728"
