#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The measuring half of `LV_QB_SAVE=1 bench/qemu-start.sh` (run it through
# that script: it sets up the namespaces, libvirtd, the guest qb0 defined in
# both and the environment read here). Per round, for litevirt and libvirt
# (order alternating): start qb0, wait until the booted guest prints its
# counter on the serial console, then time `save FILE` (command to the guest
# shut off and the image complete) and `restore FILE` (to the guest running
# again), and destroy it. Prints a markdown table; asserts nothing about time.
import os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from booted import LVSH, T, VIRSH, N, lv_start_booted, lvirt_start_booted, report, rounds, run, timed  # noqa: E402
from cells import cell  # noqa: E402


def round_lv(res):
    img = f"{T}/lv.save"
    lv_start_booted()
    res["lv_save"].append(timed([LVSH, "save", "qb0", img]))
    res["lv_size"] = os.path.getsize(img)
    res["lv_restore"].append(timed([LVSH, "restore", img]))
    run([LVSH, "destroy", "qb0"])
    os.unlink(img)


def round_lvirt(res):
    img = f"{T}/libvirt.save"
    lvirt_start_booted()
    res["libvirt_save"].append(timed(VIRSH + ["save", "qb0", img]))
    res["libvirt_size"] = os.path.getsize(img)
    res["libvirt_restore"].append(timed(VIRSH + ["restore", img]))
    run(VIRSH + ["destroy", "qb0"])
    os.unlink(img)


res = {k: [] for k in ("lv_save", "lv_restore", "libvirt_save", "libvirt_restore")}
err = rounds(round_lv, round_lvirt, res)
report(f"booted 128 MiB TCG test guest, {N} rounds", [
    ("`save` → shut off, image complete", cell(res["lv_save"]), cell(res["libvirt_save"])),
    ("`restore` → running", cell(res["lv_restore"]), cell(res["libvirt_restore"])),
    ("image size, bytes", res.get("lv_size", "—"), res.get("libvirt_size", "—")),
], res, (("save", "save"), ("restore", "restore")), err)
