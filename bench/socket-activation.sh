#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/socket-activation.sh: what socket activation of a guest's control
# socket could save (docs/supervisor.md, "Socket activation"). For N starts
# of a busybox container (`lvsh start`, traced with strace -f --seccomp-bpf
# on execve, listen and write only), prints the medians of: the
# supervisor's execve to its listen() on control.sock (how much earlier a
# socket systemd holds would accept), to the "ok" on the ready fd (guest
# running), and the whole `lvsh start` (what an on-demand start would add
# to the first connection).
#
#   sudo bench/socket-activation.sh BUILD [N]     (N default 20)
#
# Everything lives in a temp dir, removed on exit. Not a test.
set -u
[ "$(id -u)" = 0 ] || { echo "socket-activation.sh: needs root" >&2; exit 1; }
[ $# -ge 1 ] || { sed -n '2,14p' "$0"; exit 2; }
B=$(cd "$1" && pwd) N=${2:-20}
T=$(mktemp -d /tmp/lv-sockact.XXXXXX)
export LITEVIRT_CONFDIR=$T/conf LITEVIRT_GUESTDIR=$T/conf/guests LITEVIRT_RUNDIR=$T/run LITEVIRT_LOGDIR=$T/log
G=sa$$
trap '"$B/lvsh" destroy $G >/dev/null 2>&1; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
mkdir -p "$T/conf/guests" "$T/run" "$T/log" "$T/rootfs/bin"
cp "$(command -v busybox)" "$T/rootfs/bin/busybox"
ln -s busybox "$T/rootfs/bin/sh"
cat >"$T/conf/guests/$G.xml" <<XML
<domain type='lxc'>
  <name>$G</name>
  <memory unit='MiB'>64</memory>
  <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>while :; do sleep 1; done</initarg></os>
  <devices>
    <filesystem type='mount'><source dir='$T/rootfs'/><target dir='/'/></filesystem>
  </devices>
</domain>
XML
: >"$T/rows"
i=0
while [ $i -lt "$N" ]; do
    # strace -f would wait for the detached supervisor: once lvsh start
    # has returned, the shell ends strace (its parent), which lets go of it
    strace -I1 -f -ttt --seccomp-bpf -e trace=execve,listen,write,exit_group -o "$T/trace" \
        sh -c '"$0" start "$1" >/dev/null; kill -TERM $PPID' "$B/lvsh" $G 2>/dev/null
    [ "$("$B/lvsh" domstate $G)" = running ] || { echo "lvsh start failed" >&2; exit 1; }
    "$B/lvsh" destroy $G >/dev/null
    # lvsh's execve and exit, the supervisor's execve, the first listen()
    # (control.sock; the supervisor's pid changes as it detaches), its
    # "ok\n" on the ready fd 3
    awk '
        /execve\("[^"]*\/lvsh"/ && !lv { lv = $1; t0 = $2 }
        /execve\(.*litevirt-supervisor/ && !sv { sv = $1; te = $2 }
        /listen\(/ && !tl { tl = $2 }
        /write\(3, "ok\\n", 3\)/ { tr = $2 }
        $1 == lv && /exit_group\(/ { tend = $2 }
        END { printf "%.2f %.2f %.2f\n", (tl - te) * 1000, (tr - te) * 1000, (tend - t0) * 1000 }
    ' "$T/trace" >>"$T/rows"
    i=$((i + 1))
done
med() { cut -d' ' -f"$1" "$T/rows" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "starts: $N (strace-traced: absolute times are inflated, the shares are what counts)"
echo "supervisor execve -> control.sock listen(): median $(med 1) ms"
echo "supervisor execve -> ready (guest running): median $(med 2) ms"
echo "lvsh start, whole:                          median $(med 3) ms"
