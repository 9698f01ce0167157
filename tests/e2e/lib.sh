# shellcheck shell=bash
# Shared by the end-to-end tests (and scripts/demo.sh): sourced, never run.
# The helpers live in lib/ by concern; this file names the lab and runs a
# script's tests:
#   lib/tap.sh      TAP output and assertions (check, check_eq, ...)
#   lib/cleanup.sh  the cleanup on any exit (also scripts/bench-lib.sh's)
#   lib/netns.sh    namespaces, veth pairs, bpffs pins
#   lib/proc.sh     background processes, wait_until
#   lib/tcp.sh      listeners and TCP probes (connects, times_out)
#   lib/xdpban.sh   xdpban on this run's pins (xb, banned, reset_state)
#   lib/daemon.sh   a daemon under test (start_daemon, ctl, stop_daemon)
#   lib/dovecot.sh  a private Dovecot and a mail client
#
# Topology, bridge-free, one veth pair per client, documentation addresses only:
#
#   xb-cli1-$$  c1 192.0.2.2/24     2001:db8:1::2/64 --- s1 192.0.2.1     2001:db8:1::1  xb-srv-$$
#   xb-cli2-$$  c2 198.51.100.2/24  2001:db8:2::2/64 --- s2 198.51.100.1  2001:db8:2::1  (xdpban, socat)
#
# xdpban is attached to s1 and s2, so it judges what the clients send to the
# server. Nothing is created in, or sent to, the host's own network namespace.
# Each run has its own pin directory, so it never touches a real installation
# or a concurrent run.
#
# The exit status is non-zero when a test failed.

set -eEu

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
XDPBAN=${XDPBAN:-$REPO/build/xdpban}

# shellcheck source=tests/e2e/lib/tap.sh
. "$E2E_DIR/lib/tap.sh"
# shellcheck source=tests/e2e/lib/cleanup.sh
. "$E2E_DIR/lib/cleanup.sh"
# shellcheck source=tests/e2e/lib/netns.sh
. "$E2E_DIR/lib/netns.sh"
# shellcheck source=tests/e2e/lib/proc.sh
. "$E2E_DIR/lib/proc.sh"
# shellcheck source=tests/e2e/lib/tcp.sh
. "$E2E_DIR/lib/tcp.sh"
# shellcheck source=tests/e2e/lib/xdpban.sh
. "$E2E_DIR/lib/xdpban.sh"
# shellcheck source=tests/e2e/lib/daemon.sh
. "$E2E_DIR/lib/daemon.sh"
# shellcheck source=tests/e2e/lib/dovecot.sh
. "$E2E_DIR/lib/dovecot.sh"

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

WORK=""
STATE_DIR="" # xdpban's --state-dir: $WORK/state, so no run touches /var/lib/xdpban
TEARDOWN_HOOK=e2e_teardown

# link_pair SRV_IF CLIENT_NS CLIENT_IF SRV_IP CLIENT_IP SRV_IP6 CLIENT_IP6
link_pair() {
	local srv_if=$1 cli_ns=$2 cli_if=$3
	veth_pair "$SRV" "$srv_if" "$cli_ns" "$cli_if"
	ip -n "$SRV" addr add "$4/24" dev "$srv_if"
	ip -n "$cli_ns" addr add "$5/24" dev "$cli_if"
	# nodad: the addresses are usable at once, no 1-2 s duplicate detection.
	ip -n "$SRV" addr add "$6/64" dev "$srv_if" nodad
	ip -n "$cli_ns" addr add "$7/64" dev "$cli_if" nodad
}

setup_topology() {
	local ns
	for ns in "$SRV" "$CLI1" "$CLI2"; do
		new_ns "$ns"
	done
	link_pair s1 "$CLI1" c1 "$SRV_IP1" "$CLI1_IP" "$SRV_IP6_1" "$CLI1_IP6"
	link_pair s2 "$CLI2" c2 "$SRV_IP2" "$CLI2_IP" "$SRV_IP6_2" "$CLI2_IP6"
}

# on_error STATUS LINE COMMAND: set -e is about to stop the script. A command
# killed by a signal (Ctrl-C, a timeout) needs no message of its own.
on_error() {
	[ "$1" -ge 128 ] || diag "error: '$3' exited with status $1 (line $2); stopping this script"
}

# lab_prepare: traps that clean everything up however the script ends, a
# work directory, bpffs and the namespaces; nothing attached yet.
lab_prepare() {
	install_traps
	trap 'on_error "$?" "$LINENO" "$BASH_COMMAND"' ERR
	WORK=$(mktemp -d /tmp/xdpban-e2e.XXXXXX)
	track_dir "$WORK"
	STATE_DIR=$WORK/state
	new_pin_dir "$PIN" "$SRV"
	setup_topology
}

# lab_up: what every script (and scripts/demo.sh) stands on: the lab, and
# xdpban attached to the server's side of both pairs.
lab_up() {
	lab_prepare
	xb attach s1 >/dev/null
	xb attach s2 >/dev/null
}

# e2e_preflight: root and a built xdpban, or the script ends here.
e2e_preflight() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "1..0 # SKIP: needs root (BPF, netns)"
		exit 0
	fi
	if [ ! -x "$XDPBAN" ]; then
		echo "Bail out! $XDPBAN is not built (run make)"
		exit 1
	fi
}

# e2e_sequence SETUP TEST_FUNCTION...: SETUP makes the lab, then the tests
# run in order on it, each building on the last (nothing is reset between
# them: an upgrade, say), and report.
e2e_sequence() {
	local setup=$1 test
	shift
	e2e_preflight
	"$setup"
	for test in "$@"; do
		diag "$test"
		"$test"
	done
	tap_finish
}

# e2e_main TEST_FUNCTION...: sets up, runs each test on clean maps, reports.
# E2E_ONLY=NAME runs one of them: `E2E_ONLY=test_unban bash tests/e2e/test_ban.sh`.
e2e_main() {
	local test
	e2e_preflight
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
