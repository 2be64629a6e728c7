/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The domain model's helpers: free, compare, uuids, MACs, memory units. */
#include <ctype.h>
#include <inttypes.h>
#include <strings.h>
#include <sys/random.h>

#include "conf/domain.h"

static void address_clear(struct domain_address *a)
{
        free(a->type);
        for (int i = 0; i < a->n_attrs; i++) {
                free(a->attrs[i].name);
                free(a->attrs[i].value);
        }
        free(a->attrs);
        free(a->alias);
}

static void env_free(struct domain_env *e, int n)
{
        for (int i = 0; i < n; i++) {
                free(e[i].name);
                free(e[i].value);
        }
        free(e);
}

static void os_clear(struct domain_os *os)
{
        free(os->arch);
        free(os->machine);
        free(os->kernel);
        free(os->initrd);
        free(os->cmdline);
        free(os->loader);
        free(os->loader_type);
        free(os->firmware);
        free(os->nvram);
        free(os->nvram_template);
        free(os->init);
        strv_free(os->initargs);
        env_free(os->initenv, os->n_initenv);
        free(os->initdir);
        free(os->inituser);
        free(os->initgroup);
}

static void net_clear(struct domain_net *n)
{
        free(n->mac);
        free(n->mac_type);
        free(n->mac_check);
        free(n->source);
        free(n->model);
        free(n->target_dev);
        free(n->guest_dev);
        free(n->ifname);
        free(n->script);
        free(n->network_bridge);
        for (int i = 0; i < n->n_ips; i++) {
                free(n->ips[i].address);
                free(n->ips[i].family);
                free(n->ips[i].peer);
        }
        free(n->ips);
        for (int i = 0; i < n->n_routes; i++) {
                free(n->routes[i].family);
                free(n->routes[i].address);
                free(n->routes[i].gateway);
        }
        free(n->routes);
        address_clear(&n->address);
}

static void graphics_clear(struct domain_graphics *g)
{
        free(g->listen);
        for (int i = 0; i < g->n_listens; i++) {
                free(g->listens[i].type);
                free(g->listens[i].address);
        }
        free(g->listens);
        free(g->passwd);
        free(g->keymap);
        free(g->defaultmode);
        free(g->mouse_mode);
        free(g->clipboard_copypaste);
        free(g->image_compression);
        for (int i = 0; i < g->n_channels; i++) {
                free(g->channels[i].name);
                free(g->channels[i].mode);
        }
        free(g->channels);
}

void domain_disk_clear(struct domain_disk *d)
{
        free(d->driver_name);
        free(d->driver_cache);
        free(d->source);
        free(d->backing_source);
        free(d->target_dev);
        address_clear(&d->address);
        *d = (struct domain_disk){0};
}

int domain_disk_find(const struct domain_def *def, const char *target_or_source)
{
        for (int i = 0; i < def->n_disks; i++)
                if (streq(def->disks[i].target_dev, target_or_source))
                        return i;
        for (int i = 0; i < def->n_disks; i++)
                if (def->disks[i].source && streq(def->disks[i].source, target_or_source))
                        return i;
        return -1;
}

void domain_disk_add_take(struct domain_def *def, struct domain_disk *d)
{
        def->disks = xrealloc(def->disks, sizeof(*def->disks) * (size_t)(def->n_disks + 1));
        def->disks[def->n_disks++] = *d;
        *d = (struct domain_disk){0};
}

void domain_disk_remove(struct domain_def *def, int i)
{
        domain_disk_clear(&def->disks[i]);
        memmove(&def->disks[i], &def->disks[i + 1],
                sizeof(*def->disks) * (size_t)(def->n_disks - i - 1));
        def->n_disks--;
}

int domain_net_find(const struct domain_def *def, const char *mac)
{
        for (int i = 0; i < def->n_nets; i++)
                if (def->nets[i].mac && !strcasecmp(def->nets[i].mac, mac))
                        return i;
        return -1;
}

void domain_net_add_take(struct domain_def *def, struct domain_net *n)
{
        def->nets = xrealloc(def->nets, sizeof(*def->nets) * (size_t)(def->n_nets + 1));
        def->nets[def->n_nets++] = *n;
        *n = (struct domain_net){0};
}

static void fs_clear(struct domain_fs *fs)
{
        free(fs->accessmode);
        free(fs->source);
        free(fs->target);
        free(fs->driver_type);
        free(fs->driver_format);
}

int domain_fs_find(const struct domain_def *def, const char *target)
{
        for (int i = 0; target && i < def->n_filesystems; i++)
                if (def->filesystems[i].target && streq(def->filesystems[i].target, target))
                        return i;
        return -1;
}

void domain_fs_add_take(struct domain_def *def, struct domain_fs *fs)
{
        def->filesystems = xrealloc(def->filesystems,
                                    sizeof(*def->filesystems) * (size_t)(def->n_filesystems + 1));
        def->filesystems[def->n_filesystems++] = *fs;
        *fs = (struct domain_fs){0};
}

void domain_fs_remove(struct domain_def *def, int i)
{
        fs_clear(&def->filesystems[i]);
        memmove(&def->filesystems[i], &def->filesystems[i + 1],
                sizeof(*def->filesystems) * (size_t)(def->n_filesystems - i - 1));
        def->n_filesystems--;
}

void domain_net_remove(struct domain_def *def, int i)
{
        net_clear(&def->nets[i]);
        memmove(&def->nets[i], &def->nets[i + 1],
                sizeof(*def->nets) * (size_t)(def->n_nets - i - 1));
        def->n_nets--;
}

void domain_def_free(struct domain_def *def)
{
        if (!def)
                return;
        free(def->name);
        free(def->title);
        free(def->description);
        free(def->metadata_xml);
        free(def->vcpu_placement);
        free(def->vcpu_cpuset);
        free(def->vcpu_entries);
        free(def->timers);
        free(def->cpu.model);
        free(def->cpu.vendor_id);
        free(def->cpu.vendor);
        for (int i = 0; i < def->cpu.n_features; i++)
                free(def->cpu.features[i].name);
        free(def->cpu.features);
        free(def->bootloader);
        free(def->bootloader_args);
        os_clear(&def->os);
        for (int i = 0; i < def->features.n_caps; i++)
                free(def->features.caps[i].name);
        free(def->features.caps);
        free(def->features.hyperv.vendor_id_value);
        free(def->uidmap);
        free(def->gidmap);
        free(def->resource_partition);
        free(def->clock_adjustment);
        free(def->clock_basis);
        free(def->clock_timezone);
        free(def->seclabel_type);
        free(def->emulator);
        for (int i = 0; i < def->n_filesystems; i++)
                fs_clear(&def->filesystems[i]);
        free(def->filesystems);
        for (int i = 0; i < def->n_disks; i++)
                domain_disk_clear(&def->disks[i]);
        free(def->disks);
        for (int i = 0; i < def->n_nets; i++)
                net_clear(&def->nets[i]);
        free(def->nets);
        for (int i = 0; i < def->n_chrs; i++) {
                struct domain_chr *c = &def->chrs[i];
                free(c->source_type);
                free(c->source_path);
                free(c->target_type);
                free(c->target_model);
                free(c->alias);
        }
        free(def->chrs);
        for (int i = 0; i < def->n_channels; i++) {
                struct domain_channel *c = &def->channels[i];
                free(c->source_path);
                free(c->target_type);
                free(c->target_name);
                address_clear(&c->address);
        }
        free(def->channels);
        for (int i = 0; i < def->n_graphics; i++)
                graphics_clear(&def->graphics[i]);
        free(def->graphics);
        for (int i = 0; i < def->n_controllers; i++) {
                free(def->controllers[i].model);
                free(def->controllers[i].model_name);
                address_clear(&def->controllers[i].address);
        }
        free(def->controllers);
        for (int i = 0; i < def->n_inputs; i++)
                address_clear(&def->inputs[i].address);
        free(def->inputs);
        for (int i = 0; i < def->n_rngs; i++) {
                free(def->rngs[i].model);
                free(def->rngs[i].backend_model);
                free(def->rngs[i].backend);
                address_clear(&def->rngs[i].address);
        }
        free(def->rngs);
        free(def->audios);
        for (int i = 0; i < def->n_sounds; i++) {
                free(def->sounds[i].model);
                address_clear(&def->sounds[i].address);
        }
        free(def->sounds);
        for (int i = 0; i < def->n_redirdevs; i++) {
                free(def->redirdevs[i].bus);
                free(def->redirdevs[i].type);
                address_clear(&def->redirdevs[i].address);
        }
        free(def->redirdevs);
        for (int i = 0; i < def->n_videos; i++) {
                free(def->videos[i].model);
                address_clear(&def->videos[i].address);
        }
        free(def->videos);
        free(def->memballoon_model);
        address_clear(&def->memballoon_address);
        free(def);
}

/* ---- equality: field by field, so that a field the formatter forgets
 * shows up as a difference in round-trip tests ---- */

#define EQ(f)  (a->f == b->f)
#define EQS(f) streq_ptr(a->f, b->f)

static bool address_equal(const struct domain_address *a, const struct domain_address *b)
{
        if (!EQS(type) || !EQ(n_attrs))
                return false;
        for (int i = 0; i < a->n_attrs; i++)
                if (!streq_ptr(a->attrs[i].name, b->attrs[i].name) ||
                    !streq_ptr(a->attrs[i].value, b->attrs[i].value))
                        return false;
        return true;
}

static bool os_equal(const struct domain_os *a, const struct domain_os *b)
{
        if (!EQ(type) || !EQS(arch) || !EQS(machine) || !EQS(kernel) || !EQS(initrd) ||
            !EQS(cmdline) || !EQS(loader) || !EQS(loader_type) || !EQS(firmware) ||
            !EQ(fw_secure_boot) || !EQ(fw_enrolled_keys) || !EQ(loader_readonly) ||
            !EQ(loader_secure) || !EQS(nvram) || !EQS(nvram_template) || !EQ(n_boot) ||
            !EQ(bootmenu) || !EQ(has_bootmenu_timeout) || !EQ(bootmenu_timeout) || !EQS(init) ||
            !EQS(initdir) || !EQS(inituser) || !EQS(initgroup) || !EQ(n_initenv))
                return false;
        for (int i = 0; i < a->n_boot; i++)
                if (a->boot[i] != b->boot[i])
                        return false;
        if (strv_length(a->initargs) != strv_length(b->initargs))
                return false;
        for (size_t i = 0; a->initargs && a->initargs[i]; i++)
                if (!streq(a->initargs[i], b->initargs[i]))
                        return false;
        for (int i = 0; i < a->n_initenv; i++)
                if (!streq_ptr(a->initenv[i].name, b->initenv[i].name) ||
                    !streq_ptr(a->initenv[i].value, b->initenv[i].value))
                        return false;
        return true;
}

static bool features_equal(const struct domain_features *a, const struct domain_features *b)
{
        if (!EQ(acpi) || !EQ(apic) || !EQ(pae) || !EQ(hap) || !EQ(viridian) || !EQ(privnet) ||
            !EQ(vmport) || !EQ(apic_eoi) || !EQ(pvspinlock) || !EQ(has_caps) || !EQ(caps_policy) ||
            !EQ(n_caps) || !EQ(hyperv.present) || !EQ(hyperv.spinlocks_retries) ||
            !streq_ptr(a->hyperv.vendor_id_value, b->hyperv.vendor_id_value))
                return false;
        for (size_t i = 0; i < domain_hyperv_n_flags; i++)
                if (domain_hyperv_get(&a->hyperv, i) != domain_hyperv_get(&b->hyperv, i))
                        return false;
        for (int i = 0; i < a->n_caps; i++)
                if (!streq_ptr(a->caps[i].name, b->caps[i].name) || a->caps[i].on != b->caps[i].on)
                        return false;
        return true;
}

static bool cpu_equal(const struct domain_cpu *a, const struct domain_cpu *b)
{
        if (!EQ(mode) || !EQ(match) || !EQ(check) || !EQ(migratable) || !EQS(model) ||
            !EQ(fallback) || !EQS(vendor_id) || !EQS(vendor) || !EQ(sockets) || !EQ(dies) ||
            !EQ(cores) || !EQ(threads) || !EQ(n_features))
                return false;
        for (int i = 0; i < a->n_features; i++)
                if (!streq_ptr(a->features[i].name, b->features[i].name) ||
                    a->features[i].policy != b->features[i].policy)
                        return false;
        return true;
}

static bool idmap_equal(const struct domain_idmap *a, int na, const struct domain_idmap *b, int nb)
{
        if (na != nb)
                return false;
        for (int i = 0; i < na; i++)
                if (a[i].start != b[i].start || a[i].target != b[i].target ||
                    a[i].count != b[i].count)
                        return false;
        return true;
}

/* libvirt's default access mode, which it writes out: none given is it */
static const char *fs_accessmode(const struct domain_fs *fs)
{
        return fs->accessmode ? fs->accessmode : "passthrough";
}

static bool fs_equal(const struct domain_fs *a, const struct domain_fs *b)
{
        return EQ(type) && streq(fs_accessmode(a), fs_accessmode(b)) && EQS(source) &&
               EQ(usage_kib) && EQS(target) && EQ(readonly) && EQS(driver_type) &&
               EQS(driver_format);
}

static bool disk_equal(const struct domain_disk *a, const struct domain_disk *b)
{
        return EQ(type) && EQ(device) && EQS(driver_name) && EQ(format) && EQS(driver_cache) &&
               EQS(source) && EQS(backing_source) && EQ(backing_format) && EQS(target_dev) &&
               EQ(bus) && EQ(readonly) && EQ(shareable) && address_equal(&a->address, &b->address);
}

static bool net_equal(const struct domain_net *a, const struct domain_net *b)
{
        if (!EQ(type) || !EQS(mac) || !EQS(mac_type) || !EQS(mac_check) || !EQS(source) ||
            !EQS(model) || !EQS(target_dev) || !EQS(guest_dev) || !EQS(script) || !EQ(mtu) ||
            !EQ(n_ips) || !EQ(n_routes) || !address_equal(&a->address, &b->address))
                return false;
        for (int i = 0; i < a->n_ips; i++) {
                const struct domain_ip *x = &a->ips[i], *y = &b->ips[i];
                if (!streq_ptr(x->address, y->address) || !streq_ptr(x->family, y->family) ||
                    x->prefix != y->prefix || !streq_ptr(x->peer, y->peer))
                        return false;
        }
        for (int i = 0; i < a->n_routes; i++) {
                const struct domain_route *x = &a->routes[i], *y = &b->routes[i];
                if (!streq_ptr(x->family, y->family) || !streq_ptr(x->address, y->address) ||
                    x->prefix != y->prefix || !streq_ptr(x->gateway, y->gateway) ||
                    x->metric != y->metric)
                        return false;
        }
        return true;
}

static bool chr_equal(const struct domain_chr *a, const struct domain_chr *b)
{
        return EQ(kind) && EQS(source_type) && EQS(source_path) && EQS(target_type) &&
               EQ(target_port) && EQS(target_model);
}

static bool channel_equal(const struct domain_channel *a, const struct domain_channel *b)
{
        return EQ(type) && EQS(source_path) && EQS(target_type) && EQS(target_name) &&
               address_equal(&a->address, &b->address);
}

static bool rng_equal(const struct domain_rng *a, const struct domain_rng *b)
{
        return EQS(model) && EQS(backend_model) && EQS(backend) &&
               address_equal(&a->address, &b->address);
}

static bool sound_equal(const struct domain_sound *a, const struct domain_sound *b)
{
        return EQS(model) && EQ(audio_id) && address_equal(&a->address, &b->address);
}

static bool redirdev_equal(const struct domain_redirdev *a, const struct domain_redirdev *b)
{
        return EQS(bus) && EQS(type) && address_equal(&a->address, &b->address);
}

static bool graphics_equal(const struct domain_graphics *a, const struct domain_graphics *b)
{
        if (!EQ(type) || !EQ(port) || !EQ(tls_port) || !EQ(websocket) || !EQ(autoport) ||
            !EQS(listen) || !EQ(n_listens) || !EQS(passwd) || !EQS(keymap) || !EQS(defaultmode) ||
            !EQS(mouse_mode) || !EQS(clipboard_copypaste) || !EQS(image_compression) ||
            !EQ(n_channels))
                return false;
        for (int i = 0; i < a->n_channels; i++)
                if (!streq(a->channels[i].name, b->channels[i].name) ||
                    !streq(a->channels[i].mode, b->channels[i].mode))
                        return false;
        for (int i = 0; i < a->n_listens; i++)
                if (!streq_ptr(a->listens[i].type, b->listens[i].type) ||
                    !streq_ptr(a->listens[i].address, b->listens[i].address))
                        return false;
        return true;
}

#define EQ_ARRAY(arr, n, fn)                                                                       \
        do {                                                                                       \
                if (a->n != b->n)                                                                  \
                        return false;                                                              \
                for (int i_ = 0; i_ < a->n; i_++)                                                  \
                        if (!fn(&a->arr[i_], &b->arr[i_]))                                         \
                                return false;                                                      \
        } while (0)

bool domain_def_equal(const struct domain_def *a, const struct domain_def *b)
{
        if (!a || !b)
                return a == b;
        if (!EQ(type) || !EQS(name) || memcmp(a->uuid, b->uuid, 16) != 0 || !EQS(title) ||
            !EQS(description) || !EQS(metadata_xml) || !EQ(memory_kib) || !EQ(current_memory_kib) ||
            !EQ(max_memory_kib) || !EQ(max_memory_slots) || !EQ(vcpus) || !EQ(vcpus_current) ||
            !EQS(vcpu_placement) || !EQS(vcpu_cpuset) || !EQ(n_vcpu_entries) || !EQS(bootloader) ||
            !EQS(bootloader_args) || !os_equal(&a->os, &b->os) ||
            !features_equal(&a->features, &b->features) ||
            !idmap_equal(a->uidmap, a->n_uidmap, b->uidmap, b->n_uidmap) ||
            !idmap_equal(a->gidmap, a->n_gidmap, b->gidmap, b->n_gidmap) || !EQ(has_cputune) ||
            !EQ(has_memtune) || !EQ(has_blkiotune) || !EQ(mem_nosharepages) || !EQ(mem_locked) ||
            !EQS(resource_partition) || !EQ(clock_offset) || !EQS(clock_adjustment) ||
            !EQS(clock_basis) || !EQS(clock_timezone) || !cpu_equal(&a->cpu, &b->cpu) ||
            !EQ(n_timers) ||
            (a->n_timers &&
             memcmp(a->timers, b->timers, sizeof(*a->timers) * (size_t)a->n_timers)) ||
            !EQ(on_poweroff) || !EQ(on_reboot) || !EQ(on_crash) || !EQ(pm_suspend_to_mem) ||
            !EQ(pm_suspend_to_disk) || !EQS(seclabel_type) || !EQS(emulator) ||
            !EQS(memballoon_model) ||
            !address_equal(&a->memballoon_address, &b->memballoon_address))
                return false;
        for (int i = 0; i < a->n_vcpu_entries; i++) {
                const struct domain_vcpu_entry *x = &a->vcpu_entries[i], *y = &b->vcpu_entries[i];
                if (x->id != y->id || x->enabled != y->enabled ||
                    x->hotpluggable != y->hotpluggable || x->order != y->order)
                        return false;
        }
        if (a->has_cputune && (!EQ(cputune.shares) || !EQ(cputune.period) || !EQ(cputune.quota)))
                return false;
        if (a->has_memtune && (!EQ(memtune.hard_limit) || !EQ(memtune.soft_limit) ||
                               !EQ(memtune.swap_hard_limit) || !EQ(memtune.min_guarantee)))
                return false;
        if (a->has_blkiotune && !EQ(blkiotune.weight))
                return false;
        EQ_ARRAY(filesystems, n_filesystems, fs_equal);
        EQ_ARRAY(disks, n_disks, disk_equal);
        EQ_ARRAY(nets, n_nets, net_equal);
        EQ_ARRAY(chrs, n_chrs, chr_equal);
        EQ_ARRAY(channels, n_channels, channel_equal);
        EQ_ARRAY(graphics, n_graphics, graphics_equal);
        if (a->n_controllers != b->n_controllers || a->n_inputs != b->n_inputs ||
            a->n_videos != b->n_videos)
                return false;
        for (int i = 0; i < a->n_controllers; i++) {
                const struct domain_controller *x = &a->controllers[i], *y = &b->controllers[i];
                if (x->type != y->type || x->index != y->index || !streq_ptr(x->model, y->model) ||
                    x->ports != y->ports || !streq_ptr(x->model_name, y->model_name) ||
                    x->target_chassis != y->target_chassis || x->target_port != y->target_port ||
                    !address_equal(&x->address, &y->address))
                        return false;
        }
        for (int i = 0; i < a->n_inputs; i++)
                if (a->inputs[i].type != b->inputs[i].type ||
                    a->inputs[i].bus != b->inputs[i].bus ||
                    !address_equal(&a->inputs[i].address, &b->inputs[i].address))
                        return false;
        EQ_ARRAY(rngs, n_rngs, rng_equal);
        EQ_ARRAY(sounds, n_sounds, sound_equal);
        EQ_ARRAY(redirdevs, n_redirdevs, redirdev_equal);
        if (a->n_audios != b->n_audios ||
            (a->n_audios && memcmp(a->audios, b->audios, sizeof(*a->audios) * (size_t)a->n_audios)))
                return false;
        for (int i = 0; i < a->n_videos; i++) {
                const struct domain_video *x = &a->videos[i], *y = &b->videos[i];
                if (!streq_ptr(x->model, y->model) || x->vram != y->vram || x->heads != y->heads ||
                    x->ram != y->ram || x->vram64 != y->vram64 || x->vgamem != y->vgamem ||
                    x->primary != y->primary || !address_equal(&x->address, &y->address))
                        return false;
        }
        return true;
}

/* ---- uuids ---- */

void domain_uuid_format(const unsigned char uuid[16], char out[37])
{
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8],
                 uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char)tolower((unsigned char)c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* Accepts libvirt's forms: 32 hex digits, optionally with '-' between any
 * byte pairs, surrounding blanks ignored. */
int domain_uuid_parse(const char *s, unsigned char out[16])
{
        unsigned char u[16];
        int n = 0;
        if (!s)
                return -EINVAL;
        while (*s == ' ' || *s == '\t' || *s == '\n')
                s++;
        while (n < 16) {
                if (*s == '-') {
                        s++;
                        continue;
                }
                int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                u[n++] = (unsigned char)(hi << 4 | lo);
                s += 2;
        }
        while (*s == ' ' || *s == '\t' || *s == '\n')
                s++;
        if (*s)
                return -EINVAL;
        memcpy(out, u, 16);
        return 0;
}

static int random_bytes(unsigned char *buf, size_t n)
{
        size_t got = 0;
        while (got < n) {
                ssize_t r = getrandom(buf + got, n - got, 0);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t)r;
        }
        return 0;
}

int domain_uuid_generate(unsigned char out[16])
{
        unsigned char u[16];
        int r = random_bytes(u, sizeof(u));
        if (r < 0)
                return r;
        u[6] = (u[6] & 0x0f) | 0x40; /* version 4 */
        u[8] = (u[8] & 0x3f) | 0x80; /* RFC 4122 variant */
        memcpy(out, u, 16);
        return 0;
}

const struct domain_channel *domain_guest_agent_channel(const struct domain_def *def)
{
        for (int i = 0; def && i < def->n_channels; i++)
                if (def->channels[i].type == DOMAIN_CHANNEL_UNIX &&
                    streq_ptr(def->channels[i].target_name, DOMAIN_CHANNEL_GUEST_AGENT))
                        return &def->channels[i];
        return NULL;
}

const struct domain_fs *domain_root_fs(const struct domain_def *def)
{
        for (int i = 0; def && i < def->n_filesystems; i++)
                if (streq(def->filesystems[i].target, "/"))
                        return &def->filesystems[i];
        return NULL;
}

bool domain_mac_parse(const char *s, unsigned char out[6])
{
        unsigned char m[6];
        if (!s || strlen(s) != 17)
                return false;
        for (int i = 0; i < 6; i++) {
                int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
                if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
                        return false;
                m[i] = (unsigned char)(hi << 4 | lo);
        }
        memcpy(out, m, 6);
        return true;
}

char *domain_mac_generate(enum domain_type type)
{
        unsigned char r[3] = {0};
        if (random_bytes(r, sizeof(r)) < 0) {
                /* getrandom() cannot fail on a kernel >= 3.17 once seeded;
                 * fall back to something unique enough per process. */
                unsigned v = (unsigned)getpid() ^ (unsigned)(uintptr_t)r;
                r[0] = (unsigned char)v;
                r[1] = (unsigned char)(v >> 8);
                r[2] = (unsigned char)(v >> 16);
        }
        /* Locally administered (52:54:00) for containers and VMs; Xen
         * users expect Xen's own OUI. */
        const char *oui = type == DOMAIN_TYPE_XEN ? "00:16:3e" : "52:54:00";
        return xasprintf("%s:%02x:%02x:%02x", oui, r[0], r[1] & 0x7f, r[2]);
}

/* ---- defaults ---- */

static void graphics_defaults(struct domain_graphics *g)
{
        if (g->autoport)
                g->port = -1;
        struct domain_graphics_listen *first = g->n_listens ? &g->listens[0] : NULL;
        bool first_is_address = first && streq(first->type, "address");
        if (g->listen && first_is_address && !first->address) {
                first->address = xstrdup(g->listen);
        } else if (g->listen && !first) {
                g->listens = xcalloc(1, sizeof(*g->listens));
                g->n_listens = 1;
                g->listens[0].type = xstrdup("address");
                g->listens[0].address = xstrdup(g->listen);
        } else if (!g->listen && first_is_address && first->address) {
                g->listen = xstrdup(first->address);
        } else if (!first) {
                g->listens = xcalloc(1, sizeof(*g->listens));
                g->n_listens = 1;
                g->listens[0].type = xstrdup("address");
        }
}

static bool controller_index_used(const struct domain_def *def, enum domain_controller_type type,
                                  int index)
{
        for (int i = 0; i < def->n_controllers; i++)
                if (def->controllers[i].type == type && def->controllers[i].index == index)
                        return true;
        return false;
}

bool domain_controller_is_usb2(const struct domain_controller *c)
{
        static const char *const usb2[] = {"ich9-ehci1", "ich9-uhci1", "ich9-uhci2", "ich9-uhci3"};
        if (c->type != DOMAIN_CONTROLLER_USB || !c->model)
                return false;
        for (size_t i = 0; i < ARRAY_SIZE(usb2); i++)
                if (streq(c->model, usb2[i]))
                        return true;
        return false;
}

/* A controller without index gets the lowest index its type does not use
 * yet, in document order; a USB2 companion (ich9-ehci1, ich9-uhci1..3)
 * right after another USB2 controller joins that one's index unless its
 * model is already there (libvirt 9's virDomainAssignControllerIndexes). */
static void assign_controller_indexes(struct domain_def *def)
{
        for (int i = 0; i < def->n_controllers; i++) {
                struct domain_controller *c = &def->controllers[i];
                if (c->index >= 0)
                        continue;
                const struct domain_controller *prev = NULL;
                if (domain_controller_is_usb2(c)) {
                        for (int j = i - 1; j >= 0 && !prev; j--)
                                if (def->controllers[j].type == DOMAIN_CONTROLLER_USB)
                                        prev = &def->controllers[j];
                        if (prev && !domain_controller_is_usb2(prev))
                                prev = NULL;
                        for (int j = 0; prev && j < def->n_controllers; j++) {
                                const struct domain_controller *o = &def->controllers[j];
                                if (o->type == DOMAIN_CONTROLLER_USB && o->index == prev->index &&
                                    streq_ptr(o->model, c->model))
                                        prev = NULL;
                        }
                }
                if (prev) {
                        c->index = prev->index;
                        continue;
                }
                int index = 0;
                while (controller_index_used(def, c->type, index))
                        index++;
                c->index = index;
        }
}

/* libvirt 9's define-time <cpu> defaults (virCPUDefParseXML,
 * qemuDomainDefCPUPostParse): a named model matches 'exact'; check is
 * 'none' for host-passthrough, maximum and a TCG guest's custom model,
 * 'partial' for other models (none without a model); passthrough and
 * maximum are migratable. */
static void cpu_apply_defaults(struct domain_def *def)
{
        struct domain_cpu *cpu = &def->cpu;
        if (cpu->mode == DOMAIN_CPU_MODE_CUSTOM && cpu->model && !cpu->match)
                cpu->match = DOMAIN_CPU_MATCH_EXACT;
        if (cpu->sockets && !cpu->dies)
                cpu->dies = 1;
        if (cpu->check == DOMAIN_CPU_CHECK_DEFAULT && cpu->mode != DOMAIN_CPU_MODE_NONE &&
            (cpu->mode != DOMAIN_CPU_MODE_CUSTOM || cpu->model) &&
            (def->type == DOMAIN_TYPE_QEMU || def->type == DOMAIN_TYPE_KVM)) {
                bool none = cpu->mode == DOMAIN_CPU_MODE_HOST_PASSTHROUGH ||
                            cpu->mode == DOMAIN_CPU_MODE_MAXIMUM ||
                            (cpu->mode == DOMAIN_CPU_MODE_CUSTOM && def->type == DOMAIN_TYPE_QEMU);
                cpu->check = none ? DOMAIN_CPU_CHECK_NONE : DOMAIN_CPU_CHECK_PARTIAL;
        }
        if ((cpu->mode == DOMAIN_CPU_MODE_HOST_PASSTHROUGH ||
             cpu->mode == DOMAIN_CPU_MODE_MAXIMUM) &&
            !cpu->migratable)
                cpu->migratable = DOMAIN_TRISTATE_ON;
}

void domain_def_apply_defaults(struct domain_def *def)
{
        assign_controller_indexes(def);
        cpu_apply_defaults(def);
        if (!def->current_memory_kib || def->current_memory_kib > def->memory_kib)
                def->current_memory_kib = def->memory_kib;
        if (!def->vcpus)
                def->vcpus = 1;
        if (!def->vcpu_placement)
                def->vcpu_placement = xstrdup("static");
        if (def->os.type == DOMAIN_OS_HVM && def->os.n_boot == 0 && !def->os.kernel)
                def->os.boot[def->os.n_boot++] = DOMAIN_BOOT_HD;
        for (int i = 0; i < def->n_disks; i++) {
                struct domain_disk *d = &def->disks[i];
                if (d->bus != DOMAIN_DISK_BUS_NONE || !d->target_dev)
                        continue;
                /* libvirt infers the bus from the name */
                if (startswith(d->target_dev, "vd"))
                        d->bus = DOMAIN_DISK_BUS_VIRTIO;
                else if (startswith(d->target_dev, "hd"))
                        d->bus = DOMAIN_DISK_BUS_IDE;
                else if (startswith(d->target_dev, "sd"))
                        d->bus = DOMAIN_DISK_BUS_SCSI;
                else if (startswith(d->target_dev, "xvd"))
                        d->bus = DOMAIN_DISK_BUS_XEN;
        }
        for (int i = 0; i < def->n_graphics; i++)
                graphics_defaults(&def->graphics[i]);
        bool primary = false;
        for (int i = 0; i < def->n_videos; i++)
                primary |= def->videos[i].primary == DOMAIN_TRISTATE_ON;
        if (def->n_videos > 0 && !primary)
                def->videos[0].primary = DOMAIN_TRISTATE_ON;
        for (int i = 0; i < def->n_nets; i++) {
                struct domain_net *n = &def->nets[i];
                if (!n->mac)
                        n->mac = domain_mac_generate(def->type);
                for (char *p = n->mac; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
        }
}

/* ---- memory units ---- */

struct unit_scale {
        const char *name;
        unsigned long long bytes;
};

static const struct unit_scale units[] = {
        {"b", 1ULL},
        {"bytes", 1ULL},
        {"k", 1ULL << 10},
        {"KiB", 1ULL << 10},
        {"KB", 1000ULL},
        {"M", 1ULL << 20},
        {"MiB", 1ULL << 20},
        {"MB", 1000ULL * 1000},
        {"G", 1ULL << 30},
        {"GiB", 1ULL << 30},
        {"GB", 1000ULL * 1000 * 1000},
        {"T", 1ULL << 40},
        {"TiB", 1ULL << 40},
        {"TB", 1000ULL * 1000 * 1000 * 1000},
        {"P", 1ULL << 50},
        {"PiB", 1ULL << 50},
        {"PB", 1000ULL * 1000 * 1000 * 1000 * 1000},
        {"E", 1ULL << 60},
        {"EiB", 1ULL << 60},
        {"EB", 1000ULL * 1000 * 1000 * 1000 * 1000 * 1000},
};

int domain_memory_to_kib(const char *value, const char *unit, unsigned long long *ret_kib,
                         const char **ret_reason)
{
        unsigned long long scale = 1024, n, bytes;
        const char *reason = NULL;
        if (unit) {
                scale = 0;
                for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                        /* libvirt accepts the units case-insensitively except
                         * that 'b'/'bytes' and the SI/IEC forms must match */
                        if (strcasecmp(units[i].name, unit) == 0 &&
                            (strlen(unit) == 1 || streq(units[i].name, unit) ||
                             strcasecmp(unit, "bytes") == 0)) {
                                scale = units[i].bytes;
                                break;
                        }
                }
                if (!scale) {
                        reason = "unknown unit";
                        goto invalid;
                }
        }
        const char *p = value;
        if (!p || !*p) {
                reason = "empty value";
                goto invalid;
        }
        n = 0;
        for (; *p; p++) {
                if (*p < '0' || *p > '9') {
                        reason = "not a non-negative integer";
                        goto invalid;
                }
                if (__builtin_mul_overflow(n, 10ULL, &n) ||
                    __builtin_add_overflow(n, (unsigned long long)(*p - '0'), &n))
                        goto range;
        }
        if (__builtin_mul_overflow(n, scale, &bytes))
                goto range;
        /* libvirt's own cap: sizes must fit a signed 64-bit byte count */
        if (bytes > (unsigned long long)INT64_MAX)
                goto range;
        *ret_kib = bytes / 1024 + (bytes % 1024 ? 1 : 0);
        return 0;
range:
        if (ret_reason)
                *ret_reason = "too large (overflows 2^63 bytes)";
        return -ERANGE;
invalid:
        if (ret_reason)
                *ret_reason = reason;
        return -EINVAL;
}
