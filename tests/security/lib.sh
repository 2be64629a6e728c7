# Shared set-up of the security tests (sourced): the fault tests' set-up
# (private network and mount namespaces, all litevirt state in a temporary
# directory, everything killed and removed on exit), plus the applets an
# attacking guest needs.
. "${LV_SOURCE_ROOT:?}/tests/fault/lib.sh"
for a in ln rm mkdir setpriv id grep yes head; do
    [ -e "$T/rootfs/bin/$a" ] || ln -s busybox "$T/rootfs/bin/$a"
done
# A user for guests that drop root themselves (su needs it in /etc/passwd).
mkdir -p "$T/rootfs/etc"
printf 'root:x:0:0:root:/:/bin/sh\ntenant:x:1000:1000:tenant:/:/bin/sh\n' >"$T/rootfs/etc/passwd"
printf 'root:x:0:\ntenant:x:1000:\n' >"$T/rootfs/etc/group"
[ -e "$T/rootfs/bin/su" ] || ln -s busybox "$T/rootfs/bin/su"

# Children of a process.
children_of() { cat /proc/"$1"/task/*/children 2>/dev/null; }
# Milliseconds since the epoch.
now_ms() { date +%s%3N; }
