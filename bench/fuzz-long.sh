#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/fuzz-long.sh: run every libFuzzer target of a -Dfuzz=true clang build
# for longer than the test suite does, and print how many executions each
# survived.
#
#   bench/fuzz-long.sh [-b BUILDDIR] [-t SECONDS_PER_TARGET] [-j JOBS] [-o DOC]
#
# -b  a build configured with CC=clang -Dfuzz=true (default: build-fuzzlong,
#     set up here if missing with -Db_sanitize=address,undefined)
# -t  seconds per target (default 300)
# -j  libFuzzer workers per target (default 1: the machine is shared)
# -o  also write the table into DOC (between FUZZ markers), e.g.
#     docs/performance.md
#
# Seeds come from fuzz/corpus/NAME/ (target fuzz-NAME) and are only read: new
# inputs go to a temp corpus. A crash leaves its input in
# bench/results/fuzz-crashes/ (turn it into a regression test: add it to the
# target's corpus) and makes the exit status 1.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
BUILD=$TOP/build-fuzzlong
SECS=300
JOBS=1
DOC=""
while getopts "b:t:j:o:" o; do
    case $o in
    b) BUILD=$OPTARG ;;
    t) SECS=$OPTARG ;;
    j) JOBS=$OPTARG ;;
    o) DOC=$OPTARG ;;
    *) sed -n '3,20p' "$0" >&2; exit 2 ;;
    esac
done

if [ ! -d "$BUILD/fuzz" ]; then
    echo "fuzz-long: setting up $BUILD (clang, -Dfuzz=true)" >&2
    CC=clang meson setup "$BUILD" "$TOP" -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
        -Db_lundef=false >/dev/null || exit 1
fi
# regenerate build.ninja if meson files changed (targets are added over time)
ninja -C "$BUILD" build.ninja >/dev/null 2>&1
# only the fuzz targets (the rest of the tree need not build with clang)
mapfile -t fuzz_bins < <(ninja -C "$BUILD" -t targets all 2>/dev/null |
                         sed -n 's|^\(fuzz/fuzz-[^/.:]*\): c_LINKER$|\1|p')
if [ ${#fuzz_bins[@]} -eq 0 ]; then
    echo "fuzz-long: no fuzz target in $BUILD" >&2
    exit 1
fi
ninja -C "$BUILD" "${fuzz_bins[@]}" >/dev/null || { echo "fuzz-long: build failed in $BUILD" >&2; exit 1; }

WORK=$(mktemp -d /tmp/lvfuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
CRASHES=$TOP/bench/results/fuzz-crashes
mkdir -p "$CRASHES"

targets=()
for f in "$BUILD"/fuzz/fuzz-*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    # libFuzzer binaries only (the gcc build's corpus-replay drivers are not)
    grep -qa max_total_time "$f" 2>/dev/null || continue
    targets+=("$f")
done
if [ ${#targets[@]} -eq 0 ]; then
    echo "fuzz-long: no libFuzzer target in $BUILD/fuzz (configure with CC=clang -Dfuzz=true)" >&2
    exit 1
fi

rc=0
table="| target | seeds | seconds | executions survived (until the crash, if any) | exec/s | coverage (cov) | corpus at the end | result |
|---|---:|---:|---:|---:|---:|---:|---|"
for f in "${targets[@]}"; do
    name=$(basename "$f")
    seeds=$TOP/fuzz/corpus/${name#fuzz-}
    corpus=$WORK/$name
    mkdir -p "$corpus"
    nseeds=$(find "$seeds" -type f 2>/dev/null | wc -l)
    echo "fuzz-long: $name for ${SECS}s ($nseeds seeds)" >&2
    dict=()
    [ -f "$TOP/fuzz/${name#fuzz-}.dict" ] && dict=("-dict=$TOP/fuzz/${name#fuzz-}.dict")
    par=()
    [ "$JOBS" -gt 1 ] && par=("-jobs=$JOBS" "-workers=$JOBS")
    # libFuzzer's own fuzz-N.log files (with -jobs) go to jobs/; our log is log-NAME.txt
    rm -rf "$WORK/jobs"
    mkdir -p "$WORK/jobs"
    (cd "$WORK/jobs" && "$f" "$corpus" $([ -d "$seeds" ] && echo "$seeds") "${dict[@]}" "${par[@]}" \
        -max_total_time="$SECS" -print_final_stats=1 -artifact_prefix="$CRASHES/$name-" \
        -close_fd_mask=1 > "$WORK/log-$name.txt" 2>&1)
    r=$?
    # with -jobs>1 libFuzzer writes fuzz-N.log files in the cwd
    execs=$(grep -ho 'stat::number_of_executed_units: *[0-9]*' "$WORK/log-$name.txt" "$WORK"/jobs/fuzz-*.log 2>/dev/null |
            awk '{s += $2} END {print s + 0}')
    speed=$(grep -ho 'stat::average_exec_per_sec: *[0-9]*' "$WORK/log-$name.txt" | awk '{s += $2} END {print s + 0}')
    cov=$(grep -o 'cov: [0-9]*' "$WORK/log-$name.txt" | tail -n1 | awk '{print $2}')
    ncorp=$(find "$corpus" -type f | wc -l)
    if [ $r -eq 0 ]; then
        result="ok"
    else
        result="**crash** (exit $r, see $(ls -t "$CRASHES/$name-"* 2>/dev/null | head -n1))"
        rc=1
        tail -n 30 "$WORK/log-$name.txt" >&2
    fi
    table="$table
| $name | $nseeds | $SECS | $execs | $speed | ${cov:-?} | $ncorp | $result |"
done

out="Long fuzzing run, $(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null), \
\`bench/fuzz-long.sh -t $SECS -j $JOBS\` (clang $(clang -dumpversion 2>/dev/null), $(grep -o -- '-fsanitize=[a-z,]*' "$BUILD/build.ninja" | sort -u | tr '\n' ' '); load average $(cut -d' ' -f1-3 /proc/loadavg)):

$table"
echo "$out"
if [ -n "$DOC" ]; then
    python3 - "$DOC" "$out" <<'PY'
import sys
path, text = sys.argv[1], sys.argv[2]
B, E = "<!-- BEGIN FUZZ -->", "<!-- END FUZZ -->"
try:
    doc = open(path).read()
except OSError:
    doc = ""
if B not in doc or E not in doc:
    doc += f"\n## Fuzzing: executions survived\n\n{B}\n{E}\n"
head, rest = doc.split(B, 1)
_, tail = rest.split(E, 1)
open(path, "w").write(f"{head}{B}\n{text}\n{E}{tail}")
PY
fi
exit $rc
