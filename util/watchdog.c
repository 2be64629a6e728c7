/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* See watchdog.h. */
#include "watchdog.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "macros.h"

_noreturn_ static void watchdog_main(int keep_r, int keep_pidfd, watchdog_after_kill_fn after_kill,
                                     void *data)
{
        /* hold nothing of the owner's: not its sockets, locks or leases */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < 3; fd++)
                if (null >= 0)
                        dup2(null, fd);
        int lo = keep_r < keep_pidfd ? keep_r : keep_pidfd;
        int hi = keep_r < keep_pidfd ? keep_pidfd : keep_r;
        (void)syscall(SYS_close_range, 3U, (unsigned)lo - 1, 0U);
        if (hi > lo + 1)
                (void)syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0U);
        (void)syscall(SYS_close_range, (unsigned)hi + 1, ~0U, 0U);
        (void)setsid();
        static const int ignored[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGUSR1, SIGUSR2};
        for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
                signal(ignored[i], SIG_IGN);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);

        char c;
        ssize_t n;
        while ((n = read(keep_r, &c, 1)) < 0 && errno == EINTR)
                ;
        if (n == 1)
                _exit(0);
        (void)syscall(SYS_pidfd_send_signal, keep_pidfd, SIGKILL, NULL, 0);
        if (after_kill)
                after_kill(keep_pidfd, data);
        _exit(0);
}

int watchdog_start(struct watchdog *w, int pidfd, watchdog_after_kill_fn after_kill, void *data,
                   struct lv_error **err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return lv_error_set(err, errno, "watchdog: creating its pipe");
        pid_t pid = fork();
        if (pid == 0)
                watchdog_main(p[0], pidfd, after_kill, data);
        int e = errno;
        close(p[0]);
        if (pid < 0) {
                close(p[1]);
                return lv_error_set(err, e, "watchdog: fork");
        }
        w->pid = pid;
        w->fd = p[1];
        return 0;
}

void watchdog_stop(struct watchdog *w, bool keep)
{
        if (w->fd < 0)
                return;
        if (keep)
                (void)!write(w->fd, "k", 1);
        close(w->fd);
        w->fd = -1;
        while (w->pid > 0 && waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        w->pid = 0;
}
