/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Domain definition → qemu-system-x86_64 command line. Pure: no I/O, no
 * global state; everything that depends on the host (the monitor socket,
 * tap fds, allocated ports) comes in through the options. The command line
 * follows libvirt's (JSON -device/-blockdev, the same ids and PCI slots),
 * so that a guest started by litevirt has the same devices as libvirt's. */

#include "conf/domain.h"

/* What the running host decided for one <graphics> element. */
struct qemu_graphics_ports {
        int port;      /* VNC: 5900 + display; SPICE: plain port; -1 = none */
        int tls_port;  /* SPICE only, -1 = none */
        int websocket; /* VNC only, -1 = none */
};

/* What the host's QEMU offers guest CPUs under one accelerator
 * (qemu/cpu_probe.h asks it): the models of query-cpu-definitions and the
 * features of its 'max' CPU (query-cpu-model-expansion, full): on = the
 * accelerator can give it. */
struct qemu_cpu_caps {
        char *emulator;
        char **models;
        /* per model (same index): the features of the model the
         * accelerator cannot give, comma-separated ("" for none) */
        char **unavailable;
        char **features_on;
        char **features_off;
};
void qemu_cpu_caps_free(struct qemu_cpu_caps *caps);
static inline void qemu_cpu_caps_freep(struct qemu_cpu_caps **caps)
{
        qemu_cpu_caps_free(*caps);
}
#define _cleanup_qemu_cpu_caps_ _cleanup_(qemu_cpu_caps_freep)

/* Refuse a <cpu> this QEMU cannot give: a model it does not know, a
 * feature it does not know, a policy='require' feature the accelerator
 * lacks, with check='partial' or 'full' a feature of the model it lacks
 * and the definition does not disable (and what qemu_command_build
 * refuses anyway). */
int qemu_command_cpu_check(const struct domain_def *def, const struct qemu_cpu_caps *caps,
                           struct lv_error **err);
/* QEMU's name of a libvirt CPU feature name (pclmuldq → pclmulqdq). */
const char *qemu_cpu_feature_name(const char *name);

struct qemu_command_opts {
        const char *emulator; /* NULL: def->emulator, else "qemu-system-x86_64" */
        const char *qmp_path; /* the QMP socket QEMU listens on ... */
        int qmp_fd;           /* ... or a listening socket passed as fd (-1: use qmp_path) */
        /* Per <interface>, in document order: a tap fd passed to QEMU,
         * or -1 (type='user', or type='ethernet' with a target dev). */
        const int *net_fds;
        int n_net_fds;
        /* Per <graphics>, in document order: the ports to use (autoport
         * already resolved by the caller). NULL: the definition's ports. */
        const struct qemu_graphics_ports *graphics;
        int n_graphics;
        /* SPICE over TLS: host.conf's spice_tls = 1 with its certificate
         * directory (QEMU's x509-dir); NULL: spice_tls off (a TLS port is
         * refused, as libvirt does). */
        const char *spice_tls_dir;
        /* Default VNC/SPICE listen address when the definition has none. */
        const char *graphics_listen; /* NULL: 127.0.0.1 */
        /* Per <channel>, in document order: for a unix channel, a socket
         * the caller listens on, passed to QEMU as fd (-1: QEMU binds the
         * channel's source path itself). */
        const int *channel_fds;
        int n_channel_fds;
        /* Where a UEFI guest's NVRAM is when its <nvram> names none (NULL:
         * paths_nvramdir()). */
        const char *nvram_dir;
        /* Start with -incoming URI (migration destination), or NULL. */
        const char *incoming;
        /* The host QEMU's CPU offer: <feature policy='optional'> is on when
         * the accelerator gives it, else off (NULL: left out). */
        const struct qemu_cpu_caps *cpu_caps;
        /* A TCG guest's RAM gets qemu_command_ram_pad_kib() more than its
         * definition says (the running guest, lv_guest.ram_pad: a fresh
         * start, or a saved or migrated guest that ran with it; not in
         * previews, which show libvirt's command line). */
        bool tcg_ram_pad;
};

/* What litevirt adds to a TCG guest's RAM on QEMU's command line (with
 * tcg_ram_pad), 0 for KVM, UEFI guests and when maxmem leaves no room:
 * 8 KiB, so that
 * the RAM is no whole number of 256 KiB. QEMU before 9.0 syncs the
 * migration dirty bitmap of such a RAM block 64 pages at a time without
 * re-arming TCG's write tracking (fixed upstream by 03bfc2188f, "physmem:
 * Fix migration dirty bitmap coherency with TCG memory access"): writes
 * the guest makes after a sync are lost on the destination, which then
 * oopses or hangs (docs/migration.md, "TCG guests and QEMU before 9.0").
 * A RAM block of another size is synced page by page, correctly. Both
 * ends of a migration (and a save and its restore) use the same: the
 * source's, as its cookie or image records it (lv_guest.ram_pad). The
 * balloon figures litevirt shows and sets leave it out. */
#define QEMU_TCG_RAM_PAD_KIB 8ULL
unsigned long long qemu_command_ram_pad_kib(const struct domain_def *def);

/* Build the command line (argv[0] is the emulator). On failure *err names
 * the device and why litevirt cannot run it (LV_ERR_UNSUPPORTED). */
int qemu_command_build(const struct domain_def *def, const struct qemu_command_opts *opts,
                       char ***ret_argv, struct lv_error **err);

/* The command line of a guest that is not running (lvsh domxml-to-native,
 * tests): placeholders where the host decides at start — a tap of an
 * <interface> on a bridge or network is fd 100+N, an autoport display
 * VNC 5900+N or SPICE 5910+N, its TLS port 5920+N (N: its place in the definition) — the
 * monitor at qmp_path, NVRAM in nvram_dir (NULL: paths_nvramdir()), and
 * a unix channel without a path at qemu_command_channel_file() in
 * state_dir. */
#define QEMU_PREVIEW_MAX_GRAPHICS 8
void qemu_command_preview_ports(const struct domain_def *def, bool spice_tls,
                                struct qemu_graphics_ports ports[QEMU_PREVIEW_MAX_GRAPHICS]);
/* spice_tls_dir: as qemu_command_opts's (an autoport SPICE display's TLS
 * port is 5920+N) */
int qemu_command_build_preview(const struct domain_def *def, const char *qmp_path,
                               const char *nvram_dir, const char *state_dir,
                               const char *spice_tls_dir, char ***ret_argv, struct lv_error **err);

/* Which ports a <graphics> listens on, libvirt's rule
 * (qemuProcessSPICEAllocatePorts): a given port, or with autoport (or no
 * port given at all) one to allocate. SPICE with autoport: a plain port unless every channel and
 * the default mode are 'secure', a TLS port when spice_tls is on and not
 * every channel and the default mode are 'insecure'. */
void qemu_command_graphics_needs(const struct domain_graphics *g, bool spice_tls, bool *ret_port,
                                 bool *ret_tls);

/* The definition in libvirt's define-time form, as litevirt stores it
 * (lvsh define, create, edit, attach-device --config): where the
 * definition gives none, the PCI, drive, virtio-serial and USB addresses
 * the command line gives the devices, the controllers it adds (PCI root,
 * root ports with their <model>/<target>, USB, SATA, IDE, SCSI,
 * virtio-serial), the ps2 inputs, <audio id='1'>, the virtio
 * <memballoon>, the serial port of a serial <console>, the default
 * video card and video defaults, the disks' driver name. The command line
 * of the result has the same devices at the same places (the same
 * assignment, qemu/prepare.c); the given addresses are kept. Nothing for
 * a guest that is not a QEMU guest; refused (and def unchanged) as
 * qemu_command_build refuses it. */
int qemu_definition_prepare(struct domain_def *def, struct lv_error **err);

/* The command line as text, one option with its value per line, quoted
 * for a POSIX shell, lines joined with " \\\n" (libvirt's .args style). */
char *qemu_command_format(char *const *argv);

/* The QEMU device id of the i-th <disk> ("virtio-disk0", "ide0-1-0"),
 * as on the command line; NULL when out of range. */
char *qemu_command_disk_id(const struct domain_def *def, int i);

/* <os firmware='efi'> (or a pflash <loader>): the firmware and NVRAM the
 * guest gets. Without a <loader>, the OVMF build libvirt 9 picks on
 * Debian: on q35 Secure Boot with Microsoft's keys enrolled
 * (OVMF_CODE_4M.ms.fd, SMM on) unless <firmware><feature> turns Secure
 * Boot or the enrolled keys off; on pc no Secure Boot (OVMF_CODE_4M.fd).
 * Without an <nvram>, NVRAM_DIR/NAME_VARS.fd from the firmware's own
 * template. Fills in def's loader, loader_type, loader_readonly,
 * loader_secure, nvram and nvram_template (the running definition shows
 * them, as libvirt's live XML); nothing for a guest without UEFI. */
#define QEMU_OVMF_DIR "/usr/share/OVMF"
int qemu_firmware_resolve(struct domain_def *def, const char *nvram_dir, struct lv_error **err);

/* The socket a unix <channel> listens on when its definition names none:
 * "channel.TARGETNAME" (or "channel.N" for an unnamed one), a file of the
 * guest's state directory. */
char *qemu_command_channel_file(const struct domain_def *def, int i);

/* The two -blockdev objects of a disk with a source: the storage node
 * (file or host_device) and the format node (raw or qcow2) over it, named
 * storage and format (also what hot-plug sends with blockdev-add). */
struct json_object;
void qemu_command_disk_blockdevs(const struct domain_disk *d, const char *storage,
                                 const char *format, struct json_object **ret_storage,
                                 struct json_object **ret_format);

/* The QEMU id of the n-th serial/console chardev ("charserial0"), used
 * to find its pty over QMP (query-chardev). */
char *qemu_command_serial_chardev(const struct domain_def *def, int n);

/* libvirt's device aliases, the ids the command line gives QEMU
 * (virtio-disk0, net0, serial0, channel0, video0, usb, pci.1, ...), put in
 * each device's alias (struct domain_address, struct domain_chr): the
 * driver does it on the running definition, so its XML and QMP name
 * devices alike. */
void qemu_command_assign_aliases(struct domain_def *def);
