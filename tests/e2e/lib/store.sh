# shellcheck shell=bash
# Another process holding the store's write lock, as the attacks on the
# store do (sourced by tests/e2e/test_store_faults.sh and
# scripts/bench-store-attack.sh, never run): sqlite3 takes BEGIN IMMEDIATE
# and keeps it until release_store.

HOLDER_PID=""

# hold_store DB DIR: the lock taken (once sqlite3 says so); DIR keeps its fifo.
hold_store() {
	local fifo=$2/holder.fifo
	rm -f "$fifo" "$2/holder.out"
	mkfifo "$fifo"
	sqlite3 "$1" <"$fifo" >"$2/holder.out" 2>&1 &
	HOLDER_PID=$!
	BG_PIDS+=("$HOLDER_PID")
	exec 7>"$fifo"
	echo "BEGIN IMMEDIATE; SELECT 'locked';" >&7
	wait_until 10 grep -q locked "$2/holder.out"
}

release_store() {
	[ -n "$HOLDER_PID" ] || return 0
	echo "COMMIT;" >&7
	exec 7>&-
	wait "$HOLDER_PID" 2>/dev/null || true
	HOLDER_PID=""
}
