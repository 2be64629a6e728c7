/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Looking at a guest, as virsh: domblklist (from the definition),
 * domblkstat, dommemstat and vcpucount (the definition and the
 * supervisor's Stats). */
#include <json-c/json.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "conf/domain.h"
#include "tools/lvsh-common.h"
#include "tools/lvsh-list.h"
#include "util/fileio.h"
#include "lib/methods.h"

#define SCREENSHOT_MAX_BYTES (64u << 20)

/* The running guest's statistics (Stats: the flat "stats" object), or
 * NULL with *err set. */
static struct json_object *stats_get(const char *name, struct lv_error **err)
{
        struct json_object *o = NULL, *stats = NULL;
        if (lvsh_call(name, LV_METHOD_STATS, NULL, &o, err) < 0)
                return NULL;
        if (json_object_object_get_ex(o, "stats", &stats))
                json_object_get(stats);
        else
                lv_error_setf(err, LV_ERR_PROTOCOL, "domain '%s': Stats without statistics", name);
        json_object_put(o);
        return stats;
}

/* The definition the guest runs with, else the stored one (--inactive:
 * always the stored one). */
static int def_load(const char *name, bool inactive, struct domain_def **ret, struct lv_error **err)
{
        if (!inactive && lvsh_guest_running(name, NULL)) {
                _cleanup_error_ struct lv_error *e = NULL;
                if (lvsh_guest_load_running(name, ret, &e) >= 0)
                        return 0;
        }
        return lvsh_guest_load(name, ret, err);
}

/* NAME and an optional second argument, no options: their count, or
 * a usage error. */
static int name_and_one(const struct lvsh_command *cmd, int argc, char **argv, const char **pos,
                        struct lv_error **err)
{
        int npos = 0;
        for (int i = 1; i < argc; i++) {
                if (startswith(argv[i], "--") || npos >= 2)
                        return lvsh_usage_error(cmd, err, "unexpected argument '%s'", argv[i]);
                pos[npos++] = argv[i];
        }
        if (npos < 1)
                return lvsh_usage_error(cmd, err, "a domain name is required");
        return npos;
}

/* ---- domblklist ---- */

static int cmd_domblklist(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"inactive", "details", NULL};
        bool set[2] = {false};
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command("domblklist"), argc, argv, flags, set, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if ((r = def_load(name, set[0], &def, err)) < 0)
                return r;
        size_t ncols = set[1] ? 4 : 2, n = (size_t)def->n_disks + 1;
        const char **cells = xcalloc(ncols * n, sizeof(*cells));
        static const char *const head[] = {"Type", "Device", "Target", "Source"};
        for (size_t c = 0; c < ncols; c++)
                cells[c] = head[c + 4 - ncols];
        for (int i = 0; i < def->n_disks; i++) {
                const struct domain_disk *d = &def->disks[i];
                const char **row = cells + (size_t)(i + 1) * ncols;
                if (set[1]) {
                        *row++ = domain_disk_type_to_string(d->type);
                        *row++ = domain_disk_device_to_string(d->device);
                }
                row[0] = d->target_dev;
                row[1] = d->source ? d->source : "-";
        }
        lvsh_table_print(stdout, cells, ncols, n);
        printf("\n");
        free(cells);
        return 0;
}

/* ---- domblkinfo ---- */

/* A qcow2 image's virtual size (its header: magic "QFI\xfb", the size
 * big-endian at offset 24); 0 when fd is not one. */
static unsigned long long qcow2_virtual_size(int fd)
{
        unsigned char h[32];
        if (pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h || memcmp(h, "QFI\xfb", 4) != 0)
                return 0;
        unsigned long long v = 0;
        for (int i = 24; i < 32; i++)
                v = v << 8 | h[i];
        return v;
}

static int cmd_domblkinfo(int argc, char **argv, struct lv_error **err)
{
        const char *pos[2];
        int npos = name_and_one(lvsh_find_command("domblkinfo"), argc, argv, pos, err);
        if (npos < 0)
                return npos;
        if (npos < 2)
                return lvsh_usage_error(lvsh_find_command("domblkinfo"), err,
                                        "a disk (target dev or source) is required");
        _cleanup_domain_def_ struct domain_def *def = NULL;
        int r = def_load(pos[0], false, &def, err);
        if (r < 0)
                return r;
        int i = domain_disk_find(def, pos[1]);
        if (i < 0)
                return lv_error_setf(err, ENOENT,
                                     "invalid argument: invalid path %s not assigned "
                                     "to domain",
                                     pos[1]);
        const struct domain_disk *d = &def->disks[i];
        if (!d->source)
                return lv_error_setf(err, ENOENT, "disk '%s' has no source", d->target_dev);
        _cleanup_close_ int fd = open(d->source, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return lv_error_set(err, errno, "disk '%s': '%s'", d->target_dev, d->source);
        unsigned long long physical = (unsigned long long)st.st_size;
        if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &physical) < 0)
                return lv_error_set(err, errno, "disk '%s': size of '%s'", d->target_dev,
                                    d->source);
        unsigned long long capacity =
                d->format == DOMAIN_DISK_FORMAT_QCOW2 ? qcow2_virtual_size(fd) : physical;
        unsigned long long allocation =
                S_ISBLK(st.st_mode) ? physical : (unsigned long long)st.st_blocks * 512;
        printf("Capacity:       %llu\nAllocation:     %llu\nPhysical:       %llu\n\n", capacity,
               allocation, physical);
        return 0;
}

/* ---- domblkstat ---- */

static int cmd_domblkstat(int argc, char **argv, struct lv_error **err)
{
        const char *pos[2];
        int npos = name_and_one(lvsh_find_command("domblkstat"), argc, argv, pos, err);
        if (npos < 0)
                return npos;
        const char *device = npos == 2 ? pos[1] : NULL;
        struct json_object *stats = stats_get(pos[0], err);
        if (!stats)
                return -EIO;
        static const char *const fields[][2] = {{"rd.reqs", "rd_req"},
                                                {"rd.bytes", "rd_bytes"},
                                                {"wr.reqs", "wr_req"},
                                                {"wr.bytes", "wr_bytes"}};
        long long sum[ARRAY_SIZE(fields)] = {0}, count = 0, v;
        bool found = !device;
        (void)lvsh_json_i64(stats, "block.count", &count);
        for (long long b = 0; b < count; b++) {
                char key[64];
                snprintf(key, sizeof key, "block.%lld.name", b);
                const char *bname = lvsh_json_str(stats, key, NULL);
                if (device && !(bname && streq(bname, device)))
                        continue;
                found = true;
                for (size_t f = 0; f < ARRAY_SIZE(fields); f++) {
                        snprintf(key, sizeof key, "block.%lld.%s", b, fields[f][0]);
                        if (lvsh_json_i64(stats, key, &v))
                                sum[f] += v;
                }
        }
        json_object_put(stats);
        if (!found)
                return lv_error_setf(err, ENOENT,
                                     "Failed to get block stats %s %s\nerror: invalid argument: "
                                     "invalid path: %s",
                                     pos[0], device, device);
        for (size_t f = 0; f < ARRAY_SIZE(fields); f++)
                printf("%s%s%s %lld\n", device ? device : "", device ? " " : "", fields[f][1],
                       sum[f]);
        printf("\n");
        return 0;
}

/* ---- dommemstat ---- */

static int cmd_dommemstat(int argc, char **argv, struct lv_error **err)
{
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command("dommemstat"), argc, argv, NULL, NULL, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        struct json_object *stats = stats_get(name, err);
        if (!stats)
                return -EIO;
        long long v;
        if (lvsh_json_i64(stats, "balloon.current", &v))
                printf("actual %lld\n", v);
        if (lvsh_json_i64(stats, "memory.rss", &v))
                printf("rss %lld\n", v);
        printf("\n");
        json_object_put(stats);
        return 0;
}

/* ---- vcpucount ---- */

static int cmd_vcpucount(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"maximum", "active", "live", "config", "current", NULL};
        enum { MAXIMUM, ACTIVE, LIVE, CONFIG, CURRENT };
        bool set[5] = {false};
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command("vcpucount"), argc, argv, flags, set, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        if (set[MAXIMUM] && set[ACTIVE])
                return lvsh_usage_error(lvsh_find_command("vcpucount"), err,
                                        "--maximum and --active exclude each other");
        if (set[CURRENT] && (set[LIVE] || set[CONFIG]))
                return lvsh_usage_error(lvsh_find_command("vcpucount"), err,
                                        "--current excludes --live and --config");
        bool only = set[MAXIMUM] || set[ACTIVE];
        if (only && !set[LIVE] && !set[CONFIG]) /* one number: of the current scope */
                set[CURRENT] = true;
        bool running = lvsh_guest_running(name, NULL);
        if (set[LIVE] && !running)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain is not running");
        bool want_live = set[LIVE] || (set[CURRENT] && running) ||
                         (!set[CONFIG] && !set[CURRENT] && running);
        bool want_config =
                set[CONFIG] || (set[CURRENT] && !running) || (!set[LIVE] && !set[CURRENT]);
        _cleanup_domain_def_ struct domain_def *stored = NULL;
        _cleanup_domain_def_ struct domain_def *live = NULL;
        if (want_config && (r = lvsh_guest_load(name, &stored, err)) < 0)
                return r;
        long long live_cur = 0;
        if (want_live) {
                if ((r = lvsh_guest_load_running(name, &live, err)) < 0)
                        return r;
                struct json_object *stats = stats_get(name, err);
                if (!stats)
                        return -EIO;
                if (!lvsh_json_i64(stats, "vcpu.current", &live_cur))
                        live_cur = live->vcpus_current ? live->vcpus_current : live->vcpus;
                json_object_put(stats);
        }
        for (int m = 0; m < 2; m++) { /* maximum, then current */
                if ((m == 0 && set[ACTIVE]) || (m == 1 && set[MAXIMUM]))
                        continue;
                for (int l = 0; l < 2; l++) { /* config, then live */
                        const struct domain_def *d = l ? live : stored;
                        if (!d)
                                continue;
                        long long n = m == 0             ? (long long)d->vcpus
                                      : l                ? live_cur
                                      : d->vcpus_current ? (long long)d->vcpus_current
                                                         : (long long)d->vcpus;
                        if (only && want_live + want_config == 1)
                                printf("%lld\n", n);
                        else
                                printf("%-12s %-12s %3lld\n", m ? "current" : "maximum",
                                       l ? "live" : "config", n);
                }
        }
        printf("\n");
        return 0;
}

/* ---- screenshot ---- */

static int cmd_screenshot(int argc, char **argv, struct lv_error **err)
{
        const char *pos[2];
        int npos = name_and_one(lvsh_find_command("screenshot"), argc, argv, pos, err);
        if (npos < 0)
                return npos;
        const char *name = pos[0];
        /* virsh's name when none is given: NAME-YYYY-MM-DD-HH:MM:SS.png */
        _cleanup_free_ char *file = NULL;
        if (npos == 2) {
                file = xstrdup(pos[1]);
        } else {
                char stamp[64];
                time_t now = time(NULL);
                strftime(stamp, sizeof stamp, "%Y-%m-%d-%H:%M:%S", localtime(&now));
                file = xasprintf("%s-%s.png", name, stamp);
        }
        struct json_object *o = NULL;
        int r = lvsh_call(name, LV_METHOD_SCREENSHOT, NULL, &o, err);
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        const char *path = lvsh_json_str(o, "path", NULL);
        if (r >= 0 && !path)
                r = lv_error_setf(err, LV_ERR_PROTOCOL, "Screenshot: no path in the reply");
        if (r >= 0)
                r = file_read_bounded(path, SCREENSHOT_MAX_BYTES, &data, &len, err);
        if (r >= 0)
                r = file_write_atomic(file, data, len, 0644, err);
        json_object_put(o);
        if (r < 0)
                return lv_error_prefix(err, "could not take a screenshot of %s\nerror", name);
        printf("Screenshot saved to %s, with type of image/png\n\n", file);
        return 0;
}

const struct lvsh_command lvsh_inspect_commands[] = {
        {"domblklist", "NAME [--inactive] [--details]", "list all domain blocks",
         "    The disks of the definition the guest runs with (--inactive: the\n"
         "    stored one): Target and Source; --details adds Type and Device.",
         cmd_domblklist},
        {"domblkinfo", "NAME DEVICE", "domain block device size information",
         "    Capacity (the guest's disk size: a qcow2 image's virtual size),\n"
         "    Allocation (bytes the host has allocated) and Physical (the file's\n"
         "    or device's size) of the disk DEVICE (target dev or source), read\n"
         "    from the image on the host, as libvirt does for a guest that is\n"
         "    not running. No --all, --human.",
         cmd_domblkinfo},
        {"domblkstat", "NAME [DEVICE]", "get device block stats for a domain",
         "    rd_req, rd_bytes, wr_req, wr_bytes of the disk DEVICE (a target\n"
         "    dev) of a running guest; without DEVICE, the sum over its disks.\n"
         "    (virsh also prints flush and timing counters: not kept here.)",
         cmd_domblkstat},
        {"dommemstat", "NAME", "get memory statistics for a domain",
         "    actual (the balloon's size, KiB) and rss (the guest's memory on the\n"
         "    host, KiB). The guest's own figures (swap, unused, available) need\n"
         "    the balloon's statistics, which litevirt does not enable.",
         cmd_dommemstat},
        {"vcpucount", "NAME [--maximum] [--active] [--live] [--config] [--current]",
         "domain vcpu counts",
         "    The maximum and current vCPU counts of the stored definition\n"
         "    (config) and of the running guest (live: QEMU's query-cpus-fast).\n"
         "    With --maximum or --active and one of --live/--config, the number\n"
         "    alone.",
         cmd_vcpucount},
        {"screenshot", "NAME [FILE]",
         "take a screenshot of a current domain console and store it into a file",
         "    The guest's display (QEMU: screendump) as PNG in FILE, by default\n"
         "    NAME-YYYY-MM-DD-HH:MM:SS.png. A guest without a display is refused\n"
         "    with QEMU's reason. No --screen (one display).",
         cmd_screenshot},
        {0},
};
