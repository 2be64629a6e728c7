# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the booted-guest benches run by bench/qemu-start.sh share
(qemu-save.py, qemu-snapshot.py): the environment that script sets, commands
run and timed, the wait until guest qb0 has booted under litevirt or libvirt,
and the interleaved rounds."""
import os, select, statistics, subprocess, time

B = os.environ["LV_BUILD"]
T = os.environ["T"]
N = int(os.environ["N"])
URI = os.environ["LV_URI"]
LIBVIRT = os.environ["LIBVIRT_OK"] == "1"
LVSH = os.path.join(B, "lvsh")
VIRSH = ["virsh", "-q", "-c", URI]


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


def lv_start_booted():
    """lvsh start qb0, then wait for the counter in its console log."""
    run([LVSH, "start", "qb0"])
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

    wait_marker(read, "litevirt")


def lvirt_start_booted():
    """virsh start qb0, then wait for the counter on its serial pty."""
    run(VIRSH + ["start", "qb0"])
    pty = run(VIRSH + ["ttyconsole", "qb0"]).strip()
    fd = os.open(pty, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)

    def read():
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            return ""
        try:
            return os.read(fd, 65536).decode(errors="replace")
        except BlockingIOError:
            return ""

    try:
        wait_marker(read, "libvirt")
    finally:
        os.close(fd)


def rounds(round_lv, round_lvirt, res):
    """N rounds, the order alternating; litevirt's failure ends the run,
    libvirt's is returned (its text) and leaves libvirt out from then on."""
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
    return err


def report(title, rows, res, ratio, err):
    """The markdown table: title, rows of (what, litevirt cell, libvirt
    cell), then the row 'ratio litevirt / libvirt (A, B)' of the medians
    res["lv_K"] / res["libvirt_K"] for ratio = (("A", K), ("B", K)) when
    libvirt ran, and libvirt's failure (err)."""
    print(f"\n| {title} | litevirt, ms | libvirt, ms |")
    print("|---|---|---|")
    for what, lv, lvirt in rows:
        print(f"| {what} | {lv} | {lvirt} |")
    if res["libvirt_" + ratio[0][1]]:
        med = statistics.median
        print(f"| ratio litevirt / libvirt ({', '.join(w for w, _ in ratio)}) | "
              + ", ".join(f"{med(res['lv_' + k]) / med(res['libvirt_' + k]):.2f}" for _, k in ratio)
              + " | |")
    if err:
        print(f"\nlibvirt failed: {err}")
