#!/usr/bin/env bash
# A test network of our own, in network namespaces: this host -> r1 -> r2 -> r3 -> dst.
# Addresses are from 198.18.0.0/15 and fd00:18::/32 only; nothing leaves the namespaces this
# script creates.
#   router-chain.sh up     create (replaces a previous lab)
#   router-chain.sh down   remove everything it created, the relay process too
# Needs root (ip netns), nft and python3. What is where:
#   dst                 198.18.3.2      fd00:18:3::2    (routers answer from 198.18.{0,1,2}.2, fd00:18:{0,1,2}::2)
#   silent drop         198.18.4.1      fd00:18:4::1    on dst, no answer of any kind (nftables)
#   unreachable         198.18.5.0/24   fd00:18:5::/64  r3 has no route and says so (ICMP)
#   many destinations   198.18.6.0/24                   every address is dst
#   20 ms further       198.18.7.0/24   fd00:18:7::/64  dst, through a user-space delay relay in r2
#   lossy               198.18.8.0/24                   dst, 5 ms further, every 4th packet dropped
#   two equal-cost paths 198.18.9.0/24  fd00:18:9::/64  r1 spreads flows (by ports) over r2 and r2b,
#                       a second router beside r2 (198.18.10.2 / fd00:18:10::2), both on to r3
#   smaller link        198.18.12.2     fd00:18:12::2   dst behind a link of MTU 1,400 from r3 (replies come
#                       back on the 1,500 link): r3 says "fragmentation needed" / "packet too big"
# Beside the chain, two namespaces with only loopback for ICMP privilege modes:
# $P-allow where net.ipv4.ping_group_range lets every group open ICMP datagram sockets, and
# $P-deny where it lets none (the kernel's default).
set -euo pipefail
P=${SONDE_LAB_PREFIX:-sonde}
NS=("$P-r1" "$P-r2" "$P-r3" "$P-dst" "$P-r2b")
HERE=$(cd "$(dirname "$0")" && pwd)
RELAY_PID=/run/$P-lab-relay.pid

down() {
    if [ -f "$RELAY_PID" ]; then
        local pid; pid=$(cat "$RELAY_PID")
        if grep -q tun-relay "/proc/$pid/cmdline" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
        rm -f "$RELAY_PID"
    fi
    for ns in "${NS[@]}" "$P-allow" "$P-deny"; do ip netns del "$ns" 2>/dev/null || true; done
    ip link del "$P-h0" 2>/dev/null || true
    ip route del 198.18.0.0/15 2>/dev/null || true
    ip -6 route del fd00:18::/32 2>/dev/null || true
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
    ip addr add fd00:18::1/64 dev "$P-h0" nodad
    ip link set "$P-h0" up
    ip -n "$P-r1" addr add 198.18.0.2/30 dev a0
    ip -n "$P-r1" addr add fd00:18::2/64 dev a0 nodad
    ip -n "$P-r1" link set a0 up
    # r1 <-> r2 <-> r3 <-> dst
    local i
    for i in 1 2 3; do
        local left="${NS[$((i - 1))]}" right="${NS[$i]}"
        ip -n "$left" link add b$i type veth peer name a$i netns "$right"
        ip -n "$left" addr add 198.18.$i.1/30 dev b$i
        ip -n "$left" addr add fd00:18:$i::1/64 dev b$i nodad
        ip -n "$left" link set b$i up
        ip -n "$right" addr add 198.18.$i.2/30 dev a$i
        ip -n "$right" addr add fd00:18:$i::2/64 dev a$i nodad
        ip -n "$right" link set a$i up
    done
    # r1 <-> r2b <-> r3: the second of two equal-cost paths to 198.18.9.0/24
    ip -n "$P-r1" link add c1 type veth peer name a1 netns "$P-r2b"
    ip -n "$P-r1" addr add 198.18.10.1/30 dev c1
    ip -n "$P-r1" addr add fd00:18:10::1/64 dev c1 nodad
    ip -n "$P-r1" link set c1 up
    ip -n "$P-r2b" addr add 198.18.10.2/30 dev a1
    ip -n "$P-r2b" addr add fd00:18:10::2/64 dev a1 nodad
    ip -n "$P-r2b" link set a1 up
    ip -n "$P-r2b" link add b2 type veth peer name c2 netns "$P-r3"
    ip -n "$P-r2b" addr add 198.18.11.1/30 dev b2
    ip -n "$P-r2b" addr add fd00:18:11::1/64 dev b2 nodad
    ip -n "$P-r2b" link set b2 up
    ip -n "$P-r3" addr add 198.18.11.2/30 dev c2
    ip -n "$P-r3" addr add fd00:18:11::2/64 dev c2 nodad
    ip -n "$P-r3" link set c2 up
    # r3 <-> dst over a second link of MTU 1,400
    ip -n "$P-r3" link add m3 type veth peer name m4 netns "$P-dst"
    ip -n "$P-r3" link set m3 mtu 1400
    ip -n "$P-dst" link set m4 mtu 1400
    ip -n "$P-r3" addr add 198.18.12.1/30 dev m3
    ip -n "$P-r3" addr add fd00:18:12::1/64 dev m3 nodad
    ip -n "$P-r3" link set m3 up
    ip -n "$P-dst" addr add 198.18.12.2/30 dev m4
    ip -n "$P-dst" addr add fd00:18:12::2/64 dev m4 nodad
    ip -n "$P-dst" link set m4 up
    ip -n "$P-dst" addr add 198.18.9.0/24 dev lo    # behind two equal-cost paths
    ip -n "$P-dst" addr add fd00:18:9::1/128 dev lo nodad
    ip -n "$P-dst" addr add 198.18.4.1/32 dev lo
    ip -n "$P-dst" addr add 198.18.6.0/24 dev lo   # many destinations, for benchmarks
    ip -n "$P-dst" addr add 198.18.7.0/24 dev lo   # behind the delay relay
    ip -n "$P-dst" addr add 198.18.8.0/24 dev lo   # behind the lossy relay
    ip -n "$P-dst" addr add fd00:18:4::1/128 dev lo nodad
    ip -n "$P-dst" -6 route add local fd00:18:7::/64 dev lo
    for ns in "$P-r1" "$P-r2" "$P-r3" "$P-r2b"; do
        ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
    done
    # answer every probe: no ICMP rate limit inside the lab (tests trace back to back)
    for ns in "${NS[@]}"; do
        ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
        ip netns exec "$ns" sysctl -qw net.ipv4.icmp_msgs_per_sec=100000
        ip netns exec "$ns" sysctl -qw net.ipv4.icmp_msgs_burst=100000
        ip netns exec "$ns" sysctl -qw net.ipv6.icmp.ratelimit=0
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
    # equal-cost multipath at r1, hashed on addresses and ports (policy 1), as routers balance flows
    ip netns exec "$P-r1" sysctl -qw net.ipv4.fib_multipath_hash_policy=1
    ip netns exec "$P-r1" sysctl -qw net.ipv6.fib_multipath_hash_policy=1
    ip -n "$P-r1" route add 198.18.9.0/24 nexthop via 198.18.1.2 nexthop via 198.18.10.2
    ip -n "$P-r2b" route add 198.18.0.0/30 via 198.18.10.1
    ip -n "$P-r2b" route add default via 198.18.11.2
    ip -n "$P-r1" -6 route add fd00:18:9::/64 nexthop via fd00:18:1::2 nexthop via fd00:18:10::2
    ip -n "$P-r2b" -6 route add fd00:18::/64 via fd00:18:10::1
    ip -n "$P-r2b" -6 route add default via fd00:18:11::2
    ip -6 route add fd00:18::/32 via fd00:18::2 dev "$P-h0"
    ip -n "$P-r1" -6 route add default via fd00:18:1::2
    ip -n "$P-r2" -6 route add fd00:18::/64 via fd00:18:1::1
    ip -n "$P-r2" -6 route add default via fd00:18:2::2
    ip -n "$P-r3" -6 route add fd00:18::/64 via fd00:18:2::1
    ip -n "$P-r3" -6 route add fd00:18:1::/64 via fd00:18:2::1
    ip -n "$P-r3" -6 route add default via fd00:18:3::2
    ip -n "$P-dst" -6 route add default via fd00:18:3::1
    ip -n "$P-r3" -6 route add unreachable fd00:18:5::/64
    # silent drop: packets to 198.18.4.1 / fd00:18:4::1 vanish on dst, no answer of any kind
    ip netns exec "$P-dst" nft add table inet lab
    ip netns exec "$P-dst" nft add chain inet lab in '{ type filter hook input priority 0; policy accept; }'
    ip netns exec "$P-dst" nft add rule inet lab in ip daddr 198.18.4.1 drop
    ip netns exec "$P-dst" nft add rule inet lab in ip6 daddr fd00:18:4::1 drop
    relay_up
    # beside the chain: where ICMP datagram sockets are allowed to every group, and to none
    ip netns add "$P-allow"
    ip -n "$P-allow" link set lo up
    ip netns exec "$P-allow" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
    ip netns add "$P-deny"
    ip -n "$P-deny" link set lo up
    ip netns exec "$P-deny" sysctl -qw net.ipv4.ping_group_range="1 0"
    # neighbour discovery along every path now, not in the first test's measurements
    local a
    for a in 198.18.3.2 198.18.7.1 198.18.8.1 fd00:18:3::2 fd00:18:7::1 198.18.11.2 fd00:18:11::2 198.18.9.1 fd00:18:9::1 \
            198.18.12.2 fd00:18:12::2; do
        ping -c 1 -W 3 "$a" >/dev/null 2>&1 || true
    done
    for a in 198.18.10.1 198.18.11.2 fd00:18:10::1 fd00:18:11::2; do
        ip netns exec "$P-r2b" ping -c 1 -W 3 "$a" >/dev/null 2>&1 || true
    done
}

# r2 sends 198.18.7.0/24, 198.18.8.0/24 and fd00:18:7::/64 through the TUN device d0, where
# tun-relay.py delays (and drops) them; what comes back out of d0 goes on to r3 (table 100).
relay_up() {
    ip netns exec "$P-r2" setsid python3 "$HERE/tun-relay.py" --dev d0 \
        --rule 198.18.7.0/24:20:0 --rule fd00:18:7::/64:20:0 --rule 198.18.8.0/24:5:4 \
        </dev/null >/dev/null 2>&1 &
    echo $! > "$RELAY_PID"
    local _
    for _ in $(seq 100); do ip -n "$P-r2" link show d0 >/dev/null 2>&1 && break; sleep 0.05; done
    ip -n "$P-r2" link show d0 >/dev/null
    ip netns exec "$P-r2" sysctl -qw net.ipv4.conf.all.rp_filter=0
    ip netns exec "$P-r2" sysctl -qw net.ipv4.conf.d0.rp_filter=0
    ip -n "$P-r2" link set d0 up
    ip -n "$P-r2" route add 198.18.7.0/24 dev d0
    ip -n "$P-r2" route add 198.18.8.0/24 dev d0
    ip -n "$P-r2" -6 route add fd00:18:7::/64 dev d0
    ip -n "$P-r2" rule add iif d0 lookup 100 pref 100
    ip -n "$P-r2" route add default via 198.18.2.2 table 100
    ip -n "$P-r2" -6 rule add iif d0 lookup 100 pref 100
    ip -n "$P-r2" -6 route add default via fd00:18:2::2 table 100
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
