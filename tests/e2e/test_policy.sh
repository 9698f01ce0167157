#!/bin/bash
# The Dovecot auth policy endpoint ([policy] listen) end to end, with curl
# standing in for Dovecot (no real Dovecot in this script): the daemon runs in
# the server namespace with its endpoint on that namespace's loopback, and
# curl posts what Dovecot would post for command=report and command=allow.
# Checked: failed reports for one account from two addresses block it (the
# daemon logs the block) and allow then answers the tarpit; malformed JSON is
# a 400; five failed reports from one address ban it in the kernel map and
# allow from it answers -1.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

PORT=18643
TARPIT=60
ACCT_ADDR1=192.0.2.70    # the account rule: one address ...
ACCT_ADDR2=198.51.100.70 # ... and another
BAN_ADDR=192.0.2.80      # the IP rule

write_daemon_config() {
	daemon_files
	: >"$WORK/empty.log"
	cat >"$CONF" <<-EOF
		# xdpban daemon under test (tests/e2e/test_policy.sh)
		[daemon]
		pin_dir = $PIN
		state_dir = $STATE_DIR
		control_socket = $CTL
		log_level = info

		[rules]
		ip_failures = 5
		account_failures = 3
		account_min_ips = 2
		tarpit = ${TARPIT}s

		[policy]
		listen = 127.0.0.1:$PORT

		[source empty]
		path = $WORK/empty.log
	EOF
}

e2e_setup() {
	write_daemon_config
	start_daemon
}

e2e_teardown() {
	stop_daemon >/dev/null 2>&1
}

# policy COMMAND BODY: POSTs BODY to ?command=COMMAND; prints "HTTPCODE BODY".
policy() {
	in_ns "$SRV" curl -s -m 5 -w ' %{http_code}' -H 'Content-Type: application/json' \
		--data-binary "$2" "http://127.0.0.1:$PORT/?command=$1"
}

# request LOGIN REMOTE SESSION [SUCCESS]: a body as Dovecot builds it.
request() {
	local extra=""
	[ -z "${4:-}" ] || extra=", \"success\": $4, \"policy_reject\": false"
	printf '{"login": "%s", "pwhash": "ab12", "remote": "%s", "device_id": "", "protocol": "imap", "session_id": "%s"%s}' \
		"$1" "$2" "$3" "$extra"
}

answer_status() { # answer_status "JSON CODE": the JSON's status
	printf '%s' "${1% *}" | jq -r .status
}

answer_code() { # answer_code "JSON CODE": the HTTP code
	printf '%s' "${1##* }"
}

daemon_said() {
	grep -qF -- "$1" "$DAEMON_ERR"
}

banned() {
	ban_list_json | jq -e --arg ip "$1" '.bans[] | select(.prefix | startswith($ip))' \
		>/dev/null
}

test_account_block_and_tarpit() {
	local out addr i=0
	out=$(policy allow "$(request alice "$ACCT_ADDR1" s0)")
	check_eq "allow for a clean account answers 0" "200 0" \
		"$(answer_code "$out") $(answer_status "$out")"
	for addr in "$ACCT_ADDR1" "$ACCT_ADDR2" "$ACCT_ADDR1"; do
		i=$((i + 1))
		out=$(policy report "$(request alice "$addr" "s$i" false)")
		[ "$(answer_code "$out")" = 200 ] || diag "report $i: $out"
	done
	check "3 failed reports for alice from 2 addresses block the account" \
		wait_until 5 daemon_said "block account alice"
	out=$(policy allow "$(request alice "$ACCT_ADDR2" s9)")
	check_eq "allow for the blocked account answers the tarpit" "200 $TARPIT" \
		"$(answer_code "$out") $(answer_status "$out")"
	out=$(policy allow "$(request alice "$ACCT_ADDR2" s9)")
	check_eq "the same attempt's second check is rejected" "-1" "$(answer_status "$out")"
}

test_malformed() {
	local out
	out=$(policy report '{"login": "bob", ')
	check_eq "malformed JSON is a 400" 400 "$(answer_code "$out")"
	out=$(policy frobnicate "$(request bob "$BAN_ADDR" x1 false)")
	check_eq "an unknown command is a 400" 400 "$(answer_code "$out")"
	out=$(head -c 70000 /dev/zero | tr '\0' ' ')
	out=$(policy report "$out")
	check_eq "a body over 64 KiB is a 413" 413 "$(answer_code "$out")"
	check_not "none of them banned anything" banned "$BAN_ADDR"
}

test_ip_ban() {
	local out i
	for i in 1 2 3 4 5; do
		policy report "$(request "user$i" "$BAN_ADDR" "b$i" false)" >/dev/null
	done
	check "5 failed reports from one address ban it (xdpban list)" \
		wait_until 5 banned "$BAN_ADDR"
	check "the daemon logged the ban, source dovecot-policy" \
		daemon_said "source dovecot-policy"
	out=$(policy allow "$(request carol "$BAN_ADDR" b9)")
	check_eq "allow from the banned address answers -1" "200 -1" \
		"$(answer_code "$out") $(answer_status "$out")"
	check "the daemon still answers on its control socket" daemon_answers
}

e2e_main test_account_block_and_tarpit test_malformed test_ip_ban
