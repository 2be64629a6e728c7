/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QEMU live migration over QMP: the source pauses before the switch-over
 * (capability pause-before-switchover) so that the supervisor can hand
 * the disk leases over with the CPUs stopped; MIGRATION events (capability
 * events) say where the job is, no polling. */
#include "qemu/migration.h"
#include "qemu/migration-storage.h"
#include "qemu/driver_priv.h"

#include <json-c/json.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "conf/host_conf.h"
#include "qemu/log.h"
#include "qemu/ports.h"
#include "driver-support/loop.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/clock.h"

#define MIG_CMD_TIMEOUT_MS 10000

struct qemu_migration_wait {
        struct lv_guest *g;
        bool use_loop; /* dispatch the guest's event loop while waiting */
        bool pre_switchover;
        bool completed, failed, cancelled;
        /* post-copy: the destination runs the guest from here on (the
         * source's job is then over but for the rest of the pages), and
         * the stream broke in post-copy (QEMU waits for a recovery) */
        bool postcopy_active, postcopy_paused;
        char status[32];
};

/* The guest's monitor, NULL once QEMU and its driver state are gone. */
static struct qmp *qmp_of(struct lv_guest *g)
{
        struct qemu_guest *qg = g->driver_data;
        return qg ? qg->qmp : NULL;
}

static struct qemu_migration *mig_of(struct lv_guest *g)
{
        struct qemu_guest *qg = g->driver_data;
        return qg ? &qg->mig : NULL;
}

/* QEMU's MIGRATION events go to w until the wait ends (also when QEMU
 * and its driver state are gone by then). */
static void wait_begin(struct lv_guest *g, struct qemu_migration_wait *w)
{
        mig_of(g)->wait = w;
}

static void wait_endp(struct lv_guest **g)
{
        struct qemu_migration *m = mig_of(*g);
        if (m)
                m->wait = NULL;
}

void qemu_migration_event(struct qemu_migration *m, struct json_object *data)
{
        struct qemu_migration_wait *w = m->wait;
        struct json_object *v = NULL;
        const char *st = data && json_object_object_get_ex(data, "status", &v)
                                 ? json_object_get_string(v)
                                 : "";
        if (!w) {
                log_info("QEMU event MIGRATION"); /* no job waits on it */
                return;
        }
        log_debug("QEMU migration status %s", st);
        snprintf(w->status, sizeof(w->status), "%s", st);
        if (streq(st, "pre-switchover"))
                w->pre_switchover = true;
        else if (streq(st, "completed"))
                w->completed = true;
        else if (streq(st, "failed"))
                w->failed = true;
        else if (streq(st, "cancelled"))
                w->cancelled = true;
        else if (streq(st, "postcopy-active"))
                w->postcopy_active = true;
        else if (streq(st, "postcopy-paused"))
                w->postcopy_paused = true;
}

/* q is still the guest's open monitor (not freed by a nested dispatch). */
static bool mig_qmp_alive(struct lv_guest *g, struct qmp *q)
{
        return q && qmp_of(g) == q && !qmp_is_closed(q);
}

/* Dispatch QMP input until cond() holds or the deadline passes. */
static int mig_wait_for(struct qmp *q, struct qemu_migration_wait *w,
                        bool (*cond)(const struct qemu_migration_wait *), long long deadline,
                        struct lv_error **err)
{
        while (!cond(w)) {
                long long left = deadline - clock_now_ms();
                if (left <= 0)
                        return lv_error_setf(err, ETIMEDOUT,
                                             "migration did not finish in time "
                                             "(last status '%s')",
                                             w->status);
                if (w->use_loop && w->g->loop) {
                        /* The whole event loop runs meanwhile, so that the
                         * control socket answers (lvsh domjobinfo,
                         * domjobabort); the driver's QMP watch delivers
                         * QEMU's MIGRATION events to qemu_migration_event.
                         * QEMU may end in there. */
                        int n = loop_dispatch(w->g->loop, left > 200 ? 200 : (int)left);
                        if (n < 0 && n != -EINTR)
                                return lv_error_set(err, -n, "event loop");
                        if (!mig_qmp_alive(w->g, q))
                                return lv_error_setf(err, ECONNRESET,
                                                     "QEMU ended during the "
                                                     "migration (last status '%s')",
                                                     w->status);
                        continue;
                }
                int r = qemu_migration_qmp_read(q, (int)left, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool cond_progress(const struct qemu_migration_wait *w)
{
        return w->pre_switchover || w->completed || w->failed || w->cancelled;
}

static bool cond_done(const struct qemu_migration_wait *w)
{
        return w->completed || w->failed || w->cancelled || w->postcopy_paused;
}

/* The source: done, or the guest runs on the destination in post-copy. */
static bool cond_switched(const struct qemu_migration_wait *w)
{
        return cond_done(w) || w->postcopy_active;
}

/* No deadline: a migration runs until it completes, fails or is
 * cancelled (lvsh domjobabort); --timeout suspends the guest instead. */
#define MIG_NO_DEADLINE (LLONG_MAX / 4)

/* Wait for the stream to reach the switch-over (or end). With
 * suspend_after_s, virsh's --timeout: once that many seconds have passed
 * the guest's CPUs are stopped ("stop"), so that no page is dirtied any
 * more and the migration converges; the destination resumes it as
 * usual (libvirt suspends the same way, with reason "migrating"). */
static int mig_wait_progress(struct qmp *q, struct qemu_migration_wait *w, int suspend_after_s,
                             struct lv_error **err)
{
        long long suspend_at = suspend_after_s > 0
                                       ? clock_now_ms() + (long long)suspend_after_s * 1000
                                       : MIG_NO_DEADLINE;
        for (;;) {
                _cleanup_error_ struct lv_error *we = NULL;
                int r = mig_wait_for(q, w, cond_progress, suspend_at, &we);
                if (r != -ETIMEDOUT || suspend_at == MIG_NO_DEADLINE) {
                        if (r < 0 && err && !*err)
                                *err = TAKE_PTR(we);
                        return r;
                }
                r = qmp_call(q, "stop", NULL, MIG_CMD_TIMEOUT_MS, NULL, err);
                if (r < 0)
                        return lv_error_prefix(err, "suspending the guest at --timeout");
                log_info("migration: not done after %d s (--timeout): guest suspended so that "
                         "it converges",
                         suspend_after_s);
                suspend_at = MIG_NO_DEADLINE;
        }
}

static int caps_set(struct qmp *q, bool pause_before_switchover, struct lv_error **err)
{
        const char *args =
                pause_before_switchover
                        ? "{\"capabilities\":[{\"capability\":\"events\",\"state\":true},"
                          "{\"capability\":\"pause-before-switchover\",\"state\":true}]}"
                        : "{\"capabilities\":[{\"capability\":\"events\",\"state\":true}]}";
        return qmp_call_json(q, "migrate-set-capabilities", args, MIG_CMD_TIMEOUT_MS, NULL, err);
}

static struct qmp *guest_qmp(struct lv_guest *g, struct lv_error **err)
{
        struct qmp *q = qmp_of(g);
        if (!q || qmp_is_closed(q)) {
                lv_error_setf(err, LV_ERR_STATE, "guest '%s': QEMU monitor is not connected",
                              g->name);
                return NULL;
        }
        return q;
}

static unsigned long long jull(struct json_object *o, const char *key, bool *set)
{
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v))
                return 0;
        if (set)
                *set = true;
        long long x = json_object_get_int64(v);
        return x < 0 ? 0 : (unsigned long long)x;
}

static void stats_fill(struct json_object *info, struct cookie_stats *s)
{
        struct json_object *ram = NULL;
        json_object_object_get_ex(info, "ram", &ram);
        s->time_elapsed = jull(info, "total-time", NULL);
        s->downtime = jull(info, "downtime", &s->downtime_set);
        s->setup_time = jull(info, "setup-time", &s->setup_time_set);
        s->memory_total = jull(ram, "total", NULL);
        s->memory_processed = jull(ram, "transferred", NULL);
        s->memory_remaining = jull(ram, "remaining", NULL);
        struct json_object *mbps = NULL;
        if (ram && json_object_object_get_ex(ram, "mbps", &mbps))
                s->memory_bps = (unsigned long long)(json_object_get_double(mbps) * 1e6 / 8);
        s->memory_constant = jull(ram, "duplicate", &s->memory_constant_set);
        s->memory_normal = jull(ram, "normal", NULL);
        s->memory_normal_bytes = jull(ram, "normal-bytes", NULL);
        s->memory_dirty_rate = jull(ram, "dirty-pages-rate", NULL);
        s->memory_iteration = jull(ram, "dirty-sync-count", NULL);
        s->memory_postcopy_requests = jull(ram, "postcopy-requests", NULL);
        s->memory_page_size = jull(ram, "page-size", NULL);
}

/* The guest's monitor with the events capability set (and
 * pause-before-switchover for a live migration); NULL with *err. */
static struct qmp *mig_begin(struct lv_guest *g, bool pause_before_switchover,
                             struct lv_error **err)
{
        struct qmp *q = guest_qmp(g, err);
        if (q && caps_set(q, pause_before_switchover, err) < 0) {
                lv_error_prefix(err, "guest '%s': migration capabilities", g->name);
                return NULL;
        }
        return q;
}

/* QEMU reported its migration failed or cancelled: why, as an error. */
static int mig_failed(struct qmp *q, const struct qemu_migration_wait *w, struct lv_error **err)
{
        struct json_object *info = NULL, *v;
        const char *desc = NULL;
        if (qmp_call(q, "query-migrate", NULL, MIG_CMD_TIMEOUT_MS, &info, NULL) >= 0 &&
            json_object_object_get_ex(info, "error-desc", &v))
                desc = json_object_get_string(v);
        int r = lv_error_setf(err, EIO, "QEMU migration %s%s%s", w->status, desc ? ": " : "",
                              desc ? desc : "");
        json_object_put(info);
        return r;
}

/* Give fd to QEMU under fdname (getfd). */
static int fd_pass(struct qmp *q, int fd, const char *fdname, struct lv_error **err)
{
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "fdname", json_object_new_string(fdname));
        return qmp_call_fd(q, "getfd", a, fd, MIG_CMD_TIMEOUT_MS, NULL, err);
}

/* The statistics of a completed migration. QEMU sets the status to
 * completed (and sends the event) before it computes the totals
 * (migration_calculate_complete): until then query-migrate says
 * completed with total-time 0. Asked again until the totals are there
 * (bounded: they follow within a few ms). */
static int stats_completed(struct qmp *q, struct cookie_stats *stats, struct lv_error **err)
{
        for (int i = 0;; i++) {
                struct json_object *info = NULL, *v;
                int r = qmp_call(q, "query-migrate", NULL, MIG_CMD_TIMEOUT_MS, &info, err);
                if (r < 0)
                        return r;
                bool done = json_object_object_get_ex(info, "status", &v) &&
                            streq(json_object_get_string(v), "completed") &&
                            json_object_object_get_ex(info, "total-time", &v) &&
                            json_object_get_int64(v) > 0;
                if (done || i == 200) {
                        stats_fill(info, stats);
                        json_object_put(info);
                        if (!done)
                                log_warning("QEMU gave no totals for the completed migration");
                        return 0;
                }
                json_object_put(info);
                struct timespec ts = {.tv_nsec = 5 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
}

/* Connect to a unix socket and give the connection to QEMU as fdname. */
static int unix_connect_pass(struct qmp *q, const char *path, const char *fdname,
                             struct lv_error **err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return lv_error_setf(err, ENAMETOOLONG, "socket path '%s' is too long", path);
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return lv_error_set(err, errno, "migration socket '%s'", path);
        return fd_pass(q, fd, fdname, err);
}

/* QEMU's names of the migration parameters (migrate-set-parameters). */
static const char *param_name(enum lv_migration_param p)
{
        return p == LV_MIGRATION_PARAM_BANDWIDTH ? "max-bandwidth" : "downtime-limit";
}

/* QEMU's parameter, for now (a --bandwidth of one migration) */
static int param_apply(struct lv_guest *g, enum lv_migration_param p, unsigned long long value,
                       struct lv_error **err)
{
        struct qmp *q = guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        _cleanup_free_ char *a = xasprintf("{\"%s\":%llu}", param_name(p), value);
        int r = qmp_call_json(q, "migrate-set-parameters", a, MIG_CMD_TIMEOUT_MS, NULL, err);
        return r < 0 ? lv_error_prefix(err, "guest '%s': migration parameter %s", g->name,
                                       param_name(p))
                     : 0;
}

/* migrate-setspeed, migrate-setmaxdowntime: QEMU's, and on record for a
 * reattach */
static int qemu_param_set(struct lv_guest *g, enum lv_migration_param p, unsigned long long value,
                          struct lv_error **err)
{
        int r = param_apply(g, p, value, err);
        if (r < 0)
                return r;
        struct qemu_migration *m = mig_of(g);
        m->params[p] = value;
        if ((r = m->driver->record(g, err)) < 0)
                return lv_error_prefix(err, "guest '%s': recording migration parameter %s", g->name,
                                       param_name(p));
        return 0;
}

void qemu_migration_params_to_json(const struct qemu_migration *m, struct json_object *out)
{
        struct json_object *o = json_object_new_object();
        for (int p = 0; p < (int)ARRAY_SIZE(m->params); p++)
                if (m->params[p] > 0)
                        json_object_object_add(o, param_name(p),
                                               json_object_new_int64((int64_t)m->params[p]));
        json_object_object_add(out, "migration_parameters", o);
}

int qemu_migration_params_reapply(struct lv_guest *g, struct qemu_migration *m,
                                  struct json_object *info, struct lv_error **err)
{
        struct json_object *o = NULL, *v;
        if (!json_object_object_get_ex(info, "migration_parameters", &o) ||
            !json_object_is_type(o, json_type_object))
                o = NULL;
        for (int p = 0; p < (int)ARRAY_SIZE(m->params); p++) {
                m->params[p] = 0;
                if (o && json_object_object_get_ex(o, param_name(p), &v) &&
                    json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
                        m->params[p] = (unsigned long long)json_object_get_int64(v);
                unsigned long long value = m->params[p];
                if (!value && p == LV_MIGRATION_PARAM_BANDWIDTH)
                        value = strtoull(QEMU_MIGRATE_DEFAULT_BANDWIDTH, NULL, 10);
                if (!value)
                        continue;
                int r = param_apply(g, p, value, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int qemu_param_get(struct lv_guest *g, enum lv_migration_param p, unsigned long long *ret,
                          struct lv_error **err)
{
        struct qmp *q = guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        struct json_object *o = NULL;
        int r = qmp_call(q, "query-migrate-parameters", NULL, MIG_CMD_TIMEOUT_MS, &o, err);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s': migration parameters", g->name);
        bool set = false;
        *ret = jull(o, param_name(p), &set);
        json_object_put(o);
        if (!set)
                return lv_error_setf(err, EPROTO, "guest '%s': QEMU does not report %s", g->name,
                                     param_name(p));
        return 0;
}

/* --tls: QEMU's TLS credentials object (libvirt's is
 * objlibvirt_migrate_tls0), loaded from the certificate directory when
 * made. QEMU's uid may read the files only while it loads them. */
#define MIG_TLS_ID "objmigrate_tls0"

static void qemu_tls_end(struct lv_guest *g)
{
        struct qmp *q = qmp_of(g);
        if (!q || qmp_is_closed(q))
                return;
        (void)qmp_call_json(q, "migrate-set-parameters",
                            "{\"tls-creds\":\"\",\"tls-hostname\":\"\"}", MIG_CMD_TIMEOUT_MS, NULL,
                            NULL);
        (void)qmp_call_json(q, "object-del", "{\"id\":\"" MIG_TLS_ID "\"}", MIG_CMD_TIMEOUT_MS,
                            NULL, NULL);
}

static int qemu_tls_begin(struct lv_guest *g, const char *dir, bool server, bool verify_peer,
                          const char *hostname, struct lv_error **err)
{
        struct qmp *q = guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        const struct qemu_migration_driver *drv = mig_of(g)->driver;
        const char *role = server ? "server" : "client";
        char *files[HOST_CONF_X509_FILES];
        host_conf_x509_files(dir, role, files);
        int r = 0;
        for (size_t i = 0; i < ARRAY_SIZE(files) && r >= 0; i++)
                r = drv->grant_read(g, files[i], err);
        if (r >= 0) {
                struct json_object *a = json_object_new_object();
                json_object_object_add(a, "qom-type", json_object_new_string("tls-creds-x509"));
                json_object_object_add(a, "id", json_object_new_string(MIG_TLS_ID));
                json_object_object_add(a, "dir", json_object_new_string(dir));
                json_object_object_add(a, "endpoint", json_object_new_string(role));
                json_object_object_add(a, "verify-peer", json_object_new_boolean(verify_peer));
                r = qmp_call(q, "object-add", a, MIG_CMD_TIMEOUT_MS, NULL, err);
        }
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                drv->forget(g, files[i]);
                free(files[i]);
        }
        if (r < 0)
                return lv_error_prefix(err, "guest '%s': TLS credentials from '%s'", g->name, dir);
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "tls-creds", json_object_new_string(MIG_TLS_ID));
        json_object_object_add(a, "tls-hostname", json_object_new_string(hostname ? hostname : ""));
        r = qmp_call(q, "migrate-set-parameters", a, MIG_CMD_TIMEOUT_MS, NULL, err);
        if (r < 0) {
                qemu_tls_end(g);
                return lv_error_prefix(err, "guest '%s': migration parameter tls-creds", g->name);
        }
        return 0;
}

static int qemu_migrate(struct lv_guest *g, const char *uri, int suspend_after_s,
                        unsigned long bandwidth_mib,
                        int (*switchover)(void *data, struct lv_error **err), void *data,
                        struct cookie_stats *stats, struct lv_error **err)
{
        struct qmp *q = mig_begin(g, true, err);
        if (!q)
                return -EIO;
        int r = 0;
        /* --bandwidth for this migration; then back to what it was
         * (QEMU's default, or migrate-setspeed's) */
        unsigned long long bandwidth_before = 0;
        if (bandwidth_mib > 0 &&
            ((r = qemu_param_get(g, LV_MIGRATION_PARAM_BANDWIDTH, &bandwidth_before, err)) < 0 ||
             (r = param_apply(g, LV_MIGRATION_PARAM_BANDWIDTH,
                              (unsigned long long)bandwidth_mib << 20, err)) < 0))
                return r;
        struct qemu_migration_wait w = {.g = g, .use_loop = true};
        _cleanup_(wait_endp) struct lv_guest *waiting = g;
        wait_begin(g, &w);
        _cleanup_free_ char *fd_uri = NULL;
        if (startswith(uri, "unix:")) {
                /* QEMU's uid may not reach the socket: connect for it */
                if ((r = unix_connect_pass(q, uri + 5, "migrate", err)) < 0)
                        return r;
                uri = fd_uri = xstrdup("fd:migrate");
        }
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "uri", json_object_new_string(uri));
        r = qmp_call(q, "migrate", a, MIG_CMD_TIMEOUT_MS, NULL, err);
        if (r >= 0)
                r = mig_wait_progress(q, &w, suspend_after_s, err);
        if (r >= 0 && !mig_qmp_alive(g, q))
                r = lv_error_setf(err, ECONNRESET, "QEMU ended during the migration");
        if (r >= 0 && w.pre_switchover && !cond_done(&w)) {
                /* CPUs stopped: the last moment to hand the leases over.
                 * From here on the event loop is not dispatched (QEMU's
                 * monitor alone is read): nothing answered meanwhile can
                 * disturb the hand-over; calls wait the downtime out. */
                w.use_loop = false;
                r = switchover(data, err);
                if (r >= 0)
                        r = qmp_call_json(q, "migrate-continue", "{\"state\":\"pre-switchover\"}",
                                          MIG_CMD_TIMEOUT_MS, NULL, err);
                if (r >= 0)
                        r = mig_wait_for(q, &w, cond_switched, MIG_NO_DEADLINE, err);
        }
        if (!mig_qmp_alive(g, q)) {
                /* QEMU is gone (and its monitor with it) */
                if (r >= 0)
                        r = lv_error_setf(err, ECONNRESET, "QEMU ended during the migration");
                return r;
        }
        if (r < 0 && !cond_switched(&w)) {
                /* Timed out or the hand-over failed: cancel, and wait for
                 * QEMU to say so (the guest is then QEMU's again). */
                if (qmp_call(q, "migrate_cancel", NULL, MIG_CMD_TIMEOUT_MS, NULL, NULL) >= 0)
                        (void)mig_wait_for(q, &w, cond_done, clock_now_ms() + MIG_CMD_TIMEOUT_MS,
                                           NULL);
        }
        struct json_object *info = NULL;
        if (r >= 0 && (w.failed || w.cancelled || w.postcopy_paused)) {
                r = mig_failed(q, &w, err);
        } else if (r >= 0 && !w.completed) {
                /* post-copy: switched over, pages still moving: the
                 * figures so far */
                r = qmp_call(q, "query-migrate", NULL, MIG_CMD_TIMEOUT_MS, &info, err);
                if (r >= 0)
                        stats_fill(info, stats);
        } else if (r >= 0) {
                r = stats_completed(q, stats, err);
        }
        json_object_put(info);
        if (bandwidth_mib > 0)
                (void)param_apply(g, LV_MIGRATION_PARAM_BANDWIDTH, bandwidth_before, NULL);
        return r;
}

static void undo_port(struct lv_guest *g, void *data)
{
        struct qemu_migration *m = data;
        ports_release(&m->port);
}

/* "tcp:HOST:PORT", the address in brackets when it is IPv6. */
static char *tcp_uri(const char *host, int port)
{
        bool v6 = strchr(host, ':');
        return xasprintf("tcp:%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

/* The one way to the stream's port: host.conf (its migration range and
 * migration_address, loaded into *hc, to be cleared by the caller), the
 * port reserved once per guest and released by its undo stack. */
static int incoming_port(struct lv_guest *g, struct qemu_migration *m, struct host_conf *hc,
                         struct lv_error **err)
{
        int r = host_conf_load(NULL, hc, err);
        _cleanup_free_ char *dir = ports_dir();
        if (r >= 0)
                r = mkdir_p(dir, 0755, err);
        if (r >= 0 && m->port.lock_fd < 0)
                r = ports_reserve(dir, "migration", hc->migration_port_min, hc->migration_port_max,
                                  hc->migration_address, &m->port, err);
        if (r >= 0 && !m->port_undo) {
                guest_undo_push(g, "migration port", undo_port, m, NULL);
                m->port_undo = true;
        }
        return r;
}

static int qemu_incoming_setup(struct lv_guest *g, const char *hostname, char **ret_uri,
                               struct lv_error **err)
{
        struct qmp *q = guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        struct qemu_migration *m = mig_of(g);
        int r = caps_set(q, false, err);
        if (r < 0)
                return r;
        struct host_conf hc;
        host_conf_init(&hc);
        r = incoming_port(g, m, &hc, err);
        if (r >= 0) {
                const char *addr = hc.migration_address;
                _cleanup_free_ char *listen = tcp_uri(addr ? addr : "0.0.0.0", m->port.port);
                struct json_object *a = json_object_new_object();
                json_object_object_add(a, "uri", json_object_new_string(listen));
                r = qmp_call(q, "migrate-incoming", a, MIG_CMD_TIMEOUT_MS, NULL, err);
                if (r >= 0)
                        *ret_uri = tcp_uri(addr ? addr : hostname, m->port.port);
        }
        host_conf_clear(&hc);
        if (r < 0)
                ports_release(&m->port);
        return r;
}

int qemu_migration_incoming_listen(struct lv_guest *g, struct qemu_migration *m, int *ret_fd,
                                   char **ret_uri, struct lv_error **err)
{
        struct host_conf hc;
        host_conf_init(&hc);
        int r = incoming_port(g, m, &hc, err);
        const char *addr = hc.migration_address;
        bool v6 = addr && strchr(addr, ':');
        _cleanup_close_ int fd = -1;
        if (r >= 0) {
                union {
                        struct sockaddr_in v4;
                        struct sockaddr_in6 v6;
                } sa = {0};
                socklen_t len;
                if (v6) {
                        sa.v6.sin6_family = AF_INET6;
                        sa.v6.sin6_port = htons((uint16_t)m->port.port);
                        len = sizeof(sa.v6);
                        if (inet_pton(AF_INET6, addr, &sa.v6.sin6_addr) != 1)
                                r = lv_error_setf(err, EINVAL,
                                                  "migration_address '%s' is not "
                                                  "an address",
                                                  addr);
                } else {
                        sa.v4.sin_family = AF_INET;
                        sa.v4.sin_port = htons((uint16_t)m->port.port);
                        len = sizeof(sa.v4);
                        if (addr && inet_pton(AF_INET, addr, &sa.v4.sin_addr) != 1)
                                r = lv_error_setf(err, EINVAL,
                                                  "migration_address '%s' is not "
                                                  "an address",
                                                  addr);
                }
                int one = 1;
                if (r >= 0 &&
                    (fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
                        r = lv_error_set(err, errno, "migration socket");
                if (r >= 0)
                        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                if (r >= 0 && (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 1) < 0))
                        r = lv_error_set(err, errno, "guest '%s': migration port %d", g->name,
                                         m->port.port);
        }
        if (r >= 0) {
                char buf[256] = "";
                const char *host = addr          ? addr
                                   : hc.hostname ? hc.hostname
                                                 : (gethostname(buf, sizeof(buf) - 1), buf);
                *ret_uri = tcp_uri(host, m->port.port);
                *ret_fd = TAKE_FD(fd);
        }
        host_conf_clear(&hc);
        if (r < 0)
                ports_release(&m->port);
        return r;
}

static int run_status(struct qmp *q, char *out, size_t n, struct lv_error **err)
{
        struct json_object *st = NULL, *v;
        int r = qmp_call(q, "query-status", NULL, MIG_CMD_TIMEOUT_MS, &st, err);
        if (r < 0)
                return r;
        snprintf(out, n, "%s",
                 json_object_object_get_ex(st, "status", &v) ? json_object_get_string(v) : "");
        json_object_put(st);
        return 0;
}

static int qemu_incoming_wait(struct lv_guest *g, int timeout_s, struct lv_error **err)
{
        struct qmp *q = guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        struct qemu_migration_wait w = {.g = g};
        _cleanup_(wait_endp) struct lv_guest *waiting = g;
        wait_begin(g, &w);
        /* When QEMU listened from its start (-incoming tcp:fd:N), the
         * events capability may be set only now, mid-stream (harmless if
         * refused): the status is then also asked every 50 ms. */
        bool events = true;
        if (mig_of(g)->listening)
                events = caps_set(q, false, NULL) >= 0;
        char st[32];
        long long deadline = clock_now_ms() + (long long)timeout_s * 1000;
        int r = run_status(q, st, sizeof(st), err);
        while (r >= 0 && streq(st, "inmigrate") && !cond_done(&w)) {
                long long until = deadline;
                /* post-copy: QEMU runs the guest's CPUs when its device
                 * state is loaded, with no event to say so */
                if ((!events || w.postcopy_active) && clock_now_ms() + 50 < deadline)
                        until = clock_now_ms() + 50;
                _cleanup_error_ struct lv_error *we = NULL;
                r = mig_wait_for(q, &w, cond_done, until, &we);
                if (r == -ETIMEDOUT && clock_now_ms() < deadline)
                        r = 0;
                else if (r < 0) {
                        if (err && !*err)
                                *err = TAKE_PTR(we);
                        break;
                }
                if (!cond_done(&w))
                        r = run_status(q, st, sizeof(st), err);
        }
        if (r >= 0 && (w.failed || w.cancelled))
                r = lv_error_setf(err, EIO, "the incoming migration %s", w.status);
        if (r >= 0 && (r = run_status(q, st, sizeof(st), err)) >= 0 && streq(st, "inmigrate"))
                r = lv_error_setf(err, EIO, "the incoming migration has not completed");
        if (r >= 0) /* loaded: QEMU listens no more */
                ports_release(&mig_of(g)->port);
        return r;
}

static int qemu_is_paused(struct lv_guest *g, bool *ret, struct lv_error **err)
{
        struct qmp *q = guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        char st[32];
        int r = run_status(q, st, sizeof(st), err);
        if (r >= 0)
                *ret = !streq(st, "running");
        return r;
}

static int qemu_graphics_info(struct lv_guest *g, struct cookie_graphics *ret,
                              struct lv_error **err)
{
        struct qemu_guest *qg = g->driver_data;
        ret->port = -1;
        ret->tls_port = -1;
        if (g->def->n_graphics == 0 || !qg || qg->n_gports < 1)
                return 0;
        ret->type = g->def->graphics[0].type;
        ret->port = qg->gports[0].port;
        ret->tls_port = ret->type == DOMAIN_GRAPHICS_SPICE ? qg->gports[0].tls_port : -1;
        ret->listen = xstrdup_null(qg->listen[0]);
        return 0;
}

static int qemu_graphics_relocate(struct lv_guest *g, const struct cookie_graphics *dest,
                                  struct lv_error **err)
{
        if (dest->type != DOMAIN_GRAPHICS_SPICE)
                return 0; /* VNC clients cannot be moved; lvsh reports where */
        struct qmp *q = guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "protocol", json_object_new_string("spice"));
        json_object_object_add(a, "hostname",
                               json_object_new_string(dest->listen ? dest->listen : ""));
        json_object_object_add(a, "port", json_object_new_int(dest->port));
        if (dest->tls_port > 0)
                json_object_object_add(a, "tls-port", json_object_new_int(dest->tls_port));
        if (dest->tls_subject)
                json_object_object_add(a, "cert-subject",
                                       json_object_new_string(dest->tls_subject));
        int r = qmp_call(q, "client_migrate_info", a, MIG_CMD_TIMEOUT_MS, NULL, err);
        if (r >= 0)
                log_info("SPICE clients told to reconnect to %s:%d", dest->listen, dest->port);
        return r;
}

static int qemu_job_info(struct lv_guest *g, struct cookie_stats *ret, char *status, size_t n,
                         unsigned long long *expected_downtime, struct lv_error **err)
{
        struct qmp *q = guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        struct json_object *info = NULL, *v;
        int r = qmp_call(q, "query-migrate", NULL, MIG_CMD_TIMEOUT_MS, &info, err);
        if (r < 0)
                return r;
        stats_fill(info, ret);
        snprintf(status, n, "%s",
                 json_object_object_get_ex(info, "status", &v) ? json_object_get_string(v) : "");
        *expected_downtime = jull(info, "expected-downtime", NULL);
        json_object_put(info);
        return 0;
}

static int qemu_job_cancel(struct lv_guest *g, struct lv_error **err)
{
        struct qmp *q = guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        return qmp_call(q, "migrate_cancel", NULL, MIG_CMD_TIMEOUT_MS, NULL, err);
}

/* Save: the stream to a file QEMU gets as an fd (never a path it opens),
 * the event loop running meanwhile (lvsh domjobinfo). */
static int qemu_save(struct lv_guest *g, int fd, int timeout_s, struct lv_error **err)
{
        struct qmp *q = mig_begin(g, false, err);
        if (!q)
                return -EIO;
        struct qemu_migration_wait w = {.g = g, .use_loop = true};
        int r;
        _cleanup_(wait_endp) struct lv_guest *waiting = g;
        wait_begin(g, &w);
        if ((r = fd_pass(q, fd, "lvsave", err)) < 0)
                return r;
        r = qmp_call_json(q, "migrate", "{\"uri\":\"fd:lvsave\"}", MIG_CMD_TIMEOUT_MS, NULL, err);
        if (r >= 0)
                r = mig_wait_for(q, &w, cond_done, clock_now_ms() + (long long)timeout_s * 1000,
                                 err);
        if (!mig_qmp_alive(g, q))
                return r < 0 ? r : lv_error_setf(err, ECONNRESET, "QEMU ended during the save");
        if (r < 0 && !cond_done(&w) &&
            qmp_call(q, "migrate_cancel", NULL, MIG_CMD_TIMEOUT_MS, NULL, NULL) >= 0)
                (void)mig_wait_for(q, &w, cond_done, clock_now_ms() + MIG_CMD_TIMEOUT_MS, NULL);
        if (r >= 0 && (w.failed || w.cancelled))
                r = mig_failed(q, &w, err);
        return r;
}

static int qemu_restore(struct lv_guest *g, int fd, int timeout_s, struct lv_error **err)
{
        struct qmp *q = mig_begin(g, false, err);
        if (!q)
                return -EIO;
        int r = fd_pass(q, fd, "lvrestore", err);
        if (r >= 0)
                r = qmp_call_json(q, "migrate-incoming", "{\"uri\":\"fd:lvrestore\"}",
                                  MIG_CMD_TIMEOUT_MS, NULL, err);
        if (r >= 0)
                r = qemu_incoming_wait(g, timeout_s, err);
        if (r < 0 && !mig_qmp_alive(g, q)) {
                /* QEMU exits when it cannot load a stream: its own words */
                _cleanup_free_ char *log = qemu_log_path(g->name);
                _cleanup_free_ char *tail = qemu_log_tail(log);
                if (*tail && err) {
                        lv_error_freep(err);
                        r = lv_error_setf(err, EIO, "QEMU could not load the saved state: %s",
                                          tail);
                }
        }
        return r;
}

/* --postcopy (both sides: QEMU's postcopy-ram), --auto-converge (the
 * source: QEMU throttles the guest's CPUs while it dirties memory faster
 * than the stream carries it). */
static int qemu_options_set(struct lv_guest *g, bool postcopy, bool auto_converge,
                            struct lv_error **err)
{
        struct qmp *q = guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        if (!postcopy && !auto_converge)
                return 0;
        _cleanup_free_ char *a =
                xasprintf("{\"capabilities\":[{\"capability\":\"postcopy-ram\",\"state\":%s},"
                          "{\"capability\":\"auto-converge\",\"state\":%s}]}",
                          postcopy ? "true" : "false", auto_converge ? "true" : "false");
        int r = qmp_call_json(q, "migrate-set-capabilities", a, MIG_CMD_TIMEOUT_MS, NULL, err);
        if (r < 0 && postcopy) {
                /* QEMU (7.2) makes its userfaultfd itself, as its own uid */
                _cleanup_free_ char *uffd = NULL;
                if (file_read_bounded("/proc/sys/vm/unprivileged_userfaultfd", 16, &uffd, NULL,
                                      NULL) >= 0 &&
                    uffd[0] == '0')
                        lv_error_prefix(err,
                                        "post-copy needs userfaultfd for QEMU's own uid, and "
                                        "this host's vm.unprivileged_userfaultfd is 0 (set it to "
                                        "1 on the destination for post-copy)");
        }
        return r < 0 ? lv_error_prefix(err, "guest '%s': migration capabilities", g->name) : 0;
}

static int qemu_postcopy_start(struct lv_guest *g, struct lv_error **err)
{
        struct qmp *q = guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        return qmp_call(q, "migrate-start-postcopy", NULL, MIG_CMD_TIMEOUT_MS, NULL, err);
}

static int qemu_postcopy_wait(struct lv_guest *g, int timeout_s, struct cookie_stats *stats,
                              struct lv_error **err)
{
        struct qmp *q = guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        struct qemu_migration_wait w = {.g = g, .use_loop = true};
        _cleanup_(wait_endp) struct lv_guest *waiting = g;
        wait_begin(g, &w);
        struct json_object *info = NULL;
        int r = qmp_call(q, "query-migrate", NULL, MIG_CMD_TIMEOUT_MS, &info, err);
        if (r >= 0)
                qemu_migration_event(mig_of(g), info); /* the status so far */
        json_object_put(info);
        if (r >= 0 && !w.postcopy_active && !cond_done(&w))
                return 0; /* no post-copy ran */
        if (r >= 0)
                r = mig_wait_for(q, &w, cond_done, clock_now_ms() + (long long)timeout_s * 1000,
                                 err);
        if (r >= 0 && !w.completed)
                r = mig_failed(q, &w, err);
        else if (r >= 0 && stats)
                r = stats_completed(q, stats, err);
        return r;
}

const struct lv_migration_ops qemu_migration_ops = {
        .job_info = qemu_job_info,
        .job_cancel = qemu_job_cancel,
        .incoming_setup = qemu_incoming_setup,
        .graphics_info = qemu_graphics_info,
        .graphics_relocate = qemu_graphics_relocate,
        .migrate = qemu_migrate,
        .is_paused = qemu_is_paused,
        .incoming_wait = qemu_incoming_wait,
        .save = qemu_save,
        .restore = qemu_restore,
        .options_set = qemu_options_set,
        .postcopy_start = qemu_postcopy_start,
        .postcopy_wait = qemu_postcopy_wait,
        .storage_info = qemu_migration_storage_info,
        .storage_create = qemu_migration_storage_create,
        .storage_export = qemu_migration_storage_export,
        .storage_unexport = qemu_migration_storage_unexport,
        .storage_mirror = qemu_migration_storage_mirror,
        .storage_progress = qemu_migration_storage_progress,
        .storage_mirror_end = qemu_migration_storage_mirror_end,
        .param_set = qemu_param_set,
        .param_get = qemu_param_get,
        .tls_begin = qemu_tls_begin,
        .tls_end = qemu_tls_end,
};

int qemu_migration_qmp_read(struct qmp *q, int timeout_ms, struct lv_error **err)
{
        struct pollfd pfd = {.fd = qmp_fd(q), .events = POLLIN};
        int p = poll(&pfd, 1, timeout_ms);
        if (p < 0 && errno != EINTR)
                return lv_error_set(err, errno, "waiting for QEMU");
        if (p > 0 && qmp_dispatch(q, err) < 0)
                return lv_error_prefix(err, "QEMU monitor");
        return 0;
}

struct qmp *qemu_migration_qmp(struct lv_guest *g, struct lv_error **err)
{
        return guest_qmp(g, err);
}
