/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* liblitevirt: finding guests by their state directories, reading their
 * status cheaply, and cleaning what a dead supervisor left. A state
 * directory belongs to a live supervisor exactly when its flock() is held
 * (the lock dies with the process, whatever killed it). */
#include <dirent.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "litevirt/litevirt.h"
#include "lib/client-internal.h"
#include "lib/methods.h"
#include "util/fileio.h"
#include "util/paths.h"

#define STATUS_MAX (64 * 1024)

/* Fields of /proc/PID/stat: the state letter and the start time. */
static bool proc_stat(pid_t pid, char *ret_state, unsigned long long *ret_start)
{
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        /* comm may hold spaces and parentheses: skip to the last ')'. */
        char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ' || !p[2])
                return false;
        *ret_state = p[2];
        /* fields after comm: 3 state ... 22 starttime */
        for (int field = 2; field < 22 && p; field++)
                p = strchr(p + 1, ' ');
        if (!p)
                return false;
        *ret_start = strtoull(p + 1, NULL, 10);
        return true;
}

unsigned long long lv_proc_starttime(pid_t pid)
{
        char state;
        unsigned long long start;
        return proc_stat(pid, &state, &start) ? start : 0;
}

/* The process runs (a zombie does not) and, when start is known, is the
 * same process (not a reused pid). */
static bool proc_running(pid_t pid, unsigned long long start)
{
        char state;
        unsigned long long st;
        if (pid <= 0 || !proc_stat(pid, &state, &st))
                return false;
        return state != 'Z' && state != 'X' && (start == 0 || st == start);
}

void lv_strv_free(char **names)
{
        strv_free(names);
}

static bool name_ok(const char *name)
{
        return name && *name && !strchr(name, '/') && !streq(name, ".") && !streq(name, "..");
}

/* Open the state directory and test its lock: 1 held by a supervisor,
 * 0 free (the fd, locked LOCK_EX, goes to *ret_fd when asked), -ENOENT. */
static int statedir_probe(const char *name, int *ret_fd)
{
        _cleanup_free_ char *dir = paths_state_dir(name);
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (flock(fd, (ret_fd ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 1 : -errno;
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return 0;
}

static int read_status(const char *name, struct json_object **ret)
{
        _cleanup_free_ char *path = paths_state_file(name, "status.json");
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = file_read_bounded(path, STATUS_MAX, &text, &len, NULL);
        if (r < 0)
                return r;
        struct json_object *o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

static long long json_int(struct json_object *o, const char *key)
{
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static const char *json_str(struct json_object *o, const char *key)
{
        struct json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* rmdir a cgroup directory and its sub-cgroups, depth first. Only empty
 * cgroups go (rmdir fails on one with processes). */
static int cgroup_rmdir_tree(int parent_fd, const char *name)
{
        _cleanup_close_ int fd =
                openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        DIR *d = fdopendir(dup(fd));
        if (d) {
                struct dirent *de;
                while ((de = readdir(d)))
                        if (de->d_type == DT_DIR && !streq(de->d_name, ".") &&
                            !streq(de->d_name, ".."))
                                (void)cgroup_rmdir_tree(fd, de->d_name);
                closedir(d);
        }
        if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* The guest's cgroups are "litevirt-NAME" below the supervisor's own
 * cgroup in each hierarchy; status.json keeps the supervisor's
 * /proc/self/cgroup. Call fn for each hierarchy's parent directory (the
 * hierarchy's controllers, "" for cgroup2); the first error is returned. */
typedef int (*cgroup_fn)(int parent_fd, const char *parent, const char *leaf, const char *ctrls,
                         lv_client_error **err);
static int cgroups_foreach(const char *name, const char *proc_cgroup, cgroup_fn fn,
                           lv_client_error **err)
{
        _cleanup_free_ char *copy = xstrdup(proc_cgroup);
        _cleanup_free_ char *leaf = xasprintf("litevirt-%s", name);
        bool unified = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
        int ret = 0;
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                /* ID:CONTROLLERS:PATH */
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2 || c2[1] != '/' || strstr(c2 + 1, "/.."))
                        continue;
                *c2 = '\0';
                const char *ctrls = c1 + 1;
                const char *path = c2 + 1;
                _cleanup_free_ char *mnt = NULL;
                if (!*ctrls)
                        mnt = xstrdup(unified ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified");
                else if (startswith(ctrls, "name="))
                        mnt = xasprintf("/sys/fs/cgroup/%s", ctrls + 5);
                else
                        mnt = xasprintf("/sys/fs/cgroup/%s", ctrls);
                _cleanup_free_ char *parent = xasprintf("%s%s", mnt, path);
                _cleanup_close_ int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (pfd < 0)
                        continue;
                int r = fn(pfd, parent, leaf, ctrls, ret < 0 ? NULL : err);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

static int cgroup_remove_one(int parent_fd, const char *parent, const char *leaf, const char *ctrls,
                             lv_client_error **err)
{
        int r = cgroup_rmdir_tree(parent_fd, leaf);
        if (r < 0)
                return lv_client_error_set(err, r, NULL, "cannot remove cgroup '%s/%s': %s", parent,
                                           leaf, strerror(-r));
        return 0;
}

/* Remove those directories (only empty cgroups go). */
static int cgroups_remove(const char *name, const char *proc_cgroup, lv_client_error **err)
{
        return cgroups_foreach(name, proc_cgroup, cgroup_remove_one, err);
}

/* SIGKILL every process of a cgroup tree (v1: listed in cgroup.procs). */
static void cgroup_kill_tree(int dir_fd)
{
        _cleanup_close_ int procs = openat(dir_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
        _cleanup_fclose_ FILE *f = procs < 0 ? NULL : fdopen(TAKE_FD(procs), "re");
        int pid;
        while (f && fscanf(f, "%d", &pid) == 1)
                if (pid > 0)
                        (void)kill(pid, SIGKILL);
        DIR *d = fdopendir(dup(dir_fd));
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                        _cleanup_close_ int sub =
                                openat(dir_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (sub >= 0)
                                cgroup_kill_tree(sub);
                }
        if (d)
                closedir(d);
}

/* Kill everything in the guest's cgroup of one hierarchy: cgroup.kill
 * where the kernel has it (cgroup2), else SIGKILL to each process, and a
 * v1 freezer is thawed (frozen tasks would not die). */
static int cgroup_kill_one(int parent_fd, const char *parent, const char *leaf, const char *ctrls,
                           lv_client_error **err)
{
        _cleanup_close_ int fd =
                openat(parent_fd, leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return 0;
        _cleanup_close_ int kfd = openat(fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
        if (kfd >= 0 && write(kfd, "1", 1) == 1)
                return 0;
        cgroup_kill_tree(fd);
        if (strstr(ctrls, "freezer")) {
                _cleanup_close_ int ffd = openat(fd, "freezer.state", O_WRONLY | O_CLOEXEC);
                if (ffd >= 0)
                        (void)!write(ffd, "THAWED", 6);
        }
        return 0;
}

/* A container whose supervisor (and the guard that kills the container
 * with it) are gone, yet runs: nothing can take it over (containers are
 * not reattached), so it is killed through its cgroups and init (by a
 * pidfd checked against its start time: never a reused pid), and waited
 * for (at most 5 s) before its cgroups are removed. */
static int container_kill_stale(const char *name, pid_t pid, unsigned long long start,
                                const char *proc_cgroup, lv_client_error **err)
{
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd >= 0 && proc_running(pid, start))
                (void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        if (proc_cgroup)
                (void)cgroups_foreach(name, proc_cgroup, cgroup_kill_one, NULL);
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        if (pidfd >= 0 && poll(&pfd, 1, 5000) <= 0)
                return lv_client_error_set(err, EBUSY, NULL,
                                           "guest '%s': its container init %d survived SIGKILL",
                                           name, (int)pid);
        /* The other processes of the PID namespace die with init, a
         * moment later: their cgroups empty then. */
        for (int i = 0; i < 50 && proc_cgroup; i++) {
                if (cgroups_remove(name, proc_cgroup, NULL) == 0)
                        return 0;
                usleep(100 * 1000);
        }
        return 0;
}

int lv_guest_cleanup_stale_locked(const char *name, bool remove_dir, lv_client_error **err)
{
        struct json_object *st = NULL;
        bool had_status = read_status(name, &st) == 0;
        if (had_status) {
                pid_t pid = (pid_t)json_int(st, "pid");
                unsigned long long start = (unsigned long long)json_int(st, "pid_starttime");
                const char *driver = json_str(st, "driver");
                if (proc_running(pid, start) && driver && streq(driver, "lxc")) {
                        int r = container_kill_stale(name, pid, start,
                                                     json_str(st, "supervisor_cgroup"), err);
                        if (r < 0) {
                                json_object_put(st);
                                return r;
                        }
                } else if (proc_running(pid, start)) {
                        int r = lv_client_error_set(
                                err, EBUSY, NULL,
                                "guest '%s': its supervisor died but its process %d still runs",
                                name, (int)pid);
                        json_object_put(st);
                        return r;
                }
                const char *cg = json_str(st, "supervisor_cgroup");
                if (cg) {
                        int r = cgroups_remove(name, cg, err);
                        if (r < 0) {
                                json_object_put(st);
                                return r;
                        }
                }
                json_object_put(st);
        }
        _cleanup_free_ char *dir = paths_state_dir(name);
        _cleanup_error_ struct lv_error *e = NULL;
        if (remove_dir) {
                if (rm_rf(dir, &e) < 0 && lv_error_errno(e) != -ENOENT)
                        return lv_client_error_from(err, e);
        } else {
                /* Keep the (locked) directory, drop its contents. */
                static const char *const files[] = {"control.sock", "status.json", "supervisor.pid",
                                                    "definition.json"};
                for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                        _cleanup_free_ char *f = paths_state_file(name, files[i]);
                        (void)unlink(f);
                }
        }
        return 1;
}

int lv_guest_cleanup_stale(const char *name, lv_client_error **err)
{
        if (!name_ok(name))
                return lv_client_error_set(err, EINVAL, NULL, "invalid guest name '%s'",
                                           name ? name : "");
        _cleanup_close_ int fd = -1;
        int r = statedir_probe(name, &fd);
        if (r == -ENOENT || r == 1)
                return 0;
        if (r < 0)
                return lv_client_error_set(err, r, NULL, "guest '%s': cannot lock its state: %s",
                                           name, strerror(-r));
        return lv_guest_cleanup_stale_locked(name, true, err);
}

static int status_read_control(const char *name, lv_guest_status *ret, lv_client_error **err);

static int strcmp_p(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int lv_guest_list(char ***ret_names, lv_client_error **err)
{
        const char *rundir = paths_rundir();
        DIR *d = opendir(rundir);
        char **names = xcalloc(1, sizeof(char *));
        if (!d) {
                if (errno == ENOENT) {
                        *ret_names = names;
                        return 0;
                }
                int e = errno;
                free(names);
                return lv_client_error_set(err, e, NULL, "cannot read '%s': %s", rundir,
                                           strerror(e));
        }
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || de->d_type != DT_DIR)
                        continue;
                int r = statedir_probe(de->d_name, NULL);
                if (r == 0) {
                        (void)lv_guest_cleanup_stale(de->d_name, NULL);
                        continue;
                }
                if (r == -EACCES) {
                        /* not ours to open: its supervisor tells, or
                         * "permission denied" */
                        lv_guest_status st;
                        r = status_read_control(de->d_name, &st, err);
                        if (r == -EACCES) {
                                closedir(d);
                                strv_free(names);
                                return r;
                        }
                        r = r == 0 ? 1 : 0;
                }
                if (r != 1)
                        continue;
                names = xrealloc(names, (n + 2) * sizeof(char *));
                names[n++] = xstrdup(de->d_name);
                names[n] = NULL;
        }
        closedir(d);
        qsort(names, n, sizeof(char *), strcmp_p);
        *ret_names = names;
        return 0;
}

/* The supervisor died but the guest's process runs on (QEMU outlives its
 * supervisor by design): the state status.json last recorded, reason
 * "unsupervised", no supervisor pid. The process is the recorded one only
 * when its start time matches (a reused pid is not the guest). */
static int status_read_orphan(const char *name, lv_guest_status *ret, lv_client_error **err)
{
        struct json_object *st = NULL;
        if (read_status(name, &st) < 0)
                return lv_client_error_set(err, ENOENT, "io.litevirt.Guest.NoSuchGuest",
                                           "guest '%s' is not running", name);
        lv_guest_status s = {0};
        pid_t pid = (pid_t)json_int(st, "pid");
        unsigned long long start = (unsigned long long)json_int(st, "pid_starttime");
        /* A start its supervisor did not finish: QEMU waits, paused (-S),
         * unless the driver recorded that its CPUs run (after `cont`). */
        const char *state = json_str(st, "state");
        struct json_object *ds, *cr;
        if (state && streq(state, "starting"))
                state = json_object_object_get_ex(st, "driver_status", &ds) &&
                                        json_object_object_get_ex(ds, "cpus_running", &cr) &&
                                        json_object_get_boolean(cr)
                                ? "running"
                                : "paused";
        if (!state || streq(state, "shutoff"))
                state = "running";
        snprintf(s.state, sizeof(s.state), "%s", state);
        snprintf(s.reason, sizeof(s.reason), "%s", LV_GUEST_REASON_UNSUPERVISED);
        s.pid = pid;
        json_object_put(st);
        if (start == 0 || !proc_running(pid, start))
                return lv_client_error_set(err, ENOENT, "io.litevirt.Guest.NoSuchGuest",
                                           "guest '%s' is not running", name);
        *ret = s;
        return 0;
}

/* status.json's fields, or Info's answer (the same names). */
static void status_from_json(struct json_object *o, lv_guest_status *s)
{
        snprintf(s->state, sizeof(s->state), "%s", json_str(o, "state") ?: "unknown");
        snprintf(s->reason, sizeof(s->reason), "%s", json_str(o, "reason") ?: "unknown");
        s->supervisor_pid = (pid_t)json_int(o, "supervisor_pid");
        s->pid = (pid_t)json_int(o, "pid");
}

/* A peer that may not open the state directory (a member of the
 * control socket's groups, or nobody at all): ask the supervisor. Not
 * allowed there either: "permission denied", never a made-up state. */
static int status_read_control(const char *name, lv_guest_status *ret, lv_client_error **err)
{
        lv_conn *c = NULL;
        lv_client_error *e = NULL;
        struct json_object *o = NULL;
        int r = lv_connect(name, &c, &e);
        if (r == 0)
                r = lv_call(c, LV_METHOD_INFO, NULL, &o, &e);
        lv_disconnect(c);
        if (r == -ENOENT) {
                lv_client_error_free(e);
                return lv_client_error_set(err, ENOENT, "io.litevirt.Guest.NoSuchGuest",
                                           "guest '%s' is not running", name);
        }
        if (r == -EACCES) {
                lv_client_error_free(e);
                return lv_client_error_set(err, EACCES, LV_ERROR_PERMISSION_DENIED,
                                           "guest '%s': permission denied (uid %d may not read "
                                           "its state nor use its control socket)",
                                           name, (int)getuid());
        }
        if (r < 0) {
                if (err && !*err)
                        *err = e;
                else
                        lv_client_error_free(e);
                return r;
        }
        lv_guest_status s = {0};
        status_from_json(o, &s);
        json_object_put(o);
        *ret = s;
        return 0;
}

int lv_guest_status_read(const char *name, lv_guest_status *ret, lv_client_error **err)
{
        if (!name_ok(name))
                return lv_client_error_set(err, EINVAL, NULL, "invalid guest name '%s'",
                                           name ? name : "");
        int r = statedir_probe(name, NULL);
        if (r == -EACCES)
                return status_read_control(name, ret, err);
        if (r == 0) {
                r = lv_guest_cleanup_stale(name, NULL);
                if (r == -EBUSY)
                        return status_read_orphan(name, ret, err);
                r = -ENOENT;
        }
        if (r < 0)
                return lv_client_error_set(err, ENOENT, "io.litevirt.Guest.NoSuchGuest",
                                           "guest '%s' is not running", name);
        lv_guest_status s = {0};
        struct json_object *st = NULL;
        if (read_status(name, &st) < 0) {
                /* Locked but no status yet: the supervisor is starting. */
                snprintf(s.state, sizeof(s.state), "starting");
                snprintf(s.reason, sizeof(s.reason), "starting up");
        } else {
                status_from_json(st, &s);
                json_object_put(st);
        }
        *ret = s;
        return 0;
}
