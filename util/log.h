/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "error.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Lines look like "2026-11-25T21:14:26.123Z web1 info: message".
 * ident is the guest name (or the program name); the log goes to stderr
 * and, once log_open_file() succeeded, also to that file. */
void log_set_ident(const char *ident);
void log_set_level(enum log_level level);
int log_open_file(const char *path, struct lv_error **err);
void log_close_file(void);
void log_to_stderr(bool on);
void log_msg(enum log_level level, const char *fmt, ...) _printf_(2, 3);

#define log_error(...)   log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
