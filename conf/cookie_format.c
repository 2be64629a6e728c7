/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Migration cookie → XML, in libvirt's layout (no libxml2). */
#include "conf/cookie.h"
#include "util/strbuf.h"

static void fmt_ull(struct strbuf *sb, const char *elem, unsigned long long v)
{
        strbuf_printf(sb, "    <%s>%llu</%s>\n", elem, v, elem);
}

static void cookie_format_graphics(struct strbuf *sb, const struct cookie_graphics *g)
{
        strbuf_printf(sb, "  <graphics type='%s' port='%d'",
                      cookie_graphics_type_to_string(g->type), g->port);
        if (g->listen) {
                strbuf_append(sb, " listen='");
                strbuf_append_xml(sb, g->listen);
                strbuf_append(sb, "'");
        }
        if (g->type == DOMAIN_GRAPHICS_SPICE)
                strbuf_printf(sb, " tlsPort='%d'", g->tls_port);
        if (!g->tls_subject) {
                strbuf_append(sb, "/>\n");
                return;
        }
        strbuf_append(sb, ">\n    <cert info='subject' value='");
        strbuf_append_xml(sb, g->tls_subject);
        strbuf_append(sb, "'/>\n  </graphics>\n");
}

static void cookie_format_stats(struct strbuf *sb, const struct cookie_stats *s)
{
        strbuf_append(sb, "  <statistics>\n");
        fmt_ull(sb, "started", s->started);
        fmt_ull(sb, "stopped", s->stopped);
        fmt_ull(sb, "sent", s->sent);
        if (s->delta_set)
                strbuf_printf(sb, "    <delta>%lld</delta>\n", s->delta);
        fmt_ull(sb, "time_elapsed", s->time_elapsed);
        if (s->downtime_set)
                fmt_ull(sb, "downtime", s->downtime);
        if (s->setup_time_set)
                fmt_ull(sb, "setup_time", s->setup_time);
        fmt_ull(sb, "memory_total", s->memory_total);
        fmt_ull(sb, "memory_processed", s->memory_processed);
        fmt_ull(sb, "memory_remaining", s->memory_remaining);
        fmt_ull(sb, "memory_bps", s->memory_bps);
        if (s->memory_constant_set) {
                fmt_ull(sb, "memory_constant", s->memory_constant);
                fmt_ull(sb, "memory_normal", s->memory_normal);
                fmt_ull(sb, "memory_normal_bytes", s->memory_normal_bytes);
        }
        fmt_ull(sb, "memory_dirty_rate", s->memory_dirty_rate);
        fmt_ull(sb, "memory_iteration", s->memory_iteration);
        fmt_ull(sb, "memory_postcopy_requests", s->memory_postcopy_requests);
        fmt_ull(sb, "memory_page_size", s->memory_page_size);
        fmt_ull(sb, "disk_total", s->disk_total);
        fmt_ull(sb, "disk_processed", s->disk_processed);
        fmt_ull(sb, "disk_remaining", s->disk_remaining);
        fmt_ull(sb, "disk_bps", s->disk_bps);
        if (s->compression_set) {
                fmt_ull(sb, "compression_cache", s->compression_cache);
                fmt_ull(sb, "compression_bytes", s->compression_bytes);
                fmt_ull(sb, "compression_pages", s->compression_pages);
                fmt_ull(sb, "compression_cache_misses", s->compression_cache_misses);
                fmt_ull(sb, "compression_overflow", s->compression_overflow);
        }
        strbuf_printf(sb, "    <auto_converge_throttle>%d</auto_converge_throttle>\n",
                      s->auto_converge_throttle);
        strbuf_append(sb, "  </statistics>\n");
}

int cookie_format(const struct cookie *c, char **ret, struct lv_error **err)
{
        _cleanup_strbuf_ struct strbuf sb = {0};
        char uuid[37], hostuuid[37];
        domain_uuid_format(c->uuid, uuid);
        domain_uuid_format(c->hostuuid, hostuuid);

        strbuf_append(&sb, "<qemu-migration>\n");
        strbuf_append(&sb, "  <name>");
        strbuf_append_xml(&sb, c->name);
        strbuf_printf(&sb, "</name>\n  <uuid>%s</uuid>\n  <hostname>", uuid);
        strbuf_append_xml(&sb, c->hostname);
        strbuf_printf(&sb, "</hostname>\n  <hostuuid>%s</hostuuid>\n", hostuuid);
        for (int f = 0; f < COOKIE_FEATURE_LAST; f++)
                if (c->mandatory & COOKIE_FEATURE_BIT(f))
                        strbuf_printf(&sb, "  <feature name='%s'/>\n", cookie_feature_to_string(f));
        if (c->graphics)
                cookie_format_graphics(&sb, c->graphics);
        if (c->lock_driver) {
                strbuf_append(&sb, "  <lockstate driver='");
                strbuf_append_xml(&sb, c->lock_driver);
                strbuf_append(&sb, "'>\n    <leases>");
                if (c->lock_state)
                        strbuf_append_xml(&sb, c->lock_state);
                strbuf_append(&sb, "</leases>\n  </lockstate>\n");
        }
        if (c->stats)
                cookie_format_stats(&sb, c->stats);
        if (c->ram_pad)
                strbuf_append(&sb, "  <ram-pad/>\n");
        strbuf_append(&sb, "</qemu-migration>\n");

        if (sb.len > COOKIE_MAX_BYTES)
                return lv_error_setf(err, E2BIG,
                                     "migration cookie for guest '%s' is too large (%zu bytes, "
                                     "at most %d)",
                                     c->name, sb.len, COOKIE_MAX_BYTES);
        *ret = strbuf_steal(&sb);
        return 0;
}
