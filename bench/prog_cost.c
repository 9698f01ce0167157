// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-packet cost of xdpban's XDP program through BPF_PROG_TEST_RUN, side by
 * side with a program that only returns XDP_DROP, in one run. Absolute
 * figures on a shared VM are noise; the ratios are the result.
 *
 * Each case runs ROUNDS times interleaved with the baseline (so drift hits
 * both alike), REPEAT packets a round; the median round is reported.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include "addr.h"
#include "bans.h"
#include "duration.h"
#include "settings.h"
#include "xdp_drop.skel.h"
#include "xdpban.skel.h"

#define REPEAT	  1000000
#define ROUNDS	  7
#define BULK_BANS 100000

struct syn_frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

static struct syn_frame syn_from(const char *source)
{
	struct syn_frame f = { 0 };

	f.eth.h_proto = htons(ETH_P_IP);
	f.ip.version = 4;
	f.ip.ihl = 5;
	f.ip.ttl = 64;
	f.ip.protocol = IPPROTO_TCP;
	f.ip.tot_len = htons(sizeof(f.ip) + sizeof(f.tcp));
	inet_pton(AF_INET, source, &f.ip.saddr);
	inet_pton(AF_INET, "192.0.2.1", &f.ip.daddr);
	f.tcp.source = htons(40000);
	f.tcp.dest = htons(143);
	f.tcp.doff = 5;
	f.tcp.syn = 1;
	return f;
}

/* ns per packet of one round; the verdict must be the expected one. */
static double round_ns(int prog_fd, const struct syn_frame *frame, int expected)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(*frame),
		    .repeat = REPEAT);

	if (bpf_prog_test_run_opts(prog_fd, &opts) || (int)opts.retval != expected) {
		fprintf(stderr, "prog_cost: test run failed or verdict %u != %d\n", opts.retval,
			expected);
		exit(EXIT_FAILURE);
	}
	return opts.duration; /* the kernel reports the mean ns per repetition */
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *values, size_t n)
{
	qsort(values, n, sizeof(*values), compare_double);
	return values[n / 2];
}

struct measurement {
	double xdpban_ns;
	double baseline_ns;
};

static struct measurement measure(int xdpban_fd, int baseline_fd, const struct syn_frame *frame,
				  int verdict)
{
	double ours[ROUNDS], floor[ROUNDS];

	for (int r = 0; r < ROUNDS; r++) {
		floor[r] = round_ns(baseline_fd, frame, XDP_DROP);
		ours[r] = round_ns(xdpban_fd, frame, verdict);
	}
	return (struct measurement){ median(ours, ROUNDS), median(floor, ROUNDS) };
}

static void report(const char *name, struct measurement m)
{
	printf("| %-38s | %9.1f | %9.1f | %6.2f |\n", name, m.xdpban_ns, m.baseline_ns,
	       m.xdpban_ns / m.baseline_ns);
}

/* Bans 10.x-free documentation-range-shaped addresses 2001:db8::N, plus one IPv4 host. */
static void load_bans(struct xdpban_bpf *skel, size_t count)
{
	struct ban_request *requests = calloc(count + 1, sizeof(*requests));
	char why[ERRMSG_LEN], text[64];
	struct maps maps;

	if (maps_from_object(skel->obj, &maps, why)) {
		fprintf(stderr, "prog_cost: %s\n", why);
		exit(EXIT_FAILURE);
	}
	for (size_t i = 0; i < count; i++) {
		snprintf(text, sizeof(text), "2001:db8::%zx:%zx", i >> 16, i & 0xffff);
		cidr_parse(text, &requests[i].key, why);
		requests[i].seconds = 3600;
	}
	cidr_parse("203.0.113.66", &requests[count].key, why);
	requests[count].seconds = 3600;
	if (bans_add(&maps, requests, count + 1, BAN_ORIGIN_MANUAL, why)) {
		fprintf(stderr, "prog_cost: %s\n", why);
		exit(EXIT_FAILURE);
	}
	free(requests);
}

int main(void)
{
	struct xdpban_bpf *skel = xdpban_bpf__open();
	struct xdp_drop_bpf *baseline = xdp_drop_bpf__open_and_load();
	struct syn_frame passing = syn_from("198.51.100.7"), banned = syn_from("203.0.113.66");
	struct bpf_map *map;
	char why[ERRMSG_LEN];
	int ours, floor;

	if (!skel || !baseline) {
		fprintf(stderr, "prog_cost: cannot open the BPF objects (root needed)\n");
		return EXIT_FAILURE;
	}
	bpf_object__for_each_map(map, skel->obj)
	    bpf_map__set_pin_path(map, NULL); /* private maps: never touch a real install */
	if (xdpban_bpf__load(skel) || settings_init(bpf_map__fd(skel->maps.xdpban_config), why)) {
		fprintf(stderr, "prog_cost: cannot load xdpban\n");
		return EXIT_FAILURE;
	}
	ours = bpf_program__fd(skel->progs.xdpban);
	floor = bpf_program__fd(baseline->progs.xdp_drop);

	printf("BPF_PROG_TEST_RUN, %d packets a round, median of %d rounds (ns/packet)\n\n", REPEAT,
	       ROUNDS);
	printf("| %-38s | %9s | %9s | %6s |\n", "case", "xdpban", "XDP_DROP", "ratio");
	printf("|%s|%s|%s|%s|\n", "----------------------------------------", "-----------",
	       "-----------", "--------");
	load_bans(skel, 0);
	report("pass, 1 ban loaded", measure(ours, floor, &passing, XDP_PASS));
	report("drop (exact ban), 1 ban loaded", measure(ours, floor, &banned, XDP_DROP));
	load_bans(skel, BULK_BANS);
	report("pass, 100k bans loaded", measure(ours, floor, &passing, XDP_PASS));
	report("drop (exact ban), 100k bans loaded", measure(ours, floor, &banned, XDP_DROP));

	xdpban_bpf__destroy(skel);
	xdp_drop_bpf__destroy(baseline);
	return EXIT_SUCCESS;
}
