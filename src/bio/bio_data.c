/*
 * bio_data.c: writes of bulk values to a pool shard's data file: O_DIRECT through the
 * file's own io_uring, from the caller's buffers where they are aligned and from a bounce
 * arena where they are not. Sits on liburing. The durability of these writes is the WAL's
 * business: after a batch completed, the caller asks the WAL (bio_wal_dep_sync) to
 * fdatasync the data file ahead of the log records that reference it, so all the updates
 * of one WAL flush share one data sync.
 *
 * A batch: bio_data_write() queues writes (no system call), bio_data_submit_wait() submits
 * them and waits through the caller's hook until all completed. One batch at a time.
 *
 * Invariants:
 * 1. Every request is block aligned in the file, in length and in memory: a piece of the
 *    caller's buffer goes straight to the kernel only when its address, its length and its
 *    place in the value are 4 KiB aligned; everything else is copied into the bounce arena,
 *    and the tail of a value is padded with zeros to its last block.
 * 2. Bounce chunks never move while a batch is queued or in flight (the arena grows by
 *    adding chunks) and are reused only after the batch completed.
 * 3. A batch reports success only if every request wrote all its bytes; any failure is
 *    -DER_IO (-DER_NOSPACE for ENOSPC), after everything in flight completed.
 */
#define D_LOGFAC bio

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bio_internal.h"

#define BD_BLK 4096UL
#define BD_CHUNK (1UL << 20) /* bounce arena chunk */
#define BD_IOV_MAX 256U      /* iovecs per request */
#define BD_QD 128U

/* A queued or in-flight request: one writev of contiguous file bytes. */
struct bd_req {
	uint64_t br_off;
	uint64_t br_len;
	uint32_t br_iov; /* first iovec in bd_iovs */
	uint32_t br_niov;
};

struct bio_data {
	int bd_fd;
	bool bd_direct;
	struct io_uring bd_ring;
	bool bd_ring_ok;
	char *bd_path;
	/* the batch */
	struct bd_req *bd_reqs;
	uint32_t bd_nreqs;
	uint32_t bd_reqs_cap;
	struct iovec *bd_iovs;
	uint32_t bd_niovs;
	uint32_t bd_iovs_cap;
	uint32_t bd_next;     /* next request to submit */
	uint32_t bd_inflight; /* submitted, not completed */
	int bd_rc;
	bool bd_broken; /* a submission failed: requests may be stuck in the ring */
	/* bounce arena: chunks of BD_CHUNK, the first bd_chunk_used of them partly taken */
	char **bd_chunks;
	uint32_t bd_nchunks;
	uint32_t bd_chunk_cur;
	uint64_t bd_chunk_off;
	struct bio_data_stats bd_stats;
};

int
bio_data_open(const char *path, struct bio_data **bdp)
{
	struct bio_data *bd;
	int rc;

	D_ALLOC_PTR(bd);
	if (bd == NULL)
		return -DER_NOMEM;
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
	D_STRNDUP(bd->bd_path, path, 4096);
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

static void
bd_reap(struct bio_data *bd)
{
	struct io_uring_cqe *cqe;

	while (bd->bd_inflight > 0 && io_uring_peek_cqe(&bd->bd_ring, &cqe) == 0) {
		struct bd_req *br = &bd->bd_reqs[io_uring_cqe_get_data64(cqe)];
		int res = cqe->res;

		io_uring_cqe_seen(&bd->bd_ring, cqe);
		bd->bd_inflight--;
		if (D_FAIL_CHECK(BIO_FI_DATA_WRITE))
			res = -EIO;
		if ((res < 0 || (uint64_t)res != br->br_len) && bd->bd_rc == 0) {
			bd->bd_rc = res == -ENOSPC ? -DER_NOSPACE : -DER_IO;
			bd->bd_stats.ds_errors++;
			D_ERROR("data file %s: write of %" PRIu64 " bytes at %" PRIu64
				" failed: %s: " DF_RC "\n",
				bd->bd_path, br->br_len, br->br_off,
				res < 0 ? strerror(-res) : "short write", DP_RC(bd->bd_rc));
		}
	}
}

void
bio_data_close(struct bio_data *bd)
{
	uint32_t i;

	if (bd == NULL)
		return;
	if (bd->bd_ring_ok) {
		while (bd->bd_inflight > 0 && bio_data_wait_io(bd) == 0)
			bd_reap(bd);
		io_uring_queue_exit(&bd->bd_ring);
	}
	if (bd->bd_fd >= 0)
		close(bd->bd_fd);
	for (i = 0; i < bd->bd_nchunks; i++)
		munmap(bd->bd_chunks[i], BD_CHUNK);
	D_FREE(bd->bd_chunks);
	D_FREE(bd->bd_reqs);
	D_FREE(bd->bd_iovs);
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

/* Append [buf, buf + len) to the open request, starting a new one past BD_IOV_MAX. */
static int
bd_iov_add(struct bio_data *bd, struct bd_req **brp, uint64_t off, void *buf, uint64_t len)
{
	struct bd_req *br = *brp;
	struct iovec *last;
	int rc;

	if (br != NULL && br->br_niov > 0) {
		last = &bd->bd_iovs[br->br_iov + br->br_niov - 1];
		if ((char *)last->iov_base + last->iov_len == buf) {
			last->iov_len += len; /* contiguous with the previous piece */
			br->br_len += len;
			return 0;
		}
	}
	if (br == NULL || br->br_niov == BD_IOV_MAX) {
		rc = bd_grow((void **)&bd->bd_reqs, &bd->bd_reqs_cap, bd->bd_nreqs,
			     sizeof(*bd->bd_reqs));
		if (rc != 0)
			return rc;
		br = &bd->bd_reqs[bd->bd_nreqs++];
		br->br_off = off;
		br->br_len = 0;
		br->br_iov = bd->bd_niovs;
		br->br_niov = 0;
		*brp = br;
	}
	rc = bd_grow((void **)&bd->bd_iovs, &bd->bd_iovs_cap, bd->bd_niovs, sizeof(*bd->bd_iovs));
	if (rc != 0)
		return rc;
	bd->bd_iovs[bd->bd_niovs].iov_base = buf;
	bd->bd_iovs[bd->bd_niovs].iov_len = len;
	bd->bd_niovs++;
	br->br_niov++;
	br->br_len += len;
	return 0;
}

/* @len (<= BD_BLK) bytes of bounce space, within one chunk. */
static char *
bd_bounce(struct bio_data *bd, uint64_t len)
{
	char *p;

	if (bd->bd_chunk_cur < bd->bd_nchunks && bd->bd_chunk_off + len > BD_CHUNK) {
		bd->bd_chunk_cur++;
		bd->bd_chunk_off = 0;
	}
	if (bd->bd_chunk_cur == bd->bd_nchunks) {
		char **chunks;

		D_REALLOC_ARRAY(chunks, bd->bd_chunks, bd->bd_nchunks + 1);
		if (chunks == NULL)
			return NULL;
		bd->bd_chunks = chunks;
		p = mmap(NULL, BD_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			 0);
		if (p == MAP_FAILED)
			return NULL;
		bd->bd_chunks[bd->bd_nchunks++] = p;
		bd->bd_chunk_off = 0;
	}
	p = bd->bd_chunks[bd->bd_chunk_cur] + bd->bd_chunk_off;
	bd->bd_chunk_off += len;
	return p;
}

int
bio_data_write(struct bio_data *bd, uint64_t off, const struct iovec *iov, unsigned int nr)
{
	struct bd_req *br = NULL;
	uint64_t pos = 0; /* bytes of the value placed so far */
	char *bb = NULL;  /* the bounce block being filled */
	unsigned int i;
	int rc;

	D_ASSERT(bd->bd_inflight == 0 && off % BD_BLK == 0);
	if (bd->bd_broken)
		return -DER_IO;
	for (i = 0; i < nr; i++) {
		const char *buf = iov[i].iov_base;
		uint64_t n = iov[i].iov_len;

		while (n > 0) {
			uint64_t m;

			if (pos % BD_BLK == 0 && (uintptr_t)buf % BD_BLK == 0 && n >= BD_BLK) {
				/* whole aligned blocks straight from the caller's buffer */
				m = n & ~(BD_BLK - 1);
				rc = bd_iov_add(bd, &br, off, (void *)buf, m);
				bd->bd_stats.ds_direct_bytes += m;
			} else {
				m = BD_BLK - pos % BD_BLK;
				if (m > n)
					m = n;
				if (pos % BD_BLK == 0) {
					bb = bd_bounce(bd, BD_BLK);
					if (bb == NULL)
						return -DER_NOMEM;
					rc = bd_iov_add(bd, &br, off, bb, BD_BLK);
				} else {
					rc = 0;
				}
				memcpy(bb + pos % BD_BLK, buf, m);
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
		memset(bb + pos % BD_BLK, 0, BD_BLK - pos % BD_BLK);
	return 0;
}

/* Submit queued requests while the ring has room. */
static int
bd_submit(struct bio_data *bd)
{
	uint32_t n = 0;
	int rc;

	if (bd->bd_next < bd->bd_nreqs && D_FAIL_CHECK(BIO_FI_DATA_SUBMIT)) {
		/* as a refused submission, before any request is prepared */
		D_ERROR("data file %s: io_uring_submit: injected failure\n", bd->bd_path);
		bd->bd_rc = -DER_IO;
		return -DER_IO;
	}
	while (bd->bd_next < bd->bd_nreqs && bd->bd_inflight + n < BD_QD) {
		struct bd_req *br = &bd->bd_reqs[bd->bd_next];
		struct io_uring_sqe *sqe = io_uring_get_sqe(&bd->bd_ring);

		if (sqe == NULL)
			break;
		io_uring_prep_writev(sqe, bd->bd_fd, &bd->bd_iovs[br->br_iov], br->br_niov,
				     br->br_off);
		io_uring_sqe_set_data64(sqe, bd->bd_next);
		bd->bd_next++;
		bd->bd_stats.ds_writes++;
		bd->bd_stats.ds_bytes += br->br_len;
		n++;
	}
	if (n == 0)
		return 0;
	rc = io_uring_submit(&bd->bd_ring);
	if (rc > 0)
		bd->bd_inflight += (uint32_t)rc;
	if (rc != (int)n) {
		/* requests left in the ring would go out with a later batch: stop for good */
		D_ERROR("data file %s: io_uring_submit: %s; no more writes until reopened\n",
			bd->bd_path, rc < 0 ? strerror(-rc) : "short");
		bd->bd_broken = true;
		if (bd->bd_rc == 0)
			bd->bd_rc = -DER_IO;
		return -DER_IO;
	}
	return 0;
}

/* Forget the batch: requests, iovecs, bounce space. */
static void
bd_batch_reset(struct bio_data *bd)
{
	bd->bd_nreqs = 0;
	bd->bd_niovs = 0;
	bd->bd_next = 0;
	bd->bd_chunk_cur = 0;
	bd->bd_chunk_off = 0;
	bd->bd_rc = 0;
}

int
bio_data_submit_wait(struct bio_data *bd, bio_wal_wait_cb_t wait, void *arg)
{
	int rc = 0;

	if (bd->bd_broken && bd->bd_nreqs > 0)
		bd->bd_rc = -DER_IO;
	while (bd->bd_rc == 0 && (bd->bd_next < bd->bd_nreqs || bd->bd_inflight > 0)) {
		rc = bd_submit(bd);
		if (rc != 0)
			break;
		rc = wait != NULL ? wait(arg) : bio_data_wait_io(bd);
		if (rc != 0)
			break;
		bd_reap(bd);
	}
	/* the kernel may still read our buffers: drain before giving them back */
	while (bd->bd_inflight > 0) {
		if (bio_data_wait_io(bd) != 0)
			break;
		bd_reap(bd);
	}
	if (rc == 0)
		rc = bd->bd_rc;
	bd_batch_reset(bd);
	return rc;
}

void
bio_data_cancel(struct bio_data *bd)
{
	D_ASSERT(bd->bd_inflight == 0);
	bd_batch_reset(bd);
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
}
