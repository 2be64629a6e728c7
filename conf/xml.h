/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The libxml2-based parsers live in a loadable module (litevirt-xml.so) so
 * that binaries which do not parse XML never map libxml2 (and the ICU and
 * libstdc++ it drags in): that keeps `lvsh list` fast and a long-running
 * supervisor small. conf_xml() returns the module's table, loading it on
 * first use. Tests and fuzzers link the parsers directly
 * (conf_xml_static_lib) and get the same table without dlopen. */

#include "conf/domain.h"
#include "conf/network.h"

struct cookie;

struct conf_xml_ops {
        int (*domain_parse_string)(const char *xml, size_t len, const char *filename,
                                   struct domain_def **ret, struct lv_error **err);
        int (*domain_parse_file)(const char *path, struct domain_def **ret, struct lv_error **err);
        /* Extended by later parsers (migration cookie, ...). New members are
         * added at the end. */
        /* Migration cookie (conf/cookie.h). */
        int (*cookie_parse_string)(const char *xml, size_t len, const char *expected_name,
                                   const unsigned char *expected_uuid, unsigned accept,
                                   struct cookie **ret, struct lv_error **err);
        /* Virtual networks (conf/network.h). */
        int (*network_parse_string)(const char *xml, size_t len, const char *filename,
                                    struct network_def **ret, struct lv_error **err);
        int (*network_parse_file)(const char *path, struct network_def **ret,
                                  struct lv_error **err);
        int (*network_update_parse_string)(int section, int command, const char *xml, size_t len,
                                           struct network_update *ret, struct lv_error **err);
};

/* NULL on failure, with *err naming the module and the reason. */
const struct conf_xml_ops *conf_xml(struct lv_error **err);
/* Unload the module (a long-running process that has parsed what it
 * needs drops libxml2 and ICU from its memory). The table returned
 * earlier must not be used afterwards; conf_xml() loads it again. */
void conf_xml_unload(void);
