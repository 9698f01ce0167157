#!/bin/sh
# Installs the Debian 12 packages xdpban needs to build and demo (with
# --tests: and to run the tests; --package: to build the Debian package and
# make install), and the country database xdpban loads by default.
# Idempotent: when everything is present it does nothing and needs no network.
set -eu

PACKAGES="
    make gcc clang llvm pkg-config
    libbpf-dev libelf-dev zlib1g-dev bpftool
    libjansson-dev libcmocka-dev libcsv-dev libinih-dev libsqlite3-dev sqlite3
    libmicrohttpd-dev libhiredis-dev libc-ares-dev nettle-dev cracklib-runtime libsystemd-dev
    iproute2 socat procps util-linux jq iputils-ping curl
"
# Only the tests need a real mail server (scripts/check.sh passes --tests).
TEST_PACKAGES="dovecot-imapd dovecot-pop3d python3-prometheus-client"
# The fleet's end-to-end test: a real Redis, rbldnsd and a DNS client (dig).
TEST_PACKAGES="$TEST_PACKAGES redis-server rbldnsd bind9-dnsutils"
# The fault tests move the daemon's wall clock alone (libfaketime).
TEST_PACKAGES="$TEST_PACKAGES faketime"
# `make install` and `make deb`: the man pages (pandoc) and the Debian
# package with its checks. The tests build and check the package too.
PACKAGE_PACKAGES="pandoc man-db debhelper dpkg-dev fakeroot lintian"
TEST_PACKAGES="$TEST_PACKAGES $PACKAGE_PACKAGES"
[ "${1:-}" = --package ] && PACKAGES="$PACKAGES $PACKAGE_PACKAGES"
# The journal source's tests write real journal files from the export format.
TEST_PACKAGES="$TEST_PACKAGES systemd-journal-remote"
# The package test runs the bash completion as bash-completion loads it.
TEST_PACKAGES="$TEST_PACKAGES bash-completion"
[ "${1:-}" = --tests ] && PACKAGES="$PACKAGES $TEST_PACKAGES"
# `make fuzz` needs libFuzzer and the sanitizer runtimes for clang.
[ "${1:-}" = --fuzz ] && PACKAGES="$PACKAGES libclang-rt-14-dev"
# `make bench` runs xdpban beside what users run today (scripts/bench.sh).
BENCH_PACKAGES="nftables ipset iptables fail2ban python3-pyinotify gnuplot-nox ethtool bc wrk"
[ "${1:-}" = --bench ] && PACKAGES="$PACKAGES $BENCH_PACKAGES"
# `make recall` reads fail2ban's annotated sample logs; `make check-dovecot24`
# builds a Debian 13 chroot.
[ "${1:-}" = --recall ] && PACKAGES="$PACKAGES fail2ban"
[ "${1:-}" = --trixie ] && PACKAGES="$PACKAGES debootstrap"

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
# The default country database, Debian's tor-geoipdb, without the tor daemon.
"$(dirname "$0")/unpack-tor-geoipdb.sh"
