// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The floor every benchmark is measured against: a program that only drops. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
