/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "paths.h"

#include "macros.h"

static const char *env_or(const char *var, const char *def)
{
        const char *v = getenv(var);
        return v && *v ? v : def;
}

const char *paths_confdir(void)
{
        return env_or("LITEVIRT_CONFDIR", "/etc/litevirt");
}

const char *paths_guestdir(void)
{
        static char *dir;
        const char *v = getenv("LITEVIRT_GUESTDIR");
        if (v && *v)
                return v;
        if (!dir)
                dir = xasprintf("%s/guests", paths_confdir());
        return dir;
}

const char *paths_networkdir(void)
{
        static char *dir;
        const char *v = getenv("LITEVIRT_NETWORKDIR");
        if (v && *v)
                return v;
        if (!dir)
                dir = xasprintf("%s/networks", paths_confdir());
        return dir;
}

const char *paths_netrundir(void)
{
        return env_or("LITEVIRT_NETRUNDIR", "/run/litevirt-net");
}

char *paths_network_xml(const char *name)
{
        return xasprintf("%s/%s.xml", paths_networkdir(), name);
}

char *paths_network_state_dir(const char *name)
{
        return xasprintf("%s/%s", paths_netrundir(), name);
}

char *paths_network_state_file(const char *name, const char *file)
{
        return xasprintf("%s/%s/%s", paths_netrundir(), name, file);
}

const char *paths_rundir(void)
{
        return env_or("LITEVIRT_RUNDIR", "/run/litevirt");
}

const char *paths_logdir(void)
{
        return env_or("LITEVIRT_LOGDIR", "/var/log/litevirt");
}

char *paths_guest_log(const char *name)
{
        return xasprintf("%s/%s.log", paths_logdir(), name);
}

char *paths_guest_console_log(const char *name)
{
        return xasprintf("%s/%s.console.log", paths_logdir(), name);
}

char *paths_guest_xml(const char *name)
{
        return xasprintf("%s/%s.xml", paths_guestdir(), name);
}

char *paths_state_dir(const char *name)
{
        return xasprintf("%s/%s", paths_rundir(), name);
}

char *paths_model_cache(const char *name)
{
        return xasprintf("%s/.models/%s.json", paths_rundir(), name);
}

char *paths_guest_ended(const char *name)
{
        return xasprintf("%s/.ended/%s", paths_rundir(), name);
}

char *paths_state_file(const char *name, const char *file)
{
        return xasprintf("%s/%s/%s", paths_rundir(), name, file);
}

const char *paths_savedir(void)
{
        return env_or("LITEVIRT_SAVEDIR", "/var/lib/litevirt/save");
}

char *paths_managed_save(const char *name)
{
        return xasprintf("%s/%s.save", paths_savedir(), name);
}

const char *paths_nvramdir(void)
{
        return env_or("LITEVIRT_NVRAMDIR", "/var/lib/litevirt/nvram");
}

char *paths_snapshot_dir(const char *name)
{
        return xasprintf("%s/%s.snapshots", paths_guestdir(), name);
}

char *paths_snapshot_overlay(const char *image, const char *suffix)
{
        const char *slash = strrchr(image, '/');
        const char *dot = strrchr(slash ? slash : image, '.');
        size_t keep =
                dot && dot != (slash ? slash + 1 : image) ? (size_t)(dot - image) : strlen(image);
        return xasprintf("%.*s.%s", (int)keep, image, suffix);
}
