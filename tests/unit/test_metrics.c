// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The /metrics page: exposition format details and what is left out. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "geo/country.h"
#include "daemon/metrics.h"

static char *page_of(const struct metrics_snapshot *snap)
{
	size_t len = 0;
	char *page = metrics_format(snap, &len);

	assert_non_null(page);
	assert_int_equal(strlen(page), len);
	return page;
}

static void assert_line(const char *page, const char *line)
{
	for (const char *at = strstr(page, line); at; at = strstr(at + 1, line))
		if ((at == page || at[-1] == '\n') && at[strlen(line)] == '\n')
			return;
	fail_msg("no line '%s' in:\n%s", line, page);
}

static void xdp_counters_by_verdict_and_country(void **state)
{
	struct metrics_snapshot *snap = calloc(1, sizeof(*snap));
	char why[ERRMSG_LEN];
	int cn = country_parse("CN", why), de = country_parse("DE", why);
	char *page;

	(void)state;
	snap->have_xdp = true;
	snap->verdicts.reason[REASON_DROP_BAN].packets = 12;
	snap->verdicts.reason[REASON_DROP_GEO].bytes = 740;
	snap->countries[cn].blocked = true;
	snap->countries[cn].drops.packets = 9;
	snap->countries[de].drops.packets = 0; /* neither blocked nor dropped: left out */
	page = page_of(snap);
	assert_line(page, "# TYPE xdpban_packets_total counter");
	assert_line(page, "xdpban_packets_total{verdict=\"drop_ban\"} 12");
	assert_line(page, "xdpban_packets_total{verdict=\"pass\"} 0");
	assert_line(page, "xdpban_bytes_total{verdict=\"drop_geo\"} 740");
	assert_line(page, "xdpban_geo_drops_total{country=\"CN\"} 9");
	assert_line(page, "xdpban_geo_country_blocked{country=\"CN\"} 1");
	assert_null(strstr(page, "country=\"DE\""));
	assert_null(strstr(page, "xdpban_bans_active")); /* no sweep yet */
	assert_null(strstr(page, "xdpban_policy_answers_total"));
	free(page);
	free(snap);
}

static void daemon_policy_and_bans(void **state)
{
	struct metrics_snapshot *snap = calloc(1, sizeof(*snap));
	const struct metrics_source sources[] = { { "mail", 1000, 7 }, { "dovecot-policy", 0, 3 } };
	char *page;

	(void)state;
	snap->have_ban_count = true;
	snap->bans_address = 1048576;
	snap->bans_cidr = 2;
	snap->bans_counted_at = 1795792735;
	snap->sources = sources;
	snap->source_count = 2;
	snap->counters.rules.blocks_held = 4;
	snap->counters.daemon.bans = 5;
	snap->counters.daemon.refused_lockout = 2;
	snap->counters.links.detach_failures = 1;
	snap->counters.rules.accounts_saturated = 1;
	snap->counters.rules.account_rich_evictions = 9;
	snap->have_policy = true;
	snap->policy.verdicts[POLICY_TARPIT] = 6;
	snap->policy.verdicts[POLICY_REJECT_BLOCKED] = 2;
	page = page_of(snap);
	assert_line(page, "xdpban_bans_active{kind=\"address\"} 1048576");
	assert_line(page, "xdpban_bans_active{kind=\"cidr\"} 2");
	assert_line(page, "xdpban_bans_counted_timestamp_seconds 1795792735");
	assert_line(page, "xdpban_account_blocks_active 4");
	assert_line(page, "xdpban_events_total{source=\"mail\"} 7");
	assert_line(page, "xdpban_events_total{source=\"dovecot-policy\"} 3");
	assert_line(page, "xdpban_log_lines_total{source=\"mail\"} 1000");
	assert_null(strstr(page, "xdpban_log_lines_total{source=\"dovecot-policy\"}"));
	assert_line(page, "xdpban_rule_bans_total 5");
	/* The faults, from the status reply's table (counters.c), with their types. */
	assert_line(page, "xdpban_refused_lockout_total 2");
	assert_line(page, "xdpban_detach_failures_total 1");
	assert_line(page, "# TYPE xdpban_refused_lockout_total counter");
	assert_line(page, "# TYPE xdpban_rules_tracked_addresses gauge");
	assert_line(page, "xdpban_rules_accounts_saturated 1");
	assert_line(page, "# TYPE xdpban_rules_accounts_saturated gauge");
	assert_line(page, "xdpban_rules_account_evictions_multi_source_total 9");
	assert_line(page, "xdpban_policy_answers_total{answer=\"tarpit\"} 6");
	assert_line(page, "xdpban_policy_answers_total{answer=\"reject_blocked\"} 2");
	assert_line(page, "xdpban_policy_answers_total{answer=\"accept\"} 0");
	assert_null(strstr(page, "xdpban_packets_total")); /* maps unreadable: left out */
	free(page);
	free(snap);
}

/* Source names come from the config file: quotes, backslashes and newlines are escaped. */
static void label_values_escaped(void **state)
{
	struct metrics_snapshot *snap = calloc(1, sizeof(*snap));
	const struct metrics_source sources[] = { { "a\"b\\c\nd", 0, 1 } };
	char *page;

	(void)state;
	snap->sources = sources;
	snap->source_count = 1;
	page = page_of(snap);
	assert_line(page, "xdpban_events_total{source=\"a\\\"b\\\\c\\nd\"} 1");
	free(page);
	free(snap);
}

static void fleet_and_dnsbl_when_on(void **state)
{
	struct metrics_snapshot *snap = calloc(1, sizeof(*snap));
	char *page;

	(void)state;
	page = page_of(snap);
	assert_null(strstr(page, "xdpban_fleet_"));
	assert_null(strstr(page, "xdpban_dnsbl_"));
	free(page);
	snap->have_fleet = true;
	snap->fleet.synced = true;
	snap->fleet.remote_bans = 4;
	snap->fleet.dropped = 2;
	snap->have_dnsbl = true;
	snap->dnsbl.listed = 3;
	page = page_of(snap);
	assert_line(page, "xdpban_fleet_synced 1");
	assert_line(page, "xdpban_fleet_remote_total{kind=\"ban\"} 4");
	assert_line(page, "xdpban_fleet_messages_total{kind=\"dropped\"} 2");
	assert_line(page, "xdpban_dnsbl_answers_total{result=\"listed\"} 3");
	free(page);
	free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xdp_counters_by_verdict_and_country),
		cmocka_unit_test(daemon_policy_and_bans),
		cmocka_unit_test(label_values_escaped),
		cmocka_unit_test(fleet_and_dnsbl_when_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
