/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh: the command line, with virsh's habits: `lvsh COMMAND ARGS`,
 * errors on stderr as "error: ...", exit 1 on failure. */
#include <stdarg.h>

#include "config.h"
#include "tools/lvsh.h"

static const struct lvsh_command *const tables[] = {
        lvsh_define_commands,  lvsh_domain_commands,   lvsh_xen_commands,
        lvsh_qemu_commands,    lvsh_net_commands,      lvsh_migrate_commands,
        lvsh_network_commands, lvsh_save_commands,     lvsh_migparams_commands,
        lvsh_agent_commands,   lvsh_edit_commands,     lvsh_hotplug_commands,
        lvsh_inspect_commands, lvsh_sendkey_commands,  lvsh_snapshot_commands,
        lvsh_vcpu_commands,    lvsh_blockjob_commands,
};

const struct lvsh_command *lvsh_find_command(const char *name)
{
        for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
                for (const struct lvsh_command *c = tables[t]; c->name; c++)
                        if (streq(c->name, name))
                                return c;
        return NULL;
}

static void print_command_help(FILE *f, const struct lvsh_command *c)
{
        fprintf(f, "  NAME\n    %s - %s\n\n  SYNOPSIS\n    lvsh %s %s\n", c->name, c->summary,
                c->name, c->usage ? c->usage : "");
        if (c->help)
                fprintf(f, "\n  DESCRIPTION\n%s\n", c->help);
}

static void print_help(FILE *f)
{
        fprintf(f, "Usage: lvsh [-c URI] COMMAND [ARGS...]\n"
                   "       lvsh COMMAND --help\n\n"
                   "Options:\n"
                   "    -c, --connect URI  the litevirt to talk to: litevirt:/// (this host's,\n"
                   "                       the default) with its directories as parameters:\n"
                   "                       litevirt:///?confdir=DIR&guestdir=DIR&rundir=DIR&\n"
                   "                       logdir=DIR&networkdir=DIR&netrundir=DIR (each sets\n"
                   "                       the LITEVIRT_* variable below); also from\n"
                   "                       $LITEVIRT_DEFAULT_URI\n\n"
                   "Commands:\n");
        for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
                for (const struct lvsh_command *c = tables[t]; c->name; c++)
                        fprintf(f, "    %-16s %s\n", c->name, c->summary);
        fprintf(f, "\nEnvironment: LITEVIRT_CONFDIR, LITEVIRT_GUESTDIR, LITEVIRT_RUNDIR, "
                   "LITEVIRT_NETWORKDIR,\n"
                   "             LITEVIRT_NETRUNDIR, LITEVIRT_SAVEDIR\n");
}

int lvsh_usage_error(const struct lvsh_command *cmd, struct lv_error **err, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        int r = lv_error_setf(err, EINVAL, "%s (usage: lvsh %s %s)", msg, cmd->name,
                              cmd->usage ? cmd->usage : "");
        free(msg);
        return r;
}

/* -c URI / --connect URI / --connect=URI before the command, else
 * $LITEVIRT_DEFAULT_URI. Returns how many arguments it took, or -1 with
 * the error printed. */
static int connect_options(int argc, char **argv)
{
        _cleanup_error_ struct lv_error *err = NULL;
        const char *uri = getenv("LITEVIRT_DEFAULT_URI");
        int taken = 0;
        if (argc >= 2 && startswith(argv[1], "--connect=")) {
                uri = argv[1] + strlen("--connect=");
                taken = 1;
        } else if (argc >= 2 && (streq(argv[1], "-c") || streq(argv[1], "--connect"))) {
                if (argc < 3) {
                        fprintf(stderr, "error: option '%s' needs a URI\n", argv[1]);
                        return -1;
                }
                uri = argv[2];
                taken = 2;
        }
        if (uri && *uri && lvsh_uri_apply(uri, &err) < 0) {
                fprintf(stderr, "error: %s\n", err->message);
                return -1;
        }
        return taken;
}

int main(int argc, char **argv)
{
        int taken = connect_options(argc, argv);
        if (taken < 0)
                return 1;
        argv[taken] = argv[0];
        argc -= taken;
        argv += taken;
        if (argc < 2 || streq(argv[1], "help") || streq(argv[1], "--help") ||
            streq(argv[1], "-h")) {
                if (argc >= 3 && lvsh_find_command(argv[2])) {
                        print_command_help(stdout, lvsh_find_command(argv[2]));
                        return 0;
                }
                print_help(argc < 2 ? stderr : stdout);
                return argc < 2 ? 1 : 0;
        }
        if (streq(argv[1], "--version") || streq(argv[1], "version")) {
                printf("lvsh %s\n", LV_VERSION);
                return 0;
        }
        const struct lvsh_command *cmd = lvsh_find_command(argv[1]);
        if (!cmd) {
                fprintf(stderr, "error: unknown command: '%s' (see 'lvsh help')\n", argv[1]);
                return 1;
        }
        for (int i = 2; i < argc; i++) {
                if (streq(argv[i], "--"))
                        break;
                if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
                        print_command_help(stdout, cmd);
                        return 0;
                }
        }
        _cleanup_error_ struct lv_error *err = NULL;
        int r = cmd->run(argc - 1, argv + 1, &err);
        if (r < 0) {
                fflush(stdout);
                fprintf(stderr, "error: %s\n", err ? err->message : strerror(-r));
                return 1;
        }
        return 0;
}
