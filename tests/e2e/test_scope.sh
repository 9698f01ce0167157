#!/bin/bash
# What is judged: in scope syn only connection openers to protected ports are
# dropped, so a banned host keeps ping, the server's own outbound connections
# and connections it opened before the ban; scope all drops everything it
# sends; `ports set` moves the protection.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

ECHO_PORT=993 # a protected port by default, with an echo server behind it

pings() {
	in_ns "$1" ping -c 1 -W 1 "$2" >/dev/null
}

# A connection from client 1 to the echo server, held open by the test:
# lines written to fd $CONN_FD come back into $CONN_OUT.
open_held_connection() {
	local fifo=$WORK/conn.in
	CONN_OUT=$WORK/conn.out
	rm -f "$fifo" "$CONN_OUT"
	mkfifo "$fifo"
	# Opened read-write so that neither end blocks waiting for the other.
	exec {CONN_FD}<>"$fifo"
	spawn_reading "$fifo" "$CLI1" socat STDIO "TCP4:$SRV_IP1:$ECHO_PORT,connect-timeout=1" \
		>"$CONN_OUT"
}

close_held_connection() {
	exec {CONN_FD}>&-
}

# echoed LINE [SECONDS]: sends LINE over the held connection, waits for the echo.
echoed() {
	echo "$1" >&"$CONN_FD"
	wait_until "${2:-3}" grep -qx "$1" "$CONN_OUT"
}

test_banned_host_keeps_ping_and_replies() {
	xb ban "$CLI1_IP" >/dev/null
	check "a banned client's SYN is dropped (scope syn)" times_out "$CLI1" "$SRV_IP1" 143
	check "the banned client can still ping the server" pings "$CLI1" "$SRV_IP1"
	check "the server can still connect out to the banned client's port 143" \
		connects "$SRV" "$CLI1_IP" 143
}

test_established_connection_survives_ban() {
	open_held_connection
	check "the held connection echoes before the ban" echoed before-ban
	xb ban "$CLI1_IP" >/dev/null
	check "a connection opened before the ban keeps working (scope syn)" echoed after-ban
	check "while new connections from the client time out" times_out "$CLI1" "$SRV_IP1" 143

	xb scope all >/dev/null
	check_eq "scope all is shown" all "$(xb --json scope | jq -r .scope)"
	check_not "scope all drops the established connection's traffic" \
		echoed in-scope-all 2
	check_not "scope all drops the banned client's ping" pings "$CLI1" "$SRV_IP1"
	check "scope all still passes the other client" connects "$CLI2" "$SRV_IP2" 143
	close_held_connection
}

test_ports_set_moves_protection() {
	xb ban "$CLI1_IP" >/dev/null
	xb ports set 8143 >/dev/null
	check_eq "ports shows only 8143" 8143 "$(xb --json ports | jq -r .ports)"
	check "port 143 is no longer protected: the banned client connects" \
		connects "$CLI1" "$SRV_IP1" 143
	check "port 8143 is protected: the banned client times out" \
		times_out "$CLI1" "$SRV_IP1" 8143
	check "the other client connects to 8143" connects "$CLI2" "$SRV_IP2" 8143
	xb ports set all >/dev/null
	check "ports set all protects 143 again" times_out "$CLI1" "$SRV_IP1" 143
}

e2e_setup() {
	listen "$SRV" "$ECHO_PORT" cat
	listen "$SRV" 8143
	listen "$CLI1" 143
}

e2e_main test_banned_host_keeps_ping_and_replies \
	test_established_connection_survives_ban test_ports_set_moves_protection
