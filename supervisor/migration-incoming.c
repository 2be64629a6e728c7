/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Live migration, the destination (litevirt-supervisor --incoming): the
 * supervisor's job from Prepare to Finish; it waits for Finish with its
 * event loop running, so its control socket answers meanwhile. */
#include "supervisor/migration.h"
#include "supervisor/migration_priv.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "conf/domain_json.h"
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

/* The address the source's side reaches this host at: the stream URI's
 * host, or, tunnelled (no URI), host.conf's migration_address, else the
 * host name. */
static char *migration_host(const char *uri, const char *hostname)
{
        if (startswith(uri, "tcp:"))
                return uri_host(uri);
        struct host_conf hc;
        host_conf_init(&hc);
        char *addr = NULL;
        if (host_conf_load(NULL, &hc, NULL) >= 0 && hc.migration_address)
                addr = xstrdup(hc.migration_address);
        host_conf_clear(&hc);
        return addr ? addr : xstrdup(hostname);
}

/* No address or a wildcard one (0.0.0.0, ::), as libvirt's
 * virSocketAddrIsWildcard. */
static bool listen_is_wildcard(const char *addr)
{
        unsigned char a[16] = {0};
        static const unsigned char zero[16];
        return !addr || ((inet_pton(AF_INET, addr, a) == 1 || inet_pton(AF_INET6, addr, a) == 1) &&
                         !memcmp(a, zero, sizeof(a)));
}

struct migration_incoming {
        struct supervisor *sv;
        bool prepared;            /* Prepare answered */
        struct watchdog watchdog; /* WATCHDOG_NONE: none */
        struct mchan ch;
        bool persistent;
        struct host_identity id;
        struct lv_incoming incoming;       /* sv->g.incoming until Finish */
        struct migration_storage *storage; /* --copy-storage-*, or NULL */
        char *stream_uri;        /* with storage or postcopy: Prepare waits for QEMU's monitor */
        bool postcopy;           /* the source may switch to post-copy */
        char *tls_dir;           /* --tls: the certificates' directory */
        bool tls_verify;         /* --tls: the source must show a certificate */
        int detach_fd;           /* to the process the transport started */
        bool done;               /* offline: nothing more to do */
        struct json_object *job; /* the completed job, from Finish's cookie */
};

/* The process the transport started (sh -c, ssh's remote command) must
 * end once the guest has arrived: a transport that waits for it (ssh
 * waits for its remote command, a shell that does not exec it) would
 * otherwise live as long as the guest, on both hosts. So that process
 * only waits: a child becomes the supervisor (sharing the channel's
 * fds), and the process exits when the child says the guest arrived
 * (exit 0) or when the child ends first (its exit status). */
static int incoming_relay_fork(struct lv_error **err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return lv_error_set(err, errno, "pipe");
        pid_t pid = fork();
        if (pid < 0) {
                int r = lv_error_set(err, errno, "fork");
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid == 0) {
                close(p[0]);
                return p[1];
        }
        /* the waiting parent: the channel is the child's alone */
        close(p[1]);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                (void)dup2(null, 0);
                (void)dup2(null, 1);
        }
        char c;
        ssize_t n;
        while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR)
                ;
        if (n == 1)
                _exit(0);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

void migration_incoming_free(struct migration_incoming *mi)
{
        if (!mi)
                return;
        watchdog_stop(&mi->watchdog, false);
        supervisor_job_end(mi->sv, JOB_MIGRATION_IN);
        if (mi->detach_fd >= 0)
                close(mi->detach_fd);
        json_object_put(mi->job);
        if (mi->ch.tunnel_fd > 0)
                close(mi->ch.tunnel_fd);
        else if (mi->incoming.tunnel_fd >= 0) /* made, never handed over */
                close(mi->incoming.tunnel_fd);
        varlink_inbuf_clear(&mi->ch.buf);
        host_identity_clear(&mi->id);
        migration_storage_free(mi->storage);
        free(mi->stream_uri);
        free(mi->tls_dir);
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

/* Prepare's parse, in a child (supervisor_parse_child): the definition,
 * the cookie for it from another host, no other guest stored under the
 * name. Answers {"domain": model JSON, "hostname": the source's}. */
struct prepare_parse {
        const char *domxml, *cookie;
        unsigned char local[16]; /* this host's UUID */
};

static int prepare_parse_child(void *arg, char **ret_json, struct lv_error **err)
{
        const struct prepare_parse *pp = arg;
        const struct conf_xml_ops *x = conf_xml(err);
        if (!x)
                return -ENOENT;
        if (!pp->domxml)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "prepare carries no definition");
        struct domain_def *def = NULL;
        int r = x->domain_parse_string(pp->domxml, strlen(pp->domxml), "migrated definition", &def,
                                       err);
        if (r < 0)
                return r;
        _cleanup_cookie_ struct cookie *c1 = NULL;
        const char *c = pp->cookie ? pp->cookie : "";
        r = x->cookie_parse_string(c, strlen(c), def->name, def->uuid, COOKIE_FEATURES_LITEVIRT,
                                   &c1, err);
        if (r >= 0)
                r = cookie_check_host(c1, pp->local, def->name, err);
        if (r >= 0)
                r = supervisor_definition_check_stored(x, def, err);
        if (r >= 0) {
                struct json_object *o = json_object_new_object();
                _cleanup_free_ char *dj = domain_to_json(def);
                json_object_object_add(o, "domain", json_object_new_string(dj));
                json_object_object_add(o, "hostname", json_object_new_string(c1->hostname));
                json_object_object_add(o, "ram_pad", json_object_new_boolean(c1->ram_pad));
                *ret_json = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
                json_object_put(o);
        }
        domain_def_free(def);
        return r;
}

/* Finish's cookie, in a child: its lock state and the completed job
 * (domjobinfo --completed) from its statistics. */
struct finish_parse {
        const char *cookie;
        const struct lv_guest *g;
};

static int finish_parse_child(void *arg, char **ret_json, struct lv_error **err)
{
        const struct finish_parse *fp = arg;
        _cleanup_cookie_ struct cookie *c3 = NULL;
        int r = migration_parse_peer_cookie(fp->cookie, fp->g, &c3, err);
        if (r < 0)
                return r;
        struct json_object *o = json_object_new_object();
        if (c3->lock_driver)
                json_object_object_add(o, "lock_driver", json_object_new_string(c3->lock_driver));
        json_object_object_add(o, "lock_state",
                               json_object_new_string(c3->lock_state ? c3->lock_state : ""));
        if (c3->stats) { /* the source's figures; the time is the whole job's */
                unsigned long long now = clock_epoch_ms(), t0 = c3->stats->started;
                json_object_object_add(
                        o, "job",
                        migration_job_completed_json(true, c3->stats,
                                                     t0 > 0 && t0 < now ? now - t0
                                                                        : c3->stats->time_elapsed));
        }
        *ret_json = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return 0;
}

/* Offline (--offline --persistent): the definition is stored here (kept
 * when this guest is already defined), nothing starts; the answer says
 * so, and the supervisor then exits (migration_incoming_done). */
static int incoming_offline(struct supervisor *sv, struct migration_incoming *mi,
                            struct lv_error **err)
{
        if (!mi->persistent)
                return lv_error_setf(err, EINVAL, "offline migration requires --persistent");
        int r = supervisor_definition_store(sv->g.def, err);
        if (r < 0)
                return lv_error_prefix(err, "offline migration of guest '%s'", sv->g.name);
        _cleanup_cookie_ struct cookie *c2 = NULL;
        _cleanup_free_ char *c2xml = NULL;
        if ((r = migration_local_cookie(&sv->g, &mi->id, &c2, err)) < 0 ||
            (r = cookie_format(c2, &c2xml, err)) < 0)
                return r;
        struct json_object *m = migration_message("prepare", c2xml);
        json_object_object_add(m, "ok", json_object_new_boolean(true));
        r = mchan_send(&mi->ch, m, err);
        json_object_put(m);
        if (r < 0)
                return r;
        log_info("migration: guest '%s' defined here (offline migration)", sv->g.name);
        mi->done = true;
        return 0;
}

bool migration_incoming_done(const struct migration_incoming *mi)
{
        return mi && mi->done;
}

int migration_incoming_begin(struct supervisor *sv, int in_fd, int out_fd,
                             struct migration_incoming **ret, struct lv_error **err)
{
        int detach_fd = incoming_relay_fork(err);
        if (detach_fd < 0)
                return detach_fd;
        struct migration_incoming *mi = xcalloc(1, sizeof(*mi));
        mi->detach_fd = detach_fd;
        mi->ch = (struct mchan){.in = in_fd,
                                .out = out_fd,
                                .peer = "source",
                                .buf = {.max = MIGRATION_MESSAGE_MAX}};
        mi->sv = sv;
        mi->watchdog = WATCHDOG_NONE;
        mi->incoming.tunnel_fd = -1;
        *ret = mi; /* so that the caller can answer failures */

        struct json_object *o = NULL;
        int r = mchan_recv(&mi->ch, PHASE_TIMEOUT_MS, &o, err);
        if (r < 0)
                return r;
        if (!streq(migration_jstr(o, "phase"), "prepare")) {
                json_object_put(o);
                return lv_error_setf(err, LV_ERR_PROTOCOL, "expected the prepare phase");
        }
        mi->persistent = migration_jbool(o, "persistent");
        mi->postcopy = migration_jbool(o, "postcopy");
        bool offline = migration_jbool(o, "offline");
        bool tunnelled = migration_jbool(o, "tunnelled");
        bool tls = migration_jbool(o, "tls");
        struct prepare_parse pp = {.domxml = migration_jstr(o, "domain"),
                                   .cookie = migration_jstr(o, "cookie")};
        r = supervisor_host_identity(&mi->id, NULL, err);
        if (r >= 0 && domain_uuid_parse(mi->id.uuid, pp.local) < 0)
                r = lv_error_setf(err, EINVAL, "host UUID '%s' is malformed", mi->id.uuid);
        /* libxml2 never runs on the source's input in this process */
        struct json_object *parsed = NULL;
        if (r >= 0)
                r = supervisor_parse_child(prepare_parse_child, &pp, "the migrated definition",
                                           &parsed, err);
        struct domain_def *def = NULL;
        const char *dj = migration_jstr(parsed, "domain");
        if (r >= 0 && !dj)
                r = lv_error_setf(err, EIO, "the definition's parser gave no definition");
        if (r >= 0)
                r = domain_from_json(dj, strlen(dj), &def, err);
        if (r >= 0 && (r = domain_validate(def, err)) < 0)
                domain_def_free(TAKE_PTR(def));
        _cleanup_free_ char *peer = xstrdup_null(migration_jstr(parsed, "hostname"));
        bool ram_pad = migration_jbool(parsed, "ram_pad");
        json_object_put(parsed);
        if (r < 0) {
                json_object_put(o);
                return r;
        }
        sv->g.def = def;
        sv->g.name = def->name;
        log_set_ident(def->name);
        /* the disks to copy (JSON, no XML), made here if missing */
        if (!offline && (r = migration_storage_incoming_parse(o, def, &mi->storage, err)) >= 0 &&
            mi->storage && tunnelled)
                r = lv_error_setf(err, LV_ERR_UNSUPPORTED, "storage copy cannot be tunnelled");
        json_object_put(o);
        if (r >= 0 && mi->storage)
                r = migration_storage_incoming_create(driver_for_type(def->type, NULL), def,
                                                      mi->storage, err);
        /* --tls: this host's certificates, before its hypervisor starts */
        if (r >= 0 && tls && !offline)
                r = tunnelled ? lv_error_setf(err, LV_ERR_UNSUPPORTED, "--tls cannot be tunnelled")
                              : migration_tls_check(driver_for_type(def->type, NULL), true,
                                                    &mi->tls_dir, &mi->tls_verify, err);
        if (r < 0)
                return r;
        if (offline)
                return incoming_offline(sv, mi, err);

        mi->incoming = (struct lv_incoming){
                .transport = tunnelled ? LV_INCOMING_TUNNEL : LV_INCOMING_TCP,
                .started = on_incoming_started,
                .data = mi,
                .tunnel_fd = -1,
                .ram_pad = ram_pad, /* the source's RAM (absent: none) */
        };
        sv->g.incoming = &mi->incoming;
        r = supervisor_job_begin(sv, JOB_MIGRATION_IN, "prepare", mi, err);
        if (r < 0)
                return r;

        log_info("migration: incoming guest '%s' from host '%s'", def->name, peer ? peer : "?");
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
        int r = migration_local_cookie(g, &mi->id, &c2, err);
        if (r < 0)
                return r;
        struct cookie_graphics gr = {.port = -1, .tls_port = -1};
        if (ops->graphics_info && (r = ops->graphics_info(g, &gr, err)) < 0)
                return r;
        if (gr.port > 0) {
                /* As libvirt: only a wildcard listen address is replaced,
                 * by the address the migration reaches this host at; any
                 * other (loopback too: clients on this host only) is
                 * where the graphics listen, and travels as it is. */
                if (listen_is_wildcard(gr.listen)) {
                        free(gr.listen);
                        gr.listen = migration_host(uri, mi->id.hostname);
                }
                cookie_set_graphics(c2, gr.type, gr.port, gr.tls_port, gr.listen, gr.tls_subject);
        }
        free(gr.listen);
        free(gr.tls_subject);
        _cleanup_free_ char *c2xml = NULL;
        if ((r = cookie_format(c2, &c2xml, err)) < 0)
                return r;
        struct json_object *m = migration_message("prepare", c2xml);
        json_object_object_add(m, "ok", json_object_new_boolean(true));
        json_object_object_add(m, "uri", json_object_new_string(uri));
        if (mi->storage) {
                _cleanup_free_ char *host = migration_host(uri, mi->id.hostname);
                r = migration_storage_incoming_export(sv, mi->storage, m, host, err);
        }
        if (r >= 0)
                r = mchan_send(&mi->ch, m, err);
        json_object_put(m);
        if (r >= 0)
                mi->prepared = true;
        return r;
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
        long long deadline = timeout_ms < 0 ? LLONG_MAX / 4 : clock_now_ms() + timeout_ms;
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
                        return lv_error_setf(err, ECONNRESET, "%s during the incoming migration",
                                             sv->g.pid <= 0 ? "the guest's hypervisor ended"
                                                            : "the destination was asked to stop");
                }
        }
        loop_source_free(src);
        long long left = deadline - clock_now_ms();
        return mchan_recv(&mi->ch, left > INT_MAX ? INT_MAX : left > 0 ? (int)left : 0, ret, err);
}

/* The driver's hypervisor process runs and listens on the stream's port
 * (driver.h, struct lv_incoming): answer Prepare while it starts up. */
static int on_incoming_started(struct lv_guest *g, const char *uri, struct lv_error **err)
{
        struct migration_incoming *mi = g->incoming->data;
        if (!mi || mi->prepared)
                return 0;
        mi->ch.tunnel_fd = g->incoming->tunnel_fd;
        if (g->pid > 0 && mi->watchdog.fd < 0)
                migration_watchdog_start(&mi->watchdog, g);
        if (mi->storage || mi->postcopy || mi->tls_dir) { /* answered once QEMU's monitor answers */
                free(mi->stream_uri);
                mi->stream_uri = xstrdup(uri);
                return 0;
        }
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
        if (g->pid > 0 && mi->watchdog.fd < 0)
                migration_watchdog_start(&mi->watchdog, g);
        if (!mi->prepared) {
                _cleanup_free_ char *uri = xstrdup_null(mi->stream_uri);
                /* QEMU takes the stream's TLS parameters when it arrives */
                if (mi->tls_dir &&
                    (r = ops->tls_begin(g, mi->tls_dir, true, mi->tls_verify, NULL, err)) < 0)
                        return r;
                if (!uri && (r = ops->incoming_setup(g, mi->id.hostname, &uri, err)) < 0)
                        return r;
                if (mi->postcopy && !ops->options_set)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "the %s driver has no post-copy", sv->driver->name);
                if (mi->postcopy && (r = ops->options_set(g, true, false, err)) < 0)
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
        /* No deadline: the stream takes as long as it takes (the source
         * bounds nothing either, --timeout suspends the guest); the source
         * sends abort, or the channel closes when it dies. */
        r = incoming_recv(sv, mi, -1, &o, err);
        if (r < 0)
                return r;
        if (streq(migration_jstr(o, "phase"), "abort")) {
                json_object_put(o);
                return lv_error_setf(err, ECANCELED, "the source abandoned the migration");
        }
        if (!streq(migration_jstr(o, "phase"), "finish")) {
                json_object_put(o);
                return lv_error_setf(err, LV_ERR_PROTOCOL, "expected the finish phase");
        }
        log_info("migration: finish received");
        supervisor_job_set_phase(sv, "finish");
        struct finish_parse fp = {.cookie = migration_jstr(o, "cookie"), .g = g};
        struct json_object *c3 = NULL;
        r = supervisor_parse_child(finish_parse_child, &fp, "the migration cookie", &c3, err);
        bool paused = migration_jbool(o, "paused"); /* paused on the source, or --suspend */
        json_object_put(o);
        if (r < 0)
                return r;
        const char *lock_driver = migration_jstr(c3, "lock_driver");
        _cleanup_free_ char *lock_state = xstrdup(migration_jstr(c3, "lock_state") ?: "");
        struct json_object *job = NULL;
        if (json_object_object_get_ex(c3, "job", &job))
                mi->job = json_object_get(job);
        if (lock_driver && !streq(lock_driver, LOCK_DRIVER_NAME))
                r = lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                  "lock driver '%s' is not supported "
                                  "(litevirt uses '%s')",
                                  lock_driver, LOCK_DRIVER_NAME);
        json_object_put(c3);
        if (r < 0)
                return r;
        if ((r = ops->incoming_wait(g, 60, err)) < 0)
                return r;
        log_info("migration: stream loaded");
        if (mi->tls_dir)
                ops->tls_end(g);
        migration_storage_incoming_end(sv, mi->storage, false);
        /* Fault point (":fail"): the stream has arrived, the source's CPUs
         * are stopped and its leases released. */
        if (fault_point("incoming-after-stream") < 0)
                return lv_error_setf(err, EIO, "failure injected at finish (test)");
        /* the disks copied here are this host's own: leases of their own */
        _cleanup_strv_free_ char **local = NULL;
        for (int i = 0; mi->storage && i < mi->storage->n; i++)
                strv_push(&local, xstrdup(g->def->disks[mi->storage->disks[i].index].source));
        if ((r = supervisor_leases_take(sv, lock_state, local, err)) < 0)
                return r;
        log_info("migration: leases taken");
        /* From here the guest's process holds its leases: it must outlive
         * a supervisor crash (reattach), never be killed by the watchdog. */
        watchdog_stop(&mi->watchdog, true);
        if (!paused)
                r = sv->driver->resume(g, err);
        /* libvirt: "running (migrated)", or "paused (user)" */
        if (r >= 0)
                r = supervisor_transition(
                        sv, paused ? GUEST_EVENT_INCOMING_PAUSED : GUEST_EVENT_INCOMING_RUN, err);
        if (r < 0)
                return r;
        g->incoming = NULL;
        if (mi->storage)
                mi->storage->keep = true; /* the guest's disks now */
        supervisor_job_end(sv, JOB_MIGRATION_IN);
        if (mi->job) { /* domjobinfo --completed */
                json_object_put(sv->completed_job);
                sv->completed_job = TAKE_PTR(mi->job);
        }
        log_info("migration: guest '%s' %s here now", g->name, paused ? "is paused" : "runs");
        if (mi->persistent) /* at Finish, as libvirt */
                supervisor_definition_store_migrated(g->def);
        fault_point("migration-finish-after-resume");

        _cleanup_cookie_ struct cookie *c4 = NULL;
        _cleanup_free_ char *c4xml = NULL;
        if (migration_local_cookie(g, &mi->id, &c4, NULL) >= 0 &&
            cookie_format(c4, &c4xml, NULL) >= 0) {
                struct json_object *m = migration_message("finish", c4xml);
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
        /* the transport's process may end now */
        if (mi->detach_fd >= 0) {
                (void)!write(mi->detach_fd, "D", 1);
                close(mi->detach_fd);
                mi->detach_fd = -1;
        }
        if (mi->postcopy && ops->postcopy_wait) {
                /* The guest runs here; in post-copy, pages it has not got
                 * yet come from the source until the last one has. */
                _cleanup_error_ struct lv_error *pe = NULL;
                if (ops->postcopy_wait(g, MIGRATION_WAIT_MAX_S, NULL, &pe) < 0) {
                        log_error("migration: %s: the guest is paused (post-copy failed)",
                                  pe->message);
                        _cleanup_error_ struct lv_error *te = NULL;
                        if (supervisor_transition(sv, GUEST_EVENT_POSTCOPY_FAILED, &te) < 0)
                                log_warning("%s", te->message);
                }
        }
        return 0;
}
