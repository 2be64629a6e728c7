/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest's state directory ($RUNDIR/NAME, 0700, or reachable by the
 * control socket's groups, see control_statedir_mode()): taken with flock() so
 * that one guest never has two supervisors, holding supervisor.pid,
 * status.json (rewritten atomically at every state change: enough for a
 * later supervisor to find what an earlier one left) and control.sock. */
#include <json-c/json.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "litevirt/litevirt.h"
#include "supervisor/supervisor.h"
#include "util/autostart.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/paths.h"

static int read_pid_file(const char *name)
{
        _cleanup_free_ char *path = paths_state_file(name, "supervisor.pid");
        _cleanup_free_ char *s = NULL;
        if (file_read_bounded(path, 64, &s, NULL, NULL) < 0)
                return 0;
        return atoi(s);
}

int statedir_acquire(const char *name, mode_t mode, gid_t group, int *ret_dir_fd,
                     struct lv_error **err)
{
        int r = mkdir_p(paths_rundir(), 0755, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = paths_state_dir(name);
        int busy_retries = 50;
        for (int attempt = 0; attempt < 8; attempt++) {
                if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                        return lv_error_set(err, errno, "cannot create state directory '%s'", dir);
                _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) {
                        if (errno == ENOENT)
                                continue; /* removed by an exiting supervisor */
                        return lv_error_set(err, errno, "cannot open state directory '%s'", dir);
                }
                if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                        if (errno != EWOULDBLOCK)
                                return lv_error_set(err, errno, "cannot lock '%s'", dir);
                        int pid = read_pid_file(name);
                        if ((pid <= 0 || kill(pid, 0) < 0) && busy_retries-- > 0) {
                                /* Held, but by no supervisor (yet): `lvsh list`
                                 * probing it for a moment, or a supervisor
                                 * between its lock and its pid file. */
                                usleep(2000);
                                attempt--;
                                continue;
                        }
                        if (pid > 0)
                                return lv_error_setf(err, EBUSY,
                                                     "guest '%s' already has a supervisor (pid %d)",
                                                     name, pid);
                        return lv_error_setf(err, EBUSY, "guest '%s' already has a supervisor",
                                             name);
                }
                /* Locked: is it still the directory at that path? */
                struct stat a, b;
                if (fstat(fd, &a) < 0)
                        return lv_error_set(err, errno, "cannot stat '%s'", dir);
                if (stat(dir, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                        continue;
                if (fchmod(fd, mode) < 0)
                        return lv_error_set(err, errno, "cannot set the mode of '%s'", dir);
                if (group != (gid_t)-1 && fchown(fd, (uid_t)-1, group) < 0)
                        return lv_error_set(err, errno, "cannot give '%s' to group %u", dir,
                                            (unsigned)group);
                *ret_dir_fd = TAKE_FD(fd);
                /* alive again: how it ended last time is history */
                _cleanup_free_ char *ended = paths_guest_ended(name);
                (void)unlink(ended);
                return 0;
        }
        return lv_error_setf(err, EAGAIN, "cannot take state directory '%s': it keeps changing",
                             dir);
}

void statedir_record_end(struct supervisor *sv)
{
        _cleanup_free_ char *path = paths_guest_ended(sv->g.name);
        _cleanup_free_ char *dir = xasprintf("%s/.ended", paths_rundir());
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "state", json_object_new_string(guest_state_to_id(sv->g.state)));
        json_object_object_add(
                o, "reason",
                json_object_new_string(guest_reason_to_string(sv->g.state, sv->g.state_reason)));
        if (sv->completed_job) /* lvsh domjobinfo --completed, once we are gone */
                json_object_object_add(o, "job", json_object_get(sv->completed_job));
        _cleanup_free_ char *data = xasprintf("%s\n", json_object_to_json_string(o));
        json_object_put(o);
        _cleanup_error_ struct lv_error *e = NULL;
        if (mkdir_p(dir, 0711, &e) < 0 ||
            file_write_replace(path, data, strlen(data), 0644, &e) < 0)
                log_warning("recording how the guest ended: %s", e->message);
}

int statedir_remove(struct supervisor *sv, struct lv_error **err)
{
        _cleanup_free_ char *dir = paths_state_dir(sv->g.name);
        if (sv->dir_fd < 0)
                return 0;
        int r = rm_rf(dir, err);
        if (r < 0 && r != -ENOENT)
                return r;
        return 0;
}

static bool file_exists(char *path)
{
        bool e = access(path, F_OK) == 0;
        free(path);
        return e;
}

struct json_object *status_to_json(struct supervisor *sv)
{
        struct lv_guest *g = &sv->g;
        const struct domain_def *def = g->def;
        struct json_object *o = json_object_new_object();
        char uuid[37];
        domain_uuid_format(def->uuid, uuid);
#define ADD(k, v) json_object_object_add(o, k, v)
        ADD("name", json_object_new_string(g->name));
        ADD("uuid", json_object_new_string(uuid));
        ADD("type", json_object_new_string(domain_type_to_string(def->type)
                                                   ? domain_type_to_string(def->type)
                                                   : "unknown"));
        ADD("driver", json_object_new_string(sv->driver ? sv->driver->name : ""));
        ADD("id", json_object_new_int(getpid()));
        ADD("state", json_object_new_string(guest_state_to_id(g->state)));
        ADD("state_text", json_object_new_string(guest_state_to_string(g->state)));
        ADD("reason", json_object_new_string(guest_reason_to_string(g->state, g->state_reason)));
        ADD("state_code", json_object_new_int(guest_state_to_libvirt(g->state)));
        ADD("reason_code", json_object_new_int(g->state_reason));
        ADD("supervisor_pid", json_object_new_int(getpid()));
        ADD("pid", json_object_new_int(g->pid));
        if (g->pid > 0)
                ADD("pid_starttime", json_object_new_int64((int64_t)lv_proc_starttime(g->pid)));
        ADD("start_time", json_object_new_int64((int64_t)sv->start_time));
        if (g->console_path)
                ADD("console_path", json_object_new_string(g->console_path));
        if (g->cgroup_path)
                ADD("cgroup_path", json_object_new_string(g->cgroup_path));
        /* Where the guest's cgroups (litevirt-NAME below ours) live, for
         * whoever cleans up after a supervisor that died. */
        _cleanup_free_ char *cg = NULL;
        if (file_read_bounded("/proc/self/cgroup", 16384, &cg, NULL, NULL) == 0)
                ADD("supervisor_cgroup", json_object_new_string(cg));
        /* The host configuration the guest runs under (--config): a
         * supervisor that reattaches uses it too (lockspace, host UUID). */
        const char *hc = getenv("LITEVIRT_HOST_CONF");
        if (hc && *hc)
                ADD("host_conf", json_object_new_string(hc));
        const char *os = domain_os_type_to_string(def->os.type);
        ADD("os_type", json_object_new_string(os ? os : "unknown"));
        ADD("vcpus", json_object_new_int((int)(def->vcpus ? def->vcpus : 1)));
        ADD("max_memory_kib", json_object_new_int64((int64_t)def->memory_kib));
        ADD("memory_kib",
            json_object_new_int64((int64_t)(def->current_memory_kib ? def->current_memory_kib
                                                                    : def->memory_kib)));
        ADD("persistent", json_object_new_boolean(file_exists(paths_guest_xml(g->name))));
        ADD("autostart", json_object_new_boolean(autostart_enabled(g->name)));
#undef ADD
        if (sv->driver && sv->driver->status && g->pid > 0) {
                struct json_object *d = json_object_new_object();
                sv->driver->status(g, d);
                json_object_object_add(o, "driver_status", d);
        }
        return o;
}

int status_write(struct supervisor *sv, struct lv_error **err)
{
        if (sv->dir_fd < 0)
                return 0;
        struct json_object *o = status_to_json(sv);
        size_t n;
        const char *s = json_object_to_json_string_length(
                o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED, &n);
        _cleanup_free_ char *path = paths_state_file(sv->g.name, "status.json");
        _cleanup_free_ char *text = xasprintf("%s\n", s);
        json_object_put(o);
        return file_write_replace(path, text, n + 1, 0600, err);
}

void status_adopt_host_conf(const char *name)
{
        _cleanup_free_ char *path = paths_state_file(name, "status.json");
        _cleanup_free_ char *text = NULL;
        if (file_read_bounded(path, 64 * 1024, &text, NULL, NULL) < 0)
                return;
        struct json_object *o = json_tokener_parse(text), *v;
        if (o && json_object_object_get_ex(o, "host_conf", &v) &&
            json_object_is_type(v, json_type_string)) {
                const char *hc = json_object_get_string(v);
                if (access(hc, R_OK) == 0) {
                        setenv("LITEVIRT_HOST_CONF", hc, 1);
                        log_info("host configuration %s, as the guest's first supervisor", hc);
                } else {
                        log_warning("host configuration %s of the guest's first supervisor: %s", hc,
                                    strerror(errno));
                }
        }
        json_object_put(o);
}
