/*
 * bio_wal.c: the runtime of the write-ahead log: appends staged in memory, group-commit
 * flushes through io_uring (O_DIRECT writes made durable with RWF_DSYNC or one fdatasync),
 * completions, durability waits and callbacks, trim. Sits on liburing and ISA-L; create,
 * open, replay and close are in bio_wal_open.c. Invariants and the record format:
 * README.md.
 *
 * State of a flush (one at a time, or up to w_pipe pipelined: DAOS_BIO_DSYNC):
 *
 *	 append  --> staged [w_sub_pos, w_head_pos)
 *	 submit  --> in flight [rnd_down(w_dur_pos), rnd_up(w_sub_pos)), w_in_flight,
 *	             a slot of w_fls (pipelined: padded to a block boundary first)
 *	 reap    --> done: every request of the flush completed
 *	 retire  --> in submission order, the oldest done flush: durable, w_dur_pos =
 *	             wf_end, w_durable_lsn = wf_last_lsn; or failed: w_err = -DER_IO,
 *	             sticky, and no later flush ever retires as durable
 */
#define D_LOGFAC bio

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include <isa-l.h>

#include "bio_internal.h"

D_LOG_FAC_DEFINE(bio);

uint32_t
wal_crc(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	/* ISA-L works on the raw register: invert on entry and exit for standard CRC32C */
	crc = ~crc;
	while (len > 0) {
		int n = len > (1U << 30) ? (1 << 30) : (int)len;

		crc = crc32_iscsi((unsigned char *)p, n, crc);
		p += n;
		len -= (size_t)n;
	}
	return ~crc;
}

uint32_t
bio_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return wal_crc(crc, buf, len);
}

/* Copy @len bytes to log position @pos of the staging ring. */
static void
stg_copy(struct bio_wal *wal, uint64_t pos, const void *src, size_t len)
{
	uint64_t off = pos % wal->w_stg_size;
	size_t n = len;

	if (n > wal->w_stg_size - off)
		n = wal->w_stg_size - off;
	memcpy(wal->w_stg + off, src, n);
	if (n < len)
		memcpy(wal->w_stg, (const char *)src + n, len - n);
}

/* May a record of @size bytes be appended now? */
static int
wal_room(struct bio_wal *wal, uint64_t size)
{
	uint64_t end = wal_rnd_up(wal->w_head_pos + size);

	if (size > wal->w_rec_max)
		return -DER_REC2BIG;
	/* the blocks of the durable tail are not overwritten before the header moves it */
	if (end - wal_rnd_down(wal->w_tail_pos) > wal->w_area)
		return -DER_AGAIN;
	/* staging holds everything from the block of the durable end (in flight or not) */
	if (end - wal_rnd_down(wal->w_dur_pos) > wal->w_stg_size)
		return -DER_BUSY;
	return 0;
}

void
wal_bound_push(struct bio_wal *wal, uint64_t lsn, uint64_t pos)
{
	struct wal_bound *b;

	if (wal->w_bnd_nr > 0) {
		b = &wal->w_bnds[(wal->w_bnd_head + wal->w_bnd_nr - 1) % wal->w_bnd_cap];
		if (b->wb_pos >> WAL_SEG_SHIFT == pos >> WAL_SEG_SHIFT)
			return;
	}
	/* live records span at most area / segment + 1 segments */
	D_ASSERT(wal->w_bnd_nr < wal->w_bnd_cap);
	b = &wal->w_bnds[(wal->w_bnd_head + wal->w_bnd_nr) % wal->w_bnd_cap];
	b->wb_lsn = lsn;
	b->wb_pos = pos;
	wal->w_bnd_nr++;
}

static struct wal_bound *
wal_bound_at(struct bio_wal *wal, uint64_t i)
{
	return &wal->w_bnds[(wal->w_bnd_head + i) % wal->w_bnd_cap];
}

/* Room for @nr more pieces in wal->w_pcs. */
static int
wal_pcs_reserve(struct bio_wal *wal, uint64_t nr)
{
	struct wal_piece *p;
	uint64_t cap;

	if (nr <= wal->w_pcs_cap)
		return 0;
	cap = wal->w_pcs_cap == 0 ? 64 : wal->w_pcs_cap;
	while (cap < nr)
		cap *= 2;
	if (cap > UINT32_MAX)
		return -DER_REC2BIG;
	D_REALLOC_ARRAY(p, wal->w_pcs, cap);
	if (p == NULL)
		return -DER_NOMEM;
	wal->w_pcs = p;
	wal->w_pcs_cap = (uint32_t)cap;
	return 0;
}

static inline void
wal_pc_set(struct wal_piece *pc, uint64_t off, uint32_t len, const char *data)
{
	pc->pc_off = off;
	pc->pc_len = len;
	pc->pc_data = data;
}

/*
 * The next run of at least WAL_ZERO_MIN zero bytes in whole 8-byte words of the @len bytes
 * at @data, scanning words from *@i (the first word boundary of the heap at or after the
 * range's start, then where the last call stopped): true with the run in [*@zs, *@ze) and
 * *@i after it; false when no run is left. Runs are maximal and taken greedily. The scan of
 * wal_pieces and wal_range_put, which must cut ranges alike.
 */
static inline bool
wal_zero_run_next(const char *data, uint32_t len, uint32_t *i, uint32_t *zs, uint32_t *ze)
{
	uint64_t w;

	while (*i + 8 <= len) {
		uint32_t j;

		memcpy(&w, data + *i, 8);
		if (w != 0) {
			*i += 8;
			continue;
		}
		/* zero nodes and records are long: 32 bytes a step, then word by word */
		for (j = *i + 8; j + 32 <= len; j += 32) {
			uint64_t x[4];

			memcpy(x, data + j, sizeof(x));
			if ((x[0] | x[1] | x[2] | x[3]) != 0)
				break;
		}
		for (; j + 8 <= len; j += 8) {
			memcpy(&w, data + j, 8);
			if (w != 0)
				break;
		}
		if (j - *i >= WAL_ZERO_MIN) {
			*zs = *i;
			*ze = j;
			*i = j;
			return true;
		}
		*i = j;
	}
	return false;
}

/*
 * Cut range @rr into pieces -- after-image bytes, and runs of at least WAL_ZERO_MIN zero
 * bytes in whole 8-byte words of the heap -- appended to @pcs at *@n (room for
 * rr_len / WAL_ZERO_MIN * 2 + 2 of them). Runs are maximal and taken greedily from the
 * start, in one pass over the words.
 */
static void
wal_pieces(const struct umem_redo_range *rr, struct wal_piece *pcs, uint32_t *n)
{
	const char *data = rr->rr_data;
	uint32_t len = rr->rr_len;
	uint32_t i = (uint32_t)((8 - rr->rr_off % 8) % 8);
	uint32_t pos = 0;
	uint32_t zs, ze;

	if (len == 0 || data == NULL) {
		/* an empty range, or one the caller already knows is zeros: as it is */
		wal_pc_set(&pcs[(*n)++], rr->rr_off, len, data);
		return;
	}
	while (wal_zero_run_next(data, len, &i, &zs, &ze)) {
		if (zs > pos)
			wal_pc_set(&pcs[(*n)++], rr->rr_off + pos, zs - pos, data + pos);
		wal_pc_set(&pcs[(*n)++], rr->rr_off + zs, ze - zs, NULL);
		pos = ze;
	}
	if (len > pos)
		wal_pc_set(&pcs[(*n)++], rr->rr_off + pos, len - pos, data + pos);
}

/* The two varints of the header of piece @pc after a piece that ended at @prev. */
static inline uint64_t
wal_pc_delta(const struct wal_piece *pc, uint64_t prev)
{
	return wal_zigzag(pc->pc_off - prev);
}

static inline uint64_t
wal_pc_lenf(const struct wal_piece *pc)
{
	return (uint64_t)pc->pc_len << 1 | (pc->pc_data == NULL && pc->pc_len > 0 ? 1 : 0);
}

/* Bytes piece @pc takes in a record after a piece that ended at @prev. */
static inline uint64_t
wal_pc_size(const struct wal_piece *pc, uint64_t prev)
{
	return wal_varint_size(wal_pc_delta(pc, prev)) + wal_varint_size(wal_pc_lenf(pc)) +
	       (pc->pc_data == NULL ? 0 : pc->pc_len);
}

/* Write the header of a piece of @len bytes at @off (zero: a zero run) after *@prev. */
static inline unsigned char *
wal_hdr_put(unsigned char *p, uint64_t off, uint32_t len, bool zero, uint64_t *prev)
{
	p = wal_varint_put(p, wal_zigzag(off - *prev));
	p = wal_varint_put(p, (uint64_t)len << 1 | (zero ? 1 : 0));
	*prev = off + len;
	return p;
}

/* Write data piece [@pos, @end) of range @rr at @p. */
static inline unsigned char *
wal_data_put(unsigned char *p, const struct umem_redo_range *rr, uint32_t pos, uint32_t end,
	     uint64_t *prev)
{
	p = wal_hdr_put(p, rr->rr_off + pos, end - pos, false, prev);
	memcpy(p, (const char *)rr->rr_data + pos, end - pos);
	return p + (end - pos);
}

/*
 * Encode range @rr at @p, cut as wal_pieces() cuts it, in the same pass: the pieces'
 * headers and bytes, *@prev the end of the piece before, *@n counting the pieces. Returns
 * the byte after them.
 */
static unsigned char *
wal_range_put(const struct umem_redo_range *rr, unsigned char *p, uint64_t *prev, uint32_t *n)
{
	const char *data = rr->rr_data;
	uint32_t len = rr->rr_len;
	uint32_t i = (uint32_t)((8 - rr->rr_off % 8) % 8);
	uint32_t pos = 0;
	uint32_t zs, ze;

	if (len == 0 || data == NULL) {
		(*n)++;
		return wal_hdr_put(p, rr->rr_off, len, data != NULL ? false : len > 0, prev);
	}
	while (wal_zero_run_next(data, len, &i, &zs, &ze)) {
		if (zs > pos) {
			p = wal_data_put(p, rr, pos, zs, prev);
			(*n)++;
		}
		p = wal_hdr_put(p, rr->rr_off + zs, ze - zs, true, prev);
		(*n)++;
		pos = ze;
	}
	if (len > pos) {
		p = wal_data_put(p, rr, pos, len, prev);
		(*n)++;
	}
	return p;
}

/* The CRC of the @len bytes at log position @pos of the staging ring. */
static uint32_t
stg_crc(struct bio_wal *wal, uint32_t crc, uint64_t pos, uint64_t len)
{
	uint64_t off = pos % wal->w_stg_size;
	uint64_t n = len;

	if (n > wal->w_stg_size - off)
		n = wal->w_stg_size - off;
	crc = wal_crc(crc, wal->w_stg + off, n);
	if (n < len)
		crc = wal_crc(crc, wal->w_stg, len - n);
	return crc;
}

/* The header of the next record: @nr ranges in @plen bytes. */
static void
rec_init(struct bio_wal *wal, struct wal_rec_df *rec, uint32_t nr, uint64_t plen, uint32_t nd)
{
	memset(rec, 0, sizeof(*rec));
	rec->rd_magic = WAL_REC_MAGIC;
	rec->rd_version = WAL_REC_V2;
	rec->rd_flags = nd > 0 ? WAL_RF_DREF : 0;
	rec->rd_gen = wal->w_gen;
	rec->rd_lsn = wal->w_last_lsn + 1;
	rec->rd_wal_id = wal->w_wal_id;
	rec->rd_nr = nr;
	rec->rd_len = (uint32_t)plen;
}

/* Encode the @nd pending data-file extents at @p (WAL_RF_DREF); returns the byte after. */
static unsigned char *
wal_dref_put(const struct bio_wal *wal, unsigned char *p, uint32_t nd)
{
	uint32_t i;

	p = wal_varint_put(p, nd);
	for (i = 0; i < nd; i++) {
		p = wal_varint_put(p, wal->w_drefs[i].dr_off);
		p = wal_varint_put(p, wal->w_drefs[i].dr_len);
		memcpy(p, &wal->w_drefs[i].dr_crc, sizeof(uint32_t));
		p += sizeof(uint32_t);
	}
	return p;
}

/*
 * Append: the record is laid out in staging (header with rd_csum 0, then each piece's
 * varint header and bytes, then zeros to 8 bytes; bio_internal.h has the format), and its
 * CRC is computed in one pass over the staged bytes, which are exactly the bytes the CRC
 * covers, then patched into the staged header. When the most the record can take fits
 * before the end of the ring and in the room there is, the ranges are cut and encoded
 * straight into staging in one pass (wal_range_put); otherwise they are cut into pieces
 * first (wal_pieces), sized exactly, and copied (wrapping if need be).
 */
int
bio_wal_append(struct bio_wal *wal, const struct umem_redo *redo, uint64_t *lsn)
{
	static const char zeros[8];
	struct wal_rec_df rec;
	uint64_t plen = 0;
	uint64_t maxpc = 0;
	uint64_t bound = 0;
	uint64_t prev = 0;
	uint64_t pos;
	uint32_t nr = 0;
	uint64_t size;
	uint32_t i;
	uint32_t crc;
	/* one-sync: the data-file extents this record carries (bio_wal_dref_set), consumed */
	uint32_t nd = wal->w_dref_nr;
	unsigned char dbuf[8 + WAL_DREF_MAX * WAL_DREF_SIZE];
	uint64_t dlen = 0;
	int rc;

	D_ASSERT(wal != NULL && redo != NULL && lsn != NULL);
	D_ASSERT(redo->ur_nr == 0 || redo->ur_ranges != NULL);
	wal->w_dref_nr = 0;
	if (wal->w_err != 0)
		return wal->w_err;
	if (!wal->w_replayed)
		return -DER_UNINIT;
	if (wal->w_nolog) {
		/* index-only: a new LSN, durable at once, nothing staged (bio_wal_set_nolog) */
		*lsn = wal->w_last_lsn = wal->w_sub_lsn = wal->w_durable_lsn = wal->w_last_lsn + 1;
		wal->w_stats.ws_nolog_appends++;
		return 0;
	}

	if (nd > 0)
		bound = dlen = (uint64_t)(wal_dref_put(wal, dbuf, nd) - dbuf);
	for (i = 0; i < redo->ur_nr; i++)
		bound += WAL_RG_HDR_MAX + redo->ur_ranges[i].rr_len;
	if (bound <= UINT32_MAX &&
	    wal->w_head_pos % wal->w_stg_size + sizeof(rec) + bound + 8 <= wal->w_stg_size &&
	    wal_room(wal, sizeof(rec) + bound + 8) == 0) {
		/*
		 * The usual case: room for the most the record can take (bio_wal_rec_size, less
		 * the cuts, which only save) without wrapping around the ring: encode straight
		 * into staging in one pass, then pad.
		 */
		unsigned char *start =
		    (unsigned char *)wal->w_stg + wal->w_head_pos % wal->w_stg_size;
		unsigned char *p = start + sizeof(rec);

		for (i = 0; i < redo->ur_nr; i++)
			p = wal_range_put(&redo->ur_ranges[i], p, &prev, &nr);
		memcpy(p, dbuf, dlen);
		p += dlen;
		plen = (uint64_t)(p - start) - sizeof(rec);
		size = sizeof(rec) + wal_pad8(plen);
		memset(p, 0, 8);
		rec_init(wal, &rec, nr, plen, nd);
		memcpy(start, &rec, sizeof(rec));
		crc = wal_crc(0, start, size);
		memcpy(start + offsetof(struct wal_rec_df, rd_csum), &crc, sizeof(crc));
		pos = wal->w_head_pos + size;
		goto done;
	}

	/* near the end of the ring or of the room: the pieces first, sized exactly */
	for (i = 0; i < redo->ur_nr; i++)
		maxpc += (uint64_t)redo->ur_ranges[i].rr_len / WAL_ZERO_MIN * 2 + 2;
	rc = wal_pcs_reserve(wal, maxpc);
	if (rc != 0)
		return rc;
	for (i = 0; i < redo->ur_nr; i++)
		wal_pieces(&redo->ur_ranges[i], wal->w_pcs, &nr);
	for (i = 0; i < nr; i++) {
		plen += wal_pc_size(&wal->w_pcs[i], prev);
		prev = wal->w_pcs[i].pc_off + wal->w_pcs[i].pc_len;
	}
	plen += dlen;
	if (plen > UINT32_MAX)
		return -DER_REC2BIG;
	size = sizeof(rec) + wal_pad8(plen);
	rc = wal_room(wal, size);
	if (rc != 0)
		return rc;

	rec_init(wal, &rec, nr, plen, nd);
	prev = 0;
	if (wal->w_head_pos % wal->w_stg_size + size <= wal->w_stg_size) {
		/* the usual case: the record does not wrap around the ring, copy straight */
		unsigned char *start =
		    (unsigned char *)wal->w_stg + wal->w_head_pos % wal->w_stg_size;
		unsigned char *p = start + sizeof(rec);

		/* the padding first: the last word, then the header and bytes over it */
		memset(start + size - 8, 0, 8);
		memcpy(start, &rec, sizeof(rec));
		for (i = 0; i < nr; i++) {
			const struct wal_piece *pc = &wal->w_pcs[i];

			p = wal_varint_put(p, wal_pc_delta(pc, prev));
			p = wal_varint_put(p, wal_pc_lenf(pc));
			prev = pc->pc_off + pc->pc_len;
			if (pc->pc_data == NULL || pc->pc_len == 0)
				continue;
			memcpy(p, pc->pc_data, pc->pc_len);
			p += pc->pc_len;
		}
		memcpy(p, dbuf, dlen);
		p += dlen;
		D_ASSERT((uint64_t)(p - start) == sizeof(rec) + plen);
		crc = wal_crc(0, start, size);
		memcpy(start + offsetof(struct wal_rec_df, rd_csum), &crc, sizeof(crc));
		pos = wal->w_head_pos + size;
		goto done;
	}

	stg_copy(wal, wal->w_head_pos, &rec, sizeof(rec));
	pos = wal->w_head_pos + sizeof(rec);
	for (i = 0; i < nr; i++) {
		const struct wal_piece *pc = &wal->w_pcs[i];
		unsigned char hb[2 * 10];
		unsigned char *e;

		e = wal_varint_put(hb, wal_pc_delta(pc, prev));
		e = wal_varint_put(e, wal_pc_lenf(pc));
		prev = pc->pc_off + pc->pc_len;
		stg_copy(wal, pos, hb, (size_t)(e - hb));
		pos += (uint64_t)(e - hb);
		if (pc->pc_data == NULL || pc->pc_len == 0)
			continue;
		stg_copy(wal, pos, pc->pc_data, pc->pc_len);
		pos += pc->pc_len;
	}
	if (dlen > 0) {
		stg_copy(wal, pos, dbuf, dlen);
		pos += dlen;
	}
	if (pos % 8 != 0) {
		stg_copy(wal, pos, zeros, 8 - pos % 8);
		pos += 8 - pos % 8;
	}
	D_ASSERT(pos == wal->w_head_pos + size);
	crc = stg_crc(wal, 0, wal->w_head_pos, size);
	stg_copy(wal, wal->w_head_pos + offsetof(struct wal_rec_df, rd_csum), &crc, sizeof(crc));
done:
	rec.rd_csum = crc;

	wal_bound_push(wal, rec.rd_lsn, wal->w_head_pos);
	if (wal->w_gen_pending) {
		/* the new generation's header goes with (at the latest) its first record */
		wal->w_gen_pending = false;
		wal->w_hdr_dirty = true;
	}
	if (nd > 0) {
		/* its data is written back beside the flush that carries it */
		wal->w_sfr_fd = wal->w_dref_fd;
		wal->w_dref_last = rec.rd_lsn;
		wal->w_stats.ws_drefs += nd;
	}
	wal->w_head_pos = pos;
	wal->w_last_lsn = rec.rd_lsn;
	wal->w_stats.ws_appends++;
	wal->w_stats.ws_append_bytes += size;
	*lsn = rec.rd_lsn;
	return 0;
}

static int
wal_umem_commit(void *arg, const struct umem_redo *redo, uint64_t *lsn)
{
	return bio_wal_append(arg, redo, lsn);
}

const struct umem_store_ops bio_wal_umem_ops = {.so_commit = wal_umem_commit};

/*
 * Fill iovecs for the log blocks [p, e) (block aligned, within one pass of the area) from
 * staging; the block holding the head, if partial, goes from the bounce block, because
 * appends keep filling its staging copy while the kernel reads it.
 */
static void
wal_iov_fill(struct bio_wal *wal, struct wal_flush *wf, uint64_t p, uint64_t e, uint32_t *niov)
{
	uint64_t full_end = e;
	uint64_t off;
	uint64_t n;

	if (e > wal->w_head_pos)
		full_end = e - WAL_BLK_SIZE;
	while (p < full_end) {
		off = p % wal->w_stg_size;
		n = full_end - p;
		if (n > wal->w_stg_size - off)
			n = wal->w_stg_size - off;
		D_ASSERT(*niov < WAL_IOV_MAX);
		wf->wf_iov[*niov].iov_base = wal->w_stg + off;
		wf->wf_iov[*niov].iov_len = n;
		(*niov)++;
		p += n;
	}
	if (full_end < e) {
		n = wal->w_head_pos - full_end;
		memcpy(wal->w_bounce, wal->w_stg + full_end % wal->w_stg_size, n);
		memset(wal->w_bounce + n, 0, WAL_BLK_SIZE - n);
		D_ASSERT(*niov < WAL_IOV_MAX);
		wf->wf_iov[*niov].iov_base = wal->w_bounce;
		wf->wf_iov[*niov].iov_len = WAL_BLK_SIZE;
		(*niov)++;
	}
}

static void
wal_fail(struct bio_wal *wal, const char *what, int res)
{
	if (wal->w_err != 0)
		return;
	wal->w_err = -DER_IO;
	wal->w_stats.ws_error = -DER_IO;
	D_ERROR("WAL %s: %s failed (%s): LSN %" PRIu64 "..%" PRIu64 " not durable: " DF_RC
		"; no more appends until it is reopened and replayed\n",
		wal->w_path, what, res < 0 ? strerror(-res) : "short write", wal->w_durable_lsn + 1,
		wal->w_last_lsn, DP_RC(-DER_IO));
}

/* Flush slot @i of the ring of flushes in flight, counted from the oldest. */
static struct wal_flush *
wal_fl_at(struct bio_wal *wal, uint32_t i)
{
	return &wal->w_fls[(wal->w_fl_head + i) % wal->w_pipe];
}

/*
 * What may the next flush carry now: records (*@recs) and the header (*@hdr)? False when
 * nothing. Pipelined, a header write goes only when no other is in flight (the slots
 * alternate, so a third header would share a block with one in flight, and the two have no
 * order), and nothing goes while the header of a new generation is in flight.
 */
static bool
wal_next(struct bio_wal *wal, bool *recs, bool *hdr)
{
	bool gen = wal->w_hdr_dirty && wal->w_gen != wal->w_hdr.hd_gen;

	if (wal->w_fl_nr >= wal->w_pipe || wal->w_gen_inflight)
		return false;
	/*
	 * The first header of a new generation goes out alone, and is durable before any record
	 * of that generation is written: a writer killed in that flush must not leave records
	 * of a generation the header does not name, or the next opener, which takes the same
	 * number, would adopt them with its own first header (invariant 7, t_gen_reuse).
	 */
	*recs = wal->w_head_pos > wal->w_sub_pos && !gen;
	*hdr = wal->w_hdr_dirty && !wal->w_hdr_inflight;
	return *recs || *hdr;
}

static void wal_retire(struct bio_wal *wal);

/* Flush @wf was submitted with @pending requests: it is in flight until they completed. */
static void
wal_fl_push(struct bio_wal *wal, struct wal_flush *wf, uint32_t pending)
{
	wf->wf_pending = pending;
	wf->wf_busy = true;
	if (wf->wf_hdr) {
		wal->w_hdr_inflight = true;
		wal->w_gen_inflight = wf->wf_gen;
	}
	wal->w_fl_nr++;
	wal->w_in_flight = true;
	if (wal->w_fl_nr > wal->w_stats.ws_flights_max)
		wal->w_stats.ws_flights_max = wal->w_fl_nr;
	if (pending == 0)
		wal_retire(wal); /* nothing to wait for (a failed submit) */
}

static int
wal_submit(struct bio_wal *wal)
{
	struct wal_flush *wf;
	struct io_uring_sqe *sqe;
	uint32_t niov = 0;
	uint32_t slot;
	struct io_uring_sqe *chain[WAL_OP_NR];
	bool link = false;
	bool recs;
	bool hdr;
	bool cut = false;
	int nsqe = 0;
	int rc;

	D_ASSERT(wal->w_err == 0 && wal->w_replayed);
	if (!wal_next(wal, &recs, &hdr))
		return 0;

	slot = (wal->w_fl_head + wal->w_fl_nr) % wal->w_pipe;
	wf = &wal->w_fls[slot];
	D_ASSERT(!wf->wf_busy);
	if (recs && wal->w_pipe > 1 && wal->w_head_pos % WAL_BLK_SIZE != 0) {
		/*
		 * Pipelined: the flush ends at a block boundary, the rest of its last block
		 * zeros (replay steps over them), so that no two flushes in flight ever write
		 * the same block: their writes have no order. The block is the head's, so it
		 * is in staging and in the room appends already checked.
		 */
		uint64_t pad = wal_rnd_up(wal->w_head_pos) - wal->w_head_pos;

		memset(wal->w_stg + wal->w_head_pos % wal->w_stg_size, 0, pad);
		wal->w_head_pos += pad;
		wal->w_stats.ws_pad_bytes += pad;
	}
	memset(wf, 0, sizeof(*wf));
	wf->wf_sub_ns = d_now_ns();
	wf->wf_last_lsn = recs ? wal->w_last_lsn : wal->w_sub_lsn;
	wf->wf_end = recs ? wal->w_head_pos : wal->w_sub_pos;
	if (recs && wal->w_dep_fd >= 0) {
		/* data the new records reference: synced before any of them is written */
		sqe = io_uring_get_sqe(&wal->w_ring);
		D_ASSERT(sqe != NULL);
		/* an injected failure is a real one (EBADF), so it cancels the chain too */
		io_uring_prep_fsync(sqe, D_FAIL_CHECK(BIO_FI_DATA_SYNC) ? -1 : wal->w_dep_fd,
				    IORING_FSYNC_DATASYNC);
		io_uring_sqe_set_data64(sqe, WAL_UD(slot, WAL_OP_DSYNC));
		wal->w_dep_fd = -1;
		wal->w_sfr_fd = -1; /* the fdatasync writes everything back too */
		wal->w_stats.ws_dep_syncs++;
		chain[nsqe++] = sqe;
		link = true;
	} else if (recs && wal->w_sfr_fd >= 0) {
		/*
		 * One-sync: the records carry the CRCs of the data they reference, whose blocks
		 * are written extents: writing the dirty pages back (no device flush) before the
		 * log's fsync starts is enough, as that fsync's flush then covers them too. It
		 * overlaps the log writes: the fsync drains it like them. (With RWF_DSYNC writes
		 * there is no later fsync: it goes ahead of them, linked.)
		 */
		sqe = io_uring_get_sqe(&wal->w_ring);
		D_ASSERT(sqe != NULL);
		io_uring_prep_sync_file_range(
		    sqe, D_FAIL_CHECK(BIO_FI_DATA_SFR) ? -1 : wal->w_sfr_fd, 0, 0,
		    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
			SYNC_FILE_RANGE_WAIT_AFTER);
		io_uring_sqe_set_data64(sqe, WAL_UD(slot, WAL_OP_SFR));
		wal->w_sfr_fd = -1;
		wal->w_stats.ws_sfr++;
		chain[nsqe++] = sqe;
		link = wal->w_sync == BIO_WAL_SYNC_DSYNC;
	}
	/*
	 * One-sync: every flush with records, while records carrying extents are newer than
	 * the last header's complete LSN, writes the header with the durable LSN as it (the
	 * same fsync covers it), so that replay checks the last flushes only and freed blocks
	 * become reusable (bio_wal_reuse_lsn).
	 */
	if (recs && wal->w_one_sync && wal->w_dref_last > wal->w_hdr.hd_complete_lsn &&
	    wal->w_durable_lsn > wal->w_hdr.hd_complete_lsn) {
		wal->w_hdr_dirty = true;
		hdr = !wal->w_hdr_inflight;
	}
	if (recs) {
		uint64_t p = wal_rnd_down(wal->w_sub_pos);
		uint64_t end = wal_rnd_up(wal->w_head_pos);
		uint32_t op = WAL_OP_LOG0;

		/* at most one wrap: a flush is never longer than the staging ring (<= area) */
		while (p < end) {
			uint64_t pass_end = p - p % wal->w_area + wal->w_area;
			uint64_t seg_end = end < pass_end ? end : pass_end;
			uint32_t first = niov;

			D_ASSERT(op <= WAL_OP_LOG1);
			wal_iov_fill(wal, wf, p, seg_end, &niov);
			sqe = io_uring_get_sqe(&wal->w_ring);
			D_ASSERT(sqe != NULL);
			io_uring_prep_writev2(sqe, wal->w_fd, &wf->wf_iov[first], niov - first,
					      wal_pos2off(wal, p),
					      wal->w_sync == BIO_WAL_SYNC_DSYNC ? RWF_DSYNC : 0);
			io_uring_sqe_set_data64(sqe, WAL_UD(slot, op));
			wf->wf_len[op] = (uint32_t)(seg_end - p);
			wal->w_stats.ws_bytes_written += seg_end - p;
			wal->w_stats.ws_writes++;
			chain[nsqe++] = sqe;
			p = seg_end;
			op++;
		}
	}

	/* fault: the writer dies just before its header write; what came before it lands */
	if (hdr && D_FAIL_CHECK(BIO_FI_WAL_CUT)) {
		cut = true;
		goto submit;
	}
	if (hdr) {
		struct wal_hdr_df *hd = (struct wal_hdr_df *)wal->w_hdr_buf;

		*hd = wal->w_hdr;
		hd->hd_seq = wal->w_hdr_seq + 1;
		hd->hd_gen = wal->w_gen;
		hd->hd_replay_end = wal->w_replay_end;
		hd->hd_tail_lsn = wal->w_ptail_lsn;
		hd->hd_tail_pos = wal->w_ptail_pos;
		if (wal->w_pipe > 1)
			hd->hd_flags |= WAL_HDF_PIPE;
		else
			hd->hd_flags &= ~WAL_HDF_PIPE;
		/* the flushes before this one completed: their records' data is durable */
		if (wal->w_durable_lsn > hd->hd_complete_lsn)
			hd->hd_complete_lsn = wal->w_durable_lsn;
		wal_hdr_csum_set(hd);
		sqe = io_uring_get_sqe(&wal->w_ring);
		D_ASSERT(sqe != NULL);
		io_uring_prep_write(sqe, wal->w_fd, wal->w_hdr_buf, WAL_BLK_SIZE,
				    (hd->hd_seq % 2) * WAL_BLK_SIZE);
		if (wal->w_sync == BIO_WAL_SYNC_DSYNC)
			sqe->rw_flags = RWF_DSYNC;
		io_uring_sqe_set_data64(sqe, WAL_UD(slot, WAL_OP_HDR));
		wf->wf_len[WAL_OP_HDR] = WAL_BLK_SIZE;
		wf->wf_hdr = true;
		wf->wf_gen = hd->hd_gen != wal->w_hdr.hd_gen;
		wf->wf_tail_lsn = wal->w_ptail_lsn;
		wf->wf_tail_pos = wal->w_ptail_pos;
		wf->wf_complete_lsn = hd->hd_complete_lsn;
		wal->w_hdr = *hd;
		wal->w_hdr_seq = hd->hd_seq;
		wal->w_hdr_dirty = false;
		wal->w_stats.ws_hdr_writes++;
		wal->w_stats.ws_writes++;
		chain[nsqe++] = sqe;
	}

	if (wal->w_sync == BIO_WAL_SYNC_FDATASYNC) {
		sqe = io_uring_get_sqe(&wal->w_ring);
		D_ASSERT(sqe != NULL);
		io_uring_prep_fsync(sqe, wal->w_fd, IORING_FSYNC_DATASYNC);
		/* starts once every write before it has completed */
		sqe->flags |= IOSQE_IO_DRAIN;
		io_uring_sqe_set_data64(sqe, WAL_UD(slot, WAL_OP_FSYNC));
		wal->w_stats.ws_syncs++;
		chain[nsqe++] = sqe;
	} else {
		wal->w_stats.ws_syncs += (uint64_t)(nsqe - link);
	}
submit:
	if (link) {
		/*
		 * After a data sync the flush is one chain: each request starts once the one
		 * before it succeeded, and a failed data sync cancels the log writes, so no
		 * record reaches the log before the data it references is durable.
		 */
		int i;

		for (i = 0; i < nsqe - 1; i++) {
			chain[i]->flags &= ~IOSQE_IO_DRAIN;
			chain[i]->flags |= IOSQE_IO_LINK;
		}
		chain[nsqe - 1]->flags &= ~IOSQE_IO_DRAIN;
	}

	if (D_FAIL_CHECK(BIO_FI_WAL_SUBMIT))
		rc = -EIO;
	else
		rc = io_uring_submit(&wal->w_ring);
	wal->w_sub_pos = wf->wf_end;
	wal->w_sub_lsn = wf->wf_last_lsn;
	wal->w_stats.ws_flushes++;
	if (rc == nsqe && !cut) {
		wal_fl_push(wal, wf, (uint32_t)nsqe);
		return 0;
	}

	/* what was submitted must still be reaped before its buffers are reused */
	wf->wf_rc = -DER_IO;
	wal_fl_push(wal, wf, rc > 0 ? (uint32_t)rc : 0);
	if (cut)
		wal_fail(wal, "header write (injected: cut before it)", -EIO);
	else
		wal_fail(wal, "io_uring_submit", rc < 0 ? rc : -EAGAIN);
	return -DER_IO;
}

static void
wal_flush_done(struct bio_wal *wal, struct wal_flush *wf)
{
	uint64_t ns = d_now_ns() - wf->wf_sub_ns;

	/* a moving average of 1/8: the first flush sets it */
	wal->w_stats.ws_flush_ns =
	    wal->w_stats.ws_flush_ns == 0
		? ns
		: wal->w_stats.ws_flush_ns - wal->w_stats.ws_flush_ns / 8 + ns / 8;
	/* index-only appends move it while a header flush is in flight: never back */
	if (wf->wf_last_lsn > wal->w_durable_lsn)
		wal->w_durable_lsn = wf->wf_last_lsn;
	wal->w_dur_pos = wf->wf_end;
	if (wf->wf_hdr) {
		/* the header is durable: the space before the new tail may be overwritten */
		wal->w_tail_lsn = wf->wf_tail_lsn;
		wal->w_tail_pos = wf->wf_tail_pos;
		wal->w_hdr_complete = wf->wf_complete_lsn;
		while (wal->w_bnd_nr > 0 && wal_bound_at(wal, 0)->wb_lsn < wal->w_tail_lsn) {
			wal->w_bnd_head = (wal->w_bnd_head + 1) % wal->w_bnd_cap;
			wal->w_bnd_nr--;
		}
	}
}

/*
 * Retire the flushes whose requests all completed, oldest first, up to the first one still
 * in flight: LSNs become durable as the contiguous prefix of completed flushes, so a later
 * flush that completed first waits for the earlier ones. A failed flush failed the WAL
 * (w_err), and no flush retires as durable after that, not even one that completed.
 */
static void
wal_retire(struct bio_wal *wal)
{
	while (wal->w_fl_nr > 0 && wal_fl_at(wal, 0)->wf_pending == 0) {
		struct wal_flush *wf = wal_fl_at(wal, 0);

		wf->wf_busy = false;
		wal->w_fl_head = (wal->w_fl_head + 1) % wal->w_pipe;
		wal->w_fl_nr--;
		if (wf->wf_hdr) {
			wal->w_hdr_inflight = false;
			wal->w_gen_inflight = false;
		}
		if (wf->wf_rc == 0 && wal->w_err == 0)
			wal_flush_done(wal, wf);
	}
	wal->w_in_flight = wal->w_fl_nr > 0;
}

static void
wal_req_done(struct bio_wal *wal, uint64_t ud, int res)
{
	static const char *const names[] = {"log write",           "log write",
					    "header write",        "fdatasync",
					    "data-file fdatasync", "data-file sync_file_range"};
	uint64_t op = WAL_UD_OP(ud);
	struct wal_flush *wf;
	bool failed = false;

	D_ASSERT(op < WAL_OP_NR && WAL_UD_SLOT(ud) < wal->w_pipe);
	wf = &wal->w_fls[WAL_UD_SLOT(ud)];
	D_ASSERT(wf->wf_busy && wf->wf_pending > 0);
	if (op <= WAL_OP_LOG1) {
		if (D_FAIL_CHECK(BIO_FI_WAL_WRITE) ||
		    (wal->w_sync == BIO_WAL_SYNC_DSYNC && D_FAIL_CHECK(BIO_FI_WAL_SYNC)))
			res = -EIO;
	} else if (op == WAL_OP_HDR) {
		if (D_FAIL_CHECK(BIO_FI_WAL_HDR))
			res = -EIO;
	} else if (op == WAL_OP_DSYNC || op == WAL_OP_SFR) {
		/* BIO_FI_DATA_SYNC and BIO_FI_DATA_SFR are injected at submission (wal_submit) */
	} else if (D_FAIL_CHECK(BIO_FI_WAL_SYNC)) {
		res = -EIO;
	}

	if (res < 0) {
		failed = true;
	} else if (op != WAL_OP_FSYNC && op != WAL_OP_DSYNC && op != WAL_OP_SFR &&
		   (uint32_t)res != wf->wf_len[op]) {
		failed = true;
		res = 0; /* a short write */
	}
	if (failed && wf->wf_rc == 0) {
		wf->wf_rc = -DER_IO;
		wal_fail(wal, names[op], res);
	}
	if (--wf->wf_pending == 0)
		wal_retire(wal);
}

/* Reap the completions that are there; returns how many. */
static int
wal_reap(struct bio_wal *wal)
{
	struct io_uring_cqe *cqe;
	uint32_t i;
	int n = 0;

	if (!wal->w_hold && wal->w_held_nr > 0) {
		/* the test hook let go: what it held first, in the order it came */
		for (i = 0; i < wal->w_held_nr; i++)
			wal_req_done(wal, wal->w_held[i].h_ud, wal->w_held[i].h_res);
		n += (int)wal->w_held_nr;
		wal->w_held_nr = 0;
	}
	while (wal->w_in_flight && io_uring_peek_cqe(&wal->w_ring, &cqe) == 0) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&wal->w_ring, cqe);
		if (wal->w_hold && WAL_UD_SLOT(ud) == wal->w_fl_head) {
			D_ASSERT(wal->w_held_nr < WAL_PIPE_SQES);
			wal->w_held[wal->w_held_nr].h_ud = ud;
			wal->w_held[wal->w_held_nr].h_res = res;
			wal->w_held_nr++;
		} else {
			wal_req_done(wal, ud, res);
		}
		n++;
	}
	return n;
}

static void
wal_efd_drain(struct bio_wal *wal)
{
	uint64_t cnt;
	ssize_t rc;

	rc = read(wal->w_efd, &cnt, sizeof(cnt));
	(void)rc; /* EAGAIN: nothing to drain */
}

int
wal_cbs_run(struct bio_wal *wal)
{
	int n = 0;

	while (wal->w_cb_nr > 0) {
		struct wal_cb cb = wal->w_cbs[wal->w_cb_head];
		int rc = 0;

		if (cb.wc_lsn > wal->w_durable_lsn) {
			if (wal->w_err == 0)
				break;
			rc = wal->w_err;
		}
		wal->w_cb_head = (wal->w_cb_head + 1) % wal->w_cb_cap;
		wal->w_cb_nr--;
		/* may append and register callbacks: nothing is held across the call */
		cb.wc_func(cb.wc_arg, cb.wc_lsn, rc);
		n++;
	}
	return n;
}

int
bio_wal_poll(struct bio_wal *wal)
{
	int n;

	D_ASSERT(!wal->w_in_poll);
	wal->w_in_poll = true;
	n = wal_reap(wal);
	if (n > 0)
		wal_efd_drain(wal);
	n += wal_cbs_run(wal);
	if (wal->w_err == 0 && wal->w_replayed)
		wal_submit(wal); /* a failure is sticky in w_err and reported to waiters */
	wal->w_in_poll = false;
	return n;
}

int
bio_wal_poller(void *arg)
{
	return bio_wal_poll(arg);
}

int
bio_wal_arm(void *arg)
{
	struct bio_wal *wal = arg;
	bool recs;
	bool hdr;

	/* drain first: a completion after this signals the fd again */
	wal_efd_drain(wal);
	if (io_uring_cq_ready(&wal->w_ring) > 0)
		return 1;
	if (wal->w_cb_nr > 0 &&
	    (wal->w_err != 0 || wal->w_cbs[wal->w_cb_head].wc_lsn <= wal->w_durable_lsn))
		return 1;
	if (wal->w_err == 0 && wal->w_replayed && wal_next(wal, &recs, &hdr))
		return 1;
	return 0;
}

int
bio_wal_fd(struct bio_wal *wal)
{
	return wal->w_efd;
}

uint64_t
bio_wal_durable_lsn(struct bio_wal *wal)
{
	return wal->w_durable_lsn;
}

uint64_t
bio_wal_last_lsn(struct bio_wal *wal)
{
	return wal->w_last_lsn;
}

uint32_t
bio_wal_durable_waiters(struct bio_wal *wal, uint64_t *flush_ns)
{
	if (flush_ns != NULL)
		*flush_ns = wal->w_stats.ws_flush_ns;
	return wal->w_in_flight ? wal->w_cb_nr : 0;
}

int
bio_wal_flush(struct bio_wal *wal)
{
	if (wal->w_err != 0)
		return wal->w_err;
	if (!wal->w_replayed)
		return -DER_UNINIT;
	/* nothing if every slot is taken: bio_wal_poll submits the rest when one retires */
	return wal_submit(wal);
}

int
bio_wal_wait(struct bio_wal *wal, uint64_t lsn, bio_wal_wait_cb_t wait, void *arg)
{
	int rc;

	D_ASSERT(wait != NULL);
	if (lsn > wal->w_last_lsn)
		return -DER_INVAL;
	while (lsn > wal->w_durable_lsn) {
		if (wal->w_err != 0)
			return wal->w_err;
		rc = bio_wal_flush(wal);
		if (rc != 0)
			return rc;
		rc = wait(arg);
		if (rc != 0)
			return rc;
		bio_wal_poll(wal);
	}
	return 0;
}

int
bio_wal_wait_io(void *arg)
{
	struct bio_wal *wal = arg;
	struct io_uring_cqe *cqe;
	int rc;

	if (!wal->w_in_flight || (!wal->w_hold && wal->w_held_nr > 0))
		return 0;
	if (wal->w_hold) {
		/* test hook: what is held may be all there is to wait for */
		struct __kernel_timespec ts = {.tv_nsec = 10 * 1000 * 1000};

		rc = io_uring_wait_cqe_timeout(&wal->w_ring, &cqe, &ts);
		return rc == 0 || rc == -ETIME || rc == -EINTR ? 0 : d_errno2der(-rc);
	}
	do {
		rc = io_uring_wait_cqe(&wal->w_ring, &cqe);
	} while (rc == -EINTR);
	return rc == 0 ? 0 : d_errno2der(-rc);
}

int
bio_wal_flush_wait(struct bio_wal *wal)
{
	int rc;

	if (!wal->w_replayed)
		return -DER_UNINIT;
	for (;;) {
		if (wal->w_err != 0)
			return wal->w_err;
		if (!wal->w_in_flight && wal->w_head_pos == wal->w_sub_pos && !wal->w_hdr_dirty)
			return 0;
		rc = bio_wal_flush(wal);
		if (rc != 0)
			return rc;
		rc = bio_wal_wait_io(wal);
		if (rc != 0)
			return rc;
		bio_wal_poll(wal);
	}
}

void
wal_drain(struct bio_wal *wal)
{
	wal->w_hold = false;
	while (wal->w_in_flight) {
		if (bio_wal_wait_io(wal) != 0)
			break;
		wal_reap(wal);
	}
}

int
bio_wal_space_wait(struct bio_wal *wal, uint64_t rec_size, bio_wal_wait_cb_t wait, void *arg)
{
	int rc;

	D_ASSERT(wait != NULL);
	for (;;) {
		if (wal->w_err != 0)
			return wal->w_err;
		if (!wal->w_replayed)
			return -DER_UNINIT;
		rc = wal_room(wal, rec_size);
		if (rc != -DER_BUSY)
			return rc;
		rc = bio_wal_flush(wal);
		if (rc != 0)
			return rc;
		rc = wait(arg);
		if (rc != 0)
			return rc;
		bio_wal_poll(wal);
	}
}

int
bio_wal_on_durable(struct bio_wal *wal, uint64_t lsn, bio_wal_durable_cb_t cb, void *arg)
{
	struct wal_cb *cbs;
	uint32_t idx;
	uint32_t i;

	D_ASSERT(cb != NULL);
	if (lsn > wal->w_last_lsn)
		return -DER_INVAL;
	if (wal->w_err != 0 && lsn > wal->w_durable_lsn)
		return wal->w_err;

	if (wal->w_cb_nr == wal->w_cb_cap) {
		uint32_t cap = wal->w_cb_cap == 0 ? 64 : wal->w_cb_cap * 2;

		if (cap < wal->w_cb_cap)
			return -DER_NOMEM;
		D_ALLOC_ARRAY(cbs, cap);
		if (cbs == NULL)
			return -DER_NOMEM;
		for (i = 0; i < wal->w_cb_nr; i++)
			cbs[i] = wal->w_cbs[(wal->w_cb_head + i) % wal->w_cb_cap];
		D_FREE(wal->w_cbs);
		wal->w_cbs = cbs;
		wal->w_cb_cap = cap;
		wal->w_cb_head = 0;
	}

	/* sorted by LSN, equal LSNs in registration order; usually this is the tail */
	cbs = wal->w_cbs;
	idx = wal->w_cb_nr;
	while (idx > 0 && cbs[(wal->w_cb_head + idx - 1) % wal->w_cb_cap].wc_lsn > lsn) {
		cbs[(wal->w_cb_head + idx) % wal->w_cb_cap] =
		    cbs[(wal->w_cb_head + idx - 1) % wal->w_cb_cap];
		idx--;
	}
	i = (wal->w_cb_head + idx) % wal->w_cb_cap;
	cbs[i].wc_lsn = lsn;
	cbs[i].wc_func = cb;
	cbs[i].wc_arg = arg;
	wal->w_cb_nr++;
	return 0;
}

int
bio_wal_set_nolog(struct bio_wal *wal)
{
	if (!wal->w_replayed)
		return -DER_UNINIT;
	if (wal->w_in_flight || wal->w_head_pos != wal->w_sub_pos ||
	    wal->w_dur_pos != wal->w_head_pos || wal->w_durable_lsn != wal->w_last_lsn)
		return -DER_BUSY;
	wal->w_nolog = true;
	return 0;
}

bool
bio_wal_nolog(struct bio_wal *wal)
{
	return wal->w_nolog;
}

bool
bio_wal_one_sync(struct bio_wal *wal)
{
	return wal->w_one_sync;
}

int
bio_wal_dref_set(struct bio_wal *wal, int fd, const struct bio_wal_dref *drefs, uint32_t nr)
{
	if (nr > WAL_DREF_MAX || (nr > 0 && !wal->w_one_sync))
		return -DER_INVAL;
	if (fd >= 0)
		wal->w_dref_fd = fd;
	if (nr > 0)
		memcpy(wal->w_drefs, drefs, nr * sizeof(*drefs));
	wal->w_dref_nr = nr;
	return 0;
}

uint64_t
bio_wal_reuse_lsn(struct bio_wal *wal)
{
	if (!wal->w_one_sync || wal->w_hdr_complete >= wal->w_dref_last)
		return wal->w_durable_lsn;
	return wal->w_hdr_complete < wal->w_durable_lsn ? wal->w_hdr_complete : wal->w_durable_lsn;
}

void
bio_wal_reuse_push(struct bio_wal *wal)
{
	if (!wal->w_one_sync || wal->w_err != 0 || !wal->w_replayed ||
	    wal->w_durable_lsn <= wal->w_hdr.hd_complete_lsn)
		return;
	wal->w_hdr_dirty = true;
	if (!wal->w_in_poll)
		wal_submit(wal); /* a failure is sticky in w_err */
}

int
bio_wal_reuse_wait(struct bio_wal *wal, uint64_t lsn, bio_wal_wait_cb_t wait, void *arg)
{
	int rc;

	D_ASSERT(wait != NULL);
	if (lsn > wal->w_durable_lsn)
		return -DER_INVAL;
	while (bio_wal_reuse_lsn(wal) < lsn) {
		if (wal->w_err != 0)
			return wal->w_err;
		bio_wal_reuse_push(wal);
		rc = wait(arg);
		if (rc != 0)
			return rc;
		bio_wal_poll(wal);
	}
	return 0;
}

void
bio_wal_dep_sync(struct bio_wal *wal, int fd)
{
	D_ASSERT(fd >= 0);
	wal->w_dep_fd = fd;
}

int
bio_wal_trim(struct bio_wal *wal, uint64_t lsn)
{
	uint64_t tlsn = 0;
	uint64_t tpos = 0;
	uint64_t lo;
	uint64_t hi;

	if (wal->w_err != 0)
		return wal->w_err;
	if (!wal->w_replayed)
		return -DER_UNINIT;
	if (lsn > wal->w_durable_lsn)
		return -DER_INVAL;

	if (lsn == wal->w_durable_lsn) {
		/* exact: the end of the last durable flush is a record boundary */
		tlsn = lsn + 1;
		tpos = wal->w_dur_pos;
	} else {
		/* the newest remembered boundary with an LSN <= lsn + 1 */
		lo = 0;
		hi = wal->w_bnd_nr;
		while (lo < hi) {
			uint64_t mid = lo + (hi - lo) / 2;

			if (wal_bound_at(wal, mid)->wb_lsn <= lsn + 1)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0) {
			tlsn = wal_bound_at(wal, lo - 1)->wb_lsn;
			tpos = wal_bound_at(wal, lo - 1)->wb_pos;
		}
	}
	if (tlsn <= wal->w_ptail_lsn)
		return 0;
	wal->w_ptail_lsn = tlsn;
	wal->w_ptail_pos = tpos;
	wal->w_hdr_dirty = true;
	return 0;
}

void
bio_wal_query(struct bio_wal *wal, struct bio_wal_stats *st)
{
	*st = wal->w_stats;
	st->ws_file_size = wal->w_file_size;
	st->ws_area_size = wal->w_area;
	st->ws_used = wal_rnd_up(wal->w_head_pos) - wal_rnd_down(wal->w_tail_pos);
	st->ws_staging_size = wal->w_stg_size;
	st->ws_staged = wal->w_head_pos - wal->w_sub_pos;
	st->ws_tail_lsn = wal->w_tail_lsn;
	st->ws_last_lsn = wal->w_last_lsn;
	st->ws_durable_lsn = wal->w_durable_lsn;
	st->ws_head_pos = wal->w_head_pos;
	st->ws_tail_pos = wal->w_tail_pos;
	st->ws_gen = wal->w_gen;
	st->ws_error = wal->w_err;
	st->ws_in_flight = wal->w_in_flight;
}
