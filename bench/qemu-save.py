#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The measuring half of `LV_QB_SAVE=1 bench/qemu-start.sh` (run it through
# that script: it sets up the namespaces, libvirtd, the guest qb0 defined in
# both and the environment read here). Per round, for litevirt and libvirt
# (order alternating): start qb0, wait until the booted guest prints its
# counter on the serial console, then time `save FILE` (command to the guest
# shut off and the image complete) and `restore FILE` (to the guest running
# again), and destroy it. Prints a markdown table; asserts nothing about time.
import os, select, statistics, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cells import cell  # noqa: E402

B = os.environ["LV_BUILD"]
T = os.environ["T"]
N = int(os.environ["N"])
URI = os.environ["LV_URI"]
LIBVIRT = os.environ["LIBVIRT_OK"] == "1"
LVSH = os.path.join(B, "lvsh")


def run(args):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(" ".join(args) + ": " + r.stderr.strip())
    return r.stdout


def timed(args):
    t0 = time.monotonic()
    run(args)
    return (time.monotonic() - t0) * 1000.0


def wait_marker(read, what):
    """read() -> new console text; until the guest counts (booted)."""
    seen, deadline = "", time.monotonic() + 120
    while time.monotonic() < deadline:
        seen += read()
        if "LV-COUNTER 2" in seen:
            return
    raise RuntimeError(what + ": the guest did not boot: " + seen[-200:])


def lv_booted():
    path = f"{T}/log/qb0.console.log"
    off = os.path.getsize(path) if os.path.exists(path) else 0

    def read():
        nonlocal off
        time.sleep(0.05)
        try:
            with open(path, "rb") as f:
                f.seek(off)
                data = f.read()
        except OSError:
            return ""
        off += len(data)
        return data.decode(errors="replace")

    return read


def lvirt_booted():
    pty = run(["virsh", "-q", "-c", URI, "ttyconsole", "qb0"]).strip()
    fd = os.open(pty, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)

    def read():
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            return ""
        try:
            return os.read(fd, 65536).decode(errors="replace")
        except BlockingIOError:
            return ""

    return read, fd


def round_lv(res):
    img = f"{T}/lv.save"
    run([LVSH, "start", "qb0"])
    wait_marker(lv_booted(), "litevirt")
    res["lv_save"].append(timed([LVSH, "save", "qb0", img]))
    res["lv_size"] = os.path.getsize(img)
    res["lv_restore"].append(timed([LVSH, "restore", img]))
    run([LVSH, "destroy", "qb0"])
    os.unlink(img)


def round_lvirt(res):
    img = f"{T}/libvirt.save"
    virsh = ["virsh", "-q", "-c", URI]
    run(virsh + ["start", "qb0"])
    read, fd = lvirt_booted()
    try:
        wait_marker(read, "libvirt")
    finally:
        os.close(fd)
    res["libvirt_save"].append(timed(virsh + ["save", "qb0", img]))
    res["libvirt_size"] = os.path.getsize(img)
    res["libvirt_restore"].append(timed(virsh + ["restore", img]))
    run(virsh + ["destroy", "qb0"])
    os.unlink(img)


def main():
    res = {k: [] for k in ("lv_save", "lv_restore", "libvirt_save", "libvirt_restore")}
    err = None
    for i in range(N):
        order = [round_lv, round_lvirt] if i % 2 == 0 else [round_lvirt, round_lv]
        for f in order:
            if f is round_lvirt and (not LIBVIRT or err):
                continue
            try:
                f(res)
            except RuntimeError as e:
                if f is round_lv:
                    raise
                err = str(e)


    med = statistics.median
    print(f"\n| booted 128 MiB TCG test guest, {N} rounds | litevirt, ms | libvirt, ms |")
    print("|---|---|---|")
    print(f"| `save` → shut off, image complete | {cell(res['lv_save'])} | {cell(res['libvirt_save'])} |")
    print(f"| `restore` → running | {cell(res['lv_restore'])} | {cell(res['libvirt_restore'])} |")
    print(f"| image size, bytes | {res.get('lv_size', '—')} | {res.get('libvirt_size', '—')} |")
    if res["libvirt_save"]:
        print(f"| ratio litevirt / libvirt (save, restore) | "
              f"{med(res['lv_save']) / med(res['libvirt_save']):.2f}, "
              f"{med(res['lv_restore']) / med(res['libvirt_restore']):.2f} | |")
    if err:
        print(f"\nlibvirt failed: {err}")


if __name__ == "__main__":  # bench/qemu-snapshot.py imports the helpers
    main()
