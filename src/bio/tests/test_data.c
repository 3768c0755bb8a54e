/*
 * test_data.c: data-file writes (bio_data.c) and their sync ordered by the WAL
 * (bio_wal_dep_sync).
 *
 * - t_data_write: random batches of values, each from 1..4 pieces with random lengths and
 *   alignments (aligned pieces go straight to the kernel, the rest through the bounce
 *   arena), at random block offsets; the file read back through a buffered descriptor
 *   must hold every value followed by zeros to its last block, and nothing else changed.
 * - t_data_read: random reads of a file of known bytes, at any offset and length, into
 *   1..4 pieces of random alignment, several values per batch, some with every read
 *   cut short (BIO_FI_DATA_SHORT: the rest is resubmitted): every byte as in the file,
 *   nothing outside the pieces touched, large values read by several requests at once;
 *   a failed read (BIO_FI_DATA_READ) and a read past the end are -DER_IO and the next
 *   batch works.
 * - t_data_read_cached: reads of 64 KiB or more (O_DIRECT ones) that the page cache holds
 *   whole are served at once (no ring request), smaller ones always go to the ring (no
 *   RWF_NOWAIT attempt, cached or not), the others (dropped from the cache, partly dropped,
 * rewritten by an O_DIRECT write since) go to the ring; every byte as in the file either way, never
 * a stale cached one.
 * - t_data_read_long: one batch of more requests than the batch first has room for (9 MiB:
 *   36 of 256 KiB); growing the request array moved the open request while its offset was
 *   still to be read (a use after free under ASan; the 9 MiB values of obj_test_bulk).
 * - t_data_errors: a failed write (BIO_FI_DATA_WRITE) and a failed submission
 *   (BIO_FI_DATA_SUBMIT) come back as -DER_IO, the next batch works.
 * - t_data_buffered: writes below 64 KiB go through the page cache at once (the wait hook is
 *   never called, no ring request), larger ones O_DIRECT; random small and large writes and
 *   reads over overlapping ranges always read the last bytes written (the two descriptors
 *   stay coherent); a failed buffered write (BIO_FI_DATA_WRITE) is -DER_IO;
 *   DAOS_BIO_BUF_WRITE=0 sends a 4 KiB write to the ring again.
 * - t_data_cache_write: writes of 64 KiB .. DAOS_BIO_CACHE_WRITE (set to 1 MiB; off by
 *   default) go buffered through the ring and stay in the page cache: reads of them are
 *   served at once (no miss), the
 *   same bytes once written back and dropped from the cache (through the ring, O_DIRECT)
 *   and after a reopen; mixed with O_DIRECT writes (above the limit) and small buffered ones
 *   over the same ranges, every read sees the last write; DAOS_BIO_CACHE_WRITE=0 sends them
 *   O_DIRECT again (not cached).
 * - t_data_wb_start: each cached write starts its own write-back (a linked
 *   sync_file_range(WRITE)): its pages are clean well before the kernel's 30 s expiry
 *   would write them (cachestat), with no sync by anyone; a failed start (fault
 *   BIO_FI_DATA_WB) is counted, reaped by bio_data_ready (which then says false) and
 *   harms nothing; DAOS_BIO_WB_START=0 queues none.
 * - t_data_concurrent: a second batch runs to completion inside the first one's wait hook
 *   (two ULTs); both land, and every bounce chunk comes back.
 * - t_data_wal: a flush after bio_wal_dep_sync syncs the data file once (shared by every
 *   record appended before it is submitted), a flush without new records does not, and a
 *   failed data sync (BIO_FI_DATA_SYNC) fails the flush and the WAL (-DER_IO).
 * - t_wal_zero_runs: records whose ranges mix zero runs and data at every alignment replay
 *   to the same image and never take more log than bio_wal_rec_size() allows.
 * - t_data_zero_ahead: on a fresh fallocated file, a small write first fills the file with
 *   zeros from the written end to BD_ZERO_AHEAD past it (no unwritten extent left there,
 *   FIEMAP), small writes inside that stretch and large ones add none, a large write moves
 *   the end without zeroing, and nothing written before, in this open or an earlier one,
 *   is ever zeroed (the file against a model, after a reopen too);
 *   DAOS_BIO_ZERO_AHEAD=0 turns it off.
 * - t_data_lock: bio_data_open waits while a previous owner's file description lives (a
 *   killed process's writes in flight hold it), and what that owner wrote last has landed
 *   when it returns.
 * - t_data_lock_cached: the same for the buffered description alone (the cached large
 *   writes' one), held by a child that closed its O_DIRECT one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_srv/bio.h>
#include <d_test.h>

#include "bio_internal.h"

#define FILE_SIZE (64ULL << 20)
#define MAX_VAL (300U << 10)
#define BD_BLK_TEST 4096
#define BD_NOWAIT_SKIP_MAX_TEST 64      /* BD_NOWAIT_BACKOFF_MAX */
#define BD_CACHED_READ_TEST (64U << 10) /* BD_CACHED_READ, and BD_BUF_WRITE */

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	int fd;

	(void)state;
	strcpy(dir, "/tmp/bio_data.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/data", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fallocate(fd, 0, 0, FILE_SIZE), 0);
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	char wal[160];

	(void)state;
	snprintf(wal, sizeof(wal), "%s/wal", dir);
	unlink(wal);
	unlink(path);
	rmdir(dir);
	return 0;
}

static void
t_data_write(void **state)
{
	unsigned int seed = d_test_seed("t_data_write");
	uint64_t rs = d_test_rand_seed(seed);
	unsigned char *model, *src = NULL, *got;
	struct bio_data_stats st;
	struct bio_data *bd;
	unsigned int round;
	int rfd;

	(void)state;
	model = calloc(1, FILE_SIZE);
	got = malloc(FILE_SIZE);
	assert_int_equal(posix_memalign((void **)&src, 4096, 4 * MAX_VAL + 4 * 4096), 0);
	assert_true(model != NULL && got != NULL);
	assert_int_equal(bio_data_open(path, &bd), 0);
	for (round = 0; round < 60; round++) {
		unsigned int nval = 1 + (unsigned int)(d_test_rand(&rs) % 3), v;
		uint64_t slot = FILE_SIZE / 4;
		struct bio_data_batch *bb;

		assert_int_equal(bio_data_batch_get(bd, &bb), 0);
		for (v = 0; v < nval; v++) {
			/* each value in its own quarter of the file: batches never overlap */
			uint64_t len = 1 + d_test_rand(&rs) % MAX_VAL;
			uint64_t off =
			    v * slot + (d_test_rand(&rs) % ((slot - MAX_VAL) / 4096)) * 4096;
			unsigned int npieces = 1 + (unsigned int)(d_test_rand(&rs) % 4), p;
			struct iovec iov[4];
			uint64_t done = 0, pad;
			char *at = (char *)src + v * (MAX_VAL + 4096);

			/* a quarter of the values from page-aligned buffers */
			at += d_test_rand(&rs) % 4 == 0 ? 0 : d_test_rand(&rs) % 4096;
			for (p = 0; p < npieces; p++) {
				uint64_t n = p + 1 == npieces ? len - done
							      : d_test_rand(&rs) % (len - done + 1);

				if (p + 1 < npieces && d_test_rand(&rs) % 2 == 0)
					n &= ~4095ULL; /* whole blocks, often */
				iov[p].iov_base = at + done;
				iov[p].iov_len = n;
				done += n;
			}
			for (done = 0; done < len; done++)
				at[done] = (char)d_test_rand(&rs);
			assert_int_equal(bio_data_write(bb, off, iov, npieces), 0);
			memcpy(model + off, at, len);
			pad = (4096 - len % 4096) % 4096;
			memset(model + off + len, 0, pad);
		}
		assert_int_equal(bio_data_submit_wait(bb, NULL, NULL), 0);
	}
	bio_data_query(bd, &st);
	/* every batch gave its bounce chunks back */
	assert_int_equal(st.ds_free_chunks, st.ds_chunks);
	/* both paths were taken (on a file system without O_DIRECT everything is direct) */
	assert_true(st.ds_direct_bytes > 0 && st.ds_bounce_bytes > 0);
	assert_int_equal(st.ds_errors, 0);
	bio_data_close(bd);

	rfd = open(path, O_RDONLY);
	assert_true(rfd >= 0);
	assert_int_equal(pread(rfd, got, FILE_SIZE, 0), (ssize_t)FILE_SIZE);
	close(rfd);
	assert_memory_equal(got, model, FILE_SIZE);
	free(model);
	free(got);
	free(src);
}

/* The random bytes of the file of t_data_read, written through a buffered descriptor. */
static unsigned char *
file_fill(uint64_t *rs)
{
	unsigned char *model = malloc(FILE_SIZE);
	uint64_t i;
	int fd;

	assert_non_null(model);
	for (i = 0; i < FILE_SIZE; i += 8) {
		uint64_t r = d_test_rand(rs);

		memcpy(model + i, &r, 8);
	}
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, model, FILE_SIZE, 0), (ssize_t)FILE_SIZE);
	assert_int_equal(fsync(fd), 0);
	close(fd);
	return model;
}

#define RD_GUARD 64 /* bytes around each destination that must stay untouched */

static void
t_data_read(void **state)
{
	unsigned int seed = d_test_seed("t_data_read");
	uint64_t rs = d_test_rand_seed(seed);
	struct d_fault_attr fa = {.fa_id = BIO_FI_DATA_SHORT};
	unsigned char *model, *dst = NULL;
	struct bio_data_stats st0, st;
	struct bio_data *bd;
	unsigned int round;
	uint64_t shorts = 0;

	(void)state;
	model = file_fill(&rs);
	assert_int_equal(posix_memalign((void **)&dst, 4096, 3 * (MAX_VAL + 8192)), 0);
	assert_int_equal(bio_data_open(path, &bd), 0);
	for (round = 0; round < 120; round++) {
		unsigned int nval = 1 + (unsigned int)(d_test_rand(&rs) % 3), v;
		bool cut = round % 4 == 3;
		struct bio_data_batch *bb;
		uint64_t offs[3], lens[3];
		char *ats[3];

		memset(dst, 0xee, 3 * (MAX_VAL + 8192));
		assert_int_equal(bio_data_batch_get(bd, &bb), 0);
		for (v = 0; v < nval; v++) {
			uint64_t len = 1 + d_test_rand(&rs) % MAX_VAL;
			uint64_t off = d_test_rand(&rs) % (FILE_SIZE - len);
			unsigned int npieces = 1 + (unsigned int)(d_test_rand(&rs) % 4), p;
			char *at = (char *)dst + v * (MAX_VAL + 8192) + RD_GUARD;
			struct iovec iov[4];
			uint64_t done = 0;

			/* a third of them block aligned in the file and in memory */
			if (d_test_rand(&rs) % 3 == 0) {
				off &= ~4095ULL;
				at = (char *)dst + v * (MAX_VAL + 8192) + 4096;
			} else {
				at += d_test_rand(&rs) % 4096;
			}
			for (p = 0; p < npieces; p++) {
				uint64_t n = p + 1 == npieces ? len - done
							      : d_test_rand(&rs) % (len - done + 1);

				if (p + 1 < npieces && d_test_rand(&rs) % 2 == 0)
					n &= ~4095ULL;
				iov[p].iov_base = at + done;
				iov[p].iov_len = n;
				done += n;
			}
			assert_int_equal(bio_data_read(bb, off, iov, npieces), 0);
			offs[v] = off;
			lens[v] = len;
			ats[v] = at;
		}
		if (cut)
			assert_int_equal(d_fault_attr_set(&fa), 0);
		bio_data_query(bd, &st0);
		assert_int_equal(bio_data_submit_wait(bb, NULL, NULL), 0);
		bio_data_query(bd, &st);
		if (cut) {
			d_fault_attr_clear(BIO_FI_DATA_SHORT);
			shorts += st.ds_short_reads - st0.ds_short_reads;
		}
		for (v = 0; v < nval; v++) {
			unsigned char *a = (unsigned char *)ats[v];
			uint64_t i;

			assert_memory_equal(a, model + offs[v], lens[v]);
			for (i = 1; i <= RD_GUARD; i++) {
				if (a - i >= dst + v * (MAX_VAL + 8192))
					assert_int_equal(a[-(int64_t)i], 0xee);
				assert_int_equal(a[lens[v] + i - 1], 0xee);
			}
			/* a value of more than 256 KiB is read by several requests at once */
			if (nval == 1 && lens[v] > (256U << 10) + 8192)
				assert_true(st.ds_reads - st0.ds_reads >= 2);
		}
	}
	bio_data_query(bd, &st);
	assert_int_equal(st.ds_free_chunks, st.ds_chunks);
	assert_int_equal(st.ds_errors, 0);
	assert_true(shorts > 0 && st.ds_short_reads == shorts);
	assert_true(st.ds_direct_bytes > 0 && st.ds_bounce_bytes > 0);

	/* a failed read, a read past the end of the file: -DER_IO; then reads work again */
	{
		struct d_fault_attr fe = {.fa_id = BIO_FI_DATA_READ, .fa_max_faults = 1};
		struct bio_data_batch *bb;
		struct iovec iov = {.iov_base = dst + 1, .iov_len = 3 * 4096};

		assert_int_equal(d_fault_attr_set(&fe), 0);
		assert_int_equal(bio_data_batch_get(bd, &bb), 0);
		assert_int_equal(bio_data_read(bb, 12345, &iov, 1), 0);
		assert_int_equal(bio_data_submit_wait(bb, NULL, NULL), -DER_IO);
		d_fault_attr_clear(BIO_FI_DATA_READ);
		assert_int_equal(bio_data_batch_get(bd, &bb), 0);
		assert_int_equal(bio_data_read(bb, FILE_SIZE - 4096, &iov, 1), 0);
		assert_int_equal(bio_data_submit_wait(bb, NULL, NULL), -DER_IO);
		assert_int_equal(bio_data_batch_get(bd, &bb), 0);
		assert_int_equal(bio_data_read(bb, 12345, &iov, 1), 0);
		assert_int_equal(bio_data_submit_wait(bb, NULL, NULL), 0);
		assert_memory_equal(dst + 1, model + 12345, 3 * 4096);
		bio_data_query(bd, &st);
		assert_int_equal(st.ds_errors, 2);
		assert_int_equal(st.ds_free_chunks, st.ds_chunks);
	}
	bio_data_close(bd);
	free(model);
	free(dst);
}

/* Read [off, off + len) of @bd into @dst (aligned) in one batch; the batch's outcome. */
static int
read_one(struct bio_data *bd, uint64_t off, void *dst, uint64_t len)
{
	struct iovec iov = {.iov_base = dst, .iov_len = len};
	struct bio_data_batch *bb;

	assert_int_equal(bio_data_batch_get(bd, &bb), 0);
	assert_int_equal(bio_data_read(bb, off, &iov, 1), 0);
	return bio_data_submit_wait(bb, NULL, NULL);
}

static int write_one(struct bio_data *bd, uint64_t off, struct iovec *iov);

static void
t_data_read_long(void **state)
{
	uint64_t rs = d_test_rand_seed(d_test_seed("t_data_read_long"));
	uint64_t len = (9ULL << 20) + 4096;
	unsigned char *model, *dst = NULL;
	struct bio_data *bd;
	int fd;

	(void)state;
	model = file_fill(&rs);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0); /* to the ring */
	close(fd);
	assert_int_equal(posix_memalign((void **)&dst, 4096, len + 4096), 0);
	assert_int_equal(bio_data_open(path, &bd), 0);
	memset(dst, 0xee, len + 4096);
	assert_int_equal(read_one(bd, 5ULL << 20, dst, len), 0);
	assert_memory_equal(dst, model + (5ULL << 20), len);
	/* unaligned in memory: bounce blocks, still many requests */
	memset(dst, 0xee, len + 4096);
	assert_int_equal(read_one(bd, (5ULL << 20) + 7, dst + 1, len - 9), 0);
	assert_memory_equal(dst + 1, model + (5ULL << 20) + 7, len - 9);
	assert_int_equal(dst[0], 0xee);
	assert_int_equal(dst[len - 8], 0xee);
	bio_data_close(bd);
	free(model);
	free(dst);
}

static uint64_t resident_pages(const char *p, uint64_t off, uint64_t len);

/*
 * Drop [@off, @off + @len) of file @p from the page cache, for certain (@buf: @len bytes of
 * scratch). A buffered read before it may have started a readahead that is still reading
 * pages of the range in: POSIX_FADV_DONTNEED skips pages under I/O, and they are cached once
 * it completes, so a read meant to miss found some of them (t_data_read_cached, 1 run in
 * 100 with three copies at once). A blocking read of the range waits for that I/O first;
 * then the cache is dropped until mincore finds none of the range.
 */
static void
cache_drop(const char *p, uint64_t off, uint64_t len, void *buf)
{
	int fd = open(p, O_RDONLY);
	int i;

	assert_true(fd >= 0);
	for (i = 0;; i++) {
		assert_true(i < 100);
		assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
		assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
		if (resident_pages(p, off, len) == 0)
			break;
		usleep(10000);
	}
	close(fd);
}

static void
t_data_read_cached(void **state)
{
	uint64_t rs = d_test_rand_seed(d_test_seed("t_data_read_cached"));
	struct bio_data_stats st0, st;
	unsigned char *model, *dst = NULL, *val = NULL;
	struct bio_data *bd;
	struct iovec wiov;
	uint64_t off = 3ULL << 20;
	uint64_t len = 1ULL << 20;
	int fd;
	int i;

	(void)state;
	model = file_fill(&rs); /* buffered writes: the whole file is in the page cache */
	assert_int_equal(posix_memalign((void **)&dst, 4096, len), 0);
	assert_int_equal(posix_memalign((void **)&val, 4096, len), 0);
	setenv("DAOS_BIO_CACHE_WRITE", "0", 1); /* large writes O_DIRECT, as below */
	assert_int_equal(bio_data_open(path, &bd), 0);
	unsetenv("DAOS_BIO_CACHE_WRITE");

	/* cached: served at once, four requests of 256 KiB, none through the ring */
	bio_data_query(bd, &st0);
	memset(dst, 0xee, len);
	assert_int_equal(read_one(bd, off, dst, len), 0);
	assert_memory_equal(dst, model + off, len);
	bio_data_query(bd, &st);
	assert_int_equal(st.ds_cached_reads - st0.ds_cached_reads, 4);
	assert_int_equal(st.ds_reads - st0.ds_reads, 4);
	assert_int_equal(st.ds_done, st0.ds_done);
	/*
	 * A small unaligned read through a bounce block: the ring on the buffered descriptor,
	 * never an RWF_NOWAIT attempt (below BD_CACHED_READ), cached or not.
	 */
	bio_data_query(bd, &st0);
	memset(dst, 0xee, 200);
	assert_int_equal(read_one(bd, off + 4000, dst + 1, 99), 0);
	assert_memory_equal(dst + 1, model + off + 4000, 99);
	assert_int_equal(dst[0], 0xee);
	assert_int_equal(dst[100], 0xee);
	bio_data_query(bd, &st);
	assert_int_equal(st.ds_cached_reads, st0.ds_cached_reads);
	assert_int_equal(st.ds_cache_misses, st0.ds_cache_misses);
	assert_int_equal(st.ds_done - st0.ds_done, 1);

	/*
	 * Dropped from the cache (the whole file: a range inside a large folio would stay):
	 * the ring reads the device. Then only part of it cached again (a buffered read of
	 * the first quarter; readahead may bring more): the bytes are right either way.
	 */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	bio_data_query(bd, &st0);
	assert_int_equal(read_one(bd, off + 8192, dst, 4096), 0); /* small, uncached */
	assert_memory_equal(dst, model + off + 8192, 4096);
	bio_data_query(bd, &st);
	assert_int_equal(st.ds_cache_misses, st0.ds_cache_misses);
	assert_int_equal(st.ds_done - st0.ds_done, 1);
	/*
	 * Dropped (that small read's readahead may still run: cache_drop), a 1 MiB read misses
	 * and goes to the ring. But a missed RWF_NOWAIT read starts a readahead of its range,
	 * and when this thread is preempted before the kernel looks at the pages again (a
	 * loaded machine), the same read finds them read and is served: a "hit" on nothing
	 * cached (17 of 9000 such reads here beside other runs). So up to 5 tries on a freshly
	 * dropped range, until one sees no hit and a miss; a read that never misses fails.
	 */
	for (i = 0;; i++) {
		assert_true(i < 5);
		cache_drop(path, off, len, dst);
		bio_data_query(bd, &st0);
		memset(dst, 0xee, len);
		assert_int_equal(read_one(bd, off, dst, len), 0);
		assert_memory_equal(dst, model + off, len);
		bio_data_query(bd, &st);
		assert_int_equal(
		    st.ds_cached_reads - st0.ds_cached_reads + (st.ds_done - st0.ds_done), 4);
		if (st.ds_cached_reads == st0.ds_cached_reads &&
		    st.ds_cache_misses - st0.ds_cache_misses >= 1) /* then it backs off */
			break;
	}
	assert_int_equal(st.ds_done - st0.ds_done, 4);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	assert_int_equal(pread(fd, dst, len / 4, (off_t)off), (ssize_t)(len / 4));
	close(fd);
	bio_data_query(bd, &st0);
	memset(dst, 0xee, len);
	assert_int_equal(read_one(bd, off, dst, len), 0);
	assert_memory_equal(dst, model + off, len);
	bio_data_query(bd, &st);
	assert_int_equal(st.ds_cached_reads - st0.ds_cached_reads + (st.ds_done - st0.ds_done), 4);

	/* after a run of misses the attempts back off, but a cached range is found again */
	fd = open(path, O_RDONLY);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(read_one(bd, off, dst, len), 0);
	bio_data_query(bd, &st0);
	assert_true(st0.ds_cache_misses - st.ds_cache_misses < 40); /* not every read tried */
	assert_int_equal(pread(fd, dst, len, (off_t)off), (ssize_t)len);
	close(fd);
	for (i = 0; i < 40; i++) {
		memset(dst, 0xee, len);
		assert_int_equal(read_one(bd, off, dst, len), 0);
		assert_memory_equal(dst, model + off, len);
	}
	bio_data_query(bd, &st);
	/* of 160 requests, at most the 64 of a backoff go to the ring */
	assert_true(st.ds_cached_reads - st0.ds_cached_reads >= 160 - BD_NOWAIT_SKIP_MAX_TEST);

	/* rewritten by an O_DIRECT write: the cached pages went, the new bytes come back */
	assert_int_equal(pread(fd = open(path, O_RDONLY), dst, len, (off_t)off), (ssize_t)len);
	close(fd);
	memset(val, 0x5c, len);
	wiov.iov_base = val;
	wiov.iov_len = len;
	assert_int_equal(write_one(bd, off, &wiov), 0);
	memset(dst, 0xee, len);
	assert_int_equal(read_one(bd, off, dst, len), 0);
	assert_memory_equal(dst, val, len);
	assert_int_equal(read_one(bd, off, dst, len), 0); /* again, whichever way it goes */
	assert_memory_equal(dst, val, len);

	bio_data_query(bd, &st);
	assert_int_equal(st.ds_errors, 0);
	assert_int_equal(st.ds_free_chunks, st.ds_chunks);
	bio_data_close(bd);
	free(model);
	free(dst);
	free(val);
}

/* Queue @iov at @off in a new batch of @bd and run it; the batch's outcome. */
static int
write_one(struct bio_data *bd, uint64_t off, struct iovec *iov)
{
	struct bio_data_batch *bb;

	assert_int_equal(bio_data_batch_get(bd, &bb), 0);
	assert_int_equal(bio_data_write(bb, off, iov, 1), 0);
	return bio_data_submit_wait(bb, NULL, NULL);
}

/* Fill @len bytes of @src at random, write them at @off of @bd, and into @model (padded). */
static void
cw_write(struct bio_data *bd, unsigned char *model, uint64_t *rs, unsigned char *src, uint64_t off,
	 uint64_t len)
{
	struct iovec iov = {.iov_base = src, .iov_len = len};
	uint64_t i;

	for (i = 0; i < len; i++)
		src[i] = (unsigned char)d_test_rand(rs);
	assert_int_equal(write_one(bd, off, &iov), 0);
	memcpy(model + off, src, len);
	memset(model + off + len, 0, (BD_BLK_TEST - len % BD_BLK_TEST) % BD_BLK_TEST);
}

/* Read the @n values at @voff (@vlen bytes each) of @bd into @dst: @model's bytes. */
static void
cw_read_all(struct bio_data *bd, const unsigned char *model, const uint64_t *voff,
	    const uint64_t *vlen, int n, unsigned char *dst)
{
	int i;

	for (i = 0; i < n; i++) {
		memset(dst, 0xee, vlen[i]);
		assert_int_equal(read_one(bd, voff[i], dst, vlen[i]), 0);
		assert_memory_equal(dst, model + voff[i], vlen[i]);
	}
}

/* pages of [@off, @off + @len) of file @p in the page cache (mincore of a mapping) */
static uint64_t
resident_pages(const char *p, uint64_t off, uint64_t len)
{
	size_t np = (size_t)(len / 4096), i;
	unsigned char *vec = malloc(np);
	uint64_t n = 0;
	void *m;
	int fd;

	assert_true(vec != NULL);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
	assert_true(m != MAP_FAILED);
	assert_int_equal(mincore(m, len, vec), 0);
	for (i = 0; i < np; i++)
		n += vec[i] & 1;
	munmap(m, len);
	close(fd);
	free(vec);
	return n;
}

static void
t_data_cache_write(void **state)
{
	uint64_t rs = d_test_rand_seed(d_test_seed("t_data_cache_write"));
	const uint64_t M = 1ULL << 20;
	struct bio_data_stats st0, st;
	unsigned char *model, *src = NULL, *dst = NULL, *got;
	struct bio_data *bd;
	uint64_t voff[16], vlen[16], off, len;
	int fd, i, round;

	(void)state;
	model = calloc(1, FILE_SIZE);
	got = malloc(FILE_SIZE);
	assert_true(model != NULL && got != NULL);
	assert_int_equal(posix_memalign((void **)&src, 4096, 2 * M + 4096), 0);
	assert_int_equal(posix_memalign((void **)&dst, 4096, 2 * M + 4096), 0);
	setenv("DAOS_BIO_CACHE_WRITE", "1048576", 1); /* off by default */
	assert_int_equal(bio_data_open(path, &bd), 0);
	bio_data_query(bd, &st0);
	if (!st0.ds_direct) { /* no O_DIRECT here: every write is buffered anyway */
		print_message("no O_DIRECT in %s: nothing to test\n", dir);
		bio_data_close(bd);
		goto out;
	}

	/* 16 values of 64 KiB .. 1 MiB, a third from unaligned buffers (bounce blocks) */
	for (i = 0; i < 16; i++) {
		vlen[i] = BD_CACHED_READ_TEST + d_test_rand(&rs) % (M - BD_CACHED_READ_TEST + 1);
		voff[i] = 8 * M + (uint64_t)i * 2 * M + (d_test_rand(&rs) % 64) * BD_BLK_TEST;
		cw_write(bd, model, &rs, src + (d_test_rand(&rs) % 3 == 0 ? 1 : 0), voff[i],
			 vlen[i]);
	}
	bio_data_query(bd, &st);
	assert_int_equal(st.ds_cache_writes - st0.ds_cache_writes, 16);
	assert_int_equal(st.ds_writes - st0.ds_writes, 16);
	assert_int_equal(st.ds_buffered_writes, st0.ds_buffered_writes);

	/* fetched from the page cache: every attempt hits */
	bio_data_query(bd, &st0);
	cw_read_all(bd, model, voff, vlen, 16, dst);
	bio_data_query(bd, &st);
	assert_int_equal(st.ds_cache_misses, st0.ds_cache_misses);
	assert_true(st.ds_cached_reads - st0.ds_cached_reads >= 16);

	/* written back and dropped from the cache: read from the device, the same bytes */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fdatasync(fd), 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(fd);
	bio_data_query(bd, &st0);
	cw_read_all(bd, model, voff, vlen, 16, dst);
	bio_data_query(bd, &st);
	assert_true(st.ds_cache_misses > st0.ds_cache_misses);
	assert_true(st.ds_done - st0.ds_done >= 16);

	/*
	 * Cached (64 KiB .. 1 MiB), O_DIRECT (above 1 MiB) and small buffered writes and
	 * reads over the same 4 MiB, in random order: every read sees the last write.
	 */
	bio_data_query(bd, &st0);
	for (round = 0; round < 120; round++) {
		int kind = (int)(d_test_rand(&rs) % 4);

		off = 40 * M + (d_test_rand(&rs) % (2 * M / BD_BLK_TEST)) * BD_BLK_TEST;
		if (kind == 0)
			len =
			    BD_CACHED_READ_TEST + d_test_rand(&rs) % (M - BD_CACHED_READ_TEST + 1);
		else if (kind == 1)
			len = M + 1 + d_test_rand(&rs) % M;
		else
			len = 1 + d_test_rand(&rs) % (BD_CACHED_READ_TEST - 1);
		if (kind < 3) {
			cw_write(bd, model, &rs, src, off, len);
			continue;
		}
		len = 1 + d_test_rand(&rs) % (2 * M);
		off += d_test_rand(&rs) % BD_BLK_TEST;
		memset(dst, 0xee, len + 1);
		assert_int_equal(read_one(bd, off, dst, len), 0);
		assert_memory_equal(dst, model + off, len);
		assert_int_equal(dst[len], 0xee);
	}
	bio_data_query(bd, &st);
	assert_true(st.ds_cache_writes - st0.ds_cache_writes > 10);
	assert_true(st.ds_buffered_writes - st0.ds_buffered_writes > 10);
	/* the O_DIRECT ones */
	assert_true((st.ds_writes - st0.ds_writes) - (st.ds_cache_writes - st0.ds_cache_writes) -
			(st.ds_buffered_writes - st0.ds_buffered_writes) >
		    10);
	assert_int_equal(st.ds_errors, 0);
	assert_int_equal(st.ds_free_chunks, st.ds_chunks);
	bio_data_close(bd);

	/* reopened: the same bytes, through bio and through another descriptor */
	assert_int_equal(bio_data_open(path, &bd), 0);
	cw_read_all(bd, model, voff, vlen, 16, dst);
	bio_data_close(bd);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, got, FILE_SIZE, 0), (ssize_t)FILE_SIZE);
	close(fd);
	assert_memory_equal(got, model, FILE_SIZE);

	/*
	 * DAOS_BIO_CACHE_WRITE=0: O_DIRECT, nothing left in the page cache by the write. The
	 * whole-file pread above cached every page; drop them first. Checked with mincore right
	 * after the write, not by counting cached reads: a missed RWF_NOWAIT read starts a
	 * readahead, so the later parts of a read can hit the cache (CI saw 4 such hits), and
	 * on a loaded machine even the read that started it can (no miss at all: 1 run in
	 * about 50 with three copies at once).
	 */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(fd);
	setenv("DAOS_BIO_CACHE_WRITE", "0", 1);
	assert_int_equal(bio_data_open(path, &bd), 0);
	unsetenv("DAOS_BIO_CACHE_WRITE");
	cw_write(bd, model, &rs, src, 50 * M, M);
	/* a buffered write would leave all of them; allow a few the kernel failed to drop */
	assert_true(resident_pages(path, 50 * M, M) * 2 < M / 4096);
	assert_int_equal(read_one(bd, 50 * M, dst, M), 0);
	assert_memory_equal(dst, model + 50 * M, M);
	bio_data_query(bd, &st);
	assert_int_equal(st.ds_cache_writes, 0);
	bio_data_close(bd);
out:
	unsetenv("DAOS_BIO_CACHE_WRITE");
	free(model);
	free(got);
	free(src);
	free(dst);
}

#ifndef __NR_cachestat
#define __NR_cachestat 451 /* the same number on every architecture */
#endif

static double
t_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Pages of [@off, @off + @len) of file @p that are dirty or under write-back (cachestat,
 * Linux 6.5), or -1 when the kernel has no cachestat.
 */
static int64_t
unclean_pages(const char *p, uint64_t off, uint64_t len)
{
	struct {
		uint64_t off;
		uint64_t len;
	} range = {off, len};
	struct {
		uint64_t nr_cache;
		uint64_t nr_dirty;
		uint64_t nr_writeback;
		uint64_t nr_evicted;
		uint64_t nr_recently_evicted;
	} cs = {0};
	int fd = open(p, O_RDONLY);
	long rc;

	assert_true(fd >= 0);
	rc = syscall(__NR_cachestat, fd, &range, &cs, 0);
	close(fd);
	if (rc != 0) {
		assert_int_equal(errno, ENOSYS);
		return -1;
	}
	return (int64_t)(cs.nr_dirty + cs.nr_writeback);
}

static void
t_data_wb_start(void **state)
{
	uint64_t rs = d_test_rand_seed(d_test_seed("t_data_wb_start"));
	const uint64_t M = 1ULL << 20;
	struct d_fault_attr fa = {.fa_id = BIO_FI_DATA_WB, .fa_max_faults = 2};
	struct bio_data_stats st0, st;
	unsigned char *model, *src = NULL, *dst = NULL;
	struct bio_data *bd;
	int64_t unclean = 0;
	double t0;
	int i;

	(void)state;
	model = calloc(1, FILE_SIZE);
	assert_true(model != NULL);
	assert_int_equal(posix_memalign((void **)&src, 4096, M), 0);
	assert_int_equal(posix_memalign((void **)&dst, 4096, M), 0);
	setenv("DAOS_BIO_CACHE_WRITE", "1048576", 1);
	unsetenv("DAOS_BIO_WB_START"); /* on by default */
	assert_int_equal(bio_data_open(path, &bd), 0);
	bio_data_query(bd, &st0);
	if (!st0.ds_direct) {
		print_message("no O_DIRECT in %s: nothing to test\n", dir);
		bio_data_close(bd);
		goto out;
	}

	/* 8 cached writes, 8 write-back starts */
	for (i = 0; i < 8; i++)
		cw_write(bd, model, &rs, src, 8 * M + (uint64_t)i * M, M);
	bio_data_query(bd, &st);
	assert_int_equal(st.ds_cache_writes - st0.ds_cache_writes, 8);
	assert_int_equal(st.ds_wb_starts - st0.ds_wb_starts, 8);
	assert_int_equal(st.ds_wb_errors, 0);
	/*
	 * Nobody syncs: without the starts the pages would stay dirty until the kernel's
	 * flusher takes them, 30 s after they were dirtied (dirty_expire_centisecs), unless
	 * memory pressure (then this passes anyway). Generous for a loaded machine.
	 */
	t0 = t_now();
	while ((unclean = unclean_pages(path, 8 * M, 8 * M)) > 0 && t_now() - t0 < 20)
		usleep(10000);
	if (unclean < 0)
		print_message("no cachestat: write-back not checked\n");
	else
		assert_int_equal(unclean, 0);

	/* failed starts: counted, reaped without a waiter, the writes intact */
	assert_int_equal(d_fault_attr_set(&fa), 0);
	for (i = 0; i < 4; i++)
		cw_write(bd, model, &rs, src, 20 * M + (uint64_t)i * M, M);
	d_fault_attr_clear(BIO_FI_DATA_WB);
	t0 = t_now();
	do {
		(void)bio_data_ready(bd);
		bio_data_query(bd, &st);
		if (st.ds_wb_errors >= 2)
			break;
		usleep(1000);
	} while (t_now() - t0 < 20);
	assert_int_equal(st.ds_wb_errors, 2);
	assert_int_equal(st.ds_errors, 0);
	assert_false(bio_data_ready(bd));
	for (i = 0; i < 4; i++) {
		assert_int_equal(read_one(bd, 20 * M + (uint64_t)i * M, dst, M), 0);
		assert_memory_equal(dst, model + 20 * M + (uint64_t)i * M, M);
	}
	bio_data_close(bd);

	/* DAOS_BIO_WB_START=0: none */
	setenv("DAOS_BIO_WB_START", "0", 1);
	assert_int_equal(bio_data_open(path, &bd), 0);
	unsetenv("DAOS_BIO_WB_START");
	cw_write(bd, model, &rs, src, 30 * M, M);
	bio_data_query(bd, &st);
	assert_int_equal(st.ds_cache_writes, 1);
	assert_int_equal(st.ds_wb_starts, 0);
	for (i = 0; i < 13; i++) {
		uint64_t off = i < 8 ? 8 * M + (uint64_t)i * M
				     : (i < 12 ? 20 * M + (uint64_t)(i - 8) * M : 30 * M);

		assert_int_equal(read_one(bd, off, dst, M), 0);
		assert_memory_equal(dst, model + off, M);
	}
	bio_data_close(bd);
out:
	unsetenv("DAOS_BIO_CACHE_WRITE");
	free(model);
	free(src);
	free(dst);
}

/*
 * Durably written blocks (one-sync, bio_data_written): none in a fresh fallocated file;
 * after a small write, the zero window it waited for, and the window issued ahead once
 * drained (its fdatasync done); after a reopen, what FIEMAP calls written; none with
 * DAOS_BIO_ONE_SYNC=0.
 */
static void
t_data_written(void **state)
{
	static char buf[4096] __attribute__((aligned(4096)));
	struct iovec iov = {.iov_base = buf, .iov_len = 100};
	struct bio_data_stats st;
	struct bio_data *bd;
	const uint64_t M = 1ULL << 20;

	(void)state;
	setenv("DAOS_BIO_ONE_SYNC", "1", 1);
	unsetenv("DAOS_BIO_ZERO_AHEAD");
	assert_int_equal(bio_data_open(path, &bd), 0);
	bio_data_query(bd, &st);
	if (!st.ds_direct) {
		bio_data_close(bd);
		skip(); /* no O_DIRECT, no FIEMAP: zero-ahead and one-sync are off */
		return;
	}
	assert_false(bio_data_written(bd, 0, 4096));
	assert_int_equal(write_one(bd, 0, &iov), 0);
	/* [0, 4 KiB + 4 MiB) zeroed and synced before the write went */
	assert_true(bio_data_written(bd, 0, 4096));
	assert_true(bio_data_written(bd, 5000, 4 * M - 5000));
	assert_false(bio_data_written(bd, 4 * M + 4096, 4096));
	assert_false(bio_data_written(bd, 0, 4 * M + 8192));
	assert_false(bio_data_written(bd, FILE_SIZE - 4096, 8192)); /* past the end */
	assert_false(bio_data_written(bd, 0, 0));
	bio_data_close(bd);
	assert_int_equal(bio_data_open(path, &bd), 0);
	assert_true(bio_data_written(bd, 0, 4 * M + 4096));
	assert_false(bio_data_written(bd, 4 * M + 4096, 4096));
	bio_data_close(bd);
	setenv("DAOS_BIO_ONE_SYNC", "0", 1);
	assert_int_equal(bio_data_open(path, &bd), 0);
	assert_false(bio_data_written(bd, 0, 4096));
	bio_data_close(bd);
	unsetenv("DAOS_BIO_ONE_SYNC");
}

static void
t_data_errors(void **state)
{
	struct d_fault_attr fa = {.fa_id = BIO_FI_DATA_WRITE, .fa_max_faults = 1};
	struct bio_data_batch *bb;
	struct bio_data_stats st;
	struct bio_data *bd;
	struct iovec iov;
	char *buf;

	(void)state;
	buf = malloc(1 << 20);
	assert_non_null(buf);
	memset(buf, 7, 1 << 20);
	iov.iov_base = buf + 3; /* unaligned: through bounce chunks */
	iov.iov_len = (1 << 20) - 3;
	assert_int_equal(bio_data_open(path, &bd), 0);
	assert_int_equal(d_fault_attr_set(&fa), 0);
	assert_int_equal(bio_data_batch_get(bd, &bb), 0);
	assert_int_equal(bio_data_write(bb, 0, &iov, 1), 0);
	assert_int_equal(bio_data_write(bb, 4 << 20, &iov, 1), 0);
	assert_int_equal(bio_data_submit_wait(bb, NULL, NULL), -DER_IO);
	d_fault_attr_clear(BIO_FI_DATA_WRITE);
	assert_int_equal(write_one(bd, 0, &iov), 0);

	fa.fa_id = BIO_FI_DATA_SUBMIT;
	assert_int_equal(d_fault_attr_set(&fa), 0);
	assert_int_equal(write_one(bd, 0, &iov), -DER_IO);
	d_fault_attr_clear(BIO_FI_DATA_SUBMIT);
	assert_int_equal(write_one(bd, 0, &iov), 0);

	/* a batch that is dropped leaves nothing behind */
	assert_int_equal(bio_data_batch_get(bd, &bb), 0);
	assert_int_equal(bio_data_write(bb, 0, &iov, 1), 0);
	bio_data_cancel(bb);
	bio_data_query(bd, &st);
	assert_int_equal(st.ds_free_chunks, st.ds_chunks);
	bio_data_close(bd);
	free(buf);
}

/* A data file and the calls of its wait hook (a ULT that parks). */
struct counted {
	struct bio_data *c_bd;
	int c_waits;
};

static int
counting_wait(void *arg)
{
	struct counted *c = arg;

	c->c_waits++;
	return bio_data_wait_io(c->c_bd);
}

/* One value of @len bytes from @buf at @off, through a counting wait hook. */
static int
write_counted(struct counted *c, uint64_t off, void *buf, uint64_t len)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct bio_data_batch *bb;

	assert_int_equal(bio_data_batch_get(c->c_bd, &bb), 0);
	assert_int_equal(bio_data_write(bb, off, &iov, 1), 0);
	return bio_data_submit_wait(bb, counting_wait, c);
}

static void
t_data_buffered(void **state)
{
	uint64_t rs = d_test_rand_seed(d_test_seed("t_data_buffered"));
	struct d_fault_attr fa = {.fa_id = BIO_FI_DATA_WRITE, .fa_max_faults = 1};
	struct bio_data_stats st0, st;
	unsigned char *model, *src = NULL, *dst = NULL;
	struct counted c = {0};
	unsigned int round;
	uint64_t len, off, i;
	int fd;

	(void)state;
	assert_int_equal(posix_memalign((void **)&src, 4096, MAX_VAL + 4096), 0);
	assert_int_equal(posix_memalign((void **)&dst, 4096, MAX_VAL + 4096), 0);
	model = file_fill(&rs); /* the file's bytes; then nothing of it cached */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(fd);
	setenv("DAOS_BIO_CACHE_WRITE", "0", 1); /* large writes O_DIRECT (t_data_cache_write) */
	assert_int_equal(bio_data_open(path, &c.c_bd), 0);
	unsetenv("DAOS_BIO_CACHE_WRITE");

	/* 4 KiB aligned, and 100 unaligned bytes: written at once, the ULT never parks */
	for (i = 0; i < 4096 + 101; i++)
		src[i] = (unsigned char)d_test_rand(&rs);
	bio_data_query(c.c_bd, &st0);
	assert_int_equal(write_counted(&c, 1 << 20, src, 4096), 0);
	memcpy(model + (1 << 20), src, 4096);
	assert_int_equal(write_counted(&c, 2 << 20, src + 4097, 100), 0);
	memcpy(model + (2 << 20), src + 4097, 100);
	memset(model + (2 << 20) + 100, 0, 4096 - 100);
	bio_data_query(c.c_bd, &st);
	assert_int_equal(c.c_waits, 0);
	assert_int_equal(st.ds_buffered_writes - st0.ds_buffered_writes, 2);
	assert_int_equal(st.ds_writes - st0.ds_writes, 2);
	assert_int_equal(st.ds_done, st0.ds_done); /* nothing went through the ring */
	/* a value of 64 KiB goes O_DIRECT, through the ring: the ULT waits */
	assert_int_equal(write_counted(&c, 3 << 20, src, 64 << 10), 0);
	memcpy(model + (3 << 20), src, 64 << 10);
	bio_data_query(c.c_bd, &st0);
	assert_true(c.c_waits > 0 || !st0.ds_direct);
	assert_int_equal(st0.ds_buffered_writes, st.ds_buffered_writes);

	/*
	 * Small (buffered) and large (O_DIRECT) writes and reads of both kinds over the same
	 * ranges, in random order: every read sees the last write, whichever descriptor wrote
	 * and reads it (a dirty cached page under an O_DIRECT read or write, a cached page
	 * under a small read after an O_DIRECT write).
	 */
	for (round = 0; round < 200; round++) {
		bool small = d_test_rand(&rs) % 2 == 0;

		len = small ? 1 + d_test_rand(&rs) % (BD_CACHED_READ_TEST - 1)
			    : BD_CACHED_READ_TEST +
				  d_test_rand(&rs) % (MAX_VAL - BD_CACHED_READ_TEST);
		/* 4 MiB of the file at 4 MiB: the ranges overlap often */
		off = (4 << 20) + (d_test_rand(&rs) % ((4 << 20) / 4096)) * 4096;
		if (d_test_rand(&rs) % 2 == 0) {
			for (i = 0; i < len; i++)
				src[i] = (unsigned char)d_test_rand(&rs);
			assert_int_equal(write_counted(&c, off, src, len), 0);
			memcpy(model + off, src, len);
			memset(model + off + len, 0, (4096 - len % 4096) % 4096);
		} else {
			memset(dst, 0xee, len);
			assert_int_equal(read_one(c.c_bd, off, dst, len), 0);
			assert_memory_equal(dst, model + off, len);
		}
	}
	bio_data_query(c.c_bd, &st);
	assert_true(st.ds_buffered_writes - st0.ds_buffered_writes > 20);
	assert_true(st.ds_writes - st.ds_buffered_writes > 20 + 1);

	/* a failed buffered write is -DER_IO; the next one works */
	assert_int_equal(d_fault_attr_set(&fa), 0);
	assert_int_equal(write_counted(&c, 1 << 20, src, 4096), -DER_IO);
	d_fault_attr_clear(BIO_FI_DATA_WRITE);
	assert_int_equal(write_counted(&c, 1 << 20, src, 4096), 0);
	memcpy(model + (1 << 20), src, 4096);
	bio_data_query(c.c_bd, &st);
	assert_int_equal(st.ds_errors, 1);
	assert_int_equal(st.ds_free_chunks, st.ds_chunks);
	bio_data_close(c.c_bd);

	/* DAOS_BIO_BUF_WRITE=0: every write O_DIRECT through the ring, as before */
	setenv("DAOS_BIO_BUF_WRITE", "0", 1);
	assert_int_equal(bio_data_open(path, &c.c_bd), 0);
	unsetenv("DAOS_BIO_BUF_WRITE");
	c.c_waits = 0;
	assert_int_equal(write_counted(&c, 5 << 20, src + 1, 4096), 0);
	memcpy(model + (5 << 20), src + 1, 4096);
	bio_data_query(c.c_bd, &st);
	assert_int_equal(st.ds_buffered_writes, 0);
	assert_int_equal(st.ds_writes, 1);
	assert_int_equal(st.ds_done, 1);
	assert_true(c.c_waits > 0);
	bio_data_close(c.c_bd);

	/* the whole file, read back through another descriptor */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	for (off = 0; off < FILE_SIZE; off += MAX_VAL) {
		len = FILE_SIZE - off < MAX_VAL ? FILE_SIZE - off : MAX_VAL;
		assert_int_equal(pread(fd, dst, len, (off_t)off), (ssize_t)len);
		assert_memory_equal(dst, model + off, len);
	}
	close(fd);
	free(model);
	free(src);
	free(dst);
}

/*
 * Two batches in flight at once, as two ULTs whose wait hooks yield: while the first waits,
 * its hook runs a whole second batch (whose waits may reap the first one's completions).
 */
struct nested {
	struct bio_data *n_bd;
	struct iovec n_iov;
	int n_calls;
	int n_rc;
};

static int
nested_wait(void *arg)
{
	struct nested *n = arg;

	if (n->n_calls++ == 0)
		n->n_rc = write_one(n->n_bd, 8 << 20, &n->n_iov);
	return bio_data_wait_io(n->n_bd);
}

#define ZA_TEST (4ULL << 20) /* BD_ZERO_AHEAD */

/* Whether [@off, @end) of the file holds no unwritten (fallocated, never written) extent. */
static bool
range_written(uint64_t off, uint64_t end)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent fe[256];
	} m;
	uint32_t i;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	memset(&m, 0, sizeof(m));
	m.fm.fm_start = off;
	m.fm.fm_length = end - off;
	m.fm.fm_flags = FIEMAP_FLAG_SYNC;
	m.fm.fm_extent_count = 256;
	assert_int_equal(ioctl(fd, FS_IOC_FIEMAP, &m.fm), 0);
	close(fd);
	for (i = 0; i < m.fm.fm_mapped_extents; i++)
		if ((m.fm.fm_extents[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN) &&
		    m.fm.fm_extents[i].fe_logical < end &&
		    m.fm.fm_extents[i].fe_logical + m.fm.fm_extents[i].fe_length > off)
			return false;
	return true;
}

/* The whole file against @model. */
static void
file_check(const unsigned char *model)
{
	unsigned char *got = malloc(FILE_SIZE);
	int fd = open(path, O_RDONLY);

	assert_non_null(got);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, got, FILE_SIZE, 0), (ssize_t)FILE_SIZE);
	close(fd);
	assert_memory_equal(got, model, FILE_SIZE);
	free(got);
}

/* A value of @len random bytes at @off, in @model too (the last block padded with zeros). */
static void
za_write(struct counted *c, unsigned char *model, uint64_t *rs, unsigned char *src, uint64_t off,
	 uint64_t len)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		src[i] = (unsigned char)d_test_rand(rs);
	assert_int_equal(write_counted(c, off, src, len), 0);
	memcpy(model + off, src, len);
	memset(model + off + len, 0, (BD_BLK_TEST - len % BD_BLK_TEST) % BD_BLK_TEST);
}

/* Wait until no zero write is in flight (bio_data_ready reaps it, as an engine's arm does). */
static void
za_drain(struct bio_data *bd)
{
	struct bio_data_stats st;

	for (;;) {
		bio_data_query(bd, &st);
		if (!st.ds_zero_inflight)
			break;
		assert_int_equal(bio_data_wait_io(bd), 0);
		(void)bio_data_ready(bd);
	}
}

static void
t_data_zero_ahead(void **state)
{
	uint64_t rs = d_test_rand_seed(d_test_seed("t_data_zero_ahead"));
	unsigned char *model = calloc(1, FILE_SIZE);
	unsigned char *src = NULL;
	struct bio_data_stats st0, st;
	struct counted c = {0};
	const uint64_t M = 1ULL << 20;

	(void)state;
	assert_non_null(model);
	assert_int_equal(posix_memalign((void **)&src, 4096, MAX_VAL + 4096), 0);
	assert_false(range_written(0, FILE_SIZE));
	assert_int_equal(bio_data_open(path, &c.c_bd), 0);
	bio_data_query(c.c_bd, &st0);
	if (!st0.ds_direct) {
		skip(); /* no O_DIRECT, no FIEMAP: zero-ahead is off */
		return;
	}
	assert_int_equal(st0.ds_zero_writes, 0);

	/* the first small write zeroes [0, its end + BD_ZERO_AHEAD) and waits for it */
	za_write(&c, model, &rs, src, 1 * M, 4096);
	bio_data_query(c.c_bd, &st);
	assert_int_equal(st.ds_zero_writes, 1);
	assert_true(st.ds_zero_waits >= 1);
	assert_false(st.ds_zero_inflight);
	assert_int_equal(st.ds_zero_bytes, 1 * M + 4096 + ZA_TEST);
	assert_true(range_written(0, 1 * M + 4096 + ZA_TEST));
	assert_false(range_written(1 * M + 4096 + ZA_TEST, FILE_SIZE));
	/* small writes inside the stretch, unaligned ones too: no zeros while far from its end */
	za_write(&c, model, &rs, src, 3 * M, 100);
	bio_data_query(c.c_bd, &st);
	assert_int_equal(st.ds_zero_writes, 1);
	/* within BD_ZERO_AHEAD / 2 of it: the next window goes ahead, the write does not wait */
	za_write(&c, model, &rs, src, 4 * M, 8192);
	bio_data_query(c.c_bd, &st0);
	assert_int_equal(st0.ds_zero_writes, 2);
	assert_int_equal(st0.ds_zero_waits, st.ds_zero_waits);
	za_drain(c.c_bd);
	bio_data_query(c.c_bd, &st);
	assert_int_equal(st.ds_zero_bytes, 1 * M + 4096 + 2 * ZA_TEST); /* a whole window */
	assert_true(range_written(0, 1 * M + 4096 + 2 * ZA_TEST));
	/* a large (O_DIRECT) write past it moves the end without zeroing */
	za_write(&c, model, &rs, src, 20 * M, 128 << 10);
	bio_data_query(c.c_bd, &st0);
	assert_int_equal(st0.ds_zero_bytes, st.ds_zero_bytes);
	assert_false(range_written(10 * M, 20 * M));
	/* a small one in the gap below that end: written, nothing zeroed */
	za_write(&c, model, &rs, src, 10 * M, 4096);
	/* a small one past the end: zeros from the large value's end, which stays */
	za_write(&c, model, &rs, src, 30 * M, 4096);
	bio_data_query(c.c_bd, &st);
	assert_int_equal(st.ds_zero_writes, 3);
	assert_int_equal(st.ds_zero_bytes - st0.ds_zero_bytes,
			 30 * M + 4096 + ZA_TEST - (20 * M + (128 << 10)));
	assert_true(range_written(20 * M, 30 * M + 4096 + ZA_TEST));
	file_check(model);

	/* reopened: zero-ahead starts past the last written extent, never below it */
	za_write(&c, model, &rs, src, 50 * M, 128 << 10);
	bio_data_close(c.c_bd);
	assert_int_equal(bio_data_open(path, &c.c_bd), 0);
	za_write(&c, model, &rs, src, 40 * M, 4096);
	bio_data_query(c.c_bd, &st);
	assert_int_equal(st.ds_zero_writes, 0);
	za_write(&c, model, &rs, src, 55 * M, 4096);
	bio_data_query(c.c_bd, &st);
	assert_int_equal(st.ds_zero_writes, 1);
	assert_int_equal(st.ds_zero_bytes, 55 * M + 4096 + ZA_TEST - (50 * M + (128 << 10)));
	/* an unaligned one past it: zeros from there to the end of the file, not beyond */
	za_write(&c, model, &rs, src, 60 * M, 100);
	bio_data_query(c.c_bd, &st);
	assert_int_equal(st.ds_zero_writes, 2);
	assert_int_equal(st.ds_zero_bytes, 55 * M + 4096 + ZA_TEST - (50 * M + (128 << 10)) +
					       FILE_SIZE - (55 * M + 4096 + ZA_TEST));
	/* and the last block: zeroed already, the file does not grow */
	za_write(&c, model, &rs, src, FILE_SIZE - 4096, 4096);
	bio_data_query(c.c_bd, &st0);
	assert_int_equal(st0.ds_zero_writes, 2);
	assert_int_equal(st0.ds_zero_bytes, st.ds_zero_bytes);
	bio_data_close(c.c_bd);
	file_check(model);
	assert_true(range_written(50 * M, FILE_SIZE));
	{
		struct stat sb;

		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_size, FILE_SIZE);
	}

	/* DAOS_BIO_ZERO_AHEAD=0: off */
	setenv("DAOS_BIO_ZERO_AHEAD", "0", 1);
	assert_int_equal(bio_data_open(path, &c.c_bd), 0);
	za_write(&c, model, &rs, src, 12 * M, 4096);
	bio_data_query(c.c_bd, &st);
	assert_int_equal(st.ds_zero_writes, 0);
	bio_data_close(c.c_bd);
	unsetenv("DAOS_BIO_ZERO_AHEAD");
	assert_false(range_written(13 * M, 20 * M));
	file_check(model);
	free(src);
	free(model);
}

/*
 * Writes racing the zero window in flight: values go where a first-fit allocator puts them
 * (the lowest fresh blocks, sometimes past a skipped gap, now and then a large one, or a
 * rewrite of an older value), and while a batch waits its hook (a second ULT) writes more
 * fresh values, often into the window the first one waits for. The file must match the
 * model, in this open and after a reopen, and the writes must really have met the window.
 */
struct zrace {
	struct bio_data *z_bd;
	unsigned char *z_model;
	unsigned char *z_src;
	uint64_t *z_rs;
	uint64_t z_front; /* first fresh block */
	int z_nested;     /* values written by a hook while a zero write was in flight */
};

/* The next fresh place for @len bytes, as a first-fit allocator hands it out. */
static uint64_t
zr_alloc(struct zrace *z, uint64_t len)
{
	uint64_t off;

	if (d_test_rand(z->z_rs) % 16 == 0)
		z->z_front += 4096 * (1 + d_test_rand(z->z_rs) % 8); /* a gap */
	off = z->z_front;
	z->z_front += (len + 4095) & ~4095ULL;
	assert_true(z->z_front <= FILE_SIZE);
	return off;
}

/* Fill @len bytes of @buf at @off with random bytes, in the model too. */
static void
zr_fill(struct zrace *z, unsigned char *buf, uint64_t off, uint64_t len)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)d_test_rand(z->z_rs);
	memcpy(z->z_model + off, buf, len);
	memset(z->z_model + off + len, 0, (4096 - len % 4096) % 4096);
}

static int
zr_wait(void *arg)
{
	struct zrace *z = arg;
	struct bio_data_stats st;

	bio_data_query(z->z_bd, &st);
	if (st.ds_zero_inflight && d_test_rand(z->z_rs) % 2 == 0) {
		static unsigned char buf[16384];
		uint64_t len = 1 + d_test_rand(z->z_rs) % sizeof(buf);
		uint64_t off = zr_alloc(z, len);
		struct iovec iov = {.iov_base = buf, .iov_len = len};

		zr_fill(z, buf, off, len);
		assert_int_equal(write_one(z->z_bd, off, &iov), 0);
		z->z_nested++;
	}
	return bio_data_wait_io(z->z_bd);
}

static void
zr_rounds(struct zrace *z, uint64_t limit)
{
	while (z->z_front + (1 << 20) < limit) {
		struct bio_data_batch *bb;
		struct iovec iov[3];
		unsigned int nval = 1 + (unsigned int)(d_test_rand(z->z_rs) % 3), v;
		unsigned char *p = z->z_src;

		assert_int_equal(bio_data_batch_get(z->z_bd, &bb), 0);
		for (v = 0; v < nval; v++) {
			unsigned int kind = (unsigned int)(d_test_rand(z->z_rs) % 32);
			uint64_t len = kind == 0 ? (128 << 10) + d_test_rand(z->z_rs) % 4096
						 : 1 + d_test_rand(z->z_rs) % 12000;
			uint64_t off;

			if (kind == 1 && v == 0 && z->z_front > (1 << 20)) {
				/* a rewrite of older blocks (no other value of this batch there) */
				nval = 1;
				off = (d_test_rand(z->z_rs) % ((z->z_front - (1 << 20)) / 4096)) *
				      4096;
				len = 1 + d_test_rand(z->z_rs) % 8192;
			} else {
				off = zr_alloc(z, len);
			}
			zr_fill(z, p, off, len);
			iov[v].iov_base = p;
			iov[v].iov_len = len;
			assert_int_equal(bio_data_write(bb, off, &iov[v], 1), 0);
			p += (len + 4095) & ~4095ULL;
		}
		assert_int_equal(bio_data_submit_wait(bb, zr_wait, z), 0);
	}
}

static void
t_data_zero_race(void **state)
{
	uint64_t rs = d_test_rand_seed(d_test_seed("t_data_zero_race"));
	struct zrace z = {.z_rs = &rs};
	struct bio_data_stats st;

	(void)state;
	z.z_model = calloc(1, FILE_SIZE);
	assert_non_null(z.z_model);
	assert_int_equal(posix_memalign((void **)&z.z_src, 4096, 3 * (MAX_VAL + 4096) + (1 << 20)),
			 0);
	/* small windows: many of them, and writes meet the one in flight often */
	setenv("DAOS_BIO_ZERO_AHEAD", "262144", 1);
	assert_int_equal(bio_data_open(path, &z.z_bd), 0);
	bio_data_query(z.z_bd, &st);
	if (!st.ds_direct) {
		bio_data_close(z.z_bd);
		unsetenv("DAOS_BIO_ZERO_AHEAD");
		skip(); /* no O_DIRECT, no FIEMAP: zero-ahead is off */
		return;
	}
	zr_rounds(&z, FILE_SIZE / 2);
	bio_data_query(z.z_bd, &st);
	print_message("zero race: %" PRIu64 " windows, %" PRIu64 " waits, %d nested writes\n",
		      st.ds_zero_writes, st.ds_zero_waits, z.z_nested);
	assert_true(st.ds_zero_writes > 20);
	assert_true(st.ds_zero_waits > 0);
	assert_true(z.z_nested > 0);
	assert_int_equal(st.ds_errors, 0);
	bio_data_close(z.z_bd);
	file_check(z.z_model);

	/* reopened: the written end comes from the file; the race goes on above it */
	assert_int_equal(bio_data_open(path, &z.z_bd), 0);
	zr_rounds(&z, FILE_SIZE);
	bio_data_query(z.z_bd, &st);
	assert_true(st.ds_zero_writes > 20);
	bio_data_close(z.z_bd);
	unsetenv("DAOS_BIO_ZERO_AHEAD");
	file_check(z.z_model);
	free(z.z_src);
	free(z.z_model);
}

static void
t_data_concurrent(void **state)
{
	struct nested n = {0};
	struct bio_data_batch *bb;
	struct bio_data_stats st;
	unsigned char *a, *b, *got;
	struct iovec iov;
	int rfd, i;

	(void)state;
	a = malloc(3 << 20);
	b = malloc(3 << 20);
	got = malloc(3 << 20);
	assert_true(a != NULL && b != NULL && got != NULL);
	for (i = 0; i < 3 << 20; i++) {
		a[i] = (unsigned char)(i * 7 + 1);
		b[i] = (unsigned char)(i * 13 + 5);
	}
	assert_int_equal(bio_data_open(path, &n.n_bd), 0);
	n.n_iov.iov_base = b + 1;
	n.n_iov.iov_len = (3 << 20) - 100;
	iov.iov_base = a + 5;
	iov.iov_len = (3 << 20) - 200;
	assert_int_equal(bio_data_batch_get(n.n_bd, &bb), 0);
	assert_int_equal(bio_data_write(bb, 0, &iov, 1), 0);
	assert_int_equal(bio_data_submit_wait(bb, nested_wait, &n), 0);
	assert_int_equal(n.n_rc, 0);
	assert_true(n.n_calls > 0);
	bio_data_query(n.n_bd, &st);
	assert_int_equal(st.ds_free_chunks, st.ds_chunks);
	assert_true(st.ds_chunks >= 6); /* both batches held bounce chunks at once */
	bio_data_close(n.n_bd);

	rfd = open(path, O_RDONLY);
	assert_true(rfd >= 0);
	assert_int_equal(pread(rfd, got, iov.iov_len, 0), (ssize_t)iov.iov_len);
	assert_memory_equal(got, a + 5, iov.iov_len);
	assert_int_equal(pread(rfd, got, n.n_iov.iov_len, 8 << 20), (ssize_t)n.n_iov.iov_len);
	assert_memory_equal(got, b + 1, n.n_iov.iov_len);
	close(rfd);
	free(a);
	free(b);
	free(got);
}

/* Append a small record. */
static uint64_t
append(struct bio_wal *wal)
{
	static char bytes[64];
	struct umem_redo_range rr = {.rr_off = 4096, .rr_len = sizeof(bytes), .rr_data = bytes};
	struct umem_redo redo = {.ur_nr = 1, .ur_bytes = sizeof(bytes), .ur_ranges = &rr};
	uint64_t lsn;

	assert_int_equal(bio_wal_append(wal, &redo, &lsn), 0);
	return lsn;
}

static void
t_data_wal(void **state)
{
	struct d_fault_attr fa = {.fa_id = BIO_FI_DATA_SYNC, .fa_max_faults = 1};
	struct bio_wal_replay_info info;
	struct bio_wal_stats ws;
	struct bio_data *bd;
	struct bio_wal *wal;
	char wpath[160];
	struct iovec iov;
	char *buf;
	int i;

	(void)state;
	buf = malloc(8192);
	memset(buf, 1, 8192);
	iov.iov_base = buf;
	iov.iov_len = 8192;
	snprintf(wpath, sizeof(wpath), "%s/wal", dir);
	assert_int_equal(bio_wal_create(wpath, 4 << 20), 0);
	assert_int_equal(bio_wal_open(wpath, NULL, &wal), 0);
	assert_int_equal(bio_wal_replay(wal, 0, NULL, NULL, NULL), 0);
	assert_int_equal(bio_data_open(path, &bd), 0);

	/* three updates' data, then their records: one data sync for the three */
	for (i = 0; i < 3; i++) {
		assert_int_equal(write_one(bd, (uint64_t)i * 8192, &iov), 0);
		bio_wal_dep_sync(wal, bio_data_fd(bd));
		append(wal);
	}
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	bio_wal_query(wal, &ws);
	assert_int_equal(ws.ws_dep_syncs, 1);
	/* records without new data: no data sync */
	append(wal);
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	bio_wal_query(wal, &ws);
	assert_int_equal(ws.ws_dep_syncs, 1);

	/* a failed data sync fails the flush, and the WAL with it */
	assert_int_equal(d_fault_attr_set(&fa), 0);
	bio_wal_dep_sync(wal, bio_data_fd(bd));
	append(wal);
	assert_int_equal(bio_wal_flush_wait(wal), -DER_IO);
	d_fault_attr_clear(BIO_FI_DATA_SYNC);
	bio_wal_query(wal, &ws);
	assert_int_equal(ws.ws_error, -DER_IO);
	assert_int_equal(ws.ws_durable_lsn, 4);
	assert_int_equal(bio_wal_close(wal), -DER_IO);
	/* the chain was cut at the data sync: record 5 never reached the log */
	assert_int_equal(bio_wal_open(wpath, NULL, &wal), 0);
	assert_int_equal(bio_wal_replay(wal, 0, NULL, NULL, &info), 0);
	assert_int_equal(info.ri_last_lsn, 4);
	assert_int_equal(bio_wal_close(wal), 0);
	bio_data_close(bd);
	free(buf);
}

#define ZIMG (256U << 10)

/* Replay callback: apply a record to the image in @arg (zero ranges have no bytes). */
static int
zero_apply(void *arg, uint64_t lsn, const struct umem_redo *redo)
{
	(void)lsn;
	return umem_redo_apply(arg, ZIMG, redo);
}

/* Bytes of an LEB128 varint of @v: one per started 7 bits, at least one. */
static uint64_t
model_varint(uint64_t v)
{
	return v == 0 ? 1 : (uint64_t)(64 - __builtin_clzll(v) + 6) / 7;
}

/* Bytes of a piece's header and data (bio_internal.h): offset delta zigzagged, length. */
static uint64_t
model_piece(uint64_t *prev, uint64_t off, uint64_t len, bool zero)
{
	int64_t d = (int64_t)(off - *prev);
	uint64_t zz = d >= 0 ? (uint64_t)d * 2 : (uint64_t)(-(d + 1)) * 2 + 1;

	*prev = off + len;
	return model_varint(zz) + model_varint(len * 2 + (zero ? 1 : 0)) + (zero ? 0 : len);
}

/*
 * Log bytes of one range by the rule, stated declaratively: the maximal runs of zero 8-byte
 * words (aligned in the heap, wholly inside the range) of at least WAL_ZERO_MIN bytes are
 * zero pieces; every stretch between them is a data piece; an empty range is one piece.
 * Each piece costs model_piece() after the end of the piece before it (*@prev).
 */
static uint64_t
zero_model_size(uint64_t *prev, uint64_t off, const unsigned char *data, uint32_t len)
{
	uint64_t size = 0;
	uint32_t pos = 0, b;

	if (len == 0)
		return model_piece(prev, off, 0, false);
	for (b = 0; b < len;) {
		uint32_t e = b;

		/* the maximal run of aligned zero words starting at byte b, if b starts one */
		if ((off + b) % 8 == 0)
			while (e + 8 <= len && memcmp(data + e, "\0\0\0\0\0\0\0\0", 8) == 0)
				e += 8;
		if (e - b >= WAL_ZERO_MIN) {
			if (b > pos)
				size += model_piece(prev, off + pos, b - pos, false);
			size += model_piece(prev, off + b, e - b, true);
			pos = e;
			b = e;
		} else {
			b = e > b ? e : b + 1;
		}
	}
	if (len > pos)
		size += model_piece(prev, off + pos, len - pos, false);
	return size;
}

/*
 * Zero runs: records whose ranges mix zero runs of every length with data, at every
 * alignment, replay to the same image, take exactly the log the rule says
 * (zero_model_size), no more than bio_wal_rec_size() says, and much less when they are
 * mostly zeros.
 */
static void
t_wal_zero_runs(void **state)
{
	unsigned int seed = d_test_seed("t_wal_zero_runs");
	uint64_t rs = d_test_rand_seed(seed);
	unsigned char *want, *got, *src;
	struct bio_wal_replay_info info;
	struct bio_wal_stats ws0, ws1;
	uint64_t zero_saved = 0;
	struct bio_wal *wal;
	char wpath[160];
	unsigned int k;

	(void)state;
	want = calloc(1, ZIMG);
	got = calloc(1, ZIMG);
	src = malloc(ZIMG);
	assert_true(want != NULL && got != NULL && src != NULL);
	snprintf(wpath, sizeof(wpath), "%s/wal", dir);
	assert_int_equal(bio_wal_create(wpath, 16 << 20), 0);
	assert_int_equal(bio_wal_open(wpath, NULL, &wal), 0);
	assert_int_equal(bio_wal_replay(wal, 0, NULL, NULL, NULL), 0);
	for (k = 0; k < 300; k++) {
		struct umem_redo_range rr[4];
		struct umem_redo redo = {.ur_ranges = rr};
		uint64_t used = 0, lsn, bytes, model = 0, prev = 0;
		unsigned int i;

		redo.ur_nr = 1 + (unsigned int)(d_test_rand(&rs) % 4);
		for (i = 0; i < redo.ur_nr; i++) {
			uint32_t len = (uint32_t)(d_test_rand(&rs) % 3000), p = 0;

			/* runs of zeros and of data, 1..120 bytes each */
			while (p < len) {
				uint32_t n = 1 + (uint32_t)(d_test_rand(&rs) % 120), j;
				bool zero = d_test_rand(&rs) % 2 == 0;

				for (j = 0; j < n && p + j < len; j++)
					src[used + p + j] = zero ? 0 : (unsigned char)(1 + j % 251);
				p += j;
			}
			rr[i].rr_off = d_test_rand(&rs) % (ZIMG - len);
			rr[i].rr_len = len;
			rr[i].rr_pad = 0;
			rr[i].rr_data = src + used;
			used += len;
		}
		bio_wal_query(wal, &ws0);
		assert_int_equal(bio_wal_append(wal, &redo, &lsn), 0);
		bio_wal_query(wal, &ws1);
		bytes = ws1.ws_append_bytes - ws0.ws_append_bytes;
		for (i = 0; i < redo.ur_nr; i++)
			model += zero_model_size(&prev, rr[i].rr_off, rr[i].rr_data, rr[i].rr_len);
		model = 40 + (model + 7) / 8 * 8;
		assert_int_equal(bytes, model);
		assert_true(bytes <= bio_wal_rec_size(redo.ur_nr, used));
		zero_saved += bio_wal_rec_size(redo.ur_nr, used) - bytes;
		for (i = 0; i < redo.ur_nr; i++)
			memcpy(want + rr[i].rr_off, rr[i].rr_data, rr[i].rr_len);
		if (k % 50 == 0)
			assert_int_equal(bio_wal_flush_wait(wal), 0);
	}
	assert_int_equal(bio_wal_close(wal), 0);
	assert_true(zero_saved > 0);

	assert_int_equal(bio_wal_open(wpath, NULL, &wal), 0);
	assert_int_equal(bio_wal_replay(wal, 0, zero_apply, got, &info), 0);
	assert_int_equal(info.ri_applied, 300);
	assert_memory_equal(got, want, ZIMG);
	assert_int_equal(bio_wal_close(wal), 0);

	/* a page of zeros with a word set at each end: two data ranges and one zero run */
	{
		struct umem_redo_range rr = {.rr_off = 8192, .rr_len = 4096, .rr_data = src};
		struct umem_redo redo = {.ur_nr = 1, .ur_bytes = 4096, .ur_ranges = &rr};
		uint64_t lsn;

		memset(src, 0, 4096);
		src[0] = 1;
		src[4095] = 2;
		assert_int_equal(bio_wal_open(wpath, NULL, &wal), 0);
		assert_int_equal(bio_wal_replay(wal, 0, NULL, NULL, NULL), 0);
		bio_wal_query(wal, &ws0);
		assert_int_equal(bio_wal_append(wal, &redo, &lsn), 0);
		bio_wal_query(wal, &ws1);
		/* 8192 (zigzag 16384: 3 bytes), 8 (1), 8 bytes; 0 (1), 4080 zeros (2); 0, 8, 8
		 * bytes: 25 bytes, 32 with the padding */
		assert_int_equal(ws1.ws_append_bytes - ws0.ws_append_bytes, 40 + 32);
		assert_int_equal(bio_wal_close(wal), 0);
	}
	free(want);
	free(got);
	free(src);
}

/* A crafted third record: version, range count and payload (rd_len bytes). */
struct craft {
	uint16_t cr_version;
	uint32_t cr_nr;
	uint32_t cr_len;
	unsigned char cr_pay[48]; /* with its padding to 8 */
	bool cr_ok;               /* replayed (else the stop at a corrupt record) */
	uint16_t cr_flags;        /* rd_flags (WAL_RF_DREF) */
};

/* An empty log of 4 MiB at @wpath (any old one removed), open and replayed. */
static struct bio_wal *
wal_fresh(const char *wpath)
{
	struct bio_wal *wal;

	unlink(wpath);
	assert_int_equal(bio_wal_create(wpath, 4 << 20), 0);
	assert_int_equal(bio_wal_open(wpath, NULL, &wal), 0);
	assert_int_equal(bio_wal_replay(wal, 0, NULL, NULL, NULL), 0);
	return wal;
}

/*
 * Write two records, then put @cr in place of the third with a valid CRC and replay: a
 * well-formed one is applied (version 2 as bio_internal.h states the format, and version
 * 1, which older logs hold); a malformed one stops the replay as a corrupt record, the two
 * before it applied, without a crash.
 */
static void
craft_one(const struct craft *cr)
{
	unsigned char *img = calloc(1, ZIMG), *want = calloc(1, ZIMG);
	unsigned char d1[16], d2[20], rbuf[40 + 48];
	struct umem_redo_range rr;
	struct umem_redo redo = {.ur_nr = 1, .ur_ranges = &rr};
	struct bio_wal_replay_info info;
	struct bio_wal_stats ws;
	struct wal_rec_df rec;
	struct bio_wal *wal;
	char wpath[160];
	uint64_t lsn, pos3, span;
	uint32_t crc;
	int fd;

	assert_true(img != NULL && want != NULL);
	memset(d1, 0x11, sizeof(d1));
	memset(d2, 0x22, sizeof(d2));
	snprintf(wpath, sizeof(wpath), "%s/wal", dir);
	wal = wal_fresh(wpath);
	rr = (struct umem_redo_range){.rr_off = 0, .rr_len = sizeof(d1), .rr_data = d1};
	assert_int_equal(bio_wal_append(wal, &redo, &lsn), 0);
	rr = (struct umem_redo_range){.rr_off = 5000, .rr_len = sizeof(d2), .rr_data = d2};
	assert_int_equal(bio_wal_append(wal, &redo, &lsn), 0);
	bio_wal_query(wal, &ws);
	pos3 = ws.ws_append_bytes;
	assert_int_equal(bio_wal_append(wal, &redo, &lsn), 0);
	assert_int_equal(lsn, 3);
	assert_int_equal(bio_wal_close(wal), 0);
	memcpy(want, d1, sizeof(d1));
	memcpy(want + 5000, d2, sizeof(d2));

	fd = open(wpath, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &rec, sizeof(rec), WAL_AREA_OFF + pos3), sizeof(rec));
	assert_int_equal(rec.rd_lsn, 3);
	rec.rd_version = cr->cr_version;
	rec.rd_flags = cr->cr_flags;
	rec.rd_nr = cr->cr_nr;
	rec.rd_len = cr->cr_len;
	rec.rd_csum = 0;
	span = cr->cr_version == WAL_REC_V1 ? cr->cr_len : (cr->cr_len + 7) / 8 * 8;
	assert_true(span <= sizeof(cr->cr_pay));
	memcpy(rbuf, &rec, sizeof(rec));
	memcpy(rbuf + sizeof(rec), cr->cr_pay, span);
	crc = wal_crc(0, rbuf, sizeof(rec) + span);
	memcpy(rbuf + offsetof(struct wal_rec_df, rd_csum), &crc, sizeof(crc));
	assert_int_equal(pwrite(fd, rbuf, sizeof(rec) + span, WAL_AREA_OFF + pos3),
			 (ssize_t)(sizeof(rec) + span));
	close(fd);

	assert_int_equal(bio_wal_open(wpath, NULL, &wal), 0);
	assert_int_equal(bio_wal_replay(wal, 0, zero_apply, img, &info), 0);
	if (cr->cr_ok) {
		/* "hello" at 300, 16 zeros at 0 */
		memcpy(want + 300, "hello", 5);
		memset(want, 0, 16);
		assert_int_equal(info.ri_last_lsn, 3);
		assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
	} else {
		assert_int_equal(info.ri_last_lsn, 2);
		assert_int_equal(info.ri_stop, BIO_WAL_STOP_CORRUPT);
	}
	assert_memory_equal(img, want, ZIMG);
	assert_int_equal(bio_wal_close(wal), 0);
	free(img);
	free(want);
}

static void
t_wal_rec_format(void **state)
{
	/* zigzag(300) = 600 = d8 04; (5 << 1) = 0a; "hello"; zigzag(0 - 305) = 609 = e1 04;
	 * (16 << 1) | 1 = 21: 11 bytes */
	static const struct craft crs[] = {
	    {WAL_REC_V2,
	     2,
	     11,
	     {0xd8, 0x04, 0x0a, 'h', 'e', 'l', 'l', 'o', 0xe1, 0x04, 0x21},
	     true},
	    /* version 1: {300, 5, 0} "hello" and padding, {0, 16, WAL_RG_ZERO} */
	    {WAL_REC_V1,
	     2,
	     40,
	     {0x2c, 0x01, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0,  0, 0, 0, 'h', 'e', 'l', 'l',
	      'o',  0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 1,   0,   0,   0},
	     true},
	    /* a varint of 11 bytes */
	    {WAL_REC_V2,
	     1,
	     16,
	     {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
	     false},
	    /* a 10-byte varint above 2^64 - 1 */
	    {WAL_REC_V2,
	     1,
	     16,
	     {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 0x00, 0x02, 'x'},
	     false},
	    /* 32 bytes of data in a record of 8 */
	    {WAL_REC_V2, 1, 8, {0x00, 0x40, 'x', 'x', 'x', 'x', 'x', 'x'}, false},
	    /* a varint cut short by rd_len */
	    {WAL_REC_V2, 1, 2, {0x00, 0x80, 0x01}, false},
	    /* padding that is not zeros */
	    {WAL_REC_V2, 1, 3, {0x00, 0x02, 'x', 0, 0, 1, 0, 0}, false},
	    /* two ranges announced, one there */
	    {WAL_REC_V2, 2, 3, {0x00, 0x02, 'x'}, false},
	    /* a byte after the last range */
	    {WAL_REC_V2, 1, 4, {0x00, 0x02, 'x', 0x00}, false},
	    /* a length of 2^32 */
	    {WAL_REC_V2, 1, 7, {0x00, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00}, false},
	    /* more ranges than bytes */
	    {WAL_REC_V2, 100, 8, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, false},
	    /* an unknown version */
	    {3, 2, 11, {0xd8, 0x04, 0x0a, 'h', 'e', 'l', 'l', 'o', 0xe1, 0x04, 0x21}, false},
	    /* data-file extents (WAL_RF_DREF): none announced */
	    {WAL_REC_V2, 1, 4, {0x00, 0x02, 'x', 0x00}, false, WAL_RF_DREF},
	    /* one announced, its CRC cut short by rd_len */
	    {WAL_REC_V2,
	     1,
	     9,
	     {0x00, 0x02, 'x', 0x01, 0x80, 0x20, 0x80, 0x20, 0x00},
	     false,
	     WAL_RF_DREF},
	    /* an extent of length 0 */
	    {WAL_REC_V2,
	     1,
	     11,
	     {0x00, 0x02, 'x', 0x01, 0x80, 0x20, 0x00, 1, 2, 3, 4},
	     false,
	     WAL_RF_DREF},
	    /* 17 extents (at most 16) */
	    {WAL_REC_V2, 1, 4, {0x00, 0x02, 'x', 0x11}, false, WAL_RF_DREF},
	    /* the flag on a version 1 record */
	    {WAL_REC_V1,
	     2,
	     40,
	     {0x2c, 0x01, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0,  0, 0, 0, 'h', 'e', 'l', 'l',
	      'o',  0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 1,   0,   0,   0},
	     false,
	     WAL_RF_DREF},
	    /* an unknown flag */
	    {WAL_REC_V2,
	     2,
	     11,
	     {0xd8, 0x04, 0x0a, 'h', 'e', 'l', 'l', 'o', 0xe1, 0x04, 0x21},
	     false,
	     2},
	};
	/*
	 * A record carrying two data-file extents (one-sync) against the format written out
	 * by hand: "hello" at 300 as above, then nd 2, {4096 (80 20), 4096 (80 20), CRC},
	 * {1 MiB (80 80 40), 12345 (b9 60), CRC}: 26 bytes, 32 with the padding.
	 */
	unsigned char pay[32] = {0xd8, 0x04, 0x0a, 'h', 'e', 'l', 'l',  'o',  0x02, 0x80, 0x20,
				 0x80, 0x20, 0,    0,   0,   0,   0x80, 0x80, 0x40, 0xb9, 0x60};
	struct bio_wal_dref drefs[2] = {{.dr_off = 4096, .dr_len = 4096},
					{.dr_off = 1 << 20, .dr_len = 12345}};
	struct umem_redo_range rr = {.rr_off = 300, .rr_len = 5, .rr_data = "hello"};
	struct umem_redo redo = {.ur_nr = 1, .ur_bytes = 5, .ur_ranges = &rr};
	unsigned char rbuf[40 + 32];
	struct bio_wal_replay_info info;
	struct bio_wal_stats ws;
	struct wal_rec_df rec;
	struct bio_wal *wal;
	char wpath[160];
	char *data = malloc(12345);
	unsigned int i;
	uint64_t lsn;
	uint32_t crc;
	int dfd;

	(void)state;
	for (i = 0; i < (unsigned int)D_ARRAY_SIZE(crs); i++) {
		print_message("crafted record %u\n", i);
		craft_one(&crs[i]);
	}

	assert_non_null(data);
	for (i = 0; i < 12345; i++)
		data[i] = (char)(i * 13 + 1);
	dfd = open(path, O_RDWR);
	assert_true(dfd >= 0);
	assert_int_equal(pwrite(dfd, data, 4096, 4096), 4096);
	assert_int_equal(pwrite(dfd, data, 12345, 1 << 20), 12345);
	drefs[0].dr_crc = bio_crc32c(0, data, 4096);
	drefs[1].dr_crc = bio_crc32c(0, data, 12345);
	memcpy(pay + 13, &drefs[0].dr_crc, 4);
	memcpy(pay + 22, &drefs[1].dr_crc, 4);
	snprintf(wpath, sizeof(wpath), "%s/wal", dir);
	unlink(wpath);
	setenv("DAOS_BIO_ONE_SYNC", "1", 1);
	assert_int_equal(bio_wal_create(wpath, 4 << 20), 0);
	assert_int_equal(bio_wal_open(wpath, NULL, &wal), 0);
	assert_true(bio_wal_one_sync(wal));
	assert_int_equal(bio_wal_replay(wal, 0, NULL, NULL, NULL), 0);
	assert_int_equal(bio_wal_dref_set(wal, dfd, drefs, 17), -DER_INVAL);
	assert_int_equal(bio_wal_dref_set(wal, dfd, drefs, 2), 0);
	assert_int_equal(bio_wal_append(wal, &redo, &lsn), 0);
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	bio_wal_query(wal, &ws);
	assert_int_equal(ws.ws_append_bytes, 40 + 32);
	assert_int_equal(ws.ws_drefs, 2);
	assert_int_equal(ws.ws_sfr, 1);
	assert_int_equal(ws.ws_dep_syncs, 0);
	assert_int_equal(bio_wal_close(wal), 0);
	{
		int wfd = open(wpath, O_RDONLY);

		assert_true(wfd >= 0);
		assert_int_equal(pread(wfd, rbuf, sizeof(rbuf), WAL_AREA_OFF), sizeof(rbuf));
		close(wfd);
	}
	memcpy(&rec, rbuf, sizeof(rec));
	assert_int_equal(rec.rd_magic, WAL_REC_MAGIC);
	assert_int_equal(rec.rd_version, WAL_REC_V2);
	assert_int_equal(rec.rd_flags, WAL_RF_DREF);
	assert_int_equal(rec.rd_lsn, 1);
	assert_int_equal(rec.rd_nr, 1);
	assert_int_equal(rec.rd_len, 26);
	assert_memory_equal(rbuf + 40, pay, sizeof(pay));
	crc = rec.rd_csum;
	memset(rbuf + offsetof(struct wal_rec_df, rd_csum), 0, 4);
	assert_int_equal(wal_crc(0, rbuf, sizeof(rbuf)), crc);
	/* and replay takes it (its data is there: the CRCs hold) */
	assert_int_equal(bio_wal_open(wpath, NULL, &wal), 0);
	assert_int_equal(bio_wal_dref_set(wal, dfd, NULL, 0), 0);
	assert_int_equal(bio_wal_replay(wal, 0, NULL, NULL, &info), 0);
	assert_int_equal(info.ri_last_lsn, 1);
	assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
	assert_false(info.ri_data_stop);
	assert_int_equal(bio_wal_close(wal), 0);
	/* the knob off: extents are refused */
	setenv("DAOS_BIO_ONE_SYNC", "0", 1);
	assert_int_equal(bio_wal_open(wpath, NULL, &wal), 0);
	assert_false(bio_wal_one_sync(wal));
	assert_int_equal(bio_wal_dref_set(wal, dfd, drefs, 1), -DER_INVAL);
	assert_int_equal(bio_wal_close(wal), 0);
	unsetenv("DAOS_BIO_ONE_SYNC");
	close(dfd);
	free(data);
}

/* Replay callback: count the records applied, and remember the last LSN. */
static int
count_apply(void *arg, uint64_t lsn, const struct umem_redo *redo)
{
	uint64_t *c = arg;

	(void)redo;
	c[0]++;
	c[1] = lsn;
	return 0;
}

/*
 * Append a record carrying the extent [@off, @off + @len) of data file @dfd, whose bytes
 * are @data, and make it durable. Returns its LSN.
 */
static uint64_t
dref_append(struct bio_wal *wal, int dfd, const char *data, uint64_t off, uint32_t len)
{
	struct bio_wal_dref d = {.dr_off = off, .dr_len = len};
	uint64_t lsn;

	assert_int_equal(pwrite(dfd, data, len, (off_t)off), (ssize_t)len);
	d.dr_crc = bio_crc32c(0, data, len);
	assert_int_equal(bio_wal_dref_set(wal, dfd, &d, 1), 0);
	lsn = append(wal);
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	return lsn;
}

/* Open the log at @wpath and replay it, checking data against @dfd, counting into @cnt. */
static struct bio_wal *
dref_log_replay(const char *wpath, int dfd, uint64_t cnt[2], struct bio_wal_replay_info *info)
{
	struct bio_wal *wal;

	assert_int_equal(bio_wal_open(wpath, NULL, &wal), 0);
	assert_int_equal(bio_wal_dref_set(wal, dfd, NULL, 0), 0);
	memset(cnt, 0, 2 * sizeof(cnt[0]));
	assert_int_equal(bio_wal_replay(wal, 0, count_apply, cnt, info), 0);
	return wal;
}

/*
 * One-sync replay: four records each carrying a data-file extent, each flushed alone; the
 * last header then says complete LSN 3, so replay checks the data of record 4 only.
 * - record 4's data overwritten on disk (as a power loss that kept its record but not its
 *   data): replay ends after record 3, ri_data_stop, and appends go on at LSN 4;
 * - record 1's extent rewritten instead (freed and reused; <= complete LSN): all four;
 * - reuse: blocks freed by record 4 become reusable only with a header covering LSN 4
 *   (bio_wal_reuse_lsn 3, then bio_wal_reuse_wait writes one).
 */
static void
t_wal_dref_replay(void **state)
{
	struct bio_wal_replay_info info;
	struct bio_wal_stats ws0, ws1;
	struct bio_wal *wal;
	char junk[8192];
	char data[8192];
	char wpath[160];
	uint64_t cnt[2];
	uint64_t i;
	int dfd;

	(void)state;
	setenv("DAOS_BIO_ONE_SYNC", "1", 1);
	for (i = 0; i < sizeof(data); i++) {
		data[i] = (char)(i * 7 + 3);
		junk[i] = (char)(i * 5 + 1);
	}
	dfd = open(path, O_RDWR);
	assert_true(dfd >= 0);
	snprintf(wpath, sizeof(wpath), "%s/wal", dir);
	wal = wal_fresh(wpath);
	for (i = 1; i <= 4; i++)
		assert_int_equal(dref_append(wal, dfd, data + i, i << 16, 4000 + (uint32_t)i), i);
	/* LSN 4 is durable, but its blocks' reuse waits for a header saying so */
	assert_int_equal(bio_wal_durable_lsn(wal), 4);
	assert_int_equal(bio_wal_reuse_lsn(wal), 3);
	bio_wal_query(wal, &ws0);
	assert_int_equal(bio_wal_reuse_wait(wal, 4, bio_wal_wait_io, wal), 0);
	assert_int_equal(bio_wal_reuse_lsn(wal), 4);
	bio_wal_query(wal, &ws1);
	assert_int_equal(ws1.ws_hdr_writes, ws0.ws_hdr_writes + 1);
	assert_int_equal(bio_wal_close(wal), 0);

	/* the same log, but record 4's header-only follow-up undone: rebuild it */
	wal = wal_fresh(wpath);
	for (i = 1; i <= 4; i++)
		assert_int_equal(dref_append(wal, dfd, data + i, i << 16, 4000 + (uint32_t)i), i);
	assert_int_equal(bio_wal_close(wal), 0);

	/* record 1's extent freed and rewritten: not checked (<= complete LSN 3) */
	assert_int_equal(pwrite(dfd, junk, 4001, 1 << 16), 4001);
	wal = dref_log_replay(wpath, dfd, cnt, &info);
	assert_int_equal(info.ri_last_lsn, 4);
	assert_int_equal(cnt[0], 4);
	assert_false(info.ri_data_stop);
	assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
	assert_int_equal(bio_wal_close(wal), 0); /* writes nothing: no append */

	/* record 4's data not on disk: replay ends before it; the log goes on from there */
	assert_int_equal(pwrite(dfd, junk + 7, 3000, 4 << 16), 3000);
	wal = dref_log_replay(wpath, dfd, cnt, &info);
	assert_int_equal(info.ri_last_lsn, 3);
	assert_int_equal(cnt[0], 3);
	assert_int_equal(cnt[1], 3);
	assert_true(info.ri_data_stop);
	assert_int_equal(info.ri_stop, BIO_WAL_STOP_CORRUPT);
	assert_int_equal(info.ri_lost, 0);
	assert_int_equal(append(wal), 4);
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	assert_int_equal(bio_wal_close(wal), 0);
	wal = dref_log_replay(wpath, dfd, cnt, &info);
	assert_int_equal(info.ri_last_lsn, 4);
	assert_false(info.ri_data_stop);
	assert_int_equal(bio_wal_close(wal), 0);

	/* no data file given: a record to check fails the replay rather than pass unchecked */
	wal = wal_fresh(wpath);
	dref_append(wal, dfd, data, 0, 100);
	assert_int_equal(bio_wal_close(wal), 0);
	assert_int_equal(bio_wal_open(wpath, NULL, &wal), 0);
	assert_int_equal(bio_wal_replay(wal, 0, count_apply, cnt, &info), -DER_INVAL);
	assert_int_equal(bio_wal_close(wal), 0);
	close(dfd);
}

struct lock_open {
	struct bio_data *lo_bd;
	int lo_fd; /* write end of a pipe: the rc once bio_data_open returned */
};

static void *
lock_open_thread(void *arg)
{
	struct lock_open *lo = arg;
	int rc = bio_data_open(path, &lo->lo_bd);

	if (write(lo->lo_fd, &rc, sizeof(rc)) != sizeof(rc))
		abort();
	return NULL;
}

/*
 * Open the data file (into @lo->lo_bd) in a thread while child @pid, the previous owner,
 * still holds it: the open must not return within 300 ms; then the child is let go (a byte
 * on @go, which is closed) and must exit 0, and the open must return 0. @what says what
 * the child holds, for the failure message.
 */
static void
lock_open_after(struct lock_open *lo, pid_t pid, int go, const char *what)
{
	struct pollfd pfd;
	int done[2], status, rc;
	pthread_t th;

	assert_int_equal(pipe(done), 0);
	lo->lo_fd = done[1];
	assert_int_equal(pthread_create(&th, NULL, lock_open_thread, lo), 0);
	pfd.fd = done[0];
	pfd.events = POLLIN;
	rc = poll(&pfd, 1, 300);
	if (rc != 0) {
		kill(pid, SIGKILL);
		fail_msg("bio_data_open returned while %s", what);
	}
	assert_int_equal(write(go, "x", 1), 1);
	close(go);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(read(done[0], &rc, sizeof(rc)), sizeof(rc));
	assert_int_equal(rc, 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	close(done[0]);
	close(done[1]);
}

/*
 * A process killed with data writes in flight through its io_uring does not take them back:
 * they land after it is reaped, possibly on blocks the next owner has handed out again
 * since. The kernel holds the file description they were submitted through until they
 * complete; here a child that inherited the description stands for them. The next
 * bio_data_open must wait until it is gone, and then see its last write.
 */
static void
t_data_lock(void **state)
{
	struct lock_open lo = {0};
	int go[2], fd;
	char *blk = NULL;
	pid_t pid;

	(void)state;
	assert_int_equal(posix_memalign((void **)&blk, BD_BLK_TEST, BD_BLK_TEST), 0);
	assert_int_equal(bio_data_open(path, &lo.lo_bd), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;

		/* the old owner: its description (and lock) lives until it goes */
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		memset(blk, 0x5a, BD_BLK_TEST);
		if (pwrite(bio_data_fd(lo.lo_bd), blk, BD_BLK_TEST, 7 * BD_BLK_TEST) != BD_BLK_TEST)
			_exit(3);
		_exit(0);
	}
	close(go[0]);
	bio_data_close(lo.lo_bd); /* our descriptor goes; the child's copy keeps the file */
	lo.lo_bd = NULL;

	/* the open cannot finish while the old owner lives, however long we wait */
	lock_open_after(&lo, pid, go[1], "a previous owner still held the file");

	/* the old owner's last write is there */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	memset(blk, 0, BD_BLK_TEST);
	assert_int_equal(pread(fd, blk, BD_BLK_TEST, 7 * BD_BLK_TEST), BD_BLK_TEST);
	close(fd);
	assert_int_equal((unsigned char)blk[0], 0x5a);
	assert_int_equal((unsigned char)blk[BD_BLK_TEST - 1], 0x5a);
	bio_data_close(lo.lo_bd);
	free(blk);
}

/*
 * The same for the buffered description alone, which the large cached writes go through
 * (in io_uring's workers): a child that closed its copy of the O_DIRECT one but keeps the
 * buffered one stands for a killed owner's cached writes still copying; the next open must
 * wait for it too (the OFD lock of bd_ofd_lock: the flock on the O_DIRECT one is free).
 */
static void
t_data_lock_cached(void **state)
{
	struct lock_open lo = {0};
	int go[2], ready[2];
	pid_t pid;
	char c;

	(void)state;
	assert_int_equal(bio_data_open(path, &lo.lo_bd), 0);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		close(bio_data_fd(lo.lo_bd)); /* only the buffered description left */
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	bio_data_close(lo.lo_bd);
	lo.lo_bd = NULL;

	lock_open_after(&lo, pid, go[1], "a previous owner held the buffered file");
	bio_data_close(lo.lo_bd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_data_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_read_cached, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_read_long, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_written, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_buffered, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_cache_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_wb_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_zero_ahead, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_zero_race, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_concurrent, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_wal, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_wal_zero_runs, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_wal_rec_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_wal_dref_replay, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_lock, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_lock_cached, setup, teardown),
	};

	d_log_setmasks("CRIT");
	return cmocka_run_group_tests_name("bio_data", tests, NULL, NULL);
}
