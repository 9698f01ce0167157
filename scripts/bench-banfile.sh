#!/bin/bash
# The time of `xdpban ban --file` with 1,048,576 addresses into fresh pins,
# this build beside an earlier one (XDPBAN_BASELINE=PATH, for instance a
# build of the previous release), in interleaved rounds; prints a Markdown
# table of the medians and their ratio. Root; private pin directories only.
#
#   scripts/bench-banfile.sh [ROUNDS]
set -eu
cd "$(dirname "$0")/.."

ROUNDS=${1:-3}
NEW=${XDPBAN:-build/xdpban}
OLD=${XDPBAN_BASELINE:-}
WORK=$(mktemp -d /tmp/xdpban-banfile.XXXXXX)
PIN=/sys/fs/bpf/xdpban-banfile-$$
trap 'rm -rf "$WORK" "$PIN"' EXIT

awk 'BEGIN { for (i = 0; i < 1048576; i++)
	printf "10.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256 }' >"$WORK/bans.txt"

# seconds BINARY: one ban --file into new pins, in seconds.
seconds() {
	local start end
	rm -rf "$PIN"
	start=$(date +%s.%N)
	"$1" --pin-dir "$PIN" --state-dir "$WORK" ban --force --file "$WORK/bans.txt" >/dev/null
	end=$(date +%s.%N)
	echo "$end - $start" | bc
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

: >"$WORK/new"
: >"$WORK/old"
for ((r = 0; r < ROUNDS; r++)); do
	seconds "$NEW" >>"$WORK/new"
	[ -z "$OLD" ] || seconds "$OLD" >>"$WORK/old"
done
new=$(median <"$WORK/new")
echo "xdpban ban --file, 1,048,576 addresses into fresh pins, median of $ROUNDS rounds"
echo
echo "| build | seconds |"
echo "| --- | ---: |"
if [ -n "$OLD" ]; then
	old=$(median <"$WORK/old")
	echo "| $OLD | $old |"
fi
echo "| $NEW | $new |"
[ -z "$OLD" ] || echo "| ratio (earlier / this) | $(echo "scale=2; $old / $new" | bc) |"
