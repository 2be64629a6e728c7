/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>

#include <poll.h>
#include <signal.h>

#include "util/clock.h"
#include "util/error.h"
#include "util/fault.h"
#include "util/fileio.h"
#include "util/strbuf.h"

static char tmpdir[] = "/tmp/lv-test-util.XXXXXX";

static void test_error_chain(void **state)
{
        struct lv_error *err = NULL;
        int r = lv_error_set(&err, ENOENT, "cannot open '%s'", "/x");
        assert_int_equal(r, -ENOENT);
        assert_string_equal(err->message, "cannot open '/x': No such file or directory");
        /* A second set keeps the first (innermost) error. */
        lv_error_set(&err, EPERM, "other");
        r = lv_error_prefix(&err, "guest '%s'", "web1");
        assert_int_equal(r, -ENOENT);
        assert_string_equal(err->message,
                            "guest 'web1': cannot open '/x': No such file or directory");
        lv_error_free(err);
}

static void test_strbuf_xml(void **state)
{
        _cleanup_strbuf_ struct strbuf sb = {0};
        strbuf_append_xml(&sb, "a<b>&'\"c");
        assert_string_equal(sb.buf, "a&lt;b&gt;&amp;&apos;&quot;c");
        strbuf_printf(&sb, "%d", 42);
        assert_string_equal(sb.buf + sb.len - 2, "42");
}

static void test_atomic_write_and_bounded_read(void **state)
{
        _cleanup_free_ char *path = xasprintf("%s/f", tmpdir);
        struct lv_error *err = NULL;
        assert_int_equal(file_write_atomic(path, "old", 3, 0600, &err), 0);
        assert_int_equal(file_write_atomic(path, "newer", 5, 0644, &err), 0);
        char *data = NULL;
        size_t len = 0;
        assert_int_equal(file_read_bounded(path, 100, &data, &len, &err), 0);
        assert_string_equal(data, "newer");
        assert_int_equal(len, 5);
        free(data);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0644);

        /* Too large: refused with the limit in the message. */
        assert_int_equal(file_read_bounded(path, 4, &data, &len, &err), -EFBIG);
        assert_non_null(strstr(err->message, "too large"));
        lv_error_free(err);
        err = NULL;

        /* A write into a missing directory fails and leaves nothing. */
        _cleanup_free_ char *bad = xasprintf("%s/missing/f", tmpdir);
        assert_true(file_write_atomic(bad, "x", 1, 0600, &err) < 0);
        assert_non_null(strstr(err->message, "missing/f"));
        lv_error_free(err);
}

static void test_mkdir_p_rm_rf(void **state)
{
        _cleanup_free_ char *deep = xasprintf("%s/a/b/c", tmpdir);
        _cleanup_free_ char *top = xasprintf("%s/a", tmpdir);
        assert_int_equal(mkdir_p(deep, 0700, NULL), 0);
        _cleanup_free_ char *f = xasprintf("%s/file", deep);
        assert_int_equal(file_write_atomic(f, "x", 1, 0600, NULL), 0);
        assert_int_equal(rm_rf(top, NULL), 0);
        assert_int_equal(access(top, F_OK), -1);
}

/* fd_write_all: a full non-blocking pipe waits for room until the
 * deadline, then -ETIMEDOUT; a pipe without reader is -EPIPE (no
 * SIGPIPE: not a socket, so SIGPIPE is ignored for the test). */
static void test_fd_write_all(void **state)
{
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
        static char big[1 << 20];
        long long t0 = clock_now_ms();
        int r = fd_write_all(p[1], big, sizeof(big), clock_now_us() + 200 * 1000);
        assert_int_equal(r, -ETIMEDOUT);
        assert_true(clock_now_ms() - t0 >= 190);
        close(p[0]);
        signal(SIGPIPE, SIG_IGN);
        assert_int_equal(fd_write_all(p[1], "x", 1, 0), -EPIPE);
        close(p[1]);
}

/* LITEVIRT_FAULT=NAME:fail: that point returns -EIO, any other 0 (the
 * environment is read at the first call: set before it). */
static void test_fault_fail(void **state)
{
        assert_int_equal(fault_point("unit-other"), 0);
        assert_int_equal(fault_point("unit-point"), -EIO);
        assert_int_equal(fault_point("unit-poin"), 0);
}

int main(void)
{
        setenv("LITEVIRT_FAULT", "unit-point:fail", 1);
        if (!mkdtemp(tmpdir))
                return 1;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_error_chain),
                cmocka_unit_test(test_strbuf_xml),
                cmocka_unit_test(test_atomic_write_and_bounded_read),
                cmocka_unit_test(test_mkdir_p_rm_rf),
                cmocka_unit_test(test_fd_write_all),
                cmocka_unit_test(test_fault_fail),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        rm_rf(tmpdir, NULL);
        return r;
}
