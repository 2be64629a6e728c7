/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xl.cfg → domain model, for importing existing Xen guests
 * (`lvsh domxml-from-native xen-xl FILE`). xl silently ignores keys it
 * does not know; litevirt does not: every key is either understood or
 * refused with the file, line and key named. */
#include "util/strbuf.h"
#include "xen/xlcfg_read.h"

static int read_identity(struct reader *rd)
{
        struct domain_def *def = rd->def;
        int r;
        if ((r = rd_get_string(rd, "name", &def->name)) < 0)
                return r;
        if (!def->name)
                return rd_fail(rd, 0, "name", "missing");
        if (!*def->name || strlen(def->name) > DOMAIN_NAME_MAX || strchr(def->name, '/'))
                return rd_fail(rd, xlcfg_get(rd->cfg, "name")->line, "name",
                               "'%s' is empty, longer than %d or has a '/'", def->name,
                               DOMAIN_NAME_MAX);
        _cleanup_free_ char *uuid = NULL;
        if ((r = rd_get_string(rd, "uuid", &uuid)) < 0)
                return r;
        if (uuid) {
                if (domain_uuid_parse(uuid, def->uuid) < 0)
                        return rd_fail(rd, xlcfg_get(rd->cfg, "uuid")->line, "uuid",
                                       "'%s' is not a UUID", uuid);
        } else if ((r = domain_uuid_generate(def->uuid)) < 0) {
                return lv_error_set(rd->err, -r, "generating a uuid");
        }

        long long memory = 0, maxmem = 0;
        const long long mem_max = XLCFG_MEMORY_MAX_MIB;
        if ((r = rd_get_number(rd, "memory", 1, mem_max, &memory)) < 0)
                return r;
        if (r == 0)
                return rd_fail(rd, 0, "memory", "missing");
        if ((r = rd_get_number(rd, "maxmem", 1, mem_max, &maxmem)) < 0)
                return r;
        if (r == 0)
                maxmem = memory;
        if (maxmem < memory)
                return rd_fail(rd, xlcfg_get(rd->cfg, "maxmem")->line, "maxmem",
                               "%lld below memory %lld", maxmem, memory);
        def->memory_kib = (unsigned long long)maxmem * 1024;
        def->current_memory_kib = (unsigned long long)memory * 1024;

        long long vcpus = 1, maxvcpus = 0;
        if ((r = rd_get_number(rd, "vcpus", 1, 4096, &vcpus)) < 0)
                return r;
        if ((r = rd_get_number(rd, "maxvcpus", 1, 4096, &maxvcpus)) < 0)
                return r;
        if (r > 0 && maxvcpus < vcpus)
                return rd_fail(rd, xlcfg_get(rd->cfg, "maxvcpus")->line, "maxvcpus",
                               "%lld below vcpus %lld", maxvcpus, vcpus);
        def->vcpus = (unsigned)(maxvcpus ? maxvcpus : vcpus);
        if (maxvcpus && maxvcpus != vcpus)
                def->vcpus_current = (unsigned)vcpus;
        def->vcpu_placement = xstrdup("static");
        if ((r = rd_get_string(rd, "cpus", &def->vcpu_cpuset)) < 0)
                return r;
        if (def->vcpu_cpuset && !xen_cpuset_valid(def->vcpu_cpuset))
                return rd_fail(rd, xlcfg_get(rd->cfg, "cpus")->line, "cpus",
                               "'%s' is not a CPU list such as 0-3,^2 (node: forms and 'all' "
                               "cannot be expressed in domain XML)",
                               def->vcpu_cpuset);
        return 0;
}

static int read_type(struct reader *rd)
{
        _cleanup_free_ char *type = NULL, *builder = NULL;
        int r;
        if ((r = rd_get_string(rd, "type", &type)) < 0 ||
            (r = rd_get_string(rd, "builder", &builder)) < 0)
                return r;
        if (type && builder)
                return rd_fail(rd, xlcfg_get(rd->cfg, "builder")->line, "builder",
                               "given with 'type'");
        const char *t = type ? type : builder ? builder : "pv";
        const char *key = type ? "type" : "builder";
        if (streq(t, "pv") || (builder && streq(t, "generic")))
                rd->kind = KIND_PV;
        else if (streq(t, "hvm"))
                rd->kind = KIND_HVM;
        else if (streq(t, "pvh") && type)
                rd->kind = KIND_PVH;
        else
                return rd_fail(rd, xlcfg_get(rd->cfg, key)->line, key, "unknown guest type '%s'",
                               t);
        struct domain_os *os = &rd->def->os;
        os->type = rd->kind == KIND_PV    ? DOMAIN_OS_LINUX
                   : rd->kind == KIND_HVM ? DOMAIN_OS_HVM
                                          : DOMAIN_OS_XENPVH;
        os->arch = xstrdup("x86_64");
        os->machine = xstrdup(rd->kind == KIND_PV    ? "xenpv"
                              : rd->kind == KIND_HVM ? "xenfv"
                                                     : "xenpvh");
        return 0;
}

static int read_os(struct reader *rd)
{
        struct domain_def *def = rd->def;
        struct domain_os *os = &def->os;
        int r;
        if ((r = rd_get_string(rd, "kernel", &os->kernel)) < 0 ||
            (r = rd_get_string(rd, "ramdisk", &os->initrd)) < 0 ||
            (r = rd_get_string(rd, "cmdline", &os->cmdline)) < 0 ||
            (r = rd_get_string(rd, "bootloader", &def->bootloader)) < 0)
                return r;
        /* the old way to give a PV command line: root= and extra= */
        _cleanup_free_ char *root = NULL, *extra = NULL;
        if ((r = rd_get_string(rd, "root", &root)) < 0 ||
            (r = rd_get_string(rd, "extra", &extra)) < 0)
                return r;
        if ((root || extra) && os->cmdline)
                return rd_fail(rd, xlcfg_get(rd->cfg, root ? "root" : "extra")->line,
                               root ? "root" : "extra", "given with 'cmdline'");
        if (root || extra)
                os->cmdline = root && extra ? xasprintf("root=%s %s", root, extra)
                              : root        ? xasprintf("root=%s", root)
                                            : xstrdup(extra);

        _cleanup_strv_free_ char **args = NULL;
        int line = 0;
        if ((r = rd_get_string_list(rd, "bootloader_args", &args, &line)) < 0)
                return r;
        if (args) {
                _cleanup_strbuf_ struct strbuf sb = {0};
                for (char **a = args; *a; a++) {
                        if (!**a || strpbrk(*a, " \t\n\"'\\"))
                                return rd_fail(rd, line, "bootloader_args",
                                               "argument '%s' is empty or has blanks or quotes",
                                               *a);
                        if (a != args)
                                strbuf_append(&sb, " ");
                        strbuf_append(&sb, *a);
                }
                def->bootloader_args = strbuf_steal(&sb);
        }

        _cleanup_free_ char *boot = NULL, *firmware = NULL, *bios = NULL, *bios_path = NULL;
        if ((r = rd_get_string(rd, "boot", &boot)) < 0 ||
            (r = rd_get_string(rd, "firmware", &firmware)) < 0 ||
            (r = rd_get_string(rd, "bios", &bios)) < 0 ||
            (r = rd_get_string(rd, "bios_path_override", &bios_path)) < 0)
                return r;
        const char *hvm_only = boot        ? "boot"
                               : firmware  ? "firmware"
                               : bios      ? "bios"
                               : bios_path ? "bios_path_override"
                                           : NULL;
        if (hvm_only && rd->kind != KIND_HVM)
                return rd_fail(rd, xlcfg_get(rd->cfg, hvm_only)->line, hvm_only,
                               "only HVM guests have it");
        if (def->bootloader && rd->kind != KIND_PV)
                return rd_fail(rd, xlcfg_get(rd->cfg, "bootloader")->line, "bootloader",
                               "only PV guests have it");
        for (const char *b = boot; b && *b; b++) {
                enum domain_boot_dev dev;
                switch (*b) {
                case 'a':
                        dev = DOMAIN_BOOT_FD;
                        break;
                case 'c':
                        dev = DOMAIN_BOOT_HD;
                        break;
                case 'd':
                        dev = DOMAIN_BOOT_CDROM;
                        break;
                case 'n':
                        dev = DOMAIN_BOOT_NETWORK;
                        break;
                default:
                        return rd_fail(rd, xlcfg_get(rd->cfg, "boot")->line, "boot",
                                       "'%c' is not a boot device (a, c, d, n)", *b);
                }
                for (int i = 0; i < os->n_boot; i++)
                        if (os->boot[i] == dev)
                                return rd_fail(rd, xlcfg_get(rd->cfg, "boot")->line, "boot",
                                               "'%c' given twice", *b);
                os->boot[os->n_boot++] = dev;
        }
        if (rd->kind == KIND_HVM && !boot) {
                /* xl's default order, "cda" */
                os->boot[os->n_boot++] = DOMAIN_BOOT_HD;
                os->boot[os->n_boot++] = DOMAIN_BOOT_CDROM;
                os->boot[os->n_boot++] = DOMAIN_BOOT_FD;
        }
        if (bios) {
                if (!streq(bios, "ovmf") && !streq(bios, "seabios") && !streq(bios, "rombios"))
                        return rd_fail(rd, xlcfg_get(rd->cfg, "bios")->line, "bios",
                                       "unknown firmware '%s'", bios);
                if (!streq(bios, "ovmf"))
                        return rd_fail(
                                rd, xlcfg_get(rd->cfg, "bios")->line, "bios",
                                "'%s' cannot be expressed in domain XML (only ovmf, as <loader "
                                "type='pflash'>)",
                                bios);
                if (!bios_path)
                        return rd_fail(
                                rd, xlcfg_get(rd->cfg, "bios")->line, "bios",
                                "ovmf without bios_path_override cannot be expressed in domain XML "
                                "(<loader type='pflash'> needs the image's path)");
                os->loader_type = xstrdup("pflash");
                os->loader = TAKE_PTR(bios_path);
        } else if (bios_path) {
                return rd_fail(rd, xlcfg_get(rd->cfg, "bios_path_override")->line,
                               "bios_path_override", "needs bios = \"ovmf\"");
        }
        if (firmware) {
                if (bios)
                        return rd_fail(rd, xlcfg_get(rd->cfg, "firmware")->line, "firmware",
                                       "given with 'bios'");
                if (firmware[0] != '/')
                        return rd_fail(
                                rd, xlcfg_get(rd->cfg, "firmware")->line, "firmware",
                                "'%s' cannot be expressed in domain XML (only a path to hvmloader)",
                                firmware);
                os->loader_type = xstrdup("rom");
                os->loader = TAKE_PTR(firmware);
        }
        if (def->bootloader_args && !def->bootloader)
                return rd_fail(rd, line, "bootloader_args", "given without 'bootloader'");
        if (os->kernel && def->bootloader)
                return rd_fail(rd, xlcfg_get(rd->cfg, "bootloader")->line, "bootloader",
                               "given with 'kernel'");
        if (!os->kernel && (os->initrd || os->cmdline))
                return rd_fail(rd, 0, os->initrd ? "ramdisk" : "cmdline", "given without 'kernel'");
        if (rd->kind == KIND_PV && !os->kernel && !def->bootloader)
                return rd_fail(rd, 0, "kernel", "a PV guest needs 'kernel' or 'bootloader'");
        if (rd->kind == KIND_PVH && !os->kernel)
                return rd_fail(rd, 0, "kernel", "a PVH guest needs 'kernel'");
        return 0;
}

static int read_features_clock(struct reader *rd)
{
        struct domain_def *def = rd->def;
        const char *keys[] = {"pae", "acpi", "apic", "viridian", "hap"};
        bool *flags[] = {&def->features.pae, &def->features.acpi, &def->features.apic,
                         &def->features.viridian, &def->features.hap};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                int v, r = rd_get_bool(rd, keys[i], &v);
                if (r < 0)
                        return r;
                if (v >= 0 && rd->kind != KIND_HVM)
                        return rd_fail(rd, xlcfg_get(rd->cfg, keys[i])->line, keys[i],
                                       "only HVM guests have it");
                /* absent: xl's default, on for pae/acpi/apic of HVM guests;
                 * hap's default (on) is what an absent <hap/> means */
                *flags[i] = v >= 0 ? v : (rd->kind == KIND_HVM && i < 3);
        }

        int localtime, r;
        long long offset = 0;
        if ((r = rd_get_bool(rd, "localtime", &localtime)) < 0)
                return r;
        if ((r = rd_get_number(rd, "rtc_timeoffset", -(1LL << 40), 1LL << 40, &offset)) < 0)
                return r;
        if (r > 0) {
                if (rd->kind != KIND_HVM)
                        return rd_fail(rd, xlcfg_get(rd->cfg, "rtc_timeoffset")->line,
                                       "rtc_timeoffset", "only HVM guests have it");
                def->clock_offset = DOMAIN_CLOCK_VARIABLE;
                def->clock_adjustment = xasprintf("%lld", offset);
                def->clock_basis = xstrdup(localtime == 1 ? "localtime" : "utc");
        } else {
                def->clock_offset = localtime == 1 ? DOMAIN_CLOCK_LOCALTIME : DOMAIN_CLOCK_UTC;
        }
        return 0;
}

static int read_lifecycle(struct reader *rd)
{
        const char *keys[] = {"on_poweroff", "on_reboot", "on_crash"};
        enum domain_lifecycle *out[] = {&rd->def->on_poweroff, &rd->def->on_reboot,
                                        &rd->def->on_crash};
        /* xl's defaults */
        const enum domain_lifecycle defaults[] = {
                DOMAIN_LIFECYCLE_DESTROY, DOMAIN_LIFECYCLE_RESTART, DOMAIN_LIFECYCLE_DESTROY};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                _cleanup_free_ char *v = NULL;
                int r = rd_get_string(rd, keys[i], &v);
                if (r < 0)
                        return r;
                *out[i] = defaults[i];
                if (!v)
                        continue;
                int l = xen_lifecycle_from_string(v);
                if (l < 0)
                        return rd_fail(rd, xlcfg_get(rd->cfg, keys[i])->line, keys[i],
                                       "unknown action '%s'", v);
                *out[i] = (enum domain_lifecycle)l;
        }
        return 0;
}

static int read_emulator(struct reader *rd)
{
        _cleanup_free_ char *version = NULL, *parallel = NULL;
        int r, sdl, usb;
        if ((r = rd_get_string(rd, "device_model_override", &rd->def->emulator)) < 0 ||
            (r = rd_get_string(rd, "device_model_version", &version)) < 0 ||
            (r = rd_get_string(rd, "parallel", &parallel)) < 0 ||
            (r = rd_get_bool(rd, "sdl", &sdl)) < 0 || (r = rd_get_bool(rd, "usb", &usb)) < 0)
                return r;
        if (version && !streq(version, "qemu-xen"))
                return rd_fail(rd, xlcfg_get(rd->cfg, "device_model_version")->line,
                               "device_model_version", "'%s' is not supported (only qemu-xen)",
                               version);
        if (parallel && !streq(parallel, "none"))
                return rd_fail(rd, xlcfg_get(rd->cfg, "parallel")->line, "parallel",
                               "parallel ports are not supported by litevirt");
        if (sdl == 1)
                return rd_fail(rd, xlcfg_get(rd->cfg, "sdl")->line, "sdl",
                               "SDL displays are not supported by litevirt");
        return 0;
}

static struct domain_graphics *graphics_add(struct domain_def *def, enum domain_graphics_type type)
{
        def->graphics =
                xrealloc(def->graphics, sizeof(*def->graphics) * (size_t)(def->n_graphics + 1));
        struct domain_graphics *g = &def->graphics[def->n_graphics++];
        *g = (struct domain_graphics){.type = type, .port = -1, .tls_port = -1, .websocket = -1};
        return g;
}

/* As the XML parser models it: one <listen type='address'>, with the
 * address when there is one. */
static void graphics_set_listen(struct domain_graphics *g, const char *addr)
{
        g->listen = xstrdup_null(addr);
        g->listens = xcalloc(1, sizeof(*g->listens));
        g->listens[0].type = xstrdup("address");
        g->listens[0].address = xstrdup_null(addr);
        g->n_listens = 1;
}

/* VNC settings as xl reads them, for HVM (top-level keys) and PV (vfb). */
struct vnc_settings {
        int enabled; /* -1 absent */
        char *listen;
        long long display; /* -1 absent */
        int unused;        /* -1 absent */
        char *passwd;
        char *keymap;
};

static void vnc_to_graphics(struct domain_def *def, struct vnc_settings *v)
{
        struct domain_graphics *g = graphics_add(def, DOMAIN_GRAPHICS_VNC);
        graphics_set_listen(g, v->listen);
        /* as libvirt: vncunused (xl's default) means autoport */
        if (v->unused == 0) {
                g->port = 5900 + (int)(v->display >= 0 ? v->display : 0);
                g->autoport = false;
        } else {
                g->autoport = true;
        }
        g->passwd = TAKE_PTR(v->passwd);
        g->keymap = TAKE_PTR(v->keymap);
}

static int read_hvm_graphics(struct reader *rd)
{
        struct domain_def *def = rd->def;
        struct vnc_settings v = {.display = -1};
        _cleanup_free_ char *listen = NULL, *passwd = NULL, *keymap = NULL;
        int r;
        if ((r = rd_get_bool(rd, "vnc", &v.enabled)) < 0 ||
            (r = rd_get_string(rd, "vnclisten", &listen)) < 0 ||
            (r = rd_get_number(rd, "vncdisplay", 0, 65535 - 5900, &v.display)) < 0 ||
            (r = rd_get_bool(rd, "vncunused", &v.unused)) < 0 ||
            (r = rd_get_string(rd, "vncpasswd", &passwd)) < 0 ||
            (r = rd_get_string(rd, "keymap", &keymap)) < 0)
                return r;
        if (v.enabled == 1) {
                v.listen = listen;
                v.passwd = TAKE_PTR(passwd);
                v.keymap = keymap ? xstrdup(keymap) : NULL;
                vnc_to_graphics(def, &v);
        }

        int spice, disable_ticketing, agent_mouse, clipboard, vdagent;
        long long port = -1, tls_port = -1;
        _cleanup_free_ char *host = NULL, *spice_passwd = NULL;
        if ((r = rd_get_bool(rd, "spice", &spice)) < 0 ||
            (r = rd_get_string(rd, "spicehost", &host)) < 0 ||
            (r = rd_get_number(rd, "spiceport", 1, 65535, &port)) < 0 ||
            (r = rd_get_number(rd, "spicetls_port", 1, 65535, &tls_port)) < 0 ||
            (r = rd_get_bool(rd, "spicedisable_ticketing", &disable_ticketing)) < 0 ||
            (r = rd_get_string(rd, "spicepasswd", &spice_passwd)) < 0 ||
            (r = rd_get_bool(rd, "spiceagent_mouse", &agent_mouse)) < 0 ||
            (r = rd_get_bool(rd, "spice_clipboard_sharing", &clipboard)) < 0 ||
            (r = rd_get_bool(rd, "spicevdagent", &vdagent)) < 0)
                return r;
        /* the agent is what clipboard sharing needs; litevirt's model has
         * no switch for the agent alone */
        if (vdagent == 1 && clipboard != 1)
                return rd_fail(rd, xlcfg_get(rd->cfg, "spicevdagent")->line, "spicevdagent",
                               "the SPICE agent is only supported with "
                               "spice_clipboard_sharing = 1 (<clipboard copypaste='yes'/>)");
        if (spice == 1) {
                if (port == -1 && tls_port == -1)
                        return rd_fail(rd, xlcfg_get(rd->cfg, "spice")->line, "spice",
                                       "needs 'spiceport' or 'spicetls_port'");
                if (disable_ticketing != 1 && !spice_passwd)
                        return rd_fail(
                                rd, xlcfg_get(rd->cfg, "spice")->line, "spice",
                                "ticketing without 'spicepasswd' (set spicedisable_ticketing = 1)");
                struct domain_graphics *g = graphics_add(def, DOMAIN_GRAPHICS_SPICE);
                g->port = (int)port;
                g->tls_port = (int)tls_port;
                graphics_set_listen(g, host);
                if (disable_ticketing != 1)
                        g->passwd = TAKE_PTR(spice_passwd);
                if (agent_mouse >= 0)
                        g->mouse_mode = xstrdup(agent_mouse ? "client" : "server");
                g->clipboard_copypaste = xstrdup(clipboard == 1 ? "yes" : "no");
                g->keymap = keymap ? xstrdup(keymap) : NULL;
        }
        if (v.enabled != 1 && (listen || v.display >= 0 || passwd))
                return rd_fail(rd, 0, "vnc", "VNC settings given but VNC is not on (vnc = 1)");
        if (keymap && v.enabled != 1 && spice != 1)
                return rd_fail(rd, xlcfg_get(rd->cfg, "keymap")->line, "keymap",
                               "given without VNC or SPICE");
        return 0;
}

static int read_vfb(struct reader *rd)
{
        _cleanup_strv_free_ char **vfbs = NULL;
        int line = 0, r;
        if ((r = rd_get_string_list(rd, "vfb", &vfbs, &line)) < 0)
                return r;
        if (!vfbs)
                return 0;
        if (rd->kind == KIND_HVM)
                return rd_fail(rd, line, "vfb", "HVM guests use vnc = 1 instead");
        if (strv_length(vfbs) > 1)
                return rd_fail(rd, line, "vfb", "more than one framebuffer");
        struct spec_item *items = NULL;
        int n = 0;
        if ((r = rd_spec_split(vfbs[0], false, &items, &n)) < 0)
                return rd_fail(rd, line, "vfb",
                               r == -E2BIG ? "more than 64 items" : "a value with '='");
        struct vnc_settings v = {.enabled = -1, .display = -1, .unused = -1};
        for (int i = 0; i < n && r >= 0; i++) {
                const char *k = items[i].key, *val = items[i].value ? items[i].value : "";
                long long num;
                if (streq(k, "vnc") || streq(k, "vncunused") || streq(k, "sdl")) {
                        if (rd_parse_number(val, 0, 1, &num) < 0)
                                r = rd_fail(rd, line, "vfb", "%s='%s' is not 0 or 1", k, val);
                        else if (streq(k, "sdl") && num)
                                r = rd_fail(rd, line, "vfb",
                                            "SDL displays are not supported by litevirt");
                        else if (streq(k, "vnc"))
                                v.enabled = (int)num;
                        else if (streq(k, "vncunused"))
                                v.unused = (int)num;
                } else if (streq(k, "type") && streq(val, "vnc")) {
                        v.enabled = 1;
                } else if (streq(k, "vncdisplay")) {
                        if (rd_parse_number(val, 0, 65535 - 5900, &num) < 0)
                                r = rd_fail(rd, line, "vfb",
                                            "vncdisplay='%s' is not a display number", val);
                        v.display = num;
                } else if (!*val) {
                        r = rd_fail(rd, line, "vfb", "'%s' without a value", k);
                } else if (streq(k, "vnclisten") || streq(k, "vncpasswd") || streq(k, "keymap")) {
                        char **slot = streq(k, "vnclisten")   ? &v.listen
                                      : streq(k, "vncpasswd") ? &v.passwd
                                                              : &v.keymap;
                        free(*slot);
                        *slot = xstrdup(val);
                } else {
                        r = rd_fail(rd, line, "vfb", "'%s' is not supported by litevirt", k);
                }
        }
        rd_spec_free(items, n);
        if (r >= 0 && v.enabled == 1) {
                vnc_to_graphics(rd->def, &v);
                /* the framebuffer's PV keyboard and mouse */
        } else if (r >= 0) {
                r = rd_fail(rd, line, "vfb",
                            "a framebuffer without vnc=1 is not supported by litevirt");
        }
        free(v.listen);
        free(v.passwd);
        free(v.keymap);
        return r;
}

static struct domain_chr *chr_add(struct domain_def *def, enum domain_chr_kind kind,
                                  const char *target_type, int port)
{
        def->chrs = xrealloc(def->chrs, sizeof(*def->chrs) * (size_t)(def->n_chrs + 1));
        struct domain_chr *c = &def->chrs[def->n_chrs++];
        *c = (struct domain_chr){.kind = kind,
                                 .source_type = xstrdup("pty"),
                                 .target_type = xstrdup_null(target_type),
                                 .target_port = port};
        return c;
}

static int read_serials(struct reader *rd)
{
        _cleanup_strv_free_ char **serials = NULL;
        int line = 0, r;
        if ((r = rd_get_string_list(rd, "serial", &serials, &line)) < 0)
                return r;
        int port = 0;
        for (char **s = serials; s && *s; s++) {
                if (streq(*s, "none") && strv_length(serials) == 1)
                        continue;
                if (!streq(*s, "pty"))
                        return rd_fail(rd, line, "serial",
                                       "'%s' is not supported by litevirt (only pty)", *s);
                if (rd->kind != KIND_HVM)
                        return rd_fail(rd, line, "serial", "only HVM guests have it");
                chr_add(rd->def, DOMAIN_CHR_SERIAL, NULL, port++);
        }
        if (rd->kind != KIND_HVM)
                chr_add(rd->def, DOMAIN_CHR_CONSOLE, "xen", 0); /* the PV console */
        return 0;
}

static int read_video_usb(struct reader *rd)
{
        struct domain_def *def = rd->def;
        _cleanup_free_ char *vga = NULL;
        int stdvga, r;
        long long videoram = 0;
        if ((r = rd_get_string(rd, "vga", &vga)) < 0 ||
            (r = rd_get_bool(rd, "stdvga", &stdvga)) < 0 ||
            (r = rd_get_number(rd, "videoram", 1, 1024, &videoram)) < 0)
                return r;
        const char *hvm_only = vga ? "vga" : stdvga >= 0 ? "stdvga" : videoram ? "videoram" : NULL;
        if (hvm_only && rd->kind != KIND_HVM)
                return rd_fail(rd, xlcfg_get(rd->cfg, hvm_only)->line, hvm_only,
                               "only HVM guests have it");
        if (vga && stdvga >= 0)
                return rd_fail(rd, xlcfg_get(rd->cfg, "stdvga")->line, "stdvga",
                               "given with 'vga'");
        _cleanup_strv_free_ char **usb = NULL;
        int line = 0;
        if ((r = rd_get_string_list(rd, "usbdevice", &usb, &line)) < 0)
                return r;
        if (usb && rd->kind != KIND_HVM)
                return rd_fail(rd, line, "usbdevice", "only HVM guests have it");
        for (char **u = usb; u && *u; u++) {
                enum domain_input_type type;
                if (streq(*u, "tablet"))
                        type = DOMAIN_INPUT_TABLET;
                else if (streq(*u, "mouse"))
                        type = DOMAIN_INPUT_MOUSE;
                else
                        return rd_fail(rd, line, "usbdevice", "'%s' is not supported by litevirt",
                                       *u);
                def->inputs =
                        xrealloc(def->inputs, sizeof(*def->inputs) * (size_t)(def->n_inputs + 1));
                def->inputs[def->n_inputs++] =
                        (struct domain_input){.type = type, .bus = DOMAIN_INPUT_BUS_USB};
        }
        if (rd->kind != KIND_HVM)
                return 0;
        const char *model = "cirrus";
        if (vga) {
                if (streq(vga, "stdvga"))
                        model = "vga";
                else if (streq(vga, "cirrus") || streq(vga, "qxl") || streq(vga, "none"))
                        model = vga;
                else
                        return rd_fail(rd, xlcfg_get(rd->cfg, "vga")->line, "vga",
                                       "unknown card '%s'", vga);
        } else if (stdvga == 1) {
                model = "vga";
        }
        def->videos = xcalloc(1, sizeof(*def->videos));
        def->n_videos = 1;
        def->videos[0].model = xstrdup(model);
        def->videos[0].vram = (unsigned)videoram * 1024;
        def->videos[0].primary = DOMAIN_TRISTATE_ON;
        return 0;
}

int xen_xlcfg_parse(const char *text, size_t len, const char *filename, struct domain_def **ret,
                    struct lv_error **err)
{
        _cleanup_xlcfg_ struct xlcfg *cfg = NULL;
        int r = xlcfg_syntax_parse(text, len, filename, &cfg, err);
        if (r < 0)
                return r;
        _cleanup_domain_def_ struct domain_def *def = xcalloc(1, sizeof(*def));
        def->type = DOMAIN_TYPE_XEN;
        struct reader rd = {.cfg = cfg, .def = def, .err = err};
        if ((r = read_type(&rd)) < 0 || (r = read_identity(&rd)) < 0 || (r = read_os(&rd)) < 0 ||
            (r = read_features_clock(&rd)) < 0 || (r = read_lifecycle(&rd)) < 0 ||
            (r = read_emulator(&rd)) < 0 || (r = xlcfg_read_disks(&rd)) < 0 ||
            (r = xlcfg_read_vifs(&rd)) < 0 || (r = read_serials(&rd)) < 0 ||
            (r = read_video_usb(&rd)) < 0)
                return r;
        if (rd.kind == KIND_HVM)
                r = read_hvm_graphics(&rd);
        if (r >= 0)
                r = read_vfb(&rd);
        if (r < 0)
                return r;
        for (int i = 0; i < cfg->n_settings; i++)
                if (!cfg->settings[i].used)
                        return rd_fail(
                                &rd, cfg->settings[i].line, cfg->settings[i].key,
                                "not supported by litevirt (or misspelt: xl would ignore it)");
        def->memballoon_model = xstrdup("xen");
        *ret = TAKE_PTR(def);
        return 0;
}
