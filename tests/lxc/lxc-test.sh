#!/bin/bash
# Integration tests of the LXC driver and cgroups: real namespaces, mounts
# and cgroups, as root. One case per invocation: lxc-test.sh CASE.
# Containers run through tests/lxc/lxc-run (the real driver, no core) with
# a busybox-static root filesystem built in a temporary directory; the
# checks are made from inside the container (its console output) and
# from the host (cgroup files, /proc), and every case ends by checking
# that nothing is left behind: no process, cgroup or mount.
set -u

CASE=${1:?usage: lxc-test.sh CASE}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 ||
        { echo "SKIP: needs busybox-static ($BUSYBOX, statically linked)"; exit 77; }
: "${LXC_RUN:?}" "${LXC_PROBE:?}"
grep -q cgroup /proc/filesystems || { echo "SKIP: no cgroups"; exit 77; }

TMP=$(mktemp -d /tmp/lv-lxc-test.XXXXXX)
chmod 755 "$TMP" # the root of a user namespace (uid 100000) must reach the rootfs
ROOT=$TMP/root
OUT=$TMP/out
NAME=lvt-$CASE-$$
RUN_PID=
FAILED=0

cleanup() {
        exec 3>&- 2>/dev/null
        if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
                kill -9 "$RUN_PID" 2>/dev/null
                wait "$RUN_PID" 2>/dev/null
        fi
        # Safety net: our own guest cgroups only (by name), emptied first.
        for d in $(find /sys/fs/cgroup -maxdepth 6 -type d -name "litevirt-$NAME*" 2>/dev/null); do
                [ -f "$d/cgroup.kill" ] && echo 1 > "$d/cgroup.kill" 2>/dev/null
                for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        done
        sleep 0.2
        for d in $(find /sys/fs/cgroup -maxdepth 6 -type d -name "litevirt-$NAME*" 2>/dev/null); do
                find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        for d in $(find /sys/fs/cgroup/unified -maxdepth 4 -type d -name "lvt-leaf-$$" 2>/dev/null); do
                rmdir "$d/litevirt-supervisor" "$d" 2>/dev/null
        done
        rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; FAILED=1; }
check() { # check DESCRIPTION COMMAND...
        local what=$1; shift
        if "$@"; then echo "ok: $what"; else fail "$what"; fi
}
die() { echo "FAIL: $*"; [ -f "$TMP/log" ] && { echo "--- log"; tr -d '\r' < "$TMP/log"; echo "--- err"; cat "$TMP/err"; }; exit 1; }

build_rootfs() {
        mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,home/alice,ro,out} "$OUT"
        chmod 777 "$OUT"
        cp "$BUSYBOX" "$ROOT/bin/busybox"
        for a in $("$BUSYBOX" --list-full); do
                [ -e "$ROOT/$a" ] || ln -s /bin/busybox "$ROOT/$a"
        done
        cp "$LXC_PROBE" "$ROOT/bin/lxc-probe"
        # Malformed lines, as a hostile or broken container may have, are skipped.
        printf 'garbage\nalice:x:notanumber:1::/:/bin/sh\n:::::::\nroot:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n' > "$ROOT/etc/passwd"
        printf 'staff:x:-5:alice\nroot:x:0:\nstaff:x:50:alice\nalice:x:1000:\n' > "$ROOT/etc/group"
        echo marker > "$ROOT/ro/file"
}

xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }

# write_xml FILE NAME SCRIPT [EXTRA_DOMAIN_XML] [EXTRA_OS_XML] [EXTRA_DEVICES_XML]
# The container's init is /bin/sh -c SCRIPT unless EXTRA_OS_XML has <init>.
write_xml() {
        local file=$1 name=$2 script=$3 extra=${4:-} os=${5:-} devs=${6:-}
        local init="<init>/bin/sh</init><initarg>-c</initarg><initarg>$(printf '%s' "$script" | xml_escape)</initarg>"
        case "$os" in *"<init>"*) init= ;; esac
        cat > "$file" <<EOF
<domain type='lxc'>
  <name>$name</name>
  <memory unit='MiB'>128</memory>
  $extra
  <os>
    <type>exe</type>
    $init
    $os
  </os>
  <devices>
    <filesystem type='mount'>
      <source dir='$ROOT'/>
      <target dir='/'/>
    </filesystem>
    <filesystem type='mount'>
      <source dir='$OUT'/>
      <target dir='/out'/>
    </filesystem>
    <filesystem type='ram'>
      <source usage='8192' units='KiB'/>
      <target dir='/tmp'/>
    </filesystem>
    $devs
  </devices>
</domain>
EOF
}

# start XML: run lxc-run in the background, commands through fd 3.
start() {
        rm -f "$TMP/cmd"; mkfifo "$TMP/cmd"
        "$LXC_RUN" "$1" < "$TMP/cmd" > "$TMP/log" 2> "$TMP/err" &
        RUN_PID=$!
        exec 3> "$TMP/cmd"
        wait_log '^started ' 30 || die "container did not start: $(cat "$TMP/err")"
        INIT_PID=$(awk '/^started /{print $2; exit}' "$TMP/log")
        CG_PATH=$(awk '/^started /{print $3; exit}' "$TMP/log")
}
send() { echo "$1" >&3; }
log_text() { tr -d '\r' < "$TMP/log"; }
# wait_log REGEX [SECONDS]
wait_log() {
        local i n=$(( ${2:-60} * 10 ))
        for ((i = 0; i < n; i++)); do
                log_text | grep -qE "$1" && return 0
                sleep 0.1
        done
        return 1
}
# stop: destroy the container and wait for lxc-run to finish.
stop() {
        send destroy
        finish
}
finish() {
        exec 3>&-
        wait "$RUN_PID"; local rc=$?
        RUN_PID=
        return $rc
}

# Nothing of guest NAME left: no process in its cgroups, no cgroup
# directory, no mount of the test tree in the host's namespace.
assert_clean() {
        local name=${1:-$NAME} left
        left=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "litevirt-$name" 2>/dev/null)
        check "no cgroup left for $name" test -z "$left"
        left=$(grep -l "litevirt-$name\$" /proc/[0-9]*/cgroup 2>/dev/null)
        check "no process left in $name's cgroups" test -z "$left"
        check "no mount of the test tree left" bash -c "! grep -q '$TMP' /proc/self/mountinfo"
        if [ -n "${INIT_PID:-}" ]; then
                check "init $INIT_PID is gone" bash -c "! kill -0 $INIT_PID 2>/dev/null || grep -q '^State:.*Z' /proc/$INIT_PID/status"
        fi
}

cap_bit() { # cap_bit HEX BIT
        echo $(( (0x$1 >> $2) & 1 ))
}

our_cgroup() { # our_cgroup CONTROLLER
        awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup
}
v1_dir() { # v1_dir CONTROLLER: the guest's cgroup directory
        local base=$(our_cgroup "$1"); [ "$base" = / ] && base=
        echo "/sys/fs/cgroup/$1$base/litevirt-$NAME"
}

build_rootfs

case "$CASE" in
basic)
        write_xml "$TMP/c.xml" "$NAME" 'echo "pid=$$"; echo "host=$(hostname)"; echo "exe=$(readlink /proc/1/exe)"; echo "ppid=$PPID"; echo "cg=$(grep memory /proc/self/cgroup)"; echo READY; exec sleep 100000'
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY"
        check "init is PID 1" grep -qx 'pid=1' <(log_text)
        check "hostname is the guest name" grep -q "host=$NAME" <(log_text)
        check "PID 1 runs the init binary" grep -q "exe=/bin/busybox" <(log_text)
        check "init has no parent in its namespace" grep -qx "ppid=0" <(log_text)
        check "cgroup namespace: the guest's cgroup is its root" grep -qx "cg=4:memory:/" <(log_text)
        check "the guest's memory cgroup is below ours" test -d "$(v1_dir memory)"
        check "init runs in the guest's cgroup (host view)" grep -q "litevirt-$NAME\$" /proc/$INIT_PID/cgroup
        for ns in pid mnt uts ipc net cgroup; do
                check "init has its own $ns namespace" test "$(readlink /proc/$INIT_PID/ns/$ns)" != "$(readlink /proc/self/ns/$ns)"
        done
        check "no user namespace without <idmap>" test "$(readlink /proc/$INIT_PID/ns/user)" = "$(readlink /proc/self/ns/user)"
        stop
        check "destroy ends init with SIGKILL" grep -q "ended signal:KILL" <(log_text)
        assert_clean
        ;;
mounts)
        write_xml "$TMP/c.xml" "$NAME" 'cat /proc/self/mountinfo > /out/mountinfo; touch /sys/x 2>/out/sys.err; (echo x > /proc/sys/kernel/domainname) 2>/out/sysctl.err; (echo 77 > /proc/sys/net/ipv4/ip_default_ttl) && echo netok > /out/net; ls -A / > /out/rootls; cat /sys/fs/cgroup/memory/memory.limit_in_bytes > /out/cglimit; cat /sys/fs/cgroup/pids/pids.max > /out/cgpids; (echo 5 > /sys/fs/cgroup/pids/pids.max) 2> /out/cgwrite.err; echo READY; exec sleep 100000'
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY"
        mi=$OUT/mountinfo
        check "root is the rootfs" awk -v r="$ROOT" '$5 == "/" && $4 == r { f = 1 } END { exit !f }' "$mi"
        check "/proc is proc" awk '$5 == "/proc" && $9 == "proc" { f = 1 } END { exit !f }' "$mi"
        check "/sys is sysfs, read-only" awk '$5 == "/sys" && $9 == "sysfs" && $6 ~ /^ro/ { f = 1 } END { exit !f }' "$mi"
        check "/proc/sys is read-only" awk '$5 == "/proc/sys" && $6 ~ /^ro/ { f = 1 } END { exit !f }' "$mi"
        check "/tmp is a tmpfs of 8192k" awk '$5 == "/tmp" && $9 == "tmpfs" && /size=8192k/ { f = 1 } END { exit !f }' "$mi"
        check "/out is the bind mount" awk -v o="$OUT" '$5 == "/out" && $4 == o { f = 1 } END { exit !f }' "$mi"
        check "/dev/pts is a new devpts instance" awk '$5 == "/dev/pts" && $9 == "devpts" && /ptmxmode=666/ { f = 1 } END { exit !f }' "$mi"
        # The old root is gone: every mount point is one the driver made.
        bad=$(awk '{print $5}' "$mi" | grep -vE '^/(|dev(/.*)?|proc(/.*)?|sys|sys/fs/cgroup(/.*)?|tmp|out)$')
        check "no mount of the old root is visible (got: $bad)" test -z "$bad"
        check "writing /sys fails: read-only" grep -q "Read-only file system" "$OUT/sys.err"
        check "writing /proc/sys/kernel fails: read-only" grep -q "Read-only file system" "$OUT/sysctl.err"
        check "/proc/sys/net is the container's, writable" grep -q netok "$OUT/net"
        check "the host's ip_default_ttl is untouched by the container" test "$(cat /proc/sys/net/ipv4/ip_default_ttl)" != 77
        check "/sys/fs/cgroup shows the guest's own memory cgroup" test "$(cat "$OUT/cglimit")" = $((128 << 20))
        check "/sys/fs/cgroup shows the guest's own pids cgroup" test "$(cat "$OUT/cgpids")" = 1024
        check "/sys/fs/cgroup is read-only" grep -q "Read-only file system" "$OUT/cgwrite.err"
        check "no .oldroot or similar left in /" bash -c "! grep -qi old '$OUT/rootls'"
        stop
        assert_clean
        ;;
dev)
        write_xml "$TMP/c.xml" "$NAME" 'ls -A /dev | tr "\n" " " > /out/dev; echo x > /dev/null && echo nullok >> /out/ok; head -c 4 /dev/urandom | wc -c >> /out/ok; readlink /dev/ptmx >> /out/ok; ls -la /dev/fd/ > /dev/null && echo fdok >> /out/ok; mknod /dev/sda b 8 0 2>/out/mknod.err; echo READY; exec sleep 100000'
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY"
        check "/dev holds exactly the minimal set" test "$(cat "$OUT/dev")" = "console fd full null ptmx pts random shm stderr stdin stdout tty urandom zero "
        check "/dev/null writable" grep -q nullok "$OUT/ok"
        check "/dev/urandom readable" grep -qx 4 "$OUT/ok"
        check "/dev/ptmx -> pts/ptmx" grep -qx pts/ptmx "$OUT/ok"
        check "/dev/fd works" grep -q fdok "$OUT/ok"
        check "mknod is refused" grep -q "Operation not permitted" "$OUT/mknod.err"
        stop
        assert_clean
        ;;
devices)
        # Device access is denied by the v1 devices controller and, on the
        # cgroup2 side, by a BPF device program. Open the v1 controller
        # wide from the host: the program alone must still refuse a node
        # outside the minimal set (1:11, /dev/kmsg), and allow /dev/null.
        [ -d /sys/fs/cgroup/unified ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || { echo "SKIP: no cgroup2 tree"; exit 77; }
        mknod "$ROOT/kmsg-test" c 1 11
        mknod "$ROOT/null-test" c 1 3
        write_xml "$TMP/c.xml" "$NAME" 'echo READY; while [ ! -e /out/go ]; do sleep 0.1; done; (exec 3< /kmsg-test) 2> /out/kmsg.err && echo opened > /out/kmsg; (exec 3> /null-test) 2> /out/null.err && echo opened > /out/null; echo DONE; exec sleep 100000' \
                "<features><capabilities policy='allow'/></features>"
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY"
        if [ -d /sys/fs/cgroup/devices ]; then
                echo a > "$(v1_dir devices)/devices.allow" || die "cannot open the v1 devices controller"
                check "v1 controller opened wide (test set-up)" grep -qx "a \*:\* rwm" "$(v1_dir devices)/devices.list"
        fi
        touch "$OUT/go"
        wait_log DONE 30 || die "no DONE"
        check "a device outside the set is refused by the BPF program" grep -q "Operation not permitted" "$OUT/kmsg.err"
        check "a device of the set is allowed" grep -qx opened "$OUT/null"
        stop
        assert_clean
        ;;
unified)
        # A unified (cgroup2-only) host, simulated: the cgroup2 tree mounted
        # alone in a private mount namespace, LITEVIRT_CGROUP_ROOT pointing
        # at it. This host's cgroup2 tree offers no memory controller: an
        # explicit memory limit (<memtune>) is refused by name, leaving
        # nothing behind; <memory> alone (mandatory) degrades with a warning
        # and the guest runs (docs/lxc.md, issue 15).
        [ -d /sys/fs/cgroup/unified ] || { echo "SKIP: not a hybrid host"; exit 77; }
        command -v unshare >/dev/null || { echo "SKIP: no unshare"; exit 77; }
        mkdir "$TMP/cg2"
        write_xml "$TMP/c.xml" "$NAME" 'echo READY; exec sleep 100000' "<memtune><hard_limit unit='MiB'>64</hard_limit></memtune>"
        unshare -m sh -c "mount --make-rprivate / && mount -t cgroup2 none '$TMP/cg2' && LITEVIRT_CGROUP_ROOT='$TMP/cg2' exec '$LXC_RUN' '$TMP/c.xml'" < /dev/null > "$TMP/log" 2> "$TMP/err"; rc=$?
        cat "$TMP/err"
        check "<memtune> refused on a host without the memory controller" test $rc = 1
        check "the missing controller is named" grep -q "<memtune> needs the memory controller" "$TMP/err"
        check "the cgroup was created below ours in the cgroup2 tree (message)" grep -q "cgroup '$TMP/cg2.*/litevirt-$NAME'" "$TMP/err"
        assert_clean
        write_xml "$TMP/c.xml" "$NAME" 'echo READY; exec sleep 100000'
        rm -f "$TMP/cmd"; mkfifo "$TMP/cmd"
        unshare -m sh -c "mount --make-rprivate / && mount -t cgroup2 none '$TMP/cg2' && LITEVIRT_CGROUP_ROOT='$TMP/cg2' exec '$LXC_RUN' '$TMP/c.xml'" < "$TMP/cmd" > "$TMP/log" 2> "$TMP/err" &
        RUN_PID=$!
        exec 3> "$TMP/cmd"
        check "<memory> alone: the guest runs" wait_log READY 30
        check "<memory> alone: not enforced, and said so" grep -q "<memory> of guest '$NAME' is not enforced" "$TMP/err"
        stop
        assert_clean
        # A supervisor that moved itself into its leaf (litevirt-supervisor,
        # see docs/lxc.md) keeps placing guests beside it, not below it.
        own=$(awk -F: '$1 == 0 {print $3}' /proc/self/cgroup); [ "$own" = / ] && own=
        T2=/sys/fs/cgroup/unified$own/lvt-leaf-$$
        mkdir -p "$T2/litevirt-supervisor" || die "cannot create $T2"
        write_xml "$TMP/c.xml" "$NAME" 'echo READY; exec sleep 100000' "<memtune><hard_limit unit='MiB'>64</hard_limit></memtune>"
        unshare -m sh -c "echo \$\$ > '$T2/litevirt-supervisor/cgroup.procs' && mount --make-rprivate / && mount -t cgroup2 none '$TMP/cg2' && LITEVIRT_CGROUP_ROOT='$TMP/cg2' exec '$LXC_RUN' '$TMP/c.xml'" < /dev/null > "$TMP/log" 2> "$TMP/err"
        cat "$TMP/err"
        check "a guest of a moved supervisor goes beside its leaf" grep -q "cgroup '$TMP/cg2$own/lvt-leaf-$$/litevirt-$NAME'" "$TMP/err"
        rmdir "$T2/litevirt-supervisor" "$T2"
        check "test cgroups removed" test ! -e "$T2"
        assert_clean
        ;;
caps)
        # CAP_SYS_MODULE is 16, CAP_SYS_TIME 25, CAP_CHOWN 0, CAP_SYS_ADMIN 21.
        script='grep ^Cap /proc/1/status | tr -d "\t" > /out/caps; echo READY; exec sleep 100000'
        write_xml "$TMP/c.xml" "$NAME" "$script"
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY"
        for set in CapInh CapPrm CapEff CapBnd CapAmb; do
                v=$(sed -n "s/^$set://p" "$OUT/caps")
                check "no CAP_SYS_MODULE in $set ($v)" test "$(cap_bit "$v" 16)" = 0
                check "no CAP_SYS_TIME in $set" test "$(cap_bit "$v" 25)" = 0
        done
        v=$(sed -n 's/^CapEff://p' "$OUT/caps")
        check "CAP_SYS_ADMIN kept by default" test "$(cap_bit "$v" 21)" = 1
        stop
        assert_clean
        # policy='default' with sys_module on keeps it; chown off drops it.
        rm -f "$OUT/caps"
        write_xml "$TMP/c.xml" "$NAME" "$script" "<features><capabilities policy='default'><sys_module state='on'/><chown state='off'/></capabilities></features>"
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY"
        v=$(sed -n 's/^CapBnd://p' "$OUT/caps")
        check "sys_module state='on' is honoured" test "$(cap_bit "$v" 16)" = 1
        check "chown state='off' is honoured" test "$(cap_bit "$v" 0)" = 0
        stop
        # policy='deny' keeps only what is turned on.
        rm -f "$OUT/caps"
        write_xml "$TMP/c.xml" "$NAME" "$script" "<features><capabilities policy='deny'><chown state='on'/></capabilities></features>"
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY"
        check "policy='deny': only chown left in CapEff" grep -qx "CapEff:0000000000000001" "$OUT/caps"
        check "policy='deny': only chown left in CapBnd" grep -qx "CapBnd:0000000000000001" "$OUT/caps"
        stop
        assert_clean
        ;;
seccomp)
        # All capabilities kept, so only the filter can make these EPERM.
        write_xml "$TMP/c.xml" "$NAME" 'lxc-probe syscalls > /out/sys; grep ^Seccomp /proc/1/status > /out/status; echo READY; exec sleep 100000' \
                "<features><capabilities policy='allow'/></features>"
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY"
        cat "$OUT/sys"
        for c in init_module finit_module delete_module kexec_load open_by_handle_at keyctl add_key bpf perf_event_open swapoff; do
                check "$c fails with EPERM" grep -qx "$c EPERM" "$OUT/sys"
        done
        check "an allowed call works (control)" grep -qx "getppid OK" "$OUT/sys"
        check "init runs under a seccomp filter" grep -qx "Seccomp:.2" "$OUT/status"
        stop
        assert_clean
        ;;
env-user)
        write_xml "$TMP/c.xml" "$NAME" 'echo "FOO=$FOO" > /out/env; echo "container=$container" >> /out/env; echo "LIBVIRT_LXC_NAME=$LIBVIRT_LXC_NAME" >> /out/env; echo "LIBVIRT_LXC_UUID=$LIBVIRT_LXC_UUID" >> /out/env; echo "container_uuid=$container_uuid" >> /out/env; echo "HOME=$HOME" >> /out/env; echo "TERM=$TERM" >> /out/env; echo "PATH=$PATH" >> /out/env; lxc-probe ids > /out/ids; grep ^CapEff /proc/self/status > /out/caps; echo READY; exec sleep 100000' "" \
                "<initenv name='FOO'>bar baz</initenv><initenv name='PATH'>/bin:/sbin</initenv><initdir>/home/alice</initdir><inituser>alice</inituser><initgroup>staff</initgroup>"
        chmod 777 "$ROOT/home/alice"
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY"
        check "initenv FOO" grep -qx "FOO=bar baz" "$OUT/env"
        check "container=lxc-libvirt (as libvirt)" grep -qx "container=lxc-libvirt" "$OUT/env"
        check "LIBVIRT_LXC_NAME" grep -qx "LIBVIRT_LXC_NAME=$NAME" "$OUT/env"
        lxc_uuid=$(sed -n 's/^LIBVIRT_LXC_UUID=//p' "$OUT/env")
        check "LIBVIRT_LXC_UUID is a UUID ($lxc_uuid)" grep -qxE "LIBVIRT_LXC_UUID=[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}" "$OUT/env"
        check "container_uuid is the same" grep -qx "container_uuid=$lxc_uuid" "$OUT/env"
        check "HOME from the container's /etc/passwd" grep -qx "HOME=/home/alice" "$OUT/env"
        check "TERM=linux" grep -qx "TERM=linux" "$OUT/env"
        check "initenv overrides the default PATH" grep -qx "PATH=/bin:/sbin" "$OUT/env"
        check "user alice (1000), group staff (50), workdir (got: $(cat "$OUT/ids"))" grep -qx "uid 1000 gid 50 groups 50 cwd /home/alice" "$OUT/ids"
        check "a non-root init has no effective capability" grep -qx "CapEff:	0000000000000000" "$OUT/caps"
        check "host view: init runs as uid 1000" grep -qE "^Uid:\s+1000\s" /proc/$INIT_PID/status
        stop
        assert_clean
        # Numbers need no /etc/passwd entry.
        write_xml "$TMP/c.xml" "$NAME" 'lxc-probe ids > /out/ids2; echo READY; exec sleep 100000' "" "<inituser>4242</inituser><initgroup>4343</initgroup>"
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY"
        check "numeric user/group" grep -qx "uid 4242 gid 4343 groups - cwd /" "$OUT/ids2"
        stop
        # An unknown user is a clear start error.
        write_xml "$TMP/c.xml" "$NAME" 'exec sleep 100000' "" "<inituser>mallory</inituser>"
        "$LXC_RUN" "$TMP/c.xml" > "$TMP/log" 2> "$TMP/err" < /dev/null
        check "unknown user refused" grep -q "<inituser> 'mallory': no such user in the container's /etc/passwd" "$TMP/err"
        assert_clean
        ;;
idmap)
        write_xml "$TMP/c.xml" "$NAME" 'id -u > /out/uid; cat /proc/self/uid_map > /out/map; hostname > /out/host; ls /proc/1 > /dev/null && echo procok > /out/proc; echo READY; exec sleep 100000' \
                "<idmap><uid start='0' target='100000' count='65536'/><gid start='0' target='100000' count='65536'/></idmap>"
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY: $(cat "$TMP/err")"
        check "root inside" grep -qx 0 "$OUT/uid"
        check "the map is the one of <idmap>" grep -qE '^\s*0\s+100000\s+65536$' "$OUT/map"
        check "root inside is uid 100000 outside" grep -qE "^Uid:\s+100000\s+100000\s+100000\s+100000$" /proc/$INIT_PID/status
        check "gid 100000 outside" grep -qE "^Gid:\s+100000\s" /proc/$INIT_PID/status
        check "files written inside are owned by 100000 on the host" test "$(stat -c %u "$OUT/uid")" = 100000
        check "own user namespace" test "$(readlink /proc/$INIT_PID/ns/user)" != "$(readlink /proc/self/ns/user)"
        check "/proc mounted in the user namespace" grep -q procok "$OUT/proc"
        stop
        assert_clean
        ;;
memory)
        write_xml "$TMP/c.xml" "$NAME" 'lxc-probe memhog 512 > /out/hog 2>&1; echo "status=$?" >> /out/hog; echo READY; exec sleep 100000' \
                "<memtune><hard_limit unit='MiB'>32</hard_limit><swap_hard_limit unit='MiB'>32</swap_hard_limit></memtune>"
        start "$TMP/c.xml"
        wait_log READY 120 || die "no READY"
        cat "$OUT/hog"
        check "the hog was killed (SIGKILL: 137)" grep -qx "status=137" "$OUT/hog"
        check "the hog never got its 512 MiB" bash -c "! grep -q 'hog done' '$OUT/hog'"
        check "memory.limit_in_bytes is 32 MiB" test "$(cat "$(v1_dir memory)/memory.limit_in_bytes")" = 33554432
        check "the cgroup's OOM killer acted" test "$(awk '$1 == "oom_kill" {print $2}' "$(v1_dir memory)/memory.oom_control")" -ge 1
        check "init survived the OOM kill" kill -0 "$INIT_PID"
        stop
        assert_clean
        ;;
pids)
        # 1500 forks: past the limit, yet few enough to end quickly without it.
        write_xml "$TMP/c.xml" "$NAME" 'lxc-probe forkbomb 1500 > /out/fork; echo READY; exec sleep 100000' \
                "<memtune><hard_limit unit='MiB'>512</hard_limit></memtune>"
        start "$TMP/c.xml"
        wait_log READY 120 || die "no READY"
        cat "$OUT/fork"
        read -r _ k e < "$OUT/fork"
        check "fork failed with EAGAIN" test "$e" = EAGAIN
        check "held near the default pids.max of 1024 (got $k)" test "$k" -gt 900 -a "$k" -lt 1024
        check "pids.max is 1024" test "$(cat "$(v1_dir pids)/pids.max")" = 1024
        check "the host still forks" true
        stop
        assert_clean
        ;;
freeze)
        write_xml "$TMP/c.xml" "$NAME" 'i=0; while true; do i=$((i+1)); echo $i > /out/counter.new; mv /out/counter.new /out/counter; sleep 0.05; done'
        start "$TMP/c.xml"
        for ((t = 0; t < 300; t++)); do [ "$(cat "$OUT/counter" 2>/dev/null || echo 0)" -ge 3 ] && break; sleep 0.1; done
        check "the counter runs" test "$(cat "$OUT/counter")" -ge 3
        send freeze
        wait_log "command freeze (ok|failed)" 30
        check "freeze succeeded" grep -q "command freeze ok" <(log_text)
        c1=$(cat "$OUT/counter"); sleep 1; c2=$(cat "$OUT/counter")
        check "no progress while frozen ($c1 -> $c2)" test "$c1" = "$c2"
        check "init is frozen (host view)" grep -qE "^State:\s+[SD]" /proc/$INIT_PID/status
        send thaw
        wait_log "command thaw (ok|failed)" 30
        check "thaw succeeded" grep -q "command thaw ok" <(log_text)
        for ((t = 0; t < 300; t++)); do [ "$(cat "$OUT/counter")" -gt "$c2" ] && break; sleep 0.1; done
        check "progress resumes after thaw" test "$(cat "$OUT/counter")" -gt "$c2"
        # Destroy while frozen must work too.
        send freeze
        for ((t = 0; t < 300; t++)); do [ "$(log_text | grep -c 'command freeze ok')" = 2 ] && break; sleep 0.1; done
        check "frozen again" test "$(log_text | grep -c 'command freeze ok')" = 2
        stop
        check "destroy of a frozen container ends it" grep -q "ended signal:KILL" <(log_text)
        assert_clean
        ;;
console)
        write_xml "$TMP/c.xml" "$NAME" 'echo "tty=$(tty)"; echo "Prompt?"; read line; echo "got:$line"; exec sleep 100000'
        start "$TMP/c.xml"
        wait_log "Prompt" 30 || die "no prompt on the console"
        check "stdin/out is the console" grep -qx "tty=/dev/console" <(log_text)
        send "type hello litevirt"
        wait_log "got:hello litevirt" 30
        check "console round trip" grep -qx "got:hello litevirt" <(log_text)
        stop
        assert_clean
        ;;
shutdown|reboot)
        printf '::sysinit:/bin/echo BOOTED\n::respawn:/bin/sleep 100000\n::shutdown:/bin/echo SHUTTING-DOWN\n::ctrlaltdel:/sbin/reboot\n' > "$ROOT/etc/inittab"
        write_xml "$TMP/c.xml" "$NAME" '' "" "<init>/sbin/init</init>"
        start "$TMP/c.xml"
        wait_log BOOTED 30 || die "busybox init did not boot"
        sleep 0.5 # let init install its signal handlers after sysinit
        send "$CASE"
        wait_log "^ended " 60 || die "init did not end"
        check "init ran its shutdown actions" grep -q SHUTTING-DOWN <(log_text)
        if [ "$CASE" = shutdown ]; then
                check "poweroff in the PID namespace: init killed by SIGINT" grep -q "ended signal:INT" <(log_text)
        else
                check "reboot in the PID namespace: init killed by SIGHUP" grep -q "ended signal:HUP" <(log_text)
        fi
        finish
        assert_clean
        ;;
readonly)
        write_xml "$TMP/c.xml" "$NAME" 'touch /newfile 2>/out/root.err; touch /ro/x 2>/out/ro.err; cat /ro/file > /out/ro.read; mount -o remount,rw,bind /ro 2>/out/remount.err; mount -o remount,rw / 2>>/out/remount.err; touch /ro/y 2>/out/ro2.err; touch /newfile2 2>/out/root2.err; echo READY; exec sleep 100000' "" "" \
                "<filesystem type='mount'><source dir='$ROOT/ro'/><target dir='/ro'/><readonly/></filesystem>"
        sed -i "0,/<target dir='\/'\/>/s//<target dir='\/'\/><readonly\/>/" "$TMP/c.xml"
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY"
        check "readonly root" grep -q "Read-only file system" "$OUT/root.err"
        check "readonly bind" grep -q "Read-only file system" "$OUT/ro.err"
        check "readonly bind is readable" grep -qx marker "$OUT/ro.read"
        # root in a privileged container holds CAP_SYS_ADMIN: the seccomp
        # filter keeps it from making them writable again
        check "remounting them read-write fails (EPERM)" test "$(grep -ci "permission denied" "$OUT/remount.err")" = 2
        check "the bind stays read-only" grep -q "Read-only file system" "$OUT/ro2.err"
        check "the root stays read-only" grep -q "Read-only file system" "$OUT/root2.err"
        check "the root's other mounts stay writable (/out)" test -s "$OUT/ro.read"
        stop
        assert_clean
        ;;
bind)
        # <filesystem type='bind'>: a directory of the container's own tree
        # (/ro of the root, and /tmp's tmpfs mounted before it) shown at a
        # second place; read-only with <readonly/>, also against a root that
        # tries to remount it writable (root of its user namespace, holding
        # CAP_SYS_ADMIN there: the seccomp filter refuses the remount). A
        # symlinked source stays inside the container.
        ln -s /ro "$ROOT/rolink"
        script='echo fromtmp > /tmp/t; cat /robind/file > /out/read; cat /tmpbind/t > /out/tmpread; touch /robind/x 2>/out/write.err; mount -o remount,rw,bind /robind 2>/out/remount.err; echo "remount=$?" >> /out/remount.err; touch /robind/y 2>/out/write2.err; touch /rwbind/z && echo rwok > /out/rw; cat /linkbind/file > /out/linkread; grep -E " /(ro|tmp|rw|link)bind " /proc/self/mountinfo > /out/mi; echo READY; exec sleep 100000'
        write_xml "$TMP/c.xml" "$NAME" "$script" \
                "<idmap><uid start='0' target='100000' count='65536'/><gid start='0' target='100000' count='65536'/></idmap>" "" \
                "<filesystem type='bind'><source dir='/ro'/><target dir='/robind'/><readonly/></filesystem>
                 <filesystem type='bind'><source dir='/tmp'/><target dir='/tmpbind'/></filesystem>
                 <filesystem type='bind'><source dir='/home/alice'/><target dir='/rwbind'/></filesystem>
                 <filesystem type='bind'><source dir='/rolink'/><target dir='/linkbind'/><readonly/></filesystem>"
        mkdir "$ROOT"/{robind,tmpbind,rwbind,linkbind} # the mapped root cannot create them in /
        chown -R 100000:100000 "$ROOT/ro" "$ROOT/home/alice" "$OUT"
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY: $(cat "$TMP/err")"
        cat "$OUT/mi" "$OUT/remount.err"
        check "the bind shows the source's files" grep -qx marker "$OUT/read"
        check "a bind of an earlier filesystem (tmpfs /tmp) shows it" grep -qx fromtmp "$OUT/tmpread"
        check "writing a read-only bind fails" grep -q "Read-only file system" "$OUT/write.err"
        check "remounting it read-write fails" grep -q "remount=[1-9]" "$OUT/remount.err"
        check "and it stays read-only after the attempt" grep -q "Read-only file system" "$OUT/write2.err"
        check "nothing was written through it" test ! -e "$ROOT/ro/x" -a ! -e "$ROOT/ro/y"
        check "a bind without <readonly/> is writable" grep -qx rwok "$OUT/rw"
        check "... and writes reach the source directory" test -e "$ROOT/home/alice/z"
        check "a symlinked source is resolved inside the root" grep -qx marker "$OUT/linkread"
        check "/robind is mounted read-only" awk '$5 == "/robind" && $6 ~ /^ro/ { f = 1 } END { exit !f }' "$OUT/mi"
        stop
        assert_clean
        # Refused: a missing source (named, nothing left), a bind as the root.
        write_xml "$TMP/c.xml" "$NAME" 'exec sleep 1000' "" "" "<filesystem type='bind'><source dir='/nonexistent'/><target dir='/data'/></filesystem>"
        "$LXC_RUN" "$TMP/c.xml" > "$TMP/log" 2> "$TMP/err" < /dev/null
        cat "$TMP/err"
        check "a missing bind source fails the start" grep -q "filesystem '/data': bind source '/nonexistent' (in the container): No such file or directory" "$TMP/err"
        assert_clean
        write_xml "$TMP/c.xml" "$NAME" 'exec sleep 1000'
        sed -i "0,/<filesystem type='mount'>/s//<filesystem type='bind'>/" "$TMP/c.xml"
        "$LXC_RUN" "$TMP/c.xml" > "$TMP/log" 2> "$TMP/err" < /dev/null
        cat "$TMP/err"
        check "a bind as the root filesystem is refused" grep -q "root filesystem: type 'bind' shows a directory of the container's own tree" "$TMP/err"
        assert_clean
        ;;
fail-init)
        write_xml "$TMP/c.xml" "$NAME" '' "" "<init>/nonexistent/init</init>"
        "$LXC_RUN" "$TMP/c.xml" > "$TMP/log" 2> "$TMP/err" < /dev/null; rc=$?
        cat "$TMP/err"
        check "start fails" test $rc = 1
        check "the child's error reaches the supervisor" grep -q "error: guest '$NAME': executing init '/nonexistent/init': No such file or directory" "$TMP/err"
        assert_clean
        # A failing mount in the child: named, with errno text.
        write_xml "$TMP/c.xml" "$NAME" 'exec sleep 1000' "" "" "<filesystem type='mount'><source dir='$TMP/missing'/><target dir='/data'/></filesystem>"
        "$LXC_RUN" "$TMP/c.xml" > "$TMP/log" 2> "$TMP/err" < /dev/null; rc=$?
        cat "$TMP/err"
        check "a missing bind source fails the start" grep -q "filesystem '/data': source '$TMP/missing': No such file or directory" "$TMP/err"
        assert_clean
        # A symlink in the container's tree is resolved inside its root:
        # /escape -> /var leads to the root's /var, never to the host's.
        ln -s /var "$ROOT/escape"
        mkdir "$ROOT/var"
        hostvar=/var/lv-lxc-escape-$$
        write_xml "$TMP/c.xml" "$NAME" 'ls /var > /out/var; echo READY; exec sleep 100000' "" "" "<filesystem type='mount'><source dir='$ROOT/ro'/><target dir='/escape/lv-lxc-escape-$$'/></filesystem>"
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY: $(cat "$TMP/err")"
        check "nothing created on the host through the symlink" test ! -e "$hostvar"
        check "the mount point was made inside the root" test -d "$ROOT/var/lv-lxc-escape-$$"
        check "the container sees it at its own /var" grep -qx "lv-lxc-escape-$$" "$OUT/var"
        stop
        rmdir "$hostvar" 2>/dev/null
        assert_clean
        ;;
fail-rootfs)
        write_xml "$TMP/c.xml" "$NAME" 'exec sleep 1000'
        sed -i "s|<source dir='$ROOT'/>|<source dir='$TMP/nope'/>|" "$TMP/c.xml"
        "$LXC_RUN" "$TMP/c.xml" > "$TMP/log" 2> "$TMP/err" < /dev/null; rc=$?
        cat "$TMP/err"
        check "start fails" test $rc = 1
        check "missing root named" grep -q "root filesystem '$TMP/nope': No such file or directory" "$TMP/err"
        assert_clean
        # blkio weight: applied where the host's scheduler has weights,
        # else a clear refusal.
        write_xml "$TMP/c.xml" "$NAME" 'echo READY; exec sleep 100000' "<blkiotune><weight>500</weight></blkiotune>"
        "$LXC_RUN" "$TMP/c.xml" < /dev/null > "$TMP/log" 2> "$TMP/err" &
        RUN_PID=$!
        for ((t = 0; t < 300; t++)); do
                grep -q READY "$TMP/log" 2>/dev/null && break
                kill -0 $RUN_PID 2>/dev/null || break
                sleep 0.1
        done
        if grep -q READY "$TMP/log"; then
                d=$(v1_dir blkio)
                w=$(cat "$d/blkio.weight" 2>/dev/null || cat "$d/blkio.bfq.weight" 2>/dev/null)
                check "blkio weight applied (got '$w')" test "$w" = 500 -o "$w" = "default 500"
                INIT_PID=$(awk '/^started /{print $2; exit}' "$TMP/log")
                kill -9 "$INIT_PID"
                wait $RUN_PID; RUN_PID=
        else
                wait $RUN_PID; RUN_PID=
                cat "$TMP/err"
                check "unsupported blkio weight named" grep -q "<blkiotune><weight> is not supported" "$TMP/err"
        fi
        assert_clean
        ;;
fail-idmap)
        write_xml "$TMP/c.xml" "$NAME" 'exec sleep 1000' "<idmap><uid start='1' target='100000' count='10'/><gid start='0' target='100000' count='10'/></idmap>"
        "$LXC_RUN" "$TMP/c.xml" > "$TMP/log" 2> "$TMP/err" < /dev/null; rc=$?
        cat "$TMP/err"
        check "start fails" test $rc = 1
        check "unmapped root named" grep -qE "(uid 0 of the container is not mapped|idmap uid has no entry for id 0)" "$TMP/err"
        assert_clean
        ;;
supervisor-killed)
        write_xml "$TMP/c.xml" "$NAME" 'sleep 100000 & echo READY; exec sleep 100000'
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY"
        check "a second process runs in the container" test "$(wc -l < "$(v1_dir pids)/cgroup.procs")" -ge 2
        kill -9 "$RUN_PID"; wait "$RUN_PID" 2>/dev/null; RUN_PID=
        for ((t = 0; t < 300; t++)); do kill -0 "$INIT_PID" 2>/dev/null || break; sleep 0.1; done
        check "init died with its supervisor (PDEATHSIG)" bash -c "! kill -0 $INIT_PID 2>/dev/null"
        # (cgroup files report size 0: read them.)
        for ((t = 0; t < 300; t++)); do grep -q . "$(v1_dir pids)/cgroup.procs" || break; sleep 0.1; done
        check "no process of the container survived" bash -c "! grep -q . '$(v1_dir pids)/cgroup.procs'"
        check "the stale cgroup is still there (documented)" test -d "$(v1_dir memory)"
        # The next start of the same guest removes the stale cgroup.
        write_xml "$TMP/c.xml" "$NAME" 'echo READY; exec sleep 100000'
        start "$TMP/c.xml"
        wait_log READY 30 || die "restart after a killed supervisor failed"
        check "restart after a killed supervisor works" true
        stop
        assert_clean
        ;;
cgroup-limits)
        write_xml "$TMP/c.xml" "$NAME" 'cat /proc/self/cgroup > /out/cg; echo READY; exec sleep 100000' \
                "<vcpu cpuset='0'>1</vcpu><cputune><shares>512</shares><period>100000</period><quota>50000</quota></cputune><memtune><hard_limit unit='MiB'>96</hard_limit><soft_limit unit='MiB'>64</soft_limit></memtune>"
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY: $(cat "$TMP/err")"
        check "cpu.shares" test "$(cat "$(v1_dir cpu)/cpu.shares")" = 512
        check "cpu.cfs_quota_us" test "$(cat "$(v1_dir cpu)/cpu.cfs_quota_us")" = 50000
        check "cpu.cfs_period_us" test "$(cat "$(v1_dir cpu)/cpu.cfs_period_us")" = 100000
        check "memory hard limit" test "$(cat "$(v1_dir memory)/memory.limit_in_bytes")" = $((96 << 20))
        check "memory soft limit" test "$(cat "$(v1_dir memory)/memory.soft_limit_in_bytes")" = $((64 << 20))
        check "cpuset.cpus from <vcpu cpuset>" test "$(cat "$(v1_dir cpuset)/cpuset.cpus")" = 0
        check "cpuset.mems inherited" test -n "$(cat "$(v1_dir cpuset)/cpuset.mems")"
        check "devices: only the minimal set" test "$(sort "$(v1_dir devices)/devices.list" | tr '\n' ' ')" = "c 136:* rwm c 137:* rwm c 138:* rwm c 139:* rwm c 140:* rwm c 141:* rwm c 142:* rwm c 143:* rwm c 1:3 rwm c 1:5 rwm c 1:7 rwm c 1:8 rwm c 1:9 rwm c 5:0 rwm c 5:1 rwm c 5:2 rwm "
        check "the guest's memory cgroup is below the supervisor's" test "$CG_PATH" = "$(our_cgroup memory | sed 's|^/$||')/litevirt-$NAME"
        if [ -d /sys/fs/cgroup/unified ]; then
                check "a cgroup2 directory too (hybrid)" test -d "/sys/fs/cgroup/unified$(awk -F: '$1 == 0 {print $3}' /proc/self/cgroup | sed 's|^/$||')/litevirt-$NAME"
        fi
        send stats
        wait_log "^stats " 30
        check "stats: cpu time, memory, pids" grep -qE '^stats .*"cpu.time":[0-9]+.*"balloon.current":[0-9]+.*"pids.current":[0-9]+' <(log_text)
        stop
        assert_clean
        ;;
nested)
        # A container with CAP_SYS_ADMIN mounts its cgroups writable and
        # makes sub-cgroups: destroy still removes everything.
        write_xml "$TMP/c.xml" "$NAME" 'mkdir -p /tmp/m /tmp/u; mount -t cgroup -o memory none /tmp/m 2>/out/err; mkdir /tmp/m/sub; sleep 100000 & (echo $! > /tmp/m/sub/cgroup.procs) 2>>/out/err; mount -t cgroup2 none /tmp/u 2>>/out/err && mkdir /tmp/u/sub2 2>>/out/err; ls /tmp/m > /out/ls; cat /tmp/m/sub/cgroup.procs > /out/procs; echo READY; exec sleep 100000'
        start "$TMP/c.xml"
        wait_log READY 30 || die "no READY"
        check "the container made a sub-cgroup" test -d "$(v1_dir memory)/sub"
        check "with a process in it" grep -q . "$(v1_dir memory)/sub/cgroup.procs"
        stop
        assert_clean
        ;;
loop50)
        write_xml "$TMP/c.xml" "$NAME" 'echo READY; exec sleep 100000'
        for ((n = 1; n <= 50; n++)); do
                start "$TMP/c.xml"
                wait_log READY 30 || die "iteration $n: no READY"
                stop || die "iteration $n: lxc-run failed"
                [ -z "$(find /sys/fs/cgroup -maxdepth 6 -type d -name "litevirt-$NAME" 2>/dev/null)" ] || die "iteration $n: cgroup left"
        done
        echo "ok: 50 starts and destroys"
        assert_clean
        ;;
*)
        echo "unknown case '$CASE'"; exit 2 ;;
esac

if [ $FAILED != 0 ]; then
        echo "--- log"; log_text 2>/dev/null; echo "--- err"; cat "$TMP/err" 2>/dev/null
        exit 1
fi
exit 0
