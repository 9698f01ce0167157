// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "bans/banfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cidr.h"
#include "lib/duration.h"

static char *strip_comment_and_space(char *line)
{
	char *hash = strchr(line, '#');
	char *end;

	if (hash)
		*hash = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	end = line + strlen(line);
	while (end > line && strchr(" \t\r\n", end[-1]))
		*--end = '\0';
	return line;
}

/* Parses one non-empty line into req. */
static int parse_line(char *line, struct ban_request *req, char why[ERRMSG_LEN])
{
	char *saveptr = NULL;
	char *prefix = strtok_r(line, " \t", &saveptr);
	char *duration = strtok_r(NULL, " \t", &saveptr);
	char *extra = strtok_r(NULL, " \t", &saveptr);
	int err;

	if (extra) {
		errmsg(why, "unexpected '%s' after the duration", extra);
		return -EINVAL;
	}
	err = cidr_parse(prefix, &req->key, why);
	if (err || !duration)
		return err;
	return duration_parse(duration, &req->seconds, &req->permanent, why);
}

static int append(struct ban_request **requests, size_t *count, size_t *capacity,
		  const struct ban_request *req)
{
	if (*count == *capacity) {
		size_t grown_capacity = *capacity ? *capacity * 2 : 1024;
		struct ban_request *grown = realloc(*requests, grown_capacity * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		*requests = grown;
		*capacity = grown_capacity;
	}
	(*requests)[(*count)++] = *req;
	return 0;
}

int banfile_read(FILE *file, const char *name, bool default_permanent, uint64_t default_seconds,
		 struct ban_request **requests_out, size_t *count_out, char why[ERRMSG_LEN])
{
	struct ban_request *requests = NULL;
	size_t count = 0, capacity = 0, line_len = 0;
	char *line = NULL, reason[ERRMSG_LEN];
	unsigned long line_no = 0;
	int err = 0;

	while (!err && getline(&line, &line_len, file) != -1) {
		struct ban_request req = { .permanent = default_permanent,
					   .seconds = default_seconds };
		char *text = strip_comment_and_space(line);

		line_no++;
		if (*text == '\0')
			continue;
		err = parse_line(text, &req, reason);
		if (err) {
			errmsg(why, "%s:%lu: %s", name, line_no, reason);
			break;
		}
		err = append(&requests, &count, &capacity, &req);
		if (err)
			errmsg(why, "%s:%lu: out of memory", name, line_no);
	}
	if (!err && ferror(file)) {
		err = -EIO;
		errmsg(why, "%s: read error", name);
	}
	free(line);
	if (err) {
		free(requests);
		return err;
	}
	*requests_out = requests;
	*count_out = count;
	return 0;
}
