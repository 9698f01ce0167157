/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Addresses as 128-bit integers (IPv4 as ::ffff:a.b.c.d, as the maps keep
 * them): comparing, adding one and splitting into prefixes are then single
 * operations, which is what makes normalising the world geo database
 * (about 660,000 ranges) take milliseconds.
 */
#ifndef XDPBAN_U128_H
#define XDPBAN_U128_H

#include <endian.h>
#include <string.h>
#include "xdpban_maps.h"

typedef unsigned __int128 u128;

#define U128_MAX (~(u128)0)

static inline u128 u128_from_addr(const __u8 addr[ADDR_LEN])
{
	__u64 high, low;

	memcpy(&high, addr, sizeof(high));
	memcpy(&low, addr + sizeof(high), sizeof(low));
	return (u128)be64toh(high) << 64 | be64toh(low);
}

static inline void u128_to_addr(u128 value, __u8 addr[ADDR_LEN])
{
	__u64 high = htobe64((__u64)(value >> 64)), low = htobe64((__u64)value);

	memcpy(addr, &high, sizeof(high));
	memcpy(addr + sizeof(high), &low, sizeof(low));
}

/*
 * The host part of a prefix of this length: all ones below the network
 * bits. A /0 is every bit (1 << 128 is undefined, so it is said apart), a
 * /128 none.
 */
static inline u128 u128_host_mask(unsigned int prefixlen)
{
	if (prefixlen == 0)
		return U128_MAX;
	return prefixlen >= 128 ? 0 : ((u128)1 << (128 - prefixlen)) - 1;
}

#endif
