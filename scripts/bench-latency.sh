#!/bin/bash
# Benchmark part 4, live: the time from the failure line that crosses the
# threshold being appended to a log until the ban is in the kernel, xdpban's
# daemon vs fail2ban-server with its nftables action, both in a private
# network namespace (never the host's firewall), one after the other, on
# the same kind of log, with the same rule: 5 failures in 60 s ban for 5 min.
#
# Each trial writes 4 sshd "Failed password" lines for a new documentation
# address, waits 0.3 s, notes the time and writes the 5th. Enforcement:
#   xdpban    its "ban ADDR" log line, written after the map update and the
#             SQLite record (an upper bound of when the XDP program drops);
#   fail2ban  `nft monitor` reporting the address added to fail2ban's set.
# Both are stamped as they arrive; median and p99 over TRIALS (120) trials.
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

PART=latency
TRIALS=${LATENCY_TRIALS:-120}
NS=xbb-lat-$$
PIN=/sys/fs/bpf/xdpban-bench-lat-$$
STATE=$BENCH_WORK/state
LOG=$BENCH_WORK/mail.log

need_root "$PART"
need_commands "$PART" jq nsenter nft stdbuf
[ -x "$XDPBAN" ] || skip_part "$PART" "$XDPBAN is not built"
[ "$TRIALS" -le 250 ] || skip_part "$PART" "LATENCY_TRIALS is at most 250 (one documentation address each)"

xb() {
	in_ns "$NS" "$XDPBAN" --pin-dir "$PIN" --state-dir "$STATE" "$@"
}

# stamp FILE: appends each line of standard input to FILE, prefixed with the
# time it arrived (no process per line).
stamp() {
	local line
	while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "$line" >>"$1"
	done
}

fail_line() { # fail_line ADDR N
	printf '%(%b %e %H:%M:%S)T mail sshd[%d]: Failed password for root from %s port %d ssh2\n' \
		-1 $((1000 + $2)) "$1" $((40000 + $2)) >>"$LOG"
}

# trial ADDR WATCH PATTERN: prints the seconds from the 5th line to the first
# stamped line of WATCH that matches PATTERN, or nothing after 15 s.
trial() {
	local addr=$1 watch=$2 pattern=$3 n start deadline
	for n in 1 2 3 4; do fail_line "$addr" "$n"; done
	sleep 0.3
	start=$EPOCHREALTIME
	fail_line "$addr" 5
	deadline=$((${start%.*} + 15))
	until grep -Eq "$pattern" "$watch"; do
		[ "${EPOCHREALTIME%.*}" -lt "$deadline" ] || return 0
		sleep 0.01
	done
	grep -Em1 "$pattern" "$watch" | awk -v start="$start" '{ printf "%.6f\n", $1 - start }'
}

run_trials() { # run_trials SIDE WATCH PATTERN-PREFIX NET
	local side=$1 watch=$2 prefix=$3 net=$4 i addr took
	for i in $(seq 1 "$TRIALS"); do
		addr=$net.$i
		took=$(trial "$addr" "$watch" "$prefix${addr//./\\.}([^0-9]|\$)")
		[ -n "$took" ] || note "latency: $side: no ban of $addr within 15 s"
		jq -cn --arg side "$side" --arg addr "$addr" --arg took "${took:-null}" \
			'{side: $side, addr: $addr, seconds: ($took | fromjson)}' >>"$BENCH_WORK/rows.jsonl"
	done
}

setup_ns() {
	new_ns "$NS"
	veth_pair "$NS" xl0 "$NS" xl1
	ip -n "$NS" addr add 192.0.2.1/24 dev xl0
	: >"$LOG"
}

xdpban_side() {
	local conf=$BENCH_WORK/xdpban.conf
	new_pin_dir "$PIN" "$NS"
	mkdir -p "$STATE"
	xb attach xl0 >/dev/null
	cat >"$conf" <<-CONF
		[daemon]
		pin_dir = $PIN
		state_dir = $STATE
		control_socket = $BENCH_WORK/ctl.sock
		log_level = info
		[policy]
		listen = off
		[source mail]
		type = auto
		path = $LOG
	CONF
	: >"$BENCH_WORK/xdpban.watch"
	# nsenter execs the daemon: $! is the daemon's PID.
	nsenter --net="/run/netns/$NS" "$XDPBAN" run -c "$conf" </dev/null \
		2> >(stamp "$BENCH_WORK/xdpban.watch") &
	DAEMON_PID=$!
	BG_PIDS+=("$DAEMON_PID")
	sleep 1
	note "latency: xdpban: $TRIALS trials"
	run_trials xdpban "$BENCH_WORK/xdpban.watch" " ban " 203.0.113
	kill "$DAEMON_PID"
}

fail2ban_side() {
	local dir=$BENCH_WORK/fail2ban backend=polling
	# fail2ban's own interpreter decides whether its inotify backend can load.
	"$(head -n1 "$(command -v fail2ban-server)" | sed 's/^#! *//')" -c 'import pyinotify' 2>/dev/null &&
		backend=pyinotify
	mkdir -p "$dir"
	cp -r /etc/fail2ban/. "$dir/"
	rm -f "$dir"/jail.d/*
	cat >"$dir/fail2ban.local" <<-CONF
		[Definition]
		logtarget = $dir/fail2ban.log
		socket = $dir/fail2ban.sock
		pidfile = $dir/fail2ban.pid
		dbfile = :memory:
	CONF
	cat >"$dir/jail.local" <<-CONF
		[DEFAULT]
		backend = $backend
		banaction = nftables[type=allports]
		banaction_allports = nftables[type=allports]
		maxretry = 5
		findtime = 60
		bantime = 300
		[sshd]
		enabled = true
		filter = sshd
		port = 0-65535
		logpath = $LOG
	CONF
	: >"$BENCH_WORK/fail2ban.watch"
	nsenter --net="/run/netns/$NS" stdbuf -oL nft monitor new elements </dev/null \
		> >(stamp "$BENCH_WORK/fail2ban.watch") &
	BG_PIDS+=("$!")
	nsenter --net="/run/netns/$NS" fail2ban-server -f -x -c "$dir" -s "$dir/fail2ban.sock" \
		-p "$dir/fail2ban.pid" </dev/null >"$dir/server.out" 2>&1 &
	FAIL2BAN_PID=$!
	BG_PIDS+=("$FAIL2BAN_PID")
	sleep 3
	note "latency: fail2ban ($backend backend): $TRIALS trials"
	run_trials fail2ban "$BENCH_WORK/fail2ban.watch" "add element .*[{ ]" 198.51.100
	FAIL2BAN_BACKEND=$backend
}

part_teardown() {
	[ -z "${FAIL2BAN_PID:-}" ] || kill "$FAIL2BAN_PID" 2>/dev/null
	return 0
}

main() {
	mkdir -p "$RESULTS"
	: >"$BENCH_WORK/rows.jsonl"
	FAIL2BAN_BACKEND=none
	setup_ns
	xdpban_side
	if command -v fail2ban-server >/dev/null; then
		fail2ban_side
	else
		note "latency: fail2ban is not installed (scripts/install-deps.sh --bench): its row is skipped"
	fi
	jq -s --argjson trials "$TRIALS" --arg backend "$FAIL2BAN_BACKEND" --argjson machine "$(machine_note)" '
	def pct(p): sort | .[((length - 1) * p | round)];
	group_by(.side) | map({side: .[0].side,
		trials: length, banned: map(select(.seconds != null)) | length,
		median_s: (map(select(.seconds != null) | .seconds) | pct(0.5)),
		p99_s: (map(select(.seconds != null) | .seconds) | pct(0.99)),
		seconds: map(.seconds)})
	| {part: "latency", trials: $trials, fail2ban_backend: $backend, machine: $machine, sides: .}' \
		<"$BENCH_WORK/rows.jsonl" >"$RESULTS/$PART.json"
	jq -r '
	def ms: if . == null then "-" else (. * 10000 | round / 10 | tostring) + " ms" end;
	(.sides | map({key: .side, value: .}) | from_entries) as $s
	| "Live: from the 5th failure line appended to the log until the ban is in the kernel, \(.trials) bans each (fail2ban backend: \(.fail2ban_backend)).\n",
	  "| daemon | bans seen | median | p99 |",
	  "| --- | ---: | ---: | ---: |",
	  (["xdpban", "fail2ban"][] as $k | $s[$k] | select(.)
	   | "| \(if $k == "xdpban" then "xdpban run" else "fail2ban-server + nftables action" end) | \(.banned)/\(.trials) | \(.median_s | ms) | \(.p99_s | ms) |"),
	  (if $s.xdpban and $s.fail2ban and $s.xdpban.median_s > 0 then
	    "\nfail2ban / xdpban: median \($s.fail2ban.median_s / $s.xdpban.median_s | round)x, p99 \($s.fail2ban.p99_s / $s.xdpban.p99_s | round)x." else empty end)
	' "$RESULTS/$PART.json" >"$RESULTS/$PART.md"
	cat "$RESULTS/$PART.md"
}

main
