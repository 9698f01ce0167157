#!/bin/bash
# The daemon following Exim's mainlog: the lines Debian 12's real Exim wrote
# (tests/fixtures/logs/exim.log, the client's address replaced), appended to
# a file source. Its rejections without a credential (relaying, an unknown
# recipient, sender verification, a synchronization error, too many HELPs)
# count for the IP rule: five ban the address. A source with
# count_rejected = no ignores them and still bans on authentication
# failures. The rejections never block an account.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

FIXTURE=$REPO/tests/fixtures/logs/exim.log
COUNTED="" # the mainlog of the source that counts rejections
IGNORED="" # the mainlog of the source with count_rejected = no

e2e_setup() {
	COUNTED=$WORK/mainlog
	IGNORED=$WORK/mainlog-relay
	: >"$COUNTED"
	: >"$IGNORED"
	daemon_files
	{
		daemon_conf_start
		cat <<-EOF
			[rules]
			ip_failures = 5
			ip_window = 600
			ip_bantime = 60
			account_failures = 2
			account_min_ips = 1
			[source exim]
			type = exim
			path = $COUNTED
			[source relay]
			type = exim
			path = $IGNORED
			count_rejected = no
		EOF
	} >"$CONF"
}

e2e_teardown() {
	[ -z "$DAEMON_PID" ] || stop_daemon >/dev/null 2>&1
}

# exim_lines WHAT ADDR: the fixture's lines of one kind ("rejected": the 7
# rejections; "auth": the authenticator failures) from 198.51.100.5 and
# .6, as ADDR's.
exim_lines() {
	local pattern='authenticator failed'
	[ "$1" = rejected ] && pattern='relay not permitted|Unrouteable address|sender verify fail|synchronization error|dropped: too many'
	grep -E "$pattern" "$FIXTURE" | grep -v ' A=' | grep -F -e '[198.51.100.5]' -e '[198.51.100.6]' |
		sed -E "s/\[198\.51\.100\.[56]\]/[$2]/"
}

source_events() { # source_events NAME: outcomes the source recognised
	status ".sources[] | select(.name == \"$1\") | .events"
}

events_are() { # events_are SOURCE N
	[ "$(source_events "$1")" = "$2" ]
}

test_rejections_count_for_the_ip_rule() {
	start_daemon
	exim_lines rejected 192.0.2.40 | head -n 4 >>"$COUNTED"
	check "4 rejections: counted" wait_until 10 events_are exim 4
	check_not "4 rejections: not banned" banned 192.0.2.40
	# a verification's rejection (not counted again), then two more
	exim_lines rejected 192.0.2.40 | sed -n '5,$p' >>"$COUNTED"
	check "the fifth rejection bans the address" wait_until 10 banned 192.0.2.40
	check "a sender verification and its rejection counted once" \
		wait_until 10 events_are exim 6
	check_eq "no account is blocked by them" 0 "$(status .blocks)"

	exim_lines rejected 192.0.2.41 >>"$IGNORED"
	exim_lines auth 192.0.2.41 | head -n 1 >>"$IGNORED"
	check "count_rejected = no: only the authentication failure counts" \
		wait_until 10 events_are relay 1
	check_not "count_rejected = no: the rejections ban nothing" banned 192.0.2.41
	exim_lines auth 192.0.2.41 >>"$IGNORED"
	exim_lines auth 192.0.2.41 >>"$IGNORED"
	check "count_rejected = no: authentication failures still ban" \
		wait_until 10 banned 192.0.2.41
	check_eq "the account rule is on: bob and nosuchuser, twice each, are blocked" 2 \
		"$(status .blocks)"
	stop_daemon
}

e2e_main test_rejections_count_for_the_ip_rule
