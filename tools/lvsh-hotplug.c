/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh attach-device, detach-device, attach-disk, detach-disk,
 * attach-interface, detach-interface (virsh's options: --live, --config,
 * --persistent, --current). The device XML is
 * parsed here, inside a minimal domain of the guest's type (the full
 * parser and its checks, line numbers of FILE kept), and sent to the
 * supervisor in litevirt's JSON model (AttachDevice, DetachDevice) for
 * the running guest; the stored definition (--config) is updated here,
 * atomically, after the running guest took the change. */
#include <ctype.h>
#include <json-c/json.h>
#include <strings.h>
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

/* What a detach removes, found by its key: a disk's target dev (or
 * source), an interface's MAC, a filesystem's target dir. */
enum dev_kind { DEV_DISK, DEV_NET, DEV_FS };

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
        bool lxc = guest->type == DOMAIN_TYPE_LXC;
        if (guest->type != DOMAIN_TYPE_QEMU && guest->type != DOMAIN_TYPE_KVM && !lxc)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "domain '%s': devices are hot-plugged into QEMU guests and "
                                     "containers only",
                                     guest->name);
        const struct conf_xml_ops *xml = conf_xml(err);
        if (!xml)
                return -ENOENT;
        /* one line before the device: its line numbers stay FILE's */
        struct strbuf sb = {0};
        strbuf_printf(&sb, "<domain type='%s'><name>", domain_type_to_string(guest->type));
        strbuf_append_xml(&sb, guest->name);
        strbuf_printf(&sb,
                      "</name><memory unit='KiB'>%llu</memory><os><type>%s</type>%s</os>"
                      "<devices>",
                      guest->memory_kib, lxc ? "exe" : "hvm", lxc ? "<init>/sbin/init</init>" : "");
        /* a container's definition needs its root: one that is dropped */
        if (lxc)
                strbuf_append(&sb, "<filesystem type='mount'><source dir='/'/><target dir='/'/>"
                                   "</filesystem>");
        strbuf_append(&sb, text);
        strbuf_append(&sb, "</devices></domain>\n");
        _cleanup_free_ char *doc = strbuf_steal(&sb);
        struct domain_def *dev = NULL;
        int r = xml->domain_parse_string(doc, strlen(doc), file, &dev, err);
        if (r < 0)
                return r;
        if (lxc)
                domain_fs_remove(dev, 0);
        if (dev->n_disks + dev->n_nets + dev->n_filesystems != 1 || dev->n_videos ||
            dev->n_inputs || dev->n_graphics || dev->n_chrs || dev->n_controllers) {
                domain_def_free(dev);
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "%s: one <disk>, <interface> or <filesystem> expected (the "
                                     "devices litevirt hot-plugs)",
                                     file);
        }
        /* what the guest could not use is refused, never stored */
        if (!lxc && dev->n_filesystems) {
                domain_def_free(dev);
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "%s: <filesystem> is hot-plugged into containers only", file);
        }
        *ret = dev;
        return 0;
}

/* What a hot-plug command prints: "Disk attached successfully", or r's
 * error under "Failed to attach disk" (kind: disk, device, interface). */
static int hotplug_report(int r, bool attach, const char *kind, const char *from,
                          struct lv_error **err)
{
        if (r < 0)
                return lv_error_prefix(err, "Failed to %s %s%s%s\nerror",
                                       attach ? "attach" : "detach", kind, from ? " from " : "",
                                       from ? from : "");
        printf("%c%s %s successfully\n\n", toupper((unsigned char)kind[0]), kind + 1,
               attach ? "attached" : "detached");
        return 0;
}

/* The stored definition with the change made and validated (not stored
 * yet): dev attached, or the device of key (of kind) removed. */
static int config_change(const char *name, struct domain_def *dev, const char *key,
                         enum dev_kind kind, struct domain_def **ret, struct lv_error **err)
{
        _cleanup_domain_def_ struct domain_def *def = NULL;
        int r = lvsh_guest_load(name, &def, err);
        if (r < 0)
                return r;
        if (dev) {
                r = dev->n_disks  ? domain_disk_attach(def, &dev->disks[0], err)
                    : dev->n_nets ? domain_net_attach(def, &dev->nets[0], err)
                                  : domain_fs_attach(def, &dev->filesystems[0], err);
                if (r < 0)
                        return r;
        } else if (kind == DEV_FS) {
                int i = domain_fs_find(def, key);
                if (i < 0 || streq(key, "/"))
                        return lv_error_setf(err, ENOENT,
                                             i < 0 ? "No filesystem found whose target is %s"
                                                   : "the root filesystem (%s) cannot be detached",
                                             key);
                domain_fs_remove(def, i);
        } else if (kind == DEV_NET) {
                int i = domain_net_find(def, key);
                if (i < 0)
                        return lv_error_setf(err, ENOENT,
                                             "operation failed: no interface with MAC address %s "
                                             "found",
                                             key);
                domain_net_remove(def, i);
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

/* Attach the device of text, or detach the device of key (of kind). */
static int hotplug(const char *name, const char *text, const char *key, enum dev_kind kind,
                   const char *file, const struct scope *s, struct lv_error **err)
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
        _cleanup_free_ char *target = xstrdup(!dev           ? key
                                              : dev->n_disks ? dev->disks[0].target_dev
                                              : dev->n_nets  ? dev->nets[0].mac
                                                             : dev->filesystems[0].target);
        /* what is sent, before config_change takes the device's fields */
        _cleanup_free_ char *json = attach ? domain_to_json(dev) : NULL;
        _cleanup_domain_def_ struct domain_def *config = NULL;
        if (s->config &&
            (r = config_change(name, attach ? dev : NULL, target, kind, &config, err)) < 0)
                return r;
        if (s->live) {
                struct json_object *p = json_object_new_object();
                json_object_object_add(p,
                                       attach            ? "device"
                                       : kind == DEV_NET ? "interface"
                                       : kind == DEV_FS  ? "filesystem"
                                                         : "target",
                                       json_object_new_string(attach ? json : target));
                struct json_object *reply = NULL, *lazy;
                r = lvsh_call(name, attach ? LV_METHOD_ATTACH_DEVICE : LV_METHOD_DETACH_DEVICE, p,
                              &reply, err);
                json_object_put(p);
                if (r >= 0 && json_object_object_get_ex(reply, "lazy", &lazy) &&
                    json_object_get_boolean(lazy))
                        fprintf(stderr,
                                "filesystem '%s' was busy in the guest: unmounted lazily (it "
                                "goes once no process uses it)\n",
                                target);
                json_object_put(reply);
                if (r < 0)
                        return r;
        }
        if (config && (r = lvsh_domain_store(file, config, err)) < 0)
                return r;
        return 0;
}

/* What detaches the device of FILE: a disk's target dev, an interface's
 * MAC (the parser makes one up for an <interface> without <mac>: then
 * the guest's only interface of that type and source, else the made-up
 * MAC, which matches none). */
static const char *device_key(struct domain_def *dev, const char *text)
{
        if (dev->n_disks)
                return dev->disks[0].target_dev;
        if (dev->n_filesystems)
                return dev->filesystems[0].target;
        if (strstr(text, "<mac"))
                return dev->nets[0].mac;
        _cleanup_domain_def_ struct domain_def *guest = NULL;
        if (lvsh_guest_load_running(dev->name, &guest, NULL) < 0 &&
            lvsh_guest_load(dev->name, &guest, NULL) < 0)
                return dev->nets[0].mac;
        const struct domain_net *want = &dev->nets[0], *found = NULL;
        for (int i = 0; i < guest->n_nets; i++) {
                const struct domain_net *n = &guest->nets[i];
                if (n->type == want->type &&
                    streq(n->source ? n->source : "", want->source ? want->source : "")) {
                        if (found)
                                return dev->nets[0].mac; /* ambiguous */
                        found = n;
                }
        }
        if (found) {
                free(dev->nets[0].mac);
                dev->nets[0].mac = xstrdup(found->mac);
        }
        return dev->nets[0].mac;
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
                r = hotplug(name, attach ? text : NULL, attach ? NULL : device_key(dev, text),
                            attach               ? DEV_DISK
                            : dev->n_nets        ? DEV_NET
                            : dev->n_filesystems ? DEV_FS
                                                 : DEV_DISK,
                            file, &s, err);
        return hotplug_report(r, attach, "device", file, err);
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

/* want positional arguments (into pos), the scope flags (set) and the
 * options of valued allowed by the bit mask allowed (their values into
 * val); usage (what is expected) otherwise. */
static int options_parse(const struct lvsh_command *cmd, int argc, char **argv, int want,
                         const char *usage, const char **pos, bool *set, const char *const *valued,
                         unsigned allowed, const char **val, struct lv_error **err)
{
        int npos = 0;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (!startswith(a, "--")) {
                        if (npos >= want)
                                return lvsh_usage_error(cmd, err, "unexpected argument '%s'", a);
                        pos[npos++] = a;
                        continue;
                }
                if (scope_flag(a, set))
                        continue;
                int k = 0;
                while (valued[k] && !streq(valued[k], a + 2))
                        k++;
                if (!valued[k] || !(allowed & (1u << k)))
                        return lvsh_usage_error(cmd, err, "unknown option '%s'", a);
                if (i + 1 >= argc)
                        return lvsh_usage_error(cmd, err, "option '%s' needs a value", a);
                val[k] = argv[++i];
        }
        return npos == want ? 0 : lvsh_usage_error(cmd, err, "%s", usage);
}

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
        int r = options_parse(cmd, argc, argv, attach ? 3 : 2,
                              attach ? "expected NAME, SOURCE and TARGET"
                                     : "expected NAME and TARGET",
                              pos, set, valued, attach ? ~0u : 0, val, err);
        if (r < 0)
                return r;
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
        r = scope_resolve(cmd, name, set, &s, err);
        if (r >= 0)
                r = hotplug(name, attach ? text : NULL, attach ? NULL : pos[1], DEV_DISK, pos[1],
                            &s, err);
        return hotplug_report(r, attach, "disk", NULL, err);
}

static int cmd_attach_disk(int argc, char **argv, struct lv_error **err)
{
        return disk_command("attach-disk", true, argc, argv, err);
}

static int cmd_detach_disk(int argc, char **argv, struct lv_error **err)
{
        return disk_command("detach-disk", false, argc, argv, err);
}

/* ---- attach-interface / detach-interface ---- */

/* The MAC of the guest's interface of type (and mac, when given): the
 * running definition for --live, else the stored one. */
static int iface_find(const char *name, const struct scope *s, const char *type, const char *mac,
                      char **ret, struct lv_error **err)
{
        _cleanup_domain_def_ struct domain_def *def = NULL;
        int r = s->live ? lvsh_guest_load_running(name, &def, err)
                        : lvsh_guest_load(name, &def, err);
        if (r < 0)
                return r;
        int found = -1, n = 0;
        for (int i = 0; i < def->n_nets; i++)
                if (streq(domain_net_type_to_string(def->nets[i].type), type) &&
                    (!mac || !strcasecmp(def->nets[i].mac, mac))) {
                        found = i;
                        n++;
                }
        if (n == 0)
                return lv_error_setf(err, ENOENT,
                                     "operation failed: No interface found whose type is %s%s%s",
                                     type, mac ? " and MAC address is " : "", mac ? mac : "");
        if (n > 1)
                return lv_error_setf(err, EINVAL,
                                     "operation failed: Domain has %d interfaces. Please specify "
                                     "which one to detach using --mac",
                                     n);
        *ret = xstrdup(def->nets[found].mac);
        return 0;
}

static int iface_command(const char *cmdname, bool attach, int argc, char **argv,
                         struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command(cmdname);
        static const char *const valued[] = {"mac", "model", "target", NULL};
        enum { V_MAC, V_MODEL, V_TARGET, V_COUNT };
        const char *val[V_COUNT] = {NULL};
        bool set[F_COUNT] = {false};
        const char *pos[3];
        int r = options_parse(cmd, argc, argv, attach ? 3 : 2,
                              attach ? "expected NAME, TYPE and SOURCE" : "expected NAME and TYPE",
                              pos, set, valued, attach ? ~0u : 1u << V_MAC, val, err);
        if (r < 0)
                return r;
        const char *name = pos[0], *type = pos[1];
        if (!streq(type, "bridge") && !streq(type, "network"))
                return lvsh_usage_error(cmd, err, "interface type '%s': bridge or network", type);
        struct scope s;
        r = scope_resolve(cmd, name, set, &s, err);
        _cleanup_free_ char *text = NULL, *mac = NULL;
        if (r >= 0 && attach) {
                struct strbuf sb = {0};
                strbuf_printf(&sb, "<interface type='%s'><source %s='", type, type);
                strbuf_append_xml(&sb, pos[2]);
                strbuf_append(&sb, "'/>");
                static const char *const elem[V_COUNT][2] = {
                        {"mac", "address"}, {"model", "type"}, {"target", "dev"}};
                for (int k = 0; k < V_COUNT; k++) {
                        if (!val[k])
                                continue;
                        strbuf_printf(&sb, "<%s %s='", elem[k][0], elem[k][1]);
                        strbuf_append_xml(&sb, val[k]);
                        strbuf_append(&sb, "'/>");
                }
                strbuf_append(&sb, "</interface>");
                text = strbuf_steal(&sb);
        } else if (r >= 0) {
                r = iface_find(name, &s, type, val[V_MAC], &mac, err);
        }
        if (r >= 0)
                r = hotplug(name, text, mac, DEV_NET, cmdname, &s, err);
        return hotplug_report(r, attach, "interface", NULL, err);
}

static int cmd_attach_interface(int argc, char **argv, struct lv_error **err)
{
        return iface_command("attach-interface", true, argc, argv, err);
}

static int cmd_detach_interface(int argc, char **argv, struct lv_error **err)
{
        return iface_command("detach-interface", false, argc, argv, err);
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
         "    the guest runs; blockdev-add and device_add), one <interface>\n"
         "    (type bridge or network: see attach-interface) or, for a\n"
         "    container, one <filesystem> (type mount or bind while it runs:\n"
         "    bind-mounted at its target inside the container's root).\n" SCOPE_HELP,
         cmd_attach_device},
        {"detach-device", "NAME FILE [--live] [--config] [--persistent] [--current]",
         "detach device from an XML file",
         "    The <disk> of FILE is found by its target dev. A running guest is\n"
         "    asked to release it (device_del) and given 5 s; a guest that does\n"
         "    not is reported (the request stays: the disk goes when the guest\n"
         "    releases it). A container's <filesystem> is found by its target\n"
         "    dir and unmounted at once (lazily when busy).\n" SCOPE_HELP,
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
        {"attach-interface",
         "NAME TYPE SOURCE [--mac MAC] [--model MODEL] [--target DEV] [--live] [--config] "
         "[--persistent] [--current]",
         "attach network interface",
         "    attach-device with the <interface> these options describe: TYPE\n"
         "    bridge (SOURCE: the bridge) or network (SOURCE: a litevirt\n"
         "    network). A running QEMU guest gets a tap made by its supervisor on\n"
         "    the bridge (getfd, netdev_add, device_add; q35: on a free root\n"
         "    port).\n" SCOPE_HELP,
         cmd_attach_interface},
        {"detach-interface", "NAME TYPE [--mac MAC] [--live] [--config] [--persistent] [--current]",
         "detach network interface",
         "    The guest's interface of TYPE (the one with --mac MAC when it has\n"
         "    several). A running guest is asked to release it (device_del) and\n"
         "    given 5 s; then its netdev and tap go.\n" SCOPE_HELP,
         cmd_detach_interface},
        {0},
};
