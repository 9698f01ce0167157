// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flood generator's driver. Run inside the generator's network
 * namespace, it loads bench/flood_gen.bpf.c, fills its source pool from a
 * file of IPv4 addresses (one per line), and runs it through
 * BPF_PROG_TEST_RUN in live-frames mode on DEV for SECONDS: each run turns
 * the template frame into a valid SYN from a random source and transmits it
 * to DEV's veth peer. Prints one JSON object:
 *   {"sent":N,"seconds":S,"cpu_ns":C}
 *
 *   flood DEV SRC_MAC DST_MAC DST_IP DST_PORT SOURCES_FILE SECONDS [CPU]
 *
 * The peer's NAPI is scheduled on this CPU and runs when each batch ends
 * (softirqs run as the batch re-enables them), so the receiver's work is
 * done inline, in this process's time: cpu_ns is the CPU time of generator
 * and receiver together. "sent" counts the frames handed to the veth; the
 * receiver counts what it actually processed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench_util.h"
#include "flood_gen.skel.h"

#define POOL_SIZE  (1 << 20) /* as in flood_gen.bpf.c */
#define CHUNK	   (1 << 18) /* frames per BPF_PROG_TEST_RUN call */
#define BATCH_SIZE 128	     /* frames per batch: fewer than the veth's ring of 256 */

static void parse_mac(const char *text, unsigned char mac[ETH_ALEN])
{
	if (sscanf(text, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		   &mac[4], &mac[5]) != ETH_ALEN)
		bench_die("not a MAC address", text);
}

/* The frame every run starts from; the program writes the source, ports and checksums. */
static struct bench_syn_frame template_frame(const char *src_mac, const char *dst_mac,
					     const char *dst_ip, const char *dst_port)
{
	struct in_addr dest;
	struct bench_syn_frame f;

	if (inet_pton(AF_INET, dst_ip, &dest) != 1)
		bench_die("not an IPv4 address", dst_ip);
	f = bench_syn_frame(0, dest.s_addr, (unsigned short)atoi(dst_port));
	parse_mac(src_mac, f.eth.h_source);
	parse_mac(dst_mac, f.eth.h_dest);
	return f;
}

/* This thread's CPU time in ns, softirqs run in its context included. */
static unsigned long long cpu_time_ns(void)
{
	unsigned long long ns = 0;
	FILE *file = fopen("/proc/thread-self/schedstat", "r");

	if (!file || fscanf(file, "%llu", &ns) != 1)
		bench_die("/proc/thread-self/schedstat", "unreadable");
	fclose(file);
	return ns;
}

/* Fills the whole pool, repeating the file's addresses when it has fewer. */
static void fill_pool(int map_fd, const char *path)
{
	static __u32 keys[POOL_SIZE], values[POOL_SIZE];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	char line[64];
	size_t count = 0;
	__u32 n = POOL_SIZE;
	FILE *file = fopen(path, "r");

	if (!file)
		bench_die(path, strerror(errno));
	while (count < POOL_SIZE && fgets(line, sizeof(line), file)) {
		line[strcspn(line, " \n")] = '\0';
		if (inet_pton(AF_INET, line, &values[count]) != 1)
			bench_die("not an IPv4 address in the sources file", line);
		count++;
	}
	fclose(file);
	if (count == 0)
		bench_die(path, "no address");
	for (size_t i = 0; i < POOL_SIZE; i++) {
		keys[i] = (__u32)i;
		values[i] = values[i % count];
	}
	if (bpf_map_update_batch(map_fd, keys, values, &n, &opts))
		bench_die("fill the source pool", strerror(errno));
}

int main(int argc, char **argv)
{
	struct flood_gen_bpf *skel;
	struct bench_syn_frame frame;
	struct xdp_md md = { 0 };
	unsigned long long sent = 0, cpu_start;
	double seconds, start;

	if (argc < 8 || argc > 9) {
		fprintf(stderr, "usage: flood DEV SRC_MAC DST_MAC DST_IP DST_PORT SOURCES_FILE "
				"SECONDS [CPU]\n");
		return EXIT_FAILURE;
	}
	frame = template_frame(argv[2], argv[3], argv[4], argv[5]);
	seconds = atof(argv[7]);
	md.data_end = sizeof(frame); /* the kernel wants the frame's length here */
	md.ingress_ifindex = if_nametoindex(argv[1]);
	if (!md.ingress_ifindex)
		bench_die(argv[1], strerror(errno));
	bench_pin_cpu(argc == 9 ? atoi(argv[8]) : -1);
	skel = flood_gen_bpf__open_and_load();
	if (!skel)
		bench_die("load flood_gen (root needed)", strerror(errno));
	fill_pool(bpf_map__fd(skel->maps.flood_sources), argv[6]);

	cpu_start = cpu_time_ns();
	start = bench_now();
	while (bench_now() - start < seconds) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = &frame,
			    .data_size_in = sizeof(frame), .ctx_in = &md, .ctx_size_in = sizeof(md),
			    .repeat = CHUNK, .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			    .batch_size = BATCH_SIZE);

		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.flood_gen), &opts))
			bench_die("BPF_PROG_TEST_RUN in live-frames mode (kernel 5.18 or later)",
				  strerror(errno));
		sent += CHUNK;
	}
	printf("{\"sent\":%llu,\"seconds\":%.6f,\"cpu_ns\":%llu}\n", sent, bench_now() - start,
	       cpu_time_ns() - cpu_start);
	flood_gen_bpf__destroy(skel);
	return EXIT_SUCCESS;
}
