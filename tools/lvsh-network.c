/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh's virtual network commands, with virsh's words and columns:
 * net-define, net-undefine, net-list, net-dumpxml, net-info,
 * net-autostart, net-start, net-destroy, net-dhcp-leases, net-update.
 * Definitions are $NETWORKDIR/NAME.xml (written atomically); a running
 * network is its supervisor, litevirt-network, found by its state
 * directory's lock (network/state.c) and reached on its control socket. */
#include <dirent.h>
#include <json-c/json.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "conf/xml.h"
#include "network/network.h"
#include "tools/lvsh-common.h"
#include "tools/lvsh-list.h"
#include "tools/lvsh-network.h"
#include "util/fileio.h"
#include "util/paths.h"

static const struct lvsh_command *cmd_find(const char *name);

/* ---- definitions ---- */

/* A network is persistent when it has a stored definition; a transient
 * one (net-create) exists while it runs, from the running copy its
 * supervisor keeps ($NETRUNDIR/NAME/network.xml). */
static bool net_persistent(const char *name)
{
        _cleanup_free_ char *path = paths_network_xml(name);
        return access(path, F_OK) == 0;
}

static bool net_running_copy(const char *name)
{
        _cleanup_free_ char *path = paths_network_state_file(name, NETWORK_RUNNING_XML);
        return access(path, F_OK) == 0 && network_state_active(name, NULL, NULL) == 1;
}

/* The stored networks, then the transient ones: those running, and
 * those whose supervisor died (net_active() removes what they left). */
static int net_names(char ***ret, struct lv_error **err)
{
        int r = lvsh_xml_names(paths_networkdir(), ret, err);
        if (r < 0)
                return r;
        DIR *d = opendir(paths_netrundir());
        for (struct dirent *e; d && (e = readdir(d));) {
                _cleanup_free_ char *copy =
                        paths_network_state_file(e->d_name, NETWORK_RUNNING_XML);
                if (e->d_name[0] != '.' && !strv_contains(*ret, e->d_name) &&
                    access(copy, F_OK) == 0)
                        strv_push(ret, xstrdup(e->d_name));
        }
        if (d)
                closedir(d);
        return 0;
}

/* running: the definition it runs with when it is active */
static int net_load_as(const char *name, bool running, struct network_def **ret,
                       struct lv_error **err)
{
        _cleanup_free_ char *path = NULL;
        bool stored = lvsh_name_is_safe(name) && net_persistent(name);
        if (lvsh_name_is_safe(name) && (running || !stored) && net_running_copy(name))
                path = paths_network_state_file(name, NETWORK_RUNNING_XML);
        else if (stored)
                path = paths_network_xml(name);
        else
                return lv_error_setf(err, LV_ERR_NO_DOMAIN,
                                     "failed to get network '%s'\nerror: Network not found: no "
                                     "network with matching name '%s'",
                                     name, name);
        const struct conf_xml_ops *xml = conf_xml(err);
        if (!xml)
                return -ENOENT;
        return xml->network_parse_file(path, ret, err);
}

/* The stored definition, or a transient network's running one. */
static int net_load(const char *name, struct network_def **ret, struct lv_error **err)
{
        return net_load_as(name, false, ret, err);
}

/* A net-* command's options and NAME, then the network's definition. */
static int net_args_load(const char *cmdname, int argc, char **argv, const char *const *flags,
                         bool *flag_set, const char *const *valued, const char **values,
                         const char **ret_name, struct network_def **ret_def, struct lv_error **err)
{
        int r = lvsh_args_parse(cmd_find(cmdname), argc, argv, flags, flag_set, valued, values,
                                ret_name, err);
        if (r < 0)
                return r;
        return net_load(*ret_name, ret_def, err);
}

static int net_store(const struct network_def *def, struct lv_error **err)
{
        _cleanup_free_ char *xml = network_format(def);
        _cleanup_free_ char *path = paths_network_xml(def->name);
        int r = mkdir_p(paths_networkdir(), 0755, err);
        return r < 0 ? r : file_write_atomic(path, xml, strlen(xml), 0600, err);
}

static char *autostart_link(const char *name)
{
        return xasprintf("%s/autostart/%s.xml", paths_networkdir(), name);
}

static bool net_autostart(const char *name)
{
        _cleanup_free_ char *l = autostart_link(name);
        return access(l, F_OK) == 0;
}

/* Active, or not; a dead supervisor's leftovers are removed on the way
 * (litevirt-network --cleanup), so "inactive" always means nothing left. */
static int run_cleanup(const char *name, struct lv_error **err);

static bool net_active(const char *name, pid_t *ret_pid)
{
        if (network_state_active(name, ret_pid, NULL) == 1)
                return true;
        if (network_state_stale(name)) {
                _cleanup_error_ struct lv_error *e = NULL;
                if (run_cleanup(name, &e) < 0)
                        fprintf(stderr, "warning: network '%s': %s\n", name, e->message);
        }
        return false;
}

/* A definition about to be stored or run, checked against the other
 * networks (stored and running: name, UUID, bridge) and completed as
 * libvirt does (a bridge virbrN, a MAC). WHAT prefixes errors. */
static int net_check_new(struct network_def *def, const char *what, struct lv_error **err)
{
        _cleanup_strv_free_ char **names = NULL;
        int r = net_names(&names, err);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **bridges = xcalloc(1, sizeof(char *));
        char uuid[37];
        domain_uuid_format(def->uuid, uuid);
        for (char **n = names; *n; n++) {
                _cleanup_network_def_ struct network_def *old = NULL;
                _cleanup_error_ struct lv_error *lerr = NULL;
                if (net_load(*n, &old, &lerr) < 0)
                        continue;
                bool same_uuid = memcmp(old->uuid, def->uuid, 16) == 0;
                if (streq(*n, def->name) && !same_uuid) {
                        char ou[37];
                        domain_uuid_format(old->uuid, ou);
                        return lv_error_setf(err, LV_ERR_EXISTS,
                                             "%s\nerror: network '%s' already exists with uuid %s",
                                             what, def->name, ou);
                }
                if (!streq(*n, def->name) && same_uuid)
                        return lv_error_setf(err, LV_ERR_EXISTS,
                                             "%s\nerror: network '%s' is already defined with "
                                             "uuid %s",
                                             what, *n, uuid);
                if (streq(*n, def->name)) {
                        /* a redefinition keeps what net-define assigned */
                        if (!def->bridge && old->bridge)
                                def->bridge = xstrdup(old->bridge);
                        if (!def->mac && old->mac)
                                def->mac = xstrdup(old->mac);
                        continue;
                }
                if (old->bridge && def->bridge && streq(old->bridge, def->bridge) &&
                    network_def_makes_bridge(def))
                        return lv_error_setf(err, LV_ERR_EXISTS,
                                             "%s\nerror: bridge name '%s' already in use by "
                                             "network '%s'",
                                             what, def->bridge, *n);
                if (old->bridge)
                        strv_push(&bridges, xstrdup(old->bridge));
        }
        network_def_assign(def, bridges);
        return 0;
}

/* net-define of FILE: parsed, checked, stored atomically. */
static int net_define_file(const char *file, char **ret_name, struct lv_error **err)
{
        int r;
        const struct conf_xml_ops *xml = conf_xml(err);
        if (!xml)
                return -ENOENT;
        _cleanup_network_def_ struct network_def *def = NULL;
        if ((r = xml->network_parse_file(file, &def, err)) < 0)
                return lv_error_prefix(err, "Failed to define network from %s\nerror", file);
        _cleanup_free_ char *what = xasprintf("Failed to define network from %s", file);
        if ((r = net_check_new(def, what, err)) < 0)
                return r;
        if ((r = net_store(def, err)) < 0)
                return lv_error_prefix(err, "Failed to define network from %s\nerror", file);
        *ret_name = xstrdup(def->name);
        return 0;
}

static int cmd_net_define(int argc, char **argv, struct lv_error **err)
{
        const char *file;
        int r = lvsh_args_parse(cmd_find("net-define"), argc, argv, NULL, NULL, NULL, NULL, &file,
                                err);
        if (r < 0)
                return r;
        _cleanup_free_ char *name = NULL;
        if ((r = net_define_file(file, &name, err)) < 0)
                return r;
        printf("Network %s defined from %s\n\n", name, file);
        return 0;
}

/* net-edit: the stored definition (as net-dumpxml --inactive) */
static int net_edit_source(const char *name, char **ret, struct lv_error **err)
{
        _cleanup_network_def_ struct network_def *def = NULL;
        int r = net_load(name, &def, err);
        if (r < 0)
                return r;
        *ret = network_format(def);
        return 0;
}

static int cmd_net_edit(int argc, char **argv, struct lv_error **err)
{
        static const struct lvsh_edit_ops ops = {"Network", "network", net_edit_source,
                                                 net_define_file};
        const char *name;
        int r = lvsh_args_parse(cmd_find("net-edit"), argc, argv, NULL, NULL, NULL, NULL, &name,
                                err);
        return r < 0 ? r : lvsh_edit_loop(&ops, name, err);
}

static int cmd_net_undefine(int argc, char **argv, struct lv_error **err)
{
        const char *name;
        _cleanup_network_def_ struct network_def *def = NULL;
        int r = net_args_load("net-undefine", argc, argv, NULL, NULL, NULL, NULL, &name, &def, err);
        if (r < 0)
                return r;
        if (!net_persistent(name))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Failed to undefine network %s\nerror: Requested operation "
                                     "is not valid: network is not persistent",
                                     name);
        if (net_active(name, NULL))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Failed to undefine network %s\nerror: Requested operation "
                                     "is not valid: network is active; destroy it first",
                                     name);
        _cleanup_free_ char *path = paths_network_xml(name);
        _cleanup_free_ char *link = autostart_link(name);
        (void)unlink(link);
        if (unlink(path) < 0)
                return lv_error_set(err, errno,
                                    "Failed to undefine network %s\nerror: removing '%s'", name,
                                    path);
        printf("Network %s has been undefined\n\n", name);
        return 0;
}

static int cmd_net_list(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"all",       "inactive",     "name",
                                            "autostart", "no-autostart", NULL};
        bool set[5] = {false};
        int r = lvsh_args_parse(cmd_find("net-list"), argc, argv, flags, set, NULL, NULL, NULL,
                                err);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **names = NULL;
        if ((r = net_names(&names, err)) < 0)
                return r;
        size_t n = strv_length(names);
        const char **cells = xcalloc((n + 1) * 4, sizeof(char *));
        size_t rows = 1;
        cells[0] = "Name";
        cells[1] = "State";
        cells[2] = "Autostart";
        cells[3] = "Persistent";
        for (char **nm = names; *nm; nm++) {
                bool active = net_active(*nm, NULL);
                if ((active && set[1] && !set[0]) || (!active && !set[0] && !set[1]))
                        continue;
                if (!active && !net_persistent(*nm)) /* a transient one that ended */
                        continue;
                bool autostart = net_autostart(*nm);
                if ((set[3] && !autostart) || (set[4] && autostart))
                        continue;
                if (set[2]) {
                        printf("%s\n", *nm);
                        continue;
                }
                cells[rows * 4] = *nm;
                cells[rows * 4 + 1] = active ? "active" : "inactive";
                cells[rows * 4 + 2] = autostart ? "yes" : "no";
                cells[rows * 4 + 3] = net_persistent(*nm) ? "yes" : "no";
                rows++;
        }
        if (!set[2])
                lvsh_table_print(stdout, cells, 4, rows);
        printf("\n");
        free(cells);
        return 0;
}

static int cmd_net_dumpxml(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"inactive", NULL};
        bool set[1] = {false};
        const char *name;
        _cleanup_network_def_ struct network_def *def = NULL;
        int r = lvsh_args_parse(cmd_find("net-dumpxml"), argc, argv, flags, set, NULL, NULL, &name,
                                err);
        /* as virsh: what it runs with (net-update --live too), or the
         * stored definition with --inactive */
        if (r < 0 || (r = net_load_as(name, !set[0], &def, err)) < 0)
                return r;
        _cleanup_free_ char *xml = network_format(def);
        fputs(xml, stdout);
        return 0;
}

static int cmd_net_info(int argc, char **argv, struct lv_error **err)
{
        const char *name;
        _cleanup_network_def_ struct network_def *def = NULL;
        int r = net_args_load("net-info", argc, argv, NULL, NULL, NULL, NULL, &name, &def, err);
        if (r < 0)
                return r;
        char uuid[37];
        domain_uuid_format(def->uuid, uuid);
        printf("%-15s %s\n", "Name:", def->name);
        printf("%-15s %s\n", "UUID:", uuid);
        printf("%-15s %s\n", "Active:", net_active(name, NULL) ? "yes" : "no");
        printf("%-15s %s\n", "Persistent:", net_persistent(name) ? "yes" : "no");
        printf("%-15s %s\n", "Autostart:", net_autostart(name) ? "yes" : "no");
        if (def->bridge)
                printf("%-15s %s\n", "Bridge:", def->bridge);
        printf("\n");
        return 0;
}

static int cmd_net_autostart(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"disable", NULL};
        bool set[1] = {false};
        const char *name;
        _cleanup_network_def_ struct network_def *def = NULL;
        int r = net_args_load("net-autostart", argc, argv, flags, set, NULL, NULL, &name, &def,
                              err);
        if (r < 0)
                return r;
        if (!net_persistent(name))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "failed to mark network %s as autostarted\nerror: Requested "
                                     "operation is not valid: cannot set autostart for transient "
                                     "network",
                                     name);
        _cleanup_free_ char *link = autostart_link(name);
        if (set[0]) {
                if (unlink(link) < 0 && errno != ENOENT)
                        return lv_error_set(err, errno,
                                            "failed to unmark network %s as "
                                            "autostarted: removing '%s'",
                                            name, link);
                printf("Network %s unmarked as autostarted\n\n", name);
                return 0;
        }
        _cleanup_free_ char *dir = xasprintf("%s/autostart", paths_networkdir());
        _cleanup_free_ char *target = xasprintf("../%s.xml", name);
        if ((r = mkdir_p(dir, 0755, err)) < 0)
                return r;
        if (symlink(target, link) < 0 && errno != EEXIST)
                return lv_error_set(err, errno,
                                    "failed to mark network %s as autostarted: creating '%s'", name,
                                    link);
        printf("Network %s marked as autostarted\n\n", name);
        return 0;
}

/* ---- the network supervisor ---- */

static int run_cleanup(const char *name, struct lv_error **err)
{
        lvsh_environment_absolute();
        _cleanup_free_ char *path = lvsh_binary_path("litevirt-network", "LITEVIRT_NETWORK");
        char *args[] = {"litevirt-network", "--cleanup", (char *)name, NULL};
        pid_t pid;
        int r = posix_spawn(&pid, path, NULL, NULL, args, environ), status;
        if (r != 0)
                return lv_error_set(err, r, "cannot run '%s'", path);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return lv_error_setf(err, EIO, "'%s --cleanup %s' failed", path, name);
        return 0;
}

/* Run NAME's supervisor (extra: its options before NAME, or NULL) and
 * wait for its verdict; errors read "WHAT\nerror: REASON". */
static int net_supervisor_run(const char *name, const char *const *extra, const char *what,
                              struct lv_error **err)
{
        _cleanup_free_ char *path = lvsh_binary_path("litevirt-network", "LITEVIRT_NETWORK");
        char verdict[4096];
        int n = 0, status = 0;
        int r = lvsh_spawn_ready_extra(path, "litevirt-network", extra, name, verdict,
                                       sizeof(verdict), &n, &status);
        if (r < 0)
                return lv_error_set(err, -r, "%s\nerror: cannot run '%s'", what, path);
        if (n >= 2 && streq(verdict, "ok"))
                return 0;
        if (n == -ETIMEDOUT)
                return lv_error_setf(err, ETIMEDOUT,
                                     "%s\nerror: its supervisor did not report within 300 s", what);
        if (n > 0)
                return lv_error_setf(err, EIO, "%s\nerror: %s", what, verdict);
        return lv_error_setf(err, EIO,
                             "%s\nerror: '%s' exited without reporting (see %s/networks/%s.log)",
                             what, path, paths_logdir(), name);
}

/* net-create FILE: a transient network, run from FILE's definition and
 * gone (with its definition) when it stops. */
static int cmd_net_create(int argc, char **argv, struct lv_error **err)
{
        const char *file;
        int r = lvsh_args_parse(cmd_find("net-create"), argc, argv, NULL, NULL, NULL, NULL, &file,
                                err);
        if (r < 0)
                return r;
        _cleanup_free_ char *what = xasprintf("Failed to create network from %s", file);
        const struct conf_xml_ops *xml = conf_xml(err);
        if (!xml)
                return -ENOENT;
        _cleanup_network_def_ struct network_def *def = NULL;
        if ((r = xml->network_parse_file(file, &def, err)) < 0)
                return lv_error_prefix(err, "%s\nerror", what);
        if (net_active(def->name, NULL))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "%s\nerror: Requested operation is not valid: network "
                                     "'%s' is already active",
                                     what, def->name);
        if (net_persistent(def->name))
                return lv_error_setf(err, LV_ERR_EXISTS,
                                     "%s\nerror: network '%s' is already defined: start it "
                                     "with net-start",
                                     what, def->name);
        if ((r = net_check_new(def, what, err)) < 0)
                return r;
        /* its supervisor reads what we checked, from a file of ours */
        _cleanup_free_ char *text = network_format(def);
        _cleanup_(lvsh_temp_removep) char *tmp = NULL;
        if ((r = lvsh_temp_write(text, &tmp, err)) < 0)
                return lv_error_prefix(err, "%s\nerror", what);
        const char *extra[] = {"--definition", tmp, NULL};
        if ((r = net_supervisor_run(def->name, extra, what, err)) < 0)
                return r;
        printf("Network %s created from %s\n\n", def->name, file);
        return 0;
}

static int cmd_net_start(int argc, char **argv, struct lv_error **err)
{
        const char *name;
        _cleanup_network_def_ struct network_def *def = NULL;
        int r = net_args_load("net-start", argc, argv, NULL, NULL, NULL, NULL, &name, &def, err);
        if (r < 0)
                return r;
        if (network_state_active(name, NULL, NULL) == 1)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Failed to start network %s\nerror: Requested operation is "
                                     "not valid: network is already active",
                                     name);
        _cleanup_free_ char *what = xasprintf("Failed to start network %s", name);
        if ((r = net_supervisor_run(name, NULL, what, err)) < 0)
                return r;
        printf("Network %s started\n\n", name);
        return 0;
}

static int net_call(const char *name, const char *method, struct json_object **ret,
                    struct lv_error **err);

int lvsh_network_leases(const char *name, struct json_object **ret, struct lv_error **err)
{
        struct json_object *reply = NULL, *leases = NULL;
        if (network_state_active(name, NULL, NULL) != 1)
                return lv_error_setf(err, LV_ERR_STATE, "network '%s' is not active", name);
        int r = net_call(name, "io.litevirt.Network.GetLeases", &reply, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(reply, "leases", &leases) ||
            !json_object_is_type(leases, json_type_array)) {
                json_object_put(reply);
                return lv_error_setf(err, LV_ERR_PROTOCOL, "network '%s': malformed leases reply",
                                     name);
        }
        *ret = json_object_get(leases);
        json_object_put(reply);
        return 0;
}

static int net_call(const char *name, const char *method, struct json_object **ret,
                    struct lv_error **err)
{
        _cleanup_free_ char *sock = paths_network_state_file(name, "control.sock");
        lv_conn *c = NULL;
        lv_client_error *ce = NULL;
        int r = lv_connect_path(sock, &c, &ce);
        if (r == 0) {
                r = lv_call(c, method, NULL, ret, &ce);
                lv_disconnect(c);
        }
        if (r < 0)
                return lvsh_error_from_client(err, ce);
        return 0;
}

static int not_active(const char *what, const char *name, struct lv_error **err)
{
        return lv_error_setf(err, LV_ERR_STATE,
                             "%s %s\nerror: Requested operation is not valid: network is not "
                             "active",
                             what, name);
}

static int cmd_net_destroy(int argc, char **argv, struct lv_error **err)
{
        const char *name;
        _cleanup_network_def_ struct network_def *def = NULL;
        int r = net_args_load("net-destroy", argc, argv, NULL, NULL, NULL, NULL, &name, &def, err);
        if (r < 0)
                return r;
        pid_t pid = 0;
        if (!net_active(name, &pid) || pid <= 0)
                return not_active("Failed to destroy network", name, err);
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if ((r = net_call(name, "io.litevirt.Network.Stop", NULL, err)) < 0)
                return lv_error_prefix(err, "Failed to destroy network %s\nerror", name);
        /* done when the supervisor has removed everything and exited */
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        while (pidfd >= 0 && poll(&p, 1, 60 * 1000) < 0 && errno == EINTR)
                ;
        printf("Network %s destroyed\n\n", name);
        return 0;
}

static int cmd_net_dhcp_leases(int argc, char **argv, struct lv_error **err)
{
        static const char *const valued[] = {"mac", NULL};
        const char *values[1] = {NULL};
        const char *name;
        _cleanup_network_def_ struct network_def *def = NULL;
        int r = net_args_load("net-dhcp-leases", argc, argv, NULL, NULL, valued, values, &name,
                              &def, err);
        if (r < 0)
                return r;
        if (!net_active(name, NULL))
                return not_active("Failed to get leases info for", name, err);
        struct json_object *leases = NULL;
        if ((r = lvsh_network_leases(name, &leases, err)) < 0)
                return r;
        size_t n = leases ? json_object_array_length(leases) : 0;
        const char **cells = xcalloc((n + 1) * 6, sizeof(char *));
        char **owned = xcalloc(n * 3 + 1, sizeof(char *));
        static const char *const head[] = {"Expiry Time", "MAC address", "Protocol",
                                           "IP address",  "Hostname",    "Client ID or DUID"};
        memcpy(cells, head, sizeof(head));
        size_t rows = 1, k = 0;
        for (size_t i = 0; i < n; i++) {
                struct json_object *l = json_object_array_get_idx(leases, i), *v;
#define STR(key) (json_object_object_get_ex(l, key, &v) ? json_object_get_string(v) : "-")
                if (values[0] && strcasecmp(values[0], STR("mac")) != 0)
                        continue;
                time_t t = json_object_object_get_ex(l, "expirytime", &v)
                                   ? (time_t)json_object_get_int64(v)
                                   : 0;
                struct tm tm;
                char when[32];
                localtime_r(&t, &tm);
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
                owned[k] = xstrdup(when);
                cells[rows * 6] = owned[k++];
                cells[rows * 6 + 1] = STR("mac");
                cells[rows * 6 + 2] = STR("type");
                owned[k] = xasprintf(
                        "%s/%d", STR("ipaddr"),
                        json_object_object_get_ex(l, "prefix", &v) ? json_object_get_int(v) : 0);
                cells[rows * 6 + 3] = owned[k++];
                cells[rows * 6 + 4] = STR("hostname");
                cells[rows * 6 + 5] = STR("clientid");
#undef STR
                rows++;
        }
        lvsh_table_print(stdout, cells, 6, rows);
        printf("\n");
        for (size_t i = 0; i < k; i++)
                free(owned[i]);
        free(owned);
        free(cells);
        json_object_put(leases);
        return 0;
}

/* --live: the running network's supervisor parses the same fragment and
 * makes the change (network/main.c). */
static int update_live(const char *name, const char *command, const char *section, const char *xml,
                       int parent_index, struct lv_error **err)
{
        _cleanup_free_ char *sock = paths_network_state_file(name, "control.sock");
        lv_conn *c = NULL;
        lv_client_error *ce = NULL;
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "command", json_object_new_string(command));
        json_object_object_add(p, "section", json_object_new_string(section));
        json_object_object_add(p, "xml", json_object_new_string(xml));
        if (parent_index >= 0)
                json_object_object_add(p, "parentIndex", json_object_new_int(parent_index));
        int r = lv_connect_path(sock, &c, &ce);
        if (r == 0) {
                r = lv_call(c, "io.litevirt.Network.Update", p, NULL, &ce);
                lv_disconnect(c);
        }
        json_object_put(p);
        return r < 0 ? lvsh_error_from_client(err, ce) : 0;
}

/* virsh net-update NAME COMMAND SECTION XML [--parent-index N]
 * [--live] [--config] [--current] */
static int cmd_net_update(int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = cmd_find("net-update");
        const char *pos[4];
        int npos = 0, parent_index = -1;
        bool live = false, config = false;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--live"))
                        live = true;
                else if (streq(argv[i], "--config"))
                        config = true;
                else if (streq(argv[i], "--current"))
                        ;
                else if (streq(argv[i], "--parent-index")) {
                        char *end = NULL;
                        long v = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : -1;
                        if (!end || *end || v < 0 || v > 1024)
                                return lvsh_usage_error(cmd, err,
                                                        "--parent-index needs a number 0..1024");
                        parent_index = (int)v;
                        i++;
                } else if (startswith(argv[i], "--"))
                        return lvsh_usage_error(cmd, err, "unknown option '%s'", argv[i]);
                else if (npos < 4)
                        pos[npos++] = argv[i];
                else
                        return lvsh_usage_error(cmd, err, "unexpected argument '%s'", argv[i]);
        }
        if (npos != 4)
                return lvsh_usage_error(cmd, err, "expected NAME COMMAND SECTION XML");
        const char *name = pos[0], *command = pos[1], *section = pos[2], *xml = pos[3];
        int ucmd = network_update_command_from_string(command, err);
        if (ucmd < 0)
                return -EINVAL;
        int sec = network_update_section_from_string(section, err);
        if (sec < 0)
                return lv_error_prefix(err, "Failed to update network %s\nerror", name);
        _cleanup_network_def_ struct network_def *def = NULL;
        int r = net_load(name, &def, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *fxml = NULL;
        if (xml[0] != '<') { /* virsh takes a file as well */
                if ((r = file_read_bounded(xml, 64 * 1024, &fxml, NULL, err)) < 0)
                        return r;
                xml = fxml;
        }
        const struct conf_xml_ops *x = conf_xml(err);
        if (!x)
                return -ENOENT;
        struct network_update u = {.section = -1};
        if ((r = x->network_update_parse_string(sec, ucmd, xml, strlen(xml), &u, err)) < 0)
                return lv_error_prefix(err, "Failed to update network %s\nerror", name);
        bool active = net_active(name, NULL);
        if (!live && !config) /* --current */
                live = active, config = !active;
        if (live && !active)
                r = not_active("Failed to update network", name, err);
        if (r >= 0 && config && !net_persistent(name))
                r = lv_error_setf(err, LV_ERR_STATE,
                                  "Requested operation is not valid: cannot change persistent "
                                  "config of a transient network");
        /* the definition first: a refused change touches nothing live */
        if (r >= 0 && config && (r = network_def_update(def, ucmd, parent_index, &u, err)) >= 0)
                r = net_store(def, err);
        network_update_clear(&u);
        if (r >= 0 && live)
                r = update_live(name, command, section, xml, parent_index, err);
        if (r < 0)
                return lv_error_prefix(err, "Failed to update network %s\nerror", name);
        printf("Updated network %s %s\n\n", name,
               live && config ? "persistent config and live state"
               : live         ? "live state"
                              : "persistent config");
        return 0;
}

const struct lvsh_command lvsh_network_commands[] = {
        {"net-define", "FILE", "define a persistent virtual network from an XML file",
         "    Validates the network XML (unsupported parts are refused by name and\n"
         "    line) and stores it in $LITEVIRT_NETWORKDIR (default\n"
         "    /etc/litevirt/networks). A missing bridge name (virbrN) and MAC are\n"
         "    assigned, as libvirt does.",
         cmd_net_define},
        {"net-undefine", "NAME", "undefine an inactive network", NULL, cmd_net_undefine},
        {"net-create", "FILE", "create a network from an XML file",
         "    Starts a transient network from FILE (checked as net-define checks\n"
         "    it): it runs with that definition, which is not stored and goes\n"
         "    when the network is destroyed.",
         cmd_net_create},
        {"net-edit", "NAME", "edit XML configuration for a network",
         "    Opens the network's stored definition in $VISUAL, $EDITOR or vi; the\n"
         "    saved file is checked as net-define checks it and stored, nothing\n"
         "    until it is valid (virsh's loop: on a terminal y edits again, n\n"
         "    throws the changes away, f tries the same text again). A running\n"
         "    network keeps its running definition until it is started again.",
         cmd_net_edit},
        {"net-list", "[--all] [--inactive] [--autostart] [--no-autostart] [--name]",
         "list networks",
         "    Active networks; --all adds the inactive ones, --inactive lists only\n"
         "    those; --autostart / --no-autostart only those marked / not marked\n"
         "    with net-autostart; --name prints the names only.",
         cmd_net_list},
        {"net-dumpxml", "NAME [--inactive]", "network information in XML", NULL, cmd_net_dumpxml},
        {"net-info", "NAME", "network information", NULL, cmd_net_info},
        {"net-autostart", "NAME [--disable]", "autostart a network",
         "    Marks the network ($LITEVIRT_NETWORKDIR/autostart/NAME.xml), as virsh.\n"
         "    At boot `litevirt-guests start` (or litevirt-guests.service, before\n"
         "    the guests' units) starts the marked networks.",
         cmd_net_autostart},
        {"net-start", "NAME", "start a (previously defined) inactive network",
         "    Runs the network's supervisor (litevirt-network): bridge, nftables\n"
         "    table, dnsmasq. Returns once the network is up, or with its error.",
         cmd_net_start},
        {"net-destroy", "NAME", "destroy (stop) a network",
         "    Stops the network's supervisor, which removes the bridge, its nftables\n"
         "    table, dnsmasq and the lease files.",
         cmd_net_destroy},
        {"net-dhcp-leases", "NAME [--mac MAC]", "print lease info for a given network", NULL,
         cmd_net_dhcp_leases},
        {"net-update",
         "NAME COMMAND SECTION XML [--parent-index N] [--live] [--config] [--current]",
         "update parts of an existing network's configuration",
         "    COMMAND: add (add-last), add-first, delete, modify. SECTION and its\n"
         "    element (XML or a file holding it):\n"
         "      ip-dhcp-host       <host mac= name= ip=/> (modify: the entry of that MAC)\n"
         "      ip-dhcp-range      <range start= end=/>\n"
         "      forward-interface  <interface dev=/>\n"
         "      dns-host           <host ip=><hostname>NAME</hostname></host>\n"
         "      dns-txt            <txt name= value=/>\n"
         "      dns-srv            <srv service= protocol= [domain= target= port=\n"
         "                         priority= weight=]/>\n"
         "    --parent-index N picks the <ip> of the ip-dhcp-* sections. --config\n"
         "    changes the definition, --live the running network (dnsmasq re-reads\n"
         "    its hosts, or restarts for ranges and records; the firewall table is\n"
         "    replaced for a forward interface); --current (the default) the live\n"
         "    network if it is active, else the definition.",
         cmd_net_update},
        {NULL, NULL, NULL, NULL, NULL},
};

static const struct lvsh_command *cmd_find(const char *name)
{
        for (const struct lvsh_command *c = lvsh_network_commands; c->name; c++)
                if (streq(c->name, name))
                        return c;
        return NULL;
}
