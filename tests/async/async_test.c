/*
 * async_test.c: every libdaos call given an event completes asynchronously (pool and
 * container calls over the service, KV, Array), against a real daos_server and daos_agent,
 * for tests/async/test_async.sh.
 *
 *	async_test POOL_LABEL SERVER_PID NTARGETS
 *
 * (a) With the server stopped (SIGSTOP), daos_cont_query, daos_pool_query, daos_kv_put and
 *     a daos_array_write spanning chunks, each with an event, return 0 within 100 ms and
 *     their events are not done; after SIGCONT, polling completes each with the right
 *     result, and the data read back matches the model.
 * (b) 64 operations in flight on one queue (container attributes, KV puts, Array writes),
 *     then 64 reading them back (attribute gets, KV gets, Array reads), all checked.
 * (c) Failing calls (a container label that does not exist, a conditional get of a missing
 *     key) report their error through ev_error, not the return value; connect with an
 *     event fills the handle and the info before the event completes; set_size and
 *     get_size chained on events.
 * Prints "ok: ..." / "FAIL: ..." and exits 0 when every check passed. Whatever happens, the
 * server is continued (SIGCONT) before exiting.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <daos.h>
#include <daos_array.h>
#include <daos_kv.h>

#include "../common/now_ms.h"
#include "../common/ok_check.h"

static pid_t srv_pid;

#define NOPS 64
#define NATTR 16
#define NKV 24
#define NARR 24
#define CELL 1
#define CHUNK 1024
/* each array op: this many bytes at its own offset, spanning chunks */
#define ASPAN 3000
#define VLEN 300

static void
srv_continue(void)
{
	if (srv_pid > 0)
		kill(srv_pid, SIGCONT);
}

/* Has every thread of @pid stopped (state T in /proc/PID/task/TID/stat)? */
static bool
all_stopped(pid_t pid)
{
	char path[320];
	char line[512];
	struct dirent *de;
	DIR *d;
	bool all = true;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (d == NULL)
		return false;
	while (all && (de = readdir(d)) != NULL) {
		char *p;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue; /* a thread that exited */
		if (fgets(line, sizeof(line), f) != NULL) {
			p = strrchr(line, ')');
			all = p != NULL && (p[2] == 'T' || p[2] == 't');
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return all && n > 0;
}

/* SIGSTOP @pid and wait until all its threads stopped (the signal acts asynchronously). */
static int
stop_server(pid_t pid)
{
	uint64_t end = now_ms() + 10000;

	if (kill(pid, SIGSTOP) != 0)
		return -1;
	while (!all_stopped(pid)) {
		if (now_ms() > end)
			return -1;
		usleep(1000);
	}
	return 0;
}

/* Poll @eqh until the @n events of @evs completed (or 60 s); how many did. */
static int
poll_all(daos_handle_t eqh, daos_event_t *evs, int n)
{
	uint64_t end = now_ms() + 60000;
	daos_event_t *got[NOPS];
	int done = 0;
	int rc;
	int i;

	while (done < n && now_ms() < end) {
		rc = daos_eq_poll(eqh, 1, 1000 * 1000, NOPS, got);
		if (rc < 0) {
			printf("daos_eq_poll: %d\n", rc);
			return done;
		}
		for (i = 0; i < rc; i++)
			if (got[i] >= evs && got[i] < evs + n)
				done++;
	}
	return done;
}

static void
fill(uint8_t *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* (a) */
static void
test_stopped(daos_handle_t eqh, daos_handle_t poh, daos_handle_t coh, daos_handle_t kvh,
	     daos_handle_t ah, const uuid_t cuuid, unsigned int ntargets)
{
	static uint8_t val[VLEN], got[VLEN], data[ASPAN], back[ASPAN];
	daos_event_t evs[4];
	daos_cont_info_t cinfo;
	daos_pool_info_t pinfo = {.pi_bits = DPI_SPACE};
	daos_range_t rg = {.rg_idx = 100, .rg_len = ASPAN};
	daos_array_iod_t iod = {.arr_nr = 1, .arr_rgs = &rg};
	d_sg_list_t sgl;
	d_iov_t iov;
	const char *what[4] = {"daos_cont_query", "daos_pool_query", "daos_kv_put",
			       "daos_array_write"};
	uint64_t t[4];
	daos_size_t size;
	bool flag;
	int rc[4];
	int i, n, rc2;

	for (i = 0; i < 4; i++)
		daos_event_init(&evs[i], eqh, NULL);
	fill(val, sizeof(val), 1);
	fill(data, sizeof(data), 2);
	d_iov_set(&iov, data, sizeof(data));
	sgl.sg_nr = 1;
	sgl.sg_nr_out = 0;
	sgl.sg_iovs = &iov;
	memset(&cinfo, 0, sizeof(cinfo));

	/* the queue's network context is created by its first call: a local cost, not timed */
	rc2 = daos_cont_query(coh, &cinfo, NULL, &evs[0]);
	n = poll_all(eqh, evs, 1);
	CHECK(rc2 == 0 && n == 1 && evs[0].ev_error == 0, "a first call on the queue: %d/%d", rc2,
	      evs[0].ev_error);

	if (stop_server(srv_pid) != 0) {
		CHECK(0, "SIGSTOP the server: %s", strerror(errno));
		return;
	}
	t[0] = now_ms();
	rc[0] = daos_cont_query(coh, &cinfo, NULL, &evs[0]);
	t[0] = now_ms() - t[0];
	t[1] = now_ms();
	rc[1] = daos_pool_query(poh, NULL, &pinfo, NULL, &evs[1]);
	t[1] = now_ms() - t[1];
	t[2] = now_ms();
	rc[2] = daos_kv_put(kvh, DAOS_TX_NONE, 0, "stopped", sizeof(val), val, &evs[2]);
	t[2] = now_ms() - t[2];
	t[3] = now_ms();
	rc[3] = daos_array_write(ah, DAOS_TX_NONE, &iod, &sgl, &evs[3]);
	t[3] = now_ms() - t[3];
	for (i = 0; i < 4; i++) {
		flag = true;
		rc2 = daos_event_test(&evs[i], DAOS_EQ_NOWAIT, &flag);
		CHECK(rc[i] == 0 && t[i] < 100 && rc2 == 0 && !flag,
		      "server stopped: %s returned %d after %" PRIu64 " ms, not done (%d, %s)",
		      what[i], rc[i], t[i], rc2, flag ? "done" : "running");
	}
	/* still nothing after a while: the answer needs the server */
	usleep(200 * 1000);
	n = daos_eq_poll(eqh, 0, DAOS_EQ_NOWAIT, 4, (daos_event_t *[4]){0});
	CHECK(n == 0, "server stopped: nothing completes (%d polled)", n);
	kill(srv_pid, SIGCONT);

	n = poll_all(eqh, evs, 4);
	CHECK(n == 4, "after SIGCONT: %d of 4 completed", n);
	CHECK(evs[0].ev_error == 0 && uuid_compare(cinfo.ci_uuid, cuuid) == 0,
	      "cont_query completed: %d, the container's uuid", evs[0].ev_error);
	CHECK(evs[1].ev_error == 0 && pinfo.pi_ntargets == ntargets &&
		  pinfo.pi_space.ps_space.s_total[DAOS_MEDIA_SCM] > 0,
	      "pool_query completed: %d, %u targets, scm %" PRIu64, evs[1].ev_error,
	      pinfo.pi_ntargets, pinfo.pi_space.ps_space.s_total[DAOS_MEDIA_SCM]);
	CHECK(evs[2].ev_error == 0, "kv_put completed: %d", evs[2].ev_error);
	CHECK(evs[3].ev_error == 0, "array_write completed: %d", evs[3].ev_error);

	size = sizeof(got);
	memset(got, 0, sizeof(got));
	rc2 = daos_kv_get(kvh, DAOS_TX_NONE, 0, "stopped", &size, got, NULL);
	CHECK(rc2 == 0 && size == sizeof(val) && memcmp(got, val, sizeof(val)) == 0,
	      "the put value reads back: %d, %" PRIu64 " bytes", rc2, (uint64_t)size);
	d_iov_set(&iov, back, sizeof(back));
	memset(back, 0, sizeof(back));
	rc2 = daos_array_read(ah, DAOS_TX_NONE, &iod, &sgl, NULL);
	CHECK(rc2 == 0 && memcmp(back, data, sizeof(data)) == 0,
	      "the written array range reads back: %d", rc2);
	for (i = 0; i < 4; i++)
		daos_event_fini(&evs[i]);
}

/* (b) */
static void
test_many(daos_handle_t eqh, daos_handle_t coh, daos_handle_t kvh, daos_handle_t ah)
{
	static daos_event_t evs[NOPS];
	static char names[NATTR][16];
	static uint8_t vals[NATTR][32], gvals[NATTR][32];
	static uint8_t kvals[NKV][VLEN], kgot[NKV][VLEN];
	static uint8_t adata[NARR][ASPAN], aback[NARR][ASPAN];
	static daos_range_t rgs[NARR];
	static daos_array_iod_t iods[NARR];
	static d_sg_list_t sgls[NARR];
	static d_iov_t iovs[NARR];
	static char keys[NKV][16];
	const char *np[NATTR];
	const void *vp[NATTR];
	void *gp[NATTR];
	size_t sizes[NATTR], gsizes[NATTR];
	daos_size_t ksizes[NKV];
	int rcs[NOPS];
	int i, n, bad;

	for (i = 0; i < NOPS; i++)
		daos_event_init(&evs[i], eqh, NULL);
	for (i = 0; i < NATTR; i++) {
		snprintf(names[i], sizeof(names[i]), "attr%02d", i);
		fill(vals[i], sizeof(vals[i]), 100 + i);
		np[i] = names[i];
		vp[i] = vals[i];
		sizes[i] = sizeof(vals[i]) - (size_t)i; /* sizes differ */
	}
	for (i = 0; i < NKV; i++) {
		snprintf(keys[i], sizeof(keys[i]), "key%02d", i);
		fill(kvals[i], sizeof(kvals[i]), 200 + i);
	}
	for (i = 0; i < NARR; i++) {
		fill(adata[i], sizeof(adata[i]), 300 + i);
		/* disjoint ranges, each across 3 or 4 chunks */
		rgs[i].rg_idx = 10000 + (daos_off_t)i * 4000 + (daos_off_t)i * 37;
		rgs[i].rg_len = ASPAN;
		iods[i].arr_nr = 1;
		iods[i].arr_rgs = &rgs[i];
		d_iov_set(&iovs[i], adata[i], ASPAN);
		sgls[i].sg_nr = 1;
		sgls[i].sg_iovs = &iovs[i];
	}

	/* 64 writes in flight */
	for (i = 0; i < NATTR; i++)
		rcs[i] = daos_cont_set_attr(coh, 1, &np[i], &vp[i], &sizes[i], &evs[i]);
	for (i = 0; i < NKV; i++)
		rcs[NATTR + i] = daos_kv_put(kvh, DAOS_TX_NONE, 0, keys[i], VLEN - (size_t)i,
					     kvals[i], &evs[NATTR + i]);
	for (i = 0; i < NARR; i++)
		rcs[NATTR + NKV + i] =
		    daos_array_write(ah, DAOS_TX_NONE, &iods[i], &sgls[i], &evs[NATTR + NKV + i]);
	for (i = 0, bad = 0; i < NOPS; i++)
		bad += rcs[i] != 0;
	n = poll_all(eqh, evs, NOPS);
	for (i = 0; i < NOPS; i++)
		bad += evs[i].ev_error != 0;
	CHECK(n == NOPS && bad == 0,
	      "64 writes in flight (16 set_attr, 24 kv_put, 24 array_write): "
	      "%d completed, %d failed",
	      n, bad);

	/* 64 reads in flight */
	for (i = 0; i < NATTR; i++) {
		gp[i] = gvals[i];
		gsizes[i] = sizeof(gvals[i]);
		memset(gvals[i], 0, sizeof(gvals[i]));
		rcs[i] = daos_cont_get_attr(coh, 1, &np[i], &gp[i], &gsizes[i], &evs[i]);
	}
	for (i = 0; i < NKV; i++) {
		ksizes[i] = VLEN;
		memset(kgot[i], 0, VLEN);
		rcs[NATTR + i] = daos_kv_get(kvh, DAOS_TX_NONE, 0, keys[i], &ksizes[i], kgot[i],
					     &evs[NATTR + i]);
	}
	for (i = 0; i < NARR; i++) {
		memset(aback[i], 0, ASPAN);
		d_iov_set(&iovs[i], aback[i], ASPAN);
		rcs[NATTR + NKV + i] =
		    daos_array_read(ah, DAOS_TX_NONE, &iods[i], &sgls[i], &evs[NATTR + NKV + i]);
	}
	for (i = 0, bad = 0; i < NOPS; i++)
		bad += rcs[i] != 0;
	n = poll_all(eqh, evs, NOPS);
	for (i = 0; i < NOPS; i++)
		bad += evs[i].ev_error != 0;
	CHECK(n == NOPS && bad == 0, "64 reads in flight: %d completed, %d failed", n, bad);
	for (i = 0, bad = 0; i < NATTR; i++)
		bad += gsizes[i] != sizes[i] || memcmp(gvals[i], vals[i], sizes[i]) != 0;
	CHECK(bad == 0, "16 attribute values read back as set (%d differ)", bad);
	for (i = 0, bad = 0; i < NKV; i++)
		bad += ksizes[i] != VLEN - (daos_size_t)i ||
		       memcmp(kgot[i], kvals[i], VLEN - (size_t)i) != 0;
	CHECK(bad == 0, "24 KV values read back as put (%d differ)", bad);
	for (i = 0, bad = 0; i < NARR; i++)
		bad += memcmp(aback[i], adata[i], ASPAN) != 0 || iods[i].arr_nr_read != ASPAN;
	CHECK(bad == 0, "24 array ranges read back as written (%d differ)", bad);
	for (i = 0; i < NOPS; i++)
		daos_event_fini(&evs[i]);
}

/* (c) */
static void
test_errors_chains(daos_handle_t eqh, const char *label, daos_handle_t poh, daos_handle_t kvh,
		   daos_handle_t ah, unsigned int ntargets)
{
	daos_event_t ev;
	daos_event_t *evp;
	daos_handle_t coh2 = DAOS_HDL_INVAL;
	daos_handle_t poh2 = DAOS_HDL_INVAL;
	daos_pool_info_t pinfo = {.pi_bits = DPI_SPACE};
	daos_size_t size = 0;
	char buf[8];
	int rc, n;

	daos_event_init(&ev, eqh, NULL);
	rc = daos_cont_open(poh, "no-such-container", DAOS_COO_RW, &coh2, NULL, &ev);
	n = daos_eq_poll(eqh, 0, 30 * 1000 * 1000, 1, &evp);
	CHECK(rc == 0 && n == 1 && ev.ev_error == -DER_NONEXIST && daos_handle_is_inval(coh2),
	      "open of a missing label: returns %d, the event says %d", rc, ev.ev_error);

	rc = daos_cont_destroy(poh, "no-such-container", 0, &ev);
	n = daos_eq_poll(eqh, 0, 30 * 1000 * 1000, 1, &evp);
	CHECK(rc == 0 && n == 1 && ev.ev_error == -DER_NONEXIST,
	      "destroy of a missing label: returns %d, the event says %d", rc, ev.ev_error);

	size = sizeof(buf);
	rc = daos_kv_get(kvh, DAOS_TX_NONE, DAOS_COND_KEY_GET, "missing", &size, buf, &ev);
	n = daos_eq_poll(eqh, 0, 30 * 1000 * 1000, 1, &evp);
	CHECK(rc == 0 && n == 1 && ev.ev_error == -DER_NONEXIST,
	      "conditional get of a missing key: returns %d, the event says %d", rc, ev.ev_error);

	/* connect chains a query for the info; both filled when the event completes */
	rc = daos_pool_connect(label, NULL, DAOS_PC_RO, &poh2, &pinfo, &ev);
	n = daos_eq_poll(eqh, 0, 30 * 1000 * 1000, 1, &evp);
	CHECK(rc == 0 && n == 1 && ev.ev_error == 0 && daos_handle_is_valid(poh2) &&
		  pinfo.pi_ntargets == ntargets,
	      "connect with an event: %d/%d, a handle, info of %u targets", rc, ev.ev_error,
	      pinfo.pi_ntargets);
	if (daos_handle_is_valid(poh2)) {
		rc = daos_pool_disconnect(poh2, &ev);
		n = daos_eq_poll(eqh, 0, 30 * 1000 * 1000, 1, &evp);
		CHECK(rc == 0 && n == 1 && ev.ev_error == 0, "disconnect with an event: %d/%d", rc,
		      ev.ev_error);
		rc = daos_pool_query(poh2, NULL, NULL, NULL, NULL);
		CHECK(rc == -DER_NO_HDL, "the disconnected handle is gone: %d", rc);
	}

	/* set_size: a chain of object operations in callbacks (query, punches, touch) */
	rc = daos_array_set_size(ah, DAOS_TX_NONE, 12345, &ev);
	n = daos_eq_poll(eqh, 0, 30 * 1000 * 1000, 1, &evp);
	CHECK(rc == 0 && n == 1 && ev.ev_error == 0, "set_size(12345) with an event: %d/%d", rc,
	      ev.ev_error);
	size = 0;
	rc = daos_array_get_size(ah, DAOS_TX_NONE, &size, &ev);
	n = daos_eq_poll(eqh, 0, 30 * 1000 * 1000, 1, &evp);
	CHECK(rc == 0 && n == 1 && ev.ev_error == 0 && size == 12345,
	      "get_size with an event: %d/%d, %" PRIu64, rc, ev.ev_error, (uint64_t)size);
	daos_event_fini(&ev);
}

int
main(int argc, char **argv)
{
	daos_handle_t poh, coh, eqh, kvh, ah;
	daos_obj_id_t koid = {.lo = 1}, aoid = {.lo = 2};
	daos_cont_info_t cinfo;
	unsigned int ntargets;
	uuid_t cuuid;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: %s POOL_LABEL SERVER_PID NTARGETS\n", argv[0]);
		return 2;
	}
	srv_pid = (pid_t)atoi(argv[2]);
	ntargets = (unsigned int)atoi(argv[3]);
	atexit(srv_continue);
	setvbuf(stdout, NULL, _IOLBF, 0);

	rc = daos_init();
	if (rc == 0)
		rc = daos_pool_connect(argv[1], NULL, DAOS_PC_RW, &poh, NULL, NULL);
	if (rc == 0)
		rc = daos_cont_create_with_label(poh, "async", NULL, &cuuid, NULL);
	if (rc == 0)
		rc = daos_cont_open(poh, "async", DAOS_COO_RW, &coh, &cinfo, NULL);
	if (rc == 0)
		rc = daos_eq_create(&eqh);
	if (rc == 0)
		rc = daos_obj_generate_oid(coh, &koid, DAOS_OT_KV_HASHED, OC_SX, 0, 0);
	if (rc == 0)
		rc = daos_kv_open(coh, koid, DAOS_OO_RW, &kvh, NULL);
	if (rc == 0)
		rc = daos_array_generate_oid(coh, &aoid, true, OC_SX, 0, 0);
	if (rc == 0)
		rc = daos_array_create(coh, aoid, DAOS_TX_NONE, CELL, CHUNK, &ah, NULL);
	CHECK(rc == 0, "setup: connect, container, queue, KV, array: %d", rc);
	if (rc != 0)
		return 1;

	test_stopped(eqh, poh, coh, kvh, ah, cuuid, ntargets);
	test_many(eqh, coh, kvh, ah);
	test_errors_chains(eqh, argv[1], poh, kvh, ah, ntargets);

	rc = daos_array_close(ah, NULL);
	rc = rc ?: daos_kv_close(kvh, NULL);
	rc = rc ?: daos_eq_destroy(eqh, 0);
	rc = rc ?: daos_cont_close(coh, NULL);
	rc = rc ?: daos_pool_disconnect(poh, NULL);
	CHECK(rc == 0, "teardown: %d", rc);
	daos_fini();
	printf("%d CHECK(s) failed\n", fails);
	return fails == 0 ? 0 : 1;
}
