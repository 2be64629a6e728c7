#!/bin/bash
# lvsh dumpxml of a running QEMU guest (TCG, the tiny test guest of
# tests/qemu/build-guest.sh) shows the live values as virsh dumpxml does,
# and each is checked against the real thing: the VNC port autoport gave
# (an RFB handshake on it), the tap's name (a link on the guest's bridge,
# with the guest's MAC's host twin), the serial console's pty (a tty in
# QEMU's devpts), libvirt's aliases (each one an id= QEMU was given); the
# password only with --security-info; --inactive shows the stored
# definition without any of them; defining the live XML again gives the
# stored definition back. Runs in its own network namespace. Needs root
# and qemu.
set -u

SRC=${LV_SOURCE_ROOT:?}
. "$SRC/tests/lib/lvtest.sh"
. "$SRC/tests/qemu/qemu-test.sh"
qemu_test_init --net
qemu_test_dirs qemu-livexml
ip link add br0 type bridge && ip link set br0 up || { echo "FAIL: bridge br0"; exit 1; }
G=lvlx$$
cleanup() {
    qemu_guests_end "$G"
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

head -c 1048576 /dev/zero > "$T/disk.img"
cat > "$T/$G.xml" <<XML
<domain type='qemu'>
  <name>$G</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>$KERNEL</kernel><initrd>$INITRD</initrd><cmdline>console=ttyS0 quiet</cmdline></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$T/disk.img'/><target dev='vdb' bus='virtio'/></disk>
    <interface type='bridge'><mac address='52:54:00:4c:58:01'/><source bridge='br0'/><model type='virtio'/></interface>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <graphics type='vnc' autoport='yes' passwd='s3cret' listen='127.0.0.1'/>
    <video><model type='vga'/></video>
  </devices>
</domain>
XML
"$LVSH" define "$T/$G.xml" >/dev/null || fail "define"
out=$("$LVSH" start "$G" 2>&1) || fail "start: $out"
pid=$(qemu_pid "$G")
lvtest_wait_grep "$LITEVIRT_LOGDIR/$G.console.log" LV-GUEST-BOOTED 60 && ok "guest booted" ||
    fail "no boot marker: $(tail -c 300 "$LITEVIRT_LOGDIR/$G.console.log" 2>&1)"

live=$("$LVSH" dumpxml "$G")
echo "$live" > "$T/live.xml"

# the VNC port autoport gave, answering VNC
port=$(echo "$live" | sed -n "s/.*<graphics type='vnc' port='\([0-9]*\)' autoport='yes'.*/\1/p")
if [ -n "$port" ] && [ "$port" -ge 5900 ]; then
    ok "dumpxml shows the VNC port autoport gave: $port"
    banner=$(timeout 5 python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1])), 3); print(s.recv(12).decode())' "$port" 2>&1)
    [ "$banner" = "RFB 003.008" ] && ok "VNC answers on that port ($banner)" || fail "port $port: '$banner'"
    [ "$("$LVSH" vncdisplay "$G")" = "127.0.0.1:$((port - 5900))" ] && ok "vncdisplay agrees" ||
        fail "vncdisplay $("$LVSH" vncdisplay "$G") vs port $port"
else
    fail "no live VNC port: $(echo "$live" | grep graphics)"
fi
# the tap, on the guest's bridge
tap=$(echo "$live" | sed -n "/<interface type='bridge'>/,/<\/interface>/s/.*<target dev='\([^']*\)'\/>.*/\1/p")
if [ -n "$tap" ] && ip -o link show dev "$tap" master br0 | grep -q "$tap"; then
    ok "dumpxml names the tap $tap, a link on br0"
    ip -d link show dev "$tap" | grep -q "tun type tap" && ok "$tap is a tap" || fail "$tap is not a tap: $(ip -d link show dev "$tap")"
else
    fail "tap '$tap' not on br0: $(ip -o link show master br0)"
fi
# the serial console's pty, in QEMU's own devpts
pty=$(echo "$live" | sed -n "/<serial type='pty'>/,/<\/serial>/s/.*<source path='\([^']*\)'\/>.*/\1/p")
case "$pty" in
/dev/pts/*) [ -c "/proc/$pid/root$pty" ] && ok "serial pty $pty is a tty in QEMU's devpts" ||
                fail "pty $pty is not in QEMU's /dev";;
*) fail "no pty path for the serial port: $(echo "$live" | grep -A3 '<serial')";;
esac
echo "$live" | grep -q "<console type='pty' tty='$pty'>" && ok "the console names the same pty (tty=)" ||
    fail "console: $(echo "$live" | grep -A2 '<console')"
# aliases: libvirt's names, each the id QEMU was given
for a in virtio-disk1 net0 serial0 channel0 video0; do
    echo "$live" | grep -q "<alias name='$a'/>" || fail "no alias $a in dumpxml"
done
aliases=$(echo "$live" | sed -n "s/.*<alias name='\([^']*\)'\/>.*/\1/p" | sort -u)
for a in $aliases; do
    tr '\0' '\n' < "/proc/$pid/cmdline" | grep -q "\"id\":\"$a\"" ||
        fail "alias $a is not an id on QEMU's command line"
done
ok "aliases $(echo $aliases), each a QEMU device id (vdb alone is virtio-disk1, as libvirt names it)"
# secrets only with --security-info; the stored definition without live values
echo "$live" | grep -q "passwd=" && fail "dumpxml shows the VNC password"
"$LVSH" dumpxml --security-info "$G" | grep -q "passwd='s3cret'" && ok "passwd only with --security-info" ||
    fail "--security-info: no passwd"
inactive=$("$LVSH" dumpxml --inactive "$G")
echo "$inactive" | grep -qE "<alias|port='$port'|dev='$tap'|$pty" &&
    fail "--inactive shows live values: $(echo "$inactive" | grep -E "<alias|port=|dev='$tap'|pts")"
echo "$inactive" | grep -q "port='-1' autoport='yes'" && ok "--inactive: the stored definition (autoport, no port)" ||
    fail "--inactive graphics: $(echo "$inactive" | grep graphics)"
# the live XML defines back to the stored definition (as libvirt: aliases
# and the autoport's port dropped). Taken out first: the tap's name
# (litevirt's own, it would stay as given), the ptys' and the channel's
# paths (the parser keeps a given path)
sed -i -e "s/<target dev='$tap'\/>//" -e "s| tty='$pty'||" -e "\|<source path='$pty'/>|d" \
    -e "\|<source mode='bind' path='$LITEVIRT_RUNDIR/|d" "$T/live.xml"
"$LVSH" define "$T/live.xml" >/dev/null 2>"$T/err" || fail "defining the live XML: $(cat "$T/err")"
"$LVSH" dumpxml --inactive "$G" | diff <(echo "$inactive") - >"$T/diff" 2>&1 &&
    ok "the live XML defines back to the same stored definition" || fail "redefined: $(cat "$T/diff")"

"$LVSH" destroy "$G" >/dev/null || fail "destroy"
lvtest_sanitizer_check
echo "$fails failure(s)"
[ "$fails" = 0 ]
