/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Read a whole file of at most max bytes (a larger one is an error naming
 * the file and the limit). *ret_data is NUL-terminated. */
int file_read_bounded(const char *path, size_t max, char **ret_data, size_t *ret_len,
                      struct lv_error **err);
/* Write atomically: PATH.tmp.XXXXXX, fsync, rename over path, fsync the
 * directory. On failure the old file is untouched and no temp is left. */
int file_write_atomic(const char *path, const char *data, size_t len, mode_t mode,
                      struct lv_error **err);
/* Like file_write_atomic without the fsyncs: readers see the old or the
 * new content, never a mix, but a host crash may lose it. For runtime
 * state under /run that does not outlive the host anyway. */
int file_write_replace(const char *path, const char *data, size_t len, mode_t mode,
                       struct lv_error **err);
/* mkdir -p with mode for the created components. */
int mkdir_p(const char *path, mode_t mode, struct lv_error **err);
/* Remove a directory tree (no symlinks followed, stays on one fs). */
int rm_rf(const char *path, struct lv_error **err);
/* Write a short string to an existing file (sysfs, cgroupfs, procfs). */
int file_write_string(const char *path, const char *s, struct lv_error **err);
/* Write all of data to fd: EINTR is retried; on a non-blocking fd that is
 * full, waits for it until deadline_us (clock_now_us(); 0: no deadline),
 * then -ETIMEDOUT. A socket is written with MSG_NOSIGNAL (a closed peer is
 * -EPIPE, never SIGPIPE). Returns 0 or -errno. */
int fd_write_all(int fd, const void *data, size_t len, uint64_t deadline_us);
