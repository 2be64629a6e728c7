/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xl.cfg → domain model, for importing existing Xen guests
 * (`lvsh domxml-from-native xen-xl FILE`). xl silently ignores keys it
 * does not know; litevirt does not: every key is either understood or
 * refused with the file, line and key named. */
#include <stdarg.h>

#include "util/strbuf.h"
#include "xen/xlcfg.h"

enum guest_kind { KIND_PV, KIND_HVM, KIND_PVH };

struct reader {
        struct xlcfg *cfg;
        struct domain_def *def;
        enum guest_kind kind;
        struct lv_error **err;
};

static int fail(struct reader *rd, int line, const char *key, const char *fmt, ...) _printf_(4, 5);
static int fail(struct reader *rd, int line, const char *key, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        int r;
        if (line > 0)
                r = lv_error_setf(rd->err, EINVAL, "%s:%d: '%s': %s", rd->cfg->filename, line, key,
                                  msg);
        else
                r = lv_error_setf(rd->err, EINVAL, "%s: '%s': %s", rd->cfg->filename, key, msg);
        free(msg);
        return r;
}

static struct xlcfg_setting *take(struct reader *rd, const char *key)
{
        struct xlcfg_setting *s = xlcfg_get(rd->cfg, key);
        if (s)
                s->used = true;
        return s;
}

/* *ret stays NULL when the key is absent. */
static int get_string(struct reader *rd, const char *key, char **ret)
{
        struct xlcfg_setting *s = take(rd, key);
        if (!s)
                return 0;
        if (s->value.type != XLCFG_STRING)
                return fail(rd, s->line, key, "a quoted string expected");
        if (!*s->value.text)
                return fail(rd, s->line, key, "empty string");
        free(*ret);
        *ret = xstrdup(s->value.text);
        return 0;
}

static int parse_number(const char *text, long long min, long long max, long long *ret)
{
        char *end = NULL;
        errno = 0;
        long long v = strtoll(text, &end, 0);
        if (errno || end == text || *end)
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

/* 1 when present (value in *ret), 0 when absent. */
static int get_number(struct reader *rd, const char *key, long long min, long long max,
                      long long *ret)
{
        struct xlcfg_setting *s = take(rd, key);
        if (!s)
                return 0;
        if (s->value.type != XLCFG_NUMBER)
                return fail(rd, s->line, key, "a number expected");
        int r = parse_number(s->value.text, min, max, ret);
        if (r == -ERANGE)
                return fail(rd, s->line, key, "%s out of range %lld..%lld", s->value.text, min,
                            max);
        if (r < 0)
                return fail(rd, s->line, key, "'%s' is not a number", s->value.text);
        return 1;
}

/* -1 absent, else 0 or 1. */
static int get_bool(struct reader *rd, const char *key, int *ret)
{
        long long v;
        *ret = -1;
        int r = get_number(rd, key, 0, 1, &v);
        if (r > 0)
                *ret = (int)v;
        return r < 0 ? r : 0;
}

/* A list of strings; a single string counts as a list of one. */
static int get_string_list(struct reader *rd, const char *key, char ***ret, int *ret_line)
{
        struct xlcfg_setting *s = take(rd, key);
        *ret = NULL;
        if (!s)
                return 0;
        *ret_line = s->line;
        if (s->value.type == XLCFG_STRING) {
                strv_push(ret, xstrdup(s->value.text));
                return 0;
        }
        if (s->value.type != XLCFG_LIST)
                return fail(rd, s->line, key, "a list of strings expected");
        for (int i = 0; i < s->value.n_items; i++) {
                if (s->value.items[i].type != XLCFG_STRING) {
                        strv_free(*ret);
                        *ret = NULL;
                        return fail(rd, s->value.items[i].line, key, "item %d: a string expected",
                                    i + 1);
                }
                strv_push(ret, xstrdup(s->value.items[i].text));
        }
        return 0;
}

/* Split a device spec ("k=v,k=v") into key/value pairs; a bare word gets
 * a NULL value. With target_last, "target=" takes the rest of the spec
 * (xl's rule for disks). */
struct spec_item {
        char *key;
        char *value;
};

static void spec_free(struct spec_item *items, int n)
{
        for (int i = 0; i < n; i++) {
                free(items[i].key);
                free(items[i].value);
        }
        free(items);
}

static int spec_split(const char *spec, bool target_last, struct spec_item **ret, int *ret_n)
{
        struct spec_item *items = NULL;
        int n = 0;
        const char *p = spec;
        while (*p) {
                if (n >= 64) {
                        spec_free(items, n);
                        return -E2BIG;
                }
                /* xl skips blanks around items ("mac=..., bridge=...") */
                while (*p == ' ' || *p == '\t')
                        p++;
                const char *end;
                if (target_last && startswith(p, "target="))
                        end = p + strlen(p);
                else
                        end = strchrnul(p, ',');
                const char *next = *end ? end + 1 : end;
                if (!(target_last && startswith(p, "target=")))
                        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
                                end--;
                const char *eq = memchr(p, '=', (size_t)(end - p));
                /* xl.cfg as litevirt writes it has no '=' in values (but
                 * in a disk's target) */
                if (eq && memchr(eq + 1, '=', (size_t)(end - eq - 1)) &&
                    !(target_last && startswith(p, "target="))) {
                        spec_free(items, n);
                        return -EINVAL;
                }
                items = xrealloc(items, sizeof(*items) * (size_t)(n + 1));
                if (eq) {
                        items[n].key = xstrndup(p, (size_t)(eq - p));
                        items[n].value = xstrndup(eq + 1, (size_t)(end - eq - 1));
                } else {
                        items[n].key = xstrndup(p, (size_t)(end - p));
                        items[n].value = NULL;
                }
                n++;
                p = next;
        }
        *ret = items;
        *ret_n = n;
        return 0;
}

static char *spec_describe(const char *key, int index)
{
        return xasprintf("%s #%d", key, index + 1);
}

static int read_identity(struct reader *rd)
{
        struct domain_def *def = rd->def;
        int r;
        if ((r = get_string(rd, "name", &def->name)) < 0)
                return r;
        if (!def->name)
                return fail(rd, 0, "name", "missing");
        if (!*def->name || strlen(def->name) > DOMAIN_NAME_MAX || strchr(def->name, '/'))
                return fail(rd, xlcfg_get(rd->cfg, "name")->line, "name",
                            "'%s' is empty, longer than %d or has a '/'", def->name,
                            DOMAIN_NAME_MAX);
        _cleanup_free_ char *uuid = NULL;
        if ((r = get_string(rd, "uuid", &uuid)) < 0)
                return r;
        if (uuid) {
                if (domain_uuid_parse(uuid, def->uuid) < 0)
                        return fail(rd, xlcfg_get(rd->cfg, "uuid")->line, "uuid",
                                    "'%s' is not a UUID", uuid);
        } else if ((r = domain_uuid_generate(def->uuid)) < 0) {
                return lv_error_set(rd->err, -r, "generating a uuid");
        }

        long long memory = 0, maxmem = 0;
        const long long mem_max = 16LL * 1024 * 1024; /* MiB: 16 TiB */
        if ((r = get_number(rd, "memory", 1, mem_max, &memory)) < 0)
                return r;
        if (r == 0)
                return fail(rd, 0, "memory", "missing");
        if ((r = get_number(rd, "maxmem", 1, mem_max, &maxmem)) < 0)
                return r;
        if (r == 0)
                maxmem = memory;
        if (maxmem < memory)
                return fail(rd, xlcfg_get(rd->cfg, "maxmem")->line, "maxmem",
                            "%lld below memory %lld", maxmem, memory);
        def->memory_kib = (unsigned long long)maxmem * 1024;
        def->current_memory_kib = (unsigned long long)memory * 1024;

        long long vcpus = 1, maxvcpus = 0;
        if ((r = get_number(rd, "vcpus", 1, 4096, &vcpus)) < 0)
                return r;
        if ((r = get_number(rd, "maxvcpus", 1, 4096, &maxvcpus)) < 0)
                return r;
        if (r > 0 && maxvcpus < vcpus)
                return fail(rd, xlcfg_get(rd->cfg, "maxvcpus")->line, "maxvcpus",
                            "%lld below vcpus %lld", maxvcpus, vcpus);
        def->vcpus = (unsigned)(maxvcpus ? maxvcpus : vcpus);
        if (maxvcpus && maxvcpus != vcpus)
                def->vcpus_current = (unsigned)vcpus;
        def->vcpu_placement = xstrdup("static");
        return get_string(rd, "cpus", &def->vcpu_cpuset);
}

static int read_type(struct reader *rd)
{
        _cleanup_free_ char *type = NULL, *builder = NULL;
        int r;
        if ((r = get_string(rd, "type", &type)) < 0 ||
            (r = get_string(rd, "builder", &builder)) < 0)
                return r;
        if (type && builder)
                return fail(rd, xlcfg_get(rd->cfg, "builder")->line, "builder",
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
                return fail(rd, xlcfg_get(rd->cfg, key)->line, key, "unknown guest type '%s'", t);
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
        if ((r = get_string(rd, "kernel", &os->kernel)) < 0 ||
            (r = get_string(rd, "ramdisk", &os->initrd)) < 0 ||
            (r = get_string(rd, "cmdline", &os->cmdline)) < 0 ||
            (r = get_string(rd, "bootloader", &def->bootloader)) < 0)
                return r;
        /* the old way to give a PV command line: root= and extra= */
        _cleanup_free_ char *root = NULL, *extra = NULL;
        if ((r = get_string(rd, "root", &root)) < 0 || (r = get_string(rd, "extra", &extra)) < 0)
                return r;
        if ((root || extra) && os->cmdline)
                return fail(rd, xlcfg_get(rd->cfg, root ? "root" : "extra")->line,
                            root ? "root" : "extra", "given with 'cmdline'");
        if (root || extra)
                os->cmdline = root && extra ? xasprintf("root=%s %s", root, extra)
                              : root        ? xasprintf("root=%s", root)
                                            : xstrdup(extra);

        _cleanup_strv_free_ char **args = NULL;
        int line = 0;
        if ((r = get_string_list(rd, "bootloader_args", &args, &line)) < 0)
                return r;
        if (args) {
                _cleanup_strbuf_ struct strbuf sb = {0};
                for (char **a = args; *a; a++) {
                        if (!**a || strpbrk(*a, " \t\n\"'\\"))
                                return fail(rd, line, "bootloader_args",
                                            "argument '%s' is empty or has blanks or quotes", *a);
                        if (a != args)
                                strbuf_append(&sb, " ");
                        strbuf_append(&sb, *a);
                }
                def->bootloader_args = strbuf_steal(&sb);
        }

        _cleanup_free_ char *boot = NULL, *firmware = NULL, *bios = NULL, *bios_path = NULL;
        if ((r = get_string(rd, "boot", &boot)) < 0 ||
            (r = get_string(rd, "firmware", &firmware)) < 0 ||
            (r = get_string(rd, "bios", &bios)) < 0 ||
            (r = get_string(rd, "bios_path_override", &bios_path)) < 0)
                return r;
        const char *hvm_only = boot        ? "boot"
                               : firmware  ? "firmware"
                               : bios      ? "bios"
                               : bios_path ? "bios_path_override"
                                           : NULL;
        if (hvm_only && rd->kind != KIND_HVM)
                return fail(rd, xlcfg_get(rd->cfg, hvm_only)->line, hvm_only,
                            "only HVM guests have it");
        if (def->bootloader && rd->kind != KIND_PV)
                return fail(rd, xlcfg_get(rd->cfg, "bootloader")->line, "bootloader",
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
                        return fail(rd, xlcfg_get(rd->cfg, "boot")->line, "boot",
                                    "'%c' is not a boot device (a, c, d, n)", *b);
                }
                for (int i = 0; i < os->n_boot; i++)
                        if (os->boot[i] == dev)
                                return fail(rd, xlcfg_get(rd->cfg, "boot")->line, "boot",
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
                        return fail(rd, xlcfg_get(rd->cfg, "bios")->line, "bios",
                                    "unknown firmware '%s'", bios);
                if (!streq(bios, "ovmf"))
                        return fail(rd, xlcfg_get(rd->cfg, "bios")->line, "bios",
                                    "'%s' cannot be expressed in domain XML (only ovmf, as <loader "
                                    "type='pflash'>)",
                                    bios);
                if (!bios_path)
                        return fail(
                                rd, xlcfg_get(rd->cfg, "bios")->line, "bios",
                                "ovmf without bios_path_override cannot be expressed in domain XML "
                                "(<loader type='pflash'> needs the image's path)");
                os->loader_type = xstrdup("pflash");
                os->loader = TAKE_PTR(bios_path);
        } else if (bios_path) {
                return fail(rd, xlcfg_get(rd->cfg, "bios_path_override")->line,
                            "bios_path_override", "needs bios = \"ovmf\"");
        }
        if (firmware) {
                if (bios)
                        return fail(rd, xlcfg_get(rd->cfg, "firmware")->line, "firmware",
                                    "given with 'bios'");
                if (firmware[0] != '/')
                        return fail(
                                rd, xlcfg_get(rd->cfg, "firmware")->line, "firmware",
                                "'%s' cannot be expressed in domain XML (only a path to hvmloader)",
                                firmware);
                os->loader_type = xstrdup("rom");
                os->loader = TAKE_PTR(firmware);
        }
        if (def->bootloader_args && !def->bootloader)
                return fail(rd, line, "bootloader_args", "given without 'bootloader'");
        if (os->kernel && def->bootloader)
                return fail(rd, xlcfg_get(rd->cfg, "bootloader")->line, "bootloader",
                            "given with 'kernel'");
        if (!os->kernel && (os->initrd || os->cmdline))
                return fail(rd, 0, os->initrd ? "ramdisk" : "cmdline", "given without 'kernel'");
        if (rd->kind == KIND_PV && !os->kernel && !def->bootloader)
                return fail(rd, 0, "kernel", "a PV guest needs 'kernel' or 'bootloader'");
        if (rd->kind == KIND_PVH && !os->kernel)
                return fail(rd, 0, "kernel", "a PVH guest needs 'kernel'");
        return 0;
}

static int read_features_clock(struct reader *rd)
{
        struct domain_def *def = rd->def;
        const char *keys[] = {"pae", "acpi", "apic", "viridian", "hap"};
        bool *flags[] = {&def->features.pae, &def->features.acpi, &def->features.apic,
                         &def->features.viridian, &def->features.hap};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                int v, r = get_bool(rd, keys[i], &v);
                if (r < 0)
                        return r;
                if (v >= 0 && rd->kind != KIND_HVM)
                        return fail(rd, xlcfg_get(rd->cfg, keys[i])->line, keys[i],
                                    "only HVM guests have it");
                /* absent: xl's default, on for pae/acpi/apic of HVM guests;
                 * hap's default (on) is what an absent <hap/> means */
                *flags[i] = v >= 0 ? v : (rd->kind == KIND_HVM && i < 3);
        }

        int localtime, r;
        long long offset = 0;
        if ((r = get_bool(rd, "localtime", &localtime)) < 0)
                return r;
        if ((r = get_number(rd, "rtc_timeoffset", -(1LL << 40), 1LL << 40, &offset)) < 0)
                return r;
        if (r > 0) {
                if (rd->kind != KIND_HVM)
                        return fail(rd, xlcfg_get(rd->cfg, "rtc_timeoffset")->line,
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
                int r = get_string(rd, keys[i], &v);
                if (r < 0)
                        return r;
                *out[i] = defaults[i];
                if (!v)
                        continue;
                int l = xen_lifecycle_from_string(v);
                if (l < 0)
                        return fail(rd, xlcfg_get(rd->cfg, keys[i])->line, keys[i],
                                    "unknown action '%s'", v);
                *out[i] = (enum domain_lifecycle)l;
        }
        return 0;
}

static int read_emulator(struct reader *rd)
{
        _cleanup_free_ char *version = NULL, *parallel = NULL;
        int r, sdl, usb;
        if ((r = get_string(rd, "device_model_override", &rd->def->emulator)) < 0 ||
            (r = get_string(rd, "device_model_version", &version)) < 0 ||
            (r = get_string(rd, "parallel", &parallel)) < 0 ||
            (r = get_bool(rd, "sdl", &sdl)) < 0 || (r = get_bool(rd, "usb", &usb)) < 0)
                return r;
        if (version && !streq(version, "qemu-xen"))
                return fail(rd, xlcfg_get(rd->cfg, "device_model_version")->line,
                            "device_model_version", "'%s' is not supported (only qemu-xen)",
                            version);
        if (parallel && !streq(parallel, "none"))
                return fail(rd, xlcfg_get(rd->cfg, "parallel")->line, "parallel",
                            "parallel ports are not supported by litevirt");
        if (sdl == 1)
                return fail(rd, xlcfg_get(rd->cfg, "sdl")->line, "sdl",
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
        if ((r = get_bool(rd, "vnc", &v.enabled)) < 0 ||
            (r = get_string(rd, "vnclisten", &listen)) < 0 ||
            (r = get_number(rd, "vncdisplay", 0, 65535 - 5900, &v.display)) < 0 ||
            (r = get_bool(rd, "vncunused", &v.unused)) < 0 ||
            (r = get_string(rd, "vncpasswd", &passwd)) < 0 ||
            (r = get_string(rd, "keymap", &keymap)) < 0)
                return r;
        if (v.enabled == 1) {
                v.listen = listen;
                v.passwd = TAKE_PTR(passwd);
                v.keymap = keymap ? xstrdup(keymap) : NULL;
                vnc_to_graphics(def, &v);
        }

        int spice, disable_ticketing, agent_mouse, clipboard;
        long long port = -1, tls_port = -1;
        _cleanup_free_ char *host = NULL, *spice_passwd = NULL;
        if ((r = get_bool(rd, "spice", &spice)) < 0 ||
            (r = get_string(rd, "spicehost", &host)) < 0 ||
            (r = get_number(rd, "spiceport", 1, 65535, &port)) < 0 ||
            (r = get_number(rd, "spicetls_port", 1, 65535, &tls_port)) < 0 ||
            (r = get_bool(rd, "spicedisable_ticketing", &disable_ticketing)) < 0 ||
            (r = get_string(rd, "spicepasswd", &spice_passwd)) < 0 ||
            (r = get_bool(rd, "spiceagent_mouse", &agent_mouse)) < 0 ||
            (r = get_bool(rd, "spice_clipboard_sharing", &clipboard)) < 0)
                return r;
        if (spice == 1) {
                if (port == -1 && tls_port == -1)
                        return fail(rd, xlcfg_get(rd->cfg, "spice")->line, "spice",
                                    "needs 'spiceport' or 'spicetls_port'");
                if (disable_ticketing != 1 && !spice_passwd)
                        return fail(
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
                return fail(rd, 0, "vnc", "VNC settings given but VNC is not on (vnc = 1)");
        if (keymap && v.enabled != 1 && spice != 1)
                return fail(rd, xlcfg_get(rd->cfg, "keymap")->line, "keymap",
                            "given without VNC or SPICE");
        return 0;
}

static int read_vfb(struct reader *rd)
{
        _cleanup_strv_free_ char **vfbs = NULL;
        int line = 0, r;
        if ((r = get_string_list(rd, "vfb", &vfbs, &line)) < 0)
                return r;
        if (!vfbs)
                return 0;
        if (rd->kind == KIND_HVM)
                return fail(rd, line, "vfb", "HVM guests use vnc = 1 instead");
        if (strv_length(vfbs) > 1)
                return fail(rd, line, "vfb", "more than one framebuffer");
        struct spec_item *items = NULL;
        int n = 0;
        if ((r = spec_split(vfbs[0], false, &items, &n)) < 0)
                return fail(rd, line, "vfb",
                            r == -E2BIG ? "more than 64 items" : "a value with '='");
        struct vnc_settings v = {.enabled = -1, .display = -1, .unused = -1};
        for (int i = 0; i < n && r >= 0; i++) {
                const char *k = items[i].key, *val = items[i].value ? items[i].value : "";
                long long num;
                if (streq(k, "vnc") || streq(k, "vncunused") || streq(k, "sdl")) {
                        if (parse_number(val, 0, 1, &num) < 0)
                                r = fail(rd, line, "vfb", "%s='%s' is not 0 or 1", k, val);
                        else if (streq(k, "sdl") && num)
                                r = fail(rd, line, "vfb",
                                         "SDL displays are not supported by litevirt");
                        else if (streq(k, "vnc"))
                                v.enabled = (int)num;
                        else if (streq(k, "vncunused"))
                                v.unused = (int)num;
                } else if (streq(k, "type") && streq(val, "vnc")) {
                        v.enabled = 1;
                } else if (streq(k, "vncdisplay")) {
                        if (parse_number(val, 0, 65535 - 5900, &num) < 0)
                                r = fail(rd, line, "vfb", "vncdisplay='%s' is not a display number",
                                         val);
                        v.display = num;
                } else if (!*val) {
                        r = fail(rd, line, "vfb", "'%s' without a value", k);
                } else if (streq(k, "vnclisten") || streq(k, "vncpasswd") || streq(k, "keymap")) {
                        char **slot = streq(k, "vnclisten")   ? &v.listen
                                      : streq(k, "vncpasswd") ? &v.passwd
                                                              : &v.keymap;
                        free(*slot);
                        *slot = xstrdup(val);
                } else {
                        r = fail(rd, line, "vfb", "'%s' is not supported by litevirt", k);
                }
        }
        spec_free(items, n);
        if (r >= 0 && v.enabled == 1) {
                vnc_to_graphics(rd->def, &v);
                /* the framebuffer's PV keyboard and mouse */
        } else if (r >= 0) {
                r = fail(rd, line, "vfb",
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
        if ((r = get_string_list(rd, "serial", &serials, &line)) < 0)
                return r;
        int port = 0;
        for (char **s = serials; s && *s; s++) {
                if (streq(*s, "none") && strv_length(serials) == 1)
                        continue;
                if (!streq(*s, "pty"))
                        return fail(rd, line, "serial",
                                    "'%s' is not supported by litevirt (only pty)", *s);
                if (rd->kind != KIND_HVM)
                        return fail(rd, line, "serial", "only HVM guests have it");
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
        if ((r = get_string(rd, "vga", &vga)) < 0 || (r = get_bool(rd, "stdvga", &stdvga)) < 0 ||
            (r = get_number(rd, "videoram", 1, 1024, &videoram)) < 0)
                return r;
        const char *hvm_only = vga ? "vga" : stdvga >= 0 ? "stdvga" : videoram ? "videoram" : NULL;
        if (hvm_only && rd->kind != KIND_HVM)
                return fail(rd, xlcfg_get(rd->cfg, hvm_only)->line, hvm_only,
                            "only HVM guests have it");
        if (vga && stdvga >= 0)
                return fail(rd, xlcfg_get(rd->cfg, "stdvga")->line, "stdvga", "given with 'vga'");
        _cleanup_strv_free_ char **usb = NULL;
        int line = 0;
        if ((r = get_string_list(rd, "usbdevice", &usb, &line)) < 0)
                return r;
        if (usb && rd->kind != KIND_HVM)
                return fail(rd, line, "usbdevice", "only HVM guests have it");
        for (char **u = usb; u && *u; u++) {
                enum domain_input_type type;
                if (streq(*u, "tablet"))
                        type = DOMAIN_INPUT_TABLET;
                else if (streq(*u, "mouse"))
                        type = DOMAIN_INPUT_MOUSE;
                else
                        return fail(rd, line, "usbdevice", "'%s' is not supported by litevirt", *u);
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
                        return fail(rd, xlcfg_get(rd->cfg, "vga")->line, "vga", "unknown card '%s'",
                                    vga);
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

static int read_vifs(struct reader *rd)
{
        struct domain_def *def = rd->def;
        _cleanup_strv_free_ char **vifs = NULL;
        int line = 0, r;
        if ((r = get_string_list(rd, "vif", &vifs, &line)) < 0)
                return r;
        for (int i = 0; vifs && vifs[i]; i++) {
                struct spec_item *items = NULL;
                int n = 0;
                _cleanup_free_ char *what = spec_describe("vif", i);
                if ((r = spec_split(vifs[i], false, &items, &n)) < 0)
                        return fail(rd, line, what,
                                    r == -E2BIG ? "more than 64 items" : "a value with '='");
                def->nets = xrealloc(def->nets, sizeof(*def->nets) * (size_t)(def->n_nets + 1));
                struct domain_net *net = &def->nets[def->n_nets++];
                *net = (struct domain_net){.type = DOMAIN_NET_BRIDGE};
                r = 0;
                for (int j = 0; j < n && r >= 0; j++) {
                        const char *k = items[j].key, *v = items[j].value;
                        char **slot = NULL;
                        if (!v || !*v) {
                                r = fail(rd, line, what, "'%s' without a value", k);
                                break;
                        }
                        if (streq(k, "mac")) {
                                unsigned char mac[6];
                                if (!domain_mac_parse(v, mac)) {
                                        r = fail(rd, line, what, "mac '%s' is not a MAC address",
                                                 v);
                                        break;
                                }
                                free(net->mac);
                                net->mac = xasprintf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
                                                     mac[1], mac[2], mac[3], mac[4], mac[5]);
                        } else if (streq(k, "bridge")) {
                                slot = &net->source;
                        } else if (streq(k, "script")) {
                                slot = &net->script;
                        } else if (streq(k, "vifname")) {
                                slot = &net->target_dev;
                        } else if (streq(k, "model")) {
                                slot = &net->model;
                        } else if (streq(k, "type")) {
                                if (streq(v, "vif")) {
                                        free(net->model);
                                        net->model = xstrdup("netfront");
                                } else if (!streq(v, "ioemu")) {
                                        r = fail(rd, line, what, "type '%s' is not vif or ioemu",
                                                 v);
                                }
                        } else if (streq(k, "mtu")) {
                                long long mtu;
                                if (parse_number(v, 68, 65535, &mtu) < 0)
                                        r = fail(rd, line, what, "mtu '%s' is not 68..65535", v);
                                else
                                        net->mtu = (int)mtu;
                        } else if (streq(k, "ip")) {
                                _cleanup_free_ char *copy = xstrdup(v);
                                char *save = NULL;
                                for (char *t = strtok_r(copy, " ", &save); t;
                                     t = strtok_r(NULL, " ", &save)) {
                                        if (net->n_ips >= 16) {
                                                r = fail(rd, line, what, "more than 16 addresses");
                                                break;
                                        }
                                        net->ips = xrealloc(net->ips,
                                                            sizeof(*net->ips) *
                                                                    (size_t)(net->n_ips + 1));
                                        net->ips[net->n_ips++] = (struct domain_ip){
                                                .address = xstrdup(t),
                                                .prefix = -1,
                                        };
                                }
                        } else {
                                r = fail(rd, line, what, "'%s' is not supported by litevirt", k);
                        }
                        if (slot) {
                                free(*slot);
                                *slot = xstrdup(v);
                        }
                }
                spec_free(items, n);
                if (r < 0)
                        return r;
                if (net->model && !streq(net->model, "netfront") && rd->kind != KIND_HVM)
                        return fail(rd, line, what, "model '%s' needs an HVM guest", net->model);
                if (!net->mac) /* as libvirt, and as xl would at start */
                        net->mac = domain_mac_generate(DOMAIN_TYPE_XEN);
                if (!net->source) {
                        if (net->script)
                                net->type = DOMAIN_NET_ETHERNET;
                        else
                                net->source =
                                        xstrdup("xenbr0"); /* xl's default bridge, made explicit */
                }
        }
        return 0;
}

/* The target's legacy prefixes: "phy:/dev/x", "file:/img", "tap:aio:/img",
 * "tap:qcow2:/img", "qcow2:/img", "raw:/img". */
/* The target's deprecated prefixes: "phy:/dev/x", "file:/img",
 * "tap:aio:/img", "tap:qcow2:/img", "qcow2:/img", "raw:/img". As xl does,
 * the backend prefixes are read and ignored (libxl picks the backend from
 * the target); a format prefix sets the format. */
static int disk_target_prefix(struct domain_disk *d, const char **target)
{
        const char *t = *target;
        enum domain_disk_format format = DOMAIN_DISK_FORMAT_NONE;
        if (startswith(t, "phy:")) {
                t += 4;
        } else if (startswith(t, "file:")) {
                t += 5;
        } else if (startswith(t, "tap:") || startswith(t, "tap2:")) {
                t = strchr(t, ':') + 1;
                if (startswith(t, "aio:"))
                        t += 4;
        }
        if (startswith(t, "qcow2:")) {
                format = DOMAIN_DISK_FORMAT_QCOW2;
                t += 6;
        } else if (startswith(t, "raw:")) {
                format = DOMAIN_DISK_FORMAT_RAW;
                t += 4;
        } else if (startswith(t, "aio:")) {
                t += 4;
        }
        if (*t && *t != '/')
                return -EINVAL;
        /* a format prefix that contradicts format= */
        if (format && d->format && format != d->format)
                return -EBADMSG;
        if (format)
                d->format = format;
        *target = t;
        return 0;
}

static int read_disk(struct reader *rd, const char *spec, int line, const char *what,
                     struct domain_disk *d)
{
        struct spec_item *items = NULL;
        int n = 0, r = 0, positional = 0;
        const char *target = NULL;
        if ((r = spec_split(spec, true, &items, &n)) < 0)
                return fail(rd, line, what,
                            r == -E2BIG ? "more than 64 items" : "a value with '='");
        /* either the keyed form (vdev=...,target=...) or the legacy
         * positional one (target,vdev,access), never both */
        bool keyed = false;
        for (int j = 0; j < n; j++)
                keyed |= items[j].value != NULL;
        for (int j = 0; j < n && r >= 0; j++) {
                const char *k = items[j].key, *v = items[j].value;
                if (!v && keyed && !streq(k, "cdrom")) {
                        r = fail(rd, line, what, "'%s' is not supported by litevirt", k);
                        break;
                }
                if (!v) {
                        /* positional form: target, format, vdev, access; after
                         * a deprecated target prefix (phy:, file:, tap:...):
                         * target, vdev, access */
                        if (streq(k, "cdrom") && positional > 0) {
                                d->device = DOMAIN_DISK_DEVICE_CDROM;
                                continue;
                        }
                        switch (positional) {
                        case 0:
                                target = k;
                                positional = strchr(k, ':') ? 2 : 1;
                                break;
                        case 1:
                                positional = 2;
                                if (!*k)
                                        break;
                                if (streq(k, "raw"))
                                        d->format = DOMAIN_DISK_FORMAT_RAW;
                                else if (streq(k, "qcow2"))
                                        d->format = DOMAIN_DISK_FORMAT_QCOW2;
                                else
                                        r = fail(rd, line, what,
                                                 "format '%s' is not supported by litevirt (raw, "
                                                 "qcow2)",
                                                 k);
                                break;
                        case 2: {
                                positional = 3;
                                char *colon = strchr(k, ':');
                                d->target_dev =
                                        colon ? xstrndup(k, (size_t)(colon - k)) : xstrdup(k);
                                if (colon && streq(colon, ":cdrom"))
                                        d->device = DOMAIN_DISK_DEVICE_CDROM;
                                else if (colon && !streq(colon, ":disk"))
                                        r = fail(rd, line, what,
                                                 "vdev suffix '%s' is not :cdrom or :disk", colon);
                                break;
                        }
                        case 3:
                                positional = 4;
                                if (streq(k, "r") || streq(k, "ro"))
                                        d->readonly = true;
                                else if (streq(k, "w") || streq(k, "rw"))
                                        d->readonly = false;
                                else
                                        r = fail(rd, line, what,
                                                 "access '%s' is not r, ro, w or rw", k);
                                break;
                        default:
                                r = fail(rd, line, what, "'%s': more than 4 positional parameters",
                                         k);
                        }
                        continue;
                }
                if (streq(k, "target")) {
                        target = v;
                } else if (streq(k, "vdev")) {
                        free(d->target_dev);
                        d->target_dev = xstrdup(v);
                } else if (streq(k, "format")) {
                        if (streq(v, "raw"))
                                d->format = DOMAIN_DISK_FORMAT_RAW;
                        else if (streq(v, "qcow2"))
                                d->format = DOMAIN_DISK_FORMAT_QCOW2;
                        else
                                r = fail(rd, line, what,
                                         "format '%s' is not supported by litevirt (raw, qcow2)",
                                         v);
                } else if (streq(k, "access")) {
                        if (streq(v, "ro") || streq(v, "r"))
                                d->readonly = true;
                        else if (streq(v, "rw") || streq(v, "w"))
                                d->readonly = false;
                        else
                                r = fail(rd, line, what, "access '%s' is not ro or rw", v);
                } else if (streq(k, "backendtype")) {
                        free(d->driver_name);
                        d->driver_name = NULL;
                        if (streq(v, "phy"))
                                d->driver_name = xstrdup("phy");
                        else if (streq(v, "qdisk"))
                                d->driver_name = xstrdup("qemu");
                        else if (streq(v, "tap"))
                                d->driver_name = xstrdup("tap");
                        else
                                r = fail(rd, line, what,
                                         "backendtype '%s' is not phy, qdisk or tap", v);
                } else if (streq(k, "devtype")) {
                        if (streq(v, "cdrom"))
                                d->device = DOMAIN_DISK_DEVICE_CDROM;
                        else if (streq(v, "disk"))
                                d->device = DOMAIN_DISK_DEVICE_DISK;
                        else
                                r = fail(rd, line, what, "devtype '%s' is not disk or cdrom", v);
                } else {
                        r = fail(rd, line, what, "'%s' is not supported by litevirt", k);
                }
        }
        if (r >= 0 && !d->target_dev)
                r = fail(rd, line, what, "no vdev");
        if (r >= 0 && target && *target) {
                const char *t = target;
                int p = disk_target_prefix(d, &t);
                if (p == -EBADMSG)
                        r = fail(rd, line, what,
                                 "format prefix in '%s' contradicts format=", target);
                else if (p < 0)
                        r = fail(rd, line, what, "target '%s' is not an absolute path", target);
                else if (*t)
                        d->source = xstrdup(t);
        }
        if (r >= 0 && !d->source && d->device != DOMAIN_DISK_DEVICE_CDROM)
                r = fail(rd, line, what, "no target (only a CD-ROM may be empty)");
        spec_free(items, n);
        if (r < 0)
                return r;
        d->bus = xen_disk_bus_of_vdev(d->target_dev);
        if (d->bus == DOMAIN_DISK_BUS_LAST)
                return fail(rd, line, what, "vdev '%s' is not xvdX, hdX or sdX", d->target_dev);
        if (d->format == DOMAIN_DISK_FORMAT_QCOW2 && streq(d->driver_name, "phy"))
                return fail(rd, line, what, "qcow2 with backendtype phy (phy takes raw only)");
        d->type =
                streq(d->driver_name, "phy") || (!d->driver_name && startswith(d->source, "/dev/"))
                        ? DOMAIN_DISK_BLOCK
                        : DOMAIN_DISK_FILE;
        return 0;
}

static int read_disks(struct reader *rd)
{
        struct domain_def *def = rd->def;
        _cleanup_strv_free_ char **disks = NULL;
        int line = 0, r;
        if ((r = get_string_list(rd, "disk", &disks, &line)) < 0)
                return r;
        for (int i = 0; disks && disks[i]; i++) {
                _cleanup_free_ char *what = spec_describe("disk", i);
                def->disks = xrealloc(def->disks, sizeof(*def->disks) * (size_t)(def->n_disks + 1));
                struct domain_disk *d = &def->disks[def->n_disks++];
                *d = (struct domain_disk){0};
                if ((r = read_disk(rd, disks[i], line, what, d)) < 0)
                        return r;
                for (int j = 0; j < def->n_disks - 1; j++)
                        if (streq(def->disks[j].target_dev, d->target_dev))
                                return fail(rd, line, what, "vdev '%s' used twice", d->target_dev);
        }
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
            (r = read_emulator(&rd)) < 0 || (r = read_disks(&rd)) < 0 || (r = read_vifs(&rd)) < 0 ||
            (r = read_serials(&rd)) < 0 || (r = read_video_usb(&rd)) < 0)
                return r;
        if (rd.kind == KIND_HVM)
                r = read_hvm_graphics(&rd);
        if (r >= 0)
                r = read_vfb(&rd);
        if (r < 0)
                return r;
        for (int i = 0; i < cfg->n_settings; i++)
                if (!cfg->settings[i].used)
                        return fail(&rd, cfg->settings[i].line, cfg->settings[i].key,
                                    "not supported by litevirt (or misspelt: xl would ignore it)");
        def->memballoon_model = xstrdup("xen");
        *ret = TAKE_PTR(def);
        return 0;
}
