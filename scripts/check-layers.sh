#!/bin/bash
# Fails when a file of user/ includes a header of a subsystem folder its own
# folder may not use (README "Layout"), or another folder's private
# *-internal.h. Headers are included by their folder
# ("bans/store.h"), or by name alone from the same folder (or maps/ and the
# build's generated headers), so the folder of every include is known from
# the line itself.
set -u
cd "$(dirname "$0")/.." || exit 1

# folder: the folders it may include besides itself (maps/ is open to all).
declare -A may_use=(
	[lib]=""
	[kernel]="lib"
	[geo]="lib kernel"
	[bans]="lib kernel geo"
	[detect]="lib"
	[conf]="lib detect"
	[serve]="lib detect conf"
	[peers]="lib kernel bans detect conf"
	[daemon]="lib kernel geo bans detect conf serve peers"
	[cli]="lib kernel geo bans detect conf serve peers daemon"
)

bad=0
for file in user/*/*.[ch] user/*.[ch]; do
	[ -e "$file" ] || continue
	folder=$(basename "$(dirname "$file")")
	if [ -z "${may_use[$folder]+set}" ]; then
		echo "check-layers: $file: folder '$folder' is not in the layer table" >&2
		bad=1
		continue
	fi
	while IFS=: read -r line header; do
		used=${header%%/*}
		[ "$used" = "$header" ] && used=$folder # same folder, by name alone
		# A folder's *-internal.h (daemon/daemon-internal.h) is its own.
		if [ "$used" != "$folder" ] && [[ $header == *-internal.h ]]; then
			echo "check-layers: $file:$line: $header is private to $used/" >&2
			bad=1
			continue
		fi
		[ "$used" = "$folder" ] && continue
		case " ${may_use[$folder]} " in *" $used "*) continue ;; esac
		echo "check-layers: $file:$line: $folder/ may not include $header" >&2
		bad=1
	done < <(grep -n '^#include "' "$file" | sed 's/:#include "\([^"]*\)".*/:\1/')
done
[ "$bad" -eq 0 ] && echo "check-layers: every include keeps to its layer"
exit "$bad"
