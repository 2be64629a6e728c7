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
import os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from booted import LVSH, T, VIRSH, N, lv_start_booted, lvirt_start_booted, report, rounds, run, timed  # noqa: E402
from cells import cell  # noqa: E402

XML = f"{T}/xml/qb0.xml"
DISK = f"{T}/qb0.qcow2"


def fresh_disk():
    for f in (DISK, f"{T}/qb0.d", f"{T}/qb0.f", f"{T}/libvirt-f.mem"):
        if os.path.exists(f):
            os.unlink(f)
    run(["qemu-img", "create", "-q", "-f", "qcow2", DISK, "16M"])


def round_lv(res):
    fresh_disk()
    run([LVSH, "define", XML])
    lv_start_booted()
    res["lv_disk"].append(timed([LVSH, "snapshot-create-as", "qb0", "d", "--disk-only"]))
    res["lv_full"].append(timed([LVSH, "snapshot-create-as", "qb0", "f"]))
    run([LVSH, "destroy", "qb0"])
    for s in ("f", "d"):
        run([LVSH, "snapshot-delete", "qb0", s, "--metadata"])
    run([LVSH, "define", XML])


def round_lvirt(res):
    fresh_disk()
    run(VIRSH + ["define", XML])
    lvirt_start_booted()
    res["libvirt_disk"].append(
        timed(VIRSH + ["snapshot-create-as", "qb0", "d", "--disk-only", "--atomic"]))
    res["libvirt_full"].append(
        timed(VIRSH + ["snapshot-create-as", "qb0", "f", "--atomic", "--memspec",
                       f"file={T}/libvirt-f.mem,snapshot=external", "--diskspec",
                       "vda,snapshot=external"]))
    run(VIRSH + ["destroy", "qb0"])
    for s in ("f", "d"):
        run(VIRSH + ["snapshot-delete", "qb0", s, "--metadata"])
    run(VIRSH + ["define", XML])


res = {k: [] for k in ("lv_disk", "lv_full", "libvirt_disk", "libvirt_full")}
err = rounds(round_lv, round_lvirt, res)
report(f"booted 128 MiB TCG test guest, 16 MiB qcow2 disk, {N} rounds", [
    ("`snapshot-create-as --disk-only` (external overlay)", cell(res["lv_disk"]),
     cell(res["libvirt_disk"])),
    ("full external snapshot (memory + overlay) of the running guest", cell(res["lv_full"]),
     cell(res["libvirt_full"])),
], res, (("disk-only", "disk"), ("full", "full")), err)
