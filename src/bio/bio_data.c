/*
 * bio_data.c: writes and reads of bulk values in a pool shard's data file, through the
 * file's own io_uring: writes of 64 KiB .. 1 MiB buffered (a second, buffered fd: left in the
 * page cache for fetches), larger ones O_DIRECT; reads below 64 KiB through the page cache
 * and larger ones O_DIRECT unless the page cache holds them (then at once), from (into) the
 * caller's buffers where they are aligned and through a bounce arena where they are not.
 * Writes below 64 KiB do not use the ring: a pwritev on the buffered fd, at once
 * (bd_write_buffered).
 * Sits on liburing. The durability of these writes is the WAL's business: after a batch completed,
 * the caller asks the WAL (bio_wal_dep_sync) to fdatasync the data file ahead of the log records
 * that reference it, so all the updates of one WAL flush share one data sync.
 *
 * A batch (one update's values, or one fetch's): bio_data_batch_get(), bio_data_write()
 * or bio_data_read() to queue requests (no system call), bio_data_submit_wait() to submit
 * them and wait through the caller's hook until all completed (which ends the batch), or
 * bio_data_cancel(). Several batches may be open and in flight at once -- ULTs of one
 * xstream that yield in their wait hook -- sharing the ring; whoever waits reaps every
 * completion and credits its batch. A read batch copies the bytes it read through bounce
 * blocks into the caller's buffers once every request of it completed.
 *
 * Invariants:
 * 1. Every request is block aligned in the file, in length and in memory: a piece of the
 *    caller's buffer goes straight to the kernel only when its address, its length and its
 *    place in the value are 4 KiB aligned; everything else is copied into the batch's
 *    bounce chunks, and the tail of a value is padded with zeros to its last block.
 * 2. A batch's requests, iovecs and bounce chunks do not move or get reused while any of
 *    its requests is in flight; a batch ends only once none is.
 * 3. A batch reports success only if every request moved all its bytes; any failure is
 *    -DER_IO (-DER_NOSPACE for ENOSPC), after everything it had in flight completed. A
 *    short read is resubmitted for the rest (the iovecs advanced in place); a read that
 *    returns nothing (end of file) fails. A failed read batch leaves the caller's
 *    buffers partly filled, never with bytes of another place of the file.
 * 4. A failed submission may leave requests in the ring: the file then refuses every
 *    later batch (-DER_IO) until it is reopened.
 */
#define D_LOGFAC bio

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bio_internal.h"

#define BD_BLK 4096UL
#define BD_CHUNK (1UL << 20) /* bounce chunk */
#define BD_IOV_MAX 256U      /* iovecs per request */
#define BD_QD 128U
#define BD_RD_MAX (256UL << 10) /* a read request moves at most this: several in flight */

struct bio_data_batch;

/* A queued or in-flight request: one writev or readv of contiguous file bytes. */
struct bd_req {
	struct bio_data_batch *br_batch;
	uint64_t br_off;
	uint64_t br_len;
	uint32_t br_iov; /* first iovec in bb_iovs */
	uint32_t br_niov;
	bool br_read;
};

/* A read batch's copy of bytes read into a bounce block to the caller's buffer. */
struct bd_copy {
	const char *bc_src;
	char *bc_dst;
	uint64_t bc_len;
};

struct bio_data_batch {
	struct bio_data *bb_bd;
	d_list_t bb_link; /* in bd_free_batches while unused */
	struct bd_req *bb_reqs;
	uint32_t bb_nreqs;
	uint32_t bb_reqs_cap;
	struct iovec *bb_iovs;
	uint32_t bb_niovs;
	uint32_t bb_iovs_cap;
	uint32_t bb_next;     /* next request to submit */
	uint32_t bb_inflight; /* submitted, not completed */
	int bb_rc;
	bool bb_read; /* reads (bio_data_read), else writes */
	/* reads: requests to resubmit for the rest of a short read */
	uint32_t *bb_retry;
	uint32_t bb_nretry;
	uint32_t bb_retry_cap;
	/* reads: copies out of the bounce blocks once every request completed */
	struct bd_copy *bb_copies;
	uint32_t bb_ncopies;
	uint32_t bb_copies_cap;
	/* bounce chunks taken from the file's free list; the last one partly used */
	char **bb_chunks;
	uint32_t bb_nchunks;
	uint32_t bb_chunks_cap;
	uint64_t bb_chunk_off;
};

/*
 * Reads shorter than this go through the page cache (bd_rfd), longer ones O_DIRECT (bd_fd):
 * cached small values cost a copy instead of a device read (~100 us on a virtio disk,
 * where a whole 4 KiB fetch round trip is otherwise ~30 us), while large reads through
 * the cache would be punted to io_uring's worker threads and copied twice.
 */
#define BD_CACHED_READ (64U << 10)

/*
 * Write requests shorter than this go through the page cache at once (bd_write_buffered),
 * longer ones O_DIRECT through the ring; DAOS_BIO_BUF_WRITE (bytes, read at open) sets it,
 * 0 sends every write O_DIRECT as before.
 */
#define BD_BUF_WRITE (64U << 10)

/*
 * Write requests of bd_buf_write up to this many bytes go through the ring on the buffered
 * descriptor (bd_rfd) instead of O_DIRECT, so that a fetch of a value written recently
 * finds it in the page cache (bd_read_cached) instead of reading the device; larger ones
 * go O_DIRECT. DAOS_BIO_CACHE_WRITE (bytes, read at open) sets it, 0 = every large write
 * O_DIRECT. See bd_submit. Off by default: with 1 MiB the engine's 1 MiB fetches ran 2-3x
 * faster, but vos_perf's durable 1 MiB updates at 64 in flight fell from 1.03-1.56 to
 * 0.50-0.66 GB/s on the quiet machine, even with each write starting its own write-back
 * (0.28-0.41 without): from one thread at memcpy speed, writes outrun the kernel's
 * write-back of the page cache, which O_DIRECT writes do not wait for (docs/PERFORMANCE.md
 * "Session 10 final figures").
 */
#define BD_CACHE_WRITE 0U

/*
 * Zero-ahead (bd_zero_ahead): before a buffered write lands at or past bd_zero_end, the
 * file is written with zeros from there to this much past the write's end, so that small
 * writes overwrite written extents instead of converting fallocated (unwritten) ones;
 * DAOS_BIO_ZERO_AHEAD (bytes, read at open) sets it, 0 turns it off.
 */
#define BD_ZERO_AHEAD (4U << 20)
#define BD_ZERO_BUF (1U << 20) /* the zeros one iovec of the zero write takes */
#define BD_ZERO_IOV 32U        /* iovecs of one zero write: at most 32 MiB */
#define BD_ZERO_AHEAD_MAX (16U << 20)

struct bio_data {
	int bd_fd;
	int bd_rfd; /* the same file, buffered: reads below BD_CACHED_READ, writes below.. */
	uint64_t bd_buf_write;   /* .. this (BD_BUF_WRITE) */
	uint64_t bd_cache_write; /* larger writes up to this go buffered through the ring */
	/*
	 * each of those writes starts its own write-back when it completes (a linked
	 * sync_file_range(WRITE), DAOS_BIO_WB_START); this names those requests in the ring,
	 * which post a completion only when they fail (bd_wb_done)
	 */
	bool bd_wb_start;
	struct bd_req bd_wbreq;
	/* nothing at or past this offset was written since open (UINT64_MAX: zero-ahead off) */
	uint64_t bd_zero_end;
	uint64_t bd_zero_ahead; /* BD_ZERO_AHEAD */
	uint64_t bd_size;       /* of the file at open: zero-ahead never extends it */
	void *bd_zeros;         /* BD_ZERO_BUF of zeros, mapped on first need */
	/*
	 * the zero write in flight on the ring (bd_zpend): [br_off, br_off + br_len), which
	 * ends at or below bd_zero_end; no write to its blocks is issued until it completed
	 */
	struct bd_req bd_zreq;
	struct bd_req bd_zsync; /* one-sync: the window's fdatasync, linked after its write */
	struct iovec bd_ziov[BD_ZERO_IOV];
	uint32_t bd_zleft; /* requests of the window still in flight (its write, its sync) */
	bool bd_zfail;
	bool bd_zpend;
	/*
	 * one-sync (DAOS_BIO_ONE_SYNC, with zero-ahead): a bit per block, set when the block
	 * is a durably written extent (bio_data_written): written before open (FIEMAP, then an
	 * fdatasync), or zeroed by a window whose fdatasync completed
	 */
	uint64_t *bd_dw;
	bool bd_direct;
	bool bd_broken; /* a submission failed: requests may be stuck in the ring */
	struct io_uring bd_ring;
	bool bd_ring_ok;
	char *bd_path;
	uint32_t bd_inflight;       /* requests in flight, all batches */
	uint32_t bd_nowait_skip;    /* reads left to send to the ring without trying the cache */
	uint32_t bd_nowait_backoff; /* the skip after the next miss: doubles per miss, 0 on a hit */
	uint32_t bd_batches;        /* batches handed out and not ended */
	d_list_t bd_free_batches;
	char **bd_free_chunks;
	uint32_t bd_nfree_chunks;
	uint32_t bd_free_chunks_cap;
	struct bio_data_stats bd_stats;
};

/* The environment variable @name as a byte count, or @def when unset or not a number. */
static uint64_t
bd_env_bytes(const char *name, uint64_t def)
{
	const char *env = getenv(name);
	unsigned long long v;
	char *end;

	if (env == NULL || *env == '\0')
		return def;
	v = strtoull(env, &end, 0);
	return *end == '\0' ? v : def;
}

/* Mark the whole blocks of [@off, @off + @len) durably written (one-sync). */
static void
bd_dw_mark(struct bio_data *bd, uint64_t off, uint64_t len)
{
	uint64_t b = (off + BD_BLK - 1) / BD_BLK;
	uint64_t e = (off + len) / BD_BLK;

	if (bd->bd_dw == NULL)
		return;
	if (e > bd->bd_size / BD_BLK)
		e = bd->bd_size / BD_BLK;
	for (; b < e; b++)
		bd->bd_dw[b / 64] |= 1ULL << (b % 64);
}

bool
bio_data_written(struct bio_data *bd, uint64_t off, uint64_t len)
{
	uint64_t b = off / BD_BLK;
	uint64_t e = (off + len + BD_BLK - 1) / BD_BLK;

	if (bd->bd_dw == NULL || len == 0 || e > bd->bd_size / BD_BLK)
		return false;
	for (; b < e; b++)
		if (!(bd->bd_dw[b / 64] & (1ULL << (b % 64))))
			return false;
	return true;
}

/*
 * Where zero-ahead starts on a file just opened: the end of its last extent that is not
 * unwritten (FIEMAP after a sync, so that delayed allocations are real extents), so that
 * it never writes zeros over bytes written before. UINT64_MAX (off) when the file system
 * has no FIEMAP (tmpfs) or no O_DIRECT here.
 */
static uint64_t
bd_written_end(struct bio_data *bd)
{
	enum { NR_EXT = 64 };
	struct fiemap *fm;
	uint64_t start = 0;
	uint64_t end = 0;
	uint32_t flags = FIEMAP_FLAG_SYNC;
	bool last = false;
	uint32_t i;

	if (!bd->bd_direct)
		return UINT64_MAX;
	D_ALLOC(fm, sizeof(*fm) + NR_EXT * sizeof(struct fiemap_extent));
	if (fm == NULL)
		return UINT64_MAX;
	while (!last && start < bd->bd_size) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = bd->bd_size - start;
		fm->fm_flags = flags;
		fm->fm_extent_count = NR_EXT;
		if (ioctl(bd->bd_fd, FS_IOC_FIEMAP, fm) != 0) {
			end = UINT64_MAX;
			break;
		}
		flags = 0;
		if (fm->fm_mapped_extents == 0)
			break;
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *fe = &fm->fm_extents[i];

			if (!(fe->fe_flags & FIEMAP_EXTENT_UNWRITTEN) &&
			    fe->fe_logical + fe->fe_length > end)
				end = fe->fe_logical + fe->fe_length;
			if (!(fe->fe_flags & (FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_DELALLOC |
					      FIEMAP_EXTENT_UNKNOWN)))
				bd_dw_mark(bd, fe->fe_logical, fe->fe_length);
			if (fe->fe_flags & FIEMAP_EXTENT_LAST)
				last = true;
			start = fe->fe_logical + fe->fe_length;
		}
	}
	D_FREE(fm);
	/* what FIEMAP calls written is so on the device once this returns */
	if (end != UINT64_MAX && bd->bd_dw != NULL && fdatasync(bd->bd_fd) != 0) {
		D_WARN("data file %s: fdatasync at open: %s; one-sync off for it\n", bd->bd_path,
		       strerror(errno));
		D_FREE(bd->bd_dw);
	}
	if (end == UINT64_MAX)
		D_FREE(bd->bd_dw);
	return end;
}

int
bio_data_open(const char *path, struct bio_data **bdp)
{
	struct bio_data *bd;
	struct stat st;
	int rc;

	D_ALLOC_PTR(bd);
	if (bd == NULL)
		return -DER_NOMEM;
	D_INIT_LIST_HEAD(&bd->bd_free_batches);
	bd->bd_rfd = -1;
	bd->bd_fd = open(path, O_RDWR | O_CLOEXEC | O_DIRECT);
	bd->bd_direct = true;
	if (bd->bd_fd < 0 && errno == EINVAL) { /* no O_DIRECT here (tmpfs) */
		bd->bd_fd = open(path, O_RDWR | O_CLOEXEC);
		bd->bd_direct = false;
	}
	if (bd->bd_fd < 0) {
		rc = errno == ENOENT ? -DER_NONEXIST : d_errno2der(errno);
		D_ERROR("cannot open data file %s: %s\n", path, strerror(errno));
		D_FREE(bd);
		return rc;
	}
	/* a killed owner's writes in flight would land on blocks we hand out again */
	rc = bio_file_lock(bd->bd_fd, "data file", path);
	if (rc != 0) {
		close(bd->bd_fd);
		D_FREE(bd);
		return rc;
	}
	/*
	 * small reads (BD_CACHED_READ) and writes (bd_buf_write): O_DIRECT writes invalidate
	 * what they overwrite, O_DIRECT reads and writes write back dirty pages of their range
	 * first, so the two descriptors never see stale bytes of each other's
	 */
	bd->bd_rfd = open(path, O_RDWR | O_CLOEXEC);
	if (bd->bd_rfd < 0) {
		rc = d_errno2der(errno);
		D_ERROR("cannot open data file %s for reading: %s\n", path, strerror(errno));
		close(bd->bd_fd);
		D_FREE(bd);
		return rc;
	}
	/*
	 * The ring's buffered writes (bd_cache_write) run in io_uring's workers, which hold
	 * this description: a killed owner's may still be copying into the page cache after
	 * it is reaped. An open file description lock (independent of the flock on bd_fd,
	 * released when the description goes) makes the next opener wait for them too.
	 */
	rc = bio_lock_wait(bd->bd_rfd, true, "data file", path);
	if (rc != 0) {
		close(bd->bd_rfd);
		close(bd->bd_fd);
		D_FREE(bd);
		return rc;
	}
	bd->bd_buf_write = bd_env_bytes("DAOS_BIO_BUF_WRITE", BD_BUF_WRITE);
	bd->bd_cache_write =
	    bd->bd_direct ? bd_env_bytes("DAOS_BIO_CACHE_WRITE", BD_CACHE_WRITE) : 0;
	bd->bd_wb_start = bd_env_bytes("DAOS_BIO_WB_START", 1) != 0;
	bd->bd_zero_ahead = bd_env_bytes("DAOS_BIO_ZERO_AHEAD", BD_ZERO_AHEAD);
	bd->bd_zero_end = UINT64_MAX;
	D_STRNDUP(bd->bd_path, path, 4096);
	if (bd->bd_zero_ahead != 0 && fstat(bd->bd_fd, &st) == 0) {
		bd->bd_size = (uint64_t)st.st_size;
		if (bd->bd_direct && bio_env_one_sync())
			D_ALLOC_ARRAY(bd->bd_dw, (bd->bd_size / BD_BLK + 63) / 64);
		bd->bd_zero_end = bd_written_end(bd);
		if (bd->bd_zero_ahead > BD_ZERO_AHEAD_MAX)
			bd->bd_zero_ahead = BD_ZERO_AHEAD_MAX;
	}
	rc = io_uring_queue_init(BD_QD, &bd->bd_ring, 0);
	if (rc < 0) {
		D_ERROR("io_uring for %s: %s\n", path, strerror(-rc));
		rc = d_errno2der(-rc);
		bio_data_close(bd);
		return rc;
	}
	bd->bd_ring_ok = true;
	if (bd->bd_path == NULL) {
		bio_data_close(bd);
		return -DER_NOMEM;
	}
	*bdp = bd;
	return 0;
}

/*
 * The rest of read @br after @done of its bytes arrived: advance its iovecs in place and
 * queue it for resubmission (bb_retry has room for every request of the batch).
 */
static void
bd_req_advance(struct bio_data_batch *bb, struct bd_req *br, uint64_t done)
{
	struct iovec *iov = &bb->bb_iovs[br->br_iov];

	br->br_off += done;
	br->br_len -= done;
	while (done > 0) {
		uint64_t n = done < iov->iov_len ? done : iov->iov_len;

		iov->iov_base = (char *)iov->iov_base + n;
		iov->iov_len -= n;
		done -= n;
		if (iov->iov_len == 0) {
			iov++;
			br->br_iov++;
			br->br_niov--;
		}
	}
	D_ASSERT(bb->bb_nretry < bb->bb_retry_cap);
	bb->bb_retry[bb->bb_nretry++] = (uint32_t)(br - bb->bb_reqs);
}

/* Request @br moved @res bytes (a negative errno) instead of all: fail its batch. */
static void
bd_req_fail(struct bio_data *bd, struct bd_req *br, int res)
{
	struct bio_data_batch *bb = br->br_batch;

	if (bb->bb_rc != 0)
		return;
	bb->bb_rc = res == -ENOSPC ? -DER_NOSPACE : -DER_IO;
	bd->bd_stats.ds_errors++;
	D_ERROR("data file %s: %s of %" PRIu64 " bytes at %" PRIu64 " failed: %s: " DF_RC "\n",
		bd->bd_path, br->br_read ? "read" : "write", br->br_len, br->br_off,
		res < 0 ? strerror(-res) : (res == 0 && br->br_read ? "end of file" : "short"),
		DP_RC(bb->bb_rc));
}

/*
 * A request of the zero window in flight (@br: its write, or its linked fdatasync with
 * one-sync) completed with @res; once both did, its blocks may be written, and with
 * one-sync they are durably written extents.
 */
static void
bd_zero_done(struct bio_data *bd, struct bd_req *br, int res)
{
	D_ASSERT(bd->bd_zpend && bd->bd_zleft > 0);
	if (br == &bd->bd_zsync ? res < 0 : (res < 0 || (uint64_t)res != br->br_len))
		bd->bd_zfail = true;
	if (--bd->bd_zleft > 0)
		return;
	bd->bd_zpend = false;
	if (!bd->bd_zfail) {
		bd->bd_stats.ds_zero_bytes += bd->bd_zreq.br_len;
		if (bd->bd_zsync.br_len != 0)
			bd_dw_mark(bd, bd->bd_zreq.br_off, bd->bd_zreq.br_len);
		return;
	}
	/* blocks never written: part of them zeros, part unwritten, both read as zeros */
	D_WARN("data file %s: zero-ahead of %" PRIu64 " bytes at %" PRIu64 " failed (%s); off\n",
	       bd->bd_path, bd->bd_zreq.br_len, bd->bd_zreq.br_off,
	       res < 0 ? strerror(-res) : "short");
	bd->bd_zero_end = UINT64_MAX;
}

/*
 * The write-back start linked after a cached write (bd_submit) failed with @res: the
 * write's pages stay dirty until the next data sync writes them back, which reports a
 * write-back error itself. -ECANCELED: the write failed or was short (its batch says so).
 */
static void
bd_wb_done(struct bio_data *bd, int res)
{
	if (res == -ECANCELED)
		return;
	if (bd->bd_stats.ds_wb_errors++ == 0)
		D_WARN("data file %s: starting the write-back of a cached write failed: %s; the "
		       "next data sync writes it back\n",
		       bd->bd_path, strerror(-res));
}

/*
 * Reap every completion there is, crediting each to its batch (the zero write to none; a
 * failed write-back start, not in flight for anyone, to bd_wb_done).
 */
static void
bd_reap(struct bio_data *bd)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&bd->bd_ring, &cqe) == 0) {
		struct bd_req *br = (struct bd_req *)(uintptr_t)io_uring_cqe_get_data64(cqe);
		struct bio_data_batch *bb = br->br_batch;
		int res = cqe->res;

		io_uring_cqe_seen(&bd->bd_ring, cqe);
		if (br == &bd->bd_wbreq) {
			bd_wb_done(bd, res);
			continue;
		}
		D_ASSERT(bd->bd_inflight > 0);
		bd->bd_inflight--;
		bd->bd_stats.ds_done++;
		if (bb == NULL) {
			bd_zero_done(bd, br, res);
			continue;
		}
		bb->bb_inflight--;
		if (br->br_read) {
			if (D_FAIL_CHECK(BIO_FI_DATA_READ))
				res = -EIO;
			else if (res > (int)BD_BLK && D_FAIL_CHECK(BIO_FI_DATA_SHORT))
				res = (int)(((uint64_t)res / 2) & ~(BD_BLK - 1));
			if (res > 0 && (uint64_t)res < br->br_len && bb->bb_rc == 0) {
				bd->bd_stats.ds_short_reads++;
				bd_req_advance(bb, br, (uint64_t)res);
				continue;
			}
		} else if (D_FAIL_CHECK(BIO_FI_DATA_WRITE)) {
			res = -EIO;
		}
		if (res < 0 || (uint64_t)res != br->br_len)
			bd_req_fail(bd, br, res);
	}
}

static void
bd_batch_free(struct bio_data_batch *bb)
{
	D_FREE(bb->bb_reqs);
	D_FREE(bb->bb_iovs);
	D_FREE(bb->bb_chunks);
	D_FREE(bb->bb_retry);
	D_FREE(bb->bb_copies);
	D_FREE(bb);
}

void
bio_data_close(struct bio_data *bd)
{
	struct bio_data_batch *bb, *tmp;
	uint32_t i;

	if (bd == NULL)
		return;
	D_ASSERT(bd->bd_batches == 0);
	if (bd->bd_ring_ok) {
		while (bd->bd_inflight > 0 && bio_data_wait_io(bd) == 0)
			bd_reap(bd);
		io_uring_queue_exit(&bd->bd_ring);
	}
	if (bd->bd_fd >= 0)
		close(bd->bd_fd);
	if (bd->bd_rfd >= 0)
		close(bd->bd_rfd);
	d_list_for_each_entry_safe (bb, tmp, &bd->bd_free_batches, bb_link) {
		d_list_del(&bb->bb_link);
		bd_batch_free(bb);
	}
	for (i = 0; i < bd->bd_nfree_chunks; i++)
		munmap(bd->bd_free_chunks[i], BD_CHUNK);
	if (bd->bd_zeros != NULL)
		munmap(bd->bd_zeros, BD_ZERO_BUF);
	D_FREE(bd->bd_dw);
	D_FREE(bd->bd_free_chunks);
	D_FREE(bd->bd_path);
	D_FREE(bd);
}

int
bio_data_set_eventfd(struct bio_data *bd, int fd)
{
	int rc = io_uring_register_eventfd(&bd->bd_ring, fd);

	if (rc < 0) {
		D_ERROR("data file %s: cannot register an eventfd: %s\n", bd->bd_path,
			strerror(-rc));
		return d_errno2der(-rc);
	}
	return 0;
}

bool
bio_data_ready(struct bio_data *bd)
{
	if (!bd->bd_ring_ok || io_uring_cq_ready(&bd->bd_ring) == 0)
		return false;
	/* only failed write-back starts, which nobody waits for: reap them, or never sleep */
	if (bd->bd_inflight == 0) {
		bd_reap(bd);
		return false;
	}
	/*
	 * A zero write has no waiter to reap it when no write waits for its blocks: reap here,
	 * or the xstream would never sleep. What this reaps counts in ds_done, so the caller's
	 * next look at bio_data_done() sees progress and wakes the waiters of those batches.
	 */
	if (bd->bd_zpend)
		bd_reap(bd);
	return true;
}

uint64_t
bio_data_done(struct bio_data *bd)
{
	return bd->bd_stats.ds_done;
}

int
bio_data_fd(struct bio_data *bd)
{
	return bd->bd_fd;
}

static int
bd_grow(void **arr, uint32_t *cap, uint32_t nr, size_t elem)
{
	uint32_t ncap;
	void *p;

	if (nr < *cap)
		return 0;
	ncap = *cap == 0 ? 16 : *cap * 2;
	p = d_realloc_array(*arr, ncap, elem);
	if (p == NULL)
		return -DER_NOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int
bio_data_batch_get(struct bio_data *bd, struct bio_data_batch **bbp)
{
	struct bio_data_batch *bb;

	if (bd->bd_broken)
		return -DER_IO;
	if (!d_list_empty(&bd->bd_free_batches)) {
		bb = d_list_entry(bd->bd_free_batches.next, struct bio_data_batch, bb_link);
		d_list_del_init(&bb->bb_link);
	} else {
		D_ALLOC_PTR(bb);
		if (bb == NULL)
			return -DER_NOMEM;
		D_INIT_LIST_HEAD(&bb->bb_link);
		bb->bb_bd = bd;
	}
	bd->bd_batches++;
	*bbp = bb;
	return 0;
}

/* End @bb (nothing of it in flight): its chunks go back to the file, it to the cache. */
static void
bd_batch_put(struct bio_data_batch *bb)
{
	struct bio_data *bd = bb->bb_bd;
	uint32_t i;

	D_ASSERT(bb->bb_inflight == 0 && bd->bd_batches > 0);
	for (i = 0; i < bb->bb_nchunks; i++) {
		/* room was made when the chunk was taken */
		D_ASSERT(bd->bd_nfree_chunks < bd->bd_free_chunks_cap);
		bd->bd_free_chunks[bd->bd_nfree_chunks++] = bb->bb_chunks[i];
	}
	bb->bb_nchunks = 0;
	bb->bb_chunk_off = 0;
	bb->bb_nreqs = 0;
	bb->bb_niovs = 0;
	bb->bb_next = 0;
	bb->bb_rc = 0;
	bb->bb_read = false;
	bb->bb_nretry = 0;
	bb->bb_ncopies = 0;
	bd->bd_batches--;
	d_list_add(&bb->bb_link, &bd->bd_free_batches);
}

/*
 * Append [buf, buf + len) to the open request, or start one (at file offset @off for the
 * first, right after the previous one's bytes for the next): a request covers contiguous
 * file bytes.
 */
static int
bd_iov_add(struct bio_data_batch *bb, struct bd_req **brp, uint64_t off, void *buf, uint64_t len)
{
	struct bd_req *br = *brp;
	struct iovec *last;
	int rc;

	if (br != NULL && br->br_niov > 0 && (!bb->bb_read || br->br_len + len <= BD_RD_MAX)) {
		last = &bb->bb_iovs[br->br_iov + br->br_niov - 1];
		if ((char *)last->iov_base + last->iov_len == buf) {
			last->iov_len += len; /* contiguous with the previous piece */
			br->br_len += len;
			return 0;
		}
	}
	if (br == NULL || br->br_niov == BD_IOV_MAX ||
	    (bb->bb_read && br->br_len + len > BD_RD_MAX)) {
		/* before bd_grow: it may move bb_reqs, and br with it */
		if (br != NULL)
			off = br->br_off + br->br_len;
		rc = bd_grow((void **)&bb->bb_reqs, &bb->bb_reqs_cap, bb->bb_nreqs,
			     sizeof(*bb->bb_reqs));
		if (rc == 0 && bb->bb_read)
			rc = bd_grow((void **)&bb->bb_retry, &bb->bb_retry_cap, bb->bb_nreqs,
				     sizeof(*bb->bb_retry));
		if (rc != 0)
			return rc;
		br = &bb->bb_reqs[bb->bb_nreqs++];
		br->br_batch = bb;
		br->br_off = off;
		br->br_len = 0;
		br->br_iov = bb->bb_niovs;
		br->br_niov = 0;
		br->br_read = bb->bb_read;
		*brp = br;
	}
	rc = bd_grow((void **)&bb->bb_iovs, &bb->bb_iovs_cap, bb->bb_niovs, sizeof(*bb->bb_iovs));
	if (rc != 0)
		return rc;
	bb->bb_iovs[bb->bb_niovs].iov_base = buf;
	bb->bb_iovs[bb->bb_niovs].iov_len = len;
	bb->bb_niovs++;
	br->br_niov++;
	br->br_len += len;
	return 0;
}

/* A bounce block of the batch (a new chunk when the last one is full). */
static char *
bd_bounce(struct bio_data_batch *bb)
{
	struct bio_data *bd = bb->bb_bd;
	char *p;
	int rc;

	if (bb->bb_nchunks == 0 || bb->bb_chunk_off == BD_CHUNK) {
		rc = bd_grow((void **)&bb->bb_chunks, &bb->bb_chunks_cap, bb->bb_nchunks,
			     sizeof(*bb->bb_chunks));
		/* the file's free list must take every chunk back without allocating */
		if (rc == 0)
			rc = bd_grow((void **)&bd->bd_free_chunks, &bd->bd_free_chunks_cap,
				     (uint32_t)bd->bd_stats.ds_chunks, sizeof(*bd->bd_free_chunks));
		if (rc != 0)
			return NULL;
		if (bd->bd_nfree_chunks > 0) {
			p = bd->bd_free_chunks[--bd->bd_nfree_chunks];
		} else {
			p = mmap(NULL, BD_CHUNK, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				return NULL;
			bd->bd_stats.ds_chunks++;
		}
		bb->bb_chunks[bb->bb_nchunks++] = p;
		bb->bb_chunk_off = 0;
	}
	p = bb->bb_chunks[bb->bb_nchunks - 1] + bb->bb_chunk_off;
	bb->bb_chunk_off += BD_BLK;
	return p;
}

int
bio_data_write(struct bio_data_batch *bb, uint64_t off, const struct iovec *iov, unsigned int nr)
{
	struct bio_data *bd = bb->bb_bd;
	struct bd_req *br = NULL;
	uint64_t pos = 0; /* bytes of the value placed so far */
	char *blk = NULL; /* the bounce block being filled */
	unsigned int i;
	int rc;

	D_ASSERT(bb->bb_next == 0 && !bb->bb_read && off % BD_BLK == 0);
	for (i = 0; i < nr; i++) {
		const char *buf = iov[i].iov_base;
		uint64_t n = iov[i].iov_len;

		while (n > 0) {
			uint64_t m;

			if (pos % BD_BLK == 0 && (uintptr_t)buf % BD_BLK == 0 && n >= BD_BLK) {
				/* whole aligned blocks straight from the caller's buffer */
				m = n & ~(BD_BLK - 1);
				rc = bd_iov_add(bb, &br, off, (void *)buf, m);
				bd->bd_stats.ds_direct_bytes += m;
			} else {
				m = BD_BLK - pos % BD_BLK;
				if (m > n)
					m = n;
				rc = 0;
				if (pos % BD_BLK == 0) {
					blk = bd_bounce(bb);
					if (blk == NULL)
						return -DER_NOMEM;
					rc = bd_iov_add(bb, &br, off, blk, BD_BLK);
				}
				memcpy(blk + pos % BD_BLK, buf, m);
				bd->bd_stats.ds_bounce_bytes += m;
			}
			if (rc != 0)
				return rc;
			buf += m;
			n -= m;
			pos += m;
		}
	}
	if (pos % BD_BLK != 0)
		memset(blk + pos % BD_BLK, 0, BD_BLK - pos % BD_BLK);
	return 0;
}

int
bio_data_read(struct bio_data_batch *bb, uint64_t off, const struct iovec *iov, unsigned int nr)
{
	struct bio_data *bd = bb->bb_bd;
	struct bd_req *br = NULL;
	uint64_t pos = off;  /* file offset of the next byte */
	char *blk = NULL;    /* the bounce block holding the block of pos, if any */
	uint64_t blk_at = 0; /* file offset of that block */
	unsigned int i;
	int rc;

	D_ASSERT(bb->bb_next == 0 && (bb->bb_nreqs == 0 || bb->bb_read));
	bb->bb_read = true;
	for (i = 0; i < nr; i++) {
		char *buf = iov[i].iov_base;
		uint64_t n = iov[i].iov_len;

		while (n > 0) {
			uint64_t m;

			if (pos % BD_BLK == 0 && (uintptr_t)buf % BD_BLK == 0 && n >= BD_BLK) {
				/* whole aligned blocks straight into the caller's buffer */
				m = n & ~(BD_BLK - 1);
				if (m > BD_RD_MAX)
					m = BD_RD_MAX;
				rc = bd_iov_add(bb, &br, pos, buf, m);
				bd->bd_stats.ds_direct_bytes += m;
			} else {
				uint64_t at = pos & ~(BD_BLK - 1);
				struct bd_copy *bc;

				m = BD_BLK - pos % BD_BLK;
				if (m > n)
					m = n;
				rc = 0;
				if (blk == NULL || blk_at != at) {
					blk = bd_bounce(bb);
					if (blk == NULL)
						return -DER_NOMEM;
					blk_at = at;
					rc = bd_iov_add(bb, &br, at, blk, BD_BLK);
				}
				if (rc == 0)
					rc = bd_grow((void **)&bb->bb_copies, &bb->bb_copies_cap,
						     bb->bb_ncopies, sizeof(*bb->bb_copies));
				if (rc != 0)
					return rc;
				bc = &bb->bb_copies[bb->bb_ncopies++];
				bc->bc_src = blk + pos % BD_BLK;
				bc->bc_dst = buf;
				bc->bc_len = m;
				bd->bd_stats.ds_bounce_bytes += m;
			}
			if (rc != 0)
				return rc;
			buf += m;
			n -= m;
			pos += m;
		}
	}
	return 0;
}

/*
 * Serve read @br at once if the page cache holds all of its bytes: a preadv2 with
 * RWF_NOWAIT on the buffered descriptor, which never waits for the device (no readahead
 * either: an uncached page makes it return -EAGAIN, or short). A hit costs a copy on this
 * thread and no ring round trip, so the fetch need not park at all; a miss or a partial hit
 * (whatever it copied is overwritten) leaves the request to the ring, as before. A miss
 * costs a failed system call (~2-7 us here), so after each one the next 1, 2, 4 .. 64 reads
 * skip the attempt until one hits: a file whose values are never cached (O_DIRECT writes)
 * pays it on one read in 64. Skipped while fault injection is armed, so that faults 208 and
 * 209 see every read. Only for reads of BD_CACHED_READ or more (the O_DIRECT ones): the
 * smaller ones already go through the page cache (bd_rfd), which the ring serves inline
 * when it holds them, and a missed RWF_NOWAIT read starts a readahead that the ring read
 * then waits for: every 4 KiB fetch of fresh values took ~1.2 ms (p50, QD1) that way.
 */
#define BD_NOWAIT_BACKOFF_MAX 64U

static bool
bd_read_cached(struct bio_data *bd, struct bio_data_batch *bb, struct bd_req *br)
{
	ssize_t rc;

	if (__atomic_load_n(&d_fault_inject_enabled, __ATOMIC_RELAXED) != 0)
		return false;
	if (bd->bd_nowait_skip > 0) {
		bd->bd_nowait_skip--;
		return false;
	}
	rc = preadv2(bd->bd_rfd, &bb->bb_iovs[br->br_iov], (int)br->br_niov, (off_t)br->br_off,
		     RWF_NOWAIT);
	if (rc < 0 || (uint64_t)rc != br->br_len) {
		bd->bd_stats.ds_cache_misses++;
		bd->bd_nowait_backoff = bd->bd_nowait_backoff == 0 ? 1 : bd->bd_nowait_backoff * 2;
		if (bd->bd_nowait_backoff > BD_NOWAIT_BACKOFF_MAX)
			bd->bd_nowait_backoff = BD_NOWAIT_BACKOFF_MAX;
		bd->bd_nowait_skip = bd->bd_nowait_backoff;
		return false;
	}
	bd->bd_nowait_backoff = 0;
	bd->bd_stats.ds_cached_reads++;
	return true;
}

/*
 * Write @br at once through the page cache (bd_rfd, buffered) on this thread: a copy into
 * the cache, no ring round trip, so the batch completes without waiting and the ULT need
 * not park. Durability is unchanged: the fdatasync of the data file that the WAL flush
 * carries ahead of the records (bio_wal_dep_sync) writes the dirty pages back and flushes
 * the device cache, on whichever descriptor. ext4 has no non-blocking buffered writes
 * (RWF_NOWAIT is EOPNOTSUPP, and io_uring punts them to its workers), so this is a plain
 * pwritev: ~1-7 us for 4 KiB (more the first time a page of a fresh extent is written),
 * against an io_uring_enter of an O_DIRECT write plus the park, wake-up and reap of the
 * ULT. Only for requests below bd_buf_write (BD_BUF_WRITE): larger ones go O_DIRECT,
 * through the ring, as the copy would cost more than the system call.
 */
static void
bd_write_buffered(struct bio_data *bd, struct bio_data_batch *bb, struct bd_req *br)
{
	ssize_t rc;

	do {
		rc = pwritev(bd->bd_rfd, &bb->bb_iovs[br->br_iov], (int)br->br_niov,
			     (off_t)br->br_off);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		rc = -errno;
	if (D_FAIL_CHECK(BIO_FI_DATA_WRITE))
		rc = -EIO;
	bd->bd_stats.ds_buffered_writes++;
	if (rc < 0 || (uint64_t)rc != br->br_len)
		bd_req_fail(bd, br, (int)rc);
}

/*
 * Zero-ahead. ext4 makes a fallocated file of unwritten extents; the first write of a block
 * converts its extent, and the data file's next fdatasync then writes the extent tree and
 * the inode too (nojournal: two more synchronous device writes on the WAL flush's critical
 * path; a journal: a commit). Small writes of fresh blocks would pay it on every flush, so
 * the file gets zeros ahead of them, O_DIRECT, through the ring, a window of bd_zero_ahead
 * from bd_zero_end when a small write comes within bd_zero_ahead / 2 of it: the conversion
 * is paid once per window, in the zero write, off the xstream.
 *
 * Safety: only blocks never written since open are zeroed. Nothing at or past bd_zero_end
 * was written since open or is being written (every write moves it past its end before it
 * is issued; a large O_DIRECT write does so without zeroing, as its conversion costs
 * little per byte), and the window in flight (bd_zreq) lies below it: a write that
 * overlaps the window, or a small one past bd_zero_end while a window is in flight, waits
 * (bd_submit stops before it; the batch waits through the caller's hook, which parks the
 * ULT, until the zero write's completion lets it go), since the ring's zero write and a
 * write of the same blocks have no order and the zeros could land last. A small write past
 * bd_zero_end with no window in flight issues one from bd_zero_end to bd_zero_ahead past
 * it and waits for it: the conversion of its own block would cost its flush as much as
 * the wait. Zeroed blocks read as zeros already, so the bytes of the file never change;
 * nor does durability: a lost conversion leaves zeros, which no durable WAL record
 * references. A failed zero write turns zero-ahead off for good and costs nothing else.
 */

/* Queue a zero write of [@from, @to) (block aligned) on the ring; false if none can go. */
static bool
bd_zero_issue(struct bio_data *bd, uint64_t from, uint64_t to)
{
	struct io_uring_sqe *sqe;
	uint64_t off;
	uint32_t n = 0;

	if (to > bd->bd_size)
		to = bd->bd_size & ~((uint64_t)BD_BLK - 1);
	if (to <= from)
		return false;
	if (to - from > (uint64_t)BD_ZERO_IOV * BD_ZERO_BUF)
		from = to - (uint64_t)BD_ZERO_IOV * BD_ZERO_BUF; /* below: left unwritten */
	if (bd->bd_zeros == NULL) {
		void *p = mmap(NULL, BD_ZERO_BUF, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			bd->bd_zero_end = UINT64_MAX;
			return false;
		}
		bd->bd_zeros = p;
	}
	if (io_uring_sq_space_left(&bd->bd_ring) < 2)
		return false;
	sqe = io_uring_get_sqe(&bd->bd_ring);
	for (off = from; off < to; off += BD_ZERO_BUF, n++) {
		bd->bd_ziov[n].iov_base = bd->bd_zeros;
		bd->bd_ziov[n].iov_len = to - off < BD_ZERO_BUF ? to - off : BD_ZERO_BUF;
	}
	bd->bd_zreq.br_batch = NULL;
	bd->bd_zreq.br_off = from;
	bd->bd_zreq.br_len = to - from;
	bd->bd_zreq.br_read = false;
	io_uring_prep_writev(sqe, bd->bd_fd, bd->bd_ziov, n, from);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)&bd->bd_zreq);
	bd->bd_zleft = 1;
	bd->bd_zfail = false;
	bd->bd_zsync.br_batch = NULL;
	bd->bd_zsync.br_len = 0;
	if (bd->bd_dw != NULL) {
		/* one-sync: the conversion durable, so the blocks count as written (bd_dw) */
		sqe->flags |= IOSQE_IO_LINK;
		sqe = io_uring_get_sqe(&bd->bd_ring);
		io_uring_prep_fsync(sqe, bd->bd_fd, IORING_FSYNC_DATASYNC);
		io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)&bd->bd_zsync);
		bd->bd_zsync.br_len = 1; /* marks a window with a sync */
		bd->bd_zleft = 2;
	}
	bd->bd_zpend = true;
	bd->bd_zero_end = to;
	bd->bd_stats.ds_zero_writes++;
	return true;
}

/*
 * Write @br is next (zero-ahead on): true if it must wait for the zero write in flight
 * (possibly the one this call queued, counted in *@nz); else move bd_zero_end past it and,
 * for a small write near bd_zero_end, queue the next window ahead of it.
 */
static bool
bd_zero_gate(struct bio_data *bd, struct bd_req *br, uint32_t *nz)
{
	uint64_t end = (br->br_off + br->br_len + BD_BLK - 1) & ~((uint64_t)BD_BLK - 1);
	bool small = br->br_len < bd->bd_buf_write;
	uint64_t ahead = (end + bd->bd_zero_ahead + BD_BLK - 1) & ~((uint64_t)BD_BLK - 1);

	if (bd->bd_zpend && end > bd->bd_zreq.br_off &&
	    br->br_off < bd->bd_zreq.br_off + bd->bd_zreq.br_len) {
		bd->bd_stats.ds_zero_waits++;
		return true;
	}
	if (!small) {
		if (end > bd->bd_zero_end)
			bd->bd_zero_end = end;
		return false;
	}
	if (end > bd->bd_zero_end) {
		if (!bd->bd_zpend && bd_zero_issue(bd, bd->bd_zero_end, ahead))
			*nz += bd->bd_zleft;
		if (bd->bd_zpend && bd->bd_zero_end != UINT64_MAX) {
			bd->bd_stats.ds_zero_waits++;
			return true; /* one window at a time: the next one after it */
		}
		if (end > bd->bd_zero_end && bd->bd_zero_end != UINT64_MAX)
			bd->bd_zero_end = end; /* none can go (end of file, no sqe): unzeroed */
		return false;
	}
	/* a whole window each time: conversions (and syncs carrying them) per byte as before */
	if (!bd->bd_zpend && end + bd->bd_zero_ahead / 2 > bd->bd_zero_end &&
	    bd_zero_issue(bd, bd->bd_zero_end, bd->bd_zero_end + bd->bd_zero_ahead))
		*nz += bd->bd_zleft;
	return false;
}

/*
 * Link to the cached write @wsqe (of @br) a sync_file_range(SYNC_FILE_RANGE_WRITE) of its
 * range: once the write copied its bytes into the page cache, an io_uring worker starts
 * writing them back, no wait. Otherwise they stay dirty until the next WAL flush's data
 * sync, which then writes back everything written since the last one at once: a flush of
 * 64 updates of 1 MiB spent ~240 ms there where O_DIRECT writes had gone to the device as
 * they came (bio README, "Large writes are left in the page cache"). Durability is not its
 * business: that sync still writes back (and waits for) whatever is not yet on the device.
 * Only a failure posts a completion (bd_wb_done); the space is checked by the caller.
 */
static void
bd_wb_queue(struct bio_data *bd, struct io_uring_sqe *wsqe, struct bd_req *br)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&bd->bd_ring);
	/* the kernel fails it (-EBADF), as it would a real failure: no descriptor */
	int fd = D_FAIL_CHECK(BIO_FI_DATA_WB) ? -1 : bd->bd_rfd;

	wsqe->flags |= IOSQE_IO_LINK;
	io_uring_prep_sync_file_range(sqe, fd, (unsigned int)br->br_len, br->br_off,
				      SYNC_FILE_RANGE_WRITE);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)&bd->bd_wbreq);
	bd->bd_stats.ds_wb_starts++;
}

/* Submit @bb's queued requests while the ring has room. */
static int
bd_submit(struct bio_data_batch *bb)
{
	struct bio_data *bd = bb->bb_bd;
	uint32_t n = 0;  /* the batch's requests queued, and .. */
	uint32_t nw = 0; /* .. write-back starts after some (no completion on success) */
	uint64_t wpos[BD_QD / 64 + 1] = {0}; /* which of those n + nw SQEs are the latter */
	uint32_t nz = 0;                     /* a zero write queued (bd_zero_gate) .. */
	uint32_t zi = 0;                     /* .. after this many of those n + nw SQEs */
	uint32_t w = 0;
	int rc;

	if ((bb->bb_nretry > 0 || bb->bb_next < bb->bb_nreqs) && D_FAIL_CHECK(BIO_FI_DATA_SUBMIT)) {
		/* as a refused submission, before any request is prepared */
		D_ERROR("data file %s: io_uring_submit: injected failure\n", bd->bd_path);
		bb->bb_rc = -DER_IO;
		return -DER_IO;
	}
	while ((bb->bb_nretry > 0 || bb->bb_next < bb->bb_nreqs) &&
	       bd->bd_inflight + n + nw + nz + 2 < BD_QD) {
		bool retry = bb->bb_nretry > 0;
		bool wb;
		struct bd_req *br = retry ? &bb->bb_reqs[bb->bb_retry[bb->bb_nretry - 1]]
					  : &bb->bb_reqs[bb->bb_next];
		struct io_uring_sqe *sqe;

		if (!retry && br->br_read && br->br_len >= BD_CACHED_READ &&
		    bd_read_cached(bd, bb, br)) {
			bb->bb_next++;
			bd->bd_stats.ds_reads++;
			bd->bd_stats.ds_read_bytes += br->br_len;
			continue;
		}
		if (!retry && !br->br_read && bd->bd_zero_end != UINT64_MAX) {
			uint32_t z = nz;
			bool wait = bd_zero_gate(bd, br, &nz);

			if (nz != z)
				zi = n + nw;
			if (wait)
				break; /* bb waits for the zero write, through its hook */
		}
		if (!br->br_read && br->br_len < bd->bd_buf_write) {
			bd_write_buffered(bd, bb, br);
			bb->bb_next++;
			bd->bd_stats.ds_writes++;
			bd->bd_stats.ds_bytes += br->br_len;
			continue;
		}
		wb = !br->br_read && br->br_len <= bd->bd_cache_write && bd->bd_wb_start;
		if (io_uring_sq_space_left(&bd->bd_ring) < (wb ? 2U : 1U))
			break;
		sqe = io_uring_get_sqe(&bd->bd_ring);
		if (br->br_read)
			io_uring_prep_readv(sqe,
					    br->br_len < BD_CACHED_READ ? bd->bd_rfd : bd->bd_fd,
					    &bb->bb_iovs[br->br_iov], br->br_niov, br->br_off);
		else if (br->br_len <= bd->bd_cache_write)
			/* buffered: left in the page cache for fetches (bd_read_cached) */
			io_uring_prep_writev(sqe, bd->bd_rfd, &bb->bb_iovs[br->br_iov], br->br_niov,
					     br->br_off);
		else
			io_uring_prep_writev(sqe, bd->bd_fd, &bb->bb_iovs[br->br_iov], br->br_niov,
					     br->br_off);
		io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)br);
		if (wb) {
			bd_wb_queue(bd, sqe, br);
			wpos[(n + nw + 1) / 64] |= 1ULL << ((n + nw + 1) % 64);
			nw++;
		}
		if (retry) {
			bb->bb_nretry--;
		} else {
			bb->bb_next++;
			if (br->br_read) {
				bd->bd_stats.ds_reads++;
				bd->bd_stats.ds_read_bytes += br->br_len;
			} else {
				bd->bd_stats.ds_writes++;
				bd->bd_stats.ds_bytes += br->br_len;
				if (br->br_len <= bd->bd_cache_write)
					bd->bd_stats.ds_cache_writes++;
			}
		}
		n++;
	}
	if (n + nz == 0)
		return 0;
	rc = io_uring_submit(&bd->bd_ring);
	if (rc > 0) {
		/* the window's requests (nz) were queued after zi of the others */
		uint32_t zs = (uint32_t)rc > zi ? (uint32_t)rc - zi : 0;
		uint32_t i;

		if (zs > nz)
			zs = nz;
		/* write-back starts among the others that went: in flight for nobody */
		for (i = 0; i < (uint32_t)rc - zs; i++)
			w += (uint32_t)(wpos[i / 64] >> (i % 64)) & 1U;
		bd->bd_inflight += (uint32_t)rc - w;
		bb->bb_inflight += (uint32_t)rc - zs - w;
		if (nz > 0 && zs < nz)
			bd->bd_zleft = zs; /* only these went (the file is broken below) */
	}
	if (rc != (int)(n + nw + nz)) {
		if (nz > 0 && (rc < 0 || (uint32_t)rc <= zi))
			bd->bd_zpend = false; /* never went */
		bd->bd_zero_end = UINT64_MAX;
		/* requests left in the ring would go out with a later batch: stop for good */
		D_ERROR("data file %s: io_uring_submit: %s; no more writes until reopened\n",
			bd->bd_path, rc < 0 ? strerror(-rc) : "short");
		bd->bd_broken = true;
		if (bb->bb_rc == 0)
			bb->bb_rc = -DER_IO;
		return -DER_IO;
	}
	return 0;
}

int
bio_data_submit_wait(struct bio_data_batch *bb, bio_wal_wait_cb_t wait, void *arg)
{
	struct bio_data *bd = bb->bb_bd;
	int rc = 0;

	if (bd->bd_broken && bb->bb_nreqs > 0)
		bb->bb_rc = -DER_IO;
	while (bb->bb_rc == 0 &&
	       (bb->bb_next < bb->bb_nreqs || bb->bb_nretry > 0 || bb->bb_inflight > 0)) {
		rc = bd_submit(bb);
		if (rc != 0)
			break;
		if (bb->bb_inflight == 0 && bb->bb_next == bb->bb_nreqs && bb->bb_nretry == 0)
			break; /* all done at once (buffered writes, cached reads): no wait */
		rc = wait != NULL ? wait(arg) : bio_data_wait_io(bd);
		if (rc != 0)
			break;
		bd_reap(bd);
	}
	/* the kernel may still read our buffers: drain before giving them back */
	while (bb->bb_inflight > 0) {
		int wrc = wait != NULL ? wait(arg) : -DER_INVAL;

		if (wrc != 0 && bio_data_wait_io(bd) != 0)
			break;
		bd_reap(bd);
	}
	if (rc == 0)
		rc = bb->bb_rc;
	if (rc == 0 && bb->bb_read) {
		uint32_t i;

		for (i = 0; i < bb->bb_ncopies; i++)
			memcpy(bb->bb_copies[i].bc_dst, bb->bb_copies[i].bc_src,
			       bb->bb_copies[i].bc_len);
	}
	if (bb->bb_inflight == 0)
		bd_batch_put(bb);
	/* else: the ring cannot be waited on; the batch is leaked rather than reused */
	return rc;
}

void
bio_data_cancel(struct bio_data_batch *bb)
{
	D_ASSERT(bb->bb_next == 0 && bb->bb_nretry == 0);
	bd_batch_put(bb);
}

int
bio_data_wait_io(void *arg)
{
	struct bio_data *bd = arg;
	struct io_uring_cqe *cqe;
	int rc;

	if (bd->bd_inflight == 0)
		return 0;
	do {
		rc = io_uring_wait_cqe(&bd->bd_ring, &cqe);
	} while (rc == -EINTR);
	return rc == 0 ? 0 : d_errno2der(-rc);
}

void
bio_data_query(struct bio_data *bd, struct bio_data_stats *st)
{
	*st = bd->bd_stats;
	st->ds_direct = bd->bd_direct;
	st->ds_free_chunks = bd->bd_nfree_chunks;
	st->ds_zero_inflight = bd->bd_zpend;
}
