/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Screenshot method: the driver writes the guest's display as PNG
 * into a file of the guest's state directory, which lvsh copies where the
 * user wants it. */
#include <sys/stat.h>

#include "supervisor/control-methods.h"
#include "util/log.h"
#include "util/paths.h"

int supervisor_guest_screenshot(struct supervisor *sv, char **ret_path, struct lv_error **err)
{
        if (sv->g.pid <= 0 ||
            (sv->g.state != GUEST_STATE_RUNNING && sv->g.state != GUEST_STATE_PAUSED))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain is not running");
        if (!sv->driver->screenshot)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': the %s driver has no display to take a "
                                     "screenshot of",
                                     sv->g.name, sv->driver->name);
        /* written under a temporary name, renamed once complete */
        _cleanup_free_ char *path = paths_state_file(sv->g.name, "screenshot.png");
        _cleanup_free_ char *tmp = paths_state_file(sv->g.name, "screenshot.png.tmp");
        _cleanup_close_ int fd =
                open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return lv_error_set(err, errno, "guest '%s': screenshot: creating '%s'", sv->g.name,
                                    tmp);
        int r = sv->driver->screenshot(&sv->g, fd, err);
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
