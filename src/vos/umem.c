/*
 * umem.c: the heap of a VOS pool shard: a slab/chunk allocator whose state lives in the
 * heap, and undo/redo transactions over it. See src/include/daos_srv/umem.h for the
 * contract and src/vos/README.md for the layout.
 *
 * Layout of a heap of S bytes:
 *
 *	[0, 4K)                 struct umem_heap_df (magic, geometry, root)
 *	[4K, ...)               chunk table: one struct umem_chunk_df per chunk
 *	[chunks_off, S)         chunks of UMEM_CHUNK_SIZE bytes
 *
 * A chunk is FREE, a SLAB of one size class (a slot bitmap at its start, then the slots),
 * the HEAD of a run of whole chunks for one large allocation, or a CONTinuation of a run.
 *
 * Invariants:
 * 1. Persistent allocator state (table entries, bitmaps) changes only inside transactions,
 *    through umem_tx_add, so a redo record carries it and a replayed log restores it.
 * 2. The volatile state (per-chunk free counts, per-class lists of chunks with free slots)
 *    is a function of the persistent state: umem_open() derives it, and an abort re-derives
 *    it for every chunk the transaction touched.
 * 3. A free takes effect at commit, so an aborted transaction never needs to re-allocate,
 *    and nothing a transaction frees is reused by that same transaction.
 */
#define D_LOGFAC vos

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_srv/umem.h>

#include "vos_internal.h"

#define UMEM_MAGIC 0x50414548554d4544ULL /* "DEMUHEAP" little-endian */
#define UMEM_VERSION 1

enum umem_chunk_type {
	UMEM_CHUNK_FREE = 0,
	UMEM_CHUNK_SLAB = 1,
	UMEM_CHUNK_RUN = 2,
	UMEM_CHUNK_CONT = 3,
};

struct umem_heap_df {
	uint64_t hd_magic;
	uint32_t hd_version;
	uint32_t hd_chunk_size;
	uint64_t hd_size;
	uint64_t hd_nchunks;
	uint64_t hd_table_off;
	uint64_t hd_chunks_off;
	uint64_t hd_root_off;
	uint64_t hd_root_size;
	uint64_t hd_reserved[8];
};
D_CASSERT(sizeof(struct umem_heap_df) == 128);

struct umem_chunk_df {
	uint16_t cd_type;
	uint16_t cd_class;
	uint32_t cd_run; /* RUN: chunks in the run, CONT: distance back to the head */
};
D_CASSERT(sizeof(struct umem_chunk_df) == 8);

/* Slab size classes: about 1.5x apart, so at most a third of a slot is wasted. */
static const uint32_t umem_classes[] = {
    16,   32,   48,   64,   96,   128,  192,   256,   384,   512,   768,   1024,
    1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576, 32768, 49152, 65536,
};
#define UMEM_NCLASSES ((int)D_ARRAY_SIZE(umem_classes))
D_CASSERT(65536 == UMEM_SLAB_MAX);

/* Geometry of a slab chunk of one class. */
struct umem_class_geo {
	uint32_t cg_size;
	uint32_t cg_nslots;
	uint32_t cg_bm_bytes; /* bitmap at the chunk start, padded: slots follow */
};

static struct umem_class_geo umem_geo[UMEM_NCLASSES];
/* The class of each size up to UMEM_CLS_TBL_MAX bytes, by 16-byte granule (every class up to
 * there is a multiple of 16): filled with the geometry, once. */
#define UMEM_CLS_TBL_MAX 1024
static uint8_t umem_cls_tbl[UMEM_CLS_TBL_MAX / 16 + 1];

struct umem_chunk_v {
	d_list_t cv_link; /* in umm_partial[class] while the slab has free slots */
	uint32_t cv_nfree;
	uint32_t cv_hint; /* bitmap word to look at first */
};

/* One range added to the transaction. Undo data, if any, is at ue_undo in umm_undo. */
struct umem_tx_ent {
	uint64_t ue_off;
	uint64_t ue_len;
	uint64_t ue_undo; /* offset into umm_undo, or UINT64_MAX: nothing to restore */
};

/*
 * Allocations the open transaction made that umem_tx_add_range looks at before it records
 * a range: at most this many, the latest (a 64 B VOS update makes five; the fields it adds
 * twice are in the last four).
 */
#define UMEM_FRESH_MAX 4

/* An allocation of the open transaction: its requested bytes are in the redo record. */
struct umem_fresh {
	uint64_t uf_off;
	uint64_t uf_end;
};

struct umem_tx_cb {
	umem_tx_cb_t tc_fn;
	void *tc_arg;
};

struct umem_instance {
	char *umm_base;
	size_t umm_size;
	struct umem_heap_df *umm_hdr;
	struct umem_chunk_df *umm_table;
	uint64_t umm_nchunks;
	struct umem_chunk_v *umm_chunks;
	d_list_t umm_partial[UMEM_NCLASSES];
	uint64_t umm_free_hint; /* lowest chunk that may be free */
	const struct umem_store_ops *umm_ops;
	void *umm_ops_arg;
	uint64_t umm_last_lsn;
	bool umm_noredo; /* umem_set_redo(false): commits build no redo record */
	/* accounting (volatile, derived at open, updated at commit) */
	uint64_t umm_used;
	uint64_t umm_nallocs;
	uint64_t umm_nchunks_free;
	uint64_t umm_populated; /* slab chunks faulted in at once (umem_chunk_populate) */
	/* the open transaction */
	int umm_tx_depth;
	int umm_tx_err;
	struct umem_tx_ent *umm_ents;
	uint32_t umm_nents;
	uint32_t umm_ents_cap;
	char *umm_undo;
	uint64_t umm_undo_len;
	uint64_t umm_undo_cap;
	struct umem_fresh umm_fresh[UMEM_FRESH_MAX]; /* a ring: entry n % UMEM_FRESH_MAX */
	uint32_t umm_nfresh;
	umem_off_t *umm_frees;
	uint32_t umm_nfrees;
	uint32_t umm_frees_cap;
	uint64_t *umm_touched; /* chunks whose volatile state an abort must re-derive */
	uint32_t umm_ntouched;
	uint32_t umm_touched_cap;
	int64_t umm_tx_used; /* accounting deltas applied at commit */
	int64_t umm_tx_nallocs;
	struct umem_redo_range *umm_redo;
	uint32_t umm_redo_cap;
	struct umem_tx_cb *umm_cbs;
	uint32_t umm_ncbs;
	uint32_t umm_cbs_cap;
	/* checkpoint support */
	uint64_t *umm_dirty;
	uint64_t umm_npages;
	uint64_t umm_ndirty;
};

static pthread_once_t umem_geo_once = PTHREAD_ONCE_INIT;

/* The smallest class that holds @size bytes (at most UMEM_SLAB_MAX), by binary search. */
static int
umem_size2class_search(size_t size)
{
	int lo = 0, hi = UMEM_NCLASSES - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (umem_classes[mid] >= size)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Compute the slab geometry of every class; once per process (umem_geo_init). */
static void
umem_geo_compute(void)
{
	int c;

	for (c = 0; c < UMEM_NCLASSES; c++) {
		struct umem_class_geo *g = &umem_geo[c];
		uint32_t n = (uint32_t)(UMEM_CHUNK_SIZE / umem_classes[c]);
		uint32_t bm;

		/* Shrink the slot count until bitmap + slots fit; the bitmap is 64-byte padded. */
		for (;;) {
			bm = ((n + 63) / 64 * 8 + 63) & ~63U;
			if (bm + (uint64_t)n * umem_classes[c] <= UMEM_CHUNK_SIZE)
				break;
			n--;
		}
		g->cg_size = umem_classes[c];
		g->cg_nslots = n;
		g->cg_bm_bytes = bm;
		/* a slow first caller (D_FI_UMEM_GEO_SLOW): the others must wait for it */
		if (c == 0 && D_FAIL_CHECK(D_FI_UMEM_GEO_SLOW))
			usleep(20000);
	}
	for (c = 0; c < (int)D_ARRAY_SIZE(umem_cls_tbl); c++) {
		int cls = umem_size2class_search(c == 0 ? 1 : (size_t)c * 16);

		/* a class inside a granule would make the table wrong */
		D_ASSERT(c == 0 || cls == umem_size2class_search((size_t)c * 16 - 15));
		umem_cls_tbl[c] = (uint8_t)cls;
	}
}

/*
 * Pool shards open on several xstreams at once: every caller must see the whole table, so
 * the first one computes it and the others wait (pthread_once), whatever their number.
 */
static void
umem_geo_init(void)
{
	pthread_once(&umem_geo_once, umem_geo_compute);
}

void *
umem_base(struct umem_instance *umm)
{
	return umm->umm_base;
}

size_t
umem_size(struct umem_instance *umm)
{
	return umm->umm_size;
}

umem_off_t
umem_root(struct umem_instance *umm)
{
	return umm->umm_hdr->hd_root_off;
}

uint64_t
umem_tx_last_lsn(struct umem_instance *umm)
{
	return umm->umm_last_lsn;
}

void
umem_set_redo(struct umem_instance *umm, bool on)
{
	D_ASSERT(umm->umm_tx_depth == 0);
	umm->umm_noredo = !on;
}

bool
umem_tx_inprogress(struct umem_instance *umm)
{
	return umm->umm_tx_depth > 0;
}

static inline uint64_t
umem_chunk_off(struct umem_instance *umm, uint64_t idx)
{
	return umm->umm_hdr->hd_chunks_off + idx * UMEM_CHUNK_SIZE;
}

static inline uint64_t *
umem_slab_bitmap(struct umem_instance *umm, uint64_t idx)
{
	return (uint64_t *)(umm->umm_base + umem_chunk_off(umm, idx));
}

/* Grow a transaction array to hold one more element. */
static int
umem_grow(void **arr, uint32_t *cap, uint32_t nr, size_t elem)
{
	void *p;
	uint32_t ncap;

	if (nr < *cap)
		return 0;
	ncap = *cap == 0 ? 64 : *cap * 2;
	while (ncap <= nr)
		ncap *= 2;
	p = d_realloc_array(*arr, ncap, elem);
	if (p == NULL)
		return -DER_NOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int
umem_touch(struct umem_instance *umm, uint64_t idx)
{
	int rc;

	if (umm->umm_ntouched > 0 && umm->umm_touched[umm->umm_ntouched - 1] == idx)
		return 0;
	rc = umem_grow((void **)&umm->umm_touched, &umm->umm_touched_cap, umm->umm_ntouched,
		       sizeof(uint64_t));
	if (rc != 0)
		return rc;
	umm->umm_touched[umm->umm_ntouched++] = idx;
	return 0;
}

/*
 * Is [@off, @off + @len) covered already: inside an allocation of this transaction (its
 * bytes go to the redo record whole, and an abort gives the allocation back, so its
 * contents need no before-image), or inside the range added last (whose before-image is
 * older, hence the one an abort must restore)? VOS adds fields of a record or node it has
 * just allocated, and the same field twice in a row: a third of a 64 B update's ranges.
 * Only the latest UMEM_FRESH_MAX (4) allocations are looked at; a miss only costs a range.
 */
static inline bool
umem_tx_covered(const struct umem_instance *umm, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	uint32_t i, n = umm->umm_nfresh < UMEM_FRESH_MAX ? umm->umm_nfresh : UMEM_FRESH_MAX;

	if (umm->umm_nents > 0) {
		const struct umem_tx_ent *last = &umm->umm_ents[umm->umm_nents - 1];

		if (off >= last->ue_off && end <= last->ue_off + last->ue_len)
			return true;
	}
	/* newest first: VOS fills what it allocated last */
	for (i = 1; i <= n; i++) {
		const struct umem_fresh *f =
		    &umm->umm_fresh[(umm->umm_nfresh - i) % UMEM_FRESH_MAX];

		if (off >= f->uf_off && end <= f->uf_end)
			return true;
	}
	return false;
}

/*
 * Record a range in the transaction, saving its before-image when @undo; @undo false is a
 * fresh allocation (umem_alloc_internal), which later ranges inside it need not repeat.
 */
static int
umem_tx_add_range(struct umem_instance *umm, uint64_t off, uint64_t len, bool undo)
{
	struct umem_tx_ent *ent;
	int rc;

	if (umm->umm_tx_depth == 0 || len == 0 || off >= umm->umm_size ||
	    len > umm->umm_size - off) {
		D_ERROR("bad tx range off=%#" PRIx64 " len=%" PRIu64 " depth=%d\n", off, len,
			umm->umm_tx_depth);
		return -DER_INVAL;
	}
	if (undo && umem_tx_covered(umm, off, len))
		return 0;
	if (umm->umm_nents == umm->umm_ents_cap) {
		rc = umem_grow((void **)&umm->umm_ents, &umm->umm_ents_cap, umm->umm_nents,
			       sizeof(*umm->umm_ents));
		if (rc != 0)
			return rc;
	}
	ent = &umm->umm_ents[umm->umm_nents];
	ent->ue_off = off;
	ent->ue_len = len;
	ent->ue_undo = UINT64_MAX;
	if (undo) {
		if (umm->umm_undo_len + len > umm->umm_undo_cap) {
			uint64_t ncap = umm->umm_undo_cap == 0 ? 65536 : umm->umm_undo_cap;
			char *p;

			while (ncap < umm->umm_undo_len + len)
				ncap *= 2;
			D_REALLOC(p, umm->umm_undo, ncap);
			if (p == NULL)
				return -DER_NOMEM;
			umm->umm_undo = p;
			umm->umm_undo_cap = ncap;
		}
		/* most ranges are a word or two (bitmap words, log entries, counters): inline */
		if (len == 8)
			memcpy(umm->umm_undo + umm->umm_undo_len, umm->umm_base + off, 8);
		else if (len == 16)
			memcpy(umm->umm_undo + umm->umm_undo_len, umm->umm_base + off, 16);
		else
			memcpy(umm->umm_undo + umm->umm_undo_len, umm->umm_base + off, len);
		ent->ue_undo = umm->umm_undo_len;
		umm->umm_undo_len += len;
	} else {
		struct umem_fresh *f = &umm->umm_fresh[umm->umm_nfresh++ % UMEM_FRESH_MAX];

		f->uf_off = off;
		f->uf_end = off + len;
	}
	umm->umm_nents++;
	return 0;
}

int
umem_tx_add(struct umem_instance *umm, umem_off_t off, size_t size)
{
	int rc;

	rc = umem_tx_add_range(umm, off, size, true);
	if (rc != 0 && umm->umm_tx_depth > 0 && umm->umm_tx_err == 0)
		umm->umm_tx_err = rc;
	return rc;
}

int
umem_tx_add_callback(struct umem_instance *umm, umem_tx_cb_t cb, void *arg)
{
	uint32_t i;
	int rc;

	if (umm->umm_tx_depth == 0)
		return -DER_INVAL;
	for (i = 0; i < umm->umm_ncbs; i++)
		if (umm->umm_cbs[i].tc_fn == cb && umm->umm_cbs[i].tc_arg == arg)
			return 0;
	rc = umem_grow((void **)&umm->umm_cbs, &umm->umm_cbs_cap, umm->umm_ncbs,
		       sizeof(*umm->umm_cbs));
	if (rc != 0) {
		if (umm->umm_tx_err == 0)
			umm->umm_tx_err = rc;
		return rc;
	}
	umm->umm_cbs[umm->umm_ncbs].tc_fn = cb;
	umm->umm_cbs[umm->umm_ncbs].tc_arg = arg;
	umm->umm_ncbs++;
	return 0;
}

int
umem_tx_add_ptr(struct umem_instance *umm, const void *ptr, size_t size)
{
	if ((const char *)ptr < umm->umm_base || (const char *)ptr >= umm->umm_base + umm->umm_size)
		return -DER_INVAL;
	return umem_tx_add(umm, umem_ptr2off(umm, ptr), size);
}

/* Derive the volatile state of chunk @idx from the persistent one. */
static void
umem_chunk_load(struct umem_instance *umm, uint64_t idx)
{
	struct umem_chunk_df *cd = &umm->umm_table[idx];
	struct umem_chunk_v *cv = &umm->umm_chunks[idx];

	if (!d_list_empty(&cv->cv_link))
		d_list_del_init(&cv->cv_link);
	cv->cv_nfree = 0;
	cv->cv_hint = 0;
	if (cd->cd_type == UMEM_CHUNK_SLAB) {
		const struct umem_class_geo *g = &umem_geo[cd->cd_class];
		uint64_t *bm = umem_slab_bitmap(umm, idx);
		uint32_t used = 0, w;

		for (w = 0; w < (g->cg_nslots + 63) / 64; w++)
			used += (uint32_t)__builtin_popcountll(bm[w]);
		cv->cv_nfree = g->cg_nslots - used;
		if (cv->cv_nfree > 0)
			d_list_add_tail(&cv->cv_link, &umm->umm_partial[cd->cd_class]);
	}
	if (cd->cd_type == UMEM_CHUNK_FREE && idx < umm->umm_free_hint)
		umm->umm_free_hint = idx;
}

/* Set the persistent table entry of chunk @idx, inside the transaction. */
static int
umem_chunk_set(struct umem_instance *umm, uint64_t idx, uint16_t type, uint16_t cls, uint32_t run)
{
	struct umem_chunk_df *cd = &umm->umm_table[idx];
	int rc;

	rc = umem_tx_add_range(umm, umem_ptr2off(umm, cd), sizeof(*cd), true);
	if (rc != 0)
		return rc;
	rc = umem_touch(umm, idx);
	if (rc != 0)
		return rc;
	cd->cd_type = type;
	cd->cd_class = cls;
	cd->cd_run = run;
	return 0;
}

/* Find @n contiguous free chunks; returns the first index or UINT64_MAX. */
static uint64_t
umem_chunks_find(struct umem_instance *umm, uint64_t n)
{
	uint64_t i, start = UINT64_MAX, len = 0;

	for (i = umm->umm_free_hint; i < umm->umm_nchunks; i++) {
		if (umm->umm_table[i].cd_type != UMEM_CHUNK_FREE) {
			len = 0;
			continue;
		}
		if (len == 0)
			start = i;
		if (++len == n)
			return start;
	}
	return UINT64_MAX;
}

static void
umem_free_hint_advance(struct umem_instance *umm)
{
	while (umm->umm_free_hint < umm->umm_nchunks &&
	       umm->umm_table[umm->umm_free_hint].cd_type != UMEM_CHUNK_FREE)
		umm->umm_free_hint++;
}

/* The smallest class that holds @size bytes (at most UMEM_SLAB_MAX). */
static inline int
umem_size2class(size_t size)
{
	if (size <= UMEM_CLS_TBL_MAX)
		return umem_cls_tbl[(size + 15) / 16];
	return umem_size2class_search(size);
}

/*
 * Chunk @idx just became a slab: fault all its pages in now, with one madvise, instead of
 * one write fault per page as its slots fill. Fresh heap memory is anonymous and untouched
 * (or mapped to the zero page by a read): during 4 KiB updates into a fresh pool the page
 * faults of umem_zalloc's memset took ~7 % of the engine's CPU samples, most of it the
 * fault's entry and walk, not the clearing (docs/PERFORMANCE.md, "Session 10 (dsync3)").
 * The slab's pages would be written as it fills anyway; a failure (an older kernel, no
 * memory) leaves them to fault one by one, as before. Contents are never changed.
 */
static void
umem_chunk_populate(struct umem_instance *umm, uint64_t idx)
{
#ifdef MADV_POPULATE_WRITE
	if (madvise(umm->umm_base + umem_chunk_off(umm, idx), UMEM_CHUNK_SIZE,
		    MADV_POPULATE_WRITE) == 0)
		umm->umm_populated++;
#else
	(void)umm;
	(void)idx;
#endif
}

static umem_off_t
umem_alloc_slot(struct umem_instance *umm, int cls)
{
	const struct umem_class_geo *g = &umem_geo[cls];
	struct umem_chunk_v *cv;
	uint64_t idx, *bm, off;
	uint32_t w, nwords = (g->cg_nslots + 63) / 64, bit, slot;
	int rc;

	if (d_list_empty(&umm->umm_partial[cls])) {
		idx = umem_chunks_find(umm, 1);
		if (idx == UINT64_MAX)
			return (umem_off_t)-DER_NOSPACE;
		rc = umem_chunk_set(umm, idx, UMEM_CHUNK_SLAB, (uint16_t)cls, 0);
		if (rc != 0)
			return (umem_off_t)rc;
		umem_chunk_populate(umm, idx);
		bm = umem_slab_bitmap(umm, idx);
		rc = umem_tx_add_range(umm, umem_chunk_off(umm, idx), g->cg_bm_bytes, true);
		if (rc != 0)
			return (umem_off_t)rc;
		memset(bm, 0, g->cg_bm_bytes);
		umem_chunk_load(umm, idx);
		umm->umm_nchunks_free--;
		umem_free_hint_advance(umm);
	}
	cv = d_list_first_entry(&umm->umm_partial[cls], struct umem_chunk_v, cv_link);
	idx = (uint64_t)(cv - umm->umm_chunks);
	bm = umem_slab_bitmap(umm, idx);
	for (w = cv->cv_hint;; w = (w + 1) % nwords) {
		uint64_t word = bm[w];

		if (w == nwords - 1 && g->cg_nslots % 64 != 0)
			word |= ~0ULL << (g->cg_nslots % 64); /* slots past the end look used */
		if (word != ~0ULL)
			break;
	}
	D_ASSERT(cv->cv_nfree > 0);
	rc = umem_tx_add_range(umm, umem_ptr2off(umm, &bm[w]), sizeof(bm[w]), true);
	if (rc == 0)
		rc = umem_touch(umm, idx);
	if (rc != 0)
		return (umem_off_t)rc;
	bit = (uint32_t)__builtin_ctzll(~bm[w]);
	slot = w * 64 + bit;
	D_ASSERT(slot < g->cg_nslots);
	bm[w] |= 1ULL << bit;
	cv->cv_hint = w;
	if (--cv->cv_nfree == 0)
		d_list_del_init(&cv->cv_link);
	off = umem_chunk_off(umm, idx) + g->cg_bm_bytes + (uint64_t)slot * g->cg_size;
	umm->umm_tx_used += g->cg_size;
	return off;
}

static umem_off_t
umem_alloc_run(struct umem_instance *umm, size_t size)
{
	uint64_t n = (size + UMEM_CHUNK_SIZE - 1) / UMEM_CHUNK_SIZE, idx, i;
	int rc;

	if (n > UINT32_MAX)
		return (umem_off_t)-DER_NOSPACE;
	idx = umem_chunks_find(umm, n);
	if (idx == UINT64_MAX)
		return (umem_off_t)-DER_NOSPACE;
	rc = umem_chunk_set(umm, idx, UMEM_CHUNK_RUN, 0, (uint32_t)n);
	for (i = 1; rc == 0 && i < n; i++)
		rc = umem_chunk_set(umm, idx + i, UMEM_CHUNK_CONT, 0, (uint32_t)i);
	if (rc != 0)
		return (umem_off_t)rc;
	umm->umm_nchunks_free -= n;
	umem_free_hint_advance(umm);
	umm->umm_tx_used += (int64_t)(n * UMEM_CHUNK_SIZE);
	return umem_chunk_off(umm, idx);
}

static umem_off_t
umem_alloc_internal(struct umem_instance *umm, size_t size, bool zero)
{
	umem_off_t off;
	size_t usable;
	int rc;

	if (umm->umm_tx_depth == 0) {
		D_ERROR("allocation outside a transaction\n");
		return UMOFF_NULL;
	}
	if (umm->umm_tx_err != 0)
		return UMOFF_NULL;
	if (D_FAIL_CHECK(D_FI_UMEM_ALLOC)) {
		rc = -DER_NOSPACE;
		goto failed;
	}
	if (size == 0)
		size = 1;
	if (size <= UMEM_SLAB_MAX) {
		int cls = umem_size2class(size);

		off = umem_alloc_slot(umm, cls);
		usable = umem_classes[cls];
	} else {
		off = umem_alloc_run(umm, size);
		usable = (size + UMEM_CHUNK_SIZE - 1) / UMEM_CHUNK_SIZE * UMEM_CHUNK_SIZE;
	}
	if ((int64_t)off < 0) {
		rc = (int)(int64_t)off;
		goto failed;
	}
	/* New memory: its contents go into the redo record; nothing to restore on abort. */
	rc = umem_tx_add_range(umm, off, size, false);
	if (rc != 0)
		goto failed;
	if (zero)
		memset(umm->umm_base + off, 0, size);
	(void)usable;
	umm->umm_tx_nallocs++;
	return off;

failed:
	if (rc == -DER_NOSPACE)
		D_DEBUG("heap full: %zu bytes\n", size);
	else
		D_ERROR("allocation of %zu bytes failed: " DF_RC "\n", size, DP_RC(rc));
	umm->umm_tx_err = rc;
	return UMOFF_NULL;
}

umem_off_t
umem_alloc(struct umem_instance *umm, size_t size)
{
	return umem_alloc_internal(umm, size, false);
}

umem_off_t
umem_zalloc(struct umem_instance *umm, size_t size)
{
	return umem_alloc_internal(umm, size, true);
}

/*
 * Locate live allocation @off: its chunk, and for a slab its bitmap word and bit.
 * Returns the usable size, or 0 if @off is not the start of a live allocation.
 */
static size_t
umem_locate(struct umem_instance *umm, umem_off_t off, uint64_t *idxp, uint32_t *slotp)
{
	uint64_t chunks_off = umm->umm_hdr->hd_chunks_off, idx, rel;
	struct umem_chunk_df *cd;

	if (off < chunks_off || off >= umm->umm_size)
		return 0;
	idx = (off - chunks_off) / UMEM_CHUNK_SIZE;
	rel = (off - chunks_off) % UMEM_CHUNK_SIZE;
	if (idx >= umm->umm_nchunks)
		return 0;
	cd = &umm->umm_table[idx];
	*idxp = idx;
	if (cd->cd_type == UMEM_CHUNK_RUN)
		return rel == 0 ? (size_t)cd->cd_run * UMEM_CHUNK_SIZE : 0;
	if (cd->cd_type == UMEM_CHUNK_SLAB) {
		const struct umem_class_geo *g = &umem_geo[cd->cd_class];
		uint64_t slot;

		if (rel < g->cg_bm_bytes || (rel - g->cg_bm_bytes) % g->cg_size != 0)
			return 0;
		slot = (rel - g->cg_bm_bytes) / g->cg_size;
		if (slot >= g->cg_nslots)
			return 0;
		if (!(umem_slab_bitmap(umm, idx)[slot / 64] & (1ULL << (slot % 64))))
			return 0;
		*slotp = (uint32_t)slot;
		return g->cg_size;
	}
	return 0;
}

size_t
umem_alloc_size(struct umem_instance *umm, umem_off_t off)
{
	uint64_t idx;
	uint32_t slot;

	return umem_locate(umm, off, &idx, &slot);
}

int
umem_free(struct umem_instance *umm, umem_off_t off)
{
	uint64_t idx;
	uint32_t slot, i;
	int rc;

	if (off == UMOFF_NULL)
		return 0;
	if (umm->umm_tx_depth == 0)
		return -DER_INVAL;
	if (umem_locate(umm, off, &idx, &slot) == 0) {
		D_ERROR("free of %#" PRIx64 ": not a live allocation\n", off);
		return -DER_INVAL;
	}
	for (i = 0; i < umm->umm_nfrees; i++) {
		if (umm->umm_frees[i] == off) {
			D_ERROR("double free of %#" PRIx64 " in one transaction\n", off);
			return -DER_INVAL;
		}
	}
	rc = umem_grow((void **)&umm->umm_frees, &umm->umm_frees_cap, umm->umm_nfrees,
		       sizeof(umem_off_t));
	if (rc != 0) {
		umm->umm_tx_err = rc;
		return rc;
	}
	umm->umm_frees[umm->umm_nfrees++] = off;
	return 0;
}

/* Carry out one deferred free at commit. */
static int
umem_free_apply(struct umem_instance *umm, umem_off_t off)
{
	struct umem_chunk_df *cd;
	uint64_t idx, i, n;
	uint32_t slot;
	size_t size;
	int rc;

	size = umem_locate(umm, off, &idx, &slot);
	D_ASSERT(size != 0); /* validated by umem_free, and frees are unique */
	cd = &umm->umm_table[idx];
	if (cd->cd_type == UMEM_CHUNK_RUN) {
		n = cd->cd_run;
		for (i = 0; i < n; i++) {
			rc = umem_chunk_set(umm, idx + i, UMEM_CHUNK_FREE, 0, 0);
			if (rc != 0)
				return rc;
			umem_chunk_load(umm, idx + i);
		}
		umm->umm_nchunks_free += n;
	} else {
		const struct umem_class_geo *g = &umem_geo[cd->cd_class];
		struct umem_chunk_v *cv = &umm->umm_chunks[idx];
		uint64_t *bm = umem_slab_bitmap(umm, idx);

		rc = umem_tx_add_range(umm, umem_ptr2off(umm, &bm[slot / 64]), sizeof(uint64_t),
				       true);
		if (rc == 0)
			rc = umem_touch(umm, idx);
		if (rc != 0)
			return rc;
		bm[slot / 64] &= ~(1ULL << (slot % 64));
		if (cv->cv_nfree++ == 0)
			d_list_add(&cv->cv_link, &umm->umm_partial[cd->cd_class]);
		if (cv->cv_nfree == g->cg_nslots) {
			/* An empty slab goes back to the chunk pool: fragmentation stays bounded.
			 */
			rc = umem_chunk_set(umm, idx, UMEM_CHUNK_FREE, 0, 0);
			if (rc != 0)
				return rc;
			umem_chunk_load(umm, idx);
			umm->umm_nchunks_free++;
		}
	}
	umm->umm_tx_used -= (int64_t)size;
	umm->umm_tx_nallocs--;
	return 0;
}

int
umem_tx_begin(struct umem_instance *umm)
{
	if (umm->umm_tx_depth++ == 0) {
		D_ASSERT(umm->umm_ncbs == 0);
		umm->umm_tx_err = 0;
		umm->umm_nents = 0;
		umm->umm_undo_len = 0;
		umm->umm_nfresh = 0;
		umm->umm_nfrees = 0;
		umm->umm_ntouched = 0;
		umm->umm_tx_used = 0;
		umm->umm_tx_nallocs = 0;
	}
	return 0;
}

static void
umem_tx_abort(struct umem_instance *umm)
{
	uint32_t i;

	for (i = umm->umm_nents; i-- > 0;) {
		struct umem_tx_ent *ent = &umm->umm_ents[i];

		if (ent->ue_undo != UINT64_MAX)
			memcpy(umm->umm_base + ent->ue_off, umm->umm_undo + ent->ue_undo,
			       ent->ue_len);
	}
	for (i = 0; i < umm->umm_ntouched; i++)
		umem_chunk_load(umm, umm->umm_touched[i]);
	/* Chunk-free counts: recount (cheap next to a transaction that touched chunks). */
	if (umm->umm_ntouched > 0) {
		uint64_t n = 0, c;

		for (c = 0; c < umm->umm_nchunks; c++)
			n += umm->umm_table[c].cd_type == UMEM_CHUNK_FREE;
		umm->umm_nchunks_free = n;
	}
}

/* Past this many ranges a commit sorts them with qsort rather than by insertion. */
#define UMEM_ISORT_MAX 64
/* Bits of a sort key (umem_tx_commit) that hold the range's index: UMEM_ISORT_MAX fits. */
#define UMEM_KEY_IDX_BITS 7
D_CASSERT(UMEM_ISORT_MAX <= (1U << UMEM_KEY_IDX_BITS));

static int
umem_rr_cmp(const void *a, const void *b)
{
	const struct umem_redo_range *x = a, *y = b;

	return x->rr_off < y->rr_off ? -1 : x->rr_off > y->rr_off;
}

static void
umem_dirty_mark(struct umem_instance *umm, uint64_t off, uint64_t len)
{
	uint64_t p, last = (off + len - 1) / UMEM_PAGE_SIZE;

	for (p = off / UMEM_PAGE_SIZE; p <= last; p++) {
		uint64_t bit = 1ULL << (p % 64);

		if (!(umm->umm_dirty[p / 64] & bit)) {
			umm->umm_dirty[p / 64] |= bit;
			umm->umm_ndirty++;
		}
	}
}

/* umem_dirty_mark, with the usual case inline: a range inside one page already dirty. */
static inline void
umem_dirty_range(struct umem_instance *umm, uint64_t off, uint64_t len)
{
	uint64_t p = off / UMEM_PAGE_SIZE;

	if (p == (off + len - 1) / UMEM_PAGE_SIZE && (umm->umm_dirty[p / 64] & (1ULL << (p % 64))))
		return;
	umem_dirty_mark(umm, off, len);
}

/* Build the redo record (sorted, merged ranges) and hand it to the store. */
static int
umem_tx_commit(struct umem_instance *umm)
{
	struct umem_redo redo = {0};
	uint64_t lsn = 0;
	uint32_t i, n = 0;
	int rc;

	for (i = 0; i < umm->umm_nfrees; i++) {
		rc = umem_free_apply(umm, umm->umm_frees[i]);
		if (rc != 0)
			return rc;
	}
	if (umm->umm_nents == 0)
		return 0;

	if (umm->umm_noredo) {
		/* no record: the store only hands out the LSN; the pages go to the checkpoint */
		if (umm->umm_ops != NULL && umm->umm_ops->so_commit != NULL) {
			rc = umm->umm_ops->so_commit(umm->umm_ops_arg, &redo, &lsn);
			if (rc != 0)
				return rc;
		}
		umm->umm_last_lsn = lsn;
		for (i = 0; i < umm->umm_nents; i++)
			umem_dirty_range(umm, umm->umm_ents[i].ue_off, umm->umm_ents[i].ue_len);
		return 0;
	}

	/*
	 * The ranges, sorted by offset and merged, in place in umm_redo (the entries keep
	 * their order: an abort after a refusing store undoes them last to first). A
	 * transaction adds a few dozen ranges, mostly in ascending order: insertion sort.
	 */
	rc = umem_grow((void **)&umm->umm_redo, &umm->umm_redo_cap, umm->umm_nents - 1,
		       sizeof(*umm->umm_redo));
	if (rc != 0)
		return rc;
	if (umm->umm_nents <= UMEM_ISORT_MAX &&
	    umm->umm_size <= (1ULL << (64 - UMEM_KEY_IDX_BITS))) {
		/*
		 * The usual case: sort one word a range, its offset with its index below, by
		 * insertion (a sorted run costs a compare a range), then fill the array.
		 */
		uint64_t keys[UMEM_ISORT_MAX];

		for (i = 0; i < umm->umm_nents; i++) {
			uint64_t k = umm->umm_ents[i].ue_off << UMEM_KEY_IDX_BITS | i;
			uint32_t j = i;

			for (; j > 0 && keys[j - 1] > k; j--)
				keys[j] = keys[j - 1];
			keys[j] = k;
		}
		for (i = 0; i < umm->umm_nents; i++) {
			const struct umem_tx_ent *ent =
			    &umm->umm_ents[keys[i] & ((1U << UMEM_KEY_IDX_BITS) - 1)];

			umm->umm_redo[i].rr_off = ent->ue_off;
			umm->umm_redo[i].rr_len = (uint32_t)ent->ue_len;
		}
	} else {
		for (i = 0; i < umm->umm_nents; i++) {
			umm->umm_redo[i].rr_off = umm->umm_ents[i].ue_off;
			umm->umm_redo[i].rr_len = (uint32_t)umm->umm_ents[i].ue_len;
		}
		qsort(umm->umm_redo, umm->umm_nents, sizeof(*umm->umm_redo), umem_rr_cmp);
	}
	for (i = 0; i < umm->umm_nents; i++) {
		uint64_t s = umm->umm_redo[i].rr_off, e = s + umm->umm_redo[i].rr_len;
		struct umem_redo_range *last = n > 0 ? &umm->umm_redo[n - 1] : NULL;

		if (last != NULL && s <= last->rr_off + last->rr_len) {
			if (e > last->rr_off + last->rr_len)
				last->rr_len = (uint32_t)(e - last->rr_off);
			continue;
		}
		umm->umm_redo[n].rr_off = s;
		umm->umm_redo[n].rr_len = (uint32_t)(e - s);
		umm->umm_redo[n].rr_pad = 0;
		umm->umm_redo[n].rr_data = umm->umm_base + s;
		n++;
	}
	redo.ur_nr = n;
	redo.ur_ranges = umm->umm_redo;
	for (i = 0; i < n; i++)
		redo.ur_bytes += umm->umm_redo[i].rr_len;

	if (umm->umm_ops != NULL && umm->umm_ops->so_commit != NULL) {
		rc = umm->umm_ops->so_commit(umm->umm_ops_arg, &redo, &lsn);
		if (rc != 0) {
			/* a full log or staging buffer is flow control: the caller makes room */
			if (rc == -DER_AGAIN || rc == -DER_BUSY)
				D_DEBUG("store deferred a redo record of %" PRIu64 " bytes: " DF_RC
					"\n",
					redo.ur_bytes, DP_RC(rc));
			else
				D_ERROR("store refused a redo record of %" PRIu64 " bytes: " DF_RC
					"\n",
					redo.ur_bytes, DP_RC(rc));
			return rc;
		}
	}
	umm->umm_last_lsn = lsn;
	for (i = 0; i < n; i++)
		umem_dirty_range(umm, umm->umm_redo[i].rr_off, umm->umm_redo[i].rr_len);
	return 0;
}

int
umem_tx_end(struct umem_instance *umm, int rc)
{
	D_ASSERT(umm->umm_tx_depth > 0);
	if (rc != 0 && umm->umm_tx_err == 0)
		umm->umm_tx_err = rc;
	if (umm->umm_tx_depth > 1) {
		umm->umm_tx_depth--;
		return rc != 0 ? rc : umm->umm_tx_err;
	}

	/* Outermost end: the commit still runs inside the transaction (frees add ranges). */
	rc = umm->umm_tx_err;
	if (rc == 0)
		rc = umem_tx_commit(umm);
	if (rc != 0) {
		umem_tx_abort(umm);
	} else {
		umm->umm_used = (uint64_t)((int64_t)umm->umm_used + umm->umm_tx_used);
		umm->umm_nallocs = (uint64_t)((int64_t)umm->umm_nallocs + umm->umm_tx_nallocs);
	}
	umm->umm_nents = 0;
	umm->umm_undo_len = 0;
	umm->umm_nfresh = 0;
	umm->umm_nfrees = 0;
	umm->umm_ntouched = 0;
	umm->umm_tx_err = 0;
	umm->umm_tx_depth = 0;
	if (umm->umm_ncbs > 0) {
		struct umem_tx_cb *cbs = umm->umm_cbs;
		uint32_t i, n = umm->umm_ncbs, cap = umm->umm_cbs_cap;
		uint64_t lsn = rc == 0 ? umm->umm_last_lsn : 0;

		/* Callbacks may run transactions of their own: detach the list first. */
		umm->umm_cbs = NULL;
		umm->umm_cbs_cap = 0;
		umm->umm_ncbs = 0;
		for (i = 0; i < n; i++)
			cbs[i].tc_fn(cbs[i].tc_arg, rc, lsn);
		if (umm->umm_cbs == NULL) {
			umm->umm_cbs = cbs;
			umm->umm_cbs_cap = cap;
		} else {
			D_FREE(cbs);
		}
	}
	return rc;
}

int
umem_redo_apply(void *image, size_t size, const struct umem_redo *redo)
{
	uint32_t i;

	for (i = 0; i < redo->ur_nr; i++) {
		const struct umem_redo_range *r = &redo->ur_ranges[i];

		if (r->rr_off >= size || r->rr_len > size - r->rr_off)
			return -DER_INVAL;
	}
	for (i = 0; i < redo->ur_nr; i++) {
		const struct umem_redo_range *r = &redo->ur_ranges[i];

		if (r->rr_data == NULL) /* a run of zeros (the WAL logs them without bytes) */
			memset((char *)image + r->rr_off, 0, r->rr_len);
		else
			memcpy((char *)image + r->rr_off, r->rr_data, r->rr_len);
	}
	return 0;
}

void
umem_query(struct umem_instance *umm, struct umem_stats *st)
{
	uint64_t slab_free = 0, c;

	for (c = 0; c < umm->umm_nchunks; c++)
		if (umm->umm_table[c].cd_type == UMEM_CHUNK_SLAB)
			slab_free += (uint64_t)umm->umm_chunks[c].cv_nfree *
				     umem_geo[umm->umm_table[c].cd_class].cg_size;
	st->us_heap_size = umm->umm_size;
	st->us_used = umm->umm_used;
	st->us_chunks = umm->umm_nchunks;
	st->us_chunks_free = umm->umm_nchunks_free;
	st->us_free = slab_free + umm->umm_nchunks_free * UMEM_CHUNK_SIZE;
	st->us_nr_allocs = umm->umm_nallocs;
}

uint64_t
umem_dirty_count(struct umem_instance *umm)
{
	return umm->umm_ndirty;
}

uint64_t
umem_populated_count(struct umem_instance *umm)
{
	return umm->umm_populated;
}

bool
umem_dirty_next(struct umem_instance *umm, uint64_t *page)
{
	uint64_t p = *page, w;

	while (p < umm->umm_npages) {
		w = umm->umm_dirty[p / 64] >> (p % 64);
		if (w == 0) {
			p = (p / 64 + 1) * 64;
			continue;
		}
		p += (uint64_t)__builtin_ctzll(w);
		if (p >= umm->umm_npages)
			break;
		umm->umm_dirty[p / 64] &= ~(1ULL << (p % 64));
		umm->umm_ndirty--;
		*page = p;
		return true;
	}
	return false;
}

void
umem_dirty_all(struct umem_instance *umm)
{
	uint64_t p;

	for (p = 0; p < umm->umm_npages; p++)
		umm->umm_dirty[p / 64] |= 1ULL << (p % 64);
	umm->umm_ndirty = umm->umm_npages;
}

/* Allocate the instance around an image and derive the volatile state. */
static int
umem_instance_init(void *image, size_t size, const struct umem_store_ops *ops, void *arg,
		   struct umem_instance **ummp)
{
	struct umem_instance *umm;
	uint64_t c;
	int i;

	D_ALLOC_PTR(umm);
	if (umm == NULL)
		return -DER_NOMEM;
	umm->umm_base = image;
	umm->umm_size = size;
	umm->umm_hdr = image;
	umm->umm_nchunks = umm->umm_hdr->hd_nchunks;
	umm->umm_table = (struct umem_chunk_df *)(umm->umm_base + umm->umm_hdr->hd_table_off);
	umm->umm_ops = ops;
	umm->umm_ops_arg = arg;
	umm->umm_npages = (size + UMEM_PAGE_SIZE - 1) / UMEM_PAGE_SIZE;
	for (i = 0; i < UMEM_NCLASSES; i++)
		D_INIT_LIST_HEAD(&umm->umm_partial[i]);
	D_ALLOC_ARRAY(umm->umm_chunks, umm->umm_nchunks);
	D_ALLOC_ARRAY(umm->umm_dirty, (umm->umm_npages + 63) / 64);
	if (umm->umm_chunks == NULL || umm->umm_dirty == NULL) {
		D_FREE(umm->umm_chunks);
		D_FREE(umm->umm_dirty);
		D_FREE(umm);
		return -DER_NOMEM;
	}
	umm->umm_free_hint = umm->umm_nchunks;
	for (c = 0; c < umm->umm_nchunks; c++) {
		struct umem_chunk_df *cd = &umm->umm_table[c];

		D_INIT_LIST_HEAD(&umm->umm_chunks[c].cv_link);
		umem_chunk_load(umm, c);
		if (cd->cd_type == UMEM_CHUNK_FREE) {
			umm->umm_nchunks_free++;
		} else if (cd->cd_type == UMEM_CHUNK_RUN) {
			umm->umm_used += (uint64_t)cd->cd_run * UMEM_CHUNK_SIZE;
			umm->umm_nallocs++;
		} else if (cd->cd_type == UMEM_CHUNK_SLAB) {
			const struct umem_class_geo *g = &umem_geo[cd->cd_class];
			uint64_t n = g->cg_nslots - umm->umm_chunks[c].cv_nfree;

			umm->umm_used += n * g->cg_size;
			umm->umm_nallocs += n;
		}
	}
	*ummp = umm;
	return 0;
}

static void *
umem_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int
umem_create(size_t size, size_t root_size, const struct umem_store_ops *ops, void *arg,
	    struct umem_instance **ummp)
{
	struct umem_instance *umm;
	struct umem_heap_df *hdr;
	uint64_t nmax, table_bytes, chunks_off;
	umem_off_t root;
	void *image;
	int rc;

	umem_geo_init();
	if (size < UMEM_HEAP_MIN || size % UMEM_PAGE_SIZE != 0 || root_size == 0 ||
	    root_size > UMEM_SLAB_MAX) {
		D_ERROR("bad heap geometry: size %zu root %zu\n", size, root_size);
		return -DER_INVAL;
	}
	nmax = size / UMEM_CHUNK_SIZE;
	table_bytes =
	    (nmax * sizeof(struct umem_chunk_df) + UMEM_PAGE_SIZE - 1) & ~(UMEM_PAGE_SIZE - 1);
	chunks_off = (UMEM_PAGE_SIZE + table_bytes + UMEM_CHUNK_SIZE - 1) & ~(UMEM_CHUNK_SIZE - 1);
	if (chunks_off + UMEM_CHUNK_SIZE > size)
		return -DER_INVAL;

	image = umem_map(size);
	if (image == NULL)
		return -DER_NOMEM;
	hdr = image;
	hdr->hd_magic = UMEM_MAGIC;
	hdr->hd_version = UMEM_VERSION;
	hdr->hd_chunk_size = UMEM_CHUNK_SIZE;
	hdr->hd_size = size;
	hdr->hd_nchunks = (size - chunks_off) / UMEM_CHUNK_SIZE;
	hdr->hd_table_off = UMEM_PAGE_SIZE;
	hdr->hd_chunks_off = chunks_off;

	rc = umem_instance_init(image, size, NULL, NULL, &umm);
	if (rc != 0) {
		munmap(image, size);
		return rc;
	}
	/* The root is allocated through an ordinary transaction, committed to no store. */
	umem_tx_begin(umm);
	root = umem_zalloc(umm, root_size);
	rc = umem_tx_end(umm, 0);
	if (rc != 0) {
		umem_close(umm);
		return rc;
	}
	hdr->hd_root_off = root;
	hdr->hd_root_size = root_size;
	umm->umm_ops = ops;
	umm->umm_ops_arg = arg;
	umem_dirty_all(umm);
	*ummp = umm;
	return 0;
}

/* Validate an image's header and chunk table. Nothing from the image is trusted before. */
static int
umem_image_check(const void *image, size_t size)
{
	const struct umem_heap_df *hdr = image;
	const struct umem_chunk_df *table;
	uint64_t c, nmax;

	if (size < UMEM_HEAP_MIN || hdr->hd_magic != UMEM_MAGIC)
		return -DER_CSUM;
	if (hdr->hd_version != UMEM_VERSION || hdr->hd_chunk_size != UMEM_CHUNK_SIZE ||
	    hdr->hd_size != size || hdr->hd_table_off != UMEM_PAGE_SIZE)
		return -DER_INVAL;
	nmax = size / UMEM_CHUNK_SIZE;
	if (hdr->hd_nchunks == 0 || hdr->hd_nchunks > nmax ||
	    hdr->hd_chunks_off < hdr->hd_table_off + hdr->hd_nchunks * sizeof(*table) ||
	    hdr->hd_chunks_off % UMEM_CHUNK_SIZE != 0 ||
	    hdr->hd_chunks_off + hdr->hd_nchunks * UMEM_CHUNK_SIZE > size)
		return -DER_INVAL;
	table = (const struct umem_chunk_df *)((const char *)image + hdr->hd_table_off);
	for (c = 0; c < hdr->hd_nchunks; c++) {
		const struct umem_chunk_df *cd = &table[c];

		switch (cd->cd_type) {
		case UMEM_CHUNK_FREE:
			break;
		case UMEM_CHUNK_SLAB:
			if (cd->cd_class >= UMEM_NCLASSES)
				return -DER_INVAL;
			break;
		case UMEM_CHUNK_RUN:
			if (cd->cd_run == 0 || cd->cd_run > hdr->hd_nchunks - c)
				return -DER_INVAL;
			break;
		case UMEM_CHUNK_CONT:
			if (cd->cd_run == 0 || cd->cd_run > c ||
			    table[c - cd->cd_run].cd_type != UMEM_CHUNK_RUN ||
			    table[c - cd->cd_run].cd_run <= cd->cd_run)
				return -DER_INVAL;
			break;
		default:
			return -DER_INVAL;
		}
	}
	if (hdr->hd_root_off < hdr->hd_chunks_off || hdr->hd_root_off >= size ||
	    hdr->hd_root_size == 0 || hdr->hd_root_size > size - hdr->hd_root_off)
		return -DER_INVAL;
	return 0;
}

int
umem_open(void *image, size_t size, const struct umem_store_ops *ops, void *arg,
	  struct umem_instance **ummp)
{
	int rc;

	umem_geo_init();
	rc = umem_image_check(image, size);
	if (rc != 0) {
		D_ERROR("not a valid heap image of %zu bytes: " DF_RC "\n", size, DP_RC(rc));
		return rc;
	}
	rc = umem_instance_init(image, size, ops, arg, ummp);
	if (rc != 0)
		return rc;
	if (umem_alloc_size(*ummp, umem_root(*ummp)) < (*ummp)->umm_hdr->hd_root_size) {
		D_ERROR("heap root %#" PRIx64 " is not a live allocation\n", umem_root(*ummp));
		(*ummp)->umm_base = NULL; /* the caller keeps the image on failure */
		umem_close(*ummp);
		*ummp = NULL;
		return -DER_INVAL;
	}
	return 0;
}

int
umem_image_zero_free(void *image, size_t size)
{
	const struct umem_heap_df *hdr = image;
	const struct umem_chunk_df *table;
	char *chunk;
	uint64_t c;
	uint32_t slot;
	int rc;

	umem_geo_init();
	rc = umem_image_check(image, size);
	if (rc != 0)
		return rc;
	table = (const struct umem_chunk_df *)((const char *)image + hdr->hd_table_off);
	for (c = 0; c < hdr->hd_nchunks; c++) {
		chunk = (char *)image + hdr->hd_chunks_off + c * UMEM_CHUNK_SIZE;
		if (table[c].cd_type == UMEM_CHUNK_FREE) {
			memset(chunk, 0, UMEM_CHUNK_SIZE);
		} else if (table[c].cd_type == UMEM_CHUNK_SLAB) {
			const struct umem_class_geo *g = &umem_geo[table[c].cd_class];
			const uint64_t *bm = (const uint64_t *)chunk;

			uint64_t end = g->cg_bm_bytes + (uint64_t)g->cg_nslots * g->cg_size;

			for (slot = 0; slot < g->cg_nslots; slot++)
				if (!(bm[slot / 64] & (1ULL << (slot % 64))))
					memset(chunk + g->cg_bm_bytes + (uint64_t)slot * g->cg_size,
					       0, g->cg_size);
			memset(chunk + end, 0, UMEM_CHUNK_SIZE - end); /* behind the last slot */
		}
	}
	return 0;
}

void
umem_close(struct umem_instance *umm)
{
	if (umm == NULL)
		return;
	D_ASSERT(umm->umm_tx_depth == 0);
	if (umm->umm_base != NULL)
		munmap(umm->umm_base, umm->umm_size);
	D_FREE(umm->umm_chunks);
	D_FREE(umm->umm_dirty);
	D_FREE(umm->umm_ents);
	D_FREE(umm->umm_undo);
	D_FREE(umm->umm_frees);
	D_FREE(umm->umm_touched);
	D_FREE(umm->umm_redo);
	D_FREE(umm->umm_cbs);
	D_FREE(umm);
}
