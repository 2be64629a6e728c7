#!/bin/bash
# Storage migration (--copy-storage-all, --copy-storage-inc) between two
# "hosts" without shared storage: two network namespaces (tests/lib/hosts.sh)
# and a mount namespace each, in which the guest's image path names a
# different file. A booted QEMU guest writes a random mark to its disk at
# boot and, every second, a counter; it reads the mark back from the disk
# (page cache dropped). Checked: B has no image, A -> B makes it (size and
# format of A's) and copies the disk: what A's guest wrote before is read
# by the guest on B from B's file, and host-written data is the same byte
# for byte; A's file is left as it was at the hand-over; the lease moves;
# domjobinfo shows the disk figures during a slow stream. B -> A with
# --copy-storage-inc copies the writes made on B. A destination failing
# after the stream leaves no image behind; a too small existing image is
# refused; the guest keeps running on its source each time.
# Needs root, ip, nsenter, unshare, qemu-system-x86_64 and the test guest; else 77.
set -u

if [ "$(id -u)" != 0 ]; then echo "skip: needs root"; exit 77; fi
command -v qemu-system-x86_64 >/dev/null || { echo "skip: no qemu-system-x86_64"; exit 77; }
for t in ip nsenter unshare sha256sum; do
    command -v $t >/dev/null || { echo "skip: no $t"; exit 77; }
done
BUILD=${LV_BUILD_ROOT:?}
SRC=${LV_SOURCE_ROOT:?}
LVSH=$BUILD/lvsh
SUP=$BUILD/litevirt-supervisor
[ -x "$LVSH" ] && [ -x "$SUP" ] || { echo "skip: lvsh/supervisor not built"; exit 77; }
sh "$SRC/tests/qemu/build-guest.sh" "$BUILD/test-guest" || exit 77

T=$(mktemp -d /tmp/lv-test-migstore.XXXXXX)
chmod 0711 "$T" # QEMU runs as its own uid: it must reach its disks
G=lvms$$
HOSTS_DIR=$T HOSTS_TAG=lvms HOSTS_NET=10.78.0 HOSTS_SUP=$SUP
. "$SRC/tests/lib/hosts.sh"
. "$SRC/tests/lib/hosts-guest.sh"
FAILS=0
HELPERS=""
D=$T/disks # the guest's image directory: another one on each host

on() { hosts_on "$@"; }
trap hosts_guest_cleanup EXIT
trap 'exit 1' INT TERM # (cleanup once, then end)
hosts_guest_sanitizer_to_files
img() { echo "$T/$1/split/disk.img"; } # HOST -> the guest's image as that host has it
disk_counter() { # HOST -> the counter the guest last wrote to that host's image
    head -c 512 "$(img "$1")" | tr -d '\000' | sed -n 's/^LV-DISK \([0-9]*\)$/\1/p'
}
region_sum() { # FILE: the host-written 16 MiB at 4 MiB
    dd if="$1" bs=1M skip=4 count=16 2>/dev/null | sha256sum | cut -d' ' -f1
}
lease() { cat "$T"/lockspace/*.owner 2>/dev/null; }

hosts_create || { echo "skip: cannot make the two hosts"; exit 77; }
hosts_split_dir "$D" || { echo "skip: cannot give the hosts their own disks"; exit 77; }

# A's image: 64 MiB, 16 MiB of random data at 4 MiB written here
truncate -s 64M "$(img a)"
dd if=/dev/urandom of="$(img a)" bs=1M seek=4 count=16 conv=notrunc status=none
SUM=$(region_sum "$(img a)")
[ ! -e "$(img b)" ] && [ "$(on a stat -c %s "$D/disk.img")" = 67108864 ] &&
    ! on b test -e "$D/disk.img" && ok "$D/disk.img is A's file on A, missing on B" ||
    fail "the hosts' disk directories are not separate"

hosts_guest_define "lv_disk" "$D/disk.img"
console a "$T/con-a1" 200
if wait_for "$T/con-a1" "LV-DISK-READ [0-9a-f-]\{36\}" 60; then ok "guest writes and reads its disk on A"
else fail "guest does not use its disk on A: $(tail -c 300 "$T/con-a1")"; exit 1; fi
MARK=$(sed -n 's/.*LV-DISK-MARK \([0-9a-f-]*\).*/\1/p' "$T/con-a1" | head -n1)

# ---- without --copy-storage: B has no image, QEMU cannot start there ----
out=$(on a "$LVSH" migrate --live $G "$(hosts_transport b)" 2>&1)
[ $? != 0 ] && [[ "$out" == *"$D/disk.img"* ]] && ok "without --copy-storage B refuses: ${out##*error: }" ||
    fail "migration to B without its image: $out"
[ ! -e "$(img b)" ] || fail "an image appeared on B"

# ---- an existing image on B that is too small: refused, nothing lost ----
truncate -s 32M "$(img b)"
out=$(on a "$LVSH" migrate --live --copy-storage-all $G "$(hosts_transport b)" 2>&1)
[ $? != 0 ] && [[ "$out" == *"disk 'vda'"*"33554432 bytes here"*"67108864"* ]] &&
    ok "too small image on B refused: ${out##*error: }" || fail "too small image: $out"
[ "$(stat -c %s "$(img b)")" = 33554432 ] || fail "B's small image was changed"
rm -f "$(img b)"
counts_on A "$T/con-a1" "after the refusal"

# ---- B fails after the stream: A keeps the guest, B keeps no image ----
out=$(on a "$LVSH" migrate --live --copy-storage-all $G \
    "$(hosts_prefix b) LITEVIRT_FAULT=incoming-after-stream:fail $SUP --incoming" 2>&1)
[ $? != 0 ] && [[ "$out" == *"failure injected"* ]] && ok "failure on B reported: ${out##*error: }" ||
    fail "failure on B: $out"
[ ! -e "$(img b)" ] && ok "the image made on B was removed" || fail "B kept $(ls -l "$(img b)")"
counts_on A "$T/con-a1" "after the failed storage migration"
grep -q "^host=$HOSTS_UUID_A$" <(lease) && grep -q "^state=held$" <(lease) &&
    ok "A holds the lease again" || fail "lease after failure: $(lease)"

# ---- A -> B, --copy-storage-all, slow enough to watch ----
wait_for "$T/con-a1" "LV-DISK-READ $MARK" 5 || fail "no mark read on A"
on a "$LVSH" migrate --live --persistent --copy-storage-all --bandwidth 24 --verbose $G \
    "$(hosts_transport b)" > "$T/mig1.out" 2> "$T/mig1.err" &
mig=$!
jobinfo=""
for _ in $(seq 200); do
    jobinfo=$(on a "$LVSH" domjobinfo $G 2>/dev/null)
    [[ "$jobinfo" == *"File total:"*"64.000 MiB"* ]] && [[ "$jobinfo" == *"Memory total:"* ]] && break
    kill -0 $mig 2>/dev/null || break
    sleep 0.1
done
wait $mig
rc=$?
out=$(cat "$T/mig1.out" "$T/mig1.err")
if [ $rc = 0 ] && grep -q "1 disk(s) copied (64 MiB)" "$T/mig1.out"; then ok "A -> B: $(head -n1 "$T/mig1.out")"
else fail "A -> B with --copy-storage-all: $out"; fi
[[ "$jobinfo" == *"File total:"*"64.000 MiB"* ]] && ok "domjobinfo showed the disk: $(grep File <<< "$jobinfo" | tr -s ' ' | paste -sd';')" ||
    fail "domjobinfo during the storage migration: $jobinfo"
grep -q "Migration: \[100 %\]" "$T/mig1.err" && ok "--verbose progress" || fail "--verbose: $(cat "$T/mig1.err")"
SUM_A_AFTER=$(sha256sum < "$(img a)")
A_LAST=$(disk_counter a)
[ "$(stat -c %s "$(img b)")" = 67108864 ] && ok "B's image made with A's size" ||
    fail "B's image: $(ls -l "$(img b)" 2>&1)"
[ "$(region_sum "$(img b)")" = "$SUM" ] && ok "host-written 16 MiB identical on B" ||
    fail "B's copy of the host-written data differs"
console b "$T/con-b1"
n=$(grep -c "LV-DISK-READ" "$T/con-b1" 2>/dev/null)
if wait_for "$T/con-b1" "LV-COUNTER" 20 && wait_for "$T/con-b1" "LV-DISK-READ $MARK" 10; then
    ok "the guest on B reads its boot mark from B's disk"
else fail "guest on B: $(tail -c 300 "$T/con-b1")"; fi
grep -q "LV-GUEST-BOOTED" "$T/con-b1" && fail "the guest rebooted on B"
counts_on B "$T/con-b1" "after the storage migration"
b_now=$(disk_counter b)
[ -n "$b_now" ] && [ -n "$A_LAST" ] && [ "$b_now" -gt "$A_LAST" ] &&
    ok "the guest writes to B's image (counter $b_now, A's file stopped at $A_LAST)" ||
    fail "B's image counter '$b_now', A's '$A_LAST'"
[ "$(sha256sum < "$(img a)")" = "$SUM_A_AFTER" ] && ok "A's image untouched after the hand-over" ||
    fail "A's image changed after the hand-over"
grep -q "^host=$HOSTS_UUID_B$" <(lease) && ok "the lease moved to B" || fail "lease: $(lease)"
[ ! -e "$T/a/run/$G" ] && ok "nothing of the guest left on A" || fail "A still has $(ls "$T/a/run/$G")"

# ---- B -> A, --copy-storage-inc: A's old image gets B's writes ----
out=$(on b "$LVSH" migrate --live --copy-storage-inc $G "$(hosts_transport a)" 2>&1)
[ $? = 0 ] && [[ "$out" == *"1 disk(s) copied"* ]] && ok "B -> A with --copy-storage-inc" ||
    fail "B -> A: $out"
B_LAST=$(disk_counter b)
console a "$T/con-a2"
wait_for "$T/con-a2" "LV-DISK-READ $MARK" 20 && ok "the guest on A reads its mark again" ||
    fail "guest back on A: $(tail -c 300 "$T/con-a2")"
counts_on A "$T/con-a2" "after coming back"
a_now=$(disk_counter a)
[ -n "$a_now" ] && [ -n "$B_LAST" ] && [ "$a_now" -gt "$B_LAST" ] && [ "$B_LAST" -gt "$A_LAST" ] &&
    ok "A's image has the writes made on B and goes on (A $a_now > B $B_LAST > $A_LAST)" ||
    fail "counters: A now '$a_now', B's file '$B_LAST', A's before '$A_LAST'"
grep -q "^host=$HOSTS_UUID_A$" <(lease) && ok "the lease is back on A" || fail "lease: $(lease)"

on a "$LVSH" destroy $G >/dev/null 2>&1
hosts_guest_sanitizer_check
[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all storage migration checks passed"
