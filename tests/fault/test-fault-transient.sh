#!/bin/sh
# Never lose a guest (issue 21) or its leases (issue 14, point 1), on one
# host. A running QEMU guest that loses its stored definition — undefined
# while it runs (as virsh: it goes on, transient), the file deleted, the
# file made unreadable — and whose supervisor is then SIGKILLed is still
# listed (`list --all`: running (unsupervised)), shown (dumpxml, dominfo,
# domstate), reattached by `lvsh start` (the same QEMU, the definition it
# runs with, setmem's change kept) and destroyed with nothing left; a
# transient one then disappears from `list --all`. Its disk lease is held
# by QEMU itself: while no supervisor lives a second guest on the disk is
# refused, and the reattached supervisor holds the lease again (record
# names it). Containers: an LXC guest undefined while it runs keeps
# running, is listed until destroyed, then is gone. The migration cases
# are in tests/migration/test-migrate.sh.
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 missing"; exit 77; }

HOST=5a5e0c1d-21a4-4e7b-9c14-0d2f4a6b8c21
printf 'host_uuid = %s\nlockspace_dir = %s\n' "$HOST" "$T/lockspace" >"$T/conf/host.conf"
truncate -s 1M "$T/disk.img"
# the disk's lease file: the one whose owner record names the disk (its
# name is the hash of the storage's identity, locking/lock.h)
lease() { local f; f=$(grep -l "^path=$T/disk.img\$" "$T"/lockspace/*.owner 2>/dev/null | head -n1); echo "${f%.owner}"; }

vm_xml() { # NAME: a VM writing $T/disk.img (no OS: QEMU alone is enough)
    cat >"$T/$1.xml" <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$T/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <memballoon model='virtio'/>
  </devices>
</domain>
XML
}
qemu_pid() { sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$T/run/$1/qemu.json" 2>/dev/null | head -n1; }
sup_pid() { cat "$T/run/$1/supervisor.pid" 2>/dev/null; }
# PID has the lease file open: the kernel keeps the lease's lock for as
# long as one process does.
holds_lease() { local l; l=$(lease); [ -n "$l" ] && ls -l "/proc/$1/fd" 2>/dev/null | grep -q -- "-> $l\$"; }
record() { sed -n "s/^$1=//p" "$(lease).owner" 2>/dev/null; }
listed() { # NAME ID STATE: `lvsh list --all` has exactly that row
    "$LVSH" list --all | grep -q "^ $2 *$1 *$3\$"
}

vm_xml "$P-other"
"$LVSH" define "$T/$P-other.xml" >/dev/null || fail "define $P-other"

# transient_case WHAT HOW PERSISTENT: HOW (shell code, $G the guest) takes
# the stored definition away while the guest runs.
transient_case() {
    G=$P-$1
    vm_xml "$G"
    "$LVSH" define "$T/$G.xml" >/dev/null || fail "$1: define"
    "$LVSH" start "$G" >/dev/null 2>&1 || fail "$1: start"
    qpid=$(qemu_pid "$G") spid=$(sup_pid "$G")
    [ -n "$qpid" ] && bg_pids="$bg_pids $qpid"
    holds_lease "$qpid" && ok "$1: QEMU $qpid holds the disk lease itself" ||
        fail "$1: QEMU does not hold $(lease): $(ls -l "/proc/$qpid/fd" 2>&1 | tail -n +2)"
    "$LVSH" setmem "$G" 24M >/dev/null 2>&1 || fail "$1: setmem"
    eval "$2"
    listed "$G" "$spid" running && ok "$1: still listed while it runs" ||
        fail "$1: list --all: $("$LVSH" list --all 2>&1)"

    kill -9 "$spid"
    wait_for "! alive $spid" || fail "$1: supervisor $spid survives SIGKILL"
    alive "$qpid" || fail "$1: QEMU died with its supervisor"
    listed "$G" "$qpid" "running (unsupervised)" && ok "$1: list --all: running (unsupervised)" ||
        fail "$1: list --all after SIGKILL: $("$LVSH" list --all 2>&1)"
    st=$("$LVSH" domstate --reason "$G" 2>&1)
    [ "$st" = "running (unsupervised)" ] || fail "$1: domstate --reason: $st"
    info=$("$LVSH" dominfo "$G" 2>&1)
    echo "$info" | grep -q "^Persistent: *$3\$" && echo "$info" | grep -q "^Id: *$qpid\$" &&
        ok "$1: dominfo: id $qpid, persistent $3" || fail "$1: dominfo: $info"
    xml=$("$LVSH" dumpxml "$G" 2>&1)
    echo "$xml" | grep -q "<name>$G</name>" && echo "$xml" | grep -q "<currentMemory unit='KiB'>24576<" &&
        ok "$1: dumpxml: the running definition (setmem's 24 MiB)" || fail "$1: dumpxml: $xml"
    out=$("$LVSH" start "$P-other" 2>&1) && fail "$1: a second guest on the disk started"
    echo "$out" | grep -q "disk '$T/disk.img' is in use by guest '$G' on host $HOST" &&
        ok "$1: second guest on the disk refused while no supervisor lives" || fail "$1: second guest: $out"

    out=$("$LVSH" start "$G" 2>&1) && ok "$1: lvsh start reattaches" || fail "$1: start: $out"
    spid=$(sup_pid "$G")
    [ "$(qemu_pid "$G")" = "$qpid" ] || fail "$1: not the same QEMU after the reattach"
    listed "$G" "$spid" running || fail "$1: list --all after the reattach: $("$LVSH" list --all 2>&1)"
    [ "$(record pid)" = "$spid" ] && [ "$(record state)" = held ] && holds_lease "$spid" &&
        holds_lease "$qpid" && ok "$1: the new supervisor holds the lease (record pid $spid)" ||
        fail "$1: lease after the reattach: $(cat "$(lease).owner")"
    grep -q "holding 1 disk lease(s) in $T/lockspace (1 kept by process $qpid meanwhile)" "$T/log/$G.log" ||
        fail "$1: the reattach did not take the lease from QEMU: $(grep 'disk lease' "$T/log/$G.log" | tail -n1)"
    "$LVSH" dumpxml "$G" 2>&1 | grep -q "<currentMemory unit='KiB'>24576<" ||
        fail "$1: the reattached supervisor lost setmem's change"

    # killed again: destroy reattaches, ends it, leaves nothing
    kill -9 "$spid"
    wait_for "! alive $spid" || fail "$1: supervisor $spid survives SIGKILL"
    out=$("$LVSH" destroy "$G" 2>&1) && ok "$1: destroy of the unsupervised guest" || fail "$1: destroy: $out"
    wait_for "! alive $qpid" || fail "$1: QEMU $qpid outlived destroy"
    wait_for "[ ! -e '$T/run/$G' ]" || fail "$1: state directory left: $(ls -A "$T/run/$G")"
    [ -z "$(cgroup_dirs "$G")" ] || fail "$1: cgroup left: $(cgroup_dirs "$G")"
    [ -z "$(procs_with "guest=$G,")" ] || fail "$1: a QEMU of $G is left"
    [ "$(record state)" = free ] || fail "$1: lease record after destroy: $(cat "$(lease).owner")"
}

transient_case undefined '"$LVSH" undefine "$G" | grep -q "has been undefined" ||
    fail "undefine of a running guest refused"' no
"$LVSH" list --all | grep -q " $G " && fail "undefined: still listed after its end" ||
    ok "undefined: gone from list --all once it ended"
out=$("$LVSH" dumpxml "$G" 2>&1) && fail "undefined: dumpxml after its end: $out"

transient_case deleted 'rm "$T/conf/guests/$G.xml"' no
"$LVSH" list --all | grep -q " $G " && fail "deleted: still listed after its end" ||
    ok "deleted: gone from list --all once it ended"

transient_case unreadable 'echo "<domain" >"$T/conf/guests/$G.xml"' yes
"$LVSH" list --all | grep -q "^ - *$G *shut off\$" && ok "unreadable: shut off once it ended" ||
    fail "unreadable: after its end: $("$LVSH" list --all 2>&1)"

# a transient guest cannot be undefined (libvirt's words)
G=$P-undefined
vm_xml "$G"
"$LVSH" define "$T/$G.xml" >/dev/null && "$LVSH" start "$G" >/dev/null 2>&1 || fail "start $G again"
[ -n "$(qemu_pid "$G")" ] && bg_pids="$bg_pids $(qemu_pid "$G")"
"$LVSH" undefine "$G" >/dev/null 2>&1 || fail "undefine $G"
out=$("$LVSH" undefine "$G" 2>&1) && fail "undefine of a transient guest succeeded"
echo "$out" | grep -q "cannot undefine transient domain" && ok "undefine of a transient guest refused" ||
    fail "undefine transient: $out"
"$LVSH" destroy "$G" >/dev/null 2>&1 || fail "destroy $G"
wait_for "[ ! -e '$T/run/$G' ]" || fail "state of $G left"

# ---- a container undefined while it runs ----
C=$P-ct
define "$C" "sleep 1000"
"$LVSH" start "$C" >/dev/null 2>&1 || fail "lxc: start"
spid=$(sup_pid "$C")
out=$("$LVSH" undefine "$C" 2>&1) && ok "lxc: undefine while it runs" || fail "lxc: undefine: $out"
[ "$("$LVSH" domstate "$C" 2>&1)" = running ] && listed "$C" "$spid" running &&
    ok "lxc: keeps running and listed, transient" || fail "lxc: after undefine: $("$LVSH" list --all 2>&1)"
"$LVSH" dumpxml "$C" 2>&1 | grep -q "lv-mark-$P-$C" && ok "lxc: dumpxml shows its running definition" ||
    fail "lxc: dumpxml: $("$LVSH" dumpxml "$C" 2>&1)"
"$LVSH" dominfo "$C" 2>&1 | grep -q "^Persistent: *no" || fail "lxc: dominfo: $("$LVSH" dominfo "$C" 2>&1)"
out=$("$LVSH" destroy "$C" 2>&1) || fail "lxc: destroy: $out"
wait_for "[ ! -e '$T/run/$C' ]" || fail "lxc: state directory left"
"$LVSH" list --all | grep -q " $C " && fail "lxc: still listed after its end" ||
    ok "lxc: gone from list --all once destroyed"
[ -z "$(cgroup_dirs "$C")" ] || fail "lxc: cgroup left: $(cgroup_dirs "$C")"
[ -z "$(procs_with "lv-mark-$P-$C")" ] || fail "lxc: process left"

finish fault-transient
