#!/bin/sh
# Attacks on a guest's control socket, from peers with different rights:
# a stranger (may not connect: "permission denied", never a made-up
# state), a member of socket_readonly_group (queries only), a member of
# socket_group (everything), and root. Floods that must not lock root
# out: 300 Events streams, connections beyond the supervisor's descriptor
# limit (no busy loop either), 255 clients pipelining calls without
# reading (memory bounded and given back). A message with a duplicate key
# must not run the last one. A symlink where the log or the console log
# goes is not followed. Needs root.
. "$(dirname "$0")/lib.sh"
# (the system's python3: the clients also run as uid 65534)
PY=/usr/bin/python3
[ -x $PY ] || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }
CLIENT="$PY $LV_SOURCE_ROOT/tests/security/control-client.py"
command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) missing"; exit 77; }
chmod 711 "$T"
chmod 1777 "$T/san"
# uid 65534 in three roles: socket_group is nogroup (65534), the read-only
# group adm (4); gid 100 (users) is neither.
as_stranger() { setpriv --reuid=65534 --regid=100 --clear-groups -- "$@"; }
as_reader() { setpriv --reuid=65534 --regid=100 --groups=4 -- "$@"; }
as_member() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
sock() { echo "$T/run/$1/control.sock"; }
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/"$1"/status; }

# hold WHO FILE ARGS...: run the holding client in the background (until
# release), wait for its "ready" line.
hold() {
    who=$1 out=$2
    shift 2
    rm -f "$T/hold"; mkfifo "$T/hold"; chmod 666 "$T/hold"
    $who $CLIENT hold "$@" <"$T/hold" >"$out" 2>&1 &
    bg_pids="$bg_pids $!"; hold_pid=$!
    exec 4>"$T/hold"
    wait_for "grep -q ready '$out'" || fail "holding client never ready: $(cat "$out")"
}
release() { exec 4>&-; wait "$hold_pid" 2>/dev/null; }

# ---- no groups: a stranger is told "permission denied" ----
G=$P-ctl
define "$G" "while :; do sleep 1; done"
"$LVSH" start "$G" >/dev/null || fail "start $G"
out=$(as_stranger "$LVSH" list --all 2>&1)
case "$out" in
*"ermission denied"*) ok "stranger's lvsh list: $(echo "$out" | head -1)" ;;
*) fail "stranger's lvsh list does not say permission denied: $out" ;;
esac
out=$(as_stranger "$LVSH" domstate "$G" 2>&1)
case "$out" in
*"ermission denied"*) ok "stranger's lvsh domstate: $out" ;;
*) fail "stranger's lvsh domstate: $out" ;;
esac

# ---- duplicate keys: never the last one wins ----
reply=$($CLIENT call "$(sock "$G")" '{"method":"io.litevirt.Guest.State","method":"io.litevirt.Guest.Destroy"}')
case "$reply" in
*ProtocolError*"duplicate key 'method'"*) ok "duplicate method refused: $reply" ;;
*) fail "duplicate method: $reply" ;;
esac
[ "$("$LVSH" domstate "$G")" = running ] && ok "the guest still runs" || fail "guest destroyed by a duplicate key"

# ---- 300 Events streams from root itself: root is still served ----
hold "" "$T/ev.out" "$(sock "$G")" 300 io.litevirt.Guest.Events
ok "root holds 300 connections asking for events: $(cat "$T/ev.out") streams granted"
out=$(timeout 20 "$LVSH" dominfo "$G" 2>&1)
echo "$out" | grep -q "State: *running" && ok "lvsh dominfo as root under 300 event streams" ||
    fail "lvsh dominfo under 300 event streams: $out"
release
"$LVSH" destroy "$G" >/dev/null 2>&1 || fail "destroy $G"
wait_for "[ ! -e '$T/run/$G' ]"

# ---- socket_group and socket_readonly_group ----
export LITEVIRT_CONTROL_GROUP=nogroup LITEVIRT_CONTROL_READONLY_GROUP=adm
"$LVSH" start "$G" >/dev/null || fail "start $G with groups"
[ "$(stat -c '%a %G' "$T/run/$G")" = "711 nogroup" ] && ok "state directory 0711 for the groups" ||
    fail "state directory: $(stat -c '%a %G' "$T/run/$G")"
[ "$(as_member "$LVSH" domstate "$G" 2>&1)" = running ] && ok "member of socket_group: domstate running" ||
    fail "member domstate: $(as_member "$LVSH" domstate "$G" 2>&1)"
as_member "$LVSH" suspend "$G" >/dev/null 2>&1 && [ "$("$LVSH" domstate "$G")" = paused ] &&
    as_member "$LVSH" resume "$G" >/dev/null 2>&1 && ok "member of socket_group: suspend and resume" ||
    fail "member could not suspend/resume"
[ "$(as_reader "$LVSH" domstate "$G" 2>&1)" = running ] && ok "read-only member: domstate running" ||
    fail "reader domstate: $(as_reader "$LVSH" domstate "$G" 2>&1)"
as_reader "$LVSH" dominfo "$G" 2>&1 | grep -q "State: *running" && ok "read-only member: dominfo" ||
    fail "reader dominfo: $(as_reader "$LVSH" dominfo "$G" 2>&1)"
for op in destroy suspend shutdown; do
    out=$(as_reader "$LVSH" $op "$G" 2>&1) && fail "read-only member could $op"
    case "$out" in
    *"ermission denied"*) ok "read-only member: $op refused ($(echo "$out" | tail -1))" ;;
    *) fail "read-only $op: $out" ;;
    esac
done
reply=$(as_reader $CLIENT call "$(sock "$G")" '{"method":"io.litevirt.Guest.GetXML"}')
case "$reply" in *"<domain"*) ok "read-only member: GetXML" ;; *) fail "reader GetXML: $reply" ;; esac
[ "$("$LVSH" domstate "$G")" = running ] && ok "the guest still runs" || fail "guest changed by a reader"
out=$(as_stranger "$LVSH" domstate "$G" 2>&1)
case "$out" in
*"ermission denied"*) ok "stranger, socket open to all: $out" ;;
*) fail "stranger domstate with groups: $out" ;;
esac

# 300 Events streams from one unprivileged peer: root still served.
hold as_member "$T/ev.out" "$(sock "$G")" 300 io.litevirt.Guest.Events
ok "uid 65534 holds 300 connections asking for events: $(cat "$T/ev.out") streams granted"
out=$(timeout 20 "$LVSH" dominfo "$G" 2>&1)
echo "$out" | grep -q "State: *running" && ok "lvsh dominfo as root under a peer's 300 event streams" ||
    fail "lvsh dominfo under a peer's streams: $out"
timeout 20 "$LVSH" destroy "$G" >/dev/null 2>&1 && ok "lvsh destroy as root under them" ||
    fail "lvsh destroy under a peer's event streams"
release
wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "groups"

# socket_group alone: 0710, the group's members connect.
unset LITEVIRT_CONTROL_READONLY_GROUP
"$LVSH" start "$G" >/dev/null || fail "start $G with socket_group"
[ "$(stat -c '%a %G' "$T/run/$G")" = "710 nogroup" ] && ok "state directory 0710 nogroup" ||
    fail "state directory: $(stat -c '%a %G' "$T/run/$G")"
[ "$(as_member "$LVSH" domstate "$G" 2>&1)" = running ] && ok "socket_group member: domstate running" ||
    fail "socket_group member: $(as_member "$LVSH" domstate "$G" 2>&1)"
as_member "$LVSH" destroy "$G" >/dev/null 2>&1 && ok "socket_group member: destroy" || fail "member destroy"
wait_for "[ ! -e '$T/run/$G' ]"
unset LITEVIRT_CONTROL_GROUP

# ---- out of descriptors: no busy loop, served again afterwards ----
E=$P-fd
define "$E" "while :; do sleep 1; done"
prlimit --nofile=16:48 "$LVSH" start "$E" >/dev/null || fail "start $E"
spid=$(cat "$T/run/$E/supervisor.pid")
grep -q "^Max open files *48 *48" /proc/"$spid"/limits && ok "supervisor raised its soft RLIMIT_NOFILE to the hard limit" ||
    fail "limits: $(grep 'open files' /proc/"$spid"/limits)"
hold "" "$T/fd.out" "$(sock "$E")" 100
c0=$(cpu_ticks "$spid"); sleep 2; c1=$(cpu_ticks "$spid")
[ $((c1 - c0)) -le 20 ] && ok "out of descriptors: the supervisor used $((c1 - c0)) ticks of CPU in 2 s" ||
    fail "busy loop out of descriptors: $((c1 - c0)) ticks in 2 s"
grep -q "accepting paused" "$T/log/$E.log" && ok "the log says accepting paused" || fail "no log of EMFILE"
release
out=$(timeout 20 "$LVSH" dominfo "$E" 2>&1)
echo "$out" | grep -q "State: *running" && ok "served again once clients left" || fail "after EMFILE: $out"
"$LVSH" destroy "$E" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$E' ]"

# ---- 255 clients pipelining calls they do not read: memory ----
M=$P-mem
define "$M" "while :; do sleep 1; done"
"$LVSH" start "$M" >/dev/null || fail "start $M"
spid=$(cat "$T/run/$M/supervisor.pid")
"$LVSH" dominfo "$M" >/dev/null
before=$(rss_kib "$spid")
rm -f "$T/pipe"; mkfifo "$T/pipe"
$CLIENT pipeline "$(sock "$M")" 255 400 <"$T/pipe" >"$T/pipe.out" 2>&1 &
pp=$!; bg_pids="$bg_pids $pp"
exec 5>"$T/pipe"
wait_for "grep -q sent '$T/pipe.out'" || fail "pipelining clients: $(cat "$T/pipe.out")"
# until the supervisor has done what it will do with them (idle for 0.5 s)
i=0
while [ $i -lt 60 ]; do
    c0=$(cpu_ticks "$spid"); sleep 0.5; c1=$(cpu_ticks "$spid")
    [ "$c0" = "$c1" ] && break
    i=$((i + 1))
done
peak=$(rss_kib "$spid")
echo go >&5; exec 5>&-
wait "$pp"
replies=$(sed -n 's/^replies //p' "$T/pipe.out")
[ "$replies" = $((255 * 400)) ] && ok "all $replies calls answered" || fail "pipelining: $(cat "$T/pipe.out")"
"$LVSH" dominfo "$M" >/dev/null
after=$(rss_kib "$spid")
echo "supervisor RSS: ${before} KiB before, ${peak} KiB with 255 clients not reading, ${after} KiB after they left"
if grep -q libasan /proc/"$spid"/maps; then
    # ASan's allocator keeps freed memory in quarantine: no figure to hold.
    ok "RSS not asserted in a sanitizer build"
else
    [ $((peak - before)) -le 40960 ] && ok "peak RSS grew $((peak - before)) KiB (bounded)" ||
        fail "peak RSS grew $((peak - before)) KiB"
    [ $((after - before)) -le 4096 ] && ok "RSS after the clients left: +$((after - before)) KiB" ||
        fail "RSS not given back: +$((after - before)) KiB"
fi
"$LVSH" destroy "$M" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$M' ]"

# ---- a symlink where the log goes ----
L=$P-log
define "$L" "while :; do sleep 1; done"
mkdir -p "$T/log"
ln -s "$T/victim" "$T/log/$L.log"
out=$("$LVSH" start "$L" 2>&1) && fail "started with a symlinked log file"
[ ! -e "$T/victim" ] && ok "the log symlink was not followed: $(echo "$out" | tail -1)" ||
    fail "the supervisor wrote through the log symlink"
check_nothing_left "$L" "symlinked log"

# ---- and where the console log goes: the guest runs, its output is not
# written through the link (the console log is given up with a warning) ----
C=$P-clog
define "$C" "while :; do echo console-flood-$C; sleep 1; done"
ln -s "$T/victim-console" "$T/log/$C.console.log"
"$LVSH" start "$C" >/dev/null 2>&1 || fail "start with a symlinked console log"
wait_for "grep -q 'console log' '$T/log/$C.log'" ||
    fail "no warning about the console log: $(tail -3 "$T/log/$C.log")"
[ ! -e "$T/victim-console" ] && ok "the console log symlink was not followed: $(grep 'console log' "$T/log/$C.log" | tail -1)" ||
    fail "the supervisor wrote the console through the symlink"
"$LVSH" destroy "$C" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$C' ]"
check_nothing_left "$C" "symlinked console log"

for g in "$G" "$E" "$M"; do check_nothing_left "$g" "end"; done
finish security-control-socket
