#!/bin/bash
# The well-behaved policy client's latency while the store and the log
# files are attacked (issue 17, items 3 and 4), against a daemon of its own
# (own pins, state directory and control socket) in a private network
# namespace, following one sshd log file. bench/policy_probe asks like
# Dovecot (a kept-alive connection, the API key, given up after 2 s) every
# 20 ms for PROBE_SECONDS, first idle, then during each attack:
#   bans     30,000 new IPv6 addresses failing 5 times each, appended to the
#            log in 10 bursts: 30,000 bans into the kernel and the store
#            (the WAL attack: the store writes, checkpoints and fsyncs);
#   locked   another process holds the store's write lock throughout while
#            2,000 addresses get banned (the rows wait in memory);
#   devzero  the log path made a link to /dev/zero;
#   sparse   the log made a sparse 30 GB file;
#   append   300 MiB appended to the log at once (skipped: over 256 MiB) and
#            then 40 MiB of failure lines (read in 8 KiB slices).
# Prints, for each attack, the idle p99 measured just before it, and p50,
# p99 and max during it, with p99 as a multiple of that idle p99 (a figure,
# not a test: the VM is shared).
#
# Use (root): scripts/bench-store-attack.sh
#   PROBE_SECONDS=8 (default) RESULTS=bench/results
# About 10 x PROBE_SECONDS plus set-up, two minutes by default.
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"
# shellcheck source=tests/e2e/lib/tap.sh
. "$E2E_LIB/tap.sh"
# shellcheck source=tests/e2e/lib/daemon.sh
. "$E2E_LIB/daemon.sh"
# shellcheck source=tests/e2e/lib/store.sh
. "$E2E_LIB/store.sh"

PART=store-attack
PROBE_SECONDS=${PROBE_SECONDS:-8}
NS=xbb-sta-$$
PIN=/sys/fs/bpf/xdpban-bench-sta-$$
STATE_DIR=$BENCH_WORK/state
CONF=$BENCH_WORK/xdpban.conf
CTL=$BENCH_WORK/ctl.sock
DAEMON_ERR=$BENCH_WORK/daemon.err
DAEMON_NS=$NS
AUTH_LOG=$BENCH_WORK/log/auth.log
PORT=18651
KEY=store-attack-key
PROBE=$BENCH_BIN/policy_probe
need_root "$PART"
need_commands "$PART" sqlite3 socat jq nsenter awk
[ -x "$XDPBAN" ] || skip_part "$PART" "$XDPBAN is not built"
[ -x "$PROBE" ] || skip_part "$PART" "$PROBE is not built (make bench)"

part_teardown() {
	release_store
	[ -z "$DAEMON_PID" ] || stop_daemon >/dev/null 2>&1 || true
}

write_config() {
	mkdir -p "$BENCH_WORK/log"
	: >"$AUTH_LOG"
	{
		daemon_conf_start
		cat <<-EOF

			[policy]
			listen = 127.0.0.1:$PORT
			api_key = $KEY

			[source ssh]
			type = sshd
			path = $AUTH_LOG
		EOF
	} >"$CONF"
}

# failure_lines FIRST COUNT: 5 sshd failures of each of COUNT addresses from FIRST.
failure_lines() {
	awk -v first="$1" -v count="$2" 'BEGIN {
		for (a = first; a < first + count; a++)
			for (i = 0; i < 5; i++)
				printf "Dec  3 12:00:00 srv sshd[4242]: Failed password for root from " \
					"2001:db8:5:%x::%x port 40%d ssh2\n", int(a / 65536), a % 65536, i
	}'
}

probe() { # probe: the probe's summary line, PROBE_SECONDS long
	nsenter --net="/run/netns/$NS" "$PROBE" 127.0.0.1 "$PORT" "$KEY" "$PROBE_SECONDS" 20
}

field() { # field NAME LINE
	tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}

attack_bans() {
	local burst
	for ((burst = 0; burst < 10; burst++)); do
		failure_lines $((burst * 3000)) 3000 >>"$AUTH_LOG"
		sleep "$(awk -v s="$PROBE_SECONDS" 'BEGIN { print s / 12 }')"
	done
}

attack_locked() {
	failure_lines 100000 2000 >>"$AUTH_LOG"
}

attack_devzero() {
	mv "$AUTH_LOG" "$AUTH_LOG.real"
	ln -s /dev/zero "$AUTH_LOG"
}

attack_sparse() {
	rm -f "$AUTH_LOG"
	mv "$AUTH_LOG.real" "$AUTH_LOG"
	truncate -s 30G "$AUTH_LOG"
}

attack_append() {
	head -c $((300 << 20)) /dev/zero >>"$AUTH_LOG"
	sleep 1
	cat "$BENCH_WORK/40m.log" >>"$AUTH_LOG"
}

store_rows_at_least() {
	[ "$(sqlite3 "$STATE_DIR/xdpban.db" "SELECT count(*) FROM bans")" -ge "$1" ]
}

ROWS=()
# measure NAME ATTACK: the probe's figures idle, then with ATTACK running
# meanwhile: side by side, so that the machine's load falls on both alike.
measure() {
	local idle line attack_pid
	idle=$(probe)
	"$2" &
	attack_pid=$!
	line=$(probe)
	wait "$attack_pid"
	ROWS+=("$1 $(field p99_ms "$idle") $(field p50_ms "$line") $(field p99_ms "$line") $(field max_ms "$line") $(field failures "$line")")
	note "$1: idle: $idle"
	note "$1: attack: $line"
}

write_config
# 40 MiB of failure lines (~90,000 addresses), made before anything is timed
failure_lines 200000 90000 >"$BENCH_WORK/lines.log"
head -c $((40 << 20)) "$BENCH_WORK/lines.log" | head -n -1 >"$BENCH_WORK/40m.log" || true
rm -f "$BENCH_WORK/lines.log"
new_ns "$NS"
ip -n "$NS" link set lo up
new_pin_dir "$PIN" "$NS"
start_daemon
sleep 1

measure bans attack_bans
wait_until 30 store_rows_at_least 30000 ||
	note "bans: fewer than 30,000 rows in the store after 30 s"
note "bans: $(sqlite3 "$STATE_DIR/xdpban.db" "SELECT count(*) FROM bans") rows in the store, WAL $(stat -c %s "$STATE_DIR/xdpban.db-wal" 2>/dev/null || echo 0) bytes"
hold_store "$STATE_DIR/xdpban.db" "$BENCH_WORK"
measure locked attack_locked
release_store
wait_until 30 store_rows_at_least 32000 ||
	note "locked: the 2,000 rows did not all reach the store within 30 s of the release:" \
		"$(sqlite3 "$STATE_DIR/xdpban.db" "SELECT count(*) FROM bans") rows;" \
		"$(grep 'store' "$DAEMON_ERR" | tail -n 3)"
measure devzero attack_devzero
measure sparse attack_sparse
measure append attack_append
note "daemon's warnings: $(grep -c 'warning' "$DAEMON_ERR" || true) lines"

{
	printf '| load | idle p99 ms | p50 ms | p99 ms | max ms | failures | p99 / idle p99 |\n'
	printf '| --- | --- | --- | --- | --- | --- | --- |\n'
	for row in "${ROWS[@]}"; do
		read -r name idle p50 p99 max failures <<<"$row"
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$idle" "$p50" "$p99" "$max" \
			"$failures" "$(awk -v a="$p99" -v b="$idle" 'BEGIN { printf("%.1fx", (b > 0) ? a / b : 0) }')"
	done
} | tee "$RESULTS/$PART.md"
