#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/migrate-dirty.sh: live migration of a 512 MiB TCG guest that dirties
# memory faster than the link carries it, and storage migration of a 256 MiB
# disk, litevirt against QEMU driven by hand (the same QMP sequence,
# bench/lib/qmp-migrate.py) and against libvirt's `virsh migrate --p2p`
# (two libvirtds started by hand, bench/lib/libvirt-hosts.sh), in ONE run,
# interleaved: each round runs every mode once per tool, the tools' order
# rotating from round to round.
#
#   sudo bench/migrate-dirty.sh [BUILD-DIR]       (default build/)
#   knobs: ROUNDS (3), SET (MiB written over and over, 64), RATE (MiB/s
#   written, 64), BW (--bandwidth MiB/s, 32), WINDOW (s a pre-copy runs
#   before it is aborted, 12), TMO (--timeout s, 3), MODES ("precopy
#   autoconverge postcopy timeout"), TOOLS ("litevirt qemu libvirt"),
#   STORAGE (1: also --copy-storage-all of a 256 MiB disk, litevirt and
#   libvirt; 0: not)
#
# The guest: tests/qemu/build-guest.sh's, 512 MiB, 1 vCPU, kernel command
# line lv_dirty=SET lv_dirty_rate=RATE (tests/qemu/lv-dirty.c writes SET MiB
# page by page at RATE MiB/s; its console line with the rate it achieved,
# 5 s after it starts, is waited for before each migration and reported). A fresh guest per migration (a throttled TCG
# guest may hang after auto-converge, docs/migration.md). Every migration
# is capped at BW MiB/s, below RATE, so that plain pre-copy does not
# converge by itself:
#   precopy       --bandwidth BW only: aborted after WINDOW s (not converged,
#                 with the passes and bytes sent by then)
#   autoconverge  --auto-converge
#   postcopy      --postcopy, then migrate-postcopy once the job's pass count
#                 (domjobinfo "Iteration", polled every 200 ms) reaches 2
#   timeout       --timeout TMO (suspend: the guest is stopped after TMO s)
# Figures: total = the migrate command issued -> returned (what the user
# waits); downtime and bytes as each tool reports them (litevirt: `lvsh
# domjobinfo --completed` on the source, QEMU's own; libvirt: `virsh
# domjobinfo --completed` on the destination, libvirt's source pause ->
# destination resume; QEMU by hand: query-migrate).
#
# Two "hosts" = two network namespaces joined by a veth pair
# (tests/lib/hosts.sh; 10.81.0.1/.2), each with its own cgroups below ours,
# litevirt's directories and, for libvirt, a libvirtd + virtlogd in a mount
# + cgroup namespace of its own in the same network namespace. For storage
# migration each host has its own disk directory (a mount namespace each).
#
# Post-copy: litevirt's QEMU runs as its own uid and QEMU 7.2 makes its
# userfaultfd itself, so with "postcopy" in MODES this sets
# vm.unprivileged_userfaultfd=1 for the run and puts the old value back on
# every exit (trap), saying so. Everything the run makes (guests, QEMUs,
# daemons, namespaces, veths, cgroups, the temp dir) is removed on every
# exit; the end of the output lists what is left of it (nothing).
# Benchmarks are not tests: nothing here asserts on time.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
ROUNDS=${ROUNDS:-3} SET=${SET:-64} RATE=${RATE:-64} BW=${BW:-32} WINDOW=${WINDOW:-12} TMO=${TMO:-3}
MODES=${MODES:-precopy autoconverge postcopy timeout} TOOLS=${TOOLS:-litevirt qemu libvirt}
STORAGE=${STORAGE:-1}
LVSH=$BUILD/lvsh
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
sh "$SRC/tests/qemu/build-guest.sh" "$BUILD/test-guest" || exit 1
T=$(mktemp -d /tmp/lv-bench-migdirty.XXXXXX)
chmod 0711 "$T" # QEMU runs as its own uid: it must reach its disks
mkdir -m 0711 "$T/lv" "$T/virt"
G=lvbd$$
HOSTS_DIR=$T/lv HOSTS_TAG=lvbd HOSTS_NET=10.81.0 HOSTS_SUP=$BUILD/litevirt-supervisor
. "$SRC/tests/lib/hosts.sh"
. "$SRC/tests/lib/hosts-guest.sh" # wait_for
LVH_DIR=$T/virt LVH_NS_A=$(hosts_ns a) LVH_NS_B=$(hosts_ns b)
LVH_ADDR_A=$HOSTS_NET.1 LVH_ADDR_B=$HOSTS_NET.2 LVH_SPLIT=$T/vdisks
LVH_ENTER_A=$HOSTS_DIR/enter-a LVH_ENTER_B=$HOSTS_DIR/enter-b
. "$SRC/bench/lib/libvirt-hosts.sh"
on() { hosts_on "$@"; }
virt() { local h=$1; shift; virsh -q -c "$(libvirt_uri "$h")" "$@"; }
HELPERS=""
UFFD=/proc/sys/vm/unprivileged_userfaultfd UFFD_OLD=""

qemu_stop() { # HOST: the hand-driven QEMU there, by the pid it wrote
    local p
    p=$(cat "$T/q-$1.pid" 2>/dev/null) || return 0
    [ -d "/proc/$p" ] && kill -9 "$p" 2>/dev/null
    while [ -d "/proc/$p" ]; do sleep 0.05; done
    rm -f "$T/q-$1.pid" "$T/q$1.sock"
}
helpers_stop() {
    local h
    for h in $HELPERS; do kill "$h" 2>/dev/null; wait "$h" 2>/dev/null; done
    HELPERS=""
}
cleanup() {
    set +e
    helpers_stop
    for h in a b; do on "$h" "$LVSH" destroy $G >/dev/null 2>&1; on "$h" "$LVSH" destroy ${G}s >/dev/null 2>&1; done
    qemu_stop a
    qemu_stop b
    libvirt_hosts_stop
    # libvirt's own cgroups below the hosts' (made by the daemons)
    [ -e "$HOSTS_DIR/cgdirs" ] && for d in $(cat "$HOSTS_DIR/cgdirs"); do
        [ -d "$d" ] && find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
    done
    hosts_destroy
    if [ -n "$UFFD_OLD" ]; then
        echo "$UFFD_OLD" > $UFFD && echo "vm.unprivileged_userfaultfd restored to $UFFD_OLD"
    fi
    rm -rf "$T"
    echo "left behind: $(ps -eo args | grep -c "[l]v-bench-migdirty") processes, $(ip netns | grep -c "^lvbd-.-$$") netns," \
        "$(find /sys/fs/cgroup -maxdepth 6 -type d -name "lvbd-$$-*" 2>/dev/null | wc -l) cgroups, temp dir $([ -e "$T" ] && echo "$T" || echo gone)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case " $MODES " in *" postcopy "*)
    UFFD_OLD=$(cat $UFFD)
    if [ "$UFFD_OLD" = 1 ]; then UFFD_OLD=""; else
        echo 1 > $UFFD || exit 1
        echo "vm.unprivileged_userfaultfd set to 1 for this run (was $UFFD_OLD; put back at exit): litevirt's QEMU runs as its own uid"
    fi ;;
esac

hosts_create || exit 1
hosts_split_dir "$T/disks" || exit 1
libvirt_hosts_start || exit 1

now_ms() { echo $(($(date +%s%N) / 1000000)); }
to_mib() { # "123.456 MiB" (virsh, lvsh) -> MiB
    awk '{v=$1; u=$2; m=(u=="B"||u=="bytes")?1/1048576:(u=="KiB")?1/1024:(u=="GiB")?1024:(u=="TiB")?1048576:1; printf "%.1f", v*m}'
}
field() { sed -n "s/^$1: *//p" | head -n1; } # domjobinfo FIELD
CMDLINE="console=ttyS0 quiet lv_dirty=$SET lv_dirty_rate=$RATE"
guest_xml() { # NAME DISK-PATH-or-"" CMDLINE SERIAL-XML
    cat <<XML
<domain type='qemu'><name>$1</name><memory unit='MiB'>512</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>$BUILD/test-guest/vmlinuz</kernel>
    <initrd>$BUILD/test-guest/initrd.gz</initrd><cmdline>$3</cmdline></os>
  <devices>${2:+<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$2'/>
    <target dev='vda' bus='virtio'/></disk>}
    $4
    <memballoon model='none'/>
  </devices>
</domain>
XML
}
guest_xml $G "" "$CMDLINE" "<serial type='pty'><target port='0'/></serial>" > "$T/lv.xml"
on a "$LVSH" define "$T/lv.xml" >/dev/null || exit 1
guest_xml lvbdv "" "$CMDLINE" "<serial type='file'><source path='$T/virt-con.log'/><target port='0'/></serial>" > "$T/virt.xml"
virt a define "$T/virt.xml" >/dev/null || exit 1

# litevirt's QEMU command line, for the hand-driven pair: the serial
# console to a file, the monitor on a unix socket
on a "$LVSH" start $G >/dev/null || exit 1
sed -n '/starting QEMU:/,/^$/p' "$HOSTS_DIR/a/log/$G.log" | sed -n '2,/^$/p' |
    sed 's/ \\$//' | grep -v '^$' | awk 'BEGIN{p=0} /^\/usr/{if(p)exit; p=1} {print}' |
    grep -v -- '^-incoming\|^-chardev socket,id=charmonitor\|^-mon \|^-sandbox\|^defer$\|^tcp:fd' |
    sed 's/^-chardev pty,id=charserial0$/-chardev file,id=charserial0,path=@CON@/' > "$T/qemu.args"
on a "$LVSH" destroy $G >/dev/null
grep -q '@CON@' "$T/qemu.args" || { echo "no serial chardev in litevirt's QEMU command line:"; cat "$T/qemu.args"; exit 1; }
qemu_start() { # HOST EXTRA...: litevirt's command line by hand there
    local h=$1 args
    shift
    args=$(sed "s|@CON@|$T/q-con-$h.log|" "$T/qemu.args" | tr '\n' ' ')
    eval "set -- $args"' "$@"'
    rm -f "$T/q-$h.pid" "$T/q-con-$h.log"
    $(hosts_prefix "$h") "$@" -qmp "unix:$T/q$h.sock,server=on,wait=off" -pidfile "$T/q-$h.pid" \
        > "$T/q-$h.log" 2>&1 &
    disown $! # ended by qemu_stop, by the pid QEMU wrote
}

mode_opts() { # MODE -> the options of litevirt's / virsh's migrate for it
    case $1 in
    autoconverge) echo --auto-converge ;;
    postcopy) echo --postcopy ;;
    timeout) echo "--timeout $TMO${2:+ $2}" ;;
    esac
}
# A migration MIG (pid) in the background, started at T0: switch to
# post-copy after the first pass or abort the pre-copy at WINDOW s. JOB and
# POSTCOPY and ABORT are the tool's commands; on abort the job's last
# domjobinfo is left in $T/job.
steer() { # MODE MIG T0 JOBCMD POSTCOPYCMD ABORTCMD
    local it
    case $1 in
    postcopy)
        while kill -0 "$2" 2>/dev/null; do
            it=$($4 2>/dev/null | field Iteration | tr -dc 0-9)
            [ -n "$it" ] && [ "$it" -ge 2 ] && { $5 >/dev/null 2>&1; break; }
            sleep 0.2
        done ;;
    precopy)
        while kill -0 "$2" 2>/dev/null && [ $(($(now_ms) - $3)) -lt $((WINDOW * 1000)) ]; do sleep 0.2; done
        kill -0 "$2" 2>/dev/null && $4 > "$T/job" 2>/dev/null && $6 >/dev/null 2>&1 ;;
    esac
}
RATE_SEEN=- RUN=0
dirtying() { # CONSOLE-FILE: the guest booted and writes memory at a steady rate -> RATE_SEEN (MiB/s)
    wait_for "$1" "LV-GUEST-BOOTED" 120 && wait_for "$1" "achieved=" 120 || return 1
    RATE_SEEN=$(grep -ao 'achieved=[0-9.]*' "$1" | tail -n1 | cut -d= -f2)
}
record() { # TOOL MODE TOTAL DOWNTIME MIB CONVERGED PASSES
    echo "$* ${RATE_SEEN:--} $(cut -d' ' -f1 /proc/loadavg)" | tr ' ' '\t' >> "$T/res.tsv"
    printf '  %-8s %-12s total %6s ms  downtime %5s ms  %8s MiB  converged %-3s passes %-3s (guest writing %s MiB/s; load %s)\n' \
        "$@" "${RATE_SEEN:--}" "$(cut -d' ' -f1 /proc/loadavg)"
    RATE_SEEN=-
}

run_litevirt() { # MODE
    local m=$1 t0 mig rc total out
    rm -f "$T/job"
    RUN=$((RUN + 1)) # a console capture of its own: nothing of an earlier one can match
    on a "$LVSH" start $G >/dev/null || { echo "litevirt: start failed"; return 1; }
    $(hosts_prefix a) timeout 600 "$LVSH" console $G < /dev/null > "$T/lv-con.$RUN" 2>&1 &
    HELPERS="$HELPERS $!"
    dirtying "$T/lv-con.$RUN" || { echo "litevirt: the guest does not dirty memory"; return 1; }
    t0=$(now_ms)
    # shellcheck disable=SC2046
    on a "$LVSH" migrate --live --bandwidth "$BW" $(mode_opts "$m") $G "$(hosts_transport b)" > "$T/mig" 2>&1 &
    mig=$!
    steer "$m" $mig "$t0" "on a $LVSH domjobinfo $G" "on a $LVSH migrate-postcopy $G" "on a $LVSH domjobabort $G"
    wait $mig
    rc=$? total=$(($(now_ms) - t0))
    helpers_stop
    if [ $rc = 0 ]; then
        out=$(on a "$LVSH" domjobinfo --completed $G)
        record litevirt "$m" $total "$(echo "$out" | field 'Total downtime' | tr -dc 0-9)" \
            "$(echo "$out" | field 'Data processed' | to_mib)" yes "$(echo "$out" | field Iteration | tr -dc 0-9)"
    else
        [ "$m" = precopy ] || echo "  litevirt $m failed: $(tr '\n' ' ' < "$T/mig")"
        record litevirt "$m" - - "$(field 'Data processed' < "$T/job" | to_mib)" no "$(field Iteration < "$T/job" | tr -dc 0-9)"
    fi
    on b "$LVSH" destroy $G >/dev/null 2>&1
    on a "$LVSH" destroy $G >/dev/null 2>&1
    return 0
}

run_qemu() { # MODE
    local m=$1 o=() r
    qemu_start a
    python3 "$SRC/bench/lib/qmp-migrate.py" boot "$T/qa.sock" || { cat "$T/q-a.log"; return 1; }
    dirtying "$T/q-con-a.log" || { echo "QEMU by hand: the guest does not dirty memory"; return 1; }
    qemu_start b -incoming defer
    case $m in
    autoconverge) o=(--auto-converge) ;;
    postcopy) o=(--postcopy) ;;
    timeout) o=(--timeout "$TMO") ;;
    precopy) o=(--abort-after "$WINDOW") ;;
    esac
    r=$(python3 "$SRC/bench/lib/qmp-migrate.py" migrate "$T/qa.sock" "$T/qb.sock" "tcp:$HOSTS_NET.2:49400" \
        --bandwidth "$BW" --json "${o[@]}") || echo "  QEMU by hand $m failed"
    qemu_stop a
    qemu_stop b
    helpers_stop
    [ -n "$r" ] || return 0
    # shellcheck disable=SC2046
    record qemu "$m" $(echo "$r" | python3 -c 'import json,sys; r=json.load(sys.stdin); c=r["converged"]
print(r["total_ms"] if c else "-", r["downtime_ms"] if c else "-", "%.1f" % (r["bytes"]/1048576), "yes" if c else "no", r["passes"])')
}

run_libvirt() { # MODE
    local m=$1 t0 mig rc total out d=lvbdv
    rm -f "$T/virt-con.log" "$T/job"
    virt a start $d >/dev/null || { echo "libvirt: start failed"; return 1; }
    dirtying "$T/virt-con.log" || { echo "libvirt: the guest does not dirty memory"; return 1; }
    t0=$(now_ms)
    # shellcheck disable=SC2046
    virt a migrate --live --p2p --bandwidth "$BW" $(mode_opts "$m" --timeout-suspend) $d \
        "qemu+tcp://$HOSTS_NET.2/system" --migrateuri "tcp://$HOSTS_NET.2" > "$T/mig" 2>&1 &
    mig=$!
    steer "$m" $mig "$t0" "virt a domjobinfo $d" "virt a migrate-postcopy $d" "virt a domjobabort $d"
    wait $mig
    rc=$? total=$(($(now_ms) - t0))
    if [ $rc = 0 ]; then
        out=$(virt a domjobinfo --completed $d 2>/dev/null)
        [ -n "$(echo "$out" | field 'Data processed')" ] || out=$(virt b domjobinfo --completed $d)
        record libvirt "$m" $total "$(echo "$out" | field 'Total downtime' | tr -dc 0-9)" \
            "$(echo "$out" | field 'Data processed' | to_mib)" yes "$(echo "$out" | field Iteration | tr -dc 0-9)"
    else
        [ "$m" = precopy ] || echo "  libvirt $m failed: $(tr '\n' ' ' < "$T/mig")"
        record libvirt "$m" - - "$(field 'Data processed' < "$T/job" | to_mib)" no "$(field Iteration < "$T/job" | tr -dc 0-9)"
    fi
    virt b destroy $d >/dev/null 2>&1
    virt a destroy $d >/dev/null 2>&1
    return 0
}

# ---- storage: a 256 MiB raw disk of random data, --copy-storage-all ----
DISK_SRC=$T/disk-256.img
storage_setup() {
    dd if=/dev/urandom of="$DISK_SRC" bs=1M count=256 status=none || return 1
    guest_xml ${G}s "$T/disks/disk.img" "console=ttyS0 quiet" "<serial type='pty'><target port='0'/></serial>" > "$T/lvs.xml"
    on a "$LVSH" define "$T/lvs.xml" >/dev/null || return 1
    guest_xml lvbds "$T/vdisks/disk.img" "console=ttyS0 quiet" \
        "<serial type='file'><source path='$T/virt-cons.log'/><target port='0'/></serial>" > "$T/virts.xml"
    virt a define "$T/virts.xml" >/dev/null
}
run_storage_litevirt() {
    local t0 rc total out
    cp "$DISK_SRC" "$HOSTS_DIR/a/split/disk.img" && rm -f "$HOSTS_DIR/b/split/disk.img"
    RUN=$((RUN + 1))
    on a "$LVSH" start ${G}s >/dev/null || { echo "litevirt: start failed"; return 1; }
    $(hosts_prefix a) timeout 600 "$LVSH" console ${G}s < /dev/null > "$T/lv-con.$RUN" 2>&1 &
    HELPERS="$HELPERS $!"
    wait_for "$T/lv-con.$RUN" "LV-COUNTER 2" 120 || { echo "litevirt: the guest does not boot"; return 1; }
    t0=$(now_ms)
    out=$(on a "$LVSH" migrate --live --copy-storage-all ${G}s "$(hosts_transport b)" 2>&1)
    rc=$? total=$(($(now_ms) - t0))
    helpers_stop
    if [ $rc = 0 ]; then
        out=$(on a "$LVSH" domjobinfo --completed ${G}s)
        record litevirt storage $total "$(echo "$out" | field 'Total downtime' | tr -dc 0-9)" \
            "$(echo "$out" | field 'Data processed' | to_mib)" yes "$(echo "$out" | field Iteration | tr -dc 0-9)"
    else
        echo "  litevirt storage failed: $out"
    fi
    on b "$LVSH" destroy ${G}s >/dev/null 2>&1
    on a "$LVSH" destroy ${G}s >/dev/null 2>&1
    return 0
}
run_storage_libvirt() {
    local t0 rc total out d=lvbds
    cp "$DISK_SRC" "$LVH_DIR/a/split/disk.img" && rm -f "$LVH_DIR/b/split/disk.img" "$T/virt-cons.log"
    truncate -s 256M "$LVH_DIR/b/split/disk.img" # libvirt needs the destination image to exist
    virt a start $d >/dev/null || { echo "libvirt: start failed"; return 1; }
    wait_for "$T/virt-cons.log" "LV-COUNTER 2" 120 || { echo "libvirt: the guest does not boot"; return 1; }
    t0=$(now_ms)
    out=$(virt a migrate --live --p2p --copy-storage-all $d "qemu+tcp://$HOSTS_NET.2/system" \
        --migrateuri "tcp://$HOSTS_NET.2" 2>&1)
    rc=$? total=$(($(now_ms) - t0))
    if [ $rc = 0 ]; then
        out=$(virt b domjobinfo --completed $d)
        record libvirt storage $total "$(echo "$out" | field 'Total downtime' | tr -dc 0-9)" \
            "$(echo "$out" | field 'Data processed' | to_mib)" yes "$(echo "$out" | field Iteration | tr -dc 0-9)"
    else
        echo "  libvirt storage failed: $out"
    fi
    virt b destroy $d >/dev/null 2>&1
    virt a destroy $d >/dev/null 2>&1
    return 0
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs;" \
    "guest 512 MiB TCG writing $SET MiB at $RATE MiB/s; --bandwidth $BW; pre-copy aborted after $WINDOW s; --timeout $TMO"
: > "$T/res.tsv"
[ "$STORAGE" = 1 ] && { storage_setup || exit 1; }
set -- $TOOLS
for r in $(seq "$ROUNDS"); do
    echo "round $r (tools: $*)"
    for m in $MODES; do
        for tool in "$@"; do "run_$tool" "$m" || exit 1; done
    done
    if [ "$STORAGE" = 1 ]; then
        run_storage_litevirt || exit 1
        run_storage_libvirt || exit 1
    fi
    set -- "${@:2}" "$1" # the next round starts with the next tool
done
echo "# done $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$T/res.tsv" "$TMO" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
def med(v):
    v = [float(x) for x in v if x not in ("-", "")]
    return statistics.median(v) if v else None
def f(x, d=0):
    return "–" if x is None else ("%.*f" % (d, x))
tab, modes = {}, []
for tool, mode, total, down, mib, conv, passes, rate, load in rows:
    tab.setdefault((tool, mode), []).append((total, down, mib, conv, passes, load, rate))
    if mode not in modes: modes.append(mode)
print("| mode | tool | runs converged | total, ms (median) | downtime, ms | sent, MiB | passes | guest writing, MiB/s | load |")
print("|---|---|---|---|---|---|---|---|---|")
for m in modes:
    for t in ("litevirt", "qemu", "libvirt"):
        r = tab.get((t, m))
        if not r: continue
        name = {"qemu": "QEMU by hand"}.get(t, t)
        print("| %s | %s | %d/%d | %s | %s | %s | %s | %s | %s–%s |" % (m, name, sum(x[3] == "yes" for x in r), len(r),
              f(med(x[0] for x in r)), f(med(x[1] for x in r)), f(med(x[2] for x in r), 1),
              f(med(x[4] for x in r)), f(med(x[6] for x in r), 1), min(x[5] for x in r), max(x[5] for x in r)))
if tab.get(("litevirt", "timeout")) or tab.get(("qemu", "timeout")):
    print()
    print("timeout: the guest is suspended at %s s, so it is paused for about total - %s s, whatever the"
          " downtime column says (QEMU's counts from its own stop at the switch-over; libvirt's from its"
          " suspend):" % (sys.argv[2], sys.argv[2]))
    for t in ("litevirt", "qemu", "libvirt"):
        r = tab.get((t, "timeout"))
        tot = r and med(x[0] for x in r)
        if tot: print("  %-12s ~%d ms" % ({"qemu": "QEMU by hand"}.get(t, t), tot - float(sys.argv[2]) * 1000))
print()
print("ratios of the medians (total time as the user waits; downtime):")
for m in modes:
    lv = tab.get(("litevirt", m))
    if not lv: continue
    for t in ("qemu", "libvirt"):
        o = tab.get((t, m))
        if not o: continue
        a, b = med(x[0] for x in lv), med(x[0] for x in o)
        c, d = med(x[1] for x in lv), med(x[1] for x in o)
        print("  %-12s litevirt / %-12s total %s, downtime %s" % (m, {"qemu": "QEMU by hand"}.get(t, t),
              "%.2f" % (a / b) if a and b else "–", "%.2f" % (c / d) if c and d else "–"))
PY
