#!/bin/bash
# Faults, end to end, with the daemon (`xdpban run`) in the server namespace:
#   - its capabilities after start: CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN only
#     (effective, permitted, bounding; no CAP_DAC_READ_SEARCH), no_new_privs;
#   - the control socket is 0600, and a peer that is neither root nor in the
#     control group is refused and logged even when the file mode lets it in;
#   - the protected interface taken down and up, then deleted and created
#     again (a new ifindex): the daemon re-attaches (rtnetlink), the banned
#     client's SYNs are dropped again, the stale link pin is gone;
#   - s2 taken out of [daemon] interfaces by a reload: detached and logged, no
#     longer re-attached when made again, attached once more when put back; an
#     interface attached by hand stays through reloads; a detach that fails
#     (a pin directory the daemon may not write) is logged with its cause,
#     leaves s2 attached, and the next reload detaches it;
#   - kill -9 in the middle of a burst of sshd failure lines: the bans go on
#     being enforced, a short ban still expires in the kernel while no daemon
#     runs; the kernel's bans and the store's live bans agree after the
#     restart (nothing lost, no live row twice), including a ban deleted from
#     the map by hand while the daemon was down;
#   - a store file overwritten with garbage, and a state directory nobody may
#     write (chattr +i): one clear error, the kernel's bans stay, the daemon
#     goes on banning;
#   - a full CIDR trie: the rule's ban evicts the live CIDR ban closest to its
#     end, counted and logged, no error;
#   - a wall clock jump of a day, forwards and backwards, under libfaketime
#     (the monotonic clock left alone): a ban neither expires early nor lasts
#     longer (skipped when Debian's faketime is not installed).
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

AUTH_LOG="" # the sshd log the daemon follows
# CAP_BPF (39), CAP_PERFMON (38), CAP_NET_ADMIN (12)
KEEP_CAPS=000000c000001000
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1

write_daemon_config() {
	daemon_files
	AUTH_LOG=$WORK/log/auth.log
	mkdir -p "$WORK/log"
	: >>"$AUTH_LOG"
	{
		daemon_conf_start
		cat <<-EOF
			interfaces = s1, s2

			[rules]
			ip_failures = 5
			ip_window = 60s
			ip_bantime = 600s
			repeat_multiplier = 0

			[source ssh]
			type = sshd
			path = $AUTH_LOG
		EOF
	} >"$CONF"
}

kill9_daemon() {
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=""
}

e2e_setup() {
	write_daemon_config
	start_daemon
}

e2e_teardown() {
	chattr -i "$STATE_DIR" 2>/dev/null || true
	stop_daemon_and_report
}

# --- helpers -------------------------------------------------------------------------

# fail_events ADDR [N]: N (5) failures of ADDR through the control socket.
fail_events() {
	local i
	for ((i = 0; i < ${2:-5}; i++)); do
		xb event fail --ip "$1" --user "user-$1" --socket "$CTL" >/dev/null
	done
}

cap_field() { # cap_field NAME: the daemon's CapEff, CapPrm, CapBnd...
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$DAEMON_PID/status"
}

daemon_said_count() {
	grep -cF -- "$1" "$DAEMON_ERR" || true
}

# The prefixes of the kernel's bans, and of the store's live bans, sorted.
kernel_bans() {
	xb --json list | jq -r '.bans[] | select(.expired | not) | .prefix' | sort
}

store_live_bans() {
	sqlite3 "$STATE_DIR/xdpban.db" \
		"SELECT prefix FROM bans WHERE lifted_at IS NULL AND
		 (expires_at IS NULL OR expires_at > strftime('%s','now'))" | sort
}

store_live_twice() {
	sqlite3 "$STATE_DIR/xdpban.db" \
		"SELECT prefix FROM bans WHERE lifted_at IS NULL GROUP BY prefix HAVING count(*) > 1"
}

# xb_kernel_only ARGS: xdpban with a state directory holding no store, so
# a ban or unban changes the kernel alone (what a kill between its two
# writes, or a lost map entry, leaves).
xb_kernel_only() {
	mkdir -p "$WORK/no-store"
	STATE_DIR=$WORK/no-store xb "$@"
}

# --- privileges and the control socket -----------------------------------------------

test_capabilities() {
	check_eq "the daemon keeps only CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN" \
		"$KEEP_CAPS $KEEP_CAPS" "$(cap_field CapEff) $(cap_field CapPrm)"
	check_eq "its bounding set holds no more" "$KEEP_CAPS" "$(cap_field CapBnd)"
	check_eq "no_new_privs is set" 1 "$(awk '$1 == "NoNewPrivs:" { print $2 }' \
		"/proc/$DAEMON_PID/status")"
	# What it kept is enough: a ban (map update) after the drop.
	fail_events 192.0.2.111
	check "a ban still goes into the map with the capabilities left" \
		wait_until 5 banned 192.0.2.111
}

test_control_socket() {
	local reply
	check_eq "the control socket is root's, mode 0600" "600 root" "$(stat -c '%a %U' "$CTL")"
	# The file mode stops others; the daemon checks the peer again, should the
	# mode be loosened by mistake.
	chmod 0666 "$CTL"
	chmod o+x "$WORK"
	reply=$(printf '{"cmd":"status"}\n' | setpriv --reuid 65534 --regid 65534 --clear-groups \
		socat -t 5 - "UNIX-CONNECT:$CTL" 2>&1 || true)
	chmod 0600 "$CTL"
	chmod o-x "$WORK"
	check_eq "a peer neither root nor in the group is refused" \
		'{"ok":false,"error":"permission denied"}' "$reply"
	check "the refusal is logged with the peer's uid" \
		wait_until 5 daemon_said "control socket: refused uid 65534"
}

# --- the interface -------------------------------------------------------------------

test_link_down_up() {
	xb ban "$CLI1_IP" >/dev/null
	check "the banned client's SYNs are dropped" times_out "$CLI1" "$SRV_IP1" 143
	ip -n "$SRV" link set s1 down
	ip -n "$SRV" link set s1 up
	ip -n "$CLI1" link set c1 up
	check "after s1 went down and up, they are still dropped" \
		times_out "$CLI1" "$SRV_IP1" 143
	check "and the other client still connects" connects "$CLI2" "$SRV_IP2" 143
}

link_ifindex() { # link_ifindex IF: the ifindex of the server's IF
	ip -n "$SRV" -j link show "$1" | jq '.[0].ifindex'
}

s1_attached_once() {
	[ "$(xb --json status | jq '[.interfaces[] | select(.interface == "s1")] | length')" = 1 ]
}

# recreate IF: deletes the server's s1 or s2 (its client end goes with it)
# and makes the pair again, under a new ifindex.
recreate() {
	ip -n "$SRV" link del "$1"
	case $1 in
	s1) link_pair s1 "$CLI1" c1 "$SRV_IP1" "$CLI1_IP" "$SRV_IP6_1" "$CLI1_IP6" ;;
	s2) link_pair s2 "$CLI2" c2 "$SRV_IP2" "$CLI2_IP" "$SRV_IP6_2" "$CLI2_IP6" ;;
	esac
}

test_link_recreate() {
	local old_ifindex new_ifindex
	xb ban "$CLI1_IP" >/dev/null
	old_ifindex=$(link_ifindex s1)
	recreate s1
	ip -n "$CLI1" addr add 192.0.2.3/24 dev c1
	new_ifindex=$(link_ifindex s1)
	diag "s1 was ifindex $old_ifindex, is now $new_ifindex"
	check "the daemon re-attaches to the new s1" \
		wait_until 10 daemon_said "attached to s1 (ifindex $new_ifindex)"
	check "the banned client's SYNs are dropped again" times_out "$CLI1" "$SRV_IP1" 143
	check "another address over the new s1 connects" \
		quietly in_ns "$CLI1" socat -u "TCP4:$SRV_IP1:143,bind=192.0.2.3,connect-timeout=2" -
	check "one link for s1 is left (the stale pin removed)" s1_attached_once
}

# --- [daemon] interfaces changed by a reload -------------------------------------------

attached() { # attached IF: `xdpban status` lists IF
	xb --json status | jq -e --arg i "$1" 'any(.interfaces[]; .interface == $i)' >/dev/null
}

said_more() { # said_more TEXT N: the daemon's stderr has TEXT more than N times
	[ "$(daemon_said_count "$1")" -gt "$2" ]
}

# reload: SIGHUP, then waits until the daemon says it reloaded.
reload() {
	local reloads
	reloads=$(daemon_said_count "reloaded $CONF")
	kill -HUP "$DAEMON_PID"
	wait_until 10 said_more "reloaded $CONF" "$reloads"
}

# reload_interfaces LIST: [daemon] interfaces = LIST, then a reload.
reload_interfaces() {
	sed -i "s/^interfaces = .*/interfaces = $1/" "$CONF"
	reload
}

test_reload_removes_interface() {
	xb ban "$CLI1_IP" >/dev/null
	xb ban "$CLI2_IP" >/dev/null
	check "banned, client 2's SYNs over s2 are dropped" times_out "$CLI2" "$SRV_IP2" 143
	reload_interfaces s1
	check "a reload without s2 logs that the daemon left it" \
		daemon_said "detached from s2: no longer in [daemon] interfaces"
	check_not "xdpban status no longer lists s2" attached s2
	check "it still lists s1" attached s1
	check "the banned client 2 connects over s2" wait_until 10 connects "$CLI2" "$SRV_IP2" 143
	check "the banned client 1's SYNs over s1 are still dropped" times_out "$CLI1" "$SRV_IP1" 143
	# The daemon reads link messages in order: once it has re-attached to
	# the new s1, it has seen the new s2 as well.
	recreate s2
	recreate s1
	check "s2 and s1 deleted and made again: the daemon re-attaches to s1" \
		wait_until 10 daemon_said "attached to s1 (ifindex $(link_ifindex s1))"
	check_not "but not to s2" daemon_said "attached to s2"
	check_not "status does not list s2" attached s2
	check "the banned client 2 connects over the new s2" \
		wait_until 10 connects "$CLI2" "$SRV_IP2" 143
	reload_interfaces "s1, s2"
	check "s2 back in the config: a reload attaches to it" \
		daemon_said "attached to s2 (ifindex $(link_ifindex s2))"
	check "status lists s2 again" attached s2
	check "client 2's SYNs over s2 are dropped again" times_out "$CLI2" "$SRV_IP2" 143
}

# s3: a third veth, its other end c3 with client 2.
add_s3() {
	ip -n "$SRV" link add s3 type veth peer name c3 netns "$CLI2"
}

test_reload_keeps_hand_attached() {
	add_s3
	xb attach s3 >/dev/null
	# Started again, the daemon finds xdpban on s3 and keeps it, unnamed by the config.
	restart_daemon
	reload_interfaces s1
	check_not "a reload without s2 detaches s2" attached s2
	check "it leaves the hand-attached s3 attached" attached s3
	check_not "and says nothing of detaching it" daemon_said "detached from s3"
	ip -n "$SRV" link del s3
	add_s3
	check "s3 made again: the daemon still keeps it" \
		wait_until 10 daemon_said "attached to s3 (ifindex $(link_ifindex s3))"
	reload_interfaces "s1, s2"
	check "s2 back in the config: attached again" attached s2
	check "s3 still attached" attached s3
	xb detach s3
	ip -n "$SRV" link del s3
}

# The daemon has no CAP_DAC_OVERRIDE: a pin directory it may not write keeps
# it from removing s2's pin, so the detach fails and nothing changes.
test_reload_detach_fails() {
	local mode failures detached
	xb ban "$CLI2_IP" >/dev/null
	failures=$(status .faults.detach_failures)
	detached=$(daemon_said_count "detached from s2")
	mode=$(stat -c %a "$PIN")
	chmod 0500 "$PIN"
	reload_interfaces s1
	chmod "$mode" "$PIN"
	check "a detach that fails is logged with its cause" \
		daemon_said "s2 is no longer in [daemon] interfaces, but xdpban stays on it: cannot remove $PIN/"
	diag "$(grep -F "s2 is no longer in [daemon] interfaces, but" "$DAEMON_ERR" | tail -n 1)"
	check_eq "and counted" $((failures + 1)) "$(status .faults.detach_failures)"
	check "the rest of the reload is applied" daemon_said "reloaded $CONF"
	check "s2 stays attached" attached s2
	check "client 2's SYNs over s2 are still dropped" times_out "$CLI2" "$SRV_IP2" 143
	reload
	check "the next reload detaches s2" said_more "detached from s2" "$detached"
	check_not "status no longer lists s2" attached s2
	reload_interfaces "s1, s2"
	check "s2 back in the config: attached again" attached s2
}

# --- kill -9 and the store ------------------------------------------------------------

# burst N: 5 failed SSH logins from each of N addresses 2001:db8:ff::1..N,
# appended to the log 25 addresses at a time, 50 ms apart (1,000: 2 s).
burst() {
	perl -e '
		use POSIX qw(strftime);
		use IO::Handle;
		my ($n, $log) = @ARGV;
		open(my $fh, ">>", $log) or die "$log: $!\n";
		$fh->autoflush(1);
		my $ts = strftime("%b %d %H:%M:%S", localtime);
		for my $i (1 .. $n) {
			my $ip = sprintf("2001:db8:ff::%x", $i);
			print $fh "$ts srv sshd[" . (1000 + $i) . "]: Failed password for root from $ip port "
				. (40000 + $i) . " ssh2\n" for 1 .. 5;
			select(undef, undef, undef, 0.05) if $i % 25 == 0;
		}' "$1" "$AUTH_LOG"
}

# map_key ADDR: ADDR as the 16 bytes of an addr_key (IPv4-mapped for IPv4), for bpftool.
map_key() {
	python3 -c 'import ipaddress, sys
a = ipaddress.ip_address(sys.argv[1])
a = ipaddress.IPv6Address("::ffff:" + str(a)) if a.version == 4 else a
print(" ".join(str(b) for b in a.packed))' "$1"
}

test_kill9_burst() {
	local before kernel store lost unrecorded deleted now_kernel now_store
	before=$(status .bans)
	burst 1000 &
	local writer=$!
	wait_until 10 at_least_bans $((before + 50)) || true
	# A short ban, to expire while no daemon runs. It goes in just before the
	# kill and is checked right after it: the burst takes seconds to finish,
	# and a loaded machine must not let the ban end before it is checked.
	xb ban --for 5s "$CLI1_IP" >/dev/null
	kill9_daemon
	check "with no daemon, the banned client's SYNs are still dropped" \
		times_out "$CLI1" "$SRV_IP1" 143
	wait "$writer"
	kernel=$(kernel_bans | grep -c 2001:db8:ff:: || true)
	store=$(store_live_bans | grep -c 2001:db8:ff:: || true)
	lost=$(comm -13 <(kernel_bans) <(store_live_bans) | wc -l)
	unrecorded=$(comm -23 <(kernel_bans) <(store_live_bans) | grep -c 2001:db8:ff:: || true)
	diag "killed mid-burst: $kernel bans in the kernel, $store in the store," \
		"$unrecorded in the kernel only"
	check "the burst was cut short by the kill" test "$kernel" -lt 1000
	check_eq "every ban the store recorded is in the kernel" 0 "$lost"
	check "with no daemon, its 5 s ban still expires in the kernel" \
		wait_until 10 connects "$CLI1" "$SRV_IP1" 143
	deleted=$(store_live_bans | grep 2001:db8:ff:: | head -n 1)
	xb_kernel_only unban "$deleted" >/dev/null
	check_not "a ban deleted from the kernel alone is gone" banned "$deleted"
	# What a kill between the map write and the store write leaves: a ban
	# in the kernel only.
	xb_kernel_only ban --force 2001:db8:ff::ffff >/dev/null
	start_daemon
	check "the restarted daemon puts the deleted ban back" banned "$deleted"
	check "and records the ban only the kernel had" \
		daemon_said "recorded $((unrecorded + 1)) that only the kernel had"
	now_kernel=$(kernel_bans | grep -c 2001:db8:ff:: || true)
	now_store=$(store_live_bans | grep -c 2001:db8:ff:: || true)
	check_eq "no ban lost: the kernel has what it had" "$((kernel + 1))" "$now_kernel"
	check_eq "the store's live bans are the kernel's" "$(kernel_bans)" "$(store_live_bans)"
	check_eq "no prefix has two live rows" "" "$(store_live_twice)"
	diag "after the restart: $now_kernel bans in the kernel, $now_store in the store"
}

at_least_bans() {
	[ "$(status .bans)" -ge "$1" ]
}

# restart_daemon: SIGTERM, then start again.
restart_daemon() {
	stop_daemon
	start_daemon
}

test_store_garbage() {
	local kept=192.0.2.121 new=192.0.2.122 hand=203.0.113.121 office=198.51.100.128/28
	fail_events "$kept"
	wait_until 5 banned "$kept"
	stop_daemon
	head -c 65536 /dev/urandom >"$STATE_DIR/xdpban.db"
	rm -f "$STATE_DIR/xdpban.db-wal" "$STATE_DIR/xdpban.db-shm"
	: >"$DAEMON_ERR"
	start_daemon
	check "a store full of garbage: one clear error naming the file" \
		daemon_said "$STATE_DIR/xdpban.db: "
	diag "$(grep -F "$STATE_DIR/xdpban.db" "$DAEMON_ERR")"
	check "the kernel's ban stays" banned "$kept"
	fail_events "$new"
	check "and the daemon goes on banning" wait_until 5 banned "$new"
	stop_daemon
	check "xdpban ban with the damaged store still bans" \
		eval "xb ban --for 10m $hand 2>'$WORK/ban.err' >/dev/null && banned $hand"
	check "and warns that the store lacks the ban" \
		grep -q "xdpban: warning: the bans are in force but not in the store" "$WORK/ban.err"
	check "xdpban allow with the damaged store still allowlists, exit status 0" \
		eval "xb allow $office 2>'$WORK/allow.err' >/dev/null && allowlisted $office"
	check "and warns, in one line, that the store lacks it" \
		eval "grep -q 'xdpban: warning: the prefixes are allowlisted but not in the store' \
			'$WORK/allow.err' && [ \"\$(wc -l <'$WORK/allow.err')\" -eq 1 ]"
	rm -f "$STATE_DIR"/xdpban.db*
	start_daemon
	check_eq "a new store: the daemon records the operator's ban found in the maps only" \
		"ban manual kernel live" \
		"$(xb --json history "$hand" | jq -r '.history[0] | "\(.type) \(.reason) \(.source) \(.state)"')"
	check_eq "and the allowlisted prefix found in the map only (source kernel)" kernel \
		"$(sqlite3 "$STATE_DIR/xdpban.db" "SELECT source FROM allowlist WHERE prefix = '$office'")"
	check "it logs what it recorded" \
		daemon_said "restored 0 allowlisted prefixes from $STATE_DIR/xdpban.db (0 were still in the kernel), recorded 1 that only the kernel had"
	xb unban "$hand" >/dev/null
	xb unallow "$office" >/dev/null
}

test_store_unwritable() {
	local kept=192.0.2.131 new=192.0.2.132 cut=192.0.2.133
	fail_events "$kept"
	wait_until 5 banned "$kept"
	stop_daemon
	rm -f "$STATE_DIR"/xdpban.db*
	chattr +i "$STATE_DIR" # not even root may create a file in it
	: >"$DAEMON_ERR"
	start_daemon
	check "a state directory nobody may write: one clear error" \
		daemon_said "bans will not survive a reboot"
	diag "$(grep -F "bans will not survive" "$DAEMON_ERR")"
	check "the kernel's ban stays" banned "$kept"
	fail_events "$new"
	check "and the daemon goes on banning" wait_until 5 banned "$new"
	stop_daemon
	chattr -i "$STATE_DIR"
	start_daemon
	# The store made unwritable under a running daemon.
	chattr +i "$STATE_DIR/xdpban.db" "$STATE_DIR/xdpban.db-wal" 2>/dev/null || true
	fail_events "$cut"
	check "with the store's files made immutable while it runs, it goes on banning" \
		wait_until 5 banned "$cut"
	chattr -i "$STATE_DIR/xdpban.db" "$STATE_DIR/xdpban.db-wal" 2>/dev/null || true
	diag "store errors logged: $(grep -c 'store: ' "$DAEMON_ERR" || true)"
}

# --- the wall clock --------------------------------------------------------------------

# created_at WALL_OFFSET_S ADDR: the store's creation time of ADDR's newest ban, minus now.
store_created_offset() {
	echo $(($(sqlite3 "$STATE_DIR/xdpban.db" \
		"SELECT max(created_at) FROM bans WHERE prefix = '$1'") - $(date +%s)))
}

# jumped_ban OFFSET NS ADDR DST: with the daemon's wall clock at OFFSET, a 6 s
# rule ban of ADDR is still in force 2 s on and over some seconds later. (6 s,
# not 4: the check runs 2 s on plus the store query, slower on a busy machine.)
jumped_ban() {
	local offset=$1 ns=$2 addr=$3 dst=$4 created
	echo "$offset" >"$WORK/faketime"
	sleep 0.2
	fail_events "$addr"
	wait_until 5 banned "$addr"
	created=$(store_created_offset "$addr")
	diag "wall clock $offset: the store dates the ban ${created} s from the real now"
	check "the daemon's wall clock is off by $offset" test "${created#-}" -gt 80000
	sleep 2
	check "with the clock $offset, the 6 s ban still drops 2 s on" times_out "$ns" "$dst" 143
	check "and it ends on time (the kernel's monotonic deadline)" \
		wait_until 10 connects "$ns" "$dst" 143
}

test_wall_clock_jump() {
	if [ ! -e "$FAKETIME_LIB" ]; then
		pass "# SKIP Debian's faketime is not installed"
		return
	fi
	stop_daemon
	sed -i 's/^ip_bantime = 600s$/ip_bantime = 6s/' "$CONF"
	echo "+0" >"$WORK/faketime"
	# The wall clock (time(), CLOCK_REALTIME) follows the file; CLOCK_MONOTONIC,
	# which a real `date -s` does not move either, is left alone.
	cat >"$WORK/xdpban-faketime" <<-EOF
		#!/bin/sh
		LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$WORK/faketime \\
			FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 exec $XDPBAN "\$@"
	EOF
	chmod +x "$WORK/xdpban-faketime"
	XDPBAN=$WORK/xdpban-faketime start_daemon
	jumped_ban +1d "$CLI1" "$CLI1_IP" "$SRV_IP1"
	jumped_ban -1d "$CLI2" "$CLI2_IP" "$SRV_IP2"
	stop_daemon
	sed -i 's/^ip_bantime = 6s$/ip_bantime = 600s/' "$CONF"
	rm -f "$STATE_DIR"/xdpban.db* # rows dated a day off
	start_daemon
}

# --- a full map ------------------------------------------------------------------------

cidr_bans() {
	xb --json list | jq '[.bans[] | select(.kind == "cidr")] | length'
}

test_full_cidr_map() {
	local file=$WORK/cidrs.txt status=0
	# 65,536 /64s fill the trie; three end in 2 minutes, the rest in an hour.
	awk 'BEGIN { for (i = 0; i < 65536; i++)
		printf "2001:db8:0:%x::/64 %s\n", i, i < 3 ? "2m" : "1h" }' >"$file"
	xb ban --file "$file" >/dev/null
	check_eq "the CIDR map is full" 65536 "$(cidr_bans)"
	xb ban --for 1h 2001:db8:1:1::/64 >/dev/null 2>"$WORK/stderr" || status=$?
	check_eq "a ban into the full map succeeds" 0 "$status"
	check "it evicts a ban closest to its end and says which" \
		grep -qE "evicted 1 ban closest to its end: 2001:db8:(|0:1:|0:2:):/64$" "$WORK/stderr"
	check_eq "the map stays full" 65536 "$(cidr_bans)"
	# The daemon, banning per /64, meets the full map too.
	sed -i 's/^repeat_multiplier = 0$/&\nipv6_prefix = 64/' "$CONF"
	reload
	fail_events 2001:db8:fe::1
	check "the daemon's /64 ban goes in" wait_until 5 banned 2001:db8:fe::/64
	check "the eviction is logged" daemon_said "the CIDR ban map is full: evicted 2001:db8:0:"
	check_eq "and counted" 1 "$(status .faults.ban_evictions)"
	sed -i '/^ipv6_prefix = 64$/d' "$CONF"
	reload
}

# address_bans_at_least N: the daemon's last sweep counted N exact bans or more.
address_bans_at_least() {
	local count
	count=$(in_ns "$SRV" curl -sf -H "X-API-Key: $(cat "$STATE_DIR/policy.key")" \
		http://127.0.0.1:8643/metrics |
		sample_value 'xdpban_bans_active{kind="address"}')
	[ "${count:-0}" -ge "$1" ]
}

# The exact-address table never evicts: 1,048,576 bans (its nominal
# capacity) all go in and stay, with no refusal and no warning.
test_full_address_map() {
	local file=$WORK/addresses.txt
	awk 'BEGIN { for (i = 0; i < 1048576; i++)
		printf "10.%d.%d.%d 1h\n", int(i / 65536), int(i / 256) % 256, i % 256 }' >"$file"
	xb ban --force --file "$file" >/dev/null
	check "the sweep counts all 1,048,576 (/metrics)" \
		wait_until 15 address_bans_at_least 1048576
	check_eq "none was refused" 0 "$(status .faults.address_map_full)"
	check_eq "every one is in force" 1048576 \
		"$(xb --json list | jq '[.bans[] | select(.prefix | startswith("10."))
			| select(.expired | not)] | length')"
}

e2e_main test_capabilities test_control_socket test_link_down_up test_link_recreate \
	test_reload_removes_interface test_reload_keeps_hand_attached test_reload_detach_fails \
	test_kill9_burst test_store_garbage test_store_unwritable test_wall_clock_jump \
	test_full_cidr_map test_full_address_map
