// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "serve/policy_key.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_BYTES 32

static int make_key(const char *path, char key[POLICY_KEY_LEN], char why[ERRMSG_LEN])
{
	unsigned char bytes[KEY_BYTES];
	size_t got = 0;
	int fd, err = 0;

	while (got < sizeof(bytes)) {
		ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);

		if (n < 0 && errno != EINTR) {
			errmsg(why, "policy key: getrandom: %s", strerror(errno));
			return -errno;
		}
		if (n > 0)
			got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(bytes); i++)
		snprintf(key + 2 * i, 3, "%02x", bytes[i]);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		errmsg(why, "cannot create the policy key %s: %s", path, strerror(errno));
		return err;
	}
	if (write(fd, key, 2 * KEY_BYTES) != 2 * KEY_BYTES || fsync(fd)) {
		err = errno ? -errno : -EIO;
		errmsg(why, "cannot write the policy key %s: %s", path, strerror(-err));
		unlink(path);
	}
	close(fd);
	return err;
}

static int refuse(const char *path, const char *what, char why[ERRMSG_LEN])
{
	errmsg(why, "policy key %s: %s; remove it (a new one is made) or set [policy] api_key",
	       path, what);
	return -EINVAL;
}

static int read_key(int fd, const char *path, char key[POLICY_KEY_LEN], char why[ERRMSG_LEN])
{
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st))
		return refuse(path, strerror(errno), why);
	if (!S_ISREG(st.st_mode))
		return refuse(path, "not a regular file", why);
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return refuse(path, "group or others may read it (chmod 600)", why);
	n = read(fd, key, POLICY_KEY_LEN - 1);
	if (n < 0)
		return refuse(path, strerror(errno), why);
	key[n] = '\0';
	if (n == 0)
		return refuse(path, "empty", why);
	for (ssize_t i = 0; i < n; i++)
		if (key[i] <= ' ' || key[i] > '~')
			return refuse(path, "not one printable word (a newline?)", why);
	return 0;
}

int policy_key_load(const char *state_dir, char key[POLICY_KEY_LEN], bool *made,
		    char why[ERRMSG_LEN])
{
	char path[PATH_MAX];
	int fd, err;

	*made = false;
	snprintf(path, sizeof(path), "%s/%s", state_dir, POLICY_KEY_FILE);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		mkdir(state_dir, 0700); /* the store makes it too; whichever is first */
		err = make_key(path, key, why);
		*made = !err;
		return err;
	}
	if (fd < 0)
		return refuse(path, strerror(errno), why);
	err = read_key(fd, path, key, why);
	close(fd);
	return err;
}
