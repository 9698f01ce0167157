// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "detect/silence.h"

#include <string.h>

void silence_init(struct silence *s, uint64_t after_s, uint64_t min_lines)
{
	memset(s, 0, sizeof(*s));
	s->after_ns = (after_s ? after_s : SILENCE_SECONDS) * 1000000000ull;
	s->min_lines = min_lines ? min_lines : SILENCE_LINES;
}

enum silence_news silence_line(struct silence *s, bool auth_like, bool recognised, uint64_t now_ns)
{
	if (recognised) {
		bool was_warned = s->warned;

		s->lines = 0;
		s->since_ns = 0;
		s->warned = false;
		if (auth_like)
			s->auth_like++;
		return was_warned ? SILENCE_ENDED : SILENCE_NO_NEWS;
	}
	if (!auth_like)
		return SILENCE_NO_NEWS;
	s->auth_like++;
	if (s->lines++ == 0)
		s->since_ns = now_ns;
	if (s->warned || s->lines < s->min_lines || now_ns - s->since_ns < s->after_ns)
		return SILENCE_NO_NEWS;
	s->warned = true;
	return SILENCE_BEGAN;
}
