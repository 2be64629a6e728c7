#!/bin/sh
# README command 2: install what is missing, build, and run the whole test
# suite twice: a normal build, and one with AddressSanitizer and
# UndefinedBehaviorSanitizer. The last line counts meson's real results:
#   N passed, N failed[, N skipped]
set -u
cd "$(dirname "$0")/.."
top=$(pwd)

scripts/install-deps.sh || { echo "error: installing dependencies failed"; echo "0 passed, 1 failed"; exit 1; }

status=0
logs=""
run_suite() { # name, meson options...
    name=$1; shift
    dir="$top/build-ci-$name"
    if [ ! -d "$dir" ]; then
        meson setup "$dir" --werror "$@" >/dev/null || { echo "error: meson setup ($name) failed"; status=1; logs="$logs $dir/SETUP-FAILED"; return; }
    fi
    if ! ninja -C "$dir" >"$dir.ninja.log" 2>&1; then
        cat "$dir.ninja.log"; echo "error: build ($name) failed"; status=1; logs="$logs $dir/BUILD-FAILED"; return
    fi
    echo "== test suite: $name build =="
    meson test -C "$dir" --print-errorlogs --num-processes 1 --timeout-multiplier "${LV_TIMEOUT_MULTIPLIER:-2}" || status=1
    logs="$logs $dir/meson-logs/testlog.json"
}

run_suite plain
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suite sanitize -Db_sanitize=address,undefined -Db_lundef=false

# Count from meson's own per-test records (one JSON object per line).
# shellcheck disable=SC2086
python3 - $logs <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
if not sys.argv[1:]:
    failed += 1
s = f"{passed} passed, {failed} failed"
if skipped:
    s += f", {skipped} skipped"
print(s)
sys.exit(1 if failed else 0)
PY
rc=$?
[ $status -ne 0 ] && rc=1
exit $rc
