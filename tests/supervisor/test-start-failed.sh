#!/bin/sh
# A failed `lvsh start` leaves nothing behind by the time it returns
# (issue 3): no state directory, no status, no cgroup of the guest, no
# supervisor process and no container process — checked at once after
# lvsh returns, with no waiting. Failures tried: init missing in the
# rootfs (the child fails at exec, after clone, cgroup and console), and
# a rootfs that does not exist (fails before clone). Needs root and
# busybox-static; everything lives in a temporary LITEVIRT_* tree.
set -u

. "${LV_SOURCE_ROOT:?}/tests/lib/lvtest.sh"
lvtest_tree startfail
P=sf$$

. "${LV_SOURCE_ROOT:?}/tests/lib/cgroups.sh"

# The supervisor's pid, from its log ("supervisor ... (pid N) starting").
sup_pid() {
    sed -n 's/.*supervisor .* (pid \([0-9]*\)) starting.*/\1/p' "$T/log/$1.log" 2>/dev/null | tail -1
}
# Whether pid runs (a zombie waiting for its reaper has let go of all).
running() {
    [ -r "/proc/$1/status" ] || return 1
    ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}
# Processes whose root is below our temporary rootfs (a container init).
container_pids() {
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        case $r in "$T"/rootfs*) echo "${p#/proc/}" ;; esac
    done
}

cleanup() {
    for n in "$P"a "$P"b; do
        p=$(sup_pid "$n")
        [ -n "$p" ] && running "$p" && kill -9 "$p" 2>/dev/null
        "$LVSH" destroy "$n" >/dev/null 2>&1
        "$LVSH" undefine "$n" >/dev/null 2>&1
        for d in $(cgroup_dirs "$n"); do rmdir "$d" 2>/dev/null; done
    done
    for p in $(container_pids); do kill -9 "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

define() { # NAME INIT ROOTFS
    cat > "$T/$1.xml" <<EOX
<domain type='lxc'>
  <name>$1</name>
  <memory unit='KiB'>65536</memory>
  <os><type>exe</type><init>$2</init></os>
  <devices>
    <filesystem type='mount'><source dir='$3'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>
EOX
    "$LVSH" define "$T/$1.xml" >/dev/null || fail "define $1"
}

check_nothing_left() { # NAME WHAT
    n=$1
    out=$("$LVSH" start "$n" 2>&1) && { fail "$2: start succeeded"; return; }
    # No sleeping, no polling: everything must be gone right now.
    left=""
    [ -e "$T/run/$n" ] && left="$left state-dir($(ls -A "$T/run/$n" | tr '\n' ' '))"
    st=$("$LVSH" domstate "$n" 2>&1)
    [ "$st" = "shut off" ] || left="$left domstate='$st'"
    cg=$(cgroup_dirs "$n")
    [ -n "$cg" ] && left="$left cgroup($cg)"
    p=$(sup_pid "$n")
    if [ -z "$p" ]; then
        left="$left no-supervisor-log"
    elif running "$p"; then
        left="$left supervisor($p)"
    fi
    c=$(container_pids)
    [ -n "$c" ] && left="$left container-process($c)"
    if [ -n "$left" ]; then
        fail "$2: left behind right after lvsh start returned:$left"
    else
        ok "$2: nothing left ($(echo "$out" | tail -1))"
    fi
}

define "${P}a" /bin/missing "$T/rootfs"
define "${P}b" /bin/sh "$T/no-such-rootfs"
i=0
while [ $i -lt 3 ]; do
    check_nothing_left "${P}a" "init missing, try $i"
    check_nothing_left "${P}b" "rootfs missing, try $i"
    i=$((i + 1))
done
# Deterministically: the supervisor stops itself (SIGSTOP) right after
# writing its failure report. lvsh start must not return while it exists:
# it returns only once the supervisor has exited (SIGCONT lets it go on).
# Not a timing assertion: a slow machine can only hide the bug, never
# fail a correct build.
LITEVIRT_FAULT=after-failure-report:stop "$LVSH" start "${P}a" >"$T/stopped.out" 2>&1 &
lv=$!
sp=""
n=0
while [ $n -lt 300 ]; do # until the supervisor has stopped itself (30 s at most)
    sp=$(sup_pid "${P}a")
    [ -n "$sp" ] && grep -q '^State:.*T' "/proc/$sp/status" 2>/dev/null && break
    sleep 0.1
    n=$((n + 1))
done
if [ $n -ge 300 ]; then
    fail "the supervisor never reached the after-failure-report point"
else
    n=0
    while [ $n -lt 20 ] && kill -0 $lv 2>/dev/null; do sleep 0.1; n=$((n + 1)); done
    if kill -0 $lv 2>/dev/null; then
        ok "lvsh start waits while the failed supervisor still exists"
    else
        fail "lvsh start returned while the failed supervisor $sp still exists: $(cat "$T/stopped.out")"
    fi
    kill -CONT "$sp" 2>/dev/null
    wait $lv
    rc=$?
    left=""
    running "$sp" && left="$left supervisor($sp)"
    [ -e "$T/run/${P}a" ] && left="$left state-dir"
    if [ $rc = 0 ]; then
        fail "start with a missing init succeeded"
    elif [ -n "$left" ]; then
        fail "after SIGCONT, lvsh returned with$left left"
    else
        ok "after SIGCONT, lvsh returns the failure with nothing left ($(tail -1 "$T/stopped.out"))"
    fi
fi
# Make sure the name's supervisor log does not name the stopped one.
: > "$T/log/${P}a.log"

# And the guest still starts once it can.
cat > "$T/rootfs/bin/missing" <<'EOS'
#!/bin/sh
exec /bin/busybox sleep 1000
EOS
chmod 755 "$T/rootfs/bin/missing"
if "$LVSH" start "${P}a" >/dev/null 2>&1 && [ "$("$LVSH" domstate "${P}a")" = running ]; then
    ok "starts once init exists"
else
    fail "start after the failures: $("$LVSH" domstate "${P}a" 2>&1)"
fi
"$LVSH" destroy "${P}a" >/dev/null 2>&1

for f in "$T"/sanitizer*; do
    [ -f "$f" ] || continue
    fail "sanitizer report $f:"
    cat "$f"
done

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
exit 0
