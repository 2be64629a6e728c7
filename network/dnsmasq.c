/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The files a network's dnsmasq runs from, in the layout of libvirt's
 * network driver (its networkxml2confdata vectors), and dnsmasq's lease
 * file. Pure: text in, text out. */
#include <arpa/inet.h>

#include "network/network.h"
#include "util/strbuf.h"

bool network_dnsmasq_wanted(const struct network_def *def)
{
        return network_def_makes_bridge(def) && def->n_ips > 0;
}

/* Addresses in [start, end] (IPv4), for dhcp-lease-max. */
static unsigned long range_size(const struct network_dhcp_range *r)
{
        struct in_addr s, e;
        if (inet_pton(AF_INET, r->start, &s) != 1 || inet_pton(AF_INET, r->end, &e) != 1)
                return 0;
        return (unsigned long)ntohl(e.s_addr) - ntohl(s.s_addr) + 1;
}

static void netmask_of(int prefix, char out[INET_ADDRSTRLEN])
{
        struct in_addr m = {.s_addr = htonl(prefix ? ~0U << (32 - prefix) : 0)};
        inet_ntop(AF_INET, &m, out, INET_ADDRSTRLEN);
}

/* srv-host=_SERVICE._PROTOCOL[.DOMAIN][,TARGET[,PORT[,PRIORITY[,WEIGHT]]]]:
 * dnsmasq's fields are positional, so an absent port before a given
 * priority or weight is 1 and an absent priority 0, as libvirt writes */
static void srv_host(struct strbuf *sb, const struct network_dns_srv *v)
{
        strbuf_printf(sb, "srv-host=_%s._%s", v->service, v->protocol);
        if (v->domain)
                strbuf_printf(sb, ".%s", v->domain);
        if (v->target) {
                strbuf_printf(sb, ",%s", v->target);
                if (v->port || v->priority || v->weight)
                        strbuf_printf(sb, ",%u", v->port ? v->port : 1);
                if (v->priority || v->weight)
                        strbuf_printf(sb, ",%u", v->priority);
                if (v->weight)
                        strbuf_printf(sb, ",%u", v->weight);
        }
        strbuf_append(sb, "\n");
}

char *network_dnsmasq_conf(const struct network_def *def, const char *statedir)
{
        struct strbuf sb = {0};
        strbuf_printf(&sb,
                      "##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n"
                      "##OVERWRITTEN AND LOST.  Changes to this configuration should be made "
                      "using:\n"
                      "##    lvsh net-define (of the edited definition of %s)\n"
                      "## or other application using the litevirt API.\n"
                      "##\n"
                      "## dnsmasq conf file created by litevirt\n"
                      "strict-order\n",
                      def->name);
        if (def->dns_disabled)
                strbuf_append(&sb, "port=0\n");
        for (char **f = def->dns_forwarders; f && *f; f++)
                strbuf_printf(&sb, "server=%s\n", *f);
        if (def->domain) {
                if (def->domain_local_only)
                        strbuf_printf(&sb, "local=/%s/\n", def->domain);
                strbuf_printf(&sb, "domain=%s\nexpand-hosts\n", def->domain);
        }
        if (!def->dns_disabled)
                strbuf_append(&sb, "domain-needed\nlocal=//\n");
        strbuf_printf(&sb, "except-interface=lo\nbind-dynamic\ninterface=%s\n", def->bridge);
        for (int i = 0; i < def->n_dns_txts; i++)
                strbuf_printf(&sb, "txt-record=%s,%s\n", def->dns_txts[i].name,
                              def->dns_txts[i].value);
        for (int i = 0; i < def->n_dns_srvs; i++)
                srv_host(&sb, &def->dns_srvs[i]);
        unsigned long lease_max = 0;
        bool any_dhcp = false, hosts = false;
        for (int i = 0; i < def->n_ips; i++) {
                const struct network_ip *ip = &def->ips[i];
                int prefix = network_ip_prefix(ip);
                char mask[INET_ADDRSTRLEN];
                netmask_of(ip->ipv6 ? 0 : prefix, mask);
                for (int k = 0; k < ip->n_ranges; k++) {
                        if (ip->ipv6) {
                                strbuf_printf(&sb, "dhcp-range=%s,%s,%d\n", ip->ranges[k].start,
                                              ip->ranges[k].end, prefix);
                        } else {
                                strbuf_printf(&sb, "dhcp-range=%s,%s,%s\n", ip->ranges[k].start,
                                              ip->ranges[k].end, mask);
                                lease_max += range_size(&ip->ranges[k]);
                        }
                }
                /* static hosts without a range: dnsmasq needs the subnet */
                if (!ip->n_ranges && ip->n_hosts && ip->ipv6)
                        strbuf_printf(&sb, "dhcp-range=%s,static,%d\n", ip->address, prefix);
                else if (!ip->n_ranges && ip->n_hosts)
                        strbuf_printf(&sb, "dhcp-range=%s,static,%s\n", ip->address, mask);
                if (ip->n_ranges || ip->n_hosts) {
                        any_dhcp = true;
                        hosts = hosts || ip->n_hosts;
                }
                if (ip->ipv6 && !ip->n_ranges && !ip->n_hosts)
                        strbuf_printf(&sb, "dhcp-range=%s,ra-only\n", ip->address);
        }
        if (any_dhcp) {
                strbuf_append(&sb, "dhcp-no-override\ndhcp-authoritative\n");
                strbuf_printf(&sb, "dhcp-leasefile=%s/%s.leases\n", statedir, def->name);
                if (lease_max)
                        strbuf_printf(&sb, "dhcp-lease-max=%lu\n", lease_max);
        }
        /* always with DHCP, so that net-update can add hosts live */
        if (any_dhcp || hosts)
                strbuf_printf(&sb, "dhcp-hostsfile=%s/%s.hostsfile\n", statedir, def->name);
        strbuf_printf(&sb, "addn-hosts=%s/%s.addnhosts\n", statedir, def->name);
        for (int i = 0; i < def->n_ips; i++)
                if (def->ips[i].ipv6) {
                        strbuf_append(&sb, "enable-ra\n");
                        break;
                }
        return strbuf_steal(&sb);
}

static void field(struct strbuf *sb, bool *first, const char *prefix, const char *v,
                  const char *suffix)
{
        if (!v)
                return;
        strbuf_printf(sb, "%s%s%s%s", *first ? "" : ",", prefix, v, suffix);
        *first = false;
}

char *network_dnsmasq_hostsfile(const struct network_def *def)
{
        struct strbuf sb = {0};
        strbuf_append(&sb, "");
        for (int i = 0; i < def->n_ips; i++) {
                const struct network_ip *ip = &def->ips[i];
                for (int k = 0; k < ip->n_hosts; k++) {
                        const struct network_dhcp_host *h = &ip->hosts[k];
                        bool first = true;
                        field(&sb, &first, "", h->mac, "");
                        field(&sb, &first, "id:", h->id, "");
                        field(&sb, &first, ip->ipv6 ? "[" : "", h->ip, ip->ipv6 ? "]" : "");
                        field(&sb, &first, "", h->name, "");
                        strbuf_append(&sb, "\n");
                }
        }
        return strbuf_steal(&sb);
}

char *network_dnsmasq_addnhosts(const struct network_def *def)
{
        struct strbuf sb = {0};
        strbuf_append(&sb, "");
        for (int i = 0; i < def->n_dns_hosts; i++) {
                strbuf_append(&sb, def->dns_hosts[i].ip);
                for (char **n = def->dns_hosts[i].hostnames; n && *n; n++)
                        strbuf_printf(&sb, "\t%s", *n);
                strbuf_append(&sb, "\n");
        }
        return strbuf_steal(&sb);
}

/* "EXPIRY MAC IP HOSTNAME CLIENTID" (IPv4) or, after a "duid ..." line,
 * "EXPIRY IAID IP HOSTNAME CLIENTID" (IPv6). */
void network_leases_parse(const char *text, struct network_lease **ret, size_t *ret_n)
{
        struct network_lease *v = NULL;
        size_t n = 0;
        _cleanup_free_ char *copy = xstrdup(text ? text : "");
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char f[5][256];
                long long expiry;
                if (sscanf(line, "%lld %255s %255s %255s %255s", &expiry, f[1], f[2], f[3], f[4]) !=
                    5)
                        continue;
                bool v6 = strchr(f[2], ':') != NULL;
                v = xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = (struct network_lease){
                        .expiry = expiry,
                        .mac = v6 ? NULL : xstrdup(f[1]),
                        .ip = xstrdup(f[2]),
                        .hostname = streq(f[3], "*") ? NULL : xstrdup(f[3]),
                        .clientid = streq(f[4], "*") ? NULL : xstrdup(f[4]),
                };
        }
        *ret = v;
        *ret_n = n;
}

void network_leases_free(struct network_lease *l, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(l[i].mac);
                free(l[i].ip);
                free(l[i].hostname);
                free(l[i].clientid);
        }
        free(l);
}
