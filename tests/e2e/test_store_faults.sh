#!/bin/bash
# The store under attack, end to end, with the daemon (`xdpban run`) in the
# server namespace and its state directory on a 4 MiB tmpfs of its own:
#   - another process holds the store's write lock: the daemon answers every
#     event at once and bans in the kernel (it used to wait 5 s per ban), and
#     the rows reach the store once the lock is let go, no restart;
#   - xdpban unban, ban and allow while that lock is held: each fails after
#     its bounded wait with a non-zero exit, and the kernel's maps are left
#     as they were (unban used to exit 0 with the store's row still live, so
#     the next start put the ban back); once the lock is free, unban records
#     the lift;
#   - the state filesystem full: bans go on in the kernel, one warning for
#     the lasting failure (not one per ban), and the rows go in once space
#     is back, with no restart;
#   - a symbolic link planted at STATE_DIR/xdpban.db: the daemon refuses the
#     store (it goes on banning) and the file the link points to is untouched.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/lib/store.sh
. "$(dirname "$0")/lib/store.sh"

STATE_MOUNTED=""

write_daemon_config() {
	daemon_files
	{
		daemon_conf_start
		cat <<-EOF

			[rules]
			ip_failures = 5
			ip_window = 60s
			ip_bantime = 600s
			repeat_multiplier = 0

			[source ssh]
			type = sshd
			path = $WORK/auth.log
		EOF
	} >"$CONF"
	: >>"$WORK/auth.log"
}

e2e_setup() {
	mkdir -p "$STATE_DIR"
	mount -t tmpfs -o size=4m "xdpban-e2e-state-$$" "$STATE_DIR"
	STATE_MOUNTED=$STATE_DIR
	write_daemon_config
	start_daemon
}

e2e_teardown() {
	release_store
	stop_daemon_and_report
	if [ -n "$STATE_MOUNTED" ]; then
		umount -l "$STATE_MOUNTED" 2>/dev/null || true
	fi
}

# --- helpers -------------------------------------------------------------------------

DB() { echo "$STATE_DIR/xdpban.db"; }

store_sql() {
	sqlite3 "$(DB)" "$1"
}

# fail_events ADDR: 5 failures of ADDR through the control socket (a ban).
fail_events() {
	local i
	for ((i = 0; i < 5; i++)); do
		xb event fail --ip "$1" --user "user-$1" --socket "$CTL" >/dev/null
	done
}

store_live() { # store_live ADDR: the store has a live row for ADDR
	[ "$(store_sql "SELECT count(*) FROM bans WHERE prefix = '$1' AND lifted_at IS NULL")" = 1 ]
}

store_lifted() { # store_lifted ADDR REASON
	[ "$(store_sql "SELECT lift_reason FROM bans WHERE prefix = '$1' ORDER BY id DESC LIMIT 1")" = "$2" ]
}

# --- the tests -----------------------------------------------------------------------

test_locked_store_holds_up_nothing() {
	local start took a
	hold_store "$(DB)" "$WORK"
	start=$(now_ms)
	for a in 198.51.100.11 198.51.100.12 198.51.100.13 198.51.100.14; do
		fail_events "$a"
	done
	took=$(($(now_ms) - start))
	diag "20 events, 4 bans, against a locked store: $took ms"
	# A liveness bound, not a timing figure: the old daemon took 5 s per ban.
	check "the daemon answers 20 events and makes 4 bans in under 10 s" test "$took" -lt 10000
	check "the 4 bans are in the kernel" eval "banned 198.51.100.11 && banned 198.51.100.14"
	check "the control socket answers while the store is locked" daemon_answers
	release_store
	check "once the lock is let go the 4 rows reach the store" \
		wait_until 15 eval "store_live 198.51.100.11 && store_live 198.51.100.14"
}

test_cli_fails_on_a_locked_store() {
	local start took
	xb ban 198.51.100.21 >/dev/null
	check "xdpban ban records its ban in the store" store_live 198.51.100.21
	hold_store "$(DB)" "$WORK"
	start=$(now_ms)
	check "unban while another process holds the store's lock exits non-zero" \
		refused timeout 30 ip netns exec "$SRV" "$XDPBAN" --pin-dir "$PIN" --state-dir "$STATE_DIR" \
		unban 198.51.100.21
	took=$(($(now_ms) - start))
	diag "unban gave up after $took ms: $(cat "$WORK/stderr")"
	check "it says the store is locked and that nothing changed" \
		grep -q "write lock.*nothing was changed" "$WORK/stderr"
	check "the ban is still in the kernel" banned 198.51.100.21
	check "ban fails the same way, banning nothing" \
		refused timeout 30 ip netns exec "$SRV" "$XDPBAN" --pin-dir "$PIN" --state-dir "$STATE_DIR" \
		ban 198.51.100.22
	check_not "198.51.100.22 is not banned" banned 198.51.100.22
	check "allow fails the same way" \
		refused timeout 30 ip netns exec "$SRV" "$XDPBAN" --pin-dir "$PIN" --state-dir "$STATE_DIR" \
		allow 198.51.100.23
	check_not "198.51.100.23 is not allowlisted" allowlisted 198.51.100.23
	release_store
	check "with the lock free, unban succeeds" quietly xb unban 198.51.100.21
	check "and the store records the lift" store_lifted 198.51.100.21 unban
	check_not "the kernel no longer has the ban" banned 198.51.100.21
}

refused() { # refused CMD...: CMD fails; its stderr kept in $WORK/stderr
	local status=0
	"$@" >/dev/null 2>"$WORK/stderr" || status=$?
	[ "$status" -ne 0 ]
}

quietly() { "$@" >/dev/null 2>&1; }

warnings_of() { # warnings_of TEXT: how many daemon lines have TEXT
	grep -cF -- "$1" "$DAEMON_ERR" || true
}

fill_disk() { # fill_disk NAME: what space is left on the state filesystem, into NAME
	dd if=/dev/zero of="$STATE_DIR/$1" bs=4k >/dev/null 2>&1 || true
}

wal_empty() { [ ! -s "$(DB)-wal" ]; }

test_full_disk_recovers() {
	local a before
	# A WAL that keeps its pages takes rows without a new block: let the
	# writer's TRUNCATE checkpoint (a second after it writes) empty it first.
	fail_events 203.0.113.30
	wait_until 10 wal_empty || diag "the WAL is still $(stat -c %s "$(DB)-wal") bytes"
	before=$(warnings_of "rows wait in memory")
	fill_disk filler
	for a in 203.0.113.31 203.0.113.32 203.0.113.33 203.0.113.34 203.0.113.35; do
		fail_events "$a"
	done
	check "on a full disk the bans go on in the kernel" \
		eval "banned 203.0.113.31 && banned 203.0.113.35"
	check "the daemon says the store cannot be written" \
		wait_until 10 eval "[ \$(warnings_of 'rows wait in memory') -gt $before ]"
	# A checkpoint may have freed the WAL's pages since: full again.
	fill_disk filler2
	for a in 203.0.113.36 203.0.113.37 203.0.113.38; do
		fail_events "$a"
	done
	sleep 3
	check "said once or twice, not per ban (8 bans, retried every few seconds)" \
		test "$(warnings_of 'rows wait in memory')" -le $((before + 2))
	rm -f "$STATE_DIR/filler" "$STATE_DIR/filler2"
	check "with space back, every row goes in without a restart" \
		wait_until 15 eval "store_live 203.0.113.31 && store_live 203.0.113.38"
	check "the daemon says it writes again" daemon_said "store: writing again"
}

test_symlinked_store_is_refused() {
	local target=$WORK/elsewhere status=0
	stop_daemon || status=$?
	check_eq "the daemon stops" 0 "$status"
	echo "precious" >"$target"
	rm -f "$(DB)" "$(DB)-wal" "$(DB)-shm"
	ln -s "$target" "$(DB)"
	start_daemon
	check "the daemon refuses the link, naming it" \
		daemon_said "$(DB): a symbolic link, refusing to follow it"
	check_eq "the file it points to is untouched" precious "$(cat "$target")"
	fail_events 203.0.113.41
	check "and it goes on banning" banned 203.0.113.41
	stop_daemon >/dev/null 2>&1 || true
	rm -f "$(DB)"
	start_daemon
}

e2e_main test_locked_store_holds_up_nothing test_cli_fails_on_a_locked_store \
	test_full_disk_recovers test_symlinked_store_is_refused
