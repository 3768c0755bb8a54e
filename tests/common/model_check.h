/*
 * model_check.h: what the libdaos and libdfs system tests checked against an in-memory model
 * share: a seeded generator and CHECK (obj/obj_io_test.c, kv/kv_test.c, array/array_test.c,
 * dfs/dfs_file_test.c, dfs/dfs_ns_test.c), and the start and end of main for the first three,
 * which run as "PROG MGMT_ADDR [OPS]" with the pool and container of sys_pool_setup and print
 * "N operations, M failures". Include it from the one file of such a program: it defines the
 * program's generator state and failure count.
 */
#ifndef TESTS_MODEL_CHECK_H
#define TESTS_MODEL_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include <d_test.h>
#include <daos.h>

#include "sys_pool.h"

/* The generator (model_start seeds it: D_TEST_SEED or the clock) and the failures. */
static uint64_t rs;
static int failures;

/* Print a failure (file, line, formatted text) on stderr; give up after ten. */
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			if (++failures > 10)                                                       \
				exit(1);                                                           \
		}                                                                                  \
	} while (0)

/* A random number below @n. */
static inline uint32_t
rnd(uint32_t n)
{
	return (uint32_t)(d_test_rand(&rs) % n);
}

/*
 * The start of main: the usage line unless argv names MGMT_ADDR, the seed of test @name
 * (printed), then sys_pool_setup (*@poh, *@coh) and an event queue (*@eqh). Returns 0, or
 * what main returns: 2 for a usage error, 1 when the setup failed (printed).
 */
static inline int
model_start(int argc, char **argv, const char *name, daos_handle_t *poh, daos_handle_t *coh,
	    daos_handle_t *eqh)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s MGMT_ADDR [OPS]\n", argv[0]);
		return 2;
	}
	rs = d_test_rand_seed(d_test_seed(name));
	if (sys_pool_setup(argv[1], poh, coh) != 0 || daos_eq_create(eqh) != 0)
		return 1;
	return 0;
}

/* Open @nr S1 objects of @coh with oids 1..@nr in @oh; 0, or 1 when one failed (printed). */
static inline int
model_objs_open(daos_handle_t coh, daos_handle_t *oh, int nr)
{
	int i;
	int rc;

	for (i = 0; i < nr; i++) {
		daos_obj_id_t oid = {.lo = (uint64_t)i + 1};

		rc = daos_obj_generate_oid(coh, &oid, DAOS_OT_MULTI_HASHED, OC_S1, 0, 0);
		if (rc == 0)
			rc = daos_obj_open(coh, oid, DAOS_OO_RW, &oh[i], NULL);
		if (rc != 0) {
			fprintf(stderr, "object %d: %s\n", i, d_errstr(rc));
			return 1;
		}
	}
	return 0;
}

/* The end of main: destroy @eqh, sys_pool_teardown, print the count; main's exit status. */
static inline int
model_end(daos_handle_t poh, daos_handle_t coh, daos_handle_t eqh, long ops)
{
	daos_eq_destroy(eqh, 0);
	sys_pool_teardown(poh, coh);
	printf("%ld operations, %d failures\n", ops, failures);
	return failures == 0 ? 0 : 1;
}

#endif /* TESTS_MODEL_CHECK_H */
