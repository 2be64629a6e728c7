/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh snapshot-create-as, snapshot-list, snapshot-info, snapshot-delete,
 * snapshot-revert (docs/snapshot.md): the supervisor makes a snapshot
 * (SnapshotCreate); the rest reads or removes its metadata,
 * $GUESTDIR/NAME.snapshots/SNAP.json. */
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <time.h>

#include "lib/methods.h"
#include "litevirt/litevirt.h"
#include "qemu/image.h"
#include "tools/lvsh-common.h"
#include "tools/lvsh-list.h"
#include "util/fileio.h"
#include "util/paths.h"

static const struct lvsh_command *cmd_find(const char *name);

/* A snapshot may write a guest's memory: as long as a save. */
#define SNAPSHOT_CALL_TIMEOUT_MS (3600 * 1000)

static int cmd_snapshot_create_as(int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = cmd_find("snapshot-create-as");
        const char *pos[2] = {NULL, NULL}, *desc = NULL, *snap = NULL;
        int npos = 0;
        bool disk_only = false, quiesce = false;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if ((streq(a, "--description") || streq(a, "--name")) && i + 1 < argc)
                        *(streq(a, "--name") ? &snap : &desc) = argv[++i];
                else if (streq(a, "--disk-only"))
                        disk_only = true;
                else if (streq(a, "--quiesce"))
                        quiesce = true;
                else if (streq(a, "--atomic"))
                        continue; /* always: all disks or none */
                else if (startswith(a, "--"))
                        return lvsh_usage_error(cmd, err, "unknown option '%s'", a);
                else if (npos < 2)
                        pos[npos++] = a;
                else
                        return lvsh_usage_error(cmd, err, "unexpected argument '%s'", a);
        }
        if (npos < 1 || (npos == 2 && snap))
                return lvsh_usage_error(cmd, err, "expected a domain NAME and a snapshot name");
        if (npos == 2)
                snap = pos[1];
        char stamp[32]; /* as virsh: the time as the name */
        if (!snap) {
                snprintf(stamp, sizeof(stamp), "%lld", (long long)time(NULL));
                snap = stamp;
        }
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "snapshot", json_object_new_string(snap));
        if (desc)
                json_object_object_add(p, "description", json_object_new_string(desc));
        if (disk_only)
                json_object_object_add(p, "diskOnly", json_object_new_boolean(true));
        if (quiesce)
                json_object_object_add(p, "quiesce", json_object_new_boolean(true));
        lv_conn *c = NULL;
        int r = lvsh_connect(pos[0], &c, err);
        if (r < 0) {
                json_object_put(p);
                return r;
        }
        lv_client_error *ce = NULL;
        lv_conn_set_timeout(c, SNAPSHOT_CALL_TIMEOUT_MS);
        r = lv_call(c, LV_METHOD_SNAPSHOT, p, NULL, &ce);
        json_object_put(p);
        lv_disconnect(c);
        if (r < 0)
                return lvsh_error_from_client(err, ce);
        printf("Domain snapshot %s created\n", snap);
        return 0;
}

/* ---- the metadata ---- */

struct snaps {
        struct json_object **s; /* oldest first */
        int n;
};

static void snaps_clear(struct snaps *l)
{
        for (int i = 0; i < l->n; i++)
                json_object_put(l->s[i]);
        free(l->s);
}

static long long snap_time(struct json_object *s)
{
        long long t = 0;
        (void)lvsh_json_i64(s, "creationTime", &t);
        return t;
}

static int snap_cmp(const void *a, const void *b)
{
        struct json_object *x = *(struct json_object *const *)a,
                           *y = *(struct json_object *const *)b;
        long long tx = snap_time(x), ty = snap_time(y);
        if (tx != ty)
                return tx < ty ? -1 : 1;
        return strcmp(lvsh_json_str(x, "name", ""), lvsh_json_str(y, "name", ""));
}

/* NAME's snapshots; no directory: none. */
static int snaps_load(const char *name, struct snaps *ret, struct lv_error **err)
{
        *ret = (struct snaps){0};
        if (!lvsh_name_is_safe(name) || !lvsh_guest_exists(name))
                return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'", name);
        _cleanup_free_ char *dir = paths_snapshot_dir(name);
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : lv_error_set(err, errno, "'%s'", dir);
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (de->d_name[0] == '.' || len < 6 || !streq(de->d_name + len - 5, ".json"))
                        continue;
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
                struct json_object *s = json_object_from_file(path);
                if (!s || !json_object_is_type(s, json_type_object)) {
                        json_object_put(s);
                        r = lv_error_setf(err, EINVAL, "snapshot metadata '%s' is not valid JSON",
                                          path);
                        break;
                }
                ret->s = xrealloc(ret->s, (size_t)(ret->n + 1) * sizeof(*ret->s));
                ret->s[ret->n++] = s;
        }
        closedir(d);
        if (r < 0) {
                snaps_clear(ret);
                return r;
        }
        if (ret->n)
                qsort(ret->s, (size_t)ret->n, sizeof(*ret->s), snap_cmp);
        return 0;
}

/* (lvsh-common.h) undefine: how many snapshots NAME has; removing their
 * metadata and memory images (the directory, not the overlays: they are
 * the guest's disks). */
int lvsh_snapshot_count(const char *name)
{
        struct snaps l;
        _cleanup_error_ struct lv_error *e = NULL;
        if (snaps_load(name, &l, &e) < 0)
                return 1; /* unreadable metadata still counts: not lost silently */
        int n = l.n;
        snaps_clear(&l);
        return n;
}

int lvsh_snapshot_metadata_remove(const char *name, struct lv_error **err)
{
        _cleanup_free_ char *dir = paths_snapshot_dir(name);
        return rm_rf(dir, err);
}

static int snaps_find(const struct snaps *l, const char *snap)
{
        for (int i = 0; i < l->n; i++)
                if (streq(lvsh_json_str(l->s[i], "name", ""), snap))
                        return i;
        return -1;
}

static const char *snap_disk(struct json_object *s, const char *key)
{
        struct json_object *disks;
        if (!json_object_object_get_ex(s, "disks", &disks) || json_object_array_length(disks) == 0)
                return "";
        return lvsh_json_str(json_object_array_get_idx(disks, 0), key, "");
}

/* The snapshot whose overlay s was made over, or -1. */
static int snap_parent(const struct snaps *l, int i)
{
        const char *backing = snap_disk(l->s[i], "backing");
        for (int k = 0; k < l->n; k++)
                if (k != i && *backing && streq(snap_disk(l->s[k], "source"), backing))
                        return k;
        return -1;
}

/* The arguments (a domain NAME, and SNAP with npos 2), NAME's snapshots
 * and (npos 2) SNAP's index in them. */
static int snaps_args(const char *cmdname, int argc, char **argv, const char *const *flags,
                      bool *set, const char **pos, int npos, struct snaps *l, int *ret_i,
                      struct lv_error **err)
{
        const struct lvsh_command *cmd = cmd_find(cmdname);
        int n = 0;
        int r = lvsh_args_split(cmd, argc, argv, flags, set, pos, npos, &n, err);
        if (r < 0)
                return r;
        if (n != npos)
                return lvsh_usage_error(cmd, err,
                                        npos == 1 ? "expected a domain NAME"
                                                  : "expected a domain NAME and a "
                                                    "snapshot name");
        if ((r = snaps_load(pos[0], l, err)) < 0 || npos == 1)
                return r;
        if ((*ret_i = snaps_find(l, pos[1])) < 0) {
                snaps_clear(l);
                return lv_error_setf(err, LV_ERR_NO_DOMAIN,
                                     "Domain snapshot not found: no domain snapshot with "
                                     "matching name '%s'",
                                     pos[1]);
        }
        return 0;
}

static int cmd_snapshot_list(int argc, char **argv, struct lv_error **err)
{
        const char *pos[1];
        struct snaps l;
        int r = snaps_args("snapshot-list", argc, argv, NULL, NULL, pos, 1, &l, NULL, err);
        if (r < 0)
                return r;
        int w = 4;
        for (int i = 0; i < l.n; i++) {
                int len = (int)strlen(lvsh_json_str(l.s[i], "name", ""));
                w = len > w ? len : w;
        }
        printf(" %-*s   %-25s   %s\n", w, "Name", "Creation Time", "State");
        for (int i = 0; i < w + 46; i++)
                putchar('-');
        putchar('\n');
        for (int i = 0; i < l.n; i++) {
                time_t t = (time_t)snap_time(l.s[i]);
                struct tm tm;
                char when[64];
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", localtime_r(&t, &tm));
                printf(" %-*s   %-25s   %s\n", w, lvsh_json_str(l.s[i], "name", ""), when,
                       lvsh_json_str(l.s[i], "state", ""));
        }
        putchar('\n');
        snaps_clear(&l);
        return 0;
}

static int cmd_snapshot_info(int argc, char **argv, struct lv_error **err)
{
        const char *pos[2];
        struct snaps l;
        int i;
        int r = snaps_args("snapshot-info", argc, argv, NULL, NULL, pos, 2, &l, &i, err);
        if (r < 0)
                return r;
        int parent = snap_parent(&l, i), children = 0, descendants = 0;
        for (int k = 0; k < l.n; k++) {
                int p = snap_parent(&l, k);
                children += p == i;
                for (int hops = 0; p >= 0 && hops < l.n; hops++, p = snap_parent(&l, p))
                        if (p == i) {
                                descendants++;
                                break;
                        }
        }
        printf("%-15s %s\n", "Name:", pos[1]);
        printf("%-15s %s\n", "Domain:", pos[0]);
        printf("%-15s %s\n", "Current:", i == l.n - 1 ? "yes" : "no");
        printf("%-15s %s\n", "State:", lvsh_json_str(l.s[i], "state", ""));
        printf("%-15s %s\n", "Location:", "external");
        printf("%-15s %s\n", "Parent:", parent >= 0 ? lvsh_json_str(l.s[parent], "name", "") : "-");
        printf("%-15s %d\n", "Children:", children);
        printf("%-15s %d\n", "Descendants:", descendants);
        printf("%-15s %s\n", "Metadata:", "yes");
        const char *desc = lvsh_json_str(l.s[i], "description", NULL);
        if (desc)
                printf("%-15s %s\n", "Description:", desc);
        const char *mem = lvsh_json_str(l.s[i], "memory", NULL);
        if (mem)
                printf("%-15s %s\n", "Memory:", mem);
        struct json_object *disks;
        if (json_object_object_get_ex(l.s[i], "disks", &disks))
                for (size_t k = 0; k < json_object_array_length(disks); k++) {
                        struct json_object *d = json_object_array_get_idx(disks, k);
                        printf("%-15s %s %s (over %s)\n", "Disk:", lvsh_json_str(d, "target", ""),
                               lvsh_json_str(d, "source", ""), lvsh_json_str(d, "backing", ""));
                }
        putchar('\n');
        snaps_clear(&l);
        return 0;
}

static int cmd_snapshot_delete(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"--metadata", NULL};
        bool set[1] = {false};
        const char *pos[2];
        struct snaps l;
        int i;
        int r = snaps_args("snapshot-delete", argc, argv, flags, set, pos, 2, &l, &i, err);
        if (r < 0)
                return r;
        snaps_clear(&l);
        if (!set[0])
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "Failed to delete snapshot %s\nerror: deleting an external "
                                     "snapshot's data (merging its overlays back) is not "
                                     "supported yet; --metadata removes only the metadata",
                                     pos[1]);
        _cleanup_free_ char *dir = paths_snapshot_dir(pos[0]);
        _cleanup_free_ char *meta = xasprintf("%s/%s.json", dir, pos[1]);
        if (unlink(meta) < 0)
                return lv_error_set(err, errno, "Failed to delete snapshot %s\nerror: '%s'", pos[1],
                                    meta);
        printf("Domain snapshot %s deleted\n\n", pos[1]);
        return 0;
}

/* ---- snapshot-revert ---- */

/* One disk of a revert: the snapshot's image under its overlay and the
 * new overlay made over it. */
struct revert_disk {
        const char *target, *backing, *format;
        char *overlay;
};

/* A new overlay over each disk's image (SNAP-N, the first N free), all or
 * none. */
static int revert_overlays(const char *snap, struct revert_disk *d, int n, struct lv_error **err)
{
        int r = 0, k;
        for (k = 0; k < n && r >= 0; k++) {
                for (int seq = 1; seq < 1000; seq++) {
                        _cleanup_free_ char *suffix = xasprintf("%s-%d", snap, seq);
                        d[k].overlay = paths_snapshot_overlay(d[k].backing, suffix);
                        int fd = open(d[k].overlay, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                        if (fd >= 0) {
                                close(fd);
                                break;
                        }
                        if (errno != EEXIST) {
                                r = lv_error_set(err, errno, "disk '%s': creating '%s'",
                                                 d[k].target, d[k].overlay);
                                break;
                        }
                        free(TAKE_PTR(d[k].overlay));
                }
                if (r < 0)
                        break;
                if (!d[k].overlay)
                        r = lv_error_setf(err, EEXIST, "disk '%s': no free overlay name",
                                          d[k].target);
                else if ((r = qemu_image_overlay_create(d[k].overlay, d[k].backing, d[k].format, 0,
                                                        err)) < 0)
                        k++; /* its file is there: removed below */
        }
        if (r < 0)
                for (int j = 0; j < k && j < n; j++)
                        if (d[j].overlay) {
                                (void)unlink(d[j].overlay);
                                free(TAKE_PTR(d[j].overlay));
                        }
        return r;
}

/* def's disks on the new overlays, over the snapshot's images. */
static int revert_def(struct domain_def *def, const struct revert_disk *d, int n,
                      struct lv_error **err)
{
        for (int k = 0; k < n; k++) {
                struct domain_disk *disk = NULL;
                for (int i = 0; i < def->n_disks; i++)
                        if (streq(def->disks[i].target_dev, d[k].target))
                                disk = &def->disks[i];
                if (!disk)
                        return lv_error_setf(err, ENOENT,
                                             "the snapshot's disk '%s' is not in the definition",
                                             d[k].target);
                free(disk->source);
                free(disk->backing_source);
                disk->source = xstrdup(d[k].overlay);
                disk->format = DOMAIN_DISK_FORMAT_QCOW2;
                disk->backing_source = xstrdup(d[k].backing);
                disk->backing_format = streq(d[k].format, "qcow2") ? DOMAIN_DISK_FORMAT_QCOW2
                                                                   : DOMAIN_DISK_FORMAT_RAW;
        }
        return 0;
}

/* The snapshot's disks: each image it was taken over must still be
 * there (and its memory, for a full one). */
static int revert_disks(struct json_object *s, const char *memory, struct revert_disk **ret,
                        int *ret_n, struct lv_error **err)
{
        struct json_object *disks;
        int n = json_object_object_get_ex(s, "disks", &disks) &&
                                json_object_is_type(disks, json_type_array)
                        ? (int)json_object_array_length(disks)
                        : 0;
        if (n == 0)
                return lv_error_setf(err, EINVAL, "the snapshot's metadata names no disk");
        if (memory && access(memory, R_OK) < 0)
                return lv_error_set(err, errno, "the snapshot's memory image '%s' is gone", memory);
        struct revert_disk *d = xcalloc((size_t)n, sizeof(*d));
        for (int k = 0; k < n; k++) {
                struct json_object *o = json_object_array_get_idx(disks, (size_t)k);
                d[k] = (struct revert_disk){lvsh_json_str(o, "target", NULL),
                                            lvsh_json_str(o, "backing", NULL),
                                            lvsh_json_str(o, "backingFormat", "qcow2"), NULL};
                if (!d[k].target || !d[k].backing || !lvsh_name_is_safe(d[k].target) ||
                    d[k].backing[0] != '/' ||
                    (!streq(d[k].format, "qcow2") && !streq(d[k].format, "raw"))) {
                        free(d);
                        return lv_error_setf(err, EINVAL,
                                             "the snapshot's metadata: disk %d has no valid "
                                             "target, backing or backingFormat",
                                             k);
                }
                if (access(d[k].backing, R_OK) < 0) {
                        int e = errno;
                        lv_error_set(err, e, "disk '%s': the snapshot's image '%s' is gone",
                                     d[k].target, d[k].backing);
                        free(d);
                        return -e;
                }
        }
        *ret = d;
        *ret_n = n;
        return 0;
}

/* As libvirt (9.9 and later) reverts to an external snapshot: the guest
 * (stopped first if it runs) gets a new overlay over each image the
 * snapshot was taken over (the later overlays stay: other snapshots are
 * over them); a full snapshot's memory is then restored on them. */
static int snapshot_revert(const char *name, const char *snap, struct json_object *s, int running,
                           struct lv_error **err)
{
        _cleanup_free_ char *stored = paths_guest_xml(name);
        if (access(stored, F_OK) < 0)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: guest '%s' is transient "
                                     "(no stored definition to revert)",
                                     name);
        const char *memory = lvsh_json_str(s, "memory", NULL);
        struct revert_disk *d = NULL;
        int n = 0, r;
        _cleanup_domain_def_ struct domain_def *def = NULL, *image_def = NULL;
        if ((r = revert_disks(s, memory, &d, &n, err)) < 0)
                return r;
        if ((r = lvsh_domain_parse_file(stored, &def, err)) < 0 ||
            (memory && (r = lvsh_save_image_read(memory, &image_def, NULL, err)) < 0) ||
            (r = revert_overlays(snap, d, n, err)) < 0)
                goto out;
        if ((r = revert_def(def, d, n, err)) < 0 ||
            (image_def && (r = revert_def(image_def, d, n, err)) < 0))
                goto out_overlays;
        if (lvsh_guest_running(name, NULL) && (r = lvsh_guest_destroy(name, err)) < 0)
                goto out_overlays;
        if ((r = lvsh_domain_store(stored, def, err)) < 0)
                goto out_overlays;
        /* from here on the guest is reverted: it is shut off or starts */
        for (int k = 0; k < n; k++)
                free(TAKE_PTR(d[k].overlay));
        const char *state = lvsh_json_str(s, "state", "");
        if (image_def) {
                if (running < 0)
                        running = !streq(state, "paused");
                _cleanup_free_ char *xml = domain_format(image_def);
                _cleanup_free_ char *dir = paths_snapshot_dir(name);
                _cleanup_free_ char *file = xasprintf("%s/.revert-%s.xml", dir, snap);
                if ((r = file_write_atomic(file, xml, strlen(xml), 0600, err)) < 0)
                        goto out;
                const char *extra[] = {"--restore",
                                       memory,
                                       "--definition",
                                       file,
                                       running ? "--running" : "--paused",
                                       NULL};
                _cleanup_free_ char *what = xasprintf(
                        "reverted to snapshot '%s' but its memory could not be restored", snap);
                r = lvsh_supervisor_start(name, extra, what, err);
                (void)unlink(file);
        } else if (running >= 0) {
                const char *extra[] = {running ? NULL : "--paused", NULL};
                _cleanup_free_ char *what =
                        xasprintf("reverted to snapshot '%s' but could not start", snap);
                r = lvsh_supervisor_start(name, extra, what, err);
        }
        goto out;
out_overlays:
        for (int k = 0; k < n; k++)
                if (d[k].overlay)
                        (void)unlink(d[k].overlay);
out:
        for (int k = 0; k < n; k++)
                free(d[k].overlay);
        free(d);
        return r;
}

static int cmd_snapshot_revert(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"--running", "--paused", "--force", NULL};
        bool set[3] = {false, false, false};
        const char *pos[2];
        struct snaps l;
        int i;
        int r = snaps_args("snapshot-revert", argc, argv, flags, set, pos, 2, &l, &i, err);
        if (r < 0)
                return r;
        if (set[0] && set[1]) {
                snaps_clear(&l);
                return lvsh_usage_error(cmd_find("snapshot-revert"), err,
                                        "--running and --paused exclude each other");
        }
        r = snapshot_revert(pos[0], pos[1], l.s[i], set[0] ? 1 : set[1] ? 0 : -1, err);
        snaps_clear(&l);
        if (r < 0)
                return lv_error_prefix(err, "Failed to revert snapshot %s\nerror", pos[1]);
        return 0;
}

const struct lvsh_command lvsh_snapshot_commands[] = {
        {"snapshot-create-as",
         "NAME [SNAP] [--name SNAP] [--description TEXT] [--disk-only] [--atomic] [--quiesce]",
         "Create a snapshot from a set of args",
         "    An external snapshot of a running or paused guest: each writable\n"
         "    file-backed disk gets a qcow2 overlay beside its image (disk.qcow2 ->\n"
         "    disk.SNAP) which the guest writes from then on; the definition names\n"
         "    it, with the image as its <backingStore>. Without --disk-only the\n"
         "    memory too ($GUESTDIR/NAME.snapshots/SNAP.mem, a save image; the\n"
         "    guest's CPUs stop meanwhile, then it runs on). All disks or none\n"
         "    (--atomic is implied). --quiesce is refused (no guest agent yet).",
         cmd_snapshot_create_as},
        {"snapshot-list", "NAME", "List snapshots for a domain",
         "    Name, creation time and state of each snapshot, oldest first.", cmd_snapshot_list},
        {"snapshot-info", "NAME SNAP", "snapshot information",
         "    Current, state, parent (the snapshot whose overlay this one's is\n"
         "    over), children, description, memory file, disks.",
         cmd_snapshot_info},
        {"snapshot-delete", "NAME SNAP --metadata", "Delete a domain snapshot",
         "    --metadata: forgets the snapshot; its overlays stay in use. Without\n"
         "    it: refused (merging overlays back is not supported yet).",
         cmd_snapshot_delete},
        {"snapshot-revert", "NAME SNAP [--running|--paused] [--force]",
         "Revert a domain to a snapshot",
         "    The guest (destroyed first if it runs) gets a new overlay over each\n"
         "    image the snapshot was taken over (disk.SNAP-1, ...); the later\n"
         "    overlays stay for the other snapshots. A full snapshot's memory is\n"
         "    restored on them: the guest runs (or is paused, as it was then, or\n"
         "    as --running/--paused say). After a disk-only snapshot the guest is\n"
         "    shut off unless --running or --paused starts it. --force is accepted\n"
         "    (litevirt has no check it would override). Refused, changing\n"
         "    nothing, when the snapshot's images or memory are gone.",
         cmd_snapshot_revert},
        {0},
};

static const struct lvsh_command *cmd_find(const char *name)
{
        for (const struct lvsh_command *c = lvsh_snapshot_commands; c->name; c++)
                if (streq(c->name, name))
                        return c;
        return NULL;
}
