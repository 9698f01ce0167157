// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include "bench_util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void bench_die(const char *what, const char *why)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, why);
	exit(EXIT_FAILURE);
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *values, size_t n)
{
	qsort(values, n, sizeof(*values), compare_double);
	return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double bench_now(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

void bench_pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		bench_die("pin to a CPU", strerror(errno));
}

static struct tcphdr syn_header(unsigned short dport)
{
	struct tcphdr tcp = { 0 };

	tcp.source = htons(40000);
	tcp.dest = htons(dport);
	tcp.doff = 5;
	tcp.syn = 1;
	tcp.window = htons(64240);
	return tcp;
}

struct bench_syn_frame6 bench_syn_frame6(const void *source, const void *dest, unsigned short dport)
{
	struct bench_syn_frame6 f = { 0 };

	f.eth.h_proto = htons(ETH_P_IPV6);
	f.ip.version = 6;
	f.ip.payload_len = htons(sizeof(f.tcp));
	f.ip.nexthdr = IPPROTO_TCP;
	f.ip.hop_limit = 64;
	memcpy(&f.ip.saddr, source, sizeof(f.ip.saddr));
	memcpy(&f.ip.daddr, dest, sizeof(f.ip.daddr));
	f.tcp = syn_header(dport);
	return f;
}

struct bench_syn_frame bench_syn_frame(__be32 source, __be32 dest, unsigned short dport)
{
	struct bench_syn_frame f = { 0 };

	f.eth.h_proto = htons(ETH_P_IP);
	f.ip.version = 4;
	f.ip.ihl = 5;
	f.ip.ttl = 64;
	f.ip.protocol = IPPROTO_TCP;
	f.ip.frag_off = htons(0x4000); /* DF */
	f.ip.tot_len = htons(sizeof(f.ip) + sizeof(f.tcp));
	f.ip.saddr = source;
	f.ip.daddr = dest;
	f.tcp = syn_header(dport);
	return f;
}
