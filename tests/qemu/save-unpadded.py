#!/usr/bin/env python3
# A save image as litevirt before the TCG RAM pad wrote it (no pad, no
# flag bit 1), for tests/qemu/test-qemu-save-compat.sh:
#   save-unpadded.py NATIVE SERIAL TEMPLATE OUT
# runs QEMU by hand with litevirt's own command line of the guest (NATIVE:
# `lvsh domxml-to-native qemu-argv`, which has no pad; its QMP socket and
# serial pty swapped for a socket of ours and the file SERIAL), lets the
# guest count, stops it and migrates its state into a file through QMP
# (getfd + "fd:", as litevirt's save does), then puts that stream into a
# copy of TEMPLATE (an image litevirt wrote of the same guest: its header
# and definition) as OUT, with the stream's length and SHA-256 and flag
# bit 1 cleared. Prints the guest's last counter before the save.
import hashlib, json, os, re, shlex, socket, struct, subprocess, sys, tempfile, time

native, serial, template, out = sys.argv[1:5]
tmp = tempfile.mkdtemp(prefix="lv-unpadded.")
args = shlex.split(open(native).read().replace("\\\n", " "))
sock = tmp + "/qmp.sock"
args = [re.sub(r"path=[^,]*/qmp\.sock", "path=" + sock, a) for a in args]
args = ["file,id=charserial0,path=" + serial if a == "pty,id=charserial0" else a for a in args]
mem = args[args.index("-m") + 1]
if not mem.isdigit():  # whole MiB, as libvirt writes it: no pad
    sys.exit("the native command line has '-m %s', not whole MiB" % mem)
qemu = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(tmp + "/qemu.log", "w"))


def fail(msg):
    qemu.kill()
    qemu.wait()
    sys.exit(msg + "; QEMU: " + open(tmp + "/qemu.log").read()[-1000:])


deadline = time.monotonic() + 30
while not os.path.exists(sock):
    if qemu.poll() is not None or time.monotonic() > deadline:
        fail("QEMU did not start")
    time.sleep(0.05)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.settimeout(60)
c.connect(sock)
f = c.makefile("r")


def qmp(cmd, arguments=None, fds=None):
    msg = json.dumps({"execute": cmd, **({"arguments": arguments} if arguments else {})})
    if fds:
        c.sendmsg([msg.encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", *fds))])
    else:
        c.sendall(msg.encode())
    while True:
        line = f.readline()
        if not line:
            fail("QMP closed at " + cmd)
        r = json.loads(line)
        if "error" in r:
            fail(cmd + ": " + r["error"]["desc"])
        if "return" in r:
            return r["return"]


f.readline()  # greeting
qmp("qmp_capabilities")
qmp("cont")


def counters():
    try:
        return [int(n) for n in re.findall(rb"LV-COUNTER (\d+)", open(serial, "rb").read())]
    except FileNotFoundError:
        return []


deadline = time.monotonic() + 120
while len(counters()) < 3:
    if qemu.poll() is not None or time.monotonic() > deadline:
        fail("the guest did not count")
    time.sleep(0.2)
qmp("stop")
last = counters()[-1]
stream = tmp + "/stream"
sfd = os.open(stream, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
qmp("getfd", {"fdname": "save"}, [sfd])
os.close(sfd)
qmp("migrate", {"uri": "fd:save"})
deadline = time.monotonic() + 120
while True:
    st = qmp("query-migrate").get("status")
    if st == "completed":
        break
    if st in ("failed", "cancelled") or time.monotonic() > deadline:
        fail("migration to the file: " + str(st))
    time.sleep(0.1)
qmp("quit")
qemu.wait()

# the stream in a copy of litevirt's image, as it writes one (conf/save_image.h)
data = open(stream, "rb").read()
img = bytearray(open(template, "rb").read())
off = struct.unpack_from("<Q", img, 32)[0]
flags = struct.unpack_from("<I", img, 24)[0] & ~2
struct.pack_into("<I", img, 24, flags)
struct.pack_into("<Q", img, 40, len(data))
img[48:80] = hashlib.sha256(data).digest()
with open(out, "wb") as o:
    o.write(bytes(img[:off]) + data)
os.chmod(out, 0o600)
for p in (stream, sock, tmp + "/qemu.log"):
    if os.path.exists(p):
        os.unlink(p)
os.rmdir(tmp)
print(last)
