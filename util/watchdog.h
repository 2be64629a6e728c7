/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A watchdog: a small process, forked by its owner, that kills a process
 * (by pidfd, so never a reused pid) when the owner dies, however it dies
 * (SIGKILL included). It waits on a pipe whose write end only the owner
 * holds: end of file means the owner is gone (or gave the process up, see
 * watchdog_stop); a byte means "keep it". PR_SET_PDEATHSIG cannot do this
 * job: the kernel clears it when the process changes its credentials, and
 * it cannot be undone once set. The watchdog holds nothing else of its
 * owner's (no locks, sockets or leases), ignores the signals a process
 * group gets (it is in a session of its own) and only dies by SIGKILL. */

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct watchdog {
        pid_t pid;
        int fd;      /* the pipe's write end; -1: no watchdog */
        void *stack; /* the shared-memory watchdog's stack, NULL: none */
};
#define WATCHDOG_NONE ((struct watchdog){.pid = 0, .fd = -1, .stack = NULL})

/* Runs in the watchdog after it sent SIGKILL (a forked copy of the owner:
 * memory is the owner's as of the fork). */
typedef void (*watchdog_after_kill_fn)(int pidfd, void *data);

/* Watch pidfd (not taken: the watchdog gets a copy). With after_kill the
 * watchdog is a fork() of its owner. Without, it is a child sharing its
 * owner's memory (CLONE_VM; its own process otherwise, so a SIGKILL of the
 * owner does not end it): it costs a task and one or two stack pages, not
 * a copy of every page the owner writes later (~100 KiB per container,
 * docs/performance.md). Its smaps are then its owner's: count them once
 * (bench/lib/mem.py). The kernel's OOM killer ends every process of an
 * address space together, so an OOM-killed owner takes its watchdog along
 * (the owner's next lvsh then finds the leftover, docs/security.md). */
int watchdog_start(struct watchdog *w, int pidfd, watchdog_after_kill_fn after_kill, void *data,
                   struct lv_error **err);
/* keep: the watchdog exits and leaves the process alone; otherwise it
 * kills it now. Waits for the watchdog's end. Accepts WATCHDOG_NONE. */
void watchdog_stop(struct watchdog *w, bool keep);
