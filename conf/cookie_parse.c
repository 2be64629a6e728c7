/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Migration cookie XML → struct cookie (libxml2; in the parse module).
 * The cookie comes from another host: everything is bounded and checked,
 * and nothing is stored unless the whole cookie is good. */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "conf/cookie.h"
#include "conf/xml_load.h"

#define COOKIE_TEXT_MAX 1024 /* name, hostname, listen, driver, subject */

struct cctx {
        struct lv_error **err;
};

static int cerr(struct cctx *c, xmlNodePtr node, const char *fmt, ...) _printf_(3, 4);
static int cerr(struct cctx *c, xmlNodePtr node, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        return lv_error_setf(
                c->err, LV_ERR_PROTOCOL, "migration cookie, line %ld: element '%s': %s",
                node ? xmlGetLineNo(node) : 0L, node ? (const char *)node->name : "?", msg);
}

/* ---- loading, hostile input refused (conf/xml_load.c) ---- */

static int cookie_load(const char *xml, size_t len, xmlDocPtr *ret, struct lv_error **err)
{
        if (len == 0)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "migration cookie is empty");
        int line = 0;
        _cleanup_free_ char *reason = NULL;
        if (xml_load_untrusted(xml, len, COOKIE_MAX_BYTES, "cookie", ret, &line, &reason) < 0) {
                if (line > 0)
                        return lv_error_setf(err, LV_ERR_PROTOCOL, "migration cookie, line %d: %s",
                                             line, reason);
                return lv_error_setf(err, LV_ERR_PROTOCOL, "migration cookie: %s", reason);
        }
        return 0;
}

/* ---- values ---- */

static bool is_elem(xmlNodePtr n, const char *name)
{
        return n->type == XML_ELEMENT_NODE && !n->ns && xmlStrEqual(n->name, BAD_CAST name);
}

/* Plain text of an element (no child elements), bounded, no control
 * characters. */
static int elem_text(struct cctx *c, xmlNodePtr node, size_t max, bool allow_empty, char **ret)
{
        for (xmlNodePtr ch = node->children; ch; ch = ch->next)
                if (ch->type == XML_ELEMENT_NODE)
                        return cerr(c, node, "unexpected child element '%s'", ch->name);
        _cleanup_free_ char *s = (char *)xmlNodeGetContent(node);
        if (!s)
                s = xstrdup("");
        if (strlen(s) > max)
                return cerr(c, node, "text is longer than %zu bytes", max);
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 && *p != '\t')
                        return cerr(c, node, "text contains a control character");
        if (!allow_empty && !*s)
                return cerr(c, node, "text is empty");
        *ret = TAKE_PTR(s);
        return 0;
}

static int attr_text(struct cctx *c, xmlNodePtr node, const char *name, char **ret)
{
        _cleanup_free_ char *s = (char *)xmlGetNoNsProp(node, BAD_CAST name);
        if (!s) {
                *ret = NULL;
                return 0;
        }
        if (strlen(s) > COOKIE_TEXT_MAX)
                return cerr(c, node, "attribute '%s' is longer than %d bytes", name,
                            COOKIE_TEXT_MAX);
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20)
                        return cerr(c, node, "attribute '%s' contains a control character", name);
        *ret = TAKE_PTR(s);
        return 0;
}

static const char *trim(char *s)
{
        while (*s == ' ' || *s == '\t' || *s == '\n')
                s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
                s[--n] = '\0';
        return s;
}

/* Decimal integer in [min, max]; false when malformed or out of range. */
static bool parse_ll(const char *s, long long min, long long max, long long *ret)
{
        if (!*s)
                return false;
        const char *p = s;
        if (*p == '-')
                p++;
        if (!*p)
                return false;
        for (const char *q = p; *q; q++)
                if (*q < '0' || *q > '9')
                        return false;
        errno = 0;
        char *end;
        long long v = strtoll(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return false;
        *ret = v;
        return true;
}

static bool parse_ull(const char *s, unsigned long long *ret)
{
        if (!*s)
                return false;
        for (const char *q = s; *q; q++)
                if (*q < '0' || *q > '9')
                        return false;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end)
                return false;
        *ret = v;
        return true;
}

static int attr_port(struct cctx *c, xmlNodePtr node, const char *name, bool required, int *ret)
{
        _cleanup_free_ char *s = (char *)xmlGetNoNsProp(node, BAD_CAST name);
        if (!s) {
                if (required)
                        return cerr(c, node, "missing attribute '%s'", name);
                return 0;
        }
        long long v;
        if (!parse_ll(trim(s), -1, 65535, &v))
                return cerr(c, node, "attribute '%s': '%.32s' is not a port (-1..65535)", name, s);
        *ret = (int)v;
        return 0;
}

/* ---- elements ---- */

static int parse_uuid_elem(struct cctx *c, xmlNodePtr node, unsigned char out[16])
{
        _cleanup_free_ char *s = NULL;
        int r = elem_text(c, node, 64, false, &s);
        if (r < 0)
                return r;
        if (domain_uuid_parse(s, out) < 0)
                return cerr(c, node, "'%s' is not a UUID", s);
        return 0;
}

static int parse_graphics(struct cctx *c, xmlNodePtr node, struct cookie_graphics **ret)
{
        _cleanup_free_ char *type = NULL;
        int r = attr_text(c, node, "type", &type);
        if (r < 0)
                return r;
        if (!type)
                return cerr(c, node, "missing attribute 'type'");
        int t = cookie_graphics_type_from_string(type);
        if (t < 0)
                return cerr(c, node, "graphics type '%s' is not supported (vnc, spice)", type);

        struct cookie_graphics g = {.type = t, .port = -1, .tls_port = -1};
        r = attr_port(c, node, "port", true, &g.port);
        if (r < 0)
                return r;
        if (t == DOMAIN_GRAPHICS_SPICE) {
                r = attr_port(c, node, "tlsPort", true, &g.tls_port);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *listen = NULL, *subject = NULL;
        r = attr_text(c, node, "listen", &listen);
        if (r < 0)
                return r;
        for (xmlNodePtr ch = node->children; ch; ch = ch->next) {
                if (!is_elem(ch, "cert"))
                        continue;
                _cleanup_free_ char *info = NULL, *value = NULL;
                r = attr_text(c, ch, "info", &info);
                if (r >= 0)
                        r = attr_text(c, ch, "value", &value);
                if (r < 0)
                        return r;
                if (!streq(info, "subject"))
                        continue; /* libvirt defines only the subject */
                if (!value)
                        return cerr(c, ch, "missing attribute 'value'");
                if (subject)
                        return cerr(c, ch, "certificate subject given twice");
                subject = TAKE_PTR(value);
        }
        struct cookie_graphics *out = xcalloc(1, sizeof(*out));
        *out = g;
        out->listen = TAKE_PTR(listen);
        out->tls_subject = TAKE_PTR(subject);
        *ret = out;
        return 0;
}

static int parse_lockstate(struct cctx *c, xmlNodePtr node, char **ret_driver, char **ret_state)
{
        _cleanup_free_ char *driver = NULL, *state = NULL;
        int r = attr_text(c, node, "driver", &driver);
        if (r < 0)
                return r;
        if (!driver || !*driver)
                return cerr(c, node, "missing lock driver name (attribute 'driver')");
        for (xmlNodePtr ch = node->children; ch; ch = ch->next) {
                if (!is_elem(ch, "leases"))
                        continue;
                if (state)
                        return cerr(c, ch, "given twice");
                r = elem_text(c, ch, COOKIE_MAX_BYTES, true, &state);
                if (r < 0)
                        return r;
        }
        if (state && !*state) {
                free(state);
                state = NULL;
        }
        *ret_driver = TAKE_PTR(driver);
        *ret_state = TAKE_PTR(state);
        return 0;
}

enum stat_kind { STAT_ULL, STAT_LL, STAT_INT };

struct stat_field {
        const char *name;
        enum stat_kind kind;
        size_t offset;
        size_t set_offset; /* offset of the bool it sets, or 0 */
};

#define SF(n, k)                                                                                   \
        {                                                                                          \
#n, k, offsetof(struct cookie_stats, n), 0                                         \
        }
#define SFS(n, k, s)                                                                               \
        {                                                                                          \
#n, k, offsetof(struct cookie_stats, n), offsetof(struct cookie_stats, s)          \
        }

static const struct stat_field stat_fields[] = {
        SF(started, STAT_ULL),
        SF(stopped, STAT_ULL),
        SF(sent, STAT_ULL),
        SFS(delta, STAT_LL, delta_set),
        SF(time_elapsed, STAT_ULL),
        SFS(downtime, STAT_ULL, downtime_set),
        SFS(setup_time, STAT_ULL, setup_time_set),
        SF(memory_total, STAT_ULL),
        SF(memory_processed, STAT_ULL),
        SF(memory_remaining, STAT_ULL),
        SF(memory_bps, STAT_ULL),
        SFS(memory_constant, STAT_ULL, memory_constant_set),
        SF(memory_normal, STAT_ULL),
        SF(memory_normal_bytes, STAT_ULL),
        SF(memory_dirty_rate, STAT_ULL),
        SF(memory_iteration, STAT_ULL),
        SF(memory_postcopy_requests, STAT_ULL),
        SF(memory_page_size, STAT_ULL),
        SF(disk_total, STAT_ULL),
        SF(disk_processed, STAT_ULL),
        SF(disk_remaining, STAT_ULL),
        SF(disk_bps, STAT_ULL),
        SFS(compression_cache, STAT_ULL, compression_set),
        SF(compression_bytes, STAT_ULL),
        SF(compression_pages, STAT_ULL),
        SF(compression_cache_misses, STAT_ULL),
        SF(compression_overflow, STAT_ULL),
        SF(auto_converge_throttle, STAT_INT),
};

static int parse_statistics(struct cctx *c, xmlNodePtr node, struct cookie_stats **ret)
{
        _cleanup_free_ struct cookie_stats *s = xcalloc(1, sizeof(*s));
        unsigned long long seen = 0;
        for (xmlNodePtr ch = node->children; ch; ch = ch->next) {
                if (ch->type != XML_ELEMENT_NODE || ch->ns)
                        continue;
                size_t i;
                for (i = 0; i < ARRAY_SIZE(stat_fields); i++)
                        if (xmlStrEqual(ch->name, BAD_CAST stat_fields[i].name))
                                break;
                if (i == ARRAY_SIZE(stat_fields))
                        continue; /* a statistic this version does not know */
                if (seen & (1ull << i))
                        return cerr(c, ch, "given twice");
                seen |= 1ull << i;
                const struct stat_field *f = &stat_fields[i];
                _cleanup_free_ char *text = NULL;
                int r = elem_text(c, ch, 32, false, &text);
                if (r < 0)
                        return r;
                const char *v = trim(text);
                char *base = (char *)s;
                long long ll;
                switch (f->kind) {
                case STAT_ULL:
                        if (!parse_ull(v, (unsigned long long *)(void *)(base + f->offset)))
                                return cerr(c, ch, "'%s' is not an unsigned number", v);
                        break;
                case STAT_LL:
                        if (!parse_ll(v, LLONG_MIN, LLONG_MAX, &ll))
                                return cerr(c, ch, "'%s' is not a number", v);
                        *(long long *)(void *)(base + f->offset) = ll;
                        break;
                case STAT_INT:
                        if (!parse_ll(v, INT_MIN, INT_MAX, &ll))
                                return cerr(c, ch, "'%s' is not a number", v);
                        *(int *)(void *)(base + f->offset) = (int)ll;
                        break;
                }
                if (f->set_offset)
                        *(bool *)(void *)(base + f->set_offset) = true;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- the document ---- */

int cookie_parse_string(const char *xml, size_t len, const char *expected_name,
                        const unsigned char *expected_uuid, unsigned accept, struct cookie **ret,
                        struct lv_error **err)
{
        _cleanup_(xml_doc_freep) xmlDocPtr doc = NULL;
        int r = cookie_load(xml, len, &doc, err);
        if (r < 0)
                return r;
        struct cctx cx = {.err = err};
        struct cctx *c = &cx;
        xmlNodePtr root = xmlDocGetRootElement(doc);
        if (!root || !is_elem(root, "qemu-migration"))
                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                     "migration cookie: root element is '%s', expected "
                                     "'qemu-migration'",
                                     root ? (const char *)root->name : "(none)");

        _cleanup_(cookie_freep) struct cookie *ck = xcalloc(1, sizeof(*ck));
        bool have_uuid = false, have_hostuuid = false;
        for (xmlNodePtr n = root->children; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE || n->ns)
                        continue;
                if (is_elem(n, "name")) {
                        if (ck->name)
                                return cerr(c, n, "given twice");
                        r = elem_text(c, n, COOKIE_TEXT_MAX, false, &ck->name);
                } else if (is_elem(n, "uuid")) {
                        if (have_uuid)
                                return cerr(c, n, "given twice");
                        r = parse_uuid_elem(c, n, ck->uuid);
                        have_uuid = true;
                } else if (is_elem(n, "hostname")) {
                        if (ck->hostname)
                                return cerr(c, n, "given twice");
                        r = elem_text(c, n, COOKIE_TEXT_MAX, false, &ck->hostname);
                } else if (is_elem(n, "hostuuid")) {
                        if (have_hostuuid)
                                return cerr(c, n, "given twice");
                        r = parse_uuid_elem(c, n, ck->hostuuid);
                        have_hostuuid = true;
                } else if (is_elem(n, "feature")) {
                        _cleanup_free_ char *fname = NULL;
                        r = attr_text(c, n, "name", &fname);
                        if (r < 0)
                                return r;
                        if (!fname)
                                return cerr(c, n, "missing attribute 'name'");
                        int f = cookie_feature_from_string(fname);
                        if (f < 0)
                                return cerr(c, n, "unknown mandatory feature '%s'", fname);
                        if (!(accept & COOKIE_FEATURE_BIT(f)))
                                return cerr(c, n, "mandatory feature '%s' is not supported here",
                                            fname);
                        ck->peer_mandatory |= COOKIE_FEATURE_BIT(f);
                } else if (is_elem(n, "graphics")) {
                        if (ck->graphics)
                                return cerr(c, n, "given twice");
                        r = parse_graphics(c, n, &ck->graphics);
                } else if (is_elem(n, "lockstate")) {
                        if (ck->lock_driver)
                                return cerr(c, n, "given twice");
                        r = parse_lockstate(c, n, &ck->lock_driver, &ck->lock_state);
                } else if (is_elem(n, "statistics")) {
                        if (ck->stats)
                                return cerr(c, n, "given twice");
                        r = parse_statistics(c, n, &ck->stats);
                } else if (is_elem(n, "ram-pad")) {
                        if (ck->ram_pad)
                                return cerr(c, n, "given twice");
                        ck->ram_pad = true;
                }
                /* Anything else (domain, network, nbd, cpu, capabilities,
                 * ...) is not for litevirt: only <feature> is mandatory. */
                if (r < 0)
                        return r;
        }

        if (!ck->name)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "migration cookie: missing <name>");
        if (!have_uuid)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "migration cookie: missing <uuid>");
        if (!ck->hostname)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "migration cookie: missing <hostname>");
        if (!have_hostuuid)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "migration cookie: missing <hostuuid>");
        /* The feature 'lockstate' without <lockstate> is what libvirt's
         * default ("nop") lock manager writes: the source holds no lease
         * state to hand over. That is not an error: ck->lock_driver stays
         * NULL and the destination takes its leases afresh. */

        if (expected_name && !streq(ck->name, expected_name))
                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                     "migration cookie is for guest '%s', not '%s'", ck->name,
                                     expected_name);
        if (expected_uuid && memcmp(ck->uuid, expected_uuid, 16) != 0) {
                char got[37], want[37];
                domain_uuid_format(ck->uuid, got);
                domain_uuid_format(expected_uuid, want);
                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                     "migration cookie for guest '%s' has UUID %s, expected %s",
                                     ck->name, got, want);
        }
        *ret = TAKE_PTR(ck);
        return 0;
}
