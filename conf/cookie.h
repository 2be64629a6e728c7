/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The migration cookie: what two supervisors tell each other at each
 * migration phase, as an XML document compatible with libvirt's
 * <qemu-migration> cookie for the parts both have:
 *
 *   <qemu-migration>
 *     <name>web1</name> <uuid>...</uuid>          the guest
 *     <hostname>a</hostname> <hostuuid>...</hostuuid>   the sender's host
 *     <feature name='lockstate'/>                  parts the receiver MUST
 *                                                  understand (else refused)
 *     <graphics type='spice' port='5901' tlsPort='-1' listen='10.0.0.2'>
 *       <cert info='subject' value='...'/>
 *     </graphics>                                  where clients reconnect
 *     <lockstate driver='litevirt'><leases>...</leases></lockstate>
 *     <statistics>...</statistics>                 the finished job
 *     <ram-pad/>                                   litevirt's own: the guest's
 *                                                  RAM carries the driver's pad
 *                                                  (lv_guest.ram_pad); absent:
 *                                                  none (libvirt, older litevirt)
 *   </qemu-migration>
 *
 * Other elements libvirt writes (domain, network, nbd, cpu, capabilities,
 * ...) are skipped on input. The guest's definition travels beside the
 * cookie, not inside it. Parsing (cookie_parse.c) needs libxml2 and lives
 * in the parse module (conf_xml()->cookie_parse_string); formatting
 * (cookie_format.c) does not. */

#include <stdbool.h>
#include <stdint.h>

#include "conf/domain.h"
#include "util/error.h"

#define COOKIE_MAX_BYTES 16384

/* libvirt's cookie features, in libvirt's order (its bit numbers). */
enum cookie_feature {
        COOKIE_FEATURE_GRAPHICS,
        COOKIE_FEATURE_LOCKSTATE,
        COOKIE_FEATURE_PERSISTENT,
        COOKIE_FEATURE_NETWORK,
        COOKIE_FEATURE_NBD,
        COOKIE_FEATURE_STATISTICS,
        COOKIE_FEATURE_MEMORY_HOTPLUG,
        COOKIE_FEATURE_CPU_HOTPLUG,
        COOKIE_FEATURE_CPU,
        COOKIE_FEATURE_ALLOW_REBOOT,
        COOKIE_FEATURE_CAPABILITIES,
        COOKIE_FEATURE_BLOCK_DIRTY_BITMAPS,
        COOKIE_FEATURE_LAST
};
const char *cookie_feature_to_string(int f);
int cookie_feature_from_string(const char *s);

const char *cookie_graphics_type_to_string(enum domain_graphics_type t);
int cookie_graphics_type_from_string(const char *s);

#define COOKIE_FEATURE_BIT(f) (1u << (f))
/* What a litevirt supervisor understands when a peer marks it mandatory. */
#define COOKIE_FEATURES_LITEVIRT                                                                   \
        (COOKIE_FEATURE_BIT(COOKIE_FEATURE_GRAPHICS) |                                             \
         COOKIE_FEATURE_BIT(COOKIE_FEATURE_LOCKSTATE) |                                            \
         COOKIE_FEATURE_BIT(COOKIE_FEATURE_STATISTICS))
/* Every feature name libvirt defines (for reading libvirt's vectors). */
#define COOKIE_FEATURES_ALL ((1u << COOKIE_FEATURE_LAST) - 1)

struct cookie_graphics {
        enum domain_graphics_type type; /* vnc | spice */
        int port;                       /* -1 = none */
        int tls_port;                   /* spice only; -1 = none */
        char *listen;                   /* address clients connect to */
        char *tls_subject;              /* <cert info='subject' value=...> */
};

/* A finished migration job, libvirt's field names and units (ms, bytes,
 * bytes/s). Fields with a _set flag are optional in the XML. */
struct cookie_stats {
        unsigned long long started, stopped, sent;
        bool delta_set;
        long long delta;
        unsigned long long time_elapsed;
        bool downtime_set;
        unsigned long long downtime;
        bool setup_time_set;
        unsigned long long setup_time;
        unsigned long long memory_total, memory_processed, memory_remaining, memory_bps;
        bool memory_constant_set; /* memory_constant, _normal, _normal_bytes */
        unsigned long long memory_constant, memory_normal, memory_normal_bytes;
        unsigned long long memory_dirty_rate, memory_iteration, memory_postcopy_requests;
        unsigned long long memory_page_size;
        unsigned long long disk_total, disk_processed, disk_remaining, disk_bps;
        bool compression_set; /* the five compression_* fields */
        unsigned long long compression_cache, compression_bytes, compression_pages,
                compression_cache_misses, compression_overflow;
        int auto_converge_throttle;
};

struct cookie {
        char *name;
        unsigned char uuid[16];
        /* The sending host: the local one when formatting, the peer after
         * parsing. */
        char *hostname;
        unsigned char hostuuid[16];

        /* Formatting: features written as <feature name=.../> (the
         * receiver must understand them). */
        unsigned mandatory;
        /* Parsing: the features the sender marked mandatory. */
        unsigned peer_mandatory;

        struct cookie_graphics *graphics; /* NULL = absent */
        char *lock_driver;                /* NULL = no <lockstate> */
        char *lock_state;                 /* <leases> text, NULL when empty */
        struct cookie_stats *stats;       /* NULL = absent */
        bool ram_pad;                     /* <ram-pad/> */
};

/* A new cookie for a guest from the local host. hostuuid as text. */
struct cookie *cookie_new(const char *name, const unsigned char uuid[16], const char *hostname,
                          const unsigned char hostuuid[16]);
void cookie_free(struct cookie *c);
static inline void cookie_freep(struct cookie **c)
{
        cookie_free(*c);
}
#define _cleanup_cookie_ _cleanup_(cookie_freep)

/* Set the lock state (copies; NULL/"" state = no leases). Marks lockstate
 * mandatory, as libvirt does: a receiver that cannot take the leases must
 * not run the guest. */
void cookie_set_lockstate(struct cookie *c, const char *driver, const char *state);
/* Set graphics (copies strings). */
void cookie_set_graphics(struct cookie *c, enum domain_graphics_type type, int port, int tls_port,
                         const char *listen, const char *tls_subject);

/* ---- format (cookie_format.c, no libxml2) ---- */

/* libvirt's layout (two-space indent, trailing newline). -E2BIG with *err
 * when the result would exceed COOKIE_MAX_BYTES. */
int cookie_format(const struct cookie *c, char **ret, struct lv_error **err);

/* ---- checks (cookie.c) ---- */

/* "cannot migrate guest 'NAME' to the same host (UUID ...)" when the
 * cookie's sender is this host. */
int cookie_check_host(const struct cookie *c, const unsigned char local_hostuuid[16],
                      const char *guest_name, struct lv_error **err);

/* ---- parse (cookie_parse.c, libxml2; in the parse module) ---- */

/* Parse a cookie of len bytes (refused unread when len exceeds
 * COOKIE_MAX_BYTES). expected_name / expected_uuid, when not NULL, must
 * match the cookie's guest. accept is the mask of features this side
 * understands: a <feature> outside it (or unknown) is refused. Malformed,
 * hostile (DTD, entities) or inconsistent input is refused with a message
 * naming the line and element; *ret is untouched on failure. */
int cookie_parse_string(const char *xml, size_t len, const char *expected_name,
                        const unsigned char *expected_uuid, unsigned accept, struct cookie **ret,
                        struct lv_error **err);
