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

static void say(enum log_level level, unsigned long held, const char *fmt, va_list args)
{
	if (level > threshold)
		return;
	flockfile(stderr);
	fprintf(stderr, "xdpban[%s]: ", log_level_name(level));
	vfprintf(stderr, fmt, args);
	if (held)
		fprintf(stderr, " (%lu more since)", held);
	fputc('\n', stderr);
	funlockfile(stderr);
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
