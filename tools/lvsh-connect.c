/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh -c/--connect URI: which litevirt lvsh talks to. There is no daemon:
 * "a litevirt" is a set of directories (host.conf, definitions, state,
 * logs), so a URI names them: litevirt:///?rundir=/srv/b/run&confdir=...
 * Each key sets the LITEVIRT_* variable of that directory for lvsh and
 * everything it runs (supervisors, lvsh-net). */
#include <ctype.h>

#include "tools/lvsh.h"

static const char *const uri_keys[][2] = {
        {"confdir", "LITEVIRT_CONFDIR"},       {"guestdir", "LITEVIRT_GUESTDIR"},
        {"rundir", "LITEVIRT_RUNDIR"},         {"logdir", "LITEVIRT_LOGDIR"},
        {"networkdir", "LITEVIRT_NETWORKDIR"}, {"netrundir", "LITEVIRT_NETRUNDIR"},
};

static int hexval(int c)
{
        return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

/* %XX-decoded copy of s[0..len), NULL if an escape is malformed or
 * decodes to NUL. */
static char *uri_unescape(const char *s, size_t len)
{
        char *out = xcalloc(1, len + 1), *o = out;
        for (size_t i = 0; i < len; i++) {
                if (s[i] != '%') {
                        *o++ = s[i];
                        continue;
                }
                int hi = i + 2 < len ? hexval((unsigned char)s[i + 1]) : -1;
                int lo = i + 2 < len ? hexval((unsigned char)s[i + 2]) : -1;
                if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                        free(out);
                        return NULL;
                }
                *o++ = (char)(hi * 16 + lo);
                i += 2;
        }
        return out;
}

static int uri_param_apply(const char *uri, const char *p, size_t len, struct lv_error **err)
{
        const char *eq = memchr(p, '=', len);
        if (!eq)
                return lv_error_setf(err, EINVAL, "URI '%s': '%.*s' is not KEY=VALUE", uri,
                                     (int)len, p);
        size_t klen = (size_t)(eq - p);
        for (size_t k = 0; k < ARRAY_SIZE(uri_keys); k++) {
                if (strlen(uri_keys[k][0]) != klen || strncmp(p, uri_keys[k][0], klen) != 0)
                        continue;
                _cleanup_free_ char *v = uri_unescape(eq + 1, len - klen - 1);
                if (!v)
                        return lv_error_setf(err, EINVAL, "URI '%s': %s: a malformed %%-escape",
                                             uri, uri_keys[k][0]);
                if (v[0] != '/')
                        return lv_error_setf(err, EINVAL,
                                             "URI '%s': %s '%s' is not an absolute path", uri,
                                             uri_keys[k][0], v);
                setenv(uri_keys[k][1], v, 1);
                return 0;
        }
        return lv_error_setf(err, EINVAL,
                             "URI '%s': unknown parameter '%.*s' (known: confdir, guestdir, "
                             "rundir, logdir, networkdir, netrundir)",
                             uri, (int)klen, p);
}

int lvsh_uri_apply(const char *uri, struct lv_error **err)
{
        if (startswith(uri, "litevirt+"))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "URI '%s': no remote transport: litevirt has no daemon to "
                                     "reach; run lvsh on that host (ssh HOST lvsh ...)",
                                     uri);
        const char *rest = startswith(uri, "litevirt://") ? uri + strlen("litevirt://") : NULL;
        if (!rest)
                return lv_error_setf(err, EINVAL,
                                     "URI '%s': not a litevirt URI (litevirt:///[?rundir=DIR&...])",
                                     uri);
        /* no host part (only this host's litevirt), then "/", "/system" */
        size_t hlen = strcspn(rest, "/?");
        if (hlen > 0 && !(hlen == 9 && strncmp(rest, "localhost", 9) == 0))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "URI '%s': host '%.*s': only this host's litevirt can be "
                                     "reached (run lvsh on that host: ssh HOST lvsh ...)",
                                     uri, (int)hlen, rest);
        rest += hlen;
        size_t plen = strcspn(rest, "?");
        if (!(plen == 0 || (plen == 1 && rest[0] == '/') ||
              (plen == 7 && strncmp(rest, "/system", 7) == 0)))
                return lv_error_setf(err, EINVAL, "URI '%s': unknown path '%.*s' (use '/')", uri,
                                     (int)plen, rest);
        rest += plen;
        if (*rest != '?')
                return 0;
        for (const char *p = rest + 1; *p;) {
                size_t len = strcspn(p, "&");
                int r = len ? uri_param_apply(uri, p, len, err) : 0;
                if (r < 0)
                        return r;
                p += len;
                if (*p == '&')
                        p++;
        }
        return 0;
}
