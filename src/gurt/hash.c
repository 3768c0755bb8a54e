/*
 * hash.c: the chained hash table of gurt/hash.h and its handle (d_hhash) and UUID (d_uhash)
 * wrappers. Sits directly on pthreads and gurt's list, allocation and logging.
 *
 * Invariants:
 *  1. A record is in a table exactly when its link is on a bucket list; an unlinked record's
 *     link is an empty list (d_list_del_init), which is what d_hash_rec_unlinked() reads.
 *  2. A record is on the list of bucket (hash(key) & mask), where hash is hop_key_hash or
 *     d_hash_string_u32; hop_rec_hash(link) must agree with it. Anonymous records without
 *     hop_rec_hash are the one exception (bucket 0, as in DAOS).
 *  3. A bucket's list is only read under its lock (the table lock with D_HASH_FT_GLOCK,
 *     none with D_HASH_FT_NOLOCK) and only changed under it in write mode.
 *  4. Outside EPHEMERAL tables, the table owns one reference on each record it lists, taken
 *     on insertion and dropped on deletion; a record's count never reaches 0 while listed.
 *     In EPHEMERAL tables the table owns none, and the decref that reaches 0 unlinks the
 *     record under the same lock hold, so no lookup can find a record with a zero count.
 *  5. hop_rec_free is called with no table lock held, once per record whose count reached 0.
 */
#define D_LOGFAC gurt

#include <pthread.h>
#include <string.h>

#include <gurt/common.h>
#include <gurt/hash.h>

/* Where a successful lookup moves the record in an LRU table. */
enum ht_lru {
	HT_LRU_TAIL = -1,
	HT_LRU_NONE = 0,
	HT_LRU_HEAD = 1,
};

/* Locking */

static inline union d_hash_lock *
ht_lock_of(struct d_hash_table *htable, uint32_t idx)
{
	return (htable->ht_feats & D_HASH_FT_GLOCK) ? &htable->ht_lock : &htable->ht_locks[idx];
}

static void
ht_bucket_lock(struct d_hash_table *htable, uint32_t idx, bool read_only)
{
	union d_hash_lock *lock;
	int rc;

	if (htable->ht_feats & D_HASH_FT_NOLOCK)
		return;

	lock = ht_lock_of(htable, idx);
	if (htable->ht_feats & D_HASH_FT_MUTEX)
		rc = pthread_mutex_lock(&lock->mutex);
	else if (htable->ht_feats & D_HASH_FT_RWLOCK)
		rc = read_only ? pthread_rwlock_rdlock(&lock->rwlock)
			       : pthread_rwlock_wrlock(&lock->rwlock);
	else
		rc = pthread_spin_lock(&lock->spin);
	D_ASSERTF(rc == 0, "hash table %p lock: %d\n", (void *)htable, rc);
}

static void
ht_bucket_unlock(struct d_hash_table *htable, uint32_t idx)
{
	union d_hash_lock *lock;
	int rc;

	if (htable->ht_feats & D_HASH_FT_NOLOCK)
		return;

	lock = ht_lock_of(htable, idx);
	if (htable->ht_feats & D_HASH_FT_MUTEX)
		rc = pthread_mutex_unlock(&lock->mutex);
	else if (htable->ht_feats & D_HASH_FT_RWLOCK)
		rc = pthread_rwlock_unlock(&lock->rwlock);
	else
		rc = pthread_spin_unlock(&lock->spin);
	D_ASSERTF(rc == 0, "hash table %p unlock: %d\n", (void *)htable, rc);
}

/* Lock every bucket, in index order (the only multi-lock order, so no deadlock). */
static void
ht_lock_all(struct d_hash_table *htable)
{
	uint32_t nr = 1U << htable->ht_bits;
	uint32_t idx;

	if (htable->ht_feats & D_HASH_FT_NOLOCK)
		return;
	if (htable->ht_feats & D_HASH_FT_GLOCK) {
		ht_bucket_lock(htable, 0, false);
		return;
	}
	for (idx = 0; idx < nr; idx++)
		ht_bucket_lock(htable, idx, false);
}

static void
ht_unlock_all(struct d_hash_table *htable)
{
	uint32_t nr = 1U << htable->ht_bits;
	uint32_t idx;

	if (htable->ht_feats & D_HASH_FT_NOLOCK)
		return;
	if (htable->ht_feats & D_HASH_FT_GLOCK) {
		ht_bucket_unlock(htable, 0);
		return;
	}
	for (idx = nr; idx > 0; idx--)
		ht_bucket_unlock(htable, idx - 1);
}

static int
ht_lock_init(uint32_t feats, union d_hash_lock *lock)
{
	int rc;

	if (feats & D_HASH_FT_MUTEX)
		rc = pthread_mutex_init(&lock->mutex, NULL);
	else if (feats & D_HASH_FT_RWLOCK)
		rc = pthread_rwlock_init(&lock->rwlock, NULL);
	else
		rc = pthread_spin_init(&lock->spin, PTHREAD_PROCESS_PRIVATE);
	return d_errno2der(rc);
}

static void
ht_lock_fini(uint32_t feats, union d_hash_lock *lock)
{
	if (feats & D_HASH_FT_MUTEX)
		pthread_mutex_destroy(&lock->mutex);
	else if (feats & D_HASH_FT_RWLOCK)
		pthread_rwlock_destroy(&lock->rwlock);
	else
		pthread_spin_destroy(&lock->spin);
}

/* Callback wrappers */

static inline uint32_t
ht_key_hash(struct d_hash_table *htable, const void *key, unsigned int ksize)
{
	uint32_t h;

	if (htable->ht_ops->hop_key_hash != NULL)
		h = htable->ht_ops->hop_key_hash(htable, key, ksize);
	else
		h = d_hash_string_u32((const char *)key, ksize);
	return h & ((1U << htable->ht_bits) - 1);
}

/*
 * The bucket of a record known only by its link. Without hop_rec_hash this is only used to
 * pick a lock, which is then the table lock (GLOCK) or none (NOLOCK), so any index does.
 */
static inline uint32_t
ht_rec_hash(struct d_hash_table *htable, d_list_t *link)
{
	if (htable->ht_ops->hop_rec_hash == NULL) {
		D_ASSERT(htable->ht_feats & (D_HASH_FT_NOLOCK | D_HASH_FT_GLOCK));
		return 0;
	}
	return htable->ht_ops->hop_rec_hash(htable, link) & ((1U << htable->ht_bits) - 1);
}

static inline void
ht_rec_addref(struct d_hash_table *htable, d_list_t *link)
{
	if (htable->ht_ops->hop_rec_addref != NULL)
		htable->ht_ops->hop_rec_addref(htable, link);
}

/* Drop one reference; true if it was the last (the record is then a "zombie"). */
static inline bool
ht_rec_decref(struct d_hash_table *htable, d_list_t *link)
{
	if (htable->ht_ops->hop_rec_decref == NULL)
		return false;
	return htable->ht_ops->hop_rec_decref(htable, link);
}

static inline void
ht_rec_free(struct d_hash_table *htable, d_list_t *link)
{
	if (htable->ht_ops->hop_rec_free != NULL)
		htable->ht_ops->hop_rec_free(htable, link);
}

static inline bool
ht_ephemeral(const struct d_hash_table *htable)
{
	return (htable->ht_feats & D_HASH_FT_EPHEMERAL) != 0;
}

/* Bucket-list operations; the caller holds the bucket lock in write mode. */

static void
ht_rec_link(struct d_hash_table *htable, struct d_hash_bucket *bucket, d_list_t *link)
{
	if (!ht_ephemeral(htable))
		ht_rec_addref(htable, link);
	d_list_add(link, &bucket->hb_head);
}

/* Unlink and drop the table's reference; true if the record must now be freed. */
static bool
ht_rec_unlink(struct d_hash_table *htable, d_list_t *link)
{
	d_list_del_init(link);
	if (ht_ephemeral(htable))
		return false;
	return ht_rec_decref(htable, link);
}

static d_list_t *
ht_bucket_find(struct d_hash_table *htable, struct d_hash_bucket *bucket, const void *key,
	       unsigned int ksize, enum ht_lru lru)
{
	d_list_t *link;

	d_list_for_each (link, &bucket->hb_head) {
		if (!htable->ht_ops->hop_key_cmp(htable, link, key, ksize))
			continue;
		if (!(htable->ht_feats & D_HASH_FT_LRU))
			return link;
		if (lru == HT_LRU_HEAD && link != bucket->hb_head.next)
			d_list_move(link, &bucket->hb_head);
		else if (lru == HT_LRU_TAIL && link != bucket->hb_head.prev)
			d_list_move_tail(link, &bucket->hb_head);
		return link;
	}
	return NULL;
}

/*
 * The bucket holding the listed record @link. With hop_rec_hash that is computed; without,
 * the buckets are searched (the caller holds the table lock or needs none).
 */
static struct d_hash_bucket *
ht_link_bucket(struct d_hash_table *htable, d_list_t *link)
{
	uint32_t nr = 1U << htable->ht_bits;
	uint32_t idx;
	d_list_t *pos;

	if (htable->ht_ops->hop_rec_hash != NULL)
		return &htable->ht_buckets[ht_rec_hash(htable, link)];

	for (idx = 0; idx < nr; idx++) {
		d_list_for_each (pos, &htable->ht_buckets[idx].hb_head) {
			if (pos == link)
				return &htable->ht_buckets[idx];
		}
	}
	return NULL;
}

/* Lookup and insertion */

bool
d_hash_rec_unlinked(d_list_t *link)
{
	return d_list_empty(link);
}

d_list_t *
d_hash_rec_find(struct d_hash_table *htable, const void *key, unsigned int ksize)
{
	bool read_only = !(htable->ht_feats & D_HASH_FT_LRU);
	d_list_t *link;
	uint32_t idx;

	D_ASSERT(key != NULL && ksize != 0);
	idx = ht_key_hash(htable, key, ksize);

	ht_bucket_lock(htable, idx, read_only);
	link = ht_bucket_find(htable, &htable->ht_buckets[idx], key, ksize, HT_LRU_HEAD);
	if (link != NULL)
		ht_rec_addref(htable, link);
	ht_bucket_unlock(htable, idx);
	return link;
}

d_list_t *
d_hash_rec_find_insert(struct d_hash_table *htable, const void *key, unsigned int ksize,
		       d_list_t *link)
{
	struct d_hash_bucket *bucket;
	d_list_t *found;
	uint32_t idx;

	D_ASSERT(key != NULL && ksize != 0);
	idx = ht_key_hash(htable, key, ksize);
	bucket = &htable->ht_buckets[idx];

	ht_bucket_lock(htable, idx, false);
	found = ht_bucket_find(htable, bucket, key, ksize, HT_LRU_HEAD);
	if (found != NULL) {
		ht_rec_addref(htable, found);
		link = found;
	} else {
		ht_rec_link(htable, bucket, link);
	}
	ht_bucket_unlock(htable, idx);
	return link;
}

void
d_hash_rec_promote(struct d_hash_table *htable, const void *key, unsigned int ksize, d_list_t *link)
{
	struct d_hash_bucket *bucket;
	uint32_t idx;

	D_ASSERT(key != NULL && ksize != 0);
	idx = ht_key_hash(htable, key, ksize);
	bucket = &htable->ht_buckets[idx];

	ht_bucket_lock(htable, idx, false);
	if (!d_list_empty(link) && link != bucket->hb_head.next)
		d_list_move(link, &bucket->hb_head);
	ht_bucket_unlock(htable, idx);
}

int
d_hash_rec_insert(struct d_hash_table *htable, const void *key, unsigned int ksize, d_list_t *link,
		  bool exclusive)
{
	struct d_hash_bucket *bucket;
	uint32_t idx;
	int rc = 0;

	D_ASSERT(key != NULL && ksize != 0);
	idx = ht_key_hash(htable, key, ksize);
	bucket = &htable->ht_buckets[idx];

	ht_bucket_lock(htable, idx, false);
	if (exclusive && ht_bucket_find(htable, bucket, key, ksize, HT_LRU_NONE) != NULL) {
		rc = -DER_EXIST;
		goto out_unlock;
	}
	ht_rec_link(htable, bucket, link);
out_unlock:
	ht_bucket_unlock(htable, idx);
	return rc;
}

int
d_hash_rec_insert_anonym(struct d_hash_table *htable, d_list_t *link, void *arg)
{
	uint32_t idx;

	if (htable->ht_ops->hop_key_init == NULL) {
		D_ERROR("hash table %p has no hop_key_init: " DF_RC "\n", (void *)htable,
			DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}

	/* the bucket is unknown until the key exists, so hold them all */
	ht_lock_all(htable);
	htable->ht_ops->hop_key_init(htable, link, arg);
	idx = htable->ht_ops->hop_rec_hash != NULL ? ht_rec_hash(htable, link) : 0;
	ht_rec_link(htable, &htable->ht_buckets[idx], link);
	ht_unlock_all(htable);
	return 0;
}

/* Deletion and eviction */

bool
d_hash_rec_delete(struct d_hash_table *htable, const void *key, unsigned int ksize)
{
	d_list_t *link;
	uint32_t idx;
	bool zombie = false;

	D_ASSERT(key != NULL && ksize != 0);
	idx = ht_key_hash(htable, key, ksize);

	ht_bucket_lock(htable, idx, false);
	link = ht_bucket_find(htable, &htable->ht_buckets[idx], key, ksize, HT_LRU_NONE);
	if (link != NULL)
		zombie = ht_rec_unlink(htable, link);
	ht_bucket_unlock(htable, idx);

	if (zombie)
		ht_rec_free(htable, link);
	return link != NULL;
}

bool
d_hash_rec_delete_at(struct d_hash_table *htable, d_list_t *link)
{
	bool deleted = false;
	bool zombie = false;
	uint32_t idx;

	idx = ht_rec_hash(htable, link);
	ht_bucket_lock(htable, idx, false);
	if (!d_list_empty(link)) {
		zombie = ht_rec_unlink(htable, link);
		deleted = true;
	}
	ht_bucket_unlock(htable, idx);

	if (zombie)
		ht_rec_free(htable, link);
	return deleted;
}

bool
d_hash_rec_evict(struct d_hash_table *htable, const void *key, unsigned int ksize)
{
	d_list_t *link;
	uint32_t idx;

	if (!(htable->ht_feats & D_HASH_FT_LRU))
		return false;

	D_ASSERT(key != NULL && ksize != 0);
	idx = ht_key_hash(htable, key, ksize);

	ht_bucket_lock(htable, idx, false);
	link = ht_bucket_find(htable, &htable->ht_buckets[idx], key, ksize, HT_LRU_TAIL);
	ht_bucket_unlock(htable, idx);
	return link != NULL;
}

bool
d_hash_rec_evict_at(struct d_hash_table *htable, d_list_t *link)
{
	struct d_hash_bucket *bucket;
	bool evicted = false;
	uint32_t idx;

	if (!(htable->ht_feats & D_HASH_FT_LRU))
		return false;

	idx = ht_rec_hash(htable, link);
	ht_bucket_lock(htable, idx, false);
	if (!d_list_empty(link)) {
		bucket = ht_link_bucket(htable, link);
		D_ASSERT(bucket != NULL);
		if (link != bucket->hb_head.prev) {
			d_list_move_tail(link, &bucket->hb_head);
			evicted = true;
		}
	}
	ht_bucket_unlock(htable, idx);
	return evicted;
}

/* Reference counting */

void
d_hash_rec_addref(struct d_hash_table *htable, d_list_t *link)
{
	uint32_t idx = ht_rec_hash(htable, link);

	ht_bucket_lock(htable, idx, true);
	ht_rec_addref(htable, link);
	ht_bucket_unlock(htable, idx);
}

/*
 * After the last reference of @link went (@zombie): an EPHEMERAL table unlinks the record;
 * any other table must no longer list it (invariant 4). Bucket lock held in write mode for
 * EPHEMERAL tables.
 */
static void
ht_zombie_unlink(struct d_hash_table *htable, d_list_t *link, bool zombie)
{
	if (zombie && ht_ephemeral(htable) && !d_list_empty(link))
		d_list_del_init(link);
	D_ASSERTF(!zombie || d_list_empty(link),
		  "last reference of %p dropped while hash table %p still holds it\n", (void *)link,
		  (void *)htable);
}

void
d_hash_rec_decref(struct d_hash_table *htable, d_list_t *link)
{
	bool ephemeral = ht_ephemeral(htable);
	uint32_t idx = ht_rec_hash(htable, link);
	bool zombie;

	ht_bucket_lock(htable, idx, !ephemeral);
	zombie = ht_rec_decref(htable, link);
	ht_zombie_unlink(htable, link, zombie);
	ht_bucket_unlock(htable, idx);

	if (zombie)
		ht_rec_free(htable, link);
}

int
d_hash_rec_ndecref(struct d_hash_table *htable, int count, d_list_t *link)
{
	bool ephemeral = ht_ephemeral(htable);
	bool zombie = false;
	uint32_t idx;
	int rc = 0;

	if (count <= 0) {
		D_ERROR("bad reference count %d: " DF_RC "\n", count, DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}

	idx = ht_rec_hash(htable, link);
	ht_bucket_lock(htable, idx, !ephemeral);
	if (htable->ht_ops->hop_rec_ndecref != NULL) {
		rc = htable->ht_ops->hop_rec_ndecref(htable, link, count);
		if (rc > 0) {
			zombie = true;
			rc = 0;
		}
	} else {
		while (count > 0 && !zombie) {
			zombie = ht_rec_decref(htable, link);
			count--;
		}
		/* ran out of references early: report it, but the record is still dead */
		if (count != 0)
			rc = -DER_INVAL;
	}
	ht_zombie_unlink(htable, link, zombie);
	ht_bucket_unlock(htable, idx);

	if (zombie)
		ht_rec_free(htable, link);
	if (rc != 0)
		D_ERROR("dropping references of %p: " DF_RC "\n", (void *)link, DP_RC(rc));
	return rc;
}

/* Traversal */

int
d_hash_table_traverse(struct d_hash_table *htable, d_hash_traverse_cb_t cb, void *arg)
{
	uint32_t nr;
	uint32_t idx;
	d_list_t *link;
	int rc = 0;

	if (htable->ht_buckets == NULL) {
		D_ERROR("hash table %p not initialised: " DF_RC "\n", (void *)htable,
			DP_RC(-DER_UNINIT));
		return -DER_UNINIT;
	}
	if (cb == NULL) {
		D_ERROR("hash table %p traverse without callback: " DF_RC "\n", (void *)htable,
			DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}

	nr = 1U << htable->ht_bits;
	for (idx = 0; idx < nr && rc == 0; idx++) {
		ht_bucket_lock(htable, idx, true);
		d_list_for_each (link, &htable->ht_buckets[idx].hb_head) {
			rc = cb(link, arg);
			if (rc != 0)
				break;
		}
		ht_bucket_unlock(htable, idx);
	}
	return rc;
}

bool
d_hash_table_is_empty(struct d_hash_table *htable)
{
	bool empty = true;
	uint32_t nr;
	uint32_t idx;

	if (htable->ht_buckets == NULL)
		return true;

	nr = 1U << htable->ht_bits;
	for (idx = 0; idx < nr && empty; idx++) {
		ht_bucket_lock(htable, idx, true);
		empty = d_list_empty(&htable->ht_buckets[idx].hb_head);
		ht_bucket_unlock(htable, idx);
	}
	return empty;
}

static int
ht_first_cb(d_list_t *link, void *arg)
{
	*(d_list_t **)arg = link;
	return 1;
}

d_list_t *
d_hash_rec_first(struct d_hash_table *htable)
{
	d_list_t *link = NULL;

	if (d_hash_table_traverse(htable, ht_first_cb, &link) < 0)
		return NULL;
	return link;
}

/* Creation and destruction */

int
d_hash_table_create_inplace(uint32_t feats, uint32_t bits, void *priv, d_hash_table_ops_t *hops,
			    struct d_hash_table *htable)
{
	uint32_t nr;
	uint32_t i;
	int rc;

	memset(htable, 0, sizeof(*htable));
	if (hops == NULL || hops->hop_key_cmp == NULL || bits > 31) {
		D_ERROR("hash table: %s: " DF_RC "\n",
			bits > 31 ? "too many bucket bits" : "no hop_key_cmp", DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}

	/* per-bucket locks need the bucket of a bare link, i.e. hop_rec_hash */
	if (hops->hop_rec_hash == NULL && !(feats & D_HASH_FT_NOLOCK))
		feats |= D_HASH_FT_GLOCK;

	nr = 1U << bits;
	htable->ht_feats = feats;
	htable->ht_bits = bits;
	htable->ht_ops = hops;
	htable->ht_priv = priv;

	D_ALLOC_ARRAY(htable->ht_buckets, nr);
	if (htable->ht_buckets == NULL)
		return -DER_NOMEM;
	for (i = 0; i < nr; i++)
		D_INIT_LIST_HEAD(&htable->ht_buckets[i].hb_head);

	if (feats & D_HASH_FT_NOLOCK)
		return 0;

	if (feats & D_HASH_FT_GLOCK) {
		rc = ht_lock_init(feats, &htable->ht_lock);
		if (rc != 0)
			goto out_buckets;
		return 0;
	}

	D_ALLOC_ARRAY(htable->ht_locks, nr);
	if (htable->ht_locks == NULL) {
		rc = -DER_NOMEM;
		goto out_buckets;
	}
	for (i = 0; i < nr; i++) {
		rc = ht_lock_init(feats, &htable->ht_locks[i]);
		if (rc != 0)
			goto out_locks;
	}
	return 0;

out_locks:
	while (i > 0)
		ht_lock_fini(feats, &htable->ht_locks[--i]);
	D_FREE(htable->ht_locks);
out_buckets:
	D_FREE(htable->ht_buckets);
	D_ERROR("hash table %p not created: " DF_RC "\n", (void *)htable, DP_RC(rc));
	return rc;
}

int
d_hash_table_create(uint32_t feats, uint32_t bits, void *priv, d_hash_table_ops_t *hops,
		    struct d_hash_table **htable_pp)
{
	struct d_hash_table *htable;
	int rc;

	D_ALLOC_PTR(htable);
	if (htable == NULL) {
		*htable_pp = NULL;
		return -DER_NOMEM;
	}

	rc = d_hash_table_create_inplace(feats, bits, priv, hops, htable);
	if (rc != 0)
		D_FREE(htable);
	*htable_pp = htable;
	return rc;
}

int
d_hash_table_destroy_inplace(struct d_hash_table *htable, bool force)
{
	struct d_hash_bucket *bucket;
	uint32_t nr;
	uint32_t i;

	if (htable->ht_buckets == NULL)
		return 0;

	nr = 1U << htable->ht_bits;
	for (i = 0; i < nr; i++) {
		bucket = &htable->ht_buckets[i];
		if (!force && !d_list_empty(&bucket->hb_head)) {
			D_DEBUG("hash table %p not empty: " DF_RC "\n", (void *)htable,
				DP_RC(-DER_BUSY));
			return -DER_BUSY;
		}
	}
	for (i = 0; i < nr; i++) {
		bucket = &htable->ht_buckets[i];
		while (!d_list_empty(&bucket->hb_head))
			d_hash_rec_delete_at(htable, bucket->hb_head.next);
	}

	if (htable->ht_feats & D_HASH_FT_NOLOCK) {
		/* no lock */
	} else if (htable->ht_feats & D_HASH_FT_GLOCK) {
		ht_lock_fini(htable->ht_feats, &htable->ht_lock);
	} else {
		for (i = 0; i < nr; i++)
			ht_lock_fini(htable->ht_feats, &htable->ht_locks[i]);
		D_FREE(htable->ht_locks);
	}
	D_FREE(htable->ht_buckets);
	memset(htable, 0, sizeof(*htable));
	return 0;
}

int
d_hash_table_destroy(struct d_hash_table *htable, bool force)
{
	int rc;

	if (htable == NULL)
		return 0;
	rc = d_hash_table_destroy_inplace(htable, force);
	if (rc == 0)
		D_FREE(htable);
	return rc;
}

void
d_hash_table_debug(struct d_hash_table *htable)
{
	uint32_t nr;
	uint32_t idx;
	uint32_t depth;
	uint32_t max_depth = 0;
	uint32_t used = 0;
	uint64_t total = 0;
	d_list_t *link;

	if (!d_log_enabled(D_LOGFAC_PTR(D_LOGFAC), D_LOG_DEBUG) || htable->ht_buckets == NULL)
		return;

	nr = 1U << htable->ht_bits;
	for (idx = 0; idx < nr; idx++) {
		depth = 0;
		ht_bucket_lock(htable, idx, true);
		d_list_for_each (link, &htable->ht_buckets[idx].hb_head)
			depth++;
		ht_bucket_unlock(htable, idx);
		total += depth;
		used += depth != 0;
		if (depth > max_depth)
			max_depth = depth;
	}
	D_DEBUG("hash table %p: %" PRIu64 " records, %u/%u buckets used, max depth %u\n",
		(void *)htable, total, used, nr, max_depth);
}

/*
 * Reference-counted links shared by the handle and UUID hashes. Counts are atomic so that
 * lookups under a read lock (D_HASH_FT_RWLOCK) may race with each other safely.
 */

static inline struct d_rlink *
link2rlink(d_list_t *link)
{
	return container_of(link, struct d_rlink, rl_link);
}

static void
rl_init(struct d_rlink *rlink)
{
	D_INIT_LIST_HEAD(&rlink->rl_link);
	rlink->rl_initialized = 1;
	__atomic_store_n(&rlink->rl_ref, 1, __ATOMIC_RELAXED); /* the caller's */
}

static void
rl_addref(struct d_rlink *rlink)
{
	__atomic_fetch_add(&rlink->rl_ref, 1, __ATOMIC_RELAXED);
}

static bool
rl_decref(struct d_rlink *rlink)
{
	uint32_t old = __atomic_fetch_sub(&rlink->rl_ref, 1, __ATOMIC_ACQ_REL);

	D_ASSERTF(old > 0, "reference count underflow on %p\n", (void *)rlink);
	return old == 1;
}

static bool
rl_empty(struct d_rlink *rlink)
{
	bool unlinked;

	if (!rlink->rl_initialized)
		return true;
	unlinked = d_hash_rec_unlinked(&rlink->rl_link);
	D_ASSERT(unlinked || __atomic_load_n(&rlink->rl_ref, __ATOMIC_RELAXED) != 0);
	return unlinked;
}

/* Handle hash */

struct d_hhash {
	uint64_t ch_cookie; /* next key sequence; atomic */
	struct d_hash_table ch_htable;
	bool ch_ptrtype; /* keys are d_hlink addresses; nothing is listed */
};

static inline struct d_hlink *
link2hlink(d_list_t *link)
{
	return container_of(link2rlink(link), struct d_hlink, hl_link);
}

static inline uint64_t
hh_key_load(const void *key, unsigned int ksize)
{
	uint64_t k;

	D_ASSERT(ksize == sizeof(k));
	memcpy(&k, key, sizeof(k));
	return k;
}

static void
hh_op_key_init(struct d_hash_table *htable, d_list_t *link, void *arg)
{
	struct d_hhash *hhash = container_of(htable, struct d_hhash, ch_htable);
	int type = *(int *)arg;

	link2hlink(link)->hl_key =
	    (__atomic_fetch_add(&hhash->ch_cookie, 1, __ATOMIC_RELAXED) << D_HTYPE_BITS) |
	    (type & D_HTYPE_MASK);
}

static uint32_t
hh_op_key_hash(struct d_hash_table *htable, const void *key, unsigned int ksize)
{
	(void)htable;
	return (uint32_t)(hh_key_load(key, ksize) >> D_HTYPE_BITS);
}

static bool
hh_op_key_cmp(struct d_hash_table *htable, d_list_t *link, const void *key, unsigned int ksize)
{
	(void)htable;
	return link2hlink(link)->hl_key == hh_key_load(key, ksize);
}

static uint32_t
hh_op_rec_hash(struct d_hash_table *htable, d_list_t *link)
{
	(void)htable;
	return (uint32_t)(link2hlink(link)->hl_key >> D_HTYPE_BITS);
}

/* Handle and uuid records both embed a d_rlink: one pair of ref ops serves both tables. */
static void
rlink_op_rec_addref(struct d_hash_table *htable, d_list_t *link)
{
	(void)htable;
	rl_addref(link2rlink(link));
}

static bool
rlink_op_rec_decref(struct d_hash_table *htable, d_list_t *link)
{
	(void)htable;
	return rl_decref(link2rlink(link));
}

static void
hh_op_rec_free(struct d_hash_table *htable, d_list_t *link)
{
	struct d_hlink *hlink = link2hlink(link);

	(void)htable;
	if (hlink->hl_ops != NULL && hlink->hl_ops->hop_free != NULL)
		hlink->hl_ops->hop_free(hlink);
}

static d_hash_table_ops_t hh_ops = {
    .hop_key_cmp = hh_op_key_cmp,
    .hop_key_init = hh_op_key_init,
    .hop_key_hash = hh_op_key_hash,
    .hop_rec_hash = hh_op_rec_hash,
    .hop_rec_addref = rlink_op_rec_addref,
    .hop_rec_decref = rlink_op_rec_decref,
    .hop_rec_free = hh_op_rec_free,
};

int
d_hhash_create(uint32_t feats, uint32_t bits, struct d_hhash **hhash_pp)
{
	struct d_hhash *hhash;
	int rc;

	D_ALLOC_PTR(hhash);
	if (hhash == NULL) {
		*hhash_pp = NULL;
		return -DER_NOMEM;
	}

	rc = d_hash_table_create_inplace(feats, bits, NULL, &hh_ops, &hhash->ch_htable);
	if (rc != 0) {
		D_FREE(hhash);
		*hhash_pp = NULL;
		return rc;
	}
	hhash->ch_cookie = 1;
	hhash->ch_ptrtype = false;
	*hhash_pp = hhash;
	return 0;
}

void
d_hhash_destroy(struct d_hhash *hhash)
{
	if (hhash == NULL)
		return;
	d_hash_table_debug(&hhash->ch_htable);
	d_hash_table_destroy_inplace(&hhash->ch_htable, true);
	D_FREE(hhash);
}

int
d_hhash_set_ptrtype(struct d_hhash *hhash)
{
	if (!hhash->ch_ptrtype && !d_hash_table_is_empty(&hhash->ch_htable)) {
		D_ERROR("handle hash %p holds non-pointer handles: " DF_RC "\n", (void *)hhash,
			DP_RC(-DER_ALREADY));
		return -DER_ALREADY;
	}
	hhash->ch_ptrtype = true;
	return 0;
}

bool
d_hhash_is_ptrtype(struct d_hhash *hhash)
{
	return hhash->ch_ptrtype;
}

void
d_hhash_hlink_init(struct d_hlink *hlink, struct d_hlink_ops *hl_ops)
{
	hlink->hl_ops = hl_ops;
	hlink->hl_key = 0;
	rl_init(&hlink->hl_link);
}

bool
d_hhash_key_isptr(uint64_t key)
{
	return (key & 0x1) == 0;
}

void
d_hhash_link_insert(struct d_hhash *hhash, struct d_hlink *hlink, int type)
{
	D_ASSERT(hlink->hl_link.rl_initialized);
	D_ASSERTF(type >= 0 && type < (1 << D_HTYPE_BITS), "handle type %d does not fit\n", type);

	if (d_hhash_is_ptrtype(hhash)) {
		uint64_t key = (uint64_t)(uintptr_t)hlink;

		D_ASSERTF(type == D_HTYPE_PTR, "pointer handle hash given type %d\n", type);
		D_ASSERTF(d_hhash_key_isptr(key), "hlink %p is not a valid pointer key\n",
			  (void *)hlink);
		rlink_op_rec_addref(&hhash->ch_htable, &hlink->hl_link.rl_link);
		hlink->hl_key = key;
		return;
	}

	D_ASSERTF(type != D_HTYPE_PTR, "pointer handle in a non-pointer handle hash\n");
	/*
	 * The key is drawn first (an atomic sequence), so only its own bucket is locked:
	 * d_hash_rec_insert_anonym would hold every bucket (2^bits mutexes) per insert, which
	 * cost a client ~1 ms per object or array open.
	 */
	hlink->hl_key =
	    (__atomic_fetch_add(&hhash->ch_cookie, 1, __ATOMIC_RELAXED) << D_HTYPE_BITS) |
	    (type & D_HTYPE_MASK);
	d_hash_rec_insert(&hhash->ch_htable, &hlink->hl_key, sizeof(hlink->hl_key),
			  &hlink->hl_link.rl_link, false);
}

struct d_hlink *
d_hhash_link_lookup(struct d_hhash *hhash, uint64_t key)
{
	struct d_hlink *hlink;
	d_list_t *link;

	if (!d_hhash_key_isptr(key)) {
		link = d_hash_rec_find(&hhash->ch_htable, &key, sizeof(key));
		return link != NULL ? link2hlink(link) : NULL;
	}

	if (!d_hhash_is_ptrtype(hhash)) {
		D_DEBUG("pointer key %#" PRIx64 " looked up in non-pointer handle hash %p\n", key,
			(void *)hhash);
		return NULL;
	}
	if (key == 0)
		return NULL;
	hlink = (struct d_hlink *)(uintptr_t)key;
	if (hlink->hl_key != key) {
		D_DEBUG("invalid pointer key %#" PRIx64 "\n", key);
		return NULL;
	}
	d_hash_rec_addref(&hhash->ch_htable, &hlink->hl_link.rl_link);
	return hlink;
}

bool
d_hhash_link_delete(struct d_hhash *hhash, struct d_hlink *hlink)
{
	if (!d_hhash_key_isptr(hlink->hl_key))
		return d_hash_rec_delete_at(&hhash->ch_htable, &hlink->hl_link.rl_link);

	if (!d_hhash_is_ptrtype(hhash)) {
		D_DEBUG("pointer handle %p deleted from non-pointer handle hash %p\n",
			(void *)hlink, (void *)hhash);
		return false;
	}
	d_hhash_link_putref(hhash, hlink);
	return true;
}

void
d_hhash_link_getref(struct d_hhash *hhash, struct d_hlink *hlink)
{
	d_hash_rec_addref(&hhash->ch_htable, &hlink->hl_link.rl_link);
}

void
d_hhash_link_putref(struct d_hhash *hhash, struct d_hlink *hlink)
{
	d_hash_rec_decref(&hhash->ch_htable, &hlink->hl_link.rl_link);
}

bool
d_hhash_link_empty(struct d_hlink *hlink)
{
	return rl_empty(&hlink->hl_link);
}

void
d_hhash_link_key(struct d_hlink *hlink, uint64_t *key)
{
	*key = hlink->hl_key;
}

int
d_hhash_key_type(uint64_t key)
{
	return d_hhash_key_isptr(key) ? D_HTYPE_PTR : (int)(key & D_HTYPE_MASK);
}

/* UUID hash. Keys handed to the table are a struct uh_key, not the bare UUID. */

struct uh_key {
	struct d_uuid *uk_uuid;
	void *uk_cmp_args; /* for uop_cmp */
};

static inline struct d_ulink *
link2ulink(d_list_t *link)
{
	return container_of(link2rlink(link), struct d_ulink, ul_link);
}

static inline uint32_t
uh_uuid_hash(const struct d_uuid *uuid)
{
	uint32_t h;

	/* DAOS hashes a UUID to its first four bytes read as a host-order uint32_t */
	memcpy(&h, uuid->uuid, sizeof(h));
	return h;
}

static uint32_t
uh_op_key_hash(struct d_hash_table *htable, const void *key, unsigned int ksize)
{
	const struct uh_key *uk = key;

	(void)htable;
	D_ASSERT(ksize == sizeof(*uk));
	return uh_uuid_hash(uk->uk_uuid);
}

static uint32_t
uh_op_rec_hash(struct d_hash_table *htable, d_list_t *link)
{
	(void)htable;
	return uh_uuid_hash(&link2ulink(link)->ul_uuid);
}

static bool
uh_op_key_cmp(struct d_hash_table *htable, d_list_t *link, const void *key, unsigned int ksize)
{
	struct d_ulink *ulink = link2ulink(link);
	const struct uh_key *uk = key;

	(void)htable;
	D_ASSERT(ksize == sizeof(*uk));
	if (uuid_compare(ulink->ul_uuid.uuid, uk->uk_uuid->uuid) != 0)
		return false;
	if (ulink->ul_ops != NULL && ulink->ul_ops->uop_cmp != NULL)
		return ulink->ul_ops->uop_cmp(ulink, uk->uk_cmp_args);
	return true;
}

static void
uh_op_rec_free(struct d_hash_table *htable, d_list_t *link)
{
	struct d_ulink *ulink = link2ulink(link);

	(void)htable;
	if (ulink->ul_ops != NULL && ulink->ul_ops->uop_free != NULL)
		ulink->ul_ops->uop_free(ulink);
}

static d_hash_table_ops_t uh_ops = {
    .hop_key_cmp = uh_op_key_cmp,
    .hop_key_hash = uh_op_key_hash,
    .hop_rec_hash = uh_op_rec_hash,
    .hop_rec_addref = rlink_op_rec_addref,
    .hop_rec_decref = rlink_op_rec_decref,
    .hop_rec_free = uh_op_rec_free,
};

int
d_uhash_create(uint32_t feats, uint32_t bits, struct d_hash_table **htable_pp)
{
	return d_hash_table_create(feats, bits, NULL, &uh_ops, htable_pp);
}

void
d_uhash_destroy(struct d_hash_table *htable)
{
	if (htable == NULL)
		return;
	d_hash_table_debug(htable);
	d_hash_table_destroy(htable, true);
}

void
d_uhash_ulink_init(struct d_ulink *ulink, struct d_ulink_ops *ul_ops)
{
	ulink->ul_ops = ul_ops;
	rl_init(&ulink->ul_link);
}

bool
d_uhash_link_empty(struct d_ulink *ulink)
{
	return rl_empty(&ulink->ul_link);
}

bool
d_uhash_link_last_ref(struct d_ulink *ulink)
{
	return __atomic_load_n(&ulink->ul_link.rl_ref, __ATOMIC_ACQUIRE) == 1;
}

void
d_uhash_link_addref(struct d_hash_table *htable, struct d_ulink *ulink)
{
	d_hash_rec_addref(htable, &ulink->ul_link.rl_link);
}

void
d_uhash_link_putref(struct d_hash_table *htable, struct d_ulink *ulink)
{
	d_hash_rec_decref(htable, &ulink->ul_link.rl_link);
}

void
d_uhash_link_delete(struct d_hash_table *htable, struct d_ulink *ulink)
{
	d_hash_rec_delete_at(htable, &ulink->ul_link.rl_link);
}

int
d_uhash_link_insert(struct d_hash_table *htable, struct d_uuid *key, void *cmp_args,
		    struct d_ulink *ulink)
{
	struct uh_key uk = {.uk_uuid = key, .uk_cmp_args = cmp_args};
	int rc;

	D_ASSERT(ulink->ul_link.rl_initialized);
	uuid_copy(ulink->ul_uuid.uuid, key->uuid);
	rc = d_hash_rec_insert(htable, &uk, sizeof(uk), &ulink->ul_link.rl_link, true);
	if (rc != 0)
		D_DEBUG("UUID link %p not inserted: " DF_RC "\n", (void *)ulink, DP_RC(rc));
	return rc;
}

struct d_ulink *
d_uhash_link_lookup(struct d_hash_table *htable, struct d_uuid *key, void *cmp_args)
{
	struct uh_key uk = {.uk_uuid = key, .uk_cmp_args = cmp_args};
	d_list_t *link;

	link = d_hash_rec_find(htable, &uk, sizeof(uk));
	return link != NULL ? link2ulink(link) : NULL;
}
