/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest agent client (supervisor/agent.h) against a scripted agent
 * on a real unix socket: the handshake (0xFF, guest-sync-delimited with
 * its id) with stale bytes before the delimiter and a stale reply after
 * it, the reply, the agent's error, silence (timeout), a closed channel,
 * no socket, and a command that gets no answer (guest-shutdown). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/agent.h"
#include "util/clock.h"
#include "util/macros.h"

enum script { SCRIPT_REPLY, SCRIPT_ERROR, SCRIPT_SILENT, SCRIPT_CLOSE_AFTER_SYNC, SCRIPT_NOREPLY };

static char sock_path[108];

/* one line from fd (without '\n'); false on EOF */
static bool read_line(int fd, char *buf, size_t size)
{
        size_t n = 0;
        while (n + 1 < size) {
                ssize_t r = read(fd, buf + n, 1);
                if (r <= 0)
                        return false;
                if (buf[n] == '\n')
                        break;
                n++;
        }
        buf[n] = '\0';
        return true;
}

static void say(int fd, const char *s)
{
        if (write(fd, s, strlen(s)) < 0)
                _exit(10);
}

/* The agent: exits 0 when what it was sent was right. */
static void peer_run(int lfd, enum script script)
{
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
                _exit(11);
        char line[4096];
        if (script == SCRIPT_SILENT) {
                while (read(fd, line, sizeof(line)) > 0)
                        ;
                _exit(0);
        }
        if (!read_line(fd, line, sizeof(line)) || (unsigned char)line[0] != 0xff)
                _exit(12);
        long long id = 0;
        if (sscanf(line + 1, "{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":%lld}}",
                   &id) != 1)
                _exit(13);
        /* stale bytes, the delimiter, a stale reply, then ours */
        say(fd, "{\"return\": 42}\n{\"ret");
        say(fd, "\xff{\"return\": 7}\n");
        char *ours = xasprintf("{\"return\": %lld}\n", id);
        say(fd, ours);
        free(ours);
        if (script == SCRIPT_CLOSE_AFTER_SYNC)
                _exit(0);
        if (!read_line(fd, line, sizeof(line)))
                _exit(14);
        if (script == SCRIPT_NOREPLY)
                _exit(strcmp(line, "{\"execute\":\"guest-shutdown\"}") ? 15 : 0);
        if (strcmp(line, "{\"execute\":\"guest-info\",\"arguments\":{\"a\":1}}"))
                _exit(16);
        if (script == SCRIPT_ERROR)
                say(fd, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"boom\"}}\n");
        else
                say(fd, "{\"return\": {\"version\": \"7.2.0\"}}\n");
        /* stay until the client is done */
        while (read(fd, line, sizeof(line)) > 0)
                ;
        _exit(0);
}

static pid_t peer_start(enum script script)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strcpy(sa.sun_path, sock_path);
        unlink(sock_path);
        int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(lfd >= 0);
        assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(lfd, 1), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                peer_run(lfd, script);
        close(lfd);
        return pid;
}

static int peer_end(pid_t pid)
{
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static int run(const char *command, int timeout_ms, bool want_reply, struct json_object **ret,
               struct lv_error **err)
{
        struct json_object *c = json_tokener_parse(command);
        int r = agent_command(sock_path, c, timeout_ms, want_reply, ret, err);
        json_object_put(c);
        return r;
}

static void test_reply(void **state)
{
        (void)state;
        pid_t pid = peer_start(SCRIPT_REPLY);
        struct json_object *ret = NULL, *v;
        struct lv_error *e = NULL;
        int r = run("{\"execute\":\"guest-info\",\"arguments\":{\"a\":1}}", 5000, true, &ret, &e);
        if (r < 0)
                fail_msg("%s", e->message);
        assert_true(json_object_object_get_ex(ret, "version", &v));
        assert_string_equal(json_object_get_string(v), "7.2.0");
        json_object_put(ret);
        assert_int_equal(peer_end(pid), 0);
}

static void test_agent_error(void **state)
{
        (void)state;
        pid_t pid = peer_start(SCRIPT_ERROR);
        struct json_object *ret = NULL;
        struct lv_error *e = NULL;
        assert_true(run("{\"execute\":\"guest-info\",\"arguments\":{\"a\":1}}", 5000, true, &ret,
                        &e) < 0);
        assert_null(ret);
        assert_non_null(
                strstr(e->message, "unable to execute QEMU agent command 'guest-info': boom"));
        lv_error_free(e);
        assert_int_equal(peer_end(pid), 0);
}

static void test_silent(void **state)
{
        (void)state;
        pid_t pid = peer_start(SCRIPT_SILENT);
        struct lv_error *e = NULL;
        long long t0 = clock_now_ms();
        assert_true(run("{\"execute\":\"guest-ping\"}", 300, true, NULL, &e) < 0);
        long long took = clock_now_ms() - t0;
        assert_true(took >= 300 && took < 3000);
        assert_int_equal(e->code, ETIMEDOUT);
        assert_non_null(strstr(e->message, "Guest agent is not responding"));
        lv_error_free(e);
        assert_int_equal(peer_end(pid), 0);
}

static void test_closed(void **state)
{
        (void)state;
        pid_t pid = peer_start(SCRIPT_CLOSE_AFTER_SYNC);
        struct lv_error *e = NULL;
        assert_true(run("{\"execute\":\"guest-ping\"}", 5000, true, NULL, &e) < 0);
        assert_non_null(strstr(e->message, "Guest agent is not responding"));
        lv_error_free(e);
        assert_int_equal(peer_end(pid), 0);
}

static void test_noreply(void **state)
{
        (void)state;
        pid_t pid = peer_start(SCRIPT_NOREPLY);
        struct lv_error *e = NULL;
        long long t0 = clock_now_ms();
        int r = run("{\"execute\":\"guest-shutdown\"}", 5000, false, NULL, &e);
        if (r < 0)
                fail_msg("%s", e->message);
        assert_true(clock_now_ms() - t0 < 4000);
        assert_int_equal(peer_end(pid), 0);
}

static void test_no_socket_or_bad_command(void **state)
{
        (void)state;
        unlink(sock_path);
        struct lv_error *e = NULL;
        assert_true(run("{\"execute\":\"guest-ping\"}", 1000, true, NULL, &e) < 0);
        assert_non_null(strstr(e->message, "Guest agent is not responding: connecting to"));
        lv_error_free(e);
        e = NULL;
        assert_true(run("{\"arguments\":{}}", 1000, true, NULL, &e) < 0);
        assert_non_null(strstr(e->message, "\"execute\""));
        lv_error_free(e);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        char dir[] = "/tmp/lv-test-agent.XXXXXX";
        if (!mkdtemp(dir))
                return 1;
        snprintf(sock_path, sizeof(sock_path), "%s/agent.sock", dir);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reply),   cmocka_unit_test(test_agent_error),
                cmocka_unit_test(test_silent),  cmocka_unit_test(test_closed),
                cmocka_unit_test(test_noreply), cmocka_unit_test(test_no_socket_or_bad_command),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        unlink(sock_path);
        rmdir(dir);
        return r;
}
