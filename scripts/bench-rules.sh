#!/bin/bash
# The rules' throughput, this tree against REF (default main), side by side
# in one run: REF's user/detect/rules.c and tests/unit/test_rules.c are
# built against this tree's library, then both test_rules binaries run
# alternately ROUNDS times (default 5). Prints, for each figure they print
# (rules_feed over a working set, the flood of distinct sources and names),
# the median and the best run (the least disturbed on a shared machine) of
# each side and this tree's over REF's. Needs `make build/tests/test_rules`.
#
#   scripts/bench-rules.sh [REF]
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
REF=${1:-main}
ROUNDS=${ROUNDS:-5}
NEW=$REPO/build/tests/test_rules
WORK=$(mktemp -d /tmp/xdpban-bench-rules.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

[ -x "$NEW" ] || { echo "bench-rules: build $NEW first (make build/tests/test_rules)" >&2; exit 1; }
mkdir -p "$WORK/detect"
git -C "$REPO" show "$REF:user/detect/rules.c" >"$WORK/rules.c"
git -C "$REPO" show "$REF:user/detect/rules.h" >"$WORK/detect/rules.h"
git -C "$REPO" show "$REF:tests/unit/test_rules.c" >"$WORK/test_rules.c"
# shellcheck disable=SC2046 # pkg-config's words are separate arguments
cc -O2 -g -std=gnu11 -I"$WORK" -I"$REPO/user" -I"$REPO/maps" -I"$REPO/tests/unit" \
	-o "$WORK/test_rules" "$WORK/test_rules.c" "$WORK/rules.c" "$REPO/build/libxdpban.a" \
	$(pkg-config --libs libbpf jansson) -lcmocka

# figure BINARY: "feed flood" in M events/s, from one run.
figure() {
	{ "$1" 2>&1 || true; } | awk '/rules_feed:/ { feed = $2 } /flood: .* events in/ { flood = $8 }
		END { print feed, flood }'
}

# stats: "median best" of the numbers on stdin.
stats() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[NR] }'
}

: >"$WORK/old" && : >"$WORK/new"
for round in $(seq "$ROUNDS"); do
	figure "$WORK/test_rules" >>"$WORK/old"
	figure "$NEW" >>"$WORK/new"
	echo "  round $round: $REF $(tail -1 "$WORK/old"), this tree $(tail -1 "$WORK/new")" >&2
done
for column in 1 2; do
	name=$([ "$column" = 1 ] && echo "rules_feed (working set)" || echo "flood (distinct sources, names)")
	read -r old_median old_best < <(awk -v c="$column" '{ print $c }' "$WORK/old" | stats)
	read -r new_median new_best < <(awk -v c="$column" '{ print $c }' "$WORK/new" | stats)
	awk -v n="$name" -v r="$REF" -v om="$old_median" -v ob="$old_best" -v nm="$new_median" \
		-v nb="$new_best" 'BEGIN { printf "%-32s median %s %.2f, this tree %.2f M events/s: %.3f; " \
		"best %.2f, %.2f: %.3f\n", n, r, om, nm, nm / om, ob, nb, nb / ob }'
done
