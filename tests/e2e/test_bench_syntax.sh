#!/bin/bash
# The benchmark scripts parse and the benchmark programs build. They are not
# run here: `make bench` does that, and its figures are not test results.
# Needs no root and no network; prints TAP-like "ok N" lines and the plan last.
set -u

cd "$(dirname "$0")/../.." || exit 1

n=0
failed=0

check() {
	local name=$1
	shift
	n=$((n + 1))
	if "$@" >/tmp/xdpban-bench-syntax.$$ 2>&1; then
		echo "ok $n - $name"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name"
		sed 's/^/# /' /tmp/xdpban-bench-syntax.$$
	fi
	rm -f /tmp/xdpban-bench-syntax.$$
}

for script in scripts/bench*.sh scripts/attack.sh; do
	check "bash -n $script" bash -n "$script"
done
check "the benchmark programs build" make --no-print-directory build/bench/prog_cost build/bench/flood \
	build/bench/policy_probe build/bench/conn_attack

echo "1..$n"
[ "$failed" -eq 0 ]
