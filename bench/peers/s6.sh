# shellcheck shell=bash disable=SC2034   # START, STOP, AFTER, WRAP, CGOPT: read by run.sh
# Reference "s6-supervise" (memory only): the smallest classic per-service
# supervisor, supervising the same unshare container as the floor. Its own
# per-guest process is s6-supervise; the `unshare` parent is listed apart.
peer_s6_mem_only() { :; }
peer_s6_cmds() {
    START=(s6-supervise "$WORK/s6/$1{i}")
    STOP=(@term)
    AFTER=()
    i=0
    while [ "$i" -lt "$LVB_COUNT" ]; do
        d="$WORK/s6/$1$i"
        mkdir -p "$d"
        printf '#!/bin/sh\nexec unshare -fpmuinC --kill-child --root=%s --mount-proc /bin/lvb-idle\n' \
            "$ROOTFS" > "$d/run"
        chmod 755 "$d/run"
        i=$((i + 1))
    done
}
peer_s6_setup() { mkdir -p "$WORK/s6"; }
peer_s6_stop_kept() { # PREFIX COUNT
    # the supervisors first (else they restart what is killed), then the rest
    for p in $(cg_procs s6); do
        [ "$(cat /proc/"$p"/comm 2>/dev/null)" = s6-supervise ] && kill -KILL "$p"
    done
    sleep 0.2
    for p in $(cg_procs s6); do   # not this shell, which lives there too
        case "$(cat /proc/"$p"/comm 2>/dev/null)" in unshare|sleep) kill -KILL "$p" ;; esac
    done
    sleep 0.5   # let the orphans be reaped
    return 0
}
peer_s6_teardown() { :; }
