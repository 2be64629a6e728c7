/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Model → domain XML, libvirt's layout (two-space indentation, attributes
 * in libvirt's order). No libxml2: written with strbuf. */
#include "conf/domain.h"
#include "util/strbuf.h"

/* XML escaping that survives a parse: besides &<>'", a carriage return
 * is written as a character reference (a parser turns a raw one into a
 * newline), and in attribute values so are newline and tab (a parser turns
 * raw ones into spaces). */
static void append_escaped(struct strbuf *b, const char *s, bool attr)
{
        const char *start = s;
        for (; *s; s++) {
                const char *ref = NULL;
                if (*s == '\r')
                        ref = "&#13;";
                else if (attr && *s == '\n')
                        ref = "&#10;";
                else if (attr && *s == '\t')
                        ref = "&#9;";
                if (!ref)
                        continue;
                _cleanup_free_ char *chunk = xstrndup(start, (size_t)(s - start));
                strbuf_append_xml(b, chunk);
                strbuf_append(b, ref);
                start = s + 1;
        }
        strbuf_append_xml(b, start);
}

/* Attribute helpers: append ` name='value'` when the value is set. */
static void attr_s(struct strbuf *b, const char *name, const char *value)
{
        if (!value)
                return;
        strbuf_printf(b, " %s='", name);
        append_escaped(b, value, true);
        strbuf_append(b, "'");
}

static void attr_i(struct strbuf *b, const char *name, long long v)
{
        strbuf_printf(b, " %s='%lld'", name, v);
}

static void elem_text(struct strbuf *b, int ind, const char *name, const char *text)
{
        if (!text)
                return;
        strbuf_indent(b, ind);
        strbuf_printf(b, "<%s>", name);
        append_escaped(b, text, false);
        strbuf_printf(b, "</%s>\n", name);
}

static void open_tag(struct strbuf *b, int ind, const char *name)
{
        strbuf_indent(b, ind);
        strbuf_printf(b, "<%s", name);
}

static void format_alias(struct strbuf *b, int ind, const char *alias)
{
        if (!alias)
                return;
        open_tag(b, ind, "alias");
        attr_s(b, "name", alias);
        strbuf_append(b, "/>\n");
}

/* <alias> (live) then <address>, as libvirt writes a device's info */
static void format_address(struct strbuf *b, int ind, const struct domain_address *a)
{
        format_alias(b, ind, a->alias);
        if (!a->type)
                return;
        open_tag(b, ind, "address");
        attr_s(b, "type", a->type);
        for (int i = 0; i < a->n_attrs; i++)
                attr_s(b, a->attrs[i].name, a->attrs[i].value);
        strbuf_append(b, "/>\n");
}

static void format_memory(struct strbuf *b, const struct domain_def *def)
{
        if (def->max_memory_kib) {
                open_tag(b, 2, "maxMemory");
                if (def->max_memory_slots)
                        attr_i(b, "slots", def->max_memory_slots);
                strbuf_printf(b, " unit='KiB'>%llu</maxMemory>\n", def->max_memory_kib);
        }
        strbuf_printf(b, "  <memory unit='KiB'>%llu</memory>\n", def->memory_kib);
        strbuf_printf(b, "  <currentMemory unit='KiB'>%llu</currentMemory>\n",
                      def->current_memory_kib ? def->current_memory_kib : def->memory_kib);
        if (def->has_blkiotune) {
                strbuf_append(b, "  <blkiotune>\n");
                if (def->blkiotune.weight)
                        strbuf_printf(b, "    <weight>%u</weight>\n", def->blkiotune.weight);
                strbuf_append(b, "  </blkiotune>\n");
        }
        if (def->has_memtune) {
                const struct domain_memtune *m = &def->memtune;
                strbuf_append(b, "  <memtune>\n");
                if (m->hard_limit)
                        strbuf_printf(b, "    <hard_limit unit='KiB'>%llu</hard_limit>\n",
                                      m->hard_limit);
                if (m->soft_limit)
                        strbuf_printf(b, "    <soft_limit unit='KiB'>%llu</soft_limit>\n",
                                      m->soft_limit);
                if (m->min_guarantee)
                        strbuf_printf(b, "    <min_guarantee unit='KiB'>%llu</min_guarantee>\n",
                                      m->min_guarantee);
                if (m->swap_hard_limit)
                        strbuf_printf(b, "    <swap_hard_limit unit='KiB'>%llu</swap_hard_limit>\n",
                                      m->swap_hard_limit);
                strbuf_append(b, "  </memtune>\n");
        }
        if (def->mem_nosharepages || def->mem_locked) {
                strbuf_append(b, "  <memoryBacking>\n");
                if (def->mem_nosharepages)
                        strbuf_append(b, "    <nosharepages/>\n");
                if (def->mem_locked)
                        strbuf_append(b, "    <locked/>\n");
                strbuf_append(b, "  </memoryBacking>\n");
        }
}

static void format_vcpu(struct strbuf *b, const struct domain_def *def)
{
        open_tag(b, 2, "vcpu");
        attr_s(b, "placement", def->vcpu_placement);
        attr_s(b, "cpuset", def->vcpu_cpuset);
        if (def->vcpus_current)
                attr_i(b, "current", def->vcpus_current);
        strbuf_printf(b, ">%u</vcpu>\n", def->vcpus);
        if (def->n_vcpu_entries) {
                strbuf_append(b, "  <vcpus>\n");
                for (int i = 0; i < def->n_vcpu_entries; i++) {
                        const struct domain_vcpu_entry *e = &def->vcpu_entries[i];
                        open_tag(b, 4, "vcpu");
                        attr_i(b, "id", e->id);
                        attr_s(b, "enabled", e->enabled ? "yes" : "no");
                        if (e->hotpluggable != DOMAIN_TRISTATE_ABSENT)
                                attr_s(b, "hotpluggable",
                                       e->hotpluggable == DOMAIN_TRISTATE_ON ? "yes" : "no");
                        if (e->order)
                                attr_i(b, "order", e->order);
                        strbuf_append(b, "/>\n");
                }
                strbuf_append(b, "  </vcpus>\n");
        }
        if (def->has_cputune) {
                strbuf_append(b, "  <cputune>\n");
                if (def->cputune.shares)
                        strbuf_printf(b, "    <shares>%llu</shares>\n", def->cputune.shares);
                if (def->cputune.period)
                        strbuf_printf(b, "    <period>%llu</period>\n", def->cputune.period);
                if (def->cputune.quota)
                        strbuf_printf(b, "    <quota>%lld</quota>\n", def->cputune.quota);
                strbuf_append(b, "  </cputune>\n");
        }
}

static void format_os(struct strbuf *b, const struct domain_def *def)
{
        const struct domain_os *os = &def->os;
        elem_text(b, 2, "bootloader", def->bootloader);
        elem_text(b, 2, "bootloader_args", def->bootloader_args);
        open_tag(b, 2, "os");
        attr_s(b, "firmware", os->firmware);
        strbuf_append(b, ">\n");
        open_tag(b, 4, "type");
        attr_s(b, "arch", os->arch);
        attr_s(b, "machine", os->machine);
        strbuf_printf(b, ">%s</type>\n", domain_os_type_to_string(os->type));
        if (os->fw_secure_boot || os->fw_enrolled_keys) {
                strbuf_append(b, "    <firmware>\n");
                const char *names[] = {"enrolled-keys", "secure-boot"};
                enum domain_tristate st[] = {os->fw_enrolled_keys, os->fw_secure_boot};
                for (int i = 0; i < 2; i++)
                        if (st[i])
                                strbuf_printf(b, "      <feature enabled='%s' name='%s'/>\n",
                                              st[i] == DOMAIN_TRISTATE_ON ? "yes" : "no", names[i]);
                strbuf_append(b, "    </firmware>\n");
        }
        if (os->loader || os->loader_type || os->loader_readonly || os->loader_secure) {
                open_tag(b, 4, "loader");
                if (os->loader_readonly)
                        attr_s(b, "readonly",
                               os->loader_readonly == DOMAIN_TRISTATE_ON ? "yes" : "no");
                if (os->loader_secure)
                        attr_s(b, "secure", os->loader_secure == DOMAIN_TRISTATE_ON ? "yes" : "no");
                attr_s(b, "type", os->loader_type);
                if (os->loader) {
                        strbuf_append(b, ">");
                        append_escaped(b, os->loader, false);
                        strbuf_append(b, "</loader>\n");
                } else {
                        strbuf_append(b, "/>\n");
                }
        }
        if (os->nvram || os->nvram_template) {
                open_tag(b, 4, "nvram");
                attr_s(b, "template", os->nvram_template);
                if (os->nvram) {
                        strbuf_append(b, ">");
                        append_escaped(b, os->nvram, false);
                        strbuf_append(b, "</nvram>\n");
                } else {
                        strbuf_append(b, "/>\n");
                }
        }
        elem_text(b, 4, "kernel", os->kernel);
        elem_text(b, 4, "initrd", os->initrd);
        elem_text(b, 4, "cmdline", os->cmdline);
        elem_text(b, 4, "init", os->init);
        for (size_t i = 0; os->initargs && os->initargs[i]; i++)
                elem_text(b, 4, "initarg", os->initargs[i]);
        for (int i = 0; i < os->n_initenv; i++) {
                open_tag(b, 4, "initenv");
                attr_s(b, "name", os->initenv[i].name);
                strbuf_append(b, ">");
                append_escaped(b, os->initenv[i].value, false);
                strbuf_append(b, "</initenv>\n");
        }
        elem_text(b, 4, "initdir", os->initdir);
        elem_text(b, 4, "inituser", os->inituser);
        elem_text(b, 4, "initgroup", os->initgroup);
        for (int i = 0; i < os->n_boot; i++)
                strbuf_printf(b, "    <boot dev='%s'/>\n", domain_boot_dev_to_string(os->boot[i]));
        if (os->bootmenu) {
                strbuf_printf(b, "    <bootmenu enable='%s'",
                              os->bootmenu == DOMAIN_TRISTATE_ON ? "yes" : "no");
                if (os->has_bootmenu_timeout)
                        attr_i(b, "timeout", os->bootmenu_timeout);
                strbuf_append(b, "/>\n");
        }
        strbuf_append(b, "  </os>\n");
}

static void format_hyperv(struct strbuf *b, const struct domain_hyperv *h)
{
        strbuf_append(b, "    <hyperv mode='custom'");
        bool any = false;
        for (size_t i = 0; i < domain_hyperv_n_flags; i++) {
                enum domain_tristate st = domain_hyperv_get(h, i);
                if (!st)
                        continue;
                if (!any)
                        strbuf_append(b, ">\n");
                any = true;
                open_tag(b, 6, domain_hyperv_flags[i].name);
                attr_s(b, "state", st == DOMAIN_TRISTATE_ON ? "on" : "off");
                if (&h->spinlocks ==
                            (const void *)((const char *)h + domain_hyperv_flags[i].offset) &&
                    h->spinlocks_retries)
                        attr_i(b, "retries", h->spinlocks_retries);
                if (&h->vendor_id ==
                    (const void *)((const char *)h + domain_hyperv_flags[i].offset))
                        attr_s(b, "value", h->vendor_id_value);
                strbuf_append(b, "/>\n");
        }
        strbuf_append(b, any ? "    </hyperv>\n" : "/>\n");
}

static void format_features(struct strbuf *b, const struct domain_def *def)
{
        const struct domain_features *f = &def->features;
        if (!f->acpi && !f->apic && !f->pae && !f->hap && !f->viridian && !f->privnet &&
            !f->hyperv.present && !f->vmport && !f->has_caps && !f->pvspinlock)
                return;
        strbuf_append(b, "  <features>\n");
        if (f->acpi)
                strbuf_append(b, "    <acpi/>\n");
        if (f->apic && f->apic_eoi)
                strbuf_printf(b, "    <apic eoi='%s'/>\n",
                              f->apic_eoi == DOMAIN_TRISTATE_ON ? "on" : "off");
        else if (f->apic)
                strbuf_append(b, "    <apic/>\n");
        if (f->pae)
                strbuf_append(b, "    <pae/>\n");
        if (f->hap)
                strbuf_append(b, "    <hap/>\n");
        if (f->viridian)
                strbuf_append(b, "    <viridian/>\n");
        if (f->privnet)
                strbuf_append(b, "    <privnet/>\n");
        if (f->hyperv.present)
                format_hyperv(b, &f->hyperv);
        if (f->pvspinlock)
                strbuf_printf(b, "    <pvspinlock state='%s'/>\n",
                              f->pvspinlock == DOMAIN_TRISTATE_ON ? "on" : "off");
        if (f->vmport)
                strbuf_printf(b, "    <vmport state='%s'/>\n",
                              f->vmport == DOMAIN_TRISTATE_ON ? "on" : "off");
        if (f->has_caps) {
                strbuf_printf(b, "    <capabilities policy='%s'",
                              domain_caps_policy_to_string(f->caps_policy));
                if (!f->n_caps) {
                        strbuf_append(b, "/>\n");
                } else {
                        strbuf_append(b, ">\n");
                        for (int i = 0; i < f->n_caps; i++)
                                strbuf_printf(b, "      <%s state='%s'/>\n", f->caps[i].name,
                                              f->caps[i].on ? "on" : "off");
                        strbuf_append(b, "    </capabilities>\n");
                }
        }
        strbuf_append(b, "  </features>\n");
}

static void format_idmap(struct strbuf *b, const struct domain_def *def)
{
        if (!def->n_uidmap && !def->n_gidmap)
                return;
        strbuf_append(b, "  <idmap>\n");
        for (int i = 0; i < def->n_uidmap; i++)
                strbuf_printf(b, "    <uid start='%u' target='%u' count='%u'/>\n",
                              def->uidmap[i].start, def->uidmap[i].target, def->uidmap[i].count);
        for (int i = 0; i < def->n_gidmap; i++)
                strbuf_printf(b, "    <gid start='%u' target='%u' count='%u'/>\n",
                              def->gidmap[i].start, def->gidmap[i].target, def->gidmap[i].count);
        strbuf_append(b, "  </idmap>\n");
}

/* As libvirt's virCPUDefFormatBufFull: the mode unless a custom CPU has
 * no model; match for a custom model; <model> with its fallback for a
 * custom model (a host-model's only when 'forbid' or with a vendor_id). */
static void format_cpu(struct strbuf *b, const struct domain_def *def)
{
        const struct domain_cpu *cpu = &def->cpu;
        if (cpu->mode == DOMAIN_CPU_MODE_NONE)
                return;
        bool custom = cpu->mode == DOMAIN_CPU_MODE_CUSTOM;
        open_tag(b, 2, "cpu");
        if (!custom || cpu->model)
                attr_s(b, "mode", domain_cpu_mode_to_string(cpu->mode));
        if (custom && cpu->model && cpu->match)
                attr_s(b, "match", domain_cpu_match_to_string(cpu->match));
        if (cpu->check)
                attr_s(b, "check", domain_cpu_check_to_string(cpu->check));
        if (cpu->migratable)
                attr_s(b, "migratable", cpu->migratable == DOMAIN_TRISTATE_ON ? "on" : "off");
        bool fallback = (custom && cpu->model) || (cpu->mode == DOMAIN_CPU_MODE_HOST_MODEL &&
                                                   cpu->fallback != DOMAIN_CPU_FALLBACK_ALLOW);
        if (!cpu->model && !fallback && !cpu->vendor_id && !cpu->vendor && !cpu->sockets &&
            !cpu->n_features) {
                strbuf_append(b, "/>\n");
                return;
        }
        strbuf_append(b, ">\n");
        if (cpu->model || fallback || cpu->vendor_id) {
                open_tag(b, 4, "model");
                if (fallback)
                        attr_s(b, "fallback", domain_cpu_fallback_to_string(cpu->fallback));
                attr_s(b, "vendor_id", cpu->vendor_id);
                if (cpu->model) {
                        strbuf_append(b, ">");
                        append_escaped(b, cpu->model, false);
                        strbuf_append(b, "</model>\n");
                } else {
                        strbuf_append(b, "/>\n");
                }
        }
        elem_text(b, 4, "vendor", cpu->vendor);
        if (cpu->sockets)
                strbuf_printf(b, "    <topology sockets='%u' dies='%u' cores='%u' threads='%u'/>\n",
                              cpu->sockets, cpu->dies ? cpu->dies : 1, cpu->cores, cpu->threads);
        for (int i = 0; i < cpu->n_features; i++) {
                open_tag(b, 4, "feature");
                attr_s(b, "policy", domain_cpu_policy_to_string(cpu->features[i].policy));
                attr_s(b, "name", cpu->features[i].name);
                strbuf_append(b, "/>\n");
        }
        strbuf_append(b, "  </cpu>\n");
}

static void format_clock(struct strbuf *b, const struct domain_def *def)
{
        open_tag(b, 2, "clock");
        attr_s(b, "offset", domain_clock_offset_to_string(def->clock_offset));
        attr_s(b, "timezone", def->clock_timezone);
        attr_s(b, "adjustment", def->clock_adjustment);
        attr_s(b, "basis", def->clock_basis);
        if (!def->n_timers) {
                strbuf_append(b, "/>\n");
        } else {
                strbuf_append(b, ">\n");
                for (int i = 0; i < def->n_timers; i++) {
                        const struct domain_timer *t = &def->timers[i];
                        open_tag(b, 4, "timer");
                        attr_s(b, "name", domain_timer_name_to_string(t->name));
                        if (t->tickpolicy)
                                attr_s(b, "tickpolicy",
                                       domain_timer_tickpolicy_to_string(t->tickpolicy));
                        if (t->present)
                                attr_s(b, "present",
                                       t->present == DOMAIN_TRISTATE_ON ? "yes" : "no");
                        strbuf_append(b, "/>\n");
                }
                strbuf_append(b, "  </clock>\n");
        }
        elem_text(b, 2, "on_poweroff", domain_lifecycle_to_string(def->on_poweroff));
        elem_text(b, 2, "on_reboot", domain_lifecycle_to_string(def->on_reboot));
        elem_text(b, 2, "on_crash", domain_lifecycle_to_string(def->on_crash));
}

static void format_pm(struct strbuf *b, const struct domain_def *def)
{
        static const char *const names[] = {"suspend-to-mem", "suspend-to-disk"};
        const enum domain_tristate v[] = {def->pm_suspend_to_mem, def->pm_suspend_to_disk};
        if (v[0] == DOMAIN_TRISTATE_ABSENT && v[1] == DOMAIN_TRISTATE_ABSENT)
                return;
        strbuf_append(b, "  <pm>\n");
        for (int i = 0; i < 2; i++)
                if (v[i] != DOMAIN_TRISTATE_ABSENT)
                        strbuf_printf(b, "    <%s enabled='%s'/>\n", names[i],
                                      v[i] == DOMAIN_TRISTATE_ON ? "yes" : "no");
        strbuf_append(b, "  </pm>\n");
}

static void format_disk(struct strbuf *b, const struct domain_disk *d)
{
        open_tag(b, 4, "disk");
        attr_s(b, "type", domain_disk_type_to_string(d->type));
        attr_s(b, "device", domain_disk_device_to_string(d->device));
        strbuf_append(b, ">\n");
        if (d->driver_name || d->format != DOMAIN_DISK_FORMAT_NONE || d->driver_cache) {
                open_tag(b, 6, "driver");
                attr_s(b, "name", d->driver_name);
                if (d->format != DOMAIN_DISK_FORMAT_NONE)
                        attr_s(b, "type", domain_disk_format_to_string(d->format));
                attr_s(b, "cache", d->driver_cache);
                strbuf_append(b, "/>\n");
        }
        if (d->source) {
                open_tag(b, 6, "source");
                attr_s(b, d->type == DOMAIN_DISK_FILE ? "file" : "dev", d->source);
                strbuf_append(b, "/>\n");
        }
        if (d->backing_source) {
                strbuf_append(b, "      <backingStore type='file'>\n");
                if (d->backing_format != DOMAIN_DISK_FORMAT_NONE) {
                        open_tag(b, 8, "format");
                        attr_s(b, "type", domain_disk_format_to_string(d->backing_format));
                        strbuf_append(b, "/>\n");
                }
                open_tag(b, 8, "source");
                attr_s(b, "file", d->backing_source);
                strbuf_append(b, "/>\n      </backingStore>\n");
        }
        open_tag(b, 6, "target");
        attr_s(b, "dev", d->target_dev);
        if (d->bus != DOMAIN_DISK_BUS_NONE)
                attr_s(b, "bus", domain_disk_bus_to_string(d->bus));
        strbuf_append(b, "/>\n");
        if (d->readonly)
                strbuf_append(b, "      <readonly/>\n");
        if (d->shareable)
                strbuf_append(b, "      <shareable/>\n");
        format_address(b, 6, &d->address);
        strbuf_append(b, "    </disk>\n");
}

static void format_filesystem(struct strbuf *b, const struct domain_fs *fs)
{
        open_tag(b, 4, "filesystem");
        attr_s(b, "type", domain_fs_type_to_string(fs->type));
        attr_s(b, "accessmode", fs->accessmode);
        strbuf_append(b, ">\n");
        if (fs->driver_type || fs->driver_format) {
                open_tag(b, 6, "driver");
                attr_s(b, "type", fs->driver_type);
                attr_s(b, "format", fs->driver_format);
                strbuf_append(b, "/>\n");
        }
        open_tag(b, 6, "source");
        switch (fs->type) {
        case DOMAIN_FS_RAM:
                strbuf_printf(b, " usage='%llu' units='KiB'", fs->usage_kib);
                break;
        case DOMAIN_FS_FILE:
                attr_s(b, "file", fs->source);
                break;
        case DOMAIN_FS_BLOCK:
                attr_s(b, "dev", fs->source);
                break;
        default:
                attr_s(b, "dir", fs->source);
                break;
        }
        strbuf_append(b, "/>\n");
        open_tag(b, 6, "target");
        attr_s(b, "dir", fs->target);
        strbuf_append(b, "/>\n");
        if (fs->readonly)
                strbuf_append(b, "      <readonly/>\n");
        strbuf_append(b, "    </filesystem>\n");
}

static void format_net(struct strbuf *b, const struct domain_net *n, unsigned flags)
{
        const char *target = n->target_dev;
        if (!target && (flags & DOMAIN_FORMAT_LIVE))
                target = n->ifname;
        open_tag(b, 4, "interface");
        attr_s(b, "type", domain_net_type_to_string(n->type));
        strbuf_append(b, ">\n");
        if (n->mac) {
                open_tag(b, 6, "mac");
                attr_s(b, "address", n->mac);
                attr_s(b, "type", n->mac_type);
                attr_s(b, "check", n->mac_check);
                strbuf_append(b, "/>\n");
        }
        if (n->source) {
                open_tag(b, 6, "source");
                attr_s(b, n->type == DOMAIN_NET_BRIDGE ? "bridge" : "network", n->source);
                strbuf_append(b, "/>\n");
        }
        for (int i = 0; i < n->n_ips; i++) {
                const struct domain_ip *ip = &n->ips[i];
                open_tag(b, 6, "ip");
                attr_s(b, "address", ip->address);
                attr_s(b, "family", ip->family);
                if (ip->prefix >= 0)
                        attr_i(b, "prefix", ip->prefix);
                attr_s(b, "peer", ip->peer);
                strbuf_append(b, "/>\n");
        }
        for (int i = 0; i < n->n_routes; i++) {
                const struct domain_route *rt = &n->routes[i];
                open_tag(b, 6, "route");
                attr_s(b, "family", rt->family);
                attr_s(b, "address", rt->address);
                if (rt->prefix >= 0)
                        attr_i(b, "prefix", rt->prefix);
                attr_s(b, "gateway", rt->gateway);
                if (rt->metric >= 0)
                        attr_i(b, "metric", rt->metric);
                strbuf_append(b, "/>\n");
        }
        if (n->script) {
                open_tag(b, 6, "script");
                attr_s(b, "path", n->script);
                strbuf_append(b, "/>\n");
        }
        if (target) {
                open_tag(b, 6, "target");
                attr_s(b, "dev", target);
                strbuf_append(b, "/>\n");
        }
        if (n->guest_dev) {
                open_tag(b, 6, "guest");
                attr_s(b, "dev", n->guest_dev);
                strbuf_append(b, "/>\n");
        }
        if (n->model) {
                open_tag(b, 6, "model");
                attr_s(b, "type", n->model);
                strbuf_append(b, "/>\n");
        }
        if (n->mtu)
                strbuf_printf(b, "      <mtu size='%d'/>\n", n->mtu);
        format_address(b, 6, &n->address);
        strbuf_append(b, "    </interface>\n");
}

static void format_chr(struct strbuf *b, const struct domain_chr *c)
{
        const char *tag = domain_chr_kind_to_string(c->kind);
        open_tag(b, 4, tag);
        attr_s(b, "type", c->source_type);
        /* libvirt names a running console's pty here too */
        if (c->kind == DOMAIN_CHR_CONSOLE)
                attr_s(b, "tty", c->source_path);
        strbuf_append(b, ">\n");
        if (c->source_path) {
                open_tag(b, 6, "source");
                attr_s(b, "path", c->source_path);
                strbuf_append(b, "/>\n");
        }
        if (c->target_type || c->target_port >= 0 || c->target_model) {
                open_tag(b, 6, "target");
                attr_s(b, "type", c->target_type);
                if (c->target_port >= 0)
                        attr_i(b, "port", c->target_port);
                if (c->target_model) {
                        strbuf_append(b, ">\n");
                        open_tag(b, 8, "model");
                        attr_s(b, "name", c->target_model);
                        strbuf_append(b, "/>\n      </target>\n");
                } else {
                        strbuf_append(b, "/>\n");
                }
        }
        format_alias(b, 6, c->alias);
        strbuf_printf(b, "    </%s>\n", tag);
}

static void format_channel(struct strbuf *b, const struct domain_channel *c)
{
        open_tag(b, 4, "channel");
        attr_s(b, "type", domain_channel_type_to_string(c->type));
        strbuf_append(b, ">\n");
        if (c->source_path) {
                open_tag(b, 6, "source");
                attr_s(b, "mode", "bind");
                attr_s(b, "path", c->source_path);
                strbuf_append(b, "/>\n");
        }
        open_tag(b, 6, "target");
        attr_s(b, "type", c->target_type);
        attr_s(b, "name", c->target_name);
        strbuf_append(b, "/>\n");
        format_address(b, 6, &c->address);
        strbuf_append(b, "    </channel>\n");
}

static void format_graphics(struct strbuf *b, const struct domain_graphics *g, unsigned flags)
{
        open_tag(b, 4, "graphics");
        attr_s(b, "type", domain_graphics_type_to_string(g->type));
        bool live = flags & DOMAIN_FORMAT_LIVE;
        if (live && g->live_port > 0)
                attr_i(b, "port", g->live_port);
        else if (g->autoport)
                attr_i(b, "port", -1);
        else if (g->port >= 0)
                attr_i(b, "port", g->port);
        if (live && g->live_tls_port > 0)
                attr_i(b, "tlsPort", g->live_tls_port);
        else if (g->tls_port >= 0)
                attr_i(b, "tlsPort", g->tls_port);
        attr_s(b, "autoport", g->autoport ? "yes" : "no");
        if (g->websocket != -1)
                attr_i(b, "websocket", g->websocket);
        attr_s(b, "listen", g->listen);
        if (!(flags & DOMAIN_FORMAT_HIDE_SECRETS))
                attr_s(b, "passwd", g->passwd);
        attr_s(b, "keymap", g->keymap);
        attr_s(b, "defaultMode", g->defaultmode);
        if (!g->n_listens && !g->mouse_mode && !g->clipboard_copypaste && !g->image_compression &&
            !g->n_channels) {
                strbuf_append(b, "/>\n");
                return;
        }
        strbuf_append(b, ">\n");
        for (int i = 0; i < g->n_listens; i++) {
                open_tag(b, 6, "listen");
                attr_s(b, "type", g->listens[i].type);
                attr_s(b, "address", g->listens[i].address);
                strbuf_append(b, "/>\n");
        }
        for (int i = 0; i < g->n_channels; i++) {
                open_tag(b, 6, "channel");
                attr_s(b, "name", g->channels[i].name);
                attr_s(b, "mode", g->channels[i].mode);
                strbuf_append(b, "/>\n");
        }
        if (g->image_compression) {
                open_tag(b, 6, "image");
                attr_s(b, "compression", g->image_compression);
                strbuf_append(b, "/>\n");
        }
        if (g->mouse_mode) {
                open_tag(b, 6, "mouse");
                attr_s(b, "mode", g->mouse_mode);
                strbuf_append(b, "/>\n");
        }
        if (g->clipboard_copypaste) {
                open_tag(b, 6, "clipboard");
                attr_s(b, "copypaste", g->clipboard_copypaste);
                strbuf_append(b, "/>\n");
        }
        strbuf_append(b, "    </graphics>\n");
}

static void format_devices(struct strbuf *b, const struct domain_def *def, unsigned flags)
{
        strbuf_append(b, "  <devices>\n");
        elem_text(b, 4, "emulator", def->emulator);
        for (int i = 0; i < def->n_disks; i++)
                format_disk(b, &def->disks[i]);
        for (int i = 0; i < def->n_controllers; i++) {
                const struct domain_controller *c = &def->controllers[i];
                open_tag(b, 4, "controller");
                attr_s(b, "type", domain_controller_type_to_string(c->type));
                attr_i(b, "index", c->index);
                attr_s(b, "model", c->model);
                if (c->ports)
                        attr_i(b, "ports", (int)c->ports);
                bool target = c->target_chassis >= 0 || c->target_port >= 0;
                if (!c->address.type && !c->model_name && !target) {
                        strbuf_append(b, "/>\n");
                        continue;
                }
                strbuf_append(b, ">\n");
                if (c->model_name) {
                        open_tag(b, 6, "model");
                        attr_s(b, "name", c->model_name);
                        strbuf_append(b, "/>\n");
                }
                if (target) {
                        open_tag(b, 6, "target");
                        if (c->target_chassis >= 0)
                                attr_i(b, "chassis", c->target_chassis);
                        if (c->target_port >= 0)
                                strbuf_printf(b, " port='0x%x'", (unsigned)c->target_port);
                        strbuf_append(b, "/>\n");
                }
                format_address(b, 6, &c->address);
                strbuf_append(b, "    </controller>\n");
        }
        for (int i = 0; i < def->n_filesystems; i++)
                format_filesystem(b, &def->filesystems[i]);
        for (int i = 0; i < def->n_nets; i++)
                format_net(b, &def->nets[i], flags);
        for (int i = 0; i < def->n_chrs; i++)
                format_chr(b, &def->chrs[i]);
        for (int i = 0; i < def->n_channels; i++)
                format_channel(b, &def->channels[i]);
        for (int i = 0; i < def->n_inputs; i++) {
                const struct domain_input *in = &def->inputs[i];
                strbuf_printf(b, "    <input type='%s' bus='%s'",
                              domain_input_type_to_string(in->type),
                              domain_input_bus_to_string(in->bus));
                if (in->address.type) {
                        strbuf_append(b, ">\n");
                        format_address(b, 6, &in->address);
                        strbuf_append(b, "    </input>\n");
                } else {
                        strbuf_append(b, "/>\n");
                }
        }
        for (int i = 0; i < def->n_graphics; i++)
                format_graphics(b, &def->graphics[i], flags);
        for (int i = 0; i < def->n_sounds; i++) {
                const struct domain_sound *snd = &def->sounds[i];
                open_tag(b, 4, "sound");
                attr_s(b, "model", snd->model);
                if (!snd->audio_id && !snd->address.type) {
                        strbuf_append(b, "/>\n");
                        continue;
                }
                strbuf_append(b, ">\n");
                if (snd->audio_id)
                        strbuf_printf(b, "      <audio id='%u'/>\n", snd->audio_id);
                format_address(b, 6, &snd->address);
                strbuf_append(b, "    </sound>\n");
        }
        for (int i = 0; i < def->n_audios; i++)
                strbuf_printf(b, "    <audio id='%u' type='%s'/>\n", def->audios[i].id,
                              domain_audio_type_to_string(def->audios[i].type));
        for (int i = 0; i < def->n_videos; i++) {
                const struct domain_video *v = &def->videos[i];
                strbuf_append(b, "    <video>\n");
                open_tag(b, 6, "model");
                attr_s(b, "type", v->model);
                if (v->ram)
                        attr_i(b, "ram", v->ram);
                if (v->vram)
                        attr_i(b, "vram", v->vram);
                if (v->vram64)
                        attr_i(b, "vram64", v->vram64);
                if (v->vgamem)
                        attr_i(b, "vgamem", v->vgamem);
                if (v->heads)
                        attr_i(b, "heads", v->heads);
                if (v->primary != DOMAIN_TRISTATE_ABSENT)
                        attr_s(b, "primary", v->primary == DOMAIN_TRISTATE_ON ? "yes" : "no");
                strbuf_append(b, "/>\n");
                format_address(b, 6, &v->address);
                strbuf_append(b, "    </video>\n");
        }
        for (int i = 0; i < def->n_redirdevs; i++) {
                const struct domain_redirdev *rd = &def->redirdevs[i];
                open_tag(b, 4, "redirdev");
                attr_s(b, "bus", rd->bus);
                attr_s(b, "type", rd->type);
                if (rd->address.type) {
                        strbuf_append(b, ">\n");
                        format_address(b, 6, &rd->address);
                        strbuf_append(b, "    </redirdev>\n");
                } else {
                        strbuf_append(b, "/>\n");
                }
        }
        if (def->memballoon_model) {
                open_tag(b, 4, "memballoon");
                attr_s(b, "model", def->memballoon_model);
                if (def->memballoon_address.type) {
                        strbuf_append(b, ">\n");
                        format_address(b, 6, &def->memballoon_address);
                        strbuf_append(b, "    </memballoon>\n");
                } else {
                        strbuf_append(b, "/>\n");
                }
        }
        for (int i = 0; i < def->n_rngs; i++) {
                const struct domain_rng *rng = &def->rngs[i];
                open_tag(b, 4, "rng");
                attr_s(b, "model", rng->model);
                strbuf_append(b, ">\n");
                open_tag(b, 6, "backend");
                attr_s(b, "model", rng->backend_model);
                if (rng->backend) {
                        strbuf_append(b, ">");
                        append_escaped(b, rng->backend, false);
                        strbuf_append(b, "</backend>\n");
                } else {
                        strbuf_append(b, "/>\n");
                }
                format_address(b, 6, &rng->address);
                strbuf_append(b, "    </rng>\n");
        }
        strbuf_append(b, "  </devices>\n");
}

char *domain_format(const struct domain_def *def)
{
        return domain_format_flags(def, 0);
}

char *domain_format_flags(const struct domain_def *def, unsigned flags)
{
        struct strbuf b = {0};
        char uuid[37];
        domain_uuid_format(def->uuid, uuid);
        strbuf_printf(&b, "<domain type='%s'>\n", domain_type_to_string(def->type));
        elem_text(&b, 2, "name", def->name);
        elem_text(&b, 2, "uuid", uuid);
        elem_text(&b, 2, "title", def->title);
        elem_text(&b, 2, "description", def->description);
        if (def->metadata_xml)
                strbuf_printf(&b, "  <metadata>%s</metadata>\n", def->metadata_xml);
        format_memory(&b, def);
        format_vcpu(&b, def);
        if (def->resource_partition) {
                strbuf_append(&b, "  <resource>\n");
                elem_text(&b, 4, "partition", def->resource_partition);
                strbuf_append(&b, "  </resource>\n");
        }
        format_os(&b, def);
        format_features(&b, def);
        format_cpu(&b, def);
        format_idmap(&b, def);
        format_clock(&b, def);
        format_pm(&b, def);
        format_devices(&b, def, flags);
        if (def->seclabel_type) {
                open_tag(&b, 2, "seclabel");
                attr_s(&b, "type", def->seclabel_type);
                strbuf_append(&b, "/>\n");
        }
        strbuf_append(&b, "</domain>\n");
        return strbuf_steal(&b);
}
