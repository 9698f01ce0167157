#!/bin/bash
# attach, status, detach, and the in-place upgrade that must keep every ban.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

attached_interfaces() {
	xb --json status | jq -r '[.interfaces[].interface] | sort | join(",")'
}

# link_field IFACE FIELD: a field of the interface's row in `status --json`.
link_field() {
	xb --json status | jq -r --arg i "$1" ".interfaces[] | select(.interface == \$i) | .$2"
}

# The kernel's own view, independent of xdpban's pins.
kernel_has_xdp() {
	ip -n "$SRV" link show "$1" | grep -q 'xdp'
}

# Nothing that manages this run's pins is running: whatever drops now is the
# kernel program alone.
no_xdpban_running() {
	! pgrep -f -- "--pin-dir $PIN" >/dev/null
}

# Bans compared across an upgrade; seconds_left ticks on, so it is left out.
bans_snapshot() {
	xb --json list | jq -S -c 'del(.bans[].seconds_left)'
}

test_status_shows_interfaces() {
	check_eq "status --json shows the maps loaded" true "$(xb --json status | jq -r .loaded)"
	check_eq "status --json lists both attached interfaces" "s1,s2" "$(attached_interfaces)"
	check_eq "status --json shows the default scope" syn "$(xb --json status | jq -r .scope)"
	check_eq "status --json shows the default ports" "$DEFAULT_PORTS" \
		"$(xb --json status | jq -r .ports)"
	check "veth s1 runs the program in native mode" [ "$(link_field s1 mode)" = native ]
	check "clients connect through the attached program" connects "$CLI1" "$SRV_IP1" 143
}

test_stays_attached_after_cli_exits() {
	xb ban "$CLI1_IP" >/dev/null
	check "no xdpban process runs for this pin directory" no_xdpban_running
	check "the kernel still shows XDP on s1 after the CLI exited" kernel_has_xdp s1
	check "the banned client is dropped with no CLI running" times_out "$CLI1" "$SRV_IP1" 143
	check "the other client still connects" connects "$CLI2" "$SRV_IP2" 143
}

test_upgrade_keeps_bans() {
	local before after prog_before link_before out
	xb ban --force "$CLI1_IP" 203.0.113.0/24 2001:db8:1::/64 >/dev/null
	xb ban --for 1h 203.0.113.9 2001:db8:2::99 >/dev/null
	before=$(bans_snapshot)
	prog_before=$(link_field s1 prog_id)
	link_before=$(link_field s1 link_id)

	out=$(xb attach s1)
	check_eq "re-attach reports an in-place replacement" "replaced the program on s1" "$out"
	after=$(bans_snapshot)
	check_eq "every ban survives the upgrade (list before = after)" "$before" "$after"
	check_eq "the upgrade keeps 5 bans" 5 "$(ban_count)"
	check "the upgrade loaded a new program" [ "$(link_field s1 prog_id)" != "$prog_before" ]
	check_eq "the upgrade kept the pinned link" "$link_before" "$(link_field s1 link_id)"
	check "the banned client is still dropped after the upgrade" \
		times_out "$CLI1" "$SRV_IP1" 143
	check "the other client still connects after the upgrade" connects "$CLI2" "$SRV_IP2" 143
}

test_detach_keeps_bans() {
	xb ban "$CLI1_IP" >/dev/null
	xb detach s1
	check_eq "after detach s1 only s2 is listed" s2 "$(attached_interfaces)"
	check_not "the kernel shows no XDP on s1 after detach" kernel_has_xdp s1
	check "without the program the banned client connects" connects "$CLI1" "$SRV_IP1" 143
	check_eq "the ban stays in the pinned maps" 1 "$(ban_count)"
	xb attach s1 >/dev/null
	check "after re-attach the ban applies again" times_out "$CLI1" "$SRV_IP1" 143
}

test_generic_mode() {
	xb detach s2
	xb attach s2 --mode generic >/dev/null
	check_eq "attach --mode generic is shown as generic" generic "$(link_field s2 mode)"
	check "generic mode passes an unbanned client" connects "$CLI2" "$SRV_IP2" 143
	xb ban "$CLI2_IP" >/dev/null
	check "generic mode drops a banned client" times_out "$CLI2" "$SRV_IP2" 143
}

# An interface that disappears leaves a stale link pin; status and
# detach --all must cope with it.
test_interface_removed() {
	ip -n "$SRV" link add s3 type veth peer name c3
	ip -n "$SRV" link set s3 up
	xb attach s3 >/dev/null
	check_eq "a third interface is attached" "s1,s2,s3" "$(attached_interfaces)"
	ip -n "$SRV" link del s3
	check_eq "status lists only live interfaces after s3 is deleted" "s1,s2" \
		"$(xb --json status | jq -r '[.interfaces[] | select(.mode != "detached") | .interface] | sort | join(",")')"
	check "detach --all succeeds with a stale link pin" xb detach --all
	check_eq "no link pin is left" "" "$(find "$PIN" -name 'link-*')"
	check_eq "status lists no interface" "" "$(attached_interfaces)"
	xb attach s1 >/dev/null
	xb attach s2 >/dev/null
}

# Maps made by `ban` before any attach are the ones the program then uses.
test_ban_before_attach() {
	xb detach --all
	rm -rf "$PIN"
	check "ban works on a fresh pin directory" quietly xb ban "$CLI1_IP"
	check_eq "status: loaded, nothing attached" "true " \
		"$(xb --json status | jq -r '"\(.loaded) \([.interfaces[].interface] | join(","))"')"
	xb attach s1 >/dev/null
	check "the program attached afterwards enforces that ban" times_out "$CLI1" "$SRV_IP1" 143
	xb attach s2 >/dev/null
}

# xdpban_in NS ARGS...: this run's xdpban, from another network namespace.
xdpban_in() {
	local ns=$1
	shift
	in_ns "$ns" "$XDPBAN" --pin-dir "$PIN" "$@"
}

# bpffs is shared by every network namespace, interface indexes are not: the
# server's s1 and client 1's c1 both have ifindex 2. Link pins carry the
# namespace, so xdpban in client 1's namespace must not mistake s1 for c1.
test_other_namespace_is_not_confused() {
	local prog_before
	check_eq "status in another namespace does not claim its c1 is attached" "" \
		"$(xdpban_in "$CLI1" --json status | jq -r '.interfaces[] | select(.interface == "c1") | .interface')"
	prog_before=$(link_field s1 prog_id)
	xdpban_in "$CLI1" attach c1 >/dev/null || true
	check_eq "attach c1 in another namespace leaves the server's s1 alone" "$prog_before" \
		"$(link_field s1 prog_id)"
	xdpban_in "$CLI1" detach --all >/dev/null 2>&1 || true
	check_eq "detach --all in another namespace leaves the server's links" "s1,s2" \
		"$(attached_interfaces)"
	# Back to both interfaces attached, whatever the above did.
	xb detach --all >/dev/null 2>&1 || true
	xb attach s1 >/dev/null
	xb attach s2 >/dev/null
}

# `ip netns exec` gives its command a private /sys without the host's bpffs:
# pins made there would vanish when the command exits. Every command that
# uses the pins refuses there in one line naming what to run instead, and
# nothing is attached, banned or detached; `unshare -m` without bpffs is
# refused too. nsenter --net (what the line says) attaches for real.
test_ip_netns_exec_refused() {
	local cmd out says
	says="xdpban: cannot use $PIN: 'ip netns exec $SRV' gives this command a /sys of its own"
	says+=" without the host's bpffs, and pins made there vanish when it exits;"
	says+=" run 'nsenter --net=/run/netns/$SRV xdpban ...' instead"
	xb detach s1 >/dev/null
	for cmd in "attach s1" "detach s2" "detach --all" "ban $CLI1_IP" "status" "list"; do
		# shellcheck disable=SC2086 # the command's words
		if out=$(ip netns exec "$SRV" "$XDPBAN" --pin-dir "$PIN" $cmd 2>&1); then
			fail "ip netns exec xdpban $cmd refuses" "exited 0: $out"
		else
			check_eq "ip netns exec xdpban $cmd: one line naming nsenter" "$says" "$out"
		fi
	done
	: >"$WORK/empty.conf"
	out=$(timeout 10 ip netns exec "$SRV" "$XDPBAN" --pin-dir "$PIN" --state-dir "$STATE_DIR" \
		run -c "$WORK/empty.conf" 2>&1) || true
	check_eq "ip netns exec xdpban run: the daemon refuses to start, in one line" \
		"xdpban[error]: ${says#xdpban: }" "$out"
	check_not "s1 has no program after the refused attach" kernel_has_xdp s1
	check "s2 keeps its program after the refused detach" kernel_has_xdp s2
	check_not "the refused ban is not in the map" banned "$CLI1_IP"
	out=$(in_ns "$SRV" unshare -m --propagation private sh -c \
		"umount /sys/fs/bpf && exec '$XDPBAN' --pin-dir '$PIN' attach s1" 2>&1) || true
	check_eq "unshare -m without bpffs: attach refuses in one line" 1 \
		"$(grep -c "no bpffs is mounted at /sys/fs/bpf in this mount namespace" <<<"$out")"
	check_not "s1 has no program after the refused unshare -m attach" kernel_has_xdp s1
	xb attach s1 >/dev/null
	check "nsenter --net attaches s1 for good" kernel_has_xdp s1
}

e2e_main test_status_shows_interfaces test_stays_attached_after_cli_exits \
	test_upgrade_keeps_bans test_detach_keeps_bans test_generic_mode test_interface_removed \
	test_ban_before_attach test_other_namespace_is_not_confused test_ip_netns_exec_refused
