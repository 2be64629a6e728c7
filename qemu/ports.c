/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Port leases: flock'd lock files plus a bind() check. See qemu/ports.h. */
#include "qemu/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>

#include "util/fileio.h"
#include "util/paths.h"

char *ports_dir(void)
{
        return xasprintf("%s/ports", paths_rundir());
}

/* 0: the port can be bound on addr (or on any address), -EADDRINUSE: it
 * cannot, other negative errno: the check itself failed. */
static int port_bind_check(int port, const char *addr, struct lv_error **err)
{
        struct sockaddr_storage ss = {0};
        socklen_t len;
        int family;
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        for (int pass = 0; pass < 2; pass++) {
                memset(&ss, 0, sizeof(ss));
                if (addr && *addr) {
                        if (pass == 1)
                                break;
                        const char *a = addr;
                        char buf[64];
                        if (a[0] == '[') {
                                snprintf(buf, sizeof(buf), "%s", a + 1);
                                char *e = strchr(buf, ']');
                                if (e)
                                        *e = '\0';
                                a = buf;
                        }
                        if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
                                family = AF_INET;
                        } else if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
                                family = AF_INET6;
                        } else {
                                return lv_error_setf(err, EINVAL,
                                                     "listen address '%s' is not an IP address",
                                                     addr);
                        }
                } else {
                        /* any: check IPv4 and IPv6 wildcards */
                        family = pass == 0 ? AF_INET : AF_INET6;
                        if (family == AF_INET)
                                s4->sin_addr.s_addr = htonl(INADDR_ANY);
                        else
                                s6->sin6_addr = in6addr_any;
                }
                if (family == AF_INET) {
                        s4->sin_family = AF_INET;
                        s4->sin_port = htons((uint16_t)port);
                        len = sizeof(*s4);
                } else {
                        s6->sin6_family = AF_INET6;
                        s6->sin6_port = htons((uint16_t)port);
                        len = sizeof(*s6);
                }
                _cleanup_close_ int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0) {
                        if (family == AF_INET6 && errno == EAFNOSUPPORT)
                                continue; /* no IPv6 on this host */
                        return lv_error_set(err, errno, "port %d: socket", port);
                }
                int one = 1;
                /* QEMU listens with SO_REUSEADDR: a port in TIME_WAIT is free */
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                if (family == AF_INET6)
                        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
                if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
                        if (errno == EADDRINUSE)
                                return -EADDRINUSE;
                        if (errno == EADDRNOTAVAIL && family == AF_INET6 && !(addr && *addr))
                                continue;
                        return lv_error_set(err, errno, "port %d: bind check on '%s'", port,
                                            addr && *addr ? addr : "*");
                }
        }
        return 0;
}

/* 1: taken (*ret_fd holds the lock); 0: busy (locked by another holder,
 * or busy() says so); <0: error */
static int lease_try(const char *dir, unsigned long n, lease_busy_fn busy, const void *arg,
                     int *ret_fd, struct lv_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/%lu.lock", dir, n);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return lv_error_set(err, errno, "lock '%s'", path);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK)
                        return 0;
                return lv_error_set(err, errno, "lock '%s': flock", path);
        }
        if (busy) {
                int r = busy(n, arg, err);
                if (r < 0)
                        return r;
                if (r > 0)
                        return 0; /* closing fd drops the lock */
        }
        /* who holds it, for people looking at the directory: fixed width,
         * written over the last holder's without ftruncate (a truncate on
         * ext4 frees the block in a journal transaction: 9 ms seen in a
         * perf trace of a QEMU start) */
        char buf[32];
        int len = snprintf(buf, sizeof(buf), "%-10d\n", (int)getpid());
        if (pwrite(fd, buf, (size_t)len, 0) < 0) {
                /* informational only */
        }
        *ret_fd = TAKE_FD(fd);
        return 1;
}

int lease_reserve(const char *dir, const char *what, unsigned long min, unsigned long max,
                  unsigned long first, lease_busy_fn busy, const void *arg, unsigned long *ret_n,
                  int *ret_fd, struct lv_error **err)
{
        int r = mkdir_p(dir, 0755, err);
        if (r < 0)
                return lv_error_prefix(err, "%s", what);
        if (first < min || first > max)
                first = min;
        /* max - min + 1 numbers, from first on, wrapping after max */
        for (unsigned long i = 0, n = first; i <= max - min; i++, n = n == max ? min : n + 1) {
                r = lease_try(dir, n, busy, arg, ret_fd, err);
                if (r < 0)
                        return lv_error_prefix(err, "%s", what);
                if (r > 0) {
                        *ret_n = n;
                        return 0;
                }
        }
        return lv_error_setf(err, EADDRINUSE, "no free %s in the range %lu-%lu", what, min, max);
}

int lease_reserve_exact(const char *dir, const char *what, unsigned long n, lease_busy_fn busy,
                        const void *arg, int *ret_fd, struct lv_error **err)
{
        int r = mkdir_p(dir, 0755, err);
        if (r < 0)
                return lv_error_prefix(err, "%s", what);
        r = lease_try(dir, n, busy, arg, ret_fd, err);
        if (r < 0)
                return lv_error_prefix(err, "%s %lu", what, n);
        if (r == 0)
                return lv_error_setf(err, EADDRINUSE, "%s %lu is already in use", what, n);
        return 0;
}

static int port_busy(unsigned long port, const void *addr, struct lv_error **err)
{
        int r = port_bind_check((int)port, addr, err);
        return r == -EADDRINUSE ? 1 : r;
}

int ports_reserve(const char *dir, const char *what, int min, int max, const char *addr,
                  struct port_lease *ret, struct lv_error **err)
{
        if (min < 1 || max > 65535 || min > max)
                return lv_error_setf(err, EINVAL, "%s port range %d-%d is not valid", what, min,
                                     max);
        _cleanup_free_ char *w = xasprintf("%s port", what);
        unsigned long port;
        int r = lease_reserve(dir, w, (unsigned long)min, (unsigned long)max, (unsigned long)min,
                              port_busy, addr, &port, &ret->lock_fd, err);
        if (r < 0)
                return r;
        ret->port = (int)port;
        return 0;
}

int ports_reserve_exact(const char *dir, const char *what, int port, const char *addr,
                        bool check_bind, struct port_lease *ret, struct lv_error **err)
{
        if (port < 1 || port > 65535)
                return lv_error_setf(err, EINVAL, "%s port %d is not valid", what, port);
        _cleanup_free_ char *w = xasprintf("%s port", what);
        int r = lease_reserve_exact(dir, w, (unsigned long)port, check_bind ? port_busy : NULL,
                                    addr, &ret->lock_fd, err);
        if (r < 0)
                return r;
        ret->port = port;
        return 0;
}

void ports_release(struct port_lease *lease)
{
        if (lease->lock_fd >= 0) {
                close(lease->lock_fd);
                lease->lock_fd = -1;
        }
        lease->port = -1;
}
