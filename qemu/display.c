/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QEMU driver's display operations: lvsh screenshot (QMP screendump,
 * format png, QEMU 7.1 and later, into a descriptor of the supervisor's
 * handed to QEMU in an fd set: QEMU's own uid and read-only view of the
 * host could not create the file) and lvsh send-key (QMP send-key). */
#include <json-c/json.h>

#include "qemu/driver_priv.h"
#include "qemu/qmp.h"

int qemu_screenshot(struct lv_guest *g, int fd, struct lv_error **err)
{
        struct qmp *q = qemu_guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        long long fdset;
        int r = qemu_fdset_add(q, fd, &fdset, err);
        if (r < 0)
                return lv_error_prefix(err, "screenshot");
        struct json_object *a = json_object_new_object();
        _cleanup_free_ char *path = xasprintf("/dev/fdset/%lld", fdset);
        json_object_object_add(a, "filename", json_object_new_string(path));
        json_object_object_add(a, "format", json_object_new_string("png"));
        r = qmp_call(q, "screendump", a, QEMU_CMD_TIMEOUT_MS, NULL, err);
        qemu_fdset_remove(q, fdset);
        return r < 0 ? lv_error_prefix(err, "screenshot") : 0;
}

int qemu_send_key(struct lv_guest *g, const int *keys, int n, int holdtime_ms,
                  struct lv_error **err)
{
        struct qmp *q = qemu_guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        struct json_object *a = json_object_new_object(), *list = json_object_new_array();
        for (int i = 0; i < n; i++) {
                struct json_object *k = json_object_new_object();
                json_object_object_add(k, "type", json_object_new_string("number"));
                json_object_object_add(k, "data", json_object_new_int(keys[i]));
                json_object_array_add(list, k);
        }
        json_object_object_add(a, "keys", list);
        if (holdtime_ms > 0)
                json_object_object_add(a, "hold-time", json_object_new_int(holdtime_ms));
        int r = qmp_call(q, "send-key", a, QEMU_CMD_TIMEOUT_MS, NULL, err);
        return r < 0 ? lv_error_prefix(err, "send-key") : 0;
}
