/*
 * ilog.c: the incarnation log of VOS objects, dkeys and akeys (see ilog.h for the contract),
 * built on the umem heap and its transactions.
 *
 * Layout. The 16-byte root takes one of three forms, told apart by its two minor epochs:
 *
 *	EMPTY   all zero
 *	INLINE  the only entry itself (struct ilog_entry_df): at least one minor is non-zero
 *	ARRAY   { offset of a struct ilog_array_df, 0, 0, 0 }: both minors zero, offset not
 *
 * The array is a 16-byte header and the entries sorted by epoch; it is allocated in sizes of
 * 64 << k bytes (3, 7, 15, ... entries), doubled when full and reallocated tightly when
 * aggregation leaves it three quarters empty.
 *
 *	EMPTY --update--> INLINE --update at a new epoch--> ARRAY (cap 3) --full--> ARRAY (2x)
 *	  ^                 ^  |                              |
 *	  +---aggregate-----+--+------aggregate (0 / 1 left)--+      destroy: any --> EMPTY
 *
 * Invariants:
 * 1. Entries have strictly increasing, non-zero epochs: one entry per major epoch.
 * 2. Every entry records at least one event, and its two minors differ unless one is zero,
 *    so its net effect is defined: a punch iff le_punch_minor > le_update_minor.
 * 3. The root is INLINE iff the log has one entry; an array holds at least two entries and
 *    at most ia_cap, and 16 + 16 * ia_cap bytes fit in its allocation.
 * 4. ia_punch is the index of the newest entry with a punch minor, or ILOG_NONE. It makes a
 *    query at or after the newest punch O(log n) however many creates follow the punch.
 * 5. Minors only grow (an update takes the maximum per kind), so updates commute.
 * 6. Nothing changes outside a umem transaction, and every byte is added to it before it is
 *    written; every check that can fail runs before the first change.
 * 7. Aggregation up to B keeps, for each retained reader r (B itself standing for every
 *    epoch after B, and each snapshot <= B), the entries that make r's answer: the newest
 *    punch <= r, and if the key is visible at r the newest create <= r and the create that
 *    began its incarnation. Any superset of those entries gives r the same answer.
 * 8. Bytes read from the heap are validated before use (root form, array header against
 *    its allocation); a bad log yields -DER_DF_INVAL, never an assertion.
 */
#define D_LOGFAC vos

#include <string.h>

#include <gurt/common.h>
#include <daos_srv/umem.h>

#include "vos_internal.h"
#include "ilog.h"

#define ILOG_ARRAY_MAGIC 0x474f4c49U /* "ILOG" */
#define ILOG_NONE UINT32_MAX
/* The smallest array: header and three entries in 64 bytes. */
#define ILOG_ARRAY_MIN_CAP 3
/* Beyond this an array of one key's history is surely a bug (256 MiB). */
#define ILOG_ARRAY_MAX_CAP ((1U << 24) - 1)

/* The out-of-line form of a log of two or more entries. */
struct ilog_array_df {
	uint32_t ia_magic;
	uint32_t ia_len;   /* entries in use */
	uint32_t ia_cap;   /* entries that fit */
	uint32_t ia_punch; /* index of the newest entry with a punch, or ILOG_NONE */
	struct ilog_entry_df ia_ents[];
};
D_CASSERT(sizeof(struct ilog_array_df) == 16);

/* A validated, volatile view of a log: where its entries are. */
struct ilog_view {
	struct ilog_entry_df *lv_root;
	struct ilog_array_df *lv_array; /* NULL unless ARRAY */
	struct ilog_entry_df *lv_ents;
	uint32_t lv_nr;
	uint32_t lv_punch; /* index of the newest entry with a punch, or ILOG_NONE */
};

/* Where a reader at one epoch finds its answer (indices into the view, or ILOG_NONE). */
struct ilog_scan {
	uint32_t sc_punch; /* newest entry with a punch */
	uint32_t sc_last;  /* newest entry with a create */
	uint32_t sc_first; /* if visible: the entry whose create began the incarnation */
	bool sc_visible;
};

static inline struct ilog_entry_df *
ilog_root_ent(const struct ilog_df *root)
{
	return (struct ilog_entry_df *)&root->ld_root;
}

static inline bool
ilog_ent_has_punch(const struct ilog_entry_df *ent)
{
	return ent->le_punch_minor != 0;
}

static inline bool
ilog_ent_has_create(const struct ilog_entry_df *ent)
{
	return ent->le_update_minor != 0;
}

static inline size_t
ilog_array_size(uint32_t cap)
{
	return sizeof(struct ilog_array_df) + (size_t)cap * sizeof(struct ilog_entry_df);
}

/* The capacity of the smallest array of 64 << k bytes that holds @nr entries. */
static uint32_t
ilog_cap_for(uint32_t nr)
{
	uint32_t cap = ILOG_ARRAY_MIN_CAP;

	while (cap < nr)
		cap = cap * 2 + 1;
	return cap;
}

static int
ilog_view_load(struct umem_instance *umm, const struct ilog_df *root, struct ilog_view *v)
{
	struct ilog_entry_df *re = ilog_root_ent(root);
	struct ilog_array_df *arr;
	size_t size;

	memset(v, 0, sizeof(*v));
	v->lv_root = re;
	v->lv_punch = ILOG_NONE;
	if (re->le_punch_minor != 0 || re->le_update_minor != 0) {
		if (re->le_epoch == 0)
			goto bad_root;
		v->lv_ents = re;
		v->lv_nr = 1;
		if (ilog_ent_has_punch(re))
			v->lv_punch = 0;
		return 0;
	}
	if (re->le_tx != 0)
		goto bad_root;
	if (re->le_epoch == 0)
		return 0; /* empty */

	size = umem_alloc_size(umm, re->le_epoch);
	if (size < sizeof(*arr)) {
		D_ERROR("ilog %p: array offset %#" PRIx64 " is not an allocation\n", root,
			re->le_epoch);
		return -DER_DF_INVAL;
	}
	arr = umem_off2ptr(umm, re->le_epoch);
	if (arr->ia_magic != ILOG_ARRAY_MAGIC || arr->ia_len < 2 || arr->ia_len > arr->ia_cap ||
	    arr->ia_cap > ILOG_ARRAY_MAX_CAP || ilog_array_size(arr->ia_cap) > size ||
	    (arr->ia_punch != ILOG_NONE &&
	     (arr->ia_punch >= arr->ia_len || !ilog_ent_has_punch(&arr->ia_ents[arr->ia_punch])))) {
		D_ERROR("ilog %p: bad array header magic=%#x len=%u cap=%u punch=%u size=%zu\n",
			root, arr->ia_magic, arr->ia_len, arr->ia_cap, arr->ia_punch, size);
		return -DER_DF_INVAL;
	}
	v->lv_array = arr;
	v->lv_ents = arr->ia_ents;
	v->lv_nr = arr->ia_len;
	v->lv_punch = arr->ia_punch;
	return 0;

bad_root:
	D_ERROR("ilog %p: bad root epoch=%#" PRIx64 " tx=%u minors=%u/%u\n", root, re->le_epoch,
		re->le_tx, re->le_punch_minor, re->le_update_minor);
	return -DER_DF_INVAL;
}

/* Number of entries with an epoch <= @epoch (the index of the first one after it). */
static uint32_t
ilog_count_le(const struct ilog_view *v, uint64_t epoch)
{
	uint32_t lo = 0, hi = v->lv_nr;

	/* writers and readers at the newest epoch: the whole log, without a search */
	if (hi == 0 || v->lv_ents[hi - 1].le_epoch <= epoch)
		return hi;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (v->lv_ents[mid].le_epoch <= epoch)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Find a reader's answer. The key is visible iff the newest entry at or before @epoch is a
 * create; then that entry holds the newest create, and the incarnation began at the punch
 * entry itself (if it re-creates after punching) or at the entry right after it.
 */
static void
ilog_view_scan(const struct ilog_view *v, uint64_t epoch, struct ilog_scan *sc)
{
	uint32_t k = ilog_count_le(v, epoch), i;

	sc->sc_punch = ILOG_NONE;
	sc->sc_last = ILOG_NONE;
	sc->sc_first = ILOG_NONE;
	sc->sc_visible = false;

	if (v->lv_punch != ILOG_NONE && v->lv_punch < k) {
		sc->sc_punch = v->lv_punch;
	} else if (v->lv_punch != ILOG_NONE) {
		/* a reader before the newest punch: walk back to the punch before it */
		for (i = k; i-- > 0;) {
			if (ilog_ent_has_punch(&v->lv_ents[i])) {
				sc->sc_punch = i;
				break;
			}
		}
	}
	if (k == 0 || ilog_entry_is_punch(&v->lv_ents[k - 1]))
		return;
	sc->sc_visible = true;
	sc->sc_last = k - 1;
	if (sc->sc_punch == ILOG_NONE)
		sc->sc_first = 0; /* no punch at all: every entry is a create */
	else if (!ilog_entry_is_punch(&v->lv_ents[sc->sc_punch]))
		sc->sc_first = sc->sc_punch;
	else
		sc->sc_first = sc->sc_punch + 1; /* no punch, so a create */
}

int
ilog_query(struct umem_instance *umm, const struct ilog_df *root, uint64_t epoch,
	   struct ilog_info *info)
{
	struct ilog_view v;
	struct ilog_scan sc;
	int rc;

	D_ASSERT(umm != NULL && root != NULL && info != NULL);
	memset(info, 0, sizeof(*info));
	rc = ilog_view_load(umm, root, &v);
	if (rc != 0)
		return rc;
	ilog_view_scan(&v, epoch, &sc);
	if (sc.sc_punch != ILOG_NONE) {
		info->ii_punch.ec_epoch = v.lv_ents[sc.sc_punch].le_epoch;
		info->ii_punch.ec_minor = v.lv_ents[sc.sc_punch].le_punch_minor;
	}
	if (sc.sc_visible) {
		info->ii_visible = true;
		info->ii_create = v.lv_ents[sc.sc_first].le_epoch;
		info->ii_last_create = v.lv_ents[sc.sc_last].le_epoch;
	}
	return 0;
}

int
ilog_fetch(struct umem_instance *umm, const struct ilog_df *root, uint64_t lo, uint64_t hi,
	   struct ilog_entries *ents)
{
	struct ilog_view v;
	uint32_t first, end;
	int rc;

	D_ASSERT(umm != NULL && root != NULL && ents != NULL);
	ents->ie_ents = NULL;
	ents->ie_nr = 0;
	rc = ilog_view_load(umm, root, &v);
	if (rc != 0)
		return rc;
	if (lo > hi)
		return 0;
	first = lo == 0 ? 0 : ilog_count_le(&v, lo - 1);
	end = ilog_count_le(&v, hi);
	if (first < end) {
		ents->ie_ents = &v.lv_ents[first];
		ents->ie_nr = end - first;
	}
	return 0;
}

int
ilog_earliest_create(struct umem_instance *umm, const struct ilog_df *root, struct ilog_epc *epc)
{
	struct ilog_view v;
	uint32_t i;
	int rc;

	D_ASSERT(umm != NULL && root != NULL && epc != NULL);
	rc = ilog_view_load(umm, root, &v);
	if (rc != 0)
		return rc;
	for (i = 0; i < v.lv_nr; i++) {
		if (ilog_ent_has_create(&v.lv_ents[i])) {
			epc->ec_epoch = v.lv_ents[i].le_epoch;
			epc->ec_minor = v.lv_ents[i].le_update_minor;
			return 0;
		}
	}
	return -DER_NONEXIST;
}

bool
ilog_is_empty(const struct ilog_df *root)
{
	const struct ilog_entry_df *re = &root->ld_root;

	return re->le_epoch == 0 && re->le_tx == 0 && re->le_punch_minor == 0 &&
	       re->le_update_minor == 0;
}

bool
ilog_is_punched(struct umem_instance *umm, const struct ilog_df *root)
{
	struct ilog_view v;

	if (ilog_view_load(umm, root, &v) != 0 || v.lv_nr == 0)
		return false;
	return ilog_entry_is_punch(&v.lv_ents[v.lv_nr - 1]);
}

int
ilog_check(struct umem_instance *umm, const struct ilog_df *root)
{
	struct ilog_view v;
	uint32_t i, punch = ILOG_NONE;
	int rc;

	rc = ilog_view_load(umm, root, &v);
	if (rc != 0)
		return rc;
	for (i = 0; i < v.lv_nr; i++) {
		const struct ilog_entry_df *e = &v.lv_ents[i];

		if (e->le_epoch == 0 || (i > 0 && e->le_epoch <= v.lv_ents[i - 1].le_epoch) ||
		    e->le_punch_minor == e->le_update_minor) {
			D_ERROR("ilog %p: bad entry %u: epoch=%#" PRIx64 " minors=%u/%u\n", root, i,
				e->le_epoch, e->le_punch_minor, e->le_update_minor);
			return -DER_DF_INVAL;
		}
		if (ilog_ent_has_punch(e))
			punch = i;
	}
	if (punch != v.lv_punch) {
		D_ERROR("ilog %p: newest punch at %u, recorded %u\n", root, punch, v.lv_punch);
		return -DER_DF_INVAL;
	}
	return 0;
}

/* Write the root in a transaction. */
static int
ilog_root_set(struct umem_instance *umm, struct ilog_entry_df *re, const struct ilog_entry_df *val)
{
	int rc;

	rc = umem_tx_add_ptr(umm, re, sizeof(*re));
	if (rc != 0)
		return rc;
	*re = *val;
	return 0;
}

/* Allocate an array of capacity @cap in the transaction; NULL if the heap refuses. */
static struct ilog_array_df *
ilog_array_alloc(struct umem_instance *umm, uint32_t cap)
{
	struct ilog_array_df *arr;
	umem_off_t off;

	off = umem_zalloc(umm, ilog_array_size(cap));
	if (off == UMOFF_NULL)
		return NULL;
	arr = umem_off2ptr(umm, off);
	arr->ia_magic = ILOG_ARRAY_MAGIC;
	arr->ia_cap = cap;
	return arr;
}

/* Set ia_punch from the entries (the header is in the transaction). */
static void
ilog_array_punch_reset(struct ilog_array_df *arr)
{
	uint32_t i;

	arr->ia_punch = ILOG_NONE;
	for (i = arr->ia_len; i-- > 0;) {
		if (ilog_ent_has_punch(&arr->ia_ents[i])) {
			arr->ia_punch = i;
			return;
		}
	}
}

/*
 * Point the root at the new array @arr and free @old (NULL: none). The old array stays
 * readable until commit: frees take effect then.
 */
static int
ilog_array_install(struct umem_instance *umm, struct ilog_entry_df *re, struct ilog_array_df *arr,
		   struct ilog_array_df *old)
{
	int rc;

	if (old != NULL) {
		rc = umem_free(umm, umem_ptr2off(umm, old));
		if (rc != 0)
			return rc;
	}
	return ilog_root_set(umm, re, &(struct ilog_entry_df){.le_epoch = umem_ptr2off(umm, arr)});
}

/* Merge @new into the entry at @pos, which has the same epoch. */
static int
ilog_entry_merge(struct umem_instance *umm, struct ilog_view *v, uint32_t pos,
		 const struct ilog_entry_df *new)
{
	struct ilog_entry_df *e = &v->lv_ents[pos];
	uint16_t p =
	    new->le_punch_minor > e->le_punch_minor ? new->le_punch_minor : e->le_punch_minor;
	uint16_t u =
	    new->le_update_minor > e->le_update_minor ? new->le_update_minor : e->le_update_minor;
	int rc;

	if (p == e->le_punch_minor && u == e->le_update_minor) {
		D_DEBUG("ilog %p: epoch %#" PRIx64 " already has minors %u/%u\n", v->lv_root,
			e->le_epoch, p, u);
		return 0;
	}
	if (p == u) {
		D_ERROR("ilog %p: create and punch at the same epoch %#" PRIx64 ".%u: " DF_RC "\n",
			v->lv_root, e->le_epoch, p, DP_RC(-DER_NO_PERM));
		return -DER_NO_PERM;
	}

	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	/* the two minors are adjacent: one range */
	rc = umem_tx_add_ptr(umm, &e->le_punch_minor, 2 * sizeof(uint16_t));
	if (rc != 0)
		goto out;
	e->le_punch_minor = p;
	e->le_update_minor = u;
	if (v->lv_array != NULL && new->le_punch_minor != 0 &&
	    (v->lv_punch == ILOG_NONE || pos > v->lv_punch)) {
		rc = umem_tx_add_ptr(umm, &v->lv_array->ia_punch, sizeof(v->lv_array->ia_punch));
		if (rc != 0)
			goto out;
		v->lv_array->ia_punch = pos;
	}
out:
	return umem_tx_end(umm, rc);
}

/* Insert @new, whose epoch is not in the log, at index @pos. */
static int
ilog_entry_insert(struct umem_instance *umm, struct ilog_view *v, uint32_t pos,
		  const struct ilog_entry_df *new)
{
	struct ilog_array_df *arr = v->lv_array;
	uint32_t punch = v->lv_punch;
	int rc;

	if (arr != NULL && arr->ia_len == arr->ia_cap && arr->ia_cap * 2 + 1 > ILOG_ARRAY_MAX_CAP) {
		D_ERROR("ilog %p: %u entries, no more allowed: " DF_RC "\n", v->lv_root,
			arr->ia_len, DP_RC(-DER_NOSPACE));
		return -DER_NOSPACE;
	}

	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	if (v->lv_nr == 0) {
		rc = ilog_root_set(umm, v->lv_root, new);
		goto out;
	}
	if (arr == NULL || arr->ia_len == arr->ia_cap) {
		/* INLINE -> ARRAY, or a full array -> one twice its size */
		struct ilog_array_df *arr2;

		arr2 =
		    ilog_array_alloc(umm, arr == NULL ? ILOG_ARRAY_MIN_CAP : arr->ia_cap * 2 + 1);
		if (arr2 == NULL) {
			rc = -DER_NOSPACE; /* umem_tx_end() returns the error the heap recorded */
			goto out;
		}
		memcpy(arr2->ia_ents, v->lv_ents, pos * sizeof(*new));
		arr2->ia_ents[pos] = *new;
		memcpy(&arr2->ia_ents[pos + 1], &v->lv_ents[pos], (v->lv_nr - pos) * sizeof(*new));
		arr2->ia_len = v->lv_nr + 1;
		ilog_array_punch_reset(arr2);
		rc = ilog_array_install(umm, v->lv_root, arr2, arr);
		goto out;
	}

	rc = umem_tx_add_ptr(umm, &arr->ia_ents[pos], (arr->ia_len - pos + 1) * sizeof(*new));
	if (rc == 0)
		rc = umem_tx_add_ptr(umm, arr, sizeof(*arr));
	if (rc != 0)
		goto out;
	memmove(&arr->ia_ents[pos + 1], &arr->ia_ents[pos], (arr->ia_len - pos) * sizeof(*new));
	arr->ia_ents[pos] = *new;
	arr->ia_len++;
	if (ilog_ent_has_punch(new) && (punch == ILOG_NONE || pos > punch))
		arr->ia_punch = pos;
	else if (punch != ILOG_NONE && pos <= punch)
		arr->ia_punch = punch + 1;
out:
	return umem_tx_end(umm, rc);
}

int
ilog_update(struct umem_instance *umm, struct ilog_df *root, uint64_t epoch, uint16_t minor,
	    bool punch)
{
	struct ilog_entry_df new = {.le_epoch = epoch};
	struct ilog_entry_df *re;
	struct ilog_view v;
	uint32_t pos;
	int rc;

	D_ASSERT(umm != NULL && root != NULL);
	if (epoch == 0 || minor == 0) {
		D_ERROR("ilog %p: bad %s at %#" PRIx64 ".%u: " DF_RC "\n", root,
			punch ? "punch" : "create", epoch, minor, DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}
	if (punch)
		new.le_punch_minor = minor;
	else
		new.le_update_minor = minor;
	re = ilog_root_ent(root);
	if (re->le_epoch == 0 && re->le_tx == 0 && re->le_punch_minor == 0 &&
	    re->le_update_minor == 0 && umem_tx_inprogress(umm)) {
		/*
		 * An empty log (a key created by this update): its first entry goes inline,
		 * without a view or a nested transaction. A failed add dooms the caller's
		 * transaction, as the nested one would.
		 */
		return ilog_root_set(umm, re, &new);
	}
	rc = ilog_view_load(umm, root, &v);
	if (rc != 0)
		return rc;

	/* the first entry at or after @epoch */
	pos = ilog_count_le(&v, epoch - 1);
	if (pos < v.lv_nr && v.lv_ents[pos].le_epoch == epoch)
		rc = ilog_entry_merge(umm, &v, pos, &new);
	else
		rc = ilog_entry_insert(umm, &v, pos, &new);
	D_DEBUG("ilog %p: %s at %#" PRIx64 ".%u: " DF_RC "\n", root, punch ? "punch" : "create",
		epoch, minor, DP_RC(rc));
	return rc;
}

int
ilog_create(struct umem_instance *umm, struct ilog_df *root)
{
	int rc;

	D_ASSERT(umm != NULL && root != NULL);
	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	rc = ilog_root_set(umm, ilog_root_ent(root), &(struct ilog_entry_df){0});
	return umem_tx_end(umm, rc);
}

int
ilog_destroy(struct umem_instance *umm, struct ilog_df *root)
{
	struct ilog_view v;
	int rc;

	D_ASSERT(umm != NULL && root != NULL);
	rc = ilog_view_load(umm, root, &v);
	if (rc != 0)
		return rc;
	if (v.lv_nr == 0)
		return 0;
	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	if (v.lv_array != NULL)
		rc = umem_free(umm, umem_ptr2off(umm, v.lv_array));
	if (rc == 0)
		rc = ilog_root_set(umm, v.lv_root, &(struct ilog_entry_df){0});
	return umem_tx_end(umm, rc);
}

/* Mark what the reader at @epoch needs (invariant 7); note whether it sees the key. */
static void
ilog_agg_mark(const struct ilog_view *v, uint64_t epoch, bool *keep, bool *visible)
{
	struct ilog_scan sc;

	ilog_view_scan(v, epoch, &sc);
	if (sc.sc_punch != ILOG_NONE)
		keep[sc.sc_punch] = true;
	if (sc.sc_visible) {
		keep[sc.sc_last] = true;
		keep[sc.sc_first] = true;
		*visible = true;
	}
}

/*
 * Rewrite the log keeping the first @nb entries marked in @keep and every entry after them;
 * @new_nr entries remain, fewer than now.
 */
static int
ilog_agg_rewrite(struct umem_instance *umm, struct ilog_view *v, const bool *keep, uint32_t nb,
		 uint32_t new_nr)
{
	struct ilog_array_df *arr = v->lv_array;
	uint32_t i, j, first;
	int rc;

	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	if (new_nr <= 1) {
		struct ilog_entry_df last = {0};

		for (i = 0; new_nr == 1 && i < v->lv_nr; i++) {
			if (i >= nb || keep[i]) {
				last = v->lv_ents[i];
				break;
			}
		}
		if (arr != NULL)
			rc = umem_free(umm, umem_ptr2off(umm, arr));
		if (rc == 0)
			rc = ilog_root_set(umm, v->lv_root, &last);
		goto out;
	}

	D_ASSERT(arr != NULL);
	for (first = 0; first < nb && keep[first]; first++)
		;
	if (ilog_cap_for(new_nr) <= arr->ia_cap / 4) {
		/* three quarters empty: move the survivors to a tight array */
		struct ilog_array_df *arr2 = ilog_array_alloc(umm, ilog_cap_for(new_nr));

		if (arr2 == NULL) {
			rc = -DER_NOSPACE; /* umem_tx_end() returns the error the heap recorded */
			goto out;
		}
		for (i = 0, j = 0; i < v->lv_nr; i++)
			if (i >= nb || keep[i])
				arr2->ia_ents[j++] = v->lv_ents[i];
		arr2->ia_len = new_nr;
		ilog_array_punch_reset(arr2);
		rc = ilog_array_install(umm, v->lv_root, arr2, arr);
		goto out;
	}

	rc = umem_tx_add_ptr(umm, &arr->ia_ents[first],
			     (v->lv_nr - first) * sizeof(arr->ia_ents[0]));
	if (rc == 0)
		rc = umem_tx_add_ptr(umm, arr, sizeof(*arr));
	if (rc != 0)
		goto out;
	for (i = first, j = first; i < v->lv_nr; i++)
		if (i >= nb || keep[i])
			arr->ia_ents[j++] = arr->ia_ents[i];
	D_ASSERT(j == new_nr);
	arr->ia_len = new_nr;
	ilog_array_punch_reset(arr);
out:
	return umem_tx_end(umm, rc);
}

int
ilog_aggregate(struct umem_instance *umm, struct ilog_df *root, uint64_t bound,
	       const uint64_t *snaps, uint32_t nr_snaps)
{
	struct ilog_view v;
	bool *keep, visible = false;
	uint32_t nb, i, new_nr;
	int rc;

	D_ASSERT(umm != NULL && root != NULL && (snaps != NULL || nr_snaps == 0));
	rc = ilog_view_load(umm, root, &v);
	if (rc != 0)
		return rc;
	if (v.lv_nr == 0)
		return ILOG_AGG_EMPTY;
	nb = ilog_count_le(&v, bound);
	if (nb == 0)
		return 0;

	D_ALLOC_ARRAY(keep, nb);
	if (keep == NULL)
		return -DER_NOMEM;
	ilog_agg_mark(&v, bound, keep, &visible);
	for (i = 0; i < nr_snaps; i++)
		if (snaps[i] <= bound)
			ilog_agg_mark(&v, snaps[i], keep, &visible);

	new_nr = 0;
	if (visible || nb < v.lv_nr) {
		new_nr = v.lv_nr - nb;
		for (i = 0; i < nb; i++)
			new_nr += keep[i];
	}
	if (new_nr < v.lv_nr)
		rc = ilog_agg_rewrite(umm, &v, keep, nb, new_nr);
	D_DEBUG("ilog %p: aggregated up to %#" PRIx64 " (%u snapshots): %u -> %u entries: " DF_RC
		"\n",
		root, bound, nr_snaps, v.lv_nr, new_nr, DP_RC(rc));
	D_FREE(keep);
	if (rc != 0)
		return rc;
	return new_nr == 0 ? ILOG_AGG_EMPTY : 0;
}
