#!/bin/bash
# A guest without the TCG RAM pad (docs/migration.md, "TCG guests and QEMU
# before 9.0") migrates between two "hosts" (tests/lib/hosts.sh) and runs
# on unpadded: on A, the test guest is restored from an image as litevirt
# before the pad wrote it (QEMU run by hand with `lvsh domxml-to-native`'s
# command line, tests/qemu/save-unpadded.py), then migrated live A -> B ->
# A. The source's cookie says no <ram-pad/>, so each destination starts
# QEMU with -m 128 (with the pad QEMU refuses the stream: "Length
# mismatch"); checked: the guest counts on, QEMU's -m, qemu.json.
# Needs root, ip, nsenter, qemu-system-x86_64 and the test guest; else 77.
set -u

. "${LV_SOURCE_ROOT:?}/tests/lib/hosts-guest.sh"
hosts_guest_require ip nsenter python3

T=$(mktemp -d /tmp/lv-test-migpad.XXXXXX)
chmod 0711 "$T"
G=lvmp$$
HOSTS_DIR=$T HOSTS_TAG=lvmp HOSTS_NET=10.93.0 HOSTS_SUP=$SUP
. "$SRC/tests/lib/hosts.sh"
hosts_guest_begin

memory_is() { # HOST SIZE: the guest's QEMU there runs with -m SIZE, qemu.json without a pad
    local pid m
    pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$T/$1/run/$G/qemu.json")
    m=$(tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -A1 -x -- -m | tail -n1)
    [ "$m" = "$2" ] && ok "$1: QEMU runs with -m $m" || fail "$1: QEMU runs with -m '$m', expected '$2'"
    grep -q '"ram_pad"' "$T/$1/run/$G/qemu.json" && fail "$1: qemu.json records a pad"
}

hosts_create || { echo "skip: cannot make the two hosts"; exit 77; }
truncate -s 8M "$T/disk.img"
hosts_guest_define "" "$T/disk.img"
console a "$T/con-0" 300
wait_for "$T/con-0" "LV-COUNTER 2" 120 || { fail "guest on A: $(tail -c 300 "$T/con-0")"; exit 1; }
out=$(hosts_on a "$LVSH" save $G "$T/new.save" 2>&1) || fail "save on A: $out"
hosts_on a "$LVSH" domxml-to-native qemu-argv "$T/guest.xml" > "$T/native" || fail "domxml-to-native"
c=$(python3 "$SRC/tests/qemu/save-unpadded.py" "$T/native" "$T/hand.serial" "$T/new.save" \
    "$T/old.save") || { fail "an unpadded image could not be made"; exit 1; }
out=$(hosts_on a "$LVSH" restore "$T/old.save" 2>&1) || { fail "restore on A: $out"; exit 1; }
console a "$T/con-1" 300
counts_on a "$T/con-1" "restored from an image without the pad (counter $c before)"
memory_is a 128

from=a
for i in 2 3; do
    to=b
    [ $from = b ] && to=a
    out=$(hosts_on $from "$LVSH" migrate --live $G "$(hosts_transport $to)" 2>&1) ||
        { fail "migration $from -> $to: $out"; break; }
    console $to "$T/con-$i" 300
    counts_on $to "$T/con-$i" "after the migration $from -> $to"
    memory_is $to 128
    from=$to
done

hosts_on $from "$LVSH" destroy $G >/dev/null 2>&1
hosts_guest_sanitizer_check
[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all unpadded migration checks passed"
