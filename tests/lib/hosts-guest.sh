# A guest moving between the two "hosts" of tests/lib/hosts.sh (sourced
# by tests/migration/*.sh; it only defines functions). The caller sets T (its directory,
# HOSTS_DIR), G (the guest's name), LVSH, BUILD, FAILS=0 and HELPERS="" (pids of
# background helpers, killed at the end), and calls `trap hosts_guest_cleanup
# EXIT` and `trap 'exit 1' INT TERM`.

hosts_guest_require() { # TOOL...: skip (77) unless root, the tools, QEMU, lvsh, the supervisor
    # and the test guest are there; sets BUILD, SRC, LVSH, SUP
    local t
    if [ "$(id -u)" != 0 ]; then echo "skip: needs root"; exit 77; fi
    for t in qemu-system-x86_64 "$@"; do command -v "$t" >/dev/null || { echo "skip: no $t"; exit 77; }; done
    BUILD=${LV_BUILD_ROOT:?} SRC=${LV_SOURCE_ROOT:?}
    LVSH=$BUILD/lvsh SUP=$BUILD/litevirt-supervisor
    [ -x "$LVSH" ] && [ -x "$SUP" ] || { echo "skip: lvsh/supervisor not built"; exit 77; }
    sh "$SRC/tests/qemu/build-guest.sh" "$BUILD/test-guest" || exit 77
}

hosts_guest_begin() { # after T and G are set: FAILS, HELPERS, the traps, sanitizer reports to files
    FAILS=0 HELPERS=""
    trap hosts_guest_cleanup EXIT
    trap 'exit 1' INT TERM # (cleanup once, then end: the test does not go on)
    hosts_guest_sanitizer_to_files
}

hosts_guest_cleanup() { # helpers, the guest on both hosts, its QEMUs, the hosts, $T
    local h f pid
    for h in $HELPERS; do kill "$h" 2>/dev/null; wait "$h" 2>/dev/null; done
    for h in a b; do hosts_on "$h" "$LVSH" destroy $G >/dev/null 2>&1; done
    for f in "$T"/*/run/*/qemu.json; do
        [ -e "$f" ] || continue
        pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$f")
        [ -n "$pid" ] && grep -q "$T" "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid"
    done
    hosts_destroy
    if [ "$FAILS" != 0 ]; then
        for f in "$T"/*/log/*.log; do echo "--- $f"; tail -n 25 "$f"; done
    fi
    rm -rf "$T"
}

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok   $*"; }

wait_for() { # FILE PATTERN SECONDS
    local i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -aq "$2" "$1" 2>/dev/null && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
# The last counter the guest printed, from complete lines only: the
# console may be read in the middle of "LV-COUNTER 123" ("LV-COUNTER 1"
# read as 1 made the next wait for 4 wait for a number long gone).
last_counter() { grep -ao 'LV-COUNTER [0-9]*[^0-9]' "$1" | tail -n1 | tr -dc '0-9'; }
# FILE N SECONDS: the guest has counted to N or beyond on that console.
# Not "the line N": a line printed just before a switch-over can be lost
# with the source's console (its supervisor ends), so after a migration
# the next line seen may be above N.
wait_counter() {
    local i=0 v
    while [ $i -lt $(($3 * 10)) ]; do
        v=$(last_counter "$1")
        [ -n "$v" ] && [ "$v" -ge "$2" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
console() { # HOST FILE [SECONDS]: capture the guest's console there
    $(hosts_prefix "$1") timeout "${3:-120}" "$LVSH" console $G < /dev/null > "$2" 2>&1 &
    HELPERS="$HELPERS $!"
}
counts_on() { # HOST FILE WHAT: the guest's counter goes on in its console capture FILE
    local c
    wait_for "$2" "LV-COUNTER [0-9]" 30
    c=$(last_counter "$2")
    wait_counter "$2" $((${c:-0} + 2)) 30 && ok "guest counts on $1 $3" ||
        fail "guest does not count on $1 $3: $(tail -c 300 "$2")"
}
hosts_guest_define() { # CMDLINE DISK [FEATURES [VCPU]]: a 128 MiB test guest $G (BUILD's test-guest)
    # with one raw virtio disk (and <features>FEATURES</features>, VCPU as its <vcpu>, else
    # <vcpu>1</vcpu>), defined and started on A
    cat > "$T/guest.xml" <<XML
<domain type='qemu'>
  <name>$G</name>
  <memory unit='MiB'>128</memory>
  ${4:-<vcpu>1</vcpu>}
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$BUILD/test-guest/vmlinuz</kernel><initrd>$BUILD/test-guest/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet $1</cmdline></os>${3:+
  <features>$3</features>}
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>
XML
    local out
    hosts_on a "$LVSH" define "$T/guest.xml" >/dev/null || fail "define on A"
    out=$(hosts_on a "$LVSH" start $G 2>&1) || fail "start on A: $out"
}
# Sanitizer builds: reports of every process (detached supervisors have no
# stderr) go to $T/sanitizer*, which hosts_guest_sanitizer_check fails on.
hosts_guest_sanitizer_to_files() {
    if [ -n "${ASAN_OPTIONS:-}" ]; then
        export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$T/sanitizer"
        export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$T/sanitizer"
    fi
}
hosts_guest_sanitizer_check() {
    if ls "$T"/sanitizer* >/dev/null 2>&1; then
        fail "sanitizer reports: $(cat "$T"/sanitizer*)"
    fi
}
