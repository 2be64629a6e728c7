/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: QMP replies. The input is
 *  1. parsed line by line with qmp_message_parse (every refusal carries a
 *     message; an accepted message has the fields its kind promises), and
 *  2. fed as QEMU's side of a monitor connection to the client: greeting,
 *     capabilities and one command, ending at the end of the input. The
 *     client must fail or succeed, never hang or crash. */
#include <stdint.h>
#include <sys/socket.h>

#include "qemu/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_lines(const char *buf, size_t size)
{
        const char *p = buf, *end = buf + size;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
                struct qmp_message m = {0};
                struct lv_error *err = NULL;
                if (qmp_message_parse(p, len, &m, &err) < 0) {
                        if (!err || !err->message || !*err->message || m.root)
                                abort();
                        lv_error_free(err);
                } else {
                        if (!m.root || err)
                                abort();
                        if (m.kind == QMP_MSG_EVENT && (!m.event || !*m.event))
                                abort();
                        if (m.kind == QMP_MSG_ERROR && (!m.error_class || !m.error_desc))
                                abort();
                        if ((m.kind == QMP_MSG_RETURN || m.kind == QMP_MSG_GREETING) && !m.ret)
                                abort();
                        qmp_message_clear(&m);
                }
                p += len + 1;
        }
}

static void feed_client(const uint8_t *data, size_t size)
{
        /* what fits in a socket buffer without a writer thread */
        if (size > 100000)
                return;
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                abort();
        int sndbuf = 262144;
        setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        if (size && write(sv[1], data, size) != (ssize_t)size)
                abort();
        shutdown(sv[1], SHUT_WR); /* end of QEMU's output: EOF, not a timeout */
        struct qmp *q = NULL;
        struct lv_error *err = NULL;
        if (qmp_open_fd(sv[0], "fuzz", 5000, &q, &err) == 0) {
                lv_error_free(err);
                err = NULL;
                (void)qmp_call(q, "query-status", NULL, 5000, NULL, &err);
                qmp_free(q);
        } else if (!err || !err->message) {
                abort();
        }
        lv_error_free(err);
        close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        parse_lines((const char *)data, size);
        feed_client(data, size);
        return 0;
}
