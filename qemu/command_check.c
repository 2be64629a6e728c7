/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the QEMU command-line builder refuses, with messages naming the
 * guest, the device and the reason; and the lookups shared with
 * qemu/command.c. Pure. */
#include <stddef.h>

#include "qemu/command_priv.h"

const struct domain_controller *qcmd_controller_find(const struct domain_def *def,
                                                     enum domain_controller_type type)
{
        for (int i = 0; i < def->n_controllers; i++)
                if (def->controllers[i].type == type)
                        return &def->controllers[i];
        return NULL;
}

bool qcmd_usb_wanted(const struct domain_def *def)
{
        const struct domain_controller *c = qcmd_controller_find(def, DOMAIN_CONTROLLER_USB);
        return !c || !streq(c->model, "none");
}

bool qcmd_controller_is_root_port(const struct domain_controller *c)
{
        return c->type == DOMAIN_CONTROLLER_PCI && streq_ptr(c->model, "pcie-root-port");
}

unsigned qcmd_audio_id(const struct domain_def *def, const struct domain_sound *snd)
{
        if (snd && snd->audio_id)
                return snd->audio_id;
        return def->n_audios ? def->audios[0].id : 1;
}

bool qcmd_balloon_wanted(const struct domain_def *def)
{
        return !streq(def->memballoon_model, "none");
}

const char *qcmd_video_model(const struct domain_def *def, int i)
{
        const char *m = def->videos[i].model;
        return m ? m : "cirrus";
}

bool qcmd_has_primary_video(const struct domain_def *def)
{
        if (def->n_videos > 0)
                return !streq(qcmd_video_model(def, 0), "none");
        return def->n_graphics > 0;
}

/* ---------------------------------------------------------------------- */
/* Checks of what litevirt runs */

static int check_machine(struct build *b, struct lv_error **err)
{
        const struct domain_def *def = b->def;
        if (def->type != DOMAIN_TYPE_QEMU && def->type != DOMAIN_TYPE_KVM)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': domain type '%s' is not a QEMU guest", def->name,
                                     domain_type_to_string(def->type));
        if (def->os.type != DOMAIN_OS_HVM)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': os type '%s' is not supported by QEMU (use hvm)",
                                     def->name, domain_os_type_to_string(def->os.type));
        if (def->os.arch && !streq(def->os.arch, "x86_64"))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': architecture '%s' is not supported (x86_64 only)",
                                     def->name, def->os.arch);
        if (qcmd_check_cpu(def, err) < 0)
                return -1;
        const char *m = def->os.machine ? def->os.machine : "pc";
        if (qcmd_machine_is_q35(def))
                b->q35 = true;
        else if (!(streq(m, "pc") || startswith(m, "pc-i440fx-")))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': machine type '%s' is not supported "
                                     "(pc, q35, pc-i440fx-*, pc-q35-*)",
                                     def->name, m);
        if (def->memory_kib == 0)
                return lv_error_setf(err, LV_ERR_INVALID_XML, "guest '%s': memory size is 0",
                                     def->name);
        if (def->vcpus == 0)
                return lv_error_setf(err, LV_ERR_INVALID_XML, "guest '%s': vcpu count is 0",
                                     def->name);
        if (def->n_filesystems > 0)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': <filesystem> is not supported for QEMU guests",
                                     def->name);
        if (def->clock_offset != DOMAIN_CLOCK_UTC && def->clock_offset != DOMAIN_CLOCK_LOCALTIME)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': clock offset '%s' is not supported (utc, "
                                     "localtime)",
                                     def->name, domain_clock_offset_to_string(def->clock_offset));
        for (int i = 0; i < def->n_controllers; i++) {
                const struct domain_controller *c = &def->controllers[i];
                if (!qcmd_controller_is_root_port(c) &&
                    (c->target_chassis >= 0 || c->target_port >= 0 ||
                     (c->model_name && c->type != DOMAIN_CONTROLLER_PCI)))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': controller '%s' index %d: <model "
                                             "name> and <target> are supported on "
                                             "pcie-root-port controllers only",
                                             def->name, domain_controller_type_to_string(c->type),
                                             c->index);
                switch (c->type) {
                case DOMAIN_CONTROLLER_PCI:
                        if (c->model && !streq(c->model, "pci-root") &&
                            !streq(c->model, "pcie-root") &&
                            !(b->q35 && streq(c->model, "pcie-root-port")))
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': PCI controller model '%s' is "
                                                     "not supported (pci-root, pcie-root; "
                                                     "pcie-root-port on q35)",
                                                     def->name, c->model);
                        if (c->model_name && !streq_ptr(c->model_name, c->model))
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': PCI controller index %d: "
                                                     "device model '%s' is not supported "
                                                     "(%s)",
                                                     def->name, c->index, c->model_name,
                                                     c->model ? c->model : "none");
                        break;
                case DOMAIN_CONTROLLER_IDE:
                        if (b->q35)
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': IDE controllers are not "
                                                     "available on q35 (use bus='sata')",
                                                     def->name);
                        break;
                case DOMAIN_CONTROLLER_USB:
                        if (c->model && !streq(c->model, "none") &&
                            !streq(c->model, "piix3-uhci") && !streq(c->model, "qemu-xhci") &&
                            !streq(c->model, "nec-xhci"))
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': USB controller model '%s' is "
                                                     "not supported (piix3-uhci, qemu-xhci, "
                                                     "nec-xhci, none)",
                                                     def->name, c->model);
                        const char *usb = c->model ? c->model : b->q35 ? "qemu-xhci" : "piix3-uhci";
                        if (c->ports && !streq(usb, "qemu-xhci") && !streq(usb, "nec-xhci"))
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': USB controller model '%s' "
                                                     "has no 'ports' setting (qemu-xhci and "
                                                     "nec-xhci have)",
                                                     def->name, usb);
                        if (c->ports > 15)
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': USB controller ports=%u: "
                                                     "QEMU's xhci has at most 15 per speed",
                                                     def->name, c->ports);
                        if (c->index != 0)
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': only USB controller index 0 "
                                                     "is supported",
                                                     def->name);
                        break;
                case DOMAIN_CONTROLLER_SCSI:
                        if (c->model && !streq(c->model, "virtio-scsi") && !streq(c->model, "lsi"))
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': SCSI controller model '%s' is "
                                                     "not supported (virtio-scsi, lsi)",
                                                     def->name, c->model);
                        if (c->index != 0)
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': only SCSI controller index 0 "
                                                     "is supported",
                                                     def->name);
                        b->need_scsi = true;
                        break;
                case DOMAIN_CONTROLLER_SATA:
                        /* q35: the ICH9's AHCI; pc: an ahci card, as libvirt */
                        if (c->index != 0)
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': only SATA controller index 0 "
                                                     "is supported",
                                                     def->name);
                        b->need_ahci = !b->q35;
                        break;
                case DOMAIN_CONTROLLER_VIRTIO_SERIAL:
                        b->need_vserial = true;
                        break;
                default:
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': controller type '%s' is not supported "
                                             "for QEMU guests",
                                             def->name, domain_controller_type_to_string(c->type));
                }
        }
        return 0;
}

/* hda → 0, hdz → 25, hdaa → 26 (libvirt's virDiskNameToIndex) */
int qcmd_disk_name_index(const char *name)
{
        if (!name)
                return -1;
        const char *p = name;
        if (startswith(p, "hd") || startswith(p, "sd") || startswith(p, "vd") ||
            startswith(p, "xvd"))
                p += startswith(p, "xvd") ? 3 : 2;
        else
                return -1;
        if (!*p)
                return -1;
        int idx = 0;
        for (; *p; p++) {
                if (*p < 'a' || *p > 'z')
                        return -1;
                idx = (idx + 1) * 26 + (*p - 'a');
                if (idx > 100000)
                        return -1;
        }
        return idx - 26;
}

static const char *addr_attr(const struct domain_address *a, const char *name)
{
        for (int i = 0; i < a->n_attrs; i++)
                if (streq(a->attrs[i].name, name))
                        return a->attrs[i].value;
        return NULL;
}

int qcmd_addr_attr_int(const struct domain_address *a, const char *name, int dflt)
{
        const char *v = addr_attr(a, name);
        if (!v)
                return dflt;
        char *end = NULL;
        errno = 0;
        long n = strtol(v, &end, 0);
        if (errno || !end || *end || n < 0 || n > 1000)
                return -1;
        return (int)n;
}

/* The SCSI controller is an LSI 53C895A unless it is model='virtio-scsi'
 * (libvirt 9 on x86_64: no model, explicit or implied, means lsi). */
bool qcmd_scsi_lsi(const struct domain_def *def)
{
        const struct domain_controller *c = qcmd_controller_find(def, DOMAIN_CONTROLLER_SCSI);
        return !c || !streq(c->model, "virtio-scsi");
}

/* The bus of a disk without bus=: from its target name, as libvirt
 * (vdX virtio, hdX ide, sdX scsi). */
enum domain_disk_bus qcmd_disk_bus(const struct domain_disk *d)
{
        if (d->bus != DOMAIN_DISK_BUS_NONE)
                return d->bus;
        if (startswith(d->target_dev, "vd"))
                return DOMAIN_DISK_BUS_VIRTIO;
        if (startswith(d->target_dev, "hd"))
                return DOMAIN_DISK_BUS_IDE;
        if (startswith(d->target_dev, "sd"))
                return DOMAIN_DISK_BUS_SCSI;
        return DOMAIN_DISK_BUS_NONE;
}

/* A disk's place on its IDE/SATA/SCSI controller as bus * 1000 + unit:
 * its <address type='drive'>, else from its name (hdc: bus 1 unit 0 on
 * IDE; sdc: unit 2), as qemu/command.c places it. */
static int drive_unit(const struct domain_disk *d)
{
        int idx = qcmd_disk_name_index(d->target_dev);
        bool ide = qcmd_disk_bus(d) == DOMAIN_DISK_BUS_IDE;
        int bus = qcmd_addr_attr_int(&d->address, "bus", ide ? idx / 2 : 0);
        int unit = qcmd_addr_attr_int(&d->address, "unit", ide ? idx % 2 : idx);
        return bus * 1000 + unit;
}

static int check_disk(struct build *b, int i, struct lv_error **err)
{
        const struct domain_def *def = b->def;
        const struct domain_disk *d = &def->disks[i];
        const char *t = d->target_dev ? d->target_dev : "?";
        if (qcmd_disk_name_index(d->target_dev) < 0)
                return lv_error_setf(err, LV_ERR_INVALID_XML,
                                     "guest '%s': disk '%s': invalid target device name", def->name,
                                     t);
        if (!d->source && d->device != DOMAIN_DISK_DEVICE_CDROM)
                return lv_error_setf(err, LV_ERR_INVALID_XML, "guest '%s': disk '%s': no source",
                                     def->name, t);
        if (d->driver_name && !streq(d->driver_name, "qemu"))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': disk '%s': driver '%s' is not supported (qemu)",
                                     def->name, t, d->driver_name);
        if (d->driver_cache && !streq(d->driver_cache, "default") &&
            !streq(d->driver_cache, "none") && !streq(d->driver_cache, "writethrough") &&
            !streq(d->driver_cache, "writeback") && !streq(d->driver_cache, "directsync") &&
            !streq(d->driver_cache, "unsafe"))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': disk '%s': cache mode '%s' is not supported",
                                     def->name, t, d->driver_cache);
        switch (qcmd_disk_bus(d)) {
        case DOMAIN_DISK_BUS_VIRTIO:
                if (d->device == DOMAIN_DISK_DEVICE_CDROM)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': disk '%s': a cdrom cannot be on the "
                                             "virtio bus (use ide, sata or scsi)",
                                             def->name, t);
                break;
        case DOMAIN_DISK_BUS_IDE:
                if (b->q35)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': disk '%s': IDE is not available on "
                                             "q35 (use bus='sata')",
                                             def->name, t);
                break;
        case DOMAIN_DISK_BUS_SATA:
                b->need_ahci = !b->q35;
                break;
        case DOMAIN_DISK_BUS_SCSI:
                b->need_scsi = true;
                if (qcmd_scsi_lsi(def) &&
                    qcmd_addr_attr_int(&d->address, "unit", qcmd_disk_name_index(t)) >= 7)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': disk '%s': the lsi SCSI controller "
                                             "(libvirt's default model) has units 0-6 only; "
                                             "use <controller type='scsi' model='virtio-scsi'/>",
                                             def->name, t);
                break;
        default:
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': disk '%s': bus '%s' is not supported for QEMU "
                                     "guests (virtio, ide, sata, scsi)",
                                     def->name, t,
                                     d->bus == DOMAIN_DISK_BUS_NONE
                                             ? "none"
                                             : domain_disk_bus_to_string(d->bus));
        }
        /* the address must be of the bus's kind (libvirt refuses the others) */
        const char *want = qcmd_disk_bus(d) == DOMAIN_DISK_BUS_VIRTIO ? "pci" : "drive";
        if (d->address.type && !streq(d->address.type, want))
                return lv_error_setf(err, LV_ERR_INVALID_XML,
                                     "guest '%s': disk '%s': address type '%s' does not fit "
                                     "bus '%s' (it takes type='%s')",
                                     def->name, t, d->address.type,
                                     domain_disk_bus_to_string(qcmd_disk_bus(d)), want);
        /* two writers of one qcow2 image corrupt it (libvirt: "shared access
         * requires use of supported storage format") */
        if (d->shareable && !d->readonly && d->format == DOMAIN_DISK_FORMAT_QCOW2)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': disk '%s': <shareable/> needs a raw image "
                                     "(a qcow2 image cannot be written by two guests)",
                                     def->name, t);
        for (int j = 0; j < i; j++)
                if (streq(def->disks[j].target_dev, d->target_dev))
                        return lv_error_setf(err, LV_ERR_INVALID_XML,
                                             "guest '%s': disk '%s': target used twice", def->name,
                                             t);
        /* two disks on one drive address (the second's explicit, the first's
         * from its name): libvirt refuses it too */
        enum domain_disk_bus bus = qcmd_disk_bus(d);
        if (bus == DOMAIN_DISK_BUS_IDE || bus == DOMAIN_DISK_BUS_SATA ||
            bus == DOMAIN_DISK_BUS_SCSI) {
                int unit = drive_unit(d);
                for (int j = 0; j < i; j++)
                        if (qcmd_disk_bus(&def->disks[j]) == bus &&
                            drive_unit(&def->disks[j]) == unit)
                                return lv_error_setf(err, LV_ERR_INVALID_XML,
                                                     "guest '%s': disk '%s': its drive address is "
                                                     "disk '%s''s (bus %d unit %d)",
                                                     def->name, t, def->disks[j].target_dev,
                                                     unit / 1000, unit % 1000);
        }
        return 0;
}

bool qcmd_machine_is_q35(const struct domain_def *def)
{
        const char *m = def->os.machine ? def->os.machine : "pc";
        return streq(m, "q35") || startswith(m, "pc-q35-");
}

const char *qcmd_net_model_driver(const char *model)
{
        if (!model || streq(model, "rtl8139"))
                return "rtl8139";
        if (streq(model, "virtio"))
                return "virtio-net-pci";
        if (streq(model, "e1000"))
                return "e1000";
        if (streq(model, "e1000e"))
                return "e1000e";
        return NULL;
}

static int check_net(struct build *b, int i, struct lv_error **err)
{
        const struct domain_def *def = b->def;
        const struct domain_net *n = &def->nets[i];
        if (!n->mac)
                return lv_error_setf(err, LV_ERR_INVALID_XML, "guest '%s': interface %d: no MAC",
                                     def->name, i);
        if (!qcmd_net_model_driver(n->model))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': interface %s: model '%s' is not supported "
                                     "(virtio, e1000, e1000e, rtl8139)",
                                     def->name, n->mac, n->model);
        int fd = i < b->opts->n_net_fds && b->opts->net_fds ? b->opts->net_fds[i] : -1;
        switch (n->type) {
        case DOMAIN_NET_USER:
                break;
        case DOMAIN_NET_BRIDGE:
        case DOMAIN_NET_NETWORK:
        case DOMAIN_NET_ETHERNET:
                if (fd < 0 && !(n->type == DOMAIN_NET_ETHERNET && n->target_dev))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': interface %s: type '%s' needs a tap "
                                             "device and none was prepared",
                                             def->name, n->mac, domain_net_type_to_string(n->type));
                break;
        default:
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': interface %s: type '%s' is not supported",
                                     def->name, n->mac, domain_net_type_to_string(n->type));
        }
        return 0;
}

const char *qcmd_video_primary_driver(const char *model)
{
        if (streq(model, "cirrus"))
                return "cirrus-vga";
        if (streq(model, "vga"))
                return "VGA";
        if (streq(model, "qxl"))
                return "qxl-vga";
        if (streq(model, "virtio"))
                return "virtio-vga";
        if (streq(model, "bochs"))
                return "bochs-display";
        return NULL;
}

const char *qcmd_video_secondary_driver(const char *model)
{
        if (streq(model, "qxl"))
                return "qxl";
        if (streq(model, "virtio"))
                return "virtio-gpu-pci";
        if (streq(model, "bochs"))
                return "bochs-display";
        return NULL;
}

static int check_devices(struct build *b, struct lv_error **err)
{
        const struct domain_def *def = b->def;
        int r;
        if (def->n_disks > 64)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED, "guest '%s': more than 64 disks",
                                     def->name);
        for (int i = 0; i < def->n_disks; i++)
                if ((r = check_disk(b, i, err)) < 0)
                        return r;
        for (int i = 0; i < def->n_nets; i++)
                if ((r = check_net(b, i, err)) < 0)
                        return r;
        for (int i = 0; i < def->n_videos; i++) {
                const char *m = qcmd_video_model(def, i);
                if (streq(m, "none") && def->n_videos == 1)
                        continue;
                const struct domain_video *v = &def->videos[i];
                if ((v->ram || v->vram64 || v->vgamem) && !streq(m, "qxl"))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': video model '%s': ram, vram64 and "
                                             "vgamem are qxl settings",
                                             def->name, m);
                if (!(i == 0 ? qcmd_video_primary_driver(m) : qcmd_video_secondary_driver(m)))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': video model '%s' is not supported "
                                             "here (primary: cirrus, vga, qxl, virtio, bochs; "
                                             "others: qxl, virtio, bochs)",
                                             def->name, m);
        }
        for (int i = 0; i < def->n_inputs; i++) {
                const struct domain_input *in = &def->inputs[i];
                if (in->bus == DOMAIN_INPUT_BUS_XEN)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': input bus 'xen' is not supported for "
                                             "QEMU guests",
                                             def->name);
                if (in->bus == DOMAIN_INPUT_BUS_PS2 && in->type == DOMAIN_INPUT_TABLET)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': a tablet cannot be on the ps2 bus",
                                             def->name);
                if (in->bus == DOMAIN_INPUT_BUS_USB && !qcmd_usb_wanted(def))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': USB input without a USB controller",
                                             def->name);
                const char *want = in->bus == DOMAIN_INPUT_BUS_USB      ? "usb"
                                   : in->bus == DOMAIN_INPUT_BUS_VIRTIO ? "pci"
                                                                        : NULL;
                if (in->address.type && !streq_ptr(in->address.type, want))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': input %d: address type '%s' does not "
                                             "fit bus '%s'",
                                             def->name, i, in->address.type,
                                             domain_input_bus_to_string(in->bus));
                if (in->bus == DOMAIN_INPUT_BUS_USB && in->address.type &&
                    (qcmd_addr_attr_int(&in->address, "bus", 0) != 0 ||
                     qcmd_addr_attr_int(&in->address, "port", 1) < 1))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': input %d: USB address bus %d port %d "
                                             "is not supported (bus 0, a port from 1)",
                                             def->name, i,
                                             qcmd_addr_attr_int(&in->address, "bus", 0),
                                             qcmd_addr_attr_int(&in->address, "port", 1));
        }
        if (def->memballoon_model && !streq(def->memballoon_model, "virtio") &&
            !streq(def->memballoon_model, "none"))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': memballoon model '%s' is not supported "
                                     "(virtio, none)",
                                     def->name, def->memballoon_model);
        int nserial = 0;
        for (int i = 0; i < def->n_chrs; i++) {
                const struct domain_chr *c = &def->chrs[i];
                if (c->source_type && !streq(c->source_type, "pty"))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': %s type '%s' is not supported (pty)",
                                             def->name, domain_chr_kind_to_string(c->kind),
                                             c->source_type);
                if (c->kind == DOMAIN_CHR_SERIAL) {
                        if (c->target_type && !streq(c->target_type, "isa-serial"))
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': serial target type '%s' is not "
                                                     "supported (isa-serial)",
                                                     def->name, c->target_type);
                        if (++nserial > 4)
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': at most 4 serial ports",
                                                     def->name);
                } else if (c->target_type && !streq(c->target_type, "serial") &&
                           !streq(c->target_type, "virtio")) {
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': console target type '%s' is not "
                                             "supported (serial, virtio)",
                                             def->name, c->target_type);
                } else if (streq(c->target_type, "virtio")) {
                        b->need_vserial = true;
                }
        }
        bool spice = false;
        for (int i = 0; i < def->n_graphics; i++)
                spice |= def->graphics[i].type == DOMAIN_GRAPHICS_SPICE;
        for (int i = 0; i < def->n_rngs; i++) {
                const char *be = def->rngs[i].backend ? def->rngs[i].backend : "/dev/urandom";
                /* QEMU's private /dev has these two (qemu/driver.c) */
                if (!streq(be, "/dev/urandom") && !streq(be, "/dev/random"))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': rng backend '%s' is not supported "
                                             "(/dev/urandom, /dev/random)",
                                             def->name, be);
        }
        for (int i = 0; i < def->n_sounds; i++) {
                const struct domain_sound *snd = &def->sounds[i];
                /* the ICH9's own HDA at 00:1b.0; the others are conventional
                 * PCI cards, which q35 takes behind a PCIe-to-PCI bridge */
                if (b->q35 && (!streq(snd->model, "ich9") || i > 0))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': sound '%s': on q35 litevirt supports "
                                             "one ich9 (the chipset's own HDA at 00:1b.0); "
                                             "others need a PCIe-to-PCI bridge, which litevirt "
                                             "does not add",
                                             def->name, snd->model);
                if (snd->address.type && !streq(snd->address.type, "pci"))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': sound '%s': address type '%s' is not "
                                             "supported (pci)",
                                             def->name, snd->model, snd->address.type);
        }
        for (int i = 0; i < def->n_redirdevs; i++) {
                const struct domain_redirdev *rd = &def->redirdevs[i];
                if (!spice)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': redirdev %d: type 'spicevmc' needs "
                                             "<graphics type='spice'>",
                                             def->name, i);
                if (!qcmd_usb_wanted(def))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': redirdev %d: USB redirection without "
                                             "a USB controller",
                                             def->name, i);
                if (rd->address.type && (!streq(rd->address.type, "usb") ||
                                         qcmd_addr_attr_int(&rd->address, "bus", 0) != 0 ||
                                         qcmd_addr_attr_int(&rd->address, "port", 1) < 1))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': redirdev %d: only <address type='usb' "
                                             "bus='0' port='N'> (N from 1) is supported",
                                             def->name, i);
        }
        for (int i = 0; i < def->n_audios; i++)
                if (def->audios[i].type == DOMAIN_AUDIO_SPICE && !spice)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': audio %u: type 'spice' needs "
                                             "<graphics type='spice'>",
                                             def->name, def->audios[i].id);
        for (int i = 0; i < def->n_channels; i++) {
                const struct domain_channel *ch = &def->channels[i];
                const char *name = ch->target_name ? ch->target_name : "(unnamed)";
                b->need_vserial = true;
                if (ch->type == DOMAIN_CHANNEL_SPICEVMC && !spice)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': channel '%s': type 'spicevmc' needs "
                                             "<graphics type='spice'> (QEMU's SPICE server "
                                             "carries it)",
                                             def->name, name);
                int ctl = qcmd_addr_attr_int(&ch->address, "controller", 0);
                int bus = qcmd_addr_attr_int(&ch->address, "bus", 0);
                int port = qcmd_addr_attr_int(&ch->address, "port", 0);
                if (ctl != 0 || bus != 0 || port < 0 || port > 30)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': channel '%s': virtio-serial address "
                                             "controller %d bus %d port %d is not supported "
                                             "(controller 0, bus 0, ports 1-30)",
                                             def->name, name, ctl, bus, port);
                for (int j = 0; j < i && port > 0; j++)
                        if (qcmd_addr_attr_int(&def->channels[j].address, "port", 0) == port)
                                return lv_error_setf(err, LV_ERR_INVALID_XML,
                                                     "guest '%s': channel '%s': virtio-serial "
                                                     "port %d used twice",
                                                     def->name, name, port);
        }
        for (int i = 0; i < def->n_graphics; i++) {
                const struct domain_graphics *g = &def->graphics[i];
                for (int j = 0; j < i; j++)
                        if (def->graphics[j].type == g->type)
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': more than one %s display",
                                                     def->name,
                                                     domain_graphics_type_to_string(g->type));
                for (int l = 0; l < g->n_listens; l++)
                        if (g->listens[l].type && !streq(g->listens[l].type, "address"))
                                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                                     "guest '%s': graphics listen type '%s' is "
                                                     "not supported (address)",
                                                     def->name, g->listens[l].type);
        }
        return 0;
}

/* <clock><timer>: what libvirt 9 can give QEMU (qemuBuildClockCommandLine) */
static int check_timers(struct build *b, struct lv_error **err)
{
        const struct domain_def *def = b->def;
        for (int i = 0; i < def->n_timers; i++) {
                const struct domain_timer *t = &def->timers[i];
                const char *name = domain_timer_name_to_string(t->name);
                const char *policy = domain_timer_tickpolicy_to_string(t->tickpolicy);
                bool bad_policy = false;
                switch (t->name) {
                case DOMAIN_TIMER_RTC:
                        bad_policy = t->tickpolicy != DOMAIN_TIMER_TICKPOLICY_NONE &&
                                     t->tickpolicy != DOMAIN_TIMER_TICKPOLICY_CATCHUP;
                        break;
                case DOMAIN_TIMER_PIT:
                        bad_policy = t->tickpolicy == DOMAIN_TIMER_TICKPOLICY_MERGE;
                        break;
                case DOMAIN_TIMER_HPET:
                        bad_policy = t->tickpolicy != DOMAIN_TIMER_TICKPOLICY_NONE;
                        break;
                default:
                        break;
                }
                if (bad_policy)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': timer '%s': tickpolicy '%s' is not "
                                             "supported by QEMU",
                                             def->name, name, policy);
                if (t->name == DOMAIN_TIMER_HYPERVCLOCK &&
                    t->tickpolicy != DOMAIN_TIMER_TICKPOLICY_NONE)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': timer 'hypervclock' takes no "
                                             "tickpolicy",
                                             def->name);
                if (t->name != DOMAIN_TIMER_HPET && t->name != DOMAIN_TIMER_HYPERVCLOCK &&
                    t->present == DOMAIN_TRISTATE_OFF)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': timer '%s' cannot be removed from an "
                                             "x86 QEMU guest (present='no')",
                                             def->name, name);
        }
        return 0;
}

/* <hyperv>: what QEMU 7.2 does with it. Under KVM each enlightenment
 * needs the ones QEMU requires with it; under TCG, QEMU cannot set the
 * virtual processor index ("kernel doesn't allow setting HyperV
 * VP_INDEX"), so neither vpindex nor what needs it. */
static int check_hyperv(struct build *b, struct lv_error **err)
{
        const struct domain_def *def = b->def;
        const struct domain_hyperv *h = &def->features.hyperv;
        if (!h->present)
                return 0;
        bool time = false;
        for (int i = 0; i < def->n_timers; i++)
                time |= def->timers[i].name == DOMAIN_TIMER_HYPERVCLOCK &&
                        def->timers[i].present == DOMAIN_TRISTATE_ON;
        static const struct {
                size_t feature, needs; /* offsets in struct domain_hyperv */
        } deps[] = {
                {offsetof(struct domain_hyperv, synic), offsetof(struct domain_hyperv, vpindex)},
                {offsetof(struct domain_hyperv, stimer), offsetof(struct domain_hyperv, synic)},
                {offsetof(struct domain_hyperv, tlbflush), offsetof(struct domain_hyperv, vpindex)},
                {offsetof(struct domain_hyperv, ipi), offsetof(struct domain_hyperv, vpindex)},
                {offsetof(struct domain_hyperv, evmcs), offsetof(struct domain_hyperv, vapic)},
        };
        const char *base = (const char *)h;
        for (size_t i = 0; i < domain_hyperv_n_flags; i++) {
                if (domain_hyperv_get(h, i) != DOMAIN_TRISTATE_ON)
                        continue;
                const struct domain_hyperv_flag *f = &domain_hyperv_flags[i];
                bool vp = f->offset == offsetof(struct domain_hyperv, vpindex);
                for (size_t k = 0; k < ARRAY_SIZE(deps); k++)
                        vp |= f->offset == deps[k].feature &&
                              deps[k].needs == offsetof(struct domain_hyperv, vpindex);
                vp |= f->offset == offsetof(struct domain_hyperv, stimer);
                if (def->type == DOMAIN_TYPE_QEMU && vp)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': Hyper-V '%s' needs domain type "
                                             "'kvm': QEMU 7.2 under TCG cannot set the Hyper-V "
                                             "VP index (vpindex; synic, stimer, tlbflush and ipi "
                                             "need it)",
                                             def->name, f->name);
                if (def->type != DOMAIN_TYPE_KVM)
                        continue;
                for (size_t k = 0; k < ARRAY_SIZE(deps); k++) {
                        if (deps[k].feature != f->offset ||
                            *(const enum domain_tristate *)(const void *)(base + deps[k].needs) ==
                                    DOMAIN_TRISTATE_ON)
                                continue;
                        const char *need = "?";
                        for (size_t j = 0; j < domain_hyperv_n_flags; j++)
                                if (domain_hyperv_flags[j].offset == deps[k].needs)
                                        need = domain_hyperv_flags[j].name;
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': Hyper-V '%s' needs '%s' on (QEMU "
                                             "refuses it without)",
                                             def->name, f->name, need);
                }
                if (f->offset == offsetof(struct domain_hyperv, stimer) && !time)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': Hyper-V 'stimer' needs <timer "
                                             "name='hypervclock' present='yes'/> (QEMU refuses "
                                             "it without)",
                                             def->name);
        }
        return 0;
}

int qcmd_check(struct build *b, struct lv_error **err)
{
        int r = check_machine(b, err);
        if (r < 0 || (r = check_timers(b, err)) < 0 || (r = check_hyperv(b, err)) < 0)
                return r;
        return check_devices(b, err);
}
