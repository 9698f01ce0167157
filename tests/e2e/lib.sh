# shellcheck shell=bash
# Shared by the end-to-end tests: sourced, never run.
#
# Topology, bridge-free, one veth pair per client, documentation addresses only:
#
#   xb-cli1-$$  c1 192.0.2.2/24     2001:db8:1::2/64 --- s1 192.0.2.1     2001:db8:1::1  xb-srv-$$
#   xb-cli2-$$  c2 198.51.100.2/24  2001:db8:2::2/64 --- s2 198.51.100.1  2001:db8:2::1  (xdpban, socat)
#
# xdpban is attached to s1 and s2, so it judges what the clients send to the
# server. Nothing is created in, or sent to, the host's own network namespace.
#
# xdpban runs through nsenter --net, not `ip netns exec`: the latter remounts
# /sys in a private mount namespace, and the pins made there would vanish
# with it. Each run has its own pin directory, so it never touches a real
# installation or a concurrent run.
#
# Output is TAP-like: "ok N - name" / "not ok N - name", diagnostics as "# ...",
# the plan "1..N" last. The exit status is non-zero when a test failed.

set -eEu

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
XDPBAN=${XDPBAN:-$REPO/build/xdpban}

SRV=xb-srv-$$
CLI1=xb-cli1-$$
CLI2=xb-cli2-$$
PIN=/sys/fs/bpf/xdpban-e2e-$$

SRV_IP1=192.0.2.1
CLI1_IP=192.0.2.2
SRV_IP2=198.51.100.1
CLI2_IP=198.51.100.2
SRV_IP6_1=2001:db8:1::1
CLI1_IP6=2001:db8:1::2
SRV_IP6_2=2001:db8:2::1
CLI2_IP6=2001:db8:2::2

DEFAULT_PORTS=25,110,143,465,587,993,995,4190

TESTS_RUN=0
TESTS_FAILED=0
BG_PIDS=()
WORK=""
STATE_DIR="" # xdpban's --state-dir: $WORK/state, so no run touches /var/lib/xdpban

# --- TAP output ---------------------------------------------------------------

diag() {
	local line
	for line in "$@"; do
		printf '# %s\n' "$line"
	done
}

pass() {
	TESTS_RUN=$((TESTS_RUN + 1))
	printf 'ok %d - %s\n' "$TESTS_RUN" "$1"
}

# fail NAME [DIAGNOSTIC...]
fail() {
	TESTS_RUN=$((TESTS_RUN + 1))
	TESTS_FAILED=$((TESTS_FAILED + 1))
	printf 'not ok %d - %s\n' "$TESTS_RUN" "$1"
	shift
	diag "$@"
}

# check NAME CMD...: passes when CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "failed: $*"; fi
}

# check_not NAME CMD...: passes when CMD fails.
check_not() {
	local name=$1
	shift
	if "$@"; then fail "$name" "unexpectedly succeeded: $*"; else pass "$name"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected: $2" "     got: $3"
	fi
}

# check_ge NAME ACTUAL MINIMUM (integers)
check_ge() {
	if [ "$2" -ge "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected at least $3, got $2"
	fi
}

# --- processes and namespaces -------------------------------------------------

in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# xb ARGS...: xdpban in the server namespace, on this run's pins and state
# directory.
xb() {
	in_ns "$SRV" "$XDPBAN" --pin-dir "$PIN" ${STATE_DIR:+--state-dir "$STATE_DIR"} "$@"
}

# spawn_reading FILE NS CMD...: a background process reading FILE, ended by
# the cleanup. (A redirection around the call would not reach it: bash gives
# background commands /dev/null unless the command itself redirects stdin.)
spawn_reading() {
	local input=$1 ns=$2
	shift 2
	in_ns "$ns" "$@" <"$input" &
	BG_PIDS+=("$!")
}

# spawn NS CMD...: a background process, ended by the cleanup.
spawn() {
	spawn_reading /dev/null "$@"
}

quietly() {
	"$@" >/dev/null
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s; fails when SECONDS pass first.
wait_until() {
	local deadline=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

ns_exists() {
	[ -e "/run/netns/$1" ]
}

# Ends every process still inside a namespace: forked socat children hold
# connections open that no PID list of ours knows about.
kill_ns_processes() {
	local ns=$1 pids
	ns_exists "$ns" || return 0
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086 # one PID per word
	kill $pids 2>/dev/null || true
	sleep 0.2
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	# shellcheck disable=SC2086
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
}

# Runs on every exit, including failures, Ctrl-C and SIGTERM from a timeout.
cleanup() {
	local status=$? ns pid
	trap - EXIT INT TERM HUP ERR
	set +eE
	# A script may define e2e_teardown for processes of its own (stopped first).
	if declare -F e2e_teardown >/dev/null; then
		e2e_teardown
	fi
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for ns in "$CLI1" "$CLI2" "$SRV"; do
		kill_ns_processes "$ns"
	done
	wait 2>/dev/null
	if [ -d "$PIN" ] && ns_exists "$SRV"; then
		xb detach --all >/dev/null 2>&1
	fi
	for ns in "$CLI1" "$CLI2" "$SRV"; do
		ns_exists "$ns" && ip netns del "$ns"
	done
	rm -rf "$PIN"
	[ -z "$WORK" ] || rm -rf "$WORK"
	exit "$status"
}

# on_error STATUS LINE COMMAND: set -e is about to stop the script. A command
# killed by a signal (Ctrl-C, a timeout) needs no message of its own.
on_error() {
	[ "$1" -ge 128 ] || diag "error: '$3' exited with status $1 (line $2); stopping this script"
}

install_traps() {
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	trap 'on_error "$?" "$LINENO" "$BASH_COMMAND"' ERR
}

mount_bpffs() {
	mount | grep -q ' /sys/fs/bpf ' || mount -t bpf bpf /sys/fs/bpf
}

# link_pair SRV_IF CLIENT_NS CLIENT_IF SRV_IP CLIENT_IP SRV_IP6 CLIENT_IP6
link_pair() {
	local srv_if=$1 cli_ns=$2 cli_if=$3
	ip -n "$SRV" link add "$srv_if" type veth peer name "$cli_if" netns "$cli_ns"
	ip -n "$SRV" addr add "$4/24" dev "$srv_if"
	ip -n "$cli_ns" addr add "$5/24" dev "$cli_if"
	# nodad: the addresses are usable at once, no 1-2 s duplicate detection.
	ip -n "$SRV" addr add "$6/64" dev "$srv_if" nodad
	ip -n "$cli_ns" addr add "$7/64" dev "$cli_if" nodad
	ip -n "$SRV" link set "$srv_if" up
	ip -n "$cli_ns" link set "$cli_if" up
}

setup_topology() {
	local ns
	for ns in "$SRV" "$CLI1" "$CLI2"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	link_pair s1 "$CLI1" c1 "$SRV_IP1" "$CLI1_IP" "$SRV_IP6_1" "$CLI1_IP6"
	link_pair s2 "$CLI2" c2 "$SRV_IP2" "$CLI2_IP" "$SRV_IP6_2" "$CLI2_IP6"
}

# --- TCP: listeners and clients -----------------------------------------------

listening() {
	in_ns "$1" ss -Hltn | grep -q "$2 "
}

# listen NS PORT [SYSTEM-COMMAND]: IPv4 and IPv6 listeners, by default a
# greeter that sends "hi" and closes, like a mail server's banner.
listen() {
	local ns=$1 port=$2 command=${3:-echo hi}
	spawn "$ns" socat "TCP4-LISTEN:$port,fork,reuseaddr" "SYSTEM:$command"
	spawn "$ns" socat "TCP6-LISTEN:$port,fork,reuseaddr,ipv6only=1" "SYSTEM:$command"
	wait_until 5 listening "$ns" "0.0.0.0:$port"
	wait_until 5 listening "$ns" "\[::\]:$port"
}

socat_address() {
	case $1 in
	*:*) echo "TCP6:[$1]:$2" ;;
	*) echo "TCP4:$1:$2" ;;
	esac
}

# connects NS HOST PORT [TIMEOUT]: succeeds when the greeting arrives.
connects() {
	local ns=$1 host=$2 port=$3 timeout=${4:-1} greeting
	greeting=$(timeout 15 nsenter --net="/run/netns/$ns" \
		socat -u "$(socat_address "$host" "$port"),connect-timeout=$timeout" - 2>/dev/null) ||
		return 1
	[ "$greeting" = hi ]
}

# A connection attempt that gets no answer: the SYNs were dropped. A refused
# or reset connection would fail fast and is not a drop, so it does not count.
times_out() {
	local ns=$1 host=$2 port=$3 timeout=${4:-1} started elapsed
	started=$(now_ms)
	! connects "$ns" "$host" "$port" "$timeout" || return 1
	elapsed=$(($(now_ms) - started))
	[ "$elapsed" -ge $((${timeout%%.*} * 900)) ]
}

# --- xdpban state ---------------------------------------------------------------

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

# Returns the maps to a clean state between tests, so one failure does not
# leak into the next test.
reset_state() {
	local prefixes
	prefixes=$(xb --json list | jq -r '.bans[].prefix')
	# shellcheck disable=SC2086 # one prefix per word
	[ -z "$prefixes" ] || xb unban $prefixes >/dev/null
	prefixes=$(xb --json list | jq -r '.allowlist[].prefix')
	# shellcheck disable=SC2086
	[ -z "$prefixes" ] || xb unallow $prefixes >/dev/null
	xb scope syn >/dev/null
	xb ports set "$DEFAULT_PORTS" >/dev/null
}

# --- the script's frame -----------------------------------------------------------

tap_finish() {
	printf '1..%d\n' "$TESTS_RUN"
	if [ "$TESTS_FAILED" -ne 0 ]; then
		exit 1
	fi
	exit 0
}

# lab_up: what every script (and scripts/demo.sh) stands on: traps that clean
# everything up however the script ends, a work directory, bpffs, the
# namespaces, and xdpban attached to the server's side of both pairs.
lab_up() {
	install_traps
	WORK=$(mktemp -d /tmp/xdpban-e2e.XXXXXX)
	STATE_DIR=$WORK/state
	mount_bpffs
	setup_topology
	xb attach s1 >/dev/null
	xb attach s2 >/dev/null
}

# e2e_main TEST_FUNCTION...: sets up, runs each test on clean maps, reports.
# E2E_ONLY=NAME runs one of them: `E2E_ONLY=test_unban bash tests/e2e/test_ban.sh`.
e2e_main() {
	local test
	if [ "$(id -u)" -ne 0 ]; then
		echo "1..0 # SKIP: needs root (BPF, netns)"
		exit 0
	fi
	if [ ! -x "$XDPBAN" ]; then
		echo "Bail out! $XDPBAN is not built (run make)"
		exit 1
	fi
	lab_up
	# E2E_GREETER=no: the script puts its own server on port 143.
	if [ "${E2E_GREETER:-yes}" = yes ]; then
		listen "$SRV" 143
	fi
	# A script may define e2e_setup for listeners of its own.
	if declare -F e2e_setup >/dev/null; then
		e2e_setup
	fi
	for test in "$@"; do
		if [ -n "${E2E_ONLY:-}" ] && [ "$E2E_ONLY" != "$test" ]; then
			continue
		fi
		diag "$test"
		reset_state
		"$test"
	done
	tap_finish
}

# --- a daemon under test (xdpban run), for the scripts that need one -------------

CONF=""       # the daemon's config
CTL=""        # its control socket
DAEMON_ERR="" # its stderr
DAEMON_PID=""

# Names the daemon's files inside $WORK.
daemon_files() {
	CONF=$WORK/xdpban.conf
	CTL=$WORK/ctl.sock
	DAEMON_ERR=$WORK/daemon.err
}

ctl() {
	printf '%s\n' "$1" | socat -t 60 - "UNIX-CONNECT:$CTL"
}

status() { # status JQ-FILTER: a field of the daemon's status
	ctl '{"cmd":"status"}' | jq -r "$1"
}

daemon_answers() {
	[ -S "$CTL" ] && [ "$(status .ok 2>/dev/null)" = true ]
}

start_daemon() {
	# nsenter itself, not through in_ns: a function in the background would be
	# a subshell, and $! its PID instead of the daemon's (nsenter execs it).
	nsenter --net="/run/netns/$SRV" "$XDPBAN" run -c "$CONF" </dev/null 2>>"$DAEMON_ERR" &
	DAEMON_PID=$!
	BG_PIDS+=("$DAEMON_PID")
	if ! wait_until 10 daemon_answers; then
		diag "the daemon did not answer on $CTL; its stderr:"
		sed 's/^/#   /' "$DAEMON_ERR"
		return 1
	fi
}

daemon_gone() {
	! kill -0 "$DAEMON_PID" 2>/dev/null
}

# stop_daemon: SIGTERM, then waits; returns the daemon's exit status.
stop_daemon() {
	local status=0 pid kept=()
	[ -n "$DAEMON_PID" ] || return 0
	for pid in "${BG_PIDS[@]}"; do # the cleanup must not kill a reused PID
		[ "$pid" = "$DAEMON_PID" ] || kept+=("$pid")
	done
	BG_PIDS=("${kept[@]}")
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	if ! wait_until 10 daemon_gone; then
		diag "the daemon ignored SIGTERM for 10 s"
		kill -KILL "$DAEMON_PID" 2>/dev/null || true
	fi
	wait "$DAEMON_PID" || status=$?
	DAEMON_PID=""
	return "$status"
}


# --- a real Dovecot (Debian's dovecot-imapd and dovecot-pop3d) -------------------
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

# --- the daemon's effects, for the scripts that run one ---------------------------

banned() { # banned ADDR: in the kernel's ban map
	xb --json list | jq -e --arg p "$1" 'any(.bans[]; .prefix == $p)' >/dev/null
}

allowlisted() { # allowlisted PREFIX: in the kernel's allowlist map
	xb --json list | jq -e --arg p "$1" 'any(.allowlist[]; .prefix == $p)' >/dev/null
}

# sample_value NAME: the value of sample NAME (labels as printed, e.g.
# 'xdpban_bans_active{kind="address"}') in a /metrics page on stdin; nothing
# when the page lacks it.
sample_value() {
	awk -v name="$1" '$1 == name { print $2 }'
}

daemon_said() { # daemon_said TEXT: the daemon's stderr has TEXT
	grep -qF -- "$1" "$DAEMON_ERR"
}

# daemon_conf_start: the first lines of a daemon config, [daemon] with this
# run's pins, state directory and control socket; the caller goes on with
# [daemon] keys of its own. Call daemon_files first.
daemon_conf_start() {
	cat <<-EOF
		# xdpban daemon under test ($(basename "$0"))
		[daemon]
		pin_dir = $PIN
		state_dir = $STATE_DIR
		control_socket = $CTL
	EOF
}

# check_xdp_drops WHO NS DST SRC: two checks, that a connection from SRC to
# DST's port 143 gets no answer and that drop_ban counted its SYNs.
check_xdp_drops() {
	local drops
	drops=$(stat_packets drop_ban)
	check "$1's next connection to port 143 times out (SYN dropped)" syn_dropped "$2" "$3" "$4"
	check_ge "drop_ban counted $1's SYNs" $(($(stat_packets drop_ban) - drops)) 1
}
