#!/bin/bash
# The Dovecot auth policy endpoint end to end with a REAL Dovecot (Debian's
# dovecot-imapd and dovecot-pop3d, lib.sh's private instance): Dovecot's
# config includes docs/dovecot-policy.conf, the snippet the README tells the
# operator to add, with only its nonce and state directory replaced; the daemon serves [policy]
# on its default address, the server namespace's 127.0.0.1:8643, and follows
# no log with failures in it, so every failure it counts came through the
# policy protocol. IMAP and POP3 clients log in from the two client
# namespaces over IPv4 and IPv6. Checked:
#   - the IP rule: 5 wrong passwords from one address (IMAP) ban it; its next
#     SYN is dropped by XDP; the other client still logs in (IMAP, POP3);
#   - the account rule: 3 wrong passwords for carol from 2 addresses (POP3,
#     IPv4 and IPv6) block the account; the right password is then refused,
#     over POP3 and IMAP, after being held for the tarpit; failures go on
#     during the block and it still ends at its first deadline, after which
#     the right password works again.
# Times are scaled down by the config: tarpit 2 s, account block 10 s.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

E2E_GREETER=no # Dovecot listens on port 143, not lib.sh's greeter

SNIPPET=$REPO/docs/dovecot-policy.conf
TARPIT=2     # seconds: [rules] tarpit
BLOCKTIME=10 # seconds: [rules] account_blocktime
ACCT_ADDR1=192.0.2.40 # the account rule: client 1 (and client 2's IPv6 address)
ACCT_ADDR2=192.0.2.41 # client 1, failing on during the block
ECHO_ADDR=192.0.2.42  # client 1, with Dovecot's log followed too

write_daemon_config() {
	daemon_files
	: >"$WORK/empty.log"
	{
		daemon_conf_start
		cat <<-EOF

			[rules]
			ip_failures = 5
			ip_window = 60s
			ip_bantime = 1m
			account_failures = 3
			account_min_ips = 2
			account_window = 60s
			account_blocktime = ${BLOCKTIME}s
			tarpit = ${TARPIT}s

			# [policy] as shipped: listen = 127.0.0.1:8643, the snippet's URL.

			[source empty]
			path = $WORK/empty.log
		EOF
	} >"$CONF"
}

# The snippet with a nonce of this run's own, as the operator would fill it in.
write_policy_snippet() {
	local nonce
	nonce=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	sed -e "s/^auth_policy_hash_nonce = .*/auth_policy_hash_nonce = $nonce/" \
		-e "s|</var/lib/xdpban/|<$STATE_DIR/|" "$SNIPPET" >"$WORK/dovecot-policy.conf"
}

e2e_setup() {
	ip -n "$CLI1" addr add "$ACCT_ADDR1/24" dev c1
	ip -n "$CLI1" addr add "$ACCT_ADDR2/24" dev c1
	ip -n "$CLI1" addr add "$ECHO_ADDR/24" dev c1
	write_daemon_config
	write_policy_snippet
	write_dovecot_config "!include $WORK/dovecot-policy.conf"
	start_daemon
	start_dovecot
}

e2e_teardown() {
	stop_dovecot_and_daemon
}

# timed_login OUT PROTO NS DST SRC USER PASS: one login; "STATUS MS" into OUT,
# the client's exit status (0 logged in, 1 refused) and how long it waited.
timed_login() {
	local out=$1 status=0 started
	shift
	started=$(now_ms)
	in_ns "$2" perl "$MAIL_CLIENT" "$1" login "$3" "$4" "$5" "$6" >"$out.answer" 2>&1 ||
		status=$?
	echo "$status $(($(now_ms) - started))" >"$out"
}

# The auth_policy_ lines in README.md's "### Account blocks in Dovecot" section.
readme_policy_lines() {
	sed -n '/^### Account blocks in Dovecot/,/^### /p' "$REPO/README.md" | grep '^auth_policy_'
}

# Every auth_policy_ line of the README is one of the snippet's (the nonce by
# its key only: both hold a stand-in for the operator's own).
readme_lines_in_snippet() {
	local line
	while IFS= read -r line; do
		case $line in
		auth_policy_hash_nonce\ =*) grep -q '^auth_policy_hash_nonce = ' "$SNIPPET" ;;
		*) grep -qxF -- "$line" "$SNIPPET" ;;
		esac || {
			diag "README line not in $SNIPPET: $line"
			return 1
		}
	done < <(readme_policy_lines)
}

dovecot_setting() { # dovecot_setting KEY: Dovecot's effective value
	doveconf -c "$DOVE_CONF" -h "$1"
}

test_config_is_the_snippet() {
	check "README.md's Dovecot lines are lines of docs/dovecot-policy.conf" \
		eval "[ -n \"\$(readme_policy_lines)\" ] && readme_lines_in_snippet"
	check_eq "only the nonce and the state directory differ between the snippet and the file Dovecot includes" \
		2 "$(diff "$SNIPPET" "$WORK/dovecot-policy.conf" | grep -c '^>')"
	check_eq "Dovecot sends the key the daemon made (auth_policy_server_api_header)" \
		"$(cat "$STATE_DIR/policy.key")" "$(doveconf -x -c "$DOVE_CONF" -h auth_policy_server_api_header)"
	check_eq "Dovecot's effective auth_policy_server_url is the snippet's" \
		"$(sed -n 's/^auth_policy_server_url = //p' "$SNIPPET")" \
		"$(dovecot_setting auth_policy_server_url)"
	check_eq "Dovecot's effective nonce is this run's" \
		"$(sed -n 's/^auth_policy_hash_nonce = //p' "$WORK/dovecot-policy.conf")" \
		"$(dovecot_setting auth_policy_hash_nonce)"
}

test_ip_rule_imap() {
	check "client 2 logs in over IMAP with the right password" \
		logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" bob "$BOB_PW"
	fail_logins 4 "$CLI1" "$SRV_IP1" "$CLI1_IP" bob
	check_not "4 wrong IMAP passwords from client 1: not banned" banned "$CLI1_IP"
	fail_logins 1 "$CLI1" "$SRV_IP1" "$CLI1_IP" bob
	check "the 5th wrong password bans client 1 in the kernel map" \
		wait_until 5 banned "$CLI1_IP"
	check "the daemon counted the failures Dovecot reported (source dovecot-policy)" \
		daemon_said "ban $CLI1_IP for 1m: 5 failures in 60 s (source dovecot-policy)"
	check_xdp_drops "client 1" "$CLI1" "$SRV_IP1" "$CLI1_IP"
	check "client 2 still logs in over IMAP with the right password" \
		logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" bob "$BOB_PW"
	check "client 2 still logs in over POP3 with the right password" \
		logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" bob "$BOB_PW" pop3
	check "client 1's IPv6 address, never failed, logs in" \
		logs_in "$CLI1" "$SRV_IP6_1" "$CLI1_IP6" bob "$BOB_PW"
}

# check_held NAME FILE: timed_login's FILE says refused after about the tarpit.
check_held() {
	local status ms
	read -r status ms <"$2"
	diag "$1: status $status after $ms ms ($(cat "$2.answer"))"
	check_eq "$1: the right password is refused" 1 "$status"
	# Held for the tarpit (Dovecot waits the seconds xdpban answers), and
	# answered long before the block ends: the tarpit, not the block, held it.
	check "$1: held for the ${TARPIT} s tarpit, not until the block ends ($ms ms)" \
		test "$ms" -ge $((TARPIT * 1000 - 100)) -a "$ms" -lt $(((BLOCKTIME - 2) * 1000))
}

block_count() { # block_count ACCOUNT: blocks of ACCOUNT in the store
	xb --json history "$1" | jq '[.history[] | select(.type == "block")] | length'
}

test_account_rule_pop3() {
	local blocked_at deadline ms pids
	fail_logins 2 "$CLI1" "$SRV_IP1" "$ACCT_ADDR1" carol pop3
	fail_logins 1 "$CLI2" "$SRV_IP6_2" "$CLI2_IP6" carol pop3
	check "3 wrong POP3 passwords for carol from 2 addresses (IPv4, IPv6) block the account" \
		wait_until 5 daemon_said "block account carol for ${BLOCKTIME}s: 3 failures"
	# Seen at most 0.1 s after the block began: its deadline is before this.
	deadline=$(($(now_ms) + BLOCKTIME * 1000))
	blocked_at=$(now_ms)

	# The right password over POP3 and IMAP; meanwhile more wrong passwords
	# from 2 addresses: enough for a new block, which a running block must
	# not turn into a later deadline.
	timed_login "$WORK/pop3" pop3 "$CLI1" "$SRV_IP1" "$ACCT_ADDR1" carol "$CAROL_PW" &
	pids=("$!")
	timed_login "$WORK/wrong1" imap "$CLI1" "$SRV_IP1" "$ACCT_ADDR1" carol wrong &
	pids+=("$!")
	timed_login "$WORK/wrong2" pop3 "$CLI1" "$SRV_IP1" "$ACCT_ADDR2" carol wrong &
	pids+=("$!")
	timed_login "$WORK/wrong3" pop3 "$CLI1" "$SRV_IP1" "$ACCT_ADDR2" carol wrong-again &
	pids+=("$!")
	timed_login "$WORK/imap" imap "$CLI2" "$SRV_IP2" "$CLI2_IP" carol "$CAROL_PW"
	wait "${pids[@]}"
	check_held "POP3 from a failing address" "$WORK/pop3"
	check_held "IMAP from an address that never failed" "$WORK/imap"
	check_eq "3 more wrong passwords during the block are refused" "1 1 1" \
		"$(cut -d' ' -f1 "$WORK/wrong1" "$WORK/wrong2" "$WORK/wrong3" | xargs)"
	diag "3 more failures reported $(($(now_ms) - blocked_at)) ms into the ${BLOCKTIME} s block"
	timed_login "$WORK/late" pop3 "$CLI1" "$SRV_IP1" "$ACCT_ADDR2" carol "$CAROL_PW"
	check_held "POP3 after the further failures" "$WORK/late"

	ms=$((deadline - $(now_ms) + 300))
	[ "$ms" -le 0 ] || sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	check "right after the first deadline the right password works over POP3" \
		logs_in "$CLI1" "$SRV_IP1" "$ACCT_ADDR1" carol "$CAROL_PW" pop3
	diag "logged in $(($(now_ms) - blocked_at)) ms after the block was seen"
	check "and over IMAP" logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" carol "$CAROL_PW"
	check_eq "the store holds one block of carol, ${BLOCKTIME} s long" "1 $BLOCKTIME" \
		"$(block_count carol) $(xb --json history carol |
			jq '[.history[] | select(.type == "block")][0] | .expires_at - .started_at')"
	check_eq "the daemon logged one block of carol" 1 \
		"$(grep -c 'block account carol for' "$DAEMON_ERR")"
	check "the daemon logs the block's end" wait_until 5 daemon_said "1 account block ended"
}

reloaded() {
	daemon_said "reloaded $CONF"
}

# The usual setup: Dovecot's log followed too (the default [source mail]
# reads mail.log), so each failure arrives twice, as a policy report and as a
# log line, in either order. It must still count once: 4 are no ban.
test_log_and_policy_count_once() {
	local echoes
	printf '\n[source dovecot]\ntype = dovecot\npath = %s\n' "$DOVE_LOG" >>"$CONF"
	kill -HUP "$DAEMON_PID"
	check "SIGHUP: the daemon follows Dovecot's log as well" wait_until 5 reloaded
	fail_logins 4 "$CLI1" "$SRV_IP1" "$ECHO_ADDR" bob
	sleep 1 # the log lines of the 4th arrive after its report, or before
	check_not "4 wrong passwords, each reported and logged: not banned" banned "$ECHO_ADDR"
	fail_logins 1 "$CLI1" "$SRV_IP1" "$ECHO_ADDR" bob
	check "the 5th bans" wait_until 5 banned "$ECHO_ADDR"
	echoes=$(in_ns "$SRV" curl -sf -H "X-API-Key: $(cat "$STATE_DIR/policy.key")" http://127.0.0.1:8643/metrics |
		sample_value xdpban_log_echoes_total)
	check_ge "the pairs counted once are in /metrics (xdpban_log_echoes_total)" \
		"${echoes:-0}" 4
}

test_quiet_daemon() {
	check "the daemon logged no error or warning" \
		eval "! grep -E 'xdpban\\[(error|warning)\\]' '$DAEMON_ERR'"
	check "Dovecot's auth process logged no error or warning (the policy server answered)" \
		eval "! grep -E 'auth: (Error|Warning|Fatal):' '$DOVE_LOG'"
}

e2e_main test_config_is_the_snippet test_ip_rule_imap test_account_rule_pop3 \
	test_log_and_policy_count_once test_quiet_daemon
