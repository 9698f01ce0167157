// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * RIR delegated statistics ("registry|cc|type|start|value|date|status")
 * through geo_read_rir and geo_db_finish. First byte: options.
 */
#include "fuzz_geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct geo_load_options options;

	if (size < 1)
		return 0;
	fuzz_geo_options(data[0], &options);
	fuzz_geo_read_one(geo_read_rir, "delegated-ripencc-extended-latest", &options, data + 1,
			  size - 1);
	return 0;
}
