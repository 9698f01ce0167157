# shellcheck shell=bash
# Network namespaces and veth pairs (sourced by tests/e2e/lib.sh and
# scripts/bench-lib.sh, never run). Needs cleanup.sh: what is made here is
# registered there and removed on any exit.
#
# Commands run in a namespace through nsenter --net, not `ip netns exec`: the
# latter remounts /sys in a private mount namespace, and the pins made there
# would vanish with it.

in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

ns_exists() {
	[ -e "/run/netns/$1" ]
}

# new_ns NS: a namespace with its loopback up, deleted by the cleanup.
new_ns() {
	ip netns add "$1"
	CLEANUP_NETNS+=("$1")
	ip -n "$1" link set lo up
}

# veth_pair NS_A IF_A NS_B IF_B: a veth pair from NS_A to NS_B (which may be
# the same namespace), both ends up.
veth_pair() {
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

mount_bpffs() {
	mount | grep -q ' /sys/fs/bpf ' || mount -t bpf bpf /sys/fs/bpf
}

# new_pin_dir DIR [NS]: bpffs is mounted and DIR is removed by the cleanup,
# after `xdpban detach --all` in NS when NS is given.
new_pin_dir() {
	mount_bpffs
	CLEANUP_PINS+=("$1")
	[ -z "${2:-}" ] || CLEANUP_DETACH+=("$2" "$1")
}
