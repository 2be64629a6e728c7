#!/bin/sh
# Build, once, a minimal Debian 12 root with systemd as its init, for the
# init-system tests (tests/init): debootstrap from the mirror apt is
# configured with, cached outside the build tree so every build dir and
# every worktree shares it.
#   build-root.sh [DIR]   (default $LV_INIT_ROOT or /var/cache/litevirt-tests/init-root)
# The root is only read by the tests: each boot runs on an overlay of it
# (systemd-nspawn --overlay), so a boot never changes the cache.
# Exits 77 when a tool is missing or the mirror cannot be reached.
set -eu

ROOT=${1:-${LV_INIT_ROOT:-/var/cache/litevirt-tests/init-root}}
# v2: systemd-container (machined, machinectl); v3: nftables and
# dnsmasq-base (virtual networks). A root is also one of every earlier
# version (the stamp of each is written), so older trees reuse it.
STAMP="$ROOT/.litevirt-root-v3"
[ -e "$STAMP" ] && exit 0
for t in debootstrap systemd-nspawn; do
    command -v "$t" >/dev/null 2>&1 || { echo "skip: $t missing (apt-get install debootstrap systemd-container)" >&2; exit 77; }
done

# The first deb822 or one-line "deb" source apt uses here.
MIRROR=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1)
[ -n "$MIRROR" ] || MIRROR=$(sed -n 's/^deb  *\(\[[^]]*\]  *\)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1)
MIRROR=${MIRROR:-http://deb.debian.org/debian}

mkdir -p "$(dirname "$ROOT")"
WORK=$(mktemp -d "$ROOT.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
# systemd as init, dbus for systemctl -M, systemd-container for machined,
# nftables and dnsmasq-base for networks, the libraries the
# litevirt binaries link (installed from the build tree by the test).
PKGS=systemd,systemd-sysv,systemd-container,dbus,libsystemd0,libxml2,libjson-c5,libcap-ng0,libseccomp2,libnl-3-200,libnl-route-3-200,busybox-static,iproute2,nftables,dnsmasq-base
if ! debootstrap --variant=minbase --include="$PKGS" bookworm "$WORK/root" "$MIRROR" >"$WORK/log" 2>&1; then
    tail -n 20 "$WORK/log" >&2
    echo "skip: debootstrap from $MIRROR failed" >&2
    exit 77
fi
R="$WORK/root"
# A quiet, fast boot: no getty, no network configuration, no root password
# prompts; the tests drive it with systemd-run -M / nsenter.
echo litevirt-init-test >"$R/etc/hostname"
: >"$R/etc/machine-id"
rm -f "$R/etc/systemd/system/getty.target.wants/"* 2>/dev/null || true
ln -sf /dev/null "$R/etc/systemd/system/console-getty.service"
ln -sf /dev/null "$R/etc/systemd/system/systemd-networkd-wait-online.service"
rm -rf "$R/var/cache/apt/archives/"*.deb "$R/var/lib/apt/lists/"* 2>/dev/null || true
# Swapped by rename: a test booted on the old root keeps its overlay.
OLD=""
[ -e "$ROOT" ] && { OLD="$WORK/old"; mv "$ROOT" "$OLD"; }
mv "$R" "$ROOT"
touch "$ROOT/.litevirt-root-v1" "$ROOT/.litevirt-root-v2" "$STAMP"
