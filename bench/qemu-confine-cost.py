#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/qemu-confine-cost.py, run by `LV_QB_COST=BEFORE_BUILD bench/qemu-start.sh`:
# what QEMU's confinement (docs/security.md, "QEMU") costs. `lvsh start` ->
# running of guest qb0 and the supervisor's memory while it runs (PSS and
# RSS of smaps_rollup, 0.5 s after the start), for the build in
# LV_QB_COST (before) and LV_BUILD (after), interleaved start by start so
# that the load of this shared machine hits both alike (the order alternates
# each round; 2 warm-up rounds); medians and after/before ratios.
import os
import statistics
import subprocess
import time

T, N = os.environ["T"], int(os.environ["N"])
builds = {"before": os.environ["LV_QB_COST"], "after": os.environ["LV_BUILD"]}
res = {k: {"start": [], "pss": [], "rss": []} for k in builds}


def mem(pid):
    v = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] in ("Rss:", "Pss:"):
                v[parts[0][:-1]] = int(parts[1])
    return v["Pss"], v["Rss"]


for i in range(N + 2):
    for name in ("before", "after") if i % 2 else ("after", "before"):
        lvsh = os.path.join(builds[name], "lvsh")
        t0 = time.monotonic()
        subprocess.run([lvsh, "start", "qb0"], check=True, stdout=subprocess.DEVNULL)
        dt = (time.monotonic() - t0) * 1000
        with open(f"{T}/run/qb0/supervisor.pid") as f:
            pid = int(f.read())
        time.sleep(0.5)
        pss, rss = mem(pid)
        subprocess.run([lvsh, "destroy", "qb0"], check=True, stdout=subprocess.DEVNULL)
        for _ in range(500):
            if not os.path.exists(f"{T}/run/qb0"):
                break
            time.sleep(0.01)
        if i >= 2:
            res[name]["start"].append(dt)
            res[name]["pss"].append(pss)
            res[name]["rss"].append(rss)
print("| | start -> running, ms: median (min-max) | supervisor PSS, KiB | supervisor RSS, KiB |")
print("|---|---|---|---|")
for name in builds:
    s = res[name]
    print(f"| {name} | {statistics.median(s['start']):.0f} ({min(s['start']):.0f}-{max(s['start']):.0f})"
          f" | {statistics.median(s['pss']):.0f} | {statistics.median(s['rss']):.0f} |")
b, a = res["before"], res["after"]
print(f"| after / before | {statistics.median(a['start']) / statistics.median(b['start']):.2f}"
      f" | {statistics.median(a['pss']) / statistics.median(b['pss']):.2f}"
      f" | {statistics.median(a['rss']) / statistics.median(b['rss']):.2f} |")
