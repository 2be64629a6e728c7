# Shared by the shell tests that run the tiny QEMU test guest through lvsh
# (sourced). qemu_test_init NAMESPACE-FLAGS...: checks for root, QEMU and
# the built lvsh and supervisor (else exits 77), runs the test again in
# new namespaces (`unshare FLAGS`, e.g. --net, --mount) after building the
# guest (tests/qemu/build-guest.sh, cached), brings loopback up there; sets
# BUILD, SRC, LVSH, KERNEL, INITRD. qemu_pid NAME: the pid of NAME's QEMU
# (qemu.json). qemu_guests_end NAMES...: destroys each guest and kills a
# QEMU of it a broken supervisor left (only ours, by pid), for cleanups.
# qemu_test_dirs, qemu_guest_define, CONLOG, since, logsize, wait_output,
# qemu_counts_on: below.

qemu_test_init() {
    if [ "$(id -u)" != 0 ]; then echo "skip: needs root"; exit 77; fi
    command -v qemu-system-x86_64 >/dev/null || { echo "skip: no qemu-system-x86_64"; exit 77; }
    BUILD=${LV_BUILD_ROOT:?}
    SRC=${LV_SOURCE_ROOT:?}
    LVSH=$BUILD/lvsh
    [ -x "$LVSH" ] && [ -x "$BUILD/litevirt-supervisor" ] ||
        { echo "skip: lvsh/supervisor not built"; exit 77; }
    # the guest first: its kernel is downloaded, which a new network
    # namespace cannot
    sh "$SRC/tests/qemu/build-guest.sh" "$BUILD/test-guest" || exit 77
    if [ -z "${LV_QEMU_TEST_NS:-}" ]; then
        export LV_QEMU_TEST_NS=1
        exec unshare "$@" -- "$0"
    fi
    ip link set lo up
    KERNEL=$BUILD/test-guest/vmlinuz
    INITRD=$BUILD/test-guest/initrd.gz
}

# qemu_test_dirs NAME: T, a temporary directory (/tmp/lv-test-NAME.*), and
# the LITEVIRT_* directories in it; FAILS=0, GUESTS="".
qemu_test_dirs() {
    T=$(mktemp -d "/tmp/lv-test-$1.XXXXXX")
    chmod 0711 "$T"
    export LITEVIRT_CONFDIR=$T/conf LITEVIRT_GUESTDIR=$T/guests LITEVIRT_RUNDIR=$T/run \
           LITEVIRT_LOGDIR=$T/log LITEVIRT_SAVEDIR=$T/save
    mkdir -p "$LITEVIRT_CONFDIR" "$LITEVIRT_GUESTDIR" "$LITEVIRT_RUNDIR" "$LITEVIRT_LOGDIR"
    GUESTS=""
    FAILS=0
}

# qemu_guest_define NAME [DEVICES]: the tiny test guest as $T/NAME.xml
# (type qemu, machine pc, ACPI, serial and console ptys, then DEVICES),
# defined with lvsh (else `fail`, the test's own) and added to GUESTS.
# What differs, from the environment (each optional): GUEST_MEM (MiB, 128),
# GUEST_VCPU (the <vcpu> element, <vcpu>1</vcpu>), GUEST_TOP (more elements
# of <domain>: <uuid>, <cpu>, <memtune> ...), GUEST_KERNEL and GUEST_INITRD
# (direct kernel boot; KERNEL and INITRD; GUEST_KERNEL empty: <boot dev='hd'/>).
qemu_guest_define() {
    local kernel=${GUEST_KERNEL-$KERNEL} os
    os="<boot dev='hd'/>"
    [ -n "$kernel" ] &&
        os="<kernel>$kernel</kernel><initrd>${GUEST_INITRD:-$INITRD}</initrd><cmdline>console=ttyS0 quiet</cmdline>"
    cat > "$T/$1.xml" <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>${GUEST_MEM:-128}</memory>
  ${GUEST_VCPU:-<vcpu>1</vcpu>}${GUEST_TOP:-}
  <os><type arch='x86_64' machine='pc'>hvm</type>$os</os>
  <features><acpi/></features>
  <devices>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    ${2-}
  </devices>
</domain>
EOF
    "$LVSH" define "$T/$1.xml" >/dev/null || fail "define $1"
    GUESTS="$GUESTS $1"
}

# A guest's console log: CONLOG NAME; since NAME OFFSET (from byte OFFSET
# on); logsize NAME; wait_output NAME OFFSET PATTERN SECONDS (PATTERN in
# the console after OFFSET).
CONLOG() { echo "$LITEVIRT_LOGDIR/$1.console.log"; }
since() { tail -c +$(($2 + 1)) "$(CONLOG "$1")" 2>/dev/null; }
logsize() { stat -c %s "$(CONLOG "$1")" 2>/dev/null || echo 0; }
wait_output() {
    local i=0
    while [ $i -lt $(($4 * 10)) ]; do
        since "$1" "$2" | grep -aq "$3" && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

qemu_pid() {
    sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$LITEVIRT_RUNDIR/$1/qemu.json" 2>/dev/null | head -n1
}

qemu_guests_end() {
    local g pid
    for g in "$@"; do
        pid=$(qemu_pid "$g")
        "$LVSH" destroy "$g" >/dev/null 2>&1
        if [ -n "$pid" ] && grep -q "guest=$g," "/proc/$pid/cmdline" 2>/dev/null; then
            kill -9 "$pid" 2>/dev/null
        fi
    done
}

# qemu_counts_on NAME OFFSET C: after a restore, the guest counts on from
# counter C (no new boot: its memory came back), else `fail` (the test's).
qemu_counts_on() {
    local name=$1 off=$2 c=$3 first
    if ! wait_output "$name" "$off" "LV-COUNTER $((c + 2))\b" 30; then
        fail "$name: counter did not go on from $c: $(since "$name" "$off" | tail -c 200)"
        return
    fi
    first=$(since "$name" "$off" | grep -ao 'LV-COUNTER [0-9]*' | head -n1 | awk '{print $2}')
    if since "$name" "$off" | grep -aq "LV-GUEST-BOOTED" || [ "$first" -lt "$c" ] || [ "$first" -gt $((c + 2)) ]; then
        fail "$name booted afresh instead of going on from $c (first counter $first)"
    else
        ok "$name counts on from $c ($first, ...): its memory came back"
    fi
}
