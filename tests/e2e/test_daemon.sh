#!/bin/bash
# The daemon (`xdpban run`) end to end, against a REAL Dovecot (Debian's
# dovecot-imapd and dovecot-pop3d): clients in their own namespaces fail IMAP
# and POP3 logins, Dovecot writes its log, the daemon following that log bans
# the client in the XDP maps, and the client's SYNs to port 143 are dropped
# until the ban's deadline, which the kernel enforces by itself. Also: log
# rotation by rename and by copytruncate, `xdpban event`, the allowlist, a
# SIGHUP reload, a restart that puts bans back from the SQLite store after the
# pins were lost, and the account rule. Two figures are printed as
# diagnostics: the latency from a failure line appearing in Dovecot's log to
# the ban being in the kernel map, and the daemon's throughput in log lines
# per second (1,000,000 generated Dovecot lines appended to the log).
#
# Dovecot is lib.sh's private instance (write_dovecot_config).
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

E2E_GREETER=no # Dovecot listens on port 143, not lib.sh's greeter

BANTIME=4 # seconds: [rules] ip_bantime, short for the test

# Extra addresses of the clients, so that each test starts from a clean slate
# in the rules (the IP rule counts per address) without waiting for bans.
LAT_ADDRS=(192.0.2.21 192.0.2.22 192.0.2.23 2001:db8:1::21 2001:db8:1::22)
ROT_ADDR=192.0.2.31      # rotation by rename
TRUNC_ADDR=192.0.2.32    # copytruncate
ACCT_ADDR1=192.0.2.40    # the account rule: client 1 ...
ACCT_ADDR2=198.51.100.40 # ... and client 2
ONEIP_ADDR=192.0.2.41    # an account failing from one address only
ALLOW_ADDR=192.0.2.50    # allowlisted in the config
RST_ADDR=192.0.2.60      # the restart test
HAND_ADDR=203.0.113.60   # ... and its operator's ban
OFFICE_NET=192.0.2.64/28   # ... the operator's network, allowlisted with xdpban allow
OFFICE_ADDR=192.0.2.66     # ... a client in it
OFFICE_BAN=192.0.2.64/27   # ... and a ban covering it
KEEP_ADDR=203.0.113.70   # an operator's permanent ban that the IP rule must not shorten
EVENT_ADDR=198.51.100.20 # banned through `xdpban event`

HELP="" # helper programs (Perl)

# --- helper programs ---------------------------------------------------------------

write_helpers() {
	HELP=$WORK/helpers
	mkdir -p "$HELP"
	# latency.pl LOG OFFSET ADDR USER PIN: waits for the auth failure line of
	# USER from ADDR in LOG after byte OFFSET, then for ADDR's ban in the
	# pinned ban table (its first or second bucket, by the table's keyed
	# hash and the size in use: maps/xdpban_maps.h); prints the milliseconds
	# from the one to the other. Both are polled every 0.2 ms, the map through bpf(2) directly
	# (x86_64 syscall number), so no process is started per poll.
	cat >"$HELP/latency.pl" <<-'EOF'
		use strict;
		use warnings;
		use Math::BigInt;
		use Socket qw(inet_pton AF_INET AF_INET6);
		use Time::HiRes qw(time sleep);
		my ($log, $offset, $addr, $user, $pin) = @ARGV;
		my $SYS_bpf = 321;
		my $v6 = $addr =~ /:/;
		my $raw = $v6 ? inet_pton(AF_INET6, $addr) : inet_pton(AF_INET, $addr);
		my $slots = $v6 ? 3 : 7;
		sub map_fd {
			my $path = "$_[0]\0";
			my $get = pack("QLL", unpack("Q", pack("p", $path)), 0, 0);
			my $fd = syscall($SYS_bpf, 7, $get, length $get); # BPF_OBJ_GET
			die "BPF_OBJ_GET $_[0]: $!\n" if $fd < 0;
			return $fd;
		}
		sub lookup { # lookup FD KEY VALUE-SIZE: the value, or undef
			my ($fd, $key, $size) = @_;
			my $value = "\0" x $size;
			my $attr = pack("LLQQQ", $fd, 0, unpack("Q", pack("p", $key)),
				unpack("Q", pack("p", $value)), 0);
			return syscall($SYS_bpf, 1, $attr, length $attr) == 0 ? $value : undef;
		}
		my $M = Math::BigInt->new(2)->bpow(64);
		my ($K1, $K2) = map { Math::BigInt->from_hex($_) } qw(ff51afd7ed558ccd c4ceb9fe1a85ec53);
		sub mix {
			my $h = ((($_[0] ^ ($_[0] >> 33)) * $K1) % $M);
			$h = ((($h ^ ($h >> 33)) * $K2) % $M);
			return $h ^ ($h >> 33);
		}
		my ($seed, $log2_4, $log2_6) =
			unpack("QLL", lookup(map_fd("$pin/ban_meta"), pack("L", 0), 24));
		$seed = Math::BigInt->new($seed);
		my $mask = (1 << ($v6 ? $log2_6 : $log2_4)) - 1;
		my $h = $v6 ? mix(mix(Math::BigInt->new(unpack("Q", substr($raw, 0, 8))) ^ $seed)
				^ Math::BigInt->new(unpack("Q", substr($raw, 8, 8))))
			: mix(Math::BigInt->new(unpack("L", $raw)) ^ $seed);
		my $first = ($h % 2**32)->numify & $mask;
		my $second = ($h >> 32)->numify & $mask;
		my $table = map_fd($pin . ($v6 ? "/ban6" : "/ban4"));
		sub banned { # ADDR in a slot of either bucket, with a deadline
			for my $bucket ($first, $second) {
				my $v = lookup($table, pack("L", $bucket), 64) // next;
				my $len = $v6 ? 16 : 4;
				for my $s (0 .. $slots - 1) {
					my $deadline = unpack("L", substr($v, $slots * $len + 4 * $s, 4));
					return 1 if $deadline && substr($v, $s * $len, $len) eq $raw;
				}
			}
			return 0;
		}
		open(my $fh, '<', $log) or die "$log: $!\n";
		sysseek($fh, $offset, 0);
		my $pattern = qr/\(\Q$user\E,\Q$addr\E,<[^>]*>\): (Password mismatch|unknown user)/;
		my ($buf, $seen, $deadline) = ('', undef, time + 20);
		while (time < $deadline) {
			if (!defined $seen) {
				while (sysread($fh, my $chunk, 65536)) { $buf .= $chunk }
				while ($buf =~ s/^([^\n]*)\n//) {
					if ($1 =~ $pattern) { $seen = time; last }
				}
			}
			if (defined $seen && banned()) {
				printf "%.1f\n", (time - $seen) * 1000;
				exit 0;
			}
			sleep 0.0002;
		}
		print defined $seen ? "line seen, no ban\n" : "no line\n";
		exit 1;
	EOF
	# gen.pl flood|burst: generated Dovecot log lines (log_path format,
	# auth_verbose=yes), each failed login an auth line and the login
	# process's disconnect line of the same session, with session IDs as
	# Dovecot makes them (time, port, the client's address: the parser checks
	# that the ID carries the address).
	#   flood: 1,000,000 lines, 500,000 failures, 4 from each of 124,546 IPv6
	#          hosts in 2001:db8:100::/40 and of 454 IPv4 addresses in
	#          192.0.2.100-199, 198.51.100.100-199, 203.0.113.1-254: one short
	#          of a ban each. 1,000 user names, each failing from many
	#          addresses: every one is blocked.
	#   burst: the 5th failure of the 100 flood addresses 192.0.2.100-199,
	#          then 5 failures in a row from each of 100 new addresses
	#          (192.0.2.200-254, 198.51.100.200-244).
	cat >"$HELP/gen.pl" <<-'EOF'
		use strict;
		use warnings;
		use MIME::Base64 qw(encode_base64);
		use POSIX qw(strftime);
		use Socket qw(inet_pton inet_ntop AF_INET AF_INET6);
		my $mode = shift;
		my @v4 = ((map { "192.0.2.$_" } 100 .. 199), (map { "198.51.100.$_" } 100 .. 199),
			(map { "203.0.113.$_" } 1 .. 254));
		my $ts = strftime("%b %d %H:%M:%S", localtime);
		my ($out, $serial) = ('', 0);
		sub attempt {
			my ($ip, $user) = @_;
			my $i = $serial++;
			my $bin = $ip =~ /:/ ? inet_pton(AF_INET6, $ip) : inet_pton(AF_INET, $ip);
			my $session = encode_base64(pack("VvvA*", $i, 1, 40000 + $i % 20000, $bin), '');
			$out .= "$ts auth: Info: passwd-file($user,$ip,<$session>): unknown user\n"
				. "$ts imap-login: Info: Disconnected: Aborted login by logging out"
				. " (auth failed, 1 attempts in 0 secs): user=<$user>, method=PLAIN,"
				. " rip=$ip, lip=192.0.2.1, session=<$session>\n";
			if (length $out > 1 << 20) { print $out; $out = '' }
		}
		if ($mode eq 'burst') {
			attempt($v4[$_], "burst") for 0 .. 99;
			for my $ip ((map { "192.0.2.$_" } 200 .. 254), (map { "198.51.100.$_" } 200 .. 244)) {
				attempt($ip, "burst") for 1 .. 5;
			}
		} else {
			my ($n4, $n6) = (0, 0);
			for my $i (0 .. 499_999) {
				my $user = sprintf("gen%03d", $i % 1000);
				if ($i % 275 == 0 && $n4 < 4 * @v4) {
					attempt($v4[$n4++ % @v4], $user);
					next;
				}
				my $k = $n6++ % 124_546;
				my $ip = sprintf("2001:db8:1%02x:%x::%x", $k % 256, int($k / 256), $k % 65000 + 1);
				attempt(inet_ntop(AF_INET6, inet_pton(AF_INET6, $ip)), $user);
			}
		}
		print $out;
	EOF
}

# --- the daemon ----------------------------------------------------------------------

write_daemon_config() {
	daemon_files
	{
		daemon_conf_start
		cat <<-EOF

			[rules]
			ip_failures = 5
			ip_window = 60s
			ip_bantime = ${BANTIME}s
			allow = $ALLOW_ADDR

			[source dovecot]
			type = dovecot
			path = $DOVE_LOG
		EOF
	} >"$CONF"
}

# ctl JSON: one request on the control socket, the reply on stdout.
e2e_teardown() {
	stop_daemon_and_report
	stop_dovecot
}

e2e_setup() {
	local a
	for a in "${LAT_ADDRS[@]}" "$ROT_ADDR" "$TRUNC_ADDR" "$ACCT_ADDR1" "$ONEIP_ADDR" \
		"$ALLOW_ADDR" "$RST_ADDR" "$OFFICE_ADDR"; do
		case $a in
		*:*) ip -n "$CLI1" addr add "$a/64" dev c1 nodad ;;
		*) ip -n "$CLI1" addr add "$a/24" dev c1 ;;
		esac
	done
	for a in "$EVENT_ADDR" "$ACCT_ADDR2"; do
		ip -n "$CLI2" addr add "$a/24" dev c2
	done
	write_helpers
	write_dovecot_config "" # nothing added to lib.sh's config
	write_daemon_config
	start_dovecot
}

# --- state of the daemon and the maps ----------------------------------------------

src_lines() { status '.sources[0].lines'; }
src_events() { status '.sources[0].events'; }
src_rotations() { status '.sources[0].rotations'; }

at_least() { # at_least MINIMUM CMD...: CMD prints an integer >= MINIMUM
	local min=$1
	shift
	[ "$("$@")" -ge "$min" ]
}

# The log is quiet and the daemon has read all of it (nothing changed in 0.2 s).
settle() {
	local size lines
	for _ in $(seq 50); do
		size=$(stat -c %s "$DOVE_LOG" 2>/dev/null || echo 0)
		lines=$(src_lines)
		sleep 0.2
		if [ "$size" = "$(stat -c %s "$DOVE_LOG" 2>/dev/null || echo 0)" ] &&
			[ "$lines" = "$(src_lines)" ]; then
			return 0
		fi
	done
	return 1
}

# refused CMD...: CMD fails; its stdout and stderr kept in $WORK/stdout, $WORK/stderr.
refused() {
	local status=0
	"$@" >"$WORK/stdout" 2>"$WORK/stderr" || status=$?
	[ "$status" -ne 0 ]
}

one_line_naming() { # one_line_naming TEXT: stderr is one line that names TEXT
	[ "$(wc -l <"$WORK/stderr")" -eq 1 ] && grep -qF -- "$1" "$WORK/stderr"
}

# --- the tests ---------------------------------------------------------------------

test_config_and_start() {
	local bad=$WORK/bad.conf
	check "run --check-config accepts the test's config" \
		quietly in_ns "$SRV" "$XDPBAN" run -c "$CONF" --check-config
	in_ns "$SRV" "$XDPBAN" run -c "$CONF" --check-config >"$WORK/effective.conf"
	check "the effective config has the file's pin_dir, bantime and source path" \
		eval "grep -Eq '^pin_dir *= *$PIN\$' '$WORK/effective.conf' &&
			grep -Eq '^ip_bantime *= *${BANTIME}s?\$' '$WORK/effective.conf' &&
			grep -Eq '^path *= *$DOVE_LOG\$' '$WORK/effective.conf'"
	check "the effective config reads back the same (but for its comment)" \
		eval "diff <(in_ns '$SRV' '$XDPBAN' run -c '$WORK/effective.conf' --check-config |
			grep -v '^#') <(grep -v '^#' '$WORK/effective.conf') >/dev/null"
	sed 's/^ip_bantime = .*/ip_bantime = 4x/' "$CONF" >"$bad"
	check "a bad value is one error line naming FILE:LINE" \
		eval "refused in_ns '$SRV' '$XDPBAN' run -c '$bad' --check-config &&
			one_line_naming '$bad:$(grep -n '^ip_bantime' "$bad" | cut -d: -f1):'"
	start_daemon
	check_eq "the daemon answers status on its control socket, following Dovecot's log" \
		"true dovecot $DOVE_LOG" "$(status '"\(.ok) \(.sources[0].name) \(.sources[0].path)"')"
	check "a second daemon on the same control socket is refused" \
		eval "refused timeout 10 nsenter --net=/run/netns/$SRV '$XDPBAN' run -c '$CONF' &&
			grep -q 'another xdpban daemon' '$WORK/stderr'"
	check "the first daemon still answers" daemon_answers
}

test_imap_failures_ban() {
	local events started elapsed
	check "client 2 logs in to Dovecot over IMAP with the right password" \
		logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" bob "$BOB_PW"
	settle
	events=$(src_events)
	for _ in 1 2 3 4; do
		fail_logins 1 "$CLI1" "$SRV_IP1" "$CLI1_IP" bob
	done
	wait_until 5 at_least $((events + 4)) src_events || true
	settle
	check_eq "4 failed logins (auth and disconnect line each) count as 4 failures" \
		4 $(($(src_events) - events))
	check_not "after 4 failures client 1 is not banned" banned "$CLI1_IP"
	fail_logins 1 "$CLI1" "$SRV_IP1" "$CLI1_IP" bob
	check "after the 5th failed login the daemon bans client 1 in the kernel map" \
		wait_until 3 banned "$CLI1_IP"
	started=$(now_ms)
	check "the daemon logs the ban in one line" \
		daemon_said "ban $CLI1_IP for ${BANTIME}s: 5 failures in 60 s (source dovecot)"
	check_xdp_drops "client 1" "$CLI1" "$SRV_IP1" "$CLI1_IP"
	check "client 2 still logs in with the right password" \
		logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" bob "$BOB_PW"
	# Connection attempts only, no xdpban command: the kernel ends the ban.
	if wait_until $((BANTIME + 6)) greets "$CLI1" "$SRV_IP1" "$CLI1_IP"; then
		elapsed=$(($(now_ms) - started))
		diag "client 1 connected again ${elapsed} ms after its ban was seen"
		check_ge "client 1 is not let in before the ban time" "$elapsed" $((BANTIME * 1000 - 500))
		pass "after the ban time (${BANTIME} s) client 1 connects to port 143 again"
	else
		fail "after the ban time (${BANTIME} s) client 1 connects to port 143 again"
	fi
}

test_latency() {
	local round addr dst user events offset probe ms all=() sorted
	for round in "${!LAT_ADDRS[@]}"; do
		addr=${LAT_ADDRS[$round]}
		user=lat$round
		case $addr in
		*:*) dst=$SRV_IP6_1 ;;
		*) dst=$SRV_IP1 ;;
		esac
		events=$(src_events)
		fail_logins 4 "$CLI1" "$dst" "$addr" "$user"
		wait_until 5 at_least $((events + 4)) src_events || true
		offset=$(stat -c %s "$DOVE_LOG")
		# The 5th failure comes as an unknown user: its auth line is unique.
		perl "$HELP/latency.pl" "$DOVE_LOG" "$offset" "$addr" "${user}x" "$PIN" \
			>"$WORK/latency.out" 2>&1 &
		probe=$!
		sleep 0.1
		fail_logins 1 "$CLI1" "$dst" "$addr" "${user}x"
		if wait "$probe"; then
			ms=$(cat "$WORK/latency.out")
			all+=("$ms")
		else
			fail "latency round $((round + 1)) ($addr)" "$(cat "$WORK/latency.out")"
			continue
		fi
	done
	check_eq "each of ${#LAT_ADDRS[@]} addresses (IPv4 and IPv6) is banned right after its 5th failure" \
		"${#LAT_ADDRS[@]}" "${#all[@]}"
	[ "${#all[@]}" -gt 0 ] || return 0
	sorted=$(printf '%s\n' "${all[@]}" | sort -g)
	diag "latency, failure line in Dovecot's log -> ban in the kernel map (ms): ${all[*]}"
	diag "latency median $(sed -n "$(((${#all[@]} + 1) / 2))p" <<<"$sorted") ms, max $(tail -n 1 <<<"$sorted") ms"
}

# lines_add_up BASE_LINES FILE_LINES...: the daemon read exactly FILE_LINES (summed).
lines_add_up() {
	local base=$1 sum=0 n
	shift
	for n in "$@"; do
		sum=$((sum + n))
	done
	[ $(($(src_lines) - base)) -eq "$sum" ]
}

# rotation_start ADDR USER: the source's counters and the log's length
# before a rotation (ROT_LINES, ROT_EVENTS, ROT_ROTATIONS, ROT_W0), then 3
# failures from ADDR, counted.
rotation_start() {
	settle
	ROT_LINES=$(src_lines) ROT_EVENTS=$(src_events) ROT_ROTATIONS=$(src_rotations)
	ROT_W0=$(wc -l <"$DOVE_LOG")
	fail_logins 3 "$CLI1" "$SRV_IP1" "$1" "$2"
	wait_until 5 at_least $((ROT_EVENTS + 3)) src_events || true
}

# rotation_counts: "FAILURES ROTATIONS" the source counted since rotation_start.
rotation_counts() {
	echo "$(($(src_events) - ROT_EVENTS)) $(($(src_rotations) - ROT_ROTATIONS))"
}

test_rotation_rename() {
	local old new
	rotation_start "$ROT_ADDR" rot
	mv "$DOVE_LOG" "$DOVE_LOG.1"
	doveadm -c "$DOVE_CONF" log reopen
	fail_logins 1 "$CLI1" "$SRV_IP1" "$ROT_ADDR" rot
	wait_until 5 at_least $((ROT_EVENTS + 4)) src_events || true
	check_not "rename: 3 failures before and 1 after the rotation do not ban" banned "$ROT_ADDR"
	fail_logins 1 "$CLI1" "$SRV_IP1" "$ROT_ADDR" rot
	check "rename: the 5th failure, the 2nd in the new file, bans" wait_until 3 banned "$ROT_ADDR"
	settle
	old=$(($(wc -l <"$DOVE_LOG.1") - ROT_W0))
	new=$(wc -l <"$DOVE_LOG")
	check "rename: the daemon read every line of both files once ($old + $new)" \
		lines_add_up "$ROT_LINES" "$old" "$new"
	check_eq "rename: 5 failures counted, 1 rotation seen" "5 1" "$(rotation_counts)"
}

test_rotation_copytruncate() {
	local copied new
	rotation_start "$TRUNC_ADDR" trunc
	settle
	cp "$DOVE_LOG" "$DOVE_LOG.2"
	truncate -s 0 "$DOVE_LOG"
	copied=$(($(wc -l <"$DOVE_LOG.2") - ROT_W0))
	fail_logins 1 "$CLI1" "$SRV_IP1" "$TRUNC_ADDR" trunc
	wait_until 5 at_least $((ROT_EVENTS + 4)) src_events || true
	check_not "copytruncate: 3 failures before and 1 after do not ban" banned "$TRUNC_ADDR"
	fail_logins 1 "$CLI1" "$SRV_IP1" "$TRUNC_ADDR" trunc
	check "copytruncate: the 5th failure bans" wait_until 3 banned "$TRUNC_ADDR"
	settle
	new=$(wc -l <"$DOVE_LOG")
	check "copytruncate: the daemon read every line once ($copied + $new)" \
		lines_add_up "$ROT_LINES" "$copied" "$new"
	check_eq "copytruncate: 5 failures counted, 1 truncation seen" "5 1" "$(rotation_counts)"
}

event() { # event ARGS...: xdpban event on the daemon's socket
	xb event "$@" --socket "$CTL"
}

test_event() {
	local out i events
	for i in 1 2 3 4; do
		out=$(event fail --ip "$EVENT_ADDR" --user bob --service imap)
	done
	check_eq "event fail, 4th time: counted, not banned" \
		"counted: 4 failures from $EVENT_ADDR in the window" "$out"
	out=$(event fail --ip "$EVENT_ADDR" --user bob --service imap)
	check_eq "event fail, 5th time: the daemon bans" "banned $EVENT_ADDR for ${BANTIME}s" "$out"
	check "the address banned through events is in the kernel map" banned "$EVENT_ADDR"
	check "client 2's banned extra address gets no answer on port 143" \
		syn_dropped "$CLI2" "$SRV_IP2" "$EVENT_ADDR"
	check "client 2's own address still logs in" \
		logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" bob "$BOB_PW"
	events=$(status .events)
	check "event ok is accepted" quietly event ok --ip 198.51.100.21 --user bob
	check_eq "--json: the daemon's reply" true \
		"$(xb --json event fail --ip 2001:db8:2::99 --user x --socket "$CTL" | jq .ok)"
	check "event fail --ip 192.0.2.300: one error line naming it, non-zero exit" \
		eval "refused event fail --ip 192.0.2.300 --user bob && one_line_naming 192.0.2.300"
	check "event fail --ip with a prefix: one error line, non-zero exit" \
		eval "refused event fail --ip 198.51.100.0/24 && one_line_naming 198.51.100.0/24"
	check "event fail without a running daemon: one error line, non-zero exit" \
		eval "refused xb event fail --ip 192.0.2.9 --socket '$WORK/nobody.sock' &&
			one_line_naming '$WORK/nobody.sock'"
	check "event without fail|ok is a usage error" refused event maybe --ip 192.0.2.9
	check_eq "only the 2 good events reached the daemon" $((events + 2)) "$(status .events)"
}

test_allowlist() {
	local ignored out i
	ignored=$(status .ignored_allowlisted)
	fail_logins 4 "$CLI1" "$SRV_IP1" "$ALLOW_ADDR" allowed
	fail_logins 4 "$CLI1" "$SRV_IP1" "$ALLOW_ADDR" allowed
	wait_until 5 at_least $((ignored + 8)) status .ignored_allowlisted || true
	check_eq "8 failures from an address allowlisted in the config are ignored" \
		$((ignored + 8)) "$(status .ignored_allowlisted)"
	check_not "the allowlisted address is not banned" banned "$ALLOW_ADDR"
	check "the allowlisted address still connects" greets "$CLI1" "$SRV_IP1" "$ALLOW_ADDR"
	xb allow 198.51.100.30 >/dev/null
	for i in 1 2 3 4 5 6 7; do
		out=$(event fail --ip 198.51.100.30 --user bob)
	done
	check_eq "an address on the map's allowlist (xdpban allow) is not counted" \
		"198.51.100.30 is allowlisted: not counted" "$out"
	for i in 1 2 3 4 5 6; do
		out=$(event fail --ip "$SRV_IP2" --user bob)
	done
	check_eq "the host's own address is not counted (allow_own_addresses)" \
		"$SRV_IP2 is allowlisted: not counted" "$out"
	check_not "neither is banned" eval "banned 198.51.100.30 || banned $SRV_IP2"
}

history_entry() { # history_entry SUBJECT JQ: JQ of the newest history row of SUBJECT
	xb --json history "$1" | jq -r --arg s "$1" \
		"[.history[] | select(.subject == \$s)] | first | $2"
}

test_restart() {
	local status=0 started left ignored
	# SIGHUP: a longer ban for this test, so it outlasts the restart.
	sed -i "s/^ip_bantime = .*/ip_bantime = 10s/" "$CONF"
	kill -HUP "$DAEMON_PID"
	check "SIGHUP reloads the config" wait_until 5 daemon_said "reloaded $CONF"
	fail_logins 5 "$CLI1" "$SRV_IP1" "$RST_ADDR" rst
	check "5 failures ban with the reloaded ban time" wait_until 3 banned "$RST_ADDR"
	started=$(now_ms)
	check_eq "the ban has the new length" true \
		"$(xb --json list | jq --arg p "$RST_ADDR" '.bans[] | select(.prefix == $p) | .seconds_left > 5')"
	# A ban lifted by the operator must not come back after a restart.
	for _ in 1 2 3 4 5; do
		event fail --ip 198.51.100.31 >/dev/null
	done
	xb unban 198.51.100.31 >/dev/null
	# An operator's ban must come back too: the CLI records it in the store.
	xb ban --for 10m "$HAND_ADDR" >/dev/null
	# So must the operator's allowlist, or a ban restored from the store (here
	# one covering the operator's network) drops the operator after a reboot.
	xb allow "$OFFICE_NET" >/dev/null
	check_eq "xdpban allow records the prefix in the store, from the CLI" cli \
		"$(sqlite3 "$STATE_DIR/xdpban.db" "SELECT source FROM allowlist WHERE prefix = '$OFFICE_NET'")"
	xb ban --for 10m "$OFFICE_BAN" >/dev/null
	check "an allowlisted client connects through a ban covering it" \
		greets "$CLI1" "$SRV_IP1" "$OFFICE_ADDR"

	stop_daemon || status=$?
	check_eq "SIGTERM: the daemon exits with status 0" 0 "$status"
	check "SIGTERM: the daemon says the XDP program and the bans stay" \
		daemon_said "stopping; the XDP program and every ban stay in place"
	check "the ban stays in the kernel after the daemon exits" banned "$RST_ADDR"
	check_eq "the XDP program stays attached to both interfaces" 2 \
		"$(xb --json status | jq '.interfaces | length')"
	check "the client is still dropped with no daemon running" \
		syn_dropped "$CLI1" "$SRV_IP1" "$RST_ADDR"

	# A lost bpffs: the pins and every map gone, the program attached anew.
	xb detach --all >/dev/null
	rm -rf "$PIN"
	xb attach s1 >/dev/null
	xb attach s2 >/dev/null
	check_eq "with new maps the ban is gone" 0 "$(ban_count)"
	check "and the client connects" greets "$CLI1" "$SRV_IP1" "$RST_ADDR"

	start_daemon
	check "the restarted daemon restores the live ban from its store" banned "$RST_ADDR"
	# What needs the 10 s ban in force comes first: on a loaded machine the
	# restart leaves it only a few seconds.
	check_eq "history --json: the ban, live, from the IP rule on the dovecot source" \
		"ban ip_rule dovecot 5 live" \
		"$(history_entry "$RST_ADDR" '"\(.type) \(.reason) \(.source) \(.count) \(.state)"')"
	left=$(xb --json list | jq --arg p "$RST_ADDR" '.bans[] | select(.prefix == $p) | .seconds_left')
	check "the restored ban keeps its deadline (${left} s left)" \
		test "$left" -le $((10 - ($(now_ms) - started) / 1000 + 1))
	check "the client is dropped again" syn_dropped "$CLI1" "$SRV_IP1" "$RST_ADDR"
	check "it logs what it restored" daemon_said "restored 3 bans"
	check "the operator's ban is restored as well" banned "$HAND_ADDR"
	check "xdpban allow's prefix is back on the allowlist" allowlisted "$OFFICE_NET"
	check "it logs the allowlist it restored" \
		daemon_said "restored 1 allowlisted prefixes from $STATE_DIR/xdpban.db (0 were still in the kernel)"
	check "the ban covering the operator's network is restored" banned "$OFFICE_BAN"
	check "and the allowlisted client still connects" greets "$CLI1" "$SRV_IP1" "$OFFICE_ADDR"
	ignored=$(status .ignored_allowlisted)
	fail_logins 5 "$CLI1" "$SRV_IP1" "$OFFICE_ADDR" office
	check "its 5 failures are not counted: the rules see the restored allowlist" \
		wait_until 5 at_least $((ignored + 5)) status .ignored_allowlisted
	check_not "and it is not banned" banned "$OFFICE_ADDR"
	check_eq "history --json: the operator's ban, live, manual, from the CLI, 10 minutes" \
		"ban manual cli live 600" \
		"$(history_entry "$HAND_ADDR" '"\(.type) \(.reason) \(.source) \(.state) \(.expires_at - .started_at)"')"
	check_not "a ban lifted with xdpban unban is not restored" banned 198.51.100.31
	check_eq "history --json: the unbanned address is lifted" "lifted unban" \
		"$(history_entry 198.51.100.31 '"\(.state) \(.lift_reason)"')"
	if wait_until 12 greets "$CLI1" "$SRV_IP1" "$RST_ADDR"; then
		diag "the client connected again $(($(now_ms) - started)) ms after the 10 s ban began"
		check_ge "not before the deadline" $(($(now_ms) - started)) 9000
	else
		fail "after the restored ban's deadline the client connects again"
	fi
	# Ended by its deadline: "expired" before the sweep, "lifted" (reason
	# "expired") after the daemon swept it.
	check "history --json: the ban ended by expiry" \
		wait_until 5 eval "history_entry '$RST_ADDR' '\"\\(.state) \\(.lift_reason)\"' |
			grep -Eqx 'expired (null|expired)|lifted expired'"

	# xdpban unallow takes the prefix out of the store: a restart does not put it back.
	xb unallow "$OFFICE_NET" >/dev/null
	check_eq "xdpban unallow takes the prefix out of the store" 0 \
		"$(sqlite3 "$STATE_DIR/xdpban.db" "SELECT count(*) FROM allowlist WHERE prefix = '$OFFICE_NET'")"
	stop_daemon || true
	start_daemon
	check_not "after another restart the unallowed prefix stays off the allowlist" \
		allowlisted "$OFFICE_NET"
	check "and the ban covering it drops the client" syn_dropped "$CLI1" "$SRV_IP1" "$OFFICE_ADDR"
}

test_account_rule() {
	local events
	fail_logins 2 "$CLI1" "$SRV_IP1" "$ACCT_ADDR1" carol
	fail_logins 1 "$CLI2" "$SRV_IP2" "$ACCT_ADDR2" carol pop3
	check "3 failures on carol from 2 addresses (IMAP and POP3): the daemon logs a block" \
		wait_until 5 daemon_said "block account carol for 10m: "
	check "the block line counts the 3 failures" \
		daemon_said "block account carol for 10m: 3 failures from 2 or more addresses (source dovecot)"
	check_eq "history --json: the block of carol, live, for 10 minutes" "block live 600" \
		"$(history_entry carol '"\(.type) \(.state) \(.expires_at - .started_at)"')"
	check_eq "history --json: the block's count and addresses" "3 $ACCT_ADDR1 $ACCT_ADDR2" \
		"$(history_entry carol '"\(.count) \(.ips | sort | join(" "))"')"
	check_not "neither address is banned by 1 or 2 failures" \
		eval "banned $ACCT_ADDR1 || banned $ACCT_ADDR2"
	events=$(src_events)
	fail_logins 3 "$CLI1" "$SRV_IP1" "$ONEIP_ADDR" dave
	wait_until 5 at_least $((events + 3)) src_events || true
	settle
	check_eq "3 failures on one account from one address: no block" 0 \
		"$(xb --json history dave | jq '.history | length')"
}

test_throughput() {
	local lines events bans blocks started ms fresh
	perl "$HELP/gen.pl" flood >"$WORK/flood.log"
	perl "$HELP/gen.pl" burst >"$WORK/burst.log"
	settle
	lines=$(src_lines) events=$(src_events) bans=$(status .bans) blocks=$(status .blocks)
	started=$(now_ms)
	cat "$WORK/flood.log" >>"$DOVE_LOG"
	if ! wait_until 120 at_least $((lines + 1000000)) src_lines; then
		fail "the daemon reads 1,000,000 appended lines" "read $(($(src_lines) - lines))"
		return 0
	fi
	ms=$(($(now_ms) - started))
	rm -f "$WORK/flood.log"
	diag "throughput: 1,000,000 Dovecot lines (500,000 failed logins from 125,000 addresses," \
		"1,000 account blocks) in $ms ms: $((1000000 * 1000 / (ms > 0 ? ms : 1))) lines/s"
	diag "daemon memory: $(grep -E '^VmHWM' "/proc/$DAEMON_PID/status" | tr -s ' \t' ' ')," \
		"tracked addresses: $(status .tracked_ips), evictions: $(status .evictions)"
	check_eq "all 1,000,000 lines read once, 500,000 failures counted" "1000000 500000" \
		"$(($(src_lines) - lines)) $(($(src_events) - events))"
	check_eq "no address banned by 4 failures each" 0 $(($(status .bans) - bans))
	check_eq "1,000 accounts blocked" 1000 $(($(status .blocks) - blocks))
	started=$(now_ms)
	cat "$WORK/burst.log" >>"$DOVE_LOG"
	wait_until 60 at_least $((lines + 1001200)) src_lines || true
	ms=$(($(now_ms) - started))
	bans=$(($(status .bans) - bans))
	fresh=$(xb --json list | jq '[.bans[].prefix | select(test("^(192\\.0\\.2\\.2[0-9][0-9]|198\\.51\\.100\\.2[0-4][0-9])$"))] | length')
	diag "ban rate: $bans bans in $ms ms ($((bans * 1000 / (ms > 0 ? ms : 1))) bans/s)"
	diag "of 100 flood addresses with 4 failures, $((bans - fresh)) were banned at their 5th" \
		"(the others' failures were evicted from the IP rule's table)"
	check_eq "5 failures in a row from each of 100 new addresses: 100 bans" 100 "$fresh"
	check_eq "no ban failed to apply" 0 "$(status .apply_errors)"
}

# An address banned by hand keeps failing over a connection it opened before
# the ban: the IP rule's shorter ban must not replace the operator's.
test_rule_keeps_longer_ban() {
	local out
	xb ban "$KEEP_ADDR" >/dev/null
	for _ in 1 2 3 4 5; do
		out=$(event fail --ip "$KEEP_ADDR" --user bob --service imap)
	done
	# (The rule's ban time is test_restart's reloaded one.)
	check_eq "the 5th failure of a permanently banned address bans nothing new" \
		"$KEEP_ADDR stays banned: its ban ends later than" "${out% *s from now}"
	check_eq "the operator's ban is still permanent, made by hand" "true manual" \
		"$(xb --json list | jq -r --arg p "$KEEP_ADDR" \
			'.bans[] | select(.prefix == $p) | "\(.permanent) \(.origin)"')"
	check "the daemon says why it did not ban" \
		daemon_said "not banning $KEEP_ADDR for 10s: a ban of it in force ends later"
	xb unban "$KEEP_ADDR" >/dev/null
}

test_quiet_daemon() {
	check "the daemon logged no error or warning" \
		eval "! grep -E 'xdpban\\[(error|warning)\\]' '$DAEMON_ERR'"
}

e2e_main test_config_and_start test_imap_failures_ban test_latency test_rotation_rename \
	test_rotation_copytruncate test_event test_allowlist test_restart test_account_rule \
	test_rule_keeps_longer_ban test_throughput test_quiet_daemon
