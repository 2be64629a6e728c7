/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest's disk leases (lock.h) in the supervisor's start and stop:
 * taken before the driver starts anything, released by the undo stack
 * when the guest ends or its start fails. */
#include "conf/host_conf.h"
#include "conf/hostid.h"
#include "supervisor/lock.h"
#include "supervisor/supervisor.h"
#include "util/log.h"

static void undo_leases(struct lv_guest *g, void *data)
{
        struct supervisor *sv = data;
        lock_set_free(TAKE_PTR(sv->leases));
}

int supervisor_host_identity(struct host_identity *ret, char **ret_lockspace, struct lv_error **err)
{
        struct host_conf hc;
        host_conf_init(&hc);
        int r = host_conf_load(NULL, &hc, err);
        if (r >= 0) {
                char uuid[37];
                if (hc.has_host_uuid)
                        domain_uuid_format(hc.host_uuid, uuid);
                r = hostid_resolve(hc.has_host_uuid ? uuid : NULL, hc.hostname, NULL, ret, err);
        }
        if (r >= 0 && ret_lockspace)
                *ret_lockspace = xstrdup_null(hc.lockspace_dir);
        host_conf_clear(&hc);
        return r;
}

int supervisor_leases_acquire(struct supervisor *sv, const char *state, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        /* A migration destination takes its leases at Finish, with the
         * source's lock state, not when its (paused) QEMU starts. */
        if (g->incoming_uri && !state)
                return 0;
        if (sv->leases)
                return lock_set_acquire(sv->leases, state, err);
        int n = 0;
        for (int i = 0; i < g->def->n_disks; i++)
                n += g->def->disks[i].source != NULL;
        if (n == 0)
                return 0;

        struct host_identity id = {0};
        _cleanup_free_ char *lockspace = NULL;
        int r = supervisor_host_identity(&id, &lockspace, err);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s': disk leases", g->name);
        _cleanup_lock_set_ struct lock_set *s = NULL;
        r = lock_set_new(lockspace, id.uuid, g->def, getpid(), &s, err);
        host_identity_clear(&id);
        if (r < 0)
                return r;
        r = lock_set_acquire(s, state, err);
        if (r < 0)
                return r;
        log_info("holding %d disk lease(s) in %s", s->n_leases, s->lockspace);
        sv->leases = TAKE_PTR(s);
        guest_undo_push(g, "disk leases", undo_leases, sv, NULL);
        return 0;
}
