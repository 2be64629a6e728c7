/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A QEMU guest's definition in libvirt's define-time form
 * (qemu_definition_prepare, qemu/command.h): what the command line builder
 * decides — PCI, drive, virtio-serial and USB addresses, the implicit
 * controllers, root ports, ps2 inputs, <audio>, <memballoon>, the serial
 * port of a serial console — written into the definition, from the same
 * assignment (qcmd_assign) the command line is built with. Pure. */
#include "qemu/command_priv.h"

/* ---- writing into the model ---- */

static void addr_attr(struct domain_address *a, const char *name, char *value_owned)
{
        a->attrs = xrealloc(a->attrs, (size_t)(a->n_attrs + 1) * sizeof(*a->attrs));
        a->attrs[a->n_attrs].name = xstrdup(name);
        a->attrs[a->n_attrs].value = value_owned;
        a->n_attrs++;
}

/* The bus number of a command-line bus name: pci.0/pcie.0 → 0, pci.N → N */
static int pci_bus_number(const char *bus)
{
        return startswith(bus, "pci.") ? atoi(bus + 4) : 0;
}

void qcmd_addr_pci(struct domain_address *a, const struct pci_addr *p)
{
        if (a->type || !p->set)
                return;
        a->type = xstrdup("pci");
        addr_attr(a, "domain", xstrdup("0x0000"));
        addr_attr(a, "bus", xasprintf("0x%02x", pci_bus_number(p->bus)));
        addr_attr(a, "slot", xasprintf("0x%02x", p->slot));
        addr_attr(a, "function", xasprintf("0x%x", p->fn));
        if (p->multifunction)
                addr_attr(a, "multifunction", xstrdup("on"));
}

static void addr_fixed(struct domain_address *a, int slot, int fn)
{
        struct pci_addr p = {.bus = "pci.0", .slot = slot, .fn = fn, .set = true};
        qcmd_addr_pci(a, &p);
}

/* <address type='drive' controller='0' bus target='0' unit> */
static void addr_drive(struct domain_address *a, int bus, int unit)
{
        if (a->type)
                return;
        a->type = xstrdup("drive");
        addr_attr(a, "controller", xstrdup("0"));
        addr_attr(a, "bus", xasprintf("%d", bus));
        addr_attr(a, "target", xstrdup("0"));
        addr_attr(a, "unit", xasprintf("%d", unit));
}

static void addr_usb(struct domain_address *a, int port)
{
        if (a->type)
                return;
        a->type = xstrdup("usb");
        addr_attr(a, "bus", xstrdup("0"));
        addr_attr(a, "port", xasprintf("%d", port));
}

/* A controller appended (libvirt appends the ones it adds). */
static struct domain_controller *controller_add(struct domain_def *def,
                                                enum domain_controller_type type, int index,
                                                const char *model)
{
        def->controllers = xrealloc(def->controllers,
                                    (size_t)(def->n_controllers + 1) * sizeof(*def->controllers));
        struct domain_controller *c = &def->controllers[def->n_controllers++];
        memset(c, 0, sizeof(*c));
        c->type = type;
        c->index = index;
        c->model = model ? xstrdup(model) : NULL;
        c->target_chassis = -1;
        c->target_port = -1;
        return c;
}

static struct domain_controller *controller_find(struct domain_def *def,
                                                 enum domain_controller_type type)
{
        for (int i = 0; i < def->n_controllers; i++)
                if (def->controllers[i].type == type && def->controllers[i].index == 0)
                        return &def->controllers[i];
        return NULL;
}

static bool disk_on_bus(const struct domain_def *def, enum domain_disk_bus bus)
{
        for (int i = 0; i < def->n_disks; i++)
                if (qcmd_disk_bus(&def->disks[i]) == bus)
                        return true;
        return false;
}

/* ---- the parts ---- */

/* libvirt's order: the default USB controller, q35's SATA, the PCI root,
 * then the disks' controllers, virtio-serial, and the root ports its
 * address assignment adds. */
static void prepare_controllers(struct domain_def *def, const struct build *b)
{
        if (b->usb_addr.set && !controller_find(def, DOMAIN_CONTROLLER_USB))
                controller_add(def, DOMAIN_CONTROLLER_USB, 0, b->q35 ? "qemu-xhci" : "piix3-uhci");
        if (b->q35 && !controller_find(def, DOMAIN_CONTROLLER_SATA))
                controller_add(def, DOMAIN_CONTROLLER_SATA, 0, NULL);
        if (!controller_find(def, DOMAIN_CONTROLLER_PCI))
                controller_add(def, DOMAIN_CONTROLLER_PCI, 0, b->q35 ? "pcie-root" : "pci-root");
        if (b->need_scsi && !controller_find(def, DOMAIN_CONTROLLER_SCSI))
                controller_add(def, DOMAIN_CONTROLLER_SCSI, 0, "lsi");
        if (!b->q35 && disk_on_bus(def, DOMAIN_DISK_BUS_IDE) &&
            !controller_find(def, DOMAIN_CONTROLLER_IDE))
                controller_add(def, DOMAIN_CONTROLLER_IDE, 0, NULL);
        if (b->need_ahci && !controller_find(def, DOMAIN_CONTROLLER_SATA))
                controller_add(def, DOMAIN_CONTROLLER_SATA, 0, NULL);
        if (b->need_vserial && !controller_find(def, DOMAIN_CONTROLLER_VIRTIO_SERIAL))
                controller_add(def, DOMAIN_CONTROLLER_VIRTIO_SERIAL, 0, NULL);
        int k = 0;
        for (int i = 0; i < def->n_controllers; i++)
                k += qcmd_controller_is_root_port(&def->controllers[i]);
        for (; k < b->n_ports; k++)
                controller_add(def, DOMAIN_CONTROLLER_PCI, k + 1, "pcie-root-port");

        k = 0;
        for (int i = 0; i < def->n_controllers; i++) {
                struct domain_controller *c = &def->controllers[i];
                if (qcmd_controller_is_root_port(c)) {
                        const struct pci_addr *a = &b->ports[k++].addr;
                        if (!c->model_name)
                                c->model_name = xstrdup("pcie-root-port");
                        if (c->target_chassis < 0)
                                c->target_chassis = k;
                        if (c->target_port < 0)
                                c->target_port = a->slot * 8 + a->fn;
                        qcmd_addr_pci(&c->address, a);
                        continue;
                }
                if (c->index != 0)
                        continue;
                switch (c->type) {
                case DOMAIN_CONTROLLER_USB:
                        if (!c->model) /* the command line's default */
                                c->model = xstrdup(b->q35 ? "qemu-xhci" : "piix3-uhci");
                        qcmd_addr_pci(&c->address, &b->usb_addr);
                        break;
                case DOMAIN_CONTROLLER_SCSI:
                        qcmd_addr_pci(&c->address, &b->scsi_addr);
                        break;
                case DOMAIN_CONTROLLER_VIRTIO_SERIAL:
                        qcmd_addr_pci(&c->address, &b->vserial_addr);
                        break;
                case DOMAIN_CONTROLLER_IDE:
                        if (!b->q35)
                                addr_fixed(&c->address, 1, 1); /* the PIIX3's */
                        break;
                case DOMAIN_CONTROLLER_SATA:
                        if (b->q35)
                                addr_fixed(&c->address, 0x1f, 2); /* the ICH9's */
                        else
                                qcmd_addr_pci(&c->address, &b->ahci_addr);
                        break;
                default:
                        break;
                }
        }
}

/* PCI addresses of virtio disks, drive addresses of the others (bus and
 * unit as the command line numbers them); the driver name and format. */
static void prepare_disks(struct domain_def *def, const struct build *b)
{
        for (int i = 0; i < def->n_disks; i++) {
                struct domain_disk *d = &def->disks[i];
                int idx = qcmd_disk_name_index(d->target_dev);
                if (!d->driver_name)
                        d->driver_name = xstrdup("qemu");
                if (d->format == DOMAIN_DISK_FORMAT_NONE)
                        d->format = DOMAIN_DISK_FORMAT_RAW; /* the command line's too */
                switch (qcmd_disk_bus(d)) {
                case DOMAIN_DISK_BUS_VIRTIO:
                        qcmd_addr_pci(&d->address, &b->disk_addr[i]);
                        break;
                case DOMAIN_DISK_BUS_IDE:
                        if (idx >= 0)
                                addr_drive(&d->address, idx / 2, idx % 2);
                        break;
                case DOMAIN_DISK_BUS_SATA:
                case DOMAIN_DISK_BUS_SCSI:
                        if (idx >= 0)
                                addr_drive(&d->address, 0, idx);
                        break;
                default:
                        break;
                }
        }
}

/* A <serial>'s target type and model (isa-serial, the command line's);
 * a serial console without a <serial>: the serial port the command line
 * gives it, as libvirt writes it (<serial> before the <console>, whose
 * target is that port). */
static void prepare_serial(struct domain_def *def)
{
        int console = -1;
        bool serial = false;
        for (int i = 0; i < def->n_chrs; i++) {
                struct domain_chr *c = &def->chrs[i];
                if (c->kind == DOMAIN_CHR_SERIAL) {
                        serial = true;
                        if (!c->target_type)
                                c->target_type = xstrdup("isa-serial");
                        if (!c->target_model && streq(c->target_type, "isa-serial"))
                                c->target_model = xstrdup("isa-serial");
                        continue;
                }
                if (console < 0 && qcmd_console_is_serial(&def->chrs[i]))
                        console = i;
        }
        if (serial || console < 0)
                return;
        struct domain_chr *con = &def->chrs[console];
        if (!con->target_type)
                con->target_type = xstrdup("serial");
        if (con->target_port < 0)
                con->target_port = 0;
        def->chrs = xrealloc(def->chrs, (size_t)(def->n_chrs + 1) * sizeof(*def->chrs));
        memmove(&def->chrs[console + 1], &def->chrs[console],
                (size_t)(def->n_chrs - console) * sizeof(*def->chrs));
        def->n_chrs++;
        struct domain_chr *s = &def->chrs[console];
        memset(s, 0, sizeof(*s));
        s->kind = DOMAIN_CHR_SERIAL;
        s->source_type = xstrdup(
                def->chrs[console + 1].source_type ? def->chrs[console + 1].source_type : "pty");
        s->target_type = xstrdup("isa-serial");
        s->target_port = 0;
        s->target_model = xstrdup("isa-serial");
}

static bool input_present(const struct domain_def *def, enum domain_input_type type,
                          enum domain_input_bus bus)
{
        for (int i = 0; i < def->n_inputs; i++)
                if (def->inputs[i].type == type && def->inputs[i].bus == bus)
                        return true;
        return false;
}

static void input_add(struct domain_def *def, enum domain_input_type type)
{
        if (input_present(def, type, DOMAIN_INPUT_BUS_PS2))
                return;
        def->inputs = xrealloc(def->inputs, (size_t)(def->n_inputs + 1) * sizeof(*def->inputs));
        struct domain_input *in = &def->inputs[def->n_inputs++];
        memset(in, 0, sizeof(*in));
        in->type = type;
        in->bus = DOMAIN_INPUT_BUS_PS2;
}

/* USB ports (inputs first, then redirections, as the command line),
 * virtio inputs' PCI addresses, then the i8042's ps2 mouse and keyboard
 * libvirt lists. */
static void prepare_inputs(struct domain_def *def, const struct build *b)
{
        int next = 1;
        for (int i = 0; i < def->n_inputs; i++) {
                struct domain_input *in = &def->inputs[i];
                if (in->bus == DOMAIN_INPUT_BUS_USB)
                        addr_usb(&in->address, qcmd_usb_port(def, &in->address, &next));
                else if (in->bus == DOMAIN_INPUT_BUS_VIRTIO)
                        qcmd_addr_pci(&in->address, &b->input_addr[i]);
        }
        for (int i = 0; i < def->n_redirdevs; i++)
                addr_usb(&def->redirdevs[i].address,
                         qcmd_usb_port(def, &def->redirdevs[i].address, &next));
        input_add(def, DOMAIN_INPUT_MOUSE);
        input_add(def, DOMAIN_INPUT_KEYBOARD);
}

/* libvirt's implicit <audio id='1'>: through SPICE with a SPICE display,
 * else none */
static void prepare_audio(struct domain_def *def)
{
        if (def->n_audios)
                return;
        bool spice = false;
        for (int i = 0; i < def->n_graphics; i++)
                spice |= def->graphics[i].type == DOMAIN_GRAPHICS_SPICE;
        def->audios = xcalloc(1, sizeof(*def->audios));
        def->n_audios = 1;
        def->audios[0].id = 1;
        def->audios[0].type = spice ? DOMAIN_AUDIO_SPICE : DOMAIN_AUDIO_NONE;
}

/* Video: the default card the command line adds for a display, heads
 * and (VGA-compatible models) video memory as libvirt's defaults. */
static void prepare_video(struct domain_def *def, const struct build *b)
{
        if (!def->n_videos && qcmd_has_primary_video(def)) {
                def->videos = xcalloc(1, sizeof(*def->videos));
                def->n_videos = 1;
                def->videos[0].model = xstrdup("cirrus");
                def->videos[0].primary = DOMAIN_TRISTATE_ON;
        }
        for (int i = 0; i < def->n_videos; i++) {
                struct domain_video *v = &def->videos[i];
                const char *m = qcmd_video_model(def, i);
                if (streq(m, "none"))
                        continue;
                if (!v->model)
                        v->model = xstrdup(m);
                if (!v->vram && (streq(m, "vga") || streq(m, "cirrus") || streq(m, "bochs")))
                        v->vram = 16384;
                if (!v->heads)
                        v->heads = 1;
                qcmd_addr_pci(&v->address, &b->video_addr[i]);
        }
}

int qemu_definition_prepare(struct domain_def *def, struct lv_error **err)
{
        if (def->type != DOMAIN_TYPE_QEMU && def->type != DOMAIN_TYPE_KVM)
                return 0;
        int fds[QCMD_PREVIEW_MAX_NETS];
        struct qemu_graphics_ports ports[QEMU_PREVIEW_MAX_GRAPHICS];
        struct qemu_command_opts opts;
        qcmd_preview_opts(def, fds, ports, &opts);
        struct build b = {.def = def, .opts = &opts};
        int r = qcmd_assign(&b, err);
        if (r < 0) {
                qcmd_build_free(&b);
                return r;
        }
        for (int i = 0; i < def->n_nets; i++)
                qcmd_addr_pci(&def->nets[i].address, &b.net_addr[i]);
        for (int i = 0; i < def->n_sounds; i++)
                qcmd_addr_pci(&def->sounds[i].address, &b.sound_addr[i]);
        for (int i = 0; i < def->n_rngs; i++)
                qcmd_addr_pci(&def->rngs[i].address, &b.rng_addr[i]);
        for (int i = 0; i < def->n_channels; i++) {
                struct domain_address *a = &def->channels[i].address;
                if (a->type)
                        continue;
                a->type = xstrdup("virtio-serial");
                addr_attr(a, "controller", xstrdup("0"));
                addr_attr(a, "bus", xstrdup("0"));
                addr_attr(a, "port", xasprintf("%d", b.channel_port[i]));
        }
        if (!def->memballoon_model)
                def->memballoon_model = xstrdup("virtio");
        qcmd_addr_pci(&def->memballoon_address, &b.balloon_addr);
        prepare_video(def, &b);
        prepare_disks(def, &b);
        prepare_inputs(def, &b);
        prepare_serial(def);
        prepare_audio(def);
        /* last: it reallocates the controllers b looked at */
        prepare_controllers(def, &b);
        qcmd_build_free(&b);
        return 0;
}
