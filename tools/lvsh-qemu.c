/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh commands for QEMU guests' displays: vncdisplay, domdisplay. They
 * read what the QEMU driver wrote in the guest's state directory
 * ($RUNDIR/NAME/qemu.json: ports actually in use, autoport resolved), or
 * what the Xen driver wrote in the same schema ($RUNDIR/NAME/xen.json). */
#include <json-c/json.h>

#include "tools/lvsh.h"
#include "util/fileio.h"
#include "util/paths.h"
#include "util/strbuf.h"

#define QEMU_INFO_MAX (64 * 1024)

static int load_info(const char *name, struct json_object **ret, struct lv_error **err)
{
        if (!*name || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'", name);
        _cleanup_free_ char *xml = paths_guest_xml(name);
        _cleanup_free_ char *path = paths_state_file(name, "qemu.json");
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        struct lv_error *e = NULL;
        int r = file_read_bounded(path, QEMU_INFO_MAX, &data, &len, &e);
        if (r == -ENOENT) {
                lv_error_free(e);
                e = NULL;
                free(path);
                path = paths_state_file(name, "xen.json");
                r = file_read_bounded(path, QEMU_INFO_MAX, &data, &len, &e);
        }
        if (r < 0) {
                int code = e->code;
                lv_error_free(e);
                if (code != ENOENT)
                        return lv_error_setf(err, LV_ERR_INTERNAL, "guest '%s': cannot read %s",
                                             name, path);
                if (access(xml, F_OK) < 0)
                        return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'",
                                             name);
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain '%s' is not "
                                     "running (or not a QEMU or Xen guest)",
                                     name);
        }
        struct json_object *o = json_tokener_parse(data);
        if (!o || !json_object_is_type(o, json_type_object)) {
                if (o)
                        json_object_put(o);
                return lv_error_setf(err, LV_ERR_PROTOCOL, "guest '%s': %s is malformed", name,
                                     path);
        }
        *ret = o;
        return 0;
}

/* uri: vnc://HOST:DISPLAY, spice://HOST:PORT; bare: HOST:DISPLAY as virsh
 * vncdisplay prints it (":DISPLAY" for a wildcard listen address) */
static char *graphics_uri(struct json_object *gr, const char *want_type, bool bare)
{
        struct json_object *t, *l, *p;
        if (!json_object_object_get_ex(gr, "type", &t) ||
            !json_object_object_get_ex(gr, "listen", &l) ||
            !json_object_object_get_ex(gr, "port", &p))
                return NULL;
        const char *type = json_object_get_string(t);
        if (want_type && !streq(type, want_type))
                return NULL;
        const char *host = json_object_get_string(l);
        bool wildcard = streq(host, "0.0.0.0") || streq(host, "::");
        if (wildcard)
                host = "localhost";
        int port = json_object_get_int(p);
        bool v6 = strchr(host, ':') != NULL;
        if (bare)
                return xasprintf("%s%s%s:%d", v6 ? "[" : "", wildcard ? "" : host, v6 ? "]" : "",
                                 port - 5900);
        if (streq(type, "vnc"))
                return xasprintf("vnc://%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "",
                                 port - 5900);
        /* virsh: spice://HOST[:PORT][?tls-port=TLSPORT] */
        struct json_object *tp;
        int tls = json_object_object_get_ex(gr, "tls_port", &tp) ? json_object_get_int(tp) : 0;
        _cleanup_free_ char *plain = port > 0 ? xasprintf(":%d", port) : xstrdup("");
        _cleanup_free_ char *secure = tls > 0 ? xasprintf("?tls-port=%d", tls) : xstrdup("");
        return xasprintf("%s://%s%s%s%s%s", type, v6 ? "[" : "", host, v6 ? "]" : "", plain,
                         secure);
}

static int show(int argc, char **argv, const char *type, struct lv_error **err)
{
        if (argc != 2 || argv[1][0] == '-')
                return lvsh_usage_error(lvsh_find_command(argv[0]), err, "expected a domain name");
        struct json_object *info = NULL;
        int r = load_info(argv[1], &info, err);
        if (r < 0)
                return r;
        struct json_object *arr;
        char *uri = NULL;
        if (json_object_object_get_ex(info, "graphics", &arr) &&
            json_object_is_type(arr, json_type_array))
                for (size_t i = 0; i < json_object_array_length(arr) && !uri; i++)
                        uri = graphics_uri(json_object_array_get_idx(arr, i), type, type != NULL);
        json_object_put(info);
        if (!uri)
                return lv_error_setf(err, LV_ERR_STATE, "No graphical display found%s%s",
                                     type ? " of type " : "", type ? type : "");
        printf("%s\n", uri);
        free(uri);
        return 0;
}

static int cmd_vncdisplay(int argc, char **argv, struct lv_error **err)
{
        return show(argc, argv, "vnc", err);
}

static int cmd_domdisplay(int argc, char **argv, struct lv_error **err)
{
        return show(argc, argv, NULL, err);
}

const struct lvsh_command lvsh_qemu_commands[] = {
        {"vncdisplay", "NAME", "vnc display",
         "    Where the guest's VNC display listens, as HOST:DISPLAY (virsh's\n"
         "    form; :DISPLAY when it listens on every address).",
         cmd_vncdisplay},
        {"domdisplay", "NAME", "domain display connection URI",
         "    The URI of the guest's first display: vnc://HOST:DISPLAY or\n"
         "    spice://HOST[:PORT][?tls-port=TLSPORT].",
         cmd_domdisplay},
        {0},
};
