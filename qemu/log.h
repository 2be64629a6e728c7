/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* QEMU's own messages (its stderr) go to $LOGDIR/NAME.qemu.log. */

/* Newly allocated: the log's path for guest NAME. */
char *qemu_log_path(const char *name);
/* Newly allocated: the log's last line without QEMU's timestamp (QEMU's
 * own error when it refused to start or to load a stream); "" when
 * unreadable. */
char *qemu_log_tail(const char *path);
