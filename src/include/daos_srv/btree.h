/*
 * daos_srv/btree.h: dbtree, the B+tree VOS indexes everything with, over the umem heap.
 *
 * A tree lives in the heap: a 32-byte root (struct btr_root_df) embedded in whatever owns
 * the tree (the container table in the pool header, an object's record, a dkey's record),
 * and nodes allocated from the heap. Records carry a body: a heap allocation made and freed
 * by the tree's class, holding whatever the class keeps there (a key and a value, or the
 * root of a sub-tree, which is how VOS nests dkey -> akey -> value trees).
 *
 * A class, registered once with dbtree_class_register(), supplies the callbacks that
 * interpret keys and bodies. Three kinds of keys, chosen per tree by its feature bits:
 *   - hashed (no key bit): the tree orders records by a fixed-size hash of the key
 *     (murmur64 unless the class generates its own), then by the class's full-key
 *     comparison, so colliding keys coexist. The order is arbitrary but stable.
 *   - BTR_FEAT_UINT_KEY: the key is a uint64_t (an 8-byte iov), ordered numerically.
 *   - BTR_FEAT_DIRECT_KEY: keys ordered by the class's comparison (lexical dkeys, for
 *     example), at most DBTREE_DIRECT_KEY_MAX bytes so that an anchor can hold one.
 *
 * Every change happens inside a umem transaction: each call opens a nested one, so a caller
 * may wrap many calls in one outer transaction, and an abort restores the tree. Calls that
 * refuse without changing anything (-DER_EXIST from an insert-only upsert, -DER_NONEXIST
 * from an update-only upsert or a delete of a missing key) leave the caller's transaction
 * untouched; any other error dooms it (it aborts when its outermost end is reached), and
 * the tree must not be used again until then.
 *
 * Context: a tree and its handles belong to one thread (a target xstream); nothing here
 * locks and nothing yields. Handles are volatile: they are never stored in the heap.
 */
#ifndef D_SRV_BTREE_H
#define D_SRV_BTREE_H

#include <stdbool.h>
#include <stdint.h>

#include <gurt/types.h>
#include <daos_srv/umem.h>

enum {
	BTR_ORDER_MIN = 3,
	BTR_ORDER_MAX = 1024,
	/* A reasonable order for most trees: nodes of about half a KiB. */
	BTR_ORDER_DEFAULT = 32,
};

/** Deepest tree (order 3 needs 2^(depth-1) records to reach a depth). */
#define BTR_DEPTH_MAX 40
/** Largest hashed key a class may generate. */
#define BTR_HKEY_MAX 32
/** Seed of the default hashed key: d_hash_murmur64(key, len, BTR_MURMUR_SEED). */
#define BTR_MURMUR_SEED 0xC0FFEE
/** Largest key of a BTR_FEAT_DIRECT_KEY tree (longer ones are refused, -DER_KEY2BIG). */
#define DBTREE_DIRECT_KEY_MAX 96
/** Size of an iteration anchor; it fits the da_buf of a daos_anchor_t. */
#define DBTREE_ANCHOR_SIZE 104

/** Feature bits of a tree. Bits 16..63 are free for classes (kept in tr_feats). */
enum btr_feats {
	/** Keys are uint64_t, ordered numerically; no key callbacks are used. */
	BTR_FEAT_UINT_KEY = (1 << 0),
	/** Keys are ordered by the class's to_key_cmp; nothing is hashed. */
	BTR_FEAT_DIRECT_KEY = (1 << 1),
	/**
	 * The first leaf has room for one record and becomes a full node at the second: for
	 * trees that usually hold one record (VOS single values), whose full first node would
	 * be mostly zeros, allocated, zeroed and logged. A tree that grows pays a node copy.
	 */
	BTR_FEAT_FIRST_SMALL = (1 << 2),
};
#define BTR_FEAT_MASK 0xffffULL

/** Tree class ids; a module takes a range. */
enum {
	DBTREE_VOS_BEGIN = 10,
	DBTREE_VOS_END = DBTREE_VOS_BEGIN + 9,
	DBTREE_DSM_BEGIN = 20,
	DBTREE_DSM_END = DBTREE_DSM_BEGIN + 9,
	DBTREE_SMD_BEGIN = 30,
	DBTREE_SMD_END = DBTREE_SMD_BEGIN + 9,
	DBTREE_TEST_BEGIN = 50,
	DBTREE_TEST_END = DBTREE_TEST_BEGIN + 9,
	DBTREE_CLASS_MAX = 64,
};

/**
 * Root of a tree, embedded in its owner. All zero means "no tree here". Never written by
 * anyone but this module (inside a transaction).
 */
struct btr_root_df {
	uint16_t tr_order;    /* max entries per node; 0: no tree */
	uint8_t tr_depth;     /* levels of nodes; 0: empty tree */
	uint8_t tr_version;   /* layout version of the tree */
	uint32_t tr_class;    /* registered class */
	uint64_t tr_feats;    /* enum btr_feats and the class's own bits */
	umem_off_t tr_node;   /* root node, UMOFF_NULL when empty */
	uint64_t tr_reserved; /* 0; room for transaction (DTX) and aggregation state */
};
_Static_assert(sizeof(struct btr_root_df) == 32, "btr_root_df is 32 bytes");

/**
 * A record as the class sees it: a volatile view, not the bytes in the node. The class
 * sets or changes rec_off; the tree stores it.
 */
struct btr_record {
	/** Body of the record: a heap allocation owned by the class (may be UMOFF_NULL). */
	umem_off_t rec_off;
	/** BTR_FEAT_UINT_KEY: the key. */
	uint64_t rec_ukey;
	/** Hashed trees: the hashed key (to_hkey_size() bytes; read-only). */
	const void *rec_hkey;
};

struct btr_instance;

/**
 * Callbacks of a tree class. Unless noted, a callback is required. "Compare" callbacks
 * return <0, 0 or >0 as the first operand sorts before, with or after the second. Callbacks
 * that change the heap run inside the tree's transaction and umem_tx_add what they modify.
 */
typedef struct btr_ops {
	/**
	 * Optional (hashed trees): size of the hashed key, 1..BTR_HKEY_MAX, a constant.
	 * Given together with to_hkey_gen; without both, the hashed key is murmur64.
	 */
	int (*to_hkey_size)(void);
	/** Optional (hashed trees): write the hashed key of @key into @hkey. */
	void (*to_hkey_gen)(struct btr_instance *tins, const d_iov_t *key, void *hkey);
	/** Optional (with to_hkey_gen): compare two hashed keys; memcmp without it. */
	int (*to_hkey_cmp)(struct btr_instance *tins, const void *hkey1, const void *hkey2);
	/**
	 * Compare the key of record @rec with @key. Required by direct-key trees; in hashed
	 * trees it orders (and tells apart) keys whose hashes are equal. A hashed tree may do
	 * without it only if the class's own hash is the key itself (equal hashes then mean
	 * equal keys); murmur64 without it is refused.
	 */
	int (*to_key_cmp)(struct btr_instance *tins, const struct btr_record *rec,
			  const d_iov_t *key);
	/**
	 * Allocate and fill the body of a new record for @key and @val, and set
	 * rec->rec_off (rec_ukey/rec_hkey are already set). 0 or an error.
	 */
	int (*to_rec_alloc)(struct btr_instance *tins, const d_iov_t *key, const d_iov_t *val,
			    struct btr_record *rec);
	/**
	 * Optional: free the body of @rec (and whatever hangs off it, sub-trees included).
	 * @args is what the caller of dbtree_delete/destroy passed. Without it, the tree
	 * umem_free()s rec_off.
	 */
	int (*to_rec_free)(struct btr_instance *tins, struct btr_record *rec, void *args);
	/**
	 * Return the key and/or the value of @rec; either iov may be NULL. For each: if
	 * iov_buf is NULL, point it at the bytes in the heap (borrowed, valid until the record
	 * changes); otherwise copy them if they fit in iov_buf_len. Set iov_len to their size
	 * in every case. The tree uses the key form for anchors and checks.
	 */
	int (*to_rec_fetch)(struct btr_instance *tins, const struct btr_record *rec, d_iov_t *key,
			    d_iov_t *val);
	/**
	 * Optional: store @val in the existing record @rec, in place or by replacing the body
	 * (then free the old one and set rec->rec_off to the new). Without it, the tree frees
	 * the body (to_rec_free, args NULL) and allocates a new one (to_rec_alloc).
	 */
	int (*to_rec_update)(struct btr_instance *tins, struct btr_record *rec, const d_iov_t *key,
			     const d_iov_t *val);
	/** Optional: describe @rec for error messages; returns @buf. */
	char *(*to_rec_string)(struct btr_instance *tins, const struct btr_record *rec, char *buf,
			       size_t len);
} btr_ops_t;

/**
 * An open tree: the handle callers pass around, and what callbacks receive. Only ti_priv is
 * the caller's; the rest is read-only for callbacks.
 */
struct btr_instance {
	struct umem_instance *ti_umm; /* borrowed: the heap */
	struct btr_root_df *ti_root;  /* borrowed: the root, in the heap */
	const btr_ops_t *ti_ops;      /* the class's callbacks */
	void *ti_priv;                /* the opener's, for the callbacks */
};

/** Opaque iteration position; all zero means "before the first / after the last". */
struct dbtree_anchor {
	uint8_t ba_buf[DBTREE_ANCHOR_SIZE];
};

/** Probe opcodes (DAOS's values). */
typedef enum {
	BTR_PROBE_FIRST = 1,  /* the first record */
	BTR_PROBE_LAST = 2,   /* the last record */
	BTR_PROBE_EQ = 0x100, /* the record whose key equals the key */
	BTR_PROBE_GT = 0x101, /* the first record with a greater key */
	BTR_PROBE_LT = 0x102, /* the last record with a smaller key */
	BTR_PROBE_GE = 0x103, /* the first record with a greater or equal key */
	BTR_PROBE_LE = 0x104, /* the last record with a smaller or equal key */
} dbtree_probe_opc_t;

/** Flags of dbtree_upsert. */
enum btr_upsert_flags {
	/** Insert only: -DER_EXIST if the key is there. */
	BTR_UPSERT_INSERT = (1 << 0),
	/** Update only: -DER_NONEXIST if the key is not there. */
	BTR_UPSERT_UPDATE = (1 << 1),
};

/** Attributes of a tree. */
struct btr_attr {
	unsigned int ba_order;
	unsigned int ba_depth;
	unsigned int ba_class;
	uint64_t ba_feats;
};

/** Statistics of a tree (a walk of every node). */
struct btr_stat {
	uint64_t bs_node_nr; /* nodes */
	uint64_t bs_rec_nr;  /* records */
};

struct btr_iterator;

static inline bool
dbtree_is_empty_inplace(const struct btr_root_df *root)
{
	return root->tr_depth == 0;
}

/**
 * Register tree class @tree_class (< DBTREE_CLASS_MAX) with the key kinds it supports in
 * @tree_feats and its callbacks @ops (borrowed for the life of the process: a static
 * table). Registering the same class again with the same ops is harmless.
 * Returns 0, -DER_INVAL (bad id, missing callbacks), -DER_EXIST (id taken by other ops).
 * Context: module initialisation, before any tree of the class is used; not thread-safe.
 */
int dbtree_class_register(unsigned int tree_class, uint64_t tree_feats, const btr_ops_t *ops);

/**
 * Create an empty tree of @tree_class at @root (borrowed, in the heap of @umm, all zero)
 * and open it. @tree_feats: at most one key kind bit, allowed by the class, plus any of the
 * class's own bits (16..63). @tree_order: BTR_ORDER_MIN..BTR_ORDER_MAX. @priv: for the
 * callbacks (ti_priv). On success *@toh is a handle: close it with dbtree_close.
 * Returns 0, -DER_INVAL, -DER_NONEXIST (class not registered), -DER_EXIST (@root holds a
 * tree), -DER_NOMEM, or a transaction error.
 * Context: the heap's thread; opens a nested transaction.
 */
int dbtree_create_inplace_ex(unsigned int tree_class, uint64_t tree_feats, unsigned int tree_order,
			     struct umem_instance *umm, struct btr_root_df *root, void *priv,
			     struct btr_instance **toh);

/** dbtree_create_inplace_ex without private data. Context: as dbtree_create_inplace_ex. */
int dbtree_create_inplace(unsigned int tree_class, uint64_t tree_feats, unsigned int tree_order,
			  struct umem_instance *umm, struct btr_root_df *root,
			  struct btr_instance **toh);

/**
 * Open the tree at @root (borrowed, in the heap of @umm). The root is validated.
 * Returns 0, -DER_NONEXIST (no tree: a zero root, or its class is not registered),
 * -DER_INVAL (the root is not a valid tree root), -DER_NOMEM.
 * Context: the heap's thread.
 */
int dbtree_open_inplace_ex(struct btr_root_df *root, struct umem_instance *umm, void *priv,
			   struct btr_instance **toh);

/**
 * Storage for a tree handle that lives on the caller's stack (dbtree_open_inplace_buf,
 * dbtree_create_inplace_buf): a short-lived open costs no allocation.
 */
struct dbtree_buf {
	uint64_t db_space[128];
};

/**
 * dbtree_open_inplace_ex / dbtree_create_inplace_ex with the handle in @buf, which must
 * outlive it. dbtree_close releases it as usual; no iterator may be prepared on it (the
 * close asserts there is none left).
 */
int dbtree_open_inplace_buf(struct btr_root_df *root, struct umem_instance *umm, void *priv,
			    struct dbtree_buf *buf, struct btr_instance **toh);
int dbtree_create_inplace_buf(unsigned int tree_class, uint64_t tree_feats, unsigned int tree_order,
			      struct umem_instance *umm, struct btr_root_df *root, void *priv,
			      struct dbtree_buf *buf, struct btr_instance **toh);

/** dbtree_open_inplace_ex without private data. Context: the heap's thread. */
int dbtree_open_inplace(struct btr_root_df *root, struct umem_instance *umm,
			struct btr_instance **toh);

/**
 * Release handle @toh. Iterators prepared on it keep the tree open until they finish.
 * Context: the heap's thread.
 */
void dbtree_close(struct btr_instance *toh);

/**
 * Free every record (through to_rec_free with @args) and node, zero the root, and release
 * @toh, whatever the outcome. No iterator may be open on the handle. On error the
 * transaction aborts and the tree is left as it was. Returns 0 or a transaction error.
 * Context: the heap's thread; opens a nested transaction.
 */
int dbtree_destroy(struct btr_instance *toh, void *args);

/**
 * Delete up to *@credits records, first ones first (to_rec_free with @args), and subtract
 * the number deleted from *@credits. *@destroyed: the tree is now empty (the root stays;
 * call dbtree_destroy to release it). Lets garbage collection take a big tree apart over
 * many short transactions. Returns 0 or an error (as dbtree_delete).
 * Context: the heap's thread; opens a nested transaction.
 */
int dbtree_drain(struct btr_instance *toh, int *credits, void *args, bool *destroyed);

/**
 * Insert or update the record of @key with @val (both borrowed; interpreted by the class).
 * @flags: BTR_UPSERT_INSERT or BTR_UPSERT_UPDATE for conditional operations, or 0.
 * @val_out (optional): the record's value afterwards, as to_rec_fetch returns it.
 * Returns 0, -DER_EXIST / -DER_NONEXIST (a condition failed; nothing changed),
 * -DER_INVAL, -DER_KEY2BIG (direct key too long), or an error of the class or the heap.
 * Context: the heap's thread; opens a nested transaction.
 */
int dbtree_upsert(struct btr_instance *toh, unsigned int flags, const d_iov_t *key,
		  const d_iov_t *val, d_iov_t *val_out);

/** dbtree_upsert with no condition and no output. Context: as dbtree_upsert. */
int dbtree_update(struct btr_instance *toh, const d_iov_t *key, const d_iov_t *val);

/**
 * dbtree_upsert(@toh, BTR_UPSERT_INSERT, @key, @val, NULL) without a second descent when
 * the last operation on @toh was a dbtree_lookup / dbtree_fetch(BTR_PROBE_EQ) of the same
 * @key that returned -DER_NONEXIST: the record goes where that probe ended. The caller
 * may allocate in between but must not change the tree through another handle. Without
 * such a probe it is dbtree_upsert. Returns as dbtree_upsert.
 * Context: as dbtree_upsert.
 */
int dbtree_insert_probed(struct btr_instance *toh, const d_iov_t *key, const d_iov_t *val);

/**
 * Find the record @opc selects relative to @key (ignored for FIRST/LAST) and return its key
 * and value through to_rec_fetch (either output may be NULL).
 * Returns 0, -DER_NONEXIST (no such record), -DER_INVAL, or an error of the class.
 * Context: the heap's thread; reads only.
 */
int dbtree_fetch(struct btr_instance *toh, dbtree_probe_opc_t opc, const d_iov_t *key,
		 d_iov_t *key_out, d_iov_t *val_out);

/** dbtree_fetch with BTR_PROBE_EQ and no key output. Context: as dbtree_fetch. */
int dbtree_lookup(struct btr_instance *toh, const d_iov_t *key, d_iov_t *val_out);

/**
 * Delete the record of @key, freeing its body through to_rec_free with @args.
 * Returns 0, -DER_NONEXIST (nothing changed), -DER_INVAL, or an error.
 * Context: the heap's thread; opens a nested transaction.
 */
int dbtree_delete(struct btr_instance *toh, const d_iov_t *key, void *args);

/**
 * Remove the record of @key without freeing its body: *@body receives it and the caller
 * now owns it (umem_free it, or hand it to another tree). Returns as dbtree_delete.
 * Context: the heap's thread; opens a nested transaction.
 */
int dbtree_detach(struct btr_instance *toh, const d_iov_t *key, umem_off_t *body);

/** Does the tree hold no record? Context: the heap's thread. */
bool dbtree_is_empty(struct btr_instance *toh);

/**
 * Attributes (@attr, optional; cheap) and statistics (@stat, optional; walks every node).
 * Returns 0.
 * Context: the heap's thread; reads only.
 */
int dbtree_query(struct btr_instance *toh, struct btr_attr *attr, struct btr_stat *stat);

/**
 * Check the structure of the tree: node allocations and flags, fill, uniform depth, key
 * order within and across nodes, separators, hashed keys matching their keys. Validates
 * every node before reading it and every record body (a live allocation) before handing it
 * to the class, so damaged nodes are reported, not crashed on. Fills @stat (optional) on
 * success. Returns 0, or -DER_INVAL with the first inconsistency logged.
 * Context: the heap's thread; reads only.
 */
int dbtree_check(struct btr_instance *toh, struct btr_stat *stat);

/*
 * Iterators. An iterator is positioned by a probe, moves with next/prev and reads with
 * fetch. It survives changes to its tree made through the same handle (its own
 * dbtree_iter_delete included): the tree saves the position as an anchor before the change,
 * and the next move resumes from the first key after it (next) or before it (prev); fetch
 * returns -DER_NONEXIST if the record is gone. Changes through another handle of the same
 * tree, and an abort of a transaction after the iterator was positioned, are not seen:
 * re-probe (with an anchor from dbtree_iter_fetch) after them.
 */

/**
 * Prepare an iterator on @toh (borrowed); the iterator holds the tree open until
 * dbtree_iter_finish, which frees it. Returns 0 or -DER_NOMEM.
 * Context: the heap's thread, like every iterator call below.
 */
int dbtree_iter_prepare(struct btr_instance *toh, struct btr_iterator **ih);

/** Release iterator @ih. Context: the heap's thread. */
void dbtree_iter_finish(struct btr_iterator *ih);

/**
 * Position @ih on the record @opc selects relative to @key, or, if @anchor is given,
 * relative to the key the anchor was taken at (GT: the first key after it, whether or not
 * it is still there; FIRST/LAST ignore both). A zero anchor stands before the first key
 * for GT/GE and after the last for LT/LE. Anchors are validated (they travel through
 * clients): -DER_INVAL for one that does not belong to this kind of tree.
 * Returns 0, -DER_NONEXIST (no such record; the iterator is at its end), -DER_INVAL.
 * Context: the heap's thread; reads only.
 */
int dbtree_iter_probe(struct btr_iterator *ih, dbtree_probe_opc_t opc, const d_iov_t *key,
		      const struct dbtree_anchor *anchor);

/**
 * Move to the next record. Returns 0, -DER_NONEXIST at the end, -DER_INVAL if unprobed.
 * Context: the heap's thread; reads only.
 */
int dbtree_iter_next(struct btr_iterator *ih);

/** Move to the previous record. Returns as dbtree_iter_next. Context: as dbtree_iter_next. */
int dbtree_iter_prev(struct btr_iterator *ih);

/**
 * Read the current record: key and value through to_rec_fetch (either may be NULL) and an
 * anchor (optional) to resume from later. Returns 0, -DER_NONEXIST (at the end, or the
 * record was deleted), -DER_INVAL (unprobed), or an error of the class. Outputs that
 * point into the heap are borrowed until the record changes.
 * Context: the heap's thread; reads only.
 */
int dbtree_iter_fetch(struct btr_iterator *ih, d_iov_t *key, d_iov_t *val,
		      struct dbtree_anchor *anchor);

/**
 * Delete the current record (to_rec_free with @args). The iterator then stands where the
 * record was: next/prev move to its neighbours. Returns as dbtree_delete.
 * Context: the heap's thread; opens a nested transaction.
 */
int dbtree_iter_delete(struct btr_iterator *ih, void *args);

/**
 * Callback of dbtree_iterate: 0 continues, 1 stops (dbtree_iterate returns 0), anything
 * else stops and is returned. It may delete the current record with dbtree_iter_delete.
 * Context: called on the heap's thread, inside dbtree_iterate.
 */
typedef int (*dbtree_iterate_cb_t)(struct btr_iterator *ih, d_iov_t *key, d_iov_t *val, void *arg);

/**
 * Call @cb for every record, in order (reverse order if @backward), with key and value as
 * to_rec_fetch returns them for NULL buffers (borrowed). Returns 0 or the callback's or an
 * iterator error.
 * Context: the heap's thread.
 */
int dbtree_iterate(struct btr_instance *toh, bool backward, dbtree_iterate_cb_t cb, void *arg);

#endif /* D_SRV_BTREE_H */
