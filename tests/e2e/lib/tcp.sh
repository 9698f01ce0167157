# shellcheck shell=bash
# TCP listeners and probes between the namespaces (sourced by
# tests/e2e/lib.sh, never run): socat greeters, and clients that tell an
# answered connection from one whose SYNs were dropped.

listening() {
	in_ns "$1" ss -Hltn | grep -q "$2 "
}

# listen NS PORT [SYSTEM-COMMAND]: IPv4 and IPv6 listeners, by default a
# greeter that sends "hi" and closes, like a mail server's banner.
listen() {
	local ns=$1 port=$2 command=${3:-echo hi}
	spawn "$ns" socat "TCP4-LISTEN:$port,fork,reuseaddr" "SYSTEM:$command"
	spawn "$ns" socat "TCP6-LISTEN:$port,fork,reuseaddr,ipv6only=1" "SYSTEM:$command"
	wait_until 5 listening "$ns" "0.0.0.0:$port"
	wait_until 5 listening "$ns" "\[::\]:$port"
}

socat_address() {
	case $1 in
	*:*) echo "TCP6:[$1]:$2" ;;
	*) echo "TCP4:$1:$2" ;;
	esac
}

# connects NS HOST PORT [TIMEOUT]: succeeds when the greeting arrives.
connects() {
	local ns=$1 host=$2 port=$3 timeout=${4:-1} greeting
	greeting=$(timeout 15 nsenter --net="/run/netns/$ns" \
		socat -u "$(socat_address "$host" "$port"),connect-timeout=$timeout" - 2>/dev/null) ||
		return 1
	[ "$greeting" = hi ]
}

# tcp_counter NS NAME: a TCP counter of the namespace's kernel (nstat names).
tcp_counter() {
	in_ns "$1" nstat -asz "$2" | awk -v name="$2" '$1 == name { print $2; found = 1 }
		END { if (!found) print 0 }'
}

# syns_sent NS: the SYNs the namespace's kernel has sent so far, first
# attempts plus retransmissions.
syns_sent() {
	echo $(($(tcp_counter "$1" TcpActiveOpens) + $(tcp_counter "$1" TcpExtTCPSynRetrans)))
}

# A connection attempt that gets no answer: the SYNs were dropped. A refused
# or reset connection would fail fast and is not a drop, so it does not count.
times_out() {
	local ns=$1 host=$2 port=$3 timeout=${4:-1} started elapsed
	started=$(now_ms)
	! connects "$ns" "$host" "$port" "$timeout" || return 1
	elapsed=$(($(now_ms) - started))
	[ "$elapsed" -ge $((${timeout%%.*} * 900)) ]
}
