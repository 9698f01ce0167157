#!/bin/bash
# Load test of the Dovecot auth policy endpoint ([policy] listen): requests
# per second and latency (p50, p99) under concurrent load from wrk, against
# a daemon of its own (own pins, state directory and control socket) serving
# 127.0.0.1:8643 inside a private network namespace. Loads, in turns, ROUNDS
# times each so that the machine's noise falls on all of them alike:
#   baseline  POST ?command=none with the same body: refused with a 400
#             before any JSON is parsed, so it costs the HTTP server alone
#             (libmicrohttpd, the loopback TCP, the epoll loop); every other
#             load is given as a ratio to it;
#   allow     command=allow for a new user and address each time: the common
#             path, answered 0;
#   report    command=report, success false, 5 from each new address: one ban
#             per 5 requests (kernel map, SQLite store, log line), logins from
#             a set of 997, so the account rule blocks them too;
#   mix       what Dovecot sends for logins of which 1 in 4 fails (5 failures
#             from each attacking address, which then gets banned): allow +
#             report for a failure; allow, allow (after the password check),
#             report for a success.
# Meanwhile a control-socket status request every 50 ms (a new connection
# each, as `xdpban event` makes) measures whether the event loop still
# answers; idle first, for comparison.
#
# Use (root; wrk: `scripts/install-deps.sh --bench`, Debian's package):
#   scripts/bench-policy.sh
#   POLICY_SECONDS=10 POLICY_CONNECTIONS=64 POLICY_ROUNDS=3 scripts/bench-policy.sh
# Prints a table and writes RESULTS/policy.json and RESULTS/policy.md
# (bench-lib.sh; RESULTS defaults to bench/results). About
# ROUNDS x 4 x SECONDS, 2 minutes with the defaults.
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"
# The end-to-end tests' daemon under test (start_daemon, status), and the
# diagnostics it prints when the daemon does not start.
# shellcheck source=tests/e2e/lib/tap.sh
. "$E2E_LIB/tap.sh"
# shellcheck source=tests/e2e/lib/daemon.sh
. "$E2E_LIB/daemon.sh"

PART=policy
SECONDS_PER_LOAD=${POLICY_SECONDS:-10}
CONNECTIONS=${POLICY_CONNECTIONS:-64}
THREADS=${POLICY_THREADS:-1}
LOAD_ROUNDS=${POLICY_ROUNDS:-3}
LOADS=(baseline allow report mix)
NS=xbb-pol-$$
PIN=/sys/fs/bpf/xdpban-bench-pol-$$
CONF=$BENCH_WORK/xdpban.conf
CTL=$BENCH_WORK/ctl.sock
DAEMON_ERR=$BENCH_WORK/daemon.err
DAEMON_NS=$NS
URL=http://127.0.0.1:8643/

need_root "$PART"
need_commands "$PART" wrk jq perl curl nsenter socat
[ -x "$XDPBAN" ] || skip_part "$PART" "$XDPBAN is not built"

# The requests, as Dovecot's auth process builds them; wrk runs it with the
# load's name and the round, which keeps every round's addresses new.
write_wrk_script() {
	cat >"$BENCH_WORK/policy.lua" <<-'EOF'
		local threads = {}

		function setup(thread)
			thread:set("thread_id", #threads + 1)
			table.insert(threads, thread)
		end

		local mode, round, n, queue = "allow", 0, 0, {}

		function init(args)
			mode = args[1]
			round = tonumber(args[2])
		end

		local headers = { ["Content-Type"] = "application/json" }

		-- 2001:db8:KIND.ROUND.THREAD:HI:LO::1, a new address for each i.
		local function address(kind, i)
			return string.format("2001:db8:%x:%x:%x::1", kind * 4096 + round * 16 + thread_id,
				math.floor(i / 65536) % 65536, i % 65536)
		end

		local function body(login, remote, session, success)
			local b = string.format('{"login":"%s","pwhash":"0123456789ab","remote":"%s",'
				.. '"device_id":"","protocol":"imap","session_id":"%s"', login, remote, session)
			if success ~= nil then
				b = b .. string.format(',"success":%s,"policy_reject":false', tostring(success))
			end
			return b .. "}"
		end

		local function post(command, b)
			return wrk.format("POST", "/?command=" .. command, headers, b)
		end

		-- The requests of one login of the mix.
		local function queue_login(i, session)
			if i % 4 == 0 then
				local remote, login = address(15, math.floor(i / 20)), "user" .. (i % 997)
				table.insert(queue, post("allow", body(login, remote, session)))
				table.insert(queue, post("report", body(login, remote, session, false)))
			else
				local remote, login = address(14, i), "good" .. i
				table.insert(queue, post("allow", body(login, remote, session)))
				table.insert(queue, post("allow", body(login, remote, session)))
				table.insert(queue, post("report", body(login, remote, session, true)))
			end
		end

		function request()
			local i = n
			local session = string.format("t%dr%dn%d", thread_id, round, i)
			if mode == "mix" and #queue > 0 then
				return table.remove(queue, 1)
			end
			n = n + 1
			if mode == "mix" then
				queue_login(i, session)
				return table.remove(queue, 1)
			elseif mode == "baseline" then
				return post("none", body("user" .. i, address(10, i), session))
			elseif mode == "report" then
				return post("report", body("user" .. (i % 997), address(11, math.floor(i / 5)),
					session, false))
			end
			return post("allow", body("user" .. i, address(12, i), session))
		end

		function done(summary, latency, requests)
			local e = summary.errors
			io.write(string.format('{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,'
				.. '"max_us":%d,"socket_errors":%d,"non_2xx":%d,"timeouts":%d}\n',
				summary.requests, summary.duration, latency:percentile(50),
				latency:percentile(99), latency.max, e.connect + e.read + e.write, e.status,
				e.timeout))
		end
	EOF
}

# status_probe SECONDS: a status request on the control socket every 50 ms,
# a new connection each; prints each round trip in milliseconds.
write_probe() {
	cat >"$BENCH_WORK/probe.pl" <<-'EOF'
		use strict;
		use warnings;
		use IO::Socket::UNIX;
		use Time::HiRes qw(time sleep);
		my ($path, $seconds) = @ARGV;
		my $end = time + $seconds;
		while (time < $end) {
			my $started = time;
			my $s = IO::Socket::UNIX->new(Peer => $path) or die "connect $path: $!\n";
			print $s qq({"cmd":"status"}\n);
			my $reply = <$s>;
			die "no status reply\n" unless defined $reply && $reply =~ /^\{"ok":true/;
			printf "%.3f\n", (time - $started) * 1000;
			close $s;
			sleep 0.05;
		}
	EOF
}

start_policy_daemon() {
	: >"$BENCH_WORK/empty.log"
	cat >"$CONF" <<-EOF
		# the rules as shipped: 5 failures in 60 s ban for 5 minutes; 3 on an
		# account from 2 addresses block it for 10 minutes
		[daemon]
		pin_dir = $PIN
		state_dir = $BENCH_WORK/state
		control_socket = $CTL
		log_level = info
		[policy]
		listen = 127.0.0.1:8643
		api_key = off
		[source none]
		path = $BENCH_WORK/empty.log
	EOF
	new_pin_dir "$PIN" "$NS"
	start_daemon || {
		note "$PART: the daemon did not start: $(tail -n 3 "$DAEMON_ERR")"
		exit 1
	}
}

daemon_cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"
}

# The endpoint answers as Dovecot expects before any load is put on it.
sanity_check() {
	local answer
	answer=$(in_ns "$NS" curl -s -m 5 -H 'Content-Type: application/json' --data-binary \
		'{"login":"x","pwhash":"","remote":"2001:db8::1","protocol":"imap","session_id":"s"}' \
		"${URL}?command=allow")
	[ "$(jq -r .status <<<"$answer")" = 0 ] || {
		note "$PART: command=allow answered '$answer', not status 0"
		exit 1
	}
}

# run_load LOAD ROUND: one wrk run with the status probe beside it; one JSON row.
run_load() {
	local load=$1 round=$2 ticks bans blocks wrk_json probe_pid
	ticks=$(daemon_cpu_ticks) bans=$(status .bans) blocks=$(status .blocks)
	perl "$BENCH_WORK/probe.pl" "$CTL" "$SECONDS_PER_LOAD" >"$BENCH_WORK/probe.out" &
	probe_pid=$!
	wrk_json=$(in_ns "$NS" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_LOAD}s" \
		--timeout 5s -s "$BENCH_WORK/policy.lua" "$URL" -- "$load" "$round" | tail -n 1)
	wait "$probe_pid"
	jq -c --arg load "$load" --argjson round "$round" \
		--argjson cpu "$(($(daemon_cpu_ticks) - ticks))" --argjson hz "$(getconf CLK_TCK)" \
		--argjson bans "$(($(status .bans) - bans))" \
		--argjson blocks "$(($(status .blocks) - blocks))" \
		--slurpfile status "$BENCH_WORK/probe.out" \
		'. + {load: $load, round: $round, daemon_cpu_s: ($cpu / $hz), bans: $bans,
			blocks: $blocks, status_ms: $status}' <<<"$wrk_json" >>"$BENCH_WORK/rows.jsonl"
	note "$PART: round $round, $load: $(jq -r '"\(.requests * 1000000 / .duration_us | floor) req/s, p99 \(.p99_us / 1000) ms"' <<<"$wrk_json")"
}

# The idle daemon's status latency, the probe's own baseline.
run_idle() {
	perl "$BENCH_WORK/probe.pl" "$CTL" 3 |
		jq -cs '{load: "idle", status_ms: .}' \
			>>"$BENCH_WORK/rows.jsonl"
}

summarise() {
	jq -s --arg seconds "$SECONDS_PER_LOAD" --arg connections "$CONNECTIONS" \
		--arg threads "$THREADS" --arg rounds "$LOAD_ROUNDS" --argjson machine "$(machine_note)" '
	def pct(p): sort | .[((length - 1) * p | round)];
	def median: pct(0.5);
	def status_summary: map(.status_ms[]) | {n: length, p50_ms: pct(0.5), p99_ms: pct(0.99), max_ms: max};
	group_by(.load) | map(if .[0].load == "idle" then {load: "idle", status: status_summary} else {
		load: .[0].load,
		rounds: length,
		req_per_s: (map(.requests * 1000000 / .duration_us) | median | floor),
		p50_ms: (map(.p50_us) | median / 1000),
		p99_ms: (map(.p99_us) | median / 1000),
		max_ms: (map(.max_us) | max / 1000),
		errors: (map(.socket_errors + .timeouts) | add),
		non_2xx: (map(.non_2xx) | add),
		daemon_cpu: (map(.daemon_cpu_s / (.duration_us / 1000000)) | median),
		daemon_us_per_req: (map(.daemon_cpu_s * 1000000 / .requests) | median),
		bans_per_s: (map(.bans * 1000000 / .duration_us) | median | floor),
		blocks: (map(.blocks) | add),
		status: status_summary
	} end) | (map({key: .load, value: .}) | from_entries) as $by
	| {part: "policy", seconds: ($seconds | tonumber), connections: ($connections | tonumber),
	   threads: ($threads | tonumber), rounds: ($rounds | tonumber), machine: $machine,
	   loads: [("idle", "baseline", "allow", "report", "mix") as $l | $by[$l] | select(.)
	           | if .load == "idle" or $by.baseline == null then . else . + {
	                 vs_baseline: (.req_per_s / $by.baseline.req_per_s * 100 | round / 100),
	                 cost_vs_baseline: (.daemon_us_per_req / $by.baseline.daemon_us_per_req * 100 | round / 100)}
	             end]}' \
		<"$BENCH_WORK/rows.jsonl" >"$RESULTS/$PART.json"
	jq -r '
	def ms: . * 100 | round / 100 | tostring;
	"Dovecot auth policy endpoint under wrk -t\(.threads) -c\(.connections), \(.seconds) s x \(.rounds) rounds per load (medians over rounds; status: a control-socket request every 50 ms meanwhile; \(.machine.cpus) CPUs shared by wrk, the daemon and the machine'"'"'s other work).\n",
	"| load | req/s | vs baseline | p50 ms | p99 ms | max ms | daemon CPU | daemon µs/req | vs baseline | bans/s | status p50 / p99 / max ms |",
	"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
	(.loads[] | if .load == "idle" then
		"| idle (no load) | | | | | | | | | | \(.status.p50_ms | ms) / \(.status.p99_ms | ms) / \(.status.max_ms | ms) |"
	else
		"| \(.load) | \(.req_per_s) | \(.vs_baseline)x | \(.p50_ms | ms) | \(.p99_ms | ms) | \(.max_ms | ms) | \(.daemon_cpu * 100 | round)% | \(.daemon_us_per_req | ms) | \(.cost_vs_baseline)x | \(.bans_per_s) | \(.status.p50_ms | ms) / \(.status.p99_ms | ms) / \(.status.max_ms | ms) |"
	end),
	"\nreq/s is what wrk got through; where the daemon CPU is under 100% the load generator, not the daemon, set the pace, and the daemon CPU time per request is the daemon'"'"'s own cost.",
	"\nbaseline: POST ?command=none, refused (400) before the JSON is parsed: \(.loads[] | select(.load == "baseline") | .non_2xx) of them, as intended. Socket errors and timeouts over all loads: \([.loads[] | .errors // 0] | add); non-2xx answers outside the baseline: \([.loads[] | select(.load != "baseline") | .non_2xx // 0] | add)."
	' "$RESULTS/$PART.json" >"$RESULTS/$PART.md"
	cat "$RESULTS/$PART.md"
}

main() {
	local round load
	mkdir -p "$RESULTS"
	: >"$BENCH_WORK/rows.jsonl"
	new_ns "$NS"
	write_wrk_script
	write_probe
	start_policy_daemon
	sanity_check
	run_idle
	for round in $(seq 1 "$LOAD_ROUNDS"); do
		for load in "${LOADS[@]}"; do
			run_load "$load" "$round"
		done
	done
	summarise
}

main
