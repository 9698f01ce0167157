#!/bin/bash
# Benchmark part 3: putting bans into the kernel, in one run, inside a
# private network namespace (never the host's firewall):
#   100k bans in bulk   xdpban ban --file | ipset restore | nft -f (one add element)
#   one by one          one command per ban (xdpban ban A | ipset add | nft add
#                       element), ONE_BY_ONE of them timed (1,000 by default),
#                       reported per ban and as the time 100k would take
#   the world database  xdpban geo load + geo block of every country | the same
#                       ranges as two nftables interval sets (IPv4, IPv6)
# Each timing is the median of ROUNDS rounds (HEAVY_ROUNDS for the world
# database), every side in every round, each into fresh, empty sets.
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

PART=insert
BANS=${INSERT_BANS:-100000}
ONE_BY_ONE=${ONE_BY_ONE:-1000}
HEAVY_ROUNDS=${HEAVY_ROUNDS:-3}
NS=xbb-ins-$$
PIN_BASE=/sys/fs/bpf/xdpban-bench-ins-$$
NFT_TIMEOUT=${NFT_TIMEOUT:-900}

need_root "$PART"
need_commands "$PART" nft ipset jq nsenter

in_bench_ns() {
	in_ns "$NS" "$@"
}

# seconds CMD...: runs CMD, prints how long it took; fails when CMD does.
seconds() {
	local start
	start=$(now_ns)
	"$@" >/dev/null || return 1
	echo "scale=6; ($(now_ns) - $start) / 1000000000" | bc
}

# timed ROUND WHAT CMD...: records how long CMD took (null: it failed or timed out).
timed() {
	local round=$1 what=$2 took
	shift 2
	took=$(seconds "$@") || took=null
	[ "$took" != null ] || note "insert: $what failed or timed out"
	jq -cn --argjson round "$round" --arg what "$what" --argjson seconds "$took" \
		'{round: $round, what: $what, seconds: $seconds}' >>"$BENCH_WORK/rows.jsonl"
}

# fresh_xdpban ROUND: a new pin directory and state directory with the maps
# created (one throwaway ban loads them), so only the insert is timed.
fresh_xdpban() {
	XB_PIN=$PIN_BASE-$1
	XB_STATE=$BENCH_WORK/state-$1
	new_pin_dir "$XB_PIN"
	mkdir -p "$XB_STATE"
	xb ban 198.51.100.250 >/dev/null
}

xb() {
	in_bench_ns "$XDPBAN" --pin-dir "$XB_PIN" --state-dir "$XB_STATE" "$@"
}

fresh_ipset() {
	in_bench_ns ipset destroy xbb 2>/dev/null || true
	in_bench_ns ipset create xbb hash:ip family inet hashsize 131072 maxelem 1048576
}

fresh_nft() {
	in_bench_ns nft "destroy table inet xbb" 2>/dev/null || in_bench_ns nft "delete table inet xbb" 2>/dev/null || true
	in_bench_ns nft "add table inet xbb; add set inet xbb banned { type ipv4_addr; size 1048576; }"
}

one_by_one_xdpban() {
	local a
	while read -r a; do xb ban "$a" || return 1; done <"$BENCH_WORK/one.txt"
}

one_by_one_ipset() {
	local a
	while read -r a; do in_bench_ns ipset add xbb "$a" || return 1; done <"$BENCH_WORK/one.txt"
}

one_by_one_nft() {
	local a
	while read -r a; do in_bench_ns nft add element inet xbb banned "{ $a }" || return 1; done <"$BENCH_WORK/one.txt"
}

# The tor-geoipdb ranges as nftables interval sets, one per family.
world_as_nft() {
	local v4=$1 v6=$2
	{
		echo "table inet xbb_geo {"
		echo "  set geo4 { type ipv4_addr; flags interval; elements = {"
		grep -v '^#' "$v4" | awk -F, '$3 != "??" {
			printf "%d.%d.%d.%d-%d.%d.%d.%d,\n", int($1/16777216), int($1/65536)%256, int($1/256)%256, $1%256,
				int($2/16777216), int($2/65536)%256, int($2/256)%256, $2%256 }'
		echo "  } }"
		echo "  set geo6 { type ipv6_addr; flags interval; elements = {"
		grep -v '^#' "$v6" | awk -F, '$3 != "??" { printf "%s-%s,\n", $1, $2 }'
		echo "  } }"
		echo "}"
	} >"$BENCH_WORK/world.nft"
}

nft_world() {
	in_bench_ns nft "destroy table inet xbb_geo" 2>/dev/null || true
	timeout "$NFT_TIMEOUT" nsenter --net="/run/netns/$NS" nft -f "$BENCH_WORK/world.nft"
}

xdpban_world() {
	# shellcheck disable=SC2046 # one country code per word
	xb geo load &&
		xb geo block $(xb --json geo list --all | jq -r '.countries[] | select(.prefixes > 0) | .country')
}

geo_paths() {
	local dir
	for dir in /usr/share/tor /var/lib/xdpban/tor-geoipdb; do
		if [ -s "$dir/geoip" ] && [ -s "$dir/geoip6" ]; then
			echo "$dir/geoip $dir/geoip6"
			return 0
		fi
	done
	return 1
}

main() {
	local round geo
	mkdir -p "$RESULTS"
	command -v bc >/dev/null || skip_part "$PART" "missing: bc"
	new_ns "$NS"
	random_ipv4 "$BANS" 3 >"$BENCH_WORK/bans.txt"
	head -n "$ONE_BY_ONE" "$BENCH_WORK/bans.txt" >"$BENCH_WORK/one.txt"
	sed 's/^/add xbb /' "$BENCH_WORK/bans.txt" >"$BENCH_WORK/ipset.txt"
	{
		echo "add element inet xbb banned {"
		sed 's/$/,/' "$BENCH_WORK/bans.txt"
		echo "}"
	} >"$BENCH_WORK/bans.nft"
	: >"$BENCH_WORK/rows.jsonl"

	for round in $(seq 1 "$ROUNDS"); do
		note "insert: round $round/$ROUNDS: $BANS bans in bulk, $ONE_BY_ONE one by one"
		fresh_xdpban "bulk-$round"
		timed "$round" xdpban_bulk xb ban --file "$BENCH_WORK/bans.txt"
		fresh_ipset
		timed "$round" ipset_bulk in_bench_ns ipset restore -file "$BENCH_WORK/ipset.txt"
		fresh_nft
		timed "$round" nft_bulk in_bench_ns nft -f "$BENCH_WORK/bans.nft"
		fresh_xdpban "one-$round"
		timed "$round" xdpban_one one_by_one_xdpban
		fresh_ipset
		timed "$round" ipset_one one_by_one_ipset
		fresh_nft
		timed "$round" nft_one one_by_one_nft
	done

	if geo=$(geo_paths); then
		# shellcheck disable=SC2086 # the two file names
		world_as_nft $geo
		for round in $(seq 1 "$HEAVY_ROUNDS"); do
			note "insert: round $round/$HEAVY_ROUNDS: the world database"
			fresh_xdpban "geo-$round"
			timed "$round" xdpban_world xdpban_world
			timed "$round" nft_world nft_world
			rm -rf "$XB_PIN"
		done
	else
		note "insert: no tor-geoipdb (scripts/install-deps.sh installs it): world rows skipped"
	fi

	jq -s --argjson bans "$BANS" --argjson one "$ONE_BY_ONE" --argjson rounds "$ROUNDS" \
		--argjson machine "$(machine_note)" --arg nft_ranges "$(grep -c -- '-' "$BENCH_WORK/world.nft" 2>/dev/null || echo 0)" '
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
	                   else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	group_by(.what) | map({key: .[0].what, value: {
		seconds: (if any(.seconds == null) then null else (map(.seconds) | median) end),
		rounds: map(.seconds)}}) | from_entries
	| {part: "insert", bans: $bans, one_by_one_sample: $one, rounds: $rounds,
	   world_nft_ranges: ($nft_ranges | tonumber), machine: $machine, timings: .}' \
		<"$BENCH_WORK/rows.jsonl" >"$RESULTS/$PART.json"
	jq -r '
	def s: if . == null then "failed or timed out" else (. * 1000 | round / 1000 | tostring) + " s" end;
	def per(k): if . == null then null else . / k end;
	def ms: if . == null then "failed" else (. * 100000 | round / 100 | tostring) + " ms" end;
	def x(a; b): if a == null or b == null then "-" else (b / a * 10 | round / 10 | tostring) + "x" end;
	.timings as $t | .bans as $n | .one_by_one_sample as $k
	| "Putting bans into the kernel, medians of \(.rounds) rounds (in a private namespace; fresh, empty sets each round).\n",
	  "| what | xdpban | ipset | nftables | ipset / xdpban | nftables / xdpban |",
	  "| --- | ---: | ---: | ---: | ---: | ---: |",
	  "| \($n) bans in bulk (one command) | \($t.xdpban_bulk.seconds | s) | \($t.ipset_bulk.seconds | s) | \($t.nft_bulk.seconds | s) | \(x($t.xdpban_bulk.seconds; $t.ipset_bulk.seconds)) | \(x($t.xdpban_bulk.seconds; $t.nft_bulk.seconds)) |",
	  "| one ban per command (\($k) timed), per ban | \($t.xdpban_one.seconds | per($k) | ms) | \($t.ipset_one.seconds | per($k) | ms) | \($t.nft_one.seconds | per($k) | ms) | \(x($t.xdpban_one.seconds; $t.ipset_one.seconds)) | \(x($t.xdpban_one.seconds; $t.nft_one.seconds)) |",
	  "| the same, \($n) at that rate | \($t.xdpban_one.seconds | per($k) | per(1 / $n) | s) | \($t.ipset_one.seconds | per($k) | per(1 / $n) | s) | \($t.nft_one.seconds | per($k) | per(1 / $n) | s) | | |",
	  (if $t.xdpban_world then "| world database (tor-geoipdb): xdpban geo load + block every country; nftables: \(.world_nft_ranges) ranges in two interval sets | \($t.xdpban_world.seconds | s) | | \($t.nft_world.seconds | s) | | \(x($t.xdpban_world.seconds; $t.nft_world.seconds)) |" else empty end)
	' "$RESULTS/$PART.json" >"$RESULTS/$PART.md"
	cat "$RESULTS/$PART.md"
}

main
