/* Shared by the fuzz targets (tests/fuzz/fuzz_*.c): libFuzzer's entry
 * point, and the check every target uses for its invariants.  The same
 * target files build two ways: with clang and libFuzzer by
 * tests/fuzz/run.sh, and with replay.c by `make check`, which runs the
 * seed corpus and the saved regressions through them. */
#ifndef FRONTD_FUZZ_H
#define FRONTD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a finding like a crash: say which, then abort so
 * that libFuzzer saves the input and the replay marks it "not ok". */
#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, \
		        __LINE__, #cond); \
		abort(); \
	} \
} while (0)

#endif
