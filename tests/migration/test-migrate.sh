#!/bin/bash
# Live migration between two "hosts": two network namespaces joined by a
# veth pair, each with its own host.conf (host UUID, migration address),
# config and state directories, sharing one lockspace directory. A real
# QEMU guest printing a counter on its serial console moves A -> B -> A:
# the counter continues (no reboot), the source QEMU is gone, the leases
# follow the guest. Same-host migration and a destination that fails are
# refused with the guest still running and its leases held. A guest
# whose supervisor dies on B (transient, killed in Finish, --persistent
# that cannot be stored) is never lost: listed, reattached with its lease,
# destroyed leaving nothing.
# Needs root, ip, qemu-system-x86_64 and the test guest; else 77.
set -u

if [ "$(id -u)" != 0 ]; then echo "skip: needs root"; exit 77; fi
command -v qemu-system-x86_64 >/dev/null || { echo "skip: no qemu-system-x86_64"; exit 77; }
command -v ip >/dev/null && command -v nsenter >/dev/null || { echo "skip: no ip/nsenter"; exit 77; }
BUILD=${LV_BUILD_ROOT:?}
SRC=${LV_SOURCE_ROOT:?}
LVSH=$BUILD/lvsh
SUP=$BUILD/litevirt-supervisor
[ -x "$LVSH" ] && [ -x "$SUP" ] || { echo "skip: lvsh/supervisor not built"; exit 77; }
sh "$SRC/tests/qemu/build-guest.sh" "$BUILD/test-guest" || exit 77

T=$(mktemp -d /tmp/lv-test-migrate.XXXXXX)
# QEMU runs as its own uid: it must reach its disks (as under libvirt)
chmod 0711 "$T"
G=lvmig$$ # guest names make cgroup names: unique on a shared machine
# two hosts (tests/lib/hosts.sh): lvmig-a-$$ and lvmig-b-$$, 10.77.0.1 and .2
HOSTS_DIR=$T HOSTS_TAG=lvmig HOSTS_NET=10.77.0 HOSTS_SUP=$SUP
. "$SRC/tests/lib/hosts.sh"
. "$SRC/tests/lib/hosts-guest.sh"
NSA=$(hosts_ns a) NSB=$(hosts_ns b)
UUID_A=$HOSTS_UUID_A UUID_B=$HOSTS_UUID_B
FAILS=0
HELPERS=""

on() { hosts_on "$@"; }
transport() { # HOST: the command that reaches that host's supervisor
    # B's host.conf is given with --config, as over ssh; A's is in its CONFDIR
    if [ "$1" = b ]; then hosts_transport b --config "$T/b/host-b.conf"; else hosts_transport a; fi
}

trap hosts_guest_cleanup EXIT
trap 'exit 1' INT TERM # (cleanup once, then end: the test does not go on)
qemu_pid() { sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$T/$1/run/$G/qemu.json" 2>/dev/null | head -n1; }
gone() { # HOST PID: nothing left of $G there
    local i=0
    while [ $i -lt 100 ] && { [ -e "$T/$1/run/$G" ] || [ -d "/proc/$2" ]; }; do
        sleep 0.1; i=$((i + 1))
    done
    [ ! -e "$T/$1/run/$G" ] && [ ! -d "/proc/$2" ]
}
lease() { cat "$T"/lockspace/*.owner 2>/dev/null; }

# ---- two hosts ----
hosts_create || { echo "skip: cannot make the two hosts"; exit 77; }
mv "$T/b/conf/host.conf" "$T/b/host-b.conf"
truncate -s 8M "$T/disk.img"
# the disk's owner and litevirt's records on it (docs/security.md, "QEMU")
disk_label() {
    python3 -c "import os,sys; st=os.stat(sys.argv[1]); print('%d:%d:%o' % (st.st_uid, st.st_gid, st.st_mode & 0o7777), *sorted(os.listxattr(sys.argv[1])))" "$T/disk.img"
}
cat > "$T/guest.xml" <<XML
<domain type='qemu'>
  <name>$G</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$BUILD/test-guest/vmlinuz</kernel><initrd>$BUILD/test-guest/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet</cmdline></os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$T/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <graphics type='spice' autoport='yes' listen='0.0.0.0'/>
  </devices>
</domain>
XML
on a "$LVSH" define "$T/guest.xml" >/dev/null || fail "define on A"
out=$(on a "$LVSH" start $G 2>&1) || fail "start on A: $out"
console a "$T/con-a1"
if wait_for "$T/con-a1" "LV-COUNTER 3" 60; then ok "guest counts on host A"
else fail "guest does not count on A: $(tail -c 300 "$T/con-a1")"; exit 1; fi
grep -q "^host=$UUID_A$" <(lease) && grep -q "^state=held$" <(lease) && ok "lease held by host A" ||
    fail "lease: $(lease)"
pid_a=$(qemu_pid a)

# ---- same host: refused, the guest keeps running ----
out=$(on a "$LVSH" migrate --live $G "$(transport a)" 2>&1)
if [ $? != 0 ] && [[ "$out" == *"cannot migrate guest '$G' to the same host (UUID $UUID_A)"* ]]; then
    ok "same-host migration refused"
else fail "same-host migration: $out"; fi
c=$(last_counter "$T/con-a1")
wait_counter "$T/con-a1" $((c + 2)) 10 && ok "guest still counts on A after the refusal" ||
    fail "guest stopped counting on A after the refusal"

# ---- a destination that dies: the guest keeps running, leases held ----
out=$(on a "$LVSH" migrate --live $G "$T/enter-b nsenter --net=/run/netns/$NSB sh -c 'echo destination broken >&2; exit 3'" 2>&1)
if [ $? != 0 ] && [[ "$out" == *"destination broken"* ]]; then ok "dead destination reported: ${out##*error: }"
else fail "dead destination: $out"; fi
c=$(last_counter "$T/con-a1")
wait_counter "$T/con-a1" $((c + 2)) 10 && ok "guest still counts on A after the failure" ||
    fail "guest stopped counting on A after the failure"
grep -q "^state=held$" <(lease) && grep -q "^host=$UUID_A$" <(lease) && ok "leases still held on A" ||
    fail "lease after failure: $(lease)"
[ -e "$T/b/run/$G" ] && fail "state left on B after the failure"

# ---- A -> B ----
before=$(last_counter "$T/con-a1")
out=$(on a "$LVSH" migrate --live --persistent $G "$(transport b)" 2>&1)
rc=$?
echo "$out" | sed 's/^/     /'
if [ $rc = 0 ] && [[ "$out" == *"Migrated guest '$G' to host 'host-b'"* ]]; then ok "migrated A -> B"
else fail "migration A -> B: rc=$rc $out"; fi
# SPICE: the destination's own port came back in the Prepare cookie and
# the source told QEMU where its clients reconnect (client_migrate_info).
if [[ "$out" == *"Graphics: spice://10.77.0.2:59"* ]]; then ok "destination's SPICE address reported"
else fail "no SPICE address of B in: $out"; fi
grep -q "SPICE clients told to reconnect to 10.77.0.2:59" "$T/a/log/$G.log" &&
    ok "client_migrate_info sent to the source QEMU" || fail "no client_migrate_info on A"
console b "$T/con-b1"
if wait_counter "$T/con-b1" $((before + 3)) 30; then
    first=$(grep -ao 'LV-COUNTER [0-9]*' "$T/con-b1" | head -n1 | awk '{print $2}')
    if [ -n "$first" ] && [ "$first" -gt "$before" ]; then
        ok "the counter continues on B (A showed $before, B shows $first onwards)"
    else fail "counter on B restarted: first $first, A had $before"; fi
else fail "guest does not count on B: $(tail -c 300 "$T/con-b1")"; fi
grep -aq "LV-GUEST-BOOTED" "$T/con-b1" && fail "the guest booted again on B"
gone a "$pid_a" && ok "source QEMU and state gone from A" || fail "left on A: $(ls "$T/a/run")"
uid_b=$(awk '/^Uid:/ {print $2}' "/proc/$(qemu_pid b)/status")
lbl=$(disk_label)
[ "$lbl" = "$uid_b:$uid_b:600 trusted.litevirt.dac trusted.litevirt.dac_ref" ] &&
    ok "the disk is B's QEMU's (uid $uid_b) alone after the migration out of A" ||
    fail "disk after A -> B: $lbl (B's QEMU: uid $uid_b)"
grep -q -- "-> shutoff (migrated) on stopped-migrated" "$T/a/log/$G.log" &&
    ok "the source's copy ended as 'shut off (migrated)'" ||
    fail "source's end: $(grep -- '-> shutoff' "$T/a/log/$G.log" | tail -n1)"
st=$(on a "$LVSH" domstate --reason $G 2>&1 | head -n1)
[ "$st" = "shut off (migrated)" ] && ok "domstate --reason on A (still defined there): $st" ||
    fail "domstate --reason on A after A -> B: $st"
grep -q "^host=$UUID_B$" <(lease) && grep -q "^state=held$" <(lease) && ok "lease held by host B" ||
    fail "lease after A -> B: $(lease)"
# The stream's port is B's only until the stream is loaded (QEMU listens
# no more): its lock file is free again while the guest runs on.
held=""
for f in "$T"/b/run/ports/*.lock; do
    [ -e "$f" ] || continue
    p=$(basename "$f" .lock)
    [ "$p" -ge 49152 ] && [ "$p" -le 49215 ] || continue
    flock -n "$f" true || held="$held $p"
done
[ -z "$held" ] && ok "B gave the migration port back once the stream was loaded" ||
    fail "migration port(s) still held on B:$held"
[ -e "$T/b/guests/$G.xml" ] && ok "--persistent defined $G on B" || fail "no definition on B"
st=$(on b "$LVSH" domstate --reason $G 2>&1 | head -n1)
[ "$st" = "running (migrated)" ] && ok "domstate on B: $st" || fail "domstate on B: $st"

# ---- B -> A ----
pid_b=$(qemu_pid b)
before=$(last_counter "$T/con-b1")
out=$(on b "$LVSH" migrate --live --graphicsuri spice://gfx.example:5999 $G "$(transport a)" 2>&1)
[ $? = 0 ] && ok "migrated B -> A" || fail "migration B -> A: $out"
# --graphicsuri: where SPICE clients reconnect, instead of A's answer
[[ "$out" == *"Graphics: spice://gfx.example:5999"* ]] &&
    grep -q "SPICE clients told to reconnect to gfx.example:5999" "$T/b/log/$G.log" &&
    ok "--graphicsuri sent to B's QEMU and reported" || fail "--graphicsuri: $out"
out=$(on a "$LVSH" migrate --live --graphicsuri 'rdp://x' $G "$(transport b)" 2>&1)
[ $? != 0 ] && [[ "$out" == *"--graphicsuri 'rdp://x': expected spice://"* ]] &&
    ok "a bad --graphicsuri refused: ${out##*error: }" || fail "bad --graphicsuri: $out"
console a "$T/con-a2"
if wait_counter "$T/con-a2" $((before + 2)) 30; then
    first=$(grep -ao 'LV-COUNTER [0-9]*' "$T/con-a2" | head -n1 | awk '{print $2}')
    [ "$first" -gt "$before" ] && ok "the counter continues back on A ($first > $before)" ||
        fail "counter on A restarted: $first"
else fail "guest does not count on A again: $(tail -c 300 "$T/con-a2")"; fi
gone b "$pid_b" && ok "nothing left on B" || fail "left on B: $(ls "$T/b/run")"
grep -q "^host=$UUID_A$" <(lease) && grep -q "^state=held$" <(lease) && ok "lease back on host A" ||
    fail "lease after B -> A: $(lease)"

# ---- A -> B with --timeout (virsh's meaning: suspend the guest so that
# the migration converges, not cancel it), through a transport that does
# not exec the supervisor (as ssh waits for its remote command): nothing
# of the transport may stay; then domjobinfo --completed on both sides ----
before=$(last_counter "$T/con-a2")
mark=lvmig-transport-$$
out=$(on a "$LVSH" migrate --live --persistent --timeout 1 --bandwidth 12 $G "$(transport b); : $mark" 2>&1)
rc=$?
if [ $rc = 0 ] && grep -q "not done after 1 s (--timeout): guest suspended so that it converges" "$T/a/log/$G.log"; then
    ok "--timeout 1 suspended the guest and the migration completed: $(echo "$out" | head -n1)"
else fail "--timeout: rc=$rc $out $(grep 'migration' "$T/a/log/$G.log" | tail -n 3)"; fi
left=""; i=0
while [ $i -lt 100 ]; do left=$(pgrep -f -- "$mark"); [ -z "$left" ] && break; sleep 0.1; i=$((i + 1)); done
[ -z "$left" ] && ok "nothing of a transport that waits for its command is left" ||
    fail "transport processes left: $(ps -o pid,args -p "$(echo $left | tr ' ' ,)")"
console b "$T/con-b2"
wait_counter "$T/con-b2" $((before + 2)) 30 && ok "the guest suspended by --timeout runs on B" ||
    fail "guest does not count on B after --timeout: $(tail -c 300 "$T/con-b2")"
st=$(on b "$LVSH" domstate --reason $G 2>&1 | head -n1)
[ "$st" = "running (migrated)" ] || fail "domstate on B after --timeout: $st"
# the destination shows the definition it runs
xml=$(on b "$LVSH" dumpxml $G 2>&1)
[[ "$xml" == *"<name>$G</name>"* && "$xml" == *"<source file='$T/disk.img'/>"* ]] &&
    ok "dumpxml on B shows the running definition" || fail "dumpxml on B: $xml"
job_a=$(on a "$LVSH" domjobinfo --completed $G 2>&1)
if echo "$job_a" | grep -q "^Job type: *Completed" && echo "$job_a" | grep -q "^Operation: *Outgoing migration" &&
    echo "$job_a" | grep -q "^Total downtime: *[0-9]* *ms" && echo "$job_a" | grep -q "^Data processed: *[1-9][0-9.]* MiB"; then
    ok "domjobinfo --completed on A (its copy gone): $(echo "$job_a" | grep -E '^(Time elapsed|Total downtime)' | tr -s ' ' | paste -sd ';')"
else fail "domjobinfo --completed on A: $job_a"; fi
job_b=$(on b "$LVSH" domjobinfo --completed $G 2>&1)
elapsed_b=$(echo "$job_b" | awk '/^Time elapsed:/ {print $3}')
if echo "$job_b" | grep -q "^Job type: *Completed" && echo "$job_b" | grep -q "^Operation: *Incoming migration" &&
    echo "$job_b" | grep -q "^Total downtime: *[0-9]* *ms" && [ -n "$elapsed_b" ] && [ "$elapsed_b" -gt 0 ] &&
    [ "$elapsed_b" -lt 120000 ]; then
    # elapsed from the cookie's <statistics started=...>: epoch milliseconds
    ok "domjobinfo --completed on B: time elapsed $elapsed_b ms (from the cookie's epoch-ms start)"
else fail "domjobinfo --completed on B: $job_b"; fi
on b "$LVSH" domjobinfo $G 2>&1 | grep -q "^Job type: *None" || fail "domjobinfo (running job) on B: not None"

# ---- and back B -> A ----
pid_b=$(qemu_pid b)
before=$(last_counter "$T/con-b2")
out=$(on b "$LVSH" migrate --live $G "$(transport a)" 2>&1) && ok "migrated B -> A again" || fail "B -> A again: $out"
console a "$T/con-a-back"
wait_counter "$T/con-a-back" $((before + 2)) 30 || fail "guest does not count on A after B -> A again"
gone b "$pid_b" || fail "left on B after B -> A again: $(ls "$T/b/run")"

# ---- migrate-setspeed/getspeed, migrate-setmaxdowntime, also while the
# stream flows (virsh's commands) ----
on a "$LVSH" migrate-setspeed $G 64 > /dev/null 2>&1 && [ "$(on a "$LVSH" migrate-getspeed $G 2>&1)" = 64 ] &&
    ok "migrate-setspeed 64: migrate-getspeed says 64" || fail "setspeed/getspeed: $(on a "$LVSH" migrate-getspeed $G 2>&1)"
on a "$LVSH" migrate-setmaxdowntime $G --downtime 500 > /dev/null 2>&1 &&
    [ "$(on a "$LVSH" migrate-getmaxdowntime $G 2>&1)" = 500 ] && ok "migrate-setmaxdowntime 500" ||
    fail "setmaxdowntime: $(on a "$LVSH" migrate-getmaxdowntime $G 2>&1)"
out=$(on a "$LVSH" migrate-setspeed $G fast 2>&1) && fail "migrate-setspeed fast accepted" ||
    { [[ "$out" == *"--bandwidth 'fast': not a number of MiB/s"* ]] && ok "a bad speed refused: ${out##*error: }" ||
        fail "bad speed: $out"; }
on a "$LVSH" migrate --live --bandwidth 4 $G "$(transport b)" > "$T/speed.out" 2>&1 &
mpid=$!
HELPERS="$HELPERS $mpid"
i=0; while [ $i -lt 300 ] && ! on a "$LVSH" domjobinfo $G 2>/dev/null | grep -q "^Data total: *[1-9]"; do
    sleep 0.1; i=$((i + 1)); done
sp=$(on a "$LVSH" migrate-getspeed $G 2>&1)
[ "$sp" = 4 ] && ok "migrate-getspeed during a --bandwidth 4 migration: 4" || fail "getspeed during the migration: $sp"
# at 4 MiB/s the stream would take more than 20 s: sped up, it takes about one
on a "$LVSH" migrate-setmaxdowntime $G 1000 > /dev/null 2>&1 || fail "setmaxdowntime during the migration"
on a "$LVSH" migrate-setspeed $G 1000 > /dev/null 2>&1 && ok "migrate-setspeed answered during the migration" ||
    fail "setspeed during the migration"
wait "$mpid"; rc=$?
ms=$(sed -n "s/.*QEMU's stream \([0-9]*\) ms.*/\1/p" "$T/speed.out")
[ $rc = 0 ] && [ -n "$ms" ] && [ "$ms" -lt 15000 ] && ok "the stream sped up by migrate-setspeed: QEMU's stream $ms ms" ||
    fail "migration sped up by setspeed: rc=$rc $(cat "$T/speed.out")"
out=$(on b "$LVSH" migrate --live $G "$(transport a)" 2>&1) || fail "B -> A after setspeed: $out"
CON_A=$T/con-a-main # A's console from here on
console a "$CON_A"
wait_for "$CON_A" "LV-COUNTER" 30 || fail "guest does not count on A after setspeed's migration"
on a "$LVSH" migrate-setspeed $G 64 > /dev/null 2>&1 || fail "setspeed 64 on A's new QEMU"

# ---- migrate --offline --persistent: the definition of a shut off guest ----
OFF=$G-off
sed "s|<name>$G</name>|<name>$OFF</name>|" "$T/guest.xml" > "$T/off.xml"
on a "$LVSH" define "$T/off.xml" > /dev/null || fail "define $OFF on A"
uuid_of() { on "$1" "$LVSH" dominfo "$2" 2>/dev/null | awk '/^UUID:/ {print $2}'; }
out=$(on a "$LVSH" migrate --offline $OFF "$(transport b)" 2>&1) && fail "--offline without --persistent accepted" ||
    { [[ "$out" == *"--offline requires --persistent"* ]] && ok "--offline without --persistent refused" ||
        fail "--offline without --persistent: $out"; }
out=$(on a "$LVSH" migrate --offline --persistent $G "$(transport b)" 2>&1) && fail "--offline of a running guest accepted" ||
    { [[ "$out" == *"is running: --offline migrates the definition of a shut off guest"* ]] &&
        ok "--offline of the running guest refused" || fail "--offline of a running guest: $out"; }
out=$(on a "$LVSH" migrate --offline --persistent $OFF "$(transport b); : $mark" 2>&1)
if [ $? = 0 ] && [[ "$out" == *"Migrated the definition of guest '$OFF' to host 'host-b'"* ]] &&
    [ -e "$T/b/guests/$OFF.xml" ] && [ -n "$(uuid_of a $OFF)" ] && [ "$(uuid_of a $OFF)" = "$(uuid_of b $OFF)" ]; then
    ok "--offline --persistent defined $OFF on B (same UUID), kept on A"
else fail "--offline --persistent: $out; B: $(ls "$T/b/guests")"; fi
st=$(on b "$LVSH" domstate $OFF 2>&1 | head -n1)
[ "$st" = "shut off" ] && [ ! -e "$T/b/run/$OFF" ] && [ ! -e "$T/a/run/$OFF" ] && ok "$OFF is shut off on B, nothing runs" ||
    fail "after --offline: domstate on B: $st; $(ls "$T/b/run" "$T/a/run")"
left=""; i=0
while [ $i -lt 50 ]; do left=$(pgrep -f -- "$mark"); [ -z "$left" ] && break; sleep 0.1; i=$((i + 1)); done
[ -z "$left" ] || fail "--offline left processes: $left"
out=$(on a "$LVSH" migrate --offline --persistent --undefinesource $OFF "$(transport b)" 2>&1) &&
    [ ! -e "$T/a/guests/$OFF.xml" ] && [ -e "$T/b/guests/$OFF.xml" ] &&
    ok "--offline --undefinesource: undefined on A, B keeps its definition" || fail "--offline --undefinesource: $out"

# ---- Finish fails on B after the stream arrived (leases released on A,
# CPUs stopped): A takes its leases back and resumes; nothing left on B ----
c=$(last_counter "$CON_A")
out=$(on a "$LVSH" migrate --live $G "LITEVIRT_FAULT=incoming-after-stream:fail $(transport b)" 2>&1)
if [ $? != 0 ] && [[ "$out" == *"failure injected at finish"* ]]; then ok "failed Finish reported"
else fail "failed Finish: $out"; fi
wait_counter "$CON_A" $((c + 3)) 15 && ok "guest resumed on A after the failed Finish" ||
    fail "guest does not count on A after the failed Finish: $(tail -c 200 "$CON_A")"
grep -q "^host=$UUID_A$" <(lease) && grep -q "^state=held$" <(lease) && ok "leases taken back by A" ||
    fail "lease after the failed Finish: $(lease)"
i=0; while [ $i -lt 50 ] && [ -e "$T/b/run/$G" ]; do sleep 0.1; i=$((i + 1)); done
[ ! -e "$T/b/run/$G" ] && ok "nothing left on B after the failed Finish" || fail "left on B: $(ls "$T/b/run/$G")"

# ---- the destination QEMU dies as the stream starts (fault point) ----
c=$(last_counter "$CON_A")
out=$(on a "$LVSH" migrate --live $G "LITEVIRT_FAULT=incoming-hypervisor:fail $(transport b)" 2>&1)
[ $? != 0 ] && ok "destination QEMU death reported: ${out##*error: }" || fail "destination QEMU death: $out"
wait_counter "$CON_A" $((c + 3)) 15 && ok "guest still counts on A after the destination QEMU died" ||
    fail "guest does not count on A after the destination QEMU died"
grep -q "^host=$UUID_A$" <(lease) && grep -q "^state=held$" <(lease) && ok "leases held by A" ||
    fail "lease after the destination QEMU died: $(lease)"
i=0; while [ $i -lt 50 ] && [ -e "$T/b/run/$G" ]; do sleep 0.1; i=$((i + 1)); done
[ ! -e "$T/b/run/$G" ] || fail "left on B after its QEMU died: $(ls "$T/b/run/$G")"

# ---- the destination supervisor dies mid-stream (fault point): its
# watchdog kills the paused QEMU and removes its state; A keeps the guest ----
c=$(last_counter "$CON_A")
out=$(on a "$LVSH" migrate --live $G "LITEVIRT_FAULT=incoming-before-finish $(transport b)" 2>&1)
[ $? != 0 ] && ok "destination supervisor death reported: ${out##*error: }" ||
    fail "destination supervisor death: $out"
wait_counter "$CON_A" $((c + 3)) 15 && ok "guest still counts on A after the destination supervisor died" ||
    fail "guest does not count on A after the destination supervisor died"
grep -q "^host=$UUID_A$" <(lease) && grep -q "^state=held$" <(lease) && ok "leases held by A" ||
    fail "lease after the destination supervisor died: $(lease)"
qemu_on_b() { # QEMUs of $G in B's network namespace
    local nsb p
    nsb=$(stat -L -c %i "/run/netns/$NSB")
    for p in $(pgrep -f "qemu-system-x86_64 -name guest=$G,"); do
        [ "$(readlink "/proc/$p/ns/net")" = "net:[$nsb]" ] && echo "$p"
    done
}
i=0; while [ $i -lt 100 ] && { [ -e "$T/b/run/$G" ] || [ -n "$(qemu_on_b)" ]; }; do
    sleep 0.1; i=$((i + 1)); done
[ ! -e "$T/b/run/$G" ] && ok "no state left on B after its supervisor died" ||
    fail "state left on B after its supervisor died: $(ls "$T/b/run/$G")"
left=$(qemu_on_b)
[ -z "$left" ] && ok "no QEMU left on B after its supervisor died" || fail "QEMU left on B: $left"
cg_left_b() { local d; for d in $(grep -- "-b$" "$T/cgdirs"); do [ -d "$d/litevirt-$G" ] && echo "$d/litevirt-$G"; done; }
i=0; while [ $i -lt 100 ] && [ -n "$(cg_left_b)" ]; do sleep 0.1; i=$((i + 1)); done
[ -z "$(cg_left_b)" ] && ok "no cgroup left on B after its supervisor died" || fail "cgroups left on B: $(cg_left_b)"

# ---- lvsh domjobinfo / domjobabort / --verbose during a slow stream
# (--bandwidth 8 MiB/s: ~10 s): the source answers while it migrates;
# the abort leaves the guest on A with its leases, nothing on B ----
c=$(last_counter "$CON_A")
on a "$LVSH" migrate --live --bandwidth 8 --verbose $G "$(transport b)" > "$T/abort.out" 2>&1 &
mpid=$!
HELPERS="$HELPERS $mpid"
i=0 info=""
while [ $i -lt 300 ]; do
    info=$(on a "$LVSH" domjobinfo $G 2>&1)
    echo "$info" | grep -q "^Data total: *[1-9]" && grep -aq "Migration: \[" "$T/abort.out" && break
    sleep 0.1; i=$((i + 1))
done
if echo "$info" | grep -q "^Operation: *Outgoing migration" && echo "$info" | grep -q "^Data processed: *[0-9.]* MiB" &&
    echo "$info" | grep -q "^Data remaining: *[0-9.]* MiB" && echo "$info" | grep -q "^Time elapsed: *[0-9]* *ms"; then
    ok "domjobinfo answers during the migration"
else fail "domjobinfo during the migration: $info"; fi
out=$(on a "$LVSH" domstate $G 2>&1) && [ "$(echo "$out" | head -n1)" = running ] && ok "domstate answers during the migration" ||
    fail "domstate during the migration: $out"
# The destination answers too while the guest arrives (its supervisor's
# job is the incoming migration; it waits for Finish with its loop running).
info_b=$(on b "$LVSH" domjobinfo $G 2>&1)
echo "$info_b" | grep -q "^Operation: *Incoming migration" && echo "$info_b" | grep -q "^Time elapsed: *[0-9]* *ms" &&
    ok "domjobinfo answers on B during the incoming migration" || fail "domjobinfo on B during the migration: $info_b"
# B's supervisor had the source's definition and cookie parsed in a child:
# libxml2 never runs on them in its own process
bsup=$(cat "$T/b/run/$G/supervisor.pid" 2>/dev/null)
if [ -n "$bsup" ] && [ -r "/proc/$bsup/maps" ]; then
    grep -qE 'libxml2|litevirt-xml' "/proc/$bsup/maps" && fail "B's supervisor maps libxml2 while the guest arrives" ||
        ok "B's supervisor (pid $bsup) does not map libxml2 while the guest arrives"
else fail "no supervisor pid on B during the incoming migration"; fi
# libvirt's state for a guest whose stream comes in: paused (migrating)
out=$(on b "$LVSH" domstate --reason $G 2>&1) && st_b=$(echo "$out" | head -n1) && [ "$st_b" = "paused (migrating)" ] &&
    ok "domstate --reason answers on B during the incoming migration: $st_b" || fail "domstate on B during the migration: $out"
out=$(on b "$LVSH" suspend $G 2>&1) && fail "suspend accepted on B during the incoming migration" ||
    { [[ "$out" == *"is migrating"* ]] && ok "other calls refused on B during the incoming migration" || fail "suspend on B during the migration: $out"; }
out=$(on a "$LVSH" suspend $G 2>&1) && fail "suspend accepted during the migration" ||
    { [[ "$out" == *"is migrating"* ]] && ok "other calls refused during the migration" || fail "suspend during the migration: $out"; }
on a "$LVSH" domjobabort $G > /dev/null 2>&1 && ok "domjobabort accepted" || fail "domjobabort refused"
wait "$mpid"; rc=$?
if [ "$rc" != 0 ] && grep -q "canceled by client" "$T/abort.out"; then ok "aborted migration reported: $(grep -o 'error: .*' "$T/abort.out" | tail -n1)"
else fail "aborted migration: rc=$rc $(cat "$T/abort.out")"; fi
grep -aq "Migration: \[ *[0-9]* %\]" "$T/abort.out" && ok "--verbose showed progress" || fail "no --verbose progress: $(cat "$T/abort.out")"
wait_counter "$CON_A" $((c + 3)) 20 && ok "guest counts on A after the abort" ||
    fail "guest does not count on A after the abort"
grep -q "^host=$UUID_A$" <(lease) && grep -q "^state=held$" <(lease) && ok "leases held by A after the abort" ||
    fail "lease after the abort: $(lease)"
i=0; while [ $i -lt 100 ] && { [ -e "$T/b/run/$G" ] || [ -n "$(qemu_on_b)" ]; }; do sleep 0.1; i=$((i + 1)); done
[ ! -e "$T/b/run/$G" ] && [ -z "$(qemu_on_b)" ] && ok "nothing left on B after the abort" || fail "left on B after the abort"
on a "$LVSH" domjobinfo $G 2>&1 | grep -q "^Job type: *None" && ok "domjobinfo: no job afterwards" ||
    fail "domjobinfo afterwards: $(on a "$LVSH" domjobinfo $G 2>&1)"
sp=$(on a "$LVSH" migrate-getspeed $G 2>&1)
[ "$sp" = 64 ] && ok "--bandwidth 8 gave migrate-setspeed's 64 MiB/s back" || fail "speed after --bandwidth: $sp"

# ---- the destination's supervisor is asked to stop (SIGTERM) while the
# guest arrives: it gives the migration up; the guest stays on A ----
c=$(last_counter "$CON_A")
on a "$LVSH" migrate --live --bandwidth 8 $G "$(transport b)" > "$T/term.out" 2>&1 &
mpid=$!
HELPERS="$HELPERS $mpid"
i=0; while [ $i -lt 300 ] && ! on b "$LVSH" domjobinfo $G 2>/dev/null | grep -q "^Operation: *Incoming"; do
    sleep 0.1; i=$((i + 1)); done
bpid=$(cat "$T/b/run/$G/supervisor.pid" 2>/dev/null)
[ -n "$bpid" ] && kill -TERM "$bpid"
wait "$mpid"; rc=$?
[ "$rc" != 0 ] && ok "SIGTERM to the destination during the stream: migration failed: $(grep -o 'error: .*' "$T/term.out" | tail -n1)" ||
    fail "SIGTERM to the destination: rc=$rc $(cat "$T/term.out")"
grep -q "asked to stop during the incoming migration" "$T/b/log/$G.log" &&
    ok "the destination gave the incoming migration up" || fail "destination log: $(tail -n 5 "$T/b/log/$G.log")"
wait_counter "$CON_A" $((c + 3)) 20 && ok "guest counts on A after the destination was stopped" ||
    fail "guest does not count on A after the destination was stopped"
i=0; while [ $i -lt 100 ] && { [ -e "$T/b/run/$G" ] || [ -n "$(qemu_on_b)" ]; }; do sleep 0.1; i=$((i + 1)); done
[ ! -e "$T/b/run/$G" ] && [ -z "$(qemu_on_b)" ] && ok "nothing left on B after it was stopped" || fail "left on B after SIGTERM"

# ---- the network between the hosts is cut: QEMU's stream cannot flow ----
ip -n "$NSA" link set lvmig-va$$ down
c=$(last_counter "$CON_A")
out=$(on a "$LVSH" migrate --live --timeout 30 $G "$(transport b)" 2>&1)
[ $? != 0 ] && ok "migration over a cut link fails: ${out##*error: }" || fail "migration over a cut link: $out"
ip -n "$NSA" link set lvmig-va$$ up
wait_counter "$CON_A" $((c + 3)) 15 && ok "guest still counts on A after the cut" ||
    fail "guest does not count on A after the cut"
grep -q "^host=$UUID_A$" <(lease) && grep -q "^state=held$" <(lease) && ok "leases held by A after the cut" ||
    fail "lease after the cut: $(lease)"
i=0; while [ $i -lt 50 ] && [ -e "$T/b/run/$G" ]; do sleep 0.1; i=$((i + 1)); done
[ ! -e "$T/b/run/$G" ] || fail "left on B after the cut: $(ls "$T/b/run/$G")"

# ---- tunnelled: QEMU's stream through the supervisors' channel, no TCP
# listener on B (sampled with ss in B's netns during a slowed stream) ----
before=$(last_counter "$CON_A")
on a "$LVSH" migrate --live --tunnelled --bandwidth 24 $G "$(transport b)" > "$T/tun.out" 2>&1 &
mpid=$!
HELPERS="$HELPERS $mpid"
listeners="" sampled=0 i=0
while [ $i -lt 300 ] && kill -0 "$mpid" 2>/dev/null; do
    if on a "$LVSH" domjobinfo $G 2>/dev/null | grep -q "^Data processed: *[0-9]*\.[0-9]* MiB"; then
        sampled=$((sampled + 1))
        # QEMU's stream would listen on a port of the migration range
        listeners="$listeners$(nsenter --net=/run/netns/"$NSB" ss -ltnH 2>/dev/null |
            awk '{n = split($4, a, ":"); p = a[n] + 0; if (p >= 49152 && p <= 49215) print $4}')"
    fi
    sleep 0.1; i=$((i + 1))
done
wait "$mpid"; rc=$?
sed 's/^/     /' "$T/tun.out"
if [ "$rc" = 0 ] && grep -q "Migrated guest '$G' to host 'host-b'" "$T/tun.out"; then ok "tunnelled A -> B"
else fail "tunnelled A -> B: rc=$rc $(cat "$T/tun.out")"; fi
[ "$sampled" -gt 0 ] && [ -z "$listeners" ] && ok "no TCP listener for QEMU's stream on B during the tunnelled stream ($sampled samples)" ||
    fail "tunnelled: $sampled samples, listeners on B: $listeners"
sed -n '/starting QEMU:/,/^$/p' "$T/b/log/$G.log" | tail -n 40 | grep -q -- "^-incoming fd:[0-9]" &&
    ok "B's QEMU read the stream from an fd" || fail "B's QEMU: $(grep -- '-incoming' "$T/b/log/$G.log" | tail -n1)"
console b "$T/con-b3"
last_a=$(last_counter "$CON_A") # it counted on during the (live) stream
if wait_counter "$T/con-b3" $((last_a + 2)) 30; then
    first=$(grep -ao 'LV-COUNTER [0-9]*' "$T/con-b3" | head -n1 | awk '{print $2}')
    [ "$first" -gt "$before" ] && ok "the counter continues on B after the tunnelled migration" ||
        fail "counter on B restarted after the tunnelled migration: $first <= $before"
else fail "guest does not count on B after the tunnelled migration"; fi
grep -q "^host=$UUID_B$" <(lease) && ok "lease held by B after the tunnelled migration" || fail "lease: $(lease)"
# no stream URI: the graphics' wildcard address becomes B's migration_address, not its host name
grep -q "Graphics: spice://10.77.0.2:59" "$T/tun.out" && ok "tunnelled: B's migration address for SPICE" ||
    fail "tunnelled: graphics: $(grep Graphics "$T/tun.out")"
out=$(on b "$LVSH" migrate --live --tunnelled $G "$(transport a)" 2>&1) && ok "tunnelled B -> A" ||
    fail "tunnelled B -> A: $out"
st=$(on a "$LVSH" domstate $G 2>&1 | head -n1)
[ "$st" = running ] || fail "domstate on A after tunnelled B -> A: $st"

# ---- round trips: nothing is lost, the guest never boots again ----
ROUNDS=${LV_MIGRATION_ROUNDS:-10}
c=$(last_counter "$T/con-b3") # B's console saw it up to the switch-over
n=0
for i in $(seq "$ROUNDS"); do
    on a "$LVSH" migrate --live $G "$(transport b)" > /dev/null 2>&1 || { fail "round $i: A -> B"; break; }
    on b "$LVSH" migrate --live $G "$(transport a)" > /dev/null 2>&1 || { fail "round $i: B -> A"; break; }
    n=$i
done
console a "$T/con-a3"
# 60 s, not 15: under a machine's full load (other test suites, a
# sanitizer build) the first line of a just-attached console can take
# longer than a dozen seconds; the wait ends at the first line anyway.
if wait_for "$T/con-a3" "LV-COUNTER" 60; then
    first=$(grep -ao 'LV-COUNTER [0-9]*' "$T/con-a3" | head -n1 | awk '{print $2}')
    [ "$first" -gt "$c" ] && ok "$n round trips: the counter went on ($c -> $first)" ||
        fail "counter after round trips: $first <= $c"
else fail "guest does not count after $n round trips: domstate $(on a "$LVSH" domstate --reason $G 2>&1 | head -n1), console: $(tail -c 300 "$T/con-a3")"; fi
grep -aq "LV-GUEST-BOOTED" "$T/con-a3" && fail "the guest booted again during the round trips"
grep -q "^host=$UUID_A$" <(lease) && grep -q "^state=held$" <(lease) && ok "leases on A after the round trips" ||
    fail "lease after round trips: $(lease)"

# the disk after all these migrations: A's QEMU's alone, used once (each
# side gave back its own share); its original owner restored at the end
ua=$(awk '/^Uid:/ {print $2}' "/proc/$(qemu_pid a)/status")
lbl="$(disk_label) ref=$(python3 -c "import os,sys; print(os.getxattr(sys.argv[1], 'trusted.litevirt.dac_ref').decode())" "$T/disk.img" 2>&1)"
[ "$lbl" = "$ua:$ua:600 trusted.litevirt.dac trusted.litevirt.dac_ref ref=1" ] &&
    ok "after the migrations the disk is A's QEMU's (uid $ua) alone, used once" ||
    fail "disk after the migrations: $lbl (A's QEMU: uid $ua)"

# ---- never lose a guest (issue 21) or its lease (issue 14): a guest
# migrated in without --persistent is transient on B; its supervisor is
# SIGKILLed; B still lists it, a second guest on its disk is refused
# (B's QEMU holds the lease itself), `lvsh start` reattaches with the
# lease, and it migrates on with the right lock state ----
sup_pid() { cat "$T/$1/run/$G/supervisor.pid" 2>/dev/null; }
alive() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q "^Z"; }
wait_dead() { # PID: gone (or a zombie) within 60 s; else say what it is doing
    # (a SIGKILLed process ends only when its current system call returns:
    # an fsync on this machine's shared disk under full load took >10 s)
    local i=0
    while [ $i -lt 600 ] && alive "$1"; do sleep 0.1; i=$((i + 1)); done
    alive "$1" || return 0
    echo "# pid $1 alive: $(tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null) state $(sed -n 's/^State:\t//p' "/proc/$1/status" 2>/dev/null) wchan $(cat "/proc/$1/wchan" 2>/dev/null) ppid $(sed -n 's/^PPid:\t//p' "/proc/$1/status" 2>/dev/null)"
    return 1
}
listed() { on "$1" "$LVSH" list --all 2>&1 | grep -q "^ $2 *$G *$3\$"; }
holds_lease() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q -- "-> $T/lockspace/[0-9a-f]*\$"; }
lease_is() { # HOST PID: the record names that host and supervisor, state held
    grep -q "^host=$1$" <(lease) && grep -q "^pid=$2$" <(lease) && grep -q "^state=held$" <(lease)
}
cg_left() { local d; for d in $(cat "$T/cgdirs"); do [ -d "$d/litevirt-$G" ] && echo "$d/litevirt-$G"; done; }
unsupervised_checks() { # HOST QEMU-PID WHAT
    listed "$1" "$2" "running (unsupervised)" && ok "$3: list --all on $1: running (unsupervised)" ||
        fail "$3: list --all on $1: $(on "$1" "$LVSH" list --all 2>&1)"
    st=$(on "$1" "$LVSH" domstate --reason $G 2>&1 | head -n1)
    [ "$st" = "running (unsupervised)" ] || fail "$3: domstate --reason on $1: $st"
    on "$1" "$LVSH" dumpxml $G 2>&1 | grep -q "<name>$G</name>" || fail "$3: dumpxml on $1"
}

on b "$LVSH" undefine $G > /dev/null 2>&1 # B's copy from the --persistent migration
c=$(last_counter "$T/con-a3")
out=$(on a "$LVSH" migrate --live $G "$(transport b)" 2>&1) && ok "transient: migrated A -> B without --persistent" ||
    fail "transient: A -> B: $out"
[ ! -e "$T/b/guests/$G.xml" ] || fail "transient: B stores a definition"
qb=$(qemu_pid b) sb=$(sup_pid b)
listed b "$sb" running && ok "transient: listed on B" || fail "transient: list --all on B: $(on b "$LVSH" list --all 2>&1)"
holds_lease "$qb" && ok "transient: B's QEMU holds the disk lease itself" || fail "transient: B's QEMU holds no lease"
kill -9 "$sb"; wait_dead "$sb" || fail "transient: B's supervisor survives SIGKILL"
alive "$qb" || fail "transient: B's QEMU died with its supervisor"
unsupervised_checks b "$qb" transient
sed "s#<name>$G</name>#<name>$G-2</name>#" "$T/guest.xml" > "$T/guest2.xml"
on a "$LVSH" define "$T/guest2.xml" > /dev/null || fail "define $G-2 on A"
out=$(on a "$LVSH" start $G-2 2>&1) && fail "transient: a second guest on the disk started on A"
[[ "$out" == *"is in use by guest '$G' on host $UUID_B"* ]] &&
    ok "transient: a second guest on the disk refused on A while B's copy runs unsupervised" ||
    fail "transient: second guest: $out"
on a "$LVSH" destroy $G-2 > /dev/null 2>&1; on a "$LVSH" undefine $G-2 > /dev/null 2>&1
out=$(on b "$LVSH" start $G 2>&1) && ok "transient: lvsh start on B reattaches" || fail "transient: start on B: $out"
sb=$(sup_pid b)
[ "$(qemu_pid b)" = "$qb" ] || fail "transient: not the same QEMU after the reattach"
lease_is "$UUID_B" "$sb" && ok "transient: the reattached supervisor holds the lease" ||
    fail "transient: lease after the reattach: $(lease)"
console b "$T/con-b4"
wait_counter "$T/con-b4" $((c + 3)) 30 && ok "transient: the guest counts on B after the reattach" ||
    fail "transient: no counter on B: $(tail -c 200 "$T/con-b4")"
out=$(on b "$LVSH" migrate --live $G "$(transport a)" 2>&1) &&
    ok "transient: the reattached guest migrates on, B -> A (its lock state carries the lease)" ||
    fail "transient: B -> A after the reattach: $out"
gone b "$qb" && ok "transient: nothing left on B" || fail "transient: left on B: $(ls "$T/b/run")"
lease_is "$UUID_A" "$(sup_pid a)" || fail "transient: lease after B -> A: $(lease)"
on b "$LVSH" list --all 2>&1 | grep -q " $G " && fail "transient: B still lists the guest it gave away"

# ---- A's supervisor SIGKILLed mid-stream of a throttled migration
# (--bandwidth 8): the reattach cancels what is left of the migration and
# gives QEMU migrate-setspeed's and migrate-setmaxdowntime's values back,
# not the --bandwidth nor QEMU's defaults (asked from QEMU itself, with the
# supervisor killed once more), keeps the lease, and the guest counts ----
qmp_ask() { # HOST COMMAND: QEMU's answer on its monitor (no supervisor may hold it)
    python3 - "$T/$1/run/$G/qmp.sock" "$2" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
f.readline()
for cmd in ("qmp_capabilities", sys.argv[2]):
    f.write(json.dumps({"execute": cmd}) + "\n"); f.flush()
    while True:
        m = json.loads(f.readline())
        if "return" in m or "error" in m: break
print(json.dumps(m.get("return", m)))
PY
}
qa=$(qemu_pid a)
on a "$LVSH" migrate-setspeed $G 96 > /dev/null 2>&1 && on a "$LVSH" migrate-setmaxdowntime $G 777 > /dev/null 2>&1 ||
    fail "bandwidth: setspeed 96 / setmaxdowntime 777 on A"
$(hosts_prefix a) "$LVSH" migrate --live --bandwidth 8 $G "$(transport b)" > "$T/bw.out" 2>&1 &
mpid=$!
HELPERS="$HELPERS $mpid"
i=0
while [ $i -lt 300 ] && ! on a "$LVSH" domjobinfo $G 2>/dev/null | grep -q "^Data processed: *[0-9]*\.[0-9]* MiB"; do
    sleep 0.1; i=$((i + 1))
done
sa=$(sup_pid a); kill -9 "$sa"; wait_dead "$sa" || fail "bandwidth: A's supervisor survives SIGKILL"
wait "$mpid" 2>/dev/null
alive "$qa" && ok "bandwidth: A's QEMU runs on after its supervisor died mid-stream" || fail "bandwidth: A's QEMU died"
out=$(on a "$LVSH" start $G 2>&1) && ok "bandwidth: lvsh start on A reattaches" || fail "bandwidth: start on A: $out"
lease_is "$UUID_A" "$(sup_pid a)" && ok "bandwidth: the reattached supervisor holds the lease" ||
    fail "bandwidth: lease after the reattach: $(lease)"
sp=$(on a "$LVSH" migrate-getspeed $G 2>&1) dt=$(on a "$LVSH" migrate-getmaxdowntime $G 2>&1)
[ "$sp" = 96 ] && [ "$dt" = 777 ] && ok "bandwidth: after the reattach migrate-getspeed 96, migrate-getmaxdowntime 777" ||
    fail "bandwidth: after the reattach getspeed '$sp' getmaxdowntime '$dt'"
sa=$(sup_pid a); kill -9 "$sa"; wait_dead "$sa" || fail "bandwidth: A's supervisor survives SIGKILL"
params=$(qmp_ask a query-migrate-parameters)
[[ "$params" == *'"max-bandwidth": 100663296'* ]] && [[ "$params" == *'"downtime-limit": 777'* ]] &&
    ok "bandwidth: QEMU's max-bandwidth is migrate-setspeed's 96 MiB/s again, downtime-limit 777 ms" ||
    fail "bandwidth: QEMU's migration parameters: $params"
mig=$(qmp_ask a query-migrate)
[[ "$mig" != *'"status": "active"'* ]] || fail "bandwidth: the migration still runs: $mig"
out=$(on a "$LVSH" start $G 2>&1) || fail "bandwidth: start on A again: $out"
console a "$T/con-a5"
c=$(last_counter "$T/con-b4")
wait_for "$T/con-a5" "LV-COUNTER" 15 && [ "$(last_counter "$T/con-a5")" -gt "${c:-0}" ] &&
    ok "bandwidth: the guest counts on A" || fail "bandwidth: no counter on A: $(tail -c 200 "$T/con-a5")"
i=0; while [ $i -lt 100 ] && [ -e "$T/b/run/$G" ]; do sleep 0.1; i=$((i + 1)); done
[ ! -e "$T/b/run/$G" ] || fail "bandwidth: state left on B: $(ls "$T/b/run/$G")"

# ---- B's supervisor SIGKILLed in Finish after resuming the guest: the
# guest runs on B (holding its lease), A cannot take the lease back and
# keeps its copy paused (it never runs twice); B's copy is reattached,
# counts on, and is destroyed leaving nothing ----
out=$(on a "$LVSH" migrate --live $G "LITEVIRT_FAULT=migration-finish-after-resume $(transport b)" 2>&1) &&
    fail "finish-kill: migration reported success"
grep -q "fault point 'migration-finish-after-resume' reached" "$T/b/log/$G.log" || fail "finish-kill: fault point not reached"
qb=$(qemu_pid b) qa=$(qemu_pid a)
[ -n "$qb" ] && alive "$qb" && ok "finish-kill: B's QEMU runs on" || fail "finish-kill: no QEMU on B"
unsupervised_checks b "$qb" finish-kill
grep -q "^host=$UUID_B$" <(lease) && grep -q "^state=held$" <(lease) && ok "finish-kill: the lease stays with B's guest" ||
    fail "finish-kill: lease: $(lease)"
grep -q "stays paused here: its disk leases cannot be taken back" "$T/a/log/$G.log" &&
    ok "finish-kill: A keeps its copy paused (no second runner)" || fail "finish-kill: A: $out"
c=$(last_counter "$T/con-a5") # A's console, up to the switch-over
out=$(on b "$LVSH" start $G 2>&1) && ok "finish-kill: lvsh start on B reattaches" || fail "finish-kill: start on B: $out"
lease_is "$UUID_B" "$(sup_pid b)" || fail "finish-kill: lease after the reattach: $(lease)"
console b "$T/con-b5"
wait_counter "$T/con-b5" $((c + 2)) 30 && ok "finish-kill: the guest counts on B" ||
    fail "finish-kill: no counter on B: $(tail -c 200 "$T/con-b5")"
on a "$LVSH" destroy $G > /dev/null 2>&1 || fail "finish-kill: destroy A's stale copy"
gone a "$qa" || fail "finish-kill: left on A"
sb=$(sup_pid b); kill -9 "$sb"; wait_dead "$sb" || fail "finish-kill: B's supervisor survives SIGKILL"
out=$(on b "$LVSH" destroy $G 2>&1) && ok "finish-kill: destroy of the unsupervised guest on B" ||
    fail "finish-kill: destroy on B: $out"
gone b "$qb" && [ -z "$(cg_left)" ] && ok "finish-kill: nothing left (process, state, cgroups)" ||
    fail "finish-kill: left: $(ls "$T/b/run") $(cg_left)"
grep -q "^state=free$" <(lease) || fail "finish-kill: lease after destroy: $(lease)"

# ---- --persistent, but B cannot store the definition: as libvirt, the
# guest migrates all the same and runs transient on B ----
out=$(on a "$LVSH" start $G 2>&1) || fail "persist-fails: start on A: $out"
: > "$T/not-a-dir"
tb=$(transport b | sed "s#LITEVIRT_GUESTDIR=$T/b/guests#LITEVIRT_GUESTDIR=$T/not-a-dir/guests#")
out=$(on a "$LVSH" migrate --live --persistent $G "$tb" 2>&1) && ok "persist-fails: migrated A -> B" ||
    fail "persist-fails: A -> B: $out"
grep -q "cannot store the definition, the guest runs transient here" "$T/b/log/$G.log" ||
    fail "persist-fails: no warning in B's log"
[ ! -e "$T/b/guests/$G.xml" ] || fail "persist-fails: a definition on B"
qb=$(qemu_pid b) sb=$(sup_pid b)
kill -9 "$sb"; wait_dead "$sb" || fail "persist-fails: B's supervisor survives SIGKILL"
unsupervised_checks b "$qb" persist-fails
out=$(on b "$LVSH" start $G 2>&1) && ok "persist-fails: lvsh start on B reattaches" || fail "persist-fails: start: $out"
lease_is "$UUID_B" "$(sup_pid b)" || fail "persist-fails: lease after the reattach: $(lease)"
out=$(on b "$LVSH" destroy $G 2>&1) || fail "persist-fails: destroy on B: $out"
gone b "$qb" && [ -z "$(cg_left)" ] && ok "persist-fails: destroyed, nothing left on B" ||
    fail "persist-fails: left: $(ls "$T/b/run") $(cg_left)"
on b "$LVSH" list --all 2>&1 | grep -q " $G " && fail "persist-fails: B still lists the ended guest" ||
    ok "persist-fails: gone from B's list --all once it ended"

# ---- a paused guest stays paused on the destination (libvirt adds
# VIR_MIGRATE_PAUSED itself); --suspend leaves a running one paused ----
out=$(on a "$LVSH" start $G 2>&1) || fail "paused: start on A: $out"
console a "$T/con-a5"
wait_for "$T/con-a5" "LV-COUNTER 2\b" 60 || fail "paused: guest does not count on A"
on a "$LVSH" suspend $G > /dev/null || fail "paused: suspend on A"
c=$(last_counter "$T/con-a5")
out=$(on a "$LVSH" migrate --live $G "$(transport b)" 2>&1) || fail "paused: A -> B: $out"
st=$(on b "$LVSH" domstate --reason $G 2>&1 | head -n1)
[ "$st" = "paused (user)" ] && ok "a paused guest arrives paused on B: $st" || fail "paused: domstate on B: $st"
console b "$T/con-b5"
sleep 3 # running, it would print three more lines meanwhile
seen=$(last_counter "$T/con-b5")
[ -z "$seen" ] || [ "$seen" -le $((c + 1)) ] && ok "paused: the counter stands still on B (${seen:-nothing})" ||
    fail "paused: the guest counts on B before resume ($c -> $seen)"
on b "$LVSH" resume $G > /dev/null || fail "paused: resume on B"
if wait_for "$T/con-b5" "LV-COUNTER" 30; then
    first=$(grep -ao 'LV-COUNTER [0-9]*' "$T/con-b5" | head -n1 | awk '{print $2}')
    [ "$first" -gt "$c" ] && ok "paused: resumed on B, the counter continues ($c -> $first)" ||
        fail "paused: counter on B restarted: $first <= $c"
else fail "paused: guest does not count on B after resume"; fi
out=$(on b "$LVSH" migrate --live --suspend $G "$(transport a)" 2>&1) || fail "suspend: B -> A: $out"
st=$(on a "$LVSH" domstate --reason $G 2>&1 | head -n1)
[ "$st" = "paused (user)" ] && ok "--suspend: the running guest arrives paused on A: $st" ||
    fail "--suspend: domstate on A: $st"
c=$(last_counter "$T/con-b5")
console a "$T/con-a6"
on a "$LVSH" resume $G > /dev/null || fail "--suspend: resume on A"
wait_counter "$T/con-a6" $((c + 2)) 30 && ok "--suspend: resumed on A, the counter continues" ||
    fail "--suspend: guest does not count on A after resume: $(tail -c 200 "$T/con-a6")"

# ---- --persistent to a host where another guest (another UUID) has the
# name: refused as libvirt, before anything starts; the guest stays on A ----
OTHER_UUID=5d6f0a1e-0000-4000-8000-$(printf %012d $$)
OTHER_UUID=${OTHER_UUID:0:36}
on b "$LVSH" undefine $G > /dev/null 2>&1
sed "s#<name>$G</name>#<name>$G</name><uuid>$OTHER_UUID</uuid>#" "$T/guest.xml" > "$T/other.xml"
out=$(on b "$LVSH" define "$T/other.xml" 2>&1) || fail "name-taken: define on B: $out"
c=$(last_counter "$T/con-a6")
out=$(on a "$LVSH" migrate --live --persistent $G "$(transport b)" 2>&1)
if [ $? != 0 ] && [[ "$out" == *"domain '$G' is already defined with uuid $OTHER_UUID"* ]]; then
    ok "name-taken: refused: ${out##*error: }"
else fail "name-taken: migrate --persistent: $out"; fi
wait_counter "$T/con-a6" $((c + 2)) 15 && ok "name-taken: the guest still counts on A" ||
    fail "name-taken: the guest stopped counting on A"
grep -q "$OTHER_UUID" "$T/b/guests/$G.xml" && ok "name-taken: B's own definition kept" ||
    fail "name-taken: B's definition: $(grep uuid "$T/b/guests/$G.xml")"
[ -e "$T/b/run/$G" ] && fail "name-taken: state left on B"
grep -q "^host=$UUID_A$" <(lease) && grep -q "^state=held$" <(lease) || fail "name-taken: lease: $(lease)"

# ---- graphics listening on loopback: as libvirt, only a wildcard address
# is replaced; a loopback one is sent as it is (clients on B itself) ----
on a "$LVSH" destroy $G > /dev/null 2>&1
on a "$LVSH" dumpxml $G | sed "s#'0\.0\.0\.0'#'127.0.0.1'#g" > "$T/lo.xml"
grep -q "listen='127.0.0.1'" "$T/lo.xml" || fail "loopback: no listen in $(grep graphics "$T/lo.xml")"
on a "$LVSH" define "$T/lo.xml" > /dev/null || fail "loopback: define on A"
on b "$LVSH" undefine $G > /dev/null 2>&1
out=$(on a "$LVSH" start $G 2>&1) || fail "loopback: start on A: $out"
out=$(on a "$LVSH" migrate --live $G "$(transport b)" 2>&1) || fail "loopback: A -> B: $out"
[[ "$out" == *"Graphics: spice://127.0.0.1:59"* ]] &&
    grep -q "SPICE clients told to reconnect to 127.0.0.1:59" "$T/a/log/$G.log" &&
    ok "loopback graphics: B's own address sent, not the migration address" ||
    fail "loopback graphics: $out"

[ $FAILS = 0 ] && echo "all passed" || echo "$FAILS failed"
[ $FAILS = 0 ]
