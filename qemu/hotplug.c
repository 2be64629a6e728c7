/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Disk hot-plug for the QEMU driver (docs/qemu.md, "Hot-plug"):
 * blockdev-add (storage and format nodes, as on the command line) and
 * device_add to attach; device_del, then QEMU's DEVICE_DELETED once the
 * guest has released the device, then blockdev-del to detach. */
#include <json-c/json.h>

#include <ctype.h>
#include <strings.h>

#include "netns/guest_net.h"
#include "qemu/command_priv.h"
#include "qemu/driver_priv.h"
#include "qemu/qmp.h"
#include "util/log.h"

struct qmp *qemu_guest_qmp(struct lv_guest *g, struct lv_error **err)
{
        struct qemu_guest *qg = g->driver_data;
        if (!qg || !qg->qmp || qmp_is_closed(qg->qmp)) {
                lv_error_setf(err, LV_ERR_STATE, "QEMU monitor is not connected");
                return NULL;
        }
        return qg->qmp;
}

/* Best effort: a node that stays only costs QEMU memory until it ends.
 * From an event handler (inside QMP's input processing) the command is
 * sent without waiting for its reply. */
static void node_del(struct qmp *q, const char *node, bool from_event)
{
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "node-name", json_object_new_string(node));
        _cleanup_error_ struct lv_error *e = NULL;
        int r = from_event ? qmp_send(q, "blockdev-del", a, QEMU_CMD_TIMEOUT_MS, NULL, NULL, &e)
                           : qmp_call(q, "blockdev-del", a, QEMU_CMD_TIMEOUT_MS, NULL, &e);
        if (r < 0)
                log_warning("blockdev-del %s: %s", node, e->message);
}

/* A format node "X-format" sits on the storage node "X-storage" (both
 * the command line's and ours). */
static void nodes_del(struct qmp *q, const char *format, bool from_event)
{
        node_del(q, format, from_event);
        size_t n = strlen(format);
        if (n > 7 && streq(format + n - 7, "-format")) {
                _cleanup_free_ char *storage = xasprintf("%.*s-storage", (int)(n - 7), format);
                node_del(q, storage, from_event);
        }
}

int qemu_fdset_add(struct qmp *q, int fd, long long *ret_fdset, struct lv_error **err)
{
        struct json_object *ret = NULL, *v;
        int r = qmp_call_fd(q, "add-fd", NULL, fd, QEMU_CMD_TIMEOUT_MS, &ret, err);
        if (r < 0)
                return lv_error_prefix(err, "add-fd");
        bool ok = json_object_object_get_ex(ret, "fdset-id", &v);
        *ret_fdset = ok ? json_object_get_int64(v) : -1;
        json_object_put(ret);
        return ok ? 0 : lv_error_setf(err, LV_ERR_PROTOCOL, "add-fd: no fdset-id in the reply");
}

void qemu_fdset_remove(struct qmp *q, long long fdset)
{
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "fdset-id", json_object_new_int64(fdset));
        _cleanup_error_ struct lv_error *e = NULL;
        if (qmp_call(q, "remove-fd", a, QEMU_CMD_TIMEOUT_MS, NULL, &e) < 0)
                log_warning("remove-fd %lld: %s", fdset, e->message);
}

/* Where QEMU put hot-plugged device id, written into its running
 * definition as <address type='pci'> (where it has none), so that the
 * command line of a migration's destination, a restore or a reattach puts
 * it at the same place: QEMU refuses a stream whose devices sit elsewhere
 * ("Unknown ramblock"), and litevirt's own order (NICs before disks) is
 * not the order of the plugs. root_port: the q35 root port litevirt chose
 * ("pci.N", slot 0 on it); NULL: QEMU's pick on pci.0, from query-pci. A
 * failure only costs the migration (refused then): logged. */
static void address_record(struct qmp *q, const char *id, const char *root_port,
                           struct domain_address *a)
{
        struct pci_addr p = {.set = true};
        if (root_port) {
                snprintf(p.bus, sizeof(p.bus), "%s", root_port);
                qcmd_addr_pci(a, &p);
                return;
        }
        snprintf(p.bus, sizeof(p.bus), "pci.0");
        struct json_object *buses = NULL, *devs, *v;
        _cleanup_error_ struct lv_error *e = NULL;
        if (qmp_call(q, "query-pci", NULL, QEMU_CMD_TIMEOUT_MS, &buses, &e) < 0) {
                log_warning("%s: query-pci: %s: its PCI address is not recorded", id, e->message);
                return;
        }
        bool found = false;
        if (buses && json_object_array_length(buses) > 0 &&
            json_object_object_get_ex(json_object_array_get_idx(buses, 0), "devices", &devs))
                for (size_t k = 0; k < json_object_array_length(devs) && !found; k++) {
                        struct json_object *dev = json_object_array_get_idx(devs, k);
                        if (!json_object_object_get_ex(dev, "qdev_id", &v) ||
                            !streq(json_object_get_string(v), id) ||
                            !json_object_object_get_ex(dev, "slot", &v))
                                continue;
                        p.slot = json_object_get_int(v);
                        if (json_object_object_get_ex(dev, "function", &v))
                                p.fn = json_object_get_int(v);
                        found = true;
                }
        json_object_put(buses);
        if (!found) {
                log_warning("%s: not on pci.0 in query-pci: its PCI address is not recorded", id);
                return;
        }
        qcmd_addr_pci(a, &p);
        log_info("%s is at PCI slot 0x%02x.%x", id, p.slot, p.fn);
}

int qemu_disk_attach(struct lv_guest *g, int i, struct lv_error **err)
{
        const struct domain_disk *d = &g->def->disks[i];
        struct qmp *q = qemu_guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        if (qcmd_disk_bus(d) != DOMAIN_DISK_BUS_VIRTIO || d->device != DOMAIN_DISK_DEVICE_DISK ||
            d->type != DOMAIN_DISK_FILE || !d->source)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "disk '%s': hot-plug supports file disks on the virtio bus "
                                     "only",
                                     d->target_dev);
        /* QEMU cannot open the file itself (read-only view of the host,
         * its own uid): it gets our descriptor in an fd set and opens
         * /dev/fdset/N, as under libvirt. */
        _cleanup_close_ int fd = open(d->source, (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (fd < 0)
                return lv_error_set(err, errno, "disk '%s': opening '%s'", d->target_dev,
                                    d->source);
        long long fdset;
        int r = qemu_fdset_add(q, fd, &fdset, err);
        if (r < 0)
                return lv_error_prefix(err, "disk '%s'", d->target_dev);
        _cleanup_free_ char *path = xasprintf("/dev/fdset/%lld", fdset);
        struct domain_disk via = *d;
        via.source = path;
        _cleanup_free_ char *storage = xasprintf("lv-hp-%s-storage", d->target_dev);
        _cleanup_free_ char *format = xasprintf("lv-hp-%s-format", d->target_dev);
        struct json_object *st, *fmt;
        qemu_command_disk_blockdevs(&via, storage, format, &st, &fmt);
        /* opened once, in the mode of our descriptor (QEMU dups only an fd
         * of the exact access mode it asks for) */
        json_object_object_add(st, "auto-read-only", json_object_new_boolean(false));
        json_object_object_add(st, "read-only", json_object_new_boolean(d->readonly));
        r = qmp_call(q, "blockdev-add", st, QEMU_CMD_TIMEOUT_MS, NULL, err);
        /* QEMU holds its own copy now (or failed): the set can go */
        qemu_fdset_remove(q, fdset);
        if (r < 0) {
                json_object_put(fmt);
                return lv_error_prefix(err, "disk '%s': blockdev-add", d->target_dev);
        }
        if ((r = qmp_call(q, "blockdev-add", fmt, QEMU_CMD_TIMEOUT_MS, NULL, err)) < 0) {
                node_del(q, storage, false);
                return lv_error_prefix(err, "disk '%s': blockdev-add", d->target_dev);
        }
        struct json_object *dev = json_object_new_object();
        /* libvirt's alias, as a disk on the command line has it */
        _cleanup_free_ char *id = qemu_command_disk_id(g->def, i);
        json_object_object_add(dev, "driver", json_object_new_string("virtio-blk-pci"));
        json_object_object_add(dev, "drive", json_object_new_string(format));
        json_object_object_add(dev, "id", json_object_new_string(id));
        if (d->shareable)
                json_object_object_add(dev, "share-rw", json_object_new_boolean(true));
        if ((r = qmp_call(q, "device_add", dev, QEMU_CMD_TIMEOUT_MS, NULL, err)) < 0) {
                nodes_del(q, format, false);
                return lv_error_prefix(err, "disk '%s': device_add", d->target_dev);
        }
        log_info("disk '%s' (%s) hot-plugged as %s", d->target_dev, d->source, id);
        address_record(q, id, NULL, &g->def->disks[i].address);
        free(g->def->disks[i].address.alias); /* the running definition shows it */
        g->def->disks[i].address.alias = TAKE_PTR(id);
        return 0;
}

/* The id QEMU knows disk d by and its format node, from query-block,
 * matched by our node name (hot-plugged: QEMU knows the file as
 * /dev/fdset/N) or by source file (from the command line; ids of disks
 * after a detached one are not what the builder would say now). */
static int disk_lookup(struct qmp *q, const struct domain_disk *d, char **ret_id, char **ret_node,
                       struct lv_error **err)
{
        _cleanup_free_ char *hp_node = xasprintf("lv-hp-%s-format", d->target_dev);
        struct json_object *list = NULL;
        int r = qmp_call(q, "query-block", NULL, QEMU_CMD_TIMEOUT_MS, &list, err);
        if (r < 0)
                return r;
        r = lv_error_setf(err, ENOENT, "disk '%s': QEMU has no device for '%s'", d->target_dev,
                          d->source ? d->source : "");
        for (size_t k = 0; list && k < json_object_array_length(list); k++) {
                struct json_object *b = json_object_array_get_idx(list, k), *ins, *v;
                if (!json_object_object_get_ex(b, "inserted", &ins))
                        continue;
                bool ours = json_object_object_get_ex(ins, "node-name", &v) &&
                            streq(json_object_get_string(v), hp_node);
                bool same = json_object_object_get_ex(ins, "file", &v) && d->source &&
                            streq(json_object_get_string(v), d->source);
                if ((!ours && !same) || !json_object_object_get_ex(b, "qdev", &v))
                        continue;
                /* "virtio-disk0" or "/machine/peripheral/virtio-disk0/virtio-backend" */
                const char *qdev = json_object_get_string(v);
                static const char peripheral[] = "/machine/peripheral/";
                const char *p = startswith(qdev, peripheral) ? qdev + strlen(peripheral) : qdev;
                *ret_id = xstrndup(p, strcspn(p, "/"));
                *ret_node = json_object_object_get_ex(ins, "node-name", &v)
                                    ? xstrdup(json_object_get_string(v))
                                    : NULL;
                lv_error_freep(err);
                r = 0;
                break;
        }
        json_object_put(list);
        return r;
}

static void unplug_forget(struct qemu_guest *qg, int k)
{
        free(qg->unplugs[k].id);
        free(qg->unplugs[k].target);
        free(qg->unplugs[k].node);
        free(qg->unplugs[k].netdev);
        qg->unplugs[k] = qg->unplugs[--qg->n_unplugs];
        qg->unplugs[qg->n_unplugs] = (struct qemu_unplug){0};
}

void qemu_hotplug_clear(struct qemu_guest *qg)
{
        while (qg->n_unplugs > 0)
                unplug_forget(qg, 0);
}

static int unplug_find(struct qemu_guest *qg, const char *id)
{
        for (int k = 0; k < qg->n_unplugs; k++)
                if (streq(qg->unplugs[k].id, id))
                        return k;
        return -1;
}

/* device_del of QEMU device id, remembered until its DEVICE_DELETED
 * (what: for messages). Asking again is fine. */
static int unplug_request(struct qemu_guest *qg, struct qmp *q, const char *what, char *id,
                          char *target, char *node, char *netdev, struct lv_error **err)
{
        if (unplug_find(qg, id) >= 0) {
                free(id), free(target), free(node), free(netdev);
                return 0; /* asked already: DEVICE_DELETED will tell */
        }
        if (qg->n_unplugs >= (int)ARRAY_SIZE(qg->unplugs)) {
                free(id), free(target), free(node), free(netdev);
                return lv_error_setf(err, EBUSY, "%s: too many detach requests pending", what);
        }
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "id", json_object_new_string(id));
        int r = qmp_call(q, "device_del", a, QEMU_CMD_TIMEOUT_MS, NULL, err);
        if (r < 0) {
                free(id), free(target), free(node), free(netdev);
                return lv_error_prefix(err, "%s: device_del", what);
        }
        log_info("%s (%s): device_del sent, waiting for the guest", what, id);
        qg->unplugs[qg->n_unplugs++] =
                (struct qemu_unplug){.id = id, .target = target, .node = node, .netdev = netdev};
        return 0;
}

int qemu_disk_detach(struct lv_guest *g, int i, struct lv_error **err)
{
        const struct domain_disk *d = &g->def->disks[i];
        struct qmp *q = qemu_guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        char *id = NULL, *node = NULL;
        int r = disk_lookup(q, d, &id, &node, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *what = xasprintf("disk '%s'", d->target_dev);
        return unplug_request(g->driver_data, q, what, id, xstrdup(d->target_dev), node, NULL, err);
}

/* ---- interfaces ---- */

/* "lv-hp-net-525400aabbcc" and the like: ids of a hot-plugged interface */
static char *net_id(const char *prefix, const char *mac)
{
        char hex[13] = "";
        size_t k = 0;
        for (const char *p = mac; *p && k < 12; p++)
                if (*p != ':')
                        hex[k++] = (char)tolower((unsigned char)*p);
        return xasprintf("lv-hp-%s-%s", prefix, hex);
}

/* q35: the id of a root port with nothing plugged into it (query-pci). */
static int free_root_port(struct qmp *q, char **ret, struct lv_error **err)
{
        struct json_object *buses = NULL;
        int r = qmp_call(q, "query-pci", NULL, QEMU_CMD_TIMEOUT_MS, &buses, err);
        if (r < 0)
                return lv_error_prefix(err, "query-pci");
        r = lv_error_setf(err, LV_ERR_UNSUPPORTED,
                          "no free PCIe root port left for a hot-plugged device (add a "
                          "<controller type='pci' model='pcie-root-port'/>)");
        for (size_t b = 0; buses && b < json_object_array_length(buses) && !*ret; b++) {
                struct json_object *devs, *dev, *br, *id, *sub;
                if (!json_object_object_get_ex(json_object_array_get_idx(buses, b), "devices",
                                               &devs))
                        continue;
                for (size_t k = 0; k < json_object_array_length(devs); k++) {
                        dev = json_object_array_get_idx(devs, k);
                        if (!json_object_object_get_ex(dev, "pci_bridge", &br) ||
                            !json_object_object_get_ex(dev, "qdev_id", &id) ||
                            !*json_object_get_string(id))
                                continue;
                        if (json_object_object_get_ex(br, "devices", &sub) &&
                            json_object_array_length(sub) > 0)
                                continue;
                        *ret = xstrdup(json_object_get_string(id));
                        break;
                }
        }
        if (*ret) {
                lv_error_freep(err);
                r = 0;
        }
        json_object_put(buses);
        return r;
}

/* Best effort, for undoing an attach. */
static void qmp_del_quiet(struct qmp *q, const char *command, const char *key, const char *id)
{
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, key, json_object_new_string(id));
        _cleanup_error_ struct lv_error *e = NULL;
        if (qmp_call(q, command, a, QEMU_CMD_TIMEOUT_MS, NULL, &e) < 0)
                log_warning("%s %s: %s", command, id, e->message);
}

static void tap_delete(const char *ifname)
{
        _cleanup_nl_ struct netns_nl *nl = NULL;
        _cleanup_error_ struct lv_error *e = NULL;
        if (netns_nl_open(&nl, &e) < 0 || netns_link_delete(nl, ifname, &e) < 0)
                log_warning("removing tap '%s': %s", ifname, e->message);
}

int qemu_net_attach(struct lv_guest *g, int i, struct lv_error **err)
{
        struct domain_net *n = &g->def->nets[i];
        struct qmp *q = qemu_guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        const char *driver = qcmd_net_model_driver(n->model);
        if (!driver)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "interface model '%s' is not supported", n->model);
        _cleanup_free_ char *bus = NULL;
        int r;
        if (qcmd_machine_is_q35(g->def) && (r = free_root_port(q, &bus, err)) < 0)
                return r;
        struct netns_guest_tap tap;
        struct undo_sink undo = guest_undo_sink(g);
        if ((r = netns_guest_setup_vm_one(g->def, &undo, i, &tap, err)) < 0)
                return r;
        _cleanup_free_ char *dev_id = net_id("net", n->mac);
        _cleanup_free_ char *netdev = net_id("hostnet", n->mac);
        _cleanup_free_ char *fdname = net_id("fd", n->mac);
        struct json_object *a = json_object_new_object();
        if (tap.fd >= 0) {
                /* QEMU gets the tap's queue from us: it may not open
                 * /dev/net/tun itself */
                struct json_object *ga = json_object_new_object();
                json_object_object_add(ga, "fdname", json_object_new_string(fdname));
                r = qmp_call_fd(q, "getfd", ga, tap.fd, QEMU_CMD_TIMEOUT_MS, NULL, err);
                close(tap.fd);
                if (r < 0) {
                        json_object_put(a);
                        tap_delete(tap.ifname);
                        return lv_error_prefix(err, "interface %s: getfd", n->mac);
                }
                json_object_object_add(a, "type", json_object_new_string("tap"));
                json_object_object_add(a, "fd", json_object_new_string(fdname));
        } else {
                json_object_object_add(a, "type", json_object_new_string("user"));
        }
        json_object_object_add(a, "id", json_object_new_string(netdev));
        if ((r = qmp_call(q, "netdev_add", a, QEMU_CMD_TIMEOUT_MS, NULL, err)) < 0) {
                if (tap.fd >= 0) {
                        qmp_del_quiet(q, "closefd", "fdname", fdname);
                        tap_delete(tap.ifname);
                }
                return lv_error_prefix(err, "interface %s: netdev_add", n->mac);
        }
        struct json_object *dev = json_object_new_object();
        json_object_object_add(dev, "driver", json_object_new_string(driver));
        json_object_object_add(dev, "netdev", json_object_new_string(netdev));
        json_object_object_add(dev, "id", json_object_new_string(dev_id));
        json_object_object_add(dev, "mac", json_object_new_string(n->mac));
        if (bus)
                json_object_object_add(dev, "bus", json_object_new_string(bus));
        if ((r = qmp_call(q, "device_add", dev, QEMU_CMD_TIMEOUT_MS, NULL, err)) < 0) {
                qmp_del_quiet(q, "netdev_del", "id", netdev);
                if (tap.fd >= 0)
                        tap_delete(tap.ifname);
                return lv_error_prefix(err, "interface %s: device_add", n->mac);
        }
        log_info("interface %s hot-plugged as %s%s%s%s%s", n->mac, dev_id,
                 tap.fd >= 0 ? " on tap " : "", tap.fd >= 0 ? tap.ifname : "", bus ? " at " : "",
                 bus ? bus : "");
        address_record(q, dev_id, bus, &n->address);
        return 0;
}

/* QEMU's device id of the NIC with mac (query-rx-filter) and its netdev
 * (the device's "netdev" property). */
static int net_lookup(struct qmp *q, const char *mac, char **ret_id, char **ret_netdev,
                      struct lv_error **err)
{
        struct json_object *list = NULL, *v, *name;
        int r = qmp_call(q, "query-rx-filter", NULL, QEMU_CMD_TIMEOUT_MS, &list, err);
        if (r < 0)
                return lv_error_prefix(err, "query-rx-filter");
        char *id = NULL;
        for (size_t k = 0; list && k < json_object_array_length(list) && !id; k++) {
                struct json_object *f = json_object_array_get_idx(list, k);
                if (json_object_object_get_ex(f, "main-mac", &v) &&
                    !strcasecmp(json_object_get_string(v), mac) &&
                    json_object_object_get_ex(f, "name", &name))
                        id = xstrdup(json_object_get_string(name));
        }
        json_object_put(list);
        if (!id)
                return lv_error_setf(err, ENOENT, "QEMU has no network device with MAC %s", mac);
        struct json_object *a = json_object_new_object(), *ret = NULL;
        _cleanup_free_ char *path = xasprintf("/machine/peripheral/%s", id);
        json_object_object_add(a, "path", json_object_new_string(path));
        json_object_object_add(a, "property", json_object_new_string("netdev"));
        if ((r = qmp_call(q, "qom-get", a, QEMU_CMD_TIMEOUT_MS, &ret, err)) < 0) {
                free(id);
                return lv_error_prefix(err, "qom-get %s netdev", path);
        }
        *ret_netdev = json_object_is_type(ret, json_type_string)
                              ? xstrdup(json_object_get_string(ret))
                              : NULL;
        json_object_put(ret);
        *ret_id = id;
        return 0;
}

int qemu_net_detach(struct lv_guest *g, int i, struct lv_error **err)
{
        const struct domain_net *n = &g->def->nets[i];
        struct qmp *q = qemu_guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        char *id = NULL, *netdev = NULL;
        int r = net_lookup(q, n->mac, &id, &netdev, err);
        if (r < 0)
                return lv_error_prefix(err, "interface %s", n->mac);
        _cleanup_free_ char *what = xasprintf("interface %s", n->mac);
        return unplug_request(g->driver_data, q, what, id, xstrdup(n->mac), NULL, netdev, err);
}

void qemu_vcpu_record(struct domain_def *def, unsigned id, bool enabled)
{
        if (def->n_vcpu_entries != (int)def->vcpus) {
                /* first change: the vCPUs the guest started with are the
                 * current ones, the others absent and pluggable */
                unsigned cur = def->vcpus_current ? def->vcpus_current : def->vcpus;
                free(def->vcpu_entries);
                def->vcpu_entries = xcalloc(def->vcpus, sizeof(*def->vcpu_entries));
                def->n_vcpu_entries = (int)def->vcpus;
                for (unsigned i = 0; i < def->vcpus; i++)
                        def->vcpu_entries[i] = (struct domain_vcpu_entry){
                                .id = i,
                                .enabled = i < cur,
                                .hotpluggable = i < cur ? DOMAIN_TRISTATE_OFF : DOMAIN_TRISTATE_ON};
        }
        for (int i = 0; i < def->n_vcpu_entries; i++) {
                struct domain_vcpu_entry *e = &def->vcpu_entries[i];
                if (e->id != id)
                        continue;
                e->enabled = enabled;
                if (enabled)
                        e->hotpluggable = DOMAIN_TRISTATE_ON;
        }
}

/* The guest released a device (ACPI hot-unplug): a disk's nodes go, an
 * interface's netdev and host-side link (from an event handler: without
 * waiting for QEMU's replies), and the core hears of it. */
void qemu_hotplug_device_deleted(struct lv_guest *g, struct json_object *data)
{
        struct qemu_guest *qg = g->driver_data;
        struct json_object *v;
        /* QEMU 7.2 reports a vCPU's unplug as the end of its local APIC
         * (path /machine/peripheral/vcpuN/lapic, no device id), not of
         * vcpuN itself (seen with QEMU alone): the core checks again */
        const char *path = NULL;
        if (qg && data && json_object_object_get_ex(data, "path", &v))
                path = json_object_get_string(v);
        if (path && startswith(path, "/machine/peripheral/vcpu") && g->vcpu_released &&
            !json_object_object_get_ex(data, "device", NULL)) {
                const char *id = path + strlen("/machine/peripheral/");
                size_t n = 4 + strspn(id + 4, "0123456789");
                if (n > 4 && streq(id + n, "/lapic")) {
                        _cleanup_free_ char *vcpu = xstrndup(id, n);
                        qemu_vcpu_record(g->def, (unsigned)atoi(vcpu + 4), false);
                        g->vcpu_released(g, vcpu);
                }
                return;
        }
        if (!qg || !data || !json_object_object_get_ex(data, "device", &v))
                return; /* the backend's event (a path only) */
        /* a vCPU setvcpus unplugged (qemu/vcpu.c names them vcpuN) */
        if (startswith(json_object_get_string(v), "vcpu") &&
            strspn(json_object_get_string(v) + 4, "0123456789") ==
                    strlen(json_object_get_string(v) + 4)) {
                qemu_vcpu_record(g->def, (unsigned)atoi(json_object_get_string(v) + 4), false);
                if (g->vcpu_released)
                        g->vcpu_released(g, json_object_get_string(v));
                return;
        }
        int k = unplug_find(qg, json_object_get_string(v));
        if (k < 0)
                return;
        _cleanup_free_ char *target = xstrdup(qg->unplugs[k].target);
        bool net = qg->unplugs[k].netdev != NULL;
        log_info("%s '%s' (%s) hot-unplugged", net ? "interface" : "disk", target,
                 qg->unplugs[k].id);
        if (qg->unplugs[k].node)
                nodes_del(qg->qmp, qg->unplugs[k].node, true);
        if (net) {
                struct json_object *a = json_object_new_object();
                json_object_object_add(a, "id", json_object_new_string(qg->unplugs[k].netdev));
                _cleanup_error_ struct lv_error *e = NULL;
                if (qmp_send(qg->qmp, "netdev_del", a, QEMU_CMD_TIMEOUT_MS, NULL, NULL, &e) < 0)
                        log_warning("netdev_del %s: %s", qg->unplugs[k].netdev, e->message);
                int i = domain_net_find(g->def, target);
                _cleanup_nl_ struct netns_nl *nl = NULL;
                lv_error_freep(&e);
                if (i >= 0 &&
                    (netns_nl_open(&nl, &e) < 0 ||
                     netns_guest_host_link_remove(nl, g->def->uuid, i, g->def->n_nets, &e) < 0))
                        log_warning("interface %s: its host side: %s", target, e->message);
        }
        unplug_forget(qg, k);
        if (net && g->net_released)
                g->net_released(g, target);
        else if (!net && g->disk_released)
                g->disk_released(g, target);
}
