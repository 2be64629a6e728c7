#!/bin/bash
# Save images across the TCG RAM pad (docs/save.md, "Images of older
# litevirt"), with the real qemu-system-x86_64 (TCG) running the tiny test
# guest through lvsh and the supervisor:
#   - an image written now has flag bit 1 (the pad) and restores padded;
#   - an image as litevirt before the pad wrote it (QEMU run by hand with
#     `lvsh domxml-to-native`, its state migrated to a file through QMP,
#     tests/qemu/save-unpadded.py) restores, by `lvsh restore` and by `start`
#     from a managed save, without the pad, and the guest counts on;
#   - that guest saved again writes no flag, and its image restores again.
# Runs in its own network namespace, LITEVIRT_* in a temporary directory.
# Needs root and qemu: else 77.
set -u

command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
. "${LV_SOURCE_ROOT:?}/tests/qemu/qemu-test.sh"
qemu_test_init --net

Q=lvsc$$
qemu_test_dirs qemu-save-compat

cleanup() {
    # shellcheck disable=SC2086
    qemu_guests_end $GUESTS
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok   $*"; }

last_counter() { grep -ao 'LV-COUNTER [0-9]*' | tail -n1 | awk '{print $2}'; }
state() { "$LVSH" domstate "$1" --reason 2>/dev/null | head -n1; }
flags() { od -An -tu1 -j24 -N1 "$1" | tr -d ' '; } # the image's flag byte

# NAME SIZE: the running QEMU's -m argument, and qemu.json's record of it
memory_is() {
    local pid m
    pid=$(qemu_pid "$1")
    m=$(tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -A1 -x -- -m | tail -n1)
    [ "$m" = "$2" ] || fail "$1's QEMU runs with -m '$m', expected '$2'"
    if [ "$2" = 128 ]; then
        grep -q '"ram_pad"' "$LITEVIRT_RUNDIR/$1/qemu.json" && fail "qemu.json records a pad"
    else
        grep -q '"ram_pad": *true' "$LITEVIRT_RUNDIR/$1/qemu.json" || fail "qemu.json records no pad"
    fi
}

# FILE WHAT: restore FILE and check the guest counts on from the
# counter C (global) with QEMU's -m M (global)
restore_counts() {
    local off out
    off=$(logsize "$G")
    out=$("$LVSH" restore "$1" 2>&1) || { fail "restore of $2: $out"; return; }
    [ "$(state "$G")" = "running (restored)" ] || fail "state after restoring $2: $(state "$G")"
    memory_is "$G" "$M"
    qemu_counts_on "$G" "$off" "$C"
}

G=${Q}-a
qemu_guest_define "$G"

# ---- an image written now: flag bit 1, restored padded ----
off=$(logsize "$G")
out=$("$LVSH" start "$G" 2>&1) || fail "start: $out"
wait_output "$G" "$off" "LV-COUNTER 2" 60 || fail "$G did not boot: $(since "$G" "$off" | tail -c 200)"
memory_is "$G" 131080k
out=$("$LVSH" save "$G" "$T/new.save" 2>&1) || fail "save: $out"
C=$(last_counter < "$(CONLOG "$G")")
[ "$(flags "$T/new.save")" = 3 ] && ok "an image written now has flag bits 0 and 1 (running, pad)" ||
    fail "flags of a new image: $(flags "$T/new.save")"
M=131080k restore_counts "$T/new.save" "an image written now"
"$LVSH" destroy "$G" >/dev/null || fail "destroy"

# ---- an image of litevirt before the pad ----
"$LVSH" domxml-to-native qemu-argv "$T/$G.xml" > "$T/native" || fail "domxml-to-native"
OLDC=$(python3 "$SRC/tests/qemu/save-unpadded.py" "$T/native" "$T/hand.serial" "$T/new.save" \
    "$T/old.save") || fail "an unpadded image could not be made"
C=$OLDC
[ "$(flags "$T/old.save")" = 1 ] && ok "an image as older litevirt wrote it (QEMU by hand, -m 128, counter $C)" ||
    fail "flags of the old image: $(flags "$T/old.save")"
M=128 restore_counts "$T/old.save" "an image without the pad"

# saved again: no flag, and it restores again
out=$("$LVSH" save "$G" "$T/again.save" 2>&1) || fail "save of the restored guest: $out"
C=$(last_counter < "$(CONLOG "$G")")
[ "$(flags "$T/again.save")" = 1 ] && ok "the unpadded guest saved again: no pad flag" ||
    fail "flags of the image saved again: $(flags "$T/again.save")"
M=128 restore_counts "$T/again.save" "the unpadded guest's new image"

# a managed save of before the pad (the host shutdown before an upgrade)
out=$("$LVSH" destroy "$G" 2>&1) || fail "destroy: $out"
mkdir -p "$LITEVIRT_SAVEDIR" && cp "$T/old.save" "$LITEVIRT_SAVEDIR/$G.save"
C=$OLDC
off=$(logsize "$G")
out=$("$LVSH" start "$G" 2>&1) || fail "start from an older managed save: $out"
[ "$(state "$G")" = "running (restored)" ] || fail "state after start: $(state "$G")"
memory_is "$G" 128
qemu_counts_on "$G" "$off" "$C"
[ -e "$LITEVIRT_SAVEDIR/$G.save" ] && fail "the managed save is still there after start"
"$LVSH" destroy "$G" >/dev/null || fail "destroy"

if [ $FAILS -gt 0 ]; then echo "$FAILS failure(s)"; exit 1; fi
echo "all save-compat checks passed"
exit 0
