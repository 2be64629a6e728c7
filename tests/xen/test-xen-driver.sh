#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Xen driver with lvsh and the supervisor.
#   test-xen-driver.sh LVSH no-hypervisor
#       On a host without Xen: `lvsh start` of a Xen guest fails at once with
#       a message saying why, and leaves nothing behind (no run directory,
#       no supervisor process).
#   test-xen-driver.sh LVSH guest
#       On a Xen host (dom0, /proc/xen/capabilities has control_d): a PV
#       guest runs through `xl create -F`; state, suspend/resume, shutdown
#       and destroy map to xl. Needs LV_XEN_KERNEL (a PV-capable kernel,
#       e.g. Debian's cloud kernel) and optionally LV_XEN_INITRD.
# Exit 77 (skip) with the reason when the host cannot run the test.
set -u
LVSH=$1
MODE=$2

skip() { echo "# SKIP: $*"; exit 77; }
fail() { echo "not ok - $*"; exit 1; }

if ! "$LVSH" help 2>/dev/null | grep -q '^ *start '; then
        skip "this lvsh has no 'start' command yet (supervisor not built)"
fi

TMP=$(mktemp -d /tmp/lv-xen-test.XXXXXX) || exit 1
NAME=lvxentest$$
cleanup() {
        # a supervisor we started, found by its pid file only
        if [ -f "$TMP/run/$NAME/supervisor.pid" ]; then
                pid=$(cat "$TMP/run/$NAME/supervisor.pid")
                [ -n "$pid" ] && kill "$pid" 2>/dev/null
        fi
        if [ "$MODE" = guest ] && [ -n "${XL:-}" ]; then
                "$XL" destroy "$NAME" >/dev/null 2>&1
        fi
        rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
export LITEVIRT_CONFDIR="$TMP/etc" LITEVIRT_GUESTDIR="$TMP/etc/guests" LITEVIRT_RUNDIR="$TMP/run"
mkdir -p "$LITEVIRT_GUESTDIR" "$LITEVIRT_RUNDIR"

write_guest() {
        cat > "$TMP/$NAME.xml" <<EOX
<domain type='xen'>
  <name>$NAME</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type>linux</type>
    <kernel>$1</kernel>
    ${2:+<initrd>$2</initrd>}
    <cmdline>console=hvc0</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <console type='pty'><target type='xen' port='0'/></console>
  </devices>
</domain>
EOX
        "$LVSH" define "$TMP/$NAME.xml" >/dev/null || fail "lvsh define"
}

case $MODE in
no-hypervisor)
        if [ -e /proc/xen ]; then
                skip "this host has /proc/xen: the no-hypervisor case cannot be tested here"
        fi
        write_guest /nonexistent/vmlinuz ""
        out=$("$LVSH" start "$NAME" 2>&1)
        rc=$?
        [ $rc -ne 0 ] || fail "lvsh start succeeded without a hypervisor: $out"
        echo "$out" | grep -q "no Xen hypervisor on this host (/proc/xen is absent)" ||
                fail "lvsh start: unexpected message: $out"
        echo "ok - lvsh start refused: $out"
        # the supervisor may still be undoing its set-up when lvsh returns:
        # wait (bounded, 30 s) until it is gone, then look at what it left
        i=0
        while [ $i -lt 300 ]; do
                state=$("$LVSH" domstate "$NAME" 2>&1)
                if [ "$state" = "shut off" ] && [ ! -e "$LITEVIRT_RUNDIR/$NAME/supervisor.pid" ] &&
                   [ ! -e "$LITEVIRT_RUNDIR/$NAME/control.sock" ]; then
                        break
                fi
                sleep 0.1
                i=$((i + 1))
        done
        [ "$state" = "shut off" ] || fail "30 s after the failed start, domstate says '$state'"
        echo "ok - domstate: shut off"
        if [ -e "$LITEVIRT_RUNDIR/$NAME/supervisor.pid" ] || [ -e "$LITEVIRT_RUNDIR/$NAME/control.sock" ]; then
                fail "a failed start left $(ls "$LITEVIRT_RUNDIR/$NAME")"
        fi
        echo "ok - nothing left in $LITEVIRT_RUNDIR/$NAME"
        ;;
guest)
        [ -e /proc/xen ] || skip "no Xen hypervisor on this host (/proc/xen is absent)"
        grep -q control_d /proc/xen/capabilities 2>/dev/null ||
                skip "this host is not Xen's control domain (no control_d in /proc/xen/capabilities)"
        XL=${LITEVIRT_XL:-xl}
        command -v "$XL" >/dev/null || skip "xl not found"
        [ -n "${LV_XEN_KERNEL:-}" ] || skip "set LV_XEN_KERNEL to a PV-capable kernel to boot a guest"
        write_guest "$LV_XEN_KERNEL" "${LV_XEN_INITRD:-}"
        "$LVSH" start "$NAME" || fail "lvsh start"
        "$XL" list "$NAME" >/dev/null || fail "xl does not list $NAME"
        [ "$("$LVSH" domstate "$NAME")" = running ] || fail "domstate is not running"
        echo "ok - started through xl create -F"
        "$LVSH" suspend "$NAME" || fail "suspend"
        "$XL" list "$NAME" | awk 'NR == 2 { exit !($5 ~ /p/) }' || fail "xl does not show $NAME paused"
        "$LVSH" resume "$NAME" || fail "resume"
        echo "ok - suspend/resume map to xl pause/unpause"
        "$LVSH" destroy "$NAME" || fail "destroy"
        if "$XL" list "$NAME" >/dev/null 2>&1; then fail "$NAME still exists after destroy"; fi
        echo "ok - destroy"
        ;;
*)
        echo "usage: $0 LVSH no-hypervisor|guest" >&2
        exit 2
        ;;
esac
exit 0
