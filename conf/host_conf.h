/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* /etc/litevirt/host.conf ($LITEVIRT_CONFDIR/host.conf): the host's
 * identity and resources, as `key = value` lines; '#' starts a comment,
 * values may be "quoted". An unknown key, a malformed line or a bad value
 * is an error naming the file and line. A missing file means defaults. */

#include <stdbool.h>

#include "util/error.h"

#define HOST_CONF_MAX_BYTES    (64 * 1024)
#define HOST_CONF_QEMU_UID_MIN 400000
#define HOST_CONF_QEMU_UID_MAX 400999

struct host_conf {
        bool has_host_uuid;
        unsigned char host_uuid[16];                /* host_uuid */
        char *hostname;                             /* hostname override, NULL = gethostname() */
        int vnc_port_min, vnc_port_max;             /* 5900..65535 */
        int spice_port_min, spice_port_max;         /* 5900..65535 */
        int migration_port_min, migration_port_max; /* 49152..49215 */
        char *migration_address;     /* address the destination listens on, NULL = any */
        char *cgroup_parent;         /* below the supervisor's own cgroup, NULL = none */
        char *lockspace_dir;         /* disk leases, default /var/lib/litevirt/lockspace */
        char *socket_group;          /* group owning control sockets, NULL = root only */
        char *socket_readonly_group; /* its members get the read-only role, NULL = none */
        unsigned shutdown_timeout;   /* seconds before a shutdown becomes destroy, 300 */
        /* Who QEMU runs as: one uid (and gid of the same number) per running
         * guest from qemu_uid_min..qemu_uid_max, or everyone as qemu_user
         * (libvirt's model) when set. */
        unsigned qemu_uid_min, qemu_uid_max; /* 400000..400999 */
        char *qemu_user;                     /* NULL = a uid per guest */
        /* TLS certificates, libvirt's qemu.conf names and /etc/pki/qemu
         * layout (ca-cert.pem, server-cert.pem, server-key.pem,
         * client-cert.pem, client-key.pem); migrate --tls uses
         * migrate_tls_x509_cert_dir, else default_tls_x509_cert_dir. */
        char *default_tls_x509_cert_dir; /* default /etc/pki/qemu */
        char *migrate_tls_x509_cert_dir; /* NULL = default_tls_x509_cert_dir */
        bool migrate_tls_x509_verify;    /* the destination asks the source for its certificate */
        /* SPICE over TLS (<graphics type='spice' tlsPort=...>): allowed
         * only with spice_tls = 1 (qemu.conf's); the server's files
         * (ca-cert.pem, server-cert.pem, server-key.pem) from
         * spice_tls_x509_cert_dir, else as libvirt: /etc/pki/libvirt-spice
         * when it exists, else default_tls_x509_cert_dir. */
        bool spice_tls;
        char *spice_tls_x509_cert_dir; /* NULL: see above */
};

/* The directory of migrate --tls's certificates (never NULL). */
const char *host_conf_migrate_tls_dir(const struct host_conf *conf);
/* The directory of SPICE's certificates (never NULL; looks whether
 * /etc/pki/libvirt-spice exists when spice_tls_x509_cert_dir is unset). */
const char *host_conf_spice_tls_dir(const struct host_conf *conf);
/* libvirt's layout of a certificate directory, for one end (role "server"
 * or "client"): DIR/ca-cert.pem, DIR/ROLE-cert.pem, DIR/ROLE-key.pem
 * (newly allocated, into files[]). */
#define HOST_CONF_X509_FILES 3
void host_conf_x509_files(const char *dir, const char *role, char *files[HOST_CONF_X509_FILES]);
/* Each of those files can be opened; else an error naming the file, with
 * errno's text, prefixed by what ("--tls") and the host.conf key that
 * names the directory (setting). */
int host_conf_x509_check(const char *dir, const char *role, const char *what, const char *setting,
                         struct lv_error **err);

/* Fill conf with the defaults (the caller frees with host_conf_clear). */
void host_conf_init(struct host_conf *conf);
void host_conf_clear(struct host_conf *conf);

/* Parse text (pure; filename only for messages). On failure conf is left
 * as it was. */
int host_conf_parse(const char *text, size_t len, const char *filename, struct host_conf *conf,
                    struct lv_error **err);

/* The file at path (NULL: $LITEVIRT_HOST_CONF, which the supervisor's
 * --config sets for all its parts, else $LITEVIRT_CONFDIR/host.conf), if it exists,
 * over conf, which the caller set up with host_conf_init (the defaults).
 * On failure conf is left as it was; either way the caller clears it. */
int host_conf_load(const char *path, struct host_conf *conf, struct lv_error **err);
