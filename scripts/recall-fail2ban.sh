#!/bin/bash
# Recall of `xdpban logtest` on fail2ban's own annotated sample logs (Debian's
# fail2ban package ships them; each failure line follows a "# failJSON:"
# comment naming its host). Not a test (it needs the fail2ban package): run
# by hand or with `make recall`. For each filter, in the mode fail2ban's jail
# uses (the default mode; postfix's postfix-sasl jail uses mode auth), prints
#   lines annotated as a failure with an address, how many xdpban found with
#   that address (recall), failures it reported with another address (wrong),
#   and failures it reported on lines annotated as no match.
# Each sample log is read whole, in order, as the daemon would read it.
#   scripts/recall-fail2ban.sh [--markdown] [--misses]
set -euo pipefail

cd "$(dirname "$0")/.." || exit 1
XDPBAN=${XDPBAN:-build/xdpban}
SAMPLES=${SAMPLES:-/usr/lib/python3/dist-packages/fail2ban/tests/files/logs}
FORMAT=text
MISSES=no
for arg in "$@"; do
	case $arg in
	--markdown) FORMAT=markdown ;;
	--misses) MISSES=yes ;;
	*)
		echo "usage: $0 [--markdown] [--misses]" >&2
		exit 2
		;;
	esac
done
[ -d "$SAMPLES" ] || {
	echo "$0: $SAMPLES not found: apt-get install fail2ban (its services need not run)" >&2
	exit 1
}
[ -x "$XDPBAN" ] || {
	echo "$0: $XDPBAN not built: make" >&2
	exit 1
}
WORK=$(mktemp -d /tmp/xdpban-recall.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# filter (the sample log's name), the mode its jail runs, the xdpban source
# that reads such a log, and which of its lines: all, or only its
# authentication lines (Exim's jail also bans relaying, sender verification
# and protocol abuse, which xdpban reports as outcome "rejected", counted
# here too; the auth row shows the authentication failures alone)
FILTERS=("dovecot normal dovecot all" "sshd normal sshd all" "postfix auth postfix all"
	"exim normal exim all" "exim normal exim auth" "roundcube-auth normal roundcube all")

for entry in "${FILTERS[@]}"; do
	read -r name mode source lines <<<"$entry"
	"$XDPBAN" logtest --source "$source" "$SAMPLES/$name" >"$WORK/$name.jsonl"
	python3 - "$SAMPLES/$name" "$mode" "$WORK/$name.jsonl" "$name" "$MISSES" "$lines" <<'PY'
import ipaddress, json, re, sys

log, mode, results, name, show_misses, subset = sys.argv[1:7]
AUTH_LINES = re.compile(r"authenticator failed|AUTH command used when not advertised")

def in_mode(options):
    """Whether a block's filterOptions run the filter in the wanted mode."""
    if not isinstance(options, list):
        options = [options]
    for opt in options:
        cond = opt.get("test.condition")
        if cond and not eval(cond, {}, {"name": name}):
            continue
        if opt.get("logtype") == "journal":
            continue
        if opt.get("mode", "normal" if mode != "auth" else None) == mode:
            return True
    return False

def addr(text):
    try:
        a = ipaddress.ip_address(text)
    except ValueError:
        return None
    if a.version == 6 and a.ipv4_mapped:
        return a.ipv4_mapped
    return a

expect = {}  # line number -> (match, host or None)
active = True
with open(log, encoding="utf-8", errors="replace") as f:
    lines = f.read().split("\n")
i = 0
while i < len(lines):
    m = re.match(r"^#+ ?(failJSON|filterOptions|fileOptions|addFILE):(.+)$", lines[i])
    if m and m.group(1) == "filterOptions":
        active = in_mode(json.loads(m.group(2)))
    elif m and m.group(1) == "failJSON":
        data = json.loads(m.group(2))
        constraint = data.get("constraint")
        opts = {} if mode == "normal" else {"mode": mode}
        wanted = subset == "all" or AUTH_LINES.search(lines[i + 1] if i + 1 < len(lines) else "")
        if active and wanted and (not constraint or eval(constraint, {}, {"name": name, "opts": opts})):
            expect[i + 2] = (data.get("match", False), data.get("host"))
        i += 1
    i += 1

found = {}
for line in open(results):
    rec = json.loads(line)
    if rec.get("outcome") in ("fail", "rejected"):
        found.setdefault(rec["line"], []).append(rec["ip"])

want = hit = wrong = on_nomatch = 0
misses = []
for n, (match, host) in sorted(expect.items()):
    got = [addr(ip) for ip in found.get(n, [])]
    if match:
        h = addr(host) if host else None
        if h is None:
            continue  # no host, or a host name: no address to find
        want += 1
        if h in got:
            hit += 1
        else:
            misses.append(n)
        wrong += sum(1 for g in got if g != h)
    elif got:
        on_nomatch += 1
        misses.append(n)
recall = 100.0 * hit / want if want else 100.0
label = name if subset == "all" else "%s (%s lines)" % (name, subset)
print("%s\t%s\t%d\t%d\t%.1f\t%d\t%d" % (label, mode, want, hit, recall, wrong, on_nomatch))
if show_misses == "yes":
    for n in misses:
        print("  %d: %s" % (n, lines[n - 1][:200]), file=sys.stderr)
PY
done >"$WORK/table.tsv"

if [ "$FORMAT" = markdown ]; then
	echo "| filter | mode | failures with an address | found | recall | wrong addresses | failures on no-match lines |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
	awk -F'\t' '{ printf "| %s | %s | %s | %s | %s%% | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$WORK/table.tsv"
else
	printf '%-20s %-7s %8s %6s %7s %6s %9s\n' filter mode failures found recall wrong no-match
	awk -F'\t' '{ printf "%-20s %-7s %8s %6s %6s%% %6s %9s\n", $1, $2, $3, $4, $5, $6, $7 }' "$WORK/table.tsv"
fi
