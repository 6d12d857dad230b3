#!/usr/bin/env bash
# A test network of our own, in network namespaces: this host -> r1 -> r2 -> r3 -> dst.
# Addresses are from 198.18.0.0/15 only; nothing leaves the namespaces this script creates.
#   router-chain.sh up     create (replaces a previous lab)
#   router-chain.sh down   remove everything it created
# Needs root (ip netns). The destination dst is 198.18.3.2; routers answer from
# 198.18.0.2, 198.18.1.2 and 198.18.2.2; 198.18.4.1 on dst drops everything silently;
# r3 has no route to 198.18.5.0/24 and says so (ICMP destination unreachable);
# every address of 198.18.6.0/24 is dst too (many destinations four hops away).
set -euo pipefail
P=${SONDE_LAB_PREFIX:-sonde}
NS=("$P-r1" "$P-r2" "$P-r3" "$P-dst")

down() {
    for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    ip link del "$P-h0" 2>/dev/null || true
    ip route del 198.18.0.0/15 2>/dev/null || true
}

up() {
    down
    for ns in "${NS[@]}"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    # host <-> r1
    ip link add "$P-h0" type veth peer name a0 netns "$P-r1"
    ip addr add 198.18.0.1/30 dev "$P-h0"
    ip link set "$P-h0" up
    ip -n "$P-r1" addr add 198.18.0.2/30 dev a0
    ip -n "$P-r1" link set a0 up
    # r1 <-> r2 <-> r3 <-> dst
    local i
    for i in 1 2 3; do
        local left="${NS[$((i - 1))]}" right="${NS[$i]}"
        ip -n "$left" link add b$i type veth peer name a$i netns "$right"
        ip -n "$left" addr add 198.18.$i.1/30 dev b$i
        ip -n "$left" link set b$i up
        ip -n "$right" addr add 198.18.$i.2/30 dev a$i
        ip -n "$right" link set a$i up
    done
    ip -n "$P-dst" addr add 198.18.4.1/32 dev lo
    ip -n "$P-dst" addr add 198.18.6.0/24 dev lo   # many destinations, for benchmarks
    for ns in "$P-r1" "$P-r2" "$P-r3"; do
        ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
    done
    # answer every probe: no ICMP rate limit inside the lab (tests trace back to back)
    for ns in "${NS[@]}"; do
        ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
        ip netns exec "$ns" sysctl -qw net.ipv4.icmp_msgs_per_sec=100000
    done
    # routes: towards dst go right, back to the host go left
    ip route add 198.18.0.0/15 via 198.18.0.2 dev "$P-h0"
    ip -n "$P-r1" route add default via 198.18.1.2
    ip -n "$P-r2" route add 198.18.0.0/30 via 198.18.1.1
    ip -n "$P-r2" route add default via 198.18.2.2
    ip -n "$P-r3" route add 198.18.0.0/23 via 198.18.2.1
    ip -n "$P-r3" route add default via 198.18.3.2
    ip -n "$P-dst" route add default via 198.18.3.1
    ip -n "$P-r3" route add unreachable 198.18.5.0/24
    # silent drop: packets to 198.18.4.1 vanish on dst, no answer of any kind
    ip netns exec "$P-dst" nft add table ip lab
    ip netns exec "$P-dst" nft add chain ip lab in '{ type filter hook input priority 0; policy accept; }'
    ip netns exec "$P-dst" nft add rule ip lab in ip daddr 198.18.4.1 drop
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
