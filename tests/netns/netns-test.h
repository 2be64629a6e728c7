/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* Shared by the netns tests: every test runs in network namespaces it
 * created itself (the process unshares its own at start, so even a crash
 * leaves nothing on the host), never in the host's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sched.h>
#include <sys/wait.h>

#include "netns/netns.h"

/* Skip (exit 77) unless root and able to make network namespaces; then
 * move the whole test process into a fresh one. */
static inline void nt_enter_private_netns(void)
{
        if (geteuid() != 0) {
                fprintf(stderr, "SKIP: needs root\n");
                exit(77);
        }
        if (unshare(CLONE_NEWNET) < 0) {
                fprintf(stderr, "SKIP: cannot create a network namespace: %m\n");
                exit(77);
        }
}

/* Assert a call succeeded, printing its error message when it did not. */
#define nt_ok(call)                                                                                \
        do {                                                                                       \
                struct lv_error *e_ = NULL;                                                        \
                struct lv_error **err = &e_;                                                       \
                int r_ = (call);                                                                   \
                if (r_ < 0)                                                                        \
                        fail_msg("%s: %d: %s", #call, r_, e_ ? e_->message : "?");                 \
                lv_error_free(e_);                                                                 \
        } while (0)

/* Assert a call failed with -errno_ and a message containing needle. */
#define nt_fails(call, errno_, needle)                                                             \
        do {                                                                                       \
                struct lv_error *e_ = NULL;                                                        \
                struct lv_error **err = &e_;                                                       \
                int r_ = (call);                                                                   \
                if (r_ != -(errno_) || !e_ || !strstr(e_->message, (needle)))                      \
                        fail_msg("%s: expected -%d '%s', got %d '%s'", #call, (errno_), (needle),  \
                                 r_, e_ ? e_->message : "");                                       \
                lv_error_free(e_);                                                                 \
        } while (0)

static inline size_t nt_link_count(struct netns_nl *nl)
{
        struct netns_link_info *v = NULL;
        size_t n = 0;
        nt_ok(netns_link_list(nl, &v, &n, err));
        free(v);
        return n;
}

/* Run a shell command (in the test's namespace) and return its first line
 * of output, trimmed, or "" — for checks from outside with `ip`. */
static inline char *nt_sh(const char *fmt, ...) _printf_(1, 2);
static inline char *nt_sh(const char *fmt, ...)
{
        char *cmd = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&cmd, fmt, ap) < 0)
                abort();
        va_end(ap);
        FILE *p = popen(cmd, "r");
        free(cmd);
        char buf[4096] = "";
        size_t n = p ? fread(buf, 1, sizeof(buf) - 1, p) : 0;
        buf[n] = '\0';
        if (p)
                pclose(p);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                buf[--n] = '\0';
        return xstrdup(buf);
}
