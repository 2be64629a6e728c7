#!/bin/bash
# Three guests of the virt-install corpus (tests/data/virt-install) boot
# under litevirt: Ubuntu 22.04 (q35, BIOS, SPICE), Debian 11 (q35, UEFI,
# SPICE) and CentOS Stream 9 (q35, UEFI, SPICE). Their XML as virt-install
# wrote it, but for what this machine cannot give and the boot media:
# type 'qemu' (TCG: KVM does not boot guests here) and so no
# host-passthrough <cpu>, 256 MiB and one vCPU, a 16 MiB image of the
# corpus's format as the disk, the test kernel and initramfs
# (tests/qemu/build-guest.sh) as <kernel>/<initrd> beside the firmware.
# Everything else is virt-install's: q35, the 14 root ports, virtio disk,
# virtio-net on bridge br0, serial console, guest-agent and SPICE agent
# channels, SPICE with image compression off, ich9 sound, USB redirection,
# qxl/virtio video, rng, UEFI with Secure Boot as libvirt picks it.
# Checks, per guest: its console shows it booted, sees its virtio disk
# (size), its NIC's MAC and its virtio-serial ports by name; its tap is on
# br0; SPICE listens; the guest agent's socket is where the running
# definition says; UEFI: its NVRAM is made from the template, QEMU's while
# it runs, given back and kept after destroy, removed by undefine --nvram.
# Private network namespace; root and qemu, else 77.
set -u

if [ "$(id -u)" != 0 ]; then echo "skip: needs root"; exit 77; fi
command -v qemu-system-x86_64 >/dev/null && command -v qemu-img >/dev/null ||
    { echo "skip: no qemu-system-x86_64/qemu-img"; exit 77; }
[ -r /usr/share/OVMF/OVMF_CODE_4M.ms.fd ] || { echo "skip: no OVMF (Debian's ovmf)"; exit 77; }
BUILD=${LV_BUILD_ROOT:?}
SRC=${LV_SOURCE_ROOT:?}
LVSH=$BUILD/lvsh
# the test guest first: its kernel is downloaded (not from the namespace)
sh "$SRC/tests/qemu/build-guest.sh" "$BUILD/test-guest" || exit 77
if [ -z "${LV_CORPUS_TEST_NETNS:-}" ]; then
    export LV_CORPUS_TEST_NETNS=1
    exec unshare --net -- "$0" "$@"
fi
ip link set lo up
# (an address: SPICE resolves its listen address with AI_ADDRCONFIG)
ip link add br0 type bridge && ip link set br0 up && ip addr add 192.0.2.1/24 dev br0 ||
    { echo "FAIL: bridge br0"; exit 1; }

T=$(mktemp -d /tmp/lv-test-corpus-boot.XXXXXX)
chmod 0711 "$T"
export LITEVIRT_CONFDIR=$T/conf LITEVIRT_GUESTDIR=$T/guests LITEVIRT_RUNDIR=$T/run \
       LITEVIRT_LOGDIR=$T/log LITEVIRT_NVRAMDIR=$T/nvram
mkdir -p "$LITEVIRT_CONFDIR" "$LITEVIRT_GUESTDIR" "$LITEVIRT_RUNDIR" "$LITEVIRT_LOGDIR"
Q=lvcb$$
GUESTS="" HELPERS="" FAILS=0
cleanup() {
    for h in $HELPERS; do kill "$h" 2>/dev/null; wait "$h" 2>/dev/null; done
    for g in $GUESTS; do
        pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$LITEVIRT_RUNDIR/$g/qemu.json" 2>/dev/null | head -n1)
        "$LVSH" destroy "$g" >/dev/null 2>&1
        if [ -n "$pid" ] && grep -q "guest=$g," "/proc/$pid/cmdline" 2>/dev/null; then
            kill -9 "$pid" 2>/dev/null
        fi
    done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok   $*"; }
wait_for() { # FILE PATTERN SECONDS
    local i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -aq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# the corpus guest NAME as guest $Q-SHORT (see above for what changes)
prepare() {
    local name=$1 short=$2
    python3 - "$SRC/tests/data/virt-install/$name.xml" "$T/$short.xml" "$Q-$short" \
        "$T/$short.img" "$BUILD/test-guest" <<'PY'
import sys, xml.etree.ElementTree as ET
src, dst, name, img, guest = sys.argv[1:]
ET.register_namespace("libosinfo", "http://libosinfo.org/xmlns/libvirt/domain/1.0")
tree = ET.parse(src)
d = tree.getroot()
d.set("type", "qemu")
d.find("name").text = name
d.remove(d.find("uuid"))
d.remove(d.find("cpu"))
for tag in ("memory", "currentMemory"):
    d.find(tag).text = str(256 * 1024)
d.find("vcpu").text = "1"
os_ = d.find("os")
for tag, text in (("kernel", guest + "/vmlinuz"), ("initrd", guest + "/initrd.gz"),
                  ("cmdline", "console=ttyS0")):
    e = ET.SubElement(os_, tag)
    e.text = text
for disk in d.iter("disk"):
    if disk.get("device") == "disk":
        disk.find("source").set("file", img)
        print(disk.find("driver").get("type"))
tree.write(dst)
PY
}

start_one() { # SHORT CORPUS-NAME
    local short=$1 name=$2 fmt
    fmt=$(prepare "$name" "$short") || { fail "$short: cannot prepare"; return; }
    qemu-img create -q -f "$fmt" "$T/$short.img" 16M || fail "$short: qemu-img"
    "$LVSH" define "$T/$short.xml" >/dev/null || { fail "$short: define"; return; }
    GUESTS="$GUESTS $Q-$short"
    out=$("$LVSH" start "$Q-$short" 2>&1) || { fail "$short: start: $out"; touch "$T/$short.failed"; return; }
    timeout 600 "$LVSH" console "$Q-$short" </dev/null >"$T/$short.console" 2>&1 &
    HELPERS="$HELPERS $!"
}

check_one() { # SHORT CORPUS-NAME UEFI
    local short=$1 name=$2 uefi=$3 g=$Q-$1 mac con=$T/$1.console
    mac=$(sed -n 's/.*<mac address="\([^"]*\)".*/\1/p' "$SRC/tests/data/virt-install/$name.xml")
    [ -e "$T/$short.failed" ] && return
    if wait_for "$con" "LV-GUEST-BOOTED" 300; then
        ok "$short ($name): booted"
    else
        fail "$short: no boot marker: $(tail -c 400 "$con")"
        return
    fi
    wait_for "$con" "LV-COUNTER 1" 60
    grep -aq "LV-DISK vda 32768" "$con" && ok "$short: sees its virtio disk vda (16 MiB)" ||
        fail "$short: virtio disk: $(grep -a LV-DISK "$con")"
    grep -aq "LV-MAC eth0 $mac" "$con" && ok "$short: sees its virtio NIC $mac" ||
        fail "$short: NIC: $(grep -a LV-MAC "$con")"
    grep -aq "LV-VPORT org.qemu.guest_agent.0" "$con" && grep -aq "LV-VPORT com.redhat.spice.0" "$con" &&
        ok "$short: sees the guest-agent and SPICE agent channels" ||
        fail "$short: channels: $(grep -a LV-VPORT "$con")"
    local live sock
    live=$("$LVSH" dumpxml "$g")
    sock=$LITEVIRT_RUNDIR/$g/channel.org.qemu.guest_agent.0
    echo "$live" | grep -q "path='$sock'" && [ -S "$sock" ] &&
        ok "$short: guest agent socket $sock" || fail "$short: guest agent socket"
    local disp port
    disp=$("$LVSH" domdisplay "$g" 2>&1)
    port=${disp##*:}
    case "$disp" in spice://127.0.0.1:*)
        if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)' "$port"; then
            ok "$short: SPICE listens ($disp)"
        else
            fail "$short: SPICE port $port closed"
        fi;;
    *) fail "$short: domdisplay: $disp";; esac
    if [ "$uefi" = yes ]; then
        local nv=$LITEVIRT_NVRAMDIR/${g}_VARS.fd
        echo "$live" | grep -q "<loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader>" &&
            echo "$live" | grep -q "<nvram template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd'>$nv</nvram>" &&
            ok "$short: running definition names the firmware and NVRAM as libvirt picks them" ||
            fail "$short: firmware in the running definition: $(echo "$live" | grep -E 'loader|nvram')"
        [ -f "$nv" ] && [ "$(stat -c %u "$nv")" != 0 ] && ok "$short: NVRAM made, QEMU's while it runs" ||
            fail "$short: NVRAM $nv: $(stat -c '%u %s' "$nv" 2>&1)"
    fi
}

start_one ubuntu ubuntu22.04-q35-bios-spice
start_one debian debian11-q35-uefi-spice
start_one centos centos-stream9-q35-uefi
taps=$(ip -o link show master br0 | wc -l)
[ "$taps" = 3 ] && ok "the three guests' taps are on br0" || fail "$taps taps on br0"
check_one ubuntu ubuntu22.04-q35-bios-spice no
check_one debian debian11-q35-uefi-spice yes
check_one centos centos-stream9-q35-uefi yes

# UEFI variables outlive the guest, until undefine --nvram
g=$Q-debian
nv=$LITEVIRT_NVRAMDIR/${g}_VARS.fd
"$LVSH" destroy "$g" >/dev/null || fail "destroy $g"
i=0; while [ -e "$LITEVIRT_RUNDIR/$g" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
[ -f "$nv" ] && [ "$(stat -c %u "$nv")" = 0 ] && ok "NVRAM kept after destroy, given back" ||
    fail "NVRAM after destroy: $(stat -c '%u' "$nv" 2>&1)"
out=$("$LVSH" undefine "$g" 2>&1) && fail "undefine with NVRAM succeeded"
"$LVSH" undefine --nvram "$g" >/dev/null && [ ! -e "$nv" ] && ok "undefine --nvram removed it" ||
    fail "undefine --nvram: $out"

echo "$FAILS failure(s)"
[ "$FAILS" = 0 ]
