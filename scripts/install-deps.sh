#!/bin/sh
# Install what litevirt needs to build, run and test, on Debian 12, as root.
# Only packages that are missing are installed; apt-get update runs first.
set -eu

BUILD="meson ninja-build pkg-config gcc clang clang-format libclang-rt-14-dev llvm
 libxml2-dev libjson-c-dev libcap-ng-dev libseccomp-dev libnl-3-dev
 libnl-route-3-dev libcmocka-dev help2man"
RUNTIME="busybox-static iproute2 cpio gzip socat util-linux procps kmod dnsmasq-base nftables"
# QEMU guests and Xen tools (no hypervisor: --no-install-recommends);
# debootstrap and systemd-nspawn boot the test system of tests/init;
# the cluster stack runs the OCF agent (tests/cluster). Installing pacemaker
# and corosync must start no daemon on this host: their postinst scripts
# start them through invoke-rc.d, which asks /usr/sbin/policy-rc.d first;
# without one, a temporary one refuses (101) during the install.
TEST="qemu-system-x86 qemu-utils vncsnapshot openssl xen-utils-4.17 libxen-dev dpkg-dev xz-utils
 debootstrap systemd-container s6 pacemaker pacemaker-cli-utils corosync resource-agents
 libxml2-utils crmsh golang-go golang-github-varlink-go-dev"

missing=""
for p in $BUILD $RUNTIME ${LV_DEPS_EXTRA:-$TEST}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\n# litevirt scripts/install-deps.sh: start no daemon\nexit 101\n' > $policy
        chmod 0755 $policy
    fi
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null || { [ -z "$policy" ] || rm -f $policy; exit 1; }
    [ -z "$policy" ] || rm -f $policy
fi

# libvirt 9.0's own test data (the vector tests), into its cache folder, once
# (LV_LIBVIRT_TESTS: another folder; meson's -Dlibvirt_tests must match).
if [ -z "${LV_DEPS_EXTRA+x}" ]; then
    "$(dirname "$0")/fetch-libvirt-tests.sh"
fi

# QEMU's users (docs/security.md, "QEMU"): by default one uid per guest
# from host.conf's qemu_uid_min..qemu_uid_max, which need no passwd entry but
# must not be anybody else's; for `qemu_user = litevirt-qemu` (one user for
# all guests, libvirt's model) the system user is created here.
if ! getent passwd litevirt-qemu >/dev/null; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "litevirt QEMU (qemu_user)" litevirt-qemu
fi
lo=400000 hi=400999
if [ -r /etc/litevirt/host.conf ]; then
    v=$(sed -n 's/^[[:space:]]*qemu_uid_min[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' /etc/litevirt/host.conf)
    [ -n "$v" ] && lo=$v
    v=$(sed -n 's/^[[:space:]]*qemu_uid_max[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' /etc/litevirt/host.conf)
    [ -n "$v" ] && hi=$v
fi
if getent passwd | awk -F: -v lo="$lo" -v hi="$hi" '$3 >= lo && $3 <= hi {f=1} END {exit !f}'; then
    echo "warning: a user has a uid in litevirt's QEMU range $lo-$hi (host.conf qemu_uid_min/max)" >&2
fi
for f in /etc/subuid /etc/subgid; do
    [ -r "$f" ] || continue
    awk -F: -v lo="$lo" -v hi="$hi" '$2 <= hi && $2 + $3 - 1 >= lo {f=1} END {exit !f}' "$f" &&
        echo "warning: $f gives ids in litevirt's QEMU range $lo-$hi (host.conf qemu_uid_min/max)" >&2
done
exit 0
