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

/* A list section of a definition (ip-dhcp-host, ip-dhcp-range, dns-host,
 * dns-txt, dns-srv): how its entries are matched, copied, cleared and
 * named, for the one add/delete/rollback shape of list_update(). */
struct list_ops {
        const char *what; /* libvirt's words: "dhcp host entry", "DNS TXT record" */
        size_t size;
        bool name_quoted; /* libvirt quotes the network's name in the DHCP messages */
        bool delete_one;  /* a delete refuses a fragment that matches several */
        bool (*match)(int command, const void *want, const void *entry);
        void (*copy)(void *dst, const void *src);
        void (*clear)(void *entry);
        /* the error of an add that clashes with an entry: exists(), or
         * "there is already at least one <what> <exists_how> in network N" */
        int (*exists)(const struct network_def *def, const void *want, struct lv_error **err);
        const char *exists_how;
};

static void *list_entry(const struct list_ops *ops, void *arr, int k)
{
        return (char *)arr + ops->size * (size_t)k;
}

/* The first entry matching want for command (-1: none), *ret_matches how many do. */
static int list_find(const struct list_ops *ops, void *arr, int n, int command, const void *want,
                     int *ret_matches)
{
        int found = -1, matches = 0;
        for (int k = 0; k < n; k++)
                if (ops->match(command, want, list_entry(ops, arr, k))) {
                        found = found < 0 ? k : found;
                        matches++;
                }
        *ret_matches = matches;
        return found;
}

/* Delete the entry want matches, or add a copy of want (add-first: at the
 * front) that must match none; an add turns *has_dhcp on (when given). The
 * result is validated; on any error the section is as it was. */
static int list_update(struct network_def *def, const struct list_ops *ops, void **arr, int *n,
                       bool *has_dhcp, int command, const void *want, struct lv_error **err)
{
        int matches;
        int found = list_find(ops, *arr, *n, command, want, &matches);
        if (command == NETWORK_UPDATE_DELETE) {
                const char *q = ops->name_quoted ? "'" : "";
                if (found < 0)
                        return lv_error_setf(err, ENOENT,
                                             "couldn't locate a matching %s in network %s%s%s",
                                             ops->what, q, def->name, q);
                if (matches > 1 && ops->delete_one)
                        return lv_error_setf(err, EINVAL,
                                             "multiple %ss matching all specified fields were "
                                             "found in network %s",
                                             ops->what, def->name);
                ops->clear(list_entry(ops, *arr, found));
                slot_remove(*arr, n, ops->size, found);
                return 0;
        }
        if (found >= 0 && ops->exists)
                return ops->exists(def, want, err);
        if (found >= 0)
                return lv_error_setf(err, LV_ERR_EXISTS,
                                     "there is already at least one %s %s in network %s", ops->what,
                                     ops->exists_how, def->name);
        bool first = command == NETWORK_UPDATE_ADD_FIRST, had_dhcp = has_dhcp && *has_dhcp;
        ops->copy(slot_insert(arr, n, ops->size, first), want);
        if (has_dhcp)
                *has_dhcp = true;
        int r = network_validate(def, err);
        if (r < 0) {
                int at = first ? 0 : *n - 1;
                ops->clear(list_entry(ops, *arr, at));
                slot_remove(*arr, n, ops->size, at);
                if (has_dhcp)
                        *has_dhcp = had_dhcp;
        }
        return r;
}

/* --- ip-dhcp-host ----------------------------------------------------- */

static bool host_match(int command, const void *want, const void *entry)
{
        const struct network_dhcp_host *h = want, *o = entry;
        if (command == NETWORK_UPDATE_MODIFY) /* the entry of that MAC (or DUID) */
                return h->mac ? o->mac && strcasecmp(h->mac, o->mac) == 0
                              : h->id && o->id && streq(h->id, o->id);
        if (command == NETWORK_UPDATE_DELETE)
                return h->mac && o->mac     ? strcasecmp(h->mac, o->mac) == 0
                       : h->name && o->name ? streq(h->name, o->name)
                                            : h->ip && o->ip && streq(h->ip, o->ip);
        /* an add clashes with any entry sharing MAC, name or address */
        return (h->mac && o->mac && strcasecmp(h->mac, o->mac) == 0) ||
               (h->name && o->name && streq(h->name, o->name)) ||
               (h->ip && o->ip && streq(h->ip, o->ip));
}

static void host_copy(void *dst, const void *src)
{
        const struct network_dhcp_host *h = src;
        *(struct network_dhcp_host *)dst = (struct network_dhcp_host){
                .mac = xstrdup_null(h->mac),
                .id = xstrdup_null(h->id),
                .name = xstrdup_null(h->name),
                .ip = xstrdup_null(h->ip),
        };
}

static void host_clear(void *entry)
{
        network_dhcp_host_clear(entry);
}

static int host_exists(const struct network_def *def, const void *want, struct lv_error **err)
{
        const struct network_dhcp_host *h = want;
        return lv_error_setf(err, LV_ERR_EXISTS,
                             "there is an existing dhcp host entry in network '%s' that "
                             "matches \"<host mac='%s' name='%s' ip='%s'/>\"",
                             def->name, h->mac ? h->mac : "", h->name ? h->name : "",
                             h->ip ? h->ip : "");
}

static const struct list_ops host_ops = {
        .what = "dhcp host entry",
        .size = sizeof(struct network_dhcp_host),
        .name_quoted = true,
        .match = host_match,
        .copy = host_copy,
        .clear = host_clear,
        .exists = host_exists,
};

/* modify: the entry of that MAC (or DUID) replaced */
static int host_modify(struct network_def *def, struct network_ip *ip,
                       const struct network_dhcp_host *h, struct lv_error **err)
{
        int matches;
        int found =
                list_find(&host_ops, ip->hosts, ip->n_hosts, NETWORK_UPDATE_MODIFY, h, &matches);
        if (found < 0)
                return lv_error_setf(err, ENOENT,
                                     "couldn't locate an existing dhcp host entry with "
                                     "\"%s='%s'\" in network '%s'",
                                     h->mac ? "mac" : "id",
                                     h->mac  ? h->mac
                                     : h->id ? h->id
                                             : "",
                                     def->name);
        struct network_dhcp_host old = ip->hosts[found];
        host_copy(&ip->hosts[found], h);
        int r = network_validate(def, err);
        network_dhcp_host_clear(r < 0 ? &ip->hosts[found] : &old);
        if (r < 0)
                ip->hosts[found] = old;
        return r;
}

/* --- ip-dhcp-range ---------------------------------------------------- */

static bool range_match(int command, const void *want, const void *entry)
{
        const struct network_dhcp_range *rg = want, *o = entry;
        (void)command;
        return streq(o->start, rg->start) && streq(o->end, rg->end);
}

static void range_copy(void *dst, const void *src)
{
        const struct network_dhcp_range *rg = src;
        *(struct network_dhcp_range *)dst =
                (struct network_dhcp_range){xstrdup(rg->start), xstrdup(rg->end)};
}

static void range_clear(void *entry)
{
        struct network_dhcp_range *rg = entry;
        free(rg->start);
        free(rg->end);
}

static int range_exists(const struct network_def *def, const void *want, struct lv_error **err)
{
        const struct network_dhcp_range *rg = want;
        return lv_error_setf(err, LV_ERR_EXISTS,
                             "there is an existing dhcp range entry in network '%s' that "
                             "matches \"<range start='%s' end='%s'/>\"",
                             def->name, rg->start, rg->end);
}

static const struct list_ops range_ops = {
        .what = "dhcp range entry",
        .size = sizeof(struct network_dhcp_range),
        .name_quoted = true,
        .match = range_match,
        .copy = range_copy,
        .clear = range_clear,
        .exists = range_exists,
};

static int update_dhcp(struct network_def *def, int command, int parent_index,
                       const struct network_update *u, struct lv_error **err)
{
        bool host = u->section == NETWORK_SECTION_IP_DHCP_HOST;
        struct network_ip *ip = dhcp_ip(def, parent_index, host ? "dhcp host" : "dhcp range", err);
        if (!ip)
                return -ENOENT;
        if (!host)
                return list_update(def, &range_ops, (void **)&ip->ranges, &ip->n_ranges,
                                   &ip->has_dhcp, command, &u->range, err);
        if (command == NETWORK_UPDATE_MODIFY)
                return host_modify(def, ip, &u->host, err);
        return list_update(def, &host_ops, (void **)&ip->hosts, &ip->n_hosts, &ip->has_dhcp,
                           command, &u->host, err);
}

/* --- forward-interface: one, not a list ----------------------------------- */

static int update_forward_interface(struct network_def *def, int command, const char *dev,
                                    struct lv_error **err)
{
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

/* --- dns-host --------------------------------------------------------- */

static bool dns_host_match(int command, const void *want, const void *entry)
{
        const struct network_dns_host *a = want, *b = entry;
        (void)command;
        if (a->ip && b->ip && streq(a->ip, b->ip))
                return true;
        for (char **n = a->hostnames; n && *n; n++)
                if (strv_contains(b->hostnames, *n))
                        return true;
        return false;
}

static void dns_host_copy(void *dst, const void *src)
{
        const struct network_dns_host *h = src;
        *(struct network_dns_host *)dst =
                (struct network_dns_host){xstrdup_null(h->ip), strv_copy(h->hostnames)};
}

static void dns_host_clear(void *entry)
{
        network_dns_host_clear(entry);
}

static const struct list_ops dns_host_ops = {
        .what = "DNS HOST record",
        .size = sizeof(struct network_dns_host),
        .match = dns_host_match,
        .copy = dns_host_copy,
        .clear = dns_host_clear,
        .exists_how = "with a matching field",
};

/* --- dns-txt ---------------------------------------------------------- */

static bool txt_match(int command, const void *want, const void *entry)
{
        const struct network_dns_txt *t = want, *o = entry;
        (void)command;
        return streq(o->name, t->name);
}

static void txt_copy(void *dst, const void *src)
{
        const struct network_dns_txt *t = src;
        *(struct network_dns_txt *)dst =
                (struct network_dns_txt){xstrdup(t->name), xstrdup_null(t->value)};
}

static void txt_clear(void *entry)
{
        network_dns_txt_clear(entry);
}

static int txt_exists(const struct network_def *def, const void *want, struct lv_error **err)
{
        const struct network_dns_txt *t = want;
        (void)def;
        return lv_error_setf(err, LV_ERR_EXISTS, "there is already a DNS TXT record with name '%s'",
                             t->name);
}

static const struct list_ops txt_ops = {
        .what = "DNS TXT record",
        .size = sizeof(struct network_dns_txt),
        .match = txt_match,
        .copy = txt_copy,
        .clear = txt_clear,
        .exists = txt_exists,
};

/* --- dns-srv ---------------------------------------------------------- */

/* libvirt: a record matches when every field the fragment gives is equal */
static bool srv_match(int command, const void *want_, const void *entry)
{
        const struct network_dns_srv *want = want_, *o = entry;
        (void)command;
#define SAME_STR(f) (!want->f || (o->f && streq(want->f, o->f)))
#define SAME_NUM(f) (!want->f || want->f == o->f)
        return SAME_STR(service) && SAME_STR(protocol) && SAME_STR(domain) && SAME_STR(target) &&
               SAME_NUM(port) && SAME_NUM(priority) && SAME_NUM(weight);
#undef SAME_STR
#undef SAME_NUM
}

static void srv_copy(void *dst, const void *src)
{
        const struct network_dns_srv *v = src;
        *(struct network_dns_srv *)dst = (struct network_dns_srv){
                .service = xstrdup_null(v->service),
                .protocol = xstrdup_null(v->protocol),
                .domain = xstrdup_null(v->domain),
                .target = xstrdup_null(v->target),
                .port = v->port,
                .priority = v->priority,
                .weight = v->weight,
        };
}

static void srv_clear(void *entry)
{
        network_dns_srv_clear(entry);
}

static const struct list_ops srv_ops = {
        .what = "DNS SRV record",
        .size = sizeof(struct network_dns_srv),
        .delete_one = true,
        .match = srv_match,
        .copy = srv_copy,
        .clear = srv_clear,
        .exists_how = "matching all specified fields",
};

/* libvirt's words for the sections whose entries cannot be modified */
static const char *const unmodifiable[NETWORK_SECTION_LAST] = {
        [NETWORK_SECTION_IP_DHCP_RANGE] = "dhcp ranges",
        [NETWORK_SECTION_FORWARD_INTERFACE] = "forward interface entries",
        [NETWORK_SECTION_DNS_HOST] = "DNS HOST records",
        [NETWORK_SECTION_DNS_TXT] = "DNS TXT records",
        [NETWORK_SECTION_DNS_SRV] = "DNS SRV records",
};

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
        if (command == NETWORK_UPDATE_MODIFY && u->section >= 0 &&
            u->section < NETWORK_SECTION_LAST && unmodifiable[u->section])
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "%s cannot be modified, only added or deleted",
                                     unmodifiable[u->section]);
        switch (u->section) {
        case NETWORK_SECTION_IP_DHCP_HOST:
        case NETWORK_SECTION_IP_DHCP_RANGE:
                return update_dhcp(def, command, parent_index, u, err);
        case NETWORK_SECTION_FORWARD_INTERFACE:
                return update_forward_interface(def, command, u->iface, err);
        case NETWORK_SECTION_DNS_HOST:
                return list_update(def, &dns_host_ops, (void **)&def->dns_hosts, &def->n_dns_hosts,
                                   NULL, command, &u->dns_host, err);
        case NETWORK_SECTION_DNS_TXT:
                return list_update(def, &txt_ops, (void **)&def->dns_txts, &def->n_dns_txts, NULL,
                                   command, &u->txt, err);
        case NETWORK_SECTION_DNS_SRV:
                return list_update(def, &srv_ops, (void **)&def->dns_srvs, &def->n_dns_srvs, NULL,
                                   command, &u->srv, err);
        }
        return lv_error_setf(err, EINVAL, "net-update: section %d is not known", u->section);
}
