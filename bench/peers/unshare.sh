# shellcheck shell=bash disable=SC2034   # START, STOP, AFTER, WRAP, CGOPT: read by run.sh
# Peer "unshare": the floor. The same namespaces as the others (pid, mount,
# uts, ipc, net, cgroup), chroot into the rootfs, /proc mounted, nothing else
# (no cgroup of its own, no /dev, no console, no supervisor left behind).
# Per-guest process: the waiting `unshare` parent (--kill-child).
peer_unshare_cmds() { # PREFIX
    START=(unshare -fpmuinC --kill-child "--root=$ROOTFS" --mount-proc /bin/lvb-idle)
    STOP=(@kill)
    AFTER=()
}
peer_unshare_setup() { :; }
peer_unshare_stop_kept() { # PREFIX COUNT
    pids=$(for p in $(cg_procs unshare); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = unshare ] && echo "$p"; done)
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -KILL $pids
    sleep 0.5   # --kill-child: the containers die after their unshare
    return 0
}
peer_unshare_teardown() { :; }
