/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Domain model → xl.cfg, in the keys and order libvirt's xl driver writes,
 * so that configs from both give the same libxl configuration. Pure: the
 * definition in, text out. What xl.cfg cannot express is refused, naming
 * the element. */
#include <stdarg.h>

#include "util/strbuf.h"
#include "xen/xlcfg.h"

enum guest_kind { KIND_PV, KIND_HVM, KIND_PVH };

static const char *const kind_keys[] = {"pv", "hvm", "pvh"};  /* xl's type = */
static const char *const kind_names[] = {"PV", "HVM", "PVH"}; /* in messages */

struct writer {
        struct strbuf sb;
        const struct domain_def *def;
        enum guest_kind kind;
        struct lv_error **err;
};

static const char *const lifecycle_names[DOMAIN_LIFECYCLE_LAST] = {
        [DOMAIN_LIFECYCLE_DESTROY] = "destroy",
        [DOMAIN_LIFECYCLE_RESTART] = "restart",
        [DOMAIN_LIFECYCLE_PRESERVE] = "preserve",
        [DOMAIN_LIFECYCLE_RENAME_RESTART] = "rename-restart",
        [DOMAIN_LIFECYCLE_COREDUMP_DESTROY] = "coredump-destroy",
        [DOMAIN_LIFECYCLE_COREDUMP_RESTART] = "coredump-restart",
};

const char *xen_lifecycle_to_string(enum domain_lifecycle l)
{
        return (unsigned)l < DOMAIN_LIFECYCLE_LAST ? lifecycle_names[l] : NULL;
}

int xen_lifecycle_from_string(const char *s)
{
        for (int i = 0; i < DOMAIN_LIFECYCLE_LAST; i++)
                if (streq(lifecycle_names[i], s))
                        return i;
        return -1;
}

static int unsupported(struct writer *w, const char *fmt, ...) _printf_(2, 3);
static int unsupported(struct writer *w, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        int r = lv_error_setf(w->err, LV_ERR_UNSUPPORTED,
                              "guest '%s': %s cannot be expressed in xl.cfg",
                              w->def->name ? w->def->name : "?", msg);
        free(msg);
        return r;
}

static int invalid(struct writer *w, const char *fmt, ...) _printf_(2, 3);
static int invalid(struct writer *w, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        int r = lv_error_setf(w->err, LV_ERR_INVALID_XML, "guest '%s': %s",
                              w->def->name ? w->def->name : "?", msg);
        free(msg);
        return r;
}

/* A string xl's lexer reads back as it was: only \" \\ \n \t need escapes;
 * other control characters cannot be written. */
static int check_text(struct writer *w, const char *what, const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 && *p != '\t' && *p != '\n')
                        return unsupported(w, "%s with control character 0x%02x", what, *p);
        return 0;
}

static void append_quoted(struct strbuf *sb, const char *s)
{
        strbuf_append(sb, "\"");
        for (const char *p = s; *p; p++) {
                switch (*p) {
                case '"':
                        strbuf_append(sb, "\\\"");
                        break;
                case '\\':
                        strbuf_append(sb, "\\\\");
                        break;
                case '\n':
                        strbuf_append(sb, "\\n");
                        break;
                case '\t':
                        strbuf_append(sb, "\\t");
                        break;
                default:
                        strbuf_append_len(sb, p, 1);
                }
        }
        strbuf_append(sb, "\"");
}

static int put_string(struct writer *w, const char *key, const char *value)
{
        int r = check_text(w, key, value);
        if (r < 0)
                return r;
        strbuf_printf(&w->sb, "%s = ", key);
        append_quoted(&w->sb, value);
        strbuf_append(&w->sb, "\n");
        return 0;
}

static void put_number(struct writer *w, const char *key, long long value)
{
        strbuf_printf(&w->sb, "%s = %lld\n", key, value);
}

static int put_list(struct writer *w, const char *key, char **items, int n)
{
        strbuf_printf(&w->sb, "%s = [ ", key);
        for (int i = 0; i < n; i++) {
                int r = check_text(w, key, items[i]);
                if (r < 0)
                        return r;
                if (i)
                        strbuf_append(&w->sb, ", ");
                append_quoted(&w->sb, items[i]);
        }
        strbuf_append(&w->sb, " ]\n");
        return 0;
}

/* One key=value of a disk/vif/vfb spec: xl splits specs at ',' and '=',
 * with no way to quote them. */
static int spec_add(struct writer *w, struct strbuf *spec, const char *what, const char *key,
                    const char *value)
{
        if (strpbrk(value, ",=") || !*value)
                return unsupported(w, "%s %s '%s' (empty, or with ',' or '=')", what, key, value);
        int r = check_text(w, what, value);
        if (r < 0)
                return r;
        if (spec->len)
                strbuf_append(spec, ",");
        strbuf_printf(spec, "%s=%s", key, value);
        return 0;
}

static int write_comments(struct writer *w)
{
        const struct domain_def *def = w->def;
        /* xl has no place for these; they stay in the definition and are
         * shown to a reader of the generated file. */
        const char *names[] = {"title", "description"};
        const char *values[] = {def->title, def->description};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                if (!values[i])
                        continue;
                strbuf_printf(&w->sb, "# %s: ", names[i]);
                for (const char *p = values[i]; *p; p++)
                        strbuf_append_len(&w->sb, *p == '\n' || *p == '\r' ? " " : p, 1);
                strbuf_append(&w->sb, "\n");
        }
        if (def->metadata_xml)
                strbuf_append(&w->sb, "# metadata: kept in the litevirt definition\n");
        return 0;
}

static int check_unsupported(struct writer *w)
{
        const struct domain_def *def = w->def;
        if (def->type != DOMAIN_TYPE_XEN)
                return invalid(w, "domain type '%s' is not 'xen'",
                               domain_type_to_string(def->type));
        if (def->n_filesystems)
                return unsupported(w, "<filesystem>");
        if (def->n_uidmap || def->n_gidmap)
                return unsupported(w, "<idmap>");
        if (def->has_cputune)
                return unsupported(w, "<cputune>");
        if (def->has_memtune)
                return unsupported(w, "<memtune>");
        if (def->has_blkiotune)
                return unsupported(w, "<blkiotune>");
        if (def->resource_partition)
                return unsupported(w, "<resource><partition>");
        if (def->features.privnet)
                return unsupported(w, "<features><privnet/>");
        if (def->features.has_caps)
                return unsupported(w, "<features><capabilities>");
        if (def->n_vcpu_entries)
                return unsupported(w, "<vcpus>");
        if (def->vcpu_placement && !streq(def->vcpu_placement, "static"))
                return unsupported(w, "<vcpu placement='%s'>", def->vcpu_placement);
        if (def->max_memory_kib)
                return unsupported(w, "<maxMemory>");
        if (def->seclabel_type && !streq(def->seclabel_type, "none"))
                return unsupported(w, "<seclabel type='%s'>", def->seclabel_type);
        const struct domain_os *os = &def->os;
        if (os->init || os->initargs || os->n_initenv || os->initdir || os->inituser ||
            os->initgroup)
                return unsupported(w, "<os><init>");
        return 0;
}

/* libvirt's cpuset syntax, which xl's "cpus" also reads: "0-3,^2,6",
 * CPU numbers below 4096. */
bool xen_cpuset_valid(const char *s)
{
        const char *p = s;
        if (!p || !*p)
                return false;
        for (;;) {
                bool negate = *p == '^';
                if (negate)
                        p++;
                char *end;
                if (*p < '0' || *p > '9')
                        return false;
                unsigned long a = strtoul(p, &end, 10), b = a;
                p = end;
                if (*p == '-' && !negate) {
                        if (p[1] < '0' || p[1] > '9')
                                return false;
                        b = strtoul(p + 1, &end, 10);
                        p = end;
                }
                if (a > b || b >= 4096)
                        return false;
                if (!*p)
                        return true;
                if (*p++ != ',')
                        return false;
        }
}

static int write_identity(struct writer *w)
{
        const struct domain_def *def = w->def;
        char uuid[37];
        if (!def->name || !*def->name)
                return invalid(w, "no <name>");
        int r = put_string(w, "name", def->name);
        if (r < 0)
                return r;
        domain_uuid_format(def->uuid, uuid);
        put_string(w, "uuid", uuid);

        /* xl counts memory in MiB */
        unsigned long long max = def->memory_kib;
        unsigned long long cur = def->current_memory_kib ? def->current_memory_kib : max;
        if (!max)
                return invalid(w, "no <memory>");
        if (max % 1024 || cur % 1024)
                return unsupported(w, "<memory>/<currentMemory> of %llu/%llu KiB, not whole MiB,",
                                   max, cur);
        if (cur > max)
                return invalid(w, "<currentMemory> %llu KiB above <memory> %llu KiB", cur, max);
        if (max / 1024 > (unsigned long long)XLCFG_MEMORY_MAX_MIB)
                return unsupported(w, "<memory> of %llu KiB, more than xl's %lld MiB,", max,
                                   XLCFG_MEMORY_MAX_MIB);
        if (cur != max)
                put_number(w, "maxmem", (long long)(max / 1024));
        put_number(w, "memory", (long long)(cur / 1024));

        unsigned vcpus = def->vcpus ? def->vcpus : 1;
        unsigned current = def->vcpus_current ? def->vcpus_current : vcpus;
        if (current > vcpus)
                return invalid(w, "<vcpu current='%u'> above %u", current, vcpus);
        put_number(w, "vcpus", current);
        if (current != vcpus)
                put_number(w, "maxvcpus", vcpus);
        if (def->vcpu_cpuset) {
                if (!xen_cpuset_valid(def->vcpu_cpuset))
                        return invalid(w, "<vcpu cpuset='%s'> is not a CPU list such as 0-3,^2",
                                       def->vcpu_cpuset);
                r = put_string(w, "cpus", def->vcpu_cpuset);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_os(struct writer *w)
{
        const struct domain_def *def = w->def;
        const struct domain_os *os = &def->os;
        int r;

        if (os->arch && !streq(os->arch, "x86_64") && !streq(os->arch, "i686"))
                return unsupported(w, "<os><type arch='%s'>", os->arch);
        const char *machine = w->kind == KIND_PV    ? "xenpv"
                              : w->kind == KIND_HVM ? "xenfv"
                                                    : "xenpvh";
        if (os->machine && !streq(os->machine, machine))
                return unsupported(w, "<os><type machine='%s'> for a %s guest", os->machine,
                                   kind_names[w->kind]);
        put_string(w, "type", kind_keys[w->kind]);

        if (w->kind != KIND_HVM) {
                if (os->n_boot)
                        return unsupported(
                                w, "<boot> for a %s guest (only HVM guests have a boot order)",
                                kind_names[w->kind]);
                if (os->loader)
                        return unsupported(w, "<loader> for a %s guest", kind_names[w->kind]);
        }
        if (w->kind == KIND_PV) {
                if (os->kernel && def->bootloader)
                        return invalid(w,
                                       "a PV guest has either <kernel> or <bootloader>, not both");
        } else if (def->bootloader) {
                return unsupported(w, "<bootloader> for a %s guest", kind_names[w->kind]);
        }
        if (w->kind == KIND_PVH && !os->kernel)
                return invalid(w, "a PVH guest needs <kernel>");
        if (!os->kernel && (os->initrd || os->cmdline))
                return invalid(w, "<initrd>/<cmdline> without <kernel>");

        if (os->kernel && (r = put_string(w, "kernel", os->kernel)) < 0)
                return r;
        if (os->initrd && (r = put_string(w, "ramdisk", os->initrd)) < 0)
                return r;
        if (os->cmdline && (r = put_string(w, "cmdline", os->cmdline)) < 0)
                return r;
        /* a PV guest with neither boots through pygrub, as libvirt assumes
         * (its libxl driver's LIBXL_BOOTLOADER_PATH) */
        const char *bootloader = def->bootloader;
        if (w->kind == KIND_PV && !os->kernel && !bootloader)
                bootloader = "pygrub";
        if (bootloader && (r = put_string(w, "bootloader", bootloader)) < 0)
                return r;
        if (def->bootloader_args) {
                if (!def->bootloader)
                        return invalid(w, "<bootloader_args> without <bootloader>");
                /* xl wants a list of arguments; libvirt keeps one string */
                if (strpbrk(def->bootloader_args, "\"'\\"))
                        return unsupported(w, "<bootloader_args> with quotes or backslashes (xl "
                                              "takes a list of words)");
                _cleanup_strv_free_ char **words = NULL;
                _cleanup_free_ char *copy = xstrdup(def->bootloader_args);
                char *save = NULL;
                for (char *t = strtok_r(copy, " \t\n", &save); t;
                     t = strtok_r(NULL, " \t\n", &save))
                        strv_push(&words, xstrdup(t));
                if (words &&
                    (r = put_list(w, "bootloader_args", words, (int)strv_length(words))) < 0)
                        return r;
        }

        if (w->kind == KIND_HVM) {
                if (os->n_boot) {
                        static const char letters[DOMAIN_BOOT_LAST] = {
                                [DOMAIN_BOOT_FD] = 'a',
                                [DOMAIN_BOOT_CDROM] = 'd',
                                [DOMAIN_BOOT_HD] = 'c',
                                [DOMAIN_BOOT_NETWORK] = 'n',
                        };
                        char boot[DOMAIN_BOOT_LAST + 1] = {0};
                        for (int i = 0; i < os->n_boot && i < DOMAIN_BOOT_LAST; i++)
                                boot[i] = letters[os->boot[i]];
                        put_string(w, "boot", boot);
                }
                if (os->loader_readonly == DOMAIN_TRISTATE_OFF)
                        return unsupported(w, "<loader readonly='no'> (Xen's OVMF is read-only)");
                if (streq(os->loader_type, "pflash")) {
                        put_string(w, "bios", "ovmf");
                        if (os->loader && (r = put_string(w, "bios_path_override", os->loader)) < 0)
                                return r;
                } else if (os->loader_type && !streq(os->loader_type, "rom")) {
                        return unsupported(w, "<loader type='%s'>", os->loader_type);
                } else if (os->loader && !streq(os->loader, XEN_HVMLOADER_PATH)) {
                        if ((r = put_string(w, "firmware", os->loader)) < 0)
                                return r;
                }
        }
        return 0;
}

static int write_features(struct writer *w)
{
        const struct domain_features *f = &w->def->features;
        if (w->kind != KIND_HVM) {
                const char *name = f->pae        ? "pae"
                                   : f->acpi     ? "acpi"
                                   : f->apic     ? "apic"
                                   : f->viridian ? "viridian"
                                   : f->hap      ? "hap"
                                                 : NULL;
                if (name)
                        return unsupported(w, "<features><%s/> for a %s guest", name,
                                           kind_names[w->kind]);
                return 0;
        }
        put_number(w, "pae", f->pae);
        put_number(w, "acpi", f->acpi);
        put_number(w, "apic", f->apic);
        put_number(w, "viridian", f->viridian);
        /* absent <hap/> leaves Xen's default (on where the host has it) */
        if (f->hap)
                put_number(w, "hap", 1);
        return 0;
}

static int write_clock(struct writer *w)
{
        const struct domain_def *def = w->def;
        bool localtime = false;
        long long offset = 0;
        bool has_offset = false;
        switch (def->clock_offset) {
        case DOMAIN_CLOCK_UTC:
                break;
        case DOMAIN_CLOCK_LOCALTIME:
                localtime = true;
                break;
        case DOMAIN_CLOCK_VARIABLE: {
                localtime = streq(def->clock_basis, "localtime");
                const char *adj = def->clock_adjustment ? def->clock_adjustment : "0";
                char *end = NULL;
                errno = 0;
                offset = strtoll(adj, &end, 10);
                if (errno || end == adj || *end)
                        return invalid(w, "<clock adjustment='%s'> is not a number of seconds",
                                       adj);
                has_offset = true;
                break;
        }
        default:
                return unsupported(w, "<clock offset='%s'>",
                                   domain_clock_offset_to_string(def->clock_offset));
        }
        if (def->clock_offset != DOMAIN_CLOCK_VARIABLE && def->clock_adjustment &&
            !streq(def->clock_adjustment, "reset"))
                return unsupported(w, "<clock adjustment='%s'> with offset '%s'",
                                   def->clock_adjustment,
                                   domain_clock_offset_to_string(def->clock_offset));
        if (has_offset) {
                if (w->kind != KIND_HVM && offset)
                        return unsupported(w, "<clock offset='variable'> for a %s guest",
                                           kind_names[w->kind]);
                if (w->kind == KIND_HVM)
                        put_number(w, "rtc_timeoffset", offset);
        }
        put_number(w, "localtime", localtime);
        return 0;
}

static int write_lifecycle(struct writer *w)
{
        const struct domain_def *def = w->def;
        const char *keys[] = {"on_poweroff", "on_reboot", "on_crash"};
        enum domain_lifecycle values[] = {def->on_poweroff, def->on_reboot, def->on_crash};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                const char *s = xen_lifecycle_to_string(values[i]);
                if (!s)
                        return unsupported(w, "<%s> value %d", keys[i], (int)values[i]);
                put_string(w, keys[i], s);
        }
        return 0;
}

static int write_emulator(struct writer *w)
{
        if (!w->def->emulator)
                return 0;
        int r = put_string(w, "device_model_override", w->def->emulator);
        if (r < 0)
                return r;
        /* without a version xl warns; Xen 4.17 on x86 has only qemu-xen */
        put_string(w, "device_model_version", "qemu-xen");
        return 0;
}

static int graphics_listen(struct writer *w, const struct domain_graphics *g, const char **ret)
{
        const char *what = domain_graphics_type_to_string(g->type);
        if (g->n_listens > 1)
                return unsupported(w, "<graphics type='%s'> with %d <listen>", what, g->n_listens);
        const char *addr = g->listen;
        if (g->n_listens) {
                const struct domain_graphics_listen *l = &g->listens[0];
                if (l->type && !streq(l->type, "address"))
                        return unsupported(w, "<graphics type='%s'><listen type='%s'>", what,
                                           l->type);
                if (l->address && addr && !streq(l->address, addr))
                        return invalid(w,
                                       "<graphics type='%s'> listen '%s' differs from <listen "
                                       "address='%s'>",
                                       what, addr, l->address);
                if (l->address)
                        addr = l->address;
        }
        *ret = addr;
        return 0;
}

static int write_vnc(struct writer *w, const struct domain_graphics *g)
{
        const char *listen = NULL;
        int r = graphics_listen(w, g, &listen);
        if (r < 0)
                return r;
        if (g->websocket != -1)
                return unsupported(w, "<graphics type='vnc' websocket=...>");
        if (g->tls_port != -1)
                return unsupported(w, "<graphics type='vnc' tlsPort=...>");
        bool autoport = g->autoport || g->port == -1;
        if (!autoport && (g->port < 5900 || g->port > 65535))
                return unsupported(w, "<graphics type='vnc' port='%d'> (below 5900)", g->port);

        if (w->kind == KIND_HVM) {
                put_number(w, "vnc", 1);
                if (listen && (r = put_string(w, "vnclisten", listen)) < 0)
                        return r;
                if (!autoport)
                        put_number(w, "vncdisplay", g->port - 5900);
                put_number(w, "vncunused", autoport);
                if (g->passwd && (r = put_string(w, "vncpasswd", g->passwd)) < 0)
                        return r;
                return 0; /* keymap: write_graphics, shared with SPICE */
        }
        /* PV/PVH: a virtual framebuffer device */
        _cleanup_strbuf_ struct strbuf spec = {0};
        char num[16];
        strbuf_append(&spec, "vnc=1");
        if (listen && (r = spec_add(w, &spec, "VNC", "vnclisten", listen)) < 0)
                return r;
        if (!autoport) {
                snprintf(num, sizeof(num), "%d", g->port - 5900);
                spec_add(w, &spec, "VNC", "vncdisplay", num);
        }
        spec_add(w, &spec, "VNC", "vncunused", autoport ? "1" : "0");
        if (g->passwd && (r = spec_add(w, &spec, "VNC", "vncpasswd", g->passwd)) < 0)
                return r;
        if (g->keymap && (r = spec_add(w, &spec, "VNC", "keymap", g->keymap)) < 0)
                return r;
        char *items[] = {spec.buf};
        return put_list(w, "vfb", items, 1);
}

static int write_spice(struct writer *w, const struct domain_graphics *g)
{
        const char *listen = NULL;
        int r = graphics_listen(w, g, &listen);
        if (r < 0)
                return r;
        if (w->kind != KIND_HVM)
                return unsupported(w, "<graphics type='spice'> for a %s guest",
                                   kind_names[w->kind]);
        if (g->autoport || (g->port == -1 && g->tls_port == -1))
                return unsupported(w, "<graphics type='spice' autoport='yes'> (xl needs a port)");
        if (g->websocket != -1)
                return unsupported(w, "<graphics type='spice' websocket=...>");
        if (g->defaultmode && !streq(g->defaultmode, "any"))
                return unsupported(w, "<graphics type='spice' defaultMode='%s'>", g->defaultmode);
        if (g->n_channels) /* xl has no per-channel TLS setting */
                return unsupported(w, "<graphics type='spice'><channel name='%s' mode='%s'>",
                                   g->channels[0].name, g->channels[0].mode);
        put_number(w, "spice", 1);
        if (listen && (r = put_string(w, "spicehost", listen)) < 0)
                return r;
        if (g->port != -1)
                put_number(w, "spiceport", g->port);
        if (g->tls_port != -1)
                put_number(w, "spicetls_port", g->tls_port);
        put_number(w, "spicedisable_ticketing", g->passwd ? 0 : 1);
        if (g->passwd && (r = put_string(w, "spicepasswd", g->passwd)) < 0)
                return r;
        if (g->mouse_mode) {
                if (!streq(g->mouse_mode, "client") && !streq(g->mouse_mode, "server"))
                        return unsupported(w, "<mouse mode='%s'>", g->mouse_mode);
                put_number(w, "spiceagent_mouse", streq(g->mouse_mode, "client"));
        }
        if (g->clipboard_copypaste) {
                if (!streq(g->clipboard_copypaste, "yes") && !streq(g->clipboard_copypaste, "no"))
                        return invalid(w, "<clipboard copypaste='%s'>", g->clipboard_copypaste);
                /* 'no' is xl's default: written only when on, as libvirt
                 * does; sharing goes through the SPICE agent, so the
                 * agent channel is on too (libvirt: spicevdagent = 1) */
                if (streq(g->clipboard_copypaste, "yes")) {
                        put_number(w, "spicevdagent", 1);
                        put_number(w, "spice_clipboard_sharing", 1);
                }
        }
        return 0;
}

static int write_graphics(struct writer *w)
{
        const struct domain_def *def = w->def;
        const struct domain_graphics *vnc = NULL, *spice = NULL;
        for (int i = 0; i < def->n_graphics; i++) {
                const struct domain_graphics *g = &def->graphics[i];
                const struct domain_graphics **slot =
                        g->type == DOMAIN_GRAPHICS_VNC ? &vnc : &spice;
                if (*slot)
                        return unsupported(w, "a second <graphics type='%s'>",
                                           domain_graphics_type_to_string(g->type));
                *slot = g;
        }
        if (vnc && spice && vnc->keymap && spice->keymap && !streq(vnc->keymap, spice->keymap))
                return unsupported(w, "VNC and SPICE with different keymaps");
        int r;
        if (w->kind == KIND_HVM) {
                /* xl turns VNC on by default for HVM: say what is meant */
                put_number(w, "sdl", 0);
                if (!vnc)
                        put_number(w, "vnc", 0);
        }
        if (vnc && (r = write_vnc(w, vnc)) < 0)
                return r;
        if (spice && (r = write_spice(w, spice)) < 0)
                return r;
        /* HVM: one keymap for both displays */
        const char *keymap = vnc && vnc->keymap ? vnc->keymap : spice ? spice->keymap : NULL;
        if (w->kind == KIND_HVM && keymap && (r = put_string(w, "keymap", keymap)) < 0)
                return r;
        return 0;
}

static int write_serials(struct writer *w)
{
        const struct domain_def *def = w->def;
        _cleanup_strv_free_ char **serials = NULL;
        bool console_serial = false;
        for (int i = 0; i < def->n_chrs; i++) {
                const struct domain_chr *c = &def->chrs[i];
                const char *what = domain_chr_kind_to_string(c->kind);
                if (c->source_type && !streq(c->source_type, "pty"))
                        return unsupported(w, "<%s type='%s'> (only pty)", what, c->source_type);
                if (c->kind == DOMAIN_CHR_CONSOLE) {
                        /* an HVM guest's console without a target type is
                         * its first serial port, as libvirt defaults it */
                        bool serial = c->target_type ? streq(c->target_type, "serial")
                                                     : w->kind == KIND_HVM;
                        if (!serial && (!c->target_type || streq(c->target_type, "xen")))
                                continue; /* the PV console every Xen guest has */
                        if (serial && w->kind == KIND_HVM) {
                                console_serial = true;
                                continue;
                        }
                        return unsupported(w, "<console><target type='%s'> for a %s guest",
                                           c->target_type, kind_names[w->kind]);
                }
                if (w->kind != KIND_HVM)
                        return unsupported(w, "<serial> for a %s guest (it has the PV console)",
                                           kind_names[w->kind]);
                if (c->target_type && !streq(c->target_type, "isa-serial") &&
                    !streq(c->target_type, "serial"))
                        return unsupported(w, "<serial><target type='%s'>", c->target_type);
                if (c->target_model && !streq(c->target_model, "isa-serial"))
                        return unsupported(w, "<serial><target><model name='%s'>", c->target_model);
                int port = (int)strv_length(serials);
                if (c->target_port != -1 && c->target_port != port)
                        return unsupported(w,
                                           "<serial><target port='%d'> out of order (next is %d)",
                                           c->target_port, port);
                strv_push(&serials, xstrdup("pty"));
        }
        if (w->kind != KIND_HVM)
                return 0;
        if (!serials && console_serial)
                strv_push(&serials, xstrdup("pty"));
        size_t n = strv_length(serials);
        if (n == 0)
                return put_string(w, "serial", "none");
        if (n == 1)
                return put_string(w, "serial", serials[0]);
        return put_list(w, "serial", serials, (int)n);
}

static int write_video(struct writer *w)
{
        const struct domain_def *def = w->def;
        if (def->n_videos == 0)
                return 0;
        if (def->n_videos > 1)
                return unsupported(w, "%d <video> devices", def->n_videos);
        const struct domain_video *v = &def->videos[0];
        if (v->heads > 1)
                return unsupported(w, "<video><model heads='%u'>", v->heads);
        if (v->address.type)
                return unsupported(w, "<video><address>");
        if (w->kind != KIND_HVM) {
                if (v->model && !streq(v->model, "xen"))
                        return unsupported(w, "<video><model type='%s'> for a %s guest", v->model,
                                           kind_names[w->kind]);
                return 0;
        }
        const char *model = v->model ? v->model : "cirrus";
        unsigned default_vram;
        if (streq(model, "cirrus")) {
                default_vram = 8192;
        } else if (streq(model, "vga")) {
                put_string(w, "vga", "stdvga");
                default_vram = 16384;
        } else if (streq(model, "qxl")) {
                put_string(w, "vga", "qxl");
                default_vram = 0;
        } else if (streq(model, "none")) {
                put_string(w, "vga", "none");
                default_vram = 0;
        } else {
                return unsupported(w, "<video><model type='%s'>", model);
        }
        if (v->vram && v->vram != default_vram) {
                if (v->vram % 1024)
                        return unsupported(w, "<video><model vram='%u'> (not whole MiB)", v->vram);
                put_number(w, "videoram", v->vram / 1024);
        }
        return 0;
}

static int write_inputs(struct writer *w)
{
        const struct domain_def *def = w->def;
        _cleanup_strv_free_ char **usb = NULL;
        for (int i = 0; i < def->n_inputs; i++) {
                const struct domain_input *in = &def->inputs[i];
                const char *type = domain_input_type_to_string(in->type);
                const char *bus = domain_input_bus_to_string(in->bus);
                if (w->kind == KIND_HVM && in->bus == DOMAIN_INPUT_BUS_PS2 &&
                    in->type != DOMAIN_INPUT_TABLET)
                        continue; /* the emulated PC has them */
                if (in->bus == DOMAIN_INPUT_BUS_XEN && in->type != DOMAIN_INPUT_TABLET)
                        continue; /* the PV keyboard/mouse of the framebuffer */
                if (w->kind == KIND_HVM && in->bus == DOMAIN_INPUT_BUS_USB &&
                    in->type != DOMAIN_INPUT_KEYBOARD) {
                        strv_push(&usb, xstrdup(type));
                        continue;
                }
                return unsupported(w, "<input type='%s' bus='%s'> for a %s guest", type, bus,
                                   kind_names[w->kind]);
        }
        size_t n = strv_length(usb);
        if (n)
                put_number(w, "usb", 1); /* as libvirt writes it */
        if (n == 1)
                return put_string(w, "usbdevice", usb[0]);
        if (n > 1)
                return put_list(w, "usbdevice", usb, (int)n);
        return 0;
}

static int write_devices_misc(struct writer *w)
{
        const struct domain_def *def = w->def;
        for (int i = 0; i < def->n_controllers; i++) {
                const struct domain_controller *c = &def->controllers[i];
                switch (c->type) {
                case DOMAIN_CONTROLLER_XENBUS:
                case DOMAIN_CONTROLLER_PCI:
                case DOMAIN_CONTROLLER_IDE:
                case DOMAIN_CONTROLLER_USB:
                        if (c->model && c->type != DOMAIN_CONTROLLER_PCI &&
                            c->type != DOMAIN_CONTROLLER_USB)
                                return unsupported(w, "<controller type='%s' model='%s'>",
                                                   domain_controller_type_to_string(c->type),
                                                   c->model);
                        if (c->ports)
                                return unsupported(w, "<controller type='usb' ports='%u'>",
                                                   c->ports);
                        continue; /* implied by the guest type */
                default:
                        return unsupported(w, "<controller type='%s'>",
                                           domain_controller_type_to_string(c->type));
                }
        }
        if (def->memballoon_model && !streq(def->memballoon_model, "xen"))
                return unsupported(w, "<memballoon model='%s'> (Xen's balloon is always there)",
                                   def->memballoon_model);
        return 0;
}

static int write_nets(struct writer *w)
{
        const struct domain_def *def = w->def;
        _cleanup_strv_free_ char **vifs = NULL;
        int r;
        for (int i = 0; i < def->n_nets; i++) {
                const struct domain_net *n = &def->nets[i];
                _cleanup_strbuf_ struct strbuf spec = {0};
                char what[32];
                snprintf(what, sizeof(what), "<interface> #%d", i + 1);
                if (n->type != DOMAIN_NET_BRIDGE && n->type != DOMAIN_NET_ETHERNET)
                        return unsupported(w, "<interface type='%s'>",
                                           domain_net_type_to_string(n->type));
                if (n->guest_dev)
                        return unsupported(w, "%s <guest dev=...>", what);
                if (n->n_routes)
                        return unsupported(w, "%s <route>", what);
                if (n->address.type)
                        return unsupported(w, "%s <address type='%s'>", what, n->address.type);
                if (n->mac_type || n->mac_check)
                        return unsupported(w, "%s <mac type/check> (xl.cfg has no such setting)",
                                           what);
                if (n->mac && (r = spec_add(w, &spec, what, "mac", n->mac)) < 0)
                        return r;
                if (n->type == DOMAIN_NET_ETHERNET && !n->script)
                        return unsupported(w,
                                           "%s type 'ethernet' without <script path=...> (xl would "
                                           "bridge it to xenbr0)",
                                           what);
                if (n->type == DOMAIN_NET_BRIDGE) {
                        if (!n->source)
                                return invalid(w, "%s type 'bridge' without <source bridge=...>",
                                               what);
                        if ((r = spec_add(w, &spec, what, "bridge", n->source)) < 0)
                                return r;
                }
                if (n->script && (r = spec_add(w, &spec, what, "script", n->script)) < 0)
                        return r;
                if (n->model) {
                        if (streq(n->model, "netfront")) {
                                spec_add(w, &spec, what, "type", "vif");
                        } else {
                                if (w->kind != KIND_HVM)
                                        return unsupported(w, "%s <model type='%s'> for a %s guest",
                                                           what, n->model, kind_names[w->kind]);
                                if ((r = spec_add(w, &spec, what, "model", n->model)) < 0)
                                        return r;
                        }
                }
                if (n->target_dev && (r = spec_add(w, &spec, what, "vifname", n->target_dev)) < 0)
                        return r;
                if (n->mtu) {
                        char num[16];
                        snprintf(num, sizeof(num), "%d", n->mtu);
                        spec_add(w, &spec, what, "mtu", num);
                }
                if (n->n_ips) {
                        _cleanup_strbuf_ struct strbuf ips = {0};
                        for (int j = 0; j < n->n_ips; j++) {
                                const struct domain_ip *ip = &n->ips[j];
                                if (ip->prefix != -1 || ip->peer)
                                        return unsupported(w, "%s <ip> with prefix or peer", what);
                                if (!ip->address || strpbrk(ip->address, " ,="))
                                        return invalid(w, "%s <ip address='%s'>", what,
                                                       ip->address ? ip->address : "");
                                if (j)
                                        strbuf_append(&ips, " ");
                                strbuf_append(&ips, ip->address);
                        }
                        if (spec.len)
                                strbuf_append(&spec, ",");
                        strbuf_printf(&spec, "ip=%s", ips.buf);
                }
                strv_push(&vifs, strbuf_steal(&spec));
        }
        if (!vifs)
                return 0;
        return put_list(w, "vif", vifs, (int)strv_length(vifs));
}

static const char *disk_backend(const char *driver_name)
{
        if (!driver_name)
                return NULL;
        if (streq(driver_name, "phy"))
                return "phy";
        if (streq(driver_name, "qemu"))
                return "qdisk";
        if (streq(driver_name, "tap") || streq(driver_name, "tap2"))
                return "tap";
        return NULL;
}

/* The bus xl infers from a vdev's name: xvdX, hdX, sdX (letters, then
 * optionally a partition number). */
static bool vdev_tail_ok(const char *t, size_t max_letters)
{
        size_t n = 0;
        while (t[n] >= 'a' && t[n] <= 'z')
                n++;
        if (n == 0 || n > max_letters)
                return false;
        for (t += n; *t; t++)
                if (*t < '0' || *t > '9')
                        return false;
        return true;
}

enum domain_disk_bus xen_disk_bus_of_vdev(const char *vdev)
{
        if (startswith(vdev, "xvd") && vdev_tail_ok(vdev + 3, 4))
                return DOMAIN_DISK_BUS_XEN;
        if (startswith(vdev, "hd") && vdev_tail_ok(vdev + 2, 1))
                return DOMAIN_DISK_BUS_IDE;
        if (startswith(vdev, "sd") && vdev_tail_ok(vdev + 2, 4))
                return DOMAIN_DISK_BUS_SCSI;
        return DOMAIN_DISK_BUS_LAST;
}

static int write_disks(struct writer *w)
{
        const struct domain_def *def = w->def;
        _cleanup_strv_free_ char **disks = NULL;
        int r;
        for (int i = 0; i < def->n_disks; i++) {
                const struct domain_disk *d = &def->disks[i];
                _cleanup_strbuf_ struct strbuf spec = {0};
                char what[64];
                snprintf(what, sizeof(what), "<disk> '%s'", d->target_dev ? d->target_dev : "?");
                if (!d->target_dev)
                        return invalid(w, "<disk> #%d without <target dev=...>", i + 1);
                enum domain_disk_bus vbus = xen_disk_bus_of_vdev(d->target_dev);
                if (vbus == DOMAIN_DISK_BUS_LAST)
                        return unsupported(w, "%s (xl knows xvdX, hdX and sdX)", what);
                if (d->bus != DOMAIN_DISK_BUS_NONE && d->bus != vbus &&
                    !(vbus == DOMAIN_DISK_BUS_SCSI && d->bus == DOMAIN_DISK_BUS_SATA))
                        return unsupported(w, "%s on bus '%s' (xl puts %s on '%s')", what,
                                           domain_disk_bus_to_string(d->bus), d->target_dev,
                                           domain_disk_bus_to_string(vbus));
                /* 'default' is the backend's own choice, which xl makes too */
                if (d->driver_cache && !streq(d->driver_cache, "default"))
                        return unsupported(w, "%s <driver cache='%s'>", what, d->driver_cache);
                if (d->shareable)
                        return unsupported(w, "%s <shareable/>", what);
                if (d->address.type && !streq(d->address.type, "drive"))
                        return unsupported(w, "%s <address type='%s'>", what, d->address.type);
                const char *backend = disk_backend(d->driver_name);
                if (d->driver_name && !backend)
                        return unsupported(w, "%s <driver name='%s'>", what, d->driver_name);
                if (!d->source && d->device != DOMAIN_DISK_DEVICE_CDROM)
                        return invalid(w, "%s without <source>", what);
                if (d->format == DOMAIN_DISK_FORMAT_QCOW2 && streq(backend, "phy"))
                        return unsupported(
                                w, "%s qcow2 with <driver name='phy'> (phy takes raw only)", what);
                if (d->format == DOMAIN_DISK_FORMAT_RAW)
                        spec_add(w, &spec, what, "format", "raw");
                else if (d->format == DOMAIN_DISK_FORMAT_QCOW2)
                        spec_add(w, &spec, what, "format", "qcow2");
                if ((r = spec_add(w, &spec, what, "vdev", d->target_dev)) < 0)
                        return r;
                spec_add(w, &spec, what, "access", d->readonly ? "ro" : "rw");
                if (backend)
                        spec_add(w, &spec, what, "backendtype", backend);
                if (d->device == DOMAIN_DISK_DEVICE_CDROM)
                        spec_add(w, &spec, what, "devtype", "cdrom");
                /* target= comes last: xl takes the rest of the spec, commas included */
                if ((r = check_text(w, what, d->source ? d->source : "")) < 0)
                        return r;
                strbuf_printf(&spec, ",target=%s", d->source ? d->source : "");
                strv_push(&disks, strbuf_steal(&spec));
        }
        if (!disks)
                return 0;
        return put_list(w, "disk", disks, (int)strv_length(disks));
}

int xen_xlcfg_format(const struct domain_def *def, char **ret, struct lv_error **err)
{
        struct writer w = {.def = def, .err = err};
        switch (def->os.type) {
        case DOMAIN_OS_LINUX:
        case DOMAIN_OS_XEN:
                w.kind = KIND_PV;
                break;
        case DOMAIN_OS_HVM:
                w.kind = KIND_HVM;
                break;
        case DOMAIN_OS_XENPVH:
                w.kind = KIND_PVH;
                break;
        default:
                return invalid(
                        &w, "<os><type>%s</type> is not a Xen guest type (linux, xen, hvm, xenpvh)",
                        domain_os_type_to_string(def->os.type));
        }
        int r;
        if ((r = check_unsupported(&w)) < 0 || (r = write_comments(&w)) < 0 ||
            (r = write_identity(&w)) < 0 || (r = write_os(&w)) < 0 ||
            (r = write_features(&w)) < 0 || (r = write_clock(&w)) < 0 ||
            (r = write_lifecycle(&w)) < 0 || (r = write_emulator(&w)) < 0 ||
            (r = write_graphics(&w)) < 0 || (r = write_serials(&w)) < 0 ||
            (r = write_video(&w)) < 0 || (r = write_inputs(&w)) < 0 ||
            (r = write_devices_misc(&w)) < 0 || (r = write_nets(&w)) < 0 ||
            (r = write_disks(&w)) < 0) {
                strbuf_reset(&w.sb);
                return r;
        }
        *ret = strbuf_steal(&w.sb);
        return 0;
}
