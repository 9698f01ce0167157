// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The weak-password thread (jobs in, verdicts out through an eventfd, full
 * queues refusing), the per-account table (each pair judged once, a new
 * password clearing a listing, only the listed password refused) and the
 * per-address count of dictionary guesses.
 */
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "serve/weak_accounts.h"
#include "serve/weak_guesses.h"
#include "serve/weak_worker.h"

#define NONCE "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct fixture {
	struct weak_hash *hash;
	struct weak_dict *dict;
};

static int setup(void **state)
{
	char path[] = "/tmp/test_weak_worker.XXXXXX", why[ERRMSG_LEN] = "";
	static const char words[] = "sunshine\ndragon\nmonkey\n";
	struct fixture *fx = calloc(1, sizeof(*fx));
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, words, strlen(words)), (ssize_t)strlen(words));
	close(fd);
	fx->dict = weak_dict_load(path, why);
	unlink(path);
	fx->hash = weak_hash_new("sha256", NONCE, why);
	assert_non_null(fx->dict);
	assert_non_null(fx->hash);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	weak_dict_free(fx->dict);
	weak_hash_free(fx->hash);
	free(fx);
	return 0;
}

static struct weak_job job_of(const struct fixture *fx, enum weak_job_kind kind, const char *login,
			      const char *password)
{
	struct weak_job job = { .kind = kind };
	char hex[2 * WEAK_DIGEST_MAX + 1];

	snprintf(job.login, sizeof(job.login), "%s", login);
	weak_hash_pwhash(fx->hash, login, password, 0, hex);
	assert_int_equal(weak_hash_parse(fx->hash, hex, job.digest), 0);
	return job;
}

/* Waits for the eventfd, then takes what is there. */
static size_t wait_verdicts(struct weak_worker *w, struct weak_verdict *out, size_t max)
{
	struct pollfd p = { .fd = weak_worker_fd(w), .events = POLLIN };
	size_t n = 0;

	while (n < max) {
		assert_int_equal(poll(&p, 1, 5000), 1);
		n += weak_worker_take(w, out + n, max - n);
	}
	return n;
}

static void test_worker_verdicts(void **state)
{
	struct fixture *fx = *state;
	char why[ERRMSG_LEN] = "";
	struct weak_worker *w = weak_worker_new(fx->dict, fx->hash, why);
	struct weak_job jobs[] = {
		job_of(fx, WEAK_JOB_JUDGE, "alice", "Dragon1"),
		job_of(fx, WEAK_JOB_JUDGE, "bob", "q8#Lr0-vPz!2mWx7"),
		job_of(fx, WEAK_JOB_GUESS, "carol", "monkey"),
		job_of(fx, WEAK_JOB_GUESS, "carol", "Monkey"), /* guesses: words only */
	};
	struct weak_verdict v[4];

	assert_non_null(w);
	for (size_t i = 0; i < 4; i++)
		assert_true(weak_worker_submit(w, &jobs[i]));
	assert_int_equal(wait_verdicts(w, v, 4), 4);
	assert_string_equal(v[0].job.login, "alice");
	assert_int_equal(v[0].class, WEAK_DIGITS);
	assert_string_equal(v[1].job.login, "bob");
	assert_int_equal(v[1].class, WEAK_NONE);
	assert_int_equal(v[1].candidates, 3 * 45);
	assert_int_equal(v[2].class, WEAK_WORD);
	assert_int_equal(v[3].class, WEAK_NONE);
	assert_int_equal(v[3].candidates, 3);
	assert_int_equal(weak_worker_take(w, v, 4), 0);
	weak_worker_free(w);
}

/* A queue holds at most its size, verdicts not yet taken included: nothing waits. */
static void test_worker_full(void **state)
{
	struct fixture *fx = *state;
	char why[ERRMSG_LEN] = "";
	struct weak_worker *w = weak_worker_new(fx->dict, fx->hash, why);
	struct weak_job guess = job_of(fx, WEAK_JOB_GUESS, "carol", "nope");
	struct weak_job judge = job_of(fx, WEAK_JOB_JUDGE, "alice", "nope");
	static struct weak_verdict v[WEAK_GUESS_QUEUE];
	size_t queued = 0;

	for (size_t i = 0; i < WEAK_GUESS_QUEUE + 10; i++)
		queued += weak_worker_submit(w, &guess);
	assert_int_equal(queued, WEAK_GUESS_QUEUE);
	assert_true(weak_worker_submit(w, &judge)); /* the other queue is not full */
	assert_int_equal(wait_verdicts(w, v, WEAK_GUESS_QUEUE), WEAK_GUESS_QUEUE);
	assert_true(weak_worker_submit(w, &guess));
	weak_worker_free(w); /* with jobs left: stops all the same */
}

static void digest_of(const struct fixture *fx, const char *login, const char *password,
		      uint8_t *digest)
{
	struct weak_job job = job_of(fx, WEAK_JOB_JUDGE, login, password);

	memcpy(digest, job.digest, WEAK_DIGEST_MAX);
}

static void test_accounts(void **state)
{
	struct fixture *fx = *state;
	char why[ERRMSG_LEN] = "";
	struct weak_accounts *wa = weak_accounts_new(1024, why);
	uint8_t weak[WEAK_DIGEST_MAX], strong[WEAK_DIGEST_MAX], bobs[WEAK_DIGEST_MAX];

	digest_of(fx, "alice", "sunshine", weak);
	digest_of(fx, "alice", "q8#Lr0-vPz!2mWx7", strong);
	digest_of(fx, "bob", "sunshine", bobs);
	assert_non_null(wa);
	assert_true(weak_accounts_seen(wa, "alice", weak, 32));
	assert_false(weak_accounts_seen(wa, "alice", weak, 32)); /* being judged */
	assert_false(weak_accounts_refused(wa, "alice", weak, 32));
	assert_int_equal(weak_accounts_verdict(wa, "alice", weak, 32, WEAK_WORD), WEAK_LISTED);
	assert_false(weak_accounts_seen(wa, "alice", weak, 32)); /* judged */
	assert_int_equal(weak_accounts_listed(wa), 1);
	assert_true(weak_accounts_refused(wa, "alice", weak, 32));
	assert_false(weak_accounts_refused(wa, "alice", strong, 32)); /* another password */
	assert_false(weak_accounts_refused(wa, "bob", bobs, 32));     /* another account */

	/* The password changed: refused no more while the new one is judged. */
	assert_true(weak_accounts_seen(wa, "alice", strong, 32));
	assert_true(weak_accounts_refused(wa, "alice", weak, 32));
	assert_false(weak_accounts_refused(wa, "alice", strong, 32));
	/* A late verdict on an older pair changes nothing. */
	assert_int_equal(weak_accounts_verdict(wa, "alice", weak, 32, WEAK_WORD), WEAK_UNCHANGED);
	assert_int_equal(weak_accounts_verdict(wa, "alice", strong, 32, WEAK_NONE), WEAK_CLEARED);
	assert_int_equal(weak_accounts_listed(wa), 0);
	assert_false(weak_accounts_refused(wa, "alice", weak, 32));

	/* A judgement that could not be submitted is submitted at the next login. */
	assert_true(weak_accounts_seen(wa, "bob", bobs, 32));
	weak_accounts_unseen(wa, "bob");
	assert_true(weak_accounts_seen(wa, "bob", bobs, 32));
	weak_accounts_free(wa);
}

/* Listed in the store: its pwhash is learnt at its next login. */
static void test_accounts_restored(void **state)
{
	struct fixture *fx = *state;
	char why[ERRMSG_LEN] = "";
	struct weak_accounts *wa = weak_accounts_new(1024, why);
	uint8_t weak[WEAK_DIGEST_MAX], strong[WEAK_DIGEST_MAX];

	digest_of(fx, "alice", "sunshine", weak);
	digest_of(fx, "carol", "q8#Lr0-vPz!2mWx7", strong);
	assert_true(weak_accounts_restore(wa, "alice", WEAK_WORD));
	assert_true(weak_accounts_restore(wa, "carol", WEAK_DIGITS));
	assert_int_equal(weak_accounts_listed(wa), 2);
	assert_false(weak_accounts_refused(wa, "alice", weak, 32));
	assert_true(weak_accounts_seen(wa, "alice", weak, 32));
	assert_int_equal(weak_accounts_verdict(wa, "alice", weak, 32, WEAK_WORD), WEAK_UNCHANGED);
	assert_true(weak_accounts_refused(wa, "alice", weak, 32));
	assert_true(weak_accounts_seen(wa, "carol", strong, 32));
	assert_int_equal(weak_accounts_verdict(wa, "carol", strong, 32, WEAK_NONE), WEAK_CLEARED);
	assert_int_equal(weak_accounts_listed(wa), 1);
	weak_accounts_free(wa);
}

/* A full set forgets the least recently seen account, never a listed one. */
static void test_accounts_bounded(void **state)
{
	struct fixture *fx = *state;
	char why[ERRMSG_LEN] = "", login[32];
	struct weak_accounts *wa = weak_accounts_new(WEAK_ACCOUNTS_WAYS, why); /* one set */
	uint8_t weak[WEAK_DIGEST_MAX], digest[WEAK_DIGEST_MAX];

	digest_of(fx, "alice", "sunshine", weak);
	assert_true(weak_accounts_seen(wa, "alice", weak, 32));
	assert_int_equal(weak_accounts_verdict(wa, "alice", weak, 32, WEAK_WORD), WEAK_LISTED);
	for (int i = 0; i < 100; i++) {
		snprintf(login, sizeof(login), "user%d", i);
		digest_of(fx, login, "x", digest);
		assert_true(weak_accounts_seen(wa, login, digest, 32));
		assert_int_equal(weak_accounts_verdict(wa, login, digest, 32, WEAK_NONE),
				 WEAK_UNCHANGED);
	}
	assert_true(weak_accounts_refused(wa, "alice", weak, 32));
	assert_int_equal(weak_accounts_listed(wa), 1);
	weak_accounts_free(wa);
}

static struct addr_key ip_of(uint8_t last)
{
	struct addr_key ip = { .addr = { [10] = 0xff, [11] = 0xff, 192, 0, 2, last } };

	return ip;
}

static void test_guesses(void **state)
{
	const uint64_t window = 60 * 1000000000ULL;
	char why[ERRMSG_LEN] = "";
	struct weak_guesses *g = weak_guesses_new(WEAK_GUESSES_MAX, why);
	struct addr_key a = ip_of(7), b = ip_of(8);
	struct weak_guess_count top[WEAK_GUESSES_TOP];

	(void)state;
	assert_non_null(g);
	assert_int_equal(weak_guesses_add(g, &a, 1000, window), 1);
	assert_int_equal(weak_guesses_add(g, &b, 2000, window), 1);
	assert_int_equal(weak_guesses_add(g, &a, 3000, window), 2);
	assert_int_equal(weak_guesses_add(g, &a, 4000, window), 3);
	assert_int_equal(weak_guesses_top(g, 5000, window, top, WEAK_GUESSES_TOP), 2);
	assert_memory_equal(&top[0].ip, &a, sizeof(a));
	assert_int_equal(top[0].count, 3);
	assert_int_equal(top[1].count, 1);
	assert_int_equal(weak_guesses_top(g, 5000, window, top, 1), 1);
	assert_int_equal(top[0].count, 3);
	/* A window ends 60 s after its first guess: the count starts over. */
	assert_int_equal(weak_guesses_add(g, &a, 1000 + window, window), 1);
	assert_int_equal(weak_guesses_top(g, 2000 + window, window, top, WEAK_GUESSES_TOP), 1);
	weak_guesses_forget(g, &a);
	assert_int_equal(weak_guesses_top(g, 2000 + window, window, top, WEAK_GUESSES_TOP), 0);
	weak_guesses_free(g);
}

/* A full set forgets the address with the fewest guesses, never the sprayer. */
static void test_guesses_bounded(void **state)
{
	char why[ERRMSG_LEN] = "";
	struct weak_guesses *g = weak_guesses_new(4, why); /* one set of 4 */
	struct addr_key sprayer = ip_of(1);
	struct weak_guess_count top[2];

	(void)state;
	for (int i = 0; i < 10; i++)
		weak_guesses_add(g, &sprayer, 1000, UINT64_MAX / 2);
	for (int i = 2; i < 200; i++) {
		struct addr_key other = ip_of((uint8_t)i);

		weak_guesses_add(g, &other, 1000, UINT64_MAX / 2);
	}
	assert_int_equal(weak_guesses_add(g, &sprayer, 1000, UINT64_MAX / 2), 11);
	assert_int_equal(weak_guesses_top(g, 1000, UINT64_MAX / 2, top, 2), 2);
	assert_int_equal(top[0].count, 11);
	weak_guesses_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_verdicts),	 cmocka_unit_test(test_worker_full),
		cmocka_unit_test(test_accounts),	 cmocka_unit_test(test_accounts_restored),
		cmocka_unit_test(test_accounts_bounded), cmocka_unit_test(test_guesses),
		cmocka_unit_test(test_guesses_bounded),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
