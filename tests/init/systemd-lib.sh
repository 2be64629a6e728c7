# shellcheck shell=bash
# Sourced by the tests/init scripts: boot a real systemd (252, Debian 12)
# as PID 1 with systemd-nspawn -b on an overlay of the cached root
# (build-root.sh), with this build's litevirt installed in it (meson install
# --destdir, the lowest overlay layer over /usr/local), and drive it with
# nsenter + systemctl. Everything lives below $T and one cgroup per
# hierarchy below the test's own; init_teardown (on EXIT) stops the
# system, kills what is left by pid, removes the cgroups and $T.
#
#   init_setup              checks (skip 77), root cache, install, cgroups
#   init_boot [VAR=VALUE..] boot (nspawn environment, e.g.
#                           SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1); sets PID1;
#                           the overlay's upper layer persists across boots;
#                           $INIT_LAYER, if set, is a directory laid over
#                           the cached root (below the installed litevirt)
#   in_sys CMD...           run a shell command in the booted system
#   init_halt               `systemctl poweroff` and wait for the end
#   wait_for SECS CMD...    poll CMD (in the system) until it succeeds

. "${LV_SOURCE_ROOT:?}/tests/lib/cgroups.sh"

INIT_ROOT=${LV_INIT_ROOT:-/var/cache/litevirt-tests/init-root}
T=""
NSPAWN_PID=""
PID1=""
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok $*"; }

init_setup() {
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
    for t in systemd-nspawn nsenter unshare meson; do
        command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t missing"; exit 77; }
    done
    "${LV_SOURCE_ROOT:?}/tests/init/build-root.sh" "$INIT_ROOT"
    rc=$?
    [ $rc = 77 ] && { echo "SKIP: no Debian root for the test system"; exit 77; }
    [ $rc = 0 ] || { echo "FAIL: build-root.sh"; exit 1; }
    T=$(mktemp -d /tmp/lv-init.XXXXXX)
    trap init_teardown EXIT
    trap 'exit 1' INT TERM
    mkdir -p "$T/dest" "$T/upper" "$T/ovwork" "$T/root"
    meson install -C "${LV_BUILD_ROOT:?}" --destdir "$T/dest" --no-rebuild --quiet >"$T/install.log" 2>&1 ||
        { cat "$T/install.log"; echo "FAIL: meson install"; exit 1; }
    # One cgroup below ours in every hierarchy (MACHINE-FACTS: never at a
    # hierarchy's root we do not own): nspawn and the system run in it.
    : >"$T/cgroups"
    for d in $(cgroup_own_dirs); do
        mkdir -p "$d/lv-init.$$" || continue
        d=$d/lv-init.$$
        if [ -f "$d/cpuset.cpus" ] && [ -z "$(cat "$d/cpuset.cpus")" ]; then
            cat "$d/../cpuset.cpus" >"$d/cpuset.cpus"
            cat "$d/../cpuset.mems" >"$d/cpuset.mems"
        fi
        echo "$d" >>"$T/cgroups"
    done
    MACHINE=lvinit$$
}

init_boot() {
    local env_args=() i v
    for v in "$@"; do env_args+=("$v"); done
    : >"$T/console.log"
    (
        while read -r d; do echo "$BASHPID" >"$d/cgroup.procs"; done <"$T/cgroups"
        # The overlay lives in a private mount namespace: it goes with nspawn.
        exec env "${env_args[@]}" SYSTEMD_NSPAWN_LOCK=0 unshare -m --propagation private sh -c '
            mount -t overlay "lv-init" -o "lowerdir=$1/dest:$4$2,upperdir=$1/upper,workdir=$1/ovwork" "$1/root" &&
            exec systemd-nspawn -q --register=no --keep-unit --link-journal=no --console=passive \
                --private-network -D "$1/root" -M "$3" -b' sh "$T" "$INIT_ROOT" "$MACHINE" "${INIT_LAYER:+$INIT_LAYER:}"
    ) >"$T/console.log" 2>&1 </dev/null &
    NSPAWN_PID=$!
    PID1=""
    for i in $(seq 300); do
        PID1=$(ps -o pid= --ppid "$NSPAWN_PID" 2>/dev/null | head -n1 | tr -d ' ')
        [ -n "$PID1" ] && [ "$(cat "/proc/$PID1/comm" 2>/dev/null)" = systemd ] && break
        kill -0 "$NSPAWN_PID" 2>/dev/null || break
        PID1=""
        sleep 0.1
    done
    [ -n "$PID1" ] || { cat "$T/console.log"; echo "FAIL: the test system did not boot"; return 1; }
    # running or degraded: PID 1 has finished booting (once it listens)
    for i in $(seq 600); do
        nsenter -t "$PID1" -a test -S /run/systemd/private 2>/dev/null && break
        sleep 0.1
    done
    timeout 120 nsenter -t "$PID1" -a systemctl is-system-running --wait >"$T/state" 2>&1
    grep -qE '^(running|degraded)$' "$T/state" ||
        { cat "$T/state"; echo "FAIL: the test system did not reach running"; return 1; }
}

# In the background and waited for, so that a signal to the test (meson's
# timeout) runs the teardown at once.
in_sys() {
    nsenter -t "$PID1" -a sh -c "$*" <&0 &
    wait $!
}

wait_for() { # SECS CMD
    local secs=$1 i
    shift
    for i in $(seq $((secs * 10))); do
        in_sys "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# Wait for nspawn (the system) to end; 0 when it did within SECS.
wait_nspawn_end() {
    local i
    for i in $(seq $(($1 * 10))); do
        kill -0 "$NSPAWN_PID" 2>/dev/null || { wait "$NSPAWN_PID" 2>/dev/null; return 0; }
        sleep 0.1
    done
    return 1
}

init_halt() {
    in_sys "systemctl poweroff --no-block" >/dev/null 2>&1
    wait_nspawn_end 120
}

init_teardown() {
    local rc=$?
    if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        kill -TERM "$NSPAWN_PID" 2>/dev/null # nspawn halts the system
        wait_nspawn_end 30 || kill -KILL "$NSPAWN_PID" 2>/dev/null
    fi
    # Whatever is left in our cgroups was started by this test.
    if [ -n "$T" ] && [ -s "$T/cgroups" ]; then
        cgroup_trees_remove "$T/cgroups" || { echo "FAIL: cgroups left behind"; rc=1; }
    fi
    rm -rf /run/systemd/nspawn/propagate/"$MACHINE" 2>/dev/null
    [ -n "$T" ] && rm -rf "$T"
    exit $rc
}

# A busybox container guest NAME whose init (sh -c) loops until SIGTERM
# (the LXC driver's shutdown signal for a non-systemd init), with extra XML
# lines EXTRA (and devices DEVICES); defined in the system's
# /etc/litevirt/guests. A shutdown
# that hangs is destroyed after 10 s (host.conf), not 300.
GUEST_INIT='trap "exit 0" TERM; while :; do sleep 1; done'
sys_define_guest() { # NAME [EXTRA] [DEVICES]
    in_sys "mkdir -p /srv/bb/bin /etc/litevirt/guests && cp /bin/busybox /srv/bb/bin/ &&
        ln -sf busybox /srv/bb/bin/sh && echo 'shutdown_timeout = 10' > /etc/litevirt/host.conf &&
        cat > /etc/litevirt/guests/$1.xml" <<EOX
<domain type='lxc'>
  <name>$1</name>
  <memory unit='KiB'>65536</memory>
  <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>$GUEST_INIT</initarg></os>
  ${2:-}
  <devices>
    <filesystem type='mount'><source dir='/srv/bb'/><target dir='/'/></filesystem>
    <console type='pty'/>
    ${3:-}
  </devices>
</domain>
EOX
}

# systemctl show -p PROP --value UNIT, in the system
sys_prop() { in_sys "systemctl show -p $2 --value $1"; }
