#!/bin/bash
# A two-minute tour of xdpban, safe to run on any Linux host as root: it
# builds xdpban, makes two network namespaces joined by a veth pair
# (documentation addresses 203.0.113.1 and .2), runs a greeter on the IMAP
# port in one, and shows a client in the other being banned and unbanned.
# It uses its own pin directory, so it never touches a real installation, and
# it removes everything it made when it ends, however it ends.
set -eu

cd "$(dirname "$0")/.."

XDPBAN=$PWD/build/xdpban
PIN=/sys/fs/bpf/xdpban-demo
STATE=$(mktemp -d /tmp/xdpban-demo.XXXXXX) # the loaded country database lives here
SRV=xbdemo-srv-$$
CLI=xbdemo-cli-$$
SRV_IP=203.0.113.1
CLI_IP=203.0.113.2
PORT=143

step() {
	printf '\n==> %s\n' "$*"
}

in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# xdpban ARGS...: shows the command, runs it in the server namespace.
xdpban() {
	printf '[server]# xdpban %s\n' "$*"
	in_ns "$SRV" "$XDPBAN" --pin-dir "$PIN" --state-dir "$STATE" "$@"
}

# The client connects to the greeter and shows what happened.
client_connects() {
	local started reply
	printf '[client]$ socat -u TCP:%s:%s,connect-timeout=2 -\n' "$SRV_IP" "$PORT"
	started=$(date +%s%N)
	if reply=$(in_ns "$CLI" socat -u "TCP4:$SRV_IP:$PORT,connect-timeout=2" - 2>/dev/null); then
		echo "connected; the server said: $reply"
	else
		echo "no answer: timed out after $((($(date +%s%N) - started) / 1000000)) ms"
	fi
}

# Dovecot's session ID: base64 of 6 bytes of time, 2 of port and the client's
# IPv4 address. xdpban trusts a login line's address only when the session
# carries it, so the demo's lines are shaped like the real thing.
dovecot_session() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	# shellcheck disable=SC2059 # the format is built on purpose
	printf "$(printf '\\x00\\x00\\x00\\x00\\x00\\x%02x\\x9c\\x40\\x%02x\\x%02x\\x%02x\\x%02x' \
		"$2" "$a" "$b" "$c" "$d")" | base64
}

# One line as Dovecot writes it for a failed IMAP login.
dovecot_failure() {
	printf '%s mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): ' \
		"$(date '+%b %e %H:%M:%S')"
	printf 'user=<bob>, method=PLAIN, rip=%s, lip=%s, session=<%s>\n' "$1" "$SRV_IP" \
		"$(dovecot_session "$1" "$2")"
}

cleanup() {
	local status=$? ns pids
	trap - EXIT INT TERM HUP
	set +e
	step "Cleaning up: detaching, removing $PIN and the namespaces"
	[ -d "$PIN" ] && [ -e "/run/netns/$SRV" ] && in_ns "$SRV" "$XDPBAN" --pin-dir "$PIN" detach --all
	for ns in "$CLI" "$SRV"; do
		[ -e "/run/netns/$ns" ] || continue
		pids=$(ip netns pids "$ns")
		# shellcheck disable=SC2086 # one PID per word
		[ -z "$pids" ] || kill $pids
		ip netns del "$ns"
	done
	wait 2>/dev/null
	[ "$CREATED_PIN" = no ] || rm -rf "$PIN"
	rm -rf "$STATE"
	exit "$status"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it attaches XDP programs and creates network namespaces)" >&2
	exit 1
fi
if [ -e "$PIN" ]; then
	echo "demo: $PIN exists (another demo running, or one that was killed?); remove it first" >&2
	exit 1
fi
CREATED_PIN=no
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

step "Installing the Debian packages xdpban needs (scripts/install-deps.sh)"
scripts/install-deps.sh
step "Building build/xdpban"
make
mount | grep -q ' /sys/fs/bpf ' || mount -t bpf bpf /sys/fs/bpf

step "Creating namespaces $SRV ($SRV_IP) and $CLI ($CLI_IP), joined by a veth pair"
CREATED_PIN=yes
ip netns add "$SRV"
ip netns add "$CLI"
ip -n "$SRV" link add veth-srv type veth peer name veth-cli netns "$CLI"
ip -n "$SRV" addr add "$SRV_IP/24" dev veth-srv
ip -n "$CLI" addr add "$CLI_IP/24" dev veth-cli
ip -n "$SRV" link set veth-srv up
ip -n "$CLI" link set veth-cli up

step "Starting a greeter on port $PORT (IMAP) in the server namespace"
# EXEC, not SYSTEM: no shell, so the '*' reaches the client unglobbed.
in_ns "$SRV" socat "TCP4-LISTEN:$PORT,fork,reuseaddr" EXEC:'echo * OK demo IMAP server ready' &
until in_ns "$SRV" ss -Hltn | grep -q ":$PORT "; do sleep 0.1; done

step "Attaching xdpban to the server's side of the veth pair"
xdpban attach veth-srv
xdpban status

step "The client connects"
client_connects

step "Banning the client: its SYNs to the mail ports are now dropped in XDP"
xdpban ban "$CLI_IP"
client_connects

step "What xdpban knows: the ban list and the verdict counters"
xdpban list
xdpban stats

step "The same ban as the kernel holds it (bpftool reads the map's BTF)"
printf '# bpftool map dump pinned %s/ban_addr\n' "$PIN"
bpftool map dump pinned "$PIN/ban_addr"

step "Unbanning the client"
xdpban unban "$CLI_IP"
client_connects

step "Loading the world's country database (Debian's tor-geoipdb)"
xdpban geo load
step "The same database plus a list of our own: the client's network is 'FR' in this demo"
printf '# the demo network\n203.0.113.0/25\n' >"$STATE/FR.zone"
tor=/usr/share/tor
[ -s $tor/geoip ] || tor=/var/lib/xdpban/tor-geoipdb
xdpban geo load "$tor/geoip" "$tor/geoip6" "$STATE/FR.zone"
xdpban geo block --force FR # this host is in the demo's "FR" too: --force past the self-lockout guard
xdpban geo lookup "$CLI_IP"
client_connects
xdpban geo list

step "Allowlisting the client: the allowlist beats every ban and country block"
xdpban allow "$CLI_IP"
client_connects
xdpban unallow "$CLI_IP"
xdpban geo unblock FR
xdpban stats

step "The daemon: it follows Dovecot's log; 5 failed logins in 60 s ban the address for 5 minutes"
printf '[daemon]\ncontrol_socket = %s\n\n[source dovecot]\ntype = dovecot\npath = %s\n' \
	"$STATE/control.sock" "$STATE/dovecot.log" >"$STATE/xdpban.conf"
: >"$STATE/dovecot.log"
printf '[server]# xdpban run -c %s &\n' "$STATE/xdpban.conf"
in_ns "$SRV" "$XDPBAN" --pin-dir "$PIN" --state-dir "$STATE" run -c "$STATE/xdpban.conf" 2>&1 |
	sed 's/^/    /' &
until [ -S "$STATE/control.sock" ]; do sleep 0.1; done
for n in 1 2 3 4 5; do
	dovecot_failure "$CLI_IP" "$n" | tee -a "$STATE/dovecot.log"
done
sleep 0.5
client_connects
xdpban list
xdpban history
