# shellcheck shell=bash
# A real Dovecot (Debian's dovecot-imapd and dovecot-pop3d) and a mail client
# (sourced by tests/e2e/lib.sh, never run).
#
# A private instance from a config in the run's directory (its own base_dir,
# state_dir, passwd-file and log_path) in the server's namespace: never the
# system's /etc/dovecot or its service. Its auth penalty (anvil delays the
# next login of an address by up to 15 s after failures) is switched off, so
# a failed login takes about half a second (the auth process flushes
# failures every 500 ms).

BOB_PW=bob-Secret-7 # the passwd-file's two users
CAROL_PW=carol-Secret-8
DOVE=""        # Dovecot's directory
DOVE_CONF=""   # its config
DOVE_LOG=""    # the log it writes
MAIL_CLIENT="" # mail.pl: one IMAP or POP3 connection

# write_dovecot_config [EXTRA]: the config, with the text EXTRA appended.
write_dovecot_config() {
	DOVE=$WORK/dovecot
	DOVE_LOG=$WORK/log/dovecot.log
	DOVE_CONF=$DOVE/dovecot.conf
	mkdir -p "$DOVE/run" "$DOVE/state" "$DOVE/mail" "$WORK/log"
	# The auth process (user dovecot) reads the passwd-file, the mail
	# processes (uid 65534) their home: both need the way in.
	chmod 755 "$WORK" "$DOVE"
	chmod 1777 "$DOVE/mail"
	cat >"$DOVE/users" <<-EOF
		bob:{PLAIN}$BOB_PW:65534:65534::$DOVE/mail/bob::
		carol:{PLAIN}$CAROL_PW:65534:65534::$DOVE/mail/carol::
	EOF
	chmod 644 "$DOVE/users"
	cat >"$DOVE_CONF" <<-EOF
		protocols = imap pop3
		listen = $SRV_IP1, $SRV_IP2, $SRV_IP6_1, $SRV_IP6_2
		base_dir = $DOVE/run
		state_dir = $DOVE/state
		ssl = no
		disable_plaintext_auth = no
		auth_mechanisms = plain login
		auth_verbose = yes
		auth_failure_delay = 0
		log_path = $DOVE_LOG
		mail_location = maildir:$DOVE/mail/%n
		passdb {
		  driver = passwd-file
		  args = $DOVE/users
		}
		userdb {
		  driver = passwd-file
		  args = $DOVE/users
		}
		# No auth penalty: without the listener, the auth process has no anvil.
		service anvil {
		  unix_listener anvil-auth-penalty {
		    mode = 0
		  }
		}
		${1:-}
	EOF
	write_mail_client
}

start_dovecot() {
	in_ns "$SRV" dovecot -c "$DOVE_CONF"
	if ! wait_until 10 listening "$SRV" "$SRV_IP1:143" ||
		! wait_until 5 listening "$SRV" "$SRV_IP2:110"; then
		diag "Dovecot did not start listening; its log:"
		sed 's/^/#   /' "$DOVE_LOG" 2>/dev/null
		return 1
	fi
}

stop_dovecot() {
	[ -n "$DOVE" ] && [ -e "$DOVE/run/master.pid" ] || return 0
	doveadm -c "$DOVE_CONF" stop >/dev/null 2>&1
	wait_until 5 test ! -e "$DOVE/run/master.pid"
}

# stop_dovecot_and_daemon: the e2e_teardown of a script running Dovecot
# in front of a daemon; after a failed check, the end of both logs.
stop_dovecot_and_daemon() {
	local line
	stop_dovecot
	stop_daemon_and_report
	if [ "$TESTS_FAILED" -ne 0 ]; then
		diag "Dovecot's log (last 30 lines):"
		tail -n 30 "$DOVE_LOG" 2>/dev/null | while IFS= read -r line; do diag "  $line"; done
	fi
}

# mail.pl PROTO ACTION DST SRC [USER PASS]: one IMAP or POP3 connection from
# SRC. ACTION greet: read the greeting and log out; login: log in. Exit
# status: 0 greeted / logged in, 1 login refused, 2 the connect timed out (no
# answer to the SYN), 3 it failed otherwise, 4 protocol trouble.
write_mail_client() {
	MAIL_CLIENT=$WORK/mail.pl
	cat >"$MAIL_CLIENT" <<-'EOF'
		use strict;
		use warnings;
		use IO::Socket::IP;
		my ($proto, $action, $dst, $src, $user, $pass) = @ARGV;
		my $timeout = $ENV{CONNECT_TIMEOUT} || 1;
		$SIG{ALRM} = sub { print "no answer in the dialogue\n"; exit 4 };
		alarm 20;
		my $s = IO::Socket::IP->new(PeerHost => $dst, PeerPort => $proto eq 'pop3' ? 110 : 143,
			LocalHost => $src, Timeout => $timeout);
		if (!$s) {
			my $timed_out = $!{ETIMEDOUT} || ($@ // '') =~ /timed out/i;
			print "connect: $@\n";
			exit($timed_out ? 2 : 3);
		}
		$s->autoflush(1);
		sub answer { my $re = shift; while (defined(my $l = <$s>)) { return $l if $l =~ $re } return "EOF" }
		my $greeting = <$s> // "EOF";
		my $result;
		if ($proto eq 'pop3') {
			exit 4 unless $greeting =~ /^\+OK/;
			if ($action eq 'login') {
				print $s "USER $user\r\n";
				answer(qr/^[+-]/);
				print $s "PASS $pass\r\n";
				$result = answer(qr/^[+-]/);
			}
			print $s "QUIT\r\n";
			answer(qr/^[+-]/);
		} else {
			exit 4 unless $greeting =~ /^\* OK/;
			if ($action eq 'login') {
				print $s "a LOGIN $user $pass\r\n";
				$result = answer(qr/^a /);
			}
			print $s "b LOGOUT\r\n";
			answer(qr/^b /);
		}
		exit 0 unless defined $result;
		$result =~ s/\r?\n$//;
		print "$result\n";
		exit($result =~ /^(a OK|\+OK)/ ? 0 : $result =~ /^(a NO|-ERR)/ ? 1 : 4);
	EOF
}

# mail PROTO ACTION NS DST SRC [USER PASS]: mail.pl in NS; its answer in $WORK/mail.out.
mail() {
	local proto=$1 action=$2 ns=$3
	shift 3
	in_ns "$ns" perl "$MAIL_CLIENT" "$proto" "$action" "$@" >"$WORK/mail.out" 2>&1
}

logs_in() { # logs_in NS DST SRC USER PASS [PROTO]: an IMAP (or PROTO) login succeeds
	mail "${6:-imap}" login "$1" "$2" "$3" "$4" "$5"
}

greets() { # greets NS DST SRC: Dovecot's IMAP greeting arrives
	mail imap greet "$@"
}

# syn_dropped NS DST SRC: a connection to port 143 gets no answer within 1 s.
syn_dropped() {
	local status=0
	mail imap greet "$@" || status=$?
	[ "$status" -eq 2 ]
}

# fail_logins N NS DST SRC USER [PROTO]: N failed logins (wrong password), one
# connection each, all at once; every one must be refused.
fail_logins() {
	local n=$1 ns=$2 dst=$3 src=$4 user=$5 proto=${6:-imap} i pids=() bad=0 pid
	for ((i = 0; i < n; i++)); do
		in_ns "$ns" perl "$MAIL_CLIENT" "$proto" login "$dst" "$src" "$user" wrong \
			>"$WORK/fail.$i" 2>&1 </dev/null &
		pids+=("$!")
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || [ "$?" -eq 1 ] || bad=1
	done
	if [ "$bad" -ne 0 ]; then
		diag "a login that should fail did not fail as expected:" "$(cat "$WORK"/fail.*)"
		return 1
	fi
}
