/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvb-varlink: request latency on a supervisor's control socket.
 *
 *   lvb-varlink -s SOCKET [-c CLIENTS] [-n REQUESTS] [-m METHOD] [-l LABEL]
 *
 * CLIENTS threads (default 16) each connect once and send REQUESTS calls
 * (default 1000) one after another: {"method":METHOD,"parameters":{}} and a
 * NUL, then read the reply up to its NUL. Every round trip is timed; the
 * output is one line "LABEL rpcC N p50 p99 max" (ms) and one
 * "LABEL rpcC-rate N calls/s 0 0". Replies carrying "error" are counted and
 * make the exit status 1 (so a broken method is not measured as fast). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *opt_sock, *opt_method = "io.litevirt.Guest.Info", *opt_label = "litevirt";
static int opt_clients = 16, opt_requests = 1000;

struct worker {
        pthread_t thread;
        double *lat;
        int done, errors;
        char first_error[256];
};

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int sock_connect(void)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(opt_sock) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, opt_sock);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static void *run(void *arg)
{
        struct worker *w = arg;
        char req[512], buf[65536];
        int len =
                snprintf(req, sizeof(req), "{\"method\":\"%s\",\"parameters\":{}}", opt_method) + 1;
        int fd = sock_connect();
        if (fd < 0) {
                snprintf(w->first_error, sizeof(w->first_error), "connect: %s", strerror(-fd));
                w->errors = opt_requests;
                return NULL;
        }
        size_t have = 0;
        for (int k = 0; k < opt_requests; k++) {
                double t0 = now_ms();
                if (write(fd, req, (size_t)len) != len) {
                        snprintf(w->first_error, sizeof(w->first_error), "write: %s",
                                 strerror(errno));
                        w->errors += opt_requests - k;
                        break;
                }
                char *nul = NULL;
                for (;;) {
                        nul = memchr(buf, '\0', have);
                        if (nul)
                                break;
                        if (have == sizeof(buf))
                                break;
                        ssize_t n = read(fd, buf + have, sizeof(buf) - have);
                        if (n <= 0)
                                break;
                        have += (size_t)n;
                }
                if (!nul) {
                        snprintf(w->first_error, sizeof(w->first_error),
                                 "connection closed after %d replies", k);
                        w->errors += opt_requests - k;
                        break;
                }
                w->lat[w->done++] = now_ms() - t0;
                if (strstr(buf, "\"error\"")) {
                        if (!w->errors)
                                snprintf(w->first_error, sizeof(w->first_error), "%.200s", buf);
                        w->errors++;
                }
                size_t used = (size_t)(nul - buf) + 1;
                memmove(buf, buf + used, have - used);
                have -= used;
        }
        close(fd);
        return NULL;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
        int c;
        while ((c = getopt(argc, argv, "s:c:n:m:l:")) != -1) {
                switch (c) {
                case 's':
                        opt_sock = optarg;
                        break;
                case 'c':
                        opt_clients = atoi(optarg);
                        break;
                case 'n':
                        opt_requests = atoi(optarg);
                        break;
                case 'm':
                        opt_method = optarg;
                        break;
                case 'l':
                        opt_label = optarg;
                        break;
                default:
                        fprintf(stderr, "usage: lvb-varlink -s SOCKET [-c CLIENTS] [-n REQUESTS] "
                                        "[-m METHOD] [-l LABEL]\n");
                        return 2;
                }
        }
        if (!opt_sock || opt_clients < 1 || opt_clients > 1024 || opt_requests < 1 ||
            opt_requests > 1000000) {
                fprintf(stderr,
                        "lvb-varlink: need -s SOCKET, 1..1024 clients, 1..1000000 requests\n");
                return 2;
        }
        struct worker *w = calloc((size_t)opt_clients, sizeof(*w));
        double t0 = now_ms();
        for (int i = 0; i < opt_clients; i++) {
                w[i].lat = calloc((size_t)opt_requests, sizeof(double));
                pthread_create(&w[i].thread, NULL, run, &w[i]);
        }
        int total = 0, errors = 0;
        for (int i = 0; i < opt_clients; i++) {
                pthread_join(w[i].thread, NULL);
                total += w[i].done;
                errors += w[i].errors;
                if (w[i].errors && w[i].first_error[0])
                        fprintf(stderr, "lvb-varlink: client %d: %d errors, first: %s\n", i,
                                w[i].errors, w[i].first_error);
        }
        double wall = now_ms() - t0;
        double *all = calloc((size_t)total + 1, sizeof(double));
        int k = 0;
        for (int i = 0; i < opt_clients; i++)
                for (int j = 0; j < w[i].done; j++)
                        all[k++] = w[i].lat[j];
        if (total == 0) {
                fprintf(stderr, "lvb-varlink: no reply at all\n");
                return 1;
        }
        qsort(all, (size_t)total, sizeof(double), cmp_double);
        printf("%s\trpc%d\t%d\t%.4f\t%.4f\t%.4f\n", opt_label, opt_clients, total, all[total / 2],
               all[(size_t)(total * 0.99)], all[total - 1]);
        printf("%s\trpc%d-rate\t%d\t%.0f\t0\t0\n", opt_label, opt_clients, total,
               total / (wall / 1000.0));
        return errors ? 1 : 0;
}
