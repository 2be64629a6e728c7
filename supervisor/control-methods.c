/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The methods of io.litevirt.Guest and org.varlink.service (documented in
 * io.litevirt.Guest.varlink and docs/protocol.md). */
#include <json-c/json.h>
#include <time.h>

#include "config.h"
#include "supervisor/control-methods.h"
#include "supervisor/migration.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "lib/methods.h"

static const char service_description[] =
        "interface org.varlink.service\n"
        "\n"
        "method GetInfo() -> (\n"
        "  vendor: string,\n"
        "  product: string,\n"
        "  version: string,\n"
        "  url: string,\n"
        "  interfaces: []string\n"
        ")\n"
        "\n"
        "method GetInterfaceDescription(interface: string) -> (description: string)\n"
        "\n"
        "error InterfaceNotFound (interface: string)\n"
        "error MethodNotFound (method: string)\n"
        "error MethodNotImplemented (method: string)\n"
        "error InvalidParameter (parameter: string)\n"
        "error PermissionDenied ()\n"
        "error ExpectedMore ()\n";

/* Error from an lv_error: the varlink error name follows the code. */
static int reply_lv_error(struct control_client *cl, const struct lv_error *e)
{
        const char *name = LV_ERROR_FAILED;
        if (e->code == LV_ERR_STATE)
                name = LV_ERROR_INVALID_STATE;
        else if (e->code == LV_ERR_UNSUPPORTED || e->code == EOPNOTSUPP)
                name = LV_ERROR_NOT_SUPPORTED;
        else if (e->code == EBUSY)
                name = LV_ERROR_CONSOLE_BUSY;
        else if (e->code == ENODEV)
                name = LV_ERROR_NO_CONSOLE;
        return control_error_message(cl, name, e->message);
}

static int invalid_parameter(struct control_client *cl, const char *param)
{
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "parameter", json_object_new_string(param));
        int r = control_error(cl, "org.varlink.service.InvalidParameter", p);
        json_object_put(p);
        return r;
}

/* Every parameter known and of its type; otherwise InvalidParameter.
 * Returns 1 when the call may go on. */
static int params_check(struct control_client *cl, const struct varlink_call *call,
                        const struct param_spec *spec)
{
        json_object_object_foreach(call->parameters, key, val)
        {
                const struct param_spec *s = spec;
                while (s && s->name && !streq(s->name, key))
                        s++;
                if (!s || !s->name ||
                    (!json_object_is_type(val, s->type) &&
                     !json_object_is_type(val, json_type_null))) {
                        int r = invalid_parameter(cl, key);
                        return r < 0 ? r : 0;
                }
        }
        return 1;
}

static struct json_object *param(const struct varlink_call *call, const char *name)
{
        struct json_object *v;
        if (!json_object_object_get_ex(call->parameters, name, &v) ||
            json_object_is_type(v, json_type_null))
                return NULL;
        return v;
}

static void add_stats_fields(struct supervisor *sv, struct json_object *o)
{
        struct json_object *stats = json_object_new_object();
        _cleanup_error_ struct lv_error *e = NULL;
        if (supervisor_guest_stats(sv, stats, &e) < 0)
                log_debug("%s", e->message);
        struct json_object *v;
        if (json_object_object_get_ex(stats, "cpu.time", &v))
                json_object_object_add(o, "cpu_time_ns",
                                       json_object_new_int64(json_object_get_int64(v)));
        if (json_object_object_get_ex(stats, "balloon.current", &v))
                json_object_object_add(o, "memory_used_kib",
                                       json_object_new_int64(json_object_get_int64(v)));
        else if (json_object_object_get_ex(stats, "memory.current", &v))
                json_object_object_add(o, "memory_used_kib",
                                       json_object_new_int64(json_object_get_int64(v)));
        json_object_put(stats);
}

static int m_info(struct control_client *cl, const struct varlink_call *call)
{
        struct supervisor *sv = control_client_supervisor(cl);
        int r = params_check(cl, call, NULL);
        if (r <= 0)
                return r;
        struct json_object *o = status_to_json(sv);
        add_stats_fields(sv, o);
        r = control_reply(cl, o);
        json_object_put(o);
        return r;
}

static struct json_object *state_json(struct supervisor *sv)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "state", json_object_new_string(guest_state_to_id(sv->g.state)));
        json_object_object_add(o, "state_text",
                               json_object_new_string(guest_state_to_string(sv->g.state)));
        json_object_object_add(
                o, "reason",
                json_object_new_string(guest_reason_to_string(sv->g.state, sv->g.state_reason)));
        json_object_object_add(o, "state_code",
                               json_object_new_int(guest_state_to_libvirt(sv->g.state)));
        json_object_object_add(o, "reason_code", json_object_new_int(sv->g.state_reason));
        return o;
}

struct json_object *control_event_json(struct supervisor *sv, const char *event)
{
        struct json_object *o = state_json(sv);
        json_object_object_add(o, "event", json_object_new_string(event));
        json_object_object_add(o, "time", json_object_new_int64((int64_t)time(NULL)));
        return o;
}

static int m_state(struct control_client *cl, const struct varlink_call *call)
{
        int r = params_check(cl, call, NULL);
        if (r <= 0)
                return r;
        struct json_object *o = state_json(control_client_supervisor(cl));
        r = control_reply(cl, o);
        json_object_put(o);
        return r;
}

static int reply_result(struct control_client *cl, int r, struct lv_error *e)
{
        if (r < 0)
                return reply_lv_error(cl, e);
        return control_reply(cl, NULL);
}

static int m_shutdown(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"timeout", json_type_int}, {NULL, 0}};
        int r = params_check(cl, call, spec);
        if (r <= 0)
                return r;
        uint64_t timeout = 0;
        struct json_object *t = param(call, "timeout");
        if (t) {
                int64_t v = json_object_get_int64(t);
                if (v <= 0 || v > 24 * 3600)
                        return invalid_parameter(cl, "timeout");
                timeout = (uint64_t)v * 1000000ULL;
        }
        _cleanup_error_ struct lv_error *e = NULL;
        r = supervisor_guest_shutdown(control_client_supervisor(cl), timeout, &e);
        return reply_result(cl, r, e);
}

static int m_destroy(struct control_client *cl, const struct varlink_call *call)
{
        struct supervisor *sv = control_client_supervisor(cl);
        int r = params_check(cl, call, NULL);
        if (r <= 0)
                return r;
        _cleanup_error_ struct lv_error *e = NULL;
        /* The reply waits for the guest's end (unless oneway). */
        if (!cl->oneway)
                cl->mode = CLIENT_WAITING_END;
        r = supervisor_guest_destroy(sv, &e);
        if (r < 0) {
                cl->mode = CLIENT_CALLS;
                return reply_lv_error(cl, e);
        }
        /* calls waiting for the guest (an agent, a device release) end now */
        _cleanup_free_ char *why = xasprintf("domain '%s' is being destroyed", sv->g.name);
        control_deferred_abort_all(cl->ctl, why);
        return 0;
}

static int m_simple(struct control_client *cl, const struct varlink_call *call,
                    int (*op)(struct supervisor *, struct lv_error **))
{
        int r = params_check(cl, call, NULL);
        if (r <= 0)
                return r;
        _cleanup_error_ struct lv_error *e = NULL;
        r = op(control_client_supervisor(cl), &e);
        return reply_result(cl, r, e);
}

static int m_reboot(struct control_client *cl, const struct varlink_call *call)
{
        return m_simple(cl, call, supervisor_guest_reboot);
}

static int m_suspend(struct control_client *cl, const struct varlink_call *call)
{
        return m_simple(cl, call, supervisor_guest_suspend);
}

static int m_resume(struct control_client *cl, const struct varlink_call *call)
{
        return m_simple(cl, call, supervisor_guest_resume);
}

static int m_set_memory(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"memory_kib", json_type_int}, {0}};
        int r = params_check(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *v = param(call, "memory_kib");
        if (!v || json_object_get_int64(v) <= 0)
                return invalid_parameter(cl, "memory_kib");
        _cleanup_error_ struct lv_error *e = NULL;
        r = supervisor_guest_setmem(control_client_supervisor(cl),
                                    (unsigned long long)json_object_get_int64(v), &e);
        return reply_result(cl, r, e);
}

static int m_stats(struct control_client *cl, const struct varlink_call *call)
{
        struct supervisor *sv = control_client_supervisor(cl);
        int r = params_check(cl, call, NULL);
        if (r <= 0)
                return r;
        struct json_object *stats = json_object_new_object();
        json_object_object_add(stats, "state.state",
                               json_object_new_int(guest_state_to_libvirt(sv->g.state)));
        json_object_object_add(stats, "state.reason", json_object_new_int(sv->g.state_reason));
        _cleanup_error_ struct lv_error *e = NULL;
        if (supervisor_guest_stats(sv, stats, &e) < 0) {
                json_object_put(stats);
                return reply_lv_error(cl, e);
        }
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "stats", stats);
        r = control_reply(cl, o);
        json_object_put(o);
        return r;
}

/* Live migration (migration.c): the whole job runs inside the call. On
 * success the guest runs on the destination and the local copy ends. */
static int m_migrate(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"transport", json_type_string},
                                                 {"persistent", json_type_boolean},
                                                 {"undefinesource", json_type_boolean},
                                                 {"timeout", json_type_int},
                                                 {"live", json_type_boolean},
                                                 {"bandwidth", json_type_int},
                                                 {"tunnelled", json_type_boolean},
                                                 {"suspend", json_type_boolean},
                                                 {"graphicsuri", json_type_string},
                                                 {"copy_storage", json_type_string},
                                                 {"postcopy", json_type_boolean},
                                                 {"auto_converge", json_type_boolean},
                                                 {"tls", json_type_boolean},
                                                 {NULL, 0}};
        struct supervisor *sv = control_client_supervisor(cl);
        int r = params_check(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *t = param(call, "transport"), *v;
        if (!t || !*json_object_get_string(t))
                return invalid_parameter(cl, "transport");
        struct migration_params p = {.transport = json_object_get_string(t)};
        p.persistent = (v = param(call, "persistent")) && json_object_get_boolean(v);
        p.undefine_source = (v = param(call, "undefinesource")) && json_object_get_boolean(v);
        p.tunnelled = (v = param(call, "tunnelled")) && json_object_get_boolean(v);
        p.suspend = (v = param(call, "suspend")) && json_object_get_boolean(v);
        p.postcopy = (v = param(call, "postcopy")) && json_object_get_boolean(v);
        p.auto_converge = (v = param(call, "auto_converge")) && json_object_get_boolean(v);
        p.tls = (v = param(call, "tls")) && json_object_get_boolean(v);
        if ((v = param(call, "graphicsuri")))
                p.graphics_uri = json_object_get_string(v);
        if ((v = param(call, "copy_storage"))) {
                const char *cs = json_object_get_string(v);
                if (!streq(cs, "all") && !streq(cs, "inc"))
                        return invalid_parameter(cl, "copy_storage");
                p.storage = streq(cs, "all") ? MIGRATION_STORAGE_ALL : MIGRATION_STORAGE_INC;
        }
        if ((v = param(call, "timeout"))) {
                int64_t s = json_object_get_int64(v);
                if (s <= 0 || s > 24 * 3600)
                        return invalid_parameter(cl, "timeout");
                p.timeout_s = (int)s;
        }
        if ((v = param(call, "bandwidth"))) {
                int64_t b = json_object_get_int64(v);
                if (b <= 0 || b > 1000000)
                        return invalid_parameter(cl, "bandwidth");
                p.bandwidth_mib = (unsigned long)b;
        }
        _cleanup_error_ struct lv_error *e = NULL;
        _cleanup_free_ char *summary = NULL;
        r = migration_source_run(sv, &p, &summary, &e);
        if (r < 0)
                return reply_lv_error(cl, e);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "summary", json_object_new_string(summary));
        r = control_reply(cl, o);
        json_object_put(o);
        _cleanup_error_ struct lv_error *de = NULL;
        sv->migrated = true; /* "shut off (migrated)", as virsh shows */
        if (supervisor_guest_destroy(sv, &de) < 0)
                log_warning("ending the migrated guest's local copy: %s", de->message);
        return r;
}

static int m_job_info(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"completed", json_type_boolean}, {NULL, 0}};
        struct supervisor *sv = control_client_supervisor(cl);
        int r = params_check(cl, call, spec);
        if (r <= 0)
                return r;
        _cleanup_error_ struct lv_error *e = NULL;
        struct json_object *job = NULL, *v = param(call, "completed");
        if (v && json_object_get_boolean(v))
                job = sv->completed_job ? json_object_get(sv->completed_job)
                                        : json_object_new_object();
        else if (!(job = supervisor_block_job_as_job(sv)) && migration_job_info(sv, &job, &e) < 0)
                return reply_lv_error(cl, e);
        if (!json_object_object_get_ex(job, "type", NULL))
                json_object_object_add(job, "type", json_object_new_string("none"));
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "job", job);
        r = control_reply(cl, o);
        json_object_put(o);
        return r;
}

/* A call without parameters or result that acts on the running job. */
static int job_call(struct control_client *cl, const struct varlink_call *call,
                    int (*fn)(struct supervisor *sv, struct lv_error **err))
{
        struct supervisor *sv = control_client_supervisor(cl);
        int r = params_check(cl, call, NULL);
        if (r <= 0)
                return r;
        _cleanup_error_ struct lv_error *e = NULL;
        if (fn(sv, &e) < 0)
                return reply_lv_error(cl, e);
        struct json_object *o = json_object_new_object();
        r = control_reply(cl, o);
        json_object_put(o);
        return r;
}

static int m_job_abort(struct control_client *cl, const struct varlink_call *call)
{
        return job_call(cl, call, migration_job_abort);
}

static int m_migrate_postcopy(struct control_client *cl, const struct varlink_call *call)
{
        return job_call(cl, call, migration_job_postcopy);
}

static int m_get_xml(struct control_client *cl, const struct varlink_call *call)
{
        struct supervisor *sv = control_client_supervisor(cl);
        int r = params_check(cl, call, NULL);
        if (r <= 0)
                return r;
        /* Passwords only for those who may change the guest anyway. */
        _cleanup_free_ char *xml = domain_format_flags(
                sv->g.def,
                DOMAIN_FORMAT_LIVE |
                        (cl->role == CLIENT_ROLE_READONLY ? DOMAIN_FORMAT_HIDE_SECRETS : 0));
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "xml", json_object_new_string(xml ? xml : ""));
        r = control_reply(cl, o);
        json_object_put(o);
        return r;
}

/* A console client as console.c sees it. */
static int console_peer_send(void *peer, const char *data, size_t n)
{
        return control_client_send_raw(peer, data, n);
}

static void console_peer_drop(void *peer, const char *why)
{
        control_client_drop(peer, why);
}

static const struct console_peer_ops console_peer = {
        .send_raw = console_peer_send,
        .drop = console_peer_drop,
};

static int m_console(struct control_client *cl, const struct varlink_call *call)
{
        struct supervisor *sv = control_client_supervisor(cl);
        static const struct param_spec spec[] = {{"force", json_type_boolean}, {NULL, 0}};
        int r = params_check(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *f = param(call, "force");
        _cleanup_error_ struct lv_error *e = NULL;
        if (cl->oneway)
                return 0;
        if (console_attach(sv, cl, &console_peer, f && json_object_get_boolean(f), &e) < 0)
                return reply_lv_error(cl, e);
        struct json_object *o = json_object_new_object();
        if (sv->g.console_path)
                json_object_object_add(o, "pty", json_object_new_string(sv->g.console_path));
        /* "continues" (the stream goes on, raw) unless the client asked
         * for a varlink upgrade, which is answered by a plain reply. */
        r = control_reply_continues(cl, o, !call->upgrade);
        json_object_put(o);
        if (r < 0)
                return r;
        cl->mode = CLIENT_CONSOLE;
        log_info("console attached (client pid %d)", (int)cl->pid);
        console_replay(sv);
        return 0;
}

static int m_events(struct control_client *cl, const struct varlink_call *call)
{
        struct supervisor *sv = control_client_supervisor(cl);
        int r = params_check(cl, call, NULL);
        if (r <= 0)
                return r;
        if (!call->more)
                return control_error(cl, "org.varlink.service.ExpectedMore", NULL);
        if (!control_client_may_stream(cl))
                return control_error_message(cl, LV_ERROR_FAILED,
                                             "too many event streams for this uid");
        struct json_object *o = control_event_json(sv, "current");
        r = control_reply_continues(cl, o, true);
        json_object_put(o);
        if (r < 0)
                return r;
        cl->mode = CLIENT_EVENTS;
        log_info("events: client pid %d subscribed", (int)cl->pid);
        return 0;
}

static int m_get_info(struct control_client *cl, const struct varlink_call *call)
{
        int r = params_check(cl, call, NULL);
        if (r <= 0)
                return r;
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "vendor", json_object_new_string("litevirt"));
        json_object_object_add(o, "product", json_object_new_string("litevirt-supervisor"));
        json_object_object_add(o, "version", json_object_new_string(LV_VERSION));
        json_object_object_add(o, "url", json_object_new_string("https://litevirt.org/"));
        struct json_object *ifs = json_object_new_array();
        json_object_array_add(ifs, json_object_new_string("org.varlink.service"));
        json_object_array_add(ifs, json_object_new_string(LV_IFACE));
        json_object_array_add(ifs, json_object_new_string(LV_IFACE_SPEC));
        json_object_object_add(o, "interfaces", ifs);
        r = control_reply(cl, o);
        json_object_put(o);
        return r;
}

static int m_get_interface_description(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"interface", json_type_string}, {NULL, 0}};
        int r = params_check(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *i = param(call, "interface");
        if (!i)
                return invalid_parameter(cl, "interface");
        const char *name = json_object_get_string(i);
        const char *text = streq(name, LV_IFACE)                ? control_interface_description
                           : streq(name, "org.varlink.service") ? service_description
                                                                : NULL;
        _cleanup_free_ char *spec_text = NULL;
        if (streq(name, LV_IFACE_SPEC)) {
                /* the same text under the lower-case name */
                const char *line =
                        strstr(control_interface_description, "\ninterface " LV_IFACE "\n");
                if (line) {
                        int head = (int)(line - control_interface_description);
                        text = spec_text = xasprintf("%.*s\ninterface " LV_IFACE_SPEC "\n%s", head,
                                                     control_interface_description,
                                                     line + strlen("\ninterface " LV_IFACE "\n"));
                }
        }
        if (!text) {
                struct json_object *p = json_object_new_object();
                json_object_object_add(p, "interface", json_object_new_string(name));
                r = control_error(cl, "org.varlink.service.InterfaceNotFound", p);
                json_object_put(p);
                return r;
        }
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "description", json_object_new_string(text));
        r = control_reply(cl, o);
        json_object_put(o);
        return r;
}

/* Calls answered while a job runs (job.h): the ones that neither disturb
 * it nor wait on the hypervisor's monitor, which a migration keeps busy.
 * A shutdown with its timeout leaves every call answered. */
#define DURING_ANY_JOB  JOB_MASK_ANY
#define DURING_SHUTDOWN JOB_MASK(JOB_SHUTDOWN)
/* the migration parameters, also for the running stream (virsh) */
#define DURING_MIGRATION (JOB_MASK(JOB_SHUTDOWN) | JOB_MASK(JOB_MIGRATION_OUT))

/* readonly: answered on a read-only connection too (it changes nothing
 * and shows no secret). */
static const struct method {
        const char *name;
        int (*fn)(struct control_client *cl, const struct varlink_call *call);
        unsigned during_job; /* JOB_MASK()s of the jobs it is answered during */
        bool readonly;
} methods[] = {
        {LV_METHOD_JOB_INFO, m_job_info, DURING_ANY_JOB, true},
        {LV_METHOD_JOB_ABORT, m_job_abort, DURING_ANY_JOB, false},
        {LV_METHOD_STATE, m_state, DURING_ANY_JOB, true},
        {LV_METHOD_INFO, m_info, DURING_SHUTDOWN, true},
        {LV_METHOD_SHUTDOWN, m_shutdown, DURING_SHUTDOWN, false},
        {LV_METHOD_DESTROY, m_destroy, DURING_SHUTDOWN, false},
        {LV_METHOD_REBOOT, m_reboot, DURING_SHUTDOWN, false},
        {LV_METHOD_SUSPEND, m_suspend, DURING_SHUTDOWN, false},
        {LV_METHOD_RESUME, m_resume, DURING_SHUTDOWN, false},
        {LV_METHOD_SET_MEMORY, m_set_memory, DURING_SHUTDOWN, false},
        {LV_METHOD_STATS, m_stats, DURING_SHUTDOWN, true},
        {LV_METHOD_GET_XML, m_get_xml, DURING_SHUTDOWN, true},
        {LV_METHOD_MIGRATE, m_migrate, DURING_SHUTDOWN, false},
        {LV_METHOD_CONSOLE, m_console, DURING_SHUTDOWN, false},
        {LV_METHOD_EVENTS, m_events, DURING_SHUTDOWN, true},
        {LV_METHOD_MIGRATE_POSTCOPY, m_migrate_postcopy, DURING_ANY_JOB, false},
        {"org.varlink.service.GetInfo", m_get_info, DURING_ANY_JOB, true},
        {"org.varlink.service.GetInterfaceDescription", m_get_interface_description, DURING_ANY_JOB,
         true},
        {LV_METHOD_SAVE, control_method_save, DURING_SHUTDOWN, false},
        {LV_METHOD_MIGRATE_SET_SPEED, control_migrate_set_speed, DURING_MIGRATION, false},
        {LV_METHOD_MIGRATE_GET_SPEED, control_migrate_get_speed, DURING_MIGRATION, true},
        {LV_METHOD_MIGRATE_SET_MAX_DOWNTIME, control_migrate_set_max_downtime, DURING_MIGRATION,
         false},
        {LV_METHOD_MIGRATE_GET_MAX_DOWNTIME, control_migrate_get_max_downtime, DURING_MIGRATION,
         true},
        {LV_METHOD_AGENT, control_agent_command, DURING_SHUTDOWN, false},
        {LV_METHOD_ATTACH_DEVICE, control_m_attach_device, DURING_SHUTDOWN, false},
        {LV_METHOD_DETACH_DEVICE, control_m_detach_device, DURING_SHUTDOWN, false},
        {LV_METHOD_SCREENSHOT, control_m_screenshot, DURING_SHUTDOWN, false},
        {LV_METHOD_SEND_KEY, control_m_send_key, DURING_SHUTDOWN, false},
        {LV_METHOD_SNAPSHOT, control_method_snapshot_create, DURING_SHUTDOWN, false},
        {LV_METHOD_GET_VCPUS, control_m_get_vcpus, DURING_SHUTDOWN, true},
        {LV_METHOD_SET_VCPUS, control_m_set_vcpus, DURING_SHUTDOWN, false},
        {LV_METHOD_BLOCK_JOB_START, control_m_block_job_start, DURING_SHUTDOWN, false},
        {LV_METHOD_BLOCK_JOB_INFO, control_m_block_job_info, DURING_SHUTDOWN, true},
        {LV_METHOD_BLOCK_JOB_END, control_m_block_job_end, DURING_SHUTDOWN, false},
        {LV_METHOD_BLOCK_JOB_SET_SPEED, control_m_block_job_set_speed, DURING_SHUTDOWN, false},
};

/* "guest 'x' is migrating: only JobInfo, JobAbort and State are answered
 * meanwhile" (the guest's own calls that the job's kind allows). */
static int refuse_during_job(struct control_client *cl)
{
        struct supervisor *sv = control_client_supervisor(cl);
        const char *names[ARRAY_SIZE(methods)];
        size_t n = 0;
        for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
                if ((methods[i].during_job & JOB_MASK(sv->job.kind)) &&
                    startswith(methods[i].name, LV_IFACE "."))
                        names[n++] = methods[i].name + strlen(LV_IFACE ".");
        struct strbuf sb = {0};
        for (size_t i = 0; i < n; i++)
                strbuf_printf(&sb, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", names[i]);
        _cleanup_free_ char *list = strbuf_steal(&sb);
        _cleanup_error_ struct lv_error *e = NULL;
        lv_error_setf(&e, LV_ERR_STATE, "guest '%s' is %s: only %s %s answered meanwhile",
                      sv->g.name, job_kind_doing(sv->job.kind), list ? list : "",
                      n == 1 ? "is" : "are");
        return reply_lv_error(cl, e);
}

int control_dispatch(struct control_client *cl, const struct varlink_call *call)
{
        struct supervisor *sv = control_client_supervisor(cl);
        /* io.litevirt.guest.X is io.litevirt.Guest.X (LV_IFACE_SPEC) */
        _cleanup_free_ char *canonical = NULL;
        const char *method = call->method;
        cl->spec_name = startswith(method, LV_IFACE_SPEC ".");
        if (cl->spec_name)
                method = canonical = xasprintf(LV_IFACE ".%s", method + strlen(LV_IFACE_SPEC "."));
        for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
                if (!streq(methods[i].name, method))
                        continue;
                if (cl->role == CLIENT_ROLE_READONLY && !methods[i].readonly) {
                        _cleanup_free_ char *m = xasprintf(
                                "permission denied: '%s' is not allowed on a read-only connection",
                                call->method);
                        return control_error_message(cl, LV_ERROR_PERMISSION_DENIED, m);
                }
                if (sv->job.kind != JOB_NONE && !(methods[i].during_job & JOB_MASK(sv->job.kind)))
                        return refuse_during_job(cl);
                return methods[i].fn(cl, call);
        }
        const char *dot = strrchr(method, '.');
        size_t iface_len = (size_t)(dot - method);
        struct json_object *p = json_object_new_object();
        int r;
        if ((iface_len == strlen(LV_IFACE) && !strncmp(method, LV_IFACE, iface_len)) ||
            (iface_len == strlen("org.varlink.service") &&
             !strncmp(method, "org.varlink.service", iface_len))) {
                json_object_object_add(p, "method", json_object_new_string(call->method));
                r = control_error(cl, "org.varlink.service.MethodNotFound", p);
        } else {
                json_object_object_add(p, "interface",
                                       json_object_new_string_len(call->method, (int)iface_len));
                r = control_error(cl, "org.varlink.service.InterfaceNotFound", p);
        }
        json_object_put(p);
        return r;
}

int control_params_check(struct control_client *cl, const struct varlink_call *call,
                         const struct param_spec *spec)
{
        return params_check(cl, call, spec);
}

struct json_object *control_param(const struct varlink_call *call, const char *name)
{
        return param(call, name);
}

int control_invalid_parameter(struct control_client *cl, const char *param)
{
        return invalid_parameter(cl, param);
}

int control_reply_lv_error(struct control_client *cl, const struct lv_error *e)
{
        return reply_lv_error(cl, e);
}

int control_reply_result(struct control_client *cl, int r, struct lv_error *e)
{
        return reply_result(cl, r, e);
}
