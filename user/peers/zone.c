// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE /* open_memstream */
#include "peers/zone.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "lib/cidr.h"
#include "lib/duration.h"
#include "lib/file_swap.h"

#define V4_MAPPED_BITS 96

static bool is_v4_mapped(const struct lpm_key *key)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return key->prefixlen >= V4_MAPPED_BITS && memcmp(key->addr, prefix, sizeof(prefix)) == 0;
}

/* One entry: "a.b.c.d", "a.b.c.d/N", "2001:db8::1" or "2001:db8::/N". */
static void print_entry(FILE *out, const struct lpm_key *key)
{
	char text[INET6_ADDRSTRLEN];

	if (is_v4_mapped(key)) {
		inet_ntop(AF_INET, key->addr + 12, text, sizeof(text));
		if (key->prefixlen == 128)
			fprintf(out, "%s\n", text);
		else
			fprintf(out, "%s/%u\n", text, key->prefixlen - V4_MAPPED_BITS);
		return;
	}
	inet_ntop(AF_INET6, key->addr, text, sizeof(text));
	if (key->prefixlen == 128)
		fprintf(out, "%s\n", text);
	else
		fprintf(out, "%s/%u\n", text, key->prefixlen);
}

static void print_header(FILE *out, const char *dataset)
{
	fprintf(out, "# xdpban: the live bans (rbldnsd %s dataset)\n%s\n", dataset,
		ZONE_LISTED_VALUE);
}

int zone_format(const struct ban_record *records, size_t count, uint64_t now_ns,
		struct zone_text *text)
{
	size_t len4 = 0, len6 = 0;
	FILE *ip4, *ip6;

	text->ip4 = text->ip6 = NULL;
	ip4 = open_memstream(&text->ip4, &len4);
	ip6 = open_memstream(&text->ip6, &len6);
	if (ip4 && ip6) {
		print_header(ip4, "ip4set");
		print_header(ip6, "ip6trie");
		for (size_t i = 0; i < count; i++) {
			const struct ban_entry *entry = &records[i].entry;

			if (ban_is_permanent(entry) || entry->expires_ns > now_ns)
				print_entry(is_v4_mapped(&records[i].key) ? ip4 : ip6,
					    &records[i].key);
		}
	}
	if (ip4)
		fclose(ip4);
	if (ip6)
		fclose(ip6);
	if (!ip4 || !ip6) {
		zone_text_free(text);
		return -ENOMEM;
	}
	return 0;
}

void zone_text_free(struct zone_text *text)
{
	free(text->ip4);
	free(text->ip6);
	text->ip4 = text->ip6 = NULL;
}

int zone_replace(const char *path, const char *content, char why[ERRMSG_LEN])
{
	struct file_swap swap;
	int err = file_swap_begin(&swap, path, 0644, why);

	if (err)
		return err;
	file_swap_write(&swap, content, strlen(content));
	return file_swap_end(&swap, why);
}

/* Writes content to path unless it is what *written holds; then *written is content. */
static int publish_one(const char *path, char **written, char *content, bool *changed,
		       char why[ERRMSG_LEN])
{
	int err;

	if (!path || !path[0] || (*written && strcmp(*written, content) == 0)) {
		free(content);
		return 0;
	}
	err = zone_replace(path, content, why);
	if (err) {
		free(content);
		return err;
	}
	free(*written);
	*written = content;
	*changed = true;
	return 0;
}

int zone_publish(struct zone_publisher *publisher, const struct maps *maps, char why[ERRMSG_LEN])
{
	struct ban_record *records = NULL;
	struct zone_text text;
	bool changed = false;
	size_t count = 0;
	int err = bans_list(maps, &records, &count, why);

	if (err)
		return err;
	err = zone_format(records, count, clock_now_ns(), &text);
	free(records);
	if (err) {
		errmsg(why, "out of memory for the DNSBL zone");
		return err;
	}
	err = publish_one(publisher->ip4_path, &publisher->ip4_written, text.ip4, &changed, why);
	if (err) {
		free(text.ip6);
		return err;
	}
	err = publish_one(publisher->ip6_path, &publisher->ip6_written, text.ip6, &changed, why);
	return err ? err : changed;
}

void zone_publisher_free(struct zone_publisher *publisher)
{
	free(publisher->ip4_written);
	free(publisher->ip6_written);
	publisher->ip4_written = publisher->ip6_written = NULL;
}
