/*
 * test_raft.c: three replicas of a database in one process, on one uv loop, talking over
 * real TCP sockets on 127.0.0.1: election and step_up, commits, reads and iteration on the
 * leader, -DER_NOTLEADER and the leader hint on followers, failover when the leader stops,
 * restart from disk, catch-up of a lagging replica through a snapshot, commits from
 * another thread.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include <d_test.h>

#include "rdb_internal.h"

#define N 3    /* replicas of the group at creation */
#define NMAX 5 /* slots: more join later */

struct node {
	struct rdb *db;
	char dir[256];
	char addr[RDB_ADDR_LEN];
	int ups;
	int downs;
	uint64_t up_term;
	bool stopped;
};

static uv_loop_t loop;
static char root[] = "/tmp/rdb_test_raftXXXXXX";
static struct node nodes[NMAX];
static struct rdb_replica reps[NMAX];
static uv_timer_t tick;

static void
on_up(struct rdb *db, uint64_t term, void *arg)
{
	struct node *n = arg;

	(void)db;
	n->ups++;
	n->up_term = term;
}

static void
on_down(struct rdb *db, uint64_t term, void *arg)
{
	struct node *n = arg;

	(void)db;
	(void)term;
	n->downs++;
}

static struct rdb_cbs cbs[NMAX];

static void
tick_cb(uv_timer_t *t)
{
	(void)t;
}

/* Run the loop until @pred() or @ms pass; returns whether @pred held. */
static bool
run_until(bool (*pred)(void *), void *arg, uint64_t ms)
{
	uint64_t end = uv_now(&loop) + ms;

	while (!pred(arg)) {
		if (uv_now(&loop) > end)
			return false;
		uv_run(&loop, UV_RUN_ONCE);
		uv_update_time(&loop);
	}
	return true;
}

static int
free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void
attr_of(int i, struct rdb_attr *a, uint32_t snap)
{
	memset(a, 0, sizeof(*a));
	a->da_dir = nodes[i].dir;
	a->da_rank = (uint32_t)i;
	a->da_election_timeout_ms = 300;
	a->da_snapshot_threshold = snap;
	a->da_segment_size = 0;
	a->da_watch_interval_ms = 10;
	cbs[i].dc_step_up = on_up;
	cbs[i].dc_step_down = on_down;
	cbs[i].dc_arg = &nodes[i];
	a->da_cbs = &cbs[i];
}

static void
stopped_cb(void *arg)
{
	((struct node *)arg)->stopped = true;
}

static bool
is_stopped(void *arg)
{
	return ((struct node *)arg)->stopped;
}

static bool
node_stop_try(int i)
{
	nodes[i].stopped = false;
	rdb_stop(nodes[i].db, stopped_cb, &nodes[i]);
	nodes[i].db = NULL;
	return run_until(is_stopped, &nodes[i], 10000);
}

static void
node_stop(int i)
{
	assert_true(node_stop_try(i));
}

static void
node_start(int i, uint32_t snap)
{
	struct rdb_attr a;

	attr_of(i, &a, snap);
	assert_int_equal(rdb_start(&loop, &a, &nodes[i].db), 0);
}

static int
setup(void **state)
{
	int i;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	uv_timer_init(&loop, &tick);
	uv_timer_start(&tick, tick_cb, 5, 5);
	strcpy(root, "/tmp/rdb_test_raftXXXXXX");
	assert_non_null(mkdtemp(root));
	memset(nodes, 0, sizeof(nodes));
	for (i = 0; i < NMAX; i++) {
		snprintf(nodes[i].dir, sizeof(nodes[i].dir), "%s/r%d", root, i);
		snprintf(nodes[i].addr, sizeof(nodes[i].addr), "127.0.0.1:%d", free_port());
		reps[i].rr_rank = (uint32_t)i;
		reps[i].rr_addr = nodes[i].addr;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[512];
	int i;

	bool stopped = true;
	int rc;

	(void)state;
	for (i = 0; i < NMAX; i++)
		if (nodes[i].db != NULL)
			stopped = node_stop_try(i) && stopped;
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	rc = uv_loop_close(&loop);
	/* The directory goes whatever happened; then the checks. */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	assert_true(stopped);
	assert_int_equal(rc, 0);
	return 0;
}

static void
create_all(uint32_t snap)
{
	struct rdb_attr a;
	int i;

	for (i = 0; i < N; i++) {
		attr_of(i, &a, snap);
		assert_int_equal(rdb_create(&loop, &a, reps, N, &nodes[i].db), 0);
	}
}

/* Index of the stepped-up leader, or -1. */
static int
leader(void)
{
	int i;

	for (i = 0; i < NMAX; i++)
		if (nodes[i].db != NULL && rdb_is_leader(nodes[i].db, NULL))
			return i;
	return -1;
}

static bool
has_leader(void *arg)
{
	(void)arg;
	return leader() >= 0;
}

static int
wait_leader(void)
{
	assert_true(run_until(has_leader, NULL, 15000));
	return leader();
}

struct done {
	bool d_done;
	int d_rc;
};

static void
done_cb(int rc, void *arg)
{
	struct done *d = arg;

	d->d_done = true;
	d->d_rc = rc;
}

static bool
is_done(void *arg)
{
	return ((struct done *)arg)->d_done;
}

/* Commit @tx on the loop and wait for the outcome. */
static int
commit(struct rdb_tx *tx)
{
	struct done d = {0};
	int rc;

	rc = rdb_tx_commit(tx, done_cb, &d);
	if (rc != 0)
		return rc;
	assert_true(run_until(is_done, &d, 10000));
	return d.d_rc;
}

static void
put_keys(int l, const char *table, int from, int to)
{
	struct rdb_tx *tx;
	char k[32], v[32];
	d_iov_t key, val;
	int i;

	assert_int_equal(rdb_tx_begin(nodes[l].db, 0, &tx), 0);
	for (i = from; i < to; i++) {
		snprintf(k, sizeof(k), "key%06d", i);
		snprintf(v, sizeof(v), "val%d", i);
		d_iov_set(&key, k, strlen(k));
		d_iov_set(&val, v, strlen(v) + 1);
		assert_int_equal(rdb_tx_update(tx, table, &key, &val), 0);
	}
	assert_int_equal(commit(tx), 0);
}

static void
check_key(int l, const char *table, int i)
{
	char k[32], v[32];
	d_iov_t key;
	const void *val;
	size_t len;

	snprintf(k, sizeof(k), "key%06d", i);
	snprintf(v, sizeof(v), "val%d", i);
	d_iov_set(&key, k, strlen(k));
	assert_int_equal(rdb_lookup(nodes[l].db, table, &key, &val, &len), 0);
	assert_int_equal(len, strlen(v) + 1);
	assert_string_equal(val, v);
}

static void
create_table(int l, const char *name)
{
	struct rdb_tx *tx;

	assert_int_equal(rdb_tx_begin(nodes[l].db, 0, &tx), 0);
	assert_int_equal(rdb_tx_table_create(tx, name), 0);
	assert_int_equal(commit(tx), 0);
}

struct iter_arg {
	int next;
	int stop_at;
};

static int
iter_cb(const d_iov_t *key, const d_iov_t *val, void *arg)
{
	struct iter_arg *ia = arg;
	char k[32];

	(void)val;
	snprintf(k, sizeof(k), "key%06d", ia->next);
	assert_int_equal(key->iov_len, strlen(k));
	assert_memory_equal(key->iov_buf, k, key->iov_len);
	ia->next++;
	return ia->next == ia->stop_at ? 1 : 0;
}

struct catchup {
	int i;
	uint64_t keys;
};

static bool
caught_up(void *arg)
{
	struct catchup *c = arg;
	struct rdb_stat st;

	rdb_stat_get(nodes[c->i].db, &st);
	return st.ds_keys == c->keys;
}

static void
test_elect_commit_read(void **state)
{
	struct rdb_hint hint;
	struct iter_arg ia;
	struct rdb_stat st;
	struct rdb_tx *tx;
	const void *val;
	size_t len;
	d_iov_t key;
	uint64_t term;
	int l, f, i;

	(void)state;
	create_all(0);
	l = wait_leader();
	assert_int_equal(nodes[l].ups, 1);
	assert_true(rdb_is_leader(nodes[l].db, &term));
	assert_int_equal(term, nodes[l].up_term);

	create_table(l, "t");
	put_keys(l, "t", 0, 100);
	for (i = 0; i < 100; i++)
		check_key(l, "t", i);
	d_iov_set(&key, "nope", 4);
	assert_int_equal(rdb_lookup(nodes[l].db, "t", &key, &val, &len), -DER_NONEXIST);
	assert_int_equal(rdb_lookup(nodes[l].db, "none", &key, &val, &len), -DER_NONEXIST);

	/* Ordered iteration, from the start and from a key, stopping early. */
	ia.next = 0;
	ia.stop_at = -1;
	assert_int_equal(rdb_iterate(nodes[l].db, "t", NULL, iter_cb, &ia), 0);
	assert_int_equal(ia.next, 100);
	ia.next = 42;
	ia.stop_at = 50;
	d_iov_set(&key, "key000042", 9);
	assert_int_equal(rdb_iterate(nodes[l].db, "t", &key, iter_cb, &ia), 0);
	assert_int_equal(ia.next, 50);

	/* A failing transaction: no effect anywhere. */
	assert_int_equal(rdb_tx_begin(nodes[l].db, 0, &tx), 0);
	d_iov_set(&key, "key000000", 9);
	assert_int_equal(rdb_tx_delete(tx, "t", &key), 0);
	assert_int_equal(rdb_tx_table_destroy(tx, "missing"), 0);
	assert_int_equal(commit(tx), -DER_NONEXIST);
	check_key(l, "t", 0);

	/* A transaction of another term is refused. */
	assert_int_equal(rdb_tx_begin(nodes[l].db, term + 1, &tx), 0);
	assert_int_equal(rdb_tx_table_create(tx, "x"), 0);
	assert_int_equal(rdb_tx_commit(tx, done_cb, NULL), -DER_NOTLEADER);

	/* Followers refuse, name the leader, and hold the same data. */
	for (f = 0; f < N; f++) {
		struct catchup c = {f, 100};

		if (f == l)
			continue;
		assert_int_equal(rdb_lookup(nodes[f].db, "t", &key, &val, &len), -DER_NOTLEADER);
		assert_int_equal(rdb_iterate(nodes[f].db, "t", NULL, iter_cb, &ia), -DER_NOTLEADER);
		assert_int_equal(rdb_tx_begin(nodes[f].db, 0, &tx), 0);
		assert_int_equal(rdb_tx_table_create(tx, "x"), 0);
		assert_int_equal(rdb_tx_commit(tx, done_cb, NULL), -DER_NOTLEADER);
		assert_int_equal(rdb_leader_hint(nodes[f].db, &hint), 0);
		assert_int_equal(hint.rh_rank, l);
		assert_string_equal(hint.rh_addr, nodes[l].addr);
		assert_true(run_until(caught_up, &c, 5000));
		rdb_stat_get(nodes[f].db, &st);
		assert_int_equal(st.ds_tables, 1);
		assert_false(st.ds_leader);
	}
}

static void
test_failover_restart(void **state)
{
	struct rdb_attr a;
	struct rdb *db;
	int l, l2, i;

	(void)state;
	create_all(0);
	l = wait_leader();
	create_table(l, "t");
	put_keys(l, "t", 0, 50);

	/* The leader goes away: another one steps up with everything acknowledged. */
	node_stop(l);
	assert_int_equal(nodes[l].downs, 1);
	l2 = wait_leader();
	assert_int_not_equal(l2, l);
	for (i = 0; i < 50; i++)
		check_key(l2, "t", i);
	put_keys(l2, "t", 50, 60);

	/* It comes back as a follower and catches up. */
	node_start(l, 0);
	{
		struct catchup c = {l, 60};

		assert_true(run_until(caught_up, &c, 10000));
	}

	/* Whole group restarts from disk. */
	for (i = 0; i < N; i++)
		node_stop(i);
	attr_of(0, &a, 0);
	assert_int_equal(rdb_create(&loop, &a, reps, N, &db), -DER_EXIST);
	for (i = 0; i < N; i++)
		node_start(i, 0);
	l = wait_leader();
	for (i = 0; i < 60; i++)
		check_key(l, "t", i);

	/* Bad arguments. */
	attr_of(0, &a, 0);
	a.da_dir = root; /* no database there */
	assert_int_equal(rdb_start(&loop, &a, &db), -DER_NONEXIST);
	assert_int_equal(rdb_create(&loop, &a, reps, 2, &db), -DER_INVAL);
	a.da_rank = 7;
	assert_int_equal(rdb_create(&loop, &a, reps, N, &db), -DER_INVAL);
}

static void
test_snapshot_catchup(void **state)
{
	struct catchup c;
	int l, f, i;

	(void)state;
	create_all(8); /* a snapshot every 8 entries */
	l = wait_leader();
	create_table(l, "t");
	f = (l + 1) % N;
	node_stop(f);
	/* 40 entries while it is away: its missing log is compacted into snapshots. */
	for (i = 0; i < 40; i++)
		put_keys(l, "t", i * 5, i * 5 + 5);
	node_start(f, 8);
	c.i = f;
	c.keys = 200;
	assert_true(run_until(caught_up, &c, 15000));

	/* Restart everything: state comes back from snapshot + log tail. */
	for (i = 0; i < N; i++)
		node_stop(i);
	for (i = 0; i < N; i++)
		node_start(i, 8);
	l = wait_leader();
	for (i = 0; i < 200; i++)
		check_key(l, "t", i);
}

struct counted {
	int calls;
	int rc;
};

static void
counted_cb(int rc, void *arg)
{
	struct counted *c = arg;

	c->calls++;
	c->rc = rc;
}

static bool
first_done(void *arg)
{
	return ((struct counted *)arg)->calls > 0;
}

/* Stopping the leader with commits in flight: each callback runs once, before the stop. */
static void
test_stop_inflight(void **state)
{
	struct counted c[20];
	struct rdb_tx *tx;
	char k[32];
	d_iov_t key;
	int l, l2, i, ok = 0;

	(void)state;
	memset(c, 0, sizeof(c));
	create_all(0);
	l = wait_leader();
	create_table(l, "t");
	for (i = 0; i < 20; i++) {
		snprintf(k, sizeof(k), "key%06d", i);
		d_iov_set(&key, k, strlen(k));
		assert_int_equal(rdb_tx_begin(nodes[l].db, 0, &tx), 0);
		assert_int_equal(rdb_tx_update(tx, "t", &key, &key), 0);
		assert_int_equal(rdb_tx_commit(tx, counted_cb, &c[i]), 0);
	}
	/* Let the first complete, then stop with the rest (most likely) in flight. */
	assert_true(run_until(first_done, &c[0], 10000));
	node_stop(l);
	for (i = 0; i < 20; i++) {
		assert_int_equal(c[i].calls, 1);
		assert_true(c[i].rc == 0 || c[i].rc == -DER_SHUTDOWN || c[i].rc == -DER_NOTLEADER);
		ok += c[i].rc == 0;
	}
	assert_int_equal(c[0].rc, 0);
	print_message("%d of 20 committed before the stop\n", ok);
	/* Whatever was acknowledged survives on the new leader. */
	l2 = wait_leader();
	assert_int_not_equal(l2, l);
	for (i = 0; i < 20; i++) {
		const void *val;
		size_t len;

		if (c[i].rc != 0)
			continue;
		snprintf(k, sizeof(k), "key%06d", i);
		d_iov_set(&key, k, strlen(k));
		assert_int_equal(rdb_lookup(nodes[l2].db, "t", &key, &val, &len), 0);
	}
}

/* rdb_sync on the leader and a follower; rdb_resign to any and to a chosen replica. */
static void
test_sync_resign(void **state)
{
	struct done d = {0};
	uint64_t t0;
	int l, l2, f;

	(void)state;
	create_all(0);
	l = wait_leader();
	f = (l + 1) % N;
	assert_int_equal(rdb_sync(nodes[l].db, done_cb, &d), 0);
	assert_true(run_until(is_done, &d, 5000));
	assert_int_equal(d.d_rc, 0);
	assert_int_equal(rdb_sync(nodes[f].db, done_cb, &d), -DER_NOTLEADER);
	assert_int_equal(rdb_resign(nodes[f].db, UINT32_MAX, done_cb, &d), -DER_NOTLEADER);
	assert_int_equal(rdb_resign(nodes[l].db, (uint32_t)l, done_cb, &d), -DER_INVAL);
	assert_int_equal(rdb_resign(nodes[l].db, 9, done_cb, &d), -DER_INVAL);

	/* To whoever is most up to date: much faster than an election timeout. */
	memset(&d, 0, sizeof(d));
	t0 = uv_now(&loop);
	assert_int_equal(rdb_resign(nodes[l].db, UINT32_MAX, done_cb, &d), 0);
	assert_true(run_until(is_done, &d, 5000));
	assert_int_equal(d.d_rc, 0);
	assert_false(rdb_is_leader(nodes[l].db, NULL));
	assert_int_equal(nodes[l].downs, 1);
	l2 = wait_leader();
	assert_int_not_equal(l2, l);
	print_message("handover in %" PRIu64 " ms\n", uv_now(&loop) - t0);

	/* Back to the first one, by rank. */
	memset(&d, 0, sizeof(d));
	assert_int_equal(rdb_resign(nodes[l2].db, (uint32_t)l, done_cb, &d), 0);
	assert_true(run_until(is_done, &d, 5000));
	assert_int_equal(d.d_rc, 0);
	assert_int_equal(wait_leader(), l);
	create_table(l, "t");
}

/* Replace a member: join a new replica, add it, remove the leader, lose nothing. */
static void
test_membership(void **state)
{
	struct rdb_attr a;
	struct catchup c;
	struct done d = {0};
	int l, l2, i;

	(void)state;
	create_all(8);
	l = wait_leader();
	create_table(l, "t");
	put_keys(l, "t", 0, 30);

	attr_of(3, &a, 8);
	assert_int_equal(rdb_join(&loop, &a, nodes[3].addr, &nodes[3].db), 0);
	assert_int_equal(rdb_replica_add(nodes[l].db, 3, nodes[0].addr, done_cb, &d), -DER_EXIST);
	assert_int_equal(rdb_replica_add(nodes[(l + 1) % N].db, 3, nodes[3].addr, done_cb, &d),
			 -DER_NOTLEADER);
	assert_int_equal(rdb_replica_add(nodes[l].db, 3, nodes[3].addr, done_cb, &d), 0);
	assert_true(run_until(is_done, &d, 15000));
	assert_int_equal(d.d_rc, 0);
	c.i = 3;
	c.keys = 30;
	assert_true(run_until(caught_up, &c, 10000));

	/* Four voters: remove the leader itself; it steps down, the others carry on. */
	memset(&d, 0, sizeof(d));
	assert_int_equal(rdb_replica_remove(nodes[l].db, 7, done_cb, &d), -DER_NONEXIST);
	assert_int_equal(rdb_replica_remove(nodes[l].db, (uint32_t)l, done_cb, &d), 0);
	assert_true(run_until(is_done, &d, 15000));
	assert_int_equal(d.d_rc, 0);
	node_stop(l);
	l2 = wait_leader();
	assert_int_not_equal(l2, l);
	put_keys(l2, "t", 30, 40);
	for (i = 0; i < 40; i++)
		check_key(l2, "t", i);

	/* The joined replica restarts like any other. */
	node_stop(3);
	node_start(3, 8);
	c.keys = 40;
	assert_true(run_until(caught_up, &c, 10000));
}

/* Commits and reads from a thread that is not the loop's. */
struct thr {
	struct rdb *db;
	int rc_commit;
	int rc_read;
	bool done;
};

static void
read_fn(void *arg)
{
	struct thr *t = arg;
	d_iov_t key;
	const void *val;
	size_t len;

	d_iov_set(&key, "from-thread", 11);
	t->rc_read = rdb_lookup(t->db, "t", &key, &val, &len);
	if (t->rc_read == 0 && (len != 2 || memcmp(val, "ok", 2) != 0))
		t->rc_read = -DER_MISMATCH;
}

static void *
thr_main(void *arg)
{
	struct thr *t = arg;
	struct rdb_tx *tx;
	d_iov_t key, val;

	assert_int_equal(rdb_tx_begin(t->db, 0, &tx), 0);
	d_iov_set(&key, "from-thread", 11);
	d_iov_set(&val, "ok", 2);
	assert_int_equal(rdb_tx_update(tx, "t", &key, &val), 0);
	t->rc_commit = rdb_tx_commit_sync(tx);
	t->rc_read = rdb_exec_sync(t->db, read_fn, t) ?: t->rc_read;
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static bool
thr_done(void *arg)
{
	return __atomic_load_n(&((struct thr *)arg)->done, __ATOMIC_ACQUIRE);
}

static void
test_other_thread(void **state)
{
	struct thr t = {0};
	pthread_t th;
	int l;

	(void)state;
	create_all(0);
	l = wait_leader();
	create_table(l, "t");
	t.db = nodes[l].db;
	t.rc_read = -1;
	assert_int_equal(pthread_create(&th, NULL, thr_main, &t), 0);
	assert_true(run_until(thr_done, &t, 10000));
	pthread_join(th, NULL);
	assert_int_equal(t.rc_commit, 0);
	assert_int_equal(t.rc_read, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_elect_commit_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failover_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_catchup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_inflight, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sync_resign, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_membership, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("rdb_raft", tests, NULL, NULL);
}
