#!/bin/bash
# Benchmark part 2: a spoofed SYN flood through a veth pair between two
# namespaces, the same generator for every receiver, in one run:
#   none            no filter: the kernel answers every SYN (RST)
#   XDP_DROP        a program that only drops (the limit of this machine)
#   xdpban          xdpban attached, N bans and the whole world database
#                   (every country but DE blocked) loaded
#   nft ingress     nftables, netdev ingress, a set of the same N addresses
#   nft prerouting  nftables, inet prerouting at raw priority, the same set
#   iptables+ipset  iptables raw PREROUTING, an ipset hash:ip of the same N
# The generator (build/bench/flood, BPF_PROG_TEST_RUN live frames) sends
# valid SYNs (both checksums) from sources drawn at random from the N banned
# addresses. Generator and receiver share one CPU: the receiver's NAPI runs
# inline as each batch of 128 frames ends, so the veth's ring (256) never
# overflows and every frame sent is processed. (With the NAPI as a thread on
# the other CPU, this VM's cross-CPU wake-ups are slow enough that the ring
# overflows while the receiver is mostly idle: the rate would measure
# wake-up latency, not the filters.) The CPU time per packet is therefore
# generator plus receiver; the receiver's own cost is read as the difference
# to the XDP_DROP receiver. Every round measures every receiver in turn; the
# medians of ROUNDS rounds are reported.
#
# Environment: BENCH_BANS (1000000), FLOOD_SECONDS (2 a measurement),
# ROUNDS (5), RESULTS (bench/results).
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

PART=flood
BANS=${BENCH_BANS:-1000000}
FLOOD_SECONDS=${FLOOD_SECONDS:-2}
WARMUP_SECONDS=0.5
GEN=xbb-gen-$$
RX=xbb-rx-$$
GEN_DEV=xg$$
RX_DEV=xr$$
RX_IP=192.0.2.1
GEN_IP=192.0.2.2
PORT=25 # a port xdpban protects by default
PIN=/sys/fs/bpf/xdpban-bench-$$
STATE=$BENCH_WORK/state
RECEIVERS=(none xdp_drop xdpban nft_ingress nft_prerouting iptables_ipset)

need_root "$PART"
need_commands "$PART" nft ipset iptables ethtool jq nsenter taskset
[ -x "$BENCH_BIN/flood" ] || skip_part "$PART" "$BENCH_BIN/flood is not built (make bench builds it)"

xb() {
	in_ns "$RX" "$XDPBAN" --pin-dir "$PIN" --state-dir "$STATE" "$@"
}

# --- the link -------------------------------------------------------------------

SOFTIRQ_PID="" # softirq work the inline runs leave over goes to ksoftirqd
GEN_CPU=-1

setup_link() {
	new_ns "$GEN"
	new_ns "$RX"
	ip -n "$RX" link add "$RX_DEV" type veth peer name "$GEN_DEV" netns "$GEN"
	ip -n "$RX" addr add "$RX_IP/24" dev "$RX_DEV"
	ip -n "$GEN" addr add "$GEN_IP/24" dev "$GEN_DEV"
	ip -n "$RX" link set "$RX_DEV" up
	ip -n "$GEN" link set "$GEN_DEV" up
	# The unfiltered receiver answers every SYN; the answers go back to the
	# generator's namespace, which forwards nothing and drops them.
	ip -n "$RX" route add default via "$GEN_IP"
	in_ns "$RX" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	# Frames sent to a veth are received by its peer's NAPI, which exists
	# once GRO is on (or XDP attached), scheduled on the sending CPU.
	ip netns exec "$RX" ethtool -K "$RX_DEV" gro on
	GEN_CPU=$(($(nproc) - 1))
	SOFTIRQ_PID=$(pgrep -x "ksoftirqd/$GEN_CPU" || true)
	MAC_GEN=$(ip -n "$GEN" -j link show "$GEN_DEV" | jq -r '.[0].address')
	MAC_RX=$(ip -n "$RX" -j link show "$RX_DEV" | jq -r '.[0].address')
}

# --- the receivers' filters, loaded once, switched on and off per measurement ------

load_filters() {
	local nft_elements
	note "flood: $BANS addresses; loading them into xdpban, nftables (2 sets) and ipset"
	random_ipv4 "$BANS" 7 >"$BENCH_WORK/banned.txt"

	new_pin_dir "$PIN"
	mkdir -p "$STATE"
	xb geo load >/dev/null
	# shellcheck disable=SC2046 # one country code per word
	xb geo block $(xb --json geo list --all |
		jq -r '.countries[] | select(.prefixes > 0 and .country != "DE") | .country') >/dev/null
	xb ban --file "$BENCH_WORK/banned.txt" >/dev/null

	nft_elements=$(sed 's/$/,/' "$BENCH_WORK/banned.txt")
	{
		for table in "netdev xbb_ingress" "inet xbb_prerouting"; do
			printf 'table %s {\n\tset banned {\n\t\ttype ipv4_addr; size %d\n\t\telements = {\n' \
				"$table" $((BANS + BANS / 16))
			printf '%s\n' "$nft_elements"
			printf '\t\t}\n\t}\n}\n'
		done
	} >"$BENCH_WORK/sets.nft"
	in_ns "$RX" nft -f "$BENCH_WORK/sets.nft"
	{
		echo "create xbb_banned hash:ip family inet hashsize 1048576 maxelem $((BANS * 2))"
		sed 's/^/add xbb_banned /' "$BENCH_WORK/banned.txt"
	} | in_ns "$RX" ipset restore
}

filter_on() {
	case $1 in
	none) ;;
	xdp_drop) ip -n "$RX" link set dev "$RX_DEV" xdpdrv obj "$REPO/build/xdp_drop.bpf.o" sec xdp ;;
	xdpban) xb attach "$RX_DEV" >/dev/null ;;
	nft_ingress)
		in_ns "$RX" nft "add chain netdev xbb_ingress c { type filter hook ingress device $RX_DEV priority -500; }"
		in_ns "$RX" nft add rule netdev xbb_ingress c ip saddr @banned counter drop
		;;
	nft_prerouting)
		in_ns "$RX" nft "add chain inet xbb_prerouting c { type filter hook prerouting priority raw; }"
		in_ns "$RX" nft add rule inet xbb_prerouting c ip saddr @banned counter drop
		;;
	iptables_ipset) in_ns "$RX" iptables -t raw -A PREROUTING -m set --match-set xbb_banned src -j DROP ;;
	esac
}

filter_off() {
	case $1 in
	none) ;;
	xdp_drop) ip -n "$RX" link set dev "$RX_DEV" xdpdrv off ;;
	xdpban) xb detach "$RX_DEV" >/dev/null ;;
	nft_ingress) in_ns "$RX" nft "flush chain netdev xbb_ingress c; delete chain netdev xbb_ingress c" ;;
	nft_prerouting) in_ns "$RX" nft "flush chain inet xbb_prerouting c; delete chain inet xbb_prerouting c" ;;
	iptables_ipset) in_ns "$RX" iptables -t raw -D PREROUTING -m set --match-set xbb_banned src -j DROP ;;
	esac
}

# --- counters -------------------------------------------------------------------

# snmp PROTO FIELD: a counter of /proc/net/snmp in the receiver's namespace.
snmp() {
	in_ns "$RX" cat /proc/net/snmp | awk -v proto="$1:" -v field="$2" '
		$1 == proto && !header { for (i = 2; i <= NF; i++) col[$i] = i; header = 1; next }
		$1 == proto && header { print $col[field]; exit }'
}

veth_stat() {
	ip netns exec "$RX" ethtool -S "$RX_DEV" | awk -v name="rx_queue_0_$1:" '$1 == name { print $2 }'
}

# The packets the receiver's filter judged (dropped, or for none: delivered to TCP).
judged() {
	case $1 in
	none) snmp Tcp InSegs ;;
	xdp_drop) veth_stat xdp_drops ;;
	xdpban) xb --json stats | jq '.drop_ban.packets + .drop_cidr.packets + .drop_geo.packets' ;;
	nft_ingress) in_ns "$RX" nft -j list chain netdev xbb_ingress c | jq '[.. | .counter? | .packets? // empty] | add' ;;
	nft_prerouting) in_ns "$RX" nft -j list chain inet xbb_prerouting c | jq '[.. | .counter? | .packets? // empty] | add' ;;
	iptables_ipset) in_ns "$RX" iptables -t raw -L PREROUTING -v -x -n | awk '/match-set xbb_banned/ { print $1 }' ;;
	esac
}

softirq_ns() {
	if [ -n "$SOFTIRQ_PID" ]; then cut -d' ' -f1 "/proc/$SOFTIRQ_PID/schedstat"; else echo 0; fi
}

# counters RECEIVER: one JSON object of everything measured around a flood.
counters() {
	jq -n --argjson received "$(veth_stat xdp_packets)" --argjson judged "$(judged "$1")" \
		--argjson softirq_ns "$(softirq_ns)" --argjson ip_hdr_errors "$(snmp Ip InHdrErrors)" \
		--argjson tcp_csum_errors "$(snmp Tcp InCsumErrors)" \
		'{received: $received, judged: $judged, softirq_ns: $softirq_ns,
		  ip_hdr_errors: $ip_hdr_errors, tcp_csum_errors: $tcp_csum_errors}'
}

flood() {
	in_ns "$GEN" "$BENCH_BIN/flood" "$GEN_DEV" "$MAC_GEN" "$MAC_RX" "$RX_IP" "$PORT" \
		"$BENCH_WORK/banned.txt" "$1" "$GEN_CPU"
}

# measure RECEIVER ROUND: one JSON line of deltas.
measure() {
	local before after sent
	filter_on "$1"
	flood "$WARMUP_SECONDS" >/dev/null
	before=$(counters "$1")
	sent=$(flood "$FLOOD_SECONDS")
	after=$(counters "$1")
	filter_off "$1"
	jq -cn --arg receiver "$1" --argjson round "$2" --argjson b "$before" --argjson a "$after" \
		--argjson s "$sent" '($a | with_entries(.value -= $b[.key]))
		| {receiver: $receiver, round: $round, sent: $s.sent, seconds: $s.seconds,
		   cpu_ns: ($s.cpu_ns + .softirq_ns)} + .'
}

# --- results ----------------------------------------------------------------------

summarise() {
	jq -s --argjson bans "$BANS" --argjson seconds "$FLOOD_SECONDS" --argjson rounds "$ROUNDS" \
		--argjson machine "$(machine_note)" '
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
	                   else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	group_by(.receiver) | map({
		receiver: .[0].receiver,
		processed_pps: (map(.received / .seconds) | median),
		sent_pps: (map(.sent / .seconds) | median),
		cpu_ns_per_packet: (map(.cpu_ns / .received) | median),
		judged_fraction_min: (map(.judged / .received) | min),
		ip_hdr_errors: (map(.ip_hdr_errors) | add),
		tcp_csum_errors: (map(.tcp_csum_errors) | add),
		rounds: .
	}) as $rows
	| ($rows | map({key: .receiver, value: .}) | from_entries) as $by
	| ($rows | map(.receiver_extra_ns = .cpu_ns_per_packet - $by.xdp_drop.cpu_ns_per_packet)) as $rows
	| ($rows | map({key: .receiver, value: .}) | from_entries) as $by
	| ([$by.nft_ingress.processed_pps, $by.nft_prerouting.processed_pps,
	    $by.iptables_ipset.processed_pps] | max) as $best_netfilter
	| {part: "flood", bans: $bans, seconds_per_measurement: $seconds, rounds: $rounds,
	   machine: $machine, receivers: $rows,
	   xdpban_vs_xdp_drop: ($by.xdpban.processed_pps / $by.xdp_drop.processed_pps),
	   xdpban_vs_best_netfilter: ($by.xdpban.processed_pps / $best_netfilter),
	   xdpban_extra_vs_nft_ingress: ($by.xdpban.receiver_extra_ns / $by.nft_ingress.receiver_extra_ns),
	   target_quarter_of_nft_ingress:
	     ($by.xdpban.receiver_extra_ns <= 0.25 * $by.nft_ingress.receiver_extra_ns)}'
}

markdown() {
	jq -r '
	def names: {none: "no filter", xdp_drop: "XDP_DROP only", xdpban: "xdpban",
	             nft_ingress: "nftables netdev ingress + set",
	             nft_prerouting: "nftables inet prerouting + set",
	             iptables_ipset: "iptables raw PREROUTING + ipset"};
	def order: ["xdp_drop", "xdpban", "nft_ingress", "nft_prerouting", "iptables_ipset", "none"];
	(.receivers | map({key: .receiver, value: .}) | from_entries) as $by
	| "Spoofed SYN flood through a veth pair: \(.bans) banned sources, one drawn at random per packet; xdpban also has the whole world database loaded (every country but DE blocked). Generator and receiver on one CPU; \(.rounds) rounds of \(.seconds_per_measurement) s, medians.\n",
	  "| receiver | packets/s processed | vs XDP_DROP | CPU ns/packet, generator + receiver | receiver ns/packet above XDP_DROP | judged by the filter |",
	  "| --- | ---: | ---: | ---: | ---: | ---: |",
	  (order[] as $r | $by[$r] | select(.)
	   | "| \(names[$r]) | \(.processed_pps / 1e6 * 100 | round / 100) M | \(.processed_pps / $by.xdp_drop.processed_pps * 100 | round / 100) | \(.cpu_ns_per_packet | round) | \(.receiver_extra_ns | round) | \(.judged_fraction_min * 10000 | floor / 100)% |"),
	  "",
	  "xdpban receiver ns above XDP_DROP / nftables netdev ingress'"'"'s: \(.xdpban_extra_vs_nft_ingress * 100 | round / 100) (target <= 0.25: \(if .target_quarter_of_nft_ingress then "met" else "NOT met" end)); xdpban / XDP_DROP packets/s: \(.xdpban_vs_xdp_drop * 100 | round / 100); xdpban / best netfilter packets/s: \(.xdpban_vs_best_netfilter * 100 | round / 100). IP header errors: \([.receivers[].ip_hdr_errors] | add), TCP checksum errors: \([.receivers[].tcp_csum_errors] | add). Received \([.receivers[].rounds[] | .received] | add) of \([.receivers[].rounds[] | .sent] | add) frames sent. \"judged\": the filter'"'"'s own counter over the packets the receiver took from the veth (lowest round); for no filter, segments delivered to TCP."
	'
}

part_teardown() {
	[ -d "$PIN" ] && [ -e "/run/netns/$RX" ] && xb detach --all >/dev/null 2>&1
	return 0
}

main() {
	local round receiver
	mkdir -p "$RESULTS"
	setup_link
	load_filters
	: >"$BENCH_WORK/rows.jsonl"
	for round in $(seq 1 "$ROUNDS"); do
		for receiver in "${RECEIVERS[@]}"; do
			note "flood: round $round/$ROUNDS: $receiver"
			measure "$receiver" "$round" >>"$BENCH_WORK/rows.jsonl"
		done
	done
	summarise <"$BENCH_WORK/rows.jsonl" >"$RESULTS/$PART.json"
	markdown <"$RESULTS/$PART.json" >"$RESULTS/$PART.md"
	cat "$RESULTS/$PART.md"
}

main
