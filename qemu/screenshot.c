/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh screenshot for the QEMU driver: QMP screendump (format png, QEMU
 * 7.1 and later) into a descriptor of the supervisor's, handed to QEMU
 * in an fd set (QEMU's own uid and read-only view of the host could not
 * create the file). */
#include <json-c/json.h>

#include "qemu/driver_priv.h"
#include "qemu/qmp.h"

int qemu_screenshot(struct lv_guest *g, int fd, struct lv_error **err)
{
        struct qemu_guest *qg = g->driver_data;
        if (!qg || !qg->qmp || qmp_is_closed(qg->qmp))
                return lv_error_setf(err, LV_ERR_STATE, "QEMU monitor is not connected");
        long long fdset;
        int r = qemu_fdset_add(qg->qmp, fd, &fdset, err);
        if (r < 0)
                return lv_error_prefix(err, "screenshot");
        struct json_object *a = json_object_new_object();
        _cleanup_free_ char *path = xasprintf("/dev/fdset/%lld", fdset);
        json_object_object_add(a, "filename", json_object_new_string(path));
        json_object_object_add(a, "format", json_object_new_string("png"));
        r = qmp_call(qg->qmp, "screendump", a, QEMU_CMD_TIMEOUT_MS, NULL, err);
        qemu_fdset_remove(qg->qmp, fdset);
        return r < 0 ? lv_error_prefix(err, "screenshot") : 0;
}
