#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/qemu-confinement.py, run by `LV_QB_CONFINE=1 bench/qemu-start.sh`:
# starts guest qb0 under litevirt and under libvirt 9.0 with its default
# qemu.conf (user libvirt-qemu, dynamic_ownership, mount namespace, seccomp
# sandbox, security driver as detected) and reads what confines each QEMU
# from /proc: uid/gid/groups, capability sets, no_new_privs, seccomp,
# namespaces other than the caller's, whether its / is read-only, its
# environment, the owner of its kernel and its device cgroup.
import os
import subprocess
import sys

T = os.environ["T"]
LV_BUILD = os.environ["LV_BUILD"]
LV_URI = os.environ["LV_URI"]
LVSH = os.path.join(LV_BUILD, "lvsh")
CANARY = "LV_BENCH_CANARY"


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def namespaces(pid):
    # compared with this script's (PID 1's cannot always be read here); the
    # network namespace is the bench's own for all
    own = []
    for ns in ("mnt", "pid", "net", "ipc", "uts", "user", "cgroup"):
        try:
            if os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}"):
                own.append(ns)
        except OSError:
            pass
    return own


def root_ro(pid):
    with open(f"/proc/{pid}/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == "/":
                return "ro" if "ro" in fields[5].split(",") else "rw"
    return "?"


def writable_mounts(pid):
    n = 0
    with open(f"/proc/{pid}/mountinfo") as f:
        for line in f:
            fields = line.split()
            if "rw" in fields[5].split(","):
                n += 1
    return n


def devices(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrl, path = line.rstrip("\n").split(":", 2)
            if ctrl == "devices":
                try:
                    with open(f"/sys/fs/cgroup/devices{path}/devices.list") as d:
                        rules = d.read().split()
                    entries = len(rules) // 3
                    return "none (a *:* rwm)" if "a" in rules[:1] else f"{entries} rules"
                except OSError:
                    return "?"
    return "?"


def row(name, pid, kernel):
    st = status(pid)
    with open(f"/proc/{pid}/environ", "rb") as f:
        env = [e.split(b"=", 1)[0].decode() for e in f.read().split(b"\0") if e]
    k = os.stat(kernel)
    return [
        name,
        st["Uid"].split()[0] + ":" + st["Gid"].split()[0] + (" +" + st["Groups"] if st["Groups"] else ""),
        st["CapEff"].lstrip("0") or "0",
        st["CapBnd"].lstrip("0") or "0",
        st["NoNewPrivs"],
        {"0": "off", "1": "strict", "2": "filter"}[st["Seccomp"]],
        ",".join(namespaces(pid)) or "none",
        root_ro(pid) + f" ({writable_mounts(pid)} rw mounts)",
        f"{len(env)} vars" + (", caller's leaked" if CANARY in env else ""),
        f"{k.st_uid}:{k.st_gid}",
        devices(pid),
    ]


env = dict(os.environ, **{CANARY: "1"})
rows = []
subprocess.run([LVSH, "start", "qb0"], check=True, env=env, stdout=subprocess.DEVNULL)
with open(f"{T}/run/qb0/qemu.json") as f:
    import json
    pid = json.load(f)["pid"]
kernel = f"{LV_BUILD}/test-guest/vmlinuz"
rows.append(row("litevirt", pid, kernel))
subprocess.run([LVSH, "destroy", "qb0"], stdout=subprocess.DEVNULL)
if os.environ.get("LIBVIRT_OK") == "1":
    subprocess.run(["virsh", "-q", "-c", LV_URI, "start", "qb0"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    with open(f"{T}/libvirt/run/qemu/qb0.pid") as f:
        pid = int(f.read())
    rows.append(row("libvirt 9.0 (default qemu.conf)", pid, kernel))
    subprocess.run(["virsh", "-q", "-c", LV_URI, "destroy", "qb0"], stdout=subprocess.DEVNULL)
k = os.stat(kernel)
head = ["QEMU under", "uid:gid", "CapEff", "CapBnd", "NoNewPrivs", "seccomp", "own namespaces",
        "/ in its mount ns", "environment", "kernel owner while running", "device cgroup"]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for r in rows:
    print("| " + " | ".join(r) + " |")
print(f"kernel owner after both stopped: {k.st_uid}:{k.st_gid}")
sys.exit(0)
