/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macros.h"

/* A growable string. Always NUL-terminated once anything was added. */
struct strbuf {
        char *buf;
        size_t len;
        size_t cap;
};

void strbuf_append(struct strbuf *sb, const char *s);
void strbuf_append_len(struct strbuf *sb, const char *s, size_t n);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
/* Append s escaped for XML text and attribute values (&<>'"). */
void strbuf_append_xml(struct strbuf *sb, const char *s);
/* Append n spaces. */
void strbuf_indent(struct strbuf *sb, int n);
/* Give the string away (never NULL); the buffer is empty again. */
char *strbuf_steal(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
static inline void strbuf_freep(struct strbuf *sb)
{
        strbuf_reset(sb);
}
#define _cleanup_strbuf_ _cleanup_(strbuf_freep)
