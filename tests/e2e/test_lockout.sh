#!/bin/bash
# The self-lockout guard, end to end: `xdpban ban` and `xdpban geo block`
# refuse, with one line naming the address and why, what would cover
# loopback, an address of the host (of the server's namespace, where the
# protected interfaces are) or the client of an established SSH session to
# the host (a socat "sshd" on port 22 with a client holding a connection);
# --force overrides; an allowlisted address is no reason to refuse. The
# daemon: a rule's /64 that would cover the host is narrowed to the failing
# address, and an address that logged in over SSH (the sshd log said
# "Accepted") and still has its session is not banned.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

AUTH_LOG=""

write_daemon_config() {
	daemon_files
	AUTH_LOG=$WORK/auth.log
	: >"$AUTH_LOG"
	cat >"$CONF" <<-EOF
		[daemon]
		pin_dir = $PIN
		state_dir = $STATE_DIR
		control_socket = $CTL
		log_level = info

		[rules]
		ip_failures = 5
		ipv6_prefix = 64

		[source ssh]
		type = sshd
		path = $AUTH_LOG
	EOF
}

e2e_setup() {
	write_daemon_config
	start_daemon
	# A stand-in sshd: port 22 in the server's namespace.
	spawn "$SRV" socat TCP4-LISTEN:22,fork,reuseaddr "SYSTEM:sleep 60"
	wait_until 5 listening "$SRV" "0.0.0.0:22"
}

e2e_teardown() {
	if [ -n "$DAEMON_PID" ]; then
		stop_daemon >/dev/null 2>&1
	fi
}

# refused CMD...: CMD fails; its stderr kept in $WORK/stderr.
refused() {
	local status=0
	"$@" >/dev/null 2>"$WORK/stderr" || status=$?
	[ "$status" -ne 0 ]
}

one_line_naming() {
	[ "$(wc -l <"$WORK/stderr")" -eq 1 ] && grep -qF -- "$1" "$WORK/stderr"
}

ssh_session_open() { # an established connection from client 1 to port 22
	in_ns "$SRV" ss -Htn state established "( sport = :22 )" | grep -qF "$CLI1_IP"
}

open_ssh_session() {
	spawn "$CLI1" socat "TCP4:$SRV_IP1:22" "SYSTEM:sleep 60"
	wait_until 5 ssh_session_open
}

test_ban_refusals() {
	check "a ban covering the host's address is refused" refused xb ban 192.0.2.0/24
	check "with one line naming the address and the interface" \
		one_line_naming "it covers 192.0.2.1, an address of this host (s1)"
	check_eq "and nothing is banned" 0 "$(ban_count)"
	check "an IPv6 ban covering the host is refused" refused xb ban 2001:db8:2::/48
	check "naming its address" one_line_naming "2001:db8:2::1, an address of this host (s2)"
	check "a ban of loopback is refused" refused xb ban 127.0.0.1
	check "as loopback" one_line_naming "it covers loopback (127.0.0.0/8)"
	check "a ban in a file covering the host is refused, the whole file" \
		refused xb ban --file <(printf '203.0.113.9\n198.51.100.0/24\n')
	check_eq "nothing from the file is banned" 0 "$(ban_count)"
	check "--force bans it anyway" quietly xb ban --force 192.0.2.0/24
	check "a ban beside the host is not refused" quietly xb ban 198.51.100.128/25
}

test_ssh_peer() {
	open_ssh_session
	check "a ban of the client of an SSH session is refused" refused xb ban "$CLI1_IP"
	check "naming the session" \
		one_line_naming "$CLI1_IP, the client of an established SSH session (port 22)"
	xb allow "$CLI1_IP" >/dev/null
	check "once allowlisted, its ban is no lockout" quietly xb ban "$CLI1_IP"
}

test_geo_block() {
	printf '192.0.2.0/24\n' >"$WORK/FR.zone"
	printf '203.0.113.0/24\n' >"$WORK/DE.zone"
	xb geo load --format cidr "$WORK/FR.zone" "$WORK/DE.zone" >/dev/null
	check "blocking the host's country is refused" refused xb geo block DE FR
	check "naming the address and the country" \
		one_line_naming "refusing to block FR: 192.0.2.1, an address of this host (s1) is in FR"
	check_eq "and no country is blocked" "" \
		"$(xb --json geo list | jq -r '.countries[] | select(.blocked) | .country')"
	check "another country is blocked" quietly xb geo block DE
	check "--force blocks the host's country anyway" quietly xb geo block --force FR
	xb geo unblock DE FR >/dev/null
}

test_daemon_narrows_to_the_address() {
	local i
	for i in 1 2 3 4 5; do
		xb event fail --ip "$CLI1_IP6" --user "nobody$i" --socket "$CTL" >/dev/null
	done
	check "the rule's /64 would cover the host: the address alone is banned" \
		wait_until 5 banned "$CLI1_IP6"
	check_not "not the /64" banned 2001:db8:1::/64
	check "the daemon says so" daemon_said "ban of 2001:db8:1::/64 narrowed to the failing address"
}

test_daemon_spares_the_operator() {
	local ts i
	open_ssh_session
	ts=$(date '+%b %d %H:%M:%S')
	printf '%s srv sshd[900]: Accepted publickey for admin from %s port 50000 ssh2\n' \
		"$ts" "$CLI1_IP" >>"$AUTH_LOG"
	for i in 1 2 3 4 5; do
		printf '%s srv sshd[90%d]: Failed password for admin from %s port 5000%d ssh2\n' \
			"$ts" "$i" "$CLI1_IP" "$i" >>"$AUTH_LOG"
	done
	check "the operator logged in over SSH is not banned" \
		wait_until 5 daemon_said "not banning $CLI1_IP: it covers $CLI1_IP, the client"
	check_not "nor in the map" banned "$CLI1_IP"
	check_eq "the refusal is counted" 1 "$(status .faults.refused_lockout)"
}

e2e_main test_ban_refusals test_ssh_peer test_geo_block test_daemon_narrows_to_the_address \
	test_daemon_spares_the_operator
