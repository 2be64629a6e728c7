#!/bin/bash
# The OpenRC services of packaging/openrc run directly with Debian's
# OpenRC 0.45 (openrc, librc1, libeinfo1 unpacked over the test system's
# root: installing the package on this host would add every sysvinit
# service of the host to OpenRC's runlevels), in the booted test system of
# systemd-lib.sh (where cgroups, /proc and /dev are set up; OpenRC is told
# it booted the system with /run/openrc/softlevel):
#   litevirt.NAME    start returns once the guest runs, the supervisor is
#                    supervise-daemon's child and respawned when it dies,
#                    stop shuts the guest down gracefully; an undefined
#                    guest fails at once
#   litevirt-guests  start starts only the guests marked for autostart,
#                    stop (the host's shutdown) shuts all running ones down
set -u
. "${LV_SOURCE_ROOT:?}/tests/init/systemd-lib.sh"
init_setup

DEBS=${LV_OPENRC_DEBS:-/var/cache/litevirt-tests/openrc-debs}
if ! ls "$DEBS"/openrc_*.deb "$DEBS"/librc1_*.deb "$DEBS"/libeinfo1_*.deb >/dev/null 2>&1; then
    mkdir -p "$DEBS.tmp.$$"
    (cd "$DEBS.tmp.$$" && apt-get download openrc librc1 libeinfo1 >/dev/null 2>&1) ||
        { rm -rf "$DEBS.tmp.$$"; echo "SKIP: apt-get download openrc librc1 libeinfo1 failed"; exit 77; }
    mkdir -p "$DEBS" && mv "$DEBS.tmp.$$"/*.deb "$DEBS"/ && rm -rf "$DEBS.tmp.$$"
fi
INIT_LAYER=$T/openrc
mkdir -p "$INIT_LAYER/etc/init.d"
for d in "$DEBS"/*.deb; do dpkg-deb -x "$d" "$INIT_LAYER" || { echo "FAIL: dpkg-deb -x $d"; exit 1; }; done
# the root has a merged /usr: a /sbin directory in the layer would hide it
for d in bin sbin lib lib64; do
    [ -d "$INIT_LAYER/$d" ] || continue
    mkdir -p "$INIT_LAYER/usr/$d" && cp -a "$INIT_LAYER/$d/." "$INIT_LAYER/usr/$d/" && rm -rf "${INIT_LAYER:?}/$d"
done
for s in litevirt litevirt-guests; do
    install -m 0755 "$LV_BUILD_ROOT/supervisor/openrc-$s" "$INIT_LAYER/etc/init.d/$s"
done
: >"$INIT_LAYER/etc/insserv.conf" # OpenRC reads it (Debian's LSB dependencies)
for n in g1 nosuch; do ln -s litevirt "$INIT_LAYER/etc/init.d/litevirt.$n"; done

init_boot || exit 1
LVSH=/usr/local/bin/lvsh
# OpenRC's state (/run/openrc) as at boot; its sysinit runlevel is empty
out=$(in_sys "openrc sysinit 2>&1") || fail "openrc sysinit: $out"
GUEST_INIT='trap "echo graceful > /mark-g1; exit 0" TERM; while :; do sleep 1; done' sys_define_guest g1

out=$(in_sys "rc-service litevirt.g1 start 2>&1") && ok "rc-service litevirt.g1 start" || fail "start: $out"
[ "$(in_sys "$LVSH domstate g1")" = running ] && ok "g1 running when start returned" || fail "g1: $(in_sys "$LVSH domstate g1")"
in_sys "rc-service litevirt.g1 status" | grep -q started && ok "status: started" || fail "status: $(in_sys "rc-service litevirt.g1 status 2>&1")"
sv=$(in_sys "cat /run/litevirt/g1/supervisor.pid")
parent=$(in_sys "cat /proc/\$(awk '{ print \$4 }' /proc/$sv/stat)/comm")
[ "${parent#supervise-daemo}" != "$parent" ] && ok "the supervisor ($sv) is supervise-daemon's child" || fail "parent of $sv: '$parent'"
in_sys "tr '\\0' ' ' < /proc/$sv/cmdline" | grep -q -- "--foreground g1" && ok "run with --foreground" || fail "cmdline: $(in_sys "tr '\\0' ' ' < /proc/$sv/cmdline")"

# the supervisor dies: supervise-daemon starts it again, the guest runs again
in_sys "kill -KILL $sv"
wait_for 30 "test \"\$(cat /run/litevirt/g1/supervisor.pid 2>/dev/null)\" != $sv && $LVSH domstate g1 | grep -qx running" &&
    ok "supervisor killed: respawned, g1 running again" || fail "after kill: $(in_sys "$LVSH domstate g1")"

in_sys "rm -f /srv/bb/mark-g1"
out=$(in_sys "rc-service litevirt.g1 stop 2>&1") && ok "rc-service litevirt.g1 stop" || fail "stop: $out"
[ "$(in_sys "cat /srv/bb/mark-g1 2>/dev/null")" = graceful ] && ok "stop: g1 shut down gracefully" || fail "stop: g1 got no shutdown request"
[ "$(in_sys "$LVSH domstate g1")" = "shut off" ] && ok "g1 shut off" || fail "g1 after stop: $(in_sys "$LVSH domstate g1")"
in_sys "test ! -e /run/litevirt/g1" && ok "state directory removed" || fail "/run/litevirt/g1 left"

out=$(in_sys "timeout 20 rc-service litevirt.nosuch start 2>&1") && fail "undefined guest started: $out" || ok "undefined guest: start fails ($(echo "$out" | grep -m1 -o "failed to get.*\|nosuch.*"))"
in_sys "pgrep -f 'litevirt-supervisor --foreground  *nosuch'" && fail "a supervisor for nosuch runs"

# litevirt-guests: boot-time start of the autostart guests, host shutdown
sys_define_guest g2
GUEST_INIT='trap "echo graceful > /mark-g3; exit 0" TERM; while :; do sleep 1; done' sys_define_guest g3
in_sys "rm -f /srv/bb/mark-g3"
# as on a host without systemd (the test system runs it): autostart is
# the link lvsh keeps, for lvsh here and for litevirt-guests through its
# settings file
in_sys "echo 'export LITEVIRT_SYSTEMD_DIR=/nonexistent' > /etc/default/litevirt-guests"
in_sys "LITEVIRT_SYSTEMD_DIR=/nonexistent $LVSH autostart g2" >/dev/null || fail "lvsh autostart g2"
out=$(in_sys "rc-service litevirt-guests start 2>&1") && ok "rc-service litevirt-guests start" || fail "litevirt-guests start: $out"
[ "$(in_sys "$LVSH domstate g2")" = running ] && ok "autostart g2 running" || fail "g2: $(in_sys "$LVSH domstate g2")"
[ "$(in_sys "$LVSH domstate g3")" = "shut off" ] && ok "g3 (no autostart) not started" || fail "g3: $(in_sys "$LVSH domstate g3")"
in_sys "$LVSH start g3" >/dev/null || fail "lvsh start g3"
out=$(in_sys "rc-service litevirt-guests stop 2>&1") && ok "rc-service litevirt-guests stop" || fail "litevirt-guests stop: $out"
l=$(in_sys "$LVSH list --name" | tr -d '\n')
[ -z "$l" ] && ok "stop: no guest running" || fail "stop: still running: $l"
[ "$(in_sys "cat /srv/bb/mark-g3 2>/dev/null")" = graceful ] && ok "stop: g3 shut down gracefully" || fail "stop: g3 got no shutdown request"

init_halt || fail "the test system did not power off"
[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
