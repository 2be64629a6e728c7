#!/bin/bash
# A litevirt guest supervised by s6 (Debian's s6) with the example service
# directory packaging/s6/litevirt-example: s6 learns readiness from the
# supervisor's --ready-fd line ("ok\n" on notification-fd 3), so
# s6-svwait -U returns once the guest runs; a guest that cannot start never
# becomes ready; s6-svc -d shuts the guest down. Real containers, root.
set -u
. "${LV_SOURCE_ROOT:?}/tests/lib/lvtest.sh"
. "${LV_SOURCE_ROOT:?}/tests/lib/cgroups.sh"
for t in s6-svscan s6-svwait s6-svc s6-svstat s6-svscanctl s6-svok; do
    command -v $t >/dev/null || { echo "SKIP: $t missing (apt-get install s6)"; exit 77; }
done
lvtest_tree s6
N=s6g$$
SCAN=$T/scan
SVSCAN=""
cleanup() {
    if [ -n "$SVSCAN" ]; then
        s6-svc -d "$SCAN/$N" "$SCAN/nosuch$N" 2>/dev/null
        s6-svwait -D -t 20000 "$SCAN/$N" 2>/dev/null
        s6-svscanctl -t "$SCAN" 2>/dev/null
        for _i in $(seq 50); do kill -0 "$SVSCAN" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SVSCAN" 2>/dev/null
    fi
    lvtest_guest_remove "$N"
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cat >"$T/$N.xml" <<EOX
<domain type='lxc'>
  <name>$N</name>
  <memory unit='KiB'>65536</memory>
  <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>trap 'exit 0' TERM; while :; do sleep 1; done</initarg></os>
  <devices>
    <filesystem type='mount'><source dir='$T/rootfs'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>
EOX
"$LVSH" define "$T/$N.xml" >/dev/null || fail "define"

mkdir -p "$SCAN"
for s in "$N" "nosuch$N"; do
    cp -r "$LV_SOURCE_ROOT/packaging/s6/litevirt-example" "$SCAN/$s"
done
PATH=$LV_BUILD_ROOT:$PATH s6-svscan "$SCAN" </dev/null >"$T/svscan.log" 2>&1 &
SVSCAN=$!

# until s6-supervise runs on both (s6-svwait fails at once before)
for _i in $(seq 100); do
    s6-svok "$SCAN/$N" && s6-svok "$SCAN/nosuch$N" && break
    sleep 0.1
done
if s6-svwait -U -t 30000 "$SCAN/$N"; then
    ok "s6-svwait -U: ready ($(s6-svstat "$SCAN/$N"))"
else
    fail "never ready: $(s6-svstat "$SCAN/$N"); $(tail -n 5 "$T/svscan.log"); $(tail -n 5 "$LITEVIRT_LOGDIR/$N.log")"
fi
[ "$("$LVSH" domstate "$N")" = running ] && ok "the guest runs when s6 says ready" || fail "domstate $("$LVSH" domstate "$N")"
# A guest that has no definition never becomes ready (its supervisor exits
# with status 6 and s6 retries it).
s6-svwait -U -t 2000 "$SCAN/nosuch$N" 2>/dev/null && fail "undefined guest reported ready" ||
    ok "undefined guest: never ready ($(s6-svstat "$SCAN/nosuch$N"))"
s6-svc -d "$SCAN/nosuch$N"

s6-svc -d "$SCAN/$N"
s6-svwait -D -t 20000 "$SCAN/$N" && ok "s6-svc -d: down" || fail "s6-svc -d: $(s6-svstat "$SCAN/$N")"
[ "$("$LVSH" domstate "$N")" = "shut off" ] && tail -n 3 "$LITEVIRT_LOGDIR/$N.log" | grep -q -- "-> shutoff (shutdown)" &&
    ok "s6-svc -d: the guest was shut down" || fail "after s6-svc -d: $(tail -n 3 "$LITEVIRT_LOGDIR/$N.log")"
lvtest_sanitizer_check
[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
