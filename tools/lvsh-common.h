/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers every lvsh command file needs (lvsh-common.c). */

#include <stdbool.h>

#include "litevirt/litevirt.h"
#include "tools/lvsh.h"

struct json_object;

/* Connect to NAME's supervisor; virsh's errors when it has none. */
int lvsh_connect(const char *name, lv_conn **ret, struct lv_error **err);
/* Move a client error into *err (frees ce). */
int lvsh_error_from_client(struct lv_error **err, lv_client_error *ce);
/* NAME plus the options a command accepts: flags (no value) and valued
 * options (--timeout N). Unknown options are usage errors. */
int lvsh_args_parse(const struct lvsh_command *cmd, int argc, char **argv, const char *const *flags,
                    bool *flag_set, const char *const *valued, const char **values,
                    const char **ret_name, struct lv_error **err);
/* Positional arguments (at most npos_max, into pos) and flags written
 * with their dashes ("--validate"); unknown flags are usage errors. */
int lvsh_args_split(const struct lvsh_command *cmd, int argc, char **argv, const char *const *flags,
                    bool *set, const char **pos, int npos_max, int *npos, struct lv_error **err);
/* One call (a method of lib/methods.h) to NAME's supervisor; *ret_reply
 * may be NULL. */
int lvsh_call(const char *name, const char *method, struct json_object *params,
              struct json_object **ret_reply, struct lv_error **err);
/* How a guest that does not run last ended, as its supervisor recorded
 * it (paths_guest_ended: state, reason, the last completed job), or NULL. */
struct json_object *lvsh_guest_ended(const char *name);
/* A reply's string member, or def. */
const char *lvsh_json_str(struct json_object *o, const char *key, const char *def);
/* A reply's integer member; false when absent or not a number. */
bool lvsh_json_i64(struct json_object *o, const char *key, long long *ret);

/* (lvsh-domain.c) A litevirt binary: $env_var, else next to lvsh (build
 * tree), else LV_BINDIR. */
char *lvsh_binary_path(const char *binary, const char *env_var);
/* Supervisors run from "/": make relative LITEVIRT_* paths absolute. */
void lvsh_environment_absolute(void);
/* Read a supervisor's verdict from its ready fd ("ok" or its error) until
 * EOF; the length, or -ETIMEDOUT after 300 s. */
int lvsh_read_verdict(int fd, char *buf, size_t size);
/* Runs PATH (as ARGV0) with `--ready-fd 3 NAME`, nothing else of ours
 * inherited, reads its verdict into buf (lvsh_read_verdict: *ret_n is its
 * length or -ETIMEDOUT) and reaps the first process (*ret_status). A
 * negative errno only when PATH cannot be run. */
int lvsh_spawn_ready(const char *path, const char *argv0, const char *name, char *buf, size_t size,
                     int *ret_n, int *ret_status);

/* (lvsh-define.c) Parse and validate a domain definition file. */
struct domain_def;
int lvsh_domain_parse_file(const char *path, struct domain_def **ret, struct lv_error **err);
/* A name is one guest, a UUID is one guest: def's name must not belong
 * to a guest of another UUID, nor its UUID to another name. */
int lvsh_domain_check_unique(const struct domain_def *def, struct lv_error **err);
/* Store def (read from file, named in errors) as its domain's definition,
 * atomically; a name or UUID of another domain is refused ("Failed to
 * define domain from FILE\nerror: ..."). */
/* A QEMU guest's definition is stored in libvirt's define-time form
 * (qemu_definition_prepare: addresses, implicit controllers and devices
 * written in, so dumpxml shows what virsh dumpxml would); one the QEMU
 * builder refuses is stored as given (its start says why). */
void lvsh_domain_prepare(struct domain_def *def);
int lvsh_domain_store(const char *file, struct domain_def *def, struct lv_error **err);

/* The same with extra arguments before NAME (NULL-terminated, or NULL). */
int lvsh_spawn_ready_extra(const char *path, const char *argv0, const char *const *extra,
                           const char *name, char *buf, size_t size, int *ret_n, int *ret_status);
/* Run a supervisor for NAME (extra arguments as above) and wait for its
 * verdict; errors read "WHAT\nerror: REASON". */
int lvsh_supervisor_start(const char *name, const char *const *extra, const char *what,
                          struct lv_error **err);
/* Wait until the supervisor closes the connection (it exits once the
 * guest has ended). */
void lvsh_wait_supervisor_gone(lv_conn *c);

/* lvsh-save.c: whether NAME has a managed save image; before `start`
 * (the guest not running): with one, restore from it (1: done; with
 * force_boot remove it instead, 0) — 0: start as usual. */
bool lvsh_managed_save_exists(const char *name);
/* A save image's header and definition (parsed into *ret_def and/or as
 * text into *ret_xml; either may be NULL), not its stream's checksum. */
int lvsh_save_image_read(const char *file, struct domain_def **ret_def, char **ret_xml,
                         struct lv_error **err);
int lvsh_managed_save_start(const char *name, bool force_boot, struct lv_error **err);

/* lvsh-console.c */
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

/* lvsh-snapshot.c: how many snapshots NAME has (unreadable metadata
 * counts as one); remove their metadata and memory images
 * ($GUESTDIR/NAME.snapshots), never the overlays. */
int lvsh_snapshot_count(const char *name);
int lvsh_snapshot_metadata_remove(const char *name, struct lv_error **err);

/* lvsh-blockjob.c: a commit of NAME's DISK, TOP (NULL: the active layer,
 * pivoted once ready) into BASE, followed until it has ended; silent. */
int lvsh_block_commit_run(const char *name, const char *disk, const char *top, const char *base,
                          struct lv_error **err);

/* lvsh-domain.c: lvsh destroy NAME (reattaching first to a QEMU that
 * outlived its supervisor), waiting until its supervisor is gone. */
int lvsh_guest_destroy(const char *name, struct lv_error **err);
