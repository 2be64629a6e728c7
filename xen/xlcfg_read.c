/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading settings of an xl.cfg being imported: typed getters that mark
 * what they read and fail naming file, line and key; device specs. */
#include <stdarg.h>

#include "xen/xlcfg_read.h"

int rd_fail(struct reader *rd, int line, const char *key, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        int r;
        if (line > 0)
                r = lv_error_setf(rd->err, EINVAL, "%s:%d: '%s': %s", rd->cfg->filename, line, key,
                                  msg);
        else
                r = lv_error_setf(rd->err, EINVAL, "%s: '%s': %s", rd->cfg->filename, key, msg);
        free(msg);
        return r;
}

struct xlcfg_setting *rd_take(struct reader *rd, const char *key)
{
        struct xlcfg_setting *s = xlcfg_get(rd->cfg, key);
        if (s)
                s->used = true;
        return s;
}

/* *ret stays NULL when the key is absent. */
int rd_get_string(struct reader *rd, const char *key, char **ret)
{
        struct xlcfg_setting *s = rd_take(rd, key);
        if (!s)
                return 0;
        if (s->value.type != XLCFG_STRING)
                return rd_fail(rd, s->line, key, "a quoted string expected");
        if (!*s->value.text)
                return rd_fail(rd, s->line, key, "empty string");
        free(*ret);
        *ret = xstrdup(s->value.text);
        return 0;
}

int rd_parse_number(const char *text, long long min, long long max, long long *ret)
{
        char *end = NULL;
        errno = 0;
        long long v = strtoll(text, &end, 0);
        if (errno || end == text || *end)
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

/* 1 when present (value in *ret), 0 when absent. */
int rd_get_number(struct reader *rd, const char *key, long long min, long long max, long long *ret)
{
        struct xlcfg_setting *s = rd_take(rd, key);
        if (!s)
                return 0;
        if (s->value.type != XLCFG_NUMBER)
                return rd_fail(rd, s->line, key, "a number expected");
        int r = rd_parse_number(s->value.text, min, max, ret);
        if (r == -ERANGE)
                return rd_fail(rd, s->line, key, "%s out of range %lld..%lld", s->value.text, min,
                               max);
        if (r < 0)
                return rd_fail(rd, s->line, key, "'%s' is not a number", s->value.text);
        return 1;
}

/* -1 absent, else 0 or 1. */
int rd_get_bool(struct reader *rd, const char *key, int *ret)
{
        long long v;
        *ret = -1;
        int r = rd_get_number(rd, key, 0, 1, &v);
        if (r > 0)
                *ret = (int)v;
        return r < 0 ? r : 0;
}

/* A list of strings; a single string counts as a list of one. */
int rd_get_string_list(struct reader *rd, const char *key, char ***ret, int *ret_line)
{
        struct xlcfg_setting *s = rd_take(rd, key);
        *ret = NULL;
        if (!s)
                return 0;
        *ret_line = s->line;
        if (s->value.type == XLCFG_STRING) {
                strv_push(ret, xstrdup(s->value.text));
                return 0;
        }
        if (s->value.type != XLCFG_LIST)
                return rd_fail(rd, s->line, key, "a list of strings expected");
        for (int i = 0; i < s->value.n_items; i++) {
                if (s->value.items[i].type != XLCFG_STRING) {
                        strv_free(*ret);
                        *ret = NULL;
                        return rd_fail(rd, s->value.items[i].line, key,
                                       "item %d: a string expected", i + 1);
                }
                strv_push(ret, xstrdup(s->value.items[i].text));
        }
        return 0;
}

void rd_spec_free(struct spec_item *items, int n)
{
        for (int i = 0; i < n; i++) {
                free(items[i].key);
                free(items[i].value);
        }
        free(items);
}

int rd_spec_split(const char *spec, bool target_last, struct spec_item **ret, int *ret_n)
{
        struct spec_item *items = NULL;
        int n = 0;
        const char *p = spec;
        while (*p) {
                if (n >= 64) {
                        rd_spec_free(items, n);
                        return -E2BIG;
                }
                /* xl skips blanks around items ("mac=..., bridge=...") */
                while (*p == ' ' || *p == '\t')
                        p++;
                const char *end;
                if (target_last && startswith(p, "target="))
                        end = p + strlen(p);
                else
                        end = strchrnul(p, ',');
                const char *next = *end ? end + 1 : end;
                if (!(target_last && startswith(p, "target=")))
                        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
                                end--;
                const char *eq = memchr(p, '=', (size_t)(end - p));
                /* xl.cfg as litevirt writes it has no '=' in values (but
                 * in a disk's target) */
                if (eq && memchr(eq + 1, '=', (size_t)(end - eq - 1)) &&
                    !(target_last && startswith(p, "target="))) {
                        rd_spec_free(items, n);
                        return -EINVAL;
                }
                items = xrealloc(items, sizeof(*items) * (size_t)(n + 1));
                if (eq) {
                        items[n].key = xstrndup(p, (size_t)(eq - p));
                        items[n].value = xstrndup(eq + 1, (size_t)(end - eq - 1));
                } else {
                        items[n].key = xstrndup(p, (size_t)(end - p));
                        items[n].value = NULL;
                }
                n++;
                p = next;
        }
        *ret = items;
        *ret_n = n;
        return 0;
}

char *rd_spec_describe(const char *key, int index)
{
        return xasprintf("%s #%d", key, index + 1);
}
