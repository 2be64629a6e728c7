#!/bin/sh
# packaging/litevirt-guests run directly (through its LSB init script
# packaging/litevirt-guests.init), as a host without systemd runs it at boot
# and shutdown: `start` starts the guests marked with `lvsh
# autostart` (and only those), `stop` shuts every running guest down in
# parallel: a graceful one ends by itself, one that ignores the request is
# destroyed after SHUTDOWN_TIMEOUT, and the whole stop takes about one
# timeout, not one per guest. Real containers (busybox), root; everything
# in a temporary LITEVIRT_* tree.
set -u

. "${LV_SOURCE_ROOT:?}/tests/lib/lvtest.sh"
lvtest_tree guests
GUESTS=${LV_SOURCE_ROOT:?}/packaging/litevirt-guests
export LITEVIRT_SYSTEMD_DIR=$T/no-systemd LVSH
P=lg$$
. "${LV_SOURCE_ROOT:?}/tests/lib/cgroups.sh"

cleanup() {
    for n in "${P}a" "${P}b" "${P}c"; do
        "$LVSH" destroy "$n" >/dev/null 2>&1
        "$LVSH" undefine "$n" >/dev/null 2>&1
        for d in $(cgroup_dirs "$n"); do rmdir "$d" 2>/dev/null; done
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

define() { # NAME INIT-SCRIPT
    cat >"$T/$1.xml" <<EOX
<domain type='lxc'>
  <name>$1</name>
  <memory unit='KiB'>65536</memory>
  <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>$2</initarg></os>
  <devices>
    <filesystem type='mount'><source dir='$T/rootfs'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>
EOX
    "$LVSH" define "$T/$1.xml" >/dev/null || fail "define $1"
}
define "${P}a" "trap 'echo graceful > /mark-a; exit 0' TERM; while :; do sleep 1; done"
define "${P}b" "trap '' TERM; while :; do sleep 1; done"
define "${P}c" "trap 'exit 0' TERM; while :; do sleep 1; done"
"$LVSH" autostart "${P}a" >/dev/null && "$LVSH" autostart "${P}b" >/dev/null || fail "lvsh autostart"
[ -L "$T/conf/autostart/${P}a.xml" ] && ok "autostart marked in \$CONFDIR/autostart" || fail "no autostart link"

# through the LSB init script, as sysvinit runs it
INIT=$LV_SOURCE_ROOT/packaging/litevirt-guests.init
export LITEVIRT_GUESTS=$GUESTS LITEVIRT_GUESTS_STATE=$T/started
"$INIT" status >/dev/null; rc=$?
[ $rc = 3 ] && ok "init script status before start: 3 (not running)" || fail "status before start: $rc"
out=$("$INIT" start 2>&1) || fail "litevirt-guests.init start: $out"
"$INIT" status >/dev/null && ok "init script status after start: 0" || fail "status after start"
for n in "${P}a" "${P}b"; do
    [ "$("$LVSH" domstate "$n")" = running ] && ok "start: $n running" || fail "start: $n $("$LVSH" domstate "$n")"
done
[ "$("$LVSH" domstate "${P}c")" = "shut off" ] && ok "start: ${P}c (no autostart) not started" || fail "${P}c started"
out=$("$GUESTS" start 2>&1) || fail "litevirt-guests start again: $out"
ok "start again: running guests left alone"

"$LVSH" start "${P}c" >/dev/null || fail "lvsh start ${P}c"
t0=$(date +%s)
SHUTDOWN_TIMEOUT=3 "$INIT" stop >"$T/stop.out" 2>&1 || fail "litevirt-guests.init stop: $(cat "$T/stop.out")"
took=$(($(date +%s) - t0))
l=$("$LVSH" list --name | tr -d '\n')
[ -z "$l" ] && ok "stop: no guest running" || fail "stop: still running: $l"
[ "$(cat "$T/rootfs/mark-a" 2>/dev/null)" = graceful ] && ok "stop: ${P}a shut down gracefully" || fail "stop: ${P}a got no shutdown"
grep -q "did not shut down within 3 s: destroying it" "$T/log/${P}b.log" && ok "stop: ${P}b destroyed after SHUTDOWN_TIMEOUT" || fail "stop: ${P}b: $(tail -n 3 "$T/log/${P}b.log")"
# in parallel: about one timeout (3 s) for all three, not 3 s per guest
[ "$took" -lt 9 ] && ok "stop took $took s (in parallel)" || fail "stop took $took s"
lvtest_sanitizer_check
[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
