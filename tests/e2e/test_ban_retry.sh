#!/bin/bash
# A ban that fails for want of a descriptor is tried again, not dropped
# (issue 17, item 1): the daemon runs with an LD_PRELOAD shim
# (lib/fail_open.c) that makes opening the pin directory (the pin lock every
# ban takes) fail with EMFILE while a flag file exists. Failures that reach
# the ban threshold meanwhile: no ban yet, one warning, the ban waiting
# (.faults.bans_waiting, .faults.bans_retried); the flag removed, the ban
# reaches the kernel and the store within the next ticks, nothing waits.
# shellcheck source=tests/e2e/lib.sh
# shellcheck disable=SC2317 # the test functions are called through e2e_main
. "$(dirname "$0")/lib.sh"

BAN_ADDR=203.0.113.41

e2e_setup() {
	daemon_files
	daemon_conf_two_failures
	cc -shared -fPIC -O2 -o "$WORK/fail_open.so" "$E2E_DIR/lib/fail_open.c" -ldl
	printf '#!/bin/sh\nLD_PRELOAD=%s XB_FAIL_OPEN=%s XB_FAIL_FLAG=%s exec %s "$@"\n' \
		"$WORK/fail_open.so" "$PIN" "$WORK/no-descriptors" "$XDPBAN" >"$WORK/xdpban-shim"
	chmod +x "$WORK/xdpban-shim"
	XDPBAN=$WORK/xdpban-shim start_daemon
}

e2e_teardown() {
	stop_daemon >/dev/null 2>&1
}

in_store() { # in_store ADDR: a live ban of ADDR in the store
	xb --json list | jq -e --arg a "$1" '[.bans[] | select(.prefix == $a)] | length > 0' >/dev/null
}

test_transient_failure_is_retried() {
	touch "$WORK/no-descriptors"
	fail_twice "$BAN_ADDR"
	check_not "no ban while no descriptor is to be had" banned "$BAN_ADDR"
	check "the daemon said it will try again" daemon_said "cannot ban $BAN_ADDR yet"
	check_eq "the ban waits" 1 "$(status .faults.bans_waiting)"
	sleep 2
	check_eq "still waiting, said once" 1 "$(grep -c "cannot ban $BAN_ADDR yet" "$DAEMON_ERR")"
	rm "$WORK/no-descriptors"
	check "once descriptors are back, the ban reaches the kernel" wait_until 5 banned "$BAN_ADDR"
	check "and the store" wait_until 5 in_store "$BAN_ADDR"
	check_eq "nothing waits" 0 "$(status .faults.bans_waiting)"
	check_eq "counted once" 1 "$(status .faults.bans_retried)"
	check_not "no ban was given up" daemon_said "cannot ban $BAN_ADDR:"
}

e2e_main test_transient_failure_is_retried
