/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate --tls (virsh's meaning): QEMU's stream encrypted with the
 * certificates of host.conf's migrate_tls_x509_cert_dir (else
 * default_tls_x509_cert_dir; libvirt's /etc/pki/qemu layout), on both
 * hosts. Each end checks its files before anything starts; the driver
 * gives them to the hypervisor (lv_migration_ops.tls_begin). */
#include <string.h>

#include "supervisor/migration_priv.h"
#include "conf/host_conf.h"

int migration_tls_check(const struct lv_driver *drv, bool server, char **ret_dir, bool *ret_verify,
                        struct lv_error **err)
{
        if (!drv || !drv->migration || !drv->migration->tls_begin || !drv->migration->tls_end)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "the %s driver cannot encrypt a migration (--tls)",
                                     drv ? drv->name : "guest's");
        struct host_conf hc;
        host_conf_init(&hc);
        int r = host_conf_load(NULL, &hc, err); /* on failure: checked below */
        const char *dir = host_conf_migrate_tls_dir(&hc);
        const char *role = server ? "server" : "client";
        if (r >= 0)
                r = host_conf_x509_check(dir, role, "--tls", "migrate_tls_x509_cert_dir", err);
        if (r >= 0) {
                *ret_dir = xstrdup(dir);
                if (ret_verify)
                        *ret_verify = hc.migrate_tls_x509_verify;
        }
        host_conf_clear(&hc);
        return r;
}

char *migration_tls_hostname(const char *uri)
{
        if (!uri || !startswith(uri, "tcp:"))
                return NULL;
        const char *h = uri + 4;
        if (*h == '[') {
                const char *e = strchr(h, ']');
                return e ? xstrndup(h + 1, (size_t)(e - h - 1)) : NULL;
        }
        const char *e = strrchr(h, ':');
        return e ? xstrndup(h, (size_t)(e - h)) : NULL;
}
