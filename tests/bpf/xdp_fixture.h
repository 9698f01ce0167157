/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every BPF test starts from: the XDP program loaded with fresh,
 * unpinned maps (a running xdpban is neither seen nor touched), and the
 * CIDRs the test writes as text. Include after cmocka.h.
 */
#ifndef XDPBAN_TEST_XDP_FIXTURE_H
#define XDPBAN_TEST_XDP_FIXTURE_H

#include <bpf/libbpf.h>
#include "unit.h"
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

#endif
