#!/bin/sh
# Integration tests of litevirt-supervisor and lvsh's lifecycle commands
# with real containers (the LXC driver): start, state, console, control
# socket robustness, shutdown, destroy, on_* actions, SIGTERM, SIGKILL of
# the supervisor, failed starts, sd_notify. Needs root and busybox-static.
# Everything lives in a temporary LITEVIRT_{CONFDIR,RUNDIR,LOGDIR}; every
# process started is killed by pid and every cgroup removed on exit.
set -u

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
BUSYBOX=$(command -v busybox) || { echo "SKIP: busybox missing"; exit 77; }
file -L "$BUSYBOX" 2>/dev/null | grep -q "statically linked" || [ -x /bin/busybox ] || { echo "SKIP: no static busybox"; exit 77; }
command -v socat >/dev/null || { echo "SKIP: socat missing"; exit 77; }

B=${LV_BUILD_ROOT:?}
LVSH=$B/lvsh
SUP=$B/litevirt-supervisor
CLIENTS=$B/tests/supervisor/test-control-clients
T=$(mktemp -d /tmp/lv-test-supervisor.XXXXXX)
export LITEVIRT_CONFDIR=$T/conf LITEVIRT_RUNDIR=$T/run LITEVIRT_LOGDIR=$T/log
P=svt$$ # guest name prefix: unique, so parallel runs do not meet
mkdir -p "$T/conf/guests" "$T/rootfs/bin" "$T/rootfs/tmp"
cp "$BUSYBOX" "$T/rootfs/bin/busybox"
for a in sh sleep echo cat ls true kill; do ln -s busybox "$T/rootfs/bin/$a"; done

# Under AddressSanitizer, detached supervisors report into files (their
# stderr is /dev/null): any report fails the test.
if [ -n "${ASAN_OPTIONS:-}" ]; then
    export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$T/sanitizer"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$T/sanitizer"
fi

fails=0
bg_pids=""
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok $*"; }

. "${LV_SOURCE_ROOT:?}/tests/lib/cgroups.sh"

cleanup() {
    for f in "$T"/run/*/status.json; do
        [ -f "$f" ] || continue
        for key in pid supervisor_pid; do
            p=$(sed -n "s/.*\"$key\": \([0-9]*\).*/\1/p" "$f")
            [ -n "$p" ] && [ "$p" -gt 1 ] && kill -9 "$p" 2>/dev/null
        done
    done
    for p in $bg_pids; do kill -9 "$p" 2>/dev/null; done
    sleep 0.2
    for n in $(ls "$T/conf/guests" 2>/dev/null | sed 's/\.xml$//'); do
        for d in $(cgroup_dirs "$n"); do
            find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
    done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

# define NAME INIT-SCRIPT [on_poweroff on_reboot on_crash] [ROOT]
define() {
    root=${6:-$T/rootfs}
    script=$(printf '%s' "$2" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g')
    cat >"$T/conf/guests/$1.xml" <<XML
<domain type='lxc'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>$script</initarg>
  </os>
  <on_poweroff>${3:-destroy}</on_poweroff>
  <on_reboot>${4:-restart}</on_reboot>
  <on_crash>${5:-destroy}</on_crash>
  <devices>
    <filesystem type='mount'>
      <source dir='$root'/>
      <target dir='/'/>
    </filesystem>
    <console type='pty'/>
  </devices>
</domain>
XML
}

status_field() { # NAME KEY
    sed -n "s/.*\"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\}.*/\1/p" "$T/run/$1/status.json" 2>/dev/null | head -1
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

# Nothing of guest NAME is left: state directory, cgroups, processes.
check_gone() { # NAME WHAT
    [ ! -e "$T/run/$1" ] || fail "$2: state directory $T/run/$1 left behind"
    [ -z "$(cgroup_dirs "$1")" ] || fail "$2: cgroup left behind: $(cgroup_dirs "$1")"
}

G=$P-a
define "$G" 'echo hello from litevirt; while read l; do echo "got:$l"; done; exec sleep 1000000'

# ---- start, state, info ----
out=$("$LVSH" start "$G" 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "^Domain '$G' started$" && ok "start" || fail "start: rc=$rc $out"
spid=$(cat "$T/run/$G/supervisor.pid")
ipid=$(status_field "$G" pid)
[ "$(stat -c %a "$T/run/$G")" = 700 ] && ok "state directory is 0700" || fail "state dir mode $(stat -c %a "$T/run/$G")"
[ "$(stat -c %a "$T/run/$G/control.sock")" = 600 ] && ok "control socket is 0600" || fail "socket mode"
[ "$("$LVSH" domstate "$G" --reason | head -1)" = "running (booted)" ] && ok "domstate --reason: running (booted)" || fail "domstate: $("$LVSH" domstate "$G" --reason)"
info=$("$LVSH" dominfo "$G")
echo "$info" | grep -q "^Id:             $spid$" && echo "$info" | grep -q "^State:          running$" &&
    echo "$info" | grep -q "^Max memory:     65536 KiB$" && ok "dominfo" || fail "dominfo: $info"
"$LVSH" list | grep -Eq "^ $spid +$G +running" && ok "list shows the guest running" || fail "list: $("$LVSH" list)"
[ "$(status_field "$G" state)" = running ] && [ -n "$ipid" ] && kill -0 "$ipid" && ok "status.json: running, pid $ipid" || fail "status.json"
"$LVSH" domstats "$G" | grep -q "^  state.state=1$" && ok "domstats" || fail "domstats: $("$LVSH" domstats "$G")"

# ---- refusals ----
out=$("$LVSH" start "$G" 2>&1) && fail "second start accepted" || { echo "$out" | grep -q "already running" && ok "second start refused: $(echo "$out" | tail -1)" || fail "second start: $out"; }
out=$("$SUP" --foreground "$G" 2>&1) && fail "second supervisor accepted" || { echo "$out" | grep -q "guest '$G' already has a supervisor (pid $spid)" && ok "second supervisor refused" || fail "second supervisor: $out"; }
out=$("$LVSH" resume "$G" 2>&1) && fail "resume of a running guest accepted" || { echo "$out" | grep -q "not valid" && ok "resume of a running guest refused" || fail "resume: $out"; }

# ---- suspend / resume (and the events they make) ----
"$LVSH" event "$G" --loop >"$T/events" 2>&1 &
epid=$!; bg_pids="$bg_pids $epid"
wait_for "grep -q 'events: client pid $epid subscribed' '$T/log/$G.log'" || fail "lvsh event did not subscribe"
"$LVSH" suspend "$G" | grep -q "^Domain '$G' suspended$" && [ "$("$LVSH" domstate "$G" --reason | head -1)" = "paused (user)" ] && ok "suspend: paused (user)" || fail "suspend"
"$LVSH" resume "$G" | grep -q "^Domain '$G' resumed$" && [ "$("$LVSH" domstate "$G" --reason | head -1)" = "running (unpaused)" ] && ok "resume: running (unpaused)" || fail "resume"
wait_for "grep -q 'Resumed Unpaused' '$T/events'" && grep -q "^event 'lifecycle' for domain '$G': Suspended Paused$" "$T/events" && ok "lvsh event: Suspended Paused, Resumed Unpaused" || fail "events: $(cat "$T/events")"

# ---- console: kept output replayed, round trip, one client at a time ----
mkfifo "$T/cin"
"$LVSH" console "$G" <"$T/cin" >"$T/cout" 2>&1 &
cpid=$!; bg_pids="$bg_pids $cpid"
exec 3>"$T/cin"
wait_for "grep -q 'hello from litevirt' '$T/cout'" && ok "console replays output kept while detached" || fail "console replay: $(cat "$T/cout")"
grep -q "^Connected to domain '$G'" "$T/cout" && grep -q "Escape character is \^\] (Ctrl + \])" "$T/cout" && ok "console banner" || fail "console banner"
echo "ping-$$" >&3
wait_for "grep -q 'got:ping-$$' '$T/cout'" && ok "console round trip" || fail "console round trip: $(cat "$T/cout")"
out=$("$LVSH" console "$G" </dev/null 2>&1) && fail "second console client accepted" || { echo "$out" | grep -q "in use" && ok "second console client refused" || fail "second console: $out"; }
printf '\035' >&3 # ^] detaches
exec 3>&-
wait_for "! alive $cpid" && ok "^] detaches" || fail "console did not detach"
# --force takes the console over; the first client is disconnected.
mkfifo "$T/cin2"
"$LVSH" console "$G" <"$T/cin2" >"$T/cout2" 2>&1 &
cpid=$!; bg_pids="$bg_pids $cpid"
exec 4>"$T/cin2"
wait_for "grep -q '^Connected' '$T/cout2'"
echo "took-$$" | "$LVSH" console "$G" --force >"$T/cout3" 2>&1 &
c3=$!; bg_pids="$bg_pids $c3"
wait_for "! alive $cpid" && wait_for "grep -q 'got:took-$$' '$T/cout3'" && ok "console --force takes over" || fail "console --force: $(cat "$T/cout2" "$T/cout3")"
exec 4>&-
kill "$c3" 2>/dev/null

# ---- a guest that closes its console and opens it again: nothing lost ----
K=$P-k
define "$K" 'echo first; exec </dev/null >/dev/null 2>&1; sleep 1; echo reopened >/dev/console; exec sleep 1000000'
"$LVSH" start "$K" >/dev/null || fail "start $K"
"$LVSH" console "$K" </dev/null >"$T/kout" 2>&1 &
kpid=$!; bg_pids="$bg_pids $kpid"
wait_for "grep -q reopened '$T/kout'" && ok "console output after the guest reopened its console" || fail "console reopen: $(cat "$T/kout")"
"$LVSH" destroy "$K" >/dev/null; check_gone "$K" "console reopen"

# ---- control socket robustness (a C client) ----
if "$CLIENTS" "$G" >"$T/clients.out" 2>&1; then ok "control socket robustness:"; sed 's/^/    /' "$T/clients.out"; else fail "control clients: $(cat "$T/clients.out")"; fi
[ "$(cat "$T/run/$G/supervisor.pid")" = "$spid" ] && kill -0 "$ipid" && ok "guest and supervisor unharmed" || fail "guest harmed"

# ---- destroy ----
out=$("$LVSH" destroy "$G" 2>&1)
echo "$out" | grep -q "^Domain '$G' destroyed$" && ok "destroy" || fail "destroy: $out"
wait_for "! alive $spid && ! alive $ipid" && ok "supervisor and init gone" || fail "processes left"
check_gone "$G" destroy
grep -q "shutoff (destroyed)" "$T/log/$G.log" && ok "log records the end (destroyed)" || fail "log: $(tail -3 "$T/log/$G.log")"
[ "$("$LVSH" domstate "$G")" = "shut off" ] && ok "domstate: shut off" || fail "domstate after destroy"
out=$("$LVSH" destroy "$G" 2>&1) && fail "destroy of a stopped guest" || { echo "$out" | grep -q "domain is not running" && ok "destroy of a stopped guest refused" || fail "destroy again: $out"; }

# ---- start again right away (nothing held), with the console ----
printf 'again-$$\n\035' | "$LVSH" start "$G" --console >"$T/sc.out" 2>&1 &&
    grep -q "^Domain '$G' started" "$T/sc.out" && grep -q "^Connected to domain '$G'" "$T/sc.out" &&
    ok "start --console right after destroy" || fail "start --console: $(cat "$T/sc.out")"

# ---- SIGKILL of the supervisor ----
spid=$(cat "$T/run/$G/supervisor.pid"); ipid=$(status_field "$G" pid)
kill -9 "$spid"
wait_for "! alive $ipid" && ok "SIGKILL of the supervisor: the container dies with it (PDEATHSIG)" || fail "init $ipid outlived its supervisor"
"$LVSH" list --all >/dev/null
check_gone "$G" "after SIGKILL + lvsh list"
"$LVSH" start "$G" >/dev/null && ok "start after a killed supervisor" || fail "start after SIGKILL"
spid=$(cat "$T/run/$G/supervisor.pid"); ipid=$(status_field "$G" pid)
kill -9 "$spid"; wait_for "! alive $ipid"
"$LVSH" start "$G" >/dev/null && ok "lvsh start cleans a dead supervisor's state itself" || fail "start over stale state: $(ls -la "$T/run/$G")"
"$LVSH" destroy "$G" >/dev/null; check_gone "$G" "destroy after stale start"

# ---- failed starts leave nothing behind ----
F=$P-f
define "$F" 'exec sleep 1000' destroy restart destroy "$T/no-such-rootfs"
out=$("$LVSH" start "$F" 2>&1) && fail "start with a missing rootfs succeeded" || { echo "$out" | grep -q "^error: Failed to start domain '$F'" && ok "failed start reported: $(echo "$out" | tail -1)" || fail "failed start: $out"; }
check_gone "$F" "failed start"
define "$F" 'exec sleep 1000' destroy restart destroy
sed -i 's#<init>/bin/sh</init>#<init>/bin/no-such-init</init>#' "$T/conf/guests/$F.xml"
out=$("$LVSH" start "$F" 2>&1) && fail "start with a missing init succeeded" || ok "missing init refused: $(echo "$out" | tail -1)"
check_gone "$F" "failed start (init)"
out=$("$LVSH" start "$P-undefined" 2>&1) && fail "undefined guest started" || { echo "$out" | grep -q "failed to get domain '$P-undefined'" && ok "undefined guest: failed to get domain" || fail "undefined: $out"; }

# ---- graceful shutdown, and the timeout ----
S=$P-s
define "$S" 'trap "echo bye; exit 0" TERM USR2 PWR; while :; do sleep 1; done'
"$LVSH" start "$S" >/dev/null || fail "start $S"
out=$("$LVSH" shutdown "$S" --wait 2>&1)
echo "$out" | grep -q "is shut off" && grep -q "shutoff (shutdown)" "$T/log/$S.log" && ok "shutdown --wait: shut off (shutdown)" || fail "shutdown: $out $(tail -5 "$T/log/$S.log")"
check_gone "$S" shutdown
I=$P-i
define "$I" 'trap "" TERM USR2 PWR INT HUP; while :; do sleep 1; done'
"$LVSH" start "$I" >/dev/null || fail "start $I"
out=$("$LVSH" shutdown "$I" --timeout 1 --wait 2>&1)
grep -q "did not shut down within 1 s" "$T/log/$I.log" && grep -q "shutoff (destroyed)" "$T/log/$I.log" && ok "shutdown --timeout: destroyed after the timeout" || fail "shutdown timeout: $out $(tail -5 "$T/log/$I.log")"
check_gone "$I" "shutdown timeout"

# ---- host.conf: shutdown_timeout and socket_group ----
H=$P-h
define "$H" 'trap "" TERM USR2 PWR INT HUP; while :; do sleep 1; done'
printf 'shutdown_timeout = 1\nsocket_group = nogroup\n' >"$T/conf/host.conf"
"$LVSH" start "$H" >/dev/null || fail "start $H"
[ "$(stat -c '%a %G' "$T/run/$H/control.sock")" = "660 nogroup" ] && ok "host.conf socket_group: control socket 0660 group nogroup" || fail "socket group: $(stat -c '%a %G' "$T/run/$H/control.sock")"
"$LVSH" shutdown "$H" --wait >/dev/null 2>&1
grep -q "did not shut down within 1 s" "$T/log/$H.log" && ok "host.conf shutdown_timeout" || fail "host.conf timeout: $(tail -3 "$T/log/$H.log")"
check_gone "$H" "host.conf"
printf 'shutdown_timeout = soon\n' >"$T/conf/host.conf"
out=$("$LVSH" start "$H" 2>&1) && fail "start with a bad host.conf" || { echo "$out" | grep -q "host.conf" && ok "a bad host.conf is reported: $(echo "$out" | tail -1)" || fail "bad host.conf: $out"; }
check_gone "$H" "bad host.conf"
rm -f "$T/conf/host.conf"

# ---- reboot (an init without a reboot signal: stopped and started again) ----
R=$P-r
define "$R" 'exec sleep 1000000'
"$LVSH" start "$R" >/dev/null || fail "start $R"
p1=$(status_field "$R" pid)
out=$("$LVSH" reboot "$R" 2>&1)
echo "$out" | grep -q "^Domain '$R' is being rebooted$" && wait_for "[ \"\$(status_field $R pid)\" != $p1 ] && [ \"\$(status_field $R state)\" = running ]" &&
    [ "$("$LVSH" domstate "$R" --reason | head -1)" = "running (booted)" ] && ok "reboot: a new init, running (booted)" || fail "reboot: $out $(tail -5 "$T/log/$R.log")"
"$LVSH" destroy "$R" >/dev/null; check_gone "$R" reboot

# ---- on_poweroff / on_crash ----
O=$P-o
define "$O" 'read l; exit 0' restart restart destroy
"$LVSH" start "$O" >/dev/null || fail "start $O"
p1=$(status_field "$O" pid)
echo go | "$LVSH" console "$O" >/dev/null 2>&1 &
bg_pids="$bg_pids $!"
wait_for "grep -q 'on restarting' '$T/log/$O.log'" && wait_for "[ \"\$(status_field $O state)\" = running ] && [ \"\$(status_field $O pid)\" != $p1 ]" && ok "on_poweroff=restart: the guest runs again" || fail "on_poweroff restart: $(tail -5 "$T/log/$O.log")"
"$LVSH" destroy "$O" >/dev/null; check_gone "$O" "poweroff restart"
C=$P-c
define "$C" 'exec sleep 1000000' destroy restart restart
"$LVSH" start "$C" >/dev/null || fail "start $C"
p1=$(status_field "$C" pid)
kill -9 "$p1"
wait_for "[ \"\$(status_field $C pid)\" != $p1 ] && [ \"\$(status_field $C state)\" = running ]" && [ "$("$LVSH" domstate "$C" --reason | head -1)" = "running (crashed)" ] && ok "on_crash=restart: running (crashed)" || fail "on_crash restart: $(tail -5 "$T/log/$C.log")"
sed -i 's#<on_crash>restart#<on_crash>destroy#' "$T/conf/guests/$C.xml"
"$LVSH" destroy "$C" >/dev/null; "$LVSH" start "$C" >/dev/null
p1=$(status_field "$C" pid)
kill -9 "$p1"
wait_for "[ ! -e '$T/run/$C' ]" && grep -q "shutoff (crashed)" "$T/log/$C.log" && ok "on_crash=destroy: shut off (crashed)" || fail "on_crash destroy: $(tail -5 "$T/log/$C.log")"
check_gone "$C" crash

# ---- parallel starts and stops while lvsh list probes the same locks ----
names=""
for i in 1 2 3 4 5 6 7 8; do
    define "$P-p$i" 'exec sleep 1000000'
    names="$names $P-p$i"
done
( for k in $(seq 1 200); do "$LVSH" list --all >/dev/null 2>&1; done ) &
lpid=$!; bg_pids="$bg_pids $lpid"
spids=""
for n in $names; do "$LVSH" start "$n" >"$T/start-$n.out" 2>&1 & spids="$spids $!"; done
bad=0; for p in $spids; do wait "$p" || bad=$((bad + 1)); done
[ $bad = 0 ] && ok "8 parallel starts under concurrent lvsh list" || fail "parallel starts: $bad failed: $(cat "$T"/start-*.out)"
running=$("$LVSH" list | grep -c " $P-p[0-9]* *running")
[ "$running" = 8 ] && ok "all 8 listed running" || fail "listed running: $running"
dpids=""
for n in $names; do "$LVSH" destroy "$n" >/dev/null 2>&1 & dpids="$dpids $!"; done
bad=0; for p in $dpids; do wait "$p" || bad=$((bad + 1)); done
kill "$lpid" 2>/dev/null
[ $bad = 0 ] && ok "8 parallel destroys" || fail "parallel destroys: $bad failed"
for n in $names; do check_gone "$n" "parallel"; done

# ---- foreground: sd_notify and SIGTERM ----
N=$P-n
define "$N" 'trap "exit 0" TERM USR2 PWR; while :; do sleep 1; done'
socat -u UNIX-RECV:"$T/notify" OPEN:"$T/notify.out",creat,append &
npid=$!; bg_pids="$bg_pids $npid"
wait_for "[ -S '$T/notify' ]"
NOTIFY_SOCKET=$T/notify "$SUP" --foreground "$N" 2>"$T/fg.err" &
fpid=$!; bg_pids="$bg_pids $fpid"
wait_for "grep -q READY=1 '$T/notify.out'" && grep -q "MAINPID=$fpid" "$T/notify.out" && ok "sd_notify READY=1 and MAINPID received" || fail "notify: $(cat "$T/notify.out")"
[ "$(status_field "$N" state)" = running ] || fail "foreground guest not running"
kill -TERM "$fpid"; wait "$fpid"; rc=$?
[ $rc = 0 ] && grep -q "shutoff (shutdown)" "$T/log/$N.log" && ok "SIGTERM: graceful shutdown, exit 0" || fail "SIGTERM: rc=$rc $(tail -5 "$T/log/$N.log")"
grep -q "$N info:" "$T/fg.err" && ok "foreground logs to stderr too" || fail "no stderr log"
check_gone "$N" SIGTERM
kill "$npid" 2>/dev/null

for f in "$T"/sanitizer.*; do
    [ -f "$f" ] || continue
    fail "sanitizer report $f:"
    head -40 "$f"
done

echo "$fails failure(s)"
[ $fails = 0 ]
