// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The CPU cost of one weak-password judgement (serve/weak.h), with the
 * default dictionary and rules, side by side in one run with the floor it
 * stands on: the same number of bare SHA-256 hashes of a candidate-sized
 * input from a precomputed prefix. The ratio is what the rules (building
 * each candidate) add to hashing.
 *
 *   build/bench/weak_cost [DICTIONARY] [ROUNDS]
 *
 * Rows: a password no rule finds (the worst case, every candidate), a
 * dictionary word (found by the first rule), and a failed login's check
 * (dictionary words only). CPU time of this thread, median of ROUNDS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <nettle/sha2.h>
#include "bench_util.h"
#include "lib/paths.h"
#include "serve/weak.h"

#define NONCE "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define LOGIN "alice@example.org"

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n SHA-256 of nonce, login, NUL and a 10-byte candidate, from a copied prefix state. */
static double bare_hashes(uint64_t n)
{
	struct sha256_ctx prefix, ctx;
	uint8_t digest[SHA256_DIGEST_SIZE], sink = 0;
	char candidate[] = "sunshine00";
	double started = cpu_now();

	sha256_init(&prefix);
	sha256_update(&prefix, strlen(NONCE), (const uint8_t *)NONCE);
	sha256_update(&prefix, strlen(LOGIN) + 1, (const uint8_t *)LOGIN);
	for (uint64_t i = 0; i < n; i++) {
		ctx = prefix;
		candidate[8] = (char)('0' + i % 10);
		candidate[9] = (char)('0' + i / 10 % 10);
		sha256_update(&ctx, sizeof(candidate) - 1, (const uint8_t *)candidate);
		sha256_digest(&ctx, sizeof(digest), digest);
		sink ^= digest[0];
	}
	if (sink == 0xff && n == 1)
		putchar('\r'); /* keeps the loop from being optimised away */
	return cpu_now() - started;
}

struct row {
	const char *what;
	const char *password;
	enum weak_class last;
};

static void measure(const struct weak_dict *dict, const struct weak_hash *hash,
		    const struct row *row, int rounds, int year)
{
	char hex[2 * WEAK_DIGEST_MAX + 1];
	uint8_t digest[WEAK_DIGEST_MAX];
	double *judged = calloc((size_t)rounds, sizeof(double));
	double *bare = calloc((size_t)rounds, sizeof(double));
	struct weak_cost cost = { 0 };
	enum weak_class class = WEAK_NONE;
	double j, b;

	if (!judged || !bare)
		bench_die("memory", "out of memory");
	weak_hash_pwhash(hash, LOGIN, row->password, 0, hex);
	weak_hash_parse(hash, hex, digest);
	for (int r = 0; r < rounds; r++) {
		double started = cpu_now();

		class = weak_judge(dict, hash, LOGIN, digest, row->last, year, &cost);
		judged[r] = cpu_now() - started;
		bare[r] = bare_hashes(cost.candidates);
	}
	j = bench_median(judged, (size_t)rounds);
	b = bench_median(bare, (size_t)rounds);
	printf("| %s | %s | %llu | %.1f | %.1f | %.1f | %.2f |\n", row->what,
	       weak_class_name(class), (unsigned long long)cost.candidates, j * 1e3, b * 1e3,
	       cost.candidates ? j * 1e9 / (double)cost.candidates : 0, b > 0 ? j / b : 0);
	free(judged);
	free(bare);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : XDPBAN_WEAK_DICTIONARY;
	int rounds = argc > 2 ? atoi(argv[2]) : 7;
	const struct row rows[] = {
		{ "successful login, password no rule finds", "q8#Lr0-vPz!2mWx7", WEAK_YEAR },
		{ "successful login, a dictionary word", "sunshine", WEAK_YEAR },
		{ "failed login, dictionary check", "q8#Lr0-vPz!2mWx7", WEAK_WORD },
	};
	char why[ERRMSG_LEN];
	struct weak_dict *dict = weak_dict_load(path, why);
	struct weak_hash *hash = weak_hash_new("sha256", NONCE, why);
	time_t now = time(NULL);
	struct tm tm;

	if (!dict || !hash)
		bench_die("setup", why);
	if (rounds < 1)
		bench_die("rounds", "expected a positive number");
	localtime_r(&now, &tm);
	bench_pin_cpu(0);
	printf("One weak-password judgement: %s (%zu words), sha256, login '%s', CPU time of one "
	       "thread, median of %d rounds; floor: as many bare SHA-256 hashes from a prefix "
	       "state.\n\n",
	       path, weak_dict_words(dict), LOGIN, rounds);
	printf("| judgement | verdict | hashes | CPU ms | bare hashes ms | ns/hash | ratio |\n");
	printf("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		measure(dict, hash, &rows[i], rounds, tm.tm_year + 1900);
	weak_dict_free(dict);
	weak_hash_free(hash);
	return 0;
}
