/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark: set up and tear down one guest interface (veth pair with the
 * guest end in the guest's namespace, MAC, MTU, alias, bridge port, both
 * ends up, an address and a route inside, then delete) N times with
 * litevirt's libnl code, and the same steps with `ip` commands, in one
 * run; prints both and the ratio. Not a test: nothing asserts on time.
 *
 *   lv-bench-netns [N]        (root; default N = 200)
 *
 * Runs in a private network namespace of its own ("host") plus a named
 * one for the "guest" (removed at exit), so the machine's network is never
 * touched. */
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include "netns/netns.h"

extern char **environ;

static char guest_ns[64];

static void remove_guest_ns(void)
{
        if (guest_ns[0])
                netns_delete(guest_ns, NULL);
}

static void on_signal(int sig)
{
        remove_guest_ns();
        _exit(128 + sig);
}

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(struct lv_error *e, const char *what)
{
        fprintf(stderr, "lv-bench-netns: %s: %s\n", what, e ? e->message : "failed");
        exit(1);
}

static int one_libnl(struct netns_nl *host, struct netns_nl *guest, int nsfd)
{
        struct lv_error *e = NULL;
        static const unsigned char mac[6] = {0x52, 0x54, 0x00, 0xbe, 0x00, 0x01};
        static const unsigned char hmac[6] = {0xfe, 0x54, 0x00, 0xbe, 0x00, 0x01};
        struct netns_veth_spec spec = {
                .name = "lvbench-0",
                .peer_name = "eth0",
                .peer_nsfd = nsfd,
                .mac = hmac,
                .peer_mac = mac,
                .mtu = 1400,
        };
        struct netns_route rt = {.prefix = 16, .metric = -1};
        snprintf(rt.dst, sizeof(rt.dst), "10.88.0.0");
        snprintf(rt.gateway, sizeof(rt.gateway), "10.0.0.1");
        snprintf(rt.ifname, sizeof(rt.ifname), "eth0");
        if (netns_veth_create(host, &spec, &e) < 0 ||
            netns_link_set_alias(host, "lvbench-0", "litevirt:bench:0", &e) < 0 ||
            netns_bridge_attach(host, "br0", "lvbench-0", &e) < 0 ||
            netns_link_set_up(host, "lvbench-0", true, &e) < 0 ||
            netns_link_set_up(guest, "eth0", true, &e) < 0 ||
            netns_addr_add(guest, "eth0", "10.0.0.2", 24, NULL, &e) < 0 ||
            netns_route_add(guest, &rt, &e) < 0)
                die(e, "libnl");
        return 0;
}

static void down_libnl(struct netns_nl *host)
{
        struct lv_error *e = NULL;
        if (netns_link_delete(host, "lvbench-0", &e) < 0)
                die(e, "libnl delete");
}

static void run(const char *const *argv)
{
        pid_t pid;
        if (posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ) != 0) {
                perror("spawn ip");
                exit(1);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "lv-bench-netns: '%s %s %s %s' failed\n", argv[0], argv[1], argv[2],
                        argv[3]);
                exit(1);
        }
}

static int one_ip(void)
{
        const char *add[] = {"ip",
                             "link",
                             "add",
                             "lvbench-0",
                             "mtu",
                             "1400",
                             "address",
                             "fe:54:00:be:00:01",
                             "type",
                             "veth",
                             "peer",
                             "name",
                             "eth0",
                             "mtu",
                             "1400",
                             "address",
                             "52:54:00:be:00:01",
                             "netns",
                             guest_ns,
                             NULL};
        const char *alias[] = {"ip", "link", "set", "lvbench-0", "alias", "litevirt:bench:0", NULL};
        const char *master[] = {"ip", "link", "set", "lvbench-0", "master", "br0", NULL};
        const char *up[] = {"ip", "link", "set", "lvbench-0", "up", NULL};
        const char *gup[] = {"ip", "-n", guest_ns, "link", "set", "eth0", "up", NULL};
        const char *addr[] = {"ip",          "-n",  guest_ns, "addr", "add",
                              "10.0.0.2/24", "dev", "eth0",   NULL};
        const char *route[] = {"ip",  "-n",       guest_ns, "route", "add", "10.88.0.0/16",
                               "via", "10.0.0.1", "dev",    "eth0",  NULL};
        run(add);
        run(alias);
        run(master);
        run(up);
        run(gup);
        run(addr);
        run(route);
        return 0;
}

static void down_ip(void)
{
        const char *del[] = {"ip", "link", "del", "lvbench-0", NULL};
        run(del);
}

int main(int argc, char **argv)
{
        int n = argc > 1 ? atoi(argv[1]) : 200;
        if (n <= 0)
                n = 200;
        if (geteuid() != 0) {
                fprintf(stderr, "lv-bench-netns: needs root\n");
                return 77;
        }
        if (unshare(CLONE_NEWNET) < 0) {
                perror("unshare");
                return 1;
        }
        snprintf(guest_ns, sizeof(guest_ns), "lvbench-%d", (int)getpid());
        struct lv_error *e = NULL;
        if (netns_create(guest_ns, &e) < 0)
                die(e, "guest namespace");
        atexit(remove_guest_ns);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);

        struct netns_nl *host = NULL, *guest = NULL;
        int nsfd = netns_open_named(guest_ns, &e);
        if (nsfd < 0 || netns_nl_open(&host, &e) < 0 || netns_nl_open_fd(nsfd, &guest, &e) < 0 ||
            netns_bridge_create(host, "br0", &e) < 0 ||
            netns_link_set_up(host, "br0", true, &e) < 0)
                die(e, "set-up");

        /* warm-up, then alternate blocks so load changes hit both alike */
        one_libnl(host, guest, nsfd);
        down_libnl(host);
        one_ip();
        down_ip();
        double nl_up = 0, nl_down = 0, ip_up = 0, ip_down = 0;
        for (int i = 0; i < n; i++) {
                double t0 = now_ms();
                one_libnl(host, guest, nsfd);
                double t1 = now_ms();
                down_libnl(host);
                double t2 = now_ms();
                one_ip();
                double t3 = now_ms();
                down_ip();
                double t4 = now_ms();
                nl_up += t1 - t0;
                nl_down += t2 - t1;
                ip_up += t3 - t2;
                ip_down += t4 - t3;
        }
        printf("one guest interface, %d iterations, ms per interface (mean)\n", n);
        printf("  %-34s %10s %10s %8s\n", "", "libnl", "ip", "ip/libnl");
        printf("  %-34s %10.3f %10.3f %7.1fx\n", "set-up (veth..route; 7 ip calls)", nl_up / n,
               ip_up / n, ip_up / nl_up);
        printf("  %-34s %10.3f %10.3f %7.1fx\n", "tear-down (delete; 1 ip call)", nl_down / n,
               ip_down / n, ip_down / nl_down);
        printf("  %-34s %10.3f %10.3f %7.1fx\n", "total", (nl_up + nl_down) / n,
               (ip_up + ip_down) / n, (ip_up + ip_down) / (nl_up + nl_down));
        netns_nl_close(guest);
        netns_nl_close(host);
        close(nsfd);
        return 0;
}
