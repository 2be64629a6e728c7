/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Keyword tables of the domain model: every enum's XML spelling. */
#include <stddef.h>

#include "conf/domain.h"

#define DOMAIN_ENUM_IMPL(name, last, ...)                                                          \
        static const char *const name##_table[] = {__VA_ARGS__};                                   \
        _Static_assert(ARRAY_SIZE(name##_table) == (last), #name " table size");                   \
        const char *name##_to_string(int v)                                                        \
        {                                                                                          \
                if (v < 0 || (size_t)v >= ARRAY_SIZE(name##_table))                                \
                        return NULL;                                                               \
                return name##_table[v];                                                            \
        }                                                                                          \
        int name##_from_string(const char *s)                                                      \
        {                                                                                          \
                if (!s)                                                                            \
                        return -1;                                                                 \
                for (size_t i = 0; i < ARRAY_SIZE(name##_table); i++)                              \
                        if (streq(name##_table[i], s))                                             \
                                return (int)i;                                                     \
                return -1;                                                                         \
        }

DOMAIN_ENUM_IMPL(domain_type, DOMAIN_TYPE_LAST, "lxc", "qemu", "kvm", "xen")
DOMAIN_ENUM_IMPL(domain_lifecycle, DOMAIN_LIFECYCLE_LAST, "destroy", "restart", "preserve",
                 "rename-restart", "coredump-destroy", "coredump-restart")
DOMAIN_ENUM_IMPL(domain_os_type, DOMAIN_OS_LAST, "exe", "hvm", "linux", "xen", "xenpvh")
DOMAIN_ENUM_IMPL(domain_boot_dev, DOMAIN_BOOT_LAST, "fd", "cdrom", "hd", "network")
DOMAIN_ENUM_IMPL(domain_clock_offset, DOMAIN_CLOCK_LAST, "utc", "localtime", "variable", "timezone")
DOMAIN_ENUM_IMPL(domain_timer_name, DOMAIN_TIMER_LAST, "rtc", "pit", "hpet", "hypervclock")
DOMAIN_ENUM_IMPL(domain_timer_tickpolicy, DOMAIN_TIMER_TICKPOLICY_LAST, "none", "delay", "catchup",
                 "merge", "discard")
DOMAIN_ENUM_IMPL(domain_caps_policy, DOMAIN_CAPS_POLICY_LAST, "default", "allow", "deny")
DOMAIN_ENUM_IMPL(domain_fs_type, DOMAIN_FS_LAST, "mount", "ram", "file", "block", "bind")
DOMAIN_ENUM_IMPL(domain_disk_type, DOMAIN_DISK_TYPE_LAST, "file", "block")
DOMAIN_ENUM_IMPL(domain_disk_device, DOMAIN_DISK_DEVICE_LAST, "disk", "cdrom")
DOMAIN_ENUM_IMPL(domain_disk_format, DOMAIN_DISK_FORMAT_LAST, "none", "raw", "qcow2")
DOMAIN_ENUM_IMPL(domain_disk_bus, DOMAIN_DISK_BUS_LAST, "none", "virtio", "ide", "scsi", "sata",
                 "xen")
DOMAIN_ENUM_IMPL(domain_net_type, DOMAIN_NET_LAST, "bridge", "ethernet", "network", "user")
DOMAIN_ENUM_IMPL(domain_graphics_type, DOMAIN_GRAPHICS_LAST, "vnc", "spice")
DOMAIN_ENUM_IMPL(domain_chr_kind, DOMAIN_CHR_LAST, "console", "serial")
DOMAIN_ENUM_IMPL(domain_channel_type, DOMAIN_CHANNEL_LAST, "unix", "spicevmc")
DOMAIN_ENUM_IMPL(domain_controller_type, DOMAIN_CONTROLLER_LAST, "pci", "usb", "ide", "scsi",
                 "sata", "virtio-serial", "xenbus")
DOMAIN_ENUM_IMPL(domain_input_type, DOMAIN_INPUT_LAST, "mouse", "keyboard", "tablet")
DOMAIN_ENUM_IMPL(domain_input_bus, DOMAIN_INPUT_BUS_LAST, "ps2", "usb", "virtio", "xen")
DOMAIN_ENUM_IMPL(domain_audio_type, DOMAIN_AUDIO_LAST, "none", "spice")

#define HV(n, q)                                                                                   \
        {                                                                                          \
#n, q, offsetof(struct domain_hyperv, n)                                           \
        }
const struct domain_hyperv_flag domain_hyperv_flags[] = {
        HV(relaxed, "hv-relaxed"),
        HV(vapic, "hv-vapic"),
        HV(spinlocks, "hv-spinlocks"),
        HV(vpindex, "hv-vpindex"),
        HV(runtime, "hv-runtime"),
        HV(synic, "hv-synic"),
        HV(stimer, "hv-stimer"),
        HV(reset, "hv-reset"),
        HV(vendor_id, "hv-vendor-id"),
        HV(frequencies, "hv-frequencies"),
        HV(reenlightenment, "hv-reenlightenment"),
        HV(tlbflush, "hv-tlbflush"),
        HV(ipi, "hv-ipi"),
        HV(evmcs, "hv-evmcs"),
};
const size_t domain_hyperv_n_flags = ARRAY_SIZE(domain_hyperv_flags);
/* index 0 of mode and match means "not given": never read from XML */
DOMAIN_ENUM_IMPL(domain_cpu_mode, DOMAIN_CPU_MODE_LAST, "", "custom", "host-model",
                 "host-passthrough", "maximum")
DOMAIN_ENUM_IMPL(domain_cpu_match, DOMAIN_CPU_MATCH_LAST, "", "minimum", "exact", "strict")
DOMAIN_ENUM_IMPL(domain_cpu_check, DOMAIN_CPU_CHECK_LAST, "default", "none", "partial", "full")
DOMAIN_ENUM_IMPL(domain_cpu_fallback, DOMAIN_CPU_FALLBACK_LAST, "allow", "forbid")
DOMAIN_ENUM_IMPL(domain_cpu_policy, DOMAIN_CPU_POLICY_LAST, "force", "require", "optional",
                 "disable", "forbid")
