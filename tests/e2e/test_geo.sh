#!/bin/bash
# Country blocking (`xdpban geo`): loading databases (CIDR zones, RIR delegated
# files, the default tor-geoipdb), block and unblock, the allowlist winning,
# reloads that never let a blocked address through, and failed loads that
# change nothing, judged by real TCP connection attempts from the client
# namespaces. The fixtures are written into the run's temporary directory, and
# the stored database lives in its own --state-dir (lib.sh's xb passes it).
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

FIX=""         # the fixtures, under $WORK
BASE_FILES=()  # the database A: FR.zone (CIDR) and a RIR file for DE
ACCEPT_LOG=""  # one line per connection the port 25 listener accepted

# --- fixtures --------------------------------------------------------------------

# A: client 1's /24 and /48 are FR, one line each; client 2's are DE (RIR).
# B: the same countries for both clients in other shapes: client 1's /24 as
#    RIR counts that are not powers of two (200 FR addresses, then 56 DE ones),
#    its /48 as a FR /49 and a DE /49; more FR and DE prefixes around them.
write_fixtures() {
	FIX=$WORK/fixtures
	mkdir -p "$FIX"
	cat >"$FIX/FR.zone" <<-'EOF'
		192.0.2.0/24
		203.0.113.0/25
		2001:db8:1::/48
	EOF
	cat >"$FIX/delegated-de" <<-'EOF'
		2|test|20240601|3|19830101|20240531|+0000
		test|*|ipv4|*|2|summary
		test|*|ipv6|*|1|summary
		test|DE|ipv4|198.51.100.0|256|20100101|allocated
		test|DE|ipv4|203.0.113.128|128|20100101|allocated
		test|DE|ipv6|2001:db8:2::|48|20100101|allocated
	EOF
	cat >"$FIX/delegated-b" <<-'EOF'
		2|test|20240602|8|19830101|20240601|+0000
		test|*|ipv4|*|5|summary
		test|*|ipv6|*|3|summary
		test|FR|ipv4|192.0.2.0|200|20110101|allocated
		test|DE|ipv4|192.0.2.200|56|20110101|allocated
		test|DE|ipv4|198.51.100.0|256|20100101|allocated
		test|FR|ipv4|203.0.113.0|64|20110101|assigned
		test|DE|ipv4|203.0.113.64|192|20110101|assigned
		test|FR|ipv6|2001:db8:1::|49|20110101|allocated
		test|DE|ipv6|2001:db8:1:8000::|49|20110101|allocated
		test|DE|ipv6|2001:db8:2::|48|20100101|allocated
	EOF
	# A CIDR list for --format cidr --country, and the same with one bad line.
	printf '%s\n' 192.0.2.0/24 2001:db8:1::/48 >"$FIX/fr-list.txt"
	printf '%s\n' 192.0.2.0/24 2001:db8:1::/48 203.0.113.300/24 198.51.100.0/25 \
		>"$FIX/fr-bad.txt"
	BASE_FILES=("$FIX/FR.zone" "$FIX/delegated-de")
}

e2e_setup() {
	write_fixtures
	ACCEPT_LOG=$WORK/accepted-25
	: >"$ACCEPT_LOG"
	# Port 25 is the target of the SYN streams: every connection that gets
	# through leaves a line, whatever the client does afterwards.
	listen "$SRV" 25 "echo accepted >>$ACCEPT_LOG; echo hi"
}

# --- helpers ---------------------------------------------------------------------

# Every test starts from database A with no country blocked.
geo_reset() {
	local blocked
	xb geo load "${BASE_FILES[@]}" >/dev/null
	blocked=$(xb --json geo list --all | jq -r '.countries[] | select(.blocked) | .country')
	# shellcheck disable=SC2086 # one code per word
	[ -z "$blocked" ] || xb geo unblock $blocked >/dev/null
}

# geo_field CC FIELD: a field of the country's row in geo list --all --json.
geo_field() {
	xb --json geo list --all | jq -r --arg cc "$1" \
		".countries[] | select(.country == \$cc) | .$2"
}

# lookup ADDR FIELD...: "FIELD FIELD ..." of geo lookup --json.
lookup() {
	local addr=$1 filter
	shift
	filter=$(printf '.%s,' "$@")
	xb --json geo lookup "$addr" | jq -r "[${filter%,}] | map(tostring) | join(\" \")"
}

blocked_countries() {
	xb --json geo list | jq -r '[.countries[] | select(.blocked) | .country] | sort | join(" ")'
}

accepted_on_25() {
	wc -l <"$ACCEPT_LOG"
}

# syn_stream NS HOST PORT STOPFILE OUTFILE: in the background until STOPFILE
# exists, about one non-blocking connect a millisecond, each socket given
# 30 ms for the handshake and then closed (before any retransmission, so one
# SYN per attempt). Writes "ATTEMPTS CONNECTED" to OUTFILE at the end.
# Perl is essential in Debian (perl-base); Socket is part of it.
syn_stream() {
	local ns=$1 host=$2 port=$3 stop=$4 out=$5
	# shellcheck disable=SC2016 # Perl code, expanded by Perl
	in_ns "$ns" perl -e '
		use strict;
		use Socket qw(:addrinfo SOCK_STREAM SOCK_NONBLOCK);
		my ($host, $port, $stop) = @ARGV;
		my ($err, $ai) = getaddrinfo($host, $port,
			{ socktype => SOCK_STREAM, flags => AI_NUMERICHOST });
		die "getaddrinfo $host: $err\n" if $err;
		my ($attempts, $connected, @open) = (0, 0);
		my $finish = sub {
			my $s = shift;
			$connected++ if getpeername($s);
			close($s);
		};
		until (-e $stop) {
			socket(my $s, $ai->{family}, SOCK_STREAM | SOCK_NONBLOCK, 0)
				or die "socket: $!\n";
			connect($s, $ai->{addr}) or $!{EINPROGRESS} or die "connect: $!\n";
			$attempts++;
			push @open, $s;
			$finish->(shift @open) while @open > 30;
			select(undef, undef, undef, 0.001);
		}
		$finish->($_) for @open;
		print "$attempts $connected\n";
	' "$host" "$port" "$stop" >"$out" </dev/null &
	BG_PIDS+=("$!")
}

# connect_loop NS HOST PORT STOPFILE OUTFILE: real connections one after the
# other until STOPFILE exists; writes "SUCCEEDED FAILED" to OUTFILE.
connect_loop() {
	local ns=$1 host=$2 port=$3 stop=$4 out=$5
	(
		ok=0 failed=0
		until [ -e "$stop" ]; do
			if connects "$ns" "$host" "$port" 1; then
				ok=$((ok + 1))
			else
				failed=$((failed + 1))
			fi
		done
		echo "$ok $failed" >"$out"
	) </dev/null &
	BG_PIDS+=("$!")
}

# refused CMD...: succeeds when CMD fails; keeps its stdout and stderr in
# $WORK/stdout and $WORK/stderr for the checks that follow.
refused() {
	local status=0
	"$@" >"$WORK/stdout" 2>"$WORK/stderr" || status=$?
	[ "$status" -ne 0 ]
}

stderr_has() {
	grep -qF -- "$1" "$WORK/stderr"
}

# valid_codes_listed CC...: each CC is a word of the list after the error.
valid_codes_listed() {
	local cc listed
	listed=$(sed -n '/valid country codes/,$p' "$WORK/stderr")
	for cc in "$@"; do
		grep -qw -- "$cc" <<<"$listed" || return 1
	done
}

stderr_lines() {
	wc -l <"$WORK/stderr"
}

# --- the tests ---------------------------------------------------------------------

test_geo_load_and_lookup() {
	local out
	geo_reset
	out=$(xb --json geo load "${BASE_FILES[@]}")
	check_eq "geo load of a CIDR zone and a RIR file counts their prefixes" "6 4 2" \
		"$(jq -r '"\(.prefixes) \(.ipv4_prefixes) \(.ipv6_prefixes)"' <<<"$out")"
	check_eq "geo list --all --json shows FR and DE with their prefix counts" \
		"true 6 DE:3:false FR:3:false" \
		"$(xb --json geo list --all | jq -r '"\(.database_loaded) \(.prefixes) " +
			([.countries[] | "\(.country):\(.prefixes):\(.blocked)"] | sort | join(" "))')"
	check_eq "geo lookup of client 1 says FR, its /24, verdict pass" \
		"$CLI1_IP FR 192.0.2.0/24 pass" "$(lookup "$CLI1_IP" address country prefix verdict)"
	check_eq "geo lookup of client 1's IPv6 address says FR, its /48" \
		"FR 2001:db8:1::/48 pass" "$(lookup "$CLI1_IP6" country prefix verdict)"
	check_eq "geo lookup of client 2 says DE" "DE 198.51.100.0/24 pass" \
		"$(lookup "$CLI2_IP" country prefix verdict)"
	check_eq "geo lookup of an address in no country says null" "null null pass" \
		"$(lookup 198.18.0.1 country prefix verdict)"
	check "client 1 connects while no country is blocked" connects "$CLI1" "$SRV_IP1" 143
}

test_geo_block_drops() {
	local drops_before syns_before drops syns
	geo_reset
	xb geo block --force FR >/dev/null
	check_eq "geo list --json shows FR blocked" "FR" "$(blocked_countries)"
	drops_before=$(stat_packets drop_geo)
	syns_before=$(syns_sent "$CLI1")
	check "a blocked country's client times out (IPv4)" times_out "$CLI1" "$SRV_IP1" 143
	check "and over IPv6" times_out "$CLI1" "$SRV_IP6_1" 143
	check "a client of an unblocked country connects (IPv4)" connects "$CLI2" "$SRV_IP2" 143
	check "and over IPv6" connects "$CLI2" "$SRV_IP6_2" 143
	drops=$(($(stat_packets drop_geo) - drops_before))
	syns=$(($(syns_sent "$CLI1") - syns_before))
	diag "client 1 sent $syns SYNs, drop_geo counted $drops packets"
	check_ge "stats drop_geo counts every SYN client 1 sent" "$drops" "$syns"
	check_ge "at least the two attempts" "$drops" 2
	check_eq "geo lookup of client 1 says FR, verdict drop_geo" "FR drop_geo" \
		"$(lookup "$CLI1_IP" country verdict)"
	check_eq "geo lookup of client 2 still says pass" "DE pass" \
		"$(lookup "$CLI2_IP" country verdict)"
	check_ge "geo list --json counts FR's dropped packets" "$(geo_field FR drop_packets)" 2
	check_ge "and their bytes" "$(geo_field FR drop_bytes)" 100
}

test_geo_allowlist_wins() {
	geo_reset
	xb geo block --force FR >/dev/null
	check "client 1 is dropped by the FR block" times_out "$CLI1" "$SRV_IP1" 143
	xb allow "$CLI1_IP" >/dev/null
	check "an allowlisted address of a blocked country connects" connects "$CLI1" "$SRV_IP1" 143
	check_eq "geo lookup says pass_allowlist" "FR pass_allowlist" \
		"$(lookup "$CLI1_IP" country verdict)"
	check_eq "FR stays blocked" "FR" "$(blocked_countries)"
	xb unallow "$CLI1_IP" >/dev/null
	check "after unallow the block applies again" times_out "$CLI1" "$SRV_IP1" 143
}

test_geo_unblock() {
	geo_reset
	xb geo block --force FR >/dev/null
	check "client 1 is dropped while FR is blocked" times_out "$CLI1" "$SRV_IP1" 143 0.5
	xb geo unblock FR >/dev/null
	check "geo unblock FR lets client 1 connect (IPv4)" connects "$CLI1" "$SRV_IP1" 143
	check "and over IPv6" connects "$CLI1" "$SRV_IP6_1" 143
	check_eq "geo list shows no country blocked" "" "$(blocked_countries)"

	xb geo block --force FR DE >/dev/null
	check_eq "geo block FR DE blocks both" "DE FR" "$(blocked_countries)"
	check "client 2 is dropped while DE is blocked" times_out "$CLI2" "$SRV_IP2" 143 0.5
	xb geo unblock DE >/dev/null
	check_eq "geo unblock DE leaves FR blocked" "FR" "$(blocked_countries)"
	check "client 1 is still dropped (IPv4)" times_out "$CLI1" "$SRV_IP1" 143 0.5
	check "and over IPv6" times_out "$CLI1" "$SRV_IP6_1" 143 0.5
	check "client 2 connects again" connects "$CLI2" "$SRV_IP2" 143
	check_eq "geo lookup: client 1 drop_geo, client 2 pass" "drop_geo pass" \
		"$(lookup "$CLI1_IP" verdict) $(lookup "$CLI2_IP" verdict)"
}

# THE ATOMIC RELOAD PROOF: databases A and B give client 1 to FR in different
# shapes; while they replace each other again and again, client 1 streams
# SYNs (IPv4 and IPv6) and not one of them may get through.
test_geo_reload_is_atomic() {
	local stop=$WORK/stop-streams drops_before syns_before accepted_before started elapsed
	local reloads=0 load_failures=0 attempts4 connected4 attempts6 connected6 ok2 failed2
	local drops syns out
	geo_reset
	xb geo block --force FR >/dev/null
	out=$(xb --json geo load "$FIX/delegated-b")
	check_eq "database B also gives client 1 to FR, in other prefixes" \
		"FR 192.0.2.0/25 FR 2001:db8:1::/49" \
		"$(lookup "$CLI1_IP" country prefix) $(lookup "$CLI1_IP6" country prefix)"
	diag "A -> B: $(jq -c '{kernel_written, kernel_deleted, kernel_unchanged}' <<<"$out")"
	out=$(xb --json geo load "${BASE_FILES[@]}")
	diag "B -> A: $(jq -c '{kernel_written, kernel_deleted, kernel_unchanged}' <<<"$out")"
	check "each reload rewrites FR's entries in the kernel" \
		quietly jq -e '.kernel_written > 0 and .kernel_deleted > 0' <<<"$out"
	check "client 1 is dropped before the reloads" times_out "$CLI1" "$SRV_IP1" 25 0.5

	rm -f "$stop"
	drops_before=$(stat_packets drop_geo)
	syns_before=$(syns_sent "$CLI1")
	accepted_before=$(accepted_on_25)
	syn_stream "$CLI1" "$SRV_IP1" 25 "$stop" "$WORK/stream4"
	syn_stream "$CLI1" "$SRV_IP6_1" 25 "$stop" "$WORK/stream6"
	connect_loop "$CLI2" "$SRV_IP2" 143 "$stop" "$WORK/client2"
	sleep 0.2 # the streams run before the first reload

	# B, A, B, A, ...: at least 30 reloads and at least 3 s.
	started=$(now_ms)
	while [ "$reloads" -lt 30 ] || [ $(($(now_ms) - started)) -lt 3000 ]; do
		if [ $((reloads % 2)) -eq 0 ]; then
			xb geo load "$FIX/delegated-b" >/dev/null || load_failures=$((load_failures + 1))
		else
			xb geo load "${BASE_FILES[@]}" >/dev/null || load_failures=$((load_failures + 1))
		fi
		reloads=$((reloads + 1))
	done
	elapsed=$(($(now_ms) - started))
	sleep 0.2
	touch "$stop"
	wait_until 10 test -s "$WORK/stream4" -a -s "$WORK/stream6" -a -s "$WORK/client2" || true
	sleep 0.1 # the last closed sockets' counters

	read -r attempts4 connected4 <"$WORK/stream4" || attempts4=0 connected4=missing
	read -r attempts6 connected6 <"$WORK/stream6" || attempts6=0 connected6=missing
	read -r ok2 failed2 <"$WORK/client2" || ok2=0 failed2=missing
	drops=$(($(stat_packets drop_geo) - drops_before))
	syns=$(($(syns_sent "$CLI1") - syns_before))
	diag "$reloads reloads (A/B alternating) in $elapsed ms, $load_failures failed" \
		"client 1 stream: IPv4 $attempts4 attempts, $connected4 connected;" \
		"                 IPv6 $attempts6 attempts, $connected6 connected" \
		"client 1's kernel sent $syns SYNs; drop_geo counted $drops packets" \
		"client 2 (DE, unblocked): $ok2 connections, $failed2 failed"
	check_eq "every reload succeeded" "$reloads 0" "$reloads $load_failures"
	check_ge "at least 30 reloads" "$reloads" 30
	check_ge "client 1 made many IPv4 attempts during the reloads" "$attempts4" 500
	check_ge "and many IPv6 attempts" "$attempts6" 500
	check_eq "ZERO of client 1's connections succeeded during the reloads" "0 0" \
		"$connected4 $connected6"
	check_eq "the server accepted ZERO connections on the streams' port" 0 \
		"$(($(accepted_on_25) - accepted_before))"
	check_ge "drop_geo increased by at least the attempts" "$drops" \
		$((attempts4 + attempts6))
	check_ge "drop_geo increased by at least the SYNs client 1's kernel sent" "$drops" "$syns"
	check_ge "client 2 (DE, unblocked) kept connecting during the reloads" "$ok2" 10
	check_eq "and none of its connections failed" 0 "$failed2"
	check_eq "FR is still blocked after the reloads" "FR" "$(blocked_countries)"
	check "client 1 is still dropped" times_out "$CLI1" "$SRV_IP1" 143 0.5
}

# The stored database, the blocks and the kernel's geo entries (not the drop
# counters, which the connection attempts move).
geo_snapshot() {
	xb --json geo list --all | jq -c 'del(.countries[].drop_packets, .countries[].drop_bytes)'
	sha256sum "$STATE_DIR"/*
	bpftool -j map dump pinned "$PIN/geo_prefix" | jq -c 'sort_by(.key)'
}

test_geo_failed_load_changes_nothing() {
	local before
	geo_reset
	xb geo block --force FR >/dev/null
	before=$(geo_snapshot)

	check "a database with one bad line is refused (non-zero exit)" \
		refused xb geo load --format cidr --country FR "$FIX/fr-bad.txt"
	diag "$(cat "$WORK/stderr")"
	check_eq "with one line on stderr" 1 "$(stderr_lines)"
	check "naming the file and line" stderr_has "$FIX/fr-bad.txt:3"
	check "and the bad value" stderr_has 203.0.113.300
	check_eq "the previous database and blocks are unchanged" "$before" "$(geo_snapshot)"
	check_eq "geo lookup still gives client 1's /24 from database A" "FR 192.0.2.0/24 drop_geo" \
		"$(lookup "$CLI1_IP" country prefix verdict)"
	check "client 1 is still dropped" times_out "$CLI1" "$SRV_IP1" 143 0.5

	check "geo load --country QQ is refused (non-zero exit)" \
		refused xb geo load --format cidr --country QQ "$FIX/fr-list.txt"
	diag "$(head -n 1 "$WORK/stderr")"
	check "the error names QQ" stderr_has QQ
	check "the valid codes are printed after it" stderr_has "valid country codes"
	check "FR, DE and US among them" valid_codes_listed FR DE US
	check_eq "the database and blocks are unchanged" "$before" "$(geo_snapshot)"
	check "client 1 is still dropped" times_out "$CLI1" "$SRV_IP1" 143 0.5
}

test_geo_block_refusals() {
	local before
	geo_reset
	before=$(geo_snapshot)
	check "geo block QQ is refused (non-zero exit)" refused xb geo block QQ
	diag "$(head -n 1 "$WORK/stderr")"
	check "the error names QQ" stderr_has QQ
	check "geo block FR QQ is refused" refused xb geo block FR QQ
	check_eq "and blocks nothing" "$before" "$(geo_snapshot)"
	check "geo block ZZ (a database's unknown country) is refused" refused xb geo block ZZ
	check "the error names ZZ and what it is" stderr_has "'ZZ' is a database's \"unknown country\""

	check "geo block FR with no database loaded (fresh state dir) is refused" \
		refused xb --state-dir "$WORK/fresh-state" geo block FR
	diag "$(cat "$WORK/stderr")"
	check "the error says to run geo load" stderr_has "geo load"
	check_eq "nothing is blocked" "" "$(blocked_countries)"
	check "client 1 connects" connects "$CLI1" "$SRV_IP1" 143
	check_eq "geo list in the fresh state dir says no database is loaded" "false 0" \
		"$(xb --state-dir "$WORK/fresh-state" --json geo list |
			jq -r '"\(.database_loaded) \(.prefixes)"')"
}

# The default database: Debian's tor-geoipdb. Timings are printed, not judged
# (except for a loose bound that only a hang would break).
test_geo_default_database() {
	local out started block_ms unblock_ms parse_ms install_ms
	if [ ! -e /usr/share/tor/geoip ] && [ ! -e /var/lib/xdpban/tor-geoipdb/geoip ]; then
		diag "SKIP: no tor-geoipdb (neither /usr/share/tor/geoip nor" \
			"/var/lib/xdpban/tor-geoipdb/geoip; scripts/install-deps.sh unpacks it)"
		return 0
	fi
	geo_reset
	started=$(now_ms)
	if ! out=$(xb --json geo load); then
		fail "geo load with no file loads the default database"
		return 0
	fi
	pass "geo load with no file loads the default database"
	diag "geo load (tor-geoipdb): $(jq -c . <<<"$out")" \
		"took $(($(now_ms) - started)) ms in all"
	parse_ms=$(jq -r '.parse_ms | floor' <<<"$out")
	install_ms=$(jq -r '.install_ms | floor' <<<"$out")
	diag "parse_ms=$parse_ms install_ms=$install_ms"
	check_ge "it has more than 1,000,000 prefixes" "$(jq -r .prefixes <<<"$out")" 1000001
	check_ge "IPv4 prefixes" "$(jq -r .ipv4_prefixes <<<"$out")" 100000
	check_ge "IPv6 prefixes" "$(jq -r .ipv6_prefixes <<<"$out")" 10000

	started=$(now_ms)
	xb geo block --force CN RU US DE FR >/dev/null
	block_ms=$(($(now_ms) - started))
	diag "geo block CN RU US DE FR: $block_ms ms;" \
		"their prefixes: $(xb --json geo list |
			jq -r '[.countries[] | select(.blocked) | "\(.country) \(.prefixes)"] | join(", ")')"
	check_eq "the five countries are blocked" "CN DE FR RU US" "$(blocked_countries)"
	check_eq "documentation addresses are in no country" "null pass" \
		"$(lookup "$CLI1_IP" country verdict)"
	check "client 1 connects" connects "$CLI1" "$SRV_IP1" 143
	started=$(now_ms)
	xb geo unblock CN RU US DE FR >/dev/null
	unblock_ms=$(($(now_ms) - started))
	diag "geo unblock CN RU US DE FR: $unblock_ms ms"
	check_eq "geo unblock of the five leaves none blocked" "" "$(blocked_countries)"
}

e2e_main test_geo_load_and_lookup test_geo_block_drops test_geo_allowlist_wins \
	test_geo_unblock test_geo_reload_is_atomic test_geo_failed_load_changes_nothing \
	test_geo_block_refusals test_geo_default_database
