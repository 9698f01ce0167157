// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include "lib/clock.h"

const char *const log_level_names[LOG_LEVELS] = { "error", "warning", "info", "debug" };

static enum log_level threshold = LOG_LEVEL_INFO;

const char *log_level_name(enum log_level level)
{
	return (unsigned int)level < LOG_LEVELS ? log_level_names[level] : "?";
}

void log_set_level(enum log_level level)
{
	threshold = level;
}

#define LINE_MAX_LEN 2048 /* longer messages are cut */

/*
 * The line is made whole, then written with one write(2): stderr has no
 * buffer, so each piece printed was a system call of its own (a fifth of
 * the event loop's time in a flood of bans), and threads' lines could mix.
 */
static void say(enum log_level level, unsigned long held, const char *fmt, va_list args)
{
	char line[LINE_MAX_LEN];
	int used, n;

	if (level > threshold)
		return;
	used = snprintf(line, sizeof(line), "xdpban[%s]: ", log_level_name(level));
	n = vsnprintf(line + used, sizeof(line) - (size_t)used, fmt, args);
	used += n > 0 ? n : 0;
	if (held && used < (int)sizeof(line))
		used +=
		    snprintf(line + used, sizeof(line) - (size_t)used, " (%lu more since)", held);
	if (used >= (int)sizeof(line) - 1)
		used = (int)sizeof(line) - 2;
	line[used++] = '\n';
	fwrite(line, 1, (size_t)used, stderr);
}

void log_say(enum log_level level, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	say(level, 0, fmt, args);
	va_end(args);
}

void log_limited(struct log_limit *limit, unsigned int interval_s, enum log_level level,
		 const char *fmt, ...)
{
	uint64_t now = clock_now_ns();
	va_list args;

	if (limit->said_ns && now - limit->said_ns < interval_s * NSEC_PER_SEC) {
		limit->held++;
		return;
	}
	va_start(args, fmt);
	say(level, limit->held, fmt, args);
	va_end(args);
	limit->said_ns = now;
	limit->held = 0;
}
