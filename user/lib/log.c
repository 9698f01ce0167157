// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>

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

void log_say(enum log_level level, const char *fmt, ...)
{
	va_list args;

	if (level > threshold)
		return;
	fprintf(stderr, "xdpban[%s]: ", log_level_name(level));
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
}
