/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Semantic checks of a domain model that need no host. Host checks (is
 * /dev/kvm there, does the bridge exist) happen at start, in the drivers. */
#include "conf/domain.h"

#define INVALID(...) lv_error_setf(err, LV_ERR_INVALID_XML, __VA_ARGS__)

static int validate_name(const char *name, struct lv_error **err)
{
        if (!name || !*name)
                return INVALID("domain name is empty");
        if (strlen(name) > DOMAIN_NAME_MAX)
                return INVALID("domain name '%.20s...' is longer than %d characters", name,
                               DOMAIN_NAME_MAX);
        if (streq(name, ".") || streq(name, ".."))
                return INVALID("domain name '%s' is not allowed", name);
        for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
                if (*p == '/')
                        return INVALID("domain name '%s' contains '/'", name);
                if (*p < 0x20 || *p == 0x7f)
                        return INVALID("domain name contains the control character 0x%02x", *p);
        }
        if (name[0] == '-')
                return INVALID("domain name '%s' starts with '-'", name);
        return 0;
}

static bool uuid_is_null(const unsigned char u[16])
{
        for (int i = 0; i < 16; i++)
                if (u[i])
                        return false;
        return true;
}

static bool path_is_absolute(const char *p)
{
        return p && p[0] == '/';
}

static int validate_memory(const struct domain_def *def, struct lv_error **err)
{
        if (def->memory_kib == 0)
                return INVALID("memory size must be greater than zero");
        if (def->current_memory_kib > def->memory_kib)
                return INVALID("currentMemory (%llu KiB) is larger than memory (%llu KiB)",
                               def->current_memory_kib, def->memory_kib);
        if (def->max_memory_kib && def->max_memory_kib < def->memory_kib)
                return INVALID("maxMemory (%llu KiB) is smaller than memory (%llu KiB)",
                               def->max_memory_kib, def->memory_kib);
        if (def->vcpus_current > def->vcpus)
                return INVALID("vcpu current (%u) is larger than the vcpu count (%u)",
                               def->vcpus_current, def->vcpus);
        if (def->n_vcpu_entries && (unsigned)def->n_vcpu_entries != def->vcpus)
                return INVALID("<vcpus> lists %d vcpus, <vcpu> says %u", def->n_vcpu_entries,
                               def->vcpus);
        for (int i = 0; i < def->n_vcpu_entries; i++)
                for (int j = 0; j < i; j++)
                        if (def->vcpu_entries[i].id == def->vcpu_entries[j].id)
                                return INVALID("vcpu id %u given twice", def->vcpu_entries[i].id);
        for (int i = 0; i < def->n_vcpu_entries; i++)
                if (def->vcpu_entries[i].id >= def->vcpus)
                        return INVALID("vcpu id %u is not below the vcpu count %u",
                                       def->vcpu_entries[i].id, def->vcpus);
        return 0;
}

static int validate_os(const struct domain_def *def, struct lv_error **err)
{
        const struct domain_os *os = &def->os;
        const char *type = domain_type_to_string(def->type);
        switch (def->type) {
        case DOMAIN_TYPE_LXC:
                if (os->type != DOMAIN_OS_EXE)
                        return INVALID("domain type 'lxc' needs <os><type>exe</type>, not '%s'",
                                       domain_os_type_to_string(os->type));
                if (!os->init)
                        return INVALID("domain type 'lxc' needs <os><init>");
                if (!path_is_absolute(os->init))
                        return INVALID("init '%s' is not an absolute path", os->init);
                if (os->initdir && !path_is_absolute(os->initdir))
                        return INVALID("initdir '%s' is not an absolute path", os->initdir);
                if (!domain_root_fs(def))
                        return INVALID("domain type 'lxc' needs a root filesystem "
                                       "(<filesystem> with <target dir='/'/>)");
                if (os->kernel || os->initrd || os->loader || os->firmware || os->nvram)
                        return INVALID("domain type 'lxc' does not boot a kernel");
                break;
        case DOMAIN_TYPE_QEMU:
        case DOMAIN_TYPE_KVM:
                if (os->type != DOMAIN_OS_HVM)
                        return INVALID("domain type '%s' needs <os><type>hvm</type>, not '%s'",
                                       type, domain_os_type_to_string(os->type));
                if ((os->nvram && !path_is_absolute(os->nvram)) ||
                    (os->nvram_template && !path_is_absolute(os->nvram_template)) ||
                    (os->loader && !path_is_absolute(os->loader)))
                        return INVALID("<loader> and <nvram> paths must be absolute");
                if ((os->fw_secure_boot || os->fw_enrolled_keys) && !streq_ptr(os->firmware, "efi"))
                        return INVALID("<firmware><feature> needs <os firmware='efi'>");
                break;
        case DOMAIN_TYPE_XEN:
                if (os->firmware || os->nvram || os->nvram_template || os->loader_secure)
                        return INVALID("<os firmware>, <nvram> and <loader secure> are for QEMU "
                                       "guests");
                if (os->type == DOMAIN_OS_EXE)
                        return INVALID("domain type 'xen' cannot use <os><type>exe</type>");
                break;
        default:
                return INVALID("unknown domain type");
        }
        if (def->type != DOMAIN_TYPE_LXC && (os->init || os->initargs || os->n_initenv ||
                                             os->initdir || os->inituser || os->initgroup))
                return INVALID("<init>, <initarg>, <initenv>, <initdir>, <inituser> and "
                               "<initgroup> are only for domain type 'lxc'");
        if (os->initrd && !os->kernel)
                return INVALID("<initrd> given without <kernel>");
        if (os->cmdline && !os->kernel)
                return INVALID("<cmdline> given without <kernel>");
        for (int i = 0; i < os->n_initenv; i++) {
                const char *n = os->initenv[i].name;
                if (!*n || strchr(n, '='))
                        return INVALID("initenv name '%s' is empty or contains '='", n);
                for (int j = 0; j < i; j++)
                        if (streq(os->initenv[j].name, n))
                                return INVALID("initenv '%s' given twice", n);
        }
        return 0;
}

static int validate_idmap(const struct domain_def *def, struct lv_error **err)
{
        if ((def->n_uidmap > 0) != (def->n_gidmap > 0))
                return INVALID("<idmap> needs both <uid> and <gid> entries");
        if (def->n_uidmap && def->type != DOMAIN_TYPE_LXC)
                return INVALID("<idmap> is only for domain type 'lxc'");
        const struct domain_idmap *maps[2] = {def->uidmap, def->gidmap};
        int counts[2] = {def->n_uidmap, def->n_gidmap};
        for (int k = 0; k < 2; k++) {
                bool zero = false;
                for (int i = 0; i < counts[k]; i++) {
                        const struct domain_idmap *m = &maps[k][i];
                        if ((unsigned long long)m->start + m->count > 1ULL << 32 ||
                            (unsigned long long)m->target + m->count > 1ULL << 32)
                                return INVALID("idmap %s entry %u:%u:%u overflows 32 bits",
                                               k ? "gid" : "uid", m->start, m->target, m->count);
                        zero |= m->start == 0;
                        for (int j = 0; j < i; j++) {
                                const struct domain_idmap *o = &maps[k][j];
                                if (m->start < o->start + o->count &&
                                    o->start < m->start + m->count)
                                        return INVALID(
                                                "idmap %s ranges starting at %u and %u overlap",
                                                k ? "gid" : "uid", o->start, m->start);
                        }
                }
                if (counts[k] && !zero)
                        return INVALID("idmap %s has no entry for id 0 inside the guest",
                                       k ? "gid" : "uid");
        }
        return 0;
}

static int validate_mac(const char *mac, struct lv_error **err)
{
        unsigned char m[6];
        if (!domain_mac_parse(mac, m))
                return INVALID("'%s' is not a MAC address", mac);
        if (m[0] & 1)
                return INVALID("MAC address '%s' is a multicast address", mac);
        bool zero = true;
        for (int i = 0; i < 6; i++)
                zero &= m[i] == 0;
        if (zero)
                return INVALID("MAC address '%s' is all zeros", mac);
        return 0;
}

/* A Linux network interface name: 1..15 bytes, no '/', ':' or blanks. */
static bool link_name_is_valid(const char *n)
{
        if (!n || !*n || strlen(n) >= 16 || streq(n, ".") || streq(n, ".."))
                return false;
        for (const unsigned char *p = (const unsigned char *)n; *p; p++)
                if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

static int validate_devices(const struct domain_def *def, struct lv_error **err)
{
        for (int i = 0; i < def->n_filesystems; i++) {
                const struct domain_fs *fs = &def->filesystems[i];
                if (!path_is_absolute(fs->target))
                        return INVALID("filesystem target '%s' is not an absolute path",
                                       fs->target);
                /* as libvirt: a bind is a container's own directory
                 * shown elsewhere in its tree (libvirt's QEMU driver
                 * refuses it too) */
                if (fs->type == DOMAIN_FS_BIND && def->type != DOMAIN_TYPE_LXC)
                        return INVALID("filesystem '%s': type 'bind' is only for containers "
                                       "(domain type 'lxc')",
                                       fs->target);
                if (fs->type != DOMAIN_FS_RAM && !path_is_absolute(fs->source))
                        return INVALID("filesystem source '%s' is not an absolute path",
                                       fs->source);
                for (int j = 0; j < i; j++)
                        if (streq(def->filesystems[j].target, fs->target))
                                return INVALID("filesystem target '%s' given twice", fs->target);
        }
        for (int i = 0; i < def->n_disks; i++) {
                const struct domain_disk *d = &def->disks[i];
                if (!*d->target_dev || strchr(d->target_dev, '/'))
                        return INVALID("disk target dev '%s' is not a device name", d->target_dev);
                if (d->source && !path_is_absolute(d->source))
                        return INVALID("disk '%s': source '%s' is not an absolute path",
                                       d->target_dev, d->source);
                for (int j = 0; j < i; j++)
                        if (streq(def->disks[j].target_dev, d->target_dev))
                                return INVALID("disk target dev '%s' given twice", d->target_dev);
        }
        for (int i = 0; i < def->n_nets; i++) {
                const struct domain_net *n = &def->nets[i];
                int r = validate_mac(n->mac, err);
                if (r < 0)
                        return r;
                for (int j = 0; j < i; j++) {
                        if (streq(def->nets[j].mac, n->mac))
                                return INVALID("MAC address '%s' given twice", n->mac);
                        if (n->target_dev && streq(def->nets[j].target_dev, n->target_dev))
                                return INVALID("interface target dev '%s' given twice",
                                               n->target_dev);
                        if (n->guest_dev && streq(def->nets[j].guest_dev, n->guest_dev))
                                return INVALID("interface guest dev '%s' given twice",
                                               n->guest_dev);
                }
                if (n->target_dev && !link_name_is_valid(n->target_dev))
                        return INVALID("interface target dev '%s' is not a valid link name",
                                       n->target_dev);
                if (n->guest_dev && !link_name_is_valid(n->guest_dev))
                        return INVALID("interface guest dev '%s' is not a valid link name",
                                       n->guest_dev);
                if (n->type == DOMAIN_NET_BRIDGE && !link_name_is_valid(n->source))
                        return INVALID("interface source bridge '%s' is not a valid link name",
                                       n->source);
        }
        for (int i = 0; i < def->n_chrs; i++)
                for (int j = 0; j < i; j++)
                        if (def->chrs[i].kind == def->chrs[j].kind &&
                            def->chrs[i].target_port >= 0 &&
                            def->chrs[i].target_port == def->chrs[j].target_port)
                                return INVALID("%s port %d given twice",
                                               domain_chr_kind_to_string(def->chrs[i].kind),
                                               def->chrs[i].target_port);
        for (int i = 0; i < def->n_channels; i++) {
                const struct domain_channel *ch = &def->channels[i];
                if (ch->source_path && !path_is_absolute(ch->source_path))
                        return INVALID("channel source path '%s' is not an absolute path",
                                       ch->source_path);
                if (ch->target_name && (!*ch->target_name || strchr(ch->target_name, '/') ||
                                        strchr(ch->target_name, ',')))
                        return INVALID("channel target name '%s' is not a port name",
                                       ch->target_name);
                if (ch->address.type && !streq(ch->address.type, "virtio-serial"))
                        return INVALID("channel '%s': address type '%s' does not fit a virtio "
                                       "channel (it takes type='virtio-serial')",
                                       ch->target_name ? ch->target_name : "(unnamed)",
                                       ch->address.type);
                for (int j = 0; j < i; j++)
                        if (ch->target_name &&
                            streq_ptr(def->channels[j].target_name, ch->target_name))
                                return INVALID("channel target name '%s' given twice",
                                               ch->target_name);
        }
        for (int i = 0; i < def->n_rngs; i++)
                if (def->rngs[i].backend && !path_is_absolute(def->rngs[i].backend))
                        return INVALID("rng backend '%s' is not an absolute path",
                                       def->rngs[i].backend);
        for (int i = 0; i < def->n_audios; i++)
                for (int j = 0; j < i; j++)
                        if (def->audios[i].id == def->audios[j].id)
                                return INVALID("audio id %u given twice", def->audios[i].id);
        for (int i = 0; i < def->n_sounds; i++) {
                bool found = !def->sounds[i].audio_id;
                for (int j = 0; j < def->n_audios && !found; j++)
                        found = def->audios[j].id == def->sounds[i].audio_id;
                if (!found)
                        return INVALID("sound '%s': no <audio id='%u'>", def->sounds[i].model,
                                       def->sounds[i].audio_id);
        }
        if ((def->n_rngs || def->n_audios || def->n_sounds || def->n_redirdevs) &&
            def->type != DOMAIN_TYPE_QEMU && def->type != DOMAIN_TYPE_KVM)
                return INVALID("<rng>, <audio>, <sound> and <redirdev> are only for domain "
                               "types 'qemu' and 'kvm'");
        if (def->n_channels && def->type != DOMAIN_TYPE_QEMU && def->type != DOMAIN_TYPE_KVM)
                return INVALID("<channel> is only for domain types 'qemu' and 'kvm'");
        for (int i = 0; i < def->n_graphics; i++) {
                const struct domain_graphics *g = &def->graphics[i];
                if (!g->autoport && g->port >= 0 && g->port < 5900 && def->type != DOMAIN_TYPE_XEN)
                        return INVALID("graphics port %d is below 5900", g->port);
                for (int j = 0; j < i; j++)
                        if (def->graphics[j].type == g->type)
                                return INVALID("more than one '%s' graphics device",
                                               domain_graphics_type_to_string(g->type));
        }
        for (int i = 0; i < def->n_controllers; i++)
                for (int j = 0; j < i; j++) {
                        const struct domain_controller *a = &def->controllers[i];
                        const struct domain_controller *b = &def->controllers[j];
                        /* USB2 companions of different models share one */
                        bool companions = domain_controller_is_usb2(a) &&
                                          domain_controller_is_usb2(b) &&
                                          !streq(a->model, b->model);
                        if (a->type == b->type && a->index == b->index && !companions)
                                return INVALID(
                                        "controller '%s' index %d given twice",
                                        domain_controller_type_to_string(def->controllers[i].type),
                                        def->controllers[i].index);
                }
        if ((def->pm_suspend_to_mem || def->pm_suspend_to_disk) && def->type != DOMAIN_TYPE_QEMU &&
            def->type != DOMAIN_TYPE_KVM)
                return INVALID("<pm> is only for domain types 'qemu' and 'kvm'");
        if (def->cpu.mode && def->type != DOMAIN_TYPE_QEMU && def->type != DOMAIN_TYPE_KVM)
                return INVALID("<cpu> is only for domain types 'qemu' and 'kvm'");
        if (def->cpu.sockets) {
                unsigned long long n = (unsigned long long)def->cpu.sockets * def->cpu.dies *
                                       def->cpu.cores * def->cpu.threads;
                if (n != def->vcpus)
                        return INVALID("CPU topology (%u sockets x %u dies x %u cores x %u "
                                       "threads = %llu) does not match the vcpu count (%u)",
                                       def->cpu.sockets, def->cpu.dies, def->cpu.cores,
                                       def->cpu.threads, n, def->vcpus);
        }
        if (def->features.hyperv.present && def->type != DOMAIN_TYPE_QEMU &&
            def->type != DOMAIN_TYPE_KVM)
                return INVALID("<features><hyperv> is only for domain types 'qemu' and 'kvm'");
        if ((def->mem_locked || def->mem_nosharepages) && def->type != DOMAIN_TYPE_QEMU &&
            def->type != DOMAIN_TYPE_KVM)
                return INVALID("<memoryBacking> is only for domain types 'qemu' and 'kvm'");
        if (def->os.bootmenu && def->type != DOMAIN_TYPE_QEMU && def->type != DOMAIN_TYPE_KVM)
                return INVALID("<os><bootmenu> is only for domain types 'qemu' and 'kvm'");
        if (def->features.vmport && def->type != DOMAIN_TYPE_QEMU && def->type != DOMAIN_TYPE_KVM)
                return INVALID("<features><vmport> is only for domain types 'qemu' and 'kvm'");
        if ((def->features.apic_eoi || def->features.pvspinlock) && def->type != DOMAIN_TYPE_QEMU &&
            def->type != DOMAIN_TYPE_KVM)
                return INVALID("<features><apic eoi> and <pvspinlock> are only for domain types "
                               "'qemu' and 'kvm'");
        if (def->n_timers && def->type != DOMAIN_TYPE_QEMU && def->type != DOMAIN_TYPE_KVM)
                return INVALID("<clock><timer> is only for domain types 'qemu' and 'kvm'");
        if (def->type == DOMAIN_TYPE_LXC && (def->n_disks || def->n_graphics))
                return INVALID("domain type 'lxc' supports no <disk> or <graphics>");
        if (def->emulator && !path_is_absolute(def->emulator))
                return INVALID("emulator '%s' is not an absolute path", def->emulator);
        return 0;
}

/* Every string must be representable in XML 1.0: valid UTF-8, no control
 * characters but tab, newline and carriage return. A parsed model always
 * is; a model built by an importer (xl.cfg, ...) might not be. Checked on
 * the formatted document, which holds every string of the model. */
static int validate_text(const struct domain_def *def, struct lv_error **err)
{
        _cleanup_free_ char *xml = domain_format(def);
        const unsigned char *p = (const unsigned char *)xml;
        while (*p) {
                unsigned c = *p;
                int n = c < 0x80             ? 0
                        : (c & 0xe0) == 0xc0 ? 1
                        : (c & 0xf0) == 0xe0 ? 2
                        : (c & 0xf8) == 0xf0 ? 3
                                             : -1;
                if (n < 0)
                        goto bad_utf8;
                unsigned cp = n == 0 ? c : n == 1 ? c & 0x1f : n == 2 ? c & 0x0f : c & 0x07;
                for (int i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                goto bad_utf8;
                        cp = cp << 6 | (p[i] & 0x3f);
                }
                static const unsigned min[] = {0, 0x80, 0x800, 0x10000};
                if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        goto bad_utf8;
                if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xfffe ||
                    cp == 0xffff)
                        return INVALID("the definition contains the character U+%04X, which "
                                       "XML cannot carry",
                                       cp);
                p += n + 1;
        }
        return 0;
bad_utf8:
        return INVALID("the definition contains text that is not valid UTF-8 (byte 0x%02x)", *p);
}

int domain_validate(const struct domain_def *def, struct lv_error **err)
{
        int r;
        if ((r = validate_name(def->name, err)) < 0)
                return r;
        if (uuid_is_null(def->uuid))
                return INVALID("domain '%s': the all-zero UUID is not allowed", def->name);
        if ((r = validate_memory(def, err)) < 0 || (r = validate_os(def, err)) < 0 ||
            (r = validate_idmap(def, err)) < 0 || (r = validate_devices(def, err)) < 0)
                return lv_error_prefix(err, "domain '%s'", def->name);
        if ((r = validate_text(def, err)) < 0)
                return r;
        if (def->resource_partition && !path_is_absolute(def->resource_partition))
                return INVALID("domain '%s': resource partition '%s' is not an absolute path",
                               def->name, def->resource_partition);
        return 0;
}

int domain_net_attach(struct domain_def *def, struct domain_net *n, struct lv_error **err)
{
        if (n->mac && domain_net_find(def, n->mac) >= 0)
                return lv_error_setf(err, LV_ERR_EXISTS,
                                     "Requested operation is not valid: an interface with MAC "
                                     "address %s already exists",
                                     n->mac);
        domain_net_add_take(def, n);
        int r = domain_validate(def, err);
        if (r < 0) {
                *n = def->nets[def->n_nets - 1];
                def->n_nets--;
        }
        return r;
}

int domain_fs_attach(struct domain_def *def, struct domain_fs *fs, struct lv_error **err)
{
        if (domain_fs_find(def, fs->target) >= 0)
                return lv_error_setf(err, LV_ERR_EXISTS,
                                     "Requested operation is not valid: a filesystem with target "
                                     "%s already exists",
                                     fs->target);
        domain_fs_add_take(def, fs);
        int r = domain_validate(def, err);
        if (r < 0) {
                *fs = def->filesystems[def->n_filesystems - 1];
                def->n_filesystems--;
        }
        return r;
}

int domain_disk_attach(struct domain_def *def, struct domain_disk *d, struct lv_error **err)
{
        for (int k = 0; k < def->n_disks; k++)
                if (streq(def->disks[k].target_dev, d->target_dev))
                        return lv_error_setf(err, LV_ERR_EXISTS,
                                             "Requested operation is not valid: target %s already "
                                             "exists",
                                             d->target_dev);
        domain_disk_add_take(def, d);
        int r = domain_validate(def, err);
        if (r < 0) {
                /* give d its fields back */
                *d = def->disks[def->n_disks - 1];
                def->n_disks--;
        }
        return r;
}
