#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/trust-cost.sh: what the container and control-socket confinement
# costs (docs/security.md): `lvsh start` time and the memory a running
# container's supervisor holds (the supervisor, plus its guard process),
# for two builds side by side, interleaved so that load drift on a shared
# machine hits both alike.
#
#   sudo bench/trust-cost.sh BEFORE_BUILD AFTER_BUILD [N]
#
# BEFORE_BUILD, AFTER_BUILD: build dirs holding lvsh and litevirt-supervisor
# (e.g. a build of the commit before the change, and build/). N: start +
# destroy cycles per build and round (default 20), 5 rounds (a failed start
# ends the run). Prints one
# line per build: median and mean start time, and the supervisor's (+
# guard's) RSS and PSS of a running container. Everything it makes lives
# in a temp dir and is removed on exit. Not a test: nothing is asserted.
set -u
[ "$(id -u)" = 0 ] || { echo "trust-cost.sh: needs root" >&2; exit 1; }
[ $# -ge 2 ] || { sed -n '2,16p' "$0"; exit 2; }
BEFORE=$(cd "$1" && pwd) AFTER=$(cd "$2" && pwd) N=${3:-20} ROUNDS=5
T=$(mktemp -d /tmp/lv-trust-cost.XXXXXX)
trap 'for b in before after; do for g in $(ls "$T/$b/run" 2>/dev/null); do
        LITEVIRT_CONFDIR=$T/$b/conf LITEVIRT_RUNDIR=$T/$b/run LITEVIRT_LOGDIR=$T/$b/log \
            "$T/$b.lvsh" destroy "$g" >/dev/null 2>&1; done; done; rm -rf "$T"' EXIT
mkdir -p "$T/rootfs/bin" "$T/rootfs/proc" "$T/rootfs/sys" "$T/rootfs/dev" "$T/rootfs/tmp"
cp "$(command -v busybox)" "$T/rootfs/bin/busybox"
ln -s busybox "$T/rootfs/bin/sh"; ln -s busybox "$T/rootfs/bin/sleep"
for b in before after; do
    mkdir -p "$T/$b/conf/guests" "$T/$b/run" "$T/$b/log"
    dir=$BEFORE; [ $b = after ] && dir=$AFTER
    ln -s "$dir/lvsh" "$T/$b.lvsh"
    cat >"$T/$b/conf/guests/tc$$.xml" <<XML
<domain type='lxc'>
  <name>tc$$</name>
  <memory unit='MiB'>64</memory>
  <os><type>exe</type><init>/bin/sleep</init><initarg>100000</initarg></os>
  <devices>
    <filesystem type='mount'><source dir='$T/rootfs'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>
XML
done
lv() { # BUILD ARGS...
    b=$1; shift
    LITEVIRT_CONFDIR=$T/$b/conf LITEVIRT_RUNDIR=$T/$b/run LITEVIRT_LOGDIR=$T/$b/log \
        LITEVIRT_MODULE_DIR=$(dirname "$(readlink "$T/$b.lvsh")") "$T/$b.lvsh" "$@"
}
now_us() { date +%s%6N; }
for b in before after; do lv $b start tc$$ >/dev/null && lv $b destroy tc$$ >/dev/null; done # warm-up
r=0
while [ $r -lt $ROUNDS ]; do
    for b in before after; do
        i=0
        while [ $i -lt "$N" ]; do
            t0=$(now_us)
            lv $b start tc$$ >/dev/null || { echo "start failed ($b)" >&2; exit 1; }
            t1=$(now_us)
            echo $((t1 - t0)) >>"$T/$b.times"
            lv $b destroy tc$$ >/dev/null 2>&1
            i=$((i + 1))
        done
    done
    r=$((r + 1))
done
mem() { # BUILD -> "rss_kib pss_kib procs" of the supervisor and its children but init
    lv "$1" start tc$$ >/dev/null
    sleep 1
    spid=$(cat "$T/$1/run/tc$$/supervisor.pid")
    init=$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$T/$1/run/tc$$/status.json" | head -1)
    rss=0 pss=0 n=0
    for p in $spid $(cat /proc/"$spid"/task/*/children); do
        [ "$p" = "$init" ] && continue
        # the guard shares the supervisor's address space (CLONE_VM): its
        # pages are the supervisor's, counted once (bench/lib/mem.py)
        [ "$p" != "$spid" ] && python3 -c "import ctypes,sys; sys.exit(ctypes.CDLL(None).syscall(312, $p, $spid, 1, 0, 0) != 0)" &&
            { n=$((n + 1)); continue; }
        rss=$((rss + $(sed -n 's/^Rss: *\([0-9]*\).*/\1/p' /proc/"$p"/smaps_rollup)))
        pss=$((pss + $(sed -n 's/^Pss: *\([0-9]*\).*/\1/p' /proc/"$p"/smaps_rollup)))
        n=$((n + 1))
    done
    lv "$1" destroy tc$$ >/dev/null 2>&1
    echo "$rss $pss $n"
}
printf '%-7s %9s %9s %12s %12s %s\n' build "median ms" "mean ms" "RSS KiB" "PSS KiB" "processes"
for b in before after; do
    set -- $(mem $b)
    sort -n "$T/$b.times" | awk -v b=$b -v rss="$1" -v pss="$2" -v n="$3" \
        '{ a[NR] = $1; s += $1 } END { printf "%-7s %9.1f %9.1f %12d %12d %d (of %d starts)\n",
            b, a[int((NR + 1) / 2)] / 1000, s / NR / 1000, rss, pss, n, NR }'
done
