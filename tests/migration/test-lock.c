/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Disk leases: real OFD locks in a temporary lockspace, across processes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "locking/lock.h"
#include "util/fileio.h"
#include "util/sha256.h"

#define HOST_A "11111111-aaaa-4aaa-8aaa-000000000001"
#define HOST_B "22222222-bbbb-4bbb-8bbb-000000000002"

static char tmpdir[] = "/tmp/lv-test-lock.XXXXXX";
static char *space, *disk1, *disk2, *iso;

static struct domain_def *guest(const char *name, unsigned char uuid_last, int n,
                                const char *const *paths, const bool *ro)
{
        struct domain_def *d = xcalloc(1, sizeof(*d));
        d->name = xstrdup(name);
        for (int i = 0; i < 16; i++)
                d->uuid[i] = (unsigned char)(0x40 + i);
        d->uuid[15] = uuid_last;
        d->disks = xcalloc((size_t)n, sizeof(*d->disks));
        d->n_disks = n;
        for (int i = 0; i < n; i++) {
                d->disks[i].source = paths[i] ? xstrdup(paths[i]) : NULL;
                d->disks[i].readonly = ro && ro[i];
        }
        return d;
}

static void guest_free(struct domain_def *d)
{
        for (int i = 0; i < d->n_disks; i++)
                free(d->disks[i].source);
        free(d->disks);
        free(d->name);
        free(d);
}

static struct lock_set *lockset(const char *host, struct domain_def *d)
{
        struct lock_set *s = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        if (lock_set_new(space, host, d, getpid(), &s, &err) < 0)
                fail_msg("%s", err->message);
        return s;
}

static char *record(const char *path)
{
        char hash[65];
        _cleanup_free_ char *canonical = NULL, *key = NULL;
        if (lock_disk_identity(path, &canonical, &key, NULL) < 0)
                return NULL;
        sha256_hex(key, strlen(key), hash);
        _cleanup_free_ char *p = xasprintf("%s/%s.owner", space, hash);
        char *data = NULL;
        if (file_read_bounded(p, 4096, &data, NULL, NULL) < 0)
                return NULL;
        return data;
}

static void test_sha256(void **state)
{
        char out[65];
        sha256_hex("abc", 3, out);
        assert_string_equal(out,
                            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        sha256_hex("", 0, out);
        assert_string_equal(out,
                            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        sha256_hex(m, strlen(m), out);
        assert_string_equal(out,
                            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_exclusive_conflict(void **state)
{
        const char *p[] = {disk1};
        struct domain_def *d1 = guest("web1", 1, 1, p, NULL), *d2 = guest("web2", 2, 1, p, NULL);
        struct lock_set *a = lockset(HOST_A, d1), *b = lockset(HOST_B, d2);
        _cleanup_error_ struct lv_error *err = NULL;
        assert_int_equal(lock_set_acquire(a, NULL, &err), 0);
        assert_true(lock_set_acquire(b, NULL, &err) < 0);
        _cleanup_free_ char *want =
                xasprintf("disk '%s' is in use by guest 'web1' on host " HOST_A, disk1);
        assert_string_equal(err->message, want);
        _cleanup_free_ char *rec = record(disk1);
        assert_non_null(strstr(rec, "state=held\n"));
        assert_non_null(strstr(rec, "guest=web1\n"));
        assert_non_null(strstr(rec, "generation=1\n"));

        /* Released: the other guest gets it, at the next generation. */
        assert_int_equal(lock_set_release(a, NULL, &err), 0);
        _cleanup_free_ char *rec2 = record(disk1);
        assert_non_null(strstr(rec2, "state=free\n"));
        lv_error_freep(&err);
        assert_int_equal(lock_set_acquire(b, NULL, &err), 0);
        _cleanup_free_ char *rec3 = record(disk1);
        assert_non_null(strstr(rec3, "guest=web2\n"));
        assert_non_null(strstr(rec3, "host=" HOST_B "\n"));
        assert_non_null(strstr(rec3, "generation=2\n"));
        lock_set_free(a);
        lock_set_free(b);
        guest_free(d1);
        guest_free(d2);
}

static void test_shared(void **state)
{
        const char *p[] = {iso};
        const bool ro[] = {true};
        struct domain_def *d1 = guest("web1", 1, 1, p, ro), *d2 = guest("web2", 2, 1, p, ro);
        struct domain_def *d3 = guest("writer", 3, 1, p, NULL);
        struct lock_set *a = lockset(HOST_A, d1), *b = lockset(HOST_B, d2),
                        *w = lockset(HOST_A, d3);
        _cleanup_error_ struct lv_error *err = NULL;
        assert_true(a->leases[0].shared);
        assert_false(w->leases[0].shared);
        assert_int_equal(lock_set_acquire(a, NULL, &err), 0);
        assert_int_equal(lock_set_acquire(b, NULL, &err), 0);
        /* A writer is refused while readers hold it ... */
        assert_true(lock_set_acquire(w, NULL, &err) < 0);
        assert_non_null(strstr(err->message, "is in use by guest 'web"));
        lock_set_release(a, NULL, NULL);
        lv_error_freep(&err);
        assert_true(lock_set_acquire(w, NULL, &err) < 0);
        lock_set_release(b, NULL, NULL);
        lv_error_freep(&err);
        /* ... and readers while the writer does. */
        assert_int_equal(lock_set_acquire(w, NULL, &err), 0);
        assert_true(lock_set_acquire(a, NULL, &err) < 0);
        _cleanup_free_ char *want =
                xasprintf("disk '%s' is in use by guest 'writer' on host " HOST_A, iso);
        assert_string_equal(err->message, want);
        lock_set_free(a);
        lock_set_free(b);
        lock_set_free(w);
        guest_free(d1);
        guest_free(d2);
        guest_free(d3);
}

/* A guest whose second disk is taken holds none of its disks. */
static void test_all_or_nothing(void **state)
{
        const char *p2[] = {disk1, disk2}, *p1[] = {disk2}, *p0[] = {disk1};
        struct domain_def *d1 = guest("web1", 1, 2, p2, NULL), *d2 = guest("web2", 2, 1, p1, NULL);
        struct domain_def *d3 = guest("web3", 3, 1, p0, NULL);
        struct lock_set *a = lockset(HOST_A, d1), *b = lockset(HOST_A, d2),
                        *c = lockset(HOST_B, d3);
        _cleanup_error_ struct lv_error *err = NULL;
        assert_int_equal(lock_set_acquire(b, NULL, &err), 0);
        assert_true(lock_set_acquire(a, NULL, &err) < 0);
        assert_non_null(strstr(err->message, "is in use by guest 'web2'"));
        assert_int_equal(a->leases[0].fd, -1);
        lv_error_freep(&err);
        assert_int_equal(lock_set_acquire(c, NULL, &err), 0);
        lock_set_free(a);
        lock_set_free(b);
        lock_set_free(c);
        guest_free(d1);
        guest_free(d2);
        guest_free(d3);
}

/* The same disk through another path (symlink, hard link) is the same
 * lease, keyed by the file's identity; an empty cdrom takes none; a
 * relative path is refused. */
static void test_paths(void **state)
{
        _cleanup_free_ char *sym = xasprintf("%s/link.img", tmpdir);
        _cleanup_free_ char *hard = xasprintf("%s/hard.img", tmpdir);
        assert_int_equal(symlink(disk1, sym), 0);
        assert_int_equal(link(disk1, hard), 0);
        const char *p[] = {sym, NULL, disk1, hard};
        struct domain_def *d = guest("web1", 1, 4, p, NULL);
        struct lock_set *s = lockset(HOST_A, d);
        assert_int_equal(s->n_leases, 1);
        assert_string_equal(s->leases[0].path, disk1);
        struct stat st;
        assert_int_equal(stat(disk1, &st), 0);
        _cleanup_free_ char *ino = xasprintf(":ino=%llu", (unsigned long long)st.st_ino);
        assert_true(strncmp(s->leases[0].key, "file:", 5) == 0);
        assert_non_null(strstr(s->leases[0].key, ino));
        lock_set_free(s);
        guest_free(d);

        /* taken through the hard link, refused through the path */
        const char *ph[] = {hard};
        const char *p1[] = {disk1};
        struct domain_def *dh = guest("web1", 1, 1, ph, NULL);
        struct domain_def *d1 = guest("web2", 2, 1, p1, NULL);
        struct lock_set *sh = lockset(HOST_A, dh), *s1 = lockset(HOST_B, d1);
        _cleanup_error_ struct lv_error *e1 = NULL;
        assert_int_equal(lock_set_acquire(sh, NULL, &e1), 0);
        assert_true(lock_set_acquire(s1, NULL, &e1) < 0);
        _cleanup_free_ char *want = xasprintf("disk '%s' is in use by guest 'web1' on host %s "
                                              "(as '%s', the same storage)",
                                              disk1, HOST_A, hard);
        assert_string_equal(e1->message, want);
        lock_set_free(s1);
        lock_set_free(sh);
        guest_free(dh);
        guest_free(d1);
        unlink(hard);

        const char *rel[] = {"relative.img"};
        d = guest("web1", 1, 1, rel, NULL);
        _cleanup_error_ struct lv_error *err = NULL;
        s = NULL;
        assert_true(lock_set_new(space, HOST_A, d, 1, &s, &err) < 0);
        assert_null(s);
        assert_string_equal(err->message, "disk 'relative.img': the path is not absolute");
        guest_free(d);
        unlink(sym);
}

/* Another process holds the lease; killed with SIGKILL (no clean-up), the
 * kernel frees it. */
static void test_crashed_holder(void **state)
{
        const char *p[] = {disk2};
        int go[2], ready[2];
        assert_int_equal(pipe(go), 0);
        assert_int_equal(pipe(ready), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(go[1]);
                close(ready[0]);
                struct domain_def *d = guest("db1", 9, 1, p, NULL);
                struct lock_set *s = NULL;
                if (lock_set_new(space, HOST_B, d, getpid(), &s, NULL) < 0 ||
                    lock_set_acquire(s, NULL, NULL) < 0)
                        _exit(1);
                (void)!write(ready[1], "x", 1);
                char c;
                (void)!read(go[0], &c, 1);
                _exit(0);
        }
        close(go[0]);
        close(ready[1]);
        char c;
        ssize_t got = read(ready[0], &c, 1);

        struct domain_def *d = guest("web1", 1, 1, p, NULL);
        struct lock_set *s = lockset(HOST_A, d);
        _cleanup_error_ struct lv_error *err = NULL;
        int r = lock_set_acquire(s, NULL, &err);
        /* The holder dies without releasing anything (before any assertion,
         * so that a failing one leaves no process behind). */
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        close(go[1]);
        close(ready[0]);
        assert_int_equal(got, 1);
        assert_true(r < 0);
        _cleanup_free_ char *want =
                xasprintf("disk '%s' is in use by guest 'db1' on host " HOST_B, disk2);
        assert_string_equal(err->message, want);
        lv_error_freep(&err);
        assert_int_equal(lock_set_acquire(s, NULL, &err), 0);
        lock_set_free(s);
        guest_free(d);
}

static void test_handover(void **state)
{
        const char *p[] = {disk1, iso};
        const bool ro[] = {false, true};
        struct domain_def *d = guest("web1", 1, 2, p, ro);
        const char *p1[] = {disk1};
        struct domain_def *other = guest("web2", 2, 1, p1, NULL);
        struct lock_set *src = lockset(HOST_A, d), *dst = lockset(HOST_B, d);
        struct lock_set *intruder = lockset(HOST_B, other);
        _cleanup_error_ struct lv_error *err = NULL;
        assert_int_equal(lock_set_acquire(src, NULL, &err), 0);
        uint64_t g = src->leases[0].generation;

        /* Source, CPUs stopped: release with state. */
        _cleanup_free_ char *st = NULL;
        assert_int_equal(lock_set_release(src, &st, &err), 0);
        _cleanup_free_ char *want_state =
                xasprintf("%s:%llu", src->leases[0].hash, (unsigned long long)g);
        assert_string_equal(st, want_state);
        _cleanup_free_ char *rec = record(disk1);
        assert_non_null(strstr(rec, "state=handover\n"));

        /* Nobody else takes a disk that is being handed over. */
        assert_true(lock_set_acquire(intruder, NULL, &err) < 0);
        assert_non_null(strstr(err->message, "(being migrated)"));
        lv_error_freep(&err);

        /* A stale generation is refused, nothing is held afterwards. */
        _cleanup_free_ char *stale =
                xasprintf("%s:%llu", src->leases[0].hash, (unsigned long long)g - 1);
        assert_true(lock_set_acquire(dst, stale, &err) < 0);
        assert_non_null(strstr(err->message, "lease changed hands during the migration"));
        assert_int_equal(dst->leases[0].fd, -1);
        assert_int_equal(dst->leases[1].fd, -1);
        lv_error_freep(&err);

        /* The destination takes them with the state. */
        assert_int_equal(lock_set_acquire(dst, st, &err), 0);
        _cleanup_free_ char *rec2 = record(disk1);
        assert_non_null(strstr(rec2, "host=" HOST_B "\n"));
        assert_non_null(strstr(rec2, "state=held\n"));
        assert_int_equal(dst->leases[0].generation, g + 1);

        /* Source rollback while the destination holds them: refused, so the
         * guest never runs on both. */
        assert_true(lock_set_acquire(src, LOCK_STATE_ROLLBACK, &err) < 0);
        assert_non_null(strstr(err->message, "is in use by guest 'web1' on host " HOST_B));
        lv_error_freep(&err);

        /* Destination fails and lets go: the source takes them back. */
        assert_int_equal(lock_set_release(dst, NULL, &err), 0);
        assert_int_equal(lock_set_acquire(src, LOCK_STATE_ROLLBACK, &err), 0);
        /* The same state cannot be replayed now. */
        assert_true(lock_set_acquire(dst, st, &err) < 0);
        lock_set_free(src);
        lock_set_free(dst);
        lock_set_free(intruder);
        guest_free(d);
        guest_free(other);
}

/* A reattach (lock_set_adopt) or a migration's rollback takes a lease
 * whose file holds another guest's record in state free (that guest
 * ended; or its disk's inode was used again by this one's): history, not
 * a claim. The record of one that holds it, or hands it over, still is. */
static void test_rollback_free_record(void **state)
{
        const char *p[] = {disk1};
        struct domain_def *gone = guest("old1", 7, 1, p, NULL);
        struct domain_def *d = guest("web1", 1, 1, p, NULL);
        struct lock_set *o = lockset(HOST_A, gone), *s = lockset(HOST_A, d);
        _cleanup_error_ struct lv_error *err = NULL;
        assert_int_equal(lock_set_acquire(o, NULL, &err), 0);
        assert_int_equal(lock_set_release(o, NULL, &err), 0);
        _cleanup_free_ char *rec = record(disk1);
        assert_non_null(strstr(rec, "guest=old1\n"));
        assert_non_null(strstr(rec, "state=free\n"));
        assert_int_equal(lock_set_acquire(s, LOCK_STATE_ROLLBACK, &err), 0);
        _cleanup_free_ char *rec2 = record(disk1);
        assert_non_null(strstr(rec2, "guest=web1\n"));
        assert_int_equal(lock_set_release(s, NULL, &err), 0);
        /* handed over by the other guest: still refused */
        _cleanup_free_ char *st = NULL;
        assert_int_equal(lock_set_acquire(o, NULL, &err), 0);
        assert_int_equal(lock_set_release(o, &st, &err), 0);
        assert_true(lock_set_acquire(s, LOCK_STATE_ROLLBACK, &err) < 0);
        assert_non_null(strstr(err->message, "is in use by guest 'old1'"));
        lock_set_free(o);
        lock_set_free(s);
        guest_free(gone);
        guest_free(d);
}

static void test_state_parse(void **state)
{
        char(*h)[65] = NULL;
        uint64_t *g = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        const char *hx = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        _cleanup_free_ char *two = xasprintf("%s:1,%s:18446744073709551615", hx, hx);
        assert_int_equal(lock_state_parse(two, &h, &g, &err), 2);
        assert_int_equal(g[1], UINT64_MAX);
        free(h);
        free(g);
        assert_int_equal(lock_state_parse("", &h, &g, &err), 0);
        free(h);
        free(g);
        const char *bad[] = {"abc:1", "0123:1", "x", ":", ","};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                assert_true(lock_state_parse(bad[i], &h, &g, &err) < 0);
                lv_error_freep(&err);
        }
        _cleanup_free_ char *trailing = xasprintf("%s:1,", hx);
        assert_true(lock_state_parse(trailing, &h, &g, &err) < 0);
        assert_string_equal(err->message, "lock state ends with ','");
        lv_error_freep(&err);
        _cleanup_free_ char *upper = xasprintf(
                "%s:1", "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef");
        assert_true(lock_state_parse(upper, &h, &g, &err) < 0);
        lv_error_freep(&err);
        _cleanup_free_ char *neg = xasprintf("%s:-1", hx);
        assert_true(lock_state_parse(neg, &h, &g, &err) < 0);
}

int main(void)
{
        if (!mkdtemp(tmpdir))
                return 1;
        space = xasprintf("%s/lockspace", tmpdir);
        disk1 = xasprintf("%s/disk1.img", tmpdir);
        disk2 = xasprintf("%s/disk2.img", tmpdir);
        iso = xasprintf("%s/boot.iso", tmpdir);
        file_write_atomic(disk1, "", 0, 0644, NULL);
        file_write_atomic(disk2, "", 0, 0644, NULL);
        file_write_atomic(iso, "", 0, 0644, NULL);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sha256),
                cmocka_unit_test(test_exclusive_conflict),
                cmocka_unit_test(test_shared),
                cmocka_unit_test(test_all_or_nothing),
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_crashed_holder),
                cmocka_unit_test(test_handover),
                cmocka_unit_test(test_state_parse),
                cmocka_unit_test(test_rollback_free_record),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        rm_rf(tmpdir, NULL);
        free(space);
        free(disk1);
        free(disk2);
        free(iso);
        return r;
}
