#!/bin/bash
# Weak passwords end to end with a REAL Dovecot (lib.sh's private instance)
# whose config includes docs/dovecot-policy.conf with its nonce filled in
# and its auth_policy_hash_truncate = 0 line uncommented: the daemon judges
# Dovecot's pwhash of each new successful login against Debian's
# cracklib-small and the mangling rules, and never sees a password.
# Checked:
#   - a user logging in with a dictionary word, and one with a word and
#     digits, are listed by `xdpban weak` (with the rule class), one with a
#     long random password is not; /metrics counts them;
#   - changing the password (Dovecot's passwd-file) clears the listing at
#     the next login, kept as history (`xdpban weak --all`);
#   - failed logins guessing dictionary words count per address and, with
#     [rules] dictionary_guesses = 3, the third bans the address;
#   - a truncated pwhash is said once with the Dovecot setting, and counted;
#   - with refuse (SIGHUP): the listed password is refused with the
#     configured message, the same account's wrong password fails as
#     usual, every other account logs in;
#   - the listing survives the daemon, and is read with it stopped;
#   - no plaintext password used here is anywhere in the state directory,
#     the daemon's log, or what xdpban printed.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

E2E_GREETER=no # Dovecot listens on port 143

SNIPPET=$REPO/docs/dovecot-policy.conf
DICTIONARY=/usr/share/dict/cracklib-small
DAVE_PW=sunshine  # a dictionary word
FRANK_PW=Monkey123 # a word capitalised, then digits
ERIN_PW=""         # long and random, made per run
DAVE_NEW_PW=""     # dave's next password, long and random
GUESS_ADDR=192.0.2.50 # client 1: failed logins guessing dictionary words
NONCE=""
MESSAGE="Too easy to guess: change it at https://mail.example.org/password"
OUT="" # everything xdpban printed, searched for passwords at the end

random_password() {
	od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
}

write_daemon_config() { # write_daemon_config MODE
	daemon_files
	: >"$WORK/empty.log"
	{
		daemon_conf_start
		cat <<-EOF

			[rules]
			dictionary_guesses = 3
			dictionary_window = 10m

			[policy]
			weak_passwords = $1
			hash_nonce = $NONCE
			weak_message = $MESSAGE

			[source empty]
			path = $WORK/empty.log
		EOF
	} >"$CONF"
}

# The users' file, as an operator changes it; Dovecot's passwd-file reads it again when it changes.
write_users() { # write_users DAVE_PASSWORD
	cat >"$DOVE/users.new" <<-EOF
		bob:{PLAIN}$BOB_PW:65534:65534::$DOVE/mail/bob::
		carol:{PLAIN}$CAROL_PW:65534:65534::$DOVE/mail/carol::
		dave:{PLAIN}$1:65534:65534::$DOVE/mail/dave::
		erin:{PLAIN}$ERIN_PW:65534:65534::$DOVE/mail/erin::
		frank:{PLAIN}$FRANK_PW:65534:65534::$DOVE/mail/frank::
	EOF
	chmod 644 "$DOVE/users.new"
	mv "$DOVE/users.new" "$DOVE/users"
}

e2e_setup() {
	ERIN_PW=$(random_password)
	DAVE_NEW_PW=$(random_password)
	NONCE=$(random_password)$(random_password)
	OUT=$WORK/printed
	ip -n "$CLI1" addr add "$GUESS_ADDR/24" dev c1
	sed -e "s/^auth_policy_hash_nonce = .*/auth_policy_hash_nonce = $NONCE/" \
		-e 's/^#auth_policy_hash_truncate = 0$/auth_policy_hash_truncate = 0/' \
		-e "s|</var/lib/xdpban/|<$STATE_DIR/|" "$SNIPPET" >"$WORK/dovecot-policy.conf"
	write_dovecot_config "!include $WORK/dovecot-policy.conf"
	write_users "$DAVE_PW"
	write_daemon_config report
	start_daemon
	start_dovecot
}

e2e_teardown() {
	stop_dovecot_and_daemon
}

# xb, its output kept for the search at the end.
xb_kept() {
	xb "$@" | tee -a "$OUT"
}

listed() { # listed ACCOUNT: `xdpban weak` lists it; its class in $WORK/class
	xb_kept --json weak | jq -er --arg a "$1" '.weak[] | select(.account == $a) | .class' \
		>"$WORK/class"
}

metric() { # metric SAMPLE: its value in /metrics, kept
	in_ns "$SRV" curl -sf -H "X-API-Key: $(cat "$STATE_DIR/policy.key")" http://127.0.0.1:8643/metrics |
		tee -a "$OUT" | sample_value "$1"
}

judged_at_least() { # judged_at_least N
	[ "$(metric xdpban_weak_judgements_total)" -ge "$1" ] 2>/dev/null
}

test_dovecot_sends_the_whole_hash() {
	check_eq "Dovecot's effective auth_policy_hash_truncate is 0" 0 \
		"$(doveconf -c "$DOVE_CONF" -h auth_policy_hash_truncate)"
	check_eq "the snippet differs only by the nonce, the key's directory and the uncommented truncate line" 3 \
		"$(diff "$SNIPPET" "$WORK/dovecot-policy.conf" | grep -c '^>')"
	check "the dictionary is Debian's cracklib-small, with dave's and frank's words" \
		eval "grep -qx sunshine $DICTIONARY && grep -qx monkey $DICTIONARY"
}

test_weak_logins_are_listed() {
	check "dave logs in over IMAP with a dictionary word" \
		logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" dave "$DAVE_PW"
	check "dave is listed by xdpban weak" wait_until 10 listed dave
	check_eq "the rule that found it" "dictionary word" "$(cat "$WORK/class")"
	check "erin logs in with a long random password" \
		logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" erin "$ERIN_PW"
	check "frank logs in over POP3 with a capitalised word and digits" \
		logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" frank "$FRANK_PW" pop3
	check "frank is listed" wait_until 10 listed frank
	check_eq "frank's rule" "word + digits" "$(cat "$WORK/class")"
	check "all three logins were judged" wait_until 10 judged_at_least 3
	check_not "erin is not listed" listed erin
	check "dave logs in again with the same password: not judged again" \
		logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" dave "$DAVE_PW"
	sleep 1
	check_eq "/metrics: 3 judgements, 2 accounts listed" "3 2" \
		"$(metric xdpban_weak_judgements_total) $(metric xdpban_weak_password_accounts)"
	check_eq "the daemon logged each listing once" "1 1" \
		"$(grep -c 'account dave logged in with a password' "$DAEMON_ERR") $(grep -c 'account frank logged in with a password' "$DAEMON_ERR")"
}

test_a_new_password_clears_the_listing() {
	write_users "$DAVE_NEW_PW"
	check "dave logs in with his new password" \
		logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" dave "$DAVE_NEW_PW"
	check "dave's listing is cleared" wait_until 10 eval '! listed dave'
	check "frank is still listed" listed frank
	check_eq "xdpban weak --all keeps dave's listing as history" "cleared password changed" \
		"$(xb_kept --json weak --all |
			jq -r '.weak[] | select(.account == "dave") | "\(.state) \(.clear_reason)"')"
	check_eq "/metrics: 1 account listed, 1 cleared" "1 1" \
		"$(metric xdpban_weak_password_accounts) $(metric xdpban_weak_cleared_total)"
}

guesses_of() { # guesses_of ADDR: dictionary guesses xdpban weak --guesses counts
	xb_kept --json weak | jq -r --arg a "$1" '[.dictionary_guesses[] | select(.address == $a) | .count] | add // 0'
}

# fail_with NS DST SRC USER PASSWORD: one failed IMAP login with that password.
fail_with() {
	local status=0
	in_ns "$1" perl "$MAIL_CLIENT" imap login "$2" "$3" "$4" "$5" >"$WORK/fail.out" 2>&1 ||
		status=$?
	[ "$status" -eq 1 ]
}

test_dictionary_guesses_ban() {
	check "a wrong password that is no word fails" \
		fail_with "$CLI1" "$SRV_IP1" "$GUESS_ADDR" bob "x9$(random_password)"
	check "a failed login guessing 'dragon' for bob fails" \
		fail_with "$CLI1" "$SRV_IP1" "$GUESS_ADDR" bob dragon
	check "and 'monkey' for carol" fail_with "$CLI1" "$SRV_IP1" "$GUESS_ADDR" carol monkey
	check "2 dictionary guesses counted for the address" \
		wait_until 10 eval "[ \"\$(guesses_of $GUESS_ADDR)\" = 2 ]"
	check_eq "/metrics counts them per address" 2 \
		"$(metric "xdpban_dictionary_guesses{address=\"$GUESS_ADDR\"}")"
	check_not "2 guesses: not banned" banned "$GUESS_ADDR"
	check "a third, 'sunshine' for dave" fail_with "$CLI1" "$SRV_IP1" "$GUESS_ADDR" dave sunshine
	check "the third dictionary guess bans the address" wait_until 10 banned "$GUESS_ADDR"
	check "the daemon said why" daemon_said \
		"ban $GUESS_ADDR for 5m: 3 failed logins guessing dictionary words"
	check_eq "the ban is in the history with reason dictionary" dictionary \
		"$(xb_kept --json history "$GUESS_ADDR" | jq -r '.history[0].reason')"
}

# A report whose pwhash is Dovecot's default 12 bits, as a Dovecot without the line sends it.
report_truncated() {
	in_ns "$SRV" curl -sf -o /dev/null -H 'Content-Type: application/json' \
		-H "X-API-Key: $(cat "$STATE_DIR/policy.key")" \
		--data '{"login":"bob","pwhash":"0da4","remote":"192.0.2.9","protocol":"imap","success":true,"policy_reject":false}' \
		'http://127.0.0.1:8643/?command=report'
}

test_a_truncated_hash_is_said_once() {
	check "a report with a 12-bit pwhash is taken" report_truncated
	check "and another" report_truncated
	check "the daemon names the Dovecot setting" wait_until 5 daemon_said \
		"add 'auth_policy_hash_truncate = 0' to Dovecot's config"
	check_eq "once" 1 "$(grep -c 'auth_policy_hash_truncate = 0' "$DAEMON_ERR")"
	check_eq "/metrics counts both" 2 "$(metric xdpban_weak_truncated_total)"
}

reloaded() {
	daemon_said "reloaded $CONF"
}

test_refuse_only_the_listed_password() {
	write_daemon_config refuse
	kill -HUP "$DAEMON_PID"
	check "SIGHUP: weak_passwords = refuse" wait_until 5 reloaded
	check_not "frank's listed password is refused" \
		logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" frank "$FRANK_PW"
	check "with the configured message" grep -qF "$MESSAGE" "$WORK/mail.out"
	check "over POP3 too" eval "! logs_in '$CLI2' '$SRV_IP2' '$CLI2_IP' frank '$FRANK_PW' pop3"
	check "frank's wrong password fails as a wrong one, not with the message" \
		eval "fail_with '$CLI2' '$SRV_IP2' '$CLI2_IP' frank wrong && ! grep -qF 'change it' '$WORK/fail.out'"
	check "erin logs in" logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" erin "$ERIN_PW"
	check "dave, cleared, logs in" logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" dave "$DAVE_NEW_PW"
	check "bob logs in" logs_in "$CLI2" "$SRV_IP2" "$CLI2_IP" bob "$BOB_PW"
	check_ge "/metrics counts the refusals" \
		"$(metric 'xdpban_policy_answers_total{answer="reject_weak"}')" 2
}

test_the_listing_outlives_the_daemon() {
	stop_daemon
	check "xdpban weak reads the store with the daemon stopped" listed frank
	check_eq "frank's rule is kept" "word + digits" "$(cat "$WORK/class")"
	start_daemon
	check "the daemon comes back" daemon_answers
	check_eq "and counts frank listed" 1 "$(metric xdpban_weak_password_accounts)"
}

# grep -r for each plaintext password in the state directory, the daemon's
# log and everything xdpban printed (the store, its WAL, the JSON, /metrics).
test_no_password_anywhere() {
	local pw where
	xb_kept --json weak --all >/dev/null
	xb_kept weak --all >/dev/null
	xb_kept weak --guesses >/dev/null
	xb_kept --json history >/dev/null
	for pw in "$DAVE_PW" "$FRANK_PW" "$ERIN_PW" "$DAVE_NEW_PW" dragon monkey; do
		where=$(grep -rlaF -- "$pw" "$STATE_DIR" "$DAEMON_ERR" "$OUT" 2>/dev/null || true)
		check_eq "'$pw' is in no file of the state directory, log or output" "" "$where"
	done
	check "the state directory was searched: it holds the store" test -s "$STATE_DIR/xdpban.db"
}

test_quiet_daemon() {
	check "the daemon logged no error" eval "! grep -F 'xdpban[error]' '$DAEMON_ERR'"
	check "Dovecot's auth process logged no error (the policy server answered)" \
		eval "! grep -E 'auth: (Error|Fatal):' '$DOVE_LOG'"
}

e2e_main test_dovecot_sends_the_whole_hash test_weak_logins_are_listed \
	test_a_new_password_clears_the_listing test_dictionary_guesses_ban \
	test_a_truncated_hash_is_said_once test_refuse_only_the_listed_password \
	test_the_listing_outlives_the_daemon test_no_password_anywhere test_quiet_daemon
