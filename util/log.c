/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <stdarg.h>
#include <sys/uio.h>
#include <time.h>

static const char *log_ident = "litevirt";
static enum log_level log_max = LOG_LEVEL_INFO;
static int log_fd = -1;
static bool log_stderr = true;

static const char *const level_names[] = {
        [LOG_LEVEL_ERROR] = "error",
        [LOG_LEVEL_WARNING] = "warning",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_DEBUG] = "debug",
};

void log_set_ident(const char *ident)
{
        log_ident = ident;
}

void log_set_level(enum log_level level)
{
        log_max = level;
}

void log_to_stderr(bool on)
{
        log_stderr = on;
}

int log_open_file(const char *path, struct lv_error **err)
{
        /* O_NOFOLLOW: a symlink planted where the log goes would make us
         * append to (or create) whatever it names. */
        int fd =
                open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
        if (fd < 0)
                return lv_error_set(err, errno, "cannot open log file '%s'", path);
        log_close_file();
        log_fd = fd;
        return 0;
}

void log_close_file(void)
{
        if (log_fd >= 0)
                close(log_fd);
        log_fd = -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
        if (level > log_max)
                return;
        int saved = errno;
        char line[2048];
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        int n = snprintf(line, sizeof(line),
                         "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                         ts.tv_nsec / 1000000, log_ident, level_names[level]);
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        va_end(ap);
        size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
        if (len > sizeof(line) - 2)
                len = sizeof(line) - 2;
        line[len++] = '\n';
        if (log_stderr)
                (void)!write(STDERR_FILENO, line, len);
        if (log_fd >= 0)
                (void)!write(log_fd, line, len);
        errno = saved;
}
