/*
 * daos_perf.c: an object I/O benchmark (not a test): update and fetch rates, bandwidth and
 * latency through the libdaos object API from one client thread, for several value sizes,
 * queue depths (events on one event queue) and object counts, each figure printed next to
 * the fabric floor measured in the same run with the same queue depth, sizes and targets:
 * self-test pings (RPC round trips carrying the same bytes) for inline values, self-test
 * bulk transfers (the target reads or writes the client's registered buffer) for bulk ones.
 *
 *	daos_perf MGMT_ADDR [options]   (see usage() or --help)
 *
 * Run it against a fresh server with tests/common/with_server.sh (docs/PERFORMANCE.md): it
 * creates a pool on every target of the server at MGMT_ADDR and a container through the
 * management service (sys_pool.h) and opens it. For every size S, object count O and queue depth Q,
 *RUNS times: OPS updates of S bytes (an array akey, extent [0, S), or a single value with -t
 *single) to O new objects (class -c, default S1: one target each), a new dkey per update, op i on
 * object i % O; then OPS fetches of the same keys, each checked; then the same number of
 * floor operations to the same targets. Updates are durable when acknowledged (the WAL).
 * Prints per-run figures and the median of the runs; -j prints one JSON document instead.
 * For the update phase it also prints the server's WAL counters over the phase (the
 * engine/wal metrics of the management port's Telemetry method): records per flush (how
 * many updates a group commit carries) and WAL log syncs per update (the data-file sync a
 * flush of data-file updates starts with is not in the telemetry: one per such flush).
 * With a size of 1 MiB or more it measures, after the runs, the raw limit of the file system
 * holding the server's data (perf_disk.h: O_DIRECT 1 MiB writes with RWF_DSYNC, 16 in
 * flight; O_DIRECT 1 MiB reads, 1 and 16 in flight; ~0.2-0.5 s) and prints it above the
 * table: the figure to hold the 1 MiB rates against. The directory: -D, else
 * $DAOS_PERF_DATA_DIR (with_server.sh sets it to the server's temp dir), else /tmp (the
 * engine runs on this host).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <daos.h>
#include <daos/client.h>
#include <daos/event.h>
#include <daos/net.h>
#include <daos_srv/ctl.h>
#include <gurt/common.h>

#include "ctl/ctl.pb-c.h"

#include "../common/sys_pool.h"
#include "perf_cpu.h"
#include "perf_disk.h"
#include "perf_wal.h"

#define MAX_RUNS 16
#define MAX_LIST 8
#define MAX_QD 1024
#define MAX_OBJS 4096

/* The phases of one figure: the object operations, then their floor. */
enum { P_UPDATE, P_FETCH, P_FLOOR_UPD, P_FLOOR_FET, P_NR };
static const char *phase_names[P_NR] = {"update", "fetch", "floor_update", "floor_fetch"};

struct cfg {
	uint64_t sizes[MAX_LIST];
	int nsizes;
	int qds[MAX_LIST];
	int nqds;
	int objs[MAX_LIST];
	int nobjs;
	uint64_t ops;       /* per phase, before the byte cap */
	uint64_t max_bytes; /* per phase */
	int runs;
	bool json;
	bool single;
	daos_oclass_id_t oclass;
	bool no_floor;
	bool huge;            /* -H: buffers on transparent huge pages */
	const char *disk_dir; /* -D: where the disk probe runs (NULL: none) */
};

#define HUGE_SZ (2UL << 20)
#define HUGE_ROUND(n) (((n) + HUGE_SZ - 1) & ~(HUGE_SZ - 1))

/* -H: a 2 MiB-aligned buffer advised for transparent huge pages, or NULL. */
static void *
buf_huge_alloc(size_t size)
{
	size_t len = HUGE_ROUND(size);
	char *p, *a;

	p = mmap(NULL, len + HUGE_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + HUGE_SZ - 1) & ~(uintptr_t)(HUGE_SZ - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	munmap(a + len, (size_t)(p + HUGE_SZ - a));
	(void)madvise(a, len, MADV_HUGEPAGE);
	return a;
}

/* What one phase of one run measured. */
struct result {
	uint64_t ops;
	double secs;
	double p50_us;
	double p99_us;
	double cli_cpu_us;     /* client CPU time per operation */
	double srv_cpu_us;     /* server CPU time per operation (DAOS_PERF_SERVER_PID), or -1 */
	double recs_per_flush; /* WAL records per WAL flush over the phase (0: no flush) */
	double syncs_per_op;   /* WAL log syncs (durability points) per operation */
};

/* One operation slot (an event and its buffers), QD of them. */
struct slot {
	daos_event_t ev;
	int idx;
	uint64_t t0;
	uint64_t op;
	char dkbuf[32];
	daos_key_t dkey;
	daos_iod_t iod;
	daos_recx_t recx;
	d_iov_t iov;
	d_sg_list_t sgl;
	void *buf;
	/* floor */
	const char *addr;
	uint32_t phase;
	uint64_t len;
	struct net_bulk *bulk; /* registered once on the queue's context, reused */
	struct net_ping_in ping;
	struct net_bulk_in bin;
};

struct bench {
	struct cfg *cfg;
	daos_handle_t coh;
	daos_handle_t eqh;
	struct slot *slots;
	int nslots;
	daos_handle_t oh[MAX_OBJS];
	char *addrs[MAX_OBJS]; /* the fabric address of each object's first shard */
	uint64_t salt;
	uint32_t *lat; /* ns per op, for percentiles */
	uint64_t nlat;
	uint64_t bad;
	int srv_pid;      /* from DAOS_PERF_SERVER_PID (with_server.sh sets it), or 0 */
	const char *mgmt; /* the server's management address, for its WAL metrics */
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "daos_perf: %s: %s (%d)\n", what, d_errstr(rc), rc);
	exit(1);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a;
	uint32_t y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
median(const double *v, int n)
{
	double s[MAX_RUNS];

	memcpy(s, v, sizeof(double) * (size_t)n);
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* The 64-bit tag op @op of a figure writes at both ends of its value. */
static uint64_t
op_tag(const struct bench *b, uint64_t op)
{
	return (b->salt ^ (op * 0x9E3779B97F4A7C15ULL)) | 1;
}

static void
slot_keys(struct bench *b, struct slot *s, uint64_t op, uint64_t size)
{
	snprintf(s->dkbuf, sizeof(s->dkbuf), "k%" PRIu64, op);
	d_iov_set(&s->dkey, s->dkbuf, strlen(s->dkbuf));
	memset(&s->iod, 0, sizeof(s->iod));
	d_iov_set(&s->iod.iod_name, "a", 1);
	if (b->cfg->single) {
		s->iod.iod_type = DAOS_IOD_SINGLE;
		s->iod.iod_size = size;
		s->iod.iod_nr = 1;
	} else {
		s->iod.iod_type = DAOS_IOD_ARRAY;
		s->iod.iod_size = 1;
		s->iod.iod_nr = 1;
		s->recx.rx_idx = 0;
		s->recx.rx_nr = size;
		s->iod.iod_recxs = &s->recx;
	}
	d_iov_set(&s->iov, s->buf, size);
	s->sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &s->iov};
}

/* ---- the floor: self-test pings and bulk transfers on the queue's own context ---- */

static void
floor_done(struct net_rpc_done *done, void *arg)
{
	struct slot *s = arg;

	dc_ev_complete(&s->ev, done->rd_rc);
}

static int
floor_send(struct net_context *ctx, void *arg)
{
	struct slot *s = arg;
	net_peer_t peer;
	int rc;

	rc = net_peer_lookup(ctx, s->addr, &peer);
	if (rc != 0)
		return rc;
	if (s->len <= net_context_inline_max(ctx)) {
		memset(&s->ping, 0, sizeof(s->ping));
		s->ping.pi_flags = s->phase == P_FLOOR_UPD ? NET_PING_NOECHO : 0;
		d_iov_set(&s->ping.pi_data, s->buf, s->len);
		return net_rpc_send(ctx, peer, NET_OPC_PING, &s->ping, NULL, 0, floor_done, s,
				    NULL);
	}
	if (s->bulk == NULL) {
		d_iov_t iov;
		d_sg_list_t sgl = {.sg_nr = 1, .sg_iovs = &iov};

		d_iov_set(&iov, s->buf, s->len);
		rc = net_bulk_create(ctx, &sgl, NET_BULK_READ | NET_BULK_WRITE, &s->bulk);
		if (rc != 0)
			return rc;
	}
	memset(&s->bin, 0, sizeof(s->bin));
	s->bin.bi_op = s->phase == P_FLOOR_UPD ? NET_BULK_OP_GET : NET_BULK_OP_PUT;
	s->bin.bi_len = s->len;
	return net_rpc_send(ctx, peer, NET_OPC_BULK, &s->bin, s->bulk, 0, floor_done, s, NULL);
}

static int
floor_bulk_free(struct net_context *ctx, void *arg)
{
	struct slot *s = arg;

	(void)ctx;
	net_bulk_destroy(s->bulk);
	s->bulk = NULL;
	return 0;
}

/* ---- one phase: OPS operations, QD in flight ---- */

static int
op_launch(struct bench *b, struct slot *s, int phase, uint64_t op, uint64_t size, int nobj)
{
	daos_handle_t oh = b->oh[op % (uint64_t)nobj];
	uint64_t tag = op_tag(b, op);
	int rc;

	s->op = op;
	s->t0 = now_ns();
	if (phase == P_FLOOR_UPD || phase == P_FLOOR_FET) {
		daos_event_t *priv;

		s->addr = b->addrs[op % (uint64_t)nobj];
		s->phase = (uint32_t)phase;
		s->len = size;
		rc = dc_ev_begin(&s->ev, &priv);
		if (rc != 0)
			return rc;
		rc = dc_ev_net_exec(&s->ev, floor_send, s);
		if (rc != 0)
			dc_ev_complete(&s->ev, rc);
		return 0;
	}
	slot_keys(b, s, op / (uint64_t)nobj, size);
	if (phase == P_UPDATE) {
		memcpy(s->buf, &tag, 8);
		if (size >= 16)
			memcpy((char *)s->buf + size - 8, &tag, 8);
		return daos_obj_update(oh, DAOS_TX_NONE, 0, &s->dkey, 1, &s->iod, &s->sgl, &s->ev);
	}
	memset(s->buf, 0, 8);
	return daos_obj_fetch(oh, DAOS_TX_NONE, 0, &s->dkey, 1, &s->iod, &s->sgl, NULL, &s->ev);
}

static void
op_check(struct bench *b, struct slot *s, int phase, uint64_t size)
{
	uint64_t tag = op_tag(b, s->op);
	uint64_t t1 = 0;
	uint64_t t2 = 0;

	if (phase != P_FETCH)
		return;
	memcpy(&t1, s->buf, 8);
	if (size >= 16)
		memcpy(&t2, (char *)s->buf + size - 8, 8);
	else
		t2 = tag;
	if (s->iov.iov_len != size || t1 != tag || t2 != tag) {
		if (b->bad++ == 0)
			fprintf(stderr, "daos_perf: fetch %" PRIu64 " read the wrong data\n",
				s->op);
	}
}

static void
run_phase(struct bench *b, int phase, uint64_t size, int qd, int nobj, uint64_t nops,
	  struct result *res)
{
	daos_event_t *evs[MAX_QD];
	int freelist[MAX_QD];
	int nfree = qd;
	uint64_t next = 0;
	uint64_t done = 0;
	uint64_t w0[PERF_WAL_N] = {0};
	uint64_t w1[PERF_WAL_N] = {0};
	uint64_t c0;
	uint64_t s0;
	uint64_t t0;
	int i;
	int rc;

	if (phase == P_UPDATE)
		perf_wal_counts(b->mgmt, w0);
	c0 = perf_self_cpu_ns();
	s0 = perf_proc_cpu_ns(b->srv_pid);

	for (i = 0; i < qd; i++)
		freelist[i] = qd - 1 - i;
	b->nlat = 0;
	t0 = now_ns();
	while (done < nops) {
		while (nfree > 0 && next < nops) {
			struct slot *s = &b->slots[freelist[--nfree]];

			rc = op_launch(b, s, phase, next++, size, nobj);
			if (rc != 0)
				die(phase_names[phase], rc);
		}
		rc = daos_eq_poll(b->eqh, 1, DAOS_EQ_WAIT, (unsigned int)qd, evs);
		if (rc < 0)
			die("daos_eq_poll", rc);
		for (i = 0; i < rc; i++) {
			struct slot *s = container_of(evs[i], struct slot, ev);

			if (s->ev.ev_error != 0)
				die(phase_names[phase], s->ev.ev_error);
			b->lat[b->nlat++] =
			    (uint32_t)((now_ns() - s->t0) > UINT32_MAX ? UINT32_MAX
								       : now_ns() - s->t0);
			op_check(b, s, phase, size);
			freelist[nfree++] = s->idx;
			done++;
		}
	}
	res->secs = (double)(now_ns() - t0) / 1e9;
	res->ops = nops;
	res->cli_cpu_us = (double)(perf_self_cpu_ns() - c0) / 1e3 / (double)nops;
	res->srv_cpu_us =
	    b->srv_pid > 0 ? (double)(perf_proc_cpu_ns(b->srv_pid) - s0) / 1e3 / (double)nops : -1;
	if (phase == P_UPDATE) {
		/* the counters move when the target's poller sees the flush complete: all have */
		perf_wal_counts(b->mgmt, w1);
		res->recs_per_flush =
		    w1[1] > w0[1] ? (double)(w1[0] - w0[0]) / (double)(w1[1] - w0[1]) : 0;
		res->syncs_per_op = (double)(w1[2] - w0[2]) / (double)nops;
	}
	qsort(b->lat, b->nlat, sizeof(uint32_t), cmp_u32);
	res->p50_us = b->lat[b->nlat / 2] / 1e3;
	res->p99_us = b->lat[(b->nlat * 99) / 100] / 1e3;
}

/* Open @nobj new objects and learn where their first shards are. */
static void
objs_open(struct bench *b, int nobj, int run)
{
	struct dc_cont *co = dc_cont_get(b->coh);
	int i;
	int rc;

	if (co == NULL)
		die("container", -DER_NO_HDL);
	for (i = 0; i < nobj; i++) {
		struct daos_obj_layout *lay = NULL;
		daos_obj_id_t oid = {.lo = (uint64_t)i, .hi = (uint64_t)run + 1};
		char addr[NET_ADDR_STR_MAX];

		oid.hi += b->salt << 20;
		rc =
		    daos_obj_generate_oid(b->coh, &oid, DAOS_OT_MULTI_HASHED, b->cfg->oclass, 0, 0);
		if (rc == 0)
			rc = daos_obj_open(b->coh, oid, DAOS_OO_RW, &b->oh[i], NULL);
		if (rc == 0)
			rc = daos_obj_layout_get(b->coh, oid, &lay);
		if (rc == 0)
			rc = dc_pool_tgt_addr(
			    co->dc_pool, lay->ol_shards[0]->os_shard_loc[0].sd_rank,
			    lay->ol_shards[0]->os_shard_loc[0].sd_tgt_idx, addr, sizeof(addr));
		if (rc != 0)
			die("object open", rc);
		b->addrs[i] = strdup(addr);
		daos_obj_layout_free(lay);
	}
	dc_cont_put(co);
}

static void
objs_close(struct bench *b, int nobj)
{
	int i;

	for (i = 0; i < nobj; i++) {
		daos_obj_close(b->oh[i], NULL);
		free(b->addrs[i]);
		b->addrs[i] = NULL;
	}
}

static void
usage(const char *prog)
{
	printf(
	    "usage: %s MGMT_ADDR [options]\n"
	    "Object update/fetch rates, bandwidth and latency through libdaos, each next to\n"
	    "the fabric floor (self-test ping or bulk, same sizes, depth and targets).\n"
	    "  -s SIZES   value sizes in bytes, comma-separated, k/m suffixes (64,4k,1m)\n"
	    "  -q QDS     queue depths: events in flight on one queue (1,64)\n"
	    "  -o OBJS    object counts; op i goes to object i %% OBJS (1,16)\n"
	    "  -n OPS     operations per phase (20000)\n"
	    "  -B BYTES   cap on the bytes of one phase, k/m/g suffixes (256m)\n"
	    "  -r RUNS    runs of every figure; medians are printed (3, at most %d)\n"
	    "  -c CLASS   object class: S1, S2, S4, SX (S1)\n"
	    "  -t TYPE    array (an extent of SIZE 1-byte records) or single (array)\n"
	    "  -F         skip the floor measurements\n"
	    "  -H         value buffers on transparent huge pages (2 MiB-aligned, MADV_HUGEPAGE,\n"
	    "             as dfuse's): over shm the engine then pins the client's pages\n"
	    "             for its CMA copy 2 MiB at a time\n"
	    "  -D DIR     with a size of 1 MiB or more, measure the raw limit of DIR's file\n"
	    "             system in the same run (O_DIRECT 1 MiB writes, %u in flight, RWF_DSYNC;\n"
	    "             O_DIRECT 1 MiB reads, 1 and %u in flight): the server's data\n"
	    "             directory (default $DAOS_PERF_DATA_DIR, which with_server.sh sets,\n"
	    "             else /tmp, the engine being local); none skips it\n"
	    "  -j         print one JSON document instead of the table\n"
	    "  -h, --help this text\n"
	    "Run it with tests/common/with_server.sh build/src/engine/daos_server\n"
	    "build/src/engine/daos_ctl_ping build/tests/daos_perf [options].\n",
	    prog, MAX_RUNS, PERF_DISK_QD, PERF_DISK_QD);
}

static uint64_t
parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	return *end == '\0' || *end == ',' ? v : 0;
}

static int
parse_list(const char *arg, uint64_t *out)
{
	const char *p = arg;
	int n = 0;

	while (*p != '\0' && n < MAX_LIST) {
		out[n] = parse_size(p);
		if (out[n] == 0)
			return -1;
		n++;
		p = strchr(p, ',');
		if (p == NULL)
			break;
		p++;
	}
	return n;
}

static double
fig_value(const struct result *r, uint64_t size)
{
	/* small values: operations per second; bulk values: GB/s */
	return size >= (64 << 10) ? (double)r->ops * size / r->secs / 1e9 : r->ops / r->secs;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	static struct result res[MAX_LIST][MAX_LIST][MAX_LIST][MAX_RUNS][P_NR];
	struct cfg cfg = {.ops = 20000, .max_bytes = 256ULL << 20, .runs = 3, .oclass = OC_S1};
	struct bench b = {.cfg = &cfg};
	uint64_t tmp[MAX_LIST];
	uint64_t maxsz = 0;
	int maxqd = 0;
	daos_handle_t poh;
	uuid_t puuid;
	uuid_t cuuid;
	double load[3] = {0};
	struct perf_disk disk = {0};
	bool disk_ok = false;
	int si, qi, oi, r, p, i, n;
	int opt;
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(argv[0]);
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-') {
		usage(argv[0]);
		return 2;
	}
	cfg.nsizes = parse_list("64,4k,1m", cfg.sizes);
	cfg.nqds = 2;
	cfg.qds[0] = 1;
	cfg.qds[1] = 64;
	cfg.nobjs = 2;
	cfg.objs[0] = 1;
	cfg.objs[1] = 16;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "s:q:o:n:B:r:c:t:D:FHjh", lopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			cfg.nsizes = parse_list(optarg, cfg.sizes);
			break;
		case 'q':
			n = parse_list(optarg, tmp);
			cfg.nqds = n;
			for (i = 0; i < n; i++)
				cfg.qds[i] = tmp[i] > MAX_QD ? -1 : (int)tmp[i];
			break;
		case 'o':
			n = parse_list(optarg, tmp);
			cfg.nobjs = n;
			for (i = 0; i < n; i++)
				cfg.objs[i] = tmp[i] > MAX_OBJS ? -1 : (int)tmp[i];
			break;
		case 'n':
			cfg.ops = parse_size(optarg);
			break;
		case 'B':
			cfg.max_bytes = parse_size(optarg);
			break;
		case 'r':
			cfg.runs = atoi(optarg);
			break;
		case 'c':
			cfg.oclass = !strcmp(optarg, "S1")   ? OC_S1
				     : !strcmp(optarg, "S2") ? OC_S2
				     : !strcmp(optarg, "S4") ? OC_S4
				     : !strcmp(optarg, "SX") ? OC_SX
							     : 0;
			break;
		case 't':
			if (strcmp(optarg, "single") != 0 && strcmp(optarg, "array") != 0)
				cfg.nsizes = -1;
			cfg.single = strcmp(optarg, "single") == 0;
			break;
		case 'F':
			cfg.no_floor = true;
			break;
		case 'H':
			cfg.huge = true;
			break;
		case 'D':
			cfg.disk_dir = optarg;
			break;
		case 'j':
			cfg.json = true;
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (cfg.nsizes <= 0 || cfg.nqds <= 0 || cfg.nobjs <= 0 || cfg.ops == 0 ||
	    cfg.max_bytes == 0 || cfg.runs <= 0 || cfg.runs > MAX_RUNS || cfg.oclass == 0) {
		fprintf(stderr, "daos_perf: bad arguments (--help)\n");
		return 2;
	}
	for (i = 0; i < cfg.nqds; i++) {
		if (cfg.qds[i] <= 0) {
			fprintf(stderr, "daos_perf: queue depth 1..%d\n", MAX_QD);
			return 2;
		}
		maxqd = cfg.qds[i] > maxqd ? cfg.qds[i] : maxqd;
	}
	for (i = 0; i < cfg.nobjs; i++)
		if (cfg.objs[i] <= 0) {
			fprintf(stderr, "daos_perf: object count 1..%d\n", MAX_OBJS);
			return 2;
		}
	for (i = 0; i < cfg.nsizes; i++)
		maxsz = cfg.sizes[i] > maxsz ? cfg.sizes[i] : maxsz;

	/*
	 * The sizes are divided among the targets: 256 MiB of SCM and 1.75 GiB of data per
	 * target of with_server.sh's four (its bdev is 8 GiB), room for the default runs on
	 * one target (~0.6 GiB of data per run).
	 */
	uuid_generate(puuid);
	rc = sys_pool_create_size(argv[1], puuid, 1ULL << 30, 7ULL << 30);
	if (rc != 0)
		return 1;
	if (daos_init() != 0 || sys_pool_connect(argv[1], puuid, &poh) != 0) {
		fprintf(stderr, "daos_perf: setting up the pool handle failed\n");
		return 1;
	}
	rc = sys_cont_create(poh, cuuid);
	if (rc == 0)
		rc = sys_cont_open(poh, cuuid, DAOS_COO_RW, &b.coh);
	if (rc != 0)
		die("container open", rc);
	rc = daos_eq_create(&b.eqh);
	if (rc != 0)
		die("daos_eq_create", rc);
	b.nslots = maxqd;
	b.slots = calloc((size_t)maxqd, sizeof(*b.slots));
	b.lat = calloc(cfg.ops, sizeof(uint32_t));
	if (b.slots == NULL || b.lat == NULL)
		die("calloc", -DER_NOMEM);
	for (i = 0; i < maxqd; i++) {
		b.slots[i].idx = i;
		b.slots[i].buf = cfg.huge ? buf_huge_alloc(maxsz) : malloc(maxsz);
		if (b.slots[i].buf == NULL)
			die("malloc", -DER_NOMEM);
		memset(b.slots[i].buf, 0x5a, maxsz);
		rc = daos_event_init(&b.slots[i].ev, b.eqh, NULL);
		if (rc != 0)
			die("daos_event_init", rc);
	}
	b.salt = ((uint64_t)getpid() << 16) ^ now_ns();
	if (getenv("DAOS_PERF_SERVER_PID") != NULL)
		b.srv_pid = atoi(getenv("DAOS_PERF_SERVER_PID"));
	b.mgmt = argv[1];

	if (!cfg.json)
		printf("daos_perf: %" PRIu64 " ops per phase (at most %" PRIu64
		       " MiB), %d runs, class %s, %s values\n",
		       cfg.ops, cfg.max_bytes >> 20, cfg.runs,
		       cfg.oclass == OC_S1   ? "S1"
		       : cfg.oclass == OC_S2 ? "S2"
		       : cfg.oclass == OC_S4 ? "S4"
					     : "SX",
		       cfg.single ? "single" : "array");
	for (si = 0; si < cfg.nsizes; si++) {
		uint64_t size = cfg.sizes[si];
		uint64_t nops = cfg.ops;

		if (nops * size > cfg.max_bytes)
			nops = cfg.max_bytes / size;
		if (nops == 0)
			nops = 1;
		for (oi = 0; oi < cfg.nobjs; oi++)
			for (qi = 0; qi < cfg.nqds; qi++)
				for (r = 0; r < cfg.runs; r++) {
					int nobj = cfg.objs[oi];
					struct result *rr = res[si][oi][qi][r];

					b.salt++;
					objs_open(&b, nobj, r);
					for (p = 0; p < P_NR; p++) {
						if (cfg.no_floor && p >= P_FLOOR_UPD) {
							rr[p] = (struct result){0};
							continue;
						}
						run_phase(&b, p, size, cfg.qds[qi], nobj, nops,
							  &rr[p]);
					}
					objs_close(&b, nobj);
					if (!cfg.json)
						fprintf(stderr,
							"  size %" PRIu64 " objs %d qd %d run %d: "
							"upd %.0f/s fet %.0f/s\n",
							size, nobj, cfg.qds[qi], r,
							rr[P_UPDATE].ops / rr[P_UPDATE].secs,
							rr[P_FETCH].ops / rr[P_FETCH].secs);
				}
	}
	if (getloadavg(load, 3) < 0)
		load[0] = load[1] = load[2] = -1;
	/* the disk's own limit, in the same minutes, next to the 1 MiB figures */
	if (cfg.disk_dir == NULL)
		cfg.disk_dir =
		    getenv("DAOS_PERF_DATA_DIR") != NULL ? getenv("DAOS_PERF_DATA_DIR") : "/tmp";
	if (maxsz >= (1U << 20) && strcmp(cfg.disk_dir, "none") != 0)
		disk_ok = perf_disk_probe(cfg.disk_dir, &disk) == 0;

	if (cfg.json) {
		printf("{\"load\": [%.2f, %.2f, %.2f], \"runs\": %d, \"class\": %u, "
		       "\"single\": %s, \"bad\": %" PRIu64 ", ",
		       load[0], load[1], load[2], cfg.runs, (unsigned)cfg.oclass,
		       cfg.single ? "true" : "false", b.bad);
		if (disk_ok)
			printf("\"disk\": {\"dir\": \"%s\", \"write_dsync_qd%u_gbs\": %.3f, "
			       "\"read_qd1_gbs\": %.3f, \"read_qd%u_gbs\": %.3f}, ",
			       cfg.disk_dir, PERF_DISK_QD, disk.pd_write_gbs, disk.pd_read1_gbs,
			       PERF_DISK_QD, disk.pd_readq_gbs);
		printf("\"figures\": [");
	} else {
		printf("\nload average %.2f %.2f %.2f; medians of %d runs; rate in ops/s below "
		       "64 KiB, GB/s from 64 KiB; floor = self-test ping/bulk, same size, depth, "
		       "targets; cpu = us of CPU per op (client process, server process); "
		       "rec/fl = WAL records per WAL flush, sync/op = device syncs per update (the "
		       "WAL's, and the data-file syncs its flushes chain; one-sync flushes have "
		       "none)\n",
		       load[0], load[1], load[2], cfg.runs);
		if (disk_ok)
			printf(
			    "disk limit (%s, %u MiB, after the runs): O_DIRECT 1 MiB writes "
			    "with RWF_DSYNC, %u in flight, %.2f GB/s; O_DIRECT 1 MiB reads, 1 in "
			    "flight %.2f GB/s, %u in flight %.2f GB/s\n",
			    cfg.disk_dir, PERF_DISK_MB, PERF_DISK_QD, disk.pd_write_gbs,
			    disk.pd_read1_gbs, PERF_DISK_QD, disk.pd_readq_gbs);
		printf("%-8s %5s %4s %-7s %10s %10s %6s %9s %9s %9s %8s %8s %7s %7s\n", "size",
		       "objs", "qd", "op", "rate", "floor", "ratio", "p50 us", "p99 us",
		       "floor p50", "cli cpu", "srv cpu", "rec/fl", "sync/op");
	}
	n = 0;
	for (si = 0; si < cfg.nsizes; si++)
		for (oi = 0; oi < cfg.nobjs; oi++)
			for (qi = 0; qi < cfg.nqds; qi++)
				for (p = 0; p < 2; p++) {
					uint64_t size = cfg.sizes[si];
					double v[MAX_RUNS], f[MAX_RUNS], l50[MAX_RUNS],
					    l99[MAX_RUNS], f50[MAX_RUNS], cc[MAX_RUNS],
					    sc[MAX_RUNS], rf[MAX_RUNS], so[MAX_RUNS];
					double mv, mf, m50, m99, mf50, mcc, msc, mrf, mso;

					for (r = 0; r < cfg.runs; r++) {
						struct result *rr = res[si][oi][qi][r];

						v[r] = fig_value(&rr[p], size);
						f[r] =
						    cfg.no_floor ? 0 : fig_value(&rr[p + 2], size);
						l50[r] = rr[p].p50_us;
						l99[r] = rr[p].p99_us;
						f50[r] = rr[p + 2].p50_us;
						cc[r] = rr[p].cli_cpu_us;
						sc[r] = rr[p].srv_cpu_us;
						rf[r] = rr[p].recs_per_flush;
						so[r] = rr[p].syncs_per_op;
					}
					mrf = median(rf, cfg.runs);
					mso = median(so, cfg.runs);
					mcc = median(cc, cfg.runs);
					msc = median(sc, cfg.runs);
					mv = median(v, cfg.runs);
					mf = median(f, cfg.runs);
					m50 = median(l50, cfg.runs);
					m99 = median(l99, cfg.runs);
					mf50 = median(f50, cfg.runs);
					if (cfg.json) {
						printf(
						    "%s\n  {\"size\": %" PRIu64
						    ", \"objs\": %d, \"qd\": %d, \"op\": \"%s\", "
						    "\"unit\": \"%s\", \"median\": %.4g, "
						    "\"floor\": %.4g, \"p50_us\": %.1f, "
						    "\"p99_us\": %.1f, \"floor_p50_us\": %.1f, "
						    "\"cli_cpu_us\": %.1f, \"srv_cpu_us\": %.1f, "
						    "\"recs_per_flush\": %.2f, "
						    "\"syncs_per_op\": %.3f, \"runs\": [",
						    n++ ? "," : "", size, cfg.objs[oi], cfg.qds[qi],
						    phase_names[p],
						    size >= (64 << 10) ? "GB/s" : "ops/s", mv, mf,
						    m50, m99, mf50, mcc, msc, mrf, mso);
						for (r = 0; r < cfg.runs; r++)
							printf("%s%.4g", r ? ", " : "", v[r]);
						printf("]}");
					} else {
						printf("%-8" PRIu64
						       " %5d %4d %-7s %10.4g %10.4g %6.2f %9.1f "
						       "%9.1f %9.1f %8.1f %8.1f %7.1f %7.2f\n",
						       size, cfg.objs[oi], cfg.qds[qi],
						       phase_names[p], mv, mf, mf > 0 ? mv / mf : 0,
						       m50, m99, mf50, mcc, msc, mrf, mso);
					}
				}
	if (cfg.json)
		printf("\n]}\n");
	else if (b.bad != 0)
		printf("%" PRIu64 " fetches read the wrong data\n", b.bad);

	for (i = 0; i < maxqd; i++) {
		/* the handle belongs to the queue's context: free it there */
		daos_event_t *ev;

		if (b.slots[i].bulk != NULL && dc_ev_begin(&b.slots[i].ev, &ev) == 0) {
			rc = dc_ev_net_exec(&b.slots[i].ev, floor_bulk_free, &b.slots[i]);
			dc_ev_complete(&b.slots[i].ev, rc);
			daos_eq_poll(b.eqh, 0, DAOS_EQ_WAIT, 1, &ev);
		}
		daos_event_fini(&b.slots[i].ev);
		if (cfg.huge)
			munmap(b.slots[i].buf, HUGE_ROUND(maxsz));
		else
			free(b.slots[i].buf);
	}
	free(b.slots);
	free(b.lat);
	daos_eq_destroy(b.eqh, 0);
	sys_pool_teardown(poh, b.coh);
	return b.bad != 0 ? 1 : 0;
}
