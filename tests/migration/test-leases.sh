#!/bin/bash
# Disk leases through lvsh and real supervisors running real QEMU guests:
# two "hosts" (separate config/state directories and host UUIDs) share one
# lockspace directory. A second guest using a disk that a running guest
# writes is refused on the same host and on the other one, with the
# holder named; also through another name for the same storage (a hard
# link, a loop device over the image: leases are keyed by the storage's
# identity); once the holder is destroyed the disk is free again.
# Needs root and qemu-system-x86_64, else 77.
set -u

if [ "$(id -u)" != 0 ]; then echo "skip: needs root"; exit 77; fi
command -v qemu-system-x86_64 >/dev/null || { echo "skip: no qemu-system-x86_64"; exit 77; }
BUILD=${LV_BUILD_ROOT:?}
LVSH=$BUILD/lvsh
[ -x "$LVSH" ] && [ -x "$BUILD/litevirt-supervisor" ] || { echo "skip: lvsh/supervisor not built"; exit 77; }

# a private network namespace: no port of the host is touched
if [ -z "${LV_LEASE_TEST_NETNS:-}" ]; then
    export LV_LEASE_TEST_NETNS=1
    exec unshare --net -- "$0" "$@"
fi
ip link set lo up

T=$(mktemp -d /tmp/lv-test-leases.XXXXXX)
# QEMU runs as its own uid: it must reach its disks (as under libvirt)
chmod 0711 "$T"
UUID_A=6f1b7f3c-2a41-4c57-9d4e-0a1b2c3d4e01
UUID_B=6f1b7f3c-2a41-4c57-9d4e-0a1b2c3d4e02
FAILS=0
STARTED=""
LOOP=""

on_host() { # HOST CMD...: run with that host's directories
    local h=$1; shift
    LITEVIRT_CONFDIR=$T/$h/conf LITEVIRT_GUESTDIR=$T/$h/guests LITEVIRT_RUNDIR=$T/$h/run \
        LITEVIRT_LOGDIR=$T/$h/log "$@"
}

cleanup() {
    for hg in $STARTED; do
        h=${hg%%:*} g=${hg#*:}
        on_host "$h" "$LVSH" destroy "$g" >/dev/null 2>&1
    done
    # a QEMU left behind by a broken supervisor: only ours, by pid
    for f in "$T"/*/run/*/qemu.json; do
        [ -e "$f" ] || continue
        pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$f")
        [ -n "$pid" ] && grep -q "$T" "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid"
    done
    [ -n "$LOOP" ] && losetup -d "$LOOP"
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok   $*"; }

for h in a b; do
    mkdir -p "$T/$h/conf" "$T/$h/guests" "$T/$h/run" "$T/$h/log"
    uuid=$UUID_A; [ $h = b ] && uuid=$UUID_B
    printf 'host_uuid = %s\nlockspace_dir = %s\n' "$uuid" "$T/lockspace" > "$T/$h/conf/host.conf"
done
truncate -s 1M "$T/disk.img"
ln -s "$T/disk.img" "$T/disk-link.img"
ln "$T/disk.img" "$T/disk-hard.img"

# define HOST NAME DISK [readonly]
define() {
    local ro="" type=file attr=file
    [ -n "${4-}" ] && ro="<readonly/>"
    [ -b "$3" ] && type=block attr=dev
    cat > "$T/$2.xml" <<XML
<domain type='qemu'>
  <name>$2</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='$type' device='disk'>
      <driver name='qemu' type='raw'/>
      <source $attr='$3'/>
      <target dev='vda' bus='virtio'/>$ro
    </disk>
  </devices>
</domain>
XML
    on_host "$1" "$LVSH" define "$T/$2.xml" >/dev/null || fail "define $2 on $1"
}

start() { # HOST NAME -> output in $OUT, status in $RC
    OUT=$(on_host "$1" "$LVSH" start "$2" 2>&1)
    RC=$?
    [ $RC = 0 ] && STARTED="$STARTED $1:$2"
}

define a web1 "$T/disk.img"
define a web2 "$T/disk.img"
define b web3 "$T/disk-link.img"
define b ro1 "$T/disk.img" readonly

start a web1
[ $RC = 0 ] && ok "web1 starts on host A" || fail "web1 does not start: $OUT"
rec=$(cat "$T"/lockspace/*.owner 2>/dev/null)
key=$(sed -n 's/^key=//p' <<<"$rec")
[[ "$key" == file:*":ino=$(stat -c %i "$T/disk.img")" ]] &&
    [ -e "$T/lockspace/$(printf %s "$key" | sha256sum | cut -d' ' -f1)" ] &&
    ok "lease file named by the sha256 of the image's identity ($key)" ||
    fail "lease key/file: $rec; $(ls "$T/lockspace")"

want="disk '$T/disk.img' is in use by guest 'web1' on host $UUID_A"
start a web2
if [ $RC != 0 ] && [[ "$OUT" == *"$want"* ]]; then ok "web2 refused on host A: $OUT"
else fail "web2 on host A: rc=$RC: $OUT"; fi
[ ! -e "$T/a/run/web2/qemu.json" ] || fail "web2 left state behind"

start b web3
if [ $RC != 0 ] && [[ "$OUT" == *"$want"* ]]; then ok "web3 (same disk via a symlink) refused on host B"
else fail "web3 on host B: rc=$RC: $OUT"; fi

start b ro1
if [ $RC != 0 ] && [[ "$OUT" == *"$want"* ]]; then ok "readonly user refused while web1 writes"
else fail "ro1 on host B: rc=$RC: $OUT"; fi

# the same storage under other names: a hard link, a loop device
define b hard1 "$T/disk-hard.img"
start b hard1
if [ $RC != 0 ] && [[ "$OUT" == *"disk '$T/disk-hard.img' is in use by guest 'web1' on host $UUID_A (as '$T/disk.img', the same storage)"* ]]; then
    ok "a hard link to the image refused on host B: $OUT"
else fail "hard1 on host B: rc=$RC: $OUT"; fi
if LOOP=$(losetup --find --show "$T/disk.img" 2>&1) && [ -b "$LOOP" ]; then
    define b loop1 "$LOOP"
    start b loop1
    if [ $RC != 0 ] && [[ "$OUT" == *"disk '$LOOP' is in use by guest 'web1' on host $UUID_A (as '$T/disk.img', the same storage)"* ]]; then
        ok "a loop device over the running guest's image refused: $OUT"
    else fail "loop1 ($LOOP over the image) on host B: rc=$RC: $OUT"; fi
else
    fail "losetup over the image: $LOOP"; LOOP=""
fi

on_host a "$LVSH" destroy web1 >/dev/null 2>&1 || fail "destroy web1"
grep -q '^state=free$' "$T"/lockspace/*.owner && ok "lease record says free after destroy" ||
    fail "lease record after destroy: $(cat "$T"/lockspace/*.owner)"

start b web3
[ $RC = 0 ] && ok "web3 starts on host B once web1 is gone" || fail "web3 does not start: $OUT"
start a web2
want="disk '$T/disk.img' is in use by guest 'web3' on host $UUID_B"
if [ $RC != 0 ] && [[ "$OUT" == *"$want"* ]]; then ok "web2 refused on host A, holder on host B named"
else fail "web2 while web3 runs: rc=$RC: $OUT"; fi
grep -q '^generation=2$' "$T"/lockspace/*.owner && ok "generation 2 after the second holder" ||
    fail "generation: $(cat "$T"/lockspace/*.owner)"

[ $FAILS = 0 ] && echo "all passed" || echo "$FAILS failed"
[ $FAILS = 0 ]
