/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Private to xen/xlcfg_parse*.c: the state of one import and the helpers
 * that read settings, each failing with file, line and key. */

#include "xen/xlcfg.h"

enum guest_kind { KIND_PV, KIND_HVM, KIND_PVH };

struct reader {
        struct xlcfg *cfg;
        struct domain_def *def;
        enum guest_kind kind;
        struct lv_error **err;
};

int rd_fail(struct reader *rd, int line, const char *key, const char *fmt, ...) _printf_(4, 5);
/* The setting, marked used; NULL when absent. */
struct xlcfg_setting *rd_take(struct reader *rd, const char *key);
/* *ret stays as it was when the key is absent; empty strings are refused. */
int rd_get_string(struct reader *rd, const char *key, char **ret);
int rd_parse_number(const char *text, long long min, long long max, long long *ret);
/* 1 when present (value in *ret), 0 when absent. */
int rd_get_number(struct reader *rd, const char *key, long long min, long long max, long long *ret);
/* *ret: -1 absent, else 0 or 1. */
int rd_get_bool(struct reader *rd, const char *key, int *ret);
/* A list of strings; a single string counts as a list of one. */
int rd_get_string_list(struct reader *rd, const char *key, char ***ret, int *ret_line);

/* Split a device spec ("k=v,k=v") into key/value pairs; a bare word gets
 * a NULL value. With target_last, "target=" takes the rest of the spec
 * (xl's rule for disks). */
struct spec_item {
        char *key;
        char *value;
};

void rd_spec_free(struct spec_item *items, int n);
/* -E2BIG for more than 64 items, -EINVAL for a '=' in a value. */
int rd_spec_split(const char *spec, bool target_last, struct spec_item **ret, int *ret_n);
/* "vif #2" for messages. */
char *rd_spec_describe(const char *key, int index);

/* xlcfg_parse_devices.c */
int xlcfg_read_vifs(struct reader *rd);
int xlcfg_read_disks(struct reader *rd);
