/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/qemu/qemu-helpers.h"

#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "qemu/command.h"
#include "util/fileio.h"
#include "util/strbuf.h"

const char *qt_qemu_binary(void)
{
        static const char *const cands[] = {"/usr/bin/qemu-system-x86_64",
                                            "/usr/local/bin/qemu-system-x86_64"};
        for (size_t i = 0; i < ARRAY_SIZE(cands); i++)
                if (access(cands[i], X_OK) == 0)
                        return cands[i];
        return NULL;
}

char *qt_tmpdir(const char *tag)
{
        char *p = xasprintf("/tmp/lv-test-%s.XXXXXX", tag);
        if (!mkdtemp(p))
                abort();
        return p;
}

void qt_rmrf(const char *path)
{
        struct lv_error *err = NULL;
        if (path && rm_rf(path, &err) < 0) {
                fprintf(stderr, "cleanup: %s\n", err->message);
                lv_error_free(err);
        }
}

pid_t qt_spawn(char *const *argv, const char *log)
{
        pid_t pid = fork();
        if (pid < 0)
                abort();
        if (pid == 0) {
                setpgid(0, 0);
                int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                              0644);
                int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        dup2(fd, 1);
                        dup2(fd, 2);
                }
                if (nul >= 0)
                        dup2(nul, 0);
                execv(argv[0], argv);
                _exit(127);
        }
        return pid;
}

void qt_kill(pid_t pid)
{
        if (pid <= 0)
                return;
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

int qt_wait_exit(pid_t pid, int timeout_ms, int *status)
{
        for (int waited = 0; waited <= timeout_ms; waited += 10) {
                pid_t r = waitpid(pid, status, WNOHANG);
                if (r == pid)
                        return 0;
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        return -ETIMEDOUT;
}

int qt_qmp_connect(const char *path, pid_t pid, struct qmp **ret, struct lv_error **err)
{
        /* wait for the socket (checking that QEMU still lives), then give
         * the handshake a generous deadline: the machine is shared */
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        for (int i = 0; i < 3000; i++) {
                int status;
                if (waitpid(pid, &status, WNOHANG) == pid)
                        return lv_error_setf(err, ECHILD, "QEMU exited (status 0x%x) before QMP",
                                             status);
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return lv_error_set(err, errno, "socket");
                if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                        return qmp_open_fd(fd, path, 30000, ret, err);
                int e = errno;
                close(fd);
                if (e != ENOENT && e != ECONNREFUSED)
                        return lv_error_set(err, e, "connecting to %s", path);
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        return lv_error_setf(err, ETIMEDOUT, "QMP socket %s never appeared", path);
}

int qt_run(const char *fmt, ...)
{
        char *cmd = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&cmd, fmt, ap) < 0)
                abort();
        va_end(ap);
        int r = system(cmd);
        free(cmd);
        if (r < 0 || !WIFEXITED(r))
                return -1;
        return WEXITSTATUS(r);
}

int qt_test_guest(char **kernel, char **initrd)
{
        const char *build = getenv("LV_BUILD_ROOT");
        const char *src = getenv("LV_SOURCE_ROOT");
        if (!build || !src)
                return QT_SKIP;
        char *dir = xasprintf("%s/test-guest", build);
        int r = qt_run("sh %s/tests/qemu/build-guest.sh %s >&2", src, dir);
        if (r != 0) {
                fprintf(stderr, "test guest not available (build-guest.sh: %d)\n", r);
                free(dir);
                return QT_SKIP;
        }
        *kernel = xasprintf("%s/vmlinuz", dir);
        *initrd = xasprintf("%s/initrd.gz", dir);
        free(dir);
        return 0;
}

/* Split libvirt's .args (a shell command line: VAR=x ... /usr/bin/qemu
 * -opt 'quoted' \<newline> ...) into argv, dropping the environment. */
char **qt_split_libvirt_args(const char *text)
{
        char **argv = NULL;
        _cleanup_strbuf_ struct strbuf cur = {0};
        bool in_word = false, in_quote = false;
        for (const char *p = text;; p++) {
                if (!*p || (!in_quote && (*p == ' ' || *p == '\n' || *p == '\t'))) {
                        if (in_word) {
                                char *w = strbuf_steal(&cur);
                                if (!argv && strchr(w, '=') && w[0] != '/')
                                        free(w); /* environment */
                                else
                                        strv_push(&argv, w);
                        }
                        in_word = false;
                        if (!*p)
                                break;
                        continue;
                }
                if (!in_quote && *p == '\\' && p[1] == '\n') {
                        p++;
                        continue;
                }
                if (*p == '\'') {
                        in_quote = !in_quote;
                        in_word = true;
                        if (!cur.buf)
                                strbuf_append(&cur, "");
                        continue;
                }
                strbuf_append_len(&cur, p, 1);
                in_word = true;
        }
        return argv;
}

/* litevirt's command line, with the host side fixed: tap fds 100 + i,
 * autoport VNC 5900 + i, SPICE 5910 + i. */
void qt_graphics_ports(const struct domain_def *def, struct qemu_graphics_ports *ports)
{
        qemu_command_preview_ports(def, false, ports);
}

int qt_command_build_fixed(const struct domain_def *def, const char *qmp_path, char ***ret_argv,
                           struct lv_error **err)
{
        /* not $LITEVIRT_NVRAMDIR: the golden files say this one */
        return qemu_command_build_preview(def, qmp_path, "/var/lib/litevirt/nvram", NULL, NULL,
                                          ret_argv, err);
}

int qt_command_build_libvirt(const struct domain_def *def, const char *qmp_path, char ***ret_argv,
                             struct lv_error **err)
{
        /* libvirt's test configuration (tests/testutilsqemu.c): spice_tls =
         * 1, spice_tls_x509_cert_dir = /etc/pki/libvirt-spice */
        return qemu_command_build_preview(def, qmp_path, "/var/lib/litevirt/nvram", NULL,
                                          "/etc/pki/libvirt-spice", ret_argv, err);
}

/* ARGV without what the implicit <audio id='1'> that qemu_definition_prepare
 * writes adds, when ORIG (the command line of the definition as given)
 * lacks it: its -audiodev, and VNC's ",audiodev=audio1" (libvirt's
 * command line has both). */
static char **without_implicit_audio(char *const *argv, char *const *orig)
{
        bool orig_audio = false;
        for (size_t i = 0; orig[i]; i++)
                orig_audio |= streq(orig[i], "-audiodev");
        char **out = NULL;
        for (size_t i = 0; argv[i]; i++) {
                if (!orig_audio && streq(argv[i], "-audiodev") && argv[i + 1]) {
                        i++;
                        continue;
                }
                char *a = xstrdup(argv[i]);
                char *p;
                if (!orig_audio && i > 0 && streq(argv[i - 1], "-vnc") &&
                    (p = strstr(a, ",audiodev=audio1")) && !p[strlen(",audiodev=audio1")])
                        *p = '\0';
                strv_push(&out, a);
        }
        return out;
}

bool qt_prepared_builds_same(const char *text, const char *shown, const char *qmp_path,
                             bool spice_tls, char *const *ours, char **why)
{
        _cleanup_error_ struct lv_error *err = NULL;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        if (domain_parse_string(text, strlen(text), shown, &def, &err) < 0 ||
            qemu_definition_prepare(def, &err) < 0 ||
            (spice_tls ? qt_command_build_libvirt(def, qmp_path, &argv, &err)
                       : qt_command_build_fixed(def, qmp_path, &argv, &err)) < 0) {
                *why = xasprintf("the stored definition does not build: %s", err->message);
                return false;
        }
        _cleanup_strv_free_ char **cmp = without_implicit_audio(argv, ours);
        size_t i = 0;
        while (cmp[i] && ours[i] && streq(cmp[i], ours[i]))
                i++;
        if (!cmp[i] && !ours[i])
                return true;
        *why = xasprintf("the stored definition builds another command line: %s, not %s",
                         cmp[i] ? cmp[i] : "(end)", ours[i] ? ours[i] : "(end)");
        return false;
}
