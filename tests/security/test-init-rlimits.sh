#!/bin/sh
# Attack: the caller of `lvsh start` hands the guest its own resource
# limits (a tiny open-files limit, core dumps allowed, a huge stack...).
# The guest's init gets the defaults of docs/lxc.md instead. Needs root.
. "$(dirname "$0")/lib.sh"

G=$P-rl
define "$G" "cat /proc/1/limits > /tmp/limits.new; mv /tmp/limits.new /tmp/limits; while :; do sleep 1; done"
limit() { # NAME-IN-/proc/PID/limits -> "soft hard"
    sed -n "s/^$1 *\([^ ]*\) *\([^ ]*\).*/\1 \2/p" "$T/rootfs/tmp/limits"
}
hard_nofile=$(ulimit -Hn)
want_nofile_hard=$((hard_nofile < 524288 ? hard_nofile : 524288))
prlimit --nofile=20:"$hard_nofile" --core=unlimited:unlimited --stack=1048576:unlimited \
    --nice=0:0 "$LVSH" start "$G" >/dev/null || fail "start $G"
wait_for "[ -s '$T/rootfs/tmp/limits' ]" || fail "the guest did not report its limits"
[ "$(limit 'Max open files')" = "1024 $want_nofile_hard" ] && ok "open files: $(limit 'Max open files') (caller: 20)" ||
    fail "open files: $(limit 'Max open files')"
[ "$(limit 'Max core file size')" = "0 unlimited" ] && ok "core: $(limit 'Max core file size') (caller: unlimited)" ||
    fail "core: $(limit 'Max core file size')"
[ "$(limit 'Max stack size')" = "8388608 unlimited" ] && ok "stack: $(limit 'Max stack size') (caller: 1 MiB)" ||
    fail "stack: $(limit 'Max stack size')"
"$LVSH" destroy "$G" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "destroy"
finish security-init-rlimits
