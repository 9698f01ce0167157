#!/bin/bash
# Bad input and missing privileges: each is refused with a non-zero exit and a
# one-line error naming the bad value, and nothing is half-applied: the ban
# and allow lists, scope, ports and interfaces are exactly as before.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

state_snapshot() {
	ban_list_json
	xb --json status
}

# check_rejected NAME EXPECTED_TEXT CMD...
check_rejected() {
	local name=$1 expected=$2 before after status=0 problems=()
	shift 2
	before=$(state_snapshot)
	"$@" >"$WORK/stdout" 2>"$WORK/stderr" || status=$?
	after=$(state_snapshot)

	[ "$status" -ne 0 ] || problems+=("exit status was 0")
	[ "$(wc -l <"$WORK/stderr")" -eq 1 ] || problems+=("stderr is not one line")
	grep -qF -- "$expected" "$WORK/stderr" || problems+=("stderr does not name '$expected'")
	[ "$before" = "$after" ] || problems+=("state changed: $before -> $after")
	if [ "${#problems[@]}" -eq 0 ]; then
		pass "$name"
		diag "$(cat "$WORK/stderr")"
	else
		fail "$name" "command: $*" "${problems[@]}" "stderr: $(cat "$WORK/stderr")"
	fi
}

# Some state that a half-applied command could disturb.
seed_state() {
	xb ban --force 203.0.113.7 2001:db8:1::/64 >/dev/null
	xb allow 198.51.100.7 >/dev/null
}

test_bad_addresses() {
	seed_state
	check_rejected "ban 192.0.2.300 is refused" 192.0.2.300 xb ban 192.0.2.300
	check_rejected "ban 192.0.2.0/33 is refused" 33 xb ban 192.0.2.0/33
	check_rejected "ban 192.0.2.1/24 (host bits) is refused" 192.0.2.1/24 xb ban 192.0.2.1/24
	check_rejected "ban 2001:db8::1/129 is refused" 129 xb ban 2001:db8::1/129
	check_rejected "ban ::/0 (would cover all IPv4) is refused" ::/0 xb ban ::/0
	check_rejected "a bad address after good ones bans none of them" 192.0.2.999 \
		xb ban 192.0.2.10 192.0.2.11 192.0.2.999
	check_rejected "allow 198.51.100.256 is refused" 198.51.100.256 xb allow 198.51.100.256
}

test_bad_duration() {
	seed_state
	check_rejected "ban --for 5x is refused" 5x xb ban --for 5x 192.0.2.1
	check_rejected "ban --for 0 is refused" "'0'" xb ban --for 0 192.0.2.1
}

test_bad_interface() {
	seed_state
	check_rejected "attach nosuchif0 is refused" nosuchif0 xb attach nosuchif0
	check_rejected "detach nosuchif0 is refused" nosuchif0 xb detach nosuchif0
}

test_bad_settings() {
	seed_state
	check_rejected "ports set 70000 is refused" 70000 xb ports set 70000
	check_rejected "ports set 25,x is refused" x xb ports set 25,x
	check_rejected "scope bogus is refused" bogus xb scope bogus
	check_rejected "attach --mode bogus is refused" bogus xb attach s1 --mode bogus
}

test_unban_unknown() {
	seed_state
	check_rejected "unban of a banned and an unbanned address unbans neither" 203.0.113.8 \
		xb unban 203.0.113.7 203.0.113.8
}

test_ban_file_with_one_bad_line() {
	local file=$WORK/bans.txt
	seed_state
	cat >"$file" <<-EOF
		# good lines around one bad one
		192.0.2.10
		192.0.2.11 5m
		198.51.100.0/25 permanent
		192.0.2.300
		2001:db8:2::10
	EOF
	check_rejected "ban --file with one bad line bans nothing" 192.0.2.300 \
		xb ban --file "$file"
	check_rejected "ban --file names the bad line number" "bans.txt:5" xb ban --file "$file"
	sed -i '/192.0.2.300/d' "$file"
	xb ban --force --file "$file" >/dev/null
	check_eq "the same file without the bad line bans its 4 prefixes" 6 "$(ban_count)"
}

# as_nobody CMD...: xdpban's arguments, run as user and group 65534 (nobody).
as_nobody() {
	in_ns "$SRV" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$WORK/bin/xdpban" --pin-dir "$PIN" "$@"
}

test_not_root() {
	# A copy nobody can reach, wherever the checkout lives.
	chmod 755 "$WORK"
	mkdir -p "$WORK/bin"
	install -m 755 "$XDPBAN" "$WORK/bin/xdpban"
	seed_state
	check_rejected "list as non-root fails with a clear error" root as_nobody list
	check_rejected "ban as non-root fails with a clear error" root as_nobody ban 192.0.2.20
	check_rejected "attach as non-root fails with a clear error" root as_nobody attach s1
}

e2e_main test_bad_addresses test_bad_duration test_bad_interface test_bad_settings \
	test_unban_unknown test_ban_file_with_one_bad_line test_not_root
