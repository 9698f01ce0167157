// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void errmsg(char why[ERRMSG_LEN], const char *fmt, ...)
{
	static const char cut[] = "...";
	va_list args;
	int len;

	va_start(args, fmt);
	len = vsnprintf(why, ERRMSG_LEN, fmt, args);
	va_end(args);
	if (len >= ERRMSG_LEN)
		memcpy(why + ERRMSG_LEN - sizeof(cut), cut, sizeof(cut));
}
