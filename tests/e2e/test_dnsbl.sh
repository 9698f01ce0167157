#!/bin/bash
# DNSBLs both ways, end to end, with a real rbldnsd (Debian's) on the server
# namespace's loopback.
# Publish ([dnsbl] zone_ip4set, zone_ip6trie): the daemon writes its live
# bans as rbldnsd datasets, served as the zone bl.test, and dig asks it as an
# MTA would. Checked: a rule ban (5 failures) is listed with its TXT record,
# an IPv6 ban from the CLI is listed through the ip6trie, an unbanned
# address and one never banned are not, a ban that expires leaves the zone,
# and the files are only ever replaced whole (no temporary file left).
# Consume ([dnsbl] zones, resolver): the same rbldnsd serves a static test
# zone, test.dnsbl; the policy endpoint's allow check of a listed address
# (IPv4 and IPv6) is answered at once and the lookup it starts bans the
# address, so the next check is refused, and the store records the ban
# (xdpban history: reason "dnsbl", source the zone); an unlisted one stays
# unbanned; with a DNS server that never answers, allow still answers at once.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

DNS_PORT=15353
SILENT_PORT=15354 # a DNS "server" that reads queries and never answers
POLICY_PORT=18660
ZONE=bl.test
TEST_ZONE=test.dnsbl
LISTED_V4=203.0.113.99
LISTED_V6=2001:db8:9::7
RULE_ADDR=192.0.2.66
V6_ADDR=2001:db8:1::5

# write_config RESOLVER_PORT
write_config() {
	daemon_files
	: >"$WORK/empty.log"
	{
		daemon_conf_start
		cat <<-EOF

		[policy]
		listen = 127.0.0.1:$POLICY_PORT
		api_key = off

		[dnsbl]
		zone_ip4set = $WORK/zone/dnsbl.ip4
		zone_ip6trie = $WORK/zone/dnsbl.ip6
		zones = $TEST_ZONE
		resolver = 127.0.0.1:$1
		lookup_timeout = 5s
		bantime = 30m

		[source empty]
		path = $WORK/empty.log
		EOF
	} >"$CONF"
}

e2e_setup() {
	mkdir -p "$WORK/zone"
	chmod 711 "$WORK" # rbldnsd refuses to run as root: it reads the zone as nobody
	chmod 755 "$WORK/zone"
	printf '%s\n' ':127.0.0.2:Listed in the test DNSBL' "$LISTED_V4" >"$WORK/zone/test.ip4"
	printf '%s\n' ':127.0.0.2:Listed in the test DNSBL' 2001:db8:9::/48 >"$WORK/zone/test.ip6"
	write_config "$DNS_PORT"
	start_daemon
	wait_until 5 test -s "$WORK/zone/dnsbl.ip6"
	# -n: in the foreground (ended by the cleanup); -c 1: reload changed files every second.
	spawn "$SRV" sh -c "exec rbldnsd -n -u nobody:nogroup -r '$WORK/zone' \
		-b 127.0.0.1/$DNS_PORT -c 1 $ZONE:ip4set:dnsbl.ip4 $ZONE:ip6trie:dnsbl.ip6 \
		$TEST_ZONE:ip4set:test.ip4 $TEST_ZONE:ip6trie:test.ip6 \
		>>'$WORK/rbldnsd.log' 2>&1"
	wait_until 5 answered_at_all
}

e2e_teardown() {
	stop_daemon >/dev/null 2>&1
}

# ask NAME TYPE: what rbldnsd answers (dig +short).
ask() {
	in_ns "$SRV" dig +short +tries=1 +time=2 -p "$DNS_PORT" @127.0.0.1 "$1" "$2"
}

answered_at_all() {
	in_ns "$SRV" dig +tries=1 +time=1 -p "$DNS_PORT" @127.0.0.1 "$ZONE" SOA >/dev/null
}

# The DNSBL name of an address: reversed octets (IPv4) or nibbles (IPv6).
query_name() {
	case $1 in
	*:*) python3 -c 'import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1]).reverse_pointer.removesuffix(".ip6.arpa"))' "$1" ;;
	*) echo "$1" | awk -F. '{ print $4 "." $3 "." $2 "." $1 }' ;;
	esac
}

listed() {
	[ "$(ask "$(query_name "$1").$ZONE" A)" = 127.0.0.2 ]
}

unlisted() {
	[ -z "$(ask "$(query_name "$1").$ZONE" A)" ]
}

test_publish() {
	local i
	check "an address never banned is not listed" unlisted 192.0.2.67
	for i in 1 2 3 4 5; do
		ctl "{\"cmd\":\"event\",\"outcome\":\"fail\",\"ip\":\"$RULE_ADDR\"}" >/dev/null
	done
	check "the rule's ban of $RULE_ADDR is listed" wait_until 10 listed "$RULE_ADDR"
	check_eq "its TXT record names it" "\"Brute-force logins from $RULE_ADDR seen by xdpban\"" \
		"$(ask "$(query_name "$RULE_ADDR").$ZONE" TXT)"
	xb ban "$V6_ADDR" --for 5m >/dev/null
	check "an IPv6 ban ($V6_ADDR) is listed through the ip6trie" wait_until 10 listed "$V6_ADDR"
	check "its neighbour is not" unlisted 2001:db8:1::6
	xb unban "$RULE_ADDR" >/dev/null
	check "unbanned, $RULE_ADDR leaves the zone" wait_until 10 unlisted "$RULE_ADDR"
	# 5 s: long enough to be seen listed on a busy machine (zone rewrite,
	# rbldnsd's reload and dig each take their turn), short enough to expire.
	xb ban 203.0.113.0/24 --for 5s >/dev/null
	check "a /24 ban lists its addresses" wait_until 10 listed 203.0.113.9
	check "expired, it leaves the zone" wait_until 15 unlisted 203.0.113.9
	check_eq "only the datasets in the directory (no temporary file left)" \
		"dnsbl.ip4 dnsbl.ip6 test.ip4 test.ip6" "$(cd "$WORK/zone" && echo *)"
}

# allow REMOTE: the status the policy endpoint answers to a before-auth check.
allow() {
	in_ns "$SRV" curl -s -m 1 -H 'Content-Type: application/json' --data-binary \
		"{\"login\": \"dave\", \"pwhash\": \"ab\", \"remote\": \"$1\", \"device_id\": \"\", \"protocol\": \"imap\", \"session_id\": \"s$RANDOM\"}" \
		"http://127.0.0.1:$POLICY_PORT/?command=allow" | jq -r .status
}

banned() {
	xb --json list | jq -e --arg ip "$1" '.bans[] | select(.prefix == $ip)' >/dev/null
}

# history_row ADDR: its number of history rows, then "type reason source count state length".
history_row() {
	xb --json history "$1" | jq -r --arg s "$1" '[.history[] | select(.subject == $s)] |
		"\(length) " + (first | "\(.type) \(.reason) \(.source) \(.count) \(.state) \(.expires_at - .started_at)")'
}

test_lookup() {
	local page
	check_eq "a listed address's first check is answered at once (0)" 0 "$(allow "$LISTED_V4")"
	check "the lookup it started bans $LISTED_V4" wait_until 5 banned "$LISTED_V4"
	check "the daemon says which DNSBL lists it" \
		grep -qF "ban $LISTED_V4 for 30m: listed in DNSBL $TEST_ZONE" "$DAEMON_ERR"
	check_eq "its next check is refused" -1 "$(allow "$LISTED_V4")"
	check_eq "history: the ban, from the zone, live, for bantime" \
		"1 ban dnsbl $TEST_ZONE 0 live 1800" "$(history_row "$LISTED_V4")"
	check_eq "an IPv6 address of a listed /48: answered at once" 0 "$(allow "$LISTED_V6")"
	check "and banned" wait_until 5 banned "$LISTED_V6"
	check_eq "and in the history" "1 ban dnsbl $TEST_ZONE 0 live 1800" \
		"$(history_row "$LISTED_V6")"
	check_eq "an unlisted address is accepted" 0 "$(allow 203.0.113.98)"
	sleep 1 # its lookup's answer
	check_not "and not banned" banned 203.0.113.98
	check_eq "and still accepted (the negative answer is cached)" 0 "$(allow 203.0.113.98)"
	page=$(in_ns "$SRV" curl -sf "http://127.0.0.1:$POLICY_PORT/metrics")
	check_eq "/metrics counts 2 listed answers and 1 not listed" "2 1" \
		"$(sample_value 'xdpban_dnsbl_answers_total{result="listed"}' <<<"$page") $(sample_value 'xdpban_dnsbl_answers_total{result="not_listed"}' <<<"$page")"
}

# DNS that never answers: every check is still answered at once (curl gives it 1 s).
test_silent_dns_delays_nothing() {
	local i
	spawn "$SRV" socat -u "UDP4-RECV:$SILENT_PORT,bind=127.0.0.1" /dev/null
	stop_daemon
	write_config "$SILENT_PORT"
	start_daemon
	for i in 1 2 3; do
		check_eq "check $i with a silent DNS server is answered at once" 0 \
			"$(allow "203.0.113.$((110 + i))")"
	done
	check_eq "a listed address too (its lookup cannot finish)" 0 "$(allow 203.0.113.99)"
}

if ! command -v rbldnsd >/dev/null || ! command -v dig >/dev/null; then
	echo "1..0 # SKIP: rbldnsd or dig is not installed (scripts/install-deps.sh --tests)"
	exit 0
fi
e2e_main test_publish test_lookup test_silent_dns_delays_nothing
