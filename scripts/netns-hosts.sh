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
#   scripts/netns-hosts.sh proxy PREFIX HOST                  routes the TCP connections HOST opens to
#                                                             the other hosts through a delay proxy
#                                                             (scripts/tcp-delay-proxy.py), delay 0
#   scripts/netns-hosts.sh delay PREFIX HOST MS SECONDS       that proxy delays every byte by MS ms
#                                                             for SECONDS, both ways (no tc netem here)
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

state=/run/netns-hosts
proxy_port=7999
proxy_mark=0x4d

down() {
    for h in "${hosts[@]}"; do
        local pidfile="$state/$prefix-$h.proxy.pid"
        if [[ -f "$pidfile" ]]; then
            local pid; pid=$(cat "$pidfile")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
            rm -f "$pidfile" "$state/$prefix-$h.delay" "$state/$prefix-$h.proxy.log"
        fi
    done
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

address_of() {
    case "$1" in a) echo 10.200.0.1 ;; b) echo 10.200.0.2 ;; c) echo 10.200.0.3 ;;
        *) echo "netns-hosts: unknown host '$1' (a, b or c)" >&2; exit 2 ;; esac
}

# The delay proxy in HOST's namespace, and a DNAT rule sending the connections HOST opens to the
# other hosts to it (its own upstream connections carry a mark the rule skips).
proxy() {
    local host=${1:?host (a, b or c)}
    local address; address=$(address_of "$host")
    command -v nft >/dev/null || { echo "netns-hosts: nft not found (apt-get install nftables)" >&2; exit 1; }
    mkdir -p "$state"
    local pidfile="$state/$prefix-$host.proxy.pid" log="$state/$prefix-$host.proxy.log" control="$state/$prefix-$host.delay"
    echo 0 > "$control"
    ip netns exec "$prefix-$host" setsid python3 "$(dirname "$0")/tcp-delay-proxy.py" \
        "$address" "$proxy_port" "$control" "$proxy_mark" > "$log" 2>&1 < /dev/null &
    echo $! > "$pidfile"
    for _ in $(seq 50); do
        grep -qs "tcp-delay-proxy: pid" "$log" && break
        sleep 0.1
    done
    grep -qs "tcp-delay-proxy: pid" "$log" || { echo "netns-hosts: the delay proxy did not start: $(cat "$log")" >&2; exit 1; }
    ip netns exec "$prefix-$host" nft -f - <<RULES
table ip meshproxy {
    chain output {
        type nat hook output priority -100; policy accept;
        meta mark $proxy_mark return
        ip daddr 10.200.0.0/24 ip daddr != $address meta l4proto tcp dnat to $address:$proxy_port
    }
}
RULES
}

delay() {
    local host=${1:?host (a, b or c)} ms=${2:?milliseconds} seconds=${3:?seconds}
    local control="$state/$prefix-$host.delay"
    [[ -f "$state/$prefix-$host.proxy.pid" ]] || { echo "netns-hosts: no delay proxy on $host (run: $0 proxy $prefix $host)" >&2; exit 1; }
    echo "$ms" > "$control"
    echo "netns-hosts: $ms ms each way on $host for $seconds s;" \
        "$(grep -c "connection to" "$state/$prefix-$host.proxy.log" || true) connections through the proxy so far"
    sleep "$seconds"
    echo 0 > "$control"
}

case "$action" in
    up) up ;;
    down) down ;;
    cut) shift 2; cut "$@" ;;
    reset) shift 2; filter "${1:-}" "${2:-}" "meta l4proto tcp reject with tcp reset" ;;
    loss) shift 2; filter "${1:-}" "${3:-}" "numgen random mod 100 < ${2:?percent} drop" ;;
    proxy) shift 2; proxy "$@" ;;
    delay) shift 2; delay "$@" ;;
    *) echo "usage: $0 up|down [PREFIX] | cut PREFIX HOST SECONDS | reset PREFIX HOST SECONDS | loss PREFIX HOST PERCENT SECONDS | proxy PREFIX HOST | delay PREFIX HOST MS SECONDS" >&2; exit 2 ;;
esac
