/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net-update on a network definition: virsh's commands and sections,
 * libvirt's matching rules and words (network_def_update). The running
 * network applies the same change (network/setup.c). No libxml2. */
#include "conf/network.h"

static const char *const update_command_names[] = {"modify", "delete", "add-last", "add-first"};

int network_update_command_from_string(const char *s, struct lv_error **err)
{
        if (streq(s, "add"))
                return NETWORK_UPDATE_ADD_LAST;
        for (size_t i = 0; i < ARRAY_SIZE(update_command_names); i++)
                if (streq(s, update_command_names[i]))
                        return (int)i;
        lv_error_setf(err, EINVAL,
                      "net-update command '%s' is not known (add, add-first, add-last, delete, "
                      "modify)",
                      s);
        return -1;
}

const char *network_update_command_to_string(int v)
{
        return v >= 0 && v < (int)ARRAY_SIZE(update_command_names) ? update_command_names[v] : NULL;
}

static const char *const section_names[] = {"ip-dhcp-host", "ip-dhcp-range", "forward-interface",
                                            "dns-host",     "dns-txt",       "dns-srv"};

const char *network_update_section_to_string(int v)
{
        return v >= 0 && v < NETWORK_SECTION_LAST ? section_names[v] : NULL;
}

int network_update_section_from_string(const char *s, struct lv_error **err)
{
        for (int i = 0; i < NETWORK_SECTION_LAST; i++)
                if (streq(s, section_names[i]))
                        return i;
        /* libvirt's sections it cannot update either */
        static const char *const fixed[] = {"none", "bridge",  "domain",
                                            "ip",   "forward", "forward-pf"};
        for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
                if (streq(s, fixed[i])) {
                        lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                      "can't update '%s' section of a network (as libvirt: "
                                      "net-edit, then restart the network)",
                                      s);
                        return -1;
                }
        if (streq(s, "portgroup")) {
                lv_error_setf(err, LV_ERR_UNSUPPORTED,
                              "net-update section 'portgroup' is not supported: litevirt "
                              "networks have no portgroups (their <vlan>, <bandwidth> and "
                              "<virtualport> are not supported)");
                return -1;
        }
        lv_error_setf(err, EINVAL,
                      "unknown net-update section '%s' (ip-dhcp-host, ip-dhcp-range, "
                      "forward-interface, dns-host, dns-txt, dns-srv)",
                      s);
        return -1;
}

void network_update_clear(struct network_update *u)
{
        switch (u->section) {
        case NETWORK_SECTION_IP_DHCP_HOST:
                network_dhcp_host_clear(&u->host);
                break;
        case NETWORK_SECTION_IP_DHCP_RANGE:
                free(u->range.start);
                free(u->range.end);
                break;
        case NETWORK_SECTION_FORWARD_INTERFACE:
                free(u->iface);
                break;
        case NETWORK_SECTION_DNS_HOST:
                network_dns_host_clear(&u->dns_host);
                break;
        case NETWORK_SECTION_DNS_TXT:
                network_dns_txt_clear(&u->txt);
                break;
        case NETWORK_SECTION_DNS_SRV:
                network_dns_srv_clear(&u->srv);
                break;
        }
        u->section = -1;
}

int network_update_effect(int section)
{
        switch (section) {
        case NETWORK_SECTION_IP_DHCP_HOST:
        case NETWORK_SECTION_DNS_HOST:
                return NETWORK_EFFECT_DNSMASQ_RELOAD;
        case NETWORK_SECTION_FORWARD_INTERFACE:
                return NETWORK_EFFECT_FIREWALL;
        default:
                return NETWORK_EFFECT_DNSMASQ_RESTART;
        }
}

/* Room for one element at the front or the back of an array; returns it. */
static void *slot_insert(void **arr, int *n, size_t size, bool first)
{
        *arr = xrealloc(*arr, size * (size_t)(*n + 1));
        char *base = *arr;
        if (first)
                memmove(base + size, base, size * (size_t)*n);
        void *slot = base + (first ? 0 : size * (size_t)*n);
        memset(slot, 0, size);
        (*n)++;
        return slot;
}

static void slot_remove(void *arr, int *n, size_t size, int idx)
{
        char *base = arr;
        memmove(base + size * (size_t)idx, base + size * (size_t)(idx + 1),
                size * (size_t)(*n - idx - 1));
        (*n)--;
}

/* libvirt's choice of <ip> for the ip-dhcp-* sections: the one given by
 * index, else the one with DHCP, else the first IPv4, else the first. */
static struct network_ip *dhcp_ip(struct network_def *def, int parent_index, const char *what,
                                  struct lv_error **err)
{
        if (parent_index >= 0) {
                if (parent_index < def->n_ips)
                        return &def->ips[parent_index];
                lv_error_setf(err, LV_ERR_STATE,
                              "couldn't update %s entry - no <ip> element found at index %d in "
                              "network '%s'",
                              what, parent_index, def->name);
                return NULL;
        }
        for (int i = 0; i < def->n_ips; i++)
                if (def->ips[i].n_ranges || def->ips[i].n_hosts)
                        return &def->ips[i];
        for (int i = 0; i < def->n_ips; i++)
                if (!def->ips[i].ipv6)
                        return &def->ips[i];
        if (def->n_ips)
                return &def->ips[0];
        lv_error_setf(err, LV_ERR_STATE,
                      "couldn't update %s entry - no <ip> element found in network '%s'", what,
                      def->name);
        return NULL;
}

static int refuse_modify(const char *what, struct lv_error **err)
{
        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                             "%s cannot be modified, only added or deleted", what);
}

static int host_find(const struct network_ip *ip, int command, const struct network_dhcp_host *h)
{
        for (int k = 0; k < ip->n_hosts; k++) {
                const struct network_dhcp_host *o = &ip->hosts[k];
                bool hit;
                if (command == NETWORK_UPDATE_MODIFY) /* the entry of that MAC (or DUID) */
                        hit = h->mac ? o->mac && strcasecmp(h->mac, o->mac) == 0
                                     : h->id && o->id && streq(h->id, o->id);
                else if (command == NETWORK_UPDATE_DELETE)
                        hit = h->mac && o->mac     ? strcasecmp(h->mac, o->mac) == 0
                              : h->name && o->name ? streq(h->name, o->name)
                                                   : h->ip && o->ip && streq(h->ip, o->ip);
                else /* an add clashes with any entry sharing MAC, name or address */
                        hit = (h->mac && o->mac && strcasecmp(h->mac, o->mac) == 0) ||
                              (h->name && o->name && streq(h->name, o->name)) ||
                              (h->ip && o->ip && streq(h->ip, o->ip));
                if (hit)
                        return k;
        }
        return -1;
}

static int update_dhcp_host(struct network_def *def, int command, int parent_index,
                            const struct network_dhcp_host *h, struct lv_error **err)
{
        struct network_ip *ip = dhcp_ip(def, parent_index, "dhcp host", err);
        if (!ip)
                return -ENOENT;
        int found = host_find(ip, command, h);
        if (command == NETWORK_UPDATE_DELETE) {
                if (found < 0)
                        return lv_error_setf(
                                err, ENOENT,
                                "couldn't locate a matching dhcp host entry in network '%s'",
                                def->name);
                network_dhcp_host_clear(&ip->hosts[found]);
                slot_remove(ip->hosts, &ip->n_hosts, sizeof(*ip->hosts), found);
                return 0;
        }
        struct network_dhcp_host copy = {.mac = xstrdup_null(h->mac),
                                         .id = xstrdup_null(h->id),
                                         .name = xstrdup_null(h->name),
                                         .ip = xstrdup_null(h->ip)};
        if (command == NETWORK_UPDATE_MODIFY) {
                if (found < 0) {
                        network_dhcp_host_clear(&copy);
                        return lv_error_setf(err, ENOENT,
                                             "couldn't locate an existing dhcp host entry with "
                                             "\"%s='%s'\" in network '%s'",
                                             h->mac ? "mac" : "id",
                                             h->mac  ? h->mac
                                             : h->id ? h->id
                                                     : "",
                                             def->name);
                }
                struct network_dhcp_host old = ip->hosts[found];
                ip->hosts[found] = copy;
                int r = network_validate(def, err);
                network_dhcp_host_clear(r < 0 ? &ip->hosts[found] : &old);
                if (r < 0)
                        ip->hosts[found] = old;
                return r;
        }
        if (found >= 0) {
                network_dhcp_host_clear(&copy);
                return lv_error_setf(err, LV_ERR_EXISTS,
                                     "there is an existing dhcp host entry in network '%s' that "
                                     "matches \"<host mac='%s' name='%s' ip='%s'/>\"",
                                     def->name, h->mac ? h->mac : "", h->name ? h->name : "",
                                     h->ip ? h->ip : "");
        }
        bool first = command == NETWORK_UPDATE_ADD_FIRST, had_dhcp = ip->has_dhcp;
        struct network_dhcp_host *slot =
                slot_insert((void **)&ip->hosts, &ip->n_hosts, sizeof(*ip->hosts), first);
        *slot = copy;
        ip->has_dhcp = true;
        int r = network_validate(def, err);
        if (r < 0) {
                int at = first ? 0 : ip->n_hosts - 1;
                network_dhcp_host_clear(&ip->hosts[at]);
                slot_remove(ip->hosts, &ip->n_hosts, sizeof(*ip->hosts), at);
                ip->has_dhcp = had_dhcp;
        }
        return r;
}

static int update_dhcp_range(struct network_def *def, int command, int parent_index,
                             const struct network_dhcp_range *rg, struct lv_error **err)
{
        if (command == NETWORK_UPDATE_MODIFY)
                return refuse_modify("dhcp ranges", err);
        struct network_ip *ip = dhcp_ip(def, parent_index, "dhcp range", err);
        if (!ip)
                return -ENOENT;
        int found = -1;
        for (int k = 0; k < ip->n_ranges && found < 0; k++)
                if (streq(ip->ranges[k].start, rg->start) && streq(ip->ranges[k].end, rg->end))
                        found = k;
        if (command == NETWORK_UPDATE_DELETE) {
                if (found < 0)
                        return lv_error_setf(
                                err, ENOENT,
                                "couldn't locate a matching dhcp range entry in network '%s'",
                                def->name);
                free(ip->ranges[found].start);
                free(ip->ranges[found].end);
                slot_remove(ip->ranges, &ip->n_ranges, sizeof(*ip->ranges), found);
                return 0;
        }
        if (found >= 0)
                return lv_error_setf(err, LV_ERR_EXISTS,
                                     "there is an existing dhcp range entry in network '%s' that "
                                     "matches \"<range start='%s' end='%s'/>\"",
                                     def->name, rg->start, rg->end);
        bool first = command == NETWORK_UPDATE_ADD_FIRST, had_dhcp = ip->has_dhcp;
        struct network_dhcp_range *slot =
                slot_insert((void **)&ip->ranges, &ip->n_ranges, sizeof(*ip->ranges), first);
        *slot = (struct network_dhcp_range){xstrdup(rg->start), xstrdup(rg->end)};
        ip->has_dhcp = true;
        int r = network_validate(def, err);
        if (r < 0) {
                int at = first ? 0 : ip->n_ranges - 1;
                free(ip->ranges[at].start);
                free(ip->ranges[at].end);
                slot_remove(ip->ranges, &ip->n_ranges, sizeof(*ip->ranges), at);
                ip->has_dhcp = had_dhcp;
        }
        return r;
}

static int update_forward_interface(struct network_def *def, int command, const char *dev,
                                    struct lv_error **err)
{
        if (command == NETWORK_UPDATE_MODIFY)
                return refuse_modify("forward interface entries", err);
        if (command == NETWORK_UPDATE_DELETE) {
                if (!def->forward_dev || !streq(def->forward_dev, dev))
                        return lv_error_setf(err, ENOENT,
                                             "couldn't find an interface entry matching "
                                             "<interface dev='%s'> in network '%s'",
                                             dev, def->name);
                free(TAKE_PTR(def->forward_dev));
                return 0;
        }
        if (def->forward != NETWORK_FORWARD_NAT && def->forward != NETWORK_FORWARD_ROUTE)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "network '%s': a forward interface needs forward mode 'nat' "
                                     "or 'route' (it has '%s')",
                                     def->name, network_forward_to_string(def->forward));
        if (def->forward_dev && streq(def->forward_dev, dev))
                return lv_error_setf(err, LV_ERR_EXISTS,
                                     "there is an existing interface entry in network '%s' that "
                                     "matches \"<interface dev='%s'>\"",
                                     def->name, dev);
        if (def->forward_dev)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "network '%s' forwards through '%s' already: litevirt "
                                     "supports one forward interface",
                                     def->name, def->forward_dev);
        def->forward_dev = xstrdup(dev);
        int r = network_validate(def, err);
        if (r < 0)
                free(TAKE_PTR(def->forward_dev));
        return r;
}

static bool dns_host_matches(const struct network_dns_host *a, const struct network_dns_host *b)
{
        if (a->ip && b->ip && streq(a->ip, b->ip))
                return true;
        for (char **n = a->hostnames; n && *n; n++)
                if (strv_contains(b->hostnames, *n))
                        return true;
        return false;
}

static int update_dns_host(struct network_def *def, int command, const struct network_dns_host *h,
                           struct lv_error **err)
{
        if (command == NETWORK_UPDATE_MODIFY)
                return refuse_modify("DNS HOST records", err);
        int found = -1;
        for (int k = 0; k < def->n_dns_hosts && found < 0; k++)
                if (dns_host_matches(h, &def->dns_hosts[k]))
                        found = k;
        if (command == NETWORK_UPDATE_DELETE) {
                if (found < 0)
                        return lv_error_setf(
                                err, ENOENT,
                                "couldn't locate a matching DNS HOST record in network %s",
                                def->name);
                network_dns_host_clear(&def->dns_hosts[found]);
                slot_remove(def->dns_hosts, &def->n_dns_hosts, sizeof(*def->dns_hosts), found);
                return 0;
        }
        if (found >= 0)
                return lv_error_setf(err, LV_ERR_EXISTS,
                                     "there is already at least one DNS HOST record with a "
                                     "matching field in network %s",
                                     def->name);
        bool first = command == NETWORK_UPDATE_ADD_FIRST;
        struct network_dns_host *slot = slot_insert((void **)&def->dns_hosts, &def->n_dns_hosts,
                                                    sizeof(*def->dns_hosts), first);
        *slot = (struct network_dns_host){xstrdup_null(h->ip), strv_copy(h->hostnames)};
        int r = network_validate(def, err);
        if (r < 0) {
                int at = first ? 0 : def->n_dns_hosts - 1;
                network_dns_host_clear(&def->dns_hosts[at]);
                slot_remove(def->dns_hosts, &def->n_dns_hosts, sizeof(*def->dns_hosts), at);
        }
        return r;
}

static int update_dns_txt(struct network_def *def, int command, const struct network_dns_txt *t,
                          struct lv_error **err)
{
        if (command == NETWORK_UPDATE_MODIFY)
                return refuse_modify("DNS TXT records", err);
        int found = -1;
        for (int k = 0; k < def->n_dns_txts && found < 0; k++)
                if (streq(def->dns_txts[k].name, t->name))
                        found = k;
        if (command == NETWORK_UPDATE_DELETE) {
                if (found < 0)
                        return lv_error_setf(
                                err, ENOENT,
                                "couldn't locate a matching DNS TXT record in network %s",
                                def->name);
                network_dns_txt_clear(&def->dns_txts[found]);
                slot_remove(def->dns_txts, &def->n_dns_txts, sizeof(*def->dns_txts), found);
                return 0;
        }
        if (found >= 0)
                return lv_error_setf(err, LV_ERR_EXISTS,
                                     "there is already a DNS TXT record with name '%s'", t->name);
        bool first = command == NETWORK_UPDATE_ADD_FIRST;
        struct network_dns_txt *slot = slot_insert((void **)&def->dns_txts, &def->n_dns_txts,
                                                   sizeof(*def->dns_txts), first);
        *slot = (struct network_dns_txt){xstrdup(t->name), xstrdup_null(t->value)};
        int r = network_validate(def, err);
        if (r < 0) {
                int at = first ? 0 : def->n_dns_txts - 1;
                network_dns_txt_clear(&def->dns_txts[at]);
                slot_remove(def->dns_txts, &def->n_dns_txts, sizeof(*def->dns_txts), at);
        }
        return r;
}

/* libvirt: a record matches when every field the fragment gives is equal */
static bool srv_matches(const struct network_dns_srv *want, const struct network_dns_srv *o)
{
#define SAME_STR(f) (!want->f || (o->f && streq(want->f, o->f)))
#define SAME_NUM(f) (!want->f || want->f == o->f)
        return SAME_STR(service) && SAME_STR(protocol) && SAME_STR(domain) && SAME_STR(target) &&
               SAME_NUM(port) && SAME_NUM(priority) && SAME_NUM(weight);
#undef SAME_STR
#undef SAME_NUM
}

static int update_dns_srv(struct network_def *def, int command, const struct network_dns_srv *v,
                          struct lv_error **err)
{
        if (command == NETWORK_UPDATE_MODIFY)
                return refuse_modify("DNS SRV records", err);
        int found = -1, matches = 0;
        for (int k = 0; k < def->n_dns_srvs; k++)
                if (srv_matches(v, &def->dns_srvs[k])) {
                        found = found < 0 ? k : found;
                        matches++;
                }
        if (command == NETWORK_UPDATE_DELETE) {
                if (found < 0)
                        return lv_error_setf(
                                err, ENOENT,
                                "couldn't locate a matching DNS SRV record in network %s",
                                def->name);
                if (matches > 1)
                        return lv_error_setf(err, EINVAL,
                                             "multiple DNS SRV records matching all specified "
                                             "fields were found in network %s",
                                             def->name);
                network_dns_srv_clear(&def->dns_srvs[found]);
                slot_remove(def->dns_srvs, &def->n_dns_srvs, sizeof(*def->dns_srvs), found);
                return 0;
        }
        if (found >= 0)
                return lv_error_setf(err, LV_ERR_EXISTS,
                                     "there is already at least one DNS SRV record matching all "
                                     "specified fields in network %s",
                                     def->name);
        bool first = command == NETWORK_UPDATE_ADD_FIRST;
        struct network_dns_srv *slot = slot_insert((void **)&def->dns_srvs, &def->n_dns_srvs,
                                                   sizeof(*def->dns_srvs), first);
        *slot = (struct network_dns_srv){
                .service = xstrdup_null(v->service),
                .protocol = xstrdup_null(v->protocol),
                .domain = xstrdup_null(v->domain),
                .target = xstrdup_null(v->target),
                .port = v->port,
                .priority = v->priority,
                .weight = v->weight,
        };
        int r = network_validate(def, err);
        if (r < 0) {
                int at = first ? 0 : def->n_dns_srvs - 1;
                network_dns_srv_clear(&def->dns_srvs[at]);
                slot_remove(def->dns_srvs, &def->n_dns_srvs, sizeof(*def->dns_srvs), at);
        }
        return r;
}

int network_def_update(struct network_def *def, int command, int parent_index,
                       const struct network_update *u, struct lv_error **err)
{
        if (parent_index >= 0 && u->section != NETWORK_SECTION_IP_DHCP_HOST &&
            u->section != NETWORK_SECTION_IP_DHCP_RANGE)
                return lv_error_setf(err, EINVAL,
                                     "--parent-index applies to the ip-dhcp-host and "
                                     "ip-dhcp-range sections only");
        if (def->dns_disabled && u->section >= NETWORK_SECTION_DNS_HOST &&
            command != NETWORK_UPDATE_DELETE)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "network '%s' has DNS disabled (<dns enable='no'>)",
                                     def->name);
        switch (u->section) {
        case NETWORK_SECTION_IP_DHCP_HOST:
                return update_dhcp_host(def, command, parent_index, &u->host, err);
        case NETWORK_SECTION_IP_DHCP_RANGE:
                return update_dhcp_range(def, command, parent_index, &u->range, err);
        case NETWORK_SECTION_FORWARD_INTERFACE:
                return update_forward_interface(def, command, u->iface, err);
        case NETWORK_SECTION_DNS_HOST:
                return update_dns_host(def, command, &u->dns_host, err);
        case NETWORK_SECTION_DNS_TXT:
                return update_dns_txt(def, command, &u->txt, err);
        case NETWORK_SECTION_DNS_SRV:
                return update_dns_srv(def, command, &u->srv, err);
        }
        return lv_error_setf(err, EINVAL, "net-update: section %d is not known", u->section);
}
