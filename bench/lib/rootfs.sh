#!/bin/sh
# bench/lib/rootfs.sh DIR: build the busybox-static rootfs every tool runs.
# The payload reports that it ran by writing to the FIFO /mark (created by
# the harness in DIR); /etc/os-release is there because systemd-nspawn
# refuses a directory that does not look like an OS tree.
set -eu
dir=$1
bb=$(command -v busybox)
case "$(file -b "$bb" 2>/dev/null || echo static)" in
*dynamic*) echo "rootfs: $bb is not busybox-static" >&2; exit 1 ;;
esac
mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin etc proc sys dev tmp run root usr/bin usr/lib var
cp "$bb" bin/busybox
for a in sh true sleep echo cat ls mount umount kill ps; do
    ln -sf busybox "bin/$a"
done
printf 'NAME=busybox\nID=busybox\n' > etc/os-release
cp etc/os-release usr/lib/os-release
printf 'root:x:0:0:root:/root:/bin/sh\n' > etc/passwd
printf 'root:x:0:\n' > etc/group
: > etc/machine-id
[ -p mark ] || mkfifo -m 666 mark
# The payloads: lvb-idle reports and stays (start/stop/memory/density),
# lvb-once reports and exits.
printf '#!/bin/sh\necho ok > /mark\nexec /bin/sleep 100000\n' > bin/lvb-idle
printf '#!/bin/sh\necho ok > /mark\n' > bin/lvb-once
chmod 755 bin/lvb-idle bin/lvb-once
