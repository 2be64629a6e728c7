/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vCPUs, as virsh: vcpuinfo (the supervisor's GetVcpus; for a guest that
 * is not running, its definition) and setvcpus (--live: the supervisor's
 * SetVcpus, hot-plug; --config: the stored <vcpu>; --guest: the guest
 * agent brings logical CPUs online or offline). */
#include <json-c/json.h>
#include <unistd.h>

#include "conf/domain.h"
#include "lib/methods.h"
#include "tools/lvsh-common.h"
#include "tools/lvsh-list.h"
#include "tools/lvsh.h"

/* "yy-y" (virsh's map, one character per host CPU), or with pretty
 * "0-1,3 (out of 4)". */
static char *affinity_text(const bool *on, int ncpus, bool pretty)
{
        if (!pretty) {
                char *s = xcalloc((size_t)ncpus + 1, 1);
                for (int i = 0; i < ncpus; i++)
                        s[i] = on[i] ? 'y' : '-';
                return s;
        }
        char *s = xstrdup("");
        for (int i = 0; i < ncpus; i++) {
                if (!on[i] || (i > 0 && on[i - 1]))
                        continue;
                int j = i;
                while (j + 1 < ncpus && on[j + 1])
                        j++;
                char *t = j > i ? xasprintf("%s%s%d-%d", s, *s ? "," : "", i, j)
                                : xasprintf("%s%s%d", s, *s ? "," : "", i);
                free(s);
                s = t;
        }
        char *t = xasprintf("%s (out of %d)", s, ncpus);
        free(s);
        return t;
}

static int host_cpus(void)
{
        long n = sysconf(_SC_NPROCESSORS_CONF);
        return n > 0 && n < 4096 ? (int)n : 1;
}

static int cmd_vcpuinfo(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"pretty", NULL};
        bool set[1] = {false};
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command("vcpuinfo"), argc, argv, flags, set, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        int ncpus = host_cpus();
        _cleanup_free_ bool *on = xcalloc((size_t)ncpus, sizeof(bool));
        if (!lvsh_guest_running(name, NULL)) {
                /* virsh: the definition's vCPUs, nothing known of them */
                _cleanup_domain_def_ struct domain_def *def = NULL;
                if ((r = lvsh_guest_load(name, &def, err)) < 0)
                        return r;
                for (int i = 0; i < ncpus; i++)
                        on[i] = true;
                _cleanup_free_ char *aff = affinity_text(on, ncpus, set[0]);
                for (unsigned v = 0; v < def->vcpus; v++)
                        printf("%-15s %u\n%-15s %s\n%-15s %s\n%-15s %s\n%-15s %s\n\n", "VCPU:", v,
                               "CPU:", "N/A", "State:", "N/A", "CPU time", "N/A",
                               "CPU Affinity:", aff);
                return 0;
        }
        struct json_object *o = NULL, *list, *v;
        if ((r = lvsh_call(name, LV_METHOD_GET_VCPUS, NULL, &o, err)) < 0)
                return r;
        if (!json_object_object_get_ex(o, "vcpus", &list) ||
            !json_object_is_type(list, json_type_array)) {
                json_object_put(o);
                return lv_error_setf(err, LV_ERR_PROTOCOL, "domain '%s': GetVcpus without vcpus",
                                     name);
        }
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                struct json_object *c = json_object_array_get_idx(list, i);
                long long vcpu = 0, cpu = -1, ns = 0;
                lvsh_json_i64(c, "vcpu", &vcpu);
                lvsh_json_i64(c, "cpu", &cpu);
                lvsh_json_i64(c, "cpu_time_ns", &ns);
                for (int k = 0; k < ncpus; k++)
                        on[k] = false;
                if (json_object_object_get_ex(c, "affinity", &v) &&
                    json_object_is_type(v, json_type_array))
                        for (size_t k = 0; k < json_object_array_length(v); k++) {
                                int h = json_object_get_int(json_object_array_get_idx(v, k));
                                if (h >= 0 && h < ncpus)
                                        on[h] = true;
                        }
                _cleanup_free_ char *aff = affinity_text(on, ncpus, set[0]);
                printf("%-15s %lld\n%-15s %lld\n%-15s %s\n%-15s %.1fs\n%-15s %s\n\n", "VCPU:", vcpu,
                       "CPU:", cpu, "State:", lvsh_json_str(c, "state", "running"),
                       "CPU time:", (double)ns / 1e9, "CPU Affinity:", aff);
        }
        json_object_put(o);
        return 0;
}

/* --guest: the agent brings logical CPUs online (lowest first) or offline
 * (highest first, those it may) until count are online. */
static int vcpus_guest(const char *name, unsigned count, struct lv_error **err)
{
        struct json_object *cmd = json_object_new_object(), *ret = NULL, *v;
        json_object_object_add(cmd, "execute", json_object_new_string("guest-get-vcpus"));
        int r = lvsh_agent_call(name, cmd, 0, false, &ret, err);
        if (r < 0)
                return r;
        size_t n = json_object_is_type(ret, json_type_array) ? json_object_array_length(ret) : 0;
        unsigned online = 0;
        for (size_t i = 0; i < n; i++)
                online += json_object_object_get_ex(json_object_array_get_idx(ret, i), "online",
                                                    &v) &&
                          json_object_get_boolean(v);
        if (count > n) {
                json_object_put(ret);
                return lv_error_setf(err, EINVAL,
                                     "requested vcpu count is greater than the count of vcpus "
                                     "available: %u > %zu",
                                     count, n);
        }
        struct json_object *change = json_object_new_array();
        bool want_on = online < count;
        for (size_t k = 0; k < n && online != count; k++) {
                size_t i = want_on ? k : n - 1 - k;
                struct json_object *c = json_object_array_get_idx(ret, i);
                bool is_on =
                        json_object_object_get_ex(c, "online", &v) && json_object_get_boolean(v);
                bool may_off = !json_object_object_get_ex(c, "can-offline", &v) ||
                               json_object_get_boolean(v);
                if (is_on == want_on || (!want_on && !may_off))
                        continue;
                struct json_object *x = json_object_new_object();
                json_object_object_add(x, "logical-id",
                                       json_object_object_get_ex(c, "logical-id", &v)
                                               ? json_object_get(v)
                                               : json_object_new_int((int)i));
                json_object_object_add(x, "online", json_object_new_boolean(want_on));
                json_object_array_add(change, x);
                online = want_on ? online + 1 : online - 1;
        }
        json_object_put(ret);
        if (online != count) {
                json_object_put(change);
                return lv_error_setf(err, EINVAL,
                                     "the guest cannot take %u vCPU(s) offline (can-offline is "
                                     "false)",
                                     online - count);
        }
        if (json_object_array_length(change) == 0) {
                json_object_put(change);
                return 0;
        }
        cmd = json_object_new_object();
        struct json_object *args = json_object_new_object();
        json_object_object_add(args, "vcpus", change);
        json_object_object_add(cmd, "execute", json_object_new_string("guest-set-vcpus"));
        json_object_object_add(cmd, "arguments", args);
        return lvsh_agent_call(name, cmd, 0, false, NULL, err);
}

/* --config: the stored <vcpu> (its maximum with --maximum), as virsh */
static int vcpus_config(const char *name, unsigned count, bool maximum, struct lv_error **err)
{
        _cleanup_domain_def_ struct domain_def *def = NULL;
        int r = lvsh_guest_load(name, &def, err);
        if (r < 0)
                return r;
        unsigned cur = def->vcpus_current ? def->vcpus_current : def->vcpus;
        if (maximum) {
                def->vcpus = count;
                if (cur > count) /* libvirt lowers the current count with it */
                        cur = count;
        } else if (count > def->vcpus) {
                return lv_error_setf(err, EINVAL,
                                     "requested vcpus is greater than max allowable vcpus for "
                                     "the persistent domain: %u > %u",
                                     count, def->vcpus);
        } else {
                cur = count;
        }
        def->vcpus_current = cur == def->vcpus ? 0 : cur;
        return lvsh_domain_store("setvcpus", def, err);
}

static int cmd_setvcpus(int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command("setvcpus");
        static const char *const flags[] = {"maximum", "config",       "live", "current",
                                            "guest",   "hotpluggable", NULL};
        enum { MAXIMUM, CONFIG, LIVE, CURRENT, GUEST, HOTPLUGGABLE };
        bool set[6] = {false};
        const char *pos[2];
        int npos = 0;
        char **rest = xcalloc((size_t)argc + 1, sizeof(char *));
        int nrest = 0;
        rest[nrest++] = argv[0];
        for (int i = 1; i < argc; i++) { /* NAME COUNT */
                if (!startswith(argv[i], "--") && npos < 2)
                        pos[npos++] = argv[i];
                else
                        rest[nrest++] = argv[i];
        }
        int r = lvsh_args_parse(cmd, nrest, rest, flags, set, NULL, NULL, NULL, err);
        free(rest);
        if (r < 0)
                return r;
        if (npos != 2)
                return lvsh_usage_error(cmd, err, "NAME and COUNT are required");
        const char *name = pos[0];
        char *end = NULL;
        long count = strtol(pos[1], &end, 10);
        if (!end || *end || end == pos[1] || count < 1 || count > 4096)
                return lvsh_usage_error(cmd, err, "invalid vcpus count '%s'", pos[1]);
        if (set[CURRENT] && (set[LIVE] || set[CONFIG]))
                return lvsh_usage_error(cmd, err, "--current excludes --live and --config");
        if (set[GUEST] && set[CONFIG])
                return lvsh_usage_error(cmd, err, "--guest excludes --config");
        if (set[HOTPLUGGABLE])
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "--hotpluggable is not supported: every vCPU above the "
                                     "current count is hot-pluggable in litevirt");
        bool running = lvsh_guest_running(name, NULL);
        if (!set[LIVE] && !set[CONFIG]) { /* --current */
                set[LIVE] = running;
                set[CONFIG] = !running;
        }
        if (set[MAXIMUM] && set[LIVE])
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: maximum vcpus count "
                                     "can't be changed on a running domain (use --config)");
        if ((set[LIVE] || set[GUEST]) && !running)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain is not running");
        if (set[GUEST])
                return vcpus_guest(name, (unsigned)count, err);
        if (set[LIVE]) {
                struct json_object *p = json_object_new_object();
                json_object_object_add(p, "count", json_object_new_int((int)count));
                r = lvsh_call(name, LV_METHOD_SET_VCPUS, p, NULL, err);
                json_object_put(p);
                if (r < 0)
                        return r;
        }
        if (set[CONFIG])
                return vcpus_config(name, (unsigned)count, set[MAXIMUM], err);
        return 0;
}

const struct lvsh_command lvsh_vcpu_commands[] = {
        {"vcpuinfo", "NAME [--pretty]", "detailed domain vcpu information",
         "    Per vCPU: the host CPU it last ran on, its state, the CPU time it\n"
         "    used and the host CPUs it may run on (y/- per host CPU; --pretty: a\n"
         "    list). A guest that is not running: its definition's vCPUs, N/A.",
         cmd_vcpuinfo},
        {"setvcpus",
         "NAME COUNT [--maximum] [--config] [--live] [--current] [--guest] [--hotpluggable]",
         "change number of virtual CPUs",
         "    --live hot-plugs vCPUs up to <vcpu>'s maximum, or unplugs those\n"
         "    hot-plugged (the guest must release them; waits up to 5 s). --config\n"
         "    sets the stored <vcpu current=>, with --maximum the maximum.\n"
         "    --current (the default): live when running, else the definition.\n"
         "    --guest: the guest agent brings the guest's CPUs online or offline.",
         cmd_setvcpus},
        {0},
};
