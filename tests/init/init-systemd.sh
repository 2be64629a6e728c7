#!/bin/bash
# litevirt@.service under a real systemd booted as PID 1 (systemd-nspawn -b,
# see systemd-lib.sh). Cases:
#   unit           on the layout nspawn gives here (hybrid): start reaches
#                  active (Type=notify) with STATUS= the guest's state and
#                  the guest's cgroups below the unit; stop; a crashed guest
#                  fails the unit (status 3, not restarted); a bad definition
#                  fails with 6 and is not retried; a second supervisor 4;
#                  WatchdogSec= is fed.
#   unit-legacy    start/stop with SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0
#   unit-unified   start/stop with SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 (here
#                  cgroup2 offers no memory controller: <memory> degrades)
#   machined       the running guest in machinectl list/status, gone after
#                  stop; not registered (libsystemd not loaded) when off
set -u
. "${LV_SOURCE_ROOT:?}/tests/init/systemd-lib.sh"
CASE=${1:?case}
init_setup

# start NAME: systemctl start, then check what a user would.
start_ok() {
    local out
    out=$(in_sys "systemctl start litevirt@$1 2>&1") || { fail "systemctl start litevirt@$1: $out"; in_sys "journalctl -u litevirt@$1 --no-pager | tail -n 20"; return 1; }
    [ "$(sys_prop "litevirt@$1" ActiveState)" = active ] && ok "litevirt@$1 active" || fail "litevirt@$1 not active"
    st=$(sys_prop "litevirt@$1" StatusText)
    [ "$st" = "Guest '$1' is running (booted)" ] && ok "STATUS= '$st'" || fail "StatusText '$st'"
    [ "$(in_sys "/usr/local/bin/lvsh domstate $1")" = running ] && ok "lvsh domstate: running" || fail "lvsh domstate $1"
}

# The guest's cgroup below the unit's in the writable hierarchies.
check_cgroups_below_unit() { # NAME HIERARCHY-DIRS...
    local n=$1 d u
    shift
    u=$(sys_prop "litevirt@$n" ControlGroup)
    for d in "$@"; do
        # the guest's processes are in its payload cgroup (docs/lxc.md)
        if in_sys "grep -q . /sys/fs/cgroup/$d$u/litevirt-$n/payload/cgroup.procs"; then
            ok "guest cgroup below the unit in $d ($u/litevirt-$n)"
        else
            fail "no populated $d$u/litevirt-$n/payload"
            in_sys "cat /proc/\$(systemctl show -p MainPID --value litevirt@$n)/cgroup"
        fi
    done
}

# The guest's init (as the test system sees it): first of its cgroup.
guest_init() { in_sys "head -n1 /sys/fs/cgroup/systemd$(sys_prop "litevirt@$1" ControlGroup)/litevirt-$1/payload/cgroup.procs"; }

stop_ok() { # NAME
    in_sys "systemctl stop litevirt@$1" || fail "systemctl stop litevirt@$1"
    local s r
    s=$(sys_prop "litevirt@$1" ActiveState)
    r=$(sys_prop "litevirt@$1" Result)
    [ "$s" = inactive ] && [ "$r" = success ] && ok "stopped: $s, $r" || fail "after stop: $s, $r"
    in_sys "test ! -e /run/litevirt/$1" && ok "state directory removed" || fail "/run/litevirt/$1 left"
    in_sys "find /sys/fs/cgroup -name litevirt-$1 | grep -q ." && fail "cgroup litevirt-$1 left" || ok "no cgroup left"
}

case $CASE in
unit)
    init_boot || exit 1
    sys_define_guest g1
    start_ok g1
    check_cgroups_below_unit g1 systemd unified
    in_sys "journalctl -u litevirt@g1 --no-pager" | grep -q "hierarchy 'memory' is not writable" &&
        ok "read-only hierarchies named in the log" || fail "no warning about the read-only memory hierarchy"
    stop_ok g1

    # crash: the guest's init killed by a signal, on_crash destroy
    sys_define_guest g2 '<on_crash>destroy</on_crash>'
    start_ok g2
    init=$(guest_init g2)
    in_sys "kill -KILL $init"
    wait_for 20 "systemctl is-failed -q litevirt@g2" && ok "crash: unit failed" || fail "crash: unit is $(sys_prop litevirt@g2 ActiveState)"
    [ "$(sys_prop litevirt@g2 ExecMainStatus)" = 3 ] && ok "crash: exit status 3" || fail "crash: exit status $(sys_prop litevirt@g2 ExecMainStatus)"
    sleep 1 # RestartSec=100ms: a restart would have happened by now
    [ "$(sys_prop litevirt@g2 NRestarts)" = 0 ] && ok "crash (on_crash destroy): not restarted" || fail "crash: restarted $(sys_prop litevirt@g2 NRestarts) times"

    # on_crash restart: the supervisor restarts the guest, the unit stays active
    sys_define_guest g3 '<on_crash>restart</on_crash>'
    start_ok g3
    pid=$(sys_prop litevirt@g3 MainPID)
    init=$(guest_init g3)
    in_sys "kill -KILL $init"
    wait_for 20 "systemctl show -p StatusText --value litevirt@g3 | grep -q 'running (crashed)'" &&
        ok "on_crash restart: STATUS= running (crashed)" || fail "on_crash restart: StatusText $(sys_prop litevirt@g3 StatusText)"
    [ "$(sys_prop litevirt@g3 MainPID)" = "$pid" ] && [ "$(sys_prop litevirt@g3 ActiveState)" = active ] &&
        ok "on_crash restart: same supervisor, unit active" || fail "on_crash restart: unit $(sys_prop litevirt@g3 ActiveState)"
    stop_ok g3

    # a bad definition: status 6, not retried
    in_sys "echo '<domain type=\"lxc\"><name>bad</name>' > /etc/litevirt/guests/bad.xml"
    in_sys "systemctl start litevirt@bad" 2>/dev/null && fail "bad definition: start succeeded"
    sleep 1
    [ "$(sys_prop litevirt@bad ExecMainStatus)" = 6 ] && ok "bad definition: exit status 6" || fail "bad definition: exit status $(sys_prop litevirt@bad ExecMainStatus)"
    [ "$(sys_prop litevirt@bad NRestarts)" = 0 ] && ok "bad definition: not retried" || fail "bad definition: retried $(sys_prop litevirt@bad NRestarts) times"
    in_sys "systemctl show -p StatusText --value litevirt@bad" | grep -q "^Failed: .*bad.xml" && ok "bad definition: STATUS= names the file" || fail "bad definition: StatusText $(sys_prop litevirt@bad StatusText)"

    # already has a supervisor (started by lvsh): status 4, not retried
    sys_define_guest g4
    in_sys "/usr/local/bin/lvsh start g4" >/dev/null || fail "lvsh start g4"
    in_sys "systemctl start litevirt@g4" 2>/dev/null && fail "second supervisor: start succeeded"
    sleep 1
    [ "$(sys_prop litevirt@g4 ExecMainStatus)" = 4 ] && [ "$(sys_prop litevirt@g4 NRestarts)" = 0 ] &&
        ok "already supervised: exit status 4, not retried" || fail "already supervised: status $(sys_prop litevirt@g4 ExecMainStatus), restarts $(sys_prop litevirt@g4 NRestarts)"
    [ "$(in_sys "/usr/local/bin/lvsh domstate g4")" = running ] && ok "the running guest is untouched" || fail "g4 not running any more"
    in_sys "/usr/local/bin/lvsh destroy g4" >/dev/null

    # WatchdogSec=: fed, so not killed
    in_sys "mkdir -p /run/systemd/system/litevirt@g5.service.d && printf '[Service]\nWatchdogSec=1s\n' > /run/systemd/system/litevirt@g5.service.d/wd.conf && systemctl daemon-reload"
    sys_define_guest g5
    start_ok g5
    pid=$(sys_prop litevirt@g5 MainPID)
    sleep 3
    [ "$(sys_prop litevirt@g5 MainPID)" = "$pid" ] && [ "$(sys_prop litevirt@g5 ActiveState)" = active ] &&
        ok "WatchdogSec=1s: still active after 3 s" || fail "watchdog: $(sys_prop litevirt@g5 ActiveState) $(sys_prop litevirt@g5 Result)"
    stop_ok g5
    ;;
autostart)
    # lvsh autostart enables the unit; across a reboot of the test system
    # the marked guests come up, the others do not; then poweroff with the
    # guests running: a graceful one shuts down, one that ignores the
    # request is destroyed after host.conf shutdown_timeout (10 s), and
    # the system goes down within a bounded time.
    init_boot || exit 1
    LVSH=/usr/local/bin/lvsh
    GUEST_INIT='trap "echo graceful > /mark-g1; exit 0" TERM; while :; do sleep 1; done' sys_define_guest g1
    GUEST_INIT='trap "" TERM; while :; do sleep 1; done' sys_define_guest g2
    sys_define_guest g3
    in_sys "rm -f /srv/bb/mark-g1"
    out=$(in_sys "$LVSH autostart g1 && $LVSH autostart g2") && ok "lvsh autostart g1, g2" || fail "lvsh autostart: $out"
    [ "$(in_sys "systemctl is-enabled litevirt@g1.service")" = enabled ] && ok "litevirt@g1.service enabled" || fail "litevirt@g1.service not enabled"
    in_sys "$LVSH dominfo g1" | grep -q "^Autostart: *enable" && ok "dominfo: Autostart enable" || fail "dominfo g1: $(in_sys "$LVSH dominfo g1" | grep Autostart)"
    in_sys "$LVSH dominfo g3" | grep -q "^Autostart: *disable" && ok "dominfo g3: Autostart disable" || fail "dominfo g3"
    l=$(in_sys "$LVSH list --all --autostart --name" | tr '\n' ' ')
    [ "$l" = "g1 g2  " ] && ok "list --all --autostart: $l" || fail "list --all --autostart: '$l'"
    # disable/enable round trip
    in_sys "$LVSH autostart --disable g2 >/dev/null && systemctl is-enabled -q litevirt@g2.service" && fail "autostart --disable g2: still enabled"
    in_sys "$LVSH autostart g2 >/dev/null"

    # a network marked with net-autostart (bridge only: no dnsmasq here),
    # started at boot by litevirt-guests.service before the guests' units:
    # g4, autostarted, has an interface on it
    in_sys "mkdir -p /etc/litevirt && printf '<network><name>n1</name><bridge name=\"lvn1\"/></network>' > /tmp/n1.xml && $LVSH net-define /tmp/n1.xml && $LVSH net-autostart n1 && systemctl enable -q litevirt-guests.service" >/dev/null ||
        fail "net-define/net-autostart n1, enable litevirt-guests.service"
    [ "$(in_sys "$LVSH net-list --all --autostart --name" | tr -d '\n')" = n1 ] && ok "net-list --autostart: n1" || fail "net-list --autostart: $(in_sys "$LVSH net-list --all --autostart")"
    sys_define_guest g4 "" "<interface type='network'><source network='n1'/></interface>"
    in_sys "$LVSH autostart g4" >/dev/null || fail "lvsh autostart g4"

    in_sys "systemctl reboot --no-block"
    wait_nspawn_end 120 && ok "test system rebooted (nspawn ended)" || fail "reboot did not end the system"
    init_boot || exit 1
    wait_for 30 "$LVSH net-list | grep -q '^ n1 *active'" && in_sys "ip link show lvn1" >/dev/null &&
        ok "after reboot: network n1 active (bridge lvn1)" || fail "after reboot: n1 $(in_sys "$LVSH net-list --all; ls /etc/litevirt/networks"; in_sys "journalctl -u litevirt-guests --no-pager | tail -n 5")"
    wait_for 30 "systemctl is-active -q litevirt@g4" && in_sys "ip -o link show master lvn1 | grep -q ." &&
        ok "after reboot: g4 active, its interface a port of lvn1" || fail "after reboot: g4 $(sys_prop litevirt@g4 ActiveState): $(in_sys "journalctl -u litevirt@g4 --no-pager | tail -n 5")"
    for n in g1 g2; do
        wait_for 30 "systemctl is-active -q litevirt@$n" && ok "after reboot: litevirt@$n active" || fail "after reboot: litevirt@$n $(sys_prop litevirt@$n ActiveState)"
    done
    [ "$(in_sys "$LVSH domstate g1")" = running ] && ok "after reboot: g1 running" || fail "after reboot: g1 $(in_sys "$LVSH domstate g1")"
    [ "$(in_sys "$LVSH domstate g3")" = "shut off" ] && ok "after reboot: g3 (no autostart) shut off" || fail "g3: $(in_sys "$LVSH domstate g3")"

    t0=$(date +%s)
    init_halt && ok "poweroff with running guests took $(($(date +%s) - t0)) s" || fail "poweroff did not finish in 120 s"
    [ "$(cat "$T/upper/srv/bb/mark-g1" 2>/dev/null)" = graceful ] && ok "poweroff: g1 shut down gracefully" || fail "poweroff: g1 got no shutdown request"
    grep -q "did not shut down within 10 s: destroying it" "$T/upper/var/log/litevirt/g2.log" 2>/dev/null &&
        ok "poweroff: g2 (ignores shutdown) destroyed after the timeout" || fail "poweroff: g2's log: $(tail -n 3 "$T/upper/var/log/litevirt/g2.log" 2>&1)"
    [ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
    exit 0
    ;;
machined)
    # A running guest is registered with systemd-machined (machinectl list
    # and status show it, with its unit and leader), unregistered when it
    # ends; libsystemd is mapped only on that path. USS of the supervisor
    # with and without the registration (LITEVIRT_MACHINED=0) is printed.
    init_boot || exit 1
    LVSH=/usr/local/bin/lvsh
    uss() { in_sys "awk '/^Private_(Clean|Dirty):/ { s += \$2 } END { print s }' /proc/$1/smaps_rollup"; }
    sys_define_guest g1
    # once before: both measured starts then find the definition's model
    # kept by the first (no parse), as the last one does
    in_sys "systemctl start litevirt@g1 && systemctl stop litevirt@g1"
    start_ok g1
    init=$(guest_init g1)
    sv=$(sys_prop litevirt@g1 MainPID)
    l=$(in_sys "machinectl list --no-legend --no-pager")
    echo "$l" | grep -qE '^g1 +container +litevirt' && ok "machinectl list: g1 container litevirt" || fail "machinectl list: '$l'"
    st=$(in_sys "machinectl status g1 --no-pager")
    echo "$st" | grep -q "Unit: litevirt@g1.service" && ok "machinectl status: unit litevirt@g1.service" || fail "machinectl status: no unit: $st"
    echo "$st" | grep -qE "Leader: $init\b" && ok "machinectl status: leader $init (the guest's init)" || fail "machinectl status: leader (init $init): $st"
    echo "$st" | grep -q "Root: /srv/bb" && ok "machinectl status: root /srv/bb" || fail "machinectl status: no root: $st"
    in_sys "grep -q libsystemd /proc/$sv/maps" && fail "libsystemd still mapped after the registration" || ok "libsystemd unloaded after the call"
    uss_with=$(uss "$sv")
    stop_ok g1
    l=$(in_sys "machinectl list --no-legend --no-pager")
    echo "$l" | grep -q '^g1 ' && fail "g1 still registered after stop: $l" || ok "unregistered on stop"

    # lvsh start from a shell (in a unit, as a login session's scope is):
    # registered the same way; destroy unregisters
    in_sys "systemd-run -q --scope $LVSH start g1" >/dev/null || fail "lvsh start g1"
    in_sys "machinectl show g1 -p Class --value" | grep -qx container && ok "lvsh start: registered" || fail "lvsh start: not registered: $(in_sys "grep -i machine /var/log/litevirt/g1.log")"
    in_sys "$LVSH destroy g1" >/dev/null
    wait_for 10 "! machinectl show g1 >/dev/null 2>&1" && ok "lvsh destroy: unregistered" || fail "lvsh destroy: still registered"

    # the guest ends while its supervisor stays (on_crash preserve):
    # unregistered (machined itself would keep it while the unit is active)
    sys_define_guest g2 '<on_crash>preserve</on_crash>'
    in_sys "systemd-run -q --scope $LVSH start g2" >/dev/null || fail "lvsh start g2"
    in_sys "machinectl show g2 >/dev/null 2>&1" || fail "g2 not registered"
    in_sys "kill -KILL \$(machinectl show g2 -p Leader --value)"
    wait_for 20 "$LVSH domstate g2 | grep -qx crashed" || fail "g2 not crashed: $(in_sys "$LVSH domstate g2")"
    in_sys "machinectl show g2 >/dev/null 2>&1" && fail "crashed (preserved) g2 still registered" || ok "crashed guest unregistered, its supervisor still running"
    in_sys "$LVSH destroy g2" >/dev/null

    # turned off: nothing registered, libsystemd not loaded
    in_sys "mkdir -p /run/systemd/system/litevirt@g1.service.d && printf '[Service]\nEnvironment=LITEVIRT_MACHINED=0\n' > /run/systemd/system/litevirt@g1.service.d/off.conf && systemctl daemon-reload"
    start_ok g1
    sv=$(sys_prop litevirt@g1 MainPID)
    in_sys "machinectl show g1 >/dev/null 2>&1" && fail "LITEVIRT_MACHINED=0: registered" || ok "LITEVIRT_MACHINED=0: not registered"
    in_sys "grep -q libsystemd /proc/$sv/maps" && fail "LITEVIRT_MACHINED=0: libsystemd mapped" || ok "LITEVIRT_MACHINED=0: libsystemd not loaded"
    uss_without=$(uss "$sv")
    echo "supervisor USS (Private_Clean+Private_Dirty, smaps_rollup): with machined $uss_with KiB, without $uss_without KiB"
    stop_ok g1
    ;;
unit-legacy|unit-unified)
    v=0; [ "$CASE" = unit-unified ] && v=1
    init_boot SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=$v || exit 1
    echo "layout inside: $(in_sys "stat -f -c %T /sys/fs/cgroup"), $(in_sys "cat /proc/1/cgroup" | tr '\n' ' ')"
    sys_define_guest g1
    start_ok g1
    if [ $v = 1 ]; then
        check_cgroups_below_unit g1 .
        # this host's cgroup2 offers no memory controller: degraded, said
        in_sys "journalctl -u litevirt@g1 --no-pager" | grep -q "<memory> of guest 'g1' is not enforced" &&
            ok "unified without memory controller: <memory> not enforced, said so" ||
            fail "no warning about the missing memory controller"
    else
        check_cgroups_below_unit g1 systemd
    fi
    stop_ok g1
    ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
init_halt || fail "the test system did not power off"
[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
