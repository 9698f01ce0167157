#!/bin/bash
# The rules' cost per event, this tree against REF (default main), side by
# side in one run: bench/rules_cost.c is built twice, with this tree's
# user/detect/rules.c and with REF's (both against this tree's library),
# and both run alternately ROUNDS times (default 5) in each workload
# (working: a working set of sources and names; flood: every event new,
# every table full). Prints each side's median and best run (the least
# disturbed on a shared machine) and this tree's over REF's. With
# CACHEGRIND=1 also counts, once per side, the instructions and the level-1
# data cache misses of EVENTS events under valgrind's cachegrind: figures
# that do not depend on the machine's load. Needs `make` (the library).
#
#   scripts/bench-rules.sh [REF]
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
REF=${1:-main}
ROUNDS=${ROUNDS:-5}
EVENTS=${EVENTS:-2000000}
WORK=$(mktemp -d /tmp/xdpban-bench-rules.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

[ -f "$REPO/build/libxdpban.a" ] || { echo "bench-rules: run make first" >&2; exit 1; }
mkdir -p "$WORK/ref/detect"
git -C "$REPO" show "$REF:user/detect/rules.c" >"$WORK/ref/rules.c"
git -C "$REPO" show "$REF:user/detect/rules.h" >"$WORK/ref/detect/rules.h"
# build OUT RULES_C [INCLUDE_FIRST]
build() {
	# shellcheck disable=SC2046 # pkg-config's words are separate arguments
	cc -O2 -g -std=gnu11 ${3:+-I"$3"} -I"$REPO/user" -I"$REPO/maps" -o "$1" \
		"$REPO/bench/rules_cost.c" "$2" "$REPO/build/libxdpban.a" \
		$(pkg-config --libs libbpf jansson)
}
build "$WORK/ref/rules_cost" "$WORK/ref/rules.c" "$WORK/ref"
build "$WORK/rules_cost" "$REPO/user/detect/rules.c"

# stats: "median best" of the numbers on stdin.
stats() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[NR] }'
}

rate() { # rate BINARY WORKLOAD: M events/s
	"$1" "$2" "$EVENTS" | awk '{ print $(NF - 2) }'
}

for workload in working flood; do
	: >"$WORK/ref.$workload" && : >"$WORK/new.$workload"
	for round in $(seq "$ROUNDS"); do
		rate "$WORK/ref/rules_cost" "$workload" >>"$WORK/ref.$workload"
		rate "$WORK/rules_cost" "$workload" >>"$WORK/new.$workload"
		echo "  $workload round $round: $REF $(tail -1 "$WORK/ref.$workload")," \
			"this tree $(tail -1 "$WORK/new.$workload") M events/s" >&2
	done
	read -r ref_median ref_best < <(stats <"$WORK/ref.$workload")
	read -r new_median new_best < <(stats <"$WORK/new.$workload")
	awk -v w="$workload" -v r="$REF" -v om="$ref_median" -v ob="$ref_best" -v nm="$new_median" \
		-v nb="$new_best" 'BEGIN { printf "%-8s median %s %.2f, this tree %.2f M events/s: %.3f; " \
		"best %.2f, %.2f: %.3f\n", w, r, om, nm, nm / om, ob, nb, nb / ob }'
done

[ "${CACHEGRIND:-0}" = 1 ] || exit 0
# counts BINARY WORKLOAD: "instructions d1_misses" of one run under cachegrind.
counts() {
	valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file=/dev/null "$1" "$2" "$EVENTS" 2>&1 |
		awk '/I *refs:/ { gsub(",", "", $4); i = $4 } /D1 *misses:/ { gsub(",", "", $4); d = $4 }
			END { print i, d }'
}
for workload in working flood; do
	read -r ref_i ref_d < <(counts "$WORK/ref/rules_cost" "$workload")
	read -r new_i new_d < <(counts "$WORK/rules_cost" "$workload")
	awk -v w="$workload" -v r="$REF" -v ri="$ref_i" -v rd="$ref_d" -v ni="$new_i" -v nd="$new_d" \
		'BEGIN { printf "%-8s cachegrind, whole run: instructions %s %.3f G, this tree %.3f G: %.3f; " \
		"D1 misses %.1f M, %.1f M: %.3f\n", w, r, ri / 1e9, ni / 1e9, ni / ri, rd / 1e6, nd / 1e6, nd / rd }'
done
