/*
 * bulk_test.c: large values by bulk against a real daos_server, byte for byte.
 *
 *	bulk_test MGMT_ADDR FABRIC_PORT [ROUNDS]
 *
 * The targets move values above the inline limit through page-aligned buffers that each
 * target's context reuses (net_buf_get): a value must never come back with bytes of another
 * request that used the same buffer before. Each round keeps 64 updates in flight on one event
 * queue over 8 objects (so on every target at once), sizes from 17 KiB to 9 MiB (the
 * largest not cached by the targets), extents starting at odd indexes and client buffers at
 * odd addresses, then fetches all of them 64 in flight and compares every byte; values
 * written over part of an older, larger one must read back zeros in the holes. Then a fetch
 * into a buffer too small for the value (-DER_REC2BIG), and requests sent straight to
 * target 0's endpoint (FABRIC_PORT + 1) whose bulk does not match their lengths
 * (-DER_INVAL); the target must still serve correctly afterwards. Exits 0 when everything
 * matched.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daos/obj_rpc.h>
#include <gurt/common.h>

#include "../common/model_check.h"

#define NOBJ 8
#define QD 64
#define NVAL 64 /* values per round (~90 MiB; the pool has 256 MiB of data per target) */

static const size_t sizes[] = {
    1 << 20, (1 << 20) + 13, 1 << 20,  (3 << 20) - 7, 17 << 10, 1 << 20, 1 << 20, 300001,
    1 << 20, 1 << 20,        65 << 10, (1 << 20) - 1, 1 << 20,  1 << 20, 1 << 20, 1 << 20,
    1 << 20, 1 << 20,        1 << 20,  1 << 20,       1 << 20,  1 << 20, 1 << 20, 1 << 20,
    1 << 20, 1 << 20,        1 << 20,  1 << 20,       1 << 20,  1 << 20, 1 << 20, (9 << 20) + 1,
};

static daos_handle_t oh[NOBJ];

struct val {
	uint64_t dkey;
	uint64_t idx; /* first record */
	size_t len;
	uint64_t seed;
	uint8_t *mem; /* malloc'd, the data at mem + 1: never page-aligned */
	daos_event_t ev;
	daos_key_t dk;
	daos_iod_t iod;
	daos_recx_t recx;
	d_iov_t iov;
	d_sg_list_t sgl;
};

static struct val vals[NVAL];

static void
fill(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t s = seed;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t v = d_test_rand(&s);

		memcpy(p + i, &v, 8);
	}
	for (; i < len; i++)
		p[i] = (uint8_t)d_test_rand(&s);
}

static void
io_prep(struct val *v, uint8_t *data, size_t cap)
{
	d_iov_set(&v->dk, &v->dkey, sizeof(v->dkey));
	d_iov_set(&v->iod.iod_name, "x", 1);
	v->iod.iod_type = DAOS_IOD_ARRAY;
	v->iod.iod_size = 1;
	v->iod.iod_nr = 1;
	v->recx.rx_idx = v->idx;
	v->recx.rx_nr = v->len;
	v->iod.iod_recxs = &v->recx;
	d_iov_set(&v->iov, data, cap);
	v->sgl.sg_nr = 1;
	v->sgl.sg_nr_out = 0;
	v->sgl.sg_iovs = &v->iov;
}

/* Wait for @n events of @eqh; check each succeeded. */
static void
eq_drain(daos_handle_t eqh, int n, const char *what)
{
	daos_event_t *out[QD];

	while (n > 0) {
		int got = daos_eq_poll(eqh, 1, DAOS_EQ_WAIT, QD, out);
		int i;

		CHECK(got > 0, "%s: eq poll: %d", what, got);
		if (got <= 0)
			return;
		for (i = 0; i < got; i++) {
			CHECK(out[i]->ev_error == 0, "%s: %s", what, d_errstr(out[i]->ev_error));
			daos_event_fini(out[i]);
		}
		n -= got;
	}
}

/* Run @op (update or fetch) on every value, QD in flight. */
static void
run_all(daos_handle_t eqh, bool update)
{
	int inflight = 0;
	int i;
	int rc;

	for (i = 0; i < NVAL; i++) {
		struct val *v = &vals[i];

		if (inflight == QD) {
			eq_drain(eqh, 1, update ? "update" : "fetch");
			inflight--;
		}
		rc = daos_event_init(&v->ev, eqh, NULL);
		CHECK(rc == 0, "event init: %d", rc);
		io_prep(v, v->mem + 1, v->len);
		if (update) {
			fill(v->mem + 1, v->len, v->seed);
			rc = daos_obj_update(oh[i % NOBJ], DAOS_TX_NONE, 0, &v->dk, 1, &v->iod,
					     &v->sgl, &v->ev);
		} else {
			memset(v->mem + 1, 0xee, v->len);
			rc = daos_obj_fetch(oh[i % NOBJ], DAOS_TX_NONE, 0, &v->dk, 1, &v->iod,
					    &v->sgl, NULL, &v->ev);
		}
		CHECK(rc == 0, "%s %d: %s", update ? "update" : "fetch", i, d_errstr(rc));
		inflight++;
	}
	eq_drain(eqh, inflight, update ? "update" : "fetch");
}

static void
check_all(int round)
{
	uint8_t *want = malloc((9 << 20) + 2);
	int i;

	for (i = 0; i < NVAL && want != NULL; i++) {
		struct val *v = &vals[i];

		fill(want, v->len, v->seed);
		if (memcmp(want, v->mem + 1, v->len) != 0) {
			size_t j = 0;

			while (want[j] == v->mem[1 + j])
				j++;
			CHECK(0,
			      "round %d value %d (%zu bytes at %" PRIu64 "): differs at byte %zu",
			      round, i, v->len, v->idx, j);
		}
		CHECK(v->iov.iov_len == v->len, "round %d value %d: iov_len %zu", round, i,
		      v->iov.iov_len);
	}
	free(want);
}

/*
 * A fresh dkey holds only 4101 bytes at record 70000: fetching the whole first MiB must give
 * zeros around them, whatever a reused target buffer held before.
 */
static void
check_holes(void)
{
	struct val v = {.dkey = 777777, .idx = 70000, .len = 4101, .seed = 99};
	struct val f = {.dkey = 777777, .idx = 0, .len = 1 << 20};
	uint8_t *want = calloc(1, 1 << 20);
	int rc;

	v.mem = malloc(v.len + 1);
	f.mem = malloc(f.len + 1);
	if (want == NULL || v.mem == NULL || f.mem == NULL) {
		CHECK(0, "no memory");
		goto out;
	}
	fill(v.mem + 1, v.len, v.seed);
	fill(want + v.idx, v.len, v.seed);
	io_prep(&v, v.mem + 1, v.len);
	rc = daos_obj_update(oh[0], DAOS_TX_NONE, 0, &v.dk, 1, &v.iod, &v.sgl, NULL);
	CHECK(rc == 0, "hole update: %s", d_errstr(rc));
	memset(f.mem, 0xee, f.len + 1);
	io_prep(&f, f.mem + 1, f.len);
	rc = daos_obj_fetch(oh[0], DAOS_TX_NONE, 0, &f.dk, 1, &f.iod, &f.sgl, NULL, NULL);
	CHECK(rc == 0, "hole fetch: %s", d_errstr(rc));
	CHECK(memcmp(want, f.mem + 1, f.len) == 0, "holes around a short extent are not zeros");

	/* the whole MiB into half of it: the buffer is too small */
	io_prep(&f, f.mem + 1, f.len / 2);
	rc = daos_obj_fetch(oh[0], DAOS_TX_NONE, 0, &f.dk, 1, &f.iod, &f.sgl, NULL, NULL);
	CHECK(rc == -DER_REC2BIG, "fetch into a short buffer: %s", d_errstr(rc));
out:
	free(want);
	free(v.mem);
	free(f.mem);
}

/* Requests whose bulk does not match what they say, straight to target 0's endpoint. */
static void
check_garbage(const char *fab_port)
{
	static uint8_t small[4096];
	struct net_context_attr attr = {.ca_provider = "tcp;ofi_rxm", .ca_addr = "127.0.0.1"};
	struct net_context *ctx = NULL;
	struct net_bulk *bulk = NULL;
	struct obj_update_in ui = {0};
	struct obj_fetch_in fi = {0};
	struct obj_update_out uo;
	struct obj_fetch_out fo;
	daos_recx_t recx = {.rx_idx = 0, .rx_nr = 1 << 20};
	daos_iod_t iod = {.iod_type = DAOS_IOD_ARRAY, .iod_size = 1, .iod_nr = 1};
	uint64_t dkey = 5;
	uint64_t cap = htole64(1 << 20);
	uint8_t iods[64];
	char addr[64];
	net_peer_t peer;
	d_iov_t iov;
	d_sg_list_t sgl = {.sg_nr = 1, .sg_iovs = &iov};
	int64_t n;
	int rc;

	snprintf(addr, sizeof(addr), "fi_sockaddr_in://127.0.0.1:%ld",
		 strtol(fab_port, NULL, 0) + 1);
	rc = net_context_create(&attr, &ctx);
	CHECK(rc == 0, "net context: %s", d_errstr(rc));
	if (rc != 0)
		return;
	rc = net_peer_lookup(ctx, addr, &peer);
	CHECK(rc == 0, "peer %s: %s", addr, d_errstr(rc));
	d_iov_set(&iod.iod_name, "x", 1);
	iod.iod_recxs = &recx;
	n = obj_iods_encode(&iod, 1, iods, sizeof(iods));
	CHECK(n > 0, "encode iods: %" PRId64, n);
	d_iov_set(&iov, small, sizeof(small));
	rc = net_bulk_create(ctx, &sgl, NET_BULK_READ | NET_BULK_WRITE, &bulk);
	CHECK(rc == 0, "bulk: %s", d_errstr(rc));
	if (rc != 0 || n <= 0)
		goto out;

	uuid_generate(ui.oh_pool);
	uuid_generate(ui.oh_cont);
	uuid_generate(ui.oh_coh);
	ui.oh_oid_lo = 1;
	ui.oh_flags = OBJ_F_BULK;
	d_iov_set(&ui.ui_dkey, &dkey, sizeof(dkey));
	ui.ui_iod_nr = 1;
	d_iov_set(&ui.ui_iods, iods, n);
	ui.ui_data_len = 1 << 20;
	/* 1 MiB to read from 4 KiB of registered memory */
	rc = net_rpc_call(ctx, peer, OBJ_OPC_UPDATE, &ui, bulk, 10000, &uo, NULL);
	CHECK(rc == -DER_INVAL, "update, bulk shorter than the data: %s", d_errstr(rc));
	/* bulk and inline data together */
	d_iov_set(&ui.ui_data, small, 16);
	rc = net_rpc_call(ctx, peer, OBJ_OPC_UPDATE, &ui, bulk, 10000, &uo, NULL);
	CHECK(rc == -DER_INVAL, "update, bulk and inline data: %s", d_errstr(rc));
	/* the data length disagrees with the iods */
	d_iov_set(&ui.ui_data, NULL, 0);
	ui.ui_data_len = 4096;
	rc = net_rpc_call(ctx, peer, OBJ_OPC_UPDATE, &ui, bulk, 10000, &uo, NULL);
	CHECK(rc == -DER_INVAL, "update, data length not the iods': %s", d_errstr(rc));

	memcpy(&fi, &ui, sizeof(struct obj_hdr));
	fi.fi_dkey = ui.ui_dkey;
	fi.fi_iod_nr = 1;
	fi.fi_iods = ui.ui_iods;
	d_iov_set(&fi.fi_caps, &cap, sizeof(cap));
	/* 1 MiB to write into 4 KiB of registered memory */
	rc = net_rpc_call(ctx, peer, OBJ_OPC_FETCH, &fi, bulk, 10000, &fo, NULL);
	CHECK(rc == -DER_INVAL, "fetch, bulk shorter than the capacity: %s", d_errstr(rc));
	/* a capacity list of the wrong length */
	d_iov_set(&fi.fi_caps, &cap, 4);
	rc = net_rpc_call(ctx, peer, OBJ_OPC_FETCH, &fi, bulk, 10000, &fo, NULL);
	CHECK(rc == -DER_PROTO || rc == -DER_INVAL, "fetch, truncated capacities: %s",
	      d_errstr(rc));
out:
	net_bulk_destroy(bulk);
	net_context_destroy(ctx);
}

/* Round @r: new dkeys, sizes and data; all updated, then all fetched and compared. */
static void
round_run(daos_handle_t eqh, int r)
{
	int i;

	for (i = 0; i < NVAL; i++) {
		struct val *v = &vals[i];

		v->dkey = (uint64_t)r * NVAL + (uint64_t)i;
		v->len = sizes[(i + r) % (sizeof(sizes) / sizeof(sizes[0]))];
		v->idx = r == 0 ? 0 : rnd(9000) * 3 + 1;
		v->seed = d_test_rand(&rs);
	}
	run_all(eqh, true);
	run_all(eqh, false);
	check_all(r);
	printf("round %d: %d values updated and fetched, %d in flight\n", r, NVAL, QD);
}

int
main(int argc, char **argv)
{
	daos_handle_t poh;
	daos_handle_t coh;
	daos_handle_t eqh;
	long rounds = argc > 3 ? strtol(argv[3], NULL, 0) : 2;
	long r;
	int i;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: %s MGMT_ADDR FABRIC_PORT [ROUNDS]\n", argv[0]);
		return 2;
	}
	rc = model_start(argc, argv, "bulk_test", &poh, &coh, &eqh);
	if (rc != 0)
		return rc;
	if (model_objs_open(coh, oh, NOBJ) != 0)
		return 1;
	for (i = 0; i < NVAL; i++) {
		vals[i].mem = malloc((9 << 20) + 2);
		if (vals[i].mem == NULL)
			return 1;
	}
	for (r = 0; r < rounds && failures == 0; r++)
		round_run(eqh, (int)r);
	check_holes();
	check_garbage(argv[2]);
	/* the targets still serve */
	round_run(eqh, (int)rounds);
	for (i = 0; i < NVAL; i++)
		free(vals[i].mem);
	for (i = 0; i < NOBJ; i++)
		daos_obj_close(oh[i], NULL);
	return model_end(poh, coh, eqh, (rounds + 1) * NVAL * 2);
}
