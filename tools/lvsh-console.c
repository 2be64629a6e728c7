/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh console: attach the terminal to the guest's console through its
 * supervisor (io.litevirt.Guest.Console upgrades the connection to raw
 * bytes). Ctrl+] detaches. With a terminal on stdin it is put in raw mode
 * and restored on the way out; without one, input is relayed until EOF and
 * output until the guest's console goes away (or Ctrl+] in the input). */
#include <json-c/json.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>

#include "tools/lvsh-common.h"
#include "util/fileio.h"
#include "util/paths.h"
#include "lib/methods.h"

#define ESCAPE_CHAR 0x1d /* ^] */

static int relay(lv_conn *c)
{
        int sock = lv_conn_fd(c);
        char buf[4096];
        size_t n;
        /* Output that arrived right behind the reply. */
        while ((n = lv_conn_take_buffered(c, buf, sizeof(buf))) > 0)
                if (fd_write_all(STDOUT_FILENO, buf, n, 0) < 0)
                        return 0;
        bool in_open = true;
        for (;;) {
                struct pollfd p[2] = {
                        {.fd = sock, .events = POLLIN},
                        {.fd = in_open ? STDIN_FILENO : -1, .events = POLLIN},
                };
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[0].revents) {
                        ssize_t m = read(sock, buf, sizeof(buf));
                        if (m < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (m <= 0)
                                return 1; /* the console, the guest or the supervisor went away */
                        if (fd_write_all(STDOUT_FILENO, buf, (size_t)m, 0) < 0)
                                return 0;
                }
                if (p[1].revents) {
                        ssize_t m = read(STDIN_FILENO, buf, sizeof(buf));
                        if (m < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (m <= 0) {
                                in_open = false;
                                continue;
                        }
                        char *esc = memchr(buf, ESCAPE_CHAR, (size_t)m);
                        size_t len = esc ? (size_t)(esc - buf) : (size_t)m;
                        if (len > 0 && fd_write_all(sock, buf, len, 0) < 0)
                                return 0;
                        if (esc)
                                return 0;
                }
        }
}

/* status.json's "state" when it was written by supervisor spid, else NULL. */
static char *status_state_of(const char *name, pid_t spid)
{
        _cleanup_free_ char *path = paths_state_file(name, "status.json");
        _cleanup_free_ char *text = NULL;
        if (file_read_bounded(path, 64 * 1024, &text, NULL, NULL) < 0)
                return NULL;
        struct json_object *o = json_tokener_parse(text), *v, *st;
        char *state = NULL;
        if (o && json_object_object_get_ex(o, "supervisor_pid", &v) &&
            json_object_get_int64(v) == (int64_t)spid && json_object_object_get_ex(o, "state", &st))
                state = xstrdup(json_object_get_string(st));
        json_object_put(o);
        return state;
}

/* The supervisor closed the console connection: the guest ended (its
 * supervisor removes the state directory, then exits), another client
 * took the console over (--force: the supervisor and the guest run on),
 * or the supervisor died (killed, crashed: its status.json stays, naming
 * it). True for the last. A dying process is gone right after its files
 * are closed; one whose guest is ending gets the time its clean-up needs
 * (bounded). */
static bool supervisor_lost(const char *name, pid_t spid, int pidfd)
{
        if (pidfd < 0)
                return false;
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        for (int waited = 0; waited < 30; waited++) {
                int n = poll(&p, 1, 1000);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n != 0)
                        break;
                _cleanup_free_ char *state = status_state_of(name, spid);
                if (waited >= 1 && state && (streq(state, "running") || streq(state, "paused")))
                        return false; /* alive, guest too: we were only dropped */
        }
        if (poll(&p, 1, 0) <= 0)
                return false;
        _cleanup_free_ char *state = status_state_of(name, spid);
        return state != NULL;
}

int lvsh_cmd_console(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"force", NULL};
        bool set[1] = {false};
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command("console"), argc, argv, flags, set, NULL, NULL,
                                &name, err);
        if (r < 0)
                return r;
        lv_conn *c = NULL;
        if ((r = lvsh_connect(name, &c, err)) < 0)
                return r;
        struct json_object *params = json_object_new_object();
        if (set[0])
                json_object_object_add(params, "force", json_object_new_boolean(true));
        lv_client_error *ce = NULL;
        r = lv_call_more(c, LV_METHOD_CONSOLE, params, &ce);
        json_object_put(params);
        if (r >= 0)
                r = lv_read_reply(c, NULL, NULL, &ce);
        if (r < 0) {
                lv_disconnect(c);
                return lvsh_error_from_client(err, ce);
        }
        /* Who serves us, to tell its death from the guest's end. */
        struct ucred cred = {0};
        socklen_t clen = sizeof(cred);
        _cleanup_close_ int spidfd = -1;
        if (getsockopt(lv_conn_fd(c), SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 && cred.pid > 0)
                spidfd = (int)syscall(SYS_pidfd_open, cred.pid, 0);
        printf("Connected to domain '%s'\nEscape character is ^] (Ctrl + ])\n", name);
        fflush(stdout);

        struct termios saved, raw;
        bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
        if (tty) {
                raw = saved;
                cfmakeraw(&raw);
                (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
        }
        r = relay(c);
        if (tty)
                (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        lv_disconnect(c);
        if (tty)
                printf("\n");
        if (r < 0)
                return lv_error_set(err, -r, "console of domain '%s'", name);
        if (r == 1 && supervisor_lost(name, cred.pid, spidfd))
                return lv_error_setf(err, ECONNRESET,
                                     "console of domain '%s': the connection to the supervisor "
                                     "was lost (supervisor %d died; the guest may run on: "
                                     "'lvsh domstate %s', 'lvsh start %s' reattaches)",
                                     name, (int)cred.pid, name, name);
        return 0;
}
