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


def wait_gone(path):
    for _ in range(300):
        if not os.path.exists(path):
            return
        time.sleep(0.01)


def lv_start(name):
    t0 = time.monotonic()
    run([LVSH, "start", name])
    return ms(time.monotonic() - t0)


def lv_destroy(name):
    run([LVSH, "destroy", name])
    wait_gone(f"{T}/run/{name}")


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
    p.kill(); p.wait()
    c.close()
    return ms(t1 - t0), ms(t2 - t0)


def virsh(*a):
    run(["virsh", "-q", "-c", URI] + list(a))


def lvirt_start(name):
    t0 = time.monotonic()
    virsh("start", name)
    return ms(time.monotonic() - t0)


def lvirt_destroy(name):
    virsh("destroy", name)


res = {k: [] for k in ("hand_qmp", "hand_run", "lv", "libvirt")}
lv_start("qb0")
args = lv_cmdline("qb0")
lv_destroy("qb0")
with open(T + "/hand-args.txt", "w") as f:
    f.write(" ".join(shlex.quote(a) for a in args) + "\n")
libvirt_err = None
# one warm-up of each, not counted
hand_run(args)
if LIBVIRT:
    try:
        lvirt_start("qb0"); lvirt_destroy("qb0")
    except RuntimeError as e:
        libvirt_err = str(e)
        LIBVIRT = False
for r in range(N):
    order = ["hand", "lv", "libvirt"]
    order = order[r % 3:] + order[:r % 3]
    for who in order:
        if who == "hand":
            a, b = hand_run(args)
            res["hand_qmp"].append(a); res["hand_run"].append(b)
        elif who == "lv":
            res["lv"].append(lv_start("qb0")); lv_destroy("qb0")
        elif LIBVIRT:
            res["libvirt"].append(lvirt_start("qb0")); lvirt_destroy("qb0")
            time.sleep(0.2)


med = statistics.median
print(f"\n| start of the 128 MiB TCG test guest, {N} rounds | median ms (min–max) |")
print("|---|---|")
print(f"| QEMU by hand (litevirt's command line): spawn → QMP ready (qmp_capabilities answered) | {cell(res['hand_qmp'])} |")
print(f"| QEMU by hand: spawn → running (`cont` answered) | {cell(res['hand_run'])} |")
print(f"| litevirt: `lvsh start` → running | {cell(res['lv'])} |")
print(f"| libvirt: `virsh -c qemu:///system start` → running | {cell(res['libvirt'])} |")
print(f"| ratio litevirt / by hand (running) | {med(res['lv']) / med(res['hand_run']):.2f} |")
if res["libvirt"]:
    print(f"| ratio litevirt / libvirt | {med(res['lv']) / med(res['libvirt']):.2f} |")
if libvirt_err:
    print(f"\nlibvirt failed: {libvirt_err}")

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
    log = open(T + "/lv-log/qemu/qb0.log").read().splitlines()
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
