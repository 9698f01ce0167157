#!/bin/sh
# The whole test run, as the README gives it and CI runs it: installs the
# Debian packages, mounts bpffs, builds, and runs every test (make check).
# Run as root for the BPF and network-namespace tests; as another user they
# are skipped and say so.
set -eu

cd "$(dirname "$0")/.."

scripts/install-deps.sh --tests

# xdpban mounts bpffs itself, but the BPF tests may pin before it runs.
if [ "$(id -u)" -eq 0 ] && ! mount | grep -q ' /sys/fs/bpf '; then
    mount -t bpf bpf /sys/fs/bpf
fi

make -j2
make check
