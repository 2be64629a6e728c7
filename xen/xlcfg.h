/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Xen's xl.cfg ⇄ the domain model. Both directions are pure: no files, no
 * global state, so tests and the fuzzer call them directly.
 *
 * xlcfg_syntax.c  the syntax of xl's config files (strings, numbers,
 *                 lists, comments) into a list of settings, bounded;
 * xlcfg.c         domain → xl.cfg text;
 * xlcfg_parse.c   settings → domain (import of existing guests).
 *
 * Anything the other side cannot express is refused with an error naming
 * it; nothing is dropped silently. */

#include <stdbool.h>
#include <stddef.h>

#include "conf/domain.h"
#include "util/error.h"

/* Limits of the syntax parser (hostile input). */
#define XLCFG_MAX_BYTES      (256 * 1024)
#define XLCFG_MAX_SETTINGS   512
#define XLCFG_MAX_LIST_ITEMS 256
#define XLCFG_MAX_DEPTH      4
/* memory/maxmem in MiB, both ways (16 TiB) */
#define XLCFG_MEMORY_MAX_MIB (16LL * 1024 * 1024)
#define XLCFG_MAX_KEY        64

/* Xen's default HVM firmware, which needs no key in xl.cfg. */
#define XEN_HVMLOADER_PATH "/usr/lib/xen/boot/hvmloader"

enum xlcfg_value_type { XLCFG_STRING, XLCFG_NUMBER, XLCFG_LIST };

struct xlcfg_value {
        enum xlcfg_value_type type;
        char *text; /* string contents (unquoted) or the number as written */
        struct xlcfg_value *items;
        int n_items;
        int line;
};

struct xlcfg_setting {
        char *key;
        struct xlcfg_value value;
        int line;
        bool used; /* set by the consumer, to find keys nobody read */
};

struct xlcfg {
        char *filename;
        struct xlcfg_setting *settings;
        int n_settings;
};

/* ---- syntax (xlcfg_syntax.c) ---- */
int xlcfg_syntax_parse(const char *text, size_t len, const char *filename, struct xlcfg **ret,
                       struct lv_error **err);
void xlcfg_free(struct xlcfg *cfg);
static inline void xlcfg_freep(struct xlcfg **c)
{
        xlcfg_free(*c);
}
#define _cleanup_xlcfg_ _cleanup_(xlcfg_freep)
/* The setting for key, or NULL. */
struct xlcfg_setting *xlcfg_get(struct xlcfg *cfg, const char *key);

/* ---- domain → xl.cfg (xlcfg.c) ---- */
int xen_xlcfg_format(const struct domain_def *def, char **ret, struct lv_error **err);

/* ---- xl.cfg → domain (xlcfg_parse.c) ---- */
int xen_xlcfg_parse(const char *text, size_t len, const char *filename, struct domain_def **ret,
                    struct lv_error **err);

/* Shared by both directions: keywords, and the bus a vdev name means
 * (DOMAIN_DISK_BUS_LAST when xl would not take the name). */
enum domain_disk_bus xen_disk_bus_of_vdev(const char *vdev);
/* "0-3,^2,6": the CPU lists both libvirt and xl read. */
bool xen_cpuset_valid(const char *s);
const char *xen_lifecycle_to_string(enum domain_lifecycle l);
int xen_lifecycle_from_string(const char *s);
