// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* logtest: runs a log file through the parsers and prints what they find, as JSON lines. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/cidr.h"
#include "lib/clock.h"
#include "cli/cli.h"
#include "detect/journal.h"
#include "detect/parser.h"

struct tally {
	unsigned long long failures, successes, attempts, rejected;
};

static const char *outcome_name(const struct log_record *record)
{
	if (record->event.outcome == AUTH_OK)
		return "ok";
	return record->rejected ? "rejected" : "fail";
}

/*
 * A JSON string, as jansson's JSON_ENSURE_ASCII writes it. The parsers hand
 * out valid UTF-8 only. Written by hand: a log of a million failures prints
 * a million objects, and building each as a json_t costs more than parsing.
 */
static void put_json_string(const char *text, FILE *out)
{
	const unsigned char *p = (const unsigned char *)text;

	putc('"', out);
	while (*p) {
		unsigned int c = *p, len = 1;

		if (c >= 0xf0) {
			c = (c & 0x07) << 18 | (p[1] & 0x3fu) << 12 | (p[2] & 0x3fu) << 6 |
			    (p[3] & 0x3fu);
			len = 4;
		} else if (c >= 0xe0) {
			c = (c & 0x0f) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
			len = 3;
		} else if (c >= 0xc0) {
			c = (c & 0x1f) << 6 | (p[1] & 0x3fu);
			len = 2;
		}
		p += len;
		if (c == '"' || c == '\\') {
			putc('\\', out);
			putc((int)c, out);
		} else if (c >= 0x20 && c < 0x7f) {
			putc((int)c, out);
		} else if (c >= 0x10000) {
			c -= 0x10000;
			fprintf(out, "\\u%04x\\u%04x", 0xd800 | (c >> 10), 0xdc00 | (c & 0x3ff));
		} else {
			fprintf(out, "\\u%04x", c);
		}
	}
	putc('"', out);
}

static void print_record(unsigned long long line_no, const struct log_record *record)
{
	struct lpm_key key;
	char ip[CIDR_TEXT_LEN];

	cidr_from_addr_key(&key, &record->event.ip);
	cidr_format(&key, ip);
	printf("{\"line\":%llu,\"time\":", line_no);
	if (record->timestamp[0])
		put_json_string(record->timestamp, stdout);
	else
		fputs("null", stdout);
	printf(",\"ip\":\"%s\",\"user\":", ip);
	put_json_string(record->event.user, stdout);
	fputs(",\"service\":", stdout);
	put_json_string(record->event.service, stdout);
	printf(",\"attempts\":%u,\"outcome\":\"%s\",\"source\":\"%s\"}\n", record->event.attempts,
	       outcome_name(record), parser_source_name(record->source));
}

static json_t *tally_json(const struct tally *t)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "failures", (json_int_t)t->failures, "successes",
			 (json_int_t)t->successes, "attempts", (json_int_t)t->attempts, "rejected",
			 (json_int_t)t->rejected);
}

static void count(struct tally *t, const struct log_record *record)
{
	if (record->event.outcome == AUTH_OK) {
		t->successes++;
	} else if (record->rejected) {
		t->rejected++;
	} else {
		t->failures++;
		t->attempts += record->event.attempts;
	}
}

struct logtest {
	struct parser *parser;
	struct tally total, by_source[LOG_SOURCE_COUNT];
	unsigned long long lines;
	bool quiet;
};

static void take(struct logtest *lt, const struct log_record *record)
{
	count(&lt->total, record);
	count(&lt->by_source[record->source], record);
	if (!lt->quiet)
		print_record(lt->lines, record);
}

static int read_file(struct logtest *lt, const char *path)
{
	struct log_record record;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int status = EXIT_SUCCESS;
	FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");

	if (!in)
		return cli_fail("cannot open %s: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, in)) > 0) {
		lt->lines++;
		if (parser_line(lt->parser, line, (size_t)len, &record) == 1)
			take(lt, &record);
	}
	if (ferror(in))
		status = cli_fail("reading %s: %s", path, strerror(errno));
	free(line);
	if (in != stdin)
		fclose(in);
	return status;
}

/* Each journal entry is one "line": its program is the entry's SYSLOG_IDENTIFIER. */
static void on_entry(void *ctx, const struct journal_entry *entry)
{
	struct logtest *lt = ctx;
	struct log_record record;

	lt->lines++;
	if (parser_line_as(lt->parser, entry->ident, entry->pid, entry->message, entry->len,
			   &record) != 1)
		return;
	journal_format_time(entry->realtime_usec, record.timestamp);
	take(lt, &record);
}

static int read_journal(struct logtest *lt, const char *path)
{
	static const char *const every_entry[] = { NULL };
	struct journal_open_args args = { .path = path,
					  .matches = every_entry,
					  .from_start = true };
	struct journal jr;
	char why[ERRMSG_LEN];
	int status = EXIT_SUCCESS, more;

	if (journal_open(&jr, &args, why))
		return cli_fail("%s", why);
	while ((more = journal_poll(&jr, on_entry, lt, why)) > 0)
		;
	if (more < 0)
		status = cli_fail("%s", why);
	journal_close(&jr);
	return status;
}

static int run_logtest(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "source", required_argument, NULL, 's' },
		{ "journal", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	enum log_source source = LOG_SOURCE_AUTO;
	struct logtest lt = { 0 };
	bool journal = false;
	double started, seconds;
	json_t *summary, *sources;
	int opt, status;

	(void)cli; /* JSON is the only output: --json changes nothing */
	while ((opt = cli_getopt(&cmd_logtest, argc, argv, "s:Jqh", options)) != -1) {
		switch (opt) {
		case 's':
			if (parser_source_parse(optarg, &source))
				return cli_fail("source '%s' is not auto, dovecot, postfix, sshd, "
						"exim or roundcube",
						optarg);
			break;
		case 'J':
			journal = true;
			break;
		case 'q':
			lt.quiet = true;
			break;
		default:
			return cli_usage_error(&cmd_logtest, "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(&cmd_logtest,
				       optind == argc ? "missing FILE" : "more than one FILE");
	lt.parser = parser_new(source);
	if (!lt.parser)
		return cli_fail("out of memory");

	started = (double)clock_now_ns() / 1e9;
	status = journal ? read_journal(&lt, argv[optind]) : read_file(&lt, argv[optind]);
	seconds = (double)clock_now_ns() / 1e9 - started;

	sources = json_object();
	for (int s = LOG_SOURCE_DOVECOT; s < LOG_SOURCE_COUNT; s++)
		json_object_set_new(sources, parser_source_name(s), tally_json(&lt.by_source[s]));
	summary =
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:f, s:f}", "lines", (json_int_t)lt.lines,
		      "failures", (json_int_t)lt.total.failures, "successes",
		      (json_int_t)lt.total.successes, "attempts", (json_int_t)lt.total.attempts,
		      "rejected", (json_int_t)lt.total.rejected, "by_source", sources, "seconds",
		      seconds, "lines_per_second", seconds > 0 ? (double)lt.lines / seconds : 0.0);
	cli_print_json(summary);
	parser_free(lt.parser);
	return status;
}

const struct command cmd_logtest = {
	"logtest",
	run_logtest,
	"logtest [--source auto|dovecot|postfix|sshd|exim|roundcube] [--journal] [--quiet] FILE\n"
	"Runs a log file ('-' reads standard input) through the parsers the daemon\n"
	"uses and prints, always as JSON lines, one object per authentication\n"
	"outcome found:\n"
	"  {\"line\":N, \"time\":\"as written\"|null, \"ip\":..., \"user\":..., \"service\":...,\n"
	"   \"attempts\":N, \"outcome\":\"fail\"|\"ok\"|\"rejected\", "
	"\"source\":\"dovecot\"|\"postfix\"|\"sshd\"|\"exim\"|\"roundcube\"}\n"
	"\"rejected\" is an SMTP-level rejection without a credential (Exim: relay\n"
	"not permitted, sender verification, protocol abuse), which only the IP rule\n"
	"counts ([source] count_rejected).\n"
	"Then one summary object: lines, failures, successes, attempts (the failures\n"
	"they stand for), rejected, by_source, seconds and lines_per_second (reading\n"
	"and parsing, output included).\n"
	"  --source S   parse as S only (default auto: each line by its program name)\n"
	"  --journal    FILE is a journal file or a directory of them: every entry is\n"
	"               read (a line each), its program from SYSLOG_IDENTIFIER and its\n"
	"               time from the entry\n"
	"  --quiet      print the summary only\n"
	"Lines are understood in syslog (\"Nov 27 12:00:00 host prog[pid]: ...\"),\n"
	"RFC 3339 (\"2026-11-27T12:00:00.123456+00:00 host prog[pid]: ...\"), RFC 5424,\n"
	"daemontools (\"@4000...\"), Dovecot log_path (\"Nov 27 12:00:00 imap-login:\n"
	"Info: ...\"), Exim mainlog and Roundcube log formats; a log without program\n"
	"names (Exim's mainlog, Roundcube's own logs) needs --source.\n",
};
