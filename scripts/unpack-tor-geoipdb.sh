#!/bin/sh
# Unpacks the two data files of Debian's tor-geoipdb, xdpban's default
# country database, into /var/lib/xdpban/tor-geoipdb/, where xdpban looks
# after /usr/share/tor. Installing the package instead would pull in the tor
# daemon (tor-geoipdb depends on it), and enable its service, on a mail
# server. Does nothing, and needs no network, when either copy is there
# already. Run as root. scripts/install-deps.sh runs it; the Debian package
# ships it as /usr/share/xdpban/unpack-tor-geoipdb.
set -eu
GEOIP_DIR=/var/lib/xdpban/tor-geoipdb

[ -s /usr/share/tor/geoip ] && [ -s /usr/share/tor/geoip6 ] && exit 0
[ -s "$GEOIP_DIR/geoip" ] && [ -s "$GEOIP_DIR/geoip6" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "unpack-tor-geoipdb: the country database (tor-geoipdb) is missing (run as root to unpack it)" >&2
    exit 1
fi
echo "unpack-tor-geoipdb: unpacking tor-geoipdb's data files into $GEOIP_DIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # apt downloads as the _apt user
apt-get update -qq
(cd "$work" && apt-get download -qq tor-geoipdb && dpkg-deb -x tor-geoipdb_*.deb root)
# The state directory is the daemon's alone (the unit's StateDirectoryMode).
install -d -m 0700 /var/lib/xdpban
install -d -m 0755 "$GEOIP_DIR"
install -m 0644 "$work/root/usr/share/tor/geoip" "$work/root/usr/share/tor/geoip6" "$GEOIP_DIR/"
