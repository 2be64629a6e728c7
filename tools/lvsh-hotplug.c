/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh attach-device, detach-device, attach-disk, detach-disk (virsh's
 * options: --live, --config, --persistent, --current). The device XML is
 * parsed here, inside a minimal domain of the guest's type (the full
 * parser and its checks, line numbers of FILE kept), and sent to the
 * supervisor in litevirt's JSON model (AttachDevice, DetachDevice) for
 * the running guest; the stored definition (--config) is updated here,
 * atomically, after the running guest took the change. */
#include <json-c/json.h>
#include <sys/stat.h>

#include "conf/domain_json.h"
#include "conf/xml.h"
#include "tools/lvsh-common.h"
#include "tools/lvsh-list.h"
#include "util/fileio.h"
#include "util/paths.h"
#include "util/strbuf.h"
#include "lib/methods.h"

#define DEVICE_MAX_BYTES (1u << 20)

enum { F_LIVE, F_CONFIG, F_PERSISTENT, F_CURRENT, F_COUNT };
static const char *const scope_flags[] = {"live", "config", "persistent", "current", NULL};

/* a = "--live" etc.: sets its flag, true; false for another option */
static bool scope_flag(const char *a, bool *set)
{
        for (int k = 0; scope_flags[k]; k++)
                if (streq(scope_flags[k], a + 2)) {
                        set[k] = true;
                        return true;
                }
        return false;
}

struct scope {
        bool live, config;
};

/* virsh's scopes: --live the running guest, --config the stored
 * definition, --persistent both (live only when running), --current the
 * running guest when it runs, else the stored definition; none: the
 * running guest (virDomainAttachDevice). */
static int scope_resolve(const struct lvsh_command *cmd, const char *name, const bool *set,
                         struct scope *ret, struct lv_error **err)
{
        if (set[F_CURRENT] && (set[F_LIVE] || set[F_CONFIG]))
                return lvsh_usage_error(cmd, err, "--current excludes --live and --config");
        bool running = lvsh_guest_running(name, NULL);
        struct scope s = {.live = set[F_LIVE], .config = set[F_CONFIG] || set[F_PERSISTENT]};
        if (set[F_PERSISTENT])
                s.live = running;
        if (set[F_CURRENT])
                s = (struct scope){.live = running, .config = !running};
        if (!s.live && !s.config)
                s.live = true;
        if (s.live && !running)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain is not running");
        _cleanup_free_ char *stored = xasprintf("%s/%s.xml", paths_guestdir(), name);
        if (s.config && access(stored, F_OK) < 0)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: cannot change persistent "
                                     "config of a transient domain");
        *ret = s;
        return 0;
}

/* The device of text (from file, for messages), parsed inside a minimal
 * domain of guest's type: *ret holds it as its only device. */
static int device_parse(const struct domain_def *guest, const char *text, const char *file,
                        struct domain_def **ret, struct lv_error **err)
{
        if (guest->type != DOMAIN_TYPE_QEMU && guest->type != DOMAIN_TYPE_KVM)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "domain '%s': devices are hot-plugged into QEMU guests only",
                                     guest->name);
        const struct conf_xml_ops *xml = conf_xml(err);
        if (!xml)
                return -ENOENT;
        /* one line before the device: its line numbers stay FILE's */
        struct strbuf sb = {0};
        strbuf_printf(&sb, "<domain type='%s'><name>", domain_type_to_string(guest->type));
        strbuf_append_xml(&sb, guest->name);
        strbuf_printf(&sb,
                      "</name><memory unit='KiB'>%llu</memory><os><type>hvm</type></os>"
                      "<devices>",
                      guest->memory_kib);
        strbuf_append(&sb, text);
        strbuf_append(&sb, "</devices></domain>\n");
        _cleanup_free_ char *doc = strbuf_steal(&sb);
        struct domain_def *dev = NULL;
        int r = xml->domain_parse_string(doc, strlen(doc), file, &dev, err);
        if (r < 0)
                return r;
        if (dev->n_disks != 1 || dev->n_nets || dev->n_filesystems || dev->n_videos ||
            dev->n_inputs || dev->n_graphics || dev->n_chrs || dev->n_controllers) {
                domain_def_free(dev);
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "%s: one <disk> expected (the devices litevirt hot-plugs)",
                                     file);
        }
        *ret = dev;
        return 0;
}

/* The stored definition with the change made and validated (not stored
 * yet). */
static int config_change(const char *name, struct domain_def *dev, const char *key,
                         struct domain_def **ret, struct lv_error **err)
{
        _cleanup_domain_def_ struct domain_def *def = NULL;
        int r = lvsh_guest_load(name, &def, err);
        if (r < 0)
                return r;
        if (dev) {
                if ((r = domain_disk_attach(def, &dev->disks[0], err)) < 0)
                        return r;
        } else {
                int i = domain_disk_find(def, key);
                if (i < 0)
                        return lv_error_setf(err, ENOENT,
                                             "No disk found whose source path or target is %s",
                                             key);
                domain_disk_remove(def, i);
        }
        *ret = TAKE_PTR(def);
        return 0;
}

/* Attach the device of text, or detach the disk key (a target dev or
 * source; from text when NULL). */
static int hotplug(const char *name, const char *text, const char *key, const char *file,
                   const struct scope *s, struct lv_error **err)
{
        bool attach = !key;
        _cleanup_domain_def_ struct domain_def *guest = NULL;
        int r = s->live ? lvsh_guest_load_running(name, &guest, err)
                        : lvsh_guest_load(name, &guest, err);
        if (r < 0)
                return r;
        _cleanup_domain_def_ struct domain_def *dev = NULL;
        if (text && (r = device_parse(guest, text, file, &dev, err)) < 0)
                return r;
        _cleanup_free_ char *target = xstrdup(dev ? dev->disks[0].target_dev : key);
        /* what is sent, before config_change takes the disk's fields */
        _cleanup_free_ char *json = attach ? domain_to_json(dev) : NULL;
        _cleanup_domain_def_ struct domain_def *config = NULL;
        if (s->config && (r = config_change(name, attach ? dev : NULL, target, &config, err)) < 0)
                return r;
        if (s->live) {
                struct json_object *p = json_object_new_object();
                json_object_object_add(p, attach ? "device" : "target",
                                       json_object_new_string(attach ? json : target));
                r = lvsh_call(name, attach ? LV_METHOD_ATTACH_DEVICE : LV_METHOD_DETACH_DEVICE, p,
                              NULL, err);
                json_object_put(p);
                if (r < 0)
                        return r;
        }
        if (config && (r = lvsh_domain_store(file, config, err)) < 0)
                return r;
        return 0;
}

static int device_command(const char *cmdname, bool attach, int argc, char **argv,
                          struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command(cmdname);
        bool set[F_COUNT] = {false};
        const char *pos[2];
        int npos = 0;
        for (int i = 1; i < argc; i++) {
                if (startswith(argv[i], "--")) {
                        if (!scope_flag(argv[i], set))
                                return lvsh_usage_error(cmd, err, "unknown option '%s'", argv[i]);
                } else if (npos < 2) {
                        pos[npos++] = argv[i];
                } else {
                        return lvsh_usage_error(cmd, err, "unexpected argument '%s'", argv[i]);
                }
        }
        if (npos != 2)
                return lvsh_usage_error(cmd, err, "expected a domain NAME and a FILE");
        const char *name = pos[0], *file = pos[1];
        struct scope s;
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = scope_resolve(cmd, name, set, &s, err);
        if (r >= 0)
                r = file_read_bounded(file, DEVICE_MAX_BYTES, &text, &len, err);
        _cleanup_domain_def_ struct domain_def *dev = NULL;
        _cleanup_domain_def_ struct domain_def *guest = NULL;
        if (r >= 0 && !attach) /* the disk of FILE, by its target */
                r = lvsh_guest_load(name, &guest, err);
        if (r >= 0 && !attach)
                r = device_parse(guest, text, file, &dev, err);
        if (r >= 0)
                r = hotplug(name, attach ? text : NULL, attach ? NULL : dev->disks[0].target_dev,
                            file, &s, err);
        if (r < 0)
                return lv_error_prefix(err, "Failed to %s device from %s\nerror",
                                       attach ? "attach" : "detach", file);
        printf("Device %s successfully\n\n", attach ? "attached" : "detached");
        return 0;
}

static int cmd_attach_device(int argc, char **argv, struct lv_error **err)
{
        return device_command("attach-device", true, argc, argv, err);
}

static int cmd_detach_device(int argc, char **argv, struct lv_error **err)
{
        return device_command("detach-device", false, argc, argv, err);
}

/* ---- attach-disk / detach-disk ---- */

static int disk_command(const char *cmdname, bool attach, int argc, char **argv,
                        struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command(cmdname);
        static const char *const valued[] = {"driver", "subdriver", "targetbus",  "mode",
                                             "cache",  "type",      "sourcetype", NULL};
        enum { V_DRIVER, V_SUBDRIVER, V_BUS, V_MODE, V_CACHE, V_TYPE, V_SOURCETYPE, V_COUNT };
        const char *val[V_COUNT] = {NULL};
        bool set[F_COUNT] = {false};
        const char *pos[3];
        int npos = 0;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (!startswith(a, "--")) {
                        if (npos >= (attach ? 3 : 2))
                                return lvsh_usage_error(cmd, err, "unexpected argument '%s'", a);
                        pos[npos++] = a;
                        continue;
                }
                if (scope_flag(a, set))
                        continue;
                int k = 0;
                while (attach && valued[k] && !streq(valued[k], a + 2))
                        k++;
                if (!attach || !valued[k])
                        return lvsh_usage_error(cmd, err, "unknown option '%s'", a);
                if (i + 1 >= argc)
                        return lvsh_usage_error(cmd, err, "option '%s' needs a value", a);
                val[k] = argv[++i];
        }
        if (npos != (attach ? 3 : 2))
                return lvsh_usage_error(cmd, err,
                                        attach ? "expected NAME, SOURCE and TARGET"
                                               : "expected NAME and TARGET");
        const char *name = pos[0];
        struct strbuf sb = {0};
        if (attach) {
                struct stat st;
                bool block = val[V_SOURCETYPE] ? streq(val[V_SOURCETYPE], "block")
                                               : stat(pos[1], &st) == 0 && S_ISBLK(st.st_mode);
                strbuf_printf(&sb, "<disk type='%s' device='", block ? "block" : "file");
                strbuf_append_xml(&sb, val[V_TYPE] ? val[V_TYPE] : "disk");
                strbuf_append(&sb, "'><driver name='");
                strbuf_append_xml(&sb, val[V_DRIVER] ? val[V_DRIVER] : "qemu");
                strbuf_append(&sb, "' type='");
                strbuf_append_xml(&sb, val[V_SUBDRIVER] ? val[V_SUBDRIVER] : "raw");
                if (val[V_CACHE]) {
                        strbuf_append(&sb, "' cache='");
                        strbuf_append_xml(&sb, val[V_CACHE]);
                }
                strbuf_printf(&sb, "'/><source %s='", block ? "dev" : "file");
                strbuf_append_xml(&sb, pos[1]);
                strbuf_append(&sb, "'/><target dev='");
                strbuf_append_xml(&sb, pos[2]);
                strbuf_append(&sb, "' bus='");
                strbuf_append_xml(&sb, val[V_BUS] ? val[V_BUS] : "virtio");
                strbuf_append(&sb, "'/>");
                if (val[V_MODE] && !streq(val[V_MODE], "readonly") &&
                    !streq(val[V_MODE], "shareable")) {
                        strbuf_reset(&sb);
                        return lvsh_usage_error(cmd, err,
                                                "--mode '%s': expected readonly or shareable",
                                                val[V_MODE]);
                }
                if (val[V_MODE])
                        strbuf_printf(&sb, "<%s/>", val[V_MODE]);
                strbuf_append(&sb, "</disk>");
        }
        _cleanup_free_ char *text = strbuf_steal(&sb);
        struct scope s;
        int r = scope_resolve(cmd, name, set, &s, err);
        if (r >= 0)
                r = hotplug(name, attach ? text : NULL, attach ? NULL : pos[1], pos[1], &s, err);
        if (r < 0)
                return lv_error_prefix(err, "Failed to %s disk\nerror",
                                       attach ? "attach" : "detach");
        printf("Disk %s successfully\n\n", attach ? "attached" : "detached");
        return 0;
}

static int cmd_attach_disk(int argc, char **argv, struct lv_error **err)
{
        return disk_command("attach-disk", true, argc, argv, err);
}

static int cmd_detach_disk(int argc, char **argv, struct lv_error **err)
{
        return disk_command("detach-disk", false, argc, argv, err);
}

#define SCOPE_HELP                                                                                 \
        "    --live changes the running guest, --config the stored definition,\n"                  \
        "    --persistent both (the running guest when it runs), --current the\n"                  \
        "    running guest when it runs, else the stored definition; without\n"                    \
        "    these, the running guest (as virsh). The running definition\n"                        \
        "    (dumpxml) follows the running guest; with --config the stored one\n"                  \
        "    is written atomically after the running guest took the change.\n"

const struct lvsh_command lvsh_hotplug_commands[] = {
        {"attach-device", "NAME FILE [--live] [--config] [--persistent] [--current]",
         "attach device from an XML file",
         "    FILE holds one <disk> (QEMU guests: a file on the virtio bus while\n"
         "    the guest runs; blockdev-add and device_add).\n" SCOPE_HELP,
         cmd_attach_device},
        {"detach-device", "NAME FILE [--live] [--config] [--persistent] [--current]",
         "detach device from an XML file",
         "    The <disk> of FILE is found by its target dev. A running guest is\n"
         "    asked to release it (device_del) and given 5 s; a guest that does\n"
         "    not is reported (the request stays: the disk goes when the guest\n"
         "    releases it).\n" SCOPE_HELP,
         cmd_detach_device},
        {"attach-disk",
         "NAME SOURCE TARGET [--subdriver raw|qcow2] [--targetbus virtio] [--mode "
         "readonly|shareable] [--cache MODE] [--type disk] [--sourcetype file|block] [--live] "
         "[--config] [--persistent] [--current]",
         "attach disk device",
         "    attach-device with the <disk> these options describe.\n" SCOPE_HELP, cmd_attach_disk},
        {"detach-disk", "NAME TARGET [--live] [--config] [--persistent] [--current]",
         "detach disk device",
         "    detach-device of the disk with that target dev (or source).\n" SCOPE_HELP,
         cmd_detach_disk},
        {0},
};
