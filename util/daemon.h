/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "error.h"

/* Detach: double fork, new session, cwd "/", stdio to /dev/null. The
 * first two processes _exit(0); the caller of the first one learns the
 * outcome another way (a ready fd). */
int daemon_detach(struct lv_error **err);
