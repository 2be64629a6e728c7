/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Disk leases: a guest holds a lease on each of its disks while it runs,
 * so that no second guest — on this host or on any host sharing the
 * lockspace directory (shared storage in a cluster) — writes the same
 * disk.
 *
 * In the lockspace, a disk is known by the SHA-256 of its storage identity
 * (lock_disk_identity: a local file's filesystem id and inode, a loop
 * device's backing file, a block device's WWN or serial, a file on a
 * network filesystem its canonical path), so that another name for the
 * same storage (symlink, hard link, bind mount, loop device) is the same
 * lease:
 *   HASH        the lease file; an OFD lock on it is the lease (write lock =
 *               exclusive, read lock = shared). Never removed or replaced:
 *               a lock is on an inode. The kernel drops the lock when the
 *               last fd of the holder goes away, so a crashed holder
 *               leaves no stale lease.
 *   HASH.owner  the owner record (key=value lines, written atomically by
 *               whoever holds the lease): disk path, mode, state
 *               (held | handover | free), host UUID, guest name and UUID,
 *               pid and the lease's generation. It names the holder in
 *               refusals and carries the generation across a migration.
 *
 * Writable, non-shareable disks take an exclusive lease; readonly and
 * shareable disks a shared one (they coexist with each other, not with an
 * exclusive one). Disks without a source (empty cdrom) take none.
 *
 * Migration hand-over: the source, with its CPUs stopped, releases its
 * exclusive leases with lock_set_release(..., &state): the records say
 * "handover" at generation G and state ("HASH:G,HASH:G") goes into the
 * cookie's <lockstate driver='litevirt'>. The destination calls
 * lock_set_acquire(s, state): each exclusive lease must be free, its record
 * must name the same guest in state handover at exactly generation G; it
 * then holds it at G+1. If the migration fails, the source takes them back
 * with lock_set_acquire(s, LOCK_STATE_ROLLBACK): free and same guest is
 * enough (the destination may have bumped the generation before failing);
 * if the destination still holds them, the source cannot resume — the
 * guest never runs twice. A record in state handover also keeps other
 * guests from taking the disk (the migrating guest may resume anywhere). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf/domain.h"
#include "util/error.h"

#define LOCK_DRIVER_NAME   "litevirt"
#define LOCK_SPACE_DEFAULT "/var/lib/litevirt/lockspace"
/* Pass as state to lock_set_acquire on the migration source's rollback. */
#define LOCK_STATE_ROLLBACK ((const char *)1)
#define LOCK_STATE_MAX      16384

struct lock_lease {
        char *path;    /* canonical disk path */
        char *key;     /* storage identity (lock_disk_identity) */
        char hash[65]; /* sha256 of key */
        bool shared;
        /* this host's own copy of the storage (a storage migration copied
         * it): never in a lock state, taken fresh by the destination */
        bool local;
        int fd; /* lease file with our OFD lock, -1 when not held */
        uint64_t generation;
};

struct lock_set {
        char *lockspace;
        char *host_uuid;
        char *guest_name;
        char guest_uuid[37];
        pid_t pid;
        struct lock_lease *leases;
        int n_leases;
};

/* The leases a definition needs (nothing is locked yet). The same disk
 * listed twice is one lease (exclusive if any use is). lockspace NULL =
 * LOCK_SPACE_DEFAULT; it is created when missing. */
int lock_set_new(const char *lockspace, const char *host_uuid, const struct domain_def *def,
                 pid_t pid, struct lock_set **ret, struct lv_error **err);

/* Take every lease, all or nothing: on failure none is held. state: NULL
 * for a fresh start, a cookie's lock state on a migration destination,
 * LOCK_STATE_ROLLBACK on a migration source taking its leases back.
 * Refusal: "disk '/x.img' is in use by guest 'web1' on host UUID". */
int lock_set_acquire(struct lock_set *s, const char *state, struct lv_error **err);

/* A storage migration copies the disk SOURCE: its lease names storage of
 * this host alone, not handed over (lock_lease.local). Marks the lease
 * of that storage; none is an error (ENOENT). */
int lock_set_mark_local(struct lock_set *s, const char *source, struct lv_error **err);

/* Release every lease. With ret_state (migration source, CPUs stopped):
 * exclusive leases are marked handover and *ret_state is the lock state
 * for the cookie ("" when the guest has no exclusive lease); shared and
 * local leases are released too (records say free). Without it, records
 * say free. */
int lock_set_release(struct lock_set *s, char **ret_state, struct lv_error **err);

/* Reattach: take over the leases of a running guest whose supervisor
 * died. A lease whose file process pid (pidfd) still has open is taken
 * through a copy of that fd (pidfd_getfd: the same open file description,
 * so its lock is ours), proving the guest holds it; any other lease is
 * taken anew, as on a rollback (free, or last held by this guest). Records
 * then name this supervisor. All or nothing; on failure nothing the
 * process holds is released. *ret_kept: how many the process held. */
int lock_set_adopt(struct lock_set *s, int pidfd, pid_t pid, int *ret_kept, struct lv_error **err);
/* Close our fds without unlocking: a lease whose open file description
 * the guest's process shares stays held, any other is freed by the
 * kernel. For a supervisor that gives up on a running guest. */
void lock_set_abandon(struct lock_set *s);

/* The fds holding the leases (to keep open in the hypervisor process so
 * that the leases outlive a supervisor crash while the guest runs).
 * Returns how many were written to fds (at most max). */
int lock_set_fds(const struct lock_set *s, int *fds, int max);
/* Hot-plug: the leases of other (taken for the disks added) join s;
 * other is left empty. */
void lock_set_merge(struct lock_set *s, struct lock_set *other);
/* The lease of storage key (a disk that left the guest) released and
 * removed from s: 1, or 0 when s has none. */
int lock_set_drop(struct lock_set *s, const char *key);

/* Releases (records say free) and frees. */
void lock_set_free(struct lock_set *s);
static inline void lock_set_freep(struct lock_set **s)
{
        lock_set_free(*s);
}
#define _cleanup_lock_set_ _cleanup_(lock_set_freep)

/* The storage a disk path names, as the key of its lease:
 *   file:fsid=F:ino=I       a file on a local (or cluster block) filesystem:
 *                           statfs's f_fsid (from the filesystem's UUID)
 *                           and the inode (file:dev=MAJ:MIN:ino=I when the
 *                           filesystem has no fsid)
 *   path:/canonical/path    a file on a network filesystem (NFS, CIFS, Ceph,
 *                           FUSE, ...), whose device and fsid differ between
 *                           clients; also a path where nothing exists yet
 *   (loop device)           its backing file's key (checked against the
 *                           loop's lo_device/lo_inode; a deleted backing
 *                           file: file:dev=MAJ:MIN:ino=I of the loop record)
 *   blk-id:wwid=W[:part=N]  a block device with a WWN (or serial=S)
 *   blk:MAJ:MIN             any other block device
 * *ret_path: the canonical path. A relative path that does not exist is
 * refused. */
int lock_disk_identity(const char *source, char **ret_path, char **ret_key, struct lv_error **err);

/* ---- exposed for tests ---- */

/* Parse "HASH:GEN,HASH:GEN" (bounded, strict). Returns the number of
 * entries, with hashes/gens arrays (malloc'd) in *ret_hashes and *ret_gens. */
int lock_state_parse(const char *state, char (**ret_hashes)[65], uint64_t **ret_gens,
                     struct lv_error **err);
