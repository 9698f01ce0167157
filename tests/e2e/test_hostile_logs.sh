#!/bin/bash
# Hostile log files, end to end, with the daemon (`xdpban run`) in the server
# namespace following an sshd log:
#   - the log path made a link to /dev/zero: refused once, the daemon keeps
#     answering (it used to spin at 100% for good, even after the link went),
#     and a real log put back is followed again;
#   - a source whose path is /etc/shadow (root:shadow 0640): refused, its
#     line count stays 0;
#   - a sparse 30 GB log: skipped with a warning, the control socket
#     answers throughout, and the lines after are read;
#   - 40 MiB of lines at once: read in slices, the control socket answering
#     between them, every line counted.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

AUTH_LOG=""

write_daemon_config() {
	daemon_files
	AUTH_LOG=$WORK/log/auth.log
	mkdir -p "$WORK/log"
	: >>"$AUTH_LOG"
	{
		daemon_conf_start
		cat <<-EOF

			[source ssh]
			type = sshd
			path = $AUTH_LOG

			[source secrets]
			type = sshd
			path = /etc/shadow
		EOF
	} >"$CONF"
}

e2e_setup() {
	write_daemon_config
	start_daemon
}

e2e_teardown() {
	stop_daemon_and_report
}

# sshd_failures ADDR N: N failed password lines for ADDR, appended to FILE ($AUTH_LOG).
sshd_failures() {
	local i
	for ((i = 0; i < $2; i++)); do
		echo "$(date '+%b %e %H:%M:%S') srv sshd[4242]: Failed password for root from $1 port 4$i ssh2"
	done >>"${3:-$AUTH_LOG}"
}

source_field() { # source_field NAME FIELD: a field of source NAME in the daemon's status
	status ".sources[] | select(.name == \"$1\") | .$2"
}

# answers_within MS: the control socket answers a status request within MS ms.
answers_within() {
	local start
	start=$(now_ms)
	daemon_answers && [ $(($(now_ms) - start)) -lt "$1" ]
}

test_shadow_is_refused() {
	check "a source at /etc/shadow is refused, naming its group" \
		daemon_said "log /etc/shadow: only its owner and group shadow may read it"
	check_eq "and not one line of it is read" 0 "$(source_field secrets lines)"
}

test_link_to_dev_zero() {
	mv "$AUTH_LOG" "$AUTH_LOG.real"
	ln -s /dev/zero "$AUTH_LOG"
	check "the link is refused, once" \
		wait_until 5 daemon_said "log $AUTH_LOG: a symbolic link, refused"
	sleep 2 # the 1 s tick looks at the path again and again
	check_eq "said once, not at each look" 1 \
		"$(grep -cF "log $AUTH_LOG: a symbolic link" "$DAEMON_ERR")"
	check "the daemon still answers at once" answers_within 2000
	rm "$AUTH_LOG"
	mv "$AUTH_LOG.real" "$AUTH_LOG"
	sshd_failures 198.51.100.61 5
	check "with the log back, its failures ban again" wait_until 10 banned 198.51.100.61
}

test_jumps_are_skipped() {
	local lines
	lines=$(source_field ssh lines)
	truncate -s 30G "$AUTH_LOG" # sparse: 30 GB of holes, no lines
	check "a sparse 30 GB log is skipped with a warning" \
		wait_until 10 daemon_said "bytes unread, more than the 256 MiB"
	check "the daemon answers meanwhile" answers_within 2000
	echo >>"$AUTH_LOG" # the holes' last "line" ends: skipped with them
	sshd_failures 198.51.100.62 5
	check "the lines appended after it are read: they ban" wait_until 10 banned 198.51.100.62
	check_eq "and none of the holes was taken for a line" $((lines + 6)) \
		"$(source_field ssh lines)"
}

test_a_big_append_is_read_in_slices() {
	local lines chunk=$WORK/chunk.log slow=0 i
	lines=$(source_field ssh lines)
	sshd_failures 203.0.113.200 1 "$chunk"
	# 40 MiB of one failure line repeated (~450,000 lines), appended at once
	yes "$(cat "$chunk")" | head -c $((40 << 20)) | head -n -1 >"$chunk.40m"
	cat "$chunk.40m" >>"$AUTH_LOG"
	for ((i = 0; i < 10; i++)); do
		answers_within 1000 || slow=$((slow + 1))
	done
	diag "control socket answers slower than 1 s while reading 40 MiB: $slow of 10"
	check "the control socket answers while 40 MiB of lines are read" test "$slow" -le 2
	check "every line of it is read" \
		wait_until 60 at_least $((lines + $(wc -l <"$chunk.40m"))) source_field ssh lines
	rm -f "$chunk" "$chunk.40m"
}

at_least() { # at_least MINIMUM CMD...: CMD prints an integer >= MINIMUM
	local min=$1
	shift
	[ "$("$@")" -ge "$min" ]
}

e2e_main test_shadow_is_refused test_link_to_dev_zero test_jumps_are_skipped \
	test_a_big_append_is_read_in_slices
