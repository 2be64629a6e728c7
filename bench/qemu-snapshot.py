#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The measuring half of `LV_QB_SNAPSHOT=1 bench/qemu-start.sh` (run it
# through that script: it sets up the namespaces, libvirtd, the guest qb0
# with a 16 MiB qcow2 disk defined in both and the environment read here).
# Per round, for litevirt and libvirt (order alternating), on a fresh disk
# image: start qb0, wait until the booted guest prints its counter on the
# serial console, then time an external disk-only snapshot
# (`snapshot-create-as qb0 d --disk-only --atomic`) and a full one of the
# running guest (litevirt: `snapshot-create-as qb0 f`, the memory into its
# snapshot directory; libvirt: `--memspec file=...,snapshot=external
# --diskspec vda,snapshot=external`), command to its return; then destroy,
# drop the snapshots' metadata, define the guest again and remove the
# files. Prints a markdown table; asserts nothing about time.
import os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cells import cell  # noqa: E402

qs = __import__("qemu-save")  # run, timed, the boot waits

T, N, URI, LIBVIRT, LVSH = qs.T, qs.N, qs.URI, qs.LIBVIRT, qs.LVSH
XML = f"{T}/xml/qb0.xml"
DISK = f"{T}/qb0.qcow2"


def fresh_disk():
    for f in (DISK, f"{T}/qb0.d", f"{T}/qb0.f", f"{T}/libvirt-f.mem"):
        if os.path.exists(f):
            os.unlink(f)
    qs.run(["qemu-img", "create", "-q", "-f", "qcow2", DISK, "16M"])


def round_lv(res):
    fresh_disk()
    qs.run([LVSH, "define", XML])
    qs.run([LVSH, "start", "qb0"])
    qs.wait_marker(qs.lv_booted(), "litevirt")
    res["lv_disk"].append(qs.timed([LVSH, "snapshot-create-as", "qb0", "d", "--disk-only"]))
    res["lv_full"].append(qs.timed([LVSH, "snapshot-create-as", "qb0", "f"]))
    qs.run([LVSH, "destroy", "qb0"])
    for s in ("f", "d"):
        qs.run([LVSH, "snapshot-delete", "qb0", s, "--metadata"])
    qs.run([LVSH, "define", XML])


def round_lvirt(res):
    fresh_disk()
    virsh = ["virsh", "-q", "-c", URI]
    qs.run(virsh + ["define", XML])
    qs.run(virsh + ["start", "qb0"])
    read, fd = qs.lvirt_booted()
    try:
        qs.wait_marker(read, "libvirt")
    finally:
        os.close(fd)
    res["libvirt_disk"].append(
        qs.timed(virsh + ["snapshot-create-as", "qb0", "d", "--disk-only", "--atomic"]))
    res["libvirt_full"].append(
        qs.timed(virsh + ["snapshot-create-as", "qb0", "f", "--atomic", "--memspec",
                          f"file={T}/libvirt-f.mem,snapshot=external", "--diskspec",
                          "vda,snapshot=external"]))
    qs.run(virsh + ["destroy", "qb0"])
    for s in ("f", "d"):
        qs.run(virsh + ["snapshot-delete", "qb0", s, "--metadata"])
    qs.run(virsh + ["define", XML])


res = {k: [] for k in ("lv_disk", "lv_full", "libvirt_disk", "libvirt_full")}
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

print(f"\n| booted 128 MiB TCG test guest, 16 MiB qcow2 disk, {N} rounds | litevirt, ms | libvirt, ms |")
print("|---|---|---|")
print(f"| `snapshot-create-as --disk-only` (external overlay) | {cell(res['lv_disk'])} | {cell(res['libvirt_disk'])} |")
print(f"| full external snapshot (memory + overlay) of the running guest | {cell(res['lv_full'])} | {cell(res['libvirt_full'])} |")
if res["libvirt_disk"]:
    med = qs.statistics.median
    print(f"| ratio litevirt / libvirt (disk-only, full) | "
          f"{med(res['lv_disk']) / med(res['libvirt_disk']):.2f}, "
          f"{med(res['lv_full']) / med(res['libvirt_full']):.2f} | |")
if err:
    print(f"\nlibvirt failed: {err}")
