/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Failures seen twice. With Dovecot's auth policy reports on, every failed
 * Dovecot login (and every failed Postfix SMTP AUTH when Postfix uses
 * Dovecot SASL) reaches the daemon once through the policy endpoint and
 * again as a log line, often later and summed ("auth failed, 3 attempts in
 * 12 secs"). Counted twice, 3 guesses would ban where the rule says 5.
 *
 * The filter keeps, per client address, the policy-reported failures that no
 * log line has matched yet (credits); a Dovecot or Postfix log failure from
 * that address uses them up first and counts only its attempts beyond them.
 * Keyed by address alone: Postfix's failure lines name no user. sshd lines
 * never reach the filter (the policy protocol does not see SSH).
 *
 * Bounded: a set-associative table of echo_filter_new()'s capacity, keyed
 * by a SipHash of the address with a random key (no crafted collisions); a
 * full set gives up its stalest entry, and credits older than
 * ECHO_CREDIT_TTL_S are void (a log line that late is counted again, the
 * safe side is a ban one failure early, never one missed).
 */
#ifndef XDPBAN_ECHO_FILTER_H
#define XDPBAN_ECHO_FILTER_H

#include <stddef.h>
#include <stdint.h>
#include "event.h"

#define ECHO_CREDIT_TTL_S 600 /* Dovecot logs a failure at disconnect; imap-login waits long */

struct echo_filter;

/* capacity: addresses held at once (rounded up to a whole set). NULL on ENOMEM. */
struct echo_filter *echo_filter_new(size_t capacity);
void echo_filter_free(struct echo_filter *filter);

/* A failure from ip that the policy endpoint reported (and the rules counted). */
void echo_filter_note(struct echo_filter *filter, const struct addr_key *ip, uint64_t now_ns);

/* How many of a log line's attempts from ip were already reported; they are used up. */
unsigned int echo_filter_absorb(struct echo_filter *filter, const struct addr_key *ip,
				unsigned int attempts, uint64_t now_ns);

#endif
