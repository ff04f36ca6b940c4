/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the fuzz targets share.  A target NAME is a function
 * fuzz_NAME(data, size) in one of tests/fuzz/fuzz_*.c; the Makefile's
 * FUZZ_TARGETS lists them and passes the list in as FUZZ_TARGET_LIST
 * (X(name) X(name) ...), from which the prototypes below, the replayer's
 * table and one libFuzzer binary per target are made.
 */
#ifndef AFSMBD_FUZZ_H
#define AFSMBD_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include "codec.h"

#ifndef FUZZ_TARGET_LIST
#error "build through tests/fuzz/Makefile: FUZZ_TARGET_LIST comes from FUZZ_TARGETS"
#endif

#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "invariant failed: %s at %s:%d\n",	\
			#cond, __FILE__, __LINE__);			\
		abort();						\
	}								\
} while (0)

#define X(name) void fuzz_##name(const u8 *data, size_t size);
FUZZ_TARGET_LIST
#undef X

/*
 * A random input for the replayer's seeded mode: a valid message of some
 * kind with a few bits flipped, or noise.  @rng is the generator state.
 */
size_t fuzz_random_input(u8 *buf, size_t cap, u64 *rng);

#endif /* AFSMBD_FUZZ_H */
