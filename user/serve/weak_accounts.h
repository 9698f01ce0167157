/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the daemon remembers of weak passwords, per account: which pwhash it
 * saw last (to judge each new (account, pwhash) pair once), whether the
 * account is listed and for which pwhash (to refuse that one password,
 * never the account's next one). Only keyed hashes are kept: a 64-bit
 * siphash of the login and of the (login, pwhash) pair under a key drawn at
 * start, so the table holds neither a name nor a pwhash.
 *
 * Bounded: WEAK_ACCOUNTS_WAYS-way sets; a full set forgets the account seen
 * least recently that is neither listed nor being judged (it is judged
 * again at its next login). One thread (the event loop) owns it.
 */
#ifndef XDPBAN_WEAK_ACCOUNTS_H
#define XDPBAN_WEAK_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/errmsg.h"
#include "serve/weak.h"

#define WEAK_ACCOUNTS_WAYS 8U
#define WEAK_ACCOUNTS_MAX  65536U /* accounts remembered */

enum weak_change {
	WEAK_UNCHANGED, /* nothing to record */
	WEAK_LISTED,	/* newly found weak: record, log */
	WEAK_CLEARED,	/* a listed account's new password is not weak: record, log */
};

struct weak_accounts;

struct weak_accounts *weak_accounts_new(size_t max_accounts, char why[ERRMSG_LEN]);
void weak_accounts_free(struct weak_accounts *wa);

/*
 * A successful login of login with the whole pwhash digest (size bytes):
 * true when the pair is new (the caller submits it for judging), false
 * when it was judged or is being judged.
 */
bool weak_accounts_seen(struct weak_accounts *wa, const char *login, const uint8_t *digest,
			size_t size);

/* The judgement of a pair seen could not be submitted: the next login submits it again. */
void weak_accounts_unseen(struct weak_accounts *wa, const char *login);

/*
 * The verdict on a pair seen: what it changes. A verdict on a pair that is
 * no longer the account's last (a newer login came in meanwhile) changes
 * nothing: the newer pair's verdict decides.
 */
enum weak_change weak_accounts_verdict(struct weak_accounts *wa, const char *login,
				       const uint8_t *digest, size_t size, enum weak_class class);

/*
 * An account listed in the store at start: listed, its pwhash unknown until
 * its next successful login is judged (until then none of its logins is
 * refused). false when there is no room.
 */
bool weak_accounts_restore(struct weak_accounts *wa, const char *login, enum weak_class class);

/* Whether this login's pwhash is the one its account is listed for. */
bool weak_accounts_refused(const struct weak_accounts *wa, const char *login, const uint8_t *digest,
			   size_t size);

/* Accounts listed now. */
size_t weak_accounts_listed(const struct weak_accounts *wa);

#endif
