// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/portset.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void portset_add(struct portset *set, unsigned int port)
{
	set->bits[port / 64] |= 1ULL << (port % 64);
}

bool portset_has(const struct portset *set, unsigned int port)
{
	if (port == 0 || port > 65535)
		return false;
	return set->all || (set->bits[port / 64] & (1ULL << (port % 64)));
}

void portset_defaults(struct portset *set)
{
	static const unsigned short defaults[] = DEFAULT_PROTECTED_PORTS;

	memset(set, 0, sizeof(*set));
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		portset_add(set, defaults[i]);
}

static int parse_port(const char *text, unsigned int *port, char why[ERRMSG_LEN])
{
	char *end;
	unsigned long value;

	if (*text < '0' || *text > '9') {
		snprintf(why, ERRMSG_LEN, "port '%s' is not a number", text);
		return -EINVAL;
	}
	value = strtoul(text, &end, 10);
	if (*end != '\0') {
		snprintf(why, ERRMSG_LEN, "port '%s' is not a number", text);
		return -EINVAL;
	}
	if (value < 1 || value > 65535) {
		snprintf(why, ERRMSG_LEN, "port %s out of range 1-65535", text);
		return -EINVAL;
	}
	*port = value;
	return 0;
}

/* One list item: "N" or "N-M". */
static int parse_item(char *item, struct portset *set, char why[ERRMSG_LEN])
{
	char *dash = strchr(item, '-');
	unsigned int first, last;
	int err;

	if (dash)
		*dash = '\0';
	err = parse_port(item, &first, why);
	if (err)
		return err;
	last = first;
	if (dash) {
		err = parse_port(dash + 1, &last, why);
		if (err)
			return err;
		if (last < first) {
			snprintf(why, ERRMSG_LEN, "port range %u-%u runs backwards", first, last);
			return -EINVAL;
		}
	}
	for (unsigned int port = first; port <= last; port++)
		portset_add(set, port);
	return 0;
}

int portset_parse(const char *text, struct portset *set, char why[ERRMSG_LEN])
{
	char *copy, *item, *saveptr = NULL;
	int err = 0;

	memset(set, 0, sizeof(*set));
	if (strcmp(text, "all") == 0) {
		set->all = true;
		return 0;
	}
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	for (item = strtok_r(copy, ", \t", &saveptr); item && !err;
	     item = strtok_r(NULL, ", \t", &saveptr))
		err = parse_item(item, set, why);
	free(copy);
	if (!err && portset_count(set) == 0) {
		snprintf(why, ERRMSG_LEN, "port list '%s' names no port", text);
		err = -EINVAL;
	}
	return err;
}

size_t portset_count(const struct portset *set)
{
	size_t count = 0;

	if (set->all)
		return 65535;
	for (size_t i = 0; i < PORT_BITMAP_WORDS; i++)
		count += (size_t)__builtin_popcountll(set->bits[i]);
	return count;
}

void portset_format(const struct portset *set, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (set->all) {
		snprintf(buf, len, "all");
		return;
	}
	for (unsigned int port = 1; port <= 65535 && used < len; port++) {
		unsigned int last = port;

		if (!portset_has(set, port))
			continue;
		while (last < 65535 && portset_has(set, last + 1))
			last++;
		if (last == port)
			used += snprintf(buf + used, len - used, "%s%u", used ? "," : "", port);
		else
			used += snprintf(buf + used, len - used, "%s%u-%u", used ? "," : "", port,
					 last);
		port = last;
	}
}
