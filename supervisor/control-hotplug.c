/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hot-plug: the AttachDevice and DetachDevice methods and what they do to
 * the running guest and its running definition (docs/supervisor.md,
 * "Hot-plug"). The driver talks to the hypervisor (driver.h disk_attach,
 * disk_detach); the core keeps the running definition true: a device is
 * in definition.json exactly while the guest has it. DetachDevice's reply
 * waits for the guest's release on the loop (a deferred reply), so the
 * supervisor answers other calls meanwhile. */
#include "conf/domain_json.h"
#include "supervisor/control-methods.h"
#include "util/log.h"
#include "lib/methods.h"

#define DETACH_TIMEOUT_MS 5000 /* libvirt's qemuDomainRemoveDeviceWaitTime */

static int running_check(struct supervisor *sv, const char *what, struct lv_error **err)
{
        if (sv->g.pid <= 0 ||
            (sv->g.state != GUEST_STATE_RUNNING && sv->g.state != GUEST_STATE_PAUSED))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain is not running");
        bool can = streq(what, "attach") ? !!sv->driver->disk_attach : !!sv->driver->disk_detach;
        if (!can)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': the %s driver cannot %s disks while the guest "
                                     "runs",
                                     sv->g.name, sv->driver->name, what);
        return 0;
}

/* The one disk of a device definition sent by lvsh. */
static int device_disk(const char *json, struct domain_def **ret, struct lv_error **err)
{
        struct domain_def *dev = NULL;
        int r = domain_from_json(json, strlen(json), &dev, err);
        if (r < 0)
                return lv_error_prefix(err, "device");
        if (dev->n_disks != 1 || dev->n_nets || dev->n_filesystems) {
                domain_def_free(dev);
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "device: only one <disk> can be hot-plugged at a time");
        }
        *ret = dev;
        return 0;
}

int supervisor_guest_disk_attach(struct supervisor *sv, struct domain_disk *d,
                                 struct lv_error **err)
{
        struct domain_def *def = sv->g.def;
        int r = running_check(sv, "attach", err);
        if (r < 0)
                return r;
        if ((r = domain_disk_attach(def, d, err)) < 0)
                return lv_error_prefix(err, "guest '%s': attaching a disk", sv->g.name);
        int i = def->n_disks - 1;
        if ((r = sv->driver->disk_attach(&sv->g, i, err)) < 0) {
                domain_disk_remove(def, i);
                return lv_error_prefix(err, "guest '%s': attaching a disk", sv->g.name);
        }
        supervisor_definition_changed(sv);
        return 0;
}

int supervisor_guest_disk_detach(struct supervisor *sv, const char *target, char **ret_dev,
                                 struct lv_error **err)
{
        int r = running_check(sv, "detach", err);
        if (r < 0)
                return r;
        int i = domain_disk_find(sv->g.def, target);
        if (i < 0)
                return lv_error_setf(err, ENOENT, "No disk found whose source path or target is %s",
                                     target);
        _cleanup_free_ char *dev = xstrdup(sv->g.def->disks[i].target_dev);
        if ((r = sv->driver->disk_detach(&sv->g, i, err)) < 0)
                return lv_error_prefix(err, "guest '%s': detaching disk '%s'", sv->g.name, dev);
        *ret_dev = TAKE_PTR(dev);
        return 0;
}

/* A DetachDevice call waiting for the guest to let go of a disk: its
 * deferred reply (control_defer), answered by the release, its timer,
 * or the guest's end. */
struct detach_wait {
        struct supervisor *sv;
        struct control_deferred *d;
        char *dev;
        int timeout_ms;
        struct loop_source *timer;
        struct detach_wait *next;
};

static void detach_wait_end(struct detach_wait *w, const struct lv_error *e)
{
        struct detach_wait **p = &w->sv->detach_waits;
        while (*p && *p != w)
                p = &(*p)->next;
        if (*p)
                *p = w->next;
        loop_source_free(w->timer);
        struct control_deferred *d = w->d;
        free(w->dev);
        free(w);
        if (e)
                control_deferred_error(d, e);
        else
                control_deferred_reply(d, NULL);
}

static int on_detach_timeout(struct loop_source *s, void *data)
{
        struct detach_wait *w = data;
        _cleanup_error_ struct lv_error *e = NULL;
        lv_error_setf(&e, ETIMEDOUT,
                      "guest '%s' did not release disk '%s' within %d ms; the request stays "
                      "pending (the disk goes when the guest releases it)",
                      w->sv->g.name, w->dev, w->timeout_ms);
        log_info("%s", e->message);
        detach_wait_end(w, e);
        return 0;
}

static void detach_wait_abort(struct control_deferred *d, const char *why, void *data)
{
        struct detach_wait *w = data;
        _cleanup_error_ struct lv_error *e = NULL;
        lv_error_setf(&e, LV_ERR_STATE, "%s before it released disk '%s'", why, w->dev);
        detach_wait_end(w, e);
}

void supervisor_disk_released(struct lv_guest *g, const char *target)
{
        struct supervisor *sv = supervisor_of(g);
        int i = domain_disk_find(g->def, target);
        if (i >= 0) {
                domain_disk_remove(g->def, i);
                log_info("disk '%s' left the running definition", target);
                supervisor_definition_changed(sv);
        }
        for (struct detach_wait *w = sv->detach_waits, *next; w; w = next) {
                next = w->next;
                if (streq(w->dev, target))
                        detach_wait_end(w, NULL);
        }
}

/* ---- methods ---- */

int control_m_attach_device(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"device", json_type_string}, {0}};
        int r = control_params_check(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *v = control_param(call, "device");
        struct supervisor *sv = control_client_supervisor(cl);
        _cleanup_error_ struct lv_error *e = NULL;
        _cleanup_domain_def_ struct domain_def *dev = NULL;
        r = v ? device_disk(json_object_get_string(v), &dev, &e)
              : lv_error_setf(&e, EINVAL, "AttachDevice: a device is required");
        if (r >= 0)
                r = supervisor_guest_disk_attach(sv, &dev->disks[0], &e);
        return control_reply_result(cl, r, e);
}

int control_m_detach_device(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {
                {"target", json_type_string}, {"timeout_ms", json_type_int}, {0}};
        int r = control_params_check(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *v = control_param(call, "target");
        struct json_object *t = control_param(call, "timeout_ms");
        int timeout = t ? json_object_get_int(t) : DETACH_TIMEOUT_MS;
        struct supervisor *sv = control_client_supervisor(cl);
        _cleanup_error_ struct lv_error *e = NULL;
        _cleanup_free_ char *dev = NULL;
        if (!v || timeout <= 0 || timeout > 600000)
                r = lv_error_setf(&e, EINVAL, "DetachDevice: %s",
                                  !v ? "a target is required" : "timeout_ms is not 1..600000");
        else
                r = supervisor_guest_disk_detach(sv, json_object_get_string(v), &dev, &e);
        if (r < 0 || domain_disk_find(sv->g.def, dev) < 0) /* failed, or released at once */
                return control_reply_result(cl, r, e);
        /* The guest releases the device (ACPI hot-unplug): the reply waits
         * for that, on the loop, while other calls are answered. */
        struct detach_wait *w = xcalloc(1, sizeof(*w));
        *w = (struct detach_wait){
                .sv = sv, .dev = TAKE_PTR(dev), .timeout_ms = timeout, .next = sv->detach_waits};
        if (loop_add_timer(sv->loop, (uint64_t)timeout * 1000, on_detach_timeout, w, &w->timer,
                           &e) < 0) {
                free(w->dev);
                free(w);
                return control_reply_lv_error(cl, e);
        }
        sv->detach_waits = w;
        w->d = control_defer(cl, detach_wait_abort, w);
        return 0;
}
