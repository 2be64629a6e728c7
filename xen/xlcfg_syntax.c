/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The syntax of xl's config files, as libxlutil reads them:
 *
 *   # comment
 *   key = "string" | 'string' | number | [ value, value, ... ]
 *
 * Statements end at a newline or ';'; lists may span lines, contain
 * comments and end with a trailing comma. Input is hostile: sizes, counts
 * and nesting are bounded, and every error names the file, the line and
 * the problem. */
#include <ctype.h>
#include <stdarg.h>

#include "util/strbuf.h"
#include "xen/xlcfg.h"

struct lexer {
        const char *p, *end;
        const char *filename;
        const char *key; /* the setting being read, for messages */
        int line;
        struct lv_error **err;
};

static int lex_error(struct lexer *lx, const char *fmt, ...) _printf_(2, 3);
static int lex_error(struct lexer *lx, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        int r = lx->key ? lv_error_setf(lx->err, EINVAL, "%s:%d: '%s': %s", lx->filename, lx->line,
                                        lx->key, msg)
                        : lv_error_setf(lx->err, EINVAL, "%s:%d: %s", lx->filename, lx->line, msg);
        free(msg);
        return r;
}

static void value_clear(struct xlcfg_value *v)
{
        free(v->text);
        for (int i = 0; i < v->n_items; i++)
                value_clear(&v->items[i]);
        free(v->items);
}

void xlcfg_free(struct xlcfg *cfg)
{
        if (!cfg)
                return;
        for (int i = 0; i < cfg->n_settings; i++) {
                free(cfg->settings[i].key);
                value_clear(&cfg->settings[i].value);
        }
        free(cfg->settings);
        free(cfg->filename);
        free(cfg);
}

struct xlcfg_setting *xlcfg_get(struct xlcfg *cfg, const char *key)
{
        for (int i = 0; i < cfg->n_settings; i++)
                if (streq(cfg->settings[i].key, key))
                        return &cfg->settings[i];
        return NULL;
}

/* Skip blanks and comments; with newlines=true also line ends. */
static void skip_space(struct lexer *lx, bool newlines)
{
        while (lx->p < lx->end) {
                char c = *lx->p;
                if (c == ' ' || c == '\t' || c == '\r')
                        lx->p++;
                else if (c == '#')
                        while (lx->p < lx->end && *lx->p != '\n')
                                lx->p++;
                else if (c == '\n' && newlines) {
                        lx->line++;
                        lx->p++;
                } else
                        break;
        }
}

static const char *describe(struct lexer *lx, char *buf, size_t n)
{
        if (lx->p >= lx->end)
                return "end of file";
        unsigned char c = (unsigned char)*lx->p;
        if (c == '\n')
                return "end of line";
        if (isprint(c))
                snprintf(buf, n, "'%c'", c);
        else
                snprintf(buf, n, "byte 0x%02x", c);
        return buf;
}

static int lex_string(struct lexer *lx, char **ret)
{
        _cleanup_strbuf_ struct strbuf sb = {0};
        char quote = *lx->p++;
        strbuf_append(&sb, "");
        for (;;) {
                if (lx->p >= lx->end)
                        return lex_error(lx, "unterminated string");
                char c = *lx->p++;
                if (c == quote)
                        break;
                if (c == '\n')
                        return lex_error(lx, "unterminated string (strings end on their line)");
                if ((unsigned char)c < 0x20 && c != '\t')
                        return lex_error(lx, "control character 0x%02x in a string",
                                         (unsigned char)c);
                if (c == '\\') {
                        if (lx->p >= lx->end)
                                return lex_error(lx, "unterminated string");
                        char e = *lx->p++;
                        switch (e) {
                        case '"':
                        case '\'':
                        case '\\':
                                c = e;
                                break;
                        case 'n':
                                c = '\n';
                                break;
                        case 't':
                                c = '\t';
                                break;
                        default:
                                if (isprint((unsigned char)e))
                                        return lex_error(
                                                lx, "unsupported escape '\\%c' in a string", e);
                                return lex_error(lx, "unsupported escape in a string");
                        }
                }
                strbuf_append_len(&sb, &c, 1);
        }
        *ret = strbuf_steal(&sb);
        return 0;
}

static int lex_value(struct lexer *lx, struct xlcfg_value *v, int depth)
{
        char buf[16];
        v->line = lx->line;
        if (lx->p >= lx->end)
                return lex_error(lx, "value expected, found end of file");
        char c = *lx->p;
        if (c == '"' || c == '\'') {
                v->type = XLCFG_STRING;
                return lex_string(lx, &v->text);
        }
        if (isdigit((unsigned char)c)) {
                const char *s = lx->p;
                while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '.' ||
                                           *lx->p == '_' || *lx->p == '+' || *lx->p == '-'))
                        lx->p++;
                if (lx->p - s > 32)
                        return lex_error(lx, "number too long");
                v->type = XLCFG_NUMBER;
                v->text = xstrndup(s, (size_t)(lx->p - s));
                return 0;
        }
        if (c != '[')
                return lex_error(lx, "value expected, found %s", describe(lx, buf, sizeof(buf)));
        if (depth >= XLCFG_MAX_DEPTH)
                return lex_error(lx, "lists nested deeper than %d", XLCFG_MAX_DEPTH);
        lx->p++;
        v->type = XLCFG_LIST;
        for (;;) {
                skip_space(lx, true);
                if (lx->p < lx->end && *lx->p == ']') {
                        lx->p++;
                        return 0;
                }
                if (v->n_items >= XLCFG_MAX_LIST_ITEMS)
                        return lex_error(lx, "list longer than %d items", XLCFG_MAX_LIST_ITEMS);
                v->items = xrealloc(v->items, sizeof(*v->items) * (size_t)(v->n_items + 1));
                memset(&v->items[v->n_items], 0, sizeof(*v->items));
                int r = lex_value(lx, &v->items[v->n_items++], depth + 1);
                if (r < 0)
                        return r;
                skip_space(lx, true);
                if (lx->p < lx->end && *lx->p == ',') {
                        lx->p++;
                        continue;
                }
                if (lx->p < lx->end && *lx->p == ']')
                        continue;
                return lex_error(lx, "',' or ']' expected in a list, found %s",
                                 describe(lx, buf, sizeof(buf)));
        }
}

static int lex_setting(struct lexer *lx, struct xlcfg *cfg)
{
        char buf[16];
        const char *s = lx->p;
        if (!isalpha((unsigned char)*s) && *s != '_')
                return lex_error(lx, "setting name expected, found %s",
                                 describe(lx, buf, sizeof(buf)));
        while (lx->p < lx->end &&
               (isalnum((unsigned char)*lx->p) || *lx->p == '_' || *lx->p == '.'))
                lx->p++;
        size_t n = (size_t)(lx->p - s);
        if (n > XLCFG_MAX_KEY)
                return lex_error(lx, "setting name longer than %d characters", XLCFG_MAX_KEY);
        _cleanup_free_ char *key = xstrndup(s, n);
        lx->key = key;
        skip_space(lx, false);
        if (lx->p + 1 < lx->end && lx->p[0] == '+' && lx->p[1] == '=')
                return lex_error(lx, "'+=' is not supported, write the whole value");
        if (lx->p >= lx->end || *lx->p != '=')
                return lex_error(lx, "'=' expected, found %s", describe(lx, buf, sizeof(buf)));
        lx->p++;
        skip_space(lx, false);
        struct xlcfg_setting *dup = xlcfg_get(cfg, key);
        if (dup)
                return lex_error(lx, "set again (first set on line %d)", dup->line);
        if (cfg->n_settings >= XLCFG_MAX_SETTINGS)
                return lex_error(lx, "more than %d settings", XLCFG_MAX_SETTINGS);
        struct xlcfg_value v = {0};
        int line = lx->line;
        int r = lex_value(lx, &v, 0);
        if (r < 0) {
                value_clear(&v);
                return r;
        }
        lx->key = NULL;
        cfg->settings =
                xrealloc(cfg->settings, sizeof(*cfg->settings) * (size_t)(cfg->n_settings + 1));
        cfg->settings[cfg->n_settings++] = (struct xlcfg_setting){
                .key = TAKE_PTR(key),
                .value = v,
                .line = line,
        };
        skip_space(lx, false);
        if (lx->p >= lx->end)
                return 0;
        if (*lx->p == '\n' || *lx->p == ';')
                return 0;
        return lex_error(lx, "end of line or ';' expected after '%s', found %s",
                         cfg->settings[cfg->n_settings - 1].key, describe(lx, buf, sizeof(buf)));
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
        size_t len;
        unsigned min;
        unsigned cp;
        if (p[0] < 0x80)
                return 1;
        if ((p[0] & 0xe0) == 0xc0)
                len = 2, min = 0x80, cp = p[0] & 0x1f;
        else if ((p[0] & 0xf0) == 0xe0)
                len = 3, min = 0x800, cp = p[0] & 0x0f;
        else if ((p[0] & 0xf8) == 0xf0)
                len = 4, min = 0x10000, cp = p[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

int xlcfg_syntax_parse(const char *text, size_t len, const char *filename, struct xlcfg **ret,
                       struct lv_error **err)
{
        if (!filename)
                filename = "xl.cfg";
        if (len > XLCFG_MAX_BYTES)
                return lv_error_setf(err, EFBIG, "%s: larger than %d bytes", filename,
                                     XLCFG_MAX_BYTES);
        if (memchr(text, '\0', len))
                return lv_error_setf(err, EINVAL, "%s: contains a NUL byte", filename);
        /* the domain XML it becomes is UTF-8: so must it be */
        int line = 1;
        for (size_t i = 0; i < len;) {
                size_t l = utf8_len((const unsigned char *)text + i, len - i);
                if (!l)
                        return lv_error_setf(err, EINVAL, "%s:%d: not valid UTF-8", filename, line);
                if (text[i] == '\n')
                        line++;
                i += l;
        }
        struct xlcfg *cfg = xcalloc(1, sizeof(*cfg));
        _cleanup_xlcfg_ struct xlcfg *owned = cfg;
        cfg->filename = xstrdup(filename);
        struct lexer lx = {
                .p = text, .end = text + len, .filename = filename, .line = 1, .err = err};
        for (;;) {
                skip_space(&lx, false);
                if (lx.p >= lx.end)
                        break;
                if (*lx.p == '\n') {
                        lx.line++;
                        lx.p++;
                        continue;
                }
                if (*lx.p == ';') {
                        lx.p++;
                        continue;
                }
                int r = lex_setting(&lx, cfg);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(owned);
        return 0;
}
