/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QEMU driver: start qemu-system-x86_64 paused in the guest's cgroup
 * and its own mount namespace (private minimal /dev), finish the set-up
 * over QMP (passwords, console pty) and `cont`, pipelined behind
 * qmp_capabilities; then lifecycle operations over QMP.
 *
 * Every step of start registers its undo (guest_undo_push), so a failed
 * start and the end of the guest leave nothing: no process, cgroup, port,
 * socket. */
#include <dirent.h>
#include <json-c/json.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>

#include "conf/host_conf.h"
#include "netns/guest_net.h"
#include "netns/netns.h"
#include "qemu/command.h"
#include "qemu/driver_priv.h"
#include "qemu/log.h"
#include "qemu/migration-storage.h"
#include "qemu/migration.h"
#include "qemu/ports.h"
#include "qemu/qmp.h"
#include "cgroup/cgroup.h"
#include "driver-support/driver.h"
#include "supervisor/lifecycle.h"
#include "driver-support/loop.h"
#include "util/fault.h"
#include "util/fileio.h"
#include "util/log.h"
#include "qemu/cpu_probe.h"
#include "util/paths.h"
#include "util/strbuf.h"

/* ---- host checks ---- */

/* The host QEMU's CPU offer, asked only for a guest that names a CPU
 * model or features (*ret stays NULL otherwise), and checked against. */
static int qemu_cpu_caps(const struct domain_def *def, struct qemu_cpu_caps **ret,
                         struct lv_error **err)
{
        *ret = NULL;
        if (!def->cpu.model && !def->cpu.n_features)
                return 0;
        const char *emu = def->emulator ? def->emulator : "/usr/bin/qemu-system-x86_64";
        if (qemu_cpu_caps_get(emu, def->type == DOMAIN_TYPE_KVM, ret, err) < 0)
                return -1;
        return qemu_command_cpu_check(def, *ret, err);
}

static int qemu_check(const struct domain_def *def, struct lv_error **err)
{
        if (def->type == DOMAIN_TYPE_KVM) {
                _cleanup_close_ int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
                if (fd < 0)
                        return lv_error_set(err, errno,
                                            "domain type 'kvm' needs /dev/kvm (use type='qemu' "
                                            "for emulation)");
                /* the node may exist on a CPU without vmx/svm */
                int vm = ioctl(fd, 0xAE01 /* KVM_CREATE_VM */, 0);
                if (vm < 0)
                        return lv_error_set(err, errno,
                                            "domain type 'kvm': this host cannot run KVM guests "
                                            "(no hardware virtualization?); use type='qemu'");
                close(vm);
        }
        struct host_conf hc;
        host_conf_init(&hc);
        int r = host_conf_load(NULL, &hc, err);
        _cleanup_free_ char *tls_dir = qemu_spice_tls_dir(&hc);
        host_conf_clear(&hc);
        if (r < 0)
                return r;
        struct qemu_command_opts opts = {.qmp_path = "/", .qmp_fd = -1, .spice_tls_dir = tls_dir};
        /* the pure checks of the command-line builder, with placeholder
         * ports, so that `start` fails before anything is set up */
        struct qemu_graphics_ports gp[QEMU_PREVIEW_MAX_GRAPHICS];
        int fds[16];
        for (int i = 0; i < 16; i++)
                fds[i] = 100 + i;
        qemu_command_preview_ports(def, tls_dir != NULL, gp);
        opts.graphics = gp;
        opts.n_graphics = def->n_graphics < 8 ? def->n_graphics : 8;
        opts.net_fds = fds;
        opts.n_net_fds = 16;
        _cleanup_strv_free_ char **argv = NULL;
        if ((r = qemu_command_build(def, &opts, &argv, err)) < 0 ||
            (r = qemu_spice_tls_check(def, err)) < 0)
                return r;
        bool taps = false;
        for (int i = 0; i < def->n_nets; i++)
                taps |= def->nets[i].type != DOMAIN_NET_USER;
        if (taps) {
                _cleanup_nl_ struct netns_nl *nl = NULL;
                if ((r = netns_nl_open(&nl, err)) < 0 ||
                    (r = netns_guest_check(def, nl, NULL, err)) < 0)
                        return r;
        }
        const char *emu = def->emulator ? def->emulator : "/usr/bin/qemu-system-x86_64";
        if (access(emu, X_OK) < 0)
                return lv_error_set(err, errno, "emulator '%s'", emu);
        if (def->os.kernel && access(def->os.kernel, R_OK) < 0)
                return lv_error_set(err, errno, "kernel '%s'", def->os.kernel);
        if (def->os.initrd && access(def->os.initrd, R_OK) < 0)
                return lv_error_set(err, errno, "initrd '%s'", def->os.initrd);
        for (int i = 0; i < def->n_disks; i++)
                if (def->disks[i].source && access(def->disks[i].source, R_OK) < 0)
                        return lv_error_set(err, errno, "disk '%s': source '%s'",
                                            def->disks[i].target_dev, def->disks[i].source);
        _cleanup_qemu_cpu_caps_ struct qemu_cpu_caps *caps = NULL;
        return qemu_cpu_caps(def, &caps, err);
}

/* ---- undo steps ---- */

void qemu_undo_driver_data(struct lv_guest *g, void *data)
{
        if (g->driver_data == data)
                g->driver_data = NULL;
}

static void qemu_guest_free(void *data)
{
        qemu_hotplug_clear(data);
        qemu_block_job_free(data);
        free(data);
}

static int migration_record(struct lv_guest *g, struct lv_error **err)
{
        return qemu_write_info(g, g->driver_data, err);
}

static int migration_grant_read(struct lv_guest *g, const char *path, struct lv_error **err)
{
        return qemu_confine_grant_read(g, g->driver_data, path, err);
}

static void migration_forget(struct lv_guest *g, const char *path)
{
        qemu_confine_forget_overlay(g, g->driver_data, path);
}

static const struct qemu_migration_driver migration_driver = {
        .record = migration_record,
        .grant_read = migration_grant_read,
        .forget = migration_forget,
};

struct qemu_guest *qemu_guest_new(struct lv_guest *g)
{
        struct qemu_guest *qg = xcalloc(1, sizeof(*qg));
        qg->proc_pidfd = -1;
        for (int i = 0; i < QEMU_MAX_LEASES; i++)
                qg->leases[i].lock_fd = -1;
        qg->mig.port.lock_fd = -1;
        qg->mig.nbd_port.lock_fd = -1;
        qg->mig.driver = &migration_driver;
        g->driver_data = qg;
        guest_undo_push(g, "qemu driver state", qemu_undo_driver_data, qg, qemu_guest_free);
        return qg;
}

void qemu_undo_ports(struct lv_guest *g, void *data)
{
        struct qemu_guest *qg = data;
        for (int i = 0; i < qg->n_leases; i++)
                ports_release(&qg->leases[i]);
        qg->n_leases = 0;
        for (int i = 0; i < 8; i++) {
                free(qg->listen[i]);
                qg->listen[i] = NULL;
        }
        free(qg->spice_tls_dir);
        qg->spice_tls_dir = NULL;
}

static void undo_cgroup(struct lv_guest *g, void *data)
{
        struct qemu_guest *qg = data;
        struct lv_error *e = NULL;
        if (qg->cg && cgroup_guest_destroy(qg->cg, &e) < 0) {
                log_error("guest '%s': %s", g->name, e->message);
                lv_error_free(e);
        }
        cgroup_free(qg->cg);
        qg->cg = NULL;
        free(g->cgroup_path);
        g->cgroup_path = NULL;
}

static void undo_process(struct lv_guest *g, void *data)
{
        struct qemu_guest *qg = data;
        if (qg->proc_pidfd < 0)
                return;
        if (syscall(SYS_pidfd_send_signal, qg->proc_pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                log_warning("guest '%s': killing QEMU %d: %s", g->name, (int)qg->pid,
                            strerror(errno));
        siginfo_t si;
        /* reap it unless the core did already */
        (void)waitid((idtype_t)P_PIDFD, (id_t)qg->proc_pidfd, &si, WEXITED | WNOHANG);
        close(qg->proc_pidfd);
        qg->proc_pidfd = -1;
}

void qemu_undo_qmp(struct lv_guest *g, void *data)
{
        struct qemu_guest *qg = data;
        loop_source_freep(&qg->quit_timer);
        loop_source_freep(&qg->qmp_source);
        qmp_free(qg->qmp);
        qg->qmp = NULL;
}

static void undo_files(struct lv_guest *g, void *data)
{
        _cleanup_free_ char *sock = paths_state_file(g->name, "qmp.sock");
        _cleanup_free_ char *info = paths_state_file(g->name, "qemu.json");
        _cleanup_free_ char *dev = paths_state_file(g->name, "dev");
        unlink(sock);
        unlink(info);
        rmdir(dev);
}

/* A listening unix socket at path (what: "QMP", "channel '...'"), for QEMU
 * to accept on. */
static int unix_listen(const char *path, const char *what, int *ret, struct lv_error **err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return lv_error_setf(err, ENAMETOOLONG, "%s socket path '%s' is too long", what,
                                     path);
        strcpy(sa.sun_path, path);
        unlink(path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return lv_error_set(err, errno, "%s socket", what);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
                return lv_error_set(err, errno, "%s socket '%s'", what, path);
        *ret = TAKE_FD(fd);
        return 0;
}

/* An array of fds ending with FDS_END; -1 entries are skipped. */
#define FDS_END (-2)
static void fds_closep(int **p)
{
        if (!*p)
                return;
        for (int *f = *p; *f != FDS_END; f++)
                if (*f >= 0)
                        close(*f);
        free(*p);
}

static void undo_channel_socket(struct lv_guest *g, void *data)
{
        (void)g;
        unlink(data);
}

void qemu_channels_reattach(struct lv_guest *g)
{
        for (int i = 0; i < g->def->n_channels; i++) {
                const struct domain_channel *ch = &g->def->channels[i];
                if (ch->type == DOMAIN_CHANNEL_UNIX && ch->source_path)
                        guest_undo_push(g, "channel socket", undo_channel_socket,
                                        xstrdup(ch->source_path), free);
        }
}

/* The unix channels' sockets (qemu/command.h, channel_fds): each bound
 * here, at its source path or, without one, in the guest's state
 * directory, which the running definition then names (the guest agent's
 * socket is found there). The fds end with FDS_END. */
static int listen_channels(struct lv_guest *g, int **ret, struct lv_error **err)
{
        struct domain_def *def = g->def;
        int *fds = xcalloc((size_t)def->n_channels + 1, sizeof(int));
        fds[def->n_channels] = FDS_END;
        for (int i = 0; i < def->n_channels; i++)
                fds[i] = -1;
        *ret = fds;
        for (int i = 0; i < def->n_channels; i++) {
                struct domain_channel *ch = &def->channels[i];
                if (ch->type != DOMAIN_CHANNEL_UNIX)
                        continue;
                if (!ch->source_path) {
                        _cleanup_free_ char *file = qemu_command_channel_file(def, i);
                        ch->source_path = paths_state_file(g->name, file);
                }
                _cleanup_free_ char *what = xasprintf(
                        "channel '%s'", ch->target_name ? ch->target_name : ch->source_path);
                int fd = -1;
                int r = unix_listen(ch->source_path, what, &fd, err);
                if (r < 0)
                        return lv_error_prefix(err, "guest '%s'", g->name);
                guest_undo_push(g, "channel socket", undo_channel_socket, xstrdup(ch->source_path),
                                free);
                /* above the fds the child renumbers, as the taps */
                fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, 10);
                close(fd);
                if (fds[i] < 0)
                        return lv_error_set(err, errno, "guest '%s': %s", g->name, what);
        }
        return 0;
}

static void undo_console(struct lv_guest *g, void *data)
{
        if (g->console_fd >= 0)
                close(g->console_fd);
        g->console_fd = -1;
        free(g->console_path);
        g->console_path = NULL;
}

/* ---- graphics ports ---- */

static const char *graphics_listen(const struct domain_graphics *gr)
{
        for (int l = 0; l < gr->n_listens; l++)
                if (gr->listens[l].address)
                        return gr->listens[l].address;
        return gr->listen ? gr->listen : "127.0.0.1";
}

/* One display's port: a given one, else allocated from the range */
static int reserve_port(struct qemu_guest *qg, const char *dir, const char *what, int given,
                        int min, int max, const char *listen, int *ret, struct lv_error **err)
{
        struct port_lease *l = &qg->leases[qg->n_leases];
        int r = given > 0 ? ports_reserve_exact(dir, what, given, listen, true, l, err)
                          : ports_reserve(dir, what, min, max, listen, l, err);
        if (r < 0)
                return r;
        qg->n_leases++;
        *ret = l->port;
        return 0;
}

static int reserve_graphics(struct lv_guest *g, struct qemu_guest *qg, struct lv_error **err)
{
        const struct domain_def *def = g->def;
        struct host_conf hc;
        host_conf_init(&hc);
        int r = host_conf_load(NULL, &hc, err);
        if (r < 0) {
                host_conf_clear(&hc);
                return r;
        }
        qg->spice_tls_dir = qemu_spice_tls_dir(&hc);
        _cleanup_free_ char *dir = ports_dir();
        guest_undo_push(g, "graphics ports", qemu_undo_ports, qg, NULL);
        qg->n_gports = def->n_graphics < 8 ? def->n_graphics : 8;
        for (int i = 0; i < qg->n_gports && r >= 0; i++) {
                const struct domain_graphics *gr = &def->graphics[i];
                bool vnc = gr->type == DOMAIN_GRAPHICS_VNC;
                const char *listen = graphics_listen(gr);
                int min = vnc ? hc.vnc_port_min : hc.spice_port_min;
                int max = vnc ? hc.vnc_port_max : hc.spice_port_max;
                qg->gports[i] = (struct qemu_graphics_ports){-1, -1, gr->websocket};
                qg->listen[i] = xstrdup(listen);
                bool port, tls;
                qemu_command_graphics_needs(gr, hc.spice_tls, &port, &tls);
                if (port)
                        r = reserve_port(qg, dir, vnc ? "VNC" : "SPICE",
                                         gr->autoport ? -1 : gr->port, min, max, listen,
                                         &qg->gports[i].port, err);
                /* from SPICE's range, as libvirt; refused by the command
                 * line's checks when spice_tls is off */
                if (r >= 0 && tls)
                        r = reserve_port(qg, dir, "SPICE TLS", gr->autoport ? -1 : gr->tls_port,
                                         min, max, listen, &qg->gports[i].tls_port, err);
                if (r >= 0 && vnc && gr->websocket > 0)
                        r = reserve_port(qg, dir, "VNC websocket", gr->websocket, 0, 0, listen,
                                         &qg->gports[i].websocket, err);
        }
        host_conf_clear(&hc);
        return r;
}

/* ---- the child: mount namespace with a private /dev, then exec ---- */

static void child_bind(const char *staging, const char *node)
{
        char src[256], dst[512];
        snprintf(src, sizeof(src), "/dev/%s", node);
        snprintf(dst, sizeof(dst), "%s/%s", staging, node);
        struct stat st;
        if (stat(src, &st) < 0)
                return;
        char *slash = strrchr(dst, '/');
        *slash = '\0';
        struct lv_error *e = NULL;
        mkdir_p(dst, 0755, &e);
        lv_error_free(e);
        *slash = '/';
        if (S_ISDIR(st.st_mode))
                mkdir(dst, 0755);
        else
                close(open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                dprintf(2, "litevirt: bind-mounting %s: %s\n", src, strerror(errno));
}

static _noreturn_ void child_exec(struct lv_guest *g, char **argv, int mon_fd, int go_fd,
                                  const char *logpath, const int *keep_fds, int n_keep,
                                  const struct qemu_confine *cf, const struct cgroup_entry *ce)
{
        char c;
        /* Not "litevirt-superv" any more: `lvsh start`, subreaper of a
         * supervisor killed meanwhile, waits for supervisors only. */
        (void)prctl(PR_SET_NAME, "qemu-starting", 0, 0, 0);
        /* Into the guest's cgroup first (cgroup.h); everything up to
         * execve() is then done while the parent writes the records. */
        int failed = 0, cr = cgroup_entry_enter(ce, &failed);
        if (go_fd == QEMU_QMP_FD && (go_fd = fcntl(go_fd, F_DUPFD_CLOEXEC, QEMU_QMP_FD + 1)) < 0)
                _exit(126);
        setsid();
        int log = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (log >= 0) {
                dup2(log, 1);
                dup2(log, 2);
        }
        if (nul >= 0)
                dup2(nul, 0);
        if (cr < 0) {
                dprintf(2, "litevirt: entering the guest's cgroup (hierarchy %d): %s\n", failed,
                        strerror(-cr));
                _exit(126);
        }

        /* private mount namespace: a minimal /dev */
        _cleanup_free_ char *staging = paths_state_file(g->name, "dev");
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
            mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=65536") < 0) {
                dprintf(2, "litevirt: private /dev for QEMU: %s\n", strerror(errno));
                _exit(126);
        }
        static const char *const nodes[] = {"null", "zero",    "full",   "random",
                                            "kvm",  "net/tun", "urandom"};
        for (size_t i = 0; i < ARRAY_SIZE(nodes); i++)
                child_bind(staging, nodes[i]);
        /* QEMU's own devpts instance: its ptmx usable by QEMU's uid (the
         * host's is mode 0000); the supervisor opens the console through
         * /proc/PID/root. A bind-mounted /dev/ptmx would look for "pts"
         * beside its original; the instance's own ptmx is what works. */
        _cleanup_free_ char *pts = xasprintf("%s/pts", staging);
        if (mkdir(pts, 0755) < 0 || mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC,
                                          "newinstance,ptmxmode=0666,mode=0620") < 0) {
                dprintf(2, "litevirt: QEMU's /dev/pts: %s\n", strerror(errno));
                _exit(126);
        }
        _cleanup_free_ char *ptmx = xasprintf("%s/ptmx", staging);
        if (symlink("pts/ptmx", ptmx) < 0)
                dprintf(2, "litevirt: /dev/ptmx: %s\n", strerror(errno));
        for (int i = 0; i < g->def->n_disks; i++) {
                const char *s = g->def->disks[i].source;
                if (s && startswith(s, "/dev/") && !strstr(s, ".."))
                        child_bind(staging, s + 5);
        }
        if (mount(staging, "/dev", NULL, MS_MOVE, NULL) < 0) {
                dprintf(2, "litevirt: moving the private /dev: %s\n", strerror(errno));
                _exit(126);
        }
        /* the host read-only, litevirt's state hidden, the guest's uid */
        if (qemu_confine_child(cf) < 0)
                _exit(126);
        if (mon_fd != QEMU_QMP_FD) {
                if (dup2(mon_fd, QEMU_QMP_FD) < 0)
                        _exit(126);
        } else {
                fcntl(mon_fd, F_SETFD, 0);
        }
        for (int i = 0; i < n_keep; i++)
                if (keep_fds[i] >= 0)
                        fcntl(keep_fds[i], F_SETFD, 0);
        /* the disk leases: QEMU holds them from its first instruction
         * (driver.h, lease_fds) */
        for (int i = 0; i < g->n_lease_fds; i++)
                fcntl(g->lease_fds[i], F_SETFD, 0);
        /* wait until QEMU is on record (EOF: the parent gave up, QEMU must
         * not run) */
        if (read(go_fd, &c, 1) != 1)
                _exit(126);
        close(go_fd);
        execve(argv[0], argv, cf->env);
        dprintf(2, "litevirt: executing %s: %s\n", argv[0], strerror(errno));
        _exit(127);
}

/* ---- QMP events while running ---- */

#define QEMU_QUIT_TIMEOUT_USEC (10ULL * 1000000ULL)

/* `quit` got no effect in time: QMP deadlines, then SIGKILL. */
static int on_quit_timeout(struct loop_source *s, void *data)
{
        struct lv_guest *g = data;
        struct qemu_guest *qg = g->driver_data;
        if (!qg)
                return 0;
        if (qg->qmp)
                qmp_check_timeouts(qg->qmp);
        if (g->pidfd >= 0 && syscall(SYS_pidfd_send_signal, g->pidfd, 0, NULL, 0) == 0) {
                log_warning("QEMU %d did not quit: killing it", (int)g->pid);
                (void)syscall(SYS_pidfd_send_signal, g->pidfd, SIGKILL, NULL, 0);
        }
        return 0;
}

void qemu_on_qmp_event(struct qmp *q, const char *event, struct json_object *data, void *userdata)
{
        struct lv_guest *g = userdata;
        struct qemu_guest *qg = g->driver_data;
        if (streq(event, "MIGRATION") && qg) {
                /* to the guest's migration state (qemu/migration.c) */
                qemu_migration_event(&qg->mig, data);
                return;
        }
        if (streq(event, "JOB_STATUS_CHANGE") && qg) {
                qemu_migration_job_event(&qg->mig); /* qemu/migration-storage.c */
                return;
        }
        struct json_object *v = NULL;
        const char *reason = data && json_object_object_get_ex(data, "reason", &v)
                                     ? json_object_get_string(v)
                                     : NULL;
        log_info("QEMU event %s%s%s%s", event, reason ? " (" : "", reason ? reason : "",
                 reason ? ")" : "");
        if (!qg)
                return;
        if (startswith(event, "BLOCK_JOB_")) {
                qemu_block_job_event(g, event, data);
                return;
        }
        if (streq(event, "DEVICE_DELETED")) {
                qemu_hotplug_device_deleted(g, data);
                return;
        }
        if (streq(event, "SHUTDOWN")) {
                qg->shutdown_seen = true;
                snprintf(qg->shutdown_reason, sizeof(qg->shutdown_reason), "%s",
                         reason ? reason : "");
                /* -no-shutdown: QEMU waits; the guest is off, end the process */
                struct lv_error *e = NULL;
                if (qmp_send(q, "quit", NULL, QEMU_CMD_TIMEOUT_MS, NULL, NULL, &e) < 0) {
                        log_warning("%s", e->message);
                        lv_error_freep(&e);
                }
                if (!qg->quit_timer && g->loop &&
                    loop_add_timer(g->loop, QEMU_QUIT_TIMEOUT_USEC, on_quit_timeout, g,
                                   &qg->quit_timer, &e) < 0) {
                        log_warning("%s", e->message);
                        lv_error_free(e);
                }
        } else if (streq(event, "GUEST_PANICKED")) {
                qg->shutdown_seen = true;
                snprintf(qg->shutdown_reason, sizeof(qg->shutdown_reason), "guest-panic");
        }
}

int qemu_on_qmp_io(struct loop_source *s, int fd, uint32_t revents, void *data)
{
        struct lv_guest *g = data;
        struct qemu_guest *qg = g->driver_data;
        if (!qg || !qg->qmp)
                return 0;
        struct lv_error *e = NULL;
        if (qmp_dispatch(qg->qmp, &e) < 0) {
                /* QEMU went away: the pidfd tells the core */
                log_debug("%s", e->message);
                lv_error_free(e);
                loop_source_freep(&qg->qmp_source);
        }
        return 0;
}

/* ---- start ---- */

static int qmp_connect_listening(const char *path, int *ret, struct lv_error **err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return lv_error_set(err, errno, "connecting to QMP socket '%s'", path);
        *ret = TAKE_FD(fd);
        return 0;
}

int qemu_write_info(struct lv_guest *g, struct qemu_guest *qg, struct lv_error **err)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "pid", json_object_new_int(qg->pid));
        _cleanup_free_ char *sock = paths_state_file(g->name, "qmp.sock");
        json_object_object_add(o, "qmp", json_object_new_string(sock));
        struct json_object *gr = json_object_new_array();
        for (int i = 0; i < qg->n_gports; i++) {
                struct json_object *e = json_object_new_object();
                json_object_object_add(e, "type",
                                       json_object_new_string(domain_graphics_type_to_string(
                                               g->def->graphics[i].type)));
                json_object_object_add(e, "listen", json_object_new_string(qg->listen[i]));
                json_object_object_add(e, "port", json_object_new_int(qg->gports[i].port));
                if (qg->gports[i].tls_port > 0)
                        json_object_object_add(e, "tls_port",
                                               json_object_new_int(qg->gports[i].tls_port));
                if (qg->gports[i].websocket > 0)
                        json_object_object_add(e, "websocket",
                                               json_object_new_int(qg->gports[i].websocket));
                json_object_array_add(gr, e);
        }
        json_object_object_add(o, "graphics", gr);
        if (g->console_path)
                json_object_object_add(o, "console", json_object_new_string(g->console_path));
        if (g->ram_pad) /* absent: none (an older litevirt's QEMU) */
                json_object_object_add(o, "ram_pad", json_object_new_boolean(true));
        qemu_confine_to_json(qg, o);
        qemu_migration_params_to_json(&qg->mig, o);
        qemu_block_jobs_to_json(qg, o);
        if (qg->vcpu_unplugged)
                json_object_object_add(o, "vcpuUnplugged", json_object_new_boolean(true));
        const char *text = json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        /* atomic, not durable (no fsync): a record for a supervisor that
         * dies while QEMU runs on; after a crash of the host there is no
         * QEMU to reattach to (as status.json) */
        _cleanup_free_ char *path = paths_state_file(g->name, "qemu.json");
        int r = file_write_replace(path, text, strlen(text), 0644, err);
        json_object_put(o);
        return r;
}

/* The pty of chardev id in QEMU's query-chardev reply (borrowed), or NULL. */
static const char *console_pty(const char *id, struct json_object *chardevs)
{
        const char *pty = NULL;
        for (size_t i = 0; i < json_object_array_length(chardevs); i++) {
                struct json_object *c = json_object_array_get_idx(chardevs, i), *l, *f;
                if (json_object_object_get_ex(c, "label", &l) &&
                    streq(json_object_get_string(l), id) &&
                    json_object_object_get_ex(c, "filename", &f) &&
                    startswith(json_object_get_string(f), "pty:"))
                        pty = json_object_get_string(f) + 4;
        }
        return pty;
}

/* pty (a path in QEMU's own devpts, qemu/driver.c child_exec) opened from
 * here, raw; -errno. */
static int console_pty_open(const struct qemu_guest *qg, const char *pty)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/root%s", (int)qg->pid, pty);
        int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        struct termios t;
        if (tcgetattr(fd, &t) == 0) {
                cfmakeraw(&t);
                tcsetattr(fd, TCSANOW, &t);
        }
        return fd;
}

static void console_adopt(struct lv_guest *g, int fd, const char *pty)
{
        g->console_fd = fd;
        g->console_path = xstrdup(pty);
        guest_undo_push(g, "console pty", undo_console, NULL, NULL);
}

/* The console from QEMU's query-chardev reply (chardevs, borrowed). */
static int console_open(struct lv_guest *g, struct qemu_guest *qg, const char *id,
                        struct json_object *chardevs, struct lv_error **err)
{
        const char *pty = console_pty(id, chardevs);
        if (!pty)
                return lv_error_setf(err, LV_ERR_INTERNAL, "QEMU reports no pty for %s", id);
        int fd = console_pty_open(qg, pty);
        if (fd < 0)
                return lv_error_set(err, -fd, "console pty '%s'", pty);
        console_adopt(g, fd, pty);
        return 0;
}

/* At QEMU's greeting (its chardevs exist by then; its main loop, which
 * answers commands, may not run yet): when QEMU's own devpts holds one pty
 * only, that is the console's, opened now so that `cont` can go out with
 * the set-up instead of after the query-chardev reply (the reply checks
 * the guess). Otherwise `cont` is not sent: it waits for the reply. */
struct early_console {
        struct lv_guest *g;
        struct qemu_guest *qg;
        struct qmp_batch *cont;
        bool console; /* the guest has one: guess its pty */
        int fd;
        char pty[32];
};

static void on_greeting(struct qmp *q, struct qmp_batch *cmds, int n, void *data)
{
        struct early_console *ec = data;
        /* events from here on (RESUME comes with the replies) */
        qmp_set_event_handler(q, qemu_on_qmp_event, ec->g);
        if (!ec->console) {
                fault_point("qemu-before-cont");
                return;
        }
        _cleanup_free_ char *dir = xasprintf("/proc/%d/root/dev/pts", (int)ec->qg->pid);
        DIR *d = opendir(dir);
        int ptys = 0;
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && ptys++ == 0)
                        snprintf(ec->pty, sizeof(ec->pty), "/dev/pts/%.16s", de->d_name);
        if (d)
                closedir(d);
        if (ptys == 1)
                ec->fd = console_pty_open(ec->qg, ec->pty);
        if (ec->fd < 0) {
                ec->cont->command = NULL;
                return;
        }
        fault_point("qemu-before-cont");
}

/* Each serial's and console's pty (as QEMU names it, in its own devpts)
 * in the running definition: its chardev is "char" + its alias
 * (charserial0 for serial0, qemu_command_assign_aliases). */
static void chr_ptys_record(struct domain_def *def, struct json_object *chardevs)
{
        for (int k = 0; k < def->n_chrs; k++) {
                struct domain_chr *c = &def->chrs[k];
                if (!c->alias)
                        continue;
                _cleanup_free_ char *label = xasprintf("char%s", c->alias);
                const char *pty = console_pty(label, chardevs);
                if (pty) {
                        free(c->source_path);
                        c->source_path = xstrdup(pty);
                }
        }
}

int qemu_open_console(struct lv_guest *g, struct qemu_guest *qg, struct lv_error **err)
{
        _cleanup_free_ char *id = qemu_command_serial_chardev(g->def, 0);
        if (!id)
                return 0;
        struct json_object *ret = NULL;
        int r = qmp_call(qg->qmp, "query-chardev", NULL, QEMU_CMD_TIMEOUT_MS, &ret, err);
        if (r < 0)
                return r;
        chr_ptys_record(g->def, ret);
        r = console_open(g, qg, id, ret, err);
        json_object_put(ret);
        return r;
}

static const char *const qemu_devices_allow[] = {
        "c 1:3 rwm", "c 1:5 rwm",   "c 1:7 rwm",    "c 1:8 rwm",    "c 1:9 rwm",
        "c 5:2 rwm", "c 136:* rwm", "c 10:232 rwm", "c 10:200 rwm", NULL,
};

/* set_password for each graphics with a passwd into b (room for
 * qg->n_gports); returns how many. */
static int password_batch(struct lv_guest *g, struct qemu_guest *qg, struct qmp_batch *b)
{
        int n = 0;
        for (int i = 0; i < qg->n_gports && i < g->def->n_graphics; i++) {
                const struct domain_graphics *gr = &g->def->graphics[i];
                if (!gr->passwd)
                        continue;
                struct json_object *a = json_object_new_object();
                json_object_object_add(
                        a, "protocol",
                        json_object_new_string(gr->type == DOMAIN_GRAPHICS_VNC ? "vnc" : "spice"));
                json_object_object_add(a, "password", json_object_new_string(gr->passwd));
                b[n++] = (struct qmp_batch){.command = "set_password", .args = a};
        }
        return n;
}

int qemu_set_passwords(struct lv_guest *g, struct qemu_guest *qg, struct lv_error **err)
{
        _cleanup_free_ struct qmp_batch *b = xcalloc((size_t)qg->n_gports + 1, sizeof(*b));
        int n = password_batch(g, qg, b);
        return n ? qmp_call_batch(qg->qmp, b, n, QEMU_CMD_TIMEOUT_MS, err) : 0;
}

/* UEFI: the firmware and NVRAM into the running definition, and the
 * guest's NVRAM copied from its template when it has none yet (its first
 * start, as libvirt); it stays across starts and `lvsh undefine --nvram`
 * removes it. */
static int firmware_prepare(struct lv_guest *g, struct lv_error **err)
{
        struct domain_os *os = &g->def->os;
        int r = qemu_firmware_resolve(g->def, paths_nvramdir(), err);
        if (r < 0 || !os->nvram || access(os->nvram, F_OK) == 0)
                return r;
        if (errno != ENOENT)
                return lv_error_set(err, errno, "guest '%s': NVRAM '%s'", g->name, os->nvram);
        if (!os->nvram_template)
                return lv_error_setf(err, ENOENT,
                                     "guest '%s': NVRAM '%s' does not exist and there is no "
                                     "template to make it from",
                                     g->name, os->nvram);
        _cleanup_free_ char *data = NULL, *dir = xstrdup(os->nvram);
        size_t len = 0;
        /* OVMF's variable stores are 128 KiB to 4 MiB */
        if ((r = file_read_bounded(os->nvram_template, 64 << 20, &data, &len, err)) < 0)
                return lv_error_prefix(err, "guest '%s': NVRAM template", g->name);
        *strrchr(dir, '/') = '\0';
        if ((r = mkdir_p(*dir ? dir : "/", 0755, err)) < 0 ||
            (r = file_write_atomic(os->nvram, data, len, 0600, err)) < 0)
                return lv_error_prefix(err, "guest '%s': NVRAM", g->name);
        log_info("NVRAM %s made from %s", os->nvram, os->nvram_template);
        return 0;
}

static int qemu_start(struct lv_guest *g, struct lv_error **err)
{
        const struct domain_def *def = g->def;
        int r;
        struct qemu_guest *qg = qemu_guest_new(g);

        if ((r = reserve_graphics(g, qg, err)) < 0)
                return r;
        /* the running definition's live values (dumpxml): its ports and
         * libvirt's aliases, the ids QEMU gets */
        for (int i = 0; i < qg->n_gports; i++) {
                g->def->graphics[i].live_port = qg->gports[i].port;
                g->def->graphics[i].live_tls_port = qg->gports[i].tls_port;
        }
        qemu_command_assign_aliases(g->def);
        guest_undo_push(g, "QEMU files", undo_files, NULL, NULL);
        if ((r = firmware_prepare(g, err)) < 0)
                return r;
        if ((r = qemu_confine_prepare(g, qg, err)) < 0)
                return r;

        /* cgroup with the limits of <memtune>/<cputune>; block disks allowed */
        _cleanup_strv_free_ char **allow = strv_copy((char *const *)qemu_devices_allow);
        for (int i = 0; i < def->n_disks; i++) {
                struct stat st;
                if (def->disks[i].source && stat(def->disks[i].source, &st) == 0 &&
                    S_ISBLK(st.st_mode))
                        strv_push(&allow,
                                  xasprintf("b %u:%u rwm", major(st.st_rdev), minor(st.st_rdev)));
        }
        /* The cgroup code limits a guest without <memtune> to its memory
         * size, right for a container; QEMU needs room for itself on top
         * (libvirt sets no limit then either). */
        struct domain_def cgdef = *def;
        if (!cgdef.memtune.hard_limit)
                cgdef.memory_kib = 0;
        if ((r = cgroup_guest_create(&cgdef, (const char *const *)allow, &qg->cg, err)) < 0)
                return lv_error_prefix(err, "guest '%s'", g->name);
        g->cgroup_path = xstrdup(qg->cg->rel_path ? qg->cg->rel_path : "");
        guest_undo_push(g, "cgroup", undo_cgroup, qg, NULL);
        fault_point("qemu-after-cgroup");

        _cleanup_free_ char *sock = paths_state_file(g->name, "qmp.sock");
        _cleanup_free_ char *staging = paths_state_file(g->name, "dev");
        if (mkdir(staging, 0755) < 0 && errno != EEXIST)
                return lv_error_set(err, errno, "guest '%s': '%s'", g->name, staging);
        _cleanup_close_ int listen_fd = -1;
        if ((r = unix_listen(sock, "QMP", &listen_fd, err)) < 0)
                return r;

        /* taps (netns/): their undos delete them; the fds are QEMU's, ours
         * are closed once it runs. Kept above the fds the child renumbers. */
        struct netns_guest_tap *taps = NULL;
        int n_taps = 0;
        struct undo_sink undo = guest_undo_sink(g);
        if ((r = netns_guest_setup_vm(g->def, &undo, 0, &taps, &n_taps, err)) < 0)
                return r;
        _cleanup_(fds_closep) int *tap_fds = xcalloc((size_t)n_taps + 1, sizeof(int));
        tap_fds[n_taps] = FDS_END;
        for (int i = 0; i < n_taps; i++) {
                tap_fds[i] = taps[i].fd < 0 ? -1 : fcntl(taps[i].fd, F_DUPFD_CLOEXEC, 10);
                if (taps[i].fd >= 0 && tap_fds[i] < 0) {
                        r = lv_error_set(err, errno, "tap %s", taps[i].ifname);
                        tap_fds[i] = -1;
                        netns_guest_taps_free(taps, n_taps);
                        return r;
                }
        }
        /* the running definition names them (dumpxml's <target dev>) */
        for (int i = 0; i < n_taps && i < g->def->n_nets; i++) {
                free(g->def->nets[i].ifname);
                g->def->nets[i].ifname = taps[i].ifname[0] ? xstrdup(taps[i].ifname) : NULL;
        }
        netns_guest_taps_free(taps, n_taps);
        _cleanup_(fds_closep) int *chan_fds = NULL;
        if ((r = listen_channels(g, &chan_fds, err)) < 0)
                return r;
        /* Migration destination answering Prepare early: QEMU gets a
         * socket listening on the stream's port (qemu/migration.c). */
        _cleanup_close_ int mig_fd = -1;
        _cleanup_free_ char *mig_uri = NULL, *mig_incoming = NULL;
        bool tunnelled = g->incoming && g->incoming->transport == LV_INCOMING_TUNNEL;
        if (g->incoming && g->incoming->started) {
                int lfd = -1, sp[2];
                if (tunnelled) {
                        /* the stream arrives through the supervisors' channel */
                        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                                return lv_error_set(err, errno, "socketpair");
                        lfd = sp[1];
                        g->incoming->tunnel_fd = sp[0];
                        mig_uri = xstrdup("tunnel");
                } else if ((r = qemu_migration_incoming_listen(g, &qg->mig, &lfd, &mig_uri, err)) <
                           0) {
                        return r;
                }
                mig_fd = fcntl(lfd, F_DUPFD_CLOEXEC, 10);
                close(lfd);
                if (mig_fd < 0)
                        return lv_error_set(err, errno, "migration socket");
                mig_incoming = xasprintf("%s:%d", tunnelled ? "fd" : "tcp:fd", mig_fd);
                qg->mig.listening = true;
        }
        _cleanup_qemu_cpu_caps_ struct qemu_cpu_caps *cpu_caps = NULL;
        if ((r = qemu_cpu_caps(def, &cpu_caps, err)) < 0)
                return r;
        /* SPICE's certificates: QEMU's uid reads them while it starts */
        if ((r = qemu_spice_tls_grant(g, qg, err)) < 0)
                return r;
        /* A fresh start pads a TCG guest's RAM; a saved or migrated guest
         * keeps the RAM it ran with (an older litevirt's: none), or QEMU
         * refuses its stream ("Length mismatch: pc.ram"). */
        g->ram_pad = g->incoming ? g->incoming->ram_pad : qemu_command_ram_pad_kib(def) > 0;
        struct qemu_command_opts opts = {
                .spice_tls_dir = qg->spice_tls_dir,
                .cpu_caps = cpu_caps,
                .qmp_fd = QEMU_QMP_FD,
                .graphics = qg->gports,
                .n_graphics = qg->n_gports,
                .incoming = mig_incoming  ? mig_incoming
                            : g->incoming ? "defer"
                                          : NULL,
                .net_fds = tap_fds,
                .n_net_fds = n_taps,
                .channel_fds = chan_fds,
                .n_channel_fds = def->n_channels,
                .tcg_ram_pad = g->ram_pad,
        };
        _cleanup_strv_free_ char **argv = NULL;
        if ((r = qemu_command_build(def, &opts, &argv, err)) < 0)
                return r;
        if (argv[0][0] != '/') {
                free(argv[0]);
                argv[0] = xstrdup("/usr/bin/qemu-system-x86_64");
        }
        _cleanup_free_ char *cmdline = qemu_command_format(argv);
        log_info("starting QEMU:\n%s", cmdline);

        if ((r = mkdir_p(paths_logdir(), 0755, err)) < 0)
                return r;
        _cleanup_free_ char *logpath = qemu_log_path(g->name);
        {
                _cleanup_close_ int lf =
                        open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                if (lf >= 0)
                        dprintf(lf, "--- starting:\n%s", cmdline);
        }

        _cleanup_(qemu_confine_clear) struct qemu_confine cf = {0};
        qemu_confine_build(g, qg, &cf);
        int go[2];
        if (pipe2(go, O_CLOEXEC) < 0)
                return lv_error_set(err, errno, "pipe");
        _cleanup_(cgroup_entry_close) struct cgroup_entry entry = CGROUP_ENTRY_INIT;
        if ((r = cgroup_entry_open(qg->cg, &entry, err)) < 0) {
                close(go[0]);
                close(go[1]);
                return r;
        }
        fflush(NULL);
        struct clone_args args = {.exit_signal = SIGCHLD};
        pid_t pid = (pid_t)cgroup_entry_clone(&entry, &args);
        if (pid < 0) {
                r = lv_error_set(err, errno, "cloning QEMU's process");
                close(go[0]);
                close(go[1]);
                return r;
        }
        if (pid == 0) {
                close(go[1]);
                if (mig_fd >= 0)
                        (void)fcntl(mig_fd, F_SETFD, 0);
                for (int i = 0; i < def->n_channels; i++)
                        if (chan_fds[i] >= 0)
                                (void)fcntl(chan_fds[i], F_SETFD, 0);
                child_exec(g, argv, listen_fd, go[0], logpath, tap_fds, n_taps, &cf, &entry);
        }
        close(go[0]);
        _cleanup_close_ int go_w = go[1];
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0) {
                r = lv_error_set(err, errno, "pidfd_open");
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return r;
        }
        qg->pid = pid;
        qg->proc_pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
        qemu_confine_spawned(g, qg, pidfd);
        g->pid = pid;
        g->pidfd = pidfd;
        guest_undo_push(g, "QEMU process", undo_process, qg, NULL);

        cgroup_entry_close(&entry);
        /* QEMU outlives us by design: on record (status.json, qemu.json)
         * before it runs, so that a supervisor killed from here on leaves
         * a guest the next `lvsh start` reattaches to, never a lost one. */
        if ((r = qemu_write_info(g, qg, err)) < 0)
                return r;
        guest_status_record(g);
        if (write(go_w, "g", 1) != 1)
                return lv_error_set(err, errno, "starting QEMU");
        fault_point("qemu-after-spawn");
        close(TAKE_FD(listen_fd)); /* QEMU has it */
        if (mig_fd >= 0) {
                close(TAKE_FD(mig_fd)); /* QEMU has it */
                /* the source may start its stream now: the kernel queues
                 * the connection until QEMU accepts it */
                if ((r = g->incoming->started(g, mig_uri, err)) < 0)
                        return r;
        }

        /* The socket is bound and listening: connect now, QEMU greets us
         * once it is up (or the socket closes when it dies). The set-up
         * while paused (passwords, which pty is the console) goes out
         * with qmp_capabilities, before QEMU even greets: all answered
         * in one round trip once its main loop runs. */
        int cfd = -1;
        if ((r = qmp_connect_listening(sock, &cfd, err)) < 0)
                return r;
        _cleanup_free_ struct qmp_batch *b = xcalloc((size_t)qg->n_gports + 2, sizeof(*b));
        int nb = password_batch(g, qg, b);
        _cleanup_free_ char *console_id = qemu_command_serial_chardev(def, 0);
        struct qmp_batch *chardevs = NULL;
        if (console_id) {
                chardevs = &b[nb++];
                *chardevs = (struct qmp_batch){.command = "query-chardev", .want_ret = true};
        }
        /* A migration destination stays paused until Finish (migration.c),
         * a guest started paused until resumed. Otherwise `cont` goes out
         * at the greeting, behind the set-up: no round trip of its own;
         * with a console only once its pty is open (QEMU drops what the
         * guest writes to a pty nobody has open). */
        bool run = !g->incoming && !g->start_paused;
        struct early_console ec = {.g = g, .qg = qg, .console = console_id != NULL, .fd = -1};
        if (run) {
                ec.cont = &b[nb++];
                *ec.cont = (struct qmp_batch){.command = "cont", .after_greeting = true};
        }
        struct lv_error *qerr = NULL;
        r = qmp_open_fd_batch(cfd, sock, QEMU_START_TIMEOUT_MS, b, nb, run ? on_greeting : NULL,
                              &ec, &qg->qmp, &qerr);
        _cleanup_close_ int early_fd = ec.fd;
        if (r < 0 && qerr->code == LV_ERR_INTERNAL) {
                /* QEMU refused a command: its own message */
                r = lv_error_setf(err, LV_ERR_INTERNAL, "%s", qerr->message);
                lv_error_free(qerr);
                return r;
        }
        if (r < 0) {
                _cleanup_free_ char *tail = qemu_log_tail(logpath);
                r = lv_error_setf(err, LV_ERR_INTERNAL, "QEMU failed to start: %s",
                                  *tail ? tail : qerr->message);
                lv_error_free(qerr);
                return r;
        }
        qmp_set_event_handler(qg->qmp, qemu_on_qmp_event, g);
        guest_undo_push(g, "QMP connection", qemu_undo_qmp, qg, NULL);
        qemu_spice_tls_forget(g, qg); /* its SPICE server has loaded them */
        fault_point("qemu-after-qmp");
        if (chardevs) {
                chr_ptys_record(g->def, chardevs->ret);
                const char *pty = console_pty(console_id, chardevs->ret);
                if (early_fd >= 0 && pty && streq(pty, ec.pty)) {
                        console_adopt(g, TAKE_FD(early_fd), pty);
                } else {
                        if (early_fd >= 0)
                                log_warning("console: QEMU's pty is %s, not %s as guessed: what "
                                            "the guest wrote meanwhile is lost",
                                            pty ? pty : "(none)", ec.pty);
                        r = console_open(g, qg, console_id, chardevs->ret, err);
                }
                json_object_put(chardevs->ret);
                if (r < 0)
                        return r;
        }
        /* again with the console's pty, if there is one */
        if (g->console_path && (r = qemu_write_info(g, qg, err)) < 0)
                return r;
        if ((r = loop_add_io(g->loop, qmp_fd(qg->qmp), EPOLLIN, qemu_on_qmp_io, g, &qg->qmp_source,
                             err)) < 0)
                return r;
        if (run && !ec.cont->command) { /* the console's pty was not known at the greeting */
                fault_point("qemu-before-cont");
                if ((r = qmp_call(qg->qmp, "cont", NULL, QEMU_CMD_TIMEOUT_MS, NULL, err)) < 0)
                        return r;
        }
        /* on record with the status the supervisor writes as soon as the
         * start returns (guest_boot): no status.json of its own here */
        if (run)
                qg->cpus_running = true;
        log_info("QEMU %d running (QMP %s)", (int)pid, sock);
        return 0;
}

/* ---- lifecycle ---- */

static int qemu_cmd(struct lv_guest *g, const char *cmd, struct lv_error **err)
{
        struct qemu_guest *qg = g->driver_data;
        if (!qg || !qg->qmp || qmp_is_closed(qg->qmp))
                return lv_error_setf(err, LV_ERR_STATE, "guest '%s': QEMU monitor is not connected",
                                     g->name);
        return qmp_call(qg->qmp, cmd, NULL, QEMU_CMD_TIMEOUT_MS, NULL, err);
}

static int qemu_shutdown(struct lv_guest *g, struct lv_error **err)
{
        return qemu_cmd(g, "system_powerdown", err);
}

static int qemu_destroy(struct lv_guest *g, struct lv_error **err)
{
        if (g->pidfd < 0)
                return lv_error_setf(err, LV_ERR_STATE, "guest '%s' is not running", g->name);
        if (syscall(SYS_pidfd_send_signal, g->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                return lv_error_set(err, errno, "guest '%s': killing QEMU", g->name);
        return 0;
}

static int qemu_reboot(struct lv_guest *g, struct lv_error **err)
{
        return qemu_cmd(g, "system_reset", err);
}

static int qemu_suspend(struct lv_guest *g, struct lv_error **err)
{
        return qemu_cmd(g, "stop", err);
}

static int qemu_resume(struct lv_guest *g, struct lv_error **err)
{
        return qemu_cmd(g, "cont", err);
}

/* What QEMU's size of the running guest has beyond its definition. */
static unsigned long long qemu_guest_ram_pad_kib(const struct lv_guest *g)
{
        return g->ram_pad ? qemu_command_ram_pad_kib(g->def) : 0;
}

/* The balloon's target: the guest's balloon driver gives the difference
 * back to the host (query-balloon then reports it as "actual"). */
static int qemu_setmem(struct lv_guest *g, unsigned long long kib, struct lv_error **err)
{
        struct qemu_guest *qg = g->driver_data;
        if (g->def->memballoon_model && streq(g->def->memballoon_model, "none"))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s' has no memory balloon (<memballoon "
                                     "model='none'/>): its memory cannot change while it runs",
                                     g->name);
        if (!qg || !qg->qmp || qmp_is_closed(qg->qmp))
                return lv_error_setf(err, LV_ERR_STATE, "guest '%s': QEMU monitor is not connected",
                                     g->name);
        struct json_object *args = json_object_new_object();
        /* QEMU's size of the guest has the TCG pad (qemu_command_ram_pad_kib) */
        kib += qemu_guest_ram_pad_kib(g);
        json_object_object_add(args, "value", json_object_new_int64((int64_t)(kib * 1024)));
        return qmp_call(qg->qmp, "balloon", args, QEMU_CMD_TIMEOUT_MS, NULL,
                        err); /* consumes args */
}

static void add_u64(struct json_object *out, const char *key, long long v)
{
        json_object_object_add(out, key, json_object_new_int64(v));
}

static int qemu_stats(struct lv_guest *g, struct json_object *out, struct lv_error **err)
{
        struct qemu_guest *qg = g->driver_data;
        if (!qg || !qg->qmp)
                return lv_error_setf(err, LV_ERR_STATE, "guest '%s' is not running", g->name);
        struct json_object *ret = NULL, *v;
        _cleanup_error_ struct lv_error *e = NULL;
        if (qmp_call(qg->qmp, "query-cpus-fast", NULL, QEMU_CMD_TIMEOUT_MS, &ret, &e) < 0)
                log_warning("stats: %s", e->message);
        else {
                add_u64(out, "vcpu.current", (long long)json_object_array_length(ret));
                json_object_put(ret);
        }
        add_u64(out, "vcpu.maximum", g->def->vcpus);
        if (qmp_call(qg->qmp, "query-balloon", NULL, QEMU_CMD_TIMEOUT_MS, &ret, NULL) == 0) {
                if (json_object_object_get_ex(ret, "actual", &v))
                        add_u64(out, "balloon.current",
                                json_object_get_int64(v) / 1024 -
                                        (long long)qemu_guest_ram_pad_kib(g));
                json_object_put(ret);
        }
        add_u64(out, "balloon.maximum", (long long)g->def->memory_kib);
        if (qmp_call(qg->qmp, "query-blockstats", NULL, QEMU_CMD_TIMEOUT_MS, &ret, NULL) == 0) {
                size_t n = json_object_array_length(ret);
                add_u64(out, "block.count", (long long)n);
                for (size_t i = 0; i < n; i++) {
                        struct json_object *b = json_object_array_get_idx(ret, i), *st;
                        char key[64];
                        snprintf(key, sizeof(key), "block.%zu.name", i);
                        if (json_object_object_get_ex(b, "qdev", &v)) {
                                /* the disk's target name, as virsh shows it */
                                const char *qdev = json_object_get_string(v);
                                const char *name = qdev;
                                for (int k = 0; k < g->def->n_disks; k++) {
                                        _cleanup_free_ char *id = qemu_command_disk_id(g->def, k);
                                        _cleanup_free_ char *path =
                                                xasprintf("/machine/peripheral/%s/", id);
                                        /* or hot-plugged (qemu/hotplug.c) */
                                        _cleanup_free_ char *hp = xasprintf(
                                                "virtio-disk-%s", g->def->disks[k].target_dev);
                                        _cleanup_free_ char *hp_path =
                                                xasprintf("/machine/peripheral/%s/", hp);
                                        if ((id && (streq(qdev, id) || startswith(qdev, path))) ||
                                            streq(qdev, hp) || startswith(qdev, hp_path))
                                                name = g->def->disks[k].target_dev;
                                }
                                json_object_object_add(out, key, json_object_new_string(name));
                        }
                        if (!json_object_object_get_ex(b, "stats", &st))
                                continue;
                        static const char *const f[][2] = {{"rd_bytes", "rd.bytes"},
                                                           {"wr_bytes", "wr.bytes"},
                                                           {"rd_operations", "rd.reqs"},
                                                           {"wr_operations", "wr.reqs"}};
                        for (size_t k = 0; k < ARRAY_SIZE(f); k++)
                                if (json_object_object_get_ex(st, f[k][0], &v)) {
                                        snprintf(key, sizeof(key), "block.%zu.%s", i, f[k][1]);
                                        add_u64(out, key, json_object_get_int64(v));
                                }
                }
                json_object_put(ret);
        }
        struct cgroup_stats cs;
        if (qg->cg && cgroup_guest_stats(qg->cg, &cs, NULL) == 0) {
                if (cs.cpu_time_ns != UINT64_MAX)
                        add_u64(out, "cpu.time", (long long)cs.cpu_time_ns);
                add_u64(out, "memory.rss", (long long)(cs.memory_bytes / 1024));
        }
        return 0;
}

static int qemu_exited(struct lv_guest *g, int status)
{
        struct qemu_guest *qg = g->driver_data;
        if (qg && qg->shutdown_seen) {
                if (streq(qg->shutdown_reason, "guest-reset"))
                        return GUEST_EXIT_REBOOT;
                if (streq(qg->shutdown_reason, "guest-panic"))
                        return GUEST_EXIT_CRASH;
                return GUEST_EXIT_POWEROFF;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return GUEST_EXIT_POWEROFF;
        return GUEST_EXIT_CRASH;
}

const struct lv_driver qemu_driver = {
        .name = "qemu",
        .check = qemu_check,
        .start = qemu_start,
        .shutdown = qemu_shutdown,
        .destroy = qemu_destroy,
        .reboot = qemu_reboot,
        .suspend = qemu_suspend,
        .resume = qemu_resume,
        .setmem = qemu_setmem,
        .stats = qemu_stats,
        .exited = qemu_exited,
        .status = qemu_status,
        .reattach = qemu_reattach,
        .hold_leases = qemu_hold_leases,
        .migration = &qemu_migration_ops,
        .disk_attach = qemu_disk_attach,
        .disk_detach = qemu_disk_detach,
        .net_attach = qemu_net_attach,
        .net_detach = qemu_net_detach,
        .screenshot = qemu_screenshot,
        .send_key = qemu_send_key,
        .snapshot_disks = qemu_snapshot_disks,
        .vcpus_info = qemu_vcpus_info,
        .vcpus_set = qemu_vcpus_set,
        .block_job_start = qemu_block_job_start,
        .block_job_info = qemu_block_job_info,
        .block_job_end = qemu_block_job_end,
        .block_job_set_speed = qemu_block_job_set_speed,
};
