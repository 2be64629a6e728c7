/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The whole domain model as JSON and back (conf/domain_json.h), without
 * libxml2: the supervisor gets its definition from a short-lived child
 * that parsed the XML, so the long-running process never maps libxml2,
 * ICU or libstdc++ (docs/performance.md).
 *
 * One table per struct of conf/domain.h names every member, its kind and
 * its place; one walker writes and one reads. A member added to domain.h
 * must be added here: the round-trip test (tests/conf/test-domain-json.c,
 * every XML of tests/data/domain and libvirt's vectors, compared with
 * domain_def_equal and domain_format) catches a member left out. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "conf/domain_json.h"
#include "util/fileio.h"
#include "util/macros.h"

enum jkind {
        J_STR,    /* char * (NULL: member absent) */
        J_BOOL,   /* bool */
        J_INT,    /* int and enums */
        J_UINT,   /* unsigned */
        J_ULL,    /* unsigned long long */
        J_LL,     /* long long */
        J_UUID,   /* unsigned char[16] */
        J_STRV,   /* char **, NULL-terminated (NULL: absent) */
        J_STRUCT, /* embedded struct (sub) */
        J_ARRAY,  /* T *, with int count at count_off (sub, size) */
        J_INTS,   /* int-sized enum[max] inline, int count at count_off */
};

/* No pointers in the tables (names inline, sub-tables by number): they
 * stay in .rodata, shared and clean, instead of being relocated into
 * private pages of every supervisor at load. */
enum jtable {
        JT_NONE,
        JT_ENV,
        JT_IDMAP,
        JT_OS,
        JT_CAP,
        JT_FEATURES,
        JT_CPUTUNE,
        JT_MEMTUNE,
        JT_BLKIOTUNE,
        JT_IP,
        JT_ROUTE,
        JT_FS,
        JT_ADDRESS,
        JT_DISK,
        JT_NET,
        JT_CHR,
        JT_LISTEN,
        JT_SPICE_CHANNEL,
        JT_GRAPHICS,
        JT_CONTROLLER,
        JT_INPUT,
        JT_VIDEO,
        JT_VCPU,
        JT_TIMER,
        JT_DEF,
        JT_CHANNEL,
        JT_RNG,
        JT_AUDIO,
        JT_HYPERV,
        JT_SOUND,
        JT_REDIRDEV,
        JT_CPU,
        JT_CPU_FEATURE,
};

struct jfield {
        char name[24];
        uint8_t kind; /* enum jkind */
        uint8_t sub;  /* enum jtable (J_STRUCT, J_ARRAY) */
        uint16_t off;
        uint16_t count_off;
        uint16_t size; /* element size (J_ARRAY), capacity (J_INTS), enum bound (J_INT) */
};

#define JEND                                                                                       \
        {                                                                                          \
                "", 0, 0, 0, 0, 0                                                                  \
        }
#define F(T, kind, m)                                                                              \
        {                                                                                          \
#m, kind, JT_NONE, offsetof(struct T, m), 0, 0                                     \
        }
/* an enum: 0 <= value < last */
#define FE(T, m, last)                                                                             \
        {                                                                                          \
#m, J_INT, JT_NONE, offsetof(struct T, m), 0, last                                 \
        }
#define FS(T, m, subt)                                                                             \
        {                                                                                          \
#m, J_STRUCT, subt, offsetof(struct T, m), 0, 0                                    \
        }
#define FA(T, m, n, elem, subt)                                                                    \
        {                                                                                          \
#m, J_ARRAY, subt, offsetof(struct T, m), offsetof(struct T, n),                   \
                        sizeof(struct elem)                                                        \
        }

/* Array and string sizes a definition can have (the XML is at most
 * DOMAIN_XML_MAX_BYTES): a bound against a hostile stream. */
#define JSON_ARRAY_MAX 65536

static const struct jfield j_env[] = {
        F(domain_env, J_STR, name),
        F(domain_env, J_STR, value),
        JEND,
};

static const struct jfield j_idmap[] = {
        F(domain_idmap, J_UINT, start),
        F(domain_idmap, J_UINT, target),
        F(domain_idmap, J_UINT, count),
        JEND,
};

static const struct jfield j_os[] = {
        FE(domain_os, type, DOMAIN_OS_LAST),
        F(domain_os, J_STR, arch),
        F(domain_os, J_STR, machine),
        F(domain_os, J_STR, kernel),
        F(domain_os, J_STR, initrd),
        F(domain_os, J_STR, cmdline),
        F(domain_os, J_STR, loader),
        F(domain_os, J_STR, loader_type),
        F(domain_os, J_STR, firmware),
        FE(domain_os, fw_secure_boot, 3),
        FE(domain_os, fw_enrolled_keys, 3),
        FE(domain_os, loader_readonly, 3),
        FE(domain_os, loader_secure, 3),
        F(domain_os, J_STR, nvram),
        F(domain_os, J_STR, nvram_template),
        {"boot", J_INTS, JT_NONE, offsetof(struct domain_os, boot),
         offsetof(struct domain_os, n_boot), DOMAIN_BOOT_LAST},
        FE(domain_os, bootmenu, 3),
        F(domain_os, J_BOOL, has_bootmenu_timeout),
        F(domain_os, J_UINT, bootmenu_timeout),
        F(domain_os, J_STR, init),
        F(domain_os, J_STRV, initargs),
        FA(domain_os, initenv, n_initenv, domain_env, JT_ENV),
        F(domain_os, J_STR, initdir),
        F(domain_os, J_STR, inituser),
        F(domain_os, J_STR, initgroup),
        JEND,
};

static const struct jfield j_cap[] = {
        F(domain_cap, J_STR, name),
        F(domain_cap, J_BOOL, on),
        JEND,
};

static const struct jfield j_hyperv[] = {
        F(domain_hyperv, J_BOOL, present),
        FE(domain_hyperv, relaxed, 3),
        FE(domain_hyperv, vapic, 3),
        FE(domain_hyperv, spinlocks, 3),
        FE(domain_hyperv, vpindex, 3),
        FE(domain_hyperv, runtime, 3),
        FE(domain_hyperv, synic, 3),
        FE(domain_hyperv, stimer, 3),
        FE(domain_hyperv, reset, 3),
        FE(domain_hyperv, vendor_id, 3),
        FE(domain_hyperv, frequencies, 3),
        FE(domain_hyperv, reenlightenment, 3),
        FE(domain_hyperv, tlbflush, 3),
        FE(domain_hyperv, ipi, 3),
        FE(domain_hyperv, evmcs, 3),
        F(domain_hyperv, J_UINT, spinlocks_retries),
        F(domain_hyperv, J_STR, vendor_id_value),
        JEND,
};

static const struct jfield j_features[] = {
        F(domain_features, J_BOOL, acpi),
        F(domain_features, J_BOOL, apic),
        F(domain_features, J_BOOL, pae),
        F(domain_features, J_BOOL, hap),
        F(domain_features, J_BOOL, viridian),
        F(domain_features, J_BOOL, privnet),
        FS(domain_features, hyperv, JT_HYPERV),
        FE(domain_features, vmport, 3),
        FE(domain_features, apic_eoi, 3),
        FE(domain_features, pvspinlock, 3),
        F(domain_features, J_BOOL, has_caps),
        FE(domain_features, caps_policy, DOMAIN_CAPS_POLICY_LAST),
        FA(domain_features, caps, n_caps, domain_cap, JT_CAP),
        JEND,
};

static const struct jfield j_cputune[] = {
        F(domain_cputune, J_ULL, shares),
        F(domain_cputune, J_ULL, period),
        F(domain_cputune, J_LL, quota),
        JEND,
};

static const struct jfield j_cpu_feature[] = {
        F(domain_cpu_feature, J_STR, name),
        FE(domain_cpu_feature, policy, DOMAIN_CPU_POLICY_LAST),
        JEND,
};

static const struct jfield j_cpu[] = {
        FE(domain_cpu, mode, DOMAIN_CPU_MODE_LAST),
        FE(domain_cpu, match, DOMAIN_CPU_MATCH_LAST),
        FE(domain_cpu, check, DOMAIN_CPU_CHECK_LAST),
        FE(domain_cpu, migratable, 3),
        F(domain_cpu, J_STR, model),
        FE(domain_cpu, fallback, DOMAIN_CPU_FALLBACK_LAST),
        F(domain_cpu, J_STR, vendor_id),
        F(domain_cpu, J_STR, vendor),
        F(domain_cpu, J_UINT, sockets),
        F(domain_cpu, J_UINT, dies),
        F(domain_cpu, J_UINT, cores),
        F(domain_cpu, J_UINT, threads),
        FA(domain_cpu, features, n_features, domain_cpu_feature, JT_CPU_FEATURE),
        JEND,
};

static const struct jfield j_memtune[] = {
        F(domain_memtune, J_ULL, hard_limit),
        F(domain_memtune, J_ULL, soft_limit),
        F(domain_memtune, J_ULL, swap_hard_limit),
        F(domain_memtune, J_ULL, min_guarantee),
        JEND,
};

static const struct jfield j_blkiotune[] = {
        F(domain_blkiotune, J_UINT, weight),
        JEND,
};

static const struct jfield j_ip[] = {
        F(domain_ip, J_STR, address),
        F(domain_ip, J_STR, family),
        F(domain_ip, J_INT, prefix),
        F(domain_ip, J_STR, peer),
        JEND,
};

static const struct jfield j_route[] = {
        F(domain_route, J_STR, family), F(domain_route, J_STR, address),
        F(domain_route, J_INT, prefix), F(domain_route, J_STR, gateway),
        F(domain_route, J_INT, metric), JEND,
};

static const struct jfield j_fs[] = {
        FE(domain_fs, type, DOMAIN_FS_LAST),
        F(domain_fs, J_STR, accessmode),
        F(domain_fs, J_STR, source),
        F(domain_fs, J_ULL, usage_kib),
        F(domain_fs, J_STR, target),
        F(domain_fs, J_BOOL, readonly),
        F(domain_fs, J_STR, driver_type),
        F(domain_fs, J_STR, driver_format),
        JEND,
};

static const struct jfield j_address[] = {
        F(domain_address, J_STR, type),
        FA(domain_address, attrs, n_attrs, domain_env, JT_ENV),
        F(domain_address, J_STR, alias),
        JEND,
};

static const struct jfield j_disk[] = {
        FE(domain_disk, type, DOMAIN_DISK_TYPE_LAST),
        FE(domain_disk, device, DOMAIN_DISK_DEVICE_LAST),
        F(domain_disk, J_STR, driver_name),
        FE(domain_disk, format, DOMAIN_DISK_FORMAT_LAST),
        F(domain_disk, J_STR, driver_cache),
        F(domain_disk, J_STR, source),
        F(domain_disk, J_STR, backing_source),
        FE(domain_disk, backing_format, DOMAIN_DISK_FORMAT_LAST),
        F(domain_disk, J_STR, target_dev),
        FE(domain_disk, bus, DOMAIN_DISK_BUS_LAST),
        F(domain_disk, J_BOOL, readonly),
        F(domain_disk, J_BOOL, shareable),
        FS(domain_disk, address, JT_ADDRESS),
        JEND,
};

static const struct jfield j_net[] = {
        FE(domain_net, type, DOMAIN_NET_LAST),
        F(domain_net, J_STR, mac),
        F(domain_net, J_STR, mac_type),
        F(domain_net, J_STR, mac_check),
        F(domain_net, J_STR, source),
        F(domain_net, J_STR, model),
        F(domain_net, J_STR, target_dev),
        F(domain_net, J_STR, guest_dev),
        F(domain_net, J_STR, script),
        F(domain_net, J_INT, mtu),
        FA(domain_net, ips, n_ips, domain_ip, JT_IP),
        FA(domain_net, routes, n_routes, domain_route, JT_ROUTE),
        FS(domain_net, address, JT_ADDRESS),
        F(domain_net, J_STR, ifname),
        JEND,
};

static const struct jfield j_chr[] = {
        FE(domain_chr, kind, DOMAIN_CHR_LAST), F(domain_chr, J_STR, source_type),
        F(domain_chr, J_STR, source_path),     F(domain_chr, J_STR, target_type),
        F(domain_chr, J_INT, target_port),     F(domain_chr, J_STR, target_model),
        F(domain_chr, J_STR, alias),           JEND,
};

static const struct jfield j_channel[] = {
        FE(domain_channel, type, DOMAIN_CHANNEL_LAST), F(domain_channel, J_STR, source_path),
        F(domain_channel, J_STR, target_type),         F(domain_channel, J_STR, target_name),
        FS(domain_channel, address, JT_ADDRESS),       JEND,
};

static const struct jfield j_listen[] = {
        F(domain_graphics_listen, J_STR, type),
        F(domain_graphics_listen, J_STR, address),
        JEND,
};

static const struct jfield j_spice_channel[] = {
        F(domain_graphics_channel, J_STR, name),
        F(domain_graphics_channel, J_STR, mode),
        JEND,
};

static const struct jfield j_graphics[] = {
        FE(domain_graphics, type, DOMAIN_GRAPHICS_LAST),
        F(domain_graphics, J_INT, port),
        F(domain_graphics, J_INT, tls_port),
        F(domain_graphics, J_INT, websocket),
        F(domain_graphics, J_BOOL, autoport),
        F(domain_graphics, J_STR, listen),
        FA(domain_graphics, listens, n_listens, domain_graphics_listen, JT_LISTEN),
        F(domain_graphics, J_STR, passwd),
        F(domain_graphics, J_STR, keymap),
        F(domain_graphics, J_STR, defaultmode),
        F(domain_graphics, J_STR, mouse_mode),
        F(domain_graphics, J_STR, clipboard_copypaste),
        F(domain_graphics, J_STR, image_compression),
        FA(domain_graphics, channels, n_channels, domain_graphics_channel, JT_SPICE_CHANNEL),
        F(domain_graphics, J_INT, live_port),
        F(domain_graphics, J_INT, live_tls_port),
        JEND,
};

static const struct jfield j_controller[] = {
        FE(domain_controller, type, DOMAIN_CONTROLLER_LAST),
        F(domain_controller, J_INT, index),
        F(domain_controller, J_STR, model),
        F(domain_controller, J_UINT, ports),
        F(domain_controller, J_STR, model_name),
        F(domain_controller, J_INT, target_chassis),
        F(domain_controller, J_INT, target_port),
        FS(domain_controller, address, JT_ADDRESS),
        JEND,
};

static const struct jfield j_input[] = {
        FE(domain_input, type, DOMAIN_INPUT_LAST),
        FE(domain_input, bus, DOMAIN_INPUT_BUS_LAST),
        FS(domain_input, address, JT_ADDRESS),
        JEND,
};

static const struct jfield j_rng[] = {
        F(domain_rng, J_STR, model),
        F(domain_rng, J_STR, backend_model),
        F(domain_rng, J_STR, backend),
        FS(domain_rng, address, JT_ADDRESS),
        JEND,
};

static const struct jfield j_sound[] = {
        F(domain_sound, J_STR, model),
        F(domain_sound, J_UINT, audio_id),
        FS(domain_sound, address, JT_ADDRESS),
        JEND,
};

static const struct jfield j_redirdev[] = {
        F(domain_redirdev, J_STR, bus),
        F(domain_redirdev, J_STR, type),
        FS(domain_redirdev, address, JT_ADDRESS),
        JEND,
};

static const struct jfield j_audio[] = {
        F(domain_audio, J_UINT, id),
        FE(domain_audio, type, DOMAIN_AUDIO_LAST),
        JEND,
};

static const struct jfield j_video[] = {
        F(domain_video, J_STR, model),
        F(domain_video, J_UINT, vram),
        F(domain_video, J_UINT, ram),
        F(domain_video, J_UINT, vram64),
        F(domain_video, J_UINT, vgamem),
        F(domain_video, J_UINT, heads),
        FE(domain_video, primary, 3),
        FS(domain_video, address, JT_ADDRESS),
        JEND,
};

static const struct jfield j_vcpu[] = {
        F(domain_vcpu_entry, J_UINT, id),
        F(domain_vcpu_entry, J_BOOL, enabled),
        FE(domain_vcpu_entry, hotpluggable, 3),
        F(domain_vcpu_entry, J_INT, order),
        JEND,
};

static const struct jfield j_timer[] = {
        FE(domain_timer, name, DOMAIN_TIMER_LAST),
        FE(domain_timer, tickpolicy, DOMAIN_TIMER_TICKPOLICY_LAST),
        FE(domain_timer, present, 3),
        JEND,
};

static const struct jfield j_def[] = {
        FE(domain_def, type, DOMAIN_TYPE_LAST),
        F(domain_def, J_STR, name),
        F(domain_def, J_UUID, uuid),
        F(domain_def, J_STR, title),
        F(domain_def, J_STR, description),
        F(domain_def, J_STR, metadata_xml),
        F(domain_def, J_ULL, memory_kib),
        F(domain_def, J_ULL, current_memory_kib),
        F(domain_def, J_ULL, max_memory_kib),
        F(domain_def, J_UINT, max_memory_slots),
        F(domain_def, J_UINT, vcpus),
        F(domain_def, J_UINT, vcpus_current),
        F(domain_def, J_STR, vcpu_placement),
        F(domain_def, J_STR, vcpu_cpuset),
        FA(domain_def, vcpu_entries, n_vcpu_entries, domain_vcpu_entry, JT_VCPU),
        F(domain_def, J_STR, bootloader),
        F(domain_def, J_STR, bootloader_args),
        FS(domain_def, os, JT_OS),
        FS(domain_def, features, JT_FEATURES),
        FA(domain_def, uidmap, n_uidmap, domain_idmap, JT_IDMAP),
        FA(domain_def, gidmap, n_gidmap, domain_idmap, JT_IDMAP),
        F(domain_def, J_BOOL, has_cputune),
        FS(domain_def, cputune, JT_CPUTUNE),
        F(domain_def, J_BOOL, has_memtune),
        FS(domain_def, memtune, JT_MEMTUNE),
        F(domain_def, J_BOOL, has_blkiotune),
        F(domain_def, J_BOOL, mem_nosharepages),
        F(domain_def, J_BOOL, mem_locked),
        FS(domain_def, blkiotune, JT_BLKIOTUNE),
        F(domain_def, J_STR, resource_partition),
        FE(domain_def, clock_offset, DOMAIN_CLOCK_LAST),
        F(domain_def, J_STR, clock_adjustment),
        F(domain_def, J_STR, clock_basis),
        F(domain_def, J_STR, clock_timezone),
        FS(domain_def, cpu, JT_CPU),
        FA(domain_def, timers, n_timers, domain_timer, JT_TIMER),
        FE(domain_def, on_poweroff, DOMAIN_LIFECYCLE_LAST),
        FE(domain_def, on_reboot, DOMAIN_LIFECYCLE_LAST),
        FE(domain_def, on_crash, DOMAIN_LIFECYCLE_LAST),
        FE(domain_def, pm_suspend_to_mem, 3),
        FE(domain_def, pm_suspend_to_disk, 3),
        F(domain_def, J_STR, seclabel_type),
        F(domain_def, J_STR, emulator),
        FA(domain_def, filesystems, n_filesystems, domain_fs, JT_FS),
        FA(domain_def, disks, n_disks, domain_disk, JT_DISK),
        FA(domain_def, nets, n_nets, domain_net, JT_NET),
        FA(domain_def, chrs, n_chrs, domain_chr, JT_CHR),
        FA(domain_def, channels, n_channels, domain_channel, JT_CHANNEL),
        FA(domain_def, graphics, n_graphics, domain_graphics, JT_GRAPHICS),
        FA(domain_def, controllers, n_controllers, domain_controller, JT_CONTROLLER),
        FA(domain_def, inputs, n_inputs, domain_input, JT_INPUT),
        FA(domain_def, videos, n_videos, domain_video, JT_VIDEO),
        F(domain_def, J_STR, memballoon_model),
        FS(domain_def, memballoon_address, JT_ADDRESS),
        FA(domain_def, rngs, n_rngs, domain_rng, JT_RNG),
        FA(domain_def, audios, n_audios, domain_audio, JT_AUDIO),
        FA(domain_def, sounds, n_sounds, domain_sound, JT_SOUND),
        FA(domain_def, redirdevs, n_redirdevs, domain_redirdev, JT_REDIRDEV),
        JEND,
};

static const struct jfield *jtable(unsigned t)
{
        switch ((enum jtable)t) {
        case JT_ENV:
                return j_env;
        case JT_IDMAP:
                return j_idmap;
        case JT_OS:
                return j_os;
        case JT_CAP:
                return j_cap;
        case JT_FEATURES:
                return j_features;
        case JT_CPUTUNE:
                return j_cputune;
        case JT_CPU:
                return j_cpu;
        case JT_CPU_FEATURE:
                return j_cpu_feature;
        case JT_MEMTUNE:
                return j_memtune;
        case JT_BLKIOTUNE:
                return j_blkiotune;
        case JT_IP:
                return j_ip;
        case JT_ROUTE:
                return j_route;
        case JT_FS:
                return j_fs;
        case JT_ADDRESS:
                return j_address;
        case JT_DISK:
                return j_disk;
        case JT_NET:
                return j_net;
        case JT_CHR:
                return j_chr;
        case JT_CHANNEL:
                return j_channel;
        case JT_RNG:
                return j_rng;
        case JT_HYPERV:
                return j_hyperv;
        case JT_SOUND:
                return j_sound;
        case JT_REDIRDEV:
                return j_redirdev;
        case JT_AUDIO:
                return j_audio;
        case JT_LISTEN:
                return j_listen;
        case JT_SPICE_CHANNEL:
                return j_spice_channel;
        case JT_GRAPHICS:
                return j_graphics;
        case JT_CONTROLLER:
                return j_controller;
        case JT_INPUT:
                return j_input;
        case JT_VIDEO:
                return j_video;
        case JT_VCPU:
                return j_vcpu;
        case JT_TIMER:
                return j_timer;
        case JT_DEF:
                return j_def;
        case JT_NONE:
                break;
        }
        return NULL;
}

#define AT(base, off, T)  ((T *)(void *)((char *)(base) + (off)))
#define CAT(base, off, T) ((const T *)(const void *)((const char *)(base) + (off)))

static json_object *struct_to_json(const void *p, const struct jfield *fields)
{
        json_object *o = json_object_new_object();
        for (const struct jfield *f = fields; f->name[0]; f++) {
                json_object *v = NULL;
                switch (f->kind) {
                case J_STR: {
                        const char *s = *CAT(p, f->off, char *const);
                        if (!s)
                                continue;
                        v = json_object_new_string(s);
                        break;
                }
                case J_BOOL:
                        v = json_object_new_boolean(*CAT(p, f->off, bool));
                        break;
                case J_INT:
                        v = json_object_new_int64(*CAT(p, f->off, int));
                        break;
                case J_UINT:
                        v = json_object_new_int64(*CAT(p, f->off, unsigned));
                        break;
                case J_ULL:
                        v = json_object_new_uint64(*CAT(p, f->off, unsigned long long));
                        break;
                case J_LL:
                        v = json_object_new_int64(*CAT(p, f->off, long long));
                        break;
                case J_UUID: {
                        char s[37];
                        domain_uuid_format(CAT(p, f->off, unsigned char), s);
                        v = json_object_new_string(s);
                        break;
                }
                case J_STRV: {
                        char *const *sv = *(char **const *)(const void *)((const char *)p + f->off);
                        if (!sv)
                                continue;
                        v = json_object_new_array();
                        for (; *sv; sv++)
                                json_object_array_add(v, json_object_new_string(*sv));
                        break;
                }
                case J_STRUCT:
                        v = struct_to_json(CAT(p, f->off, char), jtable(f->sub));
                        break;
                case J_ARRAY: {
                        const char *arr = *CAT(p, f->off, const char *const);
                        int n = *CAT(p, f->count_off, int);
                        v = json_object_new_array();
                        for (int i = 0; i < n && arr; i++)
                                json_object_array_add(v, struct_to_json(arr + (size_t)i * f->size,
                                                                        jtable(f->sub)));
                        break;
                }
                case J_INTS: {
                        const int *arr = CAT(p, f->off, int);
                        int n = *CAT(p, f->count_off, int);
                        v = json_object_new_array();
                        for (int i = 0; i < n && i < (int)f->size; i++)
                                json_object_array_add(v, json_object_new_int(arr[i]));
                        break;
                }
                }
                json_object_object_add(o, f->name, v);
        }
        return o;
}

char *domain_to_json(const struct domain_def *def)
{
        json_object *o = struct_to_json(def, j_def);
        char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return s;
}

static int bad(struct lv_error **err, const char *path, const char *name, const char *what)
{
        return lv_error_setf(err, EINVAL, "domain JSON: member '%s%s%s': %s", path,
                             *path ? "." : "", name, what);
}

static int int_get(json_object *v, long long min, long long max, long long *ret)
{
        if (!json_object_is_type(v, json_type_int))
                return -1;
        errno = 0;
        long long x = json_object_get_int64(v);
        if (errno != 0 || x < min || x > max)
                return -1;
        *ret = x;
        return 0;
}

static int struct_from_json(json_object *o, void *p, const struct jfield *fields, const char *path,
                            int depth, struct lv_error **err);

static int field_from_json(json_object *v, void *p, const struct jfield *f, const char *path,
                           int depth, struct lv_error **err)
{
        long long x;
        switch (f->kind) {
        case J_STR:
                if (!json_object_is_type(v, json_type_string))
                        return bad(err, path, f->name, "not a string");
                if (memchr(json_object_get_string(v), '\0', (size_t)json_object_get_string_len(v)))
                        return bad(err, path, f->name, "string holds a NUL byte");
                *AT(p, f->off, char *) = xstrdup(json_object_get_string(v));
                return 0;
        case J_BOOL:
                if (!json_object_is_type(v, json_type_boolean))
                        return bad(err, path, f->name, "not a boolean");
                *AT(p, f->off, bool) = json_object_get_boolean(v);
                return 0;
        case J_INT:
                if (f->size > 0 ? int_get(v, 0, (long long)f->size - 1, &x) < 0
                                : int_get(v, INT32_MIN, INT32_MAX, &x) < 0)
                        return bad(err, path, f->name,
                                   f->size > 0 ? "not a known value" : "not an int");
                *AT(p, f->off, int) = (int)x;
                return 0;
        case J_UINT:
                if (int_get(v, 0, UINT32_MAX, &x) < 0)
                        return bad(err, path, f->name, "not an unsigned int");
                *AT(p, f->off, unsigned) = (unsigned)x;
                return 0;
        case J_ULL:
                /* json-c keeps values above INT64_MAX as uint64: get_int64
                 * is negative only for a negative number */
                if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
                        return bad(err, path, f->name, "not an unsigned number");
                errno = 0;
                *AT(p, f->off, unsigned long long) = json_object_get_uint64(v);
                if (errno != 0)
                        return bad(err, path, f->name, "out of range");
                return 0;
        case J_LL:
                if (int_get(v, INT64_MIN, INT64_MAX, &x) < 0)
                        return bad(err, path, f->name, "not a number");
                *AT(p, f->off, long long) = x;
                return 0;
        case J_UUID:
                if (!json_object_is_type(v, json_type_string) ||
                    domain_uuid_parse(json_object_get_string(v), AT(p, f->off, unsigned char)) < 0)
                        return bad(err, path, f->name, "not a UUID");
                return 0;
        case J_STRV: {
                if (!json_object_is_type(v, json_type_array))
                        return bad(err, path, f->name, "not an array");
                size_t n = json_object_array_length(v);
                if (n > JSON_ARRAY_MAX)
                        return bad(err, path, f->name, "too many entries");
                char **sv = xcalloc(n + 1, sizeof(*sv));
                *AT(p, f->off, char **) = sv;
                for (size_t i = 0; i < n; i++) {
                        json_object *s = json_object_array_get_idx(v, i);
                        if (!json_object_is_type(s, json_type_string))
                                return bad(err, path, f->name, "entry not a string");
                        sv[i] = xstrdup(json_object_get_string(s));
                }
                return 0;
        }
        case J_STRUCT: {
                _cleanup_free_ char *sub = xasprintf("%s%s%s", path, *path ? "." : "", f->name);
                return struct_from_json(v, AT(p, f->off, char), jtable(f->sub), sub, depth + 1,
                                        err);
        }
        case J_ARRAY: {
                if (!json_object_is_type(v, json_type_array))
                        return bad(err, path, f->name, "not an array");
                size_t n = json_object_array_length(v);
                if (n > JSON_ARRAY_MAX)
                        return bad(err, path, f->name, "too many entries");
                if (n == 0)
                        return 0;
                char *arr = xcalloc(n, f->size);
                *AT(p, f->off, char *) = arr;
                /* counted as filled so far: domain_def_free frees what is there */
                for (size_t i = 0; i < n; i++) {
                        *AT(p, f->count_off, int) = (int)i + 1;
                        _cleanup_free_ char *sub =
                                xasprintf("%s%s%s[%zu]", path, *path ? "." : "", f->name, i);
                        int r = struct_from_json(json_object_array_get_idx(v, i), arr + i * f->size,
                                                 jtable(f->sub), sub, depth + 1, err);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        case J_INTS: {
                if (!json_object_is_type(v, json_type_array))
                        return bad(err, path, f->name, "not an array");
                size_t n = json_object_array_length(v);
                if (n > f->size)
                        return bad(err, path, f->name, "too many entries");
                int *arr = AT(p, f->off, int);
                for (size_t i = 0; i < n; i++) {
                        if (int_get(json_object_array_get_idx(v, i), 0, (long long)f->size - 1,
                                    &x) < 0)
                                return bad(err, path, f->name, "entry not an int");
                        arr[i] = (int)x;
                }
                *AT(p, f->count_off, int) = (int)n;
                return 0;
        }
        }
        return bad(err, path, f->name, "unknown kind");
}

static int struct_from_json(json_object *o, void *p, const struct jfield *fields, const char *path,
                            int depth, struct lv_error **err)
{
        if (depth > 8)
                return lv_error_setf(err, EINVAL, "domain JSON: '%s': nested too deep", path);
        if (!json_object_is_type(o, json_type_object))
                return lv_error_setf(err, EINVAL, "domain JSON: '%s': not an object",
                                     *path ? path : "(top)");
        json_object_object_foreach(o, key, val)
        {
                const struct jfield *f = fields;
                while (f->name[0] && !streq(f->name, key))
                        f++;
                if (!f->name[0])
                        return bad(err, path, key, "unknown member");
                int r = field_from_json(val, p, f, path, depth, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int domain_from_json(const char *json, size_t len, struct domain_def **ret, struct lv_error **err)
{
        if (len > DOMAIN_JSON_MAX_BYTES)
                return lv_error_setf(err, EFBIG, "domain JSON: %zu bytes, more than %d", len,
                                     DOMAIN_JSON_MAX_BYTES);
        json_tokener *tok = json_tokener_new_ex(32);
        if (!tok)
                return lv_error_setf(err, ENOMEM, "domain JSON: cannot create a parser");
        json_object *o = json_tokener_parse_ex(tok, json, (int)len);
        enum json_tokener_error je = json_tokener_get_error(tok);
        size_t used = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!o || je != json_tokener_success || used != len) {
                json_object_put(o);
                return lv_error_setf(err, EINVAL, "domain JSON: malformed at byte %zu: %s", used,
                                     json_tokener_error_desc(je == json_tokener_success
                                                                     ? json_tokener_error_parse_eof
                                                                     : je));
        }
        struct domain_def *def = xcalloc(1, sizeof(*def));
        int r = struct_from_json(o, def, j_def, "", 0, err);
        json_object_put(o);
        if (r < 0) {
                domain_def_free(def);
                return r;
        }
        *ret = def;
        return 0;
}

int domain_json_read_file(const char *path, struct domain_def **ret, struct lv_error **err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = file_read_bounded(path, DOMAIN_JSON_MAX_BYTES, &data, &len, err);
        if (r < 0)
                return r;
        struct domain_def *def = NULL;
        r = domain_from_json(data, len, &def, err);
        if (r >= 0 && (r = domain_validate(def, err)) < 0)
                domain_def_free(def);
        if (r < 0)
                return lv_error_prefix(err, "'%s'", path);
        *ret = def;
        return 0;
}

/* ---- the model cache ---- */

static char *cache_key(const struct stat *st)
{
        return xasprintf("litevirt-model %s/%zu %llu %llu %lld %lld.%09ld %lld.%09ld\n", LV_VERSION,
                         sizeof(struct domain_def), (unsigned long long)st->st_dev,
                         (unsigned long long)st->st_ino, (long long)st->st_size,
                         (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
                         (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

bool domain_json_cache_read(const char *cache_path, const char *xml_path, struct domain_def **ret)
{
        struct stat st;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        if (stat(xml_path, &st) < 0 ||
            file_read_bounded(cache_path, DOMAIN_JSON_MAX_BYTES + 256, &data, &len, NULL) < 0)
                return false;
        _cleanup_free_ char *key = cache_key(&st);
        size_t kl = strlen(key);
        if (len < kl || memcmp(data, key, kl) != 0)
                return false;
        struct domain_def *def = NULL;
        if (domain_from_json(data + kl, len - kl, &def, NULL) < 0)
                return false;
        if (domain_validate(def, NULL) < 0) {
                domain_def_free(def);
                return false;
        }
        *ret = def;
        return true;
}

bool domain_json_cache_write(const char *cache_path, const struct stat *xml_st,
                             const struct domain_def *def)
{
        _cleanup_free_ char *dir = xstrdup(cache_path);
        char *slash = strrchr(dir, '/');
        if (slash)
                *slash = '\0';
        _cleanup_free_ char *key = cache_key(xml_st);
        _cleanup_free_ char *json = domain_to_json(def);
        _cleanup_free_ char *data = xasprintf("%s%s", key, json);
        return (!slash || mkdir_p(dir, 0700, NULL) == 0) &&
               file_write_replace(cache_path, data, strlen(data), 0600, NULL) == 0;
}

bool domain_json_peek_uuid(const char *path, unsigned char uuid[16])
{
        /* type, a name of at most DOMAIN_NAME_MAX bytes (escaped: up to
         * six each), then the uuid */
        char buf[128 + 6 * DOMAIN_NAME_MAX];
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        static const char key[] = "\"uuid\":\"";
        char *u = strstr(buf, key);
        if (!u)
                return false;
        u += strlen(key);
        char *end = strchr(u, '"');
        if (!end)
                return false;
        *end = '\0';
        return domain_uuid_parse(u, uuid) == 0;
}
