# shellcheck shell=bash
# Background processes and waiting (sourced by tests/e2e/lib.sh and
# scripts/bench-lib.sh, never run). Needs netns.sh (in_ns) and cleanup.sh
# (BG_PIDS, which the cleanup ends).

# spawn_reading FILE NS CMD...: a background process reading FILE, ended by
# the cleanup. (A redirection around the call would not reach it: bash gives
# background commands /dev/null unless the command itself redirects stdin.)
spawn_reading() {
	local input=$1 ns=$2
	shift 2
	in_ns "$ns" "$@" <"$input" &
	BG_PIDS+=("$!")
}

# spawn NS CMD...: a background process, ended by the cleanup.
spawn() {
	spawn_reading /dev/null "$@"
}

quietly() {
	"$@" >/dev/null
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s; fails when SECONDS pass first.
wait_until() {
	local deadline=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}
