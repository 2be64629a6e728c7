/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Disk leases in a lockspace directory: OFD locks + owner records. */
#include "locking/lock.h"

#include <inttypes.h>
#include <limits.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "util/fileio.h"
#include "util/sha256.h"
#include "util/strbuf.h"

#define LOCK_RECORD_MAX        4096
#define LOCK_STATE_MAX_ENTRIES 256

enum take_kind { TAKE_FRESH, TAKE_HANDOVER, TAKE_ROLLBACK };

struct lease_record {
        bool valid;
        char *path, *mode, *state, *host, *guest, *guest_uuid;
        long long pid;
        uint64_t generation;
};

static void lease_record_clear(struct lease_record *r)
{
        free(r->path);
        free(r->mode);
        free(r->state);
        free(r->host);
        free(r->guest);
        free(r->guest_uuid);
        memset(r, 0, sizeof(*r));
}

static char *lease_file(const struct lock_set *s, const struct lock_lease *l, const char *suffix)
{
        return xasprintf("%s/%s%s", s->lockspace, l->hash, suffix);
}

/* The record is only ever written by lease holders (atomically), but the
 * lockspace is shared storage: a record that does not parse is treated as
 * absent, never trusted. */
static void lease_record_read(const struct lock_set *s, const struct lock_lease *l,
                              struct lease_record *rec)
{
        _cleanup_free_ char *path = lease_file(s, l, ".owner");
        _cleanup_free_ char *data = NULL;
        _cleanup_error_ struct lv_error *e = NULL;
        memset(rec, 0, sizeof(*rec));
        if (file_read_bounded(path, LOCK_RECORD_MAX, &data, NULL, &e) < 0)
                return;
        bool have_gen = false;
        char *save = NULL;
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');
                if (!eq)
                        goto bad;
                *eq = '\0';
                const char *k = line, *v = eq + 1;
                char **slot = streq(k, "path")         ? &rec->path
                              : streq(k, "mode")       ? &rec->mode
                              : streq(k, "state")      ? &rec->state
                              : streq(k, "host")       ? &rec->host
                              : streq(k, "guest")      ? &rec->guest
                              : streq(k, "guest_uuid") ? &rec->guest_uuid
                                                       : NULL;
                if (slot) {
                        free(*slot);
                        *slot = xstrdup(v);
                } else if (streq(k, "pid")) {
                        rec->pid = strtoll(v, NULL, 10);
                } else if (streq(k, "generation")) {
                        char *end;
                        errno = 0;
                        unsigned long long g = strtoull(v, &end, 10);
                        if (errno || *end || !*v || *v == '-')
                                goto bad;
                        rec->generation = g;
                        have_gen = true;
                }
        }
        if (!rec->mode || !rec->state || !rec->host || !rec->guest || !rec->guest_uuid || !have_gen)
                goto bad;
        rec->valid = true;
        return;
bad:
        lease_record_clear(rec);
}

static int lease_record_write(const struct lock_set *s, const struct lock_lease *l,
                              const char *state, struct lv_error **err)
{
        _cleanup_free_ char *path = lease_file(s, l, ".owner");
        _cleanup_strbuf_ struct strbuf sb = {0};
        strbuf_printf(&sb,
                      "version=1\npath=%s\nkey=%s\nmode=%s\nstate=%s\nhost=%s\nguest=%s\n"
                      "guest_uuid=%s\npid=%ld\ngeneration=%" PRIu64 "\n",
                      l->path, l->key, l->shared ? "shared" : "exclusive", state, s->host_uuid,
                      s->guest_name, s->guest_uuid, (long)s->pid, l->generation);
        return file_write_atomic(path, sb.buf, sb.len, 0644, err);
}

static int ofd_lock(int fd, short type)
{
        struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        if (fcntl(fd, F_OFD_SETLK, &fl) < 0)
                return -errno;
        return 0;
}

static int lease_refuse(const struct lock_set *s, const struct lock_lease *l, struct lv_error **err)
{
        struct lease_record rec;
        lease_record_read(s, l, &rec);
        int r;
        if (rec.valid && !streq(rec.state, "free") && rec.path && !streq(rec.path, l->path))
                r = lv_error_setf(err, EBUSY,
                                  "disk '%s' is in use by guest '%s' on host %s (as '%s', the "
                                  "same storage)",
                                  l->path, rec.guest, rec.host, rec.path);
        else if (rec.valid && !streq(rec.state, "free"))
                r = lv_error_setf(err, EBUSY, "disk '%s' is in use by guest '%s' on host %s",
                                  l->path, rec.guest, rec.host);
        else
                r = lv_error_setf(err, EBUSY, "disk '%s' is in use by another guest (lease %s/%s)",
                                  l->path, s->lockspace, l->hash);
        lease_record_clear(&rec);
        return r;
}

static void lease_drop(const struct lock_set *s, struct lock_lease *l, const char *state)
{
        if (l->fd < 0)
                return;
        if (!l->shared && state) {
                _cleanup_error_ struct lv_error *e = NULL;
                (void)lease_record_write(s, l, state, &e);
        }
        (void)ofd_lock(l->fd, F_UNLCK);
        close(l->fd);
        l->fd = -1;
}

/* Lock the lease file open as fd (ours, or a copy of the one the
 * guest's process holds: the same open file description, whose lock is
 * then already ours) and check its record for this kind of take. */
static int lease_take_fd(struct lock_set *s, struct lock_lease *l, int fd_in, enum take_kind kind,
                         uint64_t expect_gen, struct lv_error **err)
{
        _cleanup_free_ char *path = lease_file(s, l, "");
        _cleanup_close_ int fd = fd_in;
        int r = ofd_lock(fd, l->shared ? F_RDLCK : F_WRLCK);
        if (r == -EAGAIN || r == -EACCES)
                return lease_refuse(s, l, err);
        if (r < 0)
                return lv_error_set(err, -r, "disk '%s': cannot lock lease file '%s'", l->path,
                                    path);

        struct lease_record rec;
        lease_record_read(s, l, &rec);
        bool same_guest = rec.valid && streq(rec.guest_uuid, s->guest_uuid);
        bool handover = rec.valid && streq(rec.state, "handover");
        r = 0;
        if (!l->shared) {
                switch (kind) {
                case TAKE_FRESH:
                        if (handover && !same_guest)
                                r = lv_error_setf(err, EBUSY,
                                                  "disk '%s' is in use by guest '%s' on host %s "
                                                  "(being migrated)",
                                                  l->path, rec.guest, rec.host);
                        break;
                case TAKE_HANDOVER:
                        if (!same_guest || !handover)
                                r = lv_error_setf(
                                        err, EBUSY,
                                        "disk '%s': lease was not handed over by guest "
                                        "'%s' (record: %s by guest '%s' on host %s)",
                                        l->path, s->guest_name, rec.valid ? rec.state : "none",
                                        rec.valid ? rec.guest : "-", rec.valid ? rec.host : "-");
                        else if (rec.generation != expect_gen)
                                r = lv_error_setf(err, ESTALE,
                                                  "disk '%s': lease changed hands during the "
                                                  "migration (generation %" PRIu64
                                                  ", expected %" PRIu64 ")",
                                                  l->path, rec.generation, expect_gen);
                        break;
                case TAKE_ROLLBACK:
                        /* another guest's record that says free is history
                         * (a guest gone, or a lease file of the same storage
                         * identity, e.g. an inode used again), not a claim */
                        if (rec.valid && !same_guest && !streq(rec.state, "free"))
                                r = lv_error_setf(err, EBUSY,
                                                  "disk '%s' is in use by guest '%s' on host %s",
                                                  l->path, rec.guest, rec.host);
                        break;
                }
        }
        if (r == 0) {
                l->generation = rec.valid ? rec.generation + (l->shared ? 0 : 1) : 1;
                r = lease_record_write(s, l, "held", err);
        }
        lease_record_clear(&rec);
        if (r < 0) {
                (void)ofd_lock(fd, F_UNLCK);
                return r;
        }
        l->fd = TAKE_FD(fd);
        return 0;
}

static int lease_take(struct lock_set *s, struct lock_lease *l, enum take_kind kind,
                      uint64_t expect_gen, struct lv_error **err)
{
        _cleanup_free_ char *path = lease_file(s, l, "");
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
        if (fd < 0)
                return lv_error_set(err, errno, "disk '%s': cannot open lease file '%s'", l->path,
                                    path);
        return lease_take_fd(s, l, fd, kind, expect_gen, err);
}

/* ---- lock state (cookie) ---- */

int lock_state_parse(const char *state, char (**ret_hashes)[65], uint64_t **ret_gens,
                     struct lv_error **err)
{
        if (strlen(state) > LOCK_STATE_MAX)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "lock state is longer than %d bytes",
                                     LOCK_STATE_MAX);
        _cleanup_free_ char(*hashes)[65] = NULL;
        _cleanup_free_ uint64_t *gens = NULL;
        int n = 0;
        const char *p = state;
        while (*p) {
                if (n == LOCK_STATE_MAX_ENTRIES)
                        return lv_error_setf(err, LV_ERR_PROTOCOL,
                                             "lock state has more than %d leases",
                                             LOCK_STATE_MAX_ENTRIES);
                size_t hl = strspn(p, "0123456789abcdef");
                if (hl != 64 || p[64] != ':')
                        return lv_error_setf(err, LV_ERR_PROTOCOL,
                                             "lock state, lease %d: expected 64 hex digits and "
                                             "':' at '%.20s'",
                                             n + 1, p);
                const char *g = p + 65;
                size_t gl = strspn(g, "0123456789");
                errno = 0;
                unsigned long long gen = strtoull(g, NULL, 10);
                if (gl == 0 || gl > 20 || errno || (g[gl] != ',' && g[gl] != '\0'))
                        return lv_error_setf(err, LV_ERR_PROTOCOL,
                                             "lock state, lease %d: bad generation at '%.20s'",
                                             n + 1, g);
                hashes = xrealloc(hashes, (size_t)(n + 1) * sizeof(*hashes));
                gens = xrealloc(gens, (size_t)(n + 1) * sizeof(*gens));
                memcpy(hashes[n], p, 64);
                hashes[n][64] = '\0';
                gens[n] = gen;
                n++;
                p = g + gl;
                if (*p == ',') {
                        p++;
                        if (!*p)
                                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                                     "lock state ends with ','");
                }
        }
        *ret_hashes = TAKE_PTR(hashes);
        *ret_gens = TAKE_PTR(gens);
        return n;
}

/* ---- the set ---- */

int lock_set_new(const char *lockspace, const char *host_uuid, const struct domain_def *def,
                 pid_t pid, struct lock_set **ret, struct lv_error **err)
{
        _cleanup_lock_set_ struct lock_set *s = xcalloc(1, sizeof(*s));
        s->lockspace = xstrdup(lockspace ? lockspace : LOCK_SPACE_DEFAULT);
        s->host_uuid = xstrdup(host_uuid);
        s->guest_name = xstrdup(def->name);
        domain_uuid_format(def->uuid, s->guest_uuid);
        s->pid = pid;
        for (int i = 0; i < def->n_disks; i++) {
                const struct domain_disk *d = &def->disks[i];
                if (!d->source || !*d->source)
                        continue;
                _cleanup_free_ char *path = NULL, *key = NULL;
                int r = lock_disk_identity(d->source, &path, &key, err);
                if (r < 0)
                        return r;
                bool shared = d->readonly || d->shareable;
                int j;
                for (j = 0; j < s->n_leases; j++)
                        if (streq(s->leases[j].key, key))
                                break;
                if (j < s->n_leases) {
                        s->leases[j].shared = s->leases[j].shared && shared;
                        continue;
                }
                s->leases = xrealloc(s->leases, (size_t)(s->n_leases + 1) * sizeof(*s->leases));
                struct lock_lease *l = &s->leases[s->n_leases++];
                memset(l, 0, sizeof(*l));
                sha256_hex(key, strlen(key), l->hash);
                l->path = TAKE_PTR(path);
                l->key = TAKE_PTR(key);
                l->shared = shared;
                l->fd = -1;
        }
        if (s->n_leases > 0) {
                int r = mkdir_p(s->lockspace, 0755, err);
                if (r < 0)
                        return lv_error_prefix(err, "lockspace");
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int lock_set_acquire(struct lock_set *s, const char *state, struct lv_error **err)
{
        enum take_kind kind = !state                         ? TAKE_FRESH
                              : state == LOCK_STATE_ROLLBACK ? TAKE_ROLLBACK
                                                             : TAKE_HANDOVER;
        _cleanup_free_ char(*hashes)[65] = NULL;
        _cleanup_free_ uint64_t *gens = NULL;
        int n_state = 0;
        if (kind == TAKE_HANDOVER) {
                n_state = lock_state_parse(state, &hashes, &gens, err);
                if (n_state < 0)
                        return n_state;
                /* Every exclusive lease must be in the state, and every
                 * entry must be one of our disks. */
                int n_excl = 0;
                for (int i = 0; i < s->n_leases; i++)
                        n_excl += !s->leases[i].shared && !s->leases[i].local;
                for (int k = 0; k < n_state; k++) {
                        int i;
                        for (i = 0; i < s->n_leases; i++)
                                if (!s->leases[i].shared && !s->leases[i].local &&
                                    streq(s->leases[i].hash, hashes[k]))
                                        break;
                        if (i == s->n_leases)
                                return lv_error_setf(err, LV_ERR_PROTOCOL,
                                                     "lock state names lease %s, which is not "
                                                     "one of the guest's writable disks",
                                                     hashes[k]);
                }
                if (n_state != n_excl)
                        return lv_error_setf(err, LV_ERR_PROTOCOL,
                                             "lock state has %d leases, the guest has %d "
                                             "writable disks",
                                             n_state, n_excl);
        }

        for (int i = 0; i < s->n_leases; i++) {
                struct lock_lease *l = &s->leases[i];
                uint64_t expect = 0;
                for (int k = 0; k < n_state; k++)
                        if (streq(hashes[k], l->hash))
                                expect = gens[k];
                /* a storage migration's copy here: a lease of its own */
                enum take_kind k_l = l->local && kind == TAKE_HANDOVER ? TAKE_FRESH : kind;
                int r = l->fd >= 0 ? 0 : lease_take(s, l, k_l, expect, err);
                if (r < 0) {
                        /* All or nothing. Leases handed over stay reserved
                         * for this guest. */
                        for (int j = 0; j < i; j++) {
                                if (s->leases[j].local && kind == TAKE_HANDOVER) {
                                        lease_drop(s, &s->leases[j], "free");
                                        continue;
                                }
                                if (kind != TAKE_FRESH && !s->leases[j].shared)
                                        s->leases[j].generation =
                                                kind == TAKE_HANDOVER ? s->leases[j].generation - 1
                                                                      : s->leases[j].generation;
                                lease_drop(s, &s->leases[j],
                                           kind == TAKE_FRESH ? "free" : "handover");
                        }
                        return r;
                }
        }
        return 0;
}

/* The fd of process pid (pidfd) open on the lease file, as a copy of
 * ours (pidfd_getfd: the same open file description), or -1. */
static int lease_fd_of(const struct lock_set *s, const struct lock_lease *l, int pidfd, pid_t pid)
{
        _cleanup_free_ char *path = lease_file(s, l, "");
        struct stat want;
        if (stat(path, &want) < 0)
                return -1;
        _cleanup_free_ char *dir = xasprintf("/proc/%d/fd", (int)pid);
        DIR *d = opendir(dir);
        if (!d)
                return -1;
        int ret = -1;
        struct dirent *de;
        while (ret < 0 && (de = readdir(d))) {
                char *end;
                long n = strtol(de->d_name, &end, 10);
                struct stat st;
                if (*end || n < 0 || fstatat(dirfd(d), de->d_name, &st, 0) < 0 ||
                    st.st_dev != want.st_dev || st.st_ino != want.st_ino)
                        continue;
                ret = (int)syscall(SYS_pidfd_getfd, pidfd, (int)n, 0);
        }
        closedir(d);
        return ret;
}

int lock_set_adopt(struct lock_set *s, int pidfd, pid_t pid, int *ret_kept, struct lv_error **err)
{
        int kept = 0;
        for (int i = 0; i < s->n_leases; i++) {
                struct lock_lease *l = &s->leases[i];
                if (l->fd >= 0)
                        continue;
                int fd = lease_fd_of(s, l, pidfd, pid);
                kept += fd >= 0;
                int r = fd >= 0 ? lease_take_fd(s, l, fd, TAKE_ROLLBACK, 0, err)
                                : lease_take(s, l, TAKE_ROLLBACK, 0, err);
                if (r < 0) {
                        /* Leave every lease as it was: the guest's process
                         * keeps what it holds. */
                        lock_set_abandon(s);
                        return lv_error_prefix(err, "the running guest's disk leases");
                }
        }
        *ret_kept = kept;
        return 0;
}

void lock_set_abandon(struct lock_set *s)
{
        for (int i = 0; s && i < s->n_leases; i++)
                if (s->leases[i].fd >= 0) {
                        close(s->leases[i].fd);
                        s->leases[i].fd = -1;
                }
}

int lock_set_mark_local(struct lock_set *s, const char *source, struct lv_error **err)
{
        _cleanup_free_ char *path = NULL, *key = NULL;
        int r = lock_disk_identity(source, &path, &key, err);
        if (r < 0)
                return r;
        for (int i = 0; i < s->n_leases; i++)
                if (streq(s->leases[i].key, key)) {
                        s->leases[i].local = true;
                        return 0;
                }
        return lv_error_setf(err, ENOENT, "disk '%s' has no lease", source);
}

int lock_set_release(struct lock_set *s, char **ret_state, struct lv_error **err)
{
        _cleanup_strbuf_ struct strbuf sb = {0};
        int ret = 0;
        strbuf_append(&sb, "");
        for (int i = 0; i < s->n_leases; i++) {
                struct lock_lease *l = &s->leases[i];
                if (l->fd < 0)
                        continue;
                if (!l->shared) {
                        bool handover = ret_state && !l->local;
                        int r = lease_record_write(s, l, handover ? "handover" : "free", err);
                        if (r < 0 && ret == 0)
                                ret = r;
                        if (handover)
                                strbuf_printf(&sb, "%s%s:%" PRIu64, sb.len ? "," : "", l->hash,
                                              l->generation);
                }
                lease_drop(s, l, NULL);
        }
        if (ret < 0)
                return lv_error_prefix(err, "releasing disk leases");
        if (ret_state)
                *ret_state = strbuf_steal(&sb);
        return 0;
}

int lock_set_fds(const struct lock_set *s, int *fds, int max)
{
        int n = 0;
        for (int i = 0; i < s->n_leases && n < max; i++)
                if (s->leases[i].fd >= 0)
                        fds[n++] = s->leases[i].fd;
        return n;
}

void lock_set_merge(struct lock_set *s, struct lock_set *other)
{
        s->leases =
                xrealloc(s->leases, (size_t)(s->n_leases + other->n_leases) * sizeof(*s->leases));
        memcpy(&s->leases[s->n_leases], other->leases,
               (size_t)other->n_leases * sizeof(*other->leases));
        s->n_leases += other->n_leases;
        free(other->leases);
        other->leases = NULL;
        other->n_leases = 0;
}

int lock_set_drop(struct lock_set *s, const char *key)
{
        for (int i = 0; i < s->n_leases; i++) {
                struct lock_lease *l = &s->leases[i];
                if (!streq(l->key, key))
                        continue;
                lease_drop(s, l, "free");
                free(l->path);
                free(l->key);
                memmove(l, l + 1, (size_t)(s->n_leases - i - 1) * sizeof(*l));
                s->n_leases--;
                return 1;
        }
        return 0;
}

void lock_set_free(struct lock_set *s)
{
        if (!s)
                return;
        for (int i = 0; i < s->n_leases; i++) {
                lease_drop(s, &s->leases[i], "free");
                free(s->leases[i].path);
                free(s->leases[i].key);
        }
        free(s->leases);
        free(s->lockspace);
        free(s->host_uuid);
        free(s->guest_name);
        free(s);
}
