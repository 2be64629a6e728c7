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

/* The mechanism, for any numbered resource (ports here, QEMU uids in
 * qemu/security.c): a lease on number n is DIR/n.lock held with flock.
 * busy(n, arg) tells whether n is in use by something that holds no lock
 * (1 busy, 0 free, <0 error with *err); NULL: no such check. */
typedef int (*lease_busy_fn)(unsigned long n, const void *arg, struct lv_error **err);
/* The first free n in [min, max] from first on (wrapping to min after
 * max; first outside the range: from min): *ret_n, and *ret_fd holds the
 * lock (close it to give n back). Fails with EADDRINUSE when all are
 * taken; what names the resource in messages ("VNC port"). */
int lease_reserve(const char *dir, const char *what, unsigned long min, unsigned long max,
                  unsigned long first, lease_busy_fn busy, const void *arg, unsigned long *ret_n,
                  int *ret_fd, struct lv_error **err);
/* Take n itself (EADDRINUSE when another holder has it or busy() says so). */
int lease_reserve_exact(const char *dir, const char *what, unsigned long n, lease_busy_fn busy,
                        const void *arg, int *ret_fd, struct lv_error **err);

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
