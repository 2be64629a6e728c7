#!/bin/sh
# Build the tiny test guest: a Debian cloud kernel and a busybox-static
# initramfs whose /init prints markers on the serial console.
#   build-guest.sh [OUTDIR]   (default $LV_BUILD_ROOT/test-guest)
# Writes OUTDIR/vmlinuz and OUTDIR/initrd.gz, once (cached); reusable by
# other test suites (migration). Exits 77 when a tool is missing.
#
# The guest's /init:
#   - loads the modules it needs (virtio-pci, virtio-net, virtio-blk,
#     virtio-balloon, the ACPI button + evdev for power-button events),
#   - starts busybox acpid: the ACPI power button (QMP system_powerdown)
#     prints "LV-POWEROFF" and powers off (poweroff -f),
#   - prints "LV-GUEST-BOOTED", then "LV-MAC <ifname> <mac>" per NIC,
#   - with lv.dhcp on the kernel command line, asks for an address on
#     eth0 with busybox udhcpc (as hostname lv-guest) in the background
#     and prints "LV-DHCP <address>" once bound,
#     "LV-DISK <vdX> <sectors>" per virtio disk,
#     "LV-VPORT <name>" per named virtio-serial port (<channel>); the port
#     org.litevirt.echo.0 echoes what the host writes into it,
#   - then "LV-COUNTER <n>" once a second, forever, "LV-BLOCK <devs>"
#     whenever its block devices change (hot-plug), and "LV-NET <links>"
#     whenever its network interfaces do (a new one is brought up and asks
#     for an address with DHCP);
#   - with lv_disk on the kernel command line (storage migration tests):
#     at boot a random mark written at 1 MiB of /dev/vda, then every
#     second "LV-DISK <n>" written to its first sector and, with the page
#     cache dropped (read from the disk, not from memory),
#     "LV-DISK-READ <mark>" read back from 1 MiB;
#   - with lv_dirty=N (post-copy and auto-converge tests, bench/): N MiB of
#     random data copied over and over in memory (tmpfs), "LV-DIRTY N";
#     with lv_dirty=N lv_dirty_rate=R (bench/migrate-dirty.sh) instead
#     tests/qemu/lv-dirty.c (built here with the host's cc, static):
#     N MiB written page by page at R MiB/s, "LV-DIRTY-RATE set=N MiB
#     rate=R MiB/s" and every 5 s the rate achieved; "LV-DIRTY-LOST ..."
#     when a page does not hold what was last written to it (a lost write).
#
#   build-guest.sh --agent [OUTDIR]   (default $LV_BUILD_ROOT/test-guest-agent)
# The same guest with Debian's qemu-guest-agent (qemu-ga and the host's
# copies of its libraries) in its initramfs: /init names the virtio ports
# in /dev/virtio-ports/ (udev's job), brings lo up, gives eth0 192.0.2.15/24,
# sets the host name lvguest and starts qemu-ga on org.qemu.guest_agent.0
# ("LV-AGENT-STARTED"), after mounting an ext4 /dev/vda on /mnt when there
# is one ("LV-AGENT-MOUNTED vda"); its guest-shutdown (/sbin/shutdown) prints
# "LV-AGENT-SHUTDOWN" and powers off; guest-set-user-password's chpasswd
# prints "LV-CHPASSWD [-e] USER:PASSWORD"; guest-set-time's hwclock prints
# "LV-HWCLOCK -w|-s". /etc/os-release says
# ID=litevirt-test.
set -eu

AGENT=
if [ "${1:-}" = --agent ]; then
    AGENT=1
    shift
fi
OUT=${1:-${LV_BUILD_ROOT:-.}/test-guest${AGENT:+-agent}}
# v2: lv.dhcp, v3: lv_disk, v4: lv_dirty, v5: virtio-serial ports,
# v6: "LV-DISK vdX sectors", v7: LV-BLOCK, v8: lv-dirty, v9: LV-NET, v10: LV-DIRTY-LOST
# (a guest built before is built again);
# the agent guest's own marker: -agent3 (ext4 disk, chpasswd), -agent4
# (hwclock)
MARK=.v10${AGENT:+-agent4}
if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.gz" ] && [ -e "$OUT/$MARK" ]; then
    exit 0
fi
for t in apt-get apt-cache dpkg cpio gzip depmod ${CC:-cc} ${AGENT:+ldd}; do
    command -v "$t" >/dev/null 2>&1 || { echo "skip: $t missing" >&2; exit 77; }
done
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ! file -L "$BUSYBOX" 2>/dev/null | grep -q static; then
    BUSYBOX=/bin/busybox
fi
[ -x "$BUSYBOX" ] || { echo "skip: busybox-static missing" >&2; exit 77; }

mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

PKG=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
[ -n "$PKG" ] || { echo "skip: cannot find the cloud kernel package" >&2; exit 77; }
(cd "$WORK" && apt-get download "$PKG" >/dev/null 2>&1) ||
    { echo "skip: apt-get download $PKG failed" >&2; exit 77; }
dpkg -x "$WORK"/"$PKG"_*.deb "$WORK/kernel"
KVER=${PKG#linux-image-}
MODDIR="$WORK/kernel/lib/modules/$KVER"
# the package carries no modules.dep (made at install time)
depmod -b "$WORK/kernel" "$KVER" || { echo "skip: depmod failed" >&2; exit 77; }

ROOT="$WORK/root"
mkdir -p "$ROOT/bin" "$ROOT/lib/modules" "$ROOT/etc/acpi/PWRF" "$ROOT/proc" "$ROOT/sys" \
         "$ROOT/dev" "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
${CC:-cc} -static -O2 -o "$ROOT/bin/lv-dirty" "$(dirname "$0")/lv-dirty.c" ||
    { echo "skip: cannot link tests/qemu/lv-dirty.c statically" >&2; exit 77; }

# modules in dependency order (modules.dep: "mod.ko: dep1.ko dep2.ko")
LOAD=""
add_module() {
    local m deps d
    m=$(sed -n "s|^\\(kernel/.*/$1\\.ko\\):.*|\\1|p" "$MODDIR/modules.dep" | head -n1)
    [ -n "$m" ] || return 0
    deps=$(sed -n "s|^$m: *||p" "$MODDIR/modules.dep")
    for d in $deps; do
        add_module "$(basename "$d" .ko)"
    done
    case " $LOAD " in *" $(basename "$m") "*) return 0;; esac
    cp "$MODDIR/$m" "$ROOT/lib/modules/"
    LOAD="$LOAD $(basename "$m")"
}
for m in virtio_pci virtio_net virtio_blk virtio_balloon virtio_console button evdev; do
    add_module "$m"
done

cat > "$ROOT/etc/acpi/PWRF/00000080" <<'EOS'
#!/bin/busybox sh
echo "LV-POWEROFF" > /dev/console
/bin/busybox poweroff -f
EOS
chmod +x "$ROOT/etc/acpi/PWRF/00000080"

cat > "$ROOT/bin/lv-dhcp.sh" <<'EOS'
#!/bin/busybox sh
# udhcpc's script: the address, and a line on the console
case "$1" in
bound|renew)
    ip addr add "$ip/$mask" dev "$interface"
    echo "LV-DHCP $ip" > /dev/console
    ;;
esac
exit 0
EOS
chmod +x "$ROOT/bin/lv-dhcp.sh"
AGENT_INIT=
if [ -n "$AGENT" ]; then
    (cd "$WORK" && apt-get download qemu-guest-agent >/dev/null 2>&1) ||
        { echo "skip: apt-get download qemu-guest-agent failed" >&2; exit 77; }
    dpkg -x "$WORK"/qemu-guest-agent_*.deb "$WORK/qga"
    mkdir -p "$ROOT/sbin" "$ROOT/etc" "$ROOT/run" "$ROOT/var/run" "$ROOT/var/lib"
    cp "$WORK/qga/usr/sbin/qemu-ga" "$ROOT/sbin/qemu-ga"
    # its libraries (and the loader) from the host, at the same paths
    for lib in $(ldd "$ROOT/sbin/qemu-ga" | sed -n 's|.*=> \(/[^ ]*\).*|\1|p; s|^[[:space:]]*\(/[^ ]*\) .*|\1|p'); do
        mkdir -p "$ROOT$(dirname "$lib")"
        cp -L "$lib" "$ROOT$lib"
    done
    printf 'ID=litevirt-test\nNAME="litevirt test guest"\nVERSION_ID=1\n' > "$ROOT/etc/os-release"
    cat > "$ROOT/sbin/shutdown" <<'EOS'
#!/bin/busybox sh
echo "LV-AGENT-SHUTDOWN $*" > /dev/console
/bin/busybox poweroff -f
EOS
    chmod +x "$ROOT/sbin/shutdown"
    # busybox-static has no chpasswd: what guest-set-user-password gives it
    # (options, "user:password" on stdin) goes to the console
    cat > "$ROOT/bin/chpasswd" <<'EOS'
#!/bin/busybox sh
read -r l
echo "LV-CHPASSWD $* $l" > /dev/console
EOS
    chmod +x "$ROOT/bin/chpasswd"
    # guest-set-time runs /sbin/hwclock (-w after a time was set, -s to take
    # the hardware clock's): busybox's, said on the console
    cat > "$ROOT/sbin/hwclock" <<'EOS'
#!/bin/busybox sh
echo "LV-HWCLOCK $*" > /dev/console
exec /bin/busybox hwclock "$@"
EOS
    chmod +x "$ROOT/sbin/hwclock"
    AGENT_INIT='hostname lvguest
ip link set lo up
[ -e /sys/class/net/eth0 ] && ip addr add 192.0.2.15/24 dev eth0 && ip link set eth0 up
mkdir -p /dev/virtio-ports
for p in /sys/class/virtio-ports/*; do
    [ -e "$p/name" ] && ln -s "../${p##*/}" "/dev/virtio-ports/$(cat "$p/name")"
done
# a disk with a filesystem (ext4): mounted on /mnt, for fsinfo and fsfreeze
[ -b /dev/vda ] && mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && echo "LV-AGENT-MOUNTED vda"
if [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ]; then
    /sbin/qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -t /var/lib 2>/tmp/qga.log &
    echo "LV-AGENT-STARTED"
fi'
fi

cat > "$ROOT/init" <<EOS
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $LOAD; do insmod /lib/modules/\$m 2>/dev/null; done
acpid -f -c /etc/acpi -l /tmp/acpid.log &
echo "LV-GUEST-BOOTED"
$AGENT_INIT
for n in /sys/class/net/*; do
    [ "\${n##*/}" = lo ] || echo "LV-MAC \${n##*/} \$(cat \$n/address)"
done
if grep -qw lv.dhcp /proc/cmdline; then
    ip link set eth0 up
    udhcpc -i eth0 -s /bin/lv-dhcp.sh -x hostname:lv-guest -q -n -t 30 -T 3 >/tmp/udhcpc.log 2>&1 &
fi
disk=
case " \$(cat /proc/cmdline) " in *" lv_disk "*) disk=/dev/vda ;; esac
if [ -n "\$disk" ]; then
    mark=\$(cat /proc/sys/kernel/random/uuid)
    echo "\$mark" | dd of=\$disk bs=512 seek=2048 count=1 conv=sync,fsync 2>/dev/null
    echo "LV-DISK-MARK \$mark"
fi
dirty=\$(sed -n 's/.*lv_dirty=\([0-9]*\).*/\1/p' /proc/cmdline)
rate=\$(sed -n 's/.*lv_dirty_rate=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "\$dirty" ] && [ -n "\$rate" ]; then
    /bin/lv-dirty "\$dirty" "\$rate" &
    echo "LV-DIRTY \$dirty"
elif [ -n "\$dirty" ]; then
    dd if=/dev/urandom of=/tmp/dirty-src bs=1M count=\$dirty 2>/dev/null
    (while true; do cp /tmp/dirty-src /tmp/dirty-dst; done) &
    echo "LV-DIRTY \$dirty"
fi
for b in /sys/block/vd*; do
    [ -e "\$b/size" ] && echo "LV-DISK \${b##*/} \$(cat \$b/size)"
done
for p in /sys/class/virtio-ports/*; do
    [ -e "\$p/name" ] || continue
    n=\$(cat "\$p/name")
    # one open (read-write): a virtio port is opened once at a time;
    # read/echo, not cat (busybox's cat tries sendfile); a read gives
    # end-of-file while nothing is connected on the host side: again
    [ "\$n" = org.litevirt.echo.0 ] &&
        while true; do
            while read -r l; do echo "\$l"; done
            sleep 1
        done <>"/dev/\${p##*/}" >&0 &
    echo "LV-VPORT \$n"
done
i=0
blocks=
nets=\$(ls /sys/class/net | tr '\\n' ' ')
while true; do
    i=\$((i + 1))
    echo "LV-COUNTER \$i"
    if [ -n "\$disk" ]; then
        echo "LV-DISK \$i" | dd of=\$disk bs=512 count=1 conv=sync,fsync 2>/dev/null
        echo 3 > /proc/sys/vm/drop_caches
        echo "LV-DISK-READ \$(dd if=\$disk bs=512 skip=2048 count=1 2>/dev/null | tr -d '\\000')"
    fi
    b=\$(ls /sys/block | tr '\\n' ' ')
    [ "\$b" = "\$blocks" ] || echo "LV-BLOCK \$b"
    blocks=\$b
    # interfaces plugged in later: listed, brought up, DHCP asked for on them
    n=\$(ls /sys/class/net | tr '\\n' ' ')
    if [ "\$n" != "\$nets" ]; then
        echo "LV-NET \$n"
        for l in \$n; do
            case " \$nets " in *" \$l "*) continue ;; esac
            ip link set "\$l" up
            udhcpc -i "\$l" -s /bin/lv-dhcp.sh -q -n -t 60 -T 1 >/dev/null 2>&1 &
        done
    fi
    nets=\$n
    sleep 1
done
EOS
chmod +x "$ROOT/init"

(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -9) > "$WORK/initrd.gz"
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
mv "$WORK/initrd.gz" "$OUT/initrd.gz"
mv "$WORK/vmlinuz" "$OUT/vmlinuz"
touch "$OUT/$MARK"
echo "$KVER" > "$OUT/kernel-version"
