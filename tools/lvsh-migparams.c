/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh migrate-setspeed, migrate-getspeed, migrate-setmaxdowntime,
 * migrate-getmaxdowntime: a running guest's migration parameters, as
 * virsh's (also during a migration, from another shell). */
#include <json-c/json.h>

#include "tools/lvsh-common.h"
#include "tools/lvsh.h"
#include "lib/methods.h"

/* NAME VALUE, or NAME --KEY VALUE (virsh accepts both): set it. */
static int migparam_set(const char *command, const char *key, const char *unit, long long max,
                        const char *method, int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command(command);
        const char *valued[] = {key, NULL};
        const char *values[1] = {NULL};
        const char *name = NULL;
        /* a trailing positional value is taken off first: the parser
         * takes one positional argument */
        if (argc == 3 && argv[2][0] != '-') {
                values[0] = argv[2];
                argc--;
        }
        int r = lvsh_args_parse(cmd, argc, argv, NULL, NULL, values[0] ? NULL : valued,
                                values[0] ? NULL : values, &name, err);
        if (r < 0)
                return r;
        if (!values[0])
                return lvsh_usage_error(cmd, err, "--%s is required", key);
        char *end;
        errno = 0;
        long long v = strtoll(values[0], &end, 10);
        if (errno || *end || end == values[0] || v <= 0 || v > max)
                return lvsh_usage_error(cmd, err, "--%s '%s': not a number of %s (1..%lld)", key,
                                        values[0], unit, max);
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, key, json_object_new_int64(v));
        r = lvsh_call(name, method, p, NULL, err);
        json_object_put(p);
        return r;
}

static int migparam_get(const char *command, const char *key, const char *method, int argc,
                        char **argv, struct lv_error **err)
{
        const char *name = NULL;
        int r = lvsh_args_parse(lvsh_find_command(command), argc, argv, NULL, NULL, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        struct json_object *reply = NULL;
        r = lvsh_call(name, method, NULL, &reply, err);
        long long v = 0;
        if (r >= 0 && !lvsh_json_i64(reply, key, &v))
                r = lv_error_setf(err, EPROTO, "the supervisor of '%s' did not say %s", name, key);
        json_object_put(reply);
        if (r >= 0)
                printf("%lld\n", v);
        return r;
}

static int cmd_migrate_setspeed(int argc, char **argv, struct lv_error **err)
{
        return migparam_set("migrate-setspeed", "bandwidth", "MiB/s", 1000000,
                            LV_METHOD_MIGRATE_SET_SPEED, argc, argv, err);
}

static int cmd_migrate_getspeed(int argc, char **argv, struct lv_error **err)
{
        return migparam_get("migrate-getspeed", "bandwidth", LV_METHOD_MIGRATE_GET_SPEED, argc,
                            argv, err);
}

static int cmd_migrate_setmaxdowntime(int argc, char **argv, struct lv_error **err)
{
        return migparam_set("migrate-setmaxdowntime", "downtime", "ms", 2000000,
                            LV_METHOD_MIGRATE_SET_MAX_DOWNTIME, argc, argv, err);
}

static int cmd_migrate_getmaxdowntime(int argc, char **argv, struct lv_error **err)
{
        return migparam_get("migrate-getmaxdowntime", "downtime",
                            LV_METHOD_MIGRATE_GET_MAX_DOWNTIME, argc, argv, err);
}

const struct lvsh_command lvsh_migparams_commands[] = {
        {"migrate-setspeed", "NAME [--bandwidth] MiB/s", "set the maximum migration bandwidth",
         "    For the guest's next migrations and, during one, for the running stream\n"
         "    (QEMU's max-bandwidth). lvsh migrate --bandwidth overrides it for one\n"
         "    migration.",
         cmd_migrate_setspeed},
        {"migrate-getspeed", "NAME", "get the maximum migration bandwidth",
         "    In MiB/s (QEMU's own default: 128).", cmd_migrate_getspeed},
        {"migrate-setmaxdowntime", "NAME [--downtime] ms", "set the maximum migration downtime",
         "    The longest the guest may stop for the switch-over (QEMU's\n"
         "    downtime-limit), for the next migrations and a running one.",
         cmd_migrate_setmaxdowntime},
        {"migrate-getmaxdowntime", "NAME", "get the maximum migration downtime",
         "    In ms (QEMU's own default: 300).", cmd_migrate_getmaxdowntime},
        {},
};
