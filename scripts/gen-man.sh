#!/bin/sh
# Writes a man page from one of docs/*.md, so the page and the document
# cannot say different things: gen-man.sh SOURCE.md NAME SECTION SUMMARY VERSION > PAGE
# The document's title line becomes the page's header and a NAME section
# (NAME - SUMMARY, what whatis and apropos show); the text before its first
# "##" heading becomes DESCRIPTION, and every "##" heading a section.
set -eu
[ $# -eq 5 ] || { echo "usage: gen-man.sh SOURCE.md NAME SECTION SUMMARY VERSION" >&2; exit 2; }
src=$1 name=$2 section=$3 summary=$4 version=$5
# The date is the source's last change (git), or the file's, so a rebuild
# of the same tree makes the same page.
date=$(git -C "$(dirname "$src")" log -1 --format=%cs -- "$(basename "$src")" 2>/dev/null || true)
[ -n "$date" ] || date=$(date -u -r "$src" +%Y-%m-%d)
{
	printf '# NAME\n\n%s \\- %s\n\n# DESCRIPTION\n\n' "$name" "$summary"
	# Line 1 is the document's title; "## X" becomes "# X".
	sed -e 1d -e 's/^#\(#\{1,\}\) /\1 /' "$src"
} | pandoc --from=markdown-smart --to=man --standalone \
	--lua-filter="$(dirname "$0")/man-filter.lua" \
	--metadata=title:"$(echo "$name" | tr '[:lower:]' '[:upper:]')" \
	--metadata=section:"$section" --metadata=date:"$date" \
	--metadata=footer:"xdpban $version" --metadata=header:"xdpban"
