#!/usr/bin/env python3
# Not a test: time to a running QEMU guest, litevirt (`lvsh start`, which
# returns once QEMU runs: supervisor spawned, cgroup, ports, QEMU paused, QMP
# handshake, console, cont) against the same QEMU command by hand (spawn,
# QMP greeting + qmp_capabilities = "QMP ready", then cont = "running"), and
# the supervisor's memory (PSS) per guest. Median of N runs; prints a table.
#   LV_BUILD_ROOT=build-qemu tests/qemu/bench-start.py [N]
# Needs root (cgroups), qemu-system-x86_64 and the test guest
# (tests/qemu/build-guest.sh). Runs in a private network namespace.
import json, os, shutil, socket, statistics, subprocess, sys, tempfile, time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10
build = os.path.abspath(os.environ.get("LV_BUILD_ROOT", "build"))
lvsh = os.path.join(build, "lvsh")
kernel = os.path.join(build, "test-guest", "vmlinuz")
initrd = os.path.join(build, "test-guest", "initrd.gz")
if not os.environ.get("LV_BENCH_NETNS"):
    os.environ["LV_BENCH_NETNS"] = "1"
    os.execvp("unshare", ["unshare", "--net", "--", sys.executable] + sys.argv)
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)

tmp = tempfile.mkdtemp(prefix="lv-bench-qemu.")
env = dict(os.environ, LITEVIRT_CONFDIR=tmp + "/conf", LITEVIRT_GUESTDIR=tmp + "/guests",
           LITEVIRT_RUNDIR=tmp + "/run", LITEVIRT_LOGDIR=tmp + "/log")
for d in ("conf", "guests", "run", "log"):
    os.makedirs(os.path.join(tmp, d))
xml = f"""<domain type='qemu'><name>bench</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type><kernel>{kernel}</kernel><initrd>{initrd}</initrd>
<cmdline>console=ttyS0 quiet</cmdline></os><features><acpi/></features>
<devices><serial type='pty'/><console type='pty'/><interface type='user'>
<mac address='52:54:00:be:0c:01'/><model type='virtio'/></interface>
<graphics type='vnc' autoport='yes'/><memballoon model='virtio'/></devices></domain>"""
with open(tmp + "/bench.xml", "w") as f:
    f.write(xml)
subprocess.run([lvsh, "define", tmp + "/bench.xml"], env=env, check=True, stdout=subprocess.DEVNULL)

def ms(t):
    return t * 1000.0

def lv_run():
    t0 = time.monotonic()
    subprocess.run([lvsh, "start", "bench"], env=env, check=True, stdout=subprocess.DEVNULL)
    t1 = time.monotonic()
    spid = int(open(tmp + "/run/bench/supervisor.pid").read())
    pss = 0
    for line in open(f"/proc/{spid}/smaps_rollup"):
        if line.startswith("Pss:"):
            pss = int(line.split()[1])
    # the command line the driver used, for the by-hand run
    log = open(tmp + "/log/bench.qemu.log").read().split("--- starting:\n")[-1]
    lines = []
    for line in log.splitlines():
        lines.append(line)
        if not line.endswith("\\"):
            break
    log = "\n".join(lines)
    subprocess.run([lvsh, "destroy", "bench"], env=env, check=True, stdout=subprocess.DEVNULL)
    for _ in range(200):
        if not os.path.exists(tmp + "/run/bench"):
            break
        time.sleep(0.01)
    return ms(t1 - t0), pss, log

def qmp_line(f):
    while True:
        line = f.readline()
        if not line:
            raise RuntimeError("QMP closed")
        msg = json.loads(line)
        if "event" not in msg:
            return msg

def hand_run(args):
    sock = tmp + "/hand.sock"
    if os.path.exists(sock):
        os.unlink(sock)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock)
    srv.listen(1)
    fd = srv.fileno()
    # another display than litevirt's guest, whose QEMU may still be exiting
    args = [a.replace("fd=3,", f"fd={fd},").replace("127.0.0.1:0", "127.0.0.1:1") for a in args]
    t0 = time.monotonic()
    p = subprocess.Popen(args, pass_fds=(fd,), stdout=subprocess.DEVNULL,
                         stderr=open(tmp + "/hand.log", "a"))
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(30)
    c.connect(sock)
    srv.close()  # QEMU holds it: its death ends the connection
    f = c.makefile("rw")
    try:
        qmp_line(f)  # greeting
    except (RuntimeError, ConnectionResetError):
        p.wait()
        sys.exit("QEMU by hand failed: " + open(tmp + "/hand.log").read()[-2000:]
                 + "\nargs: " + " ".join(args))
    f.write('{"execute":"qmp_capabilities"}\n'); f.flush(); qmp_line(f)
    t1 = time.monotonic()
    f.write('{"execute":"cont"}\n'); f.flush(); qmp_line(f)
    t2 = time.monotonic()
    p.kill(); p.wait()
    c.close()
    return ms(t1 - t0), ms(t2 - t0)

import shlex
import atexit
atexit.register(shutil.rmtree, tmp, True)
lv, pss, hand_ready, hand_run_ms = [], [], [], []
args = None
for i in range(N):
    t, k, cmd = lv_run()
    lv.append(t); pss.append(k)
    if args is None:
        args = shlex.split(cmd.replace("\\\n", " "))
    a, b = hand_run(args)
    hand_ready.append(a); hand_run_ms.append(b)
shutil.rmtree(tmp, ignore_errors=True)
med = statistics.median
print(f"runs: {N} (median)")
print(f"| | ms |")
print(f"|---|---|")
print(f"| QEMU by hand: spawn → QMP ready (greeting + qmp_capabilities) | {med(hand_ready):.0f} |")
print(f"| QEMU by hand: spawn → running (cont answered) | {med(hand_run_ms):.0f} |")
print(f"| litevirt: `lvsh start` → running | {med(lv):.0f} |")
print(f"| ratio litevirt / by hand (running) | {med(lv) / med(hand_run_ms):.2f} |")
print(f"supervisor PSS per guest: {med(pss)} KiB")
