#!/bin/bash
# Bulk load: `ban --file` of 100,000 addresses, then enforced.
# The three IPv4 documentation /24s hold only 762 hosts, so the addresses are
# IPv6 hosts in 2001:db8:ff::/48, plus client 1's own IPv6 address so that
# the test can see the loaded bans act in the data path.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

BULK_COUNT=100000

# bulk_file PATH: BULK_COUNT - 1 generated addresses and client 1's address.
bulk_file() {
	awk -v n=$((BULK_COUNT - 1)) 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "2001:db8:ff::%x:%x\n", int(i / 65536), i % 65536
	}' >"$1"
	echo "$CLI1_IP6" >>"$1"
}

test_bulk_ban_file() {
	local file=$WORK/bulk.txt started elapsed
	bulk_file "$file"
	check_eq "the bulk file has $BULK_COUNT distinct addresses" "$BULK_COUNT" \
		"$(sort -u "$file" | wc -l)"

	started=$(now_ms)
	xb ban --file "$file" >/dev/null
	elapsed=$(($(now_ms) - started))
	# Timed for the log only: the figures that compare live in make bench.
	diag "bulk ban of $BULK_COUNT addresses took $elapsed ms"

	started=$(now_ms)
	check_eq "list --json shows $BULK_COUNT bans" "$BULK_COUNT" "$(ban_count)"
	diag "list --json of $BULK_COUNT bans took $(($(now_ms) - started)) ms"

	check "a bulk-banned IPv6 client times out" times_out "$CLI1" "$SRV_IP6_1" 143
	check "an address outside the file still connects" connects "$CLI2" "$SRV_IP6_2" 143
}

e2e_main test_bulk_ban_file
