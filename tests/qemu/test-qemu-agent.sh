#!/bin/bash
# The QEMU guest agent through lvsh (supervisor/agent.h): the test guest
# with Debian's qemu-guest-agent in its initramfs (build-guest.sh --agent)
# answers qemu-agent-command, guestinfo, domifaddr --source agent, domtime,
# domfsinfo, domfsfreeze/domfsthaw, set-user-password, and powers off on
# shutdown --mode agent;
# the plain test guest (a guest-agent channel, no agent behind it) fails
# with "Guest agent is not responding" within the timeout and its
# supervisor goes on answering, also while a long agent call waits (dominfo
# at once), and destroy ends such a call with an error saying so. Own network namespace, LITEVIRT_* in a
# temporary directory. Needs root and qemu: else 77.
set -u

if [ "$(id -u)" != 0 ]; then echo "skip: needs root"; exit 77; fi
command -v qemu-system-x86_64 >/dev/null || { echo "skip: no qemu-system-x86_64"; exit 77; }
BUILD=${LV_BUILD_ROOT:?}
SRC=${LV_SOURCE_ROOT:?}
LVSH=$BUILD/lvsh
[ -x "$LVSH" ] && [ -x "$BUILD/litevirt-supervisor" ] || { echo "skip: lvsh/supervisor not built"; exit 77; }

# the guests first (downloads; cached), outside the namespace
sh "$SRC/tests/qemu/build-guest.sh" "$BUILD/test-guest" || exit 77
sh "$SRC/tests/qemu/build-guest.sh" --agent "$BUILD/test-guest-agent" || exit 77

if [ -z "${LV_QEMU_TEST_NETNS:-}" ]; then
    export LV_QEMU_TEST_NETNS=1
    exec unshare --net -- "$0" "$@"
fi
ip link set lo up

Q=lvqa$$
T=$(mktemp -d /tmp/lv-test-qemu-agent.XXXXXX)
chmod 0711 "$T"
export LITEVIRT_CONFDIR=$T/conf LITEVIRT_GUESTDIR=$T/guests LITEVIRT_RUNDIR=$T/run \
       LITEVIRT_LOGDIR=$T/log
mkdir -p "$LITEVIRT_CONFDIR" "$LITEVIRT_GUESTDIR" "$LITEVIRT_RUNDIR" "$LITEVIRT_LOGDIR"
GUESTS=""
FAILS=0

# qemu_guests_end
. "$SRC/tests/qemu/qemu-test.sh"
cleanup() {
    qemu_guests_end $GUESTS
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok   $*"; }

# define NAME GUESTDIR MAC [DEVICES]: a user-mode NIC and the agent's channel
define() {
    GUEST_KERNEL=$2/vmlinuz GUEST_INITRD=$2/initrd.gz GUEST_VCPU=${VCPU-} qemu_guest_define "$1" \
        "<interface type='user'><mac address='$3'/><model type='virtio'/></interface>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    ${4-}"
}

wait_for() { # FILE PATTERN SECONDS
    local i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -aq "$2" "$1" 2>/dev/null && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

wait_state() { # NAME STATE SECONDS
    local i=0
    while [ $i -lt $(($3 * 10)) ]; do
        [ "$("$LVSH" domstate "$1" 2>/dev/null | head -n1)" = "$2" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

A=${Q}-ga
B=${Q}-noga
# an ext4 disk: the filesystem the guest's agent lists and freezes
truncate -s 32M "$T/fs.img"
mkfs.ext4 -q -F "$T/fs.img" >/dev/null 2>&1 || fail "mkfs.ext4"
VCPU="<vcpu current='1'>3</vcpu>" define "$A" "$BUILD/test-guest-agent" 52:54:00:4c:57:01 \
    "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$T/fs.img'/><target dev='vda' bus='virtio'/></disk>"
define "$B" "$BUILD/test-guest" 52:54:00:4c:57:02
out=$("$LVSH" start "$A" 2>&1) || fail "start $A: $out"
out=$("$LVSH" start "$B" 2>&1) || fail "start $B: $out"
CONA=$LITEVIRT_LOGDIR/$A.console.log
CONB=$LITEVIRT_LOGDIR/$B.console.log
wait_for "$CONA" LV-AGENT-STARTED 90 || fail "agent guest did not start qemu-ga: $(tail -5 "$CONA")"
wait_for "$CONB" LV-GUEST-BOOTED 90 || fail "plain guest did not boot"

# ---- an agent that answers ----
# qemu-ga opens its port a moment after it was started: the first answer
# may take a few tries (each a full handshake)
i=0
until out=$("$LVSH" qemu-agent-command "$A" '{"execute":"guest-ping"}' 2>&1) || [ $i -ge 10 ]; do
    i=$((i + 1)); sleep 1
done
[ "$out" = '{"return":{}}' ] && ok "qemu-agent-command guest-ping: $out" || fail "guest-ping: $out"
out=$("$LVSH" qemu-agent-command "$A" '{"execute":"guest-get-host-name"}' --timeout 10 2>&1)
[ "$out" = '{"return":{"host-name":"lvguest"}}' ] && ok "qemu-agent-command with arguments' reply: $out" ||
    fail "guest-get-host-name: $out"
out=$("$LVSH" qemu-agent-command "$A" '{"execute":"no-such-command"}' 2>&1) &&
    fail "an unknown agent command succeeded"
echo "$out" | grep -q "unable to execute QEMU agent command 'no-such-command'" &&
    ok "the agent's own error is shown: $out" || fail "unknown command: $out"
out=$("$LVSH" qemu-agent-command "$A" 'not json' 2>&1) && fail "a command that is not JSON was sent"
echo "$out" | grep -q "not a JSON object" && ok "a command that is not JSON is refused" || fail "not json: $out"

info=$("$LVSH" guestinfo "$A" 2>&1) || fail "guestinfo: $info"
echo "$info" | grep -q "^os.id *: litevirt-test$" && echo "$info" | grep -q "^hostname *: lvguest$" &&
    echo "$info" | grep -q "^os.kernel-release *: $(cat "$BUILD/test-guest-agent/kernel-version")$" &&
    ok "guestinfo: the guest's os-release, kernel and host name" || fail "guestinfo: $info"
echo "$info" | grep -q "^if.[0-9].addr.[0-9].addr *: 192.0.2.15$" &&
    ok "guestinfo: the guest's interface addresses" || fail "guestinfo interfaces: $info"
info=$("$LVSH" guestinfo "$A" --hostname 2>&1)
[ "$info" = "hostname            : lvguest" ] && ok "guestinfo --hostname: that category only" ||
    fail "guestinfo --hostname: $info"

out=$("$LVSH" domifaddr "$A" --source agent 2>&1) || fail "domifaddr --source agent: $out"
echo "$out" | grep -Eq "^ eth0 +52:54:00:4c:57:01 +ipv4 +192.0.2.15/24$" &&
    echo "$out" | grep -Eq "^ lo +00:00:00:00:00:00 +ipv4 +127.0.0.1/8$" &&
    ok "domifaddr --source agent: eth0 192.0.2.15/24 with its MAC, lo" || fail "domifaddr: $out"
out=$("$LVSH" domifaddr "$A" --source agent --interface eth0 2>&1)
echo "$out" | grep -q " lo " && fail "domifaddr --interface eth0 shows lo: $out"

out=$("$LVSH" domtime "$A" 2>&1)
t=${out#Time: }
now=$(date +%s)
[ -n "$t" ] && [ "$t" -gt $((now - 120)) ] && [ "$t" -lt $((now + 120)) ] &&
    ok "domtime: the guest's clock ($t, host $now)" || fail "domtime: $out"
# setting the clock: --time, --now (each then written to the guest's
# hardware clock by qemu-ga's hwclock -w), --sync (hwclock -s: from it)
domtime_secs() { out=$("$LVSH" domtime "$A" 2>&1); echo "${out#Time: }"; }
out=$("$LVSH" domtime "$A" --time 2000000000 2>&1) || fail "domtime --time: $out"
t=$(domtime_secs)
[ "$t" -ge 2000000000 ] 2>/dev/null && [ "$t" -lt 2000000300 ] &&
    ok "domtime --time 2000000000: the guest reads $t" || fail "after domtime --time: '$t'"
wait_for "$CONA" "LV-HWCLOCK -w" 10 && ok "qemu-ga wrote the hardware clock (hwclock -w)" ||
    fail "no hwclock -w: $(grep -a LV-HWCLOCK "$CONA")"
out=$("$LVSH" domtime "$A" --now 2>&1) || fail "domtime --now: $out"
t=$(domtime_secs); now=$(date +%s)
[ "$t" -gt $((now - 120)) ] 2>/dev/null && [ "$t" -lt $((now + 120)) ] &&
    ok "domtime --now: the guest is back at $t (host $now)" || fail "after domtime --now: '$t'"
out=$("$LVSH" domtime "$A" --sync 2>&1) || fail "domtime --sync: $out"
wait_for "$CONA" "LV-HWCLOCK -s" 10 && t=$(domtime_secs) && now=$(date +%s) &&
    [ "$t" -gt $((now - 120)) ] 2>/dev/null && [ "$t" -lt $((now + 120)) ] &&
    ok "domtime --sync: qemu-ga set the clock from the hardware clock written at --now (hwclock -s; $t)" ||
    fail "domtime --sync: '$t'; $(grep -a LV-HWCLOCK "$CONA")"
# ---- vCPUs: vcpuinfo, setvcpus --live (hot-plug), --guest (the agent
# brings the guest's CPU online), --config; the running definition follows
out=$("$LVSH" vcpuinfo "$A" 2>&1)
[ "$(echo "$out" | grep -c '^VCPU:')" = 1 ] && echo "$out" | grep -q "^State: *running" &&
    echo "$out" | grep -Eq "^CPU Affinity: *[y-]+$" && echo "$out" | grep -Eq "^CPU time: *[0-9.]+s$" &&
    ok "vcpuinfo: one vCPU, running, its time and affinity" || fail "vcpuinfo: $out"
out=$("$LVSH" setvcpus "$A" 2 --live 2>&1) && ok "setvcpus 2 --live" || fail "setvcpus --live: $out"
[ "$("$LVSH" vcpucount "$A" --live --active 2>&1 | head -1)" = 2 ] && [ "$("$LVSH" vcpuinfo "$A" | grep -c '^VCPU:')" = 2 ] &&
    ok "the guest has 2 vCPUs (vcpucount, vcpuinfo)" || fail "after setvcpus: $("$LVSH" vcpucount "$A" 2>&1)"
"$LVSH" dumpxml "$A" | grep -q "<vcpu[^>]*current='2'\|<vcpu placement='static'>2</vcpu>" &&
    ok "the running definition has the 2 vCPUs" || fail "running definition: $("$LVSH" dumpxml "$A" | grep vcpu)"
"$LVSH" dumpxml --inactive "$A" | grep -q "current='1'" && ok "--live alone leaves the stored <vcpu current='1'>" ||
    fail "stored vcpu: $("$LVSH" dumpxml --inactive "$A" | grep vcpu)"
gv=$("$LVSH" qemu-agent-command "$A" '{"execute":"guest-get-vcpus"}' 2>&1)
[ "$(echo "$gv" | grep -o '"logical-id"' | wc -l)" = 2 ] && ok "the guest sees a second CPU" || fail "guest-get-vcpus: $gv"
out=$("$LVSH" setvcpus "$A" 2 --guest 2>&1) || fail "setvcpus --guest: $out"
gv=$("$LVSH" qemu-agent-command "$A" '{"execute":"guest-get-vcpus"}' 2>&1)
[ "$(echo "$gv" | grep -o '"online":true' | wc -l)" = 2 ] && ok "setvcpus 2 --guest: both CPUs online in the guest" ||
    fail "after --guest: $gv"
for bad in "4 --live" "2 --maximum --live" "0" "two" "1 --current --live"; do
    # shellcheck disable=SC2086
    out=$("$LVSH" setvcpus "$A" $bad 2>&1) && fail "setvcpus $bad accepted" ||
        ok "setvcpus $bad refused: $(echo "$out" | head -1)"
done
out=$("$LVSH" setvcpus "$A" 3 --live 2>&1) && [ "$("$LVSH" vcpucount "$A" --live --active 2>&1 | head -1)" = 3 ] ||
    fail "setvcpus 3 --live: $out"
out=$("$LVSH" setvcpus "$A" 1 --guest 2>&1) || fail "setvcpus 1 --guest: $out"
out=$("$LVSH" setvcpus "$A" 2 --live 2>&1) &&
    [ "$("$LVSH" vcpucount "$A" --live --active 2>&1 | head -1)" = 2 ] &&
    ok "setvcpus 2 --live: the guest released a hot-plugged vCPU (its DEVICE_DELETED answered the call)" ||
    fail "unplug: $out"
# a guest that keeps the vCPU (paused: it does not take the ACPI eject):
# the call ends after 5 s saying so; resumed, the guest lets it go
"$LVSH" suspend "$A" >/dev/null 2>&1 || fail "suspend $A"
out=$("$LVSH" setvcpus "$A" 1 --live 2>&1) && fail "an unplug from a paused guest succeeded" ||
    { echo "$out" | grep -q "has not released 1 vCPU(s) after 5 s" &&
          ok "a guest that keeps its vCPU: $(echo "$out" | tail -n1)" || fail "an unplug from a paused guest: $out"; }
"$LVSH" resume "$A" >/dev/null 2>&1 || fail "resume $A"
for i in $(seq 100); do
    [ "$("$LVSH" vcpucount "$A" --live --active 2>&1 | head -1)" = 1 ] && break
    sleep 0.1
done
[ "$("$LVSH" vcpucount "$A" --live --active 2>&1 | head -1)" = 1 ] && ok "resumed, the guest releases it (the request stayed)" ||
    fail "after resume: $("$LVSH" vcpucount "$A" 2>&1)"
# a hot-plug after an unplug: QEMU 7.2 under TCG dies of it (SIGSEGV,
# docs/qemu.md), so it is refused and the guest runs on
out=$("$LVSH" setvcpus "$A" 2 --live 2>&1) && fail "a vCPU hot-plug after an unplug was accepted" ||
    { echo "$out" | grep -q "QEMU then crashes on any vCPU hot-plug" &&
          ok "a hot-plug after an unplug refused: $(echo "$out" | tail -n1)" ||
          fail "a hot-plug after an unplug: $out"; }
[ "$("$LVSH" vcpucount "$A" --live --active 2>&1 | head -1)" = 1 ] && ok "QEMU still answers (1 vCPU)" ||
    fail "after the refused hot-plug: $("$LVSH" vcpucount "$A" --live --active 2>&1)"
out=$("$LVSH" setvcpus "$A" 3 --config 2>&1) && "$LVSH" dumpxml --inactive "$A" | grep -q "<vcpu[^>]*>3</vcpu>" &&
    ! "$LVSH" dumpxml --inactive "$A" | grep -q "current=" && ok "setvcpus 3 --config: stored <vcpu>3</vcpu>" ||
    fail "setvcpus --config: $out $("$LVSH" dumpxml --inactive "$A" | grep vcpu)"
out=$("$LVSH" setvcpus "$A" 4 --config 2>&1) && fail "setvcpus 4 --config (above the maximum) accepted" ||
    ok "setvcpus 4 --config refused: $(echo "$out" | head -1)"
out=$("$LVSH" vcpuinfo "$B" 2>&1)
[ "$(echo "$out" | grep -c '^VCPU:')" = 1 ] && ok "vcpuinfo of the plain guest" || fail "vcpuinfo $B: $out"
for bad in "--time soon" "--time -5" "--now --sync" "--pretty --now"; do
    # shellcheck disable=SC2086
    out=$("$LVSH" domtime "$A" $bad 2>&1) && fail "domtime $bad accepted" ||
        ok "domtime $bad refused: $(echo "$out" | head -1)"
done

grep -aq "LV-AGENT-MOUNTED vda" "$CONA" || fail "the guest did not mount its disk: $(tail -3 "$CONA")"
out=$("$LVSH" domfsinfo "$A" 2>&1)
echo "$out" | grep -Eq "^/mnt +vda +ext4 +vda$" && ok "domfsinfo: /mnt on vda, ext4" || fail "domfsinfo: $out"
out=$("$LVSH" guestinfo "$A" --filesystem 2>&1)
echo "$out" | grep -Eq "^fs.0.mountpoint +: /mnt$" && echo "$out" | grep -Eq "^fs.0.fstype +: ext4$" &&
    ok "guestinfo --filesystem: /mnt ext4" || fail "guestinfo --filesystem: $out"
out=$("$LVSH" domfsfreeze "$A" 2>&1)
[ "$out" = "Froze 1 filesystem(s)" ] && ok "domfsfreeze: $out" || fail "domfsfreeze: $out"
st=$("$LVSH" qemu-agent-command "$A" '{"execute":"guest-fsfreeze-status"}' 2>&1)
[ "$st" = '{"return":"frozen"}' ] && ok "the agent says frozen" || fail "fsfreeze-status: $st"
out=$("$LVSH" domfsthaw "$A" 2>&1)
[ "$out" = "Thawed 1 filesystem(s)" ] && ok "domfsthaw: $out" || fail "domfsthaw: $out"
st=$("$LVSH" qemu-agent-command "$A" '{"execute":"guest-fsfreeze-status"}' 2>&1)
[ "$st" = '{"return":"thawed"}' ] && ok "the agent says thawed" || fail "fsfreeze-status: $st"

out=$("$LVSH" set-user-password "$A" root 'pw:$1 x' 2>&1) || fail "set-user-password: $out"
wait_for "$CONA" 'LV-CHPASSWD  root:pw:$1 x' 10 && [ "$out" = "Password set successfully for root in $A" ] &&
    ok "set-user-password: the guest's chpasswd got root's password ($out)" ||
    fail "set-user-password: $out; $(grep -a LV-CHPASSWD "$CONA")"
out=$("$LVSH" set-user-password "$A" root '$6$salt$hash' --encrypted 2>&1) || fail "set-user-password --encrypted: $out"
wait_for "$CONA" 'LV-CHPASSWD -e root:$6$salt$hash' 10 && ok "set-user-password --encrypted: chpasswd -e" ||
    fail "set-user-password --encrypted: $out; $(grep -a LV-CHPASSWD "$CONA")"

# ---- a guest without an agent: the clear error, within the timeout ----
s=$(date +%s%N)
out=$("$LVSH" qemu-agent-command "$B" --timeout 3 '{"execute":"guest-ping"}' 2>&1) &&
    fail "a guest without an agent answered: $out"
ms=$((($(date +%s%N) - s) / 1000000))
echo "$out" | grep -q "Guest agent is not responding" && [ $ms -ge 2900 ] && [ $ms -lt 8000 ] &&
    ok "no agent: '$out' after $ms ms (--timeout 3)" || fail "no agent ($ms ms): $out"
s=$(date +%s%N)
out=$("$LVSH" guestinfo "$B" 2>&1) && fail "guestinfo of a guest without an agent succeeded"
ms=$((($(date +%s%N) - s) / 1000000))
echo "$out" | grep -q "Guest agent is not responding" && [ $ms -lt 10000 ] &&
    ok "guestinfo without an agent: the error after $ms ms (default timeout 5 s)" ||
    fail "guestinfo no agent ($ms ms): $out"
out=$("$LVSH" shutdown "$B" --mode agent 2>&1) && fail "shutdown --mode agent without an agent succeeded"
echo "$out" | grep -q "Guest agent is not responding" && ok "shutdown --mode agent without an agent: the error" ||
    fail "shutdown --mode agent, no agent: $out"
[ "$("$LVSH" domstate "$B")" = running ] && ok "the guest without an agent still runs, its supervisor answers" ||
    fail "$B is $("$LVSH" domstate "$B" 2>&1)"

# ---- a long agent call does not hold the supervisor; destroy ends it ----
LOGB=$LITEVIRT_LOGDIR/$B.log
"$LVSH" qemu-agent-command "$B" --timeout 120 '{"execute":"guest-ping"}' > "$T/long.out" 2>&1 &
LONG=$!
wait_for "$LOGB" "guest agent: 'guest-ping' started (timeout 120 s)" 20 ||
    fail "the long agent call did not reach the supervisor: $(cat "$T/long.out")"
s=$(date +%s%N)
out=$("$LVSH" dominfo "$B" 2>&1)
ms=$((($(date +%s%N) - s) / 1000000))
echo "$out" | grep -q "^State: *running" && [ $ms -lt 2000 ] && kill -0 $LONG 2>/dev/null &&
    ok "dominfo answered in $ms ms while an agent call waits" || fail "dominfo during an agent call ($ms ms): $out"
s=$(date +%s%N)
out=$("$LVSH" destroy "$B" 2>&1) || fail "destroy during an agent call: $out"
wait $LONG && fail "the agent call of a destroyed guest succeeded"
ms=$((($(date +%s%N) - s) / 1000000))
grep -q "domain '$B' is being destroyed: guest agent command 'guest-ping' abandoned" "$T/long.out" &&
    [ $ms -lt 20000 ] && ok "destroy ends the waiting agent call ($ms ms): $(tail -n1 "$T/long.out")" ||
    fail "agent call after destroy ($ms ms): $(cat "$T/long.out")"
wait_state "$B" "shut off" 30 && ok "the guest is shut off" || fail "$B is $("$LVSH" domstate "$B" 2>&1)"

# ---- shutdown --mode agent ----
out=$("$LVSH" shutdown "$A" --mode agent --wait 2>&1) || fail "shutdown --mode agent: $out"
wait_state "$A" "shut off" 60 && grep -aq "LV-AGENT-SHUTDOWN" "$CONA" &&
    ok "shutdown --mode agent: qemu-ga ran shutdown, the guest is shut off ($out)" ||
    fail "shutdown --mode agent: $out; $(grep -a LV-AGENT "$CONA")"
grep -aq LV-POWEROFF "$CONA" && fail "the guest got the ACPI button rather than the agent's shutdown"
out=$("$LVSH" qemu-agent-command "$A" '{"execute":"guest-ping"}' 2>&1) && fail "agent of a shut off guest answered"
echo "$out" | grep -q "not running" && ok "agent command to a shut off guest: $out" || fail "shut off: $out"

[ $FAILS = 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all passed"
