# shellcheck shell=bash disable=SC2034   # START, STOP, AFTER, WRAP, CGOPT: read by run.sh
# Peer "crun" 1.8 with an OCI bundle whose root is the shared rootfs. crun
# refuses hybrid cgroups here, so it runs in a private mount + cgroup
# namespace where the v1 hierarchies are remounted with their root at the
# bench's cgroup and the cgroup2 mount is hidden (lib/cgns-exec.sh): crun
# sees a legacy host and creates its cgroups (cgroupfs manager) below ours.
# Detached (`crun run -d`): no per-guest process stays on the host side.
peer_crun_cmds() {
    DETACH=1   # the start command returns once the guest runs
    WRAP=(unshare -m -C --propagation private "$LIB/cgns-exec.sh")
    START=(crun --root "$RT/crun" run -d --bundle "$WORK/crun/bundle" "$1{i}")
    STOP=(crun --root "$RT/crun" delete -f "$1{i}")
    AFTER=()
}
peer_crun_setup() {
    mkdir -p "$WORK/crun/bundle" "$RT/crun"
    rm -f "$WORK/crun/bundle/config.json"
    (cd "$WORK/crun/bundle" && crun spec) || return 1
    python3 - "$WORK/crun/bundle/config.json" "$ROOTFS" <<'PY'
import json, sys
path, rootfs = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/lvb-idle"]
c["root"] = {"path": rootfs, "readonly": False}
c["hostname"] = "lvb"
c["linux"]["namespaces"].append({"type": "cgroup"})
json.dump(c, open(path, "w"), indent=1)
PY
}
peer_crun_stop_kept() { # PREFIX COUNT
    i=0
    while [ "$i" -lt "$2" ]; do
        crun --root "$RT/crun" delete -f "$1$i" >/dev/null 2>&1
        i=$((i + 1))
    done
    return 0
}
peer_crun_teardown() {
    for s in "$RT"/crun/*/; do
        [ -d "$s" ] && crun --root "$RT/crun" delete -f "$(basename "$s")" >/dev/null 2>&1
    done
    return 0
}
