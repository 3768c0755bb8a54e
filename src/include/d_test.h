/*
 * d_test.h: helpers shared by the unit tests (header-only, tests only).
 */
#ifndef D_TEST_H
#define D_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/*
 * The seed of a randomised test: $D_TEST_SEED if set, otherwise derived from the time.
 * Printed, so that a failing run can be replayed with D_TEST_SEED=<seed>.
 */
static inline unsigned int
d_test_seed(const char *test)
{
	const char *env = getenv("D_TEST_SEED");
	unsigned int seed;

	if (env != NULL)
		seed = (unsigned int)strtoul(env, NULL, 0);
	else
		seed = (unsigned int)time(NULL) ^ ((unsigned int)getpid() << 16);
	printf("%s: seed %u (replay with D_TEST_SEED=%u)\n", test, seed, seed);
	return seed;
}

/* xorshift64*: a small fast PRNG with per-test state (rand() is shared and slow). */
static inline uint64_t
d_test_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t
d_test_rand_seed(unsigned int seed)
{
	return ((uint64_t)seed << 32 | seed) ^ 0x9E3779B97F4A7C15ULL;
}

#endif /* D_TEST_H */
