// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Durations as operators type them (duration_parse: CLI --for, ban files,
 * the config file). Checked: a parsed duration is within
 * DURATION_MAX_SECONDS and not zero unless permanent; its short form
 * (duration_format: the two most significant units) parses back to at most
 * the same number of seconds.
 */
#include "fuzz.h"
#include "lib/duration.h"

static void check_duration(uint64_t seconds, bool permanent)
{
	char text[DURATION_TEXT_LEN], why[ERRMSG_LEN];
	uint64_t again;
	bool again_permanent;

	if (permanent) {
		FUZZ_CHECK(seconds == 0);
		return;
	}
	FUZZ_CHECK(seconds <= DURATION_MAX_SECONDS);
	duration_format(seconds, text);
	FUZZ_CHECK(memchr(text, '\0', sizeof(text)));
	FUZZ_CHECK(duration_parse(text, &again, &again_permanent, why) == 0 || seconds == 0);
	if (seconds)
		FUZZ_CHECK(!again_permanent && again <= seconds && again > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);
	char why[ERRMSG_LEN];
	uint64_t seconds;
	bool permanent;

	if (duration_parse(text, &seconds, &permanent, why) == 0)
		check_duration(seconds, permanent);
	else
		FUZZ_CHECK(memchr(why, '\0', sizeof(why)) && why[0]);
	free(text);
	return 0;
}
