// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "serve/weak_worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* A ring of jobs, or of verdicts. */
struct ring {
	size_t head, count, capacity;
};

static size_t ring_push(struct ring *r)
{
	return (r->head + r->count++) % r->capacity;
}

static size_t ring_pop(struct ring *r)
{
	size_t at = r->head;

	r->head = (r->head + 1) % r->capacity;
	r->count--;
	return at;
}

struct weak_worker {
	const struct weak_dict *dict;
	const struct weak_hash *hash;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	int fd;
	struct weak_job *jobs[WEAK_JOB_KINDS];
	struct ring queue[WEAK_JOB_KINDS];
	/*
	 * Jobs of a kind queued, being judged or judged and not yet taken: at
	 * most its queue's capacity, so the verdicts' ring never overflows.
	 */
	size_t in_flight[WEAK_JOB_KINDS];
	struct weak_verdict *verdicts;
	struct ring done;
};

static const size_t capacity[WEAK_JOB_KINDS] = { WEAK_JUDGE_QUEUE, WEAK_GUESS_QUEUE };

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int this_year(void)
{
	time_t now = time(NULL);
	struct tm tm;

	return localtime_r(&now, &tm) ? tm.tm_year + 1900 : 1970;
}

static void judge(struct weak_worker *w, struct weak_verdict *v)
{
	enum weak_class last = v->job.kind == WEAK_JOB_JUDGE ? WEAK_CLASSES - 1 : WEAK_WORD;
	uint64_t started = thread_cpu_ns();
	struct weak_cost cost;

	v->class =
	    weak_judge(w->dict, w->hash, v->job.login, v->job.digest, last, this_year(), &cost);
	v->candidates = cost.candidates;
	v->cpu_ns = thread_cpu_ns() - started;
}

/* The next job, judgements first; false when stopping. Called locked. */
static bool next_job(struct weak_worker *w, struct weak_verdict *v)
{
	while (!w->stop) {
		for (int kind = 0; kind < WEAK_JOB_KINDS; kind++)
			if (w->queue[kind].count) {
				v->job = w->jobs[kind][ring_pop(&w->queue[kind])];
				return true;
			}
		pthread_cond_wait(&w->wake, &w->lock);
	}
	return false;
}

static void *worker_loop(void *arg)
{
	struct weak_worker *w = arg;
	struct weak_verdict v;
	uint64_t one = 1;

	pthread_mutex_lock(&w->lock);
	while (next_job(w, &v)) {
		pthread_mutex_unlock(&w->lock);
		judge(w, &v);
		pthread_mutex_lock(&w->lock);
		w->verdicts[ring_push(&w->done)] = v;
		if (write(w->fd, &one, sizeof(one)) < 0) {
			/* The counter cannot overflow: the loop reads it at every wake-up. */
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void free_buffers(struct weak_worker *w)
{
	for (int kind = 0; kind < WEAK_JOB_KINDS; kind++)
		free(w->jobs[kind]);
	free(w->verdicts);
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

struct weak_worker *weak_worker_new(const struct weak_dict *dict, const struct weak_hash *hash,
				    char why[ERRMSG_LEN])
{
	struct weak_worker *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int err;

	if (!w) {
		errmsg(why, "weak passwords: out of memory");
		return NULL;
	}
	w->dict = dict;
	w->hash = hash;
	w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (int kind = 0; kind < WEAK_JOB_KINDS; kind++) {
		w->jobs[kind] = calloc(capacity[kind], sizeof(*w->jobs[kind]));
		w->queue[kind].capacity = capacity[kind];
	}
	w->verdicts = calloc(WEAK_JUDGE_QUEUE + WEAK_GUESS_QUEUE, sizeof(*w->verdicts));
	w->done.capacity = WEAK_JUDGE_QUEUE + WEAK_GUESS_QUEUE;
	if (w->fd < 0 || !w->jobs[WEAK_JOB_JUDGE] || !w->jobs[WEAK_JOB_GUESS] || !w->verdicts) {
		errmsg(why, "weak passwords: %s", w->fd < 0 ? strerror(errno) : "out of memory");
		free_buffers(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	/* Signals stay with the loop's signalfd: the thread blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&w->thread, NULL, worker_loop, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		errmsg(why, "weak passwords: cannot start the thread: %s", strerror(err));
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free_buffers(w);
		return NULL;
	}
	return w;
}

void weak_worker_free(struct weak_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	/* Logins and pwhashes do not outlive the worker in freed memory. */
	for (int kind = 0; kind < WEAK_JOB_KINDS; kind++)
		memset(w->jobs[kind], 0, capacity[kind] * sizeof(*w->jobs[kind]));
	memset(w->verdicts, 0, w->done.capacity * sizeof(*w->verdicts));
	free_buffers(w);
}

bool weak_worker_submit(struct weak_worker *w, const struct weak_job *job)
{
	bool queued = false;

	if ((unsigned int)job->kind >= WEAK_JOB_KINDS)
		return false;
	pthread_mutex_lock(&w->lock);
	if (w->in_flight[job->kind] < capacity[job->kind]) {
		w->jobs[job->kind][ring_push(&w->queue[job->kind])] = *job;
		w->in_flight[job->kind]++;
		pthread_cond_signal(&w->wake);
		queued = true;
	}
	pthread_mutex_unlock(&w->lock);
	return queued;
}

int weak_worker_fd(const struct weak_worker *w)
{
	return w->fd;
}

size_t weak_worker_take(struct weak_worker *w, struct weak_verdict *out, size_t max)
{
	uint64_t ignored;
	size_t n = 0;

	if (read(w->fd, &ignored, sizeof(ignored)) < 0) {
		/* EAGAIN: nothing was signalled since the last take. */
	}
	pthread_mutex_lock(&w->lock);
	while (n < max && w->done.count) {
		out[n] = w->verdicts[ring_pop(&w->done)];
		w->in_flight[out[n].job.kind]--;
		n++;
	}
	pthread_mutex_unlock(&w->lock);
	return n;
}
