/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared by lvsh-domain.c and lvsh-console.c. */

#include "litevirt/litevirt.h"
#include "tools/lvsh.h"

/* Connect to NAME's supervisor; virsh's errors when it has none. */
int lvsh_connect(const char *name, lv_conn **ret, struct lv_error **err);
/* Move a client error into *err (frees ce). */
int lvsh_error_from_client(struct lv_error **err, lv_client_error *ce);
int lvsh_args_parse(const struct lvsh_command *cmd, int argc, char **argv, const char *const *flags,
                    bool *flag_set, const char *const *valued, const char **values,
                    const char **ret_name, struct lv_error **err);

int lvsh_cmd_console(int argc, char **argv, struct lv_error **err);
#define LVSH_CONSOLE_COMMAND                                                                       \
        {                                                                                          \
                "console", "NAME [--force]", "connect to the guest console",                       \
                        "    Attaches the terminal to the guest's console; output kept while\n"    \
                        "    nobody was attached comes first. Ctrl+] detaches. --force takes\n"    \
                        "    the console over from another client. Without a terminal, input\n"    \
                        "    is relayed until EOF and output until Ctrl+] is read or the\n"        \
                        "    guest's console closes. Exits non-zero if the connection to the\n"    \
                        "    supervisor was lost (the supervisor died) rather than the guest "     \
                        "ending.",                                                                 \
                        lvsh_cmd_console                                                           \
        }
