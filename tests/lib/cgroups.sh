# Shared by the shell tests (sourced): where a guest's cgroups would be.
# litevirt puts a guest's cgroup as litevirt-NAME below the cgroup the
# supervisor runs in, in every hierarchy; the tests run the supervisors in
# their own cgroup, so the same place is found from /proc/self/cgroup.

cgroup_own_dirs() { # -> our own cgroup directory in every hierarchy
    while IFS=: read -r _ ctrl path; do
        case $ctrl in
        "") mnt=/sys/fs/cgroup/unified; [ -f /sys/fs/cgroup/cgroup.controllers ] && mnt=/sys/fs/cgroup ;;
        name=*) mnt=/sys/fs/cgroup/${ctrl#name=} ;;
        *) mnt=/sys/fs/cgroup/$ctrl ;;
        esac
        [ -d "$mnt" ] && echo "$mnt$path" | sed 's#//*#/#g; s#\(.\)/$#\1#'
    done </proc/self/cgroup
}

cgroup_dirs() { # NAME -> existing litevirt-NAME cgroup directories below ours
    cgroup_own_dirs | while read -r d; do
        [ -d "$d/litevirt-$1" ] && echo "$d/litevirt-$1"
    done
}

# Kill (by pid) every process below the cgroup directories listed in FILE,
# all started by the test, and remove those directories with everything
# below them; 1 (and a message) when one is left.
cgroup_trees_remove() { # FILE
    local pids d rc=0
    for _round in 1 2 3 4 5; do
        pids=$(while read -r d; do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done \
            <"$1" | sort -un)
        [ -z "$pids" ] && break
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null
        sleep 0.2
    done
    while read -r d; do
        for _try in 1 2 3 4 5; do # SIGKILLed processes leave a moment later
            [ -d "$d" ] || break
            find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
            [ -d "$d" ] && sleep 0.2
        done
        [ -d "$d" ] && { echo "cgroup $d left behind"; rc=1; }
    done <"$1"
    return $rc
}
