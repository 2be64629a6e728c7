# bench/lib/libvirt-hosts.sh (sourced by bash): libvirt "hosts" started by
# hand for the benchmarks that compare with libvirt. A host is a directory
# DIR of the caller's with a libvirtd (+ virtlogd for QEMU) started -d and
# killed by the pid each wrote, in a mount + cgroup namespace of its own
# (bench/lib/cgns-exec.sh): DIR/run, lib, log, cache, etc bound over
# /run/libvirt, /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt and
# /etc/libvirt, DIR/drv over the connection drivers (only the one asked
# for); /etc/passwd and /etc/group with libvirt's users libvirt-qemu and
# libvirt-dnsmasq (libvirt 9.0 resolves them before it reads qemu.conf, and
# runs its network's dnsmasq as the latter); qemu.conf user/group root, no
# security driver (LVH_QEMU_DEFAULTS=1: an empty qemu.conf, libvirt's
# defaults).
#
# One host (bench/qemu-start.sh, bench/net-start.sh):
#   libvirt_host_start DIR DRIVER [ADDR UUID NETNS ENTER]
#     DRIVER qemu or network; in the caller's network namespace, or NETNS
#     (a name in /run/netns); listening on TCP without auth on ADDR only
#     when given, with host UUID ...0UUID; ENTER a command that moves into
#     the host's cgroups and runs its arguments (tests/lib/hosts.sh's
#     enter-HOST): the daemons then make their cgroups below it.
#     -> 0, or 1 with the reason on stderr
#   libvirt_host_uri DIR, libvirt_host_stop DIR (also after a failed or no
#     start: destroys the host's guests or networks, then stops the daemons
#     and what they left: QEMUs, the capability probe, dnsmasq)
#
# Two hosts a and b for migration (bench/qemu-migrate-libvirt.sh,
# bench/migrate-dirty.sh), set before libvirt_hosts_start:
#   LVH_DIR     a directory of the caller's (gets a/ and b/)
#   LVH_NS_A, LVH_NS_B       the hosts' network namespaces (names in /run/netns)
#   LVH_ADDR_A, LVH_ADDR_B   the hosts' addresses in them
#   LVH_ENTER_A, LVH_ENTER_B (optional) as ENTER above
#   LVH_SPLIT   (optional) a path that is another directory on each host
#                ($LVH_DIR/a/split, $LVH_DIR/b/split): storage without sharing
# Then: libvirt_uri HOST, libvirt_hosts_stop (also after a failed start).
LVH_DRV=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver
LVH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

libvirt_host_uri() { echo "$(cat "$1/driver" 2>/dev/null || echo qemu):///system?socket=$1/run/libvirt-sock"; }

lvh_kill_pid() { # PID COMM: TERM (then KILL) that process if it is still COMM
    [ -n "$1" ] || return 0
    [ "$(cat /proc/"$1"/comm 2>/dev/null)" = "$2" ] || return 0
    kill -TERM "$1"
    for _w in $(seq 50); do [ -d /proc/"$1" ] || return 0; sleep 0.1; done
    kill -KILL "$1"
    while [ -d /proc/"$1" ]; do sleep 0.05; done
}

libvirt_host_stop() { # DIR
    local H=$1 uri d f
    uri=$(libvirt_host_uri "$H")
    if [ -S "$H/run/libvirt-sock" ]; then
        if [ "$(cat "$H/driver" 2>/dev/null)" = network ]; then
            for d in $(virsh -q -c "$uri" net-list --name 2>/dev/null); do
                virsh -q -c "$uri" net-destroy "$d" >/dev/null 2>&1
            done
        else
            for d in $(virsh -q -c "$uri" list --name 2>/dev/null); do
                virsh -q -c "$uri" destroy "$d" >/dev/null 2>&1
            done
        fi
    fi
    lvh_kill_pid "$(cat "$H/run/qb-libvirtd.pid" 2>/dev/null)" libvirtd
    lvh_kill_pid "$(cat "$H/run/qb-virtlogd.pid" 2>/dev/null)" virtlogd
    # guests, and the daemonized capability probe (outlives a libvirtd
    # killed while probing); a network's dnsmasq
    for f in "$H"/run/qemu/*.pid "$H"/lib/qemu/qmp-*/qmp.pid; do
        [ -s "$f" ] && lvh_kill_pid "$(cat "$f")" qemu-system-x86
    done
    for f in "$H"/run/network/*.pid; do
        [ -s "$f" ] && lvh_kill_pid "$(cat "$f")" dnsmasq
    done
}

libvirt_host_start() { # DIR DRIVER [ADDR UUID NETNS ENTER] -> 0, or 1 with the reason on stderr
    local H=$1 drv=$2 addr=${3:-} uuid=${4:-1} ns=${5:-} enter=${6:-} probe=list ok
    mkdir -p "$H/run" "$H/lib" "$H/log" "$H/cache" "$H/etc" "$H/drv" "$H/split" || return 1
    chmod 0711 "$H/split"
    echo "$drv" > "$H/driver"
    cp "$LVH_DRV/libvirt_driver_$drv.so" "$H/drv/" || return 1
    cp /etc/passwd "$H/passwd" && cp /etc/group "$H/group" || return 1
    grep -q '^libvirt-qemu:' "$H/passwd" ||
        echo 'libvirt-qemu:x:64055:64055:libvirt (bench only):/nonexistent:/usr/sbin/nologin' >> "$H/passwd"
    grep -q '^libvirt-qemu:' "$H/group" || echo 'libvirt-qemu:x:64055:' >> "$H/group"
    grep -q '^libvirt-dnsmasq:' "$H/passwd" ||
        echo 'libvirt-dnsmasq:x:64056:64056:libvirt dnsmasq (bench only):/nonexistent:/usr/sbin/nologin' >> "$H/passwd"
    grep -q '^libvirt-dnsmasq:' "$H/group" || echo 'libvirt-dnsmasq:x:64056:' >> "$H/group"
    {
        echo 'listen_tls = 0'
        if [ -n "$addr" ]; then
            printf 'listen_tcp = 1\nlisten_addr = "%s"\nauth_tcp = "none"\n' "$addr"
            printf 'host_uuid = "00000000-0000-4000-8000-00000000000%s"\n' "$uuid"
        else
            echo 'listen_tcp = 0'
        fi
        echo 'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"'
    } > "$H/etc/libvirtd.conf"
    if [ "$drv" = qemu ]; then
        printf 'log_outputs = "3:file:/var/log/libvirt/virtlogd.log"\n' > "$H/etc/virtlogd.conf"
        if [ -n "${LVH_QEMU_DEFAULTS:-}" ]; then
            : > "$H/etc/qemu.conf"
        else
            cat > "$H/etc/qemu.conf" <<'EOF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
EOF
        fi
    else
        probe="net-list --all"
        mkdir -p "$H/lib/dnsmasq"
    fi
    cat > "$H/start.sh" <<EOS
set -e
mount --bind $H/run /run/libvirt
mount --bind $H/lib /var/lib/libvirt
mount --bind $H/log /var/log/libvirt
mount --bind $H/cache /var/cache/libvirt
mount --bind $H/etc /etc/libvirt
mount --bind $H/drv $LVH_DRV
mount --bind $H/passwd /etc/passwd
mount --bind $H/group /etc/group
${LVH_SPLIT:+mkdir -p $LVH_SPLIT && mount --bind $H/split $LVH_SPLIT}
$([ "$drv" = qemu ] && echo "virtlogd -d -p /run/libvirt/qb-virtlogd.pid -f /etc/libvirt/virtlogd.conf")
libvirtd -d ${addr:+-l} -p /run/libvirt/qb-libvirtd.pid -f /etc/libvirt/libvirtd.conf
EOS
    mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
    $enter ${ns:+nsenter --net=/run/netns/"$ns"} unshare -m -C --propagation private \
        "$LVH_LIB/cgns-exec.sh" sh "$H/start.sh" ||
        { echo "cannot start libvirtd in $H" >&2; return 1; }
    ok=0
    for _w in $(seq 100); do
        # shellcheck disable=SC2086
        virsh -q -c "$(libvirt_host_uri "$H")" $probe >/dev/null 2>&1 && { ok=1; break; }
        sleep 0.1
    done
    [ $ok = 1 ] || { echo "libvirtd in $H did not answer:" >&2; tail "$H/log/libvirtd.log" >&2; return 1; }
}

libvirt_uri() { libvirt_host_uri "$LVH_DIR/$1"; }

libvirt_hosts_stop() {
    libvirt_host_stop "$LVH_DIR/a"
    libvirt_host_stop "$LVH_DIR/b"
}

libvirt_hosts_start() { # -> 0, or 1 with the reason on stderr
    libvirt_host_start "$LVH_DIR/a" qemu "$LVH_ADDR_A" 1 "$LVH_NS_A" "${LVH_ENTER_A:-}" &&
        libvirt_host_start "$LVH_DIR/b" qemu "$LVH_ADDR_B" 2 "$LVH_NS_B" "${LVH_ENTER_B:-}"
}
