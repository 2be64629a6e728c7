/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Host identity: the UUID and name a host gives in migration cookies and
 * lease records. Two hosts with the same UUID are the same host to
 * litevirt (migration between them is refused), so the UUID comes from
 * the most deliberate source available:
 *   1. host_uuid from host.conf (configured; a malformed or known-bogus
 *      value is an error, not silently replaced),
 *   2. /etc/machine-id (32 hex digits, written as a UUID),
 *   3. the SMBIOS system UUID (/sys/class/dmi/id/product_uuid), skipping
 *      the placeholder values vendors ship (see hostid_uuid_is_bogus).
 * The hostname is the configured one, else gethostname(). */

#include <stdbool.h>

#include "util/error.h"

enum hostid_source {
        HOSTID_SOURCE_CONFIG,
        HOSTID_SOURCE_MACHINE_ID,
        HOSTID_SOURCE_SMBIOS,
};
const char *hostid_source_to_string(enum hostid_source s);

struct host_identity {
        char uuid[37]; /* lower case, 8-4-4-4-12 */
        char *hostname;
        enum hostid_source source;
};

void host_identity_clear(struct host_identity *id);

/* Where the automatic sources are read; NULL members mean the defaults
 * (/etc/machine-id; /sys/class/dmi/id/product_uuid, then
 * /sys/devices/virtual/dmi/id/product_uuid). Tests point them at files. */
struct hostid_paths {
        const char *machine_id;
        const char *smbios_uuid;
};

/* configured_uuid / configured_hostname: from host.conf, NULL when unset.
 * paths may be NULL. On failure *ret is untouched and *err says which
 * sources were tried and why each was not usable. */
int hostid_resolve(const char *configured_uuid, const char *configured_hostname,
                   const struct hostid_paths *paths, struct host_identity *ret,
                   struct lv_error **err);

/* True for UUIDs that firmware ships as placeholders and that would make
 * distinct hosts look identical: all bytes equal (00..., ff...), repeated
 * patterns, and a list of known vendor values. */
bool hostid_uuid_is_bogus(const unsigned char uuid[16]);

/* /etc/machine-id's content (32 hex digits, optional trailing newline) as a
 * UUID; -EINVAL when malformed. */
int hostid_machine_id_parse(const char *text, unsigned char out[16]);
