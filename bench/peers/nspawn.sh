# shellcheck shell=bash disable=SC2034   # START, STOP, AFTER, WRAP, CGOPT: read by run.sh
# Peer "systemd-nspawn" 252 on the shared rootfs, no machined registration
# (no systemd as PID 1 here), --keep-unit with each instance in its own
# cgroup (lvb-run -g: what a service manager's scope would give it), private
# network, a passive console pty; stop = SIGTERM to nspawn, which halts the
# container with --kill-signal=SIGKILL (busybox init has no halt handler).
peer_nspawn_cmds() {
    CGOPT=(-g "$CG_LISTDIR/nspawn.$1")
    START=(systemd-nspawn -q --register=no --keep-unit --link-journal=no --console=passive
           --private-network --kill-signal=SIGKILL -D "$ROOTFS" -M "$1{i}" /bin/lvb-idle)
    STOP=(@term)
    AFTER=()
    # per-prefix parent cgroups for the instances
    : > "$CG_LISTDIR/nspawn.$1"
    while read -r d; do
        cg_mkdir "$d/$1" && echo "$d/$1" >> "$CG_LISTDIR/nspawn.$1"
    done < "$CG_LISTDIR/nspawn"
}
peer_nspawn_setup() { export SYSTEMD_NSPAWN_LOCK=0; }  # many instances on one rootfs
peer_nspawn_stop_kept() { # PREFIX COUNT
    pids=$(for p in $(cg_procs nspawn); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = systemd-nspawn ] && echo "$p"; done)
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -TERM $pids
    for _w in $(seq 50); do
        left=$(for p in $pids; do [ -d /proc/$p ] && echo "$p"; done)
        [ -z "$left" ] && break
        sleep 0.1
    done
    return 0
}
peer_nspawn_teardown() { :; }
