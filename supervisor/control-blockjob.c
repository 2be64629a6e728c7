/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control socket's BlockJobStart, BlockJobInfo, BlockJobEnd and
 * BlockJobSetSpeed methods (io.litevirt.Guest.varlink; the work is
 * supervisor/blockjob.c). */
#include <json-c/json.h>

#include "supervisor/control-methods.h"

static const char *str(const struct varlink_call *call, const char *key)
{
        struct json_object *v = control_param(call, key);
        return v ? json_object_get_string(v) : NULL;
}

static unsigned long long bandwidth(const struct varlink_call *call)
{
        struct json_object *v = control_param(call, "bandwidth");
        int64_t b = v ? json_object_get_int64(v) : 0;
        return b > 0 ? (unsigned long long)b : 0;
}

/* The parameters checked, disk among them: 1, else the reply's result. */
static int params_with_disk(struct control_client *cl, const struct varlink_call *call,
                            const struct param_spec *spec)
{
        int r = control_params_check(cl, call, spec);
        if (r <= 0)
                return r;
        return str(call, "disk") ? 1 : control_invalid_parameter(cl, "disk");
}

static int reply_done(struct control_client *cl, int r, struct lv_error *e)
{
        r = r < 0 ? control_reply_lv_error(cl, e) : control_reply(cl, NULL);
        lv_error_free(e);
        return r;
}

int control_m_block_job_start(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"disk", json_type_string},
                                                 {"kind", json_type_string},
                                                 {"base", json_type_string},
                                                 {"top", json_type_string},
                                                 {"active", json_type_boolean},
                                                 {"bandwidth", json_type_int},
                                                 {NULL, 0}};
        int r = params_with_disk(cl, call, spec);
        if (r <= 0)
                return r;
        if (!str(call, "kind"))
                return control_invalid_parameter(cl, "kind");
        struct json_object *v = control_param(call, "active");
        struct lv_error *e = NULL;
        r = supervisor_block_job_start(control_client_supervisor(cl), str(call, "disk"),
                                       str(call, "kind"), str(call, "base"), str(call, "top"),
                                       v && json_object_get_boolean(v), bandwidth(call), &e);
        return reply_done(cl, r, e);
}

int control_m_block_job_info(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"disk", json_type_string}, {NULL, 0}};
        int r = params_with_disk(cl, call, spec);
        if (r <= 0)
                return r;
        _cleanup_error_ struct lv_error *e = NULL;
        struct json_object *o = NULL;
        if (supervisor_block_job_info(control_client_supervisor(cl), str(call, "disk"), &o, &e) < 0)
                return control_reply_lv_error(cl, e);
        r = control_reply(cl, o);
        json_object_put(o);
        return r;
}

int control_m_block_job_end(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {
                {"disk", json_type_string}, {"pivot", json_type_boolean}, {NULL, 0}};
        int r = params_with_disk(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *v = control_param(call, "pivot");
        struct lv_error *e = NULL;
        r = supervisor_block_job_end(control_client_supervisor(cl), str(call, "disk"),
                                     v && json_object_get_boolean(v), &e);
        return reply_done(cl, r, e);
}

int control_m_block_job_set_speed(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {
                {"disk", json_type_string}, {"bandwidth", json_type_int}, {NULL, 0}};
        int r = params_with_disk(cl, call, spec);
        if (r <= 0)
                return r;
        struct lv_error *e = NULL;
        r = supervisor_block_job_set_speed(control_client_supervisor(cl), str(call, "disk"),
                                           bandwidth(call), &e);
        return reply_done(cl, r, e);
}
