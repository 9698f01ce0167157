// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon/counters.h"
#include "lib/util.h"

#include <string.h>

#define DAEMON(field) offsetof(struct counter_readings, daemon.field)
#define RULES(field)  offsetof(struct counter_readings, rules.field)
#define LINKS(field)  offsetof(struct counter_readings, links.field)
#define HTTP(field)   offsetof(struct counter_readings, http.field)
#define STORE(field)  offsetof(struct counter_readings, store.field)

const struct counter_def counter_table[] = {
	{ "events", false, NULL, COUNTER_TOTAL, NULL, DAEMON(events) },
	{ NULL, false, "xdpban_account_blocks_active", COUNTER_GAUGE,
	  "Accounts blocked now by the account rule.", RULES(blocks_held) },
	{ NULL, false, "xdpban_failures_total", COUNTER_TOTAL, "Failed logins the rules counted.",
	  RULES(failures) },
	{ "ignored_allowlisted", false, "xdpban_ignored_allowlisted_total", COUNTER_TOTAL,
	  "Failures from allowlisted or own addresses, not counted.", DAEMON(ignored_allowlisted) },
	{ NULL, false, "xdpban_log_echoes_total", COUNTER_TOTAL,
	  "Log failures not counted: the policy endpoint had reported them.", DAEMON(log_echoes) },
	{ "bans", false, "xdpban_rule_bans_total", COUNTER_TOTAL, "Bans the IP rule applied.",
	  DAEMON(bans) },
	{ "blocks", false, "xdpban_account_blocks_total", COUNTER_TOTAL,
	  "Account blocks the account rule started.", DAEMON(blocks) },
	{ "apply_errors", false, "xdpban_ban_errors_total", COUNTER_TOTAL,
	  "Bans the rules decided that could not be written to the maps.", DAEMON(apply_errors) },
	{ "tracked_ips", false, "xdpban_rules_tracked_addresses", COUNTER_GAUGE,
	  "Addresses whose recent failures the IP rule holds.", RULES(ips) },
	{ "evictions", false, "xdpban_rules_evictions_total", COUNTER_TOTAL,
	  "Live rule entries pushed out of the bounded tables by newer ones.", RULES(evictions) },
	{ "tracked_accounts", false, "xdpban_rules_tracked_accounts", COUNTER_GAUGE,
	  "Accounts whose recent failures the account rule holds.", RULES(accounts) },
	{ "account_failures_untracked", false, "xdpban_rules_account_failures_untracked_total",
	  COUNTER_TOTAL,
	  "Failures on new accounts not counted: their part of the full account table kept its "
	  "entries.",
	  RULES(account_untracked) },
	{ "account_evictions_multi_source", true,
	  "xdpban_rules_account_evictions_multi_source_total", COUNTER_TOTAL,
	  "Accounts failing from 2+ sources pushed out of the full account table.",
	  RULES(account_rich_evictions) },
	{ "accounts_saturated", true, "xdpban_rules_accounts_saturated", COUNTER_GAUGE,
	  "1 while an account failing from 2+ sources was pushed out within the last "
	  "account_window: the account table is too small for the attack.",
	  RULES(accounts_saturated) },
	{ "refused_lockout", true, "xdpban_refused_lockout_total", COUNTER_TOTAL,
	  "Bans not applied: they would have locked the operator out.", DAEMON(refused_lockout) },
	{ "control_refused", true, "xdpban_control_refused_total", COUNTER_TOTAL,
	  "Control socket connections refused: neither root nor the control group.",
	  DAEMON(control_refused) },
	{ "ban_evictions", true, "xdpban_ban_evictions_total", COUNTER_TOTAL,
	  "CIDR bans pushed out of the full CIDR map.", DAEMON(ban_evictions) },
	{ "address_map_full", true, "xdpban_address_map_full_total", COUNTER_TOTAL,
	  "Bans refused because the address ban table had no room for them.",
	  DAEMON(address_map_full) },
	{ "reattached", true, "xdpban_reattached_total", COUNTER_TOTAL,
	  "Times the XDP program was attached again to an interface that came back.",
	  LINKS(reattached) },
	{ "attach_failures", true, "xdpban_attach_failures_total", COUNTER_TOTAL,
	  "Attaches to watched interfaces that failed.", LINKS(attach_failures) },
	{ "detach_failures", true, "xdpban_detach_failures_total", COUNTER_TOTAL,
	  "Detaches from interfaces taken out of the config that failed.", LINKS(detach_failures) },
	{ "weak_password_accounts", false, "xdpban_weak_password_accounts", COUNTER_GAUGE,
	  "Accounts listed now for a weak password ([policy] weak_passwords).",
	  DAEMON(weak_listed) },
	{ NULL, false, "xdpban_weak_judgements_total", COUNTER_TOTAL,
	  "Successful logins whose new password hash was judged.", DAEMON(weak_judged) },
	{ NULL, false, "xdpban_weak_found_total", COUNTER_TOTAL,
	  "Accounts found using a weak password.", DAEMON(weak_found) },
	{ NULL, false, "xdpban_weak_cleared_total", COUNTER_TOTAL,
	  "Listings cleared: the account logged in with another password, not weak.",
	  DAEMON(weak_cleared) },
	{ NULL, false, "xdpban_weak_truncated_total", COUNTER_TOTAL,
	  "Reports not judged: Dovecot truncates pwhash (auth_policy_hash_truncate).",
	  DAEMON(weak_truncated) },
	{ NULL, false, "xdpban_weak_skipped_total", COUNTER_TOTAL,
	  "Logins not judged or checked: the judging thread's queue was full.",
	  DAEMON(weak_skipped) },
	{ NULL, false, "xdpban_weak_judgement_max_microseconds", COUNTER_GAUGE,
	  "CPU time of the longest judgement so far.", DAEMON(weak_judge_max_us) },
	{ NULL, false, "xdpban_dictionary_guesses_total", COUNTER_TOTAL,
	  "Failed logins whose password was a dictionary word.", DAEMON(dictionary_guesses) },
	{ "refused_never", true, "xdpban_refused_never_total", COUNTER_TOTAL,
	  "Bans not applied: unspecified, multicast, link-local or default router addresses.",
	  DAEMON(refused_never) },
	{ "bans_retried", true, "xdpban_bans_retried_total", COUNTER_TOTAL,
	  "Bans that failed for want of a descriptor or memory, queued and tried again.",
	  DAEMON(bans_retried) },
	{ "bans_waiting", true, "xdpban_bans_waiting", COUNTER_GAUGE,
	  "Bans waiting to be tried again now.", DAEMON(bans_waiting) },
	{ "policy_connections", false, "xdpban_policy_connections", COUNTER_GAUGE,
	  "Connections to the policy endpoint open now.", HTTP(open) },
	{ "policy_connections_timed_out", true, "xdpban_policy_connections_timed_out_total",
	  COUNTER_TOTAL, "Policy connections cut: no whole request within request_timeout.",
	  HTTP(timed_out) },
	{ "policy_connections_evicted", true, "xdpban_policy_connections_evicted_total",
	  COUNTER_TOTAL, "Policy connections cut to make room for a newer one.", HTTP(evicted) },
	{ "policy_connections_refused", true, "xdpban_policy_connections_refused_total",
	  COUNTER_TOTAL, "New policy connections refused: every slot held a proven client.",
	  HTTP(refused) },
	{ "store_rows_waiting", false, "xdpban_store_rows_waiting", COUNTER_GAUGE,
	  "Store rows queued for the writer thread, not written yet.", STORE(waiting) },
	{ NULL, false, "xdpban_store_rows_written_total", COUNTER_TOTAL,
	  "Store rows the writer thread wrote.", STORE(written) },
	{ "store_write_failures", true, "xdpban_store_write_failures_total", COUNTER_TOTAL,
	  "Store writes that failed (locked, disk full) and were retried.", STORE(failures) },
	{ "store_rows_lost", true, "xdpban_store_rows_lost_total", COUNTER_TOTAL,
	  "Store rows that did not fit the writer's queue (bans: rewritten from the kernel).",
	  STORE(lost) },
};

const size_t counter_table_len = ARRAY_SIZE(counter_table);

uint64_t counter_value(const struct counter_readings *readings, const struct counter_def *def)
{
	uint64_t value;

	memcpy(&value, (const char *)readings + def->offset, sizeof(value));
	return value;
}
