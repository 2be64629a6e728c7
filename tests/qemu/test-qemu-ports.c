/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Port allocation across processes: many concurrent reservations get
 * distinct ports, a full range is a clear error, a port bound by anyone
 * is skipped, and a dead holder's port comes free (flock). Runs in a
 * private network namespace when root (else on the host's loopback, in a
 * high range). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "qemu/ports.h"
#include "tests/qemu/qemu-helpers.h"

#define BASE   25900
#define NCHILD 24

static char *dir;

static void test_concurrent_distinct(void **state)
{
        int up[2], hold[2];
        assert_int_equal(pipe(up), 0);
        assert_int_equal(pipe(hold), 0);
        pid_t kids[NCHILD];
        for (int i = 0; i < NCHILD; i++) {
                kids[i] = fork();
                assert_true(kids[i] >= 0);
                if (kids[i] == 0) {
                        close(up[0]);
                        close(hold[1]);
                        struct port_lease l = {-1, -1};
                        struct lv_error *err = NULL;
                        int port = -1;
                        if (ports_reserve(dir, "VNC", BASE, BASE + 99, "127.0.0.1", &l, &err) == 0)
                                port = l.port;
                        if (write(up[1], &port, sizeof(port)) != sizeof(port))
                                _exit(1);
                        char c;
                        (void)read(hold[0], &c, 1); /* hold the lease until told */
                        _exit(0);
                }
        }
        close(up[1]);
        close(hold[0]);
        int ports[NCHILD];
        for (int i = 0; i < NCHILD; i++) {
                assert_int_equal(read(up[0], &ports[i], sizeof(int)), sizeof(int));
                assert_true(ports[i] >= BASE && ports[i] < BASE + 100);
        }
        for (int i = 0; i < NCHILD; i++)
                for (int j = i + 1; j < NCHILD; j++)
                        if (ports[i] == ports[j])
                                fail_msg("port %d handed out twice", ports[i]);
        close(hold[1]); /* children exit, leases go */
        for (int i = 0; i < NCHILD; i++)
                waitpid(kids[i], NULL, 0);
        close(up[0]);
        /* all free again: the lowest one comes back */
        struct port_lease l;
        struct lv_error *err = NULL;
        assert_int_equal(ports_reserve(dir, "VNC", BASE, BASE + 99, "127.0.0.1", &l, &err), 0);
        assert_int_equal(l.port, BASE);
        ports_release(&l);
}

static void test_range_exhausted(void **state)
{
        struct port_lease a, b, c;
        struct lv_error *err = NULL;
        assert_int_equal(ports_reserve(dir, "VNC", BASE, BASE + 1, NULL, &a, &err), 0);
        assert_int_equal(ports_reserve(dir, "VNC", BASE, BASE + 1, NULL, &b, &err), 0);
        assert_int_not_equal(a.port, b.port);
        assert_int_equal(ports_reserve(dir, "VNC", BASE, BASE + 1, NULL, &c, &err), -EADDRINUSE);
        assert_string_equal(err->message, "no free VNC port in the range 25900-25901");
        lv_error_free(err);
        err = NULL;
        assert_int_equal(ports_reserve_exact(dir, "SPICE", a.port, NULL, true, &c, &err),
                         -EADDRINUSE);
        assert_non_null(strstr(err->message, "already in use"));
        lv_error_free(err);
        ports_release(&a);
        ports_release(&b);
        ports_release(&b); /* twice is harmless */
}

static void test_bound_port_skipped(void **state)
{
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(BASE + 50)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(s, 1), 0);
        struct port_lease l;
        struct lv_error *err = NULL;
        assert_int_equal(ports_reserve(dir, "VNC", BASE + 50, BASE + 51, "127.0.0.1", &l, &err), 0);
        assert_int_equal(l.port, BASE + 51);
        ports_release(&l);
        /* any-address check sees a listener on 127.0.0.1 too */
        assert_int_equal(ports_reserve(dir, "VNC", BASE + 50, BASE + 51, NULL, &l, &err), 0);
        assert_int_equal(l.port, BASE + 51);
        ports_release(&l);
        close(s);
        assert_int_equal(ports_reserve(dir, "VNC", BASE + 50, BASE + 51, "127.0.0.1", &l, &err), 0);
        assert_int_equal(l.port, BASE + 50);
        ports_release(&l);
}

static void test_dead_holder_frees(void **state)
{
        int up[2];
        assert_int_equal(pipe(up), 0);
        pid_t kid = fork();
        if (kid == 0) {
                struct port_lease l;
                struct lv_error *err = NULL;
                char ok = ports_reserve_exact(dir, "VNC", BASE + 70, NULL, true, &l, &err) == 0;
                (void)write(up[1], &ok, 1);
                pause();
                _exit(0);
        }
        char ok = 0;
        assert_int_equal(read(up[0], &ok, 1), 1);
        assert_true(ok);
        struct port_lease l;
        struct lv_error *err = NULL;
        assert_int_equal(ports_reserve_exact(dir, "VNC", BASE + 70, NULL, true, &l, &err),
                         -EADDRINUSE);
        lv_error_free(err);
        err = NULL;
        qt_kill(kid); /* SIGKILL: no clean-up ran, the kernel drops the flock */
        assert_int_equal(ports_reserve_exact(dir, "VNC", BASE + 70, NULL, true, &l, &err), 0);
        ports_release(&l);
        close(up[0]);
        close(up[1]);
}

static void test_bad_input(void **state)
{
        struct port_lease l;
        struct lv_error *err = NULL;
        assert_int_equal(ports_reserve(dir, "VNC", 6000, 5999, NULL, &l, &err), -EINVAL);
        lv_error_free(err);
        err = NULL;
        assert_int_equal(ports_reserve(dir, "VNC", BASE, BASE, "not-an-ip", &l, &err), -EINVAL);
        assert_non_null(strstr(err->message, "not an IP address"));
        lv_error_free(err);
}

/* lease_reserve (QEMU uids: from a place given by the guest's uuid on):
 * the first free number from first on, wrapping to min after max, each
 * number once; first outside the range starts at min. */
static void test_lease_from_first(void **state)
{
        (void)state;
        _cleanup_free_ char *d = xasprintf("%s/from", dir);
        struct lv_error *err = NULL;
        unsigned long n;
        int fd[4];
        assert_int_equal(lease_reserve(d, "thing", 10, 13, 12, NULL, NULL, &n, &fd[0], &err), 0);
        assert_int_equal(n, 12);
        assert_int_equal(lease_reserve(d, "thing", 10, 13, 12, NULL, NULL, &n, &fd[1], &err), 0);
        assert_int_equal(n, 13);
        assert_int_equal(lease_reserve(d, "thing", 10, 13, 12, NULL, NULL, &n, &fd[2], &err), 0);
        assert_int_equal(n, 10); /* wrapped */
        assert_int_equal(lease_reserve(d, "thing", 10, 13, 99, NULL, NULL, &n, &fd[3], &err), 0);
        assert_int_equal(n, 11); /* out of range: from min, 10 is taken */
        int extra = -1;
        assert_int_equal(lease_reserve(d, "thing", 10, 13, 11, NULL, NULL, &n, &extra, &err),
                         -EADDRINUSE);
        assert_non_null(strstr(err->message, "no free thing in the range 10-13"));
        lv_error_free(err);
        for (int i = 0; i < 4; i++)
                close(fd[i]);
}

int main(void)
{
        if (geteuid() == 0 && unshare(CLONE_NEWNET) == 0)
                qt_run("ip link set lo up");
        dir = qt_tmpdir("ports");
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_concurrent_distinct),
                cmocka_unit_test(test_range_exhausted),
                cmocka_unit_test(test_bound_port_skipped),
                cmocka_unit_test(test_dead_holder_frees),
                cmocka_unit_test(test_bad_input),
                cmocka_unit_test(test_lease_from_first),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        qt_rmrf(dir);
        free(dir);
        return r;
}
