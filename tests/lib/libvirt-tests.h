/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libvirt 9.0's own test data (scripts/fetch-libvirt-tests.sh puts it in a
 * cache folder; meson passes that folder as $LV_LIBVIRT_TESTS). */

#include <stdbool.h>

/* $LV_LIBVIRT_TESTS/tests/FAMILY (e.g. "qemuxml2argvdata"), or NULL when
 * it is missing: then a message on stderr says which command fetches it,
 * and *ret_skip tells whether the caller should skip (only when
 * LV_LIBVIRT_TESTS_SKIP=1, offline development) rather than fail. */
char *libvirt_tests_dir(const char *family, bool *ret_skip);

/* The elements on which two formatted XML documents differ, line by line
 * (order ignored; closing tags skipped): "+name" for a line only in
 * theirs, "-name" for one only in ours; sorted, unique, space-separated.
 * "" when every line is the same. */
char *libvirt_tests_xml_diff(const char *ours, const char *theirs);
