/*
 * obj_rpc.c: codecs of the object protocol (daos/obj_rpc.h), shared by libdaos and the
 * engine: the generated message codecs and the encoders/decoders of the lists that travel
 * inside messages as byte strings (iods, keys, u64 arrays).
 */
#define D_LOGFAC object

#include <daos/obj_rpc.h>
#include <gurt/common.h>
#include <gurt/debug.h>

D_LOG_FAC_DEFINE(object);

NET_CODEC_DEFINE(obj_update_in, OBJ_UPDATE_IN_FIELDS)
NET_CODEC_DEFINE(obj_update_out, OBJ_UPDATE_OUT_FIELDS)
NET_CODEC_DEFINE(obj_fetch_in, OBJ_FETCH_IN_FIELDS)
NET_CODEC_DEFINE(obj_fetch_out, OBJ_FETCH_OUT_FIELDS)
NET_CODEC_DEFINE(obj_punch_in, OBJ_PUNCH_IN_FIELDS)
NET_CODEC_DEFINE(obj_punch_out, OBJ_PUNCH_OUT_FIELDS)
NET_CODEC_DEFINE(obj_list_in, OBJ_LIST_IN_FIELDS)
NET_CODEC_DEFINE(obj_list_out, OBJ_LIST_OUT_FIELDS)
NET_CODEC_DEFINE(obj_query_in, OBJ_QUERY_IN_FIELDS)
NET_CODEC_DEFINE(obj_query_out, OBJ_QUERY_OUT_FIELDS)
NET_CODEC_DEFINE(obj_query_coll_in, OBJ_QUERY_COLL_IN_FIELDS)
NET_CODEC_DEFINE(obj_fetch_query_in, OBJ_FETCH_QUERY_IN_FIELDS)
NET_CODEC_DEFINE(obj_fetch_query_out, OBJ_FETCH_QUERY_OUT_FIELDS)

NET_PROTO_DEFINE(obj_proto, "object", NET_MODULE_OBJ, OBJ_RPCS);

int64_t
obj_iods_data_len(const daos_iod_t *iods, uint32_t nr)
{
	uint64_t total = 0;
	uint32_t i;
	uint32_t j;

	for (i = 0; i < nr; i++) {
		const daos_iod_t *iod = &iods[i];
		uint64_t recs = 0;

		if (iod->iod_type == DAOS_IOD_SINGLE) {
			recs = 1;
		} else if (iod->iod_type == DAOS_IOD_ARRAY) {
			for (j = 0; j < iod->iod_nr; j++) {
				if (iod->iod_recxs[j].rx_nr > (1ULL << 48))
					return -DER_INVAL;
				recs += iod->iod_recxs[j].rx_nr;
			}
		} else {
			return -DER_INVAL;
		}
		if (iod->iod_size > (1ULL << 40) || recs > (1ULL << 48) ||
		    (iod->iod_size != 0 && recs > (INT64_MAX - total) / iod->iod_size))
			return -DER_INVAL;
		total += recs * iod->iod_size;
	}
	return (int64_t)total;
}

/* Encoding: one helper per primitive, tolerating a NULL buffer (measuring). */
struct obj_wb {
	uint8_t *cur;
	uint8_t *end;
	size_t len;
	bool overflow;
};

static void
wb_put(struct obj_wb *w, const void *p, size_t n)
{
	w->len += n;
	if (w->overflow || w->cur == NULL)
		return;
	if ((size_t)(w->end - w->cur) < n) {
		w->overflow = true;
		return;
	}
	memcpy(w->cur, p, n);
	w->cur += n;
}

static void
wb_u32(struct obj_wb *w, uint32_t v)
{
	v = htole32(v);
	wb_put(w, &v, sizeof(v));
}

static void
wb_u64(struct obj_wb *w, uint64_t v)
{
	v = htole64(v);
	wb_put(w, &v, sizeof(v));
}

static int64_t
wb_result(struct obj_wb *w)
{
	if (w->overflow || (w->cur == NULL && w->end != NULL))
		return -DER_OVERFLOW;
	return (int64_t)w->len;
}

static void
wb_init(struct obj_wb *w, void *buf, size_t len)
{
	w->cur = buf;
	w->end = buf != NULL ? (uint8_t *)buf + len : NULL;
	w->len = 0;
	w->overflow = false;
}

int64_t
obj_iods_encode(const daos_iod_t *iods, uint32_t nr, void *buf, size_t len)
{
	struct obj_wb w;
	uint32_t i;
	uint32_t j;

	wb_init(&w, buf, len);
	for (i = 0; i < nr; i++) {
		const daos_iod_t *iod = &iods[i];
		uint8_t tp[4] = {(uint8_t)iod->iod_type, 0, 0, 0};
		uint32_t rnr = iod->iod_type == DAOS_IOD_ARRAY ? iod->iod_nr : 0;

		if (iod->iod_name.iov_len > OBJ_KEY_MAX ||
		    (iod->iod_type != DAOS_IOD_SINGLE && iod->iod_type != DAOS_IOD_ARRAY))
			return -DER_INVAL;
		wb_u32(&w, (uint32_t)iod->iod_name.iov_len);
		wb_put(&w, iod->iod_name.iov_buf, iod->iod_name.iov_len);
		wb_put(&w, tp, sizeof(tp));
		wb_u64(&w, iod->iod_size);
		wb_u64(&w, iod->iod_flags);
		wb_u32(&w, rnr);
		for (j = 0; j < rnr; j++) {
			wb_u64(&w, iod->iod_recxs[j].rx_idx);
			wb_u64(&w, iod->iod_recxs[j].rx_nr);
		}
	}
	return wb_result(&w);
}

int64_t
obj_keys_encode(const daos_key_t *keys, uint32_t nr, void *buf, size_t len)
{
	struct obj_wb w;
	uint32_t i;

	wb_init(&w, buf, len);
	for (i = 0; i < nr; i++) {
		if (keys[i].iov_len > OBJ_KEY_MAX ||
		    (keys[i].iov_len > 0 && keys[i].iov_buf == NULL))
			return -DER_INVAL;
		wb_u32(&w, (uint32_t)keys[i].iov_len);
		wb_put(&w, keys[i].iov_buf, keys[i].iov_len);
	}
	return wb_result(&w);
}

/* Decoding: every read checks what is left. */
struct obj_rb {
	const uint8_t *cur;
	const uint8_t *end;
};

static int
rb_get(struct obj_rb *r, void *p, size_t n)
{
	if ((size_t)(r->end - r->cur) < n)
		return -DER_PROTO;
	memcpy(p, r->cur, n);
	r->cur += n;
	return 0;
}

static int
rb_u32(struct obj_rb *r, uint32_t *v)
{
	int rc = rb_get(r, v, sizeof(*v));

	*v = le32toh(*v);
	return rc;
}

static int
rb_u64(struct obj_rb *r, uint64_t *v)
{
	int rc = rb_get(r, v, sizeof(*v));

	*v = le64toh(*v);
	return rc;
}

/* A byte string of @max bytes at most, borrowed from the blob. */
static int
rb_key(struct obj_rb *r, d_iov_t *key, uint32_t max)
{
	uint32_t n;
	int rc;

	rc = rb_u32(r, &n);
	if (rc != 0)
		return rc;
	if (n > max)
		return -DER_INVAL;
	if ((size_t)(r->end - r->cur) < n)
		return -DER_PROTO;
	d_iov_set(key, n > 0 ? (void *)r->cur : NULL, n);
	r->cur += n;
	return 0;
}

static void
rb_init(struct obj_rb *r, const d_iov_t *blob)
{
	r->cur = blob->iov_buf;
	r->end = r->cur + (blob->iov_buf != NULL ? blob->iov_len : 0);
}

void
obj_iods_free(daos_iod_t *iods, uint32_t nr)
{
	uint32_t i;

	if (iods == NULL)
		return;
	for (i = 0; i < nr; i++)
		D_FREE(iods[i].iod_recxs);
	D_FREE(iods);
}

int
obj_iods_decode(const d_iov_t *blob, uint32_t nr, daos_iod_t **iodsp)
{
	struct obj_rb r;
	daos_iod_t *iods;
	uint32_t total_recx = 0;
	uint32_t i;
	uint32_t j;
	int rc = 0;

	*iodsp = NULL;
	if (nr == 0 || nr > OBJ_IOD_MAX)
		return -DER_INVAL;
	D_ALLOC_ARRAY(iods, nr);
	if (iods == NULL)
		return -DER_NOMEM;
	rb_init(&r, blob);
	for (i = 0; i < nr && rc == 0; i++) {
		daos_iod_t *iod = &iods[i];
		uint8_t tp[4];
		uint32_t rnr;

		rc = rb_key(&r, &iod->iod_name, OBJ_KEY_MAX);
		if (rc == 0)
			rc = rb_get(&r, tp, sizeof(tp));
		if (rc == 0)
			rc = rb_u64(&r, &iod->iod_size);
		if (rc == 0)
			rc = rb_u64(&r, &iod->iod_flags);
		if (rc == 0)
			rc = rb_u32(&r, &rnr);
		if (rc != 0)
			break;
		if (iod->iod_name.iov_len == 0 || tp[1] != 0 || tp[2] != 0 || tp[3] != 0) {
			rc = -DER_INVAL;
			break;
		}
		if (tp[0] == DAOS_IOD_SINGLE) {
			iod->iod_type = DAOS_IOD_SINGLE;
			iod->iod_nr = 1;
			if (rnr != 0)
				rc = -DER_INVAL;
			continue;
		}
		if (tp[0] != DAOS_IOD_ARRAY || rnr == 0 || rnr > OBJ_RECX_MAX - total_recx) {
			rc = -DER_INVAL;
			break;
		}
		if ((size_t)(r.end - r.cur) / 16 < rnr) {
			rc = -DER_PROTO;
			break;
		}
		total_recx += rnr;
		iod->iod_type = DAOS_IOD_ARRAY;
		D_ALLOC_ARRAY(iod->iod_recxs, rnr);
		if (iod->iod_recxs == NULL) {
			rc = -DER_NOMEM;
			break;
		}
		iod->iod_nr = rnr;
		for (j = 0; j < rnr; j++) {
			daos_recx_t *rx = &iod->iod_recxs[j];

			rb_u64(&r, &rx->rx_idx);
			rb_u64(&r, &rx->rx_nr);
			if (rx->rx_nr == 0 || rx->rx_idx + rx->rx_nr < rx->rx_idx ||
			    (rx->rx_idx + rx->rx_nr) > DAOS_EC_PARITY_BIT) {
				rc = -DER_INVAL;
				break;
			}
		}
	}
	if (rc == 0 && r.cur != r.end)
		rc = -DER_PROTO;
	if (rc == 0 && obj_iods_data_len(iods, nr) < 0)
		rc = -DER_INVAL;
	if (rc != 0) {
		obj_iods_free(iods, nr);
		return rc;
	}
	*iodsp = iods;
	return 0;
}

int
obj_keys_decode(const d_iov_t *blob, uint32_t nr, daos_key_t **keysp)
{
	struct obj_rb r;
	daos_key_t *keys;
	uint32_t i;
	int rc = 0;

	*keysp = NULL;
	if (nr == 0 || nr > OBJ_KEYS_MAX)
		return -DER_INVAL;
	D_ALLOC_ARRAY(keys, nr);
	if (keys == NULL)
		return -DER_NOMEM;
	rb_init(&r, blob);
	for (i = 0; i < nr && rc == 0; i++) {
		rc = rb_key(&r, &keys[i], OBJ_KEY_MAX);
		if (rc == 0 && keys[i].iov_len == 0)
			rc = -DER_INVAL;
	}
	if (rc == 0 && r.cur != r.end)
		rc = -DER_PROTO;
	if (rc != 0) {
		D_FREE(keys);
		return rc;
	}
	*keysp = keys;
	return 0;
}

int
obj_u64s_decode(const d_iov_t *blob, uint32_t nr, uint64_t *vals)
{
	struct obj_rb r;
	uint32_t i;

	rb_init(&r, blob);
	if ((size_t)(r.end - r.cur) != (size_t)nr * 8)
		return -DER_PROTO;
	for (i = 0; i < nr; i++)
		rb_u64(&r, &vals[i]);
	return 0;
}

void
obj_coll_encode(const struct obj_coll_shard *cs, uint32_t nr, void *buf)
{
	uint8_t *p = buf;
	uint32_t i;

	for (i = 0; i < nr; i++) {
		uint32_t v[2] = {htole32(cs[i].cs_shard), htole32(cs[i].cs_tgt)};

		memcpy(p + 8 * i, v, 8);
	}
}

int
obj_coll_decode(const d_iov_t *blob, uint32_t nr, uint32_t tgt_nr, struct obj_coll_shard *cs)
{
	const uint8_t *p = blob->iov_buf;
	uint32_t i;
	uint32_t j;

	if (nr == 0 || nr > OBJ_COLL_MAX)
		return -DER_INVAL;
	if (blob->iov_len != 8ULL * nr || p == NULL)
		return -DER_PROTO;
	for (i = 0; i < nr; i++) {
		uint32_t v[2];

		memcpy(v, p + 8 * i, 8);
		cs[i].cs_shard = le32toh(v[0]);
		cs[i].cs_tgt = le32toh(v[1]);
		if (cs[i].cs_tgt >= tgt_nr)
			return -DER_INVAL;
		for (j = 0; j < i; j++)
			if (cs[j].cs_shard == cs[i].cs_shard)
				return -DER_INVAL;
	}
	return 0;
}

int
obj_fetch_query_check(const struct obj_fetch_query_in *in, uint32_t tgt_nr,
		      struct obj_coll_shard *cs)
{
	uint32_t f = in->fqi_qflags;

	if (!obj_qflags_valid(f) || !(f & DAOS_GET_DKEY) || (f & DAOS_GET_AKEY) ||
	    in->fqi_akey.iov_len == 0 || in->fqi_akey.iov_len > OBJ_KEY_MAX)
		return -DER_INVAL;
	return obj_coll_decode(&in->fqi_shards, in->fqi_shard_nr, tgt_nr, cs);
}

/* -1, 0 or 1 as @a is less than, equal to or greater than @b. */
static int
qans_cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

/* Is @a a strictly better answer than @b for @f (both found something)? */
static bool
qans_better(uint32_t f, const struct obj_qans *a, const struct obj_qans *b)
{
	int c = 0;

	if (f & DAOS_GET_DKEY)
		c = qans_cmp_u64(a->qa_dkey, b->qa_dkey);
	if (c == 0 && (f & DAOS_GET_AKEY))
		c = qans_cmp_u64(a->qa_akey, b->qa_akey);
	if (c == 0 && (f & DAOS_GET_RECX))
		c = qans_cmp_u64(a->qa_recx.rx_idx + a->qa_recx.rx_nr,
				 b->qa_recx.rx_idx + b->qa_recx.rx_nr);
	return (f & DAOS_GET_MAX) ? c > 0 : c < 0;
}

void
obj_query_merge(uint32_t f, struct obj_qans *acc, const struct obj_qans *a)
{
	if (acc->qa_rc != 0 && acc->qa_rc != -DER_NONEXIST)
		return; /* an error stays */
	if (a->qa_rc == -DER_NONEXIST)
		return;
	if (a->qa_rc != 0 || acc->qa_rc == -DER_NONEXIST || qans_better(f, a, acc))
		*acc = *a;
}
