/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rtnetlink connection, and the only file that knows libnl's error
 * style: libnl folds kernel errors into a few NLE_* codes (ENETUNREACH
 * becomes "Unspecific failure") and drops the kernel's extended-ack text.
 * An error callback on each socket records both, so messages carry the
 * real reason. */
#include "netns/nl.h"

#include <ctype.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/socket.h>

#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Pick the extended-ack message (NLMSGERR_ATTR_MSG) out of an error
 * message, bounds-checked against the header's length. */
static void ext_ack_copy(const struct nlmsgerr *e, char *out, size_t size)
{
        const struct nlmsghdr *hdr = (const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
        out[0] = '\0';
        if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS))
                return;
        size_t off = NLMSG_HDRLEN + sizeof(*e);
        if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) {
                if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
                        return;
                off += NLMSG_ALIGN(e->msg.nlmsg_len) - sizeof(struct nlmsghdr);
        }
        size_t end = hdr->nlmsg_len;
        while (off + sizeof(struct nlattr) <= end) {
                const struct nlattr *a = (const struct nlattr *)((const char *)hdr + off);
                if (a->nla_len < sizeof(struct nlattr) || off + a->nla_len > end)
                        return;
                if ((a->nla_type & NLA_TYPE_MASK) == 1 /* NLMSGERR_ATTR_MSG */) {
                        size_t n = a->nla_len - NLA_HDRLEN;
                        const char *s = (const char *)a + NLA_HDRLEN;
                        n = strnlen(s, n);
                        if (n >= size)
                                n = size - 1;
                        memcpy(out, s, n);
                        out[n] = '\0';
                        /* the kernel ends some messages with a newline */
                        while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
                                out[--n] = '\0';
                        return;
                }
                off += NLA_ALIGN(a->nla_len);
        }
}

static int on_kernel_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
        struct netns_nl *nl = arg;
        nl->kernel_errno = e->error < 0 ? -e->error : e->error;
        ext_ack_copy(e, nl->kernel_msg, sizeof(nl->kernel_msg));
        return NL_STOP; /* libnl returns its translated code; we keep ours */
}

static int nle_to_errno(int r)
{
        switch (r < 0 ? -r : r) {
        case NLE_EXIST:
                return EEXIST;
        case NLE_NODEV:
                return ENODEV;
        case NLE_OBJ_NOTFOUND:
                return ENOENT;
        case NLE_NOADDR:
                return EADDRNOTAVAIL;
        case NLE_NOMEM:
                return ENOMEM;
        case NLE_PERM:
                return EPERM;
        case NLE_NOACCESS:
                return EACCES;
        case NLE_BUSY:
                return EBUSY;
        case NLE_RANGE:
                return ERANGE;
        case NLE_OPNOTSUPP:
                return EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
                return EAFNOSUPPORT;
        case NLE_AGAIN:
                return EAGAIN;
        case NLE_INTR:
                return EINTR;
        case NLE_MSGSIZE:
                return EMSGSIZE;
        case NLE_BAD_SOCK:
                return EBADF;
        case NLE_PROTO_MISMATCH:
                return EPROTONOSUPPORT;
        case NLE_DUMP_INTR:
                return EINTR;
        default:
                return EIO;
        }
}

void nl_error_clear(struct netns_nl *nl)
{
        if (!nl)
                return;
        nl->kernel_errno = 0;
        nl->kernel_msg[0] = '\0';
}

int nl_error_errno(struct netns_nl *nl, int r)
{
        if (nl && nl->kernel_errno)
                return -nl->kernel_errno;
        return -nle_to_errno(r);
}

int nl_error_set(struct netns_nl *nl, struct lv_error **err, int r, const char *fmt, ...)
{
        int code = -nl_error_errno(nl, r);
        char *ctx = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&ctx, fmt, ap) < 0)
                abort();
        va_end(ap);
        if (nl && nl->kernel_msg[0])
                lv_error_set(err, code, "%s (kernel: %s)", ctx, nl->kernel_msg);
        else
                lv_error_set(err, code, "%s", ctx);
        free(ctx);
        nl_error_clear(nl);
        return -code;
}

static int nl_connect_here(struct netns_nl **ret, struct lv_error **err)
{
        struct netns_nl *nl = xcalloc(1, sizeof(*nl));
        nl->sk = nl_socket_alloc();
        if (!nl->sk) {
                free(nl);
                return lv_error_set(err, ENOMEM, "allocating a netlink socket");
        }
        nl_socket_modify_err_cb(nl->sk, NL_CB_CUSTOM, on_kernel_error, nl);
        int r = nl_connect(nl->sk, NETLINK_ROUTE);
        if (r < 0) {
                r = nl_error_set(nl, err, r, "connecting to rtnetlink");
                netns_nl_close(nl);
                return r;
        }
        int fd = nl_socket_get_fd(nl->sk);
        int one = 1;
        (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
        (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
                r = lv_error_set(err, errno, "setting close-on-exec on the netlink socket");
                netns_nl_close(nl);
                return r;
        }
        *ret = nl;
        return 0;
}

int netns_nl_open(struct netns_nl **ret, struct lv_error **err)
{
        return nl_connect_here(ret, err);
}

int netns_nl_open_fd(int nsfd, struct netns_nl **ret, struct lv_error **err)
{
        _cleanup_close_ int self = netns_open_self(err);
        if (self < 0)
                return self;
        if (netns_same(self, nsfd))
                return nl_connect_here(ret, err);
        if (setns(nsfd, CLONE_NEWNET) < 0)
                return lv_error_set(err, errno, "entering network namespace");
        /* the socket stays bound to the namespace it was created in */
        int r = nl_connect_here(ret, err);
        if (setns(self, CLONE_NEWNET) < 0) {
                /* cannot happen short of a kernel bug; running on in the
                 * wrong namespace would be worse than stopping */
                fprintf(stderr, "litevirt: cannot return to own network namespace: %m\n");
                abort();
        }
        return r;
}

void netns_nl_close(struct netns_nl *nl)
{
        if (!nl)
                return;
        if (nl->sk)
                nl_socket_free(nl->sk);
        free(nl);
}

/* Here, below every file that names links: each request by name starts
 * with it. */
int netns_ifname_check(const char *name, struct lv_error **err)
{
        if (!name || !*name)
                return lv_error_setf(err, EINVAL, "empty interface name");
        size_t n = strlen(name);
        if (n >= IFNAMSIZ)
                return lv_error_setf(err, EINVAL,
                                     "interface name '%s' is too long (%zu bytes, at most %d)",
                                     name, n, IFNAMSIZ - 1);
        if (streq(name, ".") || streq(name, ".."))
                return lv_error_setf(err, EINVAL, "invalid interface name '%s'", name);
        for (const char *p = name; *p; p++)
                if (*p == '/' || *p == ':' || *p == '%' || isspace((unsigned char)*p) ||
                    !isprint((unsigned char)*p))
                        return lv_error_setf(err, EINVAL,
                                             "invalid interface name '%s': character '%c' "
                                             "not allowed",
                                             name, isprint((unsigned char)*p) ? *p : '?');
        return 0;
}

int nl_link_get(struct netns_nl *nl, const char *name, struct rtnl_link **ret,
                struct lv_error **err)
{
        int r = netns_ifname_check(name, err);
        if (r < 0)
                return r;
        nl_error_clear(nl);
        r = rtnl_link_get_kernel(nl->sk, 0, name, ret);
        if (r < 0) {
                int e = nl_error_errno(nl, r);
                if (e == -ENODEV || e == -ENOENT) {
                        nl_error_clear(nl);
                        return lv_error_setf(err, ENODEV, "link '%s' does not exist", name);
                }
                return nl_error_set(nl, err, r, "looking up link '%s'", name);
        }
        return 0;
}

int nl_link_change(struct netns_nl *nl, const char *name, struct rtnl_link *changes,
                   const char *what, struct lv_error **err)
{
        _cleanup_link_ struct rtnl_link *orig = NULL;
        int r = nl_link_get(nl, name, &orig, err);
        if (r < 0)
                return r;
        nl_error_clear(nl);
        r = rtnl_link_change(nl->sk, orig, changes, 0);
        if (r < 0)
                return nl_error_set(nl, err, r, "%s of link '%s'", what, name);
        return 0;
}
