/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Live migration: what the source (migration-source.c), the destination
 * (migration-incoming.c) and its watchdog (migration-watchdog.c) share —
 * the phase messages and cookies (docs/migration.md). The channel and the
 * transport are migration-channel.c. Each side drives its hypervisor
 * through the driver's struct lv_migration_ops only. */
#include "supervisor/migration.h"
#include "supervisor/migration_priv.h"

#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "conf/host_conf.h"
#include "conf/hostid.h"
#include "conf/xml.h"
#include "locking/lock.h"
#include "driver-support/loop.h"
#include "lib/varlink.h"
#include "util/fault.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/paths.h"
#include "util/strbuf.h"
#include "util/clock.h"

const char *migration_jstr(struct json_object *o, const char *key)
{
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

bool migration_jbool(struct json_object *o, const char *key)
{
        struct json_object *v;
        return o && json_object_object_get_ex(o, key, &v) &&
               json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* A reply of the peer for phase: ok, or its error as ours. */
int migration_reply_check(struct mchan *c, struct json_object *o, const char *phase,
                          struct lv_error **err)
{
        const char *e = migration_jstr(o, "error");
        if (e || !migration_jbool(o, "ok"))
                return lv_error_setf(err, EIO, "%s: %s", c->peer,
                                     e ? e : "failed without saying why");
        if (!streq(migration_jstr(o, "phase"), phase))
                return lv_error_setf(err, LV_ERR_PROTOCOL, "the %s answered '%s' to %s", c->peer,
                                     migration_jstr(o, "phase") ? migration_jstr(o, "phase")
                                                                : "(nothing)",
                                     phase);
        return 0;
}

struct json_object *migration_message(const char *phase, const char *cookie)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "phase", json_object_new_string(phase));
        if (cookie)
                json_object_object_add(o, "cookie", json_object_new_string(cookie));
        return o;
}

int migration_local_cookie(struct lv_guest *g, const struct host_identity *id, struct cookie **ret,
                           struct lv_error **err)
{
        unsigned char hu[16];
        if (domain_uuid_parse(id->uuid, hu) < 0)
                return lv_error_setf(err, EINVAL, "host UUID '%s' is malformed", id->uuid);
        *ret = cookie_new(g->name, g->def->uuid, id->hostname, hu);
        (*ret)->ram_pad = g->ram_pad; /* the destination starts the same RAM */
        return 0;
}

int migration_parse_peer_cookie(const char *xml, const struct lv_guest *g, struct cookie **ret,
                                struct lv_error **err)
{
        if (!xml)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "the message carries no cookie");
        const struct conf_xml_ops *x = conf_xml(err);
        if (!x)
                return -ENOENT;
        return x->cookie_parse_string(xml, strlen(xml), g->name, g->def->uuid,
                                      COOKIE_FEATURES_LITEVIRT, ret, err);
}
