#!/usr/bin/env bash
# Three "hosts" as Linux network namespaces for multi-host tests and demos (docs/MULTI-HOST.md).
#
#   scripts/netns-hosts.sh up   [PREFIX]   creates PREFIX-a, PREFIX-b, PREFIX-c (10.200.0.1-3/24)
#   scripts/netns-hosts.sh down [PREFIX]   removes them (and the switch namespace)
#   scripts/netns-hosts.sh cut   PREFIX HOST SECONDS          takes HOST's link down for SECONDS, then up
#   scripts/netns-hosts.sh reset PREFIX HOST SECONDS          HOST answers every TCP segment it gets
#                                                             with a reset for SECONDS (nftables)
#   scripts/netns-hosts.sh loss  PREFIX HOST PERCENT SECONDS  HOST drops PERCENT % of the packets it
#                                                             gets, at random, for SECONDS (nftables)
#
# PREFIX defaults to "mw" (so scenarios/hosts-netns.yaml's mw-a, mw-b, mw-c); tests pass a unique
# one so that concurrent runs never collide. Each host namespace has one interface, eth0, a veth
# whose peer sits on a bridge inside a fourth namespace, PREFIX-sw: no interface, address or route
# is added to the namespace the script runs in. Needs root (CAP_NET_ADMIN) and iproute2.
set -euo pipefail

action=${1:-}
prefix=${2:-mw}
hosts=(a b c)

if ! [[ "$prefix" =~ ^[a-z][a-z0-9]{0,7}$ ]]; then
    echo "netns-hosts: prefix '$prefix' must be 1-8 lowercase letters or digits, starting with a letter" >&2
    exit 2
fi

down() {
    for h in "${hosts[@]}" sw; do
        if ip netns list | grep -qw "^$prefix-$h"; then ip netns del "$prefix-$h"; fi
    done
}

up() {
    # A half-made set from an earlier failure goes first.
    down
    trap 'down; exit 1' ERR
    ip netns add "$prefix-sw"
    ip -n "$prefix-sw" link add br0 type bridge
    ip -n "$prefix-sw" link set br0 up
    ip -n "$prefix-sw" link set lo up
    local i=1
    for h in "${hosts[@]}"; do
        ip netns add "$prefix-$h"
        ip link add eth0 netns "$prefix-$h" type veth peer name "p$h" netns "$prefix-sw"
        ip -n "$prefix-sw" link set "p$h" master br0
        ip -n "$prefix-sw" link set "p$h" up
        ip -n "$prefix-$h" addr add "10.200.0.$i/24" dev eth0
        ip -n "$prefix-$h" link set eth0 up
        ip -n "$prefix-$h" link set lo up
        i=$((i + 1))
    done
    trap - ERR
    # Each host reaches the others before the script says it is done.
    for peer in 2 3; do
        # No ping on a slim machine: a TCP connect to a closed port is refused only by a reachable host.
        local said
        said=$(ip netns exec "$prefix-a" timeout 5 bash -c "exec 3<>/dev/tcp/10.200.0.$peer/9" 2>&1 || true)
        if [[ "$said" != *refused* ]]; then
            echo "netns-hosts: $prefix-a cannot reach 10.200.0.$peer" >&2
            down
            exit 1
        fi
    done
    echo "netns-hosts: $prefix-a 10.200.0.1, $prefix-b 10.200.0.2, $prefix-c 10.200.0.3"
}

cut() {
    local host=${1:?host (a, b or c)} seconds=${2:?seconds}
    ip -n "$prefix-$host" link set eth0 down
    sleep "$seconds"
    ip -n "$prefix-$host" link set eth0 up
}

# One nftables input rule in HOST's namespace for SECONDS, then the table is removed.
filter() {
    local host=${1:?host (a, b or c)} seconds=${2:?seconds} rule=${3:?rule}
    command -v nft >/dev/null || { echo "netns-hosts: nft not found (apt-get install nftables)" >&2; exit 1; }
    ip netns exec "$prefix-$host" nft -f - <<RULES
table inet meshfault {
    chain input {
        type filter hook input priority 0; policy accept;
        iifname "eth0" $rule
    }
}
RULES
    sleep "$seconds"
    ip netns exec "$prefix-$host" nft delete table inet meshfault
}

case "$action" in
    up) up ;;
    down) down ;;
    cut) shift 2; cut "$@" ;;
    reset) shift 2; filter "${1:-}" "${2:-}" "meta l4proto tcp reject with tcp reset" ;;
    loss) shift 2; filter "${1:-}" "${3:-}" "numgen random mod 100 < ${2:?percent} drop" ;;
    *) echo "usage: $0 up|down [PREFIX] | cut PREFIX HOST SECONDS | reset PREFIX HOST SECONDS | loss PREFIX HOST PERCENT SECONDS" >&2; exit 2 ;;
esac
