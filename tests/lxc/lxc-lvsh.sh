#!/bin/bash
# End-to-end: a container through lvsh and litevirt-supervisor (define,
# start, console, domstats, suspend/resume, reboot, shutdown, destroy, and
# 50 start/destroy cycles), with busybox's init as PID 1, a user
# namespace and limits. Checks from inside (console, files) and from the
# host (ids, cgroups), and that nothing is left: no process, cgroup, mount,
# state directory or lock. Everything lives in a temporary
# LITEVIRT_{CONFDIR,RUNDIR,LOGDIR}.
set -u

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 ||
        { echo "SKIP: needs busybox-static"; exit 77; }
B=${LV_BUILD_ROOT:?}
LVSH=$B/lvsh

T=$(mktemp -d /tmp/lv-lxc-lvsh.XXXXXX)
chmod 755 "$T"
export LITEVIRT_CONFDIR=$T/conf LITEVIRT_RUNDIR=$T/run LITEVIRT_LOGDIR=$T/log
ROOT=$T/root OUT=$T/out
NAME=lvl$$
FAILED=0
BG=

cleanup() {
        exec 3>&- 2>/dev/null
        for p in $BG; do kill -9 "$p" 2>/dev/null; done
        for n in "$NAME" "${NAME}b"; do
                [ -f "$T/run/$n/supervisor.pid" ] && kill -9 "$(cat "$T/run/$n/supervisor.pid")" 2>/dev/null
        done
        sleep 0.3
        for d in $(find /sys/fs/cgroup -maxdepth 6 -depth -type d -name "litevirt-$NAME*" 2>/dev/null); do
                [ -f "$d/cgroup.kill" ] && echo 1 > "$d/cgroup.kill" 2>/dev/null
                for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        done
        sleep 0.2
        for d in $(find /sys/fs/cgroup -maxdepth 6 -depth -type d -name "litevirt-$NAME*" 2>/dev/null); do
                rmdir "$d" 2>/dev/null
        done
        rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; FAILED=1; }
check() {
        local what=$1; shift
        if "$@"; then echo "ok: $what"; else fail "$what"; fi
}
wait_for() { # wait_for SECONDS COMMAND...: bounded, not a timing assertion
        local i n=$(( $1 * 10 )); shift
        for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.1; done
        return 1
}
init_pid() { sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$T/run/$NAME/status.json" 2>/dev/null | head -1; }
alive() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" | grep -q '^Z'; }
v2_dir() {
        local p; p=$(awk -F: '$1 == 0 {print $3}' /proc/self/cgroup); [ "$p" = / ] && p=
        if [ -d /sys/fs/cgroup/unified ]; then echo "/sys/fs/cgroup/unified$p/litevirt-$NAME"; else echo "/sys/fs/cgroup$p/litevirt-$NAME"; fi
}
assert_gone() { # WHAT
        check "$1: no state directory" test ! -e "$T/run/$NAME"
        check "$1: no cgroup" test -z "$(find /sys/fs/cgroup -maxdepth 6 -type d -name "litevirt-$NAME" 2>/dev/null)"
        check "$1: no process in the guest's cgroups" test -z "$(grep -l "litevirt-$NAME\$" /proc/[0-9]*/cgroup 2>/dev/null)"
        check "$1: no mount of the test tree" bash -c "! grep -q '$T' /proc/self/mountinfo"
        check "$1: no process holds anything of the state directory (lock)" bash -c "! ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q '$T/run'"
}

# ---- a busybox root filesystem with busybox's init ----
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,out} "$OUT" "$T/conf/guests"
chmod 777 "$OUT"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for a in $("$BUSYBOX" --list-full); do [ -e "$ROOT/$a" ] || ln -s /bin/busybox "$ROOT/$a"; done
cat > "$ROOT/etc/inittab" <<'EOF'
::sysinit:/bin/echo BOOTED
::respawn:/bin/sh -c 'i=0; while :; do i=$((i+1)); echo $i > /out/counter; sleep 0.1; done'
::respawn:/bin/sh
::shutdown:/bin/sh -c 'echo GOING-DOWN > /out/down'
EOF
cat > "$T/c.xml" <<EOF
<domain type='lxc'>
  <name>$NAME</name>
  <memory unit='MiB'>96</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>exe</type>
    <init>/sbin/init</init>
  </os>
  <idmap>
    <uid start='0' target='200000' count='65536'/>
    <gid start='0' target='200000' count='65536'/>
  </idmap>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <filesystem type='mount'>
      <source dir='$ROOT'/>
      <target dir='/'/>
    </filesystem>
    <filesystem type='mount'>
      <source dir='$OUT'/>
      <target dir='/out'/>
    </filesystem>
    <console type='pty'>
      <target type='lxc' port='0'/>
    </console>
  </devices>
</domain>
EOF

check "define" bash -c "'$LVSH' define '$T/c.xml' | grep -q \"Domain '$NAME' defined\""
out=$("$LVSH" start "$NAME" 2>&1)
check "start ($out)" grep -q "^Domain '$NAME' started$" <<< "$out"
[ -f "$T/run/$NAME/status.json" ] || { echo "FAIL: no status.json"; exit 1; }
ipid=$(init_pid)
check "init runs as uid 200000 on the host" grep -qE "^Uid:\s+200000\s" /proc/$ipid/status
check "the memory limit is applied" test "$(cat "$(find /sys/fs/cgroup/memory -maxdepth 5 -type d -name "litevirt-$NAME")/memory.limit_in_bytes")" = $((96 << 20))
check "the counter runs" wait_for 30 test -s "$OUT/counter"
# setmem: the cgroup memory limit, at most <memory>
memcg=$(find /sys/fs/cgroup/memory -maxdepth 5 -type d -name "litevirt-$NAME")
check "setmem 64M" "$LVSH" setmem "$NAME" 64M
check "setmem sets the memory limit" test "$(cat "$memcg/memory.limit_in_bytes")" = $((64 << 20))
check "setmem above max memory is refused" sh -c "! '$LVSH' setmem '$NAME' 1G 2>/dev/null"
check "the limit stays after a refused setmem" test "$(cat "$memcg/memory.limit_in_bytes")" = $((64 << 20))
check "setmem back to 96M" "$LVSH" setmem "$NAME" 98304
check "the memory limit is back" test "$(cat "$memcg/memory.limit_in_bytes")" = $((96 << 20))

# ---- console: output kept, a shell on the console, ^] detaches ----
mkfifo "$T/cin"
"$LVSH" console "$NAME" < "$T/cin" > "$T/cout" 2>&1 &
cpid=$!; BG="$BG $cpid"
exec 3> "$T/cin"
check "console shows init's output kept while detached" wait_for 30 grep -q BOOTED "$T/cout"
echo 'echo "marker-$((6*7)) $(hostname) $(id -u)"' >&3
check "console round trip through the container's shell" wait_for 30 grep -q "marker-42 $NAME 0" "$T/cout"
printf '\035' >&3
check "^] detaches" wait_for 30 bash -c "! kill -0 $cpid 2>/dev/null"
exec 3>&-

# ---- domstats from cgroups ----
stats=$("$LVSH" domstats "$NAME" 2>&1)
check "domstats: cpu time ($stats)" grep -qE "cpu.time=[1-9][0-9]*" <<< "$stats"
check "domstats: pids" grep -qE "pids.current=[1-9]" <<< "$stats"

# ---- suspend / resume freeze and thaw the whole container ----
check "suspend" bash -c "'$LVSH' suspend '$NAME' | grep -q suspended"
check "cgroup reports frozen" grep -qx "frozen 1" "$(v2_dir)/cgroup.events"
c1=$(cat "$OUT/counter"); sleep 1; c2=$(cat "$OUT/counter")
check "no progress while suspended ($c1 -> $c2)" test "$c1" = "$c2"
check "resume" bash -c "'$LVSH' resume '$NAME' | grep -q resumed"
check "progress after resume" wait_for 30 bash -c "[ \$(cat '$OUT/counter') -gt $c2 ]"

# ---- reboot: busybox init reboots, on_reboot=restart starts it again ----
spid=$(cat "$T/run/$NAME/supervisor.pid")
# Detached (lvsh starts it in a session of its own, it forks once): in a
# session whose leader is gone, so it can never get a controlling
# terminal (field 7 of stat: tty_nr), and its first process has exited.
read -r -a st <<< "$(sed 's/.*) //' /proc/$spid/stat)"
check "the supervisor is no session leader (sid ${st[3]}, pid $spid)" test "${st[3]}" != "$spid"
check "the supervisor has no controlling terminal (tty_nr ${st[4]})" test "${st[4]}" = 0
check "its session's leader has exited" test ! -e "/proc/${st[3]}"
fds_before=$(ls /proc/$spid/fd | wc -l)
check "reboot" bash -c "'$LVSH' reboot '$NAME' | grep -q 'is being rebooted'"
check "a new init after the reboot" wait_for 30 bash -c "p=\$(sed -n 's/.*\"pid\": \([0-9]*\).*/\1/p' '$T/run/$NAME/status.json' | head -1); [ -n \"\$p\" ] && [ \"\$p\" != $ipid ] && grep -q '\"state\": \"running\"' '$T/run/$NAME/status.json'"
check "the old init is gone" wait_for 30 bash -c "! [ -r /proc/$ipid/stat ] || sed 's/.*) //' /proc/$ipid/stat | grep -q '^Z'"
check "the same supervisor restarted it" test "$(cat "$T/run/$NAME/supervisor.pid")" = "$spid"
fds_after=$(ls /proc/$spid/fd | wc -l)
check "no descriptor leaked by the restart ($fds_before -> $fds_after)" test "$fds_before" = "$fds_after"

# ---- shutdown: busybox init powers off ----
out=$("$LVSH" shutdown "$NAME" --wait 2>&1)
check "shutdown --wait ($out)" grep -q "shut off" <<< "$out"
check "init ran its shutdown actions" grep -q GOING-DOWN "$OUT/down"
check "domstate: shut off" test "$("$LVSH" domstate "$NAME")" = "shut off"
assert_gone shutdown

# ---- 50 start / destroy cycles leave nothing behind ----
t0=$(date +%s%N)
for ((n = 1; n <= 50; n++)); do
        "$LVSH" start "$NAME" > /dev/null 2> "$T/err" || { fail "cycle $n: start: $(cat "$T/err")"; break; }
        "$LVSH" destroy "$NAME" > /dev/null 2> "$T/err" || { fail "cycle $n: destroy: $(cat "$T/err")"; break; }
        wait_for 30 test ! -e "$T/run/$NAME" || { fail "cycle $n: state directory left"; break; }
done
t1=$(date +%s%N)
echo "info: 50 start+destroy cycles in $(( (t1 - t0) / 1000000 )) ms"
assert_gone "50 cycles"

# ---- the definition's model cache (conf/domain_json.h): a start takes
# the model from it only for the very file it was made from ----
cache=$T/run/.models/$NAME.json
limit() { cat "$(find /sys/fs/cgroup/memory -maxdepth 5 -type d -name "litevirt-$NAME")/memory.limit_in_bytes"; }
start_limit() { # WHAT EXPECTED-BYTES
        "$LVSH" start "$NAME" > /dev/null 2> "$T/err" || { fail "$1: start: $(cat "$T/err")"; return; }
        check "$1: memory limit $(($2 >> 20)) MiB" test "$(limit)" = "$2"
        "$LVSH" destroy "$NAME" > /dev/null 2>&1
        wait_for 30 test ! -e "$T/run/$NAME" || fail "$1: state directory left"
}
check "the model cache exists" test -s "$cache"
sed -i 's/"memory_kib":98304/"memory_kib":73728/; s/"current_memory_kib":98304/"current_memory_kib":73728/' "$cache"
start_limit "a start takes the cached model" $((72 << 20))
sed 's|<memory unit=.KiB.>98304<|<memory unit="KiB">81920<|; s|<currentMemory unit=.KiB.>98304<|<currentMemory unit="KiB">81920<|' \
        "$T/conf/guests/$NAME.xml" > "$T/edited.xml"
check "the definition is edited" grep -q 81920 "$T/edited.xml"
cat "$T/edited.xml" > "$T/conf/guests/$NAME.xml" # in place: the same inode
start_limit "a definition edited in place is read again, not the cache" $((80 << 20))
{ head -n 1 "$cache"; printf '{"type":0,"name":'; } > "$T/torn" && cat "$T/torn" > "$cache"
start_limit "a torn cache is ignored" $((80 << 20))
check "undefine removes the cache" bash -c "'$LVSH' undefine '$NAME' > /dev/null && test ! -e '$cache'"
assert_gone "model cache"

# ---- lvsh create: a transient container, run from the model lvsh parsed
# (handed to the supervisor as JSON, not parsed again) ----
out=$("$LVSH" create "$T/c.xml" 2>&1)
check "create ($out)" grep -q "^Domain '$NAME' created from" <<< "$out"
check "create: nothing stored" test ! -e "$T/conf/guests/$NAME.xml"
check "create: running" test "$("$LVSH" domstate "$NAME")" = running
check "create: the memory limit of the definition" test "$(limit)" = $((96 << 20))
u=$("$LVSH" domuuid "$NAME")
sed "s|<name>$NAME</name>|<name>${NAME}b</name><uuid>$u</uuid>|" "$T/c.xml" > "$T/c2.xml"
out=$("$LVSH" define "$T/c2.xml" 2>&1)
check "define with the running transient guest's uuid is refused ($out)" grep -q "domain '$NAME' is already defined with uuid $u" <<< "$out"
out=$("$LVSH" create "$T/c2.xml" 2>&1)
check "create with it too ($out)" grep -q "domain '$NAME' is already defined with uuid $u" <<< "$out"
check "nothing stored or started under the other name" test ! -e "$T/conf/guests/${NAME}b.xml" -a ! -e "$T/run/${NAME}b"
check "create: dumpxml shows the definition" bash -c "'$LVSH' dumpxml '$NAME' | grep -q '<source dir=.$ROOT./>'"
check "create: destroy" bash -c "'$LVSH' destroy '$NAME' > /dev/null"
wait_for 30 test ! -e "$T/run/$NAME" || fail "create: state directory left"
assert_gone "create"
printf '{"name": 1}\n' > "$T/bad.json"
out=$("$B/litevirt-supervisor" --definition "$T/bad.json" -f "$NAME" 2>&1)
check "a malformed model is refused, naming the file and the member ($out)" grep -q "'$T/bad.json': .*member 'name'" <<< "$out"
assert_gone "malformed model"

[ $FAILED = 0 ]
