/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers shared by the libFuzzer targets in this folder (see README.md).
 *
 * Inputs that carry several parts (a MaxMind Locations file and a Blocks
 * file, a policy request's command, key and body) separate them with
 * FUZZ_PART_MARK, a line of four dashes: easy to write in a seed, and never
 * in the middle of anything the parsers read.
 *
 * A broken invariant aborts through FUZZ_CHECK, so libFuzzer saves the input
 * as a crash like any sanitizer report.
 */
#ifndef XDPBAN_FUZZ_H
#define XDPBAN_FUZZ_H

#define _GNU_SOURCE /* memmem, fmemopen, open_memstream; before any system header */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_PART_MARK "\n----\n"

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* One part of an input: a slice of the fuzzer's buffer, not NUL-terminated. */
struct fuzz_part {
	const uint8_t *data;
	size_t size;
};

/*
 * Cuts the input at FUZZ_PART_MARK into at most max parts; the last part
 * keeps any further marks. Returns how many parts there are (>= 1).
 */
static inline size_t fuzz_split(const uint8_t *data, size_t size, struct fuzz_part *parts,
				size_t max)
{
	const size_t mark_len = sizeof(FUZZ_PART_MARK) - 1;
	size_t n = 0;

	while (n + 1 < max) {
		const uint8_t *mark = memmem(data, size, FUZZ_PART_MARK, mark_len);

		if (!mark)
			break;
		parts[n++] = (struct fuzz_part){ data, (size_t)(mark - data) };
		size -= (size_t)(mark - data) + mark_len;
		data = mark + mark_len;
	}
	parts[n++] = (struct fuzz_part){ data, size };
	return n;
}

/* A NUL-terminated copy (what C-string parsers get from argv or a config value). */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

/*
 * The bytes as a read-only stream, as the file readers get a file. An empty
 * part reads as an empty file (fmemopen refuses a zero-sized buffer).
 */
static inline FILE *fuzz_stream(const uint8_t *data, size_t size)
{
	FILE *file = size ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");

	if (!file)
		abort();
	return file;
}

#endif
