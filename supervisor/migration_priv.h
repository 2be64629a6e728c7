/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internals of live migration shared by supervisor/migration*.c: the
 * channel between the supervisors (NUL-terminated JSON messages; in
 * tunnelled mode also QEMU's stream as frames), the transport command,
 * the source's tunnel pump (migration-channel.c), the phase messages and
 * cookies (migration.c), the destination's watchdog
 * (migration-watchdog.c). */

#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "conf/cookie.h"
#include "conf/hostid.h"
#include "driver-support/driver.h"
#include "driver-support/migration_ops.h"
#include "lib/varlink.h"
#include "supervisor/supervisor.h"
#include "util/error.h"
#include "util/watchdog.h"

/* Tunnelled mode: QEMU's stream travels on the channel between the phase
 * messages as frames: {"phase":"data","len":N} followed by N raw bytes,
 * then {"phase":"data-end"}. */
#define TUNNEL_CHUNK (256 * 1024)

struct mchan {
        int in, out;
        const char *peer; /* "destination" | "source", for messages */
        struct varlink_inbuf buf;
        int tunnel_fd; /* destination, tunnelled: QEMU's stream (0: none) */
        bool tunnel_ended;
};

int mchan_send(struct mchan *c, struct json_object *o, struct lv_error **err);
/* The next message (tunnel frames are handed to c->tunnel_fd meanwhile). */
int mchan_recv(struct mchan *c, int timeout_ms, struct json_object **ret, struct lv_error **err);

struct transport {
        pid_t pid;
        int fd;     /* our end of the socketpair (stdin+stdout of the child) */
        int err_fd; /* its stderr */
};

int transport_spawn(const char *command, struct transport *t, struct lv_error **err);
char *transport_stderr(struct transport *t);
void transport_close(struct transport *t, bool failed);

/* Tunnelled mode, source: QEMU migrates to a unix socket in the guest's
 * state directory; a helper process (killed if we die) accepts QEMU's
 * connection and writes what arrives to the channel as frames, then
 * data-end. The supervisor does not write to the channel meanwhile. */
struct tunnel_src {
        char *path;
        int listen_fd;
        pid_t pid;
};

/* *ret_uri: where QEMU migrates to ("unix:PATH"). */
int tunnel_src_open(struct tunnel_src *t, struct lv_guest *g, struct mchan *ch, char **ret_uri,
                    struct lv_error **err);
/* After QEMU's job: wait (bounded) for the helper to forward the rest. */
int tunnel_src_drain(struct tunnel_src *t, struct lv_error **err);
void tunnel_src_close(struct tunnel_src *t);

/* ---- migration.c ---- */

#define PHASE_TIMEOUT_MS (120 * 1000)

/* A string / true boolean member of a message, NULL / false otherwise. */
const char *migration_jstr(struct json_object *o, const char *key);
bool migration_jbool(struct json_object *o, const char *key);
/* A reply of the peer for phase: ok, or its error as ours. */
int migration_reply_check(struct mchan *c, struct json_object *o, const char *phase,
                          struct lv_error **err);
/* {"phase": phase, "cookie": cookie (if any)} */
struct json_object *migration_message(const char *phase, const char *cookie);
/* This host's cookie for the guest. */
int migration_local_cookie(struct lv_guest *g, const struct host_identity *id, struct cookie **ret,
                           struct lv_error **err);
/* The peer's cookie for the guest (its features checked). */
int migration_parse_peer_cookie(const char *xml, const struct lv_guest *g, struct cookie **ret,
                                struct lv_error **err);

/* ---- migration-watchdog.c ---- */

/* Destination, until Finish: a process that kills the hypervisor and
 * removes the guest's state and cgroups if this supervisor dies. */
void migration_watchdog_start(struct watchdog *w, struct lv_guest *g);
/* Stopping it: watchdog_stop (util/watchdog.h); keep: Finish succeeded,
 * the hypervisor stays; else it is torn down by the caller. */

/* ---- migration-tls.c: --tls ---- */

/* This end's certificate files (server: the destination's) in host.conf's
 * directory, each opened, else the error names the file: *ret_dir (the
 * directory, to be freed), *ret_verify (migrate_tls_x509_verify; may be
 * NULL). Refused when the driver has no TLS. */
int migration_tls_check(const struct lv_driver *drv, bool server, char **ret_dir, bool *ret_verify,
                        struct lv_error **err);
/* The host of a "tcp:HOST:PORT" URI (the name the destination's
 * certificate must carry), or NULL. */
char *migration_tls_hostname(const char *uri);

/* ---- migration-storage.c: --copy-storage-all / --copy-storage-inc ---- */

struct migration_storage {
        bool incremental;                /* only the top layer (--copy-storage-inc) */
        struct lv_migration_disk *disks; /* the copied disks */
        int n;
        bool mirroring; /* source: mirrors started */
        bool exported;  /* destination: NBD server running */
        char **created; /* destination: images made for the guest */
        int n_created;
        bool keep; /* destination: the guest arrived, its images stay */
};
void migration_storage_free(struct migration_storage *s);

/* Source: the disks to copy (sizes, formats from the hypervisor). */
int migration_storage_source_new(struct supervisor *sv, bool incremental,
                                 struct migration_storage **ret, struct lv_error **err);
/* Prepare: "copy_storage" and "disks" (target, size, format, backing). */
void migration_storage_prepare_add(const struct lv_guest *g, const struct migration_storage *s,
                                   struct json_object *m);
/* Source, after Prepare's answer ("nbd": host, port): mirror every disk
 * there; returns when the copies are in step. */
int migration_storage_source_mirror(struct supervisor *sv, struct migration_storage *s,
                                    struct json_object *reply, int timeout_s, const bool *aborted,
                                    struct lv_error **err);
/* Source: complete (CPUs stopped, at the switch-over) or cancel the
 * mirrors; nothing when none runs. */
int migration_storage_source_end(struct supervisor *sv, struct migration_storage *s, bool complete,
                                 struct lv_error **err);
/* JobInfo: disk_processed/total/remaining, added to data_* (as libvirt). */
void migration_storage_job_info(struct supervisor *sv, struct migration_storage *s,
                                struct json_object *o);

/* Destination, Prepare: *ret NULL when no storage is copied. */
int migration_storage_incoming_parse(struct json_object *prepare, const struct domain_def *def,
                                     struct migration_storage **ret, struct lv_error **err);
/* Destination, before the hypervisor starts: missing images made
 * (removed by migration_storage_free unless the guest arrived). */
int migration_storage_incoming_create(const struct lv_driver *drv, const struct domain_def *def,
                                      struct migration_storage *s, struct lv_error **err);
/* Destination, the hypervisor ready: export the disks, "nbd" in reply. */
int migration_storage_incoming_export(struct supervisor *sv, struct migration_storage *s,
                                      struct json_object *reply, const char *host,
                                      struct lv_error **err);
/* Destination: the export ended (stream loaded, or failure). */
void migration_storage_incoming_end(struct supervisor *sv, struct migration_storage *s,
                                    bool arrived);
