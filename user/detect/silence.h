/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A parser that stops matching says so. A server upgrade that changes its
 * log format leaves the log full of lines from the programs xdpban reads,
 * in which no parser recognises anything: the defence is off, silently.
 * Per source, this counts the lines that look like authentication lines
 * (parser_looks_like_auth) since the last outcome recognised, and says once
 * when many have come over a long time without one.
 */
#ifndef XDPBAN_SILENCE_H
#define XDPBAN_SILENCE_H

#include <stdbool.h>
#include <stdint.h>

#define SILENCE_LINES	100  /* lines that look like authentication lines ... */
#define SILENCE_SECONDS 3600 /* ... over at least this long, and none recognised */

struct silence {
	uint64_t lines;	    /* that looked like authentication lines, since the last outcome */
	uint64_t since_ns;  /* when the first of them came; 0: none yet */
	uint64_t after_ns;  /* how long before warning */
	uint64_t min_lines; /* how many before warning */
	bool warned;	    /* said so; cleared by the next outcome */
	uint64_t auth_like; /* every line that looked like one, for the counters */
};

/* after_s: 0 for SILENCE_SECONDS; min_lines: 0 for SILENCE_LINES. */
void silence_init(struct silence *s, uint64_t after_s, uint64_t min_lines);

enum silence_news {
	SILENCE_NO_NEWS,
	SILENCE_BEGAN, /* the source has gone silent: warn once, naming it */
	SILENCE_ENDED, /* an outcome again, after a warning */
};

/*
 * One line read: whether it looked like an authentication line, whether a
 * parser recognised an outcome in it.
 */
enum silence_news silence_line(struct silence *s, bool auth_like, bool recognised, uint64_t now_ns);

#endif
