# shellcheck shell=bash
# A daemon under test (xdpban run) in the server namespace, for the scripts
# that need one (sourced by tests/e2e/lib.sh and scripts/bench-policy.sh,
# never run): its files, its control socket, starting and stopping it, what
# it said.

CONF=""       # the daemon's config
CTL=""        # its control socket
DAEMON_ERR="" # its stderr
DAEMON_PID=""
DAEMON_NS="" # where it runs: the server's namespace ($SRV) unless set

# Names the daemon's files inside $WORK.
daemon_files() {
	CONF=$WORK/xdpban.conf
	CTL=$WORK/ctl.sock
	DAEMON_ERR=$WORK/daemon.err
}

ctl() {
	printf '%s\n' "$1" | socat -t 60 - "UNIX-CONNECT:$CTL"
}

status() { # status JQ-FILTER: a field of the daemon's status
	ctl '{"cmd":"status"}' | jq -r "$1"
}

daemon_answers() {
	[ -S "$CTL" ] && [ "$(status .ok 2>/dev/null)" = true ]
}

# start_daemon: xdpban run -c $CONF in the server's namespace (or DAEMON_NS),
# once its control socket answers.
start_daemon() {
	# nsenter itself, not through in_ns: a function in the background would be
	# a subshell, and $! its PID instead of the daemon's (nsenter execs it).
	nsenter --net="/run/netns/${DAEMON_NS:-$SRV}" "$XDPBAN" run -c "$CONF" </dev/null 2>>"$DAEMON_ERR" &
	DAEMON_PID=$!
	BG_PIDS+=("$DAEMON_PID")
	if ! wait_until 10 daemon_answers; then
		diag "the daemon did not answer on $CTL; its stderr:"
		sed 's/^/#   /' "$DAEMON_ERR"
		return 1
	fi
}

daemon_gone() {
	! kill -0 "$DAEMON_PID" 2>/dev/null
}

# stop_daemon: SIGTERM, then waits; returns the daemon's exit status.
stop_daemon() {
	local status=0 pid others=()
	[ -n "$DAEMON_PID" ] || return 0
	for pid in "${BG_PIDS[@]}"; do # the cleanup must not kill a reused PID
		[ "$pid" = "$DAEMON_PID" ] || others+=("$pid")
	done
	BG_PIDS=("${others[@]}")
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	if ! wait_until 10 daemon_gone; then
		diag "the daemon ignored SIGTERM for 10 s"
		kill -KILL "$DAEMON_PID" 2>/dev/null || true
	fi
	wait "$DAEMON_PID" || status=$?
	DAEMON_PID=""
	return "$status"
}

# daemon_conf_two_failures: $CONF for a daemon fed through its control
# socket alone (no policy endpoint, one empty log) that bans at 2 failures.
daemon_conf_two_failures() {
	: >"$WORK/empty.log"
	{
		daemon_conf_start
		cat <<-EOF

			[rules]
			ip_failures = 2

			[policy]
			listen = off

			[source empty]
			path = $WORK/empty.log
		EOF
	} >"$CONF"
}

fail_twice() { # fail_twice ADDR: two failures through the control socket
	local _
	for _ in 1 2; do
		ctl "{\"cmd\":\"event\",\"outcome\":\"fail\",\"ip\":\"$1\",\"user\":\"u\",\"service\":\"imap\"}" >/dev/null
	done
}

# stop_daemon_and_report: stops the daemon if one runs and, after a failed
# check, shows the end of its stderr: the e2e_teardown of a daemon test.
stop_daemon_and_report() {
	local line
	[ -z "$DAEMON_PID" ] || stop_daemon >/dev/null 2>&1
	if [ "$TESTS_FAILED" -ne 0 ] && [ -s "$DAEMON_ERR" ]; then
		diag "the daemon's stderr (last 30 lines):"
		tail -n 30 "$DAEMON_ERR" | while IFS= read -r line; do diag "  $line"; done
	fi
}

daemon_said() { # daemon_said TEXT: the daemon's stderr has TEXT
	grep -qF -- "$1" "$DAEMON_ERR"
}

# daemon_conf_start: the first lines of a daemon config, [daemon] with this
# run's pins, state directory and control socket, a sweep every second (so
# expiries show at once) and info logging (what the checks grep for); the
# caller goes on with [daemon] keys of its own. Call daemon_files first.
daemon_conf_start() {
	cat <<-EOF
		# xdpban daemon under test ($(basename "$0"))
		[daemon]
		pin_dir = $PIN
		state_dir = $STATE_DIR
		control_socket = $CTL
		sweep_interval = 1s
		log_level = info
	EOF
}

# sample_value NAME: the value of sample NAME (labels as printed, e.g.
# 'xdpban_bans_active{kind="address"}') in a /metrics page on stdin; nothing
# when the page lacks it.
sample_value() {
	awk -v name="$1" '$1 == name { print $2 }'
}
