/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers every lvsh command file needs: connecting to a guest's
 * supervisor with virsh's errors, one call, option parsing, reading
 * replies. */
#include <json-c/json.h>

#include "tools/lvsh-common.h"
#include "tools/lvsh-list.h"
#include "util/fileio.h"
#include "util/paths.h"

int lvsh_error_from_client(struct lv_error **err, lv_client_error *ce)
{
        int r = lv_error_setf(err,
                              ce->code == -ENOENT                              ? LV_ERR_NO_DOMAIN
                              : ce->error && strstr(ce->error, "InvalidState") ? LV_ERR_STATE
                                                                               : -ce->code,
                              "%s", ce->message);
        lv_client_error_free(ce);
        return r;
}

struct json_object *lvsh_guest_ended(const char *name)
{
        if (!lvsh_name_is_safe(name))
                return NULL;
        _cleanup_free_ char *path = paths_guest_ended(name);
        _cleanup_free_ char *data = NULL;
        if (file_read_bounded(path, 65536, &data, NULL, NULL) < 0)
                return NULL;
        struct json_object *o = json_tokener_parse(data);
        if (o && !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

int lvsh_connect(const char *name, lv_conn **ret, struct lv_error **err)
{
        if (!lvsh_name_is_safe(name))
                return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'", name);
        lv_client_error *ce = NULL;
        int r = lv_connect(name, ret, &ce);
        if (r == -ENOENT) {
                lv_client_error_free(ce);
                if (!lvsh_guest_exists(name))
                        return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'",
                                             name);
                lv_guest_status st;
                if (lv_guest_status_read(name, &st, NULL) == 0 && lv_guest_status_unsupervised(&st))
                        return lv_error_setf(err, LV_ERR_STATE,
                                             "Requested operation is not valid: domain '%s' runs "
                                             "(pid %d) but its supervisor died; 'lvsh start %s' "
                                             "reattaches one",
                                             name, (int)st.pid, name);
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain is not running");
        }
        if (r < 0)
                return lvsh_error_from_client(err, ce);
        return 0;
}

int lvsh_args_parse(const struct lvsh_command *cmd, int argc, char **argv, const char *const *flags,
                    bool *flag_set, const char *const *valued, const char **values,
                    const char **ret_name, struct lv_error **err)
{
        const char *name = NULL;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (startswith(a, "--")) {
                        bool found = false;
                        for (int f = 0; flags && flags[f]; f++)
                                if (streq(a + 2, flags[f])) {
                                        flag_set[f] = true;
                                        found = true;
                                }
                        for (int v = 0; !found && valued && valued[v]; v++)
                                if (streq(a + 2, valued[v])) {
                                        if (i + 1 >= argc)
                                                return lvsh_usage_error(
                                                        cmd, err, "option '%s' needs a value", a);
                                        values[v] = argv[++i];
                                        found = true;
                                }
                        if (!found)
                                return lvsh_usage_error(cmd, err, "unknown option '%s'", a);
                        continue;
                }
                if (name)
                        return lvsh_usage_error(cmd, err, "unexpected argument '%s'", a);
                name = a;
        }
        if (!name && ret_name)
                return lvsh_usage_error(cmd, err, "a domain name is required");
        if (ret_name)
                *ret_name = name;
        return 0;
}

int lvsh_call(const char *name, const char *method, struct json_object *params,
              struct json_object **ret_reply, struct lv_error **err)
{
        lv_conn *c = NULL;
        int r = lvsh_connect(name, &c, err);
        if (r < 0)
                return r;
        lv_client_error *ce = NULL;
        r = lv_call(c, method, params, ret_reply, &ce);
        lv_disconnect(c);
        return r < 0 ? lvsh_error_from_client(err, ce) : 0;
}

const char *lvsh_json_str(struct json_object *o, const char *key, const char *def)
{
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return def;
        return json_object_get_string(v);
}

bool lvsh_json_i64(struct json_object *o, const char *key, long long *ret)
{
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) ||
            !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
                return false;
        *ret = (long long)json_object_get_int64(v);
        return true;
}

int lvsh_args_split(const struct lvsh_command *cmd, int argc, char **argv, const char *const *flags,
                    bool *set, const char **pos, int npos_max, int *npos, struct lv_error **err)
{
        *npos = 0;
        bool dashdash = false;
        for (int i = 1; i < argc; i++) {
                if (!dashdash && streq(argv[i], "--")) {
                        dashdash = true;
                        continue;
                }
                if (!dashdash && startswith(argv[i], "--")) {
                        int k = 0;
                        while (flags && flags[k] && !streq(flags[k], argv[i]))
                                k++;
                        if (!flags || !flags[k])
                                return lvsh_usage_error(cmd, err, "unknown option '%s'", argv[i]);
                        set[k] = true;
                        continue;
                }
                if (*npos >= npos_max)
                        return lvsh_usage_error(cmd, err, "unexpected argument '%s'", argv[i]);
                pos[(*npos)++] = argv[i];
        }
        return 0;
}
