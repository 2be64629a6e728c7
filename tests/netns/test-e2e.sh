#!/bin/sh
# End to end: real containers (LXC driver, litevirt-supervisor, lvsh) with
# real interfaces. Two containers on one bridge ping each other, a third on
# another bridge cannot; MAC, MTU, names, addresses and routes read back
# from inside as the XML said; domiflist/domifaddr; refusals leave nothing;
# 50 containers start and stop with no link left.
#
# The whole test runs in a network namespace of its own (it re-executes
# itself under `unshare --net`): bridges, veths and supervisors live there
# and vanish with it; the host's links are never touched. `ip` is used
# only to build the bridges and to check from outside.
set -u

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
BUSYBOX=$(command -v busybox) || { echo "SKIP: busybox missing"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: ip missing"; exit 77; }
command -v nsenter >/dev/null && command -v unshare >/dev/null || { echo "SKIP: util-linux missing"; exit 77; }
if [ -z "${LV_E2E_IN_NETNS:-}" ]; then
    LV_E2E_IN_NETNS=1 exec unshare --net -- "$0" "$@"
fi

B=${LV_BUILD_ROOT:?}
LVSH=$B/lvsh
T=$(mktemp -d /tmp/lv-test-netns-e2e.XXXXXX)
chmod 755 "$T" # the rootfs must be reachable by the mapped root of an <idmap> guest
export LITEVIRT_CONFDIR=$T/conf LITEVIRT_RUNDIR=$T/run LITEVIRT_LOGDIR=$T/log
P=ne$$
mkdir -p "$T/conf/guests" "$T/rootfs/bin" "$T/rootfs/tmp"
cp "$BUSYBOX" "$T/rootfs/bin/busybox"
for a in sh sleep ip ping ifconfig cat; do ln -s busybox "$T/rootfs/bin/$a"; done

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok $*"; }

. "${LV_SOURCE_ROOT:?}/tests/lib/cgroups.sh"
. "${LV_SOURCE_ROOT:?}/tests/lib/ifstat.sh"

status_field() { # NAME KEY
    sed -n "s/.*\"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\}.*/\1/p" "$T/run/$1/status.json" 2>/dev/null | head -1
}

cleanup() {
    for f in "$T"/run/*/status.json; do
        [ -f "$f" ] || continue
        for key in pid supervisor_pid; do
            p=$(sed -n "s/.*\"$key\": \([0-9]*\).*/\1/p" "$f")
            [ -n "$p" ] && [ "$p" -gt 1 ] && kill -9 "$p" 2>/dev/null
        done
    done
    sleep 0.2
    umount "$T/nsref" 2>/dev/null
    for n in $(ls "$T/conf/guests" 2>/dev/null | sed 's/\.xml$//'); do
        for d in $(cgroup_dirs "$n"); do
            find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
    done
    rm -rf "$T"
    # links and bridges go with this process's network namespace
}
trap cleanup EXIT INT TERM

wait_for() { # bounded (10 s) wait for a condition; not a timing assertion
    i=0
    while ! eval "$1" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -gt 100 ] && return 1
        sleep 0.1
    done
}

# define NAME INTERFACES-XML [EXTRA-XML] (through lvsh define: the uuid and generated
# MACs are written into the stored definition)
define() {
    cat >"$T/$1.in.xml" <<XML
<domain type='lxc'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <os>
    <type arch='x86_64'>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>exec sleep 100000</initarg>
  </os>
  ${3:-}
  <devices>
    <filesystem type='mount'>
      <source dir='$T/rootfs'/>
      <target dir='/'/>
    </filesystem>
    $2
    <console type='pty'/>
  </devices>
</domain>
XML
    "$LVSH" define "$T/$1.in.xml" >/dev/null || fail "define $1"
}

inside() { # NAME CMD... : run in the container's network and mount namespaces
    n=$1; shift
    nsenter -t "$(status_field "$n" pid)" -n -m "$@"
}

owned_links() { ip -o link show | grep -c "alias litevirt:" ; }

ip link add br0 type bridge && ip link set br0 up
ip link add br1 type bridge && ip link set br1 up
ip link set lo up

# ---- three containers, two bridges ----
A=$P-a; Bn=$P-b; C=$P-c
define "$A" "<interface type='bridge'>
      <mac address='52:54:00:e2:00:01'/>
      <source bridge='br0'/>
      <guest dev='lan0'/>
      <mtu size='1400'/>
      <ip address='10.77.0.2' prefix='24'/>
      <ip address='fd77::2' prefix='64'/>
      <route address='10.88.0.0' prefix='16' gateway='10.77.0.1'/>
      <route address='0.0.0.0' prefix='0' gateway='10.77.0.254'/>
    </interface>
    <interface type='ethernet'>
      <target dev='${P}ax'/>
      <ip address='192.168.201.2' prefix='30'/>
    </interface>"
define "$Bn" "<interface type='bridge'>
      <source bridge='br0'/>
      <ip address='10.77.0.3' prefix='24'/>
    </interface>"
define "$C" "<interface type='bridge'>
      <source bridge='br1'/>
      <ip address='10.77.0.4' prefix='24'/>
    </interface>"
D=$P-d # in a user namespace of its own: its network namespace belongs to it
define "$D" "<interface type='bridge'>
      <source bridge='br0'/>
      <ip address='10.77.0.5' prefix='24'/>
    </interface>" "<idmap><uid start='0' target='100000' count='65536'/><gid start='0' target='100000' count='65536'/></idmap>"
for g in "$A" "$Bn" "$C" "$D"; do
    out=$("$LVSH" start "$g" 2>&1) && ok "start $g" || fail "start $g: $out"
done

# ---- what the XML said, seen from inside ----
link=$(inside "$A" ip -o link show lan0 2>&1)
echo "$link" | grep -q "link/ether 52:54:00:e2:00:01" && ok "MAC inside is <mac>" || fail "MAC: $link"
echo "$link" | grep -q "mtu 1400" && ok "MTU inside is <mtu>" || fail "MTU: $link"
echo "$link" | grep -q "state UP\|,UP" && ok "lan0 is up" || fail "up: $link"
inside "$A" ip -o link show eth1 >/dev/null 2>&1 && ok "second interface is eth1" || fail "no eth1: $(inside "$A" ip -o link 2>&1)"
inside "$A" ip -o link show eth0 >/dev/null 2>&1 && fail "eth0 exists although <guest dev='lan0'>" || ok "no eth0 (renamed by <guest dev>)"
addrs=$(inside "$A" ip -o addr show 2>&1)
echo "$addrs" | grep -q "lan0 *inet 10.77.0.2/24" && ok "IPv4 address" || fail "IPv4: $addrs"
echo "$addrs" | grep -q "lan0 *inet6 fd77::2/64" && ok "IPv6 address" || fail "IPv6: $addrs"
echo "$addrs" | grep -q "eth1 *inet 192.168.201.2/30" && ok "address on the ethernet interface" || fail "eth1 address: $addrs"
routes=$(inside "$A" ip -4 route show 2>&1)
echo "$routes" | grep -q "^10.88.0.0/16 via 10.77.0.1 dev lan0" && ok "route" || fail "route: $routes"
echo "$routes" | grep -q "^default via 10.77.0.254 dev lan0" && ok "default route" || fail "default route: $routes"
inside "$A" ip -o link show lo | grep -q "UP" && ok "lo is up" || fail "lo down"

# host side
hostlink=$(ip -o link show "lv$A-0" 2>&1)
echo "$hostlink" | grep -q "master br0" && ok "host end lv$A-0 is a port of br0" || fail "host end: $hostlink"
echo "$hostlink" | grep -q "fe:54:00:e2:00:01" && ok "host end MAC fe:54:00:e2:00:01" || fail "host MAC: $hostlink"
tl=$(ip -o link show "${P}ax" 2>&1)
echo "$tl" | grep -q "^[0-9]*: ${P}ax@" && ! echo "$tl" | grep -q master && ok "<target dev='${P}ax'> on the host, no bridge" || fail "target dev"
[ "$(owned_links)" = 5 ] && ok "5 host links marked as litevirt's" || fail "owned links: $(owned_links)"

# ---- reachability ----
inside "$A" /bin/busybox ping -c 1 -W 3 10.77.0.3 >/dev/null 2>&1 && ok "$A reaches $Bn over br0" || fail "$A cannot reach $Bn"
inside "$Bn" /bin/busybox ping -c 1 -W 3 10.77.0.2 >/dev/null 2>&1 && ok "$Bn reaches $A over br0" || fail "$Bn cannot reach $A"
[ "$(readlink /proc/"$(status_field "$D" pid)"/ns/user)" != "$(readlink /proc/self/ns/user)" ] && ok "$D runs in its own user namespace" || fail "$D has no user namespace"
inside "$A" /bin/busybox ping -c 1 -W 3 10.77.0.5 >/dev/null 2>&1 && ok "$A reaches $D (user namespace)" || fail "$A cannot reach $D"
inside "$A" /bin/busybox ping -c 1 -W 2 10.77.0.4 >/dev/null 2>&1 && fail "$A reaches $C on another bridge" || ok "$A does not reach $C (br1)"
inside "$Bn" /bin/busybox ping6 -c 1 -W 3 fd77::2 >/dev/null 2>&1 || true # (no v6 on b: only checks it does not crash)

# ---- lvsh domiflist / domifaddr ----
list=$("$LVSH" domiflist "$A" 2>&1)
echo "$list" | head -3 | grep -q "^ lv$A-0 *bridge *br0 *- *52:54:00:e2:00:01$" && ok "domiflist: live host name" || fail "domiflist: $list"
echo "$list" | grep -Eq "^ ${P}ax +ethernet +- +- +([0-9a-f]{2}:){5}[0-9a-f]{2}$" && ok "domiflist: target dev, generated MAC" || fail "domiflist ethernet: $list"
echo "$list" | head -1 | grep -q "^ Interface *Type *Source *Model *MAC$" && ok "domiflist header" || fail "domiflist header: $list"
mac1=$(echo "$list" | sed -n "s/^ ${P}ax *ethernet *- *- *\([0-9a-f:]*\)$/\1/p")
inside "$A" ip -o link show eth1 | grep -q "link/ether $mac1 " && ok "generated MAC $mac1 stored and used" || fail "eth1 MAC is not $mac1: $(inside "$A" ip -o link show eth1)"
addr=$("$LVSH" domifaddr "$A" 2>&1)
echo "$addr" | grep -q "^ lan0 *52:54:00:e2:00:01 *ipv4 *10.77.0.2/24$" && ok "domifaddr: ipv4" || fail "domifaddr: $addr"
echo "$addr" | grep -q "^ - *- *ipv6 *fd77::2/64$" && ok "domifaddr: ipv6 row" || fail "domifaddr ipv6: $addr"
echo "$addr" | grep -q "^ eth1 .*ipv4 *192.168.201.2/30$" && ok "domifaddr: eth1" || fail "domifaddr eth1: $addr"
# dumpxml of the running container: the veths' host ends, libvirt's
# aliases, the console's pty (libvirt-lxc's live XML); --inactive none
live=$("$LVSH" dumpxml "$A" 2>&1)
echo "$live" | grep -q "<target dev='lv$A-0'/>" && ip -o link show "lv$A-0" | grep -q "master br0" &&
    echo "$live" | grep -q "<alias name='net0'/>" && echo "$live" | grep -q "<alias name='net1'/>" &&
    ok "dumpxml: the veth lv$A-0 (on br0) and aliases net0, net1" || fail "dumpxml live: $live"
cpty=$(echo "$live" | sed -n "s/.*<console type='pty' tty='\([^']*\)'>.*/\1/p")
[ -n "$cpty" ] && [ -c "$cpty" ] && echo "$live" | grep -q "<alias name='console0'/>" &&
    ok "dumpxml: the console's pty $cpty" || fail "dumpxml console: $(echo "$live" | grep -A3 '<console')"
"$LVSH" dumpxml --inactive "$A" | grep -qE "lv$A-0|<alias|tty=" && fail "dumpxml --inactive shows live values"
list=$("$LVSH" domiflist "$A" --inactive 2>&1)
echo "$list" | grep -q "^ - *bridge *br0 *- *52:54:00:e2:00:01$" && ok "domiflist --inactive: the definition only" || fail "domiflist --inactive: $list"
out=$("$LVSH" domiflist "$P-nosuch" 2>&1) && fail "domiflist of an undefined guest" || { echo "$out" | grep -q "failed to get domain '$P-nosuch'" && ok "domiflist of an undefined guest: $out" || fail "domiflist undefined: $out"; }
out=$("$LVSH" domifaddr "$C" --source bogus 2>&1) && fail "domifaddr --source bogus accepted" || { echo "$out" | grep -q "Unknown data source 'bogus'" && ok "domifaddr --source bogus refused" || fail "domifaddr bogus: $out"; }
addr=$("$LVSH" domifaddr "$A" --interface eth1 2>&1)
echo "$addr" | grep -q "lan0" && fail "domifaddr --interface eth1 shows lan0" || ok "domifaddr --interface"

# ---- lvsh domifstat: lan0's counters as the guest sees them ----
# 28000 bytes from the host to lan0's MAC (a static neighbour: the frames
# go whatever the guest answers), next to the container's own traffic
ip addr add 10.77.0.1/24 dev br0 && ip neigh replace 10.77.0.2 lladdr 52:54:00:e2:00:01 dev br0 nud permanent
ifstat_send 10.77.0.2
if ifstat_check "$A" "lv$A-0" "lv$A-0" && [ "$IFSTAT_RX" -ge 28000 ] && [ "$IFSTAT_TX" -lt "$IFSTAT_RX" ]; then
    ok "domifstat: the host end's counters swapped (rx_bytes $IFSTAT_RX, tx_bytes $IFSTAT_TX)"
else
    fail "domifstat lv$A-0: $IFSTAT_OUT; host $(ifstat_host "lv$A-0")"
fi
echo "$IFSTAT_OUT" | awk '{print $2}' | tr '\n' ' ' |
    grep -q "^rx_bytes rx_packets rx_errs rx_drop tx_bytes tx_packets tx_errs tx_drop $" &&
    ok "domifstat: virsh's eight fields" || fail "domifstat fields: $IFSTAT_OUT"
ifstat_check "$A" 52:54:00:E2:00:01 "lv$A-0" && [ "$IFSTAT_RX" -ge 28000 ] && ok "domifstat by MAC" ||
    fail "domifstat by MAC: $IFSTAT_OUT"
ifstat_check "$A" "${P}ax" "${P}ax" && ok "domifstat of the ethernet interface by its target dev" ||
    fail "domifstat ${P}ax: $IFSTAT_OUT"
ip addr del 10.77.0.1/24 dev br0; ip neigh del 10.77.0.2 dev br0 2>/dev/null
out=$("$LVSH" domifstat "$A" nosuch0 2>&1) && fail "domifstat of an unknown interface succeeded"
echo "$out" | grep -q "invalid path, 'nosuch0' is not a known interface" && ok "domifstat: unknown interface refused" ||
    fail "domifstat nosuch0: $out"

# ---- stop: nothing left ----
for g in "$A" "$Bn" "$C" "$D"; do "$LVSH" destroy "$g" >/dev/null 2>&1 || fail "destroy $g"; done
wait_for '[ "$(owned_links)" = 0 ]' && ok "after destroy: no litevirt link left" || fail "links left: $(ip -o link show | grep litevirt)"
list=$("$LVSH" domiflist "$A" 2>&1)
echo "$list" | grep -q "^ - *bridge *br0" && ok "domiflist of a stopped guest: -" || fail "domiflist stopped: $list"
out=$("$LVSH" domifstat "$A" "lv$A-0" 2>&1) && fail "domifstat of a stopped guest"
echo "$out" | grep -q "domain is not running" && ok "domifstat of a stopped guest: $out" || fail "domifstat stopped: $out"
out=$("$LVSH" domifaddr "$A" 2>&1) && fail "domifaddr of a stopped guest" || { echo "$out" | grep -q "is not running" && ok "domifaddr of a stopped guest: $out" || fail "domifaddr stopped: $out"; }

# ---- a killed supervisor whose container's namespace is still held:
# its links survive; domif-cleanup, or the next start, removes them ----
alive() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q "^Z"; }
kill_holding() { # NAME: start, hold its netns, SIGKILL its supervisor
    "$LVSH" start "$1" >/dev/null 2>&1 || fail "start $1"
    ipid=$(status_field "$1" pid); spid=$(cat "$T/run/$1/supervisor.pid")
    touch "$T/nsref" && mount --bind "/proc/$ipid/ns/net" "$T/nsref"
    kill -9 "$spid"
    wait_for "! alive $ipid" || fail "init $ipid outlived its supervisor"
}
kill_holding "$A"
[ "$(owned_links)" = 2 ] && ok "killed supervisor: its 2 links survive while the namespace is held" || fail "owned links after kill: $(owned_links)"
ip link add "lv$A-9" type veth peer name "x$P" # a look-alike without the mark
out=$("$LVSH" domif-cleanup "$A" 2>&1)
echo "$out" | grep -q "2 leftover link(s) removed" && ok "domif-cleanup: $out" || fail "domif-cleanup: $out"
[ "$(owned_links)" = 0 ] && ok "  no marked link left" || fail "marked links left"
ip -o link show "lv$A-9" >/dev/null 2>&1 && ok "  the unmarked look-alike is untouched" || fail "look-alike removed"
ip link del "lv$A-9"
umount "$T/nsref"
kill_holding "$A"
out=$("$LVSH" start "$A" 2>&1) && ok "start after a killed supervisor removes the leftovers itself" || fail "restart over leftovers: $out"
[ "$(owned_links)" = 2 ] && ok "  and has exactly its 2 links again" || fail "owned links after restart: $(owned_links)"
"$LVSH" destroy "$A" >/dev/null 2>&1
umount "$T/nsref"
wait_for '[ "$(owned_links)" = 0 ]' || fail "links left after destroy"

# ---- refusals: clear error, nothing made ----
refuse() { # NAME EXPECTED-TEXT INTERFACE-XML
    define "$1" "$3"
    before=$(ip -o link show | wc -l)
    out=$("$LVSH" start "$1" 2>&1) && { fail "$1 started"; "$LVSH" destroy "$1" >/dev/null 2>&1; return; }
    echo "$out" | grep -q "$2" && ok "refused: $(echo "$out" | tail -1)" || fail "$1: expected '$2': $out"
    [ "$(ip -o link show | wc -l)" = "$before" ] && [ "$(owned_links)" = 0 ] && ok "  nothing left" || fail "$1: links left: $(ip -o link show)"
    [ ! -e "$T/run/$1" ] || fail "$1: state dir left"
}
refuse "$P-r1" "bridge 'nosuchbr' does not exist" "<interface type='bridge'><source bridge='nosuchbr'/></interface>"
refuse "$P-r2" "a link of that name already exists" "<interface type='bridge'><source bridge='br0'/><target dev='br1'/></interface>"
refuse "$P-r3" "invalid prefix 33" "<interface type='bridge'><source bridge='br0'/></interface>
    <interface type='bridge'><source bridge='br0'/><ip address='10.1.1.1' prefix='33'/></interface>"
refuse "$P-r4" "Network is unreachable" "<interface type='bridge'><source bridge='br0'/></interface>
    <interface type='bridge'><source bridge='br1'/><ip address='10.2.0.2' prefix='24'/><route address='10.3.0.0' prefix='16' gateway='10.99.0.1'/></interface>"

# ---- 50 containers, one interface each: start, stop, no leftover ----
i=0; started=0
while [ $i -lt 50 ]; do
    define "$P-m$i" "<interface type='bridge'><source bridge='br0'/><ip address='10.78.$((i / 200)).$((i % 200 + 2))' prefix='16'/></interface>"
    "$LVSH" start "$P-m$i" >/dev/null 2>&1 && started=$((started + 1))
    i=$((i + 1))
done
[ $started = 50 ] && ok "50 containers started" || fail "only $started of 50 started"
ports=$(ip -o link show master br0 | wc -l)
[ "$ports" = 50 ] && ok "br0 has 50 ports" || fail "br0 has $ports ports"
inside "$P-m0" /bin/busybox ping -c 1 -W 3 10.78.0.51 >/dev/null 2>&1 && ok "m0 reaches m49" || fail "m0 cannot reach m49"
i=0
while [ $i -lt 50 ]; do "$LVSH" destroy "$P-m$i" >/dev/null 2>&1; i=$((i + 1)); done
wait_for '[ "$(owned_links)" = 0 ]' && ok "50 stopped: no litevirt link left" || fail "links left after 50: $(owned_links)"
[ "$(ip -o link show master br0 | wc -l)" = 0 ] && ok "br0 has no port left" || fail "ports left on br0"

# supervisors built with sanitizers report into their logs
bad=$(grep -l "Sanitizer\|runtime error:" "$T"/log/* 2>/dev/null)
[ -z "$bad" ] && ok "no sanitizer report in the supervisors' logs" || fail "sanitizer reports: $(head -20 $bad)"

echo "$fails failure(s)"
[ $fails = 0 ]
