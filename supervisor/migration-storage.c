/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Storage migration (--copy-storage-all, --copy-storage-inc), the
 * supervisors' part (docs/migration.md, "Migration without shared
 * storage"): which disks are copied, their description in Prepare, the
 * destination's images made when missing (and removed again if the guest
 * does not arrive), the NBD export's address in Prepare's answer, the
 * source's mirrors around QEMU's memory stream. The driver does the
 * copying (lv_migration_ops.storage_*). */
#include "supervisor/migration.h"
#include "supervisor/migration_priv.h"

#include <json-c/json.h>
#include <sys/stat.h>

#include "util/fileio.h"
#include "util/log.h"

/* As libvirt: every writable, non-shareable disk with a source. */
static bool disk_copied(const struct domain_disk *d)
{
        return d->source && !d->readonly && !d->shareable && d->device == DOMAIN_DISK_DEVICE_DISK;
}

static int disks_count(const struct domain_def *def)
{
        int n = 0;
        for (int i = 0; i < def->n_disks; i++)
                n += disk_copied(&def->disks[i]);
        return n;
}

void migration_storage_free(struct migration_storage *s)
{
        if (!s)
                return;
        /* images made for a guest that did not arrive: nothing is left */
        for (int i = 0; i < s->n_created; i++) {
                if (!s->keep && unlink(s->created[i]) == 0)
                        log_info("migration: removed '%s' (made for the guest)", s->created[i]);
                free(s->created[i]);
        }
        free(s->created);
        for (int i = 0; i < s->n; i++)
                free(s->disks[i].backing);
        free(s->disks);
        free(s);
}

static const struct lv_migration_ops *storage_ops(const struct lv_driver *drv,
                                                  struct lv_error **err)
{
        const struct lv_migration_ops *ops = drv ? drv->migration : NULL;
        if (!ops || !ops->storage_mirror || !ops->storage_export)
                lv_error_setf(err, LV_ERR_UNSUPPORTED,
                              "the %s driver cannot copy storage during a migration",
                              drv ? drv->name : "guest's");
        return ops && ops->storage_mirror && ops->storage_export ? ops : NULL;
}

/* ---- source ---- */

int migration_storage_source_new(struct supervisor *sv, bool incremental,
                                 struct migration_storage **ret, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        const struct lv_migration_ops *ops = storage_ops(sv->driver, err);
        if (!ops)
                return -EOPNOTSUPP;
        struct migration_storage *s = xcalloc(1, sizeof(*s));
        s->incremental = incremental;
        s->disks = xcalloc((size_t)disks_count(g->def) + 1, sizeof(*s->disks));
        for (int i = 0; i < g->def->n_disks; i++)
                if (disk_copied(&g->def->disks[i]))
                        s->disks[s->n++].index = i;
        int r = ops->storage_info(g, s->disks, s->n, err);
        if (r < 0) {
                migration_storage_free(s);
                return lv_error_prefix(err, "guest '%s': its disks", g->name);
        }
        *ret = s;
        return 0;
}

void migration_storage_prepare_add(const struct lv_guest *g, const struct migration_storage *s,
                                   struct json_object *m)
{
        json_object_object_add(m, "copy_storage",
                               json_object_new_string(s->incremental ? "inc" : "all"));
        struct json_object *a = json_object_new_array();
        for (int i = 0; i < s->n; i++) {
                const struct lv_migration_disk *d = &s->disks[i];
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "target",
                                       json_object_new_string(g->def->disks[d->index].target_dev));
                json_object_object_add(o, "size", json_object_new_int64((int64_t)d->size));
                json_object_object_add(o, "format", json_object_new_string(d->format));
                if (d->backing) {
                        json_object_object_add(o, "backing", json_object_new_string(d->backing));
                        json_object_object_add(o, "backing_format",
                                               json_object_new_string(d->backing_format));
                }
                json_object_array_add(a, o);
        }
        json_object_object_add(m, "disks", a);
}

int migration_storage_source_mirror(struct supervisor *sv, struct migration_storage *s,
                                    struct json_object *reply, int timeout_s, const bool *aborted,
                                    struct lv_error **err)
{
        struct json_object *nbd = NULL, *v;
        const char *host = NULL;
        int port = 0;
        if (json_object_object_get_ex(reply, "nbd", &nbd) &&
            json_object_is_type(nbd, json_type_object)) {
                host = migration_jstr(nbd, "host");
                if (json_object_object_get_ex(nbd, "port", &v) &&
                    json_object_is_type(v, json_type_int))
                        port = json_object_get_int(v);
        }
        if (!host || !*host || strlen(host) > 255 || port < 1 || port > 65535)
                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                     "the destination gave no NBD server for the disks (does it "
                                     "support --copy-storage?)");
        log_info("migration: copying %d disk(s) to %s:%d (%s)", s->n, host, port,
                 s->incremental ? "top layer" : "whole");
        s->mirroring = true;
        return sv->driver->migration->storage_mirror(&sv->g, s->disks, s->n, host, port,
                                                     s->incremental, timeout_s, aborted, err);
}

int migration_storage_source_end(struct supervisor *sv, struct migration_storage *s, bool complete,
                                 struct lv_error **err)
{
        if (!s || !s->mirroring)
                return 0;
        s->mirroring = false;
        return sv->driver->migration->storage_mirror_end(&sv->g, s->disks, s->n, complete, err);
}

void migration_storage_job_info(struct supervisor *sv, struct migration_storage *s,
                                struct json_object *o)
{
        unsigned long long done = 0, total = 0;
        const struct lv_migration_ops *ops = sv->driver->migration;
        if (!s || !s->mirroring || !ops->storage_progress ||
            ops->storage_progress(&sv->g, &done, &total, NULL) < 0)
                return;
        json_object_object_add(o, "disk_processed", json_object_new_int64((int64_t)done));
        json_object_object_add(o, "disk_total", json_object_new_int64((int64_t)total));
        json_object_object_add(
                o, "disk_remaining",
                json_object_new_int64((int64_t)(total - (done < total ? done : total))));
        /* as libvirt: data = memory + disks */
        static const char *const keys[] = {"data_processed", "data_total", "data_remaining"};
        unsigned long long add[] = {done, total, total - (done < total ? done : total)};
        for (int i = 0; i < 3; i++) {
                struct json_object *v = NULL;
                long long x = json_object_object_get_ex(o, keys[i], &v)
                                      ? (long long)json_object_get_int64(v)
                                      : 0;
                json_object_object_add(o, keys[i], json_object_new_int64(x + (int64_t)add[i]));
        }
}

/* ---- destination ---- */

static int disk_parse(struct json_object *o, const struct domain_def *def,
                      struct lv_migration_disk *d, struct lv_error **err)
{
        struct json_object *v;
        const char *target = migration_jstr(o, "target");
        const char *format = migration_jstr(o, "format");
        const char *backing = migration_jstr(o, "backing");
        const char *bformat = migration_jstr(o, "backing_format");
        d->index = -1;
        for (int i = 0; target && i < def->n_disks; i++)
                if (streq(def->disks[i].target_dev, target) && disk_copied(&def->disks[i]))
                        d->index = i;
        if (d->index < 0)
                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                     "prepare: disk '%s' is not a writable disk of the guest",
                                     target ? target : "?");
        if (!json_object_object_get_ex(o, "size", &v) || !json_object_is_type(v, json_type_int) ||
            json_object_get_int64(v) <= 0)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "prepare: disk '%s': no size", target);
        d->size = (unsigned long long)json_object_get_int64(v);
        if (!format || strlen(format) >= sizeof(d->format) ||
            (bformat && strlen(bformat) >= sizeof(d->backing_format)))
                return lv_error_setf(err, LV_ERR_PROTOCOL, "prepare: disk '%s': bad format",
                                     target);
        snprintf(d->format, sizeof(d->format), "%s", format);
        snprintf(d->backing_format, sizeof(d->backing_format), "%s", bformat ? bformat : "");
        d->backing = xstrdup_null(backing);
        return 0;
}

int migration_storage_incoming_parse(struct json_object *prepare, const struct domain_def *def,
                                     struct migration_storage **ret, struct lv_error **err)
{
        const char *mode = migration_jstr(prepare, "copy_storage");
        *ret = NULL;
        if (!mode)
                return 0;
        if (!streq(mode, "all") && !streq(mode, "inc"))
                return lv_error_setf(err, LV_ERR_PROTOCOL, "prepare: copy_storage '%s'", mode);
        struct json_object *a = NULL;
        json_object_object_get_ex(prepare, "disks", &a);
        int n = json_object_is_type(a, json_type_array) ? (int)json_object_array_length(a) : -1;
        if (n != disks_count(def))
                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                     "prepare: %d disk(s) to copy, the guest has %d writable", n,
                                     disks_count(def));
        struct migration_storage *s = xcalloc(1, sizeof(*s));
        s->incremental = streq(mode, "inc");
        s->disks = xcalloc((size_t)n + 1, sizeof(*s->disks));
        for (int i = 0; i < n; i++, s->n++) {
                if (disk_parse(json_object_array_get_idx(a, i), def, &s->disks[i], err) < 0) {
                        migration_storage_free(s);
                        return -EPROTO;
                }
        }
        *ret = s;
        return 0;
}

/* A missing image made as the source's is, under a temporary name first
 * (a half-made image is never at the disk's path). */
static int image_create(const struct lv_migration_ops *ops, const struct domain_disk *dd,
                        const struct lv_migration_disk *d, struct lv_error **err)
{
        if (dd->type != DOMAIN_DISK_FILE)
                return lv_error_setf(err, ENOENT, "disk '%s': block device '%s' does not exist",
                                     dd->target_dev, dd->source);
        if (!ops->storage_create)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED, "disk '%s': '%s' does not exist",
                                     dd->target_dev, dd->source);
        _cleanup_free_ char *tmp = xasprintf("%s.lv-migrating-%d", dd->source, (int)getpid());
        int r = ops->storage_create(d, tmp, err);
        if (r >= 0 && link(tmp, dd->source) < 0)
                r = lv_error_set(err, errno, "'%s'", dd->source);
        (void)unlink(tmp);
        if (r < 0)
                return lv_error_prefix(err, "disk '%s': making its image", dd->target_dev);
        log_info("migration: made '%s' (%s, %llu bytes)", dd->source, d->format, d->size);
        return 0;
}

int migration_storage_incoming_create(const struct lv_driver *drv, const struct domain_def *def,
                                      struct migration_storage *s, struct lv_error **err)
{
        const struct lv_migration_ops *ops = storage_ops(drv, err);
        if (!ops)
                return -EOPNOTSUPP;
        s->created = xcalloc((size_t)s->n + 1, sizeof(char *));
        for (int i = 0; i < s->n; i++) {
                const struct domain_disk *dd = &def->disks[s->disks[i].index];
                struct stat st;
                if (stat(dd->source, &st) == 0)
                        continue;
                if (errno != ENOENT)
                        return lv_error_set(err, errno, "disk '%s': '%s'", dd->target_dev,
                                            dd->source);
                int r = image_create(ops, dd, &s->disks[i], err);
                if (r < 0)
                        return r;
                s->created[s->n_created++] = xstrdup(dd->source);
        }
        return 0;
}

int migration_storage_incoming_export(struct supervisor *sv, struct migration_storage *s,
                                      struct json_object *reply, const char *host,
                                      struct lv_error **err)
{
        int port = 0;
        int r = sv->driver->migration->storage_export(&sv->g, s->disks, s->n, &port, err);
        if (r < 0)
                return r;
        s->exported = true;
        struct json_object *nbd = json_object_new_object();
        json_object_object_add(nbd, "host", json_object_new_string(host));
        json_object_object_add(nbd, "port", json_object_new_int(port));
        json_object_object_add(reply, "nbd", nbd);
        log_info("migration: disks served to the source on %s:%d (NBD)", host, port);
        return 0;
}

void migration_storage_incoming_end(struct supervisor *sv, struct migration_storage *s,
                                    bool arrived)
{
        if (!s)
                return;
        if (s->exported && sv->driver->migration->storage_unexport)
                sv->driver->migration->storage_unexport(&sv->g, s->disks, s->n);
        s->exported = false;
        s->keep = arrived;
}
