/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A guest's autostart: see autostart.h. */
#include "util/autostart.h"

#include <ctype.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "util/fileio.h"
#include "util/paths.h"

static const char *systemd_rundir(void)
{
        const char *d = getenv("LITEVIRT_SYSTEMD_DIR");
        return d && *d ? d : "/run/systemd/system";
}

bool autostart_systemd(void)
{
        struct stat st;
        return lstat(systemd_rundir(), &st) == 0 && S_ISDIR(st.st_mode);
}

/* What `systemctl enable` creates for WantedBy=multi-user.target. */
static char *unit_link(const char *name)
{
        const char *etc = getenv("LITEVIRT_SYSTEMD_ETC");
        return xasprintf("%s/multi-user.target.wants/litevirt@%s.service",
                         etc && *etc ? etc : "/etc/systemd/system", name);
}

static char *conf_link(const char *name)
{
        return xasprintf("%s/autostart/%s.xml", paths_confdir(), name);
}

bool autostart_enabled(const char *name)
{
        struct stat st;
        _cleanup_free_ char *link = autostart_systemd() ? unit_link(name) : conf_link(name);
        return lstat(link, &st) == 0;
}

static int run_systemctl(const char *verb, const char *unit, struct lv_error **err)
{
        pid_t pid = fork();
        if (pid < 0)
                return lv_error_set(err, errno, "cannot fork");
        if (pid == 0) {
                execlp("systemctl", "systemctl", verb, "--quiet", unit, (char *)NULL);
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return lv_error_set(err, errno, "waiting for systemctl");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return lv_error_setf(err, ENOENT, "cannot run systemctl %s %s", verb, unit);
        return lv_error_setf(err, EIO, "systemctl %s %s failed (status %d)", verb, unit,
                             WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

int autostart_set(const char *name, bool enable, struct lv_error **err)
{
        if (autostart_systemd()) {
                /* Characters systemd-escape leaves alone in an instance. */
                for (const char *p = name; *p; p++)
                        if (!isalnum((unsigned char)*p) && !strchr(":_.-", *p))
                                return lv_error_setf(err, EINVAL,
                                                     "guest name '%s': litevirt@%s.service "
                                                     "would need escaping (use letters, digits, "
                                                     "':', '_', '.', '-')",
                                                     name, name);
                _cleanup_free_ char *unit = xasprintf("litevirt@%s.service", name);
                return run_systemctl(enable ? "enable" : "disable", unit, err);
        }
        _cleanup_free_ char *link = conf_link(name);
        if (!enable) {
                if (unlink(link) < 0 && errno != ENOENT)
                        return lv_error_set(err, errno, "cannot remove '%s'", link);
                return 0;
        }
        _cleanup_free_ char *dir = xasprintf("%s/autostart", paths_confdir());
        int r = mkdir_p(dir, 0755, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *target = paths_guest_xml(name);
        if (symlink(target, link) < 0 && errno != EEXIST)
                return lv_error_set(err, errno, "cannot create '%s'", link);
        return 0;
}
