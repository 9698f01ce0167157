# shellcheck shell=bash
# Shared by the benchmark scripts (scripts/bench*.sh): sourced, never run.
#
# Every part writes RESULTS/NAME.json (its rows and how they were measured)
# and RESULTS/NAME.md (its table); scripts/bench.sh puts them together.
# Namespaces, pins and processes a part makes are removed on any exit, by
# the end-to-end tests' cleanup (tests/e2e/lib/cleanup.sh).

set -eEuo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
XDPBAN=${XDPBAN:-$REPO/build/xdpban}
BENCH_BIN=${BENCH_BIN:-$REPO/build/bench}
RESULTS=${RESULTS:-$REPO/bench/results}
ROUNDS=${ROUNDS:-5}

E2E_LIB=$REPO/tests/e2e/lib
# The end-to-end tests' cleanup, namespaces and waiting: one copy of each.
# shellcheck source=tests/e2e/lib/cleanup.sh
. "$E2E_LIB/cleanup.sh"
# shellcheck source=tests/e2e/lib/netns.sh
. "$E2E_LIB/netns.sh"
# shellcheck source=tests/e2e/lib/proc.sh
. "$E2E_LIB/proc.sh"
TEARDOWN_HOOK=part_teardown
install_traps

BENCH_WORK=$(mktemp -d /tmp/xdpban-bench.XXXXXX)
track_dir "$BENCH_WORK"
# A copy of the binary, so a rebuild in the tree during a long run changes nothing.
if [ -x "$XDPBAN" ]; then
	cp "$XDPBAN" "$BENCH_WORK/xdpban"
	XDPBAN=$BENCH_WORK/xdpban
fi

note() {
	printf '  %s\n' "$*" >&2
}

# skip_part NAME REASON: the part cannot run here; says so in its results.
skip_part() {
	note "$1: skipped: $2"
	jq -n --arg part "$1" --arg reason "$2" '{part: $part, skipped: $reason}' >"$RESULTS/$1.json"
	printf '**%s**: skipped: %s\n' "$1" "$2" >"$RESULTS/$1.md"
	exit 0
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip_part "$1" "needs root"
}

# need_commands PART CMD...: skips the part, naming what is missing.
need_commands() {
	local part=$1 cmd missing=""
	shift
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
	done
	[ -z "$missing" ] || skip_part "$part" "missing:$missing (scripts/install-deps.sh --bench installs them)"
}

# random_ipv4 COUNT SEED: COUNT distinct unicast IPv4 addresses, one a line,
# the same for a given seed (every side of a comparison gets the same list).
# They stay inside the benchmark's namespaces: map keys and spoofed sources.
random_ipv4() {
	awk -v n="$1" -v seed="$2" 'BEGIN {
		srand(seed)
		while (count < n) {
			a = 1 + int(rand() * 223)
			if (a == 10 || a == 127 || a == 100 || a == 169 || a == 172 || a == 192 || a == 198 || a == 203)
				continue
			ip = a "." int(rand() * 256) "." int(rand() * 256) "." (1 + int(rand() * 254))
			if (!(ip in seen)) {
				seen[ip] = 1
				print ip
				count++
			}
		}
	}'
}

# median: the median of the numbers on standard input.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

now_ns() {
	date +%s%N
}

# The machine's noise: load average and what else ran, noted beside every result.
machine_note() {
	jq -n --arg kernel "$(uname -r)" --arg cpus "$(nproc)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
		--arg model "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" \
		'{kernel: $kernel, cpus: ($cpus | tonumber), load_average: $load, cpu_model: $model}'
}
