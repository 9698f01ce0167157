#!/bin/bash
# The Debian package and make install, as an operator gets them: the package
# is built with Debian's tools (scripts/build-deb.sh), inspected (every file
# where it belongs, lintian), installed with dpkg -i, its binary, man pages,
# completion and unit checked, then removed and purged, leaving nothing.
# make install DESTDIR=... must install the same files.
#
# The script runs itself in a mount namespace of its own in which /etc, /usr
# and /var are overlays on the real ones and bpffs is a fresh one: dpkg and
# the maintainer scripts run for real, but the machine (and whatever else
# runs on it meanwhile: /var/lib/xdpban/tor-geoipdb, other runs' pins) never
# sees their effects, and anything a failure leaves goes with the namespace.
# The daemon is never started; the one XDP program attached (to a veth in a
# network namespace of the test's own) goes with the purge.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called from main
. "$(dirname "$0")/lib.sh"

if [ -z "${XDPBAN_PACKAGE_SANDBOX:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "1..0 # SKIP: needs root (dpkg, mounts)"
		exit 0
	fi
	exec env XDPBAN_PACKAGE_SANDBOX=1 unshare --mount --propagation private bash "$0" "$@"
fi

OVERLAID="etc usr var"
UNITDIR=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
NETNS_PID="" # a process holding the test's network namespace
BUILD_PID="" # the package build, a process group of its own
DEB=""

sandbox_down() {
	local status=$? dir
	trap - EXIT INT TERM HUP ERR
	set +eE
	# A timeout's TERM stops the build too, not only this script.
	[ -z "$BUILD_PID" ] || kill -- "-$BUILD_PID" 2>/dev/null
	if dpkg-query -W -f='${Status}' xdpban 2>/dev/null | grep -q 'installed\|config-files'; then
		dpkg --purge xdpban >/dev/null 2>&1
	fi
	[ -z "$NETNS_PID" ] || kill "$NETNS_PID" 2>/dev/null
	umount /sys/fs/bpf 2>/dev/null
	for dir in $OVERLAID; do
		umount "/$dir" 2>/dev/null
	done
	rm -rf "$WORK"
	exit "$status"
}

sandbox_up() {
	local dir
	trap sandbox_down EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	trap 'on_error "$?" "$LINENO" "$BASH_COMMAND"' ERR
	WORK=$(mktemp -d /tmp/xdpban-package.XXXXXX)
	for dir in $OVERLAID; do
		mkdir -p "$WORK/overlay/$dir/upper" "$WORK/overlay/$dir/work"
		mount -t overlay overlay -o "lowerdir=/$dir,upperdir=$WORK/overlay/$dir/upper,workdir=$WORK/overlay/$dir/work" "/$dir"
	done
	mount -t bpf bpf /sys/fs/bpf
	# A fresh server: no state directory yet (the host's stays as it is).
	rm -rf /var/lib/xdpban
}

# The files a package or an install of it holds, one path a line, sorted.
deb_files() {
	dpkg-deb -c "$1" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort
}

# Where every file belongs. The Dovecot snippets are whatever docs/ has.
expected_files() {
	local snippet
	{
		printf '%s\n' /etc/xdpban/xdpban.conf "$UNITDIR/xdpban.service" /usr/sbin/xdpban \
			/usr/share/bash-completion/completions/xdpban \
			/usr/share/doc/xdpban/README.md.gz /usr/share/doc/xdpban/changelog.gz \
			/usr/share/doc/xdpban/cli.md.gz /usr/share/doc/xdpban/config.md.gz \
			/usr/share/doc/xdpban/copyright /usr/share/man/man5/xdpban.conf.5.gz \
			/usr/share/man/man8/xdpban.8.gz /usr/share/xdpban/unpack-tor-geoipdb
		for snippet in "$REPO"/docs/dovecot*.conf; do
			echo "/usr/share/doc/xdpban/examples/$(basename "$snippet")"
		done
	} | sort
}

# mode_of PATH: the file's mode and owner, as "0755 root:root".
mode_of() {
	stat -c '%04a %U:%G' "$1"
}

# complete_line WORDS...: what bash completion offers for the last word,
# through bash-completion's loader and the installed completion.
complete_line() {
	bash -c '. /usr/share/bash-completion/bash_completion
		_completion_loader xdpban
		COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMP_LINE="$*" COMP_POINT=${#COMP_LINE}
		_xdpban xdpban "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' completion "$@"
}

offers() { # offers WORD WORDS...: completing WORDS offers WORD
	local word=$1
	shift
	complete_line "$@" | grep -qxF -- "$word"
}

man_warnings() { # man_warnings PAGE: what groff warns about, as lintian runs it
	{ man --warnings -E UTF-8 -l -Tutf8 -Z "$1" >/dev/null; } 2>&1
}

# Every command --help lists has its section in xdpban(8).
man_has_every_command() {
	local page cmd
	page=$(man xdpban 2>/dev/null)
	for cmd in $(/usr/sbin/xdpban --help | sed -n 's/^  \([a-z]\{1,\}\).*/\1/p'); do
		grep -q "Usage: xdpban $cmd" <<<"$page" || return 1
	done
}

in_test_netns() {
	nsenter --net="/proc/$NETNS_PID/ns/net" "$@"
}

test_docs_are_current() {
	scripts/gen-cli-doc.sh build/xdpban "$WORK/cli.md"
	check "docs/cli.md is what make docs writes from this binary" cmp -s docs/cli.md "$WORK/cli.md"
}

test_build() {
	local started=$SECONDS
	# In the background, so that a signal reaches the traps at once (bash
	# runs them only when a foreground command ends).
	setsid scripts/build-deb.sh "$WORK/deb" >"$WORK/build.log" 2>&1 &
	BUILD_PID=$!
	if wait "$BUILD_PID"; then
		pass "dpkg-buildpackage builds the package ($((SECONDS - started)) s)"
	else
		fail "dpkg-buildpackage builds the package" "$(tail -20 "$WORK/build.log")"
		tap_finish
	fi
	BUILD_PID=""
	DEB=$(ls "$WORK"/deb/xdpban_*.deb)
}

test_contents() {
	local lint
	check_eq "every file of the package is where it belongs" "$(expected_files)" "$(deb_files "$DEB")"
	check_eq "the config is a conffile" /etc/xdpban/xdpban.conf \
		"$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles)"
	check "dh_shlibdeps computed the libraries it needs" \
		grep -q 'libbpf1' <<<"$(dpkg-deb -f "$DEB" Depends)"
	check_eq "tor-geoipdb (which pulls in the tor daemon) is only suggested" tor-geoipdb \
		"$(dpkg-deb -f "$DEB" Suggests)"
	check_not "nothing depends on tor" grep -q tor <<<"$(dpkg-deb -f "$DEB" Depends Recommends)"
	if lint=$(lintian --fail-on error,warning "$DEB" 2>&1); then
		pass "lintian reports no errors or warnings"
	else
		fail "lintian reports no errors or warnings" "$lint"
	fi
}

# make install puts the same files in the same places (uncompressed: that
# and the copyright and changelog are the package tools' part), and make
# uninstall takes them all away again.
test_make_install() {
	local dest=$WORK/dest expected
	expected=$(deb_files "$DEB" | grep -v -e '/copyright$' -e '/changelog.gz$' | sed 's/\.gz$//')
	make -s install DESTDIR="$dest" PREFIX=/usr unitdir="$UNITDIR" >/dev/null
	check_eq "make install DESTDIR= installs the package's files" "$expected" \
		"$(cd "$dest" && find . -type f | sed 's/^\.//' | sort)"
	check_eq "make install gives the unit the installed binary" \
		"ExecStart=/usr/sbin/xdpban run -c /etc/xdpban/xdpban.conf" \
		"$(grep '^ExecStart=' "$dest$UNITDIR/xdpban.service")"
	make -s install DESTDIR="$dest/local" >/dev/null
	check_eq "make install with the default PREFIX puts /usr/local in the unit" \
		"ExecStart=/usr/local/sbin/xdpban run -c /etc/xdpban/xdpban.conf" \
		"$(grep '^ExecStart=' "$dest/local/usr/local/lib/systemd/system/xdpban.service")"
	make -s uninstall DESTDIR="$dest" PREFIX=/usr unitdir="$UNITDIR" >/dev/null
	check_eq "make uninstall removes every file it installed" "" \
		"$(cd "$dest" && find . -path ./local -prune -o -type f -print)"
}

test_install() {
	local version out
	if ! dpkg -i "$DEB" >"$WORK/dpkg.log" 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >>"$WORK/dpkg.log" 2>&1 || true
	fi
	check_eq "dpkg -i installs it" "install ok installed" \
		"$(dpkg-query -W -f='${Status}' xdpban 2>/dev/null)"
	version=$(dpkg-query -W -f='${Version}' xdpban)
	check_eq "the installed xdpban --version is the package's version" "xdpban $version" \
		"$(/usr/sbin/xdpban --version)"
	check_eq "the binary is 0755 root:root" "0755 root:root" "$(mode_of /usr/sbin/xdpban)"
	check_eq "the state directory is 0700 root:root" "0700 root:root" "$(mode_of /var/lib/xdpban)"
	check_eq "the policy key is made, 0600 root:root" "0600 root:root" \
		"$(mode_of /var/lib/xdpban/policy.key)"
	check "it is 64 hex digits, no newline (Dovecot reads it whole)" \
		grep -qxE '[0-9a-f]{64}' /var/lib/xdpban/policy.key
	check_eq "no newline" 64 "$(wc -c </var/lib/xdpban/policy.key)"
	out=$(/usr/sbin/xdpban run -c /etc/xdpban/xdpban.conf --check-config 2>&1) || true
	check_eq "run --check-config: the installed config changes nothing" \
		"$(: >"$WORK/empty.conf" && build/xdpban run -c "$WORK/empty.conf" --check-config | sed 1d)" "$(sed 1d <<<"$out")"
	check_eq "man -w xdpban finds xdpban(8)" /usr/share/man/man8/xdpban.8.gz "$(man -w xdpban)"
	check_eq "man -w 5 xdpban.conf finds xdpban.conf(5)" /usr/share/man/man5/xdpban.conf.5.gz \
		"$(man -w 5 xdpban.conf)"
	check_eq "man --warnings: xdpban(8) is clean" "" "$(man_warnings /usr/share/man/man8/xdpban.8.gz)"
	check_eq "man --warnings: xdpban.conf(5) is clean" "" \
		"$(man_warnings /usr/share/man/man5/xdpban.conf.5.gz)"
	check "xdpban(8) documents every command" man_has_every_command
	if command -v systemd-analyze >/dev/null; then
		out=$(systemd-analyze verify "$UNITDIR/xdpban.service" 2>&1) || out="exit $?: $out"
		check_eq "systemd-analyze verify accepts the installed unit" "" "$out"
	fi
	check_not "the unit is not enabled" test -e /etc/systemd/system/multi-user.target.wants/xdpban.service
	check_not "the daemon was not started" pgrep -f '^/usr/sbin/xdpban run'
}

test_completion() {
	check "completion offers the commands" offers unban xdpban ""
	check "completion offers a command's options" offers --for xdpban ban --f
	check "completion offers interface names" offers lo xdpban attach ""
	check "completion offers country codes" offers FR xdpban geo block F
	/usr/sbin/xdpban ban 192.0.2.77 2001:db8:77::/48 >/dev/null
	check "completion offers a banned address for unban" offers 192.0.2.77 xdpban unban ""
	check "completion offers a banned IPv6 prefix for unban" offers 2001:db8:77::/48 xdpban unban ""
	check_not "completion offers no banned address for unallow" offers 192.0.2.77 xdpban unallow ""
}

test_remove_and_purge() {
	local leftover
	unshare --net sleep 600 &
	NETNS_PID=$!
	sleep 0.2
	in_test_netns ip link add xbp0 type veth peer name xbp1
	in_test_netns ip link set xbp0 up
	in_test_netns /usr/sbin/xdpban attach xbp0 >/dev/null
	check "the installed xdpban attaches to a veth" grep -q xdp <<<"$(in_test_netns ip link show xbp0)"

	dpkg -r xdpban >"$WORK/dpkg.log" 2>&1
	check_not "dpkg -r removes the binary" test -e /usr/sbin/xdpban
	check "dpkg -r keeps the config" test -e /etc/xdpban/xdpban.conf
	check "dpkg -r keeps the state" test -d /var/lib/xdpban

	dpkg --purge xdpban >>"$WORK/dpkg.log" 2>&1
	check_eq "dpkg --purge leaves the package unknown to dpkg" "" \
		"$(dpkg-query -W -f='${Status}' xdpban 2>/dev/null || true)"
	leftover=$(for f in $(deb_files "$DEB") /etc/xdpban /var/lib/xdpban /sys/fs/bpf/xdpban \
		/usr/share/xdpban /usr/share/doc/xdpban; do [ ! -e "$f" ] || echo "$f"; done)
	check_eq "dpkg --purge leaves none of its files, state or pins" "" "$leftover"
	check_not "dpkg --purge leaves no XDP program on the veth" \
		grep -q xdp <<<"$(in_test_netns ip link show xbp0)"
	check_not "dpkg --purge leaves no systemd state" \
		test -e /var/lib/systemd/deb-systemd-helper-enabled/xdpban.service.dsh-also
}

main() {
	cd "$REPO"
	if [ ! -x build/xdpban ]; then
		echo "Bail out! build/xdpban is not built (run make)"
		exit 1
	fi
	sandbox_up
	test_docs_are_current
	test_build
	test_contents
	test_make_install
	test_install
	test_completion
	test_remove_and_purge
	tap_finish
}

main
