#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/lib/mem.py: memory held by a tool for its running guests.

usage: mem.py LABEL N DAEMONS CGROUP_DIR... -- prints one TSV line per kind
of process and a summary line.

Reads every pid below the given cgroup directories (recursively), keeps the
processes of the host's pid namespace (the guests' own processes live in
child pid namespaces and are not the tool's cost), drops this script and its
ancestors (the benchmark shell), and sums from /proc/PID/smaps_rollup:
USS = Private_Clean + Private_Dirty, PSS = Pss, RSS = Rss (KiB).
A process that shares its parent's address space (clone(CLONE_VM) without
being a thread: litevirt's container guard, util/watchdog.h) has the same
smaps as its parent; it is counted as a process but its memory only once
(kcmp KCMP_VM tells).
DAEMONS is a comma list of process names shared by all guests (libvirtd,
virtlogd): reported apart and divided by N. Everything else counts as the
tool's per-guest processes.
"""
import ctypes
import os
import sys

SYS_KCMP = 312  # x86_64
KCMP_VM = 1
_libc = ctypes.CDLL(None, use_errno=True)


def ppid_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def shares_parent_vm(pid):
    """True if pid's address space is its parent's (one mm, one memory)."""
    ppid = ppid_of(pid)
    if not ppid or ppid <= 1:
        return False
    return _libc.syscall(SYS_KCMP, pid, ppid, KCMP_VM, 0, 0) == 0


def rollup(pid):
    vals = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[1].isdigit():
                    vals[parts[0].rstrip(":")] = int(parts[1])
    except OSError:
        return None
    return (vals.get("Private_Clean", 0) + vals.get("Private_Dirty", 0),
            vals.get("Pss", 0), vals.get("Rss", 0))


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def ancestors():
    out, pid = set(), os.getpid()
    while pid and pid > 1:
        out.add(pid)
        pid = ppid_of(pid)
    return out


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    label, n, daemons = sys.argv[1], int(sys.argv[2]), set(filter(None, sys.argv[3].split(",")))
    pids = set()
    for d in sys.argv[4:]:
        for root, _dirs, files in os.walk(d):
            if "cgroup.procs" in files:
                try:
                    with open(os.path.join(root, "cgroup.procs")) as f:
                        pids.update(int(x) for x in f.read().split())
                except OSError:
                    pass
    own_ns = os.readlink("/proc/self/ns/pid")
    skip = ancestors()
    groups = {}
    for pid in sorted(pids - skip):
        try:
            if os.readlink(f"/proc/{pid}/ns/pid") != own_ns:
                continue
        except OSError:
            continue
        name, r = comm(pid), rollup(pid)
        if name is None or r is None:
            continue
        if shares_parent_vm(pid):
            r = (0, 0, 0)  # its parent's pages, counted with the parent
        g = groups.setdefault(name, [0, 0, 0, 0])
        g[0] += 1
        for k in range(3):
            g[k + 1] += r[k]
    guest = [0, 0, 0]
    daemon = [0, 0, 0]
    for name, (count, uss, pss, rss) in sorted(groups.items()):
        kind = "daemon" if name in daemons else "per-guest"
        print(f"{label}\tproc\t{name}\t{kind}\t{count}\t{uss}\t{pss}\t{rss}")
        acc = daemon if kind == "daemon" else guest
        acc[0] += uss
        acc[1] += pss
        acc[2] += rss
    # per guest (KiB): own processes, daemons' share, total; then totals
    print(f"{label}\tsummary\t{n}\t"
          f"{guest[0] / n:.0f}\t{guest[1] / n:.0f}\t{guest[2] / n:.0f}\t"
          f"{daemon[0] / n:.0f}\t{daemon[1] / n:.0f}\t{daemon[2] / n:.0f}\t"
          f"{(guest[0] + daemon[0]) / n:.0f}\t{(guest[1] + daemon[1]) / n:.0f}\t"
          f"{guest[0] + daemon[0]}\t{guest[1] + daemon[1]}")


if __name__ == "__main__":
    main()
