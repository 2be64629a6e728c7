# Two "hosts" on one machine, for live migration (sourced by bash scripts:
# tests/migration/test-migrate.sh, bench/migrate.sh, scripts/run-example.sh).
# A host is a network namespace (the two joined by a veth pair), its own
# cgroups below ours in every hierarchy (a guest's cgroup is named after it,
# and the two copies of a migrating guest must not meet in one cgroup), and
# its own LITEVIRT_* directories and host.conf: host UUID, hostname
# host-a / host-b, migration address, one lockspace shared by both.
#
# Set before calling hosts_create:
#   HOSTS_DIR  a directory of the caller's (gets a/, b/, lockspace/, cgroup lists)
#   HOSTS_TAG  a short prefix for names (namespaces, links, cgroups get it and $$)
#   HOSTS_NET  the first three octets of the veth pair's /24, e.g. 10.77.0
#   HOSTS_SUP  the litevirt-supervisor binary (for hosts_transport)
# Then: hosts_on HOST CMD..., hosts_transport HOST [ARGS...], hosts_destroy
# (also after a failed or partial hosts_create). HOST is a or b.
# Hosts without shared storage: hosts_split_dir DIR (after hosts_create)
# gives each host a mount namespace of its own in which DIR is its own
# directory ($HOSTS_DIR/a/split, $HOSTS_DIR/b/split): the same path names
# two different files on the two hosts.

HOSTS_UUID_A=3c1e5a0e-7b8f-4f35-9a51-5d0c7c6a1a0a
HOSTS_UUID_B=3c1e5a0e-7b8f-4f35-9a51-5d0c7c6a1a0b

hosts_ns() { # HOST -> its network namespace's name
    echo "$HOSTS_TAG-$1-$$"
}

hosts_env() { # HOST -> the environment of that host's litevirt
    local d=$HOSTS_DIR/$1
    echo "LITEVIRT_CONFDIR=$d/conf LITEVIRT_GUESTDIR=$d/guests LITEVIRT_RUNDIR=$d/run LITEVIRT_LOGDIR=$d/log"
}

hosts_cgroups() { # HOST: its cgroups below ours; $HOSTS_DIR/enter-HOST moves itself there and runs its arguments
    local ctrl path mnt d
    : > "$HOSTS_DIR/cg-$1"
    while IFS=: read -r _ ctrl path; do
        case $ctrl in
        "") mnt=/sys/fs/cgroup/unified ;;
        name=systemd) mnt=/sys/fs/cgroup/systemd ;;
        *) mnt=/sys/fs/cgroup/$ctrl ;;
        esac
        [ -d "$mnt" ] || continue
        d=$mnt${path%/}/$HOSTS_TAG-$$-$1
        mkdir "$d" 2>/dev/null || continue
        echo "$d" >> "$HOSTS_DIR/cgdirs"
        if [ -e "$d/cpuset.cpus" ]; then
            cat "${d%/*}/cpuset.cpus" > "$d/cpuset.cpus"
            cat "${d%/*}/cpuset.mems" > "$d/cpuset.mems"
        fi
        echo "$d/cgroup.procs" >> "$HOSTS_DIR/cg-$1"
    done < /proc/self/cgroup
    printf '#!/bin/sh\nfor f in $(cat %s); do echo $$ > "$f"; done\nexec "$@"\n' \
        "$HOSTS_DIR/cg-$1" > "$HOSTS_DIR/enter-$1"
    chmod +x "$HOSTS_DIR/enter-$1"
}

hosts_create() { # -> 0, or 1 with the reason on stderr
    local h uuid addr va=$HOSTS_TAG-va$$ vb=$HOSTS_TAG-vb$$
    ip netns add "$(hosts_ns a)" && ip netns add "$(hosts_ns b)" ||
        { echo "cannot create network namespaces" >&2; return 1; }
    # made inside the namespaces: the machine's own never sees a link
    ip link add "$va" netns "$(hosts_ns a)" type veth peer name "$vb" netns "$(hosts_ns b)" ||
        { echo "cannot create a veth pair" >&2; return 1; }
    ip -n "$(hosts_ns a)" addr add "$HOSTS_NET.1/24" dev "$va" &&
        ip -n "$(hosts_ns b)" addr add "$HOSTS_NET.2/24" dev "$vb" &&
        ip -n "$(hosts_ns a)" link set lo up && ip -n "$(hosts_ns b)" link set lo up &&
        ip -n "$(hosts_ns a)" link set "$va" up && ip -n "$(hosts_ns b)" link set "$vb" up ||
        { echo "cannot set up the veth pair" >&2; return 1; }
    for h in a b; do
        hosts_cgroups $h
        mkdir -p "$HOSTS_DIR/$h/conf" "$HOSTS_DIR/$h/guests" "$HOSTS_DIR/$h/run" "$HOSTS_DIR/$h/log"
        uuid=$HOSTS_UUID_A addr=$HOSTS_NET.1
        [ $h = b ] && uuid=$HOSTS_UUID_B addr=$HOSTS_NET.2
        printf 'host_uuid = %s\nhostname = host-%s\nmigration_address = %s\nlockspace_dir = %s\n' \
            "$uuid" "$h" "$addr" "$HOSTS_DIR/lockspace" > "$HOSTS_DIR/$h/conf/host.conf"
    done
}

hosts_prefix() { # HOST -> the words that run a command as that host: its netns, cgroups and directories
    # nsenter, not `ip netns exec`: that one mounts a fresh /sys, without
    # the cgroup hierarchies the supervisor needs
    local mnt=
    [ -e "$HOSTS_DIR/mntns/$1.ready" ] && mnt="--mount=/proc/$(cat "$HOSTS_DIR/mntns/$1.pid")/ns/mnt"
    echo "$HOSTS_DIR/enter-$1 nsenter --net=/run/netns/$(hosts_ns "$1") $mnt env $(hosts_env "$1")"
}

hosts_split_dir() { # DIR: a directory that is another one on each host -> 0, or 1 with the reason
    # Each host's mount namespace is held by a process of ours (killed by
    # hosts_destroy) and entered through /proc/PID/ns/mnt: a namespace
    # file bound in one namespace would not be seen from the other.
    local h i
    mkdir -p "$1" "$HOSTS_DIR/mntns" || return 1
    for h in a b; do
        mkdir -p "$HOSTS_DIR/$h/split" && chmod 0711 "$HOSTS_DIR/$h/split"
        unshare --mount --propagation private sh -c \
            'mount --bind "$1" "$2" && touch "$3" && exec sleep 100000' sh \
            "$HOSTS_DIR/$h/split" "$1" "$HOSTS_DIR/mntns/$h.ready" < /dev/null > /dev/null &
        echo $! > "$HOSTS_DIR/mntns/$h.pid"
        i=0
        while [ ! -e "$HOSTS_DIR/mntns/$h.ready" ] && kill -0 $! 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.1; i=$((i + 1))
        done
        [ -e "$HOSTS_DIR/mntns/$h.ready" ] || { echo "cannot make host $h's mount namespace" >&2; return 1; }
    done
}

# HOST CMD...: run CMD as that host. In the background use
# `$(hosts_prefix HOST) CMD... &` instead: a function runs in a subshell of
# its own, and $! would be that shell, not CMD.
hosts_on() {
    local h=$1
    shift
    $(hosts_prefix "$h") "$@"
}

hosts_transport() { # HOST [SUPERVISOR-ARGS...] -> the command that reaches that host's supervisor
    echo "$(hosts_prefix "$1") $HOSTS_SUP --incoming${2:+ ${*:2}}"
}

hosts_destroy() { # the namespaces (and the veth pair in them) and the cgroups; guests first, by the caller
    local d left
    ip netns del "$(hosts_ns a)" 2>/dev/null
    ip netns del "$(hosts_ns b)" 2>/dev/null
    for d in "$HOSTS_DIR"/mntns/*.pid; do
        [ -e "$d" ] && kill "$(cat "$d")" 2>/dev/null && rm -f "${d%.pid}.ready"
    done
    [ -e "$HOSTS_DIR/cgdirs" ] || return 0
    # SIGKILLed processes leave their cgroups a moment later: retry.
    for _ in $(seq 50); do
        left=0
        for d in $(tac "$HOSTS_DIR/cgdirs"); do
            [ -d "$d" ] && { rmdir "$d" 2>/dev/null || left=1; }
        done
        [ $left = 0 ] && break
        sleep 0.1
    done
    rm -f "$HOSTS_DIR/cgdirs"
}
