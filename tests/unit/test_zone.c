// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The rbldnsd datasets of the live bans, and their atomic replacement. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "unit.h"
#include "lib/cidr.h"
#include "peers/zone.h"

#define NOW_NS 1000000000000ULL

static struct ban_record ban(const char *cidr, uint64_t expires_ns)
{
	struct ban_record record = { .entry = { .expires_ns = expires_ns } };
	char why[ERRMSG_LEN];

	assert_int_equal(cidr_parse(cidr, &record.key, why), 0);
	record.entry.prefixlen = record.key.prefixlen;
	return record;
}

static void live_bans_go_to_their_dataset(void **state)
{
	const struct ban_record records[] = {
		ban("192.0.2.66", NOW_NS + 1),	    ban("198.51.100.0/24", 0), /* permanent */
		ban("203.0.113.9", NOW_NS), /* expired just now */
		ban("2001:db8::1", NOW_NS + 5),	    ban("2001:db8:1::/48", NOW_NS + 5),
		ban("2001:db8:2::/64", NOW_NS - 1), /* expired */
	};
	struct zone_text text;

	(void)state;
	assert_int_equal(zone_format(records, 6, NOW_NS, &text), 0);
	assert_string_equal(text.ip4,
			    "# xdpban: the live bans (rbldnsd ip4set dataset)\n" ZONE_LISTED_VALUE
			    "\n192.0.2.66\n198.51.100.0/24\n");
	assert_string_equal(text.ip6,
			    "# xdpban: the live bans (rbldnsd ip6trie dataset)\n" ZONE_LISTED_VALUE
			    "\n2001:db8::1\n2001:db8:1::/48\n");
	zone_text_free(&text);
}

static void no_bans_is_a_header_alone(void **state)
{
	struct zone_text text;

	(void)state;
	assert_int_equal(zone_format(NULL, 0, NOW_NS, &text), 0);
	assert_string_equal(
	    text.ip4, "# xdpban: the live bans (rbldnsd ip4set dataset)\n" ZONE_LISTED_VALUE "\n");
	zone_text_free(&text);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *file = fopen(path, "r");
	size_t n;

	assert_non_null(file);
	n = fread(buf, 1, sizeof(buf) - 1, file);
	buf[n] = '\0';
	fclose(file);
	return buf;
}

/* The old file stays whole until the new one takes its name; no temporary file is left. */
static void replace_is_a_rename_leaving_nothing_behind(void **state)
{
	char dir[] = "/tmp/xdpban-zone-XXXXXX", path[256], why[ERRMSG_LEN];
	struct stat st;
	ino_t before;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bans.ip4", dir);
	assert_int_equal(zone_replace(path, "first\n", why), 0);
	assert_int_equal(stat(path, &st), 0);
	before = st.st_ino;
	assert_int_equal(zone_replace(path, "second\n", why), 0);
	assert_string_equal(slurp(path), "second\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_not_equal(st.st_ino, before);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0); /* fails when a temporary file was left */
}

static void replace_names_the_path_it_cannot_write(void **state)
{
	char why[ERRMSG_LEN] = "";

	(void)state;
	assert_int_equal(zone_replace("/nonexistent-xdpban-dir/bans.ip4", "x\n", why), -ENOENT);
	assert_why_has(why, "/nonexistent-xdpban-dir/bans.ip4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(live_bans_go_to_their_dataset),
		cmocka_unit_test(no_bans_is_a_header_alone),
		cmocka_unit_test(replace_is_a_rename_leaving_nothing_behind),
		cmocka_unit_test(replace_names_the_path_it_cannot_write),
	};

	return cmocka_run_group_tests_name("zone", tests, NULL, NULL);
}
