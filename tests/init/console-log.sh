#!/bin/bash
# The console log $LITEVIRT_LOGDIR/NAME.console.log keeps what a guest
# printed, also after it ended (a boot that failed can be read), and is
# bounded: past 1 MiB it becomes NAME.console.log.1 and a new one starts.
# An init that exits non-zero at once is a failed start (shut off
# (failed)), not a poweroff.
# Real containers (busybox), root.
set -u
. "${LV_SOURCE_ROOT:?}/tests/lib/lvtest.sh"
. "${LV_SOURCE_ROOT:?}/tests/lib/cgroups.sh"
lvtest_tree conlog
P=cl$$
cleanup() {
    for n in "${P}a" "${P}b"; do
        "$LVSH" destroy "$n" >/dev/null 2>&1
        "$LVSH" undefine "$n" >/dev/null 2>&1
        for d in $(cgroup_dirs "$n"); do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
for a in seq head tr; do ln -s busybox "$T/rootfs/bin/$a"; done
define() { # NAME SCRIPT
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
# a: says why it gives up, then exits at once
define "${P}a" "echo 'LV-BOOT-FAILED: no root device'; exit 1"
"$LVSH" start "${P}a" >/dev/null 2>&1
for _i in $(seq 100); do [ "$("$LVSH" domstate "${P}a")" = "shut off" ] && break; sleep 0.1; done
grep -q "LV-BOOT-FAILED: no root device" "$LITEVIRT_LOGDIR/${P}a.console.log" 2>/dev/null &&
    ok "the console of a guest that ended is kept in ${P}a.console.log" || fail "console log of ${P}a: $(cat "$LITEVIRT_LOGDIR/${P}a.console.log" 2>&1)"

tail -n 3 "$LITEVIRT_LOGDIR/${P}a.log" | grep -q -- "-> shutoff (failed) on start-failed" &&
    ok "an init exiting non-zero at once: shut off (failed), not a poweroff" || fail "${P}a's end: $(tail -n 3 "$LITEVIRT_LOGDIR/${P}a.log")"

# b: prints ~1.5 MiB (24000 lines of 64 bytes), then a last line
define "${P}b" "i=0; while [ \$i -lt 24000 ]; do echo \"line \$i ................................................\"; i=\$((i+1)); done; echo LV-LAST-LINE; while :; do sleep 1; done"
"$LVSH" start "${P}b" >/dev/null || fail "start ${P}b"
for _i in $(seq 600); do grep -q LV-LAST-LINE "$LITEVIRT_LOGDIR/${P}b.console.log" 2>/dev/null && break; sleep 0.1; done
cur=$(stat -c %s "$LITEVIRT_LOGDIR/${P}b.console.log" 2>/dev/null || echo 0)
old=$(stat -c %s "$LITEVIRT_LOGDIR/${P}b.console.log.1" 2>/dev/null || echo 0)
grep -q LV-LAST-LINE "$LITEVIRT_LOGDIR/${P}b.console.log" && ok "the newest output is in ${P}b.console.log" || fail "no LV-LAST-LINE"
[ "$cur" -le 1048576 ] && [ "$old" -le 1048576 ] && [ "$old" -gt 1000000 ] &&
    ok "bounded: console.log $cur bytes, console.log.1 $old bytes (limit 1 MiB each)" ||
    fail "sizes: console.log $cur, console.log.1 $old"
"$LVSH" destroy "${P}b" >/dev/null
lvtest_sanitizer_check
[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
