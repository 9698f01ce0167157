/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Weak passwords, judged from Dovecot's policy pwhash alone: xdpban never
 * receives a password, only Dovecot's hash of it, and tests whether that
 * hash is the hash of a dictionary word (or of a word mangled the way
 * attackers try first) by hashing each candidate the same way.
 *
 * Dovecot's pwhash (src/auth/auth-policy.c, auth_policy_create_json, the
 * same in 2.3 and 2.4):
 *   H(nonce || login || '\0' || password)
 * H is auth_policy_hash_mech (default sha256), nonce auth_policy_hash_nonce
 * as text (not hex-decoded), login the requested username (the policy
 * request's "login" attribute: the master user's login when there is one,
 * else the user), its terminating NUL included, the password without its
 * NUL. The digest is then cut to auth_policy_hash_truncate bits (default
 * 12; 0 keeps it whole): its first ceil(bits / 8) bytes, shifted right by
 * 8 - bits % 8 bits when bits is not a multiple of 8, and sent as lowercase
 * hex. Only a whole digest can be judged: 12 bits would match one
 * candidate in 4096 by chance.
 *
 * The hash is nettle's (Debian's nettle-dev). One candidate costs one
 * compression: the state after nonce, login and NUL is computed once per
 * judgement and copied for each candidate.
 *
 * The rules, in the order they are tried (an attacker's order: plain words
 * first); each is tried over every word of the dictionary before the next,
 * and the first match ends the judgement:
 *   WEAK_WORD         the word as it is                       "sunshine"
 *   WEAK_CAPITALISED  first letter upper case; all upper case "Sunshine", "SUNSHINE"
 *   WEAK_SUBSTITUTED  a->@ e->3 i->1 o->0 s->$ (every one),
 *                     of the word and of it capitalised       "$un$h1n3", "Sun$h1n3"
 *   WEAK_DIGITS       the word or it capitalised, then one of
 *                     0..9 12 123 1234 01 69                  "sunshine7", "Sunshine123"
 *   WEAK_YEAR         the word or it capitalised, then one of
 *                     the last WEAK_YEARS years, this one too "Sunshine2026"
 * 45 candidates a word at most; with cracklib-small (54,763 words) 2.5
 * million hashes for a password none of them is: the cost of a judgement
 * is bounded by the dictionary's size (WEAK_MAX_WORDS) times that.
 */
#ifndef XDPBAN_WEAK_H
#define XDPBAN_WEAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/errmsg.h"

#define WEAK_DIGEST_MAX 32	 /* bytes: the longest digest supported (sha256) */
#define WEAK_WORD_MAX	64	 /* longer lines of a dictionary are skipped */
#define WEAK_MAX_WORDS	1000000U /* a bigger dictionary is refused */
#define WEAK_YEARS	5	 /* this year and the 4 before */

enum weak_class {
	WEAK_NONE, /* none of the rules: not found weak */
	WEAK_WORD,
	WEAK_CAPITALISED,
	WEAK_SUBSTITUTED,
	WEAK_DIGITS,
	WEAK_YEAR,
	WEAK_CLASSES
};

/* "dictionary word", "capitalised word", ...; "none" for WEAK_NONE. */
const char *weak_class_name(enum weak_class class);
/* The class of a name weak_class_name gave, or WEAK_NONE. */
enum weak_class weak_class_of(const char *name);

/* Dovecot's hash: mechanism and nonce. */
struct weak_hash;

/*
 * mech is Dovecot's auth_policy_hash_mech name: md5, sha1 or sha256 (the
 * ones whose hex fits a policy event). NULL with the reason on error (an
 * unknown mechanism, an empty nonce).
 */
struct weak_hash *weak_hash_new(const char *mech, const char *nonce, char why[ERRMSG_LEN]);
void weak_hash_free(struct weak_hash *hash);
size_t weak_hash_size(const struct weak_hash *hash); /* digest bytes */

/*
 * Dovecot's pwhash of login and password, cut to truncate_bits (0: whole),
 * as lowercase hex into hex (2 * WEAK_DIGEST_MAX + 1 bytes). For tests and
 * the benchmark: the daemon never has a password.
 */
void weak_hash_pwhash(const struct weak_hash *hash, const char *login, const char *password,
		      unsigned int truncate_bits, char *hex);

/*
 * A policy request's pwhash as a whole digest into digest (weak_hash_size
 * bytes): 0; -ERANGE when it is shorter hex (Dovecot truncates it:
 * auth_policy_hash_truncate is not 0); -EINVAL when it is not hex of at
 * most that length.
 */
int weak_hash_parse(const struct weak_hash *hash, const char *pwhash, uint8_t *digest);

/* A word list, one word a line. */
struct weak_dict;

/*
 * Reads path: one word a line, a trailing CR dropped, empty lines and lines
 * over WEAK_WORD_MAX bytes skipped. NULL with the reason on error (no such
 * file, no word in it, more than WEAK_MAX_WORDS).
 */
struct weak_dict *weak_dict_load(const char *path, char why[ERRMSG_LEN]);
void weak_dict_free(struct weak_dict *dict);
size_t weak_dict_words(const struct weak_dict *dict);

/* What a judgement looked at. */
struct weak_cost {
	uint64_t candidates; /* hashes computed */
};

/*
 * Whether digest (weak_hash_size bytes: Dovecot's whole pwhash of login's
 * password) is one of the candidates of the rules up to and including
 * last, with the years ending at year. The class that matched, or
 * WEAK_NONE. cost may be NULL. Thread-safe: reads dict and hash only.
 */
enum weak_class weak_judge(const struct weak_dict *dict, const struct weak_hash *hash,
			   const char *login, const uint8_t *digest, enum weak_class last, int year,
			   struct weak_cost *cost);

#endif
