/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macros.h"

/* An error carried up to the one place that reports it (CLI main, control
 * dispatcher, supervisor main). code is a positive errno value or one of
 * the LV_ERR_* codes below; message names the object and the reason. */
enum {
        LV_ERR_BASE = 10000,
        LV_ERR_INVALID_XML, /* malformed or unsupported domain XML */
        LV_ERR_UNSUPPORTED, /* valid but not supported by litevirt */
        LV_ERR_NO_DOMAIN,   /* no such guest */
        LV_ERR_EXISTS,      /* duplicate name/uuid */
        LV_ERR_STATE,       /* operation invalid in the current state */
        LV_ERR_PROTOCOL,    /* malformed control/QMP/cookie message */
        LV_ERR_INTERNAL,
};

struct lv_error {
        int code;
        char *message;
};

/* Set *err (when err is not NULL and *err is still unset) and return -code
 * (or -EINVAL for LV_ERR_* codes), so callers can write
 *         return lv_error_set(err, errno, "opening '%s'", path);
 * For errno codes, ": <strerror>" is appended to the message. */
int lv_error_set(struct lv_error **err, int code, const char *fmt, ...) _printf_(3, 4);
/* Like lv_error_set, without the errno text. */
int lv_error_setf(struct lv_error **err, int code, const char *fmt, ...) _printf_(3, 4);
/* Add context in front of an existing message: "context: old message".
 * Returns the (negative) error to propagate, taken from the error's code. */
int lv_error_prefix(struct lv_error **err, const char *fmt, ...) _printf_(2, 3);
/* Negative errno for an error (-EINVAL for LV_ERR_* codes). */
int lv_error_errno(const struct lv_error *e);
void lv_error_free(struct lv_error *e);
static inline void lv_error_freep(struct lv_error **e)
{
        lv_error_free(*e);
        *e = NULL;
}
#define _cleanup_error_ _cleanup_(lv_error_freep)
const char *lv_error_code_name(int code);
