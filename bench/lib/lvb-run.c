/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvb-run: the benchmark's timing harness (an equivalent of hyperfine for
 * commands whose "done" is an event inside a container, not their exit).
 *
 *   lvb-run [-n N] [-w W] [-D] [-k [-K C]] [-g CGDIR] [-T SEC] [-L LOG] [-o TSV] -l LABEL
 *           -m FIFO -- START... [--stop STOP...] [--after AFTER...]
 *
 * Each iteration: START's process is forked and set up (-g), then t0, it
 * execs START; the payload inside the container writes a
 * line to FIFO (the rootfs's /mark) -> t1 ("start": command issued -> payload
 * ran). Then, unless -k: t2, run STOP (or "@kill"/"@term": signal the START
 * process) and wait for it and for START to exit, and with @kill/@term for
 * every process START had (the container's: the tool's own process may die
 * before them) -> t3 ("stop" = t3-t2,
 * "cycle" = t3-t0: create, run, remove). AFTER runs untimed (e.g. undefine).
 * Without STOP, "cycle" is START's exit. With -k the container is left
 * running (memory and density runs) and "total" is the wall time of all
 * iterations (-K C: also "totalC", the wall time of the first C). {i} in any argument becomes the
 * iteration number, {pid} the START pid. -D: START detaches (returns once the guest runs): wait for
 * its exit before STOP ("return" = t0 -> START exited). -g CGDIR: the START child first moves
 * itself into a new cgroup CGDIR/{i} in every hierarchy listed in the file CGDIR (one path a line),
 * as a service manager would (used for systemd-nspawn --keep-unit), before t0.
 * Output: one line per metric "LABEL METRIC n median min max" (ms), on
 * stdout and appended to TSV; -R FILE also appends every sample as
 * "LABEL sample METRIC ms" (runs split in rounds are summarised later). Exit 1 if any iteration
 * failed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ITER 10000

static int opt_n = 10, opt_w = 1, opt_timeout = 60, opt_checkpoint;
static bool opt_keep, opt_detach;
static const char *opt_label = "?", *opt_fifo, *opt_tsv, *opt_log = "/dev/null", *opt_cg,
                  *opt_samples;
static char **cmd_start, **cmd_stop, **cmd_after;

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *subst(const char *arg, int iter, pid_t pid)
{
        char buf[4096], num[32];
        size_t o = 0;
        for (const char *p = arg; *p && o < sizeof(buf) - 32; p++) {
                if (strncmp(p, "{i}", 3) == 0) {
                        snprintf(num, sizeof(num), "%d", iter);
                } else if (strncmp(p, "{pid}", 5) == 0) {
                        snprintf(num, sizeof(num), "%d", (int)pid);
                } else {
                        buf[o++] = *p;
                        continue;
                }
                memcpy(buf + o, num, strlen(num));
                o += strlen(num);
                p += (p[1] == 'i') ? 2 : 4;
        }
        buf[o] = '\0';
        return strdup(buf);
}

/* cgroup v1 cpuset: a new group can take no task until it has its
 * parent's cpus and mems. */
static void copy_parent(const char *dir, const char *file)
{
        char src[1400], dst[1400], buf[512];
        snprintf(dst, sizeof(dst), "%s/%s", dir, file);
        snprintf(src, sizeof(src), "%s/../%s", dir, file);
        int in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return;
        ssize_t n = read(in, buf, sizeof(buf));
        close(in);
        int out = open(dst, O_WRONLY | O_CLOEXEC);
        if (out < 0)
                return;
        if (n > 0 && write(out, buf, (size_t)n) < 0)
                perror(dst);
        close(out);
}

static void cg_enter(int iter)
{
        char line[1024], path[1200];
        FILE *f = fopen(opt_cg, "re");
        if (!f) {
                perror(opt_cg);
                _exit(126);
        }
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                if (!line[0])
                        continue;
                snprintf(path, sizeof(path), "%s/g%d", line, iter);
                if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                        perror(path);
                        _exit(126);
                }
                copy_parent(path, "cpuset.cpus");
                copy_parent(path, "cpuset.mems");
                strcat(path, "/cgroup.procs");
                int fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "0", 1) != 1) {
                        perror(path);
                        _exit(126);
                }
                close(fd);
        }
        fclose(f);
}

/* With held (START): the child sets itself up (cgroup, fds) and waits on
 * *held until it is told to exec: the timed start begins at its exec, for
 * every tool alike, and a cgroup a service manager would have made before
 * (-g) is not part of the tool's time. */
static pid_t spawn(char **tmpl, int iter, pid_t pid, bool cg, int *held)
{
        int sv[2] = {-1, -1};
        if (held && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                perror("socketpair");
                exit(2);
        }
        int n = 0;
        while (tmpl[n])
                n++;
        char **argv = calloc(n + 1, sizeof(char *));
        for (int k = 0; k < n; k++)
                argv[k] = subst(tmpl[k], iter, pid);
        pid_t child = fork();
        if (child == 0) {
                int in = open("/dev/null", O_RDONLY);
                int out = open(opt_log, O_WRONLY | O_APPEND | O_CREAT, 0644);
                dup2(in, 0);
                dup2(out, 1);
                dup2(out, 2);
                setpgid(0, 0);
                if (cg)
                        cg_enter(iter);
                if (held) {
                        char c = 0;
                        if (write(sv[1], "r", 1) != 1 || read(sv[1], &c, 1) != 1 || c != 'g')
                                _exit(126);
                }
                execvp(argv[0], argv);
                fprintf(stderr, "lvb-run: exec %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        for (int k = 0; k < n; k++)
                free(argv[k]);
        free(argv);
        if (held) {
                char c = 0;
                close(sv[1]);
                if (read(sv[0], &c, 1) != 1 || c != 'r') {
                        fprintf(stderr,
                                "lvb-run: %s: the start command's process failed to set up\n",
                                opt_label);
                        close(sv[0]);
                        sv[0] = -1;
                }
                *held = sv[0];
        }
        return child;
}

/* Let a held START exec (see spawn). */
static void release(int *held)
{
        if (*held >= 0 && write(*held, "g", 1) != 1)
                perror("lvb-run: releasing the start command");
        if (*held >= 0)
                close(*held);
        *held = -1;
}

/* Every descendant of pid, as pidfds (at most max): a stop that signals
 * the start command (@kill, @term) is over when they are all gone, i.e.
 * when the container is, not when the tool's own process is. */
static int descendants(pid_t pid, int *fds, int n, int max)
{
        char path[64], buf[4096];
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return n;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *save = NULL;
        for (char *t = strtok_r(buf, " \n", &save); t && n < max;
             t = strtok_r(NULL, " \n", &save)) {
                pid_t c = (pid_t)atoi(t);
                int fd = (int)syscall(SYS_pidfd_open, c, 0);
                if (fd < 0)
                        continue;
                fds[n++] = fd;
                n = descendants(c, fds, n, max);
        }
        return n;
}

static void wait_gone(int *fds, int n, int timeout_s)
{
        double deadline = now_ms() + timeout_s * 1000.0;
        for (int k = 0; k < n; k++) {
                struct pollfd p = {fds[k], POLLIN, 0};
                int left = (int)(deadline - now_ms());
                if (left > 0)
                        (void)poll(&p, 1, left);
                close(fds[k]);
        }
}

static int wait_exit(pid_t pid, int timeout_s)
{
        int st;
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd >= 0) {
                struct pollfd p = {pidfd, POLLIN, 0};
                int r = poll(&p, 1, timeout_s * 1000);
                close(pidfd);
                if (r == 0)
                        return -2;
        }
        if (waitpid(pid, &st, 0) != pid)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Blocks on the FIFO and on START's pidfd: returns 0 when the payload wrote
 * its mark, -1 on timeout or when START failed before the mark. */
static int wait_mark(int fifo, pid_t start, bool *start_done)
{
        int pidfd = (int)syscall(SYS_pidfd_open, start, 0);
        double deadline = now_ms() + opt_timeout * 1000.0;
        for (;;) {
                struct pollfd p[2] = {{fifo, POLLIN, 0}, {pidfd, POLLIN, 0}};
                int nfds = (pidfd >= 0 && !*start_done) ? 2 : 1;
                int left = (int)(deadline - now_ms());
                if (left <= 0)
                        break;
                if (poll(p, nfds, left) < 0 && errno != EINTR)
                        break;
                if (p[0].revents & POLLIN) {
                        if (pidfd >= 0)
                                close(pidfd);
                        return 0;
                }
                if (nfds == 2 && (p[1].revents & POLLIN)) {
                        int st;
                        waitpid(start, &st, 0);
                        *start_done = true;
                        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                                /* the mark may still be in flight */
                                struct pollfd q = {fifo, POLLIN, 0};
                                if (poll(&q, 1, 200) == 1) {
                                        if (pidfd >= 0)
                                                close(pidfd);
                                        return 0;
                                }
                                fprintf(stderr,
                                        "lvb-run: %s: start command failed (status %d), see %s\n",
                                        opt_label, st, opt_log);
                                break;
                        }
                }
        }
        if (pidfd >= 0)
                close(pidfd);
        return -1;
}

static void drain(int fifo)
{
        char buf[256];
        while (read(fifo, buf, sizeof(buf)) > 0)
                ;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static void report(const char *metric, double *v, int n)
{
        if (n == 0)
                return;
        if (opt_samples) {
                FILE *f = fopen(opt_samples, "ae");
                for (int k = 0; f && k < n; k++)
                        fprintf(f, "%s\tsample\t%s\t%.3f\n", opt_label, metric, v[k]);
                if (f)
                        fclose(f);
        }
        qsort(v, n, sizeof(double), cmp_double);
        double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        char line[512];
        snprintf(line, sizeof(line), "%s\t%s\t%d\t%.3f\t%.3f\t%.3f\n", opt_label, metric, n, med,
                 v[0], v[n - 1]);
        fputs(line, stdout);
        if (opt_tsv) {
                FILE *f = fopen(opt_tsv, "ae");
                if (f) {
                        fputs(line, f);
                        fclose(f);
                }
        }
}

static char **split_at(char **argv, const char *sep)
{
        for (char **p = argv; *p; p++)
                if (strcmp(*p, sep) == 0) {
                        *p = NULL;
                        return p + 1;
                }
        return NULL;
}

static void usage(void)
{
        fprintf(stderr, "usage: lvb-run [-n N] [-w W] [-D] [-k [-K C]] [-g CGLIST] [-T SEC] [-L "
                        "LOG] [-o TSV] [-R SAMPLES] -l LABEL "
                        "-m FIFO -- START... [--stop STOP...] [--after AFTER...]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        int c;
        while ((c = getopt(argc, argv, "+n:w:kDK:g:T:L:o:R:l:m:")) != -1) {
                switch (c) {
                case 'D':
                        opt_detach = true;
                        break;
                case 'R':
                        opt_samples = optarg;
                        break;
                case 'K':
                        opt_checkpoint = atoi(optarg);
                        break;
                case 'n':
                        opt_n = atoi(optarg);
                        break;
                case 'w':
                        opt_w = atoi(optarg);
                        break;
                case 'k':
                        opt_keep = true;
                        break;
                case 'g':
                        opt_cg = optarg;
                        break;
                case 'T':
                        opt_timeout = atoi(optarg);
                        break;
                case 'L':
                        opt_log = optarg;
                        break;
                case 'o':
                        opt_tsv = optarg;
                        break;
                case 'l':
                        opt_label = optarg;
                        break;
                case 'm':
                        opt_fifo = optarg;
                        break;
                default:
                        usage();
                }
        }
        if (!opt_fifo || optind >= argc || opt_n < 1 || opt_n > MAX_ITER || opt_w < 0)
                usage();
        cmd_start = argv + optind;
        cmd_after = split_at(cmd_start, "--after");
        cmd_stop = split_at(cmd_start, "--stop");
        if (!cmd_start[0])
                usage();
        signal(SIGPIPE, SIG_IGN);

        /* O_RDWR: the FIFO always has a writer, so no EOF between marks and
         * the container's open() for writing never blocks. */
        int fifo = open(opt_fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fifo < 0) {
                fprintf(stderr, "lvb-run: %s: %s\n", opt_fifo, strerror(errno));
                return 2;
        }
        static double t_start[MAX_ITER], t_stop[MAX_ITER], t_cycle[MAX_ITER], t_return[MAX_ITER];
        int ok = 0, failed = 0;
        double wall0 = 0, wall1 = 0, wall_cp = -1;

        for (int it = 0; it < opt_w + opt_n; it++) {
                bool rec = it >= opt_w, start_done = false;
                drain(fifo);
                if (it == opt_w)
                        wall0 = now_ms();
                int held = -1;
                pid_t sp = spawn(cmd_start, it, 0, opt_cg != NULL, &held);
                double t0 = now_ms();
                release(&held);
                if (wait_mark(fifo, sp, &start_done) < 0) {
                        failed++;
                        if (!start_done) {
                                kill(sp, SIGKILL);
                                waitpid(sp, NULL, 0);
                        }
                        if (cmd_stop && cmd_stop[0] && cmd_stop[0][0] != '@')
                                wait_exit(spawn(cmd_stop, it, sp, false, NULL), opt_timeout);
                        if (cmd_after && cmd_after[0])
                                wait_exit(spawn(cmd_after, it, sp, false, NULL), opt_timeout);
                        if (failed > 2)
                                break;
                        continue;
                }
                double t1 = now_ms();
                wall1 = t1;
                if (opt_keep) {
                        /* a daemonizing START is reaped; a foreground one keeps running */
                        if (!start_done && waitpid(sp, NULL, WNOHANG) == sp)
                                start_done = true;
                        if (rec)
                                t_start[ok++] = t1 - t0;
                        if (rec && ok == opt_checkpoint)
                                wall_cp = t1 - wall0;
                        continue;
                }
                /* -D: START detaches (returns once the guest runs); wait for
                 * it, so the stop never races a start still in progress */
                double tr = t1;
                if (opt_detach && !start_done) {
                        int r = wait_exit(sp, opt_timeout);
                        start_done = true;
                        tr = now_ms();
                        if (r != 0) {
                                fprintf(stderr,
                                        "lvb-run: %s: iteration %d: start status %d, see %s\n",
                                        opt_label, it, r, opt_log);
                                failed++;
                        }
                }
                double t2 = now_ms();
                int rc = 0;
                int gone[64], n_gone = 0;
                if (cmd_stop && cmd_stop[0]) {
                        bool sig = cmd_stop[0][0] == '@';
                        if (sig)
                                n_gone = descendants(sp, gone, 0, 64);
                        if (strcmp(cmd_stop[0], "@kill") == 0)
                                kill(sp, SIGKILL);
                        else if (strcmp(cmd_stop[0], "@term") == 0)
                                kill(sp, SIGTERM);
                        else
                                rc = wait_exit(spawn(cmd_stop, it, sp, false, NULL), opt_timeout);
                }
                if (!start_done) {
                        int r = wait_exit(sp, opt_timeout);
                        if (!cmd_stop && r != 0)
                                rc = r;
                }
                wait_gone(gone, n_gone, opt_timeout);
                double t3 = now_ms();
                if (cmd_after && cmd_after[0])
                        wait_exit(spawn(cmd_after, it, sp, false, NULL), opt_timeout);
                if (rc != 0) {
                        fprintf(stderr, "lvb-run: %s: iteration %d: stop status %d, see %s\n",
                                opt_label, it, rc, opt_log);
                        failed++;
                        if (failed > 2)
                                break;
                        continue;
                }
                if (rec) {
                        t_start[ok] = t1 - t0;
                        t_return[ok] = tr - t0;
                        t_stop[ok] = t3 - t2;
                        t_cycle[ok] = t3 - t0;
                        ok++;
                }
        }
        report("start", t_start, ok);
        if (!opt_keep) {
                if (opt_detach)
                        report("return", t_return, ok);
                report("stop", t_stop, ok);
                report("cycle", t_cycle, ok);
        } else if (ok > 0) {
                double total = wall1 - wall0;
                report("total", &total, 1);
                if (wall_cp >= 0) {
                        char m[32];
                        snprintf(m, sizeof(m), "total%d", opt_checkpoint);
                        report(m, &wall_cp, 1);
                }
        }
        return failed ? 1 : 0;
}
