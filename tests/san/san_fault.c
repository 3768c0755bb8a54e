/*
 * san_fault.c: a program that commits one sanitizer-visible fault on request, for
 * test_san_wrap.sh (the check that tests/common/san_wrap.sh fails a test when any process
 * under it reports). Built only with cmake -DD_SANITIZE=ON.
 *
 *   san_fault leak|overflow|ub|bigalloc|none   (exit 0 when the fault did not stop it)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;

/* Drop the only pointer to a block, from a frame that is gone by the leak check. */
static __attribute__((noinline)) void
leak(void)
{
	sink = malloc(77);
	sink = NULL;
}

int
main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "none";

	if (strcmp(what, "leak") == 0) {
		leak();
	} else if (strcmp(what, "overflow") == 0) {
		char *p = malloc(8);
		volatile int i = 8;

		p[i] = 1;
		free(p);
	} else if (strcmp(what, "ub") == 0) {
		volatile int big = 0x7fffffff;

		big = big + argc;
		printf("%d\n", big);
	} else if (strcmp(what, "bigalloc") == 0) {
		/* with allocator_may_return_null=1: a warning, malloc returns NULL */
		sink = malloc((size_t)1 << 41);
		if (sink != NULL)
			return 1;
	} else if (strcmp(what, "none") != 0) {
		fprintf(stderr, "usage: %s leak|overflow|ub|bigalloc|none\n", argv[0]);
		return 2;
	}
	return 0;
}
