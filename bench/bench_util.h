/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What every benchmark program shares: failing loudly, medians, the clock, CPU pinning. */
#ifndef XDPBAN_BENCH_UTIL_H
#define XDPBAN_BENCH_UTIL_H

#include <stddef.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>

struct bench_syn_frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

/* An IPv4 TCP SYN (addresses in network order); checksums and MACs left zero. */
struct bench_syn_frame bench_syn_frame(__be32 source, __be32 dest, unsigned short dport);

struct bench_syn_frame6 {
	struct ethhdr eth;
	struct ipv6hdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

/* The same over IPv6 (16-byte addresses). */
struct bench_syn_frame6 bench_syn_frame6(const void *source, const void *dest,
					 unsigned short dport);

/* Prints "PROGRAM: WHAT: WHY" and exits non-zero. */
__attribute__((noreturn)) void bench_die(const char *what, const char *why);
/* The median of n values (sorts them in place). */
double bench_median(double *values, size_t n);
/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);
/* Runs the calling thread on one CPU only; -1 leaves it as it is. */
void bench_pin_cpu(int cpu);

#endif
