// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/text.h"

#include <string.h>

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void text_copy_clean(char *dst, size_t size, const char *src, size_t n)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t out = 0, i = 0;

	while (i < n) {
		size_t len = utf8_len(p + i, n - i);

		if (len == 0 || (len == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			if (out + 1 >= size)
				break;
			dst[out++] = '?';
			i++;
			continue;
		}
		if (out + len >= size)
			break;
		memcpy(dst + out, p + i, len);
		out += len;
		i += len;
	}
	dst[out] = '\0';
}
