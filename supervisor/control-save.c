/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control socket's Save method (io.litevirt.Guest.varlink; the work
 * is supervisor/save.c). */
#include <json-c/json.h>

#include "supervisor/control-methods.h"
#include "util/log.h"

int control_method_save(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"file", json_type_string},
                                                 {"managed", json_type_boolean},
                                                 {"running", json_type_boolean},
                                                 {"paused", json_type_boolean},
                                                 {NULL, 0}};
        struct supervisor *sv = control_client_supervisor(cl);
        int r = control_params_check(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *file = control_param(call, "file"), *v;
        bool managed = (v = control_param(call, "managed")) && json_object_get_boolean(v);
        bool running = (v = control_param(call, "running")) && json_object_get_boolean(v);
        bool paused = (v = control_param(call, "paused")) && json_object_get_boolean(v);
        if (!file == !managed)
                return control_invalid_parameter(cl, file ? "managed" : "file");
        if (running && paused)
                return control_invalid_parameter(cl, "paused");
        _cleanup_error_ struct lv_error *e = NULL;
        r = supervisor_guest_save(sv, file ? json_object_get_string(file) : NULL, managed,
                                  running  ? 1
                                  : paused ? 0
                                           : -1,
                                  &e);
        if (r < 0)
                return control_reply_lv_error(cl, e);
        /* The state is in the image: the guest ends ("shut off (saved)")
         * and the reply waits for its end, as Destroy's. */
        sv->saved = true;
        if (!cl->oneway)
                cl->mode = CLIENT_WAITING_END;
        if (supervisor_guest_destroy(sv, &e) < 0) {
                log_warning("ending the saved guest: %s", e->message);
                cl->mode = CLIENT_CALLS;
                return control_reply_lv_error(cl, e);
        }
        return 0;
}
