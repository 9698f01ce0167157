// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tor-geoipdb files ("FIRST,LAST,CC": IPv4 as integers, IPv6 as text)
 * through geo_read_tor and geo_db_finish. First byte: options.
 */
#include "fuzz_geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct geo_load_options options;

	if (size < 1)
		return 0;
	fuzz_geo_options(data[0], &options);
	/* Bit 1 picks the IPv6 file's name (the reader takes either format from either). */
	fuzz_geo_read_one(geo_read_tor, data[0] & 2 ? "geoip6" : "geoip", &options, data + 1,
			  size - 1);
	return 0;
}
