/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Block jobs of a running QEMU guest (lvsh blockcommit / blockpull /
 * blockjob, docs/snapshot.md): block-commit and block-stream over QMP,
 * images named by their paths in the disk's chain (as the qcow2 headers
 * name them), one job per guest. The job's end comes as a QMP event on
 * the event loop (qemu_block_job_event): the disk's definition follows
 * the chain, the files QEMU no longer uses are given back, and the core
 * is told (g->block_job_ended). */
#include <json-c/json.h>

#include "qemu/command.h"
#include "qemu/driver_priv.h"
#include "qemu/image.h"
#include "util/log.h"

static const char *const kind_qmp[] = {
        [LV_BLOCK_JOB_PULL] = "stream",
        [LV_BLOCK_JOB_COMMIT] = "commit",
        [LV_BLOCK_JOB_ACTIVE_COMMIT] = "commit",
};

static void bjob_clear(struct qemu_block_job *j)
{
        free(j->base);
        free(j->top);
        free(j->old_source);
        free(j->top_node);
        free(j->top_file);
        strv_free(j->dropped);
        free(j->probe_node);
        *j = (struct qemu_block_job){0};
}

/* Disk i's running job, or NULL. */
static struct qemu_block_job *bjob_of(struct qemu_guest *qg, int i)
{
        for (int k = 0; k < qg->n_bjobs; k++)
                if (qg->bjobs[k].running && qg->bjobs[k].disk == i)
                        return &qg->bjobs[k];
        return NULL;
}

/* A free slot. */
static struct qemu_block_job *bjob_slot(struct qemu_guest *qg)
{
        for (int k = 0; k < qg->n_bjobs; k++)
                if (!qg->bjobs[k].running)
                        return &qg->bjobs[k];
        qg->bjobs = xrealloc(qg->bjobs, (size_t)(qg->n_bjobs + 1) * sizeof(*qg->bjobs));
        qg->bjobs[qg->n_bjobs] = (struct qemu_block_job){0};
        return &qg->bjobs[qg->n_bjobs++];
}

/* qemu.json follows the jobs (for a reattach). */
static void bjobs_record(struct lv_guest *g, struct qemu_guest *qg)
{
        _cleanup_error_ struct lv_error *e = NULL;
        if (qemu_write_info(g, qg, &e) < 0)
                log_warning("block jobs: %s", e->message);
}

static struct qemu_guest *monitor(struct lv_guest *g, struct lv_error **err)
{
        struct qemu_guest *qg = g->driver_data;
        if (!qg || !qg->qmp || qmp_is_closed(qg->qmp)) {
                lv_error_setf(err, LV_ERR_STATE, "guest '%s': QEMU monitor is not connected",
                              g->name);
                return NULL;
        }
        return qg;
}

/* The node of the image `depth` levels under disk i's active layer: the
 * file name QEMU has for that level (query-block's image chain: images a
 * snapshot added are /dev/fdset/N to QEMU, not their paths), then the
 * format node of that file (query-named-block-nodes). */
static int chain_node(struct qmp *q, const struct domain_def *def, int i, int depth, char **ret,
                      char **ret_file, struct lv_error **err)
{
        _cleanup_free_ char *id = qemu_command_disk_id(def, i);
        _cleanup_free_ char *qom = xasprintf("/machine/peripheral/%s/", id);
        struct json_object *blocks = NULL, *nodes = NULL;
        int r = qmp_call(q, "query-block", NULL, QEMU_CMD_TIMEOUT_MS, &blocks, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *file = NULL;
        for (size_t k = 0; blocks && !file && k < json_object_array_length(blocks); k++) {
                struct json_object *b = json_object_array_get_idx(blocks, k), *v, *img;
                const char *qdev =
                        json_object_object_get_ex(b, "qdev", &v) ? json_object_get_string(v) : "";
                if ((!streq(qdev, id) && strncmp(qdev, qom, strlen(qom)) != 0) ||
                    !json_object_object_get_ex(b, "inserted", &v) ||
                    !json_object_object_get_ex(v, "image", &img))
                        continue;
                for (int d = 0; img && d < depth; d++)
                        if (!json_object_object_get_ex(img, "backing-image", &img))
                                img = NULL;
                if (img && json_object_object_get_ex(img, "filename", &v))
                        file = xstrdup(json_object_get_string(v));
        }
        json_object_put(blocks);
        if (!file)
                return lv_error_setf(err, ENOENT,
                                     "disk '%s': QEMU has no image %d level(s) under its top",
                                     def->disks[i].target_dev, depth);
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "flat", json_object_new_boolean(true));
        if ((r = qmp_call(q, "query-named-block-nodes", a, QEMU_CMD_TIMEOUT_MS, &nodes, err)) < 0)
                return r;
        r = lv_error_setf(err, ENOENT, "disk '%s': QEMU has no format node of '%s'",
                          def->disks[i].target_dev, file);
        for (size_t k = 0; nodes && k < json_object_array_length(nodes); k++) {
                struct json_object *n = json_object_array_get_idx(nodes, k), *f, *drv, *name;
                if (json_object_object_get_ex(n, "file", &f) &&
                    streq(json_object_get_string(f), file) &&
                    json_object_object_get_ex(n, "drv", &drv) &&
                    !streq(json_object_get_string(drv), "file") &&
                    json_object_object_get_ex(n, "node-name", &name)) {
                        lv_error_freep(err);
                        *ret = xstrdup(json_object_get_string(name));
                        if (ret_file)
                                *ret_file = xstrdup(file);
                        r = 0;
                        break;
                }
        }
        json_object_put(nodes);
        return r;
}

int qemu_block_job_start(struct lv_guest *g, int i, enum lv_block_job_kind kind, const char *base,
                         const char *top, unsigned long long bandwidth, struct lv_error **err)
{
        struct qemu_guest *qg = monitor(g, err);
        if (!qg)
                return -ENOTCONN;
        const struct domain_disk *d = &g->def->disks[i];
        if (bjob_of(qg, i))
                return lv_error_setf(err, EBUSY, "disk '%s' has a block job running already",
                                     d->target_dev);
        /* the images under the active layer, nearest first */
        _cleanup_strv_free_ char **chain = qemu_image_backing_chain(d->source);
        if (!chain[0])
                return lv_error_setf(
                        err, EINVAL, "disk '%s' ('%s') has no backing image: nothing to %s",
                        d->target_dev, d->source, kind == LV_BLOCK_JOB_PULL ? "pull" : "commit");
        int top_at = -1, base_at = -1; /* index in chain; top -1: the active layer */
        for (int k = 0; chain[k]; k++) {
                if (top && streq(chain[k], top))
                        top_at = k;
                if (base && streq(chain[k], base))
                        base_at = k;
        }
        if (top && top_at < 0 && !streq(top, d->source))
                return lv_error_setf(err, EINVAL, "disk '%s': top '%s' is not in its chain",
                                     d->target_dev, top);
        if (base && base_at < 0)
                return lv_error_setf(err, EINVAL,
                                     "disk '%s': base '%s' is not an image under %s in its chain",
                                     d->target_dev, base, top ? top : d->source);
        if (base && base_at <= top_at)
                return lv_error_setf(err, EINVAL, "disk '%s': base '%s' is not below top '%s'",
                                     d->target_dev, base, top);
        if (kind != LV_BLOCK_JOB_PULL && top_at >= 0 && !chain[top_at + 1])
                return lv_error_setf(err, EINVAL, "disk '%s': top '%s' has no image under it",
                                     d->target_dev, top);
        if (kind == LV_BLOCK_JOB_COMMIT && top_at < 0)
                kind = LV_BLOCK_JOB_ACTIVE_COMMIT;

        _cleanup_free_ char *node = NULL, *file = NULL;
        int r = qemu_disk_top(qg->qmp, g->def, i, &node, &file, NULL, err);
        if (r < 0)
                return r;
        char id[64];
        snprintf(id, sizeof(id), "lvblock-%s", d->target_dev);
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "job-id", json_object_new_string(id));
        json_object_object_add(a, "device", json_object_new_string(node));
        /* by node: QEMU knows the images a snapshot added by descriptor */
        _cleanup_free_ char *base_node = NULL, *top_node = NULL;
        if ((base &&
             (r = chain_node(qg->qmp, g->def, i, base_at + 1, &base_node, NULL, err)) < 0) ||
            (kind == LV_BLOCK_JOB_COMMIT &&
             (r = chain_node(qg->qmp, g->def, i, top_at + 1, &top_node, NULL, err)) < 0)) {
                json_object_put(a);
                return lv_error_prefix(err, "disk '%s'", d->target_dev);
        }
        /* the nodes of the images the job drops: from under the active
         * layer (a commit: from top) down to above base (else the deepest) */
        _cleanup_strv_free_ char **dropped = xcalloc(1, sizeof(char *));
        int end = base                        ? base_at
                  : kind == LV_BLOCK_JOB_PULL ? (int)strv_length(chain)
                                              : (int)strv_length(chain) - 1;
        for (int k = kind == LV_BLOCK_JOB_COMMIT ? top_at : 0, n = 0; k < end; k++) {
                char *dn = NULL, *df = NULL;
                _cleanup_error_ struct lv_error *e = NULL;
                if (chain_node(qg->qmp, g->def, i, k + 1, &dn, &df, &e) < 0)
                        continue; /* left to QEMU */
                dropped = xrealloc(dropped, (size_t)(n + 3) * sizeof(char *));
                dropped[n++] = dn;
                dropped[n++] = df;
                dropped[n] = NULL;
        }
        if (base)
                json_object_object_add(a, "base-node", json_object_new_string(base_node));
        if (kind == LV_BLOCK_JOB_COMMIT)
                json_object_object_add(a, "top-node", json_object_new_string(top_node));
        /* the header of the image left over base names it by its path */
        if (base && kind != LV_BLOCK_JOB_ACTIVE_COMMIT)
                json_object_object_add(a, "backing-file", json_object_new_string(base));
        if (bandwidth)
                json_object_object_add(a, "speed", json_object_new_int64((int64_t)bandwidth));
        r = qmp_call(qg->qmp, kind == LV_BLOCK_JOB_PULL ? "block-stream" : "block-commit", a,
                     QEMU_CMD_TIMEOUT_MS, NULL, err);
        if (r < 0)
                return lv_error_prefix(err, "disk '%s'", d->target_dev);
        /* its completion takes away the active layer (an active commit),
         * top (a commit) or the image under the active layer (a pull) */
        int probe_depth = kind == LV_BLOCK_JOB_ACTIVE_COMMIT ? 0
                          : kind == LV_BLOCK_JOB_COMMIT      ? top_at + 1
                                                             : 1;
        _cleanup_free_ char *probe = NULL;
        if (probe_depth == 0)
                probe = xstrdup(node);
        else if (dropped[0])
                probe = xstrdup(dropped[0]);
        struct qemu_block_job *j = bjob_slot(qg);
        *j = (struct qemu_block_job){
                .running = true,
                .probe_depth = probe_depth,
                .probe_node = TAKE_PTR(probe),
                .disk = i,
                .kind = kind,
                /* commit without base: the deepest image */
                .base = base                        ? xstrdup(base)
                        : kind == LV_BLOCK_JOB_PULL ? NULL
                                                    : xstrdup(chain[strv_length(chain) - 1]),
                .top = kind == LV_BLOCK_JOB_COMMIT ? xstrdup(top) : NULL,
                .old_source = xstrdup(d->source),
                .top_node = TAKE_PTR(node),
                .top_file = TAKE_PTR(file),
                .dropped = TAKE_PTR(dropped),
        };
        snprintf(j->id, sizeof(j->id), "%s", id);
        bjobs_record(g, qg);
        log_info("block job %s started on disk '%s' (base %s%s%s)", kind_qmp[kind], d->target_dev,
                 j->base ? j->base : "none", j->top ? ", top " : "", j->top ? j->top : "");
        return 0;
}

int qemu_block_job_info(struct lv_guest *g, int i, struct lv_block_job_info *ret,
                        struct lv_error **err)
{
        struct qemu_guest *qg = monitor(g, err);
        if (!qg)
                return -ENOTCONN;
        struct qemu_block_job *j = bjob_of(qg, i);
        if (!j)
                return 1;
        struct json_object *list = NULL;
        int r = qmp_call(qg->qmp, "query-block-jobs", NULL, QEMU_CMD_TIMEOUT_MS, &list, err);
        if (r < 0)
                return r;
        *ret = (struct lv_block_job_info){.kind = j->kind, .disk = j->disk, .ready = j->ready};
        for (size_t k = 0; list && k < json_object_array_length(list); k++) {
                struct json_object *b = json_object_array_get_idx(list, k), *v;
                if (!json_object_object_get_ex(b, "device", &v) ||
                    !streq(json_object_get_string(v), j->id))
                        continue;
                if (json_object_object_get_ex(b, "offset", &v))
                        ret->cur = (unsigned long long)json_object_get_int64(v);
                if (json_object_object_get_ex(b, "len", &v))
                        ret->end = (unsigned long long)json_object_get_int64(v);
                if (json_object_object_get_ex(b, "speed", &v))
                        ret->bandwidth = (unsigned long long)json_object_get_int64(v);
                if (json_object_object_get_ex(b, "ready", &v) && json_object_get_boolean(v))
                        ret->ready = true;
        }
        json_object_put(list);
        return 0;
}

int qemu_block_job_end(struct lv_guest *g, int i, bool pivot, struct lv_error **err)
{
        struct qemu_guest *qg = monitor(g, err);
        if (!qg)
                return -ENOTCONN;
        struct qemu_block_job *j = bjob_of(qg, i);
        if (!j)
                return lv_error_setf(err, ENOENT, "guest '%s': no active block job on disk '%s'",
                                     g->name, g->def->disks[i].target_dev);
        const char *target = g->def->disks[j->disk].target_dev;
        if (pivot && (j->kind != LV_BLOCK_JOB_ACTIVE_COMMIT || !j->ready))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "disk '%s': the block job is not ready to pivot (%s)", target,
                                     j->kind != LV_BLOCK_JOB_ACTIVE_COMMIT
                                             ? "only a commit of the active layer pivots"
                                             : "it has not copied everything yet");
        struct json_object *a = json_object_new_object();
        if (pivot)
                json_object_object_add(a, "id", json_object_new_string(j->id));
        else
                json_object_object_add(a, "device", json_object_new_string(j->id));
        /* before the call: its end event may come before its reply */
        bool *what = pivot ? &j->pivot : &j->aborted;
        *what = true;
        int r = qmp_call(qg->qmp, pivot ? "job-complete" : "block-job-cancel", a,
                         QEMU_CMD_TIMEOUT_MS, NULL, err);
        if (r < 0) {
                if (j->running)
                        *what = false;
                return lv_error_prefix(err, "disk '%s'", target);
        }
        if (j->running)
                bjobs_record(g, qg);
        return 0;
}

int qemu_block_job_set_speed(struct lv_guest *g, int i, unsigned long long bandwidth,
                             struct lv_error **err)
{
        struct qemu_guest *qg = monitor(g, err);
        if (!qg)
                return -ENOTCONN;
        struct qemu_block_job *j = bjob_of(qg, i);
        if (!j)
                return lv_error_setf(err, ENOENT, "guest '%s': no active block job on disk '%s'",
                                     g->name, g->def->disks[i].target_dev);
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "device", json_object_new_string(j->id));
        json_object_object_add(a, "speed", json_object_new_int64((int64_t)bandwidth));
        return qmp_call(qg->qmp, "block-job-set-speed", a, QEMU_CMD_TIMEOUT_MS, NULL, err);
}

/* A node QEMU no longer uses after the job: one added by hand (blockdev-add
 * at the start or by a snapshot) stays open until deleted, with the
 * descriptor it was opened from. Nodes QEMU opened itself from a header
 * ('#block...') go with their user. */
static void node_release(struct qemu_guest *qg, const char *n, const char *file)
{
        if (n[0] == '#')
                return;
        size_t len = strlen(n);
        _cleanup_free_ char *storage = NULL;
        if (len > 2 && streq(n + len - 2, "-f"))
                storage = xasprintf("%.*s-s", (int)(len - 2), n);
        else if (len > 7 && streq(n + len - 7, "-format"))
                storage = xasprintf("%.*s-storage", (int)(len - 7), n);
        const char *nodes[] = {n, storage};
        for (size_t k = 0; k < ARRAY_SIZE(nodes) && nodes[k]; k++) {
                struct json_object *a = json_object_new_object();
                json_object_object_add(a, "node-name", json_object_new_string(nodes[k]));
                _cleanup_error_ struct lv_error *e = NULL;
                if (qmp_send(qg->qmp, "blockdev-del", a, QEMU_CMD_TIMEOUT_MS, NULL, NULL, &e) < 0)
                        log_warning("blockdev-del '%s': %s", nodes[k], e->message);
        }
        int fdset;
        if (sscanf(file, "/dev/fdset/%d", &fdset) == 1) {
                struct json_object *a = json_object_new_object();
                json_object_object_add(a, "fdset-id", json_object_new_int(fdset));
                (void)qmp_send(qg->qmp, "remove-fd", a, QEMU_CMD_TIMEOUT_MS, NULL, NULL, NULL);
        }
}

static void dropped_release(struct qemu_guest *qg, const struct qemu_block_job *j)
{
        for (int k = 0; j->dropped && j->dropped[k] && j->dropped[k + 1]; k += 2)
                node_release(qg, j->dropped[k], j->dropped[k + 1]);
}

static void disk_backing_set(struct domain_disk *d, const char *backing)
{
        free(d->backing_source);
        d->backing_source = xstrdup_null(backing);
        d->backing_format = backing && qemu_image_is_qcow2(backing) ? DOMAIN_DISK_FORMAT_QCOW2
                                                                    : DOMAIN_DISK_FORMAT_RAW;
}

/* The chain after the job: the definition and the files given to QEMU. */
static bool bjob_apply(struct lv_guest *g, struct qemu_guest *qg, const struct qemu_block_job *j)
{
        struct domain_disk *d = &g->def->disks[j->disk];
        switch (j->kind) {
        case LV_BLOCK_JOB_ACTIVE_COMMIT: {
                if (!j->pivot)
                        return false; /* aborted: the guest stays on its overlay */
                _cleanup_strv_free_ char **under = qemu_image_backing_chain(j->base);
                free(d->source);
                d->source = xstrdup(j->base);
                d->format = qemu_image_is_qcow2(j->base) ? DOMAIN_DISK_FORMAT_QCOW2
                                                         : DOMAIN_DISK_FORMAT_RAW;
                disk_backing_set(d, under[0]);
                node_release(qg, j->top_node, j->top_file);
                dropped_release(qg, j);
                qemu_confine_forget_overlay(g, qg, j->old_source);
                return true;
        }
        case LV_BLOCK_JOB_COMMIT:
                dropped_release(qg, j);
                if (!streq_ptr(d->backing_source, j->top))
                        return false; /* deeper than the model's one level */
                disk_backing_set(d, j->base);
                qemu_confine_forget_overlay(g, qg, j->top);
                return true;
        case LV_BLOCK_JOB_PULL: {
                const char *old = d->backing_source;
                if (old && !streq_ptr(old, j->base))
                        qemu_confine_forget_overlay(g, qg, old);
                disk_backing_set(d, j->base);
                dropped_release(qg, j);
                return true;
        }
        }
        return false;
}

/* The job's end: the chain after it, the core told. */
static void bjob_finish(struct lv_guest *g, struct qemu_guest *qg, struct qemu_block_job *j,
                        bool completed, const char *msg)
{
        bool changed = completed && bjob_apply(g, qg, j);
        int disk = j->disk;
        _cleanup_free_ char *old_source = TAKE_PTR(j->old_source);
        log_info("block job on disk '%s' ended%s%s", g->def->disks[disk].target_dev,
                 msg ? ": " : "", msg ? msg : "");
        bjob_clear(j);
        bjobs_record(g, qg);
        if (g->block_job_ended)
                g->block_job_ended(g, disk, old_source, changed, msg);
}

void qemu_block_job_event(struct lv_guest *g, const char *event, struct json_object *data)
{
        struct qemu_guest *qg = g->driver_data;
        struct json_object *v;
        const char *dev = data && json_object_object_get_ex(data, "device", &v)
                                  ? json_object_get_string(v)
                                  : "";
        struct qemu_block_job *j = NULL;
        for (int k = 0; k < qg->n_bjobs && !j; k++)
                if (qg->bjobs[k].running && streq(dev, qg->bjobs[k].id))
                        j = &qg->bjobs[k];
        if (!j)
                return;
        if (streq(event, "BLOCK_JOB_READY")) {
                j->ready = true;
                log_info("block job on disk '%s' is ready to pivot",
                         g->def->disks[j->disk].target_dev);
                return;
        }
        if (!streq(event, "BLOCK_JOB_COMPLETED") && !streq(event, "BLOCK_JOB_CANCELLED"))
                return; /* BLOCK_JOB_ERROR: QEMU's default policy ends it with COMPLETED */
        const char *error = data && json_object_object_get_ex(data, "error", &v)
                                    ? json_object_get_string(v)
                                    : NULL;
        /* a ready active commit cancelled ends as COMPLETED: not a pivot */
        bool completed = !error && streq(event, "BLOCK_JOB_COMPLETED") &&
                         !(j->aborted && j->kind == LV_BLOCK_JOB_ACTIVE_COMMIT);
        _cleanup_free_ char *msg = error ? xasprintf("%s failed: %s", kind_qmp[j->kind], error)
                                   : streq(event, "BLOCK_JOB_CANCELLED") && !j->aborted
                                           ? xasprintf("%s was cancelled", kind_qmp[j->kind])
                                           : NULL;
        bjob_finish(g, qg, j, completed, msg);
}

void qemu_block_job_free(struct qemu_guest *qg)
{
        for (int k = 0; k < qg->n_bjobs; k++)
                bjob_clear(&qg->bjobs[k]);
        free(qg->bjobs);
        qg->bjobs = NULL;
        qg->n_bjobs = 0;
}

/* ---- reattach ---- */

static void add_str(struct json_object *o, const char *key, const char *v)
{
        if (v)
                json_object_object_add(o, key, json_object_new_string(v));
}

void qemu_block_jobs_to_json(struct qemu_guest *qg, struct json_object *o)
{
        struct json_object *arr = json_object_new_array();
        for (int k = 0; k < qg->n_bjobs; k++) {
                const struct qemu_block_job *j = &qg->bjobs[k];
                if (!j->running)
                        continue;
                struct json_object *e = json_object_new_object();
                json_object_object_add(e, "disk", json_object_new_int(j->disk));
                json_object_object_add(e, "kind", json_object_new_int((int)j->kind));
                add_str(e, "id", j->id);
                add_str(e, "base", j->base);
                add_str(e, "top", j->top);
                add_str(e, "oldSource", j->old_source);
                add_str(e, "topNode", j->top_node);
                add_str(e, "topFile", j->top_file);
                add_str(e, "probeNode", j->probe_node);
                json_object_object_add(e, "probeDepth", json_object_new_int(j->probe_depth));
                json_object_object_add(e, "pivot", json_object_new_boolean(j->pivot));
                json_object_object_add(e, "aborted", json_object_new_boolean(j->aborted));
                struct json_object *dr = json_object_new_array();
                for (int d = 0; j->dropped && j->dropped[d]; d++)
                        json_object_array_add(dr, json_object_new_string(j->dropped[d]));
                json_object_object_add(e, "dropped", dr);
                json_object_array_add(arr, e);
        }
        json_object_object_add(o, "blockJobs", arr);
}

static char *get_str(struct json_object *o, const char *key)
{
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                       ? xstrdup(json_object_get_string(v))
                       : NULL;
}

static bool get_bool(struct json_object *o, const char *key)
{
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/* A job of the record, as it was (NULL: not one to take up). */
static struct qemu_block_job *bjob_from_json(struct lv_guest *g, struct qemu_guest *qg,
                                             struct json_object *e)
{
        struct json_object *v;
        int disk = json_object_object_get_ex(e, "disk", &v) ? json_object_get_int(v) : -1;
        int kind = json_object_object_get_ex(e, "kind", &v) ? json_object_get_int(v) : -1;
        _cleanup_free_ char *id = get_str(e, "id");
        _cleanup_free_ char *old = get_str(e, "oldSource");
        if (disk < 0 || disk >= g->def->n_disks || kind < LV_BLOCK_JOB_PULL ||
            kind > LV_BLOCK_JOB_ACTIVE_COMMIT || !id || !old || strlen(id) >= 64 ||
            bjob_of(qg, disk))
                return NULL;
        struct qemu_block_job *j = bjob_slot(qg);
        *j = (struct qemu_block_job){
                .running = true,
                .disk = disk,
                .kind = (enum lv_block_job_kind)kind,
                .base = get_str(e, "base"),
                .top = get_str(e, "top"),
                .old_source = TAKE_PTR(old),
                .top_node = get_str(e, "topNode"),
                .top_file = get_str(e, "topFile"),
                .probe_node = get_str(e, "probeNode"),
                .probe_depth =
                        json_object_object_get_ex(e, "probeDepth", &v) ? json_object_get_int(v) : 0,
                .pivot = get_bool(e, "pivot"),
                .aborted = get_bool(e, "aborted"),
        };
        snprintf(j->id, sizeof(j->id), "%s", id);
        struct json_object *dr;
        size_t n = json_object_object_get_ex(e, "dropped", &dr) &&
                                   json_object_is_type(dr, json_type_array)
                           ? json_object_array_length(dr)
                           : 0;
        j->dropped = xcalloc(n + 1, sizeof(char *));
        for (size_t k = 0; k < n; k++)
                j->dropped[k] = xstrdup(json_object_get_string(json_object_array_get_idx(dr, k)));
        if (!j->top_node || !j->top_file) {
                bjob_clear(j);
                return NULL;
        }
        return j;
}

void qemu_block_jobs_reattach(struct lv_guest *g, struct qemu_guest *qg, struct json_object *info)
{
        struct json_object *arr, *list = NULL;
        if (!json_object_object_get_ex(info, "blockJobs", &arr) ||
            !json_object_is_type(arr, json_type_array) || json_object_array_length(arr) == 0)
                return;
        _cleanup_error_ struct lv_error *e = NULL;
        if (qmp_call(qg->qmp, "query-block-jobs", NULL, QEMU_CMD_TIMEOUT_MS, &list, &e) < 0) {
                log_warning("block jobs: %s", e->message);
                return;
        }
        for (size_t k = 0; k < json_object_array_length(arr); k++) {
                struct qemu_block_job *j = bjob_from_json(g, qg, json_object_array_get_idx(arr, k));
                if (!j)
                        continue;
                const char *target = g->def->disks[j->disk].target_dev;
                bool runs = false;
                for (size_t q = 0; list && q < json_object_array_length(list); q++) {
                        struct json_object *b = json_object_array_get_idx(list, q), *v;
                        if (json_object_object_get_ex(b, "device", &v) &&
                            streq(json_object_get_string(v), j->id)) {
                                runs = true;
                                j->ready = json_object_object_get_ex(b, "ready", &v) &&
                                           json_object_get_boolean(v);
                        }
                }
                if (runs) {
                        log_info("block job %s on disk '%s' taken up again", kind_qmp[j->kind],
                                 target);
                        continue;
                }
                /* it ended meanwhile: completed if what it takes away is gone */
                _cleanup_free_ char *node = NULL;
                lv_error_freep(&e);
                bool completed =
                        j->probe_node && (chain_node(qg->qmp, g->def, j->disk, j->probe_depth,
                                                     &node, NULL, &e) < 0 ||
                                          !streq(node, j->probe_node));
                if (completed && j->kind == LV_BLOCK_JOB_ACTIVE_COMMIT)
                        j->pivot = true;
                _cleanup_free_ char *msg =
                        completed || j->aborted
                                ? NULL
                                : xasprintf("%s ended while no supervisor watched and did not "
                                            "complete (failed or cancelled)",
                                            kind_qmp[j->kind]);
                bjob_finish(g, qg, j, completed, msg);
        }
        json_object_put(list);
}
