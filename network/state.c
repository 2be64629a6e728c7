/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding a running network: its state directory and the lock its
 * supervisor holds for as long as it lives. No libnl, no libxml2: lvsh
 * and guest supervisors link this. */
#include <json-c/json.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "network/network.h"
#include "util/fileio.h"
#include "util/paths.h"

static bool name_ok(const char *name)
{
        return name && *name && !strchr(name, '/') && name[0] != '.';
}

static int read_status(const char *name, struct json_object **ret)
{
        _cleanup_free_ char *path = paths_network_state_file(name, "status.json");
        _cleanup_free_ char *data = NULL;
        _cleanup_error_ struct lv_error *e = NULL;
        if (file_read_bounded(path, 64 * 1024, &data, NULL, &e) < 0)
                return -ENOENT;
        struct json_object *o = json_tokener_parse(data);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EINVAL;
        }
        *ret = o;
        return 0;
}

int network_state_active(const char *name, pid_t *ret_pid, struct lv_error **err)
{
        if (!name_ok(name))
                return 0;
        _cleanup_free_ char *path = paths_network_state_file(name, "lock");
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return lv_error_set(err, errno, "network '%s': opening '%s'", name, path);
        }
        if (flock(fd, LOCK_SH | LOCK_NB) == 0)
                return 0; /* nobody holds it: not running (maybe stale) */
        if (errno != EWOULDBLOCK)
                return lv_error_set(err, errno, "network '%s': locking '%s'", name, path);
        if (ret_pid) {
                struct json_object *st = NULL, *v = NULL;
                *ret_pid = 0;
                if (read_status(name, &st) == 0) {
                        if (json_object_object_get_ex(st, "pid", &v))
                                *ret_pid = (pid_t)json_object_get_int(v);
                        json_object_put(st);
                }
        }
        return 1;
}

bool network_state_stale(const char *name)
{
        if (!name_ok(name))
                return false;
        _cleanup_free_ char *dir = paths_network_state_dir(name);
        struct stat st;
        return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
               network_state_active(name, NULL, NULL) == 0;
}

int network_state_bridge(const char *name, char **ret_bridge, struct lv_error **err)
{
        int r = network_state_active(name, NULL, err);
        if (r < 0)
                return r;
        struct json_object *st = NULL, *v = NULL;
        if (r == 0 || read_status(name, &st) < 0)
                return lv_error_setf(err, LV_ERR_STATE, "network '%s' is not active", name);
        const char *b =
                json_object_object_get_ex(st, "bridge", &v) ? json_object_get_string(v) : NULL;
        if (!b || !*b) {
                json_object_put(st);
                return lv_error_setf(err, LV_ERR_STATE, "network '%s' has no bridge", name);
        }
        *ret_bridge = xstrdup(b);
        json_object_put(st);
        return 0;
}
