/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small epoll event loop (see loop.h and docs/supervisor.md). */
#include "driver-support/loop.h"

#include <signal.h>
#include <sys/timerfd.h>

enum source_type { SOURCE_IO, SOURCE_TIMER, SOURCE_SIGNAL, SOURCE_PIDFD, SOURCE_SIGNALFD };

struct loop_source {
        struct lv_loop *loop;
        enum source_type type;
        int fd; /* the watched fd (owned by us for timers) */
        int sig;
        uint32_t events;
        union {
                loop_io_fn io;
                loop_timer_fn timer;
                loop_signal_fn signal;
                loop_pidfd_fn pidfd;
        } fn;
        void *data;
        bool dead;
        struct loop_source *next_dead;
};

#define LOOP_MAX_SIGNAL 65

struct lv_loop {
        int epfd;
        int sigfd;
        sigset_t sigmask;
        struct loop_source *sigfd_source;
        struct loop_source *signals[LOOP_MAX_SIGNAL];
        struct loop_source *dead; /* freed after the current batch */
        int dispatching;
        bool exiting;
        int exit_code;
        int n_sources;
};

int loop_new(struct lv_loop **ret, struct lv_error **err)
{
        int fd = epoll_create1(EPOLL_CLOEXEC);
        if (fd < 0)
                return lv_error_set(err, errno, "cannot create the event loop (epoll)");
        struct lv_loop *l = xcalloc(1, sizeof(*l));
        l->epfd = fd;
        l->sigfd = -1;
        sigemptyset(&l->sigmask);
        *ret = l;
        return 0;
}

static void source_destroy(struct loop_source *s)
{
        if (s->type == SOURCE_TIMER && s->fd >= 0)
                close(s->fd);
        free(s);
}

void loop_free(struct lv_loop *l)
{
        if (!l)
                return;
        loop_source_free(l->sigfd_source);
        for (int i = 0; i < LOOP_MAX_SIGNAL; i++)
                loop_source_free(l->signals[i]);
        while (l->dead) {
                struct loop_source *s = l->dead;
                l->dead = s->next_dead;
                source_destroy(s);
        }
        if (l->sigfd >= 0)
                close(l->sigfd);
        close(l->epfd);
        free(l);
}

static int source_new(struct lv_loop *l, enum source_type type, int fd, uint32_t events, void *data,
                      struct loop_source **ret, struct lv_error **err)
{
        struct loop_source *s = xcalloc(1, sizeof(*s));
        s->loop = l;
        s->type = type;
        s->fd = fd;
        s->events = events;
        s->data = data;
        struct epoll_event ev = {.events = events, .data.ptr = s};
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = lv_error_set(err, errno, "cannot watch fd %d", fd);
                free(s);
                return r;
        }
        l->n_sources++;
        *ret = s;
        return 0;
}

int loop_add_io(struct lv_loop *l, int fd, uint32_t events, loop_io_fn fn, void *data,
                struct loop_source **ret, struct lv_error **err)
{
        struct loop_source *s;
        int r = source_new(l, SOURCE_IO, fd, events, data, &s, err);
        if (r < 0)
                return r;
        s->fn.io = fn;
        *ret = s;
        return 0;
}

int loop_source_set_events(struct loop_source *s, uint32_t events, struct lv_error **err)
{
        if (s->events == events)
                return 0;
        struct epoll_event ev = {.events = events, .data.ptr = s};
        if (epoll_ctl(s->loop->epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0)
                return lv_error_set(err, errno, "cannot change the events of fd %d", s->fd);
        s->events = events;
        return 0;
}

int loop_timer_set(struct loop_source *s, uint64_t usec, struct lv_error **err)
{
        struct itimerspec its = {
                .it_value.tv_sec = (time_t)(usec / 1000000),
                .it_value.tv_nsec = (long)(usec % 1000000) * 1000,
        };
        if (timerfd_settime(s->fd, 0, &its, NULL) < 0)
                return lv_error_set(err, errno, "cannot arm a timer");
        return 0;
}

int loop_add_timer(struct lv_loop *l, uint64_t usec, loop_timer_fn fn, void *data,
                   struct loop_source **ret, struct lv_error **err)
{
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (fd < 0)
                return lv_error_set(err, errno, "cannot create a timer (timerfd)");
        struct loop_source *s;
        int r = source_new(l, SOURCE_TIMER, fd, EPOLLIN, data, &s, err);
        if (r < 0) {
                close(fd);
                return r;
        }
        s->fn.timer = fn;
        if (usec > 0 && (r = loop_timer_set(s, usec, err)) < 0) {
                loop_source_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

static int signalfd_update(struct lv_loop *l, struct lv_error **err)
{
        int fd = signalfd(l->sigfd, &l->sigmask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd < 0)
                return lv_error_set(err, errno, "cannot set up signal handling (signalfd)");
        l->sigfd = fd;
        return 0;
}

int loop_add_signal(struct lv_loop *l, int sig, loop_signal_fn fn, void *data,
                    struct loop_source **ret, struct lv_error **err)
{
        if (sig <= 0 || sig >= LOOP_MAX_SIGNAL || l->signals[sig])
                return lv_error_setf(err, EINVAL, "cannot watch signal %d twice", sig);
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, sig);
        if (sigprocmask(SIG_BLOCK, &one, NULL) < 0)
                return lv_error_set(err, errno, "cannot block signal %d", sig);
        sigaddset(&l->sigmask, sig);
        bool created = l->sigfd < 0;
        int r = signalfd_update(l, err);
        if (r < 0)
                return r;
        if (created) {
                r = source_new(l, SOURCE_SIGNALFD, l->sigfd, EPOLLIN, NULL, &l->sigfd_source, err);
                if (r < 0)
                        return r;
        }
        struct loop_source *s = xcalloc(1, sizeof(*s));
        s->loop = l;
        s->type = SOURCE_SIGNAL;
        s->fd = -1;
        s->sig = sig;
        s->fn.signal = fn;
        s->data = data;
        l->signals[sig] = s;
        l->n_sources++;
        *ret = s;
        return 0;
}

int loop_add_pidfd(struct lv_loop *l, int pidfd, loop_pidfd_fn fn, void *data,
                   struct loop_source **ret, struct lv_error **err)
{
        struct loop_source *s;
        int r = source_new(l, SOURCE_PIDFD, pidfd, EPOLLIN, data, &s, err);
        if (r < 0)
                return r;
        s->fn.pidfd = fn;
        *ret = s;
        return 0;
}

void loop_source_free(struct loop_source *s)
{
        if (!s || s->dead)
                return;
        struct lv_loop *l = s->loop;
        s->dead = true;
        l->n_sources--;
        if (s->type == SOURCE_SIGNAL) {
                l->signals[s->sig] = NULL;
                sigdelset(&l->sigmask, s->sig);
                /* The signal stays blocked: it must not kill us now. */
                (void)signalfd_update(l, NULL);
        } else if (s->fd >= 0) {
                (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
        }
        if (l->dispatching) {
                s->next_dead = l->dead;
                l->dead = s;
        } else {
                source_destroy(s);
        }
}

static int dispatch_signals(struct lv_loop *l)
{
        for (;;) {
                struct signalfd_siginfo si;
                ssize_t n = read(l->sigfd, &si, sizeof(si));
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                if (n != sizeof(si))
                        return 0;
                if (si.ssi_signo >= LOOP_MAX_SIGNAL)
                        continue;
                struct loop_source *s = l->signals[si.ssi_signo];
                if (s && !s->dead) {
                        int r = s->fn.signal(s, &si, s->data);
                        if (r < 0)
                                return r;
                }
        }
}

static int dispatch_one(struct lv_loop *l, struct loop_source *s, uint32_t revents)
{
        switch (s->type) {
        case SOURCE_IO:
                return s->fn.io(s, s->fd, revents, s->data);
        case SOURCE_TIMER: {
                uint64_t expirations;
                if (read(s->fd, &expirations, sizeof(expirations)) < 0)
                        return 0; /* re-armed or disarmed meanwhile */
                return s->fn.timer(s, s->data);
        }
        case SOURCE_PIDFD: {
                /* Fires once: stop watching, the callback reaps. */
                (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
                return s->fn.pidfd(s, s->fd, s->data);
        }
        case SOURCE_SIGNALFD:
                return dispatch_signals(l);
        case SOURCE_SIGNAL:
                break;
        }
        return 0;
}

int loop_dispatch(struct lv_loop *l, int timeout_ms)
{
        struct epoll_event evs[32];
        int n = epoll_wait(l->epfd, evs, (int)ARRAY_SIZE(evs), timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        int r = 0;
        l->dispatching++;
        for (int i = 0; i < n && r >= 0; i++) {
                struct loop_source *s = evs[i].data.ptr;
                if (s->dead)
                        continue;
                r = dispatch_one(l, s, evs[i].events);
        }
        l->dispatching--;
        if (!l->dispatching)
                while (l->dead) {
                        struct loop_source *s = l->dead;
                        l->dead = s->next_dead;
                        source_destroy(s);
                }
        return r < 0 ? r : n;
}

int loop_run(struct lv_loop *l)
{
        while (!l->exiting) {
                int r = loop_dispatch(l, -1);
                if (r < 0)
                        return r;
        }
        return l->exit_code;
}

void loop_exit(struct lv_loop *l, int code)
{
        l->exiting = true;
        l->exit_code = code;
}

bool loop_nested(const struct lv_loop *l)
{
        return l->dispatching > 1;
}

bool loop_exiting(const struct lv_loop *l)
{
        return l->exiting;
}
