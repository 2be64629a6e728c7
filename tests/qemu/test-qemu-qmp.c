/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QMP client: against a scripted peer for what real QEMU never sends
 * (malformed, huge, missing replies), and against real QEMU (-machine
 * none) for the greeting, commands, asynchronous commands and events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "qemu/qmp.h"
#include "tests/qemu/qemu-helpers.h"

#define GREETING                                                                                   \
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "         \
        "\"package\": \"x\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define CAPS_OK "\001{\"return\": {}, \"id\": \"lv-1\"}\r\n"

/* A peer that writes `script` (then `extra_len` bytes of 'x' when not 0)
 * and then waits until the client goes away. */
static pid_t peer_start(int *client_fd, const char *script, size_t extra_len)
{
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(sv[0]);
                signal(SIGPIPE, SIG_IGN);
                /* segments separated by \001: each after one command line
                 * from the client, as QEMU answers */
                for (const char *seg = script;;) {
                        const char *end = strchr(seg, '\001');
                        size_t len = end ? (size_t)(end - seg) : strlen(seg);
                        if (write(sv[1], seg, len) != (ssize_t)len)
                                _exit(1);
                        if (!end)
                                break;
                        char c;
                        do {
                                if (read(sv[1], &c, 1) != 1)
                                        _exit(0);
                        } while (c != '\n');
                        seg = end + 1;
                }
                if (extra_len) {
                        char *x = malloc(extra_len);
                        memset(x, 'x', extra_len);
                        x[0] = '{';
                        size_t off = 0;
                        while (off < extra_len) {
                                ssize_t n = write(sv[1], x + off, extra_len - off);
                                if (n <= 0)
                                        _exit(0);
                                off += (size_t)n;
                        }
                }
                char buf[4096];
                while (read(sv[1], buf, sizeof(buf)) > 0)
                        ;
                _exit(0);
        }
        close(sv[1]);
        *client_fd = sv[0];
        return pid;
}

static void peer_stop(pid_t pid)
{
        qt_kill(pid);
}

static void count_reset(struct qmp *q, const char *event, struct json_object *data, void *userdata)
{
        if (streq(event, "RESET"))
                (*(int *)userdata)++;
}

static void test_parse_shapes(void **state)
{
        struct qmp_message m = {0};
        struct lv_error *err = NULL;
        const char *ev = "{\"timestamp\": {\"seconds\": 5, \"microseconds\": 7}, \"event\": "
                         "\"STOP\"}";
        assert_int_equal(qmp_message_parse(ev, strlen(ev), &m, &err), 0);
        assert_int_equal(m.kind, QMP_MSG_EVENT);
        assert_string_equal(m.event, "STOP");
        assert_int_equal(m.ts_seconds, 5);
        qmp_message_clear(&m);

        const char *er = "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, \"id\": "
                         "\"lv-3\"}";
        assert_int_equal(qmp_message_parse(er, strlen(er), &m, &err), 0);
        assert_int_equal(m.kind, QMP_MSG_ERROR);
        assert_string_equal(m.error_desc, "no");
        assert_string_equal(m.id, "lv-3");
        qmp_message_clear(&m);

        static const char *const bad[] = {
                "",
                "[1,2]",
                "{\"return\": {}} trailing",
                "{\"return\": {}",
                "{\"foo\": 1}",
                "{\"error\": \"x\"}",
                "{\"error\": {\"class\": 1, \"desc\": \"d\"}}",
                "{\"event\": 5}",
                "{\"event\": \"X\", \"data\": []}",
                "{\"event\": \"X\", \"timestamp\": {\"seconds\": \"a\"}}",
                "{\"return\": 1, \"id\": 7}",
                "{\"QMP\": 1}",
                "nul",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                err = NULL;
                int r = qmp_message_parse(bad[i], strlen(bad[i]), &m, &err);
                if (r >= 0)
                        fail_msg("accepted: %s", bad[i]);
                assert_non_null(err);
                assert_int_equal(err->code, LV_ERR_PROTOCOL);
                lv_error_free(err);
        }
        /* nesting deeper than the limit */
        char deep[400];
        memset(deep, '[', 200);
        strcpy(deep + 200, "");
        char *nested = xasprintf("{\"return\": %s}", deep);
        err = NULL;
        assert_true(qmp_message_parse(nested, strlen(nested), &m, &err) < 0);
        assert_non_null(strstr(err->message, "malformed"));
        lv_error_free(err);
        free(nested);
}

static void test_handshake_and_error_reply(void **state)
{
        int fd;
        pid_t peer = peer_start(&fd,
                                GREETING CAPS_OK
                                "\001{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
                                "\"event\": \"RESET\", \"data\": {\"guest\": true}}\r\n"
                                "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                                "\"The command nope has not been found\"}, \"id\": \"lv-2\"}\r\n",
                                0);
        struct qmp *q = NULL;
        struct lv_error *err = NULL;
        assert_int_equal(qmp_open_fd(fd, "peer", 2000, &q, &err), 0);
        assert_int_equal(qmp_qemu_version(q), 7002022);
        int resets = 0;
        qmp_set_event_handler(q, count_reset, &resets);
        int r = qmp_call(q, "nope", NULL, 2000, NULL, &err);
        assert_true(r < 0);
        if (!strstr(err->message, "has not been found"))
                fail_msg("%s", err->message);
        assert_non_null(strstr(err->message, "'nope'"));
        lv_error_free(err);
        assert_int_equal(resets, 1); /* the event that came before the reply */
        assert_false(qmp_is_closed(q));
        qmp_free(q);
        peer_stop(peer);
}

struct timeout_result {
        bool called;
        int code;
};

static void on_reply(struct qmp *q, struct json_object *ret, const struct lv_error *e,
                     void *userdata)
{
        struct timeout_result *t = userdata;
        t->called = true;
        t->code = e ? e->code : 0;
}

/* An asynchronous command whose reply never comes fails with ETIMEDOUT
 * once its deadline passed, and the connection is closed. */
static void test_async_timeout(void **state)
{
        int fd;
        pid_t peer = peer_start(&fd, GREETING CAPS_OK, 0);
        struct qmp *q = NULL;
        struct lv_error *err = NULL;
        assert_int_equal(qmp_open_fd(fd, "peer", 2000, &q, &err), 0);
        assert_int_equal(qmp_timeout_ms(q), -1);
        struct timeout_result t = {0};
        assert_int_equal(qmp_send(q, "query-status", NULL, 50, on_reply, &t, &err), 0);
        int left = qmp_timeout_ms(q);
        assert_true(left >= 0 && left <= 50);
        qmp_check_timeouts(q);
        assert_false(t.called); /* not yet due */
        struct pollfd pfd = {.fd = qmp_fd(q), .events = POLLIN};
        while (qmp_timeout_ms(q) > 0)
                poll(&pfd, 1, qmp_timeout_ms(q));
        qmp_check_timeouts(q);
        assert_true(t.called);
        assert_int_equal(t.code, ETIMEDOUT);
        assert_true(qmp_is_closed(q));
        /* further commands fail at once */
        assert_int_equal(qmp_call(q, "query-status", NULL, 1000, NULL, &err), -ECONNRESET);
        lv_error_free(err);
        qmp_free(q);
        peer_stop(peer);
}

static void test_malformed_reply(void **state)
{
        int fd;
        pid_t peer =
                peer_start(&fd, GREETING CAPS_OK "\001{\"return\": {}, \"id\": \"lv-2\"\r\n", 0);
        struct qmp *q = NULL;
        struct lv_error *err = NULL;
        assert_int_equal(qmp_open_fd(fd, "peer", 2000, &q, &err), 0);
        int r = qmp_call(q, "query-status", NULL, 2000, NULL, &err);
        assert_true(r < 0);
        assert_int_equal(err->code, LV_ERR_PROTOCOL);
        lv_error_free(err);
        assert_true(qmp_is_closed(q));
        qmp_free(q);
        peer_stop(peer);
}

static void test_huge_reply(void **state)
{
        int fd;
        pid_t peer = peer_start(&fd, GREETING CAPS_OK, 3 * 1024 * 1024);
        struct qmp *q = NULL;
        struct lv_error *err = NULL;
        assert_int_equal(qmp_open_fd(fd, "peer", 2000, &q, &err), 0);
        int r = qmp_call(q, "query-status", NULL, 5000, NULL, &err);
        assert_true(r < 0);
        assert_int_equal(err->code, LV_ERR_PROTOCOL);
        assert_non_null(strstr(err->message, "larger than"));
        lv_error_free(err);
        qmp_free(q);
        peer_stop(peer);
}

static void test_reply_never_comes(void **state)
{
        int fd;
        pid_t peer = peer_start(&fd, GREETING CAPS_OK, 0);
        struct qmp *q = NULL;
        struct lv_error *err = NULL;
        assert_int_equal(qmp_open_fd(fd, "peer", 2000, &q, &err), 0);
        int r = qmp_call(q, "query-status", NULL, 200, NULL, &err);
        assert_int_equal(r, -ETIMEDOUT);
        assert_non_null(strstr(err->message, "no reply within 200 ms"));
        lv_error_free(err);
        qmp_free(q);
        peer_stop(peer);
}

static void test_no_greeting(void **state)
{
        int fd;
        pid_t peer = peer_start(&fd, "", 0);
        struct qmp *q = NULL;
        struct lv_error *err = NULL;
        assert_int_equal(qmp_open_fd(fd, "peer", 200, &q, &err), -ETIMEDOUT);
        assert_non_null(strstr(err->message, "greeting"));
        lv_error_free(err);
        peer_stop(peer);
        /* a peer that hangs up */
        peer = peer_start(&fd, "{\"return\": {}}\n", 0);
        err = NULL;
        assert_true(qmp_open_fd(fd, "peer", 2000, &q, &err) < 0);
        assert_non_null(strstr(err->message, "expected a greeting"));
        lv_error_free(err);
        peer_stop(peer);
}

/* qmp_open_fd_batch pipelines: this peer greets only after it has read
 * qmp_capabilities and both commands (a client that waited for each
 * reply, or for the greeting, would wait forever); the replies come
 * back in one go, the second command's error fails the open with
 * QEMU's message, and a batch on the open connection works alike. */
static void test_batch_pipelined(void **state)
{
        int fd;
        pid_t peer = peer_start(&fd,
                                "\001\001\001" GREETING "{\"return\": {}, \"id\": \"lv-1\"}\r\n"
                                "{\"return\": [{\"label\": \"c0\"}], \"id\": \"lv-2\"}\r\n"
                                "{\"return\": {}, \"id\": \"lv-3\"}\r\n"
                                "\001\001{\"return\": {\"status\": \"x\"}, \"id\": \"lv-4\"}\r\n"
                                "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                                "\"no such\"}, \"id\": \"lv-5\"}\r\n",
                                0);
        struct qmp *q = NULL;
        struct lv_error *err = NULL;
        struct qmp_batch b[] = {
                {.command = "query-chardev", .want_ret = true},
                {.command = "set_password", .args = json_tokener_parse("{\"password\":\"p\"}")},
        };
        if (qmp_open_fd_batch(fd, "peer", 2000, b, 2, NULL, NULL, &q, &err) < 0)
                fail_msg("%s", err->message);
        assert_int_equal(qmp_qemu_version(q), 7002022);
        assert_non_null(b[0].ret);
        assert_int_equal(json_object_array_length(b[0].ret), 1);
        json_object_put(b[0].ret);
        assert_null(b[1].ret);

        struct qmp_batch c[] = {{.command = "query-status", .want_ret = true}, {.command = "nope"}};
        assert_true(qmp_call_batch(q, c, 2, 2000, &err) < 0);
        assert_non_null(strstr(err->message, "'nope' failed: no such"));
        assert_null(c[0].ret); /* nothing handed out on failure */
        lv_error_free(err);
        assert_false(qmp_is_closed(q));
        qmp_free(q);
        peer_stop(peer);
}

/* ---- real QEMU ---- */

struct events {
        char seen[16][32];
        int n;
};

static void on_event(struct qmp *q, const char *event, struct json_object *data, void *userdata)
{
        struct events *ev = userdata;
        if (ev->n < 16)
                snprintf(ev->seen[ev->n++], 32, "%s", event);
}

static bool seen(const struct events *ev, const char *name)
{
        for (int i = 0; i < ev->n; i++)
                if (streq(ev->seen[i], name))
                        return true;
        return false;
}

struct async_result {
        bool done;
        char status[32];
        bool failed;
};

static void on_status(struct qmp *q, struct json_object *ret, const struct lv_error *e,
                      void *userdata)
{
        struct async_result *a = userdata;
        a->done = true;
        a->failed = e != NULL;
        struct json_object *s = NULL;
        if (ret && json_object_object_get_ex(ret, "status", &s))
                snprintf(a->status, sizeof(a->status), "%s", json_object_get_string(s));
}

static void test_real_qemu(void **state)
{
        const char *qemu = qt_qemu_binary();
        if (!qemu)
                skip();
        char *dir = qt_tmpdir("qmp");
        char *sock = xasprintf("%s/qmp.sock", dir);
        char *mon = xasprintf("unix:%s,server=on,wait=off", sock);
        char *argv[] = {(char *)qemu, "-machine", "none", "-nodefaults", "-no-user-config",
                        "-display",   "none",     "-S",   "-qmp",        mon,
                        NULL};
        pid_t pid = qt_spawn(argv, NULL);
        struct qmp *q = NULL;
        struct lv_error *err = NULL;
        int r = qt_qmp_connect(sock, pid, &q, &err);
        if (r < 0)
                fail_msg("%s", err->message);
        assert_true(qmp_qemu_version(q) >= 2000000);

        struct events ev = {0};
        qmp_set_event_handler(q, on_event, &ev);
        struct json_object *ret = NULL;
        assert_int_equal(qmp_call(q, "query-status", NULL, 5000, &ret, &err), 0);
        struct json_object *s = NULL;
        assert_true(json_object_object_get_ex(ret, "status", &s));
        assert_string_equal(json_object_get_string(s), "prelaunch");
        json_object_put(ret);

        /* asynchronous command + events through qmp_dispatch */
        struct async_result a = {0};
        assert_int_equal(qmp_call(q, "cont", NULL, 5000, NULL, &err), 0);
        assert_int_equal(qmp_send(q, "query-status", NULL, 5000, on_status, &a, &err), 0);
        while (!a.done) {
                struct pollfd pfd = {.fd = qmp_fd(q), .events = POLLIN};
                assert_true(poll(&pfd, 1, qmp_timeout_ms(q)) >= 0);
                if (qmp_dispatch(q, &err) < 0)
                        fail_msg("%s", err->message);
                qmp_check_timeouts(q);
        }
        assert_false(a.failed);
        assert_string_equal(a.status, "running");
        assert_true(seen(&ev, "RESUME"));
        assert_int_equal(qmp_call(q, "stop", NULL, 5000, NULL, &err), 0);
        /* the STOP event may come before or after the reply */
        assert_int_equal(qmp_call(q, "query-status", NULL, 5000, NULL, &err), 0);
        assert_true(seen(&ev, "STOP"));

        /* an unknown command is QEMU's error, the connection stays usable */
        assert_true(qmp_call(q, "no-such-command", NULL, 5000, NULL, &err) < 0);
        assert_non_null(strstr(err->message, "CommandNotFound"));
        lv_error_free(err);
        err = NULL;
        assert_int_equal(qmp_call_json(q, "qom-list", "{\"path\":\"/\"}", 5000, NULL, &err), 0);

        assert_int_equal(qmp_call(q, "quit", NULL, 5000, NULL, &err), 0);
        /* QEMU closes: dispatch reports the end */
        for (int i = 0; i < 100 && !qmp_is_closed(q); i++) {
                struct pollfd pfd = {.fd = qmp_fd(q), .events = POLLIN};
                poll(&pfd, 1, 100);
                if (qmp_dispatch(q, &err) < 0)
                        break;
        }
        assert_true(qmp_is_closed(q));
        assert_true(seen(&ev, "SHUTDOWN"));
        lv_error_free(err);
        qmp_free(q);
        int status;
        assert_int_equal(qt_wait_exit(pid, 10000, &status), 0);
        qt_rmrf(dir);
        free(dir);
        free(sock);
        free(mon);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_shapes),
                cmocka_unit_test(test_handshake_and_error_reply),
                cmocka_unit_test(test_malformed_reply),
                cmocka_unit_test(test_huge_reply),
                cmocka_unit_test(test_reply_never_comes),
                cmocka_unit_test(test_async_timeout),
                cmocka_unit_test(test_no_greeting),
                cmocka_unit_test(test_batch_pipelined),
                cmocka_unit_test(test_real_qemu),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
