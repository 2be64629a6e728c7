/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xl.cfg import: network interfaces (vif) and disks, in xl's spec syntax
 * (keyed "k=v,..." and the legacy positional disk form). */
#include "util/strbuf.h"
#include "xen/xlcfg_read.h"

int xlcfg_read_vifs(struct reader *rd)
{
        struct domain_def *def = rd->def;
        _cleanup_strv_free_ char **vifs = NULL;
        int line = 0, r;
        if ((r = rd_get_string_list(rd, "vif", &vifs, &line)) < 0)
                return r;
        for (int i = 0; vifs && vifs[i]; i++) {
                struct spec_item *items = NULL;
                int n = 0;
                _cleanup_free_ char *what = rd_spec_describe("vif", i);
                if ((r = rd_spec_split(vifs[i], false, &items, &n)) < 0)
                        return rd_fail(rd, line, what,
                                       r == -E2BIG ? "more than 64 items" : "a value with '='");
                def->nets = xrealloc(def->nets, sizeof(*def->nets) * (size_t)(def->n_nets + 1));
                struct domain_net *net = &def->nets[def->n_nets++];
                *net = (struct domain_net){.type = DOMAIN_NET_BRIDGE};
                r = 0;
                for (int j = 0; j < n && r >= 0; j++) {
                        const char *k = items[j].key, *v = items[j].value;
                        char **slot = NULL;
                        if (!v || !*v) {
                                r = rd_fail(rd, line, what, "'%s' without a value", k);
                                break;
                        }
                        if (streq(k, "mac")) {
                                unsigned char mac[6];
                                if (!domain_mac_parse(v, mac)) {
                                        r = rd_fail(rd, line, what, "mac '%s' is not a MAC address",
                                                    v);
                                        break;
                                }
                                free(net->mac);
                                net->mac = xasprintf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
                                                     mac[1], mac[2], mac[3], mac[4], mac[5]);
                        } else if (streq(k, "bridge")) {
                                slot = &net->source;
                        } else if (streq(k, "script")) {
                                slot = &net->script;
                        } else if (streq(k, "vifname")) {
                                slot = &net->target_dev;
                        } else if (streq(k, "model")) {
                                slot = &net->model;
                        } else if (streq(k, "type")) {
                                if (streq(v, "vif")) {
                                        free(net->model);
                                        net->model = xstrdup("netfront");
                                } else if (!streq(v, "ioemu")) {
                                        r = rd_fail(rd, line, what, "type '%s' is not vif or ioemu",
                                                    v);
                                }
                        } else if (streq(k, "mtu")) {
                                long long mtu;
                                if (rd_parse_number(v, 68, 65535, &mtu) < 0)
                                        r = rd_fail(rd, line, what, "mtu '%s' is not 68..65535", v);
                                else
                                        net->mtu = (int)mtu;
                        } else if (streq(k, "ip")) {
                                _cleanup_free_ char *copy = xstrdup(v);
                                char *save = NULL;
                                for (char *t = strtok_r(copy, " ", &save); t;
                                     t = strtok_r(NULL, " ", &save)) {
                                        if (net->n_ips >= 16) {
                                                r = rd_fail(rd, line, what,
                                                            "more than 16 addresses");
                                                break;
                                        }
                                        net->ips = xrealloc(net->ips,
                                                            sizeof(*net->ips) *
                                                                    (size_t)(net->n_ips + 1));
                                        net->ips[net->n_ips++] = (struct domain_ip){
                                                .address = xstrdup(t),
                                                .prefix = -1,
                                        };
                                }
                        } else {
                                r = rd_fail(rd, line, what, "'%s' is not supported by litevirt", k);
                        }
                        if (slot) {
                                free(*slot);
                                *slot = xstrdup(v);
                        }
                }
                rd_spec_free(items, n);
                if (r < 0)
                        return r;
                if (net->model && !streq(net->model, "netfront") && rd->kind != KIND_HVM)
                        return rd_fail(rd, line, what, "model '%s' needs an HVM guest", net->model);
                if (!net->mac) /* as libvirt, and as xl would at start */
                        net->mac = domain_mac_generate(DOMAIN_TYPE_XEN);
                if (!net->source) {
                        if (net->script)
                                net->type = DOMAIN_NET_ETHERNET;
                        else
                                net->source =
                                        xstrdup("xenbr0"); /* xl's default bridge, made explicit */
                }
        }
        return 0;
}

/* The target's deprecated prefixes: "phy:/dev/x", "file:/img",
 * "tap:aio:/img", "tap:qcow2:/img", "qcow2:/img", "raw:/img". As xl does,
 * the backend prefixes are read and ignored (libxl picks the backend from
 * the target); a format prefix sets the format. */
static int disk_target_prefix(struct domain_disk *d, const char **target)
{
        const char *t = *target;
        enum domain_disk_format format = DOMAIN_DISK_FORMAT_NONE;
        if (startswith(t, "phy:")) {
                t += 4;
        } else if (startswith(t, "file:")) {
                t += 5;
        } else if (startswith(t, "tap:") || startswith(t, "tap2:")) {
                t = strchr(t, ':') + 1;
                if (startswith(t, "aio:"))
                        t += 4;
        }
        if (startswith(t, "qcow2:")) {
                format = DOMAIN_DISK_FORMAT_QCOW2;
                t += 6;
        } else if (startswith(t, "raw:")) {
                format = DOMAIN_DISK_FORMAT_RAW;
                t += 4;
        } else if (startswith(t, "aio:")) {
                t += 4;
        }
        if (*t && *t != '/')
                return -EINVAL;
        /* a format prefix that contradicts format= */
        if (format && d->format && format != d->format)
                return -EBADMSG;
        if (format)
                d->format = format;
        *target = t;
        return 0;
}

static int read_disk(struct reader *rd, const char *spec, int line, const char *what,
                     struct domain_disk *d)
{
        struct spec_item *items = NULL;
        int n = 0, r = 0, positional = 0;
        const char *target = NULL;
        if ((r = rd_spec_split(spec, true, &items, &n)) < 0)
                return rd_fail(rd, line, what,
                               r == -E2BIG ? "more than 64 items" : "a value with '='");
        /* either the keyed form (vdev=...,target=...) or the legacy
         * positional one (target,vdev,access), never both */
        bool keyed = false;
        for (int j = 0; j < n; j++)
                keyed |= items[j].value != NULL;
        for (int j = 0; j < n && r >= 0; j++) {
                const char *k = items[j].key, *v = items[j].value;
                if (!v && keyed && !streq(k, "cdrom")) {
                        r = rd_fail(rd, line, what, "'%s' is not supported by litevirt", k);
                        break;
                }
                if (!v) {
                        /* positional form: target, format, vdev, access; after
                         * a deprecated target prefix (phy:, file:, tap:...):
                         * target, vdev, access */
                        if (streq(k, "cdrom") && positional > 0) {
                                d->device = DOMAIN_DISK_DEVICE_CDROM;
                                continue;
                        }
                        switch (positional) {
                        case 0:
                                target = k;
                                positional = strchr(k, ':') ? 2 : 1;
                                break;
                        case 1:
                                positional = 2;
                                if (!*k)
                                        break;
                                if (streq(k, "raw"))
                                        d->format = DOMAIN_DISK_FORMAT_RAW;
                                else if (streq(k, "qcow2"))
                                        d->format = DOMAIN_DISK_FORMAT_QCOW2;
                                else
                                        r = rd_fail(
                                                rd, line, what,
                                                "format '%s' is not supported by litevirt (raw, "
                                                "qcow2)",
                                                k);
                                break;
                        case 2: {
                                positional = 3;
                                char *colon = strchr(k, ':');
                                d->target_dev =
                                        colon ? xstrndup(k, (size_t)(colon - k)) : xstrdup(k);
                                if (colon && streq(colon, ":cdrom"))
                                        d->device = DOMAIN_DISK_DEVICE_CDROM;
                                else if (colon && !streq(colon, ":disk"))
                                        r = rd_fail(rd, line, what,
                                                    "vdev suffix '%s' is not :cdrom or :disk",
                                                    colon);
                                break;
                        }
                        case 3:
                                positional = 4;
                                if (streq(k, "r") || streq(k, "ro"))
                                        d->readonly = true;
                                else if (streq(k, "w") || streq(k, "rw"))
                                        d->readonly = false;
                                else
                                        r = rd_fail(rd, line, what,
                                                    "access '%s' is not r, ro, w or rw", k);
                                break;
                        default:
                                r = rd_fail(rd, line, what,
                                            "'%s': more than 4 positional parameters", k);
                        }
                        continue;
                }
                if (streq(k, "target")) {
                        target = v;
                } else if (streq(k, "vdev")) {
                        free(d->target_dev);
                        d->target_dev = xstrdup(v);
                } else if (streq(k, "format")) {
                        if (streq(v, "raw"))
                                d->format = DOMAIN_DISK_FORMAT_RAW;
                        else if (streq(v, "qcow2"))
                                d->format = DOMAIN_DISK_FORMAT_QCOW2;
                        else
                                r = rd_fail(rd, line, what,
                                            "format '%s' is not supported by litevirt (raw, qcow2)",
                                            v);
                } else if (streq(k, "access")) {
                        if (streq(v, "ro") || streq(v, "r"))
                                d->readonly = true;
                        else if (streq(v, "rw") || streq(v, "w"))
                                d->readonly = false;
                        else
                                r = rd_fail(rd, line, what, "access '%s' is not ro or rw", v);
                } else if (streq(k, "backendtype")) {
                        free(d->driver_name);
                        d->driver_name = NULL;
                        if (streq(v, "phy"))
                                d->driver_name = xstrdup("phy");
                        else if (streq(v, "qdisk"))
                                d->driver_name = xstrdup("qemu");
                        else if (streq(v, "tap"))
                                d->driver_name = xstrdup("tap");
                        else
                                r = rd_fail(rd, line, what,
                                            "backendtype '%s' is not phy, qdisk or tap", v);
                } else if (streq(k, "devtype")) {
                        if (streq(v, "cdrom"))
                                d->device = DOMAIN_DISK_DEVICE_CDROM;
                        else if (streq(v, "disk"))
                                d->device = DOMAIN_DISK_DEVICE_DISK;
                        else
                                r = rd_fail(rd, line, what, "devtype '%s' is not disk or cdrom", v);
                } else {
                        r = rd_fail(rd, line, what, "'%s' is not supported by litevirt", k);
                }
        }
        if (r >= 0 && !d->target_dev)
                r = rd_fail(rd, line, what, "no vdev");
        if (r >= 0 && target && *target) {
                const char *t = target;
                int p = disk_target_prefix(d, &t);
                if (p == -EBADMSG)
                        r = rd_fail(rd, line, what,
                                    "format prefix in '%s' contradicts format=", target);
                else if (p < 0)
                        r = rd_fail(rd, line, what, "target '%s' is not an absolute path", target);
                else if (*t)
                        d->source = xstrdup(t);
        }
        if (r >= 0 && !d->source && d->device != DOMAIN_DISK_DEVICE_CDROM)
                r = rd_fail(rd, line, what, "no target (only a CD-ROM may be empty)");
        rd_spec_free(items, n);
        if (r < 0)
                return r;
        d->bus = xen_disk_bus_of_vdev(d->target_dev);
        if (d->bus == DOMAIN_DISK_BUS_LAST)
                return rd_fail(rd, line, what, "vdev '%s' is not xvdX, hdX or sdX", d->target_dev);
        if (d->format == DOMAIN_DISK_FORMAT_QCOW2 && streq(d->driver_name, "phy"))
                return rd_fail(rd, line, what, "qcow2 with backendtype phy (phy takes raw only)");
        d->type =
                streq(d->driver_name, "phy") || (!d->driver_name && startswith(d->source, "/dev/"))
                        ? DOMAIN_DISK_BLOCK
                        : DOMAIN_DISK_FILE;
        return 0;
}

int xlcfg_read_disks(struct reader *rd)
{
        struct domain_def *def = rd->def;
        _cleanup_strv_free_ char **disks = NULL;
        int line = 0, r;
        if ((r = rd_get_string_list(rd, "disk", &disks, &line)) < 0)
                return r;
        for (int i = 0; disks && disks[i]; i++) {
                _cleanup_free_ char *what = rd_spec_describe("disk", i);
                def->disks = xrealloc(def->disks, sizeof(*def->disks) * (size_t)(def->n_disks + 1));
                struct domain_disk *d = &def->disks[def->n_disks++];
                *d = (struct domain_disk){0};
                if ((r = read_disk(rd, disks[i], line, what, d)) < 0)
                        return r;
                for (int j = 0; j < def->n_disks - 1; j++)
                        if (streq(def->disks[j].target_dev, d->target_dev))
                                return rd_fail(rd, line, what, "vdev '%s' used twice",
                                               d->target_dev);
        }
        return 0;
}
