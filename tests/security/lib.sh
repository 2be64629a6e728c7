# Shared set-up of the security tests (sourced): the fault tests' set-up
# (private network and mount namespaces, all litevirt state in a temporary
# directory, everything killed and removed on exit), plus the applets an
# attacking guest needs.
. "${LV_SOURCE_ROOT:?}/tests/fault/lib.sh"
for a in ln rm mkdir setpriv id grep yes head; do
    [ -e "$T/rootfs/bin/$a" ] || ln -s busybox "$T/rootfs/bin/$a"
done
