/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Domain definition → QEMU command line (pure). See qemu/command.h.
 *
 * The layout follows libvirt 9.0 for x86_64: PCI slots are assigned in
 * libvirt's order (NICs, controllers, virtio disks, balloon, rng, other
 * video, virtio inputs) starting at slot 2 on pc (slot 1 is the PIIX3, slot 2 is
 * kept for the primary video card); on q35 every endpoint gets its own
 * pcie-root-port (the definition's own first, plus one spare for hot-plug
 * when none is left free), as libvirt does. */
#include "qemu/command_priv.h"

#include <json-c/json.h>

#include "util/paths.h"
#include "util/strbuf.h"

static void arg(struct build *b, const char *s)
{
        strv_push(&b->argv, xstrdup(s));
}

static void arg2(struct build *b, const char *opt, char *val_owned)
{
        strv_push(&b->argv, xstrdup(opt));
        strv_push(&b->argv, val_owned);
}

static char *json_take(struct json_object *o)
{
        char *s = xstrdup(json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return s;
}

static void jstr(struct json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, json_object_new_string(v));
}

static void jint(struct json_object *o, const char *k, long long v)
{
        json_object_object_add(o, k, json_object_new_int64(v));
}

static void jbool(struct json_object *o, const char *k, bool v)
{
        json_object_object_add(o, k, json_object_new_boolean(v));
}

static void jaddr(struct json_object *o, const struct pci_addr *a)
{
        if (!a->set)
                return;
        jstr(o, "bus", a->bus);
        if (a->multifunction)
                jbool(o, "multifunction", true);
        char buf[32];
        if (a->fn)
                snprintf(buf, sizeof(buf), "0x%x.0x%x", a->slot, a->fn);
        else
                snprintf(buf, sizeof(buf), "0x%x", a->slot);
        jstr(o, "addr", buf);
}

/* ---------------------------------------------------------------------- */
/* PCI address assignment */

/* q35: bus N (root port N) is in use; the ports grow to reach it */
static void q35_bus_take(struct build *b, int bus)
{
        b->q35_bus_used[bus] = true;
        if (bus > b->n_ports_used)
                b->n_ports_used = bus;
        if (b->n_ports_used > b->n_ports) {
                b->ports = xrealloc(b->ports, (size_t)b->n_ports_used * sizeof(*b->ports));
                b->n_ports = b->n_ports_used;
        }
}

static int pci_alloc(struct build *b, struct pci_addr *ret, const char *what, struct lv_error **err)
{
        memset(ret, 0, sizeof(*ret));
        if (!b->q35) {
                while (b->next_slot <= QEMU_PCI_MAX_SLOT && (b->pc_used & (1u << b->next_slot)))
                        b->next_slot++;
                if (b->next_slot > QEMU_PCI_MAX_SLOT)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "%s: no free PCI slot left on pci.0", what);
                snprintf(ret->bus, sizeof(ret->bus), "pci.0");
                b->pc_used |= 1u << b->next_slot;
                ret->slot = b->next_slot++;
                ret->set = true;
                return 0;
        }
        /* q35: the next free root port (the definition's first, then new
         * ones); the device sits at its slot 0 */
        int bus = 1, max = 8 * (QEMU_PCI_MAX_SLOT - b->first_port_slot);
        while (bus <= max && b->q35_bus_used[bus])
                bus++;
        if (bus > max)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED, "%s: no free PCIe root port left",
                                     what);
        q35_bus_take(b, bus);
        snprintf(ret->bus, sizeof(ret->bus), "pci.%d", bus);
        ret->slot = 0;
        ret->set = true;
        return 0;
}

/* A device's own <address type='pci'> where litevirt puts devices — pc: a
 * free slot of pci.0; q35: slot 0 of a free root port — is taken before
 * the others are handed out, so it is honoured and the others go around
 * it (libvirt reserves the given addresses first too). Any other address
 * is left to check_explicit. */
static void pci_take_explicit(struct build *b, const struct domain_address *a, struct pci_addr *ret)
{
        if (!streq_ptr(a->type, "pci") || qcmd_addr_attr_int(a, "domain", 0) != 0 ||
            qcmd_addr_attr_int(a, "function", 0) != 0)
                return;
        int bus = qcmd_addr_attr_int(a, "bus", 0), slot = qcmd_addr_attr_int(a, "slot", -1);
        memset(ret, 0, sizeof(*ret));
        if (!b->q35) {
                if (bus != 0 || slot < QEMU_PC_FIRST_SLOT || slot > QEMU_PCI_MAX_SLOT ||
                    (b->pc_used & (1u << slot)))
                        return;
                b->pc_used |= 1u << slot;
                snprintf(ret->bus, sizeof(ret->bus), "pci.0");
        } else {
                if (bus < 1 || bus > 8 * (QEMU_PCI_MAX_SLOT - b->first_port_slot) || slot != 0 ||
                    b->q35_bus_used[bus])
                        return;
                q35_bus_take(b, bus);
                snprintf(ret->bus, sizeof(ret->bus), "pci.%d", bus);
        }
        ret->slot = slot;
        ret->set = true;
}

static void q35_ports_finish(struct build *b)
{
        for (int k = 0; k < b->n_ports; k++) {
                struct pci_addr *a = &b->ports[k].addr;
                memset(a, 0, sizeof(*a));
                snprintf(a->bus, sizeof(a->bus), "pcie.0");
                a->slot = b->first_port_slot + k / 8;
                a->fn = k % 8;
                a->multifunction = a->fn == 0 && k + 1 < b->n_ports;
                a->set = true;
        }
}

/* ---------------------------------------------------------------------- */
/* Address assignment in libvirt's order */

static int assign_addresses(struct build *b, struct lv_error **err)
{
        const struct domain_def *def = b->def;
        int r;
        bool video = qcmd_has_primary_video(def);

        b->next_slot = QEMU_PC_FIRST_SLOT + (video ? 1 : 0);
        b->first_port_slot = video ? 2 : 1;

        b->net_addr = xcalloc((size_t)def->n_nets + 1, sizeof(struct pci_addr));
        b->disk_addr = xcalloc((size_t)def->n_disks + 1, sizeof(struct pci_addr));
        b->video_addr = xcalloc((size_t)def->n_videos + 1, sizeof(struct pci_addr));
        b->input_addr = xcalloc((size_t)def->n_inputs + 1, sizeof(struct pci_addr));
        b->sound_addr = xcalloc((size_t)def->n_sounds + 1, sizeof(struct pci_addr));
        /* the definition's root ports exist whether devices use them or not */
        for (int i = 0; i < def->n_controllers; i++)
                b->n_explicit_ports += qcmd_controller_is_root_port(&def->controllers[i]);
        if (b->n_explicit_ports) {
                b->n_ports = b->n_explicit_ports;
                b->ports = xcalloc((size_t)b->n_ports, sizeof(*b->ports));
        }
        b->rng_addr = xcalloc((size_t)def->n_rngs + 1, sizeof(struct pci_addr));
        if (!b->q35 && video)
                b->pc_used |= 1u << 2; /* the primary video's */

        /* the addresses the definition gives, first */
        for (int i = 0; i < def->n_nets; i++)
                pci_take_explicit(b, &def->nets[i].address, &b->net_addr[i]);
        for (int i = 0; i < def->n_sounds && !b->q35; i++)
                pci_take_explicit(b, &def->sounds[i].address, &b->sound_addr[i]);
        for (int i = 0; i < def->n_controllers; i++) {
                const struct domain_controller *c = &def->controllers[i];
                struct pci_addr *a = c->type == DOMAIN_CONTROLLER_USB             ? &b->usb_addr
                                     : c->type == DOMAIN_CONTROLLER_SCSI          ? &b->scsi_addr
                                     : c->type == DOMAIN_CONTROLLER_VIRTIO_SERIAL ? &b->vserial_addr
                                     : c->type == DOMAIN_CONTROLLER_SATA && !b->q35 ? &b->ahci_addr
                                                                                    : NULL;
                if (a && c->index == 0 && !a->set)
                        pci_take_explicit(b, &c->address, a);
        }
        for (int i = 0; i < def->n_disks; i++)
                if (qcmd_disk_bus(&def->disks[i]) == DOMAIN_DISK_BUS_VIRTIO)
                        pci_take_explicit(b, &def->disks[i].address, &b->disk_addr[i]);
        pci_take_explicit(b, &def->memballoon_address, &b->balloon_addr);
        for (int i = 0; i < def->n_rngs; i++)
                pci_take_explicit(b, &def->rngs[i].address, &b->rng_addr[i]);
        for (int i = 1; i < def->n_videos; i++)
                pci_take_explicit(b, &def->videos[i].address, &b->video_addr[i]);
        for (int i = 0; i < def->n_inputs; i++)
                if (def->inputs[i].bus == DOMAIN_INPUT_BUS_VIRTIO)
                        pci_take_explicit(b, &def->inputs[i].address, &b->input_addr[i]);

        /* NICs, sound cards, then the controllers (libvirt's
         * qemuDomainAssignDevicePCISlots); q35's ich9 sound is the ICH9's
         * own function at 00:1b.0 */
        for (int i = 0; i < def->n_nets; i++)
                if (!b->net_addr[i].set &&
                    (r = pci_alloc(b, &b->net_addr[i], "interface", err)) < 0)
                        return r;
        for (int i = 0; i < def->n_sounds; i++) {
                if (b->q35) { /* ich9 only (command_check) */
                        struct pci_addr *a = &b->sound_addr[i];
                        snprintf(a->bus, sizeof(a->bus), "pcie.0");
                        a->slot = 0x1b;
                        a->set = true;
                } else if (!b->sound_addr[i].set &&
                           (r = pci_alloc(b, &b->sound_addr[i], "sound", err)) < 0) {
                        return r;
                }
        }
        if (qcmd_usb_wanted(def)) {
                const struct domain_controller *c =
                        qcmd_controller_find(def, DOMAIN_CONTROLLER_USB);
                bool piix = !b->q35 && (!c || !c->model || streq(c->model, "piix3-uhci"));
                if (!piix) {
                        if (!b->usb_addr.set &&
                            (r = pci_alloc(b, &b->usb_addr, "USB controller", err)) < 0)
                                return r;
                } else {
                        snprintf(b->usb_addr.bus, sizeof(b->usb_addr.bus), "pci.0");
                        b->usb_addr.slot = 1;
                        b->usb_addr.fn = 2;
                        b->usb_addr.set = true;
                }
        }
        if (b->need_ahci && !b->ahci_addr.set &&
            (r = pci_alloc(b, &b->ahci_addr, "SATA controller", err)) < 0)
                return r;
        if (b->need_scsi && !b->scsi_addr.set &&
            (r = pci_alloc(b, &b->scsi_addr, "SCSI controller", err)) < 0)
                return r;
        if (b->need_vserial && !b->vserial_addr.set &&
            (r = pci_alloc(b, &b->vserial_addr, "virtio-serial controller", err)) < 0)
                return r;
        /* virtio disks in their targets' order (vda before vdb, wherever
         * the document has them): libvirt keeps a bus's disks sorted so */
        for (int n = 0; n < def->n_disks; n++) {
                int i = -1;
                for (int j = 0; j < def->n_disks; j++)
                        if (qcmd_disk_bus(&def->disks[j]) == DOMAIN_DISK_BUS_VIRTIO &&
                            !b->disk_addr[j].set &&
                            (i < 0 || qcmd_disk_name_index(def->disks[j].target_dev) <
                                              qcmd_disk_name_index(def->disks[i].target_dev)))
                                i = j;
                if (i < 0)
                        break;
                if ((r = pci_alloc(b, &b->disk_addr[i], def->disks[i].target_dev, err)) < 0)
                        return r;
        }
        if (qcmd_balloon_wanted(def) && !b->balloon_addr.set &&
            (r = pci_alloc(b, &b->balloon_addr, "memballoon", err)) < 0)
                return r;
        for (int i = 0; i < def->n_rngs; i++)
                if (!b->rng_addr[i].set && (r = pci_alloc(b, &b->rng_addr[i], "rng", err)) < 0)
                        return r;
        for (int i = 1; i < def->n_videos; i++)
                if (!b->video_addr[i].set &&
                    (r = pci_alloc(b, &b->video_addr[i], "video", err)) < 0)
                        return r;
        for (int i = 0; i < def->n_inputs; i++)
                if (def->inputs[i].bus == DOMAIN_INPUT_BUS_VIRTIO && !b->input_addr[i].set &&
                    (r = pci_alloc(b, &b->input_addr[i], "input", err)) < 0)
                        return r;
        if (video) {
                struct pci_addr *a = &b->video_addr[0];
                snprintf(a->bus, sizeof(a->bus), b->q35 ? "pcie.0" : "pci.0");
                a->slot = b->q35 ? 1 : 2;
                a->set = true;
        }
        if (b->q35) {
                /* one free root port, so that a device can be hot-plugged,
                 * when litevirt added root ports (libvirt: none when the
                 * definition's own were enough, or nothing needed one) */
                struct pci_addr spare;
                if (b->n_ports_used > b->n_explicit_ports &&
                    (r = pci_alloc(b, &spare, "hot-plug root port", err)) < 0)
                        return r;
                q35_ports_finish(b);
        }
        return 0;
}

/* An explicit <address type='pci'> must be where litevirt puts the device
 * (libvirt's order for definitions without addresses): litevirt does not
 * move devices to other slots yet, and a guest must never silently see its
 * devices elsewhere than its definition says. */
static int check_explicit(const struct build *b, const struct domain_address *want,
                          const struct pci_addr *got, const char *what, struct lv_error **err)
{
        if (!want->type)
                return 0;
        if (!streq(want->type, "pci") || !got->set)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': %s: <address type='%s'> is not supported here "
                                     "(a PCI device: type='pci')",
                                     b->def->name, what, want->type);
        int bus = 0;
        if (startswith(got->bus, "pci.") && !streq(got->bus, "pci.0"))
                bus = atoi(got->bus + 4);
        int w_domain = qcmd_addr_attr_int(want, "domain", 0);
        int w_bus = qcmd_addr_attr_int(want, "bus", 0);
        int w_slot = qcmd_addr_attr_int(want, "slot", -1);
        int w_fn = qcmd_addr_attr_int(want, "function", 0);
        if (w_domain == 0 && w_bus == bus && w_slot == got->slot && w_fn == got->fn)
                return 0;
        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                             "guest '%s': %s: PCI address %04x:%02x:%02x.%x is not honoured "
                             "by litevirt, which puts it at 0000:%02x:%02x.%x (libvirt's order "
                             "without addresses): remove the <address> or use that one",
                             b->def->name, what, w_domain, w_bus, w_slot, w_fn, bus, got->slot,
                             got->fn);
}

static int check_explicit_addresses(const struct build *b, struct lv_error **err)
{
        const struct domain_def *def = b->def;
        int r;
        /* the PIIX3's IDE (pc) and the ICH9's AHCI (q35) are fixed */
        const struct pci_addr ide = {.bus = "pci.0", .slot = 1, .fn = 1, .set = true};
        const struct pci_addr ahci = {.bus = "pcie.0", .slot = 0x1f, .fn = 2, .set = true};
        const struct pci_addr none = {0};
        for (int i = 0; i < def->n_controllers; i++) {
                const struct domain_controller *c = &def->controllers[i];
                const struct pci_addr *a = &none;
                if (qcmd_controller_is_root_port(c))
                        continue; /* below */
                switch (c->type) {
                case DOMAIN_CONTROLLER_USB:
                        a = &b->usb_addr;
                        break;
                case DOMAIN_CONTROLLER_SCSI:
                        a = &b->scsi_addr;
                        break;
                case DOMAIN_CONTROLLER_VIRTIO_SERIAL:
                        a = &b->vserial_addr;
                        break;
                case DOMAIN_CONTROLLER_IDE:
                        a = &ide;
                        break;
                case DOMAIN_CONTROLLER_SATA:
                        a = b->q35 ? &ahci : &b->ahci_addr;
                        break;
                default:
                        break;
                }
                _cleanup_free_ char *what =
                        xasprintf("controller '%s' index %d",
                                  domain_controller_type_to_string(c->type), c->index);
                if ((r = check_explicit(b, &c->address, a, what, err)) < 0)
                        return r;
        }
        for (int i = 0, k = 0; i < def->n_controllers; i++) {
                const struct domain_controller *c = &def->controllers[i];
                if (!qcmd_controller_is_root_port(c))
                        continue;
                const struct pci_addr *a = &b->ports[k].addr;
                int chassis = k + 1, port = a->slot * 8 + a->fn;
                _cleanup_free_ char *what = xasprintf("pcie-root-port index %d", c->index);
                if (c->index != k + 1)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': %s: litevirt numbers the root ports "
                                             "1..%d in order (this one is the %d.)",
                                             def->name, what, b->n_explicit_ports, k + 1);
                if ((c->target_chassis >= 0 && c->target_chassis != chassis) ||
                    (c->target_port >= 0 && c->target_port != port))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': %s: <target chassis='%d' port='0x%x'> is "
                                             "not honoured by litevirt, which gives it chassis "
                                             "%d port 0x%x (libvirt's numbering): remove the "
                                             "<target> or use those",
                                             def->name, what, c->target_chassis, c->target_port,
                                             chassis, port);
                if ((r = check_explicit(b, &c->address, a, what, err)) < 0)
                        return r;
                k++;
        }
        for (int i = 0; i < def->n_sounds; i++) {
                _cleanup_free_ char *what = xasprintf("sound %d", i);
                if ((r = check_explicit(b, &def->sounds[i].address, &b->sound_addr[i], what, err)) <
                    0)
                        return r;
        }
        for (int i = 0; i < def->n_disks; i++)
                if (qcmd_disk_bus(&def->disks[i]) == DOMAIN_DISK_BUS_VIRTIO) {
                        _cleanup_free_ char *what =
                                xasprintf("disk '%s'", def->disks[i].target_dev);
                        if ((r = check_explicit(b, &def->disks[i].address, &b->disk_addr[i], what,
                                                err)) < 0)
                                return r;
                }
        for (int i = 0; i < def->n_nets; i++) {
                _cleanup_free_ char *what = xasprintf("interface %d", i);
                if ((r = check_explicit(b, &def->nets[i].address, &b->net_addr[i], what, err)) < 0)
                        return r;
        }
        for (int i = 0; i < def->n_videos; i++) {
                _cleanup_free_ char *what = xasprintf("video %d", i);
                if ((r = check_explicit(b, &def->videos[i].address, &b->video_addr[i], what, err)) <
                    0)
                        return r;
        }
        for (int i = 0; i < def->n_inputs; i++)
                if (def->inputs[i].bus == DOMAIN_INPUT_BUS_VIRTIO) {
                        _cleanup_free_ char *what = xasprintf("input %d", i);
                        if ((r = check_explicit(b, &def->inputs[i].address, &b->input_addr[i], what,
                                                err)) < 0)
                                return r;
                }
        for (int i = 0; i < def->n_rngs; i++) {
                _cleanup_free_ char *what = xasprintf("rng %d", i);
                if ((r = check_explicit(b, &def->rngs[i].address, &b->rng_addr[i], what, err)) < 0)
                        return r;
        }
        return check_explicit(b, &def->memballoon_address, &b->balloon_addr, "memballoon", err);
}

/* bootindex per device from <os><boot dev=.../> (libvirt: the first disk
 * of a kind, the first NIC) */
static void assign_bootindex(struct build *b)
{
        const struct domain_def *def = b->def;
        b->disk_bootindex = xcalloc((size_t)def->n_disks + 1, sizeof(int));
        b->net_bootindex = xcalloc((size_t)def->n_nets + 1, sizeof(int));
        int next = 1;
        for (int k = 0; k < def->os.n_boot; k++) {
                switch (def->os.boot[k]) {
                case DOMAIN_BOOT_HD:
                case DOMAIN_BOOT_CDROM: {
                        enum domain_disk_device want = def->os.boot[k] == DOMAIN_BOOT_HD
                                                               ? DOMAIN_DISK_DEVICE_DISK
                                                               : DOMAIN_DISK_DEVICE_CDROM;
                        for (int i = 0; i < def->n_disks; i++)
                                if (def->disks[i].device == want) {
                                        if (!b->disk_bootindex[i])
                                                b->disk_bootindex[i] = next++;
                                        break;
                                }
                        break;
                }
                case DOMAIN_BOOT_NETWORK:
                        if (def->n_nets > 0 && !b->net_bootindex[0])
                                b->net_bootindex[0] = next++;
                        break;
                default:
                        break;
                }
        }
}

/* ---------------------------------------------------------------------- */
/* Emitters */

/* -rtc and the timers (checked by check_timers), as libvirt 9 */
static void emit_clock(struct build *b)
{
        const struct domain_def *def = b->def;
        const char *base =
                def->clock_offset == DOMAIN_CLOCK_LOCALTIME ? "base=localtime" : "base=utc";
        const struct domain_timer *rtc = NULL, *pit = NULL;
        bool no_hpet = false;
        for (int i = 0; i < def->n_timers; i++) {
                const struct domain_timer *t = &def->timers[i];
                if (t->name == DOMAIN_TIMER_RTC)
                        rtc = t;
                else if (t->name == DOMAIN_TIMER_PIT)
                        pit = t;
                else if (t->name == DOMAIN_TIMER_HPET)
                        no_hpet = t->present == DOMAIN_TRISTATE_OFF;
        }
        bool slew = rtc && rtc->tickpolicy == DOMAIN_TIMER_TICKPOLICY_CATCHUP;
        arg2(b, "-rtc", xasprintf("%s%s", base, slew ? ",driftfix=slew" : ""));
        if (pit) {
                /* QEMU's in-kernel PIT's lost-tick policy (libvirt writes it
                 * whatever the accelerator; TCG's PIT delays anyway) */
                const char *policy = pit->tickpolicy == DOMAIN_TIMER_TICKPOLICY_CATCHUP ? "slew"
                                     : pit->tickpolicy == DOMAIN_TIMER_TICKPOLICY_DISCARD
                                             ? "discard"
                                             : "delay";
                arg2(b, "-global", xasprintf("kvm-pit.lost_tick_policy=%s", policy));
        }
        if (no_hpet)
                arg(b, "-no-hpet");
}

/* -cpu: the model, then the Hyper-V enlightenments (hv-time for the
 * hypervclock timer first), as libvirt 9 orders them */
static void emit_cpu(struct build *b)
{
        const struct domain_def *def = b->def;
        const struct domain_hyperv *h = &def->features.hyperv;
        _cleanup_strbuf_ struct strbuf sb = {0};
        qcmd_cpu_model_arg(b, &sb);
        for (int i = 0; i < def->n_timers; i++)
                if (def->timers[i].name == DOMAIN_TIMER_HYPERVCLOCK &&
                    def->timers[i].present == DOMAIN_TRISTATE_ON)
                        strbuf_append(&sb, ",hv-time=on");
        if (def->features.apic_eoi)
                strbuf_printf(&sb, ",kvm-pv-eoi=%s",
                              def->features.apic_eoi == DOMAIN_TRISTATE_ON ? "on" : "off");
        if (def->features.pvspinlock)
                strbuf_printf(&sb, ",kvm-pv-unhalt=%s",
                              def->features.pvspinlock == DOMAIN_TRISTATE_ON ? "on" : "off");
        for (size_t i = 0; h->present && i < domain_hyperv_n_flags; i++) {
                if (domain_hyperv_get(h, i) != DOMAIN_TRISTATE_ON)
                        continue;
                const char *q = domain_hyperv_flags[i].qemu;
                if (&h->spinlocks ==
                    (const void *)((const char *)h + domain_hyperv_flags[i].offset))
                        strbuf_printf(&sb, ",%s=0x%x", q, h->spinlocks_retries);
                else if (&h->vendor_id ==
                         (const void *)((const char *)h + domain_hyperv_flags[i].offset))
                        strbuf_printf(&sb, ",%s=%s", q, h->vendor_id_value);
                else
                        strbuf_printf(&sb, ",%s=on", q);
        }
        /* kvm without <cpu> and without enlightenments: QEMU's default */
        if (def->type == DOMAIN_TYPE_KVM && streq(sb.buf, "qemu64"))
                return;
        arg2(b, "-cpu", strbuf_steal(&sb));
}

static void emit_machine(struct build *b)
{
        const struct domain_def *def = b->def;
        const char *m = def->os.machine ? def->os.machine : "pc";
        const char *vmport = !def->features.vmport                        ? ""
                             : def->features.vmport == DOMAIN_TRISTATE_ON ? ",vmport=on"
                                                                          : ",vmport=off";
        if (b->fw.pflash) {
                /* libvirt's node names; the machine maps them to its flash */
                for (int k = 0; k < (b->fw.nvram ? 2 : 1); k++) {
                        char storage[32], format[32];
                        snprintf(storage, sizeof(storage), "libvirt-pflash%d-storage", k);
                        snprintf(format, sizeof(format), "libvirt-pflash%d-format", k);
                        struct json_object *o = json_object_new_object();
                        jstr(o, "driver", "file");
                        jstr(o, "filename", k ? b->fw.nvram : b->fw.code);
                        jstr(o, "node-name", storage);
                        jbool(o, "auto-read-only", true);
                        jstr(o, "discard", "unmap");
                        arg2(b, "-blockdev", json_take(o));
                        o = json_object_new_object();
                        jstr(o, "node-name", format);
                        jbool(o, "read-only", k == 0 && b->fw.readonly);
                        jstr(o, "driver", "raw");
                        jstr(o, "file", storage);
                        arg2(b, "-blockdev", json_take(o));
                }
        }
        arg2(b, "-machine",
             xasprintf("%s,usb=off%s%s,dump-guest-core=off%s%s%s", m, vmport,
                       b->fw.secure ? ",smm=on" : "", def->mem_nosharepages ? ",mem-merge=off" : "",
                       b->fw.pflash ? ",pflash0=libvirt-pflash0-format" : "",
                       b->fw.nvram ? ",pflash1=libvirt-pflash1-format" : ""));
        arg2(b, "-accel", xstrdup(def->type == DOMAIN_TYPE_KVM ? "kvm" : "tcg"));
        emit_cpu(b);

        /* libvirt rounds guest memory up to whole MiB on x86 */
        unsigned long long mib = (def->memory_kib + 1023) / 1024;
        /* a running TCG guest: see qemu_command_ram_pad_kib() */
        unsigned long long pad = b->opts->tcg_ram_pad ? qemu_command_ram_pad_kib(def) : 0;
        if (def->max_memory_kib)
                arg2(b, "-m",
                     xasprintf("size=%lluk,slots=%u,maxmem=%lluk", mib * 1024 + pad,
                               def->max_memory_slots, def->max_memory_kib));
        else if (pad)
                arg2(b, "-m", xasprintf("%lluk", mib * 1024 + pad));
        else
                arg2(b, "-m", xasprintf("%llu", mib));
        arg2(b, "-overcommit", xstrdup(def->mem_locked ? "mem-lock=on" : "mem-lock=off"));
        arg2(b, "-smp", qcmd_smp_arg(def));
        qcmd_vcpu_devices(b);
        char uuid[37];
        domain_uuid_format(def->uuid, uuid);
        arg2(b, "-uuid", xstrdup(uuid));
        if (def->n_graphics == 0)
                arg2(b, "-display", xstrdup("none"));
        arg(b, "-no-user-config");
        arg(b, "-nodefaults");
        if (b->opts->qmp_fd >= 0)
                arg2(b, "-chardev",
                     xasprintf("socket,id=charmonitor,fd=%d,server=on,wait=off", b->opts->qmp_fd));
        else
                arg2(b, "-chardev",
                     xasprintf("socket,id=charmonitor,path=%s,server=on,wait=off",
                               b->opts->qmp_path ? b->opts->qmp_path : "qmp.sock"));
        arg2(b, "-mon", xstrdup("chardev=charmonitor,id=monitor,mode=control"));
        emit_clock(b);
        /* QEMU stops on guest poweroff; the driver decides (on_poweroff) */
        arg(b, "-no-shutdown");
        if (def->on_reboot == DOMAIN_LIFECYCLE_DESTROY)
                arg(b, "-no-reboot");
        if (!def->features.acpi)
                arg(b, "-no-acpi");
        if (def->os.loader && !b->fw.pflash)
                arg2(b, "-bios", xstrdup(def->os.loader));
        if (b->fw.secure) /* the flash only SMM code may write */
                arg2(b, "-global", xstrdup("driver=cfi.pflash01,property=secure,value=on"));
        if (def->os.kernel)
                arg2(b, "-kernel", xstrdup(def->os.kernel));
        if (def->os.initrd)
                arg2(b, "-initrd", xstrdup(def->os.initrd));
        if (def->os.cmdline)
                arg2(b, "-append", xstrdup(def->os.cmdline));
        /* <pm>: the chipset's ACPI S3/S4 (as libvirt: PIIX4_PM on pc,
         * ICH9-LPC on q35) */
        const char *pm = b->q35 ? "ICH9-LPC" : "PIIX4_PM";
        if (def->pm_suspend_to_mem)
                arg2(b, "-global",
                     xasprintf("%s.disable_s3=%d", pm,
                               def->pm_suspend_to_mem == DOMAIN_TRISTATE_OFF));
        if (def->pm_suspend_to_disk)
                arg2(b, "-global",
                     xasprintf("%s.disable_s4=%d", pm,
                               def->pm_suspend_to_disk == DOMAIN_TRISTATE_OFF));
        /* libvirt's qemuBuildBootCommandLine */
        const struct domain_os *os = &def->os;
        _cleanup_strbuf_ struct strbuf boot = {0};
        if (os->bootmenu)
                strbuf_printf(&boot, "menu=%s,", os->bootmenu == DOMAIN_TRISTATE_ON ? "on" : "off");
        if (os->has_bootmenu_timeout)
                strbuf_printf(&boot, "splash-time=%u,", os->bootmenu_timeout);
        strbuf_append(&boot, "strict=on");
        arg2(b, "-boot", strbuf_steal(&boot));
}

static void emit_controllers(struct build *b)
{
        const struct domain_def *def = b->def;
        for (int k = 0; k < b->n_ports; k++) {
                struct json_object *o = json_object_new_object();
                jstr(o, "driver", "pcie-root-port");
                jint(o, "port", b->ports[k].addr.slot * 8 + b->ports[k].addr.fn);
                jint(o, "chassis", k + 1);
                char id[16];
                snprintf(id, sizeof(id), "pci.%d", k + 1);
                jstr(o, "id", id);
                jaddr(o, &b->ports[k].addr);
                arg2(b, "-device", json_take(o));
        }
        if (b->usb_addr.set) {
                const struct domain_controller *c =
                        qcmd_controller_find(def, DOMAIN_CONTROLLER_USB);
                const char *model = c && c->model ? c->model : b->q35 ? "qemu-xhci" : "piix3-uhci";
                struct json_object *o = json_object_new_object();
                jstr(o, "driver",
                     streq(model, "piix3-uhci") ? "piix3-usb-uhci"
                     : streq(model, "nec-xhci") ? "nec-usb-xhci"
                                                : model);
                if (c && c->ports) { /* xhci only (command_check) */
                        jint(o, "p2", c->ports);
                        jint(o, "p3", c->ports);
                }
                jstr(o, "id", "usb");
                jaddr(o, &b->usb_addr);
                arg2(b, "-device", json_take(o));
        }
        if (b->need_ahci) {
                struct json_object *o = json_object_new_object();
                jstr(o, "driver", "ahci");
                jstr(o, "id", "sata0");
                jaddr(o, &b->ahci_addr);
                arg2(b, "-device", json_take(o));
        }
        if (b->need_scsi) {
                struct json_object *o = json_object_new_object();
                jstr(o, "driver", qcmd_scsi_lsi(def) ? "lsi" : "virtio-scsi-pci");
                jstr(o, "id", "scsi0");
                jaddr(o, &b->scsi_addr);
                arg2(b, "-device", json_take(o));
        }
        if (b->need_vserial) {
                struct json_object *o = json_object_new_object();
                jstr(o, "driver", "virtio-serial-pci");
                jstr(o, "id", "virtio-serial0");
                jaddr(o, &b->vserial_addr);
                arg2(b, "-device", json_take(o));
        }
}

static void cache_flags(const char *mode, bool *direct, bool *no_flush, bool *write_cache)
{
        *direct = streq(mode, "none") || streq(mode, "directsync");
        *no_flush = streq(mode, "unsafe");
        *write_cache = !streq(mode, "writethrough") && !streq(mode, "directsync");
}

static void jcache(struct json_object *o, const char *mode)
{
        if (!mode || streq(mode, "default"))
                return;
        bool direct, no_flush, wc;
        cache_flags(mode, &direct, &no_flush, &wc);
        struct json_object *c = json_object_new_object();
        jbool(c, "direct", direct);
        jbool(c, "no-flush", no_flush);
        json_object_object_add(o, "cache", c);
}

void qemu_command_disk_blockdevs(const struct domain_disk *d, const char *storage,
                                 const char *format, struct json_object **ret_storage,
                                 struct json_object **ret_format)
{
        bool ro = d->readonly || d->device == DOMAIN_DISK_DEVICE_CDROM;
        struct json_object *o = json_object_new_object();
        jstr(o, "driver", d->type == DOMAIN_DISK_BLOCK ? "host_device" : "file");
        jstr(o, "filename", d->source);
        jstr(o, "node-name", storage);
        jcache(o, d->driver_cache);
        jbool(o, "auto-read-only", true);
        jstr(o, "discard", "unmap");
        *ret_storage = o;

        o = json_object_new_object();
        jstr(o, "node-name", format);
        jbool(o, "read-only", ro);
        jcache(o, d->driver_cache);
        jstr(o, "driver", d->format == DOMAIN_DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
        jstr(o, "file", storage);
        *ret_format = o;
}

static int emit_disk(struct build *b, int i, struct lv_error **err)
{
        const struct domain_def *def = b->def;
        const struct domain_disk *d = &def->disks[i];
        bool cdrom = d->device == DOMAIN_DISK_DEVICE_CDROM;
        /* libvirt numbers block nodes from the last disk down */
        int node = def->n_disks - i;
        char storage[48], format[48];
        snprintf(storage, sizeof(storage), "libvirt-%d-storage", node);
        snprintf(format, sizeof(format), "libvirt-%d-format", node);

        if (d->source) {
                struct json_object *st, *fmt;
                qemu_command_disk_blockdevs(d, storage, format, &st, &fmt);
                arg2(b, "-blockdev", json_take(st));
                arg2(b, "-blockdev", json_take(fmt));
        }

        int idx = qcmd_disk_name_index(d->target_dev);
        int ctrl_bus = qcmd_addr_attr_int(&d->address, "bus", -2);
        int unit = qcmd_addr_attr_int(&d->address, "unit", -2);
        struct json_object *o = json_object_new_object();
        char buf[64];
        enum domain_disk_bus bus = qcmd_disk_bus(d);
        switch (bus) {
        case DOMAIN_DISK_BUS_VIRTIO:
                jstr(o, "driver", "virtio-blk-pci");
                jaddr(o, &b->disk_addr[i]);
                break;
        case DOMAIN_DISK_BUS_IDE:
                if (ctrl_bus == -2)
                        ctrl_bus = idx / 2;
                if (unit == -2)
                        unit = idx % 2;
                if (ctrl_bus < 0 || ctrl_bus > 1 || unit < 0 || unit > 1) {
                        json_object_put(o);
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': disk '%s': IDE address out of range "
                                             "(bus 0-1, unit 0-1)",
                                             def->name, d->target_dev);
                }
                jstr(o, "driver", cdrom ? "ide-cd" : "ide-hd");
                snprintf(buf, sizeof(buf), "ide.%d", ctrl_bus);
                jstr(o, "bus", buf);
                jint(o, "unit", unit);
                break;
        case DOMAIN_DISK_BUS_SATA:
                if (unit == -2)
                        unit = idx;
                if (unit < 0 || unit > 5) {
                        json_object_put(o);
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': disk '%s': SATA unit out of range (0-5)",
                                             def->name, d->target_dev);
                }
                jstr(o, "driver", cdrom ? "ide-cd" : "ide-hd");
                /* q35: the ICH9's AHCI ports; pc: the ahci card's */
                snprintf(buf, sizeof(buf), b->q35 ? "ide.%d" : "sata0.%d", unit);
                jstr(o, "bus", buf);
                break;
        case DOMAIN_DISK_BUS_SCSI:
                if (unit == -2)
                        unit = idx;
                if (unit < 0 || unit > 16383) {
                        json_object_put(o);
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': disk '%s': SCSI unit out of range",
                                             def->name, d->target_dev);
                }
                jstr(o, "driver", cdrom ? "scsi-cd" : "scsi-hd");
                jstr(o, "bus", "scsi0.0");
                if (qcmd_scsi_lsi(def)) {
                        /* a narrow bus: one LUN per target (libvirt) */
                        jint(o, "scsi-id", unit);
                        snprintf(buf, sizeof(buf), "drive-scsi0-0-%d", unit);
                } else {
                        jint(o, "channel", 0);
                        jint(o, "scsi-id", 0);
                        jint(o, "lun", unit);
                        snprintf(buf, sizeof(buf), "drive-scsi0-0-0-%d", unit);
                }
                jstr(o, "device_id", buf);
                break;
        default:
                json_object_put(o);
                return lv_error_setf(err, LV_ERR_UNSUPPORTED, "guest '%s': disk '%s': bad bus",
                                     def->name, d->target_dev);
        }
        if (d->source)
                jstr(o, "drive", format);
        if (d->shareable)
                jbool(o, "share-rw", true);
        _cleanup_free_ char *id = qemu_command_disk_id(def, i);
        jstr(o, "id", id);
        if (b->disk_bootindex[i])
                jint(o, "bootindex", b->disk_bootindex[i]);
        if (d->driver_cache && !streq(d->driver_cache, "default")) {
                bool direct, no_flush, wc;
                cache_flags(d->driver_cache, &direct, &no_flush, &wc);
                jstr(o, "write-cache", wc ? "on" : "off");
        }
        arg2(b, "-device", json_take(o));
        return 0;
}

char *qemu_command_disk_id(const struct domain_def *def, int i)
{
        if (i < 0 || i >= def->n_disks)
                return NULL;
        const struct domain_disk *d = &def->disks[i];
        int idx = qcmd_disk_name_index(d->target_dev);
        int ctrl_bus = qcmd_addr_attr_int(&d->address, "bus", -2);
        int unit = qcmd_addr_attr_int(&d->address, "unit", -2);
        switch (qcmd_disk_bus(d)) {
        case DOMAIN_DISK_BUS_VIRTIO:
                /* libvirt's: by the target's name (vdb alone is
                 * virtio-disk1) */
                return xasprintf("virtio-disk%d", idx);
        case DOMAIN_DISK_BUS_IDE:
                return xasprintf("ide0-%d-%d", ctrl_bus == -2 ? idx / 2 : ctrl_bus,
                                 unit == -2 ? idx % 2 : unit);
        case DOMAIN_DISK_BUS_SATA:
                return xasprintf("sata0-0-%d", unit == -2 ? idx : unit);
        case DOMAIN_DISK_BUS_SCSI:
                if (qcmd_scsi_lsi(def))
                        return xasprintf("scsi0-0-%d", unit == -2 ? idx : unit);
                return xasprintf("scsi0-0-0-%d", unit == -2 ? idx : unit);
        default:
                return NULL;
        }
}

static void emit_net(struct build *b, int i)
{
        const struct domain_def *def = b->def;
        const struct domain_net *n = &def->nets[i];
        int fd = i < b->opts->n_net_fds && b->opts->net_fds ? b->opts->net_fds[i] : -1;
        char id[32];
        snprintf(id, sizeof(id), "hostnet%d", i);

        struct json_object *o = json_object_new_object();
        if (n->type == DOMAIN_NET_USER) {
                jstr(o, "type", "user");
        } else if (fd >= 0) {
                char fdbuf[16];
                snprintf(fdbuf, sizeof(fdbuf), "%d", fd);
                jstr(o, "type", "tap");
                jstr(o, "fd", fdbuf);
        } else {
                jstr(o, "type", "tap");
                jstr(o, "ifname", n->target_dev);
                jstr(o, "script", "no");
                jstr(o, "downscript", "no");
        }
        jstr(o, "id", id);
        arg2(b, "-netdev", json_take(o));

        o = json_object_new_object();
        const char *drv = qcmd_net_model_driver(n->model);
        jstr(o, "driver", drv);
        jstr(o, "netdev", id);
        snprintf(id, sizeof(id), "net%d", i);
        jstr(o, "id", id);
        jstr(o, "mac", n->mac);
        if (n->mtu > 0 && streq(drv, "virtio-net-pci"))
                jint(o, "host_mtu", n->mtu);
        jaddr(o, &b->net_addr[i]);
        if (b->net_bootindex[i])
                jint(o, "bootindex", b->net_bootindex[i]);
        arg2(b, "-device", json_take(o));
}

bool qcmd_console_is_serial(const struct domain_chr *c)
{
        return c->kind == DOMAIN_CHR_CONSOLE && !streq(c->target_type, "virtio");
}

static void emit_chardevs(struct build *b)
{
        const struct domain_def *def = b->def;
        int nserial = 0, nconsole = 0;
        bool serial_console = false;
        for (int i = 0; i < def->n_chrs; i++) {
                const struct domain_chr *c = &def->chrs[i];
                if (c->kind == DOMAIN_CHR_SERIAL) {
                        int port = c->target_port >= 0 ? c->target_port : nserial;
                        arg2(b, "-chardev", xasprintf("pty,id=charserial%d", nserial));
                        struct json_object *o = json_object_new_object();
                        char buf[32];
                        jstr(o, "driver", "isa-serial");
                        snprintf(buf, sizeof(buf), "charserial%d", nserial);
                        jstr(o, "chardev", buf);
                        snprintf(buf, sizeof(buf), "serial%d", nserial);
                        jstr(o, "id", buf);
                        jint(o, "index", port);
                        arg2(b, "-device", json_take(o));
                        nserial++;
                } else if (qcmd_console_is_serial(c)) {
                        serial_console = true;
                }
        }
        /* a serial console without a <serial>: libvirt adds serial0 */
        if (serial_console && nserial == 0) {
                arg2(b, "-chardev", xstrdup("pty,id=charserial0"));
                arg2(b, "-device",
                     xstrdup("{\"driver\":\"isa-serial\",\"chardev\":"
                             "\"charserial0\",\"id\":\"serial0\",\"index\":0}"));
        }
        for (int i = 0; i < def->n_chrs; i++) {
                const struct domain_chr *c = &def->chrs[i];
                if (c->kind != DOMAIN_CHR_CONSOLE || qcmd_console_is_serial(c))
                        continue;
                arg2(b, "-chardev", xasprintf("pty,id=charconsole%d", nconsole));
                arg2(b, "-device",
                     xasprintf("{\"driver\":\"virtconsole\",\"bus\":\"virtio-serial0.0\","
                               "\"nr\":%d,\"chardev\":\"charconsole%d\",\"id\":\"console%d\"}",
                               nconsole, nconsole, nconsole));
                nconsole++;
        }
}

/* virtio-serial ports of the channels: the <address port=...> given, else
 * the next free one from 1 (port 0 is the virtio console's), as libvirt */
static void assign_channel_ports(struct build *b)
{
        const struct domain_def *def = b->def;
        int nconsole = 0;
        for (int i = 0; i < def->n_chrs; i++)
                nconsole += def->chrs[i].kind == DOMAIN_CHR_CONSOLE &&
                            !qcmd_console_is_serial(&def->chrs[i]);
        b->channel_port = xcalloc((size_t)def->n_channels + 1, sizeof(int));
        for (int i = 0; i < def->n_channels; i++)
                b->channel_port[i] = qcmd_addr_attr_int(&def->channels[i].address, "port", 0);
        int next = nconsole > 1 ? nconsole : 1;
        for (int i = 0; i < def->n_channels; i++) {
                if (b->channel_port[i] > 0)
                        continue;
                for (bool used = true; used; next++) {
                        used = false;
                        for (int j = 0; j < def->n_channels; j++)
                                used |= b->channel_port[j] == next;
                }
                b->channel_port[i] = next - 1;
        }
}

char *qemu_command_channel_file(const struct domain_def *def, int i)
{
        if (i < 0 || i >= def->n_channels)
                return NULL;
        const char *name = def->channels[i].target_name;
        return name ? xasprintf("channel.%s", name) : xasprintf("channel.%d", i);
}

static void emit_channels(struct build *b)
{
        const struct domain_def *def = b->def;
        for (int i = 0; i < def->n_channels; i++) {
                const struct domain_channel *ch = &def->channels[i];
                int fd = i < b->opts->n_channel_fds && b->opts->channel_fds
                                 ? b->opts->channel_fds[i]
                                 : -1;
                if (ch->type == DOMAIN_CHANNEL_SPICEVMC) {
                        arg2(b, "-chardev", xasprintf("spicevmc,id=charchannel%d,name=vdagent", i));
                } else if (fd >= 0) {
                        arg2(b, "-chardev",
                             xasprintf("socket,id=charchannel%d,fd=%d,server=on,wait=off", i, fd));
                } else {
                        _cleanup_free_ char *file = qemu_command_channel_file(def, i);
                        arg2(b, "-chardev",
                             xasprintf("socket,id=charchannel%d,path=%s,server=on,wait=off", i,
                                       ch->source_path ? ch->source_path : file));
                }
                struct json_object *o = json_object_new_object();
                char buf[32];
                jstr(o, "driver", "virtserialport");
                jstr(o, "bus", "virtio-serial0.0");
                jint(o, "nr", b->channel_port[i]);
                snprintf(buf, sizeof(buf), "charchannel%d", i);
                jstr(o, "chardev", buf);
                snprintf(buf, sizeof(buf), "channel%d", i);
                jstr(o, "id", buf);
                if (ch->target_name)
                        jstr(o, "name", ch->target_name);
                arg2(b, "-device", json_take(o));
        }
}

char *qemu_command_serial_chardev(const struct domain_def *def, int n)
{
        int nserial = 0, nconsole = 0;
        bool serial_console = false;
        for (int i = 0; i < def->n_chrs; i++) {
                const struct domain_chr *c = &def->chrs[i];
                if (c->kind == DOMAIN_CHR_SERIAL)
                        nserial++;
                else if (qcmd_console_is_serial(c))
                        serial_console = true;
                else
                        nconsole++;
        }
        if (serial_console && nserial == 0)
                nserial = 1;
        if (n < nserial)
                return xasprintf("charserial%d", n);
        if (n < nserial + nconsole)
                return xasprintf("charconsole%d", n - nserial);
        return NULL;
}

/* Whether a device's <address type='usb'> names this port. */
static bool usb_port_taken(const struct domain_def *def, int port)
{
        for (int i = 0; i < def->n_inputs; i++)
                if (streq_ptr(def->inputs[i].address.type, "usb") &&
                    qcmd_addr_attr_int(&def->inputs[i].address, "port", 0) == port)
                        return true;
        for (int i = 0; i < def->n_redirdevs; i++)
                if (streq_ptr(def->redirdevs[i].address.type, "usb") &&
                    qcmd_addr_attr_int(&def->redirdevs[i].address, "port", 0) == port)
                        return true;
        return false;
}

/* A USB device's port: its address's, else the next one no address
 * names (libvirt numbers them from 1 in document order). */
int qcmd_usb_port(const struct domain_def *def, const struct domain_address *a, int *next)
{
        if (streq_ptr(a->type, "usb"))
                return qcmd_addr_attr_int(a, "port", 1);
        while (usb_port_taken(def, *next))
                (*next)++;
        return (*next)++;
}

static void emit_inputs(struct build *b, int *next_usb_port)
{
        const struct domain_def *def = b->def;
        for (int i = 0; i < def->n_inputs; i++) {
                const struct domain_input *in = &def->inputs[i];
                const char *drv = NULL;
                struct json_object *o;
                char id[16];
                snprintf(id, sizeof(id), "input%d", i);
                switch (in->bus) {
                case DOMAIN_INPUT_BUS_USB:
                        drv = in->type == DOMAIN_INPUT_TABLET  ? "usb-tablet"
                              : in->type == DOMAIN_INPUT_MOUSE ? "usb-mouse"
                                                               : "usb-kbd";
                        o = json_object_new_object();
                        jstr(o, "driver", drv);
                        jstr(o, "id", id);
                        jstr(o, "bus", "usb.0");
                        char port[16];
                        snprintf(port, sizeof(port), "%d",
                                 qcmd_usb_port(def, &in->address, next_usb_port));
                        jstr(o, "port", port);
                        arg2(b, "-device", json_take(o));
                        break;
                case DOMAIN_INPUT_BUS_VIRTIO:
                        drv = in->type == DOMAIN_INPUT_TABLET  ? "virtio-tablet-pci"
                              : in->type == DOMAIN_INPUT_MOUSE ? "virtio-mouse-pci"
                                                               : "virtio-keyboard-pci";
                        o = json_object_new_object();
                        jstr(o, "driver", drv);
                        jstr(o, "id", id);
                        jaddr(o, &b->input_addr[i]);
                        arg2(b, "-device", json_take(o));
                        break;
                default:
                        /* ps2 mouse and keyboard are part of the i8042 */
                        break;
                }
        }
}

static const char *graphics_listen(const struct build *b, const struct domain_graphics *g)
{
        for (int l = 0; l < g->n_listens; l++)
                if (g->listens[l].address)
                        return g->listens[l].address;
        if (g->listen)
                return g->listen;
        return b->opts->graphics_listen ? b->opts->graphics_listen : "127.0.0.1";
}

static void emit_audio(struct build *b)
{
        const struct domain_def *def = b->def;
        if (def->n_sounds && !def->n_audios) {
                /* libvirt's implicit <audio id='1'>: through SPICE when
                 * there is a SPICE display, else none */
                bool spice = false;
                for (int i = 0; i < def->n_graphics; i++)
                        spice |= def->graphics[i].type == DOMAIN_GRAPHICS_SPICE;
                arg2(b, "-audiodev",
                     xasprintf("{\"id\":\"audio1\",\"driver\":\"%s\"}", spice ? "spice" : "none"));
        }
        for (int i = 0; i < def->n_audios; i++) {
                struct json_object *o = json_object_new_object();
                char id[32];
                snprintf(id, sizeof(id), "audio%u", def->audios[i].id);
                jstr(o, "id", id);
                jstr(o, "driver", domain_audio_type_to_string(def->audios[i].type));
                arg2(b, "-audiodev", json_take(o));
        }
}

/* ich9/ich6: the HDA controller and its duplex codec; ac97: one device */
static void emit_sounds(struct build *b)
{
        const struct domain_def *def = b->def;
        for (int i = 0; i < def->n_sounds; i++) {
                const struct domain_sound *snd = &def->sounds[i];
                char id[32], audio[32];
                snprintf(id, sizeof(id), "sound%d", i);
                snprintf(audio, sizeof(audio), "audio%u", qcmd_audio_id(def, snd));
                bool ac97 = streq(snd->model, "ac97");
                struct json_object *o = json_object_new_object();
                jstr(o, "driver",
                     ac97                        ? "AC97"
                     : streq(snd->model, "ich9") ? "ich9-intel-hda"
                                                 : "intel-hda");
                jstr(o, "id", id);
                if (ac97)
                        jstr(o, "audiodev", audio);
                jaddr(o, &b->sound_addr[i]);
                arg2(b, "-device", json_take(o));
                if (ac97)
                        continue;
                char codec[48], bus[40];
                snprintf(codec, sizeof(codec), "sound%d-codec0", i);
                snprintf(bus, sizeof(bus), "sound%d.0", i);
                o = json_object_new_object();
                jstr(o, "driver", "hda-duplex");
                jstr(o, "id", codec);
                jstr(o, "bus", bus);
                jint(o, "cad", 0);
                jstr(o, "audiodev", audio);
                arg2(b, "-device", json_take(o));
        }
}

static void emit_redirdevs(struct build *b, int *next_usb_port)
{
        const struct domain_def *def = b->def;
        for (int i = 0; i < def->n_redirdevs; i++) {
                arg2(b, "-chardev", xasprintf("spicevmc,id=charredir%d,name=usbredir", i));
                char buf[32];
                struct json_object *o = json_object_new_object();
                jstr(o, "driver", "usb-redir");
                snprintf(buf, sizeof(buf), "charredir%d", i);
                jstr(o, "chardev", buf);
                snprintf(buf, sizeof(buf), "redir%d", i);
                jstr(o, "id", buf);
                jstr(o, "bus", "usb.0");
                snprintf(buf, sizeof(buf), "%d",
                         qcmd_usb_port(def, &def->redirdevs[i].address, next_usb_port));
                jstr(o, "port", buf);
                arg2(b, "-device", json_take(o));
        }
}

static void emit_rngs(struct build *b)
{
        const struct domain_def *def = b->def;
        for (int i = 0; i < def->n_rngs; i++) {
                const struct domain_rng *rng = &def->rngs[i];
                char id[32], obj[32];
                snprintf(obj, sizeof(obj), "objrng%d", i);
                struct json_object *o = json_object_new_object();
                jstr(o, "qom-type", "rng-random");
                jstr(o, "id", obj);
                jstr(o, "filename", rng->backend ? rng->backend : "/dev/urandom");
                arg2(b, "-object", json_take(o));
                o = json_object_new_object();
                jstr(o, "driver", "virtio-rng-pci");
                jstr(o, "rng", obj);
                snprintf(id, sizeof(id), "rng%d", i);
                jstr(o, "id", id);
                jaddr(o, &b->rng_addr[i]);
                arg2(b, "-device", json_take(o));
        }
}

/* -spice as libvirt 9 writes it (qemuBuildGraphicsSPICECommandLine), with
 * its refusals */
static int emit_spice(struct build *b, const struct domain_graphics *g,
                      const struct qemu_graphics_ports *p, const char *listen,
                      struct lv_error **err)
{
        const char *name = b->def->name;
        bool plain = p->port > 0, tls = p->tls_port > 0;
        if (p->port > 65535 || p->tls_port > 65535 || (!plain && !tls))
                return lv_error_setf(err, LV_ERR_INVALID_XML,
                                     "guest '%s': SPICE port %d is not usable "
                                     "(autoport not resolved?)",
                                     name, p->port);
        if (tls && !b->opts->spice_tls_dir)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': SPICE TLS port %s, but TLS is disabled in "
                                     "host.conf (spice_tls = 1 enables it)",
                                     name,
                                     g->autoport ? "auto allocation requested (a secure channel)"
                                                 : "set in XML configuration");
        _cleanup_strbuf_ struct strbuf sb = {0};
        if (plain)
                strbuf_printf(&sb, "port=%d,", p->port);
        if (tls)
                strbuf_printf(&sb, "tls-port=%d,", p->tls_port);
        strbuf_printf(&sb, "addr=%s", listen);
        if (streq(g->mouse_mode, "client") || streq(g->mouse_mode, "server"))
                strbuf_printf(&sb, ",agent-mouse=%s",
                              streq(g->mouse_mode, "client") ? "on" : "off");
        if (!g->passwd)
                strbuf_append(&sb, ",disable-ticketing=on");
        if (tls)
                strbuf_printf(&sb, ",x509-dir=%s", b->opts->spice_tls_dir);
        for (int i = -1; i < g->n_channels; i++) {
                const char *mode = i < 0 ? g->defaultmode : g->channels[i].mode;
                const char *chan = i < 0 ? "default" : g->channels[i].name;
                bool secure = streq_ptr(mode, "secure"), insecure = streq_ptr(mode, "insecure");
                if ((secure && !tls) || (insecure && !plain))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': SPICE %s%s %s set in XML "
                                             "configuration, but %s is not available",
                                             name, i < 0 ? "defaultMode " : "", mode,
                                             i < 0 ? "requested" : "channels",
                                             secure ? "TLS connection" : "plain port");
                if (secure || insecure)
                        strbuf_printf(&sb, ",%s-channel=%s", secure ? "tls" : "plaintext", chan);
        }
        if (g->image_compression)
                strbuf_printf(&sb, ",image-compression=%s", g->image_compression);
        if (streq(g->clipboard_copypaste, "no"))
                strbuf_append(&sb, ",disable-copy-paste=on");
        strbuf_append(&sb, ",seamless-migration=on");
        arg2(b, "-spice", strbuf_steal(&sb));
        return 0;
}

void qemu_command_graphics_needs(const struct domain_graphics *g, bool spice_tls, bool *ret_port,
                                 bool *ret_tls)
{
        if (g->type != DOMAIN_GRAPHICS_SPICE) {
                *ret_port = true;
                *ret_tls = false;
                return;
        }
        if (!g->autoport) { /* neither port given: a plain one allocated */
                *ret_port = g->port > 0 || g->tls_port <= 0;
                *ret_tls = g->tls_port > 0;
                return;
        }
        /* libvirt's 8 channels (kept: those not 'any') and the default */
        bool port = false, tls = false;
        const char *modes[9] = {g->defaultmode};
        for (int i = 0; i < g->n_channels && i < 8; i++)
                modes[i + 1] = g->channels[i].mode;
        for (int i = 0; i < 1 + 8; i++) {
                if (streq_ptr(modes[i], "secure")) {
                        tls = true;
                } else if (streq_ptr(modes[i], "insecure")) {
                        port = true;
                } else {
                        port = true;
                        tls |= spice_tls;
                }
        }
        *ret_port = port;
        *ret_tls = tls;
}

static int emit_graphics(struct build *b, struct lv_error **err)
{
        const struct domain_def *def = b->def;
        for (int i = 0; i < def->n_graphics; i++) {
                const struct domain_graphics *g = &def->graphics[i];
                struct qemu_graphics_ports p = {g->port, g->tls_port, g->websocket};
                if (b->opts->graphics && i < b->opts->n_graphics)
                        p = b->opts->graphics[i];
                const char *listen = graphics_listen(b, g);
                bool v6 = strchr(listen, ':') != NULL;
                _cleanup_strbuf_ struct strbuf sb = {0};
                if (g->type == DOMAIN_GRAPHICS_VNC) {
                        if (p.port < 5900 || p.port > 65535)
                                return lv_error_setf(err, LV_ERR_INVALID_XML,
                                                     "guest '%s': VNC port %d is not usable "
                                                     "(5900-65535; autoport not resolved?)",
                                                     def->name, p.port);
                        strbuf_printf(&sb, v6 ? "[%s]:%d" : "%s:%d", listen, p.port - 5900);
                        if (p.websocket > 0)
                                strbuf_printf(&sb, ",websocket=%d", p.websocket);
                        if (g->passwd)
                                strbuf_append(&sb, ",password=on");
                        if (def->n_audios || def->n_sounds) /* libvirt: the first */
                                strbuf_printf(&sb, ",audiodev=audio%u", qcmd_audio_id(def, NULL));
                        arg2(b, "-vnc", strbuf_steal(&sb));
                        if (g->keymap)
                                arg2(b, "-k", xstrdup(g->keymap));
                } else if (emit_spice(b, g, &p, listen, err) < 0) {
                        return -1;
                }
        }
        return 0;
}

static void emit_video(struct build *b)
{
        const struct domain_def *def = b->def;
        if (!qcmd_has_primary_video(def))
                return;
        int n = def->n_videos > 0 ? def->n_videos : 1;
        for (int i = 0; i < n; i++) {
                const char *model = def->n_videos > 0 ? qcmd_video_model(def, i) : "cirrus";
                const char *drv = i == 0 ? qcmd_video_primary_driver(model)
                                         : qcmd_video_secondary_driver(model);
                struct json_object *o = json_object_new_object();
                char id[16];
                jstr(o, "driver", drv);
                snprintf(id, sizeof(id), "video%d", i);
                jstr(o, "id", id);
                const struct domain_video *v = def->n_videos > 0 ? &def->videos[i] : NULL;
                if (v && strstr(drv, "qxl")) { /* as libvirt: bytes, MiB */
                        if (v->ram)
                                jint(o, "ram_size", (long long)v->ram * 1024);
                        if (v->vram)
                                jint(o, "vram_size", (long long)v->vram * 1024);
                        if (v->vram64 || v->ram)
                                jint(o, "vram64_size_mb", v->vram64 / 1024);
                        if (v->vgamem)
                                jint(o, "vgamem_mb", v->vgamem / 1024);
                }
                if (def->n_videos > 0 && def->videos[i].heads > 1 &&
                    (strstr(drv, "qxl") || strstr(drv, "virtio")))
                        jint(o, "max_outputs", def->videos[i].heads);
                jaddr(o, &b->video_addr[i]);
                arg2(b, "-device", json_take(o));
        }
}

void qcmd_build_free(struct build *b)
{
        strv_free(b->argv);
        free(b->ports);
        free(b->net_addr);
        free(b->disk_addr);
        free(b->video_addr);
        free(b->input_addr);
        free(b->rng_addr);
        free(b->sound_addr);
        qcmd_firmware_clear(&b->fw);
        free(b->channel_port);
        free(b->disk_bootindex);
        free(b->net_bootindex);
}

int qcmd_assign(struct build *b, struct lv_error **err)
{
        int r;
        if ((r = qcmd_check(b, err)) < 0 || (r = assign_addresses(b, err)) < 0 ||
            (r = check_explicit_addresses(b, err)) < 0)
                return r;
        assign_bootindex(b);
        assign_channel_ports(b);
        return 0;
}

unsigned long long qemu_command_ram_pad_kib(const struct domain_def *def)
{
        if (def->type == DOMAIN_TYPE_KVM)
                return 0;
        /* OVMF (its SMM builds, which virt-install's UEFI guests use) fails
         * on RAM that is no whole number of MiB: an exception at its start
         * (qemu-corpus-boot). A UEFI guest goes without the pad, and stays
         * exposed to the migration bug above (docs/migration.md). */
        if (streq_ptr(def->os.firmware, "efi") || streq_ptr(def->os.loader_type, "pflash"))
                return 0;
        unsigned long long kib = (def->memory_kib + 1023) / 1024 * 1024;
        /* (QEMU refuses a size above maxmem) */
        if (def->max_memory_kib && kib + QEMU_TCG_RAM_PAD_KIB > def->max_memory_kib)
                return 0;
        return QEMU_TCG_RAM_PAD_KIB;
}

int qemu_command_build(const struct domain_def *def, const struct qemu_command_opts *opts,
                       char ***ret_argv, struct lv_error **err)
{
        struct build b = {.def = def, .opts = opts};
        int r;

        if ((r = qcmd_assign(&b, err)) < 0 ||
            (r = qcmd_firmware(def, opts->nvram_dir ? opts->nvram_dir : paths_nvramdir(), &b.fw,
                               err)) < 0)
                goto out;

        const char *emulator = opts->emulator  ? opts->emulator
                               : def->emulator ? def->emulator
                                               : QEMU_DEFAULT_EMULATOR;
        arg(&b, emulator);
        arg2(&b, "-name", xasprintf("guest=%s,debug-threads=on", def->name));
        arg(&b, "-S");
        emit_machine(&b);
        emit_controllers(&b);
        for (int i = 0; i < def->n_disks; i++)
                if ((r = emit_disk(&b, i, err)) < 0)
                        goto out;
        for (int i = 0; i < def->n_nets; i++)
                emit_net(&b, i);
        emit_chardevs(&b);
        emit_channels(&b);
        int next_usb_port = 1; /* inputs first, then USB redirections */
        emit_inputs(&b, &next_usb_port);
        emit_audio(&b);
        if ((r = emit_graphics(&b, err)) < 0)
                goto out;
        emit_video(&b);
        emit_sounds(&b);
        emit_redirdevs(&b, &next_usb_port);
        if (b.balloon_addr.set) {
                struct json_object *o = json_object_new_object();
                jstr(o, "driver", "virtio-balloon-pci");
                jstr(o, "id", "balloon0");
                jaddr(o, &b.balloon_addr);
                arg2(&b, "-device", json_take(o));
        }
        emit_rngs(&b);
        if (opts->incoming)
                arg2(&b, "-incoming", xstrdup(opts->incoming));
        arg2(&b, "-sandbox",
             xstrdup("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"));
        arg2(&b, "-msg", xstrdup("timestamp=on"));
        *ret_argv = TAKE_PTR(b.argv);
        r = 0;
out:
        qcmd_build_free(&b);
        return r;
}

void qemu_command_preview_ports(const struct domain_def *def, bool spice_tls,
                                struct qemu_graphics_ports ports[QEMU_PREVIEW_MAX_GRAPHICS])
{
        for (int i = 0; i < def->n_graphics && i < QEMU_PREVIEW_MAX_GRAPHICS; i++) {
                const struct domain_graphics *g = &def->graphics[i];
                ports[i] = (struct qemu_graphics_ports){g->port, g->tls_port, g->websocket};
                bool port, tls;
                qemu_command_graphics_needs(g, spice_tls, &port, &tls);
                if (g->autoport || g->port <= 0)
                        ports[i].port =
                                port ? (g->type == DOMAIN_GRAPHICS_VNC ? 5900 : 5910) + i : -1;
                if (g->autoport || g->tls_port <= 0)
                        ports[i].tls_port = tls ? 5920 + i : -1;
        }
}

void qcmd_preview_opts(const struct domain_def *def, int fds[QCMD_PREVIEW_MAX_NETS],
                       struct qemu_graphics_ports ports[QEMU_PREVIEW_MAX_GRAPHICS],
                       struct qemu_command_opts *opts)
{
        for (int i = 0; i < QCMD_PREVIEW_MAX_NETS; i++)
                fds[i] = i < def->n_nets && (def->nets[i].type == DOMAIN_NET_BRIDGE ||
                                             def->nets[i].type == DOMAIN_NET_NETWORK)
                                 ? 100 + i
                                 : -1;
        qemu_command_preview_ports(def, false, ports);
        *opts = (struct qemu_command_opts){
                .qmp_fd = -1,
                .net_fds = fds,
                .n_net_fds = QCMD_PREVIEW_MAX_NETS,
                .graphics = ports,
                .n_graphics = def->n_graphics < QEMU_PREVIEW_MAX_GRAPHICS
                                      ? def->n_graphics
                                      : QEMU_PREVIEW_MAX_GRAPHICS,
        };
}

int qemu_command_build_preview(const struct domain_def *def, const char *qmp_path,
                               const char *nvram_dir, const char *state_dir,
                               const char *spice_tls_dir, char ***ret_argv, struct lv_error **err)
{
        int fds[QCMD_PREVIEW_MAX_NETS];
        struct qemu_graphics_ports ports[QEMU_PREVIEW_MAX_GRAPHICS];
        struct qemu_command_opts opts;
        qcmd_preview_opts(def, fds, ports, &opts);
        opts.qmp_path = qmp_path;
        opts.nvram_dir = nvram_dir;
        /* SPICE TLS on: its placeholder ports too */
        opts.spice_tls_dir = spice_tls_dir;
        if (spice_tls_dir)
                qemu_command_preview_ports(def, true, ports);
        _cleanup_strv_free_ char **chan_paths = NULL;
        struct domain_channel *chans = NULL;
        struct domain_def copy = *def; /* the channels with their paths */
        if (state_dir && def->n_channels) {
                chans = xcalloc((size_t)def->n_channels, sizeof(*chans));
                for (int i = 0; i < def->n_channels; i++) {
                        chans[i] = def->channels[i];
                        if (chans[i].type != DOMAIN_CHANNEL_UNIX || chans[i].source_path)
                                continue;
                        _cleanup_free_ char *file = qemu_command_channel_file(def, i);
                        strv_push(&chan_paths, xasprintf("%s/%s", state_dir, file));
                        chans[i].source_path = chan_paths[strv_length(chan_paths) - 1];
                }
                copy.channels = chans;
        }
        int r = qemu_command_build(&copy, &opts, ret_argv, err);
        free(chans);
        return r;
}

/* ---------------------------------------------------------------------- */

static bool shell_safe(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                            "_-+=.,:/@%",
                            *s))
                        return false;
        return true;
}

static void append_quoted(struct strbuf *sb, const char *s)
{
        if (shell_safe(s)) {
                strbuf_append(sb, s);
                return;
        }
        strbuf_append(sb, "'");
        for (; *s; s++) {
                if (*s == '\'')
                        strbuf_append(sb, "'\\''");
                else
                        strbuf_append_len(sb, s, 1);
        }
        strbuf_append(sb, "'");
}

char *qemu_command_format(char *const *argv)
{
        _cleanup_strbuf_ struct strbuf sb = {0};
        for (size_t i = 0; argv[i]; i++) {
                if (i > 0)
                        strbuf_append(&sb, argv[i][0] == '-' ? " \\\n" : " ");
                append_quoted(&sb, argv[i]);
        }
        strbuf_append(&sb, "\n");
        return strbuf_steal(&sb);
}

static void alias_set(char **slot, char *alias)
{
        free(*slot);
        *slot = alias;
}

static char *controller_alias(const struct domain_def *def, const struct domain_controller *c,
                              int *next_root_port)
{
        bool q35 = def->os.machine && strstr(def->os.machine, "q35");
        switch (c->type) {
        case DOMAIN_CONTROLLER_PCI:
                if (qcmd_controller_is_root_port(c))
                        return xasprintf("pci.%d", ++*next_root_port); /* emit_controllers */
                if (c->index == 0)
                        return xstrdup(q35 ? "pcie.0" : "pci.0");
                return xasprintf("pci.%d", c->index);
        case DOMAIN_CONTROLLER_USB:
                return c->index == 0 && qcmd_usb_wanted(def) ? xstrdup("usb") : NULL;
        case DOMAIN_CONTROLLER_IDE:
                return c->index == 0 ? xstrdup("ide") : NULL;
        case DOMAIN_CONTROLLER_SATA: /* q35's own AHCI is libvirt's "ide" */
                return c->index == 0 ? xstrdup(q35 ? "ide" : "sata0") : NULL;
        case DOMAIN_CONTROLLER_SCSI:
                return xasprintf("scsi%d", c->index);
        case DOMAIN_CONTROLLER_VIRTIO_SERIAL:
                return xasprintf("virtio-serial%d", c->index);
        default:
                return NULL;
        }
}

void qemu_command_assign_aliases(struct domain_def *def)
{
        for (int i = 0; i < def->n_disks; i++)
                alias_set(&def->disks[i].address.alias, qemu_command_disk_id(def, i));
        int root_ports = 0;
        for (int i = 0; i < def->n_controllers; i++)
                alias_set(&def->controllers[i].address.alias,
                          controller_alias(def, &def->controllers[i], &root_ports));
        for (int i = 0; i < def->n_nets; i++)
                alias_set(&def->nets[i].address.alias, xasprintf("net%d", i));
        /* as emit_chardevs: serials count apart from virtio consoles; a
         * serial console is serial0 */
        int nserial = 0, nconsole = 0;
        for (int i = 0; i < def->n_chrs; i++) {
                struct domain_chr *c = &def->chrs[i];
                if (c->kind == DOMAIN_CHR_SERIAL)
                        alias_set(&c->alias, xasprintf("serial%d", nserial++));
                else if (qcmd_console_is_serial(c))
                        alias_set(&c->alias, xstrdup("serial0"));
                else
                        alias_set(&c->alias, xasprintf("console%d", nconsole++));
        }
        for (int i = 0; i < def->n_channels; i++)
                alias_set(&def->channels[i].address.alias, xasprintf("channel%d", i));
        for (int i = 0; i < def->n_inputs; i++)
                alias_set(&def->inputs[i].address.alias, xasprintf("input%d", i));
        for (int i = 0; i < def->n_videos && qcmd_has_primary_video(def); i++)
                alias_set(&def->videos[i].address.alias, xasprintf("video%d", i));
        for (int i = 0; i < def->n_sounds; i++)
                alias_set(&def->sounds[i].address.alias, xasprintf("sound%d", i));
        for (int i = 0; i < def->n_rngs; i++)
                alias_set(&def->rngs[i].address.alias, xasprintf("rng%d", i));
        for (int i = 0; i < def->n_redirdevs; i++)
                alias_set(&def->redirdevs[i].address.alias, xasprintf("redir%d", i));
        if (def->memballoon_model && qcmd_balloon_wanted(def))
                alias_set(&def->memballoon_address.alias, xstrdup("balloon0"));
}
