// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The config file: defaults, every key, and errors that name FILE:LINE, the key and the value. */
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
#include "unit.h"
#include "lib/cidr.h"
#include "conf/conf.h"

static int parse_text(const char *text, struct xdpban_conf **conf, char why[ERRMSG_LEN])
{
	FILE *file = fmemopen((void *)text, strlen(text), "r");
	int err;

	assert_non_null(file);
	err = conf_parse(file, "test.conf", conf, why);
	fclose(file);
	return err;
}

static struct xdpban_conf *parsed(const char *text)
{
	struct xdpban_conf *conf = NULL;
	char why[ERRMSG_LEN] = "";

	if (parse_text(text, &conf, why))
		fail_msg("unexpected error: %s", why);
	return conf;
}

/* The file is rejected with a message containing each of the given fragments. */
static void rejected_with(const char *text, const char *const *fragments)
{
	struct xdpban_conf *sentinel = (struct xdpban_conf *)0x1, *conf = sentinel;
	char why[ERRMSG_LEN] = "";

	if (parse_text(text, &conf, why) == 0)
		fail_msg("accepted: %s", text);
	assert_ptr_equal(conf, sentinel); /* nothing handed out */
	for (; *fragments; fragments++) {
		if (!strstr(why, *fragments))
			fail_msg("message '%s' lacks '%s'", why, *fragments);
	}
}

#define rejected(text, ...) rejected_with(text, (const char *const[]){ __VA_ARGS__, NULL })

static void check_defaults(const struct xdpban_conf *conf)
{
	const struct conf_rules *r = &conf->rules;

	assert_string_equal(conf->daemon.pin_dir, "/sys/fs/bpf/xdpban");
	assert_string_equal(conf->daemon.state_dir, "/var/lib/xdpban");
	assert_string_equal(conf->daemon.control_socket, "/run/xdpban/control.sock");
	assert_string_equal(conf->daemon.control_group, "");
	assert_int_equal(conf->daemon.sweep_interval, 10);
	assert_int_equal(conf->daemon.snapshot_interval, 300);
	assert_int_equal(conf->daemon.history_keep, 90 * 86400);
	assert_int_equal(conf->daemon.log_level, LOG_LEVEL_INFO);

	assert_int_equal(r->config.ip_failures, 5);
	assert_int_equal(r->config.ip_window, 60);
	assert_int_equal(r->config.ip_bantime, 300);
	assert_int_equal(r->config.account_failures, 3);
	assert_int_equal(r->config.account_min_ips, 2);
	assert_int_equal(r->config.account_window, 60);
	assert_int_equal(r->config.account_blocktime, 600);
	assert_int_equal(r->tarpit, 60);
	assert_int_equal(r->config.repeat_multiplier, 0);
	assert_int_equal(r->config.repeat_max, 86400);
	assert_int_equal(r->config.repeat_forget, 86400);
	assert_int_equal(r->config.ipv6_prefix, 128);
	assert_false(r->config.distinct_passwords);
	assert_int_equal(r->config.max_tracked_ips, 262144);
	assert_int_equal(r->config.max_tracked_accounts, 65536);
	assert_true(r->allow_own_addresses);
	assert_int_equal(r->allow_count, 0);

	assert_int_equal(conf->source_count, 1);
	assert_string_equal(conf->sources[0].name, "mail");
	assert_int_equal(conf->sources[0].type, LOG_SOURCE_AUTO);
	assert_string_equal(conf->sources[0].path, "/var/log/mail.log");
	assert_false(conf->sources[0].from_start);
	assert_true(conf->sources[0].enabled);
}

static void defaults_work_without_a_file(void **state)
{
	struct xdpban_conf *conf = conf_defaults();

	(void)state;
	assert_non_null(conf);
	check_defaults(conf);
	conf_free(conf);
}

static void an_empty_file_is_the_defaults(void **state)
{
	struct xdpban_conf *conf = parsed("# nothing to change\n\n; really\n");

	(void)state;
	check_defaults(conf);
	assert_string_equal(conf->path, "test.conf");
	conf_free(conf);
}

static const char every_key[] = "[daemon]\n"
				"pin_dir = /sys/fs/bpf/test\n"
				"state_dir = /tmp/xdpban-state\n"
				"control_socket = /tmp/xdpban.sock\n"
				"control_group = mail\n"
				"sweep_interval = 2s\n"
				"snapshot_interval = 1m30s\n"
				"history_keep = 7d\n"
				"log_level = debug\n"
				"\n"
				"[rules]\n"
				"ip_failures = 10\n"
				"ip_window = 2m\n"
				"ip_bantime = 1h\n"
				"account_failures = 6\n"
				"account_min_ips = 3\n"
				"account_window = 120\n"
				"account_blocktime = 30m\n"
				"tarpit = off\n"
				"repeat_multiplier = 2\n"
				"repeat_max = 1w\n"
				"repeat_forget = 2d\n"
				"ipv6_prefix = 64\n"
				"distinct_passwords = yes\n"
				"max_tracked_ips = 1000\n"
				"max_tracked_accounts = 500\n"
				"allow_own_addresses = no\n"
				"allow = 192.0.2.0/24, 2001:db8::/32\n"
				"allow = 198.51.100.7 203.0.113.0/25\n"
				"\n"
				"[source imap]\n"
				"type = dovecot\n"
				"path = /var/log/dovecot.log\n"
				"from_start = yes\n"
				"\n"
				"[source smtp]\n"
				"type = postfix\n"
				"path = /var/log/mail.log\n"
				"enabled = no\n"
				"\n"
				"[source ssh]\n"
				"type = sshd\n"
				"path = /var/log/auth.log\n";

static void every_key_is_read(void **state)
{
	struct xdpban_conf *conf = parsed(every_key);
	const struct conf_rules *r = &conf->rules;
	char text[CIDR_TEXT_LEN];

	(void)state;
	assert_string_equal(conf->daemon.pin_dir, "/sys/fs/bpf/test");
	assert_string_equal(conf->daemon.state_dir, "/tmp/xdpban-state");
	assert_string_equal(conf->daemon.control_socket, "/tmp/xdpban.sock");
	assert_string_equal(conf->daemon.control_group, "mail");
	assert_int_equal(conf->daemon.control_gid, 8); /* Debian's base-passwd */
	assert_int_equal(conf->daemon.sweep_interval, 2);
	assert_int_equal(conf->daemon.snapshot_interval, 90);
	assert_int_equal(conf->daemon.history_keep, 7 * 86400);
	assert_int_equal(conf->daemon.log_level, LOG_LEVEL_DEBUG);

	assert_int_equal(r->config.ip_failures, 10);
	assert_int_equal(r->config.ip_window, 120);
	assert_int_equal(r->config.ip_bantime, 3600);
	assert_int_equal(r->config.account_failures, 6);
	assert_int_equal(r->config.account_min_ips, 3);
	assert_int_equal(r->config.account_window, 120);
	assert_int_equal(r->config.account_blocktime, 1800);
	assert_int_equal(r->tarpit, 0);
	assert_int_equal(r->config.repeat_multiplier, 2);
	assert_int_equal(r->config.repeat_max, 7 * 86400);
	assert_int_equal(r->config.repeat_forget, 2 * 86400);
	assert_int_equal(r->config.ipv6_prefix, 64);
	assert_true(r->config.distinct_passwords);
	assert_int_equal(r->config.max_tracked_ips, 1000);
	assert_int_equal(r->config.max_tracked_accounts, 500);
	assert_false(r->allow_own_addresses);
	assert_int_equal(r->allow_count, 4); /* both allow lines, sorted: IPv4 first */
	cidr_format(&r->allow[0], text);
	assert_string_equal(text, "192.0.2.0/24");
	cidr_format(&r->allow[1], text);
	assert_string_equal(text, "198.51.100.7");
	cidr_format(&r->allow[3], text);
	assert_string_equal(text, "2001:db8::/32");

	assert_int_equal(conf->source_count, 3);
	assert_string_equal(conf->sources[0].name, "imap");
	assert_int_equal(conf->sources[0].type, LOG_SOURCE_DOVECOT);
	assert_string_equal(conf->sources[0].path, "/var/log/dovecot.log");
	assert_true(conf->sources[0].from_start);
	assert_true(conf->sources[0].enabled);
	assert_int_equal(conf->sources[0].line, 31);
	assert_int_equal(conf->sources[1].type, LOG_SOURCE_POSTFIX);
	assert_false(conf->sources[1].enabled);
	assert_false(conf->sources[1].from_start);
	assert_int_equal(conf->sources[2].type, LOG_SOURCE_SSHD);
	assert_string_equal(conf->sources[2].path, "/var/log/auth.log");
	conf_free(conf);
}

static char *dump_text(const struct xdpban_conf *conf)
{
	FILE *out = tmpfile();
	char *text;
	long size;

	assert_non_null(out);
	conf_dump(conf, out);
	size = ftell(out);
	rewind(out);
	text = calloc(1, (size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)size, out), (size_t)size);
	fclose(out);
	return text;
}

static void the_dump_reads_back_the_same(void **state)
{
	struct xdpban_conf *conf = parsed(every_key), *again, *defaults = conf_defaults();
	char *first, *second, *skip_first, *skip_second;

	(void)state;
	/* Odd durations must survive exactly, not as duration_format's two units. */
	conf->rules.config.ip_bantime = 86400 + 3600 + 60 + 1;
	first = dump_text(conf);
	again = parsed(first);
	second = dump_text(again);
	/* The first line names the file it came from. */
	skip_first = strchr(first, '\n');
	skip_second = strchr(second, '\n');
	assert_string_equal(skip_first, skip_second);
	assert_int_equal(again->rules.config.ip_bantime, 86400 + 3600 + 60 + 1);
	assert_int_equal(again->rules.allow_count, 4);
	assert_non_null(strstr(first, "[source ssh]\ntype = sshd\n"));
	free(first);
	free(second);
	conf_free(again);

	first = dump_text(defaults); /* defaults too: tarpit, empty allow and group */
	again = parsed(first);
	check_defaults(again);
	free(first);
	conf_free(again);
	conf_free(defaults);
	conf_free(conf);
}

/* Everything after the first line ("from FILE"). */
static char *dump_body(const struct xdpban_conf *conf)
{
	char *text = dump_text(conf), *body = strdup(strchr(text, '\n'));

	free(text);
	return body;
}

static char *read_example(void)
{
	static const char path[] = "docs/xdpban.conf.example"; /* tests run from the top */
	FILE *file = fopen(path, "r");
	char *text;
	long size;

	if (!file)
		fail_msg("cannot open %s (run the tests from the repository's top directory)",
			 path);
	fseek(file, 0, SEEK_END);
	size = ftell(file);
	rewind(file);
	text = calloc(1, (size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)size, file), (size_t)size);
	fclose(file);
	return text;
}

/* The shipped example changes nothing, and its "#key = value" lines show the defaults. */
static void the_example_file_shows_the_defaults(void **state)
{
	struct xdpban_conf *defaults = conf_defaults(), *conf;
	char *example = read_example(), *uncommented, *want, *got;
	size_t kept = 0;

	(void)state;
	want = dump_body(defaults);
	conf = parsed(example);
	got = dump_body(conf);
	assert_string_equal(got, want);
	free(got);
	conf_free(conf);

	/* Uncomment every "#key" and "#[section]" line (prose has "# " instead). */
	uncommented = calloc(1, strlen(example) + 1);
	assert_non_null(uncommented);
	for (const char *line = example; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line + 1) : strlen(line);

		if (line[0] == '#' && (line[1] == '[' || (line[1] >= 'a' && line[1] <= 'z')))
			line++, len--;
		memcpy(uncommented + kept, line, len);
		kept += len;
		line += len;
	}
	assert_non_null(strstr(uncommented, "\nip_failures = 5\n"));
	assert_non_null(strstr(uncommented, "\n[source mail]\n"));
	conf = parsed(uncommented);
	got = dump_body(conf);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(uncommented);
	free(example);
	conf_free(conf);
	conf_free(defaults);
}

static void comments_spacing_and_line_endings(void **state)
{
	struct xdpban_conf *conf = parsed("\xEF\xBB\xBF# fail2ban-style comment\r\n"
					  "  [rules]   ; the rules\r\n"
					  "ip_failures=7 ; inline\r\n"
					  "\tip_window   =   30s   # inline too\r\n"
					  "distinct_passwords = TRUE\r\n"
					  "allow =\r\n");

	(void)state;
	assert_int_equal(conf->rules.config.ip_failures, 7);
	assert_int_equal(conf->rules.config.ip_window, 30);
	assert_true(conf->rules.config.distinct_passwords);
	assert_int_equal(conf->rules.allow_count, 0);
	conf_free(conf);
}

static void sources_replace_the_default_one(void **state)
{
	struct xdpban_conf *conf = parsed("[source dovecot-auth]\n");

	(void)state;
	/* A section of defaults only is a source too. */
	assert_int_equal(conf->source_count, 1);
	assert_string_equal(conf->sources[0].name, "dovecot-auth");
	assert_string_equal(conf->sources[0].path, "/var/log/mail.log");
	assert_int_equal(conf->sources[0].line, 1);
	conf_free(conf);
}

static void a_long_allow_line_is_read_whole(void **state)
{
	size_t size = 3000 * 24 + 64, used;
	char *text = malloc(size);
	struct xdpban_conf *conf;

	(void)state;
	assert_non_null(text);
	used = (size_t)snprintf(text, size, "[rules]\nallow =");
	for (int i = 0; i < 3000; i++)
		used +=
		    (size_t)snprintf(text + used, size - used, " 10.%d.%d.0/24", i / 256, i % 256);
	snprintf(text + used, size - used, "\nip_failures = 9\n");
	conf = parsed(text);
	assert_int_equal(conf->rules.allow_count, 3000);
	assert_int_equal(conf->rules.config.ip_failures, 9);
	conf_free(conf);
	free(text);
}

static void policy_keys_are_read_and_checked(void **state)
{
	struct xdpban_conf *conf = parsed("[policy]\nlisten = [::1]:9000\napi_key = s3cret\n"
					  "api_header = X-Policy-Key\n");
	char host[CONF_POLICY_TEXT_LEN];
	unsigned int port = 0;

	(void)state;
	assert_string_equal(conf->policy.listen, "[::1]:9000");
	assert_string_equal(conf->policy.api_key, "s3cret");
	assert_string_equal(conf->policy.api_header, "X-Policy-Key");
	assert_int_equal(conf_listen_split(conf->policy.listen, host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9000);
	conf_free(conf);
	conf = parsed("[policy]\nlisten = off\n");
	assert_string_equal(conf->policy.listen, "off");
	conf_free(conf);
	conf = conf_defaults();
	assert_string_equal(conf->policy.listen, "127.0.0.1:8643");
	assert_string_equal(conf->policy.api_key, "");
	assert_string_equal(conf->policy.api_header, "X-API-Key");
	conf_free(conf);
	rejected("[policy]\nlisten = localhost:80\n", "test.conf:2:", "listen", "'localhost:80'");
	rejected("[policy]\nlisten = 127.0.0.1:0\n", "test.conf:2:", "listen");
	rejected("[policy]\napi_header = X Key\n", "test.conf:2:", "api_header", "header name");
	rejected("[policy]\napi_key = a\x01b\n", "test.conf:2:", "api_key");
}

static void weak_password_keys_are_read_and_checked(void **state)
{
	struct xdpban_conf *conf = conf_defaults();

	(void)state;
	assert_int_equal(conf->policy.weak_passwords, CONF_WEAK_OFF);
	assert_string_equal(conf->policy.weak_dictionary, "/usr/share/dict/cracklib-small");
	assert_string_equal(conf->policy.hash_mech, "sha256");
	assert_string_equal(conf->policy.hash_nonce, "");
	assert_int_equal(conf->rules.dictionary_guesses, 0);
	conf_free(conf);
	conf = parsed("[policy]\nweak_passwords = refuse\nhash_nonce = 0123abcd\n"
		      "hash_mech = sha1\nweak_dictionary = /etc/words\n"
		      "weak_message = Change it at https://example.org/pw, please\n"
		      "[rules]\ndictionary_guesses = 20\ndictionary_window = 1d\n");
	assert_int_equal(conf->policy.weak_passwords, CONF_WEAK_REFUSE);
	assert_string_equal(conf->policy.hash_nonce, "0123abcd");
	assert_string_equal(conf->policy.hash_mech, "sha1");
	assert_string_equal(conf->policy.weak_dictionary, "/etc/words");
	assert_string_equal(conf->policy.weak_message,
			    "Change it at https://example.org/pw, please");
	assert_int_equal(conf->rules.dictionary_guesses, 20);
	assert_int_equal(conf->rules.dictionary_window, 86400);
	conf_free(conf);
	rejected("[policy]\nweak_passwords = report\n", "test.conf:2:", "hash_nonce",
		 "auth_policy_hash_nonce");
	rejected("[policy]\nweak_passwords = yes\n", "test.conf:2:", "off, report, refuse");
	rejected("[policy]\nhash_mech = sha512\n", "test.conf:2:", "md5, sha1, sha256");
	rejected("[policy]\nweak_message = a;b\n", "test.conf:2:", "weak_message");
	rejected("[policy]\nlisten = off\nweak_passwords = report\nhash_nonce = x\n",
		 "test.conf:3:", "listen is off");
	rejected("[rules]\ndictionary_guesses = 3\n", "test.conf:2:", "weak_passwords");
}

static void bad_values_name_file_line_key_and_value(void **state)
{
	(void)state;
	rejected("[rules]\n\nip_failures = 0\n", "test.conf:3:", "ip_failures", "'0'", "from 1 to");
	rejected("[rules]\nip_failures = five\n", "test.conf:2:", "'five'");
	rejected("[rules]\nip_failures = -5\n", "test.conf:2:", "'-5'");
	rejected("[rules]\nip_failures = 99999999999999999999\n", "test.conf:2:");
	rejected("[rules]\nip_window = 5x\n", "test.conf:2: ip_window = '5x': unknown unit");
	rejected("[rules]\nip_window = 2d\n", "test.conf:2:", "ip_window", "at most 1d");
	rejected("[rules]\nip_bantime = permanent\n", "test.conf:2:", "ip_bantime", "finite");
	rejected("[rules]\nip_bantime =\n", "test.conf:2:", "ip_bantime", "empty");
	rejected("[rules]\ntarpit = never\n", "test.conf:2:", "tarpit", "'never'");
	rejected("[rules]\nipv6_prefix = 129\n", "test.conf:2:", "ipv6_prefix", "'129'");
	rejected("[rules]\nipv6_prefix = 8\n", "test.conf:2:", "'8'", "from 16 to 128");
	rejected("[rules]\ndistinct_passwords = maybe\n", "test.conf:2:", "distinct_passwords",
		 "'maybe'", "yes or no");
	rejected("[rules]\nallow = 192.0.2.1, 192.0.2.300\n", "test.conf:2:", "allow",
		 "192.0.2.300");
	rejected("[rules]\nallow = 192.0.2.1/24\n", "test.conf:2:", "host bits");
	rejected("[rules]\nmax_tracked_ips = 0\n", "test.conf:2:", "max_tracked_ips");
	rejected("[daemon]\nlog_level = verbose\n", "test.conf:2:", "log_level", "'verbose'",
		 "error, warning, info, debug");
	rejected("[daemon]\nstate_dir = var/lib\n", "test.conf:2:", "state_dir", "absolute");
	rejected("[daemon]\ncontrol_socket = /tmp/"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
		 "test.conf:2:", "control_socket", "longer than 107");
	rejected("[daemon]\ncontrol_group = no-such-group-xdpban\n",
		 "test.conf:2:", "control_group", "no-such-group-xdpban", "no such group");
	rejected("[daemon]\nsweep_interval = 0\n", "test.conf:2:", "sweep_interval");
	rejected("[source imap]\ntype = courier\n", "test.conf:2:", "type", "'courier'",
		 "auto, dovecot, postfix, sshd");
	rejected("[source imap]\npath = mail.log\n", "test.conf:2:", "path", "absolute");
	rejected("[source imap]\nenabled = 2\n", "test.conf:2:", "enabled", "'2'");
}

static void unknown_keys_and_sections_are_errors(void **state)
{
	(void)state;
	rejected("[rules]\nip_failure = 5\n", "test.conf:2:", "unknown key 'ip_failure'", "[rules]",
		 "did you mean 'ip_failures'");
	rejected("[rules]\nwindow_size = 5\n", "test.conf:2:", "unknown key 'window_size'",
		 "docs/config.md");
	rejected("[daemon]\nbantime = 5m\n", "test.conf:2:", "unknown key 'bantime'",
		 "fail2ban's bantime is xdpban's 'ip_bantime' in [rules]");
	rejected("[source x]\nlogpath = /var/log/x\n",
		 "test.conf:2:", "xdpban's 'path' in [source NAME]");
	rejected("[source x]\nlog = /var/log/x\n", "test.conf:2:", "'log'", "[source x]",
		 "keys: type, path, from_start, enabled");
	rejected("# x\n[DEFAULT]\nbantime = 5m\n", "test.conf:2:", "unknown section [DEFAULT]");
	rejected("[jail sshd]\n", "test.conf:1:", "unknown section [jail sshd]");
	rejected("[rules extra]\n", "test.conf:1:", "unknown section");
	rejected("ip_failures = 5\n", "test.conf:1:", "before any section");
	rejected("[source]\n", "test.conf:1:", "needs a name");
	rejected("[source a/b]\n", "test.conf:1:", "source a/b");
	rejected("[rules\nip_failures = 5\n", "test.conf:1:", "without ']'");
	rejected("[rules] junk\n", "test.conf:1:", "'junk'");
	/* --check-config would print them as "key = #k", a comment (found by fuzz_conffile) */
	rejected("[policy]\napi_key=#k\n", "test.conf:2:", "api_key = '#k'", "may not start");
	rejected("[policy]\napi_header=;X\n", "test.conf:2:", "api_header", "may not start");
}

static void repeats_and_contradictions_are_errors(void **state)
{
	(void)state;
	rejected("[rules]\nip_failures = 5\nip_failures = 6\n",
		 "test.conf:3:", "already set on line 2");
	rejected("[rules]\n[daemon]\n[rules]\n",
		 "test.conf:3:", "[rules] is already defined on line 1");
	rejected("[source a]\n[source b]\n[source a]\n", "test.conf:3:", "[source a]", "line 1");
	rejected("[source a]\npath = /var/log/x\n[source b]\npath = /var/log/x\n",
		 "test.conf:3:", "/var/log/x", "[source a]", "twice");
	rejected("[rules]\naccount_failures = 3\naccount_min_ips = 4\n",
		 "test.conf:3:", "account_min_ips = 4", "account_failures = 3");
	rejected("[rules]\naccount_failures = 1\n", "test.conf:2:", "account_min_ips = 2");
	rejected("[rules]\nip_failures 5\n", "test.conf:2:", "expected 'key = value'");
	rejected("[rules]\nip_failures = 5\n  ip_window = 1m\n    continued\n", "test.conf:4:");
}

static void the_same_path_twice_is_fine_when_one_is_disabled(void **state)
{
	struct xdpban_conf *conf = parsed("[source a]\n[source b]\nenabled = no\n");

	(void)state;
	assert_int_equal(conf->source_count, 2);
	conf_free(conf);
}

/* type = journal: no file; its directory and matches; the silence warning's keys. */
static void journal_sources(void **state)
{
	struct xdpban_conf *conf = parsed("[source j]\ntype = journal\njournal_path = /tmp/j\n"
					  "journal_matches = sshd, postfix/smtpd "
					  "_SYSTEMD_UNIT=dovecot.service\nsilence_warning = 10m\n"
					  "silence_lines = 20\n[source f]\npath = /var/log/x\n");

	(void)state;
	assert_int_equal(conf->source_count, 2);
	assert_true(conf->sources[0].journal);
	assert_int_equal(conf->sources[0].type, LOG_SOURCE_AUTO);
	assert_string_equal(conf->sources[0].journal_path, "/tmp/j");
	assert_string_equal(conf->sources[0].journal_matches,
			    "sshd postfix/smtpd _SYSTEMD_UNIT=dovecot.service");
	assert_int_equal(conf->sources[0].silence_warning, 600);
	assert_int_equal(conf->sources[0].silence_lines, 20);
	assert_false(conf->sources[1].journal);
	assert_int_equal(conf->sources[1].silence_warning, 3600);
	assert_int_equal(conf->sources[1].silence_lines, 100);
	conf_free(conf);
	rejected("[source j]\ntype = journal\npath = /var/log/x\n", "test.conf:3:", "path",
		 "journal_path");
	rejected("[source j]\njournal_path = /tmp/j\n", "test.conf:1:", "journal_path",
		 "type = journal");
	rejected("[source j]\njournal_matches = sshd\n", "test.conf:1:", "journal_matches");
	rejected("[source j]\ntype = journal\njournal_matches = a#b\n", "journal_matches", "'a#b'");
	conf = parsed("[source j]\nsilence_warning = off\n");
	assert_int_equal(conf->sources[0].silence_warning, 0);
	conf_free(conf);
}

/* count_rejected: Exim's rejections count unless a source says no. */
static void count_rejected_key(void **state)
{
	struct xdpban_conf *conf = parsed("[source e]\ntype = exim\npath = /var/log/exim4/mainlog\n"
					  "count_rejected = no\n[source f]\npath = /var/log/x\n");

	(void)state;
	assert_false(conf->sources[0].count_rejected);
	assert_true(conf->sources[1].count_rejected);
	conf_free(conf);
	rejected("[source e]\ncount_rejected = maybe\n", "test.conf:2:", "count_rejected",
		 "'maybe'");
}

static void one_bad_line_applies_nothing(void **state)
{
	char text[16384];
	size_t used;

	(void)state;
	/* Every key set, then one bad line at the very end: nothing comes back. */
	used = (size_t)snprintf(text, sizeof(text), "%s", every_key);
	snprintf(text + used, sizeof(text) - used, "[daemon]\n");
	rejected(text, "[daemon] is already defined on line 1");
	snprintf(text + used, sizeof(text) - used, "from_start = perhaps\n");
	rejected(text, "test.conf:44:", "from_start", "perhaps");
	snprintf(text + used, sizeof(text) - used, "allow_own_addresses = no\n");
	rejected(text, "test.conf:44:", "unknown key 'allow_own_addresses' in [source ssh]");
}

static void files_are_opened_by_path(void **state)
{
	char dir[] = "/tmp/xdpban-conf-XXXXXX", path[256], why[ERRMSG_LEN];
	struct xdpban_conf *conf = NULL;
	FILE *file;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/xdpban.conf", dir);
	assert_int_equal(conf_load(path, &conf, why), -ENOENT);
	assert_why_has(why, path);
	file = fopen(path, "w");
	assert_non_null(file);
	fputs("[rules]\nip_bantime = 10m\n", file);
	fclose(file);
	assert_int_equal(conf_load(path, &conf, why), 0);
	assert_int_equal(conf->rules.config.ip_bantime, 600);
	assert_string_equal(conf->path, path);
	conf_free(conf);
	file = fopen(path, "w");
	assert_non_null(file);
	fputs("[rules]\nip_bantime = 10q\n", file);
	fclose(file);
	conf = NULL;
	assert_int_equal(conf_load(path, &conf, why), -EINVAL);
	assert_null(conf);
	assert_why_has(why, path);
	assert_why_has(why, ":2: ip_bantime");
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_work_without_a_file),
		cmocka_unit_test(an_empty_file_is_the_defaults),
		cmocka_unit_test(every_key_is_read),
		cmocka_unit_test(the_dump_reads_back_the_same),
		cmocka_unit_test(the_example_file_shows_the_defaults),
		cmocka_unit_test(comments_spacing_and_line_endings),
		cmocka_unit_test(sources_replace_the_default_one),
		cmocka_unit_test(a_long_allow_line_is_read_whole),
		cmocka_unit_test(policy_keys_are_read_and_checked),
		cmocka_unit_test(weak_password_keys_are_read_and_checked),
		cmocka_unit_test(bad_values_name_file_line_key_and_value),
		cmocka_unit_test(unknown_keys_and_sections_are_errors),
		cmocka_unit_test(repeats_and_contradictions_are_errors),
		cmocka_unit_test(the_same_path_twice_is_fine_when_one_is_disabled),
		cmocka_unit_test(journal_sources),
		cmocka_unit_test(count_rejected_key),
		cmocka_unit_test(one_bad_line_applies_nothing),
		cmocka_unit_test(files_are_opened_by_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
