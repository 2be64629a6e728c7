#!/bin/bash
# lvsh snapshot-create-as / snapshot-list / snapshot-info / snapshot-delete
# / snapshot-revert with the real qemu-system-x86_64 (TCG) running the test
# guest (tests/qemu/build-guest.sh) with a qcow2 disk, its /init changed
# (an extra cpio appended to the initrd) to write "LVBLK<counter>" to
# /dev/vda at 64 KiB * counter every second (dd conv=fsync):
#   - what the guest wrote before a disk-only snapshot is in the base image,
#     what it wrote after is in the overlay only (read with qemu-io after
#     destroy, the overlay without its backing file);
#   - a full snapshot: memory in a save image, the guest keeps counting,
#     a second overlay over the first (Parent in snapshot-info);
#   - the running and stored definitions name the overlay with the old
#     image as <backingStore>;
#   - refused: a duplicate name, a bad name, --quiesce, a guest without
#     disks, a shut-off guest;
#   - snapshot-delete merges the overlays back (running: block commit,
#     shut off: qemu-img), the chain shortened, the data in the base.
# Runs in its own network namespace, LITEVIRT_* in a temporary directory.
# Needs root, qemu and qemu-io: else 77.
set -u

command -v qemu-io >/dev/null || { echo "skip: no qemu-io"; exit 77; }
command -v cpio >/dev/null || { echo "skip: no cpio"; exit 77; }
. "${LV_SOURCE_ROOT:?}/tests/qemu/qemu-test.sh"
qemu_test_init --net

Q=lvsn$$
qemu_test_dirs qemu-snapshot

cleanup() {
    # shellcheck disable=SC2086
    qemu_guests_end $GUESTS
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok   $*"; }

# the guest's /init, writing its counter to its disk too
mkdir -p "$T/initrd/extra"
zcat "$INITRD" | (cd "$T/initrd" && cpio -i --quiet init) || { echo "cannot read $INITRD"; exit 1; }
sed 's|^\( *\)echo "LV-COUNTER \$i"$|&\n\1printf "LVBLK%06d" $i \| dd of=/dev/vda bs=65536 seek=$((i % 240)) conv=notrunc,fsync 2>/dev/null|' \
    "$T/initrd/init" > "$T/initrd/extra/init"
grep -q "dd of=/dev/vda" "$T/initrd/extra/init" || { echo "the guest's /init changed: no counter line"; exit 1; }
chmod 0755 "$T/initrd/extra/init"
(cat "$INITRD"; cd "$T/initrd/extra" && echo init | cpio -o -H newc --quiet | gzip) > "$T/initrd.gz"

define() { # NAME [DISK-XML]
    cat > "$T/$1.xml" <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>$KERNEL</kernel><initrd>$T/initrd.gz</initrd><cmdline>console=ttyS0 quiet</cmdline></os>
  <devices>
    ${2:-}
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>
EOF
    "$LVSH" define "$T/$1.xml" >/dev/null || { fail "define $1"; exit 1; }
    GUESTS="$GUESTS $1"
}

# (the last line may be half written: "LV-COUNTER 7" of 75; a reattach
# starts the console log afresh, where an early number is not found again)
last_counter() { grep -ao 'LV-COUNTER [0-9]*' "$(CONLOG "$1")" | sed '$d' | tail -n1 | awk '{print $2}'; }
# wait until the guest has counted (and so written) up to at least N
wait_counter() { # NAME N
    local i c
    for i in $(seq 900); do
        c=$(last_counter "$1")
        [ "${c:-0}" -ge "$2" ] 2>/dev/null && return 0
        sleep 0.1
    done
    fail "$1 did not count to $2: $(since "$1" 0 | tail -c 200)"
}
boot() {
    local out
    out=$("$LVSH" start "$1" 2>&1) || fail "start $1: $out"
    wait_output "$1" 0 "LV-COUNTER 2\b" 90 || { fail "$1 did not boot: $(since "$1" 0 | tail -c 300)"; exit 1; }
}

# has FILE the guest's block N? FILE alone (no backing file) with "alone",
# the chain of a file QEMU holds open with "shared"
has_block() { # FILE N [alone|shared]
    local off=$((($2 % 240) * 65536)) pat
    pat=$(printf "LVBLK%06d" "$2")
    if [ "${3:-}" = shared ]; then
        qemu-io -r -U -f qcow2 -c "read -v $off 11" "$1"
    elif [ "${3:-}" = alone ]; then
        qemu-io -r -U -c "read -v $off 11" \
            "json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\",\"filename\":\"$1\"},\"backing\":null}"
    else
        qemu-io -r -f qcow2 -c "read -v $off 11" "$1"
    fi 2>&1 | grep -q "$pat"
}

# ---- a disk-only snapshot, then a full one ----
G=${Q}-a
BASE=$T/disk.qcow2
qemu-img create -q -f qcow2 "$BASE" 16M
define "$G" "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$BASE'/><target dev='vda' bus='virtio'/></disk>"
boot "$G"
wait_counter "$G" 3

out=$("$LVSH" snapshot-create-as "$G" s1 --disk-only --description "before the upgrade" 2>&1) &&
    [ "$out" = "Domain snapshot s1 created" ] && ok "snapshot-create-as --disk-only: $out" ||
    fail "snapshot-create-as --disk-only: $out"
c1=$(last_counter "$G")
OV1=$T/disk.s1
[ -f "$OV1" ] && qemu-img info -U "$OV1" 2>/dev/null | grep -q "backing file: $BASE" &&
    ok "overlay $OV1 over $BASE" || fail "no overlay $OV1 over $BASE: $(qemu-img info -U "$OV1" 2>&1 | head -5)"
xml=$("$LVSH" dumpxml "$G" 2>&1)
echo "$xml" | grep -q "<source file='$OV1'/>" && echo "$xml" | grep -A3 "<backingStore" | grep -q "<source file='$BASE'/>" &&
    ok "the running definition names the overlay, the image as its backingStore" ||
    fail "running definition: $(echo "$xml" | grep -A8 '<disk')"
grep -q "<source file='$OV1'/>" "$LITEVIRT_GUESTDIR/$G.xml" && grep -q "<source file='$BASE'/>" "$LITEVIRT_GUESTDIR/$G.xml" &&
    ok "the stored definition too" || fail "stored definition: $(grep -A8 '<disk' "$LITEVIRT_GUESTDIR/$G.xml")"

# failures: nothing changes
for args in "s1:already exists" "a/b:is invalid" ".x:is invalid" "s9 --quiesce:--quiesce needs the guest agent"; do
    out=$("$LVSH" snapshot-create-as "$G" ${args%%:*} --disk-only 2>&1) &&
        fail "snapshot-create-as ${args%%:*} succeeded" ||
        { echo "$out" | grep -q -- "${args#*:}" && ok "refused ${args%%:*}: $out" ||
              fail "snapshot-create-as ${args%%:*}: $out"; }
done
[ ! -e "$T/disk.s9" ] && [ ! -e "$T/disk.a" ] && [ "$(ls "$LITEVIRT_GUESTDIR/$G.snapshots")" = s1.json ] ||
    fail "a refused snapshot left files: $(ls "$T" "$LITEVIRT_GUESTDIR/$G.snapshots")"

wait_counter "$G" $((c1 + 3))
out=$("$LVSH" snapshot-create-as "$G" --name s2 2>&1) && ok "snapshot-create-as (full): $out" ||
    fail "snapshot-create-as (full): $out"
c2=$(last_counter "$G")
MEM=$LITEVIRT_GUESTDIR/$G.snapshots/s2.mem
[ "$(head -c 16 "$MEM" 2>/dev/null)" = LitevirtQemuSave ] && ok "the memory is a save image ($(stat -c %s "$MEM") bytes)" ||
    fail "no memory image $MEM"
"$LVSH" save-image-dumpxml "$MEM" 2>&1 | grep -q "<source file='$T/disk.s2'/>" &&
    ok "the memory image's definition names the second overlay" || fail "save-image-dumpxml $MEM: $("$LVSH" save-image-dumpxml "$MEM" 2>&1 | grep -A3 '<disk')"
wait_counter "$G" $((c2 + 3))
[ "$("$LVSH" domstate "$G" 2>&1)" = running ] && ok "the guest runs on after the full snapshot (counter $(last_counter "$G"))" ||
    fail "state after the full snapshot: $("$LVSH" domstate "$G" 2>&1)"

out=$("$LVSH" snapshot-list "$G" 2>&1)
echo "$out" | grep -q "^ s1 .* disk-snapshot$" && echo "$out" | grep -q "^ s2 .* running$" &&
    ok "snapshot-list: $(echo "$out" | tr -s ' \n' ' ')" || fail "snapshot-list: $out"
out=$("$LVSH" snapshot-info "$G" s2 2>&1)
echo "$out" | grep -q "^Parent: *s1$" && echo "$out" | grep -q "^Current: *yes$" && echo "$out" | grep -q "^State: *running$" &&
    ok "snapshot-info s2: parent s1, current" || fail "snapshot-info s2: $out"
out=$("$LVSH" snapshot-info "$G" s1 2>&1)
echo "$out" | grep -q "^Description: *before the upgrade$" && echo "$out" | grep -q "^Children: *1$" &&
    ok "snapshot-info s1: description, 1 child" || fail "snapshot-info s1: $out"
"$LVSH" snapshot-info "$G" nope 2>&1 | grep -q "no domain snapshot with matching name 'nope'" &&
    ok "snapshot-info of an unknown snapshot refused" || fail "snapshot-info nope"

pid=$(qemu_pid "$G")
"$LVSH" destroy "$G" >/dev/null 2>&1 || fail "destroy $G"
for i in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done

# where the guest's writes went
has_block "$BASE" 1 && ok "block 1 (before s1) is in the base image" || fail "block 1 not in the base image"
has_block "$BASE" $((c1 + 2)) && fail "block $((c1 + 2)) (after s1) reached the base image" ||
    ok "block $((c1 + 2)) (after s1) is not in the base image"
has_block "$OV1" $((c1 + 2)) alone && ok "block $((c1 + 2)) is in overlay s1 itself" ||
    fail "block $((c1 + 2)) not in overlay s1"
has_block "$OV1" 1 alone && fail "block 1 is in overlay s1 itself" || ok "block 1 is not in overlay s1"
has_block "$T/disk.s2" $((c2 + 2)) alone && ok "block $((c2 + 2)) (after s2) is in overlay s2 itself" ||
    fail "block $((c2 + 2)) not in overlay s2"
has_block "$OV1" $((c2 + 2)) alone && fail "block $((c2 + 2)) (after s2) reached overlay s1" ||
    ok "block $((c2 + 2)) is not in overlay s1"
has_block "$T/disk.s2" 1 && ok "the chain s2 -> s1 -> base reads block 1" || fail "the chain does not read block 1"

out=$("$LVSH" snapshot-create-as "$G" s3 --disk-only 2>&1) && fail "snapshot of a shut-off guest succeeded" ||
    { echo "$out" | grep -q "not running" && ok "shut-off guest refused: $out" || fail "shut-off guest: $out"; }
# ---- snapshot-revert ----
# refused, changing nothing: a snapshot whose image is gone
SD=$LITEVIRT_GUESTDIR/$G.snapshots
sed -e 's/"s1"/"s9"/' -e 's/disk\.qcow2/gone.qcow2/' "$SD/s1.json" > "$SD/s9.json" # the backing
before=$(ls "$T"; cat "$LITEVIRT_GUESTDIR/$G.xml")
out=$("$LVSH" snapshot-revert "$G" s9 --running 2>&1) && fail "revert to a snapshot whose image is gone succeeded" ||
    { echo "$out" | grep -q "the snapshot's image '$T/gone.qcow2' is gone: No such file" &&
          ok "revert refused: $(echo "$out" | tail -n1)" || fail "revert to s9: $out"; }
[ "$before" = "$(ls "$T"; cat "$LITEVIRT_GUESTDIR/$G.xml")" ] && [ "$("$LVSH" domstate "$G" 2>&1)" = "shut off" ] &&
    ok "nothing changed" || fail "a refused revert changed files or the definition"
rm -f "$SD/s9.json"
out=$("$LVSH" snapshot-revert "$G" s1 --running --paused 2>&1) && fail "--running --paused accepted"

# a disk-only snapshot: a new overlay over the base image, shut off
out=$("$LVSH" snapshot-revert "$G" s1 2>&1) && ok "snapshot-revert s1" || fail "snapshot-revert s1: $out"
R1=$T/disk.s1-1
qemu-img info -U "$R1" 2>/dev/null | grep -q "backing file: $BASE" && ok "new overlay $R1 over $BASE" ||
    fail "no overlay $R1 over $BASE: $(ls "$T")"
grep -q "<source file='$R1'/>" "$LITEVIRT_GUESTDIR/$G.xml" && ok "the stored definition names it" ||
    fail "stored definition after revert: $(grep -A8 '<disk' "$LITEVIRT_GUESTDIR/$G.xml")"
[ "$("$LVSH" domstate "$G" 2>&1)" = "shut off" ] && ok "the guest stays shut off" || fail "state after revert s1"
has_block "$R1" 1 && ok "block 1 (before s1) is there" || fail "block 1 not there after revert s1"
has_block "$R1" $((c1 + 2)) && fail "block $((c1 + 2)) (after s1) is still there" ||
    ok "block $((c1 + 2)) (written after s1) is gone"
[ -f "$OV1" ] && [ -f "$T/disk.s2" ] && ok "the later overlays stay" || fail "overlays s1/s2 removed"
off=$(logsize "$G")
out=$("$LVSH" start "$G" 2>&1) || fail "start after revert s1: $out"
wait_output "$G" "$off" "LV-COUNTER 3\b" 90 && ok "the guest boots on the new overlay" ||
    fail "$G did not boot after revert s1: $(since "$G" "$off" | tail -c 200)"

# a full snapshot of the running guest: its memory on a new overlay over
# overlay s1 (two levels of images under it), left paused
out=$("$LVSH" snapshot-revert "$G" s2 --paused 2>&1) && ok "snapshot-revert s2 --paused" ||
    fail "snapshot-revert s2 --paused: $out"
R2=$T/disk.s2-1
[ "$("$LVSH" domstate "$G" 2>&1)" = paused ] && ok "the guest is paused" ||
    fail "state after revert s2 --paused: $("$LVSH" domstate "$G" 2>&1)"
qemu-img info -U "$R2" 2>/dev/null | grep -q "backing file: $OV1" && ok "new overlay $R2 over $OV1" ||
    fail "no overlay $R2 over $OV1"
"$LVSH" dumpxml "$G" 2>&1 | grep -q "<source file='$R2'/>" && ok "the running definition names it" ||
    fail "running definition after revert s2: $("$LVSH" dumpxml "$G" 2>&1 | grep -A8 '<disk')"
has_block "$R2" $((c1 + 2)) shared && ok "block $((c1 + 2)) (before s2) is there" ||
    fail "block $((c1 + 2)) not there after revert s2"
has_block "$R2" $((c2 + 2)) shared && fail "block $((c2 + 2)) (after s2) is still there" ||
    ok "block $((c2 + 2)) (written after s2) is gone"
off=$(logsize "$G")
"$LVSH" resume "$G" >/dev/null 2>&1 || fail "resume after revert s2"
if wait_output "$G" "$off" "LV-COUNTER $((c2 + 3))\b" 90; then
    first=$(since "$G" "$off" | grep -ao 'LV-COUNTER [0-9]*' | head -n1 | awk '{print $2}')
    [ "${first:-0}" -gt "$c2" ] && ok "the guest runs on from its memory (counts on from $first, s2 was at $c2)" ||
        fail "the guest counted from $first, not on from $c2 (booted afresh?)"
else
    fail "$G does not run after revert s2: $(since "$G" "$off" | tail -c 200)"
fi
"$LVSH" destroy "$G" >/dev/null 2>&1 || fail "destroy $G after the reverts"

out=$("$LVSH" snapshot-delete "$G" s2 --metadata 2>&1) && ok "snapshot-delete --metadata: $out" ||
    fail "snapshot-delete --metadata: $out"
"$LVSH" snapshot-list "$G" 2>&1 | grep -q " s2 " && fail "s2 still listed"
[ -f "$T/disk.s2" ] && ok "the overlay stays" || fail "overlay s2 removed"

# ---- started again on its overlay ----
R=${Q}-r
RB=$T/r.qcow2
qemu-img create -q -f qcow2 "$RB" 16M
define "$R" "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$RB'/><target dev='vda' bus='virtio'/></disk>"
boot "$R"
out=$("$LVSH" snapshot-create-as "$R" s1 --disk-only 2>&1) || fail "snapshot-create-as $R: $out"
cr=$(last_counter "$R") # blocks up to cr may be in the image, later ones are not
"$LVSH" destroy "$R" >/dev/null 2>&1 || fail "destroy $R"
off=$(logsize "$R")
out=$("$LVSH" start "$R" 2>&1) || fail "start $R on its overlay: $out"
if wait_output "$R" "$off" "LV-COUNTER $((cr + 3))\b" 90; then
    ok "$R starts again on its overlay (the image under it given to QEMU read-only)"
    "$LVSH" destroy "$R" >/dev/null 2>&1
    has_block "$T/r.s1" $((cr + 2)) alone && ! has_block "$RB" $((cr + 2)) &&
        ok "its writes go to the overlay" || fail "block $((cr + 2)) after the restart is not in the overlay alone"
else
    fail "$R did not start again: $out $(since "$R" "$off" | tail -c 200)"
fi

# ---- a guest without a disk litevirt can overlay ----
N=${Q}-n
define "$N"
boot "$N"
out=$("$LVSH" snapshot-create-as "$N" s1 --disk-only 2>&1) && fail "snapshot of a guest without disks succeeded" ||
    { echo "$out" | grep -q "has no disk to snapshot" && ok "guest without disks refused: $out" ||
          fail "guest without disks: $out"; }
out=$("$LVSH" snapshot-create-as "$N" s1 2>&1) && fail "full snapshot of a guest without disks succeeded"
[ "$("$LVSH" domstate "$N" 2>&1)" = running ] || fail "$N does not run on"
[ -e "$LITEVIRT_GUESTDIR/$N.snapshots/s1.json" ] && fail "metadata left for a refused snapshot"

# ---- block jobs: pull (aborted mid-way, then whole), commit of the active layer ----
B=${Q}-b
BB=$T/b.qcow2
qemu-img create -q -f qcow2 "$BB" 16M
qemu-io -c "write -P 0x5a 8M 8M" "$BB" >/dev/null # data for a pull to copy
BB2=$T/b2.qcow2
qemu-img create -q -f qcow2 "$BB2" 16M
qemu-io -c "write -P 0x5b 4M 8M" "$BB2" >/dev/null
define "$B" "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$BB'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$BB2'/><target dev='vdb' bus='virtio'/></disk>"
boot "$B"
out=$("$LVSH" snapshot-create-as "$B" s1 --disk-only 2>&1) || fail "snapshot-create-as $B s1: $out"
BS1=$T/b.s1
out=$("$LVSH" blockcommit "$B" vda 2>&1) && fail "commit of the active layer without --active succeeded" ||
    { echo "$out" | grep -q "requires --active" && ok "blockcommit without --active refused: $(echo "$out" | tail -n1)" ||
          fail "blockcommit without --active: $out"; }
out=$("$LVSH" blockjob "$B" vda --info 2>&1)
[ "$out" = "No current block job for vda" ] && ok "blockjob --info without a job: $out" || fail "blockjob --info: $out"

out=$("$LVSH" blockpull "$B" vda --bandwidth 1 2>&1) && [ "$out" = "Block Pull started" ] &&
    ok "blockpull --bandwidth 1: $out" || fail "blockpull --bandwidth 1: $out"
info=
for i in $(seq 100); do
    info=$("$LVSH" blockjob "$B" vda 2>&1)
    echo "$info" | grep -q "^Block Pull: \[ *[1-9][0-9]* %\]" && break
    sleep 0.1
done
echo "$info" | grep -q "^Block Pull: \[ *[0-9]* %\] *Bandwidth limit: 1048576 bytes/s (1.000 MiB/s)" &&
    ok "blockjob --info mid-way: $info" || fail "blockjob --info during the pull: $info"
job=$("$LVSH" domjobinfo "$B" 2>&1)
echo "$job" | grep -q "^Operation: *Block pull" && echo "$job" | grep -q "^File processed:" &&
    ok "domjobinfo shows the pull: $(echo "$job" | grep -E 'Operation|File processed' | tr -s ' \n' ' ')" ||
    fail "domjobinfo during the pull: $job"
[ "$("$LVSH" domstate "$B" 2>&1)" = running ] && "$LVSH" dumpxml "$B" >/dev/null 2>&1 &&
    ok "the supervisor answers while the job runs" || fail "the supervisor does not answer during the job"
out=$("$LVSH" blockjob "$B" vda --abort 2>&1) && ok "blockjob --abort" || fail "blockjob --abort: $out"
for i in $(seq 100); do
    [ "$("$LVSH" blockjob "$B" vda 2>&1)" = "No current block job for vda" ] && break
    sleep 0.1
done
[ "$("$LVSH" blockjob "$B" vda 2>&1)" = "No current block job for vda" ] && ok "the pull has ended" ||
    fail "the pull did not end after --abort"
"$LVSH" dumpxml "$B" 2>&1 | grep -A3 "<backingStore" | grep -q "<source file='$BB'/>" &&
    qemu-img info -U "$BS1" 2>/dev/null | grep -q "backing file: $BB" &&
    ok "after the abort the overlay is still over its image" || fail "the chain changed after an aborted pull"

# one job per disk; a supervisor killed (-9) and reattached takes them up
# again: their progress is shown, an end seen as QEMU's event after the
# reattach updates the definitions
job_gone() { # DISK
    for i in $(seq 300); do
        [ "$("$LVSH" blockjob "$B" "$1" 2>&1)" = "No current block job for $1" ] && return 0
        sleep 0.1
    done
    return 1
}
kill_supervisor() {
    local spid
    spid=$(cat "$LITEVIRT_RUNDIR/$B/supervisor.pid")
    kill -9 "$spid"
    for i in $(seq 100); do [ -d "/proc/$spid" ] || break; sleep 0.1; done
}
BS1B=$T/b2.s1
for disk in vda vdb; do
    out=$("$LVSH" blockpull "$B" $disk --bandwidth 1 2>&1) && [ "$out" = "Block Pull started" ] ||
        fail "blockpull $disk --bandwidth 1: $out"
done
a=$("$LVSH" blockjob "$B" vda 2>&1) b=$("$LVSH" blockjob "$B" vdb 2>&1)
echo "$a" | grep -q "^Block Pull: \[" && echo "$b" | grep -q "^Block Pull: \[" &&
    ok "a pull on each disk at once: vda $a, vdb $b" || fail "two jobs: vda $a vdb $b"
kill_supervisor
out=$("$LVSH" start "$B" 2>&1) || fail "reattach $B: $out $(tail -5 "$LITEVIRT_LOGDIR/$B.log")"
a=$("$LVSH" blockjob "$B" vda 2>&1) b=$("$LVSH" blockjob "$B" vdb 2>&1)
echo "$a" | grep -q "^Block Pull: \[ *[0-9]* %\] *Bandwidth limit: 1048576" && echo "$b" | grep -q "^Block Pull: \[" &&
    ok "after the supervisor's kill -9 and a reattach both jobs are found again: vda $a, vdb $b" ||
    fail "jobs after the reattach: vda $a vdb $b"
"$LVSH" domjobinfo "$B" 2>&1 | grep -q "^Operation: *Block pull" && ok "domjobinfo shows a pull after the reattach" ||
    fail "domjobinfo after the reattach: $("$LVSH" domjobinfo "$B" 2>&1)"
out=$("$LVSH" blockjob "$B" vda --abort 2>&1) || fail "blockjob vda --abort after the reattach: $out"
job_gone vda && "$LVSH" blockjob "$B" vdb 2>&1 | grep -q "^Block Pull" &&
    ok "vda's pull aborted, vdb's runs on" || fail "after aborting vda: $("$LVSH" blockjob "$B" vdb 2>&1)"
out=$("$LVSH" blockjob "$B" vdb --bandwidth 0 2>&1) || fail "blockjob vdb --bandwidth 0: $out"
job_gone vdb && ok "vdb's pull has ended" || fail "vdb's pull did not end"
xml=$("$LVSH" dumpxml "$B" 2>&1)
echo "$xml" | grep -A3 "<backingStore" | grep -q "<source file='$BB'/>" &&
    ! echo "$xml" | grep -A3 "<backingStore" | grep -q "<source file='$BB2'/>" &&
    ! grep -A3 "<backingStore" "$LITEVIRT_GUESTDIR/$B.xml" | grep -q "<source file='$BB2'/>" &&
    ! qemu-img info -U "$BS1B" 2>/dev/null | grep -q "backing file" &&
    ok "its end after the reattach: vdb stands alone in both definitions, vda is still over its image" ||
    fail "definitions after the reattached pull: $(echo "$xml" | grep -A8 '<disk')"

c=$(last_counter "$B")
out=$("$LVSH" blockpull "$B" vda --wait --verbose 2>&1) && echo "$out" | grep -q "Pull complete" &&
    ok "blockpull --wait: $(echo "$out" | tr '\r\n' '  ' | tr -s ' ')" || fail "blockpull --wait: $out"
wait_counter "$B" $((c + 2)) # its fsync flushes QEMU's qcow2 metadata too
! qemu-img info -U "$BS1" 2>/dev/null | grep -q "backing file" && has_block "$BS1" 1 alone &&
    ok "the top has its image's data and stands alone" || fail "after the pull: $(qemu-img info -U "$BS1" 2>&1 | grep backing)"
xml=$("$LVSH" dumpxml "$B" 2>&1)
echo "$xml" | grep -q "<source file='$BS1'/>" && ! echo "$xml" | grep -q "<backingStore" &&
    ! grep -q "<backingStore" "$LITEVIRT_GUESTDIR/$B.xml" &&
    ok "the running and stored definitions have no backingStore now" || fail "definitions after the pull: $(echo "$xml" | grep -A8 '<disk')"

out=$("$LVSH" snapshot-create-as "$B" s2 --disk-only 2>&1) || fail "snapshot-create-as $B s2: $out"
BS2=$T/b.s2
c=$(last_counter "$B")
wait_counter "$B" $((c + 3))
# a job that ends while no supervisor runs: decided at the reattach from
# QEMU's chain
BS2B=$T/b2.s2
out=$("$LVSH" blockpull "$B" vdb --bandwidth 1 2>&1) || fail "blockpull vdb (b2.s2): $out"
kill_supervisor
for i in $(seq 600); do
    qemu-img info -U "$BS2B" 2>/dev/null | grep -q "backing file" || break
    sleep 0.1
done
qemu-img info -U "$BS2B" 2>/dev/null | grep -q "backing file" && fail "the pull on vdb did not end without its supervisor"
out=$("$LVSH" start "$B" 2>&1) || fail "reattach $B: $out $(tail -5 "$LITEVIRT_LOGDIR/$B.log")"
xml=$("$LVSH" dumpxml "$B" 2>&1)
echo "$xml" | grep -q "<source file='$BS2B'/>" && ! echo "$xml" | grep -A3 "<backingStore" | grep -q "<source file='$BS1B'/>" &&
    ! grep -A3 "<backingStore" "$LITEVIRT_GUESTDIR/$B.xml" | grep -q "<source file='$BS1B'/>" &&
    [ "$("$LVSH" blockjob "$B" vdb 2>&1)" = "No current block job for vdb" ] &&
    ok "a pull that completed while no supervisor ran: found at the reattach, vdb stands alone in both definitions" ||
    fail "after the reattach of a completed pull: $(echo "$xml" | grep -A8 '<disk') $(grep -a 'block job' "$LITEVIRT_LOGDIR/$B.log" | tail -3)"

out=$("$LVSH" blockcommit "$B" vda --active --pivot --verbose 2>&1) && echo "$out" | grep -q "Successfully pivoted" &&
    ok "blockcommit --active --pivot: $(echo "$out" | tr '\r\n' '  ' | tr -s ' ')" || fail "blockcommit --active --pivot: $out"
has_block "$BS1" $((c + 2)) alone && ok "block $((c + 2)) (written after s2) is in the base now" ||
    fail "block $((c + 2)) not in the base after the commit"
xml=$("$LVSH" dumpxml "$B" 2>&1)
echo "$xml" | grep -q "<source file='$BS1'/>" && grep -q "<source file='$BS1'/>" "$LITEVIRT_GUESTDIR/$B.xml" &&
    ! echo "$xml" | grep -q "<backingStore\|$BS2" && ! grep -q "<backingStore\|$BS2" "$LITEVIRT_GUESTDIR/$B.xml" &&
    ok "the running and stored definitions name the base alone" || fail "definitions after the pivot: $(echo "$xml" | grep -A8 '<disk')"
[ "$(stat -c %u "$BS2")" = 0 ] && [ "$(stat -c %u "$BS1")" != 0 ] &&
    ok "the overlay's label is given back (owner root), QEMU's uid owns the base" ||
    fail "owners after the pivot: $(stat -c '%n %u' "$BS1" "$BS2") $(grep -a -E 'block job|giving back|blockdev-del|label' "$LITEVIRT_LOGDIR/$B.log" 2>&1 | tail -n 12)"
c=$(last_counter "$B")
wait_counter "$B" $((c + 2))
has_block "$BS1" $((c + 1)) alone && ok "the guest writes to the base (block $((c + 1)))" ||
    fail "block $((c + 1)) after the pivot is not in the base"
"$LVSH" destroy "$B" >/dev/null 2>&1

# ---- snapshot-delete: the overlays merged back (running, then shut off) ----
D=${Q}-d
DB=$T/d.qcow2
qemu-img create -q -f qcow2 "$DB" 16M
define "$D" "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$DB'/><target dev='vda' bus='virtio'/></disk>"
boot "$D"
DS=$LITEVIRT_GUESTDIR/$D.snapshots
chain() { qemu-img info -U --backing-chain "$1" 2>/dev/null | sed -n 's/^image: //p' | tr '\n' ' '; }
out=$("$LVSH" snapshot-create-as "$D" s1 --disk-only 2>&1) || fail "snapshot-create-as $D s1: $out"
c=$(last_counter "$D")
wait_counter "$D" $((c + 3))
out=$("$LVSH" snapshot-create-as "$D" s2 --disk-only 2>&1) || fail "snapshot-create-as $D s2: $out"
d1=$(last_counter "$D") # blocks up to d1 - 1 are in overlay s1 (or the base)
wait_counter "$D" $((d1 + 3))
for args in "--children" "--children-only"; do
    out=$("$LVSH" snapshot-delete "$D" s1 $args 2>&1) && fail "snapshot-delete $args succeeded" ||
        { echo "$out" | grep -q "deletion of external disk snapshots with children not supported" &&
              ok "snapshot-delete $args refused: $(echo "$out" | tail -n1)" || fail "snapshot-delete $args: $out"; }
done
sed -e 's/"s1"/"s8"/' -e 's/d\.s1"/d.nowhere"/' "$DS/s1.json" > "$DS/s8.json"
before=$(ls "$T" "$DS"; cat "$LITEVIRT_GUESTDIR/$D.xml")
out=$("$LVSH" snapshot-delete "$D" s8 2>&1) && fail "delete of a snapshot outside the chain succeeded" ||
    { echo "$out" | grep -q "is not in the chain the guest uses" && ok "outside the chain refused: $(echo "$out" | tail -n1)" ||
          fail "snapshot-delete s8: $out"; }
[ "$before" = "$(ls "$T" "$DS"; cat "$LITEVIRT_GUESTDIR/$D.xml")" ] && ok "nothing changed" || fail "a refused delete changed files"
rm -f "$DS/s8.json"

# s1, under s2: a commit of overlay s1 into the base, QEMU rebases s2
out=$("$LVSH" snapshot-delete "$D" s1 2>&1) && [ "$out" = "Domain snapshot s1 deleted" ] &&
    ok "snapshot-delete s1 (running, under s2): $out" || fail "snapshot-delete s1: $out"
[ ! -e "$T/d.s1" ] && [ ! -e "$DS/s1.json" ] && ok "overlay s1 and its metadata are gone" ||
    fail "after delete s1: $(ls "$T" "$DS")"
[ "$(chain "$T/d.s2")" = "$T/d.s2 $DB " ] && ok "the chain is s2 -> base: $(chain "$T/d.s2")" ||
    fail "chain after delete s1: $(chain "$T/d.s2")"
has_block "$DB" $((d1 - 1)) shared && ok "block $((d1 - 1)) (written into s1) is in the base" ||
    fail "block $((d1 - 1)) not in the base after delete s1"
"$LVSH" snapshot-info "$D" s2 2>&1 | grep -q "^Disk: *vda $T/d.s2 (over $DB)$" && ok "snapshot s2 is over the base now" ||
    fail "snapshot-info s2: $("$LVSH" snapshot-info "$D" s2 2>&1)"
xml=$("$LVSH" dumpxml "$D" 2>&1)
echo "$xml" | grep -A3 "<backingStore" | grep -q "<source file='$DB'/>" &&
    grep -A3 "<backingStore" "$LITEVIRT_GUESTDIR/$D.xml" | grep -q "<source file='$DB'/>" &&
    ok "both definitions: s2 over the base" || fail "definitions after delete s1: $(echo "$xml" | grep -A8 '<disk')"

# s2, the active layer: a commit pivoted onto the base
d2=$(last_counter "$D")
wait_counter "$D" $((d2 + 2))
out=$("$LVSH" snapshot-delete "$D" s2 2>&1) && ok "snapshot-delete s2 (running, the active layer): $out" ||
    fail "snapshot-delete s2: $out"
[ ! -e "$T/d.s2" ] && [ ! -e "$DS/s2.json" ] && [ "$(chain "$DB")" = "$DB " ] &&
    ok "overlay s2 gone, the chain is the base alone" || fail "after delete s2: $(ls "$T" "$DS") chain $(chain "$DB")"
xml=$("$LVSH" dumpxml "$D" 2>&1)
echo "$xml" | grep -q "<source file='$DB'/>" && ! echo "$xml" | grep -q "<backingStore" &&
    grep -q "<source file='$DB'/>" "$LITEVIRT_GUESTDIR/$D.xml" && ! grep -q "<backingStore" "$LITEVIRT_GUESTDIR/$D.xml" &&
    ok "both definitions name the base alone" || fail "definitions after delete s2: $(echo "$xml" | grep -A8 '<disk')"
has_block "$DB" $((d2 + 1)) shared && ok "block $((d2 + 1)) (written into s2) is in the base" ||
    fail "block $((d2 + 1)) not in the base after delete s2"
c=$(last_counter "$D")
wait_counter "$D" $((c + 2))
[ "$("$LVSH" domstate "$D" 2>&1)" = running ] && has_block "$DB" $((c + 1)) shared &&
    ok "the guest runs on, counting into the base (block $((c + 1)))" || fail "the guest after delete s2"

# shut off: s3 (full, with memory) under s4, qemu-img commit and rebase
out=$("$LVSH" snapshot-create-as "$D" s3 2>&1) || fail "snapshot-create-as $D s3: $out"
d3=$(last_counter "$D")
wait_counter "$D" $((d3 + 3))
out=$("$LVSH" snapshot-create-as "$D" s4 --disk-only 2>&1) || fail "snapshot-create-as $D s4: $out"
d4=$(last_counter "$D")
wait_counter "$D" $((d4 + 3))
pid=$(qemu_pid "$D")
"$LVSH" destroy "$D" >/dev/null 2>&1 || fail "destroy $D"
for i in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
out=$("$LVSH" snapshot-delete "$D" s3 2>&1) && ok "snapshot-delete s3 (shut off, under s4): $out" ||
    fail "snapshot-delete s3: $out"
[ ! -e "$T/d.s3" ] && [ ! -e "$DS/s3.mem" ] && [ "$(chain "$T/d.s4")" = "$T/d.s4 $DB " ] &&
    ok "overlay s3 and its memory gone, the chain is s4 -> base" || fail "after delete s3: $(ls "$T" "$DS") chain $(chain "$T/d.s4")"
has_block "$DB" $((d4 - 1)) && ok "block $((d4 - 1)) (written into s3) is in the base" || fail "block $((d4 - 1)) not in the base"
out=$("$LVSH" snapshot-delete "$D" s4 2>&1) && ok "snapshot-delete s4 (shut off, the top): $out" ||
    fail "snapshot-delete s4: $out"
[ ! -e "$T/d.s4" ] && grep -q "<source file='$DB'/>" "$LITEVIRT_GUESTDIR/$D.xml" && ! grep -q "<backingStore" "$LITEVIRT_GUESTDIR/$D.xml" &&
    [ -z "$(ls "$DS")" ] && ok "overlay s4 gone, the stored definition names the base alone" ||
    fail "after delete s4: $(ls "$T" "$DS") $(grep -A8 '<disk' "$LITEVIRT_GUESTDIR/$D.xml")"
last=$(last_counter "$D")
has_block "$DB" $((last - 1)) && ok "block $((last - 1)) (the last before destroy) is in the base" ||
    fail "block $((last - 1)) not in the base"
off=$(logsize "$D")
out=$("$LVSH" start "$D" 2>&1) || fail "start $D after the deletes: $out"
wait_output "$D" "$off" "LV-COUNTER 3\b" 90 && ok "the guest boots on its base image again" ||
    fail "$D did not boot: $(since "$D" "$off" | tail -c 200)"

# a commit QEMU fails (its base given read-only: the guest started on its
# overlay): the guest, its files and the metadata stay as they were
out=$("$LVSH" snapshot-create-as "$D" s5 --disk-only 2>&1) || fail "snapshot-create-as $D s5: $out"
"$LVSH" destroy "$D" >/dev/null 2>&1
out=$("$LVSH" start "$D" 2>&1) || fail "start $D on s5: $out"
before=$(ls "$T" "$DS"; cat "$LITEVIRT_GUESTDIR/$D.xml")
out=$("$LVSH" snapshot-delete "$D" s5 2>&1) && fail "delete into a read-only base succeeded" ||
    ok "delete refused by QEMU: $(echo "$out" | tail -n1)"
[ "$before" = "$(ls "$T" "$DS"; cat "$LITEVIRT_GUESTDIR/$D.xml")" ] && [ "$(chain "$T/d.s5")" = "$T/d.s5 $DB " ] &&
    [ "$("$LVSH" domstate "$D" 2>&1)" = running ] && "$LVSH" dumpxml "$D" | grep -q "<source file='$T/d.s5'/>" &&
    ok "guest, files and metadata as they were" || fail "a failed delete changed something: $(ls "$T" "$DS")"
"$LVSH" destroy "$D" >/dev/null 2>&1

# ---- undefine: snapshots and a managed save only when asked for ----
out=$("$LVSH" undefine "$G" 2>&1) && fail "undefine of a guest with snapshots succeeded" ||
    { echo "$out" | grep -q "cannot delete inactive domain with 1 snapshots" && ok "undefine refused: $(echo "$out" | tail -n1)" ||
          fail "undefine $G: $out"; }
[ -f "$LITEVIRT_GUESTDIR/$G.xml" ] && [ -f "$SD/s1.json" ] && ok "definition and snapshots kept" ||
    fail "a refused undefine removed files"
out=$("$LVSH" undefine "$G" --snapshots-metadata 2>&1) && ok "undefine --snapshots-metadata: $out" ||
    fail "undefine --snapshots-metadata: $out"
[ ! -e "$LITEVIRT_GUESTDIR/$G.xml" ] && [ ! -e "$SD" ] && [ -f "$OV1" ] &&
    ok "definition and snapshot metadata gone, the overlays stay" || fail "after undefine: $(ls "$LITEVIRT_GUESTDIR" "$T")"
out=$("$LVSH" managedsave "$N" 2>&1) || fail "managedsave $N: $out"
MS=$LITEVIRT_SAVEDIR/$N.save
out=$("$LVSH" undefine "$N" 2>&1) && fail "undefine of a guest with a managed save succeeded" ||
    { echo "$out" | grep -q "Refusing to undefine while domain managed save image exists" && [ -f "$MS" ] &&
          ok "undefine refused: $(echo "$out" | tail -n1)" || fail "undefine $N: $out"; }
out=$("$LVSH" undefine "$N" --managed-save 2>&1) && [ ! -e "$MS" ] && [ ! -e "$LITEVIRT_GUESTDIR/$N.xml" ] &&
    ok "undefine --managed-save removes it" || fail "undefine --managed-save: $out"

[ "$FAILS" = 0 ] && echo "all passed" || echo "$FAILS failed"
[ "$FAILS" = 0 ]
