#!/bin/sh
# A guest floods its console (`yes`). The supervisor copies at most
# 1 MiB/s of it (its CPU is charged to the supervisor's cgroup, not the
# guest's): measured as the supervisor's CPU time over 3 s, and the
# console still works (the flood is in the ring, `lvsh console` gets it).
# Needs root.
. "$(dirname "$0")/lib.sh"
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }

G=$P-flood
define "$G" "yes lv-flood-line &amp; yes lv-flood-line &amp; exec yes lv-flood-line"
"$LVSH" start "$G" >/dev/null || fail "start $G"
spid=$(cat "$T/run/$G/supervisor.pid")
sleep 0.5
c0=$(cpu_ticks "$spid"); t0=$(now_ms); sleep 3; c1=$(cpu_ticks "$spid"); t1=$(now_ms)
hz=$(getconf CLK_TCK)
pct=$(( (c1 - c0) * 1000 * 100 / hz / (t1 - t0) ))
echo "supervisor CPU while the guest floods its console: $((c1 - c0)) ticks in $((t1 - t0)) ms ($pct %)"
[ "$pct" -le 5 ] && ok "the supervisor's copying is bounded: $pct % of a CPU" ||
    fail "the supervisor spends $pct % of a CPU copying the console"
timeout 5 "$LVSH" console "$G" </dev/null >"$T/con" 2>&1
grep -q lv-flood-line "$T/con" && ok "lvsh console still shows the guest's output" ||
    fail "console: $(head -c 200 "$T/con")"
[ "$("$LVSH" domstate "$G")" = running ] && ok "guest running" || fail "guest state"
"$LVSH" destroy "$G" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "destroy"
finish security-console-flood
