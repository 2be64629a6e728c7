/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vCPU methods: GetVcpus (lvsh vcpuinfo) and SetVcpus (lvsh setvcpus
 * --live). The driver plugs and asks for unplugs (driver.h vcpus_set);
 * the core keeps the running definition's <vcpu current=> at what the
 * guest has, and an unplug's reply waits on the loop (a deferred reply)
 * until the guest has released the vCPUs (their DEVICE_DELETED), or 5 s. */
#include "supervisor/control-methods.h"
#include "util/clock.h"
#include "util/log.h"

#define VCPU_UNPLUG_TIMEOUT_MS 5000 /* as a device's detach */

static int vcpu_check(struct supervisor *sv, bool has_op, const char *what, struct lv_error **err)
{
        if (sv->g.pid <= 0 ||
            (sv->g.state != GUEST_STATE_RUNNING && sv->g.state != GUEST_STATE_PAUSED))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain is not running");
        if (!has_op)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "this function is not supported by the %s driver: %s",
                                     sv->driver->name, what);
        return 0;
}

/* How many vCPUs the guest has; the running definition follows. */
static int vcpus_now(struct supervisor *sv, unsigned *ret, struct lv_error **err)
{
        struct domain_def *def = sv->g.def;
        struct json_object *now = json_object_new_array();
        int r = sv->driver->vcpus_info(&sv->g, now, err);
        if (r == 0) {
                unsigned have = (unsigned)json_object_array_length(now);
                unsigned cur = def->vcpus_current ? def->vcpus_current : def->vcpus;
                if (have != cur) {
                        log_info("vCPUs: %u -> %u", cur, have);
                        def->vcpus_current = have == def->vcpus ? 0 : have;
                        supervisor_definition_changed(sv);
                }
                *ret = have;
        }
        json_object_put(now);
        return r;
}

int supervisor_guest_vcpus_set(struct supervisor *sv, unsigned n, unsigned *ret_have,
                               struct lv_error **err)
{
        struct domain_def *def = sv->g.def;
        int r = vcpu_check(sv, sv->driver->vcpus_set && sv->driver->vcpus_info, "virDomainSetVcpus",
                           err);
        if (r < 0)
                return r;
        if (n < 1 || n > def->vcpus)
                return lv_error_setf(err, EINVAL,
                                     "guest '%s': requested vcpus %u is not between 1 and the "
                                     "maximum %u",
                                     sv->g.name, n, def->vcpus);
        r = sv->driver->vcpus_set(&sv->g, n, err);
        /* what the guest has now, also after a partial change */
        _cleanup_error_ struct lv_error *e = NULL;
        unsigned have = 0;
        if (vcpus_now(sv, &have, &e) < 0)
                log_warning("vCPUs after setvcpus: %s", e->message);
        *ret_have = have;
        return r < 0 ? lv_error_prefix(err, "guest '%s'", sv->g.name) : 0;
}

/* A SetVcpus call waiting for the guest to release vCPUs: looked at again
 * when QEMU says a vCPU device is deleted (DEVICE_DELETED), on the loop
 * (the event comes inside QMP's input, where no command waits for its
 * reply), and at the timeout. */
struct vcpu_wait {
        struct supervisor *sv;
        struct control_deferred *d;
        unsigned want;
        long long deadline_ms;
        struct loop_source *timer;
        struct vcpu_wait *next;
};

static void vcpu_wait_end(struct vcpu_wait *w, const struct lv_error *e)
{
        struct vcpu_wait **p = &w->sv->vcpu_waits;
        while (*p && *p != w)
                p = &(*p)->next;
        if (*p)
                *p = w->next;
        struct control_deferred *d = w->d;
        loop_source_free(w->timer);
        free(w);
        if (e)
                control_deferred_error(d, e);
        else
                control_deferred_reply(d, NULL);
}

static int on_vcpu_check(struct loop_source *s, void *data)
{
        struct vcpu_wait *w = data;
        _cleanup_error_ struct lv_error *e = NULL;
        unsigned have = 0;
        if (vcpus_now(w->sv, &have, &e) < 0) {
                lv_error_prefix(&e, "guest '%s'", w->sv->g.name);
                vcpu_wait_end(w, e);
                return 0;
        }
        if (have <= w->want) {
                vcpu_wait_end(w, NULL);
                return 0;
        }
        long long left = w->deadline_ms - clock_now_ms();
        if (left <= 0) {
                lv_error_setf(&e, ETIMEDOUT,
                              "guest '%s' has not released %u vCPU(s) after %d s (the request "
                              "stays: the vCPUs go when the guest releases them)",
                              w->sv->g.name, have - w->want, VCPU_UNPLUG_TIMEOUT_MS / 1000);
                log_info("%s", e->message);
                vcpu_wait_end(w, e);
                return 0;
        }
        /* another vCPU to go: wait for its event, or the timeout */
        if (loop_timer_set(w->timer, (uint64_t)left * 1000, &e) < 0)
                vcpu_wait_end(w, e);
        return 0;
}

void supervisor_vcpu_released(struct lv_guest *g, const char *id)
{
        struct supervisor *sv = supervisor_of(g);
        log_info("vCPU '%s' hot-unplugged", id);
        for (struct vcpu_wait *w = sv->vcpu_waits; w; w = w->next) {
                _cleanup_error_ struct lv_error *e = NULL;
                if (loop_timer_set(w->timer, 1, &e) < 0)
                        log_warning("vCPU wait: %s", e->message);
        }
}

static void vcpu_wait_abort(struct control_deferred *d, const char *why, void *data)
{
        struct vcpu_wait *w = data;
        _cleanup_error_ struct lv_error *e = NULL;
        lv_error_setf(&e, LV_ERR_STATE, "%s before it released its vCPUs", why);
        vcpu_wait_end(w, e);
}

int control_m_get_vcpus(struct control_client *cl, const struct varlink_call *call)
{
        int r = control_params_check(cl, call, NULL);
        if (r <= 0)
                return r;
        struct supervisor *sv = control_client_supervisor(cl);
        _cleanup_error_ struct lv_error *e = NULL;
        if ((r = vcpu_check(sv, sv->driver->vcpus_info, "virDomainGetVcpus", &e)) < 0)
                return control_reply_result(cl, r, e);
        struct json_object *list = json_object_new_array();
        if ((r = sv->driver->vcpus_info(&sv->g, list, &e)) < 0) {
                json_object_put(list);
                lv_error_prefix(&e, "guest '%s'", sv->g.name);
                return control_reply_result(cl, r, e);
        }
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "vcpus", list);
        r = control_reply(cl, o);
        json_object_put(o);
        return r;
}

int control_m_set_vcpus(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"count", json_type_int}, {0}};
        int r = control_params_check(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *c = control_param(call, "count");
        if (!c)
                return control_invalid_parameter(cl, "count");
        long long n = json_object_get_int64(c);
        _cleanup_error_ struct lv_error *e = NULL;
        struct supervisor *sv = control_client_supervisor(cl);
        unsigned have = 0;
        if (n < 1 || n > 4096)
                r = lv_error_setf(&e, EINVAL, "SetVcpus: count %lld is not 1..4096", n);
        else
                r = supervisor_guest_vcpus_set(sv, (unsigned)n, &have, &e);
        if (r < 0 || have <= (unsigned)n)
                return control_reply_result(cl, r, e);
        /* the guest releases them (ACPI eject): the reply waits for that,
         * on the loop, while other calls are answered */
        struct vcpu_wait *w = xcalloc(1, sizeof(*w));
        *w = (struct vcpu_wait){.sv = sv,
                                .want = (unsigned)n,
                                .deadline_ms = clock_now_ms() + VCPU_UNPLUG_TIMEOUT_MS};
        if (loop_add_timer(sv->loop, VCPU_UNPLUG_TIMEOUT_MS * 1000ULL, on_vcpu_check, w, &w->timer,
                           &e) < 0) {
                free(w);
                return control_reply_lv_error(cl, e);
        }
        w->next = sv->vcpu_waits;
        sv->vcpu_waits = w;
        w->d = control_defer(cl, vcpu_wait_abort, w);
        return 0;
}
