// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/siphash.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

int siphash_key_random(struct siphash_key *key)
{
	uint8_t bytes[16];
	size_t got = 0;

	while (got < sizeof(bytes)) {
		ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	memcpy(&key->k0, bytes, 8);
	memcpy(&key->k1, bytes + 8, 8);
	key->k0 = le64toh(key->k0);
	key->k1 = le64toh(key->k1);
	return 0;
}

static inline uint64_t rotl(uint64_t x, unsigned int b)
{
	return (x << b) | (x >> (64 - b));
}

struct sipstate {
	uint64_t v0, v1, v2, v3;
};

static inline void sipround(struct sipstate *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

/* Initialisation and compression of every input byte (c = 2 rounds per word). */
static inline void sip_absorb(struct sipstate *s, const struct siphash_key *key, const void *data,
			      size_t len, int wide)
{
	const uint8_t *in = data;
	const uint8_t *end = in + (len & ~(size_t)7);
	uint64_t m, b = (uint64_t)len << 56;
	size_t left = len & 7;

	s->v0 = 0x736f6d6570736575ULL ^ key->k0;
	s->v1 = 0x646f72616e646f6dULL ^ key->k1;
	s->v2 = 0x6c7967656e657261ULL ^ key->k0;
	s->v3 = 0x7465646279746573ULL ^ key->k1;
	if (wide)
		s->v1 ^= 0xee;
	for (; in != end; in += 8) {
		memcpy(&m, in, 8);
		m = le64toh(m);
		s->v3 ^= m;
		sipround(s);
		sipround(s);
		s->v0 ^= m;
	}
	for (size_t i = 0; i < left; i++)
		b |= (uint64_t)in[i] << (8 * i);
	s->v3 ^= b;
	sipround(s);
	sipround(s);
	s->v0 ^= b;
	s->v2 ^= wide ? 0xee : 0xff;
}

/* Finalisation: d = 4 rounds per output word. */
static inline uint64_t sip_squeeze(struct sipstate *s)
{
	sipround(s);
	sipround(s);
	sipround(s);
	sipround(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint64_t siphash64(const struct siphash_key *key, const void *data, size_t len)
{
	struct sipstate s;

	sip_absorb(&s, key, data, len, 0);
	return sip_squeeze(&s);
}

void siphash128(const struct siphash_key *key, const void *data, size_t len, uint64_t out[2])
{
	struct sipstate s;

	sip_absorb(&s, key, data, len, 1);
	out[0] = sip_squeeze(&s);
	s.v1 ^= 0xdd;
	out[1] = sip_squeeze(&s);
}
