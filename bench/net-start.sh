#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/net-start.sh: a virtual network's start, its first DHCP lease and
# its stop, litevirt (`lvsh net-start`: litevirt-network, its bridge,
# nftables table and dnsmasq) against libvirt 9.0's network driver
# (`virsh net-start`: libvirtd, its bridge, iptables rules and dnsmasq),
# in ONE run, rounds interleaved, the same network XML for both:
#   <forward mode='nat'/>, <bridge stp='off' delay='0'/> (with libvirt's
#   default stp='on' the kernel holds a new port 4 s before it forwards,
#   for both alike), one IPv4 <ip> with a DHCP range.
# Per round and tool: t0 the start command issued; net-start = until it
# returned; first lease = until a DHCP client (busybox udhcpc, in a
# namespace of its own, on a veth plugged into the bridge right after the
# start returned) has its lease; net-destroy = the stop command's time.
#
#   sudo bench/net-start.sh            # N=7 rounds
#   N=15 LV_BUILD=build bench/net-start.sh
#
# Isolation: everything runs in a private network namespace (re-executed
# under `unshare --net`), so both tools' bridges, firewall rules (nft and
# iptables-nft tables), IP forwarding and dnsmasq exist only there; the
# client namespace is made here and deleted at the end. libvirtd runs in a
# private mount + cgroup namespace with temp dirs bound over /run/libvirt,
# /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt, /etc/libvirt and
# only the network connection driver (bench/lib/libvirt-hosts.sh); it and
# its dnsmasq are killed by pid at the end.
# Everything is removed on exit, also on failure or Ctrl-C.
#
# Needs (Debian 12, installed here when missing): dnsmasq-base nftables
#   iptables libvirt-daemon libvirt-daemon-driver-network libvirt-clients
#   busybox
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
N=${N:-7}
LV_BUILD=${LV_BUILD:-$TOP/build}
LV_BUILD=$(cd "$(dirname "$LV_BUILD")" && pwd)/$(basename "$LV_BUILD")

if [ "$(id -u)" != 0 ]; then
    echo "bench/net-start.sh: needs root (namespaces, bridges, libvirtd)" >&2
    exit 1
fi

if [ -z "${LV_NB_INNER:-}" ]; then
    need=""
    [ -x /usr/sbin/dnsmasq ] || need="$need dnsmasq-base"
    command -v nft >/dev/null || need="$need nftables"
    command -v iptables >/dev/null || need="$need iptables"
    command -v libvirtd >/dev/null || need="$need libvirt-daemon"
    [ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_network.so ] ||
        need="$need libvirt-daemon-driver-network"
    command -v virsh >/dev/null || need="$need libvirt-clients"
    command -v busybox >/dev/null || need="$need busybox"
    if [ -n "$need" ]; then
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need ||
            exit 1
    fi
    if [ ! -x "$LV_BUILD/lvsh" ]; then
        [ -f "$LV_BUILD/build.ninja" ] || meson setup "$LV_BUILD" "$TOP" >/dev/null || exit 1
        ninja -C "$LV_BUILD" >/dev/null || exit 1
    fi
    export LV_NB_INNER=1
    exec unshare --net -- "$0" "$@"
fi

ip link set lo up
T=$(mktemp -d /tmp/lv-netbench.XXXXXX)
chmod 755 "$T" # dnsmasq reads its hosts files as 'nobody'
LVSH=$LV_BUILD/lvsh
. "$HERE/lib/libvirt-hosts.sh"
export LITEVIRT_CONFDIR=$T/conf LITEVIRT_RUNDIR=$T/run LITEVIRT_LOGDIR=$T/log \
    LITEVIRT_NETRUNDIR=$T/netrun
mkdir -p "$T/conf" "$T/run" "$T/log" "$T/netrun"
CLIENT=lvnbc-$$
VETH=lvnbv$$

cleanup() {
    set +e
    "$LVSH" net-destroy nblv >/dev/null 2>&1
    libvirt_host_stop "$T/libvirt"
    ip link del "$VETH" 2>/dev/null
    ip netns del "$CLIENT" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- libvirt: libvirtd with its network driver only ------------------------
libvirt_host_start "$T/libvirt" network || exit 1
LV_URI=$(libvirt_host_uri "$T/libvirt")

netxml() { # NAME BRIDGE SUBNET-OCTET
    cat <<EOF
<network>
  <name>$1</name>
  <forward mode='nat'/>
  <bridge name='$2' stp='off' delay='0'/>
  <ip address='10.$3.0.1' prefix='24'>
    <dhcp>
      <range start='10.$3.0.100' end='10.$3.0.200'/>
    </dhcp>
  </ip>
</network>
EOF
}
netxml nblv lvnb-lv 211 > "$T/nblv.xml"
netxml nblb lvnb-lb 212 > "$T/nblb.xml"
"$LVSH" net-define "$T/nblv.xml" >/dev/null || exit 1
virsh -q -c "$LV_URI" net-define "$T/nblb.xml" >/dev/null || exit 1

ip netns add "$CLIENT"
ip -n "$CLIENT" link set lo up
now() { date +%s%N; }

# one round: START-CMD... ; bridge name and stop command from globals
round() { # TOOL BRIDGE STOPCMD -- STARTCMD...
    tool=$1 br=$2 stop=$3
    shift 4
    t0=$(now)
    "$@" >/dev/null || { echo "$tool: start failed" >&2; return 1; }
    t1=$(now)
    ip link add "$VETH" type veth peer name eth0 netns "$CLIENT"
    ip link set "$VETH" master "$br" up
    ip -n "$CLIENT" link set eth0 up
    ip netns exec "$CLIENT" busybox udhcpc -i eth0 -q -n -t 20 -T 3 -s /bin/true >/dev/null 2>&1 ||
        { echo "$tool: no lease" >&2; return 1; }
    t2=$(now)
    ip link del "$VETH"
    t3=$(now)
    eval "$stop" >/dev/null || { echo "$tool: stop failed" >&2; return 1; }
    t4=$(now)
    echo "$tool $(((t1 - t0) / 1000)) $(((t2 - t0) / 1000)) $(((t4 - t3) / 1000))" >> "$T/results"
}

: > "$T/results"
for i in $(seq "$N"); do
    if [ $((i % 2)) = 1 ]; then order="lv lb"; else order="lb lv"; fi
    for o in $order; do
        if [ "$o" = lv ]; then
            round litevirt lvnb-lv "'$LVSH' net-destroy nblv" -- "$LVSH" net-start nblv || exit 1
        else
            round libvirt lvnb-lb "virsh -q -c '$LV_URI' net-destroy nblb" -- \
                virsh -q -c "$LV_URI" net-start nblb || exit 1
        fi
    done
done

echo "bench/net-start.sh: N=$N rounds, interleaved; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "libvirt $(libvirtd --version | awk '{print $NF}'), dnsmasq $(/usr/sbin/dnsmasq --version | head -1 | awk '{print $3}')"
python3 - "$T/results" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
cols = ["net-start", "first lease", "net-destroy"]
data = {}
for r in rows:
    data.setdefault(r[0], []).append([int(x) / 1000 for x in r[1:]])
print(f"{'ms (median [min-max])':24}" + "".join(f"{c:>24}" for c in cols))
med = {}
for tool in ("litevirt", "libvirt"):
    v = data.get(tool, [])
    cells = []
    for k in range(3):
        xs = [x[k] for x in v]
        m = statistics.median(xs)
        med[(tool, k)] = m
        cells.append(f"{m:8.1f} [{min(xs):.1f}-{max(xs):.1f}]")
    print(f"{tool:24}" + "".join(f"{c:>24}" for c in cells))
print(f"{'litevirt / libvirt':24}" + "".join(
    f"{med[('litevirt', k)] / med[('libvirt', k)]:>24.2f}" for k in range(3)))
EOF
