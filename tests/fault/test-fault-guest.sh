#!/bin/sh
# Faults around a running container: hostile and heavy control clients
# (tests/fault/fault-clients.c), the container's init killed from outside
# (on_crash destroy / preserve), the supervisor killed while a console
# client is attached, 8 concurrent starts of one guest. Checked from
# outside: lvsh domstate/list, /proc, the guest's cgroups, the state
# directory. Needs root.
. "$(dirname "$0")/lib.sh"
CLIENTS=$B/tests/fault/fault-clients

# ---- hostile and heavy control clients ----
G=$P-busy
define "$G" "while :; do sleep 1; done"
"$LVSH" start "$G" >/dev/null || fail "start $G"
spid=$(cat "$T/run/$G/supervisor.pid"); ipid=$(status_field "$G" pid)
if "$CLIENTS" "$G" >"$T/clients.out" 2>&1; then
    ok "control clients:"; sed 's/^/    /' "$T/clients.out"
else
    fail "control clients: $(cat "$T/clients.out")"
fi
[ "$(cat "$T/run/$G/supervisor.pid")" = "$spid" ] && alive "$spid" && alive "$ipid" &&
    [ "$("$LVSH" domstate "$G")" = running ] && ok "same supervisor, same init, still running" ||
    fail "guest or supervisor harmed by the clients"
"$LVSH" destroy "$G" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "destroy after the clients"

# ---- init killed from outside: on_crash=destroy ----
G=$P-crash
define "$G" "while :; do sleep 1; done" destroy
"$LVSH" start "$G" >/dev/null || fail "start $G"
spid=$(cat "$T/run/$G/supervisor.pid"); ipid=$(status_field "$G" pid)
kill -9 "$ipid"
wait_for "! alive $spid" && ok "on_crash=destroy: the supervisor ends with its guest" || fail "supervisor $spid still runs"
grep -q "shutoff (crashed)" "$T/log/$G.log" && ok "on_crash=destroy: the log records shut off (crashed)" ||
    fail "log: $(tail -3 "$T/log/$G.log")"
check_nothing_left "$G" "on_crash=destroy"

# ---- init killed from outside: on_crash=preserve ----
G=$P-keep
define "$G" "while :; do sleep 1; done" preserve
"$LVSH" start "$G" >/dev/null || fail "start $G"
spid=$(cat "$T/run/$G/supervisor.pid"); ipid=$(status_field "$G" pid)
kill -9 "$ipid"
wait_for "[ \"\$('$LVSH' domstate '$G')\" = crashed ]" && ok "on_crash=preserve: domstate crashed" ||
    fail "on_crash=preserve: domstate $("$LVSH" domstate "$G" --reason)"
alive "$spid" && ! alive "$ipid" && ok "on_crash=preserve: supervisor kept, init gone" ||
    fail "preserve: supervisor alive? init dead?"
"$LVSH" list --all | grep -q " $G  *crashed" && ok "lvsh list shows it crashed" ||
    fail "list: $("$LVSH" list --all)"
"$LVSH" destroy "$G" >/dev/null 2>&1 && ok "destroy of a preserved crashed guest" || fail "destroy crashed"
wait_for "! alive $spid" || fail "supervisor outlived destroy"
check_nothing_left "$G" "destroy after preserve"
"$LVSH" start "$G" >/dev/null && [ "$("$LVSH" domstate "$G")" = running ] && ok "starts again after a crash" ||
    fail "start after crash"
"$LVSH" destroy "$G" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$G' ]"

# ---- supervisor killed while a console client is attached ----
G=$P-con
define "$G" "echo console-up; while :; do sleep 1; done"
"$LVSH" start "$G" >/dev/null || fail "start $G"
spid=$(cat "$T/run/$G/supervisor.pid"); ipid=$(status_field "$G" pid)
mkfifo "$T/cin"
"$LVSH" console "$G" <"$T/cin" >"$T/cout" 2>&1 &
cpid=$!; bg_pids="$bg_pids $cpid"
exec 3>"$T/cin"
wait_for "grep -q console-up '$T/cout'" || fail "console never attached: $(cat "$T/cout")"
kill -9 "$spid"
wait_for "! alive $cpid" && ok "console client ends when the supervisor is killed" ||
    fail "lvsh console $cpid hangs after the supervisor died"
# (Its exit status cannot tell a killed supervisor from a guest that
# ended: the raw console stream just ends, as virsh's does.)
exec 3>&-
wait_for "! alive $ipid" || fail "init outlived its supervisor"
check_nothing_left "$G" "supervisor killed under a console client"
"$LVSH" start "$G" >/dev/null && ok "starts again" || fail "start after console fault"
"$LVSH" destroy "$G" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$G' ]"

# ---- 8 concurrent starts of one guest: exactly one supervisor ----
G=$P-race
define "$G" "while :; do sleep 1; done"
i=0; rpids=""
while [ $i -lt 8 ]; do
    "$LVSH" start "$G" >"$T/race.$i" 2>&1 &
    rpids="$rpids $!"; i=$((i + 1))
done
won=0; lost=0
for p in $rpids; do
    if wait "$p"; then won=$((won + 1)); else lost=$((lost + 1)); fi
done
[ $won = 1 ] && [ $lost = 7 ] && ok "8 concurrent starts: one started, 7 refused ($(cat "$T"/race.* | grep -v "^error: Failed\|started\|^$" | sort | uniq -c | sed 's/^ *//' | head -2 | tr '\n' ';'))" ||
    fail "8 concurrent starts: $won started, $lost refused: $(cat "$T"/race.*)"
n=$(procs_with "lv-mark-$P-$G" | wc -l)
[ "$n" = 1 ] && [ "$("$LVSH" domstate "$G")" = running ] && ok "one init, running" || fail "$n inits after the race"
"$LVSH" destroy "$G" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "destroy after the start race"

finish fault-guest
