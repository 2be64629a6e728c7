#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/qemu-start.sh: time to a running QEMU guest, in ONE run, on the same
# tiny test guest (tests/qemu/build-guest.sh: Debian cloud kernel + busybox
# initramfs; 128 MiB, 1 vCPU, TCG, slirp NIC, VNC, balloon, -display none):
#   1. QEMU by hand, with the command line litevirt built (taken from the
#      guest's QEMU log): spawn -> QMP ready (qmp_capabilities answered) and
#      -> running (cont answered);
#   2. litevirt: `lvsh start` -> running (it returns after cont), then
#      `lvsh destroy`;
#   3. libvirt 9.0: `virsh -c qemu:///system start` of the same guest
#      defined in libvirt (libvirtd + virtlogd started by hand, -d), then
#      `virsh destroy`;
# rounds interleaved (so load drift hits all three alike), median/min/max,
# each start's ratio to QEMU by hand and the target (lvsh start ≤ 1.1x QEMU
# by hand) with measured/met/missed; the stop of the same guest (SIGKILL by
# hand, `lvsh destroy`, `virsh destroy`); then memory: the supervisor's PSS/USS per guest against libvirtd's (and
# virtlogd's) PSS divided by the guests, with 1 and 5 guests running.
#
#   sudo bench/qemu-start.sh            # N=10 rounds
#   N=20 LV_BUILD=build-qemubench bench/qemu-start.sh
#
#   LV_QB_CONFINE=1 bench/qemu-start.sh   # instead: what confines QEMU under
#   litevirt and under libvirt with its default qemu.conf (qemu-confinement.py)
#   LV_QB_SAVE=1 bench/qemu-start.sh   # instead: save and restore time of
#   the booted guest, litevirt against libvirt (qemu-save.py)
#   LV_QB_SNAPSHOT=1 bench/qemu-start.sh   # instead: external snapshot
#   creation time (disk-only and full) of the booted guest with a qcow2
#   disk, litevirt against libvirt (qemu-snapshot.py)
#   LV_QB_COST=OLD_BUILD bench/qemu-start.sh   # instead: litevirt's start time
#   and supervisor memory, OLD_BUILD vs LV_BUILD interleaved (qemu-confine-cost.py;
#   no libvirt)
#
# Environment: LV_BUILD (build dir with lvsh + litevirt-supervisor, default
# build-qemubench, set up and built here if missing), N (rounds, default 10),
# GUESTS (memory figure guest counts, default "1 5"; e.g. "1 5 20"),
# LV_QB_LIBVIRT=0 (leave libvirt out: QEMU by hand and litevirt only; its
# 20 guests take minutes to start under load), LV_QB_ALSO="LABEL=BUILD ..."
# (more litevirt builds, e.g. a change commit by commit, in the same
# interleaved rounds, each with its ratio to QEMU by hand).
#
# Isolation: the whole run is in a private network and mount namespace
# (VNC ports, slirp; litevirt's run directory and libvirt's /run/libvirt
# are tmpfs there, as /run). libvirtd/virtlogd run in their own private
# mount + cgroup namespace (bench/lib/cgns-exec.sh: cgroup v1 hierarchies re-rooted at our
# own cgroup, cgroup2 hidden) with temp dirs bound over /run/libvirt,
# /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt and /etc/libvirt
# (qemu.conf: user/group root, no dynamic ownership, no security driver),
# and only the QEMU connection driver; they are killed by pid at the end.
# litevirt uses LITEVIRT_*DIR in the temp dir. Everything is removed on exit,
# also on failure or Ctrl-C.
#
# Needs (Debian 12): apt-get install --no-install-recommends qemu-system-x86
#   libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients python3
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
N=${N:-10}
GUESTS=${GUESTS:-"1 5"}
LV_BUILD=${LV_BUILD:-$TOP/build-qemubench}
LV_BUILD=$(cd "$(dirname "$LV_BUILD")" && pwd)/$(basename "$LV_BUILD")

if [ "$(id -u)" != 0 ]; then
    echo "bench/qemu-start.sh: needs root (namespaces, cgroups, libvirtd)" >&2
    exit 1
fi

if [ -z "${LV_QB_INNER:-}" ]; then
    need=""
    command -v qemu-system-x86_64 >/dev/null || need="$need qemu-system-x86"
    command -v libvirtd >/dev/null || need="$need libvirt-daemon libvirt-daemon-driver-qemu"
    command -v virsh >/dev/null || need="$need libvirt-clients"
    [ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ] ||
        need="$need libvirt-daemon-driver-qemu"
    if [ -n "$need" ]; then
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need ||
            exit 1
    fi
    if [ ! -x "$LV_BUILD/lvsh" ]; then
        [ -f "$LV_BUILD/build.ninja" ] || meson setup "$LV_BUILD" "$TOP" >/dev/null || exit 1
        ninja -C "$LV_BUILD" >/dev/null || exit 1
    fi
    "$TOP/tests/qemu/build-guest.sh" "$LV_BUILD/test-guest" || exit 1
    export LV_QB_INNER=1
    exec unshare --net --mount --propagation private -- "$0" "$@"
fi

ip link set lo up
T=$(mktemp -d /tmp/lv-qemubench.XXXXXX)
# QEMU runs as its own uid: it must reach its disks (as under libvirt)
chmod 0711 "$T"
# litevirt's run directory and libvirt's /run/libvirt ($T/libvirt/run,
# bound there by bench/lib/libvirt-hosts.sh) on tmpfs, as /run is on a host
# (and in bench/run.sh); their definitions, logs and libvirt's /var/lib
# stay on the disk. Mounted in the run's own mount namespace: gone with it.
for d in run libvirt/run; do
    mkdir -p "$T/$d"
    mount -t tmpfs -o mode=0755,size=64m lv-qb-run "$T/$d" || exit 1
done
LIBVIRTD_PID=""
VIRTLOGD_PID=""
. "$HERE/lib/libvirt-hosts.sh"
LV_URI=$(libvirt_host_uri "$T/libvirt")
export LITEVIRT_CONFDIR=$T/conf LITEVIRT_GUESTDIR=$T/guests LITEVIRT_RUNDIR=$T/run \
    LITEVIRT_LOGDIR=$T/log
mkdir -p "$T/conf" "$T/guests" "$T/run" "$T/log" "$T/xml"

cleanup() {
    set +e
    for i in $(seq 0 "$LAST"); do
        "$LV_BUILD/lvsh" destroy "qb$i" >/dev/null 2>&1
    done
    libvirt_host_stop "$T/libvirt"
    # our cgroup subtree (libvirt's and litevirt's cgroups are below it):
    # step back out of it, then remove it bottom-up
    for d in $CG_DIRS; do
        echo $$ > "$(dirname "$d")/cgroup.procs" 2>/dev/null
    done
    for d in $CG_DIRS; do
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    umount -l "$T/run" "$T/libvirt/run" 2>/dev/null
    rm -rf "$T"
}
# guests qb0..qbLAST: as many as the largest memory figure needs (10 at least)
LAST=9
for g in $GUESTS; do [ "$g" -gt $((LAST + 1)) ] && LAST=$((g - 1)); done
CG_DIRS=""
trap cleanup EXIT
trap 'exit 130' INT TERM

# one cgroup subtree below our own cgroup in every hierarchy, which becomes
# the root of libvirtd's cgroup namespace: whatever libvirt or litevirt
# create lands below it
while IFS=: read -r _id ctrl path; do
    if [ -z "$ctrl" ]; then
        base=/sys/fs/cgroup/unified
    else
        base=/sys/fs/cgroup/${ctrl#name=}
    fi
    [ -d "$base$path" ] || continue
    d=${base%/}${path%/}/lv-qemubench.$$
    mkdir "$d" || exit 1
    CG_DIRS="$CG_DIRS $d"
    if [ "$ctrl" = cpuset ]; then
        cat "$(dirname "$d")/cpuset.cpus" > "$d/cpuset.cpus"
        cat "$(dirname "$d")/cpuset.mems" > "$d/cpuset.mems"
    fi
    echo $$ > "$d/cgroup.procs" || exit 1
done <<EOF
$(cat /proc/self/cgroup)
EOF

# --- libvirt, in its own mount + cgroup namespace --------------------------
# (bench/lib/libvirt-hosts.sh; LV_QB_CONFINE: libvirt's default qemu.conf,
# what confines its QEMU)
LIBVIRT_OK=0
if [ -n "${LV_QB_COST:-}" ] || [ "${LV_QB_LIBVIRT:-1}" = 0 ]; then
    : # litevirt against itself or QEMU by hand only: no libvirtd
elif LVH_QEMU_DEFAULTS=${LV_QB_CONFINE:-} libvirt_host_start "$T/libvirt" qemu; then
    LIBVIRT_OK=1
fi
LIBVIRTD_PID=$(cat "$T/libvirt/run/qb-libvirtd.pid" 2>/dev/null)
VIRTLOGD_PID=$(cat "$T/libvirt/run/qb-virtlogd.pid" 2>/dev/null)

# --- the guests: the same XML for litevirt and libvirt ---------------------
[ -n "${LV_QB_CONFINE:-}${LV_QB_COST:-}${LV_QB_SAVE:-}${LV_QB_SNAPSHOT:-}" ] && LAST=0 # one guest is enough
QB_DISK= QB_UUID=
if [ -n "${LV_QB_SNAPSHOT:-}" ]; then # a disk to snapshot; a fixed uuid: defined again each round
    qemu-img create -q -f qcow2 "$T/qb0.qcow2" 16M || exit 1
    QB_DISK="<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$T/qb0.qcow2'/><target dev='vda' bus='virtio'/></disk>"
    QB_UUID="<uuid>6c1b6a52-7d7e-4f4e-9d0e-5b1e1c0ffee0</uuid>"
fi
for i in $(seq 0 $LAST); do
    mac=$(printf '52:54:00:be:%02x:%02x' $((i / 256)) $((i % 256)))
    cat > "$T/xml/qb$i.xml" <<EOX
<domain type='qemu'>
  <name>qb$i</name>$QB_UUID
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$LV_BUILD/test-guest/vmlinuz</kernel>
    <initrd>$LV_BUILD/test-guest/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet</cmdline></os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>$QB_DISK
    <serial type='pty'/><console type='pty'/>
    <interface type='user'><mac address='$mac'/><model type='virtio'/></interface>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <memballoon model='virtio'/>
  </devices>
</domain>
EOX
    "$LV_BUILD/lvsh" define "$T/xml/qb$i.xml" >/dev/null || exit 1
    if [ "$LIBVIRT_OK" = 1 ]; then
        virsh -q -c "$LV_URI" define "$T/xml/qb$i.xml" >/dev/null || LIBVIRT_OK=0
    fi
done

export LV_BUILD T N GUESTS LV_URI LIBVIRT_OK LIBVIRTD_PID VIRTLOGD_PID
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "QEMU $(qemu-system-x86_64 --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')," \
    "libvirt $(libvirtd --version | awk '{print $NF}'), N=$N"
if [ -n "${LV_QB_CONFINE:-}" ]; then
    python3 "$HERE/qemu-confinement.py"
elif [ -n "${LV_QB_COST:-}" ]; then
    python3 "$HERE/qemu-confine-cost.py"
elif [ -n "${LV_QB_SAVE:-}" ]; then
    python3 "$HERE/qemu-save.py"
elif [ -n "${LV_QB_SNAPSHOT:-}" ]; then
    python3 "$HERE/qemu-snapshot.py"
else
    python3 "$HERE/qemu-start.py"
fi
rc=$?
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
