/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Failures seen twice. With Dovecot's auth policy reports on, every failed
 * Dovecot login (and every failed Postfix SMTP AUTH when Postfix uses
 * Dovecot SASL) reaches the daemon once through the policy endpoint and
 * again as a log line: before the report or after it, alone or summed
 * ("auth failed, 3 attempts in 12 secs"). Counted twice, 3 guesses would ban
 * where the rule says 5. The policy's own rejections (a blocked account's
 * right password) are logged as failures too, and must not count at all.
 *
 * The filter keeps, per client address, what one side has seen that the
 * other has not matched yet: failures the policy reported (and rejections it
 * made), and failed attempts the logs counted. Whichever side comes second
 * uses the other's up and is not counted again. Keyed by address alone:
 * Postfix's failure lines name no user. sshd lines never reach the filter
 * (the policy protocol does not see SSH).
 *
 * Bounded: a set-associative table of echo_filter_new()'s capacity, keyed by
 * a SipHash of the address with a random key (no crafted collisions); a full
 * set gives up its stalest entry, and what is older than ECHO_TTL_S is void.
 * A match missed that way counts a failure twice: a ban one failure early,
 * never one missed.
 */
#ifndef XDPBAN_ECHO_FILTER_H
#define XDPBAN_ECHO_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/event.h"

#define ECHO_TTL_S 600 /* Dovecot logs a failure at disconnect; imap-login waits long */

struct echo_filter;

/* capacity: addresses held at once (rounded up to a whole set). NULL on ENOMEM. */
struct echo_filter *echo_filter_new(size_t capacity);
void echo_filter_free(struct echo_filter *filter);

/*
 * A failure the policy endpoint reported, or a rejection it made: true when a
 * log line already counted it (do not count it again).
 */
bool echo_filter_from_policy(struct echo_filter *filter, const struct addr_key *ip,
			     uint64_t now_ns);

/*
 * A log line's failed attempts from ip: how many of them the policy endpoint
 * already reported (do not count those); the rest are remembered.
 */
unsigned int echo_filter_from_log(struct echo_filter *filter, const struct addr_key *ip,
				  unsigned int attempts, uint64_t now_ns);

#endif
