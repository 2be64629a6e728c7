/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Finding guests and printing virsh's `list` table; shared by the
 * definition commands (lvsh-define.c) and the lifecycle commands. */

#include <sys/types.h>

#include "conf/domain.h"

/* Sorted names of the guests: the defined ones ($GUESTDIR/NAME.xml) and
 * the running ones without a stored definition (transient). An absent
 * directory is no guest. */
int lvsh_guest_names(char ***ret, struct lv_error **err);
/* The same for any directory of NAME.xml files (networks). */
int lvsh_xml_names(const char *dir, char ***ret, struct lv_error **err);

/* Load the stored definition of NAME; for a transient guest (no stored
 * definition, running) its running definition. No such guest:
 * LV_ERR_NO_DOMAIN "failed to get domain 'NAME'". */
int lvsh_guest_load(const char *name, struct domain_def **ret, struct lv_error **err);

/* The definition NAME runs with ($RUNDIR/NAME/definition.json, written by
 * its supervisor, docs/supervisor.md). Not running: LV_ERR_NO_DOMAIN. */
int lvsh_guest_load_running(const char *name, struct domain_def **ret, struct lv_error **err);

/* NAME is defined, or runs (transient guests too). */
bool lvsh_guest_exists(const char *name);

/* A guest runs when $RUNDIR/NAME/supervisor.pid names a live process.
 * *ret_pid (may be NULL) gets that pid. */
bool lvsh_guest_running(const char *name, pid_t *ret_pid);
/* The same, telling "not running" (0) from "may not know" (an error:
 * permission denied). 1: running. */
int lvsh_guest_probe(const char *name, pid_t *ret_pid, struct lv_error **err);

/* A name that can be a file name under $GUESTDIR (no '/', not "." or ".."). */
bool lvsh_name_is_safe(const char *name);

struct lvsh_list_row {
        const char *id; /* "-" for a guest that does not run */
        const char *name;
        const char *state; /* "running", "shut off", ... */
};

/* virsh's table: " Id   Name   State", a dash line, one row per guest.
 * With names_only, only the names, one per line (virsh list --name). */
void lvsh_list_print(FILE *f, const struct lvsh_list_row *rows, size_t n, bool names_only);

/* virsh's vshTable: cells row by row (the first row is the header), at
 * most 16 columns. */
void lvsh_table_print(FILE *f, const char *const *cells, size_t ncols, size_t nrows);
