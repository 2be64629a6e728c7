/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon.h"

#include "macros.h"

int daemon_detach(struct lv_error **err)
{
        pid_t pid;
        /* A caller that started us in a session of our own (lvsh:
         * POSIX_SPAWN_SETSID) spared us the first fork. */
        if (getsid(0) != getpid()) {
                pid = fork();
                if (pid < 0)
                        return lv_error_set(err, errno, "cannot fork");
                if (pid > 0)
                        _exit(0);
                if (setsid() < 0)
                        return lv_error_set(err, errno, "setsid");
        }
        /* Not a session leader: never gets a controlling terminal. */
        pid = fork();
        if (pid < 0)
                return lv_error_set(err, errno, "cannot fork");
        if (pid > 0)
                _exit(0);
        if (chdir("/") < 0)
                return lv_error_set(err, errno, "chdir /");
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return lv_error_set(err, errno, "cannot open /dev/null");
        for (int i = 0; i < 3; i++)
                if (dup2(fd, i) < 0)
                        return lv_error_set(err, errno, "dup2");
        if (fd > 2)
                close(fd);
        return 0;
}
