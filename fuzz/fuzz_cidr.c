// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Addresses and prefixes as the CLI, ban files and the config file take them
 * (cidr_parse). Checked: a parsed key has no host bits set, prints to text
 * that parses back to the same key, and is not a prefix covering all of IPv4.
 */
#include "fuzz.h"
#include "lib/cidr.h"

static void check_roundtrip(const struct lpm_key *key)
{
	char text[CIDR_TEXT_LEN], why[ERRMSG_LEN];
	struct lpm_key again;

	cidr_format(key, text);
	FUZZ_CHECK(memchr(text, '\0', sizeof(text)));
	FUZZ_CHECK(cidr_parse(text, &again, why) == 0);
	FUZZ_CHECK(again.prefixlen == key->prefixlen);
	FUZZ_CHECK(!memcmp(again.addr, key->addr, sizeof(key->addr)));
	FUZZ_CHECK(cidr_compare(key, &again) == 0);
}

static void check_key(const struct lpm_key *key)
{
	struct addr_key host;
	struct lpm_key as_host;

	FUZZ_CHECK(key->prefixlen <= ADDR_LEN * 8);
	FUZZ_CHECK(cidr_is_ipv4(key->addr) ? key->prefixlen >= 96 : key->prefixlen > 0);
	/* The prefix holds its own first address, and only a full-length key is a host. */
	cidr_to_addr_key(&host, key);
	cidr_from_addr_key(&as_host, &host);
	FUZZ_CHECK(cidr_contains(key, &as_host));
	FUZZ_CHECK(cidr_is_host(key) == (key->prefixlen == ADDR_LEN * 8));
	check_roundtrip(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);
	char why[ERRMSG_LEN];
	struct lpm_key key;

	if (cidr_parse(text, &key, why) == 0)
		check_key(&key);
	else
		FUZZ_CHECK(memchr(why, '\0', sizeof(why)) && why[0]);
	free(text);
	return 0;
}
