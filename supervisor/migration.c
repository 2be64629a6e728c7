/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Live migration: the phases between a source supervisor and a
 * destination supervisor started with --incoming (docs/migration.md).
 *
 * The source runs the whole exchange as one job inside the control call
 * that asked for it (the event loop waits meanwhile; every wait is
 * bounded). Failure never loses the guest: until the destination has
 * taken the leases and resumed, the source's copy is the guest. */
#include "supervisor/migration.h"
#include "supervisor/migration_priv.h"

#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "conf/host_conf.h"
#include "conf/hostid.h"
#include "conf/xml.h"
#include "locking/lock.h"
#include "driver-support/loop.h"
#include "lib/varlink.h"
#include "util/fault.h"
#include "util/fileio.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/paths.h"
#include "util/strbuf.h"
#include "util/clock.h"

#define PHASE_TIMEOUT_MS (120 * 1000)

static const char *jstr(struct json_object *o, const char *key)
{
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static bool jbool(struct json_object *o, const char *key)
{
        struct json_object *v;
        return o && json_object_object_get_ex(o, key, &v) &&
               json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* A reply of the peer for phase: ok, or its error as ours. */
static int reply_check(struct mchan *c, struct json_object *o, const char *phase,
                       struct lv_error **err)
{
        const char *e = jstr(o, "error");
        if (e || !jbool(o, "ok"))
                return lv_error_setf(err, EIO, "%s: %s", c->peer,
                                     e ? e : "failed without saying why");
        if (!streq(jstr(o, "phase"), phase))
                return lv_error_setf(err, LV_ERR_PROTOCOL, "the %s answered '%s' to %s", c->peer,
                                     jstr(o, "phase") ? jstr(o, "phase") : "(nothing)", phase);
        return 0;
}

static struct json_object *message(const char *phase, const char *cookie)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "phase", json_object_new_string(phase));
        if (cookie)
                json_object_object_add(o, "cookie", json_object_new_string(cookie));
        return o;
}

static int local_cookie(struct lv_guest *g, const struct host_identity *id, struct cookie **ret,
                        struct lv_error **err)
{
        unsigned char hu[16];
        if (domain_uuid_parse(id->uuid, hu) < 0)
                return lv_error_setf(err, EINVAL, "host UUID '%s' is malformed", id->uuid);
        *ret = cookie_new(g->name, g->def->uuid, id->hostname, hu);
        return 0;
}

static int parse_peer_cookie(const char *xml, const struct lv_guest *g, struct cookie **ret,
                             struct lv_error **err)
{
        if (!xml)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "the message carries no cookie");
        const struct conf_xml_ops *x = conf_xml(err);
        if (!x)
                return -ENOENT;
        return x->cookie_parse_string(xml, strlen(xml), g->name, g->def->uuid,
                                      COOKIE_FEATURES_LITEVIRT, ret, err);
}

/* ---- source ---- */

/* The supervisor's job (job.h) while migration_source_run runs: kind
 * JOB_MIGRATION_OUT, phases "prepare", "perform", "finish"; control calls
 * answered meanwhile look at it. */
struct source_job {
        struct supervisor *sv;
        bool released;
        char *lock_state;
        bool aborted; /* lvsh domjobabort */
        /* JobInfo's last answer from the hypervisor: once the CPUs are
         * stopped for the switch-over it is not asked any more — QEMU's
         * monitor may then wait for its migration thread, which, with a
         * tunnelled stream, waits for us to forward the stream. */
        struct cookie_stats last;
        char last_status[32];
        unsigned long long last_expected;
};

static void jset_u64(struct json_object *o, const char *key, unsigned long long v)
{
        json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

int migration_job_info(struct supervisor *sv, struct json_object **ret, struct lv_error **err)
{
        struct json_object *o = json_object_new_object();
        enum job_kind kind = sv->job.kind;
        if (kind != JOB_MIGRATION_OUT && kind != JOB_MIGRATION_IN) {
                json_object_object_add(o, "type", json_object_new_string("none"));
                *ret = o;
                return 0;
        }
        const char *phase = sv->job.phase;
        json_object_object_add(o, "type", json_object_new_string("unbounded"));
        json_object_object_add(o, "operation",
                               json_object_new_string(kind == JOB_MIGRATION_OUT
                                                              ? "outgoing migration"
                                                              : "incoming migration"));
        json_object_object_add(o, "phase", json_object_new_string(phase));
        jset_u64(o, "time_elapsed", (unsigned long long)(clock_now_ms() - sv->job.start_ms));
        if (kind == JOB_MIGRATION_IN) {
                *ret = o; /* the source has the stream's figures */
                return 0;
        }
        struct source_job *job = sv->job.data;
        const struct lv_migration_ops *ops = sv->driver->migration;
        struct cookie_stats st = {0};
        char status[32] = "";
        unsigned long long expected = 0;
        if (streq(phase, "perform") && job->released) {
                st = job->last;
                snprintf(status, sizeof(status), "switchover");
                expected = job->last_expected;
        } else if (streq(phase, "perform") && ops->job_info) {
                int r = ops->job_info(&sv->g, &st, status, sizeof(status), &expected, err);
                if (r < 0) {
                        json_object_put(o);
                        return r;
                }
                job->last = st;
                job->last_expected = expected;
        }
        if (streq(phase, "perform") && (ops->job_info || job->released)) {
                json_object_object_add(o, "status", json_object_new_string(status));
                jset_u64(o, "data_total", st.memory_total);
                jset_u64(o, "data_processed", st.memory_processed);
                jset_u64(o, "data_remaining", st.memory_remaining);
                jset_u64(o, "memory_bps", st.memory_bps);
                jset_u64(o, "memory_constant", st.memory_constant);
                jset_u64(o, "memory_normal", st.memory_normal);
                jset_u64(o, "memory_normal_bytes", st.memory_normal_bytes);
                jset_u64(o, "memory_dirty_rate", st.memory_dirty_rate);
                jset_u64(o, "memory_iteration", st.memory_iteration);
                jset_u64(o, "memory_page_size", st.memory_page_size);
                jset_u64(o, "setup_time", st.setup_time);
                jset_u64(o, "expected_downtime", expected);
        }
        *ret = o;
        return 0;
}

int migration_job_abort(struct supervisor *sv, struct lv_error **err)
{
        if (sv->job.kind == JOB_MIGRATION_IN)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "guest '%s' is arriving by migration: abort it on the "
                                     "source",
                                     sv->g.name);
        struct source_job *job = sv->job.kind == JOB_MIGRATION_OUT ? sv->job.data : NULL;
        if (!job)
                return lv_error_setf(err, LV_ERR_STATE, "guest '%s' has no job to abort",
                                     sv->g.name);
        if (job->aborted)
                return 0;
        if (job->released || streq(sv->job.phase, "finish"))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "guest '%s' is switching over to the "
                                     "destination: too late to abort",
                                     sv->g.name);
        job->aborted = true;
        log_info("migration: abort requested");
        /* Before and after QEMU's stream the job checks the flag itself;
         * during it, QEMU cancels and the job fails as on any error. */
        const struct lv_migration_ops *ops = sv->driver->migration;
        if (streq(sv->job.phase, "perform") && ops->job_cancel)
                return ops->job_cancel(&sv->g, err);
        return 0;
}

/* Called by the driver with the CPUs stopped, before the final pass. */
static int on_switchover(void *data, struct lv_error **err)
{
        struct source_job *job = data;
        struct supervisor *sv = job->sv;
        job->released = true;
        if (!sv->leases) {
                job->lock_state = xstrdup("");
                return 0;
        }
        int r = lock_set_release(sv->leases, &job->lock_state, err);
        if (r >= 0)
                log_info("disk leases released for the switch-over: '%s'", job->lock_state);
        return r;
}

/* The migration failed: the source's copy stays the guest. */
static int source_rollback(struct supervisor *sv, struct source_job *job, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        if (job->released && sv->leases) {
                int r = supervisor_leases_acquire(sv, LOCK_STATE_ROLLBACK, err);
                if (r < 0)
                        return lv_error_prefix(err, "the guest stays paused here: its disk "
                                                    "leases cannot be taken back");
                log_info("disk leases taken back");
        }
        bool paused = false;
        const struct lv_migration_ops *ops = sv->driver->migration;
        if (ops->is_paused && ops->is_paused(g, &paused, err) < 0)
                return lv_error_prefix(err, "the guest's state after the failed migration");
        if (paused && g->state == GUEST_STATE_RUNNING) {
                int r = sv->driver->resume(g, err);
                if (r < 0)
                        return lv_error_prefix(err, "resuming the guest");
                log_info("guest resumed after the failed migration");
        }
        return 0;
}

static bool uri_valid(const char *uri)
{
        if (!uri || !startswith(uri, "tcp:") || strlen(uri) > 300)
                return false;
        for (const char *p = uri; *p; p++)
                if (*p <= ' ' || *p == ',' || *p == '\'' || *p == '"')
                        return false;
        return true;
}

int migration_source_run(struct supervisor *sv, const struct migration_params *p,
                         char **ret_summary, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        const struct lv_migration_ops *ops = sv->driver->migration;
        int timeout_s = p->timeout_s > 0 ? p->timeout_s : MIGRATION_DEFAULT_TIMEOUT_S;
        if (!ops)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED, "the %s driver cannot migrate guests",
                                     sv->driver->name);
        if (g->state != GUEST_STATE_RUNNING && g->state != GUEST_STATE_PAUSED)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "guest '%s' is %s: only a running guest "
                                     "migrates",
                                     g->name, guest_state_to_string(g->state));
        if (!p->transport || !*p->transport)
                return lv_error_setf(err, EINVAL, "no destination transport command");

        /* Begin */
        long long t0 = clock_now_ms();
        struct host_identity id = {0};
        int r = supervisor_host_identity(&id, NULL, err);
        if (r < 0)
                return r;
        _cleanup_cookie_ struct cookie *c1 = NULL;
        r = local_cookie(g, &id, &c1, err);
        _cleanup_free_ char *c1xml = NULL;
        if (r >= 0)
                r = cookie_format(c1, &c1xml, err);
        if (r < 0) {
                host_identity_clear(&id);
                return r;
        }
        _cleanup_free_ char *domxml = domain_format(g->def);
        log_info("migration: begin, transport '%s'", p->transport);

        struct source_job job = {.sv = sv};
        r = supervisor_job_begin(sv, JOB_MIGRATION_OUT, "prepare", &job, err);
        struct transport t = {.fd = -1, .err_fd = -1};
        if (r >= 0 && (r = transport_spawn(p->transport, &t, err)) < 0)
                supervisor_job_end(sv, JOB_MIGRATION_OUT);
        if (r < 0) {
                host_identity_clear(&id);
                return r;
        }
        struct mchan ch = {.in = t.fd,
                           .out = t.fd,
                           .peer = "destination",
                           .buf = {.max = MIGRATION_MESSAGE_MAX}};
        struct json_object *m = NULL, *reply = NULL;
        _cleanup_cookie_ struct cookie *c2 = NULL, *c3 = NULL;
        _cleanup_free_ char *summary = NULL, *uri = NULL, *c3xml = NULL;
        struct cookie_stats stats = {0};

        /* Prepare */
        m = message("prepare", c1xml);
        json_object_object_add(m, "domain", json_object_new_string(domxml));
        json_object_object_add(m, "persistent", json_object_new_boolean(p->persistent));
        if (p->tunnelled)
                json_object_object_add(m, "tunnelled", json_object_new_boolean(true));
        r = mchan_send(&ch, m, err);
        json_object_put(m);
        if (r >= 0)
                r = mchan_recv(&ch, PHASE_TIMEOUT_MS, &reply, err);
        if (r >= 0)
                r = reply_check(&ch, reply, "prepare", err);
        if (r >= 0)
                r = parse_peer_cookie(jstr(reply, "cookie"), g, &c2, err);
        if (r >= 0)
                r = cookie_check_host(c2, c1->hostuuid, g->name, err);
        uri = xstrdup_null(jstr(reply, "uri"));
        json_object_put(TAKE_PTR(reply));
        struct tunnel_src tun = {.listen_fd = -1};
        _cleanup_free_ char *qemu_uri = NULL;
        if (r >= 0 && p->tunnelled && !streq(uri, "tunnel"))
                r = lv_error_setf(err, LV_ERR_PROTOCOL,
                                  "the destination did not accept a "
                                  "tunnelled stream");
        else if (r >= 0 && !p->tunnelled && !uri_valid(uri))
                r = lv_error_setf(err, LV_ERR_PROTOCOL,
                                  "the destination gave no usable "
                                  "migration URI");
        if (r >= 0 && p->tunnelled)
                r = tunnel_src_open(&tun, g, &ch, &qemu_uri, err);
        else if (r >= 0)
                qemu_uri = xstrdup(uri);
        if (r < 0) {
                if (err && *err && (*err)->code == ECONNRESET) {
                        _cleanup_free_ char *se = transport_stderr(&t);
                        if (*se)
                                lv_error_prefix(err, "%s", se);
                }
                goto fail;
        }
        log_info("migration: prepared on host '%s', stream to %s", c2->hostname, uri);

        /* Perform */
        supervisor_job_set_phase(sv, "perform");
        if (job.aborted) {
                r = lv_error_setf(err, ECANCELED, "migration job: canceled by client");
                goto fail;
        }
        if (c2->graphics && ops->graphics_relocate) {
                _cleanup_error_ struct lv_error *ge = NULL;
                if (ops->graphics_relocate(g, c2->graphics, &ge) < 0)
                        log_warning("graphics clients will not follow: %s", ge->message);
        }
        r = ops->migrate(g, qemu_uri, timeout_s, p->bandwidth_mib, on_switchover, &job, &stats,
                         err);
        if (r >= 0 && p->tunnelled)
                r = tunnel_src_drain(&tun, err);
        if (r < 0 && job.aborted) {
                lv_error_free(err ? TAKE_PTR(*err) : NULL);
                r = lv_error_setf(err, ECANCELED, "migration job: canceled by client");
        }
        if (r < 0)
                goto fail;
        log_info("migration: QEMU's stream completed");
        stats.started = (unsigned long long)t0;

        /* Finish */
        supervisor_job_set_phase(sv, "finish");
        r = local_cookie(g, &id, &c3, err);
        if (r < 0)
                goto fail;
        cookie_set_lockstate(c3, LOCK_DRIVER_NAME, job.lock_state);
        c3->stats = xmalloc(sizeof(*c3->stats));
        *c3->stats = stats;
        r = cookie_format(c3, &c3xml, err);
        if (r < 0)
                goto fail;
        m = message("finish", c3xml);
        r = mchan_send(&ch, m, err);
        json_object_put(m);
        if (r >= 0)
                r = mchan_recv(&ch, PHASE_TIMEOUT_MS, &reply, err);
        if (r >= 0)
                r = reply_check(&ch, reply, "finish", err);
        json_object_put(TAKE_PTR(reply));
        if (r < 0)
                goto fail;

        /* Confirm: the guest runs on the destination. */
        struct strbuf sb = {0};
        char hu[37];
        domain_uuid_format(c2->hostuuid, hu);
        strbuf_printf(&sb,
                      "Migrated guest '%s' to host '%s' (%s) in %lld ms (QEMU's stream %llu ms)",
                      g->name, c2->hostname, hu, clock_now_ms() - t0, stats.time_elapsed);
        if (stats.downtime_set)
                strbuf_printf(&sb, ", downtime %llu ms", stats.downtime);
        if (c2->graphics && c2->graphics->port > 0)
                strbuf_printf(&sb, "\nGraphics: %s://%s:%d",
                              cookie_graphics_type_to_string(c2->graphics->type),
                              c2->graphics->listen ? c2->graphics->listen : c2->hostname,
                              c2->graphics->port);
        summary = strbuf_steal(&sb);
        log_info("%s", summary);
        if (p->undefine_source) {
                _cleanup_free_ char *path = paths_guest_xml(g->name);
                if (unlink(path) < 0 && errno != ENOENT)
                        log_warning("cannot remove '%s': %s", path, strerror(errno));
        }
        tunnel_src_close(&tun);
        transport_close(&t, false);
        varlink_inbuf_clear(&ch.buf);
        host_identity_clear(&id);
        free(job.lock_state);
        supervisor_job_end(sv, JOB_MIGRATION_OUT);
        *ret_summary = TAKE_PTR(summary);
        return 0;

fail:
        log_error("migration failed: %s", err && *err ? (*err)->message : "?");
        tunnel_src_close(&tun);
        m = message("abort", NULL);
        (void)mchan_send(&ch, m, NULL);
        json_object_put(m);
        transport_close(&t, true);
        _cleanup_error_ struct lv_error *re = NULL;
        if (source_rollback(sv, &job, &re) < 0) {
                log_error("%s", re->message);
                lv_error_prefix(err, "%s; %s", re->message, "migration failed");
        }
        varlink_inbuf_clear(&ch.buf);
        host_identity_clear(&id);
        free(job.lock_state);
        supervisor_job_end(sv, JOB_MIGRATION_OUT);
        return lv_error_prefix(err, "cannot migrate guest '%s'", g->name);
}

/* ---- destination ---- */

/* "tcp:HOST:PORT" or "tcp:[V6]:PORT" -> HOST */
static char *uri_host(const char *uri)
{
        const char *h = uri + strlen("tcp:");
        if (*h == '[') {
                const char *e = strchr(h, ']');
                return e ? xstrndup(h + 1, (size_t)(e - h - 1)) : xstrdup(h);
        }
        const char *e = strrchr(h, ':');
        return e ? xstrndup(h, (size_t)(e - h)) : xstrdup(h);
}

struct migration_incoming {
        struct supervisor *sv;
        bool prepared; /* Prepare answered */
        pid_t watchdog_pid;
        int watchdog_fd; /* -1: no watchdog (watchdog_start) */
        struct mchan ch;
        bool persistent;
        struct host_identity id;
        struct lv_incoming incoming; /* sv->g.incoming until Finish */
};

static void watchdog_stop(struct migration_incoming *mi, bool keep);

void migration_incoming_free(struct migration_incoming *mi)
{
        if (!mi)
                return;
        watchdog_stop(mi, false);
        supervisor_job_end(mi->sv, JOB_MIGRATION_IN);
        if (mi->ch.tunnel_fd > 0)
                close(mi->ch.tunnel_fd);
        else if (mi->incoming.tunnel_fd >= 0) /* made, never handed over */
                close(mi->incoming.tunnel_fd);
        varlink_inbuf_clear(&mi->ch.buf);
        host_identity_clear(&mi->id);
        free(mi);
}

void migration_incoming_fail(struct migration_incoming *mi, const struct lv_error *e)
{
        if (!mi)
                return;
        struct json_object *m = json_object_new_object();
        json_object_object_add(m, "phase", json_object_new_string("error"));
        json_object_object_add(m, "ok", json_object_new_boolean(false));
        json_object_object_add(m, "error",
                               json_object_new_string(e && e->message ? e->message : "failed"));
        (void)mchan_send(&mi->ch, m, NULL);
        json_object_put(m);
}

static int on_incoming_started(struct lv_guest *g, const char *uri, struct lv_error **err);

int migration_incoming_begin(struct supervisor *sv, int in_fd, int out_fd,
                             struct migration_incoming **ret, struct lv_error **err)
{
        struct migration_incoming *mi = xcalloc(1, sizeof(*mi));
        mi->ch = (struct mchan){.in = in_fd,
                                .out = out_fd,
                                .peer = "source",
                                .buf = {.max = MIGRATION_MESSAGE_MAX}};
        mi->sv = sv;
        mi->watchdog_fd = -1;
        mi->incoming.tunnel_fd = -1;
        *ret = mi; /* so that the caller can answer failures */

        struct json_object *o = NULL;
        int r = mchan_recv(&mi->ch, PHASE_TIMEOUT_MS, &o, err);
        if (r < 0)
                return r;
        if (!streq(jstr(o, "phase"), "prepare")) {
                json_object_put(o);
                return lv_error_setf(err, LV_ERR_PROTOCOL, "expected the prepare phase");
        }
        mi->persistent = jbool(o, "persistent");
        bool tunnelled = jbool(o, "tunnelled");
        const char *domxml = jstr(o, "domain");
        const struct conf_xml_ops *x = conf_xml(err);
        struct domain_def *def = NULL;
        if (!x)
                r = -ENOENT;
        else if (!domxml)
                r = lv_error_setf(err, LV_ERR_PROTOCOL, "prepare carries no definition");
        else
                r = x->domain_parse_string(domxml, strlen(domxml), "migrated definition", &def,
                                           err);
        _cleanup_cookie_ struct cookie *c1 = NULL;
        if (r >= 0)
                r = x->cookie_parse_string(jstr(o, "cookie") ? jstr(o, "cookie") : "",
                                           jstr(o, "cookie") ? strlen(jstr(o, "cookie")) : 0,
                                           def->name, def->uuid, COOKIE_FEATURES_LITEVIRT, &c1,
                                           err);
        json_object_put(o);
        if (r < 0) {
                domain_def_free(def);
                return r;
        }
        sv->g.def = def;
        sv->g.name = def->name;
        log_set_ident(def->name);

        r = supervisor_host_identity(&mi->id, NULL, err);
        unsigned char local[16];
        if (r >= 0 && domain_uuid_parse(mi->id.uuid, local) < 0)
                r = lv_error_setf(err, EINVAL, "host UUID '%s' is malformed", mi->id.uuid);
        if (r >= 0)
                r = cookie_check_host(c1, local, def->name, err);
        if (r < 0)
                return r;

        mi->incoming = (struct lv_incoming){
                .transport = tunnelled ? LV_INCOMING_TUNNEL : LV_INCOMING_TCP,
                .started = on_incoming_started,
                .data = mi,
                .tunnel_fd = -1,
        };
        sv->g.incoming = &mi->incoming;
        r = supervisor_job_begin(sv, JOB_MIGRATION_IN, "prepare", mi, err);
        if (r < 0)
                return r;

        log_info("migration: incoming guest '%s' from host '%s'", def->name, c1->hostname);
        return 0;
}

/* Prepare's answer: the new graphics ports and the stream's URI. */
static int prepare_reply(struct supervisor *sv, struct migration_incoming *mi, const char *uri,
                         struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        const struct lv_migration_ops *ops = sv->driver->migration;
        log_info("migration: stream expected on %s", uri);
        _cleanup_cookie_ struct cookie *c2 = NULL;
        int r = local_cookie(g, &mi->id, &c2, err);
        if (r < 0)
                return r;
        struct cookie_graphics gr = {.port = -1, .tls_port = -1};
        if (ops->graphics_info && (r = ops->graphics_info(g, &gr, err)) < 0)
                return r;
        if (gr.port > 0) {
                /* A wildcard or loopback listen address means nothing to a
                 * client elsewhere: give the host the stream goes to. */
                if (!gr.listen || streq(gr.listen, "0.0.0.0") || streq(gr.listen, "::") ||
                    startswith(gr.listen, "127.") || streq(gr.listen, "::1")) {
                        free(gr.listen);
                        gr.listen =
                                startswith(uri, "tcp:") ? uri_host(uri) : xstrdup(mi->id.hostname);
                }
                cookie_set_graphics(c2, gr.type, gr.port, gr.tls_port, gr.listen, gr.tls_subject);
        }
        free(gr.listen);
        free(gr.tls_subject);
        _cleanup_free_ char *c2xml = NULL;
        if ((r = cookie_format(c2, &c2xml, err)) < 0)
                return r;
        struct json_object *m = message("prepare", c2xml);
        json_object_object_add(m, "ok", json_object_new_boolean(true));
        json_object_object_add(m, "uri", json_object_new_string(uri));
        r = mchan_send(&mi->ch, m, err);
        json_object_put(m);
        if (r >= 0)
                mi->prepared = true;
        return r;
}

/* Until Finish, the destination's hypervisor must not outlive its
 * supervisor (a supervisor killed mid-stream would leave a paused QEMU
 * and its state behind). A watchdog process waits on a pipe whose write
 * end only the supervisor holds: end of file (the supervisor died) makes
 * it kill the hypervisor (by pidfd) and remove the guest's state
 * directory and cgroups (cgroup_guest_cleanup_stale); a byte (Finish succeeded) lets it exit
 * quietly. PR_SET_PDEATHSIG on QEMU would do the first part, but cannot be undone after Finish: the
 * guest would then die with any later supervisor crash instead of being reattached. */
static void watchdog_start(struct migration_incoming *mi, struct lv_guest *g)
{
        int p[2];
        int pidfd = (int)syscall(SYS_pidfd_open, g->pid, 0);
        if (pidfd < 0 || pipe2(p, O_CLOEXEC) < 0) {
                log_warning("migration watchdog: %s", strerror(errno));
                if (pidfd >= 0)
                        close(pidfd);
                return;
        }
        _cleanup_free_ char *state = paths_state_dir(g->name);
        pid_t pid = fork();
        if (pid == 0) {
                /* hold nothing of the supervisor's: not the channel, not
                 * the port or lease locks */
                int keep_r = fcntl(p[0], F_DUPFD, 3), keep_pidfd = fcntl(pidfd, F_DUPFD, 3);
                int null = open("/dev/null", O_RDWR);
                for (int fd = 0; fd < 1024; fd++)
                        if (fd != keep_r && fd != keep_pidfd && fd != null)
                                close(fd);
                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 1);
                        dup2(null, 2);
                }
                (void)setsid();
                char c;
                ssize_t n;
                while ((n = read(keep_r, &c, 1)) < 0 && errno == EINTR)
                        ;
                if (n == 1)
                        _exit(0);
                (void)syscall(SYS_pidfd_send_signal, keep_pidfd, SIGKILL, NULL, 0);
                struct pollfd pfd = {.fd = keep_pidfd, .events = POLLIN};
                (void)poll(&pfd, 1, 10000);
                (void)rm_rf(state, NULL);
                /* the guest's cgroups, as any stale guest's (cgroup/) */
                (void)cgroup_guest_cleanup_stale(g->name, NULL);
                _exit(0);
        }
        close(p[0]);
        close(pidfd);
        if (pid < 0) {
                log_warning("migration watchdog: fork: %s", strerror(errno));
                close(p[1]);
                return;
        }
        mi->watchdog_pid = pid;
        mi->watchdog_fd = p[1];
}

/* Finish succeeded: the hypervisor is the guest now; or the migration
 * failed and the caller tears everything down itself. */
static void watchdog_stop(struct migration_incoming *mi, bool keep)
{
        if (mi->watchdog_fd < 0)
                return;
        if (keep)
                (void)!write(mi->watchdog_fd, "k", 1);
        close(mi->watchdog_fd);
        mi->watchdog_fd = -1;
        while (waitpid(mi->watchdog_pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

static int on_channel_readable(struct loop_source *s, int fd, uint32_t revents, void *data)
{
        bool *readable = data;
        *readable = true;
        return 0;
}

/* The source's next message, the event loop running until it arrives:
 * the control socket answers meanwhile, as the job's mask allows (State,
 * JobInfo). A tunnelled stream's frames keep the channel busy: they are
 * forwarded inside mchan_recv, so calls are answered before the stream
 * and after it, not during it. */
static int incoming_recv(struct supervisor *sv, struct migration_incoming *mi, int timeout_ms,
                         struct json_object **ret, struct lv_error **err)
{
        long long deadline = clock_now_ms() + timeout_ms;
        bool readable = false;
        struct loop_source *src = NULL;
        if (loop_add_io(sv->loop, mi->ch.in, EPOLLIN, on_channel_readable, &readable, &src, NULL) <
            0)
                readable = true; /* not pollable: just read */
        while (!readable && mi->ch.buf.len <= mi->ch.buf.consumed) {
                long long left = deadline - clock_now_ms();
                if (left <= 0)
                        break;
                int n = loop_dispatch(sv->loop, (int)left);
                if (n < 0) {
                        loop_source_free(src);
                        return lv_error_set(err, -n, "event loop");
                }
                if (sv->g.pid <= 0 || loop_exiting(sv->loop)) {
                        loop_source_free(src);
                        return lv_error_setf(err, ECONNRESET,
                                             "the guest's hypervisor ended during the incoming "
                                             "migration");
                }
        }
        loop_source_free(src);
        long long left = deadline - clock_now_ms();
        return mchan_recv(&mi->ch, left > 0 ? (int)left : 0, ret, err);
}

/* The driver's hypervisor process runs and listens on the stream's port
 * (driver.h, struct lv_incoming): answer Prepare while it starts up. */
static int on_incoming_started(struct lv_guest *g, const char *uri, struct lv_error **err)
{
        struct migration_incoming *mi = g->incoming->data;
        if (!mi || mi->prepared)
                return 0;
        mi->ch.tunnel_fd = g->incoming->tunnel_fd;
        if (g->pid > 0 && mi->watchdog_fd < 0)
                watchdog_start(mi, g);
        return prepare_reply(mi->sv, mi, uri, err);
}

int migration_incoming_finish(struct supervisor *sv, struct migration_incoming *mi,
                              struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        const struct lv_migration_ops *ops = sv->driver->migration;
        if (!ops)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED, "the %s driver cannot migrate guests",
                                     sv->driver->name);
        int r;
        if (g->pid > 0 && mi->watchdog_fd < 0)
                watchdog_start(mi, g);
        if (!mi->prepared) {
                _cleanup_free_ char *uri = NULL;
                if ((r = ops->incoming_setup(g, mi->id.hostname, &uri, err)) < 0)
                        return r;
                if ((r = prepare_reply(sv, mi, uri, err)) < 0)
                        return r;
        }
        /* Fault points (docs/robustness.md): the destination's hypervisor
         * dies as the stream is about to start (":fail"), or this
         * supervisor does. */
        if (fault_point("incoming-hypervisor") < 0 && g->pid > 0)
                kill(g->pid, SIGKILL);
        fault_point("incoming-before-finish");

        /* Finish */
        supervisor_job_set_phase(sv, "perform");
        struct json_object *o = NULL;
        r = incoming_recv(sv, mi, MIGRATION_DEFAULT_TIMEOUT_S * 1000, &o, err);
        if (r < 0)
                return r;
        if (streq(jstr(o, "phase"), "abort")) {
                json_object_put(o);
                return lv_error_setf(err, ECANCELED, "the source abandoned the migration");
        }
        if (!streq(jstr(o, "phase"), "finish")) {
                json_object_put(o);
                return lv_error_setf(err, LV_ERR_PROTOCOL, "expected the finish phase");
        }
        log_info("migration: finish received");
        supervisor_job_set_phase(sv, "finish");
        _cleanup_cookie_ struct cookie *c3 = NULL;
        r = parse_peer_cookie(jstr(o, "cookie"), g, &c3, err);
        json_object_put(o);
        if (r < 0)
                return r;
        if (c3->lock_driver && !streq(c3->lock_driver, LOCK_DRIVER_NAME))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "lock driver '%s' is not supported "
                                     "(litevirt uses '%s')",
                                     c3->lock_driver, LOCK_DRIVER_NAME);
        if ((r = ops->incoming_wait(g, 60, err)) < 0)
                return r;
        log_info("migration: stream loaded");
        /* Fault point (":fail"): the stream has arrived, the source's CPUs
         * are stopped and its leases released. */
        if (fault_point("incoming-after-stream") < 0)
                return lv_error_setf(err, EIO, "failure injected at finish (test)");
        if ((r = supervisor_leases_acquire(sv, c3->lock_state ? c3->lock_state : "", err)) < 0)
                return r;
        log_info("migration: leases taken");
        /* From here the guest's process holds its leases: it must outlive
         * a supervisor crash (reattach), never be killed by the watchdog. */
        watchdog_stop(mi, true);
        if ((r = sv->driver->resume(g, err)) < 0)
                return r;
        g->incoming = NULL;
        supervisor_job_end(sv, JOB_MIGRATION_IN);
        log_info("migration: guest '%s' runs here now", g->name);
        if (mi->persistent) /* at Finish, as libvirt */
                supervisor_definition_store_migrated(g->def);
        fault_point("migration-finish-after-resume");

        _cleanup_cookie_ struct cookie *c4 = NULL;
        _cleanup_free_ char *c4xml = NULL;
        if (local_cookie(g, &mi->id, &c4, NULL) >= 0 && cookie_format(c4, &c4xml, NULL) >= 0) {
                struct json_object *m = message("finish", c4xml);
                json_object_object_add(m, "ok", json_object_new_boolean(true));
                _cleanup_error_ struct lv_error *se = NULL;
                if (mchan_send(&mi->ch, m, &se) < 0)
                        log_warning("%s", se->message);
                json_object_put(m);
        }
        /* Detach from the channel: from now on a normal supervisor. */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                (void)dup2(null, mi->ch.in);
                (void)dup2(null, mi->ch.out);
                if (!sv->foreground)
                        (void)dup2(null, 2);
                close(null);
        }
        (void)setsid();
        return 0;
}
