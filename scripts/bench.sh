#!/bin/bash
# `make bench`: every benchmark side by side in one run. Writes
# bench/results/results.md (the tables, printed at the end), results.json
# (every figure and round) and chart.png, plus one .md/.json per part.
#
#   scripts/bench.sh [--quick]
#
# Parts (each skips itself, saying why, when it cannot run here):
#   prog_cost  per-packet cost, BPF_PROG_TEST_RUN (build/bench/prog_cost)
#   flood      a spoofed SYN flood through veth (scripts/bench-flood.sh)
#   insert     ban insertion and the world database (scripts/bench-insert.sh)
#   detect     log parsing throughput vs fail2ban-regex (scripts/bench-detect.sh)
#   latency    failure line to ban, live, vs fail2ban (scripts/bench-latency.sh)
# --quick: fewer rounds and smaller inputs, for trying the scripts out; the
# figures in the README come from a full run.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
RESULTS=${RESULTS:-$REPO/bench/results}
COMMAND="make bench"
export RESULTS

if [ "${1:-}" = --quick ]; then
	COMMAND="make bench BENCH_ARGS=--quick"
	export ROUNDS=3 HEAVY_ROUNDS=1 FLOOD_SECONDS=1 ONE_BY_ONE=200 LOG_LINES=200000 LATENCY_TRIALS=30
	PROG_COST_ARGS=(--quick)
else
	PROG_COST_ARGS=()
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (BPF, network namespaces)" >&2
	exit 1
fi
if ! sh "$REPO/scripts/install-deps.sh" --bench; then
	echo "bench: some benchmark packages could not be installed; the parts that need them say so and skip" >&2
fi
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.md "$RESULTS"/*.json "$RESULTS"/chart.png

# The machine's noise: load and stolen time (a VM's neighbours) over the run.
cpu_counters() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
read -r BUSY0 STEAL0 TOTAL0 < <(cpu_counters)
STARTED=$(date +%s)

run_part() { # run_part NAME CMD...: a failing part is reported, not fatal
	local name=$1
	shift
	echo "bench: $name" >&2
	if ! "$@"; then
		echo "bench: $name failed" >&2
		jq -n --arg part "$name" '{part: $part, failed: true}' >"$RESULTS/$name.json"
		# shellcheck disable=SC2016 # the backquotes are Markdown
		printf '**%s**: failed (see the output of `%s`)\n' "$name" "$COMMAND" >"$RESULTS/$name.md"
	fi
}

prog_cost() {
	"$REPO/build/bench/prog_cost" "${PROG_COST_ARGS[@]}" --json "$RESULTS/prog_cost.json" >"$RESULTS/prog_cost.md"
}

run_part prog_cost prog_cost
run_part flood "$REPO/scripts/bench-flood.sh" >/dev/null
run_part insert "$REPO/scripts/bench-insert.sh" >/dev/null
run_part detect "$REPO/scripts/bench-detect.sh" >/dev/null
run_part latency "$REPO/scripts/bench-latency.sh" >/dev/null

read -r BUSY1 STEAL1 TOTAL1 < <(cpu_counters)
NOISE=$(jq -n --arg before "$LOAD_BEFORE" --arg after "$(cut -d' ' -f1-3 /proc/loadavg)" \
	--argjson steal "$(((STEAL1 - STEAL0) * 1000 / (TOTAL1 - TOTAL0 + 1)))" \
	--argjson busy "$(((BUSY1 - BUSY0) * 1000 / (TOTAL1 - TOTAL0 + 1)))" \
	--argjson minutes "$((($(date +%s) - STARTED + 59) / 60))" \
	'{load_average_before: $before, load_average_after: $after,
	  stolen_permille: $steal, busy_permille: $busy, minutes: $minutes}')

jq -s --arg command "$COMMAND" --arg kernel "$(uname -r)" --argjson cpus "$(nproc)" \
	--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson noise "$NOISE" \
	--arg commit "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	'{command: $command, date: $date, commit: $commit, kernel: $kernel, cpus: $cpus,
	  noise: $noise, parts: (map({key: .part, value: .}) | from_entries)}' \
	"$RESULTS"/prog_cost.json "$RESULTS"/flood.json "$RESULTS"/insert.json \
	"$RESULTS"/detect.json "$RESULTS"/latency.json >"$RESULTS/results.json"

{
	jq -r '"Produced by `\(.command)` on \(.date) (commit \(.commit)), kernel \(.kernel), \(.cpus) CPUs, \(.noise.minutes) min. Noise: load average \(.noise.load_average_before) before, \(.noise.load_average_after) after; CPUs \(.noise.busy_permille / 10)% busy, \(.noise.stolen_permille / 10)% stolen by the hypervisor over the run. Ratios within one run are the result; absolute figures on this shared 2-core VM drift between runs."' "$RESULTS/results.json"
	for part in prog_cost flood insert detect latency; do
		printf '\n#### %s\n\n' "$part"
		cat "$RESULTS/$part.md"
	done
} >"$RESULTS/results.md"

"$REPO/scripts/bench-chart.sh" "$RESULTS/results.json" "$RESULTS/chart.png" ||
	echo "bench: no chart (gnuplot missing: scripts/install-deps.sh --bench)" >&2
cat "$RESULTS/results.md"
echo
echo "bench: written $RESULTS/results.md, results.json, chart.png" >&2
