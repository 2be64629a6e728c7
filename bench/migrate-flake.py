#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Repeat live migrations of the test guest between two QEMUs on loopback
(QEMU driven by hand with litevirt's QMP sequence) and count how often the
guest breaks on the destination: an oops, panic, BUG, RCU stall or soft
lockup on its console, or its counter not going on.

  migrate-flake.py GUEST-DIR N [options]

GUEST-DIR holds vmlinuz and initrd.gz (tests/qemu/build-guest.sh). Each
migration goes from the running QEMU to a new one started with
`-incoming defer`; after it completes (and `cont` on the destination, as
litevirt's Finish) the guest must count on for --watch seconds with a
clean console, then the source QEMU quits and the destination is the next
source. A broken guest is recorded and a fresh one booted. With --compare
the guest's RAM of the stopped source and of the loaded destination, before
it runs, are compared page by page (QMP pmemsave): any differing page is a
write the migration lost. Prints one line per migration and the summaries
"failures F / migrations N" and "memory differs after D / N migrations".
Every QEMU it starts is killed on exit (by pid).

The command line is litevirt's for the test guest (lvsh domxml-to-native):
`--mem 128` as litevirt gave it before, `--mem 131080k` as it gives a TCG
guest now (docs/migration.md, "TCG guests and QEMU before 9.0"), e.g.

  migrate-flake.py BUILD/test-guest 10 --compare --watch 3 --settle 2 [--mem 131080k]"""
import argparse
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BAD = re.compile(r"(BUG:|Oops|Kernel panic|list_del corruption|list_add corruption|"
                 r"rcu: INFO|self-detected stall|detected stalls|soft lockup|"
                 r"general protection|Call Trace|invalid opcode|Fatal exception)")


# the QMP client of bench/lib/qmp-migrate.py (QMP, connect)
_spec = importlib.util.spec_from_file_location(
    "qmp_migrate", os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib", "qmp-migrate.py"))
qmp_migrate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(qmp_migrate)


class Guest:
    n = 0

    def __init__(self, opts, tmp, incoming_port=None):
        Guest.n += 1
        self.tag = "q%d" % Guest.n
        self.console = os.path.join(tmp, self.tag + ".con")
        self.sock = os.path.join(tmp, self.tag + ".qmp")
        accel = "tcg" + (",thread=%s" % opts.thread if opts.thread else "")
        if opts.tb_size:
            accel += ",tb-size=%d" % opts.tb_size
        # litevirt's command line for the test guest (lvsh domxml-to-native)
        cmd = ["qemu-system-x86_64", "-name", "guest=mflake,debug-threads=on", "-S",
               "-machine", "pc,usb=off,dump-guest-core=off", "-accel", accel,
               "-cpu", opts.cpu, "-m", opts.mem, "-overcommit", "mem-lock=off",
               "-smp", "%d,sockets=1,cores=%d,threads=1" % (opts.vcpus, opts.vcpus),
               "-display", "none", "-no-user-config", "-nodefaults", "-rtc", "base=utc",
               "-no-shutdown", "-boot", "strict=on"] + ([] if opts.acpi else ["-no-acpi"]) + [
               "-kernel", os.path.join(opts.guest, "vmlinuz"),
               "-initrd", os.path.join(opts.guest, "initrd.gz"),
               "-append", "console=ttyS0 quiet " + opts.append,
               "-serial", "file:" + self.console,
               "-qmp", "unix:%s,server=on,wait=off" % self.sock]
        if opts.icount:
            cmd += ["-icount", opts.icount]
        if incoming_port:
            cmd += ["-incoming", "defer"]
        cmd += opts.extra
        pre = ["taskset", "-c", opts.pin] if opts.pin else []
        self.p = subprocess.Popen(pre + cmd, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=open(self.console + ".err", "w"))
        try:
            self.q = qmp_migrate.connect(self.sock)
        except SystemExit:
            self.p.kill()
            self.p.wait()
            raise

    def text(self):
        try:
            with open(self.console, "rb") as f:
                return f.read().decode("latin-1")
        except OSError:
            return ""

    def counter(self):
        c = re.findall(r"LV-COUNTER (\d+)\r?\n", self.text())
        return int(c[-1]) if c else None

    def kill(self):
        self.q.s.close()
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def wait(pred, secs, step=0.1):
    deadline = time.time() + secs
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def mem_bytes(opts):
    m = opts.mem.lower()
    if m.endswith("k"):
        return int(m[:-1]) << 10
    return int(m.rstrip("m")) << 20


def compare_memory(src, dst, opts, tmp):
    """pages (4 KiB) of guest RAM that differ between the stopped source and
    the loaded, not yet resumed destination"""
    size = mem_bytes(opts)
    a, b = os.path.join(tmp, "mem-src"), os.path.join(tmp, "mem-dst")
    src.q.call("pmemsave", val=0, size=size, filename=a)
    dst.q.call("pmemsave", val=0, size=size, filename=b)
    n = 0
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            pa, pb = fa.read(4096), fb.read(4096)
            if not pa:
                break
            n += pa != pb
    os.unlink(a)
    os.unlink(b)
    return n


def migrate(src, opts, tmp):
    """src -> a new QEMU; returns (dest, status, figures)"""
    port = free_port()
    dst = Guest(opts, tmp, incoming_port=port)
    caps = [{"capability": "events", "state": True},
            {"capability": "pause-before-switchover", "state": opts.pause_before_switchover}]
    dst.q.call("migrate-set-capabilities", capabilities=[caps[0]] +
              ([{"capability": "postcopy-ram", "state": True}] if opts.postcopy else []))
    dst.q.call("migrate-incoming", uri="tcp:127.0.0.1:%d" % port)
    src.q.call("migrate-set-capabilities", capabilities=caps + [
        {"capability": "auto-converge", "state": opts.auto_converge},
        {"capability": "postcopy-ram", "state": opts.postcopy},
        {"capability": "xbzrle", "state": opts.xbzrle}])
    params = {"downtime-limit": opts.downtime}
    if opts.bandwidth:
        params["max-bandwidth"] = opts.bandwidth << 20
    src.q.call("migrate-set-parameters", **params)
    src.q.call("migrate", uri="tcp:127.0.0.1:%d" % port)
    t0 = time.time()
    started_pc = False
    while True:
        info = src.q.call("query-migrate")
        st = info.get("status")
        if st == "pre-switchover":
            src.q.call("migrate-continue", state="pre-switchover")
        elif st in ("completed", "failed", "cancelled"):
            break
        elif opts.postcopy and st == "active" and not started_pc and \
                info.get("ram", {}).get("dirty-sync-count", 0) >= 2:
            src.q.call("migrate-start-postcopy")
            started_pc = True
        elif st == "postcopy-active" and opts.postcopy:
            pass
        if time.time() - t0 > opts.timeout:
            src.q.call("migrate_cancel")
        time.sleep(0.05)
    if st != "completed":
        return dst, st, info
    # litevirt's Finish: cont once the destination has loaded the stream
    def loaded():
        s = dst.q.call("query-status")["status"]
        return s if s in ("paused", "running", "postmigrate") else None
    wait(loaded, 60)
    if opts.compare and not opts.postcopy:
        # both stopped: the source's memory is the truth, the destination's
        # must be the same page for page
        info["differing-pages"] = compare_memory(src, dst, opts, tmp)
    if dst.q.call("query-status")["status"] != "running":
        dst.q.call("cont")
    return dst, st, info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("guest")
    ap.add_argument("n", type=int)
    ap.add_argument("--append", default="lv_dirty=16")
    ap.add_argument("--mem", default="128", help="QEMU's -m (e.g. 131080k)")
    ap.add_argument("--vcpus", type=int, default=1)
    ap.add_argument("--thread", choices=["single", "multi"])
    ap.add_argument("--tb-size", type=int)
    ap.add_argument("--icount")
    ap.add_argument("--cpu", default="qemu64")
    ap.add_argument("--acpi", action="store_true", help="no -no-acpi (<features><acpi/>)")
    ap.add_argument("--pin", help="taskset CPU list for the QEMUs")
    ap.add_argument("--auto-converge", action="store_true")
    ap.add_argument("--postcopy", action="store_true")
    ap.add_argument("--xbzrle", action="store_true")
    ap.add_argument("--no-pause-before-switchover", dest="pause_before_switchover",
                    action="store_false")
    ap.add_argument("--bandwidth", type=int, default=0, help="MiB/s (0: QEMU's default)")
    ap.add_argument("--downtime", type=int, default=300)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--compare", action="store_true",
                    help="compare the guest's RAM on both sides before the destination runs")
    ap.add_argument("--watch", type=int, default=8, help="seconds the guest must count on")
    ap.add_argument("--settle", type=int, default=3, help="seconds between migrations")
    ap.add_argument("extra", nargs="*", help="more QEMU arguments (after --)")
    opts = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lv-mflake.")
    guests = []
    fails = migs = aborted = 0
    diffs = []

    boot_fails = []

    def boot():
        while True:
            g = Guest(opts, tmp)
            guests.append(g)
            g.q.call("cont")
            if wait(lambda: g.counter(), 300, 0.5):
                return g
            t = g.text()
            boot_fails.append(t)
            print("boot failed: " + t[-300:].replace("\r", ""), flush=True)
            g.kill()
            guests.remove(g)
            if len(boot_fails) >= 5:
                raise RuntimeError("5 boots failed")

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        src = boot()
        while migs < opts.n:
            time.sleep(opts.settle)
            before = src.counter()
            t0 = time.time()
            dst, st, info = migrate(src, opts, tmp)
            guests.append(dst)
            el = time.time() - t0
            ram = info.get("ram", {})
            fig = "%s %.1fs downtime=%sms passes=%s throttle=%s" % (
                st, el, info.get("downtime"), ram.get("dirty-sync-count"),
                info.get("cpu-throttle-percentage", 0))
            if "differing-pages" in info:
                fig += " differing-pages=%d" % info["differing-pages"]
                diffs.append(info["differing-pages"])
            if st != "completed":
                aborted += 1
                print("abort  %s" % fig, flush=True)
                dst.kill()
                guests.remove(dst)
                continue
            migs += 1
            # the guest counts on (3 more within 60 s: under load its
            # seconds are slow), then --watch seconds more with a clean console
            ok = wait(lambda: (dst.counter() or 0) >= (before or 0) + 3, 60, 0.5)
            if ok:
                time.sleep(opts.watch)
                c = dst.counter()
                ok = wait(lambda: (dst.counter() or 0) > c, 30, 0.5)
            bad = BAD.search(dst.text())
            src.kill()
            guests.remove(src)
            if ok and not bad:
                print("ok     #%d %s counter %s->%s" % (migs, fig, before, dst.counter()), flush=True)
                src = dst
                continue
            fails += 1
            t = dst.text()
            i = bad.start() if bad else max(0, len(t) - 600)
            print("FAIL   #%d %s counter %s->%s: %s" % (
                migs, fig, before, dst.counter(),
                t[max(0, i - 200):i + 1200].replace("\r", "")), flush=True)
            shutil.copy(dst.console, os.path.join(tmp, "fail%d.con" % migs))
            dst.kill()
            guests.remove(dst)
            src = boot()
    except KeyboardInterrupt:
        pass
    finally:
        for g in guests:
            g.kill()
        print("failures %d / migrations %d (aborted %d, boot failures %d) [%s]" % (
            fails, migs, aborted, len(boot_fails), tmp), flush=True)
        if diffs:
            print("memory differs after %d / %d migrations (pages: %s)" % (
                sum(1 for d in diffs if d), len(diffs), " ".join(map(str, diffs))), flush=True)


if __name__ == "__main__":
    main()
