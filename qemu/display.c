/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QEMU driver's display operations: SPICE over TLS (host.conf's
 * spice_tls and its certificates, libvirt's qemu.conf settings); lvsh screenshot (QMP screendump,
 * format png, QEMU 7.1 and later, into a descriptor of the supervisor's
 * handed to QEMU in an fd set: QEMU's own uid and read-only view of the
 * host could not create the file) and lvsh send-key (QMP send-key). */
#include <json-c/json.h>

#include "conf/host_conf.h"
#include "qemu/command.h"
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

/* The certificate directory QEMU's SPICE server gets (x509-dir), or NULL
 * with spice_tls off (newly allocated). */
char *qemu_spice_tls_dir(const struct host_conf *hc)
{
        return hc->spice_tls ? xstrdup(host_conf_spice_tls_dir(hc)) : NULL;
}

/* Whether a display of def listens on a SPICE TLS port. */
static bool spice_tls_used(const struct domain_def *def, bool spice_tls)
{
        for (int i = 0; i < def->n_graphics; i++) {
                bool port, tls;
                qemu_command_graphics_needs(&def->graphics[i], spice_tls, &port, &tls);
                if (tls)
                        return true;
        }
        return false;
}

/* SPICE over TLS: the server's files checked before anything starts,
 * each named when missing */
int qemu_spice_tls_check(const struct domain_def *def, struct lv_error **err)
{
        struct host_conf hc;
        host_conf_init(&hc);
        int r = host_conf_load(NULL, &hc, err);
        if (r >= 0 && hc.spice_tls && spice_tls_used(def, true))
                r = host_conf_x509_check(host_conf_spice_tls_dir(&hc), "server", "SPICE TLS",
                                         "spice_tls_x509_cert_dir", err);
        host_conf_clear(&hc);
        return r;
}

/* The SPICE server's certificate files: QEMU's uid may read them until
 * QEMU answers on QMP (its SPICE server loads them before that). */
int qemu_spice_tls_grant(struct lv_guest *g, struct qemu_guest *qg, struct lv_error **err)
{
        bool tls = false;
        for (int i = 0; i < qg->n_gports; i++)
                tls |= qg->gports[i].tls_port > 0;
        if (!tls || !qg->spice_tls_dir)
                return 0;
        char *files[HOST_CONF_X509_FILES];
        host_conf_x509_files(qg->spice_tls_dir, "server", files);
        int r = 0;
        for (size_t i = 0; i < HOST_CONF_X509_FILES; i++) {
                if (r >= 0 && (r = qemu_confine_grant_read(g, qg, files[i], err)) < 0)
                        lv_error_prefix(err, "guest '%s': SPICE TLS", g->name);
                free(files[i]);
        }
        return r;
}

void qemu_spice_tls_forget(struct lv_guest *g, struct qemu_guest *qg)
{
        if (!qg->spice_tls_dir)
                return;
        char *files[HOST_CONF_X509_FILES];
        host_conf_x509_files(qg->spice_tls_dir, "server", files);
        for (size_t i = 0; i < HOST_CONF_X509_FILES; i++) {
                qemu_confine_forget_overlay(g, qg, files[i]);
                free(files[i]);
        }
}
