/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The domain parser's helpers: reading attributes and children while
 * recording what was consumed, typed values, and error messages. */
#include <inttypes.h>
#include <stdarg.h>

#include "conf/domain_parse_priv.h"

#define CONSUMED ((void *)1)

_printf_(4, 0) static int vperr(struct pctx *c, xmlNodePtr node, const char *attr, const char *fmt,
                                va_list ap)
{
        _cleanup_free_ char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        long line = node ? xmlGetLineNo(node) : 0;
        _cleanup_free_ char *name = !node ? xstrdup("?")
                                    : node->ns && node->ns->prefix
                                            ? xasprintf("%s:%s", node->ns->prefix, node->name)
                                            : xstrdup((const char *)node->name);
        if (attr)
                return lv_error_setf(c->err, LV_ERR_INVALID_XML,
                                     "%s:%ld: attribute '%s' of element '%s': %s", c->file, line,
                                     attr, name, msg);
        return lv_error_setf(c->err, LV_ERR_INVALID_XML, "%s:%ld: element '%s': %s", c->file, line,
                             name, msg);
}

int dparse_perr(struct pctx *c, xmlNodePtr node, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = vperr(c, node, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int dparse_perr_attr(struct pctx *c, xmlNodePtr node, const char *attr, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = vperr(c, node, attr, fmt, ap);
        va_end(ap);
        return r;
}

void dparse_node_consume(xmlNodePtr node)
{
        node->_private = CONSUMED;
}

void dparse_node_consume_tree(xmlNodePtr node)
{
        node->_private = CONSUMED;
        for (xmlAttrPtr a = node->properties; a; a = a->next)
                a->_private = CONSUMED;
        for (xmlNodePtr ch = node->children; ch; ch = ch->next)
                dparse_node_consume_tree(ch);
}

char *dparse_attr_get(xmlNodePtr node, const char *name)
{
        xmlAttrPtr a = xmlHasNsProp(node, BAD_CAST name, NULL);
        if (!a || a->type != XML_ATTRIBUTE_NODE)
                return NULL;
        a->_private = CONSUMED;
        xmlChar *v = xmlNodeListGetString(node->doc, a->children, 1);
        char *s = xstrdup(v ? (const char *)v : "");
        xmlFree(v);
        return s;
}

int dparse_attr_require(struct pctx *c, xmlNodePtr node, const char *name, char **ret)
{
        char *v = dparse_attr_get(node, name);
        if (!v)
                return dparse_perr(c, node, "missing attribute '%s'", name);
        *ret = v;
        return 0;
}

char *dparse_node_text(xmlNodePtr node)
{
        for (xmlNodePtr ch = node->children; ch; ch = ch->next)
                if (ch->type == XML_TEXT_NODE || ch->type == XML_CDATA_SECTION_NODE)
                        ch->_private = CONSUMED;
        xmlChar *v = xmlNodeGetContent(node);
        char *s = xstrdup(v ? (const char *)v : "");
        xmlFree(v);
        return s;
}

xmlNodePtr dparse_child_get(struct pctx *c, xmlNodePtr node, const char *name, int *r)
{
        xmlNodePtr found = NULL;
        for (xmlNodePtr ch = node->children; ch; ch = ch->next) {
                if (ch->type != XML_ELEMENT_NODE || ch->ns || !xmlStrEqual(ch->name, BAD_CAST name))
                        continue;
                if (found) {
                        *r = dparse_perr(c, ch, "given twice (first at line %ld)",
                                         xmlGetLineNo(found));
                        return NULL;
                }
                found = ch;
        }
        if (found)
                dparse_node_consume(found);
        return found;
}

static int parse_ull(const char *s, unsigned long long *ret)
{
        unsigned long long n = 0;
        int base = 10;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                s += 2;
        }
        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                int d;
                if (*s >= '0' && *s <= '9')
                        d = *s - '0';
                else if (base == 16 && *s >= 'a' && *s <= 'f')
                        d = *s - 'a' + 10;
                else if (base == 16 && *s >= 'A' && *s <= 'F')
                        d = *s - 'A' + 10;
                else
                        return -EINVAL;
                if (__builtin_mul_overflow(n, (unsigned long long)base, &n) ||
                    __builtin_add_overflow(n, (unsigned long long)d, &n))
                        return -ERANGE;
        }
        *ret = n;
        return 0;
}

int dparse_attr_uint(struct pctx *c, xmlNodePtr node, const char *name, unsigned long long max,
                     unsigned long long *ret)
{
        _cleanup_free_ char *v = dparse_attr_get(node, name);
        unsigned long long n;
        if (!v)
                return 0;
        int r = parse_ull(v, &n);
        if (r == -EINVAL)
                return dparse_perr_attr(c, node, name, "'%s' is not a non-negative integer", v);
        if (r < 0 || n > max)
                return dparse_perr_attr(c, node, name, "%s is out of range (at most %llu)", v, max);
        *ret = n;
        return 0;
}

int dparse_attr_int(struct pctx *c, xmlNodePtr node, const char *name, long long min, long long max,
                    long long *ret)
{
        _cleanup_free_ char *v = dparse_attr_get(node, name);
        unsigned long long n;
        if (!v)
                return 0;
        bool neg = v[0] == '-';
        int r = parse_ull(v + (neg ? 1 : 0), &n);
        if (r == -EINVAL)
                return dparse_perr_attr(c, node, name, "'%s' is not an integer", v);
        if (r < 0 || n > (unsigned long long)INT64_MAX)
                return dparse_perr_attr(c, node, name, "%s is out of range (%lld..%lld)", v, min,
                                        max);
        long long x = neg ? -(long long)n : (long long)n;
        if (x < min || x > max)
                return dparse_perr_attr(c, node, name, "%s is out of range (%lld..%lld)", v, min,
                                        max);
        *ret = x;
        return 0;
}

int dparse_attr_bool(struct pctx *c, xmlNodePtr node, const char *name, bool *ret)
{
        _cleanup_free_ char *v = dparse_attr_get(node, name);
        if (!v)
                return 0;
        if (streq(v, "yes") || streq(v, "on"))
                *ret = true;
        else if (streq(v, "no") || streq(v, "off"))
                *ret = false;
        else
                return dparse_perr_attr(c, node, name, "'%s' is not 'yes'/'on' or 'no'/'off'", v);
        return 0;
}

int dparse_attr_tristate(struct pctx *c, xmlNodePtr node, const char *name,
                         enum domain_tristate *ret)
{
        bool b = false;
        if (!xmlHasNsProp(node, BAD_CAST name, NULL))
                return 0;
        int r = dparse_attr_bool(c, node, name, &b);
        if (r < 0)
                return r;
        *ret = b ? DOMAIN_TRISTATE_ON : DOMAIN_TRISTATE_OFF;
        return 0;
}

int dparse_attr_enum(struct pctx *c, xmlNodePtr node, const char *name,
                     int (*from_string)(const char *), int *ret)
{
        _cleanup_free_ char *v = dparse_attr_get(node, name);
        if (!v)
                return 0;
        int x = from_string(v);
        if (x < 0)
                return dparse_perr_attr(c, node, name, "value '%s' not supported by litevirt", v);
        *ret = x;
        return 0;
}

int dparse_elem_text(struct pctx *c, xmlNodePtr parent, const char *name, char **ret)
{
        int r = 0;
        xmlNodePtr n = dparse_child_get(c, parent, name, &r);
        if (r < 0)
                return r;
        if (!n)
                return 0;
        free(*ret);
        *ret = dparse_node_text(n);
        return 1;
}

int dparse_elem_uint(struct pctx *c, xmlNodePtr parent, const char *name, unsigned long long max,
                     unsigned long long *ret, bool *found)
{
        int r = 0;
        xmlNodePtr n = dparse_child_get(c, parent, name, &r);
        if (r < 0)
                return r;
        if (!n)
                return 0;
        _cleanup_free_ char *v = dparse_node_text(n);
        unsigned long long x;
        r = parse_ull(v, &x);
        if (r == -EINVAL)
                return dparse_perr(c, n, "'%s' is not a non-negative integer", v);
        if (r < 0 || x > max)
                return dparse_perr(c, n, "%s is out of range (at most %llu)", v, max);
        *ret = x;
        if (found)
                *found = true;
        return 0;
}

int dparse_elem_memory(struct pctx *c, xmlNodePtr node, unsigned long long *ret_kib)
{
        _cleanup_free_ char *v = dparse_node_text(node);
        _cleanup_free_ char *unit = dparse_attr_get(node, "unit");
        const char *reason = NULL;
        int r = domain_memory_to_kib(v, unit, ret_kib, &reason);
        if (r == -EINVAL && unit && streq(reason, "unknown unit"))
                return dparse_perr_attr(c, node, "unit", "unknown unit '%s'", unit);
        if (r < 0)
                return dparse_perr(c, node, "'%s'%s%s: %s", v, unit ? " " : "", unit ? unit : "",
                                   reason);
        return 0;
}

int dparse_skip_alias(struct pctx *c, xmlNodePtr parent)
{
        int r = 0;
        xmlNodePtr n = dparse_child_get(c, parent, "alias", &r);
        if (r < 0 || !n)
                return r;
        _cleanup_free_ char *name = NULL;
        if ((r = dparse_attr_require(c, n, "name", &name)) < 0)
                return r;
        /* libvirt keeps only user aliases (ua-...), its QEMU ids */
        if (startswith(name, "ua-"))
                return dparse_perr_attr(c, n, "name",
                                        "user alias '%s' not supported by litevirt (QEMU ids "
                                        "are libvirt's own: drop the <alias>)",
                                        name);
        return 0;
}

int dparse_parse_address(struct pctx *c, xmlNodePtr parent, struct domain_address *ret)
{
        int r = dparse_skip_alias(c, parent);
        if (r < 0)
                return r;
        xmlNodePtr n = dparse_child_get(c, parent, "address", &r);
        if (r < 0 || !n)
                return r;
        dparse_node_consume_tree(n);
        if (n->children)
                for (xmlNodePtr ch = n->children; ch; ch = ch->next)
                        if (ch->type == XML_ELEMENT_NODE)
                                return dparse_perr(c, ch, "not supported by litevirt");
        for (xmlAttrPtr a = n->properties; a; a = a->next) {
                xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
                if (xmlStrEqual(a->name, BAD_CAST "type")) {
                        ret->type = xstrdup(v ? (const char *)v : "");
                } else {
                        struct domain_env *e = ARRAY_PUSH(ret->attrs, ret->n_attrs);
                        e->name = xstrdup((const char *)a->name);
                        e->value = xstrdup(v ? (const char *)v : "");
                }
                xmlFree(v);
        }
        if (!ret->type)
                return dparse_perr(c, n, "missing attribute 'type'");
        return 0;
}

static bool is_blank(const xmlChar *s)
{
        for (; s && *s; s++)
                if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
                        return false;
        return true;
}

/* Depth first, in document order: the first thing the user wrote that no
 * parser read is the one reported. */
static int check_node(struct pctx *c, xmlNodePtr node, int depth)
{
        if (depth > DOMAIN_XML_MAX_DEPTH)
                return dparse_perr(c, node, "nested deeper than %d levels", DOMAIN_XML_MAX_DEPTH);
        if (node->_private != CONSUMED)
                return dparse_perr(c, node, "not supported by litevirt");
        for (xmlAttrPtr a = node->properties; a; a = a->next)
                if (a->_private != CONSUMED)
                        return dparse_perr_attr(c, node, (const char *)a->name,
                                                "not supported by litevirt");
        for (xmlNodePtr ch = node->children; ch; ch = ch->next) {
                int r = 0;
                switch (ch->type) {
                case XML_ELEMENT_NODE:
                        r = check_node(c, ch, depth + 1);
                        break;
                case XML_TEXT_NODE:
                case XML_CDATA_SECTION_NODE:
                        if (ch->_private != CONSUMED && !is_blank(ch->content))
                                r = dparse_perr(c, node, "unexpected text content");
                        break;
                case XML_ENTITY_REF_NODE:
                        r = dparse_perr(c, node, "entity reference '&%s;' refused", ch->name);
                        break;
                default:
                        break; /* comments, processing instructions */
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int dparse_check_consumed(struct pctx *c, xmlNodePtr root)
{
        return check_node(c, root, 1);
}
