# bench/lib/cgroup.sh: sourced by bench/run.sh. Every cgroup the benchmark
# (and the tools it runs) creates lives below one directory, lvb-bench.PID,
# created below this shell's own cgroup in every hierarchy (hybrid here: v1
# controllers + name=systemd + cgroup2 at /sys/fs/cgroup/unified).
# cg_cleanup kills what is left inside (all started by the benchmark) by pid
# and removes the whole subtree.

CG_LISTDIR=""   # per-group files: one absolute cgroup dir a line

# "MOUNTPOINT OWNPATH" for each hierarchy this process belongs to.
cg_hierarchies() {
    while IFS=: read -r _id ctrls path; do
        if [ -z "$ctrls" ]; then
            mnt=$(findmnt -rn -t cgroup2 -o TARGET | head -n1)
        else
            mnt=""
            ctrl=${ctrls#name=}
            while read -r t o; do
                case ",$o," in *",$ctrl,"*|*",name=$ctrl,"*) mnt=$t; break ;; esac
            done <<EOT
$(findmnt -rn -t cgroup -o TARGET,OPTIONS)
EOT
        fi
        [ -n "$mnt" ] && [ -d "$mnt" ] && echo "$mnt $path"
    done < /proc/self/cgroup
}

# cgroup v1 cpuset: a new group has no cpus/mems until given its parent's.
cg_mkdir() {
    mkdir -p "$1" || return 1
    if [ -f "$1/cpuset.cpus" ] && [ -z "$(cat "$1/cpuset.cpus")" ]; then
        cat "$1/../cpuset.cpus" > "$1/cpuset.cpus"
        cat "$1/../cpuset.mems" > "$1/cpuset.mems"
    fi
}

# cg_setup WORKDIR: create lvb-bench.PID below our own cgroup everywhere.
cg_setup() {
    CG_LISTDIR=$1/cg
    mkdir -p "$CG_LISTDIR"
    : > "$CG_LISTDIR/base"
    : > "$CG_LISTDIR/orig"
    cg_hierarchies | while read -r mnt path; do
        d="$mnt${path%/}/lvb-bench.$$"
        cg_mkdir "$d" && echo "$d" >> "$CG_LISTDIR/base"
        echo "$mnt${path%/}" >> "$CG_LISTDIR/orig"
    done
}

# cg_enter NAME: move the calling (sub)shell into lvb-bench.PID/NAME; writes
# the list of its directories to $CG_LISTDIR/NAME.
cg_enter() {
    : > "$CG_LISTDIR/$1"
    while read -r d; do
        cg_mkdir "$d/$1"
        echo "$BASHPID" > "$d/$1/cgroup.procs"
        echo "$d/$1" >> "$CG_LISTDIR/$1"
    done < "$CG_LISTDIR/base"
}

# cg_leave: move the calling shell back to the cgroups it started in.
cg_leave() {
    while read -r d; do echo "$BASHPID" > "$d/cgroup.procs" 2>/dev/null; done < "$CG_LISTDIR/orig"
}

# cg_procs NAME: pids of every process below lvb-bench.PID/NAME (memory
# hierarchy, or the first one listed).
cg_procs() {
    d=$(grep '/memory' "$CG_LISTDIR/$1" | head -n1)
    [ -n "$d" ] || d=$(head -n1 "$CG_LISTDIR/$1")
    find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -un
}

cg_cleanup() {
    [ -n "$CG_LISTDIR" ] && [ -s "$CG_LISTDIR/base" ] || return 0
    # back to where we started, so our own shell is not killed
    while read -r d; do echo "$BASHPID" > "$d/cgroup.procs" 2>/dev/null; done < "$CG_LISTDIR/orig"
    for _round in 1 2 3 4 5; do
        pids=$(while read -r d; do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done \
               < "$CG_LISTDIR/base" | sort -un)
        [ -z "$pids" ] && break
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null
        sleep 0.3
    done
    while read -r d; do
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        [ -d "$d" ] && echo "cleanup: cgroup $d still there" >&2
    done < "$CG_LISTDIR/base"
    : > "$CG_LISTDIR/base"
}
