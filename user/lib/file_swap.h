/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Replacing a file whole (the country database, a DNSBL zone): written to a
 * temporary file next to it, synced, and renamed over it, so a reader (the
 * next xdpban, rbldnsd) sees the old content or the new, never half of one,
 * even after a crash.
 */
#ifndef XDPBAN_FILE_SWAP_H
#define XDPBAN_FILE_SWAP_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>
#include "lib/errmsg.h"

struct file_swap {
	const char *path;
	char temp[PATH_MAX];
	int fd;
	int err; /* the first write error */
};

/* Creates the temporary file with mode; 0, or -errno with the reason in why. */
int file_swap_begin(struct file_swap *swap, const char *path, mode_t mode, char why[ERRMSG_LEN]);

/* Appends len bytes; an error is kept for file_swap_end(). */
void file_swap_write(struct file_swap *swap, const void *data, size_t len);

/*
 * Syncs, closes and renames the file over path when every write went well;
 * otherwise removes it and leaves path as it was. 0, or -errno with the
 * reason in why.
 */
int file_swap_end(struct file_swap *swap, char why[ERRMSG_LEN]);

#endif
