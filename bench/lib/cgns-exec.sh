#!/bin/sh
# bench/lib/cgns-exec.sh CMD...: run under `unshare -m -C --propagation
# private` by a shell already inside its bench cgroup. Remounts every cgroup
# v1 hierarchy so its root is that cgroup (so a tool that writes to
# /sys/fs/cgroup/<ctrl>/X creates X below our cgroup, never at the host's
# root), and hides the cgroup2 mount: the tool sees a pure v1 (legacy) host.
# Needed because crun 1.8 refuses hybrid cgroups and libvirt 9.0's LXC
# driver fails in hybrid mode ("Unable to create directory
# /sys/fs/cgroup/unified"), and both place cgroups at the hierarchy root.
set -eu
findmnt -rn -t cgroup -o TARGET,OPTIONS | while read -r t o; do
    ctrls=""
    for x in $(echo "$o" | tr ',' ' '); do
        case "$x" in
        rw|ro|relatime|noatime|nosuid|nodev|noexec|clone_children|xattr) ;;
        *) ctrls="$ctrls${ctrls:+,}$x" ;;
        esac
    done
    case "$ctrls" in name=*) ctrls="none,$ctrls" ;; esac
    umount -l "$t"
    mount -t cgroup -o "$ctrls" cgroup "$t"
done
for t in $(findmnt -rn -t cgroup2 -o TARGET); do
    mount -t tmpfs -o size=16m,mode=755 lvb-hide "$t"
done
exec "$@"
