/*
 * obj_io_test.c: libdaos's object API against a real daos_server, checked against an
 * in-memory model.
 *
 *	obj_io_test MGMT_ADDR [OPS]
 *
 * Creates a pool on every target of the server and a container through the management
 * service (sys_pool.h: PoolCreate, daos_pool_connect, daos_cont_create/open) and runs a seeded
 *random sequence of updates (single values and arrays, inline and by bulk), fetches, punches of
 *akeys, dkeys and objects, dkey and akey listings and max-dkey queries on three objects of classes
 *S1, S2 and SX, comparing every result with the model; a part of the updates run 16 in flight on an
 *event queue. Prints the seed; exits 0 when everything matched. At the end, a fetch and query
 *(daos_obj_fetch_query) against the same two asked apart.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <d_test.h>
#include <daos.h>
#include <daos/client.h>
#include <daos/object.h>
#include <gurt/common.h>

#include "../common/model_check.h"

#define NOBJ 3
#define NDKEY 8
#define NAKEY 3 /* a0, a1: single values; x: an array of 1-byte records */
#define ARR_MAX 60000
#define SV_MAX 40000

/* The model: per object, dkey, akey. */
struct m_akey {
	bool exists;     /* listed */
	uint32_t sv_len; /* single value: 0 = none */
	uint8_t *sv;
	uint8_t *arr;     /* array: ARR_MAX bytes */
	uint8_t *present; /* array: which records exist */
};

struct m_dkey {
	bool exists;
	struct m_akey ak[NAKEY];
};

static struct m_dkey model[NOBJ][NDKEY];
static daos_handle_t oh[NOBJ];
static daos_obj_id_t oids[NOBJ];

/* dkey i of object o: uint64 for object 2, strings otherwise */
static uint64_t dk_u64[NDKEY];
static char dk_str[NDKEY][8];
static char ak_str[NAKEY][4] = {"a0", "a1", "x"};

static void
dkey_of(int o, int d, daos_key_t *key)
{
	if (o == 2)
		d_iov_set(key, &dk_u64[d], sizeof(uint64_t));
	else
		d_iov_set(key, dk_str[d], strlen(dk_str[d]));
}

static void
akey_of(int a, daos_key_t *key)
{
	d_iov_set(key, ak_str[a], strlen(ak_str[a]));
}

static void
m_clear_akey(struct m_akey *ak)
{
	ak->exists = false;
	ak->sv_len = 0;
	memset(ak->present, 0, ARR_MAX);
}

/* What an update in flight needs until it completes, per event slot (16: blocking calls). */
static struct {
	daos_key_t dkey;
	daos_iod_t iod;
	d_sg_list_t sgl;
	d_iov_t iov;
} slots[17];

static void
op_update_single(int o, int d, int a, daos_event_t *ev, int slot, uint8_t *buf)
{
	struct m_akey *ak = &model[o][d].ak[a];
	uint32_t len = rnd(5) == 0 ? 1 + rnd(SV_MAX) : 1 + rnd(200);
	daos_key_t *dkey = &slots[slot].dkey;
	daos_iod_t *iod = &slots[slot].iod;
	d_sg_list_t *sgl = &slots[slot].sgl;
	d_iov_t *iov = &slots[slot].iov;
	uint32_t i;
	int rc;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)d_test_rand(&rs);
	dkey_of(o, d, dkey);
	memset(iod, 0, sizeof(*iod));
	akey_of(a, &iod->iod_name);
	iod->iod_type = DAOS_IOD_SINGLE;
	iod->iod_size = len;
	iod->iod_nr = 1;
	d_iov_set(iov, buf, len);
	*sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = iov};
	rc = daos_obj_update(oh[o], DAOS_TX_NONE, 0, dkey, 1, iod, sgl, ev);
	CHECK(rc == 0, "update single: %d", rc);
	memcpy(ak->sv, buf, len);
	ak->sv_len = len;
	ak->exists = true;
	model[o][d].exists = true;
}

static void
op_update_array(int o, int d, uint8_t *buf)
{
	struct m_akey *ak = &model[o][d].ak[2];
	daos_recx_t rx[3];
	uint32_t nr = 1 + rnd(3);
	uint64_t total = 0;
	daos_key_t dkey;
	daos_iod_t iod = {0};
	d_sg_list_t sgl;
	d_iov_t iov;
	uint32_t i;
	uint64_t j;
	int rc;

	/* non-overlapping extents, in increasing order */
	for (i = 0; i < nr; i++) {
		uint64_t lo = i * (ARR_MAX / 3);

		rx[i].rx_idx = lo + rnd(ARR_MAX / 6);
		rx[i].rx_nr = 1 + rnd(rnd(4) == 0 ? ARR_MAX / 6 : 300);
		total += rx[i].rx_nr;
	}
	for (j = 0; j < total; j++)
		buf[j] = (uint8_t)d_test_rand(&rs);
	dkey_of(o, d, &dkey);
	akey_of(2, &iod.iod_name);
	iod.iod_type = DAOS_IOD_ARRAY;
	iod.iod_size = 1;
	iod.iod_nr = nr;
	iod.iod_recxs = rx;
	d_iov_set(&iov, buf, total);
	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	rc = daos_obj_update(oh[o], DAOS_TX_NONE, 0, &dkey, 1, &iod, &sgl, NULL);
	CHECK(rc == 0, "update array: %d", rc);
	for (i = 0, total = 0; i < nr; i++)
		for (j = 0; j < rx[i].rx_nr; j++, total++) {
			ak->arr[rx[i].rx_idx + j] = buf[total];
			ak->present[rx[i].rx_idx + j] = 1;
		}
	ak->exists = true;
	model[o][d].exists = true;
}

static void
op_fetch_single(int o, int d, int a, uint8_t *buf)
{
	struct m_akey *ak = &model[o][d].ak[a];
	daos_key_t dkey;
	daos_iod_t iod = {0};
	d_sg_list_t sgl;
	d_iov_t iov;
	int rc;

	dkey_of(o, d, &dkey);
	akey_of(a, &iod.iod_name);
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = DAOS_REC_ANY;
	iod.iod_nr = 1;
	d_iov_set(&iov, buf, SV_MAX);
	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	rc = daos_obj_fetch(oh[o], DAOS_TX_NONE, 0, &dkey, 1, &iod, &sgl, NULL, NULL);
	CHECK(rc == 0, "fetch single: %d", rc);
	CHECK(iod.iod_size == ak->sv_len, "obj %d dkey %d akey %d: size %" PRIu64 " expected %u", o,
	      d, a, iod.iod_size, ak->sv_len);
	if (rc == 0 && iod.iod_size == ak->sv_len && ak->sv_len > 0)
		CHECK(iov.iov_len == ak->sv_len && memcmp(buf, ak->sv, ak->sv_len) == 0,
		      "obj %d dkey %d akey %d: data differ", o, d, a);
}

static void
op_fetch_array(int o, int d, uint8_t *buf)
{
	struct m_akey *ak = &model[o][d].ak[2];
	uint64_t lo = rnd(ARR_MAX - 1);
	uint64_t n = 1 + rnd((uint32_t)(ARR_MAX - lo) < 30000 ? (uint32_t)(ARR_MAX - lo) : 30000);
	daos_recx_t rx = {.rx_idx = lo, .rx_nr = n};
	daos_key_t dkey;
	daos_iod_t iod = {0};
	d_sg_list_t sgl;
	d_iov_t iov;
	bool any = false;
	uint64_t j;
	int rc;

	memset(buf, 0xAA, n);
	dkey_of(o, d, &dkey);
	akey_of(2, &iod.iod_name);
	iod.iod_type = DAOS_IOD_ARRAY;
	iod.iod_size = 1;
	iod.iod_nr = 1;
	iod.iod_recxs = &rx;
	d_iov_set(&iov, buf, n);
	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	rc = daos_obj_fetch(oh[o], DAOS_TX_NONE, 0, &dkey, 1, &iod, &sgl, NULL, NULL);
	CHECK(rc == 0, "fetch array: %d", rc);
	if (rc != 0)
		return;
	for (j = 0; j < n; j++)
		any |= ak->present[lo + j] != 0;
	if (iod.iod_size == 0) {
		CHECK(!any, "obj %d dkey %d: array [%" PRIu64 ", +%" PRIu64 ") reads as absent", o,
		      d, lo, n);
		return;
	}
	for (j = 0; j < n; j++) {
		uint8_t want = ak->present[lo + j] ? ak->arr[lo + j] : 0;

		if (buf[j] != want) {
			CHECK(false, "obj %d dkey %d: array byte %" PRIu64 " is %u, expected %u", o,
			      d, lo + j, buf[j], want);
			return;
		}
	}
}

static void
op_punch(int o, uint8_t *buf)
{
	daos_key_t dkey;
	daos_key_t akey;
	int kind = rnd(10);
	int d = rnd(NDKEY);
	int a = rnd(NAKEY);
	int i;
	int rc;

	(void)buf;
	if (getenv("OBJ_IO_TRACE") != NULL)
		fprintf(stderr, "  punch obj %d kind %d dkey %d akey %d\n", o, kind, d, a);
	dkey_of(o, d, &dkey);
	if (kind < 6) {
		akey_of(a, &akey);
		rc = daos_obj_punch_akeys(oh[o], DAOS_TX_NONE, 0, &dkey, 1, &akey, NULL);
		CHECK(rc == 0, "punch akey: %d", rc);
		m_clear_akey(&model[o][d].ak[a]);
		/* a punch logs a create on the parent key, as in DAOS: the dkey is listed */
		model[o][d].exists = true;
	} else if (kind < 9) {
		rc = daos_obj_punch_dkeys(oh[o], DAOS_TX_NONE, 0, 1, &dkey, NULL);
		CHECK(rc == 0, "punch dkey: %d", rc);
		model[o][d].exists = false;
		for (i = 0; i < NAKEY; i++)
			m_clear_akey(&model[o][d].ak[i]);
	} else {
		rc = daos_obj_punch(oh[o], DAOS_TX_NONE, 0, NULL);
		CHECK(rc == 0, "punch object: %d", rc);
		for (d = 0; d < NDKEY; d++) {
			model[o][d].exists = false;
			for (i = 0; i < NAKEY; i++)
				m_clear_akey(&model[o][d].ak[i]);
		}
	}
}

static int
dkey_index(int o, const char *key, size_t len)
{
	int d;

	for (d = 0; d < NDKEY; d++) {
		daos_key_t k;

		dkey_of(o, d, &k);
		if (k.iov_len == len && memcmp(k.iov_buf, key, len) == 0)
			return d;
	}
	return -1;
}

/* List the dkeys, 3 at a time, and compare with the model. */
static void
op_list_dkeys(int o)
{
	daos_anchor_t anchor = DAOS_ANCHOR_INIT;
	bool seen[NDKEY] = {false};
	daos_key_desc_t kds[3];
	char keys[256];
	d_sg_list_t sgl;
	d_iov_t iov;
	int calls = 0;
	int d;

	while (!daos_anchor_is_eof(&anchor) && calls++ < 100) {
		uint32_t nr = 3;
		uint32_t i;
		char *p = keys;
		int rc;

		d_iov_set(&iov, keys, sizeof(keys));
		sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
		rc = daos_obj_list_dkey(oh[o], DAOS_TX_NONE, &nr, kds, &sgl, &anchor, NULL);
		CHECK(rc == 0, "list dkeys: %d", rc);
		if (rc != 0)
			return;
		for (i = 0; i < nr; i++) {
			d = dkey_index(o, p, kds[i].kd_key_len);
			CHECK(d >= 0, "obj %d: listed an unknown dkey", o);
			if (d >= 0) {
				CHECK(!seen[d], "obj %d: dkey %d listed twice", o, d);
				seen[d] = true;
			}
			p += kds[i].kd_key_len;
		}
	}
	CHECK(daos_anchor_is_eof(&anchor), "obj %d: listing does not end", o);
	for (d = 0; d < NDKEY; d++)
		CHECK(seen[d] == model[o][d].exists, "obj %d dkey %d: listed %d, model %d", o, d,
		      seen[d], model[o][d].exists);
}

static void
op_list_akeys(int o, int d)
{
	daos_anchor_t anchor = DAOS_ANCHOR_INIT;
	bool seen[NAKEY] = {false};
	daos_key_desc_t kds[NAKEY];
	daos_key_t dkey;
	char keys[64];
	d_sg_list_t sgl;
	d_iov_t iov;
	uint32_t nr = NAKEY;
	uint32_t i;
	char *p = keys;
	int a;
	int rc;

	dkey_of(o, d, &dkey);
	d_iov_set(&iov, keys, sizeof(keys));
	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	rc = daos_obj_list_akey(oh[o], DAOS_TX_NONE, &dkey, &nr, kds, &sgl, &anchor, NULL);
	CHECK(rc == 0, "list akeys: %d", rc);
	if (rc != 0)
		return;
	for (i = 0; i < nr; i++, p += kds[i - 1].kd_key_len)
		for (a = 0; a < NAKEY; a++)
			if (kds[i].kd_key_len == strlen(ak_str[a]) &&
			    memcmp(p, ak_str[a], kds[i].kd_key_len) == 0)
				seen[a] = true;
	for (a = 0; a < NAKEY; a++)
		CHECK(seen[a] == model[o][d].ak[a].exists, "obj %d dkey %d akey %d: listed %d", o,
		      d, a, seen[a]);
}

/* Object 2 has uint64 dkeys: the largest one that exists. */
static void
op_query_max(void)
{
	uint64_t got = 0;
	uint64_t want = 0;
	daos_key_t dkey;
	bool any = false;
	int d;
	int rc;

	for (d = 0; d < NDKEY; d++)
		if (model[2][d].exists && (!any || dk_u64[d] > want)) {
			want = dk_u64[d];
			any = true;
		}
	d_iov_set(&dkey, &got, sizeof(got));
	rc = daos_obj_query_key(oh[2], DAOS_TX_NONE, DAOS_GET_DKEY | DAOS_GET_MAX, &dkey, NULL,
				NULL, NULL);
	if (!any) {
		CHECK(rc == -DER_NONEXIST, "query max of an empty object: %d", rc);
		return;
	}
	CHECK(rc == 0 && got == want, "query max: rc %d, %" PRIu64 " expected %" PRIu64, rc, got,
	      want);
}

/*
 * A fetch and query (daos_obj_fetch_query): the value of object 0's dkey 0 akey a0, then the
 * max dkey of object 2 holding akey x and its extent, compared with a fetch and a query key
 * asked apart. First with a buffer too large to go inline: -DER_NOSYS, refused here without
 * asking the engine, which must not stop this process from asking afterwards.
 */
static void
op_fetch_query(uint8_t *buf)
{
	static const char val[] = "fetch-and-query";
	uint64_t qd = 0;
	uint64_t wd = 0;
	daos_recx_t qrx = {0};
	daos_recx_t wrx = {0};
	daos_key_t dkey;
	daos_key_t qdkey;
	daos_key_t wdkey;
	daos_key_t qakey;
	daos_iod_t iod = {0};
	d_sg_list_t sgl;
	d_iov_t iov;
	int qrc = 1;
	int wrc;
	int rc;

	dkey_of(0, 0, &dkey);
	akey_of(0, &iod.iod_name);
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = sizeof(val);
	iod.iod_nr = 1;
	d_iov_set(&iov, (void *)val, sizeof(val));
	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	rc = daos_obj_update(oh[0], DAOS_TX_NONE, 0, &dkey, 1, &iod, &sgl, NULL);
	CHECK(rc == 0, "fetch query: update: %d", rc);
	akey_of(2, &qakey);
	d_iov_set(&qdkey, &qd, sizeof(qd));
	d_iov_set(&wdkey, &wd, sizeof(wd));
	/* too large for one inline request (ARR_MAX > the 16 KiB inline limit): refused here */
	iod.iod_size = DAOS_REC_ANY;
	d_iov_set(&iov, buf, ARR_MAX);
	rc = daos_obj_fetch_query(oh[0], &dkey, 1, &iod, &sgl, oh[2],
				  DAOS_GET_MAX | DAOS_GET_DKEY | DAOS_GET_RECX, &qdkey, &qakey,
				  &qrx, &qrc, NULL);
	CHECK(rc == -DER_NOSYS, "fetch query with a large buffer: %d", rc);
	/* a small one: one request, as a fetch and a query apart would answer */
	iod.iod_size = DAOS_REC_ANY;
	memset(buf, 0, 64);
	d_iov_set(&iov, buf, 64);
	rc = daos_obj_fetch_query(oh[0], &dkey, 1, &iod, &sgl, oh[2],
				  DAOS_GET_MAX | DAOS_GET_DKEY | DAOS_GET_RECX, &qdkey, &qakey,
				  &qrx, &qrc, NULL);
	CHECK(rc == 0, "fetch query after a large buffer's -DER_NOSYS: %d", rc);
	if (rc != 0)
		return;
	CHECK(iod.iod_size == sizeof(val) && memcmp(buf, val, sizeof(val)) == 0,
	      "fetch query: value of %" PRIu64 " bytes", (uint64_t)iod.iod_size);
	wrc = daos_obj_query_key(oh[2], DAOS_TX_NONE, DAOS_GET_MAX | DAOS_GET_DKEY | DAOS_GET_RECX,
				 &wdkey, &qakey, &wrx, NULL);
	CHECK(qrc == wrc, "fetch query: query %d, apart %d", qrc, wrc);
	if (getenv("OBJ_IO_TRACE") != NULL)
		fprintf(stderr, "fetch query: %d dkey %" PRIu64 " [%" PRIu64 ", +%" PRIu64 ")\n",
			qrc, qd, qrx.rx_idx, qrx.rx_nr);
	if (qrc == 0 && wrc == 0)
		CHECK(qd == wd && qrx.rx_idx == wrx.rx_idx && qrx.rx_nr == wrx.rx_nr,
		      "fetch query: dkey %" PRIu64 " [%" PRIu64 ", +%" PRIu64 "), apart %" PRIu64
		      " [%" PRIu64 ", +%" PRIu64 ")",
		      qd, qrx.rx_idx, qrx.rx_nr, wd, wrx.rx_idx, wrx.rx_nr);
}

/* 16 single-value updates in flight on an event queue. */
static void
op_async_batch(daos_handle_t eqh, uint8_t **bufs)
{
	daos_event_t evs[16];
	daos_event_t *out[16];
	int got = 0;
	int i;

	for (i = 0; i < 16; i++) {
		int o = rnd(NOBJ);

		CHECK(daos_event_init(&evs[i], eqh, NULL) == 0, "event init");
		if (getenv("OBJ_IO_TRACE") != NULL)
			fprintf(stderr, "  async obj %d dkey %d akey %d\n", o, i % NDKEY,
				i / NDKEY % 2);
		/* distinct (dkey, akey) per event: no two in flight on one value */
		op_update_single(o, i % NDKEY, i / NDKEY % 2, &evs[i], i, bufs[i]);
	}
	while (got < 16) {
		int n = daos_eq_poll(eqh, 1, DAOS_EQ_WAIT, 16, out);

		CHECK(n > 0, "eq poll: %d", n);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			CHECK(out[i]->ev_error == 0, "async update: %d", out[i]->ev_error);
		got += n;
	}
	for (i = 0; i < 16; i++)
		daos_event_fini(&evs[i]);
}

int
main(int argc, char **argv)
{
	static const daos_oclass_id_t classes[NOBJ] = {OC_S1, OC_SX, OC_S2};
	static const enum daos_otype_t types[NOBJ] = {DAOS_OT_MULTI_HASHED, DAOS_OT_MULTI_HASHED,
						      DAOS_OT_DKEY_UINT64};
	daos_handle_t poh;
	daos_handle_t coh;
	daos_handle_t eqh;
	uint8_t *bufs[16];
	uint8_t *buf;
	long ops = argc > 2 ? strtol(argv[2], NULL, 0) : 2000;
	long i;
	int o;
	int d;
	int a;
	int rc;

	rc = model_start(argc, argv, "obj_io_test", &poh, &coh, &eqh);
	if (rc != 0)
		return rc;

	for (o = 0; o < NOBJ; o++) {
		oids[o].lo = (uint64_t)o + 1;
		oids[o].hi = 0;
		rc = daos_obj_generate_oid(coh, &oids[o], types[o], classes[o], 0, 0);
		if (rc == 0)
			rc = daos_obj_open(coh, oids[o], DAOS_OO_RW, &oh[o], NULL);
		if (rc != 0) {
			fprintf(stderr, "object %d: %s\n", o, d_errstr(rc));
			return 1;
		}
		for (d = 0; d < NDKEY; d++)
			for (a = 0; a < NAKEY; a++) {
				model[o][d].ak[a].sv = malloc(SV_MAX);
				model[o][d].ak[a].arr = malloc(ARR_MAX);
				model[o][d].ak[a].present = calloc(1, ARR_MAX);
			}
	}
	for (d = 0; d < NDKEY; d++) {
		dk_u64[d] = d_test_rand(&rs) >> 8;
		snprintf(dk_str[d], sizeof(dk_str[d]), "d%d", d);
	}
	buf = malloc(ARR_MAX);
	for (i = 0; i < 16; i++)
		bufs[i] = malloc(SV_MAX);

	for (i = 0; i < ops && failures == 0; i++) {
		int op = rnd(100);

		o = rnd(NOBJ);
		d = rnd(NDKEY);
		a = rnd(2);
		if (getenv("OBJ_IO_TRACE") != NULL)
			fprintf(stderr, "op %ld: %d obj %d dkey %d akey %d\n", i, op, o, d, a);
		if (op < 25)
			op_update_single(o, d, a, NULL, 16, buf);
		else if (op < 40)
			op_update_array(o, d, buf);
		else if (op < 60)
			op_fetch_single(o, d, a, buf);
		else if (op < 75)
			op_fetch_array(o, d, buf);
		else if (op < 80)
			op_punch(o, buf);
		else if (op < 85)
			op_list_dkeys(o);
		else if (op < 90)
			op_list_akeys(o, d);
		else if (op < 95)
			op_query_max();
		else
			op_async_batch(eqh, bufs);
	}
	/* a last full check of everything */
	for (o = 0; o < NOBJ && failures == 0; o++) {
		op_list_dkeys(o);
		for (d = 0; d < NDKEY; d++) {
			op_fetch_single(o, d, 0, buf);
			op_fetch_single(o, d, 1, buf);
			op_list_akeys(o, d);
		}
	}
	if (failures == 0)
		op_fetch_query(buf);
	for (o = 0; o < NOBJ; o++)
		daos_obj_close(oh[o], NULL);
	free(buf);
	for (o = 0; o < 16; o++)
		free(bufs[o]);
	return model_end(poh, coh, eqh, i);
}
