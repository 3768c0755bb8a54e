/*
 * gurt/hash.h: the generic chained hash table of libgurt, and two wrappers built on it: the
 * handle hash (d_hhash_*, 64-bit cookies handed to clients) and the UUID hash (d_uhash_*).
 *
 * The table does not allocate records. A record embeds a d_list_t (its "link") and the
 * caller supplies d_hash_table_ops_t callbacks that compare keys and, optionally, count
 * references and free the record. The link of a record that is in no table is an empty list
 * (D_INIT_LIST_HEAD it before the first insertion): d_hash_rec_unlinked() tests that.
 *
 * Reference counting. Without D_HASH_FT_EPHEMERAL the table holds one reference on every
 * record it contains: insertion calls hop_rec_addref, deletion calls hop_rec_decref, and when
 * that returns true the table calls hop_rec_free. Dropping the last reference of a record
 * that is still in such a table is a programming error (assertion). With
 * D_HASH_FT_EPHEMERAL the table holds no reference: insertion and deletion leave the count
 * alone, and the d_hash_rec_decref() that drops the last reference removes the record from
 * the table and calls hop_rec_free. Lookups (d_hash_rec_find, d_hash_rec_find_insert on a hit)
 * always take a reference for the caller, put with d_hash_rec_decref().
 *
 * Locking. By default each bucket has a spinlock; D_HASH_FT_MUTEX and D_HASH_FT_RWLOCK choose
 * a mutex or a read-write lock instead, D_HASH_FT_NOLOCK none at all (the caller serialises
 * every call). Per-bucket locks need hop_rec_hash; without it the table uses one lock for
 * all buckets (D_HASH_FT_GLOCK, also selectable explicitly). Under D_HASH_FT_RWLOCK lookups,
 * d_hash_rec_addref and (outside EPHEMERAL tables) d_hash_rec_decref run under the read lock,
 * so concurrent calls of hop_rec_addref/hop_rec_decref must be atomic on their own.
 *
 * struct d_hash_table has DAOS's layout, whose lock union needs the POSIX.1-2001 types of
 * <pthread.h>: the compilers' default; under a strict -std=c11 define _POSIX_C_SOURCE 200112L.
 */
#ifndef D_GURT_HASH_H
#define D_GURT_HASH_H

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <gurt/list.h>
#include <gurt/types.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** Kept for source compatibility: the table keeps no extra statistics in its structures. */
#define D_HASH_DEBUG 0

struct d_hash_table;

/**
 * Record callbacks of a table. Only hop_key_cmp is mandatory. The table passes itself as
 * @htable (ht_priv holds the creator's private pointer) and the record as its @link.
 */
typedef struct {
	/** Does the key of the record at @link equal the @ksize bytes at @key? */
	bool (*hop_key_cmp)(struct d_hash_table *htable, d_list_t *link, const void *key,
			    unsigned int ksize);
	/**
	 * Generate the key of a record inserted by d_hash_rec_insert_anonym(), from @arg.
	 * Called with every bucket locked.
	 */
	void (*hop_key_init)(struct d_hash_table *htable, d_list_t *link, void *arg);
	/** Hash a key to 32 bits. Default: d_hash_string_u32(key, ksize). */
	uint32_t (*hop_key_hash)(struct d_hash_table *htable, const void *key, unsigned int ksize);
	/**
	 * The hash of the key stored in the record at @link; must equal hop_key_hash of that
	 * key. Needed for per-bucket locking and by every call that is given only a link.
	 */
	uint32_t (*hop_rec_hash)(struct d_hash_table *htable, d_list_t *link);
	/** Take a reference on the record. */
	void (*hop_rec_addref)(struct d_hash_table *htable, d_list_t *link);
	/**
	 * Drop a reference; return true when it was the last one and the table may free the
	 * record with hop_rec_free. Return false always to keep records alive regardless.
	 */
	bool (*hop_rec_decref)(struct d_hash_table *htable, d_list_t *link);
	/**
	 * Drop @count references at once: return 1 when the last one went (as hop_rec_decref
	 * returning true), 0 otherwise, or a negative -DER_* error (nothing dropped). Optional
	 * even when hop_rec_decref is given: without it d_hash_rec_ndecref() calls
	 * hop_rec_decref @count times.
	 */
	int (*hop_rec_ndecref)(struct d_hash_table *htable, d_list_t *link, int count);
	/** Free the record whose last reference went. Called with no table lock held. */
	void (*hop_rec_free)(struct d_hash_table *htable, d_list_t *link);
} d_hash_table_ops_t;

/** Feature bits of d_hash_table_create(). No locking bit: one spinlock per bucket. */
enum d_hash_feats {
	/** No lock: the caller serialises every call on the table. */
	D_HASH_FT_NOLOCK = (1 << 0),
	/** A pthread mutex per bucket (or for the table with D_HASH_FT_GLOCK). */
	D_HASH_FT_MUTEX = (1 << 1),
	/** A pthread read-write lock; see the file comment about reference counts. */
	D_HASH_FT_RWLOCK = (1 << 2),
	/** The table holds no reference; the last decref removes and frees the record. */
	D_HASH_FT_EPHEMERAL = (1 << 3),
	/** Lookups move the record found to the front of its bucket. */
	D_HASH_FT_LRU = (1 << 4),
	/** One lock for the whole table instead of one per bucket. */
	D_HASH_FT_GLOCK = (1 << 15),
};

/** The lock of a bucket or table; which member is live depends on ht_feats. */
union d_hash_lock {
	pthread_spinlock_t spin;
	pthread_mutex_t mutex;
	pthread_rwlock_t rwlock;
};

struct d_hash_bucket {
	d_list_t hb_head;
};

/**
 * A hash table. Applications may embed one (d_hash_table_create_inplace) and read ht_priv;
 * every other member belongs to the implementation.
 */
struct d_hash_table {
	union d_hash_lock ht_lock;        /* the table lock under D_HASH_FT_GLOCK */
	uint32_t ht_bits;                 /* 1 << ht_bits buckets */
	uint32_t ht_feats;                /* D_HASH_FT_* in force */
	void *ht_priv;                    /* creator's pointer, passed through */
	d_hash_table_ops_t *ht_ops;       /* borrowed from the creator */
	struct d_hash_bucket *ht_buckets; /* NULL while not initialised */
	union d_hash_lock *ht_locks;      /* per-bucket locks, or NULL */
};

/** Called on each record by d_hash_table_traverse(); non-zero stops the walk. */
typedef int (*d_hash_traverse_cb_t)(d_list_t *link, void *arg);

/**
 * Allocate and initialise a table of 2^@bits buckets with features @feats (D_HASH_FT_*).
 * @hops is borrowed and must outlive the table; @priv is stored in ht_priv. On success
 * *@htable_pp is the new table, to be freed with d_hash_table_destroy(); on failure it is
 * NULL. Returns 0, -DER_INVAL (no hop_key_cmp, bits > 31) or -DER_NOMEM.
 * Context: any thread; may allocate.
 */
int d_hash_table_create(uint32_t feats, uint32_t bits, void *priv, d_hash_table_ops_t *hops,
			struct d_hash_table **htable_pp);

/**
 * Initialise the caller's @htable (for instance one embedded in a larger structure) like
 * d_hash_table_create(). The caller owns @htable; finalise it with
 * d_hash_table_destroy_inplace(). Returns 0, -DER_INVAL or -DER_NOMEM.
 * Context: any thread; may allocate.
 */
int d_hash_table_create_inplace(uint32_t feats, uint32_t bits, void *priv, d_hash_table_ops_t *hops,
				struct d_hash_table *htable);

/**
 * Call @cb(link, @arg) on every record, bucket by bucket, until it returns non-zero. Each
 * bucket is read-locked while its records are visited, so @cb must not insert, delete or
 * decref records of this table (collect them, or return non-zero and act afterwards).
 * Returns 0 after a full walk, @cb's non-zero value, -DER_UNINIT (table not initialised) or
 * -DER_INVAL (@cb NULL). Context: any thread.
 */
int d_hash_table_traverse(struct d_hash_table *htable, d_hash_traverse_cb_t cb, void *arg);

/** Does the table hold no record? (An uninitialised table is empty.) Context: any thread. */
bool d_hash_table_is_empty(struct d_hash_table *htable);

/**
 * Finalise and free @htable. Without @force a non-empty table is left untouched and
 * -DER_BUSY returned. With @force every record is deleted first, as by
 * d_hash_rec_delete_at() (so records of an EPHEMERAL table are only unlinked, not freed).
 * Returns 0 or -DER_BUSY. Context: no other thread may use the table.
 */
int d_hash_table_destroy(struct d_hash_table *htable, bool force);

/**
 * Like d_hash_table_destroy() but does not free @htable itself; its members are zeroed.
 * Finalising a zeroed table again is a no-op returning 0.
 */
int d_hash_table_destroy_inplace(struct d_hash_table *htable, bool force);

/**
 * Look @key (@ksize bytes, not 0) up. Returns the record's link with a reference taken for
 * the caller (put with d_hash_rec_decref), or NULL. Under D_HASH_FT_LRU the record moves to
 * the front of its bucket. Context: any thread.
 */
d_list_t *d_hash_rec_find(struct d_hash_table *htable, const void *key, unsigned int ksize);

/**
 * Look @key up; if found, return that record with a reference taken for the caller (LRU as
 * in d_hash_rec_find). Otherwise insert @link, as d_hash_rec_insert() would, and return
 * @link. Atomic with respect to other callers. Context: any thread.
 */
d_list_t *d_hash_rec_find_insert(struct d_hash_table *htable, const void *key, unsigned int ksize,
				 d_list_t *link);

/**
 * Move the record at @link, whose key is @key, to the front of its bucket (LRU order layered
 * on any table). Nothing happens if the record is not in a table. Context: any thread.
 */
void d_hash_rec_promote(struct d_hash_table *htable, const void *key, unsigned int ksize,
			d_list_t *link);

/**
 * Insert the record at @link (not in any table) under @key, at the front of its bucket. The
 * table takes a reference unless it is EPHEMERAL. With @exclusive the insertion fails with
 * -DER_EXIST if a record with an equal key is present; without, duplicates are allowed and
 * lookups find the newest. Returns 0 or -DER_EXIST. Context: any thread.
 */
int d_hash_rec_insert(struct d_hash_table *htable, const void *key, unsigned int ksize,
		      d_list_t *link, bool exclusive);

/**
 * Insert a record that has no key yet: with every bucket locked, hop_key_init(@link, @arg)
 * generates one, and hop_rec_hash places the record (without hop_rec_hash it goes to bucket
 * 0, as in DAOS, so lookups by key find it only when bits is 0). Returns 0, or -DER_INVAL
 * if the table has no hop_key_init. Context: any thread.
 */
int d_hash_rec_insert_anonym(struct d_hash_table *htable, d_list_t *link, void *arg);

/**
 * Remove the record with @key (the newest, if duplicated). Outside EPHEMERAL tables the
 * table's reference is dropped and the record freed if that was the last. Returns whether a
 * record was found. Context: any thread; hop_rec_free runs with no lock held.
 */
bool d_hash_rec_delete(struct d_hash_table *htable, const void *key, unsigned int ksize);

/**
 * Remove the record at @link, as d_hash_rec_delete(). Returns false if it was not in the
 * table. The caller must hold a reference (or be the table's only user) so @link is valid.
 * Context: any thread.
 */
bool d_hash_rec_delete_at(struct d_hash_table *htable, d_list_t *link);

/**
 * D_HASH_FT_LRU tables only: move the record with @key to the back of its bucket (the
 * eviction end). Returns whether it was found; false for other tables. Context: any thread.
 */
bool d_hash_rec_evict(struct d_hash_table *htable, const void *key, unsigned int ksize);

/**
 * D_HASH_FT_LRU tables only: move the record at @link to the back of its bucket. Returns
 * true if it moved, false if it already was the last or the table is not LRU.
 * Context: any thread.
 */
bool d_hash_rec_evict_at(struct d_hash_table *htable, d_list_t *link);

/** Take a reference on the record at @link (hop_rec_addref). Context: any thread. */
void d_hash_rec_addref(struct d_hash_table *htable, d_list_t *link);

/**
 * Drop a reference on the record at @link (hop_rec_decref). If it was the last: in an
 * EPHEMERAL table the record is removed (if still in it) and freed with hop_rec_free; in
 * other tables the record must already have been removed, and is freed. The caller must
 * not touch the record after its last reference. Context: any thread; hop_rec_free runs
 * with no lock held.
 */
void d_hash_rec_decref(struct d_hash_table *htable, d_list_t *link);

/**
 * Drop @count (> 0) references, with hop_rec_ndecref or by repeated hop_rec_decref, then
 * act as d_hash_rec_decref() does on the last. Returns 0; -DER_INVAL if @count <= 0 or the
 * record ran out of references before @count were dropped (it was then freed as on the
 * last reference); or the error of hop_rec_ndecref. Context: any thread.
 */
int d_hash_rec_ndecref(struct d_hash_table *htable, int count, d_list_t *link);

/** Is the record at @link in no table? (Its link must have been initialised.) */
bool d_hash_rec_unlinked(d_list_t *link);

/**
 * Some record of the table, or NULL if it is empty. No reference is taken and no order is
 * promised, except that with one bucket it is the front of that bucket. Meant for draining
 * a table: while ((link = d_hash_rec_first(ht)) != NULL) d_hash_rec_decref(ht, link);
 * Context: any thread, but the record may go away unless the caller holds a reference.
 */
d_list_t *d_hash_rec_first(struct d_hash_table *htable);

/** Log the table's size and bucket depths at DEBUG level of facility gurt. */
void d_hash_table_debug(struct d_hash_table *htable);

/*
 * Handle hash: records get a 64-bit key (a "handle", "cookie") when inserted. The low
 * D_HTYPE_BITS hold the handle type; a key with bit 0 clear is a pointer (D_HTYPE_PTR), so
 * every other type must be odd. A handle hash in pointer mode (d_hhash_set_ptrtype) stores
 * nothing: the key is the d_hlink's address and only reference counting happens. Reference
 * counts are atomic, but the caller serialises insert/delete with lookups of the same link.
 */
#define D_HHASH_BITS 16
#define D_HTYPE_BITS 4
#define D_HTYPE_MASK ((1ULL << D_HTYPE_BITS) - 1)

enum {
	D_HTYPE_PTR = 0, /* key is the address of the d_hlink */
};

struct d_hlink;
struct d_hlink_ops {
	/** Free the object the last reference of which went. */
	void (*hop_free)(struct d_hlink *hlink);
};

/** A reference-counted link; embedded in d_hlink and d_ulink. */
struct d_rlink {
	d_list_t rl_link;
	uint32_t rl_ref;
	uint32_t rl_initialized : 1;
};

struct d_hlink {
	struct d_rlink hl_link;
	uint64_t hl_key;
	struct d_hlink_ops *hl_ops;
};

/** Opaque handle hash. */
struct d_hhash;

/**
 * Create a handle hash of 2^@bits buckets (D_HHASH_BITS is customary) with @feats
 * (D_HASH_FT_*). Free with d_hhash_destroy(). Returns 0 or -DER_NOMEM;
 * *@hhash is NULL on failure. Context: any thread.
 */
int d_hhash_create(uint32_t feats, uint32_t bits, struct d_hhash **hhash);

/**
 * Remove every link (dropping the table's references, freeing links whose count reaches 0)
 * and free @hhash. Context: no other thread may use it.
 */
void d_hhash_destroy(struct d_hhash *hhash);

/** Initialise @hlink with one reference, the caller's; @hl_ops is borrowed. */
void d_hhash_hlink_init(struct d_hlink *hlink, struct d_hlink_ops *hl_ops);

/**
 * Insert @hlink, giving it a new key of @type (odd, < 16; D_HTYPE_PTR exactly when the
 * hash is in pointer mode). The hash takes a reference. Read the key with
 * d_hhash_link_key(). Context: any thread.
 */
void d_hhash_link_insert(struct d_hhash *hhash, struct d_hlink *hlink, int type);

/**
 * The link with @key, with a reference taken for the caller (put with d_hhash_link_putref),
 * or NULL. Context: any thread.
 */
struct d_hlink *d_hhash_link_lookup(struct d_hhash *hhash, uint64_t key);

/** Take a reference on @hlink. */
void d_hhash_link_getref(struct d_hhash *hhash, struct d_hlink *hlink);

/** Drop a reference on @hlink; the last one calls hl_ops->hop_free. */
void d_hhash_link_putref(struct d_hhash *hhash, struct d_hlink *hlink);

/**
 * Remove @hlink from the hash, dropping the hash's reference (pointer mode: drop one
 * reference). Returns false if it was not in the hash (or, for a pointer key, the hash is
 * not in pointer mode).
 */
bool d_hhash_link_delete(struct d_hhash *hhash, struct d_hlink *hlink);

/** Is @hlink in no hash (or never initialised)? */
bool d_hhash_link_empty(struct d_hlink *hlink);

/** Store the key of @hlink in *@key. */
void d_hhash_link_key(struct d_hlink *hlink, uint64_t *key);

/** The handle type encoded in @key (D_HTYPE_PTR for pointer keys). */
int d_hhash_key_type(uint64_t key);

/** Is @key a pointer key (bit 0 clear)? */
bool d_hhash_key_isptr(uint64_t key);

/** Switch an empty hash to pointer mode. Returns 0, or -DER_ALREADY if it holds links. */
int d_hhash_set_ptrtype(struct d_hhash *hhash);

/** Is @hhash in pointer mode? */
bool d_hhash_is_ptrtype(struct d_hhash *hhash);

/*
 * UUID hash: a d_hash_table whose records are d_ulink, keyed by UUID, optionally narrowed by
 * a caller comparison (uop_cmp with the cmp_args given to insert/lookup). Reference counts
 * are atomic; the caller serialises insert/delete with lookups of the same link.
 */
struct d_ulink;
struct d_ulink_ops {
	/** Free the object the last reference of which went. */
	void (*uop_free)(struct d_ulink *ulink);
	/** Optional: does @ulink also match @cmp_args? */
	bool (*uop_cmp)(struct d_ulink *ulink, void *cmp_args);
};

struct d_ulink {
	struct d_rlink ul_link;
	struct d_uuid ul_uuid;
	struct d_ulink_ops *ul_ops;
};

/**
 * Create a UUID hash of 2^@bits buckets with @feats. Free with d_uhash_destroy(). Returns 0
 * or -DER_NOMEM; *@htable is NULL on failure.
 */
int d_uhash_create(uint32_t feats, uint32_t bits, struct d_hash_table **htable);

/** Remove every link (dropping the table's references) and free @htable. */
void d_uhash_destroy(struct d_hash_table *htable);

/** Initialise @ulink with one reference, the caller's; @ul_ops is borrowed. */
void d_uhash_ulink_init(struct d_ulink *ulink, struct d_ulink_ops *ul_ops);

/** Is @ulink in no table (or never initialised)? */
bool d_uhash_link_empty(struct d_ulink *ulink);

/** Does @ulink hold exactly one reference? */
bool d_uhash_link_last_ref(struct d_ulink *ulink);

/** Take a reference on @ulink. */
void d_uhash_link_addref(struct d_hash_table *htable, struct d_ulink *ulink);

/** Drop a reference on @ulink; the last one calls ul_ops->uop_free. */
void d_uhash_link_putref(struct d_hash_table *htable, struct d_ulink *ulink);

/** Remove @ulink from the table, dropping the table's reference. */
void d_uhash_link_delete(struct d_hash_table *htable, struct d_ulink *ulink);

/**
 * Insert @ulink under a copy of @key; the table takes a reference. Fails with -DER_EXIST if
 * a link with the same UUID (and, with uop_cmp, matching @cmp_args) is present.
 */
int d_uhash_link_insert(struct d_hash_table *htable, struct d_uuid *key, void *cmp_args,
			struct d_ulink *ulink);

/**
 * The link with @key (and matching @cmp_args, if links have uop_cmp), with a reference taken
 * for the caller (put with d_uhash_link_putref), or NULL.
 */
struct d_ulink *d_uhash_link_lookup(struct d_hash_table *htable, struct d_uuid *key,
				    void *cmp_args);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_GURT_HASH_H */
