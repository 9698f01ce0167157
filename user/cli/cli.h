/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What every subcommand shares: global options, error reporting, map access. */
#ifndef XDPBAN_CLI_H
#define XDPBAN_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "kernel/pins.h"

struct cli {
	const char *pin_dir;
	const char *state_dir; /* files: the loaded country database */
	bool pin_dir_set;      /* given on the command line (wins over the config file) */
	bool state_dir_set;
	bool json;
	bool verbose;
};

struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *usage; /* first line: synopsis; the rest: description and options */
};

/* Prints "xdpban: <message>" to stderr and returns the failure exit status. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage_error(const struct command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_print_usage(const struct command *cmd);

/*
 * Parses a subcommand's options with getopt_long; handles -h/--help.
 * Returns the option character, -1 at the end, or '?' after an error.
 */
int cli_getopt(const struct command *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);
#define CLI_HELP  'h'
#define CLI_FORCE 0x100 /* --force, which has no short form */

/*
 * For commands whose only option is --help: parses argv (optind then points
 * at the first argument). Returns 0, or the exit status of a usage error.
 */
int cli_parse_no_options(const struct command *cmd, int argc, char **argv);

int cli_require_root(void);
/* For commands that change maps: creates the maps if needed, locks, opens them. */
int cli_open_for_write(struct cli *cli, struct maps *maps, int *lock_fd);
int cli_open_for_read(struct cli *cli, struct maps *maps);
void cli_close(struct maps *maps, int lock_fd);

struct protected_set;
/* The self-lockout guard's addresses (bans/protected.h), or the failure exit status, reported. */
int cli_collect_protected(struct protected_set *set);

/* Prints a JSON document on one line and frees it. */
void cli_print_json(json_t *doc);

#define CLI_TIME_TEXT_LEN 32 /* also holds a duration_format text */

/* Names come from attackers: their control bytes become '?' before a terminal sees them. */
void cli_printable(const char *text, char *buf, size_t size);
/* Local "YYYY-MM-DD HH:MM:SS", or "-" for 0. */
void cli_format_time(int64_t unix_seconds, char buf[CLI_TIME_TEXT_LEN]);
/* A JSON string of text (made printable when it is not UTF-8). */
json_t *cli_text_json(const char *text);
/* A unix time as a JSON integer, 0 as null. */
json_t *cli_time_json(int64_t value);

extern const struct command cmd_attach, cmd_detach, cmd_status, cmd_stats, cmd_ban, cmd_unban,
    cmd_list, cmd_allow, cmd_unallow, cmd_ports, cmd_scope, cmd_geo, cmd_event;

extern const struct command cmd_history, cmd_run;
extern const struct command cmd_logtest, cmd_weak;

#endif
