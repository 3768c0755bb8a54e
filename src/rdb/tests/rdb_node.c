/*
 * rdb_node.c: one replica of a test database in its own process, driven by lines on stdin
 * (the system test rdb_systest, or a person). Replies are single lines on stdout.
 *
 *   rdb_node create|start DIR RANK SNAPSHOT_THRESHOLD ADDR0 [ADDR1 ...]   (1, 3 or 5)
 *
 * Commands:
 *   status            -> "status LEADER TERM APPLIED KEYS HINT_RANK" (HINT_RANK -1: none)
 *   table             -> "table RC"             create table "t"
 *   commit FROM N     -> "ack I" per acknowledged transaction (key I), then
 *                        "committed ACKED RC AVG_US MAX_US"; stops at the first failure
 *   pcommit FROM N D  -> "pcommitted ACKED RC USEC": N transactions, D in flight at once
 *   check FROM N      -> "check FOUND RC"       lookups of keys FROM .. FROM+N-1
 *   sync              -> "sync RC"              rdb_sync: still the leader?
 *   quit, or EOF      -> stop the replica and exit 0
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include <daos_errno.h>
#include <daos_srv/rdb.h>

#if defined(__SANITIZE_ADDRESS__)
#define RDB_NODE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RDB_NODE_ASAN 1
#endif
#endif

#ifdef RDB_NODE_ASAN
const char *__asan_default_options(void) __attribute__((visibility("default")));

/*
 * libraft 0.15 allocates the address length a peer's handshake states and drops the
 * connection when malloc returns NULL; rdb_systest's garbage states 1 TiB. AddressSanitizer
 * aborts on a request that large unless told to return NULL, as glibc does (ASAN_OPTIONS
 * in the environment still overrides this).
 */
const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}
#endif

static uv_loop_t loop;
static uv_pipe_t in;
static struct rdb *db;
static char line[4096];
static size_t line_len;

/* A commit loop in progress. */
static struct {
	bool active;
	long next;
	long end;
	long acked;
	uint64_t start_ns;
	uint64_t total_ns;
	uint64_t max_ns;
} cl;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
key_of(long i, char *buf, size_t len, d_iov_t *key)
{
	snprintf(buf, len, "key%012ld", i);
	d_iov_set(key, buf, strlen(buf));
}

static void commit_next(void);

static void
commit_done(int rc, void *arg)
{
	uint64_t ns = now_ns() - cl.start_ns;

	(void)arg;
	if (rc != 0) {
		cl.active = false;
		reply("committed %ld %d %lu %lu", cl.acked, rc,
		      (unsigned long)(cl.acked ? cl.total_ns / cl.acked / 1000 : 0),
		      (unsigned long)(cl.max_ns / 1000));
		return;
	}
	reply("ack %ld", cl.next);
	cl.acked++;
	cl.total_ns += ns;
	if (ns > cl.max_ns)
		cl.max_ns = ns;
	cl.next++;
	commit_next();
}

static void
commit_next(void)
{
	struct rdb_tx *tx = NULL;
	char k[32], v[32];
	d_iov_t key, val;
	int rc;

	if (cl.next == cl.end) {
		cl.active = false;
		reply("committed %ld 0 %lu %lu", cl.acked,
		      (unsigned long)(cl.acked ? cl.total_ns / cl.acked / 1000 : 0),
		      (unsigned long)(cl.max_ns / 1000));
		return;
	}
	key_of(cl.next, k, sizeof(k), &key);
	snprintf(v, sizeof(v), "val%ld", cl.next);
	d_iov_set(&val, v, strlen(v));
	rc = rdb_tx_begin(db, 0, &tx);
	if (rc == 0)
		rc = rdb_tx_update(tx, "t", &key, &val);
	if (rc != 0) {
		rdb_tx_abort(tx);
		commit_done(rc, NULL);
		return;
	}
	cl.start_ns = now_ns();
	rc = rdb_tx_commit(tx, commit_done, NULL);
	if (rc != 0)
		commit_done(rc, NULL);
}

/* Pipelined commits: up to pc.depth in flight. */
static struct {
	bool active;
	long next;
	long end;
	long depth;
	long inflight;
	long acked;
	int rc;
	uint64_t start_ns;
} pc;

static void pc_fill(void);

static void
pc_done(int rc, void *arg)
{
	(void)arg;
	pc.inflight--;
	if (rc != 0 && pc.rc == 0)
		pc.rc = rc;
	if (rc == 0)
		pc.acked++;
	pc_fill();
}

static void
pc_fill(void)
{
	while (pc.rc == 0 && pc.inflight < pc.depth && pc.next < pc.end) {
		struct rdb_tx *tx = NULL;
		char k[32], v[32];
		d_iov_t key, val;
		int rc;

		key_of(pc.next, k, sizeof(k), &key);
		snprintf(v, sizeof(v), "val%ld", pc.next);
		d_iov_set(&val, v, strlen(v));
		rc = rdb_tx_begin(db, 0, &tx);
		if (rc == 0)
			rc = rdb_tx_update(tx, "t", &key, &val);
		if (rc == 0) {
			rc = rdb_tx_commit(tx, pc_done, NULL);
		} else {
			rdb_tx_abort(tx);
		}
		if (rc != 0) {
			pc.rc = rc;
			break;
		}
		pc.next++;
		pc.inflight++;
	}
	if (pc.active && pc.inflight == 0) {
		pc.active = false;
		reply("pcommitted %ld %d %lu", pc.acked, pc.rc,
		      (unsigned long)((now_ns() - pc.start_ns) / 1000));
	}
}

static void
stopped(void *arg)
{
	(void)arg;
	uv_close((uv_handle_t *)&in, NULL);
}

static void
quit(void)
{
	if (db == NULL)
		return;
	uv_read_stop((uv_stream_t *)&in);
	rdb_stop(db, stopped, NULL);
	db = NULL;
}

static void
table_done(int rc, void *arg)
{
	(void)arg;
	reply("table %d", rc);
}

static void
sync_done(int rc, void *arg)
{
	(void)arg;
	reply("sync %d", rc);
}

static void
command(char *cmd)
{
	long from, n, i;
	int rc = 0;

	if (strcmp(cmd, "status") == 0) {
		struct rdb_stat st;
		struct rdb_hint hint;

		rdb_stat_get(db, &st);
		reply("status %d %lu %lu %lu %ld", st.ds_leader, (unsigned long)st.ds_term,
		      (unsigned long)st.ds_applied, (unsigned long)st.ds_keys,
		      rdb_leader_hint(db, &hint) == 0 ? (long)hint.rh_rank : -1L);
	} else if (strcmp(cmd, "table") == 0) {
		struct rdb_tx *tx;

		rc = rdb_tx_begin(db, 0, &tx);
		if (rc == 0) {
			rc = rdb_tx_table_create(tx, "t");
			if (rc == 0)
				rc = rdb_tx_commit(tx, table_done, NULL);
			else
				rdb_tx_abort(tx);
		}
		if (rc != 0)
			table_done(rc, NULL);
	} else if (sscanf(cmd, "commit %ld %ld", &from, &n) == 2 && n > 0 && !cl.active) {
		memset(&cl, 0, sizeof(cl));
		cl.active = true;
		cl.next = from;
		cl.end = from + n;
		commit_next();
	} else if (sscanf(cmd, "pcommit %ld %ld %ld", &from, &n, &i) == 3 && n > 0 && i > 0 &&
		   !pc.active) {
		memset(&pc, 0, sizeof(pc));
		pc.active = true;
		pc.next = from;
		pc.end = from + n;
		pc.depth = i;
		pc.start_ns = now_ns();
		pc_fill();
	} else if (sscanf(cmd, "check %ld %ld", &from, &n) == 2) {
		long found = 0;

		for (i = from; i < from + n; i++) {
			char k[32], v[32];
			d_iov_t key;
			const void *val;
			size_t len;

			key_of(i, k, sizeof(k), &key);
			rc = rdb_lookup(db, "t", &key, &val, &len);
			if (rc != 0)
				break;
			snprintf(v, sizeof(v), "val%ld", i);
			if (len != strlen(v) || memcmp(val, v, len) != 0) {
				rc = -DER_MISMATCH;
				break;
			}
			found++;
		}
		reply("check %ld %d", found, rc);
	} else if (strcmp(cmd, "sync") == 0) {
		rc = rdb_sync(db, sync_done, NULL);
		if (rc != 0)
			sync_done(rc, NULL);
	} else if (strcmp(cmd, "quit") == 0) {
		quit();
	} else {
		reply("error unknown command: %s", cmd);
	}
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char rbuf[4096];

	(void)h;
	(void)suggested;
	buf->base = rbuf;
	buf->len = sizeof(rbuf);
}

static void
read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	ssize_t i;

	(void)s;
	if (nread < 0) {
		quit();
		return;
	}
	for (i = 0; i < nread; i++) {
		char c = buf->base[i];

		if (c != '\n') {
			if (line_len < sizeof(line) - 1)
				line[line_len++] = c;
			continue;
		}
		line[line_len] = '\0';
		line_len = 0;
		if (db != NULL)
			command(line);
	}
}

int
main(int argc, char **argv)
{
	struct rdb_replica reps[RDB_REPLICAS_MAX];
	struct rdb_attr attr = {0};
	int rc, i, nreps = argc - 5;

	if (argc < 6 || nreps > RDB_REPLICAS_MAX ||
	    (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "start") != 0)) {
		fprintf(stderr, "usage: %s create|start DIR RANK SNAP ADDR0 [ADDR1 ...]\n",
			argv[0]);
		return 2;
	}
	/* A peer that died must not kill us through a write to its socket. */
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&loop);
	for (i = 0; i < nreps; i++) {
		reps[i].rr_rank = (uint32_t)i;
		reps[i].rr_addr = argv[5 + i];
	}
	attr.da_dir = argv[2];
	attr.da_rank = (uint32_t)atoi(argv[3]);
	attr.da_snapshot_threshold = (uint32_t)atoi(argv[4]);
	if (strcmp(argv[1], "create") == 0)
		rc = rdb_create(&loop, &attr, reps, nreps, &db);
	else
		rc = rdb_start(&loop, &attr, &db);
	if (rc != 0) {
		fprintf(stderr, "rdb_node: %s: %s\n", argv[1], d_errstr(rc));
		uv_run(&loop, UV_RUN_DEFAULT);
		return 1;
	}
	uv_pipe_init(&loop, &in, 0);
	uv_pipe_open(&in, 0);
	uv_read_start((uv_stream_t *)&in, alloc_cb, read_cb);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return 0;
}
