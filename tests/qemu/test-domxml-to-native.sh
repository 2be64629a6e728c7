#!/bin/sh
# lvsh domxml-to-native qemu-argv FILE, as virsh has it: for every guest of
# the virt-install corpus (tests/data/virt-install), the command line lvsh
# prints for virt-install's NAME.xml and for libvirt's define-time
# NAME.dump.xml has the device topology (driver, bus, addr of each
# -device) of libvirt's own `virsh domxml-to-native qemu-argv` (NAME.args);
# bad input is an error naming it.
set -u
LVSH=${LV_BUILD_ROOT:?}/lvsh
SRC=${LV_SOURCE_ROOT:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
export LITEVIRT_CONFDIR="$T/etc" LITEVIRT_RUNDIR="$T/run" LITEVIRT_NVRAMDIR="$T/nvram"
failures=0 n=0
fail() { failures=$((failures + 1)); echo "not ok - $*"; }
ok() { echo "ok - $*"; }

# the sorted "driver bus=B addr=A" of each -device of a .args file
topology() {
    python3 -c '
import json, shlex, sys
args = shlex.split(open(sys.argv[1]).read().replace("\\\n", " "))
out = []
for i, a in enumerate(args[:-1]):
    if a == "-device":
        d = json.loads(args[i + 1])
        out.append("%s bus=%s addr=%s" % (d["driver"], d.get("bus", "-"), d.get("addr", "-")))
print("\n".join(sorted(out)))' "$1"
}

for args in "$SRC"/tests/data/virt-install/*.args; do
    name=$(basename "$args" .args)
    topology "$args" >"$T/theirs"
    for xml in "$name.xml" "$name.dump.xml"; do
        n=$((n + 1))
        if ! "$LVSH" domxml-to-native qemu-argv "$SRC/tests/data/virt-install/$xml" >"$T/ours.args" 2>"$T/err"; then
            fail "$xml: $(cat "$T/err")"
            continue
        fi
        topology "$T/ours.args" >"$T/ours"
        if cmp -s "$T/ours" "$T/theirs"; then
            ok "$xml: $(wc -l <"$T/ours") devices as virsh domxml-to-native"
        else
            fail "$xml: device topology differs from virsh's:
$(diff "$T/theirs" "$T/ours")"
        fi
    done
done

# what litevirt decides at start: sockets in the state directory, NVRAM
X=$SRC/tests/data/virt-install/debian11-q35-uefi-spice.xml
"$LVSH" domxml-to-native qemu-argv "$X" >"$T/out" 2>&1
n=$((n + 1))
grep -q "charchannel0,path=$T/run/debian11-q35-uefi-spice/channel.org.qemu.guest_agent.0," "$T/out" &&
    grep -q "\"filename\":\"$T/nvram/debian11-q35-uefi-spice_VARS.fd\"" "$T/out" &&
    grep -q "qmp.sock" "$T/out" && ok "channel socket, NVRAM and monitor paths" ||
    fail "paths: $(grep -E 'charchannel0|pflash1-storage' "$T/out")"

# errors
n=$((n + 1))
out=$("$LVSH" domxml-to-native qemu-argv "$T/missing.xml" 2>&1) && fail "missing file accepted"
case "$out" in *missing.xml*) ok "missing file: $out";; *) fail "missing file: $out";; esac
n=$((n + 1))
out=$("$LVSH" domxml-to-native native-foo "$X" 2>&1) && fail "unknown format accepted"
case "$out" in *"format 'native-foo' is not supported (supported: xen-xl, qemu-argv)"*)
    ok "unknown format: $out";; *) fail "unknown format: $out";; esac
n=$((n + 1))
sed 's/<domain type="kvm">/<domain type="kvm"><cpu mode="host-model"\/>/' \
    "$SRC/tests/data/virt-install/debian11-i440fx-bios-vnc.xml" >"$T/hm.xml"
sed -i 's/<cpu mode="host-passthrough"\/>//' "$T/hm.xml"
out=$("$LVSH" domxml-to-native qemu-argv "$T/hm.xml" 2>&1) && fail "host-model CPU accepted"
case "$out" in *"CPU mode 'host-model' is not supported by litevirt"*)
    ok "host-model CPU refused with the reason: $out";; *) fail "host-model CPU: $out";; esac
n=$((n + 1))
sed 's/<domain type="kvm">/<domain type="kvm"><memoryBacking><hugepages\/><\/memoryBacking>/' \
    "$SRC/tests/data/virt-install/debian11-i440fx-bios-vnc.xml" >"$T/hp.xml"
out=$("$LVSH" domxml-to-native qemu-argv "$T/hp.xml" 2>&1) && fail "refused element accepted"
case "$out" in *"hp.xml:"*"not supported by litevirt"*) ok "refused element named: $out";; *) fail "refused element: $out";; esac

echo "# $n checks, $failures failed"
[ "$failures" = 0 ]
