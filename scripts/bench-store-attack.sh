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
#   append   256 MiB appended to the log at once (skipped: over 64 MiB) and
#            then 40 MiB of failure lines (read in 64 KiB slices).
# Prints p50, p99 and max per load and p99 as a multiple of idle's, measured
# side by side in one run (a figure, not a test: the VM is shared).
#
# Use (root): scripts/bench-store-attack.sh
#   PROBE_SECONDS=8 (default) RESULTS=bench/results
# About 7 x PROBE_SECONDS plus set-up, a minute and a half by default.
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
	head -c $((256 << 20)) /dev/zero >>"$AUTH_LOG"
	sleep 1
	failure_lines 200000 90000 | head -c $((40 << 20)) | head -n -1 >>"$AUTH_LOG"
}

ROWS=()
measure() { # measure NAME [ATTACK]: the probe's figures with ATTACK running meanwhile
	local name=$1 line attack_pid=""
	if [ -n "${2:-}" ]; then
		"$2" &
		attack_pid=$!
	fi
	line=$(probe)
	[ -z "$attack_pid" ] || wait "$attack_pid"
	ROWS+=("$name $(field p50_ms "$line") $(field p99_ms "$line") $(field max_ms "$line") $(field requests "$line") $(field failures "$line")")
	note "$name: $line"
}

write_config
new_ns "$NS"
ip -n "$NS" link set lo up
new_pin_dir "$PIN" "$NS"
start_daemon
sleep 1

measure idle
measure bans attack_bans
wait_until 30 test "$(sqlite3 "$STATE_DIR/xdpban.db" "SELECT count(*) FROM bans")" -ge 30000 ||
	note "bans: fewer than 30,000 rows in the store after 30 s"
note "bans: $(sqlite3 "$STATE_DIR/xdpban.db" "SELECT count(*) FROM bans") rows in the store, WAL $(stat -c %s "$STATE_DIR/xdpban.db-wal" 2>/dev/null || echo 0) bytes"
hold_store "$STATE_DIR/xdpban.db" "$BENCH_WORK"
measure locked attack_locked
release_store
wait_until 30 test "$(sqlite3 "$STATE_DIR/xdpban.db" "SELECT count(*) FROM bans")" -ge 32000 ||
	note "locked: the 2,000 rows did not all reach the store within 30 s of the release"
measure devzero attack_devzero
measure sparse attack_sparse
measure append attack_append
note "daemon's warnings: $(grep -c 'warning' "$DAEMON_ERR" || true) lines"

idle_p99=$(cut -d' ' -f3 <<<"${ROWS[0]}")
{
	printf '| load | p50 ms | p99 ms | max ms | requests | failures | p99 / idle |\n'
	printf '| --- | --- | --- | --- | --- | --- | --- |\n'
	for row in "${ROWS[@]}"; do
		read -r name p50 p99 max requests failures <<<"$row"
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$p50" "$p99" "$max" \
			"$requests" "$failures" "$(awk -v a="$p99" -v b="$idle_p99" 'BEGIN { printf "%.1fx", b > 0 ? a / b : 0 }')"
	done
} | tee "$RESULTS/$PART.md"
