/*
 * sysctl_io.c: a libdaos client for the system stop/start test: writes, reads back or probes
 * an object spread over every target of a pool (class SX), so that a stopped rank is on its
 * path whichever ranks are stopped.
 *
 *	sysctl_io POOL CONT put|get NDKEYS [SEED]
 *
 * put creates container CONT (a label) if needed and writes NDKEYS dkeys, each with a 4 KiB
 * single value made from SEED and the dkey; get reads them back and compares. Prints one
 * line "ok: ..." or "error: <what>: <DER name>" and exits 0 or 1 (2: usage).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daos.h>

#define VAL_LEN 4096

static void
fill(uint8_t *buf, uint64_t seed, long d)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + (uint64_t)d * 0xbf58476d1ce4e5b9ULL + 1;
	int i;

	for (i = 0; i < VAL_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
}

static int
fail(const char *what, int rc)
{
	printf("error: %s: %s (%d)\n", what, d_errstr(rc), rc);
	return 1;
}

int
main(int argc, char **argv)
{
	daos_obj_id_t oid = {.lo = 7, .hi = 0};
	daos_handle_t poh, coh, oh;
	uint8_t buf[VAL_LEN], want[VAL_LEN];
	char dk[32], ak[] = "v";
	uint64_t seed;
	bool put;
	long nd, d;
	int rc;

	if (argc < 5 || (strcmp(argv[3], "put") != 0 && strcmp(argv[3], "get") != 0)) {
		fprintf(stderr, "usage: %s POOL CONT put|get NDKEYS [SEED]\n", argv[0]);
		return 2;
	}
	put = strcmp(argv[3], "put") == 0;
	nd = strtol(argv[4], NULL, 0);
	seed = argc > 5 ? strtoull(argv[5], NULL, 0) : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = daos_init();
	if (rc != 0)
		return fail("daos_init", rc);
	rc = daos_pool_connect(argv[1], NULL, DAOS_PC_RW, &poh, NULL, NULL);
	if (rc != 0)
		return fail("pool connect", rc);
	if (put) {
		rc = daos_cont_create_with_label(poh, argv[2], NULL, NULL, NULL);
		if (rc != 0 && rc != -DER_EXIST)
			return fail("container create", rc);
	}
	rc = daos_cont_open(poh, argv[2], DAOS_COO_RW, &coh, NULL, NULL);
	if (rc != 0)
		return fail("container open", rc);
	rc = daos_obj_generate_oid(coh, &oid, DAOS_OT_MULTI_HASHED, OC_SX, 0, 0);
	if (rc == 0)
		rc = daos_obj_open(coh, oid, DAOS_OO_RW, &oh, NULL);
	if (rc != 0)
		return fail("object open", rc);
	for (d = 0; d < nd; d++) {
		daos_key_t dkey;
		daos_iod_t iod = {0};
		d_sg_list_t sgl;
		d_iov_t iov;

		snprintf(dk, sizeof(dk), "dkey-%ld", d);
		d_iov_set(&dkey, dk, strlen(dk));
		d_iov_set(&iod.iod_name, ak, 1);
		iod.iod_type = DAOS_IOD_SINGLE;
		iod.iod_nr = 1;
		fill(want, seed, d);
		if (put) {
			iod.iod_size = VAL_LEN;
			d_iov_set(&iov, want, VAL_LEN);
		} else {
			iod.iod_size = DAOS_REC_ANY;
			memset(buf, 0, sizeof(buf));
			d_iov_set(&iov, buf, VAL_LEN);
		}
		sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
		if (put)
			rc = daos_obj_update(oh, DAOS_TX_NONE, 0, &dkey, 1, &iod, &sgl, NULL);
		else
			rc = daos_obj_fetch(oh, DAOS_TX_NONE, 0, &dkey, 1, &iod, &sgl, NULL, NULL);
		if (rc != 0) {
			snprintf(dk, sizeof(dk), "%s dkey %ld", put ? "update" : "fetch", d);
			return fail(dk, rc);
		}
		if (!put && (iod.iod_size != VAL_LEN || memcmp(buf, want, VAL_LEN) != 0)) {
			printf("error: dkey %ld: %" PRIu64 " bytes, data %s\n", d, iod.iod_size,
			       memcmp(buf, want, VAL_LEN) == 0 ? "equal" : "differ");
			return 1;
		}
	}
	daos_obj_close(oh, NULL);
	daos_cont_close(coh, NULL);
	daos_pool_disconnect(poh, NULL);
	daos_fini();
	printf("ok: %s %ld dkeys\n", put ? "wrote" : "read back", nd);
	return 0;
}
