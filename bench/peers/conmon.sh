# shellcheck shell=bash disable=SC2034   # START, STOP, AFTER, WRAP, CGOPT: read by run.sh
# Reference "conmon" (memory only): crun's container under conmon 2.1, the
# per-container monitor podman and CRI-O keep next to every crun container.
# Same bundle and namespace wrapper as crun.sh. The start script runs conmon
# (which forks off the monitor and has it `crun create`), waits for the
# container to be created, then `crun start`s it, as podman does.
peer_conmon_mem_only() { :; }
peer_conmon_cmds() {
    DETACH=1   # the start command returns once the guest runs
    WRAP=(unshare -m -C --propagation private "$LIB/cgns-exec.sh")
    START=(sh "$WORK/conmon/start.sh" "$1{i}")
    STOP=(crun --root "$RT/conmon" delete -f "$1{i}")
    AFTER=()
}
peer_conmon_setup() {
    peer_crun_setup || return 1
    mkdir -p "$WORK/conmon/exit" "$WORK/conmon/sock" "$WORK/conmon/log" "$RT/conmon"
    cat > "$WORK/conmon/start.sh" <<EOS
id=\$1
conmon --api-version 1 -c "\$id" -u "\$id" -n "\$id" -r "\$(command -v crun)" -b "$WORK/crun/bundle" \\
    -p "$WORK/conmon/\$id.pid" --conmon-pidfile "$WORK/conmon/\$id.conmon.pid" \\
    --exit-dir "$WORK/conmon/exit" --socket-dir-path "$WORK/conmon/sock" \\
    -l "k8s-file:$WORK/conmon/log/\$id.log" --runtime-arg "--root=$RT/conmon" --log-level error || exit 1
for _ in \$(seq 500); do
    crun --root "$RT/conmon" state "\$id" 2>/dev/null | grep -q '"created"' && exec crun --root "$RT/conmon" start "\$id"
    sleep 0.01
done
exit 1
EOS
}
peer_conmon_stop_kept() { # PREFIX COUNT
    i=0
    while [ "$i" -lt "$2" ]; do
        crun --root "$RT/conmon" delete -f "$1$i" >/dev/null 2>&1
        i=$((i + 1))
    done
    sleep 0.5
    for p in $(cg_procs conmon); do
        [ "$(cat /proc/"$p"/comm 2>/dev/null)" = conmon ] && kill -TERM "$p"
    done
    return 0
}
peer_conmon_teardown() {
    for s in "$RT"/conmon/*/; do
        [ -d "$s" ] && crun --root "$RT/conmon" delete -f "$(basename "$s")" >/dev/null 2>&1
    done
    return 0
}
