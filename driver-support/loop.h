/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The supervisor's event loop: one epoll set multiplexing fds (control
 * socket, clients, console pty), one-shot timers (timerfd), signals
 * (one signalfd) and child exits (pidfd). Single-threaded. A source may be
 * freed from any callback, including its own and one whose event is still
 * pending in the same batch: freeing is deferred until the batch is done.
 * Why our own loop rather than sd-event: see docs/supervisor.md. */

#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "util/error.h"

struct lv_loop;
struct loop_source;

/* Callbacks return 0, or a negative errno to end the loop with that
 * error (loop_run returns it). */
typedef int (*loop_io_fn)(struct loop_source *s, int fd, uint32_t revents, void *data);
typedef int (*loop_timer_fn)(struct loop_source *s, void *data);
typedef int (*loop_signal_fn)(struct loop_source *s, const struct signalfd_siginfo *si, void *data);
/* The process behind pidfd has exited (it is not reaped: the callback
 * reaps it with waitid(P_PIDFD) when it is a child). */
typedef int (*loop_pidfd_fn)(struct loop_source *s, int pidfd, void *data);

int loop_new(struct lv_loop **ret, struct lv_error **err);
void loop_free(struct lv_loop *l);
static inline void loop_freep(struct lv_loop **l)
{
        loop_free(*l);
}
#define _cleanup_loop_ _cleanup_(loop_freep)

/* events: EPOLLIN, EPOLLOUT, ... The fd stays owned by the caller. */
int loop_add_io(struct lv_loop *l, int fd, uint32_t events, loop_io_fn fn, void *data,
                struct loop_source **ret, struct lv_error **err);
int loop_source_set_events(struct loop_source *s, uint32_t events, struct lv_error **err);

/* A one-shot timer firing usec microseconds from now (CLOCK_MONOTONIC).
 * loop_timer_set re-arms it (0 disarms). */
int loop_add_timer(struct lv_loop *l, uint64_t usec, loop_timer_fn fn, void *data,
                   struct loop_source **ret, struct lv_error **err);
int loop_timer_set(struct loop_source *s, uint64_t usec, struct lv_error **err);

/* Blocks sig for the process and delivers it through the loop's signalfd.
 * One source per signal. */
int loop_add_signal(struct lv_loop *l, int sig, loop_signal_fn fn, void *data,
                    struct loop_source **ret, struct lv_error **err);

/* Watch a pidfd (owned by the caller). Fires once. */
int loop_add_pidfd(struct lv_loop *l, int pidfd, loop_pidfd_fn fn, void *data,
                   struct loop_source **ret, struct lv_error **err);

/* Remove and free a source (NULL is fine). */
void loop_source_free(struct loop_source *s);
static inline void loop_source_freep(struct loop_source **s)
{
        loop_source_free(*s);
        *s = NULL;
}

/* Run until loop_exit() or a callback fails. Returns the exit code given
 * to loop_exit (>= 0) or the callback's negative errno. */
int loop_run(struct lv_loop *l);
/* Dispatch one batch of events, waiting at most timeout_ms (-1: forever).
 * Returns the number of events dispatched or a negative errno. */
int loop_dispatch(struct lv_loop *l, int timeout_ms);
void loop_exit(struct lv_loop *l, int code);
/* Inside a loop_dispatch called from a callback: a callback further up the
 * stack still runs (memory it may look at must not be freed yet). */
bool loop_nested(const struct lv_loop *l);
bool loop_exiting(const struct lv_loop *l);
