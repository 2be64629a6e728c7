# Shared set-up of the fault-injection tests (sourced). Each test re-runs
# itself in private network and mount namespaces (its bridge, veths and
# tmpfs mounts are never seen by the host), keeps all litevirt state in a
# temporary directory, and on exit kills by pid every process it started
# or that a guest of its own left, and removes every cgroup of its guests.
set -u

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v unshare >/dev/null || { echo "SKIP: unshare (util-linux) missing"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: ip (iproute2) missing"; exit 77; }
BUSYBOX=$(command -v busybox) || { echo "SKIP: busybox missing"; exit 77; }
file -L "$BUSYBOX" 2>/dev/null | grep -q "statically linked" || [ -x /bin/busybox ] ||
    { echo "SKIP: no static busybox"; exit 77; }
if [ -z "${LV_FAULT_IN_NS:-}" ]; then
    LV_FAULT_IN_NS=1 exec unshare --net --mount --propagation private -- "$0" "$@"
fi

B=${LV_BUILD_ROOT:?}
LVSH=$B/lvsh
T=$(mktemp -d /tmp/lv-test-fault.XXXXXX)
# QEMU runs as its own uid: it must reach its disks (as under libvirt)
chmod 0711 "$T"
export LITEVIRT_CONFDIR=$T/conf LITEVIRT_RUNDIR=$T/run LITEVIRT_LOGDIR=$T/log
unset LITEVIRT_GUESTDIR LITEVIRT_FAULT
# Sanitizer builds: daemonized supervisors have no stderr; their reports
# (leaks at exit, UB) go to files that finish() turns into failures.
mkdir -p "$T/san"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/san/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/san/ubsan:print_stacktrace=1"
P=ft$$ # guest name prefix: unique, so parallel runs do not meet
mkdir -p "$T/conf/guests" "$T/rootfs/bin" "$T/rootfs/tmp" "$T/rootfs/proc" "$T/rootfs/sys"
cp "$BUSYBOX" "$T/rootfs/bin/busybox"
for a in sh sleep echo cat ls true kill; do ln -s busybox "$T/rootfs/bin/$a"; done
ip link set lo up

fails=0
bg_pids=""
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok $*"; }

# Our own cgroup per hierarchy, to find guests' cgroups below it.
. "${LV_SOURCE_ROOT:?}/tests/lib/cgroups.sh"

# Processes whose command line holds MARKER (the guests' init scripts
# carry a unique marker).
procs_with() { # MARKER
    for d in /proc/[0-9]*; do
        { tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null | grep -q -- "$1" && echo "${d#/proc/}"
    done
}

# A process that runs (a zombie waiting for its reaper does not).
alive() {
    [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q "^Z"
}

# Wait (bounded, 10 s) until a command succeeds. Not a timing assertion:
# the bound only keeps a broken build from hanging.
wait_for() {
    i=0
    while ! eval "$1" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -gt 100 ] && return 1
        sleep 0.1
    done
}

status_field() { # NAME KEY
    sed -n "s/.*\"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\}.*/\1/p" "$T/run/$1/status.json" 2>/dev/null | head -1
}

cleanup() {
    for f in "$T"/run/*/status.json; do
        [ -f "$f" ] || continue
        for key in pid supervisor_pid; do
            p=$(sed -n "s/.*\"$key\": \([0-9]*\).*/\1/p" "$f")
            [ -n "$p" ] && [ "$p" -gt 1 ] && kill -9 "$p" 2>/dev/null
        done
    done
    for p in $bg_pids $(procs_with "lv-mark-$P"); do kill -9 "$p" 2>/dev/null; done
    sleep 0.2
    # SIGKILLed processes leave their cgroups a moment later: retry.
    for _ in $(seq 50); do
        left=0
        # (guests that ran transient have no definition left)
        for n in $(ls "$T/conf/guests" 2>/dev/null | sed 's/\.xml$//'; ls "$T/run" 2>/dev/null); do
            for d in $(cgroup_dirs "$n"); do
                find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
                [ -d "$d" ] && left=1
            done
        done
        [ $left = 0 ] && break
        sleep 0.1
    done
    grep -o " ${T}[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap "exit 1" INT TERM HUP PIPE

# define NAME INIT-SCRIPT [on_crash] [EXTRA-DEVICES]
define() {
    cat >"$T/conf/guests/$1.xml" <<XML
<domain type='lxc'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>: lv-mark-$P-$1; $2</initarg>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>${3:-destroy}</on_crash>
  <devices>
    <filesystem type='mount'>
      <source dir='$T/rootfs'/>
      <target dir='/'/>
    </filesystem>
    ${4:-}
    <console type='pty'/>
  </devices>
</domain>
XML
}

# Nothing of guest NAME is left, seen from outside after lvsh looked at
# it: no state directory (and so no lock), no cgroup, no process of its,
# no host link LINK (if given), no mount of its, and lvsh calls it shut off.
check_nothing_left() { # NAME WHAT [LINK]
    "$LVSH" list --all >/dev/null 2>&1
    st=$("$LVSH" domstate "$1" 2>&1)
    [ "$st" = "shut off" ] || fail "$2: domstate says '$st'"
    "$LVSH" list | grep -q " $1 " && fail "$2: lvsh list still shows the guest"
    [ ! -e "$T/run/$1" ] || fail "$2: state directory left: $(ls -A "$T/run/$1" | tr '\n' ' ')"
    [ -z "$(cgroup_dirs "$1")" ] || fail "$2: cgroup left: $(cgroup_dirs "$1")"
    [ -z "$(procs_with "lv-mark-$P-$1")" ] || fail "$2: process left: $(procs_with "lv-mark-$P-$1")"
    if [ -n "${3:-}" ] && ip link show "$3" >/dev/null 2>&1; then
        fail "$2: link $3 left"
    fi
    grep -q "$T/rootfs" /proc/self/mountinfo && fail "$2: mount of the rootfs left in the host"
    return 0
}

# The end of a test: sanitizer reports are failures; the summary line;
# the exit status.
finish() { # NAME
    for f in "$T"/san/*; do
        [ -f "$f" ] || continue
        fail "sanitizer report $(basename "$f"):"; sed 's/^/    /' "$f" | head -40
    done
    [ $fails = 0 ] && echo "all $1 checks passed" || echo "$fails check(s) failed"
    [ $fails = 0 ]
}
