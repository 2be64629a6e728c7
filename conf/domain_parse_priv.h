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
int perr(struct pctx *c, xmlNodePtr node, const char *fmt, ...) _printf_(3, 4);
/* "FILE:LINE: attribute 'A' of element 'NAME': <message>" */
int perr_attr(struct pctx *c, xmlNodePtr node, const char *attr, const char *fmt, ...)
        _printf_(4, 5);

void node_consume(xmlNodePtr node);
/* Consume a node and its whole subtree (e.g. <metadata>). */
void node_consume_tree(xmlNodePtr node);

/* The attribute's value (malloc'd) or NULL; marks it consumed. */
char *attr_get(xmlNodePtr node, const char *name);
/* Same, but a missing attribute is an error. */
int attr_require(struct pctx *c, xmlNodePtr node, const char *name, char **ret);
/* The element's text (malloc'd, "" when empty); marks the text consumed. */
char *node_text(xmlNodePtr node);
/* First child element named name, consumed; NULL if absent. A second one is
 * an error ("element 'x' given twice"): returns -EINVAL via *r. */
xmlNodePtr child_get(struct pctx *c, xmlNodePtr node, const char *name, int *r);
/* Iterate over the element children named name (consuming them). */
#define for_each_child(child, parent, nm)                                                          \
        for (xmlNodePtr child = (parent)->children; child; child = child->next)                    \
                if (child->type == XML_ELEMENT_NODE && !child->ns &&                               \
                    xmlStrEqual(child->name, BAD_CAST(nm)) && (node_consume(child), true))

/* Typed attribute readers. Absent attribute: *ret untouched, returns 0.
 * Malformed: error naming the attribute; returns -EINVAL. */
int attr_uint(struct pctx *c, xmlNodePtr node, const char *name, unsigned long long max,
              unsigned long long *ret);
int attr_int(struct pctx *c, xmlNodePtr node, const char *name, long long min, long long max,
             long long *ret);
/* yes/no (also on/off for state=) */
int attr_bool(struct pctx *c, xmlNodePtr node, const char *name, bool *ret);
int attr_tristate(struct pctx *c, xmlNodePtr node, const char *name, enum domain_tristate *ret);
/* A keyword from an enum table: unknown values are "not supported". */
int attr_enum(struct pctx *c, xmlNodePtr node, const char *name, int (*from_string)(const char *),
              int *ret);
/* A text child element with a number, e.g. <shares>1024</shares>. */
int elem_uint(struct pctx *c, xmlNodePtr parent, const char *name, unsigned long long max,
              unsigned long long *ret, bool *found);
int elem_text(struct pctx *c, xmlNodePtr parent, const char *name, char **ret);
/* <memory unit='MiB'>64</memory> → KiB */
int elem_memory(struct pctx *c, xmlNodePtr node, unsigned long long *ret_kib);
/* <address .../> kept as given */
int parse_address(struct pctx *c, xmlNodePtr parent, struct domain_address *ret);

/* The final walk: the first unconsumed element/attribute/text is an error. */
int check_consumed(struct pctx *c, xmlNodePtr root);

/* domain_parse_devices.c */
int parse_devices(struct pctx *c, xmlNodePtr devices);

/* Grow an array by one zeroed element, return a pointer to it. */
#define ARRAY_PUSH(arr, n)                                                                         \
        ({                                                                                         \
                (arr) = xrealloc((arr), sizeof(*(arr)) * (size_t)((n) + 1));                       \
                memset(&(arr)[(n)], 0, sizeof(*(arr)));                                            \
                &(arr)[(n)++];                                                                     \
        })
