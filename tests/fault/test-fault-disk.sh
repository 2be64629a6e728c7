#!/bin/sh
# A full filesystem under the definitions (LITEVIRT_CONFDIR) and under the
# state directories (LITEVIRT_RUNDIR): small tmpfs mounts in the test's
# own mount namespace, filled up. define must fail with a clear error
# and leave the old definition intact and no temporary file; start must
# fail with a clear error and leave nothing (state directory, cgroup,
# process); with space again both work. Needs root.
. "$(dirname "$0")/lib.sh"

fill() { # DIR: fill the filesystem of DIR to the last byte
    dd if=/dev/zero of="$1/.filler" bs=4096 2>/dev/null
    i=0
    while printf x >>"$1/.filler" 2>/dev/null; do i=$((i + 1)); [ $i -gt 8192 ] && break; done
    return 0
}

mount -t tmpfs -o size=256k,mode=0755 lv-fault-conf "$T/conf" || { echo "SKIP: cannot mount tmpfs"; exit 77; }
mkdir -p "$T/conf/guests"
G=$P-disk
define "$G" "while :; do sleep 1; done"
sed "s#<name>$G</name>#&<uuid>6f1c2d3e-4b5a-4978-8a9b-0c1d2e3f4a5b</uuid>#" "$T/conf/guests/$G.xml" >"$T/v1.xml"
rm "$T/conf/guests/$G.xml"
"$LVSH" define "$T/v1.xml" >/dev/null || fail "define v1 on an empty tmpfs"
cp "$T/conf/guests/$G.xml" "$T/stored-v1.xml"
sed 's#<memory unit=.MiB.>64</memory>#<memory unit="MiB">96</memory>#' "$T/v1.xml" >"$T/v2.xml"
grep -q 96 "$T/v2.xml" || fail "could not make v2"

# ---- define on a full filesystem ----
fill "$T/conf"
out=$("$LVSH" define "$T/v2.xml" 2>&1) && fail "define succeeded on a full filesystem" ||
    { echo "$out" | grep -q "No space left on device" && ok "define on a full filesystem fails: $(echo "$out" | tail -1)" ||
        fail "define error does not say why: $out"; }
cmp -s "$T/conf/guests/$G.xml" "$T/stored-v1.xml" && ok "the old definition is intact" ||
    fail "the stored definition changed: $(cat "$T/conf/guests/$G.xml")"
[ "$(ls -A "$T/conf/guests")" = "$G.xml" ] && ok "no temporary file left" ||
    fail "left in guests/: $(ls -A "$T/conf/guests" | tr '\n' ' ')"
sed "s#<name>$G</name>#<name>$G-new</name>#; s#<uuid>.*</uuid>##" "$T/v1.xml" >"$T/new.xml"
out=$("$LVSH" define "$T/new.xml" 2>&1) && fail "a new definition was accepted on a full filesystem" ||
    { [ ! -e "$T/conf/guests/$G-new.xml" ] && [ "$(ls -A "$T/conf/guests")" = "$G.xml" ] &&
        ok "a new definition on a full filesystem: refused, nothing written" || fail "new definition left: $(ls -A "$T/conf/guests")"; }
"$LVSH" dumpxml "$G" | grep -q "<memory unit='KiB'>65536</memory>" && ok "lvsh reads the old definition" ||
    fail "dumpxml after the failed define: $("$LVSH" dumpxml "$G" 2>&1 | head -5)"
rm -f "$T/conf/.filler"
"$LVSH" define "$T/v2.xml" >/dev/null && "$LVSH" dumpxml "$G" | grep -q "<memory unit='KiB'>98304</memory>" &&
    ok "with space again, define works" || fail "define after freeing space"

# ---- start on a full state filesystem ----
mkdir -p "$T/run"
mount -t tmpfs -o size=128k,mode=0755 lv-fault-run "$T/run" || fail "mount run tmpfs"
fill "$T/run"
out=$("$LVSH" start "$G" 2>&1) && fail "start succeeded with a full state filesystem" ||
    { echo "$out" | grep -q "No space left on device" && ok "start on a full state filesystem fails: $(echo "$out" | tail -1)" ||
        fail "start error does not say why: $out"; }
[ -z "$(procs_with "lv-mark-$P-$G")" ] || wait_for "[ -z \"\$(procs_with lv-mark-$P-$G)\" ]" || fail "guest process left"
check_nothing_left "$G" "start on a full filesystem"
rm -f "$T/run/.filler"
"$LVSH" start "$G" >/dev/null && [ "$("$LVSH" domstate "$G")" = running ] && ok "with space again, start works" ||
    fail "start after freeing space: $(tail -3 "$T/log/$G.log")"

# ---- the filesystem fills while the guest runs: it keeps running ----
fill "$T/run"
"$LVSH" suspend "$G" >/dev/null 2>&1; "$LVSH" resume "$G" >/dev/null 2>&1
[ "$("$LVSH" domstate "$G")" = running ] && alive "$(cat "$T/run/$G/supervisor.pid")" &&
    ok "a full state filesystem does not harm a running guest (suspend/resume went through)" ||
    fail "running guest after the filesystem filled: $("$LVSH" domstate "$G" 2>&1)"
"$LVSH" destroy "$G" >/dev/null 2>&1 || fail "destroy with a full state filesystem"
wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "destroy with a full state filesystem"
rm -f "$T/run/.filler"

finish fault-disk
