#!/bin/bash
# `xdpban logtest` on the logs written by real Dovecot, Postfix, sshd, Exim
# and Roundcube (tests/fixtures/logs/ and its injection/): valid JSON lines,
# the exact counts, no address taken from a user name, a HELO, a sender or
# a proxy header, Exim's rejections apart, standard input, and its errors. Needs no root and
# no network; prints TAP-like "ok N" lines and the plan last.
set -u

cd "$(dirname "$0")/../.." || exit 1
XDPBAN=${XDPBAN:-build/xdpban}
FIX=tests/fixtures/logs
ATTACKER=203.0.113.9 # the address every crafted user name in the fixtures names
ATTACKER2=192.0.2.99 # the same in generate-chroot.sh's (Exim, Roundcube)

n=0
failed=0
OUT=$(mktemp /tmp/xdpban-logtest.XXXXXX)
trap 'rm -f "$OUT" "$OUT.err" "$OUT.2"' EXIT

pass() {
	n=$((n + 1))
	echo "ok $n - $1"
}
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for line in "$@"; do echo "# $line"; done
}
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "failed: $*"; fi
}

# summary_is FILE SOURCE LINES FAILURES SUCCESSES ATTEMPTS REJECTED
summary_is() {
	"$XDPBAN" logtest --source "$2" "$FIX/$1" >"$OUT" 2>"$OUT.err" || return 1
	jq -e --argjson l "$3" --argjson f "$4" --argjson s "$5" --argjson a "$6" \
		--argjson r "$7" \
		'select(has("lines")) | .lines == $l and .failures == $f and .successes == $s
		 and .attempts == $a and .rejected == $r and .lines_per_second > 0' "$OUT" >/dev/null
}

events_are_well_formed() {
	# every line is JSON; events have every field; the summary counts them
	jq -e -s '
		(map(select(has("outcome"))) as $ev | last as $sum |
		 ($ev | all(has("line") and has("time") and (.ip | type == "string") and
		            (.user | type == "string") and (.service | length > 0) and
		            .attempts >= 1 and (.outcome | IN("fail", "ok", "rejected")) and
		            (.source | IN("dovecot", "postfix", "sshd", "exim", "roundcube")))) and
		 ($ev | map(select(.outcome == "rejected")) |
		  all(.source == "exim" and .user == "" and .attempts == 1) and
		  length == $sum.rejected) and
		 ($ev | map(select(.outcome == "fail")) | length) == $sum.failures and
		 ($ev | map(select(.outcome == "ok")) | length) == $sum.successes and
		 ($ev | map(select(.outcome == "fail") | .attempts) | add // 0) == $sum.attempts)
	' "$OUT" >/dev/null
}

no_attacker_address() {
	! jq -r 'select(has("outcome")) | .ip' "$OUT" | grep -qxF -e "$ATTACKER" -e "$ATTACKER2"
}

if [ ! -x "$XDPBAN" ]; then
	fail "build/xdpban exists" "run make first"
	echo "1..$n"
	exit 1
fi

#            file                              source    lines fail ok attempts rejected
while read -r file source lines failures successes attempts rejected; do
	check "$file: summary counts ($failures failures, $successes successes, $rejected rejected)" \
		summary_is "$file" "$source" "$lines" "$failures" "$successes" "$attempts" "$rejected"
	check "$file: JSON lines, every field, counts agree" events_are_well_formed
	check "$file: no address from the client's text" no_attacker_address
done <<'EOF'
dovecot.log                        auto      16 11 2 15 0
dovecot-verbose.log                dovecot   48 25 2 25 0
dovecot-logpath.log                auto       8  4 1  4 0
postfix.log                        postfix   39  7 1  7 0
sshd.log                           sshd      83 19 2 19 0
exim.log                           exim      25  6 0  6 7
roundcube-errors.log               roundcube  4  4 0  4 0
roundcube-userlogins.log           roundcube  5  4 1  4 0
injection/exim.log                 exim       9  5 0  5 2
injection/roundcube-errors.log     roundcube  6  6 0  6 0
injection/roundcube-userlogins.log roundcube  6  6 0  6 0
EOF

# Exim's rejections: relaying, an unknown recipient, sender verification
# (counted once with its rejection), a synchronization error, too many
# HELPs, each from the client's own address; the authenticated client's
# rejection, the deferrals and the syntax errors not at all.
"$XDPBAN" logtest --source exim "$FIX/exim.log" >"$OUT" 2>"$OUT.err"
check "exim.log: the rejected lines are the 7 of Exim's fixed texts" jq -e -s '
	map(select(.outcome == "rejected") | .line) == [8, 11, 12, 13, 15, 16, 21]' "$OUT"

# All fixtures as one stream through standard input, each line once.
cat "$FIX"/dovecot.log "$FIX"/postfix.log "$FIX"/sshd.log | "$XDPBAN" logtest - >"$OUT" 2>"$OUT.err"
check "standard input ('-'), mixed programs: well formed" events_are_well_formed
check "standard input: the three sources found" \
	jq -e -s 'last.by_source | .dovecot.failures > 0 and .postfix.failures > 0 and .sshd.failures > 0' "$OUT"

"$XDPBAN" logtest --source sshd "$FIX/dovecot.log" >"$OUT" 2>"$OUT.err"
check "--source sshd finds nothing in Dovecot's log" jq -e 'select(has("lines")) | .failures == 0 and .successes == 0' "$OUT"

"$XDPBAN" logtest --quiet "$FIX/sshd.log" >"$OUT" 2>"$OUT.err"
check "--quiet prints the summary only" test "$(wc -l <"$OUT")" -eq 1

if "$XDPBAN" logtest --source courier "$FIX/sshd.log" >"$OUT" 2>"$OUT.err"; then
	fail "an unknown --source is refused"
else
	check "an unknown --source is refused, naming it" grep -q "courier" "$OUT.err"
fi
if "$XDPBAN" logtest /nonexistent/xdpban.log >"$OUT" 2>"$OUT.err"; then
	fail "a missing file is an error"
else
	check "a missing file is an error, naming it" grep -q "/nonexistent/xdpban.log" "$OUT.err"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
