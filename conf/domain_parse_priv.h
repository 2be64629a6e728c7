/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the domain parser's files (conf_xml_lib only).
 *
 * Consumption tracking: every helper that reads an attribute, a child
 * element or text marks that node (node->_private). After the parse, one
 * walk over the document reports the first element or attribute nobody
 * consumed as "FILE:LINE: element 'x': not supported by litevirt": nothing
 * the user wrote is silently dropped, and no per-element list of allowed
 * attributes has to be kept in sync with the code that reads them. */

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "conf/domain.h"

#define DOMAIN_XML_MAX_DEPTH 32

struct pctx {
        const char *file;
        struct lv_error **err;
        struct domain_def *def;
};

/* "FILE:LINE: element 'NAME': <message>" */
int dparse_perr(struct pctx *c, xmlNodePtr node, const char *fmt, ...) _printf_(3, 4);
/* "FILE:LINE: attribute 'A' of element 'NAME': <message>" */
int dparse_perr_attr(struct pctx *c, xmlNodePtr node, const char *attr, const char *fmt, ...)
        _printf_(4, 5);

void dparse_node_consume(xmlNodePtr node);
/* Consume a node and its whole subtree (e.g. <metadata>). */
void dparse_node_consume_tree(xmlNodePtr node);

/* The attribute's value (malloc'd) or NULL; marks it consumed. */
char *dparse_attr_get(xmlNodePtr node, const char *name);
/* Same, but a missing attribute is an error. */
int dparse_attr_require(struct pctx *c, xmlNodePtr node, const char *name, char **ret);
/* The element's text (malloc'd, "" when empty); marks the text consumed. */
char *dparse_node_text(xmlNodePtr node);
/* First child element named name, consumed; NULL if absent. A second one is
 * an error ("element 'x' given twice"): returns -EINVAL via *r. */
xmlNodePtr dparse_child_get(struct pctx *c, xmlNodePtr node, const char *name, int *r);
/* Iterate over the element children named name (consuming them). */
#define for_each_child(child, parent, nm)                                                          \
        for (xmlNodePtr child = (parent)->children; child; child = child->next)                    \
                if (child->type == XML_ELEMENT_NODE && !child->ns &&                               \
                    xmlStrEqual(child->name, BAD_CAST(nm)) && (dparse_node_consume(child), true))

/* Typed attribute readers. Absent attribute: *ret untouched, returns 0.
 * Malformed: error naming the attribute; returns -EINVAL. */
int dparse_attr_uint(struct pctx *c, xmlNodePtr node, const char *name, unsigned long long max,
                     unsigned long long *ret);
int dparse_attr_int(struct pctx *c, xmlNodePtr node, const char *name, long long min, long long max,
                    long long *ret);
/* yes/no (also on/off for state=) */
int dparse_attr_bool(struct pctx *c, xmlNodePtr node, const char *name, bool *ret);
int dparse_attr_tristate(struct pctx *c, xmlNodePtr node, const char *name,
                         enum domain_tristate *ret);
/* A keyword from an enum table: unknown values are "not supported". */
int dparse_attr_enum(struct pctx *c, xmlNodePtr node, const char *name,
                     int (*from_string)(const char *), int *ret);
/* A text child element with a number, e.g. <shares>1024</shares>. */
int dparse_elem_uint(struct pctx *c, xmlNodePtr parent, const char *name, unsigned long long max,
                     unsigned long long *ret, bool *found);
int dparse_elem_text(struct pctx *c, xmlNodePtr parent, const char *name, char **ret);
/* <memory unit='MiB'>64</memory> → KiB */
int dparse_elem_memory(struct pctx *c, xmlNodePtr node, unsigned long long *ret_kib);
/* <address .../> kept as given */
/* <alias> and <address> (libvirt's device info): an alias is accepted
 * and dropped (live XML carries one; a user alias is refused). */
int dparse_parse_address(struct pctx *c, xmlNodePtr parent, struct domain_address *ret);
int dparse_skip_alias(struct pctx *c, xmlNodePtr parent);

/* The final walk: the first unconsumed element/attribute/text is an error. */
int dparse_check_consumed(struct pctx *c, xmlNodePtr root);

/* domain_parse_devices.c */
int dparse_parse_devices(struct pctx *c, xmlNodePtr devices);

/* Grow an array by one zeroed element, return a pointer to it. */
#define ARRAY_PUSH(arr, n)                                                                         \
        ({                                                                                         \
                (arr) = xrealloc((arr), sizeof(*(arr)) * (size_t)((n) + 1));                       \
                memset(&(arr)[(n)], 0, sizeof(*(arr)));                                            \
                &(arr)[(n)++];                                                                     \
        })
