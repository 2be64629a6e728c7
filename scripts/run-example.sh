#!/bin/sh
# README command 1: install what is missing, build, and run litevirt's main
# job on the shipped example: define the example guests, start the example
# container under its supervisor, show it running, talk to it, stop it.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

LV_DEPS_EXTRA=" " scripts/install-deps.sh
if [ ! -d build ]; then
    meson setup build >/dev/null
fi
ninja -C build >/dev/null
lvsh="$top/build/lvsh"

# The example container's root filesystem: busybox, built once.
root=/var/lib/litevirt/example/rootfs
if [ ! -x "$root/bin/busybox" ]; then
    echo "== building the example rootfs in $root"
    mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" \
             "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/root"
    cp /bin/busybox "$root/bin/busybox"
    # Applet links to /bin/busybox as the container sees it (busybox
    # --install -s would point them at the host path).
    for a in $(/bin/busybox --list-full); do
        [ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
    done
    echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
    echo "root:x:0:" > "$root/etc/group"
fi

run() { echo "\$ lvsh $*"; "$lvsh" "$@"; }

echo "== defining the example guests"
for f in examples/*.xml; do
    run define "$f"
done
run list --all
run dumpxml example-container

echo "== starting the example container"
run start example-container
run list
run dominfo example-container
echo "\$ lvsh console example-container   # typed: uname -n; ps; then ^] to detach"
( sleep 0.5; printf 'uname -n; ps\n'; sleep 1; printf '\035' ) | "$lvsh" console example-container
echo
run domstate --reason example-container
run destroy example-container
run list --all
