/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hot-plug: the AttachDevice and DetachDevice methods and what they do to
 * the running guest and its running definition (docs/supervisor.md,
 * "Hot-plug"). The driver talks to the hypervisor (driver.h disk_attach,
 * disk_detach, net_attach, net_detach, fs_attach, fs_detach); the core keeps the running definition
 * true: a device is in definition.json exactly while the guest has it. DetachDevice's reply waits
 * for the guest's release on the loop (a deferred reply), so the supervisor answers other calls
 * meanwhile. */
#include <strings.h>

#include "conf/domain_json.h"
#include "network/network.h"
#include "supervisor/control-methods.h"
#include "util/log.h"
#include "lib/methods.h"

#define DETACH_TIMEOUT_MS 5000 /* libvirt's qemuDomainRemoveDeviceWaitTime */

/* The guest runs and the driver can do it (can: its operation is set;
 * what: "attach disks"...). */
static int running_check(struct supervisor *sv, bool can, const char *what, struct lv_error **err)
{
        if (sv->g.pid <= 0 ||
            (sv->g.state != GUEST_STATE_RUNNING && sv->g.state != GUEST_STATE_PAUSED))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain is not running");
        if (!can)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': the %s driver cannot %s while the guest runs",
                                     sv->g.name, sv->driver->name, what);
        return 0;
}

/* The one device (a <disk> or an <interface>) of a definition sent by
 * lvsh. */
static int device_one(const char *json, struct domain_def **ret, struct lv_error **err)
{
        struct domain_def *dev = NULL;
        int r = domain_from_json(json, strlen(json), &dev, err);
        if (r < 0)
                return lv_error_prefix(err, "device");
        if (dev->n_disks + dev->n_nets + dev->n_filesystems != 1) {
                domain_def_free(dev);
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "device: one <disk>, <interface> or <filesystem> can be "
                                     "hot-plugged at a time");
        }
        *ret = dev;
        return 0;
}

int supervisor_guest_disk_attach(struct supervisor *sv, struct domain_disk *d,
                                 struct lv_error **err)
{
        struct domain_def *def = sv->g.def;
        int r = running_check(sv, sv->driver->disk_attach, "attach disks", err);
        if (r < 0)
                return r;
        if ((r = domain_disk_attach(def, d, err)) < 0)
                return lv_error_prefix(err, "guest '%s': attaching a disk", sv->g.name);
        int i = def->n_disks - 1;
        /* its lease first: a disk another guest holds never reaches QEMU */
        if ((r = supervisor_leases_add_disk(sv, &def->disks[i], err)) < 0) {
                domain_disk_remove(def, i);
                return lv_error_prefix(err, "guest '%s': attaching a disk", sv->g.name);
        }
        if ((r = sv->driver->disk_attach(&sv->g, i, err)) < 0) {
                _cleanup_free_ char *source = xstrdup_null(def->disks[i].source);
                _cleanup_error_ struct lv_error *e = NULL;
                domain_disk_remove(def, i);
                if (supervisor_leases_drop_disk(sv, source, &e) < 0)
                        log_warning("guest '%s': %s", sv->g.name, e->message);
                return lv_error_prefix(err, "guest '%s': attaching a disk", sv->g.name);
        }
        supervisor_definition_changed(sv);
        return 0;
}

int supervisor_guest_disk_detach(struct supervisor *sv, const char *target, char **ret_dev,
                                 struct lv_error **err)
{
        int r = running_check(sv, sv->driver->disk_detach, "detach disks", err);
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

int supervisor_guest_net_attach(struct supervisor *sv, struct domain_net *n, struct lv_error **err)
{
        struct domain_def *def = sv->g.def;
        int r = running_check(sv, sv->driver->net_attach, "attach interfaces", err);
        if (r < 0)
                return r;
        /* a network's bridge, as at the start ("network 'x' is not active") */
        free(TAKE_PTR(n->network_bridge));
        if (n->type == DOMAIN_NET_NETWORK &&
            (r = network_state_bridge(n->source, &n->network_bridge, err)) < 0)
                return lv_error_prefix(err, "Requested operation is not valid");
        if ((r = domain_net_attach(def, n, err)) < 0)
                return lv_error_prefix(err, "guest '%s': attaching an interface", sv->g.name);
        int i = def->n_nets - 1;
        if ((r = sv->driver->net_attach(&sv->g, i, err)) < 0) {
                domain_net_remove(def, i);
                return lv_error_prefix(err, "guest '%s': attaching an interface", sv->g.name);
        }
        supervisor_definition_changed(sv);
        return 0;
}

int supervisor_guest_net_detach(struct supervisor *sv, const char *mac, char **ret_mac,
                                struct lv_error **err)
{
        int r = running_check(sv, sv->driver->net_detach, "detach interfaces", err);
        if (r < 0)
                return r;
        int i = domain_net_find(sv->g.def, mac);
        if (i < 0)
                return lv_error_setf(err, ENOENT,
                                     "operation failed: no interface with MAC address %s found",
                                     mac);
        _cleanup_free_ char *key = xstrdup(sv->g.def->nets[i].mac);
        if ((r = sv->driver->net_detach(&sv->g, i, err)) < 0)
                return lv_error_prefix(err, "guest '%s': detaching interface %s", sv->g.name, key);
        *ret_mac = TAKE_PTR(key);
        return 0;
}

int supervisor_guest_fs_attach(struct supervisor *sv, struct domain_fs *fs, struct lv_error **err)
{
        struct domain_def *def = sv->g.def;
        int r = running_check(sv, sv->driver->fs_attach, "attach filesystems", err);
        if (r < 0)
                return r;
        if ((r = domain_fs_attach(def, fs, err)) < 0)
                return lv_error_prefix(err, "guest '%s': attaching a filesystem", sv->g.name);
        int i = def->n_filesystems - 1;
        if ((r = sv->driver->fs_attach(&sv->g, i, err)) < 0) {
                domain_fs_remove(def, i);
                return lv_error_prefix(err, "guest '%s': attaching a filesystem", sv->g.name);
        }
        supervisor_definition_changed(sv);
        return 0;
}

/* Gone at once (*ret_lazy: busy, detached lazily). */
int supervisor_guest_fs_detach(struct supervisor *sv, const char *target, bool *ret_lazy,
                               struct lv_error **err)
{
        int r = running_check(sv, sv->driver->fs_detach, "detach filesystems", err);
        if (r < 0)
                return r;
        int i = domain_fs_find(sv->g.def, target);
        if (i < 0)
                return lv_error_setf(err, ENOENT, "No filesystem found whose target is %s", target);
        if (streq(target, "/"))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "the root filesystem cannot be detached");
        if ((r = sv->driver->fs_detach(&sv->g, i, err)) < 0)
                return lv_error_prefix(err, "guest '%s': detaching filesystem '%s'", sv->g.name,
                                       target);
        *ret_lazy = r > 0;
        domain_fs_remove(sv->g.def, i);
        log_info("filesystem '%s' left the running definition", target);
        supervisor_definition_changed(sv);
        return 0;
}

/* A DetachDevice call waiting for the guest to let go of a disk: its
 * deferred reply (control_defer), answered by the release, its timer,
 * or the guest's end. */
struct detach_wait {
        struct supervisor *sv;
        struct control_deferred *d;
        char *dev;        /* the disk's target dev, the interface's MAC */
        const char *what; /* "disk", "interface" */
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
                      "guest '%s' did not release %s '%s' within %d ms; the request stays "
                      "pending (the %s goes when the guest releases it)",
                      w->sv->g.name, w->what, w->dev, w->timeout_ms, w->what);
        log_info("%s", e->message);
        detach_wait_end(w, e);
        return 0;
}

static void detach_wait_abort(struct control_deferred *d, const char *why, void *data)
{
        struct detach_wait *w = data;
        _cleanup_error_ struct lv_error *e = NULL;
        lv_error_setf(&e, LV_ERR_STATE, "%s before it released %s '%s'", why, w->what, w->dev);
        detach_wait_end(w, e);
}

/* The device of key (a target dev, a MAC) is gone: the calls waiting
 * for it are answered. */
static void detach_waits_done(struct supervisor *sv, const char *key)
{
        for (struct detach_wait *w = sv->detach_waits, *next; w; w = next) {
                next = w->next;
                if (!strcasecmp(w->dev, key))
                        detach_wait_end(w, NULL);
        }
}

void supervisor_disk_released(struct lv_guest *g, const char *target)
{
        struct supervisor *sv = supervisor_of(g);
        int i = domain_disk_find(g->def, target);
        if (i >= 0) {
                _cleanup_free_ char *source = xstrdup_null(g->def->disks[i].source);
                _cleanup_error_ struct lv_error *e = NULL;
                domain_disk_remove(g->def, i);
                log_info("disk '%s' left the running definition", target);
                supervisor_definition_changed(sv);
                if (supervisor_leases_drop_disk(sv, source, &e) < 0)
                        log_warning("guest '%s': disk '%s': %s", g->name, target, e->message);
        }
        detach_waits_done(sv, target);
}

void supervisor_net_released(struct lv_guest *g, const char *mac)
{
        struct supervisor *sv = supervisor_of(g);
        int i = domain_net_find(g->def, mac);
        if (i >= 0) {
                domain_net_remove(g->def, i);
                log_info("interface %s left the running definition", mac);
                supervisor_definition_changed(sv);
        }
        detach_waits_done(sv, mac);
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
        r = v ? device_one(json_object_get_string(v), &dev, &e)
              : lv_error_setf(&e, EINVAL, "AttachDevice: a device is required");
        if (r >= 0)
                r = dev->n_disks  ? supervisor_guest_disk_attach(sv, &dev->disks[0], &e)
                    : dev->n_nets ? supervisor_guest_net_attach(sv, &dev->nets[0], &e)
                                  : supervisor_guest_fs_attach(sv, &dev->filesystems[0], &e);
        return control_reply_result(cl, r, e);
}

/* A filesystem goes at once: no release to wait for; lazy says whether
 * it was busy (unmounted lazily). */
static int detach_filesystem(struct control_client *cl, const struct varlink_call *call,
                             const char *target)
{
        struct supervisor *sv = control_client_supervisor(cl);
        _cleanup_error_ struct lv_error *e = NULL;
        bool lazy = false;
        int r = control_param(call, "target") || control_param(call, "interface")
                        ? lv_error_setf(&e, EINVAL,
                                        "DetachDevice: a target, an interface or a filesystem is "
                                        "required (one)")
                        : supervisor_guest_fs_detach(sv, target, &lazy, &e);
        if (r < 0)
                return control_reply_lv_error(cl, e);
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "lazy", json_object_new_boolean(lazy));
        return control_reply(cl, p);
}

int control_m_detach_device(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"target", json_type_string},
                                                 {"interface", json_type_string},
                                                 {"timeout_ms", json_type_int},
                                                 {"filesystem", json_type_string},
                                                 {0}};
        int r = control_params_check(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *fs = control_param(call, "filesystem");
        if (fs)
                return detach_filesystem(cl, call, json_object_get_string(fs));
        struct json_object *v = control_param(call, "target");
        struct json_object *mac = control_param(call, "interface");
        struct json_object *t = control_param(call, "timeout_ms");
        int timeout = t ? json_object_get_int(t) : DETACH_TIMEOUT_MS;
        struct supervisor *sv = control_client_supervisor(cl);
        _cleanup_error_ struct lv_error *e = NULL;
        _cleanup_free_ char *dev = NULL;
        if (!v == !mac || timeout <= 0 || timeout > 600000)
                r = lv_error_setf(&e, EINVAL, "DetachDevice: %s",
                                  !v == !mac ? "a target or an interface is required (one)"
                                             : "timeout_ms is not 1..600000");
        else if (v)
                r = supervisor_guest_disk_detach(sv, json_object_get_string(v), &dev, &e);
        else
                r = supervisor_guest_net_detach(sv, json_object_get_string(mac), &dev, &e);
        /* failed, or released at once */
        if (r < 0 || (v ? domain_disk_find(sv->g.def, dev) : domain_net_find(sv->g.def, dev)) < 0)
                return control_reply_result(cl, r, e);
        /* The guest releases the device (ACPI hot-unplug): the reply waits
         * for that, on the loop, while other calls are answered. */
        struct detach_wait *w = xcalloc(1, sizeof(*w));
        *w = (struct detach_wait){.sv = sv,
                                  .dev = TAKE_PTR(dev),
                                  .what = v ? "disk" : "interface",
                                  .timeout_ms = timeout,
                                  .next = sv->detach_waits};
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
