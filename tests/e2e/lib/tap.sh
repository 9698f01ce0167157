# shellcheck shell=bash
# TAP output and assertions (sourced by tests/e2e/lib.sh, never run).
#
# "ok N - name" / "not ok N - name", diagnostics as "# ...", the plan "1..N"
# last (tap_finish). tests/run-all.sh counts these lines.

TESTS_RUN=0
TESTS_FAILED=0

diag() {
	local line
	for line in "$@"; do
		printf '# %s\n' "$line"
	done
}

pass() {
	TESTS_RUN=$((TESTS_RUN + 1))
	printf 'ok %d - %s\n' "$TESTS_RUN" "$1"
}

# fail NAME [DIAGNOSTIC...]
fail() {
	TESTS_RUN=$((TESTS_RUN + 1))
	TESTS_FAILED=$((TESTS_FAILED + 1))
	printf 'not ok %d - %s\n' "$TESTS_RUN" "$1"
	shift
	diag "$@"
}

# check NAME CMD...: passes when CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "failed: $*"; fi
}

# check_not NAME CMD...: passes when CMD fails.
check_not() {
	local name=$1
	shift
	if "$@"; then fail "$name" "unexpectedly succeeded: $*"; else pass "$name"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected: $2" "     got: $3"
	fi
}

# check_ge NAME ACTUAL MINIMUM (integers)
check_ge() {
	if [ "$2" -ge "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected at least $3, got $2"
	fi
}

# tap_finish: the plan, and the exit status (non-zero when a test failed).
tap_finish() {
	printf '1..%d\n' "$TESTS_RUN"
	if [ "$TESTS_FAILED" -ne 0 ]; then
		exit 1
	fi
	exit 0
}
