# Shared by the shell tests (sourced): where a guest's cgroups would be.
# litevirt puts a guest's cgroup as litevirt-NAME below the cgroup the
# supervisor runs in, in every hierarchy; the tests run the supervisors in
# their own cgroup, so the same place is found from /proc/self/cgroup.

cgroup_dirs() { # NAME -> existing litevirt-NAME cgroup directories below ours
    while IFS=: read -r _ ctrl path; do
        case $ctrl in
        "") mnt=/sys/fs/cgroup/unified; [ -f /sys/fs/cgroup/cgroup.controllers ] && mnt=/sys/fs/cgroup ;;
        name=*) mnt=/sys/fs/cgroup/${ctrl#name=} ;;
        *) mnt=/sys/fs/cgroup/$ctrl ;;
        esac
        d=$(echo "$mnt$path/litevirt-$1" | sed 's#//*#/#g')
        [ -d "$d" ] && echo "$d"
    done </proc/self/cgroup
}
