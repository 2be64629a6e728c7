#!/bin/bash
# A TCG guest's memory arrives intact after live migrations between two
# "hosts" (tests/lib/hosts.sh). The test guest runs lv-dirty (lv_dirty=16
# lv_dirty_rate=32: 16 MiB rewritten page by page, each page checked to hold
# what the round before wrote, "LV-DIRTY-LOST" otherwise) and is migrated
# A -> B -> A -> B -> A at QEMU's default bandwidth. Checked after each
# migration, on the destination's console: the guest counts on, lv-dirty
# reports no lost write and the kernel no oops, BUG or panic. QEMU before
# 9.0 loses TCG writes during a migration of a RAM block that is a whole
# number of 256 KiB (docs/migration.md, "TCG guests and QEMU before 9.0");
# without litevirt's 8 KiB pad (qemu_command_ram_pad_kib) the guest broke in
# about half the migrations here. An RCU stall or soft lockup report alone
# is not a failure: a loaded host delays the guest's timer ticks (they are
# seen at boot without any migration); what is asserted is what a user
# checks, the guest running and its data intact.
# Needs root, ip, nsenter, qemu-system-x86_64 and the test guest; else 77.
set -u

. "${LV_SOURCE_ROOT:?}/tests/lib/hosts-guest.sh"
hosts_guest_require ip nsenter

T=$(mktemp -d /tmp/lv-test-migint.XXXXXX)
chmod 0711 "$T"
G=lvmi$$
HOSTS_DIR=$T HOSTS_TAG=lvmi HOSTS_NET=10.87.0 HOSTS_SUP=$SUP
. "$SRC/tests/lib/hosts.sh"
hosts_guest_begin

BROKEN='LV-DIRTY-LOST\|BUG:\|Oops\|Kernel panic\|list_del corruption\|list_add corruption\|general protection\|invalid opcode'

hosts_create || { echo "skip: cannot make the two hosts"; exit 77; }
truncate -s 8M "$T/disk.img"
hosts_guest_define "lv_dirty=16 lv_dirty_rate=32" "$T/disk.img"
console a "$T/con-0" 600
if wait_for "$T/con-0" "LV-DIRTY-RATE set=16" 120 && wait_for "$T/con-0" "LV-COUNTER 2" 60; then
    ok "guest dirties its memory on A"
else
    fail "guest on A: $(tail -c 300 "$T/con-0")"
    exit 1
fi
pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$T/a/run/$G/qemu.json")
grep -q -- "-m.131080k" <(tr '\0' ' ' < "/proc/$pid/cmdline") &&
    ok "QEMU gives the 128 MiB guest 8 KiB more (-m 131080k)" ||
    fail "QEMU's -m: $(tr '\0' ' ' < "/proc/$pid/cmdline" | grep -o -- '-m [^ ]*')"

from=a
for i in 1 2 3 4; do
    to=b
    [ $from = b ] && to=a
    out=$(hosts_on $from "$LVSH" migrate --live $G "$(hosts_transport $to)" 2>&1) ||
        { fail "migration $i $from -> $to: $out"; break; }
    console $to "$T/con-$i" 600
    # a lost write shows once lv-dirty comes round to the page (a round of
    # 16 MiB at 32 MiB/s: half a second), an oops at once
    counts=
    wait_for "$T/con-$i" "LV-COUNTER" 30 &&
        wait_counter "$T/con-$i" $(($(last_counter "$T/con-$i") + 4)) 60 && counts=1
    if grep -aq "$BROKEN" "$T/con-$i"; then
        fail "migration $i $from -> $to: the guest broke: $(grep -a -m3 "$BROKEN" "$T/con-$i" | tr -d '\r' | paste -sd'|')"
        break
    elif [ -z "$counts" ]; then
        fail "migration $i $from -> $to: the guest does not count on: $(tail -c 300 "$T/con-$i")"
        break
    fi
    ok "migration $i $from -> $to: the guest counts on, no lost write, no oops"
    from=$to
done

hosts_on $from "$LVSH" destroy $G >/dev/null 2>&1
hosts_guest_sanitizer_check
[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all migration integrity checks passed"
