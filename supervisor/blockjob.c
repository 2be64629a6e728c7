/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Block jobs (docs/snapshot.md): lvsh blockcommit / blockpull / blockjob
 * on a running guest's disks, one job per disk, the work the driver's
 * (block_job_*). The job
 * runs on in the hypervisor while the supervisor answers calls; its end
 * comes as an event (g.block_job_ended): the running definition is
 * recorded and the stored one follows when its disk had the same source
 * (as libvirt's persistent definition). */
#include <json-c/json.h>

#include "supervisor/supervisor.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/paths.h"

static const char *const kind_name[] = {
        [LV_BLOCK_JOB_PULL] = "pull",
        [LV_BLOCK_JOB_COMMIT] = "commit",
        [LV_BLOCK_JOB_ACTIVE_COMMIT] = "active-commit",
};

static int disk_of(struct supervisor *sv, const char *disk, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        if (g->state != GUEST_STATE_RUNNING && g->state != GUEST_STATE_PAUSED)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: guest '%s' is %s", g->name,
                                     guest_state_to_string(g->state));
        if (!sv->driver->block_job_start)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': the %s driver has no block jobs", g->name,
                                     sv->driver->name);
        int i = domain_disk_find(g->def, disk);
        if (i < 0)
                return lv_error_setf(err, ENOENT, "guest '%s' has no disk '%s'", g->name, disk);
        if (!g->def->disks[i].source || g->def->disks[i].type != DOMAIN_DISK_FILE)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': disk '%s' is not a file-backed image", g->name,
                                     disk);
        return i;
}

int supervisor_block_job_start(struct supervisor *sv, const char *disk, const char *kind,
                               const char *base, const char *top, bool active,
                               unsigned long long bandwidth, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        int i = disk_of(sv, disk, err);
        if (i < 0)
                return i;
        const struct domain_disk *d = &g->def->disks[i];
        enum lv_block_job_kind k;
        if (streq(kind, "pull"))
                k = LV_BLOCK_JOB_PULL;
        else if (streq(kind, "commit"))
                k = !top || streq(top, d->source) ? LV_BLOCK_JOB_ACTIVE_COMMIT
                                                  : LV_BLOCK_JOB_COMMIT;
        else
                return lv_error_setf(err, EINVAL, "block job kind '%s' is not commit or pull",
                                     kind);
        /* as libvirt: committing the active layer is asked for by name */
        if (k == LV_BLOCK_JOB_ACTIVE_COMMIT && !active)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': disk '%s': commit of the active layer ('%s') "
                                     "requires --active",
                                     g->name, disk, d->source);
        if (active && k != LV_BLOCK_JOB_ACTIVE_COMMIT)
                return lv_error_setf(err, EINVAL,
                                     "guest '%s': disk '%s': --active with a top ('%s') that is "
                                     "not the active layer",
                                     g->name, disk, top);
        int r = sv->driver->block_job_start(g, i, k, base, k == LV_BLOCK_JOB_COMMIT ? top : NULL,
                                            bandwidth, err);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s'", g->name);
        if (sv->block_job_last)
                json_object_object_del(sv->block_job_last, d->target_dev);
        return 0;
}

/* Disk's running job (*info), 0; 1: none. Without a disk: the first
 * disk's that has one (domjobinfo). */
static int job_running(struct supervisor *sv, const char *disk, struct lv_block_job_info *info,
                       struct lv_error **err)
{
        if (!sv->driver->block_job_info || !sv->g.driver_data)
                return 1;
        int i = disk ? domain_disk_find(sv->g.def, disk) : 0;
        if (i < 0)
                return 1;
        for (; i < sv->g.def->n_disks; i++) {
                int r = sv->driver->block_job_info(&sv->g, i, info, err);
                if (r <= 0 || disk)
                        return r;
        }
        return 1;
}

static struct json_object *info_json(struct supervisor *sv, const struct lv_block_job_info *in)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "disk",
                               json_object_new_string(sv->g.def->disks[in->disk].target_dev));
        json_object_object_add(o, "type", json_object_new_string(kind_name[in->kind]));
        json_object_object_add(o, "cur", json_object_new_int64((int64_t)in->cur));
        json_object_object_add(o, "end", json_object_new_int64((int64_t)in->end));
        json_object_object_add(o, "bandwidth", json_object_new_int64((int64_t)in->bandwidth));
        json_object_object_add(o, "ready", json_object_new_boolean(in->ready));
        return o;
}

int supervisor_block_job_info(struct supervisor *sv, const char *disk, struct json_object **ret,
                              struct lv_error **err)
{
        struct lv_block_job_info in;
        int r = job_running(sv, disk, &in, err);
        if (r < 0)
                return r;
        struct json_object *o = json_object_new_object();
        struct json_object *v;
        if (r == 0)
                json_object_object_add(o, "job", info_json(sv, &in));
        else if (sv->block_job_last && disk &&
                 json_object_object_get_ex(sv->block_job_last, disk, &v))
                json_object_object_add(o, "ended", json_object_get(v));
        *ret = o;
        return 0;
}

/* The disk's job runs: 0, else an error. */
static int job_require(struct supervisor *sv, const char *disk, struct lv_error **err)
{
        struct lv_block_job_info in;
        int r = job_running(sv, disk, &in, err);
        if (r > 0)
                return lv_error_setf(err, ENOENT, "guest '%s': no active block job on disk '%s'",
                                     sv->g.name, disk);
        return r;
}

int supervisor_block_job_end(struct supervisor *sv, const char *disk, bool pivot,
                             struct lv_error **err)
{
        int r = job_require(sv, disk, err);
        return r < 0 ? r
                     : sv->driver->block_job_end(&sv->g, domain_disk_find(sv->g.def, disk), pivot,
                                                 err);
}

int supervisor_block_job_set_speed(struct supervisor *sv, const char *disk,
                                   unsigned long long bandwidth, struct lv_error **err)
{
        int r = job_require(sv, disk, err);
        return r < 0 ? r
                     : sv->driver->block_job_set_speed(&sv->g, domain_disk_find(sv->g.def, disk),
                                                       bandwidth, err);
}

struct json_object *supervisor_block_job_as_job(struct supervisor *sv)
{
        struct lv_block_job_info in;
        _cleanup_error_ struct lv_error *e = NULL;
        if (job_running(sv, NULL, &in, &e) != 0)
                return NULL;
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("bounded"));
        json_object_object_add(o, "operation",
                               json_object_new_string(in.kind == LV_BLOCK_JOB_PULL
                                                              ? "block pull"
                                                              : "block commit"));
        json_object_object_add(o, "disk_total", json_object_new_int64((int64_t)in.end));
        json_object_object_add(o, "disk_processed", json_object_new_int64((int64_t)in.cur));
        json_object_object_add(o, "disk_remaining",
                               json_object_new_int64((int64_t)(in.end - in.cur)));
        return o;
}

/* The stored definition's disk follows when it is the one the job
 * started on (same target and source). */
static void stored_follow(struct supervisor *sv, const struct domain_disk *run,
                          const char *old_source)
{
        _cleanup_free_ char *path = paths_guest_xml(sv->g.name);
        if (access(path, F_OK) < 0)
                return;
        _cleanup_error_ struct lv_error *e = NULL;
        _cleanup_domain_def_ struct domain_def *stored = NULL;
        if (supervisor_definition_load(sv->g.name, &stored, &e) < 0) {
                log_warning("block job: the stored definition: %s", e->message);
                return;
        }
        int i = domain_disk_find(stored, run->target_dev);
        if (i < 0 || !streq_ptr(stored->disks[i].source, old_source))
                return;
        struct domain_disk *d = &stored->disks[i];
        free(d->source);
        free(d->backing_source);
        d->source = xstrdup(run->source);
        d->format = run->format;
        d->backing_source = xstrdup_null(run->backing_source);
        d->backing_format = run->backing_format;
        _cleanup_free_ char *xml = domain_format(stored);
        if (file_write_atomic(path, xml, strlen(xml), 0600, &e) < 0)
                log_warning("block job: %s", e->message);
}

void supervisor_block_job_ended(struct lv_guest *g, int i, const char *old_source, bool changed,
                                const char *error)
{
        struct supervisor *sv = supervisor_of(g);
        const struct domain_disk *d = &g->def->disks[i];
        struct json_object *last = json_object_new_object();
        json_object_object_add(last, "disk", json_object_new_string(d->target_dev));
        if (error)
                json_object_object_add(last, "error", json_object_new_string(error));
        if (!sv->block_job_last)
                sv->block_job_last = json_object_new_object();
        json_object_object_add(sv->block_job_last, d->target_dev, last);
        if (!changed)
                return;
        log_info("disk '%s' is now '%s'%s%s", d->target_dev, d->source,
                 d->backing_source ? " over " : "", d->backing_source ? d->backing_source : "");
        supervisor_definition_changed(sv);
        stored_follow(sv, d, old_source);
        /* a pivot: the lease follows the disk onto its new source (at a
         * reattach the leases are taken afterwards, from the definition) */
        _cleanup_error_ struct lv_error *e = NULL;
        if (sv->leases && !streq_ptr(old_source, d->source) &&
            (supervisor_leases_add_disk(sv, d, &e) < 0 ||
             supervisor_leases_drop_disk(sv, old_source, &e) < 0))
                log_warning("block job: disk '%s': leases: %s", d->target_dev, e->message);
}
