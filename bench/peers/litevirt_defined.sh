# shellcheck shell=bash disable=SC2034   # START, STOP, AFTER, WRAP, CGOPT: read by run.sh
# litevirt, guest already defined (not timed): `lvsh start` / `lvsh destroy`
# only, what `virsh start` / `virsh destroy` of a persistent domain would be.
# Latency only (memory and density are litevirt's). Relies on litevirt.sh.
peer_litevirt_defined_latency_only() { :; }
peer_litevirt_defined_setup() {
    peer_litevirt_setup
}
peer_litevirt_defined_cmds() {
    DETACH=1   # the start command returns once the guest runs
    peer_litevirt_cmds "$1"
    local lvsh=$LVB_LITEVIRT/lvsh x=$WORK/litevirt/xml
    for i in $(seq 0 $((LVB_COUNT - 1))); do
        "$lvsh" define "$x/$1$i.xml" >/dev/null || return 1
    done
    START=("$lvsh" start "$1{i}")
    STOP=("$lvsh" destroy "$1{i}")
    AFTER=("$lvsh" undefine "$1{i}")
}
peer_litevirt_defined_stop_kept() { peer_litevirt_stop_kept "$@"; }
peer_litevirt_defined_teardown() { peer_litevirt_teardown; }
