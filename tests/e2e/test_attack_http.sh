#!/bin/bash
# The policy endpoint under connection attacks (issue 17, items 1 and 2), the
# daemon in the server namespace with its endpoint on that namespace's
# loopback and only 1024 descriptors (ulimit -n, as the unit had before it
# set LimitNOFILE), the attackers and the well-behaved client on the same
# loopback address, as a local user and Dovecot would be:
#   - 1,100 connections held open (each one the server closes opened again):
#     a new well-behaved client (bench/policy_probe: Dovecot's requests, key
#     and 2 s timeout) gets every answer, the control socket answers, and a
#     ban still reaches the kernel (it needs a descriptor for the pin lock);
#   - 300 slowloris connections, a header line every second (libmicrohttpd's
#     idle timeout never fires): each is cut once request_timeout (2 s) has
#     passed without a whole request (the default), and the status counts them.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

PORT=18650
API_KEY=attack-test-key
PROBE=$REPO/build/bench/policy_probe
ATTACK=$REPO/build/bench/conn_attack
BAN_ADDR=192.0.2.91

e2e_setup() {
	daemon_files
	: >"$WORK/empty.log"
	{
		daemon_conf_start
		cat <<-EOF

			[rules]
			ip_failures = 3

			[policy]
			listen = 127.0.0.1:$PORT
			api_key = $API_KEY

			[source empty]
			path = $WORK/empty.log
		EOF
	} >"$CONF"
	# The descriptor limit of a unit without LimitNOFILE, hard and soft.
	printf '#!/bin/sh\nulimit -n 1024\nexec %s "$@"\n' "$XDPBAN" >"$WORK/xdpban-1024"
	chmod +x "$WORK/xdpban-1024"
	XDPBAN=$WORK/xdpban-1024 start_daemon
}

e2e_teardown() {
	stop_daemon >/dev/null 2>&1
}

# attack MODE COUNT SECONDS [EVERY]: conn_attack in the server namespace, in the background.
attack() {
	spawn "$SRV" "$ATTACK" "$1" 127.0.0.1 "$PORT" "$2" "$3" "${4:-10}" >"$WORK/attack.out"
}

probe() { # probe SECONDS INTERVAL_MS: the well-behaved client's summary line
	in_ns "$SRV" "$PROBE" 127.0.0.1 "$PORT" "$API_KEY" "$1" "$2"
}

field() { # field NAME LINE: NAME=VALUE's value in LINE
	tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}

test_held_connections() {
	local line
	attack hold 1100 9
	sleep 2
	line=$(probe 4 20)
	diag "well-behaved client while 1,100 connections are held: $line"
	check_eq "every request of a new client answered" 0 "$(field failures "$line")"
	check "the control socket answers" daemon_answers
	for _ in 1 2 3; do
		ctl "{\"cmd\":\"event\",\"outcome\":\"fail\",\"ip\":\"$BAN_ADDR\",\"user\":\"x\",\"service\":\"imap\"}" >/dev/null
	done
	check "a ban still reaches the kernel" banned "$BAN_ADDR"
	check_not "no ban failed" daemon_said "cannot ban"
	check_ge "connections beyond the bound made room (status)" \
		"$(status '.faults.policy_connections_evicted')" 1
}

test_slowloris() {
	local line
	sleep 8 # the previous attack's end
	attack slowloris 300 6 1
	wait_until 12 grep -q opened "$WORK/attack.out"
	line=$(cat "$WORK/attack.out")
	diag "slowloris: $line"
	check_ge "every slow connection cut (2 s to send a request)" \
		"$(field closed_by_server "$line")" 300
	check_ge "the cuts are counted (status)" "$(status '.faults.policy_connections_timed_out')" 300
}

e2e_main test_held_connections test_slowloris
