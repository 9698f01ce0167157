// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "cli/cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "geo/geo.h"
#include "kernel/link.h"
#include "lib/log.h"
#include "bans/protected.h"
#include "lib/event.h"

int cli_fail(const char *fmt, ...)
{
	va_list args;

	fputs("xdpban: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

void cli_print_usage(const struct command *cmd)
{
	printf("Usage: xdpban %s", cmd->usage);
}

int cli_usage_error(const struct command *cmd, const char *fmt, ...)
{
	const char *newline = strchr(cmd->usage, '\n');
	int synopsis_len = newline ? (int)(newline - cmd->usage) : (int)strlen(cmd->usage);
	va_list args;

	fputs("xdpban: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fprintf(stderr, "\nUsage: xdpban %.*s (see 'xdpban %s --help')\n", synopsis_len, cmd->usage,
		cmd->name);
	return EXIT_FAILURE;
}

int cli_getopt(const struct command *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	int opt = getopt_long(argc, argv, shortopts, longopts, NULL);

	if (opt == CLI_HELP) {
		cli_print_usage(cmd);
		exit(EXIT_SUCCESS);
	}
	return opt;
}

int cli_parse_no_options(const struct command *cmd, int argc, char **argv)
{
	static const struct option help_only[] = {
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	int opt;

	while ((opt = cli_getopt(cmd, argc, argv, "h", help_only)) != -1) {
		if (opt == '?')
			return cli_usage_error(cmd, "bad option");
	}
	return 0;
}

int cli_require_root(void)
{
	if (geteuid() == 0)
		return 0;
	return cli_fail("must be run as root (needs CAP_BPF, CAP_NET_ADMIN and bpffs access)");
}

int cli_open_for_write(struct cli *cli, struct maps *maps, int *lock_fd)
{
	char why[ERRMSG_LEN];
	int fd;

	if (cli_require_root())
		return EXIT_FAILURE;
	if (link_ensure_maps(cli->pin_dir, why))
		return cli_fail("%s", why);
	fd = pins_lock(cli->pin_dir, why);
	if (fd < 0)
		return cli_fail("%s", why);
	if (pins_open(cli->pin_dir, maps, why)) {
		close(fd);
		return cli_fail("%s", why);
	}
	if (geo_finish_upgrade(cli->pin_dir, maps, why))
		log_say(LOG_LEVEL_WARNING, "geo index: %s (the trie answers meanwhile)", why);
	*lock_fd = fd;
	return 0;
}

int cli_open_for_read(struct cli *cli, struct maps *maps)
{
	char why[ERRMSG_LEN];

	if (cli_require_root())
		return EXIT_FAILURE;
	if (pins_open(cli->pin_dir, maps, why))
		return cli_fail("%s", why);
	return 0;
}

void cli_close(struct maps *maps, int lock_fd)
{
	pins_close(maps);
	if (lock_fd >= 0)
		close(lock_fd);
}

int cli_collect_protected(struct protected_set *set)
{
	char why[ERRMSG_LEN];

	if (protected_collect(set, why) == 0)
		return 0;
	protected_free(set);
	return cli_fail("cannot check for self-lockout: %s (--force skips the check)", why);
}

void cli_print_json(json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (text)
		puts(text);
	free(text);
	json_decref(doc);
}

void cli_printable(const char *text, char *buf, size_t size)
{
	size_t i;

	for (i = 0; text[i] && i + 1 < size; i++)
		buf[i] = isprint((unsigned char)text[i]) ? text[i] : '?';
	buf[i] = '\0';
}

void cli_format_time(int64_t unix_seconds, char buf[CLI_TIME_TEXT_LEN])
{
	time_t t = (time_t)unix_seconds;
	struct tm tm;

	if (!unix_seconds || !localtime_r(&t, &tm) ||
	    !strftime(buf, CLI_TIME_TEXT_LEN, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, CLI_TIME_TEXT_LEN, "-");
}

json_t *cli_text_json(const char *text)
{
	char safe[EVENT_USER_LEN];
	json_t *value = json_string(text);

	if (value)
		return value;
	cli_printable(text, safe, sizeof(safe)); /* not UTF-8: jansson refuses it */
	return json_string(safe);
}

json_t *cli_time_json(int64_t value)
{
	return value ? json_integer((json_int_t)value) : json_null();
}
