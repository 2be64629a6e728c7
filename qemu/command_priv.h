/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internals shared by qemu/command.c (addresses, emitters) and
 * qemu/command_check.c (what litevirt refuses, and the small lookups both
 * need). Not for other folders: use qemu/command.h. */

#include "qemu/command.h"

#define QEMU_DEFAULT_EMULATOR "qemu-system-x86_64"
#define QEMU_PC_FIRST_SLOT    2
#define QEMU_PCI_MAX_SLOT     31

struct pci_addr {
        char bus[16]; /* "pci.0", "pcie.0", "pci.3" */
        int slot;
        int fn;
        bool multifunction;
        bool set;
};

/* One q35 root port. */
struct root_port {
        struct pci_addr addr;
};

/* The UEFI firmware a guest gets (qemu/firmware.c). */
struct qcmd_firmware {
        bool pflash; /* pflash0 = code (and pflash1 = NVRAM) */
        char *code;
        bool readonly;        /* code read-only, NVRAM separate */
        bool secure;          /* SMM-protected flash (Secure Boot) */
        char *nvram;          /* NULL when not readonly */
        char *nvram_template; /* what a missing NVRAM is copied from */
};
int qcmd_firmware(const struct domain_def *def, const char *nvram_dir, struct qcmd_firmware *ret,
                  struct lv_error **err);
void qcmd_firmware_clear(struct qcmd_firmware *fw);

struct build {
        const struct domain_def *def;
        const struct qemu_command_opts *opts;
        char **argv;
        bool q35;
        /* pc: next free slot on pci.0; q35: root ports handed out */
        int next_slot;
        struct root_port *ports;
        int n_ports;          /* q35: root ports on the command line */
        int n_ports_used;     /* ... of which handed out to devices */
        int n_explicit_ports; /* the definition's <controller model='pcie-root-port'> */
        int first_port_slot;
        /* slots and root ports taken (by a device's own <address> first,
         * then handed out): pc bit N = pci.0 slot N; q35 [N] = bus N */
        unsigned pc_used;
        bool q35_bus_used[8 * QEMU_PCI_MAX_SLOT + 1];

        /* addresses, computed before anything is emitted */
        struct pci_addr usb_addr;
        struct pci_addr scsi_addr;
        bool need_scsi;
        struct pci_addr ahci_addr; /* pc: the ahci card SATA disks are on */
        bool need_ahci;
        struct pci_addr vserial_addr;
        bool need_vserial;
        struct pci_addr *net_addr;
        struct pci_addr *disk_addr;
        struct pci_addr balloon_addr;
        struct pci_addr *video_addr;
        struct pci_addr *input_addr;
        struct pci_addr *rng_addr;
        struct pci_addr *sound_addr;
        struct qcmd_firmware fw;
        int *channel_port; /* virtio-serial port (nr) of each <channel> */
        int *disk_bootindex;
        int *net_bootindex;
};

/* The devices' places, as on the command line: qcmd_check, then the PCI
 * addresses (a device's own <address> where litevirt can put it, the
 * others in libvirt's order), the checks of the explicit ones, boot
 * indexes and virtio-serial ports. qcmd_build_free releases b. */
int qcmd_assign(struct build *b, struct lv_error **err);
void qcmd_build_free(struct build *b);
/* The USB port of an input or redirdev (its <address type='usb'>, else
 * the next one no address names; *next starts at 1, inputs first). */
int qcmd_usb_port(const struct domain_def *def, const struct domain_address *a, int *next);
bool qcmd_console_is_serial(const struct domain_chr *c);

/* The options of a guest that is not running (qemu_command_build_preview,
 * qemu_definition_prepare): a tap of an <interface> on a bridge or network
 * is fd 100+N, displays get qemu_command_preview_ports. */
#define QCMD_PREVIEW_MAX_NETS 16
void qcmd_preview_opts(const struct domain_def *def, int fds[QCMD_PREVIEW_MAX_NETS],
                       struct qemu_graphics_ports ports[QEMU_PREVIEW_MAX_GRAPHICS],
                       struct qemu_command_opts *opts);

/* Everything that makes a definition unrunnable, decided before anything
 * is emitted; sets b->q35, b->need_scsi, b->need_vserial, b->need_ahci. */
int qcmd_check(struct build *b, struct lv_error **err);

const struct domain_controller *qcmd_controller_find(const struct domain_def *def,
                                                     enum domain_controller_type type);
bool qcmd_usb_wanted(const struct domain_def *def);
bool qcmd_controller_is_root_port(const struct domain_controller *c);
/* The id of the <audio> a sound card or VNC uses: the sound's own, else
 * the first <audio>'s, else 1 (the implicit one litevirt adds for sound
 * cards, as libvirt: spice with SPICE graphics, else none). */
unsigned qcmd_audio_id(const struct domain_def *def, const struct domain_sound *snd);
bool qcmd_balloon_wanted(const struct domain_def *def);
const char *qcmd_video_model(const struct domain_def *def, int i);
bool qcmd_has_primary_video(const struct domain_def *def);
/* hda → 0, hdz → 25, hdaa → 26; -1 when not a disk name */
int qcmd_disk_name_index(const char *name);
/* a numeric <address> attribute, dflt when absent, -1 when malformed */
int qcmd_addr_attr_int(const struct domain_address *a, const char *name, int dflt);
/* qemu/prepare.c: <address type='pci' domain bus slot function
 * [multifunction]> from p, where a is none yet */
void qcmd_addr_pci(struct domain_address *a, const struct pci_addr *p);
enum domain_disk_bus qcmd_disk_bus(const struct domain_disk *d);
bool qcmd_scsi_lsi(const struct domain_def *def);
const char *qcmd_net_model_driver(const char *model);
/* The machine is q35 (q35, pc-q35-*), else pc. */
bool qcmd_machine_is_q35(const struct domain_def *def);
const char *qcmd_video_primary_driver(const char *model);
const char *qcmd_video_secondary_driver(const char *model);

/* qemu/command_cpu.c: what litevirt refuses about a <cpu> whatever the
 * host; libvirt's -cpu model argument (model, vendor, features; the
 * caller appends the rest) and -smp value. */
int qcmd_check_cpu(const struct domain_def *def, struct lv_error **err);
struct strbuf;
void qcmd_cpu_model_arg(struct build *b, struct strbuf *sb);
char *qcmd_smp_arg(const struct domain_def *def);
/* -device per hot-plugged vCPU of <vcpus> (enabled, hotpluggable='yes'),
 * id vcpuN at its socket/core/thread, as libvirt starts them: -smp counts
 * the others */
void qcmd_vcpu_devices(struct build *b);
