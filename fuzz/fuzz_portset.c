// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Protected port lists (portset_parse: `xdpban ports set`, the config
 * file). Checked: port 0 is never in a set, and the formatted set parses
 * back to the same bitmap.
 */
#include "fuzz.h"
#include "lib/portset.h"

/* "1,3,5,...,65535": every other port, the longest text a set formats to. */
#define PORTSET_TEXT_MAX (65536 / 2 * 7)

static void check_set(const struct portset *set)
{
	static char text[PORTSET_TEXT_MAX];
	char why[ERRMSG_LEN];
	struct portset again;

	FUZZ_CHECK(!portset_has(set, 0) || set->all);
	portset_format(set, text, sizeof(text));
	FUZZ_CHECK(portset_parse(text, &again, why) == 0);
	FUZZ_CHECK(again.all == set->all);
	FUZZ_CHECK(!memcmp(again.bits, set->bits, sizeof(set->bits)));
	FUZZ_CHECK(set->all || portset_count(&again) == portset_count(set));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);
	char why[ERRMSG_LEN];
	struct portset set;

	if (portset_parse(text, &set, why) == 0)
		check_set(&set);
	else
		FUZZ_CHECK(memchr(why, '\0', sizeof(why)) && why[0]);
	free(text);
	return 0;
}
