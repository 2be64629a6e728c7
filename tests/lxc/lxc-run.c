/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test harness: runs one container through the real LXC driver
 * (lxc_driver.start against the real kernel) without the supervisor core.
 *
 *   lxc-run FILE.xml
 *
 * Prints "started PID CGROUP" on stdout, then relays the console to
 * stdout and reads commands from stdin, one per line: freeze, thaw,
 * stats, shutdown, reboot, destroy, procs. When init ends it prints
 * "ended STATUS" (exit:N or signal:NAME), runs every undo and exits 0; a
 * failed start prints "error: MESSAGE" on stderr and exits 1. */
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "conf/xml.h"
#include "cgroup/cgroup.h"
#include "driver-support/driver.h"
#include "util/log.h"

static void print_status(int status)
{
        if (WIFEXITED(status))
                printf("ended exit:%d\n", WEXITSTATUS(status));
        else
                printf("ended signal:%s\n", sigabbrev_np(WTERMSIG(status)));
        fflush(stdout);
}

static int run_command(struct lv_guest *g, const char *cmd)
{
        _cleanup_error_ struct lv_error *err = NULL;
        int r = 0;
        if (streq(cmd, "freeze"))
                r = lxc_driver.suspend(g, &err);
        else if (streq(cmd, "thaw"))
                r = lxc_driver.resume(g, &err);
        else if (streq(cmd, "shutdown"))
                r = lxc_driver.shutdown(g, &err);
        else if (streq(cmd, "reboot"))
                r = lxc_driver.reboot(g, &err);
        else if (streq(cmd, "destroy"))
                r = lxc_driver.destroy(g, &err);
        else if (startswith(cmd, "type ")) {
                /* Type a line on the console, as a user would. */
                _cleanup_free_ char *text = xasprintf("%s\n", cmd + 5);
                if (write(g->console_fd, text, strlen(text)) < 0)
                        r = lv_error_set(&err, errno, "writing to the console");
        } else if (streq(cmd, "stats")) {
                struct json_object *o = json_object_new_object();
                r = lxc_driver.stats(g, o, &err);
                if (r == 0)
                        printf("stats %s\n",
                               json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
                json_object_put(o);
        } else {
                fprintf(stderr, "unknown command '%s'\n", cmd);
                return 0;
        }
        if (r < 0)
                printf("command %s failed: %s\n", cmd, err->message);
        else
                printf("command %s ok\n", cmd);
        fflush(stdout);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: lxc-run FILE.xml\n");
                return 2;
        }
        log_set_ident("lxc-run");
        if (getenv("LXC_RUN_DEBUG"))
                log_set_level(LOG_LEVEL_DEBUG);
        signal(SIGPIPE, SIG_IGN);
        _cleanup_error_ struct lv_error *err = NULL;
        const struct conf_xml_ops *x = conf_xml(&err);
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if (!x || x->domain_parse_file(argv[1], &def, &err) < 0) {
                fprintf(stderr, "error: %s\n", err->message);
                return 1;
        }
        struct lv_guest g = {
                .def = def,
                .name = def->name,
                .pid = 0,
                .pidfd = -1,
                .console_fd = -1,
        };
        if (lxc_driver.start(&g, &err) < 0) {
                lv_error_prefix(&err, "guest '%s'", g.name);
                fprintf(stderr, "error: %s\n", err->message);
                guest_undo_run(&g);
                return 1;
        }
        printf("started %d %s\n", (int)g.pid, g.cgroup_path);
        fflush(stdout);

        char line[256];
        size_t line_len = 0;
        bool stdin_open = true;
        int status = 0;
        for (;;) {
                struct pollfd p[3] = {
                        {.fd = g.pidfd, .events = POLLIN},
                        {.fd = g.console_fd, .events = POLLIN},
                        {.fd = stdin_open ? 0 : -1, .events = POLLIN},
                };
                if (poll(p, 3, -1) < 0 && errno != EINTR)
                        break;
                if (p[1].revents & POLLIN) {
                        char buf[4096];
                        ssize_t n = read(g.console_fd, buf, sizeof buf);
                        if (n > 0)
                                (void)!write(1, buf, (size_t)n);
                }
                if (p[2].revents & (POLLIN | POLLHUP)) {
                        char c;
                        ssize_t n = read(0, &c, 1);
                        if (n <= 0) {
                                stdin_open = false;
                        } else if (c == '\n') {
                                line[line_len] = '\0';
                                line_len = 0;
                                run_command(&g, line);
                        } else if (line_len + 1 < sizeof line) {
                                line[line_len++] = c;
                        }
                }
                if (p[0].revents & POLLIN) {
                        siginfo_t si = {0};
                        if (waitid((idtype_t)3, (id_t)g.pidfd, &si, WEXITED) == 0)
                                status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8
                                                                  : (si.si_status & 0x7f);
                        break;
                }
        }
        /* What the console still holds. */
        char buf[4096];
        ssize_t n;
        while ((n = read(g.console_fd, buf, sizeof buf)) > 0)
                (void)!write(1, buf, (size_t)n);
        print_status(status);
        close(g.pidfd);
        g.pidfd = -1;
        g.pid = 0;
        guest_undo_run(&g);
        return 0;
}
