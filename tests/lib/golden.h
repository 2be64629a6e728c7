/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Golden files of the data-driven tests (tests/data/<area>/). */

#include <stdbool.h>

/* The whole file, or NULL when it is missing or unreadable (a missing
 * expected file is a difference like any other). */
char *golden_read(const char *path);
/* Rewrite an expected file (LV_TEST_REGENERATE=1); exits on failure. */
void golden_write(const char *path, const char *data);
/* Whether LV_TEST_REGENERATE=1 asks for expected files to be rewritten. */
bool golden_regenerate(void);
/* Sorted names of the *.xml files (not *.out.xml) in dir, NULL-terminated
 * (empty when dir is missing). */
char **golden_list_xml(const char *dir);
