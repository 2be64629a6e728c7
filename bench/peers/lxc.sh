# shellcheck shell=bash disable=SC2034   # START, STOP, AFTER, WRAP, CGOPT: read by run.sh
# Peer "lxc" 5.0: `lxc-start -d` (returns once the container is RUNNING,
# leaving its `[lxc monitor]` process) and `lxc-stop -k`, with a private
# lxcpath and a config on the shared rootfs: no network device (empty net
# namespace), proc+sys mounted, autodev, a console pty, cgroups relative to
# our own cgroup (lxc.cgroup.relative, else LXC escapes to the root cgroup).
peer_lxc_cmds() {
    DETACH=1   # the start command returns once the guest runs
    START=(lxc-start -d -n "$1{i}" -P "$RT/lxc" -f "$WORK/lxc/config")
    STOP=(lxc-stop -k -n "$1{i}" -P "$RT/lxc")
    AFTER=()
}
peer_lxc_setup() {
    mkdir -p "$WORK/lxc" "$RT/lxc"
    cat > "$WORK/lxc/config" <<EOC
lxc.uts.name = lvb
lxc.rootfs.path = dir:$ROOTFS
lxc.init.cmd = /bin/lvb-idle
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.mount.auto = proc:mixed sys:mixed
lxc.autodev = 1
lxc.tty.max = 0
lxc.pty.max = 16
lxc.cgroup.relative = 1
EOC
}
peer_lxc_stop_kept() { # PREFIX COUNT
    i=0
    while [ "$i" -lt "$2" ]; do
        lxc-stop -k -n "$1$i" -P "$RT/lxc" >/dev/null 2>&1
        i=$((i + 1))
    done
    return 0
}
peer_lxc_teardown() {
    for n in $(lxc-ls -P "$RT/lxc" --running 2>/dev/null); do
        lxc-stop -k -n "$n" -P "$RT/lxc" >/dev/null 2>&1
    done
    return 0
}
