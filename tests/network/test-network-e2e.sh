#!/bin/sh
# End to end: a virtual network (lvsh net-define/net-start, litevirt-network,
# dnsmasq, an nftables table of its own) with real containers on it.
# Containers and a booted VM get DHCP addresses from the range (a static
# host entry its fixed address), resolve each other by name through dnsmasq, reach the
# "uplink" through NAT (the uplink sees the network's outside address), are
# not reachable from the uplink, and after net-destroy nothing is left. A
# network whose supervisor was killed is cleaned up by the next lvsh.
#
# Runs in a network namespace of its own (re-executed under `unshare
# --net`), with a second, named namespace as the uplink: the machine's own
# network, forwarding and nftables are never touched.
set -u

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
BUSYBOX=$(command -v busybox) || { echo "SKIP: busybox missing"; exit 77; }
for t in ip nsenter unshare socat nft; do
    command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[ -x /usr/sbin/dnsmasq ] || { echo "SKIP: dnsmasq missing (scripts/install-deps.sh)"; exit 77; }
if [ -z "${LV_NET_IN_NETNS:-}" ]; then
    # the tiny test guest (fetched from the archive: before the namespace)
    command -v qemu-system-x86_64 >/dev/null &&
        sh "$LV_SOURCE_ROOT/tests/qemu/build-guest.sh" "$LV_BUILD_ROOT/test-guest" >/dev/null 2>&1
    LV_NET_IN_NETNS=1 exec unshare --net -- "$0" "$@"
fi

B=${LV_BUILD_ROOT:?}
LVSH=$B/lvsh
T=$(mktemp -d /tmp/lv-test-network.XXXXXX)
chmod 755 "$T" # dnsmasq reads its hosts files as 'nobody'
export LITEVIRT_CONFDIR=$T/conf LITEVIRT_RUNDIR=$T/run LITEVIRT_LOGDIR=$T/log
export LITEVIRT_NETRUNDIR=$T/netrun
P=nw$$
UP=lv-up-$$ # the uplink namespace
mkdir -p "$T/conf/guests" "$T/rootfs/bin" "$T/rootfs/tmp"
cp "$BUSYBOX" "$T/rootfs/bin/busybox"
for a in sh sleep ip ping cat udhcpc nslookup nc echo; do ln -s busybox "$T/rootfs/bin/$a"; done
cat >"$T/rootfs/bin/dhcp.sh" <<'SH'
#!/bin/sh
# udhcpc's script: the address, the default route
case "$1" in
bound|renew)
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "${router:-}" ] && ip route add default via "${router%% *}" dev "$interface"
    ;;
esac
exit 0
SH
chmod 755 "$T/rootfs/bin/dhcp.sh"

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok $*"; }

. "${LV_SOURCE_ROOT:?}/tests/lib/cgroups.sh"

json_field() { # FILE KEY
    sed -n "s/.*\"$2\": *\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" "$1" 2>/dev/null | head -1
}

cleanup() {
    for f in "$T"/run/*/status.json "$T"/netrun/*/status.json; do
        [ -f "$f" ] || continue
        for key in pid supervisor_pid dnsmasq_pid; do
            p=$(json_field "$f" $key)
            [ -n "$p" ] && [ "$p" -gt 1 ] && kill -9 "$p" 2>/dev/null
        done
    done
    [ -n "${SOCAT_PID:-}" ] && kill "$SOCAT_PID" 2>/dev/null
    sleep 0.2
    ip netns del "$UP" 2>/dev/null
    for n in $(ls "$T/conf/guests" 2>/dev/null | sed 's/\.xml$//'); do
        for d in $(cgroup_dirs "$n"); do
            find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
    done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

wait_for() { # bounded (20 s) wait for a condition; not a timing assertion
    i=0
    while ! eval "$1" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -gt 200 ] && return 1
        sleep 0.1
    done
}

# container NAME MAC: on network t1, asks for an address with its name.
# Timeouts as real clients have them (3 s): dnsmasq pings an address
# before it offers it, and answers nobody meanwhile.
container() {
    cat >"$T/$1.in.xml" <<XML
<domain type='lxc'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <os>
    <type arch='x86_64'>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>ip link set lo up; udhcpc -i eth0 -s /bin/dhcp.sh -x hostname:$1 -q -n -t 20 -T 3 >/tmp/$1.dhcp 2>&amp;1; exec sleep 100000</initarg>
  </os>
  <devices>
    <filesystem type='mount'>
      <source dir='$T/rootfs'/>
      <target dir='/'/>
    </filesystem>
    <interface type='network'>
      <mac address='$2'/>
      <source network='t1'/>
    </interface>
    <console type='pty'/>
  </devices>
</domain>
XML
    "$LVSH" define "$T/$1.in.xml" >/dev/null || fail "define $1"
}

inside() { # NAME CMD...: in the container's network and mount namespaces
    n=$1; shift
    nsenter -t "$(json_field "$T/run/$n/status.json" pid)" -n -m "$@"
}

ip link set lo up
# ---- the uplink: 198.51.100.2 in its own namespace, no route back ----
ip netns add "$UP"
ip link add up0 type veth peer name eth0 netns "$UP"
ip addr add 198.51.100.1/24 dev up0 && ip link set up0 up
ip -n "$UP" addr add 198.51.100.2/24 dev eth0
ip -n "$UP" link set eth0 up && ip -n "$UP" link set lo up
# it answers TCP with the address it sees the client come from
ip netns exec "$UP" socat TCP-LISTEN:7777,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR' &
SOCAT_PID=$!

# ---- define and start ----
cat >"$T/t1.xml" <<'XML'
<network>
  <name>t1</name>
  <forward mode='nat'/>
  <domain name='t1.test'/>
  <ip address='10.77.0.1' prefix='24'>
    <dhcp>
      <range start='10.77.0.100' end='10.77.0.150'/>
      <host mac='52:54:00:00:77:0a' name='fixed' ip='10.77.0.10'/>
    </dhcp>
  </ip>
</network>
XML
"$LVSH" net-define "$T/t1.xml" >/dev/null || fail "net-define"
BR=$("$LVSH" net-info t1 | sed -n 's/^Bridge: *//p')
[ "$BR" = virbr0 ] && ok "net-define assigned bridge virbr0" || fail "bridge '$BR'"

# a guest on an inactive network: libvirt's words, nothing started
container "$P-a" 52:54:00:00:77:01
out=$("$LVSH" start "$P-a" 2>&1) && fail "start on an inactive network succeeded"
echo "$out" | grep -q "network 't1' is not active" && ok "inactive network refused: $(echo "$out" | tail -1)" ||
    fail "start on an inactive network: $out"

"$LVSH" net-start t1 >/dev/null || fail "net-start"
"$LVSH" net-list | grep -q "^ t1 *active" && ok "net-list shows t1 active" || fail "net-list: $("$LVSH" net-list)"
ip -o addr show dev "$BR" | grep -q "10.77.0.1/24" && ok "bridge $BR has 10.77.0.1/24" || fail "bridge address"
nft list table inet litevirt_virbr0 >/dev/null 2>&1 && ok "nft table litevirt_virbr0 loaded" || fail "no nft table"
[ "$(nft list tables | grep -vc litevirt_)" = 0 ] && ok "no other nft table made" || fail "other tables: $(nft list tables)"
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] && ok "forwarding on in the test's namespace" || fail "ip_forward off"
# <bridge stp delay>: libvirt's defaults (stp='on' delay='0', filled in at
# net-define) are the kernel's STP with its smallest forward delay, 2 s
brd=$(ip -d link show "$BR")
echo "$brd" | grep -q "forward_delay 200 .*stp_state 1 " && ok "stp='on' delay='0': STP on, forward delay 2 s (the kernel's least)" ||
    fail "bridge STP: $brd"
DNSMASQ=$(json_field "$T/netrun/t1/status.json" dnsmasq_pid)
[ -n "$DNSMASQ" ] && kill -0 "$DNSMASQ" && ok "dnsmasq runs (pid $DNSMASQ)" || fail "dnsmasq not running"

# ---- containers: DHCP from the range, the static host, names ----
container "$P-b" 52:54:00:00:77:02
container "$P-c" 52:54:00:00:77:0a
for c in "$P-a" "$P-b" "$P-c"; do "$LVSH" start "$c" >/dev/null || fail "start $c"; done
for c in "$P-a" "$P-b" "$P-c"; do
    wait_for "inside $c ip -4 -o addr show dev eth0 | grep -q 'inet 10.77.0.'" || fail "$c got no address: $(cat "$T/rootfs/tmp/$c.dhcp")"
done
addr_of() { inside "$1" ip -4 -o addr show dev eth0 | sed -n 's/.*inet \([0-9.]*\)\/.*/\1/p'; }
A_IP=$(addr_of "$P-a"); B_IP=$(addr_of "$P-b"); C_IP=$(addr_of "$P-c")
in_range() { n=${1##*.}; [ "${1%.*}" = 10.77.0 ] && [ "$n" -ge 100 ] && [ "$n" -le 150 ]; }
in_range "$A_IP" && in_range "$B_IP" && [ "$A_IP" != "$B_IP" ] &&
    ok "DHCP from the range: $A_IP, $B_IP" || fail "addresses '$A_IP' '$B_IP'"
[ "$C_IP" = 10.77.0.10 ] && ok "static host entry: $C_IP" || fail "static host got '$C_IP'"
leases=$("$LVSH" net-dhcp-leases t1)
echo "$leases" | grep -q "52:54:00:00:77:01 *ipv4 *$A_IP/24 *$P-a" && ok "net-dhcp-leases lists $P-a" ||
    fail "net-dhcp-leases: $leases"
out=$("$LVSH" domifaddr "$P-b" --source lease)
echo "$out" | grep -q "^ - *52:54:00:00:77:02 *ipv4 *$B_IP/24" && ok "domifaddr --source lease (from the network's leases)" || fail "domifaddr: $out"

# net-update: a host entry added live (and to the definition) is what a
# new guest gets; delete takes it out of both
out=$("$LVSH" net-update t1 add ip-dhcp-host "<host mac='52:54:00:00:77:0d' name='dee' ip='10.77.0.20'/>" --live --config)
echo "$out" | grep -q "Updated network t1 persistent config and live state" && ok "net-update add" || fail "net-update: $out"
"$LVSH" net-dumpxml t1 | grep -q "<host mac='52:54:00:00:77:0d' name='dee' ip='10.77.0.20'/>" &&
    ok "net-update stored the host" || fail "net-update did not store: $("$LVSH" net-dumpxml t1)"
out=$("$LVSH" net-update t1 add ip-dhcp-host "<host mac='52:54:00:00:77:0e' ip='10.77.0.20'/>" 2>&1) &&
    fail "a second host with the same address was added" || ok "duplicate address refused: $(echo "$out" | tail -1)"
out=$("$LVSH" net-update t1 add ip-dhcp-host "<host mac='52:54:00:00:77:0e' ip='10.99.0.5'/>" 2>&1) &&
    fail "a host outside the subnet was added" || ok "host outside the subnet refused"
container "$P-d" 52:54:00:00:77:0d
"$LVSH" start "$P-d" >/dev/null || fail "start $P-d"
wait_for "inside $P-d ip -4 -o addr show dev eth0 | grep -q 'inet 10.77.0.'" || fail "$P-d got no address"
[ "$(addr_of "$P-d")" = 10.77.0.20 ] && ok "the live-added host gets 10.77.0.20" || fail "$P-d got '$(addr_of "$P-d")'"
"$LVSH" destroy "$P-d" >/dev/null || fail "destroy $P-d"
"$LVSH" net-update t1 modify ip-dhcp-host "<host mac='52:54:00:00:77:0d' name='dee' ip='10.77.0.21'/>" --live --config >/dev/null &&
    grep -q "52:54:00:00:77:0d,10.77.0.21,dee" "$T/netrun/t1/t1.hostsfile" &&
    "$LVSH" net-dumpxml t1 | grep -q "<host mac='52:54:00:00:77:0d' name='dee' ip='10.77.0.21'/>" &&
    ok "net-update modify ip-dhcp-host (the entry of that MAC)" || fail "modify ip-dhcp-host: $(cat "$T/netrun/t1/t1.hostsfile")"
out=$("$LVSH" net-update t1 modify ip-dhcp-host "<host mac='52:54:00:00:77:ff' ip='10.77.0.22'/>" 2>&1) &&
    fail "modify of a missing host accepted" || ok "modify of a missing host refused: $(echo "$out" | tail -1)"
"$LVSH" net-update t1 delete ip-dhcp-host "<host mac='52:54:00:00:77:0d'/>" --live --config >/dev/null &&
    ! "$LVSH" net-dumpxml t1 | grep -q "77:0d" && ! grep -q "77:0d" "$T/netrun/t1/t1.hostsfile" &&
    ok "net-update delete (definition and dnsmasq's hosts)" || fail "net-update delete"

# net-update dns-host: a name dnsmasq answers at once (live) and that the
# definition keeps (config); a second record with the same address is
# refused; delete takes it out of both
out=$("$LVSH" net-update t1 add dns-host "<host ip='10.77.0.99'><hostname>db</hostname><hostname>db2</hostname></host>" --live --config)
echo "$out" | grep -q "Updated network t1 persistent config and live state" && ok "net-update add dns-host" || fail "net-update dns-host: $out"
"$LVSH" net-dumpxml t1 | grep -q "<host ip='10.77.0.99'>" && ok "net-update stored the dns host" || fail "dns host not stored: $("$LVSH" net-dumpxml t1)"
out=$(inside "$P-a" nslookup db2 10.77.0.1 2>&1)
echo "$out" | grep -q "10.77.0.99" && ok "dnsmasq answers the live-added name db2" || fail "nslookup db2: $out"
out=$("$LVSH" net-update t1 add dns-host "<host ip='10.77.0.99'><hostname>other</hostname></host>" 2>&1) &&
    fail "a second dns host with the same address was added" || ok "duplicate dns host refused: $(echo "$out" | tail -1)"
"$LVSH" net-update t1 delete dns-host "<host ip='10.77.0.99'/>" --live --config >/dev/null &&
    ! "$LVSH" net-dumpxml t1 | grep -q "10.77.0.99" && ! grep -q "10.77.0.99" "$T/netrun/t1/t1.addnhosts" &&
    ok "net-update delete dns-host (definition and dnsmasq's addn-hosts)" || fail "net-update delete dns-host"
out=$(inside "$P-a" nslookup db2 10.77.0.1 2>&1)
echo "$out" | grep -q "10.77.0.99" && fail "db2 still answered after delete: $out" || ok "db2 no longer answered"

# net-update dns-txt / dns-srv: records in dnsmasq's configuration, so the
# network's dnsmasq restarts on them (libvirt does the same); the network
# stays up and the new dnsmasq answers the records
out=$("$LVSH" net-update t1 add dns-txt "<txt name='info' value='litevirt test'/>" --live --config 2>&1) &&
    ok "net-update add dns-txt" || fail "net-update dns-txt: $out"
DNSMASQ2=$(json_field "$T/netrun/t1/status.json" dnsmasq_pid)
[ -n "$DNSMASQ2" ] && [ "$DNSMASQ2" != "$DNSMASQ" ] && kill -0 "$DNSMASQ2" && ! kill -0 "$DNSMASQ" 2>/dev/null &&
    ok "dnsmasq restarted for the record ($DNSMASQ -> $DNSMASQ2)" || fail "dnsmasq not restarted: '$DNSMASQ' '$DNSMASQ2'"
DNSMASQ=$DNSMASQ2
out=$(inside "$P-a" nslookup -type=txt info 10.77.0.1 2>&1)
echo "$out" | grep -q "litevirt test" && ok "dnsmasq answers the TXT record" || fail "nslookup txt: $out"
out=$("$LVSH" net-update t1 add dns-srv "<srv service='http' protocol='tcp' domain='t1.test' target='fixed.t1.test' port='8080' priority='3' weight='7'/>" --live --config 2>&1) &&
    ok "net-update add dns-srv" || fail "net-update dns-srv: $out"
DNSMASQ=$(json_field "$T/netrun/t1/status.json" dnsmasq_pid)
out=$(inside "$P-a" nslookup -type=srv _http._tcp.t1.test 10.77.0.1 2>&1)
echo "$out" | grep -q "8080" && echo "$out" | grep -q "fixed.t1.test" && ok "dnsmasq answers the SRV record" || fail "nslookup srv: $out"
"$LVSH" net-dumpxml t1 | grep -q "<txt name='info' value='litevirt test'/>" &&
    "$LVSH" net-dumpxml t1 | grep -q "<srv service='http' protocol='tcp' domain='t1.test' target='fixed.t1.test' port='8080' priority='3' weight='7'/>" &&
    ok "the definition keeps both records" || fail "records not stored: $("$LVSH" net-dumpxml t1)"
# refused: modify (libvirt's rule), a duplicate, a record without value,
# a line break that would reach dnsmasq's file, a section litevirt lacks;
# nothing changes, stored or live
before=$("$LVSH" net-dumpxml t1)
for bad in "modify dns-txt <txt name='info' value='x'/>" \
           "add dns-txt <txt name='info' value='again'/>" \
           "add dns-txt <txt name='novalue'/>" \
           "add dns-txt <txt name='evil' value='a&#10;dhcp-script=/bin/sh'/>" \
           "add dns-srv <srv service='http'/>" \
           "add portgroup <portgroup name='x'/>" \
           "add bridge <bridge name='x'/>" \
           "add ip-dhcp-range <range start='10.77.0.20' end='10.77.0.10'/>" \
           "add ip-dhcp-range <host start='10.77.0.20'/>"; do
    set -- $bad
    out=$("$LVSH" net-update t1 "$1" "$2" "$(echo "$bad" | cut -d' ' -f3-)" --live --config 2>&1) &&
        fail "net-update $bad was accepted" || ok "refused: net-update $1 $2: $(echo "$out" | tail -1)"
done
[ "$("$LVSH" net-dumpxml t1)" = "$before" ] && [ "$(json_field "$T/netrun/t1/status.json" dnsmasq_pid)" = "$DNSMASQ" ] &&
    ! grep -q "evil\|again" "$T/netrun/t1/dnsmasq.conf" && ok "refused updates changed nothing (definition, dnsmasq)" ||
    fail "a refused update changed something"
"$LVSH" net-update t1 delete dns-srv "<srv service='http' protocol='tcp'/>" --live --config >/dev/null &&
    "$LVSH" net-update t1 delete dns-txt "<txt name='info'/>" --live --config >/dev/null &&
    ! "$LVSH" net-dumpxml t1 | grep -q "<txt\|<srv" && ! grep -q "txt-record\|srv-host" "$T/netrun/t1/dnsmasq.conf" &&
    ok "net-update delete dns-srv, dns-txt" || fail "delete records: $("$LVSH" net-dumpxml t1)"
DNSMASQ=$(json_field "$T/netrun/t1/status.json" dnsmasq_pid)

# net-update ip-dhcp-range: a range added first live is where a new
# guest's address comes from once the old range is gone; then as before
"$LVSH" net-update t1 add-first ip-dhcp-range "<range start='10.77.0.200' end='10.77.0.209'/>" --live >/dev/null &&
    "$LVSH" net-update t1 delete ip-dhcp-range "<range start='10.77.0.100' end='10.77.0.150'/>" --live >/dev/null &&
    ok "net-update ranges (live)" || fail "net-update ranges"
grep -q "dhcp-range=10.77.0.200,10.77.0.209" "$T/netrun/t1/dnsmasq.conf" && ! grep -q "10.77.0.150" "$T/netrun/t1/dnsmasq.conf" &&
    ok "dnsmasq runs on the new range" || fail "dnsmasq.conf: $(grep dhcp-range "$T/netrun/t1/dnsmasq.conf")"
"$LVSH" net-dumpxml --inactive t1 | grep -q "10.77.0.100" && ! "$LVSH" net-dumpxml --inactive t1 | grep -q "10.77.0.200" &&
    ok "--live alone leaves the definition" || fail "--live changed the definition"
container "$P-e" 52:54:00:00:77:0e
"$LVSH" start "$P-e" >/dev/null || fail "start $P-e"
wait_for "inside $P-e ip -4 -o addr show dev eth0 | grep -q 'inet 10.77.0.'" || fail "$P-e got no address"
E_IP=$(addr_of "$P-e")
case "$E_IP" in 10.77.0.20[0-9]) ok "a new guest gets $E_IP from the live-added range" ;; *) fail "$P-e got '$E_IP'" ;; esac
"$LVSH" destroy "$P-e" >/dev/null || fail "destroy $P-e"
"$LVSH" net-update t1 add ip-dhcp-range "<range start='10.77.0.100' end='10.77.0.150'/>" --live >/dev/null &&
    "$LVSH" net-update t1 delete ip-dhcp-range "<range start='10.77.0.200' end='10.77.0.209'/>" --live >/dev/null ||
    fail "restoring the range"
DNSMASQ=$(json_field "$T/netrun/t1/status.json" dnsmasq_pid)

# net-update forward-interface: NAT then leaves only through that link
# (the nftables table is replaced); deleting it lifts the restriction
"$LVSH" net-update t1 add forward-interface "<interface dev='up0'/>" --live --config >/dev/null &&
    nft list table inet litevirt_virbr0 | grep -q 'oifname "up0"' && ok "forward-interface up0 in the live table" ||
    fail "forward-interface: $(nft list table inet litevirt_virbr0)"
"$LVSH" net-dumpxml t1 | grep -q "<interface dev='up0'/>" && ok "forward-interface stored" || fail "forward-interface not stored"
out=$("$LVSH" net-update t1 add forward-interface "<interface dev='eth9'/>" 2>&1) &&
    fail "a second forward interface was accepted" || ok "a second forward interface refused: $(echo "$out" | tail -1)"
"$LVSH" net-update t1 delete forward-interface "<interface dev='up0'/>" --live --config >/dev/null &&
    ! nft list table inet litevirt_virbr0 | grep -q 'oifname "up0"' && ok "forward-interface deleted" || fail "forward-interface delete"
[ "$(nft list tables | grep -c litevirt_)" = 1 ] && ok "one nft table after the reloads" || fail "tables: $(nft list tables)"

# names through dnsmasq (the DHCP hostname; the static host's <host name>)
out=$(inside "$P-a" nslookup "$P-b" 10.77.0.1 2>&1)
echo "$out" | grep -q "$B_IP" && ok "$P-a resolves $P-b to $B_IP" || fail "nslookup $P-b: $out"
out=$(inside "$P-b" nslookup fixed.t1.test 10.77.0.1 2>&1)
echo "$out" | grep -q "10.77.0.10" && ok "fixed.t1.test resolves" || fail "nslookup fixed: $out"
inside "$P-a" ping -c1 -W5 "$B_IP" >/dev/null && ok "$P-a pings $P-b" || fail "$P-a cannot ping $P-b"

# ---- NAT to the uplink; nothing in from outside ----
inside "$P-a" ping -c1 -W5 198.51.100.2 >/dev/null && ok "$P-a reaches the uplink" || fail "uplink unreachable"

seen=$(inside "$P-a" nc 198.51.100.2 7777 </dev/null 2>&1)
[ "$seen" = 198.51.100.1 ] && ok "the uplink sees the network's outside address ($seen)" ||
    fail "uplink saw '$seen'"
ip -n "$UP" route add 10.77.0.0/24 via 198.51.100.1
# (the uplink's tools are busybox's: the host may have no ping or nc)
ip netns exec "$UP" "$BUSYBOX" ping -c1 -W2 "$A_IP" >/dev/null 2>&1 && fail "the uplink reaches $A_IP (NAT lets it in)" ||
    ok "the uplink cannot reach $A_IP (routed there, refused by the table)"
inside "$P-a" sh -c 'nc -l -p 2222 -e echo hello >/dev/null 2>&1 &'
out=$(ip netns exec "$UP" "$BUSYBOX" nc -w 3 "$A_IP" 2222 </dev/null 2>&1)
[ "$out" = hello ] && fail "TCP from the uplink got in" || ok "no TCP from the uplink (${out:-no answer})"
out=$(inside "$P-b" nc -w 3 "$A_IP" 2222 </dev/null 2>&1)
[ "$out" = hello ] && ok "the same TCP port answers inside the network" || fail "TCP inside the network: '$out'"

# ---- a VM: its tap joins the network's bridge (QEMU, TCG, no OS needed) ----
if command -v qemu-system-x86_64 >/dev/null; then
    cat >"$T/$P-vm.xml" <<XML
<domain type='qemu'>
  <name>$P-vm</name>
  <memory unit='MiB'>32</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <interface type='network'>
      <mac address='52:54:00:00:77:0b'/>
      <source network='t1'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
XML
    "$LVSH" define "$T/$P-vm.xml" >/dev/null || fail "define $P-vm"
    out=$("$LVSH" start "$P-vm" 2>&1) || fail "start $P-vm: $out"
    tap=$(ip -o link show master "$BR" | grep "fe:54:00:00:77:0b" | sed -n 's/^[0-9]*: \([^:@]*\).*/\1/p')
    [ -n "$tap" ] && ok "the VM's tap $tap is a port of $BR" || fail "no VM tap on $BR: $(ip -o link show master "$BR")"
    out=$("$LVSH" domiflist "$P-vm")
    echo "$out" | grep -q "network *t1 *virtio *52:54:00:00:77:0b" && ok "domiflist: network t1" || fail "domiflist: $out"
    "$LVSH" destroy "$P-vm" >/dev/null || fail "destroy $P-vm"
    [ -z "$(ip -o link show master "$BR" | grep "fe:54:00:00:77:0b")" ] && ok "the VM's tap is gone" || fail "VM tap left"
    # a booted VM (the tiny test guest, TCG) asks the network for an
    # address itself (udhcpc in its initramfs): its lease is dnsmasq's,
    # and domifaddr --source lease shows it
    if [ -s "$B/test-guest/initrd.gz" ]; then # built above, with lv.dhcp
        cat >"$T/$P-vmd.xml" <<XML
<domain type='qemu'>
  <name>$P-vmd</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>$B/test-guest/vmlinuz</kernel>
    <initrd>$B/test-guest/initrd.gz</initrd><cmdline>console=ttyS0 quiet lv.dhcp</cmdline></os>
  <devices>
    <interface type='network'>
      <mac address='52:54:00:00:77:0c'/>
      <source network='t1'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>
XML
        "$LVSH" define "$T/$P-vmd.xml" >/dev/null || fail "define $P-vmd"
        out=$("$LVSH" start "$P-vmd" 2>&1) || fail "start $P-vmd: $out"
        # boot (TCG), the bridge's STP forward delay, DHCP: up to 60 s
        i=0
        while [ $i -lt 3 ] && ! wait_for "$LVSH net-dhcp-leases t1 --mac 52:54:00:00:77:0c | grep -q lv-guest"; do
            i=$((i + 1))
        done
        leases=$("$LVSH" net-dhcp-leases t1 --mac 52:54:00:00:77:0c)
        vm_ip=$(echo "$leases" | sed -n 's/.*ipv4 *\(10\.77\.0\.[0-9]*\)\/24 *lv-guest.*/\1/p')
        in_range "${vm_ip:-x}" && ok "the VM got its own lease from the range: $vm_ip" ||
            fail "VM lease: $leases $(tail -n 5 "$T/log/$P-vmd.console.log" 2>/dev/null)"
        out=$("$LVSH" domifaddr "$P-vmd" --source lease)
        echo "$out" | grep -q "^ - *52:54:00:00:77:0c *ipv4 *$vm_ip/24" && ok "domifaddr --source lease shows the VM's $vm_ip" ||
            fail "domifaddr $P-vmd: $out"
        [ -n "$vm_ip" ] && inside "$P-a" ping -c1 -W5 "$vm_ip" >/dev/null && ok "$P-a pings the VM" || fail "$P-a cannot ping the VM at '$vm_ip'"
        "$LVSH" destroy "$P-vmd" >/dev/null || fail "destroy $P-vmd"
    else
        echo "# no test guest (tests/qemu/build-guest.sh): VM lease not checked"
    fi
else
    echo "# qemu-system-x86_64 missing: VM attach not checked"
fi

# ---- <bridge stp='off' delay='3'> on a second, isolated network ----
cat >"$T/t2.xml" <<'XML'
<network>
  <name>t2</name>
  <bridge name='lvt2' stp='off' delay='3'/>
  <ip address='10.78.0.1' prefix='24'/>
</network>
XML
"$LVSH" net-define "$T/t2.xml" >/dev/null || fail "net-define t2"
# net-edit: virsh's loop (no terminal here: a failure is not asked about)
out=$(EDITOR=true "$LVSH" net-edit t2 2>&1)
[ "$out" = "Network 't2' XML configuration not changed." ] && ok "net-edit, nothing changed" || fail "net-edit: $out"
printf '#!/bin/sh\nsed -i "s/10.78.0.1/10.78.1.1/" "$1"\n' > "$T/ed-addr" && chmod +x "$T/ed-addr"
out=$(EDITOR="$T/ed-addr" "$LVSH" net-edit t2 2>&1)
[ "$out" = "Network 't2' XML configuration edited." ] && "$LVSH" net-dumpxml t2 | grep -q "10.78.1.1" &&
    ok "net-edit stored the edited address" || fail "net-edit: $out $("$LVSH" net-dumpxml t2)"
printf '#!/bin/sh\nsed -i "s/prefix=.24./prefix=\x2733\x27/" "$1"\n' > "$T/ed-bad" && chmod +x "$T/ed-bad"
before=$("$LVSH" net-dumpxml t2)
out=$(EDITOR="$T/ed-bad" "$LVSH" net-edit t2 2>&1 </dev/null) && fail "net-edit of an invalid prefix succeeded: $out"
[ "$("$LVSH" net-dumpxml t2)" = "$before" ] && ok "an invalid net-edit stored nothing: $(echo "$out" | tail -1)" ||
    fail "invalid net-edit changed the definition"
if "$LVSH" net-start t2 >/dev/null; then
    brd=$(ip -d link show lvt2)
    echo "$brd" | grep -q "forward_delay 300 .*stp_state 0 " && ok "stp='off' delay='3': STP off, forward delay 3 s" ||
        fail "lvt2 STP: $brd"
    "$LVSH" net-destroy t2 >/dev/null || fail "net-destroy t2"
    "$LVSH" net-undefine t2 >/dev/null || fail "net-undefine t2"
else
    fail "net-define/net-start t2"
fi

# ---- net-create: a transient network, gone with its definition at the end ----
cat >"$T/t3.xml" <<'XML'
<network>
  <name>t3</name>
  <bridge name='lvt3' stp='off'/>
  <ip address='10.79.0.1' prefix='24'><dhcp><range start='10.79.0.10' end='10.79.0.20'/></dhcp></ip>
</network>
XML
out=$("$LVSH" net-create "$T/t3.xml" 2>&1)
[ "$out" = "Network t3 created from $T/t3.xml" ] && ip link show lvt3 >/dev/null 2>&1 &&
    ok "net-create: t3 runs on lvt3" || fail "net-create: $out"
[ ! -e "$T/conf/networks/t3.xml" ] && ok "net-create stored no definition" || fail "t3.xml stored"
"$LVSH" net-list --all | grep -Eq "^ t3 +active +no +no" && "$LVSH" net-info t3 | grep -q "^Persistent: *no" &&
    ok "net-list/net-info: t3 active, not persistent" || fail "net-list: $("$LVSH" net-list --all)"
for bad in "net-autostart t3" "net-undefine t3" "net-create $T/t3.xml" "net-create $T/t1.xml"; do
    # shellcheck disable=SC2086
    out=$("$LVSH" $bad 2>&1) && fail "$bad accepted" || ok "refused: $bad: $(echo "$out" | tail -1)"
done
out=$("$LVSH" net-update t3 add dns-host "<host ip='10.79.0.5'><hostname>x</hostname></host>" --config 2>&1) &&
    fail "net-update --config of a transient network accepted" || ok "refused: net-update --config on t3: $(echo "$out" | tail -1)"
"$LVSH" net-update t3 add dns-host "<host ip='10.79.0.5'><hostname>db3</hostname></host>" >/dev/null &&
    "$LVSH" net-dumpxml t3 | grep -q "<hostname>db3</hostname>" && ok "net-update (live) on t3, net-dumpxml shows it" ||
    fail "net-update t3: $("$LVSH" net-dumpxml t3)"
SUP3=$(json_field "$T/netrun/t3/status.json" pid)
kill -9 "$SUP3"
wait_for "! kill -0 $SUP3"
"$LVSH" net-list --all | grep -q "^ t3 " && fail "a dead transient network is listed" ||
    ok "a transient network whose supervisor died is gone from net-list"
! ip link show lvt3 >/dev/null 2>&1 && [ ! -e "$T/netrun/t3" ] && ok "what it left was removed (bridge, state)" ||
    fail "t3 leftovers: $(ls "$T/netrun")"
"$LVSH" net-create "$T/t3.xml" >/dev/null && "$LVSH" net-destroy t3 >/dev/null &&
    ! "$LVSH" net-list --all | grep -q "^ t3 " && ! ip link show lvt3 >/dev/null 2>&1 &&
    ok "net-destroy of a transient network: gone" || fail "net-destroy t3: $("$LVSH" net-list --all)"
"$LVSH" net-define "$T/t3.xml" >/dev/null || fail "net-define t3"
out=$("$LVSH" net-create "$T/t3.xml" 2>&1) && fail "net-create of a defined network accepted" ||
    ok "refused: net-create of a defined network: $(echo "$out" | tail -1)"
"$LVSH" net-undefine t3 >/dev/null || fail "net-undefine t3"

# ---- destroy: nothing left; guests stop first (their veths go with them) ----
for c in "$P-a" "$P-b" "$P-c"; do "$LVSH" destroy "$c" >/dev/null || fail "destroy $c"; done
"$LVSH" net-destroy t1 >/dev/null || fail "net-destroy"
ip link show "$BR" >/dev/null 2>&1 && fail "bridge left" || ok "bridge removed"
nft list tables | grep -q litevirt_ && fail "nft table left" || ok "nft table removed"
kill -0 "$DNSMASQ" 2>/dev/null && fail "dnsmasq left" || ok "dnsmasq stopped"
[ -e "$T/netrun/t1" ] && fail "state left: $(ls -R "$T/netrun")" || ok "state directory and lease files removed"
"$LVSH" net-list --all | grep -q "^ t1 *inactive" && ok "net-list --all: inactive" || fail "net-list --all"
out=$("$LVSH" net-destroy t1 2>&1) && fail "destroying an inactive network succeeded" ||
    ok "destroying an inactive network: $(echo "$out" | tail -1)"

# ---- a killed supervisor: the next lvsh removes what it left ----
"$LVSH" net-start t1 >/dev/null || fail "net-start again"
SUP=$(json_field "$T/netrun/t1/status.json" pid)
# <bridge stp delay>: libvirt's defaults (stp='on' delay='0', filled in at
# net-define) are the kernel's STP with its smallest forward delay, 2 s
brd=$(ip -d link show "$BR")
echo "$brd" | grep -q "forward_delay 200 .*stp_state 1 " && ok "stp='on' delay='0': STP on, forward delay 2 s (the kernel's least)" ||
    fail "bridge STP: $brd"
DNSMASQ=$(json_field "$T/netrun/t1/status.json" dnsmasq_pid)
kill -9 "$SUP"
wait_for "! kill -0 $SUP" || fail "supervisor survived SIGKILL"
"$LVSH" net-list --all | grep -q "^ t1 *inactive" && ok "killed supervisor: inactive" || fail "net-list after kill"
ip link show "$BR" >/dev/null 2>&1 && fail "bridge left after kill" || ok "bridge of the dead supervisor removed"
nft list tables | grep -q litevirt_ && fail "nft table left after kill" || ok "its nft table removed"
wait_for "! kill -0 $DNSMASQ" && ok "its dnsmasq stopped" || fail "dnsmasq $DNSMASQ left after kill"
[ -e "$T/netrun/t1" ] && fail "state left after kill" || ok "its state removed"
"$LVSH" net-start t1 >/dev/null && "$LVSH" net-destroy t1 >/dev/null && ok "starts again after the cleanup" ||
    fail "restart after kill"

# ---- undefine ----
"$LVSH" net-undefine t1 >/dev/null && [ ! -e "$T/conf/networks/t1.xml" ] && ok "net-undefine" || fail "net-undefine"

for l in "$T"/log/networks/*.log "$T"/log/*.log; do
    [ -f "$l" ] && grep -q "ERROR: [A-Za-z]*Sanitizer\|runtime error:" "$l" && fail "sanitizer report in $l"
done
if [ "$fails" != 0 ]; then
    echo "--- the network's log:"
    cat "$T"/log/networks/*.log 2>/dev/null | tail -60
fi
echo "$fails failure(s)"
[ "$fails" = 0 ]
