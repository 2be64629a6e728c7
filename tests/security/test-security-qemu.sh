#!/bin/bash
# QEMU confinement, tried as a compromised QEMU would (docs/security.md,
# "QEMU"): with a guest's QEMU credentials in its mount namespace
# (nsenter -t QEMU -m setpriv --reuid --regid --clear-groups), /etc/shadow,
# another running guest's disks and litevirt's state of another guest cannot
# be opened and the host cannot be written, while its own disks can; QEMU
# has no capabilities, no_new_privs, explicit rlimits and none of the
# caller's environment; two guests run as two uids. The owner, mode and
# ACL of every file given to a guest are restored after each way a guest
# ends: destroy, ACPI shutdown, QEMU killed, a failed start, supervisor
# SIGKILL + reattach + destroy, supervisor and QEMU both killed (given back
# by the next start), also on a file system without xattrs (ramfs: the
# original is kept in the label record). qemu_user (host.conf) runs QEMU as
# that user.
# Migration out is checked in tests/migration/test-migrate.sh.
# Needs root, qemu-system-x86_64, nsenter, setpriv, python3; else 77.
set -u

if [ "$(id -u)" != 0 ]; then echo "skip: needs root"; exit 77; fi
for c in qemu-system-x86_64 nsenter setpriv python3; do
    command -v $c >/dev/null || { echo "skip: no $c"; exit 77; }
done
BUILD=${LV_BUILD_ROOT:?}
SRC=${LV_SOURCE_ROOT:?}
LVSH=$BUILD/lvsh
[ -x "$LVSH" ] && [ -x "$BUILD/litevirt-supervisor" ] || { echo "skip: lvsh/supervisor not built"; exit 77; }

# own network namespace (VNC ports and slirp stay in it) and mount
# namespace (the ramfs below)
if [ -z "${LV_SECQ_NETNS:-}" ]; then
    export LV_SECQ_NETNS=1
    exec unshare --net --mount --propagation private -- "$0" "$@"
fi
ip link set lo up

sh "$SRC/tests/qemu/build-guest.sh" "$BUILD/test-guest" || exit 77
KERNEL=$BUILD/test-guest/vmlinuz
INITRD=$BUILD/test-guest/initrd.gz

T=$(mktemp -d /tmp/lv-test-secq.XXXXXX)
chmod 0711 "$T" # QEMU's uid must reach its disks (as under libvirt)
export LITEVIRT_CONFDIR=$T/conf LITEVIRT_GUESTDIR=$T/guests LITEVIRT_RUNDIR=$T/run \
       LITEVIRT_LOGDIR=$T/log
mkdir -p "$LITEVIRT_CONFDIR" "$LITEVIRT_GUESTDIR" "$LITEVIRT_RUNDIR" "$LITEVIRT_LOGDIR"
printf 'lockspace_dir = %s/lockspace\n' "$T" > "$LITEVIRT_CONFDIR/host.conf"
P=lvsq$$ # guest names make cgroup names: unique on a shared machine
GUESTS=""
STRAY="" # a process of ours running as a QEMU uid
FAILS=0
FAILED="" # the failures again, after the logs that cleanup prints

qemu_pid() { sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$LITEVIRT_RUNDIR/$1/qemu.json" 2>/dev/null | head -n1; }
cleanup() {
    for g in $GUESTS; do
        pid=$(qemu_pid "$g")
        "$LVSH" destroy "$g" >/dev/null 2>&1
        if [ -n "$pid" ] && grep -q "guest=$g," "/proc/$pid/cmdline" 2>/dev/null; then
            kill -9 "$pid" 2>/dev/null
        fi
    done
    if [ "$FAILS" != 0 ]; then
        for f in "$LITEVIRT_LOGDIR"/*.log; do echo "--- $f"; tail -n 15 "$f"; done
        printf '%s' "$FAILED"
        echo "$FAILS failed"
    fi
    [ -n "$STRAY" ] && kill "$STRAY" 2>/dev/null && wait "$STRAY" 2>/dev/null
    umount "$T/ram" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); FAILED="${FAILED}FAIL: $*
"; }
ok() { echo "ok   $*"; }

# owner:group:mode:xattrs (ACLs and litevirt's trusted.* records) of files
snap() {
    python3 - "$@" <<'EOF'
import os, sys
for p in sys.argv[1:]:
    st = os.stat(p)
    print("%s %d:%d:%o:%s" % (os.path.basename(p), st.st_uid, st.st_gid, st.st_mode & 0o7777,
                             ",".join(sorted(os.listxattr(p)))))
EOF
}

# files NAME: its own disk (root:root 0640), a read-only disk nobody else
# may read (0600) and the disk it shares with the others (root:disk 0660)
truncate -s 1M "$T/shared.img"
chgrp disk "$T/shared.img" 2>/dev/null
chmod 0660 "$T/shared.img"
files() { echo "${D:-$T}/$1.img $T/$1-ro.img $T/shared.img"; }
define() { # NAME [kernel] [disk format]; the own disk in $D (default $T)
    local name=$1 kernel=${2-} fmt=${3:-raw} os d=${D:-$T}
    truncate -s 1M "$d/$name.img" "$T/$name-ro.img"
    chmod 0640 "$d/$name.img"
    chmod 0600 "$T/$name-ro.img"
    if [ -n "$kernel" ]; then
        os="<kernel>$KERNEL</kernel><initrd>$INITRD</initrd><cmdline>console=ttyS0 quiet</cmdline>"
        mem=128
    else
        os="<boot dev='hd'/>" mem=32
    fi
    cat > "$T/$name.xml" <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>$os</os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='$fmt'/>
      <source file='$d/$name.img'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='$T/$name-ro.img'/><target dev='vdb' bus='virtio'/><readonly/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/>
      <source file='$T/shared.img'/><target dev='vdc' bus='virtio'/><shareable/></disk>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <graphics type='vnc' autoport='yes'/>
  </devices>
</domain>
EOF
    "$LVSH" define "$T/$name.xml" >/dev/null || fail "define $name"
    GUESTS="$GUESTS $name"
}
wait_gone() { # NAME: the supervisor finished (state dir removed)
    local i=0
    while [ $i -lt 300 ] && [ -e "$LITEVIRT_RUNDIR/$1" ]; do sleep 0.1; i=$((i + 1)); done
    [ ! -e "$LITEVIRT_RUNDIR/$1" ]
}
wait_for() { # FILE PATTERN SECONDS
    local i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -aq "$2" "$1" 2>/dev/null && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
restored() { # WHAT BEFORE FILES...: the files are as before
    local what=$1 before=$2 now; shift 2
    now=$(snap "$@")
    [ "$now" = "$before" ] && ok "$what: owner, mode and ACL restored" ||
        fail "$what: not restored:$(diff <(echo "$before") <(echo "$now") | grep '^[<>]' | tr '\n' ' ')"
}
status_of() { grep "^$2:" "/proc/$1/status" | awk '{print $2}'; }

G1=${P}a G2=${P}b
define $G1
define $G2
# shellcheck disable=SC2046
orig=$(snap $(files $G1) $(files $G2))
orig_shared=$(snap "$T/shared.img")
LV_CANARY=secret-$$ "$LVSH" start $G1 >/dev/null || fail "start $G1"
LV_CANARY=secret-$$ "$LVSH" start $G2 >/dev/null || fail "start $G2"
q1=$(qemu_pid $G1) q2=$(qemu_pid $G2)
[ -n "$q1" ] && [ -n "$q2" ] || { fail "no QEMU running"; exit 1; }
u1=$(status_of "$q1" Uid) u2=$(status_of "$q2" Uid)
g1=$(status_of "$q1" Gid)

# ---- credentials, capabilities, rlimits, environment ----
[ "$u1" != 0 ] && [ "$u2" != 0 ] && [ "$u1" != "$u2" ] &&
    ok "two guests, two uids: $u1 and $u2 (from host.conf's range)" || fail "uids: '$u1' '$u2'"
[ "$(grep -c '^Uid:.*\b'"$u1"'\b.*\b'"$u1"'\b.*\b'"$u1"'\b.*\b'"$u1"'$' "/proc/$q1/status")" = 1 ] ||
    fail "uids of QEMU not all $u1: $(grep ^Uid: "/proc/$q1/status")"
grep -q "\"uid\": *$u1," "$LITEVIRT_RUNDIR/$G1/qemu.json" && ok "uid recorded in qemu.json" ||
    fail "qemu.json: $(cat "$LITEVIRT_RUNDIR/$G1/qemu.json")"
caps=""
for f in CapInh CapPrm CapEff CapBnd CapAmb; do
    v=$(status_of "$q1" $f)
    [ "$v" = 0000000000000000 ] || caps="$caps $f=$v"
done
[ -z "$caps" ] && [ "$(status_of "$q1" NoNewPrivs)" = 1 ] &&
    ok "QEMU: CapInh/CapPrm/CapEff/CapBnd/CapAmb 0, NoNewPrivs 1" ||
    fail "QEMU's capabilities:$caps NoNewPrivs $(status_of "$q1" NoNewPrivs)"
[ -z "$(status_of "$q1" Groups)" ] && ok "QEMU has no supplementary groups" || fail "groups: $(status_of "$q1" Groups)"
grep -q "^Max core file size *0 *0" "/proc/$q1/limits" && grep -q "^Max open files *8192 *8192" "/proc/$q1/limits" &&
    ok "QEMU's rlimits: no core, 8192 files" || fail "limits: $(cat "/proc/$q1/limits")"
env1=$(tr '\0' '\n' < "/proc/$q1/environ")
if ! echo "$env1" | grep -q LV_CANARY && [ "$(echo "$env1" | cut -d= -f1 | sort | tr '\n' ' ')" = \
    "HOME LC_ALL PATH XDG_CACHE_HOME XDG_CONFIG_HOME XDG_DATA_HOME " ]; then
    ok "QEMU's environment holds nothing of the caller's: $(echo "$env1" | cut -d= -f1 | tr '\n' ' ')"
else fail "QEMU's environment: $env1"; fi
grep -q -- "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny" \
    <(tr '\0' ' ' < "/proc/$q1/cmdline") && ok "-sandbox stays" || fail "no -sandbox"

# ---- what the guest's files look like while it runs ----
own=$(snap "$T/$G1.img")
[ "$own" = "$G1.img $u1:$g1:600:trusted.litevirt.dac,trusted.litevirt.dac_ref" ] &&
    ok "own disk given to uid $u1 (0600), original remembered in trusted.litevirt.*" || fail "own disk: $own"
getfacl -p "$T/shared.img" 2>/dev/null | grep -q "^user:$u1:rw-" || python3 -c "
import os,sys; sys.exit(0 if 'system.posix_acl_access' in os.listxattr('$T/shared.img') else 1)" ||
    fail "no ACL on the shared disk"

# ---- as the guest's QEMU: its uid, its mount namespace ----
as_qemu() { # PID UID GID CMD...
    local pid=$1 u=$2 g=$3; shift 3
    nsenter -t "$pid" -m setpriv --reuid "$u" --regid "$g" --clear-groups "$@" 2>/dev/null
}
g2=$(status_of "$q2" Gid)
as_qemu "$q1" "$u1" "$g1" cat /etc/shadow >/dev/null && fail "QEMU can read /etc/shadow" ||
    ok "QEMU cannot read /etc/shadow"
as_qemu "$q1" "$u1" "$g1" head -c 1 "$T/$G2.img" >/dev/null && fail "QEMU of $G1 reads $G2's disk" ||
    ok "QEMU of $G1 cannot open $G2's disk"
as_qemu "$q1" "$u1" "$g1" head -c 1 "$T/$G2-ro.img" >/dev/null && fail "QEMU of $G1 reads $G2's read-only disk" ||
    ok "QEMU of $G1 cannot open $G2's read-only disk"
as_qemu "$q1" "$u1" "$g1" cat "$LITEVIRT_RUNDIR/$G2/status.json" >/dev/null &&
    fail "QEMU of $G1 reads $G2's status.json" || ok "QEMU of $G1 cannot open $G2's litevirt state"
as_qemu "$q1" "$u1" "$g1" cat "$LITEVIRT_GUESTDIR/$G2.xml" >/dev/null && fail "QEMU of $G1 reads $G2's definition" ||
    ok "QEMU of $G1 cannot open $G2's definition"
as_qemu "$q1" "$u1" "$g1" ls "$LITEVIRT_RUNDIR" | grep -q "$G2" && fail "$G2's state dir visible to $G1's QEMU"
wrote=""
for w in /tmp/lv-secq-$$ "$T/lv-secq-$$" /var/tmp/lv-secq-$$; do
    as_qemu "$q1" "$u1" "$g1" touch "$w" && { wrote="$wrote $w"; rm -f "$w"; }
done
[ -z "$wrote" ] && ok "QEMU cannot write the host (/tmp, /var/tmp, the images' directory)" ||
    fail "QEMU can write$wrote"
# the same commands do work where the guest needs them (the checks can fail)
as_qemu "$q1" "$u1" "$g1" sh -c "printf x | dd of='$T/$G1.img' conv=notrunc status=none" &&
    ok "QEMU can write its own disk" || fail "QEMU cannot write its own disk"
as_qemu "$q1" "$u1" "$g1" head -c 1 "$T/$G1-ro.img" >/dev/null && ok "QEMU can read its read-only disk (ACL)" ||
    fail "QEMU cannot read its read-only disk"
as_qemu "$q1" "$u1" "$g1" sh -c "printf x | dd of='$T/shared.img' conv=notrunc status=none" &&
    ok "QEMU can write the shared disk (ACL)" || fail "QEMU cannot write the shared disk"
as_qemu "$q1" "$u1" "$g1" touch "$LITEVIRT_RUNDIR/$G1/qemu/x" && ok "QEMU can write its own directory" ||
    fail "QEMU cannot write its own directory"
setpriv --reuid "$u1" --regid "$g1" --clear-groups cat /etc/shadow >/dev/null 2>&1 &&
    fail "uid $u1 reads /etc/shadow in the host's namespace"

# ---- every way a guest ends gives its files back ----
"$LVSH" destroy $G1 >/dev/null || fail "destroy $G1"
wait_gone $G1
restored "destroy" "$(echo "$orig" | grep "^$G1")" $(files $G1 | cut -d' ' -f1-2)
snap "$T/shared.img" | grep -q "trusted.litevirt.acl.$u2" && ! snap "$T/shared.img" | grep -q "acl.$u1" &&
    ok "shared disk: $G1's ACL entry gone, $G2's stays while it runs" || fail "shared: $(snap "$T/shared.img")"
"$LVSH" destroy $G2 >/dev/null
wait_gone $G2
restored "last user of the shared disk" "$orig_shared" "$T/shared.img"

before=$(snap $(files $G1))
"$LVSH" start $G1 >/dev/null || fail "start $G1 again"
kill -9 "$(qemu_pid $G1)"
wait_gone $G1
restored "QEMU killed" "$before" $(files $G1)

"$LVSH" start $G1 >/dev/null || fail "start $G1 for reattach"
q=$(qemu_pid $G1)
kill -9 "$(cat "$LITEVIRT_RUNDIR/$G1/supervisor.pid")"
i=0; while [ $i -lt 50 ] && "$LVSH" domstate $G1 >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
"$LVSH" start $G1 >/dev/null 2>&1
[ "$(qemu_pid $G1)" = "$q" ] && ok "reattached to QEMU $q" || fail "no reattach: $(qemu_pid $G1) != $q"
[ "$(status_of "$q" Uid)" = "$(snap "$T/$G1.img" | cut -d' ' -f2 | cut -d: -f1)" ] ||
    fail "after reattach the disk is not QEMU's: $(snap "$T/$G1.img")"
"$LVSH" destroy $G1 >/dev/null
wait_gone $G1
restored "supervisor SIGKILL + reattach + destroy" "$before" $(files $G1)

"$LVSH" start $G1 >/dev/null || fail "start $G1 for an unsupervised destroy"
q=$(qemu_pid $G1) sp=$(cat "$LITEVIRT_RUNDIR/$G1/supervisor.pid")
kill -9 "$sp"
i=0; while [ $i -lt 50 ] && [ -d "/proc/$sp" ]; do sleep 0.1; i=$((i + 1)); done
"$LVSH" destroy $G1 >/dev/null || fail "destroy of $G1 whose supervisor died"
wait_gone $G1
# QEMU (reparented when its supervisor died) may linger as a zombie
i=0; while [ $i -lt 50 ] && [ -d "/proc/$q" ] && ! grep -q '^State:.*Z' "/proc/$q/status" 2>/dev/null; do
    sleep 0.1; i=$((i + 1))
done
[ -d "/proc/$q" ] && ! grep -q '^State:.*Z' "/proc/$q/status" 2>/dev/null &&
    fail "QEMU $q survives the destroy of its unsupervised guest: $(grep ^State: "/proc/$q/status")"
restored "supervisor SIGKILL + destroy (no start between)" "$before" $(files $G1)

"$LVSH" start $G1 >/dev/null || fail "start $G1 for a double kill"
q=$(qemu_pid $G1)
kill -9 "$(cat "$LITEVIRT_RUNDIR/$G1/supervisor.pid")" "$q"
i=0; while [ $i -lt 50 ] && [ -d "/proc/$q" ]; do sleep 0.1; i=$((i + 1)); done
"$LVSH" start $G1 >/dev/null || fail "start after supervisor and QEMU were killed"
"$LVSH" destroy $G1 >/dev/null
wait_gone $G1
restored "supervisor and QEMU killed, started and destroyed again" "$before" $(files $G1)

G3=${P}c
define $G3 "" qcow2 # a raw image said to be qcow2: QEMU refuses it
before=$(snap $(files $G3))
out=$("$LVSH" start $G3 2>&1) && fail "start of a bad image succeeded"
[[ "$out" == *"qcow2"* ]] && ok "QEMU refused the image: ${out##*QEMU failed to start: }" || fail "bad image: $out"
wait_gone $G3
restored "failed start" "$before" $(files $G3)

G4=${P}d
define $G4 kernel
before=$(snap $(files $G4))
"$LVSH" start $G4 >/dev/null || fail "start $G4"
timeout 150 "$LVSH" console $G4 < /dev/null > "$T/con4" 2>&1 &
cpid=$!
# counting: its acpid runs (it starts before the first count)
if wait_for "$T/con4" "LV-COUNTER 2" 90; then
    "$LVSH" shutdown $G4 >/dev/null || fail "shutdown $G4"
    i=0; while [ $i -lt 600 ] && [ -e "$LITEVIRT_RUNDIR/$G4" ]; do sleep 0.1; i=$((i + 1)); done
    [ ! -e "$LITEVIRT_RUNDIR/$G4" ] && grep -q "shutoff (shutdown)" "$LITEVIRT_LOGDIR/$G4.log" &&
        ok "guest shut down by ACPI" || fail "$G4 did not shut down: $(grep -- '-> shutoff' "$LITEVIRT_LOGDIR/$G4.log")"
    restored "ACPI shutdown" "$before" $(files $G4)
else fail "$G4 did not boot: $(tail -c 300 "$T/con4")"; fi
kill $cpid 2>/dev/null; wait $cpid 2>/dev/null

# ---- a file system without xattrs (ramfs): the original owner and mode
# are kept in the label record instead, and given back from there ----
G5=${P}e
if mkdir "$T/ram" && mount -t ramfs -o mode=0711 ramfs "$T/ram"; then
    D=$T/ram define $G5
    before=$(D=$T/ram; snap $(files $G5))
    "$LVSH" start $G5 >/dev/null || fail "start $G5 (disk on ramfs)"
    u5=$(status_of "$(qemu_pid $G5)" Uid)
    own=$(snap "$T/ram/$G5.img")
    [ "$own" = "$G5.img $u5:$u5:600:" ] && grep -q '"original":"0:0:640"' "$LITEVIRT_RUNDIR/qemu-labels/$G5.json" &&
        ok "no xattrs (ramfs): disk given to uid $u5, its original 0:0:640 in the label record" ||
        fail "ramfs disk: $own, record: $(cat "$LITEVIRT_RUNDIR/qemu-labels/$G5.json")"
    "$LVSH" destroy $G5 >/dev/null
    wait_gone $G5
    restored "no xattrs (ramfs), destroyed" "$before" $(D=$T/ram; files $G5)
else
    fail "cannot mount a ramfs"
fi

# ---- a range of one uid: the second guest is refused, nothing taken ----
# (a uid of this run's own: other runs of this test on the machine use theirs)
QU=$((450000 + $$ % 50000))
cp "$LITEVIRT_CONFDIR/host.conf" "$T/host.conf.saved"
printf 'qemu_uid_min = %s\nqemu_uid_max = %s\n' $QU $QU >> "$LITEVIRT_CONFDIR/host.conf"
"$LVSH" start $G1 >/dev/null || fail "start $G1 with a one-uid range"
[ "$(status_of "$(qemu_pid $G1)" Uid)" = $QU ] && ok "host.conf's range is used (uid $QU)" ||
    fail "uid with range $QU-$QU: $(status_of "$(qemu_pid $G1)" Uid)"
before=$(snap $(files $G2))
out=$("$LVSH" start $G2 2>&1) && fail "second guest started in a one-uid range"
[[ "$out" == *"no free QEMU uid in the range $QU-$QU"* ]] && ok "full uid range: ${out##*error: }" ||
    fail "full uid range: $out"
restored "refused for want of a uid" "$before" $(files $G2)
"$LVSH" destroy $G1 >/dev/null
wait_gone $G1
# a process with the uid but no lease (a QEMU whose supervisor died, or one
# of another litevirt instance): the uid is not taken either
setpriv --reuid $QU --regid $QU --clear-groups sleep 300 &
STRAY=$!
for _w in $(seq 100); do [ "$(status_of $STRAY Uid)" = $QU ] && break; sleep 0.1; done
before=$(snap $(files $G1))
out=$("$LVSH" start $G1 2>&1) && fail "guest started with uid $QU used by pid $STRAY"
[[ "$out" == *"no free QEMU uid in the range $QU-$QU"* ]] &&
    ok "uid used by a process without a lease is not taken: ${out##*error: }" ||
    fail "uid used by a process: $out"
restored "refused for a uid in use" "$before" $(files $G1)
kill $STRAY
wait $STRAY 2>/dev/null
STRAY=""
"$LVSH" start $G1 >/dev/null && ok "the uid is taken once its process is gone" ||
    fail "start $G1 after the process with its uid ended"
"$LVSH" destroy $G1 >/dev/null
wait_gone $G1
cp "$T/host.conf.saved" "$LITEVIRT_CONFDIR/host.conf"

# ---- qemu_user: libvirt's model, one user for all ----
if getent passwd nobody >/dev/null; then
    echo "qemu_user = nobody" >> "$LITEVIRT_CONFDIR/host.conf"
    before=$(snap $(files $G1))
    "$LVSH" start $G1 >/dev/null || fail "start $G1 as nobody"
    q=$(qemu_pid $G1)
    [ "$(status_of "$q" Uid)" = "$(id -u nobody)" ] && ok "qemu_user = nobody: QEMU runs as $(id -u nobody)" ||
        fail "qemu_user: uid $(status_of "$q" Uid)"
    "$LVSH" destroy $G1 >/dev/null
    wait_gone $G1
    restored "qemu_user guest destroyed" "$before" $(files $G1)
fi

[ $FAILS = 0 ] && echo "all passed"
[ $FAILS = 0 ]
