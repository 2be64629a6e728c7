# shellcheck shell=bash
# peers_teardown: what a bench run made with the peers of bench/peers/*.sh
# (TOOLS, PFX, WORK as the caller set them): each tool's own teardown, the
# run's cgroups (lib/cgroup.sh), systemd-nspawn's per-machine leftovers on
# the host, mounts below WORK (none expected: every tool ran in its own
# mount namespace), and WORK itself.
peers_teardown() {
    local t
    for t in $TOOLS; do
        declare -F "peer_${t}_teardown" >/dev/null && "peer_${t}_teardown" >/dev/null 2>&1
    done
    cg_cleanup
    rm -rf /run/systemd/nspawn/propagate/"$PFX"* /run/systemd/nspawn/locks/*"$PFX"* 2>/dev/null
    if findmnt -rn -o TARGET | grep -q "^$WORK"; then
        findmnt -rn -o TARGET | grep "^$WORK" | sort -r | xargs -r -n1 umount -l
    fi
    rm -rf "$WORK"
}
