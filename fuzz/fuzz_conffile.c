// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon's config file (conf_parse: libinih and every key's value
 * parser). Checked: a rejected file says why, and an accepted one prints
 * (conf_dump, `xdpban run --check-config`) as a file that reads back to
 * the same printout, as conf/conf.h promises.
 */
#include "fuzz.h"
#include "conf/conf.h"

#define FUZZ_CONF_NAME "fuzz.conf"

/* The printout of conf; the caller frees it. */
static char *dump_text(const struct xdpban_conf *conf, size_t *len)
{
	char *text = NULL;
	FILE *out = open_memstream(&text, len);

	if (!out)
		abort();
	conf_dump(conf, out);
	fclose(out);
	return text;
}

static void check_reads_back(const struct xdpban_conf *conf)
{
	struct xdpban_conf *again = NULL;
	char why[ERRMSG_LEN] = "", *first, *second;
	size_t first_len, second_len;
	FILE *file;
	int err;

	first = dump_text(conf, &first_len);
	file = fuzz_stream((const uint8_t *)first, first_len);
	err = conf_parse(file, FUZZ_CONF_NAME, &again, why);
	fclose(file);
	if (err) {
		fprintf(stderr, "the printout does not read back: %s\n%s", why, first);
		abort();
	}
	second = dump_text(again, &second_len);
	if (first_len != second_len || memcmp(first, second, first_len)) {
		fprintf(stderr, "the printout reads back differently:\n%s\n----\n%s", first,
			second);
		abort();
	}
	conf_free(again);
	free(first);
	free(second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xdpban_conf *conf = NULL;
	char why[ERRMSG_LEN] = "";
	FILE *file = fuzz_stream(data, size);

	if (conf_parse(file, FUZZ_CONF_NAME, &conf, why) == 0) {
		check_reads_back(conf);
		conf_free(conf);
	} else {
		FUZZ_CHECK(why[0] && memchr(why, '\0', sizeof(why)));
		FUZZ_CHECK(!conf);
	}
	fclose(file);
	return 0;
}
