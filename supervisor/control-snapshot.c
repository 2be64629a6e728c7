/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control socket's SnapshotCreate method (io.litevirt.Guest.varlink;
 * the work is supervisor/snapshot.c). */
#include <json-c/json.h>

#include "supervisor/control-methods.h"

int control_method_snapshot_create(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"snapshot", json_type_string},
                                                 {"description", json_type_string},
                                                 {"diskOnly", json_type_boolean},
                                                 {"quiesce", json_type_boolean},
                                                 {NULL, 0}};
        int r = control_params_check(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *snap = control_param(call, "snapshot"), *v;
        if (!snap)
                return control_invalid_parameter(cl, "snapshot");
        const char *desc =
                (v = control_param(call, "description")) ? json_object_get_string(v) : NULL;
        bool disk_only = (v = control_param(call, "diskOnly")) && json_object_get_boolean(v);
        bool quiesce = (v = control_param(call, "quiesce")) && json_object_get_boolean(v);
        _cleanup_error_ struct lv_error *e = NULL;
        if (supervisor_snapshot_create(control_client_supervisor(cl), json_object_get_string(snap),
                                       desc, disk_only, quiesce, &e) < 0)
                return control_reply_lv_error(cl, e);
        return control_reply(cl, NULL);
}
