/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Robustness of a running supervisor's control socket, against a real
 * guest: test-control-clients GUEST. Concurrent pipelining clients,
 * garbage, oversized and half messages, disconnects mid-request, a client
 * that never reads, wrong methods and parameters, oneway calls, the event
 * stream, peer credentials. After all of it the guest still runs and
 * every well-behaved client got every reply. Exits 1 on the first failed
 * check (printing it). */
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/fsuid.h>
#include <sys/wait.h>

#include "litevirt/litevirt.h"
#include "util/macros.h"
#include "util/paths.h"

static const char *guest;
static char sock_path[108];

#define CHECK(cond, ...)                                                                           \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fprintf(stderr, "\n");                                                     \
                        exit(1);                                                                   \
                }                                                                                  \
        } while (0)

static void forget_fd(int fd);

static int raw_connect(void)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        memcpy(sa.sun_path, sock_path, sizeof(sa.sun_path));
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0, "socket");
        CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect %s: %s", sock_path,
              strerror(errno));
        return fd;
}

static void close_fd(int fd)
{
        forget_fd(fd);
        close(fd);
}

static void send_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
                CHECK(w > 0, "send: %s", strerror(errno));
                p += w;
                n -= (size_t)w;
        }
}

/* Per-connection read buffers (fds are small numbers here). */
#define MAX_FD 1024
static struct rbuf {
        char data[65536];
        size_t off, len;
} * rbufs[MAX_FD];

static void forget_fd(int fd)
{
        free(rbufs[fd]);
        rbufs[fd] = NULL;
}

/* Read one NUL-terminated message (at most 1 MiB), 10 s at most. NULL at
 * EOF or reset. */
static char *read_msg(int fd)
{
        CHECK(fd >= 0 && fd < MAX_FD, "fd %d", fd);
        if (!rbufs[fd])
                rbufs[fd] = calloc(1, sizeof(struct rbuf));
        struct rbuf *b = rbufs[fd];
        size_t cap = 4096, len = 0;
        char *out = malloc(cap);
        for (;;) {
                if (b->off == b->len) {
                        struct pollfd p = {.fd = fd, .events = POLLIN};
                        CHECK(poll(&p, 1, 10000) == 1, "no reply within 10 s");
                        ssize_t n = recv(fd, b->data, sizeof(b->data), 0);
                        if (n <= 0) {
                                free(out);
                                return NULL;
                        }
                        b->off = 0;
                        b->len = (size_t)n;
                }
                char c = b->data[b->off++];
                if (c == '\0') {
                        out[len] = '\0';
                        return out;
                }
                if (len + 1 >= cap)
                        out = realloc(out, cap *= 2);
                out[len++] = c;
                CHECK(len < 1024 * 1024, "reply too long");
        }
}

static void expect_reply(int fd, const char *needle)
{
        char *m = read_msg(fd);
        CHECK(m, "connection closed while expecting '%s'", needle);
        CHECK(strstr(m, needle), "reply '%s' lacks '%s'", m, needle);
        free(m);
}

static void call_raw(int fd, const char *json)
{
        send_all(fd, json, strlen(json) + 1);
}

static const char *state_now(void)
{
        static char state[32];
        lv_conn *c = NULL;
        lv_client_error *e = NULL;
        CHECK(lv_connect(guest, &c, &e) == 0, "connect: %s", e ? e->message : "");
        struct json_object *o = NULL;
        CHECK(lv_call(c, "io.litevirt.Guest.State", NULL, &o, &e) == 0, "State: %s",
              e ? e->message : "");
        struct json_object *s;
        CHECK(json_object_object_get_ex(o, "state", &s), "no state");
        snprintf(state, sizeof(state), "%s", json_object_get_string(s));
        json_object_put(o);
        lv_disconnect(c);
        return state;
}

/* What request k of a client is, and what its reply must contain: a mix
 * of calls and malformed messages. */
static const char *mixed_request(int k, const char **ret_expect)
{
        if (k % 7 == 3) {
                *ret_expect = "io.litevirt.Guest.ProtocolError";
                return "{\"method\":\"io.litevirt.Guest.State\"";
        }
        if (k % 11 == 5) {
                *ret_expect = "org.varlink.service.MethodNotFound";
                return "{\"method\":\"io.litevirt.Guest.Bogus\"}";
        }
        if (k % 10 == 0) {
                *ret_expect = "\"name\":";
                return "{\"method\":\"io.litevirt.Guest.Info\"}";
        }
        *ret_expect = "\"state\":\"running\"";
        return "{\"method\":\"io.litevirt.Guest.State\"}";
}

static void test_concurrent_pipelined(void)
{
        enum { CLIENTS = 64, REQUESTS = 1000 };
        int fds[CLIENTS];
        const char *expect;
        for (int i = 0; i < CLIENTS; i++)
                fds[i] = raw_connect();
        /* Every client sends its requests in bursts of 100 before reading
         * the burst's replies, all clients interleaved: the supervisor
         * serves 64 connections with deep pipelines at once. No reply may
         * be lost, duplicated or out of order. */
        for (int burst = 0; burst < REQUESTS; burst += 100) {
                for (int i = 0; i < CLIENTS; i++)
                        for (int k = burst; k < burst + 100; k++)
                                call_raw(fds[i], mixed_request(k, &expect));
                for (int k = burst; k < burst + 100; k++)
                        for (int i = 0; i < CLIENTS; i++) {
                                (void)mixed_request(k, &expect);
                                expect_reply(fds[i], expect);
                        }
        }
        for (int i = 0; i < CLIENTS; i++)
                close_fd(fds[i]);
        printf("ok %d concurrent clients x %d pipelined requests (malformed ones mixed in) all "
               "answered in order\n",
               CLIENTS, REQUESTS);
}

static void test_garbage_and_errors(void)
{
        int fd = raw_connect();
        call_raw(fd, "hello");
        expect_reply(fd, "io.litevirt.Guest.ProtocolError");
        call_raw(fd, "{\"method\":");
        expect_reply(fd, "io.litevirt.Guest.ProtocolError");
        call_raw(fd, "[1,2,3]");
        expect_reply(fd, "not a JSON object");
        call_raw(fd, "{\"method\":\"io.litevirt.Guest.Nope\"}");
        expect_reply(fd, "org.varlink.service.MethodNotFound");
        call_raw(fd, "{\"method\":\"com.example.Other.Call\"}");
        expect_reply(fd, "org.varlink.service.InterfaceNotFound");
        call_raw(fd,
                 "{\"method\":\"io.litevirt.Guest.Shutdown\",\"parameters\":{\"timeout\":\"x\"}}");
        expect_reply(fd, "org.varlink.service.InvalidParameter");
        call_raw(fd, "{\"method\":\"io.litevirt.Guest.Info\",\"parameters\":{\"bogus\":1}}");
        expect_reply(fd, "\"parameter\":\"bogus\"");
        call_raw(fd, "{\"method\":\"io.litevirt.Guest.Resume\"}");
        expect_reply(fd, "io.litevirt.Guest.InvalidState");
        call_raw(fd, "{\"method\":\"io.litevirt.Guest.Events\"}");
        expect_reply(fd, "org.varlink.service.ExpectedMore");
        /* A oneway call gets no reply: the next reply is the State's. */
        call_raw(fd, "{\"method\":\"io.litevirt.Guest.Info\",\"oneway\":true}");
        call_raw(fd, "{\"method\":\"io.litevirt.Guest.State\"}");
        expect_reply(fd, "\"state_text\"");
        /* Varlink service interface. */
        call_raw(fd, "{\"method\":\"org.varlink.service.GetInfo\"}");
        expect_reply(fd, "\"interfaces\":[\"org.varlink.service\",\"io.litevirt.Guest\","
                         "\"io.litevirt.guest\"]");
        call_raw(fd, "{\"method\":\"org.varlink.service.GetInterfaceDescription\","
                     "\"parameters\":{\"interface\":\"io.litevirt.Guest\"}}");
        expect_reply(fd, "interface io.litevirt.Guest");
        /* The lower-case name (docs/protocol.md): the same interface, its
         * errors under the name the call used. */
        call_raw(fd, "{\"method\":\"org.varlink.service.GetInterfaceDescription\","
                     "\"parameters\":{\"interface\":\"io.litevirt.guest\"}}");
        expect_reply(fd, "\\ninterface io.litevirt.guest\\n\\n# A lifecycle state");
        call_raw(fd, "{\"method\":\"io.litevirt.guest.Resume\"}");
        expect_reply(fd, "\"error\":\"io.litevirt.guest.InvalidState\"");
        call_raw(fd, "{\"method\":\"io.litevirt.guest.Bogus\"}");
        expect_reply(fd, "\"method\":\"io.litevirt.guest.Bogus\"");
        call_raw(fd, "{\"method\":\"org.varlink.service.GetInterfaceDescription\","
                     "\"parameters\":{\"interface\":\"x.y\"}}");
        expect_reply(fd, "InterfaceNotFound");
        /* Still a working connection after all that. */
        call_raw(fd, "{\"method\":\"io.litevirt.Guest.State\"}");
        expect_reply(fd, "\"state\":\"running\"");
        close_fd(fd);
        printf("ok garbage and wrong calls get errors, the connection stays usable\n");
}

static void test_oversized(void)
{
        int fd = raw_connect();
        size_t n = 70 * 1024;
        char *big = malloc(n);
        memset(big, ' ', n);
        memcpy(big, "{\"method\":\"io.litevirt.Guest.Info\",\"parameters\":{\"x\":\"", 52);
        /* No NUL: the server must give up at 64 KiB, not wait or grow. */
        ssize_t sent = 0;
        while ((size_t)sent < n) {
                ssize_t w = send(fd, big + sent, n - (size_t)sent, MSG_NOSIGNAL);
                if (w <= 0)
                        break; /* dropped while we were still sending: fine */
                sent += w;
        }
        char *m = read_msg(fd);
        CHECK(m && strstr(m, "io.litevirt.Guest.MessageTooLong"), "expected MessageTooLong, got %s",
              m ? m : "EOF");
        free(m);
        CHECK(read_msg(fd) == NULL, "connection not closed after an oversized message");
        free(big);
        close_fd(fd);
        printf("ok an oversized message gets MessageTooLong and the connection is closed\n");
}

static void test_half_and_disconnects(void)
{
        /* Half a message, then gone. */
        int fd = raw_connect();
        send_all(fd, "{\"method\":\"io.lite", 18);
        close_fd(fd);
        /* A request, then gone before the reply. */
        fd = raw_connect();
        call_raw(fd, "{\"method\":\"io.litevirt.Guest.Info\"}");
        close_fd(fd);
        /* Many connections opened and dropped at once. */
        for (int i = 0; i < 64; i++)
                close_fd(raw_connect());
        /* Half a message kept open while others are served. */
        int half = raw_connect();
        send_all(half, "{\"method\":\"io.litevirt.Guest.St", 31);
        CHECK(streq(state_now(), "running"), "guest not running");
        /* ... and completed later: answered. */
        send_all(half, "ate\"}", 6);
        expect_reply(half, "\"state\":\"running\"");
        close_fd(half);
        printf("ok half messages and disconnects mid-request harm nobody\n");
}

static void test_slow_reader(void)
{
        /* A client that pipelines calls for big replies and reads none:
         * the supervisor stops reading it once its replies pile up
         * (back-pressure), so its sends soon block, far below what the
         * server would otherwise buffer; others are still served; once it
         * reads, every call is answered. */
        int fd = raw_connect();
        const char *req = "{\"method\":\"org.varlink.service.GetInterfaceDescription\","
                          "\"parameters\":{\"interface\":\"io.litevirt.Guest\"}}";
        size_t req_len = strlen(req) + 1, sent = 0, total_sent = 0;
        int calls = 0;
        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                if (poll(&p, 1, 1000) != 1)
                        break; /* blocked: the server stopped reading */
                CHECK(!(p.revents & (POLLHUP | POLLERR)), "slow client dropped");
                ssize_t n = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                CHECK(n > 0 || errno == EAGAIN, "send: %s", strerror(errno));
                if (n <= 0)
                        continue;
                total_sent += (size_t)n;
                sent += (size_t)n;
                if (sent == req_len) {
                        sent = 0;
                        calls++;
                }
                CHECK(total_sent < 16 * 1024 * 1024, "the server read 16 MiB of unanswered calls");
        }
        CHECK(streq(state_now(), "running"), "guest not running");
        /* Read: every complete call is answered, and the one cut short
         * once it is finished. */
        char buf[65536];
        int replies = 0;
        while (replies < calls + (sent > 0)) {
                struct pollfd p = {.fd = fd, .events = POLLIN | (sent ? POLLOUT : 0)};
                CHECK(poll(&p, 1, 10000) == 1, "slow client not served (%d of %d replies)", replies,
                      calls);
                if (p.revents & POLLOUT) {
                        ssize_t n =
                                send(fd, req + sent, req_len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (n > 0 && (sent += (size_t)n) == req_len) {
                                sent = 0;
                                calls++;
                        }
                }
                if (!(p.revents & POLLIN))
                        continue;
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                CHECK(n > 0, "slow client dropped after %d of %d replies", replies, calls);
                for (ssize_t k = 0; k < n; k++)
                        replies += buf[k] == '\0';
        }
        CHECK(replies == calls, "%d replies to %d calls", replies, calls);
        close_fd(fd);
        printf("ok a client that does not read is not read either (%zu bytes taken before it "
               "blocked), then gets all %d replies\n",
               total_sent, calls);
}

static void test_events(void)
{
        lv_conn *ev = NULL, *c = NULL;
        lv_client_error *e = NULL;
        CHECK(lv_connect(guest, &ev, &e) == 0, "connect");
        CHECK(lv_call_more(ev, "io.litevirt.Guest.Events", NULL, &e) == 0, "Events");
        struct json_object *o = NULL;
        bool continues = false;
        CHECK(lv_read_reply(ev, &o, &continues, &e) == 0 && continues, "first event");
        CHECK(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                     "\"event\":\"current\""),
              "current event: %s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        CHECK(lv_connect(guest, &c, &e) == 0, "connect");
        CHECK(lv_call(c, "io.litevirt.Guest.Suspend", NULL, NULL, &e) == 0, "Suspend: %s",
              e ? e->message : "");
        CHECK(lv_read_reply(ev, &o, &continues, &e) == 0 && continues, "suspend event");
        CHECK(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                     "\"event\":\"suspended\""),
              "got %s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        CHECK(lv_call(c, "io.litevirt.Guest.Resume", NULL, NULL, &e) == 0, "Resume: %s",
              e ? e->message : "");
        CHECK(lv_read_reply(ev, &o, &continues, &e) == 0 && continues, "resume event");
        CHECK(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                     "\"reason\":\"unpaused\""),
              "got %s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        lv_disconnect(c);
        lv_disconnect(ev);
        printf("ok events stream: suspended, resumed\n");
}

static void test_peer_credentials(void)
{
        /* The socket (0600) in its directory (0700) already keeps others
         * out; to reach the SO_PEERCRED check, connect with euid nobody
         * but fsuid root (path lookup uses fsuid, the peer's credentials
         * record the euid). */
        fflush(stdout);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                if (setresgid(65534, 65534, 0) < 0 || setresuid(65534, 65534, 0) < 0)
                        _exit(3);
                setfsuid(0);
                /* The supervisor answers before we say anything, and hangs up. */
                int fd = raw_connect();
                char *m = read_msg(fd);
                _exit(m && strstr(m, "PermissionDenied") && !read_msg(fd) ? 0 : 1);
        }
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
                printf("skip peer credentials (cannot become nobody)\n");
                return;
        }
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "an unprivileged peer was not refused (status %d)", status);
        printf("ok an unprivileged peer is refused (SO_PEERCRED)\n");
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: test-control-clients GUEST\n");
                return 2;
        }
        guest = argv[1];
        char *p = paths_state_file(guest, "control.sock");
        snprintf(sock_path, sizeof(sock_path), "%s", p);
        free(p);
        signal(SIGPIPE, SIG_IGN);
        CHECK(streq(state_now(), "running"), "guest not running at the start");
        test_concurrent_pipelined();
        test_garbage_and_errors();
        test_oversized();
        test_half_and_disconnects();
        test_slow_reader();
        test_events();
        test_peer_credentials();
        CHECK(streq(state_now(), "running"), "guest not running at the end");
        printf("ok the guest still runs\n");
        return 0;
}
