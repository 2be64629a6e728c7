/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by liblitevirt's files, lvsh and the supervisor (not installed). */

#include "litevirt/litevirt.h"
#include "util/error.h"

int lv_client_error_set(lv_client_error **err, int code, const char *error, const char *fmt, ...)
        _printf_(4, 5);
/* Convert an internal error. */
int lv_client_error_from(lv_client_error **err, struct lv_error *e);

/* The stale-state cleaner, for a caller that already holds the state
 * directory's lock (the supervisor taking over a dead one's directory).
 * Same results as lv_guest_cleanup_stale. */
int lv_guest_cleanup_stale_locked(const char *name, bool remove_dir, lv_client_error **err);
