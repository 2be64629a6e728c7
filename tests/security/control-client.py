#!/usr/bin/env python3
# Raw varlink clients for the control-socket attacks (tests/security).
#   call SOCK MESSAGE          send one raw message, print the reply
#   hold SOCK N [METHOD]       open N connections (calling METHOD with
#                              "more", e.g. io.litevirt.Guest.Events), print
#                              "ready K" with K connections answered, then
#                              hold them until stdin closes
#   pipeline SOCK N CALLS      N clients each send CALLS Info calls without
#                              reading; "sent"; wait for a line on stdin;
#                              read every reply; "replies K"; close all
import os
import select
import socket
import sys


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def read_message(s, timeout=10):
    buf = b""
    while not buf.endswith(b"\0"):
        r, _, _ = select.select([s], [], [], timeout)
        if not r:
            return None
        chunk = s.recv(65536)
        if not chunk:
            return buf.decode(errors="replace") or None
        buf += chunk
    return buf[:-1].decode(errors="replace")


def cmd_call(path, message):
    s = connect(path)
    s.sendall(message.encode() + b"\0")
    print(read_message(s))


def cmd_hold(path, n, method=None):
    conns, answered = [], 0
    for _ in range(n):
        try:
            s = connect(path)
        except OSError as e:
            print("connect: %s" % e, file=sys.stderr)
            continue
        conns.append(s)
        if method:
            s.sendall(('{"method":"%s","more":true}' % method).encode() + b"\0")
            reply = read_message(s, 5)
            if reply and '"error"' not in reply:
                answered += 1
        else:
            answered += 1
    print("ready %d" % answered, flush=True)
    sys.stdin.read()


def cmd_pipeline(path, n, calls):
    msg = b'{"method":"io.litevirt.Guest.Info"}\0'
    conns = [connect(path) for _ in range(n)]
    pending = {s: msg * calls for s in conns}
    for s in conns:
        s.setblocking(False)
    # Send as much as the supervisor takes (it stops reading a client
    # whose replies are not read: the rest stays here).
    while pending:
        _, w, _ = select.select([], list(pending), [], 2)
        if not w:
            break
        for s in w:
            try:
                k = s.send(pending[s])
            except BlockingIOError:
                continue
            pending[s] = pending[s][k:]
            if not pending[s]:
                del pending[s]
    print("sent", flush=True)
    sys.stdin.readline()
    replies = 0
    want = {s: calls for s in conns}
    while want:
        r, w, _ = select.select(list(want), [s for s in pending], [], 20)
        if not r and not w:
            break
        for s in w:
            try:
                k = s.send(pending[s])
                pending[s] = pending[s][k:]
                if not pending[s]:
                    del pending[s]
            except BlockingIOError:
                pass
        for s in r:
            data = s.recv(1 << 20)
            if not data:
                del want[s]
                continue
            k = data.count(b"\0")
            replies += k
            want[s] -= k
            if want[s] <= 0:
                del want[s]
    print("replies %d" % replies, flush=True)
    for s in conns:
        s.close()


if __name__ == "__main__":
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "call":
        cmd_call(path, sys.argv[3])
    elif cmd == "hold":
        cmd_hold(path, int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
    elif cmd == "pipeline":
        cmd_pipeline(path, int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("unknown command " + cmd)
