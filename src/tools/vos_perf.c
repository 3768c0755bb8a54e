/*
 * vos_perf.c: benchmark of one VOS pool shard driven by one thread, as a target xstream
 * drives it (a tool, not a test). It sits on the public VOS API (daos_srv/vos.h) plus
 * vos_pool_abandon from src/vos/vos_internal.h for the crash reopen.
 *
 * Figures, each run for a duration (or an op count) on the same pool:
 *   - WAL off (index only): update and fetch rates of single values and array extents,
 *     one new (dkey, akey) per update over a few objects; fetches read back the keys
 *     written. The pool is reopened with VOS_POF_NO_WAL for them: no redo record, nothing
 *     appended to the WAL, no checkpoint (the close before the next figure writes the
 *     dirty pages, untimed). vos_pool_poll every POLL_EVERY updates, as an xstream would.
 *   - WAL async: the same updates on the pool opened as usual, never waiting for
 *     durability: every update encodes its redo record, and the WAL flushes and
 *     checkpoints in the background through vos_pool_poll (what "WAL off" measured
 *     before session 9).
 *   - WAL on: N updates issued, then vos_pool_wait on the last LSN (the N share flushes);
 *     durable updates per second and GB/s.
 *   - WAL on, ULTs (-u): N ULTs of an engine xstream (daos_sched), each updating and
 *     waiting for its own update's durability in a loop, as N requests of a target would;
 *     the pool's wait hook parks the ULT and the xstream's poller (vos_pool_poll, armed
 *     with vos_pool_arm, sleeping on vos_pool_fd) wakes it, as srv_vos.c does. So the
 *     data writes of N updates are in flight together (one thread driving VOS directly
 *     waits for each update's write before it can issue the next).
 *   - reopen of a shard holding many small keys: vos_pool_close + vos_pool_open, then a
 *     crash (vos_pool_abandon after the WAL is durable) and an open that replays the WAL.
 * Beside them, measured in the same run: memcpy bandwidth and the raw rate of 4 KiB
 * overwrite + fdatasync of a preallocated file in the pool's directory (as wal_perf does),
 * at the start and at the end (a shared disk drifts).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <gurt/common.h>
#include <daos_srv/sched.h>
#include <daos_srv/vos.h>

#include "../vos/vos_internal.h"

#define NOBJ 4         /* objects the keys are spread over */
#define NAKEY 4        /* akeys per dkey */
#define POLL_EVERY 64  /* WAL off: vos_pool_poll every this many updates */
#define CHECK_EVERY 16 /* check the clock every this many ops */
#define MAX_LIST 8
#define MAX_FIGS 128
#define MIB ((uint64_t)1 << 20)
#define RAW_FILE_SIZE (64 * MIB)
#define MEMCPY_BUF (64 * MIB)
#define KEYS_FULL 1000000ULL
#define KEYS_FALLBACK 100000ULL
#define BUILD_LIMIT_S 60.0
#define HEAP_PER_KEY 1024ULL /* heap budget of one 64 B key, with room to spare */

enum val_type {
	VT_SINGLE,
	VT_ARRAY,
};

/* What a figure is compared with (the targets). */
enum tgt_kind {
	TGT_NONE,
	TGT_MIN_RATE, /* ops/s at least */
	TGT_MIN_GBS,  /* GB/s at least */
	TGT_MAX_SECS, /* seconds at most */
};

struct fig {
	char f_section[16]; /* raw, wal_off, wal_async, wal_on, wal_on_ult, reopen */
	char f_name[64];
	uint32_t f_depth; /* WAL on: updates in flight */
	uint64_t f_ops;
	double f_secs;
	double f_value; /* ops/s, GB/s or seconds (see f_unit) */
	double f_gbs;   /* 0 when not a data rate */
	const char *f_unit;
	enum tgt_kind f_tgt;
	double f_tgt_val;
	uint64_t f_ckpts;      /* checkpoints taken during the figure */
	double f_wal_pct;      /* of its time in vos_pool_poll / vos_pool_wait */
	double f_max_stall;    /* WAL off updates: the longest one, in seconds */
	double f_max_poll_cpu; /* WAL off: the most CPU a vos_pool_poll took, in seconds */
	char f_note[320];
};

struct cfg {
	const char *c_parent;
	double c_secs;
	uint64_t c_ops;
	uint32_t c_depths[MAX_LIST];
	unsigned int c_ndepths;
	uint32_t c_ults[MAX_LIST]; /* WAL on from ULTs: how many (none: no such figures) */
	unsigned int c_nult;
	uint64_t c_ult_min; /* ... for values of at least this many bytes */
	uint64_t c_sv[MAX_LIST];
	unsigned int c_nsv;
	uint64_t c_ar[MAX_LIST];
	unsigned int c_nar;
	uint64_t c_keys;  /* keys of the reopen shard; 0: no reopen figures */
	bool c_keys_auto; /* c_keys, or KEYS_FALLBACK if they would take too long to build */
	uint64_t c_scm_mib;
	uint64_t c_data_mib;
	uint64_t c_wal_mib; /* 0: the pool's default */
	double c_raw_secs;
	bool c_raw_io; /* raw 1 MiB data-file write and read rates too (data-file values) */
	bool c_json;
	bool c_quick;
};

/* The pool under test and the key space of its updates. */
struct bench {
	daos_handle_t b_poh;
	daos_handle_t b_coh;
	uuid_t b_pool_uuid;
	uuid_t b_cont_uuid;
	daos_unit_oid_t b_oids[NOBJ];
	uint64_t b_next;    /* next key index (unique per pool) */
	uint64_t b_epoch;   /* last epoch used */
	uint64_t b_size[3]; /* the pool's heap, data file and WAL sizes, for bench_pool_fresh */
	char *b_buf;        /* update source */
	char *b_out;        /* fetch destination */
};

static struct fig figs[MAX_FIGS];
static unsigned int nfigs;
static bool json_out;

/* Paths removed at exit (also from a signal handler: unlink and rmdir only). */
static char tmp_dir[PATH_MAX];
static char clean_paths[16][PATH_MAX + 16];
static unsigned int nclean;

static void
cleanup_files(void)
{
	unsigned int i;

	for (i = 0; i < nclean; i++) {
		if (strchr(clean_paths[i], '\0')[-1] == '/')
			rmdir(clean_paths[i]);
		else
			unlink(clean_paths[i]);
	}
	if (tmp_dir[0] != '\0')
		rmdir(tmp_dir);
}

static void
on_signal(int sig)
{
	cleanup_files();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	va_list ap;

	if (json_out)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vos_perf: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Register the files of pool directory @dir (and the directory) for removal at exit. */
static void
clean_add_pool(const char *dir)
{
	static const char *const files[] = {"meta", "wal", "data"};
	size_t i;

	if (nclean + D_ARRAY_SIZE(files) + 1 > D_ARRAY_SIZE(clean_paths))
		die("too many pools\n");
	for (i = 0; i < D_ARRAY_SIZE(files); i++)
		snprintf(clean_paths[nclean++], sizeof(clean_paths[0]), "%s/%s", dir, files[i]);
	snprintf(clean_paths[nclean++], sizeof(clean_paths[0]), "%s/", dir);
}

static double
now_s(void)
{
	return (double)d_now_ns() / 1e9;
}

/* CPU time of this thread (which runs the xstream of the ULT figures), in seconds. */
static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Voluntary context switches (sleeps) of this thread so far. */
static uint64_t
sleeps(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (uint64_t)ru.ru_nvcsw;
}

static struct fig *
fig_add(const char *section, const char *name)
{
	struct fig *f;

	if (nfigs == MAX_FIGS)
		die("too many figures\n");
	f = &figs[nfigs++];
	memset(f, 0, sizeof(*f));
	snprintf(f->f_section, sizeof(f->f_section), "%s", section);
	snprintf(f->f_name, sizeof(f->f_name), "%s", name);
	return f;
}

static bool
fig_met(const struct fig *f)
{
	switch (f->f_tgt) {
	case TGT_MIN_RATE:
		return f->f_value >= f->f_tgt_val;
	case TGT_MIN_GBS:
		return f->f_gbs >= f->f_tgt_val;
	case TGT_MAX_SECS:
		return f->f_value <= f->f_tgt_val;
	default:
		return true;
	}
}

/* "target >= 300000 /s: met" (empty when the figure has no target) */
static const char *
fig_target_str(const struct fig *f, char *buf, size_t len)
{
	const char *met = fig_met(f) ? "met" : "MISSED";

	switch (f->f_tgt) {
	case TGT_MIN_RATE:
		snprintf(buf, len, "target >= %.0f /s: %s", f->f_tgt_val, met);
		break;
	case TGT_MIN_GBS:
		snprintf(buf, len, "target >= %.1f GB/s: %s", f->f_tgt_val, met);
		break;
	case TGT_MAX_SECS:
		snprintf(buf, len, "target <= %.1f s: %s", f->f_tgt_val, met);
		break;
	default:
		buf[0] = '\0';
	}
	return buf;
}

static void
size_str(uint64_t size, char *buf, size_t len)
{
	if (size >= MIB && size % MIB == 0)
		snprintf(buf, len, "%" PRIu64 " MiB", size / MIB);
	else if (size >= 1024 && size % 1024 == 0)
		snprintf(buf, len, "%" PRIu64 " KiB", size / 1024);
	else
		snprintf(buf, len, "%" PRIu64 " B", size);
}

/* Raw limits. */

/* Large-buffer memcpy bandwidth in GB/s, buffers touched first. */
static double
raw_memcpy(double secs)
{
	char *src = malloc(MEMCPY_BUF);
	char *dst = malloc(MEMCPY_BUF);
	volatile char sink;
	uint64_t n = 0;
	double t0;

	if (src == NULL || dst == NULL)
		die("out of memory\n");
	memset(src, 0x5a, MEMCPY_BUF);
	memset(dst, 0xa5, MEMCPY_BUF);
	t0 = now_s();
	do {
		memcpy(dst, src, MEMCPY_BUF);
		src[n % MEMCPY_BUF] = (char)n;
		n++;
	} while (now_s() - t0 < secs);
	t0 = now_s() - t0;
	sink = dst[n % MEMCPY_BUF];
	(void)sink;
	free(src);
	free(dst);
	return (double)(n * MEMCPY_BUF) / t0 / 1e9;
}

/* 4 KiB overwrite + fdatasync of a preallocated file in @dir, one at a time, per second. */
static double
raw_fdatasync(const char *dir, double secs)
{
	char path[PATH_MAX + 16];
	uint64_t n = 0;
	void *buf;
	double t0;
	int fd;

	snprintf(path, sizeof(path), "%s/raw", dir);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC | O_DIRECT, 0600);
	if (fd < 0 && errno == EINVAL) /* no O_DIRECT here (tmpfs) */
		fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0 || posix_memalign(&buf, 4096, MIB) != 0)
		die("raw file %s: %s\n", path, strerror(errno));
	memset(buf, 0x5a, MIB);
	if (fallocate(fd, 0, 0, RAW_FILE_SIZE) != 0)
		die("fallocate %s: %s\n", path, strerror(errno));
	for (uint64_t off = 0; off < RAW_FILE_SIZE; off += MIB)
		if (pwrite(fd, buf, MIB, (off_t)off) != (ssize_t)MIB)
			die("pwrite %s: %s\n", path, strerror(errno));
	if (fdatasync(fd) != 0)
		die("fdatasync %s: %s\n", path, strerror(errno));
	t0 = now_s();
	do {
		off_t off = (off_t)((n * 4096) % RAW_FILE_SIZE);

		if (pwrite(fd, buf, 4096, off) != 4096 || fdatasync(fd) != 0)
			die("raw write %s: %s\n", path, strerror(errno));
		n++;
	} while (now_s() - t0 < secs);
	t0 = now_s() - t0;
	close(fd);
	unlink(path);
	free(buf);
	return (double)n / t0;
}

#define RAW_IO_FILE (128 * MIB)
#define RAW_IO_FILE_QUICK (16 * MIB)

/*
 * 1 MiB O_DIRECT writes (@write; @depth per batch, then one fdatasync, as a WAL flush
 * syncs the data of the updates it carries) or reads (@depth per batch) of a written
 * file in @dir, through bio's data-file ring (requests as VOS issues them), in GB/s.
 */
static double
raw_data_io(const char *dir, double secs, bool write, uint32_t depth, uint64_t fsize)
{
	char path[PATH_MAX + 16];
	struct bio_data *bd;
	uint64_t n = 0, slots = fsize / MIB;
	char *buf;
	double t0;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/raw_io", dir);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0 || posix_memalign((void **)&buf, 4096, depth * MIB) != 0)
		die("raw file %s: %s\n", path, strerror(errno));
	memset(buf, 0x5a, depth * MIB);
	/* written, not only allocated: reads of unwritten extents never reach the device */
	for (uint64_t off = 0; off < fsize; off += MIB)
		if (pwrite(fd, buf, MIB, (off_t)off) != (ssize_t)MIB)
			die("pwrite %s: %s\n", path, strerror(errno));
	if (fsync(fd) != 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
		die("fsync %s: %s\n", path, strerror(errno));
	rc = bio_data_open(path, &bd);
	if (rc != 0)
		die("bio_data_open %s: %s\n", path, d_errstr(rc));
	t0 = now_s();
	do {
		struct bio_data_batch *bb;
		uint32_t i;

		rc = bio_data_batch_get(bd, &bb);
		for (i = 0; i < depth && rc == 0; i++) {
			struct iovec iov = {.iov_base = buf + i * MIB, .iov_len = MIB};
			uint64_t off = ((n + i) * 7919 % slots) * MIB;

			rc = write ? bio_data_write(bb, off, &iov, 1)
				   : bio_data_read(bb, off, &iov, 1);
		}
		if (rc == 0)
			rc = bio_data_submit_wait(bb, NULL, NULL);
		if (rc == 0 && write && fdatasync(bio_data_fd(bd)) != 0)
			rc = d_errno2der(errno);
		if (rc != 0)
			die("raw %s: %s\n", write ? "write" : "read", d_errstr(rc));
		n += depth;
	} while (now_s() - t0 < secs);
	t0 = now_s() - t0;
	bio_data_close(bd);
	close(fd);
	unlink(path);
	free(buf);
	return (double)(n * MIB) / t0 / 1e9;
}

static void
raw_limits(const struct cfg *cfg, const char *when)
{
	struct fig *f;

	f = fig_add("raw", "memcpy");
	f->f_value = raw_memcpy(cfg->c_raw_secs);
	f->f_unit = "GB/s";
	snprintf(f->f_note, sizeof(f->f_note), "%s, one core, %" PRIu64 " MiB buffers", when,
		 MEMCPY_BUF / MIB);
	say("  memcpy                      %10.1f GB/s  (%s)\n", f->f_value, f->f_note);
	f = fig_add("raw", "fdatasync");
	f->f_value = raw_fdatasync(tmp_dir, cfg->c_raw_secs);
	f->f_unit = "syncs/s";
	snprintf(f->f_note, sizeof(f->f_note),
		 "%s, 4 KiB overwrite + fdatasync of a preallocated file", when);
	say("  4 KiB write + fdatasync     %10.0f /s    (%s, one at a time, %.1f us each)\n",
	    f->f_value, when, 1e6 / f->f_value);
	if (!cfg->c_raw_io)
		return;
	f = fig_add("raw", "data write 1 MiB x8 + fdatasync");
	f->f_value = raw_data_io(tmp_dir, cfg->c_raw_secs, true, 8,
				 cfg->c_quick ? RAW_IO_FILE_QUICK : RAW_IO_FILE);
	f->f_unit = "GB/s";
	snprintf(f->f_note, sizeof(f->f_note),
		 "%s, O_DIRECT through bio's ring, 8 in flight, one fdatasync per 8", when);
	say("  1 MiB O_DIRECT write x8+sync %9.2f GB/s  (%s)\n", f->f_value, f->f_note);
	f = fig_add("raw", "data read 1 MiB x4");
	f->f_value = raw_data_io(tmp_dir, cfg->c_raw_secs, false, 4,
				 cfg->c_quick ? RAW_IO_FILE_QUICK : RAW_IO_FILE);
	f->f_unit = "GB/s";
	snprintf(f->f_note, sizeof(f->f_note),
		 "%s, O_DIRECT through bio's ring, 4 values (16 requests) in flight", when);
	say("  1 MiB O_DIRECT read x4       %9.2f GB/s  (%s)\n", f->f_value, f->f_note);
}

/* The key space: key @idx is akey idx/NOBJ % NAKEY of dkey idx/NOBJ/NAKEY of object idx%NOBJ. */

struct op {
	daos_key_t o_dkey;
	daos_iod_t o_iod;
	daos_recx_t o_recx;
	d_sg_list_t o_sgl;
	d_iov_t o_iov;
	uint64_t o_dkey_val;
	char o_akey[4];
};

static daos_unit_oid_t
op_prep(struct bench *b, struct op *op, uint64_t idx, enum val_type vt, uint64_t size, char *buf,
	bool fetch)
{
	memset(op, 0, sizeof(*op));
	op->o_dkey_val = idx / NOBJ / NAKEY;
	d_iov_set(&op->o_dkey, &op->o_dkey_val, sizeof(op->o_dkey_val));
	op->o_akey[0] = 'a';
	op->o_akey[1] = (char)('0' + idx / NOBJ % NAKEY);
	d_iov_set(&op->o_iod.iod_name, op->o_akey, 2);
	op->o_iod.iod_nr = 1;
	if (vt == VT_SINGLE) {
		op->o_iod.iod_type = DAOS_IOD_SINGLE;
		op->o_iod.iod_size = fetch ? DAOS_REC_ANY : size;
	} else {
		op->o_iod.iod_type = DAOS_IOD_ARRAY;
		op->o_iod.iod_size = 1;
		op->o_recx.rx_idx = 0;
		op->o_recx.rx_nr = size;
		op->o_iod.iod_recxs = &op->o_recx;
	}
	d_iov_set(&op->o_iov, buf, size);
	op->o_sgl.sg_nr = 1;
	op->o_sgl.sg_iovs = &op->o_iov;
	return b->b_oids[idx % NOBJ];
}

/* Update key @idx with a @size-byte value stamped with @idx. */
static int
bench_update(struct bench *b, uint64_t idx, enum val_type vt, uint64_t size)
{
	daos_unit_oid_t oid;
	struct op op;

	memcpy(b->b_buf, &idx, size < sizeof(idx) ? size : sizeof(idx));
	oid = op_prep(b, &op, idx, vt, size, b->b_buf, false);
	return vos_obj_update(b->b_coh, oid, ++b->b_epoch, 0, 0, &op.o_dkey, 1, &op.o_iod, NULL,
			      &op.o_sgl);
}

/* Fetch key @idx and check that it holds what bench_update wrote. */
static int
bench_fetch(struct bench *b, uint64_t idx, enum val_type vt, uint64_t size)
{
	daos_unit_oid_t oid;
	struct op op;
	int rc;

	oid = op_prep(b, &op, idx, vt, size, b->b_out, true);
	rc = vos_obj_fetch(b->b_coh, oid, DAOS_EPOCH_MAX, 0, &op.o_dkey, 1, &op.o_iod, &op.o_sgl);
	if (rc != 0)
		return rc;
	if (op.o_iov.iov_len != size ||
	    memcmp(b->b_out, &idx, size < sizeof(idx) ? size : sizeof(idx)) != 0) {
		fprintf(stderr,
			"vos_perf: key %" PRIu64 " read back %zu bytes, not what was "
			"written\n",
			idx, op.o_iov.iov_len);
		return -DER_IO;
	}
	return 0;
}

static void
bench_pool_create(struct bench *b, const char *path, uint64_t scm, uint64_t data, uint64_t wal)
{
	int rc;

	memset(b->b_oids, 0, sizeof(b->b_oids));
	b->b_size[0] = scm;
	b->b_size[1] = data;
	b->b_size[2] = wal;
	uuid_generate(b->b_pool_uuid);
	uuid_generate(b->b_cont_uuid);
	rc = vos_pool_create(path, b->b_pool_uuid, scm, data, wal, NULL, &b->b_poh);
	if (rc == 0)
		rc = vos_cont_create(b->b_poh, b->b_cont_uuid);
	if (rc == 0)
		rc = vos_cont_open(b->b_poh, b->b_cont_uuid, &b->b_coh);
	if (rc != 0)
		die("pool %s (heap %" PRIu64 " MiB, data %" PRIu64 " MiB): %s\n", path, scm / MIB,
		    data / MIB, d_errstr(rc));
	for (int i = 0; i < NOBJ; i++) {
		b->b_oids[i].id_pub.lo = (uint64_t)i + 1;
		b->b_oids[i].id_pub.hi = 0x5eed;
		daos_obj_set_oid(&b->b_oids[i].id_pub, DAOS_OT_MULTI_HASHED, 0, 1, 0);
	}
	b->b_next = 0;
	b->b_epoch = 0;
}

static void
bench_drain(struct bench *b)
{
	int rc = vos_pool_wait(b->b_poh, vos_pool_last_lsn(b->b_poh));

	if (rc != 0)
		die("vos_pool_wait: %s\n", d_errstr(rc));
}

/* Bytes of redo records appended to the pool's WAL so far. */
static uint64_t
bench_wal_bytes(struct bench *b)
{
	struct bio_wal_stats ws;

	bio_wal_query(vos_hdl2pool(b->b_poh)->vp_wal, &ws);
	return ws.ws_append_bytes;
}

/* WAL flushes submitted so far. */
static uint64_t
bench_wal_flushes(struct bench *b)
{
	struct bio_wal_stats ws;

	bio_wal_query(vos_hdl2pool(b->b_poh)->vp_wal, &ws);
	return ws.ws_flushes;
}

/* Data-file syncs the WAL's flushes made so far. */
static uint64_t
bench_dep_syncs(struct bench *b)
{
	struct bio_wal_stats ws;

	bio_wal_query(vos_hdl2pool(b->b_poh)->vp_wal, &ws);
	return ws.ws_dep_syncs;
}

/* Commits that found the WAL full so far (each ran a checkpoint to completion). */
static uint64_t
bench_wal_full(struct bench *b)
{
	return vos_hdl2pool(b->b_poh)->vp_nwal_full;
}

static uint64_t
bench_ckpts(struct bench *b)
{
	struct vos_pool_info pi;

	vos_pool_query(b->b_poh, &pi);
	return pi.pi_checkpoints;
}

/* Room left for @n more updates of @size bytes? (heap: keep 5%, data: whole blocks) */
static bool
bench_room(struct bench *b, uint64_t n, uint64_t size)
{
	struct vos_pool_info pi;
	uint64_t blocks = (size + VOS_BLK_SIZE - 1) / VOS_BLK_SIZE * VOS_BLK_SIZE;

	vos_pool_query(b->b_poh, &pi);
	if (pi.pi_scm_free <
	    pi.pi_scm_total / 20 + n * (size < VOS_DATA_THRESH ? size : 0) + n * 1024)
		return false;
	return size < VOS_DATA_THRESH || pi.pi_data_free >= n * blocks + 16 * MIB;
}

struct run {
	uint64_t r_ops;
	double r_secs;
	uint64_t r_ckpts;
	double r_wal_secs;  /* in vos_pool_poll and vos_pool_wait */
	double r_max_stall; /* WAL off: the longest update (with its poll, if any) */
	/* WAL off: the most CPU one vos_pool_poll took (a checkpoint step): the stall our
	 * code imposes, which preemption by other processes does not inflate */
	double r_max_poll_cpu;
	uint64_t r_wal_full;  /* updates that found the WAL full: a blocking checkpoint */
	uint64_t r_wal_bytes; /* bytes of redo records appended to the WAL */
	uint64_t r_flushes;   /* WAL flushes submitted */
	uint64_t r_dsyncs;    /* data-file syncs of the WAL */
	double r_cpu;         /* CPU seconds of this thread */
	uint64_t r_sleeps;    /* its voluntary context switches */
	const char *r_stop;   /* why it ended early, or NULL */
};

static bool
run_done(const struct cfg *cfg, double t0, uint64_t ops)
{
	if (cfg->c_ops != 0 && ops >= cfg->c_ops)
		return true;
	return ops % CHECK_EVERY == 0 && now_s() - t0 >= cfg->c_secs;
}

/*
 * WAL off / async: update new keys for the run's length without waiting for durability;
 * vos_pool_poll every POLL_EVERY updates (async: it flushes the WAL and checkpoints behind
 * them). Called through run_update_nowal / run_update_async, so that a callgrind profile
 * tells the two apart.
 */
static struct run
run_update(const struct cfg *cfg, struct bench *b, enum val_type vt, uint64_t size, uint64_t *first)
{
	struct run r = {0};
	uint64_t ck = bench_ckpts(b), wf = bench_wal_full(b), wb = bench_wal_bytes(b);
	uint64_t fl = bench_wal_flushes(b), ds0 = bench_dep_syncs(b);
	double c0 = cpu_s();
	uint64_t sl = sleeps();
	double t0 = now_s();
	int rc;

	double ts = t0, te;

	*first = b->b_next;
	while (!run_done(cfg, t0, r.r_ops)) {
		if (r.r_ops % 256 == 0 && !bench_room(b, 256, size)) {
			r.r_stop = "pool full";
			break;
		}
		ts = now_s();
		rc = bench_update(b, b->b_next, vt, size);
		if (rc == -DER_NOSPACE) {
			r.r_stop = "pool full";
			break;
		}
		if (rc != 0)
			die("update: %s\n", d_errstr(rc));
		b->b_next++;
		r.r_ops++;
		if (r.r_ops % POLL_EVERY == 0) {
			double tp = now_s(), cp = cpu_s();

			rc = vos_pool_poll(b->b_poh);
			if (rc < 0)
				die("vos_pool_poll: %s\n", d_errstr(rc));
			r.r_wal_secs += now_s() - tp;
			cp = cpu_s() - cp;
			if (cp > r.r_max_poll_cpu)
				r.r_max_poll_cpu = cp;
		}
		te = now_s();
		if (te - ts > r.r_max_stall)
			r.r_max_stall = te - ts;
	}
	r.r_secs = now_s() - t0;
	r.r_ckpts = bench_ckpts(b) - ck;
	r.r_wal_full = bench_wal_full(b) - wf;
	r.r_wal_bytes = bench_wal_bytes(b) - wb;
	r.r_flushes = bench_wal_flushes(b) - fl;
	r.r_dsyncs = bench_dep_syncs(b) - ds0;
	r.r_cpu = cpu_s() - c0;
	r.r_sleeps = sleeps() - sl;
	bench_drain(b);
	return r;
}

static struct run __attribute__((noipa))
run_update_nowal(const struct cfg *cfg, struct bench *b, enum val_type vt, uint64_t size,
		 uint64_t *first)
{
	return run_update(cfg, b, vt, size, first);
}

static struct run __attribute__((noipa))
run_update_async(const struct cfg *cfg, struct bench *b, enum val_type vt, uint64_t size,
		 uint64_t *first)
{
	return run_update(cfg, b, vt, size, first);
}

/* Fetch the @n keys written from @first on, round and round, for the run's length. */
static struct run
run_fetch(const struct cfg *cfg, struct bench *b, enum val_type vt, uint64_t size, uint64_t first,
	  uint64_t n)
{
	struct run r = {0};
	double t0 = now_s();
	int rc;

	if (n == 0)
		return r;
	while (!run_done(cfg, t0, r.r_ops)) {
		rc = bench_fetch(b, first + r.r_ops % n, vt, size);
		if (rc != 0)
			die("fetch of key %" PRIu64 ": %s\n", first + r.r_ops % n, d_errstr(rc));
		r.r_ops++;
	}
	r.r_secs = now_s() - t0;
	return r;
}

/* WAL on: @depth updates, then wait for the last one's LSN; repeat. */
static struct run
run_durable(const struct cfg *cfg, struct bench *b, enum val_type vt, uint64_t size, uint32_t depth)
{
	uint64_t check = depth > 256 ? depth : 256;
	uint64_t ck = bench_ckpts(b), wf = bench_wal_full(b), wb = bench_wal_bytes(b);
	uint64_t fl = bench_wal_flushes(b), ds0 = bench_dep_syncs(b);
	double c0 = cpu_s();
	uint64_t sl = sleeps();
	uint64_t next_check = 0;
	struct run r = {0};
	double t0 = now_s();
	double tw;
	uint32_t i;
	int rc;

	while ((cfg->c_ops == 0 || r.r_ops < cfg->c_ops) && now_s() - t0 < cfg->c_secs) {
		if (r.r_ops >= next_check) {
			if (!bench_room(b, check, size)) {
				r.r_stop = "pool full";
				break;
			}
			next_check = r.r_ops + check - depth;
		}
		for (i = 0; i < depth; i++) {
			rc = bench_update(b, b->b_next, vt, size);
			if (rc == -DER_NOSPACE) {
				r.r_stop = "pool full";
				break;
			}
			if (rc != 0)
				die("update: %s\n", d_errstr(rc));
			b->b_next++;
		}
		tw = now_s();
		rc = vos_pool_wait(b->b_poh, vos_pool_last_lsn(b->b_poh));
		if (rc != 0)
			die("vos_pool_wait: %s\n", d_errstr(rc));
		r.r_ops += i;
		if (r.r_stop == NULL) {
			rc = vos_pool_poll(b->b_poh);
			if (rc < 0)
				die("vos_pool_poll: %s\n", d_errstr(rc));
		}
		r.r_wal_secs += now_s() - tw;
		if (r.r_stop != NULL)
			break;
	}
	r.r_secs = now_s() - t0;
	r.r_ckpts = bench_ckpts(b) - ck;
	r.r_wal_full = bench_wal_full(b) - wf;
	r.r_wal_bytes = bench_wal_bytes(b) - wb;
	r.r_flushes = bench_wal_flushes(b) - fl;
	r.r_dsyncs = bench_dep_syncs(b) - ds0;
	r.r_cpu = cpu_s() - c0;
	r.r_sleeps = sleeps() - sl;
	return r;
}

/*
 * WAL on, from ULTs: @depth ULTs of one xstream update and wait for durability in a loop.
 * The wait hook parks a ULT on a condition variable that the pool's poller broadcasts
 * when its I/O moved (srv_vos.c's scheme), so the xstream runs the other ULTs meanwhile.
 */
struct ult_run {
	const struct cfg *ur_cfg;
	struct bench *ur_b;
	enum val_type ur_vt;
	uint64_t ur_size;
	struct dss_xstream *ur_xs;
	struct dss_mutex ur_mx;
	struct dss_cond ur_cv;
	uint32_t ur_waiters;
	uint64_t ur_seq; /* vos_pool_io_progress */
	double ur_t0;
	uint64_t ur_ops;
	double ur_wait_secs;
	const char *ur_stop;
	int ur_rc;
};

struct ult_worker {
	struct ult_run *uw_run;
	char *uw_buf;
};

#define ULT_WAIT_MAX_NS (1000 * 1000)

static int
ult_wait(void *arg)
{
	struct ult_run *ur = arg;

	if (dss_ult_self() == NULL)
		return bio_wal_wait_io(vos_hdl2pool(ur->ur_b->b_poh)->vp_wal);
	dss_mutex_lock(&ur->ur_mx);
	ur->ur_waiters++;
	dss_cond_timedwait(&ur->ur_cv, &ur->ur_mx, d_now_ns() + ULT_WAIT_MAX_NS);
	ur->ur_waiters--;
	dss_mutex_unlock(&ur->ur_mx);
	return 0;
}

static int
ult_poll(void *arg)
{
	struct ult_run *ur = arg;
	int n = vos_pool_poll(ur->ur_b->b_poh);

	if (ur->ur_waiters > 0 && (n != 0 || vos_pool_io_progress(ur->ur_b->b_poh, &ur->ur_seq)))
		dss_cond_broadcast(&ur->ur_cv);
	return n;
}

static int
ult_arm(void *arg)
{
	struct ult_run *ur = arg;

	return vos_pool_arm(ur->ur_b->b_poh);
}

static void
ult_worker(void *arg)
{
	struct ult_worker *uw = arg;
	struct ult_run *ur = uw->uw_run;
	struct bench *b = ur->ur_b;
	int rc;

	while (ur->ur_stop == NULL && ur->ur_rc == 0) {
		uint64_t idx = b->b_next++;
		daos_unit_oid_t oid;
		struct op op;
		double tw;

		if ((ur->ur_cfg->c_ops != 0 && ur->ur_ops >= ur->ur_cfg->c_ops) ||
		    now_s() - ur->ur_t0 >= ur->ur_cfg->c_secs)
			break;
		if (idx % 64 == 0 && !bench_room(b, 256, ur->ur_size)) {
			ur->ur_stop = "pool full";
			break;
		}
		memcpy(uw->uw_buf, &idx, ur->ur_size < sizeof(idx) ? ur->ur_size : sizeof(idx));
		oid = op_prep(b, &op, idx, ur->ur_vt, ur->ur_size, uw->uw_buf, false);
		rc = vos_obj_update(b->b_coh, oid, ++b->b_epoch, 0, 0, &op.o_dkey, 1, &op.o_iod,
				    NULL, &op.o_sgl);
		if (rc == -DER_NOSPACE) {
			ur->ur_stop = "pool full";
			break;
		}
		tw = now_s();
		if (rc == 0)
			rc = vos_pool_wait(b->b_poh, vos_pool_last_lsn(b->b_poh));
		ur->ur_wait_secs += now_s() - tw;
		if (rc != 0) {
			ur->ur_rc = rc;
			break;
		}
		ur->ur_ops++;
	}
}

struct ult_ctl {
	struct ult_run *uc_run;
	struct dss_ult **uc_ults;
	uint32_t uc_n;
};

/* Join the workers, then stop the xstream (dss_xstream_run returns). */
static void
ult_ctl(void *arg)
{
	struct ult_ctl *uc = arg;
	uint32_t i;

	for (i = 0; i < uc->uc_n; i++)
		dss_ult_join(uc->uc_ults[i]);
	dss_xstream_stop(uc->uc_run->ur_xs);
}

static struct run
run_durable_ult(const struct cfg *cfg, struct bench *b, enum val_type vt, uint64_t size,
		uint32_t depth)
{
	struct vos_pool *pool = vos_hdl2pool(b->b_poh);
	uint64_t ck = bench_ckpts(b), wf = bench_wal_full(b), wb = bench_wal_bytes(b);
	uint64_t fl = bench_wal_flushes(b), ds0 = bench_dep_syncs(b);
	double c0 = cpu_s();
	uint64_t sl = sleeps();
	struct ult_run ur = {.ur_cfg = cfg, .ur_b = b, .ur_vt = vt, .ur_size = size};
	struct ult_worker *uw;
	struct ult_ctl uc = {.uc_run = &ur, .uc_n = depth};
	struct run r = {0};
	uint32_t i;
	int rc;

	uw = calloc(depth, sizeof(*uw));
	uc.uc_ults = calloc(depth, sizeof(*uc.uc_ults));
	if (uw == NULL || uc.uc_ults == NULL)
		die("out of memory\n");
	rc = dss_xstream_create("vos_perf", NULL, &ur.ur_xs);
	if (rc != 0)
		die("xstream: %s\n", d_errstr(rc));
	dss_mutex_init(&ur.ur_mx);
	dss_cond_init(&ur.ur_cv);
	rc = dss_xstream_poller_add(ur.ur_xs, ult_poll, ult_arm, vos_pool_fd(b->b_poh), &ur, NULL);
	for (i = 0; i < depth && rc == 0; i++) {
		/* its own page-aligned source: the kernel reads it while the ULT is parked */
		if (posix_memalign((void **)&uw[i].uw_buf, 4096, size < 4096 ? 4096 : size) != 0)
			die("out of memory\n");
		memset(uw[i].uw_buf, 0x5a, size);
		uw[i].uw_run = &ur;
		rc = dss_ult_create(ur.ur_xs, ult_worker, &uw[i], 0, &uc.uc_ults[i]);
	}
	if (rc == 0)
		rc = dss_ult_create(ur.ur_xs, ult_ctl, &uc, 0, NULL);
	if (rc != 0)
		die("ULTs: %s\n", d_errstr(rc));
	pool->vp_attr.pa_wait = ult_wait;
	pool->vp_attr.pa_wait_arg = &ur;
	ur.ur_t0 = now_s();
	rc = dss_xstream_run(ur.ur_xs);
	r.r_secs = now_s() - ur.ur_t0;
	pool->vp_attr.pa_wait = NULL;
	pool->vp_attr.pa_wait_arg = NULL;
	if (rc != 0 || ur.ur_rc != 0)
		die("ULT run: %s\n", d_errstr(rc != 0 ? rc : ur.ur_rc));
	dss_xstream_destroy(ur.ur_xs);
	dss_cond_fini(&ur.ur_cv);
	dss_mutex_fini(&ur.ur_mx);
	for (i = 0; i < depth; i++)
		free(uw[i].uw_buf);
	free(uw);
	free(uc.uc_ults);
	r.r_ops = ur.ur_ops;
	r.r_stop = ur.ur_stop;
	/* the share of the ULTs' time spent waiting, averaged over them */
	r.r_wal_secs = ur.ur_wait_secs / depth;
	r.r_ckpts = bench_ckpts(b) - ck;
	r.r_wal_full = bench_wal_full(b) - wf;
	r.r_wal_bytes = bench_wal_bytes(b) - wb;
	r.r_flushes = bench_wal_flushes(b) - fl;
	r.r_dsyncs = bench_dep_syncs(b) - ds0;
	r.r_cpu = cpu_s() - c0;
	r.r_sleeps = sleeps() - sl;
	return r;
}

static void
fig_from_run(struct fig *f, const struct run *r, uint64_t size)
{
	f->f_ops = r->r_ops;
	f->f_secs = r->r_secs;
	f->f_value = r->r_secs > 0 ? (double)r->r_ops / r->r_secs : 0;
	f->f_gbs = f->f_value * (double)size / 1e9;
	f->f_unit = "ops/s";
	f->f_ckpts = r->r_ckpts;
	f->f_wal_pct = r->r_secs > 0 ? 100.0 * r->r_wal_secs / r->r_secs : 0;
	f->f_max_stall = r->r_max_stall;
	f->f_max_poll_cpu = r->r_max_poll_cpu;
	snprintf(f->f_note, sizeof(f->f_note), "%s%s%s", r->r_stop != NULL ? "stopped early: " : "",
		 r->r_stop != NULL ? r->r_stop : "", r->r_stop != NULL ? "; " : "");
	if (r->r_max_stall > 0)
		snprintf(f->f_note + strlen(f->f_note), sizeof(f->f_note) - strlen(f->f_note),
			 "longest update %.2f ms, longest poll %.2f ms CPU; ", r->r_max_stall * 1e3,
			 r->r_max_poll_cpu * 1e3);
	if (r->r_wal_bytes > 0 && r->r_ops > 0)
		snprintf(f->f_note + strlen(f->f_note), sizeof(f->f_note) - strlen(f->f_note),
			 "%.0f B of WAL an update; ", (double)r->r_wal_bytes / (double)r->r_ops);
	if (r->r_flushes > 0 && r->r_ops > 0)
		snprintf(f->f_note + strlen(f->f_note), sizeof(f->f_note) - strlen(f->f_note),
			 "%.1f updates and %.2f sleeps a WAL flush; ",
			 (double)r->r_ops / (double)r->r_flushes,
			 (double)r->r_sleeps / (double)r->r_flushes);
	if (r->r_dsyncs > 0)
		snprintf(f->f_note + strlen(f->f_note), sizeof(f->f_note) - strlen(f->f_note),
			 "%.2f data syncs a flush; ", (double)r->r_dsyncs / (double)r->r_flushes);
	if (r->r_cpu > 0 && r->r_ops > 0)
		snprintf(f->f_note + strlen(f->f_note), sizeof(f->f_note) - strlen(f->f_note),
			 "%.2f us CPU an update; ", r->r_cpu * 1e6 / (double)r->r_ops);
	if (r->r_ckpts > 0 || r->r_wal_full > 0)
		snprintf(f->f_note + strlen(f->f_note), sizeof(f->f_note) - strlen(f->f_note),
			 "WAL full %" PRIu64 " times; ", r->r_wal_full);
	if (strlen(f->f_note) >= 2)
		f->f_note[strlen(f->f_note) - 2] = '\0';
}

static void
fig_print(const struct fig *f)
{
	char tgt[64];

	fig_target_str(f, tgt, sizeof(tgt));
	say("  %-34s %9.0f /s %7.3f GB/s %8" PRIu64 " ops %5.2f s %3" PRIu64
	    " ckpt %3.0f%% wal  %s%s%s\n",
	    f->f_name, f->f_value, f->f_gbs, f->f_ops, f->f_secs, f->f_ckpts, f->f_wal_pct, tgt,
	    f->f_note[0] && tgt[0] ? "; " : "", f->f_note);
}

static void
kind_name(char *buf, size_t len, const char *what, enum val_type vt, uint64_t size)
{
	char sz[24];

	size_str(size, sz, sizeof(sz));
	snprintf(buf, len, "%s %s %s", what, vt == VT_SINGLE ? "single" : "array", sz);
}

/* Every figure of one value kind: WAL off update + fetch, then WAL on at each depth. */

/*
 * Print durable figure @r of @group: "durable single|array SIZE, @d @what", with issue 3's
 * targets: 64 B single values at 64 in flight (wal_on only) >= 100 K/s, 1 MiB arrays
 * >= 1.5 GB/s.
 */
static void
durable_fig(const char *group, const char *what, enum val_type vt, uint64_t size, uint32_t d,
	    const struct run *r)
{
	struct fig *f;
	char name[96];
	char sz[24];

	size_str(size, sz, sizeof(sz));
	snprintf(name, sizeof(name), "durable %s %s, %u %s", vt == VT_SINGLE ? "single" : "array",
		 sz, d, what);
	f = fig_add(group, name);
	fig_from_run(f, r, size);
	f->f_depth = d;
	if (strcmp(group, "wal_on") == 0 && vt == VT_SINGLE && size == 64 && d == 64) {
		f->f_tgt = TGT_MIN_RATE;
		f->f_tgt_val = 100000;
	} else if (vt == VT_ARRAY && size == MIB) {
		f->f_tgt = TGT_MIN_GBS;
		f->f_tgt_val = 1.5;
	}
	fig_print(f);
}

/* Close the rate pool (untimed: its checkpoint) and open it again with @flags. */
static void
bench_pool_reopen(struct bench *b, const char *path, unsigned int flags)
{
	int rc;

	rc = vos_cont_close(b->b_coh);
	if (rc == 0)
		rc = vos_pool_close(b->b_poh);
	if (rc == 0)
		rc = vos_pool_open(path, b->b_pool_uuid, flags, NULL, &b->b_poh);
	if (rc == 0)
		rc = vos_cont_open(b->b_poh, b->b_cont_uuid, &b->b_coh);
	if (rc != 0)
		die("reopen of %s: %s\n", path, d_errstr(rc));
}

static void bench_close(struct bench *b, const char *path);

/* Close (a clean close: under VOS_POF_NO_WAL it writes every dirty page) and destroy the
 * rate pool, then create an empty one of the same sizes in its place. */
static void
bench_pool_fresh(struct bench *b, const char *path)
{
	bench_close(b, path);
	bench_pool_create(b, path, b->b_size[0], b->b_size[1], b->b_size[2]);
}

static void
bench_kind(const struct cfg *cfg, struct bench *b, const char *path, enum val_type vt,
	   uint64_t size)
{
	char name[64];
	struct fig *f;
	struct run r;
	uint64_t first, n;
	unsigned int i;

	/* index only: the pool reopened without its WAL for the updates and fetches */
	bench_pool_reopen(b, path, VOS_POF_NO_WAL);
	kind_name(name, sizeof(name), "WAL off update", vt, size);
	r = run_update_nowal(cfg, b, vt, size, &first);
	f = fig_add("wal_off", name);
	fig_from_run(f, &r, size);
	if (vt == VT_SINGLE && size == 64) {
		f->f_tgt = TGT_MIN_RATE;
		f->f_tgt_val = 300000;
	}
	fig_print(f);

	n = f->f_ops;
	kind_name(name, sizeof(name), "WAL off fetch", vt, size);
	r = run_fetch(cfg, b, vt, size, first, n);
	f = fig_add("wal_off", name);
	fig_from_run(f, &r, size);
	if (vt == VT_SINGLE && size == 64) {
		f->f_tgt = TGT_MIN_RATE;
		f->f_tgt_val = 500000;
	}
	fig_print(f);

	/*
	 * A fresh pool for the logged figures: index-only updates run several times faster
	 * and can fill the pool within their run, which left no room for the rest.
	 */
	bench_pool_fresh(b, path);

	/* WAL async: logged, flushed and checkpointed in the background, never waited for */
	kind_name(name, sizeof(name), "WAL async update", vt, size);
	r = run_update_async(cfg, b, vt, size, &first);
	f = fig_add("wal_async", name);
	fig_from_run(f, &r, size);
	fig_print(f);

	for (i = 0; i < cfg->c_ndepths; i++) {
		r = run_durable(cfg, b, vt, size, cfg->c_depths[i]);
		durable_fig("wal_on", "in flight", vt, size, cfg->c_depths[i], &r);
	}
	for (i = 0; i < cfg->c_nult && size >= cfg->c_ult_min; i++) {
		r = run_durable_ult(cfg, b, vt, size, cfg->c_ults[i]);
		durable_fig("wal_on_ult", "ULTs", vt, size, cfg->c_ults[i], &r);
	}
}

static void
bench_close(struct bench *b, const char *path)
{
	int rc;

	rc = vos_cont_close(b->b_coh);
	if (rc == 0)
		rc = vos_pool_close(b->b_poh);
	if (rc != 0)
		die("close %s: %s\n", path, d_errstr(rc));
	vos_pool_destroy(path, b->b_pool_uuid);
}

/* Open pool @path and its container; the seconds it took. */
static double
reopen(struct bench *b, const char *path)
{
	double t0 = now_s();
	int rc;

	rc = vos_pool_open(path, b->b_pool_uuid, 0, NULL, &b->b_poh);
	if (rc == 0)
		rc = vos_cont_open(b->b_poh, b->b_cont_uuid, &b->b_coh);
	if (rc != 0)
		die("reopen %s: %s\n", path, d_errstr(rc));
	return now_s() - t0;
}

/* Check a sample of keys [0, @n) after a reopen. */
static void
reopen_verify(struct bench *b, uint64_t n)
{
	uint64_t step = n / 97 + 1;
	uint64_t i;
	int rc;

	for (i = 0; i < n; i += step) {
		rc = bench_fetch(b, i, VT_SINGLE, 64);
		if (rc != 0)
			die("after reopen, key %" PRIu64 ": %s\n", i, d_errstr(rc));
	}
	rc = bench_fetch(b, n - 1, VT_SINGLE, 64);
	if (rc != 0)
		die("after reopen, key %" PRIu64 ": %s\n", n - 1, d_errstr(rc));
}

static void
bench_reopen(const struct cfg *cfg, struct bench *b, const char *path)
{
	uint64_t keys = cfg->c_keys;
	uint64_t scm = cfg->c_scm_mib != 0 ? cfg->c_scm_mib * MIB
					   : (keys * HEAP_PER_KEY + 64 * MIB + MIB - 1) / MIB * MIB;
	struct vos_pool_info pi, pi0;
	char note[80] = "";
	double t0, build, t;
	struct fig *f;
	uint64_t n, fill;
	int rc;

	bench_pool_create(b, path, scm, 64 * MIB, 0);

	t0 = now_s();
	for (n = 0; n < keys; n++) {
		if (cfg->c_keys_auto && n == KEYS_FALLBACK) {
			double est = (now_s() - t0) * (double)keys / (double)n;

			if (est > BUILD_LIMIT_S) {
				snprintf(note, sizeof(note),
					 "%" PRIu64 " keys would take ~%.0f s to build: measured "
					 "with %llu",
					 keys, est, KEYS_FALLBACK);
				break;
			}
		}
		rc = bench_update(b, n, VT_SINGLE, 64);
		if (rc != 0)
			die("building the reopen shard, key %" PRIu64 ": %s\n", n, d_errstr(rc));
		if ((n + 1) % POLL_EVERY == 0 && (rc = vos_pool_poll(b->b_poh)) < 0)
			die("vos_pool_poll: %s\n", d_errstr(rc));
	}
	keys = n;
	b->b_next = keys;
	bench_drain(b);
	build = now_s() - t0;
	vos_pool_query(b->b_poh, &pi);
	f = fig_add("reopen", "build");
	f->f_ops = keys;
	f->f_value = f->f_secs = build;
	f->f_unit = "s";
	snprintf(f->f_note, sizeof(f->f_note),
		 "%" PRIu64 " keys of 64 B, %.0f updates/s; heap %.0f of %.0f MiB used%s%s", keys,
		 (double)keys / build, (double)(pi.pi_scm_total - pi.pi_scm_free) / MIB,
		 (double)pi.pi_scm_total / MIB, note[0] ? "; " : "", note);
	say("  shard: %" PRIu64 " keys of 64 B (%u objects, %u akeys a dkey), built in %.1f s "
	    "(%.0f /s); heap %.0f of %.0f MiB used%s%s\n",
	    keys, NOBJ, NAKEY, build, (double)keys / build,
	    (double)(pi.pi_scm_total - pi.pi_scm_free) / MIB, (double)pi.pi_scm_total / MIB,
	    note[0] ? "; " : "", note);

	/* clean: checkpoint + close, then open */
	rc = vos_cont_close(b->b_coh);
	t0 = now_s();
	if (rc == 0)
		rc = vos_pool_close(b->b_poh);
	t = now_s() - t0;
	if (rc != 0)
		die("close: %s\n", d_errstr(rc));
	f = fig_add("reopen", "close (checkpoint)");
	f->f_ops = keys;
	f->f_value = f->f_secs = t;
	f->f_unit = "s";
	say("  %-30s %8.3f s\n", f->f_name, t);

	t = reopen(b, path);
	reopen_verify(b, keys);
	f = fig_add("reopen", "open (clean)");
	f->f_ops = keys;
	f->f_value = f->f_secs = t;
	f->f_unit = "s";
	f->f_tgt = TGT_MAX_SECS;
	f->f_tgt_val = 5.0;
	snprintf(f->f_note, sizeof(f->f_note), "%" PRIu64 " keys, heap image %.0f MiB%s%s", keys,
		 (double)scm / MIB, note[0] ? "; " : "", note);
	{
		char tgt[64];

		say("  %-30s %8.3f s   %s (%s)\n", f->f_name, t,
		    fig_target_str(f, tgt, sizeof(tgt)), f->f_note);
	}

	/* crash: more keys until the WAL tail after the checkpoint is ~40% of the WAL */
	vos_pool_query(b->b_poh, &pi0);
	for (fill = 0;; fill++) {
		if (fill % POLL_EVERY == 0) {
			bench_drain(b);
			vos_pool_query(b->b_poh, &pi);
			if (pi.pi_wal_used - pi0.pi_wal_used >= pi.pi_wal_size / 10 * 4 ||
			    pi.pi_wal_used >= pi.pi_wal_size / 10 * 9 || pi.pi_checkpoints > 0)
				break;
		}
		rc = bench_update(b, b->b_next++, VT_SINGLE, 64);
		if (rc != 0)
			die("filling the WAL: %s\n", d_errstr(rc));
	}
	bench_drain(b);
	vos_pool_query(b->b_poh, &pi);
	rc = vos_cont_close(b->b_coh);
	if (rc != 0)
		die("cont close: %s\n", d_errstr(rc));
	vos_pool_abandon(b->b_poh);
	t = reopen(b, path);
	reopen_verify(b, b->b_next);
	f = fig_add("reopen", "open after crash (WAL replay)");
	f->f_ops = fill;
	f->f_value = f->f_secs = t;
	f->f_unit = "s";
	f->f_tgt = TGT_MAX_SECS;
	f->f_tgt_val = 5.0;
	snprintf(f->f_note, sizeof(f->f_note),
		 "%" PRIu64 " keys; replayed %" PRIu64 " updates, %.1f MiB of WAL (of %.0f MiB)%s",
		 b->b_next, fill, (double)(pi.pi_wal_used - pi0.pi_wal_used) / MIB,
		 (double)pi.pi_wal_size / MIB,
		 pi.pi_checkpoints > pi0.pi_checkpoints ? "; a checkpoint cut the tail short" : "");
	{
		char tgt[64];

		say("  %-30s %8.3f s   %s (%s)\n", f->f_name, t,
		    fig_target_str(f, tgt, sizeof(tgt)), f->f_note);
	}
	bench_close(b, path);
}

static void
json_print(const struct cfg *cfg)
{
	unsigned int i;

	printf("{\n  \"tool\": \"vos_perf\",\n  \"threads\": 1,\n  \"secs_per_figure\": %.3f,\n"
	       "  \"ops_per_figure\": %" PRIu64 ",\n  \"quick\": %s,\n",
	       cfg->c_secs, cfg->c_ops, cfg->c_quick ? "true" : "false");
	printf("  \"wal_off_note\": \"index only: the pool opened with VOS_POF_NO_WAL, nothing "
	       "logged, no checkpoint; vos_pool_poll every %d updates\",\n",
	       POLL_EVERY);
	printf("  \"wal_async_note\": \"durable in the background, not waited for: records "
	       "encoded, the WAL flushed and checkpointed through vos_pool_poll every %d "
	       "updates\",\n",
	       POLL_EVERY);
	printf("  \"figures\": [\n");
	for (i = 0; i < nfigs; i++) {
		const struct fig *f = &figs[i];

		printf(
		    "    {\"section\": \"%s\", \"name\": \"%s\", \"value\": %.6g, \"unit\": \"%s\"",
		    f->f_section, f->f_name, f->f_value, f->f_unit);
		if (strcmp(f->f_section, "raw") != 0)
			printf(", \"ops\": %" PRIu64 ", \"secs\": %.6g", f->f_ops, f->f_secs);
		if (f->f_gbs > 0)
			printf(", \"gbs\": %.6g", f->f_gbs);
		if (f->f_depth > 0)
			printf(", \"depth\": %u", f->f_depth);
		if (strncmp(f->f_section, "wal_", 4) == 0)
			printf(", \"checkpoints\": %" PRIu64 ", \"wal_pct\": %.1f", f->f_ckpts,
			       f->f_wal_pct);
		if (f->f_max_stall > 0)
			printf(", \"max_stall_ms\": %.3f, \"max_poll_cpu_ms\": %.3f",
			       f->f_max_stall * 1e3, f->f_max_poll_cpu * 1e3);
		if (f->f_tgt != TGT_NONE)
			printf(", \"target\": {\"%s\": %.6g, \"met\": %s}",
			       f->f_tgt == TGT_MAX_SECS  ? "max_secs"
			       : f->f_tgt == TGT_MIN_GBS ? "min_gbs"
							 : "min_ops_per_s",
			       f->f_tgt_val, fig_met(f) ? "true" : "false");
		if (f->f_note[0] != '\0')
			printf(", \"note\": \"%s\"", f->f_note);
		printf("}%s\n", i + 1 < nfigs ? "," : "");
	}
	printf("  ]\n}\n");
}

static void
usage(const char *prog, int status)
{
	fprintf(
	    status == 0 ? stdout : stderr,
	    "usage: %s [options]\n"
	    "One VOS pool shard driven by one thread (as a target xstream): update and fetch\n"
	    "rates, durable update rates with N in flight, and reopen times, printed beside\n"
	    "the raw memcpy and fdatasync rates of this machine and the issue's targets.\n"
	    "\n"
	    "  -d, --dir DIR       work in a fresh directory under DIR (default /tmp); it is\n"
	    "                      removed at exit\n"
	    "  -t, --time SECS     length of each rate figure (default 1; --quick 0.05)\n"
	    "  -n, --ops N         stop each rate figure after N ops instead (with -t as well:\n"
	    "                      whichever comes first)\n"
	    "  -q, --depth LIST    updates in flight for the WAL-on figures (default 1,8,64)\n"
	    "  -u, --ults LIST     ULTs of an xstream, each updating and waiting for its own\n"
	    "                      durability, for the WAL-on ULT figures of data-file values\n"
	    "                      (default 1,8,64; none: no such figures)\n"
	    "  -s, --single LIST   single-value sizes (default 64,4K; none: no figures)\n"
	    "  -a, --array LIST    array extent sizes, 1-byte records (default 4K,1M; none)\n"
	    "  -k, --keys N        keys (64 B values) in the reopen shard (default 1M, or 100K\n"
	    "                      if 1M would take over %.0f s to build; 0 skips reopen)\n"
	    "  -m, --heap MIB      heap of the rate pool (default 1024) and of the reopen pool\n"
	    "                      (default: 1 KiB a key + 64 MiB)\n"
	    "  -D, --data MIB      data file of the rate pool (default 16384)\n"
	    "  -W, --wal MIB       WAL of the rate pool (default: the pool default, 64)\n"
	    "  -j, --json          JSON on stdout instead of text\n"
	    "      --quick         a short smoke run (ctest)\n"
	    "  -h, --help          this text\n"
	    "Sizes take K and M suffixes (binary). Keys: key i is akey i/%d%%%d of dkey i/%d\n"
	    "of object i%%%d; every update writes a new key, every fetch reads one written.\n"
	    "WAL off = index only (the pool opened with VOS_POF_NO_WAL: nothing logged, no\n"
	    "checkpoint); WAL async = durable in the background, not waited for (records\n"
	    "encoded, the WAL flushed and checkpointed through vos_pool_poll every %d\n"
	    "updates); WAL on = N updates, then vos_pool_wait on the last LSN.\n",
	    prog, BUILD_LIMIT_S, NOBJ, NAKEY, NOBJ * NAKEY, NOBJ, POLL_EVERY);
	exit(status);
}

static bool
parse_u64(const char *s, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno != 0)
		return false;
	if (*end == 'K' || *end == 'k') {
		x <<= 10;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		x <<= 20;
		end++;
	}
	if (*end != '\0')
		return false;
	*v = x;
	return true;
}

/* "64,4K,1M" into @out (at most MAX_LIST values within [lo, hi]); "none": no values */
static bool
parse_list(const char *s, uint64_t *out, unsigned int *nr, uint64_t lo, uint64_t hi)
{
	char buf[256];
	char *tok, *save = NULL;

	*nr = 0;
	if (strcmp(s, "none") == 0)
		return true;
	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (*nr == MAX_LIST || !parse_u64(tok, &out[*nr]) || out[*nr] < lo || out[*nr] > hi)
			return false;
		(*nr)++;
	}
	return *nr > 0;
}

static void
parse_args(int argc, char **argv, struct cfg *cfg)
{
	static const struct option lopts[] = {{"dir", required_argument, NULL, 'd'},
					      {"time", required_argument, NULL, 't'},
					      {"ops", required_argument, NULL, 'n'},
					      {"depth", required_argument, NULL, 'q'},
					      {"single", required_argument, NULL, 's'},
					      {"array", required_argument, NULL, 'a'},
					      {"keys", required_argument, NULL, 'k'},
					      {"heap", required_argument, NULL, 'm'},
					      {"data", required_argument, NULL, 'D'},
					      {"wal", required_argument, NULL, 'W'},
					      {"json", no_argument, NULL, 'j'},
					      {"quick", no_argument, NULL, 'Q'},
					      {"ults", required_argument, NULL, 'u'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	uint64_t depths[MAX_LIST];
	bool secs_set = false, keys_set = false;
	char *end;
	int opt;

	cfg->c_parent = "/tmp";
	cfg->c_secs = 1.0;
	cfg->c_ndepths = 3;
	cfg->c_depths[0] = 1;
	cfg->c_depths[1] = 8;
	cfg->c_depths[2] = 64;
	cfg->c_nult = 3;
	cfg->c_ults[0] = 1;
	cfg->c_ults[1] = 8;
	cfg->c_ults[2] = 64;
	cfg->c_ult_min = VOS_DATA_THRESH;
	cfg->c_nsv = 2;
	cfg->c_sv[0] = 64;
	cfg->c_sv[1] = 4096;
	cfg->c_nar = 2;
	cfg->c_ar[0] = 4096;
	cfg->c_ar[1] = MIB;
	cfg->c_data_mib = 16384;
	cfg->c_raw_secs = 0.5;

	while ((opt = getopt_long(argc, argv, "d:t:n:q:u:s:a:k:m:D:W:jh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			cfg->c_parent = optarg;
			break;
		case 't':
			cfg->c_secs = strtod(optarg, &end);
			if (*end != '\0' || !(cfg->c_secs > 0 && cfg->c_secs <= 3600))
				usage(argv[0], 2);
			secs_set = true;
			break;
		case 'n':
			if (!parse_u64(optarg, &cfg->c_ops) || cfg->c_ops == 0)
				usage(argv[0], 2);
			break;
		case 'q':
			if (!parse_list(optarg, depths, &cfg->c_ndepths, 1, 4096) ||
			    cfg->c_ndepths == 0)
				usage(argv[0], 2);
			for (unsigned int i = 0; i < cfg->c_ndepths; i++)
				cfg->c_depths[i] = (uint32_t)depths[i];
			break;
		case 'u':
			if (!parse_list(optarg, depths, &cfg->c_nult, 1, 4096))
				usage(argv[0], 2);
			for (unsigned int i = 0; i < cfg->c_nult; i++)
				cfg->c_ults[i] = (uint32_t)depths[i];
			break;
		case 's':
			if (!parse_list(optarg, cfg->c_sv, &cfg->c_nsv, 1, 64 * MIB))
				usage(argv[0], 2);
			break;
		case 'a':
			if (!parse_list(optarg, cfg->c_ar, &cfg->c_nar, 1, 64 * MIB))
				usage(argv[0], 2);
			break;
		case 'k':
			if (!parse_u64(optarg, &cfg->c_keys) || cfg->c_keys > (1ULL << 30))
				usage(argv[0], 2);
			keys_set = true;
			break;
		case 'm':
			if (!parse_u64(optarg, &cfg->c_scm_mib) || cfg->c_scm_mib < 16 ||
			    cfg->c_scm_mib > (1ULL << 20))
				usage(argv[0], 2);
			break;
		case 'D':
			if (!parse_u64(optarg, &cfg->c_data_mib) || cfg->c_data_mib < 1 ||
			    cfg->c_data_mib > (1ULL << 24))
				usage(argv[0], 2);
			break;
		case 'W':
			if (!parse_u64(optarg, &cfg->c_wal_mib) || cfg->c_wal_mib < 4 ||
			    cfg->c_wal_mib > (1ULL << 20))
				usage(argv[0], 2);
			break;
		case 'j':
			cfg->c_json = true;
			break;
		case 'Q':
			cfg->c_quick = true;
			break;
		case 'h':
			usage(argv[0], 0);
			break;
		default:
			usage(argv[0], 2);
		}
	}
	if (optind != argc)
		usage(argv[0], 2);
	if (cfg->c_ops != 0 && !secs_set)
		cfg->c_secs = 3600;
	if (cfg->c_quick) {
		if (!secs_set)
			cfg->c_secs = 0.05;
		if (!keys_set)
			cfg->c_keys = 10000;
		if (cfg->c_scm_mib == 0)
			cfg->c_scm_mib = 256;
		cfg->c_data_mib = cfg->c_data_mib < 1024 ? cfg->c_data_mib : 1024;
		cfg->c_raw_secs = 0.05;
	} else if (!keys_set) {
		cfg->c_keys = KEYS_FULL;
		cfg->c_keys_auto = true;
	}
}

int
main(int argc, char **argv)
{
	struct cfg cfg = {0};
	struct bench b = {0};
	char path[PATH_MAX + 16];
	uint64_t big = 64;
	unsigned int i;

	parse_args(argc, argv, &cfg);
	json_out = cfg.c_json;
	for (i = 0; i < cfg.c_nsv; i++)
		big = cfg.c_sv[i] > big ? cfg.c_sv[i] : big;
	for (i = 0; i < cfg.c_nar; i++)
		big = cfg.c_ar[i] > big ? cfg.c_ar[i] : big;
	/* page-aligned, as the engine's registered bulk buffers are: data-file writes go
	 * straight from them (O_DIRECT) instead of through bio's bounce arena */
	if (posix_memalign((void **)&b.b_buf, 4096, big) != 0)
		b.b_buf = NULL;
	/* the same for fetches: data-file reads go straight into them */
	if (posix_memalign((void **)&b.b_out, 4096, big) != 0)
		b.b_out = NULL;
	if (b.b_buf == NULL || b.b_out == NULL)
		die("out of memory\n");
	memset(b.b_buf, 0x5a, big);
	memset(b.b_out, 0, big);

	if (snprintf(tmp_dir, sizeof(tmp_dir), "%s/vos_perf.XXXXXX", cfg.c_parent) >=
	    (int)sizeof(tmp_dir))
		die("directory name too long\n");
	if (mkdtemp(tmp_dir) == NULL) {
		fprintf(stderr, "vos_perf: cannot create a directory under %s: %s\n", cfg.c_parent,
			strerror(errno));
		tmp_dir[0] = '\0';
		return 1;
	}
	snprintf(clean_paths[nclean++], sizeof(clean_paths[0]), "%s/raw", tmp_dir);
	snprintf(clean_paths[nclean++], sizeof(clean_paths[0]), "%s/raw_io", tmp_dir);
	for (i = 0; i < cfg.c_nsv; i++)
		cfg.c_raw_io |= cfg.c_sv[i] >= VOS_DATA_THRESH;
	for (i = 0; i < cfg.c_nar; i++)
		cfg.c_raw_io |= cfg.c_ar[i] >= VOS_DATA_THRESH;
	atexit(cleanup_files);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	say("vos_perf: one thread, pool shards in %s, %s per figure%s\n", tmp_dir,
	    cfg.c_ops ? "an op count" : "a duration", cfg.c_quick ? " (quick smoke run)" : "");
	say("raw limits (this run, same directory):\n");
	raw_limits(&cfg, "start");

	snprintf(path, sizeof(path), "%s/pool", tmp_dir);
	clean_add_pool(path);
	bench_pool_create(&b, path, (cfg.c_scm_mib ? cfg.c_scm_mib : 1024) * MIB,
			  cfg.c_data_mib * MIB, cfg.c_wal_mib * MIB);
	say("rates (%.2f s%s per figure; new (dkey, akey) per update over %d objects):\n"
	    "  WAL off = index only: the pool opened with VOS_POF_NO_WAL (no redo record, no\n"
	    "  WAL append, no checkpoint). WAL async = durable in the background, not waited\n"
	    "  for: the WAL flushes and checkpoints through vos_pool_poll every %d updates.\n"
	    "  WAL on (durable) = N updates, then vos_pool_wait on the last LSN.\n"
	    "  Columns: rate, GB/s, ops, seconds, checkpoints taken, share of the time in\n"
	    "  vos_pool_poll/vos_pool_wait (wal); WAL off and async: the longest single update,\n"
	    "  its vos_pool_poll included (wall clock: preemption by other processes shows),\n"
	    "  and the most CPU one vos_pool_poll took (a checkpoint "
	    "step).\n",
	    cfg.c_secs, cfg.c_ops ? " or the op count" : "", NOBJ, POLL_EVERY);
	for (i = 0; i < cfg.c_nsv; i++)
		bench_kind(&cfg, &b, path, VT_SINGLE, cfg.c_sv[i]);
	for (i = 0; i < cfg.c_nar; i++)
		bench_kind(&cfg, &b, path, VT_ARRAY, cfg.c_ar[i]);
	bench_close(&b, path);

	if (cfg.c_keys != 0) {
		say("reopen:\n");
		snprintf(path, sizeof(path), "%s/reopen", tmp_dir);
		clean_add_pool(path);
		bench_reopen(&cfg, &b, path);
	}

	say("raw limits again (a shared disk drifts):\n");
	raw_limits(&cfg, "end");
	if (cfg.c_json)
		json_print(&cfg);
	free(b.b_buf);
	free(b.b_out);
	return 0;
}
