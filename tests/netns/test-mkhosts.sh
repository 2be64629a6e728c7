#!/bin/sh
# mkhosts.sh builds hosts that reach each other and nothing else, and
# removes every namespace it made.
set -u
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: ip missing"; exit 77; }
command -v busybox >/dev/null || { echo "SKIP: busybox missing"; exit 77; }
M=$(dirname "$0")/mkhosts.sh
P=mh$$
P=$(echo "$P" | cut -c1-8)
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok $*"; }
trap '"$M" down "$P" 3' EXIT INT TERM

"$M" up "$P" 3 10.253.7 && ok "3 hosts up" || fail "up"
for h in h1 h2 h3 sw; do
    ip netns list | grep -q "^$P-$h\b" || fail "namespace $P-$h missing"
done
"$M" exec "$P" 1 busybox ping -c 1 -W 3 10.253.7.2 >/dev/null && ok "h1 reaches h2" || fail "h1 cannot reach h2"
"$M" exec "$P" 3 busybox ping -c 1 -W 3 10.253.7.1 >/dev/null && ok "h3 reaches h1" || fail "h3 cannot reach h1"
[ "$("$M" exec "$P" 2 ip -o -4 addr show dev eth0 | awk '{print $4}')" = 10.253.7.2/24 ] && ok "h2 is 10.253.7.2/24" || fail "h2 address"
ip -o link show | grep -q "$P" && fail "a link of the hosts is in the machine's namespace" || ok "nothing in the machine's namespace"
"$M" down "$P" 3
ip netns list | grep -q "^$P-" && fail "namespaces left: $(ip netns list | grep "^$P-")" || ok "down removes every namespace"
echo "$fails failure(s)"
[ $fails = 0 ]
