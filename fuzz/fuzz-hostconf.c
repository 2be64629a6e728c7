/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: host.conf (conf/host_conf.c), as the supervisor and lvsh
 * read it. The input is parsed over a configuration that already holds
 * non-default settings. A refusal must carry a message naming the file
 * and leave the settings exactly as they were; an accepted file must give
 * settings that keep the documented limits (ports 1..65535 with
 * min <= max, absolute paths without "..", no control characters, a host
 * UUID that can identify a host), and those settings, written out again
 * as host.conf text, must parse back to the same settings. */
#include <stdint.h>

#include "conf/domain.h"
#include "conf/host_conf.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILENAME "fuzz.conf"

static const char base_text[] = "host_uuid = 3b1a6e2c-5d4f-4e8a-9c7b-1f2e3d4c5b6a\n"
                                "hostname = base.example\n"
                                "vnc_port_min = 5910\n"
                                "migration_address = \"192.0.2.1\"\n"
                                "socket_group = kvm\n"
                                "socket_readonly_group = adm\n"
                                "shutdown_timeout = 42\n"
                                "qemu_uid_min = 400100\n";

static char *dump(const struct host_conf *c)
{
        struct strbuf b = {0};
        char u[37] = "";
        if (c->has_host_uuid)
                domain_uuid_format(c->host_uuid, u);
        strbuf_printf(&b, "%d|%s|%s|%d-%d|%d-%d|%d-%d|%s|%s|%s|%s|%s|%u|%u-%u|%s", c->has_host_uuid,
                      u, c->hostname ?: "(null)", c->vnc_port_min, c->vnc_port_max,
                      c->spice_port_min, c->spice_port_max, c->migration_port_min,
                      c->migration_port_max, c->migration_address ?: "(null)",
                      c->cgroup_parent ?: "(null)", c->lockspace_dir ?: "(null)",
                      c->socket_group ?: "(null)", c->socket_readonly_group ?: "(null)",
                      c->shutdown_timeout, c->qemu_uid_min, c->qemu_uid_max,
                      c->qemu_user ?: "(null)");
        return strbuf_steal(&b);
}

static void check_string(const char *s, bool path)
{
        if (!s)
                return;
        if (!*s)
                abort();
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        abort();
        if (!path)
                return;
        if (s[0] != '/')
                abort();
        for (const char *p = s; (p = strstr(p, "..")); p++)
                if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
                        abort();
}

static void check_ports(int lo, int hi)
{
        if (lo < 1 || hi > 65535 || lo > hi)
                abort();
}

static void check_limits(const struct host_conf *c)
{
        check_ports(c->vnc_port_min, c->vnc_port_max);
        check_ports(c->spice_port_min, c->spice_port_max);
        check_ports(c->migration_port_min, c->migration_port_max);
        check_string(c->hostname, false);
        check_string(c->migration_address, false);
        check_string(c->socket_group, false);
        check_string(c->socket_readonly_group, false);
        check_string(c->cgroup_parent, true);
        check_string(c->lockspace_dir, true);
        if (c->socket_group && (strchr(c->socket_group, '/') || strchr(c->socket_group, ':')))
                abort();
        if (c->socket_readonly_group &&
            (strchr(c->socket_readonly_group, '/') || strchr(c->socket_readonly_group, ':')))
                abort();
        if (c->shutdown_timeout > 86400)
                abort();
        if (c->qemu_uid_min < 1000 || c->qemu_uid_min > c->qemu_uid_max ||
            c->qemu_uid_max > 4294967293U)
                abort();
        check_string(c->qemu_user, false);
        if (c->qemu_user && (strchr(c->qemu_user, ':') || streq(c->qemu_user, "root")))
                abort();
        if (c->has_host_uuid) {
                int same = 1;
                for (int i = 1; i < 16; i++)
                        same &= c->host_uuid[i] == c->host_uuid[0];
                if (same)
                        abort();
        }
}

/* A value in host.conf syntax: quoted unless it holds a quote (then it
 * holds no '#', or it could not have been read). */
static void put(struct strbuf *b, const char *key, const char *v)
{
        if (!v)
                return;
        if (strchr(v, '"'))
                strbuf_printf(b, "%s = %s\n", key, v);
        else
                strbuf_printf(b, "%s = \"%s\"\n", key, v);
}

static char *format(const struct host_conf *c)
{
        struct strbuf b = {0};
        if (c->has_host_uuid) {
                char u[37];
                domain_uuid_format(c->host_uuid, u);
                strbuf_printf(&b, "host_uuid = %s\n", u);
        }
        put(&b, "hostname", c->hostname);
        strbuf_printf(&b, "vnc_port_min = %d\nvnc_port_max = %d\n", c->vnc_port_min,
                      c->vnc_port_max);
        strbuf_printf(&b, "spice_port_min = %d\nspice_port_max = %d\n", c->spice_port_min,
                      c->spice_port_max);
        strbuf_printf(&b, "migration_port_min = %d\nmigration_port_max = %d\n",
                      c->migration_port_min, c->migration_port_max);
        put(&b, "migration_address", c->migration_address);
        put(&b, "cgroup_parent", c->cgroup_parent);
        put(&b, "lockspace_dir", c->lockspace_dir);
        put(&b, "socket_group", c->socket_group);
        put(&b, "socket_readonly_group", c->socket_readonly_group);
        strbuf_printf(&b, "shutdown_timeout = %u\n", c->shutdown_timeout);
        strbuf_printf(&b, "qemu_uid_min = %u\nqemu_uid_max = %u\n", c->qemu_uid_min,
                      c->qemu_uid_max);
        put(&b, "qemu_user", c->qemu_user);
        return strbuf_steal(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct host_conf conf;
        host_conf_init(&conf);
        if (host_conf_parse(base_text, strlen(base_text), "base.conf", &conf, NULL) < 0)
                abort();
        _cleanup_free_ char *before = dump(&conf);

        struct lv_error *err = NULL;
        int r = host_conf_parse((const char *)data, size, FILENAME, &conf, &err);
        _cleanup_free_ char *after = dump(&conf);
        if (r < 0) {
                if (!err || !err->message || !startswith(err->message, FILENAME) ||
                    !streq(before, after))
                        abort();
                lv_error_free(err);
                host_conf_clear(&conf);
                return 0;
        }
        if (err)
                abort();
        check_limits(&conf);

        /* Written out and read again (over the defaults): the same. */
        _cleanup_free_ char *text = format(&conf);
        struct host_conf again;
        host_conf_init(&again);
        if (host_conf_parse(text, strlen(text), "again.conf", &again, NULL) < 0)
                abort();
        _cleanup_free_ char *round = dump(&again);
        if (!streq(after, round))
                abort();
        host_conf_clear(&again);
        host_conf_clear(&conf);
        return 0;
}
