// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Every fuzz target's checked-in inputs, replayed without libFuzzer: the
 * seeds (fuzz/corpus/TARGET/) and the inputs that once crashed a parser
 * (fuzz/regressions/TARGET/), through the same code and the same
 * invariants as under `make fuzz`, built here with gcc and no sanitizer. A
 * broken invariant aborts, which fails this test, naming the input.
 *
 * Each target is included with its entry point renamed, so one binary holds
 * them all. Runs from the repository's root, as tests/run-all.sh does.
 */
#define LLVMFuzzerTestOneInput fuzz_banfile_one
#include "../../fuzz/fuzz_banfile.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_cidr_one
#include "../../fuzz/fuzz_cidr.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_conffile_one
#include "../../fuzz/fuzz_conffile.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_duration_one
#include "../../fuzz/fuzz_duration.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_geo_cidr_one
#include "../../fuzz/fuzz_geo_cidr.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_geo_maxmind_one
#include "../../fuzz/fuzz_geo_maxmind.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_geo_rir_one
#include "../../fuzz/fuzz_geo_rir.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_geo_tor_one
#include "../../fuzz/fuzz_geo_tor.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_logparse_one
#include "../../fuzz/fuzz_logparse.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_portset_one
#include "../../fuzz/fuzz_portset.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_policy_one
#include "../../fuzz/fuzz_policy.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_policy_http_one
#include "../../fuzz/fuzz_policy_http.c"
#undef LLVMFuzzerTestOneInput

#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <setjmp.h>
#include <unistd.h>
#include <cmocka.h>
#include "unit.h"

typedef int (*fuzz_one_fn)(const uint8_t *data, size_t size);

static const struct {
	const char *name;
	fuzz_one_fn one;
} targets[] = {
	{ "fuzz_banfile", fuzz_banfile_one },	{ "fuzz_cidr", fuzz_cidr_one },
	{ "fuzz_conffile", fuzz_conffile_one }, { "fuzz_duration", fuzz_duration_one },
	{ "fuzz_geo_cidr", fuzz_geo_cidr_one }, { "fuzz_geo_maxmind", fuzz_geo_maxmind_one },
	{ "fuzz_geo_rir", fuzz_geo_rir_one },	{ "fuzz_geo_tor", fuzz_geo_tor_one },
	{ "fuzz_logparse", fuzz_logparse_one }, { "fuzz_portset", fuzz_portset_one },
	{ "fuzz_policy", fuzz_policy_one },	{ "fuzz_policy_http", fuzz_policy_http_one },
};

/* The input being replayed, for the message when it aborts. */
static char current[512];

static void name_input(int sig)
{
	static const char prefix[] = "test_fuzz_replay: aborted on ";

	(void)sig;
	if (write(STDERR_FILENO, prefix, sizeof(prefix) - 1) < 0 ||
	    write(STDERR_FILENO, current, strlen(current)) < 0 || write(STDERR_FILENO, "\n", 1) < 0)
		_exit(1);
	signal(SIGABRT, SIG_DFL);
}

static uint8_t *read_input(const char *path, size_t *size)
{
	FILE *file = fopen(path, "rb");
	uint8_t *data;
	long len;

	if (!file)
		fail_msg("%s: cannot open", path);
	fseek(file, 0, SEEK_END);
	len = ftell(file);
	rewind(file);
	data = malloc(len > 0 ? (size_t)len : 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)len, file), (size_t)len);
	fclose(file);
	*size = (size_t)len;
	return data;
}

/* Runs every file of dir through one; returns how many. A missing dir has none. */
static unsigned int replay_dir(const char *dir, fuzz_one_fn one)
{
	struct dirent *entry;
	unsigned int count = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((entry = readdir(d))) {
		uint8_t *data;
		size_t size;

		if (entry->d_name[0] == '.')
			continue;
		snprintf(current, sizeof(current), "%s/%s", dir, entry->d_name);
		data = read_input(current, &size);
		one(data, size);
		free(data);
		count++;
	}
	closedir(d);
	return count;
}

static void replay_all(void **state)
{
	unsigned int seeds = 0, regressions = 0;

	(void)state;
	signal(SIGABRT, name_input);
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
		char dir[256];
		unsigned int target_seeds, target_regressions;

		snprintf(dir, sizeof(dir), "fuzz/corpus/%s", targets[i].name);
		target_seeds = replay_dir(dir, targets[i].one);
		if (target_seeds == 0)
			fail_msg("%s: no seeds (run from the repository's root)", dir);
		snprintf(dir, sizeof(dir), "fuzz/regressions/%s", targets[i].name);
		target_regressions = replay_dir(dir, targets[i].one);
		printf("%-18s %u seeds, %u regressions\n", targets[i].name, target_seeds,
		       target_regressions);
		seeds += target_seeds;
		regressions += target_regressions;
	}
	printf("replayed %u seeds and %u regression inputs\n", seeds, regressions);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replay_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
