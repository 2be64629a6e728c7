/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* See watchdog.h. */
#include "watchdog.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "macros.h"

/* The shared-memory watchdog runs on a stack of its own that AddressSanitizer
 * does not know of (it warns at every call that does not return, _exit
 * here, and may report false errors): its two functions go uninstrumented. */
#define WATCHDOG_NO_ASAN __attribute__((no_sanitize_address))

WATCHDOG_NO_ASAN _noreturn_ static void watchdog_main(int keep_r, int keep_pidfd,
                                                      watchdog_after_kill_fn after_kill, void *data)
{
        /* hold nothing of the owner's: not its sockets, locks or leases */
        int null = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC);
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

        /* A raw read: no cancellation bookkeeping in the owner's thread
         * data (watchdog_start's shared-memory guard). With every signal
         * ignored or fatal it fails only with EINTR (errno may be the
         * owner's there: not read). */
        char c;
        ssize_t n;
        while ((n = syscall(SYS_read, keep_r, &c, 1)) < 0)
                ;
        if (n == 1)
                _exit(0);
        (void)syscall(SYS_pidfd_send_signal, keep_pidfd, SIGKILL, NULL, 0);
        if (after_kill)
                after_kill(keep_pidfd, data);
        _exit(0);
}

/* The shared-memory guard's stack: its arguments at the top (the owner's
 * frame is gone by the time the guard reads them), the rest for the few
 * libc calls of watchdog_main (one or two pages ever touched). */
#define WATCHDOG_STACK_SIZE (16 * 1024)
struct watchdog_args {
        int keep_r, keep_pidfd;
};

WATCHDOG_NO_ASAN static int watchdog_shared_main(void *p)
{
        const struct watchdog_args *a = p;
        watchdog_main(a->keep_r, a->keep_pidfd, NULL, NULL);
}

/* A child in the owner's address space (CLONE_VM, not a thread: its own
 * thread group, signal handlers and descriptor table): no page of the
 * owner's is copied now or later, where a fork() child would keep, as
 * private pages, every page the owner writes after the fork. */
static pid_t watchdog_clone_shared(struct watchdog *w, int keep_r, int keep_pidfd)
{
        void *stack = mmap(NULL, WATCHDOG_STACK_SIZE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
                return -1;
        struct watchdog_args *a = (struct watchdog_args *)((char *)stack + WATCHDOG_STACK_SIZE) - 1;
        *a = (struct watchdog_args){.keep_r = keep_r, .keep_pidfd = keep_pidfd};
        pid_t pid = clone(watchdog_shared_main, a, CLONE_VM | SIGCHLD, a);
        if (pid < 0) {
                int e = errno;
                munmap(stack, WATCHDOG_STACK_SIZE);
                errno = e;
                return -1;
        }
        w->stack = stack;
        return pid;
}

int watchdog_start(struct watchdog *w, int pidfd, watchdog_after_kill_fn after_kill, void *data,
                   struct lv_error **err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return lv_error_set(err, errno, "watchdog: creating its pipe");
        pid_t pid;
        if (after_kill)
                pid = fork();
        else
                pid = watchdog_clone_shared(w, p[0], pidfd);
        if (pid == 0)
                watchdog_main(p[0], pidfd, after_kill, data);
        int e = errno;
        close(p[0]);
        if (pid < 0) {
                close(p[1]);
                return lv_error_set(err, e, "watchdog: %s", after_kill ? "fork" : "clone");
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
        if (w->stack) /* the guard is gone: nothing runs on it any more */
                munmap(w->stack, WATCHDOG_STACK_SIZE);
        w->stack = NULL;
}
