# shellcheck shell=bash
# xdpban's state as the CLI shows it, on this run's pins (sourced by
# tests/e2e/lib.sh, never run).

# xb ARGS...: xdpban in the server namespace, on this run's pins and state
# directory.
xb() {
	in_ns "$SRV" "$XDPBAN" --pin-dir "$PIN" ${STATE_DIR:+--state-dir "$STATE_DIR"} "$@"
}

# stat_packets REASON: the verdict counter's packet total.
stat_packets() {
	xb --json stats | jq -r ".$1.packets"
}

ban_list_json() {
	xb --json list
}

ban_count() {
	xb --json list | jq '.bans | length'
}

banned() { # banned ADDR: in the kernel's ban map
	xb --json list | jq -e --arg p "$1" 'any(.bans[]; .prefix == $p)' >/dev/null
}

allowlisted() { # allowlisted PREFIX: in the kernel's allowlist map
	xb --json list | jq -e --arg p "$1" 'any(.allowlist[]; .prefix == $p)' >/dev/null
}

# Returns the maps to a clean state between tests, so one failure does not
# leak into the next test.
reset_state() {
	local prefixes try
	# unban changes nothing when one prefix is not banned, and the daemon's
	# sweep may end an expired ban between list and unban: list again then.
	for try in 1 2 3; do
		prefixes=$(xb --json list | jq -r '.bans[].prefix')
		[ -z "$prefixes" ] && break
		# shellcheck disable=SC2086 # one prefix per word
		if [ "$try" -lt 3 ]; then
			xb unban $prefixes >/dev/null 2>&1 && break
		else
			xb unban $prefixes >/dev/null
		fi
	done
	prefixes=$(xb --json list | jq -r '.allowlist[].prefix')
	# shellcheck disable=SC2086
	[ -z "$prefixes" ] || xb unallow $prefixes >/dev/null
	xb scope syn >/dev/null
	xb ports set "$DEFAULT_PORTS" >/dev/null
}

# check_xdp_drops WHO NS DST SRC: two checks, that a connection from SRC to
# DST's port 143 gets no answer and that drop_ban counted its SYNs.
check_xdp_drops() {
	local drops
	drops=$(stat_packets drop_ban)
	check "$1's next connection to port 143 times out (SYN dropped)" syn_dropped "$2" "$3" "$4"
	check_ge "drop_ban counted $1's SYNs" $(($(stat_packets drop_ban) - drops)) 1
}
