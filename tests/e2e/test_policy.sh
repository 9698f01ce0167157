#!/bin/bash
# The Dovecot auth policy endpoint ([policy] listen) end to end, with curl
# standing in for Dovecot (no real Dovecot in this script): the daemon runs in
# the server namespace with its endpoint on that namespace's loopback, and
# curl posts what Dovecot would post for command=report and command=allow.
# Checked: failed reports for one account from two addresses block it (the
# daemon logs the block) and allow then answers the tarpit; malformed JSON is
# a 400; five failed reports from one address ban it in the kernel map and
# allow from it answers -1; GET /metrics is valid Prometheus text (parsed by
# Debian's python3-prometheus-client) whose figures match what happened;
# SIGHUP applies a new tarpit, API key, /metrics address and policy address
# without forgetting a tarpitted attempt.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

PORT=18643
PORT2=18644        # where SIGHUP moves the policy endpoint
METRICS_PORT=18645 # [daemon] metrics_listen after SIGHUP
TARPIT=60
NEW_TARPIT=7
API_KEY=k3y-for-the-test
ACCT_ADDR1=192.0.2.70    # the account rule: one address ...
ACCT_ADDR2=198.51.100.70 # ... and another
BAN_ADDR=192.0.2.80      # the IP rule

# write_daemon_config TARPIT POLICY_PORT [METRICS_LISTEN [API_KEY]]
write_daemon_config() {
	daemon_files
	: >"$WORK/empty.log"
	{
		daemon_conf_start
		cat <<-EOF
			metrics_listen = ${3:-off}

			[rules]
			ip_failures = 5
			account_failures = 3
			account_min_ips = 2
			tarpit = ${1}s

			[policy]
			listen = 127.0.0.1:$2
			api_key = ${4:-off}

			[source empty]
			path = $WORK/empty.log
		EOF
	} >"$CONF"
}

e2e_setup() {
	write_daemon_config "$TARPIT" "$PORT"
	start_daemon
}

e2e_teardown() {
	stop_daemon >/dev/null 2>&1
}

# policy COMMAND BODY [PORT [CURL-ARGS...]]: POSTs BODY to ?command=COMMAND;
# prints "BODY HTTPCODE".
policy() {
	local command=$1 body=$2 port=${3:-$PORT}
	shift $(($# < 3 ? $# : 3))
	in_ns "$SRV" curl -s -m 5 -w ' %{http_code}' -H 'Content-Type: application/json' \
		"$@" --data-binary "$body" "http://127.0.0.1:$port/?command=$command"
}

# metrics [PORT]: the /metrics page (with the key, which it needs once one is set).
metrics() {
	in_ns "$SRV" curl -sf -m 5 -H "X-API-Key: $API_KEY" "http://127.0.0.1:${1:-$PORT}/metrics"
}

# metric PAGE-FILE NAME{LABELS}: the sample's value, parsed by Debian's Prometheus client.
metric() {
	/usr/bin/python3 - "$1" "$2" <<-'EOF'
		import sys
		from prometheus_client.parser import text_string_to_metric_families
		page, wanted = open(sys.argv[1]).read(), sys.argv[2]
		for family in text_string_to_metric_families(page):
		    for s in family.samples:
		        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
		        if (f"{s.name}{{{labels}}}" if labels else s.name) == wanted:
		            print(int(s.value))
	EOF
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
	check "the refusal is logged with its reason" \
		daemon_said "policy: refused (400): body is not a JSON object"
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

address_bans_counted() { # address_bans_counted N: /metrics says N address bans
	[ "$(metrics | sample_value 'xdpban_bans_active{kind="address"}')" = "$1" ]
}

# Runs after the three above: their outcomes are what the page must say.
test_metrics() {
	local page=$WORK/metrics.txt out
	xb ban 203.0.113.77 --for 5m >/dev/null # each test starts with no ban
	check "a sweep (sweep_interval 1 s) counts the address ban made here" \
		wait_until 10 address_bans_counted 1
	metrics >"$page"
	check "GET /metrics answers" test -s "$page"
	check "the page parses as Prometheus text" \
		/usr/bin/python3 -c 'import sys; from prometheus_client.parser import text_string_to_metric_families as f; list(f(open(sys.argv[1]).read()))' "$page"
	check_eq "one tarpit answered, counted" 1 \
		"$(metric "$page" 'xdpban_policy_answers_total{answer="tarpit"}')"
	check_eq "two rejections of the blocked account and the banned address" "1 1" \
		"$(metric "$page" 'xdpban_policy_answers_total{answer="reject_blocked"}') $(metric "$page" 'xdpban_policy_answers_total{answer="reject_banned"}')"
	check_eq "three refused requests counted as errors" 3 \
		"$(metric "$page" 'xdpban_policy_answers_total{answer="error"}')"
	check_eq "8 events from the policy endpoint (3 account + 5 address failures)" 8 \
		"$(metric "$page" 'xdpban_events_total{source="dovecot-policy"}')"
	check_eq "one account blocked now, one started" "1 1" \
		"$(metric "$page" xdpban_account_blocks_active) $(metric "$page" xdpban_account_blocks_total)"
	check_eq "the XDP counters are there (no SYN sent: 0 drops)" 0 \
		"$(metric "$page" 'xdpban_packets_total{verdict="drop_ban"}')"
	out=$(in_ns "$SRV" curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/metrics")
	check_eq "POST /metrics is a 405" 405 "$out"
	out=$(in_ns "$SRV" curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")
	check_eq "GET on the policy path is a 405" 405 "$out"
}

reloaded() {
	[ "$(grep -c "reloaded $CONF" "$DAEMON_ERR")" -ge "$1" ]
}

answers_on() { # answers_on PORT
	[ "$(policy allow "$(request dave 203.0.113.9 r1)" "$1" -H "X-API-Key: $API_KEY" |
		awk '{print $NF}')" = 200 ]
}

test_reload() {
	local out page=$WORK/metrics2.txt
	out=$(policy allow "$(request alice "$ACCT_ADDR1" s20)")
	check_eq "before SIGHUP: the blocked account's attempt is tarpitted $TARPIT s" "$TARPIT" \
		"$(answer_status "$out")"
	write_daemon_config "$NEW_TARPIT" "$PORT" "127.0.0.1:$METRICS_PORT" "$API_KEY"
	kill -HUP "$DAEMON_PID"
	check "SIGHUP reloads the config" wait_until 5 reloaded 1
	out=$(policy allow "$(request alice "$ACCT_ADDR1" s21)")
	check_eq "a request without the new API key is a 401" 401 "$(answer_code "$out")"
	out=$(policy allow "$(request alice "$ACCT_ADDR1" s21)" "$PORT" -H "X-API-Key: $API_KEY")
	check_eq "with the key: a new attempt is tarpitted the new $NEW_TARPIT s" "$NEW_TARPIT" \
		"$(answer_status "$out")"
	out=$(policy allow "$(request alice "$ACCT_ADDR1" s20)" "$PORT" -H "X-API-Key: $API_KEY")
	check_eq "the attempt tarpitted before SIGHUP is still remembered: -1" "-1" \
		"$(answer_status "$out")"
	check "the account block survived the reload" test "$(metric <(metrics) xdpban_account_blocks_active)" = 1
	check_eq "/metrics beside the policy needs the key too" 401 \
		"$(in_ns "$SRV" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")"
	check_eq "or it as a bearer token (Prometheus' authorization)" 200 \
		"$(in_ns "$SRV" curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $API_KEY" \
			"http://127.0.0.1:$PORT/metrics")"
	metrics "$METRICS_PORT" >"$page"
	check "/metrics is served on metrics_listen too" grep -q '^xdpban_events_total' "$page"
	out=$(policy allow "$(request dave 203.0.113.9 r0)" "$METRICS_PORT" -H "X-API-Key: $API_KEY")
	check_eq "the metrics-only address has no policy endpoint (404)" 404 "$(answer_code "$out")"
	write_daemon_config "$NEW_TARPIT" "$PORT2" off "$API_KEY"
	kill -HUP "$DAEMON_PID"
	check "a second SIGHUP moves the policy endpoint" wait_until 5 answers_on "$PORT2"
	check_not "the old policy address is closed" answers_on "$PORT"
	check_not "metrics_listen = off closes that address" metrics "$METRICS_PORT"
	write_daemon_config "$NEW_TARPIT" "$PORT2" "999.0.0.1:1" "$API_KEY"
	kill -HUP "$DAEMON_PID"
	check "a config with a bad address is refused on SIGHUP" \
		wait_until 5 daemon_said "reload refused"
	check "and the endpoint goes on answering" answers_on "$PORT2"
}

e2e_main test_account_block_and_tarpit test_malformed test_ip_ban test_metrics test_reload
