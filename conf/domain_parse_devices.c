/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Domain XML → model: the <devices> section. */
#include <ctype.h>

#include "conf/domain_parse_priv.h"

/* A child element's attribute, e.g. <source dir='...'/>: NULL when the child
 * or the attribute is absent. */
static int sub_attr(struct pctx *c, xmlNodePtr parent, const char *elem, const char *attr,
                    char **ret)
{
        int r = 0;
        xmlNodePtr n = dparse_child_get(c, parent, elem, &r);
        if (r < 0 || !n)
                return r;
        free(*ret);
        *ret = dparse_attr_get(n, attr);
        return 0;
}

static int sub_flag(struct pctx *c, xmlNodePtr parent, const char *elem, bool *ret)
{
        int r = 0;
        xmlNodePtr n = dparse_child_get(c, parent, elem, &r);
        if (r < 0)
                return r;
        if (n)
                *ret = true;
        return 0;
}

static int parse_filesystem(struct pctx *c, xmlNodePtr n)
{
        struct domain_def *def = c->def;
        struct domain_fs *fs = ARRAY_PUSH(def->filesystems, def->n_filesystems);
        int r, type = DOMAIN_FS_MOUNT;
        if ((r = dparse_attr_enum(c, n, "type", domain_fs_type_from_string, &type)) < 0)
                return r;
        fs->type = type;
        fs->accessmode = dparse_attr_get(n, "accessmode");
        if (fs->accessmode && !streq(fs->accessmode, "passthrough") &&
            !streq(fs->accessmode, "mapped") && !streq(fs->accessmode, "squash"))
                return dparse_perr_attr(c, n, "accessmode", "value '%s' not supported by litevirt",
                                        fs->accessmode);
        xmlNodePtr src = dparse_child_get(c, n, "source", &r);
        if (r < 0)
                return r;
        static const char *const src_attr[] = {
                [DOMAIN_FS_MOUNT] = "dir", [DOMAIN_FS_RAM] = "usage", [DOMAIN_FS_FILE] = "file",
                [DOMAIN_FS_BLOCK] = "dev", [DOMAIN_FS_BIND] = "dir",
        };
        if (!src)
                return dparse_perr(c, n, "missing element 'source'");
        if (type == DOMAIN_FS_RAM) {
                _cleanup_free_ char *usage = dparse_attr_get(src, "usage");
                _cleanup_free_ char *units = dparse_attr_get(src, "units");
                const char *reason = NULL;
                if (!usage)
                        return dparse_perr(c, src, "missing attribute 'usage'");
                r = domain_memory_to_kib(usage, units, &fs->usage_kib, &reason);
                if (r < 0)
                        return dparse_perr_attr(c, src, "usage", "'%s'%s%s: %s", usage,
                                                units ? " " : "", units ? units : "", reason);
        } else if ((r = dparse_attr_require(c, src, src_attr[type], &fs->source)) < 0) {
                return r;
        }
        xmlNodePtr tgt = dparse_child_get(c, n, "target", &r);
        if (r < 0)
                return r;
        if (!tgt)
                return dparse_perr(c, n, "missing element 'target'");
        if ((r = dparse_attr_require(c, tgt, "dir", &fs->target)) < 0)
                return r;
        if ((r = sub_flag(c, n, "readonly", &fs->readonly)) < 0)
                return r;
        xmlNodePtr drv = dparse_child_get(c, n, "driver", &r);
        if (r < 0)
                return r;
        if (drv) {
                fs->driver_type = dparse_attr_get(drv, "type");
                fs->driver_format = dparse_attr_get(drv, "format");
        }
        return 0;
}

/* <backingStore type='file'><format type='F'/><source file='P'/>: one
 * level (an empty <backingStore/> says there is none) */
static int parse_backing_store(struct pctx *c, xmlNodePtr n, struct domain_disk *d)
{
        int r = 0, format = DOMAIN_DISK_FORMAT_NONE;
        xmlNodePtr bs = dparse_child_get(c, n, "backingStore", &r);
        if (r < 0 || !bs || !bs->children)
                return r;
        _cleanup_free_ char *type = dparse_attr_get(bs, "type");
        free(dparse_attr_get(bs, "index")); /* libvirt's numbering: ours is one level */
        if (type && !streq(type, "file"))
                return dparse_perr_attr(c, bs, "type", "value '%s' not supported by litevirt",
                                        type);
        if ((r = sub_attr(c, bs, "source", "file", &d->backing_source)) < 0)
                return r;
        if (!d->backing_source)
                return dparse_perr(c, bs, "missing element 'source' with attribute 'file'");
        xmlNodePtr fmt = dparse_child_get(c, bs, "format", &r);
        if (r < 0 || (fmt && (r = dparse_attr_enum(c, fmt, "type", domain_disk_format_from_string,
                                                   &format)) < 0))
                return r;
        d->backing_format = format;
        return 0;
}

static int parse_disk(struct pctx *c, xmlNodePtr n)
{
        struct domain_def *def = c->def;
        struct domain_disk *d = ARRAY_PUSH(def->disks, def->n_disks);
        int r, type = DOMAIN_DISK_FILE, device = DOMAIN_DISK_DEVICE_DISK;
        int bus = DOMAIN_DISK_BUS_NONE, format = DOMAIN_DISK_FORMAT_NONE;
        if ((r = dparse_attr_enum(c, n, "type", domain_disk_type_from_string, &type)) < 0 ||
            (r = dparse_attr_enum(c, n, "device", domain_disk_device_from_string, &device)) < 0)
                return r;
        d->type = type;
        d->device = device;
        xmlNodePtr drv = dparse_child_get(c, n, "driver", &r);
        if (r < 0)
                return r;
        if (drv) {
                d->driver_name = dparse_attr_get(drv, "name");
                d->driver_cache = dparse_attr_get(drv, "cache");
                if ((r = dparse_attr_enum(c, drv, "type", domain_disk_format_from_string,
                                          &format)) < 0)
                        return r;
                d->format = format;
        }
        xmlNodePtr src = dparse_child_get(c, n, "source", &r);
        if (r < 0)
                return r;
        if (src && (r = dparse_attr_require(c, src, type == DOMAIN_DISK_FILE ? "file" : "dev",
                                            &d->source)) < 0)
                return r;
        if (!src && device != DOMAIN_DISK_DEVICE_CDROM)
                return dparse_perr(c, n, "missing element 'source'");
        if ((r = parse_backing_store(c, n, d)) < 0)
                return r;
        xmlNodePtr tgt = dparse_child_get(c, n, "target", &r);
        if (r < 0)
                return r;
        if (!tgt)
                return dparse_perr(c, n, "missing element 'target'");
        if ((r = dparse_attr_require(c, tgt, "dev", &d->target_dev)) < 0 ||
            (r = dparse_attr_enum(c, tgt, "bus", domain_disk_bus_from_string, &bus)) < 0)
                return r;
        d->bus = bus;
        if ((r = sub_flag(c, n, "readonly", &d->readonly)) < 0 ||
            (r = sub_flag(c, n, "shareable", &d->shareable)) < 0 ||
            (r = dparse_parse_address(c, n, &d->address)) < 0)
                return r;
        return 0;
}

static int parse_ip(struct pctx *c, xmlNodePtr n, struct domain_net *net)
{
        struct domain_ip *ip = ARRAY_PUSH(net->ips, net->n_ips);
        long long prefix = -1;
        int r;
        ip->prefix = -1;
        if ((r = dparse_attr_require(c, n, "address", &ip->address)) < 0 ||
            (r = dparse_attr_int(c, n, "prefix", 0, 128, &prefix)) < 0)
                return r;
        ip->prefix = (int)prefix;
        ip->family = dparse_attr_get(n, "family");
        ip->peer = dparse_attr_get(n, "peer");
        if (ip->family && !streq(ip->family, "ipv4") && !streq(ip->family, "ipv6"))
                return dparse_perr_attr(c, n, "family", "value '%s' not supported by litevirt",
                                        ip->family);
        return 0;
}

static int parse_route(struct pctx *c, xmlNodePtr n, struct domain_net *net)
{
        struct domain_route *rt = ARRAY_PUSH(net->routes, net->n_routes);
        long long prefix = -1, metric = -1;
        int r;
        rt->prefix = rt->metric = -1;
        if ((r = dparse_attr_require(c, n, "address", &rt->address)) < 0 ||
            (r = dparse_attr_require(c, n, "gateway", &rt->gateway)) < 0 ||
            (r = dparse_attr_int(c, n, "prefix", 0, 128, &prefix)) < 0 ||
            (r = dparse_attr_int(c, n, "metric", 0, UINT32_MAX, &metric)) < 0)
                return r;
        rt->prefix = (int)prefix;
        rt->metric = (int)metric;
        rt->family = dparse_attr_get(n, "family");
        if (rt->family && !streq(rt->family, "ipv4") && !streq(rt->family, "ipv6"))
                return dparse_perr_attr(c, n, "family", "value '%s' not supported by litevirt",
                                        rt->family);
        return 0;
}

static int parse_interface(struct pctx *c, xmlNodePtr n)
{
        struct domain_def *def = c->def;
        struct domain_net *net = ARRAY_PUSH(def->nets, def->n_nets);
        int r, type = -1;
        if ((r = dparse_attr_enum(c, n, "type", domain_net_type_from_string, &type)) < 0)
                return r;
        if (type < 0)
                return dparse_perr(c, n, "missing attribute 'type'");
        net->type = type;
        if ((r = sub_attr(c, n, "mac", "type", &net->mac_type)) < 0 ||
            (r = sub_attr(c, n, "mac", "check", &net->mac_check)) < 0)
                return r;
        if (net->mac_type && !streq(net->mac_type, "static") && !streq(net->mac_type, "generated"))
                return dparse_perr(c, n,
                                   "mac type '%s' not supported by litevirt (static, generated)",
                                   net->mac_type);
        if (net->mac_check && !streq(net->mac_check, "yes") && !streq(net->mac_check, "no"))
                return dparse_perr(c, n, "mac check '%s' is not yes or no", net->mac_check);
        if ((r = sub_attr(c, n, "mac", "address", &net->mac)) < 0 ||
            (r = sub_attr(c, n, "model", "type", &net->model)) < 0 ||
            (r = sub_attr(c, n, "target", "dev", &net->target_dev)) < 0 ||
            (r = sub_attr(c, n, "guest", "dev", &net->guest_dev)) < 0 ||
            (r = sub_attr(c, n, "script", "path", &net->script)) < 0)
                return r;
        /* a name libvirt generated (a running guest's XML, virsh dumpxml)
         * is dropped at define, as libvirt does: the host picks anew */
        static const char *const generated[] = {"vnet", "macvtap", "macvlan"};
        for (size_t i = 0; net->target_dev && i < ARRAY_SIZE(generated); i++)
                if (startswith(net->target_dev, generated[i])) {
                        free(net->target_dev);
                        net->target_dev = NULL;
                }
        if (net->mac) {
                unsigned char m[6];
                if (!domain_mac_parse(net->mac, m))
                        return dparse_perr(c, n, "'%s' is not a MAC address", net->mac);
                for (char *p = net->mac; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
        }
        xmlNodePtr src = dparse_child_get(c, n, "source", &r);
        if (r < 0)
                return r;
        if (type == DOMAIN_NET_BRIDGE || type == DOMAIN_NET_NETWORK) {
                const char *a = type == DOMAIN_NET_BRIDGE ? "bridge" : "network";
                if (!src)
                        return dparse_perr(c, n, "missing element 'source' (with attribute '%s')",
                                           a);
                if ((r = dparse_attr_require(c, src, a, &net->source)) < 0)
                        return r;
        }
        /* for ethernet/user a <source> stays unconsumed: refused later */
        xmlNodePtr mtu = dparse_child_get(c, n, "mtu", &r);
        if (r < 0)
                return r;
        if (mtu) {
                unsigned long long size = 0;
                if (!xmlHasNsProp(mtu, BAD_CAST "size", NULL))
                        return dparse_perr(c, mtu, "missing attribute 'size'");
                if ((r = dparse_attr_uint(c, mtu, "size", 65535, &size)) < 0)
                        return r;
                if (size < 68)
                        return dparse_perr_attr(c, mtu, "size", "%llu is below the minimum MTU 68",
                                                size);
                net->mtu = (int)size;
        }
        for_each_child(ip, n, "ip") if ((r = parse_ip(c, ip, net)) < 0) return r;
        for_each_child(rt, n, "route") if ((r = parse_route(c, rt, net)) < 0) return r;
        return dparse_parse_address(c, n, &net->address);
}

static int parse_chr(struct pctx *c, xmlNodePtr n, enum domain_chr_kind kind)
{
        struct domain_def *def = c->def;
        struct domain_chr *ch = ARRAY_PUSH(def->chrs, def->n_chrs);
        int r;
        ch->kind = kind;
        ch->target_port = -1;
        if ((r = dparse_attr_require(c, n, "type", &ch->source_type)) < 0)
                return r;
        if (!streq(ch->source_type, "pty"))
                return dparse_perr_attr(c, n, "type",
                                        "value '%s' not supported by litevirt (only 'pty')",
                                        ch->source_type);
        /* live XML carries the pty's path (and a console's tty=, the
         * same), and an alias */
        if ((r = sub_attr(c, n, "source", "path", &ch->source_path)) < 0 ||
            (r = dparse_skip_alias(c, n)) < 0)
                return r;
        if (kind == DOMAIN_CHR_CONSOLE)
                free(dparse_attr_get(n, "tty"));
        xmlNodePtr t = dparse_child_get(c, n, "target", &r);
        if (r < 0)
                return r;
        if (t) {
                long long port = -1;
                ch->target_type = dparse_attr_get(t, "type");
                if ((r = dparse_attr_int(c, t, "port", 0, 255, &port)) < 0 ||
                    (r = sub_attr(c, t, "model", "name", &ch->target_model)) < 0)
                        return r;
                ch->target_port = (int)port;
        }
        return 0;
}

/* <channel type='unix'|'spicevmc'>: a virtio-serial port. unix: the host
 * listens (mode='bind', libvirt's default); the path may be left out. */
static int parse_channel(struct pctx *c, xmlNodePtr n)
{
        struct domain_def *def = c->def;
        struct domain_channel *ch = ARRAY_PUSH(def->channels, def->n_channels);
        int r, type = -1;
        if ((r = dparse_attr_enum(c, n, "type", domain_channel_type_from_string, &type)) < 0)
                return r;
        if (type < 0)
                return dparse_perr(c, n, "missing attribute 'type'");
        ch->type = type;
        if (type == DOMAIN_CHANNEL_UNIX) {
                xmlNodePtr src = dparse_child_get(c, n, "source", &r);
                if (r < 0)
                        return r;
                if (src) {
                        _cleanup_free_ char *mode = dparse_attr_get(src, "mode");
                        if (mode && !streq(mode, "bind"))
                                return dparse_perr_attr(c, src, "mode",
                                                        "value '%s' not supported by litevirt "
                                                        "(only 'bind': the host listens)",
                                                        mode);
                        ch->source_path = dparse_attr_get(src, "path");
                }
        }
        xmlNodePtr t = dparse_child_get(c, n, "target", &r);
        if (r < 0)
                return r;
        if (!t)
                return dparse_perr(c, n, "missing element 'target'");
        if ((r = dparse_attr_require(c, t, "type", &ch->target_type)) < 0)
                return r;
        if (!streq(ch->target_type, "virtio"))
                return dparse_perr_attr(c, t, "type",
                                        "value '%s' not supported by litevirt (only 'virtio')",
                                        ch->target_type);
        ch->target_name = dparse_attr_get(t, "name");
        /* libvirt names the SPICE agent's port when the name is left out */
        if (type == DOMAIN_CHANNEL_SPICEVMC && !ch->target_name)
                ch->target_name = xstrdup("com.redhat.spice.0");
        return dparse_parse_address(c, n, &ch->address);
}

/* libvirt's SPICE channel names, in its order (the order dumpxml shows) */
static const char *const spice_channel_names[] = {
        "main", "display", "inputs", "cursor", "playback", "record", "smartcard", "usbredir",
};

static bool spice_mode_known(const char *mode)
{
        return streq(mode, "any") || streq(mode, "secure") || streq(mode, "insecure");
}

/* <graphics type='spice' defaultMode=...> and its <channel name= mode=>s:
 * kept in libvirt's order of names, mode 'any' (the default) left out, as
 * libvirt's dumpxml */
static int parse_spice_channels(struct pctx *c, xmlNodePtr n, struct domain_graphics *g)
{
        int r;
        if (g->defaultmode && !spice_mode_known(g->defaultmode))
                return dparse_perr_attr(c, n, "defaultMode",
                                        "value '%s' not supported (any, secure, insecure)",
                                        g->defaultmode);
        if (streq_ptr(g->defaultmode, "any")) { /* the default, not shown (libvirt) */
                free(g->defaultmode);
                g->defaultmode = NULL;
        }
        const char *mode[ARRAY_SIZE(spice_channel_names)] = {0};
        _cleanup_strv_free_ char **modes = NULL; /* owns what mode[] points to */
        for_each_child(ch, n, "channel")
        {
                _cleanup_free_ char *name = NULL, *m = NULL;
                if ((r = dparse_attr_require(c, ch, "name", &name)) < 0 ||
                    (r = dparse_attr_require(c, ch, "mode", &m)) < 0)
                        return r;
                size_t k = 0;
                while (k < ARRAY_SIZE(spice_channel_names) && !streq(spice_channel_names[k], name))
                        k++;
                if (k == ARRAY_SIZE(spice_channel_names))
                        return dparse_perr_attr(c, ch, "name",
                                                "unknown SPICE channel '%s' (main, display, "
                                                "inputs, cursor, playback, record, smartcard, "
                                                "usbredir)",
                                                name);
                if (!spice_mode_known(m))
                        return dparse_perr_attr(c, ch, "mode",
                                                "value '%s' not supported (any, secure, insecure)",
                                                m);
                if (mode[k])
                        return dparse_perr(c, ch, "SPICE channel '%s' given twice", name);
                mode[k] = m;
                strv_push(&modes, TAKE_PTR(m));
        }
        for (size_t k = 0; k < ARRAY_SIZE(spice_channel_names); k++) {
                if (!mode[k] || streq(mode[k], "any"))
                        continue;
                struct domain_graphics_channel *gc = ARRAY_PUSH(g->channels, g->n_channels);
                gc->name = xstrdup(spice_channel_names[k]);
                gc->mode = xstrdup(mode[k]);
        }
        return 0;
}

static int parse_graphics(struct pctx *c, xmlNodePtr n)
{
        struct domain_def *def = c->def;
        struct domain_graphics *g = ARRAY_PUSH(def->graphics, def->n_graphics);
        int r, type = -1;
        long long port = -1, tls = -1, ws = -1;
        g->port = g->tls_port = g->websocket = -1;
        if ((r = dparse_attr_enum(c, n, "type", domain_graphics_type_from_string, &type)) < 0)
                return r;
        if (type < 0)
                return dparse_perr(c, n, "missing attribute 'type'");
        g->type = type;
        bool has_autoport = xmlHasNsProp(n, BAD_CAST "autoport", NULL) != NULL;
        if ((r = dparse_attr_int(c, n, "port", -1, 65535, &port)) < 0 ||
            (r = dparse_attr_int(c, n, "tlsPort", -1, 65535, &tls)) < 0 ||
            (r = dparse_attr_int(c, n, "websocket", -1, 65535, &ws)) < 0 ||
            (r = dparse_attr_bool(c, n, "autoport", &g->autoport)) < 0)
                return r;
        g->port = (int)port;
        g->tls_port = (int)tls;
        g->websocket = (int)ws;
        /* libvirt: no port (or -1), no SPICE tlsPort and no autoport means
         * autoport; autoport wins over a port */
        if (!has_autoport && g->port < 0 && g->tls_port < 0)
                g->autoport = true;
        if (g->autoport) {
                g->port = -1;
                if (type == DOMAIN_GRAPHICS_SPICE && g->tls_port > 0)
                        g->tls_port = -1;
        }
        g->passwd = dparse_attr_get(n, "passwd");
        g->keymap = dparse_attr_get(n, "keymap");
        if (type == DOMAIN_GRAPHICS_SPICE) {
                g->defaultmode = dparse_attr_get(n, "defaultMode");
                if ((r = sub_attr(c, n, "image", "compression", &g->image_compression)) < 0)
                        return r;
                static const char *const comp[] = {"auto_glz", "auto_lz", "quic",
                                                   "glz",      "lz",      "off"};
                bool known = !g->image_compression;
                for (size_t i = 0; i < ARRAY_SIZE(comp) && !known; i++)
                        known = streq(comp[i], g->image_compression);
                if (!known)
                        return dparse_perr(c, n,
                                           "image compression '%s' not supported by litevirt "
                                           "(auto_glz, auto_lz, quic, glz, lz, off)",
                                           g->image_compression);
                if ((r = sub_attr(c, n, "mouse", "mode", &g->mouse_mode)) < 0 ||
                    (r = sub_attr(c, n, "clipboard", "copypaste", &g->clipboard_copypaste)) < 0 ||
                    (r = parse_spice_channels(c, n, g)) < 0)
                        return r;
        }
        if (type == DOMAIN_GRAPHICS_VNC && g->tls_port != -1)
                return dparse_perr_attr(c, n, "tlsPort", "only valid for spice");
        g->listen = dparse_attr_get(n, "listen");
        for_each_child(l, n, "listen")
        {
                struct domain_graphics_listen *gl = ARRAY_PUSH(g->listens, g->n_listens);
                if ((r = dparse_attr_require(c, l, "type", &gl->type)) < 0)
                        return r;
                if (!streq(gl->type, "address") && !streq(gl->type, "none"))
                        return dparse_perr_attr(c, l, "type",
                                                "value '%s' not supported by litevirt", gl->type);
                gl->address = dparse_attr_get(l, "address");
        }
        /* libvirt: the listen attribute and the first <listen type='address'>
         * are one setting; they must agree (domain_def_apply_defaults fills
         * in whichever is missing) */
        struct domain_graphics_listen *first = g->n_listens ? &g->listens[0] : NULL;
        if (g->listen && first && streq(first->type, "address") && first->address &&
            !streq(first->address, g->listen))
                return dparse_perr(c, n,
                                   "listen attribute '%s' does not match the first "
                                   "<listen> address '%s'",
                                   g->listen, first->address);
        return 0;
}

static int parse_controller(struct pctx *c, xmlNodePtr n)
{
        struct domain_def *def = c->def;
        struct domain_controller *ctl = ARRAY_PUSH(def->controllers, def->n_controllers);
        int r, type = -1;
        unsigned long long index = 0;
        if ((r = dparse_attr_enum(c, n, "type", domain_controller_type_from_string, &type)) < 0)
                return r;
        if (type < 0)
                return dparse_perr(c, n, "missing attribute 'type'");
        ctl->type = type;
        /* absent: -1, assigned by domain_def_apply_defaults as libvirt does */
        ctl->index = -1;
        if (xmlHasNsProp(n, BAD_CAST "index", NULL)) {
                if ((r = dparse_attr_uint(c, n, "index", 255, &index)) < 0)
                        return r;
                ctl->index = (int)index;
        }
        ctl->model = dparse_attr_get(n, "model");
        ctl->target_chassis = ctl->target_port = -1;
        if ((r = sub_attr(c, n, "model", "name", &ctl->model_name)) < 0)
                return r;
        xmlNodePtr tgt = dparse_child_get(c, n, "target", &r);
        if (r < 0)
                return r;
        if (tgt) {
                long long chassis = -1, port = -1;
                if ((r = dparse_attr_int(c, tgt, "chassis", 0, 255, &chassis)) < 0 ||
                    (r = dparse_attr_int(c, tgt, "port", 0, 255, &port)) < 0)
                        return r;
                ctl->target_chassis = (int)chassis;
                ctl->target_port = (int)port;
        }
        if (xmlHasNsProp(n, BAD_CAST "ports", NULL)) {
                unsigned long long ports = 0;
                if (type != DOMAIN_CONTROLLER_USB)
                        return dparse_perr_attr(c, n, "ports",
                                                "supported by litevirt on USB controllers only");
                if ((r = dparse_attr_uint(c, n, "ports", 255, &ports)) < 0)
                        return r;
                if (ports == 0)
                        return dparse_perr_attr(c, n, "ports", "must be at least 1");
                ctl->ports = (unsigned)ports;
        }
        return dparse_parse_address(c, n, &ctl->address);
}

static int parse_input(struct pctx *c, xmlNodePtr n)
{
        struct domain_def *def = c->def;
        int r, type = -1, bus = -1;
        if ((r = dparse_attr_enum(c, n, "type", domain_input_type_from_string, &type)) < 0 ||
            (r = dparse_attr_enum(c, n, "bus", domain_input_bus_from_string, &bus)) < 0)
                return r;
        if (type < 0)
                return dparse_perr(c, n, "missing attribute 'type'");
        if (bus < 0) /* libvirt's defaults */
                bus = def->type == DOMAIN_TYPE_XEN && def->os.type != DOMAIN_OS_HVM
                              ? DOMAIN_INPUT_BUS_XEN
                      : type == DOMAIN_INPUT_TABLET ? DOMAIN_INPUT_BUS_USB
                                                    : DOMAIN_INPUT_BUS_PS2;
        struct domain_input *in = ARRAY_PUSH(def->inputs, def->n_inputs);
        in->type = type;
        in->bus = bus;
        return dparse_parse_address(c, n, &in->address);
}

static int parse_rng(struct pctx *c, xmlNodePtr n)
{
        struct domain_def *def = c->def;
        struct domain_rng *rng = ARRAY_PUSH(def->rngs, def->n_rngs);
        int r = dparse_attr_require(c, n, "model", &rng->model);
        if (r < 0)
                return r;
        if (!streq(rng->model, "virtio"))
                return dparse_perr_attr(c, n, "model",
                                        "value '%s' not supported by litevirt (only 'virtio')",
                                        rng->model);
        xmlNodePtr be = dparse_child_get(c, n, "backend", &r);
        if (r < 0)
                return r;
        if (!be)
                return dparse_perr(c, n, "missing element 'backend'");
        if ((r = dparse_attr_require(c, be, "model", &rng->backend_model)) < 0)
                return r;
        if (!streq(rng->backend_model, "random"))
                return dparse_perr_attr(c, be, "model",
                                        "value '%s' not supported by litevirt (only 'random')",
                                        rng->backend_model);
        rng->backend = dparse_node_text(be);
        if (!*rng->backend)
                free(TAKE_PTR(rng->backend));
        return dparse_parse_address(c, n, &rng->address);
}

static int parse_sound(struct pctx *c, xmlNodePtr n)
{
        struct domain_def *def = c->def;
        struct domain_sound *snd = ARRAY_PUSH(def->sounds, def->n_sounds);
        int r = dparse_attr_require(c, n, "model", &snd->model);
        if (r < 0)
                return r;
        if (!streq(snd->model, "ich9") && !streq(snd->model, "ich6") && !streq(snd->model, "ac97"))
                return dparse_perr_attr(c, n, "model",
                                        "value '%s' not supported by litevirt (ich9, ich6, ac97)",
                                        snd->model);
        xmlNodePtr a = dparse_child_get(c, n, "audio", &r);
        if (r < 0)
                return r;
        if (a) {
                unsigned long long id = 0;
                if (!xmlHasNsProp(a, BAD_CAST "id", NULL))
                        return dparse_perr(c, a, "missing attribute 'id'");
                if ((r = dparse_attr_uint(c, a, "id", INT32_MAX, &id)) < 0)
                        return r;
                if (id == 0)
                        return dparse_perr_attr(c, a, "id", "must be at least 1");
                snd->audio_id = (unsigned)id;
        }
        return dparse_parse_address(c, n, &snd->address);
}

static int parse_redirdev(struct pctx *c, xmlNodePtr n)
{
        struct domain_def *def = c->def;
        struct domain_redirdev *rd = ARRAY_PUSH(def->redirdevs, def->n_redirdevs);
        int r;
        if ((r = dparse_attr_require(c, n, "bus", &rd->bus)) < 0 ||
            (r = dparse_attr_require(c, n, "type", &rd->type)) < 0)
                return r;
        if (!streq(rd->bus, "usb"))
                return dparse_perr_attr(
                        c, n, "bus", "value '%s' not supported by litevirt (only 'usb')", rd->bus);
        if (!streq(rd->type, "spicevmc"))
                return dparse_perr_attr(c, n, "type",
                                        "value '%s' not supported by litevirt (only 'spicevmc')",
                                        rd->type);
        return dparse_parse_address(c, n, &rd->address);
}

static int parse_audio(struct pctx *c, xmlNodePtr n)
{
        struct domain_def *def = c->def;
        struct domain_audio *a = ARRAY_PUSH(def->audios, def->n_audios);
        unsigned long long id = 0;
        int r, type = -1;
        if (!xmlHasNsProp(n, BAD_CAST "id", NULL))
                return dparse_perr(c, n, "missing attribute 'id'");
        if ((r = dparse_attr_uint(c, n, "id", INT32_MAX, &id)) < 0 ||
            (r = dparse_attr_enum(c, n, "type", domain_audio_type_from_string, &type)) < 0)
                return r;
        if (id == 0)
                return dparse_perr_attr(c, n, "id", "must be at least 1");
        if (type < 0)
                return dparse_perr(c, n, "missing attribute 'type'");
        a->id = (unsigned)id;
        a->type = type;
        return 0;
}

static int parse_video(struct pctx *c, xmlNodePtr n)
{
        struct domain_def *def = c->def;
        struct domain_video *v = ARRAY_PUSH(def->videos, def->n_videos);
        int r = 0;
        xmlNodePtr m = dparse_child_get(c, n, "model", &r);
        if (r < 0)
                return r;
        if (!m)
                return dparse_perr(c, n, "missing element 'model'");
        unsigned long long vram = 0, heads = 0, ram = 0, vram64 = 0, vgamem = 0;
        if ((r = dparse_attr_require(c, m, "type", &v->model)) < 0 ||
            (r = dparse_attr_uint(c, m, "vram", UINT32_MAX, &vram)) < 0 ||
            (r = dparse_attr_uint(c, m, "ram", UINT32_MAX, &ram)) < 0 ||
            (r = dparse_attr_uint(c, m, "vram64", UINT32_MAX, &vram64)) < 0 ||
            (r = dparse_attr_uint(c, m, "vgamem", UINT32_MAX, &vgamem)) < 0 ||
            (r = dparse_attr_uint(c, m, "heads", 16, &heads)) < 0 ||
            (r = dparse_attr_tristate(c, m, "primary", &v->primary)) < 0)
                return r;
        v->vram = (unsigned)vram;
        v->ram = (unsigned)ram;
        v->vram64 = (unsigned)vram64;
        v->vgamem = (unsigned)vgamem;
        v->heads = (unsigned)heads;
        static const char *const models[] = {"vga", "cirrus", "qxl",   "virtio",
                                             "xen", "bochs",  "ramfb", "none"};
        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(models); i++)
                known |= streq(models[i], v->model);
        if (!known)
                return dparse_perr_attr(c, m, "type", "value '%s' not supported by litevirt",
                                        v->model);
        return dparse_parse_address(c, n, &v->address);
}

static int parse_memballoon(struct pctx *c, xmlNodePtr n)
{
        struct domain_def *def = c->def;
        int r = dparse_attr_require(c, n, "model", &def->memballoon_model);
        if (r < 0)
                return r;
        if (!streq(def->memballoon_model, "virtio") && !streq(def->memballoon_model, "xen") &&
            !streq(def->memballoon_model, "none"))
                return dparse_perr_attr(c, n, "model", "value '%s' not supported by litevirt",
                                        def->memballoon_model);
        return dparse_parse_address(c, n, &def->memballoon_address);
}

int dparse_parse_devices(struct pctx *c, xmlNodePtr devices)
{
        struct domain_def *def = c->def;
        int r = dparse_elem_text(c, devices, "emulator", &def->emulator);
        if (r < 0)
                return r;
        bool seen_balloon = false;
        /* in document order, so that consoles and serials keep their order */
        for (xmlNodePtr n = devices->children; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE || n->ns)
                        continue;
                const char *name = (const char *)n->name;
                r = 0;
                if (streq(name, "filesystem"))
                        r = parse_filesystem(c, n);
                else if (streq(name, "disk"))
                        r = parse_disk(c, n);
                else if (streq(name, "interface"))
                        r = parse_interface(c, n);
                else if (streq(name, "console"))
                        r = parse_chr(c, n, DOMAIN_CHR_CONSOLE);
                else if (streq(name, "serial"))
                        r = parse_chr(c, n, DOMAIN_CHR_SERIAL);
                else if (streq(name, "rng"))
                        r = parse_rng(c, n);
                else if (streq(name, "audio"))
                        r = parse_audio(c, n);
                else if (streq(name, "sound"))
                        r = parse_sound(c, n);
                else if (streq(name, "redirdev"))
                        r = parse_redirdev(c, n);
                else if (streq(name, "channel"))
                        r = parse_channel(c, n);
                else if (streq(name, "graphics"))
                        r = parse_graphics(c, n);
                else if (streq(name, "controller"))
                        r = parse_controller(c, n);
                else if (streq(name, "input"))
                        r = parse_input(c, n);
                else if (streq(name, "video"))
                        r = parse_video(c, n);
                else if (streq(name, "memballoon")) {
                        if (seen_balloon)
                                return dparse_perr(c, n, "given twice");
                        seen_balloon = true;
                        r = parse_memballoon(c, n);
                } else
                        continue; /* emulator, or unsupported: reported by the final walk */
                if (r < 0)
                        return r;
                dparse_node_consume(n);
        }
        return 0;
}
