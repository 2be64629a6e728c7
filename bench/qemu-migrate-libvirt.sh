#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/qemu-migrate-libvirt.sh: libvirt's live migration (`virsh migrate
# --live --p2p`) of the same 128 MiB booted TCG test guest bench/migrate.sh
# uses, between two "hosts": two network namespaces joined by a veth pair,
# each with its own libvirtd + virtlogd (started by hand, -d, killed by pid)
# in its own mount + cgroup namespace (temp dirs over /run/libvirt,
# /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt, /etc/libvirt;
# different host UUIDs; the destination listens on TCP without auth, in its
# namespace only). Prints per-migration total (virsh migrate returned) and
# the downtime libvirt reports; compare with bench/migrate.sh.
#   sudo ROUNDS=3 bench/qemu-migrate-libvirt.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
ROUNDS=${ROUNDS:-3}
LV_BUILD=${LV_BUILD:-$TOP/build-qemubench}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
"$TOP/tests/qemu/build-guest.sh" "$LV_BUILD/test-guest" || exit 1
T=$(mktemp -d /tmp/lv-qemumig.XXXXXX)
NSA=qbm-a-$$ NSB=qbm-b-$$
CG_DIRS=""
LVH_DIR=$T LVH_NS_A=$NSA LVH_NS_B=$NSB LVH_ADDR_A=10.77.0.1 LVH_ADDR_B=10.77.0.2
. "$HERE/lib/libvirt-hosts.sh"
uri() { libvirt_uri "$1"; }
cleanup() {
    set +e
    libvirt_hosts_stop
    ip netns del "$NSA" 2>/dev/null
    ip netns del "$NSB" 2>/dev/null
    for d in $CG_DIRS; do echo $$ > "$(dirname "$d")/cgroup.procs" 2>/dev/null; done
    for d in $CG_DIRS; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

while IFS=: read -r _id ctrl path; do
    if [ -z "$ctrl" ]; then base=/sys/fs/cgroup/unified; else base=/sys/fs/cgroup/${ctrl#name=}; fi
    [ -d "$base$path" ] || continue
    d=${base%/}${path%/}/lv-qemumig.$$
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

ip netns add "$NSA" && ip netns add "$NSB" || exit 1
ip link add qbm-a$$ netns "$NSA" type veth peer name qbm-b$$ netns "$NSB" || exit 1
ip -n "$NSA" addr add 10.77.0.1/24 dev qbm-a$$
ip -n "$NSB" addr add 10.77.0.2/24 dev qbm-b$$
for n in "$NSA" "$NSB"; do ip -n "$n" link set lo up; done
ip -n "$NSA" link set qbm-a$$ up
ip -n "$NSB" link set qbm-b$$ up

libvirt_hosts_start || exit 1

cat > "$T/qbm.xml" <<EOX
<domain type='qemu'>
  <name>qbm</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$LV_BUILD/test-guest/vmlinuz</kernel>
    <initrd>$LV_BUILD/test-guest/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet</cmdline></os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='pty'/><console type='pty'/>
    <interface type='user'><mac address='52:54:00:be:0c:20'/><model type='virtio'/></interface>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <memballoon model='virtio'/>
  </devices>
</domain>
EOX
virsh -q -c "$(uri a)" define "$T/qbm.xml" >/dev/null || exit 1
virsh -q -c "$(uri a)" start qbm >/dev/null || exit 1
sleep 4   # let the guest boot: migrate a running kernel, as bench/migrate.sh

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg), libvirt $(libvirtd --version | awk '{print $NF}')"
echo "| round | direction | virsh migrate --live --p2p returned, ms | libvirt job time elapsed, ms | data processed | downtime, ms |"
echo "|---|---|---|---|---|---|"
src=a dst=b
for r in $(seq $((ROUNDS * 2))); do
    dip=10.77.0.1; [ $dst = b ] && dip=10.77.0.2
    t0=$(date +%s%N)
    if ! err=$(virsh -q -c "$(uri $src)" migrate --live --p2p qbm \
            "qemu+tcp://$dip/system" --migrateuri "tcp://$dip" 2>&1); then
        echo "virsh migrate $src -> $dst failed: $err" >&2
        tail -5 "$T/$src/log/libvirtd.log" >&2
        exit 1
    fi
    t1=$(date +%s%N)
    virsh -q -c "$(uri $dst)" domjobinfo qbm --completed > "$T/job" 2>/dev/null
    [ "$r" = 1 ] && cp "$T/job" "$T/job1"
    job() { sed -n "s/^$1: *\([0-9.]*\).*/\1/p" "$T/job"; }
    echo "| $(( (r + 1) / 2 )) | $src → $dst | $(( (t1 - t0) / 1000000 )) |" \
        "$(job 'Time elapsed') | $(job 'Data processed') $(sed -n 's/^Data processed: *[0-9.]* *//p' "$T/job") |" \
        "$(job 'Total downtime') |"
    t=$src; src=$dst; dst=$t
done
echo "first migration's job (virsh domjobinfo --completed on the destination):"
sed 's/^/    /' "$T/job1"
