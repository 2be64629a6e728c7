/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh commands answered by the QEMU guest agent in the guest (through
 * the supervisor's AgentCommand, supervisor/agent.h), printed as virsh
 * prints them: qemu-agent-command, guestinfo, domfsinfo, domfsfreeze,
 * domfsthaw, set-user-password, domtime; domifaddr --source agent
 * (lvsh-net.c) and shutdown --mode agent (lvsh-domain.c) use them too. */
#include <json-c/json.h>
#include <stdlib.h>
#include <time.h>

#include "lib/methods.h"
#include "tools/lvsh-common.h"
#include "util/strbuf.h"

/* --timeout SECONDS: 1..300 (the supervisor's AgentCommand limit). */
static int parse_timeout(const struct lvsh_command *cmd, const char *s, int *ret,
                         struct lv_error **err)
{
        char *end;
        errno = 0;
        long t = s ? strtol(s, &end, 10) : 0;
        if (!s || *end || errno || t <= 0 || t > 300)
                return lvsh_usage_error(
                        cmd, err, "--timeout '%s': not a number of seconds (1..300)", s ? s : "");
        *ret = (int)t;
        return 0;
}

int lvsh_agent_call(const char *name, struct json_object *command, int timeout_s, bool noreply,
                    struct json_object **ret, struct lv_error **err)
{
        struct json_object *params = json_object_new_object();
        json_object_object_add(params, "command",
                               json_object_new_string(json_object_to_json_string_ext(
                                       command, JSON_C_TO_STRING_PLAIN)));
        json_object_put(command);
        if (timeout_s > 0)
                json_object_object_add(params, "timeout", json_object_new_int(timeout_s));
        if (noreply)
                json_object_object_add(params, "noreply", json_object_new_boolean(true));
        lv_conn *c = NULL;
        int r = lvsh_connect(name, &c, err);
        if (r < 0) {
                json_object_put(params);
                return r;
        }
        /* the agent's timeout, and the supervisor's time to say so */
        lv_conn_set_timeout(c, ((timeout_s > 0 ? timeout_s : 5) + 10) * 1000);
        lv_client_error *ce = NULL;
        struct json_object *reply = NULL;
        r = lv_call(c, LV_METHOD_AGENT, params, &reply, &ce);
        json_object_put(params);
        lv_disconnect(c);
        if (r < 0)
                return lvsh_error_from_client(err, ce);
        struct json_object *v = NULL;
        if (ret && json_object_object_get_ex(reply, "result", &v))
                *ret = json_object_get(v);
        json_object_put(reply);
        return 0;
}

/* {"execute": name} plus arguments (consumed; may be NULL) */
static struct json_object *agent_cmd(const char *name, struct json_object *args)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "execute", json_object_new_string(name));
        if (args)
                json_object_object_add(o, "arguments", args);
        return o;
}

static int agent_simple(const char *name, const char *command, struct json_object **ret,
                        struct lv_error **err)
{
        return lvsh_agent_call(name, agent_cmd(command, NULL), 0, false, ret, err);
}

static struct json_object *member(struct json_object *o, const char *key)
{
        struct json_object *v = NULL;
        return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static size_t array_len(struct json_object *a)
{
        return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* ---- qemu-agent-command ---- */

static int cmd_qemu_agent_command(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"pretty", "async", "block", NULL};
        static const char *const valued[] = {"timeout", NULL};
        bool set[3] = {false};
        const char *values[1] = {NULL};
        const struct lvsh_command *cmd = lvsh_find_command("qemu-agent-command");
        /* NAME and the command, options anywhere: the second argument
         * that is neither an option nor --timeout's value is the command */
        const char *json = NULL;
        _cleanup_free_ char **rest = xcalloc((size_t)argc + 1, sizeof(char *));
        int n = 0, positional = 0;
        for (int i = 0; i < argc; i++) {
                bool value = i > 0 && streq(argv[i - 1], "--timeout");
                if (i > 0 && argv[i][0] != '-' && !value && ++positional == 2 && !json) {
                        json = argv[i];
                        continue;
                }
                rest[n++] = argv[i];
        }
        if (!json)
                return lvsh_usage_error(cmd, err, "a domain name and a command are required");
        const char *name;
        int r = lvsh_args_parse(cmd, n, rest, flags, set, valued, values, &name, err);
        if (r < 0)
                return r;
        int timeout = 0;
        if (values[0] && (r = parse_timeout(cmd, values[0], &timeout, err)) < 0)
                return r;
        struct json_object *command = json_tokener_parse(json);
        struct json_object *ex = member(command, "execute");
        if (!command || !json_object_is_type(command, json_type_object) || !ex ||
            !json_object_is_type(ex, json_type_string)) {
                json_object_put(command);
                return lv_error_setf(err, EINVAL,
                                     "qemu-agent-command: '%s' is not a JSON object with an "
                                     "\"execute\" string",
                                     json);
        }
        struct json_object *ret = NULL;
        r = lvsh_agent_call(name, command, timeout, false, &ret, err);
        if (r < 0)
                return r;
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "return", ret ? ret : json_object_new_object());
        printf("%s\n", json_object_to_json_string_ext(o, set[0] ? JSON_C_TO_STRING_PRETTY
                                                                : JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return 0;
}

/* ---- guestinfo ---- */

/* guestinfo's keys: the agent's member, virsh's name */
struct key_map {
        const char *agent, *virsh;
};

static void print_field(const char *key, struct json_object *v)
{
        if (!v || json_object_is_type(v, json_type_null))
                return;
        printf("%-20s: %s\n", key, json_object_get_string(v));
}

/* prefix (e.g. "user.0.") + each key's virsh name */
static void print_members(struct json_object *o, const char *prefix, const struct key_map *keys)
{
        for (const struct key_map *k = keys; k->agent; k++) {
                _cleanup_free_ char *key = xasprintf("%s%s", prefix, k->virsh);
                print_field(key, member(o, k->agent));
        }
}

/* "PREFIX.count" and each element's members as "PREFIX.N.NAME"; then
 * more(element, "PREFIX.N.") when given */
static void print_array(struct json_object *a, const char *prefix, const struct key_map *keys,
                        void (*more)(struct json_object *e, const char *prefix))
{
        size_t n = array_len(a);
        _cleanup_free_ char *count = xasprintf("%s.count", prefix);
        printf("%-20s: %zu\n", count, n);
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(a, i);
                _cleanup_free_ char *p = xasprintf("%s.%zu.", prefix, i);
                print_members(e, p, keys);
                if (more)
                        more(e, p);
        }
}

static void guestinfo_os(struct json_object *r)
{
        static const struct key_map keys[] = {
                {"id", "id"},
                {"name", "name"},
                {"pretty-name", "pretty-name"},
                {"version", "version"},
                {"version-id", "version-id"},
                {"kernel-release", "kernel-release"},
                {"kernel-version", "kernel-version"},
                {"machine", "machine"},
                {"variant", "variant"},
                {"variant-id", "variant-id"},
                {NULL, NULL},
        };
        print_members(r, "os.", keys);
}

/* login-time: the agent's seconds (a double) as virsh's milliseconds */
static void user_login_time(struct json_object *u, const char *prefix)
{
        struct json_object *t = member(u, "login-time");
        if (!t)
                return;
        _cleanup_free_ char *key = xasprintf("%slogin-time", prefix);
        printf("%-20s: %lld\n", key, (long long)(json_object_get_double(t) * 1000));
}

static void guestinfo_users(struct json_object *r)
{
        static const struct key_map keys[] = {{"user", "name"}, {"domain", "domain"}, {0}};
        print_array(r, "user", keys, user_login_time);
}

static void guestinfo_timezone(struct json_object *r)
{
        static const struct key_map keys[] = {{"zone", "name"}, {"offset", "offset"}, {0}};
        print_members(r, "timezone.", keys);
}

static void guestinfo_fs(struct json_object *r)
{
        static const struct key_map keys[] = {
                {"mountpoint", "mountpoint"}, {"name", "name"},
                {"type", "fstype"},           {"total-bytes", "total-bytes"},
                {"used-bytes", "used-bytes"}, {0},
        };
        print_array(r, "fs", keys, NULL);
}

static void if_addrs(struct json_object *f, const char *prefix)
{
        static const struct key_map keys[] = {
                {"ip-address-type", "type"}, {"ip-address", "addr"}, {"prefix", "prefix"}, {0}};
        _cleanup_free_ char *p = xasprintf("%saddr", prefix);
        print_array(member(f, "ip-addresses"), p, keys, NULL);
}

static void guestinfo_if(struct json_object *r)
{
        static const struct key_map keys[] = {
                {"name", "name"}, {"hardware-address", "hwaddr"}, {0}};
        print_array(r, "if", keys, if_addrs);
}
static void guestinfo_hostname(struct json_object *r)
{
        print_field("hostname", member(r, "host-name"));
}

static int cmd_guestinfo(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"user",       "os",        "timezone", "hostname",
                                            "filesystem", "interface", NULL};
        static const struct {
                const char *command;
                void (*print)(struct json_object *r);
        } parts[] = {
                {"guest-get-users", guestinfo_users},
                {"guest-get-osinfo", guestinfo_os},
                {"guest-get-timezone", guestinfo_timezone},
                {"guest-get-host-name", guestinfo_hostname},
                {"guest-get-fsinfo", guestinfo_fs},
                {"guest-network-get-interfaces", guestinfo_if},
        };
        bool set[ARRAY_SIZE(parts)] = {false};
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command("guestinfo"), argc, argv, flags, set, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        bool any = false;
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
                any |= set[i];
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                if (any && !set[i])
                        continue;
                struct json_object *ret = NULL;
                struct lv_error *e = NULL;
                r = agent_simple(name, parts[i].command, &ret, &e);
                /* as virsh without a category asked for: what the guest's
                 * agent cannot tell is left out; a silent agent is an error */
                if (r < 0 &&
                    (any || strstr(e->message, "not responding") ||
                     strstr(e->message, "not configured") || strstr(e->message, "not running") ||
                     strstr(e->message, "failed to get domain"))) {
                        *err = e;
                        return r;
                }
                lv_error_free(e);
                if (r >= 0)
                        parts[i].print(ret);
                json_object_put(ret);
        }
        printf("\n");
        return 0;
}

/* ---- domfsinfo, domfsfreeze, domfsthaw ---- */

static int cmd_domfsinfo(int argc, char **argv, struct lv_error **err)
{
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command("domfsinfo"), argc, argv, NULL, NULL, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        struct json_object *ret = NULL;
        if ((r = agent_simple(name, "guest-get-fsinfo", &ret, err)) < 0)
                return r;
        printf("%-36s %-8s %-8s %s\n%s\n", "Mountpoint", "Name", "Type", "Target",
               "-------------------------------------------------------------------");
        for (size_t i = 0; i < array_len(ret); i++) {
                struct json_object *f = json_object_array_get_idx(ret, i);
                struct strbuf targets = {0};
                struct json_object *disks = member(f, "disk");
                for (size_t j = 0; j < array_len(disks); j++) {
                        struct json_object *d = json_object_array_get_idx(disks, j);
                        /* the guest's name of the disk ("/dev/vda" -> vda) */
                        const char *dev = lvsh_json_str(d, "dev", "");
                        if (startswith(dev, "/dev/"))
                                dev += strlen("/dev/");
                        strbuf_printf(&targets, "%s%s", j ? "," : "", dev);
                }
                _cleanup_free_ char *t = strbuf_steal(&targets);
                printf("%-36s %-8s %-8s %s\n", lvsh_json_str(f, "mountpoint", ""),
                       lvsh_json_str(f, "name", ""), lvsh_json_str(f, "type", ""), t ? t : "");
        }
        printf("\n");
        json_object_put(ret);
        return 0;
}

/* NAME [--mountpoint M]... : guest-fsfreeze-freeze(-list) / -thaw */
static int fs_freeze_thaw(int argc, char **argv, bool freeze, struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command(argv[0]);
        const char *name = NULL;
        struct json_object *mounts = json_object_new_array();
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--mountpoint") && freeze && i + 1 < argc)
                        json_object_array_add(mounts, json_object_new_string(argv[++i]));
                else if (argv[i][0] == '-' || name) {
                        json_object_put(mounts);
                        return lvsh_usage_error(cmd, err, "unexpected argument '%s'", argv[i]);
                } else
                        name = argv[i];
        }
        if (!name) {
                json_object_put(mounts);
                return lvsh_usage_error(cmd, err, "a domain name is required");
        }
        struct json_object *c;
        if (!freeze) {
                json_object_put(mounts);
                c = agent_cmd("guest-fsfreeze-thaw", NULL);
        } else if (json_object_array_length(mounts) > 0) {
                struct json_object *args = json_object_new_object();
                json_object_object_add(args, "mountpoints", mounts);
                c = agent_cmd("guest-fsfreeze-freeze-list", args);
        } else {
                json_object_put(mounts);
                c = agent_cmd("guest-fsfreeze-freeze", NULL);
        }
        struct json_object *ret = NULL;
        int r = lvsh_agent_call(name, c, 0, false, &ret, err);
        if (r < 0)
                return r;
        printf("%s %d filesystem(s)\n\n", freeze ? "Froze" : "Thawed",
               ret ? json_object_get_int(ret) : 0);
        json_object_put(ret);
        return 0;
}

static int cmd_domfsfreeze(int argc, char **argv, struct lv_error **err)
{
        return fs_freeze_thaw(argc, argv, true, err);
}

static int cmd_domfsthaw(int argc, char **argv, struct lv_error **err)
{
        return fs_freeze_thaw(argc, argv, false, err);
}

/* ---- set-user-password, domtime ---- */

static char *base64(const char *s)
{
        static const char tab[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t n = strlen(s);
        char *out = xcalloc(n / 3 * 4 + 5, 1), *o = out;
        for (size_t i = 0; i < n; i += 3) {
                unsigned v = (unsigned char)s[i] << 16;
                if (i + 1 < n)
                        v |= (unsigned char)s[i + 1] << 8;
                if (i + 2 < n)
                        v |= (unsigned char)s[i + 2];
                *o++ = tab[(v >> 18) & 63];
                *o++ = tab[(v >> 12) & 63];
                *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
                *o++ = i + 2 < n ? tab[v & 63] : '=';
        }
        return out;
}

static int cmd_set_user_password(int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command("set-user-password");
        const char *pos[3] = {NULL, NULL, NULL};
        int npos = 0;
        bool crypted = false;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--encrypted"))
                        crypted = true;
                else if (argv[i][0] == '-' || npos == 3)
                        return lvsh_usage_error(cmd, err, "unexpected argument '%s'", argv[i]);
                else
                        pos[npos++] = argv[i];
        }
        if (npos != 3)
                return lvsh_usage_error(cmd, err, "NAME, USER and PASSWORD are required");
        _cleanup_free_ char *b64 = base64(pos[2]);
        struct json_object *args = json_object_new_object();
        json_object_object_add(args, "username", json_object_new_string(pos[1]));
        json_object_object_add(args, "password", json_object_new_string(b64));
        json_object_object_add(args, "crypted", json_object_new_boolean(crypted));
        int r = lvsh_agent_call(pos[0], agent_cmd("guest-set-user-password", args), 0, false, NULL,
                                err);
        if (r < 0)
                return r;
        printf("Password set successfully for %s in %s\n\n", pos[1], pos[0]);
        return 0;
}

/* virsh domtime: read the guest's clock, or set it (--now: to the host's,
 * --time: to N seconds since the epoch, --sync: from the guest's own RTC,
 * as qemu-ga does without a time) through the agent's guest-set-time. */
static int cmd_domtime(int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command("domtime");
        static const char *const flags[] = {"pretty", "now", "sync", NULL};
        enum { PRETTY, NOW, SYNC };
        static const char *const valued[] = {"time", NULL};
        bool set[3] = {false};
        const char *values[1] = {NULL};
        const char *name;
        int r = lvsh_args_parse(cmd, argc, argv, flags, set, valued, values, &name, err);
        if (r < 0)
                return r;
        if (set[NOW] + set[SYNC] + (values[0] != NULL) > 1)
                return lvsh_usage_error(cmd, err, "--now, --sync and --time exclude each other");
        if (set[PRETTY] && (set[NOW] || set[SYNC] || values[0]))
                return lvsh_usage_error(cmd, err,
                                        "--pretty shows the time: it excludes --now, --sync "
                                        "and --time");
        if (set[NOW] || set[SYNC] || values[0]) {
                long long secs = 0;
                if (values[0]) {
                        char *end = NULL;
                        errno = 0;
                        secs = strtoll(values[0], &end, 10);
                        /* what fits the agent's nanoseconds (an int64) */
                        if (errno || !end || *end || end == values[0] || secs < 0 ||
                            secs > INT64_MAX / 1000000000LL)
                                return lvsh_usage_error(cmd, err,
                                                        "--time needs seconds since the epoch, "
                                                        "not '%s'",
                                                        values[0]);
                } else if (set[NOW]) {
                        secs = (long long)time(NULL);
                }
                struct json_object *args = NULL;
                if (!set[SYNC]) {
                        args = json_object_new_object();
                        json_object_object_add(args, "time",
                                               json_object_new_int64(secs * 1000000000LL));
                }
                return lvsh_agent_call(name, agent_cmd("guest-set-time", args), 0, false, NULL,
                                       err);
        }
        struct json_object *ret = NULL;
        if ((r = agent_simple(name, "guest-get-time", &ret, err)) < 0)
                return r;
        time_t secs = (time_t)(json_object_get_int64(ret) / 1000000000LL);
        json_object_put(ret);
        if (set[PRETTY]) {
                char buf[64];
                struct tm tm;
                strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", gmtime_r(&secs, &tm));
                printf("Time: %s\n", buf);
        } else
                printf("Time: %lld\n", (long long)secs);
        return 0;
}

/* ---- for domifaddr --source agent (lvsh-net.c) ---- */

int lvsh_agent_domifaddr(const char *name, const char *only, bool full, struct lv_error **err)
{
        struct json_object *ret = NULL;
        int r = agent_simple(name, "guest-network-get-interfaces", &ret, err);
        if (r < 0)
                return r;
        printf(" %-10s %-20s %-8s     %s\n%s%s\n", "Name", "MAC address", "Protocol", "Address",
               "-------------------------------------------------",
               "------------------------------");
        for (size_t i = 0; i < array_len(ret); i++) {
                struct json_object *f = json_object_array_get_idx(ret, i);
                const char *ifname = lvsh_json_str(f, "name", "");
                const char *mac = lvsh_json_str(f, "hardware-address", "N/A");
                if (only && !streq(only, ifname))
                        continue;
                struct json_object *addrs = member(f, "ip-addresses");
                if (array_len(addrs) == 0)
                        printf(" %-10s %-17s    %-12s %s\n", ifname, mac, "N/A", "N/A");
                for (size_t j = 0; j < array_len(addrs); j++) {
                        struct json_object *a = json_object_array_get_idx(addrs, j);
                        long long prefix = 0;
                        lvsh_json_i64(a, "prefix", &prefix);
                        bool first = full || j == 0;
                        printf(" %-10s %-17s    %-12s %s/%lld\n", first ? ifname : "-",
                               first ? mac : "-", lvsh_json_str(a, "ip-address-type", ""),
                               lvsh_json_str(a, "ip-address", ""), prefix);
                }
        }
        printf("\n");
        json_object_put(ret);
        return 0;
}

const struct lvsh_command lvsh_agent_commands[] = {
        {"qemu-agent-command", "NAME [--timeout SECONDS] [--pretty] COMMAND",
         "QEMU Guest Agent Command",
         "    Sends COMMAND (the agent's JSON, e.g. '{\"execute\":\"guest-info\"}') to\n"
         "    the QEMU guest agent in the guest and prints its reply. The guest\n"
         "    needs a <channel type='unix'> with target name org.qemu.guest_agent.0\n"
         "    and qemu-ga running; otherwise \"Guest agent is not responding\" once\n"
         "    --timeout (default 5 s, at most 300) has passed. --async and --block\n"
         "    are accepted and ignored (the timeout decides).",
         cmd_qemu_agent_command},
        {"guestinfo", "NAME [--user] [--os] [--timezone] [--hostname] [--filesystem] [--interface]",
         "query information about the guest (via agent)",
         "    What the guest agent tells, as virsh's keys (user.N.name, os.id,\n"
         "    hostname, fs.N.mountpoint, if.N.addr.M.addr ...). Without an option\n"
         "    every category the agent answers; with options, those only (an\n"
         "    error when one fails).",
         cmd_guestinfo},
        {"domfsinfo", "NAME", "Get information of domain's mounted filesystems.",
         "    The guest's mounted filesystems as its agent lists them.", cmd_domfsinfo},
        {"domfsfreeze", "NAME [--mountpoint M]...", "Freeze domain's mounted filesystems.",
         "    Freezes the guest's filesystems (all, or those given) through its agent.",
         cmd_domfsfreeze},
        {"domfsthaw", "NAME", "Thaw domain's mounted filesystems.",
         "    Thaws the filesystems frozen by domfsfreeze.", cmd_domfsthaw},
        {"set-user-password", "NAME USER PASSWORD [--encrypted]",
         "set the user password inside the domain",
         "    Sets USER's password in the guest through its agent (qemu-ga runs\n"
         "    chpasswd); --encrypted: PASSWORD is already crypt()ed.",
         cmd_set_user_password},
        {"domtime", "NAME [--now] [--pretty] [--sync] [--time SECONDS]", "domain time",
         "    The guest's clock as its agent reads it: seconds since the epoch,\n"
         "    or with --pretty as UTC date and time. --now sets it to the host's\n"
         "    time, --time to SECONDS since the epoch, --sync from the guest's\n"
         "    own hardware clock (the agent's guest-set-time; qemu-ga then runs\n"
         "    hwclock).",
         cmd_domtime},
        {0},
};
