#!/bin/sh
# lvsh define / undefine / dumpxml / validate / list / domuuid / domname,
# run with the built lvsh in a temporary LITEVIRT_CONFDIR / RUNDIR.
set -u
LVSH=$(realpath "${1:?usage: test-lvsh-define.sh LVSH}")
SRC=${LV_SOURCE_ROOT:?}
[ -x "$LVSH" ] || { echo "lvsh not found at $LVSH"; exit 1; }
T=$(mktemp -d)
sleeper=""
cleanup() {
    [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null && wait "$sleeper" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
export LITEVIRT_CONFDIR="$T/etc" LITEVIRT_RUNDIR="$T/run"
unset LITEVIRT_GUESTDIR
failures=0
n=0

fail() { failures=$((failures + 1)); echo "not ok - $*"; }
ok() { echo "ok - $*"; }

# expect NAME EXIT-CODE EXPECTED-STDOUT EXPECTED-STDERR -- command...
expect() {
    name=$1 code=$2 out=$3 err=$4
    shift 5
    n=$((n + 1))
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    got_out=$(cat "$T/out")
    got_err=$(cat "$T/err")
    if [ "$rc" != "$code" ]; then
        fail "$name: exit $rc, expected $code (stderr: $got_err)"
    elif [ "$got_out" != "$out" ]; then
        fail "$name: stdout:
$got_out
expected:
$out"
    elif [ "$got_err" != "$err" ]; then
        fail "$name: stderr:
$got_err
expected:
$err"
    else
        ok "$name"
    fi
}

C=$SRC/examples/container.xml
V=$SRC/examples/vm.xml
X=$SRC/examples/xen-pv.xml

expect "list with nothing defined" 0 " Id   Name   State
--------------------" "" -- "$LVSH" list --all
expect "define container" 0 "Domain 'example-container' defined from $C" "" -- "$LVSH" define "$C"
expect "define vm" 0 "Domain 'example-vm' defined from $V" "" -- "$LVSH" define "$V"
expect "define xen" 0 "Domain 'example-xen-pv' defined from $X" "" -- "$LVSH" define "$X"
[ "$(stat -c %a "$T/etc/guests/example-vm.xml")" = 600 ] && ok "definition mode 0600" ||
    fail "definition mode is $(stat -c %a "$T/etc/guests/example-vm.xml")"
expect "redefine same name and uuid" 0 "Domain 'example-vm' defined from $V" "" -- "$LVSH" define "$V"
expect "list (nothing running)" 0 " Id   Name   State
--------------------" "" -- "$LVSH" list
expect "list --all" 0 " Id   Name                State
------------------------------------
 -    example-container   shut off
 -    example-vm          shut off
 -    example-xen-pv      shut off" "" -- "$LVSH" list --all
expect "list --all --name" 0 "example-container
example-vm
example-xen-pv" "" -- "$LVSH" list --all --name
expect "list --inactive --uuid" 0 "5d2f6c1e-7a3b-4c8d-9e0f-1a2b3c4d5e6f
8f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8
2b4c6d8e-1f3a-4b5c-8d7e-9f0a1b2c3d4e" "" -- "$LVSH" list --inactive --uuid
expect "list bad option" 1 "" "error: unknown option '--bogus' (usage: lvsh list [--all] [--inactive] [--autostart] [--no-autostart] [--name] [--uuid])" -- "$LVSH" list --bogus
expect "domuuid" 0 "8f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8" "" -- "$LVSH" domuuid example-vm
expect "domuuid unknown" 1 "" "error: failed to get domain 'nope'" -- "$LVSH" domuuid nope
expect "domname" 0 "example-vm" "" -- "$LVSH" domname 8f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8
expect "domname unknown" 1 "" "error: failed to get domain '8f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b9'" -- "$LVSH" domname 8f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b9
expect "dumpxml unknown" 1 "" "error: failed to get domain 'nope'" -- "$LVSH" dumpxml nope
expect "dumpxml path trick" 1 "" "error: failed to get domain '../guests/example-vm'" -- "$LVSH" dumpxml ../guests/example-vm

# dumpxml gives the stored definition, which parses back to itself
n=$((n + 1))
if "$LVSH" dumpxml example-vm >"$T/vm.xml" && grep -q "<name>example-vm</name>" "$T/vm.xml" &&
    grep -q "<kernel>/var/lib/litevirt/example/vmlinuz</kernel>" "$T/vm.xml" &&
    grep -q "<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>" "$T/vm.xml" &&
    "$LVSH" validate "$T/vm.xml" >/dev/null; then
    ok "dumpxml"
else
    fail "dumpxml: $(cat "$T/vm.xml")"
fi
expect "dumpxml re-define" 0 "Domain 'example-vm' defined from $T/vm.xml" "" -- "$LVSH" define "$T/vm.xml"
cmp -s "$T/vm.xml" "$T/etc/guests/example-vm.xml" && ok "stored form is stable" ||
    fail "stored form changed on re-define"

# duplicates
sed 's/<name>example-vm</<name>example-vm2</' "$V" >"$T/dup-uuid.xml"
expect "define duplicate uuid" 1 "" "error: Failed to define domain from $T/dup-uuid.xml
error: domain 'example-vm' is already defined with uuid 8f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8" -- "$LVSH" define "$T/dup-uuid.xml"
sed 's/8f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8/8f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b9/' "$V" >"$T/dup-name.xml"
expect "define duplicate name" 1 "" "error: Failed to define domain from $T/dup-name.xml
error: domain 'example-vm' already exists with uuid 8f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8" -- "$LVSH" define "$T/dup-name.xml"

# a definition written by hand (not in lvsh's stored form): its uuid is
# found past a comment that names another (define does not parse every
# stored definition in full, docs/performance.md "Scale")
sed -e 's|<name>example-vm</name>|<name>hand-vm</name><!-- <uuid>22222222-2222-4333-8444-555555555555</uuid> -->|' \
    -e 's/8f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8/AAAAAAAA-2222-4333-8444-555555555555/' "$V" >"$T/etc/guests/hand-vm.xml"
sed -e 's/<name>example-vm</<name>hand-dup</' -e 's/8f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8/aaaaaaaa-2222-4333-8444-555555555555/' "$V" >"$T/hand-dup.xml"
expect "define duplicate uuid of a hand-written definition" 1 "" "error: Failed to define domain from $T/hand-dup.xml
error: domain 'hand-vm' is already defined with uuid aaaaaaaa-2222-4333-8444-555555555555" -- "$LVSH" define "$T/hand-dup.xml"
sed -e 's/<name>example-vm</<name>hand-ok</' -e 's/8f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8/22222222-2222-4333-8444-555555555555/' "$V" >"$T/hand-ok.xml"
expect "define the uuid only a comment names" 0 "Domain 'hand-ok' defined from $T/hand-ok.xml" "" -- "$LVSH" define "$T/hand-ok.xml"
rm -f "$T/etc/guests/hand-vm.xml" "$T/etc/guests/hand-ok.xml"

# a failed define leaves the old definition untouched
cp "$T/etc/guests/example-vm.xml" "$T/before.xml"
sed 's/<memory unit=.MiB.>128</<memory unit="MiB">banana</' "$V" >"$T/bad.xml"
expect "define invalid" 1 "" "error: Failed to define domain from $T/bad.xml
error: $T/bad.xml:6: element 'memory': 'banana' MiB: not a non-negative integer" -- "$LVSH" define "$T/bad.xml"
cmp -s "$T/before.xml" "$T/etc/guests/example-vm.xml" && ok "failed define kept the old definition" ||
    fail "failed define changed the old definition"
chmod 500 "$T/etc/guests"
if [ "$(id -u)" != 0 ]; then
    sed 's/<memory unit=.MiB.>128</<memory unit="MiB">256</' "$V" >"$T/bigger.xml"
    "$LVSH" define "$T/bigger.xml" >/dev/null 2>&1 && fail "define into a read-only directory succeeded" ||
        ok "define into a read-only directory fails"
    cmp -s "$T/before.xml" "$T/etc/guests/example-vm.xml" && ok "write failure kept the old definition" ||
        fail "write failure changed the old definition"
fi
chmod 755 "$T/etc/guests"
ls "$T/etc/guests" | grep -q tmp && fail "temporary file left behind" || ok "no temporary file left"

expect "define missing file" 1 "" "error: Failed to define domain from $T/none.xml
error: cannot open '$T/none.xml': No such file or directory" -- "$LVSH" define "$T/none.xml"
expect "validate ok" 0 "$C validates" "" -- "$LVSH" validate "$C"
expect "validate unsupported" 1 "" "error: unsupported-element.xml:14: element 'hostdev': not supported by litevirt" -- \
    sh -c "cd '$SRC/tests/data/domain/invalid' && '$LVSH' validate unsupported-element.xml"
expect "define usage" 1 "" "error: expected a FILE (usage: lvsh define FILE [--validate])" -- "$LVSH" define
expect "define --validate" 0 "Domain 'example-container' defined from $C" "" -- "$LVSH" define --validate "$C"

# graphics passwords only with --security-info; the stored file keeps them
sed "s|<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>|<graphics type='vnc' autoport='yes' listen='127.0.0.1' passwd='s3cret'/>|" "$V" >"$T/pw.xml"
"$LVSH" define "$T/pw.xml" >/dev/null
n=$((n + 1))
if "$LVSH" dumpxml example-vm | grep -q s3cret; then fail "dumpxml shows the password"; else ok "dumpxml hides the password"; fi
n=$((n + 1))
if "$LVSH" dumpxml --security-info example-vm | grep -q "passwd='s3cret'" &&
    grep -q "passwd='s3cret'" "$T/etc/guests/example-vm.xml"; then
    ok "dumpxml --security-info shows the password"
else
    fail "dumpxml --security-info lacks the password"
fi

# a running guest is undefined as virsh does it: it runs on, transient,
# listed until it ends. A stand-in supervisor holds the lock on its state
# directory, as litevirt-supervisor does
mkdir -p "$T/run/example-vm"
(exec 9<"$T/run/example-vm" && flock -x 9 && exec sleep 1000) &
sleeper=$!
echo "$sleeper" >"$T/run/example-vm/supervisor.pid"
for _ in $(seq 100); do flock -n -s "$T/run/example-vm" true || break; sleep 0.05; done
idw=${#sleeper}
dashes=$(printf '%*s' $((idw + 10 + 7 + 9)) '' | tr ' ' -)
expect "list shows running" 0 "$(printf ' %-*s   %-10s   %s' "$idw" Id Name State)
$dashes
 $sleeper   example-vm   running" "" -- "$LVSH" list
expect "undefine running" 0 "Domain 'example-vm' has been undefined" "" -- "$LVSH" undefine example-vm
expect "list shows the transient guest" 0 "example-container
example-vm
example-xen-pv" "" -- "$LVSH" list --all --name
expect "undefine transient" 1 "" "error: Failed to undefine domain 'example-vm'
error: Requested operation is not valid: cannot undefine transient domain" -- "$LVSH" undefine example-vm
kill "$sleeper"; wait "$sleeper" 2>/dev/null; sleeper=""
expect "undefine after stop (stale state)" 1 "" "error: failed to get domain 'example-vm'" -- "$LVSH" undefine example-vm
expect "list after undefine" 0 "example-container
example-xen-pv" "" -- "$LVSH" list --all --name

# a QEMU guest is stored in libvirt's define-time form (addresses,
# implicit controllers and devices: docs/domain.md): dumpxml after define
# shows what virsh dumpxml showed for the same virt-install XML (but the
# machine alias, which litevirt keeps), and defining that again keeps it
VI=$SRC/tests/data/virt-install
for g in debian11-i440fx-bios-vnc win2k22-q35-uefi; do
    sed -e "s/machine='pc-i440fx-[0-9.]*'/machine='pc'/" -e "s/machine='pc-q35-[0-9.]*'/machine='q35'/" \
        "$VI/$g.dump.xml" >"$T/$g.want"
    expect "define $g" 0 "Domain '$g' defined from $VI/$g.xml" "" -- "$LVSH" define "$VI/$g.xml"
    n=$((n + 1))
    "$LVSH" dumpxml --inactive "$g" >"$T/$g.got"
    if cmp -s "$T/$g.want" "$T/$g.got"; then
        ok "$g: dumpxml is virsh dumpxml's"
    else
        fail "$g: dumpxml differs from virsh dumpxml's: $(diff "$T/$g.want" "$T/$g.got")"
    fi
    n=$((n + 1))
    "$LVSH" define "$T/$g.got" >/dev/null
    cmp -s "$T/$g.got" "$T/etc/guests/$g.xml" && ok "$g: defined again, unchanged" ||
        fail "$g: defined again, changed: $(diff "$T/$g.got" "$T/etc/guests/$g.xml")"
done
# attach-device --config: the new NIC gets the next free slot (0x09:
# 0x02-0x08 are taken) and keeps it; detach-device --config of the first
# NIC leaves every other device where it was
g=debian11-i440fx-bios-vnc
echo "<interface type='bridge'><mac address='52:54:00:00:02:01'/><source bridge='br0'/><model type='virtio'/></interface>" >"$T/nic.xml"
expect "attach-device --config" 0 "Device attached successfully" "" -- "$LVSH" attach-device "$g" "$T/nic.xml" --config
n=$((n + 1))
if grep -A3 "52:54:00:00:02:01" "$T/etc/guests/$g.xml" |
    grep -q "<address type='pci' domain='0x0000' bus='0x00' slot='0x09' function='0x0'/>"; then
    ok "attached NIC stored at slot 0x09"
else
    fail "attached NIC not at slot 0x09: $(cat "$T/etc/guests/$g.xml")"
fi
echo "<interface type='bridge'><mac address='52:54:00:00:02:00'/><source bridge='br0'/><model type='virtio'/></interface>" >"$T/nic0.xml"
grep "<address type='pci'" "$T/etc/guests/$g.xml" | grep -v "slot='0x03'" >"$T/addr-before"
expect "detach-device --config" 0 "Device detached successfully" "" -- "$LVSH" detach-device "$g" "$T/nic0.xml" --config
n=$((n + 1))
grep "<address type='pci'" "$T/etc/guests/$g.xml" >"$T/addr-after"
cmp -s "$T/addr-before" "$T/addr-after" && ok "detach kept the other devices' addresses" ||
    fail "detach moved devices: $(diff "$T/addr-before" "$T/addr-after")"
"$LVSH" undefine debian11-i440fx-bios-vnc >/dev/null
"$LVSH" undefine win2k22-q35-uefi --nvram >/dev/null

# a UEFI guest's NVRAM goes with undefine --nvram, as virsh
export LITEVIRT_NVRAMDIR="$T/nvram"
mkdir -p "$LITEVIRT_NVRAMDIR"
cat >"$T/uefi.xml" <<'EOF'
<domain type='kvm'>
  <name>uefi-vm</name>
  <memory unit='MiB'>64</memory>
  <os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>
</domain>
EOF
expect "define uefi" 0 "Domain 'uefi-vm' defined from $T/uefi.xml" "" -- "$LVSH" define "$T/uefi.xml"
expect "undefine uefi without NVRAM yet" 0 "Domain 'uefi-vm' has been undefined" "" -- "$LVSH" undefine uefi-vm
"$LVSH" define "$T/uefi.xml" >/dev/null
echo vars >"$LITEVIRT_NVRAMDIR/uefi-vm_VARS.fd"
expect "undefine uefi with NVRAM" 1 "" "error: Failed to undefine domain 'uefi-vm'
error: Requested operation is not valid: cannot undefine domain with nvram ($LITEVIRT_NVRAMDIR/uefi-vm_VARS.fd): use --nvram or --keep-nvram" -- "$LVSH" undefine uefi-vm
[ -f "$T/etc/guests/uefi-vm.xml" ] && ok "refused undefine kept the definition" || fail "definition gone"
expect "undefine --keep-nvram" 0 "Domain 'uefi-vm' has been undefined" "" -- "$LVSH" undefine uefi-vm --keep-nvram
[ -f "$LITEVIRT_NVRAMDIR/uefi-vm_VARS.fd" ] && ok "--keep-nvram kept the NVRAM" || fail "NVRAM gone"
"$LVSH" define "$T/uefi.xml" >/dev/null
expect "undefine --nvram" 0 "Domain 'uefi-vm' has been undefined" "" -- "$LVSH" undefine --nvram uefi-vm
[ ! -e "$LITEVIRT_NVRAMDIR/uefi-vm_VARS.fd" ] && ok "--nvram removed the NVRAM" || fail "NVRAM left"

echo "# $n checks, $failures failed"
[ "$failures" = 0 ]
