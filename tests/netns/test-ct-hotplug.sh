#!/bin/bash
# Hot-plug into running containers (lvsh attach-device / detach-device /
# attach-interface / detach-interface): real containers (LXC driver,
# litevirt-supervisor, lvsh), real veths on a bridge, real bind mounts.
#  - a host directory attached at a target: the guest reads it, writes it
#    when writable; read-only: a write fails, also after the guest's root
#    ran `mount -o remount,rw` (a privileged container whose seccomp filter
#    refuses writable remounts; a container in a user namespace, where the
#    kernel locks the flag); a privileged container without that filter
#    rule refuses a read-only attach with the reason;
#  - a symlink the guest planted at the target, pointing at a host path,
#    is resolved inside the guest's root: refused, nothing mounted;
#  - detach unmounts it (the running definition and, with --config, the
#    stored one follow);
#  - an interface attached: the veth seen inside with its MAC, ping across
#    the bridge, domiflist/domifstat/dumpxml show it; detach removes both
#    ends;
#  - what cannot work is refused with the reason (a <disk>, a
#    filesystem of type ram), nothing changed.
# The guests run commands through a directory of their own (a command
# file their init's loop picks up), so the commands run as the guest's
# root would (its user namespace, capabilities and seccomp filter), not
# as nsenter from the host would.
#
# The test runs in a network namespace of its own (re-executed under
# `unshare --net`): bridge, veths and supervisors vanish with it.
set -u

command -v ip >/dev/null || { echo "SKIP: ip missing"; exit 77; }
command -v unshare >/dev/null || { echo "SKIP: util-linux missing"; exit 77; }
if [ -z "${LV_E2E_IN_NETNS:-}" ]; then
    LV_E2E_IN_NETNS=1 exec unshare --net -- "$0" "$@"
fi

. "${LV_SOURCE_ROOT:?}/tests/lib/lvtest.sh"
. "${LV_SOURCE_ROOT:?}/tests/lib/cgroups.sh"
. "${LV_SOURCE_ROOT:?}/tests/lib/ifstat.sh"
lvtest_tree ct-hotplug
chmod 755 "$T" # reachable by the mapped root of the <idmap> guest
P=ch$$
PR=$P-p # privileged, no read-only filesystem: no remount rule
PS=$P-s # privileged with a read-only filesystem: the remount rule
U=$P-u  # in a user namespace
mkdir -p "$T/rootfs/tmp" "$T/rootfs/proc" "$T/rootfs/dev" "$T/rootfs/sys" "$T/rootfs/ctl" \
    "$T/rootfs/mnt/a" "$T/rootfs/mnt/b" "$T/rootfs/mnt/c" "$T/src" "$T/outside"
for a in sleep ip ping cat touch mount umount grep mv rm echo ls; do ln -s busybox "$T/rootfs/bin/$a"; done
# the guest's planted link: a host path, as seen from the host
ln -s "$T/outside" "$T/rootfs/mnt/evil"
echo "HOTPLUG-$P" >"$T/src/hello"
# writable for anyone: only the mount's flag keeps the guests out
chmod 777 "$T/src" && chmod 755 "$T/outside" && chmod 644 "$T/src/hello"

cleanup() {
    lvtest_guest_remove "$PR" "$PS" "$U"
    if grep -q " $T/" /proc/self/mountinfo; then
        echo "FAIL: mounts left under $T"
        exit 1
    fi
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

# define NAME EXTRA-DEVICES [EXTRA-XML]: its init runs the commands
# dropped into /ctl (a directory of the host bound in), one at a time
define() {
    mkdir -p "$T/ctl-$1"
    [ -n "${3:-}" ] && chown 100000:100000 "$T/ctl-$1"
    cat >"$T/$1.in.xml" <<XML
<domain type='lxc'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <os>
    <type arch='x86_64'>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>mount -t proc proc /proc 2>/dev/null; while :; do if [ -f /ctl/cmd ]; then sh /ctl/cmd >/ctl/out 2>&amp;1; echo \$? >/ctl/rc.tmp; rm -f /ctl/cmd; mv -f /ctl/rc.tmp /ctl/rc; fi; sleep 0.05; done</initarg>
  </os>
  ${3:-}
  <devices>
    <filesystem type='mount'>
      <source dir='$T/rootfs'/>
      <target dir='/'/>
    </filesystem>
    <filesystem type='mount'>
      <source dir='$T/ctl-$1'/>
      <target dir='/ctl'/>
    </filesystem>
    $2
    <console type='pty'/>
  </devices>
</domain>
XML
    "$LVSH" define "$T/$1.in.xml" >/dev/null || fail "define $1"
}

# guest NAME CMD: run CMD as the guest's root (its init's child); its
# output in $OUT, its status returned
guest() {
    rm -f "$T/ctl-$1/rc"
    printf '%s\n' "$2" >"$T/ctl-$1/cmd.tmp" && mv "$T/ctl-$1/cmd.tmp" "$T/ctl-$1/cmd"
    lvtest_wait "[ -f '$T/ctl-$1/rc' ]" 20 || { OUT="(no answer)"; return 99; }
    OUT=$(cat "$T/ctl-$1/out")
    return "$(cat "$T/ctl-$1/rc")"
}

# gfail NAME CMD: the guest answered, and CMD failed
gfail() {
    guest "$@"
    rc=$?
    [ $rc != 0 ] && [ $rc != 99 ]
}

fsxml() { # TYPE SOURCE TARGET [readonly]
    printf "<filesystem type='%s'>\n  <source dir='%s'/>\n  <target dir='%s'/>\n  %s\n</filesystem>\n" \
        "$1" "$2" "$3" "${4:+<readonly/>}"
}

ip link add br0 type bridge && ip link set br0 up && ip addr add 10.78.0.1/24 dev br0
ip link set lo up

define "$PR" ""
define "$PS" "$(fsxml mount "$T/src" /mnt/c ro)"
define "$U" "" "<idmap><uid start='0' target='100000' count='65536'/><gid start='0' target='100000' count='65536'/></idmap>"
for g in "$PR" "$PS" "$U"; do
    out=$("$LVSH" start "$g" 2>&1) && ok "start $g" || fail "start $g: $out"
    guest "$g" "echo up" && ok "  $g runs commands" || fail "$g does not answer: $OUT"
done

# ---- a writable filesystem into the privileged container ----
fsxml mount "$T/src" /mnt/a >"$T/fs-a.xml"
out=$("$LVSH" attach-device "$PR" "$T/fs-a.xml" --live 2>&1) && ok "attach-device <filesystem> --live: $out" ||
    fail "attach rw: $out"
guest "$PR" "cat /mnt/a/hello" && [ "$OUT" = "HOTPLUG-$P" ] && ok "  the guest reads the host directory at /mnt/a" ||
    fail "guest read: $OUT"
guest "$PR" "echo w > /mnt/a/new" && [ "$(cat "$T/src/new" 2>/dev/null)" = w ] && ok "  and writes it" ||
    fail "guest write: $OUT"
rm -f "$T/src/new"
"$LVSH" dumpxml "$PR" | grep -A3 "<filesystem type='mount'" | grep -q "<target dir='/mnt/a'/>" &&
    ok "  dumpxml (live) lists it" || fail "dumpxml live: $("$LVSH" dumpxml "$PR")"
"$LVSH" dumpxml --inactive "$PR" | grep -q "/mnt/a" && fail "--live changed the stored definition"
grep -q " $T/src " /proc/self/mountinfo && fail "the bind mount is visible outside the container"
out=$("$LVSH" attach-device "$PR" "$T/fs-a.xml" --live 2>&1) && fail "the same target attached twice"
echo "$out" | grep -q "already exists" && ok "  the same target twice is refused: $(echo "$out" | tail -1)" || fail "twice: $out"

# ---- read-only into a privileged container without the remount rule: refused ----
fsxml mount "$T/src" /mnt/b ro >"$T/fs-b-ro.xml"
out=$("$LVSH" attach-device "$PR" "$T/fs-b-ro.xml" --live 2>&1) && fail "read-only attach to $PR accepted (its root could remount it rw)"
echo "$out" | grep -q "nothing stops its root from remounting it writable" && ok "read-only attach refused where it could not hold: $(echo "$out" | tail -1)" ||
    fail "ro refusal: $out"
gfail "$PR" "grep ' /mnt/b ' /proc/self/mountinfo" || fail "  but something is mounted on /mnt/b: $OUT"
"$LVSH" dumpxml "$PR" | grep -q "/mnt/b" && fail "  the refused filesystem is in the running definition"

# ---- read-only into a privileged container with the rule ----
out=$("$LVSH" attach-device "$PS" "$T/fs-b-ro.xml" 2>&1) && ok "read-only attach to $PS (its seccomp filter refuses writable remounts)" ||
    fail "ro attach $PS: $out"
guest "$PS" "cat /mnt/b/hello" && [ "$OUT" = "HOTPLUG-$P" ] && ok "  readable" || fail "ro read: $OUT"
gfail "$PS" "touch /mnt/b/x" && ok "  a write fails: $OUT" || fail "  a write to the read-only filesystem succeeded (or no answer): $OUT"
gfail "$PS" "mount -o remount,rw,bind /mnt/b" && ok "  remount,rw by the guest's root fails: $OUT" || fail "  the guest's root remounted it writable (or no answer): $OUT"
gfail "$PS" "mount -o remount,rw /mnt/b" || fail "  remount,rw (no bind) succeeded: $OUT"
gfail "$PS" "touch /mnt/b/y" && ok "  and a write still fails" || fail "  a write after the remount attempts succeeded (or no answer): $OUT"
[ -e "$T/src/x" ] || [ -e "$T/src/y" ] && fail "  files appeared in the host directory"

# ---- read-only into a container in a user namespace: locked by the kernel ----
out=$("$LVSH" attach-device "$U" "$T/fs-b-ro.xml" --live 2>&1) && ok "read-only attach to $U (user namespace)" ||
    fail "ro attach $U: $out"
guest "$U" "cat /mnt/b/hello" && [ "$OUT" = "HOTPLUG-$P" ] && ok "  readable" || fail "userns ro read: $OUT"
gfail "$U" "touch /mnt/b/x" && ok "  a write fails: $OUT" || fail "  a write succeeded (or no answer): $OUT"
gfail "$U" "mount -o remount,rw,bind /mnt/b" && ok "  remount,rw by the guest's root fails: $OUT" || fail "  the guest's root remounted it writable (or no answer): $OUT"
gfail "$U" "touch /mnt/b/y" && ok "  and a write still fails" || fail "  a write after the remount attempt succeeded (or no answer): $OUT"
guest "$U" "grep ' /mnt/b ' /proc/self/mountinfo" && echo "$OUT" | grep -q " ro[, ]" && ok "  mountinfo: ro" || fail "userns mountinfo: $OUT"
[ -e "$T/src/x" ] || [ -e "$T/src/y" ] && fail "  files appeared in the host directory"

# ---- the guest's planted symlink at the target ----
fsxml mount "$T/src" /mnt/evil >"$T/fs-evil.xml"
for g in "$PR" "$U"; do
    out=$("$LVSH" attach-device "$g" "$T/fs-evil.xml" 2>&1) && fail "$g: attach at a symlink to a host path accepted"
    echo "$out" | grep -q "/mnt/evil" && ok "$g: a target symlinked to $T/outside is resolved inside the root: refused ($(echo "$out" | tail -1))" ||
        fail "symlink refusal: $out"
done
grep -q " $T/outside " /proc/self/mountinfo && fail "something was mounted on the host's $T/outside"
[ -z "$(ls "$T/outside")" ] && ok "  nothing mounted outside the root" || fail "$T/outside has $(ls "$T/outside")"
# a relative escape: resolved inside the root too (lands on the guest's own /mnt/c)
ln -s ../../../../../../../mnt/c "$T/rootfs/mnt/up"
out=$("$LVSH" attach-device "$PR" "$(fsxml mount "$T/src" /mnt/up >"$T/fs-up.xml"; echo "$T/fs-up.xml")" 2>&1) &&
    guest "$PR" "cat /mnt/c/hello" && [ "$OUT" = "HOTPLUG-$P" ] && ok "a '../' symlink target stays inside the root (mounted on the guest's /mnt/c)" ||
    fail "relative symlink: $out / $OUT"
grep -q " $T/rootfs/mnt/c " /proc/self/mountinfo && fail "mounted on the host's rootfs"
"$LVSH" detach-device "$PR" "$T/fs-up.xml" >/dev/null 2>&1 || fail "detach /mnt/up"
rm -f "$T/rootfs/mnt/up"

# ---- type='bind': a directory of the guest's own tree ----
fsxml bind /bin /mnt/c >"$T/fs-bind.xml"
out=$("$LVSH" attach-device "$PR" "$T/fs-bind.xml" 2>&1) && guest "$PR" "ls /mnt/c/busybox" &&
    ok "<filesystem type='bind'> of the guest's /bin at /mnt/c" || fail "bind: $out / $OUT"
"$LVSH" detach-device "$PR" "$T/fs-bind.xml" >/dev/null 2>&1 || fail "detach bind"
# read-only into the user namespace: its own writable /ctl, locked read-only at /mnt/c
fsxml bind /ctl /mnt/c ro >"$T/fs-bind-ro.xml"
out=$("$LVSH" attach-device "$U" "$T/fs-bind-ro.xml" 2>&1) && guest "$U" "touch /ctl/w && ls /mnt/c/w" &&
    ok "read-only bind of the guest's writable /ctl at /mnt/c in $U" || fail "bind ro: $out / $OUT"
gfail "$U" "touch /mnt/c/x" && ok "  a write through it fails: $OUT" || fail "  bind ro write: $OUT"
gfail "$U" "mount -o remount,rw,bind /mnt/c" && ok "  remount,rw by the guest's root fails" || fail "  bind ro remount: $OUT"
"$LVSH" detach-device "$U" "$T/fs-bind-ro.xml" >/dev/null 2>&1 || fail "detach bind ro"

# ---- detach ----
out=$("$LVSH" detach-device "$PR" "$T/fs-a.xml" 2>&1) && ok "detach-device <filesystem>: $out" || fail "detach: $out"
gfail "$PR" "grep ' /mnt/a ' /proc/self/mountinfo" && ok "  unmounted in the guest" || fail "  /mnt/a still mounted: $OUT"
guest "$PR" "ls /mnt/a" && [ -z "$OUT" ] && ok "  the guest's own (empty) directory shows again" || fail "after detach: $OUT"
"$LVSH" dumpxml "$PR" | grep -q "/mnt/a" && fail "  still in the running definition"
# busy: unmounted lazily, said so
"$LVSH" attach-device "$U" "$T/fs-a.xml" >/dev/null 2>&1 || fail "attach to $U"
guest "$U" "sh -c 'cd /mnt/a && touch /ctl/in-a && exec sleep 100000' </dev/null >/dev/null 2>&1 &
while [ ! -e /ctl/in-a ]; do sleep 0.05; done; echo started" || fail "no process in /mnt/a: $OUT"
out=$("$LVSH" detach-device "$U" "$T/fs-a.xml" 2>&1) && echo "$out" | grep -q "unmounted lazily" &&
    ok "detach of a busy filesystem: $(echo "$out" | head -1)" || fail "busy detach: $out"
gfail "$U" "grep ' /mnt/a ' /proc/self/mountinfo" || fail "  /mnt/a still mounted after the lazy unmount: $OUT"
out=$("$LVSH" detach-device "$U" "$T/fs-a.xml" 2>&1) && fail "detach twice"
echo "$out" | grep -q "No filesystem found whose target is /mnt/a" && ok "detach of what is not there: $(echo "$out" | tail -1)" || fail "detach twice: $out"

# ---- --config and --persistent ----
out=$("$LVSH" attach-device "$PR" "$T/fs-a.xml" --persistent 2>&1) && ok "attach-device --persistent" || fail "persistent: $out"
"$LVSH" dumpxml --inactive "$PR" | grep -q "<target dir='/mnt/a'/>" && ok "  the stored definition has it" || fail "stored: $("$LVSH" dumpxml --inactive "$PR")"
guest "$PR" "cat /mnt/a/hello" && ok "  the running guest has it" || fail "persistent live: $OUT"
out=$("$LVSH" detach-device "$PR" "$T/fs-a.xml" --config 2>&1) && ok "detach-device --config" || fail "detach --config: $out"
"$LVSH" dumpxml --inactive "$PR" | grep -q "/mnt/a" && fail "  still stored"
guest "$PR" "cat /mnt/a/hello" && ok "  --config only: the running guest keeps it" || fail "config-only detach touched the guest"
"$LVSH" detach-device "$PR" "$T/fs-a.xml" --live >/dev/null 2>&1 || fail "detach --live"

# ---- refusals ----
cat >"$T/disk.xml" <<XML
<disk type='file' device='disk'><source file='$T/src/hello'/><target dev='vdb' bus='virtio'/></disk>
XML
out=$("$LVSH" attach-device "$PR" "$T/disk.xml" 2>&1) && fail "a <disk> attached to a container"
echo "$out" | grep -q "domain type 'lxc' supports no <disk>" && ok "<disk> refused: $(echo "$out" | tail -1)" || fail "disk: $out"
out=$("$LVSH" attach-device "$PR" "$T/disk.xml" --config 2>&1) && fail "a <disk> stored for a container"
cat >"$T/ram.xml" <<XML
<filesystem type='ram'><source usage='1024' units='KiB'/><target dir='/mnt/a'/></filesystem>
XML
out=$("$LVSH" attach-device "$PR" "$T/ram.xml" 2>&1) && fail "type ram attached live"
echo "$out" | grep -q "type 'ram' cannot be attached to a running container (mount and bind only)" &&
    ok "<filesystem type='ram'> live refused: $(echo "$out" | tail -1)" || fail "ram: $out"
"$LVSH" dumpxml "$PR" | grep -q "/mnt/a" && fail "  a refused device is in the running definition"

# ---- interfaces ----
cat >"$T/if.xml" <<XML
<interface type='bridge'>
  <mac address='52:54:00:e3:00:01'/>
  <source bridge='br0'/>
  <mtu size='1400'/>
  <ip address='10.78.0.2' prefix='24'/>
</interface>
XML
out=$("$LVSH" attach-device "$PR" "$T/if.xml" 2>&1) && ok "attach-device <interface>: $out" || fail "attach if: $out"
guest "$PR" "ip -o link show eth0"
echo "$OUT" | grep -q "link/ether 52:54:00:e3:00:01" && echo "$OUT" | grep -q "mtu 1400" &&
    ok "  eth0 inside with its MAC and MTU" || fail "inside: $OUT"
host=$(ip -o link show | grep "alias litevirt:" | sed -n "s/^[0-9]*: \([^@:]*\).*master br0.*/\1/p")
[ -n "$host" ] && ok "  host end $host on br0" || fail "no host end: $(ip -o link show)"
ping -c 1 -W 5 10.78.0.2 >/dev/null 2>&1 && ok "  the test's namespace pings the container over br0" || fail "ping to 10.78.0.2"
guest "$PR" "ping -c 1 -W 5 10.78.0.1" && ok "  the container pings back" || fail "ping from inside: $OUT"
"$LVSH" domiflist "$PR" | grep -q "^ $host *bridge *br0 *- *52:54:00:e3:00:01$" && ok "  domiflist" || fail "domiflist: $("$LVSH" domiflist "$PR")"
"$LVSH" dumpxml "$PR" | grep -q "<target dev='$host'/>" && ok "  dumpxml <target dev='$host'/>" || fail "dumpxml if"
ifstat_send 10.78.0.2
ifstat_check "$PR" "$host" "$host" && [ "$IFSTAT_RX" -ge 28000 ] && ok "  domifstat (rx_bytes $IFSTAT_RX)" || fail "domifstat: $IFSTAT_OUT"
out=$("$LVSH" attach-interface "$U" bridge br0 --mac 52:54:00:e3:00:02 2>&1) && ok "attach-interface into $U: $out" || fail "attach-interface: $out"
guest "$U" "ip -o link show eth0" && echo "$OUT" | grep -q "link/ether 52:54:00:e3:00:02" && ok "  eth0 inside $U with its MAC" || fail "$U inside: $OUT"
uhost=$("$LVSH" domiflist "$U" | sed -n 's/^ \([^ ]*\) *bridge *br0 .*52:54:00:e3:00:02$/\1/p')
ip -o link show "$uhost" | grep -q "master br0" && ok "  its host end $uhost on br0" || fail "$U host end '$uhost'"
out=$("$LVSH" detach-interface "$U" bridge --mac 52:54:00:e3:00:02 2>&1) && ok "detach-interface: $out" || fail "detach-interface: $out"
ip link show "$uhost" >/dev/null 2>&1 && fail "  the host end $uhost is still there" || ok "  host end gone"
gfail "$U" "ip -o link show eth0" && ok "  guest end gone" || fail "  eth0 still inside $U: $OUT"
out=$("$LVSH" detach-device "$PR" "$T/if.xml" 2>&1) && ok "detach-device <interface>: $out" || fail "detach if: $out"
ip link show "$host" >/dev/null 2>&1 && fail "  the host end is still there"
gfail "$PR" "ip -o link show eth0" || fail "  eth0 still inside: $OUT"
"$LVSH" domiflist "$PR" | grep -q 52:54:00:e3:00:01 && fail "  still in domiflist"
[ "$(ip -o link show | grep -c "alias litevirt:")" = 0 ] && ok "  no litevirt link left" || fail "links left"

# ---- stop: nothing left ----
for g in "$PR" "$PS" "$U"; do "$LVSH" destroy "$g" >/dev/null 2>&1 || fail "destroy $g"; done
grep -q " $T/" /proc/self/mountinfo && fail "mounts under $T left on the host: $(grep " $T/" /proc/self/mountinfo)"

lvtest_sanitizer_check
[ "$fails" = 0 ] && echo "all ok" || echo "$fails failure(s)"
[ "$fails" = 0 ]
