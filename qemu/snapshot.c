/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* External disk snapshots of a running QEMU guest (docs/snapshot.md): a
 * qcow2 overlay per disk made with qemu-img (the current image as its
 * backing file, not opened: QEMU holds it), given to QEMU as a descriptor
 * (add-fd: QEMU opens no path, its confinement holds), added as block
 * nodes and put over the disks' current nodes in one transaction. */
#include <json-c/json.h>
#include <fcntl.h>

#include "qemu/command.h"
#include "qemu/image.h"
#include "qemu/driver_priv.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/log.h"

int qemu_disk_top(struct qmp *q, const struct domain_def *def, int i, char **ret_node,
                  char **ret_file, unsigned long long *ret_size, struct lv_error **err)
{
        _cleanup_free_ char *id = qemu_command_disk_id(def, i);
        _cleanup_free_ char *qom = xasprintf("/machine/peripheral/%s/", id);
        struct json_object *list = NULL;
        int r = qmp_call(q, "query-block", NULL, QEMU_CMD_TIMEOUT_MS, &list, err);
        if (r < 0)
                return r;
        r = lv_error_setf(err, ENOENT, "disk '%s': QEMU has no block device '%s'",
                          def->disks[i].target_dev, id);
        for (size_t k = 0; list && k < json_object_array_length(list); k++) {
                struct json_object *b = json_object_array_get_idx(list, k), *qdev, *ins, *node,
                                   *file, *img, *size;
                const char *s = json_object_object_get_ex(b, "qdev", &qdev)
                                        ? json_object_get_string(qdev)
                                        : "";
                if (!streq(s, id) && strncmp(s, qom, strlen(qom)) != 0)
                        continue;
                if (!json_object_object_get_ex(b, "inserted", &ins) ||
                    !json_object_object_get_ex(ins, "node-name", &node) ||
                    !json_object_object_get_ex(ins, "file", &file) ||
                    !json_object_object_get_ex(ins, "image", &img) ||
                    !json_object_object_get_ex(img, "virtual-size", &size))
                        break;
                lv_error_freep(err);
                *ret_node = xstrdup(json_object_get_string(node));
                if (ret_file)
                        *ret_file = xstrdup(json_object_get_string(file));
                if (ret_size)
                        *ret_size = (unsigned long long)json_object_get_int64(size);
                r = 0;
                break;
        }
        json_object_put(list);
        return r;
}

struct overlay_node {
        char storage[32], format[32];
        char *top; /* the node it goes over */
        int fdset; /* -1: none yet */
        bool created, storage_added, format_added;
};

static void overlay_undo(struct lv_guest *g, struct qemu_guest *qg, struct overlay_node *o,
                         const char *path)
{
        struct qmp *q = qg->qmp;
        struct json_object *a;
        if (o->format_added) {
                a = json_object_new_object();
                json_object_object_add(a, "node-name", json_object_new_string(o->format));
                (void)qmp_call(q, "blockdev-del", a, QEMU_CMD_TIMEOUT_MS, NULL, NULL);
        }
        if (o->storage_added) {
                a = json_object_new_object();
                json_object_object_add(a, "node-name", json_object_new_string(o->storage));
                (void)qmp_call(q, "blockdev-del", a, QEMU_CMD_TIMEOUT_MS, NULL, NULL);
        }
        if (o->fdset >= 0) {
                a = json_object_new_object();
                json_object_object_add(a, "fdset-id", json_object_new_int(o->fdset));
                (void)qmp_call(q, "remove-fd", a, QEMU_CMD_TIMEOUT_MS, NULL, NULL);
        }
        if (o->created) {
                qemu_confine_forget_overlay(g, qg, path); /* no label left behind */
                (void)unlink(path);
        }
}

/* Create the overlay, hand it to QEMU and add its nodes (not yet over
 * the disk). */
static int overlay_add(struct lv_guest *g, struct qemu_guest *qg, const struct lv_disk_overlay *d,
                       struct overlay_node *o, struct lv_error **err)
{
        const struct domain_disk *disk = &g->def->disks[d->disk];
        unsigned long long size = 0;
        int r = qemu_disk_top(qg->qmp, g->def, d->disk, &o->top, NULL, &size, err);
        if (r < 0)
                return r;
        /* never over an existing file: qemu-img would overwrite it */
        _cleanup_close_ int fd = open(d->overlay, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return lv_error_set(err, errno, "disk '%s': creating the overlay '%s'",
                                    disk->target_dev, d->overlay);
        o->created = true;
        const char *fmt = disk->format == DOMAIN_DISK_FORMAT_QCOW2 ? "qcow2" : "raw";
        if ((r = qemu_image_overlay_create(d->overlay, disk->source, fmt, size, err)) < 0 ||
            (r = qemu_confine_grant_overlay(g, qg, d->overlay, err)) < 0)
                return r;
        struct json_object *ret = NULL, *id;
        r = qmp_call_fd(qg->qmp, "add-fd", NULL, fd, QEMU_CMD_TIMEOUT_MS, &ret, err);
        if (r < 0)
                return r;
        o->fdset = json_object_object_get_ex(ret, "fdset-id", &id) ? json_object_get_int(id) : -1;
        json_object_put(ret);
        if (o->fdset < 0)
                return lv_error_setf(err, EPROTO, "add-fd: QEMU returned no fdset-id");

        _cleanup_free_ char *file = xasprintf("/dev/fdset/%d", o->fdset);
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "driver", json_object_new_string("file"));
        json_object_object_add(a, "filename", json_object_new_string(file));
        json_object_object_add(a, "node-name", json_object_new_string(o->storage));
        json_object_object_add(a, "discard", json_object_new_string("unmap"));
        if ((r = qmp_call(qg->qmp, "blockdev-add", a, QEMU_CMD_TIMEOUT_MS, NULL, err)) < 0)
                return r;
        o->storage_added = true;
        a = json_object_new_object();
        json_object_object_add(a, "driver", json_object_new_string("qcow2"));
        json_object_object_add(a, "node-name", json_object_new_string(o->format));
        json_object_object_add(a, "file", json_object_new_string(o->storage));
        /* blockdev-snapshot makes the current node its backing */
        json_object_object_add(a, "backing", NULL);
        if ((r = qmp_call(qg->qmp, "blockdev-add", a, QEMU_CMD_TIMEOUT_MS, NULL, err)) < 0)
                return r;
        o->format_added = true;
        return 0;
}

int qemu_snapshot_disks(struct lv_guest *g, const struct lv_disk_overlay *disks, int n,
                        struct lv_error **err)
{
        struct qemu_guest *qg = g->driver_data;
        if (!qg || !qg->qmp || qmp_is_closed(qg->qmp))
                return lv_error_setf(err, LV_ERR_STATE, "guest '%s': QEMU monitor is not connected",
                                     g->name);
        struct overlay_node *o = xcalloc((size_t)n, sizeof(*o));
        unsigned stamp = (unsigned)(clock_now_ms() & 0xffffffff);
        int r = 0, i;
        for (i = 0; i < n && r >= 0; i++) {
                o[i].fdset = -1;
                snprintf(o[i].storage, sizeof(o[i].storage), "lvsnap-%08x-%d-s", stamp, i);
                snprintf(o[i].format, sizeof(o[i].format), "lvsnap-%08x-%d-f", stamp, i);
                r = overlay_add(g, qg, &disks[i], &o[i], err);
                if (r < 0)
                        lv_error_prefix(err, "disk '%s'", g->def->disks[disks[i].disk].target_dev);
        }
        if (r >= 0) {
                /* all disks at once, or none */
                struct json_object *actions = json_object_new_array();
                for (int k = 0; k < n; k++) {
                        struct json_object *d = json_object_new_object(),
                                           *act = json_object_new_object();
                        json_object_object_add(d, "node", json_object_new_string(o[k].top));
                        json_object_object_add(d, "overlay", json_object_new_string(o[k].format));
                        json_object_object_add(act, "type",
                                               json_object_new_string("blockdev-snapshot"));
                        json_object_object_add(act, "data", d);
                        json_object_array_add(actions, act);
                }
                struct json_object *a = json_object_new_object();
                json_object_object_add(a, "actions", actions);
                r = qmp_call(qg->qmp, "transaction", a, QEMU_CMD_TIMEOUT_MS, NULL, err);
        }
        for (int k = 0; k < i; k++) {
                if (r < 0)
                        overlay_undo(g, qg, &o[k], disks[k].overlay);
                free(o[k].top);
        }
        free(o);
        return r;
}
