#!/bin/sh
# Install what litevirt needs to build, run and test, on Debian 12, as root.
# Only packages that are missing are installed; apt-get update runs first.
set -eu

BUILD="meson ninja-build pkg-config gcc clang clang-format libclang-rt-14-dev llvm
 libxml2-dev libjson-c-dev libcap-ng-dev libseccomp-dev libnl-3-dev
 libnl-route-3-dev libcmocka-dev help2man"
RUNTIME="busybox-static iproute2 cpio gzip socat util-linux procps kmod dnsmasq-base nftables"
# QEMU guests and Xen tools (no hypervisor: --no-install-recommends);
# debootstrap and systemd-nspawn boot the test system of tests/init.
TEST="qemu-system-x86 qemu-utils vncsnapshot openssl xen-utils-4.17 libxen-dev dpkg-dev xz-utils
 debootstrap systemd-container s6"

missing=""
for p in $BUILD $RUNTIME ${LV_DEPS_EXTRA:-$TEST}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# libvirt 9.0's own test data (the vector tests), into its cache folder, once
# (LV_LIBVIRT_TESTS: another folder; meson's -Dlibvirt_tests must match).
if [ -z "${LV_DEPS_EXTRA+x}" ]; then
    "$(dirname "$0")/fetch-libvirt-tests.sh"
fi
