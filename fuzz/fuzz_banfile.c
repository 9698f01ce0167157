// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Ban lists (`xdpban ban --file`): "ADDR[/LEN] [DURATION]" per line.
 * Checked: a file is all or nothing (an error leaves no requests), and
 * every request read is a key cidr_parse accepts as printed, with a
 * duration within bounds.
 */
#include "fuzz.h"
#include "lib/cidr.h"
#include "bans/banfile.h"
#include "lib/duration.h"

static void check_request(const struct ban_request *request)
{
	char text[CIDR_TEXT_LEN], why[ERRMSG_LEN];
	struct lpm_key again;

	cidr_format(&request->key, text);
	FUZZ_CHECK(cidr_parse(text, &again, why) == 0);
	FUZZ_CHECK(!memcmp(&again, &request->key, sizeof(again)));
	FUZZ_CHECK(request->permanent
		       ? request->seconds == 0
		       : request->seconds > 0 && request->seconds <= DURATION_MAX_SECONDS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ban_request *requests = NULL;
	char why[ERRMSG_LEN] = "";
	FILE *file;
	size_t count = 0;
	bool default_permanent;

	if (size < 1)
		return 0;
	/* The first byte picks the default: permanent, or an hour. */
	default_permanent = data[0] & 1;
	file = fuzz_stream(data + 1, size - 1);
	if (banfile_read(file, "bans.txt", default_permanent, default_permanent ? 0 : 3600,
			 &requests, &count, why) == 0) {
		for (size_t i = 0; i < count; i++)
			check_request(&requests[i]);
	} else {
		FUZZ_CHECK(why[0] && memchr(why, '\0', sizeof(why)));
	}
	free(requests);
	fclose(file);
	return 0;
}
