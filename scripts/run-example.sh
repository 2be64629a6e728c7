#!/bin/bash
# README command 1: install what is missing, build, and run litevirt's main
# job on the shipped examples, on this one machine:
#   - the example container under its supervisor: define, start, list,
#     dominfo, console, destroy;
#   - the example VM (QEMU, TCG) under its supervisor on "host A": list,
#     dominfo, domdisplay, a screenshot (PNG);
#   - a live migration of the running VM from host A to host B, two hosts
#     made of network namespaces with their own state directories and host
#     UUIDs (tests/lib/hosts.sh, as the migration tests): progress, summary,
#     domstate on both sides, and the guest's console counting on across it.
# Everything it starts or makes is removed at the end, also on failure or
# Ctrl-C; the logs, the consoles and the screenshot stay in
# /var/log/litevirt/example/. The machine's own network namespace is not
# touched (the VM and both hosts live in namespaces of their own).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

LV_DEPS_EXTRA="qemu-system-x86 vncsnapshot netpbm" scripts/install-deps.sh
if [ ! -d build ]; then
    meson setup build >/dev/null
fi
ninja -C build >/dev/null
lvsh="$top/build/lvsh"
logs=/var/log/litevirt/example # what this run leaves behind, for reading afterwards
vm=example-vm

step() { # TITLE LINE...: what is about to happen
    printf '\n== %s\n' "$1"
    shift
    printf '   %s\n' "$@"
}
run() { echo "\$ lvsh $*"; "$lvsh" "$@"; }
die() {
    echo "error: $*" >&2
    exit 1
}

T=""
helpers="" container_started=""
cleanup() {
    local rc=$? h p
    set +e
    trap - INT TERM
    for p in $helpers; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    [ -n "$container_started" ] && "$lvsh" destroy example-container >/dev/null 2>&1
    if [ -n "$T" ]; then
        for h in a b; do
            [ -d "$T/$h/run/$vm" ] || continue
            # a migration still running (Ctrl-C during it) answers only
            # JobAbort; then the guest can be destroyed
            hosts_on $h "$lvsh" domjobabort $vm >/dev/null 2>&1
            for _ in $(seq 50); do
                hosts_on $h "$lvsh" destroy $vm >/dev/null 2>&1 || [ ! -d "$T/$h/run/$vm" ] && break
                sleep 0.2
            done
            # a QEMU its supervisor did not end: only ours, by pid
            p=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$T/$h/run/$vm/qemu.json" 2>/dev/null)
            [ -n "$p" ] && grep -q "$T" "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p"
        done
        for h in a b; do
            [ -d "$T/$h/log" ] && cp -r "$T/$h/log" "$logs/host-$h"
        done
        hosts_destroy
        rm -rf "$T"
    fi
    echo
    echo "Logs: /var/log/litevirt/example-container.log (the container's supervisor),"
    echo "      $logs/host-a/ and host-b/ (the VM's supervisors), $logs/console-*.txt (the VM's console)"
    [ $rc = 0 ] || echo "run-example.sh failed (exit status $rc)" >&2
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_console() { # FILE PATTERN SECONDS: until the console capture shows PATTERN
    local i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -aq "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
counters() { # FILE -> the guest's counter values seen there
    grep -ao 'LV-COUNTER [0-9]*' "$1" | awk '{print $2}'
}

# The example container's root filesystem: busybox, built once.
root=/var/lib/litevirt/example/rootfs
if [ ! -x "$root/bin/busybox" ]; then
    echo "== building the example rootfs in $root"
    mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" \
        "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/root"
    cp /bin/busybox "$root/bin/busybox"
    # Applet links to /bin/busybox as the container sees it (busybox
    # --install -s would point them at the host path).
    for a in $(/bin/busybox --list-full); do
        [ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
    done
    echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
    echo "root:x:0:" > "$root/etc/group"
fi
# The example VM's kernel and initramfs: the test suite's guest
# (tests/qemu/build-guest.sh: a Debian cloud kernel, downloaded once and
# cached in build/test-guest, and a busybox initramfs whose /init prints
# LV-GUEST-BOOTED, then LV-COUNTER 1, 2, ... once a second on the serial
# console), where examples/vm.xml looks for them.
if ! sh tests/qemu/build-guest.sh build/test-guest; then
    die "cannot build the example VM's kernel and initramfs (tests/qemu/build-guest.sh)"
fi
mkdir -p /var/lib/litevirt/example
cmp -s build/test-guest/vmlinuz /var/lib/litevirt/example/vmlinuz ||
    install -m 0644 build/test-guest/vmlinuz /var/lib/litevirt/example/vmlinuz
cmp -s build/test-guest/initrd.gz /var/lib/litevirt/example/initrd.img ||
    install -m 0644 build/test-guest/initrd.gz /var/lib/litevirt/example/initrd.img
rm -rf "$logs"
mkdir -p "$logs"

# ---- the container ----
step "defining the example guests" \
    "lvsh define checks each definition and stores it in /etc/litevirt/guests; nothing runs yet."
for f in examples/*.xml; do
    run define "$f"
done
run list --all
run dumpxml example-container

step "starting the example container" \
    "lvsh start spawns the container's own supervisor (namespaces, cgroups, /bin/sh as init)" \
    "and returns once the container runs."
container_started=1
run start example-container
run list
run dominfo example-container
echo "\$ lvsh console example-container   # typed: uname -n; ps; then ^] to detach"
(
    sleep 0.5
    printf 'uname -n; ps\n'
    sleep 1
    printf '\035'
) | "$lvsh" console example-container
echo
run domstate --reason example-container
run destroy example-container
container_started=""
run list --all

# ---- two hosts, the VM, its migration ----
step "making two hosts on this machine" \
    "Host A and host B are two network namespaces joined by a veth pair (10.79.0.1, 10.79.0.2)," \
    "each with its own state directories, cgroups and host UUID, as two real hosts would have."
T=$(mktemp -d /tmp/litevirt-example.XXXXXX)
HOSTS_DIR=$T HOSTS_TAG=lvex HOSTS_NET=10.79.0 HOSTS_SUP=$top/build/litevirt-supervisor
. tests/lib/hosts.sh
hosts_create || die "cannot make the two hosts"
ona() {
    echo "host-a\$ lvsh $*"
    hosts_on a "$lvsh" "$@"
}
onb() {
    echo "host-b\$ lvsh $*"
    hosts_on b "$lvsh" "$@"
}
echo "host A: $(hosts_ns a), $T/a; host B: $(hosts_ns b), $T/b"

step "booting the example VM on host A" \
    "Its supervisor starts QEMU (TCG, 128 MiB) on the kernel and initramfs of examples/vm.xml and" \
    "returns once QEMU runs; the guest boots, printing on its serial console, which we capture."
ona define examples/vm.xml
ona start $vm
ona list
ona dominfo $vm
ona domdisplay $vm
$(hosts_prefix a) timeout 120 "$lvsh" console $vm < /dev/null > "$logs/console-host-a.txt" 2>&1 &
helpers="$helpers $!"
wait_console "$logs/console-host-a.txt" "LV-COUNTER 2" 60 ||
    die "the VM did not boot on host A: $(tail -c 300 "$logs/console-host-a.txt")"
echo "its serial console (lvsh console $vm, captured in $logs/console-host-a.txt):"
tr -d '\r' < "$logs/console-host-a.txt" | grep -a -m1 "Linux version" | cut -c1-100 | sed 's/^/   | /'
echo "   | ... ($(grep -ac '^\[ *[0-9.]*\]' "$logs/console-host-a.txt") lines of kernel messages)"
tr -d '\r' < "$logs/console-host-a.txt" | grep -a "LV-" | sed 's/^/   | /'

step "a screenshot of the VM's screen" \
    "No lvsh screenshot yet: vncsnapshot (as the tests use it) reads the VNC display domdisplay" \
    "named, as a JPEG; netpbm's jpegtopnm | pnmtopng makes it a PNG (the kernel's messages)."
display=$(hosts_on a "$lvsh" domdisplay $vm)
vncaddr=${display#vnc://} # HOST:DISPLAY, as vncsnapshot takes it
hosts_on a timeout 30 vncsnapshot -quiet "$vncaddr" "$T/screen.jpg" >/dev/null 2>&1 ||
    die "vncsnapshot $vncaddr failed"
jpegtopnm "$T/screen.jpg" 2>/dev/null | pnmtopng > "$logs/$vm.png" 2>/dev/null ||
    die "converting the screenshot to PNG failed"
echo "screenshot: $logs/$vm.png ($(stat -c %s "$logs/$vm.png") bytes)"

to_b=$(hosts_transport b)
step "live-migrating $vm from host A to host B" \
    "A's supervisor starts one on B through \$to_b (nsenter here; ssh between real hosts); they trade" \
    "cookies (host UUIDs, graphics, disk leases), QEMU copies the running guest, B resumes it, A's copy ends."
echo "to_b='$to_b'"
before=$(counters "$logs/console-host-a.txt" | tail -n1)
echo "host-a\$ lvsh migrate --live --verbose --persistent $vm \"\$to_b\""
hosts_on a "$lvsh" migrate --live --verbose --persistent $vm "$to_b" ||
    die "the migration failed (the guest is still on host A)"

step "after the migration" \
    "domstate on both hosts (A's supervisor is gone with its state; its log keeps the reason), then" \
    "B's console: the counter goes on from where A left it, and the kernel does not boot again."
onb domstate --reason $vm
ona domstate --reason $vm
echo "host A's supervisor log: $(grep -a -- '-> shutoff' "$T/a/log/$vm.log" | tail -n1)"
onb list
$(hosts_prefix b) timeout 120 "$lvsh" console $vm < /dev/null > "$logs/console-host-b.txt" 2>&1 &
helpers="$helpers $!"
last_a=$(counters "$logs/console-host-a.txt" | tail -n1)
wait_console "$logs/console-host-b.txt" "LV-COUNTER $((last_a + 3))\b" 30 ||
    die "the VM does not count on host B: $(tail -c 300 "$logs/console-host-b.txt")"
first_b=$(counters "$logs/console-host-b.txt" | head -n1)
[ "$first_b" -gt "$before" ] || die "the counter restarted on host B ($first_b after $before)"
! grep -aq "LV-GUEST-BOOTED\|Linux version" "$logs/console-host-b.txt" || die "the VM booted again on host B"
echo "host A's console last showed LV-COUNTER $last_a; host B's console goes on:"
tr -d '\r' < "$logs/console-host-b.txt" | grep -a "LV-" | sed 's/^/   | /'
echo "(no kernel messages, no LV-GUEST-BOOTED on host B: the guest did not boot again)"

step "stopping the VM" \
    "lvsh destroy ends QEMU and its supervisor on host B; the hosts are removed on exit."
onb destroy $vm
onb list --all
