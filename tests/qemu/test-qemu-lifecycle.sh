#!/bin/bash
# QEMU guests through lvsh and the supervisor, with real qemu-system-x86_64
# (TCG) booting the tiny test guest (tests/qemu/build-guest.sh):
#   boot + serial console markers, VNC (vncdisplay, RFB banner, a picture
#   taken by vncsnapshot), suspend stops the guest's counter and resume
#   continues it, ACPI shutdown, destroy leaves nothing (no qemu, cgroup,
#   state dir, socket, port), autoport under concurrent starts gives
#   distinct ports, and failure paths (missing kernel, bad disk, port range
#   exhausted, QEMU dying at start, a CPU model or feature QEMU cannot
#   give) fail with a clear error leaving nothing; a custom CPU model with
#   a topology runs as libvirt would start it.
# Runs in its own network namespace (VNC ports, slirp), with LITEVIRT_*
# pointing into a temporary directory. Needs root and qemu: else 77.
set -u

. "${LV_SOURCE_ROOT:?}/tests/qemu/qemu-test.sh"
. "${LV_SOURCE_ROOT:?}/tests/lib/ifstat.sh"
# a private network namespace for everything below
qemu_test_init --net

# Guest names (and so their cgroups, litevirt-NAME) are this run's own:
# another run of this test on the machine must not meet them.
Q=lvqt$$
T=$(mktemp -d /tmp/lv-test-qemu-life.XXXXXX)
# QEMU runs as its own uid: it must reach its disks (as under libvirt)
chmod 0711 "$T"
export LITEVIRT_CONFDIR=$T/conf LITEVIRT_GUESTDIR=$T/guests LITEVIRT_RUNDIR=$T/run \
       LITEVIRT_LOGDIR=$T/log
mkdir -p "$LITEVIRT_CONFDIR" "$LITEVIRT_GUESTDIR" "$LITEVIRT_RUNDIR" "$LITEVIRT_LOGDIR"
GUESTS=""
HELPERS=""
FAILS=0

cleanup() {
    for h in $HELPERS; do kill "$h" 2>/dev/null; wait "$h" 2>/dev/null; done
    # shellcheck disable=SC2086
    qemu_guests_end $GUESTS
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok   $*"; }

# define NAME [graphics-xml] [kernel path] [extra devices]: a user-mode NIC
# (or NIC), VCPUS vCPUs, TOP; without a kernel 32 MiB booting from disk
define() {
    local kernel=${3-$KERNEL}
    GUEST_KERNEL=$kernel GUEST_MEM=$([ -n "$kernel" ] && echo 128 || echo 32) \
        GUEST_VCPU="<vcpu>${VCPUS-1}</vcpu>" GUEST_TOP=${TOP-} qemu_guest_define "$1" \
        "${NIC:-<interface type='user'><mac address='52:54:00:4c:56:01'/><model type='virtio'/></interface>}
    ${2-}
    ${4-}"
}

# wait_for FILE PATTERN SECONDS
wait_for() {
    local i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -aq "$2" "$1" 2>/dev/null && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

last_counter() {
    grep -ao 'LV-COUNTER [0-9]*' "$1" | tail -n1 | awk '{print $2}'
}

wait_state() { # NAME STATE SECONDS
    local i=0
    while [ $i -lt $(($3 * 10)) ]; do
        [ "$("$LVSH" domstate "$1" 2>/dev/null | head -n1)" = "$2" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# nothing of guest NAME is left: process, state dir, cgroup
check_gone() {
    local name=$1 pid=$2 i=0
    # the supervisor tears down after reporting: give it time (bounded)
    while [ $i -lt 150 ]; do
        local alive=0
        [ -e "$LITEVIRT_RUNDIR/$name" ] && alive=1
        [ -n "$pid" ] && [ -d "/proc/$pid" ] && alive=1
        [ $alive = 0 ] && break
        sleep 0.1; i=$((i + 1))
    done
    if [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q "guest=$name," "/proc/$pid/cmdline" 2>/dev/null; then
        fail "$name: qemu $pid still runs"
    fi
    [ -e "$LITEVIRT_RUNDIR/$name" ] && fail "$name: state dir left: $(ls "$LITEVIRT_RUNDIR/$name")"
    local cg
    cg=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "litevirt-$name" 2>/dev/null | head -n1)
    [ -n "$cg" ] && fail "$name: cgroup left: $cg"
    return 0
}

# ---- boot, console, VNC, channels ----
define ${Q}-boot "<graphics type='vnc' autoport='yes'/>" "$KERNEL" \
    "<channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <channel type='unix'><target type='virtio' name='org.litevirt.echo.0'/></channel>"
out=$("$LVSH" start ${Q}-boot 2>&1) || fail "start: $out"
pid=$(qemu_pid ${Q}-boot)
[ -n "$pid" ] && [ -d "/proc/$pid" ] || fail "no qemu process after start"
grep -q "litevirt-${Q}-boot" "/proc/$pid/cgroup" || fail "qemu is not in the guest's cgroup"
# its own mount namespace with a private /dev
[ "$(readlink /proc/$pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] || fail "qemu shares our mount namespace"
nodev=$(nsenter -t "$pid" -m ls /dev 2>/dev/null | tr '\n' ' ')
case "$nodev" in *sda*|*loop0*|*tty1*|"") fail "qemu's /dev is not private: $nodev";; *) ok "private /dev: $nodev";; esac

CON=$T/console.out
timeout 60 "$LVSH" console ${Q}-boot < /dev/null > "$CON" 2>&1 &
HELPERS="$HELPERS $!"
if wait_for "$CON" "LV-GUEST-BOOTED" 40 && wait_for "$CON" "LV-COUNTER 2" 20; then
    ok "serial console shows the guest booting"
else
    fail "no boot marker on the console: $(tail -c 300 "$CON")"
fi
grep -aq "LV-MAC eth0 52:54:00:4c:56:01" "$CON" && ok "guest sees its NIC with the right MAC" ||
    fail "guest NIC MAC not seen"
# <channel type='unix'>: virtio-serial ports the guest sees by name, each a
# socket in the guest's state directory that the running definition names
grep -aq "LV-VPORT org.qemu.guest_agent.0" "$CON" && grep -aq "LV-VPORT org.litevirt.echo.0" "$CON" &&
    ok "guest sees the guest-agent and echo channels" || fail "virtio ports not seen: $(grep -a LV-VPORT "$CON")"
GA=$LITEVIRT_RUNDIR/${Q}-boot/channel.org.qemu.guest_agent.0
ECHO=$LITEVIRT_RUNDIR/${Q}-boot/channel.org.litevirt.echo.0
live=$("$LVSH" dumpxml ${Q}-boot)
echo "$live" | grep -q "<source mode='bind' path='$GA'/>" && [ -S "$GA" ] &&
    ok "running definition names the guest agent's socket $GA" ||
    fail "guest-agent socket not in the running definition: $(echo "$live" | grep -A3 '<channel')"
"$LVSH" dumpxml --inactive ${Q}-boot | grep -q "path='$GA'" && fail "stored definition got the run-time path"
# (a client that half-closes is gone for QEMU: keep the socket open)
reply=$(timeout 20 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while b"\n" not in buf:
    d = s.recv(100)
    if not d: break
    buf += d
print(buf.decode().split("\n")[0])' "$ECHO" "LV-PING-$$" 2>&1)
[ "$reply" = "LV-PING-$$" ] && ok "a line written into the channel's socket comes back from the guest" ||
    fail "echo channel: '$reply'"

disp=$("$LVSH" vncdisplay ${Q}-boot 2>&1)
[ "$disp" = "127.0.0.1:0" ] && ok "vncdisplay: $disp (as virsh)" || fail "vncdisplay: '$disp'"
[ "$("$LVSH" domdisplay ${Q}-boot 2>&1)" = "vnc://127.0.0.1:0" ] || fail "domdisplay"
banner=$(timeout 3 socat -T2 - TCP:127.0.0.1:5900 < /dev/null 2>/dev/null | head -c 12)
[ "$banner" = "RFB 003.008" ] && ok "VNC answers with an RFB banner" || fail "RFB banner: '$banner'"
if command -v vncsnapshot >/dev/null; then
    SHOT=$BUILD/test-qemu-vnc.jpg
    rm -f "$SHOT"
    timeout 30 vncsnapshot -quiet 127.0.0.1:0 "$SHOT" >/dev/null 2>&1
    [ -s "$SHOT" ] && ok "vncsnapshot took a picture: $SHOT" || fail "vncsnapshot took no picture"
fi

# ---- stats ----
stats=$("$LVSH" domstats ${Q}-boot 2>&1)
echo "$stats" | grep -q "balloon.maximum=131072" && echo "$stats" | grep -q "cpu.time=" &&
    ok "domstats" || fail "domstats: $stats"

# ---- setmem (virtio balloon; the guest loads virtio_balloon) ----
out=$("$LVSH" setmem ${Q}-boot 96M 2>&1) && ok "setmem 96M" || fail "setmem 96M: $out"
# bounded wait for the guest's balloon driver to give the memory back
i=0
until "$LVSH" domstats ${Q}-boot 2>&1 | grep -q "balloon.current=98304$" || [ $i -ge 300 ]; do
    sleep 0.1; i=$((i + 1))
done
"$LVSH" domstats ${Q}-boot 2>&1 | grep -q "balloon.current=98304$" &&
    ok "balloon inflated: balloon.current=98304" ||
    fail "balloon after setmem 96M: $("$LVSH" domstats ${Q}-boot 2>&1 | grep balloon)"
info=$("$LVSH" dominfo ${Q}-boot 2>&1)
echo "$info" | grep -q "^Used memory: *98304 KiB" && echo "$info" | grep -q "^Max memory: *131072 KiB" &&
    ok "dominfo: used 98304 KiB of 131072" || fail "dominfo after setmem: $info"
"$LVSH" setmem --domain ${Q}-boot --size 131072 --live >/dev/null 2>&1 || fail "setmem --size 131072"
i=0
until "$LVSH" domstats ${Q}-boot 2>&1 | grep -q "balloon.current=131072$" || [ $i -ge 300 ]; do
    sleep 0.1; i=$((i + 1))
done
"$LVSH" domstats ${Q}-boot 2>&1 | grep -q "balloon.current=131072$" && ok "balloon deflated back to 131072 KiB" ||
    fail "balloon after setmem back: $("$LVSH" domstats ${Q}-boot 2>&1 | grep balloon)"
out=$("$LVSH" setmem ${Q}-boot 1G 2>&1) && fail "setmem above max memory succeeded"
echo "$out" | grep -q "higher than max memory" && ok "setmem above max memory refused: $(echo "$out" | tail -1)" ||
    fail "setmem 1G: $out"
out=$("$LVSH" setmem ${Q}-boot 12parsecs 2>&1) && fail "setmem with a bad unit succeeded"
echo "$out" | grep -q "invalid memory size '12parsecs'" && ok "setmem: bad size refused" || fail "setmem 12parsecs: $out"
out=$("$LVSH" setmem ${Q}-boot 64M --config 2>&1) && fail "setmem --config succeeded"

# ---- suspend / resume ----
"$LVSH" suspend ${Q}-boot >/dev/null || fail "suspend"
[ "$("$LVSH" domstate ${Q}-boot)" = "paused" ] || fail "not paused after suspend"
sleep 0.5
c1=$(last_counter "$CON")
sleep 2.5
c2=$(last_counter "$CON")
[ "$c1" = "$c2" ] && ok "suspended guest's counter stays at $c1" || fail "counter moved while suspended: $c1 -> $c2"
"$LVSH" resume ${Q}-boot >/dev/null || fail "resume"
if wait_for "$CON" "LV-COUNTER $((c2 + 1))\b" 10; then ok "resumed guest counts on"; else fail "counter did not continue after resume"; fi
[ "$("$LVSH" domstate ${Q}-boot)" = "running" ] || fail "not running after resume"

# ---- reattach after SIGKILL of the supervisor ----
spid=$(cat "$LITEVIRT_RUNDIR/${Q}-boot/supervisor.pid")
c1=$(last_counter "$CON")
kill -9 "$spid"
i=0; while [ -d "/proc/$spid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -d "/proc/$pid" ] && ok "QEMU survives its supervisor's SIGKILL" || fail "QEMU died with its supervisor"
out=$("$LVSH" start ${Q}-boot 2>&1) || fail "start after supervisor death: $out"
[ "$(qemu_pid ${Q}-boot)" = "$pid" ] && ok "reattached to the same QEMU ($pid)" ||
    fail "not the same QEMU after reattach: $(qemu_pid ${Q}-boot) vs $pid"
[ "$("$LVSH" domstate ${Q}-boot)" = "running" ] || fail "not running after reattach"
CON2=$T/console2.out
timeout 60 "$LVSH" console ${Q}-boot < /dev/null > "$CON2" 2>&1 &
HELPERS="$HELPERS $!"
counter_above() { # FILE N SECONDS: the counter in FILE goes above N
    local i=0 c
    while [ $i -lt $(($3 * 10)) ]; do
        c=$(last_counter "$1")
        [ -n "$c" ] && [ "$c" -gt "$2" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
if counter_above "$CON2" "$((c1 + 1))" 20; then
    ok "the guest's counter went on across the reattach ($c1 -> $(last_counter "$CON2"))"
else
    fail "counter did not continue after reattach: $(tail -c 200 "$CON2")"
fi
grep -aq "LV-GUEST-BOOTED\|LV-COUNTER 1\b" "$CON2" && fail "the guest restarted on reattach"
[ "$("$LVSH" vncdisplay ${Q}-boot)" = "127.0.0.1:0" ] || fail "vncdisplay after reattach"
CON=$CON2

# ---- a suspended guest stays suspended across a reattach ----
"$LVSH" suspend ${Q}-boot >/dev/null || fail "suspend before reattach"
spid=$(cat "$LITEVIRT_RUNDIR/${Q}-boot/supervisor.pid")
kill -9 "$spid"
i=0; while [ -d "/proc/$spid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
out=$("$LVSH" start ${Q}-boot 2>&1) || fail "start after supervisor death (paused): $out"
[ "$("$LVSH" domstate ${Q}-boot)" = "paused" ] && ok "reattached guest is still paused" ||
    fail "state after paused reattach: $("$LVSH" domstate ${Q}-boot)"
"$LVSH" resume ${Q}-boot >/dev/null || fail "resume after reattach"
CON3=$T/console-r.out
timeout 60 "$LVSH" console ${Q}-boot < /dev/null > "$CON3" 2>&1 &
HELPERS="$HELPERS $!"
c3=$(last_counter "$CON")
counter_above "$CON3" "${c3:-0}" 20 && ok "resumed after reattach, counting on" ||
    fail "no counting after resume: $(tail -c 200 "$CON3")"
CON=$CON3

# ---- ACPI shutdown ----
"$LVSH" shutdown ${Q}-boot >/dev/null || fail "shutdown"
if wait_state ${Q}-boot "shut off" 60; then ok "ACPI shutdown"; else fail "guest did not shut down"; fi
# the guest itself powered off (QEMU's SHUTDOWN event says why)
grep -q "QEMU event SHUTDOWN (guest-shutdown)" "$LITEVIRT_LOGDIR/${Q}-boot.log" &&
    ok "the guest powered itself off" || fail "no guest-shutdown event from QEMU"
sleep 0.3
check_gone ${Q}-boot "$pid"

# ---- destroy leaves nothing, port is free again ----
out=$("$LVSH" start ${Q}-boot 2>&1) || fail "second start: $out"
pid=$(qemu_pid ${Q}-boot)
[ "$("$LVSH" vncdisplay ${Q}-boot)" = "127.0.0.1:0" ] || fail "port 5900 not reused"
"$LVSH" destroy ${Q}-boot >/dev/null || fail "destroy"
sleep 0.3
[ "$("$LVSH" domstate ${Q}-boot)" = "shut off" ] || fail "not shut off after destroy"
out=$("$LVSH" setmem ${Q}-boot 64M 2>&1) && fail "setmem of a shut off guest succeeded"
echo "$out" | grep -q "not running" && ok "setmem of a shut off guest refused" || fail "setmem shut off: $out"
check_gone ${Q}-boot "$pid"
ok "destroy left nothing behind"

# ---- passwords set over QMP, SPICE ----
define ${Q}-gfx "<graphics type='vnc' autoport='yes' passwd='s3cret'/>
    <graphics type='spice' autoport='yes' passwd='s3cret'><listen type='address' address='127.0.0.1'/></graphics>
    <memballoon model='none'/>" ""
out=$("$LVSH" start ${Q}-gfx 2>&1) || fail "start with VNC+SPICE passwords: $out"
vnc=$("$LVSH" vncdisplay ${Q}-gfx); dd=$("$LVSH" domdisplay ${Q}-gfx)
spice=$(python3 -c 'import json,sys; print([g["port"] for g in json.load(open(sys.argv[1]))["graphics"] if g["type"] == "spice"][0])' "$LITEVIRT_RUNDIR/${Q}-gfx/qemu.json")
[ "$dd" = "vnc://$vnc" ] && [ -n "$spice" ] && ok "domdisplay $dd, SPICE on port $spice" || fail "displays: $vnc $dd spice=$spice"
# VNC authentication with the password set over QMP (set_password)
vport=$((5900 + ${vnc##*:}))
good=$(python3 "$SRC/tests/qemu/vnc-auth.py" "$vport" s3cret 2>&1)
bad=$(python3 "$SRC/tests/qemu/vnc-auth.py" "$vport" wrong 2>&1)
[ "$good" = ok ] && [ "$bad" = refused ] && ok "VNC takes the password set over QMP, refuses another" ||
    fail "VNC auth: right password '$good', wrong password '$bad'"
timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$spice" && ok "SPICE listens on $spice" || fail "SPICE port $spice closed"
out=$("$LVSH" setmem ${Q}-gfx 16M 2>&1) && fail "setmem without a balloon succeeded"
echo "$out" | grep -q "has no memory balloon" && ok "setmem without a balloon refused" || fail "setmem ${Q}-gfx: $out"
gpid=$(qemu_pid ${Q}-gfx)
"$LVSH" destroy ${Q}-gfx >/dev/null
check_gone ${Q}-gfx "$gpid"

# ---- <memtune>/<cputune> on QEMU's cgroup ----
head -c 1048576 /dev/zero > "$T/tune.img"
TOP="<memtune><hard_limit unit='MiB'>512</hard_limit></memtune><cputune><shares>512</shares></cputune>" \
    define ${Q}-tune "" "" "<disk type='file' device='disk'><source file='$T/tune.img'/><target dev='vda' bus='virtio'/></disk>"
out=$("$LVSH" start ${Q}-tune 2>&1) || fail "start ${Q}-tune: $out"
upid=$(qemu_pid ${Q}-tune)
memcg=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' "/proc/$upid/cgroup")
cpucg=$(sed -n 's/^[0-9]*:[a-z,]*cpu[,:]\(.*\)$/\1/p; s/^[0-9]*:cpu,cpuacct:\(.*\)$/\1/p' "/proc/$upid/cgroup" | head -n1)
lim=$(cat "/sys/fs/cgroup/memory$memcg/memory.limit_in_bytes" 2>/dev/null)
[ "$lim" = $((512 * 1024 * 1024)) ] && ok "memtune hard_limit on QEMU's cgroup ($memcg)" ||
    fail "memory.limit_in_bytes '$lim' in '$memcg'"
shares=$(cat /sys/fs/cgroup/cpu,cpuacct"$cpucg"/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu"$cpucg"/cpu.shares 2>/dev/null)
[ "$shares" = 512 ] && ok "cputune shares on QEMU's cgroup" || fail "cpu.shares '$shares' in '$cpucg'"
st=$("$LVSH" domstats ${Q}-tune 2>&1)
echo "$st" | grep -q "block.0.name=vda" && ok "domstats names the disk vda" ||
    fail "domstats block names: $(echo "$st" | grep block)"
"$LVSH" destroy ${Q}-tune >/dev/null
check_gone ${Q}-tune "$upid"

# ---- a tap on a bridge (netns/) ----
ip link add lvqtbr0 type bridge && ip link set lvqtbr0 up
NIC="<interface type='bridge'><source bridge='lvqtbr0'/><mac address='52:54:00:4c:56:02'/><model type='virtio'/></interface>" \
    define ${Q}-tap
# lv.dhcp: the guest brings eth0 up (and sends DHCP discovers on it)
sed -i 's/quiet</quiet lv.dhcp</' "$T/${Q}-tap.xml" && "$LVSH" undefine ${Q}-tap >/dev/null &&
    "$LVSH" define "$T/${Q}-tap.xml" >/dev/null ||
    fail "define ${Q}-tap with lv.dhcp"
out=$("$LVSH" start ${Q}-tap 2>&1) || fail "start with a tap: $out"
tpid=$(qemu_pid ${Q}-tap)
ports=$(ip -o link show master lvqtbr0 | awk -F': ' '{print $2}')
[ -n "$ports" ] && ok "tap on the bridge: $ports" || fail "no tap on bridge lvqtbr0"
CON3=$T/console3.out
timeout 60 "$LVSH" console ${Q}-tap < /dev/null > "$CON3" 2>&1 &
HELPERS="$HELPERS $!"
if wait_for "$CON3" "LV-MAC eth0 52:54:00:4c:56:02" 40; then
    ok "the guest sees its tap NIC with the right MAC"
else
    fail "guest NIC on the tap not seen: $(tail -c 300 "$CON3")"
fi
# lvsh domifstat: 28000 bytes from the host to the guest's MAC once its
# eth0 is up (it has sent on it), read once QEMU has taken them
tap=$(echo "$ports" | head -n1)
ip addr add 192.0.2.1/24 dev lvqtbr0 &&
    ip neigh replace 192.0.2.15 lladdr 52:54:00:4c:56:02 dev lvqtbr0 nud permanent || fail "host address"
i=0; while [ "$(ifstat_host "$tap" | cut -d' ' -f1)" = 0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
ifstat_send 192.0.2.15
i=0; while [ "$(ifstat_host "$tap" | cut -d' ' -f2)" -lt 28000 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if ifstat_check ${Q}-tap "$tap" "$tap" && [ "$IFSTAT_RX" -ge 28000 ] && [ "$IFSTAT_TX" -gt 0 ] &&
    [ "$IFSTAT_TX" -lt "$IFSTAT_RX" ]; then
    ok "domifstat $tap: the tap's counters swapped (rx_bytes $IFSTAT_RX, tx_bytes $IFSTAT_TX)"
else
    fail "domifstat $tap: $IFSTAT_OUT; tap $(ifstat_host "$tap")"
fi
ifstat_check ${Q}-tap 52:54:00:4c:56:02 "$tap" && ok "domifstat by MAC" || fail "domifstat by MAC: $IFSTAT_OUT"
ip addr del 192.0.2.1/24 dev lvqtbr0
"$LVSH" destroy ${Q}-tap >/dev/null || fail "destroy ${Q}-tap"
check_gone ${Q}-tap "$tpid"
[ -z "$(ip -o link show master lvqtbr0)" ] && ok "tap gone after destroy" || fail "tap left: $(ip -o link show master lvqtbr0)"

# ---- autoport under concurrent starts ----
N=6
for i in $(seq 1 $N); do define "${Q}-vnc$i" "<graphics type='vnc' autoport='yes'/>" ""; done
for i in $(seq 1 $N); do "$LVSH" start "${Q}-vnc$i" >/dev/null 2>"$T/start$i.err" & done
wait
displays=""
for i in $(seq 1 $N); do
    d=$("$LVSH" vncdisplay "${Q}-vnc$i" 2>&1) || fail "${Q}-vnc$i: $(cat "$T/start$i.err") $d"
    displays="$displays $d"
done
uniq=$(echo $displays | tr ' ' '\n' | sort -u | wc -l)
[ "$uniq" = "$N" ] && ok "$N concurrent autoport starts got distinct ports:$displays" ||
    fail "autoport collision:$displays"
for i in $(seq 1 $N); do "$LVSH" destroy "${Q}-vnc$i" >/dev/null; done

# ---- failure paths ----
start_fails() { # NAME EXPECTED-TEXT
    local out
    if out=$("$LVSH" start "$1" 2>&1); then
        fail "$1: started, expected failure"
        return
    fi
    case "$out" in
        *"$2"*) ok "$1 refused: $(echo "$out" | tail -n1)";;
        *) fail "$1: unexpected error: $out";;
    esac
    sleep 0.2
    check_gone "$1" ""
}
define ${Q}-nokernel "" "$T/no-such-vmlinuz"
start_fails ${Q}-nokernel "kernel '$T/no-such-vmlinuz': No such file or directory"

define ${Q}-baddisk "" "" "<disk type='file' device='disk'><source file='$T/missing.img'/><target dev='vda' bus='virtio'/></disk>"
start_fails ${Q}-baddisk "disk 'vda': source '$T/missing.img'"

# QEMU itself refuses: a "qcow2" that is not one
head -c 1048576 /dev/zero > "$T/notqcow2.img"
define ${Q}-qemufail "" "" "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$T/notqcow2.img'/><target dev='vda' bus='virtio'/></disk>"
start_fails ${Q}-qemufail "QEMU failed to start: qemu-system-x86_64: -blockdev"

# <cpu mode='custom'>: the host's QEMU is asked which models and features
# it has (cached in RUNDIR/.qemu-cpu); what it lacks is refused at start
TOP="<cpu mode='custom'><model>NoSuchModel</model></cpu>" define ${Q}-cpubad "" ""
start_fails ${Q}-cpubad "CPU model 'NoSuchModel' is unknown to /usr/bin/qemu-system-x86_64"
TOP="<cpu mode='custom'><model>qemu64</model><feature policy='require' name='vmx'/></cpu>" \
    define ${Q}-cpuvmx "" ""
start_fails ${Q}-cpuvmx "CPU feature 'vmx' is required (policy='require') but TCG cannot give it"
[ -s "$LITEVIRT_RUNDIR/.qemu-cpu/tcg_usr_bin_qemu-system-x86_64.json" ] &&
    ok "QEMU's CPU models are cached in RUNDIR/.qemu-cpu" || fail "no CPU probe cache"
VCPUS=4 TOP="<cpu mode='custom'><model>Haswell</model><topology sockets='1' cores='2' threads='2'/><feature policy='disable' name='lahf_lm'/><feature policy='optional' name='pclmuldq'/></cpu>" \
    define ${Q}-cpu "" ""
if out=$("$LVSH" start ${Q}-cpu 2>&1); then
    pid=$(qemu_pid ${Q}-cpu)
    args=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)
    case "$args" in
        *"-cpu Haswell,lahf-lm=off,pclmulqdq=on "*"-smp 4,sockets=1,dies=1,cores=2,threads=2 "*)
            ok "custom CPU runs: -cpu Haswell,lahf-lm=off,pclmulqdq=on -smp 4,sockets=1,dies=1,cores=2,threads=2";;
        *) fail "custom CPU: QEMU runs with: $args";;
    esac
    n=$("$LVSH" vcpucount ${Q}-cpu --active --live 2>&1)
    [ "$n" = 4 ] && ok "QEMU runs 4 vCPUs (query-cpus-fast)" || fail "vcpucount: $n"
    "$LVSH" destroy ${Q}-cpu >/dev/null 2>&1
    check_gone ${Q}-cpu "$pid"
else
    fail "custom CPU guest did not start: $out"
fi

# port range exhausted
printf 'vnc_port_min = 5990\nvnc_port_max = 5990\n' > "$LITEVIRT_CONFDIR/host.conf"
define ${Q}-port1 "<graphics type='vnc' autoport='yes'/>" ""
define ${Q}-port2 "<graphics type='vnc' autoport='yes'/>" ""
"$LVSH" start ${Q}-port1 >/dev/null 2>&1 || fail "${Q}-port1 did not start"
start_fails ${Q}-port2 "no free VNC port in the range 5990-5990"
"$LVSH" destroy ${Q}-port1 >/dev/null 2>&1
rm -f "$LITEVIRT_CONFDIR/host.conf"

# kvm on a host that cannot run it: /dev/kvm hidden (bound over by
# /dev/null) in a mount namespace that lvsh and the supervisor inherit
sed "s/type='qemu'/type='kvm'/; s/${Q}-boot/${Q}-kvm/" "$T/${Q}-boot.xml" > "$T/${Q}-kvm.xml"
"$LVSH" define "$T/${Q}-kvm.xml" >/dev/null && GUESTS="$GUESTS ${Q}-kvm"
if out=$(unshare -m -- sh -c "mount --bind /dev/null /dev/kvm && '$LVSH' start ${Q}-kvm" 2>&1); then
    fail "${Q}-kvm started without KVM"
else
    case "$out" in
        *"domain type 'kvm'"*) ok "kvm without KVM refused: $(echo "$out" | tail -n1)";;
        *) fail "${Q}-kvm: unexpected error: $out";;
    esac
fi
check_gone ${Q}-kvm ""

echo "$FAILS failure(s)"
[ "$FAILS" = 0 ]
