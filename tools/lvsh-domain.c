/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh's lifecycle commands: start, shutdown, destroy, reboot, suspend,
 * resume, dominfo, domstate, domstats (console: lvsh-console.c). They talk
 * to the guest's supervisor through liblitevirt only: connect, one
 * request, print. */
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "config.h"
#include "litevirt/litevirt.h"
#include "tools/lvsh-common.h"
#include "tools/lvsh-list.h"
#include "util/autostart.h"
#include "util/paths.h"
#include "lib/methods.h"

extern char **environ;

/* ---- start ---- */

char *lvsh_binary_path(const char *binary, const char *env_var)
{
        const char *env = getenv(env_var);
        if (env && *env)
                return xstrdup(env);
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = '\0';
                char *p = xasprintf("%s/%s", dirname(exe), binary);
                if (access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return xasprintf("%s/%s", LV_BINDIR, binary);
}

static char *supervisor_path(void)
{
        return lvsh_binary_path("litevirt-supervisor", "LITEVIRT_SUPERVISOR");
}

/* The supervisor runs from "/": relative paths in the environment must
 * mean what they mean here. */
void lvsh_environment_absolute(void)
{
        static const char *const vars[] = {"LITEVIRT_CONFDIR",    "LITEVIRT_GUESTDIR",
                                           "LITEVIRT_RUNDIR",     "LITEVIRT_LOGDIR",
                                           "LITEVIRT_MODULE_DIR", "LITEVIRT_NETWORKDIR",
                                           "LITEVIRT_NETRUNDIR",  "LITEVIRT_SAVEDIR"};
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
                return;
        for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
                const char *v = getenv(vars[i]);
                if (!v || !*v || v[0] == '/')
                        continue;
                _cleanup_free_ char *abs = xasprintf("%s/%s", cwd, v);
                setenv(vars[i], abs, 1);
        }
}

/* Read the supervisor's verdict: the line "ok", or its error message, then
 * EOF. */
int lvsh_read_verdict(int fd, char *buf, size_t size)
{
        size_t len = 0;
        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int n = poll(&p, 1, 300 * 1000);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -ETIMEDOUT;
                ssize_t m = read(fd, buf + len, size - 1 - len);
                if (m < 0 && errno == EINTR)
                        continue;
                if (m <= 0)
                        break;
                len += (size_t)m;
                if (len >= size - 1)
                        break;
        }
        if (len > 0 && buf[len - 1] == '\n') /* one line */
                len--;
        buf[len] = '\0';
        return (int)len;
}

int lvsh_spawn_ready(const char *path, const char *argv0, const char *name, char *buf, size_t size,
                     int *ret_n, int *ret_status)
{
        return lvsh_spawn_ready_extra(path, argv0, NULL, name, buf, size, ret_n, ret_status);
}

int lvsh_spawn_ready_extra(const char *path, const char *argv0, const char *const *extra,
                           const char *name, char *buf, size_t size, int *ret_n, int *ret_status)
{
        lvsh_environment_absolute();
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        _cleanup_close_ int rfd = pfd[0];
        _cleanup_close_ int wfd = pfd[1];
        size_t n_extra = 0;
        while (extra && extra[n_extra])
                n_extra++;
        _cleanup_free_ char **args = xcalloc(n_extra + 5, sizeof(char *));
        args[0] = (char *)argv0;
        args[1] = "--ready-fd";
        args[2] = "3";
        for (size_t i = 0; i < n_extra; i++)
                args[3 + i] = (char *)extra[i];
        args[3 + n_extra] = (char *)name;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        /* The write end becomes fd 3 (without close-on-exec). */
        posix_spawn_file_actions_adddup2(&fa, wfd, 3);
        /* Nothing else of ours (or of whoever started us) lives on in the
         * supervisor: a caller waiting for a pipe to close must not wait
         * for the guest's end. */
        posix_spawn_file_actions_addclosefrom_np(&fa, 4);
        /* In a session of its own from the start: its detaching then
         * needs one fork, not two (util/daemon.h). */
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
        pid_t pid;
        int r = posix_spawn(&pid, path, &fa, &attr, args, environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        closep(&wfd);
        wfd = -1;
        *ret_n = lvsh_read_verdict(rfd, buf, size);
        /* The first process exits once the supervisor has detached. */
        while (waitpid(pid, ret_status, 0) < 0 && errno == EINTR)
                ;
        return 0;
}

/* Whether a child of ours (lvsh is a subreaper during start) is still the
 * supervisor or its detaching parent. A guest process that outlived a
 * killed supervisor (QEMU does, by design) becomes our child too: waiting
 * for it would hang `lvsh start` for the guest's lifetime. */
static bool supervisor_child_left(void)
{
        char path[64], line[4096];
        snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
        FILE *f = fopen(path, "re");
        if (!f)
                return true; /* cannot tell: wait as before */
        bool left = false;
        if (fgets(line, sizeof line, f)) {
                char *save = NULL;
                for (char *t = strtok_r(line, " \n", &save); t && !left;
                     t = strtok_r(NULL, " \n", &save)) {
                        char comm_path[64], comm[32] = "";
                        snprintf(comm_path, sizeof comm_path, "/proc/%s/comm", t);
                        FILE *c = fopen(comm_path, "re");
                        if (c && fgets(comm, sizeof comm, c))
                                left = startswith(comm, "litevirt-superv");
                        if (c)
                                fclose(c);
                }
        }
        fclose(f);
        return left;
}

static int supervisor_start(const char *name, struct lv_error **err)
{
        _cleanup_free_ char *what = xasprintf("Failed to start domain '%s'", name);
        return lvsh_supervisor_start(name, NULL, what, err);
}

static int cmd_start(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"console", "force-boot", NULL};
        bool set[2] = {false};
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command("start"), argc, argv, flags, set, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        /* A transient guest (no stored definition) exists while it runs. */
        if (!lvsh_guest_exists(name))
                return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'", name);
        lv_guest_status st;
        /* A guest whose QEMU outlived its supervisor gets a new
         * supervisor, which reattaches to it (with the definition the
         * guest runs with, kept in its state directory). */
        if (lv_guest_status_read(name, &st, NULL) == 0 && !lv_guest_status_unsupervised(&st))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Failed to start domain '%s'\nerror: Requested operation is "
                                     "not valid: domain is already running",
                                     name);
        if ((r = lvsh_managed_save_start(name, set[1], err)) < 0)
                return r;
        if (r == 0 && (r = supervisor_start(name, err)) < 0)
                return r;
        printf("Domain '%s' started\n\n", name);
        if (set[0]) {
                fflush(stdout);
                char *cargv[] = {"console", (char *)name, NULL};
                return lvsh_cmd_console(2, cargv, err);
        }
        return 0;
}

/* Run a supervisor for NAME and wait for its verdict (it started the
 * guest, or reattached to the guest's running process). */
int lvsh_supervisor_start(const char *name, const char *const *extra, const char *what,
                          struct lv_error **err)
{
        _cleanup_free_ char *path = supervisor_path();
        /* The supervisor detaches (double fork): as a subreaper, lvsh
         * becomes its parent, so that after a failed start it can wait
         * until the supervisor has exited ("start fails leaving nothing
         * behind", this process included). */
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        char verdict[4096];
        int n = 0, status = 0;
        int r = lvsh_spawn_ready_extra(path, "litevirt-supervisor", extra, name, verdict,
                                       sizeof(verdict), &n, &status);
        if (r < 0) {
                (void)prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
                return lv_error_set(err, -r, "%s\nerror: cannot run '%s'", what, path);
        }
        if (n != -ETIMEDOUT && (n < 2 || !streq(verdict, "ok"))) {
                /* Failed (the supervisor keeps the pipe open until it
                 * exits): reap it and its detaching parent. */
                while (supervisor_child_left() && (waitpid(-1, NULL, 0) > 0 || errno == EINTR))
                        ;
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
        } else {
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
        }
        (void)prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
        if (n == -ETIMEDOUT)
                return lv_error_setf(err, ETIMEDOUT,
                                     "%s\nerror: the supervisor did not report within 300 s", what);
        if (n >= 2 && streq(verdict, "ok"))
                return 0;
        if (n <= 0) {
                if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
                        return lv_error_setf(err, EIO,
                                             "%s\nerror: the supervisor '%s' failed (exit code %d)",
                                             what, path, WEXITSTATUS(status));
                _cleanup_free_ char *log = paths_guest_log(name);
                return lv_error_setf(err, EIO,
                                     "%s\nerror: the supervisor exited without reporting (see %s)",
                                     what, log);
        }
        return lv_error_setf(err, EIO, "%s\nerror: %s", what, verdict);
}

/* ---- simple lifecycle calls ---- */

static int simple_call(const char *cmdname, int argc, char **argv, const char *method,
                       const char *verb, const char *done, struct lv_error **err)
{
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command(cmdname), argc, argv, NULL, NULL, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        r = lvsh_call(name, method, NULL, NULL, err);
        if (r < 0)
                return lv_error_prefix(err, "Failed to %s domain '%s'\nerror", verb, name);
        printf("Domain '%s' %s\n\n", name, done);
        return 0;
}

static int cmd_reboot(int argc, char **argv, struct lv_error **err)
{
        return simple_call("reboot", argc, argv, LV_METHOD_REBOOT, "reboot", "is being rebooted",
                           err);
}

static int cmd_suspend(int argc, char **argv, struct lv_error **err)
{
        return simple_call("suspend", argc, argv, LV_METHOD_SUSPEND, "suspend", "suspended", err);
}

static int cmd_resume(int argc, char **argv, struct lv_error **err)
{
        return simple_call("resume", argc, argv, LV_METHOD_RESUME, "resume", "resumed", err);
}

void lvsh_wait_supervisor_gone(lv_conn *c)
{
        char buf[256];
        struct pollfd p = {.fd = lv_conn_fd(c), .events = POLLIN};
        for (;;) {
                if (poll(&p, 1, 60 * 1000) <= 0 && errno != EINTR)
                        return;
                ssize_t n = read(p.fd, buf, sizeof(buf));
                if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                        return;
        }
}

int lvsh_guest_destroy(const char *name, struct lv_error **err)
{
        /* A QEMU that outlived its supervisor: a new supervisor reattaches
         * to it (it verifies the process is the recorded one), then
         * destroys it and undoes everything as for any guest. */
        lv_guest_status st;
        int r;
        if (lvsh_name_is_safe(name) && lv_guest_status_read(name, &st, NULL) == 0 &&
            lv_guest_status_unsupervised(&st) && (r = supervisor_start(name, err)) < 0)
                return lv_error_prefix(err, "Failed to destroy domain '%s' (reattach)\nerror",
                                       name);
        lv_conn *c = NULL;
        if ((r = lvsh_connect(name, &c, err)) < 0)
                return lv_error_prefix(err, "Failed to destroy domain '%s'\nerror", name);
        lv_client_error *ce = NULL;
        lv_conn_set_timeout(c, 120 * 1000);
        r = lv_call(c, LV_METHOD_DESTROY, NULL, NULL, &ce);
        if (r >= 0)
                lvsh_wait_supervisor_gone(c);
        lv_disconnect(c);
        if (r < 0) {
                lvsh_error_from_client(err, ce);
                return lv_error_prefix(err, "Failed to destroy domain '%s'\nerror", name);
        }
        return 0;
}

static int cmd_destroy(int argc, char **argv, struct lv_error **err)
{
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command("destroy"), argc, argv, NULL, NULL, NULL, NULL,
                                &name, err);
        if (r < 0 || (r = lvsh_guest_destroy(name, err)) < 0)
                return r;
        printf("Domain '%s' destroyed\n\n", name);
        return 0;
}

/* virsh's shutdown --mode: the one way litevirt shuts this guest down
 * (ACPI power button for a VM, a signal to a container's init), or why
 * the mode asked for is not there. */
static int shutdown_mode_check(const struct lvsh_command *cmd, const char *name, const char *mode,
                               struct lv_error **err)
{
        if (!streq(mode, "acpi") && !streq(mode, "agent") && !streq(mode, "signal") &&
            !streq(mode, "initctl") && !streq(mode, "paravirt"))
                return lvsh_usage_error(cmd, err,
                                        "--mode '%s': not a shutdown mode (acpi, agent, "
                                        "initctl, signal, paravirt)",
                                        mode);
        _cleanup_domain_def_ struct domain_def *def = NULL;
        int r = lvsh_guest_load(name, &def, err);
        if (r < 0)
                return lv_error_prefix(err, "Failed to shutdown domain '%s'\nerror", name);
        bool container = def->type == DOMAIN_TYPE_LXC;
        const char *ours = container ? "signal" : "acpi";
        if (streq(mode, ours))
                return 0;
        if (streq(mode, "agent") && !container)
                return 0; /* guest-shutdown (lvsh-agent.c) */
        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                             "Failed to shutdown domain '%s'\nerror: --mode %s: not available "
                             "for %s; use --mode %s (%s)",
                             name, mode, container ? "a container" : "a virtual machine", ours,
                             container ? "a signal to its init" : "the ACPI power button");
}

static int cmd_shutdown(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"wait", NULL};
        static const char *const valued[] = {"timeout", "mode", NULL};
        bool set[1] = {false};
        const char *values[2] = {NULL, NULL};
        const char *name;
        const struct lvsh_command *cmd = lvsh_find_command("shutdown");
        int r = lvsh_args_parse(cmd, argc, argv, flags, set, valued, values, &name, err);
        if (r < 0)
                return r;
        if (values[1] && (r = shutdown_mode_check(cmd, name, values[1], err)) < 0)
                return r;
        struct json_object *params = NULL;
        if (values[0]) {
                char *end;
                errno = 0;
                long t = strtol(values[0], &end, 10);
                if (*end || errno || t <= 0 || t > 86400)
                        return lvsh_usage_error(
                                cmd, err, "--timeout '%s': not a number of seconds (1..86400)",
                                values[0]);
                params = json_object_new_object();
                json_object_object_add(params, "timeout", json_object_new_int((int)t));
        }
        lv_conn *c = NULL;
        if ((r = lvsh_connect(name, &c, err)) < 0) {
                json_object_put(params);
                return lv_error_prefix(err, "Failed to shutdown domain '%s'\nerror", name);
        }
        lv_client_error *ce = NULL;
        if (values[1] && streq(values[1], "agent")) {
                /* the agent's guest-shutdown (no answer; the guest powers
                 * off); c, connected first, sees the supervisor's end */
                json_object_put(TAKE_PTR(params));
                struct json_object *cmd_json = json_tokener_parse(
                        "{\"execute\":\"guest-shutdown\",\"arguments\":{\"mode\":\"powerdown\"}}");
                r = lvsh_agent_call(name, cmd_json, 0, true, NULL, err);
                if (r < 0) {
                        lv_disconnect(c);
                        return lv_error_prefix(err, "Failed to shutdown domain '%s'\nerror", name);
                }
        } else
                r = lv_call(c, LV_METHOD_SHUTDOWN, params, NULL, &ce);
        json_object_put(params);
        if (r >= 0 && set[0])
                lvsh_wait_supervisor_gone(c);
        lv_disconnect(c);
        if (r < 0) {
                lvsh_error_from_client(err, ce);
                return lv_error_prefix(err, "Failed to shutdown domain '%s'\nerror", name);
        }
        if (set[0])
                printf("Domain '%s' is shut off\n\n", name);
        else
                printf("Domain '%s' is being shutdown\n\n", name);
        return 0;
}

/* ---- setmem ---- */

/* virsh's scaled integer: a number and an optional unit (KiB when none);
 * k/KiB/M/MiB/G/GiB/T/TiB are powers of 1024, KB/MB/GB/TB of 1000, b or
 * bytes plain bytes. Returns KiB (bytes / 1024, as virsh). */
static int parse_size_kib(const char *s, unsigned long long *ret)
{
        static const struct {
                const char *unit;
                unsigned long long bytes;
        } units[] = {
                {"", 1024},
                {"b", 1},
                {"bytes", 1},
                {"k", 1024},
                {"kib", 1024},
                {"kb", 1000},
                {"m", 1ULL << 20},
                {"mib", 1ULL << 20},
                {"mb", 1000000},
                {"g", 1ULL << 30},
                {"gib", 1ULL << 30},
                {"gb", 1000000000},
                {"t", 1ULL << 40},
                {"tib", 1ULL << 40},
                {"tb", 1000000000000ULL},
        };
        char *end;
        if (!s || !(*s >= '0' && *s <= '9'))
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno)
                return -ERANGE;
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                if (strcasecmp(end, units[i].unit) != 0)
                        continue;
                if (v > ULLONG_MAX / units[i].bytes)
                        return -ERANGE;
                *ret = v * units[i].bytes / 1024;
                return 0;
        }
        return -EINVAL;
}

static int cmd_setmem(int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command("setmem");
        static const char *const flags[] = {"live", "current", "config", NULL};
        static const char *const valued[] = {"size", "domain", NULL};
        bool set[3] = {false, false, false};
        const char *values[2] = {NULL, NULL};
        const char *pos[2] = {NULL, NULL};
        int npos = 0;
        /* NAME SIZE as positionals, or --domain NAME / --size SIZE. */
        char **rest = xcalloc((size_t)argc + 1, sizeof(char *));
        int nrest = 0;
        rest[nrest++] = argv[0];
        for (int i = 1; i < argc; i++) {
                if (!startswith(argv[i], "--")) {
                        if (npos >= 2) {
                                free(rest);
                                return lvsh_usage_error(cmd, err, "unexpected argument '%s'",
                                                        argv[i]);
                        }
                        pos[npos++] = argv[i];
                        continue;
                }
                rest[nrest++] = argv[i];
                for (int v = 0; valued[v]; v++)
                        if (streq(argv[i] + 2, valued[v]) && i + 1 < argc)
                                rest[nrest++] = argv[++i];
        }
        int r = lvsh_args_parse(cmd, nrest, rest, flags, set, valued, values, NULL, err);
        free(rest);
        if (r < 0)
                return r;
        const char *name = values[1], *size = values[0];
        for (int i = 0; i < npos; i++) {
                if (!name)
                        name = pos[i];
                else if (!size)
                        size = pos[i];
                else
                        return lvsh_usage_error(cmd, err, "unexpected argument '%s'", pos[i]);
        }
        if (!name)
                return lvsh_usage_error(cmd, err, "a domain name is required");
        if (!size)
                return lvsh_usage_error(cmd, err, "a memory SIZE is required");
        if (set[2])
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "Failed to set memory of domain '%s'\nerror: --config is not "
                                     "supported: edit the definition (lvsh define) instead",
                                     name);
        unsigned long long kib = 0;
        if ((r = parse_size_kib(size, &kib)) < 0 || kib == 0)
                return lvsh_usage_error(cmd, err,
                                        "invalid memory size '%s': a positive number with an "
                                        "optional unit (KiB by default; b, k, KiB, KB, M, MiB, "
                                        "MB, G, GiB, GB, T, TiB, TB)",
                                        size);
        if (kib > (unsigned long long)INT64_MAX)
                return lvsh_usage_error(cmd, err, "memory size '%s' is too large", size);
        struct json_object *params = json_object_new_object();
        json_object_object_add(params, "memory_kib", json_object_new_int64((int64_t)kib));
        r = lvsh_call(name, LV_METHOD_SET_MEMORY, params, NULL, err);
        json_object_put(params);
        if (r < 0)
                return lv_error_prefix(err, "Failed to set memory of domain '%s'\nerror", name);
        return 0;
}

/* ---- queries ---- */

static const char *state_text(const char *id)
{
        static const char *const map[][2] = {
                {"running", "running"},      {"paused", "paused"},    {"starting", "paused"},
                {"shutdown", "in shutdown"}, {"shutoff", "shut off"}, {"crashed", "crashed"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (streq(map[i][0], id))
                        return map[i][1];
        return "no state";
}

/* domstate --json: one object a script can rely on (docs/cluster.md). */
static void domstate_json_print(const char *name, const lv_guest_status *st, bool defined)
{
        bool unsupervised = lv_guest_status_unsupervised(st);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "state", json_object_new_string(st->state));
        json_object_object_add(o, "state_text", json_object_new_string(state_text(st->state)));
        json_object_object_add(o, "reason", json_object_new_string(st->reason));
        json_object_object_add(o, "active", json_object_new_boolean(!streq(st->state, "shutoff")));
        json_object_object_add(
                o, "supervised",
                json_object_new_boolean(!streq(st->state, "shutoff") && !unsupervised));
        json_object_object_add(o, "persistent", json_object_new_boolean(defined));
        json_object_object_add(o, "pid", st->pid > 0 ? json_object_new_int(st->pid) : NULL);
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
}

/* A defined guest that does not run: how its supervisor recorded it
 * ended (shut off (migrated), (shutdown), ...), else shut off (unknown). */
static void domstate_ended(const char *name, lv_guest_status *st)
{
        snprintf(st->state, sizeof(st->state), "shutoff");
        snprintf(st->reason, sizeof(st->reason), "unknown");
        struct json_object *o = lvsh_guest_ended(name), *v;
        if (json_object_object_get_ex(o, "reason", &v) && json_object_is_type(v, json_type_string))
                snprintf(st->reason, sizeof(st->reason), "%s", json_object_get_string(v));
        json_object_put(o);
}

static int cmd_domstate(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"reason", "json", NULL};
        bool set[2] = {false, false};
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command("domstate"), argc, argv, flags, set, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        lv_guest_status st;
        lv_client_error *ce = NULL;
        r = lv_guest_status_read(name, &st, &ce);
        if (r == -ENOENT) {
                lv_client_error_free(ce);
                _cleanup_free_ char *xml = paths_guest_xml(name);
                if (!lvsh_name_is_safe(name) || access(xml, F_OK) < 0)
                        return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'",
                                             name);
                st = (lv_guest_status){.pid = 0};
                domstate_ended(name, &st);
                /* as virsh: a managed save is "shut off (saved)" */
                if (lvsh_managed_save_exists(name))
                        snprintf(st.reason, sizeof(st.reason), "saved");
        } else if (r < 0) {
                return lvsh_error_from_client(err, ce);
        }
        if (set[1]) {
                _cleanup_free_ char *xml = paths_guest_xml(name);
                domstate_json_print(name, &st, access(xml, F_OK) == 0);
        } else if (set[0])
                printf("%s (%s)\n\n", state_text(st.state), st.reason);
        else
                printf("%s\n\n", state_text(st.state));
        return 0;
}

#define ROW(label, fmt, ...) printf("%-15s " fmt "\n", label, __VA_ARGS__)

static int cmd_dominfo(int argc, char **argv, struct lv_error **err)
{
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command("dominfo"), argc, argv, NULL, NULL, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        lv_conn *c = NULL;
        _cleanup_error_ struct lv_error *cerr = NULL;
        r = lvsh_connect(name, &c, &cerr);
        if (r < 0 && cerr->code != LV_ERR_STATE) {
                *err = TAKE_PTR(cerr);
                return r;
        }
        if (r < 0) {
                /* Not running: the stored definition. Or running without a
                 * supervisor (it died, QEMU runs on): say so. */
                lv_guest_status st;
                bool orphan = lv_guest_status_read(name, &st, NULL) == 0 &&
                              lv_guest_status_unsupervised(&st);
                _cleanup_domain_def_ struct domain_def *def = NULL;
                _cleanup_error_ struct lv_error *lerr = NULL;
                if ((!orphan || lvsh_guest_load_running(name, &def, &lerr) < 0) &&
                    (r = lvsh_guest_load(name, &def, err)) < 0)
                        return r;
                _cleanup_free_ char *stored = paths_guest_xml(name);
                char uuid[37];
                domain_uuid_format(def->uuid, uuid);
                if (orphan)
                        ROW("Id:", "%d", (int)st.pid);
                else
                        ROW("Id:", "%s", "-");
                ROW("Name:", "%s", def->name);
                ROW("UUID:", "%s", uuid);
                ROW("OS Type:", "%s", domain_os_type_to_string(def->os.type) ?: "unknown");
                ROW("State:", "%s", orphan ? state_text(st.state) : "shut off");
                if (orphan)
                        ROW("Supervisor:", "%s", "none (lvsh start NAME reattaches one)");
                ROW("CPU(s):", "%u", def->vcpus ? def->vcpus : 1);
                ROW("Max memory:", "%llu KiB", def->memory_kib);
                ROW("Used memory:", "%llu KiB",
                    def->current_memory_kib ? def->current_memory_kib : def->memory_kib);
                ROW("Persistent:", "%s", access(stored, F_OK) == 0 ? "yes" : "no");
                ROW("Autostart:", "%s", autostart_enabled(name) ? "enable" : "disable");
                ROW("Managed save:", "%s", lvsh_managed_save_exists(name) ? "yes" : "no");
                ROW("Security model:", "%s", "none");
                ROW("Security DOI:", "%s", "0");
                printf("\n");
                return 0;
        }
        struct json_object *o = NULL;
        lv_client_error *ce = NULL;
        r = lv_call(c, LV_METHOD_INFO, NULL, &o, &ce);
        lv_disconnect(c);
        if (r < 0)
                return lvsh_error_from_client(err, ce);
        long long id = 0, vcpus = 1, maxmem = 0, mem = 0, used = 0, cpu = 0;
        lvsh_json_i64(o, "id", &id);
        lvsh_json_i64(o, "vcpus", &vcpus);
        lvsh_json_i64(o, "max_memory_kib", &maxmem);
        lvsh_json_i64(o, "memory_kib", &mem);
        if (!lvsh_json_i64(o, "memory_used_kib", &used))
                used = mem;
        struct json_object *v;
        bool persistent =
                json_object_object_get_ex(o, "persistent", &v) && json_object_get_boolean(v);
        bool autostart =
                json_object_object_get_ex(o, "autostart", &v) && json_object_get_boolean(v);
        ROW("Id:", "%lld", id);
        ROW("Name:", "%s", lvsh_json_str(o, "name", name));
        ROW("UUID:", "%s", lvsh_json_str(o, "uuid", ""));
        ROW("OS Type:", "%s", lvsh_json_str(o, "os_type", "unknown"));
        ROW("State:", "%s", lvsh_json_str(o, "state_text", "no state"));
        ROW("CPU(s):", "%lld", vcpus);
        if (lvsh_json_i64(o, "cpu_time_ns", &cpu))
                ROW("CPU time:", "%.1fs", (double)cpu / 1e9);
        ROW("Max memory:", "%lld KiB", maxmem);
        ROW("Used memory:", "%lld KiB", used);
        ROW("Persistent:", "%s", persistent ? "yes" : "no");
        ROW("Autostart:", "%s", autostart ? "enable" : "disable");
        ROW("Managed save:", "%s", lvsh_managed_save_exists(name) ? "yes" : "no");
        ROW("Security model:", "%s", "none");
        ROW("Security DOI:", "%s", "0");
        struct json_object *ds, *pv;
        if (json_object_object_get_ex(o, "driver_status", &ds) &&
            json_object_object_get_ex(ds, "privileged", &pv))
                ROW("Privileged:", "%s",
                    json_object_get_boolean(pv)
                            ? "yes (no <idmap>: root in the container is root on the host)"
                            : "no (<idmap>)");
        printf("\n");
        json_object_put(o);
        return 0;
}

static void print_stats(const char *name, struct json_object *stats)
{
        printf("Domain: '%s'\n", name);
        json_object_object_foreach(stats, key, val)
        {
                if (json_object_is_type(val, json_type_object) ||
                    json_object_is_type(val, json_type_array))
                        continue;
                printf("  %s=%s\n", key, json_object_get_string(val));
        }
        printf("\n");
}

static int cmd_domstats(int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command("domstats");
        char **names = NULL;
        bool own = false;
        for (int i = 1; i < argc; i++)
                if (startswith(argv[i], "--"))
                        return lvsh_usage_error(cmd, err, "unknown option '%s'", argv[i]);
        if (argc > 1) {
                names = argv + 1;
        } else {
                lv_client_error *ce = NULL;
                if (lv_guest_list(&names, &ce) < 0)
                        return lvsh_error_from_client(err, ce);
                own = true;
        }
        int ret = 0;
        for (char **n = names; *n; n++) {
                struct json_object *o = NULL;
                int r = lvsh_call(*n, LV_METHOD_STATS, NULL, &o, err);
                if (r < 0) {
                        ret = r;
                        break;
                }
                struct json_object *stats;
                if (json_object_object_get_ex(o, "stats", &stats))
                        print_stats(*n, stats);
                json_object_put(o);
        }
        if (own)
                lv_strv_free(names);
        return ret;
}

/* virsh's words for a lifecycle event: "Suspended Paused". */
static const char *event_words(const char *event)
{
        static const char *const map[][2] = {
                {"started", "Started Booted"},
                {"started-after-crash", "Started Booted"},
                {"started-incoming", "Started Migrated"},
                {"suspended", "Suspended Paused"},
                {"resumed", "Resumed Unpaused"},
                {"shutdown-requested", "Shutdown On host request"},
                {"restarting", "Stopped Shutdown"},
                {"stopped-shutdown", "Stopped Shutdown"},
                {"stopped-destroyed", "Stopped Destroyed"},
                {"stopped-crashed", "Stopped Crashed"},
                {"stopped-migrated", "Stopped Migrated"},
                {"start-failed", "Stopped Failed"},
                {"crashed", "Crashed Panicked"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (streq(map[i][0], event))
                        return map[i][1];
        return event;
}

static int cmd_event(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"loop", NULL};
        bool set[1] = {false};
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command("event"), argc, argv, flags, set, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        lv_conn *c = NULL;
        if ((r = lvsh_connect(name, &c, err)) < 0)
                return r;
        lv_conn_set_timeout(c, -1);
        lv_client_error *ce = NULL;
        r = lv_call_more(c, LV_METHOD_EVENTS, NULL, &ce);
        int events = 0;
        bool continues = true;
        while (r >= 0 && continues && (set[0] || events == 0)) {
                struct json_object *o = NULL;
                r = lv_read_reply(c, &o, &continues, &ce);
                if (r < 0)
                        break;
                const char *ev = lvsh_json_str(o, "event", "");
                if (!streq(ev, "current")) {
                        printf("event 'lifecycle' for domain '%s': %s\n", name, event_words(ev));
                        fflush(stdout);
                        events++;
                }
                json_object_put(o);
        }
        lv_disconnect(c);
        if (r == -ECONNRESET && events > 0) {
                /* The supervisor exited after the guest's last event. */
                lv_client_error_free(ce);
                r = 0;
        } else if (r < 0) {
                return lvsh_error_from_client(err, ce);
        }
        printf("events received: %d\n\n", events);
        return 0;
}

const struct lvsh_command lvsh_domain_commands[] = {
        {"start", "NAME [--console] [--force-boot]", "start a (previously defined) inactive domain",
         "    Spawns the guest's supervisor, which runs it; returns once the guest\n"
         "    runs, or prints why it could not start (leaving nothing behind).\n"
         "    A guest with a managed save (lvsh managedsave) resumes from it, and the\n"
         "    image is removed; --force-boot removes it and boots afresh.\n"
         "    --console attaches to the console once it runs.",
         cmd_start},
        {"shutdown", "NAME [--timeout SECONDS] [--wait] [--mode acpi|agent|signal]",
         "gracefully shutdown a domain",
         "    Asks the guest to shut down (a container's init is signalled, a VM gets\n"
         "    the ACPI power button). After --timeout seconds (default: host.conf "
         "shutdown_timeout, 300) it is\n"
         "    destroyed. --wait returns only once it is off. --mode names the way\n"
         "    (virsh's): acpi for a VM, signal for a container; agent for a VM\n"
         "    asks its QEMU guest agent (guest-shutdown; --timeout does not apply,\n"
         "    an agent that does not answer is an error); any other is refused\n"
         "    with the reason.",
         cmd_shutdown},
        {"destroy", "NAME", "destroy (stop) a domain",
         "    Kills the guest now and waits until everything it used is released.", cmd_destroy},
        {"reboot", "NAME", "reboot a domain", NULL, cmd_reboot},
        {"suspend", "NAME", "suspend a domain",
         "    Freezes every process of the guest (cgroup freezer, or QEMU stop).", cmd_suspend},
        {"resume", "NAME", "resume a domain", NULL, cmd_resume},
        {"setmem", "NAME SIZE [--live] [--current] [--config]", "change memory allocation",
         "    Sets the running guest's current memory: SIZE in KiB, or with a unit\n"
         "    (100M, 1GiB, 500MB, ...). A VM inflates or deflates its virtio\n"
         "    balloon (a guest without one is refused); a container gets it as its\n"
         "    cgroup memory limit. At most the guest's maximum memory. --live and\n"
         "    --current are the default; --config is not supported.",
         cmd_setmem},
        {"dominfo", "NAME", "domain information", NULL, cmd_dominfo},
        {"domstate", "NAME [--reason] [--json]", "domain state",
         "    --reason adds why the guest is in that state, as virsh does:\n"
         "    running (booted), paused (user), shut off (destroyed), ...\n"
         "    --json prints one line for scripts: {\"name\", \"state\" (running,\n"
         "    paused, starting, shutdown, shutoff, crashed), \"state_text\",\n"
         "    \"reason\", \"active\", \"supervised\" (false: no supervisor, e.g.\n"
         "    running (unsupervised)), \"persistent\", \"pid\"}.",
         cmd_domstate},
        {"domstats", "[NAME...]", "get statistics about one or multiple domains",
         "    Without names, every running guest.", cmd_domstats},
        {"event", "NAME [--loop]", "Domain Events",
         "    Waits for the guest's next lifecycle event and prints it as virsh\n"
         "    does; --loop keeps printing until the guest has stopped.",
         cmd_event},
        LVSH_CONSOLE_COMMAND,
        {0},
};
