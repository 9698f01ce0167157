/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Failed logins whose password was a dictionary word (weak_worker.h's
 * guess checks), counted per client address within a window: a botnet
 * spraying "sunshine" over many accounts shows here as few failures per
 * account but many dictionary guesses per address. Bounded: 4-way sets of
 * addresses; a full set forgets the address whose window ended, else the
 * one with the fewest guesses. One thread owns it.
 */
#ifndef XDPBAN_WEAK_GUESSES_H
#define XDPBAN_WEAK_GUESSES_H

#include <stddef.h>
#include <stdint.h>
#include "lib/errmsg.h"
#include "lib/event.h"

#define WEAK_GUESSES_MAX 16384 /* addresses counted at once */
#define WEAK_GUESSES_TOP 16    /* the addresses /metrics shows */

struct weak_guess_count {
	struct addr_key ip;
	uint64_t count; /* in the window */
};

struct weak_guesses;

struct weak_guesses *weak_guesses_new(size_t max_addresses, char why[ERRMSG_LEN]);
void weak_guesses_free(struct weak_guesses *guesses);

/*
 * One more guess from ip at now_ns; guesses older than window_ns before
 * the address's first in the window start a new window. The count in the
 * window, this one included.
 */
uint64_t weak_guesses_add(struct weak_guesses *guesses, const struct addr_key *ip, uint64_t now_ns,
			  uint64_t window_ns);

/* Starts ip's count over (it was banned). */
void weak_guesses_forget(struct weak_guesses *guesses, const struct addr_key *ip);

/* Up to max addresses with the most guesses in their live window, most first; how many. */
size_t weak_guesses_top(const struct weak_guesses *guesses, uint64_t now_ns, uint64_t window_ns,
			struct weak_guess_count *out, size_t max);

#endif
