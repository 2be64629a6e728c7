/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vCPU methods: GetVcpus (lvsh vcpuinfo) and SetVcpus (lvsh setvcpus
 * --live). The driver plugs and unplugs (driver.h vcpus_set); the core
 * keeps the running definition's <vcpu current=> at what the guest has. */
#include "supervisor/control-methods.h"
#include "util/log.h"

static int vcpu_check(struct supervisor *sv, bool has_op, const char *what, struct lv_error **err)
{
        if (sv->g.pid <= 0 ||
            (sv->g.state != GUEST_STATE_RUNNING && sv->g.state != GUEST_STATE_PAUSED))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain is not running");
        if (!has_op)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "this function is not supported by the %s driver: %s",
                                     sv->driver->name, what);
        return 0;
}

int supervisor_guest_vcpus_set(struct supervisor *sv, unsigned n, struct lv_error **err)
{
        struct domain_def *def = sv->g.def;
        int r = vcpu_check(sv, sv->driver->vcpus_set && sv->driver->vcpus_info, "virDomainSetVcpus",
                           err);
        if (r < 0)
                return r;
        if (n < 1 || n > def->vcpus)
                return lv_error_setf(err, EINVAL,
                                     "guest '%s': requested vcpus %u is not between 1 and the "
                                     "maximum %u",
                                     sv->g.name, n, def->vcpus);
        r = sv->driver->vcpus_set(&sv->g, n, err);
        /* what the guest has now, also after a partial change */
        struct json_object *now = json_object_new_array();
        _cleanup_error_ struct lv_error *e = NULL;
        if (sv->driver->vcpus_info(&sv->g, now, &e) == 0) {
                unsigned have = (unsigned)json_object_array_length(now);
                unsigned cur = def->vcpus_current ? def->vcpus_current : def->vcpus;
                if (have != cur) {
                        log_info("vCPUs: %u -> %u", cur, have);
                        def->vcpus_current = have == def->vcpus ? 0 : have;
                        supervisor_definition_changed(sv);
                }
        } else {
                log_warning("vCPUs after setvcpus: %s", e->message);
        }
        json_object_put(now);
        return r < 0 ? lv_error_prefix(err, "guest '%s'", sv->g.name) : 0;
}

int control_m_get_vcpus(struct control_client *cl, const struct varlink_call *call)
{
        int r = control_params_check(cl, call, NULL);
        if (r <= 0)
                return r;
        struct supervisor *sv = control_client_supervisor(cl);
        _cleanup_error_ struct lv_error *e = NULL;
        if ((r = vcpu_check(sv, sv->driver->vcpus_info, "virDomainGetVcpus", &e)) < 0)
                return control_reply_result(cl, r, e);
        struct json_object *list = json_object_new_array();
        if ((r = sv->driver->vcpus_info(&sv->g, list, &e)) < 0) {
                json_object_put(list);
                lv_error_prefix(&e, "guest '%s'", sv->g.name);
                return control_reply_result(cl, r, e);
        }
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "vcpus", list);
        r = control_reply(cl, o);
        json_object_put(o);
        return r;
}

int control_m_set_vcpus(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"count", json_type_int}, {0}};
        int r = control_params_check(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *c = control_param(call, "count");
        if (!c)
                return control_invalid_parameter(cl, "count");
        long long n = json_object_get_int64(c);
        _cleanup_error_ struct lv_error *e = NULL;
        if (n < 1 || n > 4096)
                r = lv_error_setf(&e, EINVAL, "SetVcpus: count %lld is not 1..4096", n);
        else
                r = supervisor_guest_vcpus_set(control_client_supervisor(cl), (unsigned)n, &e);
        return control_reply_result(cl, r, e);
}
