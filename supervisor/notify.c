/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sd_notify protocol (sd_notify(3)): one datagram of newline-separated
 * VAR=value assignments to the AF_UNIX socket named by $NOTIFY_SOCKET (a
 * path, or an abstract name written with a leading '@'). A few lines of
 * our own instead of linking libsystemd into every supervisor. */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "supervisor/supervisor.h"

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
