/*
 * wal_perf.c: benchmark of the bio WAL (a tool, not a test). Measures, on the file system
 * of a directory:
 *   - the raw limits: 4 KiB O_DIRECT overwrite + fdatasync, and 4 KiB O_DIRECT|O_DSYNC
 *     writes, of a preallocated file (syncs per second, one at a time);
 *   - durable 64-byte updates per second with 1, 8, 64 and 256 updates in flight (group
 *     commit: each update is an append plus a durability callback; a new one starts when
 *     one completes), in each sync mode;
 *   - MB/s of durable 1 MiB records, 8 in flight.
 * The WAL is trimmed (as after a checkpoint) whenever it is half full. The two sync modes
 * run alternately, REPS times each, and the best run is shown: the disk here is shared
 * and its latency drifts by 10x within seconds, so the raw rates are measured again at
 * the end.
 *
 * Usage: wal_perf [-d dir] [-s wal_MiB] [-t seconds_per_run] [-m dsync|fdatasync|both]
 */
#define D_LOGFAC bio

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_srv/bio.h>

#define RAW_FILE_SIZE (64ULL << 20)
#define LAT_RING (1U << 20)
#define REPS 3

struct perf {
	struct bio_wal *p_wal;
	uint64_t p_inflight;
	uint64_t p_done;
	uint64_t p_lat_sum;
	uint64_t *p_start; /* append time by LSN % LAT_RING */
	int p_err;
};

static double
now_s(void)
{
	return (double)d_now_ns() / 1e9;
}

/* One sync at a time: write 4 KiB (O_DIRECT) then fdatasync, or O_DSYNC writes. */
static double
raw_rate(const char *dir, bool dsync, double secs)
{
	char path[512];
	uint64_t n = 0;
	double t0;
	void *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/wal_perf.raw", dir);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC | O_DIRECT, 0600);
	if (fd < 0 || posix_memalign(&buf, 4096, 1 << 20) != 0) {
		perror("raw file");
		exit(1);
	}
	memset(buf, 0x5a, 1 << 20);
	if (fallocate(fd, 0, 0, RAW_FILE_SIZE) != 0)
		perror("fallocate");
	for (uint64_t off = 0; off < RAW_FILE_SIZE; off += 1 << 20)
		if (pwrite(fd, buf, 1 << 20, (off_t)off) != 1 << 20)
			perror("pwrite");
	fdatasync(fd);
	if (dsync) {
		close(fd);
		fd = open(path, O_RDWR | O_DIRECT | O_DSYNC);
	}
	t0 = now_s();
	while (now_s() - t0 < secs) {
		off_t off = (off_t)((n * 4096) % RAW_FILE_SIZE);

		if (pwrite(fd, buf, 4096, off) != 4096)
			perror("pwrite");
		if (!dsync && fdatasync(fd) != 0)
			perror("fdatasync");
		n++;
	}
	t0 = now_s() - t0;
	close(fd);
	unlink(path);
	free(buf);
	return (double)n / t0;
}

static void
perf_cb(void *arg, uint64_t lsn, int rc)
{
	struct perf *p = arg;

	if (rc != 0)
		p->p_err = rc;
	p->p_inflight--;
	p->p_done++;
	p->p_lat_sum += d_now_ns() - p->p_start[lsn % LAT_RING];
}

/* Trim everything durable once the log is half full (as a checkpoint would). */
static void
perf_trim(struct perf *p)
{
	struct bio_wal_stats st;

	bio_wal_query(p->p_wal, &st);
	if (st.ws_used > st.ws_area_size / 2)
		bio_wal_trim(p->p_wal, st.ws_durable_lsn);
}

struct result {
	double r_rate; /* updates per second */
	double r_mbs;
	double r_per_flush;
	double r_lat_us;
};

/* Keep @depth updates of @size bytes in flight for @secs seconds. */
static struct result
perf_run(struct perf *p, uint32_t size, uint64_t depth, double secs)
{
	struct umem_redo_range rr = {.rr_off = 4096};
	struct umem_redo redo = {.ur_nr = 1, .ur_bytes = size, .ur_ranges = &rr};
	struct bio_wal_stats st0;
	struct bio_wal_stats st;
	struct result res;
	uint64_t flushes;
	uint64_t lsn;
	double t0;
	double dt;
	char *data;
	int rc;

	data = malloc(size);
	memset(data, 0xa5, size);
	rr.rr_len = size;
	rr.rr_data = data;
	p->p_done = 0;
	p->p_lat_sum = 0;
	bio_wal_query(p->p_wal, &st0);
	t0 = now_s();
	while (now_s() - t0 < secs) {
		while (p->p_inflight < depth) {
			rc = bio_wal_append(p->p_wal, &redo, &lsn);
			if (rc == -DER_AGAIN || rc == -DER_BUSY) {
				perf_trim(p);
				break;
			}
			if (rc != 0) {
				fprintf(stderr, "append: %s\n", d_errstr(rc));
				exit(1);
			}
			p->p_start[lsn % LAT_RING] = d_now_ns();
			bio_wal_on_durable(p->p_wal, lsn, perf_cb, p);
			p->p_inflight++;
		}
		if (bio_wal_poll(p->p_wal) == 0) {
			perf_trim(p);
			bio_wal_wait_io(p->p_wal);
		}
		if (p->p_err != 0) {
			fprintf(stderr, "flush: %s\n", d_errstr(p->p_err));
			exit(1);
		}
	}
	dt = now_s() - t0;
	/* drain, so that the next run starts empty */
	while (p->p_inflight > 0) {
		bio_wal_wait_io(p->p_wal);
		bio_wal_poll(p->p_wal);
	}
	bio_wal_query(p->p_wal, &st);
	flushes = st.ws_flushes - st0.ws_flushes;
	res.r_rate = (double)p->p_done / dt;
	res.r_mbs = res.r_rate * size / 1e6;
	res.r_per_flush = flushes ? (double)(st.ws_appends - st0.ws_appends) / (double)flushes : 0;
	res.r_lat_us = p->p_done ? (double)p->p_lat_sum / (double)p->p_done / 1e3 : 0.0;
	free(data);
	return res;
}

static void
print_result(const char *mode, const char *what, uint64_t depth, const struct result *r)
{
	printf("  %-9s %-13s %4" PRIu64
	       " in flight: %10.0f /s %8.1f MB/s %6.1f rec/flush %8.1f us\n",
	       mode, what, depth, r->r_rate, r->r_mbs, r->r_per_flush, r->r_lat_us);
}

static void
usage(const char *prog, int status)
{
	fprintf(status == 0 ? stdout : stderr,
		"usage: %s [-d dir] [-s wal_MiB] [-t seconds_per_run] [-m dsync|fdatasync|both]\n"
		"Durable WAL appends per second with 1..256 in flight and 1 MiB records, next to\n"
		"the raw fdatasync and O_DSYNC rates of the same file system.\n",
		prog);
	exit(status);
}

int
main(int argc, char **argv)
{
	static const uint64_t depths[] = {1, 8, 64, 256};
	static const char *const names[] = {"fdatasync", "dsync"};
	struct perf p[2] = {0};
	const char *dir = "/tmp";
	const char *modes = "both";
	uint64_t wal_mib = 256;
	double secs = 1.0;
	char path[2][512];
	size_t i;
	int opt;
	int m;

	static const struct option lopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	char *end;

	while ((opt = getopt_long(argc, argv, "d:s:t:m:h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 's':
			wal_mib = strtoull(optarg, &end, 0);
			if (*end != '\0' || wal_mib < 1 || wal_mib > (1ULL << 20))
				usage(argv[0], 2);
			break;
		case 't':
			secs = strtod(optarg, &end);
			if (*end != '\0' || !(secs > 0 && secs <= 3600))
				usage(argv[0], 2);
			break;
		case 'm':
			modes = optarg;
			break;
		case 'h':
			usage(argv[0], 0);
			break;
		default:
			usage(argv[0], 2);
		}
	}
	if (optind != argc || (strcmp(modes, "both") != 0 && strcmp(modes, "dsync") != 0 &&
			       strcmp(modes, "fdatasync") != 0))
		usage(argv[0], 2);

	printf("raw limits on %s (4 KiB overwrite of a preallocated file, one at a time):\n", dir);
	printf("  write + fdatasync     %10.0f syncs/s\n", raw_rate(dir, false, secs / 2));
	printf("  O_DSYNC write         %10.0f syncs/s\n", raw_rate(dir, true, secs / 2));

	for (m = 0; m < 2; m++) {
		struct bio_wal_attr attr = {.wa_sync_mode = (uint32_t)m,
					    .wa_staging_size = 64ULL << 20};
		int rc;

		if (strcmp(modes, "both") != 0 && strcmp(modes, names[m]) != 0)
			continue;
		snprintf(path[m], sizeof(path[m]), "%s/wal_perf.%s", dir, names[m]);
		unlink(path[m]);
		rc = bio_wal_create(path[m], wal_mib << 20);
		if (rc == 0)
			rc = bio_wal_open(path[m], &attr, &p[m].p_wal);
		if (rc == 0)
			rc = bio_wal_replay(p[m].p_wal, 0, NULL, NULL, NULL);
		if (rc != 0) {
			fprintf(stderr, "WAL %s: %s\n", path[m], d_errstr(rc));
			return 1;
		}
		p[m].p_start = calloc(LAT_RING, sizeof(uint64_t));
	}

	printf("WAL (%" PRIu64 " MiB log), best of %d runs of %.1f s, modes alternating:\n",
	       wal_mib, REPS, secs);
	for (i = 0; i <= D_ARRAY_SIZE(depths); i++) {
		bool big = i == D_ARRAY_SIZE(depths);
		uint32_t size = big ? 1 << 20 : 64;
		uint64_t depth = big ? 8 : depths[i];
		struct result best[2] = {0};
		int rep;

		for (rep = 0; rep < REPS; rep++) {
			for (m = 0; m < 2; m++) {
				struct result r;

				if (p[m].p_wal == NULL)
					continue;
				r = perf_run(&p[m], size, depth, secs);
				if (r.r_rate > best[m].r_rate)
					best[m] = r;
			}
		}
		for (m = 0; m < 2; m++)
			if (p[m].p_wal != NULL)
				print_result(names[m], big ? "1 MiB records" : "64 B updates",
					     depth, &best[m]);
	}

	for (m = 0; m < 2; m++) {
		int rc;

		if (p[m].p_wal == NULL)
			continue;
		rc = bio_wal_close(p[m].p_wal);
		free(p[m].p_start);
		unlink(path[m]);
		if (rc != 0) {
			fprintf(stderr, "close: %s\n", d_errstr(rc));
			return 1;
		}
	}
	/* again: a shared disk's latency drifts; figures between two unlike raw rates are moot */
	printf("raw limits again:\n");
	printf("  write + fdatasync     %10.0f syncs/s\n", raw_rate(dir, false, secs / 2));
	printf("  O_DSYNC write         %10.0f syncs/s\n", raw_rate(dir, true, secs / 2));
	return 0;
}
