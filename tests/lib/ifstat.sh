# lvsh domifstat checked against the host side's own counters (sourced by
# tests/netns/test-e2e.sh and tests/qemu/test-qemu-lifecycle.sh; needs
# $LVSH).

# ifstat_host LINK: "RX_BYTES TX_BYTES" of a link of this namespace, from
# rtnetlink (ip), not /sys: a test's own namespace is not the one /sys
# shows.
ifstat_host() {
    ip -s link show "$1" | awk '/RX:/ {getline; rx = $1} /TX:/ {getline; tx = $1} END {print rx, tx}'
}

# ifstat_send IP: 20 UDP datagrams of 1400 bytes to IP's discard port
# (bash's /dev/udp: one write, one datagram).
ifstat_send() {
    bash -c 'for i in $(seq 20); do head -c 1400 /dev/zero > "/dev/udp/$0/9"; done' "$1"
}

# ifstat_check NAME IF LINK: lvsh domifstat NAME IF, read between two
# reads of LINK's counters (LINK: the interface's host-side tap or veth
# end). Its rx_bytes lies between LINK's tx_bytes, its tx_bytes between
# LINK's rx_bytes (the guest's view: swapped, as virsh's). Sets IFSTAT_OUT
# (the output), IFSTAT_RX and IFSTAT_TX (its rx_bytes and tx_bytes).
ifstat_check() {
    local h1 h2
    h1=$(ifstat_host "$3") && IFSTAT_OUT=$("$LVSH" domifstat "$1" "$2" 2>&1) &&
        h2=$(ifstat_host "$3") || return 1
    IFSTAT_RX=$(echo "$IFSTAT_OUT" | awk -v f="$2" '$1 == f && $2 == "rx_bytes" {print $3}')
    IFSTAT_TX=$(echo "$IFSTAT_OUT" | awk -v f="$2" '$1 == f && $2 == "tx_bytes" {print $3}')
    [ -n "$IFSTAT_RX" ] && [ -n "$IFSTAT_TX" ] || return 1
    set -- $h1 $h2 # host rx, tx before; rx, tx after
    [ "$2" -le "$IFSTAT_RX" ] && [ "$IFSTAT_RX" -le "$4" ] &&
        [ "$1" -le "$IFSTAT_TX" ] && [ "$IFSTAT_TX" -le "$3" ]
}
