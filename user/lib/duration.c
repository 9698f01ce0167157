// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/duration.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct unit {
	char suffix;
	uint64_t seconds;
};

static const struct unit units[] = {
	{ 'w', 7 * 86400 }, { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
};
#define SECONDS_UNIT 4

static const struct unit *find_unit(char suffix)
{
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (units[i].suffix == suffix)
			return &units[i];
	}
	return NULL;
}

static int invalid(const char *text, const char *reason, char why[ERRMSG_LEN])
{
	snprintf(why, ERRMSG_LEN, "duration '%s': %s (use 300, 90s, 5m, 2h, 1d or permanent)", text,
		 reason);
	return -EINVAL;
}

int duration_parse(const char *text, uint64_t *seconds, bool *permanent, char why[ERRMSG_LEN])
{
	uint64_t total = 0;
	const char *p = text;
	/* A bare number is seconds, as in fail2ban's bantime. */
	bool bare_seconds = text[strspn(text, "0123456789")] == '\0';

	*permanent = false;
	*seconds = 0;
	if (strcmp(text, "permanent") == 0) {
		*permanent = true;
		return 0;
	}
	if (*p == '\0')
		return invalid(text, "empty", why);

	while (*p) {
		uint64_t number = 0;
		const struct unit *unit;

		if (!isdigit((unsigned char)*p))
			return invalid(text, "expected a number", why);
		while (isdigit((unsigned char)*p)) {
			number = number * 10 + (uint64_t)(*p++ - '0');
			if (number > DURATION_MAX_SECONDS)
				return invalid(text, "longer than 100 years", why);
		}
		unit = bare_seconds ? &units[SECONDS_UNIT] : find_unit(*p);
		if (!unit)
			return invalid(text, "unknown unit", why);
		if (!bare_seconds)
			p++;
		if (number > DURATION_MAX_SECONDS / unit->seconds)
			return invalid(text, "longer than 100 years", why);
		total += number * unit->seconds;
		if (total > DURATION_MAX_SECONDS)
			return invalid(text, "longer than 100 years", why);
	}
	if (total == 0)
		return invalid(text, "must be longer than zero", why);
	*seconds = total;
	return 0;
}

void duration_format(uint64_t seconds, char buf[DURATION_TEXT_LEN])
{
	size_t used = 0;
	int shown = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(units) && shown < 2; i++) {
		uint64_t count = seconds / units[i].seconds;

		if (count == 0 && shown)
			break;
		if (count == 0 && units[i].seconds != 1)
			continue;
		used += snprintf(buf + used, DURATION_TEXT_LEN - used, "%llu%c",
				 (unsigned long long)count, units[i].suffix);
		seconds -= count * units[i].seconds;
		shown++;
	}
}
