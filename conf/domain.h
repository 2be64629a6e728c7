/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The domain model: what litevirt understands of libvirt's domain XML.
 * conf/ knows nothing of processes; drivers read this model.
 * Every string is owned by the model (malloc'd), NULL when absent.
 * Memory sizes are in KiB, as libvirt stores them. */

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define DOMAIN_XML_MAX_BYTES (1024 * 1024)
#define DOMAIN_NAME_MAX      64

/* Every enum has _to_string()/_from_string() tables in domain_enums.c;
 * _from_string() returns -1 for an unknown keyword. */
#define DOMAIN_ENUM_DECL(name)                                                                     \
        const char *name##_to_string(int v);                                                       \
        int name##_from_string(const char *s)

enum domain_type {
        DOMAIN_TYPE_LXC,
        DOMAIN_TYPE_QEMU,
        DOMAIN_TYPE_KVM,
        DOMAIN_TYPE_XEN,
        DOMAIN_TYPE_LAST
};
DOMAIN_ENUM_DECL(domain_type);

enum domain_lifecycle {
        DOMAIN_LIFECYCLE_DESTROY,
        DOMAIN_LIFECYCLE_RESTART,
        DOMAIN_LIFECYCLE_PRESERVE,
        DOMAIN_LIFECYCLE_RENAME_RESTART,
        DOMAIN_LIFECYCLE_COREDUMP_DESTROY,
        DOMAIN_LIFECYCLE_COREDUMP_RESTART,
        DOMAIN_LIFECYCLE_LAST
};
DOMAIN_ENUM_DECL(domain_lifecycle);

/* <os><type>: exe (LXC), hvm (QEMU, Xen HVM), linux/xen (Xen PV), xenpvh */
enum domain_os_type {
        DOMAIN_OS_EXE,
        DOMAIN_OS_HVM,
        DOMAIN_OS_LINUX,
        DOMAIN_OS_XEN,
        DOMAIN_OS_XENPVH,
        DOMAIN_OS_LAST
};
DOMAIN_ENUM_DECL(domain_os_type);

enum domain_boot_dev {
        DOMAIN_BOOT_FD,
        DOMAIN_BOOT_CDROM,
        DOMAIN_BOOT_HD,
        DOMAIN_BOOT_NETWORK,
        DOMAIN_BOOT_LAST
};
DOMAIN_ENUM_DECL(domain_boot_dev);

enum domain_clock_offset {
        DOMAIN_CLOCK_UTC,
        DOMAIN_CLOCK_LOCALTIME,
        DOMAIN_CLOCK_VARIABLE,
        DOMAIN_CLOCK_TIMEZONE,
        DOMAIN_CLOCK_LAST
};
DOMAIN_ENUM_DECL(domain_clock_offset);

/* <clock><timer name=...> (the names litevirt models; others are refused) */
enum domain_timer_name {
        DOMAIN_TIMER_RTC,
        DOMAIN_TIMER_PIT,
        DOMAIN_TIMER_HPET,
        DOMAIN_TIMER_HYPERVCLOCK,
        DOMAIN_TIMER_LAST
};
DOMAIN_ENUM_DECL(domain_timer_name);

enum domain_timer_tickpolicy {
        DOMAIN_TIMER_TICKPOLICY_NONE, /* absent */
        DOMAIN_TIMER_TICKPOLICY_DELAY,
        DOMAIN_TIMER_TICKPOLICY_CATCHUP,
        DOMAIN_TIMER_TICKPOLICY_MERGE,
        DOMAIN_TIMER_TICKPOLICY_DISCARD,
        DOMAIN_TIMER_TICKPOLICY_LAST
};
DOMAIN_ENUM_DECL(domain_timer_tickpolicy);

/* <features><capabilities policy=...> */
enum domain_caps_policy {
        DOMAIN_CAPS_POLICY_DEFAULT,
        DOMAIN_CAPS_POLICY_ALLOW,
        DOMAIN_CAPS_POLICY_DENY,
        DOMAIN_CAPS_POLICY_LAST
};
DOMAIN_ENUM_DECL(domain_caps_policy);

enum domain_tristate { DOMAIN_TRISTATE_ABSENT, DOMAIN_TRISTATE_ON, DOMAIN_TRISTATE_OFF };

struct domain_timer {
        enum domain_timer_name name;
        enum domain_timer_tickpolicy tickpolicy;
        enum domain_tristate present;
};

enum domain_fs_type {
        DOMAIN_FS_MOUNT,
        DOMAIN_FS_RAM,
        DOMAIN_FS_FILE,
        DOMAIN_FS_BLOCK,
        DOMAIN_FS_BIND, /* a directory of the container's own tree (source) shown at target */
        DOMAIN_FS_LAST
};
DOMAIN_ENUM_DECL(domain_fs_type);

enum domain_disk_type { DOMAIN_DISK_FILE, DOMAIN_DISK_BLOCK, DOMAIN_DISK_TYPE_LAST };
DOMAIN_ENUM_DECL(domain_disk_type);
enum domain_disk_device {
        DOMAIN_DISK_DEVICE_DISK,
        DOMAIN_DISK_DEVICE_CDROM,
        DOMAIN_DISK_DEVICE_LAST
};
DOMAIN_ENUM_DECL(domain_disk_device);
enum domain_disk_format {
        DOMAIN_DISK_FORMAT_NONE,
        DOMAIN_DISK_FORMAT_RAW,
        DOMAIN_DISK_FORMAT_QCOW2,
        DOMAIN_DISK_FORMAT_LAST
};
DOMAIN_ENUM_DECL(domain_disk_format);
enum domain_disk_bus {
        DOMAIN_DISK_BUS_NONE,
        DOMAIN_DISK_BUS_VIRTIO,
        DOMAIN_DISK_BUS_IDE,
        DOMAIN_DISK_BUS_SCSI,
        DOMAIN_DISK_BUS_SATA,
        DOMAIN_DISK_BUS_XEN,
        DOMAIN_DISK_BUS_LAST
};
DOMAIN_ENUM_DECL(domain_disk_bus);

enum domain_net_type {
        DOMAIN_NET_BRIDGE,
        DOMAIN_NET_ETHERNET,
        DOMAIN_NET_NETWORK,
        DOMAIN_NET_USER,
        DOMAIN_NET_LAST
};
DOMAIN_ENUM_DECL(domain_net_type);

enum domain_graphics_type { DOMAIN_GRAPHICS_VNC, DOMAIN_GRAPHICS_SPICE, DOMAIN_GRAPHICS_LAST };
DOMAIN_ENUM_DECL(domain_graphics_type);

enum domain_chr_kind { DOMAIN_CHR_CONSOLE, DOMAIN_CHR_SERIAL, DOMAIN_CHR_LAST };
DOMAIN_ENUM_DECL(domain_chr_kind);

/* <channel type=...>: unix (a socket the host listens on, e.g. the QEMU
 * guest agent's), spicevmc (SPICE's agent channel) */
enum domain_channel_type { DOMAIN_CHANNEL_UNIX, DOMAIN_CHANNEL_SPICEVMC, DOMAIN_CHANNEL_LAST };
DOMAIN_ENUM_DECL(domain_channel_type);

/* Controllers, inputs, video and memballoon are accepted so libvirt's own
 * definitions load; drivers decide what they mean. */
enum domain_controller_type {
        DOMAIN_CONTROLLER_PCI,
        DOMAIN_CONTROLLER_USB,
        DOMAIN_CONTROLLER_IDE,
        DOMAIN_CONTROLLER_SCSI,
        DOMAIN_CONTROLLER_SATA,
        DOMAIN_CONTROLLER_VIRTIO_SERIAL,
        DOMAIN_CONTROLLER_XENBUS,
        DOMAIN_CONTROLLER_LAST
};
DOMAIN_ENUM_DECL(domain_controller_type);
enum domain_input_type {
        DOMAIN_INPUT_MOUSE,
        DOMAIN_INPUT_KEYBOARD,
        DOMAIN_INPUT_TABLET,
        DOMAIN_INPUT_LAST
};
DOMAIN_ENUM_DECL(domain_input_type);
enum domain_input_bus {
        DOMAIN_INPUT_BUS_PS2,
        DOMAIN_INPUT_BUS_USB,
        DOMAIN_INPUT_BUS_VIRTIO,
        DOMAIN_INPUT_BUS_XEN,
        DOMAIN_INPUT_BUS_LAST
};
DOMAIN_ENUM_DECL(domain_input_bus);

struct domain_env {
        char *name;
        char *value;
};

struct domain_idmap {
        unsigned start;  /* id inside the guest */
        unsigned target; /* id on the host */
        unsigned count;
};

struct domain_os {
        enum domain_os_type type;
        char *arch;    /* x86_64, i686, ... */
        char *machine; /* pc, q35, pc-i440fx-4.2, xenpv, xenfv */
        /* QEMU / Xen */
        char *kernel;
        char *initrd;
        char *cmdline;
        char *firmware;                        /* <os firmware=...>: efi | bios (chosen at start) */
        enum domain_tristate fw_secure_boot;   /* <firmware><feature name='secure-boot'> */
        enum domain_tristate fw_enrolled_keys; /* ... name='enrolled-keys' */
        char *loader;                          /* <loader> path (Xen HVM firmware, OVMF) */
        char *loader_type;                     /* rom | pflash */
        enum domain_tristate loader_readonly, loader_secure;
        char *nvram;          /* <nvram>: the guest's UEFI variables */
        char *nvram_template; /* <nvram template=...>: copied when nvram is missing */
        enum domain_boot_dev boot[DOMAIN_BOOT_LAST];
        int n_boot;
        /* <bootmenu enable= timeout=>: the firmware's boot menu (QEMU) */
        enum domain_tristate bootmenu;
        bool has_bootmenu_timeout;
        unsigned bootmenu_timeout; /* ms, 0..65535 */
        /* LXC */
        char *init;
        char **initargs; /* NULL-terminated */
        struct domain_env *initenv;
        int n_initenv;
        char *initdir;
        char *inituser;  /* name or number */
        char *initgroup; /* name or number */
};

/* Linux capability names in lower case without CAP_ ("sys_module"). */
struct domain_cap {
        char *name;
        bool on;
};

/* <features><hyperv mode='custom'>: the Hyper-V enlightenments offered
 * to a Windows guest, each <NAME state='on|off'/> (absent: not offered) */
struct domain_hyperv {
        bool present;
        enum domain_tristate relaxed, vapic, spinlocks, vpindex, runtime, synic, stimer, reset,
                vendor_id, frequencies, reenlightenment, tlbflush, ipi, evmcs;
        unsigned spinlocks_retries; /* <spinlocks retries=...>, 0 = unset */
        char *vendor_id_value;      /* <vendor_id value=...> */
};
/* The enlightenments in libvirt's order: XML name, QEMU property (hv-...),
 * offset in struct domain_hyperv. */
struct domain_hyperv_flag {
        const char *name;
        const char *qemu;
        size_t offset;
};
extern const struct domain_hyperv_flag domain_hyperv_flags[];
extern const size_t domain_hyperv_n_flags;
static inline enum domain_tristate domain_hyperv_get(const struct domain_hyperv *h, size_t i)
{
        return *(const enum domain_tristate *)(const void *)((const char *)h +
                                                             domain_hyperv_flags[i].offset);
}

struct domain_features {
        bool acpi, apic, pae, hap, viridian, privnet;
        struct domain_hyperv hyperv;
        enum domain_tristate vmport;     /* <vmport state=on/off/> (VMware I/O port) */
        enum domain_tristate apic_eoi;   /* <apic eoi=on/off/>: KVM's paravirtual EOI */
        enum domain_tristate pvspinlock; /* <pvspinlock state=on/off/> (no state: on) */
        bool has_caps;                   /* <capabilities> present */
        enum domain_caps_policy caps_policy;
        struct domain_cap *caps;
        int n_caps;
};

struct domain_cputune {
        unsigned long long shares; /* 0 = unset */
        unsigned long long period; /* us, 0 = unset */
        long long quota;           /* us, 0 = unset, -1 = unlimited */
};

/* All in KiB; 0 = unset. */
struct domain_memtune {
        unsigned long long hard_limit;
        unsigned long long soft_limit;
        unsigned long long swap_hard_limit;
        unsigned long long min_guarantee;
};

struct domain_blkiotune {
        unsigned weight; /* 0 = unset, 100..1000 */
};

struct domain_ip {
        char *address;
        char *family; /* ipv4 | ipv6 | NULL (inferred) */
        int prefix;   /* -1 = unset */
        char *peer;
};

struct domain_route {
        char *family;
        char *address;
        int prefix; /* -1 = unset */
        char *gateway;
        int metric; /* -1 = unset */
};

struct domain_fs {
        enum domain_fs_type type;
        char *accessmode;             /* passthrough | mapped | squash, kept */
        char *source;                 /* dir / file / dev; NULL for ram */
        unsigned long long usage_kib; /* type='ram' <source usage=...> */
        char *target;                 /* <target dir=...> */
        bool readonly;
        char *driver_type; /* <driver type='loop' format='raw'/> */
        char *driver_format;
};

/* A device's <address> and, in a running guest's definition, its
 * <alias> (libvirt's device info: both belong to the device). */
struct domain_address {
        char *type; /* pci | drive | ... ; NULL when absent */
        /* attributes kept as name/value, in document order */
        struct domain_env *attrs;
        int n_attrs;
        /* live: the device's name in the hypervisor (QEMU's id=), set by
         * the driver in the running definition; never parsed (libvirt
         * drops <alias> at define too) nor compared */
        char *alias;
};

struct domain_disk {
        enum domain_disk_type type;
        enum domain_disk_device device;
        char *driver_name; /* qemu | phy | tap ... */
        enum domain_disk_format format;
        char *driver_cache;
        char *source; /* file or dev */
        /* <backingStore type='file'>: the image source is an overlay of
         * (an external snapshot, docs/snapshot.md); one level only */
        char *backing_source;
        enum domain_disk_format backing_format;
        char *target_dev;
        enum domain_disk_bus bus;
        bool readonly;
        bool shareable;
        struct domain_address address;
};

/* Interface type: bridge (source = bridge), ethernet (no source),
 * network (source = network name), user (no source). */
struct domain_net {
        enum domain_net_type type;
        char *mac;        /* aa:bb:cc:dd:ee:ff, lower case */
        char *mac_type;   /* <mac type=...>: static | generated (kept) */
        char *mac_check;  /* <mac check=...>: yes | no (kept) */
        char *source;     /* bridge name or network name */
        char *model;      /* virtio, e1000, rtl8139 ... */
        char *target_dev; /* host side name */
        char *guest_dev;  /* container side name (<guest dev=...>) */
        char *script;     /* <script path=...> (Xen) */
        int mtu;          /* 0 = unset */
        struct domain_ip *ips;
        int n_ips;
        struct domain_route *routes;
        int n_routes;
        struct domain_address address;
        /* type='network' at run time: the bridge of the active network,
         * looked up when the guest starts (never in the XML, not compared
         * by domain_def_equal). */
        char *network_bridge;
        /* live: the host-side link the running guest has (its tap or veth
         * end), set by the driver; shown as <target dev> by dumpxml of a
         * running guest (DOMAIN_FORMAT_LIVE), never parsed nor compared */
        char *ifname;
};

/* The bridge an interface joins: <source bridge> for type='bridge', the
 * active network's bridge for type='network', else NULL. */
static inline const char *domain_net_bridge(const struct domain_net *n)
{
        if (n->type == DOMAIN_NET_BRIDGE)
                return n->source;
        if (n->type == DOMAIN_NET_NETWORK)
                return n->network_bridge;
        return NULL;
}

struct domain_chr {
        enum domain_chr_kind kind;
        char *source_type;  /* pty (only pty is supported) */
        char *source_path;  /* live: the pty's path */
        char *target_type;  /* console: serial | virtio | lxc | xen ; serial: isa-serial ... */
        int target_port;    /* -1 = unset */
        char *target_model; /* <model name=...> inside <target> for serial */
        char *alias;        /* live: as struct domain_address's */
};

/* A virtio-serial port the guest sees by its name. */
struct domain_channel {
        enum domain_channel_type type;
        char *source_path;             /* unix: the host socket (source mode='bind'); a
                                        * running guest's definition always has it (the
                                        * driver picks one in the guest's state directory
                                        * when the definition has none) */
        char *target_type;             /* virtio (the only one) */
        char *target_name;             /* org.qemu.guest_agent.0, com.redhat.spice.0 */
        struct domain_address address; /* type='virtio-serial' controller bus port */
};

/* The QEMU guest agent's channel name. */
#define DOMAIN_CHANNEL_GUEST_AGENT "org.qemu.guest_agent.0"

struct domain_graphics_listen {
        char *type; /* address | network | none */
        char *address;
};

/* SPICE <channel name=... mode=secure|insecure/> (mode 'any', the
 * default, is not kept, as libvirt) */
struct domain_graphics_channel {
        char *name; /* main display inputs cursor playback record smartcard usbredir */
        char *mode; /* secure | insecure */
};

struct domain_graphics {
        enum domain_graphics_type type;
        int port;      /* -1 = unset/auto (always -1 when autoport) */
        int tls_port;  /* -1 = unset */
        int websocket; /* -1 = unset */
        bool autoport; /* defaulted as libvirt: yes when no port is given */
        char *listen;  /* listen address: the listen='' attribute, which
                        * equals the first <listen type='address'>'s */
        struct domain_graphics_listen *listens;
        int n_listens;
        char *passwd;
        char *keymap;
        char *defaultmode;         /* spice: any | secure | insecure */
        char *image_compression;   /* spice <image compression=...> */
        char *mouse_mode;          /* spice <mouse mode=...> */
        char *clipboard_copypaste; /* spice <clipboard copypaste=...> */
        /* spice <channel>s, in libvirt's order of channel names */
        struct domain_graphics_channel *channels;
        int n_channels;
        /* live: the ports the running guest listens on (autoport's too),
         * set by the driver; 0 = unknown. Shown by dumpxml of a running
         * guest (DOMAIN_FORMAT_LIVE), never parsed nor compared. */
        int live_port, live_tls_port;
};

struct domain_controller {
        enum domain_controller_type type;
        int index;
        char *model;
        unsigned ports;                  /* usb: ports per speed (xhci: p2 and p3); 0 = unset */
        char *model_name;                /* <model name=...>: the device (pcie-root-port) */
        int target_chassis, target_port; /* <target chassis= port=>, -1 = unset */
        struct domain_address address;
};

struct domain_input {
        enum domain_input_type type;
        enum domain_input_bus bus;
        struct domain_address address; /* usb: bus port; virtio: pci */
};

/* <rng model='virtio'><backend model='random'>PATH</backend>: a virtio
 * entropy device fed from a host device file. */
struct domain_rng {
        char *model;         /* virtio */
        char *backend_model; /* random */
        char *backend;       /* /dev/urandom, /dev/random; NULL: /dev/urandom */
        struct domain_address address;
};

/* <sound model=...>: ich9 (q35's HDA), ich6 (HDA), ac97 */
struct domain_sound {
        char *model;
        unsigned audio_id; /* <audio id=.../> inside: the backend; 0 = unset */
        struct domain_address address;
};

/* <redirdev bus='usb' type='spicevmc'>: a USB device of the SPICE client */
struct domain_redirdev {
        char *bus;  /* usb */
        char *type; /* spicevmc */
        struct domain_address address;
};

/* <audio id type>: the host side of the guest's sound (QEMU -audiodev);
 * none and spice (through the SPICE client) */
enum domain_audio_type { DOMAIN_AUDIO_NONE, DOMAIN_AUDIO_SPICE, DOMAIN_AUDIO_LAST };
DOMAIN_ENUM_DECL(domain_audio_type);
struct domain_audio {
        unsigned id; /* >= 1 */
        enum domain_audio_type type;
};

struct domain_video {
        char *model;                  /* cirrus, vga, qxl, virtio, none */
        unsigned ram;                 /* qxl: KiB, 0 = unset */
        unsigned vram;                /* KiB, 0 = unset */
        unsigned vram64;              /* qxl: KiB, 0 = unset */
        unsigned vgamem;              /* qxl: KiB, 0 = unset */
        unsigned heads;               /* 0 = unset */
        enum domain_tristate primary; /* the first video is made primary */
        struct domain_address address;
};

/* <cpu mode match check migratable>: the guest CPU. Each enum's 0 is
 * "not given" (its keyword is never accepted from XML). */
enum domain_cpu_mode {
        DOMAIN_CPU_MODE_NONE, /* no <cpu>, or one with only <topology> */
        DOMAIN_CPU_MODE_CUSTOM,
        DOMAIN_CPU_MODE_HOST_MODEL,
        DOMAIN_CPU_MODE_HOST_PASSTHROUGH,
        DOMAIN_CPU_MODE_MAXIMUM,
        DOMAIN_CPU_MODE_LAST
};
DOMAIN_ENUM_DECL(domain_cpu_mode);
enum domain_cpu_match {
        DOMAIN_CPU_MATCH_NONE,
        DOMAIN_CPU_MATCH_MINIMUM,
        DOMAIN_CPU_MATCH_EXACT,
        DOMAIN_CPU_MATCH_STRICT,
        DOMAIN_CPU_MATCH_LAST
};
DOMAIN_ENUM_DECL(domain_cpu_match);
enum domain_cpu_check {
        DOMAIN_CPU_CHECK_DEFAULT,
        DOMAIN_CPU_CHECK_NONE,
        DOMAIN_CPU_CHECK_PARTIAL,
        DOMAIN_CPU_CHECK_FULL,
        DOMAIN_CPU_CHECK_LAST
};
DOMAIN_ENUM_DECL(domain_cpu_check);
/* <model fallback=>: libvirt's default is allow */
enum domain_cpu_fallback {
        DOMAIN_CPU_FALLBACK_ALLOW,
        DOMAIN_CPU_FALLBACK_FORBID,
        DOMAIN_CPU_FALLBACK_LAST
};
DOMAIN_ENUM_DECL(domain_cpu_fallback);
enum domain_cpu_policy {
        DOMAIN_CPU_POLICY_FORCE,
        DOMAIN_CPU_POLICY_REQUIRE,
        DOMAIN_CPU_POLICY_OPTIONAL,
        DOMAIN_CPU_POLICY_DISABLE,
        DOMAIN_CPU_POLICY_FORBID,
        DOMAIN_CPU_POLICY_LAST
};
DOMAIN_ENUM_DECL(domain_cpu_policy);
struct domain_cpu_feature {
        char *name; /* libvirt's name (cpu_map), e.g. lahf_lm */
        enum domain_cpu_policy policy;
};
struct domain_cpu {
        enum domain_cpu_mode mode;
        enum domain_cpu_match match;
        enum domain_cpu_check check;
        enum domain_tristate migratable; /* host-passthrough, maximum: default on */
        char *model;                     /* <model>NAME</model> */
        enum domain_cpu_fallback fallback;
        char *vendor_id; /* <model vendor_id=>: 12 characters */
        char *vendor;    /* <vendor> */
        /* <topology>: all 0 or all set (dies defaults to 1) */
        unsigned sockets, dies, cores, threads;
        struct domain_cpu_feature *features; /* in document order */
        int n_features;
};

struct domain_vcpu_entry {
        unsigned id;
        bool enabled;
        enum domain_tristate hotpluggable;
        int order; /* 0 = unset */
};

struct domain_def {
        enum domain_type type;
        char *name;
        unsigned char uuid[16];
        char *title;
        char *description;
        char *metadata_xml; /* inner XML of <metadata>, verbatim */

        unsigned long long memory_kib;         /* <memory> */
        unsigned long long current_memory_kib; /* <currentMemory>, 0 = same as memory */
        unsigned long long max_memory_kib;     /* <maxMemory>, 0 = unset */
        unsigned max_memory_slots;

        unsigned vcpus;                         /* <vcpu> */
        unsigned vcpus_current;                 /* current=, 0 = unset */
        char *vcpu_placement;                   /* static | auto */
        char *vcpu_cpuset;                      /* cpuset= */
        struct domain_vcpu_entry *vcpu_entries; /* <vcpus> */
        int n_vcpu_entries;

        char *bootloader; /* Xen PV */
        char *bootloader_args;
        struct domain_os os;
        struct domain_features features;
        struct domain_idmap *uidmap;
        int n_uidmap;
        struct domain_idmap *gidmap;
        int n_gidmap;
        bool has_cputune;
        struct domain_cputune cputune;
        bool has_memtune;
        struct domain_memtune memtune;
        bool has_blkiotune;
        struct domain_blkiotune blkiotune;
        /* <memoryBacking>: <nosharepages/> (no KSM merging), <locked/>
         * (guest memory locked in host RAM); hugepages, source, access,
         * allocation and discard are refused */
        bool mem_nosharepages;
        bool mem_locked;
        char *resource_partition;

        enum domain_clock_offset clock_offset;
        char *clock_adjustment; /* "reset", or seconds as text */
        char *clock_basis;      /* utc | localtime */
        char *clock_timezone;
        struct domain_cpu cpu;       /* <cpu> */
        struct domain_timer *timers; /* <clock><timer>, in document order */
        int n_timers;

        enum domain_lifecycle on_poweroff;
        enum domain_lifecycle on_reboot;
        enum domain_lifecycle on_crash;
        /* <pm>: ACPI S3 (suspend-to-mem) and S4 (suspend-to-disk) offered to
         * the guest; absent: the hypervisor's default */
        enum domain_tristate pm_suspend_to_mem, pm_suspend_to_disk;

        char *seclabel_type; /* only 'none' accepted */

        char *emulator;
        struct domain_fs *filesystems;
        int n_filesystems;
        struct domain_disk *disks;
        int n_disks;
        struct domain_net *nets;
        int n_nets;
        struct domain_chr *chrs; /* consoles and serials in document order */
        int n_chrs;
        struct domain_channel *channels;
        int n_channels;
        struct domain_graphics *graphics;
        int n_graphics;
        struct domain_controller *controllers;
        int n_controllers;
        struct domain_input *inputs;
        int n_inputs;
        struct domain_video *videos;
        int n_videos;
        char *memballoon_model; /* virtio | xen | none; NULL = absent */
        struct domain_address memballoon_address;
        struct domain_rng *rngs;
        int n_rngs;
        struct domain_audio *audios;
        int n_audios;
        struct domain_sound *sounds;
        int n_sounds;
        struct domain_redirdev *redirdevs;
        int n_redirdevs;
};

/* ---- parse (conf/domain_parse.c, libxml2; built into the parse module) ---- */

/* Parse and validate a definition. filename is used in messages
 * ("web1.xml:12: element 'foo': not supported by litevirt").
 * Input larger than DOMAIN_XML_MAX_BYTES, with a DTD, external entities
 * or unsupported content is refused. A missing uuid is generated. */
int domain_parse_string(const char *xml, size_t len, const char *filename, struct domain_def **ret,
                        struct lv_error **err);
int domain_parse_file(const char *path, struct domain_def **ret, struct lv_error **err);

/* ---- format (conf/domain_format.c; no libxml2) ---- */

/* libvirt-style XML with two-space indentation, stable across calls. */
char *domain_format(const struct domain_def *def);
/* DOMAIN_FORMAT_HIDE_SECRETS leaves out graphics passwords, as virsh
 * dumpxml does without --security-info. DOMAIN_FORMAT_LIVE shows a
 * running guest's live values as virsh dumpxml does: the graphics ports
 * it listens on (also with autoport), its interfaces' host-side links as
 * <target dev>. (Aliases and pty paths, which a definition never names
 * otherwise, are always shown when the model has them.) */
enum { DOMAIN_FORMAT_HIDE_SECRETS = 1 << 0, DOMAIN_FORMAT_LIVE = 1 << 1 };
char *domain_format_flags(const struct domain_def *def, unsigned flags);

/* ---- validate (conf/domain_validate.c) ---- */

/* Semantic checks that need no host: names, uuid, duplicates, MACs,
 * addresses, lxc root filesystem, memory overflow. */
int domain_validate(const struct domain_def *def, struct lv_error **err);

/* ---- model helpers (conf/domain.c) ---- */

/* libvirt's post-parse defaults, applied by the parser; a driver or an
 * importer (xl.cfg → model) that builds a model by hand calls it too, then
 * domain_validate(), so that its model equals the one its XML parses to:
 * currentMemory = memory, vcpu placement 'static', HVM boots 'hd' when
 * nothing else is said, disk bus from the target name, graphics autoport
 * (port -1) and listen attribute <-> first <listen type='address'>, first
 * video primary, a generated MAC for each interface without one, MACs in
 * lower case. Idempotent. */
void domain_def_apply_defaults(struct domain_def *def);
void domain_def_free(struct domain_def *def);
/* Disks of a definition (hot-plug): free one's fields; the index of the
 * disk with that target dev, else of the one with that source, else -1;
 * append d (taking its fields, d is zeroed); remove the i-th. */
void domain_disk_clear(struct domain_disk *d);
int domain_disk_find(const struct domain_def *def, const char *target_or_source);
void domain_disk_add_take(struct domain_def *def, struct domain_disk *d);
void domain_disk_remove(struct domain_def *def, int i);
/* (domain_validate.c) Append d (taking its fields) unless its target dev is taken ("target
 * vdb already exists") or the result does not validate (d is then left
 * as it was). */
int domain_disk_attach(struct domain_def *def, struct domain_disk *d, struct lv_error **err);
/* Interfaces of a definition (hot-plug), by MAC (either case): the
 * index or -1; append n (taking its fields); remove the i-th;
 * (domain_validate.c) append n unless its MAC is taken or the result
 * does not validate (n is then left as it was). */
int domain_net_find(const struct domain_def *def, const char *mac);
void domain_net_add_take(struct domain_def *def, struct domain_net *n);
void domain_net_remove(struct domain_def *def, int i);
int domain_net_attach(struct domain_def *def, struct domain_net *n, struct lv_error **err);
/* Filesystems of a definition (hot-plug), by target dir: the index or
 * -1; append fs (taking its fields); remove the i-th; (domain_validate.c)
 * append fs unless its target is taken or the result does not validate
 * (fs is then left as it was). */
int domain_fs_find(const struct domain_def *def, const char *target);
void domain_fs_add_take(struct domain_def *def, struct domain_fs *fs);
void domain_fs_remove(struct domain_def *def, int i);
int domain_fs_attach(struct domain_def *def, struct domain_fs *fs, struct lv_error **err);
static inline void domain_def_freep(struct domain_def **d)
{
        domain_def_free(*d);
}
#define _cleanup_domain_def_ _cleanup_(domain_def_freep)
bool domain_def_equal(const struct domain_def *a, const struct domain_def *b);
/* A USB2 controller (ich9-ehci1, ich9-uhci1..3): companions share an index. */
bool domain_controller_is_usb2(const struct domain_controller *c);
void domain_uuid_format(const unsigned char uuid[16], char out[37]);
int domain_uuid_parse(const char *s, unsigned char out[16]);
int domain_uuid_generate(unsigned char out[16]);
/* The guest-agent channel (unix, target name org.qemu.guest_agent.0),
 * or NULL. In a running guest's definition its source_path is the socket
 * to connect to. */
const struct domain_channel *domain_guest_agent_channel(const struct domain_def *def);
/* The guest's root filesystem (<filesystem> with target '/'), or NULL. */
const struct domain_fs *domain_root_fs(const struct domain_def *def);
/* Convert a libvirt memory value with unit (b, bytes, k, KiB, KB, M, MiB,
 * MB, G, GiB, GB, T, TiB, TB, P, PiB, PB, E, EiB, EB; NULL = KiB) to KiB,
 * rounding bytes up. -EINVAL with *ret_reason set on a bad number or unit,
 * -ERANGE on overflow. */
int domain_memory_to_kib(const char *value, const char *unit, unsigned long long *ret_kib,
                         const char **ret_reason);
/* Parse "aa:bb:cc:dd:ee:ff" (any case); false when malformed. */
bool domain_mac_parse(const char *s, unsigned char out[6]);
/* Generate a MAC: 52:54:00:xx:xx:xx (locally administered) for LXC and
 * QEMU, 00:16:3e:xx:xx:xx (Xen's OUI) for Xen. */
char *domain_mac_generate(enum domain_type type);
