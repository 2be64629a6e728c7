#!/bin/sh
# Build (and tear down) several "hosts" on one machine for tests: each host
# is a named network namespace (ip netns) with an eth0 plugged into one
# bridge that lives in a "switch" namespace of its own, so nothing touches
# the machine's own network.
#
#   mkhosts.sh up   PREFIX N [NET]   hosts PREFIX-h1..PREFIX-hN, switch PREFIX-sw
#                                    host i gets NET.i/24 on eth0 (NET default
#                                    10.254.0), lo up
#   mkhosts.sh down PREFIX N         remove them (idempotent; the veths go
#                                    with their namespaces)
#   mkhosts.sh exec PREFIX I CMD...  run CMD in host I (ip netns exec)
#
# The migration tests run one supervisor per host:
#   mkhosts.sh up mt 2 && mkhosts.sh exec mt 2 litevirt-supervisor --incoming ...
# PREFIX must be short (names are PREFIX-hN, at most 15 bytes for links).
set -eu

usage() { echo "usage: $0 up|down PREFIX N [NET] | exec PREFIX I CMD..." >&2; exit 2; }
[ $# -ge 3 ] || usage
cmd=$1 prefix=$2 n=$3
case $prefix in *[!a-zA-Z0-9_]*|"") echo "$0: PREFIX must be [a-zA-Z0-9_]+" >&2; exit 2 ;; esac
[ ${#prefix} -le 8 ] || { echo "$0: PREFIX '$prefix' too long (at most 8)" >&2; exit 2; }
sw=$prefix-sw

case $cmd in
up)
    net=${4:-10.254.0}
    ip netns add "$sw"
    ip -n "$sw" link set lo up
    ip -n "$sw" link add br0 type bridge
    ip -n "$sw" link set br0 up
    i=1
    while [ "$i" -le "$n" ]; do
        h=$prefix-h$i
        ip netns add "$h"
        ip -n "$h" link set lo up
        # both ends born in their namespaces: nothing ever in the host's
        ip -n "$sw" link add "p$i" type veth peer name eth0 netns "$h"
        ip -n "$sw" link set "p$i" master br0 up
        ip -n "$h" addr add "$net.$i/24" dev eth0
        ip -n "$h" link set eth0 up
        i=$((i + 1))
    done
    ;;
down)
    i=1
    while [ "$i" -le "$n" ]; do
        ip netns del "$prefix-h$i" 2>/dev/null || true
        i=$((i + 1))
    done
    ip netns del "$sw" 2>/dev/null || true
    ;;
exec)
    shift 3
    exec ip netns exec "$prefix-h$n" "$@"
    ;;
*) usage ;;
esac
