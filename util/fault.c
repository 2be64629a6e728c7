/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test-only fault points (util/fault.h). */
#include <signal.h>

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
        if (!wanted || !streq(wanted, name))
                return;
        log_warning("fault point '%s' reached: killing myself (LITEVIRT_FAULT)", name);
        (void)raise(SIGKILL);
        _exit(137); /* not reached */
}
