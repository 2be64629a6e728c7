/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest's console: the driver hands the core the master side of the
 * console pty (g->console_fd). Output goes to the attached `lvsh console`
 * client, or into a ring buffer (the last CONSOLE_RING_SIZE bytes) while
 * nobody is attached, replayed on attach. One client at a time; a second
 * is refused unless it forces a take-over. The guest never waits for a
 * client: a client that cannot keep up is dropped. */
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "supervisor/supervisor.h"
#include "util/clock.h"
#include "util/paths.h"
#include "util/log.h"

void console_ring_append(struct console_ring *r, const char *data, size_t n)
{
        if (n == 0)
                return;
        if (!r->data)
                r->data = xmalloc(CONSOLE_RING_SIZE);
        if (n >= CONSOLE_RING_SIZE) {
                memcpy(r->data, data + n - CONSOLE_RING_SIZE, CONSOLE_RING_SIZE);
                r->start = 0;
                r->len = CONSOLE_RING_SIZE;
                return;
        }
        size_t end = (r->start + r->len) % CONSOLE_RING_SIZE;
        size_t first = n < CONSOLE_RING_SIZE - end ? n : CONSOLE_RING_SIZE - end;
        memcpy(r->data + end, data, first);
        memcpy(r->data, data + first, n - first);
        r->len += n;
        if (r->len > CONSOLE_RING_SIZE) {
                r->start = (r->start + r->len - CONSOLE_RING_SIZE) % CONSOLE_RING_SIZE;
                r->len = CONSOLE_RING_SIZE;
        }
}

size_t console_ring_take(struct console_ring *r, char *out, size_t max)
{
        size_t n = r->len < max ? r->len : max;
        size_t first = n < CONSOLE_RING_SIZE - r->start ? n : CONSOLE_RING_SIZE - r->start;
        if (n) {
                memcpy(out, r->data + r->start, first);
                memcpy(out + first, r->data, n - first);
        }
        r->start = (r->start + n) % CONSOLE_RING_SIZE;
        r->len -= n;
        if (r->len == 0)
                r->start = 0;
        return n;
}

void console_ring_free(struct console_ring *r)
{
        free(r->data);
        *r = (struct console_ring){0};
}

static void console_log_open(struct supervisor *sv)
{
        _cleanup_free_ char *path = paths_guest_console_log(sv->g.name);
        /* O_NOFOLLOW, as the guest's log (util/log.c): a planted symlink
         * would make us append the guest's output to whatever it names. */
        int fd =
                open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                log_warning("console log '%s': %s", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return;
        }
        sv->console_log_fd = fd;
        sv->console_log_size = (uint64_t)st.st_size;
        sv->console_logging = true;
}

static void console_log_close(struct supervisor *sv)
{
        if (sv->console_logging)
                close(sv->console_log_fd);
        sv->console_logging = false;
}

/* Keep what the guest printed, so a failed boot can be read afterwards;
 * bounded: a full file becomes NAME.console.log.1. */
static void console_log_write(struct supervisor *sv, const char *buf, size_t n)
{
        if (!sv->console_logging)
                return;
        if (sv->console_log_size + n > CONSOLE_LOG_MAX) {
                _cleanup_free_ char *path = paths_guest_console_log(sv->g.name);
                _cleanup_free_ char *old = xasprintf("%s.1", path);
                console_log_close(sv);
                if (rename(path, old) < 0)
                        log_warning("console log: cannot rename '%s': %s", path, strerror(errno));
                console_log_open(sv);
                if (!sv->console_logging)
                        return;
        }
        while (n > 0) {
                ssize_t w = write(sv->console_log_fd, buf, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        log_warning("console log: %s: stopped", strerror(errno));
                        console_log_close(sv);
                        return;
                }
                sv->console_log_size += (uint64_t)w;
                buf += w;
                n -= (size_t)w;
        }
}

/* A guest may write at most CONSOLE_RATE bytes a second to its console:
 * beyond that, the supervisor stops reading the pty until the window
 * ends (the guest's writes then block, as on a slow serial line). This
 * bounds the copying the supervisor does for a flooding guest, whose CPU
 * is charged to the supervisor's cgroup, not the guest's. */
#define CONSOLE_RATE        (1024 * 1024)
#define CONSOLE_WINDOW_USEC (100 * 1000ULL)

static int on_console_window(struct loop_source *s, void *data)
{
        struct supervisor *sv = data;
        sv->console_window_start = clock_now_us();
        sv->console_window_bytes = 0;
        if (sv->console_source)
                (void)loop_source_set_events(sv->console_source, EPOLLIN, NULL);
        return 0;
}

/* Count n bytes; true when the window's budget is spent (reading paused
 * until the window ends). */
static bool console_budget_spent(struct supervisor *sv, size_t n)
{
        uint64_t now = clock_now_us();
        if (now - sv->console_window_start >= CONSOLE_WINDOW_USEC) {
                sv->console_window_start = now;
                sv->console_window_bytes = 0;
        }
        sv->console_window_bytes += n;
        if (sv->console_window_bytes < CONSOLE_RATE * CONSOLE_WINDOW_USEC / 1000000 ||
            !sv->console_timer)
                return false;
        if (loop_source_set_events(sv->console_source, 0, NULL) < 0)
                return false;
        uint64_t left = sv->console_window_start + CONSOLE_WINDOW_USEC - now;
        (void)loop_timer_set(sv->console_timer, left ? left : 1, NULL);
        return true;
}

static int on_console(struct loop_source *s, int fd, uint32_t revents, void *data)
{
        struct supervisor *sv = data;
        char buf[4096];
        for (int i = 0; i < 16; i++) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n <= 0) {
                        /* EIO: no slave side open any more (the guest is
                         * gone or closed its console). Stop watching; a
                         * restart brings a new pty. */
                        log_debug("console closed: %s", n < 0 ? strerror(errno) : "EOF");
                        loop_source_freep(&sv->console_source);
                        return 0;
                }
                console_log_write(sv, buf, (size_t)n);
                if (sv->console_client) {
                        if (sv->console_ops->send_raw(sv->console_client, buf, (size_t)n) < 0)
                                console_ring_append(&sv->console_ring, buf, (size_t)n);
                } else {
                        console_ring_append(&sv->console_ring, buf, (size_t)n);
                }
                if (console_budget_spent(sv, (size_t)n))
                        return 0;
        }
        return 0;
}

int console_watch(struct supervisor *sv, struct lv_error **err)
{
        if (sv->g.console_fd < 0 || sv->console_source)
                return 0;
        /* A pty master the supervisor reads (LXC) gets EIO once no slave is
         * open (the guest closed its console): hold one, opened from the
         * master itself (TIOCGPTPEER), never by its path, which may name
         * another pty in our mount namespace. A slave the driver gave us
         * (QEMU's, from QEMU's own devpts) needs no hold: ENOTTY. */
        if (!sv->console_holding) {
                int fd = ioctl(sv->g.console_fd, TIOCGPTPEER,
                               O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
                if (fd >= 0) {
                        sv->console_hold_fd = fd;
                        sv->console_holding = true;
                } else if (errno != ENOTTY && errno != EINVAL) {
                        log_debug("console: cannot hold the pty's slave open: %s", strerror(errno));
                }
        }
        if (!sv->console_logging)
                console_log_open(sv);
        int fl = fcntl(sv->g.console_fd, F_GETFL);
        if (fl < 0 || fcntl(sv->g.console_fd, F_SETFL, fl | O_NONBLOCK) < 0)
                return lv_error_set(err, errno, "console: cannot make the pty non-blocking");
        int r;
        if (!sv->console_timer &&
            (r = loop_add_timer(sv->loop, 0, on_console_window, sv, &sv->console_timer, err)) < 0)
                return r;
        return loop_add_io(sv->loop, sv->g.console_fd, EPOLLIN, on_console, sv, &sv->console_source,
                           err);
}

void console_unwatch(struct supervisor *sv)
{
        /* Drain what the guest wrote last, so it is not lost. */
        if (sv->console_source)
                (void)on_console(sv->console_source, sv->g.console_fd, EPOLLIN, sv);
        loop_source_freep(&sv->console_source);
        loop_source_freep(&sv->console_timer);
        if (sv->console_holding)
                close(sv->console_hold_fd);
        sv->console_holding = false;
        console_log_close(sv);
}

int console_attach(struct supervisor *sv, void *cl, const struct console_peer_ops *ops, bool force,
                   struct lv_error **err)
{
        if (sv->g.console_fd < 0)
                return lv_error_setf(err, ENODEV, "guest '%s' has no console", sv->g.name);
        if (sv->console_client && sv->console_client != cl) {
                if (!force)
                        return lv_error_setf(err, EBUSY,
                                             "guest '%s': the console is in use by another client",
                                             sv->g.name);
                sv->console_ops->drop(sv->console_client, "console taken over by another client");
        }
        sv->console_client = cl;
        sv->console_ops = ops;
        return 0;
}

void console_replay(struct supervisor *sv)
{
        char buf[4096];
        size_t n;
        while (sv->console_client &&
               (n = console_ring_take(&sv->console_ring, buf, sizeof(buf))) > 0)
                if (sv->console_ops->send_raw(sv->console_client, buf, n) < 0)
                        break;
}

void console_detach(struct supervisor *sv, void *cl)
{
        if (sv->console_client == cl)
                sv->console_client = NULL;
}

void console_input(struct supervisor *sv, const char *data, size_t n)
{
        if (sv->g.console_fd < 0)
                return;
        while (n > 0) {
                ssize_t w = write(sv->g.console_fd, data, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        /* The guest does not read its console: drop input
                         * rather than stall everyone. */
                        log_debug("console input dropped (%zu bytes): %s", n, strerror(errno));
                        return;
                }
                data += w;
                n -= (size_t)w;
        }
}
