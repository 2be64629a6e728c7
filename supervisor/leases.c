/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest's disk leases (lock.h) in the supervisor's start and stop:
 * taken before the driver starts anything, held by the hypervisor process
 * too (g->lease_fds, driver->hold_leases) so that they live exactly as
 * long as the guest, taken over by a supervisor that reattaches, released
 * by the undo stack when the guest ends or its start fails
 * (docs/migration.md, "The lease model"). */
#include "conf/host_conf.h"
#include "conf/hostid.h"
#include "locking/lock.h"
#include "supervisor/supervisor.h"
#include "util/log.h"

static void lease_fds_clear(struct supervisor *sv)
{
        free(TAKE_PTR(sv->lease_fds));
        sv->g.lease_fds = NULL;
        sv->g.n_lease_fds = 0;
}

static void undo_leases(struct lv_guest *g, void *data)
{
        struct supervisor *sv = data;
        lease_fds_clear(sv);
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

/* g->lease_fds from the leases held; a hypervisor process that runs
 * gets them to keep. */
static int leases_hold(struct supervisor *sv, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        lease_fds_clear(sv);
        if (!sv->leases || sv->leases->n_leases == 0)
                return 0;
        sv->lease_fds = xcalloc((size_t)sv->leases->n_leases, sizeof(int));
        g->n_lease_fds = lock_set_fds(sv->leases, sv->lease_fds, sv->leases->n_leases);
        g->lease_fds = sv->lease_fds;
        if (g->pid <= 0 || !sv->driver->hold_leases)
                return 0;
        int r = sv->driver->hold_leases(g, err);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s': handing its disk leases to process %d",
                                       g->name, (int)g->pid);
        return 0;
}

/* The leases the definition needs, none taken yet (*ret NULL: none). */
static int leases_new(struct supervisor *sv, struct lock_set **ret, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        *ret = NULL;
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
        r = lock_set_new(lockspace, id.uuid, g->def, getpid(), ret, err);
        host_identity_clear(&id);
        return r;
}

static int leases_mark_local(struct lock_set *s, char *const *local, struct lv_error **err)
{
        for (char *const *p = local; p && *p; p++) {
                int r = lock_set_mark_local(s, *p, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int supervisor_leases_acquire(struct supervisor *sv, const char *state, struct lv_error **err)
{
        return supervisor_leases_take(sv, state, NULL, err);
}

int supervisor_leases_take(struct supervisor *sv, const char *state, char *const *local,
                           struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        /* A migration destination takes its leases at Finish, with the
         * source's lock state, not when its (paused) QEMU starts. */
        if (g->incoming && !state)
                return 0;
        if (sv->leases) {
                int r = leases_mark_local(sv->leases, local, err);
                if (r >= 0)
                        r = lock_set_acquire(sv->leases, state, err);
                return r < 0 ? r : leases_hold(sv, err);
        }
        _cleanup_lock_set_ struct lock_set *s = NULL;
        int r = leases_new(sv, &s, err);
        if (r < 0 || !s)
                return r;
        if ((r = leases_mark_local(s, local, err)) < 0)
                return r;
        r = lock_set_acquire(s, state, err);
        if (r < 0)
                return r;
        log_info("holding %d disk lease(s) in %s", s->n_leases, s->lockspace);
        sv->leases = TAKE_PTR(s);
        guest_undo_push(g, "disk leases", undo_leases, sv, NULL);
        return leases_hold(sv, err);
}

/* Hot-plug: the lease of disk d, which joins the running guest: taken now
 * (refused as at start when another guest holds the storage) and kept by
 * the guest's process with the others. Storage the guest holds already
 * (the same image twice) needs nothing more. */
int supervisor_leases_add_disk(struct supervisor *sv, const struct domain_disk *d,
                               struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        if (!d->source || !*d->source)
                return 0;
        struct domain_def one = {
                .name = g->def->name, .disks = (struct domain_disk *)d, .n_disks = 1};
        memcpy(one.uuid, g->def->uuid, sizeof(one.uuid));
        struct host_identity id = {0};
        _cleanup_free_ char *lockspace = NULL;
        int r = supervisor_host_identity(&id, &lockspace, err);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s': disk leases", g->name);
        _cleanup_lock_set_ struct lock_set *s = NULL;
        r = lock_set_new(lockspace, id.uuid, &one, getpid(), &s, err);
        host_identity_clear(&id);
        if (r < 0)
                return r;
        for (int i = 0; sv->leases && i < sv->leases->n_leases; i++)
                if (streq(sv->leases->leases[i].key, s->leases[0].key))
                        return 0;
        if ((r = lock_set_acquire(s, NULL, err)) < 0)
                return r;
        log_info("holding the lease of hot-plugged disk '%s'", d->source);
        if (!sv->leases) {
                sv->leases = TAKE_PTR(s);
                guest_undo_push(g, "disk leases", undo_leases, sv, NULL);
        } else {
                lock_set_merge(sv->leases, s);
        }
        return leases_hold(sv, err);
}

/* Hot-plug: disk source has left the running guest (it is no longer in
 * the running definition): its lease goes, unless another of the guest's
 * disks is the same storage. */
int supervisor_leases_drop_disk(struct supervisor *sv, const char *source, struct lv_error **err)
{
        if (!sv->leases || !source || !*source)
                return 0;
        _cleanup_free_ char *path = NULL, *key = NULL;
        int r = lock_disk_identity(source, &path, &key, err);
        if (r < 0)
                return r;
        for (int i = 0; i < sv->g.def->n_disks; i++) {
                const char *other = sv->g.def->disks[i].source;
                _cleanup_free_ char *op = NULL, *ok = NULL;
                _cleanup_error_ struct lv_error *e = NULL;
                if (other && lock_disk_identity(other, &op, &ok, &e) == 0 && streq(ok, key))
                        return 0;
        }
        if (lock_set_drop(sv->leases, key))
                log_info("released the lease of disk '%s'", source);
        return leases_hold(sv, err);
}

/* Give the leases up without releasing what the guest's process holds
 * (a supervisor leaving a running guest alone). */
static void leases_abandon(struct supervisor *sv)
{
        lease_fds_clear(sv);
        lock_set_abandon(sv->leases);
        lock_set_free(TAKE_PTR(sv->leases));
}

int supervisor_leases_reattach(struct supervisor *sv, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        _cleanup_lock_set_ struct lock_set *s = NULL;
        int r = leases_new(sv, &s, err);
        if (r < 0 || !s)
                return r;
        int kept = 0;
        r = lock_set_adopt(s, g->pidfd, g->pid, &kept, err);
        if (r < 0) {
                lock_set_abandon(s);
                return lv_error_prefix(err, "guest '%s'", g->name);
        }
        log_info("holding %d disk lease(s) in %s (%d kept by process %d meanwhile)", s->n_leases,
                 s->lockspace, kept, (int)g->pid);
        sv->leases = TAKE_PTR(s);
        r = leases_hold(sv, err);
        if (r < 0) {
                leases_abandon(sv);
                return r;
        }
        guest_undo_push(g, "disk leases", undo_leases, sv, NULL);
        return 0;
}
