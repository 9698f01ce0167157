#!/bin/bash
# Runs libFuzzer targets built by `make fuzz-build` (build/fuzz/fuzz_*):
#   fuzz/run.sh SECONDS TARGET...
# For each target: replays fuzz/regressions/TARGET/ (earlier crashes, which
# must not crash again), then fuzzes for SECONDS from the seeds in
# fuzz/corpus/TARGET/ plus the working corpus build/fuzz/corpus/TARGET/
# (new inputs go there, the checked-in seeds are never written). Crashes are
# saved as build/fuzz/crashes/TARGET-crash-*. Prints executions and crashes
# per target; exits 1 when any target crashed.
set -uo pipefail

[ $# -ge 2 ] || {
	echo "usage: fuzz/run.sh SECONDS TARGET..." >&2
	exit 2
}
seconds=$1
shift
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$HERE/../build/fuzz
mkdir -p "$BUILD/crashes" "$BUILD/logs"

# Mostly small inputs; the log parser and the geo readers get room for a few lines.
max_len() {
	case $1 in
	fuzz_cidr | fuzz_duration | fuzz_portset) echo 256 ;;
	*) echo 8192 ;;
	esac
}

total_runs=0
failed=0
printf '%-18s %12s %10s %8s %8s\n' target executions exec/s corpus crashes
for target in "$@"; do
	bin=$BUILD/$target
	log=$BUILD/logs/$target.log
	work=$BUILD/corpus/$target
	seeds=$HERE/corpus/$target
	regressions=$HERE/regressions/$target
	mkdir -p "$work"
	crashes=0
	if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
		if ! "$bin" "$regressions"/* >"$BUILD/logs/$target.regressions.log" 2>&1; then
			echo "$target: a regression input crashes again: see $BUILD/logs/$target.regressions.log" >&2
			crashes=1
		fi
	fi
	dict=()
	[ -f "$HERE/$target.dict" ] && dict=(-dict="$HERE/$target.dict")
	before=$(find "$BUILD/crashes" -name "$target-*" | wc -l)
	# -fork would survive a crash and go on; one process keeps the figures simple.
	"$bin" -max_total_time="$seconds" -max_len="$(max_len "$target")" -timeout=20 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$BUILD/crashes/$target-" \
		"${dict[@]}" "$work" "$seeds" >"$log" 2>&1
	after=$(find "$BUILD/crashes" -name "$target-*" | wc -l)
	crashes=$((crashes + after - before))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	corpus=$(find "$work" -type f | wc -l)
	printf '%-18s %12s %10s %8s %8s\n' "$target" "${runs:-?}" "${rate:-?}" "$corpus" "$crashes"
	total_runs=$((total_runs + ${runs:-0}))
	if [ "$crashes" -ne 0 ]; then
		failed=1
		grep -m1 -E 'ERROR: |runtime error|invariant broken' "$log" >&2
		echo "  log: $log; inputs: $BUILD/crashes/$target-*" >&2
	fi
done
echo "fuzz: $total_runs executions in all, $seconds s per target"
exit "$failed"
