/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QEMU driver's part of status.json, and reattach: taking over a QEMU
 * whose supervisor died (see docs/qemu.md, "Reattach"). */
#include <sys/syscall.h>

#include "qemu/driver_priv.h"
#include "cgroup/cgroup.h"
#include "qemu/migration.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/paths.h"

void qemu_status(struct lv_guest *g, struct json_object *out)
{
        struct qemu_guest *qg = g->driver_data;
        if (!qg)
                return;
        _cleanup_free_ char *sock = paths_state_file(g->name, "qmp.sock");
        json_object_object_add(out, "qmp", json_object_new_string(sock));
        if (qg->cpus_running)
                json_object_object_add(out, "cpus_running", json_object_new_boolean(true));
        struct json_object *gr = json_object_new_array();
        for (int i = 0; i < qg->n_gports; i++) {
                struct json_object *e = json_object_new_object();
                json_object_object_add(e, "type",
                                       json_object_new_string(domain_graphics_type_to_string(
                                               g->def->graphics[i].type)));
                json_object_object_add(e, "listen", json_object_new_string(qg->listen[i]));
                json_object_object_add(e, "port", json_object_new_int(qg->gports[i].port));
                json_object_array_add(gr, e);
        }
        json_object_object_add(out, "graphics", gr);
}

static void undo_stale_cgroup(struct lv_guest *g, void *data)
{
        struct qemu_guest *qg = data;
        /* only once QEMU is gone: a failed reattach must not kill it */
        if (qg->proc_pidfd >= 0 && syscall(SYS_pidfd_send_signal, qg->proc_pidfd, 0, NULL, 0) == 0)
                return;
        struct lv_error *e = NULL;
        if (cgroup_guest_cleanup_stale(g->name, &e) < 0) {
                log_warning("guest '%s': %s", g->name, e->message);
                lv_error_free(e);
        }
}

static void undo_reattached_pidfd(struct lv_guest *g, void *data)
{
        struct qemu_guest *qg = data;
        if (qg->proc_pidfd >= 0)
                close(qg->proc_pidfd);
        qg->proc_pidfd = -1;
}

static int read_info(const char *name, struct json_object **ret, struct lv_error **err)
{
        _cleanup_free_ char *path = paths_state_file(name, "qemu.json");
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = file_read_bounded(path, 64 * 1024, &data, &len, err);
        if (r < 0)
                return r;
        struct json_object *o = json_tokener_parse(data);
        if (!o || !json_object_is_type(o, json_type_object)) {
                if (o)
                        json_object_put(o);
                return lv_error_setf(err, LV_ERR_PROTOCOL, "'%s' is malformed", path);
        }
        *ret = o;
        return 0;
}

bool qemu_process_is_guest(pid_t pid, const char *name)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/cmdline", (int)pid);
        _cleanup_free_ char *data = NULL;
        size_t len;
        struct lv_error *e = NULL;
        if (file_read_bounded(path, 1 << 20, &data, &len, &e) < 0) {
                lv_error_free(e);
                return false;
        }
        _cleanup_free_ char *want = xasprintf("guest=%s,", name);
        bool qemu = strstr(data, "qemu-system-") != NULL;
        for (size_t i = 0; i < len; i += strlen(data + i) + 1)
                if (qemu && startswith(data + i, want))
                        return true;
        return false;
}

int qemu_reattach(struct lv_guest *g, struct lv_error **err)
{
        struct json_object *info = NULL, *v;
        int r = read_info(g->name, &info, err);
        if (r < 0)
                return lv_error_prefix(err, "cannot reattach");
        pid_t pid = json_object_object_get_ex(info, "pid", &v) ? json_object_get_int(v) : 0;
        if (pid <= 0 || !qemu_process_is_guest(pid, g->name)) {
                json_object_put(info);
                return lv_error_setf(err, ESRCH,
                                     "cannot reattach: no QEMU of guest '%s' runs "
                                     "(pid %d)",
                                     g->name, (int)pid);
        }
        struct qemu_guest *qg = qemu_guest_new(g);
        guest_undo_push(g, "stale cgroup", undo_stale_cgroup, qg, NULL);

        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0) {
                json_object_put(info);
                return lv_error_set(err, errno, "cannot reattach to QEMU %d", (int)pid);
        }
        qg->pid = pid;
        qg->proc_pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
        guest_undo_push(g, "QEMU pidfd", undo_reattached_pidfd, qg, NULL);
        /* its RAM as started (absent: no pad, an older litevirt's QEMU) */
        g->ram_pad = json_object_object_get_ex(info, "ram_pad", &v) && json_object_get_boolean(v);
        qemu_channels_reattach(g);
        g->pid = pid;
        g->pidfd = pidfd;
        if ((r = qemu_confine_reattach(g, qg, pidfd, err)) < 0) {
                json_object_put(info);
                return r;
        }

        struct json_object *vu;
        qg->vcpu_unplugged = json_object_object_get_ex(info, "vcpuUnplugged", &vu) &&
                             json_object_get_boolean(vu);

        /* the ports it listens on stay ours */
        _cleanup_free_ char *dir = ports_dir();
        guest_undo_push(g, "graphics ports", qemu_undo_ports, qg, NULL);
        struct json_object *arr = NULL;
        if (json_object_object_get_ex(info, "graphics", &arr) &&
            json_object_is_type(arr, json_type_array))
                for (size_t i = 0; i < json_object_array_length(arr) && i < 8; i++) {
                        struct json_object *e = json_object_array_get_idx(arr, i), *p, *l, *w;
                        if (!json_object_object_get_ex(e, "port", &p) ||
                            !json_object_object_get_ex(e, "listen", &l))
                                continue;
                        qg->gports[i] =
                                (struct qemu_graphics_ports){json_object_get_int(p), -1, -1};
                        if (json_object_object_get_ex(e, "websocket", &w))
                                qg->gports[i].websocket = json_object_get_int(w);
                        if (json_object_object_get_ex(e, "tls_port", &w))
                                qg->gports[i].tls_port = json_object_get_int(w);
                        qg->listen[i] = xstrdup(json_object_get_string(l));
                        qg->n_gports = (int)i + 1;
                        int taken[] = {qg->gports[i].port, qg->gports[i].tls_port};
                        for (size_t k = 0; k < ARRAY_SIZE(taken); k++)
                                if (taken[k] > 0 && qg->n_leases < QEMU_MAX_LEASES &&
                                    ports_reserve_exact(dir, "graphics", taken[k], NULL, false,
                                                        &qg->leases[qg->n_leases], NULL) == 0)
                                        qg->n_leases++;
                }

        _cleanup_free_ char *sock = paths_state_file(g->name, "qmp.sock");
        if ((r = qmp_connect(sock, QEMU_CMD_TIMEOUT_MS, &qg->qmp, err)) < 0) {
                json_object_put(info);
                return lv_error_prefix(err, "cannot reattach to QEMU %d", (int)pid);
        }
        qmp_set_event_handler(qg->qmp, qemu_on_qmp_event, g);
        guest_undo_push(g, "QMP connection", qemu_undo_qmp, qg, NULL);
        struct json_object *st = NULL;
        if ((r = qmp_call(qg->qmp, "query-status", NULL, QEMU_CMD_TIMEOUT_MS, &st, err)) < 0) {
                json_object_put(info);
                return r;
        }
        const char *status =
                json_object_object_get_ex(st, "status", &v) ? json_object_get_string(v) : "";
        bool off = streq(status, "shutdown");
        bool paused = streq(status, "paused");
        /* a start that its supervisor did not finish: finish it */
        if (streq(status, "prelaunch") &&
            ((r = qemu_set_passwords(g, qg, err)) < 0 ||
             (r = qmp_call(qg->qmp, "cont", NULL, QEMU_CMD_TIMEOUT_MS, NULL, err)) < 0)) {
                json_object_put(info);
                json_object_put(st);
                return r;
        }
        /* A migration its supervisor ran when it died cannot finish
         * (the destination has given up): cancel it, and undo its
         * --bandwidth (QEMU gets migrate-setspeed's and
         * migrate-setmaxdowntime's values of record again, else its
         * default bandwidth). */
        struct json_object *mig = NULL;
        const char *ms = "";
        if (qmp_call(qg->qmp, "query-migrate", NULL, QEMU_CMD_TIMEOUT_MS, &mig, NULL) >= 0 &&
            json_object_object_get_ex(mig, "status", &v))
                ms = json_object_get_string(v);
        if (streq(ms, "setup") || streq(ms, "active") || streq(ms, "pre-switchover") ||
            streq(ms, "device")) {
                log_info("cancelling the migration (%s) of the supervisor that died", ms);
                (void)qmp_call(qg->qmp, "migrate_cancel", NULL, QEMU_CMD_TIMEOUT_MS, NULL, NULL);
        }
        json_object_put(mig);
        qemu_block_jobs_reattach(g, qg, info);
        r = qemu_migration_params_reapply(g, &qg->mig, info, err);
        json_object_put(info);
        if (r < 0) {
                json_object_put(st);
                return lv_error_prefix(err, "restoring the migration parameters");
        }
        log_info("reattached to QEMU %d (status %s)", (int)pid, status);
        json_object_put(st);
        if ((r = qemu_open_console(g, qg, err)) < 0 || (r = qemu_write_info(g, qg, err)) < 0)
                return r;
        if ((r = loop_add_io(g->loop, qmp_fd(qg->qmp), EPOLLIN, qemu_on_qmp_io, g, &qg->qmp_source,
                             err)) < 0)
                return r;
        if (off) {
                /* it powered off while nobody watched: finish it */
                qg->shutdown_seen = true;
                snprintf(qg->shutdown_reason, sizeof(qg->shutdown_reason), "guest-shutdown");
                (void)qmp_send(qg->qmp, "quit", NULL, QEMU_CMD_TIMEOUT_MS, NULL, NULL, NULL);
        } else if (paused) {
                return 1; /* suspended by the user before: stays paused */
        }
        return 0;
}

/* The disk leases' fds, for QEMU to keep open as long as it runs (QMP
 * getfd "lease-N"; a name given again replaces the fd QEMU held). */
int qemu_hold_leases(struct lv_guest *g, struct lv_error **err)
{
        struct qemu_guest *qg = g->driver_data;
        if (!qg || !qg->qmp || qmp_is_closed(qg->qmp))
                return lv_error_setf(err, LV_ERR_STATE, "QEMU monitor is not connected");
        for (int i = 0; i < g->n_lease_fds; i++) {
                struct json_object *a = json_object_new_object();
                _cleanup_free_ char *name = xasprintf("lease-%d", i);
                json_object_object_add(a, "fdname", json_object_new_string(name));
                int r = qmp_call_fd(qg->qmp, "getfd", a, g->lease_fds[i], QEMU_CMD_TIMEOUT_MS, NULL,
                                    err);
                if (r < 0)
                        return r;
        }
        return 0;
}
