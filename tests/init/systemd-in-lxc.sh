#!/bin/bash
# systemd (252, the debootstrapped Debian 12 root of build-root.sh, on an
# overlay) booting as the init of a litevirt LXC container: it reaches
# running (it makes its own cgroups in the writable subtree the container
# gets: cgroup2 and name=systemd, below the guest's "payload" cgroup),
# sees container=lxc-libvirt (as under libvirt-lxc: systemd knows the
# name), `lvsh reboot` boots it again and `lvsh shutdown`
# (SIGRTMIN+4) powers it off cleanly, long before the timeout.
set -u
. "${LV_SOURCE_ROOT:?}/tests/lib/lvtest.sh"
. "${LV_SOURCE_ROOT:?}/tests/lib/cgroups.sh"
INIT_ROOT=${LV_INIT_ROOT:-/var/cache/litevirt-tests/init-root}
command -v nsenter >/dev/null || { echo "SKIP: nsenter missing"; exit 77; }
"$LV_SOURCE_ROOT/tests/init/build-root.sh" "$INIT_ROOT"
rc=$?
[ $rc = 77 ] && { echo "SKIP: no Debian root"; exit 77; }
[ $rc = 0 ] || { echo "FAIL: build-root.sh"; exit 1; }
lvtest_tree sysd
N=sysd$$
cleanup() {
    lvtest_guest_remove "$N"
    umount "$T/root" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir -p "$T/upper" "$T/ovwork" "$T/root"
mount -t overlay lv-sysd -o "lowerdir=$INIT_ROOT,upperdir=$T/upper,workdir=$T/ovwork" "$T/root" ||
    { echo "FAIL: overlay mount"; exit 1; }
cat >"$T/$N.xml" <<EOX
<domain type='lxc'>
  <name>$N</name>
  <memory unit='KiB'>262144</memory>
  <os><type>exe</type><init>/lib/systemd/systemd</init></os>
  <devices>
    <filesystem type='mount'><source dir='$T/root'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>
EOX
"$LVSH" define "$T/$N.xml" >/dev/null || fail "define"

init_pid() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$LITEVIRT_RUNDIR/$N/status.json" 2>/dev/null; }
# systemd inside is up: running or degraded
booted() { # PID
    st=$(timeout 60 nsenter -t "$1" -a systemctl is-system-running --wait 2>&1)
    case $st in running|degraded) return 0 ;; esac
    echo "$st"
    return 1
}
wait_listening() { # PID: until systemd inside answers
    for _i in $(seq 300); do
        nsenter -t "$1" -a test -S /run/systemd/private 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

t0=$(date +%s%N)
"$LVSH" start "$N" >/dev/null || fail "lvsh start"
p=$(init_pid)
if [ -n "$p" ] && wait_listening "$p" && booted "$p"; then
    ok "systemd in the container reached running in $((($(date +%s%N) - t0) / 1000000)) ms"
else
    fail "systemd did not boot: $(tail -n 5 "$LITEVIRT_LOGDIR/$N.log")"
fi
[ "$(nsenter -t "$p" -a cat /proc/1/cgroup | tail -n 1)" = "0::/init.scope" ] &&
    ok "systemd made its own cgroups (/init.scope)" || fail "PID 1's cgroup: $(nsenter -t "$p" -a cat /proc/1/cgroup)"
grep -q "Welcome to" "$LITEVIRT_LOGDIR/$N.console.log" && ok "systemd's boot messages in $N.console.log" ||
    fail "console log: $(head -c 300 "$LITEVIRT_LOGDIR/$N.console.log" 2>&1)"
tr '\0' '\n' <"/proc/$p/environ" | grep -qx "container=lxc-libvirt" && ok "container=lxc-libvirt" ||
    fail "no container=lxc-libvirt in init's environment: $(tr '\0' ' ' <"/proc/$p/environ")"
# the limits on the guest's cgroup stay out of its reach: its processes
# are all in the payload below it
v2=$(cgroup_dirs "$N" | grep -E '/unified/|^/sys/fs/cgroup/litevirt' | head -n1)
if [ -n "$v2" ]; then
    [ -z "$(cat "$v2/cgroup.procs")" ] && grep -qx "$p" "$v2/payload/init.scope/cgroup.procs" &&
        ok "guest processes below $v2/payload" || fail "cgroup placement: $(cat "$v2/cgroup.procs")"
fi

"$LVSH" reboot "$N" >/dev/null || fail "lvsh reboot"
p2=""
# (between the two boots the guest's state names no init: pid 0)
new_init() { [ -n "$p2" ] && [ "$p2" != 0 ] && [ "$p2" != "$p" ]; }
for _i in $(seq 300); do
    p2=$(init_pid)
    new_init && break
    sleep 0.1
done
if new_init && wait_listening "$p2" && booted "$p2"; then
    ok "lvsh reboot: systemd booted again (init $p -> $p2)"
else
    fail "reboot: p=$p p2=$p2 $(tail -n 40 "$LITEVIRT_LOGDIR/$N.log"; tail -c 1500 "$LITEVIRT_LOGDIR/$N.console.log")"
fi

t0=$(date +%s%N)
"$LVSH" shutdown "$N" --wait >/dev/null || fail "lvsh shutdown --wait"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$("$LVSH" domstate "$N")" = "shut off" ] && tail -n 3 "$LITEVIRT_LOGDIR/$N.log" | grep -q -- "-> shutoff (shutdown)" &&
    ok "lvsh shutdown: shut off (shutdown) in $ms ms" || fail "after shutdown: $(tail -n 3 "$LITEVIRT_LOGDIR/$N.log")"
grep -q "sent SIGRTMIN+4 to init" "$LITEVIRT_LOGDIR/$N.log" && ok "SIGRTMIN+4 sent to systemd" || fail "no SIGRTMIN+4 in the log"
grep -q "did not shut down within" "$LITEVIRT_LOGDIR/$N.log" && fail "the shutdown timed out"
lvtest_sanitizer_check
[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
