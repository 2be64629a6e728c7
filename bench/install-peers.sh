#!/bin/sh
# Install the peers the benchmark compares litevirt against (Debian 12
# packages), plus the harness tools. Run as root. Only missing packages are
# installed. Services are not started by the packages here (no systemd as
# PID 1); bench/run.sh starts the daemons it needs by hand and stops them.
set -eu

PEERS="crun lxc libvirt-daemon libvirt-daemon-driver-lxc libvirt-clients
 systemd-container s6 conmon"
TOOLS="hyperfine busybox-static util-linux procps python3 linux-perf valgrind"

missing=""
for p in $PEERS $TOOLS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
