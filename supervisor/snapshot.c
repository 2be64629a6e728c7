/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* External snapshots of a running guest (docs/snapshot.md): a qcow2
 * overlay over each writable file-backed disk (the driver's
 * snapshot_disks), the running and stored definitions then naming the
 * overlay with the old image as its <backingStore>, and, for a full
 * snapshot, the guest's memory in a save image (save.c) taken while its
 * CPUs are stopped. Metadata: $GUESTDIR/NAME.snapshots/SNAP.json. */
#include <ctype.h>
#include <json-c/json.h>
#include <libgen.h>
#include <time.h>

#include "supervisor/supervisor.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/paths.h"

/* A file name of its own in the snapshot directory and a suffix of the
 * overlays' names. */
static int snapshot_name_check(const char *snap, struct lv_error **err)
{
        size_t len = snap ? strlen(snap) : 0;
        if (len == 0 || len > 64)
                return lv_error_setf(err, EINVAL,
                                     "snapshot name '%s' is invalid: 1 to 64 characters",
                                     snap ? snap : "");
        if (snap[0] == '.' || snap[0] == '-')
                return lv_error_setf(err, EINVAL,
                                     "snapshot name '%s' is invalid: it starts with '%c'", snap,
                                     snap[0]);
        for (const char *p = snap; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("._-+", *p))
                        return lv_error_setf(err, EINVAL,
                                             "snapshot name '%s' is invalid: character '%c' (only "
                                             "letters, digits and . _ - +)",
                                             snap, *p);
        return 0;
}

/* The disks to overlay: every writable disk; a disk litevirt cannot
 * overlay is an error, no disk at all too. */
static int disks_select(const struct lv_guest *g, const char *snap, struct lv_disk_overlay **ret,
                        int *ret_n, struct lv_error **err)
{
        const struct domain_def *def = g->def;
        struct lv_disk_overlay *o = NULL;
        int n = 0;
        for (int i = 0; i < def->n_disks; i++) {
                const struct domain_disk *d = &def->disks[i];
                if (!d->source || d->readonly || d->device == DOMAIN_DISK_DEVICE_CDROM)
                        continue; /* nothing the guest writes */
                const char *why = d->type != DOMAIN_DISK_FILE ? "it is not a file (type 'block')"
                                  : d->shareable              ? "it is <shareable/>"
                                                              : NULL;
                if (why) {
                        for (int k = 0; k < n; k++)
                                free((char *)o[k].overlay);
                        free(o);
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': disk '%s' ('%s') cannot have a qcow2 "
                                             "overlay: %s",
                                             g->name, d->target_dev, d->source, why);
                }
                o = xrealloc(o, (size_t)(n + 1) * sizeof(*o));
                o[n++] = (struct lv_disk_overlay){
                        .disk = i, .overlay = paths_snapshot_overlay(d->source, snap)};
        }
        if (n == 0)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s' has no disk to snapshot (an external snapshot "
                                     "needs a writable file-backed disk)",
                                     g->name);
        *ret = o;
        *ret_n = n;
        return 0;
}

static void disk_overlaid(struct domain_disk *d, const char *overlay)
{
        free(d->backing_source);
        d->backing_source = d->source;
        d->backing_format = d->format == DOMAIN_DISK_FORMAT_QCOW2 ? DOMAIN_DISK_FORMAT_QCOW2
                                                                  : DOMAIN_DISK_FORMAT_RAW;
        d->source = xstrdup(overlay);
        d->format = DOMAIN_DISK_FORMAT_QCOW2;
}

/* The stored definition names the overlays too (a persistent guest). */
static int stored_update(struct lv_guest *g, const struct lv_disk_overlay *o, int n,
                         struct lv_error **err)
{
        _cleanup_free_ char *path = paths_guest_xml(g->name);
        if (access(path, F_OK) < 0)
                return 0;
        _cleanup_domain_def_ struct domain_def *stored = NULL;
        int r = supervisor_definition_load(g->name, &stored, err);
        if (r < 0)
                return r;
        for (int k = 0; k < n; k++) {
                const struct domain_disk *run = &g->def->disks[o[k].disk];
                for (int i = 0; i < stored->n_disks; i++)
                        if (streq(stored->disks[i].target_dev, run->target_dev) &&
                            stored->disks[i].source &&
                            streq(stored->disks[i].source, run->backing_source))
                                disk_overlaid(&stored->disks[i], o[k].overlay);
        }
        _cleanup_free_ char *xml = domain_format(stored);
        return file_write_atomic(path, xml, strlen(xml), 0600, err);
}

static int metadata_write(struct lv_guest *g, const char *meta, const char *snap,
                          const char *description, const char *state, const char *memory,
                          const struct lv_disk_overlay *o, int n, struct lv_error **err)
{
        struct json_object *j = json_object_new_object();
        json_object_object_add(j, "name", json_object_new_string(snap));
        json_object_object_add(j, "domain", json_object_new_string(g->name));
        json_object_object_add(j, "description",
                               description ? json_object_new_string(description) : NULL);
        json_object_object_add(j, "creationTime", json_object_new_int64((int64_t)time(NULL)));
        json_object_object_add(j, "state", json_object_new_string(state));
        json_object_object_add(j, "memory", memory ? json_object_new_string(memory) : NULL);
        struct json_object *disks = json_object_new_array();
        for (int k = 0; k < n; k++) {
                const struct domain_disk *d = &g->def->disks[o[k].disk];
                struct json_object *dj = json_object_new_object();
                json_object_object_add(dj, "target", json_object_new_string(d->target_dev));
                json_object_object_add(dj, "source", json_object_new_string(d->source));
                json_object_object_add(dj, "backing", json_object_new_string(d->backing_source));
                json_object_object_add(
                        dj, "backingFormat",
                        json_object_new_string(domain_disk_format_to_string(d->backing_format)));
                json_object_array_add(disks, dj);
        }
        json_object_object_add(j, "disks", disks);
        const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY);
        int r = file_write_atomic(meta, text, strlen(text), 0600, err);
        json_object_put(j);
        return r;
}

int supervisor_snapshot_create(struct supervisor *sv, const char *snap, const char *description,
                               bool disk_only, bool quiesce, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        int r = snapshot_name_check(snap, err);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s'", g->name);
        if (quiesce)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': --quiesce needs the guest agent to freeze the "
                                     "guest's file systems, which litevirt does not use yet",
                                     g->name);
        if (g->state != GUEST_STATE_RUNNING && g->state != GUEST_STATE_PAUSED)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: guest '%s' is %s (only "
                                     "a running or paused guest can be snapshotted)",
                                     g->name, guest_state_to_string(g->state));
        if (!sv->driver->snapshot_disks)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': the %s driver cannot snapshot disks", g->name,
                                     sv->driver->name);
        _cleanup_free_ char *dir = paths_snapshot_dir(g->name);
        _cleanup_free_ char *meta = xasprintf("%s/%s.json", dir, snap);
        if (access(meta, F_OK) == 0)
                return lv_error_setf(err, LV_ERR_EXISTS,
                                     "snapshot '%s' of guest '%s' already exists ('%s')", snap,
                                     g->name, meta);
        struct lv_disk_overlay *o = NULL;
        int n = 0;
        _cleanup_error_ struct lv_error *e = NULL;
        if ((r = disks_select(g, snap, &o, &n, err)) < 0)
                return r;
        _cleanup_free_ char *memory = disk_only ? NULL : xasprintf("%s/%s.mem", dir, snap);
        bool was_running = g->state == GUEST_STATE_RUNNING, paused = false;
        if ((r = mkdir_p(dir, 0700, err)) < 0 ||
            (!disk_only && (r = supervisor_job_begin(sv, JOB_SAVE, "perform", NULL, err)) < 0))
                goto out;
        log_info("snapshot '%s': %d disk overlay(s)%s", snap, n, disk_only ? "" : " and memory");
        /* A full snapshot: disks and memory of one moment. The disks
         * first: the memory stream leaves QEMU's block nodes inactive
         * until the guest runs again. */
        if (!disk_only && was_running) {
                if ((r = sv->driver->suspend(g, err)) < 0)
                        goto out_job;
                paused = true;
        }
        if ((r = sv->driver->snapshot_disks(g, o, n, err)) < 0)
                goto out_job;
        for (int k = 0; k < n; k++)
                disk_overlaid(&g->def->disks[o[k].disk], o[k].overlay);
        if (supervisor_definition_record(sv, &e) < 0 || stored_update(g, o, n, &e) < 0)
                log_warning("snapshot '%s': %s", snap, e->message);
        if (memory && (r = supervisor_save_image_write(sv, memory, was_running, err)) < 0) {
                /* the disks are on their overlays already: say so */
                lv_error_prefix(err,
                                "the disks are on the overlays of snapshot '%s' (kept as a "
                                "disk-only snapshot) but its memory could not be written",
                                snap);
                free(TAKE_PTR(memory));
        }
        const char *state = memory ? (was_running ? "running" : "paused") : "disk-snapshot";
        lv_error_freep(&e);
        int m = metadata_write(g, meta, snap, description, state, memory, o, n, &e);
        if (m < 0) {
                log_warning("snapshot '%s': %s", snap, e->message);
                if (r >= 0) {
                        r = m;
                        if (err)
                                *err = TAKE_PTR(e);
                }
        }
out_job:
        if (paused) {
                lv_error_freep(&e);
                if (sv->driver->resume(g, &e) < 0)
                        log_warning("resuming after the snapshot: %s", e->message);
        }
        if (!disk_only)
                supervisor_job_end(sv, JOB_SAVE);
out:
        for (int k = 0; k < n; k++)
                free((char *)o[k].overlay);
        free(o);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s': snapshot '%s'", g->name, snap);
        log_info("snapshot '%s' created", snap);
        return 0;
}
