/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* litevirt-supervisor: one process per running guest (docs/supervisor.md).
 *
 *   litevirt-supervisor [--ready-fd N] NAME    detach, report on fd N
 *   litevirt-supervisor --foreground NAME      for init systems (sd_notify)
 *   litevirt-supervisor --incoming             a migrating guest arrives on
 *                                              stdin/stdout (migration.h)
 *   litevirt-supervisor --restore FILE [NAME]  start from a save image (save.c)
 *   litevirt-supervisor --managed-save NAME    ... from NAME's managed save
 */
#include <getopt.h>
#include <json-c/json.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "config.h"
#include "conf/host_conf.h"
#include "conf/xml.h"
#include "lib/client-internal.h"
#include "supervisor/migration.h"
#include "supervisor/supervisor.h"
#include "util/fileio.h"
#include "util/daemon.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/paths.h"

struct options {
        const char *name;
        bool foreground;
        int ready_fd;
        const char *config;
        bool debug;
        bool timeout_set; /* --shutdown-timeout given: host.conf does not override */
        bool incoming;
        const char *restore;           /* --restore FILE */
        bool managed_save;             /* --managed-save */
        int restore_running;           /* --running 1, --paused 0, else -1 */
        const char *offline_transport; /* --migrate-offline */
        bool undefine_source;
        uint64_t shutdown_timeout_usec;
        const char *definition; /* --definition: a transient guest's (lvsh create) */
};

static void usage(FILE *f)
{
        fprintf(f, "Usage: litevirt-supervisor [OPTIONS] NAME\n\n"
                   "Runs guest NAME (defined in $LITEVIRT_GUESTDIR/NAME.xml) and answers its\n"
                   "control socket $LITEVIRT_RUNDIR/NAME/control.sock. Normally started by\n"
                   "`lvsh start NAME`.\n\n"
                   "  --foreground           stay in the foreground, log to stderr too, and\n"
                   "                         report readiness over $NOTIFY_SOCKET (systemd)\n"
                   "  --ready-fd N           write the line \"ok\" (or the start error) to fd N,\n"
                   "                         then close it (s6's notification-fd)\n"
                   "  --shutdown-timeout S   seconds a graceful shutdown may take (default:\n"
                   "                         host.conf shutdown_timeout, 300)\n"
                   "  --config FILE          host configuration (host.conf)\n"
                   "  --incoming             receive a migrating guest: the migration source\n"
                   "                         talks on stdin/stdout (no NAME)\n"
                   "  --restore FILE         start the guest from a save image (lvsh restore;\n"
                   "                         NAME, if given, must be the image's guest)\n"
                   "  --managed-save         start NAME from its managed save, then remove it\n"
                   "  --running, --paused    the state after a restore (default: as saved)\n"
                   "  --migrate-offline TRANSPORT [--undefinesource]\n"
                   "                         define guest NAME, which does not run, on the\n"
                   "                         host TRANSPORT reaches (lvsh migrate --offline)\n"
                   "  --debug                log debug messages\n"
                   "  --definition FILE      run with the definition in FILE instead of the\n"
                   "                         stored one (a transient guest: lvsh create);\n"
                   "                         XML, or the model as JSON as lvsh create writes it\n"
                   "                         (XML only with --restore)\n"
                   "                         (with --paused and no --restore: the guest's\n"
                   "                         CPUs are left stopped; with --restore: the\n"
                   "                         image's guest with this definition)\n"
                   "  --version, --help\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
        enum {
                OPT_READY_FD = 256,
                OPT_CONFIG,
                OPT_INCOMING,
                OPT_TIMEOUT,
                OPT_DEBUG,
                OPT_VERSION,
                OPT_RESTORE,
                OPT_MANAGED_SAVE,
                OPT_RUNNING,
                OPT_DEFINITION,
                OPT_PAUSED,
                OPT_OFFLINE,
                OPT_UNDEFINE,
        };
        static const struct option longopts[] = {
                {"foreground", no_argument, NULL, 'f'},
                {"ready-fd", required_argument, NULL, OPT_READY_FD},
                {"config", required_argument, NULL, OPT_CONFIG},
                {"incoming", no_argument, NULL, OPT_INCOMING},
                {"shutdown-timeout", required_argument, NULL, OPT_TIMEOUT},
                {"debug", no_argument, NULL, OPT_DEBUG},
                {"version", no_argument, NULL, OPT_VERSION},
                {"help", no_argument, NULL, 'h'},
                {"restore", required_argument, NULL, OPT_RESTORE},
                {"managed-save", no_argument, NULL, OPT_MANAGED_SAVE},
                {"running", no_argument, NULL, OPT_RUNNING},
                {"paused", no_argument, NULL, OPT_PAUSED},
                {"migrate-offline", required_argument, NULL, OPT_OFFLINE},
                {"undefinesource", no_argument, NULL, OPT_UNDEFINE},
                {"definition", required_argument, NULL, OPT_DEFINITION},
                {},
        };
        int c;
        char *end;
        while ((c = getopt_long(argc, argv, "fh", longopts, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        o->foreground = true;
                        break;
                case OPT_READY_FD:
                        errno = 0;
                        long fd = strtol(optarg, &end, 10);
                        if (*end || errno || fd < 3 || fd > 65535 || fcntl((int)fd, F_GETFD) < 0) {
                                fprintf(stderr,
                                        "error: --ready-fd '%s': not an open file descriptor\n",
                                        optarg);
                                return -1;
                        }
                        o->ready_fd = (int)fd;
                        (void)fcntl(o->ready_fd, F_SETFD, FD_CLOEXEC);
                        break;
                case OPT_CONFIG:
                        if (access(optarg, R_OK) < 0) {
                                fprintf(stderr, "error: --config '%s': %s\n", optarg,
                                        strerror(errno));
                                return -1;
                        }
                        o->config = optarg;
                        /* for everything that loads host.conf (drivers,
                         * leases, migration) */
                        setenv("LITEVIRT_HOST_CONF", optarg, 1);
                        break;
                case OPT_INCOMING:
                        o->incoming = true;
                        break;
                case OPT_TIMEOUT:
                        errno = 0;
                        long t = strtol(optarg, &end, 10);
                        if (*end || errno || t <= 0 || t > 24 * 3600) {
                                fprintf(stderr,
                                        "error: --shutdown-timeout '%s': not a number of "
                                        "seconds (1..86400)\n",
                                        optarg);
                                return -1;
                        }
                        o->shutdown_timeout_usec = (uint64_t)t * 1000000ULL;
                        o->timeout_set = true;
                        break;
                case OPT_DEBUG:
                        o->debug = true;
                        break;
                case OPT_RESTORE:
                        o->restore = optarg;
                        break;
                case OPT_MANAGED_SAVE:
                        o->managed_save = true;
                        break;
                case OPT_RUNNING:
                case OPT_PAUSED:
                        o->restore_running = c == OPT_RUNNING;
                        break;
                case OPT_OFFLINE:
                        o->offline_transport = optarg;
                        break;
                case OPT_UNDEFINE:
                        o->undefine_source = true;
                        break;
                case OPT_DEFINITION:
                        if (optarg[0] != '/') {
                                fprintf(stderr, "error: --definition '%s': not an absolute path\n",
                                        optarg);
                                return -1;
                        }
                        o->definition = optarg;
                        break;
                case OPT_VERSION:
                        printf("litevirt-supervisor %s\n", LV_VERSION);
                        exit(0);
                case 'h':
                        usage(stdout);
                        exit(0);
                default:
                        usage(stderr);
                        return -1;
                }
        }
        if ((o->incoming || o->restore) && optind == argc)
                return 0; /* the name comes with the guest */
        if (o->restore && o->managed_save) {
                fprintf(stderr, "error: --restore and --managed-save exclude each other\n");
                return -1;
        }
        if (optind != argc - 1) {
                usage(stderr);
                return -1;
        }
        o->name = argv[optind];
        if (!*o->name || strchr(o->name, '/') || streq(o->name, ".") || streq(o->name, "..") ||
            strlen(o->name) > DOMAIN_NAME_MAX) {
                fprintf(stderr, "error: invalid guest name '%s'\n", o->name);
                return -1;
        }
        return 0;
}

/* Tell whoever started us (lvsh start, s6) the outcome: "ok" or the error.
 * On success the fd is closed at once: lvsh returns while we run on. On
 * failure it stays open until this process exits (the kernel closes it),
 * so lvsh's read sees EOF only once every undo is done and nothing of the
 * guest is left, this process included ("start fails leaving nothing
 * behind"). */
static void report_ready(struct supervisor *sv, const char *msg, bool failed)
{
        if (sv->ready_fd < 0)
                return;
        /* Success is one line with its newline (s6's notification-fd: a
         * newline means ready); an error carries no newline at all, so
         * that s6 never takes it for readiness (lvsh reads until EOF). */
        _cleanup_free_ char *line = failed ? xstrdup(msg) : xasprintf("%s\n", msg);
        if (failed)
                for (char *c = line; (c = strchr(c, '\n'));)
                        *c = ' ';
        size_t n = strlen(line);
        const char *p = line;
        while (n > 0) {
                ssize_t w = write(sv->ready_fd, p, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        break;
                p += w;
                n -= (size_t)w;
        }
        if (failed)
                return;
        close(sv->ready_fd);
        sv->ready_fd = -1;
}

static int on_stop_signal(struct loop_source *s, const struct signalfd_siginfo *si, void *data)
{
        struct supervisor *sv = data;
        log_info("received %s from pid %u", strsignal((int)si->ssi_signo), si->ssi_pid);
        supervisor_notify(sv, "STOPPING=1\nSTATUS=Stopping the guest");
        supervisor_stop(sv);
        return 0;
}

static int on_ignored_signal(struct loop_source *s, const struct signalfd_siginfo *si, void *data)
{
        log_debug("ignoring %s", strsignal((int)si->ssi_signo));
        return 0;
}

static int write_pid_file(const char *name, struct lv_error **err)
{
        _cleanup_free_ char *path = paths_state_file(name, "supervisor.pid");
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
        return file_write_replace(path, buf, (size_t)n, 0644, err);
}

static int open_log(const char *name, struct lv_error **err)
{
        int r = mkdir_p(paths_logdir(), 0755, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = paths_guest_log(name);
        r = log_open_file(path, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *link = paths_state_file(name, "log");
        (void)unlink(link);
        (void)!symlink(path, link);
        return 0;
}

/* Everything up to a running guest. On failure the state directory is
 * gone again. */
/* host.conf (--config, else $LITEVIRT_CONFDIR/host.conf when it exists):
 * the shutdown timeout and the control socket's group. */
static int load_host_conf(struct supervisor *sv, const struct options *o, struct lv_error **err)
{
        struct host_conf hc;
        host_conf_init(&hc);
        int r = host_conf_load(o->config, &hc, err);
        if (r >= 0) {
                if (!o->timeout_set && hc.shutdown_timeout > 0)
                        sv->shutdown_timeout_usec = (uint64_t)hc.shutdown_timeout * 1000000ULL;
                if (hc.socket_group)
                        sv->socket_group = xstrdup(hc.socket_group);
                if (hc.socket_readonly_group)
                        sv->socket_readonly_group = xstrdup(hc.socket_readonly_group);
        }
        host_conf_clear(&hc);
        return r;
}

static int supervisor_setup(struct supervisor *sv, const struct options *o, struct lv_error **err)
{
        /* The definition is parsed in a child (definition.c) while the
         * state directory, pid file, log and host.conf are set up. */
        _cleanup_(supervisor_definition_abandon) struct definition_job job = {.pid = -1, .fd = -1};
        int r = 0;
        sv->exit_status = SUPERVISOR_EXIT_CONFIG;
        /* No stored definition is fine for a guest that runs (transient,
         * undefined while running): its own definition is in its state
         * directory (below). */
        _cleanup_free_ char *stored = paths_guest_xml(o->name);
        if (!sv->g.def && (o->definition || access(stored, F_OK) == 0) &&
            (r = supervisor_definition_begin(o->name, o->definition, &job, err)) < 0)
                return r;
        r = load_host_conf(sv, o, err);
        if (r < 0)
                return r;
        /* the socket's groups come from host.conf: a bad name is a
         * configuration error */
        mode_t dir_mode;
        gid_t dir_group;
        r = control_statedir_mode(sv, &dir_mode, &dir_group, err);
        if (r < 0)
                return r;
        sv->exit_status = SUPERVISOR_EXIT_FAILURE;
        r = statedir_acquire(o->name, dir_mode, dir_group, &sv->dir_fd, err);
        if (r == -EBUSY)
                sv->exit_status = SUPERVISOR_EXIT_BUSY;
        if (r < 0)
                return r;
        _cleanup_free_ char *status = paths_state_file(o->name, "status.json");
        _cleanup_free_ char *sock = paths_state_file(o->name, "control.sock");
        _cleanup_free_ char *busy = NULL;
        bool reattach = false;
        if (access(status, F_OK) == 0 || access(sock, F_OK) == 0) {
                /* Left by a supervisor that died. */
                lv_client_error *ce = NULL;
                r = lv_guest_cleanup_stale_locked(o->name, false, &ce);
                if (r == -EBUSY) {
                        /* Its hypervisor process still runs: the driver may
                         * take it over (driver->reattach, below). */
                        reattach = true;
                        if (!o->config)
                                status_adopt_host_conf(o->name);
                        busy = xstrdup(ce->message);
                        lv_client_error_free(ce);
                } else if (r < 0) {
                        /* Keep what the dead supervisor left: it describes
                         * a guest process that still runs. */
                        close(sv->dir_fd);
                        sv->dir_fd = -1;
                        r = lv_error_setf(err, -r, "%s", ce->message);
                        lv_client_error_free(ce);
                        return r;
                }
        }
        if ((r = write_pid_file(o->name, err)) < 0 || (r = open_log(o->name, err)) < 0)
                return r;
        log_info("supervisor %s (pid %d) starting guest '%s'", LV_VERSION, (int)getpid(), o->name);
        sv->exit_status = SUPERVISOR_EXIT_CONFIG;
        if (!sv->g.def && reattach) {
                /* The guest runs with the definition it started with, not
                 * what is stored now (edited, undefined or unreadable). */
                _cleanup_error_ struct lv_error *e = NULL;
                r = supervisor_definition_load_running(o->name, &sv->g.def, &e);
                if (r < 0 && r != -ENOENT) {
                        close(sv->dir_fd); /* keep what describes the running guest */
                        sv->dir_fd = -1;
                        *err = TAKE_PTR(e);
                        return r;
                }
                if (r >= 0)
                        supervisor_definition_abandon(&job);
        }
        if (!sv->g.def && job.pid < 0 && !job.cached) {
                if (reattach) {
                        close(sv->dir_fd);
                        sv->dir_fd = -1;
                }
                return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'", o->name);
        }
        if (!sv->g.def && (r = supervisor_definition_finish(&job, &sv->g.def, err)) < 0)
                return r;
        sv->g.name = sv->g.def->name;
        sv->driver = driver_for_type(sv->g.def->type, err);
        if (!sv->driver)
                return -EOPNOTSUPP;
        sv->exit_status = SUPERVISOR_EXIT_FAILURE;
        if (reattach && !sv->driver->reattach) {
                /* Keep what the dead supervisor left (see above). */
                close(sv->dir_fd);
                sv->dir_fd = -1;
                return lv_error_setf(err, EBUSY, "%s", busy);
        }
        if ((r = supervisor_definition_record(sv, err)) < 0)
                return r;
        if ((r = control_new(sv, sock, &sv->control, err)) < 0)
                return r;
        if (reattach)
                return supervisor_guest_reattach(sv, err);
        /* --paused without --restore: lvsh create --paused */
        bool paused = !o->restore && !o->managed_save && o->restore_running == 0;
        sv->g.start_paused = paused;
        r = supervisor_guest_start(sv, err);
        /* QEMU never ran the CPUs (start_paused); other drivers stop the
         * guest now, before anyone is told it runs. */
        if (r >= 0 && paused)
                r = supervisor_guest_suspend(sv, err);
        return r;
}

int main(int argc, char **argv)
{
        struct options o = {.ready_fd = -1,
                            .restore_running = -1,
                            .shutdown_timeout_usec = SUPERVISOR_SHUTDOWN_TIMEOUT_USEC};
        if (parse_args(argc, argv, &o) < 0)
                return SUPERVISOR_EXIT_USAGE;
        _cleanup_error_ struct lv_error *err = NULL;
        struct supervisor sv = {
                .g = {.name = o.name, .pidfd = -1, .console_fd = -1},
                .dir_fd = -1,
                .ready_fd = o.ready_fd,
                .foreground = o.foreground,
                .notify = o.foreground && getenv("NOTIFY_SOCKET"),
                .shutdown_timeout_usec = o.shutdown_timeout_usec,
        };
        log_set_ident(o.name ? o.name : "incoming");
        if (o.debug)
                log_set_level(LOG_LEVEL_DEBUG);
        signal(SIGPIPE, SIG_IGN);
        umask(022);
        /* Each control client is a descriptor: take all the caller's hard
         * limit allows (guests get their own limits, see their drivers). */
        struct rlimit nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
                nofile.rlim_cur = nofile.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &nofile);
        }

        if (o.offline_transport) {
                /* a one-shot source: no state, no guest, no event loop */
                struct migration_params p = {.transport = o.offline_transport,
                                             .persistent = true,
                                             .undefine_source = o.undefine_source};
                _cleanup_free_ char *summary = NULL;
                if (migration_offline_run(o.name, &p, &summary, &err) < 0) {
                        fprintf(stderr, "error: %s\n", err->message);
                        return SUPERVISOR_EXIT_FAILURE;
                }
                printf("%s\n", summary);
                return SUPERVISOR_EXIT_OK;
        }
        int r = 0;
        struct migration_incoming *mi = NULL;
        struct save_restore *rs = NULL;
        if (o.restore || o.managed_save) {
                if (!o.foreground) /* errors go to lvsh through the ready fd */
                        log_to_stderr(false);
                /* the image checked (and its definition read) before
                 * anything is set up: a damaged one starts nothing */
                r = supervisor_restore_begin(&sv, o.restore, o.name, o.definition,
                                             o.restore_running, &rs, &err);
                if (r >= 0)
                        o.name = sv.g.def->name;
                if (r >= 0 && !o.foreground)
                        r = daemon_detach(&err);
                if (r >= 0)
                        r = supervisor_restore_verify(rs, &err);
        } else if (o.incoming) {
                /* stdin/stdout are the channel to the source: no detaching
                 * until the guest has arrived. */
                r = migration_incoming_begin(&sv, 0, 1, &mi, &err);
                if (r >= 0 && migration_incoming_done(mi)) {
                        /* offline: the definition is stored, nothing runs */
                        migration_incoming_free(mi);
                        domain_def_free(sv.g.def);
                        return SUPERVISOR_EXIT_OK;
                }
                if (r >= 0)
                        o.name = sv.g.def->name;
        } else if (!o.foreground) {
                log_to_stderr(false);
                r = daemon_detach(&err);
        }
        struct loop_source *sigs[3] = {0};
        if (r >= 0)
                r = loop_new(&sv.loop, &err);
        sv.g.loop = sv.loop; /* drivers watch their fds on it (driver.h) */
        sv.g.status_record = supervisor_status_record;
        sv.g.disk_released = supervisor_disk_released;
        sv.g.block_job_ended = supervisor_block_job_ended;
        sv.g.net_released = supervisor_net_released;
        sv.g.vcpu_released = supervisor_vcpu_released;
        if (r >= 0)
                r = loop_add_signal(sv.loop, SIGTERM, on_stop_signal, &sv, &sigs[0], &err);
        if (r >= 0)
                r = loop_add_signal(sv.loop, SIGINT, on_stop_signal, &sv, &sigs[1], &err);
        if (r >= 0)
                r = loop_add_signal(sv.loop, SIGHUP, on_ignored_signal, &sv, &sigs[2], &err);
        if (r >= 0)
                r = supervisor_setup(&sv, &o, &err);
        if (r >= 0 && ((mi && (r = migration_incoming_finish(&sv, mi, &err)) < 0) ||
                       (rs && (r = supervisor_restore_finish(&sv, rs, &err)) < 0))) {
                /* The guest stays on the source (or in its save image):
                 * nothing may be left here. */
                if (sv.driver && sv.driver->destroy)
                        (void)sv.driver->destroy(&sv.g, NULL);
                console_unwatch(&sv);
                loop_source_freep(&sv.pidfd_source);
                guest_undo_run(&sv.g);
        }
        sv.g.incoming = NULL; /* mi's, freed below */
        if (r < 0 && mi)
                migration_incoming_fail(mi, err);
        migration_incoming_free(TAKE_PTR(mi));
        supervisor_restore_free(TAKE_PTR(rs));
        if (r < 0) {
                const char *msg = err ? err->message : strerror(-r);
                log_error("%s", msg);
                /* Nothing may be left once `lvsh start` hears of the failure. */
                control_free(sv.control);
                if (sv.dir_fd >= 0)
                        (void)statedir_remove(&sv, NULL);
                report_ready(&sv, msg, true);
                fault_point("after-failure-report");
                if (sv.notify) {
                        _cleanup_free_ char *st = xasprintf("STATUS=Failed: %s\nERRNO=%d", msg,
                                                            err ? -lv_error_errno(err) : -r);
                        supervisor_notify(&sv, st);
                }
        } else {
                report_ready(&sv, "ok", false);
                /* The supervisor lives long and parses nothing more: drop
                 * libxml2 and what it allocated (docs/supervisor.md,
                 * memory) — after the report, off `lvsh start`'s path. */
                conf_xml_unload();
                malloc_trim(0);
                sv.exit_status = SUPERVISOR_EXIT_OK;
                _cleanup_free_ char *st = xasprintf("READY=1\nMAINPID=%d", (int)getpid());
                supervisor_notify(&sv, st);
                supervisor_notify_state(&sv);
                if (supervisor_watchdog_start(&sv, &err) < 0)
                        log_warning("%s", err->message);
                r = loop_run(sv.loop);
                if (r < 0)
                        log_error("event loop failed: %s", strerror(-r));
                else if (sv.g.state == GUEST_STATE_SHUTOFF &&
                         sv.g.state_reason == REASON_SHUTOFF_CRASHED && !sv.stopping &&
                         !sv.shutdown_requested)
                        sv.exit_status = SUPERVISOR_EXIT_CRASHED;
                else if (sv.g.state == GUEST_STATE_SHUTOFF &&
                         sv.g.state_reason == REASON_SHUTOFF_FAILED)
                        sv.exit_status = SUPERVISOR_EXIT_FAILURE; /* a restart failed */
                control_free(sv.control);
                log_info("supervisor exiting");
        }
        sv.control = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                loop_source_free(sigs[i]);
        console_ring_free(&sv.console_ring);
        loop_source_free(sv.shutdown_timer);
        loop_source_free(sv.watchdog_timer);
        loop_source_free(sv.pidfd_source);
        loop_free(sv.loop);
        domain_def_free(sv.g.def);
        json_object_put(sv.completed_job);
        json_object_put(sv.block_job_last);
        free(sv.socket_group);
        free(sv.socket_readonly_group);
        free(sv.g.undo);
        if (sv.dir_fd >= 0)
                close(sv.dir_fd);
        log_close_file();
        if (r < 0)
                return sv.exit_status ? sv.exit_status : SUPERVISOR_EXIT_FAILURE;
        return sv.exit_status;
}
