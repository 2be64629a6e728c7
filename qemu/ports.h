/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* TCP port allocation (VNC, SPICE, websocket, migration) that is safe
 * when many supervisors start guests at once, with no daemon:
 *  - one lock file per port in a shared directory ($RUNDIR/ports/PORT.lock),
 *    held with flock(LOCK_EX|LOCK_NB) for as long as the lease lives; the
 *    kernel drops it when the holder dies, so nothing goes stale;
 *  - plus a bind() check, so that a port used by anything else (or by a
 *    QEMU whose supervisor died and has not been reattached yet) is
 *    skipped. */

#include "util/error.h"

struct port_lease {
        int port;
        int lock_fd;
};

/* The directory of the lock files: $LITEVIRT_RUNDIR/ports (newly allocated). */
char *ports_dir(void);

/* Take the lowest free port in [min, max]. addr is the address the port
 * will be listened on (NULL: any); the bind check uses it. what names the
 * use in messages ("VNC"). Fails with EADDRINUSE when the range is full. */
int ports_reserve(const char *dir, const char *what, int min, int max, const char *addr,
                  struct port_lease *ret, struct lv_error **err);
/* Take a given port (fixed port in the definition, or re-taking a running
 * guest's port on reattach: then check_bind is false, since QEMU holds it). */
int ports_reserve_exact(const char *dir, const char *what, int port, const char *addr,
                        bool check_bind, struct port_lease *ret, struct lv_error **err);
/* Give the port back (harmless on an empty lease). */
void ports_release(struct port_lease *lease);
