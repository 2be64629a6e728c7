/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test-only fault points (util/fault.h). */
#include <signal.h>
#include <string.h>

#include "util/fault.h"
#include "util/log.h"
#include "util/macros.h"

int fault_point(const char *name)
{
        static bool loaded;
        static const char *wanted;
        if (!loaded) {
                wanted = getenv("LITEVIRT_FAULT");
                if (wanted && !*wanted)
                        wanted = NULL;
                loaded = true;
        }
        if (!wanted)
                return 0;
        /* "NAME:stop": stop (SIGSTOP) instead of dying, so a test can
         * look at what the rest of the system sees meanwhile, then
         * SIGCONT the process. */
        size_t n = strlen(name);
        if (strncmp(wanted, name, n) == 0 && streq(wanted + n, ":stop")) {
                log_warning("fault point '%s' reached: stopping (LITEVIRT_FAULT)", name);
                (void)raise(SIGSTOP);
                return 0;
        }
        if (strncmp(wanted, name, n) == 0 && streq(wanted + n, ":fail")) {
                log_warning("fault point '%s' reached: failing (LITEVIRT_FAULT)", name);
                return -EIO;
        }
        if (!streq(wanted, name))
                return 0;
        log_warning("fault point '%s' reached: killing myself (LITEVIRT_FAULT)", name);
        (void)raise(SIGKILL);
        _exit(137); /* not reached */
        return 0;
}
