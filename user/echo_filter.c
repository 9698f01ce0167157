// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "echo_filter.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "siphash.h"

#define WAYS	     8U
#define NSEC_PER_SEC 1000000000ULL
#define TTL_NS	     ((uint64_t)ECHO_CREDIT_TTL_S * NSEC_PER_SEC)

struct credit {
	struct addr_key ip;
	uint32_t count;	  /* 0: a free slot */
	uint64_t seen_ns; /* the latest report */
};

struct echo_filter {
	struct siphash_key key;
	struct credit *slots;
	size_t sets;
};

struct echo_filter *echo_filter_new(size_t capacity)
{
	struct echo_filter *filter = calloc(1, sizeof(*filter));

	if (!filter)
		return NULL;
	filter->sets = (capacity + WAYS - 1) / WAYS;
	if (!filter->sets)
		filter->sets = 1;
	filter->slots = calloc(filter->sets * WAYS, sizeof(*filter->slots));
	if (!filter->slots || siphash_key_random(&filter->key)) {
		echo_filter_free(filter);
		return NULL;
	}
	return filter;
}

void echo_filter_free(struct echo_filter *filter)
{
	if (!filter)
		return;
	free(filter->slots);
	free(filter);
}

static struct credit *set_of(const struct echo_filter *filter, const struct addr_key *ip)
{
	return &filter->slots[siphash64(&filter->key, ip, sizeof(*ip)) % filter->sets * WAYS];
}

static bool live(const struct credit *c, uint64_t now_ns)
{
	return c->count && now_ns - c->seen_ns < TTL_NS;
}

/* ip's live entry in its set, or NULL. */
static struct credit *find(struct credit *set, const struct addr_key *ip, uint64_t now_ns)
{
	for (unsigned int i = 0; i < WAYS; i++)
		if (live(&set[i], now_ns) && !memcmp(&set[i].ip, ip, sizeof(*ip)))
			return &set[i];
	return NULL;
}

/* A free or expired slot, else the one reported longest ago. */
static struct credit *victim(struct credit *set, uint64_t now_ns)
{
	struct credit *stalest = &set[0];

	for (unsigned int i = 0; i < WAYS; i++) {
		if (!live(&set[i], now_ns))
			return &set[i];
		if (set[i].seen_ns < stalest->seen_ns)
			stalest = &set[i];
	}
	return stalest;
}

void echo_filter_note(struct echo_filter *filter, const struct addr_key *ip, uint64_t now_ns)
{
	struct credit *set = set_of(filter, ip);
	struct credit *c = find(set, ip, now_ns);

	if (!c) {
		c = victim(set, now_ns);
		*c = (struct credit){ .ip = *ip };
	}
	if (c->count < UINT32_MAX)
		c->count++;
	c->seen_ns = now_ns;
}

unsigned int echo_filter_absorb(struct echo_filter *filter, const struct addr_key *ip,
				unsigned int attempts, uint64_t now_ns)
{
	struct credit *c = find(set_of(filter, ip), ip, now_ns);
	unsigned int used;

	if (!c)
		return 0;
	used = attempts < c->count ? attempts : c->count;
	c->count -= used;
	return used;
}
