#!/bin/sh
# Installs the Debian 12 packages xdpban needs to build and demo (with
# --tests: and to run the tests), and the country database xdpban loads by
# default.
# Idempotent: when everything is present it does nothing and needs no network.
set -eu

PACKAGES="
    make gcc clang llvm pkg-config
    libbpf-dev libelf-dev zlib1g-dev bpftool
    libjansson-dev libcmocka-dev libcsv-dev libinih-dev libsqlite3-dev sqlite3
    libmicrohttpd-dev libhiredis-dev libc-ares-dev nettle-dev cracklib-runtime
    iproute2 socat procps util-linux jq iputils-ping curl
"
# Only the tests need a real mail server (scripts/check.sh passes --tests).
TEST_PACKAGES="dovecot-imapd dovecot-pop3d python3-prometheus-client"
# The fleet's end-to-end test: a real Redis, rbldnsd and a DNS client (dig).
TEST_PACKAGES="$TEST_PACKAGES redis-server rbldnsd bind9-dnsutils"
# The fault tests move the daemon's wall clock alone (libfaketime).
TEST_PACKAGES="$TEST_PACKAGES faketime"
[ "${1:-}" = --tests ] && PACKAGES="$PACKAGES $TEST_PACKAGES"
# `make fuzz` needs libFuzzer and the sanitizer runtimes for clang.
[ "${1:-}" = --fuzz ] && PACKAGES="$PACKAGES libclang-rt-14-dev"
# `make bench` runs xdpban beside what users run today (scripts/bench.sh).
BENCH_PACKAGES="nftables ipset iptables fail2ban python3-pyinotify gnuplot-nox ethtool bc wrk"
[ "${1:-}" = --bench ] && PACKAGES="$PACKAGES $BENCH_PACKAGES"

# Debian's tor-geoipdb is the default country database. Installing the
# package would pull in the tor daemon (and enable its service) on a mail
# server, so unless the operator has the package, only its two data files
# are unpacked here, where xdpban looks after /usr/share/tor.
GEOIP_DIR=/var/lib/xdpban/tor-geoipdb

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: $1 (run as root to install)" >&2
        exit 1
    fi
}

apt_updated=no
apt_update_once() {
    [ "$apt_updated" = yes ] || apt-get update -qq
    apt_updated=yes
}

install_packages() {
    missing=""
    for pkg in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $pkg"
    done
    [ -z "$missing" ] && return 0
    need_root "missing packages:$missing"
    echo "install-deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt_update_once
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# Dovecot, Redis and rbldnsd are there for end-to-end tests, which run private
# instances from their own configs. Installing a package enables and starts
# its system service: when this script installed it, that service is stopped
# and disabled again. One installed before is left as the operator has it.
# quiet_new_service PACKAGE WAS_INSTALLED SERVICE [UNIT...]
quiet_new_service() {
    package=$1 was_installed=$2 service=$3
    shift 3
    [ "$was_installed" = no ] || return 0
    installed "$package" || return 0
    if [ -d /run/systemd/system ]; then
        systemctl disable --now "$service.service" "$@" >/dev/null 2>&1 || true
    else
        invoke-rc.d "$service" stop >/dev/null 2>&1 || true
        update-rc.d "$service" disable >/dev/null 2>&1 || true
        systemctl disable "$service.service" "$@" >/dev/null 2>&1 || true
    fi
}

install_geoip_data() {
    [ -s /usr/share/tor/geoip ] && [ -s /usr/share/tor/geoip6 ] && return 0
    [ -s "$GEOIP_DIR/geoip" ] && [ -s "$GEOIP_DIR/geoip6" ] && return 0
    need_root "the country database (tor-geoipdb) is missing"
    echo "install-deps: unpacking tor-geoipdb's data files into $GEOIP_DIR"
    apt_update_once
    work=$(mktemp -d)
    chmod 755 "$work" # apt downloads as the _apt user
    (cd "$work" && apt-get download -qq tor-geoipdb && dpkg-deb -x tor-geoipdb_*.deb root)
    mkdir -p "$GEOIP_DIR"
    cp "$work/root/usr/share/tor/geoip" "$work/root/usr/share/tor/geoip6" "$GEOIP_DIR/"
    rm -rf "$work"
}

dovecot_was_installed=no redis_was_installed=no rbldnsd_was_installed=no
installed dovecot-core && dovecot_was_installed=yes
installed redis-server && redis_was_installed=yes
installed rbldnsd && rbldnsd_was_installed=yes
# A started fail2ban would ban on the host's own firewall: the benchmark runs
# a private one inside a namespace.
fail2ban_was_installed=no
installed fail2ban && fail2ban_was_installed=yes
install_packages
quiet_new_service dovecot-core "$dovecot_was_installed" dovecot dovecot.socket
quiet_new_service redis-server "$redis_was_installed" redis-server
quiet_new_service rbldnsd "$rbldnsd_was_installed" rbldnsd
quiet_new_service fail2ban "$fail2ban_was_installed" fail2ban
install_geoip_data
