/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Domain XML → model (libxml2): the document, safety limits, and the
 * top-level elements. Devices are in domain_parse_devices.c. */
#include <libxml/xmlsave.h>

#include "conf/domain_parse_priv.h"
#include "conf/xml_load.h"
#include "util/fileio.h"

/* ---- the document ---- */

static int document_load(const char *xml, size_t len, const char *file, xmlDocPtr *ret,
                         struct lv_error **err)
{
        int line = 0;
        _cleanup_free_ char *reason = NULL;
        if (xml_load_untrusted(xml, len, DOMAIN_XML_MAX_BYTES, file, ret, &line, &reason) < 0) {
                if (line > 0)
                        return lv_error_setf(err, LV_ERR_INVALID_XML, "%s:%d: %s", file, line,
                                             reason);
                return lv_error_setf(err, LV_ERR_INVALID_XML, "%s: %s", file, reason);
        }
        return 0;
}

/* ---- top-level elements ---- */

static int parse_metadata(struct pctx *c, xmlNodePtr root)
{
        int r = 0;
        xmlNodePtr m = dparse_child_get(c, root, "metadata", &r);
        if (r < 0 || !m)
                return r;
        dparse_node_consume_tree(m);
        xmlBufferPtr buf = xmlBufferCreate();
        if (!buf)
                abort();
        for (xmlNodePtr ch = m->children; ch; ch = ch->next)
                xmlNodeDump(buf, m->doc, ch, 0, 0);
        c->def->metadata_xml = xstrdup((const char *)xmlBufferContent(buf));
        xmlBufferFree(buf);
        return 0;
}

static int parse_memory(struct pctx *c, xmlNodePtr root)
{
        struct domain_def *def = c->def;
        int r = 0;
        xmlNodePtr n = dparse_child_get(c, root, "memory", &r);
        if (r < 0)
                return r;
        if (!n)
                return dparse_perr(c, root, "missing element 'memory'");
        r = dparse_elem_memory(c, n, &def->memory_kib);
        if (r < 0)
                return r;
        n = dparse_child_get(c, root, "currentMemory", &r);
        if (r < 0)
                return r;
        if (n && (r = dparse_elem_memory(c, n, &def->current_memory_kib)) < 0)
                return r;
        n = dparse_child_get(c, root, "maxMemory", &r);
        if (r < 0)
                return r;
        if (n) {
                unsigned long long slots = 0;
                if ((r = dparse_attr_uint(c, n, "slots", 255, &slots)) < 0 ||
                    (r = dparse_elem_memory(c, n, &def->max_memory_kib)) < 0)
                        return r;
                def->max_memory_slots = (unsigned)slots;
        }
        return 0;
}

static int parse_vcpu(struct pctx *c, xmlNodePtr root)
{
        struct domain_def *def = c->def;
        int r = 0;
        def->vcpus = 1;
        xmlNodePtr n = dparse_child_get(c, root, "vcpu", &r);
        if (r < 0)
                return r;
        if (n) {
                _cleanup_free_ char *v = dparse_node_text(n);
                unsigned long long cur = 0;
                char *end = NULL;
                errno = 0;
                unsigned long x = strtoul(v, &end, 10);
                if (!*v || *end || errno || x < 1 || x > 4096)
                        return dparse_perr(c, n, "'%s' is not a vcpu count (1..4096)", v);
                def->vcpus = (unsigned)x;
                if ((r = dparse_attr_uint(c, n, "current", 4096, &cur)) < 0)
                        return r;
                def->vcpus_current = (unsigned)cur;
                def->vcpu_placement = dparse_attr_get(n, "placement");
                def->vcpu_cpuset = dparse_attr_get(n, "cpuset");
                if (def->vcpu_placement && !streq(def->vcpu_placement, "static") &&
                    !streq(def->vcpu_placement, "auto"))
                        return dparse_perr_attr(c, n, "placement",
                                                "value '%s' not supported by litevirt",
                                                def->vcpu_placement);
        }
        n = dparse_child_get(c, root, "vcpus", &r);
        if (r < 0 || !n)
                return r;
        for_each_child(v, n, "vcpu")
        {
                struct domain_vcpu_entry *e = ARRAY_PUSH(def->vcpu_entries, def->n_vcpu_entries);
                unsigned long long id = 0, order = 0;
                e->enabled = true;
                if (!xmlHasNsProp(v, BAD_CAST "id", NULL))
                        return dparse_perr(c, v, "missing attribute 'id'");
                if ((r = dparse_attr_uint(c, v, "id", 4095, &id)) < 0 ||
                    (r = dparse_attr_bool(c, v, "enabled", &e->enabled)) < 0 ||
                    (r = dparse_attr_tristate(c, v, "hotpluggable", &e->hotpluggable)) < 0 ||
                    (r = dparse_attr_uint(c, v, "order", 4096, &order)) < 0)
                        return r;
                e->id = (unsigned)id;
                e->order = (int)order;
        }
        return 0;
}

static int parse_os(struct pctx *c, xmlNodePtr root)
{
        struct domain_os *os = &c->def->os;
        int r = 0;
        xmlNodePtr n = dparse_child_get(c, root, "os", &r);
        if (r < 0)
                return r;
        if (!n)
                return dparse_perr(c, root, "missing element 'os'");
        xmlNodePtr t = dparse_child_get(c, n, "type", &r);
        if (r < 0)
                return r;
        if (!t)
                return dparse_perr(c, n, "missing element 'type'");
        _cleanup_free_ char *type = dparse_node_text(t);
        int ot = domain_os_type_from_string(type);
        if (ot < 0)
                return dparse_perr(c, t, "os type '%s' not supported by litevirt", type);
        os->type = ot;
        os->arch = dparse_attr_get(t, "arch");
        os->machine = dparse_attr_get(t, "machine");
        if ((r = dparse_elem_text(c, n, "kernel", &os->kernel)) < 0 ||
            (r = dparse_elem_text(c, n, "initrd", &os->initrd)) < 0 ||
            (r = dparse_elem_text(c, n, "cmdline", &os->cmdline)) < 0 ||
            (r = dparse_elem_text(c, n, "init", &os->init)) < 0 ||
            (r = dparse_elem_text(c, n, "initdir", &os->initdir)) < 0 ||
            (r = dparse_elem_text(c, n, "inituser", &os->inituser)) < 0 ||
            (r = dparse_elem_text(c, n, "initgroup", &os->initgroup)) < 0)
                return r;
        os->firmware = dparse_attr_get(n, "firmware");
        if (os->firmware && !streq(os->firmware, "efi") && !streq(os->firmware, "bios"))
                return dparse_perr_attr(c, n, "firmware", "value '%s' not supported by litevirt",
                                        os->firmware);
        xmlNodePtr fw = dparse_child_get(c, n, "firmware", &r);
        if (r < 0)
                return r;
        if (fw)
                for_each_child(f, fw, "feature")
                {
                        _cleanup_free_ char *name = NULL;
                        enum domain_tristate *st = NULL;
                        if ((r = dparse_attr_require(c, f, "name", &name)) < 0)
                                return r;
                        if (streq(name, "secure-boot"))
                                st = &os->fw_secure_boot;
                        else if (streq(name, "enrolled-keys"))
                                st = &os->fw_enrolled_keys;
                        else
                                return dparse_perr_attr(c, f, "name",
                                                        "value '%s' not supported by litevirt "
                                                        "(secure-boot, enrolled-keys)",
                                                        name);
                        if (*st)
                                return dparse_perr(c, f, "feature '%s' given twice", name);
                        if (!xmlHasNsProp(f, BAD_CAST "enabled", NULL))
                                return dparse_perr(c, f, "missing attribute 'enabled'");
                        if ((r = dparse_attr_tristate(c, f, "enabled", st)) < 0)
                                return r;
                }
        xmlNodePtr nv = dparse_child_get(c, n, "nvram", &r);
        if (r < 0)
                return r;
        if (nv) {
                os->nvram = dparse_node_text(nv);
                if (!*os->nvram)
                        free(TAKE_PTR(os->nvram));
                os->nvram_template = dparse_attr_get(nv, "template");
        }
        xmlNodePtr l = dparse_child_get(c, n, "loader", &r);
        if (r < 0)
                return r;
        if (l) {
                os->loader = dparse_node_text(l);
                if (!*os->loader)
                        free(TAKE_PTR(os->loader));
                if ((r = dparse_attr_tristate(c, l, "readonly", &os->loader_readonly)) < 0 ||
                    (r = dparse_attr_tristate(c, l, "secure", &os->loader_secure)) < 0)
                        return r;
                os->loader_type = dparse_attr_get(l, "type");
                if (os->loader_type && !streq(os->loader_type, "rom") &&
                    !streq(os->loader_type, "pflash"))
                        return dparse_perr_attr(c, l, "type",
                                                "value '%s' not supported by litevirt",
                                                os->loader_type);
        }
        for_each_child(b, n, "boot")
        {
                int dev = -1;
                if ((r = dparse_attr_enum(c, b, "dev", domain_boot_dev_from_string, &dev)) < 0)
                        return r;
                if (dev < 0)
                        return dparse_perr(c, b, "missing attribute 'dev'");
                for (int i = 0; i < os->n_boot; i++)
                        if (os->boot[i] == (enum domain_boot_dev)dev)
                                return dparse_perr(c, b, "boot device '%s' given twice",
                                                   domain_boot_dev_to_string(dev));
                os->boot[os->n_boot++] = dev;
        }
        xmlNodePtr bm = dparse_child_get(c, n, "bootmenu", &r);
        if (r < 0)
                return r;
        if (bm) {
                if (!xmlHasNsProp(bm, BAD_CAST "enable", NULL))
                        return dparse_perr(c, bm, "missing attribute 'enable'");
                if ((r = dparse_attr_tristate(c, bm, "enable", &os->bootmenu)) < 0)
                        return r;
                if (xmlHasNsProp(bm, BAD_CAST "timeout", NULL)) {
                        unsigned long long ms = 0;
                        if (os->bootmenu != DOMAIN_TRISTATE_ON)
                                return dparse_perr_attr(c, bm, "timeout", "only with enable='yes'");
                        if ((r = dparse_attr_uint(c, bm, "timeout", 65535, &ms)) < 0)
                                return r;
                        os->has_bootmenu_timeout = true;
                        os->bootmenu_timeout = (unsigned)ms;
                }
        }
        for_each_child(a, n, "initarg") strv_push(&os->initargs, dparse_node_text(a));
        for_each_child(e, n, "initenv")
        {
                struct domain_env *env = ARRAY_PUSH(os->initenv, os->n_initenv);
                if ((r = dparse_attr_require(c, e, "name", &env->name)) < 0)
                        return r;
                env->value = dparse_node_text(e);
        }
        return 0;
}

static int parse_hyperv(struct pctx *c, xmlNodePtr features, struct domain_hyperv *h)
{
        int r = 0;
        xmlNodePtr n = dparse_child_get(c, features, "hyperv", &r);
        if (r < 0 || !n)
                return r;
        h->present = true;
        _cleanup_free_ char *mode = dparse_attr_get(n, "mode");
        if (mode && !streq(mode, "custom"))
                return dparse_perr_attr(
                        c, n, "mode", "value '%s' not supported by litevirt (only 'custom')", mode);
        for (size_t i = 0; i < domain_hyperv_n_flags; i++) {
                xmlNodePtr x = dparse_child_get(c, n, domain_hyperv_flags[i].name, &r);
                if (r < 0)
                        return r;
                if (!x)
                        continue;
                enum domain_tristate *st =
                        (enum domain_tristate *)(void *)((char *)h + domain_hyperv_flags[i].offset);
                if (!xmlHasNsProp(x, BAD_CAST "state", NULL))
                        return dparse_perr(c, x, "missing attribute 'state'");
                if ((r = dparse_attr_tristate(c, x, "state", st)) < 0)
                        return r;
                if (st == &h->spinlocks && *st == DOMAIN_TRISTATE_ON) {
                        unsigned long long retries = 0;
                        if (!xmlHasNsProp(x, BAD_CAST "retries", NULL))
                                return dparse_perr(c, x, "missing attribute 'retries'");
                        if ((r = dparse_attr_uint(c, x, "retries", UINT32_MAX, &retries)) < 0)
                                return r;
                        /* libvirt: at least 4095 (0xfff) */
                        if (retries < 4095)
                                return dparse_perr_attr(c, x, "retries", "must be at least 4095");
                        h->spinlocks_retries = (unsigned)retries;
                }
                if (st == &h->vendor_id && *st == DOMAIN_TRISTATE_ON) {
                        if ((r = dparse_attr_require(c, x, "value", &h->vendor_id_value)) < 0)
                                return r;
                        /* QEMU: at most 12 characters */
                        if (!*h->vendor_id_value || strlen(h->vendor_id_value) > 12 ||
                            strchr(h->vendor_id_value, ','))
                                return dparse_perr_attr(c, x, "value",
                                                        "'%s' is not 1-12 characters without ','",
                                                        h->vendor_id_value);
                }
        }
        return 0;
}

static int parse_features(struct pctx *c, xmlNodePtr root)
{
        struct domain_features *f = &c->def->features;
        int r = 0;
        xmlNodePtr n = dparse_child_get(c, root, "features", &r);
        if (r < 0 || !n)
                return r;
        static const struct {
                const char *name;
                size_t offset;
        } flags[] = {
                {"acpi", offsetof(struct domain_features, acpi)},
                {"apic", offsetof(struct domain_features, apic)},
                {"pae", offsetof(struct domain_features, pae)},
                {"hap", offsetof(struct domain_features, hap)},
                {"viridian", offsetof(struct domain_features, viridian)},
                {"privnet", offsetof(struct domain_features, privnet)},
        };
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
                xmlNodePtr x = dparse_child_get(c, n, flags[i].name, &r);
                if (r < 0)
                        return r;
                if (!x)
                        continue;
                bool on = true;
                if ((r = dparse_attr_bool(c, x, "state", &on)) < 0)
                        return r;
                *(bool *)((char *)f + flags[i].offset) = on;
                if (streq(flags[i].name, "apic") &&
                    (r = dparse_attr_tristate(c, x, "eoi", &f->apic_eoi)) < 0)
                        return r;
        }
        if ((r = parse_hyperv(c, n, &f->hyperv)) < 0)
                return r;
        xmlNodePtr pvspinlock = dparse_child_get(c, n, "pvspinlock", &r);
        if (r < 0)
                return r;
        if (pvspinlock) {
                f->pvspinlock = DOMAIN_TRISTATE_ON;
                if ((r = dparse_attr_tristate(c, pvspinlock, "state", &f->pvspinlock)) < 0)
                        return r;
        }
        xmlNodePtr vmport = dparse_child_get(c, n, "vmport", &r);
        if (r < 0)
                return r;
        if (vmport) {
                if (!xmlHasNsProp(vmport, BAD_CAST "state", NULL))
                        return dparse_perr(c, vmport, "missing attribute 'state'");
                if ((r = dparse_attr_tristate(c, vmport, "state", &f->vmport)) < 0)
                        return r;
        }
        xmlNodePtr caps = dparse_child_get(c, n, "capabilities", &r);
        if (r < 0 || !caps)
                return r;
        int policy = DOMAIN_CAPS_POLICY_DEFAULT;
        if ((r = dparse_attr_enum(c, caps, "policy", domain_caps_policy_from_string, &policy)) < 0)
                return r;
        f->has_caps = true;
        f->caps_policy = policy;
        for (xmlNodePtr cap = caps->children; cap; cap = cap->next) {
                if (cap->type != XML_ELEMENT_NODE || cap->ns)
                        continue;
                dparse_node_consume(cap);
                const char *name = (const char *)cap->name;
                for (const char *p = name; *p; p++)
                        if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') && *p != '_')
                                return dparse_perr(c, cap, "not a capability name");
                for (int i = 0; i < f->n_caps; i++)
                        if (streq(f->caps[i].name, name))
                                return dparse_perr(c, cap, "capability given twice");
                bool on = false;
                if (!xmlHasNsProp(cap, BAD_CAST "state", NULL))
                        return dparse_perr(c, cap, "missing attribute 'state'");
                if ((r = dparse_attr_bool(c, cap, "state", &on)) < 0)
                        return r;
                struct domain_cap *dc = ARRAY_PUSH(f->caps, f->n_caps);
                dc->name = xstrdup(name);
                dc->on = on;
        }
        return 0;
}

static int parse_idmap_entries(struct pctx *c, xmlNodePtr idmap, const char *name,
                               struct domain_idmap **arr, int *n)
{
        int r;
        for_each_child(e, idmap, name)
        {
                unsigned long long v[3] = {0, 0, 0};
                static const char *const attrs[] = {"start", "target", "count"};
                for (int i = 0; i < 3; i++) {
                        if (!xmlHasNsProp(e, BAD_CAST attrs[i], NULL))
                                return dparse_perr(c, e, "missing attribute '%s'", attrs[i]);
                        if ((r = dparse_attr_uint(c, e, attrs[i], UINT32_MAX, &v[i])) < 0)
                                return r;
                }
                if (v[2] == 0)
                        return dparse_perr_attr(c, e, "count", "must be at least 1");
                struct domain_idmap *m = ARRAY_PUSH(*arr, *n);
                m->start = (unsigned)v[0];
                m->target = (unsigned)v[1];
                m->count = (unsigned)v[2];
        }
        return 0;
}

static int parse_tuning(struct pctx *c, xmlNodePtr root)
{
        struct domain_def *def = c->def;
        int r = 0;
        xmlNodePtr n = dparse_child_get(c, root, "idmap", &r);
        if (r < 0)
                return r;
        if (n && ((r = parse_idmap_entries(c, n, "uid", &def->uidmap, &def->n_uidmap)) < 0 ||
                  (r = parse_idmap_entries(c, n, "gid", &def->gidmap, &def->n_gidmap)) < 0))
                return r;

        n = dparse_child_get(c, root, "cputune", &r);
        if (r < 0)
                return r;
        if (n) {
                unsigned long long quota = 0;
                bool neg = false;
                def->has_cputune = true;
                if ((r = dparse_elem_uint(c, n, "shares", 262144, &def->cputune.shares, NULL)) <
                            0 ||
                    (r = dparse_elem_uint(c, n, "period", 1000000, &def->cputune.period, NULL)) < 0)
                        return r;
                xmlNodePtr q = dparse_child_get(c, n, "quota", &r);
                if (r < 0)
                        return r;
                if (q) {
                        _cleanup_free_ char *v = dparse_node_text(q);
                        char *end = NULL;
                        errno = 0;
                        long long x = strtoll(v, &end, 10);
                        if (!*v || *end || errno || x < -1 || x > 17592186044415LL || x == 0)
                                return dparse_perr(
                                        c, q, "'%s' is not a quota (-1, or 1000..17592186044415)",
                                        v);
                        neg = x < 0;
                        quota = neg ? 0 : (unsigned long long)x;
                        def->cputune.quota = neg ? -1 : (long long)quota;
                }
        }

        n = dparse_child_get(c, root, "memtune", &r);
        if (r < 0)
                return r;
        if (n) {
                static const struct {
                        const char *name;
                        size_t offset;
                } limits[] = {
                        {"hard_limit", offsetof(struct domain_memtune, hard_limit)},
                        {"soft_limit", offsetof(struct domain_memtune, soft_limit)},
                        {"swap_hard_limit", offsetof(struct domain_memtune, swap_hard_limit)},
                        {"min_guarantee", offsetof(struct domain_memtune, min_guarantee)},
                };
                def->has_memtune = true;
                for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
                        xmlNodePtr l = dparse_child_get(c, n, limits[i].name, &r);
                        if (r < 0)
                                return r;
                        if (l &&
                            (r = dparse_elem_memory(c, l,
                                                    (unsigned long long *)((char *)&def->memtune +
                                                                           limits[i].offset))) < 0)
                                return r;
                }
        }

        n = dparse_child_get(c, root, "memoryBacking", &r);
        if (r < 0)
                return r;
        if (n) {
                xmlNodePtr x = dparse_child_get(c, n, "nosharepages", &r);
                if (r < 0)
                        return r;
                def->mem_nosharepages = x != NULL;
                x = dparse_child_get(c, n, "locked", &r);
                if (r < 0)
                        return r;
                def->mem_locked = x != NULL;
        }

        n = dparse_child_get(c, root, "blkiotune", &r);
        if (r < 0)
                return r;
        if (n) {
                unsigned long long w = 0;
                bool found = false;
                def->has_blkiotune = true;
                if ((r = dparse_elem_uint(c, n, "weight", 1000, &w, &found)) < 0)
                        return r;
                if (found && w < 100)
                        return dparse_perr(c, n, "weight %llu is out of range (100..1000)", w);
                def->blkiotune.weight = (unsigned)w;
        }

        n = dparse_child_get(c, root, "resource", &r);
        if (r < 0)
                return r;
        if (n && (r = dparse_elem_text(c, n, "partition", &def->resource_partition)) < 0)
                return r;
        return 0;
}

static int parse_clock_lifecycle(struct pctx *c, xmlNodePtr root)
{
        struct domain_def *def = c->def;
        int r = 0;
        xmlNodePtr n = dparse_child_get(c, root, "clock", &r);
        if (r < 0)
                return r;
        if (n) {
                int off = DOMAIN_CLOCK_UTC;
                if ((r = dparse_attr_enum(c, n, "offset", domain_clock_offset_from_string, &off)) <
                    0)
                        return r;
                def->clock_offset = off;
                def->clock_adjustment = dparse_attr_get(n, "adjustment");
                def->clock_basis = dparse_attr_get(n, "basis");
                def->clock_timezone = dparse_attr_get(n, "timezone");
                if (def->clock_basis && !streq(def->clock_basis, "utc") &&
                    !streq(def->clock_basis, "localtime"))
                        return dparse_perr_attr(c, n, "basis",
                                                "value '%s' not supported by litevirt",
                                                def->clock_basis);
                if (def->clock_adjustment && !streq(def->clock_adjustment, "reset")) {
                        char *end = NULL;
                        errno = 0;
                        (void)strtoll(def->clock_adjustment, &end, 10);
                        if (!*def->clock_adjustment || *end || errno)
                                return dparse_perr_attr(
                                        c, n, "adjustment",
                                        "'%s' is not 'reset' or a number of seconds",
                                        def->clock_adjustment);
                }
                if (def->clock_timezone && off != DOMAIN_CLOCK_TIMEZONE)
                        return dparse_perr_attr(c, n, "timezone",
                                                "only valid with offset='timezone'");
                if (off == DOMAIN_CLOCK_TIMEZONE && !def->clock_timezone)
                        return dparse_perr(c, n, "offset='timezone' needs a timezone attribute");
                for_each_child(t, n, "timer")
                {
                        int name = -1, policy = DOMAIN_TIMER_TICKPOLICY_NONE;
                        if ((r = dparse_attr_enum(c, t, "name", domain_timer_name_from_string,
                                                  &name)) < 0 ||
                            (r = dparse_attr_enum(c, t, "tickpolicy",
                                                  domain_timer_tickpolicy_from_string, &policy)) <
                                    0)
                                return r;
                        if (name < 0)
                                return dparse_perr(c, t, "missing attribute 'name'");
                        if (policy == DOMAIN_TIMER_TICKPOLICY_NONE &&
                            xmlHasNsProp(t, BAD_CAST "tickpolicy", NULL))
                                return dparse_perr_attr(c, t, "tickpolicy",
                                                        "value 'none' not supported by litevirt");
                        for (int i = 0; i < def->n_timers; i++)
                                if ((int)def->timers[i].name == name)
                                        return dparse_perr(c, t, "timer '%s' given twice",
                                                           domain_timer_name_to_string(name));
                        struct domain_timer *dt = ARRAY_PUSH(def->timers, def->n_timers);
                        dt->name = name;
                        dt->tickpolicy = policy;
                        if ((r = dparse_attr_tristate(c, t, "present", &dt->present)) < 0)
                                return r;
                }
        }
        static const char *const names[] = {"on_poweroff", "on_reboot", "on_crash"};
        enum domain_lifecycle *slots[] = {&def->on_poweroff, &def->on_reboot, &def->on_crash};
        def->on_poweroff = DOMAIN_LIFECYCLE_DESTROY;
        def->on_reboot = DOMAIN_LIFECYCLE_RESTART;
        def->on_crash = DOMAIN_LIFECYCLE_DESTROY;
        for (int i = 0; i < 3; i++) {
                xmlNodePtr l = dparse_child_get(c, root, names[i], &r);
                if (r < 0)
                        return r;
                if (!l)
                        continue;
                _cleanup_free_ char *v = dparse_node_text(l);
                int x = domain_lifecycle_from_string(v);
                if (x < 0)
                        return dparse_perr(c, l, "action '%s' not supported by litevirt", v);
                *slots[i] = x;
        }
        return 0;
}

static int parse_cpu_topology(struct pctx *c, xmlNodePtr n, struct domain_cpu *cpu)
{
        static const char *const names[] = {"sockets", "dies", "cores", "threads"};
        unsigned *slots[] = {&cpu->sockets, &cpu->dies, &cpu->cores, &cpu->threads};
        int r;
        for (int i = 0; i < 4; i++) {
                unsigned long long v = 0;
                bool dies = i == 1;
                if (!dies && !xmlHasNsProp(n, BAD_CAST names[i], NULL))
                        return dparse_perr(c, n, "missing attribute '%s'", names[i]);
                if ((r = dparse_attr_uint(c, n, names[i], 4096, &v)) < 0)
                        return r;
                if (v == 0 && (!dies || xmlHasNsProp(n, BAD_CAST names[i], NULL)))
                        return dparse_perr_attr(c, n, names[i], "must be 1 or more");
                *slots[i] = (unsigned)v;
        }
        return 0;
}

static int parse_cpu_features(struct pctx *c, xmlNodePtr n, struct domain_cpu *cpu)
{
        int r;
        for_each_child(f, n, "feature")
        {
                _cleanup_free_ char *name = NULL;
                if ((r = dparse_attr_require(c, f, "name", &name)) < 0)
                        return r;
                for (int i = 0; i < cpu->n_features; i++)
                        if (streq(cpu->features[i].name, name))
                                return dparse_perr(c, f, "CPU feature '%s' given twice", name);
                int policy = DOMAIN_CPU_POLICY_REQUIRE; /* libvirt's default in a guest */
                if ((r = dparse_attr_enum(c, f, "policy", domain_cpu_policy_from_string, &policy)) <
                    0)
                        return r;
                struct domain_cpu_feature *x = ARRAY_PUSH(cpu->features, cpu->n_features);
                x->name = TAKE_PTR(name);
                x->policy = policy;
        }
        return 0;
}

/* <cpu mode match check migratable> with <model fallback vendor_id>,
 * <vendor>, <topology>, <feature policy name> (libvirt's virCPUDefParseXML
 * rules; <numa>, <cache> and the rest are refused as unknown). */
static int parse_cpu(struct pctx *c, xmlNodePtr root)
{
        int r = 0;
        xmlNodePtr n = dparse_child_get(c, root, "cpu", &r);
        if (r < 0 || !n)
                return r;
        struct domain_cpu *cpu = &c->def->cpu;
        int mode = DOMAIN_CPU_MODE_CUSTOM, match = 0, check = 0;
        if ((r = dparse_attr_enum(c, n, "mode", domain_cpu_mode_from_string, &mode)) < 0 ||
            (r = dparse_attr_enum(c, n, "match", domain_cpu_match_from_string, &match)) < 0 ||
            (r = dparse_attr_enum(c, n, "check", domain_cpu_check_from_string, &check)) < 0)
                return r;
        if (mode == DOMAIN_CPU_MODE_NONE)
                return dparse_perr_attr(c, n, "mode", "value '' not supported by litevirt");
        if (xmlHasNsProp(n, BAD_CAST "match", NULL) && match == DOMAIN_CPU_MATCH_NONE)
                return dparse_perr_attr(c, n, "match", "value '' not supported by litevirt");
        cpu->mode = mode;
        cpu->match = match;
        cpu->check = check;
        if (xmlHasNsProp(n, BAD_CAST "migratable", NULL)) {
                if (mode != DOMAIN_CPU_MODE_HOST_PASSTHROUGH && mode != DOMAIN_CPU_MODE_MAXIMUM)
                        return dparse_perr_attr(c, n, "migratable",
                                                "only for modes 'host-passthrough' and 'maximum'");
                bool on = true;
                if ((r = dparse_attr_bool(c, n, "migratable", &on)) < 0)
                        return r;
                cpu->migratable = on ? DOMAIN_TRISTATE_ON : DOMAIN_TRISTATE_OFF;
        }
        xmlNodePtr m = dparse_child_get(c, n, "model", &r);
        if (r < 0)
                return r;
        if (m) {
                int fallback = DOMAIN_CPU_FALLBACK_ALLOW;
                if ((r = dparse_attr_enum(c, m, "fallback", domain_cpu_fallback_from_string,
                                          &fallback)) < 0)
                        return r;
                cpu->fallback = fallback;
                cpu->vendor_id = dparse_attr_get(m, "vendor_id");
                if (cpu->vendor_id && strlen(cpu->vendor_id) != 12)
                        return dparse_perr_attr(c, m, "vendor_id", "'%s' is not 12 characters long",
                                                cpu->vendor_id);
                _cleanup_free_ char *name = dparse_node_text(m);
                if (name && *name) {
                        if (mode != DOMAIN_CPU_MODE_CUSTOM)
                                return dparse_perr(c, m, "a CPU model is only for mode 'custom'");
                        cpu->model = TAKE_PTR(name);
                }
        }
        if ((r = dparse_elem_text(c, n, "vendor", &cpu->vendor)) < 0)
                return r;
        if (cpu->vendor && !cpu->model)
                return dparse_perr(c, n, "<vendor> needs a CPU <model>");
        xmlNodePtr t = dparse_child_get(c, n, "topology", &r);
        if (r < 0 || (t && (r = parse_cpu_topology(c, t, cpu)) < 0) ||
            (r = parse_cpu_features(c, n, cpu)) < 0)
                return r;
        if (cpu->n_features && mode == DOMAIN_CPU_MODE_CUSTOM && !cpu->model)
                return dparse_perr(c, n, "CPU features need a CPU <model>");
        /* <cpu> with nothing in it (libvirt's cpu-empty): no CPU settings */
        if (mode == DOMAIN_CPU_MODE_CUSTOM && !cpu->model && !cpu->sockets && !m &&
            !xmlHasNsProp(n, BAD_CAST "mode", NULL))
                cpu->mode = DOMAIN_CPU_MODE_NONE;
        return 0;
}

static int parse_pm(struct pctx *c, xmlNodePtr root)
{
        int r = 0;
        xmlNodePtr n = dparse_child_get(c, root, "pm", &r);
        if (r < 0 || !n)
                return r;
        static const char *const names[] = {"suspend-to-mem", "suspend-to-disk"};
        enum domain_tristate *slots[] = {&c->def->pm_suspend_to_mem, &c->def->pm_suspend_to_disk};
        for (int i = 0; i < 2; i++) {
                xmlNodePtr x = dparse_child_get(c, n, names[i], &r);
                if (r < 0)
                        return r;
                if (x && (r = dparse_attr_tristate(c, x, "enabled", slots[i])) < 0)
                        return r;
        }
        return 0;
}

static int check_depth(struct pctx *c, xmlNodePtr node, int depth)
{
        if (depth > DOMAIN_XML_MAX_DEPTH)
                return dparse_perr(c, node, "nested deeper than %d levels", DOMAIN_XML_MAX_DEPTH);
        for (xmlNodePtr ch = node->children; ch; ch = ch->next)
                if (ch->type == XML_ELEMENT_NODE) {
                        int r = check_depth(c, ch, depth + 1);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int parse_domain(struct pctx *c, xmlNodePtr root)
{
        struct domain_def *def = c->def;
        int r, type = -1;
        if (!xmlStrEqual(root->name, BAD_CAST "domain") || root->ns)
                return dparse_perr(c, root, "the document is not a <domain> definition");
        if ((r = check_depth(c, root, 1)) < 0)
                return r;
        dparse_node_consume(root);
        if ((r = dparse_attr_enum(c, root, "type", domain_type_from_string, &type)) < 0)
                return r;
        if (type < 0)
                return dparse_perr(c, root, "missing attribute 'type'");
        def->type = type;

        r = dparse_elem_text(c, root, "name", &def->name);
        if (r < 0)
                return r;
        if (!def->name)
                return dparse_perr(c, root, "missing element 'name'");
        _cleanup_free_ char *uuid = NULL;
        if ((r = dparse_elem_text(c, root, "uuid", &uuid)) < 0)
                return r;
        if (uuid && domain_uuid_parse(uuid, def->uuid) < 0) {
                xmlNodePtr u = NULL;
                for (u = root->children; u && !xmlStrEqual(u->name, BAD_CAST "uuid"); u = u->next)
                        ;
                return dparse_perr(c, u, "'%s' is not a valid UUID", uuid);
        }
        if (!uuid && (r = domain_uuid_generate(def->uuid)) < 0)
                return lv_error_set(c->err, -r, "%s: generating a UUID", c->file);
        if ((r = dparse_elem_text(c, root, "title", &def->title)) < 0 ||
            (r = dparse_elem_text(c, root, "description", &def->description)) < 0 ||
            (r = dparse_elem_text(c, root, "bootloader", &def->bootloader)) < 0 ||
            (r = dparse_elem_text(c, root, "bootloader_args", &def->bootloader_args)) < 0)
                return r;
        if (def->title && strchr(def->title, '\n'))
                return dparse_perr(c, root, "title must be a single line");
        if ((r = parse_metadata(c, root)) < 0 || (r = parse_memory(c, root)) < 0 ||
            (r = parse_vcpu(c, root)) < 0 || (r = parse_os(c, root)) < 0 ||
            (r = parse_features(c, root)) < 0 || (r = parse_tuning(c, root)) < 0 ||
            (r = parse_clock_lifecycle(c, root)) < 0 || (r = parse_pm(c, root)) < 0 ||
            (r = parse_cpu(c, root)) < 0)
                return r;

        xmlNodePtr sl = dparse_child_get(c, root, "seclabel", &r);
        if (r < 0)
                return r;
        if (sl) {
                if ((r = dparse_attr_require(c, sl, "type", &def->seclabel_type)) < 0)
                        return r;
                if (!streq(def->seclabel_type, "none"))
                        return dparse_perr_attr(c, sl, "type",
                                                "value '%s' not supported by litevirt",
                                                def->seclabel_type);
        }
        xmlNodePtr devices = dparse_child_get(c, root, "devices", &r);
        if (r < 0)
                return r;
        if (devices && (r = dparse_parse_devices(c, devices)) < 0)
                return r;
        return dparse_check_consumed(c, root);
}

int domain_parse_string(const char *xml, size_t len, const char *filename, struct domain_def **ret,
                        struct lv_error **err)
{
        const char *file = filename ? filename : "(string)";
        _cleanup_(xml_doc_freep) xmlDocPtr doc = NULL;
        int r = document_load(xml, len, file, &doc, err);
        if (r < 0)
                return r;
        xmlNodePtr root = xmlDocGetRootElement(doc);
        if (!root)
                return lv_error_setf(err, LV_ERR_INVALID_XML, "%s: empty document", file);
        _cleanup_domain_def_ struct domain_def *def = xcalloc(1, sizeof(*def));
        struct pctx c = {.file = file, .err = err, .def = def};
        r = parse_domain(&c, root);
        if (r < 0)
                return r;
        domain_def_apply_defaults(def);
        r = domain_validate(def, err);
        if (r < 0)
                return lv_error_prefix(err, "%s", file);
        *ret = TAKE_PTR(def);
        return 0;
}

int domain_parse_file(const char *path, struct domain_def **ret, struct lv_error **err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = file_read_bounded(path, DOMAIN_XML_MAX_BYTES, &data, &len, err);
        if (r < 0)
                return r;
        return domain_parse_string(data, len, path, ret, err);
}
