#!/bin/sh
# Installs the Debian 12 packages xdpban needs to build, test and demo.
# Idempotent: when every package is present it does nothing and needs no network.
set -eu

PACKAGES="
    make gcc clang llvm pkg-config
    libbpf-dev libelf-dev zlib1g-dev bpftool
    libjansson-dev libcmocka-dev libcsv-dev tor-geoipdb
    iproute2 socat procps util-linux jq iputils-ping
"

missing=""
for pkg in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $pkg"
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -qq --no-install-recommends $missing >/dev/null
