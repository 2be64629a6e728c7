/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Xen driver: the guest runs through Xen's own toolstack. The process
 * the supervisor watches is `xl create -F CFG` (it stays in the foreground
 * until the domain is gone and restarts it on reboot as on_reboot says);
 * lifecycle operations are xl commands on the domain's name, and the
 * state comes from `xl list`. Without a hypervisor (/proc/xen absent) a
 * start fails at check(), before anything is created. */
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "supervisor/lifecycle.h"
#include "util/fileio.h"
#include "util/log.h"
#include "xen/xl.h"
#include "xen/xlcfg.h"

extern char **environ;

/* How long start() waits for the domain to appear in `xl list`, in
 * 100 ms steps of poll() on the xl process's pidfd (which also tells us
 * when xl gave up early). */
#define XEN_START_STEPS 600

static int xen_check(const struct domain_def *def, struct lv_error **err)
{
        _cleanup_free_ char *cfg = NULL;
        int r = xen_xlcfg_format(def, &cfg, err);
        if (r < 0)
                return r;
        return xen_host_check(err);
}

/* Stop a child we started and reap it, by pidfd: its pid may already have
 * been reaped by the core (it watches the same process) and reused. */
static void pidfd_kill_wait(int pidfd)
{
        siginfo_t info;
        if (pidfd < 0)
                return;
        syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0);
        while (waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED) < 0 && errno == EINTR)
                ;
}

struct xl_process {
        pid_t pid;
        int pidfd;
        char *name;
};

static void xl_process_undo(struct lv_guest *g, void *data)
{
        struct xl_process *p = data;
        char *args[] = {"destroy", p->name, NULL};
        _cleanup_error_ struct lv_error *e = NULL;
        /* the domain first, so xl create -F sees it die and exits */
        (void)xen_xl_run(args, NULL, &e);
        if (p->pid > 0)
                pidfd_kill_wait(p->pidfd);
        if (p->pidfd >= 0)
                close(p->pidfd);
        p->pid = 0;
        p->pidfd = -1;
}

static void xl_process_free(void *data)
{
        struct xl_process *p = data;
        free(p->name);
        free(p);
}

static void unlink_undo(struct lv_guest *g, void *data)
{
        unlink(data);
}

/* The console: `xl console NAME` on a pty whose master the core relays
 * to `lvsh console`. It ends by itself with the domain. */
struct console_helper {
        pid_t pid;
        int pidfd;
};

static void console_helper_undo(struct lv_guest *g, void *data)
{
        struct console_helper *c = data;
        if (c->pidfd >= 0) {
                pidfd_kill_wait(c->pidfd);
                close(c->pidfd);
                c->pidfd = -1;
        }
        if (g->console_fd >= 0) {
                close(g->console_fd);
                g->console_fd = -1;
        }
        free(g->console_path);
        g->console_path = NULL;
}

static int console_start(struct lv_guest *g, struct lv_error **err)
{
        int master = -1, slave = -1;
        char path[128];
        if (openpty(&master, &slave, path, NULL, NULL) < 0)
                return lv_error_set(err, errno, "guest '%s': openpty for the console", g->name);
        /* the master stays in the supervisor only */
        (void)fcntl(master, F_SETFD, FD_CLOEXEC);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, slave, 0);
        posix_spawn_file_actions_adddup2(&fa, slave, 1);
        posix_spawn_file_actions_adddup2(&fa, slave, 2);
        posix_spawn_file_actions_addclose(&fa, master);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
        const char *xl = xen_xl_path();
        char *argv[] = {(char *)xl, "console", (char *)g->name, NULL};
        pid_t pid;
        int r = posix_spawnp(&pid, xl, &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close(slave);
        if (r != 0) {
                close(master);
                return lv_error_set(err, r, "guest '%s': running '%s console'", g->name, xl);
        }
        struct console_helper *c = xcalloc(1, sizeof(*c));
        c->pid = pid;
        c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        g->console_fd = master;
        g->console_path = xstrdup(path);
        guest_undo_push(g, "xl console", console_helper_undo, c, free);
        if (c->pidfd < 0)
                return lv_error_set(err, errno, "guest '%s': pidfd_open(%d)", g->name, (int)pid);
        return 0;
}

/* $RUNDIR/NAME/xen.json: the displays in use, in the schema the QEMU
 * driver's qemu.json has ({"graphics": [{"type", "listen", "port"}]}), for
 * `lvsh vncdisplay` / `domdisplay`. VNC autoport is resolved through
 * xenstore, as `xl vncviewer` does; best effort (the device model may not
 * have published it yet). */
static int display_info_write(struct lv_guest *g, struct lv_error **err)
{
        const struct domain_def *def = g->def;
        if (!def->n_graphics)
                return 0;
        struct json_object *arr = json_object_new_array();
        for (int i = 0; i < def->n_graphics; i++) {
                const struct domain_graphics *gr = &def->graphics[i];
                int port = gr->port;
                if (gr->type == DOMAIN_GRAPHICS_VNC && port < 0) {
                        int display;
                        _cleanup_error_ struct lv_error *e = NULL;
                        if (xen_domain_vncdisplay(g->name, &display, &e) < 0)
                                continue;
                        port = 5900 + display;
                }
                if (port < 0)
                        continue;
                struct json_object *o = json_object_new_object();
                json_object_object_add(
                        o, "type",
                        json_object_new_string(domain_graphics_type_to_string(gr->type)));
                json_object_object_add(
                        o, "listen", json_object_new_string(gr->listen ? gr->listen : "127.0.0.1"));
                json_object_object_add(o, "port", json_object_new_int(port));
                json_object_array_add(arr, o);
        }
        struct json_object *root = json_object_new_object();
        json_object_object_add(root, "graphics", arr);
        const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
        char *path = xasprintf("%s/xen.json", g->state_dir);
        int r = file_write_atomic(path, text, strlen(text), 0644, err);
        json_object_put(root);
        if (r < 0) {
                free(path);
                return r;
        }
        guest_undo_push(g, "xen.json", unlink_undo, path, free);
        return 0;
}

static int xen_start(struct lv_guest *g, struct lv_error **err)
{
        _cleanup_free_ char *cfg = NULL;
        int r = xen_xlcfg_format(g->def, &cfg, err);
        if (r < 0)
                return r;
        if ((r = xen_host_check(err)) < 0)
                return r;

        char *path = xasprintf("%s/xl.cfg", g->state_dir);
        /* 0600: the config may hold VNC/SPICE passwords */
        r = file_write_atomic(path, cfg, strlen(cfg), 0600, err);
        if (r < 0) {
                free(path);
                return r;
        }
        guest_undo_push(g, "xl.cfg", unlink_undo, path, free);

        _cleanup_free_ char *log_path = xasprintf("%s/xl.log", g->state_dir);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        const char *xl = xen_xl_path();
        char *argv[] = {(char *)xl, "create", "-F", path, NULL};
        pid_t pid;
        r = posix_spawnp(&pid, xl, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return lv_error_set(err, r, "guest '%s': running '%s create -F %s'", g->name, xl,
                                    path);
        struct xl_process *p = xcalloc(1, sizeof(*p));
        p->pid = pid;
        p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        p->name = xstrdup(g->name);
        guest_undo_push(g, "xl create -F", xl_process_undo, p, xl_process_free);
        if (p->pidfd < 0)
                return lv_error_set(err, errno, "guest '%s': pidfd_open(%d)", g->name, (int)pid);

        for (int step = 0; step < XEN_START_STEPS; step++) {
                enum guest_state state;
                _cleanup_error_ struct lv_error *e = NULL;
                if (xen_domain_state(g->name, &state, &e) == 0 && state == GUEST_STATE_RUNNING) {
                        g->pid = p->pid;
                        g->pidfd = dup(p->pidfd);
                        if (g->pidfd < 0)
                                return lv_error_set(err, errno, "guest '%s': dup(pidfd)", g->name);
                        log_info("guest '%s': xl create -F running as pid %d", g->name, (int)pid);
                        if ((r = display_info_write(g, err)) < 0)
                                return r;
                        return console_start(g, err);
                }
                struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
                if (poll(&pfd, 1, 100) > 0) {
                        int status = 0;
                        waitpid(pid, &status, 0);
                        p->pid = 0;
                        _cleanup_free_ char *log = NULL;
                        size_t len;
                        _cleanup_error_ struct lv_error *e2 = NULL;
                        (void)file_read_bounded(log_path, 64 * 1024, &log, &len, &e2);
                        const char *last = log ? log : "";
                        while (len > 0 && log && (log[len - 1] == '\n'))
                                log[--len] = '\0';
                        if (log && strrchr(log, '\n'))
                                last = strrchr(log, '\n') + 1;
                        return lv_error_setf(err, EIO,
                                             "guest '%s': xl create exited (status %d)%s%s",
                                             g->name, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                                             *last ? ": " : "", last);
                }
        }
        return lv_error_setf(err, ETIMEDOUT, "guest '%s': not running %d s after xl create",
                             g->name, XEN_START_STEPS / 10);
}

static int xl_on_domain(struct lv_guest *g, const char *verb, struct lv_error **err)
{
        char *args[] = {(char *)verb, (char *)g->name, NULL};
        int r = xen_xl_run(args, NULL, err);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s': %s", g->name, verb);
        return 0;
}

static int xen_shutdown(struct lv_guest *g, struct lv_error **err)
{
        return xl_on_domain(g, "shutdown", err);
}

static int xen_destroy(struct lv_guest *g, struct lv_error **err)
{
        return xl_on_domain(g, "destroy", err);
}

static int xen_reboot(struct lv_guest *g, struct lv_error **err)
{
        return xl_on_domain(g, "reboot", err);
}

static int xen_suspend(struct lv_guest *g, struct lv_error **err)
{
        return xl_on_domain(g, "pause", err);
}

static int xen_resume(struct lv_guest *g, struct lv_error **err)
{
        return xl_on_domain(g, "unpause", err);
}

/* `xl list NAME`: Name ID Mem(MiB) VCPUs State Time(s) */
static int xen_stats(struct lv_guest *g, struct json_object *out, struct lv_error **err)
{
        char *args[] = {"list", (char *)g->name, NULL};
        _cleanup_free_ char *text = NULL;
        int r = xen_xl_run(args, &text, err);
        if (r < 0)
                return r;
        char *line = strchr(text, '\n');
        char name[128], state[16];
        long id, mem, vcpus;
        double secs;
        if (!line || sscanf(line + 1, "%127s %ld %ld %ld %15s %lf", name, &id, &mem, &vcpus, state,
                            &secs) != 6)
                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                     "guest '%s': unexpected 'xl list' output", g->name);
        json_object_object_add(out, "balloon.current", json_object_new_int64((int64_t)mem * 1024));
        json_object_object_add(out, "vcpu.current", json_object_new_int64(vcpus));
        json_object_object_add(out, "cpu.time", json_object_new_int64((int64_t)(secs * 1e9)));
        json_object_object_add(out, "xen.domid", json_object_new_int64(id));
        return 0;
}

/* xl create -F logs "Domain N has shut down, reason code R ..." before it
 * acts on it (R: 0 poweroff, 1 reboot, 2 suspend, 3 crash, 4 watchdog,
 * 5 soft reset); the last one says how the guest ended. */
static int xen_exited(struct lv_guest *g, int wait_status)
{
        _cleanup_free_ char *path = xasprintf("%s/xl.log", g->state_dir);
        _cleanup_free_ char *log = NULL;
        _cleanup_error_ struct lv_error *e = NULL;
        size_t len;
        int reason = -1;
        if (file_read_bounded(path, 1024 * 1024, &log, &len, &e) == 0) {
                for (const char *p = log; (p = strstr(p, "has shut down, reason code ")); p++)
                        reason = atoi(p + strlen("has shut down, reason code "));
        }
        switch (reason) {
        case 0:
        case 2:
                return GUEST_EXIT_POWEROFF;
        case 1:
        case 5:
                return GUEST_EXIT_REBOOT;
        case 3:
        case 4:
                return GUEST_EXIT_CRASH;
        default:
                return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0 ? GUEST_EXIT_POWEROFF
                                                                               : GUEST_EXIT_CRASH;
        }
}

const struct lv_driver xen_driver = {
        .name = "xen",
        .check = xen_check,
        .start = xen_start,
        .shutdown = xen_shutdown,
        .destroy = xen_destroy,
        .reboot = xen_reboot,
        .suspend = xen_suspend,
        .resume = xen_resume,
        .stats = xen_stats,
        .exited = xen_exited,
};
