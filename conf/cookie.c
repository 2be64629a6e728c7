/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The migration cookie model: features, construction, checks. */
#include "conf/cookie.h"

static const char *const cookie_feature_names[COOKIE_FEATURE_LAST] = {
        [COOKIE_FEATURE_GRAPHICS] = "graphics",
        [COOKIE_FEATURE_LOCKSTATE] = "lockstate",
        [COOKIE_FEATURE_PERSISTENT] = "persistent",
        [COOKIE_FEATURE_NETWORK] = "network",
        [COOKIE_FEATURE_NBD] = "nbd",
        [COOKIE_FEATURE_STATISTICS] = "statistics",
        [COOKIE_FEATURE_MEMORY_HOTPLUG] = "memory-hotplug",
        [COOKIE_FEATURE_CPU_HOTPLUG] = "cpu-hotplug",
        [COOKIE_FEATURE_CPU] = "cpu",
        [COOKIE_FEATURE_ALLOW_REBOOT] = "allowReboot",
        [COOKIE_FEATURE_CAPABILITIES] = "capabilities",
        [COOKIE_FEATURE_BLOCK_DIRTY_BITMAPS] = "block-dirty-bitmaps",
};

/* Graphics types a cookie can relocate (libvirt's names). */
const char *cookie_graphics_type_to_string(enum domain_graphics_type t)
{
        switch (t) {
        case DOMAIN_GRAPHICS_VNC:
                return "vnc";
        case DOMAIN_GRAPHICS_SPICE:
                return "spice";
        default:
                return NULL;
        }
}

int cookie_graphics_type_from_string(const char *s)
{
        if (streq(s, "vnc"))
                return DOMAIN_GRAPHICS_VNC;
        if (streq(s, "spice"))
                return DOMAIN_GRAPHICS_SPICE;
        return -1;
}

const char *cookie_feature_to_string(int f)
{
        if (f < 0 || f >= COOKIE_FEATURE_LAST)
                return NULL;
        return cookie_feature_names[f];
}

int cookie_feature_from_string(const char *s)
{
        for (int i = 0; s && i < COOKIE_FEATURE_LAST; i++)
                if (streq(s, cookie_feature_names[i]))
                        return i;
        return -1;
}

struct cookie *cookie_new(const char *name, const unsigned char uuid[16], const char *hostname,
                          const unsigned char hostuuid[16])
{
        struct cookie *c = xcalloc(1, sizeof(*c));
        c->name = xstrdup(name);
        memcpy(c->uuid, uuid, 16);
        c->hostname = xstrdup(hostname);
        memcpy(c->hostuuid, hostuuid, 16);
        return c;
}

static void cookie_graphics_free(struct cookie_graphics *g)
{
        if (!g)
                return;
        free(g->listen);
        free(g->tls_subject);
        free(g);
}

void cookie_free(struct cookie *c)
{
        if (!c)
                return;
        free(c->name);
        free(c->hostname);
        cookie_graphics_free(c->graphics);
        free(c->lock_driver);
        free(c->lock_state);
        free(c->stats);
        free(c);
}

void cookie_set_lockstate(struct cookie *c, const char *driver, const char *state)
{
        free(c->lock_driver);
        free(c->lock_state);
        c->lock_driver = xstrdup(driver);
        c->lock_state = state && *state ? xstrdup(state) : NULL;
        c->mandatory |= COOKIE_FEATURE_BIT(COOKIE_FEATURE_LOCKSTATE);
}

void cookie_set_graphics(struct cookie *c, enum domain_graphics_type type, int port, int tls_port,
                         const char *listen, const char *tls_subject)
{
        cookie_graphics_free(c->graphics);
        c->graphics = xcalloc(1, sizeof(*c->graphics));
        c->graphics->type = type;
        c->graphics->port = port;
        c->graphics->tls_port = tls_port;
        c->graphics->listen = xstrdup_null(listen);
        c->graphics->tls_subject = xstrdup_null(tls_subject);
}

int cookie_check_host(const struct cookie *c, const unsigned char local_hostuuid[16],
                      const char *guest_name, struct lv_error **err)
{
        if (memcmp(c->hostuuid, local_hostuuid, 16) != 0)
                return 0;
        char s[37];
        domain_uuid_format(local_hostuuid, s);
        return lv_error_setf(err, LV_ERR_STATE,
                             "cannot migrate guest '%s' to the same host (UUID %s)", guest_name, s);
}
