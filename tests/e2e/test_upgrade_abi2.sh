#!/bin/bash
# Upgrading from map ABI 2 keeps every ban: the bucket tables of the version
# before the spill filters (a spill count alone) are set aside when this
# xdpban first loads its program, copied into tables of its own (with its
# BTF, so bpftool shows what they hold) and their filters filled in, while
# the old program keeps dropping until its links are switched.
#
# The old pins are made by the real previous version: xdpban at the last
# commit of map ABI 2, built from this clone's history (about 10 s), or
# XDPBAN_OLD=PATH, a binary of it. Enough bans are made that many live in
# their second bucket, and every one of them is judged by the program
# itself (bpftool prog run, BPF_PROG_TEST_RUN) before and after.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_sequence
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/e2e/lib/upgrade.sh
. "$E2E_DIR/lib/upgrade.sh"

ABI2_COMMIT=d8566de # the last commit of map ABI 2
TIMED=198.51.100.77 # a 1 h ban of the old version
EXPIRED=198.51.100.78
# At 4,000 bans a family, 9% of IPv4 buckets and 14% of IPv6 ones spill.
BULK=4000

bulk_v4() {
	local i
	for ((i = 0; i < BULK; i++)); do
		echo "10.9.$((i / 256)).$((i % 256))"
	done
}

bulk_v6() {
	local i
	for ((i = 0; i < BULK; i++)); do
		printf '2001:db8:ff::%x\n' "$i"
	done
}

# Every address the old version banned and keeps banned.
banned_addresses() {
	echo "$CLI1_IP"
	echo "$CLI1_IP6"
	echo "$TIMED"
	bulk_v4
	bulk_v6
}

unbanned_addresses() {
	printf '%s\n' "$CLI2_IP" "$CLI2_IP6" "$EXPIRED" 10.9.200.1 2001:db8:fe::1
}

lab_up_old() {
	lab_prepare
	listen "$SRV" 143
	build_old "$ABI2_COMMIT" 2
	old_xb attach s1 >/dev/null
	old_xb attach s2 >/dev/null
	old_xb ban --force "$CLI1_IP" "$CLI1_IP6" 203.0.113.0/24 >/dev/null
	old_xb ban --force --for 1h "$TIMED" >/dev/null
	old_xb ban --force --for 1s "$EXPIRED" >/dev/null
	{
		bulk_v4
		bulk_v6
	} >"$WORK/bulk.txt"
	old_xb ban --force --file "$WORK/bulk.txt" >/dev/null
	sleep 1.5 # the 1 s ban ends
}

# buckets_json MAP LOG2_FIELD: the buckets in use of a pinned table, as bpftool formats them.
buckets_json() {
	local log2 i
	log2=$(bpftool -j map lookup pinned "$PIN/ban_meta" key 0 0 0 0 | jq ".formatted.value.$2")
	for ((i = 0; i < 1 << log2; i++)); do
		echo "map lookup pinned $PIN/$1 key $((i & 255)) $((i >> 8 & 255)) $((i >> 16 & 255)) 0"
	done >"$WORK/lookup.batch"
	bpftool -j batch file "$WORK/lookup.batch" | jq '[.[].output.formatted.value]'
}

# holds FILTER JSON...: the jq FILTER is true of the JSON documents, slurped.
holds() {
	local filter=$1
	shift
	jq -e -s "$filter" <<<"$*" >/dev/null
}

BANNED_FRAMES=""
UNBANNED_FRAMES=""
OLD_PROGS=""

test_old_pins_are_refused_by_readers_until_upgraded() {
	local out
	out=$(xb list 2>&1 || true)
	check "a reader names the upgrade instead of misreading old pins" \
		grep -q "made by an earlier xdpban" <<<"$out"
	BANNED_FRAMES=$WORK/banned
	UNBANNED_FRAMES=$WORK/unbanned
	banned_addresses | syn_frames "$BANNED_FRAMES"
	unbanned_addresses | syn_frames "$UNBANNED_FRAMES"
	check_eq "the old program drops every banned address" \
		"$((2 * BULK + 3)) dropped, 0 passed" "$(verdicts "$(prog_id "$OLD")" "$BANNED_FRAMES")"
	OLD_PROGS=$(prog_ids "$OLD")
}

# With too few descriptors the new object cannot load, after the old tables
# were set aside: they must be put back where the old version reads them.
test_a_failed_upgrade_changes_nothing() {
	check_not "an upgrade that cannot load its program fails" \
		in_ns "$SRV" prlimit --nofile=8 "$XDPBAN" --pin-dir "$PIN" attach s1
	check "the old tables are back in place" test -e "$PIN/ban4" -a ! -e "$PIN/ban4_abi2" \
		-a -e "$PIN/geo_blocks" -a ! -e "$PIN/geo_blocks_abi3"
	check_eq "the old version still lists every ban" $((2 * BULK + 4)) \
		"$(old_xb --json list | jq '[.bans[] | select(.kind == "address")] | length')"
}

test_attach_migrates_every_ban() {
	local v4 v6
	xb attach s1 >/dev/null
	check "the old tables set aside are unpinned" test ! -e "$PIN/ban4_abi2" -a ! -e "$PIN/ban6_abi2" \
		-a ! -e "$PIN/geo_blocks_abi3" -a ! -e "$PIN/geo_blocks_abi3_unused"
	check_eq "no link runs the old program any more" 0 "$(runs_none_of "$OLD_PROGS")"
	check_eq "every live exact ban is listed as live" $((2 * BULK + 3)) \
		"$(xb --json list | jq '[.bans[] | select(.kind == "address" and (.expired | not))] | length')"
	check "a timed ban keeps its deadline (about 1 h left)" test "$(xb --json list |
		jq -r ".bans[] | select(.prefix == \"$TIMED\") | .seconds_left")" -gt 3500
	check_eq "the CIDR ban stays" "203.0.113.0/24" \
		"$(xb --json list | jq -r '.bans[] | select(.kind == "cidr") | .prefix')"
	v4=$(buckets_json ban4 log2_4)
	v6=$(buckets_json ban6 log2_6)
	check "bpftool shows the new buckets' fields" \
		holds 'all(.[][]; has("spill_filter"))' "$v4" "$v6"
	check "entries of both families live in their second bucket" \
		holds 'all(.[]; (map(.spill) | add) > 50)' "$v4" "$v6"
	check "every bucket that spilled has its filter filled in" \
		holds 'all(.[][]; .spill == 0 or .spill_filter != 0)' "$v4" "$v6"
	check_eq "the new program drops every banned address" \
		"$((2 * BULK + 3)) dropped, 0 passed" "$(verdicts "$(prog_id "$XDPBAN")" "$BANNED_FRAMES")"
	check_eq "and passes the others" "0 dropped, 5 passed" \
		"$(verdicts "$(prog_id "$XDPBAN")" "$UNBANNED_FRAMES")"
	check "the banned client is dropped on the wire" times_out "$CLI1" "$SRV_IP1" 143
	check "an unbanned client connects" connects "$CLI2" "$SRV_IP2" 143
}

test_the_old_version_refuses_the_new_pins() {
	local out
	out=$(old_xb list 2>&1 || true)
	check "the previous version names the map ABI instead of misreading the tables" \
		grep -q "map ABI 4" <<<"$out"
	xb unban "$CLI1_IP" >/dev/null
	check "an upgraded ban can be lifted" connects "$CLI1" "$SRV_IP1" 143
}

e2e_sequence lab_up_old \
	test_old_pins_are_refused_by_readers_until_upgraded \
	test_a_failed_upgrade_changes_nothing \
	test_attach_migrates_every_ban \
	test_the_old_version_refuses_the_new_pins
