/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Loading XML from outside (domain definitions, migration cookies) with
 * libxml2, hostile input refused: at most max bytes, no NUL byte, no
 * DOCTYPE or entity declaration (the parser stops at the first one), no
 * network, no XInclude, no entity substitution; libxml2's own depth and
 * amplification limits stay on. Part of the parse module (libxml2). */

#include <libxml/parser.h>

#include "util/macros.h"

/* 0 and *ret_doc on success. On refusal -1, *ret_line the line it was
 * found on (0 when none applies) and *ret_reason a message without any
 * location ("DOCTYPE and entity declarations are refused"); the caller
 * puts its own name and the line in front. name is what libxml2 calls
 * the document. */
int xml_load_untrusted(const char *xml, size_t len, size_t max, const char *name,
                       xmlDocPtr *ret_doc, int *ret_line, char **ret_reason);

static inline void xml_doc_freep(xmlDocPtr *d)
{
        if (*d)
                xmlFreeDoc(*d);
}
