// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const __u8 ipv4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool cidr_any_contains(const struct lpm_key *prefixes, size_t count, const struct lpm_key *host)
{
	for (size_t i = 0; i < count; i++) {
		if (cidr_contains(&prefixes[i], host))
			return true;
	}
	return false;
}

bool cidr_is_ipv4(const __u8 addr[ADDR_LEN])
{
	return memcmp(addr, ipv4_mapped_prefix, sizeof(ipv4_mapped_prefix)) == 0;
}

static bool key_is_ipv4(const struct lpm_key *key)
{
	return key->prefixlen >= IPV4_MAPPED_PREFIXLEN && cidr_is_ipv4(key->addr);
}

bool cidr_is_host(const struct lpm_key *key)
{
	return key->prefixlen == ADDR_LEN * 8;
}

bool cidr_contains(const struct lpm_key *prefix, const struct lpm_key *host)
{
	unsigned int bytes = prefix->prefixlen / 8, bits = prefix->prefixlen % 8;

	if (memcmp(prefix->addr, host->addr, bytes))
		return false;
	return bits == 0 || ((prefix->addr[bytes] ^ host->addr[bytes]) & (0xff00 >> bits)) == 0;
}

void cidr_to_addr_key(struct addr_key *addr, const struct lpm_key *key)
{
	memcpy(addr->addr, key->addr, ADDR_LEN);
}

void cidr_from_addr_key(struct lpm_key *key, const struct addr_key *addr)
{
	key->prefixlen = ADDR_LEN * 8;
	memcpy(key->addr, addr->addr, ADDR_LEN);
}

static bool host_bits_set(const __u8 addr[ADDR_LEN], unsigned int prefixlen)
{
	for (unsigned int bit = prefixlen; bit < ADDR_LEN * 8; bit++) {
		if (addr[bit / 8] & (0x80 >> (bit % 8)))
			return true;
	}
	return false;
}

static void clear_host_bits(__u8 addr[ADDR_LEN], unsigned int prefixlen)
{
	for (unsigned int bit = prefixlen; bit < ADDR_LEN * 8; bit++)
		addr[bit / 8] &= ~(0x80 >> (bit % 8));
}

/* IPv4 lives at ::ffff:0:0/96, so a short IPv6 prefix like ::/0 would include it. */
static bool covers_all_ipv4(const struct lpm_key *key)
{
	__u8 mapped_network[ADDR_LEN] = { 0 };

	if (key->prefixlen >= IPV4_MAPPED_PREFIXLEN)
		return false; /* inside ::ffff:0:0/96: an IPv4 range written as IPv6 */
	memcpy(mapped_network, ipv4_mapped_prefix, sizeof(ipv4_mapped_prefix));
	clear_host_bits(mapped_network, key->prefixlen);
	return memcmp(mapped_network, key->addr, ADDR_LEN) == 0;
}

/* Parses the text after '/': a decimal number no larger than max. */
static int parse_prefixlen(const char *text, unsigned int max, unsigned int *len,
			   char why[ERRMSG_LEN])
{
	char *end;
	unsigned long value;

	if (*text < '0' || *text > '9') {
		snprintf(why, ERRMSG_LEN, "prefix length '%s' is not a number", text);
		return -EINVAL;
	}
	errno = 0;
	value = strtoul(text, &end, 10);
	if (*end != '\0') {
		snprintf(why, ERRMSG_LEN, "prefix length '%s' is not a number", text);
		return -EINVAL;
	}
	if (errno || value > max) {
		snprintf(why, ERRMSG_LEN, "prefix length %s out of range 0-%u", text, max);
		return -EINVAL;
	}
	*len = value;
	return 0;
}

static int parse_address(const char *text, struct lpm_key *key, bool *ipv4)
{
	struct in_addr v4;

	if (inet_pton(AF_INET, text, &v4) == 1) {
		memcpy(key->addr, ipv4_mapped_prefix, sizeof(ipv4_mapped_prefix));
		memcpy(&key->addr[12], &v4, 4);
		*ipv4 = true;
		return 0;
	}
	if (inet_pton(AF_INET6, text, key->addr) == 1) {
		*ipv4 = false;
		return 0;
	}
	return -EINVAL;
}

int cidr_parse(const char *text, struct lpm_key *key, char why[ERRMSG_LEN])
{
	char address[CIDR_TEXT_LEN];
	const char *slash = strchr(text, '/');
	size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);
	char reason[ERRMSG_LEN];
	unsigned int len, max;
	bool ipv4;
	int err;

	memset(key, 0, sizeof(*key));
	if (addr_len == 0 || addr_len >= sizeof(address)) {
		snprintf(why, ERRMSG_LEN, "'%s' is not an IPv4 or IPv6 address", text);
		return -EINVAL;
	}
	memcpy(address, text, addr_len);
	address[addr_len] = '\0';
	if (parse_address(address, key, &ipv4)) {
		snprintf(why, ERRMSG_LEN, "'%s' is not an IPv4 or IPv6 address", address);
		return -EINVAL;
	}

	max = ipv4 ? 32 : 128;
	len = max;
	if (slash) {
		err = parse_prefixlen(slash + 1, max, &len, reason);
		if (err) {
			errmsg(why, "'%s': %s", text, reason);
			return err;
		}
	}
	key->prefixlen = ipv4 ? IPV4_MAPPED_PREFIXLEN + len : len;

	if (host_bits_set(key->addr, key->prefixlen)) {
		struct lpm_key network = *key;
		char suggestion[CIDR_TEXT_LEN];

		clear_host_bits(network.addr, network.prefixlen);
		cidr_format(&network, suggestion);
		snprintf(why, ERRMSG_LEN, "'%s' has host bits set (the network is %s)", text,
			 suggestion);
		return -EINVAL;
	}
	if (!ipv4 && covers_all_ipv4(key)) {
		snprintf(why, ERRMSG_LEN,
			 "'%s' would also cover every IPv4 address (::ffff:0:0/96); "
			 "give IPv4 and IPv6 ranges separately",
			 text);
		return -EINVAL;
	}
	return 0;
}

void cidr_format(const struct lpm_key *key, char buf[CIDR_TEXT_LEN])
{
	char text[INET6_ADDRSTRLEN];
	unsigned int len = key->prefixlen;

	if (key_is_ipv4(key)) {
		inet_ntop(AF_INET, &key->addr[12], text, sizeof(text));
		len -= IPV4_MAPPED_PREFIXLEN;
	} else {
		inet_ntop(AF_INET6, key->addr, text, sizeof(text));
	}
	if (cidr_is_host(key))
		snprintf(buf, CIDR_TEXT_LEN, "%s", text);
	else
		snprintf(buf, CIDR_TEXT_LEN, "%s/%u", text, len);
}

static int compare_keys(const void *a, const void *b)
{
	return cidr_compare(a, b);
}

size_t cidr_sort_unique(struct lpm_key *keys, size_t count)
{
	size_t kept = 0;

	qsort(keys, count, sizeof(*keys), compare_keys);
	for (size_t i = 0; i < count; i++) {
		if (kept == 0 || cidr_compare(&keys[kept - 1], &keys[i]) != 0)
			keys[kept++] = keys[i];
	}
	return kept;
}

int cidr_compare(const struct lpm_key *a, const struct lpm_key *b)
{
	bool a4 = key_is_ipv4(a), b4 = key_is_ipv4(b);
	int order;

	if (a4 != b4)
		return a4 ? -1 : 1;
	order = memcmp(a->addr, b->addr, ADDR_LEN);
	if (order)
		return order;
	return (a->prefixlen > b->prefixlen) - (a->prefixlen < b->prefixlen);
}
