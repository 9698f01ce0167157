// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Log lines: the first byte picks the parser (auto, dovecot, postfix, sshd,
 * exim, roundcube),
 * the rest is a log, fed line by line to one parser so its session tables
 * see sequences. Checked: what a record promises in detect/parser.h (a user name
 * without control bytes, valid UTF-8 and NUL-terminated; at least one
 * attempt; a known source and outcome).
 */
#include "fuzz.h"
#include <stdbool.h>
#include "detect/parser.h"

/* Strict UTF-8: no overlongs, no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(const unsigned char *s)
{
	while (*s) {
		unsigned int c = *s, n, cp;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (unsigned int i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		s += n + 1;
	}
	return true;
}

static void check_record(const struct log_record *r)
{
	const struct auth_event *e = &r->event;

	FUZZ_CHECK(r->source != LOG_SOURCE_AUTO && r->source < LOG_SOURCE_COUNT);
	FUZZ_CHECK(e->outcome == AUTH_FAIL || e->outcome == AUTH_OK);
	FUZZ_CHECK(e->attempts >= 1);
	FUZZ_CHECK(memchr(e->user, '\0', sizeof(e->user)));
	FUZZ_CHECK(memchr(e->service, '\0', sizeof(e->service)));
	FUZZ_CHECK(memchr(e->pwhash, '\0', sizeof(e->pwhash)));
	FUZZ_CHECK(memchr(r->timestamp, '\0', sizeof(r->timestamp)));
	for (const unsigned char *c = (const unsigned char *)e->user; *c; c++)
		FUZZ_CHECK(*c >= 0x20 && *c != 0x7f);
	FUZZ_CHECK(utf8_valid((const unsigned char *)e->user));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct parser *parsers[LOG_SOURCE_COUNT];
	struct log_record record;
	enum log_source source;

	if (size < 1)
		return 0;
	source = (enum log_source)(data[0] % LOG_SOURCE_COUNT);
	/* One parser per source for the whole run: its tables fill and wrap as in a daemon. */
	if (!parsers[source] && !(parsers[source] = parser_new(source)))
		abort();
	data++;
	size--;
	while (size) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t len = nl ? (size_t)(nl - data) + 1 : size;
		/* A heap copy of exactly the line, so ASan sees any read past its end. */
		char *line = malloc(len ? len : 1);

		if (!line)
			abort();
		memcpy(line, data, len);
		if (parser_line(parsers[source], line, len, &record) == 1)
			check_record(&record);
		free(line);
		data += len;
		size -= len;
	}
	return 0;
}
