/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The display's methods: Screenshot (the driver writes the guest's
 * display as PNG into a file of the guest's state directory, which lvsh
 * copies where the user wants it) and SendKey. */
#include <sys/stat.h>

#include "supervisor/control-methods.h"
#include "util/log.h"
#include "util/paths.h"

/* The guest runs (or is paused) and its driver has the operation. */
static int display_check(struct supervisor *sv, bool has_op, const char *what,
                         struct lv_error **err)
{
        if (sv->g.pid <= 0 ||
            (sv->g.state != GUEST_STATE_RUNNING && sv->g.state != GUEST_STATE_PAUSED))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain is not running");
        if (!has_op)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED, "guest '%s': the %s driver cannot %s",
                                     sv->g.name, sv->driver->name, what);
        return 0;
}

int supervisor_guest_send_key(struct supervisor *sv, const int *keys, int n, int holdtime_ms,
                              struct lv_error **err)
{
        int r = display_check(sv, sv->driver->send_key, "send keys", err);
        if (r < 0)
                return r;
        r = sv->driver->send_key(&sv->g, keys, n, holdtime_ms, err);
        return r < 0 ? lv_error_prefix(err, "guest '%s'", sv->g.name) : 0;
}

int supervisor_guest_screenshot(struct supervisor *sv, char **ret_path, struct lv_error **err)
{
        int r = display_check(sv, sv->driver->screenshot, "take a screenshot", err);
        if (r < 0)
                return r;
        /* written under a temporary name, renamed once complete */
        _cleanup_free_ char *path = paths_state_file(sv->g.name, "screenshot.png");
        _cleanup_free_ char *tmp = paths_state_file(sv->g.name, "screenshot.png.tmp");
        _cleanup_close_ int fd =
                open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return lv_error_set(err, errno, "guest '%s': screenshot: creating '%s'", sv->g.name,
                                    tmp);
        r = sv->driver->screenshot(&sv->g, fd, err);
        if (r >= 0 && rename(tmp, path) < 0)
                r = lv_error_set(err, errno, "renaming '%s'", tmp);
        if (r < 0) {
                (void)unlink(tmp);
                return lv_error_prefix(err, "guest '%s'", sv->g.name);
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

int control_m_screenshot(struct control_client *cl, const struct varlink_call *call)
{
        int r = control_params_check(cl, call, NULL);
        if (r <= 0)
                return r;
        _cleanup_error_ struct lv_error *e = NULL;
        _cleanup_free_ char *path = NULL;
        r = supervisor_guest_screenshot(control_client_supervisor(cl), &path, &e);
        if (r < 0)
                return control_reply_result(cl, r, e);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "mime", json_object_new_string("image/png"));
        r = control_reply(cl, o);
        json_object_put(o);
        return r;
}

int control_m_send_key(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {
                {"keys", json_type_array}, {"holdtime_ms", json_type_int}, {0}};
        int r = control_params_check(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *keys = control_param(call, "keys");
        struct json_object *h = control_param(call, "holdtime_ms");
        size_t n = keys ? json_object_array_length(keys) : 0;
        int codes[16];
        _cleanup_error_ struct lv_error *e = NULL;
        r = n >= 1 && n <= ARRAY_SIZE(codes)
                    ? 0
                    : lv_error_setf(&e, EINVAL, "SendKey: 1 to 16 keys expected");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct json_object *k = json_object_array_get_idx(keys, i);
                codes[i] = json_object_is_type(k, json_type_int) ? json_object_get_int(k) : -1;
                if (codes[i] <= 0 || codes[i] > 0xff)
                        r = lv_error_setf(&e, EINVAL, "SendKey: key %zu is not a qnum code", i);
        }
        int hold = h ? json_object_get_int(h) : 0;
        if (r >= 0 && (hold < 0 || hold > 60000))
                r = lv_error_setf(&e, EINVAL, "SendKey: holdtime_ms is not 0..60000");
        if (r >= 0)
                r = supervisor_guest_send_key(control_client_supervisor(cl), codes, (int)n, hold,
                                              &e);
        return control_reply_result(cl, r, e);
}
