# Shared by the shell tests that run real containers through lvsh
# (sourced): lvtest_tree TAG checks for root and a static busybox (else
# exits 77), makes the temporary tree $T with LITEVIRT_{CONFDIR,GUESTDIR,
# RUNDIR,LOGDIR} below it and a busybox root filesystem $T/rootfs, sets
# LVSH, and sends sanitizer reports of detached supervisors (their stderr
# is /dev/null) to $T/sanitizer*, which lvtest_sanitizer_check turns into
# a failure. fail/ok count and print results.

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok $*"; }

lvtest_tree() { # TAG
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
    BUSYBOX=$(command -v busybox) || { echo "SKIP: busybox missing"; exit 77; }
    file -L "$BUSYBOX" 2>/dev/null | grep -q "statically linked" || { echo "SKIP: no static busybox"; exit 77; }
    LVSH=${LV_BUILD_ROOT:?}/lvsh
    T=$(mktemp -d "/tmp/lv-test-$1.XXXXXX")
    export LITEVIRT_CONFDIR=$T/conf LITEVIRT_GUESTDIR=$T/conf/guests LITEVIRT_RUNDIR=$T/run \
        LITEVIRT_LOGDIR=$T/log
    mkdir -p "$T/conf/guests" "$T/run" "$T/rootfs/bin"
    cp "$BUSYBOX" "$T/rootfs/bin/busybox"
    ln -s busybox "$T/rootfs/bin/sh"
    if [ -n "${ASAN_OPTIONS:-}" ]; then
        export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$T/sanitizer"
        export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$T/sanitizer"
    fi
}

lvtest_sanitizer_check() {
    if ls "$T"/sanitizer* >/dev/null 2>&1; then
        fail "sanitizer reports: $(cat "$T"/sanitizer*)"
    fi
}

# Cleanup of a test's guests (needs tests/lib/cgroups.sh): destroy,
# undefine, and remove what is left of their cgroups.
lvtest_guest_remove() { # NAME...
    local n d
    for n in "$@"; do
        "$LVSH" destroy "$n" >/dev/null 2>&1
        "$LVSH" undefine "$n" >/dev/null 2>&1
        for d in $(cgroup_dirs "$n"); do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
    done
}

lvtest_wait_grep() { # FILE PATTERN SECONDS: PATTERN appears in FILE within SECONDS
    local i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -aq "$2" "$1" 2>/dev/null && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

lvtest_wait() { # CONDITION SECONDS: the shell CONDITION holds within SECONDS
    local i=0
    while ! eval "$1" >/dev/null 2>&1; do
        [ $i -ge $(($2 * 10)) ] && return 1
        sleep 0.1; i=$((i + 1))
    done
}
