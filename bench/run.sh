#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/run.sh: litevirt against its peers, all in one run, same busybox
# rootfs, same payload. Writes the raw results (TSV) and the tables of
# docs/performance.md (between its RESULTS markers).
#
#   sudo bench/run.sh                      # everything, defaults below
#   N=30 GUESTS=20 DENSITY=200 bench/run.sh
#   TOOLS="unshare lxc" bench/run.sh       # a subset
#
# Environment:
#   LV_BUILD  build dir holding lvsh and litevirt-supervisor (default:
#             build-bench, set up (-Dtests=false) and brought up to date here)
#   TOOLS     default "unshare crun lxc libvirt nspawn s6 conmon litevirt
#             litevirt_defined" (s6 and conmon: memory references only)
#   N         start/stop iterations per tool (default 20, plus 2 warm-up)
#   ROUNDS    the latency runs are interleaved across tools in this many
#             rounds (default 4), so load drift hits all tools alike
#   GUESTS    guests kept running for the memory figure (default 20)
#   MEM_STEPS memory is also reported with these many guests running, on
#             the way to GUESTS (default "1 5")
#   DENSITY   containers started one after another (default 200, the time
#             of the first 100 is reported too; 0 = skip)
#   OUT       markdown file to update (default docs/performance.md)
#   RAW       raw TSV (default bench/results/latest.tsv)
#   QEMU_START, QEMU_N, QEMU_GUESTS, QEMU_LIBVIRT, MIGRATE, QEMU_ONLY: the
#             QEMU guests' start table (on by default), memory and live
#             migration (off by default), see bench/lib/qemu-parts.sh
#
# Everything the run creates lives in one temp dir, one cgroup subtree
# (lvb-bench.PID below this shell's own cgroup, in every hierarchy) and the
# daemons it started; all are removed on exit, also on failure or Ctrl-C.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
LIB=$HERE/lib
TOOLS=${TOOLS:-"unshare crun lxc libvirt nspawn s6 conmon litevirt litevirt_defined"}
N=${N:-20}
ROUNDS=${ROUNDS:-4}
GUESTS=${GUESTS:-20}
MEM_STEPS=${MEM_STEPS:-"1 5"}
DENSITY=${DENSITY:-200}
OUT=${OUT:-$TOP/docs/performance.md}
RAW=${RAW:-$TOP/bench/results/latest.tsv}

if [ "$(id -u)" != 0 ]; then
    echo "bench/run.sh: needs root (namespaces, cgroups, peers)" >&2
    exit 1
fi

"$HERE/install-peers.sh" || exit 1

# how many names/definitions a tool's cmds function prepares
LVB_COUNT=$((N + 2))
[ "$GUESTS" -gt "$LVB_COUNT" ] && LVB_COUNT=$GUESTS
[ "$DENSITY" -gt "$LVB_COUNT" ] && LVB_COUNT=$DENSITY

# litevirt itself: a build of this tree (from a fresh clone: build-bench)
case " $TOOLS " in
*" litevirt"*)
    if [ -z "${LV_BUILD:-}" ]; then
        LV_BUILD=$TOP/build-bench
        if [ ! -f "$LV_BUILD/build.ninja" ]; then
            "$TOP/scripts/install-deps.sh" >/dev/null 2>&1
            meson setup "$LV_BUILD" "$TOP" -Dtests=false >/dev/null || exit 1
        fi
        ninja -C "$LV_BUILD" >/dev/null || { echo "bench/run.sh: litevirt does not build in $LV_BUILD" >&2; exit 1; }
    fi
    export LV_BUILD ;;
esac

# shellcheck source=lib/cgroup.sh
. "$LIB/cgroup.sh"
# shellcheck source=lib/teardown.sh
. "$LIB/teardown.sh"
for f in "$HERE"/peers/*.sh; do
    # shellcheck disable=SC1090
    . "$f"
done

WORK=$(mktemp -d /tmp/lvbench.XXXXXX)
PFX=lvb$$   # container names: ${PFX}l0 (latency), ${PFX}m0 (memory), ${PFX}d0 (density)
ROOTFS=$WORK/rootfs
# Runtime state of every tool (crun state, lxcpath, libvirt's /run,
# litevirt's RUNDIR) on a tmpfs, as /run is on a real host; definitions and
# logs stay on the disk ($WORK), as /etc and /var/log are.
RT=$WORK/rt
MARK=$ROOTFS/mark
RES=$WORK/results.tsv
export WORK ROOTFS LIB RT

cleanup() {
    trap - EXIT INT TERM
    peers_teardown
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# hf LABEL METRIC CMD...: hyperfine (no shell), median/min/max in ms
hf() {
    local label=$1 metric=$2
    shift 2
    hyperfine -N --style none --warmup 3 --runs "${HF_RUNS:-50}" --export-json "$WORK/hf.json" "$*" \
        > "$WORK/hf.out" 2>&1 || { log "$label: hyperfine failed: $(tail -n 3 "$WORK/hf.out")"; return 1; }
    python3 - "$WORK/hf.json" "$label" "$metric" <<'PY' | tee -a "$RES" >&2
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
t = sorted(x * 1000 for x in r["times"])
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{len(t)}\t{r['median'] * 1000:.3f}\t{t[0]:.3f}\t{t[-1]:.3f}")
PY
}

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# the QEMU guests: start table, memory, migration (bench/lib/qemu-parts.sh)
# shellcheck source=lib/qemu-parts.sh
. "$LIB/qemu-parts.sh"
if [ "${QEMU_ONLY:-0}" = 1 ]; then
    qemu_parts
    qemu_targets
    exit
fi

mkdir -p "$RT" && mount -t tmpfs -o size=512m,mode=755 lvb-rt "$RT" || exit 1
"$LIB/rootfs.sh" "$ROOTFS" || exit 1
cc -O2 -Wall -o "$WORK/lvb-run" "$LIB/lvb-run.c" || exit 1
cc -O2 -Wall -pthread -o "$WORK/lvb-varlink" "$LIB/lvb-varlink.c" 2>/dev/null ||
    log "lvb-varlink did not build: no control-socket latency"
cg_setup "$WORK"

# machine and load, recorded with the results
{
    printf 'meta\tdate\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf 'meta\tkernel\t%s\n' "$(uname -r)"
    printf 'meta\tcpu\t%s x %s\n' "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    printf 'meta\tmem\t%s\n' "$(free -g | awk '/Mem:/ {print $2 " GiB"}')"
    printf 'meta\tload_before\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf 'meta\tparams\tN=%s ROUNDS=%s GUESTS=%s MEM_STEPS="%s" DENSITY=%s\n' "$N" "$ROUNDS" "$GUESTS" "$MEM_STEPS" "$DENSITY"
    for p in crun lxc libvirt-daemon systemd-container s6 hyperfine util-linux; do
        printf 'meta\tversion\t%s %s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null)"
    done
} >> "$RES"

# lvb LABEL ARGS...: the harness, under the tool's wrapper (if any)
lvb() {
    local label=$1
    shift
    "${WRAP[@]}" "$WORK/lvb-run" -m "$MARK" -l "$label" -o "$RES" -L "$WORK/$label.log" "${CGOPT[@]}" "$@"
}

# PROFILE="litevirt lxc": the latency runs of those tools under a system-wide
# `perf record -g`; the CPU time of their processes goes to
# bench/results/profile-TOOL.txt (by process and library, then by symbol).
profile_report() {
    local t=$1 f=$TOP/bench/results/profile-$1.txt comms
    case $t in
    litevirt) comms=lvsh,litevirt-superv,lvb-idle,sleep ;;
    lxc) comms=lxc-start,lxc-stop,lvb-idle,sleep ;;
    libvirt) comms=virsh,libvirtd,libvirt_lxc,virtlogd,lvb-idle,sleep ;;
    *) comms="" ;;
    esac
    mkdir -p "$(dirname "$f")"
    {
        echo "# perf record -a -g during $N+2 start/stop cycles of $t ($(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg))"
        echo "# perf report --no-children --sort comm,dso${comms:+ --comms $comms}"
        perf report -i "$WORK/perf-$t.data" --no-children --percentage relative --sort comm,dso ${comms:+--comms "$comms"} \
            --stdio -g none --percent-limit 0.5 2>/dev/null | grep -v '^$'
        echo "# perf report --no-children --sort comm,sym (top 60)"
        perf report -i "$WORK/perf-$t.data" --no-children --percentage relative --sort comm,sym ${comms:+--comms "$comms"} \
            --stdio -g none --percent-limit 0.3 2>/dev/null | grep -v '^$' | head -n 80
    } > "$f"
    log "$t: profile in $f"
}

# The set-up of every tool, each from its own cgroup (daemons started there
# stay there); this shell keeps the environment they export.
setup_tools() {
    READY=""
    for t in $TOOLS; do
        if ! declare -F "peer_${t}_setup" >/dev/null; then
            log "unknown tool $t"
            continue
        fi
        cg_enter "$t"
        if "peer_${t}_setup"; then
            READY="$READY $t"
        else
            log "$t: set-up failed, skipped"
            printf '%s\tskipped\tset-up failed\n' "$t" >> "$RES"
        fi
    done
    cg_leave
}

# Start/stop latency of all tools, interleaved: ROUNDS rounds, each running
# N/ROUNDS cycles of every tool in turn, so that the load of this shared
# machine drifts over all tools alike. 2 warm-up cycles per tool first.
latency_rounds() {
    local r t n=$(( (N + ROUNDS - 1) / ROUNDS )) perf_pid=""
    if [ -n "${PROFILE:-}" ]; then
        perf record -q -a -g -o "$WORK/perf.data" >/dev/null 2>&1 &
        perf_pid=$!
        sleep 1
    fi
    for r in $(seq 1 "$ROUNDS"); do
        for t in $READY; do
            declare -F "peer_${t}_mem_only" >/dev/null && continue
            [ "$r" = 1 ] && printf 'meta\tload\t%s\t%s\n' "$t" "$(cut -d' ' -f1 /proc/loadavg)" >> "$RES"
            log "$t: start/stop latency, round $r of $ROUNDS, $n runs"
            (
                cg_enter "$t"
                WRAP=()
                CGOPT=()
                DETACH=0
                w=0
                [ "$r" = 1 ] && w=2
                LVB_COUNT=$((n + w))
                "peer_${t}_cmds" "${PFX}l${r}x" || exit 1
                det=()
                [ "$DETACH" = 1 ] && det=(-D)
                lvb "$t" -n "$n" -w "$w" -R "$RES" "${det[@]}" -- \
                    "${START[@]}" --stop "${STOP[@]}" --after "${AFTER[@]}" >&2 ||
                    log "$t: some runs failed, see $WORK/$t.log"
            )
        done
    done
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid"
        wait "$perf_pid"
        for t in $PROFILE; do profile_report "$t"; done
    fi
}

# Memory with GUESTS running, control round trip, density, tear-down; in a
# subshell living in the tool's cgroup.
bench_tool() {
    local t=$1
    WRAP=()
    CGOPT=()
    cg_enter "$t"
    trap '"peer_${t}_teardown" >/dev/null 2>&1' EXIT
    trap 'exit 130' INT TERM
    if declare -F "peer_${t}_latency_only" >/dev/null; then
        "peer_${t}_teardown"
        trap - EXIT
        return 0
    fi
    # memory as the guests grow: MEM_STEPS running (the last is GUESTS,
    # the figure of the targets); each step adds guests to the previous
    local k have=0 steps
    steps=$(for k in $MEM_STEPS "$GUESTS"; do [ "$k" -le "$GUESTS" ] && echo "$k"; done | sort -nu)
    for k in $steps; do
        log "$t: memory with $k guests"
        "peer_${t}_cmds" "${PFX}m${k}x"
        lvb "$t-mem" -k -n "$((k - have))" -w 0 -- "${START[@]}" >&2 || log "$t: memory start failed"
        have=$k
        sleep 1
        label=$t
        [ "$k" != "$GUESTS" ] && label="$t@$k"
        # shellcheck disable=SC2046
        python3 "$LIB/mem.py" "$label" "$k" "libvirtd,virtlogd" $(grep /memory "$CG_LISTDIR/$t") >> "$RES"
        declare -F "peer_${t}_scale" >/dev/null && "peer_${t}_scale" "$k"
    done
    if declare -F "peer_${t}_dominfo" >/dev/null; then
        log "$t: control round trip"
        "peer_${t}_dominfo" "${PFX}m${GUESTS}x0"
    fi
    have=0
    for k in $steps; do
        "peer_${t}_stop_kept" "${PFX}m${k}x" "$((k - have))"
        have=$k
    done

    if [ "$DENSITY" -gt 0 ] && ! declare -F "peer_${t}_mem_only" >/dev/null; then
        log "$t: density, $DENSITY starts"
        "peer_${t}_cmds" "${PFX}d"
        lvb "$t-density" -k -K 100 -n "$DENSITY" -w 0 -T 120 -R "$RES" -- "${START[@]}" >&2 ||
            log "$t: density start failed"
        sleep 1
        # shellcheck disable=SC2046
        python3 "$LIB/mem.py" "$t-density" "$DENSITY" "libvirtd,virtlogd" $(grep /memory "$CG_LISTDIR/$t") >> "$RES"
        declare -F "peer_${t}_scale" >/dev/null && "peer_${t}_scale" "$DENSITY"
        "peer_${t}_stop_kept" "${PFX}d" "$DENSITY"
    fi
    "peer_${t}_teardown"
    trap - EXIT
    return 0
}

setup_tools
latency_rounds
for t in $READY; do
    (bench_tool "$t")
    # whatever the tool left running in its cgroup is ours: end it by pid
    left=$(cg_procs "$t")
    if [ -n "$left" ]; then
        log "$t: left processes behind: $(echo $left)"
        # shellcheck disable=SC2086
        kill -KILL $left 2>/dev/null
    fi
done
printf 'meta\tload_after\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$RES"

mkdir -p "$(dirname "$RAW")"
cp "$RES" "$RAW"
python3 "$LIB/report.py" "$RES" "$OUT" && log "tables written to $OUT (raw: $RAW)"
# the targets, measured / met / missed, also here
sed -n '/^### Where litevirt stands against the targets/,/^<!-- END RESULTS -->/p' "$OUT" | grep '^|'
qemu_parts
qemu_targets
