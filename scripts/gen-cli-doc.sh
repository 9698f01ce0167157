#!/bin/sh
# Writes the command reference from docs/cli.md.in and the binary's own
# --help texts, so the two never disagree: gen-cli-doc.sh [BINARY [OUT]]
# (default build/xdpban and docs/cli.md; the man page is made from OUT).
# @USAGE@ in the template becomes `xdpban --help`, @COMMANDS@ one section
# per command with its `xdpban COMMAND --help`.
set -eu
bin=${1:-build/xdpban}
out=${2:-docs/cli.md}
template=$(dirname "$0")/../docs/cli.md.in
commands() {
    "$bin" --help | sed -n 's/^  \([a-z]\{1,\}\) .*/\1/p; s/^  \([a-z]\{1,\}\)$/\1/p' | sort -u
}
while IFS= read -r line; do
    case $line in
    @USAGE@) "$bin" --help ;;
    @COMMANDS@)
        first=yes
        for cmd in $(commands); do
            [ $first = yes ] || echo
            first=no
            printf '### %s\n\n```\n' "$cmd"
            "$bin" "$cmd" --help
            echo '```'
        done
        ;;
    *) printf '%s\n' "$line" ;;
    esac
done < "$template" > "$out"
