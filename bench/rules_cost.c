// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The rules' cost per event (detect/rules.h) with the default tables, in
 * one of two workloads, the same as tests/unit/test_rules.c's:
 *   working  a working set of 50,000 sources and 5,000 names failing at
 *            random, 1 % successes (bans and blocks along the way);
 *   flood    every event a new source and a new name, all in one window:
 *            every table full and evicting.
 * Prints events/s of rules_feed alone (the events are built beforehand or
 * outside the timing). scripts/bench-rules.sh builds it against two
 * versions of rules.c and runs both side by side, under cachegrind too.
 *
 *   rules_cost working|flood [EVENTS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "detect/rules.h"

#define WORKING_SOURCES 50000
#define WORKING_USERS	5000
#define WORKING_EVENTS	4096 /* distinct events, drawn from at random */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Source n: 10.x.y.z (IPv4-mapped), or 2001:db8::/32 for one in four. */
static void set_source(struct auth_event *ev, uint64_t n)
{
	memset(ev->ip.addr, 0, sizeof(ev->ip.addr));
	if (n % 4) {
		ev->ip.addr[10] = ev->ip.addr[11] = 0xff;
		ev->ip.addr[12] = 10;
		ev->ip.addr[13] = (uint8_t)(n >> 16);
		ev->ip.addr[14] = (uint8_t)(n >> 8);
		ev->ip.addr[15] = (uint8_t)n;
		return;
	}
	ev->ip.addr[0] = 0x20;
	ev->ip.addr[1] = 0x01;
	ev->ip.addr[2] = 0x0d;
	ev->ip.addr[3] = 0xb8;
	memcpy(ev->ip.addr + 8, &n, sizeof(n));
}

static double working(struct rules *r, uint64_t count)
{
	static struct auth_event events[WORKING_EVENTS];
	struct rules_decision d;
	uint64_t t = 1000000000000ULL;
	double started;

	for (int i = 0; i < WORKING_EVENTS; i++) {
		uint64_t x = mix((uint64_t)i + 77);

		events[i].outcome = (x >> 40) % 100 ? AUTH_FAIL : AUTH_OK;
		events[i].attempts = 1;
		set_source(&events[i], x % WORKING_SOURCES);
		snprintf(events[i].user, sizeof(events[i].user), "user%llu@example.org",
			 (unsigned long long)((x >> 20) % WORKING_USERS));
	}
	started = now_s();
	for (uint64_t i = 0; i < count; i++, t += 2000)
		rules_feed(r, &events[mix(i) & (WORKING_EVENTS - 1)], t, &d);
	return now_s() - started;
}

/* Flood event i: a source and a name never seen before. */
static void flood_event(struct auth_event *ev, uint64_t i)
{
	set_source(ev, mix(i));
	memcpy(ev->ip.addr + 8, &i, sizeof(i)); /* distinct: i itself in the low half */
	if (ev->ip.addr[10] == 0xff)
		memcpy(ev->ip.addr + 13, &i, 3); /* IPv4: 2^24 distinct, enough for a run */
	snprintf(ev->user, sizeof(ev->user), "u%llx", (unsigned long long)i);
}

/* The time of feeding alone: the loop, minus the same loop only building the events. */
static double flood(struct rules *r, uint64_t count)
{
	struct auth_event ev = { .outcome = AUTH_FAIL, .attempts = 1 };
	struct rules_decision d;
	uint64_t t = 1000000000000ULL;
	double started = now_s(), total, building;

	for (uint64_t i = 0; i < count; i++, t += 10000) { /* 10 us apart: one window */
		flood_event(&ev, i);
		rules_feed(r, &ev, t, &d);
	}
	total = now_s() - started;
	started = now_s();
	for (uint64_t i = 0; i < count; i++) {
		flood_event(&ev, i);
		__asm__ volatile("" : : "r"(&ev) : "memory"); /* keep the building */
	}
	building = now_s() - started;
	return total - building;
}

int main(int argc, char **argv)
{
	struct rules_config cfg;
	struct rules *r;
	char why[ERRMSG_LEN];
	uint64_t count = argc > 2 ? strtoull(argv[2], NULL, 10) : 2000000;
	double seconds;

	if (argc < 2 || (strcmp(argv[1], "working") && strcmp(argv[1], "flood")) || !count) {
		fprintf(stderr, "usage: rules_cost working|flood [EVENTS]\n");
		return 2;
	}
	rules_config_default(&cfg);
	r = rules_new(&cfg, why);
	if (!r) {
		fprintf(stderr, "rules_cost: %s\n", why);
		return 1;
	}
	seconds = strcmp(argv[1], "flood") ? working(r, count) : flood(r, count);
	printf("%s: %llu events, %.3f M events/s\n", argv[1], (unsigned long long)count,
	       count / seconds / 1e6);
	rules_free(r);
	return 0;
}
