# bench/lib/libvirt-hosts.sh (sourced by bash): two libvirt "hosts" for
# migration benchmarks (bench/qemu-migrate-libvirt.sh, bench/migrate-dirty.sh).
# Host a and b each get a libvirtd + virtlogd started by hand (-d, killed by
# the pid each wrote), in a network namespace of the caller's and a mount +
# cgroup namespace of their own (bench/lib/cgns-exec.sh): temp dirs bound
# over /run/libvirt, /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt
# and /etc/libvirt; host UUIDs ...01 and ...02 (so libvirt takes them for
# two hosts); qemu.conf user/group root, no security driver; the daemon
# listens on TCP without auth on its host's address only.
#
# Set before libvirt_hosts_start:
#   LVH_DIR     a directory of the caller's (gets a/ and b/)
#   LVH_NS_A, LVH_NS_B       the hosts' network namespaces (names in /run/netns)
#   LVH_ADDR_A, LVH_ADDR_B   the hosts' addresses in them
#   LVH_ENTER_A, LVH_ENTER_B (optional) a command that moves into the host's
#                cgroups and runs its arguments (tests/lib/hosts.sh's enter-HOST):
#                the daemons then make their cgroups below it
#   LVH_SPLIT   (optional) a path that is another directory on each host
#                ($LVH_DIR/a/split, $LVH_DIR/b/split): storage without sharing
# Then: libvirt_uri HOST, libvirt_hosts_stop (also after a failed start;
# destroys the hosts' guests first).
LVH_DRV=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver

libvirt_uri() { echo "qemu:///system?socket=$LVH_DIR/$1/run/libvirt-sock"; }

lvh_kill_pid() { # PID COMM: TERM (then KILL) that process if it is still COMM
    [ -n "$1" ] || return 0
    [ "$(cat /proc/"$1"/comm 2>/dev/null)" = "$2" ] || return 0
    kill -TERM "$1"
    for _w in $(seq 50); do [ -d /proc/"$1" ] || return 0; sleep 0.1; done
    kill -KILL "$1"
    while [ -d /proc/"$1" ]; do sleep 0.05; done
}

libvirt_hosts_stop() {
    local h d f
    for h in a b; do
        [ -S "$LVH_DIR/$h/run/libvirt-sock" ] || continue
        for d in $(virsh -q -c "$(libvirt_uri $h)" list --name 2>/dev/null); do
            virsh -q -c "$(libvirt_uri $h)" destroy "$d" >/dev/null 2>&1
        done
    done
    for h in a b; do
        lvh_kill_pid "$(cat "$LVH_DIR/$h/run/qb-libvirtd.pid" 2>/dev/null)" libvirtd
        lvh_kill_pid "$(cat "$LVH_DIR/$h/run/qb-virtlogd.pid" 2>/dev/null)" virtlogd
        # guests, and the daemonized capability probe (outlives a libvirtd
        # killed while probing)
        for f in "$LVH_DIR"/$h/run/qemu/*.pid "$LVH_DIR"/$h/lib/qemu/qmp-*/qmp.pid; do
            [ -s "$f" ] && lvh_kill_pid "$(cat "$f")" qemu-system-x86
        done
    done
}

libvirt_hosts_start() { # -> 0, or 1 with the reason on stderr
    local h H i=1 ns addr enter ok
    cp /etc/passwd "$LVH_DIR/passwd" && cp /etc/group "$LVH_DIR/group" || return 1
    grep -q '^libvirt-qemu:' "$LVH_DIR/passwd" ||
        echo 'libvirt-qemu:x:64055:64055:libvirt (bench only):/nonexistent:/usr/sbin/nologin' >> "$LVH_DIR/passwd"
    grep -q '^libvirt-qemu:' "$LVH_DIR/group" || echo 'libvirt-qemu:x:64055:' >> "$LVH_DIR/group"
    mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
    for h in a b; do
        H=$LVH_DIR/$h
        ns=$LVH_NS_A addr=$LVH_ADDR_A enter=${LVH_ENTER_A:-}
        [ $h = b ] && ns=$LVH_NS_B addr=$LVH_ADDR_B enter=${LVH_ENTER_B:-}
        mkdir -p "$H/run" "$H/lib" "$H/log" "$H/cache" "$H/etc" "$H/drv" "$H/split"
        chmod 0711 "$H/split"
        cp "$LVH_DRV/libvirt_driver_qemu.so" "$H/drv/"
        cat > "$H/etc/libvirtd.conf" <<EOF
listen_tls = 0
listen_tcp = 1
listen_addr = "$addr"
auth_tcp = "none"
host_uuid = "00000000-0000-4000-8000-00000000000$i"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
        printf 'log_outputs = "3:file:/var/log/libvirt/virtlogd.log"\n' > "$H/etc/virtlogd.conf"
        cat > "$H/etc/qemu.conf" <<'EOF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
EOF
        cat > "$H/start.sh" <<EOS
set -e
mount --bind $H/run /run/libvirt
mount --bind $H/lib /var/lib/libvirt
mount --bind $H/log /var/log/libvirt
mount --bind $H/cache /var/cache/libvirt
mount --bind $H/etc /etc/libvirt
mount --bind $H/drv $LVH_DRV
mount --bind $LVH_DIR/passwd /etc/passwd
mount --bind $LVH_DIR/group /etc/group
${LVH_SPLIT:+mkdir -p $LVH_SPLIT && mount --bind $H/split $LVH_SPLIT}
virtlogd -d -p /run/libvirt/qb-virtlogd.pid -f /etc/libvirt/virtlogd.conf
libvirtd -d -l -p /run/libvirt/qb-libvirtd.pid -f /etc/libvirt/libvirtd.conf
EOS
        $enter nsenter --net=/run/netns/"$ns" unshare -m -C --propagation private \
            "$(dirname "${BASH_SOURCE[0]}")/cgns-exec.sh" sh "$H/start.sh" ||
            { echo "cannot start libvirtd on host $h" >&2; return 1; }
        ok=0
        for _w in $(seq 100); do
            virsh -q -c "$(libvirt_uri $h)" list >/dev/null 2>&1 && { ok=1; break; }
            sleep 0.1
        done
        [ $ok = 1 ] || { echo "libvirtd $h did not answer:" >&2; tail "$H/log/libvirtd.log" >&2; return 1; }
        i=$((i + 1))
    done
}
