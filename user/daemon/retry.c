// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon/daemon-internal.h"

#include <errno.h>
#include <stdlib.h>
#include "lib/cidr.h"

/*
 * ---- bans that failed for want of a resource ----
 *
 * A ban that could not be written because a descriptor or memory was
 * lacking (a flood of connections took them) waits here and is tried again
 * every second until it works or its deadline has passed; a newer decision
 * for the same prefix replaces the waiting one. RETRY_MAX waiting bans at
 * most: past it the ban fails as any other error does, logged and counted.
 */
#define RETRY_MAX 65536

struct ban_retry {
	struct rules_decision decision;
	char source[CONF_NAME_LEN];
	uint64_t deadline_ns; /* the ban's end as decided */
};

bool retry_transient(int err)
{
	return err == -EMFILE || err == -ENFILE || err == -ENOMEM || err == -EAGAIN ||
	       err == -ENOBUFS || err == -EINTR || err == -EBUSY;
}

static struct ban_retry *find(struct daemon *d, const struct lpm_key *key)
{
	for (size_t i = 0; i < d->retry_count; i++)
		if (cidr_compare(&d->retry[i].decision.ip_key, key) == 0)
			return &d->retry[i];
	return NULL;
}

bool retry_queue(struct daemon *d, const struct rules_decision *decision, const char *source)
{
	struct ban_retry *slot = find(d, &decision->ip_key);

	if (!slot) {
		if (d->retry_count == RETRY_MAX)
			return false;
		if (d->retry_count == d->retry_cap) {
			size_t cap = d->retry_cap ? d->retry_cap * 2 : 64;
			struct ban_retry *grown = realloc(d->retry, cap * sizeof(*grown));

			if (!grown)
				return false;
			d->retry = grown;
			d->retry_cap = cap;
		}
		slot = &d->retry[d->retry_count++];
		if (!d->retrying)
			d->counters.bans_retried++;
	}
	slot->decision = *decision;
	snprintf(slot->source, sizeof(slot->source), "%s", source);
	slot->deadline_ns = clock_now_ns() + (uint64_t)decision->ban_seconds * NSEC_PER_SEC;
	return true;
}

/* From the tick: each waiting ban once more, for what is left of it; queued again if it fails so.
 */
void retry_run(struct daemon *d)
{
	size_t count = d->retry_count;
	struct ban_retry *waiting = d->retry;
	uint64_t now_ns = clock_now_ns();
	char result[ERRMSG_LEN];

	if (!count)
		return;
	d->retry = NULL;
	d->retry_count = d->retry_cap = 0;
	d->retrying = true;
	for (size_t i = 0; i < count; i++) {
		struct rules_decision decision = waiting[i].decision;

		if (waiting[i].deadline_ns <= now_ns + NSEC_PER_SEC)
			continue; /* it would have ended by now */
		decision.ban_seconds =
		    (unsigned int)((waiting[i].deadline_ns - now_ns) / NSEC_PER_SEC);
		decide_apply_ban(d, &decision, waiting[i].source, result);
	}
	d->retrying = false;
	free(waiting);
}

void retry_free(struct daemon *d)
{
	free(d->retry);
	d->retry = NULL;
	d->retry_count = d->retry_cap = 0;
}
