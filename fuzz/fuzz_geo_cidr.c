// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * CIDR lists (ipdeny zones) through geo_read_cidr_list and geo_db_finish.
 * The input is "COUNTRY" FUZZ_PART_MARK "FILE": the country goes through
 * country_parse as `--country` does; when it is not a valid code, the
 * country comes from the file name "de.zone" instead. First byte: options.
 */
#include "fuzz_geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct geo_load_options options;
	struct fuzz_part parts[2];
	char why[ERRMSG_LEN], *country;
	size_t n;

	if (size < 1)
		return 0;
	fuzz_geo_options(data[0], &options);
	n = fuzz_split(data + 1, size - 1, parts, 2);
	if (n < 2) {
		fuzz_geo_read_one(geo_read_cidr_list, "de.zone", &options, parts[0].data,
				  parts[0].size);
		return 0;
	}
	country = fuzz_strdup(parts[0].data, parts[0].size);
	if (country_parse(country, why) >= 0)
		options.country = country;
	else
		FUZZ_CHECK(why[0] && memchr(why, '\0', sizeof(why)));
	fuzz_geo_read_one(geo_read_cidr_list, options.country ? "list.txt" : "de.zone", &options,
			  parts[1].data, parts[1].size);
	free(country);
	return 0;
}
