#!/bin/sh
# SIGKILL of a QEMU guest's supervisor just before it reports the guest
# running (fault point before-ready): `lvsh start` fails, QEMU runs on
# (QEMU does not die with its supervisor, by design) and is on record in
# status.json, so the next `lvsh start` reattaches to the same QEMU
# (QMP works: suspend/resume) and destroy leaves nothing. QEMU killed
# from outside: the supervisor records the crash (on_crash=destroy). The reattach
# of a running VM's supervisor is tested in tests/qemu (lifecycle).
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 missing"; exit 77; }

G=$P-vm
qemu_pid() {
    sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$T/run/$1/qemu.json" 2>/dev/null | head -n1
}
cat >"$T/vm.xml" <<XML
<domain type='qemu'>
  <name>$G</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <serial type='pty'><target port='0'/></serial>
  </devices>
</domain>
XML
"$LVSH" define "$T/vm.xml" >/dev/null || fail "define"
cp "$T/conf/guests/$G.xml" "$T/def.saved"

out=$(LITEVIRT_FAULT=before-ready "$LVSH" start "$G" 2>&1) && fail "lvsh start succeeded" ||
    ok "before-ready: lvsh start fails: $(echo "$out" | tail -1)"
grep -q "fault point 'before-ready' reached" "$T/log/$G.log" || fail "fault point not reached"
qpid=$(qemu_pid "$G")
[ -n "$qpid" ] && bg_pids="$bg_pids $qpid"
[ -n "$qpid" ] && alive "$qpid" && grep -q "guest=$G," "/proc/$qpid/cmdline" &&
    ok "QEMU $qpid survives its supervisor" || fail "no QEMU after the fault (pid '$qpid')"
[ "$(status_field "$G" pid)" = "$qpid" ] && ok "status.json has QEMU's pid" ||
    fail "status.json pid '$(status_field "$G" pid)', QEMU $qpid"
"$LVSH" list --all >/dev/null 2>&1
alive "$qpid" && [ -f "$T/run/$G/qemu.json" ] && ok "lvsh list keeps a running QEMU's state" ||
    fail "lvsh list dropped the state of a running QEMU"

# Its supervisor is dead, QEMU runs: lvsh must never call it shut off.
orphan_checks() { # NAME QEMU-PID WHAT
    st=$("$LVSH" domstate --reason "$1" 2>&1)
    [ "$st" = "running (unsupervised)" ] && ok "$3: domstate --reason: $st" ||
        fail "$3: domstate --reason says '$st'"
    "$LVSH" list | grep -q "^ $2 *$1 *running (unsupervised)\$" && ok "$3: lvsh list: running (unsupervised), id $2" ||
        fail "$3: lvsh list: $("$LVSH" list --all 2>&1 | grep " $1 ")"
    "$LVSH" list --inactive --name | grep -qx "$1" && fail "$3: listed as inactive"
    info=$("$LVSH" dominfo "$1" 2>&1)
    echo "$info" | grep -q "^State: *running" && echo "$info" | grep -q "^Id: *$2\$" &&
        ok "$3: dominfo: running, id $2" || fail "$3: dominfo: $info"
    out=$("$LVSH" suspend "$1" 2>&1) && fail "$3: suspend without a supervisor succeeded"
    echo "$out" | grep -q "supervisor died.*lvsh start" && ok "$3: suspend refused: says how to reattach" ||
        fail "$3: suspend: $out"
}
orphan_checks "$G" "$qpid" before-ready

out=$("$LVSH" start "$G" 2>&1) && ok "lvsh start after the fault" || fail "start after fault: $out"
[ "$(qemu_pid "$G")" = "$qpid" ] && alive "$qpid" && ok "reattached to the same QEMU" ||
    fail "not the same QEMU: '$(qemu_pid "$G")' vs $qpid"
"$LVSH" suspend "$G" >/dev/null 2>&1 && [ "$("$LVSH" domstate "$G")" = paused ] &&
    "$LVSH" resume "$G" >/dev/null 2>&1 && [ "$("$LVSH" domstate "$G")" = running ] &&
    ok "QMP works after the reattach (suspend, resume)" || fail "suspend/resume after reattach: $(tail -3 "$T/log/$G.log")"
"$LVSH" destroy "$G" >/dev/null 2>&1 || fail "destroy"
wait_for "! alive $qpid" && ok "destroy ends QEMU" || fail "QEMU $qpid outlived destroy"
wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "destroy after reattach"
[ -z "$(procs_with "guest=$G,")" ] || fail "a QEMU of $G is left"
cmp -s "$T/conf/guests/$G.xml" "$T/def.saved" && ok "definition intact" || fail "definition changed"

# ---- supervisor SIGKILLed while the VM runs: destroy without reattach ----
"$LVSH" start "$G" >/dev/null 2>&1 || fail "start for the orphan destroy"
qpid=$(qemu_pid "$G"); spid=$(cat "$T/run/$G/supervisor.pid")
[ -n "$qpid" ] && bg_pids="$bg_pids $qpid"
"$LVSH" console "$G" </dev/null >"$T/con1.out" 2>&1 &
cpid=$!; bg_pids="$bg_pids $cpid"
wait_for "grep -q 'Connected to domain' '$T/con1.out'" || fail "console did not attach"
kill -9 "$spid"; wait_for "! alive $spid" || fail "supervisor $spid survives SIGKILL"
wait "$cpid"; crc=$?
[ "$crc" != 0 ] && grep -q "error: console of domain '$G': the connection to the supervisor was lost" "$T/con1.out" &&
    ok "console exits $crc: connection to the supervisor lost" || fail "console after SIGKILL: rc $crc: $(tail -2 "$T/con1.out")"
alive "$qpid" || fail "QEMU $qpid died with its supervisor"
orphan_checks "$G" "$qpid" "supervisor killed"
out=$("$LVSH" destroy "$G" 2>&1) && ok "destroy of an unsupervised VM" || fail "destroy orphan: $out"
wait_for "! alive $qpid" && ok "destroy ends the orphaned QEMU" || fail "QEMU $qpid outlived destroy"
wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "destroy of an unsupervised VM"
[ -z "$(procs_with "guest=$G,")" ] || fail "a QEMU of $G is left"

# ---- QEMU killed from outside (on_crash defaults to destroy) ----
"$LVSH" start "$G" >/dev/null 2>&1 || fail "start for the crash"
qpid=$(qemu_pid "$G"); spid=$(cat "$T/run/$G/supervisor.pid")
"$LVSH" console "$G" </dev/null >"$T/con2.out" 2>&1 &
cpid=$!; bg_pids="$bg_pids $cpid"
wait_for "grep -q 'Connected to domain' '$T/con2.out'" || fail "console did not attach"
[ -n "$qpid" ] && bg_pids="$bg_pids $qpid" && kill -9 "$qpid"
wait_for "! alive $spid" && ok "QEMU killed: the supervisor ends (on_crash=destroy)" || fail "supervisor $spid still runs"
wait "$cpid"; crc=$?
[ "$crc" = 0 ] && ! grep -q "error" "$T/con2.out" && ok "console exits 0 when the guest ends" ||
    fail "console at the guest's end: rc $crc: $(tail -2 "$T/con2.out")"
grep -q "shutoff (crashed)" "$T/log/$G.log" && ok "the log records shut off (crashed)" ||
    fail "log: $(tail -3 "$T/log/$G.log")"
check_nothing_left "$G" "QEMU killed"
[ -z "$(procs_with "guest=$G,")" ] || fail "a QEMU of $G is left"

# ---- SIGKILL while a destroyed VM is torn down (before-undo) ----
G=$P-vnc
sed "s#<name>[^<]*</name>#<name>$G</name>#; s#</devices>#<graphics type='vnc' autoport='yes'/></devices>#" "$T/vm.xml" >"$T/vnc.xml"
"$LVSH" define "$T/vnc.xml" >/dev/null || fail "define $G"
LITEVIRT_FAULT=before-undo "$LVSH" start "$G" >/dev/null 2>&1 || fail "before-undo: start"
qpid=$(qemu_pid "$G"); spid=$(cat "$T/run/$G/supervisor.pid")
[ -n "$qpid" ] && bg_pids="$bg_pids $qpid"
d1=$("$LVSH" vncdisplay "$G" 2>&1)
"$LVSH" destroy "$G" >/dev/null 2>&1
wait_for "! alive $spid" && grep -q "fault point 'before-undo' reached" "$T/log/$G.log" &&
    ok "before-undo: the supervisor died while tearing down" || fail "before-undo: fault not reached"
wait_for "! alive $qpid" || fail "before-undo: QEMU $qpid still runs"
check_nothing_left "$G" "before-undo (QEMU)"
[ -z "$(procs_with "guest=$G,")" ] || fail "a QEMU of $G is left"
"$LVSH" start "$G" >/dev/null 2>&1 && [ "$("$LVSH" vncdisplay "$G" 2>&1)" = "$d1" ] &&
    ok "before-undo: starts again with the same VNC display ($d1): no port lease left" ||
    fail "before-undo: start again: display '$("$LVSH" vncdisplay "$G" 2>&1)' vs '$d1'"
qpid=$(qemu_pid "$G"); [ -n "$qpid" ] && bg_pids="$bg_pids $qpid"
"$LVSH" destroy "$G" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "destroy after before-undo (QEMU)"

finish fault-qemu
