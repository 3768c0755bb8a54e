/*
 * shm_client.c: a libdaos client for the same-host shm test (test_shm.sh): object I/O that
 * the caller runs with D_PROVIDER=shm against engines started with DAOS_SHM=1.
 *
 *	shm_client MGMT_ADDR once|keep-eq|loop|restart|churn
 *
 * once: values of 1 B to 3 MiB (inline and by bulk) written to 4 objects, read back and
 * compared byte for byte, then a second round over the same keys with new data. loop: the
 * first round, then its values read back and compared until killed (prints "looping"
 * after the first round: the kill -9 test). restart:
 * one round, then "ready" on stdout and a wait for a line on stdin (the script restarts
 * the server meanwhile), then the values of the first round read back and a new round, each
 * operation retried for up to 90 s while the engines come back. churn: one round, "looping",
 * then the values read back over and over, each operation retried for up to 90 s, printing
 * "round N" after each pass, until the file named by $SHM_CLIENT_STOP exists (the script
 * kills and restarts the server meanwhile, test_shm_churn.sh); while a file of that name
 * plus ".pause" exists it waits between rounds, after printing "paused N". Prints "N operations,
 * M failures" and exits 0 when everything matched.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gurt/common.h>

#include "../common/model_check.h"

#define NOBJ 4
#define NVAL 12

static const size_t sizes[NVAL] = {
    1,        100,           4096,    4097,    16 << 10,      (16 << 10) + 1,
    64 << 10, (1 << 20) - 3, 1 << 20, 1 << 20, (1 << 20) + 5, 3 << 20};

static daos_handle_t oh[NOBJ];
static uint8_t *wbuf;
static uint8_t *rbuf;
static long ops;
static int retry_s; /* retry a failed operation for this long (restart mode) */

static void
fill(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t s = seed;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			s = d_test_rand(&s) ^ i;
		p[i] = (uint8_t)(s >> (8 * (i % 8)));
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Update (or fetch into rbuf) value @i of the key set, synchronously, with retries. */
static int
val_io(int i, bool update)
{
	uint64_t dkey = (uint64_t)i;
	daos_key_t dk;
	daos_iod_t iod = {0};
	daos_recx_t recx = {.rx_idx = 0, .rx_nr = sizes[i]};
	d_iov_t iov;
	d_sg_list_t sgl = {.sg_nr = 1, .sg_iovs = &iov};
	double end = now_s() + retry_s;
	int rc;

	d_iov_set(&dk, &dkey, sizeof(dkey));
	d_iov_set(&iod.iod_name, "v", 1);
	iod.iod_type = DAOS_IOD_ARRAY;
	iod.iod_size = 1;
	iod.iod_nr = 1;
	iod.iod_recxs = &recx;
	for (;;) {
		d_iov_set(&iov, update ? wbuf : rbuf, sizes[i]);
		sgl.sg_nr_out = 0;
		if (update)
			rc = daos_obj_update(oh[i % NOBJ], DAOS_TX_NONE, 0, &dk, 1, &iod, &sgl,
					     NULL);
		else
			rc = daos_obj_fetch(oh[i % NOBJ], DAOS_TX_NONE, 0, &dk, 1, &iod, &sgl, NULL,
					    NULL);
		ops++;
		if (rc == 0 || now_s() > end)
			return rc;
		fprintf(stderr, "%s %d: %s, retrying\n", update ? "update" : "fetch", i,
			d_errstr(rc));
		sleep(1);
	}
}

/* Write every value with data of @seed (unless @verify_only), then read back and compare. */
static void
round_run(uint64_t seed, bool verify_only)
{
	int i;
	int rc;

	for (i = 0; i < NVAL && !verify_only; i++) {
		fill(wbuf, sizes[i], seed + (uint64_t)i);
		rc = val_io(i, true);
		CHECK(rc == 0, "update %d (%zu B): %s", i, sizes[i], d_errstr(rc));
	}
	for (i = 0; i < NVAL; i++) {
		fill(wbuf, sizes[i], seed + (uint64_t)i);
		memset(rbuf, 0xee, sizes[i]);
		rc = val_io(i, false);
		CHECK(rc == 0, "fetch %d (%zu B): %s", i, sizes[i], d_errstr(rc));
		CHECK(rc != 0 || memcmp(wbuf, rbuf, sizes[i]) == 0, "fetch %d (%zu B): wrong data",
		      i, sizes[i]);
	}
}

int
main(int argc, char **argv)
{
	daos_handle_t poh;
	daos_handle_t coh;
	daos_handle_t eqh;
	const char *mode = argc > 2 ? argv[2] : "once";
	uint64_t seed;
	char line[16];
	int i;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s MGMT_ADDR once|keep-eq|loop|restart|churn\n", argv[0]);
		return 2;
	}
	rc = model_start(argc, argv, "shm_client", &poh, &coh, &eqh);
	if (rc != 0)
		return rc;
	if (model_objs_open(coh, oh, NOBJ) != 0)
		return 1;
	wbuf = malloc(3 << 20);
	rbuf = malloc(3 << 20);
	if (wbuf == NULL || rbuf == NULL)
		return 1;
	seed = d_test_rand(&rs);
	round_run(seed, false);
	if (strcmp(mode, "loop") == 0) {
		printf("looping\n");
		fflush(stdout);
		for (;;) /* reads only: rewrites would fill the test pool */
			round_run(seed, true);
	} else if (strcmp(mode, "churn") == 0) {
		const char *stop = getenv("SHM_CLIENT_STOP");
		long n = 0;

		if (stop == NULL) {
			fprintf(stderr, "churn: SHM_CLIENT_STOP unset\n");
			return 2;
		}
		printf("looping\n");
		fflush(stdout);
		retry_s = 90;
		char pause[PATH_MAX];

		snprintf(pause, sizeof(pause), "%s.pause", stop);
		while (access(stop, F_OK) != 0) {
			round_run(seed, true);
			printf("round %ld\n", ++n);
			fflush(stdout);
			if (access(pause, F_OK) != 0)
				continue;
			printf("paused %ld\n", n);
			fflush(stdout);
			while (access(pause, F_OK) == 0)
				usleep(20000);
		}
	} else if (strcmp(mode, "restart") == 0) {
		printf("ready\n");
		fflush(stdout);
		if (fgets(line, sizeof(line), stdin) == NULL)
			fprintf(stderr, "stdin closed: going on\n");
		retry_s = 90;
		round_run(seed, true); /* what was written before the restart */
		round_run(seed + 1000, false);
	} else {
		round_run(seed + 1000, false);
	}
	free(wbuf);
	free(rbuf);
	for (i = 0; i < NOBJ; i++)
		daos_obj_close(oh[i], NULL);
	/* keep-eq: as once, but the event queue is never destroyed: daos_fini must still
	 * close its net context, or its shm region stays in /dev/shm */
	if (strcmp(mode, "keep-eq") == 0)
		eqh = DAOS_HDL_INVAL;
	return model_end(poh, coh, eqh, ops);
}
