// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Weak passwords ([policy] weak_passwords, README "Weak passwords"): the
 * policy endpoint's reports go to the judging thread (serve/weak_worker.h),
 * whose verdicts come back here through the loop: into the per-account
 * table, the store, the log and the counters. Failed logins whose password
 * was a dictionary word count per address, and with [rules]
 * dictionary_guesses ban it.
 */
#include "daemon/daemon-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include "lib/cidr.h"

#define VERDICT_BATCH 64
#define GUESS_REASON  "dictionary"

/* What judging was built from: a change means a new dictionary or hash. */
static bool same_basis(const struct conf_policy *a, const struct conf_policy *b)
{
	return !strcmp(a->weak_dictionary, b->weak_dictionary) &&
	       !strcmp(a->hash_nonce, b->hash_nonce) && !strcmp(a->hash_mech, b->hash_mech);
}

static void stop_worker(struct daemon *d)
{
	if (d->weak_worker)
		loop_unwatch(&d->loop, weak_worker_fd(d->weak_worker));
	weak_worker_free(d->weak_worker);
	weak_dict_free(d->weak_dict);
	weak_hash_free(d->weak_hash);
	d->weak_worker = NULL;
	d->weak_dict = NULL;
	d->weak_hash = NULL;
}

static void record_listed(struct daemon *d, const char *account, enum weak_class class)
{
	d->counters.weak_found++;
	log_say(LOG_LEVEL_WARNING,
		"weak password: account %s logged in with a password its rules find (%s); "
		"listed by 'xdpban weak'%s",
		account, weak_class_name(class),
		d->conf->policy.weak_passwords == CONF_WEAK_REFUSE
		    ? ", and that password is refused from now on"
		    : "");
	if (d->queue)
		store_queue_weak_found(d->queue, account, weak_class_name(class), clock_wall_s());
}

static void record_cleared(struct daemon *d, const char *account)
{
	d->counters.weak_cleared++;
	log_say(LOG_LEVEL_INFO,
		"weak password: account %s logged in with another password, not found weak: "
		"listing cleared",
		account);
	if (d->queue)
		store_queue_weak_cleared(d->queue, account, clock_wall_s(), "password changed");
}

/* A failed login's password was a dictionary word: counted, and maybe the address banned. */
static void dictionary_guess(struct daemon *d, const struct addr_key *ip)
{
	const struct conf_rules *rules = &d->conf->rules;
	uint64_t window_ns = rules->dictionary_window * NSEC_PER_SEC, count;
	struct lpm_key host;
	char because[ERRMSG_LEN];

	d->counters.dictionary_guesses++;
	cidr_from_addr_key(&host, ip);
	if (d->queue)
		store_queue_guesses(d->queue, &host, 1, clock_wall_s());
	count = weak_guesses_add(d->weak_guesses, ip, clock_now_ns(), window_ns);
	if (!rules->dictionary_guesses || count < rules->dictionary_guesses ||
	    decide_allowlisted(d, ip))
		return;
	weak_guesses_forget(d->weak_guesses, ip);
	snprintf(because, sizeof(because), "%llu failed logins guessing dictionary words",
		 (unsigned long long)count);
	decide_ban(d, &host, rules->config.ip_bantime, GUESS_REASON, POLICY_SOURCE_NAME, count,
		   because);
}

static void take_verdict(struct daemon *d, struct weak_verdict *v)
{
	size_t size = weak_hash_size(d->weak_hash);

	if (v->job.kind == WEAK_JOB_GUESS) {
		if (v->class != WEAK_NONE)
			dictionary_guess(d, &v->job.ip);
		return;
	}
	d->counters.weak_judged++;
	if (v->cpu_ns > d->counters.weak_judge_max_us * 1000)
		d->counters.weak_judge_max_us = v->cpu_ns / 1000;
	log_say(LOG_LEVEL_DEBUG, "weak password: judged a login of %s: %llu hashes, %llu us",
		v->job.login, (unsigned long long)v->candidates,
		(unsigned long long)(v->cpu_ns / 1000));
	switch (
	    weak_accounts_verdict(d->weak_accounts, v->job.login, v->job.digest, size, v->class)) {
	case WEAK_LISTED:
		record_listed(d, v->job.login, v->class);
		break;
	case WEAK_CLEARED:
		record_cleared(d, v->job.login);
		break;
	case WEAK_UNCHANGED:
		break;
	}
	d->counters.weak_listed = weak_accounts_listed(d->weak_accounts);
}

static void on_verdicts(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;
	struct weak_verdict verdicts[VERDICT_BATCH];
	size_t n;

	(void)events;
	do {
		n = weak_worker_take(d->weak_worker, verdicts, VERDICT_BATCH);
		for (size_t i = 0; i < n; i++)
			take_verdict(d, &verdicts[i]);
	} while (n == VERDICT_BATCH);
	memset(verdicts, 0, sizeof(verdicts)); /* the pwhashes go as soon as they are judged */
}

static int start_worker(struct daemon *d, char why[ERRMSG_LEN])
{
	const struct conf_policy *policy = &d->conf->policy;
	int err;

	d->weak_hash = weak_hash_new(policy->hash_mech, policy->hash_nonce, why);
	if (d->weak_hash)
		d->weak_dict = weak_dict_load(policy->weak_dictionary, why);
	if (d->weak_dict)
		d->weak_worker = weak_worker_new(d->weak_dict, d->weak_hash, why);
	if (!d->weak_worker) {
		stop_worker(d);
		return -EINVAL;
	}
	err = loop_watch(&d->loop, weak_worker_fd(d->weak_worker), EPOLLIN, on_verdicts, d,
			 "weak-password verdicts", why);
	if (err) {
		stop_worker(d);
		return err;
	}
	d->weak_basis = *policy;
	log_say(LOG_LEVEL_INFO, "weak passwords: %s, %zu words from %s",
		conf_weak_mode_name(policy->weak_passwords), weak_dict_words(d->weak_dict),
		policy->weak_dictionary);
	return 0;
}

/* The accounts the store lists: listed here too, their pwhash learnt at their next login. */
static void restore_listed(struct daemon *d)
{
	struct store_weak *rows = NULL;
	char why[ERRMSG_LEN];
	size_t count = 0;

	if (!d->store || store_weak_list(d->store, false, &rows, &count, why)) {
		if (d->store)
			log_say(LOG_LEVEL_WARNING, "store: %s", why);
		return;
	}
	for (size_t i = 0; i < count; i++)
		weak_accounts_restore(d->weak_accounts, rows[i].account,
				      weak_class_of(rows[i].class));
	d->counters.weak_listed = weak_accounts_listed(d->weak_accounts);
	free(rows);
}

int passwords_open(struct daemon *d, char why[ERRMSG_LEN])
{
	const struct conf_policy *policy = &d->conf->policy;

	if (policy->weak_passwords == CONF_WEAK_OFF) {
		passwords_close(d);
		return 0;
	}
	if (d->weak_worker && same_basis(&d->weak_basis, policy))
		return 0;
	stop_worker(d);
	if (!d->weak_accounts) {
		d->weak_accounts = weak_accounts_new(WEAK_ACCOUNTS_MAX, why);
		d->weak_guesses = d->weak_accounts ? weak_guesses_new(WEAK_GUESSES_MAX, why) : NULL;
		if (!d->weak_guesses) {
			passwords_close(d);
			return -ENOMEM;
		}
		restore_listed(d);
	}
	return start_worker(d, why);
}

void passwords_close(struct daemon *d)
{
	stop_worker(d);
	weak_accounts_free(d->weak_accounts);
	weak_guesses_free(d->weak_guesses);
	d->weak_accounts = NULL;
	d->weak_guesses = NULL;
	d->counters.weak_listed = 0; /* none is kept up to date: the store still has them */
}

/*
 * Dovecot cuts pwhash to auth_policy_hash_truncate bits (12 by default):
 * nothing can be judged from that. Said once; every such request counted.
 */
static void truncated(struct daemon *d, size_t hex_len)
{
	d->counters.weak_truncated++;
	if (d->weak_truncated_said)
		return;
	d->weak_truncated_said = true;
	log_say(LOG_LEVEL_WARNING,
		"weak passwords: Dovecot sends pwhash cut to %zu bits, which cannot be judged; "
		"add 'auth_policy_hash_truncate = 0' to Dovecot's config (then 'doveadm reload')",
		hex_len * 4);
}

static void submit(struct daemon *d, const struct weak_job *job)
{
	if (weak_worker_submit(d->weak_worker, job))
		return;
	d->counters.weak_skipped++;
	if (job->kind == WEAK_JOB_JUDGE)
		weak_accounts_unseen(d->weak_accounts, job->login);
}

void passwords_report(struct daemon *d, const struct policy_result *result)
{
	const struct auth_event *event = &result->event;
	struct weak_job job = { .ip = event->ip };
	int err;

	if (!d->weak_worker || result->verdict != POLICY_REPORTED || !result->has_event ||
	    !result->login_exact || !event->user[0] || !event->pwhash[0])
		return;
	err = weak_hash_parse(d->weak_hash, event->pwhash, job.digest);
	if (err == -ERANGE)
		truncated(d, strlen(event->pwhash));
	if (err)
		return;
	snprintf(job.login, sizeof(job.login), "%s", event->user);
	job.kind = event->outcome == AUTH_OK ? WEAK_JOB_JUDGE : WEAK_JOB_GUESS;
	if (job.kind == WEAK_JOB_GUESS ||
	    weak_accounts_seen(d->weak_accounts, job.login, job.digest,
			       weak_hash_size(d->weak_hash)))
		submit(d, &job);
	memset(&job, 0, sizeof(job));
}

const char *passwords_refused(const struct daemon *d, const char *login, const char *pwhash)
{
	uint8_t digest[WEAK_DIGEST_MAX];
	bool refused;

	if (!d->weak_worker || d->conf->policy.weak_passwords != CONF_WEAK_REFUSE ||
	    weak_hash_parse(d->weak_hash, pwhash, digest))
		return NULL;
	refused =
	    weak_accounts_refused(d->weak_accounts, login, digest, weak_hash_size(d->weak_hash));
	memset(digest, 0, sizeof(digest));
	return refused ? d->conf->policy.weak_message : NULL;
}

size_t passwords_top_guesses(const struct daemon *d, struct weak_guess_count *out, size_t max)
{
	if (!d->weak_guesses)
		return 0;
	return weak_guesses_top(d->weak_guesses, clock_now_ns(),
				d->conf->rules.dictionary_window * NSEC_PER_SEC, out, max);
}
