// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * An LD_PRELOAD shim for the e2e tests: open() of the path in XB_FAIL_OPEN
 * fails with EMFILE while the file XB_FAIL_FLAG exists, as it would when a
 * flood of connections has taken every descriptor; with XB_FAIL_SKIP=N, the
 * first N such opens still succeed (a failure part way through a command).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*open_fn)(const char *, int, ...);

static int failing(const char *path)
{
	const char *target = getenv("XB_FAIL_OPEN"), *flag = getenv("XB_FAIL_FLAG");
	const char *skip = getenv("XB_FAIL_SKIP");
	static long opened;

	if (!target || !flag || strcmp(path, target) != 0 || access(flag, F_OK) != 0)
		return 0;
	return !skip || opened++ >= atol(skip);
}

static int call(const char *name, const char *path, int flags, mode_t mode)
{
	open_fn real = (open_fn)dlsym(RTLD_NEXT, name);

	if (failing(path)) {
		errno = EMFILE;
		return -1;
	}
	return real(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	return call("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	return call("open64", path, flags, mode);
}
