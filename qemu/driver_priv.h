/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internals of the QEMU driver shared by qemu/driver.c (start, lifecycle)
 * and qemu/reattach.c (status.json, taking over a running QEMU). */

#include <json-c/json.h>
#include <stdint.h>

#include "qemu/command.h"
#include "qemu/migration.h"
#include "qemu/ports.h"
#include "qemu/qmp.h"
#include "qemu/security.h"
#include "driver-support/driver.h"
#include "driver-support/loop.h"

#define QEMU_START_TIMEOUT_MS 30000
#define QEMU_CMD_TIMEOUT_MS   10000
#define QEMU_QMP_FD           3
#define QEMU_MAX_LEASES       16

struct qemu_guest {
        /* a vCPU was unplugged: under TCG, QEMU 7.2 dies (SIGSEGV) on any
         * vCPU hot-plug after that (qemu/vcpu.c); kept in qemu.json */
        bool vcpu_unplugged;
        struct cgroup *cg;
        struct qmp *qmp;
        struct loop_source *qmp_source;
        struct port_lease leases[QEMU_MAX_LEASES];
        int n_leases;
        struct qemu_graphics_ports gports[8];
        int n_gports;
        char *listen[8];
        char *spice_tls_dir; /* SPICE's certificates (x509-dir), NULL: spice_tls off */
        int proc_pidfd;      /* our own pidfd for the undo */
        pid_t pid;
        bool cpus_running; /* `cont` done: status.json says so during the start */
        /* what the last SHUTDOWN event said */
        bool shutdown_seen;
        char shutdown_reason[32];
        /* after `quit`: QEMU must be gone by then */
        struct loop_source *quit_timer;
        /* live migration (qemu/migration.c) */
        struct qemu_migration mig;
        /* who QEMU runs as, and the files given to it (qemu/confine.c) */
        struct qemu_cred cred;
        struct qemu_label *labels;
        int n_labels;
        int label_pidfd; /* QEMU's end, for giving the files back */
        int record_fd;   /* $RUNDIR/qemu-labels/NAME.json, flock'd while ours */
        bool reattached;
        /* disks asked to go (device_del) whose DEVICE_DELETED has not come
         * yet (qemu/hotplug.c) */
        struct qemu_unplug {
                char *id;     /* QEMU device id */
                char *target; /* target dev in the definition; an interface's MAC */
                char *node;   /* its format node, blockdev-del'ed once gone */
                char *netdev; /* an interface's netdev, netdev_del'ed once gone */
        } unplugs[8];
        int n_unplugs;
        /* the block job (qemu/blockjob.c) */
        /* block jobs, one per disk (qemu/blockjob.c); a slot not running
         * is free */
        struct qemu_block_job {
                bool running; /* started, its end not seen yet */
                bool ready, pivot, aborted;
                int disk;
                enum lv_block_job_kind kind;
                char id[64];               /* QEMU's job id: lvblock-TARGET */
                char *base, *top;          /* image paths; top NULL: the active layer */
                char *old_source;          /* the disk's source when it started */
                char *top_node, *top_file; /* the active layer's node and file then */
                char **dropped;            /* node, file, ...: the images under it the job drops */
                /* the node at this depth of the chain is gone once the
                 * job has completed (a reattach decides so) */
                int probe_depth;
                char *probe_node;
        } * bjobs;
        int n_bjobs;
};

/* The driver state of a guest being started or reattached: g->driver_data,
 * freed by the undo stack. */
struct qemu_guest *qemu_guest_new(struct lv_guest *g);

/* undo steps (guest_undo_push) */
void qemu_undo_driver_data(struct lv_guest *g, void *data);
void qemu_undo_ports(struct lv_guest *g, void *data);
void qemu_undo_qmp(struct lv_guest *g, void *data);
/* QMP events and input while the guest runs (userdata/data: the guest) */
void qemu_on_qmp_event(struct qmp *q, const char *event, struct json_object *data, void *userdata);
int qemu_on_qmp_io(struct loop_source *s, int fd, uint32_t revents, void *data);
/* qemu/hotplug.c: disk hot-plug, and QEMU's DEVICE_DELETED event; a
 * descriptor of ours handed to QEMU as /dev/fdset/N (add-fd), and the set
 * removed once QEMU holds its own copy (a failure is logged). */
/* The guest's QMP connection, else NULL with "QEMU monitor is not connected". */
struct qmp *qemu_guest_qmp(struct lv_guest *g, struct lv_error **err);
int qemu_fdset_add(struct qmp *q, int fd, long long *ret_fdset, struct lv_error **err);
void qemu_fdset_remove(struct qmp *q, long long fdset);
int qemu_disk_attach(struct lv_guest *g, int i, struct lv_error **err);
int qemu_disk_detach(struct lv_guest *g, int i, struct lv_error **err);
void qemu_hotplug_device_deleted(struct lv_guest *g, struct json_object *data);
/* Interfaces: a tap made here on the bridge, getfd, netdev_add and
 * device_add (q35: on a free root port); device_del, then on
 * DEVICE_DELETED netdev_del and the tap deleted (g->net_released). */
int qemu_net_attach(struct lv_guest *g, int i, struct lv_error **err);
int qemu_net_detach(struct lv_guest *g, int i, struct lv_error **err);
void qemu_hotplug_clear(struct qemu_guest *qg);
/* qemu/display.c: the guest's display as PNG into fd; keys (qnum codes)
 * pressed together (send-key). */
int qemu_screenshot(struct lv_guest *g, int fd, struct lv_error **err);
/* SPICE over TLS: the certificate directory QEMU gets (x509-dir), NULL
 * with spice_tls off (newly allocated); its files checked before a start
 * (each named when missing); QEMU's uid may read them from before its
 * start until it answers on QMP (its SPICE server has loaded them). */
struct host_conf;
char *qemu_spice_tls_dir(const struct host_conf *hc);
int qemu_spice_tls_check(const struct domain_def *def, struct lv_error **err);
int qemu_spice_tls_grant(struct lv_guest *g, struct qemu_guest *qg, struct lv_error **err);
void qemu_spice_tls_forget(struct lv_guest *g, struct qemu_guest *qg);
/* qemu/vcpu.c */
int qemu_vcpus_info(struct lv_guest *g, struct json_object *out, struct lv_error **err);
int qemu_vcpus_set(struct lv_guest *g, unsigned n, struct lv_error **err);
/* qemu/hotplug.c: the running definition's <vcpus>: vCPU id plugged (enabled, and
 * hotpluggable='yes': a command line built from it, a migration's
 * destination or a restore, has it as -device vcpuN, as QEMU has it here)
 * or released; made from the current count at the first change. */
void qemu_vcpu_record(struct domain_def *def, unsigned id, bool enabled);
int qemu_send_key(struct lv_guest *g, const int *keys, int n, int holdtime_ms,
                  struct lv_error **err);
/* Open the serial pty QEMU made as the guest's console (registers its undo). */
int qemu_open_console(struct lv_guest *g, struct qemu_guest *qg, struct lv_error **err);
/* set_password for each graphics with a passwd (while paused, at start or reattach). */
int qemu_set_passwords(struct lv_guest *g, struct qemu_guest *qg, struct lv_error **err);
/* A reattached guest's unix channel sockets: removed when it ends. */
void qemu_channels_reattach(struct lv_guest *g);
/* $RUNDIR/NAME/qemu.json: pid, QMP socket, graphics, console. */
int qemu_write_info(struct lv_guest *g, struct qemu_guest *qg, struct lv_error **err);

/* qemu/confine.c: the uid, its directory $RUNDIR/NAME/qemu and the files
 * given to it, each with its undo (after QEMU's end); the child's
 * confinement; the uid and gid in qemu.json. */
int qemu_confine_prepare(struct lv_guest *g, struct qemu_guest *qg, struct lv_error **err);
/* A disk overlay made while QEMU runs (qemu/snapshot.c): QEMU's own,
 * given back with the rest after its end. */
int qemu_confine_grant_overlay(struct lv_guest *g, struct qemu_guest *qg, const char *path,
                               struct lv_error **err);
/* An overlay given up before QEMU used it (a failed snapshot): its label
 * given back and dropped from the record, before the file goes. */
void qemu_confine_forget_overlay(struct lv_guest *g, struct qemu_guest *qg, const char *path);
/* A file QEMU reads once while it runs (TLS credentials, when it loads
 * them: qemu/migration.c through its driver hooks): read access for its
 * uid (nothing when all may read it), taken back with
 * qemu_confine_forget_overlay once read (else at QEMU's end, as the rest). */
int qemu_confine_grant_read(struct lv_guest *g, struct qemu_guest *qg, const char *path,
                            struct lv_error **err);
void qemu_confine_spawned(struct lv_guest *g, struct qemu_guest *qg, int pidfd);
int qemu_confine_build(struct lv_guest *g, struct qemu_guest *qg, struct qemu_confine *ret);
void qemu_confine_clear(struct qemu_confine *c);
void qemu_confine_to_json(struct qemu_guest *qg, struct json_object *o);
/* qg->pid set: re-takes the record (which must name that pid) and the uid. */
int qemu_confine_reattach(struct lv_guest *g, struct qemu_guest *qg, int pidfd,
                          struct lv_error **err);

/* qemu/blockjob.c: lv_driver.block_job_*; the BLOCK_JOB_* events. */
int qemu_block_job_start(struct lv_guest *g, int i, enum lv_block_job_kind kind, const char *base,
                         const char *top, unsigned long long bandwidth, struct lv_error **err);
int qemu_block_job_info(struct lv_guest *g, int i, struct lv_block_job_info *ret,
                        struct lv_error **err);
int qemu_block_job_end(struct lv_guest *g, int i, bool pivot, struct lv_error **err);
int qemu_block_job_set_speed(struct lv_guest *g, int i, unsigned long long bandwidth,
                             struct lv_error **err);
void qemu_block_job_event(struct lv_guest *g, const char *event, struct json_object *data);
void qemu_block_job_free(struct qemu_guest *qg);
/* The running jobs in qemu.json ("blockJobs"); at reattach, taken up
 * again: a job QEMU still runs is followed to its end, one that ended
 * meanwhile is finished now (completed when its chain changed as the job
 * changes it: g->block_job_ended). */
void qemu_block_jobs_to_json(struct qemu_guest *qg, struct json_object *o);
void qemu_block_jobs_reattach(struct lv_guest *g, struct qemu_guest *qg, struct json_object *info);

/* qemu/snapshot.c: the block node on top of disk i now (after
 * snapshots, not the one it started with), its file and size (query-block;
 * ret_file, ret_size may be NULL). */
int qemu_disk_top(struct qmp *q, const struct domain_def *def, int i, char **ret_node,
                  char **ret_file, unsigned long long *ret_size, struct lv_error **err);
/* qemu/snapshot.c: lv_driver.snapshot_disks */
int qemu_snapshot_disks(struct lv_guest *g, const struct lv_disk_overlay *disks, int n,
                        struct lv_error **err);

/* qemu/reattach.c */
void qemu_status(struct lv_guest *g, struct json_object *out);
int qemu_reattach(struct lv_guest *g, struct lv_error **err);
int qemu_hold_leases(struct lv_guest *g, struct lv_error **err);
/* pid is a qemu-system-* of guest name (-name guest=NAME,) */
bool qemu_process_is_guest(pid_t pid, const char *name);
