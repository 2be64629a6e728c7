/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every command line litevirt builds is accepted by the real
 * qemu-system-x86_64, and for libvirt's own vectors the guest has the same
 * devices as libvirt's command line gives it.
 *
 * Part 1: each tests/data/qemu/NAME.xml that builds is started paused
 *   (-S) with host paths replaced by real things (qemu-img images, a loop
 *   device for type='block', tap fds, the test guest's kernel), checked
 *   over QMP (status prelaunch, every disk, NIC and serial present), and
 *   quit over QMP; QEMU must exit 0.
 * Part 2: a sample of libvirt's qemuxml2argvdata/NAME.xml vectors that
 *   litevirt supports ($LV_LIBVIRT_TESTS, scripts/fetch-libvirt-tests.sh;
 *   at most SAMPLE of them, spread evenly over the sorted names; all of them
 *   with LV_TEST_ALL_VECTORS=1) is started twice: from litevirt's command line and from
 *   libvirt's NAME.x86_64-latest.args (fd=1729 monitor, /tmp/lib/domain--1-*
 *   and disk paths adapted). The device lists (QOM /machine/peripheral:
 *   id and type; PCI: address, vendor:device, id; block devices; chardevs)
 *   must be equal; the known differences are listed in docs/qemu.md and in
 *   `allowed_diffs` below.
 *
 * Runs in a private network namespace (taps, VNC ports and an IPv6 address
 * of libvirt's vector live and die with it). Needs root and qemu: else 77. */
#include <dirent.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "conf/domain.h"
#include "qemu/command.h"
#include "tests/lib/libvirt-tests.h"
#include "tests/qemu/qemu-helpers.h"
#include "util/fileio.h"
#include "util/strbuf.h"

/* libvirt vectors run by QEMU (each twice: litevirt's and libvirt's line) */
#define SAMPLE 20

static int failures;
static char *tmp;
static char *guest_kernel, *guest_initrd;
static char **loopdevs;

#define FAIL(...)                                                                                  \
        do {                                                                                       \
                fprintf(stderr, "FAIL: " __VA_ARGS__);                                             \
                fputc('\n', stderr);                                                               \
                failures++;                                                                        \
        } while (0)

/* Differences between libvirt's and litevirt's guests that are on
 * purpose (docs/qemu.md, "Differences from libvirt"). */
static const char *const allowed_diffs[] = {
        NULL,
};

static void cleanup(void)
{
        for (size_t i = 0; loopdevs && loopdevs[i]; i++)
                qt_run("losetup -d %s 2>/dev/null", loopdevs[i]);
        strv_free(loopdevs);
        if (tmp)
                qt_rmrf(tmp);
}

/* ---------------------------------------------------------------------- */
/* host resources standing in for the definition's paths */

static char *make_image(const char *tag, const char *fmt)
{
        static int n;
        char *path = xasprintf("%s/img-%s-%d.%s", tmp, tag, n++, fmt);
        if (qt_run("qemu-img create -q -f %s %s 16M", fmt, path) != 0) {
                FAIL("qemu-img create %s", path);
        }
        return path;
}

/* a loop device over an image of the disk's format (qcow2 on a block
 * device is a qcow2 image on the device) */
static char *make_loopdev(const char *fmt)
{
        char *img = make_image("blk", fmt);
        char *out = xasprintf("%s/losetup.out", tmp);
        char *dev = NULL;
        if (qt_run("losetup -f --show %s > %s", img, out) == 0) {
                char *data = NULL;
                size_t len;
                struct lv_error *err = NULL;
                if (file_read_bounded(out, 256, &data, &len, &err) == 0) {
                        data[strcspn(data, "\n")] = '\0';
                        dev = data;
                        strv_push(&loopdevs, xstrdup(dev));
                }
                lv_error_free(err);
        }
        free(img);
        free(out);
        return dev;
}

static int make_tap(int n)
{
        int fd = open("/dev/net/tun", O_RDWR); /* inherited by QEMU: no CLOEXEC */
        if (fd < 0)
                return -1;
        struct ifreq ifr = {0};
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lvtest%d", n);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

struct path_map {
        char **from;
        char **to;
};

static void map_add(struct path_map *m, const char *from, const char *to)
{
        strv_push(&m->from, xstrdup(from));
        strv_push(&m->to, xstrdup(to));
}

static const char *map_get(const struct path_map *m, const char *from)
{
        for (size_t i = 0; m->from && m->from[i]; i++)
                if (streq(m->from[i], from))
                        return m->to[i];
        return NULL;
}

/* Replace the definition's host paths with real ones (recorded in map). */
static int localize(struct domain_def *def, struct path_map *map)
{
        if (def->os.kernel) {
                free(def->os.kernel);
                def->os.kernel = xstrdup(guest_kernel);
        }
        if (def->os.initrd) {
                free(def->os.initrd);
                def->os.initrd = xstrdup(guest_initrd);
        }
        for (int i = 0; i < def->n_disks; i++) {
                struct domain_disk *d = &def->disks[i];
                if (!d->source)
                        continue;
                const char *have = map_get(map, d->source);
                char *real;
                if (have)
                        real = xstrdup(have);
                else if (d->type == DOMAIN_DISK_BLOCK)
                        real = make_loopdev(d->format == DOMAIN_DISK_FORMAT_QCOW2 ? "qcow2"
                                                                                  : "raw");
                else
                        real = make_image("file",
                                          d->format == DOMAIN_DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
                if (!real)
                        return -1;
                if (!have)
                        map_add(map, d->source, real);
                free(d->source);
                d->source = real;
        }
        return 0;
}

/* ---------------------------------------------------------------------- */
/* device lists over QMP */

static void add_pci(struct json_object *devices, int bus, char ***out)
{
        size_t n = json_object_array_length(devices);
        for (size_t i = 0; i < n; i++) {
                struct json_object *d = json_object_array_get_idx(devices, i), *v;
                int slot = 0, fn = 0, vendor = 0, device = 0;
                const char *id = "";
                if (json_object_object_get_ex(d, "slot", &v))
                        slot = json_object_get_int(v);
                if (json_object_object_get_ex(d, "function", &v))
                        fn = json_object_get_int(v);
                if (json_object_object_get_ex(d, "qdev_id", &v))
                        id = json_object_get_string(v);
                struct json_object *idobj;
                if (json_object_object_get_ex(d, "id", &idobj)) {
                        if (json_object_object_get_ex(idobj, "vendor", &v))
                                vendor = json_object_get_int(v);
                        if (json_object_object_get_ex(idobj, "device", &v))
                                device = json_object_get_int(v);
                }
                strv_push(out, xasprintf("pci %02x:%02x.%x %04x:%04x %s", bus, slot, fn, vendor,
                                         device, id));
                struct json_object *br, *sub, *busobj;
                if (json_object_object_get_ex(d, "pci_bridge", &br) &&
                    json_object_object_get_ex(br, "devices", &sub)) {
                        int secondary = 0;
                        if (json_object_object_get_ex(br, "bus", &busobj) &&
                            json_object_object_get_ex(busobj, "secondary", &v))
                                secondary = json_object_get_int(v);
                        add_pci(sub, secondary, out);
                }
        }
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The guest's devices as sorted lines; NULL on QMP failure. */
static char **device_list(struct qmp *q, struct lv_error **err)
{
        char **out = NULL;
        struct json_object *ret = NULL;
        if (qmp_call_json(q, "qom-list", "{\"path\":\"/machine/peripheral\"}", 10000, &ret, err) <
            0)
                goto fail;
        for (size_t i = 0; i < json_object_array_length(ret); i++) {
                struct json_object *p = json_object_array_get_idx(ret, i), *name, *type;
                if (json_object_object_get_ex(p, "name", &name) &&
                    json_object_object_get_ex(p, "type", &type) &&
                    startswith(json_object_get_string(type), "child<"))
                        strv_push(&out, xasprintf("dev %s %s", json_object_get_string(name),
                                                  json_object_get_string(type)));
        }
        json_object_put(ret);
        ret = NULL;

        if (qmp_call(q, "query-pci", NULL, 10000, &ret, err) < 0)
                goto fail;
        for (size_t i = 0; i < json_object_array_length(ret); i++) {
                struct json_object *bus = json_object_array_get_idx(ret, i), *devs, *v;
                int nr = 0;
                if (json_object_object_get_ex(bus, "bus", &v))
                        nr = json_object_get_int(v);
                if (json_object_object_get_ex(bus, "devices", &devs))
                        add_pci(devs, nr, &out);
        }
        json_object_put(ret);
        ret = NULL;

        if (qmp_call(q, "query-block", NULL, 10000, &ret, err) < 0)
                goto fail;
        for (size_t i = 0; i < json_object_array_length(ret); i++) {
                struct json_object *b = json_object_array_get_idx(ret, i), *v, *ins;
                const char *qdev =
                        json_object_object_get_ex(b, "qdev", &v) ? json_object_get_string(v) : "?";
                bool ro = false;
                const char *drv = "empty";
                if (json_object_object_get_ex(b, "inserted", &ins)) {
                        if (json_object_object_get_ex(ins, "ro", &v))
                                ro = json_object_get_boolean(v);
                        if (json_object_object_get_ex(ins, "drv", &v))
                                drv = json_object_get_string(v);
                }
                strv_push(&out, xasprintf("block %s %s%s", qdev, drv, ro ? " ro" : ""));
        }
        json_object_put(ret);
        ret = NULL;

        if (qmp_call(q, "query-chardev", NULL, 10000, &ret, err) < 0)
                goto fail;
        for (size_t i = 0; i < json_object_array_length(ret); i++) {
                struct json_object *c = json_object_array_get_idx(ret, i), *label, *fname;
                if (!json_object_object_get_ex(c, "label", &label) ||
                    !json_object_object_get_ex(c, "filename", &fname))
                        continue;
                char kind[16];
                snprintf(kind, sizeof(kind), "%s", json_object_get_string(fname));
                kind[strcspn(kind, ":")] = '\0';
                strv_push(&out, xasprintf("chardev %s %s", json_object_get_string(label), kind));
        }
        json_object_put(ret);
        qsort(out, strv_length(out), sizeof(char *), cmp_str);
        return out;
fail:
        if (ret)
                json_object_put(ret);
        strv_free(out);
        return NULL;
}

/* Start argv paused, check it is 'prelaunch', list its devices, quit. */
static char **run_paused(char **argv, const char *qmp_path, const char *what)
{
        _cleanup_free_ char *log = xasprintf("%s/qemu.log", tmp);
        unlink(log);
        unlink(qmp_path);
        pid_t pid = qt_spawn(argv, log);
        struct qmp *q = NULL;
        struct lv_error *err = NULL;
        char **devices = NULL;
        if (qt_qmp_connect(qmp_path, pid, &q, &err) < 0) {
                char *data = NULL;
                size_t len;
                struct lv_error *e2 = NULL;
                file_read_bounded(log, 65536, &data, &len, &e2);
                FAIL("%s: QEMU did not accept the command line: %s\n%s", what, err->message,
                     data ? data : "");
                free(data);
                lv_error_free(e2);
                goto out;
        }
        struct json_object *ret = NULL, *st;
        if (qmp_call(q, "query-status", NULL, 10000, &ret, &err) < 0) {
                FAIL("%s: query-status: %s", what, err->message);
                goto out;
        }
        if (!json_object_object_get_ex(ret, "status", &st) ||
            !streq(json_object_get_string(st), "prelaunch"))
                FAIL("%s: status is not prelaunch", what);
        json_object_put(ret);
        devices = device_list(q, &err);
        if (!devices) {
                FAIL("%s: listing devices: %s", what, err->message);
                goto out;
        }
        if (qmp_call(q, "quit", NULL, 10000, NULL, &err) < 0) {
                FAIL("%s: quit: %s", what, err->message);
                goto out;
        }
        qmp_free(q);
        q = NULL;
        int status = 0;
        if (qt_wait_exit(pid, 20000, &status) < 0) {
                FAIL("%s: QEMU did not exit after quit", what);
        } else {
                pid = 0;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        FAIL("%s: QEMU exit status 0x%x after quit", what, status);
        }
out:
        qmp_free(q);
        qt_kill(pid);
        lv_error_free(err);
        return devices;
}

static bool has_line(char **list, const char *prefix)
{
        for (size_t i = 0; list && list[i]; i++)
                if (startswith(list[i], prefix))
                        return true;
        return false;
}

static char **build_localized(struct domain_def *def, struct path_map *map, const char *qmp,
                              int *tapfds, const char *what)
{
        if (localize(def, map) < 0) {
                FAIL("%s: cannot prepare host resources", what);
                return NULL;
        }
        /* UEFI: the firmware, and the NVRAM made from its template in
         * this run's directory, as the driver does */
        struct lv_error *ferr = NULL;
        if (def->os.nvram) {
                char *own = xasprintf("%s/%s-%s", tmp, def->name, strrchr(def->os.nvram, '/') + 1);
                free(def->os.nvram);
                def->os.nvram = own;
        }
        if (qemu_firmware_resolve(def, tmp, &ferr) < 0) {
                fprintf(stderr, "     %s: refused: %s\n", what, ferr->message);
                lv_error_free(ferr);
                return NULL;
        }
        if (def->os.nvram && def->os.nvram_template && access(def->os.nvram, F_OK) < 0) {
                _cleanup_free_ char *vars = NULL;
                size_t vlen = 0;
                if (file_read_bounded(def->os.nvram_template, 64 << 20, &vars, &vlen, &ferr) < 0 ||
                    file_write_atomic(def->os.nvram, vars, vlen, 0600, &ferr) < 0) {
                        FAIL("%s: NVRAM: %s", what, ferr->message);
                        lv_error_free(ferr);
                        return NULL;
                }
        }
        /* unix channels: a socket of this run's own */
        for (int i = 0; i < def->n_channels; i++)
                if (def->channels[i].type == DOMAIN_CHANNEL_UNIX) {
                        free(def->channels[i].source_path);
                        def->channels[i].source_path =
                                xasprintf("%s/%s-channel%d.sock", tmp, def->name, i);
                }
        int ntap = 0;
        for (int i = 0; i < def->n_nets && i < 16; i++) {
                tapfds[i] = -1;
                if (def->nets[i].type == DOMAIN_NET_BRIDGE ||
                    def->nets[i].type == DOMAIN_NET_NETWORK) {
                        static int tapno;
                        tapfds[i] = make_tap(tapno++);
                        if (tapfds[i] < 0)
                                FAIL("%s: cannot create a tap", what);
                        ntap++;
                }
        }
        struct qemu_graphics_ports ports[QT_MAX_GRAPHICS];
        qt_graphics_ports(def, ports);
        struct qemu_command_opts opts = {
                .emulator = qt_qemu_binary(),
                .qmp_path = qmp,
                .qmp_fd = -1,
                .net_fds = tapfds,
                .n_net_fds = def->n_nets < 16 ? def->n_nets : 16,
                .graphics = ports,
                .n_graphics = def->n_graphics < QT_MAX_GRAPHICS ? def->n_graphics : QT_MAX_GRAPHICS,
        };
        char **argv = NULL;
        struct lv_error *err = NULL;
        if (qemu_command_build(def, &opts, &argv, &err) < 0) {
                fprintf(stderr, "     %s: refused: %s\n", what, err->message);
                lv_error_free(err);
                return NULL;
        }
        return argv;
}

static void close_taps(int *fds, int n)
{
        for (int i = 0; i < n && i < 16; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

/* ---------------------------------------------------------------------- */
/* part 1: our golden inputs */

static void accept_one(const char *dir, const char *name)
{
        _cleanup_free_ char *xml = xasprintf("%s/%s.xml", dir, name);
        _cleanup_free_ char *errfile = xasprintf("%s/%s.err", dir, name);
        if (access(errfile, F_OK) == 0)
                return; /* refused by design */
        struct lv_error *err = NULL;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if (domain_parse_file(xml, &def, &err) < 0) {
                FAIL("%s: %s", name, err->message);
                lv_error_free(err);
                return;
        }
        if (def->type == DOMAIN_TYPE_KVM) {
                /* no KVM here: the rest is the same, but for the host CPU
                 * (-cpu host) and the Hyper-V VP index (and what needs
                 * it), which TCG cannot give */
                def->type = DOMAIN_TYPE_QEMU;
                if (def->cpu.mode == DOMAIN_CPU_MODE_HOST_PASSTHROUGH)
                        def->cpu.mode = DOMAIN_CPU_MODE_MAXIMUM;
                struct domain_hyperv *h = &def->features.hyperv;
                h->vpindex = h->synic = h->stimer = h->tlbflush = h->ipi = DOMAIN_TRISTATE_ABSENT;
        }
        struct path_map map = {0};
        _cleanup_free_ char *qmp = xasprintf("%s/qmp.sock", tmp);
        int taps[16];
        _cleanup_strv_free_ char **argv = build_localized(def, &map, qmp, taps, name);
        strv_free(map.from);
        strv_free(map.to);
        if (!argv) {
                FAIL("%s: does not build", name);
                return;
        }
        _cleanup_strv_free_ char **devs = run_paused(argv, qmp, name);
        close_taps(taps, def->n_nets);
        if (!devs)
                return;
        /* what the definition asked for is there */
        for (int i = 0; i < def->n_nets; i++) {
                _cleanup_free_ char *p = xasprintf("dev net%d ", i);
                if (!has_line(devs, p))
                        FAIL("%s: NIC net%d missing", name, i);
        }
        for (int i = 0; i < def->n_disks; i++)
                if (def->disks[i].source) {
                        bool found = false;
                        for (size_t k = 0; devs[k]; k++)
                                if (startswith(devs[k], "block ") && !strstr(devs[k], " empty") &&
                                    (!def->disks[i].readonly || strstr(devs[k], " ro")))
                                        found = true;
                        if (!found)
                                FAIL("%s: disk %s missing", name, def->disks[i].target_dev);
                }
        for (int i = 0; i < def->n_chrs; i++) {
                _cleanup_free_ char *id = qemu_command_serial_chardev(def, i);
                _cleanup_free_ char *p = xasprintf("chardev %s pty", id ? id : "?");
                if (id && !has_line(devs, p))
                        FAIL("%s: chardev %s missing", name, id);
        }
        fprintf(stderr, "ok   accepted by QEMU: %s (%zu devices)\n", name, strv_length(devs));
}

/* ---------------------------------------------------------------------- */
/* part 2: libvirt's vectors */

static char *replace_all(const char *s, const char *from, const char *to)
{
        _cleanup_strbuf_ struct strbuf sb = {0};
        size_t fl = strlen(from);
        const char *p;
        strbuf_append(&sb, "");
        while ((p = strstr(s, from))) {
                strbuf_append_len(&sb, s, (size_t)(p - s));
                strbuf_append(&sb, to);
                s = p + fl;
        }
        strbuf_append(&sb, s);
        return strbuf_steal(&sb);
}

static bool diff_allowed(const char *name, const char *line)
{
        for (size_t i = 0; allowed_diffs[i]; i++) {
                const char *a = allowed_diffs[i];
                size_t n = strlen(name);
                if (strncmp(a, name, n) == 0 && a[n] == ':' && streq(a + n + 1, line))
                        return true;
        }
        return false;
}

/* Whether litevirt builds a command line for the vector (no host
 * resources made), and libvirt's line needs nothing of the host beyond
 * what compare_one() provides: VNC TLS and SASL come from the qemu.conf of
 * libvirt's test (vnc_tls, vnc_sasl: certificates in /etc/pki), not from
 * the XML; UEFI firmware from its test's firmware descriptors and NVRAM in
 * its /var/lib/libvirt/qemu/nvram (litevirt's UEFI guests are started by
 * part 1 and tests/qemu/test-qemu-corpus-boot.sh). */
static bool supported(const char *peerdir, const char *name)
{
        _cleanup_free_ char *xml = xasprintf("%s/%s.xml", peerdir, name);
        _cleanup_free_ char *lvargs = xasprintf("%s/%s.x86_64-latest.args", peerdir, name);
        _cleanup_error_ struct lv_error *err = NULL;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (file_read_bounded(lvargs, 1 << 20, &text, &len, &err) < 0 ||
            strstr(text, "/etc/pki/") || strstr(text, "sasl=on") || strstr(text, "pflash0="))
                return false;
        return domain_parse_file(xml, &def, &err) == 0 &&
               qt_command_build_fixed(def, "/run/litevirt/qmp.sock", &argv, &err) == 0;
}

static void compare_one(const char *peerdir, const char *name)
{
        _cleanup_free_ char *xml = xasprintf("%s/%s.xml", peerdir, name);
        _cleanup_free_ char *lvargs = xasprintf("%s/%s.x86_64-latest.args", peerdir, name);
        struct lv_error *err = NULL;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if (domain_parse_file(xml, &def, &err) < 0) {
                FAIL("libvirt %s: not parsed by litevirt: %s", name, err->message);
                lv_error_free(err);
                return;
        }
        struct path_map map = {0};
        _cleanup_free_ char *qmp = xasprintf("%s/qmp.sock", tmp);
        int taps[16];
        _cleanup_strv_free_ char **ours = build_localized(def, &map, qmp, taps, name);
        if (!ours) {
                strv_free(map.from);
                strv_free(map.to);
                return; /* refused: reported */
        }

        /* libvirt's line with the same host resources */
        char *text = NULL;
        size_t len;
        if (file_read_bounded(lvargs, 1 << 20, &text, &len, &err) < 0) {
                FAIL("%s", err->message);
                lv_error_free(err);
                return;
        }
        _cleanup_free_ char *lvdir = xasprintf("%s/libvirt-%s", tmp, name);
        _cleanup_free_ char *lvqmp = xasprintf("%s/libvirt-qmp.sock", tmp);
        mkdir(lvdir, 0700);
        _cleanup_free_ char *key = xasprintf("%s/master-key.aes", lvdir);
        file_write_atomic(key, "0123456789abcdef0123456789abcdef", 32, 0600, NULL);
        _cleanup_free_ char *from_dir = xasprintf("/tmp/lib/domain--1-%s", def->name);
        _cleanup_free_ char *fdarg = xasprintf("path=%s", lvqmp);
        char *t1 = replace_all(text, from_dir, lvdir);
        free(text);
        /* the monitor gets fdarg, other chardevs with fd=1729 (libvirt's
         * test passes sockets as fds too) a socket each */
        _cleanup_free_ char *monfd = xasprintf("id=charmonitor,%s", fdarg);
        char *t2 = replace_all(t1, "id=charmonitor,fd=1729", monfd);
        free(t1);
        for (int k = 0; strstr(t2, "fd=1729"); k++) {
                char *at = strstr(t2, "fd=1729");
                _cleanup_free_ char *chr = xasprintf("path=%s/chardev%d.sock", lvdir, k);
                char *t3 = xasprintf("%.*s%s%s", (int)(at - t2), t2, chr, at + strlen("fd=1729"));
                free(t2);
                t2 = t3;
        }
        for (size_t i = 0; map.from && map.from[i]; i++) {
                _cleanup_free_ char *f = xasprintf("\"%s\"", map.from[i]);
                _cleanup_free_ char *to = xasprintf("\"%s\"", map.to[i]);
                char *t3 = replace_all(t2, f, to);
                free(t2);
                t2 = t3;
        }
        _cleanup_strv_free_ char **theirs = qt_split_libvirt_args(t2);
        free(t2);
        free(theirs[0]);
        theirs[0] = xstrdup(qt_qemu_binary());
        strv_free(map.from);
        strv_free(map.to);

        _cleanup_free_ char *what_ours = xasprintf("%s (litevirt)", name);
        _cleanup_free_ char *what_theirs = xasprintf("%s (libvirt)", name);
        _cleanup_strv_free_ char **d_ours = run_paused(ours, qmp, what_ours);
        close_taps(taps, def->n_nets);
        _cleanup_strv_free_ char **d_theirs = run_paused(theirs, lvqmp, what_theirs);
        if (!d_ours || !d_theirs)
                return;
        int diffs = 0;
        for (size_t i = 0; d_theirs[i]; i++) {
                bool found = false;
                for (size_t k = 0; d_ours[k] && !found; k++)
                        found = streq(d_ours[k], d_theirs[i]);
                if (!found) {
                        _cleanup_free_ char *l = xasprintf("-%s", d_theirs[i]);
                        if (!diff_allowed(name, l)) {
                                FAIL("%s: only libvirt's guest has: %s", name, d_theirs[i]);
                                diffs++;
                        }
                }
        }
        for (size_t i = 0; d_ours[i]; i++) {
                bool found = false;
                for (size_t k = 0; d_theirs[k] && !found; k++)
                        found = streq(d_theirs[k], d_ours[i]);
                if (!found) {
                        _cleanup_free_ char *l = xasprintf("+%s", d_ours[i]);
                        if (!diff_allowed(name, l)) {
                                FAIL("%s: only litevirt's guest has: %s", name, d_ours[i]);
                                diffs++;
                        }
                }
        }
        if (!diffs)
                fprintf(stderr, "ok   same devices as libvirt: %s (%zu)\n", name,
                        strv_length(d_ours));
}

static char **list_xml(const char *dir)
{
        char **names = NULL;
        DIR *d = opendir(dir);
        if (!d)
                return NULL;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (n > 4 && streq(de->d_name + n - 4, ".xml"))
                        strv_push(&names, xstrndup(de->d_name, n - 4));
        }
        closedir(d);
        if (names)
                qsort(names, strv_length(names), sizeof(char *), cmp_str);
        return names;
}

int main(void)
{
        const char *src = getenv("LV_SOURCE_ROOT");
        if (!src) {
                fprintf(stderr, "LV_SOURCE_ROOT not set\n");
                return 1;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "skip: needs root (network namespace, taps, loop devices)\n");
                return QT_SKIP;
        }
        if (!qt_qemu_binary() || qt_run("qemu-img --version >/dev/null 2>&1") != 0) {
                fprintf(stderr, "skip: qemu-system-x86_64 or qemu-img missing\n");
                return QT_SKIP;
        }
        if (qt_test_guest(&guest_kernel, &guest_initrd) != 0)
                return QT_SKIP;
        if (unshare(CLONE_NEWNET) < 0) {
                perror("skip: unshare(CLONE_NEWNET)");
                return QT_SKIP;
        }
        qt_run("ip link set lo up");
        /* getaddrinfo(AI_ADDRCONFIG) (SPICE) wants a non-loopback IPv4
         * address before it resolves 127.0.0.1 */
        if (qt_run("ip link add lvacc0 type veth peer name lvacc1 2>/dev/null") != 0 ||
            qt_run("ip addr add 192.0.2.1/24 dev lvacc0 && ip link set lvacc0 up && "
                   "ip link set lvacc1 up") != 0)
                fprintf(stderr, "note: no veth in the test namespace: SPICE may fail\n");
        /* libvirt's graphics-vnc listens on this address */
        qt_run("ip -6 addr add 2001:1:2:3:4:5:1234:1234/128 dev lo nodad 2>/dev/null");
        tmp = qt_tmpdir("qemu-accept");
        atexit(cleanup);

        _cleanup_free_ char *dir = xasprintf("%s/tests/data/qemu", src);
        _cleanup_strv_free_ char **names = list_xml(dir);
        for (size_t i = 0; names && names[i]; i++)
                accept_one(dir, names[i]);

        bool skip = false;
        _cleanup_free_ char *pdir = libvirt_tests_dir("qemuxml2argvdata", &skip);
        if (!pdir && !skip)
                FAIL("libvirt's qemuxml2argvdata is missing");
        _cleanup_strv_free_ char **pnames = pdir ? list_xml(pdir) : NULL;
        _cleanup_strv_free_ char **sample = NULL;
        for (size_t i = 0; pnames && pnames[i]; i++)
                if (supported(pdir, pnames[i]))
                        strv_push(&sample, xstrdup(pnames[i]));
        size_t n = strv_length(sample),
               want = streq(getenv("LV_TEST_ALL_VECTORS"), "1") ? n : SAMPLE;
        if (pdir && n == 0)
                FAIL("no libvirt vector is supported by litevirt");
        for (size_t k = 0; k < n && k < want; k++)
                compare_one(pdir, sample[n <= want ? k : k * n / want]);
        fprintf(stderr, "%zu of %zu supported libvirt vectors run by QEMU\n", n < want ? n : want,
                n);
        fprintf(stderr, "%d failure(s)\n", failures);
        free(guest_kernel);
        free(guest_initrd);
        return failures ? 1 : 0;
}
