// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "serve/weak_accounts.h"

#include <stdlib.h>
#include <string.h>
#include "lib/event.h"
#include "lib/siphash.h"

struct entry {
	uint64_t account;    /* siphash of the login; 0: free */
	uint64_t last_pair;  /* siphash of (login, pwhash) last seen; 0: none */
	uint64_t listed_for; /* the pair it is listed for; 0: unknown (restored) */
	uint64_t used;	     /* wa->clock when last seen */
	bool pending;	     /* last_pair is being judged */
	bool listed;
};

struct weak_accounts {
	struct siphash_key key;
	struct entry *entries;
	size_t sets;
	uint64_t clock;
	size_t listed;
};

struct weak_accounts *weak_accounts_new(size_t max_accounts, char why[ERRMSG_LEN])
{
	struct weak_accounts *wa = calloc(1, sizeof(*wa));

	if (max_accounts < WEAK_ACCOUNTS_WAYS)
		max_accounts = WEAK_ACCOUNTS_WAYS;
	if (wa) {
		wa->sets = (max_accounts + WEAK_ACCOUNTS_WAYS - 1) / WEAK_ACCOUNTS_WAYS;
		wa->entries = calloc(wa->sets * WEAK_ACCOUNTS_WAYS, sizeof(*wa->entries));
	}
	if (!wa || !wa->entries) {
		free(wa);
		errmsg(why, "weak passwords: out of memory");
		return NULL;
	}
	if (siphash_key_random(&wa->key)) {
		errmsg(why, "weak passwords: getrandom failed");
		weak_accounts_free(wa);
		return NULL;
	}
	return wa;
}

void weak_accounts_free(struct weak_accounts *wa)
{
	if (!wa)
		return;
	free(wa->entries);
	free(wa);
}

static uint64_t nonzero(uint64_t hash)
{
	return hash ? hash : 1;
}

static uint64_t account_hash(const struct weak_accounts *wa, const char *login)
{
	return nonzero(siphash64(&wa->key, login, strlen(login)));
}

/* The pair's hash: login and its NUL, then the digest, under the same key. */
static uint64_t pair_hash(const struct weak_accounts *wa, const char *login, const uint8_t *digest,
			  size_t size)
{
	uint8_t buf[EVENT_USER_LEN + WEAK_DIGEST_MAX];
	size_t len = strnlen(login, EVENT_USER_LEN - 1) + 1;
	uint64_t hash;

	if (size > WEAK_DIGEST_MAX)
		size = WEAK_DIGEST_MAX;
	memcpy(buf, login, len - 1);
	buf[len - 1] = '\0';
	memcpy(buf + len, digest, size);
	hash = siphash64(&wa->key, buf, len + size);
	memset(buf, 0, sizeof(buf));
	return nonzero(hash);
}

static struct entry *set_of(const struct weak_accounts *wa, uint64_t account)
{
	return &wa->entries[(account % wa->sets) * WEAK_ACCOUNTS_WAYS];
}

static struct entry *find(const struct weak_accounts *wa, uint64_t account)
{
	struct entry *set = set_of(wa, account);

	for (unsigned int i = 0; i < WEAK_ACCOUNTS_WAYS; i++)
		if (set[i].account == account)
			return &set[i];
	return NULL;
}

/* The account's entry, made when new; NULL when its set has no room. */
static struct entry *find_or_add(struct weak_accounts *wa, uint64_t account)
{
	struct entry *set = set_of(wa, account), *victim = NULL, *found = find(wa, account);

	if (found)
		return found;
	for (unsigned int i = 0; i < WEAK_ACCOUNTS_WAYS; i++) {
		struct entry *e = &set[i];

		if (!e->account) {
			victim = e;
			break;
		}
		if (!e->listed && !e->pending && (!victim || e->used < victim->used))
			victim = e;
	}
	if (victim)
		*victim = (struct entry){ .account = account };
	return victim;
}

bool weak_accounts_seen(struct weak_accounts *wa, const char *login, const uint8_t *digest,
			size_t size)
{
	struct entry *e = find_or_add(wa, account_hash(wa, login));
	uint64_t pair = pair_hash(wa, login, digest, size);

	if (!e)
		return true; /* judged every time while there is no room to remember it */
	e->used = ++wa->clock;
	if (e->last_pair == pair)
		return false;
	e->last_pair = pair;
	e->pending = true;
	return true;
}

void weak_accounts_unseen(struct weak_accounts *wa, const char *login)
{
	struct entry *e = find(wa, account_hash(wa, login));

	if (e) {
		e->last_pair = 0;
		e->pending = false;
	}
}

enum weak_change weak_accounts_verdict(struct weak_accounts *wa, const char *login,
				       const uint8_t *digest, size_t size, enum weak_class class)
{
	uint64_t pair = pair_hash(wa, login, digest, size);
	struct entry *e = class != WEAK_NONE ? find_or_add(wa, account_hash(wa, login))
					     : find(wa, account_hash(wa, login));
	bool was_listed;

	if (!e || (e->last_pair && e->last_pair != pair))
		return WEAK_UNCHANGED;
	e->last_pair = pair;
	e->pending = false;
	was_listed = e->listed;
	if (class == WEAK_NONE) {
		e->listed = false;
		e->listed_for = 0;
		wa->listed -= was_listed;
		return was_listed ? WEAK_CLEARED : WEAK_UNCHANGED;
	}
	e->listed = true;
	e->listed_for = pair;
	wa->listed += !was_listed;
	return was_listed ? WEAK_UNCHANGED : WEAK_LISTED;
}

bool weak_accounts_restore(struct weak_accounts *wa, const char *login, enum weak_class class)
{
	struct entry *e = find_or_add(wa, account_hash(wa, login));

	if (!e || class == WEAK_NONE)
		return false;
	if (!e->listed)
		wa->listed++;
	e->listed = true;
	e->listed_for = 0;
	return true;
}

bool weak_accounts_refused(const struct weak_accounts *wa, const char *login, const uint8_t *digest,
			   size_t size)
{
	const struct entry *e = find(wa, account_hash(wa, login));

	return e && e->listed && e->listed_for &&
	       e->listed_for == pair_hash(wa, login, digest, size);
}

size_t weak_accounts_listed(const struct weak_accounts *wa)
{
	return wa->listed;
}
