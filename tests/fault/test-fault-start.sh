#!/bin/sh
# SIGKILL of the supervisor at each step of a container start (fault
# points of util/fault.h, chosen with LITEVIRT_FAULT): after the cgroup is
# made, after clone, after the network is set up, after init's exec, and
# just before the guest is reported running. Each time `lvsh start`
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

# A fault point that is not reached changes nothing.
G=$P-none
define "$G" "while :; do sleep 1; done"
LITEVIRT_FAULT=no-such-point "$LVSH" start "$G" >/dev/null 2>&1 && [ "$("$LVSH" domstate "$G")" = running ] &&
    ok "an unknown fault name is inert" || fail "start with LITEVIRT_FAULT=no-such-point"
"$LVSH" destroy "$G" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "inert fault"

finish fault-start
