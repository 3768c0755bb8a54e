/*
 * rdb_kvs.c: the replicated state machine of a database: tables of ordered binary keys in
 * memory, the atomic application of a transaction entry (with an undo log), and the
 * snapshot encoding. Pure data structures: no raft, no loop; rdb_raft.c calls in here from
 * the FSM callbacks. Invariants in rdb_internal.h.
 */
#define D_LOGFAC rdb

#include <string.h>

#include "rdb_internal.h"

int
rdb_key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

void
rdb_store_init(struct rdb_store *s)
{
	memset(s, 0, sizeof(*s));
}

static void
table_free(struct rdb_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->t_nr; i++)
		D_FREE(t->t_kvs[i]);
	D_FREE(t->t_kvs);
	D_FREE(t->t_name);
	D_FREE(t);
}

void
rdb_store_fini(struct rdb_store *s)
{
	size_t i;

	for (i = 0; i < s->s_nr; i++)
		table_free(s->s_tables[i]);
	D_FREE(s->s_tables);
	memset(s, 0, sizeof(*s));
}

void
rdb_store_swap(struct rdb_store *to, struct rdb_store *from)
{
	rdb_store_fini(to);
	*to = *from;
	memset(from, 0, sizeof(*from));
}

/* Index of the first table whose name is >= @name; *@found if equal. */
static size_t
store_search(const struct rdb_store *s, const char *name, size_t nlen, bool *found)
{
	size_t lo = 0, hi = s->s_nr;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = s->s_tables[mid]->t_name;
		int c = rdb_key_cmp(m, strlen(m), name, nlen);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct rdb_table *
rdb_store_table_find(const struct rdb_store *s, const char *name)
{
	bool found;
	size_t i = store_search(s, name, strlen(name), &found);

	return found ? s->s_tables[i] : NULL;
}

size_t
rdb_table_search(const struct rdb_table *t, const void *key, size_t klen, bool *found)
{
	size_t lo = 0, hi = t->t_nr;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rdb_kv *kv = t->t_kvs[mid];
		int c = rdb_key_cmp(kv->kv_data, kv->kv_klen, key, klen);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Make room for one more element in a pointer array. */
static int
array_reserve(void ***arr, size_t nr, size_t *cap)
{
	void **n;
	size_t ncap;

	if (nr < *cap)
		return 0;
	ncap = *cap == 0 ? 8 : *cap * 2;
	D_REALLOC_ARRAY(n, *arr, ncap);
	if (n == NULL)
		return -DER_NOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

static void
array_insert(void **arr, size_t *nr, size_t pos, void *item)
{
	memmove(&arr[pos + 1], &arr[pos], (*nr - pos) * sizeof(*arr));
	arr[pos] = item;
	(*nr)++;
}

static void
array_remove(void **arr, size_t *nr, size_t pos)
{
	memmove(&arr[pos], &arr[pos + 1], (*nr - pos - 1) * sizeof(*arr));
	(*nr)--;
}

static struct rdb_kv *
kv_alloc(const void *key, uint32_t klen, const void *val, uint32_t vlen)
{
	struct rdb_kv *kv;

	D_ALLOC_NZ(kv, sizeof(*kv) + (size_t)klen + vlen);
	if (kv == NULL)
		return NULL;
	kv->kv_klen = klen;
	kv->kv_vlen = vlen;
	memcpy(kv->kv_data, key, klen);
	if (vlen > 0)
		memcpy(kv->kv_data + klen, val, vlen);
	return kv;
}

static int
store_table_insert(struct rdb_store *s, struct rdb_table *t)
{
	bool found;
	size_t pos;
	int rc;

	rc = array_reserve((void ***)&s->s_tables, s->s_nr, &s->s_cap);
	if (rc != 0)
		return rc;
	pos = store_search(s, t->t_name, strlen(t->t_name), &found);
	D_ASSERT(!found);
	array_insert((void **)s->s_tables, &s->s_nr, pos, t);
	s->s_keys += t->t_nr;
	return 0;
}

static void
store_table_remove(struct rdb_store *s, struct rdb_table *t)
{
	bool found;
	size_t pos = store_search(s, t->t_name, strlen(t->t_name), &found);

	D_ASSERT(found && s->s_tables[pos] == t);
	array_remove((void **)s->s_tables, &s->s_nr, pos);
	s->s_keys -= t->t_nr;
}

/*
 * Applying a transaction.
 */

/* A decoded operation; pointers into the entry. */
struct op {
	uint8_t type;
	const char *name;
	uint16_t name_len;
	const void *key;
	uint32_t klen;
	const void *val;
	uint32_t vlen;
};

/* What an applied operation did, to undo it (rollback) or to free what it replaced. */
enum undo_type {
	UNDO_NONE,
	UNDO_INSERTED,  /* u_new was inserted into u_table */
	UNDO_REPLACED,  /* u_old was replaced by u_new in u_table */
	UNDO_DELETED,   /* u_old was removed from u_table */
	UNDO_T_CREATED, /* u_table was added to the store */
	UNDO_T_DESTROYED,
};

struct undo {
	enum undo_type u_type;
	struct rdb_table *u_table;
	struct rdb_kv *u_old;
	struct rdb_kv *u_new;
};

/* Decode operation @i at *@off of @buf; checks every length (invariant 4). */
static int
op_decode(const char *buf, size_t len, size_t *off, struct op *op)
{
	struct rdb_op_df df;
	size_t need;

	if (len - *off < sizeof(df))
		return -DER_PROTO;
	memcpy(&df, buf + *off, sizeof(df));
	*off += sizeof(df);
	need = (size_t)df.op_name_len + df.op_key_len + df.op_val_len;
	if (len - *off < need)
		return -DER_PROTO;
	op->type = df.op_type;
	op->name = buf + *off;
	op->name_len = df.op_name_len;
	op->key = buf + *off + df.op_name_len;
	op->klen = df.op_key_len;
	op->val = buf + *off + df.op_name_len + df.op_key_len;
	op->vlen = df.op_val_len;
	*off += need;
	if (op->name_len == 0 || op->name_len > RDB_TABLE_NAME_MAX ||
	    memchr(op->name, '\0', op->name_len) != NULL)
		return -DER_PROTO;
	switch (op->type) {
	case RDB_OP_TABLE_CREATE:
	case RDB_OP_TABLE_DESTROY:
		if (op->klen != 0 || op->vlen != 0)
			return -DER_PROTO;
		break;
	case RDB_OP_UPDATE:
		if (op->klen == 0 || op->klen > UINT16_MAX)
			return -DER_PROTO;
		break;
	case RDB_OP_DELETE:
		if (op->klen == 0 || op->klen > UINT16_MAX || op->vlen != 0)
			return -DER_PROTO;
		break;
	default:
		return -DER_PROTO;
	}
	return 0;
}

static struct rdb_table *
store_table_findn(const struct rdb_store *s, const char *name, size_t nlen)
{
	bool found;
	size_t i = store_search(s, name, nlen, &found);

	return found ? s->s_tables[i] : NULL;
}

static int
op_apply(struct rdb_store *s, const struct op *op, struct undo *u)
{
	struct rdb_table *t;
	struct rdb_kv *kv;
	bool found;
	size_t pos;
	int rc;

	memset(u, 0, sizeof(*u));
	t = store_table_findn(s, op->name, op->name_len);
	switch (op->type) {
	case RDB_OP_TABLE_CREATE:
		if (t != NULL)
			return -DER_EXIST;
		D_ALLOC_PTR(t);
		if (t == NULL)
			return -DER_NOMEM;
		D_STRNDUP(t->t_name, op->name, op->name_len);
		if (t->t_name == NULL) {
			D_FREE(t);
			return -DER_NOMEM;
		}
		rc = store_table_insert(s, t);
		if (rc != 0) {
			table_free(t);
			return rc;
		}
		u->u_type = UNDO_T_CREATED;
		u->u_table = t;
		return 0;
	case RDB_OP_TABLE_DESTROY:
		if (t == NULL)
			return -DER_NONEXIST;
		store_table_remove(s, t);
		u->u_type = UNDO_T_DESTROYED;
		u->u_table = t;
		return 0;
	default:
		break;
	}
	if (t == NULL)
		return -DER_NONEXIST;
	pos = rdb_table_search(t, op->key, op->klen, &found);
	if (op->type == RDB_OP_DELETE) {
		if (!found)
			return -DER_NONEXIST;
		u->u_type = UNDO_DELETED;
		u->u_table = t;
		u->u_old = t->t_kvs[pos];
		array_remove((void **)t->t_kvs, &t->t_nr, pos);
		s->s_keys--;
		return 0;
	}
	kv = kv_alloc(op->key, op->klen, op->val, op->vlen);
	if (kv == NULL)
		return -DER_NOMEM;
	u->u_table = t;
	u->u_new = kv;
	if (found) {
		u->u_type = UNDO_REPLACED;
		u->u_old = t->t_kvs[pos];
		t->t_kvs[pos] = kv;
		return 0;
	}
	rc = array_reserve((void ***)&t->t_kvs, t->t_nr, &t->t_cap);
	if (rc != 0) {
		D_FREE(kv);
		return rc;
	}
	array_insert((void **)t->t_kvs, &t->t_nr, pos, kv);
	s->s_keys++;
	u->u_type = UNDO_INSERTED;
	return 0;
}

/* Undo @u; cannot fail: every array still has the room the operation used. */
static void
op_undo(struct rdb_store *s, struct undo *u)
{
	struct rdb_table *t = u->u_table;
	bool found;
	size_t pos;

	switch (u->u_type) {
	case UNDO_INSERTED:
		pos = rdb_table_search(t, u->u_new->kv_data, u->u_new->kv_klen, &found);
		D_ASSERT(found);
		array_remove((void **)t->t_kvs, &t->t_nr, pos);
		s->s_keys--;
		D_FREE(u->u_new);
		break;
	case UNDO_REPLACED:
		pos = rdb_table_search(t, u->u_new->kv_data, u->u_new->kv_klen, &found);
		D_ASSERT(found && t->t_kvs[pos] == u->u_new);
		t->t_kvs[pos] = u->u_old;
		D_FREE(u->u_new);
		break;
	case UNDO_DELETED:
		pos = rdb_table_search(t, u->u_old->kv_data, u->u_old->kv_klen, &found);
		D_ASSERT(!found && t->t_nr < t->t_cap);
		array_insert((void **)t->t_kvs, &t->t_nr, pos, u->u_old);
		s->s_keys++;
		break;
	case UNDO_T_CREATED:
		store_table_remove(s, t);
		table_free(t);
		break;
	case UNDO_T_DESTROYED:
		pos = store_search(s, t->t_name, strlen(t->t_name), &found);
		D_ASSERT(!found && s->s_nr < s->s_cap);
		array_insert((void **)s->s_tables, &s->s_nr, pos, t);
		s->s_keys += t->t_nr;
		break;
	case UNDO_NONE:
		break;
	}
}

/* Free what a committed operation replaced or removed. */
static void
op_release(struct undo *u)
{
	switch (u->u_type) {
	case UNDO_REPLACED:
	case UNDO_DELETED:
		D_FREE(u->u_old);
		break;
	case UNDO_T_DESTROYED:
		table_free(u->u_table);
		break;
	default:
		break;
	}
}

int
rdb_store_apply(struct rdb_store *s, const void *buf, size_t len)
{
	struct rdb_tx_hdr_df hdr;
	struct undo *undo;
	struct op op;
	size_t off;
	uint32_t i, done = 0;
	int rc = 0;

	if (len < sizeof(hdr))
		return -DER_PROTO;
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.th_magic != RDB_TX_MAGIC || hdr.th_version != RDB_TX_VERSION || hdr.th_nops == 0)
		return -DER_PROTO;
	/* Validate the whole entry before touching the store (invariant 4). */
	off = sizeof(hdr);
	for (i = 0; i < hdr.th_nops; i++) {
		rc = op_decode(buf, len, &off, &op);
		if (rc != 0)
			return rc;
	}
	/* raft needs entries of whole 8-byte words: up to 7 zero bytes of padding follow. */
	if (len - off >= 8)
		return -DER_PROTO;
	for (i = 0; off + i < len; i++)
		if (((const char *)buf)[off + i] != 0)
			return -DER_PROTO;

	D_ALLOC_ARRAY(undo, hdr.th_nops);
	if (undo == NULL)
		return -DER_NOMEM;
	off = sizeof(hdr);
	for (i = 0; i < hdr.th_nops; i++) {
		rc = op_decode(buf, len, &off, &op);
		D_ASSERT(rc == 0);
		rc = op_apply(s, &op, &undo[i]);
		if (rc != 0)
			break;
		done++;
	}
	if (rc != 0) {
		while (done > 0)
			op_undo(s, &undo[--done]);
	} else {
		for (i = 0; i < done; i++)
			op_release(&undo[i]);
	}
	D_FREE(undo);
	return rc;
}

/*
 * Snapshots.
 */

int
rdb_store_encode(const struct rdb_store *s, void **bufp, size_t *lenp)
{
	struct rdb_snap_hdr_df hdr = {.sh_magic = RDB_SNAP_MAGIC, .sh_version = RDB_SNAP_VERSION};
	size_t len = sizeof(hdr), off, i, j;
	char *buf;

	for (i = 0; i < s->s_nr; i++) {
		const struct rdb_table *t = s->s_tables[i];

		len += sizeof(struct rdb_snap_table_df) + strlen(t->t_name);
		for (j = 0; j < t->t_nr; j++)
			len += sizeof(struct rdb_snap_kv_df) + t->t_kvs[j]->kv_klen +
			       t->t_kvs[j]->kv_vlen;
	}
	D_ALLOC_NZ(buf, len);
	if (buf == NULL)
		return -DER_NOMEM;
	hdr.sh_ntables = s->s_nr;
	memcpy(buf, &hdr, sizeof(hdr));
	off = sizeof(hdr);
	for (i = 0; i < s->s_nr; i++) {
		const struct rdb_table *t = s->s_tables[i];
		struct rdb_snap_table_df tdf = {.st_name_len = (uint32_t)strlen(t->t_name),
						.st_nkeys = t->t_nr};

		memcpy(buf + off, &tdf, sizeof(tdf));
		off += sizeof(tdf);
		memcpy(buf + off, t->t_name, tdf.st_name_len);
		off += tdf.st_name_len;
		for (j = 0; j < t->t_nr; j++) {
			const struct rdb_kv *kv = t->t_kvs[j];
			struct rdb_snap_kv_df kdf = {.sk_key_len = kv->kv_klen,
						     .sk_val_len = kv->kv_vlen};
			size_t n = (size_t)kv->kv_klen + kv->kv_vlen;

			memcpy(buf + off, &kdf, sizeof(kdf));
			off += sizeof(kdf);
			memcpy(buf + off, kv->kv_data, n);
			off += n;
		}
	}
	D_ASSERT(off == len);
	*bufp = buf;
	*lenp = len;
	return 0;
}

static int
decode_table(struct rdb_store *s, const char *buf, size_t len, size_t *off)
{
	struct rdb_snap_table_df tdf;
	struct rdb_table *t;
	uint64_t k;
	int rc;

	if (len - *off < sizeof(tdf))
		return -DER_PROTO;
	memcpy(&tdf, buf + *off, sizeof(tdf));
	*off += sizeof(tdf);
	if (tdf.st_name_len == 0 || tdf.st_name_len > RDB_TABLE_NAME_MAX ||
	    len - *off < tdf.st_name_len || memchr(buf + *off, '\0', tdf.st_name_len) != NULL)
		return -DER_PROTO;
	/* Each entry takes at least its header: bounds st_nkeys before allocating. */
	if (tdf.st_nkeys > (len - *off - tdf.st_name_len) / sizeof(struct rdb_snap_kv_df))
		return -DER_PROTO;
	if (store_table_findn(s, buf + *off, tdf.st_name_len) != NULL)
		return -DER_PROTO;
	D_ALLOC_PTR(t);
	if (t == NULL)
		return -DER_NOMEM;
	D_STRNDUP(t->t_name, buf + *off, tdf.st_name_len);
	*off += tdf.st_name_len;
	if (t->t_name == NULL) {
		rc = -DER_NOMEM;
		goto out_free;
	}
	if (tdf.st_nkeys > 0) {
		D_ALLOC_ARRAY(t->t_kvs, tdf.st_nkeys);
		if (t->t_kvs == NULL) {
			rc = -DER_NOMEM;
			goto out_free;
		}
		t->t_cap = tdf.st_nkeys;
	}
	for (k = 0; k < tdf.st_nkeys; k++) {
		struct rdb_snap_kv_df kdf;
		struct rdb_kv *kv;

		if (len - *off < sizeof(kdf)) {
			rc = -DER_PROTO;
			goto out_free;
		}
		memcpy(&kdf, buf + *off, sizeof(kdf));
		*off += sizeof(kdf);
		if (kdf.sk_key_len == 0 || kdf.sk_key_len > UINT16_MAX ||
		    len - *off < (size_t)kdf.sk_key_len + kdf.sk_val_len) {
			rc = -DER_PROTO;
			goto out_free;
		}
		/* Entries are written in order: a key not above the previous one is corrupt. */
		if (t->t_nr > 0) {
			const struct rdb_kv *prev = t->t_kvs[t->t_nr - 1];

			if (rdb_key_cmp(prev->kv_data, prev->kv_klen, buf + *off, kdf.sk_key_len) >=
			    0) {
				rc = -DER_PROTO;
				goto out_free;
			}
		}
		kv = kv_alloc(buf + *off, kdf.sk_key_len, buf + *off + kdf.sk_key_len,
			      kdf.sk_val_len);
		if (kv == NULL) {
			rc = -DER_NOMEM;
			goto out_free;
		}
		*off += (size_t)kdf.sk_key_len + kdf.sk_val_len;
		t->t_kvs[t->t_nr++] = kv;
	}
	rc = store_table_insert(s, t);
	if (rc != 0)
		goto out_free;
	return 0;
out_free:
	table_free(t);
	return rc;
}

int
rdb_store_decode(struct rdb_store *s, const void *buf, size_t len)
{
	struct rdb_snap_hdr_df hdr;
	size_t off = sizeof(hdr);
	uint64_t i;
	int rc;

	D_ASSERT(s->s_nr == 0);
	if (len < sizeof(hdr))
		return -DER_PROTO;
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.sh_magic != RDB_SNAP_MAGIC || hdr.sh_version != RDB_SNAP_VERSION)
		return -DER_PROTO;
	for (i = 0; i < hdr.sh_ntables; i++) {
		rc = decode_table(s, buf, len, &off);
		if (rc != 0)
			goto out_fini;
	}
	if (off != len) {
		rc = -DER_PROTO;
		goto out_fini;
	}
	return 0;
out_fini:
	rdb_store_fini(s);
	return rc;
}
