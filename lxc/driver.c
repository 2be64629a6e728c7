/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The LXC driver (supervisor side): prepares everything the container
 * needs, clones the child into new namespaces, finishes the outside
 * set-up while the child waits, and returns once init was exec'd. Every
 * step registers its undo (guest_undo_push), so a failed start and the
 * end of the guest leave nothing behind. See docs/lxc.md. */
#include "lxc/lxc.h"

#include <json-c/json.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "netns/guest_net.h"
#include "cgroup/cgroup.h"
#include "driver-support/driver.h"
#include "driver-support/loop.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/watchdog.h"

/* How long the child may take from clone to exec. */
#define LXC_START_TIMEOUT_MS 30000

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct lxc_guest {
        struct cgroup *cg;
        int console_slave;     /* kept open so the master never sees a hangup */
        struct watchdog guard; /* kills init when the supervisor dies */
        int oom_fd;            /* ready when the OOM killer acts in the guest */
        struct loop_source *oom_source, *oom_timer;
        uint64_t oom_kills;   /* as last logged */
        bool denies_remounts; /* its seccomp filter (lxc_seccomp_denies_remounts) */
};

/* ---- network hook ----
 * The container's interfaces are set up by netns/ in the parent, after
 * clone (the child's network namespace exists) and before the child
 * continues: netns_guest_setup_container() creates the veth
 * pairs with the guest ends born in the namespace of pid, and registers
 * their undos. (A strong reference: a weak one would not pull guest_net.o
 * out of the static library, and networking would silently be missing.) */
static int lxc_network_setup(struct lv_guest *g, pid_t pid, struct lv_error **err)
{
        struct undo_sink undo = guest_undo_sink(g);
        return netns_guest_setup_container(g->def, &undo, pid, err);
}

/* ---- undo steps ---- */

static void undo_driver_data(struct lv_guest *g, void *data)
{
        if (g->driver_data == data)
                g->driver_data = NULL;
}

static void undo_console(struct lv_guest *g, void *data)
{
        struct lxc_guest *lg = data;
        if (g->console_fd >= 0)
                close(g->console_fd);
        g->console_fd = -1;
        free(g->console_path);
        g->console_path = NULL;
        if (lg->console_slave >= 0)
                close(lg->console_slave);
        lg->console_slave = -1;
}

static void undo_cgroup(struct lv_guest *g, void *data)
{
        struct lxc_guest *lg = data;
        struct lv_error *e = NULL;
        if (cgroup_guest_destroy(lg->cg, &e) < 0) {
                log_error("guest '%s': %s", g->name, e->message);
                lv_error_free(e);
        }
        cgroup_free(lg->cg);
        lg->cg = NULL;
        free(g->cgroup_path);
        g->cgroup_path = NULL;
}

/* The undo of the container's init owns its own pidfd: the core may have
 * closed g->pidfd (and reaped the process) already. */
struct lxc_proc {
        int pidfd;
        pid_t pid;
};

static void undo_process(struct lv_guest *g, void *data)
{
        struct lxc_proc *p = data;
        if (syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                log_warning("guest '%s': killing init %d: %s", g->name, (int)p->pid,
                            strerror(errno));
        siginfo_t si;
        while (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED) < 0 && errno == EINTR)
                ;
        close(p->pidfd);
        p->pidfd = -1;
}

/* The container's guard (util/watchdog.h): init must not outlive the
 * supervisor, and PR_SET_PDEATHSIG alone cannot promise it (an init that
 * changes its uid, as su, setpriv or gosu-style entrypoints do, loses it).
 * The guard SIGKILLs init when the supervisor dies; the kernel then ends
 * the whole PID namespace. Its undo (before init's) lets it kill init. */
static void undo_guard(struct lv_guest *g, void *data)
{
        struct lxc_guest *lg = data;
        watchdog_stop(&lg->guard, false);
}

/* ---- resource limits ----
 * init gets these, whatever limits the caller of `lvsh start` (and so
 * the supervisor) had: the kernel's defaults for a host's init, with
 * systemd's hard limit for open files. Set from outside (prlimit, as root
 * on the host) before GO, so that they hold in a user namespace too,
 * where init could not raise a hard limit itself. The definition has no
 * element for them (nor has libvirt's); RLIMIT_SIGPENDING stays as the
 * kernel computed it for the host. */
static const struct {
        int resource;
        const char *name;
        rlim_t soft, hard;
} lxc_rlimits[] = {
        {RLIMIT_CPU, "cpu", RLIM_INFINITY, RLIM_INFINITY},
        {RLIMIT_FSIZE, "fsize", RLIM_INFINITY, RLIM_INFINITY},
        {RLIMIT_DATA, "data", RLIM_INFINITY, RLIM_INFINITY},
        {RLIMIT_STACK, "stack", 8 << 20, RLIM_INFINITY},
        {RLIMIT_CORE, "core", 0, RLIM_INFINITY},
        {RLIMIT_RSS, "rss", RLIM_INFINITY, RLIM_INFINITY},
        {RLIMIT_NPROC, "nproc", RLIM_INFINITY, RLIM_INFINITY}, /* pids.max bounds it */
        {RLIMIT_NOFILE, "nofile", 1024, 524288},
        {RLIMIT_MEMLOCK, "memlock", 8 << 20, 8 << 20},
        {RLIMIT_AS, "as", RLIM_INFINITY, RLIM_INFINITY},
        {RLIMIT_LOCKS, "locks", RLIM_INFINITY, RLIM_INFINITY},
        {RLIMIT_MSGQUEUE, "msgqueue", 819200, 819200},
        {RLIMIT_NICE, "nice", 0, 0},
        {RLIMIT_RTPRIO, "rtprio", 0, 0},
        {RLIMIT_RTTIME, "rttime", RLIM_INFINITY, RLIM_INFINITY},
};

static int rlimits_apply(pid_t pid, struct lv_error **err)
{
        for (size_t i = 0; i < ARRAY_SIZE(lxc_rlimits); i++) {
                __rlimit_resource_t res = (__rlimit_resource_t)lxc_rlimits[i].resource;
                struct rlimit rl = {lxc_rlimits[i].soft, lxc_rlimits[i].hard}, own;
                if (prlimit(pid, res, &rl, NULL) == 0)
                        continue;
                /* Raising a hard limit needs CAP_SYS_RESOURCE (which a
                 * supervisor in a container may lack): then the most the
                 * supervisor's own hard limit allows. */
                if (errno != EPERM || getrlimit(res, &own) < 0 || own.rlim_max >= rl.rlim_max)
                        return lv_error_set(err, errno, "setting init's rlimit %s",
                                            lxc_rlimits[i].name);
                rl.rlim_max = own.rlim_max;
                if (rl.rlim_cur > rl.rlim_max)
                        rl.rlim_cur = rl.rlim_max;
                if (prlimit(pid, res, &rl, NULL) < 0)
                        return lv_error_set(err, errno, "setting init's rlimit %s",
                                            lxc_rlimits[i].name);
                log_debug("init's rlimit %s: hard limit %llu, the supervisor's (no "
                          "CAP_SYS_RESOURCE to raise it)",
                          lxc_rlimits[i].name, (unsigned long long)rl.rlim_max);
        }
        return 0;
}

/* ---- OOM kills: logged as they happen, counted in stats ---- */

static void oom_log(struct lv_guest *g, struct lxc_guest *lg, uint64_t n)
{
        if (n > lg->oom_kills)
                log_warning("guest '%s': the OOM killer ended %llu process(es) in the container "
                            "(%llu in all)",
                            g->name, (unsigned long long)(n - lg->oom_kills),
                            (unsigned long long)n);
        if (n > lg->oom_kills)
                lg->oom_kills = n; /* (a count read before the kill is lower) */
}

/* v1 notifies when the cgroup runs out of memory, before the kill: look
 * again a moment later. */
static int on_oom_recheck(struct loop_source *s, void *data)
{
        struct lv_guest *g = data;
        struct lxc_guest *lg = g->driver_data;
        struct cgroup_stats st;
        if (lg && lg->cg && cgroup_guest_stats(lg->cg, &st, NULL) == 0 &&
            st.oom_kills != UINT64_MAX)
                oom_log(g, lg, st.oom_kills);
        return 0;
}

static int on_oom(struct loop_source *s, int fd, uint32_t revents, void *data)
{
        struct lv_guest *g = data;
        struct lxc_guest *lg = g->driver_data;
        uint64_t n = 0;
        _cleanup_error_ struct lv_error *e = NULL;
        if (!lg || cgroup_guest_oom_ack(lg->cg, fd, &n, &e) < 0) {
                log_debug("guest '%s': OOM event: %s", g->name, e ? e->message : "no cgroup");
                return 0;
        }
        oom_log(g, lg, n);
        (void)loop_timer_set(lg->oom_timer, 200 * 1000, NULL);
        return 0;
}

static void undo_oom_watch(struct lv_guest *g, void *data)
{
        struct lxc_guest *lg = data;
        loop_source_free(lg->oom_source);
        lg->oom_source = NULL;
        loop_source_free(lg->oom_timer);
        lg->oom_timer = NULL;
        if (lg->oom_fd >= 0)
                close(lg->oom_fd);
        lg->oom_fd = -1;
}

/* Without a memory controller (or a loop: the test harness) there is
 * nothing to watch: not an error. */
static void oom_watch(struct lv_guest *g, struct lxc_guest *lg)
{
        uint32_t events;
        _cleanup_error_ struct lv_error *e = NULL;
        if (!g->loop || cgroup_guest_oom_watch(lg->cg, &lg->oom_fd, &events, &e) < 0 ||
            loop_add_io(g->loop, lg->oom_fd, events, on_oom, g, &lg->oom_source, &e) < 0 ||
            loop_add_timer(g->loop, 0, on_oom_recheck, g, &lg->oom_timer, &e) < 0) {
                if (e)
                        log_warning("guest '%s': OOM kills will not be logged: %s", g->name,
                                    e->message);
                undo_oom_watch(g, lg);
                return;
        }
        guest_undo_push(g, "OOM watch", undo_oom_watch, lg, NULL);
}

/* ---- start ---- */

static int console_open(struct lv_guest *g, struct lxc_guest *lg, struct lv_error **err)
{
        _cleanup_close_ int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return lv_error_set(err, errno, "console: opening a pty");
        if (grantpt(master) < 0 || unlockpt(master) < 0)
                return lv_error_set(err, errno, "console: unlocking the pty");
        char name[128];
        if (ptsname_r(master, name, sizeof name) != 0)
                return lv_error_set(err, errno, "console: naming the pty");
        _cleanup_close_ int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return lv_error_set(err, errno, "console: opening '%s'", name);
        /* The core reads the master from its event loop. */
        int fl = fcntl(master, F_GETFL);
        if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0)
                return lv_error_set(err, errno, "console: making the pty non-blocking");
        g->console_fd = TAKE_FD(master);
        g->console_path = xstrdup(name);
        lg->console_slave = TAKE_FD(slave);
        _cleanup_free_ char *what = xasprintf("console pty %s", name);
        guest_undo_push(g, what, undo_console, lg, NULL);
        return 0;
}

/* The running definition's live values, as libvirt-lxc's live XML has
 * them: the console's pty, libvirt's aliases of interfaces (net0...) and
 * consoles (console0...). The veths' names netns/ put there. */
static void live_values(struct lv_guest *g)
{
        struct domain_def *def = g->def;
        for (int i = 0; i < def->n_nets; i++) {
                free(def->nets[i].address.alias);
                def->nets[i].address.alias = xasprintf("net%d", i);
        }
        int n = 0;
        for (int i = 0; i < def->n_chrs; i++) {
                struct domain_chr *c = &def->chrs[i];
                if (c->kind != DOMAIN_CHR_CONSOLE)
                        continue;
                free(c->alias);
                c->alias = xasprintf("console%d", n);
                if (n++ == 0 && g->console_path) { /* the one console litevirt gives */
                        free(c->source_path);
                        c->source_path = xstrdup(g->console_path);
                }
        }
}

static int rootfs_resolve(const struct domain_def *def, char **ret, bool *ret_ro,
                          struct lv_error **err)
{
        const struct domain_fs *root = domain_root_fs(def);
        if (!root)
                return lv_error_setf(err, EINVAL,
                                     "no root filesystem (<filesystem type='mount'> with "
                                     "<target dir='/'/>)");
        if (root->type == DOMAIN_FS_BIND)
                return lv_error_setf(err, ENOTSUP,
                                     "root filesystem: type 'bind' shows a directory of the "
                                     "container's own tree, which the root cannot be (libvirt "
                                     "refuses it at start too; use type='mount')");
        if (root->type != DOMAIN_FS_MOUNT || !root->source)
                return lv_error_setf(err, ENOTSUP,
                                     "root filesystem: only type='mount' with a source directory "
                                     "is supported");
        /* No symlink on the path: one a guest planted (in a directory it
         * can write) would make this start mount whatever it points to. */
        _cleanup_close_ int fd = -1;
        int r = lxc_source_open(root->source, "root filesystem", &fd, err);
        if (r < 0)
                return r;
        char *real = realpath(root->source, NULL);
        if (!real)
                return lv_error_set(err, errno, "root filesystem '%s'", root->source);
        struct stat st;
        if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
                free(real);
                return lv_error_set(err, ENOTDIR, "root filesystem '%s'", root->source);
        }
        *ret = real;
        *ret_ro = root->readonly;
        return 0;
}

static int lxc_check(const struct domain_def *def, struct lv_error **err)
{
        if (def->type != DOMAIN_TYPE_LXC)
                return lv_error_setf(err, EINVAL, "the lxc driver cannot run a '%s' domain",
                                     domain_type_to_string(def->type));
        if (def->os.type != DOMAIN_OS_EXE)
                return lv_error_setf(err, ENOTSUP, "<os><type>: containers need 'exe'");
        /* Better refused than silently missing inside the container. */
        if (def->n_disks > 0)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "<disk>: not supported for containers (use <filesystem>)");
        if (def->n_graphics > 0)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "<graphics>: not supported for containers");
        if (def->os.init && def->os.init[0] != '/')
                return lv_error_setf(err, EINVAL, "<init> '%s': not an absolute path",
                                     def->os.init);
        if (def->os.initdir && def->os.initdir[0] != '/')
                return lv_error_setf(err, EINVAL, "<initdir> '%s': not an absolute path",
                                     def->os.initdir);
        for (int i = 0; i < def->os.n_initenv; i++) {
                const char *n = def->os.initenv[i].name;
                if (!n || !*n || strchr(n, '='))
                        return lv_error_setf(err, EINVAL, "<initenv name='%s'>: not a valid name",
                                             n ? n : "");
        }
        _cleanup_free_ char *root = NULL;
        bool ro;
        uint64_t drop;
        int r = rootfs_resolve(def, &root, &ro, err);
        if (r == 0)
                r = lxc_idmap_validate(def, err);
        if (r == 0)
                r = lxc_caps_compute(def, &drop, err);
        return r;
}

static void seccomp_freep(void **ctx)
{
        lxc_seccomp_free(*ctx);
}

static int lxc_start(struct lv_guest *g, struct lv_error **err)
{
        const struct domain_def *def = g->def;
        int r = lxc_check(def, err);
        if (r < 0)
                return r;
        struct lxc_guest *lg = xcalloc(1, sizeof(*lg));
        lg->console_slave = -1;
        lg->guard = WATCHDOG_NONE;
        lg->oom_fd = -1;
        lg->denies_remounts = lxc_seccomp_denies_remounts(def);
        g->driver_data = lg;
        guest_undo_push(g, "lxc driver state", undo_driver_data, lg, free);

        if ((r = cgroup_guest_create(def, lxc_devices_cgroup_allow, &lg->cg, err)) < 0)
                return r;
        g->cgroup_path = xstrdup(lg->cg->rel_path);
        _cleanup_free_ char *cg_what = xasprintf("cgroup %s", lg->cg->rel_path);
        guest_undo_push(g, cg_what, undo_cgroup, lg, NULL);
        /* cgroup2 and name=systemd are mounted writable inside (mounts.c) */
        if ((r = cgroup_guest_delegate(lg->cg, err)) < 0)
                return r;
        /* the child enters them itself (cgroup.h) */
        _cleanup_(cgroup_entry_close) struct cgroup_entry entry = CGROUP_ENTRY_INIT;
        if ((r = cgroup_entry_open(lg->cg, &entry, err)) < 0)
                return r;
        oom_watch(g, lg);
        fault_point("lxc-after-cgroup");
        _cleanup_free_ char *rootfs = NULL;
        bool root_ro = false;
        uint64_t caps_drop = 0;
        _cleanup_(seccomp_freep) void *seccomp = NULL;
        if ((r = rootfs_resolve(def, &rootfs, &root_ro, err)) < 0 ||
            (r = lxc_caps_compute(def, &caps_drop, err)) < 0 ||
            (r = lxc_seccomp_build(def, &seccomp, err)) < 0)
                return r;
        if ((r = console_open(g, lg, err)) < 0)
                return r;

        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return lv_error_set(err, errno, "creating the sync socket");
        _cleanup_close_ int parent_fd = sp[0];
        _cleanup_close_ int child_fd = sp[1];

        bool userns = def->n_uidmap > 0;
        if (!userns)
                log_warning("guest '%s': a privileged container (no <idmap>): its root is root "
                            "on the host (docs/lxc.md, docs/security.md)",
                            def->name);
        struct lxc_child child = {
                .def = def,
                .rootfs = rootfs,
                .root_readonly = root_ro,
                .userns = userns,
                .sync_fd = child_fd,
                .console_fd = lg->console_slave,
                .console_path = g->console_path,
                .caps_drop = caps_drop,
                .seccomp = seccomp,
                .cgroup = &entry,
        };
        int pidfd = -1;
        struct clone_args args = {
                .flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
                         (userns ? CLONE_NEWUSER : 0) | CLONE_PIDFD,
                .pidfd = (uint64_t)(uintptr_t)&pidfd,
                .exit_signal = SIGCHLD,
        };
        fflush(NULL);
        long pid = cgroup_entry_clone(&entry, &args);
        if (pid < 0)
                return lv_error_set(err, errno, "cloning the container process");
        if (pid == 0) {
                close(parent_fd);
                lxc_container_main(&child);
        }
        g->pid = (pid_t)pid;
        g->pidfd = pidfd;
        struct lxc_proc *proc = xcalloc(1, sizeof(*proc));
        proc->pid = (pid_t)pid;
        proc->pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
        if (proc->pidfd < 0) {
                r = lv_error_set(err, errno, "duplicating the pidfd");
                (void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                siginfo_t si;
                (void)waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED);
                close(pidfd);
                g->pidfd = -1;
                g->pid = 0;
                free(proc);
                return r;
        }
        _cleanup_free_ char *what = xasprintf("container init %ld", pid);
        guest_undo_push(g, what, undo_process, proc, free);
        if ((r = watchdog_start(&lg->guard, proc->pidfd, NULL, NULL, err)) < 0)
                return lv_error_prefix(err, "container init %ld", pid);
        guest_undo_push(g, "the container's guard", undo_guard, lg, NULL);
        close(TAKE_FD(child_fd)); /* the child keeps its end */
        fault_point("lxc-after-clone");

        /* The outside set-up. With a user namespace the child waits for
         * its id maps; it builds its filesystem tree while the cgroup
         * attach and the network set-up run, and waits for GO before it
         * needs them (cgroup namespace, exec). If the child failed
         * meanwhile, its error is the cause worth reporting. */
        if (userns && ((r = lxc_idmap_write((pid_t)pid, def, err)) < 0 ||
                       (r = lxc_sync_send(parent_fd, LXC_SYNC_MAPPED, err)) < 0))
                return lxc_sync_child_error(parent_fd, r, err);
        cgroup_entry_close(&entry);
        if ((r = rlimits_apply((pid_t)pid, err)) < 0)
                return lxc_sync_child_error(parent_fd, r, err);
        if ((r = lxc_network_setup(g, (pid_t)pid, err)) < 0)
                return lxc_sync_child_error(parent_fd, r, err);
        live_values(g);
        fault_point("lxc-after-network");
        if ((r = lxc_sync_send(parent_fd, LXC_SYNC_GO, err)) < 0)
                return lxc_sync_child_error(parent_fd, r, err);
        if ((r = lxc_sync_wait_exec(parent_fd, LXC_START_TIMEOUT_MS, err)) < 0)
                return r;
        log_info("container init %ld exec'd (%s)", pid, def->os.init ? def->os.init : "/sbin/init");
        fault_point("lxc-after-exec");
        return 0;
}

/* ---- signals to init ---- */

/* Whether init has a handler for sig (SigCgt in /proc/PID/status): a
 * PID-namespace init ignores signals it does not catch. */
static bool init_catches(pid_t pid, int sig)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/status", (int)pid);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[256];
        while (f && fgets(line, sizeof line, f))
                if (startswith(line, "SigCgt:")) {
                        unsigned long long mask = strtoull(line + 7, NULL, 16);
                        return (mask >> (sig - 1)) & 1;
                }
        return false;
}

static int signal_init(struct lv_guest *g, int sig, struct lv_error **err)
{
        if (g->pidfd < 0)
                return lv_error_setf(err, LV_ERR_STATE, "the container is not running");
        /* sigabbrev_np has no name for real-time signals */
        char name[32];
        if (sig >= SIGRTMIN)
                snprintf(name, sizeof name, "SIGRTMIN+%d", sig - SIGRTMIN);
        else
                snprintf(name, sizeof name, "SIG%s", sigabbrev_np(sig));
        if (syscall(SYS_pidfd_send_signal, g->pidfd, sig, NULL, 0) < 0)
                return lv_error_set(err, errno, "sending %s to init", name);
        log_info("sent %s to init %d", name, (int)g->pid);
        return 0;
}

enum init_kind { INIT_OTHER, INIT_BUSYBOX, INIT_SYSTEMD };

/* Which init runs: busybox's init waits for its signals with
 * sigtimedwait (nothing shows in SigCgt), so it is recognised by its
 * binary (busybox) and name (init); systemd by its binary. */
static enum init_kind init_kind(pid_t pid)
{
        _cleanup_free_ char *exe_link = xasprintf("/proc/%d/exe", (int)pid);
        _cleanup_free_ char *comm_path = xasprintf("/proc/%d/comm", (int)pid);
        char exe[4096] = "", comm[64] = "";
        ssize_t n = readlink(exe_link, exe, sizeof exe - 1);
        if (n > 0)
                exe[n] = '\0';
        _cleanup_close_ int fd = open(comm_path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && (n = read(fd, comm, sizeof comm - 1)) > 0)
                comm[n] = '\0';
        comm[strcspn(comm, "\n")] = '\0';
        const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
        if (streq(base, "busybox") && streq(comm, "init"))
                return INIT_BUSYBOX;
        if (strstr(base, "systemd"))
                return INIT_SYSTEMD;
        return INIT_OTHER;
}

/* Power off: systemd SIGRTMIN+4, busybox init SIGUSR2, an init catching
 * SIGPWR (sysvinit) SIGPWR, else SIGTERM. The core kills after its
 * timeout when init does not react. */
static int lxc_shutdown(struct lv_guest *g, struct lv_error **err)
{
        pid_t pid = g->pid;
        int sig = SIGTERM;
        switch (init_kind(pid)) {
        case INIT_SYSTEMD:
                sig = SIGRTMIN + 4;
                break;
        case INIT_BUSYBOX:
                sig = SIGUSR2;
                break;
        case INIT_OTHER:
                if (init_catches(pid, SIGPWR))
                        sig = SIGPWR;
                break;
        }
        return signal_init(g, sig, err);
}

/* Reboot: busybox init SIGTERM, systemd and sysvinit SIGINT
 * (ctrl-alt-del). An init that handles neither cannot be asked. */
static int lxc_reboot(struct lv_guest *g, struct lv_error **err)
{
        pid_t pid = g->pid;
        int sig;
        switch (init_kind(pid)) {
        case INIT_BUSYBOX:
                sig = SIGTERM;
                break;
        case INIT_SYSTEMD:
                sig = SIGINT;
                break;
        default:
                if (!init_catches(pid, SIGINT))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "the container's init handles no reboot signal");
                sig = SIGINT;
        }
        return signal_init(g, sig, err);
}

static int lxc_destroy(struct lv_guest *g, struct lv_error **err)
{
        struct lxc_guest *lg = g->driver_data;
        int r = signal_init(g, SIGKILL, err);
        /* Frozen tasks of the v1 freezer would not die. */
        if (lg && lg->cg && g->state == GUEST_STATE_PAUSED)
                (void)cgroup_guest_thaw(lg->cg, NULL);
        return r;
}

static int lxc_suspend(struct lv_guest *g, struct lv_error **err)
{
        struct lxc_guest *lg = g->driver_data;
        if (!lg || !lg->cg)
                return lv_error_setf(err, LV_ERR_STATE, "the container is not running");
        return cgroup_guest_freeze(lg->cg, err);
}

/* A container's current memory is its cgroup memory limit (libvirt's LXC
 * driver does the same). */
static int lxc_setmem(struct lv_guest *g, unsigned long long kib, struct lv_error **err)
{
        struct lxc_guest *lg = g->driver_data;
        if (!lg || !lg->cg)
                return lv_error_setf(err, LV_ERR_STATE, "the container is not running");
        return cgroup_guest_set_memory(lg->cg, kib, err);
}

static int lxc_resume(struct lv_guest *g, struct lv_error **err)
{
        struct lxc_guest *lg = g->driver_data;
        if (!lg || !lg->cg)
                return lv_error_setf(err, LV_ERR_STATE, "the container is not running");
        return cgroup_guest_thaw(lg->cg, err);
}

static int lxc_stats(struct lv_guest *g, struct json_object *out, struct lv_error **err)
{
        struct lxc_guest *lg = g->driver_data;
        if (!lg || !lg->cg)
                return lv_error_setf(err, LV_ERR_STATE, "the container is not running");
        struct cgroup_stats st;
        int r = cgroup_guest_stats(lg->cg, &st, err);
        if (r < 0)
                return r;
        if (st.cpu_time_ns != UINT64_MAX)
                json_object_object_add(out, "cpu.time",
                                       json_object_new_int64((int64_t)st.cpu_time_ns));
        json_object_object_add(out, "balloon.current",
                               json_object_new_int64((int64_t)(st.memory_bytes / 1024)));
        if (st.memory_limit != UINT64_MAX)
                json_object_object_add(out, "balloon.maximum",
                                       json_object_new_int64((int64_t)(st.memory_limit / 1024)));
        json_object_object_add(out, "pids.current",
                               json_object_new_int64((int64_t)st.pids_current));
        if (st.pids_max != UINT64_MAX)
                json_object_object_add(out, "pids.max",
                                       json_object_new_int64((int64_t)st.pids_max));
        if (st.oom_kills != UINT64_MAX)
                json_object_object_add(out, "memory.oom_kills",
                                       json_object_new_int64((int64_t)st.oom_kills));
        return 0;
}

/* In Info and status.json: whether the container is privileged. */
static void lxc_status(struct lv_guest *g, struct json_object *out)
{
        json_object_object_add(out, "privileged", json_object_new_boolean(g->def->n_uidmap == 0));
}

static int lxc_fs_attach_op(struct lv_guest *g, int i, struct lv_error **err)
{
        struct lxc_guest *lg = g->driver_data;
        if (!lg || g->pid <= 0)
                return lv_error_setf(err, LV_ERR_STATE, "the container is not running");
        return lxc_fs_attach(g, i, lg->denies_remounts, err);
}

const struct lv_driver lxc_driver = {
        .name = "lxc",
        .check = lxc_check,
        .start = lxc_start,
        .shutdown = lxc_shutdown,
        .destroy = lxc_destroy,
        .reboot = lxc_reboot,
        .suspend = lxc_suspend,
        .setmem = lxc_setmem,
        .resume = lxc_resume,
        .stats = lxc_stats,
        .status = lxc_status,
        .net_attach = lxc_net_attach,
        .net_detach = lxc_net_detach,
        .fs_attach = lxc_fs_attach_op,
        .fs_detach = lxc_fs_detach,
        /* .exited: the core's default mapping (exit: poweroff; killed by
         * SIGHUP/SIGINT after reboot(2) in the PID namespace: reboot /
         * poweroff; other signals: crash) is the container's. */
};
