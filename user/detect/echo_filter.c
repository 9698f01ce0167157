// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "detect/echo_filter.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "lib/clock.h"
#include "lib/siphash.h"

#define WAYS   8U
#define TTL_NS ((uint64_t)ECHO_TTL_S * NSEC_PER_SEC)

/* What one address has on one side and not yet on the other (at most one is non-zero). */
struct credit {
	struct addr_key ip;
	uint32_t reported; /* by the policy endpoint */
	uint32_t logged;   /* by a log */
	uint64_t seen_ns;  /* the latest of either; both 0: a free slot */
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
	return (c->reported || c->logged) && now_ns - c->seen_ns < TTL_NS;
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

/* ip's live entry, made (empty) when it has none. */
static struct credit *entry(struct echo_filter *filter, const struct addr_key *ip, uint64_t now_ns)
{
	struct credit *set = set_of(filter, ip);
	struct credit *c = find(set, ip, now_ns);

	if (!c) {
		c = victim(set, now_ns);
		*c = (struct credit){ .ip = *ip };
	}
	c->seen_ns = now_ns;
	return c;
}

static void add(uint32_t *count, unsigned int n)
{
	*count = n > UINT32_MAX - *count ? UINT32_MAX : *count + n;
}

bool echo_filter_from_policy(struct echo_filter *filter, const struct addr_key *ip, uint64_t now_ns)
{
	struct credit *c = entry(filter, ip, now_ns);

	if (c->logged) {
		c->logged--;
		return true;
	}
	add(&c->reported, 1);
	return false;
}

unsigned int echo_filter_from_log(struct echo_filter *filter, const struct addr_key *ip,
				  unsigned int attempts, uint64_t now_ns)
{
	struct credit *c = entry(filter, ip, now_ns);
	unsigned int seen = attempts < c->reported ? attempts : c->reported;

	c->reported -= seen;
	add(&c->logged, attempts - seen);
	return seen;
}
