#!/bin/bash
# shellcheck disable=SC2317 # functions are called indirectly (check, wait_until)
# A fleet of three daemons sharing bans, blocks and failure counts through a
# real redis-server (Debian's), end to end. Each node is a network namespace
# with xdpban attached to its link to an attacker namespace of its own (all
# three attackers have the same address, 192.0.2.66: one botnet host trying
# every server behind one name), its own pins, store, control socket and
# policy endpoint. Redis listens only on a Unix socket in the run's
# directory, which every namespace reaches.
# Checked: 5 failures spread 2+2+1 over the three nodes (no node alone sees
# 5) ban the attacker on all three (its SYNs time out at each); 3 failures of
# one account from 2 addresses over 3 nodes block it on every node's policy
# endpoint; Redis stopped mid-attack: every node keeps deciding locally, says
# so once, and when a new, empty Redis starts, the nodes push their bans
# back and receive what was decided meanwhile; nothing banned is lifted;
# xdpban unban, ban, allow and unallow on one node reach the other two.
# Every node's store records the fleet's bans it enforces (xdpban history:
# reason "fleet", source the deciding node, or "redis" when a sync loaded
# it), once however often they arrive, ended when they expire; in the end
# each node's store holds exactly the live bans of its kernel maps.

# history_of N SUBJECT JQ: JQ over node N's history rows of exactly SUBJECT (newest first).
history_of() {
	xn "$1" --json history "$2" | jq -r --arg s "$2" "[.history[] | select(.subject == \$s)] | $3"
}

# newest N SUBJECT: "type reason source count state" of the newest row.
newest() {
	history_of "$1" "$2" 'first | "\(.type) \(.reason) \(.source) \(.count) \(.state)"'
}

rows_of() { # rows_of N SUBJECT: how many history rows SUBJECT has on node N
	history_of "$1" "$2" length
}

ended_on() { # ended_on N SUBJECT: the newest row expired and the sweep closed it
	[ "$(history_of "$1" "$2" 'first | "\(.state) \(.lift_reason)"')" = "expired expired" ]
}

allowed_on() { # allowed_on N PREFIX
	xn "$1" --json list | jq -e --arg p "$2" '.allowlist[] | select(.prefix == $p)' >/dev/null
}

nowhere_but() { # nowhere_but N CHECK ARG: CHECK fails on every other node
	local n
	for n in "${NODES[@]}"; do
		[ "$n" = "$1" ] || ! "$2" "$n" "$3" || return 1
	done
}

# allow_sources_are PREFIX WORDS: each node's allowlist row of PREFIX has
# that source, in node order ('-': no row).
allow_sources_are() {
	local n source sources=()
	for n in "${NODES[@]}"; do
		source=$(sqlite3 "$WORK/node$n/state/xdpban.db" \
			"SELECT source FROM allowlist WHERE prefix = '$1'")
		sources+=("${source:--}")
	done
	[ "${sources[*]}" = "$2" ]
}

everywhere() { # everywhere CHECK ARG
	local n
	for n in "${NODES[@]}"; do "$1" "$n" "$2" || return 1; done
}

# What an operator does by hand with the CLI on one node reaches the others,
# even a ban that another node decided a moment before.
test_operator_changes_propagate() {
	local manual=198.51.100.250 ruled=198.51.100.240 range=203.0.113.200/29 i
	xn 3 ban "$manual" --for 10m >/dev/null
	check "xdpban ban on node 3 bans on nodes 1 and 2" wait_until 10 everywhere banned_on "$manual"
	xn 2 unban "$manual" >/dev/null
	check "xdpban unban on node 2 lifts it on nodes 1 and 3" \
		wait_until 10 nowhere_but 2 banned_on "$manual"
	check_eq "and in Redis" "" "$(redis_cli zscore xdpban:bans "$manual")"
	check "node 1 logged where the unban came from" said 1 "fleet: unban $manual from node node2"
	for i in 1 2 3 4 5; do fail_on 2 "$ruled"; done
	check "a rule's ban on node 2 reaches every node" wait_until 10 everywhere banned_on "$ruled"
	xn 1 unban "$ruled" >/dev/null
	check "unbanned on node 1 at once, it is lifted on nodes 2 and 3" \
		wait_until 10 nowhere_but 1 banned_on "$ruled"
	xn 2 allow "$range" >/dev/null
	check "xdpban allow on node 2 allowlists $range on every node" \
		wait_until 10 everywhere allowed_on "$range"
	check_eq "Redis holds the fleet's allowlist" "$range" "$(redis_cli smembers xdpban:allow)"
	# Each node's store keeps it, so that node's reboot does not lose it.
	check "every node's store records it: node 2's from its CLI, the others' from node 2" \
		wait_until 5 allow_sources_are "$range" "node2 cli node2"
	xn 2 unallow "$range" >/dev/null
	check "xdpban unallow on node 2 takes it off every node" \
		wait_until 10 nowhere_but 2 allowed_on "$range"
	check "and out of every node's store" \
		wait_until 5 allow_sources_are "$range" "- - -"
}

permanent_on() { # permanent_on N IP: node N holds a permanent ban of exactly IP
	xn "$1" --json list |
		jq -e --arg ip "$2" '.bans[] | select(.prefix == $ip and .permanent)' >/dev/null
}

# The operator's permanent ban of an address whose open connections go on
# failing, on the node where it was made: the IP rule's shorter ban must not
# cut it short there, nor anywhere (Redis counts nothing for a banned
# address; the other nodes' rules know of the ban from the fleet).
test_fleet_ban_keeps_a_longer_one() {
	local kept=198.51.100.230 n
	xn 1 ban "$kept" >/dev/null
	check "a permanent ban by hand on node 1 reaches every node" \
		wait_until 10 everywhere permanent_on "$kept"
	for _ in 1 2 3 4 5; do fail_on 1 "$kept"; done
	check "5 failures on node 1: its rule keeps the longer ban" \
		wait_until 10 said 1 "not banning $kept for "
	for n in "${NODES[@]}"; do
		check "node $n: the ban of $kept is still permanent" permanent_on "$n" "$kept"
	done
	xn 1 unban "$kept" >/dev/null
	check "unbanned on node 1, it is lifted everywhere" \
		wait_until 10 nowhere_but 1 banned_on "$kept"
}

# Node 1 publishes its bans (its own and the fleet's) as a DNSBL served by a
# real rbldnsd, which lists the attacker.
# Propagation latency (decision to the ban in the other nodes' maps) over 100
# bans is printed (median, p99), never asserted.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

NODES=(1 2 3)
ATTACKER=192.0.2.66
NODE_IP=192.0.2.1
POLICY_PORT=18650
REDIS_PID=""

node_ns() { echo "xb-fleet$1-$$"; }
attacker_ns() { echo "xb-fleetatk$1-$$"; }
node_pin() { echo "/sys/fs/bpf/xdpban-fleet$1-$$"; }
node_ctl() { echo "$WORK/node$1/ctl.sock"; }
node_log() { echo "$WORK/node$1/daemon.err"; }

# xn N ARGS...: xdpban in node N's namespace, on its pins and store.
xn() {
	local n=$1
	shift
	nsenter --net="/run/netns/$(node_ns "$n")" "$XDPBAN" --pin-dir "$(node_pin "$n")" \
		--state-dir "$WORK/node$n/state" "$@"
}

ctl_n() { # ctl_n N JSON
	printf '%s\n' "$2" | socat -t 30 - "UNIX-CONNECT:$(node_ctl "$1")"
}

fail_on() { # fail_on N IP [USER]
	ctl_n "$1" "{\"cmd\":\"event\",\"outcome\":\"fail\",\"ip\":\"$2\",\"user\":\"${3:-}\"}" \
		>/dev/null
}

banned_on() { # banned_on N IP
	xn "$1" --json list | jq -e --arg ip "$2" '.bans[] | select(.prefix | startswith($ip))' \
		>/dev/null
}

banned_everywhere() {
	local n
	for n in "${NODES[@]}"; do banned_on "$n" "$1" || return 1; done
}

said() { # said N TEXT
	grep -qF -- "$2" "$(node_log "$1")"
}

redis_cli() {
	redis-cli -s "$WORK/redis.sock" "$@"
}

redis_up() {
	[ "$(redis_cli ping 2>/dev/null)" = PONG ]
}

start_redis() {
	redis-server --port 0 --unixsocket "$WORK/redis.sock" --unixsocketperm 777 --save '' \
		--appendonly no --dir "$WORK" --logfile "$WORK/redis.log" </dev/null &
	REDIS_PID=$!
	BG_PIDS+=("$REDIS_PID")
	wait_until 10 redis_up
}

stop_redis() {
	kill -TERM "$REDIS_PID" 2>/dev/null || true
	wait "$REDIS_PID" 2>/dev/null || true
	REDIS_PID=""
}

write_config() { # write_config N
	local dir=$WORK/node$1
	mkdir -p "$dir/state"
	: >"$dir/empty.log"
	cat >"$dir/xdpban.conf" <<-EOF
		[daemon]
		pin_dir = $(node_pin "$1")
		state_dir = $dir/state
		control_socket = $(node_ctl "$1")
		log_level = info
		sweep_interval = 1s

		[rules]
		ip_failures = 5
		account_failures = 3
		account_min_ips = 2
		tarpit = 7s

		[policy]
		listen = 127.0.0.1:$POLICY_PORT
		api_key = off

		[fleet]
		redis = unix:$WORK/redis.sock
		node = node$1

		[dnsbl]
		zone_ip4set = $dir/zone/dnsbl.ip4
		zone_ip6trie = $dir/zone/dnsbl.ip6

		[source empty]
		path = $dir/empty.log
	EOF
	mkdir -p "$dir/zone"
	chmod 755 "$dir" "$dir/zone" # rbldnsd reads the zone as nobody
}

node_answers() {
	[ "$(ctl_n "$1" '{"cmd":"status"}' 2>/dev/null | jq -r .ok)" = true ]
}

start_node() {
	local n=$1 pid
	nsenter --net="/run/netns/$(node_ns "$n")" "$XDPBAN" run -c "$WORK/node$n/xdpban.conf" \
		</dev/null 2>>"$(node_log "$n")" &
	pid=$!
	BG_PIDS+=("$pid")
	eval "NODE_PID_$n=$pid"
	wait_until 10 node_answers "$n"
}

setup_fleet() {
	local n ns atk
	start_redis
	for n in "${NODES[@]}"; do
		ns=$(node_ns "$n") atk=$(attacker_ns "$n")
		ip netns add "$ns"
		ip netns add "$atk"
		ip -n "$ns" link set lo up
		ip -n "$ns" link add s1 type veth peer name a1 netns "$atk"
		ip -n "$ns" addr add "$NODE_IP/24" dev s1
		ip -n "$atk" addr add "$ATTACKER/24" dev a1
		ip -n "$ns" link set s1 up
		ip -n "$atk" link set a1 up
		spawn "$ns" socat "TCP4-LISTEN:143,fork,reuseaddr" "SYSTEM:echo hi"
		wait_until 5 listening "$ns" "0.0.0.0:143"
		xn "$n" attach s1 >/dev/null
		write_config "$n"
		start_node "$n"
	done
}

e2e_teardown() {
	local n ns pid
	for n in "${NODES[@]}"; do
		pid=$(eval "echo \${NODE_PID_$n:-}")
		[ -z "$pid" ] || { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	done
	for n in "${NODES[@]}"; do
		for ns in "$(node_ns "$n")" "$(attacker_ns "$n")"; do
			kill_ns_processes "$ns"
		done
		if [ -d "$(node_pin "$n")" ] && ns_exists "$(node_ns "$n")"; then
			xn "$n" detach --all >/dev/null 2>&1
		fi
		for ns in "$(node_ns "$n")" "$(attacker_ns "$n")"; do
			ns_exists "$ns" && ip netns del "$ns"
		done
		rm -rf "$(node_pin "$n")"
	done
	[ -z "$REDIS_PID" ] || stop_redis
}

test_failures_spread_over_the_fleet_ban_everywhere() {
	local n page
	fail_on 1 "$ATTACKER"
	fail_on 2 "$ATTACKER"
	fail_on 3 "$ATTACKER"
	fail_on 1 "$ATTACKER"
	check_not "4 failures over 3 nodes: not banned yet" banned_on 2 "$ATTACKER"
	fail_on 2 "$ATTACKER"
	check "the 5th failure (on node 2) bans $ATTACKER on all three nodes" \
		wait_until 5 banned_everywhere "$ATTACKER"
	for n in "${NODES[@]}"; do
		check "node $n drops the attacker's SYNs" \
			times_out "$(attacker_ns "$n")" "$NODE_IP" 143
	done
	check_eq "Redis holds the ban" 1 \
		"$(redis_cli zcount xdpban:bans "($(now_ms)" +inf)"
	page=$(node_metrics 3)
	check_eq "node 3's /metrics: in step with the fleet" 1 \
		"$(sample_value xdpban_fleet_synced <<<"$page")"
	check_ge "node 3's /metrics: the ban applied from another node" \
		"$(sample_value 'xdpban_fleet_remote_total{kind="ban"}' <<<"$page")" 1
	for n in "${NODES[@]}"; do
		check_eq "node $n's history: the fleet's ban, decided on node 2's failure, live" \
			"ban fleet node2 0 live" "$(newest "$n" "$ATTACKER")"
	done
	spawn "$(node_ns 1)" sh -c "exec rbldnsd -n -u nobody:nogroup -r '$WORK/node1/zone' \
		-b 127.0.0.1/15353 -c 1 bl.test:ip4set:dnsbl.ip4 bl.test:ip6trie:dnsbl.ip6 \
		>>'$WORK/rbldnsd.log' 2>&1"
	check "node 1's DNSBL zone, served by rbldnsd, lists the attacker" \
		wait_until 10 dnsbl_lists_attacker
}

node_metrics() { # node_metrics N: node N's /metrics page
	nsenter --net="/run/netns/$(node_ns "$1")" curl -sf -m 5 "http://127.0.0.1:$POLICY_PORT/metrics"
}

dnsbl_lists_attacker() {
	[ "$(nsenter --net="/run/netns/$(node_ns 1)" dig +short +tries=1 +time=1 -p 15353 \
		@127.0.0.1 66.2.0.192.bl.test A)" = 127.0.0.2 ]
}

policy_allow() { # policy_allow N LOGIN REMOTE: the status answered
	nsenter --net="/run/netns/$(node_ns "$1")" curl -s -m 10 \
		-H 'Content-Type: application/json' --data-binary \
		"{\"login\": \"$2\", \"pwhash\": \"ab\", \"remote\": \"$3\", \"device_id\": \"\", \"protocol\": \"imap\", \"session_id\": \"s$RANDOM\"}" \
		"http://127.0.0.1:$POLICY_PORT/?command=allow" | jq -r .status
}

test_account_block_is_fleet_wide() {
	fail_on 1 203.0.113.10 carol
	fail_on 2 203.0.113.11 carol
	fail_on 3 203.0.113.10 carol
	check "the 3rd failure of carol (2 addresses, 3 nodes) blocks her" \
		wait_until 5 said 3 "fleet: block account carol"
	check_eq "node 1's policy endpoint tarpits carol" 7 "$(policy_allow 1 carol 203.0.113.50)"
	check_eq "node 2's policy endpoint tarpits carol" 7 "$(policy_allow 2 carol 203.0.113.51)"
	check_eq "node 3's policy endpoint tarpits carol" 7 "$(policy_allow 3 carol 203.0.113.52)"
}

outage_lines() { # outage_lines N: how often node N said Redis was unavailable
	grep -cF "fleet: Redis at unix:$WORK/redis.sock unavailable" "$(node_log "$1")" || true
}

test_redis_restart_mid_attack_loses_nothing() {
	local n i during=198.51.100.77
	stop_redis
	for i in 1 2 3 4 5; do fail_on 1 "$during"; done
	check "without Redis, node 1 still bans by its own count" banned_on 1 "$during"
	check_not "node 2 does not know that ban yet" banned_on 2 "$during"
	sleep 2 # several reconnection attempts
	for n in "${NODES[@]}"; do
		check_eq "node $n said once that Redis is unavailable" 1 "$(outage_lines "$n")"
		check "node $n still enforces the ban from before the outage" \
			banned_on "$n" "$ATTACKER"
	done
	start_redis # a new, empty Redis: no persistence
	check "back: node 2 gets the ban node 1 decided during the outage" \
		wait_until 15 banned_on 2 "$during"
	check "back: node 3 too" wait_until 5 banned_on 3 "$during"
	check "the nodes pushed the earlier ban back into the empty Redis" \
		wait_until 5 sh -c "[ \"\$(redis-cli -s '$WORK/redis.sock' zscore xdpban:bans '$ATTACKER')\" != '' ]"
	check "and node 1's ban of $during" \
		wait_until 5 sh -c "[ \"\$(redis-cli -s '$WORK/redis.sock' zscore xdpban:bans '$during')\" != '' ]"
	for n in "${NODES[@]}"; do
		check "node $n logged the return" said "$n" "is back after"
		check_eq "node $n: the ban pushed again after the outage is still one row" \
			"1 ban fleet node2 0 live" "$(rows_of "$n" "$ATTACKER") $(newest "$n" "$ATTACKER")"
	done
	check_eq "node 1 recorded its own ban of $during as its rule's" "ban ip_rule" \
		"$(history_of 1 "$during" 'first | "\(.type) \(.reason)"')"
	# Pushed by node 1 or loaded by the sync, whichever reached the new Redis first.
	for n in 2 3; do
		check "node $n recorded it as the fleet's, from node 1 or Redis' list" \
			grep -qxE "ban fleet (node1|redis) 0 live" <<<"$(newest "$n" "$during")"
	done
}

# A ban another node made is recorded where it is enforced, and ended there
# when its deadline passes (the receiving node's sweep, every second here).
test_remote_bans_are_recorded_and_end() {
	local short=198.51.100.231 n
	xn 3 ban "$short" --for 15s >/dev/null
	check "xdpban ban --for 15s on node 3 reaches nodes 1 and 2" \
		wait_until 10 everywhere banned_on "$short"
	for n in 1 2; do
		check_eq "node $n's history: the ban from node 3, live, one row" \
			"1 ban fleet node3 0 live" "$(rows_of "$n" "$short") $(newest "$n" "$short")"
	done
	for n in 1 2; do
		check "node $n's history: ended when its deadline passed" \
			wait_until 40 ended_on "$n" "$short"
	done
}

# kernel_live N: node N's live bans, sorted (xdpban ban's too: the CLI records them).
kernel_live() {
	xn "$1" --json list | jq -r '.bans[] | select(.expired | not) | .prefix' | sort
}

store_live() { # store_live N: the prefixes of node N's live store rows, sorted
	xn "$1" --json history --limit 0 | jq -r '.history[] | select(.type == "ban" and
		.state == "live") | .subject' | sort
}

store_matches_kernel() { # store_matches_kernel N
	[ "$(kernel_live "$1")" = "$(store_live "$1")" ]
}

# After everything above (rule bans, the fleet's, an outage, hand-made
# changes, the latency run's 100 bans): each node's store holds exactly what
# its maps enforce, and no store write failed.
test_every_node_records_what_it_enforces() {
	local n
	for n in "${NODES[@]}"; do
		check "node $n: the store's live bans are the kernel's ($(kernel_live "$n" | wc -l))" \
			wait_until 10 store_matches_kernel "$n"
		check_not "node $n: no store write failed" said "$n" "store:"
	done
}

arrived() { # arrived COUNT: nodes 2 and 3 logged COUNT bans of the latency run
	[ "$(latencies | wc -l)" -ge "$1" ]
}

# The latency each receiving node logged: "(N.NNN ms after the decision)".
latencies() {
	grep -h "fleet: ban 198.51.100.1[0-9][0-9] .*from node" "$(node_log 2)" "$(node_log 3)" |
		sed -n 's/.*(\([0-9.]*\) ms after the decision).*/\1/p'
}

test_propagation_latency() {
	local i count median p99
	for i in $(seq 100 199); do
		for _ in 1 2 3 4 5; do fail_on 1 "198.51.100.$i"; done
	done
	check "100 bans decided on node 1 reach nodes 2 and 3" wait_until 20 arrived 200
	count=$(latencies | wc -l)
	median=$(latencies | sort -n | awk -v n="$count" 'NR == int((n + 1) / 2)')
	p99=$(latencies | sort -n | awk -v n="$count" 'NR == int(n * 0.99 + 0.999)')
	diag "propagation over $count arrivals (2 nodes x 100 bans): median $median ms, p99 $p99 ms"
}

main() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "1..0 # SKIP: needs root (BPF, netns)"
		exit 0
	fi
	if ! command -v redis-server >/dev/null; then
		echo "1..0 # SKIP: redis-server is not installed (scripts/install-deps.sh --tests)"
		exit 0
	fi
	install_traps
	WORK=$(mktemp -d /tmp/xdpban-e2e.XXXXXX)
	chmod 711 "$WORK"
	mount_bpffs
	setup_fleet
	for test in test_failures_spread_over_the_fleet_ban_everywhere \
		test_account_block_is_fleet_wide test_redis_restart_mid_attack_loses_nothing \
		test_operator_changes_propagate test_fleet_ban_keeps_a_longer_one \
		test_remote_bans_are_recorded_and_end \
		test_propagation_latency test_every_node_records_what_it_enforces; do
		if [ -n "${E2E_ONLY:-}" ] && [ "$E2E_ONLY" != "$test" ]; then
			continue
		fi
		diag "$test"
		"$test"
	done
	tap_finish
}

main
