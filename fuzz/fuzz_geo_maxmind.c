// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * MaxMind GeoLite2 Country CSV: "LOCATIONS" FUZZ_PART_MARK "BLOCKS", the
 * Locations file read first (as geo_load_files does), then the Blocks file
 * joined with it, then geo_db_finish. First byte: options.
 */
#include "fuzz_geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct geo_locations locations = { 0 };
	struct geo_load_report report = { 0 };
	struct geo_load_options options;
	struct fuzz_part parts[2] = { 0 };
	char why[ERRMSG_LEN] = "";
	struct geo_db db;
	FILE *file;

	if (size < 1)
		return 0;
	fuzz_geo_options(data[0], &options);
	fuzz_split(data + 1, size - 1, parts, 2);
	geo_db_init(&db);

	file = fuzz_stream(parts[0].data, parts[0].size);
	if (geo_read_maxmind_locations(&locations, file, "GeoLite2-Country-Locations-en.csv",
				       &options, &report, why))
		FUZZ_CHECK(why[0] && memchr(why, '\0', sizeof(why)));
	fclose(file);

	file = fuzz_stream(parts[1].data, parts[1].size);
	why[0] = '\0';
	if (geo_read_maxmind_blocks(&db, &locations, file, "GeoLite2-Country-Blocks-IPv4.csv",
				    &options, &report, why))
		FUZZ_CHECK(why[0] && memchr(why, '\0', sizeof(why)));
	fclose(file);

	fuzz_geo_check_report(&report);
	fuzz_geo_finish(&db);
	geo_locations_free(&locations);
	return 0;
}
