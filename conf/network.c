/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The virtual network model: free, format (libvirt's layout), validate,
 * and what net-define assigns (bridge name, MAC). No libxml2. */
#include <arpa/inet.h>
#include <ctype.h>

#include "conf/domain.h"
#include "conf/network.h"
#include "util/strbuf.h"

static const char *const forward_names[] = {"none", "nat", "route", "open", "bridge"};

const char *network_forward_to_string(int v)
{
        return v >= 0 && v < NETWORK_FORWARD_LAST ? forward_names[v] : NULL;
}

int network_forward_from_string(const char *s)
{
        /* "none" is the absence of <forward>, not a mode one writes */
        for (int i = 1; i < NETWORK_FORWARD_LAST; i++)
                if (streq(s, forward_names[i]))
                        return i;
        return -1;
}

void network_dhcp_host_clear(struct network_dhcp_host *h)
{
        free(h->mac);
        free(h->id);
        free(h->name);
        free(h->ip);
        *h = (struct network_dhcp_host){0};
}

void network_dns_host_clear(struct network_dns_host *h)
{
        free(h->ip);
        strv_free(h->hostnames);
        *h = (struct network_dns_host){0};
}

void network_dns_txt_clear(struct network_dns_txt *t)
{
        free(t->name);
        free(t->value);
        *t = (struct network_dns_txt){0};
}

void network_dns_srv_clear(struct network_dns_srv *v)
{
        free(v->service);
        free(v->protocol);
        free(v->domain);
        free(v->target);
        *v = (struct network_dns_srv){0};
}

void network_def_free(struct network_def *def)
{
        if (!def)
                return;
        free(def->name);
        free(def->forward_dev);
        free(def->bridge);
        free(def->mac);
        free(def->domain);
        strv_free(def->dns_forwarders);
        for (int i = 0; i < def->n_dns_hosts; i++) {
                free(def->dns_hosts[i].ip);
                strv_free(def->dns_hosts[i].hostnames);
        }
        free(def->dns_hosts);
        for (int i = 0; i < def->n_dns_txts; i++)
                network_dns_txt_clear(&def->dns_txts[i]);
        free(def->dns_txts);
        for (int i = 0; i < def->n_dns_srvs; i++)
                network_dns_srv_clear(&def->dns_srvs[i]);
        free(def->dns_srvs);
        for (int i = 0; i < def->n_ips; i++) {
                struct network_ip *ip = &def->ips[i];
                free(ip->address);
                free(ip->netmask);
                for (int k = 0; k < ip->n_ranges; k++) {
                        free(ip->ranges[k].start);
                        free(ip->ranges[k].end);
                }
                free(ip->ranges);
                for (int k = 0; k < ip->n_hosts; k++)
                        network_dhcp_host_clear(&ip->hosts[k]);
                free(ip->hosts);
        }
        free(def->ips);
        free(def);
}

/* ---- helpers ---- */

const struct network_ip *network_def_ipv4(const struct network_def *def)
{
        for (int i = 0; i < def->n_ips; i++)
                if (!def->ips[i].ipv6)
                        return &def->ips[i];
        return NULL;
}

static int netmask_prefix(const char *mask)
{
        struct in_addr a;
        if (!mask || inet_pton(AF_INET, mask, &a) != 1)
                return -1;
        uint32_t m = ntohl(a.s_addr);
        int p = __builtin_popcount(m);
        if (p && m != ~((1U << (32 - p)) - 1) && p != 32)
                return -1;
        return p;
}

int network_ip_prefix(const struct network_ip *ip)
{
        if (ip->prefix >= 0)
                return ip->prefix;
        if (ip->netmask)
                return netmask_prefix(ip->netmask);
        /* libvirt's default for IPv4 without either: the class */
        struct in_addr a;
        if (ip->ipv6 || inet_pton(AF_INET, ip->address, &a) != 1)
                return 64;
        uint8_t first = (uint8_t)(ntohl(a.s_addr) >> 24);
        return first < 128 ? 8 : first < 192 ? 16 : 24;
}

bool network_def_makes_bridge(const struct network_def *def)
{
        return def->forward != NETWORK_FORWARD_BRIDGE;
}

/* ---- format ---- */

static void attr(struct strbuf *sb, const char *name, const char *value)
{
        if (!value)
                return;
        strbuf_printf(sb, " %s='", name);
        strbuf_append_xml(sb, value);
        strbuf_append(sb, "'");
}

char *network_format(const struct network_def *def)
{
        struct strbuf sb = {0};
        char uuid[37];
        domain_uuid_format(def->uuid, uuid);
        strbuf_append(&sb, "<network>\n  <name>");
        strbuf_append_xml(&sb, def->name);
        strbuf_printf(&sb, "</name>\n  <uuid>%s</uuid>\n", uuid);
        if (def->forward != NETWORK_FORWARD_NONE) {
                strbuf_append(&sb, "  <forward");
                attr(&sb, "dev", def->forward_dev);
                attr(&sb, "mode", network_forward_to_string(def->forward));
                if (def->nat_port_start || def->forward_dev) {
                        strbuf_append(&sb, ">\n");
                        if (def->nat_port_start)
                                strbuf_printf(&sb,
                                              "    <nat>\n      <port start='%u' end='%u'/>\n"
                                              "    </nat>\n",
                                              def->nat_port_start, def->nat_port_end);
                        if (def->forward_dev) {
                                strbuf_append(&sb, "    <interface");
                                attr(&sb, "dev", def->forward_dev);
                                strbuf_append(&sb, "/>\n");
                        }
                        strbuf_append(&sb, "  </forward>\n");
                } else {
                        strbuf_append(&sb, "/>\n");
                }
        }
        if (def->bridge || def->stp >= 0 || def->delay >= 0) {
                strbuf_append(&sb, "  <bridge");
                attr(&sb, "name", def->bridge);
                if (def->stp >= 0)
                        attr(&sb, "stp", def->stp ? "on" : "off");
                if (def->delay >= 0)
                        strbuf_printf(&sb, " delay='%d'", def->delay);
                strbuf_append(&sb, "/>\n");
        }
        if (def->mtu)
                strbuf_printf(&sb, "  <mtu size='%u'/>\n", def->mtu);
        if (def->mac)
                strbuf_printf(&sb, "  <mac address='%s'/>\n", def->mac);
        if (def->domain) {
                strbuf_append(&sb, "  <domain");
                attr(&sb, "name", def->domain);
                if (def->domain_local_only)
                        strbuf_append(&sb, " localOnly='yes'");
                strbuf_append(&sb, "/>\n");
        }
        if (def->dns_disabled) {
                strbuf_append(&sb, "  <dns enable='no'/>\n");
        } else if (def->dns_forwarders || def->n_dns_hosts || def->n_dns_txts || def->n_dns_srvs) {
                strbuf_append(&sb, "  <dns>\n");
                for (char **f = def->dns_forwarders; f && *f; f++) {
                        strbuf_append(&sb, "    <forwarder");
                        attr(&sb, "addr", *f);
                        strbuf_append(&sb, "/>\n");
                }
                for (int i = 0; i < def->n_dns_txts; i++) {
                        strbuf_append(&sb, "    <txt");
                        attr(&sb, "name", def->dns_txts[i].name);
                        attr(&sb, "value", def->dns_txts[i].value);
                        strbuf_append(&sb, "/>\n");
                }
                for (int i = 0; i < def->n_dns_srvs; i++) {
                        const struct network_dns_srv *v = &def->dns_srvs[i];
                        strbuf_append(&sb, "    <srv");
                        attr(&sb, "service", v->service);
                        attr(&sb, "protocol", v->protocol);
                        attr(&sb, "domain", v->domain);
                        attr(&sb, "target", v->target);
                        if (v->port)
                                strbuf_printf(&sb, " port='%u'", v->port);
                        if (v->priority)
                                strbuf_printf(&sb, " priority='%u'", v->priority);
                        if (v->weight)
                                strbuf_printf(&sb, " weight='%u'", v->weight);
                        strbuf_append(&sb, "/>\n");
                }
                for (int i = 0; i < def->n_dns_hosts; i++) {
                        strbuf_append(&sb, "    <host");
                        attr(&sb, "ip", def->dns_hosts[i].ip);
                        strbuf_append(&sb, ">\n");
                        for (char **h = def->dns_hosts[i].hostnames; h && *h; h++) {
                                strbuf_append(&sb, "      <hostname>");
                                strbuf_append_xml(&sb, *h);
                                strbuf_append(&sb, "</hostname>\n");
                        }
                        strbuf_append(&sb, "    </host>\n");
                }
                strbuf_append(&sb, "  </dns>\n");
        }
        for (int i = 0; i < def->n_ips; i++) {
                const struct network_ip *ip = &def->ips[i];
                strbuf_append(&sb, "  <ip");
                if (ip->family_given)
                        attr(&sb, "family", ip->ipv6 ? "ipv6" : "ipv4");
                attr(&sb, "address", ip->address);
                attr(&sb, "netmask", ip->netmask);
                if (ip->prefix >= 0)
                        strbuf_printf(&sb, " prefix='%d'", ip->prefix);
                strbuf_append(&sb, ">\n");
                if (!ip->has_dhcp) { /* as libvirt writes it */
                        strbuf_append(&sb, "  </ip>\n");
                        continue;
                }
                if (!ip->n_ranges && !ip->n_hosts) {
                        strbuf_append(&sb, "    <dhcp/>\n  </ip>\n");
                        continue;
                }
                strbuf_append(&sb, "    <dhcp>\n");
                for (int k = 0; k < ip->n_ranges; k++) {
                        strbuf_append(&sb, "      <range");
                        attr(&sb, "start", ip->ranges[k].start);
                        attr(&sb, "end", ip->ranges[k].end);
                        strbuf_append(&sb, "/>\n");
                }
                for (int k = 0; k < ip->n_hosts; k++) {
                        const struct network_dhcp_host *h = &ip->hosts[k];
                        strbuf_append(&sb, "      <host");
                        attr(&sb, "mac", h->mac);
                        attr(&sb, "id", h->id);
                        attr(&sb, "name", h->name);
                        attr(&sb, "ip", h->ip);
                        strbuf_append(&sb, "/>\n");
                }
                strbuf_append(&sb, "    </dhcp>\n  </ip>\n");
        }
        strbuf_append(&sb, "</network>\n");
        return strbuf_steal(&sb);
}

/* ---- validate ---- */

#define INVALID(...) lv_error_setf(err, LV_ERR_INVALID_XML, __VA_ARGS__)

/* An address of the <ip>'s family, as 16 bytes (IPv4 in the first 4). */
static bool addr_parse(bool ipv6, const char *s, unsigned char out[16])
{
        memset(out, 0, 16);
        return s && inet_pton(ipv6 ? AF_INET6 : AF_INET, s, out) == 1;
}

static bool same_subnet(const unsigned char *a, const unsigned char *b, int prefix)
{
        for (int bit = 0; bit < prefix; bit++) {
                unsigned char m = (unsigned char)(0x80 >> (bit % 8));
                if ((a[bit / 8] & m) != (b[bit / 8] & m))
                        return false;
        }
        return true;
}

static int validate_name(const char *name, struct lv_error **err)
{
        if (!name || !*name)
                return INVALID("network name is empty");
        if (strlen(name) > NETWORK_NAME_MAX)
                return INVALID("network name '%.20s...' is longer than %d characters", name,
                               NETWORK_NAME_MAX);
        if (name[0] == '.' || name[0] == '-')
                return INVALID("network name '%s' may not start with '%c'", name, name[0]);
        for (const unsigned char *p = (const unsigned char *)name; *p; p++)
                if (*p == '/' || *p < 0x20 || *p == 0x7f || *p == ' ')
                        return INVALID("network name '%s' contains a '/', a blank or a control "
                                       "character",
                                       name);
        return 0;
}

static bool ifname_is_valid(const char *n)
{
        if (!*n || strlen(n) > 15 || streq(n, ".") || streq(n, ".."))
                return false;
        for (const unsigned char *p = (const unsigned char *)n; *p; p++)
                if (*p <= ' ' || *p == '/' || *p == ':' || *p == '%' || *p >= 0x7f)
                        return false;
        return true;
}

/* Text that reaches dnsmasq's configuration or hosts files: nothing that
 * would end its line or field there. */
static bool dnsmasq_text_ok(const char *s, const char *also_refused)
{
        for (const char *p = s; p && *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f || strchr(also_refused, *p))
                        return false;
        return true;
}

static int validate_dhcp(const struct network_ip *ip, const unsigned char *net, int prefix,
                         struct lv_error **err)
{
        for (int k = 0; k < ip->n_ranges; k++) {
                const struct network_dhcp_range *r = &ip->ranges[k];
                unsigned char s[16], e[16];
                if (!addr_parse(ip->ipv6, r->start, s))
                        return INVALID("dhcp range start '%s' is not an %s address", r->start,
                                       ip->ipv6 ? "IPv6" : "IPv4");
                if (!addr_parse(ip->ipv6, r->end, e))
                        return INVALID("dhcp range end '%s' is not an %s address", r->end,
                                       ip->ipv6 ? "IPv6" : "IPv4");
                if (!same_subnet(s, net, prefix) || !same_subnet(e, net, prefix))
                        return INVALID("dhcp range '%s' - '%s' is not entirely within network "
                                       "'%s/%d'",
                                       r->start, r->end, ip->address, prefix);
                if (memcmp(s, e, 16) > 0)
                        return INVALID("dhcp range '%s' - '%s' is reversed", r->start, r->end);
        }
        for (int k = 0; k < ip->n_hosts; k++) {
                const struct network_dhcp_host *h = &ip->hosts[k];
                unsigned char a[16], mac[6];
                if (!ip->ipv6 && !h->mac && !h->name)
                        return INVALID("static host definition in IPv4 network '%s' must have "
                                       "mac or name attribute",
                                       ip->address);
                if (ip->ipv6 && h->mac)
                        return INVALID("invalid to specify MAC address '%s' in network '%s' "
                                       "IPv6 static host definition",
                                       h->mac, ip->address);
                if (h->mac && (!domain_mac_parse(h->mac, mac) || (mac[0] & 1)))
                        return INVALID("cannot parse MAC address '%s' of a dhcp host", h->mac);
                if (h->ip && !addr_parse(ip->ipv6, h->ip, a))
                        return INVALID("dhcp host ip '%s' is not an %s address", h->ip,
                                       ip->ipv6 ? "IPv6" : "IPv4");
                if (h->ip && !same_subnet(a, net, prefix))
                        return INVALID("dhcp host ip '%s' is not within network '%s/%d'", h->ip,
                                       ip->address, prefix);
                if (h->name && (!*h->name || !dnsmasq_text_ok(h->name, " ,#/")))
                        return INVALID("a dhcp host name is empty or holds a control character, "
                                       "blank, ',', '#' or '/'");
                if (h->id && !dnsmasq_text_ok(h->id, " ,#"))
                        return INVALID("a dhcp host id holds a control character, blank, ',' or "
                                       "'#'");
                if (!h->ip && !ip->ipv6)
                        return INVALID("missing IP address in static host definition for "
                                       "network '%s'",
                                       ip->address);
                for (int j = 0; j < k; j++) {
                        const struct network_dhcp_host *o = &ip->hosts[j];
                        if (h->mac && o->mac && streq(h->mac, o->mac))
                                return INVALID("dhcp host MAC '%s' given twice", h->mac);
                        if (h->ip && o->ip && streq(h->ip, o->ip))
                                return INVALID("dhcp host ip '%s' given twice", h->ip);
                }
        }
        return 0;
}

static int validate_ip(const struct network_ip *ip, struct lv_error **err)
{
        unsigned char a[16];
        if (!ip->address)
                return INVALID("<ip> of network has no address");
        if (!addr_parse(ip->ipv6, ip->address, a))
                return INVALID("ip address '%s' is not an %s address", ip->address,
                               ip->ipv6 ? "IPv6" : "IPv4");
        if (ip->netmask && ip->prefix >= 0)
                return INVALID("network '%s' cannot have both a prefix and a netmask", ip->address);
        if (ip->ipv6 && ip->netmask)
                return INVALID("netmask not allowed for IPv6 address '%s'", ip->address);
        int prefix = network_ip_prefix(ip);
        if (ip->netmask && prefix < 0)
                return INVALID("netmask '%s' of '%s' is not a valid netmask", ip->netmask,
                               ip->address);
        if (prefix > (ip->ipv6 ? 128 : 32))
                return INVALID("prefix %d of '%s' is too long", prefix, ip->address);
        if (ip->ipv6 && ip->has_dhcp && prefix != 64 && (ip->n_ranges || ip->n_hosts))
                return INVALID("unsupported dhcp prefix %d for IPv6 network '%s' (only 64)", prefix,
                               ip->address);
        return validate_dhcp(ip, a, prefix, err);
}

#define SRV_SERVICE_MAX 15
#define SRV_CHARS       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+/"

static int validate_srv(const struct network_def *def, const struct network_dns_srv *v,
                        struct lv_error **err)
{
        if (!v->service || !v->protocol)
                return INVALID("network '%s': a DNS SRV record needs 'service' and 'protocol'",
                               def->name);
        if (strlen(v->service) > SRV_SERVICE_MAX)
                return INVALID("service attribute '%s' in network '%s' is too long, limit is %d "
                               "bytes",
                               v->service, def->name, SRV_SERVICE_MAX);
        if (strspn(v->service, SRV_CHARS) < strlen(v->service))
                return INVALID("invalid character in service attribute '%s' in DNS SRV record "
                               "of network '%s'",
                               v->service, def->name);
        if (strspn(v->protocol, SRV_CHARS) < strlen(v->protocol))
                return INVALID("invalid protocol attribute value '%s' in DNS SRV record of "
                               "network '%s'",
                               v->protocol, def->name);
        if ((v->domain && (!*v->domain || !dnsmasq_text_ok(v->domain, " ,#/"))) ||
            (v->target && (!*v->target || !dnsmasq_text_ok(v->target, " ,#/"))))
                return INVALID("network '%s': DNS SRV record '%s': domain or target is empty "
                               "or holds a control character, blank, ',', '#' or '/'",
                               def->name, v->service);
        if (!v->target && (v->port || v->priority || v->weight))
                return INVALID("network '%s': DNS SRV record '%s': port, priority and weight "
                               "are not permitted without target",
                               def->name, v->service);
        return 0;
}

static int validate_dns_records(const struct network_def *def, struct lv_error **err)
{
        for (int i = 0; i < def->n_dns_txts; i++) {
                const struct network_dns_txt *t = &def->dns_txts[i];
                if (!t->name || !*t->name || !t->value)
                        return INVALID("network '%s': a DNS TXT record needs 'name' and 'value'",
                                       def->name);
                if (strchr(t->name, ' '))
                        return INVALID("prohibited space character in DNS TXT record name '%s' of "
                                       "network %s",
                                       t->name, def->name);
                if (!dnsmasq_text_ok(t->name, ",#"))
                        return INVALID("network '%s': DNS TXT record name holds a control "
                                       "character, ',' or '#'",
                                       def->name);
                if (!dnsmasq_text_ok(t->value, ""))
                        return INVALID("network '%s': the value of DNS TXT record '%s' holds a "
                                       "control character",
                                       def->name, t->name);
        }
        for (int i = 0; i < def->n_dns_srvs; i++) {
                int r = validate_srv(def, &def->dns_srvs[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int network_validate(const struct network_def *def, struct lv_error **err)
{
        int r = validate_name(def->name, err);
        if (r < 0)
                return r;
        if (def->bridge && !ifname_is_valid(def->bridge))
                return INVALID("bridge name '%s' is not a valid interface name", def->bridge);
        if (def->forward == NETWORK_FORWARD_BRIDGE) {
                if (!def->bridge)
                        return INVALID("network '%s': forward mode 'bridge' needs <bridge name>",
                                       def->name);
                if (def->n_ips || def->mac || def->domain || def->n_dns_hosts || def->n_dns_txts ||
                    def->n_dns_srvs || def->mtu || def->stp >= 0 || def->delay >= 0)
                        return INVALID("network '%s': forward mode 'bridge' uses an existing host "
                                       "bridge and takes no <ip>, <mac>, <mtu>, <domain>, <dns> "
                                       "or stp/delay",
                                       def->name);
        }
        if (def->forward_dev && def->forward == NETWORK_FORWARD_OPEN)
                return INVALID("network '%s': forward dev not allowed for a network with forward "
                               "mode='open'",
                               def->name);
        if (def->forward_dev && !ifname_is_valid(def->forward_dev))
                return INVALID("forward dev '%s' is not a valid interface name", def->forward_dev);
        if (def->nat_port_start &&
            (def->nat_port_end < def->nat_port_start || def->nat_port_end > 65535))
                return INVALID("network '%s': nat port range %u-%u is not a valid range", def->name,
                               def->nat_port_start, def->nat_port_end);
        if (def->mtu && (def->mtu < 68 || def->mtu > 65535))
                return INVALID("network '%s': mtu %u is outside 68..65535", def->name, def->mtu);
        unsigned char mac[6];
        if (def->mac && (!domain_mac_parse(def->mac, mac) || (mac[0] & 1)))
                return INVALID("network '%s': '%s' is not a unicast MAC address", def->name,
                               def->mac);
        if (def->domain && (!*def->domain || strpbrk(def->domain, " /\t\n")))
                return INVALID("network '%s': domain name '%s' is not valid", def->name,
                               def->domain);
        int n_dhcp4 = 0, n_dhcp6 = 0;
        for (int i = 0; i < def->n_ips; i++) {
                const struct network_ip *ip = &def->ips[i];
                if ((r = validate_ip(ip, err)) < 0)
                        return lv_error_prefix(err, "network '%s'", def->name);
                if (ip->has_dhcp && (ip->n_ranges || ip->n_hosts))
                        *(ip->ipv6 ? &n_dhcp6 : &n_dhcp4) += 1;
        }
        if (n_dhcp4 > 1)
                return INVALID("network '%s': multiple IPv4 dhcp sections found -- dhcp is "
                               "supported only for a single IPv4 address on each network",
                               def->name);
        if (n_dhcp6 > 1)
                return INVALID("network '%s': multiple IPv6 dhcp sections found -- dhcp is "
                               "supported only for a single IPv6 address on each network",
                               def->name);
        for (int i = 0; i < def->n_dns_hosts; i++) {
                const struct network_dns_host *h = &def->dns_hosts[i];
                unsigned char a[16];
                if (!addr_parse(strchr(h->ip ? h->ip : "", ':') != NULL, h->ip, a))
                        return INVALID("network '%s': dns host ip '%s' is not an address",
                                       def->name, h->ip ? h->ip : "");
                if (!h->hostnames || !h->hostnames[0])
                        return INVALID("network '%s': dns host '%s' has no hostname", def->name,
                                       h->ip);
                for (char **n = h->hostnames; *n; n++)
                        if (!**n || strpbrk(*n, " /\t\n"))
                                return INVALID("network '%s': dns hostname '%s' is not valid",
                                               def->name, *n);
        }
        if ((r = validate_dns_records(def, err)) < 0)
                return r;
        for (char **f = def->dns_forwarders; f && *f; f++) {
                unsigned char a[16];
                if (!addr_parse(strchr(*f, ':') != NULL, *f, a))
                        return INVALID("network '%s': dns forwarder '%s' is not an address",
                                       def->name, *f);
        }
        return 0;
}

/* ---- net-define's defaults ---- */

void network_def_assign(struct network_def *def, char *const *taken_bridges)
{
        if (!network_def_makes_bridge(def))
                return;
        for (int n = 0; !def->bridge; n++) {
                char name[16];
                snprintf(name, sizeof(name), "virbr%d", n);
                bool taken = false;
                for (char *const *t = taken_bridges; t && *t && !taken; t++)
                        taken = streq(*t, name);
                if (!taken)
                        def->bridge = xstrdup(name);
        }
        if (!def->mac)
                def->mac = domain_mac_generate(DOMAIN_TYPE_QEMU);
}
