/*
 * bio_wal_open.c: the life of a WAL file around its runtime (bio_wal.c): format, open (the
 * double-buffered header), replay (reading the circular log back, with every check that
 * tells a live record from a torn, damaged or stale one) and close. These are the startup
 * and shutdown steps, and they block on plain system calls (pread, fallocate, fsync).
 * Invariants and the record format: README.md.
 */
#define D_LOGFAC bio

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bio_internal.h"

/* Replay reads the log in chunks of this size (or one record, if larger). */
#define WAL_READ_CHUNK (1ULL << 20)

void
wal_hdr_csum_set(struct wal_hdr_df *hd)
{
	hd->hd_csum = 0;
	hd->hd_csum = wal_crc(0, hd, sizeof(*hd));
}

int
wal_hdr_check(const struct wal_hdr_df *hd, uint64_t file_size)
{
	struct wal_hdr_df tmp = *hd;

	if (hd->hd_magic != WAL_HDR_MAGIC)
		return -DER_INVAL;
	tmp.hd_csum = 0;
	if (wal_crc(0, &tmp, sizeof(tmp)) != hd->hd_csum)
		return -DER_CSUM;
	if (hd->hd_version != WAL_VERSION)
		return -DER_DF_INCOMPT;
	if (hd->hd_blk_size != WAL_BLK_SIZE || hd->hd_area_off != WAL_AREA_OFF ||
	    hd->hd_file_size < BIO_WAL_SIZE_MIN || hd->hd_file_size % WAL_BLK_SIZE != 0 ||
	    hd->hd_area_size != hd->hd_file_size - WAL_AREA_OFF ||
	    (file_size != 0 && hd->hd_file_size != file_size) || hd->hd_tail_lsn == 0 ||
	    hd->hd_gen == 0)
		return -DER_INVAL;
	return 0;
}

static int
wal_pread(int fd, void *buf, uint64_t len, uint64_t off)
{
	char *p = buf;
	ssize_t n;

	if (D_FAIL_CHECK(BIO_FI_WAL_READ))
		return -DER_IO;
	while (len > 0) {
		n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			D_ERROR("pread of %" PRIu64 " bytes at %" PRIu64 " failed: %s\n", len, off,
				strerror(errno));
			return -DER_IO;
		}
		if (n == 0)
			return -DER_IO; /* the file is shorter than its header says */
		p += n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int
wal_pwrite(int fd, const void *buf, uint64_t len, uint64_t off)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return d_errno2der(errno);
		p += n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Open with O_DIRECT, or without it on a file system that refuses it (tmpfs). */
static int
wal_open_fd(const char *path, int flags, bool *direct)
{
	int fd;

	fd = open(path, flags | O_DIRECT | O_CLOEXEC, 0600);
	*direct = true;
	if (fd < 0 && errno == EINVAL) {
		fd = open(path, flags | O_CLOEXEC, 0600);
		*direct = false;
	}
	return fd;
}

static void *
wal_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int
wal_fsync_dir(const char *path)
{
	char *copy;
	int fd;
	int rc = 0;

	D_STRNDUP(copy, path, strlen(path));
	if (copy == NULL)
		return -DER_NOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = d_errno2der(errno);
	if (fd >= 0)
		close(fd);
	D_FREE(copy);
	return rc;
}

int
bio_wal_create(const char *path, uint64_t size)
{
	struct wal_hdr_df *hd;
	uint64_t off;
	char *buf;
	bool direct;
	int fd;
	int rc;

	size = wal_rnd_down(size);
	if (path == NULL || size < BIO_WAL_SIZE_MIN)
		return -DER_INVAL;

	fd = wal_open_fd(path, O_RDWR | O_CREAT | O_EXCL, &direct);
	if (fd < 0) {
		rc = d_errno2der(errno);
		D_ERROR("cannot create WAL %s: " DF_RC "\n", path, DP_RC(rc));
		return rc;
	}
	buf = wal_map(WAL_READ_CHUNK);
	if (buf == NULL) {
		rc = -DER_NOMEM;
		goto out_unlink;
	}
	if (fallocate(fd, 0, 0, (off_t)size) != 0 && errno != EOPNOTSUPP) {
		rc = d_errno2der(errno);
		D_ERROR("cannot allocate %" PRIu64 " bytes for WAL %s: " DF_RC "\n", size, path,
			DP_RC(rc));
		goto out_unmap;
	}

	/* written once: later overwrites of written blocks need no metadata update */
	for (off = 0; off < size; off += WAL_READ_CHUNK) {
		uint64_t len = size - off < WAL_READ_CHUNK ? size - off : WAL_READ_CHUNK;

		rc = wal_pwrite(fd, buf, len, off);
		if (rc != 0)
			goto out_io;
	}

	hd = (struct wal_hdr_df *)buf;
	hd->hd_magic = WAL_HDR_MAGIC;
	hd->hd_version = WAL_VERSION;
	if (getrandom(&hd->hd_wal_id, sizeof(hd->hd_wal_id), 0) != sizeof(hd->hd_wal_id))
		hd->hd_wal_id = d_now_ns() ^ ((uint64_t)getpid() << 32);
	hd->hd_seq = 1;
	hd->hd_file_size = size;
	hd->hd_area_off = WAL_AREA_OFF;
	hd->hd_area_size = size - WAL_AREA_OFF;
	hd->hd_blk_size = WAL_BLK_SIZE;
	hd->hd_gen = 1;
	hd->hd_tail_lsn = 1;
	hd->hd_tail_pos = 0;
	hd->hd_replay_end = 0;
	wal_hdr_csum_set(hd);
	rc = wal_pwrite(fd, buf, WAL_BLK_SIZE, (hd->hd_seq % 2) * WAL_BLK_SIZE);
	if (rc != 0)
		goto out_io;
	if (fdatasync(fd) != 0) {
		rc = d_errno2der(errno);
		goto out_io;
	}
	rc = wal_fsync_dir(path);
	if (rc != 0)
		goto out_io;
	munmap(buf, WAL_READ_CHUNK);
	close(fd);
	D_INFO("created WAL %s: %" PRIu64 " bytes%s\n", path, size,
	       direct ? "" : " (no O_DIRECT on this file system)");
	return 0;

out_io:
	D_ERROR("cannot format WAL %s: " DF_RC "\n", path, DP_RC(rc));
out_unmap:
	munmap(buf, WAL_READ_CHUNK);
out_unlink:
	close(fd);
	unlink(path);
	return rc;
}

/* Read both header blocks and keep the valid one with the higher sequence number. */
static int
wal_hdr_load(struct bio_wal *wal, uint64_t st_size)
{
	struct wal_hdr_df *best = NULL;
	struct wal_hdr_df *hd;
	char *buf;
	int rc_slot[2];
	int rc;
	int i;

	buf = wal_map(2 * WAL_BLK_SIZE);
	if (buf == NULL)
		return -DER_NOMEM;
	if (st_size < 2 * WAL_BLK_SIZE) {
		rc = -DER_INVAL;
		D_ERROR("WAL %s: %" PRIu64 " bytes, too short: " DF_RC "\n", wal->w_path, st_size,
			DP_RC(rc));
		goto out;
	}
	rc = wal_pread(wal->w_fd, buf, 2 * WAL_BLK_SIZE, 0);
	if (rc != 0) {
		D_ERROR("WAL %s: cannot read its header: " DF_RC "\n", wal->w_path, DP_RC(rc));
		goto out;
	}
	for (i = 0; i < 2; i++) {
		hd = (struct wal_hdr_df *)(buf + i * WAL_BLK_SIZE);
		rc_slot[i] = wal_hdr_check(hd, 0);
		if (rc_slot[i] == 0 && hd->hd_seq % 2 != (uint64_t)i)
			rc_slot[i] = -DER_INVAL;
		if (rc_slot[i] == 0 && (best == NULL || hd->hd_seq > best->hd_seq))
			best = hd;
	}
	if (best == NULL) {
		/* a damaged header beats "not a WAL"; a version mismatch beats both */
		rc = rc_slot[0];
		if (rc_slot[1] == -DER_DF_INCOMPT || (rc == -DER_INVAL && rc_slot[1] == -DER_CSUM))
			rc = rc_slot[1];
		D_ERROR("WAL %s: no valid header: " DF_RC "\n", wal->w_path, DP_RC(rc));
		goto out;
	}
	if (best->hd_file_size > st_size) {
		rc = -DER_INVAL;
		D_ERROR("WAL %s: %" PRIu64 " bytes, its header says %" PRIu64 ": " DF_RC "\n",
			wal->w_path, st_size, best->hd_file_size, DP_RC(rc));
		goto out;
	}
	wal->w_hdr = *best;
	rc = 0;
out:
	munmap(buf, 2 * WAL_BLK_SIZE);
	return rc;
}

/* How long an open waits for a previous owner's I/O to drain (see bio_file_lock). */
#define BIO_LOCK_WAIT_MS 10000

/* Try the lock once: an exclusive flock, or (@ofd) an open file description lock. */
static int
bio_lock_try(int fd, bool ofd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};

	return ofd ? fcntl(fd, F_OFD_SETLK, &fl) : flock(fd, LOCK_EX | LOCK_NB);
}

int
bio_lock_wait(int fd, bool ofd, const char *what, const char *path)
{
	int waited;

	for (waited = 0; bio_lock_try(fd, ofd) != 0; waited++) {
		if (errno != EWOULDBLOCK && errno != EACCES && errno != EINTR)
			return d_errno2der(errno);
		if (waited == BIO_LOCK_WAIT_MS) {
			D_ERROR("%s %s is in use by another process\n", what, path);
			return -DER_BUSY;
		}
		usleep(1000);
	}
	return 0;
}

int
bio_file_lock(int fd, const char *what, const char *path)
{
	return bio_lock_wait(fd, false, what, path);
}

bool
bio_env_one_sync(void)
{
	const char *env = getenv("DAOS_BIO_ONE_SYNC");

	return env != NULL && *env != '\0' && strcmp(env, "0") != 0;
}

uint32_t
bio_env_dsync(void)
{
	const char *env = getenv("DAOS_BIO_DSYNC");
	char *end;
	unsigned long n;

	if (env == NULL || *env == '\0' || strcmp(env, "0") == 0)
		return 1;
	n = strtoul(env, &end, 10);
	if (*end != '\0' || n <= 1)
		return WAL_PIPE_DEFAULT; /* "1", "on", ... */
	return n > WAL_PIPE_MAX ? WAL_PIPE_MAX : (uint32_t)n;
}

int
bio_wal_open(const char *path, const struct bio_wal_attr *attr, struct bio_wal **walp)
{
	struct bio_wal *wal;
	struct stat st;
	uint64_t stg;
	bool direct;
	int rc;

	D_ASSERT(path != NULL && walp != NULL);
	D_ALLOC_PTR(wal);
	if (wal == NULL)
		return -DER_NOMEM;
	wal->w_fd = -1;
	wal->w_efd = -1;
	wal->w_dep_fd = -1;
	wal->w_sfr_fd = -1;
	wal->w_dref_fd = -1;
	wal->w_one_sync = bio_env_one_sync();
	wal->w_pipe = bio_env_dsync();
	D_ALLOC_ARRAY(wal->w_fls, wal->w_pipe);
	if (wal->w_fls == NULL) {
		D_FREE(wal);
		return -DER_NOMEM;
	}
	D_STRNDUP(wal->w_path, path, strlen(path));
	if (wal->w_path == NULL) {
		rc = -DER_NOMEM;
		goto out_free;
	}

	wal->w_fd = wal_open_fd(path, O_RDWR, &direct);
	if (wal->w_fd < 0 || fstat(wal->w_fd, &st) != 0) {
		rc = d_errno2der(errno);
		D_ERROR("cannot open WAL %s: " DF_RC "\n", path, DP_RC(rc));
		goto out_free;
	}
	rc = bio_file_lock(wal->w_fd, "WAL", path);
	if (rc == 0)
		rc = wal_hdr_load(wal, (uint64_t)st.st_size);
	if (rc != 0)
		goto out_free;

	wal->w_file_size = wal->w_hdr.hd_file_size;
	wal->w_area = wal->w_hdr.hd_area_size;
	wal->w_wal_id = wal->w_hdr.hd_wal_id;
	wal->w_hdr_seq = wal->w_hdr.hd_seq;
	wal->w_gen = wal->w_hdr.hd_gen;
	wal->w_replay_end = wal->w_hdr.hd_replay_end;
	wal->w_hdr_complete = wal->w_hdr.hd_complete_lsn;
	wal->w_tail_lsn = wal->w_ptail_lsn = wal->w_hdr.hd_tail_lsn;
	wal->w_tail_pos = wal->w_ptail_pos = wal->w_hdr.hd_tail_pos;
	wal->w_sync = attr != NULL ? attr->wa_sync_mode : BIO_WAL_SYNC_FDATASYNC;
	if (wal->w_sync > BIO_WAL_SYNC_DSYNC) {
		rc = -DER_INVAL;
		goto out_free;
	}
	/* pipelined flushes are each made durable by their own RWF_DSYNC writes */
	if (wal->w_pipe > 1)
		wal->w_sync = BIO_WAL_SYNC_DSYNC;

	stg = attr != NULL && attr->wa_staging_size != 0 ? attr->wa_staging_size
							 : BIO_WAL_STAGING_DEFAULT;
	stg = wal_rnd_up(stg);
	if (stg < 16 * WAL_BLK_SIZE)
		stg = 16 * WAL_BLK_SIZE;
	if (stg > WAL_STAGING_MAX)
		stg = WAL_STAGING_MAX;
	if (stg > wal->w_area)
		stg = wal->w_area;
	wal->w_stg_size = stg;
	wal->w_rec_max = stg - 2 * WAL_BLK_SIZE;
	wal->w_map_size = stg + 2 * WAL_BLK_SIZE;
	wal->w_stg = wal_map(wal->w_map_size);
	if (wal->w_stg == NULL) {
		rc = -DER_NOMEM;
		goto out_free;
	}
	wal->w_bounce = wal->w_stg + stg;
	wal->w_hdr_buf = wal->w_bounce + WAL_BLK_SIZE;

	wal->w_bnd_cap = (wal->w_area >> WAL_SEG_SHIFT) + 2;
	D_ALLOC_ARRAY(wal->w_bnds, wal->w_bnd_cap);
	if (wal->w_bnds == NULL) {
		rc = -DER_NOMEM;
		goto out_free;
	}

	rc = io_uring_queue_init(wal->w_pipe > 1 ? wal->w_pipe * WAL_PIPE_SQES : WAL_RING_DEPTH,
				 &wal->w_ring, 0);
	if (rc != 0) {
		rc = d_errno2der(-rc);
		D_ERROR("WAL %s: io_uring setup failed: " DF_RC "\n", path, DP_RC(rc));
		goto out_free;
	}
	wal->w_ring_ok = true;
	wal->w_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wal->w_efd < 0) {
		rc = d_errno2der(errno);
		goto out_free;
	}
	rc = io_uring_register_eventfd(&wal->w_ring, wal->w_efd);
	if (rc != 0) {
		rc = d_errno2der(-rc);
		goto out_free;
	}

	D_INFO("opened WAL %s: %" PRIu64 " bytes, gen %u, tail LSN %" PRIu64 "%s, %u flushes "
	       "in flight at most\n",
	       path, wal->w_file_size, wal->w_gen, wal->w_tail_lsn,
	       direct ? "" : " (no O_DIRECT on this file system)", wal->w_pipe);
	*walp = wal;
	return 0;

out_free:
	bio_wal_close(wal);
	return rc;
}

/*
 * Bytes of log a live record may take from @pos on: the head never enters the block of
 * the durable tail (its flush writes whole blocks).
 */
static uint64_t
wal_room_at(struct bio_wal *wal, uint64_t pos)
{
	uint64_t limit = wal_rnd_down(wal->w_tail_pos) + wal->w_area;

	return pos < limit ? limit - pos : 0;
}

/* A window of the log read into memory. */
struct wal_reader {
	struct bio_wal *r_wal;
	char *r_buf;
	uint64_t r_cap;
	uint64_t r_pos; /* log position of r_buf[0] (block aligned) */
	uint64_t r_len;
	struct umem_redo_range *r_ranges;
	uint32_t r_ranges_cap;
	/* the data-file extents of the last record read (WAL_RF_DREF) */
	struct bio_wal_dref r_drefs[WAL_DREF_MAX];
	uint32_t r_nd;
};

/* Point *@ptr at log bytes [pos, pos + len), reading them if needed (len <= area). */
static int
reader_get(struct wal_reader *r, uint64_t pos, uint64_t len, const char **ptr)
{
	struct bio_wal *wal = r->r_wal;
	uint64_t start;
	uint64_t want;
	uint64_t n1;
	int rc;

	if (pos >= r->r_pos && pos + len <= r->r_pos + r->r_len) {
		*ptr = r->r_buf + (pos - r->r_pos);
		return 0;
	}
	start = wal_rnd_down(pos);
	want = wal_rnd_up(pos + len) - start;
	if (want < WAL_READ_CHUNK)
		want = WAL_READ_CHUNK;
	if (want > wal->w_area)
		want = wal->w_area;
	D_ASSERT(pos + len <= start + want);
	if (want > r->r_cap) {
		uint64_t cap = (want + WAL_READ_CHUNK - 1) & ~(WAL_READ_CHUNK - 1);
		char *buf = wal_map(cap);

		if (buf == NULL)
			return -DER_NOMEM;
		if (r->r_buf != NULL)
			munmap(r->r_buf, r->r_cap);
		r->r_buf = buf;
		r->r_cap = cap;
	}
	r->r_len = 0;
	n1 = wal->w_area - start % wal->w_area;
	if (n1 > want)
		n1 = want;
	rc = wal_pread(wal->w_fd, r->r_buf, n1, wal_pos2off(wal, start));
	if (rc == 0 && want > n1)
		rc = wal_pread(wal->w_fd, r->r_buf + n1, want - n1, WAL_AREA_OFF);
	if (rc != 0) {
		D_ERROR("WAL %s: read at log position %" PRIu64 " failed: " DF_RC "\n", wal->w_path,
			start, DP_RC(rc));
		return rc;
	}
	r->r_pos = start;
	r->r_len = want;
	*ptr = r->r_buf + (pos - start);
	return 0;
}

/* How a record at the position where LSN @expect should start looks. */
enum rec_state {
	REC_OK,
	REC_END,     /* not a record of this log, or a stale one: the clean end */
	REC_CORRUPT, /* the expected record, damaged: torn or corrupt */
	REC_ERR,     /* a read or allocation failed (*rc) */
};

/* Log bytes a record with header @rec spans after its header. */
static uint64_t
rec_span(const struct wal_rec_df *rec)
{
	return rec->rd_version == WAL_REC_V1 ? rec->rd_len : wal_pad8(rec->rd_len);
}

/* Room for @nr ranges in the reader. */
static int
reader_ranges(struct wal_reader *r, uint32_t nr)
{
	struct umem_redo_range *ranges;

	if (nr <= r->r_ranges_cap)
		return 0;
	D_REALLOC_ARRAY(ranges, r->r_ranges, nr);
	if (ranges == NULL)
		return -DER_NOMEM;
	r->r_ranges = ranges;
	r->r_ranges_cap = nr;
	return 0;
}

/* Decode the ranges of version 1 record @rec, whose payload is at @p. */
static enum rec_state
rec_ranges_v1(struct wal_reader *r, const struct wal_rec_df *rec, const char *p, uint64_t *bytes)
{
	struct wal_range_df rg;
	uint64_t off = 0;
	uint32_t i;

	if (rec->rd_nr > rec->rd_len / sizeof(rg))
		return REC_CORRUPT;
	for (i = 0; i < rec->rd_nr; i++) {
		if (rec->rd_len - off < sizeof(rg))
			return REC_CORRUPT;
		memcpy(&rg, p + off, sizeof(rg));
		off += sizeof(rg);
		if ((rg.rg_flags & ~WAL_RG_ZERO) != 0)
			return REC_CORRUPT;
		r->r_ranges[i].rr_off = rg.rg_off;
		r->r_ranges[i].rr_len = rg.rg_len;
		r->r_ranges[i].rr_pad = 0;
		*bytes += rg.rg_len;
		if (rg.rg_flags & WAL_RG_ZERO) {
			r->r_ranges[i].rr_data = NULL; /* zeros */
			continue;
		}
		if (wal_pad8(rg.rg_len) > rec->rd_len - off)
			return REC_CORRUPT;
		r->r_ranges[i].rr_data = p + off;
		off += wal_pad8(rg.rg_len);
	}
	return off == rec->rd_len ? REC_OK : REC_CORRUPT;
}

/*
 * Decode the ranges of version 2 record @rec, whose payload is at @p: every varint well
 * formed, every length within 32 bits and its bytes within rd_len, the ranges ending
 * exactly at rd_len and the padding after it zeros.
 */
static enum rec_state
rec_ranges_v2(struct wal_reader *r, const struct wal_rec_df *rec, const char *p, uint64_t *bytes)
{
	const unsigned char *u = (const unsigned char *)p;
	uint64_t len = rec->rd_len;
	uint64_t prev = 0;
	uint64_t off = 0;
	uint64_t delta;
	uint64_t lenf;
	uint64_t rl;
	uint32_t n;
	uint32_t i;

	if (rec->rd_nr > len / 2) /* each range takes at least two bytes */
		return REC_CORRUPT;
	for (i = 0; i < rec->rd_nr; i++) {
		n = wal_varint_get(u + off, len - off, &delta);
		if (n == 0)
			return REC_CORRUPT;
		off += n;
		n = wal_varint_get(u + off, len - off, &lenf);
		if (n == 0 || (lenf >> 1) > UINT32_MAX)
			return REC_CORRUPT;
		off += n;
		rl = lenf >> 1;
		r->r_ranges[i].rr_off = prev + wal_unzigzag(delta);
		r->r_ranges[i].rr_len = (uint32_t)rl;
		r->r_ranges[i].rr_pad = 0;
		prev = r->r_ranges[i].rr_off + rl;
		*bytes += rl;
		if (lenf & 1) {
			r->r_ranges[i].rr_data = NULL; /* zeros */
			continue;
		}
		if (rl > len - off)
			return REC_CORRUPT;
		r->r_ranges[i].rr_data = p + off;
		off += rl;
	}
	r->r_nd = 0;
	if (rec->rd_flags & WAL_RF_DREF) {
		uint64_t nd;

		n = wal_varint_get(u + off, len - off, &nd);
		if (n == 0 || nd == 0 || nd > WAL_DREF_MAX)
			return REC_CORRUPT;
		off += n;
		for (i = 0; i < nd; i++) {
			struct bio_wal_dref *d = &r->r_drefs[i];

			n = wal_varint_get(u + off, len - off, &d->dr_off);
			if (n == 0)
				return REC_CORRUPT;
			off += n;
			n = wal_varint_get(u + off, len - off, &rl);
			if (n == 0 || rl > UINT32_MAX || rl == 0 ||
			    len - off - n < sizeof(uint32_t))
				return REC_CORRUPT;
			off += n;
			d->dr_len = (uint32_t)rl;
			memcpy(&d->dr_crc, u + off, sizeof(uint32_t));
			off += sizeof(uint32_t);
		}
		r->r_nd = (uint32_t)nd;
	}
	if (off != len)
		return REC_CORRUPT;
	for (; off < wal_pad8(len); off++)
		if (u[off] != 0)
			return REC_CORRUPT;
	return REC_OK;
}

/*
 * Check the record at @pos against the expected LSN @expect with at most @room bytes of
 * live log left; on REC_OK fill *@redo (pointing into the reader) and *@size.
 */
static enum rec_state
rec_read(struct wal_reader *r, uint64_t pos, uint64_t expect, uint64_t room, struct umem_redo *redo,
	 uint64_t *size, int *rc)
{
	struct bio_wal *wal = r->r_wal;
	struct wal_rec_df rec;
	enum rec_state st;
	const char *p;
	uint64_t bytes = 0;
	uint64_t span;
	uint32_t crc;
	bool stale;

	if (room < sizeof(rec))
		return REC_END;
	*rc = reader_get(r, pos, sizeof(rec), &p);
	if (*rc != 0)
		return REC_ERR;
	memcpy(&rec, p, sizeof(rec));
	if (rec.rd_magic != WAL_REC_MAGIC || rec.rd_wal_id != wal->w_wal_id)
		return REC_END;
	/*
	 * A record from an earlier pass of the circle has a lower LSN; one from a history a
	 * previous replay cut off has an older generation and an LSN after that replay's end,
	 * or a newer generation whose header never became durable. Such records are intact
	 * (their CRC holds) but not ours: the clean end. A damaged one is torn or corrupt.
	 */
	stale = rec.rd_lsn != expect || rec.rd_gen > wal->w_hdr.hd_gen ||
		(rec.rd_gen < wal->w_hdr.hd_gen && rec.rd_lsn > wal->w_hdr.hd_replay_end);
	/* no append makes a record larger than the area less two blocks (w_rec_max) */
	span = rec_span(&rec);
	if (span > room - sizeof(rec) || sizeof(rec) + span > wal->w_area - 2 * WAL_BLK_SIZE)
		return stale ? REC_END : REC_CORRUPT;
	*size = sizeof(rec) + span;
	*rc = reader_get(r, pos, *size, &p);
	if (*rc != 0)
		return REC_ERR;
	memcpy(&rec, p, sizeof(rec));
	crc = rec.rd_csum;
	rec.rd_csum = 0;
	if (wal_crc(wal_crc(0, &rec, sizeof(rec)), p + sizeof(rec), span) != crc)
		return REC_CORRUPT;
	if (stale)
		return REC_END;
	/* a range takes at least 16 bytes in version 1, 2 in version 2 */
	if ((rec.rd_version != WAL_REC_V1 && rec.rd_version != WAL_REC_V2) ||
	    (rec.rd_flags & ~(rec.rd_version == WAL_REC_V2 ? WAL_RF_DREF : 0U)) != 0 ||
	    rec.rd_nr >
		rec.rd_len / (rec.rd_version == WAL_REC_V1 ? sizeof(struct wal_range_df) : 2))
		return REC_CORRUPT;

	*rc = reader_ranges(r, rec.rd_nr);
	if (*rc != 0)
		return REC_ERR;
	p += sizeof(rec);
	r->r_nd = 0;
	if (rec.rd_version == WAL_REC_V1)
		st = rec_ranges_v1(r, &rec, p, &bytes);
	else
		st = rec_ranges_v2(r, &rec, p, &bytes);
	if (st != REC_OK)
		return st;
	redo->ur_nr = rec.rd_nr;
	redo->ur_pad = 0;
	redo->ur_bytes = bytes;
	redo->ur_ranges = r->r_ranges;
	return REC_OK;
}

/* How far past a bad record replay looks for intact records that follow it. */
#define WAL_RESYNC_WINDOW (1ULL << 20)

/*
 * Is log position @pos, not block aligned, followed by zeros to the end of its block: the
 * padding a pipelined flush (DAOS_BIO_DSYNC) leaves after its last record?
 */
static bool
wal_pad_at(struct wal_reader *r, uint64_t pos)
{
	uint64_t n = wal_rnd_up(pos) - pos;
	const char *p;
	uint64_t i;

	if (n == 0 || n > wal_room_at(r->r_wal, pos) || reader_get(r, pos, n, &p) != 0)
		return false;
	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/*
 * Count the intact records that follow in sequence from @pos, which holds LSN @expect; set
 * *@aligned when there is a first one and it starts at a block boundary.
 */
static uint32_t
wal_count_chain(struct wal_reader *r, uint64_t pos, uint64_t expect, uint64_t room, bool *aligned)
{
	struct umem_redo redo;
	uint64_t size;
	uint32_t lost = 0;
	int rc;

	for (;;) {
		enum rec_state st = rec_read(r, pos, expect, room, &redo, &size, &rc);

		if (st == REC_END && wal_pad_at(r, pos)) {
			/* a pipelined flush's padding: the next record starts at the next block */
			uint64_t skip = wal_rnd_up(pos) - pos;

			if (skip >= room)
				break;
			st = rec_read(r, pos + skip, expect, room - skip, &redo, &size, &rc);
			if (st == REC_OK) {
				pos += skip;
				room -= skip;
			}
		}
		if (st != REC_OK)
			break;
		if (lost == 0)
			*aligned = pos % WAL_BLK_SIZE == 0;
		lost++;
		pos += size;
		room -= size;
		expect++;
	}
	return lost;
}

/*
 * Replay stopped at @pos, where LSN @expect should be. Are there intact records after it
 * (LSN @expect + 1 onwards)? Then the log is damaged there, rather than ending. Look where
 * the bad record's length field points, then at every 8-byte position of the next
 * WAL_RESYNC_WINDOW bytes. Returns how many intact records follow.
 *
 * Not when the header says its writer pipelined its flushes (WAL_HDF_PIPE), the records
 * that follow start at a block boundary and @expect is not known durable (above the
 * header's complete LSN): that is how a pipelined flush (DAOS_BIO_DSYNC)
 * starts, and a later flush can reach the disk while an earlier one did not (a kill -9
 * cancels the earlier one's writes still linked behind its data-file sync). Its records
 * were not acknowledged (the durable LSN is the contiguous prefix): a clean end, not a
 * loss. Returns 0 then.
 */
static uint32_t
wal_count_lost(struct wal_reader *r, uint64_t pos, uint64_t expect, uint64_t room)
{
	uint64_t known = r->r_wal->w_hdr.hd_complete_lsn; /* durable when that header went */
	bool pipe = (r->r_wal->w_hdr.hd_flags & WAL_HDF_PIPE) != 0;
	struct wal_rec_df rec;
	bool aligned = false;
	const char *p;
	uint64_t end;
	uint64_t q;
	uint64_t n;

	if (room < sizeof(rec) || reader_get(r, pos, sizeof(rec), &p) != 0)
		return 0;
	memcpy(&rec, p, sizeof(rec));
	n = sizeof(rec) + rec_span(&rec);
	if (rec.rd_magic == WAL_REC_MAGIC && n < room) {
		n = wal_count_chain(r, pos + n, expect + 1, room - n, &aligned);
		if (n > 0)
			return pipe && aligned && expect > known ? 0 : (uint32_t)n;
	}
	end = room < WAL_RESYNC_WINDOW ? room : WAL_RESYNC_WINDOW;
	for (q = 8; q + sizeof(rec) <= end; q += 8) {
		if (reader_get(r, pos + q, sizeof(uint32_t), &p) != 0)
			return 0;
		if (memcmp(p, &(uint32_t){WAL_REC_MAGIC}, sizeof(uint32_t)) != 0)
			continue;
		n = wal_count_chain(r, pos + q, expect + 1, room - q, &aligned);
		if (n > 0)
			return pipe && aligned && expect > known ? 0 : (uint32_t)n;
	}
	return 0;
}

/*
 * Does the data file hold the bytes the extents of the record just read (@r) reference?
 * 0, -DER_CSUM (no: a CRC differs), or an error reading them (-DER_INVAL: no data file
 * was given, bio_wal_dref_set). Reads whole blocks into an aligned buffer (O_DIRECT).
 */
static int
wal_dref_check(struct bio_wal *wal, struct wal_reader *r)
{
	void *buf = NULL;
	uint64_t cap = 0;
	uint32_t i;
	int rc = 0;

	if (wal->w_dref_fd < 0) {
		D_ERROR("WAL %s: records reference a data file, but none was given\n", wal->w_path);
		return -DER_INVAL;
	}
	for (i = 0; i < r->r_nd && rc == 0; i++) {
		const struct bio_wal_dref *d = &r->r_drefs[i];
		uint64_t start = wal_rnd_down(d->dr_off);
		uint64_t len = wal_rnd_up(d->dr_off + d->dr_len) - start;

		if (len > cap) {
			free(buf);
			buf = NULL;
			if (posix_memalign(&buf, WAL_BLK_SIZE, len) != 0) {
				buf = NULL;
				rc = -DER_NOMEM;
				break;
			}
			cap = len;
		}
		rc = wal_pread(wal->w_dref_fd, buf, len, start);
		if (rc == -DER_IO) /* past the end of the file: cannot be its bytes */
			rc = -DER_CSUM;
		if (rc == 0 &&
		    wal_crc(0, (char *)buf + (d->dr_off - start), d->dr_len) != d->dr_crc)
			rc = -DER_CSUM;
	}
	free(buf);
	return rc;
}

int
bio_wal_replay(struct bio_wal *wal, uint64_t from_lsn, bio_wal_replay_cb_t cb, void *arg,
	       struct bio_wal_replay_info *info)
{
	struct bio_wal_replay_info ri = {0};
	struct wal_reader r = {.r_wal = wal};
	struct umem_redo redo;
	enum rec_state st = REC_END;
	uint64_t pos = wal->w_tail_pos;
	uint64_t expect = wal->w_tail_lsn;
	uint64_t size = 0;
	uint64_t part;
	const char *p;
	bool dref_seen = false;
	int rc = 0;

	if (wal->w_replayed)
		return -DER_ALREADY;
	if (from_lsn + 1 < wal->w_tail_lsn) {
		D_ERROR("WAL %s: replay from LSN %" PRIu64 " but the log was trimmed up to %" PRIu64
			": " DF_RC "\n",
			wal->w_path, from_lsn, wal->w_tail_lsn - 1, DP_RC(-DER_DATA_LOSS));
		return -DER_DATA_LOSS;
	}
	ri.ri_first_lsn = expect;
	wal->w_bnd_nr = 0;
	wal->w_bnd_head = 0;

	for (;;) {
		st = rec_read(&r, pos, expect, wal_room_at(wal, pos), &redo, &size, &rc);
		if (st == REC_END && wal_pad_at(&r, pos)) {
			/*
			 * Zeros to the end of the block: a pipelined flush's padding, or the
			 * end of the log. The next record, if any, starts at the next block; it
			 * passes every check a record right here would (its LSN is the next one),
			 * so an older record there, or one of a later flush whose earlier flush
			 * did not land, ends the replay as before. (A damaged one there ends it
			 * here, as a clean end: nothing of that flush was acknowledged.)
			 */
			enum rec_state st2;
			uint64_t npos = wal_rnd_up(pos);

			st2 = rec_read(&r, npos, expect, wal_room_at(wal, npos), &redo, &size, &rc);
			if (st2 == REC_OK || st2 == REC_ERR) {
				pos = npos;
				st = st2;
			}
		}
		if (st != REC_OK)
			break;
		if (r.r_nd > 0 && expect > from_lsn && expect > wal->w_hdr.hd_complete_lsn) {
			/* its flush may not have completed: is the data it references there? */
			rc = wal_dref_check(wal, &r);
			if (rc == -DER_CSUM) {
				rc = 0;
				ri.ri_data_stop = true;
				break;
			}
			if (rc != 0)
				goto out;
		}
		if (r.r_nd > 0)
			dref_seen = true;
		wal_bound_push(wal, expect, pos);
		if (expect > from_lsn && cb != NULL) {
			rc = cb(arg, expect, &redo);
			if (rc != 0) {
				D_ERROR("WAL %s: replay of LSN %" PRIu64 " failed: " DF_RC "\n",
					wal->w_path, expect, DP_RC(rc));
				goto out;
			}
			ri.ri_applied++;
		}
		ri.ri_records++;
		ri.ri_bytes += size;
		pos += size;
		expect++;
	}
	if (st == REC_ERR)
		goto out;
	if (ri.ri_data_stop) {
		/* the rest of its flush is cut off with it: nothing of that flush was acked */
		ri.ri_stop = BIO_WAL_STOP_CORRUPT;
		D_WARN("WAL %s: record LSN %" PRIu64 " references data-file bytes that do not "
		       "match its CRC (its flush did not complete): it and the records after it "
		       "are discarded\n",
		       wal->w_path, expect);
	} else {
		ri.ri_lost = wal_count_lost(&r, pos, expect, wal_room_at(wal, pos));
	}
	if (!ri.ri_data_stop && (st == REC_CORRUPT || ri.ri_lost > 0)) {
		ri.ri_stop = BIO_WAL_STOP_CORRUPT;
		if (ri.ri_lost > 0)
			D_ERROR("WAL %s: record LSN %" PRIu64 " is damaged and %u intact records "
				"after it are discarded with it (damage in the log, or its last "
				"flush reached the disk out of order): " DF_RC "\n",
				wal->w_path, expect, ri.ri_lost, DP_RC(-DER_CSUM));
		else
			D_WARN("WAL %s: torn record LSN %" PRIu64 " at the end of the log: "
			       "discarded\n",
			       wal->w_path, expect);
	}
	ri.ri_last_lsn = expect - 1;

	/* the partial block at the new head is rewritten, prefix included, by the next flush */
	part = pos - wal_rnd_down(pos);
	if (part > 0) {
		rc = reader_get(&r, wal_rnd_down(pos), part, &p);
		if (rc != 0)
			goto out;
		memcpy(wal->w_stg + wal_rnd_down(pos) % wal->w_stg_size, p, part);
	}

	wal->w_head_pos = wal->w_sub_pos = wal->w_dur_pos = pos;
	wal->w_last_lsn = wal->w_sub_lsn = wal->w_durable_lsn = expect - 1;
	if (from_lsn > expect - 1) {
		/* the checkpoint is newer than the whole log: restart it empty after from_lsn */
		D_WARN("WAL %s: checkpoint LSN %" PRIu64 " is past the log's end %" PRIu64
		       ": the log restarts there\n",
		       wal->w_path, from_lsn, expect - 1);
		wal->w_last_lsn = wal->w_sub_lsn = wal->w_durable_lsn = from_lsn;
		wal->w_ptail_lsn = from_lsn + 1;
		wal->w_ptail_pos = pos;
		wal->w_hdr_dirty = true;
	}
	/*
	 * A new generation: once its header is durable, records of older generations after
	 * w_replay_end are stale. Written with the first append (or trim), not before: a
	 * replay that writes nothing leaves the log as it found it.
	 */
	wal->w_gen = wal->w_hdr.hd_gen + 1;
	wal->w_replay_end = wal->w_last_lsn;
	/* records carrying extents stay checkable until a header's complete LSN covers them */
	if (dref_seen)
		wal->w_dref_last = expect - 1;
	wal->w_gen_pending = true;
	wal->w_replayed = true;
	D_INFO("WAL %s: replayed LSN %" PRIu64 "..%" PRIu64 " (%" PRIu64 " applied), gen %u\n",
	       wal->w_path, ri.ri_first_lsn, ri.ri_last_lsn, ri.ri_applied, wal->w_gen);
out:
	if (r.r_buf != NULL)
		munmap(r.r_buf, r.r_cap);
	D_FREE(r.r_ranges);
	if (info != NULL)
		*info = ri;
	return rc;
}

int
bio_wal_close(struct bio_wal *wal)
{
	int rc = 0;

	if (wal == NULL)
		return 0;
	if (wal->w_ring_ok) {
		D_ASSERT(!wal->w_in_poll);
		if (wal->w_replayed && wal->w_err == 0)
			rc = bio_wal_flush_wait(wal);
		wal_drain(wal);
		wal_cbs_run(wal);
		/* left: callbacks registered for records appended by callbacks during close */
		while (wal->w_cb_nr > 0) {
			struct wal_cb cb = wal->w_cbs[wal->w_cb_head];

			wal->w_cb_head = (wal->w_cb_head + 1) % wal->w_cb_cap;
			wal->w_cb_nr--;
			cb.wc_func(cb.wc_arg, cb.wc_lsn, -DER_CANCELED);
		}
		io_uring_queue_exit(&wal->w_ring);
	}
	if (rc == 0)
		rc = wal->w_err;
	if (wal->w_efd >= 0)
		close(wal->w_efd);
	if (wal->w_fd >= 0)
		close(wal->w_fd);
	if (wal->w_stg != NULL)
		munmap(wal->w_stg, wal->w_map_size);
	D_FREE(wal->w_bnds);
	D_FREE(wal->w_pcs);
	D_FREE(wal->w_cbs);
	D_FREE(wal->w_fls);
	D_FREE(wal->w_path);
	D_FREE(wal);
	return rc;
}
