/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* host.conf: `key = value` lines. */
#include <ctype.h>
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

#include "conf/domain.h"
#include "conf/host_conf.h"
#include "util/fileio.h"
#include "util/paths.h"

void host_conf_init(struct host_conf *conf)
{
        *conf = (struct host_conf){
                .vnc_port_min = 5900,
                .vnc_port_max = 65535,
                .spice_port_min = 5900,
                .spice_port_max = 65535,
                .migration_port_min = 49152,
                .migration_port_max = 49215,
                .lockspace_dir = xstrdup("/var/lib/litevirt/lockspace"),
                .shutdown_timeout = 300,
                .qemu_uid_min = HOST_CONF_QEMU_UID_MIN,
                .qemu_uid_max = HOST_CONF_QEMU_UID_MAX,
                .default_tls_x509_cert_dir = xstrdup("/etc/pki/qemu"),
                .migrate_tls_x509_verify = true,
        };
}

const char *host_conf_migrate_tls_dir(const struct host_conf *conf)
{
        return conf->migrate_tls_x509_cert_dir ? conf->migrate_tls_x509_cert_dir
                                               : conf->default_tls_x509_cert_dir;
}

const char *host_conf_spice_tls_dir(const struct host_conf *conf)
{
        if (conf->spice_tls_x509_cert_dir)
                return conf->spice_tls_x509_cert_dir;
        /* libvirt's SET_TLS_X509_CERT_DEFAULT(spice) */
        if (access("/etc/pki/libvirt-spice", F_OK) == 0)
                return "/etc/pki/libvirt-spice";
        return conf->default_tls_x509_cert_dir;
}

void host_conf_x509_files(const char *dir, const char *role, char *files[HOST_CONF_X509_FILES])
{
        files[0] = xasprintf("%s/ca-cert.pem", dir);
        files[1] = xasprintf("%s/%s-cert.pem", dir, role);
        files[2] = xasprintf("%s/%s-key.pem", dir, role);
}

int host_conf_x509_check(const char *dir, const char *role, const char *what, const char *setting,
                         struct lv_error **err)
{
        char *files[HOST_CONF_X509_FILES];
        host_conf_x509_files(dir, role, files);
        int r = 0;
        for (size_t i = 0; i < HOST_CONF_X509_FILES; i++) {
                int fd = r < 0 ? -1 : open(files[i], O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (r >= 0 && fd < 0)
                        r = lv_error_set(err, errno, "%s: %s certificate file '%s' (host.conf %s)",
                                         what, role, files[i], setting);
                if (fd >= 0)
                        close(fd);
                free(files[i]);
        }
        return r;
}

void host_conf_clear(struct host_conf *conf)
{
        free(conf->hostname);
        free(conf->migration_address);
        free(conf->cgroup_parent);
        free(conf->lockspace_dir);
        free(conf->socket_group);
        free(conf->qemu_user);
        free(conf->socket_readonly_group);
        free(conf->default_tls_x509_cert_dir);
        free(conf->migrate_tls_x509_cert_dir);
        free(conf->spice_tls_x509_cert_dir);
        *conf = (struct host_conf){0};
}

static void host_conf_copy(struct host_conf *dst, const struct host_conf *src)
{
        *dst = *src;
        dst->hostname = xstrdup_null(src->hostname);
        dst->migration_address = xstrdup_null(src->migration_address);
        dst->cgroup_parent = xstrdup_null(src->cgroup_parent);
        dst->lockspace_dir = xstrdup_null(src->lockspace_dir);
        dst->socket_group = xstrdup_null(src->socket_group);
        dst->qemu_user = xstrdup_null(src->qemu_user);
        dst->socket_readonly_group = xstrdup_null(src->socket_readonly_group);
        dst->default_tls_x509_cert_dir = xstrdup_null(src->default_tls_x509_cert_dir);
        dst->migrate_tls_x509_cert_dir = xstrdup_null(src->migrate_tls_x509_cert_dir);
        dst->spice_tls_x509_cert_dir = xstrdup_null(src->spice_tls_x509_cert_dir);
}

enum value_kind {
        V_UUID,
        V_HOSTNAME,
        V_PORT,
        V_STRING,
        V_PATH,
        V_NAME,
        V_SECONDS,
        V_ID,
        V_USER,
        V_BOOL
};

struct key {
        const char *name;
        enum value_kind kind;
        size_t offset;
};

#define OFF(f) offsetof(struct host_conf, f)
static const struct key keys[] = {
        {"host_uuid", V_UUID, OFF(host_uuid)},
        {"hostname", V_HOSTNAME, OFF(hostname)},
        {"vnc_port_min", V_PORT, OFF(vnc_port_min)},
        {"vnc_port_max", V_PORT, OFF(vnc_port_max)},
        {"spice_port_min", V_PORT, OFF(spice_port_min)},
        {"spice_port_max", V_PORT, OFF(spice_port_max)},
        {"migration_port_min", V_PORT, OFF(migration_port_min)},
        {"migration_port_max", V_PORT, OFF(migration_port_max)},
        {"migration_address", V_STRING, OFF(migration_address)},
        {"cgroup_parent", V_PATH, OFF(cgroup_parent)},
        {"lockspace_dir", V_PATH, OFF(lockspace_dir)},
        {"socket_group", V_NAME, OFF(socket_group)},
        {"socket_readonly_group", V_NAME, OFF(socket_readonly_group)},
        {"shutdown_timeout", V_SECONDS, OFF(shutdown_timeout)},
        {"qemu_uid_min", V_ID, OFF(qemu_uid_min)},
        {"qemu_uid_max", V_ID, OFF(qemu_uid_max)},
        {"qemu_user", V_USER, OFF(qemu_user)},
        {"default_tls_x509_cert_dir", V_PATH, OFF(default_tls_x509_cert_dir)},
        {"migrate_tls_x509_cert_dir", V_PATH, OFF(migrate_tls_x509_cert_dir)},
        {"migrate_tls_x509_verify", V_BOOL, OFF(migrate_tls_x509_verify)},
        {"spice_tls", V_BOOL, OFF(spice_tls)},
        {"spice_tls_x509_cert_dir", V_PATH, OFF(spice_tls_x509_cert_dir)},
};

static bool uuid_is_bogus(const unsigned char u[16])
{
        /* all bytes equal (all zeros, all ones, ...) identify no host */
        for (int i = 1; i < 16; i++)
                if (u[i] != u[0])
                        return false;
        return true;
}

static int set_value(const struct key *k, const char *v, struct host_conf *conf, const char *file,
                     int line, struct lv_error **err)
{
        void *slot = (char *)conf + k->offset;
        char *end = NULL;
        for (const char *p = v; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return lv_error_setf(err, EINVAL,
                                             "%s:%d: %s: control character 0x%02x in the value",
                                             file, line, k->name, (unsigned char)*p);
        switch (k->kind) {
        case V_UUID: {
                unsigned char u[16];
                if (domain_uuid_parse(v, u) < 0)
                        return lv_error_setf(err, EINVAL, "%s:%d: %s: '%s' is not a UUID", file,
                                             line, k->name, v);
                if (uuid_is_bogus(u))
                        return lv_error_setf(err, EINVAL, "%s:%d: %s: '%s' cannot identify a host",
                                             file, line, k->name, v);
                memcpy(slot, u, 16);
                conf->has_host_uuid = true;
                return 0;
        }
        case V_PORT: {
                errno = 0;
                long p = strtol(v, &end, 10);
                if (!*v || *end || errno || p < 1 || p > 65535)
                        return lv_error_setf(err, EINVAL,
                                             "%s:%d: %s: '%s' is not a port (1..65535)", file, line,
                                             k->name, v);
                *(int *)slot = (int)p;
                return 0;
        }
        case V_SECONDS: {
                errno = 0;
                unsigned long s = strtoul(v, &end, 10);
                if (!*v || *end || errno || v[0] == '-' || s > 86400)
                        return lv_error_setf(
                                err, EINVAL,
                                "%s:%d: %s: '%s' is not a number of seconds (0..86400)", file, line,
                                k->name, v);
                *(unsigned *)slot = (unsigned)s;
                return 0;
        }
        case V_BOOL: /* qemu.conf's 0 and 1 */
                if (!streq(v, "0") && !streq(v, "1"))
                        return lv_error_setf(err, EINVAL, "%s:%d: %s: '%s' is not 0 or 1", file,
                                             line, k->name, v);
                *(bool *)slot = streq(v, "1");
                return 0;
        case V_ID: {
                /* not root, not the overflow ids (65534) nor -1 */
                errno = 0;
                unsigned long long id = strtoull(v, &end, 10);
                if (!*v || *end || errno || v[0] == '-' || id < 1000 || id > 4294967293ULL ||
                    id == 65534)
                        return lv_error_setf(err, EINVAL,
                                             "%s:%d: %s: '%s' is not a uid for QEMU (1000.."
                                             "4294967293, not 65534)",
                                             file, line, k->name, v);
                *(unsigned *)slot = (unsigned)id;
                return 0;
        }
        case V_USER:
                if (!*v || strchr(v, '/') || strchr(v, ':') || streq(v, "root") || streq(v, "0"))
                        return lv_error_setf(err, EINVAL,
                                             "%s:%d: %s: '%s' is not an unprivileged user name",
                                             file, line, k->name, v);
                break;
        case V_HOSTNAME:
                if (!*v || strlen(v) > 253)
                        return lv_error_setf(err, EINVAL, "%s:%d: %s: '%s' is not a host name",
                                             file, line, k->name, v);
                for (const char *p = v; *p; p++)
                        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
                                return lv_error_setf(err, EINVAL,
                                                     "%s:%d: %s: '%s' is not a host name", file,
                                                     line, k->name, v);
                break;
        case V_PATH:
                if (v[0] != '/')
                        return lv_error_setf(err, EINVAL, "%s:%d: %s: '%s' is not an absolute path",
                                             file, line, k->name, v);
                for (const char *p = v; (p = strstr(p, "/..")); p++)
                        if (p[3] == '/' || p[3] == '\0')
                                return lv_error_setf(err, EINVAL,
                                                     "%s:%d: %s: '%s' leads up with '..'", file,
                                                     line, k->name, v);
                break;
        case V_NAME:
                if (!*v || strchr(v, '/') || strchr(v, ':'))
                        return lv_error_setf(err, EINVAL, "%s:%d: %s: '%s' is not a group name",
                                             file, line, k->name, v);
                break;
        case V_STRING:
                if (!*v)
                        return lv_error_setf(err, EINVAL, "%s:%d: %s: empty value", file, line,
                                             k->name);
                break;
        }
        char **s = slot;
        free(*s);
        *s = xstrdup(v);
        return 0;
}

static char *trim(char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = '\0';
        return s;
}

static int parse_into(const char *text, size_t len, const char *file, struct host_conf *conf,
                      struct lv_error **err)
{
        if (len > HOST_CONF_MAX_BYTES)
                return lv_error_setf(err, EFBIG, "%s: more than %d bytes", file,
                                     HOST_CONF_MAX_BYTES);
        if (memchr(text, '\0', len))
                return lv_error_setf(err, EINVAL, "%s: contains a NUL byte", file);
        _cleanup_free_ char *copy = xstrndup(text, len);
        bool seen[ARRAY_SIZE(keys)] = {false};
        int line = 0;
        char *save = NULL;
        for (char *p = copy; p; p = save) {
                save = strchr(p, '\n');
                if (save)
                        *save++ = '\0';
                line++;
                char *l = trim(p);
                if (!*l || *l == '#')
                        continue;
                char *eq = strchr(l, '=');
                if (!eq)
                        return lv_error_setf(err, EINVAL, "%s:%d: expected 'key = value'", file,
                                             line);
                *eq = '\0';
                char *key = trim(l), *value = trim(eq + 1);
                /* a comment after the value, unless quoted */
                if (*value == '"') {
                        char *close = strchr(value + 1, '"');
                        if (!close)
                                return lv_error_setf(err, EINVAL, "%s:%d: unterminated quote", file,
                                                     line);
                        char *rest = trim(close + 1);
                        if (*rest && *rest != '#')
                                return lv_error_setf(err, EINVAL,
                                                     "%s:%d: text after the quoted value", file,
                                                     line);
                        *close = '\0';
                        value++;
                } else {
                        char *hash = strchr(value, '#');
                        if (hash) {
                                *hash = '\0';
                                value = trim(value);
                        }
                }
                size_t i = 0;
                while (i < ARRAY_SIZE(keys) && !streq(keys[i].name, key))
                        i++;
                if (i == ARRAY_SIZE(keys))
                        return lv_error_setf(err, EINVAL, "%s:%d: unknown key '%s'", file, line,
                                             key);
                if (seen[i])
                        return lv_error_setf(err, EINVAL, "%s:%d: key '%s' given twice", file, line,
                                             key);
                seen[i] = true;
                int r = set_value(&keys[i], value, conf, file, line, err);
                if (r < 0)
                        return r;
        }
        static const struct {
                const char *what;
                size_t min, max;
        } ranges[] = {
                {"vnc_port", OFF(vnc_port_min), OFF(vnc_port_max)},
                {"spice_port", OFF(spice_port_min), OFF(spice_port_max)},
                {"migration_port", OFF(migration_port_min), OFF(migration_port_max)},
        };
        for (size_t i = 0; i < ARRAY_SIZE(ranges); i++) {
                int lo = *(int *)((char *)conf + ranges[i].min);
                int hi = *(int *)((char *)conf + ranges[i].max);
                if (lo > hi)
                        return lv_error_setf(err, EINVAL, "%s: %s_min (%d) is above %s_max (%d)",
                                             file, ranges[i].what, lo, ranges[i].what, hi);
        }
        if (conf->qemu_uid_min > conf->qemu_uid_max)
                return lv_error_setf(err, EINVAL,
                                     "%s: qemu_uid_min (%u) is above qemu_uid_max (%u)", file,
                                     conf->qemu_uid_min, conf->qemu_uid_max);
        return 0;
}

int host_conf_parse(const char *text, size_t len, const char *filename, struct host_conf *conf,
                    struct lv_error **err)
{
        struct host_conf tmp;
        host_conf_copy(&tmp, conf);
        int r = parse_into(text, len, filename ? filename : "host.conf", &tmp, err);
        if (r < 0) {
                host_conf_clear(&tmp);
                return r;
        }
        host_conf_clear(conf);
        *conf = tmp;
        return 0;
}

int host_conf_load(const char *path, struct host_conf *conf, struct lv_error **err)
{
        _cleanup_free_ char *def_path = NULL;
        const char *env = getenv("LITEVIRT_HOST_CONF");
        if (!path && env && *env)
                path = env;
        if (!path)
                path = def_path = xasprintf("%s/host.conf", paths_confdir());
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return 0;
        int r = file_read_bounded(path, HOST_CONF_MAX_BYTES, &data, &len, err);
        if (r < 0)
                return r;
        return host_conf_parse(data, len, path, conf, err);
}
