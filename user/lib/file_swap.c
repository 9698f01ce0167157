// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE /* mkostemp */
#include "lib/file_swap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_swap_begin(struct file_swap *swap, const char *path, mode_t mode, char why[ERRMSG_LEN])
{
	int err;

	swap->path = path;
	swap->err = 0;
	if (snprintf(swap->temp, sizeof(swap->temp), "%s.XXXXXX", path) >=
	    (int)sizeof(swap->temp)) {
		errmsg(why, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	swap->fd = mkostemp(swap->temp, O_CLOEXEC);
	if (swap->fd < 0) {
		err = -errno;
		errmsg(why, "cannot create a file next to %s: %s", path, strerror(errno));
		return err;
	}
	if (fchmod(swap->fd, mode)) { /* mkostemp makes it 0600 */
		err = -errno;
		errmsg(why, "cannot set the mode of %s: %s", swap->temp, strerror(errno));
		close(swap->fd);
		unlink(swap->temp);
		return err;
	}
	return 0;
}

void file_swap_write(struct file_swap *swap, const void *data, size_t len)
{
	const char *p = data;

	while (!swap->err && len > 0) {
		ssize_t done = write(swap->fd, p, len);

		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0) {
			swap->err = -errno;
			return;
		}
		p += done;
		len -= (size_t)done;
	}
}

int file_swap_end(struct file_swap *swap, char why[ERRMSG_LEN])
{
	int err = swap->err;

	if (!err && fsync(swap->fd))
		err = -errno;
	if (close(swap->fd) && !err)
		err = -errno;
	if (!err && rename(swap->temp, swap->path))
		err = -errno;
	if (err) {
		errmsg(why, "cannot write %s: %s", swap->path, strerror(-err));
		unlink(swap->temp);
	}
	return err;
}
