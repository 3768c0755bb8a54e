/*
 * rdb_internal.h: private to src/rdb. The in-memory store (rdb_kvs.c), the transaction
 * and snapshot formats, and the database object that glues them to libraft (rdb_raft.c).
 *
 * Invariants (numbered so the code can cite them):
 *  1. The store changes only in rdb_store_apply (a committed raft entry) and
 *     rdb_store_decode + swap (a snapshot restore), both on the loop thread. Every replica
 *     applies the same entries in the same order, so the same bytes give the same state.
 *  2. Applying is deterministic: a transaction that fails validation or one of its
 *     operations leaves the store exactly as before (undo log) and the same failure
 *     happens on every replica. Only memory exhaustion is not deterministic; then apply
 *     reports it to raft, which stops applying (the replica stalls rather than diverges).
 *  3. Each table keeps its entries in a sorted array ordered by rdb_key_cmp; the store
 *     keeps tables sorted by name. s_keys is the sum of every table's t_nr.
 *  4. Bytes from the log or a snapshot are untrusted: every length is checked before use.
 */
#ifndef RDB_INTERNAL_H
#define RDB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gurt/common.h>
#include <gurt/debug.h>
#include <daos_errno.h>
#include <daos_srv/rdb.h>

D_LOG_FAC_DECLARE(rdb);

/*
 * Transaction format: one raft entry. All integers little-endian (the hosts we run on);
 * the headers are copied out with memcpy, so the payload needs no alignment.
 */
#define RDB_TX_MAGIC 0x52445854U /* "RDXT" */
#define RDB_TX_VERSION 1

struct rdb_tx_hdr_df {
	uint32_t th_magic;
	uint16_t th_version;
	uint16_t th_pad;
	uint32_t th_nops;
	uint32_t th_pad2;
};
_Static_assert(sizeof(struct rdb_tx_hdr_df) == 16, "rdb_tx_hdr_df");

enum rdb_op_type {
	RDB_OP_TABLE_CREATE = 1,
	RDB_OP_TABLE_DESTROY = 2,
	RDB_OP_UPDATE = 3,
	RDB_OP_DELETE = 4,
};

/* An operation header, followed by name_len bytes of table name, key_len, val_len. */
struct rdb_op_df {
	uint8_t op_type;
	uint8_t op_pad;
	uint16_t op_name_len;
	uint32_t op_key_len;
	uint32_t op_val_len;
	uint32_t op_pad2;
};
_Static_assert(sizeof(struct rdb_op_df) == 16, "rdb_op_df");

/* Snapshot format: a header, then per table its name and entries. */
#define RDB_SNAP_MAGIC 0x52445353U /* "RDSS" */
#define RDB_SNAP_VERSION 1

struct rdb_snap_hdr_df {
	uint32_t sh_magic;
	uint16_t sh_version;
	uint16_t sh_pad;
	uint64_t sh_ntables;
};
_Static_assert(sizeof(struct rdb_snap_hdr_df) == 16, "rdb_snap_hdr_df");

struct rdb_snap_table_df {
	uint32_t st_name_len;
	uint32_t st_pad;
	uint64_t st_nkeys;
}; /* followed by the name, then st_nkeys entries */
_Static_assert(sizeof(struct rdb_snap_table_df) == 16, "rdb_snap_table_df");

struct rdb_snap_kv_df {
	uint32_t sk_key_len;
	uint32_t sk_val_len;
}; /* followed by the key and the value */
_Static_assert(sizeof(struct rdb_snap_kv_df) == 8, "rdb_snap_kv_df");

/* A transaction being built: the encoded entry grows in tx_buf (raft_malloc'd). */
struct rdb_tx {
	struct rdb *tx_db;
	uint64_t tx_term;
	char *tx_buf;
	size_t tx_len;
	size_t tx_cap;
	uint32_t tx_nops;
};

/* One key and its value, in one allocation. */
struct rdb_kv {
	uint32_t kv_klen;
	uint32_t kv_vlen;
	unsigned char kv_data[]; /* key, then value */
};

struct rdb_table {
	char *t_name;
	struct rdb_kv **t_kvs; /* sorted (invariant 3) */
	size_t t_nr;
	size_t t_cap;
};

struct rdb_store {
	struct rdb_table **s_tables; /* sorted by name */
	size_t s_nr;
	size_t s_cap;
	uint64_t s_keys;
};

/* Order of keys: bytes as unsigned, then the shorter first. */
int rdb_key_cmp(const void *a, size_t alen, const void *b, size_t blen);

void rdb_store_init(struct rdb_store *s);
void rdb_store_fini(struct rdb_store *s);
/* Move @from into @to (whose previous content is freed); @from is left empty. */
void rdb_store_swap(struct rdb_store *to, struct rdb_store *from);

struct rdb_table *rdb_store_table_find(const struct rdb_store *s, const char *name);
/* Index of the first entry >= @key in @t; *@found if it is equal. */
size_t rdb_table_search(const struct rdb_table *t, const void *key, size_t klen, bool *found);

/*
 * Apply the transaction @buf of @len bytes (invariants 2, 4). Returns 0, a deterministic
 * -DER_* (-DER_PROTO malformed, -DER_NONEXIST, -DER_EXIST, -DER_INVAL), or -DER_NOMEM
 * (not deterministic; the store is unchanged).
 */
int rdb_store_apply(struct rdb_store *s, const void *buf, size_t len);

/* Encode @s into a new buffer (*@buf, *@len; free with D_FREE). Returns 0 or -DER_NOMEM. */
int rdb_store_encode(const struct rdb_store *s, void **buf, size_t *len);
/* Decode a snapshot into the empty store @s. Returns 0, -DER_PROTO or -DER_NOMEM. */
int rdb_store_decode(struct rdb_store *s, const void *buf, size_t len);

#endif /* RDB_INTERNAL_H */
