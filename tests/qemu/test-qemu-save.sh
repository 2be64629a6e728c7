#!/bin/bash
# lvsh save / restore / save-image-dumpxml / managedsave / managedsave-remove
# with the real qemu-system-x86_64 (TCG) running the tiny test guest
# (tests/qemu/build-guest.sh), through lvsh and the supervisor:
#   - the guest's counter goes on after a restore (no new boot), --paused /
#     --running, "running (restored)", the image's mode and no temp file;
#   - a damaged, truncated, foreign, incomplete image, and one whose stream
#     QEMU refuses, are refused with a clear error and start nothing;
#   - a full disk during save (a 4 MiB tmpfs): the guest goes on, no file;
#   - managedsave: dominfo "Managed save: yes", start resumes from it and
#     removes it, managedsave-remove, a damaged managed save, --force-boot,
#     a transient guest refused.
# Runs in its own network and mount namespaces, LITEVIRT_* in a temporary
# directory. Needs root and qemu: else 77.
set -u

command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
. "${LV_SOURCE_ROOT:?}/tests/qemu/qemu-test.sh"
# network (slirp) and mount (the small tmpfs) namespaces of its own
qemu_test_init --net --mount --propagation private

Q=lvsv$$
qemu_test_dirs qemu-save

cleanup() {
    # shellcheck disable=SC2086
    qemu_guests_end $GUESTS
    umount "$T/small" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok   $*"; }

define() { GUEST_TOP=${2:+<uuid>$2</uuid>} qemu_guest_define "$1"; } # NAME [UUID]

last_counter() { grep -ao 'LV-COUNTER [0-9]*' | tail -n1 | awk '{print $2}'; }

state() { "$LVSH" domstate "$1" --reason 2>/dev/null | head -n1; }

# nothing of guest NAME runs: QEMU (pid), state dir, cgroup
check_gone() {
    local name=$1 pid=$2 i=0
    while [ $i -lt 150 ]; do
        { [ -e "$LITEVIRT_RUNDIR/$name" ] || { [ -n "$pid" ] && [ -d "/proc/$pid" ]; }; } || break
        sleep 0.1; i=$((i + 1))
    done
    if [ -n "$pid" ] && grep -q "guest=$name," "/proc/$pid/cmdline" 2>/dev/null; then
        fail "$name: qemu $pid still runs"
    fi
    [ -e "$LITEVIRT_RUNDIR/$name" ] && fail "$name: state dir left: $(ls "$LITEVIRT_RUNDIR/$name")"
    local cg
    cg=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "litevirt-$name" 2>/dev/null | head -n1)
    [ -n "$cg" ] && fail "$name: cgroup left: $cg"
    [ -z "$(pgrep -f "qemu-system.*guest=$name," 2>/dev/null)" ] || fail "$name: a QEMU of it runs"
    return 0
}

# start NAME and wait for its counter
boot() {
    local off
    off=$(logsize "$1")
    out=$("$LVSH" start "$1" 2>&1) || fail "start $1: $out"
    wait_output "$1" "$off" "LV-COUNTER 2" 60 || fail "$1 did not boot: $(since "$1" "$off" | tail -c 200)"
}

# ---- save and restore ----
G=${Q}-a
define "$G"
boot "$G"
pid=$(qemu_pid "$G")
IMG=$T/$G.save
out=$("$LVSH" save "$G" "$IMG" 2>&1) && ok "save: $(echo "$out" | grep saved)" || fail "save: $out"
c=$(last_counter < "$(CONLOG "$G")")
check_gone "$G" "$pid"
case "$(state "$G")" in "shut off"*) ;; *) fail "state after save: $(state "$G")";; esac
[ "$(head -c 16 "$IMG")" = "LitevirtQemuSave" ] && ok "the image is complete ($(stat -c %s "$IMG") bytes)" ||
    fail "image magic: $(head -c 16 "$IMG" | od -c | head -1)"
[ "$(stat -c %a "$IMG")" = 600 ] || fail "image mode $(stat -c %a "$IMG")"
[ -z "$(ls -A "$T" | grep '^\.')" ] || fail "temporary files left: $(ls -A "$T" | grep '^\.')"
grep -q "stopped-saved\|shutoff (saved)" "$LITEVIRT_LOGDIR/$G.log" && ok "the guest ended 'shut off (saved)'" ||
    fail "no 'saved' end in the log"
"$LVSH" save-image-dumpxml "$IMG" | grep -q "<name>$G</name>" && ok "save-image-dumpxml" ||
    fail "save-image-dumpxml: $("$LVSH" save-image-dumpxml "$IMG" 2>&1 | head -3)"

off=$(logsize "$G")
out=$("$LVSH" restore "$IMG" 2>&1) && ok "restore: $(echo "$out" | head -1)" || fail "restore: $out"
[ "$(state "$G")" = "running (restored)" ] && ok "domstate: running (restored)" || fail "state: $(state "$G")"
qemu_counts_on "$G" "$off" "$c"
out=$("$LVSH" restore "$IMG" 2>&1) && fail "restore of a running guest succeeded"
echo "$out" | grep -q "already running" && ok "restore of a running guest refused" || fail "restore twice: $out"
[ "$(state "$G")" = "running (restored)" ] || fail "the running guest was disturbed: $(state "$G")"

# --paused in the image, --running overriding it
out=$("$LVSH" save "$G" "$IMG" --paused 2>&1) || fail "save --paused: $out"
out=$("$LVSH" restore "$IMG" 2>&1) || fail "restore of a --paused image: $out"
[ "$(state "$G")" = "paused (user)" ] && ok "an image saved --paused restores paused" || fail "state: $(state "$G")"
c=$(last_counter < "$(CONLOG "$G")")
off=$(logsize "$G")
"$LVSH" resume "$G" >/dev/null || fail "resume after restore"
qemu_counts_on "$G" "$off" "$c"
out=$("$LVSH" save "$G" "$IMG" --paused 2>&1) || fail "save --paused: $out"
"$LVSH" restore "$IMG" --running >/dev/null 2>&1 || fail "restore --running"
[ "$(state "$G")" = "running (restored)" ] && ok "restore --running overrides the image's paused" ||
    fail "state after restore --running: $(state "$G")"

# ---- a full disk during save: the guest goes on, no file left ----
mkdir -p "$T/small"
mount -t tmpfs -o size=4m tmpfs "$T/small" || fail "tmpfs"
c=$(last_counter < "$(CONLOG "$G")")
off=$(logsize "$G")
out=$("$LVSH" save "$G" "$T/small/full.save" 2>&1) && fail "save to a full disk succeeded"
echo "$out" | grep -q "No space left on device" && ok "save to a full disk fails: $(echo "$out" | tail -1)" ||
    fail "save to a full disk: $out"
[ -z "$(ls -A "$T/small")" ] && ok "no partial file left" || fail "left on the full disk: $(ls -A "$T/small")"
[ "$(state "$G")" = "running (restored)" ] || fail "state after the failed save: $(state "$G")"
if wait_output "$G" "$off" "LV-COUNTER $((c + 2))\b" 20; then
    ok "the guest goes on after the failed save"
else
    fail "the guest stopped counting after the failed save"
fi
umount "$T/small"

out=$("$LVSH" save "$G" relative/no/such/dir.save 2>&1) && fail "save into a missing directory succeeded"
echo "$out" | grep -q "No such file or directory" || fail "save into a missing directory: $out"
[ "$(state "$G")" = "running (restored)" ] || fail "state after a refused save: $(state "$G")"

# domjobinfo while the stream is written (it takes some 100 ms at least)
pid=$(qemu_pid "$G")
"$LVSH" save "$G" "$IMG" > "$T/save.out" 2>&1 &
spid=$!
seen=""
while kill -0 "$spid" 2>/dev/null; do
    job=$("$LVSH" domjobinfo "$G" 2>/dev/null)
    if echo "$job" | grep -q "^Operation: *Save" && echo "$job" | grep -q "^Data total:"; then
        seen=1
        break
    fi
done
wait "$spid" || fail "save: $(cat "$T/save.out")"
[ -n "$seen" ] && ok "domjobinfo during the save: Operation Save, with the stream's figures" ||
    fail "domjobinfo never showed the save"
check_gone "$G" "$pid"
out=$("$LVSH" save "$G" "$T/x.save" 2>&1) && fail "save of a shut off guest succeeded"
echo "$out" | grep -q "not running" && ok "save of a shut off guest refused" || fail "save shut off: $out"

# ---- damaged images start nothing ----
refused() { # FILE PATTERN WHAT
    local out
    out=$("$LVSH" restore "$1" 2>&1) && { fail "$3: restore succeeded"; "$LVSH" destroy "$G" >/dev/null 2>&1; return; }
    if echo "$out" | grep -q "$2"; then ok "$3 refused: $(echo "$out" | tail -1)"; else fail "$3: $out"; fi
    check_gone "$G" ""
}
size=$(stat -c %s "$IMG")
cp "$IMG" "$T/flip.save"
python3 - "$T/flip.save" "$((size / 2))" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))
EOF
refused "$T/flip.save" "is damaged: the checksum of its stream does not match" "a flipped byte"
cp "$IMG" "$T/short.save" && truncate -s $((size - 1000)) "$T/short.save"
refused "$T/short.save" "is truncated: $((size - 1000)) of $size bytes" "a truncated image"
head -c 100 "$IMG" > "$T/tiny.save"
refused "$T/tiny.save" "is truncated: 100 bytes, shorter than its header" "a 100-byte image"
cp "$T/$G.xml" "$T/foreign.save"
refused "$T/foreign.save" "is not a litevirt save image" "a file that is no image"
cp "$IMG" "$T/part.save" && printf 'LitevirtQemuPart' | dd of="$T/part.save" conv=notrunc status=none
refused "$T/part.save" "is incomplete: the save did not finish" "an unfinished image"
# a stream QEMU refuses, with a checksum that matches: QEMU starts and fails
# to load it, and is ended with everything else
cp "$IMG" "$T/badstream.save"
python3 - "$T/badstream.save" <<'EOF'
import hashlib, struct, sys
with open(sys.argv[1], "r+b") as f:
    h = f.read(128)
    off, length = struct.unpack_from("<QQ", h, 32)
    f.seek(off); f.write(b"\0" * 64)
    f.seek(off); s = f.read(length)
    f.seek(48); f.write(hashlib.sha256(s).digest())
EOF
refused "$T/badstream.save" "restoring from '$T/badstream.save': QEMU could not load the saved state: qemu-system" "a stream QEMU cannot load"
grep -q "restoring the guest from '$T/badstream.save'" "$LITEVIRT_LOGDIR/$G.log" ||
    fail "no QEMU was started for the bad stream"
# another guest of that name (another UUID) stored here
"$LVSH" undefine "$G" >/dev/null || fail "undefine"
define "$G" 11111111-2222-3333-4444-555555555555
refused "$IMG" "already defined with uuid 11111111-2222-3333-4444-555555555555" "an image of another guest of that name"
"$LVSH" undefine "$G" >/dev/null || fail "undefine"
"$LVSH" save-image-dumpxml "$IMG" > "$T/${G}-orig.xml" && "$LVSH" define "$T/${G}-orig.xml" >/dev/null ||
    fail "define from save-image-dumpxml"

# ---- managedsave ----
boot "$G"
pid=$(qemu_pid "$G")
"$LVSH" dominfo "$G" | grep -q "^Managed save: *no" || fail "dominfo before managedsave: $("$LVSH" dominfo "$G" | grep Managed)"
out=$("$LVSH" managedsave "$G" 2>&1) && ok "managedsave: $(echo "$out" | grep saved)" || fail "managedsave: $out"
c=$(last_counter < "$(CONLOG "$G")")
check_gone "$G" "$pid"
[ -s "$LITEVIRT_SAVEDIR/$G.save" ] || fail "no managed save image in $LITEVIRT_SAVEDIR"
[ "$(state "$G")" = "shut off (saved)" ] || fail "domstate after managedsave: $(state "$G")"
"$LVSH" dominfo "$G" | grep -q "^Managed save: *yes" && ok "dominfo: Managed save: yes" ||
    fail "dominfo after managedsave: $("$LVSH" dominfo "$G" | grep Managed)"
off=$(logsize "$G")
out=$("$LVSH" start "$G" 2>&1) || fail "start from the managed save: $out"
qemu_counts_on "$G" "$off" "$c"
[ -e "$LITEVIRT_SAVEDIR/$G.save" ] && fail "the managed save is still there after start"
"$LVSH" dominfo "$G" | grep -q "^Managed save: *no" && ok "the managed save is gone once started from" ||
    fail "dominfo after start: $("$LVSH" dominfo "$G" | grep Managed)"

"$LVSH" managedsave "$G" >/dev/null 2>&1 || fail "managedsave"
out=$("$LVSH" managedsave-remove "$G" 2>&1)
[ "$out" = "Removed managedsave image for domain '$G'" ] && [ ! -e "$LITEVIRT_SAVEDIR/$G.save" ] &&
    ok "managedsave-remove" || fail "managedsave-remove: $out"
out=$("$LVSH" managedsave-remove "$G" 2>&1)
echo "$out" | grep -q "has no manage save image; removal skipped" || fail "managedsave-remove twice: $out"
off=$(logsize "$G")
boot "$G"
since "$G" "$off" | grep -aq "LV-GUEST-BOOTED" && ok "start without the managed save boots afresh" ||
    fail "no fresh boot after managedsave-remove"

# a damaged managed save: start refuses it and keeps it; --force-boot discards it
"$LVSH" managedsave "$G" >/dev/null 2>&1 || fail "managedsave"
msize=$(stat -c %s "$LITEVIRT_SAVEDIR/$G.save")
truncate -s $((msize - 4096)) "$LITEVIRT_SAVEDIR/$G.save"
out=$("$LVSH" start "$G" 2>&1) && fail "start from a truncated managed save succeeded"
echo "$out" | grep -q "from its managed save" && echo "$out" | grep -q "is truncated" &&
    [ "$(echo "$out" | wc -l)" = 2 ] && ok "a truncated managed save is refused: $(echo "$out" | tail -1)" ||
    fail "start from a truncated managed save: $out"
check_gone "$G" ""
[ -e "$LITEVIRT_SAVEDIR/$G.save" ] || fail "the refused managed save was removed"
off=$(logsize "$G")
out=$("$LVSH" start "$G" --force-boot 2>&1) || fail "start --force-boot: $out"
wait_output "$G" "$off" "LV-GUEST-BOOTED" 60 && [ ! -e "$LITEVIRT_SAVEDIR/$G.save" ] &&
    ok "start --force-boot discards the managed save and boots" || fail "start --force-boot"

# a transient guest (undefined while it runs) has no managed save
"$LVSH" undefine "$G" >/dev/null || fail "undefine a running guest"
out=$("$LVSH" managedsave "$G" 2>&1) && fail "managedsave of a transient guest succeeded"
echo "$out" | grep -q "cannot do managed save for transient guest" && ok "managedsave of a transient guest refused" ||
    fail "managedsave transient: $out"
[ "$(state "$G")" = "running (booted)" ] || fail "state after the refused managedsave: $(state "$G")"
pid=$(qemu_pid "$G")
"$LVSH" destroy "$G" >/dev/null || fail "destroy"
check_gone "$G" "$pid"
"$LVSH" define "$T/${G}-orig.xml" >/dev/null || fail "define $G again"

# ---- host shutdown: litevirt-guests with ON_SHUTDOWN=managedsave ----
H=${Q}-h
define "$H"
boot "$H"
boot "$G"
"$LVSH" undefine "$G" >/dev/null || fail "undefine $G" # transient: cannot be saved
export LITEVIRT_SYSTEMD_DIR=$T/no-systemd
lg() { ON_SHUTDOWN=managedsave SHUTDOWN_TIMEOUT=30 LVSH=$LVSH "$SRC/packaging/litevirt-guests" "$@"; }
gpid=$(qemu_pid "$G")
hpid=$(qemu_pid "$H")
goff=$(stat -c %s "$LITEVIRT_LOGDIR/$G.log")
out=$(lg stop 2>&1) || fail "litevirt-guests stop: $out"
c=$(last_counter < "$(CONLOG "$H")")
check_gone "$H" "$hpid"
check_gone "$G" "$gpid"
[ -s "$LITEVIRT_SAVEDIR/$H.save" ] && echo "$out" | grep -q "saving $H" &&
    ok "litevirt-guests stop (ON_SHUTDOWN=managedsave) saved $H" || fail "stop did not save $H: $out"
# the guest powered itself off (the ACPI button), as the lifecycle test checks
echo "$out" | grep -q "cannot save $G: shutting it down" &&
    tail -c +$((goff + 1)) "$LITEVIRT_LOGDIR/$G.log" | grep -q "QEMU event SHUTDOWN (guest-shutdown)" &&
    ok "... and shut the transient $G down" ||
    fail "stop, transient $G: $out; $(tail -n 12 "$LITEVIRT_LOGDIR/$G.log"); $(tail -c 300 "$(CONLOG "$G")")"
off=$(logsize "$H")
out=$(lg start 2>&1) || fail "litevirt-guests start: $out"
qemu_counts_on "$H" "$off" "$c"
[ -e "$LITEVIRT_SAVEDIR/$H.save" ] && fail "the managed save of $H is left after litevirt-guests start"
out=$(ON_SHUTDOWN=suspend "$SRC/packaging/litevirt-guests" stop 2>&1) && fail "ON_SHUTDOWN=suspend accepted"
echo "$out" | grep -q "expected shutdown or managedsave" || fail "ON_SHUTDOWN=suspend: $out"
hpid=$(qemu_pid "$H")
"$LVSH" destroy "$H" >/dev/null || fail "destroy $H"
check_gone "$H" "$hpid"

if [ $FAILS -gt 0 ]; then echo "$FAILS failure(s)"; exit 1; fi
echo "all save/restore checks passed"
exit 0
