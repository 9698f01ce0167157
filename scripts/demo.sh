#!/bin/bash
# The whole product in about two minutes, safe to run on any Linux host as
# root: a real Dovecot (IMAP and POP3) behind xdpban in a server namespace, an
# attacker namespace guessing passwords, a user namespace logging in, the
# default country database with one country blocked, and a live line of
# events, bans and drops while it happens. It ends by printing what happened.
#
# It stands on the end-to-end tests' frame (tests/e2e/lib.sh): its own
# namespaces, pin directory, state directory and Dovecot instance (never the
# system's /etc/dovecot or a real xdpban installation), all removed when it
# ends, however it ends. Documentation addresses only:
#
#   attacker  192.0.2.2, 192.0.2.3, 2001:db8:1::2 ---+
#             203.0.113.50 (a bot in the blocked country)  +-- server: Dovecot, xdpban
#   user      198.51.100.2 ---------------------------+
#
# Times are scaled down for a demo in the daemon's config: tarpit 3 s.
set -eu

cd "$(dirname "$0")/.."
REPO=$PWD

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it attaches XDP programs and creates network namespaces)" >&2
	exit 1
fi

step() {
	printf '\n==> %s\n' "$*"
}

step "Installing the Debian packages the demo needs (scripts/install-deps.sh --tests: Dovecot too)"
scripts/install-deps.sh --tests
step "Building build/xdpban"
make --no-print-directory

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
PIN=/sys/fs/bpf/xdpban-demo-$$
BOT2_IP=192.0.2.3
BOT6_IP=$CLI1_IP6
GEO_BOT_IP=203.0.113.50
TARPIT=3
LIVE_PID=""

# demo_xb ARGS...: shows the command, then runs it on the server.
demo_xb() {
	printf '[server]# xdpban %s\n' "$*"
	xb "$@"
}

# attempt WHO PROTO SRC USER PASS: one login from the attacker's or the user's
# namespace, with what happened and how long it took.
attempt() {
	local who=$1 proto=$2 src=$3 user=$4 pass=$5 ns=$CLI1 dst=$SRV_IP1 status=0 started
	if [ "$who" = user ]; then
		ns=$CLI2 dst=$SRV_IP2
	fi
	case $src in *:*) dst=$SRV_IP6_1 ;; esac
	started=$(now_ms)
	mail "$proto" login "$ns" "$dst" "$src" "$user" "$pass" || status=$?
	printf '  %-8s %-4s %-15s %-6s %-14s -> ' "$who" "$proto" "$src" "$user" "$pass"
	case $status in
	0) printf 'logged in' ;;
	1) printf 'refused: %s' "$(tr -d '\r' <"$WORK/mail.out")" ;;
	2) printf 'no answer to the SYN (dropped by XDP)' ;;
	*) printf 'failed (%s)' "$(tr -d '\r' <"$WORK/mail.out")" ;;
	esac
	printf ' [%d ms]\n' $(($(now_ms) - started))
}

# metric NAME FILE: one sample's value in a saved /metrics page, 0 when absent.
metric() {
	local value
	value=$(sample_value "$1" <"$2")
	echo "${value:-0}"
}

# A line every second: what the daemon took in and what the XDP program dropped.
live_view() {
	local page=$WORK/live.prom started
	started=$(now_ms)
	while sleep 1; do
		in_ns "$SRV" curl -sf -m 1 -H "X-API-Key: $(cat "$STATE_DIR/policy.key")" \
			http://127.0.0.1:8643/metrics >"$page" || continue
		printf '  [live %3ds] failures %s  bans %s  blocked accounts %s  tarpits %s  dropped: ban %s geo %s\n' \
			$((($(now_ms) - started) / 1000)) \
			"$(metric xdpban_failures_total "$page")" \
			"$(metric 'xdpban_bans_active{kind="address"}' "$page")" \
			"$(metric xdpban_account_blocks_active "$page")" \
			"$(metric 'xdpban_policy_answers_total{answer="tarpit"}' "$page")" \
			"$(metric 'xdpban_packets_total{verdict="drop_ban"}' "$page")" \
			"$(metric 'xdpban_packets_total{verdict="drop_geo"}' "$page")"
	done
}

# lib.sh's cleanup calls this first, however the demo ends.
e2e_teardown() {
	[ -z "$LIVE_PID" ] || kill "$LIVE_PID" 2>/dev/null || true
	stop_dovecot
	[ -z "$DAEMON_PID" ] || stop_daemon >/dev/null 2>&1 || true
	echo
	echo "==> Cleaned up: namespaces, pins ($PIN), Dovecot, the daemon and $WORK are gone"
}

step "Namespaces: server $SRV, attacker $CLI1, user $CLI2; xdpban attached to the server's veths"
lab_up
ip -n "$CLI1" addr add "$BOT2_IP/24" dev c1
ip -n "$CLI1" addr add "$GEO_BOT_IP/32" dev c1
ip -n "$SRV" route add "$GEO_BOT_IP/32" dev s1
demo_xb status

step "The default country database (Debian's tor-geoipdb), and the demo's own range as 'FR'"
tor=/usr/share/tor
[ -s $tor/geoip ] || tor=/var/lib/xdpban/tor-geoipdb
printf '# the demo network: documentation addresses are in no real country\n203.0.113.0/24\n' \
	>"$WORK/FR.zone"
demo_xb geo load "$tor/geoip" "$tor/geoip6" "$WORK/FR.zone"
demo_xb geo block FR
demo_xb geo lookup "$GEO_BOT_IP"

step "The daemon: Dovecot's log and its auth policy requests (docs/dovecot-policy.conf)"
daemon_files
cat >"$CONF" <<EOF
$(daemon_conf_start)

[rules]
# The defaults (5 failures in 60 s ban an address 5 minutes; 3 failures on one
# account from 2 addresses in 60 s block it 10 minutes), but a demo's tarpit.
tarpit = ${TARPIT}s

[source dovecot]
type = dovecot
path = $WORK/log/dovecot.log
EOF
sed 's/^/    /' "$CONF"
nonce=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
# The key the daemon makes at start lies in this run's state directory.
sed -e "s/^auth_policy_hash_nonce = .*/auth_policy_hash_nonce = $nonce/" \
	-e "s|</var/lib/xdpban/|<$STATE_DIR/|" "$REPO/docs/dovecot-policy.conf" >"$WORK/dovecot-policy.conf"
write_dovecot_config "!include $WORK/dovecot-policy.conf"
: >"$WORK/log/dovecot.log"
start_daemon
start_dovecot
echo "Dovecot $(dovecot --version | cut -d' ' -f1) listening on $SRV_IP1 and $SRV_IP2, ports 143 and 110"

step "The user logs in; the attacker starts guessing bob's password over IMAP"
live_view &
LIVE_PID=$!
BG_PIDS+=("$LIVE_PID")
attempt user imap "$CLI2_IP" bob "$BOB_PW"
for guess in 123456 password qwerty letmein dragon; do
	attempt attacker imap "$CLI1_IP" bob "$guess"
done
wait_until 5 banned "$CLI1_IP"
echo "The 5th failure banned $CLI1_IP: its next SYNs never reach Dovecot"
attempt attacker imap "$CLI1_IP" bob monkey
attempt user pop3 "$CLI2_IP" bob "$BOB_PW"

step "A botnet spreads guesses for carol over two addresses: 3 failures block the account"
attempt attacker pop3 "$BOT2_IP" carol 111111
attempt attacker imap "$BOT6_IP" carol sunshine
attempt attacker pop3 "$BOT2_IP" carol iloveyou
wait_until 5 daemon_said "block account carol"
echo "Now even the right password is held ${TARPIT} s (the tarpit) and refused, from anywhere:"
attempt user imap "$CLI2_IP" carol "$CAROL_PW"
attempt user pop3 "$CLI2_IP" bob "$BOB_PW"

step "A bot in the blocked country: dropped by the geo index before any login"
attempt attacker imap "$GEO_BOT_IP" bob abc123
sleep 1.5
kill "$LIVE_PID" 2>/dev/null || true
wait "$LIVE_PID" 2>/dev/null || true
LIVE_PID=""

step "What happened"
demo_xb list
demo_xb history
demo_xb stats
demo_xb geo list
printf "[server]# bpftool -j map dump pinned %s/ban4 | jq -c '.[].formatted | select(.value.deadline | any(. != 0))'\n" "$PIN"
bpftool -j map dump pinned "$PIN/ban4" | jq -c '.[].formatted | select(.value.deadline | any(. != 0))'
# shellcheck disable=SC2016 # the command as the operator types it
printf '[server]# curl -s -H "X-API-Key: $(cat /var/lib/xdpban/policy.key)" http://127.0.0.1:8643/metrics | grep -E "answers|events|echoes"\n'
in_ns "$SRV" curl -sf -H "X-API-Key: $(cat "$STATE_DIR/policy.key")" http://127.0.0.1:8643/metrics |
	grep -E '^xdpban_(policy_answers|events|log_echoes)_total' | grep -v ' 0$'
echo
echo "Every failure reached the daemon twice (a policy report, then Dovecot's log"
echo "line) and counted once (xdpban_log_echoes_total): the ban came at the 5th."
