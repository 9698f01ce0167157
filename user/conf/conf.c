// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "conf/conf.h"
#include "lib/paths.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <ini.h>
#include "lib/cidr.h"
#include "lib/duration.h"
#include "detect/rules.h"
#include "lib/util.h"

/*
 * Debian's libinih is built without INI_HANDLER_LINENO and without the
 * new-section callback, so the line reader below counts lines and reads
 * section headers itself; inih splits "key = value" and strips comments.
 */
#define SECTION_LINE_MAX 4096
#define LINE_MAX_BYTES	 (1 << 20) /* a long allow list still fits on one line */
#define NUMBER_MAX	 16777216ULL

enum value_kind {
	V_PATH,	    /* absolute path */
	V_SOCKET,   /* absolute path that fits a Unix socket address */
	V_GROUP,    /* group name or number, "" for none */
	V_DURATION, /* finite duration, seconds */
	V_DURATION_OR_OFF,
	V_UINT,
	V_SIZE,
	V_BOOL,
	V_LOG_LEVEL,
	V_SOURCE_TYPE,
	V_CIDR_LIST, /* repeatable: entries accumulate */
	V_LISTEN,    /* ADDR:PORT, [IPV6]:PORT or off */
	V_TEXT,	     /* printable text without spaces, may be empty */
	V_HEADER,    /* an HTTP header name */
	V_IFNAMES,   /* interface names, separated by spaces or commas; may be empty */
	V_MATCHES,   /* journal matches: NAME or FIELD=value, separated by spaces or commas */
	V_REDIS,     /* ADDR:PORT, [IPV6]:PORT, unix:/PATH or off */
	V_OPT_PATH,  /* absolute path, or empty for none */
	V_DNSNAMES,  /* DNS names separated by commas, or empty */
	V_WEAK_MODE, /* off, report or refuse */
	V_HASH_MECH, /* one of Dovecot's auth_policy_hash_mech names xdpban can judge */
	V_MESSAGE,   /* printable text, spaces allowed */
};

struct key_spec {
	const char *name;
	enum value_kind kind;
	size_t offset;
	uint64_t min, max; /* numbers and durations */
};

#define DAEMON(field) offsetof(struct conf_daemon, field)
#define RULES(field)  offsetof(struct conf_rules, field)
#define SOURCE(field) offsetof(struct conf_source, field)
#define POLICY(field) offsetof(struct conf_policy, field)
#define FLEET(field)  offsetof(struct conf_fleet, field)
#define DNSBL(field)  offsetof(struct conf_dnsbl, field)
#define DAY	      86400ULL

static const struct key_spec daemon_keys[] = {
	{ "pin_dir", V_PATH, DAEMON(pin_dir) },
	{ "state_dir", V_PATH, DAEMON(state_dir) },
	{ "control_socket", V_SOCKET, DAEMON(control_socket) },
	{ "control_group", V_GROUP, DAEMON(control_group) },
	{ "sweep_interval", V_DURATION, DAEMON(sweep_interval), 1, DAY },
	{ "snapshot_interval", V_DURATION, DAEMON(snapshot_interval), 1, DAY },
	{ "history_keep", V_DURATION, DAEMON(history_keep), 1, DURATION_MAX_SECONDS },
	{ "log_level", V_LOG_LEVEL, DAEMON(log_level) },
	{ "interfaces", V_IFNAMES, DAEMON(interfaces) },
	{ "metrics_listen", V_LISTEN, DAEMON(metrics_listen) },
};

static const struct key_spec rules_keys[] = {
	{ "ip_failures", V_UINT, RULES(config.ip_failures), 1, RULES_MAX_THRESHOLD },
	{ "ip_window", V_DURATION, RULES(config.ip_window), 1, DAY },
	{ "ip_bantime", V_DURATION, RULES(config.ip_bantime), 1, DURATION_MAX_SECONDS },
	{ "account_failures", V_UINT, RULES(config.account_failures), 1, RULES_MAX_THRESHOLD },
	{ "account_min_ips", V_UINT, RULES(config.account_min_ips), 1, RULES_MAX_DISTINCT_IPS },
	{ "account_window", V_DURATION, RULES(config.account_window), 1, DAY },
	{ "account_blocktime", V_DURATION, RULES(config.account_blocktime), 1,
	  DURATION_MAX_SECONDS },
	{ "tarpit", V_DURATION_OR_OFF, RULES(tarpit), 1, 3600 },
	{ "repeat_multiplier", V_UINT, RULES(config.repeat_multiplier), 0, 1000 },
	{ "repeat_max", V_DURATION, RULES(config.repeat_max), 1, DURATION_MAX_SECONDS },
	{ "repeat_forget", V_DURATION, RULES(config.repeat_forget), 1, DURATION_MAX_SECONDS },
	{ "ipv6_prefix", V_UINT, RULES(config.ipv6_prefix), 16, 128 },
	{ "distinct_passwords", V_BOOL, RULES(config.distinct_passwords) },
	{ "dictionary_guesses", V_UINT, RULES(dictionary_guesses), 0, RULES_MAX_THRESHOLD },
	{ "dictionary_window", V_DURATION, RULES(dictionary_window), 1, DAY },
	{ "max_tracked_ips", V_SIZE, RULES(config.max_tracked_ips), 1, NUMBER_MAX },
	{ "max_tracked_accounts", V_SIZE, RULES(config.max_tracked_accounts), 1, NUMBER_MAX },
	{ "allow_own_addresses", V_BOOL, RULES(allow_own_addresses) },
	{ "allow", V_CIDR_LIST, RULES(allow) },
};

static const struct key_spec policy_keys[] = {
	{ "listen", V_LISTEN, POLICY(listen) },
	{ "api_key", V_TEXT, POLICY(api_key) },
	{ "api_header", V_HEADER, POLICY(api_header) },
	{ "weak_passwords", V_WEAK_MODE, POLICY(weak_passwords) },
	{ "weak_dictionary", V_PATH, POLICY(weak_dictionary) },
	{ "weak_message", V_MESSAGE, POLICY(weak_message) },
	{ "hash_nonce", V_TEXT, POLICY(hash_nonce) },
	{ "hash_mech", V_HASH_MECH, POLICY(hash_mech) },
	{ "max_connections", V_UINT, POLICY(max_connections), 16, 65536 },
	{ "max_client_connections", V_UINT, POLICY(max_client_connections), 1, 65536 },
	{ "request_timeout", V_DURATION, POLICY(request_timeout), 1, 60 },
};

static const struct key_spec fleet_keys[] = {
	{ "redis", V_REDIS, FLEET(redis) },
	{ "redis_user", V_TEXT, FLEET(redis_user) },
	{ "redis_password", V_TEXT, FLEET(redis_password) },
	{ "node", V_TEXT, FLEET(node) },
	{ "key_prefix", V_TEXT, FLEET(key_prefix) },
};

static const struct key_spec dnsbl_keys[] = {
	{ "zone_ip4set", V_OPT_PATH, DNSBL(zone_ip4set) },
	{ "zone_ip6trie", V_OPT_PATH, DNSBL(zone_ip6trie) },
	{ "zones", V_DNSNAMES, DNSBL(zones) },
	{ "resolver", V_LISTEN, DNSBL(resolver) },
	{ "lookup_timeout", V_DURATION, DNSBL(lookup_timeout), 1, 60 },
	{ "bantime", V_DURATION, DNSBL(bantime), 1, DURATION_MAX_SECONDS },
};

static const struct key_spec source_keys[] = {
	{ "type", V_SOURCE_TYPE, SOURCE(type) },
	{ "path", V_PATH, SOURCE(path) },
	{ "from_start", V_BOOL, SOURCE(from_start) },
	{ "enabled", V_BOOL, SOURCE(enabled) },
	{ "journal_path", V_OPT_PATH, SOURCE(journal_path) },
	{ "journal_matches", V_MATCHES, SOURCE(journal_matches) },
	{ "silence_warning", V_DURATION_OR_OFF, SOURCE(silence_warning), 1, 7 * 24 * 3600 },
	{ "silence_lines", V_UINT, SOURCE(silence_lines), 1, 1000000000 },
	{ "count_rejected", V_BOOL, SOURCE(count_rejected) },
};

#define DAEMON_KEY_COUNT  ARRAY_SIZE(daemon_keys)
#define RULES_KEY_COUNT	  ARRAY_SIZE(rules_keys)
#define SOURCE_KEY_COUNT  ARRAY_SIZE(source_keys)
#define POLICY_KEY_COUNT  ARRAY_SIZE(policy_keys)
#define FLEET_KEY_COUNT	  ARRAY_SIZE(fleet_keys)
#define DNSBL_KEY_COUNT	  ARRAY_SIZE(dnsbl_keys)
#define CONF_MAX_SOURCES  256
#define CONF_MAX_ALLOW	  ALLOW_CIDR_CAPACITY
#define SOURCE_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
#define LEADING_SPACE	  " \t\r\n"

static const char *const weak_mode_names[] = { "off", "report", "refuse" };
/* The mechanisms serve/weak.c hashes with; longer digests do not fit a policy event. */
static const char *const hash_mech_names[] = { "md5", "sha1", "sha256" };

const char *conf_weak_mode_name(enum conf_weak_mode mode)
{
	return (unsigned int)mode < ARRAY_SIZE(weak_mode_names) ? weak_mode_names[mode] : "?";
}

/* SEC_DAEMON and those after it appear once each; [source NAME] as often as there are logs. */
enum section_id {
	SEC_NONE,
	SEC_SOURCE,
	SEC_DAEMON,
	SEC_RULES,
	SEC_POLICY,
	SEC_FLEET,
	SEC_DNSBL,
	SEC_COUNT
};

#define SECTION_KEYS_MAX 32 /* keys of the largest single section */

/* A single section: its name, its keys and where in the conf they go (conf_dump's order). */
struct single_section {
	const char *name;
	const struct key_spec *keys;
	size_t count;
	size_t offset; /* of its struct in struct xdpban_conf */
};

#define SINGLE(id, title, table, member)                                                           \
	[id] = { title, table, ARRAY_SIZE(table), offsetof(struct xdpban_conf, member) }

static const struct single_section single_sections[SEC_COUNT] = {
	SINGLE(SEC_DAEMON, "daemon", daemon_keys, daemon),
	SINGLE(SEC_RULES, "rules", rules_keys, rules),
	SINGLE(SEC_POLICY, "policy", policy_keys, policy),
	SINGLE(SEC_FLEET, "fleet", fleet_keys, fleet),
	SINGLE(SEC_DNSBL, "dnsbl", dnsbl_keys, dnsbl),
};

_Static_assert(DAEMON_KEY_COUNT <= SECTION_KEYS_MAX && RULES_KEY_COUNT <= SECTION_KEYS_MAX &&
		   POLICY_KEY_COUNT <= SECTION_KEYS_MAX && FLEET_KEY_COUNT <= SECTION_KEYS_MAX &&
		   DNSBL_KEY_COUNT <= SECTION_KEYS_MAX,
	       "a single section has more keys than parse_ctx keeps lines for");

struct source_lines {
	unsigned int key[SOURCE_KEY_COUNT]; /* line each key was set on, 0 if not */
};

struct parse_ctx {
	FILE *file;
	const char *name;
	unsigned int line;
	bool at_line_start;
	enum section_id section;
	unsigned int header_line[SEC_COUNT];	       /* of each single section's header */
	unsigned int set[SEC_COUNT][SECTION_KEYS_MAX]; /* line each of its keys was set on */
	struct source_lines *source_set;	       /* parallel to conf->sources */
	size_t allow_capacity;
	struct xdpban_conf *conf;
	int err;
	char *why;
};

static int fail(struct parse_ctx *ctx, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error only, as "FILE:LINE: message". */
static int fail(struct parse_ctx *ctx, int err, const char *fmt, ...)
{
	char message[ERRMSG_LEN];
	va_list args;

	if (ctx->err)
		return ctx->err;
	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	errmsg(ctx->why, "%s:%u: %s", ctx->name, ctx->line, message);
	ctx->err = err;
	return err;
}

static void copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

static void set_default_source(struct conf_source *src)
{
	memset(src, 0, sizeof(*src));
	copy_text(src->name, sizeof(src->name), CONF_DEFAULT_SOURCE);
	src->type = LOG_SOURCE_AUTO;
	copy_text(src->path, sizeof(src->path), XDPBAN_DEFAULT_LOG);
	src->from_start = false;
	src->enabled = true;
	src->silence_warning = 3600;
	src->silence_lines = 100;
	src->count_rejected = true;
}

static struct xdpban_conf *new_conf(void)
{
	struct xdpban_conf *conf = calloc(1, sizeof(*conf));

	if (!conf)
		return NULL;
	copy_text(conf->daemon.pin_dir, PATH_MAX, XDPBAN_PIN_DIR);
	copy_text(conf->daemon.state_dir, PATH_MAX, XDPBAN_STATE_DIR);
	copy_text(conf->daemon.control_socket, PATH_MAX, XDPBAN_CONTROL_SOCKET);
	conf->daemon.sweep_interval = 10;
	conf->daemon.snapshot_interval = 300;
	conf->daemon.history_keep = 90 * DAY;
	conf->daemon.log_level = LOG_LEVEL_INFO;
	copy_text(conf->daemon.metrics_listen, CONF_POLICY_TEXT_LEN, "off");
	copy_text(conf->policy.listen, CONF_POLICY_TEXT_LEN, "127.0.0.1:8643");
	copy_text(conf->policy.api_header, CONF_POLICY_TEXT_LEN, "X-API-Key");
	copy_text(conf->policy.weak_dictionary, PATH_MAX, XDPBAN_WEAK_DICTIONARY);
	copy_text(conf->policy.weak_message, CONF_POLICY_TEXT_LEN,
		  "This password is too easy to guess: please change it.");
	copy_text(conf->policy.hash_mech, CONF_NAME_LEN, "sha256");
	conf->policy.max_connections = 4096;
	conf->policy.max_client_connections = 256;
	conf->policy.request_timeout = 2;
	copy_text(conf->fleet.redis, CONF_POLICY_TEXT_LEN, "off");
	copy_text(conf->fleet.key_prefix, CONF_POLICY_TEXT_LEN, "xdpban");
	copy_text(conf->dnsbl.resolver, CONF_POLICY_TEXT_LEN, "off");
	conf->dnsbl.lookup_timeout = 2;
	conf->dnsbl.bantime = 3600;

	rules_config_default(&conf->rules.config);
	conf->rules.tarpit = 60;
	conf->rules.allow_own_addresses = true;
	conf->rules.dictionary_window = 3600;
	return conf;
}

static int add_default_source(struct xdpban_conf *conf)
{
	conf->sources = calloc(1, sizeof(*conf->sources));
	if (!conf->sources)
		return -ENOMEM;
	set_default_source(&conf->sources[0]);
	conf->source_count = 1;
	return 0;
}

struct xdpban_conf *conf_defaults(void)
{
	struct xdpban_conf *conf = new_conf();

	if (conf && add_default_source(conf)) {
		conf_free(conf);
		return NULL;
	}
	return conf;
}

void conf_free(struct xdpban_conf *conf)
{
	if (!conf)
		return;
	free(conf->rules.allow);
	free(conf->sources);
	free(conf);
}

static char *trim(char *text)
{
	char *end;

	while (isspace((unsigned char)*text))
		text++;
	end = text + strlen(text);
	while (end > text && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return text;
}

static int start_source(struct parse_ctx *ctx, const char *name)
{
	struct xdpban_conf *conf = ctx->conf;
	struct conf_source *sources;
	struct source_lines *set;

	if (*name == '\0')
		return fail(ctx, -EINVAL, "[source] needs a name: [source NAME]");
	if (strlen(name) >= CONF_NAME_LEN || name[strspn(name, SOURCE_NAME_CHARS)] != '\0')
		return fail(
		    ctx, -EINVAL,
		    "[source %s]: a source name is 1 to %d letters, digits, '_', '.' or '-'", name,
		    CONF_NAME_LEN - 1);
	for (size_t i = 0; i < conf->source_count; i++) {
		if (strcmp(conf->sources[i].name, name) == 0)
			return fail(ctx, -EINVAL, "[source %s] is already defined on line %u", name,
				    conf->sources[i].line);
	}
	if (conf->source_count == CONF_MAX_SOURCES)
		return fail(ctx, -EINVAL, "[source %s]: more than %d sources", name,
			    CONF_MAX_SOURCES);
	sources = realloc(conf->sources, (conf->source_count + 1) * sizeof(*sources));
	if (!sources)
		return fail(ctx, -ENOMEM, "out of memory");
	conf->sources = sources;
	set = realloc(ctx->source_set, (conf->source_count + 1) * sizeof(*set));
	if (!set)
		return fail(ctx, -ENOMEM, "out of memory");
	ctx->source_set = set;
	memset(&set[conf->source_count], 0, sizeof(*set));
	set_default_source(&sources[conf->source_count]);
	copy_text(sources[conf->source_count].name, CONF_NAME_LEN, name);
	sources[conf->source_count].line = ctx->line;
	conf->source_count++;
	ctx->section = SEC_SOURCE;
	return 0;
}

static int start_single_section(struct parse_ctx *ctx, enum section_id id)
{
	if (ctx->header_line[id])
		return fail(ctx, -EINVAL, "section [%s] is already defined on line %u",
			    single_sections[id].name, ctx->header_line[id]);
	ctx->header_line[id] = ctx->line;
	ctx->section = id;
	return 0;
}

/* A "[...]" line: the section that the following keys belong to. */
static int start_section(struct parse_ctx *ctx, char *line)
{
	char *close = strchr(line, ']');
	char *rest, *title, *word_end;

	if (!close)
		return fail(ctx, -EINVAL, "section header without ']'");
	rest = trim(close + 1);
	if (*rest && *rest != ';' && *rest != '#')
		return fail(ctx, -EINVAL, "unexpected text '%s' after the section header", rest);
	*close = '\0';
	title = trim(line + 1);
	for (int id = SEC_DAEMON; id < SEC_COUNT; id++) {
		if (strcmp(title, single_sections[id].name) == 0)
			return start_single_section(ctx, id);
	}
	word_end = title + strcspn(title, " \t");
	if (word_end - title == 6 && strncmp(title, "source", 6) == 0)
		return start_source(ctx, trim(word_end));
	return fail(ctx, -EINVAL,
		    "unknown section [%s] (sections: [daemon], [rules], [policy], [fleet], "
		    "[dnsbl], [source NAME])",
		    title);
}

/* inih's line reader: counts lines and handles section headers before inih sees them. */
static char *read_line(char *buf, int size, void *stream)
{
	struct parse_ctx *ctx = stream;
	bool line_start = ctx->at_line_start;
	char header[SECTION_LINE_MAX], *text;

	if (ctx->err || !fgets(buf, size, ctx->file))
		return NULL;
	ctx->at_line_start = strchr(buf, '\n') != NULL || feof(ctx->file);
	if (!line_start)
		return buf; /* the rest of a long line */
	ctx->line++;
	text = buf;
	if (ctx->line == 1 && strncmp(text, "\xEF\xBB\xBF", 3) == 0)
		text += 3; /* UTF-8 byte order mark */
	text += strspn(text, LEADING_SPACE);
	if (*text != '[')
		return buf;
	if (!ctx->at_line_start) {
		fail(ctx, -EINVAL, "section header longer than %d bytes", SECTION_LINE_MAX);
		return NULL;
	}
	/* A copy: inih parses the line after this, unchanged. */
	copy_text(header, sizeof(header), text);
	if (start_section(ctx, header))
		return NULL;
	return buf;
}

static int parse_number(struct parse_ctx *ctx, const struct key_spec *spec, const char *value,
			uint64_t *out)
{
	uint64_t number = 0;
	const char *p = value;

	if (*p == '\0')
		goto bad;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			goto bad;
		number = number * 10 + (uint64_t)(*p - '0');
		if (number > spec->max)
			goto bad;
	}
	if (number < spec->min)
		goto bad;
	*out = number;
	return 0;
bad:
	return fail(ctx, -EINVAL, "%s = '%s': expected a whole number from %llu to %llu",
		    spec->name, value, (unsigned long long)spec->min,
		    (unsigned long long)spec->max);
}

static int parse_seconds(struct parse_ctx *ctx, const struct key_spec *spec, const char *value,
			 uint64_t *out)
{
	char why[ERRMSG_LEN], limit[DURATION_TEXT_LEN];
	uint64_t seconds;
	bool permanent;

	if (spec->kind == V_DURATION_OR_OFF &&
	    (strcmp(value, "off") == 0 || strcmp(value, "0") == 0)) {
		*out = 0;
		return 0;
	}
	if (duration_parse(value, &seconds, &permanent, why)) {
		/* "duration 'X': reason (use ... or permanent)": keep the reason only. */
		char *reason = strstr(why, "': "), *hint = strstr(why, " (use ");

		if (hint)
			*hint = '\0';
		return fail(ctx, -EINVAL, "%s = '%s': %s (durations: 300, 90s, 5m, 2h, 1d, 1h30m)",
			    spec->name, value, reason ? reason + 3 : why);
	}
	if (permanent)
		return fail(ctx, -EINVAL, "%s = '%s': must be a finite duration", spec->name,
			    value);
	if (seconds < spec->min || seconds > spec->max) {
		duration_format(spec->max, limit);
		return fail(ctx, -EINVAL, "%s = '%s': must be at most %s", spec->name, value,
			    limit);
	}
	*out = seconds;
	return 0;
}

static int parse_bool(struct parse_ctx *ctx, const struct key_spec *spec, const char *value,
		      bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return fail(ctx, -EINVAL, "%s = '%s': expected yes or no (also true/false, on/off, 1/0)",
		    spec->name, value);
}

static int parse_name(struct parse_ctx *ctx, const struct key_spec *spec, const char *value,
		      const char *const *names, size_t count, int *out)
{
	char list[128] = "";
	size_t used = 0;

	for (size_t i = 0; i < count; i++) {
		if (strcmp(value, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
		used += snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", names[i]);
	}
	return fail(ctx, -EINVAL, "%s = '%s': expected one of %s", spec->name, value, list);
}

static int parse_path(struct parse_ctx *ctx, const struct key_spec *spec, const char *value,
		      char *out)
{
	size_t max =
	    spec->kind == V_SOCKET ? sizeof(((struct sockaddr_un *)0)->sun_path) : PATH_MAX;

	if (spec->kind == V_OPT_PATH && !*value) {
		out[0] = '\0';
		return 0;
	}
	if (*value != '/')
		return fail(ctx, -EINVAL, "%s = '%s': expected an absolute path", spec->name,
			    value);
	if (strlen(value) >= max)
		return fail(ctx, -EINVAL, "%s = '%.40s...': longer than %zu bytes", spec->name,
			    value, max - 1);
	copy_text(out, PATH_MAX, value);
	return 0;
}

static int parse_group(struct parse_ctx *ctx, const struct key_spec *spec, const char *value,
		       struct conf_daemon *daemon)
{
	bool numeric = value[strspn(value, "0123456789")] == '\0';
	struct group grp, *found = NULL;
	size_t size = 16384;
	char *buf = NULL;
	int err;

	daemon->control_group[0] = '\0';
	daemon->control_gid = 0;
	if (*value == '\0')
		return 0; /* root only */
	if (strlen(value) >= CONF_NAME_LEN)
		return fail(ctx, -EINVAL, "%s = '%s': longer than %d bytes", spec->name, value,
			    CONF_NAME_LEN - 1);
	do { /* a group with many members needs a bigger buffer */
		char *bigger = realloc(buf, size);

		if (!bigger) {
			free(buf);
			return fail(ctx, -ENOMEM, "out of memory");
		}
		buf = bigger;
		if (numeric)
			err = getgrgid_r((gid_t)strtoul(value, NULL, 10), &grp, buf, size, &found);
		else
			err = getgrnam_r(value, &grp, buf, size, &found);
		size *= 2;
	} while (err == ERANGE && size <= (1U << 24));
	if (found)
		daemon->control_gid = grp.gr_gid;
	free(buf);
	if (!found)
		return fail(ctx, -EINVAL, "%s = '%s': %s", spec->name, value,
			    err ? strerror(err) : "no such group");
	copy_text(daemon->control_group, CONF_NAME_LEN, value);
	return 0;
}

static int parse_cidr_list(struct parse_ctx *ctx, const struct key_spec *spec, char *value,
			   struct conf_rules *rules)
{
	char why[ERRMSG_LEN], *save = NULL;

	for (char *item = strtok_r(value, ", \t", &save); item;
	     item = strtok_r(NULL, ", \t", &save)) {
		struct lpm_key key;

		if (cidr_parse(item, &key, why))
			return fail(ctx, -EINVAL, "%s: %s", spec->name, why);
		if (rules->allow_count == CONF_MAX_ALLOW)
			return fail(ctx, -EINVAL, "%s: more than %d prefixes", spec->name,
				    CONF_MAX_ALLOW);
		if (rules->allow_count == ctx->allow_capacity) {
			size_t capacity = ctx->allow_capacity ? ctx->allow_capacity * 2 : 16;
			struct lpm_key *grown = realloc(rules->allow, capacity * sizeof(*grown));

			if (!grown)
				return fail(ctx, -ENOMEM, "out of memory");
			rules->allow = grown;
			ctx->allow_capacity = capacity;
		}
		rules->allow[rules->allow_count++] = key;
	}
	return 0;
}

/* "off", "A.B.C.D:PORT" or "[IPV6]:PORT", PORT 1..65535. */
int conf_listen_split(const char *value, char host[CONF_POLICY_TEXT_LEN], unsigned int *port)
{
	const char *colon, *start = value, *end;
	unsigned char buf[sizeof(struct in6_addr)];
	unsigned long number;
	char *stop;
	bool v6 = *value == '[';

	if (v6) {
		start = value + 1;
		end = strchr(start, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		colon = end + 1;
	} else {
		colon = strrchr(value, ':');
		end = colon;
	}
	if (!colon || (size_t)(end - start) >= CONF_POLICY_TEXT_LEN)
		return -EINVAL;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, buf) != 1)
		return -EINVAL;
	errno = 0;
	number = strtoul(colon + 1, &stop, 10);
	if (!colon[1] || *stop || errno || number < 1 || number > 65535 || colon[1] == '-' ||
	    colon[1] == '+')
		return -EINVAL;
	*port = (unsigned int)number;
	return 0;
}

static int parse_listen(struct parse_ctx *ctx, const struct key_spec *spec, const char *value,
			char *out)
{
	char host[CONF_POLICY_TEXT_LEN];
	unsigned int port;

	if (strcmp(value, "off") != 0 && conf_listen_split(value, host, &port))
		return fail(ctx, -EINVAL, "%s = '%s': expected ADDRESS:PORT ([IPV6]:PORT) or off",
			    spec->name, value);
	copy_text(out, CONF_POLICY_TEXT_LEN, value);
	return 0;
}

const char *conf_redis_unix_path(const char *redis)
{
	return strncmp(redis, "unix:", 5) == 0 ? redis + 5 : NULL;
}

/* "bl.example.org,dnsbl.example.net": letters, digits, '-' and '.', no empty name. */
static int parse_dns_names(struct parse_ctx *ctx, const struct key_spec *spec, const char *value,
			   char *out)
{
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz"
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.,";
	bool empty_name = *value && (value[0] == ',' || value[strlen(value) - 1] == ',' ||
				     strstr(value, ",,") || value[0] == '.' || strstr(value, ".."));

	if (strlen(value) >= CONF_POLICY_TEXT_LEN)
		return fail(ctx, -EINVAL, "%s = '%.40s...': longer than %d bytes", spec->name,
			    value, CONF_POLICY_TEXT_LEN - 1);
	if (value[strspn(value, name_chars)] || empty_name)
		return fail(ctx, -EINVAL,
			    "%s = '%s': expected DNS names separated by commas (no spaces)",
			    spec->name, value);
	copy_text(out, CONF_POLICY_TEXT_LEN, value);
	return 0;
}

static int parse_redis(struct parse_ctx *ctx, const struct key_spec *spec, const char *value,
		       char *out)
{
	const char *path = conf_redis_unix_path(value);
	char host[CONF_POLICY_TEXT_LEN];
	unsigned int port;

	if (path && (path[0] != '/' || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)))
		return fail(ctx, -EINVAL,
			    "%s = '%s': expected unix:/ABSOLUTE/PATH (at most %zu bytes)",
			    spec->name, value, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	if (!path && strcmp(value, "off") != 0 && conf_listen_split(value, host, &port))
		return fail(ctx, -EINVAL,
			    "%s = '%s': expected ADDRESS:PORT ([IPV6]:PORT), unix:/PATH or off",
			    spec->name, value);
	copy_text(out, CONF_POLICY_TEXT_LEN, value);
	return 0;
}

/* api_key: printable, no spaces; api_header: an HTTP token, not empty. */
static int parse_text(struct parse_ctx *ctx, const struct key_spec *spec, const char *value,
		      char *out)
{
	static const char token[] = "!#$%&'*+-.^_`|~0123456789"
				    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

	if (strlen(value) >= CONF_POLICY_TEXT_LEN)
		return fail(ctx, -EINVAL, "%s = '%.40s...': longer than %d bytes", spec->name,
			    value, CONF_POLICY_TEXT_LEN - 1);
	if (spec->kind == V_HEADER && (!*value || value[strspn(value, token)]))
		return fail(ctx, -EINVAL, "%s = '%s': expected an HTTP header name", spec->name,
			    value);
	for (const char *c = value; *c; c++) {
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
			return fail(ctx, -EINVAL,
				    "%s = '%s': expected printable text without spaces", spec->name,
				    value);
	}
	copy_text(out, CONF_POLICY_TEXT_LEN, value);
	return 0;
}

/*
 * A sentence: printable, spaces inside. No ';' or '#', which would start a
 * comment where --check-config prints it; no space at either end, which
 * inih would strip.
 */
static int parse_message(struct parse_ctx *ctx, const struct key_spec *spec, const char *value,
			 char *out)
{
	size_t len = strlen(value);

	if (len >= CONF_POLICY_TEXT_LEN)
		return fail(ctx, -EINVAL, "%s = '%.40s...': longer than %d bytes", spec->name,
			    value, CONF_POLICY_TEXT_LEN - 1);
	for (const char *c = value; *c; c++) {
		if ((unsigned char)*c < ' ' || (unsigned char)*c == 0x7f || *c == ';' || *c == '#')
			return fail(ctx, -EINVAL,
				    "%s = '%s': expected printable text without ';' or '#'",
				    spec->name, value);
	}
	if (!len)
		return fail(ctx, -EINVAL, "%s: expected a message, not nothing", spec->name);
	copy_text(out, CONF_POLICY_TEXT_LEN, value);
	return 0;
}

/* Words separated by spaces or commas: interface names, or journal matches. */
static int parse_words(struct parse_ctx *ctx, const struct key_spec *spec, char *value, char *out,
		       size_t size)
{
	char *save = NULL, list[CONF_MATCHES_LEN] = "";
	size_t used = 0;

	for (char *name = strtok_r(value, ", \t", &save); name;
	     name = strtok_r(NULL, ", \t", &save)) {
		size_t len = strlen(name);

		/* '#' and ';' would start a comment where --check-config prints the name. */
		if (spec->kind == V_IFNAMES && (len >= IF_NAMESIZE || strpbrk(name, "/:#;") ||
						!strcmp(name, ".") || !strcmp(name, "..")))
			return fail(ctx, -EINVAL, "%s: '%s' is not an interface name", spec->name,
				    name);
		if (spec->kind == V_MATCHES && (strpbrk(name, "#;") || name[0] == '='))
			return fail(ctx, -EINVAL,
				    "%s: '%s' is not a program name or FIELD=value match",
				    spec->name, name);
		if (used + len + 2 > size || used + len + 2 > sizeof(list))
			return fail(ctx, -EINVAL, "%s: more than %zu bytes of names", spec->name,
				    size - 1);
		used += snprintf(list + used, sizeof(list) - used, "%s%s", used ? " " : "", name);
	}
	snprintf(out, size, "%s", list);
	return 0;
}

static int apply_value(struct parse_ctx *ctx, const struct key_spec *spec, void *base, char *value)
{
	char *field = (char *)base + spec->offset;
	uint64_t number;
	int choice = 0, err;

	switch (spec->kind) {
	case V_PATH:
	case V_OPT_PATH:
	case V_SOCKET:
		return parse_path(ctx, spec, value, field);
	case V_GROUP:
		return parse_group(ctx, spec, value, base);
	case V_DURATION:
	case V_DURATION_OR_OFF:
		return parse_seconds(ctx, spec, value, (uint64_t *)field);
	case V_UINT:
		err = parse_number(ctx, spec, value, &number);
		if (!err)
			*(unsigned int *)field = (unsigned int)number;
		return err;
	case V_SIZE:
		err = parse_number(ctx, spec, value, &number);
		if (!err)
			*(size_t *)field = (size_t)number;
		return err;
	case V_BOOL:
		return parse_bool(ctx, spec, value, (bool *)field);
	case V_LOG_LEVEL:
		err = parse_name(ctx, spec, value, log_level_names, LOG_LEVELS, &choice);
		if (!err)
			*(enum log_level *)field = (enum log_level)choice;
		return err;
	case V_SOURCE_TYPE:
		if (strcmp(value, "journal") == 0) { /* every parser, the program from each entry */
			((struct conf_source *)base)->journal = true;
			*(enum log_source *)field = LOG_SOURCE_AUTO;
			return 0;
		}
		err = parse_name(ctx, spec, value, parser_source_names, LOG_SOURCE_COUNT, &choice);
		if (!err)
			*(enum log_source *)field = (enum log_source)choice;
		return err;
	case V_CIDR_LIST:
		return parse_cidr_list(ctx, spec, value, base);
	case V_LISTEN:
		return parse_listen(ctx, spec, value, field);
	case V_REDIS:
		return parse_redis(ctx, spec, value, field);
	case V_DNSNAMES:
		return parse_dns_names(ctx, spec, value, field);
	case V_TEXT:
	case V_HEADER:
		return parse_text(ctx, spec, value, field);
	case V_IFNAMES:
		return parse_words(ctx, spec, value, field, CONF_IFNAMES_LEN);
	case V_MATCHES:
		return parse_words(ctx, spec, value, field, CONF_MATCHES_LEN);
	case V_WEAK_MODE:
		err = parse_name(ctx, spec, value, weak_mode_names, ARRAY_SIZE(weak_mode_names),
				 &choice);
		if (!err)
			*(enum conf_weak_mode *)field = (enum conf_weak_mode)choice;
		return err;
	case V_HASH_MECH:
		err = parse_name(ctx, spec, value, hash_mech_names, ARRAY_SIZE(hash_mech_names),
				 &choice);
		if (!err)
			copy_text(field, CONF_NAME_LEN, hash_mech_names[choice]);
		return err;
	case V_MESSAGE:
		return parse_message(ctx, spec, value, field);
	}
	return fail(ctx, -EINVAL, "%s: unhandled value kind", spec->name);
}

/* Edit distance of two short names, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t row[64], la = strlen(a), lb = strlen(b);

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diagonal = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t above = row[j];
			size_t best = diagonal + (a[i - 1] != b[j - 1]);

			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}

/* fail2ban's names for what xdpban calls otherwise. */
static const char *const fail2ban_names[][2] = {
	{ "bantime", "ip_bantime" }, { "findtime", "ip_window" }, { "maxretry", "ip_failures" },
	{ "ignoreip", "allow" },     { "logpath", "path" },	  { "filter", "type" },
};

static int unknown_key(struct parse_ctx *ctx, const char *section, const char *name,
		       const struct key_spec *keys, size_t count)
{
	char list[200] = "";
	size_t used = 0, best = SIZE_MAX, closest = 0;

	for (size_t i = 0; i < ARRAY_SIZE(fail2ban_names); i++) {
		if (strcmp(name, fail2ban_names[i][0]) == 0)
			return fail(ctx, -EINVAL,
				    "unknown key '%s' in [%s]; fail2ban's %s is xdpban's '%s'%s",
				    name, section, name, fail2ban_names[i][1],
				    strcmp(fail2ban_names[i][1], "path") == 0 ||
					    strcmp(fail2ban_names[i][1], "type") == 0
					? " in [source NAME]"
					: " in [rules]");
	}

	for (size_t i = 0; i < count; i++) {
		size_t d = distance(name, keys[i].name);

		if (d < best)
			best = d, closest = i;
		/* Past the end only counts: list + used would point outside the array. */
		used += snprintf(used < sizeof(list) ? list + used : NULL,
				 used < sizeof(list) ? sizeof(list) - used : 0, "%s%s",
				 i ? ", " : "", keys[i].name);
	}
	if (best <= 2)
		return fail(ctx, -EINVAL, "unknown key '%s' in [%s]; did you mean '%s'?", name,
			    section, keys[closest].name);
	if (used < sizeof(list))
		return fail(ctx, -EINVAL, "unknown key '%s' in [%s] (keys: %s)", name, section,
			    list);
	return fail(ctx, -EINVAL, "unknown key '%s' in [%s] (docs/config.md lists its keys)", name,
		    section);
}

/* inih's handler: returns nonzero to go on. */
static int handle_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;
	const struct key_spec *keys;
	unsigned int *set_lines;
	char section_name[CONF_NAME_LEN + 8];
	size_t count;
	char *copy;
	void *base;
	int err;

	(void)section; /* inih's copy is cut at 50 bytes; read_line keeps the whole name */
	if (ctx->err)
		return 0;
	if (ctx->section == SEC_SOURCE) {
		keys = source_keys, count = SOURCE_KEY_COUNT;
		base = &ctx->conf->sources[ctx->conf->source_count - 1];
		set_lines = ctx->source_set[ctx->conf->source_count - 1].key;
		snprintf(section_name, sizeof(section_name), "source %s",
			 ctx->conf->sources[ctx->conf->source_count - 1].name);
	} else if (ctx->section != SEC_NONE) {
		const struct single_section *single = &single_sections[ctx->section];

		keys = single->keys, count = single->count;
		base = (char *)ctx->conf + single->offset;
		set_lines = ctx->set[ctx->section];
		copy_text(section_name, sizeof(section_name), single->name);
	} else {
		fail(ctx, -EINVAL,
		     "key '%s' before any section ([daemon], [rules], [policy], [fleet], "
		     "[dnsbl], [source NAME])",
		     name);
		return 0;
	}
	for (size_t i = 0; i < count; i++) {
		if (strcmp(keys[i].name, name) != 0)
			continue;
		if (set_lines[i] && keys[i].kind != V_CIDR_LIST) {
			fail(ctx, -EINVAL, "%s = '%s': %s is already set on line %u", name, value,
			     name, set_lines[i]);
			return 0;
		}
		/* "key=#x" reads, but --check-config's "key = #x" would read back as a comment. */
		if (value[0] == '#' || value[0] == ';') {
			fail(ctx, -EINVAL, "%s = '%s': a value may not start with '%c'", name,
			     value, value[0]);
			return 0;
		}
		set_lines[i] = ctx->line;
		copy = strdup(value); /* strtok_r writes to it */
		if (!copy) {
			fail(ctx, -ENOMEM, "out of memory");
			return 0;
		}
		err = apply_value(ctx, &keys[i], base, copy);
		free(copy);
		return err == 0;
	}
	unknown_key(ctx, section_name, name, keys, count);
	return 0;
}

/* The line a key of a single section was set on; 0 when it was not. */
static unsigned int line_of(const struct parse_ctx *ctx, enum section_id section, const char *name)
{
	const struct single_section *single = &single_sections[section];

	for (size_t i = 0; i < single->count; i++) {
		if (strcmp(single->keys[i].name, name) == 0)
			return ctx->set[section][i];
	}
	return 0;
}

/* Judging pwhashes needs them from Dovecot, and Dovecot's nonce to hash candidates. */
static int check_weak(struct parse_ctx *ctx)
{
	const struct conf_policy *policy = &ctx->conf->policy;
	const struct conf_rules *rules = &ctx->conf->rules;
	const char *mode = conf_weak_mode_name(policy->weak_passwords);

	ctx->line = line_of(ctx, SEC_POLICY, "weak_passwords");
	if (policy->weak_passwords != CONF_WEAK_OFF && !policy->hash_nonce[0])
		return fail(ctx, -EINVAL,
			    "weak_passwords = %s needs hash_nonce, the value of Dovecot's "
			    "auth_policy_hash_nonce",
			    mode);
	if (policy->weak_passwords != CONF_WEAK_OFF && strcmp(policy->listen, "off") == 0)
		return fail(ctx, -EINVAL,
			    "weak_passwords = %s needs the policy endpoint: listen is off", mode);
	if (rules->dictionary_guesses && policy->weak_passwords == CONF_WEAK_OFF) {
		ctx->line = line_of(ctx, SEC_RULES, "dictionary_guesses");
		return fail(ctx, -EINVAL,
			    "dictionary_guesses = %u needs [policy] weak_passwords = report or "
			    "refuse",
			    rules->dictionary_guesses);
	}
	return 0;
}

/* Checks that span keys, once the whole file is read. */
static int check_whole(struct parse_ctx *ctx)
{
	const struct rules_config *rules = &ctx->conf->rules.config;
	const struct xdpban_conf *conf = ctx->conf;

	if (rules->account_min_ips > rules->account_failures) {
		unsigned int line = line_of(ctx, SEC_RULES, "account_min_ips");

		ctx->line = line ? line : line_of(ctx, SEC_RULES, "account_failures");
		return fail(ctx, -EINVAL,
			    "account_min_ips = %u exceeds account_failures = %u: the account "
			    "rule could never fire",
			    rules->account_min_ips, rules->account_failures);
	}
	for (size_t i = 0; i < conf->source_count; i++) {
		const struct conf_source *src = &conf->sources[i];

		for (size_t k = 0; src->journal && k < SOURCE_KEY_COUNT; k++) {
			if (strcmp(source_keys[k].name, "path") != 0 || !ctx->source_set[i].key[k])
				continue;
			ctx->line = ctx->source_set[i].key[k];
			return fail(ctx, -EINVAL,
				    "[source %s] path = '%s': a source of type = journal reads the "
				    "journal, not a file (journal_path = DIR reads a directory of "
				    "journal files)",
				    src->name, src->path);
		}
		if (!src->journal && src->journal_path[0]) {
			ctx->line = src->line;
			return fail(
			    ctx, -EINVAL,
			    "[source %s] journal_path = '%s': only a source of type = journal "
			    "reads journal files",
			    src->name, src->journal_path);
		}
		if (!src->journal && src->journal_matches[0]) {
			ctx->line = src->line;
			return fail(ctx, -EINVAL,
				    "[source %s] journal_matches = '%s': only a source of type = "
				    "journal has matches",
				    src->name, src->journal_matches);
		}
		for (size_t j = 0; j < i; j++) {
			const struct conf_source *a = &conf->sources[j], *b = &conf->sources[i];

			if (!a->enabled || !b->enabled || a->journal || b->journal ||
			    strcmp(a->path, b->path) != 0)
				continue;
			ctx->line = b->line;
			return fail(ctx, -EINVAL,
				    "[source %s] path = '%s': already followed by [source %s] "
				    "(line %u); its failures would count twice",
				    b->name, b->path, a->name, a->line);
		}
	}
	return 0;
}

static void configure_inih(void)
{
	static char inline_comments[] = ";#";

	ini_allow_multiline = false; /* an indented line is an error, not a continuation */
	ini_stop_on_first_error = true;
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_initial_alloc = SECTION_LINE_MAX;
	ini_max_line = LINE_MAX_BYTES;
	ini_allow_no_value = false;
	ini_inline_comment_prefixes = inline_comments;
}

int conf_parse(FILE *file, const char *name, struct xdpban_conf **out, char why[ERRMSG_LEN])
{
	struct parse_ctx ctx = {
		.file = file,
		.name = name,
		.at_line_start = true,
		.why = why,
	};
	int ret;

	ctx.conf = new_conf();
	if (!ctx.conf) {
		errmsg(why, "%s: out of memory", name);
		return -ENOMEM;
	}
	configure_inih();
	ret = ini_parse_stream(read_line, &ctx, handle_key, &ctx);
	if (!ctx.err && ret > 0) {
		ctx.line = (unsigned int)ret;
		fail(&ctx, -EINVAL, "expected 'key = value', a [section] or a comment");
	} else if (!ctx.err && ret == -2) {
		fail(&ctx, -ENOMEM, "out of memory");
	} else if (!ctx.err && ferror(file)) {
		errmsg(why, "%s: read error: %s", name, strerror(errno));
		ctx.err = -EIO;
	}
	if (!ctx.err)
		check_whole(&ctx);
	if (!ctx.err)
		check_weak(&ctx);
	if (!ctx.err && ctx.conf->source_count == 0 && add_default_source(ctx.conf))
		fail(&ctx, -ENOMEM, "out of memory");
	free(ctx.source_set);
	if (ctx.err) {
		conf_free(ctx.conf);
		return ctx.err;
	}
	if (ctx.conf->rules.allow_count) /* sorted, repeats removed */
		ctx.conf->rules.allow_count =
		    cidr_sort_unique(ctx.conf->rules.allow, ctx.conf->rules.allow_count);
	copy_text(ctx.conf->path, PATH_MAX, name);
	*out = ctx.conf;
	return 0;
}

int conf_load(const char *path, struct xdpban_conf **conf, char why[ERRMSG_LEN])
{
	FILE *file = fopen(path, "re");
	int err;

	if (!file) {
		err = -errno;
		errmsg(why, "cannot open config file %s: %s", path, strerror(errno));
		return err;
	}
	err = conf_parse(file, path, conf, why);
	fclose(file);
	return err;
}

/* Every unit, so the dump reads back exactly ("1d1h1m1s", not duration_format's "1d1h"). */
static void format_exact(uint64_t seconds, char buf[DURATION_TEXT_LEN])
{
	static const struct {
		char suffix;
		uint64_t seconds;
	} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	size_t used = 0;

	buf[0] = '\0';
	if (seconds == 0) {
		snprintf(buf, DURATION_TEXT_LEN, "off");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		uint64_t count = seconds / units[i].seconds;

		if (count == 0)
			continue;
		used += snprintf(buf + used, DURATION_TEXT_LEN - used, "%llu%c",
				 (unsigned long long)count, units[i].suffix);
		seconds -= count * units[i].seconds;
	}
}

static void dump_keys(const struct key_spec *keys, size_t count, const void *base, FILE *out)
{
	char text[DURATION_TEXT_LEN], prefix[CIDR_TEXT_LEN];

	for (size_t i = 0; i < count; i++) {
		const char *field = (const char *)base + keys[i].offset;
		const struct conf_rules *rules = base;

		if (keys == source_keys && ((const struct conf_source *)base)->journal &&
		    keys[i].offset == SOURCE(path))
			continue; /* a journal source has no file */

		switch (keys[i].kind) {
		case V_PATH:
		case V_OPT_PATH:
		case V_SOCKET:
		case V_GROUP:
		case V_LISTEN:
		case V_REDIS:
		case V_DNSNAMES:
		case V_TEXT:
		case V_HEADER:
		case V_IFNAMES:
		case V_MATCHES:
		case V_HASH_MECH:
		case V_MESSAGE:
			fprintf(out, "%s = %s\n", keys[i].name, field);
			break;
		case V_WEAK_MODE:
			fprintf(out, "%s = %s\n", keys[i].name,
				conf_weak_mode_name(*(const enum conf_weak_mode *)field));
			break;
		case V_DURATION:
		case V_DURATION_OR_OFF:
			format_exact(*(const uint64_t *)field, text);
			fprintf(out, "%s = %s\n", keys[i].name, text);
			break;
		case V_UINT:
			fprintf(out, "%s = %u\n", keys[i].name, *(const unsigned int *)field);
			break;
		case V_SIZE:
			fprintf(out, "%s = %zu\n", keys[i].name, *(const size_t *)field);
			break;
		case V_BOOL:
			fprintf(out, "%s = %s\n", keys[i].name,
				*(const bool *)field ? "yes" : "no");
			break;
		case V_LOG_LEVEL:
			fprintf(out, "%s = %s\n", keys[i].name,
				log_level_name(*(const enum log_level *)field));
			break;
		case V_SOURCE_TYPE:
			fprintf(out, "%s = %s\n", keys[i].name,
				((const struct conf_source *)base)->journal
				    ? "journal"
				    : parser_source_name(*(const enum log_source *)field));
			break;
		case V_CIDR_LIST:
			/* One line per 8 prefixes: repeated allow lines accumulate. */
			if (rules->allow_count == 0)
				fprintf(out, "allow =\n");
			for (size_t j = 0; j < rules->allow_count; j++) {
				cidr_format(&rules->allow[j], prefix);
				fprintf(out, "%s%s", j % 8 == 0 ? "allow = " : ", ", prefix);
				if (j % 8 == 7 || j + 1 == rules->allow_count)
					fputc('\n', out);
			}
			break;
		}
	}
}

void conf_dump(const struct xdpban_conf *conf, FILE *out)
{
	fprintf(out, "# xdpban effective configuration (from %s)\n",
		conf->path[0] ? conf->path : "defaults only");
	for (int id = SEC_DAEMON; id < SEC_COUNT; id++) {
		const struct single_section *single = &single_sections[id];

		fprintf(out, "\n[%s]\n", single->name);
		dump_keys(single->keys, single->count, (const char *)conf + single->offset, out);
	}
	for (size_t i = 0; i < conf->source_count; i++) {
		fprintf(out, "\n[source %s]\n", conf->sources[i].name);
		dump_keys(source_keys, SOURCE_KEY_COUNT, &conf->sources[i], out);
	}
}
