/*
 * array_test.c: libdaos's Array API against a real daos_server, checked against an
 * in-memory model.
 *
 *	array_test MGMT_ADDR [OPS]
 *
 * Creates a pool on every target of the server (sys_pool.h), then on arrays of several cell
 * and chunk sizes runs a seeded random sequence of writes, reads, punches and set_size
 * (ranges across chunk boundaries, holes, sgls of several iovs, some writes on an event
 * queue), checking every read and the size after every change against the model. Then a
 * 64 MiB array written and read back in one call each, the metadata and handle calls, and
 * bad arguments. Prints the seed; exits 0 when everything matched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <d_test.h>
#include <daos.h>
#include <daos_array.h>
#include <gurt/common.h>

#include "../common/model_check.h"

#define MAX_CELLS 20000

struct m_array {
	daos_size_t cell;
	daos_size_t chunk;
	daos_handle_t oh;
	uint8_t *data;    /* MAX_CELLS cells */
	uint8_t *present; /* per cell */
};

static daos_size_t
m_size(struct m_array *m)
{
	daos_size_t i = MAX_CELLS;

	while (i > 0 && !m->present[i - 1])
		i--;
	return i;
}

/* A random range, often starting or ending near a chunk boundary. */
static void
rnd_range(struct m_array *m, daos_range_t *rg, daos_size_t max_len)
{
	daos_size_t len = 1 + rnd((uint32_t)max_len);

	if (rnd(2)) {
		daos_size_t b = (1 + rnd(MAX_CELLS / m->chunk)) * m->chunk;

		rg->rg_idx = b >= 3 ? b - rnd(3) : b;
	} else {
		rg->rg_idx = rnd(MAX_CELLS);
	}
	if (rg->rg_idx >= MAX_CELLS)
		rg->rg_idx = MAX_CELLS - 1;
	if (rg->rg_idx + len > MAX_CELLS)
		len = MAX_CELLS - rg->rg_idx;
	rg->rg_len = len;
}

/* Split @buf (@len bytes) into 1..3 iovs of @iovs. */
static void
split_sgl(uint8_t *buf, size_t len, d_iov_t *iovs, d_sg_list_t *sgl)
{
	size_t a = len > 0 ? rnd((uint32_t)len + 1) : 0;
	size_t b = a < len ? a + rnd((uint32_t)(len - a) + 1) : a;

	d_iov_set(&iovs[0], buf, a);
	d_iov_set(&iovs[1], buf + a, b - a);
	d_iov_set(&iovs[2], buf + b, len - b);
	sgl->sg_nr = 3;
	sgl->sg_nr_out = 0;
	sgl->sg_iovs = iovs;
}

static void
check_size(struct m_array *m, const char *after)
{
	daos_size_t size = 12345;
	int rc;

	rc = daos_array_get_size(m->oh, DAOS_TX_NONE, &size, NULL);
	CHECK(rc == 0 && size == m_size(m), "get_size after %s: %d, %zu, model %zu", after, rc,
	      (size_t)size, (size_t)m_size(m));
}

static void
op_write(struct m_array *m, uint8_t *buf, daos_handle_t eqh)
{
	daos_range_t rgs[3];
	daos_array_iod_t iod = {.arr_rgs = rgs};
	d_sg_list_t sgl;
	d_iov_t iovs[3];
	size_t len = 0;
	size_t i;
	size_t c;
	int rc;

	iod.arr_nr = 1 + rnd(3);
	for (i = 0; i < iod.arr_nr; i++) {
		rnd_range(m, &rgs[i], 3 * m->chunk);
		if (getenv("ARRAY_TRACE") != NULL)
			fprintf(stderr, "  write cell %zu: %zu+%zu\n", (size_t)m->cell,
				(size_t)rgs[i].rg_idx, (size_t)rgs[i].rg_len);
	}
	for (i = 0; i < iod.arr_nr; i++) {
		for (c = 0; c < rgs[i].rg_len * m->cell; c++)
			buf[len + c] = (uint8_t)d_test_rand(&rs);
		memcpy(m->data + rgs[i].rg_idx * m->cell, buf + len, rgs[i].rg_len * m->cell);
		memset(m->present + rgs[i].rg_idx, 1, rgs[i].rg_len);
		len += rgs[i].rg_len * m->cell;
	}
	split_sgl(buf, len, iovs, &sgl);
	if (rnd(4) == 0) {
		daos_event_t ev;
		daos_event_t *out;

		CHECK(daos_event_init(&ev, eqh, NULL) == 0, "event init");
		rc = daos_array_write(m->oh, DAOS_TX_NONE, &iod, &sgl, &ev);
		CHECK(rc == 0, "async write: %d", rc);
		rc = daos_eq_poll(eqh, 1, DAOS_EQ_WAIT, 1, &out);
		CHECK(rc == 1 && out == &ev && ev.ev_error == 0, "poll: %d, %d", rc, ev.ev_error);
		daos_event_fini(&ev);
	} else {
		rc = daos_array_write(m->oh, DAOS_TX_NONE, &iod, &sgl, NULL);
		CHECK(rc == 0, "write: %d", rc);
	}
	check_size(m, "write");
}

static void
op_read(struct m_array *m, uint8_t *buf)
{
	daos_range_t rgs[3];
	daos_array_iod_t iod = {.arr_rgs = rgs};
	d_sg_list_t sgl;
	d_iov_t iovs[3];
	size_t len = 0;
	size_t i;
	int rc;

	iod.arr_nr = 1 + rnd(3);
	for (i = 0; i < iod.arr_nr; i++) {
		rnd_range(m, &rgs[i], 3 * m->chunk);
		if (getenv("ARRAY_TRACE") != NULL)
			fprintf(stderr, "  read cell %zu: %zu+%zu\n", (size_t)m->cell,
				(size_t)rgs[i].rg_idx, (size_t)rgs[i].rg_len);
		len += rgs[i].rg_len * m->cell;
	}
	memset(buf, 0xee, len);
	split_sgl(buf, len, iovs, &sgl);
	rc = daos_array_read(m->oh, DAOS_TX_NONE, &iod, &sgl, NULL);
	CHECK(rc == 0, "read: %d", rc);
	for (i = 0, len = 0; rc == 0 && i < iod.arr_nr; i++) {
		size_t n = rgs[i].rg_len * m->cell;
		size_t c;

		for (c = 0; c < rgs[i].rg_len; c++) {
			uint8_t *want = m->data + (rgs[i].rg_idx + c) * m->cell;

			if (memcmp(buf + len + c * m->cell, want, m->cell) != 0) {
				CHECK(0,
				      "read cell %zu (cell %zu chunk %zu, present %d) differs: "
				      "%02x want %02x",
				      (size_t)(rgs[i].rg_idx + c), (size_t)m->cell,
				      (size_t)m->chunk, m->present[rgs[i].rg_idx + c],
				      buf[len + c * m->cell], want[0]);
				break;
			}
		}
		len += n;
	}
}

static void
op_punch(struct m_array *m)
{
	daos_range_t rg;
	daos_array_iod_t iod = {.arr_nr = 1, .arr_rgs = &rg};
	int rc;

	rnd_range(m, &rg, 2 * m->chunk);
	if (getenv("ARRAY_TRACE") != NULL)
		fprintf(stderr, "  punch %zu+%zu\n", (size_t)rg.rg_idx, (size_t)rg.rg_len);
	memset(m->data + rg.rg_idx * m->cell, 0, rg.rg_len * m->cell);
	memset(m->present + rg.rg_idx, 0, rg.rg_len);
	rc = daos_array_punch(m->oh, DAOS_TX_NONE, &iod, NULL);
	CHECK(rc == 0, "punch: %d", rc);
	check_size(m, "punch");
}

static void
op_set_size(struct m_array *m)
{
	daos_size_t cur = m_size(m);
	daos_size_t size;
	int rc;

	switch (rnd(4)) {
	case 0:
		size = 0;
		break;
	case 1:
		size = cur + rnd(2 * (uint32_t)m->chunk);
		break;
	case 2:
		size = (cur / m->chunk) * m->chunk;
		break;
	default:
		size = rnd(MAX_CELLS);
		break;
	}
	if (size > MAX_CELLS)
		size = MAX_CELLS;
	if (getenv("ARRAY_TRACE") != NULL)
		fprintf(stderr, "  set_size %zu (was %zu)\n", (size_t)size, (size_t)cur);
	rc = daos_array_set_size(m->oh, DAOS_TX_NONE, size, NULL);
	CHECK(rc == 0, "set_size %zu: %d", (size_t)size, rc);
	if (size < MAX_CELLS) {
		memset(m->data + size * m->cell, 0, (MAX_CELLS - size) * m->cell);
		memset(m->present + size, 0, MAX_CELLS - size);
	}
	if (size > 0)
		m->present[size - 1] = 1;
	check_size(m, "set_size");
}

static void
big_array(daos_handle_t coh)
{
	size_t len = 64ULL << 20;
	daos_range_t rg = {.rg_idx = 0, .rg_len = len};
	daos_array_iod_t iod = {.arr_nr = 1, .arr_rgs = &rg};
	daos_obj_id_t oid = {.lo = 1000, .hi = 0};
	daos_handle_t oh;
	daos_size_t size = 0;
	d_sg_list_t sgl;
	d_iov_t iov;
	uint8_t *wbuf = malloc(len);
	uint8_t *rbuf = malloc(len);
	size_t i;
	int rc;

	CHECK(wbuf != NULL && rbuf != NULL, "malloc");
	if (wbuf == NULL || rbuf == NULL)
		goto out;
	for (i = 0; i < len; i += 8) {
		uint64_t v = d_test_rand(&rs);

		memcpy(wbuf + i, &v, 8);
	}
	rc = daos_array_generate_oid(coh, &oid, true, OC_SX, 0, 0);
	if (rc == 0)
		rc = daos_array_create(coh, oid, DAOS_TX_NONE, 1, 1 << 20, &oh, NULL);
	CHECK(rc == 0, "create big: %d", rc);
	if (rc != 0)
		goto out;
	d_iov_set(&iov, wbuf, len);
	sgl.sg_nr = 1;
	sgl.sg_nr_out = 0;
	sgl.sg_iovs = &iov;
	rc = daos_array_write(oh, DAOS_TX_NONE, &iod, &sgl, NULL);
	CHECK(rc == 0, "write 64 MiB: %d", rc);
	rc = daos_array_get_size(oh, DAOS_TX_NONE, &size, NULL);
	CHECK(rc == 0 && size == len, "size of 64 MiB: %d %zu", rc, (size_t)size);
	d_iov_set(&iov, rbuf, len);
	rc = daos_array_read(oh, DAOS_TX_NONE, &iod, &sgl, NULL);
	CHECK(rc == 0 && memcmp(wbuf, rbuf, len) == 0, "read 64 MiB: %d", rc);
	CHECK(iod.arr_nr_read == len && iod.arr_nr_short_read == 0, "nr_read %zu short %zu",
	      (size_t)iod.arr_nr_read, (size_t)iod.arr_nr_short_read);
	rc = daos_array_destroy(oh, DAOS_TX_NONE, NULL);
	CHECK(rc == 0, "destroy: %d", rc);
	rc = daos_array_close(oh, NULL);
	CHECK(rc == 0, "close: %d", rc);
out:
	free(wbuf);
	free(rbuf);
}

/*
 * Reads by bulk (MiB ranges) over data, holes inside a chunk, a punched range, a missing
 * chunk and the end of the array, into buffers filled with 0xee first and cut into uneven
 * iovs: every byte the array does not hold must read as zero (the array layer zeroes only
 * what the fetch did not fill).
 */
static void
holes_bulk(daos_handle_t coh)
{
	const size_t mib = 1 << 20;
	const size_t len = 5 * mib;
	static const struct {
		size_t off, len;
	} wr[] = {{10, 1000}, {mib + 300 * 1024, 256 * 1024}, {3 * mib + 512 * 1024, 10}};
	daos_obj_id_t oid = {.lo = 1001, .hi = 0};
	daos_range_t rg;
	daos_array_iod_t iod = {.arr_nr = 1, .arr_rgs = &rg};
	d_sg_list_t sgl = {0};
	d_iov_t iovs[3];
	uint8_t *model = calloc(1, len);
	uint8_t *buf = malloc(len);
	daos_handle_t oh;
	daos_size_t size = 0;
	size_t i;
	int rc;

	CHECK(model != NULL && buf != NULL, "malloc");
	if (model == NULL || buf == NULL)
		goto out;
	rc = daos_array_generate_oid(coh, &oid, true, OC_SX, 0, 0);
	if (rc == 0)
		rc = daos_array_create(coh, oid, DAOS_TX_NONE, 1, mib, &oh, NULL);
	CHECK(rc == 0, "create holes: %d", rc);
	if (rc != 0)
		goto out;
	for (i = 0; i < sizeof(wr) / sizeof(wr[0]) && rc == 0; i++) {
		size_t b;

		for (b = 0; b < wr[i].len; b++)
			buf[b] = (uint8_t)(1 + d_test_rand(&rs) % 255); /* never 0 */
		memcpy(model + wr[i].off, buf, wr[i].len);
		rg.rg_idx = wr[i].off;
		rg.rg_len = wr[i].len;
		d_iov_set(&iovs[0], buf, wr[i].len);
		sgl.sg_nr = 1;
		sgl.sg_iovs = iovs;
		rc = daos_array_write(oh, DAOS_TX_NONE, &iod, &sgl, NULL);
		CHECK(rc == 0, "write %zu: %d", i, rc);
	}
	/* a punched hole in the middle of the second write */
	rg.rg_idx = mib + 350 * 1024;
	rg.rg_len = 64 * 1024;
	rc = daos_array_punch(oh, DAOS_TX_NONE, &iod, NULL);
	CHECK(rc == 0, "punch: %d", rc);
	memset(model + rg.rg_idx, 0, rg.rg_len);
	rc = daos_array_get_size(oh, DAOS_TX_NONE, &size, NULL);
	CHECK(rc == 0 && size == wr[2].off + wr[2].len, "size %zu: %d", (size_t)size, rc);

	/* all of it, in three uneven iovs */
	memset(buf, 0xee, len);
	d_iov_set(&iovs[0], buf, 777);
	d_iov_set(&iovs[1], buf + 777, 2 * mib);
	d_iov_set(&iovs[2], buf + 777 + 2 * mib, len - 777 - 2 * mib);
	sgl.sg_nr = 3;
	rg.rg_idx = 0;
	rg.rg_len = len;
	rc = daos_array_read(oh, DAOS_TX_NONE, &iod, &sgl, NULL);
	CHECK(rc == 0, "read 5 MiB: %d", rc);
	for (i = 0; rc == 0 && i < len; i++) {
		if (buf[i] != model[i]) {
			CHECK(0, "byte %zu of 5 MiB: %02x want %02x", i, buf[i], model[i]);
			break;
		}
	}
	/* chunks 2 and 4 hold nothing: 2 MiB of short cells */
	CHECK(rc != 0 || (iod.arr_nr_short_read == 2 * mib && iod.arr_nr_read == 3 * mib),
	      "nr_read %zu short %zu", (size_t)iod.arr_nr_read, (size_t)iod.arr_nr_short_read);

	/* only past the end */
	memset(buf, 0xee, 2 * mib);
	d_iov_set(&iovs[0], buf, 2 * mib);
	sgl.sg_nr = 1;
	rg.rg_idx = 6 * mib + 5;
	rg.rg_len = 2 * mib;
	rc = daos_array_read(oh, DAOS_TX_NONE, &iod, &sgl, NULL);
	CHECK(rc == 0, "read past the end: %d", rc);
	for (i = 0; rc == 0 && i < 2 * mib; i++) {
		if (buf[i] != 0) {
			CHECK(0, "byte %zu past the end: %02x", i, buf[i]);
			break;
		}
	}
	CHECK(rc != 0 || iod.arr_nr_short_read == 2 * mib, "past the end: short %zu",
	      (size_t)iod.arr_nr_short_read);
	rc = daos_array_destroy(oh, DAOS_TX_NONE, NULL);
	CHECK(rc == 0, "destroy holes: %d", rc);
	daos_array_close(oh, NULL);
out:
	free(model);
	free(buf);
}

/* Metadata, handles and bad arguments. */
static void
api_checks(daos_handle_t coh)
{
	daos_obj_id_t oid = {.lo = 2000, .hi = 0};
	daos_obj_id_t aoid = {.lo = 2001, .hi = 0};
	daos_obj_id_t koid = {.lo = 2002, .hi = 0};
	daos_obj_id_t noid = {.lo = 2003, .hi = 0};
	daos_size_t cell = 0;
	daos_size_t chunk = 0;
	daos_handle_t oh;
	daos_handle_t oh2;
	daos_handle_t bad = {.cookie = 12345};
	daos_array_stbuf_t st;
	uint8_t gbuf[256];
	d_iov_t glob = {0};
	uint8_t cbuf[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint8_t rbuf[16];
	daos_range_t rg = {.rg_idx = 5, .rg_len = 2};
	daos_array_iod_t iod = {.arr_nr = 1, .arr_rgs = &rg};
	d_sg_list_t sgl;
	d_iov_t iov;
	int rc;

	CHECK(daos_array_generate_oid(coh, &oid, true, OC_S1, 0, 0) == 0, "oid");
	CHECK(daos_array_generate_oid(coh, &aoid, false, OC_S2, 0, 0) == 0, "oid");
	CHECK(daos_array_generate_oid(coh, &noid, true, OC_S1, 0, 0) == 0, "oid");
	CHECK(daos_obj_generate_oid(coh, &koid, DAOS_OT_KV_HASHED, OC_S1, 0, 0) == 0, "oid");
	CHECK(daos_array_create(coh, oid, DAOS_TX_NONE, 0, 10, &oh, NULL) == -DER_INVAL, "cell 0");
	CHECK(daos_array_create(coh, oid, DAOS_TX_NONE, 8, 0, &oh, NULL) == -DER_INVAL, "chunk 0");
	CHECK(daos_array_create(coh, koid, DAOS_TX_NONE, 8, 10, &oh, NULL) == -DER_INVAL, "kv oid");
	CHECK(daos_array_create(coh, oid, DAOS_TX_NONE, 8, 10, NULL, NULL) == -DER_INVAL, "NULL");
	rc = daos_array_create(coh, oid, DAOS_TX_NONE, 8, 10, &oh, NULL);
	CHECK(rc == 0, "create: %d", rc);
	rc = daos_array_create(coh, oid, DAOS_TX_NONE, 8, 10, &oh2, NULL);
	CHECK(rc == -DER_EXIST, "create twice: %d", rc);
	rc = daos_array_open(coh, noid, DAOS_TX_NONE, DAOS_OO_RW, &cell, &chunk, &oh2, NULL);
	CHECK(rc == -DER_NONEXIST, "open missing: %d", rc);
	rc = daos_array_open(coh, aoid, DAOS_TX_NONE, DAOS_OO_RW, &cell, &chunk, &oh2, NULL);
	CHECK(rc == -DER_INVAL, "open of an ATTR oid: %d", rc);
	rc = daos_array_open_with_attr(coh, oid, DAOS_TX_NONE, DAOS_OO_RW, 8, 10, &oh2, NULL);
	CHECK(rc == -DER_INVAL, "open_with_attr of an ARRAY oid: %d", rc);

	d_iov_set(&iov, cbuf, sizeof(cbuf));
	sgl.sg_nr = 1;
	sgl.sg_nr_out = 0;
	sgl.sg_iovs = &iov;
	CHECK(daos_array_write(oh, DAOS_TX_NONE, &iod, &sgl, NULL) == 0, "write");
	iov.iov_len = 15;
	CHECK(daos_array_write(oh, DAOS_TX_NONE, &iod, &sgl, NULL) == -DER_INVAL, "sgl length");
	CHECK(daos_array_read(oh, DAOS_TX_NONE, &iod, &sgl, NULL) == -DER_INVAL, "sgl length");
	CHECK(daos_array_read(oh, DAOS_TX_NONE, NULL, &sgl, NULL) == -DER_INVAL, "NULL iod");
	CHECK(daos_array_read(bad, DAOS_TX_NONE, &iod, &sgl, NULL) == -DER_NO_HDL, "bad handle");
	CHECK(daos_array_close(bad, NULL) == -DER_NO_HDL, "close bad");
	CHECK(daos_array_get_size(oh, DAOS_TX_NONE, NULL, NULL) == -DER_INVAL, "NULL size");
	CHECK(daos_array_get_attr(oh, &chunk, &cell) == 0 && cell == 8 && chunk == 10, "attr");
	rc = daos_array_stat(oh, DAOS_TX_NONE, &st, NULL);
	CHECK(rc == 0 && st.st_size == 7, "stat: %d %zu", rc, (size_t)st.st_size);

	/* open reads the attributes back; global handles */
	rc = daos_array_open(coh, oid, DAOS_TX_NONE, DAOS_OO_RO, &cell, &chunk, &oh2, NULL);
	CHECK(rc == 0 && cell == 8 && chunk == 10, "open: %d %zu %zu", rc, (size_t)cell,
	      (size_t)chunk);
	if (rc == 0)
		daos_array_close(oh2, NULL);
	rc = daos_array_local2global(oh, &glob);
	CHECK(rc == 0 && glob.iov_buf_len > 0 && glob.iov_buf_len <= sizeof(gbuf), "l2g size");
	glob.iov_buf = gbuf;
	glob.iov_buf_len = sizeof(gbuf);
	rc = daos_array_local2global(oh, &glob);
	CHECK(rc == 0, "l2g: %d", rc);
	rc = daos_array_global2local(coh, glob, 0, &oh2);
	CHECK(rc == 0, "g2l: %d", rc);
	if (rc == 0) {
		d_iov_set(&iov, rbuf, sizeof(rbuf));
		rc = daos_array_read(oh2, DAOS_TX_NONE, &iod, &sgl, NULL);
		CHECK(rc == 0 && memcmp(rbuf, cbuf, sizeof(cbuf)) == 0, "read by g2l: %d", rc);
		daos_array_close(oh2, NULL);
	}
	gbuf[0] ^= 0xff;
	CHECK(daos_array_global2local(coh, glob, 0, &oh2) == -DER_INVAL, "bad glob");

	/* open_with_attr: no metadata */
	rc = daos_array_open_with_attr(coh, aoid, DAOS_TX_NONE, DAOS_OO_RW, 4, 3, &oh2, NULL);
	CHECK(rc == 0, "open_with_attr: %d", rc);
	if (rc == 0) {
		daos_size_t size = 1;

		d_iov_set(&iov, cbuf, 8);
		CHECK(daos_array_write(oh2, DAOS_TX_NONE, &iod, &sgl, NULL) == 0, "write");
		rc = daos_array_get_size(oh2, DAOS_TX_NONE, &size, NULL);
		CHECK(rc == 0 && size == 7, "size with attr: %d %zu", rc, (size_t)size);
		daos_array_close(oh2, NULL);
	}
	CHECK(daos_array_destroy(oh, DAOS_TX_NONE, NULL) == 0, "destroy");
	rc = daos_array_open(coh, oid, DAOS_TX_NONE, DAOS_OO_RW, &cell, &chunk, &oh2, NULL);
	CHECK(rc == -DER_NONEXIST, "open destroyed: %d", rc);
	CHECK(daos_array_close(oh, NULL) == 0, "close");
}

int
main(int argc, char **argv)
{
	static const daos_size_t cfg[][2] = {{1, 1000}, {4, 37}, {8, 1024}, {3, 5}};
	struct m_array arrs[4];
	daos_handle_t poh;
	daos_handle_t coh;
	daos_handle_t eqh;
	long ops = argc > 2 ? strtol(argv[2], NULL, 0) : 1000;
	uint8_t *buf;
	long i;
	int a;
	int rc;

	rc = model_start(argc, argv, "array_test", &poh, &coh, &eqh);
	if (rc != 0)
		return rc;
	buf = malloc(3 * 3 * 1024 * 8 + 64);
	for (a = 0; a < 4; a++) {
		daos_obj_id_t oid = {.lo = (uint64_t)a + 1, .hi = 0};

		arrs[a].cell = cfg[a][0];
		arrs[a].chunk = cfg[a][1];
		arrs[a].data = calloc(MAX_CELLS, arrs[a].cell);
		arrs[a].present = calloc(MAX_CELLS, 1);
		rc = daos_array_generate_oid(coh, &oid, true, a % 2 ? OC_SX : OC_S1, 0, 0);
		if (rc == 0)
			rc = daos_array_create(coh, oid, DAOS_TX_NONE, arrs[a].cell, arrs[a].chunk,
					       &arrs[a].oh, NULL);
		if (rc != 0) {
			fprintf(stderr, "array %d: %s\n", a, d_errstr(rc));
			return 1;
		}
		check_size(&arrs[a], "create");
	}
	for (i = 0; i < ops && failures == 0; i++) {
		struct m_array *m = &arrs[rnd(4)];
		int op = rnd(100);

		if (getenv("ARRAY_TRACE") != NULL)
			fprintf(stderr, "op %ld: %d on array %d\n", i, op, (int)(m - arrs));

		if (op < 40)
			op_write(m, buf, eqh);
		else if (op < 75)
			op_read(m, buf);
		else if (op < 88)
			op_punch(m);
		else
			op_set_size(m);
	}
	for (a = 0; a < 4 && failures == 0; a++) {
		daos_range_t rg = {.rg_idx = 0, .rg_len = MAX_CELLS};
		daos_array_iod_t iod = {.arr_nr = 1, .arr_rgs = &rg};
		uint8_t *all = malloc(MAX_CELLS * arrs[a].cell);
		d_sg_list_t sgl;
		d_iov_t iov;

		d_iov_set(&iov, all, MAX_CELLS * arrs[a].cell);
		sgl.sg_nr = 1;
		sgl.sg_nr_out = 0;
		sgl.sg_iovs = &iov;
		rc = daos_array_read(arrs[a].oh, DAOS_TX_NONE, &iod, &sgl, NULL);
		CHECK(rc == 0 && memcmp(all, arrs[a].data, MAX_CELLS * arrs[a].cell) == 0,
		      "full read of array %d: %d", a, rc);
		free(all);
	}
	if (failures == 0)
		api_checks(coh);
	if (failures == 0)
		big_array(coh);
	if (failures == 0)
		holes_bulk(coh);
	for (a = 0; a < 4; a++) {
		daos_array_close(arrs[a].oh, NULL);
		free(arrs[a].data);
		free(arrs[a].present);
	}
	free(buf);
	return model_end(poh, coh, eqh, i);
}
