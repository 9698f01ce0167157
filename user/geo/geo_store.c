// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "geo/geo_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/file_swap.h"

#define GEO_STORE_MAGIC	  "XDPBGEO"
#define GEO_STORE_VERSION 1

/* The file: this header, then prefix_count struct geo_prefix records. */
struct geo_store_header {
	char magic[8];
	uint32_t version;
	uint32_t record_size; /* sizeof(struct geo_prefix): a layout check */
	uint64_t prefix_count;
	uint64_t ipv4_prefix_count;
};

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t done = read(fd, p, len);

		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return -errno;
		if (done == 0)
			return -EPROTO; /* truncated */
		p += done;
		len -= (size_t)done;
	}
	return 0;
}

int geo_store_save(const char *state_dir, const struct geo_db *db, char why[ERRMSG_LEN])
{
	struct geo_store_header header = {
		.magic = GEO_STORE_MAGIC,
		.version = GEO_STORE_VERSION,
		.record_size = sizeof(struct geo_prefix),
		.prefix_count = db->prefix_count,
		.ipv4_prefix_count = db->ipv4_prefix_count,
	};
	struct file_swap swap;
	char path[PATH_MAX];
	int err;

	if (mkdir(state_dir, 0755) && errno != EEXIST) {
		err = -errno;
		errmsg(why, "cannot create state directory %s: %s", state_dir, strerror(errno));
		return err;
	}
	snprintf(path, sizeof(path), "%s/%s", state_dir, GEO_STORE_FILE);
	err = file_swap_begin(&swap, path, 0644, why);
	if (err)
		return err;
	file_swap_write(&swap, &header, sizeof(header));
	file_swap_write(&swap, db->prefixes, db->prefix_count * sizeof(*db->prefixes));
	return file_swap_end(&swap, why);
}

static int check_header(const struct geo_store_header *header, off_t file_size, const char *path,
			char why[ERRMSG_LEN])
{
	uint64_t expected;

	if (memcmp(header->magic, GEO_STORE_MAGIC, sizeof(header->magic)) ||
	    header->version != GEO_STORE_VERSION ||
	    header->record_size != sizeof(struct geo_prefix)) {
		errmsg(why, "%s was written by another xdpban version: run 'xdpban geo load' again",
		       path);
		return -EPROTO;
	}
	expected = sizeof(*header) + header->prefix_count * sizeof(struct geo_prefix);
	if (header->ipv4_prefix_count > header->prefix_count || (uint64_t)file_size != expected) {
		errmsg(why, "%s is damaged (size %lld, expected %llu): run 'xdpban geo load' again",
		       path, (long long)file_size, (unsigned long long)expected);
		return -EPROTO;
	}
	return 0;
}

int geo_store_load(const char *state_dir, struct geo_db *db, char why[ERRMSG_LEN])
{
	struct geo_store_header header;
	char path[PATH_MAX];
	struct stat st;
	int fd, err;

	geo_db_init(db);
	snprintf(path, sizeof(path), "%s/%s", state_dir, GEO_STORE_FILE);
	/* A link planted in the state directory is not followed (the store refuses one too). */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (errno == ELOOP)
			errmsg(why, "%s: a symbolic link, refusing to follow it (remove it)", path);
		else if (errno == ENOENT)
			errmsg(why,
			       "no country database is loaded (%s does not exist): "
			       "run 'xdpban geo load' first",
			       path);
		else
			errmsg(why, "cannot open %s: %s", path, strerror(errno));
		return err;
	}
	err = fstat(fd, &st) ? -errno : read_all(fd, &header, sizeof(header));
	if (err)
		errmsg(why, "cannot read %s: %s", path, strerror(-err));
	else
		err = check_header(&header, st.st_size, path, why);
	if (!err) {
		db->prefixes = calloc(header.prefix_count + 1, sizeof(*db->prefixes));
		err = db->prefixes
			  ? read_all(fd, db->prefixes, header.prefix_count * sizeof(*db->prefixes))
			  : -ENOMEM;
		if (err)
			errmsg(why, "cannot read %s: %s", path, strerror(-err));
	}
	close(fd);
	if (err) {
		geo_db_free(db);
		return err;
	}
	db->prefix_count = header.prefix_count;
	db->ipv4_prefix_count = header.ipv4_prefix_count;
	db->finished = true;
	geo_db_count_countries(db);
	return 0;
}
