/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "error.h"

/* Detach: double fork, new session, cwd "/", stdio to /dev/null. The
 * first two processes _exit(0); the caller of the first one learns the
 * outcome another way (a ready fd). A process that is already the leader
 * of its own session (started so, e.g. with POSIX_SPAWN_SETSID) forks
 * only once: the first process exits, its child goes on. */
int daemon_detach(struct lv_error **err);
