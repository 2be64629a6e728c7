/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* QEMU's part of storage migration (qemu/migration-storage.c): the
 * storage_* members of qemu_migration_ops (driver-support/migration_ops.h
 * says what each does). */

#include "driver-support/migration_ops.h"

struct qemu_migration;

/* QEMU's JOB_STATUS_CHANGE event (the driver's QMP event handler
 * forwards it): a waiting storage step looks at query-jobs again. */
void qemu_migration_job_event(struct qemu_migration *m);

int qemu_migration_storage_info(struct lv_guest *g, struct lv_migration_disk *disks, int n,
                                struct lv_error **err);
int qemu_migration_storage_create(const struct lv_migration_disk *d, const char *path,
                                  struct lv_error **err);
int qemu_migration_storage_export(struct lv_guest *g, const struct lv_migration_disk *disks, int n,
                                  int *ret_port, struct lv_error **err);
void qemu_migration_storage_unexport(struct lv_guest *g, const struct lv_migration_disk *disks,
                                     int n);
int qemu_migration_storage_mirror(struct lv_guest *g, const struct lv_migration_disk *disks, int n,
                                  const char *host, int port, bool incremental, int timeout_s,
                                  const bool *aborted, struct lv_error **err);
int qemu_migration_storage_progress(struct lv_guest *g, unsigned long long *processed,
                                    unsigned long long *total, struct lv_error **err);
int qemu_migration_storage_mirror_end(struct lv_guest *g, const struct lv_migration_disk *disks,
                                      int n, bool complete, struct lv_error **err);
