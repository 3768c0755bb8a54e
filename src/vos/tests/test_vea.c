/*
 * test_vea.c: the versioned extent allocator of the data file.
 *
 * The central check is a model: one state per block (free, reserved, used, aging with its
 * LSN), updated by what each operation is supposed to do, and compared after every step with
 * what VEA reports and enumerates. Operations run inside and outside caller transactions,
 * nested, aborted, failed by injected allocation errors and interrupted by crashes (a replica
 * image built from the redo records, reloaded). A second crash test lets durability lag
 * behind commits and checks, through a simulated data file, that no block referenced by the
 * recovered index was ever overwritten.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/mman.h>
#include <time.h>

#include <gurt/common.h>
#include <daos_srv/umem.h>
#include <daos_srv/vea.h>
#include <d_test.h>

#include "vos_internal.h"

#define BLK 4096
#define NOBJ 128 /* objects of the crash test's index */
#define NUPD 6   /* outstanding updates (reservation lists) of the model test */
#define NHINT 3  /* I/O streams */

struct tobj {
	uint64_t to_off;
	uint64_t to_cnt; /* 0: empty slot */
	uint64_t to_tag;
};

/* The heap's root: the allocator root embedded in a parent, as a pool shard would. */
struct troot {
	uint64_t tr_pad;
	struct vea_space_df tr_vsd;
	struct tobj tr_obj[NOBJ];
};

/*
 * A WAL stand-in: records get LSNs at commit; they reach the replica image (the durable
 * state) at once, or, in lag mode, only when replica_flush says so. A crash loses the rest.
 */
struct rec {
	uint64_t lsn;
	uint32_t nr;
	uint64_t *off;
	uint32_t *len;
	char *data;
};

struct replica {
	char *image;
	size_t size;
	uint64_t lsn;
	uint64_t durable;
	bool lag;
	struct rec *q;
	int nq;
	int capq;
};

static void
rec_apply(struct replica *r, const struct rec *rec)
{
	uint64_t pos = 0;
	uint32_t i;

	for (i = 0; i < rec->nr; i++) {
		memcpy(r->image + rec->off[i], rec->data + pos, rec->len[i]);
		pos += rec->len[i];
	}
}

static int
replica_commit(void *arg, const struct umem_redo *redo, uint64_t *lsn)
{
	struct replica *r = arg;
	struct rec *rec;
	uint64_t pos = 0;
	uint32_t i;

	*lsn = ++r->lsn;
	if (!r->lag) {
		assert_int_equal(umem_redo_apply(r->image, r->size, redo), 0);
		r->durable = r->lsn;
		return 0;
	}
	if (r->nq == r->capq) {
		r->capq = r->capq == 0 ? 64 : r->capq * 2;
		r->q = realloc(r->q, sizeof(*r->q) * (size_t)r->capq);
	}
	rec = &r->q[r->nq++];
	rec->lsn = *lsn;
	rec->nr = redo->ur_nr;
	rec->off = malloc(sizeof(uint64_t) * redo->ur_nr);
	rec->len = malloc(sizeof(uint32_t) * redo->ur_nr);
	rec->data = malloc(redo->ur_bytes);
	for (i = 0; i < redo->ur_nr; i++) {
		rec->off[i] = redo->ur_ranges[i].rr_off;
		rec->len[i] = redo->ur_ranges[i].rr_len;
		memcpy(rec->data + pos, redo->ur_ranges[i].rr_data, redo->ur_ranges[i].rr_len);
		pos += redo->ur_ranges[i].rr_len;
	}
	return 0;
}

static const struct umem_store_ops replica_ops = {.so_commit = replica_commit};

static void
rec_free(struct rec *rec)
{
	free(rec->off);
	free(rec->len);
	free(rec->data);
}

/* Records up to @upto are durable: apply them to the image. */
static void
replica_flush(struct replica *r, uint64_t upto)
{
	int i, n = 0;

	for (i = 0; i < r->nq && r->q[i].lsn <= upto; i++) {
		rec_apply(r, &r->q[i]);
		rec_free(&r->q[i]);
		n++;
	}
	if (n > 0) {
		memmove(r->q, r->q + n, sizeof(*r->q) * (size_t)(r->nq - n));
		r->nq -= n;
	}
	if (upto > r->durable)
		r->durable = upto;
}

/* A crash: what is not durable is gone. */
static void
replica_drop(struct replica *r)
{
	int i;

	for (i = 0; i < r->nq; i++)
		rec_free(&r->q[i]);
	r->nq = 0;
}

struct env {
	struct replica rep;
	struct umem_instance *umm;
	struct troot *root;
	struct vea_space_info *vsi;
	uint64_t tot;
	uint64_t hdr;
};

static void
env_create(struct env *env, size_t heap, uint64_t tot, uint64_t hdr, bool lag)
{
	memset(env, 0, sizeof(*env));
	env->tot = tot;
	env->hdr = hdr;
	env->rep.lag = lag;
	env->rep.size = heap;
	assert_int_equal(
	    umem_create(heap, sizeof(struct troot), &replica_ops, &env->rep, &env->umm), 0);
	env->rep.image = malloc(heap);
	memcpy(env->rep.image, umem_base(env->umm), heap);
	env->root = umem_off2ptr(env->umm, umem_root(env->umm));
	assert_int_equal(vea_format(env->umm, &env->root->tr_vsd, BLK, hdr, tot), 0);
	replica_flush(&env->rep, env->rep.lsn);
	assert_int_equal(vea_load(env->umm, &env->root->tr_vsd, &env->vsi), 0);
}

static void
env_destroy(struct env *env)
{
	vea_unload(env->vsi);
	umem_close(env->umm);
	replica_drop(&env->rep);
	free(env->rep.q);
	free(env->rep.image);
}

/* Restart from the durable image: a new heap instance and a freshly loaded allocator. */
static void
env_reload(struct env *env)
{
	void *image;

	replica_drop(&env->rep);
	vea_unload(env->vsi);
	umem_close(env->umm);
	image =
	    mmap(NULL, env->rep.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(image != MAP_FAILED);
	memcpy(image, env->rep.image, env->rep.size);
	assert_int_equal(umem_open(image, env->rep.size, &replica_ops, &env->rep, &env->umm), 0);
	/* LSNs go on from the last one handed out, as a WAL's would */
	env->root = umem_off2ptr(env->umm, umem_root(env->umm));
	assert_int_equal(vea_load(env->umm, &env->root->tr_vsd, &env->vsi), 0);
}

/* Heap image with free space and the slack of our allocations zeroed. Caller frees. */
static char *
canon(struct env *env, const void *image)
{
	char *c = malloc(env->rep.size);
	const struct vea_space_df *vsd = (const void *)((const char *)image + umem_root(env->umm) +
							offsetof(struct troot, tr_vsd));
	size_t want = (env->tot + 32767) / 32768 * sizeof(umem_off_t);

	memcpy(c, image, env->rep.size);
	assert_int_equal(umem_image_zero_free(c, env->rep.size), 0);
	if (vsd->vsd_dir != UMOFF_NULL)
		memset(c + vsd->vsd_dir + want, 0, umem_alloc_size(env->umm, vsd->vsd_dir) - want);
	memset(c + umem_root(env->umm) + sizeof(struct troot), 0,
	       umem_alloc_size(env->umm, umem_root(env->umm)) - sizeof(struct troot));
	return c;
}

/* Every committed change reached the replica through a redo record (none in lag mode). */
static void
assert_replica_equal(struct env *env)
{
	char *a = canon(env, env->rep.image), *b = canon(env, umem_base(env->umm));

	assert_memory_equal(a, b, env->rep.size);
	free(a);
	free(b);
}

/*
 * The model.
 */
enum { M_FREE, M_RESV, M_USED, M_AGING, M_HDR };

struct uext {
	uint64_t off;
	uint64_t cnt;
};

struct model {
	uint64_t tot;
	uint64_t hdr;
	uint8_t *st;
	uint64_t *lsn;
	uint64_t cnt[M_HDR + 1]; /* blocks in each state */
	struct uext *used;       /* published extents, candidates for frees */
	int nused;
	int capused;
	d_list_t upd[NUPD];
	struct vea_hint_context hints[NHINT];
	uint64_t durable;
	bool faults; /* injected failures: allocation errors are expected */
	bool big;    /* large reservations (to spread over bitmap pages) */
	/* counters for the report */
	uint64_t n_resv, n_nospace, n_pub, n_abort, n_free, n_cancel, n_flush, n_crash;
};

static void
model_init(struct model *m, uint64_t tot, uint64_t hdr)
{
	int i;

	memset(m, 0, sizeof(*m));
	m->tot = tot;
	m->hdr = hdr;
	m->st = calloc(tot, 1);
	m->lsn = calloc(tot, sizeof(uint64_t));
	memset(m->st, M_HDR, hdr);
	m->cnt[M_FREE] = tot - hdr;
	m->cnt[M_HDR] = hdr;
	for (i = 0; i < NUPD; i++)
		D_INIT_LIST_HEAD(&m->upd[i]);
}

static void
model_fini(struct model *m)
{
	free(m->st);
	free(m->lsn);
	free(m->used);
}

static void
m_set(struct model *m, uint64_t off, uint64_t cnt, uint8_t st, uint64_t lsn)
{
	uint64_t b;

	for (b = off; b < off + cnt; b++) {
		m->cnt[m->st[b]]--;
		m->cnt[st]++;
		m->st[b] = st;
		m->lsn[b] = lsn;
	}
}

/* The first block at or after @b that is not free (the model's free state is 0). */
static uint64_t
m_run_end(struct model *m, uint64_t b)
{
	uint64_t w;

	while (b + 8 <= m->tot) {
		memcpy(&w, m->st + b, 8);
		if (w != 0)
			break;
		b += 8;
	}
	while (b < m->tot && m->st[b] == M_FREE)
		b++;
	return b;
}

static bool
m_all(struct model *m, uint64_t off, uint64_t cnt, uint8_t st)
{
	uint64_t b;

	for (b = off; b < off + cnt; b++)
		if (m->st[b] != st)
			return false;
	return true;
}

static void
m_used_add(struct model *m, uint64_t off, uint64_t cnt)
{
	if (m->nused == m->capused) {
		m->capused = m->capused == 0 ? 256 : m->capused * 2;
		m->used = realloc(m->used, sizeof(*m->used) * (size_t)m->capused);
	}
	m->used[m->nused++] = (struct uext){off, cnt};
}

/* Remove [off, off + cnt) from the published extent that contains it. */
static void
m_used_remove(struct model *m, uint64_t off, uint64_t cnt)
{
	int i;

	for (i = 0; i < m->nused; i++) {
		struct uext u = m->used[i];

		if (off >= u.off && off + cnt <= u.off + u.cnt) {
			m->used[i] = m->used[--m->nused];
			if (off > u.off)
				m_used_add(m, u.off, off - u.off);
			if (off + cnt < u.off + u.cnt)
				m_used_add(m, off + cnt, u.off + u.cnt - off - cnt);
			return;
		}
	}
	fail_msg("extent [%" PRIu64 ", +%" PRIu64 ") is not published", off, cnt);
}

/* Where the policy must put a reservation: hint, else address-ordered first fit. */
static uint64_t
m_expect(struct model *m, uint64_t cnt, const struct vea_hint_context *hint)
{
	uint64_t b, run = 0;

	if (hint != NULL && hint->vhc_off < m->tot && m->st[hint->vhc_off] == M_FREE &&
	    (hint->vhc_off == 0 || m->st[hint->vhc_off - 1] != M_FREE) &&
	    hint->vhc_off + cnt <= m->tot && m_all(m, hint->vhc_off, cnt, M_FREE))
		return hint->vhc_off;
	for (b = m->hdr; b < m->tot; b++) {
		run = m->st[b] == M_FREE ? run + 1 : 0;
		if (run == cnt) {
			/* the start of this run, which must be maximal on the left */
			return b + 1 - cnt;
		}
	}
	return UINT64_MAX;
}

static struct uext *ext_buf;
static int ext_nr;
static int ext_cap;

static int
collect_cb(void *arg, uint64_t off, uint64_t cnt)
{
	(void)arg;
	if (ext_nr == ext_cap) {
		ext_cap = ext_cap == 0 ? 1024 : ext_cap * 2;
		ext_buf = realloc(ext_buf, sizeof(*ext_buf) * (size_t)ext_cap);
	}
	ext_buf[ext_nr++] = (struct uext){off, cnt};
	return 0;
}

/* VEA's accounting and free extents equal the model's (free extents are maximal runs). */
static void
model_compare(struct env *env, struct model *m)
{
	const uint64_t *cnt = m->cnt;
	uint64_t b, largest = 0;
	struct vea_stat st;
	int i = 0;

	vea_query(env->vsi, &st);
	assert_int_equal(st.vs_tot_blks, m->tot);
	assert_int_equal(st.vs_hdr_blks, m->hdr);
	assert_int_equal(st.vs_free_blks, cnt[M_FREE]);
	assert_int_equal(st.vs_resrv_blks, cnt[M_RESV]);
	assert_int_equal(st.vs_used_blks, cnt[M_USED]);
	assert_int_equal(st.vs_aging_blks, cnt[M_AGING]);

	ext_nr = 0;
	assert_int_equal(vea_enumerate_free(env->vsi, collect_cb, NULL), 0);
	for (b = m->hdr; b < m->tot;) {
		const uint8_t *f = memchr(m->st + b, M_FREE, m->tot - b);
		uint64_t s;

		if (f == NULL)
			break;
		s = (uint64_t)(f - m->st);
		b = m_run_end(m, s);
		assert_true(i < ext_nr);
		if (ext_buf[i].off != s || ext_buf[i].cnt != b - s)
			fail_msg("free extent %d: vea [%" PRIu64 ", +%" PRIu64 "), model [%" PRIu64
				 ", +%" PRIu64 ")",
				 i, ext_buf[i].off, ext_buf[i].cnt, s, b - s);
		if (b - s > largest)
			largest = b - s;
		i++;
	}
	assert_int_equal(i, ext_nr);
	assert_int_equal(st.vs_frags, (uint64_t)ext_nr);
	assert_int_equal(st.vs_largest_blks, largest);
}

static uint64_t
rand_blocks(struct model *m, uint64_t *rs)
{
	uint64_t r = d_test_rand(rs) % 100;

	if (m->big)
		return 1000 + d_test_rand(rs) % 30000;
	if (r < 50)
		return 1 + d_test_rand(rs) % 8;
	if (r < 80)
		return 9 + d_test_rand(rs) % 248;
	if (r < 97)
		return 257 + d_test_rand(rs) % 3840;
	return 4097 + d_test_rand(rs) % 16000;
}

static bool
alloc_error(int rc)
{
	return rc == -DER_NOMEM || rc == -DER_NOSPACE;
}

/*
 * Operations: each does one thing through VEA and updates the model by what must have
 * happened. With m->faults, allocation errors are allowed and the model follows the
 * outcome the operation reports.
 */

static void
op_reserve(struct env *env, struct model *m, uint64_t *rs)
{
	d_list_t *list = &m->upd[d_test_rand(rs) % NUPD];
	struct vea_hint_context *hint = NULL;
	struct vea_resrvd_ext *vre;
	uint64_t n = rand_blocks(m, rs), expect, old_hint = 0;
	int rc;

	if (d_test_rand(rs) % 4 != 0) {
		hint = &m->hints[d_test_rand(rs) % NHINT];
		old_hint = hint->vhc_off;
	}
	expect = m_expect(m, n, hint);
	rc = vea_reserve(env->vsi, n, hint, list);
	if (m->faults && rc == -DER_NOMEM) {
		assert_true(hint == NULL || hint->vhc_off == old_hint);
		return;
	}
	if (expect == UINT64_MAX) {
		assert_int_equal(rc, -DER_NOSPACE);
		m->n_nospace++;
		return;
	}
	assert_int_equal(rc, 0);
	vre = d_list_last_entry(list, struct vea_resrvd_ext, vre_link);
	if (vre->vre_blk_off != expect || vre->vre_blk_cnt != n)
		fail_msg("reserved [%" PRIu64 ", +%" PRIu64 "), model expects [%" PRIu64
			 ", +%" PRIu64 ")",
			 vre->vre_blk_off, vre->vre_blk_cnt, expect, n);
	/* only free blocks are handed out: never used, reserved or aging ones */
	assert_true(m_all(m, expect, n, M_FREE));
	m_set(m, expect, n, M_RESV, 0);
	if (hint != NULL)
		assert_int_equal(hint->vhc_off, expect + n);
	m->n_resv++;
}

static int
list_copy(d_list_t *list, struct uext *out, int max)
{
	struct vea_resrvd_ext *vre;
	int n = 0;

	d_list_for_each_entry (vre, list, vre_link) {
		assert_true(n < max);
		out[n++] = (struct uext){vre->vre_blk_off, vre->vre_blk_cnt};
	}
	return n;
}

static d_list_t *
pick_update(struct model *m, uint64_t *rs)
{
	int i, start = (int)(d_test_rand(rs) % NUPD);

	for (i = 0; i < NUPD; i++) {
		d_list_t *l = &m->upd[(start + i) % NUPD];

		if (!d_list_empty(l))
			return l;
	}
	return NULL;
}

/* Pick a published extent, or part of one, to free. */
static bool
pick_free(struct model *m, uint64_t *rs, bool whole, struct uext *out)
{
	struct uext u;

	if (m->nused == 0)
		return false;
	u = m->used[d_test_rand(rs) % (uint64_t)m->nused];
	if (whole || u.cnt == 1 || d_test_rand(rs) % 3 != 0) {
		*out = u;
	} else {
		uint64_t a = d_test_rand(rs) % u.cnt;

		out->off = u.off + a;
		out->cnt = 1 + d_test_rand(rs) % (u.cnt - a);
	}
	return true;
}

/*
 * Publish an update, in a caller transaction (maybe nested, maybe with frees, maybe aborted)
 * or on its own.
 */
static void
op_publish(struct env *env, struct model *m, uint64_t *rs)
{
	d_list_t *list = pick_update(m, rs);
	struct uext ext[64], frees[4];
	int next, nfrees = 0, i, rc, trc;
	bool in_tx = d_test_rand(rs) % 5 != 0, nested = d_test_rand(rs) % 3 == 0;
	bool abort_it = d_test_rand(rs) % 6 == 0, self_free = d_test_rand(rs) % 10 == 0;
	uint64_t lsn;

	if (list == NULL)
		return;
	next = list_copy(list, ext, 64);
	if (!in_tx) {
		rc = vea_tx_publish(env->vsi, env->umm, list);
		assert_true(d_list_empty(list));
		if (!m->faults)
			assert_int_equal(rc, 0);
		trc = rc;
	} else {
		int nf = (int)(d_test_rand(rs) % 3), frc = 0;

		assert_int_equal(umem_tx_begin(env->umm), 0);
		if (nested)
			assert_int_equal(umem_tx_begin(env->umm), 0);
		rc = vea_tx_publish(env->vsi, env->umm, list);
		assert_true(d_list_empty(list));
		for (i = 0; i < nf; i++) {
			struct uext f;
			int j;
			bool dup = false;

			if (!pick_free(m, rs, true, &f))
				break;
			for (j = 0; j < nfrees; j++)
				dup |= frees[j].off == f.off;
			if (dup)
				continue;
			frees[nfrees++] = f;
			frc = vea_free(env->vsi, env->umm, f.off, f.cnt);
			if (!m->faults)
				assert_int_equal(frc, 0);
		}
		if (self_free) {
			/* free what this very transaction publishes */
			frc = vea_free(env->vsi, env->umm, ext[0].off, ext[0].cnt);
			if (!m->faults)
				assert_int_equal(frc, 0);
		}
		if (nested)
			rc = umem_tx_end(env->umm, rc);
		trc = umem_tx_end(env->umm, abort_it ? -DER_CANCELED : rc);
		vea_tx_end(env->vsi, umem_tx_last_lsn(env->umm));
		if (!m->faults)
			assert_int_equal(trc, abort_it ? -DER_CANCELED : 0);
		else
			assert_true(trc == 0 || trc == -DER_CANCELED || alloc_error(trc));
	}
	lsn = env->rep.lsn;
	if (trc != 0) {
		/* cancel semantics: the reservation is free again, the frees never happened */
		for (i = 0; i < next; i++)
			m_set(m, ext[i].off, ext[i].cnt, M_FREE, 0);
		m->n_abort++;
		return;
	}
	assert_int_equal(umem_tx_last_lsn(env->umm), lsn);
	for (i = 0; i < next; i++) {
		m_set(m, ext[i].off, ext[i].cnt, M_USED, 0);
		m_used_add(m, ext[i].off, ext[i].cnt);
	}
	for (i = 0; i < nfrees; i++) {
		m_set(m, frees[i].off, frees[i].cnt, M_AGING, lsn);
		m_used_remove(m, frees[i].off, frees[i].cnt);
	}
	if (in_tx && self_free) {
		m_set(m, ext[0].off, ext[0].cnt, M_AGING, lsn);
		m_used_remove(m, ext[0].off, ext[0].cnt);
	}
	m->n_pub++;
}

static void
op_cancel(struct env *env, struct model *m, uint64_t *rs)
{
	d_list_t *list = pick_update(m, rs);
	struct uext ext[64];
	int n, i;

	if (list == NULL)
		return;
	n = list_copy(list, ext, 64);
	vea_cancel(env->vsi, NULL, list);
	assert_true(d_list_empty(list));
	for (i = 0; i < n; i++)
		m_set(m, ext[i].off, ext[i].cnt, M_FREE, 0);
	m->n_cancel++;
}

/* A free on its own, or in a caller transaction that may abort. */
static void
op_free(struct env *env, struct model *m, uint64_t *rs)
{
	struct uext f;
	bool in_tx = d_test_rand(rs) % 4 == 0, abort_it = d_test_rand(rs) % 3 == 0;
	int rc;

	if (!pick_free(m, rs, false, &f))
		return;
	if (in_tx) {
		assert_int_equal(umem_tx_begin(env->umm), 0);
		rc = vea_free(env->vsi, env->umm, f.off, f.cnt);
		rc = umem_tx_end(env->umm, abort_it ? -DER_CANCELED : rc);
		vea_tx_end(env->vsi, umem_tx_last_lsn(env->umm));
	} else {
		abort_it = false;
		rc = vea_free(env->vsi, env->umm, f.off, f.cnt);
	}
	if (!m->faults)
		assert_int_equal(rc, abort_it ? -DER_CANCELED : 0);
	if (rc != 0) {
		assert_true(rc == -DER_CANCELED || alloc_error(rc));
		return;
	}
	/* the blocks age: not reusable before their LSN is durable */
	m_set(m, f.off, f.cnt, M_AGING, env->rep.lsn);
	m_used_remove(m, f.off, f.cnt);
	m->n_free++;
}

/* A free of blocks that are not all allocated (or not in the data area) is refused. */
static void
op_bad_free(struct env *env, struct model *m, uint64_t *rs)
{
	uint64_t b = d_test_rand(rs) % m->tot, n = 1 + d_test_rand(rs) % 4;
	int rc;

	if (b + n > m->tot)
		n = m->tot - b;
	if (m_all(m, b, n, M_USED))
		return;
	rc = vea_free(env->vsi, env->umm, b, n);
	if (!(m->faults && alloc_error(rc)))
		assert_int_equal(rc, -DER_INVAL);
}

static void
op_flush(struct env *env, struct model *m, uint64_t *rs)
{
	uint64_t d = m->durable + d_test_rand(rs) % (env->rep.lsn - m->durable + 1), b, n = 0;

	for (b = m->hdr; b < m->tot; b++) {
		if (m->st[b] == M_AGING && m->lsn[b] <= d) {
			m_set(m, b, 1, M_FREE, 0);
			n++;
		}
	}
	assert_int_equal(vea_flush(env->vsi, d), n);
	m->durable = d;
	m->n_flush++;
}

/*
 * Crash and reload from the replica, sometimes in the middle of a transaction that
 * publishes and frees (it never reaches the replica). Reserved and aging blocks come back
 * free; published ones stay allocated.
 */
static void
op_crash(struct env *env, struct model *m, uint64_t *rs)
{
	struct uext f;
	d_list_t *list;
	uint64_t b;
	int i;

	if (d_test_rand(rs) % 2 == 0 && (list = pick_update(m, rs)) != NULL) {
		assert_int_equal(umem_tx_begin(env->umm), 0);
		assert_int_equal(vea_tx_publish(env->vsi, env->umm, list), 0);
		if (pick_free(m, rs, false, &f))
			assert_int_equal(vea_free(env->vsi, env->umm, f.off, f.cnt), 0);
		/* the power fails here; the heap instance is thrown away */
		umem_tx_end(env->umm, -DER_CANCELED);
	}
	for (i = 0; i < NUPD; i++)
		vea_cancel(env->vsi, NULL, &m->upd[i]);
	env_reload(env);
	for (b = m->hdr; b < m->tot; b++)
		if (m->st[b] == M_RESV || m->st[b] == M_AGING)
			m_set(m, b, 1, M_FREE, 0);
	m->n_crash++;
}

static void
check_deep(struct env *env)
{
	assert_int_equal(vea_check(env->vsi), 0);
	if (!env->rep.lag)
		assert_replica_equal(env);
}

/* One random step. */
static void
model_step(struct env *env, struct model *m, uint64_t *rs, bool crashes)
{
	uint64_t r = d_test_rand(rs) % 1000;

	if (r < 330)
		op_reserve(env, m, rs);
	else if (r < 550)
		op_publish(env, m, rs);
	else if (r < 620)
		op_cancel(env, m, rs);
	else if (r < 820)
		op_free(env, m, rs);
	else if (r < 850)
		op_bad_free(env, m, rs);
	else if (r < 995 || !crashes)
		op_flush(env, m, rs);
	else
		op_crash(env, m, rs);
}

static void
model_drain(struct env *env, struct model *m)
{
	int i;

	for (i = 0; i < NUPD; i++) {
		struct uext ext[64];
		int n = list_copy(&m->upd[i], ext, 64), j;

		vea_cancel(env->vsi, NULL, &m->upd[i]);
		for (j = 0; j < n; j++)
			m_set(m, ext[j].off, ext[j].cnt, M_FREE, 0);
	}
}

static void
t_vea_model(void **state)
{
	unsigned int seed = d_test_seed("t_vea_model");
	uint64_t rs = d_test_rand_seed(seed);
	struct model m;
	struct env env;
	struct vea_stat st;
	int i;

	(void)state;
	/* two bitmap pages; the space runs full now and then */
	env_create(&env, 4UL << 20, 40000, 3, false);
	model_init(&m, env.tot, env.hdr);
	model_compare(&env, &m);
	for (i = 0; i < 6000; i++) {
		model_step(&env, &m, &rs, true);
		model_compare(&env, &m);
		if (i % 100 == 0)
			check_deep(&env);
	}
	check_deep(&env);
	vea_query(env.vsi, &st);
	printf("%" PRIu64 " reserves (%" PRIu64 " at the hint, %" PRIu64 " full), %" PRIu64
	       " publishes, %" PRIu64 " aborted, %" PRIu64 " frees, %" PRIu64 " cancels, %" PRIu64
	       " flushes, %" PRIu64 " crashes\n",
	       m.n_resv, st.vs_resrv_hint, m.n_nospace, m.n_pub, m.n_abort, m.n_free, m.n_cancel,
	       m.n_flush, m.n_crash);
	printf("end: %" PRIu64 " used, %" PRIu64 " free in %" PRIu64 " extents\n", st.vs_used_blks,
	       st.vs_free_blks, st.vs_frags);

	/* everything back: one free extent */
	model_drain(&env, &m);
	while (m.nused > 0) {
		assert_int_equal(vea_free(env.vsi, env.umm, m.used[0].off, m.used[0].cnt), 0);
		m_set(&m, m.used[0].off, m.used[0].cnt, M_AGING, env.rep.lsn);
		m_used_remove(&m, m.used[0].off, m.used[0].cnt);
	}
	model_compare(&env, &m);
	vea_flush(env.vsi, env.rep.lsn);
	vea_query(env.vsi, &st);
	assert_int_equal(st.vs_free_blks, env.tot - env.hdr);
	assert_int_equal(st.vs_frags, 1);
	check_deep(&env);
	model_fini(&m);
	env_destroy(&env);
}

/* Fill until -DER_NOSPACE, free everything: all the space comes back as one extent. */
static void
t_vea_fill(void **state)
{
	unsigned int seed = d_test_seed("t_vea_fill");
	uint64_t rs = d_test_rand_seed(seed), n, cap, off;
	struct vea_resrvd_ext *vre;
	struct uext *all;
	struct vea_stat st;
	struct env env;
	D_LIST_HEAD(list);
	D_LIST_HEAD(one);
	int nall = 0, i, rc;

	(void)state;
	env_create(&env, 8UL << 20, 40000, 1, false);
	cap = env.tot - env.hdr;
	all = calloc(cap, sizeof(*all));
	/* random sizes until refused, then single blocks take the crumbs */
	for (n = 1 + d_test_rand(&rs) % 64;; n = 1 + d_test_rand(&rs) % 64) {
		rc = vea_reserve(env.vsi, n, NULL, &list);
		if (rc == -DER_NOSPACE) {
			rc = vea_reserve(env.vsi, 1, NULL, &list);
			if (rc == -DER_NOSPACE)
				break;
		}
		assert_int_equal(rc, 0);
	}
	vea_query(env.vsi, &st);
	assert_int_equal(st.vs_free_blks, 0);
	assert_int_equal(st.vs_resrv_blks, cap);
	assert_int_equal(st.vs_frags, 0);
	assert_int_equal(st.vs_largest_blks, 0);
	d_list_for_each_entry (vre, &list, vre_link)
		all[nall++] = (struct uext){vre->vre_blk_off, vre->vre_blk_cnt};
	assert_int_equal(umem_tx_begin(env.umm), 0);
	assert_int_equal(vea_tx_publish(env.vsi, env.umm, &list), 0);
	assert_int_equal(umem_tx_end(env.umm, 0), 0);
	vea_tx_end(env.vsi, umem_tx_last_lsn(env.umm));
	vea_query(env.vsi, &st);
	assert_int_equal(st.vs_used_blks, cap);
	assert_int_equal(vea_reserve(env.vsi, 1, NULL, &one), -DER_NOSPACE);
	check_deep(&env);

	/* free in random order, several per transaction */
	for (i = nall - 1; i > 0; i--) {
		int j = (int)(d_test_rand(&rs) % (uint64_t)(i + 1));
		struct uext t = all[i];

		all[i] = all[j];
		all[j] = t;
	}
	for (i = 0; i < nall; i++) {
		if (i % 16 == 0)
			assert_int_equal(umem_tx_begin(env.umm), 0);
		assert_int_equal(vea_free(env.vsi, env.umm, all[i].off, all[i].cnt), 0);
		if (i % 16 == 15 || i == nall - 1) {
			assert_int_equal(umem_tx_end(env.umm, 0), 0);
			vea_tx_end(env.vsi, umem_tx_last_lsn(env.umm));
		}
	}
	/* freed, but not durable yet: nothing can be reserved */
	vea_query(env.vsi, &st);
	assert_int_equal(st.vs_aging_blks, cap);
	assert_int_equal(st.vs_used_blks, 0);
	assert_int_equal(vea_reserve(env.vsi, 1, NULL, &one), -DER_NOSPACE);
	assert_int_equal(vea_flush(env.vsi, env.rep.lsn - 1) < cap, true);
	assert_int_equal(vea_reserve(env.vsi, cap, NULL, &one), -DER_NOSPACE);
	vea_flush(env.vsi, env.rep.lsn);
	vea_query(env.vsi, &st);
	assert_int_equal(st.vs_free_blks, cap);
	assert_int_equal(st.vs_frags, 1);
	assert_int_equal(st.vs_largest_blks, cap);
	assert_int_equal(st.vs_aging_blks + st.vs_aging_frags, 0);
	/* the whole space in one reservation */
	assert_int_equal(vea_reserve(env.vsi, cap, NULL, &one), 0);
	off = d_list_first_entry(&one, struct vea_resrvd_ext, vre_link)->vre_blk_off;
	assert_int_equal(off, env.hdr);
	vea_cancel(env.vsi, NULL, &one);
	check_deep(&env);
	/* and after a restart */
	env_reload(&env);
	vea_query(env.vsi, &st);
	assert_int_equal(st.vs_free_blks, cap);
	assert_int_equal(st.vs_frags, 1);
	printf("%d extents filled %" PRIu64 " blocks\n", nall, cap);
	free(all);
	env_destroy(&env);
}

struct snap {
	char *heap;
	struct vea_stat st;
	struct uext *ext;
	int next;
};

static void
snap_take(struct env *env, struct snap *s)
{
	s->heap = canon(env, umem_base(env->umm));
	vea_query(env->vsi, &s->st);
	ext_nr = 0;
	assert_int_equal(vea_enumerate_free(env->vsi, collect_cb, NULL), 0);
	s->ext = malloc(sizeof(*s->ext) * (size_t)(ext_nr + 1));
	memcpy(s->ext, ext_buf, sizeof(*s->ext) * (size_t)ext_nr);
	s->next = ext_nr;
}

static void
snap_check(struct env *env, struct snap *s)
{
	char *heap = canon(env, umem_base(env->umm));
	struct vea_stat st;

	assert_memory_equal(heap, s->heap, env->rep.size);
	vea_query(env->vsi, &st);
	st.vs_resrv_hint = s->st.vs_resrv_hint;
	st.vs_resrv_fit = s->st.vs_resrv_fit;
	assert_memory_equal(&st, &s->st, sizeof(st));
	ext_nr = 0;
	assert_int_equal(vea_enumerate_free(env->vsi, collect_cb, NULL), 0);
	assert_int_equal(ext_nr, s->next);
	assert_memory_equal(ext_buf, s->ext, sizeof(*s->ext) * (size_t)ext_nr);
	free(heap);
	free(s->heap);
	free(s->ext);
}

static void
reserve_publish(struct env *env, uint64_t n, struct uext *out)
{
	D_LIST_HEAD(list);
	struct vea_resrvd_ext *vre;

	assert_int_equal(vea_reserve(env->vsi, n, NULL, &list), 0);
	vre = d_list_first_entry(&list, struct vea_resrvd_ext, vre_link);
	*out = (struct uext){vre->vre_blk_off, vre->vre_blk_cnt};
	assert_int_equal(vea_tx_publish(env->vsi, env->umm, &list), 0);
}

/*
 * An aborted transaction around publish and free leaves the heap and the allocator as they
 * were before the reservation: the reservation is cancelled, the frees never happened.
 */
static void
t_vea_abort(void **state)
{
	struct uext u1, u2, u3;
	struct vea_stat st;
	struct snap s;
	struct env env;
	D_LIST_HEAD(list);
	D_LIST_HEAD(list2);
	int rc;

	(void)state;
	/* 4 bitmap pages; the allocations below reach into pages not allocated yet */
	env_create(&env, 8UL << 20, 120000, 2, false);
	reserve_publish(&env, 100, &u1);
	reserve_publish(&env, 1000, &u2);
	reserve_publish(&env, 10, &u3);
	assert_int_equal(vea_free(env.vsi, env.umm, u3.off, u3.cnt), 0);
	vea_flush(env.vsi, env.rep.lsn);

	/* nested publish + frees in an outer transaction, which aborts */
	snap_take(&env, &s);
	assert_int_equal(vea_reserve(env.vsi, 40000, NULL, &list), 0);
	assert_int_equal(vea_reserve(env.vsi, 5, NULL, &list), 0);
	vea_query(env.vsi, &st);
	assert_int_equal(st.vs_resrv_blks, 40005);
	assert_int_equal(umem_tx_begin(env.umm), 0);
	assert_int_equal(umem_tx_begin(env.umm), 0);
	assert_int_equal(vea_tx_publish(env.vsi, env.umm, &list), 0);
	assert_int_equal(umem_tx_end(env.umm, 0), 0);
	assert_int_equal(vea_free(env.vsi, env.umm, u1.off, u1.cnt), 0);
	assert_int_equal(vea_free(env.vsi, env.umm, u2.off + 10, 20), 0);
	assert_int_equal(umem_tx_end(env.umm, -DER_CANCELED), -DER_CANCELED);
	vea_tx_end(env.vsi, 0);
	snap_check(&env, &s);

	/* the transaction is doomed by a failure after the publish (a heap allocation) */
	snap_take(&env, &s);
	assert_int_equal(vea_reserve(env.vsi, 70000, NULL, &list), 0);
	assert_int_equal(umem_tx_begin(env.umm), 0);
	assert_int_equal(vea_tx_publish(env.vsi, env.umm, &list), 0);
	assert_int_equal(vea_free(env.vsi, env.umm, u2.off, u2.cnt), 0);
	assert_int_equal(umem_alloc(env.umm, 64UL << 20), UMOFF_NULL);
	rc = umem_tx_end(env.umm, 0);
	assert_int_equal(rc, -DER_NOSPACE);
	vea_tx_end(env.vsi, umem_tx_last_lsn(env.umm));
	snap_check(&env, &s);

	/* a double free dooms the caller's transaction */
	snap_take(&env, &s);
	assert_int_equal(vea_reserve(env.vsi, 7, NULL, &list), 0);
	assert_int_equal(umem_tx_begin(env.umm), 0);
	assert_int_equal(vea_tx_publish(env.vsi, env.umm, &list), 0);
	assert_int_equal(vea_free(env.vsi, env.umm, u1.off, u1.cnt), 0);
	assert_int_equal(vea_free(env.vsi, env.umm, u1.off + 1, 1), -DER_INVAL);
	assert_int_equal(umem_tx_end(env.umm, 0), -DER_INVAL);
	vea_tx_end(env.vsi, 0);
	snap_check(&env, &s);

	/* a forgotten vea_tx_end after an abort is settled by the next call */
	snap_take(&env, &s);
	assert_int_equal(vea_reserve(env.vsi, 9, NULL, &list), 0);
	assert_int_equal(umem_tx_begin(env.umm), 0);
	assert_int_equal(vea_tx_publish(env.vsi, env.umm, &list), 0);
	assert_int_equal(umem_tx_end(env.umm, -DER_CANCELED), -DER_CANCELED);
	snap_check(&env, &s);
	/* ... and inside the next transaction too */
	snap_take(&env, &s);
	assert_int_equal(vea_reserve(env.vsi, 9, NULL, &list), 0);
	assert_int_equal(umem_tx_begin(env.umm), 0);
	assert_int_equal(vea_tx_publish(env.vsi, env.umm, &list), 0);
	assert_int_equal(umem_tx_end(env.umm, -DER_CANCELED), -DER_CANCELED);
	assert_int_equal(umem_tx_begin(env.umm), 0);
	assert_int_equal(vea_free(env.vsi, env.umm, u1.off, u1.cnt), 0);
	assert_int_equal(umem_tx_end(env.umm, -DER_CANCELED), -DER_CANCELED);
	vea_tx_end(env.vsi, 0);
	snap_check(&env, &s);

	/* ... where the next one commits: its publish and free must count, the first not */
	assert_int_equal(vea_reserve(env.vsi, 9, NULL, &list), 0);
	assert_int_equal(vea_reserve(env.vsi, 11, NULL, &list2), 0);
	u3 = (struct uext){d_list_first_entry(&list2, struct vea_resrvd_ext, vre_link)->vre_blk_off,
			   11};
	assert_int_equal(umem_tx_begin(env.umm), 0);
	assert_int_equal(vea_tx_publish(env.vsi, env.umm, &list), 0);
	assert_int_equal(umem_tx_end(env.umm, -DER_CANCELED), -DER_CANCELED);
	assert_int_equal(umem_tx_begin(env.umm), 0);
	assert_int_equal(vea_tx_publish(env.vsi, env.umm, &list2), 0);
	assert_int_equal(vea_free(env.vsi, env.umm, u1.off, 1), 0);
	assert_int_equal(umem_tx_end(env.umm, 0), 0);
	vea_tx_end(env.vsi, umem_tx_last_lsn(env.umm));
	vea_query(env.vsi, &st);
	assert_int_equal(st.vs_used_blks, 1000 + 100 - 1 + 11);
	assert_int_equal(st.vs_aging_blks, 1);
	assert_int_equal(st.vs_resrv_blks, 0);
	check_deep(&env);
	assert_int_equal(vea_free(env.vsi, env.umm, u3.off, u3.cnt), 0);
	assert_int_equal(vea_free(env.vsi, env.umm, u1.off + 1, u1.cnt - 1), 0);
	vea_flush(env.vsi, env.rep.lsn);

	/* the same work committed does take effect */
	assert_int_equal(vea_reserve(env.vsi, 40000, NULL, &list), 0);
	assert_int_equal(umem_tx_begin(env.umm), 0);
	assert_int_equal(vea_tx_publish(env.vsi, env.umm, &list), 0);
	assert_int_equal(vea_free(env.vsi, env.umm, u2.off, u2.cnt), 0);
	assert_int_equal(umem_tx_end(env.umm, 0), 0);
	vea_tx_end(env.vsi, umem_tx_last_lsn(env.umm));
	vea_query(env.vsi, &st);
	assert_int_equal(st.vs_used_blks, 40000);
	assert_int_equal(st.vs_aging_blks, 1000);
	assert_int_equal(st.vs_resrv_blks, 0);
	check_deep(&env);
	env_destroy(&env);
}

/* The hint keeps a stream contiguous; cancel walks it back; a miss falls back to first fit. */
static void
t_vea_hint(void **state)
{
	struct vea_hint_context a = {0}, b = {0};
	struct vea_resrvd_ext *vre;
	struct vea_stat st;
	struct env env;
	D_LIST_HEAD(la);
	D_LIST_HEAD(lb);
	uint64_t next;
	int i;

	(void)state;
	env_create(&env, 4UL << 20, 10000, 4, false);
	/* a stream's reservations follow each other */
	assert_int_equal(vea_reserve(env.vsi, 8, &a, &la), 0);
	next = a.vhc_off;
	assert_int_equal(next, 12);
	for (i = 0; i < 10; i++) {
		assert_int_equal(vea_reserve(env.vsi, 3, &a, &la), 0);
		vre = d_list_last_entry(&la, struct vea_resrvd_ext, vre_link);
		assert_int_equal(vre->vre_blk_off, next);
		next += 3;
		assert_int_equal(a.vhc_off, next);
	}
	/* another stream misses its hint and takes the blocks after the first one */
	b.vhc_off = 9999; /* not the start of a free extent */
	assert_int_equal(vea_reserve(env.vsi, 5, &b, &lb), 0);
	vre = d_list_last_entry(&lb, struct vea_resrvd_ext, vre_link);
	assert_int_equal(vre->vre_blk_off, next);
	assert_int_equal(b.vhc_off, next + 5);
	/* cancelling the stream's run of reservations walks its hint back to the start */
	vea_cancel(env.vsi, &a, &la);
	assert_int_equal(a.vhc_off, 4);
	vea_query(env.vsi, &st);
	assert_int_equal(st.vs_resrv_hint, 10);
	assert_int_equal(st.vs_resrv_fit, 2);
	assert_int_equal(st.vs_frags, 2);
	/* the cancelled space is taken again at the hint */
	assert_int_equal(vea_reserve(env.vsi, 2, &a, &la), 0);
	vre = d_list_last_entry(&la, struct vea_resrvd_ext, vre_link);
	assert_int_equal(vre->vre_blk_off, 4);
	/* the extent at the hint is too small: first fit, after the other stream */
	assert_int_equal(vea_reserve(env.vsi, 1000, &a, &la), 0);
	vre = d_list_last_entry(&la, struct vea_resrvd_ext, vre_link);
	assert_int_equal(vre->vre_blk_off, next + 5);
	vea_query(env.vsi, &st);
	assert_int_equal(st.vs_resrv_hint, 11);
	assert_int_equal(st.vs_resrv_fit, 3);
	vea_cancel(env.vsi, NULL, &la);
	vea_cancel(env.vsi, NULL, &lb);
	vea_query(env.vsi, &st);
	assert_int_equal(st.vs_frags, 1);
	assert_int_equal(st.vs_free_blks, 10000 - 4);
	env_destroy(&env);
}

static void
t_vea_bad_args(void **state)
{
	struct vea_space_df stack_vsd = {0}, saved;
	struct vea_space_info *vsi;
	umem_off_t *dir;
	struct env env;
	D_LIST_HEAD(list);
	struct uext u;

	(void)state;
	env_create(&env, 4UL << 20, 70000, 2, false);
	/* format */
	assert_int_equal(vea_format(env.umm, &env.root->tr_vsd, BLK, 2, 70000), -DER_EXIST);
	assert_int_equal(vea_format(env.umm, &stack_vsd, BLK, 0, 100), -DER_INVAL);
	{
		struct vea_space_df *vsd = &env.root->tr_vsd;

		saved = *vsd;
		memset(vsd, 0, sizeof(*vsd));
		assert_int_equal(vea_format(env.umm, vsd, 3000, 0, 100), -DER_INVAL);
		assert_int_equal(vea_format(env.umm, vsd, 256, 0, 100), -DER_INVAL);
		assert_int_equal(vea_format(env.umm, vsd, BLK, 0, 0), -DER_INVAL);
		assert_int_equal(vea_format(env.umm, vsd, BLK, 100, 100), -DER_INVAL);
		assert_int_equal(vea_format(env.umm, vsd, BLK, 0, 1ULL << 41), -DER_INVAL);
		/* not formatted, then damaged roots */
		assert_int_equal(vea_load(env.umm, vsd, &vsi), -DER_NONEXIST);
		assert_int_equal(vea_load(env.umm, &stack_vsd, &vsi), -DER_INVAL);
		*vsd = saved;
		vsd->vsd_magic ^= 1;
		assert_int_equal(vea_load(env.umm, vsd, &vsi), -DER_INVAL);
		*vsd = saved;
		vsd->vsd_version = 2;
		assert_int_equal(vea_load(env.umm, vsd, &vsi), -DER_INVAL);
		*vsd = saved;
		vsd->vsd_tot_blks = 1ULL << 50;
		assert_int_equal(vea_load(env.umm, vsd, &vsi), -DER_INVAL);
		*vsd = saved;
		vsd->vsd_tot_blks = 70000 * 4; /* a directory too small for it */
		assert_int_equal(vea_load(env.umm, vsd, &vsi), -DER_INVAL);
		*vsd = saved;
		vsd->vsd_dir += 8;
		assert_int_equal(vea_load(env.umm, vsd, &vsi), -DER_INVAL);
		*vsd = saved;
		dir = umem_off2ptr(env.umm, vsd->vsd_dir);
		dir[1] = umem_root(env.umm) + 8;
		assert_int_equal(vea_load(env.umm, vsd, &vsi), -DER_INVAL);
		dir[1] = UMOFF_NULL;
		*vsd = saved;
	}
	/* reserve and free */
	assert_int_equal(vea_reserve(env.vsi, 0, NULL, &list), -DER_INVAL);
	assert_int_equal(vea_reserve(env.vsi, 70000, NULL, &list), -DER_NOSPACE);
	assert_int_equal(vea_reserve(env.vsi, 70000 - 2, NULL, &list), 0);
	vea_cancel(env.vsi, NULL, &list);
	reserve_publish(&env, 10, &u);
	assert_int_equal(vea_free(env.vsi, env.umm, u.off, 0), -DER_INVAL);
	assert_int_equal(vea_free(env.vsi, env.umm, 1, 1), -DER_INVAL);
	assert_int_equal(vea_free(env.vsi, env.umm, 69999, 2), -DER_INVAL);
	assert_int_equal(vea_free(env.vsi, env.umm, 70000, 1), -DER_INVAL);
	assert_int_equal(vea_free(env.vsi, env.umm, u.off, UINT64_MAX), -DER_INVAL);
	assert_int_equal(vea_free(env.vsi, env.umm, u.off + 5, 6), -DER_INVAL);
	assert_int_equal(vea_free(env.vsi, env.umm, 40000, 1), -DER_INVAL);
	assert_int_equal(vea_free(env.vsi, env.umm, u.off + 5, 5), 0);
	assert_int_equal(vea_free(env.vsi, env.umm, u.off + 5, 1), -DER_INVAL);
	/* an empty publish is nothing */
	assert_int_equal(vea_tx_publish(env.vsi, env.umm, &list), 0);
	check_deep(&env);
	vea_unload(NULL);
	env_destroy(&env);
}

/*
 * Crash with durability lagging behind commits. A simulated data file records which object
 * last wrote each block; objects live in an index in the heap. After any crash, every
 * object the recovered index holds must still find its own data: a block freed by a
 * transaction that was not durable must never have been handed out again.
 */
static void
crash_verify(struct env *env, const uint64_t *tags)
{
	uint8_t *owned = calloc(env->tot, 1);
	uint64_t used = 0, b;
	struct vea_stat st;
	int i;

	for (i = 0; i < NOBJ; i++) {
		struct tobj *o = &env->root->tr_obj[i];

		for (b = o->to_off; b < o->to_off + o->to_cnt; b++) {
			if (tags[b] != o->to_tag)
				fail_msg("object %d [%" PRIu64 ", +%" PRIu64 ") lost block %" PRIu64
					 " to tag %" PRIu64,
					 i, o->to_off, o->to_cnt, b, tags[b]);
			assert_int_equal(owned[b], 0);
			owned[b] = 1;
		}
		used += o->to_cnt;
	}
	assert_int_equal(vea_check(env->vsi), 0);
	vea_query(env->vsi, &st);
	assert_int_equal(st.vs_used_blks, used);
	assert_int_equal(st.vs_free_blks, env->tot - env->hdr - used);
	ext_nr = 0;
	assert_int_equal(vea_enumerate_free(env->vsi, collect_cb, NULL), 0);
	for (i = 0; i < ext_nr; i++)
		for (b = ext_buf[i].off; b < ext_buf[i].off + ext_buf[i].cnt; b++)
			assert_int_equal(owned[b], 0);
	free(owned);
}

static int
obj_pick(struct env *env, uint64_t *rs, bool empty)
{
	int i, start = (int)(d_test_rand(rs) % NOBJ);

	for (i = 0; i < NOBJ; i++) {
		int k = (start + i) % NOBJ;

		if ((env->root->tr_obj[k].to_cnt == 0) == empty)
			return k;
	}
	return -1;
}

static void
obj_delete(struct env *env, int k)
{
	struct tobj *o = &env->root->tr_obj[k];

	assert_int_equal(vea_free(env->vsi, env->umm, o->to_off, o->to_cnt), 0);
	assert_int_equal(umem_tx_add_ptr(env->umm, o, sizeof(*o)), 0);
	memset(o, 0, sizeof(*o));
}

static void
t_vea_crash_wal(void **state)
{
	unsigned int seed = d_test_seed("t_vea_crash_wal");
	uint64_t rs = d_test_rand_seed(seed), tagseq = 0, *tags, b;
	struct vea_hint_context hints[NHINT] = {0};
	struct model dummy = {0};
	struct env env;
	int i, crashes = 0, writes = 0, deletes = 0;

	(void)state;
	env_create(&env, 8UL << 20, 40000, 2, true);
	tags = calloc(env.tot, sizeof(uint64_t));
	for (i = 0; i < 5000; i++) {
		uint64_t r = d_test_rand(&rs) % 100;

		if (r < 45) {
			D_LIST_HEAD(list);
			struct vea_resrvd_ext *vre;
			uint64_t n = rand_blocks(&dummy, &rs), tag = ++tagseq;
			int k = obj_pick(&env, &rs, true), victim = obj_pick(&env, &rs, false);

			if (vea_reserve(env.vsi, n, &hints[d_test_rand(&rs) % NHINT], &list) != 0)
				continue;
			/* the data lands before the transaction that references it */
			vre = d_list_first_entry(&list, struct vea_resrvd_ext, vre_link);
			for (b = vre->vre_blk_off; b < vre->vre_blk_off + vre->vre_blk_cnt; b++)
				tags[b] = tag;
			if (k < 0 || d_test_rand(&rs) % 10 == 0) {
				vea_cancel(env.vsi, NULL, &list);
				continue;
			}
			assert_int_equal(umem_tx_begin(env.umm), 0);
			assert_int_equal(
			    umem_tx_add_ptr(env.umm, &env.root->tr_obj[k], sizeof(struct tobj)), 0);
			env.root->tr_obj[k] =
			    (struct tobj){vre->vre_blk_off, vre->vre_blk_cnt, tag};
			assert_int_equal(vea_tx_publish(env.vsi, env.umm, &list), 0);
			if (victim >= 0 && d_test_rand(&rs) % 3 == 0)
				obj_delete(&env, victim); /* an overwrite */
			assert_int_equal(umem_tx_end(env.umm, 0), 0);
			vea_tx_end(env.vsi, umem_tx_last_lsn(env.umm));
			writes++;
		} else if (r < 75) {
			int k = obj_pick(&env, &rs, false);

			if (k < 0)
				continue;
			assert_int_equal(umem_tx_begin(env.umm), 0);
			obj_delete(&env, k);
			assert_int_equal(umem_tx_end(env.umm, 0), 0);
			vea_tx_end(env.vsi, umem_tx_last_lsn(env.umm));
			deletes++;
		} else if (r < 97) {
			/* the WAL catches up part of the way */
			uint64_t d = env.rep.durable +
				     d_test_rand(&rs) % (env.rep.lsn - env.rep.durable + 1);

			replica_flush(&env.rep, d);
			vea_flush(env.vsi, d);
		} else {
			env_reload(&env);
			crash_verify(&env, tags);
			crashes++;
		}
	}
	replica_flush(&env.rep, env.rep.lsn);
	env_reload(&env);
	crash_verify(&env, tags);
	printf("%d writes, %d deletes, %d crashes\n", writes, deletes, crashes);
	free(tags);
	env_destroy(&env);
}

/*
 * Fail the Nth allocation (heap or volatile) of a short workload, for every N until a run
 * sees no failure: each failure is a clean error, after which the model, the heap's redo
 * records and a reload all agree.
 */
static void
fault_run(uint32_t id, const char *name)
{
	int nth, failures = 0;

	for (nth = 1; nth < 5000; nth++) {
		struct d_fault_attr fa = {
		    .fa_id = id, .fa_interval = (uint32_t)nth, .fa_max_faults = 1};
		struct d_fault_attr after;
		uint64_t rs = d_test_rand_seed(42);
		struct model m;
		struct env env;
		int i, rc;

		memset(&env, 0, sizeof(env));
		env.tot = 110000;
		env.hdr = 1;
		env.rep.size = UMEM_HEAP_MIN * 2;
		assert_int_equal(umem_create(env.rep.size, sizeof(struct troot), &replica_ops,
					     &env.rep, &env.umm),
				 0);
		env.rep.image = malloc(env.rep.size);
		memcpy(env.rep.image, umem_base(env.umm), env.rep.size);
		env.root = umem_off2ptr(env.umm, umem_root(env.umm));
		d_fault_attr_set(&fa);

		rc = vea_format(env.umm, &env.root->tr_vsd, BLK, env.hdr, env.tot);
		if (rc != 0) {
			assert_true(alloc_error(rc));
			assert_int_equal(env.root->tr_vsd.vsd_magic, 0);
			d_fault_attr_clear(id);
			assert_replica_equal(&env);
			umem_close(env.umm);
			free(env.rep.image);
			failures++;
			continue;
		}
		rc = vea_load(env.umm, &env.root->tr_vsd, &env.vsi);
		if (rc != 0) {
			assert_int_equal(rc, -DER_NOMEM);
			d_fault_attr_clear(id);
			assert_int_equal(vea_load(env.umm, &env.root->tr_vsd, &env.vsi), 0);
			env_destroy(&env);
			failures++;
			continue;
		}
		model_init(&m, env.tot, env.hdr);
		m.faults = true;
		m.big = true;
		for (i = 0; i < 40; i++)
			model_step(&env, &m, &rs, false);
		assert_int_equal(d_fault_attr_get(id, &after), 0);
		d_fault_attr_clear(id);
		m.faults = false;
		model_compare(&env, &m);
		check_deep(&env);
		model_drain(&env, &m);
		env_reload(&env);
		for (i = 0; i < (int)m.tot; i++)
			if (m.st[i] == M_AGING)
				m_set(&m, (uint64_t)i, 1, M_FREE, 0);
		model_compare(&env, &m);
		model_fini(&m);
		env_destroy(&env);
		if (after.fa_num_faults == 0)
			break;
		failures++;
	}
	printf("%s: %d allocation sites failed in turn\n", name, failures);
	assert_true(nth < 5000);
	assert_true(failures >= 3);
}

static void
t_vea_fault_umem(void **state)
{
	(void)state;
	fault_run(D_FI_UMEM_ALLOC, "heap allocations");
}

static void
t_vea_fault_alloc(void **state)
{
	(void)state;
	fault_run(D_FI_ALLOC, "volatile allocations");
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Informational: reserve + publish (one transaction each), then free, per second. */
static void
t_vea_rate(void **state)
{
	const int n = 100000;
	struct vea_hint_context hint = {0};
	struct uext *ext = calloc((size_t)n, sizeof(*ext));
	uint64_t rs = d_test_rand_seed(7);
	struct vea_stat st;
	struct env env;
	double t0, t1, t2;
	int i;

	(void)state;
	env_create(&env, 8UL << 20, 1ULL << 20, 1, false);
	t0 = now();
	for (i = 0; i < n; i++) {
		D_LIST_HEAD(list);
		struct vea_resrvd_ext *vre;

		assert_int_equal(vea_reserve(env.vsi, 1 + d_test_rand(&rs) % 8,
					     i % 4 == 0 ? NULL : &hint, &list),
				 0);
		vre = d_list_first_entry(&list, struct vea_resrvd_ext, vre_link);
		ext[i] = (struct uext){vre->vre_blk_off, vre->vre_blk_cnt};
		umem_tx_begin(env.umm);
		assert_int_equal(vea_tx_publish(env.vsi, env.umm, &list), 0);
		assert_int_equal(umem_tx_end(env.umm, 0), 0);
		vea_tx_end(env.vsi, umem_tx_last_lsn(env.umm));
	}
	t1 = now();
	for (i = 0; i < n; i += 2)
		assert_int_equal(vea_free(env.vsi, env.umm, ext[i].off, ext[i].cnt), 0);
	vea_flush(env.vsi, env.rep.lsn);
	t2 = now();
	vea_query(env.vsi, &st);
	printf("reserve+publish: %.0f ops/s (%.2f us each); free+flush: %.0f ops/s; %" PRIu64
	       " free extents\n",
	       n / (t1 - t0), (t1 - t0) * 1e6 / n, (n / 2) / (t2 - t1), st.vs_frags);
	check_deep(&env);
	free(ext);
	env_destroy(&env);
}

/* An argument runs only the tests whose names match it (a cmocka pattern, e.g. "*crash*"). */
int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_vea_model),      cmocka_unit_test(t_vea_fill),
	    cmocka_unit_test(t_vea_abort),      cmocka_unit_test(t_vea_hint),
	    cmocka_unit_test(t_vea_bad_args),   cmocka_unit_test(t_vea_crash_wal),
	    cmocka_unit_test(t_vea_fault_umem), cmocka_unit_test(t_vea_fault_alloc),
	    cmocka_unit_test(t_vea_rate),
	};
	int rc;

	d_log_setmasks("CRIT");
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	rc = cmocka_run_group_tests_name("vos_vea", tests, NULL, NULL);
	free(ext_buf);
	return rc;
}
