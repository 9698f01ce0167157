#!/bin/bash
# The chart of a benchmark run: scripts/bench-chart.sh RESULTS.json OUT.png
# Four panels from results.json: the flood, per-packet cost, ban insertion,
# detection. A part that did not run shows an empty panel.
set -euo pipefail

JSON=$1
PNG=$2
command -v gnuplot >/dev/null || exit 1
DATA=$(mktemp -d /tmp/xdpban-chart.XXXXXX)
trap 'rm -rf "$DATA"' EXIT

# series FILE JQ: "label<TAB>value" lines, or one empty bar when there is none.
series() {
	jq -r "$2 | @tsv" "$JSON" >"$DATA/$1" 2>/dev/null || true
	[ -s "$DATA/$1" ] || printf 'not run\t0\n' >"$DATA/$1"
}

series flood '.parts.flood.receivers // [] | sort_by(-.processed_pps)[] | [.receiver, .processed_pps / 1e6]'
series cost '.parts.prog_cost.rows // [] | map(select(.bans == 1000000))[]
	| [.verdict + " pool " + (.pool | tostring), .own_ns, .floor_ns, .one_frame_own_ns,
	   (.lookup_ns // 0)]'
series insert '.parts.insert.timings // {} | to_entries[] | select(.value.seconds != null)
	| select(.key | test("bulk|world")) | [.key, .value.seconds]'
series detect '[(.parts.detect.sides // [])[] | select(.side != "fail2ban_filter")
	| ["lines/s " + .side, .lines_per_second]] + [(.parts.latency.sides // [])[]
	| ["ban ms " + .side, (.median_s * 1000)]] | .[]'

gnuplot <<-PLOT
	set terminal png size 1400,1000 font ",10"
	set datafile separator "\t"
	set termoption noenhanced
	set output "$PNG"
	set multiplot layout 2,2 title "xdpban benchmarks, one run ($(jq -r '.date' "$JSON"))"
	set style data histogram
	set style histogram clustered gap 1
	set style fill solid 0.8 border -1
	set boxwidth 0.9
	set grid ytics
	set xtics rotate by -20 noenhanced
	set key noenhanced
	set title "SYN flood through veth: packets processed (M/s)"
	plot "$DATA/flood" using 2:xtic(1) title "M packets/s"
	set title "Per packet above draw + XDP_DROP, 1M bans + world database (ns, BPF_PROG_TEST_RUN)"
	plot "$DATA/cost" using 2:xtic(1) title "xdpban, random sources", \
	     "" using 3 title "floor: one 64-byte line read", "" using 4 title "xdpban, one frame", \
	     "" using 5 title "the exact-ban lookup alone"
	set title "Ban insertion in bulk and the world database (s, log)"
	set logscale y
	plot "$DATA/insert" using 2:xtic(1) title "seconds"
	set title "Detection: lines/s and live ban latency (ms), log"
	plot "$DATA/detect" using 2:xtic(1) title "value"
	unset multiplot
PLOT
