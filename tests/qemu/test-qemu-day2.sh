#!/bin/bash
# Day-2 commands on real QEMU guests (TCG, the tiny test guest of
# tests/qemu/build-guest.sh), end to end through lvsh and the supervisor:
#   edit: unchanged, changed, invalid (nothing stored; without a terminal
#         it fails, on a terminal virsh's "Try again?" loop re-opens the
#         editor), a failing editor, a definition changed meanwhile;
#   create: a transient guest runs and leaves no definition, --paused
#         never runs the CPUs until resume, refusals (running name, name
#         of another UUID, invalid file) leave nothing;
#   define --validate;
#   hot-plug: attach-disk/attach-device/detach-disk/detach-device with
#         --live/--config/--persistent/--current, seen from inside the
#         guest (its init prints LV-BLOCK), kept across a supervisor
#         reattach, a guest that does not release a disk (paused) reported
#         after the timeout and the disk gone once it does, the supervisor
#         answering dominfo meanwhile and destroy ending such a wait, refusals;
#   interfaces: attach-interface/detach-interface and attach-device/
#         detach-device of <interface> (a tap on a bridge): the guest's new
#         NIC (LV-NET) and its traffic on the tap, --persistent, a reattach;
#   looking at a guest: domblklist, domblkinfo, domblkstat, dommemstat, vcpucount,
#         screenshot (a PNG of the VGA text screen, not blank), send-key
#         (ctrl-alt-del reboots the guest).
# Runs in its own network namespace. Needs root, qemu, busybox-static.
set -u

command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
# the guest first (downloads from the archive; cached), outside the namespace
sh "${LV_SOURCE_ROOT:?}/tests/qemu/build-guest.sh" "${LV_BUILD_ROOT:?}/test-guest" || exit 77
if [ -z "${LV_QEMU_TEST_NETNS:-}" ]; then
    export LV_QEMU_TEST_NETNS=1
    exec unshare --net -- "$0" "$@"
fi
ip link set lo up
SRC=${LV_SOURCE_ROOT:?}
. "$SRC/tests/lib/lvtest.sh"
lvtest_tree qemu-day2
# QEMU runs as its own uid: it must reach its disks
chmod 0711 "$T"
sh "$SRC/tests/qemu/build-guest.sh" "$LV_BUILD_ROOT/test-guest" || exit 77
KERNEL=$LV_BUILD_ROOT/test-guest/vmlinuz
INITRD=$LV_BUILD_ROOT/test-guest/initrd.gz
Q=lvd2$$
GUESTS=""

cleanup() {
    for g in $GUESTS; do "$LVSH" destroy "$g" >/dev/null 2>&1; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

# xml NAME [UUID] [devices]: a bootable test guest's definition on stdout
xml() {
    cat <<EOF
<domain type='qemu'>
  <name>$1</name>${2:+
  <uuid>$2</uuid>}
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>$KERNEL</kernel><initrd>$INITRD</initrd><cmdline>console=ttyS0 quiet</cmdline></os>
  <features><acpi/></features>
  <devices>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    ${3-}
  </devices>
</domain>
EOF
}

gone() { # NAME: nothing of it is left (state dir, definition, list)
    local i=0
    while [ -e "$LITEVIRT_RUNDIR/$1" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    [ ! -e "$LITEVIRT_RUNDIR/$1" ] && [ ! -e "$LITEVIRT_GUESTDIR/$1.xml" ] &&
        ! "$LVSH" list --all --name | grep -qx "$1"
}

# ---------------------------------------------------------------- edit
G=${Q}-ed
xml $G > "$T/$G.xml"
"$LVSH" define --validate "$T/$G.xml" >/dev/null && GUESTS="$GUESTS $G" || fail "define --validate"
cp "$LITEVIRT_GUESTDIR/$G.xml" "$T/stored.before"

# an editor that changes nothing
out=$(EDITOR=true "$LVSH" edit $G 2>&1) &&
    [ "$out" = "Domain '$G' XML configuration not changed." ] &&
    ok "edit, unchanged: $out" || fail "edit unchanged: $out"
cmp -s "$T/stored.before" "$LITEVIRT_GUESTDIR/$G.xml" || fail "edit unchanged rewrote the definition"

# an editor script: VISUAL wins over EDITOR
cat > "$T/ed-mem" <<'EOF'
#!/bin/sh
sed -i 's|<memory unit=.KiB.>131072</memory>|<memory unit="KiB">163840</memory>|' "$1"
EOF
chmod +x "$T/ed-mem"
out=$(VISUAL="$T/ed-mem" EDITOR=false "$LVSH" edit $G 2>&1) &&
    [ "$out" = "Domain '$G' XML configuration edited." ] || fail "edit memory: $out"
"$LVSH" dumpxml --inactive $G | grep -q "<memory unit='KiB'>163840</memory>" &&
    ok "edit stored the new memory (163840 KiB)" || fail "edit: memory not stored: $("$LVSH" dumpxml $G | grep memory)"
cp "$LITEVIRT_GUESTDIR/$G.xml" "$T/stored.before"

# invalid XML without a terminal: fails, nothing stored, temp file gone
cat > "$T/ed-bad" <<'EOF'
#!/bin/sh
echo "$1" > "$(dirname "$0")/ed-bad.path"
sed -i 's|>[0-9]*</vcpu>|>zero</vcpu>|' "$1"
EOF
chmod +x "$T/ed-bad"
out=$(EDITOR="$T/ed-bad" "$LVSH" edit $G 2>&1 < /dev/null) && fail "edit with invalid XML succeeded: $out"
case "$out" in
    *"error: Failed."*vcpu*) ok "invalid edit refused: $(echo "$out" | tr '\n' ' ')" ;;
    *) fail "invalid edit: unexpected message: $out" ;;
esac
cmp -s "$T/stored.before" "$LITEVIRT_GUESTDIR/$G.xml" && ok "invalid edit stored nothing" ||
    fail "invalid edit changed the stored definition"
[ -e "$(cat "$T/ed-bad.path")" ] && fail "edit left its temporary file $(cat "$T/ed-bad.path")"

# a failing editor
out=$(EDITOR="exit 3;" "$LVSH" edit $G 2>&1) && fail "edit with a failing editor succeeded"
echo "$out" | grep -q "exit status 3" && ok "failing editor: $out" || fail "failing editor: $out"

# on a terminal: the error, "Try again?", y re-opens the editor (which
# fixes it the second time), then the definition is stored
cat > "$T/ed-twice" <<'EOF'
#!/bin/sh
d=$(dirname "$0")
n=$(cat "$d/ed-twice.n" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$d/ed-twice.n"
if [ $n = 1 ]; then
    sed -i 's|>1</vcpu>|>zero</vcpu>|' "$1"
else
    grep -q ">zero</vcpu>" "$1" || echo "not re-opened with the edits" > "$d/ed-twice.err"
    sed -i 's|>zero</vcpu>|>2</vcpu>|' "$1"
fi
EOF
chmod +x "$T/ed-twice"
out=$( (sleep 1; printf 'y\n'; sleep 10) |
    EDITOR="$T/ed-twice" timeout 60 script -qec "'$LVSH' edit $G" /dev/null 2>&1)
echo "$out" | grep -q "Failed. Try again? \[y,n,f,?\]" && [ "$(cat "$T/ed-twice.n")" = 2 ] &&
    [ ! -e "$T/ed-twice.err" ] && echo "$out" | grep -q "XML configuration edited" &&
    ok "terminal: error, Try again?, y re-opened the editor with the edits, stored" ||
    fail "terminal re-edit loop: $(cat "$T/ed-twice.err" 2>/dev/null) $out"
"$LVSH" dumpxml --inactive $G | grep -q ">2</vcpu>" || fail "re-edited vcpu not stored"
cp "$LITEVIRT_GUESTDIR/$G.xml" "$T/stored.before"
# n throws the changes away
out=$( (sleep 1; printf 'n\n'; sleep 10) |
    EDITOR="$T/ed-bad" timeout 60 script -qec "'$LVSH' edit $G" /dev/null 2>&1)
cmp -s "$T/stored.before" "$LITEVIRT_GUESTDIR/$G.xml" && echo "$out" | grep -q "Try again" &&
    ok "terminal: n stores nothing" || fail "terminal n: $out"

# redefined by someone else while being edited
cat > "$T/ed-race" <<EOF
#!/bin/sh
sed 's|>2</vcpu>|>1</vcpu>|' "$LITEVIRT_GUESTDIR/$G.xml" > "$T/other.xml"
"$LVSH" define "$T/other.xml" >/dev/null
sed -i 's|>2</vcpu>|>3</vcpu>|' "\$1"
EOF
chmod +x "$T/ed-race"
out=$(EDITOR="$T/ed-race" "$LVSH" edit $G 2>&1 < /dev/null) && fail "edit over a redefinition succeeded"
echo "$out" | grep -q "changed by another user" && "$LVSH" dumpxml --inactive $G | grep -q ">1</vcpu>" &&
    ok "edit refuses to overwrite a definition changed meanwhile" || fail "edit race: $out"

out=$(EDITOR=true "$LVSH" edit ${Q}-nosuch 2>&1) && fail "edit of a missing domain succeeded"
[ "$out" = "error: failed to get domain '${Q}-nosuch'" ] || fail "edit missing domain: $out"

# -------------------------------------------------------------- create
C=${Q}-tr
xml $C > "$T/$C.xml"
GUESTS="$GUESTS $C"
out=$("$LVSH" create "$T/$C.xml" 2>&1) && [ "$out" = "Domain '$C' created from $T/$C.xml" ] ||
    fail "create: $out"
[ -e "$LITEVIRT_GUESTDIR/$C.xml" ] && fail "create stored a definition"
"$LVSH" list --name | grep -qx "$C" && ok "create: transient guest runs, no definition stored" ||
    fail "create: not listed: $("$LVSH" list)"
"$LVSH" dominfo $C | grep -q "^Persistent: *no" || fail "dominfo: not transient: $("$LVSH" dominfo $C)"
lvtest_wait_grep "$LITEVIRT_LOGDIR/$C.console.log" LV-GUEST-BOOTED 60 && ok "created guest boots" ||
    fail "created guest did not boot: $(tail -c 300 "$LITEVIRT_LOGDIR/$C.console.log")"
out=$("$LVSH" create "$T/$C.xml" 2>&1) && fail "create of a running name succeeded"
echo "$out" | grep -q "domain '$C' is already active" && ok "create of a running name refused" ||
    fail "create running name: $out"
"$LVSH" destroy $C >/dev/null || fail "destroy $C"
gone $C && ok "destroyed transient guest is gone (no definition, not listed)" || fail "$C left something"

# --paused: the CPUs never ran until resume
P=${Q}-pa
xml $P > "$T/$P.xml"
GUESTS="$GUESTS $P"
"$LVSH" create --paused "$T/$P.xml" >/dev/null || fail "create --paused"
[ "$("$LVSH" domstate --reason $P)" = "paused (user)" ] && ok "create --paused: paused (user)" ||
    fail "create --paused: $("$LVSH" domstate --reason $P)"
sleep 3 # a booting guest prints within ~2.5 s
[ -s "$LITEVIRT_LOGDIR/$P.console.log" ] && fail "paused guest printed: $(head -c 200 "$LITEVIRT_LOGDIR/$P.console.log")"
"$LVSH" resume $P >/dev/null || fail "resume $P"
lvtest_wait_grep "$LITEVIRT_LOGDIR/$P.console.log" LV-GUEST-BOOTED 60 && ok "paused guest boots once resumed" ||
    fail "resumed guest did not boot"
"$LVSH" destroy $P >/dev/null
gone $P || fail "$P left something"

# refusals leave nothing
xml $G 11111111-2222-3333-4444-555555555555 > "$T/other-uuid.xml"
out=$("$LVSH" create "$T/other-uuid.xml" 2>&1) && fail "create over another uuid succeeded"
echo "$out" | grep -q "Failed to create domain from" && echo "$out" | grep -q "already exists with uuid" &&
    ok "create of a defined name with another uuid refused" || fail "create other uuid: $out"
xml ${Q}-bad | sed 's|<vcpu>1</vcpu>|<vcpu>-1</vcpu>|' > "$T/bad.xml"
out=$("$LVSH" create "$T/bad.xml" 2>&1) && fail "create of invalid XML succeeded"
echo "$out" | grep -q "Failed to create domain from $T/bad.xml" && gone ${Q}-bad &&
    ok "create of invalid XML refused, nothing left" || fail "create invalid: $out"
# QEMU refusing (a missing kernel): the supervisor's error, nothing left
xml ${Q}-nok | sed "s|$KERNEL|$T/no-such-kernel|" > "$T/nok.xml"
out=$("$LVSH" create "$T/nok.xml" 2>&1) && fail "create without a kernel succeeded"
echo "$out" | grep -q "Failed to create domain from $T/nok.xml" && gone ${Q}-nok &&
    ok "create failing in QEMU leaves nothing: $(echo "$out" | tail -n1 | cut -c1-100)" ||
    fail "create no kernel: $out"

# ------------------------------------------------------------ hot-plug
H=${Q}-hp
xml $H > "$T/$H.xml"
"$LVSH" define "$T/$H.xml" >/dev/null && GUESTS="$GUESTS $H" || fail "define $H"
"$LVSH" start $H >/dev/null || fail "start $H"
CL=$LITEVIRT_LOGDIR/$H.console.log
lvtest_wait_grep "$CL" LV-GUEST-BOOTED 60 || fail "$H did not boot"
truncate -s 16M "$T/d1.img" "$T/d2.img"
live_has() { "$LVSH" dumpxml $H | grep -q "<target dev='$1'"; }
stored_has() { "$LVSH" dumpxml --inactive $H | grep -q "<target dev='$1'"; }
# the guest prints LV-BLOCK with its block devices when they change (and
# LV-NET with its interfaces)
last_line() { grep -a "$1" "$CL" | tail -n1 | tr -d '\r' | sed 's/ *$//'; }
wait_last() { # TAG LINE: the guest's last TAG line becomes LINE (30 s)
    local i=0
    while [ $i -lt 300 ]; do
        [ "$(last_line "$1")" = "$2" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
block_now() { last_line LV-BLOCK; }
wait_block() { wait_last LV-BLOCK "LV-BLOCK${1:+ $1}"; }

out=$("$LVSH" attach-disk $H "$T/d1.img" vdb 2>&1) && [ "$out" = "Disk attached successfully" ] ||
    fail "attach-disk: $out"
live_has vdb && ! stored_has vdb && ok "attach-disk: in the running definition only" ||
    fail "attach-disk: live/stored definitions wrong"
# the hot-plugged disk is leased: another guest on the same image is
# refused before its QEMU starts
xml ${Q}-lz "" "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$T/d1.img'/><target dev='vda' bus='virtio'/></disk>" > "$T/lz.xml"
out=$("$LVSH" create "$T/lz.xml" 2>&1) && GUESTS="$GUESTS ${Q}-lz" && fail "a second guest on the hot-plugged disk started"
echo "$out" | grep -q "is in use by guest '$H'" && gone ${Q}-lz &&
    ok "the hot-plugged disk is leased: $(echo "$out" | tail -n1 | cut -c1-110)" || fail "lease of the hot-plugged disk: $out"
wait_block vda && ok "the guest sees the hot-plugged disk: $(block_now)" ||
    fail "guest did not see the disk: $(block_now)"
"$LVSH" domblkstat $H vdb | grep -q "^vdb rd_req [1-9]" && ok "domblkstat of the hot-plugged disk" ||
    fail "domblkstat vdb: $("$LVSH" domblkstat $H vdb 2>&1)"
out=$("$LVSH" attach-disk $H "$T/d1.img" vdb 2>&1) && fail "attach of an existing target succeeded"
echo "$out" | grep -q "target vdb already exists" && ok "existing target refused" || fail "existing target: $out"
out=$("$LVSH" attach-disk $H "$T/nosuch.img" vdd 2>&1) && fail "attach of a missing file succeeded"
echo "$out" | grep -q "nosuch.img.*No such file" && ! live_has vdd &&
    ok "missing source refused, nothing added: $(echo "$out" | tail -n1)" || fail "missing source: $out"
printf '<disk type="file" device="disk">\n  <source file="%s"/>\n  <target dev="vdc" bus="virtio"/>\n  <bogus/>\n</disk>\n' \
    "$T/d2.img" > "$T/bad-disk.xml"
out=$("$LVSH" attach-device $H "$T/bad-disk.xml" 2>&1) && fail "attach-device of invalid XML succeeded"
echo "$out" | grep -q "Failed to attach device from $T/bad-disk.xml" && ! live_has vdc &&
    ok "invalid device XML refused: $(echo "$out" | tail -n1)" || fail "invalid device XML: $out"
printf '<disk type="file" device="disk">\n  <source file="%s"/>\n  <target dev="vdc" bus="virtio"/>\n</disk>\n' \
    "$T/d2.img" > "$T/disk2.xml"
out=$("$LVSH" attach-device $H "$T/disk2.xml" --persistent 2>&1) &&
    [ "$out" = "Device attached successfully" ] || fail "attach-device --persistent: $out"
live_has vdc && stored_has vdc && ok "attach-device --persistent: running and stored definitions" ||
    fail "attach-device --persistent: definitions"
wait_block "vda vdb" && ok "the guest sees both disks: $(block_now)" || fail "second disk: $(block_now)"

# a supervisor reattach keeps them
spid=$(cat "$LITEVIRT_RUNDIR/$H/supervisor.pid")
kill -9 "$spid"
i=0; while [ -d "/proc/$spid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
out=$("$LVSH" start $H 2>&1) || fail "reattach $H: $out $(tail -5 "$LITEVIRT_LOGDIR/$H.log")"
live_has vdb && live_has vdc && ok "hot-plugged disks still in dumpxml after a reattach" ||
    fail "reattach lost the hot-plugged disks: $("$LVSH" dumpxml $H | grep target)"
out=$("$LVSH" detach-disk $H vdb 2>&1) && [ "$out" = "Disk detached successfully" ] ||
    fail "detach-disk after reattach: $out"
! live_has vdb && wait_block vdb && ok "detach-disk after the reattach: the guest released it ($(block_now))" ||
    fail "detach-disk: $(block_now)"
out=$("$LVSH" create "$T/lz.xml" 2>&1) && GUESTS="$GUESTS ${Q}-lz" && "$LVSH" destroy ${Q}-lz >/dev/null &&
    ok "the detached disk's lease is gone with it (another guest starts on it)" || fail "after the detach: $out"

# a guest that does not release the disk (paused: it cannot answer); the
# supervisor answers meanwhile (the reply waits on its event loop)
HLOG=$LITEVIRT_LOGDIR/$H.log
"$LVSH" suspend $H >/dev/null
"$LVSH" detach-device $H "$T/disk2.xml" --persistent > "$T/detach.out" 2>&1 &
DPID=$!
lvtest_wait_grep "$HLOG" "disk 'vdc' .*device_del sent, waiting for the guest" 10 ||
    fail "detach of vdc did not reach the supervisor: $(cat "$T/detach.out")"
s=$(date +%s%N)
out=$("$LVSH" dominfo $H 2>&1)
ms=$((($(date +%s%N) - s) / 1000000))
echo "$out" | grep -q "^State: *paused" && [ $ms -lt 2000 ] && kill -0 $DPID 2>/dev/null &&
    ok "dominfo answered in $ms ms while a detach waits for the guest" ||
    fail "dominfo during a detach ($ms ms): $out"
wait $DPID && fail "detach from a paused guest succeeded"
out=$(cat "$T/detach.out")
echo "$out" | grep -q "did not release disk 'vdc' within 5000 ms" && live_has vdc && stored_has vdc &&
    ok "unreleased disk reported, kept: $(echo "$out" | tail -n1 | cut -c1-90)" || fail "unreleased: $out"
"$LVSH" resume $H >/dev/null
i=0; while live_has vdc && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
! live_has vdc && wait_block "" && ok "released once the guest ran: gone from the running definition" ||
    fail "late release: $(block_now); $("$LVSH" dumpxml $H | grep target)"
out=$("$LVSH" detach-disk $H vdz 2>&1) && fail "detach of a missing disk succeeded"
echo "$out" | grep -q "No disk found whose source path or target is vdz" || fail "detach missing: $out"

# ------------------------------------------------------------ interfaces
# a tap made by the supervisor on a bridge, the guest's new NIC (its init
# prints LV-NET and asks for DHCP on it: traffic to the bridge side)
BR=lvd2br$$
ip link add $BR type bridge && ip link set $BR up || fail "bridge $BR"
net_now() { last_line LV-NET; }
wait_net() { wait_last LV-NET "LV-NET $1"; }
tap_rx() { ip -s link show "$1" | awk '/RX:/ {getline; print $2}'; }
M1=52:54:00:d2:$(printf '%02x:%02x' $(($$ % 256)) $(($$ / 256 % 256)))
out=$("$LVSH" attach-interface $H bridge $BR --model virtio --mac $M1 2>&1) &&
    [ "$out" = "Interface attached successfully" ] || fail "attach-interface: $out"
"$LVSH" dumpxml $H | grep -q "<mac address='$M1'/>" && ! "$LVSH" dumpxml --inactive $H | grep -q "$M1" &&
    ok "attach-interface: in the running definition only" || fail "attach-interface: definitions"
tap=$(ip -o link show master $BR | awk -F': ' '{print $2}')
[ -n "$tap" ] && ok "the supervisor's tap $tap on bridge $BR" || fail "no tap on $BR"
wait_net "eth0 lo" && ok "the guest sees the new NIC: $(net_now)" || fail "guest NIC: $(net_now)"
i=0; while [ "$(tap_rx "$tap")" = 0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(tap_rx "$tap")" -gt 0 ] && ok "traffic from the guest over it to the bridge side ($(tap_rx "$tap") packets)" ||
    fail "no traffic on $tap"
out=$("$LVSH" attach-interface $H bridge $BR --mac $M1 2>&1) && fail "attach of a MAC in use succeeded"
echo "$out" | grep -q "MAC address $M1 already exists" && ok "a MAC in use refused" || fail "MAC in use: $out"
out=$("$LVSH" attach-interface $H bridge nosuchbr$$ 2>&1) && fail "attach to a missing bridge succeeded"
echo "$out" | grep -q "nosuchbr$$" && [ "$("$LVSH" dumpxml $H | grep -c '<interface')" = 1 ] &&
    ok "a missing bridge refused, nothing added: $(echo "$out" | tail -n1)" || fail "missing bridge: $out"
# a supervisor reattach keeps it, and detaches it afterwards
spid=$(cat "$LITEVIRT_RUNDIR/$H/supervisor.pid")
kill -9 "$spid"
i=0; while [ -d "/proc/$spid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
"$LVSH" start $H >/dev/null || fail "reattach $H"
"$LVSH" dumpxml $H | grep -q "<mac address='$M1'/>" && ok "the hot-plugged interface is still there after a reattach" ||
    fail "reattach lost the interface"
out=$("$LVSH" detach-interface $H bridge 2>&1) && [ "$out" = "Interface detached successfully" ] ||
    fail "detach-interface: $out"
! "$LVSH" dumpxml $H | grep -q "$M1" && [ -z "$(ip -o link show master $BR)" ] && wait_net "lo" &&
    ok "detach-interface: gone from the guest, the definition and the bridge" ||
    fail "detach-interface: $(net_now); $(ip -o link show master $BR)"
# <interface> XML through attach-device/detach-device, --persistent
printf "<interface type='bridge'>\n  <source bridge='%s'/>\n  <model type='virtio'/>\n</interface>\n" $BR > "$T/nic.xml"
out=$("$LVSH" attach-device $H "$T/nic.xml" --persistent 2>&1) && [ "$out" = "Device attached successfully" ] ||
    fail "attach-device <interface>: $out"
m=$("$LVSH" dumpxml $H | sed -n "s/.*<mac address='\([^']*\)'.*/\1/p")
[ -n "$m" ] && "$LVSH" dumpxml --inactive $H | grep -q "<mac address='$m'/>" && wait_net "eth0 lo" &&
    ok "attach-device <interface> --persistent: the same MAC ($m) running and stored" || fail "attach-device nic: $m"
out=$("$LVSH" detach-device $H "$T/nic.xml" --persistent 2>&1) && [ "$out" = "Device detached successfully" ] ||
    fail "detach-device <interface>: $out"
! "$LVSH" dumpxml $H | grep -q "<interface" && ! "$LVSH" dumpxml --inactive $H | grep -q "<interface" && wait_net "lo" &&
    ok "detach-device <interface> --persistent: gone from both definitions and the guest" ||
    fail "detach-device nic: $(net_now)"
out=$("$LVSH" detach-interface $H bridge 2>&1) && fail "detach of a missing interface succeeded"
echo "$out" | grep -q "No interface found whose type is bridge" && ok "detach-interface without one: $(echo "$out" | tail -n1)" ||
    fail "detach missing interface: $out"

# q35: the NIC goes on a free PCIe root port (the guest's PCIe native
# hot-plug under TCG shows it late: only QEMU's side and the release are
# checked here)
Q35=${Q}-q35
xml $Q35 "" "<controller type='pci' index='1' model='pcie-root-port'/>" | sed "s/machine='pc'/machine='q35'/" > "$T/$Q35.xml"
"$LVSH" define "$T/$Q35.xml" >/dev/null && GUESTS="$GUESTS $Q35" || fail "define $Q35"
"$LVSH" start $Q35 >/dev/null || fail "start $Q35"
lvtest_wait_grep "$LITEVIRT_LOGDIR/$Q35.console.log" LV-GUEST-BOOTED 60 || fail "$Q35 did not boot"
out=$("$LVSH" attach-interface $Q35 bridge $BR --model virtio 2>&1) || fail "attach-interface q35: $out"
port=$(grep -o "hot-plugged as lv-hp-net-.* at pci\.[0-9]*" "$LITEVIRT_LOGDIR/$Q35.log" | sed 's/.* at //')
[ -n "$port" ] && "$LVSH" dumpxml $Q35 | grep -q "<interface type='bridge'>" &&
    ok "q35: device_add on the free root port $port" || fail "q35 NIC: $(grep hot-plugged "$LITEVIRT_LOGDIR/$Q35.log")"
out=$("$LVSH" detach-interface $Q35 bridge 2>&1) && ! "$LVSH" dumpxml $Q35 | grep -q "<interface" &&
    [ -z "$(ip -o link show master $BR)" ] && ok "q35: released by the guest, tap gone" || fail "q35 detach: $out"
"$LVSH" destroy $Q35 >/dev/null

# destroy while a detach waits for a guest that does not release the disk:
# the detach ends at once with the reason
out=$("$LVSH" attach-disk $H "$T/d1.img" vdb 2>&1) || fail "attach-disk again: $out"
wait_block vda && "$LVSH" suspend $H >/dev/null || fail "suspend $H with vdb"
"$LVSH" detach-disk $H vdb > "$T/detach.out" 2>&1 &
DPID=$!
lvtest_wait_grep "$HLOG" "disk 'vdb' .*device_del sent, waiting for the guest" 10 ||
    fail "detach of vdb did not reach the supervisor: $(cat "$T/detach.out")"
s=$(date +%s%N)
out=$("$LVSH" destroy $H 2>&1) || fail "destroy during a detach: $out"
wait $DPID && fail "detach of a destroyed guest succeeded"
ms=$((($(date +%s%N) - s) / 1000000))
grep -q "domain '$H' is being destroyed before it released disk 'vdb'" "$T/detach.out" && [ $ms -lt 4000 ] &&
    ok "destroy ends the waiting detach ($ms ms): $(tail -n1 "$T/detach.out" | cut -c1-90)" ||
    fail "detach after destroy ($ms ms): $(cat "$T/detach.out")"

# a shut off guest: live refused, --current/--config change the stored definition
"$LVSH" destroy $H >/dev/null 2>&1
out=$("$LVSH" attach-disk $H "$T/d1.img" vdb 2>&1) && fail "live attach to a shut off guest succeeded"
echo "$out" | grep -q "domain is not running" || fail "live attach shut off: $out"
"$LVSH" detach-disk $H vdc --config >/dev/null && ! stored_has vdc || fail "detach-disk --config"
"$LVSH" attach-disk $H "$T/d1.img" vdb --current >/dev/null && stored_has vdb &&
    ok "shut off: --config/--current change the stored definition" || fail "attach --current"
out=$("$LVSH" attach-disk $H "$T/d1.img" vdb --current --live 2>&1) && fail "--current --live accepted"
"$LVSH" start $H >/dev/null && lvtest_wait_grep "$CL" "LV-BLOCK vda" 60 &&
    ok "stored disk seen by the guest at the next start" || fail "stored disk at start: $(block_now)"
"$LVSH" destroy $H >/dev/null

# ------------------------------------------------------ looking at a guest
I=${Q}-in
truncate -s 8M "$T/d0.img"
qemu-img create -q -f qcow2 "$T/q.qcow2" 64M || fail "qemu-img create"
xml $I "" "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$T/d0.img'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$T/q.qcow2'/><target dev='vdb' bus='virtio'/></disk>
    <graphics type='vnc' autoport='yes'/><video><model type='vga'/></video>" |
    sed "s|<vcpu>1</vcpu>|<vcpu current='1'>2</vcpu>|; s|console=ttyS0 quiet|console=tty0 console=ttyS0|" > "$T/$I.xml"
"$LVSH" define "$T/$I.xml" >/dev/null && GUESTS="$GUESTS $I" || fail "define $I"
"$LVSH" start $I >/dev/null || fail "start $I"
lvtest_wait_grep "$LITEVIRT_LOGDIR/$I.console.log" "LV-COUNTER 1" 60 || fail "$I did not boot"
out=$("$LVSH" domblklist $I)
echo "$out" | head -n1 | grep -q "^ Target *Source$" && echo "$out" | awk -v p="$T/d0.img" '$1=="vda" && $2==p {f=1} END {exit !f}' &&
    ok "domblklist" || fail "domblklist: $out"
"$LVSH" domblklist $I --details | awk -v p="$T/d0.img" '$1=="file" && $2=="disk" && $3=="vda" && $4==p {f=1} END {exit !f}' ||
    fail "domblklist --details: $("$LVSH" domblklist $I --details)"
out=$("$LVSH" domblkinfo $I vda)
echo "$out" | grep -q "^Capacity: *8388608$" && echo "$out" | grep -q "^Physical: *8388608$" &&
    echo "$out" | grep -q "^Allocation: *[0-9]" && ok "domblkinfo of a sparse raw disk" || fail "domblkinfo vda: $out"
out=$("$LVSH" domblkinfo $I "$T/q.qcow2")
echo "$out" | grep -q "^Capacity: *67108864$" && ! echo "$out" | grep -q "^Physical: *67108864$" &&
    ok "domblkinfo of a qcow2 disk (by source): its virtual size" || fail "domblkinfo qcow2: $out"
out=$("$LVSH" domblkinfo $I vdz 2>&1) && fail "domblkinfo of a missing disk succeeded"
echo "$out" | grep -q "invalid path vdz not assigned to domain" || fail "domblkinfo vdz: $out"
out=$("$LVSH" domblkstat $I vda)
echo "$out" | grep -q "^vda rd_req [1-9]" && echo "$out" | grep -q "^vda wr_bytes [0-9]" &&
    ok "domblkstat: the guest's reads counted ($(echo "$out" | head -n1))" || fail "domblkstat: $out"
out=$("$LVSH" domblkstat $I vdz 2>&1) && fail "domblkstat of a missing disk succeeded"
echo "$out" | grep -q "invalid path: vdz" || fail "domblkstat vdz: $out"
out=$("$LVSH" dommemstat $I)
echo "$out" | grep -q "^actual 131072$" && echo "$out" | grep -q "^rss [1-9]" && ok "dommemstat" ||
    fail "dommemstat: $out"
want=$(printf '%-12s %-12s %3d\n' maximum config 2 maximum live 2 current config 1 current live 1)
[ "$("$LVSH" vcpucount $I | sed '/^$/d')" = "$want" ] && ok "vcpucount" || fail "vcpucount: $("$LVSH" vcpucount $I)"
[ "$("$LVSH" vcpucount $I --active --live | sed '/^$/d')" = 1 ] || fail "vcpucount --active --live"
# screenshot: the VGA text screen (the kernel prints its boot messages there)
lvtest_wait_grep "$LITEVIRT_LOGDIR/$I.console.log" "LV-COUNTER 3" 60
out=$("$LVSH" screenshot $I "$T/shot.png" 2>&1) &&
    [ "$out" = "Screenshot saved to $T/shot.png, with type of image/png" ] || fail "screenshot: $out"
if info=$(python3 - "$T/shot.png" <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat, w, h = 8, b'', 0, 0
while pos < len(d):
    n, t = struct.unpack('>I4s', d[pos:pos + 8])
    if t == b'IHDR':
        w, h = struct.unpack('>II', d[pos + 8:pos + 16])
    if t == b'IDAT':
        idat += d[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
# one filter byte per row, then RGB: text means more than one colour
stride = 1 + 3 * w
pix = set(raw[r * stride + 1 + 3 * x:r * stride + 4 + 3 * x] for r in range(h) for x in range(0, w, 3))
assert len(pix) > 1, 'a blank screen'
print(f'{w}x{h}, {len(pix)} colours')
PY
); then ok "screenshot: a PNG of the screen ($info)"; else fail "screenshot image: $info"; fi
(cd "$T" && "$LVSH" screenshot $I >/dev/null) && ls "$T/$I"-*.png >/dev/null 2>&1 ||
    fail "screenshot without FILE: no NAME-DATE.png"
# send-key: ctrl-alt-del makes the guest's kernel restart it (it boots again)
boots() { grep -ac LV-GUEST-BOOTED "$LITEVIRT_LOGDIR/$I.console.log"; }
wait_boots() { # N: the guest has booted N times
    local i=0
    while [ "$(boots)" -lt "$1" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(boots)" -ge "$1" ]
}
out=$("$LVSH" send-key $I KEY_LEFTCTRL KEY_LEFTALT KEY_DELETE 2>&1) && [ -z "$out" ] || fail "send-key: $out"
wait_boots 2 && ok "send-key KEY_LEFTCTRL KEY_LEFTALT KEY_DELETE: the guest rebooted" ||
    fail "no reboot after ctrl-alt-del: $(tail -c 300 "$LITEVIRT_LOGDIR/$I.console.log")"
lvtest_wait_grep "$LITEVIRT_LOGDIR/$I.console.log" "LV-COUNTER 2" 60
"$LVSH" send-key $I --holdtime 50 29 56 111 >/dev/null && wait_boots 3 &&
    ok "send-key by linux keycode numbers, --holdtime" || fail "send-key numbers: $(boots) boots"
out=$("$LVSH" send-key $I KEY_BOGUS 2>&1) && fail "send-key of an unknown key succeeded"
[ "$out" = "error: invalid keycode: 'KEY_BOGUS'" ] || fail "send-key bogus: $out"
out=$("$LVSH" send-key $I --codeset usb 4 2>&1) && fail "send-key with an unknown codeset succeeded"
echo "$out" | grep -q "invalid codeset 'usb'" || fail "send-key codeset: $out"
"$LVSH" destroy $I >/dev/null
[ "$("$LVSH" vcpucount $I | sed '/^$/d')" = "$(printf '%-12s %-12s %3d\n' maximum config 2 current config 1)" ] ||
    fail "vcpucount shut off: $("$LVSH" vcpucount $I)"
out=$("$LVSH" send-key $I KEY_A 2>&1) && fail "send-key to a shut off guest succeeded"
echo "$out" | grep -q "domain is not running" || fail "send-key shut off: $out"
out=$("$LVSH" screenshot $I 2>&1) && fail "screenshot of a shut off guest succeeded"
echo "$out" | grep -q "domain is not running" || fail "screenshot shut off: $out"
# no display: QEMU's reason
"$LVSH" start $G >/dev/null || fail "start $G"
out=$("$LVSH" screenshot $G "$T/none.png" 2>&1) && fail "screenshot without a display succeeded"
echo "$out" | grep -qi "could not take a screenshot of $G" && [ ! -e "$T/none.png" ] &&
    ok "screenshot without a display refused: $(echo "$out" | tail -n1)" || fail "no display: $out"
"$LVSH" destroy $G >/dev/null

lvtest_sanitizer_check
echo "$fails failure(s)"
[ "$fails" = 0 ]
