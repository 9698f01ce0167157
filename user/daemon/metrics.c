// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon/metrics.h"

#include <inttypes.h>
#include <stdlib.h>
#include "geo/country.h"
#include "lib/util.h"
#include "lib/cidr.h"

static const char *const policy_answer_names[POLICY_VERDICTS] = {
	[POLICY_ACCEPT] = "accept",
	[POLICY_TARPIT] = "tarpit",
	[POLICY_REJECT_BANNED] = "reject_banned",
	[POLICY_REJECT_BLOCKED] = "reject_blocked",
	[POLICY_REJECT_WEAK] = "reject_weak",
	[POLICY_REPORTED] = "report",
	[POLICY_ERROR] = "error",
};

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric of one unlabelled sample, with its HELP and TYPE lines. */
static void single(FILE *out, const char *name, const char *type, const char *help, uint64_t value)
{
	family(out, name, type, help);
	fprintf(out, "%s %" PRIu64 "\n", name, value);
}

/*
 * A label value as the exposition format wants it: backslash, double quote
 * and newline escaped. Source names come from the config file, so they may
 * hold any of them.
 */
static void label_value(FILE *out, const char *value)
{
	for (const char *c = value; *c; c++) {
		if (*c == '\\' || *c == '"')
			fprintf(out, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", out);
		else
			fputc(*c, out);
	}
}

static void labelled(FILE *out, const char *name, const char *label, const char *value,
		     uint64_t count)
{
	fprintf(out, "%s{%s=\"", name, label);
	label_value(out, value);
	fprintf(out, "\"} %" PRIu64 "\n", count);
}

static void write_xdp(FILE *out, const struct metrics_snapshot *s)
{
	char code[COUNTRY_CODE_LEN];

	family(out, "xdpban_packets_total", "counter",
	       "TCP packets the XDP program judged, by verdict (drop_* are drops).");
	for (int r = 0; r < REASON_COUNT; r++)
		labelled(out, "xdpban_packets_total", "verdict", stats_reason_name(r),
			 s->verdicts.reason[r].packets);
	family(out, "xdpban_bytes_total", "counter", "Bytes of those packets, by verdict.");
	for (int r = 0; r < REASON_COUNT; r++)
		labelled(out, "xdpban_bytes_total", "verdict", stats_reason_name(r),
			 s->verdicts.reason[r].bytes);
	family(out, "xdpban_geo_drops_total", "counter",
	       "Packets dropped because their source is in a blocked country, by country.");
	for (int slot = 0; slot < COUNTRY_SLOTS; slot++) {
		if (!s->countries[slot].drops.packets && !s->countries[slot].blocked)
			continue;
		country_code(slot, code);
		labelled(out, "xdpban_geo_drops_total", "country", code,
			 s->countries[slot].drops.packets);
	}
	family(out, "xdpban_geo_country_blocked", "gauge",
	       "1 for each country whose addresses are blocked now.");
	for (int slot = 0; slot < COUNTRY_SLOTS; slot++) {
		if (!s->countries[slot].blocked)
			continue;
		country_code(slot, code);
		labelled(out, "xdpban_geo_country_blocked", "country", code, 1);
	}
}

static void write_bans(FILE *out, const struct metrics_snapshot *s)
{
	family(out, "xdpban_bans_active", "gauge",
	       "Bans in the kernel maps at the last sweep, by kind (address or cidr).");
	labelled(out, "xdpban_bans_active", "kind", "address", s->bans_address);
	labelled(out, "xdpban_bans_active", "kind", "cidr", s->bans_cidr);
	single(out, "xdpban_bans_counted_timestamp_seconds", "gauge",
	       "When the last sweep counted the bans (Unix time).", (uint64_t)s->bans_counted_at);
}

static void write_daemon(FILE *out, const struct metrics_snapshot *s)
{
	static const char *const kinds[] = {
		[COUNTER_TOTAL] = "counter", [COUNTER_GAUGE] = "gauge"
	};

	family(out, "xdpban_events_total", "counter",
	       "Authentication outcomes taken in, by source.");
	for (size_t i = 0; i < s->source_count; i++)
		labelled(out, "xdpban_events_total", "source", s->sources[i].name,
			 s->sources[i].events);
	family(out, "xdpban_log_lines_total", "counter",
	       "Log lines (journal entries) read, by log source.");
	for (size_t i = 0; i < s->source_count; i++)
		if (s->sources[i].is_log || s->sources[i].lines)
			labelled(out, "xdpban_log_lines_total", "source", s->sources[i].name,
				 s->sources[i].lines);
	family(out, "xdpban_log_unrecognised_auth_lines_total", "counter",
	       "Lines that name a program a parser reads and look like authentication lines, "
	       "but yielded no outcome, by log source.");
	for (size_t i = 0; i < s->source_count; i++)
		if (s->sources[i].is_log)
			labelled(out, "xdpban_log_unrecognised_auth_lines_total", "source",
				 s->sources[i].name, s->sources[i].unrecognised);
	family(out, "xdpban_log_source_silent", "gauge",
	       "1 while a log source has read many lines that look like authentication lines "
	       "and recognised none for long (silence_warning): its format may have changed.");
	for (size_t i = 0; i < s->source_count; i++)
		if (s->sources[i].is_log)
			labelled(out, "xdpban_log_source_silent", "source", s->sources[i].name,
				 s->sources[i].silent);
	for (size_t i = 0; i < counter_table_len; i++) {
		const struct counter_def *def = &counter_table[i];

		if (def->metric)
			single(out, def->metric, kinds[def->kind], def->help,
			       counter_value(&s->counters, def));
	}
}

static void write_policy(FILE *out, const struct metrics_snapshot *s)
{
	family(out, "xdpban_policy_answers_total", "counter",
	       "Answers of the Dovecot auth policy endpoint, by kind.");
	for (int v = 0; v < POLICY_VERDICTS; v++)
		labelled(out, "xdpban_policy_answers_total", "answer", policy_answer_names[v],
			 s->policy.verdicts[v]);
}

struct label_value {
	const char *label;
	uint64_t value;
};

/* A metric of one sample per label value. */
static void labelled_set(FILE *out, const char *name, const char *type, const char *help,
			 const char *label, const struct label_value *values, size_t count)
{
	family(out, name, type, help);
	for (size_t i = 0; i < count; i++)
		labelled(out, name, label, values[i].label, values[i].value);
}

static void write_fleet(FILE *out, const struct fleet_counters *c)
{
	const struct label_value remote[] = { { "ban", c->remote_bans },
					      { "block", c->remote_blocks },
					      { "change", c->remote_changes } };
	const struct label_value decided[] = { { "ban", c->fleet_bans },
					       { "block", c->fleet_blocks } };
	const struct label_value sent[] = { { "published", c->published },
					    { "reported", c->reported },
					    { "dropped", c->dropped } };

	single(out, "xdpban_fleet_synced", "gauge",
	       "1 while connected to Redis and in step with the fleet.", c->synced);
	labelled_set(out, "xdpban_fleet_remote_total", "counter",
		     "Bans, account blocks and operator changes applied from other nodes.", "kind",
		     remote, ARRAY_SIZE(remote));
	labelled_set(out, "xdpban_fleet_decisions_total", "counter",
		     "Bans and blocks the fleet-wide counts decided on this node's failures.",
		     "kind", decided, ARRAY_SIZE(decided));
	labelled_set(out, "xdpban_fleet_messages_total", "counter",
		     "Decisions published, failures reported, and those not sent (Redis away).",
		     "kind", sent, ARRAY_SIZE(sent));
	single(out, "xdpban_fleet_outages_total", "counter", "Times Redis went away.", c->outages);
}

static void write_dnsbl(FILE *out, const struct dnsbl_counters *c)
{
	const struct label_value results[] = { { "listed", c->listed },
					       { "not_listed", c->not_listed },
					       { "error", c->errors } };

	single(out, "xdpban_dnsbl_lookups_total", "counter", "DNSBL lookups started.", c->lookups);
	labelled_set(out, "xdpban_dnsbl_answers_total", "counter",
		     "DNSBL lookups answered, by result.", "result", results, ARRAY_SIZE(results));
	single(out, "xdpban_dnsbl_cache_hits_total", "counter",
	       "Policy checks answered from the DNSBL cache.", c->cache_hits);
	single(out, "xdpban_dnsbl_skipped_total", "counter",
	       "DNSBL lookups not started: too many already under way.", c->skipped);
}

/* Per address: a gauge of the few addresses with the most guesses, so its labels stay few. */
static void write_guesses(FILE *out, const struct metrics_snapshot *s)
{
	char address[CIDR_TEXT_LEN];
	struct lpm_key host;

	family(out, "xdpban_dictionary_guesses", "gauge",
	       "Failed logins guessing dictionary words in [rules] dictionary_window, for the "
	       "addresses with the most.");
	for (size_t i = 0; i < s->guess_top_count; i++) {
		cidr_from_addr_key(&host, &s->guess_top[i].ip);
		cidr_format(&host, address);
		labelled(out, "xdpban_dictionary_guesses", "address", address,
			 s->guess_top[i].count);
	}
}

int metrics_write(FILE *out, const struct metrics_snapshot *snapshot)
{
	if (snapshot->have_xdp)
		write_xdp(out, snapshot);
	if (snapshot->have_ban_count)
		write_bans(out, snapshot);
	write_daemon(out, snapshot);
	if (snapshot->have_policy)
		write_policy(out, snapshot);
	if (snapshot->have_fleet)
		write_fleet(out, &snapshot->fleet);
	if (snapshot->have_dnsbl)
		write_dnsbl(out, &snapshot->dnsbl);
	if (snapshot->have_weak)
		write_guesses(out, snapshot);
	return ferror(out) ? -1 : 0;
}

char *metrics_format(const struct metrics_snapshot *snapshot, size_t *len)
{
	char *text = NULL;
	FILE *out = open_memstream(&text, len);

	if (!out)
		return NULL;
	if (metrics_write(out, snapshot) < 0) {
		fclose(out);
		free(text);
		return NULL;
	}
	if (fclose(out)) {
		free(text);
		return NULL;
	}
	return text;
}
