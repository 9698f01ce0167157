# shellcheck shell=bash
# The cleanup every test and benchmark script runs on any exit (sourced by
# tests/e2e/lib.sh and scripts/bench-lib.sh, never run). The helpers that
# make namespaces, pins and processes register them here; install_traps
# makes sure they go however the script ends.

BG_PIDS=()        # background processes to end
CLEANUP_NETNS=()  # namespaces to empty and delete
CLEANUP_PINS=()   # bpffs directories to delete
CLEANUP_DETACH=() # NS PIN_DIR pairs: xdpban detach --all there first
CLEANUP_DIRS=()   # work directories to delete
# A function the script may define for processes of its own, stopped first
# (tests/e2e/lib.sh names it e2e_teardown, scripts/bench-lib.sh part_teardown).
TEARDOWN_HOOK=""

# Ends every process still inside a namespace: forked socat children hold
# connections open that no PID list of ours knows about.
kill_ns_processes() {
	local ns=$1 pids
	ns_exists "$ns" || return 0
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086 # one PID per word
	kill $pids 2>/dev/null || true
	sleep 0.2
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	# shellcheck disable=SC2086
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
}

# Runs on every exit, including failures, Ctrl-C and SIGTERM from a timeout.
cleanup() {
	local status=$? ns pid dir i
	trap - EXIT INT TERM HUP ERR
	set +eE
	if [ -n "$TEARDOWN_HOOK" ] && declare -F "$TEARDOWN_HOOK" >/dev/null; then
		"$TEARDOWN_HOOK"
	fi
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for ns in "${CLEANUP_NETNS[@]}"; do
		kill_ns_processes "$ns"
	done
	wait 2>/dev/null
	for ((i = 0; i < ${#CLEANUP_DETACH[@]}; i += 2)); do
		ns=${CLEANUP_DETACH[i]} dir=${CLEANUP_DETACH[i + 1]}
		if [ -d "$dir" ] && ns_exists "$ns"; then
			in_ns "$ns" "$XDPBAN" --pin-dir "$dir" detach --all >/dev/null 2>&1
		fi
	done
	for ns in "${CLEANUP_NETNS[@]}"; do
		ns_exists "$ns" && ip netns del "$ns"
	done
	for dir in "${CLEANUP_PINS[@]}" "${CLEANUP_DIRS[@]}"; do
		rm -rf "$dir"
	done
	exit "$status"
}

# track_dir DIR: a work directory the cleanup deletes.
track_dir() {
	CLEANUP_DIRS+=("$1")
}

# install_traps: the cleanup on any exit; a signal exits with 128 + its number.
install_traps() {
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}
