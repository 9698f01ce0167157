#!/bin/bash
# The rules' pending failures across a restart of the daemon (`xdpban run`,
# [daemon] snapshot_interval, STATE_DIR/rules.state), end to end:
#   - a clean stop (SIGTERM) between an address's failures 3 and 4: after the
#     restart the 4th does not ban, the 5th does, as without the restart;
#   - an account failing from two addresses, then a restart: the third
#     address's failure blocks it;
#   - kill -9 after a snapshot_interval: the periodic snapshot had the
#     failures;
#   - a reload (SIGHUP) that changes [rules] capacities keeps them;
#   - rules.state planted as a symlink: not followed, replaced by a file; a
#     save's temporary file left by kill -9 removed at start;
#   - the account table's saturation in `xdpban status` and /metrics.
# The failures go in through the control socket (`xdpban event fail`).
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

SNAPSHOT="" # the daemon's rules.state

write_daemon_config() {
	daemon_files
	SNAPSHOT=$STATE_DIR/rules.state
	mkdir -p "$WORK/log"
	: >>"$WORK/log/auth.log"
	{
		daemon_conf_start
		cat <<-EOF
			snapshot_interval = 2s
			metrics_listen = 127.0.0.1:9178

			[rules]
			ip_failures = 5
			ip_window = 10m
			ip_bantime = 10m
			account_failures = 3
			account_window = 10m
			account_min_ips = 2
			max_tracked_accounts = ${1:-65536}

			[source ssh]
			type = sshd
			path = $WORK/log/auth.log
		EOF
	} >"$CONF"
}

e2e_setup() {
	write_daemon_config
	start_daemon
}

e2e_teardown() {
	stop_daemon_and_report
}

# fail_login ADDR [USER] [N]: N (1) failures of ADDR (on USER) through the control socket.
fail_login() {
	local i
	for ((i = 0; i < ${3:-1}; i++)); do
		xb event fail --ip "$1" ${2:+--user "$2"} --socket "$CTL" >/dev/null
	done
}

restart_daemon() {
	stop_daemon
	start_daemon
}

said_more() { # said_more TEXT N: the daemon's stderr has TEXT more than N times
	[ "$(grep -cF -- "$1" "$DAEMON_ERR" || true)" -gt "$2" ]
}

reload() {
	local reloads
	reloads=$(grep -cF "reloaded $CONF" "$DAEMON_ERR" || true)
	kill -HUP "$DAEMON_PID"
	wait_until 10 said_more "reloaded $CONF" "$reloads"
}

# not_banned_after ADDR: ADDR still not banned half a second on.
not_banned_after() {
	sleep 0.5
	! banned "$1"
}

test_restart_between_failures_3_and_4() {
	local addr=192.0.2.71
	fail_login "$addr" "" 3
	restart_daemon
	check "a clean stop saves the state ($SNAPSHOT)" test -f "$SNAPSHOT"
	check "the restart restores it" \
		daemon_said "restored the pending failures of 1 addresses and 0 accounts from $SNAPSHOT"
	fail_login "$addr"
	check "the 4th failure after the restart does not ban" not_banned_after "$addr"
	fail_login "$addr"
	check "the 5th does, as without the restart" wait_until 5 banned "$addr"
}

# block_stored ACCOUNT: the store's history has a block of ACCOUNT.
block_stored() {
	xb --json history "$1" | jq -e 'any(.history[]; .type == "block")' >/dev/null
}

test_restart_keeps_an_accounts_sources() {
	local blocks
	blocks=$(status .blocks)
	fail_login 192.0.2.81 victim
	fail_login 198.51.100.81 victim
	restart_daemon
	check_eq "no block before the third failure" "$blocks" "$(status .blocks)"
	fail_login 203.0.113.81 victim
	check_eq "after the restart, the third failure (third address) blocks the account" \
		$((blocks + 1)) "$(status .blocks)"
	# The store's writer thread records the block a moment after the kernel has it.
	check "and the block is in the store" wait_until 5 block_stored victim
}

test_kill9_after_a_snapshot() {
	local addr=192.0.2.91 saved
	saved=$(stat -c %Y "$SNAPSHOT")
	fail_login "$addr" "" 4
	check "the periodic snapshot is written (snapshot_interval = 2s)" \
		wait_until 10 eval "[ \"\$(stat -c %Y '$SNAPSHOT')\" -gt $saved ]"
	sleep 2.5 # a snapshot taken after the 4 failures
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=""
	start_daemon
	fail_login "$addr"
	check "after kill -9, the 5th failure bans: the periodic snapshot had the 4" \
		wait_until 5 banned "$addr"
}

test_reload_keeps_the_failures() {
	local addr=192.0.2.101
	fail_login "$addr" "" 4
	write_daemon_config 32768 # other capacities: new rules
	reload
	fail_login "$addr"
	check "a reload that makes new rules keeps the pending failures" wait_until 5 banned "$addr"
	write_daemon_config
	reload
}

test_planted_symlink() {
	local target=$WORK/precious
	stop_daemon
	echo precious >"$target"
	ln -sf "$target" "$SNAPSHOT"
	echo cut short >"$SNAPSHOT.Ab12Cd" # a save's temporary file, left by kill -9
	: >"$DAEMON_ERR"
	start_daemon
	check "a symlink at rules.state is not followed" \
		daemon_said "cannot open $SNAPSHOT: Too many levels of symbolic links"
	check "a save's leftover temporary file is removed" \
		eval "[ ! -e '$SNAPSHOT.Ab12Cd' ] && daemon_said 'removed $SNAPSHOT.Ab12Cd'"
	stop_daemon
	check "the next save replaces the link with a file" \
		eval "[ -f '$SNAPSHOT' ] && [ ! -L '$SNAPSHOT' ]"
	check_eq "and leaves its target alone" precious "$(cat "$target")"
	start_daemon
}

metric() { # metric NAME: its value on /metrics
	in_ns "$SRV" curl -s http://127.0.0.1:9178/metrics | sample_value "$1"
}

test_saturation_is_shown() {
	local i
	stop_daemon
	write_daemon_config 8 # one set of 8 accounts
	rm -f "$SNAPSHOT"
	start_daemon
	for i in 1 2 3 4 5 6 7 8; do # one failure per address: no address gets banned
		fail_login "192.0.2.$((110 + i))" "held$i"
		fail_login "198.51.100.$((110 + i))" "held$i"
	done
	check_eq "8 accounts failing from two addresses fill the table" 8 "$(status .tracked_accounts)"
	check_eq "not saturated yet" 0 "$(status .faults.accounts_saturated)"
	for i in $(seq 1 60); do # a new name gets in one time in 4: one does by far
		fail_login "203.0.113.$i" "new$i"
	done
	check_eq "a new name pushed one out: saturated" 1 "$(status .faults.accounts_saturated)"
	check "xdpban status says so" \
		eval "xb status --socket '$CTL' | grep -q '^accounts:   8 tracked; SATURATED'"
	check_eq "and status --json" true \
		"$(xb --json status --socket "$CTL" | jq -r .accounts_saturated)"
	check_eq "and /metrics" 1 "$(metric xdpban_rules_accounts_saturated)"
	check_ge "with the evictions counted" \
		"$(metric xdpban_rules_account_evictions_multi_source_total)" 1
	diag "$(xb status --socket "$CTL" | grep '^accounts:')"
	stop_daemon
	write_daemon_config
	start_daemon
}

e2e_main test_restart_between_failures_3_and_4 test_restart_keeps_an_accounts_sources \
	test_kill9_after_a_snapshot test_reload_keeps_the_failures test_planted_symlink \
	test_saturation_is_shown
