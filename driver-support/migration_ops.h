/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "conf/cookie.h"
#include "driver-support/driver.h"

/* A disk copied by a storage migration (--copy-storage-all/-inc): the
 * definition's disks[index], as the source's hypervisor has it open. */
struct lv_migration_disk {
        int index;               /* in def->disks */
        unsigned long long size; /* virtual size, bytes */
        char format[16];         /* "raw", "qcow2" */
        char *backing;           /* qcow2 backing file, or NULL */
        char backing_format[16];
};

enum lv_migration_param {
        LV_MIGRATION_PARAM_BANDWIDTH, /* bytes/s the stream may use */
        LV_MIGRATION_PARAM_DOWNTIME,  /* ms the guest may stop for the switch-over */
};

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
         * (the guest stays paused here) or failed; stats filled on success
         * (the totals QEMU computes after it says completed). No deadline:
         * after suspend_after_s seconds (0: never; virsh's --timeout) the
         * guest's CPUs are stopped so that the migration converges. */
        int (*migrate)(struct lv_guest *g, const char *uri, int suspend_after_s,
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

        /* --postcopy (both sides, before the stream) and --auto-converge
         * (the source). */
        int (*options_set)(struct lv_guest *g, bool postcopy, bool auto_converge,
                           struct lv_error **err);
        /* Source, during migrate (lvsh migrate-postcopy): switch to
         * post-copy; migrate then returns once the destination has the
         * guest's device state (the rest of its memory follows). */
        int (*postcopy_start)(struct lv_guest *g, struct lv_error **err);
        /* Either side, after migrate / incoming_wait: wait until the
         * post-copy phase has moved every page (0 at once when none ran);
         * < 0 when it broke: then neither side has the whole guest. The
         * source's stats (may be NULL) get the completed migration's
         * figures (migrate gave those at the switch to post-copy). */
        int (*postcopy_wait)(struct lv_guest *g, int timeout_s, struct cookie_stats *stats,
                             struct lv_error **err);
        /* Storage migration (optional; supervisor/migration-storage.c).
         * Source, before Prepare: the disks[] given (index set) filled
         * with size, format and backing. */
        int (*storage_info)(struct lv_guest *g, struct lv_migration_disk *disks, int n,
                            struct lv_error **err);
        /* Destination, before the hypervisor starts: make a missing
         * image at path (a temporary name the caller renames into place)
         * as the source's disk is: format, size, backing file. */
        int (*storage_create)(const struct lv_migration_disk *disk, const char *path,
                              struct lv_error **err);
        /* Destination, Prepare (hypervisor ready, waiting for the stream):
         * an NBD server on a port of the migration range on
         * migration_address, each disk exported writable under its target
         * name; a disk smaller than size is refused. *ret_port. */
        int (*storage_export)(struct lv_guest *g, const struct lv_migration_disk *disks, int n,
                              int *ret_port, struct lv_error **err);
        /* Destination, Finish (the stream loaded) or failure: the server
         * stopped, its port given back. */
        void (*storage_unexport)(struct lv_guest *g, const struct lv_migration_disk *disks, int n);
        /* Source, Perform: mirror each disk to the destination's export
         * (host, port) — whole (sync full) or its top layer only
         * (incremental) — and return once every copy is in step (the
         * guest's writes are mirrored from then on). *aborted is checked
         * while waiting (the event loop runs). */
        int (*storage_mirror)(struct lv_guest *g, const struct lv_migration_disk *disks, int n,
                              const char *host, int port, bool incremental, int timeout_s,
                              const bool *aborted, struct lv_error **err);
        /* Source: the mirrors' progress (bytes), summed over the disks. */
        int (*storage_progress)(struct lv_guest *g, unsigned long long *processed,
                                unsigned long long *total, struct lv_error **err);
        /* Source: end the mirrors. complete (CPUs stopped at the
         * switch-over): wait until the copies hold every write, then
         * detach them (the source keeps its own image); else cancel them
         * at once (failure). The event loop is not dispatched. */
        int (*storage_mirror_end)(struct lv_guest *g, const struct lv_migration_disk *disks, int n,
                                  bool complete, struct lv_error **err);
        /* Either side: the hypervisor's migration parameters, for the next
         * migrations and a running one (virsh migrate-setspeed,
         * migrate-setmaxdowntime). */
        int (*param_set)(struct lv_guest *g, enum lv_migration_param p, unsigned long long value,
                         struct lv_error **err);
        int (*param_get)(struct lv_guest *g, enum lv_migration_param p, unsigned long long *ret,
                         struct lv_error **err);
        /* --tls, both sides before the stream: the hypervisor's stream
         * encrypted with the certificates in dir (libvirt's /etc/pki/qemu
         * layout, checked by the caller); server: the destination (asks
         * the source for its certificate when verify_peer); hostname: the
         * name the destination's certificate must carry (source). tls_end
         * drops them again (after the stream, either way). */
        int (*tls_begin)(struct lv_guest *g, const char *dir, bool server, bool verify_peer,
                         const char *hostname, struct lv_error **err);
        void (*tls_end)(struct lv_guest *g);
};
