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

/* ---- snapshot-delete ---- */

/* Whether snapshot k descends from snapshot i. */
static bool snap_descends(const struct snaps *l, int k, int i)
{
        int p = snap_parent(l, k);
        for (int hops = 0; p >= 0 && hops < l->n; hops++, p = snap_parent(l, p))
                if (p == i)
                        return true;
        return false;
}

/* Forget snapshot i's metadata (its memory image stays, as the overlays
 * do: --metadata leaves the data). */
static int snap_metadata_unlink(const char *name, const char *snap, struct lv_error **err)
{
        _cleanup_free_ char *dir = paths_snapshot_dir(name);
        _cleanup_free_ char *meta = xasprintf("%s/%s.json", dir, snap);
        if (unlink(meta) < 0)
                return lv_error_set(err, errno, "'%s'", meta);
        return 0;
}

/* One disk of a delete: the snapshot's overlay, merged into the image
 * under it (backing), then removed. */
struct delete_disk {
        const char *target, *overlay, *backing, *format;
        char *child; /* the image over the overlay in the disk's chain; NULL: the active layer */
        char *under; /* the image under backing, or NULL */
};

static void delete_disks_free(struct delete_disk *d, int n)
{
        for (int k = 0; k < n; k++) {
                free(d[k].child);
                free(d[k].under);
        }
        free(d);
}

/* Checks each disk of snapshot i against def's disk chain, as libvirt
 * 9.x: the overlay must be in the chain the guest uses, right over the
 * image it was made over, and nothing else known over it (another
 * snapshot's overlay, an overlay a revert made over its image). */
static int delete_disk_check(const struct snaps *l, int i, const struct domain_def *def,
                             const char *snap, struct delete_disk *d, struct lv_error **err)
{
        int di = domain_disk_find(def, d->target);
        if (di < 0 || !def->disks[di].source)
                return lv_error_setf(err, ENOENT, "disk '%s' is not in the guest's definition",
                                     d->target);
        const char *top = def->disks[di].source;
        _cleanup_strv_free_ char **under = qemu_image_backing_chain(top);
        int k = streq(top, d->overlay) ? -1 : -2;
        for (int j = 0; k == -2 && under[j]; j++)
                if (streq(under[j], d->overlay))
                        k = j;
        if (k == -2)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "disk '%s': the snapshot's overlay '%s' is not in the chain "
                                     "the guest uses (over '%s'): deleting a snapshot outside "
                                     "the current chain is not supported",
                                     d->target, d->overlay, top);
        const char *below = under[k + 1];
        if (!below || !streq(below, d->backing))
                return lv_error_setf(err, EINVAL,
                                     "disk '%s': the overlay '%s' is over '%s', not over the "
                                     "snapshot's image '%s'",
                                     d->target, d->overlay, below ? below : "nothing", d->backing);
        d->child = xstrdup_null(k < 0 ? NULL : k == 0 ? top : under[k - 1]);
        d->under = xstrdup_null(under[k + 2]);
        for (int s = 0; s < l->n; s++) {
                struct json_object *disks;
                if (s == i || !json_object_object_get_ex(l->s[s], "disks", &disks))
                        continue;
                for (size_t j = 0; j < json_object_array_length(disks); j++) {
                        struct json_object *o = json_object_array_get_idx(disks, j);
                        const char *src = lvsh_json_str(o, "source", "");
                        if (streq(lvsh_json_str(o, "backing", ""), d->overlay) &&
                            !streq_ptr(src, d->child))
                                return lv_error_setf(
                                        err, LV_ERR_UNSUPPORTED,
                                        "disk '%s': snapshot '%s' ('%s') is over the overlay "
                                        "'%s' outside the chain the guest uses: deleting a "
                                        "snapshot with several children is not supported",
                                        d->target, lvsh_json_str(l->s[s], "name", ""), src,
                                        d->overlay);
                }
        }
        for (int seq = 1; seq < 1000; seq++) {
                _cleanup_free_ char *suffix = xasprintf("%s-%d", snap, seq);
                _cleanup_free_ char *rev = paths_snapshot_overlay(d->backing, suffix);
                if (access(rev, F_OK) == 0 && !streq_ptr(rev, d->child))
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "disk '%s': '%s' (made by a revert to the "
                                             "snapshot) is over '%s' too: merging the overlay "
                                             "into it would change it",
                                             d->target, rev, d->backing);
        }
        return 0;
}

/* A shut-off guest: qemu-img merges each overlay into its image; the
 * image over it (if any) is rebased onto that image, the stored
 * definition follows. An overlay merged stays usable until the definition
 * is stored (its data is in both). */
static int delete_merge_offline(const char *name, struct domain_def *def, struct delete_disk *d,
                                int n, struct lv_error **err)
{
        int r;
        for (int k = 0; k < n; k++)
                if ((r = qemu_image_commit(d[k].overlay, err)) < 0)
                        return lv_error_prefix(err, "disk '%s'", d[k].target);
        for (int k = 0; k < n; k++) {
                struct domain_disk *disk = &def->disks[domain_disk_find(def, d[k].target)];
                enum domain_disk_format fmt = streq(d[k].format, "qcow2") ? DOMAIN_DISK_FORMAT_QCOW2
                                                                          : DOMAIN_DISK_FORMAT_RAW;
                if (!d[k].child) {
                        free(disk->source);
                        disk->source = xstrdup(d[k].backing);
                        disk->format = fmt;
                        free(disk->backing_source);
                        disk->backing_source = xstrdup_null(d[k].under);
                        disk->backing_format = d[k].under && qemu_image_is_qcow2(d[k].under)
                                                       ? DOMAIN_DISK_FORMAT_QCOW2
                                                       : DOMAIN_DISK_FORMAT_RAW;
                        continue;
                }
                if ((r = qemu_image_rebase_unsafe(d[k].child, d[k].backing, d[k].format, err)) < 0)
                        return lv_error_prefix(err, "disk '%s'", d[k].target);
                if (streq_ptr(disk->backing_source, d[k].overlay)) {
                        free(disk->backing_source);
                        disk->backing_source = xstrdup(d[k].backing);
                        disk->backing_format = fmt;
                }
        }
        _cleanup_free_ char *stored = paths_guest_xml(name);
        return lvsh_domain_store(stored, def, err);
}

/* The snapshots over snapshot i's overlays are over its images now. */
static int delete_reparent(const char *name, const struct snaps *l, int i,
                           const struct delete_disk *d, int n, struct lv_error **err)
{
        _cleanup_free_ char *dir = paths_snapshot_dir(name);
        for (int s = 0; s < l->n; s++) {
                struct json_object *disks;
                bool changed = false;
                if (s == i || !json_object_object_get_ex(l->s[s], "disks", &disks))
                        continue;
                for (size_t j = 0; j < json_object_array_length(disks); j++) {
                        struct json_object *o = json_object_array_get_idx(disks, j);
                        for (int k = 0; k < n; k++)
                                if (streq(lvsh_json_str(o, "backing", ""), d[k].overlay)) {
                                        json_object_object_add(
                                                o, "backing", json_object_new_string(d[k].backing));
                                        json_object_object_add(o, "backingFormat",
                                                               json_object_new_string(d[k].format));
                                        changed = true;
                                }
                }
                if (!changed)
                        continue;
                _cleanup_free_ char *meta =
                        xasprintf("%s/%s.json", dir, lvsh_json_str(l->s[s], "name", ""));
                const char *text = json_object_to_json_string_ext(l->s[s], JSON_C_TO_STRING_PRETTY);
                int r = file_write_atomic(meta, text, strlen(text), 0600, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* As libvirt 9.x deletes an external snapshot: its overlays' data merged
 * into the images they were made over (a running guest: a block commit,
 * pivoted when the overlay is the active layer; shut off: qemu-img), the
 * definitions following the chain; then its files are removed. Refused,
 * changing nothing, when that is not a straight merge. */
static int snapshot_delete_data(const char *name, const char *snap, const struct snaps *l, int i,
                                struct lv_error **err)
{
        struct json_object *disks;
        int n = json_object_object_get_ex(l->s[i], "disks", &disks) &&
                                json_object_is_type(disks, json_type_array)
                        ? (int)json_object_array_length(disks)
                        : 0;
        if (n == 0)
                return lv_error_setf(err, EINVAL, "the snapshot's metadata names no disk");
        bool running = lvsh_guest_running(name, NULL);
        _cleanup_domain_def_ struct domain_def *def = NULL;
        int r = running ? lvsh_guest_load_running(name, &def, err)
                        : lvsh_guest_load(name, &def, err);
        if (r < 0)
                return r;
        struct delete_disk *d = xcalloc((size_t)n, sizeof(*d));
        for (int k = 0; k < n && r >= 0; k++) {
                struct json_object *o = json_object_array_get_idx(disks, (size_t)k);
                d[k] = (struct delete_disk){lvsh_json_str(o, "target", NULL),
                                            lvsh_json_str(o, "source", NULL),
                                            lvsh_json_str(o, "backing", NULL),
                                            lvsh_json_str(o, "backingFormat", "qcow2"),
                                            NULL,
                                            NULL};
                if (!d[k].target || !d[k].overlay || !d[k].backing ||
                    (!streq(d[k].format, "qcow2") && !streq(d[k].format, "raw")))
                        r = lv_error_setf(err, EINVAL,
                                          "the snapshot's metadata: disk %d has no valid target, "
                                          "source, backing or backingFormat",
                                          k);
                else
                        r = delete_disk_check(l, i, def, snap, &d[k], err);
        }
        if (r < 0)
                goto out;
        if (running) {
                for (int k = 0; k < n; k++)
                        if ((r = lvsh_block_commit_run(name, d[k].target,
                                                       d[k].child ? d[k].overlay : NULL,
                                                       d[k].backing, err)) < 0) {
                                if (k > 0)
                                        lv_error_prefix(err, "the disks before '%s' are merged",
                                                        d[k].target);
                                goto out;
                        }
        } else if ((r = delete_merge_offline(name, def, d, n, err)) < 0) {
                goto out;
        }
        /* merged: the snapshot's files go */
        if ((r = delete_reparent(name, l, i, d, n, err)) < 0)
                goto out;
        for (int k = 0; k < n; k++)
                if (unlink(d[k].overlay) < 0 && errno != ENOENT)
                        fprintf(stderr, "warning: removing '%s': %s\n", d[k].overlay,
                                strerror(errno));
        const char *memory = lvsh_json_str(l->s[i], "memory", NULL);
        if (memory && unlink(memory) < 0 && errno != ENOENT)
                fprintf(stderr, "warning: removing '%s': %s\n", memory, strerror(errno));
        r = snap_metadata_unlink(name, snap, err);
out:
        delete_disks_free(d, n);
        return r;
}

static int cmd_snapshot_delete(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"--metadata", "--children", "--children-only", NULL};
        bool set[3] = {false, false, false};
        const char *pos[2];
        struct snaps l;
        int i;
        int r = snaps_args("snapshot-delete", argc, argv, flags, set, pos, 2, &l, &i, err);
        if (r < 0)
                return r;
        if (set[1] && set[2])
                r = lvsh_usage_error(cmd_find("snapshot-delete"), err,
                                     "--children and --children-only exclude each other");
        else if (!set[0] && (set[1] || set[2]))
                /* as libvirt 9.x */
                r = lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                  "deletion of external disk snapshots with children not "
                                  "supported");
        else if (!set[0])
                r = snapshot_delete_data(pos[0], pos[1], &l, i, err);
        else
                for (int k = 0; k < l.n && r >= 0; k++)
                        if ((k == i && !set[2]) || ((set[1] || set[2]) && snap_descends(&l, k, i)))
                                r = snap_metadata_unlink(pos[0], lvsh_json_str(l.s[k], "name", ""),
                                                         err);
        snaps_clear(&l);
        if (r < 0)
                return lv_error_prefix(err, "Failed to delete snapshot %s\nerror", pos[1]);
        if (set[2])
                printf("Domain snapshot %s children deleted\n\n", pos[1]);
        else
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
        {"snapshot-delete", "NAME SNAP [--metadata] [--children|--children-only]",
         "Delete a domain snapshot",
         "    Merges the snapshot's overlays into the images they were made over\n"
         "    (a running guest: a block commit, pivoted when the overlay is the\n"
         "    active layer; shut off: qemu-img commit, the image over it rebased),\n"
         "    then removes them, its memory image and its metadata. Refused,\n"
         "    changing nothing, for an overlay outside the chain the guest uses\n"
         "    or with several children, and with --children/--children-only.\n"
         "    --metadata: only forgets the snapshot (with --children its\n"
         "    descendants too, --children-only those alone); the files stay.",
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
