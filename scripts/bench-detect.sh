#!/bin/bash
# Benchmark part 4: detection.
#   throughput  one log of LOG_LINES lines (1,000,000 by default), built from
#               the real Dovecot, Postfix and sshd lines of tests/fixtures/logs/
#               with the attacker's address replaced by one of 100,000 others
#               (failures from many addresses), through `xdpban logtest` and
#               through fail2ban-regex with fail2ban's own filters (Debian's
#               package): sshd, dovecot and postfix[mode=auth] (the
#               postfix-sasl jail), one run each, as its three jails would
#               read the log. Lines per second, median of the rounds.
#               XDPBAN_BASELINE=BINARY adds another xdpban (an earlier
#               build) to the same rounds, so that a change to the parsers is
#               measured side by side with what it replaces.
#   latency     scripts/bench-latency.sh (the live daemon vs fail2ban-server).
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

PART=detect
LOG_LINES=${LOG_LINES:-1000000}
HEAVY_ROUNDS=${HEAVY_ROUNDS:-3}
FIXTURES=$REPO/tests/fixtures/logs
FAIL2BAN_FILTERS=(sshd dovecot "postfix[mode=auth]")
FAIL2BAN_REGEX=${FAIL2BAN_REGEX:-fail2ban-regex} # "none" leaves fail2ban out

need_commands "$PART" jq bc
[ -x "$XDPBAN" ] || skip_part "$PART" "$XDPBAN is not built"

# The fixtures' attacker (198.51.100.5) becomes a different address every
# 7 lines, cycling through 100,000: each address fails a few times.
build_log() {
	random_ipv4 100000 11 >"$BENCH_WORK/addresses.txt"
	awk -v n="$LOG_LINES" '
		FNR == NR { ip[count++] = $0; next }
		{ line[lines++] = $0 }
		END {
			for (i = 0; i < n; i++) {
				l = line[i % lines]
				gsub(/198\.51\.100\.5/, ip[int(i / 7) % count], l)
				print l
			}
		}' "$BENCH_WORK/addresses.txt" "$FIXTURES/dovecot.log" "$FIXTURES/postfix.log" \
		"$FIXTURES/sshd.log" >"$BENCH_WORK/mixed.log"
}

seconds_of() {
	local start
	start=$(now_ns)
	"$@" >"$BENCH_WORK/out.txt" 2>&1 || return 1
	echo "scale=6; ($(now_ns) - $start) / 1000000000" | bc
}

# xdpban_round ROUND [BINARY SIDE]
xdpban_round() {
	local took bin=${2:-$XDPBAN} side=${3:-xdpban}
	took=$(seconds_of "$bin" logtest --quiet "$BENCH_WORK/mixed.log")
	jq -c --argjson round "$1" --argjson seconds "$took" --arg side "$side" \
		'{side: $side, round: $round, seconds: $seconds, failures: .failures}' "$BENCH_WORK/out.txt"
}

fail2ban_round() {
	local filter took total=0 matched=0 m
	for filter in "${FAIL2BAN_FILTERS[@]}"; do
		took=$(seconds_of "$FAIL2BAN_REGEX" "$BENCH_WORK/mixed.log" "$filter")
		m=$(awk '/^Lines:/ { for (i = 1; i <= NF; i++) if ($i == "matched,") print $(i - 1) }' "$BENCH_WORK/out.txt")
		total=$(echo "$total + $took" | bc)
		matched=$((matched + m))
		jq -cn --argjson round "$1" --arg filter "$filter" --argjson seconds "$took" --argjson matched "$m" \
			'{side: "fail2ban_filter", filter: $filter, round: $round, seconds: $seconds, failures: $matched}'
	done
	jq -cn --argjson round "$1" --argjson seconds "$total" --argjson matched "$matched" \
		'{side: "fail2ban", round: $round, seconds: $seconds, failures: $matched}'
}

main() {
	local round
	mkdir -p "$RESULTS"
	note "detect: building a $LOG_LINES-line log"
	build_log
	: >"$BENCH_WORK/rows.jsonl"
	note "detect: warm-up"
	"$XDPBAN" logtest --quiet "$BENCH_WORK/mixed.log" >/dev/null
	[ -z "${XDPBAN_BASELINE:-}" ] || "$XDPBAN_BASELINE" logtest --quiet "$BENCH_WORK/mixed.log" >/dev/null
	if command -v "$FAIL2BAN_REGEX" >/dev/null; then
		head -n 10000 "$BENCH_WORK/mixed.log" >"$BENCH_WORK/warm.log"
		"$FAIL2BAN_REGEX" "$BENCH_WORK/warm.log" sshd >/dev/null
	fi
	for round in $(seq 1 "$HEAVY_ROUNDS"); do
		note "detect: round $round/$HEAVY_ROUNDS"
		xdpban_round "$round" >>"$BENCH_WORK/rows.jsonl"
		if [ -n "${XDPBAN_BASELINE:-}" ]; then
			xdpban_round "$round" "$XDPBAN_BASELINE" xdpban_baseline >>"$BENCH_WORK/rows.jsonl"
		fi
		if command -v "$FAIL2BAN_REGEX" >/dev/null; then
			fail2ban_round "$round" >>"$BENCH_WORK/rows.jsonl"
		fi
	done
	jq -s --argjson lines "$LOG_LINES" --argjson machine "$(machine_note)" --argjson rounds "$HEAVY_ROUNDS" '
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
	                   else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	group_by(.side + (.filter // "")) | map({
		side: .[0].side, filter: .[0].filter,
		seconds: (map(.seconds) | median), failures: .[0].failures,
		lines_per_second: ($lines / (map(.seconds) | median)), rounds: map(.seconds)})
	| {part: "detect", lines: $lines, rounds: $rounds, machine: $machine, sides: .,
	   fail2ban_available: any(.[]; .side == "fail2ban")}' \
		<"$BENCH_WORK/rows.jsonl" >"$RESULTS/$PART.json"
	jq -r '
	(.sides | map(select(.side == "xdpban"))[0]) as $x
	| (.sides | map(select(.side == "xdpban_baseline"))[0]) as $b
	| (.sides | map(select(.side == "fail2ban"))[0]) as $f
	| "Detection throughput: one \(.lines)-line log (real Dovecot, Postfix and sshd lines, failures from 100,000 addresses), median of \(.rounds) rounds.\n",
	  "| reader | seconds | lines/s | failures found | vs xdpban |",
	  "| --- | ---: | ---: | ---: | ---: |",
	  "| xdpban logtest (every parser) | \($x.seconds * 1000 | round / 1000) | \($x.lines_per_second | round) | \($x.failures) | 1 |",
	  (if $b then "| xdpban logtest, baseline build | \($b.seconds * 1000 | round / 1000) | \($b.lines_per_second | round) | \($b.failures) | \($x.lines_per_second / $b.lines_per_second * 1000 | round / 1000)x as fast |" else empty end),
	  (if $f then
	    (.sides[] | select(.side == "fail2ban_filter")
	     | "| fail2ban-regex, filter \(.filter) | \(.seconds * 100 | round / 100) | \(.lines_per_second | round) | \(.failures) lines | |"),
	    "| fail2ban, the three filters (as its three jails) | \($f.seconds * 100 | round / 100) | \($f.lines_per_second | round) | \($f.failures) lines | \($x.lines_per_second / $f.lines_per_second | round)x slower |"
	   else "| fail2ban-regex | not installed (scripts/install-deps.sh --bench) | | | |" end)
	' "$RESULTS/$PART.json" >"$RESULTS/$PART.md"
	cat "$RESULTS/$PART.md"
}

main
