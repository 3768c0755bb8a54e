/*
 * now_ms.h: the monotonic clock in milliseconds, for the deadlines of system test programs
 * (async_test, svc_call_test). Header only.
 */
#ifndef TESTS_NOW_MS_H
#define TESTS_NOW_MS_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif /* TESTS_NOW_MS_H */
