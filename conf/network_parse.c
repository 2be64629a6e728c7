/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt's network XML → model (libxml2). The same hostile-XML loader,
 * helpers and consumption check as the domain parser: whatever the user
 * wrote that litevirt does not read is refused by name and line. */
#include <ctype.h>

#include "conf/domain_parse_priv.h"
#include "conf/network.h"
#include "conf/xml_load.h"
#include "util/fileio.h"

static int parse_forward(struct pctx *c, struct network_def *def, xmlNodePtr root)
{
        int r = 0, mode = NETWORK_FORWARD_NAT; /* libvirt: <forward/> is nat */
        xmlNodePtr f = dparse_child_get(c, root, "forward", &r);
        if (r < 0 || !f)
                return r;
        if ((r = dparse_attr_enum(c, f, "mode", network_forward_from_string, &mode)) < 0)
                return r;
        def->forward = mode;
        def->forward_dev = dparse_attr_get(f, "dev");
        /* libvirt writes dev= also as one <interface dev=.../> */
        xmlNodePtr iface = dparse_child_get(c, f, "interface", &r);
        if (r < 0)
                return r;
        if (iface) {
                _cleanup_free_ char *dev = NULL;
                if ((r = dparse_attr_require(c, iface, "dev", &dev)) < 0)
                        return r;
                if (def->forward_dev && !streq(def->forward_dev, dev))
                        return dparse_perr(c, iface,
                                           "dev '%s' is not the <forward dev='%s'> (one "
                                           "forward interface is supported)",
                                           dev, def->forward_dev);
                if (!def->forward_dev)
                        def->forward_dev = TAKE_PTR(dev);
        }
        xmlNodePtr nat = dparse_child_get(c, f, "nat", &r);
        if (r < 0 || !nat)
                return r;
        if (mode != NETWORK_FORWARD_NAT)
                return dparse_perr(c, nat, "only allowed with forward mode 'nat'");
        xmlNodePtr port = dparse_child_get(c, nat, "port", &r);
        if (r < 0 || !port)
                return r;
        unsigned long long start = 0, end = 0;
        if ((r = dparse_attr_uint(c, port, "start", 65535, &start)) < 0 ||
            (r = dparse_attr_uint(c, port, "end", 65535, &end)) < 0)
                return r;
        if (!start || !end)
                return dparse_perr(c, port, "needs both 'start' and 'end' (1..65535)");
        def->nat_port_start = (unsigned)start;
        def->nat_port_end = (unsigned)end;
        return 0;
}

static int parse_bridge(struct pctx *c, struct network_def *def, xmlNodePtr root)
{
        int r = 0;
        xmlNodePtr b = dparse_child_get(c, root, "bridge", &r);
        if (r < 0 || !b)
                return r;
        def->bridge = dparse_attr_get(b, "name");
        if (xmlHasNsProp(b, BAD_CAST "stp", NULL)) {
                bool stp = true;
                if ((r = dparse_attr_bool(c, b, "stp", &stp)) < 0)
                        return r;
                def->stp = stp;
        }
        long long delay = -1;
        if ((r = dparse_attr_int(c, b, "delay", 0, 3600, &delay)) < 0)
                return r;
        def->delay = (int)delay;
        return 0;
}

/* <host ip=><hostname>…</hostname>…</host> of <dns> */
static int dns_host_read(struct pctx *c, xmlNodePtr h, struct network_dns_host *dh)
{
        int r = dparse_attr_require(c, h, "ip", &dh->ip);
        if (r < 0)
                return r;
        dh->hostnames = xcalloc(1, sizeof(char *));
        for_each_child(n, h, "hostname") strv_push(&dh->hostnames, dparse_node_text(n));
        return 0;
}

/* <txt name= value=/>; a delete names the record only (partial) */
static int dns_txt_read(struct pctx *c, xmlNodePtr n, bool partial, struct network_dns_txt *t)
{
        int r = dparse_attr_require(c, n, "name", &t->name);
        if (r < 0)
                return r;
        t->value = dparse_attr_get(n, "value");
        if (!t->value && !partial)
                return dparse_perr(c, n, "missing attribute 'value' (DNS TXT record '%s')",
                                   t->name);
        return 0;
}

/* <srv service= protocol= domain= target= port= priority= weight=/> */
static int dns_srv_read(struct pctx *c, xmlNodePtr n, bool partial, struct network_dns_srv *v)
{
        v->service = dparse_attr_get(n, "service");
        v->protocol = dparse_attr_get(n, "protocol");
        v->domain = dparse_attr_get(n, "domain");
        v->target = dparse_attr_get(n, "target");
        if (!partial && !v->service)
                return dparse_perr(c, n, "missing attribute 'service' (DNS SRV record)");
        if (!partial && !v->protocol)
                return dparse_perr(c, n, "missing attribute 'protocol' (DNS SRV record '%s')",
                                   v->service);
        unsigned long long port = 0, priority = 0, weight = 0;
        int r;
        if ((r = dparse_attr_uint(c, n, "port", 65535, &port)) < 0 ||
            (r = dparse_attr_uint(c, n, "priority", 65535, &priority)) < 0 ||
            (r = dparse_attr_uint(c, n, "weight", 65535, &weight)) < 0)
                return r;
        v->port = (unsigned)port;
        v->priority = (unsigned)priority;
        v->weight = (unsigned)weight;
        return 0;
}

static int parse_dns(struct pctx *c, struct network_def *def, xmlNodePtr root)
{
        int r = 0;
        xmlNodePtr d = dparse_child_get(c, root, "dns", &r);
        if (r < 0 || !d)
                return r;
        bool enable = true;
        if ((r = dparse_attr_bool(c, d, "enable", &enable)) < 0)
                return r;
        def->dns_disabled = !enable;
        for_each_child(f, d, "forwarder")
        {
                char *addr = NULL;
                if ((r = dparse_attr_require(c, f, "addr", &addr)) < 0)
                        return r;
                strv_push(&def->dns_forwarders, addr);
        }
        for_each_child(t, d, "txt")
        {
                if ((r = dns_txt_read(c, t, false, ARRAY_PUSH(def->dns_txts, def->n_dns_txts))) < 0)
                        return r;
        }
        for_each_child(v, d, "srv")
        {
                if ((r = dns_srv_read(c, v, false, ARRAY_PUSH(def->dns_srvs, def->n_dns_srvs))) < 0)
                        return r;
        }
        for_each_child(h, d, "host")
        {
                struct network_dns_host *dh = ARRAY_PUSH(def->dns_hosts, def->n_dns_hosts);
                if ((r = dns_host_read(c, h, dh)) < 0)
                        return r;
        }
        if (def->dns_disabled &&
            (def->dns_forwarders || def->n_dns_hosts || def->n_dns_txts || def->n_dns_srvs))
                return dparse_perr(c, d, "enable='no' with forwarders, hosts, txt or srv records");
        return 0;
}

static void host_read(xmlNodePtr h, struct network_dhcp_host *x)
{
        x->mac = dparse_attr_get(h, "mac");
        x->id = dparse_attr_get(h, "id");
        x->name = dparse_attr_get(h, "name");
        x->ip = dparse_attr_get(h, "ip");
        for (char *p = x->mac; p && *p; p++)
                *p = (char)tolower((unsigned char)*p);
}

static int parse_ip(struct pctx *c, struct network_def *def, xmlNodePtr n)
{
        struct network_ip *ip = ARRAY_PUSH(def->ips, def->n_ips);
        int r = 0;
        ip->prefix = -1;
        _cleanup_free_ char *family = dparse_attr_get(n, "family");
        ip->address = dparse_attr_get(n, "address");
        ip->netmask = dparse_attr_get(n, "netmask");
        if (family) {
                if (!streq(family, "ipv4") && !streq(family, "ipv6"))
                        return dparse_perr_attr(c, n, "family",
                                                "value '%s' not supported by litevirt", family);
                ip->family_given = true;
                ip->ipv6 = streq(family, "ipv6");
        } else {
                ip->ipv6 = ip->address && strchr(ip->address, ':');
        }
        long long prefix = -1;
        if ((r = dparse_attr_int(c, n, "prefix", 0, 128, &prefix)) < 0)
                return r;
        ip->prefix = (int)prefix;
        xmlNodePtr dhcp = dparse_child_get(c, n, "dhcp", &r);
        if (r < 0 || !dhcp)
                return r;
        ip->has_dhcp = true;
        for_each_child(rg, dhcp, "range")
        {
                struct network_dhcp_range *x = ARRAY_PUSH(ip->ranges, ip->n_ranges);
                if ((r = dparse_attr_require(c, rg, "start", &x->start)) < 0 ||
                    (r = dparse_attr_require(c, rg, "end", &x->end)) < 0)
                        return r;
        }
        for_each_child(h, dhcp, "host")
        {
                host_read(h, ARRAY_PUSH(ip->hosts, ip->n_hosts));
        }
        return 0;
}

static int document_load(const char *xml, size_t len, const char *file, xmlDocPtr *ret,
                         struct lv_error **err)
{
        int line = 0;
        _cleanup_free_ char *reason = NULL;
        if (xml_load_untrusted(xml, len, NETWORK_XML_MAX_BYTES, file, ret, &line, &reason) < 0)
                return line > 0 ? lv_error_setf(err, LV_ERR_INVALID_XML, "%s:%d: %s", file, line,
                                                reason)
                                : lv_error_setf(err, LV_ERR_INVALID_XML, "%s: %s", file, reason);
        if (!xmlDocGetRootElement(*ret))
                return lv_error_setf(err, LV_ERR_INVALID_XML, "%s: empty document", file);
        return 0;
}

/* A net-update fragment (the section's name stands for the file in
 * errors): its root, the element the section takes, consumed. */
static int fragment_load(const char *xml, size_t len, struct pctx *c, const char *element,
                         xmlDocPtr *doc, xmlNodePtr *ret_root)
{
        int r = document_load(xml, len, c->file, doc, c->err);
        if (r < 0)
                return r;
        xmlNodePtr root = xmlDocGetRootElement(*doc);
        if (!xmlStrEqual(root->name, BAD_CAST element) || root->ns)
                return dparse_perr(c, root, "expected a <%s> element", element);
        dparse_node_consume(root);
        *ret_root = root;
        return 0;
}

static int update_read(struct pctx *c, xmlNodePtr root, bool partial, struct network_update *u)
{
        switch (u->section) {
        case NETWORK_SECTION_IP_DHCP_HOST:
                host_read(root, &u->host);
                if (!u->host.mac && !u->host.id && !u->host.name && !u->host.ip)
                        return dparse_perr(c, root, "needs one of 'mac', 'id', 'name' or 'ip'");
                return 0;
        case NETWORK_SECTION_IP_DHCP_RANGE: {
                int r = dparse_attr_require(c, root, "start", &u->range.start);
                return r < 0 ? r : dparse_attr_require(c, root, "end", &u->range.end);
        }
        case NETWORK_SECTION_FORWARD_INTERFACE:
                return dparse_attr_require(c, root, "dev", &u->iface);
        case NETWORK_SECTION_DNS_HOST:
                return dns_host_read(c, root, &u->dns_host);
        case NETWORK_SECTION_DNS_TXT:
                return dns_txt_read(c, root, partial, &u->txt);
        case NETWORK_SECTION_DNS_SRV:
                return dns_srv_read(c, root, partial, &u->srv);
        }
        return lv_error_setf(c->err, EINVAL, "net-update: section %d is not known", u->section);
}

int network_update_parse_string(int section, int command, const char *xml, size_t len,
                                struct network_update *ret, struct lv_error **err)
{
        static const char *const elements[NETWORK_SECTION_LAST] = {
                [NETWORK_SECTION_IP_DHCP_HOST] = "host",
                [NETWORK_SECTION_IP_DHCP_RANGE] = "range",
                [NETWORK_SECTION_FORWARD_INTERFACE] = "interface",
                [NETWORK_SECTION_DNS_HOST] = "host",
                [NETWORK_SECTION_DNS_TXT] = "txt",
                [NETWORK_SECTION_DNS_SRV] = "srv",
        };
        const char *name = network_update_section_to_string(section);
        if (!name)
                return lv_error_setf(err, EINVAL, "net-update: section %d is not known", section);
        struct pctx c = {.file = name, .err = err};
        _cleanup_(xml_doc_freep) xmlDocPtr doc = NULL;
        xmlNodePtr root = NULL;
        int r = fragment_load(xml, len, &c, elements[section], &doc, &root);
        if (r < 0)
                return r;
        struct network_update u = {.section = section};
        r = update_read(&c, root, command == NETWORK_UPDATE_DELETE, &u);
        if (r >= 0)
                r = dparse_check_consumed(&c, root);
        if (r < 0) {
                network_update_clear(&u);
                return r;
        }
        *ret = u;
        return 0;
}

static int parse_network(struct pctx *c, struct network_def *def, xmlNodePtr root)
{
        int r;
        if (!xmlStrEqual(root->name, BAD_CAST "network") || root->ns)
                return dparse_perr(c, root, "the document is not a <network> definition");
        dparse_node_consume(root);
        if ((r = dparse_elem_text(c, root, "name", &def->name)) < 0)
                return r;
        if (!def->name)
                return dparse_perr(c, root, "missing element 'name'");
        _cleanup_free_ char *uuid = NULL;
        xmlNodePtr u = dparse_child_get(c, root, "uuid", &r);
        if (r < 0)
                return r;
        if (u) {
                uuid = dparse_node_text(u);
                if (domain_uuid_parse(uuid, def->uuid) < 0)
                        return dparse_perr(c, u, "'%s' is not a valid UUID", uuid);
        } else if ((r = domain_uuid_generate(def->uuid)) < 0) {
                return lv_error_set(c->err, -r, "%s: generating a UUID", c->file);
        }
        if ((r = parse_forward(c, def, root)) < 0 || (r = parse_bridge(c, def, root)) < 0)
                return r;
        xmlNodePtr n = dparse_child_get(c, root, "mtu", &r);
        if (r < 0)
                return r;
        if (n) {
                unsigned long long mtu = 0;
                if ((r = dparse_attr_uint(c, n, "size", 65535, &mtu)) < 0)
                        return r;
                if (!mtu)
                        return dparse_perr(c, n, "missing attribute 'size'");
                def->mtu = (unsigned)mtu;
        }
        if ((n = dparse_child_get(c, root, "mac", &r)) && r == 0) {
                if ((r = dparse_attr_require(c, n, "address", &def->mac)) < 0)
                        return r;
                for (char *p = def->mac; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
        }
        if (r < 0)
                return r;
        if ((n = dparse_child_get(c, root, "domain", &r)) && r == 0) {
                if ((r = dparse_attr_require(c, n, "name", &def->domain)) < 0 ||
                    (r = dparse_attr_bool(c, n, "localOnly", &def->domain_local_only)) < 0)
                        return r;
        }
        if (r < 0 || (r = parse_dns(c, def, root)) < 0)
                return r;
        for_each_child(ip, root, "ip") if ((r = parse_ip(c, def, ip)) < 0) return r;
        return dparse_check_consumed(c, root);
}

int network_parse_string(const char *xml, size_t len, const char *filename,
                         struct network_def **ret, struct lv_error **err)
{
        const char *file = filename ? filename : "(string)";
        _cleanup_(xml_doc_freep) xmlDocPtr doc = NULL;
        int r = document_load(xml, len, file, &doc, err);
        if (r < 0)
                return r;
        xmlNodePtr root = xmlDocGetRootElement(doc);
        _cleanup_network_def_ struct network_def *def = xcalloc(1, sizeof(*def));
        def->stp = -1;
        def->delay = -1;
        struct pctx c = {.file = file, .err = err};
        r = parse_network(&c, def, root);
        if (r < 0)
                return r;
        /* libvirt's defaults for a bridge it makes: STP on, no delay */
        if (network_def_makes_bridge(def) && def->stp < 0)
                def->stp = 1;
        if (network_def_makes_bridge(def) && def->delay < 0)
                def->delay = 0;
        if ((r = network_validate(def, err)) < 0)
                return lv_error_prefix(err, "%s", file);
        *ret = TAKE_PTR(def);
        return 0;
}

int network_parse_file(const char *path, struct network_def **ret, struct lv_error **err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = file_read_bounded(path, NETWORK_XML_MAX_BYTES, &data, &len, err);
        if (r < 0)
                return r;
        return network_parse_string(data, len, path, ret, err);
}
