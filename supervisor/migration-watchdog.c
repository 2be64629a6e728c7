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
 * and its state behind). A watchdog process waits on a pipe whose write
 * end only the supervisor holds: end of file (the supervisor died) makes
 * it kill the hypervisor (by pidfd) and remove the guest's state
 * directory and cgroups (cgroup_guest_cleanup_stale); a byte (Finish succeeded) lets it exit
 * quietly. PR_SET_PDEATHSIG on QEMU would do the first part, but cannot be undone after Finish: the
 * guest would then die with any later supervisor crash instead of being reattached. */
void migration_watchdog_start(struct migration_watchdog *w, struct lv_guest *g)
{
        int p[2];
        int pidfd = (int)syscall(SYS_pidfd_open, g->pid, 0);
        if (pidfd < 0 || pipe2(p, O_CLOEXEC) < 0) {
                log_warning("migration watchdog: %s", strerror(errno));
                if (pidfd >= 0)
                        close(pidfd);
                return;
        }
        _cleanup_free_ char *state = paths_state_dir(g->name);
        pid_t pid = fork();
        if (pid == 0) {
                /* hold nothing of the supervisor's: not the channel, not
                 * the port or lease locks */
                int keep_r = fcntl(p[0], F_DUPFD, 3), keep_pidfd = fcntl(pidfd, F_DUPFD, 3);
                int null = open("/dev/null", O_RDWR);
                for (int fd = 0; fd < 1024; fd++)
                        if (fd != keep_r && fd != keep_pidfd && fd != null)
                                close(fd);
                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 1);
                        dup2(null, 2);
                }
                (void)setsid();
                char c;
                ssize_t n;
                while ((n = read(keep_r, &c, 1)) < 0 && errno == EINTR)
                        ;
                if (n == 1)
                        _exit(0);
                (void)syscall(SYS_pidfd_send_signal, keep_pidfd, SIGKILL, NULL, 0);
                struct pollfd pfd = {.fd = keep_pidfd, .events = POLLIN};
                (void)poll(&pfd, 1, 10000);
                (void)rm_rf(state, NULL);
                /* the guest's cgroups, as any stale guest's (cgroup/) */
                (void)cgroup_guest_cleanup_stale(g->name, NULL);
                _exit(0);
        }
        close(p[0]);
        close(pidfd);
        if (pid < 0) {
                log_warning("migration watchdog: fork: %s", strerror(errno));
                close(p[1]);
                return;
        }
        w->pid = pid;
        w->fd = p[1];
}

/* Finish succeeded: the hypervisor is the guest now; or the migration
 * failed and the caller tears everything down itself. */
void migration_watchdog_stop(struct migration_watchdog *w, bool keep)
{
        if (w->fd < 0)
                return;
        if (keep)
                (void)!write(w->fd, "k", 1);
        close(w->fd);
        w->fd = -1;
        while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
                ;
}
