// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Dovecot auth policy protocol (policy_handle): what the HTTP layer
 * hands it, the "command" argument, the API key header and the JSON body.
 *
 * Input: a config byte (bit 0: an API key is configured; bit 1: tarpit 0),
 * then requests separated by FUZZ_PART_MARK, each a flags byte and the body:
 *   bits 0-1  command: "allow", "report", none, "allowx"
 *   bits 2-3  key presented: none, the right one, a prefix of it, longer
 *   bits 4-7  seconds to advance the clock by, times 20
 * A policy with the smallest pending table (8) serves them all in order, so
 * tarpit pairing and a full table are reached. Fake rules: a login starting
 * with 'b' is blocked; an address whose last byte is odd is banned.
 *
 * Checked: the answer is JSON; status, verdict and HTTP status agree; a
 * wrong or missing key is never answered 200; a rejection's msg never says
 * why; an event's address is the body's "remote" and nothing else.
 */
#include "fuzz.h"
#include <jansson.h>
#include "lib/cidr.h"
#include "serve/policy.h"

#define FUZZ_API_KEY	  "sekrit"
#define FUZZ_TARPIT	  60
#define FUZZ_REQUESTS_MAX 16
#define FUZZ_NSEC_PER_SEC 1000000000ULL

static bool fake_blocked(void *ctx, const char *login, uint64_t *deadline_ns)
{
	(void)ctx;
	*deadline_ns = 600 * FUZZ_NSEC_PER_SEC;
	return login[0] == 'b';
}

static bool fake_banned(void *ctx, const struct addr_key *ip)
{
	(void)ctx;
	return ip->addr[ADDR_LEN - 1] & 1;
}

/* The body's top-level "remote" as cidr_parse reads it: the only source of an event's address. */
static bool remote_of(const struct fuzz_part *body, struct addr_key *ip)
{
	json_t *doc =
	    json_loadb((const char *)body->data, body->size, JSON_REJECT_DUPLICATES, NULL);
	const char *text = json_string_value(json_object_get(doc, "remote"));
	char why[ERRMSG_LEN];
	struct lpm_key key;
	bool ok = text && cidr_parse(text, &key, why) == 0;

	if (ok)
		cidr_to_addr_key(ip, &key);
	json_decref(doc);
	return ok;
}

static void check_answer(const struct policy_result *r, const struct fuzz_part *body,
			 bool key_configured, int key_presented, unsigned int tarpit)
{
	json_t *answer;
	struct addr_key remote;

	FUZZ_CHECK(memchr(r->body, '\0', sizeof(r->body)));
	FUZZ_CHECK(memchr(r->reason, '\0', sizeof(r->reason)));
	answer = json_loads(r->body, 0, NULL);
	FUZZ_CHECK(json_is_object(answer));
	json_decref(answer);
	if (key_configured && key_presented != 1)
		FUZZ_CHECK(r->http_status == 401 || r->http_status == 403);
	if (r->http_status != 200) {
		FUZZ_CHECK(r->http_status >= 400 && r->http_status < 500);
		FUZZ_CHECK(r->verdict == POLICY_ERROR && !r->has_event);
		return;
	}
	switch (r->verdict) {
	case POLICY_ACCEPT:
	case POLICY_REPORTED:
		FUZZ_CHECK(r->status == 0);
		break;
	case POLICY_TARPIT:
		FUZZ_CHECK(tarpit && r->status == (int)tarpit);
		break;
	case POLICY_REJECT_BANNED:
	case POLICY_REJECT_BLOCKED:
		FUZZ_CHECK(r->status == -1);
		FUZZ_CHECK(!strstr(r->body, "bann") && !strstr(r->body, "block"));
		break;
	default:
		FUZZ_CHECK(!"a 200 answer with an error verdict");
	}
	FUZZ_CHECK(!r->has_event || r->verdict == POLICY_REPORTED);
	FUZZ_CHECK(remote_of(body, &remote));
	FUZZ_CHECK(!memcmp(&remote, &r->event.ip, sizeof(remote)));
	FUZZ_CHECK(memchr(r->event.user, '\0', sizeof(r->event.user)));
	FUZZ_CHECK(r->event.attempts == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const commands[] = { "allow", "report", NULL, "allowx" };
	static const char *const keys[] = { NULL, FUZZ_API_KEY, "sekri", FUZZ_API_KEY "x" };
	struct policy_checks checks = { .account_blocked = fake_blocked, .ip_banned = fake_banned };
	struct fuzz_part parts[FUZZ_REQUESTS_MAX];
	struct policy_config cfg;
	struct policy_result result;
	char why[ERRMSG_LEN];
	struct policy *policy;
	uint64_t now_ns = 1000 * FUZZ_NSEC_PER_SEC;
	size_t n;

	if (size < 1)
		return 0;
	policy_config_default(&cfg);
	cfg.max_pending = 8;
	cfg.api_key = data[0] & 1 ? FUZZ_API_KEY : NULL;
	cfg.tarpit_s = data[0] & 2 ? 0 : FUZZ_TARPIT;
	policy = policy_new(&cfg, &checks, why);
	if (!policy)
		abort();
	n = fuzz_split(data + 1, size - 1, parts, FUZZ_REQUESTS_MAX);
	for (size_t i = 0; i < n; i++) {
		uint8_t flags = parts[i].size ? parts[i].data[0] : 0;
		struct fuzz_part body = { parts[i].data + !!parts[i].size,
					  parts[i].size - !!parts[i].size };
		int key = flags >> 2 & 3;
		/* A heap copy of exactly the body, so ASan sees any read past its end. */
		char *copy = malloc(body.size ? body.size : 1);

		if (!copy)
			abort();
		memcpy(copy, body.data, body.size);
		now_ns += (uint64_t)(flags >> 4) * 20 * FUZZ_NSEC_PER_SEC;
		policy_handle(policy, commands[flags & 3], copy, body.size, keys[key], now_ns,
			      &result);
		check_answer(&result, &body, cfg.api_key != NULL, key, cfg.tarpit_s);
		free(copy);
	}
	policy_free(policy);
	return 0;
}
