/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every default path xdpban uses, in one place (as openssh's pathnames.h).
 * The pin directory is the map ABI's (XDPBAN_PIN_DIR in xdpban_maps.h):
 * bpftool users reach the maps there.
 */
#ifndef XDPBAN_PATHS_H
#define XDPBAN_PATHS_H

#define XDPBAN_CONF_FILE      "/etc/xdpban/xdpban.conf"
#define XDPBAN_STATE_DIR      "/var/lib/xdpban"
#define XDPBAN_CONTROL_SOCKET "/run/xdpban/control.sock"
/* The log the daemon follows when the config file names no source. */
#define XDPBAN_DEFAULT_LOG "/var/log/mail.log"
#define XDPBAN_SSHD_CONFIG "/etc/ssh/sshd_config"

/* Debian's tor-geoipdb, the default country database. */
#define XDPBAN_TOR_GEOIP  "/usr/share/tor/geoip"
#define XDPBAN_TOR_GEOIP6 "/usr/share/tor/geoip6"
/* Where scripts/install-deps.sh unpacks tor-geoipdb's files without the tor daemon. */
#define XDPBAN_TOR_FALLBACK_DIR XDPBAN_STATE_DIR "/tor-geoipdb"

/* Debian's cracklib-runtime's plain word list: [policy] weak_dictionary's default. */
#define XDPBAN_WEAK_DICTIONARY "/usr/share/dict/cracklib-small"

#endif
