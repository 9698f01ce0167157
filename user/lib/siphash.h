/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * SipHash-2-4 (Aumasson and Bernstein), a keyed hash: without the key an
 * attacker cannot predict outputs, so cannot craft names or addresses that
 * collide in a hash table. 64- and 128-bit outputs, as in the reference
 * implementation (the 128-bit variant is a different function, not the
 * 64-bit one twice).
 */
#ifndef XDPBAN_SIPHASH_H
#define XDPBAN_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1; /* the 16 key bytes, read little-endian */
};

/* Fills key from the kernel's random pool; returns 0 or -errno. */
int siphash_key_random(struct siphash_key *key);

uint64_t siphash64(const struct siphash_key *key, const void *data, size_t len);

/* out[0] holds output bytes 0-7, out[1] bytes 8-15, each little-endian. */
void siphash128(const struct siphash_key *key, const void *data, size_t len, uint64_t out[2]);

#endif
