#!/bin/bash
# Upgrading keeps every ban: pins of map ABI 1 (exact bans in the LRU hash
# ban_addr, behind ban_filter) are migrated into the bucket tables when this
# xdpban first loads its program over them, while the old program keeps
# dropping until its links are switched.
#
# The old pins are made with bpftool from the old definitions (as the
# previous version created them: their names, types, sizes and flags), so the
# test runs from a clean checkout. XDPBAN_OLD=PATH makes them with that
# binary instead (an xdpban built from the previous release, attached and
# banning through its own CLI): the same checks then also show the old
# program's links switched to the new one.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_sequence
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/lib/upgrade.sh
. "$E2E_DIR/lib/upgrade.sh"

TIMED=198.51.100.77 # a 1 h ban of the old version
EXPIRED=198.51.100.78
BULK=500 # exact bans besides the named ones

monotonic_ns() {
	perl -MTime::HiRes=clock_gettime,CLOCK_MONOTONIC -e \
		'printf "%d\n", clock_gettime(CLOCK_MONOTONIC) * 1e9'
}

# le_bytes N VALUE: VALUE as N little-endian bytes, bpftool's way.
le_bytes() {
	local n=$1 value=$2 i
	for ((i = 0; i < n; i++)); do
		printf '%d ' $(((value >> (8 * i)) & 255))
	done
}

# v4_key ADDR: an IPv4 address as ABI 1's ban_addr key (IPv4-mapped).
v4_key() {
	local IFS=.
	# shellcheck disable=SC2086 # the four octets
	set -- $1
	printf '0 0 0 0 0 0 0 0 0 0 255 255 %d %d %d %d' "$1" "$2" "$3" "$4"
}

v6_key() {
	perl -MSocket=inet_pton,AF_INET6 -e 'print join(" ", unpack("C16", inet_pton(AF_INET6, $ARGV[0])))' "$1"
}

# ports_bitmap PORT...: ABI 1's 1024 words of port bits, as bytes.
ports_bitmap() {
	perl -e 'my @b = (0) x 8192; $b[$_ >> 3] |= 1 << ($_ & 7) for @ARGV; print join(" ", @b)' "$@"
}

# ban_line KEY EXPIRES_NS ORIGIN: a bpftool batch line adding one ABI 1 exact ban.
ban_line() {
	echo "map update pinned $PIN/ban_addr key $1 value $(le_bytes 8 "$2")$(le_bytes 8 1700000000)$(le_bytes 4 128)$(le_bytes 4 "$3")"
}

# The maps of ABI 1 as its xdpban created them.
old_maps_by_bpftool() {
	local now cfg
	mkdir -p "$PIN"
	bpftool map create "$PIN/allow_cidr" type lpm_trie key 20 value 16 entries 16384 \
		name allow_cidr flags 1
	bpftool map create "$PIN/ban_addr" type lru_hash key 16 value 24 entries 1048576 \
		name ban_addr
	bpftool map create "$PIN/ban_filter" type array key 4 value 8 entries 262144 \
		name ban_filter
	bpftool map create "$PIN/ban_cidr" type lpm_trie key 20 value 24 entries 65536 \
		name ban_cidr flags 1
	bpftool map create "$PIN/geo_prefix" type lpm_trie key 20 value 4 entries 2097152 \
		name geo_prefix flags 1
	bpftool map create "$PIN/geo_blocked" type array key 4 value 4 entries 676 name geo_blocked
	bpftool map create "$PIN/geo_drops" type percpu_array key 4 value 16 entries 676 \
		name geo_drops
	bpftool map create "$PIN/geo_index4" type array key 4 value 4 entries 65536 name geo_index4
	bpftool map create "$PIN/geo_index6" type array key 4 value 4 entries 65536 name geo_index6
	bpftool map create "$PIN/geo_blocks" type array key 4 value 512 entries 32768 \
		name geo_blocks
	bpftool map create "$PIN/verdict_stats" type percpu_array key 4 value 16 entries 6 \
		name verdict_stats
	bpftool map create "$PIN/xdpban_config" type array key 4 value 8208 entries 1 \
		name xdpban_config
	# initialized, scope syn, not all ports, ABI 1, the mail ports.
	# shellcheck disable=SC2086 # the ports, one a word
	cfg="$(le_bytes 4 1)$(le_bytes 4 0)$(le_bytes 4 0)$(le_bytes 4 1)$(ports_bitmap ${DEFAULT_PORTS//,/ })"
	# shellcheck disable=SC2086 # one byte per word
	bpftool map update pinned "$PIN/xdpban_config" key 0 0 0 0 value $cfg
	now=$(monotonic_ns)
	{
		ban_line "$(v4_key "$CLI1_IP")" 0 0
		ban_line "$(v6_key "$CLI1_IP6")" 0 1
		ban_line "$(v4_key "$TIMED")" $((now + 3600000000000)) 1
		ban_line "$(v4_key "$EXPIRED")" $((now - 10000000000)) 1
		for ((i = 0; i < BULK; i++)); do
			ban_line "$(v4_key "10.9.$((i / 256)).$((i % 256))")" 0 2
		done
		# A /24 ban, in the trie both versions share.
		echo "map update pinned $PIN/ban_cidr key $(le_bytes 4 120) 0 0 0 0 0 0 0 0 0 0 255 255 203 0 113 0 value 0 0 0 0 0 0 0 0 $(le_bytes 8 1700000000)$(le_bytes 4 120)$(le_bytes 4 0)"
	} >"$WORK/old.batch"
	bpftool batch file "$WORK/old.batch" >/dev/null
}

old_pins_by_binary() {
	local file=$WORK/old-bans.txt
	old_xb attach s1 >/dev/null
	old_xb attach s2 >/dev/null
	old_xb ban --force "$CLI1_IP" "$CLI1_IP6" 203.0.113.0/24 >/dev/null
	old_xb ban --force --for 1h "$TIMED" >/dev/null
	old_xb ban --force --for 1s "$EXPIRED" >/dev/null
	for ((i = 0; i < BULK; i++)); do
		echo "10.9.$((i / 256)).$((i % 256))"
	done >"$file"
	old_xb ban --force --file "$file" >/dev/null
	sleep 1.5 # the 1 s ban ends
}

# e2e_main attaches this xdpban; the old pins must be there first.
lab_up_old() {
	lab_prepare
	listen "$SRV" 143
	if [ -n "$OLD" ]; then
		old_pins_by_binary
	else
		old_maps_by_bpftool
	fi
}

OLD_PROGS="" # the old program's ids, when XDPBAN_OLD attached it

test_old_pins_are_refused_by_readers_until_upgraded() {
	local out
	out=$(xb list 2>&1 || true)
	check "a reader names the upgrade instead of misreading old pins" \
		grep -q "made by an earlier xdpban" <<<"$out"
	if [ -n "$OLD" ]; then
		check "the old program drops the banned client" times_out "$CLI1" "$SRV_IP1" 143
		OLD_PROGS=$(prog_ids "$OLD")
	fi
}

test_attach_migrates_every_ban() {
	xb attach s1 >/dev/null
	xb attach s2 >/dev/null
	check "the old address map is unpinned" test ! -e "$PIN/ban_addr"
	check "and its filter" test ! -e "$PIN/ban_filter"
	check "the new tables are pinned" test -e "$PIN/ban4" -a -e "$PIN/ban6"
	check_eq "every live exact ban is listed, the expired one is not" $((BULK + 3)) \
		"$(xb --json list | jq '[.bans[] | select(.kind == "address")] | length')"
	check_eq "the CIDR ban stays" "203.0.113.0/24" \
		"$(xb --json list | jq -r '.bans[] | select(.kind == "cidr") | .prefix')"
	check_eq "a permanent ban stays permanent" true \
		"$(xb --json list | jq -r ".bans[] | select(.prefix == \"$CLI1_IP\") | .permanent")"
	check "a timed ban keeps its deadline (about 1 h left)" test "$(xb --json list |
		jq -r ".bans[] | select(.prefix == \"$TIMED\") | .seconds_left")" -gt 3500
	check_not "the expired ban is not carried over" banned "$EXPIRED"
	check "the banned IPv4 client is dropped by the new program" \
		times_out "$CLI1" "$SRV_IP1" 143
	check "the banned IPv6 client too" times_out "$CLI1" "$SRV_IP6_1" 143
	check "an unbanned client connects" connects "$CLI2" "$SRV_IP2" 143
	if [ -n "$OLD" ]; then
		check_eq "no link runs the old program any more" 0 "$(runs_none_of "$OLD_PROGS")"
	fi
}

test_a_second_attach_changes_nothing() {
	local before
	before=$(xb --json list | jq -c '[.bans[].prefix]')
	xb attach s1 >/dev/null
	check_eq "the bans are the same after another attach" "$before" \
		"$(xb --json list | jq -c '[.bans[].prefix]')"
	xb unban "$CLI1_IP" >/dev/null
	check "an upgraded ban can be lifted" connects "$CLI1" "$SRV_IP1" 143
}

e2e_sequence lab_up_old \
	test_old_pins_are_refused_by_readers_until_upgraded \
	test_attach_migrates_every_ban \
	test_a_second_attach_changes_nothing
