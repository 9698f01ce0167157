#!/bin/bash
# Addresses that are never banned (issue 17, item 6): the unspecified ones,
# multicast, link-local, and the default routers of the daemon's network
# namespace, read at start and again when a default route changes. Failures
# from each (through the control socket, the path every rule ban takes)
# reach the ban threshold: no ban, one warning naming why, counted in
# .faults.refused_never; an ordinary address is still banned. The CLI
# refuses such a ban with one line unless --force.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

ROUTER=$CLI1_IP     # the server namespace's default router, once the route is added
ROUTER6=$CLI1_IP6
PLAIN_ADDR=203.0.113.31

e2e_setup() {
	daemon_files
	daemon_conf_two_failures
	start_daemon
}

e2e_teardown() {
	stop_daemon >/dev/null 2>&1
}

test_reserved_addresses_are_never_banned() {
	local addr
	for addr in 0.0.0.0 :: 224.0.0.1 ff02::1 169.254.1.1 fe80::1; do
		fail_twice "$addr"
		check_not "$addr is not banned" banned "$addr"
	done
	check "the daemon said why (fe80::1)" daemon_said "not banning fe80::1 (source control): it covers fe80::/10, link-local addresses"
	check_eq "counted" 6 "$(status .faults.refused_never)"
	fail_twice "$PLAIN_ADDR"
	check "an ordinary address is banned all the same" banned "$PLAIN_ADDR"
}

test_default_router_is_never_banned() {
	ip -n "$SRV" route add default via "$ROUTER" dev s1
	ip -n "$SRV" -6 route add default via "$ROUTER6" dev s1
	sleep 1 # the daemon reads the routes again on rtnetlink's word
	fail_twice "$ROUTER"
	check_not "the IPv4 default router is not banned" banned "$ROUTER"
	fail_twice "$ROUTER6"
	check_not "the IPv6 default router is not banned" banned "$ROUTER6"
	check "the daemon said why" daemon_said "a default router of this host (s1)"
	ip -n "$SRV" route del default
	ip -n "$SRV" -6 route del default
}

test_cli_refuses_unless_forced() {
	check_not "xdpban ban 224.0.0.1 is refused" quietly xb ban 224.0.0.1 2>"$WORK/cli.err"
	check_eq "with one line" 1 "$(wc -l <"$WORK/cli.err")"
	check "naming why" grep -q "224.0.0.0/4, multicast addresses" "$WORK/cli.err"
	check_not "nothing was banned" banned 224.0.0.1
	check "--force bans it anyway" quietly xb ban --force 224.0.0.1
	check "it is banned" banned 224.0.0.1
}

e2e_main test_reserved_addresses_are_never_banned test_default_router_is_never_banned \
	test_cli_refuses_unless_forced
