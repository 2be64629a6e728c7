# shellcheck shell=bash disable=SC2034   # START, STOP, AFTER, WRAP, CGOPT: read by run.sh
# litevirt: `lvsh define` + `lvsh start` (returns once the guest runs; the
# supervisor stays, one per guest) and `lvsh destroy` + `lvsh undefine`,
# with LITEVIRT_CONFDIR/RUNDIR in the bench's temp dir. The domain XML is
# the one libvirt gets (litevirt speaks libvirt's format). Binaries from
# LV_BUILD (set by run.sh; else the newest build dir of this tree holding both lvsh and
# litevirt-supervisor). If `lvsh create` exists, start uses it (one command,
# transient), else a `sh -c` chains define and start (its ~1 ms counts
# against litevirt).
peer_litevirt_find() {
    if [ -n "${LV_BUILD:-}" ]; then
        echo "$LV_BUILD"
        return
    fi
    # shellcheck disable=SC2012
    ls -td "$TOP"/build*/ 2>/dev/null | while read -r d; do
        [ -x "$d/lvsh" ] && [ -x "$d/litevirt-supervisor" ] && { echo "${d%/}"; break; }
    done
}

peer_litevirt_cmds() {
    DETACH=1   # the start command returns once the guest runs
    local lvsh=$LVB_LITEVIRT/lvsh x=$WORK/litevirt/xml
    if "$lvsh" help 2>/dev/null | grep -qE '^ +create '; then
        START=("$lvsh" create "$x/$1{i}.xml")
        STOP=("$lvsh" destroy "$1{i}")
    else
        START=(sh -c "\"$lvsh\" define \"$x/$1{i}.xml\" >/dev/null && exec \"$lvsh\" start \"$1{i}\"")
        STOP=(sh -c "\"$lvsh\" destroy \"$1{i}\" >/dev/null && exec \"$lvsh\" undefine \"$1{i}\"")
    fi
    AFTER=()
    i=0
    while [ "$i" -lt "$LVB_COUNT" ]; do
        cat > "$x/$1$i.xml" <<EOX
<domain type='lxc'>
  <name>$1$i</name>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os><type>exe</type><init>/bin/lvb-idle</init></os>
  <features><privnet/></features>
  <devices>
    <filesystem type='mount'><source dir='$ROOTFS'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>
EOX
        i=$((i + 1))
    done
}

peer_litevirt_setup() {
    LVB_LITEVIRT=$(peer_litevirt_find)
    if [ -z "$LVB_LITEVIRT" ]; then
        echo "litevirt: no build with lvsh and litevirt-supervisor (set LV_BUILD)" >&2
        return 1
    fi
    export LVB_LITEVIRT
    mkdir -p "$WORK/litevirt/etc/guests" "$RT/litevirt" "$WORK/litevirt/log" "$WORK/litevirt/xml"
    export LITEVIRT_CONFDIR=$WORK/litevirt/etc LITEVIRT_GUESTDIR=$WORK/litevirt/etc/guests \
        LITEVIRT_RUNDIR=$RT/litevirt LITEVIRT_LOGDIR=$WORK/litevirt/log
    local rev dirty=""
    rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)
    git -C "$TOP" diff --quiet HEAD -- supervisor lxc lib tools conf util netns 2>/dev/null || dirty="+uncommitted changes"
    printf 'meta\tversion\tlitevirt %s%s (%s)\n' "$rev" "$dirty" "$LVB_LITEVIRT" >> "$RES"
}

peer_litevirt_stop_kept() { # PREFIX COUNT
    i=0
    while [ "$i" -lt "$2" ]; do
        "$LVB_LITEVIRT/lvsh" destroy "$1$i" >/dev/null 2>&1
        "$LVB_LITEVIRT/lvsh" undefine "$1$i" >/dev/null 2>&1
        i=$((i + 1))
    done
    return 0
}

peer_litevirt_dominfo() { # NAME of a running guest
    hf litevirt dominfo "$LVB_LITEVIRT/lvsh" dominfo "$1"
    if [ -x "$WORK/lvb-varlink" ]; then
        # one client: the service time; 16: with queueing on the socket
        for c in 1 16; do
            "$WORK/lvb-varlink" -s "$LITEVIRT_RUNDIR/$1/control.sock" -c "$c" -n "${RPC_CALLS:-2000}" \
                -l litevirt | tee -a "$RES" >&2
        done
    fi
}

peer_litevirt_teardown() {
    [ -n "${LVB_LITEVIRT:-}" ] && [ -d "$RT/litevirt" ] || return 0
    for d in "$RT"/litevirt/*/; do
        [ -d "$d" ] || continue
        n=$(basename "$d")
        "$LVB_LITEVIRT/lvsh" destroy "$n" >/dev/null 2>&1
    done
    return 0
}

# with COUNT guests running: how long `lvsh list --all` takes (it reads
# every guest's state: the scale table of docs/performance.md)
peer_litevirt_scale() { # COUNT
    HF_RUNS=20 hf litevirt "list$1" "$LVB_LITEVIRT/lvsh" list --all
}
