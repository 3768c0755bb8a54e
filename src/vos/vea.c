/*
 * vea.c: the versioned extent allocator of a pool shard's data file (see
 * src/include/daos_srv/vea.h for the contract and src/vos/README.md, section "vea").
 * It sits on the umem heap and its transactions; the data file itself is bio's business.
 *
 * Persistent state: a bitmap of the data file's blocks (set = allocated), in 4 KiB pages
 * allocated on first use and reached through a directory (one heap offset per page; NULL =
 * every block of the page free). A bitmap suits a redo log: a change is a few words at fixed
 * places, any bit pattern is a valid state, and adjacent free space is merged by definition.
 *
 * Volatile state: free extents in a treap keyed by block offset whose nodes also carry the
 * largest extent of their subtree, so "lowest-addressed extent of at least n blocks" is one
 * descent; reservations on the callers' lists; the publishes and frees of the open
 * transaction; and the aging list of committed frees waiting for their LSN to be durable.
 *
 * Life of a block (outside a transaction each block is in exactly one state):
 *
 *	        reserve              publish, commit          free, commit
 *	FREE -------------> RESERVED ----------------> USED ----------------> AGING
 *	 ^ ^                 |    |                                              |
 *	 | +-----cancel------+    +--publish, abort --> FREE                    |
 *	 +----------------------- flush (its LSN is durable) --------------------+
 *
 * Invariants:
 * 1. A bit changes only inside a transaction, after umem_tx_add of its word: the bitmap is
 *    always what the redo log says, and a crash loses exactly the uncommitted changes.
 * 2. FREE, RESERVED and AGING blocks have clear bits; USED blocks have set bits. The bits of
 *    a block published or freed by the open transaction already show its new state.
 * 3. Free-tree extents lie in [hdr, tot), are disjoint and never adjacent (they are merged
 *    as they enter), and each node's ve_max is the largest ve_cnt in its subtree.
 * 4. A freed block enters the free tree only through vea_flush with an LSN at or past that of
 *    the transaction that freed it: a crash can never find its data overwritten.
 * 5. vea_reserve and vea_cancel never touch the heap; vea_tx_publish and vea_free touch it
 *    only in a transaction, and their volatile effects wait for vea_tx_end, which reads the
 *    outcome from vsd_gen (bumped once per transaction: a commit keeps it, an abort undoes it).
 * 6. Nothing on the way back can fail: cancel, abort, flush and merges reuse the nodes they
 *    move, so only vea_load, vea_reserve (a split) and vea_free (a record) allocate.
 * 7. Heap bytes are validated by vea_load (geometry, directory and page offsets) and checked
 *    where a caller's request depends on them (vea_free's double-free test); never asserted.
 */
#define D_LOGFAC vos

#include <gurt/common.h>
#include <daos_srv/vea.h>

#include "vos_internal.h"

#define VEA_MAGIC 0x414556534f414444ULL /* "DDAOSVEA" little-endian */
#define VEA_VERSION 1
#define VEA_PAGE_BYTES 4096ULL
#define VEA_PAGE_WORDS (VEA_PAGE_BYTES / 8)
#define VEA_PAGE_BITS (VEA_PAGE_BYTES * 8)
/* 2^40 blocks: 4 PiB of 4 KiB blocks, a 256 MiB directory. The heap runs out first. */
#define VEA_TOT_MAX (1ULL << 40)

D_CASSERT(sizeof(struct vea_space_df) == 64);
D_CASSERT(offsetof(struct vea_space_df, vsd_gen) == 32);
D_CASSERT(offsetof(struct vea_space_df, vsd_dir) == 40);

/*
 * A volatile extent: a free-tree node, a reservation (on a caller's list or pending
 * publish), a pending free or an aging extent. The public part comes first so a caller's
 * list entry converts back.
 */
struct vea_ext {
	struct vea_resrvd_ext ve_r; /* vre_link, vre_blk_off, vre_blk_cnt */
	struct vea_ext *ve_left;
	struct vea_ext *ve_right;
	uint64_t ve_max; /* largest vre_blk_cnt in this subtree (free tree only) */
	uint64_t ve_lsn; /* aging: LSN of the freeing transaction */
	uint32_t ve_prio;
	uint32_t ve_pad;
};

struct vea_space_info {
	struct umem_instance *vsi_umm;
	struct vea_space_df *vsi_md;
	umem_off_t *vsi_dir; /* in the heap; fixed by format */
	uint64_t vsi_npages;
	uint64_t vsi_hdr; /* copies of validated geometry: never re-read from the heap */
	uint64_t vsi_tot;
	uint32_t vsi_blk_sz;
	uint32_t vsi_rand; /* treap priorities */
	struct vea_ext *vsi_free;
	d_list_t vsi_aging;     /* sorted by ve_lsn */
	d_list_t vsi_pend_pub;  /* published by the open transaction */
	d_list_t vsi_pend_free; /* freed by the open transaction */
	bool vsi_tx_active;     /* the pending lists belong to a transaction not settled yet */
	uint64_t vsi_tx_gen;    /* vsd_gen before that transaction bumped it */
	/* accounting, in blocks */
	uint64_t vsi_free_blks;
	uint64_t vsi_frags;
	uint64_t vsi_resrv_blks;
	uint64_t vsi_aging_blks;
	uint64_t vsi_aging_frags;
	uint64_t vsi_used_blks;
	uint64_t vsi_resrv_hint;
	uint64_t vsi_resrv_fit;
};

static inline uint64_t
ve_off(const struct vea_ext *e)
{
	return e->ve_r.vre_blk_off;
}

static inline uint64_t
ve_cnt(const struct vea_ext *e)
{
	return e->ve_r.vre_blk_cnt;
}

static inline uint64_t
ve_end(const struct vea_ext *e)
{
	return e->ve_r.vre_blk_off + e->ve_r.vre_blk_cnt;
}

static inline struct vea_ext *
ve_from_link(d_list_t *link)
{
	return (struct vea_ext *)d_list_entry(link, struct vea_resrvd_ext, vre_link);
}

static struct vea_ext *
ve_alloc(uint64_t off, uint64_t cnt)
{
	struct vea_ext *e;

	D_ALLOC_PTR(e);
	if (e == NULL)
		return NULL;
	D_INIT_LIST_HEAD(&e->ve_r.vre_link);
	e->ve_r.vre_blk_off = off;
	e->ve_r.vre_blk_cnt = cnt;
	return e;
}

/*
 * The free tree: a treap (binary search tree by offset, heap by random priority, so its
 * expected depth is logarithmic whatever the order of operations).
 */

static uint32_t
vea_rand(struct vea_space_info *vsi)
{
	uint32_t x = vsi->vsi_rand;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	vsi->vsi_rand = x;
	return x;
}

static inline uint64_t
tr_max(const struct vea_ext *t)
{
	return t == NULL ? 0 : t->ve_max;
}

static void
tr_update(struct vea_ext *t)
{
	uint64_t m = ve_cnt(t);

	if (tr_max(t->ve_left) > m)
		m = tr_max(t->ve_left);
	if (tr_max(t->ve_right) > m)
		m = tr_max(t->ve_right);
	t->ve_max = m;
}

/* Split @t into the extents below @key (*l) and those at or above it (*r). */
static void
tr_split(struct vea_ext *t, uint64_t key, struct vea_ext **l, struct vea_ext **r)
{
	if (t == NULL) {
		*l = *r = NULL;
		return;
	}
	if (ve_off(t) < key) {
		tr_split(t->ve_right, key, &t->ve_right, r);
		*l = t;
	} else {
		tr_split(t->ve_left, key, l, &t->ve_left);
		*r = t;
	}
	tr_update(t);
}

/* Join two treaps, every key of @a below every key of @b. */
static struct vea_ext *
tr_join(struct vea_ext *a, struct vea_ext *b)
{
	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	if (a->ve_prio > b->ve_prio) {
		a->ve_right = tr_join(a->ve_right, b);
		tr_update(a);
		return a;
	}
	b->ve_left = tr_join(a, b->ve_left);
	tr_update(b);
	return b;
}

static struct vea_ext *
tr_insert(struct vea_ext *t, struct vea_ext *n)
{
	if (t == NULL || n->ve_prio > t->ve_prio) {
		tr_split(t, ve_off(n), &n->ve_left, &n->ve_right);
		tr_update(n);
		return n;
	}
	if (ve_off(n) < ve_off(t))
		t->ve_left = tr_insert(t->ve_left, n);
	else
		t->ve_right = tr_insert(t->ve_right, n);
	tr_update(t);
	return t;
}

/* Unlink the node with offset @key, which must be in @t. */
static struct vea_ext *
tr_remove(struct vea_ext *t, uint64_t key)
{
	struct vea_ext *n;

	D_ASSERT(t != NULL);
	if (ve_off(t) == key) {
		n = tr_join(t->ve_left, t->ve_right);
		t->ve_left = t->ve_right = NULL;
		return n;
	}
	if (key < ve_off(t))
		t->ve_left = tr_remove(t->ve_left, key);
	else
		t->ve_right = tr_remove(t->ve_right, key);
	tr_update(t);
	return t;
}

/* Recompute ve_max on the path to the node with offset @key after its count changed. */
static void
tr_fix(struct vea_ext *t, uint64_t key)
{
	D_ASSERT(t != NULL);
	if (key < ve_off(t))
		tr_fix(t->ve_left, key);
	else if (key > ve_off(t))
		tr_fix(t->ve_right, key);
	tr_update(t);
}

/* The extent with the largest offset <= @key, or NULL. */
static struct vea_ext *
tr_find_le(struct vea_ext *t, uint64_t key)
{
	struct vea_ext *best = NULL;

	while (t != NULL) {
		if (ve_off(t) <= key) {
			best = t;
			t = t->ve_right;
		} else {
			t = t->ve_left;
		}
	}
	return best;
}

/* The extent with the smallest offset >= @key, or NULL. */
static struct vea_ext *
tr_find_ge(struct vea_ext *t, uint64_t key)
{
	struct vea_ext *best = NULL;

	while (t != NULL) {
		if (ve_off(t) >= key) {
			best = t;
			t = t->ve_left;
		} else {
			t = t->ve_right;
		}
	}
	return best;
}

/* The lowest-addressed extent of at least @cnt blocks, or NULL. */
static struct vea_ext *
tr_first_fit(struct vea_ext *t, uint64_t cnt)
{
	while (t != NULL && t->ve_max >= cnt) {
		if (tr_max(t->ve_left) >= cnt)
			t = t->ve_left;
		else if (ve_cnt(t) >= cnt)
			return t;
		else
			t = t->ve_right;
	}
	return NULL;
}

static void
tr_destroy(struct vea_ext *t)
{
	while (t != NULL) {
		struct vea_ext *r = t->ve_right;

		tr_destroy(t->ve_left);
		D_FREE(t);
		t = r;
	}
}

/*
 * Put extent @e (not linked anywhere) into the free tree, merged with the free extents that
 * touch it. Never allocates: merged neighbours are freed, @e is reused.
 */
static void
vea_free_insert(struct vea_space_info *vsi, struct vea_ext *e)
{
	struct vea_ext *p, *s;
	uint64_t cnt = ve_cnt(e);

	D_ASSERT(cnt > 0 && ve_off(e) >= vsi->vsi_hdr && ve_end(e) <= vsi->vsi_tot);
	p = ve_off(e) > 0 ? tr_find_le(vsi->vsi_free, ve_off(e) - 1) : NULL;
	D_ASSERTF(p == NULL || ve_end(p) <= ve_off(e), "free extent overlaps its predecessor");
	if (p != NULL && ve_end(p) == ve_off(e)) {
		vsi->vsi_free = tr_remove(vsi->vsi_free, ve_off(p));
		e->ve_r.vre_blk_off = ve_off(p);
		e->ve_r.vre_blk_cnt += ve_cnt(p);
		vsi->vsi_frags--;
		D_FREE(p);
	}
	s = tr_find_ge(vsi->vsi_free, ve_off(e));
	D_ASSERTF(s == NULL || ve_off(s) >= ve_end(e), "free extent overlaps its successor");
	if (s != NULL && ve_off(s) == ve_end(e)) {
		vsi->vsi_free = tr_remove(vsi->vsi_free, ve_off(s));
		e->ve_r.vre_blk_cnt += ve_cnt(s);
		vsi->vsi_frags--;
		D_FREE(s);
	}
	e->ve_prio = vea_rand(vsi);
	vsi->vsi_free = tr_insert(vsi->vsi_free, e);
	vsi->vsi_frags++;
	vsi->vsi_free_blks += cnt;
}

/*
 * The bitmap.
 */

static inline uint64_t *
vea_page(struct vea_space_info *vsi, uint64_t pg)
{
	return umem_off2ptr(vsi->vsi_umm, vsi->vsi_dir[pg]);
}

/* Mask of bits [lo, hi] of a word. */
static inline uint64_t
vea_mask(uint64_t lo, uint64_t hi)
{
	return (~0ULL >> (63 - hi)) & (~0ULL << lo);
}

/* The bits of the word covering blocks [base, base + 64) that stand for blocks in [hdr, tot). */
static uint64_t
vea_valid_mask(const struct vea_space_info *vsi, uint64_t base)
{
	uint64_t lo, hi;

	if (base + 64 <= vsi->vsi_hdr || base >= vsi->vsi_tot)
		return 0;
	lo = base < vsi->vsi_hdr ? vsi->vsi_hdr - base : 0;
	hi = vsi->vsi_tot - base < 64 ? vsi->vsi_tot - base - 1 : 63;
	return vea_mask(lo, hi);
}

enum vea_bits_op {
	VEA_BITS_ALL_SET,   /* check: every bit set */
	VEA_BITS_ALL_CLEAR, /* check: every bit clear */
	VEA_BITS_SET,
	VEA_BITS_CLEAR,
};

/* Apply @op to bits [bit, bit + n) of one page, which exists. */
static int
vea_page_bits(struct vea_space_info *vsi, uint64_t *page, uint64_t bit, uint64_t n,
	      enum vea_bits_op op)
{
	uint64_t w0 = bit / 64, w1 = (bit + n - 1) / 64, w;
	int rc;

	if (op == VEA_BITS_SET || op == VEA_BITS_CLEAR) {
		rc = umem_tx_add_ptr(vsi->vsi_umm, &page[w0], (w1 - w0 + 1) * sizeof(uint64_t));
		if (rc != 0)
			return rc;
	}
	for (w = w0; w <= w1; w++) {
		uint64_t m = vea_mask(w == w0 ? bit % 64 : 0, w == w1 ? (bit + n - 1) % 64 : 63);

		switch (op) {
		case VEA_BITS_ALL_SET:
			if ((page[w] & m) != m)
				return -DER_INVAL;
			break;
		case VEA_BITS_ALL_CLEAR:
			if ((page[w] & m) != 0)
				return -DER_INVAL;
			break;
		case VEA_BITS_SET:
			page[w] |= m;
			break;
		case VEA_BITS_CLEAR:
			page[w] &= ~m;
			break;
		}
	}
	return 0;
}

/*
 * Apply @op to the bits of blocks [off, off + cnt), inside a transaction for SET/CLEAR.
 * SET allocates missing pages; CLEAR expects them (an ALL_SET check comes first).
 */
static int
vea_bits(struct vea_space_info *vsi, uint64_t off, uint64_t cnt, enum vea_bits_op op)
{
	int rc;

	while (cnt > 0) {
		uint64_t pg = off / VEA_PAGE_BITS, bit = off % VEA_PAGE_BITS;
		uint64_t n = cnt < VEA_PAGE_BITS - bit ? cnt : VEA_PAGE_BITS - bit;
		uint64_t *page = vea_page(vsi, pg);

		if (page == NULL) {
			switch (op) {
			case VEA_BITS_ALL_SET:
				return -DER_INVAL;
			case VEA_BITS_ALL_CLEAR:
				goto next;
			case VEA_BITS_CLEAR:
				D_ASSERT(0); /* callers check ALL_SET first */
				return -DER_INVAL;
			case VEA_BITS_SET: {
				umem_off_t poff = umem_zalloc(vsi->vsi_umm, VEA_PAGE_BYTES);

				if (poff == UMOFF_NULL)
					return -DER_NOSPACE;
				rc = umem_tx_add_ptr(vsi->vsi_umm, &vsi->vsi_dir[pg],
						     sizeof(umem_off_t));
				if (rc != 0)
					return rc;
				vsi->vsi_dir[pg] = poff;
				page = vea_page(vsi, pg);
				break;
			}
			}
		}
		rc = vea_page_bits(vsi, page, bit, n, op);
		if (rc != 0)
			return rc;
	next:
		off += n;
		cnt -= n;
	}
	return 0;
}

/*
 * Transactions.
 */

static void vea_tx_settle(struct vea_space_info *vsi, uint64_t lsn);

/* umem calls this when the transaction that published or freed ends, however it ends. */
static void
vea_tx_cb(void *arg, int rc, uint64_t lsn)
{
	(void)rc; /* vsd_gen tells commit from abort */
	vea_tx_settle(arg, lsn);
}

/*
 * First publish or free of a transaction: remember vsd_gen, bump it in the heap, and have
 * umem settle the volatile effects when the transaction ends.
 */
static int
vea_tx_mark(struct vea_space_info *vsi)
{
	int rc;

	if (vsi->vsi_tx_active)
		return 0;
	vsi->vsi_tx_active = true;
	vsi->vsi_tx_gen = vsi->vsi_md->vsd_gen;
	rc = umem_tx_add_callback(vsi->vsi_umm, vea_tx_cb, vsi);
	if (rc != 0)
		return rc;
	rc = umem_tx_add_ptr(vsi->vsi_umm, &vsi->vsi_md->vsd_gen, sizeof(uint64_t));
	if (rc != 0)
		return rc;
	vsi->vsi_md->vsd_gen = vsi->vsi_tx_gen + 1;
	return 0;
}

/* Insert @e into the aging list, which stays sorted by LSN (appends are the usual case). */
static void
vea_aging_add(struct vea_space_info *vsi, struct vea_ext *e, uint64_t lsn)
{
	d_list_t *pos = vsi->vsi_aging.prev;

	e->ve_lsn = lsn;
	vsi->vsi_aging_blks += ve_cnt(e);
	if (pos != &vsi->vsi_aging) {
		struct vea_ext *last = ve_from_link(pos);

		/* adjacent frees of one transaction become one extent */
		if (last->ve_lsn == lsn && ve_end(last) == ve_off(e)) {
			last->ve_r.vre_blk_cnt += ve_cnt(e);
			D_FREE(e);
			return;
		}
	}
	while (pos != &vsi->vsi_aging && ve_from_link(pos)->ve_lsn > lsn)
		pos = pos->prev;
	d_list_add(&e->ve_r.vre_link, pos);
	vsi->vsi_aging_frags++;
}

/* Apply the volatile effects of the transaction whose outcome vsd_gen now shows. */
static void
vea_tx_settle(struct vea_space_info *vsi, uint64_t lsn)
{
	struct vea_ext *e;
	bool committed;

	if (!vsi->vsi_tx_active)
		return;
	committed = vsi->vsi_md->vsd_gen == vsi->vsi_tx_gen + 1;
	while (!d_list_empty(&vsi->vsi_pend_pub)) {
		e = ve_from_link(vsi->vsi_pend_pub.next);
		d_list_del_init(&e->ve_r.vre_link);
		vsi->vsi_resrv_blks -= ve_cnt(e);
		if (committed) {
			vsi->vsi_used_blks += ve_cnt(e);
			D_FREE(e);
		} else {
			vea_free_insert(vsi, e);
		}
	}
	while (!d_list_empty(&vsi->vsi_pend_free)) {
		e = ve_from_link(vsi->vsi_pend_free.next);
		d_list_del_init(&e->ve_r.vre_link);
		if (committed) {
			vsi->vsi_used_blks -= ve_cnt(e);
			vea_aging_add(vsi, e, lsn);
		} else {
			D_FREE(e);
		}
	}
	D_DEBUG("transaction settled: %s, lsn %" PRIu64 "\n", committed ? "committed" : "aborted",
		lsn);
	vsi->vsi_tx_active = false;
}

/*
 * Settle a transaction whose vea_tx_end never came: outside any transaction it is over, and
 * the heap's last LSN bounds its own from above; inside one, pending work whose generation
 * bump has vanished belonged to an earlier transaction that aborted.
 */
static void
vea_settle_stale(struct vea_space_info *vsi)
{
	if (!vsi->vsi_tx_active)
		return;
	if (!umem_tx_inprogress(vsi->vsi_umm))
		vea_tx_settle(vsi, umem_tx_last_lsn(vsi->vsi_umm));
	else if (vsi->vsi_md->vsd_gen != vsi->vsi_tx_gen + 1)
		vea_tx_settle(vsi, 0);
}

void
vea_tx_end(struct vea_space_info *vsi, uint64_t lsn)
{
	D_ASSERT(!umem_tx_inprogress(vsi->vsi_umm));
	vea_tx_settle(vsi, lsn);
}

/*
 * Format, load, unload.
 */

static bool
vea_geometry_ok(uint32_t blk_sz, uint64_t hdr_blks, uint64_t tot_blks)
{
	return blk_sz >= 512 && blk_sz <= (1U << 20) && (blk_sz & (blk_sz - 1)) == 0 &&
	       tot_blks > 0 && tot_blks <= VEA_TOT_MAX && hdr_blks < tot_blks;
}

int
vea_format(struct umem_instance *umm, struct vea_space_df *vsd, uint32_t blk_sz, uint64_t hdr_blks,
	   uint64_t tot_blks)
{
	uint64_t npages = (tot_blks + VEA_PAGE_BITS - 1) / VEA_PAGE_BITS;
	umem_off_t dir;
	int rc;

	if (!vea_geometry_ok(blk_sz, hdr_blks, tot_blks)) {
		D_ERROR("bad geometry: block size %u, %" PRIu64 " header blocks of %" PRIu64 "\n",
			blk_sz, hdr_blks, tot_blks);
		return -DER_INVAL;
	}
	if ((char *)vsd < (char *)umem_base(umm) ||
	    (char *)(vsd + 1) > (char *)umem_base(umm) + umem_size(umm)) {
		D_ERROR("space root %p is outside the heap\n", (void *)vsd);
		return -DER_INVAL;
	}
	if (vsd->vsd_magic == VEA_MAGIC) {
		D_ERROR("data file space is already formatted\n");
		return -DER_EXIST;
	}

	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	rc = umem_tx_add_ptr(umm, vsd, sizeof(*vsd));
	if (rc != 0)
		goto out_tx;
	dir = umem_zalloc(umm, npages * sizeof(umem_off_t));
	if (dir == UMOFF_NULL) {
		rc = -DER_NOSPACE;
		goto out_tx;
	}
	memset(vsd, 0, sizeof(*vsd));
	vsd->vsd_magic = VEA_MAGIC;
	vsd->vsd_version = VEA_VERSION;
	vsd->vsd_blk_sz = blk_sz;
	vsd->vsd_hdr_blks = hdr_blks;
	vsd->vsd_tot_blks = tot_blks;
	vsd->vsd_dir = dir;
out_tx:
	rc = umem_tx_end(umm, rc);
	if (rc != 0)
		D_ERROR("format of %" PRIu64 " blocks failed: " DF_RC "\n", tot_blks, DP_RC(rc));
	return rc;
}

/* Add free run [off, end) found by the load scan. */
static int
vea_load_run(struct vea_space_info *vsi, uint64_t off, uint64_t end)
{
	struct vea_ext *e = ve_alloc(off, end - off);

	if (e == NULL)
		return -DER_NOMEM;
	e->ve_prio = vea_rand(vsi);
	vsi->vsi_free = tr_insert(vsi->vsi_free, e);
	vsi->vsi_frags++;
	vsi->vsi_free_blks += end - off;
	return 0;
}

/* Build the free tree from the bitmap: one pass over the words, a node per maximal run. */
static int
vea_load_scan(struct vea_space_info *vsi)
{
	uint64_t run = UINT64_MAX; /* start of the open free run */
	uint64_t pg, w;
	int rc;

	for (pg = 0; pg < vsi->vsi_npages; pg++) {
		const uint64_t *page = vea_page(vsi, pg);

		for (w = 0; w < VEA_PAGE_WORDS; w++) {
			uint64_t base = pg * VEA_PAGE_BITS + w * 64, valid, f, pos = 0;

			if (base >= vsi->vsi_tot)
				break;
			valid = vea_valid_mask(vsi, base);
			f = page == NULL ? valid : ~page[w] & valid;
			vsi->vsi_used_blks += (uint64_t)__builtin_popcountll(valid & ~f);
			while (pos < 64) {
				if (run != UINT64_MAX) {
					uint64_t g = ~f >> pos;

					if (g == 0)
						break;
					pos += (uint64_t)__builtin_ctzll(g);
					rc = vea_load_run(vsi, run, base + pos);
					if (rc != 0)
						return rc;
					run = UINT64_MAX;
				} else {
					uint64_t h = f >> pos;

					if (h == 0)
						break;
					pos += (uint64_t)__builtin_ctzll(h);
					run = base + pos;
				}
			}
		}
	}
	if (run != UINT64_MAX)
		return vea_load_run(vsi, run, vsi->vsi_tot);
	return 0;
}

int
vea_load(struct umem_instance *umm, struct vea_space_df *vsd, struct vea_space_info **vsip)
{
	struct vea_space_info *vsi;
	uint64_t npages, pg;
	umem_off_t *dir;
	int rc;

	if ((char *)vsd < (char *)umem_base(umm) ||
	    (char *)(vsd + 1) > (char *)umem_base(umm) + umem_size(umm)) {
		D_ERROR("space root %p is outside the heap\n", (void *)vsd);
		return -DER_INVAL;
	}
	if (vsd->vsd_magic == 0) {
		D_DEBUG("data file space is not formatted\n");
		return -DER_NONEXIST;
	}
	if (vsd->vsd_magic != VEA_MAGIC || vsd->vsd_version != VEA_VERSION ||
	    !vea_geometry_ok(vsd->vsd_blk_sz, vsd->vsd_hdr_blks, vsd->vsd_tot_blks)) {
		D_ERROR("damaged space root: magic %#" PRIx64 " version %u block size %u, %" PRIu64
			" header blocks of %" PRIu64 "\n",
			vsd->vsd_magic, vsd->vsd_version, vsd->vsd_blk_sz, vsd->vsd_hdr_blks,
			vsd->vsd_tot_blks);
		return -DER_INVAL;
	}
	npages = (vsd->vsd_tot_blks + VEA_PAGE_BITS - 1) / VEA_PAGE_BITS;
	if (umem_alloc_size(umm, vsd->vsd_dir) < npages * sizeof(umem_off_t)) {
		D_ERROR("damaged space root: bad bitmap directory %#" PRIx64 "\n", vsd->vsd_dir);
		return -DER_INVAL;
	}
	dir = umem_off2ptr(umm, vsd->vsd_dir);
	for (pg = 0; pg < npages; pg++) {
		if (dir[pg] != UMOFF_NULL && umem_alloc_size(umm, dir[pg]) < VEA_PAGE_BYTES) {
			D_ERROR("damaged bitmap: page %" PRIu64 " at bad offset %#" PRIx64 "\n", pg,
				dir[pg]);
			return -DER_INVAL;
		}
	}

	D_ALLOC_PTR(vsi);
	if (vsi == NULL)
		return -DER_NOMEM;
	vsi->vsi_umm = umm;
	vsi->vsi_md = vsd;
	vsi->vsi_dir = dir;
	vsi->vsi_npages = npages;
	vsi->vsi_hdr = vsd->vsd_hdr_blks;
	vsi->vsi_tot = vsd->vsd_tot_blks;
	vsi->vsi_blk_sz = vsd->vsd_blk_sz;
	vsi->vsi_rand = 0x9e3779b9U;
	D_INIT_LIST_HEAD(&vsi->vsi_aging);
	D_INIT_LIST_HEAD(&vsi->vsi_pend_pub);
	D_INIT_LIST_HEAD(&vsi->vsi_pend_free);
	rc = vea_load_scan(vsi);
	if (rc != 0) {
		D_ERROR("load of %" PRIu64 " blocks failed: " DF_RC "\n", vsi->vsi_tot, DP_RC(rc));
		vea_unload(vsi);
		return rc;
	}
	D_DEBUG("loaded %" PRIu64 " blocks: %" PRIu64 " free in %" PRIu64 " extents\n",
		vsi->vsi_tot, vsi->vsi_free_blks, vsi->vsi_frags);
	*vsip = vsi;
	return 0;
}

static void
vea_list_destroy(d_list_t *head)
{
	while (!d_list_empty(head)) {
		struct vea_ext *e = ve_from_link(head->next);

		d_list_del(&e->ve_r.vre_link);
		D_FREE(e);
	}
}

void
vea_unload(struct vea_space_info *vsi)
{
	if (vsi == NULL)
		return;
	tr_destroy(vsi->vsi_free);
	vea_list_destroy(&vsi->vsi_aging);
	vea_list_destroy(&vsi->vsi_pend_pub);
	vea_list_destroy(&vsi->vsi_pend_free);
	D_FREE(vsi);
}

/*
 * Reserve, cancel, publish, free, flush.
 */

int
vea_reserve(struct vea_space_info *vsi, uint64_t blk_cnt, struct vea_hint_context *hint,
	    d_list_t *resrvd_list)
{
	struct vea_ext *e = NULL, *r;

	if (blk_cnt == 0)
		return -DER_INVAL;
	vea_settle_stale(vsi);
	if (hint != NULL) {
		e = tr_find_le(vsi->vsi_free, hint->vhc_off);
		if (e != NULL && (ve_off(e) != hint->vhc_off || ve_cnt(e) < blk_cnt))
			e = NULL;
	}
	if (e != NULL) {
		vsi->vsi_resrv_hint++;
	} else {
		e = tr_first_fit(vsi->vsi_free, blk_cnt);
		if (e == NULL) {
			D_DEBUG("no free extent of %" PRIu64 " blocks (%" PRIu64 " free)\n",
				blk_cnt, vsi->vsi_free_blks);
			return -DER_NOSPACE;
		}
		vsi->vsi_resrv_fit++;
	}

	if (ve_cnt(e) == blk_cnt) {
		vsi->vsi_free = tr_remove(vsi->vsi_free, ve_off(e));
		vsi->vsi_frags--;
		r = e;
	} else {
		r = ve_alloc(ve_off(e), blk_cnt);
		if (r == NULL)
			return -DER_NOMEM;
		/* the remainder keeps its place in the tree: no extent lies in between */
		e->ve_r.vre_blk_off += blk_cnt;
		e->ve_r.vre_blk_cnt -= blk_cnt;
		tr_fix(vsi->vsi_free, ve_off(e));
	}
	vsi->vsi_free_blks -= blk_cnt;
	vsi->vsi_resrv_blks += blk_cnt;
	if (hint != NULL)
		hint->vhc_off = ve_end(r);
	d_list_add_tail(&r->ve_r.vre_link, resrvd_list);
	return 0;
}

void
vea_cancel(struct vea_space_info *vsi, struct vea_hint_context *hint, d_list_t *resrvd_list)
{
	vea_settle_stale(vsi);
	/* newest first, so a hint walks back over a run of the stream's reservations */
	while (!d_list_empty(resrvd_list)) {
		struct vea_ext *e = ve_from_link(resrvd_list->prev);

		d_list_del_init(&e->ve_r.vre_link);
		if (hint != NULL && hint->vhc_off == ve_end(e))
			hint->vhc_off = ve_off(e);
		vsi->vsi_resrv_blks -= ve_cnt(e);
		vea_free_insert(vsi, e);
	}
}

int
vea_tx_publish(struct vea_space_info *vsi, struct umem_instance *umm, d_list_t *resrvd_list)
{
	struct vea_resrvd_ext *vre;
	bool outer;
	int rc;

	D_ASSERT(umm == vsi->vsi_umm);
	if (d_list_empty(resrvd_list))
		return 0;
	vea_settle_stale(vsi);
	outer = !umem_tx_inprogress(umm);
	rc = umem_tx_begin(umm);
	if (rc != 0) {
		vea_cancel(vsi, NULL, resrvd_list);
		return rc;
	}
	rc = vea_tx_mark(vsi);
	d_list_for_each_entry (vre, resrvd_list, vre_link) {
		if (rc != 0)
			break;
		rc = vea_bits(vsi, vre->vre_blk_off, vre->vre_blk_cnt, VEA_BITS_ALL_CLEAR);
		if (rc != 0) {
			D_ERROR("reserved extent [%" PRIu64 ", +%" PRIu64 ") is allocated in "
				"the heap\n",
				vre->vre_blk_off, vre->vre_blk_cnt);
			break;
		}
		rc = vea_bits(vsi, vre->vre_blk_off, vre->vre_blk_cnt, VEA_BITS_SET);
	}
	/* whatever happened, vea_tx_settle returns them if the transaction aborts */
	d_list_splice_tail_init(resrvd_list, &vsi->vsi_pend_pub);
	rc = umem_tx_end(umm, rc);
	if (outer)
		vea_tx_settle(vsi, umem_tx_last_lsn(umm));
	return rc;
}

int
vea_free(struct vea_space_info *vsi, struct umem_instance *umm, uint64_t blk_off, uint64_t blk_cnt)
{
	struct vea_ext *e = NULL;
	bool outer;
	int rc;

	D_ASSERT(umm == vsi->vsi_umm);
	vea_settle_stale(vsi);
	outer = !umem_tx_inprogress(umm);
	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	if (blk_cnt == 0 || blk_off < vsi->vsi_hdr || blk_off >= vsi->vsi_tot ||
	    blk_cnt > vsi->vsi_tot - blk_off) {
		D_ERROR("free of [%" PRIu64 ", +%" PRIu64 ") outside the data area [%" PRIu64
			", %" PRIu64 ")\n",
			blk_off, blk_cnt, vsi->vsi_hdr, vsi->vsi_tot);
		rc = -DER_INVAL;
		goto out_tx;
	}
	e = ve_alloc(blk_off, blk_cnt);
	if (e == NULL) {
		rc = -DER_NOMEM;
		goto out_tx;
	}
	rc = vea_bits(vsi, blk_off, blk_cnt, VEA_BITS_ALL_SET);
	if (rc != 0) {
		D_ERROR("free of [%" PRIu64 ", +%" PRIu64 "): not allocated\n", blk_off, blk_cnt);
		goto out_free;
	}
	rc = vea_tx_mark(vsi);
	if (rc != 0)
		goto out_free;
	rc = vea_bits(vsi, blk_off, blk_cnt, VEA_BITS_CLEAR);
	if (rc != 0)
		goto out_free;
	d_list_add_tail(&e->ve_r.vre_link, &vsi->vsi_pend_free);
	goto out_tx;
out_free:
	D_FREE(e);
out_tx:
	rc = umem_tx_end(umm, rc);
	if (outer)
		vea_tx_settle(vsi, umem_tx_last_lsn(umm));
	return rc;
}

bool
vea_aging_due(struct vea_space_info *vsi, uint64_t lsn)
{
	return !d_list_empty(&vsi->vsi_aging) && ve_from_link(vsi->vsi_aging.next)->ve_lsn <= lsn;
}

uint64_t
vea_flush(struct vea_space_info *vsi, uint64_t durable_lsn)
{
	uint64_t n = 0;

	vea_settle_stale(vsi);
	while (!d_list_empty(&vsi->vsi_aging)) {
		struct vea_ext *e = ve_from_link(vsi->vsi_aging.next);

		if (e->ve_lsn > durable_lsn)
			break;
		d_list_del_init(&e->ve_r.vre_link);
		vsi->vsi_aging_blks -= ve_cnt(e);
		vsi->vsi_aging_frags--;
		n += ve_cnt(e);
		vea_free_insert(vsi, e);
	}
	if (n > 0)
		D_DEBUG("%" PRIu64 " blocks durable at lsn %" PRIu64 " are free again\n", n,
			durable_lsn);
	return n;
}

/*
 * Queries and checks.
 */

void
vea_query(struct vea_space_info *vsi, struct vea_stat *st)
{
	vea_settle_stale(vsi);
	memset(st, 0, sizeof(*st));
	st->vs_blk_sz = vsi->vsi_blk_sz;
	st->vs_hdr_blks = vsi->vsi_hdr;
	st->vs_tot_blks = vsi->vsi_tot;
	st->vs_free_blks = vsi->vsi_free_blks;
	st->vs_resrv_blks = vsi->vsi_resrv_blks;
	st->vs_aging_blks = vsi->vsi_aging_blks;
	st->vs_used_blks = vsi->vsi_used_blks;
	st->vs_largest_blks = tr_max(vsi->vsi_free);
	st->vs_frags = vsi->vsi_frags;
	st->vs_aging_frags = vsi->vsi_aging_frags;
	st->vs_resrv_hint = vsi->vsi_resrv_hint;
	st->vs_resrv_fit = vsi->vsi_resrv_fit;
}

static int
tr_walk(struct vea_ext *t, vea_extent_cb_t cb, void *arg)
{
	int rc;

	while (t != NULL) {
		rc = tr_walk(t->ve_left, cb, arg);
		if (rc != 0)
			return rc;
		rc = cb(arg, ve_off(t), ve_cnt(t));
		if (rc != 0)
			return rc;
		t = t->ve_right;
	}
	return 0;
}

int
vea_enumerate_free(struct vea_space_info *vsi, vea_extent_cb_t cb, void *arg)
{
	vea_settle_stale(vsi);
	return tr_walk(vsi->vsi_free, cb, arg);
}

struct vea_check_arg {
	struct vea_space_info *ca_vsi;
	uint64_t ca_end; /* end of the previous extent */
	uint64_t ca_nr;
	uint64_t ca_blks;
};

static int
vea_check_ext(void *arg, uint64_t off, uint64_t cnt)
{
	struct vea_check_arg *ca = arg;

	if (cnt == 0 || off < ca->ca_vsi->vsi_hdr || off + cnt > ca->ca_vsi->vsi_tot ||
	    (ca->ca_nr > 0 && off <= ca->ca_end)) {
		D_ERROR("free extent [%" PRIu64 ", +%" PRIu64
			") out of place (previous end %" PRIu64 ")\n",
			off, cnt, ca->ca_end);
		return -DER_INVAL;
	}
	if (vea_bits(ca->ca_vsi, off, cnt, VEA_BITS_ALL_CLEAR) != 0) {
		D_ERROR("free extent [%" PRIu64 ", +%" PRIu64 ") is allocated in the heap\n", off,
			cnt);
		return -DER_INVAL;
	}
	ca->ca_end = off + cnt;
	ca->ca_nr++;
	ca->ca_blks += cnt;
	return 0;
}

static bool
tr_max_ok(const struct vea_ext *t)
{
	uint64_t m;

	if (t == NULL)
		return true;
	m = ve_cnt(t);
	if (tr_max(t->ve_left) > m)
		m = tr_max(t->ve_left);
	if (tr_max(t->ve_right) > m)
		m = tr_max(t->ve_right);
	return t->ve_max == m && tr_max_ok(t->ve_left) && tr_max_ok(t->ve_right);
}

int
vea_check(struct vea_space_info *vsi)
{
	struct vea_check_arg ca = {.ca_vsi = vsi};
	uint64_t used = 0, aging = 0, nr = 0, lsn = 0, pg, w;
	struct vea_ext *e;
	int rc;

	D_ASSERT(!umem_tx_inprogress(vsi->vsi_umm));
	vea_settle_stale(vsi);
	rc = tr_walk(vsi->vsi_free, vea_check_ext, &ca);
	if (rc != 0)
		return rc;
	if (ca.ca_nr != vsi->vsi_frags || ca.ca_blks != vsi->vsi_free_blks ||
	    !tr_max_ok(vsi->vsi_free)) {
		D_ERROR("free tree: %" PRIu64 " extents of %" PRIu64 " blocks, counted %" PRIu64
			" of %" PRIu64 ", or a bad subtree maximum\n",
			ca.ca_nr, ca.ca_blks, vsi->vsi_frags, vsi->vsi_free_blks);
		return -DER_INVAL;
	}
	d_list_for_each_entry (e, &vsi->vsi_aging, ve_r.vre_link) {
		if (e->ve_lsn < lsn ||
		    vea_bits(vsi, ve_off(e), ve_cnt(e), VEA_BITS_ALL_CLEAR) != 0) {
			D_ERROR("aging extent [%" PRIu64 ", +%" PRIu64
				") out of order or allocated\n",
				ve_off(e), ve_cnt(e));
			return -DER_INVAL;
		}
		lsn = e->ve_lsn;
		aging += ve_cnt(e);
		nr++;
	}
	if (aging != vsi->vsi_aging_blks || nr != vsi->vsi_aging_frags) {
		D_ERROR("aging list: %" PRIu64 " extents of %" PRIu64 " blocks, counted %" PRIu64
			" of %" PRIu64 "\n",
			nr, aging, vsi->vsi_aging_frags, vsi->vsi_aging_blks);
		return -DER_INVAL;
	}
	for (pg = 0; pg < vsi->vsi_npages; pg++) {
		const uint64_t *page = vea_page(vsi, pg);

		for (w = 0; page != NULL && w < VEA_PAGE_WORDS; w++)
			used += (uint64_t)__builtin_popcountll(
			    page[w] & vea_valid_mask(vsi, pg * VEA_PAGE_BITS + w * 64));
	}
	if (used != vsi->vsi_used_blks ||
	    vsi->vsi_free_blks + vsi->vsi_resrv_blks + vsi->vsi_aging_blks + used !=
		vsi->vsi_tot - vsi->vsi_hdr) {
		D_ERROR("%" PRIu64 " blocks allocated in the heap, counted %" PRIu64
			"; free %" PRIu64 " reserved %" PRIu64 " aging %" PRIu64 " of %" PRIu64
			"\n",
			used, vsi->vsi_used_blks, vsi->vsi_free_blks, vsi->vsi_resrv_blks,
			vsi->vsi_aging_blks, vsi->vsi_tot - vsi->vsi_hdr);
		return -DER_INVAL;
	}
	return 0;
}
