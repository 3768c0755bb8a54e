/*
 * perf_disk.h: the raw limit of the file system that holds the server's data, measured in
 * the benchmark's own run, for its 1 MiB figures to stand next to (daos_perf; as vos_perf
 * prints memcpy and fdatasync). Header only: each benchmark is one file.
 *
 * perf_disk_probe(dir) makes a scratch file of PERF_DISK_MB MiB in @dir, writes it once
 * (O_DIRECT, not timed: a fresh file's first writes convert unwritten extents, which a
 * data file written before does not pay), then times through one io_uring:
 * - write: O_DIRECT 1 MiB overwrites, PERF_DISK_QD in flight, each with RWF_DSYNC (durable
 *   when it completes, as an update is when acknowledged);
 * - read1 / readq: O_DIRECT 1 MiB reads, one in flight (as `dd iflag=direct`) and
 *   PERF_DISK_QD in flight (as an engine serving many fetches).
 * The file is unlinked at once (its blocks go when it is closed). About 0.2-0.5 s of disk
 * time on a virtio disk at ~1-2 GB/s.
 */
#ifndef PERF_DISK_H
#define PERF_DISK_H

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PERF_DISK_MB 64U
#define PERF_DISK_QD 16U

struct perf_disk {
	double pd_write_gbs; /* O_DIRECT + RWF_DSYNC, PERF_DISK_QD in flight */
	double pd_read1_gbs; /* O_DIRECT, one in flight */
	double pd_readq_gbs; /* O_DIRECT, PERF_DISK_QD in flight */
};

static inline double
perf_disk_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Wait for @n requests still in flight on @ring (their completions discarded), so that the
 * caller may free the buffers they read or write; a wait cut short by a signal is retried.
 */
static inline void
perf_disk_drain(struct io_uring *ring, unsigned int n)
{
	struct io_uring_cqe *cqe;

	while (n > 0) {
		int rc = io_uring_wait_cqe(ring, &cqe);

		if (rc == -EINTR)
			continue;
		if (rc < 0)
			return; /* the ring itself failed: nothing more will complete */
		io_uring_cqe_seen(ring, cqe);
		n--;
	}
}

/*
 * PERF_DISK_MB 1 MiB requests over the file, @qd in flight, from @bufs (PERF_DISK_QD MiB):
 * GB/s, or a negative errno.
 */
static inline double
perf_disk_pass(struct io_uring *ring, int fd, char *bufs, unsigned int qd, bool write, int rw_flags)
{
	unsigned int sub = 0, done = 0;
	double t0 = perf_disk_now();

	while (done < PERF_DISK_MB) {
		struct io_uring_cqe *cqe;
		int rc;

		while (sub < PERF_DISK_MB && sub - done < qd) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
			char *buf = bufs + (size_t)(sub % PERF_DISK_QD << 20);

			if (write)
				io_uring_prep_write(sqe, fd, buf, 1U << 20, (off_t)sub << 20);
			else
				io_uring_prep_read(sqe, fd, buf, 1U << 20, (off_t)sub << 20);
			sqe->rw_flags = rw_flags;
			sub++;
		}
		rc = io_uring_submit_and_wait(ring, 1);
		if (rc < 0) {
			/* what the kernel took (not left in the SQ) may be in flight: drain */
			perf_disk_drain(ring, sub - done - io_uring_sq_ready(ring));
			return rc;
		}
		while (io_uring_peek_cqe(ring, &cqe) == 0) {
			int res = cqe->res;

			io_uring_cqe_seen(ring, cqe);
			if (res != 1 << 20) {
				/* drain what is still in flight before the caller frees the buffers
				 */
				perf_disk_drain(ring, sub - done - 1);
				return res < 0 ? res : -EIO;
			}
			done++;
		}
	}
	return (double)PERF_DISK_MB * (1U << 20) / (perf_disk_now() - t0) / 1e9;
}

/* Measure the file system of @dir into @pd: 0, or a negative errno (a message printed). */
static inline int
perf_disk_probe(const char *dir, struct perf_disk *pd)
{
	char path[4096];
	struct io_uring ring;
	const char *what = "create a file";
	char *bufs = NULL;
	double r;
	int tfd, fd, rc;

	memset(pd, 0, sizeof(*pd));
	if (snprintf(path, sizeof(path), "%s/perf_disk.XXXXXX", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	tfd = mkstemp(path);
	if (tfd < 0) {
		rc = -errno;
		fprintf(stderr, "disk probe: cannot %s in %s: %s\n", what, dir, strerror(-rc));
		return rc;
	}
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	rc = fd < 0 ? -errno : 0;
	unlink(path);
	close(tfd);
	if (rc != 0) {
		what = "open O_DIRECT"; /* tmpfs: no O_DIRECT, nothing to measure */
		goto out;
	}
	what = "allocate";
	if (posix_memalign((void **)&bufs, 1U << 20, (size_t)PERF_DISK_QD << 20) != 0) {
		rc = -ENOMEM;
		goto out;
	}
	memset(bufs, 0x5a, (size_t)PERF_DISK_QD << 20);
	what = "set up io_uring";
	rc = io_uring_queue_init(2 * PERF_DISK_QD, &ring, 0);
	if (rc < 0)
		goto out;
	what = "write";
	r = perf_disk_pass(&ring, fd, bufs, PERF_DISK_QD, true, 0); /* the first write */
	if (r >= 0 && fdatasync(fd) != 0)
		r = -errno;
	if (r >= 0)
		r = pd->pd_write_gbs =
		    perf_disk_pass(&ring, fd, bufs, PERF_DISK_QD, true, RWF_DSYNC);
	if (r >= 0) {
		what = "read";
		r = pd->pd_read1_gbs = perf_disk_pass(&ring, fd, bufs, 1, false, 0);
	}
	if (r >= 0)
		r = pd->pd_readq_gbs = perf_disk_pass(&ring, fd, bufs, PERF_DISK_QD, false, 0);
	rc = r < 0 ? (int)r : 0;
	io_uring_queue_exit(&ring);
out:
	if (rc != 0)
		fprintf(stderr, "disk probe: cannot %s in %s: %s\n", what, dir, strerror(-rc));
	free(bufs);
	if (fd >= 0)
		close(fd);
	return rc;
}

#endif /* PERF_DISK_H */
