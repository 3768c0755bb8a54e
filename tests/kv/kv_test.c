/*
 * kv_test.c: libdaos's KV API against a real daos_server, checked against an in-memory
 * model.
 *
 *	kv_test MGMT_ADDR [OPS]
 *
 * Creates a pool on every target of the server (sys_pool.h), then on two KV objects (S1, SX)
 * runs a seeded random sequence of puts (plain and conditional, some on an event queue, some
 * values large enough for bulk), gets (sized by a NULL buffer, too-small buffers,
 * conditional), removes (plain and conditional) and listings in small batches with anchors,
 * comparing with the model; then bad arguments and destroy. Exits 0 when everything matched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <d_test.h>
#include <daos.h>
#include <daos_kv.h>
#include <gurt/common.h>

#include "../common/model_check.h"

#define NKV 2
#define NKEY 40
#define VAL_MAX 20000

struct m_val {
	bool exists;
	size_t len;
	uint8_t *val;
};

static struct m_val model[NKV][NKEY];
static daos_handle_t kvh[NKV];
static char keys[NKEY][16];

static void
op_put(int k, int key, uint8_t *buf, daos_handle_t eqh)
{
	struct m_val *m = &model[k][key];
	size_t len = rnd(4) == 0 ? 1 + rnd(VAL_MAX) : 1 + rnd(200);
	uint64_t flags = 0;
	int want = 0;
	size_t i;
	int rc;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)d_test_rand(&rs);
	switch (rnd(4)) {
	case 0:
		flags = DAOS_COND_KEY_INSERT;
		want = m->exists ? -DER_EXIST : 0;
		break;
	case 1:
		flags = DAOS_COND_KEY_UPDATE;
		want = m->exists ? 0 : -DER_NONEXIST;
		break;
	default:
		break;
	}
	if (rnd(4) == 0) {
		daos_event_t ev;
		daos_event_t *out;

		CHECK(daos_event_init(&ev, eqh, NULL) == 0, "event init");
		rc = daos_kv_put(kvh[k], DAOS_TX_NONE, flags, keys[key], len, buf, &ev);
		CHECK(rc == 0, "async put: %d", rc);
		rc = daos_eq_poll(eqh, 1, DAOS_EQ_WAIT, 1, &out);
		CHECK(rc == 1 && out == &ev, "poll: %d", rc);
		rc = ev.ev_error;
		daos_event_fini(&ev);
	} else {
		rc = daos_kv_put(kvh[k], DAOS_TX_NONE, flags, keys[key], len, buf, NULL);
	}
	CHECK(rc == want, "put %s flags %#lx: %d, want %d", keys[key], (unsigned long)flags, rc,
	      want);
	if (rc == 0) {
		m->exists = true;
		m->len = len;
		memcpy(m->val, buf, len);
	}
}

static void
op_get(int k, int key, uint8_t *buf)
{
	struct m_val *m = &model[k][key];
	daos_size_t size = 0;
	int rc;

	/* size only */
	rc = daos_kv_get(kvh[k], DAOS_TX_NONE, 0, keys[key], &size, NULL, NULL);
	CHECK(rc == 0 && size == (m->exists ? m->len : 0), "get size %s: %d %zu, want %zu",
	      keys[key], rc, (size_t)size, m->exists ? m->len : 0);
	rc = daos_kv_get(kvh[k], DAOS_TX_NONE, DAOS_COND_KEY_GET, keys[key], &size, NULL, NULL);
	CHECK(rc == (m->exists ? 0 : -DER_NONEXIST), "cond get %s: %d", keys[key], rc);
	if (!m->exists)
		return;
	if (m->len > 1 && rnd(4) == 0) {
		size = m->len - 1;
		rc = daos_kv_get(kvh[k], DAOS_TX_NONE, 0, keys[key], &size, buf, NULL);
		CHECK(rc == -DER_REC2BIG && size == m->len, "small get: %d %zu", rc, (size_t)size);
	}
	size = VAL_MAX;
	memset(buf, 0xee, VAL_MAX);
	rc = daos_kv_get(kvh[k], DAOS_TX_NONE, 0, keys[key], &size, buf, NULL);
	CHECK(rc == 0 && size == m->len && memcmp(buf, m->val, m->len) == 0,
	      "get %s: %d %zu want %zu", keys[key], rc, (size_t)size, m->len);
}

static void
op_remove(int k, int key)
{
	struct m_val *m = &model[k][key];
	uint64_t flags = rnd(2) ? DAOS_COND_KEY_REMOVE : 0;
	int want = flags != 0 && !m->exists ? -DER_NONEXIST : 0;
	int rc;

	rc = daos_kv_remove(kvh[k], DAOS_TX_NONE, flags, keys[key], NULL);
	CHECK(rc == want, "remove %s flags %#lx: %d, want %d", keys[key], (unsigned long)flags, rc,
	      want);
	if (rc == 0)
		m->exists = false;
}

static void
op_list(int k)
{
	daos_anchor_t anchor = {0};
	bool seen[NKEY] = {false};
	daos_key_desc_t kds[7];
	char kbuf[7 * 16];
	d_sg_list_t sgl;
	d_iov_t iov;
	int key;

	d_iov_set(&iov, kbuf, sizeof(kbuf));
	sgl.sg_nr = 1;
	sgl.sg_nr_out = 0;
	sgl.sg_iovs = &iov;
	while (!daos_anchor_is_eof(&anchor)) {
		uint32_t nr = 1 + rnd(7);
		size_t off = 0;
		uint32_t i;
		int rc;

		rc = daos_kv_list(kvh[k], DAOS_TX_NONE, &nr, kds, &sgl, &anchor, NULL);
		CHECK(rc == 0, "list: %d", rc);
		if (rc != 0)
			return;
		for (i = 0; i < nr; i++) {
			for (key = 0; key < NKEY; key++)
				if (strlen(keys[key]) == kds[i].kd_key_len &&
				    memcmp(keys[key], kbuf + off, kds[i].kd_key_len) == 0)
					break;
			CHECK(key < NKEY && !seen[key], "listed key %.*s unknown or twice",
			      (int)kds[i].kd_key_len, kbuf + off);
			if (key < NKEY)
				seen[key] = true;
			off += kds[i].kd_key_len;
		}
	}
	for (key = 0; key < NKEY; key++)
		CHECK(seen[key] == model[k][key].exists, "list: key %s seen %d, exists %d",
		      keys[key], seen[key], model[k][key].exists);
}

static void
bad_args(daos_handle_t coh)
{
	daos_handle_t bad = {.cookie = 4321};
	daos_obj_id_t aoid = {.lo = 77, .hi = 0};
	daos_size_t size = 4;
	daos_handle_t oh;
	char v[4] = "abc";
	daos_anchor_t anchor = {0};
	uint32_t nr = 1;

	CHECK(daos_obj_generate_oid(coh, &aoid, DAOS_OT_ARRAY, OC_S1, 0, 0) == 0, "oid");
	CHECK(daos_kv_open(coh, aoid, DAOS_OO_RW, &oh, NULL) == -DER_INVAL, "open of an array");
	CHECK(daos_kv_put(bad, DAOS_TX_NONE, 0, "k", 4, v, NULL) == -DER_NO_HDL, "bad handle");
	CHECK(daos_kv_put(kvh[0], DAOS_TX_NONE, 0, NULL, 4, v, NULL) == -DER_INVAL, "NULL key");
	CHECK(daos_kv_put(kvh[0], DAOS_TX_NONE, 0, "k", 4, NULL, NULL) == -DER_INVAL, "NULL buf");
	CHECK(daos_kv_get(kvh[0], DAOS_TX_NONE, 0, "k", NULL, v, NULL) == -DER_INVAL, "NULL size");
	CHECK(daos_kv_get(bad, DAOS_TX_NONE, 0, "k", &size, v, NULL) == -DER_NO_HDL, "bad get");
	CHECK(daos_kv_remove(kvh[0], DAOS_TX_NONE, 0, NULL, NULL) == -DER_INVAL, "NULL key");
	CHECK(daos_kv_list(kvh[0], DAOS_TX_NONE, &nr, NULL, NULL, &anchor, NULL) == -DER_INVAL,
	      "list NULL");
	CHECK(daos_kv_close(bad, NULL) == -DER_NO_HDL, "close bad");
}

int
main(int argc, char **argv)
{
	daos_handle_t poh;
	daos_handle_t coh;
	daos_handle_t eqh;
	long ops = argc > 2 ? strtol(argv[2], NULL, 0) : 1000;
	uint8_t *buf;
	long i;
	int k;
	int key;
	int rc;

	rc = model_start(argc, argv, "kv_test", &poh, &coh, &eqh);
	if (rc != 0)
		return rc;
	buf = malloc(VAL_MAX);
	for (key = 0; key < NKEY; key++)
		snprintf(keys[key], sizeof(keys[key]), "key-%d%s", key, key % 3 ? "" : "-long");
	for (k = 0; k < NKV; k++) {
		daos_obj_id_t oid = {.lo = (uint64_t)k + 1, .hi = 0};

		for (key = 0; key < NKEY; key++)
			model[k][key].val = malloc(VAL_MAX);
		rc = daos_obj_generate_oid(coh, &oid, DAOS_OT_KV_HASHED, k ? OC_SX : OC_S1, 0, 0);
		if (rc == 0)
			rc = daos_kv_open(coh, oid, DAOS_OO_RW, &kvh[k], NULL);
		if (rc != 0) {
			fprintf(stderr, "kv %d: %s\n", k, d_errstr(rc));
			return 1;
		}
	}
	for (i = 0; i < ops && failures == 0; i++) {
		int op = rnd(100);

		k = rnd(NKV);
		key = rnd(NKEY);
		if (op < 40)
			op_put(k, key, buf, eqh);
		else if (op < 75)
			op_get(k, key, buf);
		else if (op < 92)
			op_remove(k, key);
		else
			op_list(k);
	}
	for (k = 0; k < NKV && failures == 0; k++) {
		op_list(k);
		for (key = 0; key < NKEY; key++)
			op_get(k, key, buf);
	}
	if (failures == 0)
		bad_args(coh);
	if (failures == 0) {
		rc = daos_kv_destroy(kvh[0], DAOS_TX_NONE, NULL);
		CHECK(rc == 0, "destroy: %d", rc);
		for (key = 0; key < NKEY; key++)
			model[0][key].exists = false;
		op_list(0);
	}
	for (k = 0; k < NKV; k++) {
		CHECK(daos_kv_close(kvh[k], NULL) == 0, "close");
		for (key = 0; key < NKEY; key++)
			free(model[k][key].val);
	}
	free(buf);
	return model_end(poh, coh, eqh, i);
}
