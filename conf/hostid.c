/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host identity: configured UUID, else /etc/machine-id, else SMBIOS. */
#include "conf/hostid.h"

#include <ctype.h>

#include "conf/domain.h"
#include "util/fileio.h"
#include "util/strbuf.h"

#define HOSTID_FILE_MAX 4096

const char *hostid_source_to_string(enum hostid_source s)
{
        switch (s) {
        case HOSTID_SOURCE_CONFIG:
                return "host.conf";
        case HOSTID_SOURCE_MACHINE_ID:
                return "machine-id";
        case HOSTID_SOURCE_SMBIOS:
                return "smbios";
        }
        return "unknown";
}

void host_identity_clear(struct host_identity *id)
{
        free(id->hostname);
        id->hostname = NULL;
        id->uuid[0] = '\0';
}

/* Placeholders seen in the field (firmware that never got a serial
 * programmed). Values with all bytes equal or a short repeated period are
 * caught by the pattern checks below and need no entry. */
static const char *const bogus_uuids[] = {
        "03000200-0400-0500-0006-000700080009", /* 00020003... read little-endian */
        "00020003-0004-0005-0006-000700080009", "07090201-0103-0301-0807-060504030201",
        "11111111-2222-3333-4444-555555555555", "dc698397-fa54-4cf2-82c8-b1b5307a6a7f",
        "8e275844-178f-44a8-aceb-a7d7e5178c63", "890e2d14-cacd-45d1-ae66-bc80e8bfeb0f",
};

bool hostid_uuid_is_bogus(const unsigned char u[16])
{
        /* Repeated with a period of 1, 2 or 4 bytes: 0000..., ffff...,
         * 5858... ('X'), fefe..., 12341234... (libvirt refuses period 1). */
        for (int period = 1; period <= 4; period *= 2) {
                bool repeated = true;
                for (int i = period; i < 16 && repeated; i++)
                        repeated = u[i] == u[i % period];
                if (repeated)
                        return true;
        }
        /* Only the first bytes set, the rest all ff or all 00
         * (56f49712-ffff-ffff-ffff-ffffffffffff and friends). */
        bool tail_ff = true, tail_00 = true;
        for (int i = 4; i < 16; i++) {
                tail_ff = tail_ff && u[i] == 0xff;
                tail_00 = tail_00 && u[i] == 0x00;
        }
        if (tail_ff || tail_00)
                return true;
        char s[37];
        domain_uuid_format(u, s);
        for (size_t i = 0; i < ARRAY_SIZE(bogus_uuids); i++)
                if (streq(s, bogus_uuids[i]))
                        return true;
        return false;
}

int hostid_machine_id_parse(const char *text, unsigned char out[16])
{
        size_t n = 0;
        while (text[n] && isxdigit((unsigned char)text[n]))
                n++;
        if (n != 32)
                return -EINVAL;
        const char *rest = text + n;
        if (*rest == '\n')
                rest++;
        if (*rest)
                return -EINVAL;
        _cleanup_free_ char *hex = xstrndup(text, 32);
        return domain_uuid_parse(hex, out);
}

/* Read one automatic source; returns 0 with out set, or a negative value
 * with a reason appended to why. */
static int hostid_read(const char *path, bool machine_id, unsigned char out[16], struct strbuf *why)
{
        _cleanup_error_ struct lv_error *e = NULL;
        _cleanup_free_ char *data = NULL;
        int r = file_read_bounded(path, HOSTID_FILE_MAX, &data, NULL, &e);
        if (r < 0) {
                strbuf_printf(why, "; %s", e->message);
                return r;
        }
        unsigned char u[16];
        if (machine_id)
                r = hostid_machine_id_parse(data, u);
        else
                r = domain_uuid_parse(data, u);
        if (r < 0) {
                strbuf_printf(why, "; '%s' does not hold a UUID", path);
                return r;
        }
        if (hostid_uuid_is_bogus(u)) {
                char s[37];
                domain_uuid_format(u, s);
                strbuf_printf(why, "; '%s' holds the placeholder UUID %s", path, s);
                return -EINVAL;
        }
        memcpy(out, u, 16);
        return 0;
}

static int hostid_hostname(const char *configured, char **ret, struct lv_error **err)
{
        if (configured) {
                *ret = xstrdup(configured);
                return 0;
        }
        char name[256];
        if (gethostname(name, sizeof(name)) < 0)
                return lv_error_set(err, errno, "cannot get the host name");
        name[sizeof(name) - 1] = '\0';
        *ret = xstrdup(name);
        return 0;
}

int hostid_resolve(const char *configured_uuid, const char *configured_hostname,
                   const struct hostid_paths *paths, struct host_identity *ret,
                   struct lv_error **err)
{
        unsigned char u[16];
        enum hostid_source source;

        if (configured_uuid) {
                if (domain_uuid_parse(configured_uuid, u) < 0)
                        return lv_error_setf(err, EINVAL, "host_uuid '%s' is not a UUID",
                                             configured_uuid);
                if (hostid_uuid_is_bogus(u))
                        return lv_error_setf(err, EINVAL,
                                             "host_uuid '%s' is a placeholder value shared "
                                             "by many hosts; choose a unique one",
                                             configured_uuid);
                source = HOSTID_SOURCE_CONFIG;
        } else {
                _cleanup_strbuf_ struct strbuf why = {0};
                const char *mid =
                        paths && paths->machine_id ? paths->machine_id : "/etc/machine-id";
                const char *const smbios_default[] = {
                        "/sys/class/dmi/id/product_uuid",
                        "/sys/devices/virtual/dmi/id/product_uuid",
                };
                if (hostid_read(mid, true, u, &why) == 0) {
                        source = HOSTID_SOURCE_MACHINE_ID;
                } else if (paths && paths->smbios_uuid) {
                        if (hostid_read(paths->smbios_uuid, false, u, &why) < 0)
                                return lv_error_setf(err, ENOENT,
                                                     "cannot determine the host UUID (set "
                                                     "host_uuid in host.conf)%s",
                                                     why.buf);
                        source = HOSTID_SOURCE_SMBIOS;
                } else {
                        int r = -ENOENT;
                        for (size_t i = 0; i < ARRAY_SIZE(smbios_default) && r < 0; i++)
                                r = hostid_read(smbios_default[i], false, u, &why);
                        if (r < 0)
                                return lv_error_setf(err, ENOENT,
                                                     "cannot determine the host UUID (set "
                                                     "host_uuid in host.conf)%s",
                                                     why.buf);
                        source = HOSTID_SOURCE_SMBIOS;
                }
        }

        char *hostname = NULL;
        int r = hostid_hostname(configured_hostname, &hostname, err);
        if (r < 0)
                return r;
        domain_uuid_format(u, ret->uuid);
        ret->hostname = hostname;
        ret->source = source;
        return 0;
}
