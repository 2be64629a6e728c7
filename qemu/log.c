/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QEMU's log ($LOGDIR/NAME.qemu.log): its last line for error messages. */
#include "qemu/log.h"

#include "util/fileio.h"
#include "util/paths.h"

char *qemu_log_tail(const char *path)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        struct lv_error *e = NULL;
        if (file_read_bounded(path, 4 << 20, &data, &len, &e) < 0) {
                lv_error_free(e);
                return xstrdup("");
        }
        while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
                data[--len] = '\0';
        char *p = data + len;
        while (p > data && p[-1] != '\n')
                p--;
        /* strip "-msg timestamp=on" prefix */
        char *q = strstr(p, "qemu-system-");
        return xstrdup(q ? q : p);
}

char *qemu_log_path(const char *name)
{
        return xasprintf("%s/%s.qemu.log", paths_logdir(), name);
}
