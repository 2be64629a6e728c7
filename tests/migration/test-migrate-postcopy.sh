#!/bin/bash
# Post-copy and auto-converge between two "hosts" (tests/lib/hosts.sh): a
# booted QEMU guest copies 16 MiB of random data in memory over and over
# (lv_dirty=16: faster than a 16 MiB/s link carries it). Checked: a plain
# pre-copy migration with --bandwidth 16 does not converge (still copying
# after several passes; aborted, the guest counts on); `lvsh
# migrate-postcopy` without a migration or without --postcopy is refused.
# Post-copy (needs vm.unprivileged_userfaultfd=1, else its refusal with
# the reason is checked): --postcopy + `lvsh migrate-postcopy` completes,
# the guest counting on without a reboot on the destination; the link cut
# during post-copy (the migration's TCP connections destroyed with `ss -K`
# on both hosts): both hosts show `paused (post-copy failed)`. Then
# --auto-converge completes (the guest's health after it is reported, not
# asserted: QEMU 7.2 TCG, see docs/migration.md).
# Needs root, ip, nsenter, ss, qemu-system-x86_64 and the test guest; else 77.
set -u

if [ "$(id -u)" != 0 ]; then echo "skip: needs root"; exit 77; fi
command -v qemu-system-x86_64 >/dev/null || { echo "skip: no qemu-system-x86_64"; exit 77; }
for t in ip nsenter ss; do command -v $t >/dev/null || { echo "skip: no $t"; exit 77; }; done
BUILD=${LV_BUILD_ROOT:?}
SRC=${LV_SOURCE_ROOT:?}
LVSH=$BUILD/lvsh
SUP=$BUILD/litevirt-supervisor
[ -x "$LVSH" ] && [ -x "$SUP" ] || { echo "skip: lvsh/supervisor not built"; exit 77; }
sh "$SRC/tests/qemu/build-guest.sh" "$BUILD/test-guest" || exit 77

T=$(mktemp -d /tmp/lv-test-migpc.XXXXXX)
chmod 0711 "$T"
G=lvpc$$
HOSTS_DIR=$T HOSTS_TAG=lvpc HOSTS_NET=10.79.0 HOSTS_SUP=$SUP
. "$SRC/tests/lib/hosts.sh"
. "$SRC/tests/lib/hosts-guest.sh"
FAILS=0
HELPERS=""
trap hosts_guest_cleanup EXIT
trap 'exit 1' INT TERM # (cleanup once, then end)
hosts_guest_sanitizer_to_files

lease() { cat "$T"/lockspace/*.owner 2>/dev/null; }
job() { hosts_on "$1" "$LVSH" domjobinfo $G 2>/dev/null; }
iteration() { job "$1" | sed -n 's/^Iteration: *\([0-9]*\).*/\1/p'; }
wait_iteration() { # HOST N PID: the migration (PID) copies its Nth pass, bounded
    local i=0 it
    while [ $i -lt 600 ] && kill -0 "$3" 2>/dev/null; do
        it=$(iteration "$1")
        [ -n "$it" ] && [ "$it" -ge "$2" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
state() { hosts_on "$1" "$LVSH" domstate --reason $G 2>&1; }

hosts_create || { echo "skip: cannot make the two hosts"; exit 77; }
truncate -s 8M "$T/disk.img"
hosts_guest_define "lv_dirty=16" "$T/disk.img"
console a "$T/con-a1" 300
if wait_for "$T/con-a1" "LV-DIRTY 16" 60 && wait_for "$T/con-a1" "LV-COUNTER 2\b" 30; then
    ok "guest dirties memory on A"
else fail "guest does not run on A: $(tail -c 300 "$T/con-a1")"; exit 1; fi

out=$(hosts_on a "$LVSH" migrate-postcopy $G 2>&1)
[ $? != 0 ] && [[ "$out" == *"no migration"* ]] && ok "migrate-postcopy without a migration refused" ||
    fail "migrate-postcopy without a migration: $out"

# ---- pre-copy alone does not converge ----
hosts_on a "$LVSH" migrate --live --bandwidth 16 $G "$(hosts_transport b)" > "$T/m0" 2>&1 &
mig=$!
if wait_iteration a 5 $mig; then ok "pre-copy still copying at pass $(iteration a) (guest dirties faster than the link)"
else fail "pre-copy: $(cat "$T/m0")"; fi
out=$(hosts_on a "$LVSH" migrate-postcopy $G 2>&1)
[ $? != 0 ] && [[ "$out" == *"needs a migration started with --postcopy"* ]] &&
    ok "migrate-postcopy refused without --postcopy" || fail "migrate-postcopy without --postcopy: $out"
hosts_on a "$LVSH" domjobabort $G >/dev/null 2>&1
wait $mig && fail "pre-copy migration completed: $(cat "$T/m0")"
counts_on A "$T/con-a1" "after the abort"

# ---- --postcopy + migrate-postcopy: completes (A -> B) ----
# QEMU 7.2 makes its userfaultfd as its own (unprivileged) uid
if [ "$(cat /proc/sys/vm/unprivileged_userfaultfd 2>/dev/null)" = 0 ]; then
    out=$(hosts_on a "$LVSH" migrate --live --postcopy $G "$(hosts_transport b)" 2>&1)
    [ $? != 0 ] && [[ "$out" == *"vm.unprivileged_userfaultfd is 0"* ]] &&
        ok "--postcopy refused here with the reason: ${out##*error: }" || fail "--postcopy refusal: $out"
    counts_on A "$T/con-a1" "after the refusal"
    echo "skip: post-copy runs (vm.unprivileged_userfaultfd is 0 on this host)"
else
    hosts_on a "$LVSH" migrate --live --postcopy --bandwidth 16 $G "$(hosts_transport b)" > "$T/m2" 2>&1 &
    mig=$!
    wait_iteration a 2 $mig || fail "post-copy migration did not start: $(cat "$T/m2")"
    t0=$(date +%s%N)
    out=$(hosts_on a "$LVSH" migrate-postcopy $G 2>&1) && ok "migrate-postcopy accepted" ||
        fail "migrate-postcopy: $out"
    wait $mig && ok "--postcopy completed $((($(date +%s%N) - t0) / 1000000)) ms after migrate-postcopy: $(head -n1 "$T/m2")" ||
        fail "--postcopy: $(cat "$T/m2")"
    console b "$T/con-b1" 300
    counts_on B "$T/con-b1" "after post-copy"
    grep -q "LV-GUEST-BOOTED" "$T/con-b1" && fail "the guest rebooted on B"
    [[ "$(state b)" == "running (migrated)"* ]] && ok "B: $(state b)" || fail "B's state: $(state b)"
    grep -q "^host=$HOSTS_UUID_B$" <(lease) && ok "the lease moved to B" || fail "lease: $(lease)"

    # ---- the link cut during post-copy (B -> A): paused (post-copy failed) on both ----
    arrived=$(grep -c "runs here now" "$T/a/log/$G.log" 2>/dev/null)
    hosts_on b "$LVSH" migrate --live --postcopy --bandwidth 1 $G "$(hosts_transport a)" > "$T/m3" 2>&1 &
    mig=$!
    wait_iteration b 1 $mig || fail "post-copy migration did not start: $(cat "$T/m3")"
    hosts_on b "$LVSH" migrate-postcopy $G >/dev/null 2>&1 || fail "migrate-postcopy (cut)"
    i=0 # A's Finish done: the guest runs there, pages still coming
    until [ "$(grep -c "runs here now" "$T/a/log/$G.log")" -gt "${arrived:-0}" ] || [ $i -ge 300 ]; do
        sleep 0.1; i=$((i + 1))
    done
    [ "$(grep -c "runs here now" "$T/a/log/$G.log")" -gt "${arrived:-0}" ] && [[ "$(state a)" == "running"* ]] &&
        ok "in post-copy the guest runs on A" || fail "A: $(state a)"
    for h in a b; do
        hosts_on $h ss -K dst "$HOSTS_NET.0/24" >/dev/null 2>&1
    done
    wait $mig && fail "the cut post-copy migration succeeded"
    out=$(cat "$T/m3")
    [[ "$out" == *"paused (post-copy failed)"* ]] && ok "B reports: ${out##*error: }" || fail "cut: $out"
    i=0
    until [[ "$(state a)" == "paused (post-copy failed)" ]] || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(state a)" = "paused (post-copy failed)" ] && [ "$(state b)" = "paused (post-copy failed)" ] &&
        ok "both hosts: paused (post-copy failed)" || fail "after the cut: A '$(state a)', B '$(state b)'"
    # the guest is lost: start it again on A
    for h in a b; do hosts_on $h "$LVSH" destroy $G >/dev/null 2>&1; done
    out=$(hosts_on a "$LVSH" start $G 2>&1) || fail "start on A again: $out"
    console a "$T/con-a3" 300
    wait_for "$T/con-a3" "LV-DIRTY 16" 60 || fail "guest does not start again on A"
    counts_on A "$T/con-a3" "started again"
fi

# ---- --auto-converge: completes (A -> B) ----
t0=$(date +%s%N)
out=$(hosts_on a "$LVSH" migrate --live --auto-converge --bandwidth 16 $G "$(hosts_transport b)" 2>&1)
if [ $? = 0 ]; then ok "--auto-converge completed in $((($(date +%s%N) - t0) / 1000000)) ms: ${out%%$'\n'*}"
else fail "--auto-converge: $out"; fi
grep -q "^host=$HOSTS_UUID_B$" <(lease) && ok "the lease moved to B" || fail "lease: $(lease)"
[[ "$(state b)" == "running (migrated)"* ]] && ok "B: $(state b)" || fail "B's state: $(state b)"
# Not asserted: QEMU 7.2 under TCG leaves the guest of a throttled
# (auto-converge) migration hung or oopsing on the destination in about
# half the runs here, also when QEMU is driven by hand without litevirt
# (docs/migration.md); reported, not counted.
console b "$T/con-b2" 300
if wait_for "$T/con-b2" "LV-COUNTER [0-9]" 30 && c=$(last_counter "$T/con-b2") &&
    wait_counter "$T/con-b2" $((c + 2)) 30; then
    echo "note: the guest counts on B after --auto-converge"
else
    echo "note: the guest does not count on B after --auto-converge (QEMU TCG): $(tail -c 200 "$T/con-b2" | tr -d '\r')"
fi

hosts_guest_sanitizer_check
[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all post-copy and auto-converge checks passed"
