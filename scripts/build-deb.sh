#!/bin/sh
# Builds the Debian package (`make deb`) with Debian's own tools, in a copy
# of the tree, so the build and debian/rules' clean never touch the working
# tree's build/: build-deb.sh [OUTDIR] (default build/deb). The .deb lands
# in OUTDIR. The package's version is the release in debian/changelog, or,
# when git describes the tree otherwise (a snapshot: 0.1.0+git118.abc1234),
# that version in a changelog entry added to the copy; the installed
# `xdpban --version` prints the same.
set -eu
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-build/deb}" && cd "${1:-build/deb}" && pwd)
version=$(scripts/version.sh | tr - +)
src=$out/xdpban-$version

rm -rf "$src"
mkdir -p "$src"
if git rev-parse --git-dir >/dev/null 2>&1; then
	# Tracked and new files, as the working tree has them; nothing ignored.
	# shellcheck disable=SC2016 # $f is the inner shell's
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' _ |
		xargs -0 cp --parents -t "$src"
	# The copy has no git: it gets the version from here.
	echo "$version" | sed 's/+.*//' > "$src/VERSION"
else
	tar --exclude=./build -cf - . | tar -xf - -C "$src"
fi

released=$(dpkg-parsechangelog -l debian/changelog -S Version)
if [ "$version" != "$released" ]; then
	{
		printf 'xdpban (%s) UNRELEASED; urgency=medium\n\n' "$version"
		printf '  * Snapshot of %s, built by make deb.\n\n' "$version"
		printf ' -- %s  %s\n\n' "$(dpkg-parsechangelog -l debian/changelog -S Maintainer)" \
			"$(date -R)"
		cat debian/changelog
	} > "$src/debian/changelog"
fi

# Both cores unless the caller said otherwise.
DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=2}
export DEB_BUILD_OPTIONS
(cd "$src" && dpkg-buildpackage -us -uc -b)
rm -rf "$src"
ls "$out"/xdpban_"$version"_*.deb
