/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hostile and heavy control clients against a running guest's supervisor:
 *   fault-clients GUEST
 * While idle clients (connected, never sending) and a half-sent message
 * hold connections open: 64 concurrent clients each send 1000 requests
 * (pipelined in batches, one in five malformed or wrong) and must get
 * exactly one matching reply per request, in order; 200 clients connect
 * at once and are all answered; a client sends one 10 MiB message and is
 * refused (MessageTooLong, disconnected) without the supervisor's memory
 * growing; 300 connections that never send do not lock a new client
 * out. Afterwards the same supervisor answers and the guest still runs. Exits 1 on the first failed
 * check, printing it. */
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "util/macros.h"
#include "util/paths.h"

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

struct conn {
        int fd;
        char buf[256 * 1024];
        size_t len; /* bytes in buf */
};

static int raw_connect(void)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        memcpy(sa.sun_path, sock_path, sizeof(sa.sun_path));
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0, "socket: %s", strerror(errno));
        CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect %s: %s", sock_path,
              strerror(errno));
        return fd;
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

static void send_msg(int fd, const char *msg)
{
        send_all(fd, msg, strlen(msg) + 1);
}

/* The next NUL-terminated reply (copied to out, at most outsz - 1 bytes
 * kept); false at EOF. A bound of 30 s only keeps a broken build from
 * hanging: it is no timing assertion. */
static bool next_reply(struct conn *c, char *out, size_t outsz)
{
        for (;;) {
                char *nul = memchr(c->buf, '\0', c->len);
                if (nul) {
                        size_t n = (size_t)(nul - c->buf);
                        snprintf(out, outsz, "%.*s", (int)(n < outsz ? n : outsz - 1), c->buf);
                        memmove(c->buf, nul + 1, c->len - n - 1);
                        c->len -= n + 1;
                        return true;
                }
                CHECK(c->len < sizeof(c->buf), "reply larger than %zu bytes", sizeof(c->buf));
                struct pollfd p = {.fd = c->fd, .events = POLLIN};
                CHECK(poll(&p, 1, 30000) == 1, "no reply within 30 s");
                ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
                if (n == 0 || (n < 0 && errno == ECONNRESET))
                        return false;
                CHECK(n > 0, "recv: %s", strerror(errno));
                c->len += (size_t)n;
        }
}

/* Requests and what their reply must contain. */
static const struct {
        const char *req, *expect;
} mix[] = {
        {"{\"method\":\"io.litevirt.Guest.State\"}", "\"state\":\"running\""},
        {"{\"method\":\"io.litevirt.Guest.Info\"}", "\"name\":"},
        {"{\"method\":\"io.litevirt.Guest.State\"}", "\"state\":\"running\""},
        {"{\"method\":\"io.litevirt.Guest.Info\"}", "\"name\":"},
        {"hello, supervisor", "io.litevirt.Guest.ProtocolError"},
        {"{\"method\":\"io.litevirt.Guest.State\"}", "\"state\":\"running\""},
        {"{\"method\":\"io.litevirt.Guest.Info\"}", "\"name\":"},
        {"{\"method\":\"io.litevirt.Guest.State\"}", "\"state\":\"running\""},
        {"{\"method\":\"io.litevirt.Guest.Info\"}", "\"name\":"},
        {"{\"method\":", "io.litevirt.Guest.ProtocolError"},
        {"{\"method\":\"io.litevirt.Guest.State\"}", "\"state\":\"running\""},
        {"{\"method\":\"io.litevirt.Guest.Info\"}", "\"name\":"},
        {"{\"method\":\"io.litevirt.Guest.State\"}", "\"state\":\"running\""},
        {"{\"method\":\"io.litevirt.Guest.Info\"}", "\"name\":"},
        {"{\"method\":\"io.litevirt.Guest.NoSuchThing\"}", "org.varlink.service.MethodNotFound"},
        {"{\"method\":\"io.litevirt.Guest.State\"}", "\"state\":\"running\""},
        {"{\"method\":\"io.litevirt.Guest.Info\"}", "\"name\":"},
        {"{\"method\":\"io.litevirt.Guest.State\"}", "\"state\":\"running\""},
        {"{\"method\":\"io.litevirt.Guest.Info\"}", "\"name\":"},
        {"{\"method\":\"io.litevirt.Guest.Info\",\"parameters\":{\"bogus\":[1,{}]}}",
         "org.varlink.service.InvalidParameter"},
};

static int storm_client(int id, int requests, int batch)
{
        static struct conn c;
        c.fd = raw_connect();
        c.len = 0;
        char reply[4096];
        int sent = 0, got = 0;
        while (got < requests) {
                int n = requests - sent < batch ? requests - sent : batch;
                for (int k = 0; k < n; k++)
                        send_msg(c.fd, mix[(size_t)(sent + k + id) % ARRAY_SIZE(mix)].req);
                for (int k = 0; k < n; k++) {
                        size_t i = (size_t)(sent + k + id) % ARRAY_SIZE(mix);
                        CHECK(next_reply(&c, reply, sizeof(reply)),
                              "client %d: connection closed after %d replies", id, got);
                        CHECK(strstr(reply, mix[i].expect),
                              "client %d, request %d (%s): expected %s, got %s", id, got,
                              mix[i].req, mix[i].expect, reply);
                        got++;
                }
                sent += n;
        }
        close(c.fd);
        return 0;
}

static void test_storm(int clients, int requests)
{
        pid_t pids[256];
        CHECK(clients <= 256, "too many clients");
        fflush(stdout);
        for (int i = 0; i < clients; i++) {
                pids[i] = fork();
                CHECK(pids[i] >= 0, "fork: %s", strerror(errno));
                if (pids[i] == 0)
                        _exit(storm_client(i, requests, 10));
        }
        int failed = 0;
        for (int i = 0; i < clients; i++) {
                int st;
                CHECK(waitpid(pids[i], &st, 0) == pids[i], "waitpid");
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        failed++;
        }
        CHECK(failed == 0, "%d of %d clients saw a lost, wrong or late reply", failed, clients);
        printf("ok %d concurrent clients x %d requests (1 in 5 malformed or wrong): every reply "
               "arrived, matching, in order\n",
               clients, requests);
}

static void test_many_connects(int n)
{
        static struct conn c[200];
        CHECK(n <= 200, "n");
        for (int i = 0; i < n; i++) {
                c[i].fd = raw_connect();
                c[i].len = 0;
        }
        for (int i = 0; i < n; i++)
                send_msg(c[i].fd, "{\"method\":\"io.litevirt.Guest.State\"}");
        char reply[4096];
        for (int i = 0; i < n; i++) {
                CHECK(next_reply(&c[i], reply, sizeof(reply)), "client %d: closed", i);
                CHECK(strstr(reply, "\"state\":\"running\""), "client %d: got %s", i, reply);
        }
        for (int i = 0; i < n; i++)
                close(c[i].fd);
        printf("ok %d clients connected at once, all answered\n", n);
}

static long rss_kib(pid_t pid)
{
        char path[64], line[256];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");
        CHECK(f, "%s: %s", path, strerror(errno));
        long v = -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld", &v) == 1)
                        break;
        fclose(f);
        return v;
}

static void test_huge_message(pid_t sup)
{
        long before = rss_kib(sup);
        size_t n = 10 * 1024 * 1024;
        char *big = malloc(n);
        CHECK(big, "malloc");
        memset(big, 'x', n);
        memcpy(big, "{\"method\":\"io.litevirt.Guest.Info\",\"parameters\":{\"x\":\"", 52);
        struct conn *c = calloc(1, sizeof(*c));
        c->fd = raw_connect();
        size_t sent = 0;
        while (sent < n) {
                ssize_t w = send(c->fd, big + sent, n - sent, MSG_NOSIGNAL);
                if (w <= 0)
                        break; /* dropped while still sending: expected */
                sent += (size_t)w;
        }
        char reply[4096];
        CHECK(next_reply(c, reply, sizeof(reply)) &&
                      strstr(reply, "io.litevirt.Guest.MessageTooLong"),
              "expected MessageTooLong, got %s", c->len ? c->buf : "EOF");
        CHECK(!next_reply(c, reply, sizeof(reply)), "connection not closed: got %s", reply);
        close(c->fd);
        free(c);
        free(big);
        long after = rss_kib(sup);
        /* The input buffer is bounded (64 KiB): a 10 MiB message must not
         * have been held. */
        CHECK(after - before < 2048, "supervisor RSS grew from %ld to %ld KiB", before, after);
        printf("ok a 10 MiB message (%zu bytes taken) is refused with MessageTooLong and the "
               "client dropped; supervisor RSS %ld -> %ld KiB\n",
               sent, before, after);
}

/* More connections than the supervisor takes (256) that never send: the
 * oldest idle ones make room, so a new client is still answered. */
static void test_idle_flood(int n)
{
        int *fds = calloc((size_t)n, sizeof(int));
        CHECK(fds, "calloc");
        for (int i = 0; i < n; i++)
                fds[i] = raw_connect();
        struct conn *c = calloc(1, sizeof(*c));
        c->fd = raw_connect();
        send_msg(c->fd, "{\"method\":\"io.litevirt.Guest.State\"}");
        char reply[4096];
        CHECK(next_reply(c, reply, sizeof(reply)) && strstr(reply, "\"state\":\"running\""),
              "a client after %d idle connections: %s", n, c->len ? c->buf : "EOF");
        close(c->fd);
        free(c);
        /* The oldest idle connections were closed by the supervisor. */
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        CHECK(poll(&p, 1, 10000) == 1 && recv(fds[0], reply, sizeof(reply), MSG_DONTWAIT) == 0,
              "the oldest idle connection was not closed");
        for (int i = 0; i < n; i++)
                close(fds[i]);
        free(fds);
        printf("ok %d connections that never send do not lock others out (the oldest idle "
               "make room)\n",
               n);
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: fault-clients GUEST\n");
                return 2;
        }
        char *p = paths_state_file(argv[1], "control.sock");
        snprintf(sock_path, sizeof(sock_path), "%s", p);
        free(p);
        p = paths_state_file(argv[1], "supervisor.pid");
        FILE *f = fopen(p, "re");
        CHECK(f, "%s: %s", p, strerror(errno));
        int sup = 0;
        CHECK(fscanf(f, "%d", &sup) == 1 && sup > 1, "no supervisor pid in %s", p);
        fclose(f);
        free(p);
        signal(SIGPIPE, SIG_IGN);

        /* Idle clients, and one that sent half a message, stay connected
         * through everything below. */
        int idle[8];
        for (size_t i = 0; i < ARRAY_SIZE(idle); i++)
                idle[i] = raw_connect();
        int half = raw_connect();
        send_all(half, "{\"method\":\"io.litevirt.Guest.St", 31);

        test_storm(64, 1000);
        test_many_connects(200);
        test_huge_message((pid_t)sup);

        /* The half message completes: answered after all that. */
        struct conn *c = calloc(1, sizeof(*c));
        c->fd = half;
        send_all(half, "ate\"}", 6);
        char reply[4096];
        CHECK(next_reply(c, reply, sizeof(reply)) && strstr(reply, "\"state\":\"running\""),
              "half-sent request: %s", reply);
        free(c);
        close(half);
        for (size_t i = 0; i < ARRAY_SIZE(idle); i++)
                close(idle[i]);
        printf("ok idle clients and a half-sent request held connections throughout; the "
               "half-sent request was answered at the end\n");
        test_idle_flood(300);
        CHECK(kill(sup, 0) == 0, "supervisor %d is gone", sup);
        return 0;
}
