#!/bin/sh
# Prints xdpban's version: git's description of the tree when it has a
# release tag (v0.2.0, v0.2.0-3-gabc1234, with -dirty for local changes),
# else the VERSION file's number with the commit (0.1.0+git118.abc1234) in a
# clone without tags, else the VERSION file alone (a release tarball).
cd "$(dirname "$0")/.." || exit 1
base=$(cat VERSION)
if git rev-parse --git-dir >/dev/null 2>&1; then
	if described=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
		echo "${described#v}"
		exit 0
	fi
	count=$(git rev-list --count HEAD 2>/dev/null) &&
		hash=$(git rev-parse --short HEAD 2>/dev/null) &&
		dirty=$(git diff --quiet HEAD 2>/dev/null || echo .dirty) &&
		echo "$base+git$count.$hash$dirty" && exit 0
fi
echo "$base"
