/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "conf/xml_load.h"

struct load_state {
        bool dtd_seen;
        int dtd_line;
};

static void refuse_dtd(void *ctx, const xmlChar *name, const xmlChar *external_id,
                       const xmlChar *system_id)
{
        xmlParserCtxtPtr p = ctx;
        struct load_state *st = p->_private;
        if (!st->dtd_seen) {
                st->dtd_seen = true;
                st->dtd_line = p->input ? p->input->line : 0;
        }
        xmlStopParser(p);
}

static void refuse_entity(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                          const xmlChar *system_id, xmlChar *content)
{
        refuse_dtd(ctx, name, public_id, system_id);
}

static void silent_error(void *data, xmlErrorPtr error)
{
}

static void xml_ctxt_freep(xmlParserCtxtPtr *p)
{
        if (*p)
                xmlFreeParserCtxt(*p);
}

static int refuse(int line, char *reason, int *ret_line, char **ret_reason)
{
        *ret_line = line;
        *ret_reason = reason;
        return -1;
}

int xml_load_untrusted(const char *xml, size_t len, size_t max, const char *name,
                       xmlDocPtr *ret_doc, int *ret_line, char **ret_reason)
{
        if (len > max)
                return refuse(
                        0, xasprintf("document is %zu bytes, more than the limit of %zu", len, max),
                        ret_line, ret_reason);
        if (memchr(xml, '\0', len))
                return refuse(0, xstrdup("document contains a NUL byte"), ret_line, ret_reason);

        xmlInitParser();
        _cleanup_(xml_ctxt_freep) xmlParserCtxtPtr p = xmlNewParserCtxt();
        if (!p)
                return refuse(0, xstrdup("cannot create an XML parser"), ret_line, ret_reason);
        struct load_state st = {0};
        p->_private = &st;
        p->sax->internalSubset = refuse_dtd;
        p->sax->externalSubset = refuse_dtd;
        p->sax->entityDecl = refuse_entity;
        p->sax->serror = silent_error;
        p->sax->warning = NULL;
        p->sax->error = NULL;
        /* No XML_PARSE_NOENT (no entity substitution), no DTDLOAD/DTDATTR,
         * no HUGE (libxml2's own depth and amplification limits stay on). */
        int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOXINCNODE;
        _cleanup_(xml_doc_freep) xmlDocPtr doc =
                xmlCtxtReadMemory(p, xml, (int)len, name, NULL, opts);
        if (st.dtd_seen)
                return refuse(st.dtd_line, xstrdup("DOCTYPE and entity declarations are refused"),
                              ret_line, ret_reason);
        if (!doc || !p->wellFormed) {
                xmlErrorPtr e = xmlCtxtGetLastError(p);
                char *msg = xstrdup(e && e->message ? e->message : "malformed XML");
                size_t n = strlen(msg);
                while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                        msg[--n] = '\0';
                return refuse(e ? e->line : 0, msg, ret_line, ret_reason);
        }
        if (doc->intSubset || doc->extSubset)
                return refuse(0, xstrdup("DOCTYPE and entity declarations are refused"), ret_line,
                              ret_reason);
        *ret_doc = TAKE_PTR(doc);
        return 0;
}
