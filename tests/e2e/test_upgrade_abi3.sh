#!/bin/bash
# Upgrading from map ABI 3 keeps every ban and every blocked country. Map
# ABI 4's geo_blocks holds nearly twice as many blocks and its index walks
# IPv6 down to a /40, so the old geo_blocks is set aside when this xdpban
# first loads its program; before the links are switched, every index entry
# that names a block is sent to the trie, so the old program (reading the
# old blocks) and the new one (reading an empty map) both answer right; and
# once they are, the index is rebuilt from the trie into the new map, by
# the command that upgraded or by the daemon's start.
#
# The old pins are made by the real previous version: xdpban at the last
# commit of map ABI 3, built from this clone's history, or XDPBAN_OLD=PATH.
# The countries' ranges are documentation ones, split so that the index
# needs blocks at every level: IPv4 down to a /24 that the trie must finish,
# IPv6 down to the /40 that only map ABI 4's third level resolves.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_sequence
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/lib/upgrade.sh
. "$E2E_DIR/lib/upgrade.sh"

ABI3_COMMIT=f384e95 # the last commit of map ABI 3
BANNED=203.0.113.250 # an exact ban of the old version, in an unblocked country
FR_SLOT=$(((70 - 65) * 26 + 82 - 65))

# FR and DE are blocked, JP is not.
write_countries() {
	mkdir -p "$WORK/geo"
	printf '%s\n' 203.0.113.0/26 2001:db8:100::/40 >"$WORK/geo/FR.zone"
	printf '%s\n' 203.0.113.64/26 2001:db8:2ff::/48 >"$WORK/geo/DE.zone"
	printf '%s\n' 203.0.113.128/25 2001:db8:300::/40 >"$WORK/geo/JP.zone"
}

blocked_sources() {
	printf '%s\n' 203.0.113.5 203.0.113.70 2001:db8:100::1 2001:db8:1ab::7 2001:db8:2ff::1
}

# A JP address, one of no country in a /40 split with DE, one of none at all.
other_sources() {
	printf '%s\n' 203.0.113.200 192.0.2.77 2001:db8:300::1 2001:db8:2fe::1
}

# old_pins: the old version attached, its countries blocked, one ban.
old_pins() {
	old_xb attach s1 >/dev/null
	old_xb attach s2 >/dev/null
	old_xb geo load "$WORK/geo/FR.zone" "$WORK/geo/DE.zone" "$WORK/geo/JP.zone" >/dev/null
	old_xb geo block --force FR DE >/dev/null
	old_xb ban --force "$BANNED" >/dev/null
}

lab_up_old() {
	lab_prepare
	listen "$SRV" 143
	build_old "$ABI3_COMMIT" 3
	write_countries
	daemon_files
	daemon_conf_two_failures
	old_pins
}

e2e_teardown() {
	stop_daemon_and_report
}

BLOCKED_FRAMES=""
OTHER_FRAMES=""
OLD_PROGS=""

# index_entry MAP KEY: the entry of geo_index6 (KEY a bucket) or geo_blocks (KEY a block).
index_entry() {
	local key=$2
	bpftool -j map lookup pinned "$PIN/$1" key $((key & 255)) $((key >> 8 & 255)) 0 0 |
		jq '.formatted.value'
}

# walk6 BYTE...: follows the IPv6 index from the first level down the bytes
# given (the address's third, fourth, fifth...), printing the entry reached.
walk6() {
	local entry byte
	entry=$(index_entry geo_index6 "$1" | jq .country)
	shift
	for byte in "$@"; do
		if [ "$entry" -lt $((0x1000)) ] || [ "$entry" -ge $((0xffff)) ]; then
			break
		fi
		entry=$(index_entry geo_blocks $((entry - 0x1000)) | jq ".entry[$byte]")
	done
	echo "$entry"
}

# geo_verdicts_right BINARY WHOSE: the program BINARY reports drops the
# blocked countries' sources and passes the others.
geo_verdicts_right() {
	local prog
	prog=$(prog_id "$1")
	check_eq "$2 program drops the blocked countries' sources" "5 dropped, 0 passed" \
		"$(verdicts "$prog" "$BLOCKED_FRAMES")"
	check_eq "and passes the others" "0 dropped, 4 passed" "$(verdicts "$prog" "$OTHER_FRAMES")"
}

# fr_slash40: the index entry reached for FR's 2001:db8:100::/40.
fr_slash40() {
	walk6 $((0x2001)) $((0x0d)) $((0xb8)) 1
}

test_the_old_version_blocks_its_countries() {
	BLOCKED_FRAMES=$WORK/blocked
	OTHER_FRAMES=$WORK/other
	blocked_sources | syn_frames "$BLOCKED_FRAMES"
	other_sources | syn_frames "$OTHER_FRAMES"
	geo_verdicts_right "$OLD" "the old"
	check_eq "the old index leaves FR's /40 to the trie" $((0xffff)) \
		"$(fr_slash40)"
	OLD_PROGS=$(prog_ids "$OLD")
	check "a reader names the upgrade instead of misreading old pins" \
		grep -q "made by an earlier xdpban" <<<"$(xb list 2>&1 || true)"
}

# Too few descriptors: the object cannot load after geo_blocks was set aside.
test_a_failed_upgrade_changes_nothing() {
	check_not "an upgrade that cannot load its program fails" \
		in_ns "$SRV" prlimit --nofile=8 "$XDPBAN" --pin-dir "$PIN" attach s1
	check "the old geo_blocks is back in place" \
		test -e "$PIN/geo_blocks" -a ! -e "$PIN/geo_blocks_abi3"
	check_eq "the old program still drops the blocked sources" "5 dropped, 0 passed" \
		"$(verdicts "$(prog_id "$OLD")" "$BLOCKED_FRAMES")"
	check_eq "the old version still lists its ban" 1 \
		"$(old_xb --json list | jq '[.bans[] | select(.kind == "address")] | length')"
}

# A link that cannot be switched (here a map pinned under a link's name)
# stops the upgrade after the config says ABI 4: links may still run the old
# program, so the old geo_blocks stays set aside and the index is not
# rebuilt until every link is switched, by the next command that writes.
test_a_switch_cut_short_is_finished_later() {
	bpftool map create "$PIN/link-ns0-if0" type array key 4 value 4 entries 1 name not_a_link
	check_not "an upgrade that cannot switch every link fails" xb attach s1
	check_not "so does the next command that writes" xb ban --force 203.0.113.251
	check "the old geo_blocks stays set aside" test -e "$PIN/geo_blocks_abi3"
	check "and the index is not rebuilt" test ! -e "$PIN/geo_blocks_abi3_unused"
	check_eq "the IPv6 index sends 2001::/16 to the trie" $((0xffff)) "$(walk6 $((0x2001)))"
	check_eq "the old program still drops the blocked sources" "5 dropped, 0 passed" \
		"$(verdicts "$(echo "$OLD_PROGS" | jq '.[0]')" "$BLOCKED_FRAMES")"
	rm "$PIN/link-ns0-if0"
}

# The pin lock taken after the upgrade (the shim fails the second open of
# the pin directory) stops the command before it rebuilds the index: the
# links run the new program over an index that leaves every split range to
# the trie.
test_verdicts_stay_right_before_the_index_is_rebuilt() {
	cc -shared -fPIC -O2 -o "$WORK/fail_open.so" "$E2E_DIR/lib/fail_open.c" -ldl
	touch "$WORK/fail-flag"
	check_not "an attach stopped after the upgrade fails" in_ns "$SRV" env \
		LD_PRELOAD="$WORK/fail_open.so" XB_FAIL_OPEN="$PIN" XB_FAIL_FLAG="$WORK/fail-flag" \
		XB_FAIL_SKIP=1 "$XDPBAN" --pin-dir "$PIN" attach s1
	check_eq "every link runs the new program" 0 "$(runs_none_of "$OLD_PROGS")"
	check "the old geo_blocks waits for the rebuild" test -e "$PIN/geo_blocks_abi3_unused"
	check_eq "the IPv6 index sends 2001::/16 to the trie" $((0xffff)) "$(walk6 $((0x2001)))"
	geo_verdicts_right "$XDPBAN" "the new"
}

test_attach_rebuilds_the_index() {
	local out
	out=$(xb attach s1 2>&1)
	check "attach says it rebuilt the geo index" grep -q "rebuilt the geo index" <<<"$out"
	check "the old geo_blocks is unpinned" \
		test ! -e "$PIN/geo_blocks_abi3" -a ! -e "$PIN/geo_blocks_abi3_unused"
	check_eq "the new geo_blocks has ABI 4's blocks" 61438 \
		"$(bpftool -j map show pinned "$PIN/geo_blocks" | jq .max_entries)"
	geo_verdicts_right "$XDPBAN" "after the rebuild, the"
	check_eq "the new index resolves FR's /40 on its third level" $((1 + FR_SLOT)) \
		"$(fr_slash40)"
	check_eq "the exact ban stays" "$BANNED" \
		"$(xb --json list | jq -r '.bans[] | select(.kind == "address") | .prefix')"
	check_eq "both countries stay blocked" "DE FR" \
		"$(xb --json geo list | jq -r '[.countries[] | select(.blocked) | .country] | sort | join(" ")')"
	out=$(xb attach s2 2>&1)
	check_not "a second attach has nothing left to rebuild" grep -q "rebuilt" <<<"$out"
}

test_the_old_version_refuses_the_new_pins() {
	check "the previous version names the map ABI instead of misreading the maps" \
		grep -q "map ABI 4" <<<"$(old_xb list 2>&1 || true)"
}

geo_index_rebuilt() {
	[ ! -e "$PIN/geo_blocks_abi3" ] && [ ! -e "$PIN/geo_blocks_abi3_unused" ]
}

# The package restarts the daemon after an upgrade: its start finishes it.
test_the_daemon_start_upgrades_and_rebuilds_the_index() {
	xb detach --all >/dev/null
	rm -rf "$PIN"
	old_pins
	OLD_PROGS=$(prog_ids "$OLD")
	start_daemon
	check "the daemon rebuilds the geo index" wait_until 10 geo_index_rebuilt
	check "and says so" grep -q "rebuilt the geo index" "$DAEMON_ERR"
	check_eq "no link runs the old program any more" 0 "$(runs_none_of "$OLD_PROGS")"
	geo_verdicts_right "$XDPBAN" "the new"
	check_eq "the new index resolves FR's /40" $((1 + FR_SLOT)) \
		"$(fr_slash40)"
}

e2e_sequence lab_up_old \
	test_the_old_version_blocks_its_countries \
	test_a_failed_upgrade_changes_nothing \
	test_a_switch_cut_short_is_finished_later \
	test_verdicts_stay_right_before_the_index_is_rebuilt \
	test_attach_rebuilds_the_index \
	test_the_old_version_refuses_the_new_pins \
	test_the_daemon_start_upgrades_and_rebuilds_the_index
