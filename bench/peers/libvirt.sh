# shellcheck shell=bash disable=SC2034   # START, STOP, AFTER, WRAP, CGOPT: read by run.sh
# Peer "libvirt" 9.0 LXC driver: `virsh -c lxc:///system create` (transient
# domain) and `virsh destroy`. libvirtd and virtlogd are started by hand
# (-d; no systemd as PID 1 here) and stopped at the end by their pids, inside
# a private mount + network + cgroup namespace (lib/cgns-exec.sh: the LXC
# driver of libvirt 9.0 fails on hybrid cgroups and would create /machine at
# the hierarchy roots), with /run, /var/lib, /var/log, /var/cache and
# /etc/libvirt bound to temp dirs, so nothing of the host's is touched; virsh
# reaches the daemon through the socket path. Only the LXC connection
# driver is loaded (the QEMU driver needs a libvirt-qemu user this host does
# not have); this is what the modular virtlxcd would load, and it makes
# libvirtd smaller, not larger.
LV_LIBVIRT_DRV=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver

peer_libvirt_uri() { echo "lxc:///system?socket=$RT/libvirt/libvirt/libvirt-sock"; }

peer_libvirt_cmds() {
    DETACH=1   # the start command returns once the guest runs
    START=(virsh -q -c "$(peer_libvirt_uri)" create "$WORK/libvirt/xml/$1{i}.xml")
    STOP=(virsh -q -c "$(peer_libvirt_uri)" destroy "$1{i}")
    AFTER=()
    i=0
    while [ "$i" -lt "$LVB_COUNT" ]; do
        cat > "$WORK/libvirt/xml/$1$i.xml" <<EOX
<domain type='lxc'>
  <name>$1$i</name>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os><type>exe</type><init>/bin/lvb-idle</init></os>
  <features><privnet/></features>
  <devices>
    <filesystem type='mount'><source dir='$ROOTFS'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>
EOX
        i=$((i + 1))
    done
}

peer_libvirt_setup() {
    L=$WORK/libvirt
    mkdir -p "$RT/libvirt" "$L/varlib/libvirt" "$L/varlog/libvirt" "$L/varcache/libvirt" "$L/etc" "$L/drv" "$L/xml"
    cp /etc/libvirt/libvirt.conf "$L/etc/" 2>/dev/null
    printf 'listen_tls = 0\nlisten_tcp = 0\nlog_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n' \
        > "$L/etc/libvirtd.conf"
    printf 'user = "root"\ngroup = "root"\n' > "$L/etc/qemu.conf"
    cp "$LV_LIBVIRT_DRV/libvirt_driver_lxc.so" "$L/drv/"
    cat > "$L/start.sh" <<EOS
set -e
mount --bind $RT/libvirt /run
mount --bind $L/varlib /var/lib
mount --bind $L/varlog /var/log
mount --bind $L/varcache /var/cache
mount --bind $L/etc /etc/libvirt
mount --bind $L/drv $LV_LIBVIRT_DRV
mkdir -p /run/libvirt
virtlogd -d -p /run/lvb-virtlogd.pid
libvirtd -d -p /run/lvb-libvirtd.pid -f /etc/libvirt/libvirtd.conf
EOS
    unshare -m -n -C --propagation private "$LIB/cgns-exec.sh" sh "$L/start.sh" || return 1
    for _w in $(seq 100); do
        virsh -q -c "$(peer_libvirt_uri)" list >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "libvirt: libvirtd did not answer, see $L/varlog/libvirt/" >&2
    return 1
}

peer_libvirt_stop_kept() { # PREFIX COUNT (in parallel: each destroy waits ~1.8 s)
    i=0
    while [ "$i" -lt "$2" ]; do
        virsh -q -c "$(peer_libvirt_uri)" destroy "$1$i" >/dev/null 2>&1 &
        i=$((i + 1))
        [ $((i % 20)) -eq 0 ] && wait
    done
    wait
    return 0
}

peer_libvirt_teardown() {
    L=$WORK/libvirt
    [ -S "$RT/libvirt/libvirt/libvirt-sock" ] &&
        for d in $(virsh -q -c "$(peer_libvirt_uri)" list --name 2>/dev/null); do
            virsh -q -c "$(peer_libvirt_uri)" destroy "$d" >/dev/null 2>&1
        done
    for p in libvirtd virtlogd; do
        f=$RT/libvirt/lvb-$p.pid
        [ -s "$f" ] || continue
        pid=$(cat "$f")
        [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$p" ] && kill -TERM "$pid"
        for _w in $(seq 30); do [ -d /proc/"$pid" ] || break; sleep 0.1; done
        [ -d /proc/"$pid" ] && kill -KILL "$pid"
    done
    return 0
}

peer_libvirt_dominfo() { # NAME of a running guest
    hf libvirt dominfo virsh -q -c "$(peer_libvirt_uri)" dominfo "$1"
}
