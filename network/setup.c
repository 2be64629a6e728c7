/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Making and removing a network: the bridge (libnl), IP forwarding, the
 * nftables table and dnsmasq. Each step that makes something records it
 * in struct network_run, and network_run_teardown() removes exactly what
 * was made, in reverse. network_run_cleanup_stale() does the same for a
 * supervisor that died, from what its status.json recorded. */
#include <json-c/json.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "litevirt/litevirt.h"
#include "netns/netns.h"
#include "network/setup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/paths.h"

static char *bridge_alias(const struct network_def *def)
{
        char uuid[37];
        domain_uuid_format(def->uuid, uuid);
        return xasprintf(NETWORK_ALIAS_PREFIX "%s", uuid);
}

/* Write a sysctl of the network's namespace (/proc/sys is per netns). */
static int sysctl_set(const char *path, const char *value, struct lv_error **err)
{
        _cleanup_free_ char *cur = NULL;
        _cleanup_error_ struct lv_error *e = NULL;
        if (file_read_bounded(path, 64, &cur, NULL, &e) == 0 && startswith(cur, value))
                return 0;
        log_info("setting %s to %s (the network forwards)", path, value);
        return file_write_string(path, value, err);
}

static int bridge_make(struct network_run *run, struct lv_error **err)
{
        const struct network_def *def = run->def;
        int r;
        if ((r = netns_nl_open(&run->nl, err)) < 0)
                return r;
        if ((r = netns_bridge_create(run->nl, def->bridge, err)) < 0)
                return lv_error_prefix(err, "network '%s'", def->name);
        struct netns_link_info info;
        if ((r = netns_link_get(run->nl, def->bridge, &info, err)) < 0)
                return r;
        run->bridge_ifindex = info.ifindex;
        _cleanup_free_ char *alias = bridge_alias(def);
        unsigned char mac[NETNS_MAC_LEN];
        if ((r = netns_link_set_alias(run->nl, def->bridge, alias, err)) < 0)
                return r;
        if (def->mac && ((r = netns_mac_parse(def->mac, mac, err)) < 0 ||
                         (r = netns_link_set_mac(run->nl, def->bridge, mac, err)) < 0))
                return r;
        if ((def->stp >= 0 || def->delay >= 0) &&
            (r = netns_bridge_set_stp(run->nl, def->bridge, def->stp != 0, def->delay, err)) < 0)
                return r;
        if (def->mtu && (r = netns_link_set_mtu(run->nl, def->bridge, def->mtu, err)) < 0)
                return r;
        /* full checksums in what the host sends on the bridge (netns.h) */
        if ((r = netns_link_set_tx_checksum(def->bridge, false, err)) < 0)
                return r;
        for (int i = 0; i < def->n_ips; i++) {
                const struct network_ip *ip = &def->ips[i];
                if ((r = netns_addr_add(run->nl, def->bridge, ip->address, network_ip_prefix(ip),
                                        NULL, err)) < 0)
                        return lv_error_prefix(err, "network '%s'", def->name);
        }
        return netns_link_set_up(run->nl, def->bridge, true, err);
}

static int forwarding_enable(const struct network_def *def, struct lv_error **err)
{
        if (def->forward == NETWORK_FORWARD_NONE || def->forward == NETWORK_FORWARD_BRIDGE)
                return 0;
        int r = 0;
        bool v4 = false, v6 = false;
        for (int i = 0; i < def->n_ips; i++)
                *(def->ips[i].ipv6 ? &v6 : &v4) = true;
        if (v4 && (r = sysctl_set("/proc/sys/net/ipv4/ip_forward", "1", err)) < 0)
                return r;
        if (v6 && (r = sysctl_set("/proc/sys/net/ipv6/conf/all/forwarding", "1", err)) < 0)
                return r;
        return 0;
}

static int files_write(struct network_run *run, struct lv_error **err)
{
        const struct network_def *def = run->def;
        _cleanup_free_ char *conf = network_dnsmasq_conf(def, run->statedir);
        _cleanup_free_ char *hosts = network_dnsmasq_hostsfile(def);
        _cleanup_free_ char *addn = network_dnsmasq_addnhosts(def);
        _cleanup_free_ char *p1 = xasprintf("%s/dnsmasq.conf", run->statedir);
        _cleanup_free_ char *p2 = xasprintf("%s/%s.hostsfile", run->statedir, def->name);
        _cleanup_free_ char *p3 = xasprintf("%s/%s.addnhosts", run->statedir, def->name);
        int r;
        if ((r = file_write_replace(p1, conf, strlen(conf), 0644, err)) < 0 ||
            (r = file_write_replace(p2, hosts, strlen(hosts), 0644, err)) < 0 ||
            (r = file_write_replace(p3, addn, strlen(addn), 0644, err)) < 0)
                return r;
        return 0;
}

static int dnsmasq_start(struct network_run *run, int log_fd, struct lv_error **err)
{
        _cleanup_free_ char *conf = xasprintf("--conf-file=%s/dnsmasq.conf", run->statedir);
        _cleanup_free_ char *pidfile = xasprintf("--pid-file=%s/dnsmasq.pid", run->statedir);
        const char *bin = getenv("LITEVIRT_DNSMASQ");
        if (!bin || !*bin)
                bin = access("/usr/sbin/dnsmasq", X_OK) == 0 ? "/usr/sbin/dnsmasq" : "dnsmasq";
        char *argv[] = {"dnsmasq", conf, pidfile, "--keep-in-foreground", "--log-facility=-", NULL};
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (log_fd >= 0) {
                posix_spawn_file_actions_adddup2(&fa, log_fd, 1);
                posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
        }
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        /* not our blocked signals (the loop's signalfd): SIGTERM must stop it */
        posix_spawnattr_t attr;
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        pid_t pid;
        int r = posix_spawnp(&pid, bin, &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r != 0)
                return lv_error_set(err, r, "network '%s': cannot run '%s'", run->def->name, bin);
        run->dnsmasq_pid = pid;
        run->dnsmasq_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (run->dnsmasq_pidfd < 0)
                return lv_error_set(err, errno, "pidfd_open(dnsmasq %d)", (int)pid);
        log_info("dnsmasq started (pid %d)", (int)pid);
        return 0;
}

/* The definition the network runs with, for lvsh (net-dumpxml, a
 * transient network's every command) and a later --cleanup. */
static int running_xml_write(struct network_run *run, struct lv_error **err)
{
        _cleanup_free_ char *xml = network_format(run->def);
        _cleanup_free_ char *path = xasprintf("%s/%s", run->statedir, NETWORK_RUNNING_XML);
        return file_write_replace(path, xml, strlen(xml), 0600, err);
}

static int status_write(struct network_run *run, struct lv_error **err)
{
        char uuid[37];
        domain_uuid_format(run->def->uuid, uuid);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "pid", json_object_new_int(getpid()));
        json_object_object_add(o, "uuid", json_object_new_string(uuid));
        if (network_def_makes_bridge(run->def) || run->def->bridge)
                json_object_object_add(o, "bridge", json_object_new_string(run->def->bridge));
        if (run->nft_table)
                json_object_object_add(o, "nft_table", json_object_new_string(run->nft_table));
        if (run->dnsmasq_pid > 0) {
                json_object_object_add(o, "dnsmasq_pid", json_object_new_int(run->dnsmasq_pid));
                json_object_object_add(
                        o, "dnsmasq_starttime",
                        json_object_new_int64((int64_t)lv_proc_starttime(run->dnsmasq_pid)));
        }
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        _cleanup_free_ char *path = xasprintf("%s/status.json", run->statedir);
        int r = file_write_replace(path, s, strlen(s), 0644, err);
        json_object_put(o);
        return r;
}

int network_run_setup(struct network_run *run, int log_fd, struct lv_error **err)
{
        const struct network_def *def = run->def;
        int r;
        if (network_def_makes_bridge(def)) {
                if ((r = bridge_make(run, err)) < 0)
                        return r;
                if ((r = forwarding_enable(def, err)) < 0)
                        return lv_error_prefix(err, "network '%s'", def->name);
        } else {
                /* forward mode bridge: the host's bridge must exist */
                if ((r = netns_nl_open(&run->nl, err)) < 0 ||
                    (r = netns_bridge_check(run->nl, def->bridge, err)) < 0)
                        return lv_error_prefix(err, "network '%s'", def->name);
        }
        _cleanup_free_ char *rules = network_nft_ruleset(def);
        if (rules) {
                run->nft_table = network_nft_table(def);
                /* a table of that name is ours by its name: one left by a
                 * dead run of this bridge goes first */
                if ((r = network_nft_delete(run->nft_table, err)) < 0 ||
                    (r = network_nft_apply(rules, err)) < 0) {
                        free(TAKE_PTR(run->nft_table));
                        return lv_error_prefix(err, "network '%s'", def->name);
                }
        }
        if (network_dnsmasq_wanted(def)) {
                if ((r = files_write(run, err)) < 0 || (r = dnsmasq_start(run, log_fd, err)) < 0)
                        return r;
        }
        if ((r = running_xml_write(run, err)) < 0)
                return r;
        return status_write(run, err);
}

/* dnsmasq re-reads its dhcp-hostsfile and addn-hosts on SIGHUP (the conf
 * always names both), as with libvirt's net-update */
static int dnsmasq_reload(struct network_run *run, struct lv_error **err)
{
        if (run->dnsmasq_pid <= 0)
                return 0;
        int r = files_write(run, err);
        if (r < 0)
                return r;
        if (kill(run->dnsmasq_pid, SIGHUP) < 0)
                return lv_error_set(err, errno, "signalling dnsmasq (pid %d)",
                                    (int)run->dnsmasq_pid);
        return 0;
}

static void dnsmasq_stop(pid_t pid, int pidfd)
{
        if (pid <= 0)
                return;
        (void)kill(pid, SIGTERM);
        /* our child: wait for it (dnsmasq exits on SIGTERM at once) */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        if (pidfd >= 0)
                close(pidfd);
}

/* The nftables table again, replaced in one transaction (the old one's
 * rules stay until the new ones are in). */
static int firewall_reload(struct network_run *run, struct lv_error **err)
{
        _cleanup_free_ char *rules = network_nft_ruleset(run->def);
        if (!rules || !run->nft_table)
                return 0;
        _cleanup_free_ char *script = xasprintf("table inet %s\ndelete table inet %s\n%s",
                                                run->nft_table, run->nft_table, rules);
        return network_nft_apply(script, err);
}

int network_run_update(struct network_run *run, int command, int parent_index,
                       const struct network_update *u, bool *restart_dnsmasq, struct lv_error **err)
{
        *restart_dnsmasq = false;
        int r = network_def_update(run->def, command, parent_index, u, err);
        if (r < 0)
                return r;
        log_info("net-update %s %s", network_update_command_to_string(command),
                 network_update_section_to_string(u->section));
        if ((r = running_xml_write(run, err)) < 0)
                return r;
        switch (network_update_effect(u->section)) {
        case NETWORK_EFFECT_DNSMASQ_RELOAD:
                return dnsmasq_reload(run, err);
        case NETWORK_EFFECT_FIREWALL:
                return firewall_reload(run, err);
        default:
                if (run->dnsmasq_pid <= 0)
                        return 0;
                *restart_dnsmasq = true;
                return files_write(run, err);
        }
}

int network_run_dnsmasq_restart(struct network_run *run, int log_fd, struct lv_error **err)
{
        dnsmasq_stop(run->dnsmasq_pid, run->dnsmasq_pidfd);
        run->dnsmasq_pid = 0;
        run->dnsmasq_pidfd = -1;
        int r = dnsmasq_start(run, log_fd, err);
        if (r < 0)
                return r;
        return status_write(run, err);
}

/* Delete the bridge when it is still the one we made (same ifindex), or,
 * for a stale run, when it carries the network's mark. */
static void bridge_remove(struct netns_nl *nl, const struct network_def *def, int ifindex)
{
        struct netns_link_info info;
        _cleanup_error_ struct lv_error *e = NULL;
        _cleanup_free_ char *alias = bridge_alias(def);
        if (netns_link_get(nl, def->bridge, &info, &e) < 0)
                return;
        if (ifindex ? info.ifindex != ifindex : !streq(info.alias, alias)) {
                log_warning("bridge '%s' is not the network's any more: left alone", def->bridge);
                return;
        }
        if (netns_link_delete(nl, def->bridge, &e) < 0)
                log_error("removing bridge '%s': %s", def->bridge, e->message);
}

static void state_files_remove(const char *statedir)
{
        /* everything but the lock, which goes last with the directory */
        static const char *const files[] = {"status.json", "dnsmasq.conf", "dnsmasq.pid",
                                            "control.sock", NETWORK_RUNNING_XML};
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", statedir, files[i]);
                (void)unlink(p);
        }
}

static void lease_files_remove(const char *statedir, const char *name)
{
        static const char *const ext[] = {"leases", "hostsfile", "addnhosts"};
        for (size_t i = 0; i < ARRAY_SIZE(ext); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s.%s", statedir, name, ext[i]);
                (void)unlink(p);
        }
}

void network_run_teardown(struct network_run *run)
{
        _cleanup_error_ struct lv_error *e = NULL;
        dnsmasq_stop(run->dnsmasq_pid, run->dnsmasq_pidfd);
        run->dnsmasq_pid = 0;
        run->dnsmasq_pidfd = -1;
        if (run->nft_table && network_nft_delete(run->nft_table, &e) < 0)
                log_error("%s", e->message);
        free(TAKE_PTR(run->nft_table));
        if (run->nl && run->bridge_ifindex)
                bridge_remove(run->nl, run->def, run->bridge_ifindex);
        run->bridge_ifindex = 0;
        state_files_remove(run->statedir);
        lease_files_remove(run->statedir, run->def->name);
        if (run->nl)
                netns_nl_close(run->nl);
        run->nl = NULL;
}

int network_run_cleanup_stale(const struct network_def *def, const char *statedir,
                              struct lv_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/status.json", statedir);
        _cleanup_free_ char *data = NULL;
        _cleanup_error_ struct lv_error *e = NULL;
        struct json_object *st = NULL, *v = NULL;
        if (file_read_bounded(path, 64 * 1024, &data, NULL, &e) == 0)
                st = json_tokener_parse(data);
        if (st && json_object_object_get_ex(st, "dnsmasq_pid", &v)) {
                pid_t pid = (pid_t)json_object_get_int(v);
                long long start = json_object_object_get_ex(st, "dnsmasq_starttime", &v)
                                          ? (long long)json_object_get_int64(v)
                                          : -1;
                /* only the recorded dnsmasq, not a process that reused its pid */
                if (pid > 0 && start > 0 && (long long)lv_proc_starttime(pid) == start) {
                        log_info("stopping the dnsmasq (pid %d) of a dead supervisor", (int)pid);
                        (void)kill(pid, SIGKILL);
                }
        }
        if (st && json_object_object_get_ex(st, "nft_table", &v)) {
                if (network_nft_delete(json_object_get_string(v), err) < 0) {
                        json_object_put(st);
                        return -EIO;
                }
        }
        json_object_put(st);
        if (network_def_makes_bridge(def) && def->bridge) {
                struct netns_nl *nl = NULL;
                if (netns_nl_open(&nl, err) < 0)
                        return -EIO;
                bridge_remove(nl, def, 0);
                netns_nl_close(nl);
        }
        state_files_remove(statedir);
        lease_files_remove(statedir, def->name);
        return 0;
}
