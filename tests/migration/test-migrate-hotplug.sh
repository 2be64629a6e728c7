#!/bin/bash
# Hot-plugged devices survive a live migration and a save/restore (issue
# 19): a disk (attach-disk) and a NIC (attach-interface, a tap on a bridge
# of the same name on both hosts) are plugged into the running test guest
# on A, which then migrates to B (tests/lib/hosts.sh) and is saved and
# restored there. B's QEMU must be started with them at the same PCI slots,
# or it refuses the stream (a device state for a slot it does not have).
# Checked on B as a user does: the guest counts on (no reboot),
# domblklist/domiflist list them, and detach-disk/detach-interface work
# there (the guest releases them: its LV-BLOCK/LV-NET lines change).
# Likewise a vCPU (setvcpus --live 2 of 3 on A): B's QEMU starts with
# -smp 1,maxcpus=3 and -device ...-x86_64-cpu,id=vcpu1 (as libvirt), not
# -smp 2 (which gives virtio-blk 2 queues: "Bad config data"), and B can
# unplug it again.
# Needs root, ip, nsenter, qemu-system-x86_64 and the test guest; else 77.
set -u

. "${LV_SOURCE_ROOT:?}/tests/lib/hosts-guest.sh"
hosts_guest_require ip nsenter

T=$(mktemp -d /tmp/lv-test-mighp.XXXXXX)
chmod 0711 "$T"
G=lvmh$$
HOSTS_DIR=$T HOSTS_TAG=lvmh HOSTS_NET=10.94.0 HOSTS_SUP=$SUP
. "$SRC/tests/lib/hosts.sh"
hosts_guest_begin

hosts_create || { echo "skip: cannot make the two hosts"; exit 77; }
BR=lvmhbr$$
for h in a b; do
    ip -n "$(hosts_ns $h)" link add $BR type bridge && ip -n "$(hosts_ns $h)" link set $BR up ||
        { fail "bridge $BR on $h"; exit 1; }
done
truncate -s 8M "$T/disk.img"
truncate -s 16M "$T/d1.img"
# ACPI: a pc machine's PCI hot-plug is ACPI's
hosts_guest_define "" "$T/disk.img" "<acpi/>" "<vcpu current='1'>3</vcpu>"
console a "$T/con-a" 300
wait_for "$T/con-a" "LV-COUNTER 2" 120 || { fail "guest on A: $(tail -c 300 "$T/con-a")"; exit 1; }

last_line() { grep -a "$2" "$1" | tail -n1 | tr -d '\r' | sed 's/ *$//'; }
wait_last() { # FILE TAG LINE: the guest's last TAG line there becomes LINE (30 s)
    local i=0
    while [ $i -lt 300 ]; do
        [ "$(last_line "$1" "$2")" = "$3" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# ---- hot-plug on A ----
M=52:54:00:4d:$(printf '%02x:%02x' $(($$ % 256)) $(($$ / 256 % 256)))
out=$(hosts_on a "$LVSH" attach-disk $G "$T/d1.img" vdb 2>&1) && [ "$out" = "Disk attached successfully" ] ||
    fail "attach-disk on A: $out"
wait_last "$T/con-a" LV-BLOCK "LV-BLOCK vda vdb" && ok "the guest on A sees the hot-plugged disk" ||
    fail "guest on A did not see vdb: $(last_line "$T/con-a" LV-BLOCK)"
out=$(hosts_on a "$LVSH" attach-interface $G bridge $BR --model virtio --mac $M 2>&1) &&
    [ "$out" = "Interface attached successfully" ] || fail "attach-interface on A: $out"
wait_last "$T/con-a" LV-NET "LV-NET eth0 lo" && ok "the guest on A sees the hot-plugged NIC" ||
    fail "guest on A did not see the NIC: $(last_line "$T/con-a" LV-NET)"
out=$(hosts_on a "$LVSH" setvcpus $G 2 --live 2>&1) || fail "setvcpus 2 --live on A: $out"
[ "$(hosts_on a "$LVSH" vcpucount $G --live --active 2>&1 | head -1)" = 2 ] && ok "2 of 3 vCPUs on A" ||
    fail "vcpucount on A: $(hosts_on a "$LVSH" vcpucount $G 2>&1)"

# ---- A -> B ----
before=$(last_counter "$T/con-a")
out=$(hosts_on a "$LVSH" migrate --live $G "$(hosts_transport b)" 2>&1) ||
    { fail "migration A -> B: $out"; exit 1; }
ok "migrated A -> B with a hot-plugged disk and NIC"
console b "$T/con-b" 300
if wait_counter "$T/con-b" $((before + 3)) 30; then
    ok "the counter continues on B (A showed $before, B $(last_counter "$T/con-b"))"
else fail "guest does not count on B: $(tail -c 300 "$T/con-b")"; fi
grep -aq "LV-GUEST-BOOTED" "$T/con-b" && fail "the guest booted again on B"
vcpus_on_b() { # WHAT: 2 vCPUs in B's QEMU, started as -smp 1,maxcpus=3 and -device vcpu1
    local qpid args
    [ "$(hosts_on b "$LVSH" vcpucount $G --live --active 2>&1 | head -1)" = 2 ] &&
        [ "$(hosts_on b "$LVSH" vcpuinfo $G | grep -c '^VCPU:')" = 2 ] && ok "2 vCPUs on B $1 (vcpucount, vcpuinfo)" ||
        fail "vCPUs on B $1: $(hosts_on b "$LVSH" vcpucount $G 2>&1)"
    qpid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$T/b/run/$G/qemu.json")
    args=$(tr '\0' ' ' < "/proc/$qpid/cmdline")
    [[ "$args" == *"-smp 1,maxcpus=3,"* && "$args" == *'"id":"vcpu1","socket-id":1,"core-id":0,"thread-id":0}'* ]] &&
        ok "B's QEMU $1: -smp 1,maxcpus=3 and the plugged vCPU as -device vcpu1" ||
        fail "B's QEMU vCPUs $1: $(echo "$args" | grep -o -- '-smp [^ ]*') $(echo "$args" | grep -o '{[^ ]*vcpu[^ ]*}')"
}
vcpus_on_b "after the migration"
out=$(hosts_on b "$LVSH" domblklist $G 2>&1)
echo "$out" | grep -q "^ *vdb  *$T/d1.img" && ok "domblklist on B lists the hot-plugged disk" ||
    fail "domblklist on B: $out"
out=$(hosts_on b "$LVSH" domiflist $G 2>&1)
echo "$out" | grep -q "bridge  *$BR .*$M" && ok "domiflist on B lists the hot-plugged NIC" ||
    fail "domiflist on B: $out"
tap=$(ip -n "$(hosts_ns b)" -o link show master $BR | awk -F': ' '{print $2}')
[ -n "$tap" ] && ok "B's tap $tap on its bridge $BR" || fail "no tap on B's $BR"

# ---- save and restore on B: the image's QEMU has them at the same places too ----
before=$(last_counter "$T/con-b")
out=$(hosts_on b "$LVSH" save $G "$T/hp.save" 2>&1) || fail "save on B: $out"
out=$(hosts_on b "$LVSH" restore "$T/hp.save" 2>&1) || { fail "restore on B: $out"; exit 1; }
console b "$T/con-b" 300
if wait_counter "$T/con-b" $((before + 2)) 30; then ok "the counter continues after save and restore on B"
else fail "guest does not count after the restore: $(tail -c 300 "$T/con-b")"; fi
vcpus_on_b "after the restore"

# ---- detach on B: the guest there releases them ----
out=$(hosts_on b "$LVSH" detach-disk $G vdb 2>&1) && [ "$out" = "Disk detached successfully" ] ||
    fail "detach-disk on B: $out"
wait_last "$T/con-b" LV-BLOCK "LV-BLOCK vda" && ok "detach-disk on B: the guest released vdb" ||
    fail "detach-disk on B: $(last_line "$T/con-b" LV-BLOCK)"
! hosts_on b "$LVSH" domblklist $G | grep -q vdb && ok "vdb gone from B's definition" ||
    fail "vdb still in B's domblklist"
out=$(hosts_on b "$LVSH" detach-interface $G bridge 2>&1) && [ "$out" = "Interface detached successfully" ] ||
    fail "detach-interface on B: $out"
wait_last "$T/con-b" LV-NET "LV-NET lo" && ok "detach-interface on B: the guest released the NIC" ||
    fail "detach-interface on B: $(last_line "$T/con-b" LV-NET)"
# the vCPU plugged on A is B's to unplug (a -device there, not a boot vCPU)
out=$(hosts_on b "$LVSH" setvcpus $G 1 --live 2>&1) &&
    [ "$(hosts_on b "$LVSH" vcpucount $G --live --active 2>&1 | head -1)" = 1 ] &&
    hosts_on b "$LVSH" dumpxml $G | grep -q "<vcpu id='1' enabled='no' hotpluggable='yes'/>" &&
    ok "setvcpus 1 --live on B: the guest released vcpu1" || fail "setvcpus 1 on B: $out"
counts_on b "$T/con-b" "after the detaches"

hosts_on b "$LVSH" destroy $G >/dev/null 2>&1
hosts_guest_sanitizer_check
[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all hot-plug migration checks passed"
