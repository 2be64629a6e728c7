/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sd_notify protocol (sd_notify(3)): one datagram of newline-separated
 * VAR=value assignments to the AF_UNIX socket named by $NOTIFY_SOCKET (a
 * path, or an abstract name written with a leading '@'). A few lines of
 * our own instead of linking libsystemd into every supervisor. */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "supervisor/supervisor.h"
#include "util/log.h"

int notify_send(const char *state, struct lv_error **err)
{
        const char *path = getenv("NOTIFY_SOCKET");
        if (!path || !*path)
                return 0;
        if (path[0] != '/' && path[0] != '@')
                return lv_error_setf(err, EAFNOSUPPORT,
                                     "NOTIFY_SOCKET '%s': only unix sockets are supported", path);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        size_t len = strlen(path);
        if (len >= sizeof(sa.sun_path))
                return lv_error_setf(err, ENAMETOOLONG, "NOTIFY_SOCKET '%s' is too long", path);
        memcpy(sa.sun_path, path, len);
        if (path[0] == '@')
                sa.sun_path[0] = '\0';
        socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
                                      (path[0] == '@' ? 0 : 1));
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return lv_error_set(err, errno, "cannot create the notify socket");
        if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
                return lv_error_set(err, errno, "cannot notify '%s'", path);
        return 0;
}

void supervisor_notify(struct supervisor *sv, const char *state)
{
        _cleanup_error_ struct lv_error *e = NULL;
        if (sv->notify && notify_send(state, &e) < 0)
                log_warning("%s", e->message);
}

void supervisor_notify_state(struct supervisor *sv)
{
        if (!sv->notify)
                return;
        _cleanup_free_ char *st = xasprintf(
                "STATUS=Guest '%s' is %s (%s)", sv->g.name, guest_state_to_string(sv->g.state),
                guest_reason_to_string(sv->g.state, sv->g.state_reason));
        supervisor_notify(sv, st);
}

static int on_watchdog(struct loop_source *s, void *data)
{
        struct supervisor *sv = data;
        supervisor_notify(sv, "WATCHDOG=1");
        _cleanup_error_ struct lv_error *e = NULL;
        if (loop_timer_set(s, sv->watchdog_usec / 2, &e) < 0)
                log_warning("watchdog: %s", e->message);
        return 0;
}

int supervisor_watchdog_start(struct supervisor *sv, struct lv_error **err)
{
        const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
        if (!sv->notify || !usec || !*usec)
                return 0;
        if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid())
                return 0; /* meant for another process */
        char *end;
        errno = 0;
        unsigned long long v = strtoull(usec, &end, 10);
        if (errno || *end || v == 0)
                return lv_error_setf(err, EINVAL,
                                     "WATCHDOG_USEC '%s': not a number of microseconds", usec);
        sv->watchdog_usec = v;
        log_info("watchdog: WATCHDOG=1 every %llu ms", v / 2000);
        return loop_add_timer(sv->loop, v / 2, on_watchdog, sv, &sv->watchdog_timer, err);
}
