#!/bin/bash
# Live migration: litevirt (`lvsh migrate --live`) against QEMU's own
# migration driven by hand over QMP (the floor), same guest, same run,
# between two "hosts" = two network namespaces joined by a veth pair.
#   bench/migrate.sh [BUILD-DIR] [ROUNDS]      (root; default build, 5 rounds)
# Prints per-round total/stream/downtime and the medians' ratios. The
# hand-driven QEMU pair runs litevirt's own QEMU command line (taken from
# the guest's log), with the monitor on a unix socket instead of fd 3.
# Interleaved: both guests run, one migration of each in turn. libvirt:
# bench/qemu-migrate-libvirt.sh; a memory-dirtying guest: bench/migrate-dirty.sh.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
ROUNDS=${2:-5}
LVSH=$BUILD/lvsh
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
sh "$SRC/tests/qemu/build-guest.sh" "$BUILD/test-guest" || exit 1
T=$(mktemp -d /tmp/lv-bench-migrate.XXXXXX)
# QEMU runs as its own uid: it must reach its disks (as under libvirt)
chmod 0711 "$T"
G=lvbmig$$
PIDS=""
# two hosts (tests/lib/hosts.sh): lvbm-a-$$ and lvbm-b-$$, 10.78.0.1 and .2
HOSTS_DIR=$T HOSTS_TAG=lvbm HOSTS_NET=10.78.0 HOSTS_SUP=$BUILD/litevirt-supervisor
. "$SRC/tests/lib/hosts.sh"
on() { hosts_on "$@"; }
transport() { hosts_transport "$1"; }
cleanup() {
    for h in a b; do on "$h" "$LVSH" destroy $G >/dev/null 2>&1; done
    # The hand-driven QEMUs, by the pid each wrote itself (-pidfile): the
    # background job's pid is a subshell, QEMU its child.
    for f in "$T"/q-*.pid; do
        [ -s "$f" ] || continue
        p=$(cat "$f"); [ -d "/proc/$p" ] || continue
        kill -9 "$p" 2>/dev/null
        while [ -d "/proc/$p" ]; do sleep 0.05; done
    done
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    hosts_destroy
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

hosts_create || exit 1
truncate -s 8M "$T/disk.img"
cat > "$T/guest.xml" <<XML
<domain type='qemu'><name>$G</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>$BUILD/test-guest/vmlinuz</kernel>
    <initrd>$BUILD/test-guest/initrd.gz</initrd><cmdline>console=ttyS0 quiet</cmdline></os>
  <devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$T/disk.img'/>
    <target dev='vda' bus='virtio'/></disk><serial type='pty'><target port='0'/></serial></devices>
</domain>
XML
on a "$LVSH" define "$T/guest.xml" >/dev/null && on a "$LVSH" start $G >/dev/null || exit 1
# litevirt's QEMU command line, for the hand-driven pair (its own disk:
# both guests run at once, interleaved)
cmd=$(sed -n '/starting QEMU:/,/^$/p' "$T/a/log/$G.log" | sed -n '2,/^$/p' | tail -n +1 |
      sed 's/ \\$//' | grep -v '^$' | awk 'BEGIN{p=0} /^\/usr/{if(p)exit; p=1} {print}' |
      grep -v -- '^-incoming\|^-chardev socket,id=charmonitor\|^-mon \|^-sandbox\|^defer$\|^tcp:fd')
truncate -s 8M "$T/disk-q.img"
echo "$cmd" | sed "s|$T/disk.img|$T/disk-q.img|g" > "$T/qemu.args"
start_qemu() { # HOST QMP-SOCK EXTRA...
    local h=$1 sock=$2; shift 2
    local args
    args=$(tr '\n' ' ' < "$T/qemu.args")
    eval "set -- $args"' "$@"'
    rm -f "$T/q-$h.pid"
    on "$h" "$@" -qmp "unix:$sock,server=on,wait=off" -pidfile "$T/q-$h.pid" > "$T/q-$h.log" 2>&1 &
    PIDS="$PIDS $!"
}
stop_qemu() { # HOST: the QEMU of that host, by the pid it wrote, and its job
    local p
    p=$(cat "$T/q-$1.pid" 2>/dev/null) || return 0
    kill -9 "$p" 2>/dev/null
    while [ -d "/proc/$p" ]; do sleep 0.05; done
    rm -f "$T/q-$1.pid"
}
start_qemu a "$T/qa.sock"
python3 "$SRC/bench/lib/qmp-migrate.py" boot "$T/qa.sock" || { cat "$T/qemu.args" "$T/q-a.log"; exit 1; }
sleep 4 # both booted (the test guest boots in ~2.3 s)
echo "$ROUNDS round trips, litevirt and QEMU by hand interleaved (one migration each in turn)"
echo "litevirt: lvsh migrate --live (ms: lvsh-wall, supervisor's total, QEMU stream, downtime)"
echo "QEMU by hand over QMP, litevirt's QMP sequence (bench/lib/qmp-migrate.py; ms: total to the destination's cont, QEMU total-time, downtime, total to the source QEMU's end, the command's wall time)"
: > "$T/lv.tsv"
: > "$T/q.tsv"
for _ in $(seq "$ROUNDS"); do
    for dir in ab ba; do
        src=${dir:0:1} dst=${dir:1:1}
        t0=$(date +%s%N)
        # lvsh is a client of the running supervisor: it needs the host's
        # directories, not its cgroups or network (entering those is the
        # rig's cost, 20-80 ms here under load: not what a user pays)
        out=$(env $(hosts_env "$src") "$LVSH" migrate --live $G "$(transport "$dst")" 2>&1) ||
            { echo "failed: $out"; exit 1; }
        wall=$((($(date +%s%N) - t0) / 1000000))
        line=$(echo "$out" | sed -n "s/.* in \([0-9]*\) ms (QEMU's stream \([0-9]*\) ms), downtime \([0-9]*\) ms.*/\1 \2 \3/p")
        line="$wall $line"
        echo "  litevirt $src->$dst $line"; echo "$line" >> "$T/lv.tsv"
        addr=$HOSTS_NET.2; [ $dst = a ] && addr=$HOSTS_NET.1
        start_qemu $dst "$T/q$dst.sock" -incoming defer
        t0=$(date +%s%N)
        line=$(python3 "$SRC/bench/lib/qmp-migrate.py" migrate "$T/q$src.sock" "$T/q$dst.sock" "tcp:$addr:49300" \
            --end-source) || exit 1
        line="$line $((($(date +%s%N) - t0) / 1000000))"
        echo "  by hand  $src->$dst $line"; echo "$line" >> "$T/q.tsv"
        # the source QEMU (paused after the migration) ends
        stop_qemu $src
        rm -f "$T/q$src.sock"
    done
done
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:int((a[NR/2]+a[NR/2+1])/2)}'; }
lw=$(cut -d' ' -f1 "$T/lv.tsv" | median) lt=$(cut -d' ' -f2 "$T/lv.tsv" | median)
ls=$(cut -d' ' -f3 "$T/lv.tsv" | median) ld=$(cut -d' ' -f4 "$T/lv.tsv" | median)
qt=$(cut -d' ' -f1 "$T/q.tsv" | median) qd=$(cut -d' ' -f3 "$T/q.tsv" | median)
qe=$(cut -d' ' -f4 "$T/q.tsv" | median) qw=$(cut -d' ' -f5 "$T/q.tsv" | median)
echo "medians: litevirt as the user waits (lvsh) $lw ms (supervisor's total $lt, stream $ls, downtime $ld);" \
    "QEMU by hand $qt ms to the destination's cont, $qe ms to the source QEMU's end, $qw ms the command (python start and QMP connect included), downtime $qd"
load=$(cut -d' ' -f1-3 /proc/loadavg)
target() { # WHAT FLOOR
    local met=met
    [ $((lw - $2)) -le 50 ] || met=missed
    echo "target: live migration <= QEMU by hand + 50 ms as the user waits ($1): measured $((lw - $2)) ms: $met (load $load)"
}
target "floor: migrate -> destination's cont" "$qt"
target "floor: the by-hand command, source QEMU ended as litevirt's and libvirt's are" "$qw"
awk -v a="$lw" -v b="$qw" -v c="$ld" -v d="$qd" 'BEGIN{printf "ratios litevirt/QEMU-by-hand: total %.2f, downtime %.2f\n", a/b, (d>0?c/d:0)}'
