// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "serve/weak_guesses.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "lib/siphash.h"

#define WAYS 4U

struct slot {
	struct addr_key ip;
	uint64_t since_ns; /* the window's start; 0: free */
	uint64_t count;
};

struct weak_guesses {
	struct siphash_key key;
	struct slot *slots;
	size_t sets;
};

struct weak_guesses *weak_guesses_new(size_t max_addresses, char why[ERRMSG_LEN])
{
	struct weak_guesses *g = calloc(1, sizeof(*g));

	if (g) {
		g->sets = (max_addresses < WAYS ? WAYS : max_addresses) / WAYS;
		g->slots = calloc(g->sets * WAYS, sizeof(*g->slots));
	}
	if (!g || !g->slots || siphash_key_random(&g->key)) {
		errmsg(why, "dictionary guesses: %s",
		       g && g->slots ? "getrandom failed" : "out of memory");
		weak_guesses_free(g);
		return NULL;
	}
	return g;
}

void weak_guesses_free(struct weak_guesses *g)
{
	if (!g)
		return;
	free(g->slots);
	free(g);
}

static struct slot *set_of(const struct weak_guesses *g, const struct addr_key *ip)
{
	return &g->slots[(siphash64(&g->key, ip, sizeof(*ip)) % g->sets) * WAYS];
}

static bool live(const struct slot *s, uint64_t now_ns, uint64_t window_ns)
{
	return s->since_ns && now_ns - s->since_ns < window_ns;
}

static bool same(const struct slot *s, const struct addr_key *ip)
{
	return s->since_ns && !memcmp(&s->ip, ip, sizeof(*ip));
}

/* ip's slot; else a free or stale one; else the one with the fewest guesses. */
static struct slot *pick(struct slot *set, const struct addr_key *ip, uint64_t now_ns,
			 uint64_t window_ns)
{
	struct slot *fewest = &set[0];

	for (unsigned int i = 0; i < WAYS; i++)
		if (same(&set[i], ip))
			return &set[i];
	for (unsigned int i = 0; i < WAYS; i++)
		if (!live(&set[i], now_ns, window_ns))
			return &set[i];
	for (unsigned int i = 1; i < WAYS; i++)
		if (set[i].count < fewest->count)
			fewest = &set[i];
	return fewest;
}

uint64_t weak_guesses_add(struct weak_guesses *g, const struct addr_key *ip, uint64_t now_ns,
			  uint64_t window_ns)
{
	struct slot *slot = pick(set_of(g, ip), ip, now_ns, window_ns);

	if (!same(slot, ip) || !live(slot, now_ns, window_ns))
		*slot = (struct slot){ .ip = *ip, .since_ns = now_ns ? now_ns : 1 };
	return ++slot->count;
}

void weak_guesses_forget(struct weak_guesses *g, const struct addr_key *ip)
{
	struct slot *set = set_of(g, ip);

	for (unsigned int i = 0; i < WAYS; i++)
		if (same(&set[i], ip))
			set[i] = (struct slot){ 0 };
}

size_t weak_guesses_top(const struct weak_guesses *g, uint64_t now_ns, uint64_t window_ns,
			struct weak_guess_count *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; max && i < g->sets * WAYS; i++) {
		const struct slot *s = &g->slots[i];
		size_t at;

		if (!live(s, now_ns, window_ns) || (n == max && out[n - 1].count >= s->count))
			continue;
		at = n < max ? n++ : n - 1; /* the last place, or a new one */
		while (at > 0 && out[at - 1].count < s->count) {
			out[at] = out[at - 1];
			at--;
		}
		out[at] = (struct weak_guess_count){ .ip = s->ip, .count = s->count };
	}
	return n;
}
