#!/bin/bash
# Dovecot 2.4 (Debian 13's dovecot-core and dovecot-imapd, in a chroot made
# with `debootstrap trixie` from Debian's archive) against xdpban: Dovecot's
# config includes docs/dovecot-policy-2.4.conf with only its nonce replaced,
# and the daemon answers its auth policy requests and follows its log. Heavy
# (the first run downloads Debian 13's base system, ~5 minutes), so not in
# `make check`: `make check-dovecot24`. TRIXIE_ROOT (default
# /var/lib/xdpban/trixie) keeps the chroot between runs; FIXTURE_OUT=FILE
# copies the Dovecot 2.4 log of the run there (tests/fixtures/logs/dovecot24.log).
# Checked: Dovecot 2.4 accepts the file (the request attributes block, the
# new variable names); 4 wrong passwords from one address do not ban it, the
# fifth does, each counted once although the policy reports it and the log
# says it; the banned client's SYN is dropped; `xdpban logtest` reads 2.4's
# log lines ("Login aborted: ... (auth_failed)", "auth(user,ip,sasl:plain)").
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/../e2e/lib.sh"

E2E_GREETER=no # Dovecot listens on port 143
ROOT=${TRIXIE_ROOT:-/var/lib/xdpban/trixie}
SNIPPET=$REPO/docs/dovecot-policy-2.4.conf
IN_ROOT=/xdpban-e2e-$$ # this run's files, inside the chroot
D24="" # the same, seen from outside

make_root() {
	[ -x "$ROOT/usr/sbin/dovecot" ] && [ -x "$ROOT/usr/lib/dovecot/imap" ] && return 0
	if ! command -v debootstrap >/dev/null; then
		echo "Bail out! debootstrap missing: scripts/install-deps.sh --trixie"
		exit 1
	fi
	diag "making a Debian 13 chroot in $ROOT (debootstrap trixie, a few minutes)"
	mkdir -p "$ROOT"
	if ! debootstrap --variant=minbase --include=dovecot-core,dovecot-imapd trixie "$ROOT" \
		http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1; then
		echo "Bail out! debootstrap trixie from deb.debian.org failed: $(tail -n 3 "$WORK/debootstrap.log" | tr '\n' ' ')"
		exit 1
	fi
}

in_root() { chroot "$ROOT" "$@"; }

json_says() { # json_says FILTER FILE: jq -s's FILTER over FILE's JSON lines holds
	jq -se "$1" "$2" >/dev/null
}

write_dovecot24_config() {
	local nonce
	D24=$ROOT$IN_ROOT
	mkdir -p "$D24/run" "$D24/state" "$D24/mail"
	chmod 755 "$D24"
	chmod 1777 "$D24/mail"
	echo "bob:{PLAIN}$BOB_PW" >"$D24/users"
	chmod 644 "$D24/users"
	nonce=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	# The key the daemon makes is read inside Dovecot's root: copied there.
	sed -e "s/^auth_policy_hash_nonce = .*/auth_policy_hash_nonce = $nonce/" \
		-e "s|</var/lib/xdpban/policy.key|<$IN_ROOT/policy.key|" "$SNIPPET" >"$D24/policy.conf"
	cat >"$D24/dovecot.conf" <<-EOF
		dovecot_config_version = 2.4.0
		dovecot_storage_version = 2.4.0
		base_dir = $IN_ROOT/run
		state_dir = $IN_ROOT/state
		log_path = $IN_ROOT/dovecot.log
		protocols = imap
		listen = $SRV_IP1
		auth_mechanisms = plain login
		auth_allow_cleartext = yes
		auth_verbose = yes
		auth_failure_delay = 0
		ssl = no
		default_internal_user = dovecot
		default_login_user = dovenull
		first_valid_uid = 100
		mail_driver = maildir
		mail_path = $IN_ROOT/mail/%{user}
		passdb passwd-file {
		  passwd_file_path = $IN_ROOT/users
		}
		userdb static {
		  fields {
		    uid = dovecot
		    gid = dovecot
		    home = $IN_ROOT/mail/%{user}
		  }
		}
		service anvil {
		  unix_listener anvil-auth-penalty {
		    mode = 0
		  }
		}
		!include $IN_ROOT/policy.conf
	EOF
}

write_daemon_config() {
	daemon_files
	{
		daemon_conf_start
		cat <<-EOF
			[rules]
			ip_failures = 5
			ip_window = 60s
			ip_bantime = 1m
			# [policy] as shipped: listen = 127.0.0.1:8643, the snippet's URL.
			[source dovecot24]
			path = $D24/dovecot.log
		EOF
	} >"$CONF"
}

e2e_setup() {
	make_root
	write_dovecot24_config
	write_daemon_config
	write_mail_client
	: >"$D24/dovecot.log"
	start_daemon
	install -m 600 "$STATE_DIR/policy.key" "$D24/policy.key"
	nsenter --net="/run/netns/$SRV" chroot "$ROOT" /usr/sbin/dovecot -c "$IN_ROOT/dovecot.conf"
	if ! wait_until 10 listening "$SRV" "$SRV_IP1:143"; then
		diag "Dovecot 2.4 did not start listening; its log:"
		sed 's/^/#   /' "$D24/dovecot.log"
		return 1
	fi
}

e2e_teardown() {
	[ -z "$D24" ] || [ ! -e "$D24/run/master.pid" ] ||
		in_root doveadm -c "$IN_ROOT/dovecot.conf" stop >/dev/null 2>&1 || true
	[ -z "$DAEMON_PID" ] || stop_daemon >/dev/null 2>&1
	if [ -n "$D24" ] && [ -n "${FIXTURE_OUT:-}" ]; then
		cp "$D24/dovecot.log" "$FIXTURE_OUT"
	fi
	[ -z "$D24" ] || rm -rf "$D24"
}

# dovecot24_setting KEY: its value in `doveconf -n -P` (2.4 nests auth_policy_* in a block)
dovecot24_setting() {
	in_root doveconf -c "$IN_ROOT/dovecot.conf" -n -P 2>/dev/null | sed -n "s/^ *$1 = //p" | head -n 1
}

test_dovecot24_takes_the_file() {
	check_eq "Dovecot 2.4's effective policy server_url is the file's" \
		"$(sed -n 's/^auth_policy_server_url = //p' "$SNIPPET")" "$(dovecot24_setting server_url)"
	check_eq "its nonce is this run's" \
		"$(sed -n 's/^auth_policy_hash_nonce = //p' "$D24/policy.conf")" \
		"$(dovecot24_setting hash_nonce)"
	check_eq "its request attributes are the file's block (remote)" "%{remote_ip}" \
		"$(dovecot24_setting remote)"
	check_eq "its request attributes are the file's block (protocol)" "%{protocol}" \
		"$(dovecot24_setting protocol)"
}

test_failures_ban_through_policy_and_log() {
	check "bob logs in with the right password" logs_in "$CLI1" "$SRV_IP1" "$CLI1_IP" bob "$BOB_PW"
	fail_logins 4 "$CLI1" "$SRV_IP1" "$CLI1_IP" bob
	sleep 1
	# reported by the policy and written in the log: counted twice, 4 would ban
	check_not "4 failures: not banned (each counted once)" banned "$CLI1_IP"
	fail_logins 1 "$CLI1" "$SRV_IP1" "$CLI1_IP" bob
	check "the fifth bans the client" wait_until 10 banned "$CLI1_IP"
	check "its SYN is dropped by XDP" syn_dropped "$CLI1" "$SRV_IP1" "$CLI1_IP"
}

test_logtest_reads_dovecot24() {
	local out=$WORK/logtest.json
	"$XDPBAN" logtest --source dovecot "$D24/dovecot.log" >"$out"
	check "logtest: 2.4's log holds the 5 failures, each once, and bob's login" \
		json_says 'last.attempts == 5 and last.successes == 1' "$out"
	# the auth lines counted them: the login process's lines alone count them too
	grep 'imap-login: Info: Login aborted: ' "$D24/dovecot.log" >"$WORK/aborted.log"
	"$XDPBAN" logtest --source dovecot "$WORK/aborted.log" >"$out"
	check "logtest: 2.4's Login aborted lines alone: the 5 failures, imap" \
		json_says 'map(select(.outcome == "fail" and .service == "imap")) | length == 5' "$out"
}

e2e_main test_dovecot24_takes_the_file test_failures_ban_through_policy_and_log test_logtest_reads_dovecot24
