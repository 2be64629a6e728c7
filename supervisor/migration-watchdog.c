/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "supervisor/migration.h"
#include "supervisor/migration_priv.h"

#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "conf/host_conf.h"
#include "conf/hostid.h"
#include "conf/xml.h"
#include "locking/lock.h"
#include "driver-support/loop.h"
#include "lib/varlink.h"
#include "util/fault.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/paths.h"
#include "util/strbuf.h"
#include "util/clock.h"

/* Until Finish, the destination's hypervisor must not outlive its
 * supervisor (a supervisor killed mid-stream would leave a paused QEMU
 * and its state behind). A watchdog (util/watchdog.h, the one the LXC
 * driver's container guard uses) kills the hypervisor when the supervisor
 * dies and then removes the guest's state directory and cgroups
 * (cgroup_guest_cleanup_stale); stopped with keep once Finish succeeded.
 * PR_SET_PDEATHSIG on QEMU would do the first part, but cannot be undone
 * after Finish: the guest would then die with any later supervisor crash
 * instead of being reattached. */
struct watchdog_cleanup {
        char *state; /* the guest's state directory */
        const char *name;
};

/* In the watchdog (a forked copy), the hypervisor killed: its state and
 * cgroups go, as any stale guest's (cgroup/). */
static void watchdog_cleanup(int pidfd, void *data)
{
        struct watchdog_cleanup *c = data;
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        (void)poll(&pfd, 1, 10000);
        (void)rm_rf(c->state, NULL);
        (void)cgroup_guest_cleanup_stale(c->name, NULL);
}

void migration_watchdog_start(struct watchdog *w, struct lv_guest *g)
{
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, g->pid, 0);
        if (pidfd < 0) {
                log_warning("migration watchdog: %s", strerror(errno));
                return;
        }
        _cleanup_free_ char *state = paths_state_dir(g->name);
        struct watchdog_cleanup c = {.state = state, .name = g->name};
        _cleanup_error_ struct lv_error *e = NULL;
        if (watchdog_start(w, pidfd, watchdog_cleanup, &c, &e) < 0)
                log_warning("migration %s", e->message);
}
