/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * "Now", on the two clocks xdpban reads: CLOCK_MONOTONIC, the clock ban
 * deadlines are kept in (the XDP program compares them with
 * bpf_ktime_get_ns(), see the map ABI), and the wall clock, for what is
 * stored or shown to people (the store's rows, the fleet's messages).
 */
#ifndef XDPBAN_CLOCK_H
#define XDPBAN_CLOCK_H

#include <stdint.h>

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MS  1000000ULL

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t clock_now_ns(void);

/* The wall clock: Unix seconds, and microseconds. */
int64_t clock_wall_s(void);
int64_t clock_wall_us(void);

#endif
