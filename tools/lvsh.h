/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "util/error.h"

/* One lvsh command. run() gets argv with argv[0] the command name, prints
 * its own output, and returns 0, or fails with *err set (lvsh prints
 * "error: <message>" and exits 1). */
struct lvsh_command {
        const char *name;
        const char *usage;   /* "NAME [--reason]" */
        const char *summary; /* one line for `lvsh help` */
        const char *help;    /* longer text for `lvsh COMMAND --help`, or NULL */
        int (*run)(int argc, char **argv, struct lv_error **err);
};

/* Each lvsh-*.c file contributes a table ending with a zeroed entry. */
extern const struct lvsh_command lvsh_define_commands[];  /* lvsh-define.c */
extern const struct lvsh_command lvsh_domain_commands[];  /* lvsh-domain.c */
extern const struct lvsh_command lvsh_xen_commands[];     /* lvsh-xen.c */
extern const struct lvsh_command lvsh_qemu_commands[];    /* lvsh-qemu.c */
extern const struct lvsh_command lvsh_net_commands[];     /* lvsh-net.c */
extern const struct lvsh_command lvsh_migrate_commands[]; /* lvsh-migrate.c */
extern const struct lvsh_command lvsh_network_commands[]; /* lvsh-network.c */
extern const struct lvsh_command lvsh_save_commands[];    /* lvsh-save.c */
extern const struct lvsh_command lvsh_agent_commands[];   /* lvsh-agent.c */

/* lvsh-migparams.c */
extern const struct lvsh_command lvsh_migparams_commands[];
extern const struct lvsh_command lvsh_edit_commands[];     /* lvsh-edit.c */
extern const struct lvsh_command lvsh_hotplug_commands[];  /* lvsh-hotplug.c */
extern const struct lvsh_command lvsh_inspect_commands[];  /* lvsh-inspect.c */
extern const struct lvsh_command lvsh_vcpu_commands[];     /* lvsh-vcpu.c */
extern const struct lvsh_command lvsh_sendkey_commands[];  /* lvsh-sendkey.c */
extern const struct lvsh_command lvsh_snapshot_commands[]; /* lvsh-snapshot.c */
extern const struct lvsh_command lvsh_blockjob_commands[]; /* lvsh-blockjob.c */

/* Print usage for a command to stderr and return -EINVAL in *err style. */
int lvsh_usage_error(const struct lvsh_command *cmd, struct lv_error **err, const char *fmt, ...)
        _printf_(3, 4);
const struct lvsh_command *lvsh_find_command(const char *name);
/* lvsh-connect.c: -c/--connect URI (litevirt:///?rundir=DIR&confdir=DIR...)
 * sets the LITEVIRT_* directories it names; other URIs are refused. */
int lvsh_uri_apply(const char *uri, struct lv_error **err);

/* lvsh-guests.c: domxml-to-native qemu-argv FILE */
int lvsh_domxml_to_qemu_argv(const char *file, struct lv_error **err);

/* lvsh-agent.c: one command to NAME's QEMU guest agent (command, the
 * agent's JSON, is consumed; timeout_s 0: the supervisor's default);
 * *ret (may be NULL) gets its "return" value. */
struct json_object;
int lvsh_agent_call(const char *name, struct json_object *command, int timeout_s, bool noreply,
                    struct json_object **ret, struct lv_error **err);
/* domifaddr --source agent: the guest's addresses as its agent lists them. */
int lvsh_agent_domifaddr(const char *name, const char *only, bool full, struct lv_error **err);

/* lvsh-edit.c: virsh's edit loop over an object's definition: source
 * gives the text to edit, store validates and stores the edited file
 * (naming what it stored); nothing is stored until store succeeds. */
struct lvsh_edit_ops {
        const char *noun, *noun_lower; /* "Domain", "domain" */
        int (*source)(const char *name, char **ret, struct lv_error **err);
        int (*store)(const char *file, char **ret_name, struct lv_error **err);
};
int lvsh_edit_loop(const struct lvsh_edit_ops *ops, const char *name, struct lv_error **err);
/* A private temporary file holding text ($TMPDIR/lvshXXXXXX.xml, 0600),
 * and its removal (for _cleanup_). */
int lvsh_temp_write(const char *text, char **ret_path, struct lv_error **err);
void lvsh_temp_removep(char **path);
