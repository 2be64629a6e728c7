/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test-only fault points (util/fault.h). */
#include <signal.h>
#include <string.h>

#include "util/fault.h"
#include "util/log.h"
#include "util/macros.h"

void fault_point(const char *name)
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
                return;
        /* "NAME:stop": stop (SIGSTOP) instead of dying, so a test can
         * look at what the rest of the system sees meanwhile, then
         * SIGCONT the process. */
        size_t n = strlen(name);
        if (strncmp(wanted, name, n) == 0 && streq(wanted + n, ":stop")) {
                log_warning("fault point '%s' reached: stopping (LITEVIRT_FAULT)", name);
                (void)raise(SIGSTOP);
                return;
        }
        if (!streq(wanted, name))
                return;
        log_warning("fault point '%s' reached: killing myself (LITEVIRT_FAULT)", name);
        (void)raise(SIGKILL);
        _exit(137); /* not reached */
}
