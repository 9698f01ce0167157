#!/bin/bash
# Runs every test `make check` built, then the end-to-end scripts, and ends
# with one line "N passed, N failed" counting individual test cases:
#   build/tests/*        cmocka unit tests (tests/unit/) and BPF tests (tests/bpf/),
#                        counted from cmocka's "[  PASSED  ] N test(s)." summaries
#   tests/e2e/test_*.sh  bash scripts printing TAP-like "ok N" / "not ok N" lines
# BPF tests and e2e scripts need root (BPF syscalls, network namespaces); as
# another user they are skipped with a line saying so. The exit status is
# non-zero when anything failed.
set -u

cd "$(dirname "$0")/.." || exit 1

UNIT_TIMEOUT=120 # seconds, per test binary
E2E_TIMEOUT=300  # seconds, per e2e script

passed=0
failed=0
notes=()
LOG=$(mktemp /tmp/xdpban-tests.XXXXXX)
trap 'rm -f "$LOG"' EXIT
# Ctrl-C reaches the running test too (--foreground); it cleans up and we stop.
trap 'exit 130' INT
trap 'exit 143' TERM

is_root() {
	[ "$(id -u)" -eq 0 ]
}

# run_logged SECONDS CMD...: shows CMD's output as it runs and keeps it in
# $LOG; returns CMD's exit status. --foreground lets the tests' own
# cleanup traps see Ctrl-C; on a timeout, TERM runs them.
run_logged() {
	local seconds=$1
	shift
	timeout --foreground -k 10 "$seconds" "$@" 2>&1 | tee "$LOG"
	return "${PIPESTATUS[0]}"
}

# Prints "PASSED FAILED" from cmocka summaries in $LOG, or from TAP lines when
# a binary reports in TAP (CMOCKA_MESSAGE_OUTPUT=TAP); "- -" when neither.
cmocka_counts() {
	awk '
		/^\[  PASSED  \] [0-9]+ test/ { p += $4; summary = 1 }
		/^\[  FAILED  \] [0-9]+ test/ { f += $4; summary = 1 }
		/^ok /     { tp++ }
		/^not ok / { tf++ }
		END {
			if (summary) print p + 0, f + 0
			else if (tp + tf) print tp + 0, tf + 0
			else print "-", "-"
		}' "$LOG"
}

# A test binary from tests/bpf/ loads BPF programs: root only.
needs_root() {
	[ -f "tests/bpf/$(basename "$1").c" ]
}

run_binary() {
	local bin=$1 status p f
	if needs_root "$bin" && ! is_root; then
		notes+=("SKIP: needs root (BPF, netns): $bin")
		echo "SKIP: needs root (BPF, netns): $bin"
		return
	fi
	echo "== $bin"
	run_logged "$UNIT_TIMEOUT" "$bin"
	status=$?
	# 77 is the usual "skipped" status: the test printed why.
	if [ "$status" -eq 77 ]; then
		notes+=("SKIP: $bin (see its output above)")
		return
	fi
	read -r p f < <(cmocka_counts)
	if [ "$p" = - ]; then
		p=0 f=0
	fi
	# A crash, a timeout or a group setup error may print no failure count.
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		notes+=("FAIL: $bin exited with status $status")
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

# Prints "PASSED FAILED PLANNED SKIPPED" from the TAP lines in $LOG.
tap_counts() {
	awk '
		/^ok /            { p++ }
		/^not ok /        { f++ }
		/^1\.\.[0-9]+/    { n = substr($1, 4) + 0; has_plan = 1 }
		/^1\.\.0 # SKIP/  { skip = 1 }
		END { print p + 0, f + 0, has_plan ? n : -1, skip + 0 }' "$LOG"
}

run_e2e() {
	local script=$1 status p f planned skipped
	echo "== $script"
	run_logged "$E2E_TIMEOUT" bash "$script"
	status=$?
	read -r p f planned skipped < <(tap_counts)
	if [ "$skipped" -eq 1 ]; then
		notes+=("SKIP: needs root (BPF, netns): $script")
		return
	fi
	# A script that stopped early ran fewer tests than its plan, or printed none.
	if [ "$planned" -ne $((p + f)) ] || { [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; }; then
		f=$((f + 1))
		notes+=("FAIL: $script stopped early (exit status $status)")
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

main() {
	local bin script
	for bin in build/tests/*; do
		if [ -f "$bin" ] && [ -x "$bin" ]; then
			run_binary "$bin"
		fi
	done
	if ! is_root; then
		notes+=("SKIP: needs root (BPF, netns): tests/e2e/test_*.sh")
		echo "SKIP: needs root (BPF, netns): tests/e2e/test_*.sh"
	else
		for script in tests/e2e/test_*.sh; do
			[ -f "$script" ] || continue
			run_e2e "$script"
		done
	fi

	echo
	if [ "${#notes[@]}" -gt 0 ]; then
		printf '%s\n' "${notes[@]}"
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

main
