/*
 * test_obj_rpc.c: the object protocol's codecs: round trips of random iods, keys and
 * messages, the limits, and garbage (random bytes, truncations and flipped bytes of valid
 * encodings) fed to every decoder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <d_test.h>
#include <daos/obj_rpc.h>
#include <gurt/common.h>

static uint64_t rs;

static int
setup(void **state)
{
	(void)state;
	rs = d_test_rand_seed(d_test_seed("obj_test_rpc"));
	return net_proto_register(&obj_proto);
}

static uint32_t
rnd(uint32_t n)
{
	return (uint32_t)(d_test_rand(&rs) % n);
}

/* Random iods; names and recxs in @store (freed by the caller with free_iods). */
static daos_iod_t *
rand_iods(uint32_t nr)
{
	daos_iod_t *iods = calloc(nr, sizeof(*iods));
	uint32_t i;
	uint32_t j;

	assert_non_null(iods);
	for (i = 0; i < nr; i++) {
		uint32_t klen = 1 + rnd(40);
		char *name = malloc(klen);

		assert_non_null(name);
		for (j = 0; j < klen; j++)
			name[j] = (char)rnd(256);
		d_iov_set(&iods[i].iod_name, name, klen);
		iods[i].iod_size = rnd(5000);
		iods[i].iod_flags = rnd(4) == 0 ? DAOS_COND_AKEY_INSERT : 0;
		if (rnd(2) == 0) {
			iods[i].iod_type = DAOS_IOD_SINGLE;
			iods[i].iod_nr = 1;
		} else {
			iods[i].iod_type = DAOS_IOD_ARRAY;
			iods[i].iod_nr = 1 + rnd(6);
			iods[i].iod_recxs = calloc(iods[i].iod_nr, sizeof(daos_recx_t));
			assert_non_null(iods[i].iod_recxs);
			for (j = 0; j < iods[i].iod_nr; j++) {
				iods[i].iod_recxs[j].rx_idx = d_test_rand(&rs) >> 20;
				iods[i].iod_recxs[j].rx_nr = 1 + rnd(1000);
			}
		}
	}
	return iods;
}

static void
free_iods(daos_iod_t *iods, uint32_t nr)
{
	uint32_t i;

	for (i = 0; i < nr; i++) {
		free(iods[i].iod_name.iov_buf);
		free(iods[i].iod_recxs);
	}
	free(iods);
}

static void
assert_iods_equal(const daos_iod_t *a, const daos_iod_t *b, uint32_t nr)
{
	uint32_t i;

	for (i = 0; i < nr; i++) {
		assert_int_equal(a[i].iod_name.iov_len, b[i].iod_name.iov_len);
		assert_memory_equal(a[i].iod_name.iov_buf, b[i].iod_name.iov_buf,
				    a[i].iod_name.iov_len);
		assert_int_equal(a[i].iod_type, b[i].iod_type);
		assert_int_equal(a[i].iod_size, b[i].iod_size);
		assert_int_equal(a[i].iod_flags, b[i].iod_flags);
		assert_int_equal(a[i].iod_nr, b[i].iod_nr);
		if (a[i].iod_type == DAOS_IOD_ARRAY)
			assert_memory_equal(a[i].iod_recxs, b[i].iod_recxs,
					    a[i].iod_nr * sizeof(daos_recx_t));
	}
}

/* Encode @nr random iods into a fresh buffer: *@len gets its size. */
static void *
encode_iods(const daos_iod_t *iods, uint32_t nr, size_t *len)
{
	int64_t n = obj_iods_encode(iods, nr, NULL, 0);
	void *buf;

	assert_true(n > 0);
	buf = malloc(n);
	assert_non_null(buf);
	assert_int_equal(obj_iods_encode(iods, nr, buf, n), n);
	if (n > 1)
		assert_int_equal(obj_iods_encode(iods, nr, buf, n - 1), -DER_OVERFLOW);
	*len = n;
	return buf;
}

static void
test_iods_roundtrip(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 500; round++) {
		uint32_t nr = 1 + rnd(8);
		daos_iod_t *iods = rand_iods(nr);
		daos_iod_t *out;
		size_t len;
		void *buf = encode_iods(iods, nr, &len);
		d_iov_t blob;

		d_iov_set(&blob, buf, len);
		assert_int_equal(obj_iods_decode(&blob, nr, &out), 0);
		assert_iods_equal(iods, out, nr);
		assert_int_equal(obj_iods_data_len(iods, nr), obj_iods_data_len(out, nr));
		obj_iods_free(out, nr);
		/* a count that does not match the bytes */
		assert_int_equal(obj_iods_decode(&blob, nr + 1, &out), -DER_PROTO);
		if (nr > 1)
			assert_int_equal(obj_iods_decode(&blob, nr - 1, &out), -DER_PROTO);
		free(buf);
		free_iods(iods, nr);
	}
}

static void
test_iods_invalid(void **state)
{
	daos_recx_t rx = {.rx_idx = 0, .rx_nr = 1};
	daos_iod_t iod = {.iod_type = DAOS_IOD_ARRAY, .iod_size = 1, .iod_nr = 1, .iod_recxs = &rx};
	daos_iod_t *out;
	char name[] = "a";
	char big[OBJ_KEY_MAX + 1];
	uint8_t buf[256];
	d_iov_t blob;
	int64_t n;

	(void)state;
	d_iov_set(&iod.iod_name, name, 1);
	n = obj_iods_encode(&iod, 1, buf, sizeof(buf));
	assert_true(n > 0);
	d_iov_set(&blob, buf, n);
	assert_int_equal(obj_iods_decode(&blob, 0, &out), -DER_INVAL);
	assert_int_equal(obj_iods_decode(&blob, OBJ_IOD_MAX + 1, &out), -DER_INVAL);

	/* extents of 0 records, wrapping around, or reaching into the parity space */
	rx.rx_nr = 0;
	n = obj_iods_encode(&iod, 1, buf, sizeof(buf));
	d_iov_set(&blob, buf, n);
	assert_int_equal(obj_iods_decode(&blob, 1, &out), -DER_INVAL);
	rx = (daos_recx_t){.rx_idx = UINT64_MAX - 1, .rx_nr = 4};
	n = obj_iods_encode(&iod, 1, buf, sizeof(buf));
	d_iov_set(&blob, buf, n);
	assert_int_equal(obj_iods_decode(&blob, 1, &out), -DER_INVAL);
	rx = (daos_recx_t){.rx_idx = DAOS_EC_PARITY_BIT, .rx_nr = 1};
	n = obj_iods_encode(&iod, 1, buf, sizeof(buf));
	d_iov_set(&blob, buf, n);
	assert_int_equal(obj_iods_decode(&blob, 1, &out), -DER_INVAL);

	/* a data stream too large to describe */
	rx = (daos_recx_t){.rx_idx = 0, .rx_nr = 1ULL << 40};
	iod.iod_size = 1ULL << 30;
	assert_true(obj_iods_data_len(&iod, 1) < 0);

	/* an empty or oversized name, a bad type */
	iod.iod_size = 1;
	rx.rx_nr = 1;
	d_iov_set(&iod.iod_name, name, 0);
	n = obj_iods_encode(&iod, 1, buf, sizeof(buf));
	d_iov_set(&blob, buf, n);
	assert_int_equal(obj_iods_decode(&blob, 1, &out), -DER_INVAL);
	memset(big, 'x', sizeof(big));
	d_iov_set(&iod.iod_name, big, sizeof(big));
	assert_int_equal(obj_iods_encode(&iod, 1, NULL, 0), -DER_INVAL);
	d_iov_set(&iod.iod_name, name, 1);
	iod.iod_type = 7;
	assert_int_equal(obj_iods_encode(&iod, 1, NULL, 0), -DER_INVAL);
}

static void
test_keys(void **state)
{
	daos_key_t keys[3];
	daos_key_t *out;
	char a[] = "dkey-a";
	char b[] = "b";
	char c[300];
	uint8_t buf[512];
	d_iov_t blob;
	int64_t n;
	int i;

	(void)state;
	memset(c, 'c', sizeof(c));
	d_iov_set(&keys[0], a, strlen(a));
	d_iov_set(&keys[1], b, 1);
	d_iov_set(&keys[2], c, sizeof(c));
	n = obj_keys_encode(keys, 3, NULL, 0);
	assert_int_equal(n, 3 * 4 + strlen(a) + 1 + sizeof(c));
	assert_int_equal(obj_keys_encode(keys, 3, buf, sizeof(buf)), n);
	d_iov_set(&blob, buf, n);
	assert_int_equal(obj_keys_decode(&blob, 3, &out), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(out[i].iov_len, keys[i].iov_len);
		assert_memory_equal(out[i].iov_buf, keys[i].iov_buf, keys[i].iov_len);
	}
	D_FREE(out);
	assert_int_equal(obj_keys_decode(&blob, 2, &out), -DER_PROTO);
	assert_int_equal(obj_keys_decode(&blob, 4, &out), -DER_PROTO);
	assert_int_equal(obj_keys_decode(&blob, 0, &out), -DER_INVAL);
	d_iov_set(&keys[0], a, 0);
	n = obj_keys_encode(keys, 1, buf, sizeof(buf));
	d_iov_set(&blob, buf, n);
	assert_int_equal(obj_keys_decode(&blob, 1, &out), -DER_INVAL); /* empty key */
}

static void
test_u64s(void **state)
{
	uint64_t v[3] = {htole64(1), htole64(UINT64_MAX), htole64(42)};
	uint64_t out[3];
	d_iov_t blob;

	(void)state;
	d_iov_set(&blob, v, sizeof(v));
	assert_int_equal(obj_u64s_decode(&blob, 3, out), 0);
	assert_int_equal(out[1], UINT64_MAX);
	assert_int_equal(out[2], 42);
	assert_int_equal(obj_u64s_decode(&blob, 2, out), -DER_PROTO);
	blob.iov_len = 23;
	assert_int_equal(obj_u64s_decode(&blob, 3, out), -DER_PROTO);
}

/* The (shard, target) pairs of a collective query: round trip, limits, bad contents. */
static void
test_coll(void **state)
{
	struct obj_coll_shard cs[OBJ_COLL_MAX + 1];
	struct obj_coll_shard out[OBJ_COLL_MAX + 1];
	uint8_t buf[8 * (OBJ_COLL_MAX + 1)];
	d_iov_t blob;
	uint32_t i;

	(void)state;
	for (i = 0; i < OBJ_COLL_MAX + 1; i++) {
		cs[i].cs_shard = i * 3 + (i % 2 ? 0x01000000U : 0);
		cs[i].cs_tgt = i % 7;
	}
	obj_coll_encode(cs, OBJ_COLL_MAX, buf);
	d_iov_set(&blob, buf, 8 * OBJ_COLL_MAX);
	assert_int_equal(obj_coll_decode(&blob, OBJ_COLL_MAX, 7, out), 0);
	for (i = 0; i < OBJ_COLL_MAX; i++) {
		assert_int_equal(out[i].cs_shard, cs[i].cs_shard);
		assert_int_equal(out[i].cs_tgt, cs[i].cs_tgt);
	}
	/* little-endian on the wire */
	assert_int_equal(buf[8], 3);
	assert_int_equal(buf[11], 1);
	/* a target the engine does not have */
	assert_int_equal(obj_coll_decode(&blob, OBJ_COLL_MAX, 6, out), -DER_INVAL);
	/* counts: none, too many, disagreeing with the length */
	blob.iov_len = 0;
	assert_int_equal(obj_coll_decode(&blob, 0, 7, out), -DER_INVAL);
	obj_coll_encode(cs, OBJ_COLL_MAX + 1, buf);
	d_iov_set(&blob, buf, sizeof(buf));
	assert_int_equal(obj_coll_decode(&blob, OBJ_COLL_MAX + 1, 7, out), -DER_INVAL);
	d_iov_set(&blob, buf, 8 * 3);
	assert_int_equal(obj_coll_decode(&blob, 2, 7, out), -DER_PROTO);
	blob.iov_len = 8 * 3 - 1;
	assert_int_equal(obj_coll_decode(&blob, 3, 7, out), -DER_PROTO);
	/* a shard named twice */
	cs[2].cs_shard = cs[0].cs_shard;
	obj_coll_encode(cs, 3, buf);
	d_iov_set(&blob, buf, 8 * 3);
	assert_int_equal(obj_coll_decode(&blob, 3, 7, out), -DER_INVAL);
}

/* Encode @req (of opcode @opc, request or reply) into a fresh buffer. */
static void *
encode_msg(uint16_t opc, bool reply, const void *msg, size_t *len)
{
	const struct net_opc_info *oi = net_opc_info(opc);
	struct net_wbuf w;
	size_t n;
	void *buf;

	assert_non_null(oi);
	n = reply ? oi->oi_rep_len(msg) : oi->oi_req_len(msg);
	buf = malloc(n + 1);
	assert_non_null(buf);
	w.wb_cur = buf;
	w.wb_end = (uint8_t *)buf + n;
	assert_int_equal(reply ? oi->oi_rep_enc(msg, &w) : oi->oi_req_enc(msg, &w), 0);
	assert_ptr_equal(w.wb_cur, w.wb_end);
	*len = n;
	return buf;
}

static void
fill_hdr(struct obj_hdr *h)
{
	uuid_generate(h->oh_pool);
	uuid_generate(h->oh_cont);
	uuid_generate(h->oh_coh);
	h->oh_oid_lo = d_test_rand(&rs);
	h->oh_oid_hi = d_test_rand(&rs);
	h->oh_shard = 3;
	h->oh_map_ver = 7;
	h->oh_epoch = d_test_rand(&rs);
	h->oh_flags = DAOS_COND_DKEY_INSERT | OBJ_F_BULK;
}

static void
test_update_msg(void **state)
{
	struct obj_update_in in = {0};
	struct obj_update_in out;
	daos_iod_t *iods = rand_iods(4);
	daos_iod_t *dec;
	char dkey[] = "the dkey";
	char data[100];
	size_t ilen;
	size_t len;
	void *iblob = encode_iods(iods, 4, &ilen);
	void *buf;

	(void)state;
	fill_hdr((struct obj_hdr *)&in);
	memset(data, 'd', sizeof(data));
	d_iov_set(&in.ui_dkey, dkey, strlen(dkey));
	in.ui_iod_nr = 4;
	d_iov_set(&in.ui_iods, iblob, ilen);
	in.ui_data_len = sizeof(data);
	d_iov_set(&in.ui_data, data, sizeof(data));
	buf = encode_msg(OBJ_OPC_UPDATE, false, &in, &len);
	assert_int_equal(net_body_decode(OBJ_OPC_UPDATE, false, buf, len, &out), 0);
	assert_memory_equal(out.oh_pool, in.oh_pool, sizeof(uuid_t));
	assert_memory_equal(out.oh_coh, in.oh_coh, sizeof(uuid_t));
	assert_int_equal(out.oh_oid_hi, in.oh_oid_hi);
	assert_int_equal(out.oh_epoch, in.oh_epoch);
	assert_int_equal(out.oh_flags, in.oh_flags);
	assert_int_equal(out.ui_dkey.iov_len, strlen(dkey));
	assert_int_equal(out.ui_data.iov_len, sizeof(data));
	assert_int_equal(obj_iods_decode(&out.ui_iods, out.ui_iod_nr, &dec), 0);
	assert_iods_equal(iods, dec, 4);
	obj_iods_free(dec, 4);
	/* the header of every request decodes as struct obj_hdr */
	assert_int_equal(offsetof(struct obj_update_in, ui_dkey), sizeof(struct obj_hdr));
	assert_int_equal(offsetof(struct obj_fetch_in, fi_dkey), sizeof(struct obj_hdr));
	assert_int_equal(offsetof(struct obj_punch_in, pi_kind), sizeof(struct obj_hdr));
	assert_int_equal(offsetof(struct obj_list_in, li_kind), sizeof(struct obj_hdr));
	assert_int_equal(offsetof(struct obj_query_in, qi_qflags), sizeof(struct obj_hdr));

	/* a forward list is refused, by the decoder (its length sits after 3 uuids, 4 u64s,
	 * 2 u32s and the empty dti) and by the encoder */
	((uint8_t *)buf)[48 + 32 + 8 + 4] = 1;
	assert_int_equal(net_body_decode(OBJ_OPC_UPDATE, false, buf, len, &out), -DER_INVAL);
	free(buf);
	{
		const struct net_opc_info *oi = net_opc_info(OBJ_OPC_UPDATE);
		uint8_t tmp[4096];
		struct net_wbuf w = {tmp, tmp + sizeof(tmp)};

		d_iov_set(&in.oh_fwd, data, 8);
		assert_int_equal(oi->oi_req_enc(&in, &w), -DER_OVERFLOW);
	}
	free(iblob);
	free_iods(iods, 4);
}

/* Decode @buf as every request and reply, and the lists: no crash, a clean code. */
static void
decode_all(const void *buf, size_t len)
{
	static const uint16_t opcs[] = {OBJ_OPC_UPDATE,     OBJ_OPC_FETCH,     OBJ_OPC_PUNCH,
					OBJ_OPC_LIST,       OBJ_OPC_QUERY_KEY, OBJ_OPC_QUERY_COLL,
					OBJ_OPC_FETCH_QUERY};
	union {
		struct obj_update_in ui;
		struct obj_update_out uo;
		struct obj_fetch_in fi;
		struct obj_fetch_out fo;
		struct obj_punch_in pi;
		struct obj_list_in li;
		struct obj_list_out lo;
		struct obj_query_in qi;
		struct obj_query_out qo;
		struct obj_query_coll_in qci;
		struct obj_fetch_query_in fqi;
		struct obj_fetch_query_out fqo;
	} u;
	struct obj_coll_shard cs[OBJ_COLL_MAX];
	d_iov_t blob;
	daos_iod_t *iods;
	daos_key_t *keys;
	uint64_t v[4];
	unsigned int i;
	int rc;

	for (i = 0; i < sizeof(opcs) / sizeof(opcs[0]); i++) {
		rc = net_body_decode(opcs[i], false, buf, len, &u);
		assert_true(rc == 0 || rc == -DER_PROTO || rc == -DER_INVAL);
		if (rc == 0 && opcs[i] == OBJ_OPC_FETCH_QUERY) {
			/* what the engine checks before it fetches */
			rc = obj_fetch_query_check(&u.fqi, 4, cs);
			assert_true(rc == 0 || rc == -DER_PROTO || rc == -DER_INVAL);
		}
		rc = net_body_decode(opcs[i], true, buf, len, &u);
		assert_true(rc == 0 || rc == -DER_PROTO || rc == -DER_INVAL);
	}
	d_iov_set(&blob, (void *)buf, len);
	for (i = 1; i < 5; i++) {
		rc = obj_iods_decode(&blob, i, &iods);
		assert_true(rc == 0 || rc == -DER_PROTO || rc == -DER_INVAL);
		if (rc == 0)
			obj_iods_free(iods, i);
		rc = obj_keys_decode(&blob, i, &keys);
		assert_true(rc == 0 || rc == -DER_PROTO || rc == -DER_INVAL);
		if (rc == 0)
			D_FREE(keys);
		rc = obj_u64s_decode(&blob, i, v);
		assert_true(rc == 0 || rc == -DER_PROTO);
		rc = obj_coll_decode(&blob, i, 4, cs);
		assert_true(rc == 0 || rc == -DER_PROTO || rc == -DER_INVAL);
	}
}

/*
 * A fetch and query (OBJ_OPC_FETCH_QUERY): both halves round trip, the fetch's fields lead
 * both messages as they lead a fetch's (the engine and the client read them as one), the
 * query half is checked (flags, akey, pairs), and damaged messages decode cleanly.
 */
static void
test_fetch_query_msg(void **state)
{
	struct obj_fetch_query_in in = {0};
	struct obj_fetch_query_in dec;
	struct obj_fetch_query_out out = {0};
	struct obj_fetch_query_out odec;
	struct obj_coll_shard cs[3] = {{0, 0}, {1, 3}, {2, 1}};
	struct obj_coll_shard got[OBJ_COLL_MAX];
	uint8_t pairs[8 * 3];
	uint64_t caps = htole64(4096);
	daos_iod_t *iods = rand_iods(1);
	char dkey[] = "entry name";
	char akey = '0';
	size_t ilen;
	size_t len;
	void *iblob = encode_iods(iods, 1, &ilen);
	uint8_t *buf;
	int k;

	(void)state;
	assert_int_equal(offsetof(struct obj_fetch_query_in, fqi_oid_lo),
			 sizeof(struct obj_fetch_in));
	assert_int_equal(offsetof(struct obj_fetch_query_out, fqo_qrc),
			 sizeof(struct obj_fetch_out));
	fill_hdr((struct obj_hdr *)&in);
	in.oh_flags = 0;
	d_iov_set(&in.fi_dkey, dkey, strlen(dkey));
	in.fi_iod_nr = 1;
	d_iov_set(&in.fi_iods, iblob, ilen);
	d_iov_set(&in.fi_caps, &caps, 8);
	in.fqi_oid_lo = d_test_rand(&rs);
	in.fqi_oid_hi = d_test_rand(&rs);
	in.fqi_qflags = DAOS_GET_MAX | DAOS_GET_DKEY | DAOS_GET_RECX;
	d_iov_set(&in.fqi_akey, &akey, 1);
	obj_coll_encode(cs, 3, pairs);
	in.fqi_shard_nr = 3;
	d_iov_set(&in.fqi_shards, pairs, sizeof(pairs));
	buf = encode_msg(OBJ_OPC_FETCH_QUERY, false, &in, &len);
	assert_int_equal(net_body_decode(OBJ_OPC_FETCH_QUERY, false, buf, len, &dec), 0);
	assert_memory_equal(dec.oh_cont, in.oh_cont, sizeof(uuid_t));
	assert_int_equal(dec.fi_dkey.iov_len, strlen(dkey));
	assert_int_equal(dec.fi_iod_nr, 1);
	assert_int_equal(dec.fqi_oid_lo, in.fqi_oid_lo);
	assert_int_equal(dec.fqi_oid_hi, in.fqi_oid_hi);
	assert_int_equal(dec.fqi_qflags, in.fqi_qflags);
	assert_int_equal(obj_fetch_query_check(&dec, 4, got), 0);
	for (k = 0; k < 3; k++) {
		assert_int_equal(got[k].cs_shard, cs[k].cs_shard);
		assert_int_equal(got[k].cs_tgt, cs[k].cs_tgt);
	}
	/* a target beyond the engine's */
	assert_int_equal(obj_fetch_query_check(&dec, 3, got), -DER_INVAL);
	/* the query half: flags without a dkey, with an akey, both MAX and MIN; no akey */
	dec.fqi_qflags = DAOS_GET_MAX | DAOS_GET_RECX;
	assert_int_equal(obj_fetch_query_check(&dec, 4, got), -DER_INVAL);
	dec.fqi_qflags = DAOS_GET_MAX | DAOS_GET_DKEY | DAOS_GET_AKEY;
	assert_int_equal(obj_fetch_query_check(&dec, 4, got), -DER_INVAL);
	dec.fqi_qflags = DAOS_GET_MAX | DAOS_GET_MIN | DAOS_GET_DKEY;
	assert_int_equal(obj_fetch_query_check(&dec, 4, got), -DER_INVAL);
	dec.fqi_qflags = DAOS_GET_MIN | DAOS_GET_DKEY;
	assert_int_equal(obj_fetch_query_check(&dec, 4, got), 0);
	dec.fqi_akey.iov_len = 0;
	assert_int_equal(obj_fetch_query_check(&dec, 4, got), -DER_INVAL);
	dec.fqi_akey.iov_len = 1;
	/* pairs: none, a count that disagrees with the bytes */
	dec.fqi_shard_nr = 0;
	assert_int_equal(obj_fetch_query_check(&dec, 4, got), -DER_INVAL);
	dec.fqi_shard_nr = 2;
	assert_int_equal(obj_fetch_query_check(&dec, 4, got), -DER_PROTO);
	/* damaged copies of the real message: truncated everywhere, bytes flipped */
	for (k = 0; k < 2000; k++) {
		uint8_t *copy = malloc(len);
		size_t cut = rnd((uint32_t)len + 1);
		uint32_t j;

		assert_non_null(copy);
		memcpy(copy, buf, len);
		decode_all(copy, cut);
		for (j = 0; j < 1 + rnd(4); j++)
			copy[rnd((uint32_t)len)] ^= (uint8_t)(1 + rnd(255));
		decode_all(copy, len);
		free(copy);
	}
	free(buf);

	/* the reply: the fetch's fields, then the query's outcome and answer */
	out.fo_epoch = 77;
	out.fo_map_ver = 3;
	out.fqo_qrc = -DER_NONEXIST;
	out.fqo_dkey = 5;
	out.fqo_rx_idx = 100;
	out.fqo_rx_nr = 23;
	buf = encode_msg(OBJ_OPC_FETCH_QUERY, true, &out, &len);
	assert_int_equal(net_body_decode(OBJ_OPC_FETCH_QUERY, true, buf, len, &odec), 0);
	assert_int_equal(odec.fo_epoch, 77);
	assert_int_equal(odec.fqo_qrc, -DER_NONEXIST);
	assert_int_equal(odec.fqo_dkey, 5);
	assert_int_equal(odec.fqo_rx_idx, 100);
	assert_int_equal(odec.fqo_rx_nr, 23);
	for (k = 0; k < 2000; k++) {
		size_t cut = rnd((uint32_t)len + 1);

		decode_all(buf, cut);
	}
	/* one byte short */
	assert_int_equal(net_body_decode(OBJ_OPC_FETCH_QUERY, true, buf, len - 1, &odec),
			 -DER_PROTO);
	free(buf);
	free(iblob);
	free_iods(iods, 1);
}

static void
test_garbage(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 3000; round++) {
		uint32_t nr = 1 + rnd(3);
		daos_iod_t *iods = rand_iods(nr);
		size_t len;
		uint8_t *buf = encode_iods(iods, nr, &len);
		size_t cut = rnd((uint32_t)len + 1);
		uint32_t k;

		/* truncated */
		decode_all(buf, cut);
		/* a few flipped bytes */
		for (k = 0; k < 1 + rnd(4); k++)
			buf[rnd((uint32_t)len)] ^= (uint8_t)(1 + rnd(255));
		decode_all(buf, len);
		/* random bytes */
		for (k = 0; k < len; k++)
			buf[k] = (uint8_t)rnd(256);
		decode_all(buf, len);
		free(buf);
		free_iods(iods, nr);
	}
}

/* Merge @nr answers with obj_query_merge, in order, from the documented start. */
static struct obj_qans
merge_all(uint32_t f, const struct obj_qans *ans, uint32_t nr)
{
	struct obj_qans acc = {.qa_rc = -DER_NONEXIST};
	uint32_t i;

	for (i = 0; i < nr; i++)
		obj_query_merge(f, &acc, &ans[i]);
	return acc;
}

/* The value of @a that round @r (0 dkey, 1 akey, 2 recx end) of the model compares. */
static uint64_t
qans_field(const struct obj_qans *a, int r)
{
	return r == 0 ? a->qa_dkey : r == 1 ? a->qa_akey : a->qa_recx.rx_idx + a->qa_recx.rx_nr;
}

/*
 * The model, computed another way: the first error wins; else keep the candidates that
 * found something, narrow them to those with the best dkey (if asked), then the best akey
 * among those (if asked), then the best extent end; the first left is the answer.
 */
static struct obj_qans
merge_model(uint32_t f, const struct obj_qans *ans, uint32_t nr)
{
	static const uint32_t ask[3] = {DAOS_GET_DKEY, DAOS_GET_AKEY, DAOS_GET_RECX};
	struct obj_qans none = {.qa_rc = -DER_NONEXIST};
	bool cand[16];
	uint32_t i;
	int r;

	assert_true(nr <= 16);
	for (i = 0; i < nr; i++)
		if (ans[i].qa_rc != 0 && ans[i].qa_rc != -DER_NONEXIST)
			return ans[i];
	for (i = 0; i < nr; i++)
		cand[i] = ans[i].qa_rc == 0;
	for (r = 0; r < 3; r++) {
		bool have = false;
		uint64_t best = 0;

		if (!(f & ask[r]))
			continue;
		for (i = 0; i < nr; i++) {
			uint64_t v = qans_field(&ans[i], r);

			if (!cand[i])
				continue;
			if (!have || ((f & DAOS_GET_MAX) ? v > best : v < best))
				best = v;
			have = true;
		}
		for (i = 0; i < nr; i++)
			if (cand[i] && qans_field(&ans[i], r) != best)
				cand[i] = false;
	}
	for (i = 0; i < nr; i++)
		if (cand[i])
			return ans[i];
	return none;
}

/* obj_query_merge, the fold of the client and the engine, against the model. */
static void
test_query_merge(void **state)
{
	static const uint32_t keys[] = {
	    DAOS_GET_DKEY,
	    DAOS_GET_DKEY | DAOS_GET_RECX,
	    DAOS_GET_DKEY | DAOS_GET_AKEY | DAOS_GET_RECX,
	    DAOS_GET_AKEY,
	    DAOS_GET_RECX,
	    DAOS_GET_AKEY | DAOS_GET_RECX,
	    DAOS_GET_DKEY | DAOS_GET_AKEY,
	};
	struct obj_qans ans[16];
	struct obj_qans got;
	struct obj_qans want;
	uint32_t f;
	int iter;
	uint32_t i;

	(void)state;
	/* DAOS's semantics, by hand: the extent is the best dkey's, not the best extent */
	ans[0] = (struct obj_qans){.qa_dkey = 5, .qa_recx = {0, 100}};
	ans[1] = (struct obj_qans){.qa_dkey = 7, .qa_recx = {0, 1}};
	got = merge_all(DAOS_GET_MAX | DAOS_GET_DKEY | DAOS_GET_RECX, ans, 2);
	assert_int_equal(got.qa_rc, 0);
	assert_int_equal(got.qa_dkey, 7);
	assert_int_equal(got.qa_recx.rx_nr, 1);
	/* the least extent is the one that ends first, not the one that starts first */
	ans[0] = (struct obj_qans){.qa_recx = {0, 20}};
	ans[1] = (struct obj_qans){.qa_recx = {10, 5}};
	got = merge_all(DAOS_GET_MIN | DAOS_GET_RECX, ans, 2);
	assert_int_equal(got.qa_recx.rx_idx, 10);
	/* nothing anywhere, nothing at all, an error after an answer */
	ans[0].qa_rc = ans[1].qa_rc = -DER_NONEXIST;
	assert_int_equal(merge_all(DAOS_GET_MAX | DAOS_GET_DKEY, ans, 2).qa_rc, -DER_NONEXIST);
	assert_int_equal(merge_all(DAOS_GET_MAX | DAOS_GET_DKEY, ans, 0).qa_rc, -DER_NONEXIST);
	ans[0].qa_rc = 0;
	ans[1].qa_rc = -DER_TIMEDOUT;
	assert_int_equal(merge_all(DAOS_GET_MAX | DAOS_GET_DKEY, ans, 2).qa_rc, -DER_TIMEDOUT);

	for (iter = 0; iter < 20000; iter++) {
		uint32_t nr = rnd(9);

		f = keys[rnd(sizeof(keys) / sizeof(keys[0]))] |
		    (rnd(2) ? DAOS_GET_MAX : DAOS_GET_MIN);
		for (i = 0; i < nr; i++) {
			uint32_t k = rnd(20);

			/* few values: ties, so the later keys and the order decide */
			ans[i].qa_rc = k == 0   ? -DER_IO
				       : k == 1 ? -DER_TIMEDOUT
				       : k < 6  ? -DER_NONEXIST
						: 0;
			ans[i].qa_dkey = rnd(4);
			ans[i].qa_akey = rnd(4);
			ans[i].qa_recx.rx_idx = rnd(4);
			ans[i].qa_recx.rx_nr = rnd(4);
		}
		got = merge_all(f, ans, nr);
		want = merge_model(f, ans, nr);
		assert_int_equal(got.qa_rc, want.qa_rc);
		if (want.qa_rc != 0)
			continue;
		assert_int_equal(got.qa_dkey, want.qa_dkey);
		assert_int_equal(got.qa_akey, want.qa_akey);
		assert_int_equal(got.qa_recx.rx_idx, want.qa_recx.rx_idx);
		assert_int_equal(got.qa_recx.rx_nr, want.qa_recx.rx_nr);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_iods_roundtrip), cmocka_unit_test(test_iods_invalid),
	    cmocka_unit_test(test_keys),           cmocka_unit_test(test_u64s),
	    cmocka_unit_test(test_update_msg),     cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_coll),           cmocka_unit_test(test_fetch_query_msg),
	    cmocka_unit_test(test_query_merge),
	};

	return cmocka_run_group_tests_name("obj_rpc", tests, setup, NULL);
}
