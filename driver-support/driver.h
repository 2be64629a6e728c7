/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The contract between the supervisor core and a hypervisor driver
 * (lxc/, qemu/, xen/). The core never names a hypervisor: it picks the
 * driver for the definition's type and calls these. A driver never opens
 * the control socket.
 *
 * Set-up is transactional: a driver registers an undo for each thing it
 * creates (guest_undo_push) and the core runs them in reverse when a start
 * fails or the guest has stopped. */

#include <stdint.h>
#include <sys/types.h>

#include "conf/domain.h"
#include "util/undo.h"

struct json_object;
struct lv_loop;
struct lv_guest;
struct lv_migration_ops;

/* The lifecycle states, as virsh names them. */
enum guest_state {
        GUEST_STATE_SHUTOFF,
        GUEST_STATE_STARTING,
        GUEST_STATE_RUNNING,
        GUEST_STATE_PAUSED,
        GUEST_STATE_SHUTDOWN, /* being shut down */
        GUEST_STATE_CRASHED,
        GUEST_STATE_LAST
};

typedef void (*guest_undo_fn)(struct lv_guest *g, void *data);

/* How a migration destination's hypervisor gets the incoming stream. */
enum lv_incoming_transport {
        /* a TCP port of host.conf's migration range */
        LV_INCOMING_TCP,
        /* through the supervisors' channel: the driver gives the
         * hypervisor one end of a socketpair and leaves the other in
         * tunnel_fd; the URI is "tunnel" */
        LV_INCOMING_TUNNEL,
};

struct lv_incoming {
        enum lv_incoming_transport transport;
        /* If set, called by the driver as soon as the hypervisor process
         * runs (before it is ready) with the URI the source sends its
         * stream to ("tcp:HOST:PORT" of a socket the driver bound and
         * listens on before the hypervisor starts, or "tunnel"): Prepare
         * is answered while the hypervisor starts up. If not set (TCP
         * only), the hypervisor waits for the endpoint
         * (lv_migration_ops.incoming_setup). */
        int (*started)(struct lv_guest *g, const char *uri, struct lv_error **err);
        void *data;
        /* TUNNEL: the caller's end of the socketpair, owned by the caller
         * (-1 until the driver made it). */
        int tunnel_fd;
        /* The guest of the stream ran with its RAM padded (lv_guest.ram_pad:
         * the save image's flag, the source's cookie); the driver starts
         * the hypervisor with the same RAM, so that the stream loads. */
        bool ram_pad;
};

struct lv_guest {
        struct domain_def *def; /* the definition the guest runs with */
        const char *name;       /* def->name */
        char *state_dir;        /* $RUNDIR/NAME */
        struct lv_loop *loop;

        enum guest_state state;
        int state_reason; /* see supervisor/lifecycle.h */

        /* The hypervisor process the supervisor watches: the container's
         * init, qemu-system-*, or `xl create -F`. Set by driver->start. */
        pid_t pid;
        int pidfd;

        /* Console: the master side of the guest's console pty when the
         * supervisor owns it (LXC), else -1. The core buffers its output
         * and relays it to `lvsh console` clients. */
        int console_fd;
        char *console_path; /* the pty's path, for dumpxml / console */

        /* cgroup directory of the guest, relative to each hierarchy's
         * mount point (e.g. "/process_api/…/litevirt-web1"), or NULL. */
        char *cgroup_path;

        void *driver_data;

        /* The disk leases' fds (locking/lock.h), set by the core: the
         * hypervisor process holds them for as long as it runs, so that a
         * lease outlives a crashed supervisor but never the guest. Set
         * before start (the driver lets the process inherit them); when
         * they change while it runs (migration Finish or rollback,
         * reattach) the core calls driver->hold_leases. */
        const int *lease_fds;
        int n_lease_fds;

        /* Set by the core: what guest_status_record does (write
         * status.json now). */
        void (*status_record)(struct lv_guest *g);

        /* Migration destination: set before start (supervisor/migration.c),
         * NULL otherwise. The driver starts the hypervisor waiting for the
         * incoming stream and leaves the guest paused. */
        struct lv_incoming *incoming;
        /* Set by the core: a disk asked to go (disk_detach) was released
         * by the guest (called from the loop, whenever that happens). */
        void (*disk_released)(struct lv_guest *g, const char *target_dev);
        /* Set by the core: the block job on disk i ended (error NULL: it
         * completed or was aborted as asked; the driver has updated
         * g->def->disks[i] when the chain changed, then changed is true;
         * old_source: the disk's source when the job started). Also for a
         * job that ended while no supervisor watched, at reattach. */
        void (*block_job_ended)(struct lv_guest *g, int i, const char *old_source, bool changed,
                                const char *error);
        /* The same for an interface (net_detach), by its MAC. */
        void (*net_released)(struct lv_guest *g, const char *mac);
        /* The same for a vCPU asked to go (vcpus_set), by its device id. */
        void (*vcpu_released)(struct lv_guest *g, const char *id);
        /* Set before start: the guest is to be left paused (lvsh create
         * --paused). A driver that can start it with its CPUs stopped
         * does; the core then suspends it (a no-op for those). */
        bool start_paused;
        /* Set by the driver when it starts or reattaches the hypervisor:
         * the guest's RAM carries the driver's pad (QEMU's TCG pad,
         * qemu_command_ram_pad_kib), as a fresh start gives it or as the
         * incoming stream's guest had it. Save images and migration
         * cookies record it (docs/save.md, docs/migration.md). */
        bool ram_pad;

        /* Undo stack (see guest_undo_push). */
        struct guest_undo {
                guest_undo_fn fn;
                void (*fn_data)(void *data); /* instead of fn (guest_undo_sink) */
                void *data;
                void (*free_data)(void *data);
                char *what; /* a copy */
        } * undo;
        int n_undo;
};

/* Register the undo of a step that has just succeeded. what describes it
 * for the log ("cgroup /x/litevirt-web1"). data is freed with free_data
 * (may be NULL) after fn ran or when the stack is dropped. */
void guest_undo_push(struct lv_guest *g, const char *what, guest_undo_fn fn, void *data,
                     void (*free_data)(void *data));
/* The guest's undo stack as a sink for lower layers (netns/) that know
 * no struct lv_guest. */
struct undo_sink guest_undo_sink(struct lv_guest *g);
/* Run all undos in reverse order and empty the stack. */
void guest_undo_run(struct lv_guest *g);

/* Write status.json now, with g->pid (and its start time): a driver
 * whose process outlives the supervisor calls it as soon as the process
 * exists, so that a supervisor killed during the rest of the start never
 * leaves an unrecorded guest behind. Best effort (logged). */
void guest_status_record(struct lv_guest *g);

/* A block job (lv_driver.block_job_*). */
enum lv_block_job_kind {
        LV_BLOCK_JOB_PULL,
        LV_BLOCK_JOB_COMMIT,        /* an image below the active layer */
        LV_BLOCK_JOB_ACTIVE_COMMIT, /* the active layer: ready, then pivot */
};
struct lv_block_job_info {
        enum lv_block_job_kind kind;
        int disk;                               /* index in g->def->disks */
        bool ready;                             /* an active commit that may pivot */
        unsigned long long cur, end, bandwidth; /* bytes; bytes/s */
};

/* A disk's new overlay (lv_driver.snapshot_disks). */
struct lv_disk_overlay {
        int disk;            /* index in g->def->disks */
        const char *overlay; /* the qcow2 file to create (absolute) */
};

struct lv_driver {
        const char *name; /* "lxc", "qemu", "xen" */

        /* Host checks that need no set-up (e.g. kvm without /dev/kvm). */
        int (*check)(const struct domain_def *def, struct lv_error **err);

        /* Build and start the guest; return once it runs (g->pid and
         * g->pidfd set). On failure, what was registered is undone by the
         * core; the driver must not leave anything unregistered. */
        int (*start)(struct lv_guest *g, struct lv_error **err);

        /* Ask the guest to shut down (ACPI, SIGTERM to init, ...). The
         * core enforces the timeout and then calls destroy. */
        int (*shutdown)(struct lv_guest *g, struct lv_error **err);
        /* Kill the guest now. The core waits for pidfd to report the end. */
        int (*destroy)(struct lv_guest *g, struct lv_error **err);
        int (*reboot)(struct lv_guest *g, struct lv_error **err);
        int (*suspend)(struct lv_guest *g, struct lv_error **err);
        int (*resume)(struct lv_guest *g, struct lv_error **err);
        /* Set the guest's current memory (the balloon's target for QEMU,
         * the memory limit for a container), in KiB; the core has checked
         * 0 < kib <= the maximum and that the guest runs or is paused.
         * Optional: without it `lvsh setmem` is refused. */
        int (*setmem)(struct lv_guest *g, unsigned long long kib, struct lv_error **err);

        /* Statistics for `lvsh domstats` / `dominfo`: fill `out` with
         * keys such as "cpu.time" (ns), "balloon.current" (KiB),
         * "pids.current". */
        int (*stats)(struct lv_guest *g, struct json_object *out, struct lv_error **err);

        /* The hypervisor process has exited (pidfd readable and reaped):
         * status is the wait status. Map it to a reason (poweroff, reboot,
         * crash). Optional. */
        int (*exited)(struct lv_guest *g, int wait_status);

        /* Extra keys for status.json, written at every state change (e.g.
         * the QMP socket and ports a later supervisor needs to reattach).
         * Keys are the driver's; the core's keys are listed in
         * docs/supervisor.md. Optional. */
        void (*status)(struct lv_guest *g, struct json_object *out);

        /* The hypervisor process of a supervisor that died still runs
         * (status.json names it): take it over instead of starting a new
         * one, setting g->pid and g->pidfd as start does (the process is
         * not our child: its exit status is not known, exited() gets 0).
         * Returns 1 when the guest is paused (it stays so), 0 when it runs.
         * What is registered is undone as after start. Optional: without
         * it such a guest is refused, never started twice. */
        int (*reattach)(struct lv_guest *g, struct lv_error **err);

        /* Hand g->lease_fds to the running hypervisor process to keep
         * (QEMU: QMP getfd, replacing what it held before). Optional: a
         * process that never outlives its supervisor (a container) needs
         * no copy. */
        int (*hold_leases)(struct lv_guest *g, struct lv_error **err);

        /* Live migration (optional): see supervisor/migration.h. */
        const struct lv_migration_ops *migration;

        /* Hot-plug (optional; lvsh attach-device / detach-device).
         * disk_attach adds g->def->disks[i] (already in the definition) to
         * the running guest. disk_detach asks the guest to release disk i
         * and returns without waiting (asking again while a request is
         * pending is fine): once the guest has let go, the driver lets go
         * of it too and calls g->disk_released. */
        int (*disk_attach)(struct lv_guest *g, int i, struct lv_error **err);
        int (*disk_detach)(struct lv_guest *g, int i, struct lv_error **err);
        /* The same for interface i (g->def->nets[i], its MAC set): the
         * driver makes the host side and the guest's NIC; detach asks the
         * guest to let go, and g->net_released follows. */
        int (*net_attach)(struct lv_guest *g, int i, struct lv_error **err);
        int (*net_detach)(struct lv_guest *g, int i, struct lv_error **err);

        /* lvsh screenshot (optional): the display as PNG, written to fd. */
        int (*screenshot)(struct lv_guest *g, int fd, struct lv_error **err);
        /* lvsh send-key (optional): keys as QEMU's qnum codes (XT scan
         * codes), pressed together, released after holdtime_ms (0: the
         * hypervisor's default). */
        int (*send_key)(struct lv_guest *g, const int *keys, int n, int holdtime_ms,
                        struct lv_error **err);

        /* External disk snapshots (optional; supervisor/snapshot.c): put a
         * new qcow2 overlay over each listed disk's current image, all or
         * none (on failure nothing changed and no overlay is left). The
         * core has checked the disks are files the guest may write. */
        int (*snapshot_disks)(struct lv_guest *g, const struct lv_disk_overlay *disks, int n,
                              struct lv_error **err);

        /* lvsh vcpuinfo (optional): one object per vCPU appended to out
         * (vcpu, thread, cpu: the host CPU it last ran on, state,
         * cpu_time_ns, affinity: [host CPU]). */
        int (*vcpus_info)(struct lv_guest *g, struct json_object *out, struct lv_error **err);
        /* lvsh setvcpus --live (optional): plug vCPUs until the guest has
         * n, or ask it to release those above n (device_del: gone when
         * vcpus_info no longer lists them); the core has checked
         * 1 <= n <= the maximum. */
        int (*vcpus_set)(struct lv_guest *g, unsigned n, struct lv_error **err);
        /* Block jobs (optional; supervisor/blockjob.c, one per guest): on
         * disk i, commit (top into base; top NULL: the active layer, which
         * the core has checked was asked for) or pull (base's data up into
         * the active layer; base NULL: all of the chain). base/top are
         * image paths of the disk's chain; bandwidth bytes/s, 0 unlimited.
         * The job runs on in the hypervisor; its end comes as an event on
         * the loop: the driver then updates g->def->disks[i] (source,
         * <backingStore>) if the chain changed, gives back the files it no
         * longer uses and calls g->block_job_ended. */
        int (*block_job_start)(struct lv_guest *g, int i, enum lv_block_job_kind kind,
                               const char *base, const char *top, unsigned long long bandwidth,
                               struct lv_error **err);
        /* The progress of disk i's running job (*ret), 0; 1: none runs.
         * One job per disk. */
        int (*block_job_info)(struct lv_guest *g, int i, struct lv_block_job_info *ret,
                              struct lv_error **err);
        /* End it: pivot (an active commit that is ready: the guest goes
         * on on the base) or abort (the chain stays as it was; a ready
         * active commit keeps the data in the base). The end comes as
         * for any job (block_job_ended). */
        int (*block_job_end)(struct lv_guest *g, int i, bool pivot, struct lv_error **err);
        int (*block_job_set_speed)(struct lv_guest *g, int i, unsigned long long bandwidth,
                                   struct lv_error **err);
        /* Filesystem hot-plug (optional; containers): fs_attach makes
         * g->def->filesystems[i] (already in the definition) visible in
         * the running guest; fs_detach takes it away at once (no release
         * to wait for): 0, or 1 when it was busy and goes lazily. */
        int (*fs_attach)(struct lv_guest *g, int i, struct lv_error **err);
        int (*fs_detach)(struct lv_guest *g, int i, struct lv_error **err);
};

extern const struct lv_driver lxc_driver;
extern const struct lv_driver xen_driver; /* xen/driver.c, absent with -Dxen=disabled */
