#!/bin/bash
# The journal source, on REAL journal files: systemd-journal-remote (Debian's
# systemd-journal-remote) writes them from the journal export format, so no
# journald runs. `xdpban logtest --journal` on a file and a directory; the
# daemon following a directory of journal files (sd-journal in its event
# loop): a ban from entries written while it runs, the parser picked by each
# entry's SYSLOG_IDENTIFIER, a restart that resumes after the cursor saved in
# the store (nothing counted twice, nothing missed while it was down), and
# entries older than the rules' window skipped. Also the silence warning: a
# file source whose lines look like sshd's failures but no longer parse.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

REMOTE=/lib/systemd/systemd-journal-remote
JOURNAL="" # the directory the daemon's journal source reads
FILE_LOG="" # the silence test's log file
BATCH=0

# journal_write ENTRY...: one new journal file in $JOURNAL with one entry per
# argument, "AGE IDENT PID MESSAGE" (AGE: seconds before now).
journal_write() {
	local entry age ident pid message now
	now=$(date +%s%6N)
	BATCH=$((BATCH + 1))
	for entry in "$@"; do
		read -r age ident pid message <<<"$entry"
		printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n' \
			"$((now - age * 1000000))" "$((BATCH * 1000000 + ${#message}))"
		printf '_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=mail\n'
		printf 'SYSLOG_IDENTIFIER=%s\n_PID=%s\nMESSAGE=%s\n\n' "$ident" "$pid" "$message"
	done >"$WORK/batch-$BATCH.export"
	# written aside, then moved in whole: a reader may look at a file that
	# journal-remote has only begun, and not look again
	"$REMOTE" --output="$WORK/batch-$BATCH.journal" - <"$WORK/batch-$BATCH.export" 2>/dev/null
	mv "$WORK/batch-$BATCH.journal" "$JOURNAL/"
}

# fails N ADDR [AGE]: N sshd password failures from ADDR, each its own connection
fails() {
	local i entries=()
	for i in $(seq 1 "$1"); do
		entries+=("${3:-0} sshd $((4000 + i)) Failed password for root from $2 port $((40000 + i)) ssh2")
	done
	journal_write "${entries[@]}"
}

write_conf() {
	daemon_files
	{
		daemon_conf_start
		cat <<-EOF
			[rules]
			ip_failures = 5
			ip_window = 600
			ip_bantime = 60
			[source j]
			type = journal
			journal_path = $JOURNAL
			[source f]
			path = $FILE_LOG
			silence_warning = 1s
			silence_lines = 3
		EOF
	} >"$CONF"
}

e2e_setup() {
	if [ ! -x "$REMOTE" ]; then
		echo "Bail out! $REMOTE missing: scripts/install-deps.sh --tests"
		exit 1
	fi
	JOURNAL=$WORK/journal
	FILE_LOG=$WORK/auth.log
	mkdir -p "$JOURNAL"
	: >"$FILE_LOG"
	write_conf
}

json_says() { # json_says FILTER FILE: jq -s's FILTER over FILE's JSON lines holds
	jq -se "$1" "$2" >/dev/null
}

e2e_teardown() {
	stop_daemon_and_report
}

test_logtest_reads_journal_files() {
	local out=$WORK/logtest.json
	journal_write "0 sshd 12 Failed password for bob from 192.0.2.5 port 4242 ssh2" \
		"0 dovecot 0 imap-login: Login: user=<bob>, method=PLAIN, rip=192.0.2.6, lip=192.0.2.1" \
		"0 postfix/smtpd 13 warning: unknown[192.0.2.7]: SASL LOGIN authentication failed: x" \
		"0 cron 14 Failed password for bob from 192.0.2.8 port 1 ssh2"
	"$XDPBAN" logtest --journal "$JOURNAL/batch-$BATCH.journal" >"$out"
	check "logtest --journal: the sshd entry, by its identifier" \
		json_says 'map(select(.line == 1))[0] | .source == "sshd" and .ip == "192.0.2.5"
			and (.time | test("^20[0-9-]+T[0-9:.]+\\+00:00$"))' "$out"
	check "logtest --journal: Dovecot's login and Postfix's failure" \
		json_says 'map(select(.line == 2 or .line == 3) | .source) == ["dovecot", "postfix"]' "$out"
	check "logtest --journal: another program's entry yields nothing" \
		json_says 'map(select(.line == 4)) == [] and last.lines == 4' "$out"
	"$XDPBAN" logtest --journal --quiet "$JOURNAL" >"$out"
	check "logtest --journal DIR reads the directory's files" json_says 'last.failures == 2' "$out"
	rm -f "$JOURNAL"/*.journal
}

journal_events() {
	status '.sources[] | select(.name == "j") | .events'
}

status_table_has_j() { # xdpban status's table: source j, a journal, 5 outcomes
	xb status --socket "$CTL" | grep -q "^j  *journal  *[0-9]*  *5 "
}

journal_events_are() { # journal_events_are N
	[ "$(journal_events)" = "$1" ]
}

silent_is() { # silent_is true|false: the file source's status
	[ "$(status '.sources[] | select(.name == "f") | .silent')" = "$1" ]
}

test_daemon_follows_the_journal() {
	start_daemon
	check "start-up says it follows the journal" daemon_said "following the journal in $JOURNAL"
	check "the source's status: a journal" \
		test "$(status '.sources[] | select(.name == "j") | .kind')" = journal
	fails 4 192.0.2.20
	check "4 failures: counted, not banned" wait_until 10 journal_events_are 4
	check_not "4 failures: not banned" banned 192.0.2.20
	fails 1 192.0.2.20
	check "the fifth failure bans it" wait_until 10 banned 192.0.2.20

	stop_daemon
	# written while the daemon is down: 3 to count, 5 that are too old to
	fails 3 192.0.2.21
	fails 5 192.0.2.22 3600
	start_daemon
	check "the restart says it resumes after its cursor" daemon_said "resuming after its saved cursor"
	check "after the restart: the 3 new entries, not the 5 before the stop" \
		wait_until 10 journal_events_are 3
	fails 2 192.0.2.21
	check "3 read at the restart + 2 new ban it: nothing missed" wait_until 10 banned 192.0.2.21
	check_not "entries older than the rules' window are skipped" banned 192.0.2.22
	check_eq "every entry counted once" 5 "$(journal_events)"
	check_eq "xdpban status shows the source's outcomes" 5 \
		"$(xb --json status --socket "$CTL" | jq '.sources[] | select(.name == "j") | .events')"
	check "xdpban status's table names the journal source" status_table_has_j
	stop_daemon
	check_eq "xdpban status without a daemon: sources null" null \
		"$(xb --json status --socket "$CTL" | jq -c .sources)"
}

test_silence_is_reported() {
	local i
	start_daemon
	# an sshd whose format changed: its lines still name sshd and "Failed "
	for i in 1 2 3; do
		echo "Nov 27 12:00:0$i mail sshd[9$i]: Failed passwd (root) from host 192.0.2.30" >>"$FILE_LOG"
	done
	sleep 1.2
	echo "Nov 27 12:00:09 mail sshd[99]: Failed passwd (root) from host 192.0.2.30" >>"$FILE_LOG"
	check "a silent source is reported once" \
		wait_until 10 daemon_said "source f: 4 lines that look like authentication lines"
	check "status: silent, 4 unrecognised authentication lines" \
		test "$(status '.sources[] | select(.name == "f") | "\(.silent) \(.unrecognised_auth_lines)"')" = "true 4"
	echo "Nov 27 12:00:10 mail sshd[100]: Failed password for root from 192.0.2.30 port 1 ssh2" >>"$FILE_LOG"
	check "an outcome again ends it" wait_until 10 daemon_said "source f: authentication outcomes recognised again"
	check "status: no longer silent" \
		wait_until 5 silent_is false
	stop_daemon
}

e2e_main test_logtest_reads_journal_files test_daemon_follows_the_journal test_silence_is_reported
