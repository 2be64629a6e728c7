#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The measuring half of bench/qemu-start.sh (run it through that script: it
# sets up the namespaces, libvirtd, the guests and the environment read
# here). Prints a markdown table; asserts nothing about time.
import json, os, shlex, socket, statistics, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cells import cell  # noqa: E402

B = os.environ["LV_BUILD"]
T = os.environ["T"]
N = int(os.environ["N"])
GUESTS = [int(x) for x in os.environ["GUESTS"].split()]
URI = os.environ["LV_URI"]
LIBVIRT = os.environ["LIBVIRT_OK"] == "1"
LVSH = os.path.join(B, "lvsh")
DEVNULL = subprocess.DEVNULL


def ms(t):
    return t * 1000.0


def run(args, **kw):
    r = subprocess.run(args, stdout=DEVNULL, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(" ".join(args) + ": " + r.stderr.strip())


def smaps(pid):
    pss = uss = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, v = line.split(":", 1)[0], line.split()[1] if ":" in line else "0"
            if k == "Pss":
                pss = int(v)
            elif k in ("Private_Clean", "Private_Dirty"):
                uss += int(v)
    return pss, uss


def qemu_rss(name):
    """RSS (KiB) of the guest's QEMU, named by its qemu.json"""
    pid = json.load(open(f"{T}/run/{name}/qemu.json"))["pid"]
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_gone(path, timeout=3.0, step=0.01):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if not os.path.exists(path):
            return
        time.sleep(step)


def lv_start(name, lvsh=LVSH):
    t0 = time.monotonic()
    run([lvsh, "start", name])
    return ms(time.monotonic() - t0)


def lv_destroy(name, lvsh=LVSH):
    """`lvsh destroy`: (returned, supervisor gone: its run dir removed), ms"""
    t0 = time.monotonic()
    run([lvsh, "destroy", name])
    t1 = time.monotonic()
    wait_gone(f"{T}/run/{name}")
    return ms(t1 - t0), ms(time.monotonic() - t0)


def lv_cmdline(name):
    log = open(f"{T}/log/{name}.qemu.log").read().split("--- starting:\n")[-1]
    lines = []
    for line in log.splitlines():
        lines.append(line)
        if not line.endswith("\\"):
            break
    return shlex.split("\n".join(lines).replace("\\\n", " "))


def qmp_line(f):
    while True:
        line = f.readline()
        if not line:
            raise RuntimeError("QMP closed")
        msg = json.loads(line)
        if "event" not in msg:
            return msg


def hand_run(args):
    sock = T + "/hand.sock"
    if os.path.exists(sock):
        os.unlink(sock)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock)
    srv.listen(1)
    fd = srv.fileno()
    # another VNC display than litevirt's guest, whose QEMU may be exiting
    args = [a.replace("fd=3,", f"fd={fd},").replace("127.0.0.1:0", "127.0.0.1:9")
            for a in args]
    t0 = time.monotonic()
    p = subprocess.Popen(args, pass_fds=(fd,), stdout=DEVNULL,
                         stderr=open(T + "/hand.log", "a"))
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(30)
    c.connect(sock)
    srv.close()
    f = c.makefile("rw")
    try:
        qmp_line(f)
        f.write('{"execute":"qmp_capabilities"}\n'); f.flush(); qmp_line(f)
        t1 = time.monotonic()
        f.write('{"execute":"cont"}\n'); f.flush(); qmp_line(f)
        t2 = time.monotonic()
    except (RuntimeError, OSError):
        p.kill(); p.wait()
        sys.exit("QEMU by hand failed: " + open(T + "/hand.log").read()[-2000:]
                 + "\nargs: " + " ".join(args))
    # the floor of a destroy: SIGKILL and the exit reaped
    t3 = time.monotonic()
    p.kill(); p.wait()
    t4 = time.monotonic()
    c.close()
    return ms(t1 - t0), ms(t2 - t0), ms(t4 - t3)


def virsh(*a):
    run(["virsh", "-q", "-c", URI] + list(a))


def lvirt_start(name):
    t0 = time.monotonic()
    virsh("start", name)
    return ms(time.monotonic() - t0)


def lvirt_destroy(name):
    t0 = time.monotonic()
    virsh("destroy", name)
    return ms(time.monotonic() - t0)


# LV_QB_ALSO="label=BUILD ...": more litevirt builds (e.g. the commits of
# a change one by one) in the same interleaved rounds, each with its ratio
ALSO = [tuple(x.split("=", 1)) for x in os.environ.get("LV_QB_ALSO", "").split()]
LVS = [("litevirt", LVSH)] + [(lbl, os.path.join(d, "lvsh")) for lbl, d in ALSO]
res = {k: [] for k in ("hand_qmp", "hand_run", "hand_kill", "libvirt", "libvirt_destroy")}
for lbl, _ in LVS:
    res["lv:" + lbl] = []
    res["lvd:" + lbl] = []
    res["lvg:" + lbl] = []
lv_start("qb0")
args = lv_cmdline("qb0")
lv_destroy("qb0")
with open(T + "/hand-args.txt", "w") as f:
    f.write(" ".join(shlex.quote(a) for a in args) + "\n")
libvirt_err = None
# one warm-up of each, not counted
hand_run(args)
for _, lvsh in LVS[1:]:
    lv_start("qb0", lvsh); lv_destroy("qb0", lvsh)
if LIBVIRT:
    try:
        lvirt_start("qb0"); lvirt_destroy("qb0")
    except RuntimeError as e:
        libvirt_err = str(e)
        LIBVIRT = False
order0 = ["hand"] + ["lv:" + lbl for lbl, _ in LVS] + ["libvirt"]
for r in range(N):
    k = r % len(order0)
    order = order0[k:] + order0[:k]
    for who in order:
        if who == "hand":
            a, b, c = hand_run(args)
            res["hand_qmp"].append(a); res["hand_run"].append(b); res["hand_kill"].append(c)
        elif who.startswith("lv:"):
            lvsh = dict(LVS)[who[3:]]
            res[who].append(lv_start("qb0", lvsh))
            d, g = lv_destroy("qb0", lvsh)
            res["lvd:" + who[3:]].append(d); res["lvg:" + who[3:]].append(g)
        elif LIBVIRT:
            res["libvirt"].append(lvirt_start("qb0"))
            res["libvirt_destroy"].append(lvirt_destroy("qb0"))
            time.sleep(0.2)


med = statistics.median
hand = med(res["hand_run"])
print(f"\n| start of the 128 MiB TCG test guest, {N} rounds interleaved | median ms (min–max) | / by hand (running) |")
print("|---|---|---|")
print(f"| QEMU by hand (litevirt's command line): spawn → QMP ready (qmp_capabilities answered) | {cell(res['hand_qmp'])} | |")
print(f"| QEMU by hand: spawn → running (`cont` answered) | {cell(res['hand_run'])} | 1.00 |")
for lbl, _ in LVS:
    name = "litevirt" if lbl == "litevirt" else f"litevirt {lbl}"
    print(f"| {name}: `lvsh start` → running | {cell(res['lv:' + lbl])} | {med(res['lv:' + lbl]) / hand:.2f} |")
if res["libvirt"]:
    print(f"| libvirt: `virsh -c qemu:///system start` → running | {cell(res['libvirt'])} | {med(res['libvirt']) / hand:.2f} |")
    print(f"| ratio litevirt / libvirt | {med(res['lv:litevirt']) / med(res['libvirt']):.2f} | |")
if libvirt_err:
    print(f"\nlibvirt failed: {libvirt_err}")
ratio = med(res["lv:litevirt"]) / hand
print(f"\ntarget: `lvsh start` → running ≤ 1.10× QEMU by hand: measured {ratio:.2f}× "
      f"({med(res['lv:litevirt']):.0f} / {hand:.0f} ms): {'met' if ratio <= 1.10 else 'missed'}")

print(f"\n| stop of the same (never booted) guest, {N} rounds | median ms (min–max) |")
print("|---|---|")
print(f"| QEMU by hand: SIGKILL → exit reaped | {cell(res['hand_kill'])} |")
for lbl, _ in LVS:
    name = "litevirt" if lbl == "litevirt" else f"litevirt {lbl}"
    print(f"| {name}: `lvsh destroy` → returned | {cell(res['lvd:' + lbl])} |")
    print(f"| {name}: `lvsh destroy` → supervisor gone (run dir removed) | {cell(res['lvg:' + lbl])} |")
if res["libvirt_destroy"]:
    print(f"| libvirt: `virsh destroy` → returned | {cell(res['libvirt_destroy'])} |")

# --- shutdown of a booted guest (ACPI power button; the test guest's acpid
# powers off): by hand (QMP system_powerdown, SHUTDOWN event, quit as
# -no-shutdown wants, exit reaped) and `lvsh shutdown` until its supervisor
# is gone (the command itself returns at once, as virsh's). Booted = its
# console printed LV-COUNTER (acpid runs by then).
SHUT = int(os.environ.get("LV_QB_SHUTDOWN", "3"))


def wait_text(path, offset, text, timeout=120):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                if text.encode() in f.read():
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{path}: no {text} within {timeout} s")


def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def hand_shutdown(args):
    serial = T + "/hand-serial.log"
    if os.path.exists(serial):
        os.unlink(serial)
    a = [x.replace("pty,id=charserial0", f"file,id=charserial0,path={serial}") for x in args]
    sock = T + "/hand.sock"
    if os.path.exists(sock):
        os.unlink(sock)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock)
    srv.listen(1)
    fd = srv.fileno()
    a = [x.replace("fd=3,", f"fd={fd},").replace("127.0.0.1:0", "127.0.0.1:9") for x in a]
    p = subprocess.Popen(a, pass_fds=(fd,), stdout=DEVNULL, stderr=open(T + "/hand.log", "a"))
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(60)
    c.connect(sock)
    srv.close()
    f = c.makefile("rw")
    try:
        qmp_line(f)
        f.write('{"execute":"qmp_capabilities"}\n{"execute":"cont"}\n'); f.flush()
        qmp_line(f); qmp_line(f)
        wait_text(serial, 0, "LV-COUNTER")
        t0 = time.monotonic()
        f.write('{"execute":"system_powerdown"}\n'); f.flush()
        while True:
            line = f.readline()
            if not line:
                raise RuntimeError("QMP closed")
            if json.loads(line).get("event") == "SHUTDOWN":
                break
        f.write('{"execute":"quit"}\n'); f.flush()
        p.wait(timeout=60)
        return ms(time.monotonic() - t0)
    finally:
        if p.poll() is None:
            p.kill(); p.wait()
        c.close()


def lv_shutdown(name):
    con = f"{T}/log/{name}.console.log"
    off = size(con)
    lv_start(name)
    wait_text(con, off, "LV-COUNTER")
    t0 = time.monotonic()
    run([LVSH, "shutdown", name])
    t1 = time.monotonic()
    wait_gone(f"{T}/run/{name}", 60, 0.005)
    if os.path.exists(f"{T}/run/{name}"):
        raise RuntimeError(f"{name}: still running after lvsh shutdown")
    return ms(t1 - t0), ms(time.monotonic() - t0)


if SHUT > 0:
    sh = {"hand": [], "lv_ret": [], "lv_off": []}
    for r in range(SHUT):
        for who in (("hand", "lv") if r % 2 == 0 else ("lv", "hand")):
            if who == "hand":
                sh["hand"].append(hand_shutdown(args))
            else:
                a, b = lv_shutdown("qb0")
                sh["lv_ret"].append(a); sh["lv_off"].append(b)
    print(f"\n| shutdown of the booted guest (ACPI), {SHUT} rounds | median ms (min–max) |")
    print("|---|---|")
    print(f"| QEMU by hand: system_powerdown → SHUTDOWN event, quit → exit reaped | {cell(sh['hand'])} |")
    print(f"| litevirt: `lvsh shutdown` → returned | {cell(sh['lv_ret'])} |")
    print(f"| litevirt: `lvsh shutdown` → guest off, supervisor gone | {cell(sh['lv_off'])} |")
    print(f"| ratio litevirt (guest off) / by hand | {med(sh['lv_off']) / med(sh['hand']):.2f} |")

# --- memory -----------------------------------------------------------------
lvd = int(os.environ.get("LIBVIRTD_PID") or 0)
vld = int(os.environ.get("VIRTLOGD_PID") or 0)
print("\n| guests running | supervisor PSS / USS per guest, KiB (median) | libvirtd PSS (+ virtlogd PSS) / guests, KiB | libvirtd USS, KiB | QEMU RSS per guest, KiB (median) |")
print("|---|---|---|---|---|")
if LIBVIRT:
    base = smaps(lvd)
    print(f"| 0 | — | libvirtd alone: PSS {base[0]} (+ virtlogd {smaps(vld)[0]}) | {base[1]} | — |")
for g in GUESTS:
    names = [f"qb{i}" for i in range(g)]
    for n in names:
        lv_start(n)
    if LIBVIRT:
        for n in names:
            lvirt_start(n)
    time.sleep(1)
    sp = [smaps(int(open(f"{T}/run/{n}/supervisor.pid").read())) for n in names]
    lvcol = f"{med([p for p, _ in sp]):.0f} / {med([u for _, u in sp]):.0f}"
    qrss = med([qemu_rss(n) for n in names])
    if LIBVIRT:
        lp, lu = smaps(lvd)
        vp = smaps(vld)[0]
        lcol = f"{lp / g:.0f} (+ {vp / g:.0f}); total {lp} (+ {vp})"
        lucol = f"{lu}"
    else:
        lcol = lucol = "—"
    print(f"| {g} | {lvcol} | {lcol} | {lucol} | {qrss:.0f} |")
    for n in names:
        lv_destroy(n)
        if LIBVIRT:
            lvirt_destroy(n)
print("\nby-hand command line: " + T + "/hand-args.txt")
print(" ".join(shlex.quote(a) for a in args))
try:
    log = open(T + "/libvirt/log/qemu/qb0.log").read().splitlines()
    start = max(i for i, l in enumerate(log) if l.startswith("LC_ALL="))
    cmd = []
    for l in log[start:]:
        cmd.append(l.rstrip("\\ "))
        if not l.endswith("\\"):
            break
    print("\nlibvirt's command line for the same guest (its qemu/qb0.log):")
    print(" ".join(cmd))
except (OSError, ValueError):
    pass
