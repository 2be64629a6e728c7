/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh's network commands, as virsh prints them: domiflist (the
 * definition's interfaces, with the live host-side names of a running
 * guest), domifaddr (addresses as the guest sees them), domifstat (an
 * interface's counters, from its host-side link) and domif-cleanup
 * (remove links a killed supervisor left behind).
 *
 * Built twice. Within lvsh (LVSH_NET_EXEC) these commands only exec
 * lvsh-net, the same lvsh linked with libnl, so that no other lvsh call
 * maps libnl (docs/performance.md); lvsh-net runs them for real. */
#include "litevirt/litevirt.h"
#include "tools/lvsh.h"

#ifdef LVSH_NET_EXEC
#include <libgen.h>
#include <limits.h>

#include "config.h"

/* lvsh-net next to the running lvsh (build tree), else in LV_MODULEDIR. */
static int run_net_helper(int argc, char **argv, struct lv_error **err)
{
        _cleanup_free_ char *path = NULL;
        const char *env = getenv("LITEVIRT_LVSH_NET");
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (env && *env) {
                path = xstrdup(env);
        } else if (n > 0) {
                exe[n] = '\0';
                path = xasprintf("%s/lvsh-net", dirname(exe));
                if (access(path, X_OK) < 0)
                        free(TAKE_PTR(path));
        }
        if (!path)
                path = xasprintf("%s/lvsh-net", LV_MODULEDIR);
        char **args = xcalloc((size_t)argc + 2, sizeof(char *));
        args[0] = "lvsh";
        for (int i = 0; i < argc; i++)
                args[i + 1] = argv[i];
        fflush(NULL);
        execv(path, args);
        int e = errno;
        free(args);
        return lv_error_set(err, e, "cannot run '%s'", path);
}
#define cmd_domiflist     run_net_helper
#define cmd_domifaddr     run_net_helper
#define cmd_domif_cleanup run_net_helper
#define cmd_domifstat     run_net_helper
#else
#include <json-c/json.h>

#include "netns/guest_net.h"
#include "tools/lvsh-common.h"
#include "tools/lvsh-list.h"
#include "tools/lvsh-network.h"

static const struct lvsh_command *cmd_find(const char *name);

/* The host-side names of a running guest's links, found by their alias
 * in lvsh's own namespace (the supervisor's). names[i] "" when none. */
static void live_host_names(const struct domain_def *def, char (*names)[IFNAMSIZ])
{
        for (int i = 0; i < def->n_nets; i++)
                names[i][0] = '\0';
        if (!lvsh_guest_running(def->name, NULL))
                return;
        _cleanup_nl_ struct netns_nl *nl = NULL;
        if (netns_nl_open(&nl, NULL) < 0)
                return;
        (void)netns_guest_host_links(nl, def->uuid, def->n_nets, names, NULL);
}

static int cmd_domiflist(int argc, char **argv, struct lv_error **err)
{
        const char *name = NULL;
        static const char *const flags[] = {"inactive", NULL};
        bool set[1] = {false};
        int r = lvsh_args_parse(cmd_find("domiflist"), argc, argv, flags, set, NULL, NULL, &name,
                                err);
        if (r < 0)
                return r;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        /* a running guest's interfaces are its running definition's (a
         * hot-plugged one is there only) */
        if (set[0] || lvsh_guest_load_running(name, &def, NULL) < 0)
                r = lvsh_guest_load(name, &def, err);
        if (r < 0)
                return r;
        int n = def->n_nets;
        _cleanup_free_ char(*names)[IFNAMSIZ] = xcalloc((size_t)n + 1, IFNAMSIZ);
        if (!set[0])
                live_host_names(def, names);
        size_t ncols = 5;
        _cleanup_free_ const char **cells = xcalloc(((size_t)n + 1) * ncols, sizeof(char *));
        static const char *const header[] = {"Interface", "Type", "Source", "Model", "MAC"};
        memcpy(cells, header, sizeof(header));
        for (int i = 0; i < n; i++) {
                const struct domain_net *net = &def->nets[i];
                const char **row = cells + (size_t)(i + 1) * ncols;
                row[0] = names[i][0] ? names[i] : net->target_dev ? net->target_dev : "-";
                row[1] = domain_net_type_to_string(net->type);
                row[2] = net->source ? net->source : "-";
                row[3] = net->model ? net->model : "-";
                row[4] = net->mac ? net->mac : "-";
        }
        lvsh_table_print(stdout, cells, ncols, (size_t)n + 1);
        printf("\n");
        return 0;
}

struct ifaddr_row {
        char name[IFNAMSIZ];
        char mac[NETNS_MAC_STRLEN];
        struct netns_addr *addrs;
        size_t n;
};

struct ifaddr_query {
        const struct domain_def *def;
        struct ifaddr_row *rows;
        int n_rows;
};

/* Runs inside the container's network namespace. */
static int ifaddr_collect(void *data, struct lv_error **err)
{
        struct ifaddr_query *q = data;
        _cleanup_nl_ struct netns_nl *nl = NULL;
        int r = netns_nl_open(&nl, err);
        if (r < 0)
                return r;
        for (int i = 0; i < q->def->n_nets; i++) {
                struct ifaddr_row *row = &q->rows[q->n_rows];
                netns_guest_guest_name(q->def, i, row->name);
                struct netns_link_info info;
                if (netns_link_get(nl, row->name, &info, NULL) < 0)
                        continue;
                netns_mac_format(info.mac, row->mac);
                r = netns_addr_list(nl, row->name, &row->addrs, &row->n, err);
                if (r < 0)
                        return r;
                q->n_rows++;
        }
        return 0;
}

/* virsh domifaddr --source lease: for each interface on a network, the
 * leases of its MAC in that network's dnsmasq. Any guest type. */
static int domifaddr_lease(const struct domain_def *def, const char *only, struct lv_error **err)
{
        printf(" %-10s %-20s %-8s     %s\n%s%s\n", "Name", "MAC address", "Protocol", "Address",
               "-------------------------------------------------",
               "------------------------------");
        for (int i = 0; i < def->n_nets; i++) {
                const struct domain_net *n = &def->nets[i];
                const char *ifname = n->target_dev ? n->target_dev : "-";
                if (n->type != DOMAIN_NET_NETWORK || !n->source || !n->mac ||
                    (only && !streq(only, ifname)))
                        continue;
                struct json_object *leases = NULL;
                _cleanup_error_ struct lv_error *e = NULL;
                if (lvsh_network_leases(n->source, &leases, &e) < 0)
                        continue; /* an inactive network has no leases, as virsh */
                for (size_t k = 0; k < json_object_array_length(leases); k++) {
                        struct json_object *l = json_object_array_get_idx(leases, k), *v;
                        const char *mac = json_object_object_get_ex(l, "mac", &v)
                                                  ? json_object_get_string(v)
                                                  : "";
                        if (strcasecmp(mac, n->mac) != 0)
                                continue;
                        const char *type = json_object_object_get_ex(l, "type", &v)
                                                   ? json_object_get_string(v)
                                                   : "ipv4";
                        const char *ip = json_object_object_get_ex(l, "ipaddr", &v)
                                                 ? json_object_get_string(v)
                                                 : "";
                        int prefix = json_object_object_get_ex(l, "prefix", &v)
                                             ? json_object_get_int(v)
                                             : 0;
                        printf(" %-10s %-17s    %-12s %s/%d\n", ifname, n->mac, type, ip, prefix);
                }
                json_object_put(leases);
        }
        printf("\n");
        return 0;
}

static int cmd_domifaddr(int argc, char **argv, struct lv_error **err)
{
        const char *name = NULL;
        static const char *const flags[] = {"full", NULL};
        static const char *const valued[] = {"interface", "source", NULL};
        bool set[1] = {false};
        const char *values[2] = {NULL, NULL};
        int r = lvsh_args_parse(cmd_find("domifaddr"), argc, argv, flags, set, valued, values,
                                &name, err);
        if (r < 0)
                return r;
        if (values[1] && !streq(values[1], "agent") && !streq(values[1], "lease") &&
            !streq(values[1], "arp"))
                return lv_error_setf(err, EINVAL, "Unknown data source '%s'", values[1]);
        _cleanup_domain_def_ struct domain_def *def = NULL;
        r = lvsh_guest_load(name, &def, err);
        if (r < 0)
                return r;
        if (values[1] && streq(values[1], "lease"))
                return domifaddr_lease(def, values[0], err);
        if (values[1] && streq(values[1], "agent") && def->type != DOMAIN_TYPE_LXC)
                return lvsh_agent_domifaddr(name, values[0], set[0], err);
        if (def->type != DOMAIN_TYPE_LXC)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "domain '%s': interface addresses of a VM come from its "
                                     "QEMU guest agent (--source agent) or DHCP leases "
                                     "(--source lease)",
                                     name);
        lv_client_error *ce = NULL;
        lv_guest_status st;
        r = lv_guest_status_read(name, &st, &ce);
        if (r < 0 || st.pid <= 0) {
                lv_client_error_free(ce);
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain '%s' is not "
                                     "running",
                                     name);
        }
        _cleanup_close_ int nsfd = netns_open_pid(st.pid, err);
        if (nsfd < 0)
                return lv_error_prefix(err, "domain '%s'", name);
        struct ifaddr_query q = {.def = def};
        q.rows = xcalloc((size_t)def->n_nets + 1, sizeof(*q.rows));
        r = netns_run_in(nsfd, ifaddr_collect, &q, err);
        if (r >= 0) {
                printf(" %-10s %-20s %-8s     %s\n%s%s\n", "Name", "MAC address", "Protocol",
                       "Address", "-------------------------------------------------",
                       "------------------------------");
                for (int i = 0; i < q.n_rows; i++) {
                        const struct ifaddr_row *row = &q.rows[i];
                        if (values[0] && !streq(values[0], row->name))
                                continue;
                        if (row->n == 0) {
                                printf(" %-10s %-17s    %-12s %s\n", row->name, row->mac, "N/A",
                                       "N/A");
                                continue;
                        }
                        for (size_t j = 0; j < row->n; j++) {
                                const struct netns_addr *a = &row->addrs[j];
                                bool first = set[0] || j == 0;
                                printf(" %-10s %-17s    %-12s %s/%d\n", first ? row->name : "-",
                                       first ? row->mac : "-",
                                       a->family == AF_INET ? "ipv4" : "ipv6", a->address,
                                       a->prefix);
                        }
                }
                printf("\n");
        }
        for (int i = 0; i < def->n_nets; i++)
                free(q.rows[i].addrs);
        free(q.rows);
        return r < 0 ? lv_error_prefix(err, "domain '%s'", name) : 0;
}

static int cmd_domif_cleanup(int argc, char **argv, struct lv_error **err)
{
        const char *name = NULL;
        int r = lvsh_args_parse(cmd_find("domif-cleanup"), argc, argv, NULL, NULL, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        r = lvsh_guest_load(name, &def, err);
        if (r < 0)
                return r;
        if (lvsh_guest_running(name, NULL))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain '%s' has a "
                                     "supervisor; its links are in use",
                                     name);
        _cleanup_nl_ struct netns_nl *nl = NULL;
        r = netns_nl_open(&nl, err);
        if (r < 0)
                return r;
        r = netns_guest_cleanup(nl, def->uuid, err);
        if (r < 0)
                return lv_error_prefix(err, "domain '%s'", name);
        printf("Domain '%s': %d leftover link(s) removed\n\n", name, r);
        return 0;
}
/* The interface IF of a running guest (its host-side link's name, its
 * <target dev> or its MAC) and the counters of its host-side link,
 * swapped as libvirt does for a tap or veth: what the host end sends,
 * the guest receives. */
static int cmd_domifstat(int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = cmd_find("domifstat");
        const char *pos[2];
        int npos = 0;
        int r = lvsh_args_split(cmd, argc, argv, NULL, NULL, pos, 2, &npos, err);
        if (r < 0)
                return r;
        if (npos != 2)
                return lvsh_usage_error(cmd, err, "expected a domain NAME and an interface");
        const char *name = pos[0], *ifname = pos[1];
        if (!lvsh_guest_exists(name))
                return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'", name);
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if (!lvsh_guest_running(name, NULL) || lvsh_guest_load_running(name, &def, NULL) < 0)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain is not running");
        int n = def->n_nets;
        _cleanup_free_ char(*names)[IFNAMSIZ] = xcalloc((size_t)n + 1, IFNAMSIZ);
        _cleanup_nl_ struct netns_nl *nl = NULL;
        if ((r = netns_nl_open(&nl, err)) < 0 ||
            (r = netns_guest_host_links(nl, def->uuid, n, names, err)) < 0)
                return lv_error_prefix(err, "domain '%s'", name);
        int i = 0;
        for (; i < n; i++) {
                const struct domain_net *net = &def->nets[i];
                if (streq(names[i], ifname) ||
                    (net->target_dev && streq(net->target_dev, ifname)) ||
                    (net->mac && !strcasecmp(net->mac, ifname)))
                        break;
        }
        if (i == n)
                return lv_error_setf(err, EINVAL,
                                     "invalid argument: invalid path, '%s' is not a known "
                                     "interface",
                                     ifname);
        if (!names[i][0])
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "domain '%s': interface '%s' (type %s) has no host-side "
                                     "link to count on",
                                     name, ifname, domain_net_type_to_string(def->nets[i].type));
        struct netns_link_stats st;
        if ((r = netns_link_stats_get(nl, names[i], &st, err)) < 0)
                return lv_error_prefix(err, "domain '%s'", name);
        const struct {
                const char *field;
                unsigned long long v;
        } rows[] = {
                {"rx_bytes", st.tx_bytes}, {"rx_packets", st.tx_packets},
                {"rx_errs", st.tx_errs},   {"rx_drop", st.tx_drop},
                {"tx_bytes", st.rx_bytes}, {"tx_packets", st.rx_packets},
                {"tx_errs", st.rx_errs},   {"tx_drop", st.rx_drop},
        };
        for (size_t k = 0; k < ARRAY_SIZE(rows); k++)
                printf("%s %s %llu\n", ifname, rows[k].field, rows[k].v);
        printf("\n");
        return 0;
}
#endif /* LVSH_NET_EXEC */

const struct lvsh_command lvsh_net_commands[] = {
        {"domiflist", "NAME [--inactive]", "list all domain virtual interfaces",
         "    The definition's interfaces; for a running guest, Interface is the\n"
         "    live host-side link (veth end or tap). --inactive shows the\n"
         "    definition only.",
         cmd_domiflist},
        {"domifaddr", "NAME [--interface NAME] [--full] [--source lease|agent|arp]",
         "Get network interfaces' addresses for a running domain",
         "    For a container, the addresses its interfaces have, read inside\n"
         "    its network namespace (every --source gives the same: what the\n"
         "    guest's kernel has). For a VM, --source agent asks its QEMU guest\n"
         "    agent (guest-network-get-interfaces).",
         cmd_domifaddr},
        {"domif-cleanup", "NAME", "remove network links left over by a guest's killed supervisor",
         "    Removes the host links marked as NAME's (ifalias\n"
         "    litevirt:<uuid>:<n>) when NAME has no supervisor; nothing else.",
         cmd_domif_cleanup},
        {"domifstat", "NAME INTERFACE", "get network interface stats for a domain",
         "    INTERFACE is the host-side link (domiflist's Interface), its <target\n"
         "    dev> or its MAC. The counters are the guest's view, as virsh's:\n"
         "    the host-side tap's or veth end's, rx and tx swapped.",
         cmd_domifstat},
        {0},
};

#ifndef LVSH_NET_EXEC
static const struct lvsh_command *cmd_find(const char *name)
{
        for (const struct lvsh_command *c = lvsh_net_commands; c->name; c++)
                if (streq(c->name, name))
                        return c;
        abort();
}
#endif
