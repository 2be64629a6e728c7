/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest's operations: start, the end of the hypervisor process and
 * what on_poweroff/on_reboot/on_crash make of it, shutdown with its
 * timeout, destroy, reboot, suspend, resume. Every state change goes
 * through the lifecycle table (lifecycle.c). */
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "network/network.h"
#include "supervisor/supervisor.h"
#include "util/fault.h"
#include "util/log.h"

/* A guest restarting more often than this within RESTART_WINDOW seconds
 * (on_crash/on_reboot=restart) is given up: it would only spin. */
#define RESTART_BURST  5
#define RESTART_WINDOW 10
/* A guest process that exits non-zero within this many seconds of its
 * start (1-2 s: whole seconds) failed to start: shut off (failed), not a
 * power-off that on_poweroff could restart. */
#define START_FAILED_WINDOW 2

int supervisor_transition(struct supervisor *sv, enum guest_event event, struct lv_error **err)
{
        enum guest_state old = sv->g.state, state;
        int old_reason = sv->g.state_reason, reason;
        if (lifecycle_next(old, event, &state, &reason) < 0)
                return lv_error_setf(err, LV_ERR_STATE, "guest '%s' is %s: '%s' is not valid now",
                                     sv->g.name, guest_state_to_string(old),
                                     guest_event_to_string(event));
        sv->g.state = state;
        sv->g.state_reason = reason;
        log_info("state %s (%s) -> %s (%s) on %s", guest_state_to_id(old),
                 guest_reason_to_string(old, old_reason), guest_state_to_id(state),
                 guest_reason_to_string(state, reason), guest_event_to_string(event));
        _cleanup_error_ struct lv_error *e = NULL;
        if (status_write(sv, &e) < 0)
                log_warning("%s", e->message);
        if (sv->observer.event)
                sv->observer.event(sv->observer.data, event);
        supervisor_notify_state(sv);
        return 0;
}

static int state_error(struct supervisor *sv, const char *what, struct lv_error **err)
{
        return lv_error_setf(err, LV_ERR_STATE,
                             "Requested operation is not valid: guest '%s' is %s%s", sv->g.name,
                             guest_state_to_string(sv->g.state), what);
}

static int pidfd_wait_status(int pidfd, pid_t pid)
{
        siginfo_t si = {0};
        if (waitid((idtype_t)3 /* P_PIDFD */, (id_t)pidfd, &si, WEXITED) < 0) {
                /* Not our child (or reaped elsewhere): nothing to learn. */
                log_debug("cannot reap process %d: %s", (int)pid, strerror(errno));
                return 0;
        }
        if (si.si_code == CLD_EXITED)
                return (si.si_status & 0xff) << 8;
        return (si.si_status & 0x7f) | (si.si_code == CLD_DUMPED ? 0x80 : 0);
}

static enum guest_exit exit_default(int status)
{
        if (WIFEXITED(status))
                return GUEST_EXIT_POWEROFF;
        /* The kernel ends a pid namespace's init that called reboot(2) with
         * SIGHUP (restart) or SIGINT (power off, halt). */
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP)
                return GUEST_EXIT_REBOOT;
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT)
                return GUEST_EXIT_POWEROFF;
        return GUEST_EXIT_CRASH;
}

static void guest_release(struct supervisor *sv)
{
        loop_source_freep(&sv->pidfd_source);
        console_unwatch(sv);
        if (sv->shutdown_timer)
                (void)loop_timer_set(sv->shutdown_timer, 0, NULL);
        supervisor_job_end(sv, JOB_SHUTDOWN);
        if (sv->g.pidfd >= 0)
                close(sv->g.pidfd);
        sv->g.pidfd = -1;
        sv->g.pid = 0;
        fault_point("before-undo");
        guest_undo_run(&sv->g);
}

void supervisor_status_record(struct lv_guest *g)
{
        _cleanup_error_ struct lv_error *e = NULL;
        if (status_write(supervisor_of(g), &e) < 0)
                log_warning("%s", e->message);
}

static void supervisor_guest_ended(struct supervisor *sv)
{
        if (sv->observer.ended)
                sv->observer.ended(sv->observer.data);
}

/* The guest is over for good: clean up and let the process exit. */
static void guest_end(struct supervisor *sv, enum guest_event event)
{
        _cleanup_error_ struct lv_error *e = NULL;
        if (supervisor_transition(sv, event, &e) < 0)
                log_warning("%s", e->message);
        lv_error_freep(&e);
        statedir_record_end(sv);
        if (statedir_remove(sv, &e) < 0)
                log_warning("%s", e->message);
        supervisor_guest_ended(sv);
        loop_exit(sv->loop, 0);
}

static int on_guest_exit(struct loop_source *s, int pidfd, void *data);

/* <interface type='network'>: the bridge of each network, which must be
 * active ("network 'NAME' is not active", libvirt's words). Looked up at
 * every start: a network restarted since may have its bridge anew. */
/* "guest 'NAME': " before an error, unless the layer below (QEMU's
 * command checks, shared with domxml-to-native) already named it. */
static void prefix_guest(struct lv_error **err, const char *name)
{
        _cleanup_free_ char *p = xasprintf("guest '%s': ", name);
        if (err && *err && (*err)->message && startswith((*err)->message, p))
                return;
        lv_error_prefix(err, "guest '%s'", name);
}

static int networks_resolve(struct lv_guest *g, struct lv_error **err)
{
        for (int i = 0; i < g->def->n_nets; i++) {
                struct domain_net *n = &g->def->nets[i];
                if (n->type != DOMAIN_NET_NETWORK)
                        continue;
                free(TAKE_PTR(n->network_bridge));
                if (!n->source)
                        return lv_error_setf(err, EINVAL,
                                             "interface %d: type 'network' needs <source "
                                             "network=...>",
                                             i);
                int r = network_state_bridge(n->source, &n->network_bridge, err);
                if (r < 0)
                        return lv_error_prefix(err, "Requested operation is not valid");
        }
        return 0;
}

/* From STARTING: run the driver's start. On failure everything it
 * registered is undone and the state is shut off (failed). */
static int guest_boot(struct supervisor *sv, bool after_crash, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        int r = networks_resolve(g, err);
        if (r >= 0)
                r = supervisor_leases_acquire(sv, NULL, err);
        if (r >= 0)
                r = sv->driver->start(g, err);
        if (r >= 0 && (g->pid <= 0 || g->pidfd < 0))
                r = lv_error_setf(err, LV_ERR_INTERNAL, "driver '%s' started no process",
                                  sv->driver->name);
        if (r >= 0) /* the process on record before anything can kill us (fault tests) */
                (void)status_write(sv, NULL);
        if (r >= 0) {
                /* what the driver decided at start (a channel's socket) */
                _cleanup_error_ struct lv_error *e = NULL;
                if (supervisor_definition_record(sv, &e) < 0)
                        log_warning("%s", e->message);
        }
        if (r >= 0)
                r = loop_add_pidfd(sv->loop, g->pidfd, on_guest_exit, sv, &sv->pidfd_source, err);
        if (r >= 0)
                r = console_watch(sv, err);
        if (r < 0) {
                prefix_guest(err, g->name);
                log_error("start failed: %s", (*err)->message);
                if (g->pid > 0 && g->pidfd >= 0)
                        (void)syscall(SYS_pidfd_send_signal, g->pidfd, SIGKILL, NULL, 0);
                guest_release(sv);
                (void)supervisor_transition(sv, GUEST_EVENT_START_FAILED, NULL);
                return r;
        }
        sv->start_time = time(NULL);
        log_info("guest process %d started by the %s driver", (int)g->pid, sv->driver->name);
        supervisor_machine_register(sv);
        fault_point("before-ready");
        /* An incoming migration's guest did not boot here: "paused
         * (migrating)" while the stream comes in (libvirt's
         * VIR_DOMAIN_PAUSED_MIGRATION), "running (migrated)" once it
         * runs (migration-incoming.c). */
        enum guest_event started = after_crash     ? GUEST_EVENT_STARTED_CRASHED
                                   : sv->restoring ? GUEST_EVENT_STARTED_RESTORED
                                   : g->incoming   ? GUEST_EVENT_STARTED_MIGRATED
                                                   : GUEST_EVENT_STARTED;
        return supervisor_transition(sv, started, err);
}

int supervisor_guest_start(struct supervisor *sv, struct lv_error **err)
{
        int r = supervisor_transition(sv, GUEST_EVENT_START, err);
        if (r < 0)
                return r;
        if ((r = networks_resolve(&sv->g, err)) < 0 ||
            (sv->driver->check && (r = sv->driver->check(sv->g.def, err)) < 0)) {
                prefix_guest(err, sv->g.name);
                sv->exit_status = SUPERVISOR_EXIT_CONFIG; /* retrying cannot help */
                (void)supervisor_transition(sv, GUEST_EVENT_START_FAILED, NULL);
                return r;
        }
        return guest_boot(sv, false, err);
}

int supervisor_guest_reattach(struct supervisor *sv, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        int r = supervisor_transition(sv, GUEST_EVENT_START, err);
        if (r < 0)
                return r;
        r = sv->driver->reattach(g, err);
        bool paused = r == 1;
        if (r >= 0 && (g->pid <= 0 || g->pidfd < 0))
                r = lv_error_setf(err, LV_ERR_INTERNAL, "driver '%s' reattached no process",
                                  sv->driver->name);
        if (r >= 0)
                r = loop_add_pidfd(sv->loop, g->pidfd, on_guest_exit, sv, &sv->pidfd_source, err);
        if (r >= 0)
                r = console_watch(sv, err);
        /* Last: nothing after it may fail and release what the guest's
         * process holds. */
        if (r >= 0)
                r = supervisor_leases_reattach(sv, err);
        if (r < 0) {
                prefix_guest(err, g->name);
                log_error("reattach failed: %s", (*err)->message);
                /* The process still runs: never kill it, keep its files. */
                g->pid = 0;
                guest_release(sv);
                close(sv->dir_fd);
                sv->dir_fd = -1;
                return r;
        }
        sv->start_time = time(NULL);
        log_info("guest process %d reattached by the %s driver%s", (int)g->pid, sv->driver->name,
                 paused ? " (paused)" : "");
        supervisor_machine_register(sv);
        r = supervisor_transition(sv, GUEST_EVENT_STARTED, err);
        if (r >= 0 && paused)
                r = supervisor_transition(sv, GUEST_EVENT_SUSPEND, err);
        return r;
}

static bool restart_allowed(struct supervisor *sv)
{
        static time_t window_start;
        time_t now = time(NULL);
        if (now - window_start > RESTART_WINDOW) {
                window_start = now;
                sv->restarts = 0;
        }
        return ++sv->restarts <= RESTART_BURST;
}

static void guest_restart(struct supervisor *sv, bool after_crash)
{
        _cleanup_error_ struct lv_error *e = NULL;
        if (!restart_allowed(sv)) {
                log_error("guest restarted %d times within %d s: giving up", RESTART_BURST,
                          RESTART_WINDOW);
                guest_end(sv, GUEST_EVENT_ENDED_CRASHED);
                return;
        }
        if (supervisor_transition(sv, GUEST_EVENT_RESTART, &e) < 0) {
                log_error("%s", e->message);
                guest_end(sv, GUEST_EVENT_ENDED_CRASHED);
                return;
        }
        if (guest_boot(sv, after_crash, &e) < 0) {
                /* Already shut off (failed): the end. */
                statedir_record_end(sv);
                (void)statedir_remove(sv, NULL);
                supervisor_guest_ended(sv);
                loop_exit(sv->loop, 0);
        }
}

static bool action_restarts(enum domain_lifecycle a)
{
        return a == DOMAIN_LIFECYCLE_RESTART || a == DOMAIN_LIFECYCLE_RENAME_RESTART ||
               a == DOMAIN_LIFECYCLE_COREDUMP_RESTART;
}

static int on_guest_exit(struct loop_source *s, int pidfd, void *data)
{
        struct supervisor *sv = data;
        struct lv_guest *g = &sv->g;
        pid_t pid = g->pid;
        int status = pidfd_wait_status(pidfd, pid);
        enum guest_exit how = sv->driver->exited ? (enum guest_exit)sv->driver->exited(g, status)
                                                 : exit_default(status);
        if (WIFSIGNALED(status))
                log_info("guest process %d ended: killed by signal %d (%s)", (int)pid,
                         WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
                log_info("guest process %d ended: exit code %d", (int)pid, WEXITSTATUS(status));
        guest_release(sv);

        static const char *const how_names[] = {"poweroff", "reboot", "crash"};
        const char *how_name = (unsigned)how < 3 ? how_names[how] : "crash";
        log_info("guest ended by %s%s%s", how_name,
                 sv->destroy_requested ? " (destroy requested)" : "",
                 sv->shutdown_requested ? " (shutdown requested)" : "");

        if (sv->destroy_requested) {
                guest_end(sv, sv->migrated ? GUEST_EVENT_ENDED_MIGRATED
                              : sv->saved  ? GUEST_EVENT_ENDED_SAVED
                                           : GUEST_EVENT_ENDED_DESTROYED);
                return 0;
        }
        if (sv->job.kind == JOB_MIGRATION_IN) {
                /* Before Finish the guest is the source's: never restarted
                 * here (migration.c fails the incoming side). */
                guest_end(sv, GUEST_EVENT_ENDED_CRASHED);
                return 0;
        }
        if (sv->reboot_requested && !sv->stopping) {
                sv->reboot_requested = false;
                guest_restart(sv, false);
                return 0;
        }
        if (sv->shutdown_requested || sv->stopping) {
                guest_end(sv, how == GUEST_EXIT_CRASH ? GUEST_EVENT_ENDED_CRASHED
                                                      : GUEST_EVENT_ENDED_SHUTDOWN);
                return 0;
        }
        if (how == GUEST_EXIT_POWEROFF && WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
            time(NULL) - sv->start_time < START_FAILED_WINDOW) {
                log_error("guest process %d exited with status %d right after its start: the "
                          "start failed (its console: %s.console.log)",
                          (int)pid, WEXITSTATUS(status), g->name);
                guest_end(sv, GUEST_EVENT_START_FAILED);
                return 0;
        }
        const struct domain_def *def = g->def;
        switch (how) {
        case GUEST_EXIT_POWEROFF:
                if (action_restarts(def->on_poweroff))
                        guest_restart(sv, false);
                else
                        guest_end(sv, GUEST_EVENT_ENDED_SHUTDOWN);
                break;
        case GUEST_EXIT_REBOOT:
                if (action_restarts(def->on_reboot))
                        guest_restart(sv, false);
                else
                        guest_end(sv, GUEST_EVENT_ENDED_SHUTDOWN);
                break;
        case GUEST_EXIT_CRASH:
        default:
                if (action_restarts(def->on_crash))
                        guest_restart(sv, true);
                else if (def->on_crash == DOMAIN_LIFECYCLE_PRESERVE)
                        (void)supervisor_transition(sv, GUEST_EVENT_CRASH_PRESERVED, NULL);
                else
                        guest_end(sv, GUEST_EVENT_ENDED_CRASHED);
                break;
        }
        return 0;
}

static int kill_now(struct supervisor *sv, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        _cleanup_error_ struct lv_error *e = NULL;
        if (sv->driver->destroy && sv->driver->destroy(g, &e) >= 0)
                return 0;
        if (e)
                log_warning("driver destroy failed: %s; sending SIGKILL", e->message);
        if (syscall(SYS_pidfd_send_signal, g->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                return lv_error_set(err, errno, "guest '%s': cannot kill process %d", g->name,
                                    (int)g->pid);
        return 0;
}

int supervisor_guest_destroy(struct supervisor *sv, struct lv_error **err)
{
        if (sv->g.state == GUEST_STATE_SHUTOFF)
                return state_error(sv, "", err);
        if (sv->g.pid <= 0) {
                /* Nothing runs (crashed, preserved): end it now. */
                guest_end(sv, GUEST_EVENT_ENDED_DESTROYED);
                return 0;
        }
        sv->destroy_requested = true;
        log_info("destroying the guest");
        return kill_now(sv, err);
}

static int on_shutdown_timeout(struct loop_source *s, void *data)
{
        struct supervisor *sv = data;
        if (sv->g.pid <= 0)
                return 0;
        log_warning("the guest did not shut down within %llu s: destroying it",
                    (unsigned long long)(sv->shutdown_timeout_usec / 1000000));
        _cleanup_error_ struct lv_error *e = NULL;
        if (supervisor_guest_destroy(sv, &e) < 0)
                log_error("%s", e->message);
        return 0;
}

int supervisor_guest_shutdown(struct supervisor *sv, uint64_t timeout_usec, struct lv_error **err)
{
        if (sv->g.state == GUEST_STATE_SHUTDOWN)
                return 0; /* already on its way */
        if (sv->g.state != GUEST_STATE_RUNNING)
                return state_error(sv, ", not running", err);
        if (!sv->driver->shutdown)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': the %s driver cannot shut a guest down",
                                     sv->g.name, sv->driver->name);
        int r = sv->driver->shutdown(&sv->g, err);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s': shutdown", sv->g.name);
        sv->shutdown_requested = true;
        if (timeout_usec == 0)
                timeout_usec = sv->shutdown_timeout_usec;
        sv->shutdown_timeout_usec = timeout_usec;
        if (!sv->shutdown_timer)
                r = loop_add_timer(sv->loop, timeout_usec, on_shutdown_timeout, sv,
                                   &sv->shutdown_timer, err);
        else
                r = loop_timer_set(sv->shutdown_timer, timeout_usec, err);
        if (r < 0)
                return r;
        /* The supervisor's job until the guest has ended (a SIGTERM during
         * a migration leaves that job in place). */
        if (sv->job.kind == JOB_NONE)
                (void)supervisor_job_begin(sv, JOB_SHUTDOWN, "waiting for the guest", NULL, NULL);
        log_info("shutting the guest down (timeout %llu s)",
                 (unsigned long long)(timeout_usec / 1000000));
        return supervisor_transition(sv, GUEST_EVENT_SHUTDOWN, err);
}

int supervisor_guest_reboot(struct supervisor *sv, struct lv_error **err)
{
        if (sv->g.state != GUEST_STATE_RUNNING)
                return state_error(sv, ", not running", err);
        log_info("rebooting the guest");
        if (sv->driver->reboot) {
                _cleanup_error_ struct lv_error *e = NULL;
                int r = sv->driver->reboot(&sv->g, &e);
                if (r >= 0)
                        return 0;
                if (e->code != LV_ERR_UNSUPPORTED)
                        return lv_error_setf(err, e->code == LV_ERR_STATE ? LV_ERR_STATE : EIO,
                                             "guest '%s': reboot: %s", sv->g.name, e->message);
                log_info("%s: restarting the guest instead", e->message);
        }
        /* No reboot in the driver: stop the guest and start it again. */
        sv->reboot_requested = true;
        int r = kill_now(sv, err);
        if (r < 0)
                sv->reboot_requested = false;
        return r;
}

int supervisor_guest_suspend(struct supervisor *sv, struct lv_error **err)
{
        if (sv->g.state != GUEST_STATE_RUNNING)
                return state_error(sv, ", not running", err);
        if (!sv->driver->suspend)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': the %s driver cannot suspend a guest", sv->g.name,
                                     sv->driver->name);
        int r = sv->driver->suspend(&sv->g, err);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s': suspend", sv->g.name);
        return supervisor_transition(sv, GUEST_EVENT_SUSPEND, err);
}

int supervisor_guest_setmem(struct supervisor *sv, unsigned long long kib, struct lv_error **err)
{
        struct domain_def *def = sv->g.def;
        if (sv->g.state != GUEST_STATE_RUNNING && sv->g.state != GUEST_STATE_PAUSED)
                return state_error(sv, ", not running", err);
        if (!sv->driver->setmem)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': the %s driver cannot change the memory of a "
                                     "running guest",
                                     sv->g.name, sv->driver->name);
        if (kib == 0)
                return lv_error_setf(err, EINVAL, "guest '%s': memory size must be above 0",
                                     sv->g.name);
        if (kib > def->memory_kib)
                return lv_error_setf(err, EINVAL,
                                     "guest '%s': cannot set memory higher than max memory "
                                     "(%llu KiB > %llu KiB)",
                                     sv->g.name, kib, def->memory_kib);
        int r = sv->driver->setmem(&sv->g, kib, err);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s': setmem", sv->g.name);
        def->current_memory_kib = kib;
        supervisor_definition_changed(sv);
        return 0;
}

void supervisor_definition_changed(struct supervisor *sv)
{
        _cleanup_error_ struct lv_error *e = NULL;
        if (supervisor_definition_record(sv, &e) < 0)
                log_warning("%s", e->message);
        lv_error_freep(&e);
        if (status_write(sv, &e) < 0)
                log_warning("%s", e->message);
}

int supervisor_guest_resume(struct supervisor *sv, struct lv_error **err)
{
        if (sv->g.state != GUEST_STATE_PAUSED)
                return state_error(sv, ", not paused", err);
        if (!sv->driver->resume)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': the %s driver cannot resume a guest", sv->g.name,
                                     sv->driver->name);
        int r = sv->driver->resume(&sv->g, err);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s': resume", sv->g.name);
        return supervisor_transition(sv, GUEST_EVENT_RESUME, err);
}

int supervisor_guest_stats(struct supervisor *sv, struct json_object *out, struct lv_error **err)
{
        if (!sv->driver->stats || sv->g.pid <= 0)
                return 0;
        int r = sv->driver->stats(&sv->g, out, err);
        return r < 0 ? lv_error_prefix(err, "guest '%s': statistics", sv->g.name) : 0;
}

void supervisor_stop(struct supervisor *sv)
{
        _cleanup_error_ struct lv_error *e = NULL;
        bool again = sv->stopping;
        sv->stopping = true;
        if (sv->job.kind == JOB_MIGRATION_IN) {
                /* the guest is the source's until Finish: give it up here
                 * (migration-incoming.c fails the migration, the source
                 * keeps the guest) */
                log_info("asked to stop during the incoming migration: abandoning it");
                loop_exit(sv->loop, 0);
                return;
        }
        if (sv->g.pid <= 0) {
                if (sv->g.state != GUEST_STATE_SHUTOFF)
                        guest_end(sv, GUEST_EVENT_ENDED_DESTROYED);
                return;
        }
        if (!again && sv->g.state == GUEST_STATE_RUNNING && sv->driver->shutdown) {
                log_info("asked to stop: shutting the guest down");
                if (supervisor_guest_shutdown(sv, 0, &e) >= 0)
                        return;
                log_warning("%s", e->message);
                lv_error_freep(&e);
        }
        if (again || sv->g.state != GUEST_STATE_SHUTDOWN) {
                log_info("asked to stop: destroying the guest");
                if (supervisor_guest_destroy(sv, &e) < 0)
                        log_error("%s", e->message);
        }
}
