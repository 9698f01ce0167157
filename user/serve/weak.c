// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "serve/weak.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nettle/md5.h>
#include <nettle/nettle-meta.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* The longest candidate: a word, a suffix of up to 4 characters. */
#define CANDIDATE_MAX (WEAK_WORD_MAX + 8)

static const char *const class_names[WEAK_CLASSES] = {
	[WEAK_NONE] = "none",
	[WEAK_WORD] = "dictionary word",
	[WEAK_CAPITALISED] = "capitalised word",
	[WEAK_SUBSTITUTED] = "substituted letters",
	[WEAK_DIGITS] = "word + digits",
	[WEAK_YEAR] = "word + year",
};

/* WEAK_DIGITS' suffixes; README "Weak passwords" lists them. */
static const char *const digit_suffixes[] = { "0", "1", "2",  "3",   "4",    "5",  "6", "7",
					      "8", "9", "12", "123", "1234", "01", "69" };

const char *weak_class_name(enum weak_class class)
{
	return (unsigned int)class < WEAK_CLASSES ? class_names[class] : "?";
}

enum weak_class weak_class_of(const char *name)
{
	for (int i = WEAK_WORD; i < WEAK_CLASSES; i++)
		if (!strcmp(name, class_names[i]))
			return (enum weak_class)i;
	return WEAK_NONE;
}

/* ---- Dovecot's hash ---- */

union hash_ctx {
	struct md5_ctx md5;
	struct sha1_ctx sha1;
	struct sha256_ctx sha256;
};

struct weak_hash {
	const struct nettle_hash *mech;
	char *nonce;
};

static const struct {
	const char *dovecot_name;
	const struct nettle_hash *mech;
} mechs[] = { { "md5", &nettle_md5 }, { "sha1", &nettle_sha1 }, { "sha256", &nettle_sha256 } };

struct weak_hash *weak_hash_new(const char *mech, const char *nonce, char why[ERRMSG_LEN])
{
	struct weak_hash *hash;

	if (!nonce || !*nonce) {
		errmsg(why, "weak passwords: no hash nonce (Dovecot's auth_policy_hash_nonce)");
		return NULL;
	}
	hash = calloc(1, sizeof(*hash));
	if (!hash || !(hash->nonce = strdup(nonce))) {
		free(hash);
		errmsg(why, "weak passwords: out of memory");
		return NULL;
	}
	for (size_t i = 0; i < COUNT(mechs); i++)
		if (!strcmp(mech, mechs[i].dovecot_name))
			hash->mech = mechs[i].mech;
	if (!hash->mech) {
		errmsg(why, "weak passwords: hash mechanism '%s' is not md5, sha1 or sha256", mech);
		weak_hash_free(hash);
		return NULL;
	}
	return hash;
}

void weak_hash_free(struct weak_hash *hash)
{
	if (!hash)
		return;
	free(hash->nonce);
	free(hash);
}

size_t weak_hash_size(const struct weak_hash *hash)
{
	return hash->mech->digest_size;
}

/* The state after nonce, login and login's NUL: what every candidate shares. */
static void hash_prefix(const struct weak_hash *hash, const char *login, union hash_ctx *ctx)
{
	hash->mech->init(ctx);
	hash->mech->update(ctx, strlen(hash->nonce), (const uint8_t *)hash->nonce);
	hash->mech->update(ctx, strlen(login) + 1, (const uint8_t *)login);
}

/* Dovecot's buffer_truncate_rshift_bits: the first bits, right-aligned. */
static size_t truncate_bits(uint8_t *digest, size_t size, unsigned int bits)
{
	size_t bytes = (bits + 7) / 8;
	unsigned int rest = bits % 8;

	if (!bits || bits >= size * 8)
		return size;
	if (rest) {
		for (size_t i = bytes - 1; i > 0; i--)
			digest[i] = (uint8_t)((digest[i] >> (8 - rest)) |
					      ((digest[i - 1] & (0xff >> rest)) << rest));
		digest[0] = (uint8_t)(digest[0] >> (8 - rest));
	}
	return bytes;
}

void weak_hash_pwhash(const struct weak_hash *hash, const char *login, const char *password,
		      unsigned int bits, char *hex)
{
	uint8_t digest[WEAK_DIGEST_MAX];
	union hash_ctx ctx;
	size_t size;

	hash_prefix(hash, login, &ctx);
	hash->mech->update(&ctx, strlen(password), (const uint8_t *)password);
	hash->mech->digest(&ctx, hash->mech->digest_size, digest);
	size = truncate_bits(digest, hash->mech->digest_size, bits);
	for (size_t i = 0; i < size; i++)
		sprintf(hex + 2 * i, "%02x", digest[i]);
	hex[2 * size] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int weak_hash_parse(const struct weak_hash *hash, const char *pwhash, uint8_t *digest)
{
	size_t len = strlen(pwhash), size = hash->mech->digest_size;

	if (len % 2 || len > 2 * size)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 2) {
		int high = hex_value(pwhash[i]), low = hex_value(pwhash[i + 1]);

		if (high < 0 || low < 0)
			return -EINVAL;
		if (i / 2 < size)
			digest[i / 2] = (uint8_t)(high << 4 | low);
	}
	return len == 2 * size ? 0 : -ERANGE;
}

/* ---- the dictionary ---- */

struct weak_dict {
	char *text;	  /* the words, each NUL-terminated */
	uint32_t *starts; /* offset of each word in text */
	uint8_t *lengths;
	size_t count;
};

static int dict_add(struct weak_dict *dict, size_t *capacity, uint32_t start, size_t len)
{
	if (dict->count == *capacity) {
		size_t grown = *capacity ? *capacity * 2 : 4096;
		uint32_t *starts = realloc(dict->starts, grown * sizeof(*starts));
		uint8_t *lengths;

		if (!starts)
			return -ENOMEM;
		dict->starts = starts;
		lengths = realloc(dict->lengths, grown * sizeof(*lengths));
		if (!lengths)
			return -ENOMEM;
		dict->lengths = lengths;
		*capacity = grown;
	}
	dict->starts[dict->count] = start;
	dict->lengths[dict->count] = (uint8_t)len;
	dict->count++;
	return 0;
}

/* Splits the file's text into words in place. */
static int dict_split(struct weak_dict *dict, size_t size, const char *path, char why[ERRMSG_LEN])
{
	size_t capacity = 0;
	char *line = dict->text, *end = dict->text + size;

	while (line < end) {
		char *newline = memchr(line, '\n', (size_t)(end - line));
		size_t len;

		if (!newline)
			newline = end;
		*newline = '\0';
		len = (size_t)(newline - line);
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len && len <= WEAK_WORD_MAX && !memchr(line, '\0', len)) {
			if (dict->count == WEAK_MAX_WORDS) {
				errmsg(why, "weak_dictionary %s: more than %u words", path,
				       WEAK_MAX_WORDS);
				return -EFBIG;
			}
			if (dict_add(dict, &capacity, (uint32_t)(line - dict->text), len)) {
				errmsg(why, "weak_dictionary %s: out of memory", path);
				return -ENOMEM;
			}
		}
		line = newline + 1;
	}
	if (!dict->count) {
		errmsg(why, "weak_dictionary %s: no word in it", path);
		return -EINVAL;
	}
	return 0;
}

struct weak_dict *weak_dict_load(const char *path, char why[ERRMSG_LEN])
{
	struct weak_dict *dict = calloc(1, sizeof(*dict));
	FILE *file = fopen(path, "re");
	long size = -1;

	if (!file) {
		errmsg(why, "weak_dictionary %s: %s", path, strerror(errno));
		free(dict);
		return NULL;
	}
	if (!fseek(file, 0, SEEK_END))
		size = ftell(file);
	/* Offsets are 32 bits: a word list of 4 GB is no word list. */
	if (size < 0 || size >= (long)UINT32_MAX || fseek(file, 0, SEEK_SET)) {
		errmsg(why, "weak_dictionary %s: not a regular file of under 4 GB", path);
		goto fail;
	}
	if (!dict || !(dict->text = malloc((size_t)size + 1))) {
		errmsg(why, "weak_dictionary %s: out of memory", path);
		goto fail;
	}
	if (fread(dict->text, 1, (size_t)size, file) != (size_t)size) {
		errmsg(why, "weak_dictionary %s: read error", path);
		goto fail;
	}
	dict->text[size] = '\0';
	if (dict_split(dict, (size_t)size, path, why))
		goto fail;
	fclose(file);
	return dict;
fail:
	fclose(file);
	weak_dict_free(dict);
	return NULL;
}

void weak_dict_free(struct weak_dict *dict)
{
	if (!dict)
		return;
	free(dict->text);
	free(dict->starts);
	free(dict->lengths);
	free(dict);
}

size_t weak_dict_words(const struct weak_dict *dict)
{
	return dict->count;
}

/* ---- judging ---- */

struct judge {
	const struct weak_hash *hash;
	union hash_ctx prefix;
	const uint8_t *digest;
	uint64_t candidates;
};

static bool try(struct judge *j, const char *candidate, size_t len)
{
	uint8_t digest[WEAK_DIGEST_MAX];
	union hash_ctx ctx = j->prefix;

	j->hash->mech->update(&ctx, len, (const uint8_t *)candidate);
	j->hash->mech->digest(&ctx, j->hash->mech->digest_size, digest);
	j->candidates++;
	return !memcmp(digest, j->digest, j->hash->mech->digest_size);
}

/* base followed by each suffix. */
static bool try_suffixed(struct judge *j, char *base, size_t len, const char *const *suffixes,
			 size_t count)
{
	for (size_t i = 0; i < count; i++) {
		size_t extra = strlen(suffixes[i]);

		memcpy(base + len, suffixes[i], extra);
		if (try(j, base, len + extra))
			return true;
	}
	return false;
}

/* First letter upper case into out; false when it has no lower-case first letter. */
static bool capitalise(const char *word, size_t len, char *out)
{
	memcpy(out, word, len);
	if (!islower((unsigned char)word[0]))
		return false;
	out[0] = (char)toupper((unsigned char)word[0]);
	return true;
}

static bool upper_case(const char *word, size_t len, char *out)
{
	bool changed = false;

	for (size_t i = 0; i < len; i++) {
		out[i] = (char)toupper((unsigned char)word[i]);
		changed |= out[i] != word[i];
	}
	return changed;
}

static bool substitute(const char *word, size_t len, char *out)
{
	static const char from[] = "aeios", to[] = "@310$";
	bool changed = false;

	for (size_t i = 0; i < len; i++) {
		const char *hit = strchr(from, word[i]);

		out[i] = word[i] && hit ? to[hit - from] : word[i];
		changed |= out[i] != word[i];
	}
	return changed;
}

/* The candidates of one class for one word: whether one matched. */
static bool try_class(struct judge *j, enum weak_class class, const char *word, size_t len,
		      const char *const *years)
{
	char cap[CANDIDATE_MAX], other[CANDIDATE_MAX];
	bool has_cap = capitalise(word, len, cap);

	switch (class) {
	case WEAK_WORD:
		return try(j, word, len);
	case WEAK_CAPITALISED:
		if (has_cap && try(j, cap, len))
			return true;
		/* "A" upper-cased is "A" capitalised: tried once. */
		return upper_case(word, len, other) && !(has_cap && !memcmp(other, cap, len)) &&
		       try(j, other, len);
	case WEAK_SUBSTITUTED:
		if (substitute(word, len, other) && try(j, other, len))
			return true;
		return has_cap && substitute(cap, len, other) && try(j, other, len);
	case WEAK_DIGITS:
	case WEAK_YEAR: {
		const char *const *suffixes = class == WEAK_YEAR ? years : digit_suffixes;
		size_t count = class == WEAK_YEAR ? WEAK_YEARS : COUNT(digit_suffixes);

		memcpy(other, word, len);
		if (try_suffixed(j, other, len, suffixes, count))
			return true;
		return has_cap && try_suffixed(j, cap, len, suffixes, count);
	}
	default:
		return false;
	}
}

enum weak_class weak_judge(const struct weak_dict *dict, const struct weak_hash *hash,
			   const char *login, const uint8_t *digest, enum weak_class last, int year,
			   struct weak_cost *cost)
{
	char year_text[WEAK_YEARS][8];
	const char *years[WEAK_YEARS];
	struct judge j = { .hash = hash, .digest = digest };
	enum weak_class found = WEAK_NONE;

	for (int i = 0; i < WEAK_YEARS; i++) {
		snprintf(year_text[i], sizeof(year_text[i]), "%04d", (year - i) % 10000);
		years[i] = year_text[i];
	}
	hash_prefix(hash, login, &j.prefix);
	for (int class = WEAK_WORD; class <= (int)last && class < WEAK_CLASSES && !found; class ++)
		for (size_t w = 0; w < dict->count; w++)
			if (try_class(&j, (enum weak_class) class, dict->text + dict->starts[w],
				      dict->lengths[w], years)) {
				found = (enum weak_class) class;
				break;
			}
	if (cost)
		cost->candidates = j.candidates;
	return found;
}
