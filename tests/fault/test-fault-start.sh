#!/bin/sh
# SIGKILL of the supervisor at each step of a container start (fault
# points of util/fault.h, chosen with LITEVIRT_FAULT): after the cgroup is
# made, after clone, after the network is set up, after init's exec, and
# just before the guest is reported running; and while a destroyed guest
# is torn down (before-undo). Each time `lvsh start`
# must fail, and once lvsh has looked at the guest nothing may be left
# (process, cgroup, host link, mount, state directory, lock); the
# definition is unchanged and the guest starts again. Needs root.
. "$(dirname "$0")/lib.sh"

ip link add br0 type bridge && ip link set br0 up || { echo "SKIP: cannot create a bridge"; exit 77; }

for fault in lxc-after-cgroup lxc-after-clone lxc-after-network lxc-after-exec before-ready; do
    G=$P-${fault#lxc-}
    link=${P}v$(echo "$fault" | cksum | cut -c1-4)
    define "$G" "while :; do sleep 1; done" destroy "<interface type='bridge'>
      <source bridge='br0'/>
      <target dev='$link'/>
    </interface>"
    cp "$T/conf/guests/$G.xml" "$T/def.saved"

    out=$(LITEVIRT_FAULT=$fault "$LVSH" start "$G" 2>&1); rc=$?
    if [ $rc != 0 ]; then
        ok "$fault: lvsh start fails: $(echo "$out" | tail -1)"
    else
        fail "$fault: lvsh start succeeded"
    fi
    grep -q "fault point '$fault' reached" "$T/log/$G.log" ||
        fail "$fault: the supervisor never reached the fault point: $(tail -3 "$T/log/$G.log")"
    # The supervisor is gone (it killed itself); its guest dies with it
    # (PDEATHSIG): wait for that, bounded, then look as a user would.
    [ -n "${LV_FAULT_NOWAIT:-}" ] || wait_for "[ -z \"\$(procs_with lv-mark-$P-$G)\" ]" || fail "$fault: init outlived its supervisor"
    check_nothing_left "$G" "$fault" "$link"
    cmp -s "$T/conf/guests/$G.xml" "$T/def.saved" && ok "$fault: definition intact" ||
        fail "$fault: definition changed"

    # And it starts again, runs, and goes away cleanly.
    out=$("$LVSH" start "$G" 2>&1) && [ "$("$LVSH" domstate "$G")" = running ] &&
        ip link show "$link" 2>/dev/null | grep -q "master br0" &&
        ok "$fault: starts again (running, $link on br0)" || fail "$fault: start again: $out"
    "$LVSH" destroy "$G" >/dev/null 2>&1
    wait_for "[ ! -e '$T/run/$G' ]"
    check_nothing_left "$G" "$fault, destroy after the new start" "$link"
done

# SIGKILL while the guest is being torn down: init is dead, none of the
# start's undo steps ran (cgroups, veth, console, state directory).
G=$P-undo
link=${P}vundo
define "$G" "while :; do sleep 1; done" destroy "<interface type='bridge'>
      <source bridge='br0'/>
      <target dev='$link'/>
    </interface>"
LITEVIRT_FAULT=before-undo "$LVSH" start "$G" >/dev/null 2>&1 && [ "$("$LVSH" domstate "$G")" = running ] ||
    fail "before-undo: the start itself failed"
spid=$(cat "$T/run/$G/supervisor.pid" 2>/dev/null)
out=$("$LVSH" destroy "$G" 2>&1)
ok "before-undo: lvsh destroy says: $(echo "$out" | tail -1)"
wait_for "! alive $spid" || fail "before-undo: the supervisor did not die"
grep -q "fault point 'before-undo' reached" "$T/log/$G.log" || fail "before-undo: fault point not reached"
check_nothing_left "$G" "before-undo" "$link"
"$LVSH" start "$G" >/dev/null 2>&1 && [ "$("$LVSH" domstate "$G")" = running ] &&
    ok "before-undo: starts again" || fail "before-undo: start again"
"$LVSH" destroy "$G" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "before-undo, destroy after the new start" "$link"

# A fault point that is not reached changes nothing.
G=$P-none
define "$G" "while :; do sleep 1; done"
LITEVIRT_FAULT=no-such-point "$LVSH" start "$G" >/dev/null 2>&1 && [ "$("$LVSH" domstate "$G")" = running ] &&
    ok "an unknown fault name is inert" || fail "start with LITEVIRT_FAULT=no-such-point"
"$LVSH" destroy "$G" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "inert fault"

finish fault-start
