// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Weak passwords: Dovecot's pwhash (vectors computed from auth-policy.c's
 * algorithm with Python's hashlib: sha256(nonce + login + b"\0" + password),
 * truncated as buffer_truncate_rshift_bits does), the word list, and each
 * mangling rule. Cross-checked against a real Dovecot 2.3.19.1 (Debian 12),
 * its policy requests captured with socat: for alice/sunshine and NONCE it
 * sent da49d404...ca2a with auth_policy_hash_truncate = 0, 0da4 with 12 and
 * 1b49 with 13, as below; tests/e2e/test_weak_passwords.sh finds weak
 * passwords in the hashes a live Dovecot sends.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "serve/weak.h"

#define NONCE "3f5d0f9c1a7e4b2d8c6a0e1f2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e"

static struct weak_hash *hash_of(const char *mech)
{
	char why[ERRMSG_LEN] = "";
	struct weak_hash *hash = weak_hash_new(mech, NONCE, why);

	if (!hash)
		fail_msg("weak_hash_new(%s): %s", mech, why);
	return hash;
}

static void check_pwhash(const char *mech, const char *login, const char *password,
			 unsigned int bits, const char *want)
{
	struct weak_hash *hash = hash_of(mech);
	char hex[2 * WEAK_DIGEST_MAX + 1];

	weak_hash_pwhash(hash, login, password, bits, hex);
	assert_string_equal(hex, want);
	weak_hash_free(hash);
}

static void test_pwhash_vectors(void **state)
{
	(void)state;
	check_pwhash("sha256", "alice", "sunshine", 0,
		     "da49d404ab1a9b6913f803e5bb43e5b47dadcf5602f7c182b884bd78d0b7ca2a");
	check_pwhash("sha256", "bob@example.org", "Sunshine2024", 0,
		     "ba942dce8991802afe4e152c573f8ae158720943accf738ba12680160e77ff74");
	check_pwhash("sha256", "", "", 0,
		     "5958eee088c306ada1406e7a20768288bdf2d34b155defb8b51756a124933f48");
	check_pwhash("md5", "alice", "sunshine", 0, "302280496cd8b3e8a36757710028b8a7");
	check_pwhash("sha1", "alice", "sunshine", 0, "de2fdcc329c4a8b90c4a0d476a1d313237dbfc68");
}

/* Dovecot's default 12 bits: the first 12 bits, right-aligned in 2 bytes. */
static void test_pwhash_truncated(void **state)
{
	(void)state;
	check_pwhash("sha256", "alice", "sunshine", 12, "0da4");
	check_pwhash("sha256", "alice", "sunshine", 13, "1b49");
	check_pwhash("sha256", "alice", "sunshine", 16, "da49");
	check_pwhash("sha256", "alice", "sunshine", 8, "da");
	check_pwhash("sha256", "bob@example.org", "Sunshine2024", 12, "0ba9");
}

static void test_hash_refusals(void **state)
{
	char why[ERRMSG_LEN] = "";

	(void)state;
	assert_null(weak_hash_new("sha512", NONCE, why));
	assert_non_null(strstr(why, "'sha512'"));
	assert_null(weak_hash_new("sha256", "", why));
	assert_non_null(strstr(why, "nonce"));
}

static void test_parse(void **state)
{
	struct weak_hash *hash = hash_of("sha256");
	uint8_t digest[WEAK_DIGEST_MAX];

	(void)state;
	assert_int_equal(
	    weak_hash_parse(
		hash, "DA49D404ab1a9b6913f803e5bb43e5b47dadcf5602f7c182b884bd78d0b7ca2a", digest),
	    0);
	assert_int_equal(digest[0], 0xda);
	assert_int_equal(digest[31], 0x2a);
	assert_int_equal(weak_hash_parse(hash, "0da4", digest), -ERANGE);
	assert_int_equal(weak_hash_parse(hash, "", digest), -ERANGE);
	assert_int_equal(weak_hash_parse(hash, "0da", digest), -EINVAL);
	assert_int_equal(weak_hash_parse(hash, "zz", digest), -EINVAL);
	assert_int_equal(
	    weak_hash_parse(
		hash, "da49d404ab1a9b6913f803e5bb43e5b47dadcf5602f7c182b884bd78d0b7ca2a00", digest),
	    -EINVAL);
	weak_hash_free(hash);
}

static struct weak_dict *dict_of(const char *text)
{
	char path[] = "/tmp/test_weak.XXXXXX", why[ERRMSG_LEN] = "";
	int fd = mkstemp(path);
	struct weak_dict *dict;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	dict = weak_dict_load(path, why);
	unlink(path);
	if (!dict)
		fail_msg("weak_dict_load: %s", why);
	return dict;
}

static void test_dictionary(void **state)
{
	char long_line[WEAK_WORD_MAX + 3], text[256], why[ERRMSG_LEN] = "";
	struct weak_dict *dict;

	(void)state;
	memset(long_line, 'x', WEAK_WORD_MAX + 1);
	long_line[WEAK_WORD_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "one\r\n\ntwo\n%s\nthree", long_line);
	dict = dict_of(text);
	assert_int_equal(weak_dict_words(dict), 3); /* CRLF, blank, too long, no last newline */
	weak_dict_free(dict);
	assert_null(weak_dict_load("/nonexistent/words", why));
	assert_non_null(strstr(why, "/nonexistent/words"));
}

/* Judges password for login against a dictionary of words, year 2026. */
static enum weak_class judged(const char *words, const char *login, const char *password,
			      struct weak_cost *cost)
{
	struct weak_hash *hash = hash_of("sha256");
	struct weak_dict *dict = dict_of(words);
	char hex[2 * WEAK_DIGEST_MAX + 1];
	uint8_t digest[WEAK_DIGEST_MAX];
	enum weak_class class;

	weak_hash_pwhash(hash, login, password, 0, hex);
	assert_int_equal(weak_hash_parse(hash, hex, digest), 0);
	class = weak_judge(dict, hash, login, digest, WEAK_YEAR, 2026, cost);
	weak_dict_free(dict);
	weak_hash_free(hash);
	return class;
}

static void test_rules(void **state)
{
	static const struct {
		const char *password;
		enum weak_class class;
	} cases[] = {
		{ "sunshine", WEAK_WORD },
		{ "dragon", WEAK_WORD },
		{ "Sunshine", WEAK_CAPITALISED },
		{ "SUNSHINE", WEAK_CAPITALISED },
		{ "$un$h1n3", WEAK_SUBSTITUTED },
		{ "Sun$h1n3", WEAK_SUBSTITUTED },
		{ "dr@g0n", WEAK_SUBSTITUTED },
		{ "sunshine7", WEAK_DIGITS },
		{ "Sunshine123", WEAK_DIGITS },
		{ "dragon1234", WEAK_DIGITS },
		{ "dragon69", WEAK_DIGITS },
		{ "Dragon2026", WEAK_YEAR },
		{ "dragon2022", WEAK_YEAR },
		{ "dragon2021", WEAK_NONE }, /* 5 years back is out */
		{ "dragon12345", WEAK_NONE },
		{ "sunshin", WEAK_NONE },
		{ "dRAGON", WEAK_NONE },
		{ "Xq7#pL0v-Rk2@wZ9", WEAK_NONE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum weak_class got =
		    judged("sunshine\ndragon\n", "alice", cases[i].password, NULL);

		if (got != cases[i].class)
			fail_msg("%s: %s, expected %s", cases[i].password, weak_class_name(got),
				 weak_class_name(cases[i].class));
	}
}

/* The hash binds the login: alice's "sunshine" is not bob's. */
static void test_login_bound(void **state)
{
	struct weak_hash *hash = hash_of("sha256");
	struct weak_dict *dict = dict_of("sunshine\n");
	char hex[2 * WEAK_DIGEST_MAX + 1];
	uint8_t digest[WEAK_DIGEST_MAX];

	(void)state;
	weak_hash_pwhash(hash, "alice", "sunshine", 0, hex);
	assert_int_equal(weak_hash_parse(hash, hex, digest), 0);
	assert_int_equal(weak_judge(dict, hash, "alice", digest, WEAK_YEAR, 2026, NULL), WEAK_WORD);
	assert_int_equal(weak_judge(dict, hash, "bob", digest, WEAK_YEAR, 2026, NULL), WEAK_NONE);
	weak_dict_free(dict);
	weak_hash_free(hash);
}

/*
 * The bound: a password no rule finds costs every candidate of every word,
 * 45 for a word with a lower-case first letter and a substitutable letter,
 * fewer when a rule changes nothing; a failed login's check (WEAK_WORD
 * only) one per word.
 */
static void test_cost(void **state)
{
	struct weak_hash *hash = hash_of("sha256");
	struct weak_dict *dict = dict_of("sunshine\nxyz\n7\n");
	uint8_t digest[WEAK_DIGEST_MAX] = { 0 };
	struct weak_cost cost;

	(void)state;
	assert_int_equal(weak_judge(dict, hash, "alice", digest, WEAK_YEAR, 2026, &cost),
			 WEAK_NONE);
	/* sunshine 45; xyz 45 - 2 substitutions; 7: itself, digits 15, years 5. */
	assert_int_equal(cost.candidates, 45 + 43 + 21);
	assert_int_equal(weak_judge(dict, hash, "alice", digest, WEAK_WORD, 2026, &cost),
			 WEAK_NONE);
	assert_int_equal(cost.candidates, 3);
	assert_int_equal(judged("sunshine\nxyz\n", "alice", "xyz", &cost), WEAK_WORD);
	assert_int_equal(cost.candidates, 2);
	weak_dict_free(dict);
	weak_hash_free(hash);
}

static void test_class_names(void **state)
{
	(void)state;
	for (int i = WEAK_WORD; i < WEAK_CLASSES; i++)
		assert_int_equal(weak_class_of(weak_class_name((enum weak_class)i)), i);
	assert_int_equal(weak_class_of("bogus"), WEAK_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pwhash_vectors), cmocka_unit_test(test_pwhash_truncated),
		cmocka_unit_test(test_hash_refusals),  cmocka_unit_test(test_parse),
		cmocka_unit_test(test_dictionary),     cmocka_unit_test(test_rules),
		cmocka_unit_test(test_login_bound),    cmocka_unit_test(test_cost),
		cmocka_unit_test(test_class_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
