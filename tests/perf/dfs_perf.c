/*
 * dfs_perf.c: a libdfs benchmark (not a test): file create, stat and remove rates and
 * streaming write and read bandwidth through libdfs from one client process, and the same
 * workload on a local directory in the same run, printed side by side.
 *
 *	dfs_perf MGMT_ADDR [-n FILES] [-m MIB] [-b KIB] [-r RUNS] [-d LOCAL_DIR] [-t THREADS]
 *		 [-u] [-v] [-L]
 *
 * Run it against a fresh server with tests/common/with_server.sh (see docs/PERFORMANCE.md):
 * it creates a pool on every target of the server at MGMT_ADDR and a container through the
 * management service (sys_pool.h), mounts the container and, RUNS times (3), creates
 * FILES (5000) empty files in a directory, stats each, removes each, then writes MIB (256)
 * MiB to one file in BLOCK (1024) KiB calls and reads it back. The local side does the same
 * with open/stat/unlink/pwrite/pread in LOCAL_DIR (default /tmp), ending the writes with
 * fdatasync. Per run and medians are printed.
 *
 * -t THREADS splits the files and the bytes between THREADS threads of this one process
 * (mdtest-style: each its own files and handles; libdaos completes the blocking calls of
 * all threads through one shared network context, one waiting thread progressing it for all:
 * src/client/api/README.md), all in the run's directory or, with -u, in one directory per
 * thread; rates count all threads together. Before the clock starts each thread creates,
 * stats and removes a file of its own, so that the context exists and is connected to every
 * target.
 * -v prints, per libdfs phase, the object RPCs (by opcode) per file (per MiB for
 * streaming; dc_obj_rpc_counts), the CPU time per file of this process and of the server
 * (DAOS_PERF_SERVER_PID, set by with_server.sh) and the server's WAL records and flushes
 * per second (its engine/wal metrics through the management port): records / flushes is
 * how many updates each group commit carried. The create phase must show at least one WAL
 * record per file (else exit 1). -m 0 skips streaming, -L the local side.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <daos.h>
#include <daos_fs.h>
#include <daos/client.h>
#include <daos/obj_shard.h>
#include <daos_srv/ctl.h>
#include <gurt/common.h>

#include "ctl/ctl.pb-c.h"

#include "../common/sys_pool.h"
#include "perf_cpu.h"
#include "perf_wal.h"

enum { F_CREATE, F_STAT, F_REMOVE, F_WRITE, F_READ, F_NR };
static const char *fig_names[F_NR] = {"create (files/s)", "stat (files/s)", "remove (files/s)",
				      "write (MB/s)", "read (MB/s)"};

#define MAX_RUNS 16
#define MAX_THREADS 64

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

/*
 * One run of the workload by THREADS threads, in phases separated by a barrier: the main
 * thread times each phase from the barrier that starts it to the one that ends it. Thread t
 * creates, stats and removes files "t<t>.f<i>" (i < FILES / THREADS) in the run's directory
 * (or its own directory with -u), then writes and reads its own file of MIB / THREADS MiB.
 */
struct perf_run {
	bool pr_local;
	dfs_t *pr_dfs;
	dfs_obj_t *pr_dir;  /* shared directory (dfs), or NULL with -u */
	char pr_path[4096]; /* the run's directory (local), or its name (dfs) */
	int pr_threads;
	int pr_files;    /* per thread */
	size_t pr_bytes; /* per thread */
	size_t pr_block;
	bool pr_unique;
	pthread_barrier_t pr_bar;
	int pr_rc; /* first error (positive errno), under the barrier's ordering */
	const char *pr_what;
	int pr_srv_pid;         /* the server's pid (DAOS_PERF_SERVER_PID), or 0 */
	double pr_cpu[F_NR][2]; /* us of CPU per file (per MiB), client and server */
	const char *pr_addr;    /* the server's management address */
	double pr_wal[F_NR][2]; /* the server's WAL records and flushes per second */
};

struct perf_thread {
	struct perf_run *pt_run;
	int pt_id;
	char *pt_buf;
	pthread_t pt_tid;
	double pt_t0[F_NR]; /* when this thread began and ended each phase */
	double pt_t1[F_NR];
};

static void
perf_fail(struct perf_run *pr, const char *what, int rc)
{
	if (__atomic_exchange_n(&pr->pr_rc, rc, __ATOMIC_ACQ_REL) == 0)
		pr->pr_what = what;
}

/* Phase @ph of thread @pt on libdfs; positive errno. */
static int
dfs_phase(struct perf_thread *pt, int ph, dfs_obj_t *dir, dfs_obj_t **file)
{
	struct perf_run *pr = pt->pt_run;
	dfs_t *dfs = pr->pr_dfs;
	char name[64];
	struct stat st;
	d_sg_list_t sgl;
	d_iov_t iov;
	size_t off;
	dfs_obj_t *f;
	int rc = 0;
	int i;

	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	for (i = 0; i < pr->pr_files && ph <= F_REMOVE; i++) {
		snprintf(name, sizeof(name), "t%d.f%d", pt->pt_id, i);
		if (ph == F_CREATE) {
			rc = dfs_open(dfs, dir, name, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL, 0,
				      0, NULL, &f);
			if (rc == 0)
				dfs_release(f);
		} else if (ph == F_STAT) {
			rc = dfs_stat(dfs, dir, name, &st);
			if (rc == 0 && (!S_ISREG(st.st_mode) || st.st_size != 0))
				rc = EIO;
		} else {
			rc = dfs_remove(dfs, dir, name, false, NULL);
		}
		if (rc != 0)
			return rc;
	}
	if (ph == F_WRITE) {
		snprintf(name, sizeof(name), "t%d.stream", pt->pt_id);
		rc = dfs_open(dfs, dir, name, S_IFREG | 0644, O_RDWR | O_CREAT, 0, 0, NULL, file);
		for (off = 0; rc == 0 && off < pr->pr_bytes; off += pr->pr_block) {
			d_iov_set(&iov, pt->pt_buf, pr->pr_block);
			rc = dfs_write(dfs, *file, &sgl, off, NULL);
		}
	} else if (ph == F_READ) {
		for (off = 0; rc == 0 && off < pr->pr_bytes; off += pr->pr_block) {
			daos_size_t got;

			d_iov_set(&iov, pt->pt_buf, pr->pr_block);
			rc = dfs_read(dfs, *file, &sgl, off, &got, NULL);
			if (rc == 0 && got != pr->pr_block)
				rc = EIO;
		}
	}
	return rc;
}

/* Phase @ph of thread @pt on the local directory @dir; positive errno. */
static int
local_phase(struct perf_thread *pt, int ph, const char *dir, int *fd)
{
	struct perf_run *pr = pt->pt_run;
	char path[4400];
	struct stat st;
	size_t off;
	int i;

	for (i = 0; i < pr->pr_files && ph <= F_REMOVE; i++) {
		snprintf(path, sizeof(path), "%s/t%d.f%d", dir, pt->pt_id, i);
		if (ph == F_CREATE) {
			int f = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);

			if (f < 0)
				return errno;
			close(f);
		} else if (ph == F_STAT) {
			if (stat(path, &st) != 0)
				return errno;
		} else if (unlink(path) != 0) {
			return errno;
		}
	}
	snprintf(path, sizeof(path), "%s/t%d.stream", dir, pt->pt_id);
	if (ph == F_WRITE) {
		*fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (*fd < 0)
			return errno;
		for (off = 0; off < pr->pr_bytes; off += pr->pr_block)
			if (pwrite(*fd, pt->pt_buf, pr->pr_block, (off_t)off) !=
			    (ssize_t)pr->pr_block)
				return errno != 0 ? errno : EIO;
		if (fdatasync(*fd) != 0)
			return errno;
	} else if (ph == F_READ) {
		for (off = 0; off < pr->pr_bytes; off += pr->pr_block)
			if (pread(*fd, pt->pt_buf, pr->pr_block, (off_t)off) !=
			    (ssize_t)pr->pr_block)
				return errno != 0 ? errno : EIO;
	}
	return 0;
}

static void *
perf_thread_main(void *arg)
{
	struct perf_thread *pt = arg;
	struct perf_run *pr = pt->pt_run;
	dfs_obj_t *dir = pr->pr_dir;
	dfs_obj_t *file = NULL;
	char ldir[4200];
	char name[64];
	int fd = -1;
	int rc = 0;
	int ph;

	/* with -u: this thread's own directory, made before the first barrier */
	if (pr->pr_unique) {
		snprintf(name, sizeof(name), "t%d", pt->pt_id);
		if (pr->pr_local) {
			snprintf(ldir, sizeof(ldir), "%s/%s", pr->pr_path, name);
			rc = mkdir(ldir, 0755) == 0 ? 0 : errno;
		} else {
			rc = dfs_mkdir(pr->pr_dfs, pr->pr_dir, name, 0755, 0);
			if (rc == 0)
				rc = dfs_lookup_rel(pr->pr_dfs, pr->pr_dir, name, O_RDWR, &dir,
						    NULL, NULL);
		}
	} else {
		snprintf(ldir, sizeof(ldir), "%s", pr->pr_path);
	}
	if (rc != 0)
		perf_fail(pr, "thread directory", rc);
	/*
	 * Before the clock starts: a file created, stated and removed, so that the network
	 * context of the blocking calls exists and is connected to every target (a context
	 * costs ~1 ms of CPU and a connection per target: not what a create or a stat costs).
	 */
	if (rc == 0 && !pr->pr_local) {
		dfs_obj_t *f;
		struct stat st;

		snprintf(name, sizeof(name), "t%d.warm", pt->pt_id);
		rc = dfs_open(pr->pr_dfs, dir, name, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL, 0,
			      0, NULL, &f);
		if (rc == 0) {
			dfs_release(f);
			rc = dfs_stat(pr->pr_dfs, dir, name, &st);
		}
		if (rc == 0)
			rc = dfs_remove(pr->pr_dfs, dir, name, false, NULL);
		if (rc != 0)
			perf_fail(pr, "warm-up", rc);
	}
	pthread_barrier_wait(&pr->pr_bar); /* the main thread reads its counters now */
	for (ph = 0; ph < F_NR; ph++) {
		pthread_barrier_wait(&pr->pr_bar);
		pt->pt_t0[ph] = now_s();
		if (ph >= F_WRITE && pr->pr_bytes == 0) {
			/* -m 0: no streaming */
		} else if (rc == 0 && __atomic_load_n(&pr->pr_rc, __ATOMIC_ACQUIRE) == 0) {
			if (pr->pr_local)
				rc = local_phase(pt, ph, ldir, &fd);
			else
				rc = dfs_phase(pt, ph, dir, &file);
			if (rc != 0)
				perf_fail(pr, fig_names[ph], rc);
		}
		pt->pt_t1[ph] = now_s();
		pthread_barrier_wait(&pr->pr_bar);
	}
	/* the main thread reads the RPC counts of the last phase before the cleanup */
	pthread_barrier_wait(&pr->pr_bar);
	snprintf(name, sizeof(name), "t%d.stream", pt->pt_id);
	if (pr->pr_local) {
		if (fd >= 0)
			close(fd);
		snprintf(ldir + strlen(ldir), sizeof(ldir) - strlen(ldir), "/%s", name);
		unlink(ldir);
		if (pr->pr_unique) {
			ldir[strlen(ldir) - strlen(name) - 1] = '\0';
			rmdir(ldir);
		}
	} else {
		if (file != NULL)
			dfs_release(file);
		dfs_remove(pr->pr_dfs, dir, name, false, NULL);
		if (pr->pr_unique && dir != NULL) {
			dfs_release(dir);
			snprintf(name, sizeof(name), "t%d", pt->pt_id);
			dfs_remove(pr->pr_dfs, pr->pr_dir, name, false, NULL);
		}
	}
	return NULL;
}

/*
 * Run the phases with @pr->pr_threads threads; the rate of each phase into @fig, and with
 * @rpcs (libdfs only) the object RPCs of each phase per file (per MiB for streaming).
 */
static void
perf_run(struct perf_run *pr, char **bufs, double fig[F_NR], double rpcs[F_NR][DC_OBJ_RPC_NR])
{
	struct perf_thread pts[MAX_THREADS];
	uint64_t c0[DC_OBJ_RPC_NR];
	uint64_t c1[DC_OBJ_RPC_NR];
	double files = (double)pr->pr_files * pr->pr_threads;
	double bytes = (double)pr->pr_bytes * pr->pr_threads;
	double t;
	int ph;
	int i;

	pr->pr_rc = 0;
	pthread_barrier_init(&pr->pr_bar, NULL, (unsigned int)pr->pr_threads + 1);
	for (i = 0; i < pr->pr_threads; i++) {
		pts[i] = (struct perf_thread){.pt_run = pr, .pt_id = i, .pt_buf = bufs[i]};
		if (pthread_create(&pts[i].pt_tid, NULL, perf_thread_main, &pts[i]) != 0)
			die("pthread_create", EAGAIN);
	}
	/*
	 * A phase lasts from the first thread's start to the last one's end (the main thread
	 * may run late on a loaded machine). Between phases every thread waits at a barrier,
	 * so counts read before the start barrier and after the end barrier are the phase's.
	 */
	pthread_barrier_wait(&pr->pr_bar); /* every thread warmed up */
	for (ph = 0; ph < F_NR; ph++) {
		double t0;
		double t1;

		uint64_t cc0;
		uint64_t sc0;
		uint64_t w0[PERF_WAL_N] = {0};
		uint64_t w1[PERF_WAL_N] = {0};
		double per;

		if (rpcs != NULL)
			perf_wal_counts(pr->pr_addr, w0);
		dc_obj_rpc_counts(c0);
		cc0 = perf_self_cpu_ns();
		sc0 = perf_proc_cpu_ns(pr->pr_srv_pid);
		pthread_barrier_wait(&pr->pr_bar);
		pthread_barrier_wait(&pr->pr_bar);
		per = ph <= F_REMOVE ? files : bytes / 1048576;
		pr->pr_cpu[ph][0] = (double)(perf_self_cpu_ns() - cc0) / 1e3 / per;
		pr->pr_cpu[ph][1] = (double)(perf_proc_cpu_ns(pr->pr_srv_pid) - sc0) / 1e3 / per;
		dc_obj_rpc_counts(c1);
		t0 = pts[0].pt_t0[ph];
		t1 = pts[0].pt_t1[ph];
		for (i = 1; i < pr->pr_threads; i++) {
			t0 = pts[i].pt_t0[ph] < t0 ? pts[i].pt_t0[ph] : t0;
			t1 = pts[i].pt_t1[ph] > t1 ? pts[i].pt_t1[ph] : t1;
		}
		t = t1 - t0;
		if (rpcs != NULL) {
			perf_wal_counts(pr->pr_addr, w1);
			pr->pr_wal[ph][0] = (double)(w1[0] - w0[0]) / t;
			pr->pr_wal[ph][1] = (double)(w1[1] - w0[1]) / t;
			/*
			 * Each create is one durable update: a record, in some flush. (Flushes
			 * may outnumber records: a checkpoint's header write is a flush too,
			 * and a record counted before the phase may be flushed in it.)
			 */
			if (ph == F_CREATE && (w1[0] - w0[0] < (uint64_t)files || w1[1] == w0[1])) {
				fprintf(stderr,
					"dfs_perf: the server's WAL metrics are wrong: %" PRIu64
					" records, %" PRIu64 " flushes for %.0f creates\n",
					w1[0] - w0[0], w1[1] - w0[1], files);
				exit(1);
			}
		}
		fig[ph] = ph <= F_REMOVE ? files / t : bytes / t / 1e6;
		for (i = 0; rpcs != NULL && i < DC_OBJ_RPC_NR; i++)
			rpcs[ph][i] = (double)(c1[i] - c0[i]) / per;
	}
	pthread_barrier_wait(&pr->pr_bar);
	for (i = 0; i < pr->pr_threads; i++)
		pthread_join(pts[i].pt_tid, NULL);
	pthread_barrier_destroy(&pr->pr_bar);
	if (pr->pr_rc != 0)
		die(pr->pr_what, pr->pr_rc);
}

static void
run_dfs(struct perf_run *pr, int run, char **bufs, double fig[F_NR],
	double rpcs[F_NR][DC_OBJ_RPC_NR])
{
	int rc;

	snprintf(pr->pr_path, sizeof(pr->pr_path), "run%d", run);
	rc = dfs_mkdir(pr->pr_dfs, NULL, pr->pr_path, 0755, 0);
	if (rc == 0)
		rc = dfs_lookup_rel(pr->pr_dfs, NULL, pr->pr_path, O_RDWR, &pr->pr_dir, NULL, NULL);
	if (rc != 0)
		die("mkdir", rc);
	perf_run(pr, bufs, fig, rpcs);
	dfs_release(pr->pr_dir);
	pr->pr_dir = NULL;
}

static void
run_local(struct perf_run *pr, const char *base, int run, char **bufs, double fig[F_NR])
{
	snprintf(pr->pr_path, sizeof(pr->pr_path), "%s/dfs_perf.%d.%d", base, (int)getpid(), run);
	if (mkdir(pr->pr_path, 0755) != 0)
		die(pr->pr_path, errno);
	perf_run(pr, bufs, fig, NULL);
	rmdir(pr->pr_path);
}

static const char *rpc_names[DC_OBJ_RPC_NR] = {"update", "fetch", "punch", "list", "query"};

/* -v: the object RPCs of each libdfs phase, per file (per MiB for streaming). */
static void
rpcs_print(int run, double rpcs[F_NR][DC_OBJ_RPC_NR], double cpu[F_NR][2], double wal[F_NR][2])
{
	int ph;
	int i;

	for (ph = 0; ph < F_NR; ph++) {
		printf("  run %d RPCs per %s of %-7s", run, ph <= F_REMOVE ? "file" : "MiB ",
		       ph == F_CREATE   ? "create"
		       : ph == F_STAT   ? "stat"
		       : ph == F_REMOVE ? "remove"
		       : ph == F_WRITE  ? "write"
					: "read");
		for (i = 0; i < DC_OBJ_RPC_NR; i++)
			printf(" %s %.2f", rpc_names[i], rpcs[ph][i]);
		printf("; cpu us client %.1f server %.1f; WAL records %.0f/s flushes %.0f/s\n",
		       cpu[ph][0], cpu[ph][1], wal[ph][0], wal[ph][1]);
	}
}

int
main(int argc, char **argv)
{
	double dfig[MAX_RUNS][F_NR];
	double lfig[MAX_RUNS][F_NR];
	double rpcs[F_NR][DC_OBJ_RPC_NR];
	double dcpu[F_NR][2];
	double dwal[F_NR][2];
	struct perf_run pr = {0};
	char *bufs[MAX_THREADS];
	const char *local = "/tmp";
	int nfiles = 5000;
	size_t mib = 256;
	size_t block = 1024 * 1024;
	int threads = 1;
	bool verbose = false;
	bool no_local = false;
	int runs = 3;
	daos_handle_t poh;
	daos_handle_t coh;
	uuid_t puuid;
	uuid_t cuuid;
	dfs_t *dfs;
	int opt;
	int rc;
	int r;
	int k;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr,
			"usage: %s MGMT_ADDR [-n FILES] [-m MIB] [-b KIB] [-r RUNS] "
			"[-d LOCAL_DIR] [-t THREADS] [-u] [-v] [-L]\n",
			argv[0]);
		return 2;
	}
	optind = 2;
	while ((opt = getopt(argc, argv, "n:m:b:r:d:t:uvL")) != -1) {
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
		case 't':
			threads = atoi(optarg);
			break;
		case 'u':
			pr.pr_unique = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'L':
			no_local = true;
			break;
		default:
			return 2;
		}
	}
	if (nfiles <= 0 || runs <= 0 || runs > MAX_RUNS || block == 0 || threads <= 0 ||
	    threads > MAX_THREADS || nfiles % threads != 0 ||
	    (mib << 20) % ((size_t)threads * block) != 0) {
		fprintf(stderr,
			"dfs_perf: bad arguments (FILES must be a multiple of THREADS, MIB "
			"of THREADS * BLOCK; at most %d threads)\n",
			MAX_THREADS);
		return 2;
	}
	pr.pr_threads = threads;
	pr.pr_addr = argv[1];
	pr.pr_srv_pid = getenv("DAOS_PERF_SERVER_PID") ? atoi(getenv("DAOS_PERF_SERVER_PID")) : 0;
	pr.pr_files = nfiles / threads;
	pr.pr_bytes = (mib << 20) / (size_t)threads;
	pr.pr_block = block;
	for (k = 0; k < threads; k++) {
		bufs[k] = malloc(block);
		if (bufs[k] == NULL)
			die("malloc", ENOMEM);
		for (size_t i = 0; i < block; i++)
			bufs[k][i] = (char)(i * 131 + 7);
	}

	uuid_generate(puuid);
	rc = sys_pool_create(argv[1], puuid);
	if (rc != 0) {
		fprintf(stderr, "pool create: %s\n", d_errstr(rc));
		return 1;
	}
	if (daos_init() != 0 || sys_pool_connect(argv[1], puuid, &poh) != 0) {
		fprintf(stderr, "setting up the pool handle failed\n");
		return 1;
	}
	rc = sys_cont_create(poh, cuuid);
	if (rc == 0)
		rc = sys_cont_open(poh, cuuid, DAOS_COO_RW, &coh);
	if (rc != 0) {
		fprintf(stderr, "container open: %s\n", d_errstr(rc));
		return 1;
	}
	rc = dfs_mount(poh, coh, O_RDWR, &dfs);
	if (rc != 0)
		die("mount", rc);
	pr.pr_dfs = dfs;

	printf("dfs_perf: %d files, %zu MiB in %zu KiB calls, %d thread%s%s, %d runs; local dir "
	       "%s\n",
	       nfiles, mib, block / 1024, threads, threads > 1 ? "s" : "",
	       pr.pr_unique ? " (a directory each)" : "", runs, local);
	for (r = 0; r < runs; r++) {
		pr.pr_local = false;
		run_dfs(&pr, r, bufs, dfig[r], rpcs);
		memcpy(dcpu, pr.pr_cpu, sizeof(dcpu));
		memcpy(dwal, pr.pr_wal, sizeof(dwal));
		pr.pr_local = true;
		if (no_local)
			memset(lfig[r], 0, sizeof(lfig[r]));
		else
			run_local(&pr, local, r, bufs, lfig[r]);
		printf("run %d:", r);
		for (k = 0; k < F_NR; k++)
			printf(" %s %.0f/%.0f;", fig_names[k], dfig[r][k], lfig[r][k]);
		printf("  (dfs/local)\n");
		if (verbose)
			rpcs_print(r, rpcs, dcpu, dwal);
		fflush(stdout);
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
	for (k = 0; k < threads; k++)
		free(bufs[k]);
	return 0;
}
