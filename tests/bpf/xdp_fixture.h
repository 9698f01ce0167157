/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every BPF test starts from: the XDP program loaded with fresh,
 * unpinned maps (a running xdpban is neither seen nor touched), and a
 * frame's verdict. Include after cmocka.h.
 */
#ifndef XDPBAN_TEST_XDP_FIXTURE_H
#define XDPBAN_TEST_XDP_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "kernel/pins.h"
#include "kernel/settings.h"
#include "packets.h"
#include "unit.h"
#include "kernel/ban_table.h"
#include "lib/clock.h"
#include "xdpban.skel.h"

/* The program and maps of this test alone; NULL when it cannot be loaded. */
static inline struct xdpban_bpf *xdpban_load_private(void)
{
	struct xdpban_bpf *skel = xdpban_bpf__open();
	struct bpf_map *map;

	if (!skel)
		return NULL;
	bpf_object__for_each_map(map, skel->obj) bpf_map__set_pin_path(map, NULL);
	if (xdpban_bpf__load(skel)) {
		xdpban_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* The skeleton's ban tables, mapped; ban_table_release() when done. */
static inline void xdpban_map_bans(struct xdpban_bpf *skel, struct ban_table *table)
{
	char why[ERRMSG_LEN];

	if (ban_table_map(table, bpf_map__fd(skel->maps.ban4), bpf_map__fd(skel->maps.ban6),
			  bpf_map__fd(skel->maps.ban_info4), bpf_map__fd(skel->maps.ban_info6),
			  bpf_map__fd(skel->maps.ban_meta), why))
		fail_msg("%s", why);
}

/* An exact-address ban (expires_ns 0: permanent), as user space makes it. */
static inline void xdpban_ban_host(struct xdpban_bpf *skel, const struct addr_key *addr,
				   __u64 expires_ns)
{
	struct ban_slot slot = { .addr = *addr };
	struct ban_table table;

	ban_slot_set_end(&slot, expires_ns);
	xdpban_map_bans(skel, &table);
	if (ban_table_put(&table, &slot, clock_now_ns(), NULL, NULL))
		fail_msg("no room for an exact ban");
	ban_table_release(&table);
}

/*
 * The same, for tests that go through user space's map code: maps gets the
 * descriptors and the config is initialised. Skips the test (exit 77)
 * without root.
 */
static inline struct xdpban_bpf *xdpban_load_private_maps(const char *test, struct maps *maps)
{
	struct xdpban_bpf *skel;
	char why[ERRMSG_LEN];

	if (geteuid() != 0) {
		fprintf(stderr, "%s: skipped: needs root to load BPF programs\n", test);
		exit(77);
	}
	skel = xdpban_load_private();
	if (!skel)
		fail_msg("cannot load the XDP program");
	if (pins_from_object(skel->obj, maps, why) || settings_init(maps->config, why))
		fail_msg("%s", why);
	return skel;
}

/* The frame's verdict (runts as packets.h's pkt_run sends them). */
static inline __u32 xdpban_verdict(struct xdpban_bpf *skel, const __u8 *frame, size_t len)
{
	__u32 action;
	int err = pkt_run(bpf_program__fd(skel->progs.xdpban), frame, len, &action);

	if (err)
		fail_msg("test run of %zu bytes: %s", len, strerror(-err));
	return action;
}

#endif
