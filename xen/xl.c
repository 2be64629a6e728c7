/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running `xl` and reading what it prints. */
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "util/fileio.h"
#include "util/strbuf.h"
#include "xen/xl.h"

extern char **environ;

const char *xen_xl_path(void)
{
        const char *p = getenv("LITEVIRT_XL");
        return p && *p ? p : "xl";
}

static int run_program(const char *prog, char *const args[], char **ret_out, struct lv_error **err)
{
        int out[2] = {-1, -1}, errp[2] = {-1, -1};
        _cleanup_strbuf_ struct strbuf cmd = {0};
        strbuf_append(&cmd, prog);
        for (char *const *a = args; *a; a++)
                strbuf_printf(&cmd, " %s", *a);
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
                int e = errno;
                closep(&out[0]);
                closep(&out[1]);
                return lv_error_set(err, e, "running '%s': pipe", cmd.buf);
        }
        _cleanup_close_ int out_r = out[0], err_r = errp[0];
        _cleanup_close_ int out_w = out[1], err_w = errp[1];
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out_w, 1);
        posix_spawn_file_actions_adddup2(&fa, err_w, 2);
        size_t argc = strv_length((char **)args);
        char **argv = xcalloc(argc + 2, sizeof(char *));
        argv[0] = (char *)prog;
        for (size_t i = 0; i < argc; i++)
                argv[i + 1] = args[i];
        pid_t pid;
        int r = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        free(argv);
        if (r != 0)
                return lv_error_set(err, r, "running '%s'", cmd.buf);
        closep(&out_w);
        out_w = -1;
        closep(&err_w);
        err_w = -1;

        struct strbuf bufs[2] = {{0}, {0}};
        struct pollfd pfd[2] = {{.fd = out_r, .events = POLLIN}, {.fd = err_r, .events = POLLIN}};
        bool too_big = false;
        while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
                if (poll(pfd, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (int i = 0; i < 2; i++) {
                        if (pfd[i].fd < 0 || !pfd[i].revents)
                                continue;
                        char chunk[4096];
                        ssize_t n = read(pfd[i].fd, chunk, sizeof(chunk));
                        if (n <= 0) {
                                pfd[i].fd = -1;
                                continue;
                        }
                        if (bufs[i].len + (size_t)n > XEN_XL_OUTPUT_MAX)
                                too_big = true;
                        else
                                strbuf_append_len(&bufs[i], chunk, (size_t)n);
                }
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        _cleanup_free_ char *sout = strbuf_steal(&bufs[0]);
        _cleanup_free_ char *serr = strbuf_steal(&bufs[1]);
        /* the last line of stderr is what xl has to say */
        size_t l = strlen(serr);
        while (l && (serr[l - 1] == '\n' || serr[l - 1] == ' '))
                serr[--l] = '\0';
        if (too_big)
                return lv_error_setf(err, E2BIG, "'%s': output larger than %d bytes", cmd.buf,
                                     XEN_XL_OUTPUT_MAX);
        if (WIFSIGNALED(status))
                return lv_error_setf(err, EIO, "'%s' killed by signal %d%s%s", cmd.buf,
                                     WTERMSIG(status), *serr ? ": " : "", serr);
        if (WEXITSTATUS(status) != 0)
                return lv_error_setf(err, EIO, "'%s' failed (exit %d)%s%s", cmd.buf,
                                     WEXITSTATUS(status), *serr ? ": " : "", serr);
        if (ret_out)
                *ret_out = TAKE_PTR(sout);
        return 0;
}

int xen_xl_run(char *const args[], char **ret_out, struct lv_error **err)
{
        return run_program(xen_xl_path(), args, ret_out, err);
}

int xen_host_check(struct lv_error **err)
{
        struct stat st;
        if (stat("/proc/xen", &st) < 0)
                return lv_error_setf(
                        err, ENODEV,
                        "no Xen hypervisor on this host (/proc/xen is absent): Xen guests "
                        "need a host booted under Xen, as its control domain");
        _cleanup_free_ char *caps = NULL;
        size_t len;
        _cleanup_error_ struct lv_error *e = NULL;
        if (file_read_bounded("/proc/xen/capabilities", 4096, &caps, &len, &e) < 0 ||
            !strstr(caps, "control_d"))
                return lv_error_setf(
                        err, ENODEV,
                        "this host is not Xen's control domain (/proc/xen/capabilities "
                        "lacks control_d; is xenfs mounted?)");
        return 0;
}

int xen_domain_state(const char *name, enum guest_state *ret, struct lv_error **err)
{
        char *args[] = {"list", (char *)name, NULL};
        _cleanup_free_ char *out = NULL;
        int r = xen_xl_run(args, &out, err);
        if (r < 0)
                return r;
        /* header line, then: NAME ID MEM VCPUS STATE TIME */
        char *line = strchr(out, '\n');
        if (!line)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "'xl list %s': no domain line", name);
        char field[6][128];
        int n = sscanf(line + 1, "%127s %127s %127s %127s %127s %127s", field[0], field[1],
                       field[2], field[3], field[4], field[5]);
        if (n != 6 || !streq(field[0], name) || strlen(field[4]) != 6)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "'xl list %s': unexpected line '%.80s'",
                                     name, line + 1);
        const char *s = field[4]; /* "rbpscd" with '-' for unset flags */
        if (s[4] == 'c')
                *ret = GUEST_STATE_CRASHED;
        else if (s[3] == 's' || s[5] == 'd')
                *ret = GUEST_STATE_SHUTDOWN;
        else if (s[2] == 'p')
                *ret = GUEST_STATE_PAUSED;
        else
                *ret = GUEST_STATE_RUNNING;
        return 0;
}

int xen_domain_vncdisplay(const char *name, int *ret_display, struct lv_error **err)
{
        char *args[] = {"domid", (char *)name, NULL};
        _cleanup_free_ char *domid = NULL, *port = NULL;
        int r = xen_xl_run(args, &domid, err);
        if (r < 0)
                return r;
        domid[strcspn(domid, "\n")] = '\0';
        /* where xl vncviewer looks */
        _cleanup_free_ char *path = xasprintf("/local/domain/%s/console/vnc-port", domid);
        char *rargs[] = {path, NULL};
        r = run_program("xenstore-read", rargs, &port, err);
        if (r < 0)
                return lv_error_prefix(err, "guest '%s': VNC port", name);
        int p = atoi(port);
        if (p < 5900 || p > 65535)
                return lv_error_setf(err, LV_ERR_PROTOCOL, "guest '%s': VNC port '%s' out of range",
                                     name, port);
        *ret_display = p - 5900;
        return 0;
}

char **xen_console_argv(const char *name)
{
        char **v = NULL;
        strv_push(&v, xstrdup(xen_xl_path()));
        strv_push(&v, xstrdup("console"));
        strv_push(&v, xstrdup(name));
        return v;
}
