/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "macros.h"

#include <stdarg.h>

static _noreturn_ void oom(void)
{
        static const char msg[] = "litevirt: out of memory\n";
        (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size ? size : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                oom();
        return p;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s);
        if (!p)
                oom();
        return p;
}

char *xstrdup_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
        char *p = strndup(s, n);
        if (!p)
                oom();
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        char *s = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                oom();
        return s;
}

void strv_push(char ***v, char *s)
{
        size_t n = strv_length(*v);
        *v = xrealloc(*v, (n + 2) * sizeof(char *));
        (*v)[n] = s;
        (*v)[n + 1] = NULL;
}

bool strv_contains(char *const *v, const char *s)
{
        for (; v && *v; v++)
                if (streq(*v, s))
                        return true;
        return false;
}

char **strv_copy(char *const *v)
{
        size_t n = strv_length(v);
        char **c = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                c[i] = xstrdup(v[i]);
        return c;
}

char *strv_join(char *const *v, const char *sep)
{
        size_t len = 1, n = strv_length(v);
        for (size_t i = 0; i < n; i++)
                len += strlen(v[i]) + strlen(sep);
        char *out = xcalloc(len, 1), *p = out;
        for (size_t i = 0; i < n; i++) {
                if (i)
                        p = stpcpy(p, sep);
                p = stpcpy(p, v[i]);
        }
        return out;
}
