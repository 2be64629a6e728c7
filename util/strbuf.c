/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "strbuf.h"

#include <stdarg.h>

static void strbuf_reserve(struct strbuf *sb, size_t extra)
{
        if (sb->len + extra + 1 <= sb->cap)
                return;
        size_t cap = sb->cap ? sb->cap : 64;
        while (cap < sb->len + extra + 1)
                cap *= 2;
        sb->buf = xrealloc(sb->buf, cap);
        sb->cap = cap;
}

void strbuf_append_len(struct strbuf *sb, const char *s, size_t n)
{
        strbuf_reserve(sb, n);
        memcpy(sb->buf + sb->len, s, n);
        sb->len += n;
        sb->buf[sb->len] = '\0';
}

void strbuf_append(struct strbuf *sb, const char *s)
{
        strbuf_append_len(sb, s, strlen(s));
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                abort();
        strbuf_reserve(sb, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        sb->len += (size_t)n;
}

void strbuf_append_xml(struct strbuf *sb, const char *s)
{
        for (; *s; s++) {
                switch (*s) {
                case '&':
                        strbuf_append(sb, "&amp;");
                        break;
                case '<':
                        strbuf_append(sb, "&lt;");
                        break;
                case '>':
                        strbuf_append(sb, "&gt;");
                        break;
                case '\'':
                        strbuf_append(sb, "&apos;");
                        break;
                case '"':
                        strbuf_append(sb, "&quot;");
                        break;
                default:
                        strbuf_append_len(sb, s, 1);
                }
        }
}

void strbuf_indent(struct strbuf *sb, int n)
{
        strbuf_reserve(sb, (size_t)n);
        for (int i = 0; i < n; i++)
                sb->buf[sb->len++] = ' ';
        sb->buf[sb->len] = '\0';
}

char *strbuf_steal(struct strbuf *sb)
{
        char *s = sb->buf ? sb->buf : xstrdup("");
        sb->buf = NULL;
        sb->len = sb->cap = 0;
        return s;
}

void strbuf_reset(struct strbuf *sb)
{
        free(sb->buf);
        sb->buf = NULL;
        sb->len = sb->cap = 0;
}
