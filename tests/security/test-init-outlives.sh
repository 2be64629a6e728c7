#!/bin/sh
# Attack: the container's init changes its uid (as su, setpriv or
# gosu-style entrypoints do), which makes the kernel clear
# PR_SET_PDEATHSIG; before the fix it then survived a SIGKILL of its
# supervisor, and lvsh could not remove it. Now the supervisor's guard
# kills the container within a second, and when guard and supervisor are
# both killed, the next lvsh kills the leftover through its cgroups.
. "$(dirname "$0")/lib.sh"

G=$P-su
# PID 1 itself becomes uid 1000 (busybox su execs the shell, no fork).
define "$G" "exec su -s /bin/sh tenant -c ': lv-mark-$P-$G-tenant; sleep 1000 &amp; while :; do sleep 1; done'"

uid_of() { sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' /proc/"$1"/status 2>/dev/null; }

"$LVSH" start "$G" >/dev/null || fail "start $G"
spid=$(cat "$T/run/$G/supervisor.pid"); ipid=$(status_field "$G" pid)
wait_for "[ \"\$(uid_of $ipid)\" = 1000 ]" && ok "init $ipid runs as uid 1000 (PR_SET_PDEATHSIG cleared)" ||
    fail "init did not change uid: $(uid_of "$ipid")"
wait_for "[ -n \"\$(procs_with lv-mark-$P-$G-tenant)\" ]" || fail "the guest's processes did not start"
t0=$(now_ms)
kill -9 "$spid"
# init ends last: the kernel ends the other processes of its PID
# namespace and waits for them before init is gone.
i=0
while alive "$ipid" && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
t1=$(now_ms)
if ! alive "$ipid" && [ -z "$(procs_with "lv-mark-$P-$G")" ] && [ $((t1 - t0)) -le 1000 ]; then
    ok "the whole container was gone $((t1 - t0)) ms after the supervisor's SIGKILL"
else
    fail "container left $((t1 - t0)) ms after the supervisor's SIGKILL: $(procs_with "lv-mark-$P-$G")"
fi
check_nothing_left "$G" "supervisor killed"

# The guard killed as well (an admin's kill -9 of both): the next lvsh
# removes the leftover.
"$LVSH" start "$G" >/dev/null || fail "start $G again"
spid=$(cat "$T/run/$G/supervisor.pid"); ipid=$(status_field "$G" pid)
wait_for "[ \"\$(uid_of $ipid)\" = 1000 ]" || fail "init did not change uid"
guard=""
for c in $(children_of "$spid"); do [ "$c" != "$ipid" ] && guard="$guard $c"; done
[ -n "$guard" ] && ok "the supervisor's guard:$guard" || fail "no guard process beside init"
kill -9 $guard "$spid"
wait_for "! alive $spid" || fail "supervisor survived SIGKILL"
st=$("$LVSH" domstate "$G" 2>&1)
[ "$st" = "shut off" ] && ok "lvsh domstate after both were killed: shut off" ||
    fail "lvsh domstate says '$st' (leftover not removed)"
alive "$ipid" && fail "init $ipid still runs after lvsh looked"
check_nothing_left "$G" "supervisor and guard killed"
"$LVSH" start "$G" >/dev/null && ok "starts again" || fail "start after the leftover was removed"
"$LVSH" destroy "$G" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "destroy"
finish security-init-outlives
