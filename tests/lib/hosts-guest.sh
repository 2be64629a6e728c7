# A guest moving between the two "hosts" of tests/lib/hosts.sh (sourced
# after it by tests/migration/*.sh). The caller sets T (its directory,
# HOSTS_DIR), G (the guest's name), LVSH, FAILS=0 and HELPERS="" (pids of
# background helpers, killed at the end), and calls `trap hosts_guest_cleanup
# EXIT INT TERM`.

hosts_guest_cleanup() { # helpers, the guest on both hosts, its QEMUs, the hosts, $T
    local h f pid
    for h in $HELPERS; do kill "$h" 2>/dev/null; wait "$h" 2>/dev/null; done
    for h in a b; do hosts_on "$h" "$LVSH" destroy $G >/dev/null 2>&1; done
    for f in "$T"/*/run/*/qemu.json; do
        [ -e "$f" ] || continue
        pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$f")
        [ -n "$pid" ] && grep -q "$T" "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid"
    done
    hosts_destroy
    if [ "$FAILS" != 0 ]; then
        for f in "$T"/*/log/*.log; do echo "--- $f"; tail -n 25 "$f"; done
    fi
    rm -rf "$T"
}

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok   $*"; }

wait_for() { # FILE PATTERN SECONDS
    local i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -aq "$2" "$1" 2>/dev/null && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
last_counter() { grep -ao 'LV-COUNTER [0-9]*' "$1" | tail -n1 | awk '{print $2}'; }
console() { # HOST FILE [SECONDS]: capture the guest's console there
    $(hosts_prefix "$1") timeout "${3:-120}" "$LVSH" console $G < /dev/null > "$2" 2>&1 &
    HELPERS="$HELPERS $!"
}
