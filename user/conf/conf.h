/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's configuration file: INI, read with Debian's libinih, fail2ban's
 * shape ([daemon], [rules], one [source NAME] per log). Every setting has a
 * working default and the file states only what differs. A file with any
 * unknown section, unknown key or bad value is rejected whole, with
 * "FILE:LINE: reason" naming the key and the value: nothing is half-applied.
 * docs/config.md and docs/xdpban.conf.example describe every key.
 */
#ifndef XDPBAN_CONFFILE_H
#define XDPBAN_CONFFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "lib/errmsg.h"
#include "lib/log.h"
#include "detect/parser.h"
#include "detect/rules.h"
#include "xdpban_maps.h"

#define CONF_DEFAULT_SOURCE "mail" /* the source used when the file names none */
#define CONF_NAME_LEN	    64	   /* source and group names */
#define CONF_IFNAMES_LEN    256	   /* [daemon] interfaces */
#define CONF_MATCHES_LEN    512	   /* [source] journal_matches */

/* [source NAME]: one followed log file (a fail2ban "jail"). */
struct conf_source {
	char name[CONF_NAME_LEN];
	enum log_source type; /* the parser: LOG_SOURCE_AUTO (default) tries each per line */
	char path[PATH_MAX];
	bool from_start; /* read the file from its beginning; default: from its end */
	bool enabled;
	unsigned int line; /* line of its [source NAME] header; 0 for the default source */
	/* type = journal: the systemd journal instead of a file */
	bool journal;
	char journal_path[PATH_MAX];		/* a directory of journal files; "": the system's */
	char journal_matches[CONF_MATCHES_LEN]; /* space-separated; "": the parsers' programs */
	/* a warning when lines that look like authentication lines yield nothing this long */
	uint64_t silence_warning; /* seconds; 0: off */
	unsigned int silence_lines;
	/* count Exim's rejections without a credential (relaying, protocol abuse): IP rule only */
	bool count_rejected;
};

/*
 * [rules]: plain numbers for the rules engine. Durations are whole seconds
 * and never "permanent" (a rule's ban always ends; permanent bans are
 * `xdpban ban`'s business).
 */
struct conf_rules {
	struct rules_config config; /* the keys the rules read, written there under their names */
	uint64_t tarpit;	    /* delay answers for a blocked account; 0 = off */
	bool allow_own_addresses;   /* loopback and the host's addresses are never banned */
	unsigned int dictionary_guesses; /* ban an IP after this many dictionary guesses; 0 = off */
	uint64_t dictionary_window;	 /* ... counted within this many seconds */
	struct lpm_key *allow;		 /* never banned, in the map form (IPv4 mapped) */
	size_t allow_count;
};

#define CONF_POLICY_TEXT_LEN 256 /* listen addresses, API key and header */

/* [daemon] */
struct conf_daemon {
	char pin_dir[PATH_MAX];
	char state_dir[PATH_MAX];
	char control_socket[PATH_MAX];
	char control_group[CONF_NAME_LEN]; /* "": root only */
	gid_t control_gid;		   /* valid when control_group is set */
	uint64_t sweep_interval;	   /* seconds between expired-entry sweeps */
	uint64_t snapshot_interval;	   /* seconds between state snapshots */
	uint64_t history_keep;		   /* lifted bans and blocks older than this are pruned */
	enum log_level log_level;
	char interfaces[CONF_IFNAMES_LEN]; /* kept attached (re-attached): names, space-separated */
	char metrics_listen[CONF_POLICY_TEXT_LEN]; /* /metrics on its own "ADDR:PORT", or "off" */
};

enum conf_weak_mode {
	CONF_WEAK_OFF,	  /* default: pwhashes are not judged */
	CONF_WEAK_REPORT, /* weak passwords are listed (xdpban weak), logged, counted */
	CONF_WEAK_REFUSE, /* and the listed password's logins are refused */
};

/* [policy]: the Dovecot auth policy HTTP endpoint (it serves /metrics too). */
struct conf_policy {
	char listen[CONF_POLICY_TEXT_LEN];     /* "ADDR:PORT" ("[v6]:PORT"), or "off" */
	char api_key[CONF_POLICY_TEXT_LEN];    /* "": no key checked */
	char api_header[CONF_POLICY_TEXT_LEN]; /* the header carrying the key */
	enum conf_weak_mode weak_passwords;
	char weak_dictionary[PATH_MAX];		 /* one word a line */
	char weak_message[CONF_POLICY_TEXT_LEN]; /* what a refused login is told */
	char hash_nonce[CONF_POLICY_TEXT_LEN];	 /* Dovecot's auth_policy_hash_nonce */
	char hash_mech[CONF_NAME_LEN];		 /* Dovecot's auth_policy_hash_mech */
	unsigned int max_connections;		 /* open at once, all clients together */
	unsigned int max_client_connections; /* open at once from one address (loopback apart) */
	uint64_t request_timeout;	     /* seconds a request may take to arrive whole */
};

/*
 * [fleet]: bans, account blocks and failure counts shared by several
 * daemons through one Redis server; off unless redis is set.
 */
struct conf_fleet {
	char redis[CONF_POLICY_TEXT_LEN]; /* "off", "ADDRESS:PORT", "[IPV6]:PORT" or "unix:/PATH" */
	char redis_user[CONF_POLICY_TEXT_LEN];	   /* ACL user; "": Redis' default user */
	char redis_password[CONF_POLICY_TEXT_LEN]; /* "": no AUTH */
	char node[CONF_POLICY_TEXT_LEN];       /* this daemon's name in the fleet; "": host name */
	char key_prefix[CONF_POLICY_TEXT_LEN]; /* Redis keys and channel start with it */
};

/* [dnsbl]: the live bans published as rbldnsd datasets; DNSBLs asked about logins. */
struct conf_dnsbl {
	char zone_ip4set[PATH_MAX];	     /* "": not written */
	char zone_ip6trie[PATH_MAX];	     /* "": not written */
	char zones[CONF_POLICY_TEXT_LEN];    /* DNSBL zones to ask, comma-separated; "": none */
	char resolver[CONF_POLICY_TEXT_LEN]; /* "ADDRESS:PORT" of the DNS server; "off": system's */
	uint64_t lookup_timeout;	     /* seconds a lookup may take */
	uint64_t bantime;		     /* a listed address is banned this long */
};

struct xdpban_conf {
	char path[PATH_MAX]; /* the file it came from; "" for pure defaults */
	struct conf_daemon daemon;
	struct conf_policy policy;
	struct conf_fleet fleet;
	struct conf_dnsbl dnsbl;
	struct conf_rules rules;
	struct conf_source *sources; /* in file order; the default "mail" one if none given */
	size_t source_count;
};

/* A configuration of defaults only (no file). NULL when out of memory. */
struct xdpban_conf *conf_defaults(void);

/*
 * Reads path over the defaults. On error returns a negative errno and writes
 * why ("FILE:LINE: ..." for content errors) and *conf is untouched. A
 * missing file is -ENOENT, so a caller can fall back to conf_defaults()
 * when the path was not given explicitly.
 */
int conf_load(const char *path, struct xdpban_conf **conf, char why[ERRMSG_LEN]);

/*
 * As conf_load, from an open stream; name is used in messages.
 * Not thread-safe: sets libinih's global options for the parse.
 */
int conf_parse(FILE *file, const char *name, struct xdpban_conf **conf, char why[ERRMSG_LEN]);

void conf_free(struct xdpban_conf *conf);

/* Prints the effective configuration as a complete INI file that reads back the same. */
void conf_dump(const struct xdpban_conf *conf, FILE *out);

/* The path of a [fleet] redis value "unix:/PATH"; NULL when it is an address or off. */
const char *conf_redis_unix_path(const char *redis);

/* Splits a [policy] listen value "A.B.C.D:PORT" or "[IPV6]:PORT"; -EINVAL if it is neither. */
int conf_listen_split(const char *value, char host[CONF_POLICY_TEXT_LEN], unsigned int *port);

const char *conf_weak_mode_name(enum conf_weak_mode mode);

#endif
