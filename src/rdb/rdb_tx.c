/*
 * rdb_tx.c: building a transaction: each rdb_tx_* call appends one encoded operation to a
 * buffer allocated with raft_malloc, so that rdb_tx_commit hands it to raft_apply without
 * a copy. Any thread may build a transaction it owns; nothing here touches the database.
 */
#define D_LOGFAC rdb

#include <string.h>

#include <raft.h>

#include "rdb_internal.h"

int
rdb_tx_begin(struct rdb *db, uint64_t term, struct rdb_tx **txp)
{
	struct rdb_tx_hdr_df hdr = {.th_magic = RDB_TX_MAGIC, .th_version = RDB_TX_VERSION};
	struct rdb_tx *tx;

	D_ALLOC_PTR(tx);
	if (tx == NULL)
		return -DER_NOMEM;
	tx->tx_cap = 256;
	tx->tx_buf = raft_malloc(tx->tx_cap);
	if (tx->tx_buf == NULL) {
		D_FREE(tx);
		return -DER_NOMEM;
	}
	memcpy(tx->tx_buf, &hdr, sizeof(hdr));
	tx->tx_len = sizeof(hdr);
	tx->tx_db = db;
	tx->tx_term = term;
	*txp = tx;
	return 0;
}

void
rdb_tx_abort(struct rdb_tx *tx)
{
	if (tx == NULL)
		return;
	raft_free(tx->tx_buf);
	D_FREE(tx);
}

static int
tx_append(struct rdb_tx *tx, uint8_t type, const char *name, const d_iov_t *key, const d_iov_t *val)
{
	struct rdb_op_df df = {.op_type = type};
	size_t nlen, klen = 0, vlen = 0, need;
	char *p;

	if (tx == NULL || name == NULL)
		return -DER_INVAL;
	nlen = strnlen(name, RDB_TABLE_NAME_MAX + 1);
	if (nlen == 0 || nlen > RDB_TABLE_NAME_MAX)
		return -DER_INVAL;
	if (key != NULL) {
		if (key->iov_buf == NULL || key->iov_len == 0 || key->iov_len > UINT16_MAX)
			return -DER_INVAL;
		klen = key->iov_len;
	}
	if (val != NULL) {
		if (val->iov_buf == NULL && val->iov_len != 0)
			return -DER_INVAL;
		vlen = val->iov_len;
		if (vlen > RDB_TX_MAX)
			return -DER_REC2BIG;
	}
	need = sizeof(df) + nlen + klen + vlen;
	if (tx->tx_len + need > RDB_TX_MAX)
		return -DER_REC2BIG;
	if (tx->tx_len + need > tx->tx_cap) {
		size_t cap = tx->tx_cap;

		while (cap < tx->tx_len + need)
			cap *= 2;
		p = raft_realloc(tx->tx_buf, cap);
		if (p == NULL)
			return -DER_NOMEM;
		tx->tx_buf = p;
		tx->tx_cap = cap;
	}
	df.op_name_len = (uint16_t)nlen;
	df.op_key_len = (uint32_t)klen;
	df.op_val_len = (uint32_t)vlen;
	p = tx->tx_buf + tx->tx_len;
	memcpy(p, &df, sizeof(df));
	p += sizeof(df);
	memcpy(p, name, nlen);
	p += nlen;
	if (klen > 0)
		memcpy(p, key->iov_buf, klen);
	p += klen;
	if (vlen > 0)
		memcpy(p, val->iov_buf, vlen);
	tx->tx_len += need;
	tx->tx_nops++;
	/* Keep the header's count current so the buffer is always a complete entry. */
	memcpy(tx->tx_buf + offsetof(struct rdb_tx_hdr_df, th_nops), &tx->tx_nops,
	       sizeof(tx->tx_nops));
	return 0;
}

int
rdb_tx_table_create(struct rdb_tx *tx, const char *name)
{
	return tx_append(tx, RDB_OP_TABLE_CREATE, name, NULL, NULL);
}

int
rdb_tx_table_destroy(struct rdb_tx *tx, const char *name)
{
	return tx_append(tx, RDB_OP_TABLE_DESTROY, name, NULL, NULL);
}

int
rdb_tx_update(struct rdb_tx *tx, const char *table, const d_iov_t *key, const d_iov_t *val)
{
	static const d_iov_t empty;

	if (key == NULL)
		return -DER_INVAL;
	return tx_append(tx, RDB_OP_UPDATE, table, key, val != NULL ? val : &empty);
}

int
rdb_tx_delete(struct rdb_tx *tx, const char *table, const d_iov_t *key)
{
	if (key == NULL)
		return -DER_INVAL;
	return tx_append(tx, RDB_OP_DELETE, table, key, NULL);
}
