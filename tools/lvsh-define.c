/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tools/lvsh.h"

const struct lvsh_command lvsh_define_commands[] = {
        {0},
};
