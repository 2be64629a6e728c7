#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""QEMU's live migration driven by hand over QMP: the floor litevirt is
measured against (bench/migrate.sh, bench/migrate-dirty.sh). It sends the
QMP sequence litevirt's supervisor sends (qemu/migration.c), nothing else:

  destination: migrate-set-capabilities events (+ postcopy-ram),
               migrate-incoming; cont once the state is loaded
  source:      migrate-set-capabilities events + pause-before-switchover;
               with --bandwidth query-migrate-parameters and
               migrate-set-parameters max-bandwidth (set back at the end);
               migrate-set-capabilities postcopy-ram / auto-converge;
               migrate; "stop" at --timeout (virsh's --timeout: suspend);
               migrate-continue at pre-switchover; query-migrate for the
               totals once completed.

The source's progress comes from its MIGRATION events (capability events),
not from polling, which would slow QEMU's own stream; only --postcopy asks
query-migrate every 200 ms for the pass count, as a user's `lvsh
domjobinfo` loop does before `lvsh migrate-postcopy` (migrate-start-postcopy
after the first pass).

  qmp-migrate.py boot SOCK
  qmp-migrate.py migrate SRC-SOCK DST-SOCK tcp:ADDR:PORT [--bandwidth MIB]
      [--auto-converge] [--postcopy] [--timeout S] [--abort-after S] [--json]
prints "TOTAL-MS QEMU-TOTAL-TIME DOWNTIME" (or, with --json, every figure);
--abort-after cancels a migration still running after S seconds (reported
as not converged, with the bytes sent by then). --end-source then ends the
source QEMU (quit, its monitor closing when it has exited), as litevirt and
libvirt do before their migrate command returns: a fourth figure, the total
until then."""
import argparse
import json
import select
import socket
import sys
import time


class QMP:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.buf = b""
        self.events = []
        self.read(None)  # greeting
        self.call("qmp_capabilities")

    def read(self, timeout):
        """One message, or None when nothing came within timeout (s)."""
        while b"\n" not in self.buf:
            if timeout is not None:
                r, _, _ = select.select([self.s], [], [], max(timeout, 0))
                if not r:
                    return None
            chunk = self.s.recv(65536)
            if not chunk:
                sys.exit("QMP closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.s.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self.read(None)
            if "event" in r:
                self.events.append(r)
                continue
            if "error" in r:
                sys.exit("%s: %s" % (cmd, r["error"]["desc"]))
            return r["return"]

    def end(self):
        """quit, and wait until QEMU has exited (its end of the socket closes)."""
        self.s.sendall(b'{"execute": "quit"}\n')
        try:
            while self.s.recv(65536):
                pass
        except ConnectionResetError:  # gone with unread input
            pass

    def status_event(self, timeout):
        """The next MIGRATION status, None when none came within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            while self.events:
                e = self.events.pop(0)
                if e.get("event") == "MIGRATION":
                    return e["data"]["status"]
            e = self.read(deadline - time.monotonic())
            if e is None:
                return None
            if "event" in e:
                self.events.append(e)


def connect(path):
    for _ in range(1000):
        try:
            return QMP(path)
        except OSError:
            time.sleep(0.01)
    sys.exit("no QMP at " + path)


def caps(q, **c):
    q.call("migrate-set-capabilities",
           capabilities=[{"capability": k.replace("_", "-"), "state": v} for k, v in c.items()])


def migrate(a):
    src, dst = connect(a.src), connect(a.dst)
    dcaps = {"events": True}
    if a.postcopy:
        dcaps.update(postcopy_ram=True, auto_converge=False)
    caps(dst, **dcaps)
    dst.call("migrate-incoming", uri="tcp:0.0.0.0:" + a.uri.rsplit(":", 1)[1])
    t0 = time.monotonic()
    caps(src, events=True, pause_before_switchover=True)
    bw_before = None
    if a.bandwidth:
        bw_before = src.call("query-migrate-parameters")["max-bandwidth"]
        src.call("migrate-set-parameters", **{"max-bandwidth": a.bandwidth << 20})
    if a.postcopy or a.auto_converge:
        caps(src, postcopy_ram=a.postcopy, auto_converge=a.auto_converge)
    src.call("migrate", uri=a.uri)
    suspend_at = t0 + a.timeout if a.timeout else None
    abort_at = t0 + a.abort_after if a.abort_after else None
    st, postcopy_started, switched, aborted = "active", False, False, None
    while st not in ("completed", "failed", "cancelled"):
        now = time.monotonic()
        wait = 3600.0
        for at in (suspend_at, abort_at):
            if at is not None:
                wait = min(wait, at - now)
        if a.postcopy and not postcopy_started:
            wait = min(wait, 0.2)
        e = src.status_event(max(wait, 0))
        if e is not None:
            st = e
            if st == "pre-switchover":
                src.call("migrate-continue", state="pre-switchover")
            elif st == "postcopy-active" and not switched:
                # the guest runs on the destination from here on
                dst_wait(dst, ("postcopy-active", "completed"))
                dst.call("cont")
                switched = True
            continue
        now = time.monotonic()
        if suspend_at is not None and now >= suspend_at:
            src.call("stop")
            suspend_at = None
        if abort_at is not None and now >= abort_at:
            aborted = src.call("query-migrate")
            src.call("migrate_cancel")
            abort_at = None
        if a.postcopy and not postcopy_started and aborted is None:
            info = src.call("query-migrate")
            if info.get("ram", {}).get("dirty-sync-count", 0) >= 2:
                src.call("migrate-start-postcopy")
                postcopy_started = True
    info = src.call("query-migrate")
    # QEMU sends "completed" before it fills in its totals: ask again
    for _ in range(200):
        if st != "completed" or info.get("total-time"):
            break
        time.sleep(0.005)
        info = src.call("query-migrate")
    if st == "completed" and not switched:
        dst_wait(dst, ("completed", "failed"))
        dst.call("cont")
    if bw_before is not None:  # as litevirt: back to what it was
        src.call("migrate-set-parameters", **{"max-bandwidth": bw_before})
    total = int((time.monotonic() - t0) * 1000)
    ended = None
    if a.end_source and st == "completed":
        src.end()
        ended = int((time.monotonic() - t0) * 1000)
    shown = aborted if aborted is not None else info
    ram = shown.get("ram", {})
    res = {"converged": st == "completed", "status": st, "total_ms": total,
           "qemu_total_ms": info.get("total-time", 0), "downtime_ms": info.get("downtime", 0),
           "bytes": ram.get("transferred", 0) + shown.get("disk", {}).get("transferred", 0),
           "passes": ram.get("dirty-sync-count", 0), "source_ended_ms": ended}
    if a.json:
        print(json.dumps(res))
    else:
        if st != "completed":
            sys.exit("migration " + st)
        print(res["total_ms"], res["qemu_total_ms"], res["downtime_ms"], *([ended] if ended else []))


def dst_wait(dst, states):
    while True:
        st = dst.status_event(3600)
        if st in states:
            return st
        if st in ("failed", "cancelled"):
            sys.exit("incoming migration " + st)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    b = sub.add_parser("boot")
    b.add_argument("sock")
    m = sub.add_parser("migrate")
    m.add_argument("src")
    m.add_argument("dst")
    m.add_argument("uri")
    m.add_argument("--bandwidth", type=int, default=0)
    m.add_argument("--auto-converge", action="store_true")
    m.add_argument("--postcopy", action="store_true")
    m.add_argument("--timeout", type=float, default=0)
    m.add_argument("--abort-after", type=float, default=0)
    m.add_argument("--json", action="store_true")
    m.add_argument("--end-source", action="store_true")
    a = p.parse_args()
    if a.mode == "boot":
        connect(a.sock).call("cont")
    else:
        migrate(a)


if __name__ == "__main__":  # (bench/migrate-flake.py imports QMP)
    main()
