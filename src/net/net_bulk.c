/*
 * net_bulk.c: bulk transfers by RMA. The client registers its buffers (net_bulk_create) and
 * its requests carry {address, length, key} per buffer; the server reads (fi_read) or writes
 * (fi_write) them directly between the client's memory and its own local buffers, in pieces
 * of at most NET_RMA_CHUNK with up to NET_BULK_WINDOW in flight per transfer. Both MR modes
 * are handled: offsets with caller-chosen keys (tcp) and virtual addresses (shm).
 */
#define D_LOGFAC net

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "net_internal.h"

int
net_bulk_create(struct net_context *ctx, const d_sg_list_t *sgl, uint32_t perm,
		struct net_bulk **bulkp)
{
	struct net_bulk *bulk;
	uint64_t access = 0;
	uint32_t i;
	int rc;

	if (ctx == NULL || sgl == NULL || bulkp == NULL || sgl->sg_nr == 0 ||
	    sgl->sg_nr > NET_BULK_SEG_MAX || sgl->sg_iovs == NULL || perm == 0 ||
	    (perm & ~(NET_BULK_READ | NET_BULK_WRITE)) != 0)
		return -DER_INVAL;
	if (perm & NET_BULK_READ)
		access |= FI_REMOTE_READ;
	if (perm & NET_BULK_WRITE)
		access |= FI_REMOTE_WRITE;
	D_ALLOC_PTR(bulk);
	if (bulk == NULL)
		return -DER_NOMEM;
	D_ALLOC_ARRAY(bulk->b_mrs, sgl->sg_nr);
	D_ALLOC_ARRAY(bulk->b_segs, sgl->sg_nr);
	if (bulk->b_mrs == NULL || bulk->b_segs == NULL) {
		rc = -DER_NOMEM;
		goto out_free;
	}
	bulk->b_ctx = ctx;
	bulk->b_perm = perm;
	for (i = 0; i < sgl->sg_nr; i++) {
		const d_iov_t *iov = &sgl->sg_iovs[i];

		bulk->b_segs[i].bs_len = iov->iov_buf_len;
		bulk->b_len += iov->iov_buf_len;
		if (iov->iov_buf_len == 0)
			continue;
		if (iov->iov_buf == NULL) {
			rc = -DER_INVAL;
			goto out_close;
		}
		rc = net_fab_mr_reg(&ctx->c_fab, iov->iov_buf, iov->iov_buf_len, access,
				    &bulk->b_mrs[i], &bulk->b_segs[i].bs_key,
				    &bulk->b_segs[i].bs_addr);
		if (rc != 0)
			goto out_close;
		bulk->b_nr = i + 1;
	}
	bulk->b_nr = sgl->sg_nr;
	d_list_add_tail(&bulk->b_link, &ctx->c_bulks);
	ctx->c_stats.ns_bulks++;
	ctx->c_stats.ns_bulk_bytes += bulk->b_len;
	*bulkp = bulk;
	return 0;
out_close:
	for (i = 0; i < sgl->sg_nr; i++)
		if (bulk->b_mrs[i] != NULL)
			fi_close(&bulk->b_mrs[i]->fid);
out_free:
	D_FREE(bulk->b_mrs);
	D_FREE(bulk->b_segs);
	D_FREE(bulk);
	return rc;
}

static void
net_bulk_free(struct net_bulk *bulk)
{
	uint32_t i;

	/* its copy on the shm context's fallback, or, of a copy, its original (net_alt.c) */
	if (bulk->b_alt != NULL)
		net_bulk_free(bulk->b_alt);
	if (bulk->b_parent != NULL)
		bulk->b_parent->b_alt = NULL;
	for (i = 0; i < bulk->b_nr; i++)
		if (bulk->b_mrs[i] != NULL)
			fi_close(&bulk->b_mrs[i]->fid);
	d_list_del(&bulk->b_link);
	bulk->b_ctx->c_stats.ns_bulks--;
	bulk->b_ctx->c_stats.ns_bulk_bytes -= bulk->b_len;
	D_FREE(bulk->b_mrs);
	D_FREE(bulk->b_segs);
	D_FREE(bulk);
}

void
net_bulk_destroy(struct net_bulk *bulk)
{
	if (bulk != NULL)
		net_bulk_free(bulk);
}

uint64_t
net_bulk_len(const struct net_bulk *bulk)
{
	return bulk->b_len;
}

/* The transfer is over (every piece completed, or failed with none in flight). */
static void
net_bulk_op_complete(struct net_context *ctx, struct net_bulk_op *bop)
{
	D_ASSERT(bop->bo_inflight == 0);
	d_list_del_init(&bop->bo_link);
	d_list_del(&bop->bo_all);
	bop->bo_req->q_bulk_inflight--;
	ctx->c_stats.ns_bulk_ops--;
	if (bop->bo_rc == 0 && bop->bo_left != 0)
		bop->bo_rc = -DER_CANCELED;
	bop->bo_cb(bop->bo_rc, bop->bo_arg);
	D_FREE(bop);
}

/* Post pieces while there is room. Returns true if the provider had no room (-FI_EAGAIN). */
static bool
net_bulk_op_issue(struct net_context *ctx, struct net_bulk_op *bop)
{
	struct net_fab *fab = &ctx->c_fab;
	bool again = false;

	while (bop->bo_left > 0 && bop->bo_rc == 0 && bop->bo_free != NULL) {
		const struct net_bulk_seg *seg = &bop->bo_segs[bop->bo_seg];
		const d_iov_t *iov = &bop->bo_iovs[bop->bo_iov];
		struct net_rma_piece *piece = bop->bo_free;
		uint64_t n = bop->bo_left;
		char *buf;
		ssize_t rc;

		if (bop->bo_seg_off == seg->bs_len) {
			bop->bo_seg++;
			bop->bo_seg_off = 0;
			continue;
		}
		if (bop->bo_iov_off == iov->iov_len) {
			bop->bo_iov++;
			bop->bo_iov_off = 0;
			continue;
		}
		if (n > seg->bs_len - bop->bo_seg_off)
			n = seg->bs_len - bop->bo_seg_off;
		if (n > iov->iov_len - bop->bo_iov_off)
			n = iov->iov_len - bop->bo_iov_off;
		if (n > NET_RMA_CHUNK)
			n = NET_RMA_CHUNK;
		if (n > fab->nf_rma_max)
			n = fab->nf_rma_max;
		buf = (char *)iov->iov_buf + bop->bo_iov_off;
		if (bop->bo_put)
			rc = fi_write(fab->nf_ep, buf, n, NULL, bop->bo_req->q_src,
				      seg->bs_addr + bop->bo_seg_off, seg->bs_key,
				      &piece->p_op.no_fictx);
		else
			rc = fi_read(fab->nf_ep, buf, n, NULL, bop->bo_req->q_src,
				     seg->bs_addr + bop->bo_seg_off, seg->bs_key,
				     &piece->p_op.no_fictx);
		if (rc == -FI_EAGAIN) {
			ctx->c_stats.ns_eagain++;
			again = true;
			break;
		}
		if (rc != 0) {
			D_ERROR_RL("%s: fi_%s of %" PRIu64 " bytes failed: %s\n", fab->nf_straddr,
				   bop->bo_put ? "write" : "read", n, fi_strerror((int)-rc));
			bop->bo_rc = net_fi2der((int)rc);
			break;
		}
		bop->bo_free = piece->p_next_free;
		bop->bo_inflight++;
		bop->bo_seg_off += n;
		bop->bo_iov_off += n;
		bop->bo_left -= n;
	}
	d_list_del_init(&bop->bo_link);
	if (again)
		d_list_add_tail(&bop->bo_link, &ctx->c_bulk_pending);
	else if (bop->bo_inflight == 0 && (bop->bo_left == 0 || bop->bo_rc != 0))
		d_list_add_tail(&bop->bo_link, &ctx->c_bulk_done);
	return again;
}

void
net_rma_done(struct net_context *ctx, struct net_rma_piece *piece, int rc)
{
	struct net_bulk_op *bop = piece->p_bop;

	D_ASSERT(bop->bo_inflight > 0);
	bop->bo_inflight--;
	piece->p_next_free = bop->bo_free;
	bop->bo_free = piece;
	if (rc != 0 && bop->bo_rc == 0) {
		D_DEBUG("%s: RMA failed: " DF_RC "\n", ctx->c_fab.nf_straddr, DP_RC(rc));
		bop->bo_rc = rc;
	}
	if (bop->bo_rc == 0 && bop->bo_left > 0 && d_list_empty(&bop->bo_link))
		net_bulk_op_issue(ctx, bop);
	if (bop->bo_inflight == 0 && (bop->bo_left == 0 || bop->bo_rc != 0))
		net_bulk_op_complete(ctx, bop);
}

int
net_bulk_pending_run(struct net_context *ctx)
{
	struct net_bulk_op *bop;
	int n = 0;

	while ((bop = d_list_first_entry_or_null(&ctx->c_bulk_pending, struct net_bulk_op,
						 bo_link)) != NULL) {
		uint32_t before = bop->bo_inflight;

		if (net_bulk_op_issue(ctx, bop))
			break;
		n += bop->bo_inflight > before ? 1 : 0;
	}
	return n;
}

int
net_bulk_done_run(struct net_context *ctx)
{
	struct net_bulk_op *bop;
	int n = 0;

	while ((bop = d_list_first_entry_or_null(&ctx->c_bulk_done, struct net_bulk_op, bo_link)) !=
	       NULL) {
		net_bulk_op_complete(ctx, bop);
		n++;
	}
	return n;
}

static int
net_bulk_xfer(struct net_req *req, uint64_t remote_off, const d_sg_list_t *local, uint64_t len,
	      net_bulk_cb_t cb, void *arg, bool put)
{
	struct net_context *ctx;
	struct net_bulk_op *bop;
	uint64_t local_len = 0;
	uint32_t nseg;
	uint32_t i;
	int rc;

	if (req == NULL || local == NULL || cb == NULL ||
	    (local->sg_nr > 0 && local->sg_iovs == NULL))
		return -DER_INVAL;
	D_ASSERTF(!req->q_replied, "bulk transfer after the reply");
	ctx = req->q_ctx;
	if (ctx->c_stopping)
		return -DER_SHUTDOWN;
	if (remote_off > req->q_hdr.nh_bulk_len || len > req->q_hdr.nh_bulk_len - remote_off)
		return -DER_INVAL;
	for (i = 0; i < local->sg_nr; i++)
		local_len += local->sg_iovs[i].iov_len;
	if (local_len < len)
		return -DER_INVAL;

	nseg = req->q_hdr.nh_bulk_nr;
	D_ALLOC(bop,
		sizeof(*bop) + nseg * sizeof(struct net_bulk_seg) + local->sg_nr * sizeof(d_iov_t));
	if (bop == NULL)
		return -DER_NOMEM;
	bop->bo_ctx = ctx;
	bop->bo_req = req;
	bop->bo_put = put;
	bop->bo_cb = cb;
	bop->bo_arg = arg;
	bop->bo_left = len;
	bop->bo_seg_nr = nseg;
	bop->bo_iov_nr = local->sg_nr;
	bop->bo_segs = (struct net_bulk_seg *)(bop + 1);
	bop->bo_iovs = (d_iov_t *)(bop->bo_segs + nseg);
	for (i = 0; i < nseg; i++)
		net_hdr_bulk_seg(&req->q_hdr, i, &bop->bo_segs[i]);
	if (local->sg_nr > 0)
		memcpy(bop->bo_iovs, local->sg_iovs, local->sg_nr * sizeof(d_iov_t));
	for (i = 0; i < NET_BULK_WINDOW; i++) {
		bop->bo_pieces[i].p_op.no_type = NET_OP_RMA;
		D_INIT_LIST_HEAD(&bop->bo_pieces[i].p_op.no_link);
		bop->bo_pieces[i].p_bop = bop;
		bop->bo_pieces[i].p_next_free = bop->bo_free;
		bop->bo_free = &bop->bo_pieces[i];
	}
	/* Start at @remote_off of the remote space. */
	while (bop->bo_seg < nseg && remote_off >= bop->bo_segs[bop->bo_seg].bs_len) {
		remote_off -= bop->bo_segs[bop->bo_seg].bs_len;
		bop->bo_seg++;
	}
	bop->bo_seg_off = remote_off;
	D_INIT_LIST_HEAD(&bop->bo_link);
	d_list_add_tail(&bop->bo_all, &ctx->c_bulk_ops);
	req->q_bulk_inflight++;
	ctx->c_stats.ns_bulk_ops++;

	if (D_FAIL_CHECK(NET_FI_BULK_ERR)) {
		rc = d_fault_attr_err_code(NET_FI_BULK_ERR);
		bop->bo_rc = rc != 0 ? rc : -DER_IO;
	}
	if (bop->bo_left == 0 || bop->bo_rc != 0)
		d_list_add_tail(&bop->bo_link, &ctx->c_bulk_done);
	else if (!d_list_empty(&ctx->c_bulk_pending))
		d_list_add_tail(&bop->bo_link, &ctx->c_bulk_pending);
	else
		net_bulk_op_issue(ctx, bop);
	return 0;
}

int
net_bulk_get(struct net_req *req, uint64_t remote_off, const d_sg_list_t *local, uint64_t len,
	     net_bulk_cb_t cb, void *arg)
{
	return net_bulk_xfer(req, remote_off, local, len, cb, arg, false);
}

int
net_bulk_put(struct net_req *req, uint64_t remote_off, const d_sg_list_t *local, uint64_t len,
	     net_bulk_cb_t cb, void *arg)
{
	return net_bulk_xfer(req, remote_off, local, len, cb, arg, true);
}

/* Server-side bulk buffers: page-aligned, cached per context by power-of-two size class. */

/* The class of @len (NET_BUF_CLASSES if too large to cache) and its size. */
static uint32_t
net_buf_class(size_t len, size_t *sizep)
{
	size_t size = NET_BUF_MIN;
	uint32_t c = 0;

	while (size < len && c < NET_BUF_CLASSES) {
		size <<= 1;
		c++;
	}
	if (c == NET_BUF_CLASSES) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);

		size = (len + page - 1) & ~(page - 1);
	}
	*sizep = size;
	return c;
}

/*
 * Buffers can be backed by transparent huge pages where the kernel gives them (MADV_HUGEPAGE;
 * THP "madvise" mode is enough; opt-in, below): the data file's O_DIRECT I/O pins the pages of the
 * buffer on every request, and pinning a 2 MiB page is one step instead of 512. A mapping is 2
 * MiB-aligned when its size is a multiple of 2 MiB; classes below 2 MiB are carved from one 2 MiB
 * mapping (the pieces other than the one asked for go to the idle list).
 */
#define NET_BUF_HUGE (2UL << 20)

/*
 * Transparent huge pages are opt-in (DAOS_NET_BUF_HUGE=1): on a quiet machine here (THP
 * "madvise", defrag "madvise") 1 MiB updates at QD64 to one target fell from 0.70-0.86 to
 * 0.31-0.48 GB/s with them, the engine's CPU per MiB 0.7-0.9 -> 1.6-2.6 ms (the faults of
 * huge pages: zeroing 2 MiB and compaction); with THP disabled system-wide, as before.
 */
static int net_buf_huge_on = -1;

/* Map @size bytes (a multiple of pages), populated; aligned (and THP-advised, opt-in) if @huge. */
static void *
net_buf_map(size_t size, bool huge)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t off;
	char *p, *a;

	if (!huge) /* populated now: faulting its pages in one at a time costs more */
		return mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	p = mmap(NULL, size + NET_BUF_HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		 0);
	if (p == MAP_FAILED)
		return p;
	a = (char *)(((uintptr_t)p + NET_BUF_HUGE - 1) & ~(uintptr_t)(NET_BUF_HUGE - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + size < p + size + NET_BUF_HUGE)
		munmap(a + size, (size_t)(p + size + NET_BUF_HUGE - (a + size)));
	if (d_getenv_is_once(&net_buf_huge_on, "DAOS_NET_BUF_HUGE", "1"))
		(void)madvise(a, size, MADV_HUGEPAGE);  /* a hint: without THP, small pages */
	if (madvise(a, size, MADV_POPULATE_WRITE) != 0) /* before Linux 5.14: touch each page */
		for (off = 0; off < size; off += page)
			((volatile char *)a)[off] = 0;
	return a;
}

int
net_buf_get(struct net_context *ctx, size_t len, struct net_buf **bufp)
{
	struct net_buf *buf;
	size_t size;
	size_t map_size;
	char *addr;
	uint32_t c;

	if (ctx == NULL || bufp == NULL || len == 0 || len > (1ULL << 48))
		return -DER_INVAL;
	c = net_buf_class(len, &size);
	if (c < NET_BUF_CLASSES && ctx->c_buf_free[c] != NULL) {
		buf = ctx->c_buf_free[c];
		ctx->c_buf_free[c] = buf->nb_next;
		ctx->c_stats.ns_buf_idle -= buf->nb_size;
		goto out;
	}
	/* a class below 2 MiB is carved from one 2 MiB mapping; others mapped alone */
	map_size = c < NET_BUF_CLASSES && size < NET_BUF_HUGE ? NET_BUF_HUGE : size;
	addr = net_buf_map(map_size, map_size % NET_BUF_HUGE == 0);
	if (addr == MAP_FAILED) {
		D_ERROR("%s: cannot map a bulk buffer of %zu bytes: %s\n", ctx->c_fab.nf_straddr,
			map_size, strerror(errno));
		return -DER_NOMEM;
	}
	ctx->c_stats.ns_buf_maps++;
	/* the pieces past the first go to the idle list, within its bound */
	while (map_size > size) {
		map_size -= size;
		if (ctx->c_stats.ns_buf_idle + size > NET_BUF_CACHE_MAX) {
			munmap(addr + map_size, size);
			continue;
		}
		D_ALLOC_PTR(buf);
		if (buf == NULL) {
			munmap(addr + map_size, size);
			continue;
		}
		buf->nb_addr = addr + map_size;
		buf->nb_size = size;
		buf->nb_next = ctx->c_buf_free[c];
		ctx->c_buf_free[c] = buf;
		ctx->c_stats.ns_buf_idle += size;
	}
	D_ALLOC_PTR(buf);
	if (buf == NULL) {
		munmap(addr, size);
		return -DER_NOMEM;
	}
	buf->nb_addr = addr;
	buf->nb_size = size;
out:
	buf->nb_next = NULL;
	ctx->c_stats.ns_bufs++;
	ctx->c_stats.ns_buf_bytes += buf->nb_size;
	*bufp = buf;
	return 0;
}

static void
net_buf_free(struct net_buf *buf)
{
	munmap(buf->nb_addr, buf->nb_size);
	D_FREE(buf);
}

void
net_buf_put(struct net_context *ctx, struct net_buf *buf)
{
	size_t size;
	uint32_t c;

	if (buf == NULL)
		return;
	D_ASSERT(ctx->c_stats.ns_bufs > 0);
	ctx->c_stats.ns_bufs--;
	ctx->c_stats.ns_buf_bytes -= buf->nb_size;
	c = net_buf_class(buf->nb_size, &size);
	if (c == NET_BUF_CLASSES || size != buf->nb_size ||
	    ctx->c_stats.ns_buf_idle + size > NET_BUF_CACHE_MAX) {
		net_buf_free(buf);
		return;
	}
	buf->nb_next = ctx->c_buf_free[c];
	ctx->c_buf_free[c] = buf;
	ctx->c_stats.ns_buf_idle += size;
}

uint64_t
net_buf_bytes(const struct net_context *ctx)
{
	return ctx->c_stats.ns_buf_bytes;
}

void
net_bulk_fini_all(struct net_context *ctx)
{
	struct net_bulk_op *bop;
	struct net_bulk *bulk;
	struct net_buf *buf;
	uint32_t c;

	/* The endpoint is closed: nothing is in flight any more. */
	while ((bop = d_list_first_entry_or_null(&ctx->c_bulk_ops, struct net_bulk_op, bo_all)) !=
	       NULL) {
		bop->bo_inflight = 0;
		if (bop->bo_rc == 0)
			bop->bo_rc = -DER_CANCELED;
		net_bulk_op_complete(ctx, bop);
	}
	while ((bulk = d_list_first_entry_or_null(&ctx->c_bulks, struct net_bulk, b_link)) !=
	       NULL) {
		D_ERROR("%s: bulk handle of %" PRIu64 " bytes still registered at destroy\n",
			ctx->c_fab.nf_straddr, bulk->b_len);
		net_bulk_free(bulk);
	}
	for (c = 0; c < NET_BUF_CLASSES; c++) {
		while ((buf = ctx->c_buf_free[c]) != NULL) {
			ctx->c_buf_free[c] = buf->nb_next;
			ctx->c_stats.ns_buf_idle -= buf->nb_size;
			net_buf_free(buf);
		}
	}
	if (ctx->c_stats.ns_bufs != 0)
		D_ERROR("%s: %" PRIu64 " bulk buffers not given back at destroy\n",
			ctx->c_fab.nf_straddr, ctx->c_stats.ns_bufs);
}
