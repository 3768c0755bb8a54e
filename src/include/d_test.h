/*
 * d_test.h: helpers shared by the unit tests (header-only, tests only).
 */
#ifndef D_TEST_H
#define D_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/*
 * One random mutation of the @*len bytes at @buf (capacity @cap), as the fuzz replays apply
 * to their stored corpus: a flipped bit, a truncation, random bytes appended, a huge 32-bit
 * value at an aligned offset, a random byte, or a run of zeroes.
 */
static inline void
d_test_mutate(uint8_t *buf, size_t *len, size_t cap, uint64_t *rnd)
{
	uint64_t r = d_test_rand(rnd);
	size_t n = *len;

	switch (r % 6) {
	case 0:
		if (n > 0)
			buf[d_test_rand(rnd) % n] ^= (uint8_t)(1U << (r >> 8) % 8);
		break;
	case 1:
		*len = n == 0 ? 0 : d_test_rand(rnd) % n;
		break;
	case 2:
		while (*len < cap && *len < n + 1 + (r >> 8) % 64)
			buf[(*len)++] = (uint8_t)d_test_rand(rnd);
		break;
	case 3:
		if (n >= 4) {
			size_t off = (d_test_rand(rnd) % (n - 3)) & ~(size_t)3;

			memset(buf + off, 0xff, 4);
		}
		break;
	case 4:
		if (n > 0)
			buf[d_test_rand(rnd) % n] = (uint8_t)(r >> 16);
		break;
	default:
		if (n > 0) {
			size_t off = d_test_rand(rnd) % n;

			memset(buf + off, 0, (n - off) < 8 ? n - off : 8);
		}
		break;
	}
}

#endif /* D_TEST_H */
