/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The supervisor core: one guest, one process, one event loop. This header
 * ties the core's files together; drivers see only driver-support/driver.h. */

#include <stddef.h>
#include <time.h>

#include "driver-support/driver.h"
#include "supervisor/job.h"
#include "supervisor/lifecycle.h"
#include "driver-support/loop.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Used when host.conf cannot say (its own default is 300 s). */
#define SUPERVISOR_SHUTDOWN_TIMEOUT_USEC (300ULL * 1000000ULL)

struct control;
struct control_client;

/* The supervisor's exit status, for init systems (packaging/litevirt@.service
 * lists the ones a restart cannot fix in RestartPreventExitStatus=; values
 * as LSB and systemd use them where they have one). */
enum supervisor_exit {
        SUPERVISOR_EXIT_OK = 0,      /* the guest ended: shut down, powered off, destroyed */
        SUPERVISOR_EXIT_FAILURE = 1, /* the start failed (resources, hypervisor, ...) */
        SUPERVISOR_EXIT_USAGE = 2,   /* bad command line */
        SUPERVISOR_EXIT_CRASHED = 3, /* the guest crashed; on_crash did not restart it, or its
                                      * restarts were given up */
        SUPERVISOR_EXIT_BUSY = 4,    /* the guest already has a supervisor */
        SUPERVISOR_EXIT_CONFIG = 6,  /* the definition or host.conf is missing or invalid, or
                                      * the host cannot run it (LSB "not configured") */
};

/* Console output kept while nobody is attached (console.c). */
#define CONSOLE_RING_SIZE (64 * 1024)
#define CONSOLE_LOG_MAX   (1024 * 1024)
struct console_ring {
        char *data;   /* CONSOLE_RING_SIZE bytes, allocated on first output */
        size_t start; /* oldest byte */
        size_t len;
};
void console_ring_append(struct console_ring *r, const char *data, size_t n);
/* Copy out the held bytes in order (up to max) and empty the ring. */
size_t console_ring_take(struct console_ring *r, char *out, size_t max);
void console_ring_free(struct console_ring *r);

/* Who hears of the guest's lifecycle: guest.c tells the observer, never
 * an upper layer by name. The control socket registers itself
 * (control_new) to stream events and answer calls waiting for the end. */
struct supervisor_observer {
        void (*event)(void *data, enum guest_event event); /* after each transition */
        void (*ended)(void *data);                         /* the guest has ended for good */
        void *data;
};

struct supervisor {
        struct lv_guest g;
        const struct lv_driver *driver;
        struct lv_loop *loop;
        struct control *control;
        struct supervisor_observer observer;
        struct supervisor_job job; /* job.h: the one long-running operation */

        int dir_fd;   /* the state directory, flock()ed while we live */
        int ready_fd; /* to `lvsh start`; -1 once the result was reported */
        bool foreground;
        bool notify;                        /* NOTIFY_SOCKET is set */
        int exit_status;                    /* enum supervisor_exit of a failed start */
        uint64_t watchdog_usec;             /* WatchdogSec= of the unit, 0: none */
        struct loop_source *watchdog_timer; /* sends WATCHDOG=1 every watchdog_usec / 2 */
        uint64_t shutdown_timeout_usec;
        char *socket_group;          /* host.conf socket_group, or NULL */
        char *socket_readonly_group; /* host.conf socket_readonly_group, or NULL */
        time_t start_time;           /* when the guest (last) started */
        unsigned restarts;

        struct loop_source *pidfd_source;
        struct loop_source *shutdown_timer;
        struct loop_source *console_source;

        /* What the end of the hypervisor process means. */
        bool destroy_requested; /* killed on request: "destroyed" */
        bool migrated;          /* ... because it runs elsewhere now: "migrated" */
        bool saved;             /* ... because its state is in a save image: "saved" */
        bool restoring;         /* started from a save image (save.c) */
        /* The last completed migration (domjobinfo --completed): JobInfo's
         * object with type "completed", or NULL. */
        struct json_object *completed_job;
        bool shutdown_requested; /* user shutdown: ends the guest */
        bool reboot_requested;   /* restart once it has ended */
        bool stopping;           /* the supervisor exits once the guest ended */

        struct console_ring console_ring;
        /* Console output rate (console.c): bytes read in the current window. */
        struct loop_source *console_timer;
        uint64_t console_window_start;
        size_t console_window_bytes;
        void *console_client; /* the peer console_attach() was given */
        const struct console_peer_ops *console_ops;
        /* Our own open slave side of the console pty (when we know its
         * path): the master then never reports a hang-up while the guest
         * has its console closed, so output after a reopen is not lost. */
        bool console_holding;
        int console_hold_fd;
        /* $LOGDIR/NAME.console.log, appended while the guest runs; at
         * CONSOLE_LOG_MAX it becomes NAME.console.log.1 and a new one
         * starts (so at most twice that on disk). */
        bool console_logging;
        int console_log_fd;
        uint64_t console_log_size;

        /* Disk leases held while the guest runs (leases.c, lock.h), and
         * their fds as the hypervisor process gets them (g.lease_fds). */
        struct lock_set *leases;
        int *lease_fds;

        /* Block jobs (blockjob.c), one per disk: how the last one of
         * each disk ended ({TARGET: {"disk", "error"?}}) for lvsh --wait. */
        struct json_object *block_job_last;
        /* DetachDevice calls waiting for the guest to let go (control-hotplug.c) */
        struct detach_wait *detach_waits;
        /* SetVcpus calls waiting for the guest to release vCPUs (control-vcpu.c) */
        struct vcpu_wait *vcpu_waits;
};

static inline struct supervisor *supervisor_of(struct lv_guest *g)
{
        return container_of(g, struct supervisor, g);
}

/* guest.c: operations, each checked against the lifecycle table. */
int supervisor_guest_start(struct supervisor *sv, struct lv_error **err);
/* Take over the hypervisor process a dead supervisor left running
 * (driver->reattach). On failure the process and the state directory are
 * left alone. */
int supervisor_guest_reattach(struct supervisor *sv, struct lv_error **err);
int supervisor_guest_shutdown(struct supervisor *sv, uint64_t timeout_usec, struct lv_error **err);
int supervisor_guest_destroy(struct supervisor *sv, struct lv_error **err);
int supervisor_guest_reboot(struct supervisor *sv, struct lv_error **err);
int supervisor_guest_suspend(struct supervisor *sv, struct lv_error **err);
int supervisor_guest_resume(struct supervisor *sv, struct lv_error **err);
int supervisor_guest_setmem(struct supervisor *sv, unsigned long long kib, struct lv_error **err);
/* Fill stats from the driver (may leave it empty). */
/* The running definition changed while the guest runs: record it
 * (definition.json) and the status; failures are logged. */
void supervisor_definition_changed(struct supervisor *sv);
/* Hot-plug (control-hotplug.c): a disk into the running guest (d's
 * fields are taken), a disk out of it (by target dev or source: the guest
 * is asked, *ret_dev names the disk; it leaves the running definition
 * when the guest lets go, in the core's g->disk_released). */
int supervisor_guest_disk_attach(struct supervisor *sv, struct domain_disk *d,
                                 struct lv_error **err);
int supervisor_guest_disk_detach(struct supervisor *sv, const char *target, char **ret_dev,
                                 struct lv_error **err);
void supervisor_disk_released(struct lv_guest *g, const char *target);
/* The same for interfaces, by MAC (the driver makes the host side). */
int supervisor_guest_net_attach(struct supervisor *sv, struct domain_net *n, struct lv_error **err);
int supervisor_guest_net_detach(struct supervisor *sv, const char *mac, char **ret_mac,
                                struct lv_error **err);
void supervisor_net_released(struct lv_guest *g, const char *mac);
/* A <filesystem> into the running guest (fs's fields taken), and out of
 * it by target dir, at once (*ret_lazy: it was busy, unmounted lazily). */
int supervisor_guest_fs_attach(struct supervisor *sv, struct domain_fs *fs, struct lv_error **err);
int supervisor_guest_fs_detach(struct supervisor *sv, const char *target, bool *ret_lazy,
                               struct lv_error **err);
/* The guest has released a vCPU (g->vcpu_released): a SetVcpus waiting
 * for an unplug looks again (control-vcpu.c). */
void supervisor_vcpu_released(struct lv_guest *g, const char *id);
/* The display (control-display.c): lvsh screenshot, the display as PNG in
 * the state directory (*ret_path names it); lvsh send-key, qnum codes
 * pressed together and released after holdtime_ms (0: QEMU's default). */
int supervisor_guest_screenshot(struct supervisor *sv, char **ret_path, struct lv_error **err);
/* lvsh setvcpus --live (control-vcpu.c): the guest gets n vCPUs (plugged
 * at once; an unplug is asked for); *ret_have: how many it has now. */
int supervisor_guest_vcpus_set(struct supervisor *sv, unsigned n, unsigned *ret_have,
                               struct lv_error **err);
int supervisor_guest_send_key(struct supervisor *sv, const int *keys, int n, int holdtime_ms,
                              struct lv_error **err);
int supervisor_guest_stats(struct supervisor *sv, struct json_object *out, struct lv_error **err);
/* Apply a lifecycle event: new state and reason, log, status file, events
 * to subscribers. -EINVAL (with *err) when invalid in the current state. */
int supervisor_transition(struct supervisor *sv, enum guest_event event, struct lv_error **err);
/* driver-support's guest_status_record for this supervisor: status.json now. */
void supervisor_status_record(struct lv_guest *g);
/* SIGTERM: shut the guest down (then destroy after the timeout) and exit. */
void supervisor_stop(struct supervisor *sv);

/* status.c: the state directory and status.json. */
/* mode and group (-1: unchanged) of the directory: control_statedir_mode(). */
int statedir_acquire(const char *name, mode_t mode, gid_t group, int *ret_dir_fd,
                     struct lv_error **err);
int statedir_remove(struct supervisor *sv, struct lv_error **err);
/* The guest ended: record its state and reason where lvsh domstate
 * --reason finds them once the state directory is gone
 * (paths_guest_ended; removed by the next statedir_acquire). */
void statedir_record_end(struct supervisor *sv);
int status_write(struct supervisor *sv, struct lv_error **err);
/* Info as the protocol returns it (also written as status.json). */
struct json_object *status_to_json(struct supervisor *sv);
/* Reattach without --config: use the host configuration the dead
 * supervisor ran with (status.json "host_conf"), so the guest keeps its
 * lockspace and host identity. */
void status_adopt_host_conf(const char *name);

/* console.c: the console pty relay. */
int console_watch(struct supervisor *sv, struct lv_error **err);
void console_unwatch(struct supervisor *sv);
/* The client a console is attached to, as console.c sees it (it never
 * calls the control socket by name): raw bytes out, and a drop when
 * another client takes the console over. */
struct console_peer_ops {
        /* < 0 (-ENOBUFS) when its queue is full: the peer is then dropped */
        int (*send_raw)(void *peer, const char *data, size_t n);
        void (*drop)(void *peer, const char *why);
};
/* Attach a peer (a control client in raw mode). */
int console_attach(struct supervisor *sv, void *peer, const struct console_peer_ops *ops,
                   bool force, struct lv_error **err);
/* After the attach reply went out: send what the ring kept. */
void console_replay(struct supervisor *sv);
void console_detach(struct supervisor *sv, void *peer);
void console_input(struct supervisor *sv, const char *data, size_t n);

/* control.c: the control socket. */
int control_new(struct supervisor *sv, const char *path, struct control **ret,
                struct lv_error **err);
void control_free(struct control *c);
/* Registers itself as sv->observer: lifecycle events go to every Events
 * subscriber; when the guest has ended for good, calls waiting for that
 * are answered. */

/* The state directory's mode and group for the control socket's groups:
 * 0700; 0710 and the group with socket_group; 0711 with a read-only group. */
int control_statedir_mode(struct supervisor *sv, mode_t *ret_mode, gid_t *ret_group,
                          struct lv_error **err);
/* Raw bytes to a console client; -ENOBUFS when its queue is full (the
 * client is then dropped). */
int control_client_send_raw(struct control_client *cl, const char *data, size_t n);
void control_client_drop(struct control_client *cl, const char *why);

/* leases.c: the guest's disk leases. Taken before the driver starts the
 * guest (state: NULL, or a migration's lock state), released through the
 * undo stack. */
struct host_identity;
int supervisor_leases_acquire(struct supervisor *sv, const char *state, struct lv_error **err);
/* The same, where the disks whose sources are listed in local (NULL-ended)
 * are this host's own copies (a storage migration's destination): their
 * leases are taken fresh, not from the lock state. */
int supervisor_leases_take(struct supervisor *sv, const char *state, char *const *local,
                           struct lv_error **err);
/* Reattach (g->pid, g->pidfd set): take over the running guest's leases,
 * proving its process holds each (lock_set_adopt), and hand them to it
 * again. On failure nothing it holds is released. */
int supervisor_leases_reattach(struct supervisor *sv, struct lv_error **err);
/* Hot-plug (leases.c): the lease of a disk joining the running guest is
 * taken (refused when another guest holds it); that of one gone released. */
int supervisor_leases_add_disk(struct supervisor *sv, const struct domain_disk *d,
                               struct lv_error **err);
int supervisor_leases_drop_disk(struct supervisor *sv, const char *source, struct lv_error **err);
/* This host's identity (host.conf, machine-id, SMBIOS) and lockspace. */
int supervisor_host_identity(struct host_identity *ret, char **ret_lockspace,
                             struct lv_error **err);

/* definition.c: the guest's definition ($LITEVIRT_GUESTDIR/NAME.xml),
 * parsed and validated in a short-lived child so that this process never
 * maps libxml2 (the model comes back as JSON). */
int supervisor_definition_load(const char *name, struct domain_def **ret, struct lv_error **err);
/* The same in two steps, so that the child parses while the supervisor
 * does other set-up: begin forks it, finish collects the model (and always
 * ends the job), abandon ends a job that is not needed any more (both
 * accept an ended job: pid -1). */
struct definition_job {
        pid_t pid;
        int fd;
        char *path;
        struct domain_def *cached; /* the model cache matched: no child */
};
/* file: a definition to run with instead of the stored one (NULL). */
int supervisor_definition_begin(const char *name, const char *file, struct definition_job *job,
                                struct lv_error **err);
int supervisor_definition_finish(struct definition_job *job, struct domain_def **ret,
                                 struct lv_error **err);
void supervisor_definition_abandon(struct definition_job *job);
/* Any parse of outside input that needs libxml2 (a migration's definition
 * and cookies), in the same kind of short-lived child: fn runs there and
 * returns a JSON object as text (*ret_json), or an error; here: that
 * object, or the child's error. what names the input in errors. */
int supervisor_parse_child(int (*fn)(void *arg, char **ret_json, struct lv_error **err), void *arg,
                           const char *what, struct json_object **ret, struct lv_error **err);
/* The running guest's definition ($RUNDIR/NAME/definition.json, JSON):
 * recorded before the guest runs and whenever the live definition changes
 * (setmem), read back by a supervisor that reattaches. So a running guest
 * never depends on a stored definition (transient, undefined, deleted or
 * unreadable). load_running: -ENOENT when there is none. */
int supervisor_definition_record(struct supervisor *sv, struct lv_error **err);
int supervisor_definition_load_running(const char *name, struct domain_def **ret,
                                       struct lv_error **err);
/* Migration destination with --persistent, at Finish: store the arrived
 * definition when none of that name is stored. A failed write is logged
 * and the guest runs transient (as libvirt). */
void supervisor_definition_store_migrated(const struct domain_def *def);
/* As libvirt's virDomainObjListAdd: a guest stored here under def's name
 * but with another UUID is another guest (an arriving migration or a
 * restored save image is refused before anything starts). */
struct conf_xml_ops;
int supervisor_definition_check_stored(const struct conf_xml_ops *x, const struct domain_def *def,
                                       struct lv_error **err);

/* save.c: save images (docs/save.md). Save: file (absolute) or, with
 * managed, $LITEVIRT_SAVEDIR/NAME.save; running: the state a restore
 * leaves the guest in (1 running, 0 paused, -1 as now). On failure the
 * guest goes on as before and no file is left; on success the caller
 * ends the guest (sv->saved). */
/* blockjob.c: lvsh blockcommit / blockpull / blockjob (docs/snapshot.md).
 * kind "commit" or "pull"; a commit of the active layer only with active;
 * bandwidth in bytes/s (0: unlimited). The job runs on; its end
 * (supervisor_block_job_ended, g.block_job_ended) updates the running and
 * stored definitions. info: {"job": {...}} while one runs, else {"ended":
 * {...}} for the last one on that disk, or {}. */
int supervisor_block_job_start(struct supervisor *sv, const char *disk, const char *kind,
                               const char *base, const char *top, bool active,
                               unsigned long long bandwidth, struct lv_error **err);
int supervisor_block_job_info(struct supervisor *sv, const char *disk, struct json_object **ret,
                              struct lv_error **err);
int supervisor_block_job_end(struct supervisor *sv, const char *disk, bool pivot,
                             struct lv_error **err);
int supervisor_block_job_set_speed(struct supervisor *sv, const char *disk,
                                   unsigned long long bandwidth, struct lv_error **err);
void supervisor_block_job_ended(struct lv_guest *g, int i, const char *old_source, bool changed,
                                const char *error);
/* domjobinfo: the running block job as JobInfo's object, or NULL. */
struct json_object *supervisor_block_job_as_job(struct supervisor *sv);

/* snapshot.c: snapshot-create-as (docs/snapshot.md): external qcow2
 * overlays over the writable disks and, without disk_only, the memory in
 * $GUESTDIR/NAME.snapshots/SNAP.mem; metadata SNAP.json beside it. */
int supervisor_snapshot_create(struct supervisor *sv, const char *snap, const char *description,
                               bool disk_only, bool quiesce, struct lv_error **err);
/* The image alone (a full snapshot's memory, supervisor/snapshot.c): the
 * guest's CPUs are stopped; running: what a restore does. */
int supervisor_save_image_write(struct supervisor *sv, const char *path, bool running,
                                struct lv_error **err);
int supervisor_guest_save(struct supervisor *sv, const char *path, bool managed, int running,
                          struct lv_error **err);
/* Restore (litevirt-supervisor --restore FILE | --managed-save NAME):
 * begin, before the set-up, checks the image's header and length,
 * parses its definition into sv->g.def and sets sv->g.incoming, so that
 * the driver starts the hypervisor waiting for the stream; path NULL: the
 * managed save of name (removed once loaded); name, when set, must be the
 * image's; definition, when set, a file whose definition (same name and
 * UUID) replaces the image's. finish loads the stream, takes the leases
 * and resumes (running as for save). On a failed finish the caller ends the guest. */
struct save_restore;
int supervisor_restore_begin(struct supervisor *sv, const char *path, const char *name,
                             const char *definition, int running, struct save_restore **ret,
                             struct lv_error **err);
int supervisor_restore_finish(struct supervisor *sv, struct save_restore *rs,
                              struct lv_error **err);
/* Between begin (after detaching) and finish: the stream's checksum is
 * checked by a child while the hypervisor starts and loads it; finish
 * waits for the verdict before the guest runs (a mismatch ends it). */
int supervisor_restore_verify(struct save_restore *rs, struct lv_error **err);
void supervisor_restore_free(struct save_restore *rs);
/* Store def as a defined guest unless one of that name is stored (kept). */
int supervisor_definition_store(const struct domain_def *def, struct lv_error **err);

/* driver.c: the driver for a definition's type, or NULL (with *err) when
 * litevirt was built without it. */
const struct lv_driver *driver_for_type(enum domain_type type, struct lv_error **err);

/* notify.c: sd_notify protocol. */
int notify_send(const char *state, struct lv_error **err);
/* Send state when the supervisor reports to an init system (sv->notify);
 * a failure is logged. */
void supervisor_notify(struct supervisor *sv, const char *state);
/* STATUS= with the guest's state, as `lvsh domstate --reason` words it. */
void supervisor_notify_state(struct supervisor *sv);
/* WatchdogSec=: when $WATCHDOG_USEC is set (and $WATCHDOG_PID, if set, is
 * us), send WATCHDOG=1 from the event loop every half interval. */
int supervisor_watchdog_start(struct supervisor *sv, struct lv_error **err);

/* machined.c: register the running guest (g->pid set) with systemd-machined
 * when the host has it, and unregister it when the guest's process ends
 * (an undo on the guest's stack). Best effort: a failure is logged. */
void supervisor_machine_register(struct supervisor *sv);
