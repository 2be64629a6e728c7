#!/bin/sh
# Run a libFuzzer target for a bounded number of runs on its seed corpus,
# writing new inputs to a scratch directory (never into the source tree).
# fuzz/<corpus name>.dict, when present, is the target's dictionary.
set -eu
exe=$1 corpus=$2 runs=$3
dict="$(dirname "$corpus")/../$(basename "$corpus").dict"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
set -- -runs="$runs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
[ -f "$dict" ] && set -- "$@" -dict="$dict"
"$exe" "$@" "$scratch" "$corpus"
