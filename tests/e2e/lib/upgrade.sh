# shellcheck shell=bash
# Upgrade tests: the previous version built from this clone's history, and
# the program's own verdicts (bpftool prog run, BPF_PROG_TEST_RUN) on SYN
# frames from chosen sources, before and after. Sourced by the test_upgrade*.sh.

OLD=${XDPBAN_OLD:-}

old_xb() {
	in_ns "$SRV" "$OLD" --pin-dir "$PIN" --state-dir "$WORK/old-state" "$@"
}

# build_old COMMIT ABI: the old binary, built from the history when
# XDPBAN_OLD names none (about 10 s); a clone without COMMIT skips the test.
build_old() {
	local commit=$1 abi=$2 src=$WORK/old-src
	if [ -n "$OLD" ]; then
		return 0
	fi
	if ! git -C "$REPO" cat-file -e "$commit^{commit}" 2>/dev/null; then
		echo "1..0 # SKIP: commit $commit (map ABI $abi) is not in this clone's history; XDPBAN_OLD=PATH names its binary"
		exit 0
	fi
	diag "building xdpban at $commit (map ABI $abi)"
	mkdir -p "$src"
	git -C "$REPO" archive "$commit" | tar -x -C "$src"
	make -s -C "$src" build/xdpban >"$WORK/old-build.log" 2>&1
	OLD=$src/build/xdpban
}

# syn_frames DIR: a TCP SYN to port 143 from each address on stdin, one file each.
syn_frames() {
	mkdir -p "$1"
	perl -MSocket=inet_pton,AF_INET,AF_INET6 -e '
		my ($dir, $n) = ($ARGV[0], 0);
		my $tcp = pack("nnNNCCnnn", 40000, 143, 1, 0, 0x50, 0x02, 65535, 0, 0);
		while (my $a = <STDIN>) {
			chomp $a;
			my $eth = pack("H12H12", "020000000001", "020000000002");
			my $frame = $a =~ /:/
			    ? $eth . pack("nNnCC", 0x86dd, 0x60000000, 20, 6, 64)
			      . inet_pton(AF_INET6, $a) . inet_pton(AF_INET6, "2001:db8:1::1") . $tcp
			    : $eth . pack("nCCnnnCCn", 0x0800, 0x45, 0, 40, 0, 0x4000, 64, 6, 0)
			      . inet_pton(AF_INET, $a) . inet_pton(AF_INET, "192.0.2.1") . $tcp;
			open(my $f, ">", "$dir/" . $n++ . ".bin") or die "$dir: $!";
			print $f $frame;
			close $f;
		}' "$1"
}

# verdicts PROG_ID DIR: how many of DIR's frames the program drops, and passes.
verdicts() {
	local f
	for f in "$2"/*.bin; do
		echo "prog run id $1 data_in $f"
	done >"$WORK/run.batch"
	bpftool batch file "$WORK/run.batch" |
		awk '/Return value: 1,/ { drop++ } /Return value: 2,/ { pass++ }
			END { printf "%d dropped, %d passed\n", drop, pass }'
}

# prog_id BINARY: the program the first interface runs, as BINARY reports it.
prog_id() {
	"$1" --pin-dir "$PIN" --json status | jq -r '.interfaces[0].prog_id'
}

# prog_ids BINARY: every interface's program, as a JSON array.
prog_ids() {
	"$1" --pin-dir "$PIN" --json status | jq -c '[.interfaces[].prog_id]'
}

# runs_none_of IDS: how many links still run one of the programs of the JSON array IDS.
runs_none_of() {
	xb --json status | jq --argjson old "$1" '[.interfaces[].prog_id | select(IN($old[]))] | length'
}
