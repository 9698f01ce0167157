#!/bin/bash
# DNSBL publish ([dnsbl] zone_ip4set, zone_ip6trie) end to end: the daemon
# writes its live bans as rbldnsd datasets, a real rbldnsd (Debian's) serves
# them as the zone bl.test on the server namespace's loopback, and dig asks
# it as an MTA would. Checked: a rule ban (5 failures) is listed with its TXT
# record, an IPv6 ban from the CLI is listed through the ip6trie, an
# unbanned address and one never banned are not, a ban that expires leaves
# the zone, and the files are only ever replaced whole (no temporary file
# left behind).
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

DNS_PORT=15353
ZONE=bl.test
RULE_ADDR=192.0.2.66
V6_ADDR=2001:db8:1::5

e2e_setup() {
	daemon_files
	: >"$WORK/empty.log"
	cat >"$CONF" <<-EOF
		[daemon]
		pin_dir = $PIN
		state_dir = $STATE_DIR
		control_socket = $CTL
		sweep_interval = 1s

		[policy]
		listen = off

		[dnsbl]
		zone_ip4set = $WORK/zone/dnsbl.ip4
		zone_ip6trie = $WORK/zone/dnsbl.ip6

		[source empty]
		path = $WORK/empty.log
	EOF
	mkdir -p "$WORK/zone"
	chmod 711 "$WORK" # rbldnsd refuses to run as root: it reads the zone as nobody
	chmod 755 "$WORK/zone"
	start_daemon
	wait_until 5 test -s "$WORK/zone/dnsbl.ip6"
	# -n: in the foreground (ended by the cleanup); -c 1: reload changed files every second.
	spawn "$SRV" sh -c "exec rbldnsd -n -u nobody:nogroup -r '$WORK/zone' \
		-b 127.0.0.1/$DNS_PORT -c 1 $ZONE:ip4set:dnsbl.ip4 $ZONE:ip6trie:dnsbl.ip6 \
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

test_dnsbl() {
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
	xb ban 203.0.113.0/24 --for 2s >/dev/null
	check "a /24 ban lists its addresses" wait_until 10 listed 203.0.113.9
	check "expired, it leaves the zone" wait_until 10 unlisted 203.0.113.9
	check_eq "only the two datasets in the directory (no temporary file left)" \
		"dnsbl.ip4 dnsbl.ip6" "$(cd "$WORK/zone" && echo *)"
}

if ! command -v rbldnsd >/dev/null || ! command -v dig >/dev/null; then
	echo "1..0 # SKIP: rbldnsd or dig is not installed (scripts/install-deps.sh --tests)"
	exit 0
fi
e2e_main test_dnsbl
