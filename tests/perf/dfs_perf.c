/*
 * dfs_perf.c: a libdfs benchmark (not a test): file create, stat and remove rates and
 * streaming write and read bandwidth through libdfs from one client process, and the same
 * workload on a local directory in the same run, printed side by side.
 *
 *	dfs_perf MGMT_ADDR [-n FILES] [-m MIB] [-b KIB] [-r RUNS] [-d LOCAL_DIR]
 *
 * Run it against a fresh server with tests/common/with_server.sh (see docs/PERFORMANCE.md):
 * it creates a pool on every target of the server at MGMT_ADDR, builds the handles locally
 * (there is no container service yet), mounts a new container and, RUNS times (3), creates
 * FILES (5000) empty files in a directory, stats each, removes each, then writes MIB (256)
 * MiB to one file in BLOCK (1024) KiB calls and reads it back. The local side does the same
 * with open/stat/unlink/pwrite/pread in LOCAL_DIR (default /tmp), ending the writes with
 * fdatasync. Per run and medians are printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <daos.h>
#include <daos_fs.h>
#include <daos/client.h>
#include <gurt/common.h>

#include "../common/sys_pool.h"

enum { F_CREATE, F_STAT, F_REMOVE, F_WRITE, F_READ, F_NR };
static const char *fig_names[F_NR] = {"create (files/s)", "stat (files/s)", "remove (files/s)",
				      "write (MB/s)", "read (MB/s)"};

#define MAX_RUNS 16

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "dfs_perf: %s: %s\n", what, strerror(rc));
	exit(1);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	double s[MAX_RUNS];

	memcpy(s, v, sizeof(double) * (size_t)n);
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void
run_dfs(dfs_t *dfs, int run, int nfiles, size_t mib, size_t block, char *buf, double fig[F_NR])
{
	char name[64];
	dfs_obj_t *dir;
	dfs_obj_t *f;
	struct stat st;
	d_sg_list_t sgl;
	d_iov_t iov;
	size_t total = mib << 20;
	double t;
	size_t off;
	int rc;
	int i;

	snprintf(name, sizeof(name), "run%d", run);
	rc = dfs_mkdir(dfs, NULL, name, 0755, 0);
	if (rc == 0)
		rc = dfs_lookup_rel(dfs, NULL, name, O_RDWR, &dir, NULL, NULL);
	if (rc != 0)
		die("mkdir", rc);
	t = now_s();
	for (i = 0; i < nfiles; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		rc = dfs_open(dfs, dir, name, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL, 0, 0, NULL,
			      &f);
		if (rc != 0)
			die("create", rc);
		dfs_release(f);
	}
	fig[F_CREATE] = nfiles / (now_s() - t);
	t = now_s();
	for (i = 0; i < nfiles; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		rc = dfs_stat(dfs, dir, name, &st);
		if (rc != 0)
			die("stat", rc);
	}
	fig[F_STAT] = nfiles / (now_s() - t);
	t = now_s();
	for (i = 0; i < nfiles; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		rc = dfs_remove(dfs, dir, name, false, NULL);
		if (rc != 0)
			die("remove", rc);
	}
	fig[F_REMOVE] = nfiles / (now_s() - t);

	rc = dfs_open(dfs, dir, "stream", S_IFREG | 0644, O_RDWR | O_CREAT, 0, 0, NULL, &f);
	if (rc != 0)
		die("create stream", rc);
	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	t = now_s();
	for (off = 0; off < total; off += block) {
		d_iov_set(&iov, buf, block);
		rc = dfs_write(dfs, f, &sgl, off, NULL);
		if (rc != 0)
			die("write", rc);
	}
	fig[F_WRITE] = total / (now_s() - t) / 1e6;
	t = now_s();
	for (off = 0; off < total; off += block) {
		daos_size_t got;

		d_iov_set(&iov, buf, block);
		rc = dfs_read(dfs, f, &sgl, off, &got, NULL);
		if (rc != 0 || got != block)
			die("read", rc != 0 ? rc : EIO);
	}
	fig[F_READ] = total / (now_s() - t) / 1e6;
	dfs_release(f);
	rc = dfs_remove(dfs, dir, "stream", false, NULL);
	if (rc != 0)
		die("remove stream", rc);
	dfs_release(dir);
}

static void
run_local(const char *base, int run, int nfiles, size_t mib, size_t block, char *buf,
	  double fig[F_NR])
{
	char dir[4096];
	char path[4200];
	struct stat st;
	size_t total = mib << 20;
	double t;
	size_t off;
	int fd;
	int i;

	snprintf(dir, sizeof(dir), "%s/dfs_perf.%d.%d", base, (int)getpid(), run);
	if (mkdir(dir, 0755) != 0)
		die(dir, errno);
	t = now_s();
	for (i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die("local create", errno);
		close(fd);
	}
	fig[F_CREATE] = nfiles / (now_s() - t);
	t = now_s();
	for (i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		if (stat(path, &st) != 0)
			die("local stat", errno);
	}
	fig[F_STAT] = nfiles / (now_s() - t);
	t = now_s();
	for (i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		if (unlink(path) != 0)
			die("local unlink", errno);
	}
	fig[F_REMOVE] = nfiles / (now_s() - t);

	snprintf(path, sizeof(path), "%s/stream", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("local create stream", errno);
	t = now_s();
	for (off = 0; off < total; off += block)
		if (pwrite(fd, buf, block, (off_t)off) != (ssize_t)block)
			die("local write", errno);
	if (fdatasync(fd) != 0)
		die("local fdatasync", errno);
	fig[F_WRITE] = total / (now_s() - t) / 1e6;
	t = now_s();
	for (off = 0; off < total; off += block)
		if (pread(fd, buf, block, (off_t)off) != (ssize_t)block)
			die("local read", errno);
	fig[F_READ] = total / (now_s() - t) / 1e6;
	close(fd);
	unlink(path);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	double dfig[MAX_RUNS][F_NR];
	double lfig[MAX_RUNS][F_NR];
	const char *local = "/tmp";
	int nfiles = 5000;
	size_t mib = 256;
	size_t block = 1024 * 1024;
	int runs = 3;
	daos_handle_t poh;
	daos_handle_t coh;
	uuid_t puuid;
	uuid_t cuuid;
	dfs_t *dfs;
	char *buf;
	int opt;
	int rc;
	int r;
	int k;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr,
			"usage: %s MGMT_ADDR [-n FILES] [-m MIB] [-b KIB] [-r RUNS] "
			"[-d LOCAL_DIR]\n",
			argv[0]);
		return 2;
	}
	optind = 2;
	while ((opt = getopt(argc, argv, "n:m:b:r:d:")) != -1) {
		switch (opt) {
		case 'n':
			nfiles = atoi(optarg);
			break;
		case 'm':
			mib = strtoull(optarg, NULL, 0);
			break;
		case 'b':
			block = strtoull(optarg, NULL, 0) * 1024;
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'd':
			local = optarg;
			break;
		default:
			return 2;
		}
	}
	if (nfiles <= 0 || runs <= 0 || runs > MAX_RUNS || block == 0 || mib == 0 ||
	    (mib << 20) % block != 0) {
		fprintf(stderr, "dfs_perf: bad arguments (MIB must be a multiple of BLOCK)\n");
		return 2;
	}
	buf = malloc(block);
	if (buf == NULL)
		die("malloc", ENOMEM);
	for (size_t i = 0; i < block; i++)
		buf[i] = (char)(i * 131 + 7);

	uuid_generate(puuid);
	rc = sys_pool_create(argv[1], puuid);
	if (rc != 0) {
		fprintf(stderr, "TgtCreate: %s\n", d_errstr(rc));
		return 1;
	}
	if (daos_init() != 0 || sys_pool_connect(argv[1], puuid, &poh) != 0) {
		fprintf(stderr, "setting up the pool handle failed\n");
		return 1;
	}
	uuid_generate(cuuid);
	rc = dc_cont_local_open(poh, cuuid, DAOS_COO_RW, &coh);
	if (rc != 0) {
		fprintf(stderr, "container open: %s\n", d_errstr(rc));
		return 1;
	}
	rc = dfs_mount(poh, coh, O_RDWR, &dfs);
	if (rc != 0)
		die("mount", rc);

	printf("dfs_perf: %d files, %zu MiB in %zu KiB calls, %d runs; local dir %s\n", nfiles, mib,
	       block / 1024, runs, local);
	for (r = 0; r < runs; r++) {
		run_dfs(dfs, r, nfiles, mib, block, buf, dfig[r]);
		run_local(local, r, nfiles, mib, block, buf, lfig[r]);
		printf("run %d:", r);
		for (k = 0; k < F_NR; k++)
			printf(" %s %.0f/%.0f;", fig_names[k], dfig[r][k], lfig[r][k]);
		printf("  (dfs/local)\n");
	}
	printf("\n%-18s %14s %14s %8s\n", "median", "libdfs", "local", "ratio");
	for (k = 0; k < F_NR; k++) {
		double d[MAX_RUNS];
		double l[MAX_RUNS];
		double md;
		double ml;

		for (r = 0; r < runs; r++) {
			d[r] = dfig[r][k];
			l[r] = lfig[r][k];
		}
		md = median(d, runs);
		ml = median(l, runs);
		printf("%-18s %14.0f %14.0f %8.3f\n", fig_names[k], md, ml, md / ml);
	}
	dfs_umount(dfs);
	daos_cont_close(coh, NULL);
	daos_pool_disconnect(poh, NULL);
	daos_fini();
	free(buf);
	return 0;
}
