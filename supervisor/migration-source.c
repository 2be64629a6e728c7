/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Live migration, the source: the whole exchange as the supervisor's job
 * inside the control call that asked for it (its waits dispatch the event
 * loop, except during the switch-over; every wait is bounded). Failure
 * never loses the guest: until the destination has taken the leases and
 * resumed, the source's copy is the guest. */
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
#include "util/log.h"
#include "util/paths.h"
#include "util/strbuf.h"
#include "util/clock.h"

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
        struct migration_storage *storage;   /* --copy-storage-*, or NULL */
        bool postcopy;                       /* --postcopy */
        unsigned long long stopped_epoch_ms; /* CPUs stopped for the switch-over */
};

static void jset_u64(struct json_object *o, const char *key, unsigned long long v)
{
        json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

/* The stream's figures, JobInfo's names (virsh domjobinfo's fields). */
static void stats_to_json(struct json_object *o, const struct cookie_stats *st)
{
        jset_u64(o, "data_total", st->memory_total);
        jset_u64(o, "data_processed", st->memory_processed);
        jset_u64(o, "data_remaining", st->memory_remaining);
        jset_u64(o, "memory_bps", st->memory_bps);
        jset_u64(o, "memory_constant", st->memory_constant);
        jset_u64(o, "memory_normal", st->memory_normal);
        jset_u64(o, "memory_normal_bytes", st->memory_normal_bytes);
        jset_u64(o, "memory_dirty_rate", st->memory_dirty_rate);
        jset_u64(o, "memory_iteration", st->memory_iteration);
        jset_u64(o, "memory_page_size", st->memory_page_size);
        jset_u64(o, "setup_time", st->setup_time);
}

int migration_job_info(struct supervisor *sv, struct json_object **ret, struct lv_error **err)
{
        struct json_object *o = json_object_new_object();
        enum job_kind kind = sv->job.kind;
        if (kind != JOB_MIGRATION_OUT && kind != JOB_MIGRATION_IN && kind != JOB_SAVE) {
                json_object_object_add(o, "type", json_object_new_string("none"));
                *ret = o;
                return 0;
        }
        const char *phase = sv->job.phase;
        json_object_object_add(o, "type", json_object_new_string("unbounded"));
        json_object_object_add(o, "operation",
                               json_object_new_string(kind == JOB_MIGRATION_OUT
                                                              ? "outgoing migration"
                                                      : kind == JOB_SAVE ? "save"
                                                                         : "incoming migration"));
        json_object_object_add(o, "phase", json_object_new_string(phase));
        jset_u64(o, "time_elapsed", (unsigned long long)(clock_now_ms() - sv->job.start_ms));
        if (kind == JOB_MIGRATION_IN) {
                *ret = o; /* the source has the stream's figures */
                return 0;
        }
        /* a save (save.c) has no source_job: its stream is QEMU's all along */
        struct source_job *job = kind == JOB_MIGRATION_OUT ? sv->job.data : NULL;
        const struct lv_migration_ops *ops = sv->driver->migration;
        struct cookie_stats st = {0};
        char status[32] = "";
        unsigned long long expected = 0;
        if (streq(phase, "perform") && job && job->released) {
                st = job->last;
                snprintf(status, sizeof(status), "switchover");
                expected = job->last_expected;
        } else if (streq(phase, "perform") && ops->job_info) {
                int r = ops->job_info(&sv->g, &st, status, sizeof(status), &expected, err);
                if (r < 0) {
                        json_object_put(o);
                        return r;
                }
                if (job) {
                        job->last = st;
                        job->last_expected = expected;
                }
        }
        if (streq(phase, "perform") && (ops->job_info || (job && job->released))) {
                json_object_object_add(o, "status", json_object_new_string(status));
                stats_to_json(o, &st);
                jset_u64(o, "expected_downtime", expected);
        }
        if (streq(phase, "perform") && job && !job->released)
                migration_storage_job_info(sv, job->storage, o);
        *ret = o;
        return 0;
}

void migration_job_completed(struct supervisor *sv, bool incoming, const struct cookie_stats *st,
                             unsigned long long elapsed_ms)
{
        json_object_put(sv->completed_job);
        sv->completed_job = migration_job_completed_json(incoming, st, elapsed_ms);
}

struct json_object *migration_job_completed_json(bool incoming, const struct cookie_stats *st,
                                                 unsigned long long elapsed_ms)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("completed"));
        json_object_object_add(
                o, "operation",
                json_object_new_string(incoming ? "incoming migration" : "outgoing migration"));
        jset_u64(o, "time_elapsed", elapsed_ms);
        stats_to_json(o, st);
        if (st->downtime_set)
                jset_u64(o, "downtime", st->downtime);
        json_object_object_add(o, "status", json_object_new_string("completed"));
        return o;
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

int migration_job_postcopy(struct supervisor *sv, struct lv_error **err)
{
        struct source_job *job = sv->job.kind == JOB_MIGRATION_OUT ? sv->job.data : NULL;
        if (!job || !streq(sv->job.phase, "perform") || job->released)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "guest '%s' has no migration in its memory copy to switch "
                                     "to post-copy",
                                     sv->g.name);
        if (!job->postcopy)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "guest '%s': switching to post-copy needs a migration "
                                     "started with --postcopy",
                                     sv->g.name);
        int r = sv->driver->migration->postcopy_start(&sv->g, err);
        if (r >= 0)
                log_info("migration: switching to post-copy");
        return r;
}

/* Called by the driver with the CPUs stopped, before the final pass. */
static int on_switchover(void *data, struct lv_error **err)
{
        struct source_job *job = data;
        struct supervisor *sv = job->sv;
        /* the disks' copies complete while nothing writes to them */
        int r = migration_storage_source_end(sv, job->storage, true, err);
        if (r < 0)
                return r;
        job->released = true;
        job->stopped_epoch_ms = clock_epoch_ms();
        if (!sv->leases) {
                job->lock_state = xstrdup("");
                return 0;
        }
        /* the disks copied to the destination: this copy's leases are
         * this host's own, not handed over (the destination takes leases
         * of its own copy) */
        for (int i = 0; job->storage && i < job->storage->n; i++) {
                const char *src = sv->g.def->disks[job->storage->disks[i].index].source;
                if ((r = lock_set_mark_local(sv->leases, src, err)) < 0)
                        return r;
        }
        r = lock_set_release(sv->leases, &job->lock_state, err);
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

static void graphics_clear(struct cookie_graphics *gr)
{
        free(gr->listen);
        free(gr->tls_subject);
}

static int port_parse(const char *s, size_t n, int *ret)
{
        int v = 0;
        if (n == 0 || n > 5)
                return -1;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        if (v < 1 || v > 65535)
                return -1;
        *ret = v;
        return 0;
}

/* --graphicsuri, virsh's syntax TYPE://HOST[:PORT][?tlsPort=N]: where
 * graphics clients reconnect, instead of what the destination answered
 * (as libvirt's qemuDomainMigrateGraphicsRelocate). What it does not give
 * (port, tlsPort) is the destination's. */
static int graphics_uri_parse(const char *uri, struct cookie_graphics *gr, struct lv_error **err)
{
        const char *sep = strstr(uri, "://");
        _cleanup_free_ char *scheme = sep ? xstrndup(uri, (size_t)(sep - uri)) : NULL;
        int type = scheme ? cookie_graphics_type_from_string(scheme) : -1;
        if (type < 0)
                return lv_error_setf(err, EINVAL,
                                     "--graphicsuri '%s': expected spice://HOST[:PORT][?tlsPort=N] "
                                     "or vnc://HOST[:PORT]",
                                     uri);
        const char *h = sep + 3, *e;
        if (*h == '[') {
                e = strchr(h, ']');
                if (!e)
                        return lv_error_setf(err, EINVAL, "--graphicsuri '%s': no ']'", uri);
                gr->listen = xstrndup(h + 1, (size_t)(e - h - 1));
                e++;
        } else {
                e = h + strcspn(h, ":?/");
                gr->listen = xstrndup(h, (size_t)(e - h));
        }
        if (!*gr->listen)
                return lv_error_setf(err, EINVAL, "--graphicsuri '%s': no host", uri);
        gr->type = (enum domain_graphics_type)type;
        if (*e == ':') {
                size_t n = strcspn(e + 1, "?/");
                if (port_parse(e + 1, n, &gr->port) < 0)
                        return lv_error_setf(err, EINVAL, "--graphicsuri '%s': bad port", uri);
                e += 1 + n;
        }
        if (*e == '/')
                e++;
        if (*e == '?' && startswith(e + 1, "tlsPort=")) {
                e += strlen("?tlsPort=");
                if (port_parse(e, strlen(e), &gr->tls_port) < 0)
                        return lv_error_setf(err, EINVAL, "--graphicsuri '%s': bad tlsPort", uri);
                e += strlen(e);
        }
        if (*e)
                return lv_error_setf(err, EINVAL, "--graphicsuri '%s': unexpected '%s'", uri, e);
        return 0;
}

/* Where graphics clients reconnect: the destination's answer, with
 * --graphicsuri's parts over it. */
static void graphics_target(const struct cookie_graphics *dest, const struct cookie_graphics *uri,
                            struct cookie_graphics *ret)
{
        *ret = (struct cookie_graphics){.port = -1, .tls_port = -1};
        if (dest) {
                *ret = *dest;
                ret->listen = xstrdup_null(dest->listen);
                ret->tls_subject = xstrdup_null(dest->tls_subject);
        }
        if (uri->listen) {
                ret->type = uri->type;
                free(ret->listen);
                ret->listen = xstrdup(uri->listen);
                if (uri->port > 0)
                        ret->port = uri->port;
                if (uri->tls_port > 0)
                        ret->tls_port = uri->tls_port;
        }
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

/* Send Prepare (m, consumed) and check the answer: the destination's
 * reply (*ret_reply, also on failure) and its cookie, from another host. */
static int prepare_exchange(struct mchan *ch, struct json_object *m, struct lv_guest *g,
                            const struct cookie *c1, struct json_object **ret_reply,
                            struct cookie **ret_c2, struct lv_error **err)
{
        int r = mchan_send(ch, m, err);
        json_object_put(m);
        if (r >= 0)
                r = mchan_recv(ch, PHASE_TIMEOUT_MS, ret_reply, err);
        if (r >= 0)
                r = migration_reply_check(ch, *ret_reply, "prepare", err);
        if (r >= 0)
                r = migration_parse_peer_cookie(migration_jstr(*ret_reply, "cookie"), g, ret_c2,
                                                err);
        if (r >= 0)
                r = cookie_check_host(*ret_c2, c1->hostuuid, g->name, err);
        return r;
}

int migration_source_run(struct supervisor *sv, const struct migration_params *p,
                         char **ret_summary, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        const struct lv_migration_ops *ops = sv->driver->migration;
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
        _cleanup_(graphics_clear) struct cookie_graphics guri = {.port = -1, .tls_port = -1};
        _cleanup_(graphics_clear) struct cookie_graphics gr = guri;
        if (p->graphics_uri && graphics_uri_parse(p->graphics_uri, &guri, err) < 0)
                return -EINVAL;
        if ((p->postcopy || p->auto_converge) && !ops->options_set)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "the %s driver has no post-copy or auto-converge",
                                     sv->driver->name);
        if (p->postcopy && p->tunnelled)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "--postcopy cannot be tunnelled (the destination asks the "
                                     "source for pages on QEMU's own connection)");
        if (p->storage != MIGRATION_STORAGE_SHARED && p->tunnelled)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "--copy-storage-all/-inc cannot be tunnelled (the disks "
                                     "travel on their own connection)");
        if (p->tls && p->tunnelled)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "--tls cannot be tunnelled (as libvirt: the stream is "
                                     "QEMU's own TLS connection)");
        if (p->tls && p->storage != MIGRATION_STORAGE_SHARED)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "--tls with --copy-storage-all/-inc: the disks' NBD "
                                     "connection is not encrypted (refused rather than sent in "
                                     "the clear)");
        _cleanup_free_ char *tls_dir = NULL;
        if (p->tls && migration_tls_check(sv->driver, false, &tls_dir, NULL, err) < 0)
                return lv_error_prefix(err, "cannot migrate guest '%s'", g->name);
        struct migration_storage *storage = NULL;
        if (p->storage != MIGRATION_STORAGE_SHARED &&
            migration_storage_source_new(sv, p->storage == MIGRATION_STORAGE_INC, &storage, err) <
                    0)
                return lv_error_prefix(err, "cannot migrate guest '%s'", g->name);

        /* Begin */
        long long t0 = clock_now_ms();
        unsigned long long t0_epoch = clock_epoch_ms();
        struct host_identity id = {0};
        int r = supervisor_host_identity(&id, NULL, err);
        if (r < 0)
                return r;
        _cleanup_cookie_ struct cookie *c1 = NULL;
        r = migration_local_cookie(g, &id, &c1, err);
        _cleanup_free_ char *c1xml = NULL;
        if (r >= 0)
                r = cookie_format(c1, &c1xml, err);
        if (r < 0) {
                host_identity_clear(&id);
                migration_storage_free(storage);
                return r;
        }
        _cleanup_free_ char *domxml = domain_format(g->def);
        log_info("migration: begin, transport '%s'", p->transport);

        struct source_job job = {.sv = sv, .storage = storage, .postcopy = p->postcopy};
        r = supervisor_job_begin(sv, JOB_MIGRATION_OUT, "prepare", &job, err);
        struct transport t = {.fd = -1, .err_fd = -1};
        if (r >= 0 && (r = transport_spawn(p->transport, &t, err)) < 0)
                supervisor_job_end(sv, JOB_MIGRATION_OUT);
        if (r < 0) {
                host_identity_clear(&id);
                migration_storage_free(storage);
                return r;
        }
        struct mchan ch = {.in = t.fd,
                           .out = t.fd,
                           .peer = "destination",
                           .buf = {.max = MIGRATION_MESSAGE_MAX}};
        struct json_object *m = NULL, *reply = NULL, *prepared = NULL;
        _cleanup_cookie_ struct cookie *c2 = NULL, *c3 = NULL;
        _cleanup_free_ char *summary = NULL, *uri = NULL, *c3xml = NULL;
        struct cookie_stats stats = {0};

        /* Prepare */
        m = migration_message("prepare", c1xml);
        json_object_object_add(m, "domain", json_object_new_string(domxml));
        json_object_object_add(m, "persistent", json_object_new_boolean(p->persistent));
        if (p->tunnelled)
                json_object_object_add(m, "tunnelled", json_object_new_boolean(true));
        if (storage)
                migration_storage_prepare_add(g, storage, m);
        if (p->postcopy)
                json_object_object_add(m, "postcopy", json_object_new_boolean(true));
        if (p->tls)
                json_object_object_add(m, "tls", json_object_new_boolean(true));
        r = prepare_exchange(&ch, m, g, c1, &reply, &c2, err);
        uri = xstrdup_null(migration_jstr(reply, "uri"));
        prepared = TAKE_PTR(reply); /* its "nbd" for the disks' copy */
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
        if (storage)
                r = migration_storage_source_mirror(sv, storage, prepared, MIGRATION_WAIT_MAX_S,
                                                    &job.aborted, err);
        json_object_put(TAKE_PTR(prepared));
        if (r < 0)
                goto fail;
        if (p->postcopy || p->auto_converge) {
                r = ops->options_set(g, p->postcopy, p->auto_converge, err);
                if (r < 0)
                        goto fail;
        }
        graphics_target(c2->graphics, &guri, &gr);
        if (gr.port > 0 && gr.listen && ops->graphics_relocate) {
                _cleanup_error_ struct lv_error *ge = NULL;
                if (ops->graphics_relocate(g, &gr, &ge) < 0)
                        log_warning("graphics clients will not follow: %s", ge->message);
        }
        if (tls_dir) {
                _cleanup_free_ char *host = migration_tls_hostname(qemu_uri);
                r = ops->tls_begin(g, tls_dir, false, true, host, err);
                if (r < 0)
                        goto fail;
        }
        r = ops->migrate(g, qemu_uri, p->timeout_s, p->bandwidth_mib, on_switchover, &job, &stats,
                         err);
        if (tls_dir)
                ops->tls_end(g);
        if (r >= 0 && p->tunnelled)
                r = tunnel_src_drain(&tun, err);
        if (r < 0 && job.aborted) {
                lv_error_free(err ? TAKE_PTR(*err) : NULL);
                r = lv_error_setf(err, ECANCELED, "migration job: canceled by client");
        }
        if (r < 0)
                goto fail;
        log_info("migration: QEMU's stream completed");
        /* libvirt's <statistics> times: milliseconds since the epoch when
         * the job started, when the CPUs stopped, when the cookie is sent */
        stats.started = t0_epoch;
        stats.stopped = job.stopped_epoch_ms;

        /* Finish */
        supervisor_job_set_phase(sv, "finish");
        r = migration_local_cookie(g, &id, &c3, err);
        if (r < 0)
                goto fail;
        cookie_set_lockstate(c3, LOCK_DRIVER_NAME, job.lock_state);
        stats.sent = clock_epoch_ms();
        c3->stats = xmalloc(sizeof(*c3->stats));
        *c3->stats = stats;
        r = cookie_format(c3, &c3xml, err);
        if (r < 0)
                goto fail;
        m = migration_message("finish", c3xml);
        /* As libvirt (VIR_MIGRATE_PAUSED, which it adds itself for a
         * paused guest): the destination leaves it paused. */
        json_object_object_add(
                m, "paused", json_object_new_boolean(p->suspend || g->state == GUEST_STATE_PAUSED));
        r = mchan_send(&ch, m, err);
        json_object_put(m);
        if (r >= 0)
                r = mchan_recv(&ch, PHASE_TIMEOUT_MS, &reply, err);
        if (r >= 0)
                r = migration_reply_check(&ch, reply, "finish", err);
        json_object_put(TAKE_PTR(reply));
        if (r < 0)
                goto fail;
        if (p->postcopy && (r = ops->postcopy_wait(g, MIGRATION_WAIT_MAX_S, &stats, err)) < 0) {
                /* The guest runs on the destination, which lacks the pages
                 * it has not fetched yet; this copy is stale: neither is
                 * the whole guest (libvirt: "paused (post-copy failed)"). */
                _cleanup_error_ struct lv_error *te = NULL;
                if (supervisor_transition(sv, GUEST_EVENT_POSTCOPY_FAILED, &te) < 0)
                        log_warning("%s", te->message);
                log_error("migration: %s: the guest is paused (post-copy failed)",
                          err && *err ? (*err)->message : "post-copy failed");
                tunnel_src_close(&tun);
                transport_close(&t, false); /* the destination has the guest */
                varlink_inbuf_clear(&ch.buf);
                host_identity_clear(&id);
                free(job.lock_state);
                migration_storage_free(storage);
                supervisor_job_end(sv, JOB_MIGRATION_OUT);
                return lv_error_prefix(err,
                                       "guest '%s' is lost unless recovered: paused (post-copy "
                                       "failed) here and on the destination",
                                       g->name);
        }

        /* Confirm: the guest runs on the destination. */
        struct strbuf sb = {0};
        char hu[37];
        domain_uuid_format(c2->hostuuid, hu);
        strbuf_printf(&sb,
                      "Migrated guest '%s' to host '%s' (%s) in %lld ms (QEMU's stream %llu ms)",
                      g->name, c2->hostname, hu, clock_now_ms() - t0, stats.time_elapsed);
        if (stats.downtime_set)
                strbuf_printf(&sb, ", downtime %llu ms", stats.downtime);
        if (storage) {
                unsigned long long bytes = 0;
                for (int i = 0; i < storage->n; i++)
                        bytes += storage->disks[i].size;
                strbuf_printf(&sb, ", %d disk(s) copied (%llu MiB)", storage->n, bytes >> 20);
        }
        if (gr.port > 0)
                strbuf_printf(&sb, "\nGraphics: %s://%s:%d",
                              cookie_graphics_type_to_string(gr.type),
                              gr.listen ? gr.listen : c2->hostname, gr.port);
        summary = strbuf_steal(&sb);
        log_info("%s", summary);
        migration_job_completed(sv, false, &stats, (unsigned long long)(clock_now_ms() - t0));
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
        migration_storage_free(storage);

        supervisor_job_end(sv, JOB_MIGRATION_OUT);
        *ret_summary = TAKE_PTR(summary);
        return 0;

fail:
        log_error("migration failed: %s", err && *err ? (*err)->message : "?");
        json_object_put(prepared);
        tunnel_src_close(&tun);
        (void)migration_storage_source_end(sv, storage, false, NULL);
        m = migration_message("abort", NULL);
        (void)mchan_send(&ch, m, NULL);
        json_object_put(m);
        transport_close(&t, true);
        _cleanup_error_ struct lv_error *re = NULL;
        if (source_rollback(sv, &job, &re) < 0) {
                log_error("%s", re->message);
                /* switched to post-copy: this copy cannot run again */
                if (p->postcopy && job.released &&
                    supervisor_transition(sv, GUEST_EVENT_POSTCOPY_FAILED, NULL) >= 0)
                        log_error("the guest is paused (post-copy failed)");
                lv_error_prefix(err, "%s; %s", re->message, "migration failed");
        }
        varlink_inbuf_clear(&ch.buf);
        host_identity_clear(&id);
        free(job.lock_state);
        migration_storage_free(storage);

        supervisor_job_end(sv, JOB_MIGRATION_OUT);
        return lv_error_prefix(err, "cannot migrate guest '%s'", g->name);
}

int migration_offline_run(const char *name, const struct migration_params *p, char **ret_summary,
                          struct lv_error **err)
{
        if (!p->transport || !*p->transport)
                return lv_error_setf(err, EINVAL, "no destination transport command");
        const struct conf_xml_ops *x = conf_xml(err);
        if (!x)
                return -ENOENT;
        _cleanup_free_ char *path = paths_guest_xml(name);
        struct domain_def *def = NULL;
        int r = x->domain_parse_file(path, &def, err);
        if (r < 0)
                return lv_error_prefix(err, "domain '%s'", name);
        struct lv_guest g = {.name = def->name, .def = def, .pidfd = -1, .console_fd = -1};
        struct host_identity id = {0};
        _cleanup_cookie_ struct cookie *c1 = NULL, *c2 = NULL;
        _cleanup_free_ char *c1xml = NULL, *domxml = domain_format(def);
        struct transport t = {.fd = -1, .err_fd = -1};
        struct json_object *reply = NULL;
        r = supervisor_host_identity(&id, NULL, err);
        if (r >= 0)
                r = migration_local_cookie(&g, &id, &c1, err);
        if (r >= 0)
                r = cookie_format(c1, &c1xml, err);
        if (r >= 0)
                r = transport_spawn(p->transport, &t, err);
        struct mchan ch = {.in = t.fd,
                           .out = t.fd,
                           .peer = "destination",
                           .buf = {.max = MIGRATION_MESSAGE_MAX}};
        if (r >= 0) {
                /* Prepare, offline: the destination stores the definition
                 * (refusing another guest of the name) and starts nothing */
                struct json_object *m = migration_message("prepare", c1xml);
                json_object_object_add(m, "domain", json_object_new_string(domxml));
                json_object_object_add(m, "persistent", json_object_new_boolean(true));
                json_object_object_add(m, "offline", json_object_new_boolean(true));
                r = prepare_exchange(&ch, m, &g, c1, &reply, &c2, err);
        }
        json_object_put(reply);
        if (r < 0 && err && *err && (*err)->code == ECONNRESET) {
                _cleanup_free_ char *se = transport_stderr(&t);
                if (*se)
                        lv_error_prefix(err, "%s", se);
        }
        transport_close(&t, r < 0);
        varlink_inbuf_clear(&ch.buf);
        if (r >= 0) {
                char hu[37];
                domain_uuid_format(c2->hostuuid, hu);
                *ret_summary = xasprintf("Migrated the definition of guest '%s' to host '%s' (%s)",
                                         name, c2->hostname, hu);
                if (p->undefine_source && unlink(path) < 0 && errno != ENOENT)
                        log_warning("cannot remove '%s': %s", path, strerror(errno));
        }
        host_identity_clear(&id);
        domain_def_free(def);
        return r < 0 ? lv_error_prefix(err, "cannot migrate guest '%s' offline", name) : 0;
}
