#!/bin/bash
# A real two-node Pacemaker cluster on one machine runs a litevirt guest
# through ocf:litevirt:guest. Each node is a network namespace (the two
# joined by a veth pair, tests/lib/hosts.sh: its own cgroups, litevirt
# directories and host.conf, one shared lockspace) and its own mount + UTS
# namespace (hostname lv-a / lv-b; /run and /dev/shm are tmpfs; /etc/corosync,
# /var/lib/pacemaker, /var/lib/corosync, /var/log are the node's folders),
# running corosync (knet, two_node) and pacemakerd. Then, each step timed:
#   - the guest (a QEMU TCG guest counting on its console) starts on lv-a;
#   - kill -9 of its QEMU is noticed by monitor and recovered (it boots again);
#   - crm_resource --move live-migrates it to lv-b: the counter goes on;
#   - stopping pacemaker on lv-b moves it back to lv-a (live, it counts on);
#   - stopping the cluster shuts the guest down; nothing is left (processes,
#     namespaces, links, cgroups; the mounts lived in the nodes' namespaces).
# Heavy (plain build only). Needs root, corosync, pacemaker, QEMU; else 77.
set -u

[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
for t in corosync pacemakerd crm_resource crm_mon crm corosync-cfgtool qemu-system-x86_64 unshare nsenter ip; do
    command -v $t >/dev/null || { echo "skip: $t missing (scripts/install-deps.sh)"; exit 77; }
done
BUILD=${LV_BUILD_ROOT:?}
SRC=${LV_SOURCE_ROOT:?}
LVSH=$BUILD/lvsh
SUP=$BUILD/litevirt-supervisor
sh "$SRC/tests/qemu/build-guest.sh" "$BUILD/test-guest" || exit 77
. "$SRC/tests/cluster/lib.sh"

T=$(mktemp -d /tmp/lv-test-pcmk.XXXXXX)
chmod 0711 "$T" # QEMU runs as its own uid; pacemaker's daemons as hacluster
G=lvpcmk$$
HOSTS_DIR=$T HOSTS_TAG=lvpcm HOSTS_NET=10.78.0 HOSTS_SUP=$SUP
. "$SRC/tests/lib/hosts.sh"
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok   $*"; }
node_name() { echo "lv-$1"; }
# the node's litevirt (its confdir is bound below its own /run)
URI="litevirt:///?confdir=/run/lvconf"

# HOST CMD...: run CMD in that node (cgroups, network, mount, UTS namespaces)
node_on() {
    local h=$1
    shift
    "$T/enter-$h" nsenter -t "$(cat "$T/$h/node.pid")" --net --mount --uts "$@"
}
lv_on() { local h=$1; shift; node_on "$h" "$LVSH" -c "$URI" "$@"; }
con() { echo "$T/$1/node/log/litevirt/$G.console.log"; }
located() { node_on a crm_resource --locate -r vm 2>/dev/null | sed -n 's/.*is running on: \([^ ]*\).*/\1/p'; }
qemu_pid_on() { node_on "$1" cat "/run/litevirt/$G/qemu.json" 2>/dev/null | sed -n 's/.*"pid":\([0-9]*\).*/\1/p'; }
wait_until() { # SECONDS CMD...: until CMD succeeds
    local n=$(($1 * 5))
    shift
    while [ $n -gt 0 ]; do
        "$@" && return 0
        sleep 0.2
        n=$((n - 1))
    done
    return 1
}
running_on() { [ "$(located)" = "$(node_name "$1")" ]; }
step() { STEP_T0=$(now_ms); }
took() { echo "$(($(now_ms) - STEP_T0)) ms"; }

# the processes of our nodes: everything in their cgroups and below (the
# guests' cgroups)
node_procs() {
    local d
    for d in $(cat "$T/cgdirs" 2>/dev/null); do
        find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
    done | sort -u
}

node_stop() { # HOST: pacemaker (it stops or moves its resources), then corosync
    local p
    [ -e "$T/$1/pacemakerd.pid" ] || return 0
    p=$(cat "$T/$1/pacemakerd.pid")
    kill -TERM "$p" 2>/dev/null
    wait_until 120 sh -c "! kill -0 $p 2>/dev/null"
    p=$(cat "$T/$1/corosync.pid" 2>/dev/null)
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null && wait_until 30 sh -c "! kill -0 $p 2>/dev/null"
    rm -f "$T/$1/pacemakerd.pid"
}

cleanup() {
    local p h
    for h in a b; do
        [ -e "$T/$h/node.pid" ] && kill -0 "$(cat "$T/$h/node.pid")" 2>/dev/null || continue
        lv_on $h destroy $G >/dev/null 2>&1
    done
    for h in a b; do node_stop $h; done
    # whatever is left in our cgroups is ours: by pid
    for p in $(node_procs); do kill -9 "$p" 2>/dev/null; done
    # cgroups a killed supervisor left below the nodes' (hosts_destroy
    # removes the nodes' own)
    for _ in $(seq 50); do [ -z "$(node_procs)" ] && break; sleep 0.1; done
    for d in $(cat "$T/cgdirs" 2>/dev/null); do
        [ -d "$d" ] && find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
    done
    if [ "$FAILS" != 0 ]; then
        for f in "$T"/*/node/log/pacemaker/pacemaker.log; do echo "--- $f"; grep -E "error|warning|guest|vm_" "$f" | tail -n 30; done
        for f in "$T"/*/node/log/litevirt/*.log "$T"/*/node/log/corosync/corosync.log; do echo "--- $f"; tail -n 15 "$f"; done
    fi
    hosts_destroy
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

# ---- two hosts, then a node on each ----
step
hosts_create || { echo "skip: cannot make the two hosts"; exit 77; }
mkdir -p "$T/resource.d/litevirt"
install -m 0755 "$SRC/packaging/ocf/guest" "$T/resource.d/litevirt/guest"
cat > "$T/corosync.conf" <<EOF
totem {
    version: 2
    cluster_name: lvtest$$
    transport: knet
    crypto_cipher: none
    crypto_hash: none
    # a loaded 2-core machine: tokens may wait seconds for a CPU
    token: 10000
    join: 1000
}
nodelist {
    node {
        name: lv-a
        nodeid: 1
        ring0_addr: $HOSTS_NET.1
    }
    node {
        name: lv-b
        nodeid: 2
        ring0_addr: $HOSTS_NET.2
    }
}
quorum {
    provider: corosync_votequorum
    two_node: 1
}
logging {
    to_stderr: no
    to_syslog: no
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    timestamp: on
}
EOF
# run in the node's new mount and UTS namespaces: its folders, then the stack
cat > "$T/node-init" <<'EOF'
#!/bin/sh
# node-init NAME DIR: become node NAME (state in DIR), run corosync and pacemakerd
set -e
N=$1 D=$2
hostname "$N"
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mkdir -p /run/lock /run/lvconf
mount --bind "$D/node/etc-corosync" /etc/corosync
mount --bind "$D/node/lib-pacemaker" /var/lib/pacemaker
mount --bind "$D/node/lib-corosync" /var/lib/corosync
mount --bind "$D/node/log" /var/log
mount --bind "$D/conf" /run/lvconf
mount --bind "$D/../resource.d" /usr/lib/ocf/resource.d
corosync -f > "$D/corosync.out" 2>&1 &
echo $! > "$D/corosync.pid"
i=0
until corosync-cfgtool -s >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 300 ] || { echo "corosync did not answer" >&2; exit 1; }
    sleep 0.1
done
pacemakerd > "$D/pacemakerd.out" 2>&1 &
echo $! > "$D/pacemakerd.pid"
wait
EOF
chmod +x "$T/node-init"
for h in a b; do
    d=$T/$h/node
    mkdir -p "$d/etc-corosync" "$d/lib-corosync" "$d/lib-pacemaker" "$d/log/corosync" \
        "$d/log/pacemaker" "$d/log/litevirt" "$d/log/crmsh"
    cp -a /var/lib/pacemaker/. "$d/lib-pacemaker/"
    cp -a /var/log/pacemaker/. "$d/log/pacemaker/" 2>/dev/null
    chown hacluster:haclient "$d/log/pacemaker"
    chmod 0770 "$d/log/pacemaker"
    cp "$T/corosync.conf" "$d/etc-corosync/corosync.conf"
    mkdir -p "$T/$h/conf/guests"
    # the node's host.conf: hosts.sh wrote it for LITEVIRT_CONFDIR=$T/$h/conf
    "$T/enter-$h" nsenter --net=/run/netns/"$(hosts_ns $h)" \
        unshare --mount --uts --propagation private "$T/node-init" "$(node_name $h)" "$T/$h" \
        > "$T/$h/node-init.out" 2>&1 &
    echo $! > "$T/$h/node.pid"
done
# the guest on "shared storage" ($T: both nodes see it), with a disk: its
# lease in the shared lockspace says which node may run it
truncate -s 8M "$T/disk.img"
cluster_guest_xml $G "$T/guest.xml" "$T/disk.img"
# migration: the target node's supervisor, entered as node_on does (over
# ssh in a real cluster: the agent's default transport)
cat > "$T/transport" <<EOF
#!/bin/sh
h=\${1#lv-}
exec "$T/enter-\$h" nsenter -t "\$(cat "$T/\$h/node.pid")" --net --mount --uts "$SUP" --incoming
EOF
chmod +x "$T/transport"

cluster_up() { node_on a crm_mon -1 2>/dev/null | grep -q "Online: \[ lv-a lv-b \]"; }
if wait_until 180 cluster_up; then ok "cluster up: lv-a and lv-b online ($(took))"
else
    fail "cluster not up: $(node_on a crm_mon -1 2>&1 | head -n 20); $(cat "$T"/*/node-init.out "$T"/*/*.out)"
    exit 1
fi

# ---- the resource ----
step
# as docs/cluster.md writes it, with crmsh
node_on a crm configure property stonith-enabled=false > "$T/crm.out" 2>&1 &&
    node_on a crm configure primitive vm ocf:litevirt:guest \
        params guest=$G config="$T/guest.xml" lvsh="$LVSH" connect="$URI" shutdown_timeout=20 \
        migration_transport="$T/transport %n" node_addresses="lv-a=$HOSTS_NET.1 lv-b=$HOSTS_NET.2" \
        meta allow-migrate=true resource-stickiness=100 \
        op start timeout=120s op stop timeout=120s op monitor interval=2s timeout=30s \
        op migrate_to timeout=120s op migrate_from timeout=60s >> "$T/crm.out" 2>&1 &&
    node_on a crm configure location vm-prefers-a vm 50: lv-a >> "$T/crm.out" 2>&1 ||
    { fail "cannot configure the resource: $(cat "$T/crm.out")"; exit 1; }
if wait_until 120 running_on a && wait_for "$(con a)" "LV-COUNTER 2" 60; then
    ok "guest started on lv-a and counts ($(took))"
else fail "guest not running on lv-a: $(node_on a crm_mon -1 2>&1 | tail -n 15)"; exit 1; fi
[[ "$(lv_on a domstate --reason $G)" == "running (booted)"* ]] || fail "lv-a: $(lv_on a domstate --reason $G)"
grep -q "^host=$HOSTS_UUID_A$" "$T"/lockspace/*.owner && ok "lv-a holds the disk's lease" ||
    fail "lease: $(cat "$T"/lockspace/*.owner)"

# ---- kill -9 of QEMU: monitor notices, pacemaker recovers ----
step
qpid=$(qemu_pid_on a)
boots=$(grep -c LV-GUEST-BOOTED "$(con a)")
kill -9 "$qpid"
recovered() {
    running_on a && [ "$(grep -c LV-GUEST-BOOTED "$(con a)")" -gt "$boots" ] &&
        [ -n "$(qemu_pid_on a)" ] && [ "$(qemu_pid_on a)" != "$qpid" ]
}
if wait_until 120 recovered; then ok "QEMU killed: monitor noticed, guest recovered and booted again ($(took))"
else fail "no recovery after kill -9: $(node_on a crm_mon -1 2>&1 | tail -n 15)"; fi
node_on a crm_mon -1 2>/dev/null | grep -q "vm 2s-interval monitor on lv-a returned 'not running'" &&
    ok "crm_mon reports the failed monitor: not running" || fail "crm_mon: $(node_on a crm_mon -1 2>&1 | tail -n 8)"
node_on a crm_resource --cleanup -r vm >/dev/null 2>&1
wait_for "$(con a)" "LV-COUNTER 2" 60 || fail "the recovered guest does not count"

# ---- crm_resource --move: live migration to lv-b ----
step
c=$(last_counter "$(con a)")
node_on a crm_resource --move -r vm -N lv-b >/dev/null 2>&1 || fail "crm_resource --move"
if wait_until 120 running_on b && wait_for "$(con b)" "LV-COUNTER" 30; then
    first=$(grep -ao 'LV-COUNTER [0-9]*' "$(con b)" | head -n1 | awk '{print $2}')
    ok "crm_resource --move: running on lv-b ($(took)); counter $c on lv-a, $first next on lv-b"
    [ "$first" -ge "$c" ] && ! grep -q LV-GUEST-BOOTED "$(con b)" && ok "live migration: the counter goes on, no reboot" ||
        fail "counter on lv-b starts at $first (was $c), or the guest booted"
else fail "not moved to lv-b: $(node_on a crm_mon -1 2>&1 | tail -n 15)"; fi
[[ "$(lv_on b domstate --reason $G)" == "running (migrated)"* ]] && ok "lv-b: running (migrated)" ||
    fail "lv-b: $(lv_on b domstate --reason $G)"
grep -q "^host=$HOSTS_UUID_B$" "$T"/lockspace/*.owner && ok "the lease moved to lv-b" ||
    fail "lease: $(cat "$T"/lockspace/*.owner)"
[ -z "$(qemu_pid_on a)" ] && ok "no QEMU left on lv-a" || fail "QEMU still on lv-a"
grep -q "Result of migrate_to operation for vm on lv-a: ok" "$T/a/node/log/pacemaker/pacemaker.log" &&
    ok "pacemaker ran migrate_to: $(grep -ao "Migrated guest '$G'[^]]*downtime [0-9]* ms" "$T/a/node/log/pacemaker/pacemaker.log" | tail -n1)" ||
    fail "no migrate_to on lv-a: $(grep -a migrate_to "$T/a/node/log/pacemaker/pacemaker.log" | tail -n 3)"
node_on a crm_resource --clear -r vm >/dev/null 2>&1

# ---- pacemaker stops on the active node: the guest moves ----
step
c=$(last_counter "$(con b)")
off=$(stat -c %s "$(con a)") # what lv-a's console gets from now on
new_on_a() { tail -c +$((off + 1)) "$(con a)"; }
counts_on_a() { new_on_a | grep -aq "LV-COUNTER [0-9]"; }
node_stop b
if wait_until 120 running_on a && wait_until 30 counts_on_a; then
    first=$(new_on_a | grep -ao 'LV-COUNTER [0-9]*' | head -n1 | awk '{print $2}')
    ok "pacemaker stopped on lv-b: guest runs on lv-a ($(took)); counter $c on lv-b, $first next on lv-a"
    [ "$first" -ge "$c" ] && ! new_on_a | grep -aq LV-GUEST-BOOTED && ok "moved live: the counter goes on, no reboot" ||
        fail "the guest rebooted on lv-a (counter $first after $c)"
else
    fail "guest not on lv-a, counting, after lv-b's pacemaker stopped: $(node_on a crm_mon -1 2>&1 | tail -n 4)
$(grep -ah "Result of .* operation for vm" "$T"/*/node/log/pacemaker/pacemaker.log | tail -n 6)
console: $(new_on_a | tail -c 300)"
fi

# ---- the cluster stops: the guest shuts down, nothing is left ----
step
n=$(grep -c LV-POWEROFF "$(con a)")
node_stop a
[ "$(grep -c LV-POWEROFF "$(con a)")" -gt "$n" ] && ok "pacemaker stopped on lv-a: guest shut down by ACPI ($(took))" ||
    fail "no graceful shutdown on lv-a"
step
for h in a b; do wait_until 30 sh -c "! kill -0 $(cat "$T/$h/node.pid") 2>/dev/null"; done
left=$(node_procs)
[ -z "$left" ] && ok "no process left in the nodes' cgroups" || fail "processes left: $(ps -o pid,args -p "$(echo $left | tr ' ' ,)")"
grep -aqs "$T" /proc/[0-9]*/cmdline && fail "a process still names $T: $(grep -las "$T" /proc/[0-9]*/cmdline)"
cgdirs=$(cat "$T/cgdirs")
hosts_destroy
for d in $cgdirs; do [ -d "$d" ] && fail "cgroup left: $d"; done
ip netns list | grep -q "lvpcm-.-$$" && fail "namespace left: $(ip netns list | grep "lvpcm-.-$$")"
ip link show | grep -q "lvpcm-v.$$" && fail "link left on the host"
grep -q "$T" /proc/self/mountinfo && fail "mount left: $(grep "$T" /proc/self/mountinfo)"
[ "$FAILS" = 0 ] && ok "torn down: no process, namespace, link, cgroup or mount left ($(took))"

[ "$FAILS" = 0 ] || exit 1
