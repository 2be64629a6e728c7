/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hypervisor's migration parameters (virsh migrate-setspeed,
 * migrate-getspeed, migrate-setmaxdowntime, migrate-getmaxdowntime):
 * set for the next migrations and, during one, for the running stream
 * (answered while a migration job runs, as virsh allows). */
#include <json-c/json.h>

#include "supervisor/control-methods.h"
#include "supervisor/migration.h"
#include "lib/methods.h"
#include "util/log.h"

#define MIB (1024ULL * 1024ULL)

/* The one parameter of a Set call, a positive integer up to max. */
static int param_u64(struct control_client *cl, const struct varlink_call *call, const char *name,
                     unsigned long long max, unsigned long long *ret)
{
        struct json_object *v = NULL;
        json_object_object_foreach(call->parameters, key, val)
        {
                if (!streq(key, name))
                        return control_invalid_parameter(cl, key) < 0 ? -1 : 0;
                v = val;
        }
        if (!v || !json_object_is_type(v, json_type_int) || json_object_get_int64(v) <= 0 ||
            (unsigned long long)json_object_get_int64(v) > max)
                return control_invalid_parameter(cl, name) < 0 ? -1 : 0;
        *ret = (unsigned long long)json_object_get_int64(v);
        return 1;
}

static const struct lv_migration_ops *params_ops(struct control_client *cl, struct lv_guest *g)
{
        struct supervisor *sv = control_client_supervisor(cl);
        const struct lv_migration_ops *ops = sv->driver->migration;
        if (!ops || !ops->param_set || !ops->param_get) {
                _cleanup_free_ char *m =
                        xasprintf("the %s driver has no migration parameters", sv->driver->name);
                (void)control_error_message(cl, LV_ERROR_NOT_SUPPORTED, m);
                return NULL;
        }
        if (g->state != GUEST_STATE_RUNNING && g->state != GUEST_STATE_PAUSED) {
                _cleanup_free_ char *m = xasprintf("Requested operation is not valid: guest '%s' "
                                                   "is %s",
                                                   g->name, guest_state_to_string(g->state));
                (void)control_error_message(cl, LV_ERROR_INVALID_STATE, m);
                return NULL;
        }
        return ops;
}

static int param_set(struct control_client *cl, const struct varlink_call *call, const char *name,
                     enum lv_migration_param p, unsigned long long max, unsigned long long scale)
{
        struct lv_guest *g = &control_client_supervisor(cl)->g;
        unsigned long long v = 0;
        int r = param_u64(cl, call, name, max, &v);
        if (r <= 0)
                return r;
        const struct lv_migration_ops *ops = params_ops(cl, g);
        if (!ops)
                return 0;
        _cleanup_error_ struct lv_error *e = NULL;
        if (ops->param_set(g, p, v * scale, &e) < 0)
                return control_reply_lv_error(cl, e);
        log_info("migration parameter %s set to %llu", name, v);
        return control_reply(cl, NULL);
}

static int param_get(struct control_client *cl, const struct varlink_call *call, const char *name,
                     enum lv_migration_param p, unsigned long long scale)
{
        struct lv_guest *g = &control_client_supervisor(cl)->g;
        if (json_object_object_length(call->parameters) > 0) {
                json_object_object_foreach(call->parameters, key, val)
                {
                        (void)val;
                        return control_invalid_parameter(cl, key);
                }
        }
        const struct lv_migration_ops *ops = params_ops(cl, g);
        if (!ops)
                return 0;
        _cleanup_error_ struct lv_error *e = NULL;
        unsigned long long v = 0;
        if (ops->param_get(g, p, &v, &e) < 0)
                return control_reply_lv_error(cl, e);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, name, json_object_new_int64((int64_t)(v / scale)));
        int r = control_reply(cl, o);
        json_object_put(o);
        return r;
}

/* MiB/s, as virsh (QEMU's max-bandwidth is in bytes/s) */
int control_migrate_set_speed(struct control_client *cl, const struct varlink_call *call)
{
        return param_set(cl, call, "bandwidth", LV_MIGRATION_PARAM_BANDWIDTH, 1000000, MIB);
}

int control_migrate_get_speed(struct control_client *cl, const struct varlink_call *call)
{
        return param_get(cl, call, "bandwidth", LV_MIGRATION_PARAM_BANDWIDTH, MIB);
}

/* ms, as virsh and QEMU's downtime-limit (at most 2000 s in QEMU) */
int control_migrate_set_max_downtime(struct control_client *cl, const struct varlink_call *call)
{
        return param_set(cl, call, "downtime", LV_MIGRATION_PARAM_DOWNTIME, 2000000, 1);
}

int control_migrate_get_max_downtime(struct control_client *cl, const struct varlink_call *call)
{
        return param_get(cl, call, "downtime", LV_MIGRATION_PARAM_DOWNTIME, 1);
}
