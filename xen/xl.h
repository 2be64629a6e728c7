/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Running Xen's `xl` (xen/xl.c): the toolstack the Xen driver drives.
 * The binary is $LITEVIRT_XL when set (tests), else `xl` on PATH. */

#include <sys/types.h>

#include "driver-support/driver.h"
#include "util/error.h"

#define XEN_XL_OUTPUT_MAX (256 * 1024)

const char *xen_xl_path(void);

/* Run `xl ARGS...` to completion. Returns 0 when it exited 0, with its
 * stdout in *ret_out (may be NULL). Otherwise an error naming the command
 * and carrying xl's stderr. */
int xen_xl_run(char *const args[], char **ret_out, struct lv_error **err);

/* Is this a Xen host where xl can work: /proc/xen present with the
 * control domain's capabilities. The error says why not. */
int xen_host_check(struct lv_error **err);

/* The state of domain NAME from `xl list NAME`:
 * r/b → running, p → paused, s → shutdown, c → crashed, d → shutdown. */
int xen_domain_state(const char *name, enum guest_state *ret, struct lv_error **err);

/* VNC display number of a running domain (`xl vncviewer` would connect
 * to it): from `xl list -l NAME`, port 5900 + display. */
int xen_domain_vncdisplay(const char *name, int *ret_display, struct lv_error **err);

/* argv for an interactive console: xl console NAME (NULL-terminated,
 * caller frees with strv_free). */
char **xen_console_argv(const char *name);
