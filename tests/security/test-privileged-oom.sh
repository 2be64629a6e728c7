#!/bin/sh
# Privileged containers are a choice that shows: a container without
# <idmap> logs a warning at start and `lvsh dominfo` says so; with <idmap>
# neither. OOM kills inside a guest are logged as they happen and counted
# in `lvsh domstats` (memory.oom_kills). Needs root.
. "$(dirname "$0")/lib.sh"
for a in sort; do ln -s busybox "$T/rootfs/bin/$a"; done

G=$P-priv
define "$G" "while :; do sleep 1; done"
"$LVSH" start "$G" >/dev/null || fail "start $G"
grep -q "warning: guest '$G': a privileged container (no <idmap>)" "$T/log/$G.log" &&
    ok "the log warns: $(grep -o "a privileged container.*" "$T/log/$G.log" | head -1)" ||
    fail "no warning in the log: $(tail -3 "$T/log/$G.log")"
"$LVSH" dominfo "$G" | grep -q "^Privileged: *yes" && ok "dominfo: $("$LVSH" dominfo "$G" | grep Privileged)" ||
    fail "dominfo: $("$LVSH" dominfo "$G")"
"$LVSH" destroy "$G" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$G' ]"

# With <idmap>: no warning, dominfo says no. (The mapped root needs to
# reach the root filesystem.)
chmod 711 "$T"
U=$P-umap
define "$U" "while :; do sleep 1; done"
sed -i "s|<on_poweroff>|<idmap><uid start='0' target='200000' count='65536'/><gid start='0' target='200000' count='65536'/></idmap>\n  <on_poweroff>|" "$T/conf/guests/$U.xml"
"$LVSH" start "$U" >/dev/null || fail "start $U: $(tail -3 "$T/log/$U.log")"
grep -q "privileged container" "$T/log/$U.log" && fail "warning for a container with <idmap>" ||
    ok "no warning with <idmap>"
"$LVSH" dominfo "$U" | grep -q "^Privileged: *no" && ok "dominfo: $("$LVSH" dominfo "$U" | grep Privileged)" ||
    fail "dominfo with idmap: $("$LVSH" dominfo "$U")"
"$LVSH" destroy "$U" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$U' ]"

# ---- OOM: a process that eats memory in a 32 MiB (memory+swap) guest ----
O=$P-oom
define "$O" "while :; do if [ -e /tmp/go ]; then rm /tmp/go; head -c 100000000 /dev/zero | sort >/dev/null; fi; sleep 0.2; done"
sed -i "s|</memory>|</memory>\n  <memtune><hard_limit unit='MiB'>32</hard_limit><swap_hard_limit unit='MiB'>32</swap_hard_limit></memtune>|" \
    "$T/conf/guests/$O.xml"
"$LVSH" start "$O" >/dev/null || fail "start $O: $(tail -3 "$T/log/$O.log")"
"$LVSH" domstats "$O" | grep -q "memory.oom_kills=0" && ok "domstats before: memory.oom_kills=0" ||
    fail "domstats: $("$LVSH" domstats "$O")"
# A process of the guest eats memory: sort holds its one 100 MB line.
touch "$T/rootfs/tmp/go"
wait_for "grep -q 'the OOM killer ended' '$T/log/$O.log'" &&
    ok "logged: $(grep -o "the OOM killer ended.*" "$T/log/$O.log" | head -1)" ||
    fail "no OOM kill logged: $(grep -i oom "$T/log/$O.log")"
n=$("$LVSH" domstats "$O" | sed -n 's/.*memory.oom_kills=//p')
[ "${n:-0}" -ge 1 ] && ok "domstats after: memory.oom_kills=$n" || fail "domstats after: $("$LVSH" domstats "$O")"
[ "$("$LVSH" domstate "$O")" = running ] && ok "the guest runs on" || fail "guest ended by the OOM kill"
"$LVSH" destroy "$O" >/dev/null 2>&1; wait_for "[ ! -e '$T/run/$O' ]"
for g in "$G" "$U" "$O"; do check_nothing_left "$g" "end"; done
finish security-privileged-oom
