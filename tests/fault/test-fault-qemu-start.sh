#!/bin/sh
# SIGKILL of a QEMU guest's supervisor at each step of the QEMU driver's
# start (fault points in qemu/driver.c): qemu-after-cgroup (no QEMU yet),
# qemu-after-spawn (QEMU runs, paused by -S, before QMP), qemu-after-qmp,
# qemu-before-cont. Each must leave either nothing (after `lvsh list`
# cleaned up) or a guest that lvsh shows as running/paused
# ("unsupervised", never "shut off") and that `lvsh start` reattaches to
# (the same QEMU, running), and that destroy then removes entirely.
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 missing"; exit 77; }

G=$P-qs
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
    <graphics type='vnc' autoport='yes' passwd='s3cret'/>
  </devices>
</domain>
XML
"$LVSH" define "$T/vm.xml" >/dev/null || fail "define"

# fault point, expected outcome: nothing | reattach
for case in qemu-after-cgroup:nothing qemu-after-spawn:reattach qemu-after-qmp:reattach \
            qemu-before-cont:reattach; do
    fp=${case%%:*}; want=${case#*:}
    mkdir -p "$T/log"; : >"$T/log/$G.log"
    out=$(LITEVIRT_FAULT=$fp "$LVSH" start "$G" 2>&1) && fail "$fp: lvsh start succeeded" ||
        ok "$fp: lvsh start fails: $(echo "$out" | tail -1)"
    grep -q "fault point '$fp' reached" "$T/log/$G.log" || fail "$fp: fault point not reached"
    qpid=$(procs_with "guest=$G," | head -n1)
    [ -n "$qpid" ] && bg_pids="$bg_pids $qpid"
    "$LVSH" list --all >/dev/null 2>&1
    st=$("$LVSH" domstate --reason "$G" 2>&1)
    if [ "$want" = nothing ]; then
        [ -z "$qpid" ] && ok "$fp: no QEMU" || fail "$fp: a QEMU runs ($qpid)"
        check_nothing_left "$G" "$fp"
        continue
    fi
    [ -n "$qpid" ] && alive "$qpid" && ok "$fp: QEMU $qpid runs on" || { fail "$fp: no QEMU"; continue; }
    case $st in
    "running (unsupervised)"|"paused (unsupervised)") ok "$fp: domstate --reason: $st" ;;
    *) fail "$fp: domstate --reason says '$st' while QEMU $qpid runs" ;;
    esac
    out=$("$LVSH" start "$G" 2>&1) && ok "$fp: lvsh start reattaches" || fail "$fp: start after fault: $out"
    [ "$(qemu_pid "$G")" = "$qpid" ] && alive "$qpid" && ok "$fp: the same QEMU" ||
        fail "$fp: not the same QEMU: '$(qemu_pid "$G")' vs $qpid"
    st=$("$LVSH" domstate "$G" 2>&1)
    [ "$st" = running ] && ok "$fp: running after the reattach" || fail "$fp: domstate after reattach '$st'"
    disp=$("$LVSH" vncdisplay "$G" 2>&1)
    case $disp in 127.0.0.1:*) ;; *) fail "$fp: vncdisplay after reattach: '$disp'" ;; esac
    vport=$((5900 + ${disp##*:}))
    good=$(python3 "$LV_SOURCE_ROOT/tests/qemu/vnc-auth.py" "$vport" s3cret 2>&1)
    bad=$(python3 "$LV_SOURCE_ROOT/tests/qemu/vnc-auth.py" "$vport" wrong 2>&1)
    [ "$good" = ok ] && [ "$bad" = refused ] && ok "$fp: VNC password in force after the reattach" ||
        fail "$fp: VNC auth after reattach: right '$good', wrong '$bad'"
    "$LVSH" destroy "$G" >/dev/null 2>&1 || fail "$fp: destroy"
    wait_for "! alive $qpid" && ok "$fp: destroy ends QEMU" || fail "$fp: QEMU $qpid outlived destroy"
    wait_for "[ ! -e '$T/run/$G' ]"
    check_nothing_left "$G" "$fp"
    [ -z "$(procs_with "guest=$G,")" ] || fail "$fp: a QEMU of $G is left"
done

finish fault-qemu-start
