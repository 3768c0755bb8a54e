/*
 * wal_test.h: helpers shared by the WAL tests (header-only, tests only): scratch
 * directories, deterministic random redo records that can be regenerated from a seed for
 * checking, raw access to the log bytes of a WAL file, and a record checker for replay.
 */
#ifndef BIO_WAL_TEST_H
#define BIO_WAL_TEST_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <daos_srv/bio.h>
#include <d_test.h>

#include "bio_internal.h"

#define WT_MAX_RANGES 8
#define WT_BUF_SIZE (4U << 20)

/* A scratch directory with one WAL file in it. */
struct wt_dir {
	char wd_dir[64];
	char wd_path[128];
};

static inline int
wt_dir_init(struct wt_dir *wd)
{
	snprintf(wd->wd_dir, sizeof(wd->wd_dir), "/tmp/bio_wal.XXXXXX");
	if (mkdtemp(wd->wd_dir) == NULL)
		return -1;
	snprintf(wd->wd_path, sizeof(wd->wd_path), "%s/wal", wd->wd_dir);
	return 0;
}

static inline void
wt_dir_fini(struct wt_dir *wd)
{
	char path[160];

	unlink(wd->wd_path);
	snprintf(path, sizeof(path), "%s/other", wd->wd_dir);
	unlink(path);
	rmdir(wd->wd_dir);
}

/* Shape of the records a seed generates. */
struct wt_shape {
	uint32_t ws_max_ranges; /* 1..WT_MAX_RANGES */
	uint32_t ws_max_len;    /* bytes per range, at most */
	uint32_t ws_big_len;    /* one range in 64 may be this long (0: never) */
};

/* A generated record: the redo plus the storage its ranges point at. */
struct wt_rec {
	struct umem_redo wr_redo;
	struct umem_redo_range wr_ranges[WT_MAX_RANGES];
	unsigned char *wr_buf; /* WT_BUF_SIZE bytes, owned */
};

static inline void
wt_rec_init(struct wt_rec *wr)
{
	wr->wr_buf = malloc(WT_BUF_SIZE);
}

static inline void
wt_rec_fini(struct wt_rec *wr)
{
	free(wr->wr_buf);
}

/* Fill @wr with the record of @seed: the same seed always gives the same record. */
static inline void
wt_rec_gen(struct wt_rec *wr, const struct wt_shape *sh, uint64_t seed)
{
	uint64_t rng = d_test_rand_seed((unsigned int)seed) ^ (seed * 0x9E3779B97F4A7C15ULL);
	uint32_t used = 0;
	uint32_t nr;
	uint32_t i;
	uint32_t j;

	d_test_rand(&rng);
	nr = 1 + (uint32_t)(d_test_rand(&rng) % sh->ws_max_ranges);
	for (i = 0; i < nr; i++) {
		struct umem_redo_range *rr = &wr->wr_ranges[i];
		uint32_t len = (uint32_t)(d_test_rand(&rng) % (sh->ws_max_len + 1));

		if (sh->ws_big_len != 0 && d_test_rand(&rng) % 64 == 0)
			len = sh->ws_big_len;
		if (used + len > WT_BUF_SIZE)
			len = WT_BUF_SIZE - used;
		rr->rr_off = d_test_rand(&rng) % (1ULL << 40);
		rr->rr_len = len;
		rr->rr_pad = 0;
		rr->rr_data = wr->wr_buf + used;
		for (j = 0; j < len; j += 8) {
			uint64_t v = d_test_rand(&rng);

			memcpy(wr->wr_buf + used + j, &v, len - j < 8 ? len - j : 8);
		}
		used += len;
	}
	wr->wr_redo.ur_nr = nr;
	wr->wr_redo.ur_pad = 0;
	wr->wr_redo.ur_bytes = used;
	wr->wr_redo.ur_ranges = wr->wr_ranges;
}

/* Is @redo exactly the record of @seed? */
static inline bool
wt_rec_equal(struct wt_rec *scratch, const struct wt_shape *sh, uint64_t seed,
	     const struct umem_redo *redo)
{
	uint32_t i;

	wt_rec_gen(scratch, sh, seed);
	if (redo->ur_nr != scratch->wr_redo.ur_nr || redo->ur_bytes != scratch->wr_redo.ur_bytes)
		return false;
	for (i = 0; i < redo->ur_nr; i++) {
		const struct umem_redo_range *a = &redo->ur_ranges[i];
		const struct umem_redo_range *b = &scratch->wr_ranges[i];

		if (a->rr_off != b->rr_off || a->rr_len != b->rr_len ||
		    memcmp(a->rr_data, b->rr_data, a->rr_len) != 0)
			return false;
	}
	return true;
}

/* Read or write @len bytes of the log area of the WAL at @path at log position @pos. */
static inline int
wt_log_io(const char *path, bool write, uint64_t pos, void *buf, size_t len)
{
	struct wal_hdr_df hd[2];
	uint64_t area;
	size_t done = 0;
	int fd;
	int rc = 0;

	fd = open(path, O_RDWR);
	if (fd < 0)
		return -1;
	if (pread(fd, &hd[0], sizeof(hd[0]), 0) != sizeof(hd[0]) ||
	    pread(fd, &hd[1], sizeof(hd[1]), WAL_BLK_SIZE) != sizeof(hd[1])) {
		close(fd);
		return -1;
	}
	area = hd[0].hd_magic == WAL_HDR_MAGIC ? hd[0].hd_area_size : hd[1].hd_area_size;
	while (done < len) {
		uint64_t off = (pos + done) % area;
		size_t n = len - done;
		ssize_t r;

		if (n > area - off)
			n = area - off;
		if (write)
			r = pwrite(fd, (char *)buf + done, n, (off_t)(WAL_AREA_OFF + off));
		else
			r = pread(fd, (char *)buf + done, n, (off_t)(WAL_AREA_OFF + off));
		if (r != (ssize_t)n) {
			rc = -1;
			break;
		}
		done += n;
	}
	if (write && fsync(fd) != 0)
		rc = -1;
	close(fd);
	return rc;
}

/* Checks records handed to a replay callback against their seeds. */
struct wt_check {
	const struct wt_shape *wc_shape;
	const uint64_t *wc_seeds; /* seed of LSN i at index i */
	uint64_t wc_nseeds;
	struct wt_rec wc_scratch;
	uint64_t wc_first; /* first LSN seen (0: none) */
	uint64_t wc_last;  /* last LSN seen */
	uint64_t wc_bad;   /* records that were out of order or wrong */
};

static inline int
wt_check_cb(void *arg, uint64_t lsn, const struct umem_redo *redo)
{
	struct wt_check *wc = arg;

	if (wc->wc_first == 0)
		wc->wc_first = lsn;
	else if (lsn != wc->wc_last + 1)
		wc->wc_bad++;
	wc->wc_last = lsn;
	if (lsn >= wc->wc_nseeds ||
	    !wt_rec_equal(&wc->wc_scratch, wc->wc_shape, wc->wc_seeds[lsn], redo))
		wc->wc_bad++;
	return 0;
}

#endif /* BIO_WAL_TEST_H */
