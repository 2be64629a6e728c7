#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/make-virt-install-corpus.sh [OUTDIR]: the domain XML virt-install
# writes, made here rather than copied from somewhere. For each guest kind
# below (Debian, Fedora, Ubuntu, CentOS, Windows; q35 and i440fx; UEFI and
# BIOS; virtual network and bridge; qcow2 and raw; SPICE and VNC; cdrom) it
# keeps, in OUTDIR (default tests/data/virt-install):
#   NAME.xml         virt-install --print-xml (what a user defines);
#   NAME.dump.xml    virsh define + virsh dumpxml (libvirt's define-time form);
#   NAME.args        virsh domxml-to-native qemu-argv NAME.xml (libvirt's
#                    QEMU command line), or NAME.args.err if libvirt refuses.
# The files are committed: the test suite reads them and needs no libvirtd.
# Run again (as root) to regenerate them and review the diff.
#
# virt-install needs a libvirtd (it reads the host's and QEMU's
# capabilities: machine types, firmware). `--connect test:///default` gives
# other XML (domain type 'test', no firmware, no q35 defaults), so a real
# libvirt 9.0 QEMU driver is started by hand, as bench/qemu-start.sh does,
# here in a private mount + network namespace (the whole script re-runs
# itself under `unshare -m -n`) with temp dirs bound over libvirt's
# directories, with only the QEMU and storage drivers (virt-install looks
# disk paths up as storage volumes); nothing is started, so no cgroup is made. libvirtd is killed
# by pid at the end and the temp dir removed, also on failure.
#
# Needs (Debian 12): apt-get install --no-install-recommends virtinst
#   libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
#   qemu-system-x86 qemu-utils ovmf (installed here when missing)
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
OUT=${1:-$TOP/tests/data/virt-install}

if [ "$(id -u)" != 0 ]; then
    echo "make-virt-install-corpus.sh: needs root (namespaces, libvirtd)" >&2
    exit 1
fi

if [ -z "${LV_VIC_INNER:-}" ]; then
    need=""
    command -v virt-install >/dev/null || need="$need virtinst"
    command -v libvirtd >/dev/null || need="$need libvirt-daemon"
    [ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ] ||
        need="$need libvirt-daemon-driver-qemu"
    command -v virsh >/dev/null || need="$need libvirt-clients"
    command -v qemu-system-x86_64 >/dev/null || need="$need qemu-system-x86"
    command -v qemu-img >/dev/null || need="$need qemu-utils"
    [ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || need="$need ovmf"
    if [ -n "$need" ]; then
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need ||
            exit 1
    fi
    mkdir -p "$OUT" || exit 1
    OUT=$(cd "$OUT" && pwd)
    export LV_VIC_INNER=1
    exec unshare -m -n --propagation private -- "$0" "$OUT"
fi

T=$(mktemp -d /tmp/lv-vicorpus.XXXXXX)
LIBVIRTD_PID=""
cleanup() {
    set +e
    [ -s "$T/run/vic-libvirtd.pid" ] && LIBVIRTD_PID=$(cat "$T/run/vic-libvirtd.pid")
    if [ -n "$LIBVIRTD_PID" ] && [ "$(cat /proc/"$LIBVIRTD_PID"/comm 2>/dev/null)" = libvirtd ]; then
        kill -TERM "$LIBVIRTD_PID"
        for _w in $(seq 50); do [ -d /proc/"$LIBVIRTD_PID" ] || break; sleep 0.1; done
        [ -d /proc/"$LIBVIRTD_PID" ] && kill -KILL "$LIBVIRTD_PID"
    fi
    # the capability-probe QEMU libvirtd daemonizes outlives a libvirtd
    # killed while probing: its pidfile is in our /var/lib/libvirt
    for f in "$T"/lib/qemu/qmp-*/qmp.pid; do
        p=$(cat "$f" 2>/dev/null)
        [ -n "$p" ] && [ "$(cat /proc/"$p"/comm 2>/dev/null)" = qemu-system-x86 ] && kill -KILL "$p"
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip link set lo up
mkdir -p "$T/run" "$T/lib/images" "$T/log" "$T/cache" "$T/etc" "$T/drv" || exit 1
DRV=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver
for d in qemu storage; do cp "$DRV/libvirt_driver_$d.so" "$T/drv/" || exit 1; done
printf 'listen_tls = 0\nlisten_tcp = 0\nlog_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n' \
    > "$T/etc/libvirtd.conf"
cat > "$T/etc/qemu.conf" <<'EOF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
EOF
# libvirt 9.0's QEMU driver resolves its built-in default user before it
# reads qemu.conf: give it a libvirt-qemu user, in this mount namespace only
cp /etc/passwd "$T/passwd" && cp /etc/group "$T/group" || exit 1
grep -q '^libvirt-qemu:' "$T/passwd" ||
    echo 'libvirt-qemu:x:64055:64055:libvirt (corpus only):/nonexistent:/usr/sbin/nologin' >> "$T/passwd"
grep -q '^libvirt-qemu:' "$T/group" || echo 'libvirt-qemu:x:64055:' >> "$T/group"
mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
for m in "run:/run/libvirt" "lib:/var/lib/libvirt" "log:/var/log/libvirt" \
    "cache:/var/cache/libvirt" "etc:/etc/libvirt" "drv:$DRV" \
    "passwd:/etc/passwd" "group:/etc/group"; do
    mount --bind "$T/${m%%:*}" "${m#*:}" || exit 1
done
libvirtd -d -p /run/libvirt/vic-libvirtd.pid -f /etc/libvirt/libvirtd.conf || exit 1
URI=qemu:///system
ok=0
for _w in $(seq 300); do
    if virsh -q -c "$URI" list >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.1
done
if [ "$ok" != 1 ]; then
    echo "make-virt-install-corpus.sh: libvirtd did not answer:" >&2
    tail -20 "$T/log/libvirtd.log" >&2
    exit 1
fi

IMG=/var/lib/libvirt/images
ISO=$IMG/install.iso
: > "$ISO"
for f in disk.qcow2:qcow2 disk.raw:raw; do
    qemu-img create -q -f "${f#*:}" "$IMG/${f%%:*}" 1G || exit 1
done

# NAME OPTIONS...: one guest kind. Paths are those libvirt users have
# (/var/lib/libvirt/images); the test suite rewrites none of them.
failures=0
seq_no=0
guest() {
    name=$1
    shift
    if ! virt-install --connect "$URI" --print-xml --name "$name" \
        --uuid "$(printf '%08x-0000-4000-8000-000000000000' "$(cksum <<<"$name" | cut -d' ' -f1)")" \
        "$@" > "$OUT/$name.xml" 2> "$T/err"; then
        echo "virt-install $name: $(cat "$T/err")" >&2
        rm -f "$OUT/$name.xml"
        failures=$((failures + 1))
        return
    fi
    # MACs are random: number them per guest and NIC, so a rerun gives the
    # same files
    seq_no=$((seq_no + 1))
    awk -v g="$(printf %02x "$seq_no")" '
        /<mac address="/ { sub(/address="[0-9a-f:]*"/, sprintf("address=\"52:54:00:00:%s:%02x\"", g, n++)) }
        { print }' "$OUT/$name.xml" > "$T/mac" && cat "$T/mac" > "$OUT/$name.xml"
    if virsh -q -c "$URI" define "$OUT/$name.xml" > "$T/out" 2> "$T/err"; then
        virsh -q -c "$URI" dumpxml --inactive "$name" > "$OUT/$name.dump.xml"
        virsh -q -c "$URI" undefine --nvram "$name" > /dev/null 2>&1 ||
            virsh -q -c "$URI" undefine "$name" > /dev/null
        rm -f "$OUT/$name.dump.err"
    else
        sed 's/^error: //' "$T/err" > "$OUT/$name.dump.err"
        rm -f "$OUT/$name.dump.xml"
    fi
    # (the environment libvirt would set, PATH included, is left out)
    if virsh -q -c "$URI" domxml-to-native qemu-argv "$OUT/$name.xml" > "$T/args" 2> "$T/err"; then
        sed 's|^.* \(/usr/bin/qemu-system-x86_64 \)|\1|' "$T/args" > "$OUT/$name.args"
        rm -f "$OUT/$name.args.err"
    else
        sed 's/^error: //' "$T/err" > "$OUT/$name.args.err"
        rm -f "$OUT/$name.args"
    fi
    echo "$name: $(wc -l < "$OUT/$name.xml") lines"
}

Q=--import
guest debian11-q35-uefi-spice $Q --osinfo debian11 --memory 1024 --vcpus 2 --boot uefi \
    --disk path=$IMG/disk.qcow2,format=qcow2,bus=virtio --network bridge=br0 --graphics spice
guest debian11-i440fx-bios-vnc $Q --osinfo debian11 --machine pc --memory 1024 --vcpus 1 \
    --disk path=$IMG/disk.raw,format=raw,bus=virtio --network bridge=br0 --graphics vnc
guest debian11-q35-network $Q --osinfo debian11 --memory 2048 --vcpus 2 \
    --disk path=$IMG/disk.qcow2,format=qcow2 --network network=default --graphics spice
guest fedora37-q35-uefi-cdrom $Q --osinfo fedora37 --memory 2048 --vcpus 2 --boot uefi \
    --disk path=$IMG/disk.qcow2,format=qcow2 --disk path=$ISO,device=cdrom \
    --network bridge=br0 --graphics spice
guest fedora37-i440fx-bios $Q --osinfo fedora37 --machine pc --memory 2048 --vcpus 2 \
    --disk path=$IMG/disk.qcow2,format=qcow2 --network bridge=br0 --graphics vnc
guest ubuntu22.04-q35-bios-spice $Q --osinfo ubuntu22.04 --memory 2048 --vcpus 2 \
    --disk path=$IMG/disk.qcow2,format=qcow2 --network bridge=br0 --graphics spice
guest ubuntu22.04-q35-uefi-vnc-raw $Q --osinfo ubuntu22.04 --memory 2048 --vcpus 4 --boot uefi \
    --disk path=$IMG/disk.raw,format=raw --disk device=cdrom,bus=sata \
    --network bridge=br0 --graphics vnc
guest centos-stream9-q35-uefi $Q --osinfo centos-stream9 --memory 2048 --vcpus 2 --boot uefi \
    --disk path=$IMG/disk.qcow2,format=qcow2 --network bridge=br0 --graphics spice
guest centos-stream9-i440fx-headless $Q --osinfo centos-stream9 --machine pc --memory 1536 \
    --vcpus 1 --disk path=$IMG/disk.qcow2,format=qcow2 --network bridge=br0 --graphics none
guest win10-q35-bios $Q --osinfo win10 --memory 4096 --vcpus 2 \
    --disk path=$IMG/disk.qcow2,format=qcow2 --disk path=$ISO,device=cdrom \
    --network bridge=br0 --graphics spice
guest win2k22-q35-uefi $Q --osinfo win2k22 --memory 4096 --vcpus 2 --boot uefi \
    --disk path=$IMG/disk.qcow2,format=qcow2 --network bridge=br0,model=e1000e --graphics vnc
guest win10-i440fx-bios $Q --osinfo win10 --machine pc --memory 4096 --vcpus 2 \
    --disk path=$IMG/disk.raw,format=raw,bus=sata --disk path=$ISO,device=cdrom,bus=ide \
    --network bridge=br0,model=e1000 --graphics vnc

[ "$failures" = 0 ]
