/*
 * rdb_raft.c: a database = one libraft instance (libuv I/O and TCP transport) on the
 * caller's loop, whose FSM is the store of rdb_kvs.c. Lifecycle (create/start/stop),
 * leadership watching (step_up after a barrier, step_down), commits, leader-only reads,
 * and the cross-thread queue behind rdb_exec_sync and rdb_tx_commit_sync.
 *
 * States of a replica, as seen by the owner:
 *
 *   follower/candidate --(raft elects us)--> leader, barrier pending
 *   leader, barrier pending --(barrier applied, same term)--> UP: step_up(term)
 *   UP --(raft state or term changes, or rdb_stop)--> step_down(term), not up
 *
 * raft has no leadership callback, so a uv timer (da_watch_interval_ms) drives the edges;
 * the barrier guarantees that a stepped-up leader has applied every entry of older terms.
 */
#define D_LOGFAC rdb

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include <gurt/list.h>

#include "rdb_internal.h"

D_LOG_FAC_DEFINE(rdb);

/* The identity file of a replica, beside raft's files: "rank address\n". */
#define RDB_ID_FILE "rdb_id"

/* A function queued for the loop by another thread; the waiter owns it (on its stack). */
struct rdb_exec {
	d_list_t e_link;
	void (*e_fn)(struct rdb_exec *e); /* completes with exec_done */
	void (*e_user_fn)(void *arg);
	void *e_arg;
	struct rdb_tx *e_tx; /* commit_sync: aborted if never run */
	int e_rc;
	bool e_done;
	pthread_mutex_t e_lock;
	pthread_cond_t e_cond;
};

struct rdb {
	uv_loop_t *d_loop;
	struct raft d_raft;
	struct raft_io d_io;
	struct raft_uv_transport d_transport;
	struct raft_fsm d_fsm;
	uv_timer_t d_watch;
	uv_async_t d_async;
	struct rdb_store d_store;
	struct rdb_cbs d_cbs;
	uint32_t d_rank;
	char d_addr[RDB_ADDR_LEN];
	uint32_t d_watch_ms;

	bool d_up;              /* stepped up (serving) */
	uint64_t d_up_term;     /* the term we are up in */
	bool d_barrier_pending; /* a barrier of d_barrier_term is in flight */
	uint64_t d_barrier_term;

	/* Stopping: d_stopping set by rdb_stop; handles left to close. */
	bool d_stopping;
	int d_closing;
	rdb_stop_cb_t d_stop_cb;
	void *d_stop_arg;

	/* The cross-thread queue (d_lock protects it and d_closed_queue). */
	pthread_mutex_t d_lock;
	d_list_t d_queue;
	bool d_closed_queue;
};

struct rdb_commit {
	struct raft_apply c_req;
	struct rdb *c_db;
	rdb_tx_cb_t c_cb;
	void *c_arg;
};

struct rdb_barrier {
	struct raft_barrier b_req;
	struct rdb *b_db;
	uint64_t b_term;
};

static int
raft2der(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case RAFT_NOMEM:
		return -DER_NOMEM;
	case RAFT_NOTLEADER:
	case RAFT_LEADERSHIPLOST:
		return -DER_NOTLEADER;
	case RAFT_SHUTDOWN:
	case RAFT_CANCELED:
		return -DER_SHUTDOWN;
	case RAFT_CANTBOOTSTRAP:
		return -DER_EXIST;
	case RAFT_TOOBIG:
		return -DER_REC2BIG;
	case RAFT_NOSPACE:
		return -DER_NOSPACE;
	case RAFT_BUSY:
		return -DER_BUSY;
	case RAFT_INVALID:
	case RAFT_BADID:
	case RAFT_DUPLICATEID:
	case RAFT_DUPLICATEADDRESS:
	case RAFT_NAMETOOLONG:
		return -DER_INVAL;
	case RAFT_NOTFOUND:
		return -DER_NONEXIST;
	case RAFT_UNAUTHORIZED:
		return -DER_NO_PERM;
	default:
		return -DER_IO;
	}
}

/*
 * The FSM (loop thread, called by raft).
 */

static int
fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
	struct rdb *db = fsm->data;
	int rc;

	rc = rdb_store_apply(&db->d_store, buf->base, buf->len);
	if (rc == -DER_NOMEM) {
		/* Invariant 2: stall rather than diverge from the other replicas. */
		D_ERROR("rdb %u: out of memory applying an entry; replica stalls\n", db->d_rank);
		return RAFT_NOMEM;
	}
	if (rc != 0)
		D_DEBUG("rdb %u: transaction had no effect: " DF_RC "\n", db->d_rank, DP_RC(rc));
	*result = (void *)(intptr_t)rc;
	return 0;
}

static int
fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct rdb *db = fsm->data;
	struct raft_buffer *b;
	int rc;

	D_ALLOC_PTR(b);
	if (b == NULL)
		return RAFT_NOMEM;
	rc = rdb_store_encode(&db->d_store, &b->base, &b->len);
	if (rc != 0) {
		D_FREE(b);
		return RAFT_NOMEM;
	}
	*bufs = b;
	*n_bufs = 1;
	D_DEBUG("rdb %u: snapshot of %zu bytes\n", db->d_rank, b->len);
	return 0;
}

/* Version 2: we own the snapshot buffers and free them here. */
static int
fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	unsigned i;

	(void)fsm;
	for (i = 0; i < *n_bufs; i++)
		D_FREE((*bufs)[i].base);
	D_FREE(*bufs);
	*bufs = NULL;
	*n_bufs = 0;
	return 0;
}

/* On success the FSM owns buf->base (raft_free); on failure raft keeps it. */
static int
fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct rdb *db = fsm->data;
	struct rdb_store fresh;
	int rc;

	rdb_store_init(&fresh);
	rc = rdb_store_decode(&fresh, buf->base, buf->len);
	if (rc != 0) {
		D_ERROR("rdb %u: bad snapshot of %zu bytes: " DF_RC "\n", db->d_rank, buf->len,
			DP_RC(rc));
		return rc == -DER_NOMEM ? RAFT_NOMEM : RAFT_CORRUPT;
	}
	rdb_store_swap(&db->d_store, &fresh);
	raft_free(buf->base);
	D_DEBUG("rdb %u: restored a snapshot: %zu tables\n", db->d_rank, db->d_store.s_nr);
	return 0;
}

/*
 * Leadership.
 */

static void
step_down(struct rdb *db)
{
	uint64_t term = db->d_up_term;

	if (!db->d_up)
		return;
	db->d_up = false;
	D_INFO("rdb %u: stepping down in term %" PRIu64 "\n", db->d_rank, term);
	if (db->d_cbs.dc_step_down != NULL)
		db->d_cbs.dc_step_down(db, term, db->d_cbs.dc_arg);
}

static void
barrier_cb(struct raft_barrier *req, int status)
{
	struct rdb_barrier *b = req->data;
	struct rdb *db = b->b_db;

	if (db->d_barrier_term == b->b_term)
		db->d_barrier_pending = false;
	if (status == 0 && !db->d_stopping && !db->d_up && raft_state(&db->d_raft) == RAFT_LEADER &&
	    db->d_raft.current_term == b->b_term) {
		db->d_up = true;
		db->d_up_term = b->b_term;
		D_INFO("rdb %u: stepping up in term %" PRIu64 "\n", db->d_rank, b->b_term);
		if (db->d_cbs.dc_step_up != NULL)
			db->d_cbs.dc_step_up(db, b->b_term, db->d_cbs.dc_arg);
	}
	D_FREE(b);
}

static void
watch(struct rdb *db)
{
	int state = raft_state(&db->d_raft);
	uint64_t term = db->d_raft.current_term;
	struct rdb_barrier *b;
	int rv;

	if (db->d_stopping)
		return;
	if (db->d_up && (state != RAFT_LEADER || term != db->d_up_term))
		step_down(db);
	if (db->d_up || state != RAFT_LEADER)
		return;
	if (db->d_barrier_pending && db->d_barrier_term == term)
		return;
	D_ALLOC_PTR(b);
	if (b == NULL)
		return; /* the next tick retries */
	b->b_db = db;
	b->b_term = term;
	b->b_req.data = b;
	rv = raft_barrier(&db->d_raft, &b->b_req, barrier_cb);
	if (rv != 0) {
		D_DEBUG("rdb %u: barrier: %s\n", db->d_rank, raft_strerror(rv));
		D_FREE(b);
		return;
	}
	db->d_barrier_pending = true;
	db->d_barrier_term = term;
}

static void
watch_cb(uv_timer_t *t)
{
	watch(t->data);
}

bool
rdb_is_leader(struct rdb *db, uint64_t *term)
{
	/* Catch a deposition that the timer has not seen yet. */
	if (db->d_up &&
	    (raft_state(&db->d_raft) != RAFT_LEADER || db->d_raft.current_term != db->d_up_term))
		step_down(db);
	if (term != NULL)
		*term = db->d_up ? db->d_up_term : 0;
	return db->d_up;
}

int
rdb_leader_hint(struct rdb *db, struct rdb_hint *hint)
{
	raft_id id = 0;
	const char *addr = NULL;

	raft_leader(&db->d_raft, &id, &addr);
	if (id == 0 || addr == NULL)
		return -DER_NONEXIST;
	memset(hint, 0, sizeof(*hint));
	hint->rh_rank = (uint32_t)(id - 1);
	hint->rh_term = db->d_raft.current_term;
	snprintf(hint->rh_addr, sizeof(hint->rh_addr), "%s", addr);
	return 0;
}

void
rdb_stat_get(struct rdb *db, struct rdb_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->ds_term = db->d_raft.current_term;
	st->ds_applied = raft_last_applied(&db->d_raft);
	st->ds_last_index = raft_last_index(&db->d_raft);
	st->ds_tables = db->d_store.s_nr;
	st->ds_keys = db->d_store.s_keys;
	st->ds_leader = rdb_is_leader(db, NULL);
}

struct rdb_sync_req {
	struct raft_barrier s_req;
	struct rdb *s_db;
	uint64_t s_term;
	rdb_tx_cb_t s_cb;
	void *s_arg;
};

static void
sync_cb(struct raft_barrier *req, int status)
{
	struct rdb_sync_req *s = req->data;
	struct rdb *db = s->s_db;
	int rc;

	if (db->d_stopping)
		rc = -DER_SHUTDOWN;
	else if (status != 0)
		rc = raft2der(status);
	else if (!rdb_is_leader(db, NULL) || db->d_up_term != s->s_term)
		rc = -DER_NOTLEADER;
	else
		rc = 0;
	s->s_cb(rc, s->s_arg);
	D_FREE(s);
}

int
rdb_sync(struct rdb *db, rdb_tx_cb_t cb, void *arg)
{
	struct rdb_sync_req *s;
	uint64_t term;
	int rv;

	if (db == NULL || cb == NULL)
		return -DER_INVAL;
	if (db->d_stopping)
		return -DER_SHUTDOWN;
	if (!rdb_is_leader(db, &term))
		return -DER_NOTLEADER;
	D_ALLOC_PTR(s);
	if (s == NULL)
		return -DER_NOMEM;
	s->s_db = db;
	s->s_term = term;
	s->s_cb = cb;
	s->s_arg = arg;
	s->s_req.data = s;
	rv = raft_barrier(&db->d_raft, &s->s_req, sync_cb);
	if (rv != 0) {
		D_FREE(s);
		return raft2der(rv);
	}
	return 0;
}

struct rdb_resign_req {
	struct raft_transfer r_req;
	struct rdb *r_db;
	rdb_tx_cb_t r_cb;
	void *r_arg;
};

static void
resign_cb(struct raft_transfer *req)
{
	struct rdb_resign_req *r = req->data;
	struct rdb *db = r->r_db;
	int rc;

	if (db->d_stopping)
		rc = -DER_SHUTDOWN;
	else if (raft_state(&db->d_raft) == RAFT_LEADER)
		rc = -DER_TIMEDOUT;
	else
		rc = 0;
	/* Step down now rather than at the next watch tick. */
	rdb_is_leader(db, NULL);
	r->r_cb(rc, r->r_arg);
	D_FREE(r);
}

int
rdb_resign(struct rdb *db, uint32_t rank, rdb_tx_cb_t cb, void *arg)
{
	struct rdb_resign_req *r;
	raft_id id = 0;
	int rv;

	if (db == NULL || cb == NULL || rank == db->d_rank)
		return -DER_INVAL;
	if (db->d_stopping)
		return -DER_SHUTDOWN;
	if (raft_state(&db->d_raft) != RAFT_LEADER)
		return -DER_NOTLEADER;
	if (rank != UINT32_MAX)
		id = (raft_id)rank + 1;
	D_ALLOC_PTR(r);
	if (r == NULL)
		return -DER_NOMEM;
	r->r_db = db;
	r->r_cb = cb;
	r->r_arg = arg;
	r->r_req.data = r;
	rv = raft_transfer(&db->d_raft, &r->r_req, id, resign_cb);
	if (rv != 0) {
		D_FREE(r);
		return rv == RAFT_NOTFOUND || rv == RAFT_BADID ? -DER_INVAL : raft2der(rv);
	}
	D_INFO("rdb %u: handing leadership over to %s\n", db->d_rank,
	       rank == UINT32_MAX ? "the most up-to-date replica" : "a chosen replica");
	return 0;
}

/* A membership change; an addition is two: raft_add (as a spare), then raft_assign. */
struct rdb_change_req {
	struct raft_change c_req;
	struct rdb *c_db;
	raft_id c_id;
	bool c_promote; /* raft_add done: promote to voter next */
	rdb_tx_cb_t c_cb;
	void *c_arg;
};

static int
change2der(int rv)
{
	switch (rv) {
	case RAFT_DUPLICATEID:
	case RAFT_DUPLICATEADDRESS:
		return -DER_EXIST;
	case RAFT_BADID:
	case RAFT_NOTFOUND:
		return -DER_NONEXIST;
	case RAFT_CANTCHANGE:
		return -DER_BUSY;
	default:
		return raft2der(rv);
	}
}

static void
change_cb(struct raft_change *req, int status)
{
	struct rdb_change_req *c = req->data;
	struct rdb *db = c->c_db;
	int rc, rv;

	if (status == 0 && c->c_promote && !db->d_stopping) {
		c->c_promote = false;
		rv = raft_assign(&db->d_raft, &c->c_req, c->c_id, RAFT_VOTER, change_cb);
		if (rv == 0)
			return;
		status = rv;
	}
	rc = db->d_stopping ? -DER_SHUTDOWN : change2der(status);
	D_INFO("rdb %u: membership change for rank %llu: " DF_RC "\n", db->d_rank, c->c_id - 1,
	       DP_RC(rc));
	/* A leader that removed itself steps down now. */
	rdb_is_leader(db, NULL);
	c->c_cb(rc, c->c_arg);
	D_FREE(c);
}

static int
change_start(struct rdb *db, uint32_t rank, const char *addr, rdb_tx_cb_t cb, void *arg)
{
	struct rdb_change_req *c;
	int rv;

	if (db == NULL || cb == NULL || rank == UINT32_MAX)
		return -DER_INVAL;
	if (db->d_stopping)
		return -DER_SHUTDOWN;
	if (!rdb_is_leader(db, NULL))
		return -DER_NOTLEADER;
	D_ALLOC_PTR(c);
	if (c == NULL)
		return -DER_NOMEM;
	c->c_db = db;
	c->c_id = (raft_id)rank + 1;
	c->c_cb = cb;
	c->c_arg = arg;
	c->c_req.data = c;
	if (addr != NULL) {
		c->c_promote = true;
		rv = raft_add(&db->d_raft, &c->c_req, c->c_id, addr, change_cb);
	} else {
		rv = raft_remove(&db->d_raft, &c->c_req, c->c_id, change_cb);
	}
	if (rv != 0) {
		D_FREE(c);
		return change2der(rv);
	}
	return 0;
}

int
rdb_replica_add(struct rdb *db, uint32_t rank, const char *addr, rdb_tx_cb_t cb, void *arg)
{
	if (addr == NULL || strlen(addr) == 0 || strlen(addr) >= RDB_ADDR_LEN)
		return -DER_INVAL;
	return change_start(db, rank, addr, cb, arg);
}

int
rdb_replica_remove(struct rdb *db, uint32_t rank, rdb_tx_cb_t cb, void *arg)
{
	return change_start(db, rank, NULL, cb, arg);
}

/*
 * The cross-thread queue.
 */

static void
exec_done(struct rdb_exec *e, int rc)
{
	pthread_mutex_lock(&e->e_lock);
	e->e_rc = rc;
	e->e_done = true;
	pthread_cond_signal(&e->e_cond);
	pthread_mutex_unlock(&e->e_lock);
}

static void
async_cb(uv_async_t *a)
{
	struct rdb *db = a->data;
	d_list_t todo;
	struct rdb_exec *e;

	D_INIT_LIST_HEAD(&todo);
	pthread_mutex_lock(&db->d_lock);
	d_list_splice_init(&db->d_queue, &todo);
	pthread_mutex_unlock(&db->d_lock);
	while ((e = d_list_pop_entry(&todo, struct rdb_exec, e_link)) != NULL)
		e->e_fn(e);
}

/* Queue @e for the loop and wait until it completes. */
static int
exec_wait(struct rdb *db, struct rdb_exec *e)
{
	int rc;

	pthread_mutex_init(&e->e_lock, NULL);
	pthread_cond_init(&e->e_cond, NULL);
	pthread_mutex_lock(&db->d_lock);
	if (db->d_closed_queue) {
		pthread_mutex_unlock(&db->d_lock);
		rc = -DER_SHUTDOWN;
		rdb_tx_abort(e->e_tx);
		goto out;
	}
	d_list_add_tail(&e->e_link, &db->d_queue);
	/* Under the lock: once db_close has closed the queue, nobody touches d_async. */
	uv_async_send(&db->d_async);
	pthread_mutex_unlock(&db->d_lock);

	pthread_mutex_lock(&e->e_lock);
	while (!e->e_done)
		pthread_cond_wait(&e->e_cond, &e->e_lock);
	rc = e->e_rc;
	pthread_mutex_unlock(&e->e_lock);
out:
	pthread_cond_destroy(&e->e_cond);
	pthread_mutex_destroy(&e->e_lock);
	return rc;
}

static void
exec_user(struct rdb_exec *e)
{
	e->e_user_fn(e->e_arg);
	exec_done(e, 0);
}

int
rdb_exec_sync(struct rdb *db, void (*fn)(void *arg), void *arg)
{
	struct rdb_exec e = {.e_fn = exec_user, .e_user_fn = fn, .e_arg = arg};

	return exec_wait(db, &e);
}

static void
exec_commit_cb(int rc, void *arg)
{
	exec_done(arg, rc);
}

static void
exec_commit(struct rdb_exec *e)
{
	struct rdb_tx *tx = e->e_tx;
	int rc;

	e->e_tx = NULL;
	rc = rdb_tx_commit(tx, exec_commit_cb, e);
	if (rc != 0)
		exec_done(e, rc);
}

int
rdb_tx_commit_sync(struct rdb_tx *tx)
{
	struct rdb_exec e = {.e_fn = exec_commit, .e_tx = tx};

	if (tx == NULL || tx->tx_db == NULL) {
		rdb_tx_abort(tx);
		return -DER_INVAL;
	}
	return exec_wait(tx->tx_db, &e);
}

/*
 * Commits and reads.
 */

static void
commit_cb(struct raft_apply *req, int status, void *result)
{
	struct rdb_commit *c = req->data;
	int rc;

	if (status == 0)
		rc = (int)(intptr_t)result;
	else if (c->c_db->d_stopping)
		rc = -DER_SHUTDOWN;
	else
		rc = raft2der(status);
	c->c_cb(rc, c->c_arg);
	D_FREE(c);
}

int
rdb_tx_commit(struct rdb_tx *tx, rdb_tx_cb_t cb, void *arg)
{
	struct rdb *db;
	struct rdb_commit *c;
	struct raft_buffer buf;
	int rc, rv;

	if (tx == NULL)
		return -DER_INVAL;
	db = tx->tx_db;
	if (db == NULL || cb == NULL || tx->tx_nops == 0) {
		rc = -DER_INVAL;
		goto out_abort;
	}
	if (db->d_stopping) {
		rc = -DER_SHUTDOWN;
		goto out_abort;
	}
	if (!rdb_is_leader(db, NULL) || (tx->tx_term != 0 && tx->tx_term != db->d_up_term)) {
		rc = -DER_NOTLEADER;
		goto out_abort;
	}
	D_ALLOC_PTR(c);
	if (c == NULL) {
		rc = -DER_NOMEM;
		goto out_abort;
	}
	c->c_db = db;
	c->c_cb = cb;
	c->c_arg = arg;
	c->c_req.data = c;
	/*
	 * libraft stores entries in whole 8-byte words (a shorter one reloads as a torn
	 * segment): pad with zeros, which rdb_store_apply accepts.
	 */
	buf.len = (tx->tx_len + 7) & ~(size_t)7;
	if (buf.len > tx->tx_cap) {
		char *p = raft_realloc(tx->tx_buf, buf.len);

		if (p == NULL) {
			rc = -DER_NOMEM;
			D_FREE(c);
			goto out_abort;
		}
		tx->tx_buf = p;
		tx->tx_cap = buf.len;
	}
	memset(tx->tx_buf + tx->tx_len, 0, buf.len - tx->tx_len);
	buf.base = tx->tx_buf;
	rv = raft_apply(&db->d_raft, &c->c_req, &buf, 1, commit_cb);
	if (rv != 0) {
		rc = raft2der(rv);
		D_DEBUG("rdb %u: apply: %s\n", db->d_rank, raft_strerror(rv));
		D_FREE(c);
		goto out_abort;
	}
	/* raft owns the buffer now. */
	D_FREE(tx);
	return 0;
out_abort:
	rdb_tx_abort(tx);
	return rc;
}

static int
read_table(struct rdb *db, const char *table, struct rdb_table **t)
{
	if (db == NULL || table == NULL)
		return -DER_INVAL;
	if (!rdb_is_leader(db, NULL))
		return -DER_NOTLEADER;
	*t = rdb_store_table_find(&db->d_store, table);
	return *t == NULL ? -DER_NONEXIST : 0;
}

int
rdb_lookup(struct rdb *db, const char *table, const d_iov_t *key, const void **val, size_t *len)
{
	struct rdb_table *t;
	const struct rdb_kv *kv;
	bool found;
	size_t pos;
	int rc;

	if (key == NULL || key->iov_buf == NULL || key->iov_len == 0 || val == NULL || len == NULL)
		return -DER_INVAL;
	rc = read_table(db, table, &t);
	if (rc != 0)
		return rc;
	pos = rdb_table_search(t, key->iov_buf, key->iov_len, &found);
	if (!found)
		return -DER_NONEXIST;
	kv = t->t_kvs[pos];
	*val = kv->kv_data + kv->kv_klen;
	*len = kv->kv_vlen;
	return 0;
}

int
rdb_iterate(struct rdb *db, const char *table, const d_iov_t *start, rdb_iterate_cb_t cb, void *arg)
{
	struct rdb_table *t;
	bool found;
	size_t pos = 0;
	int rc;

	if (cb == NULL || (start != NULL && start->iov_buf == NULL && start->iov_len != 0))
		return -DER_INVAL;
	rc = read_table(db, table, &t);
	if (rc != 0)
		return rc;
	if (start != NULL && start->iov_len > 0)
		pos = rdb_table_search(t, start->iov_buf, start->iov_len, &found);
	for (; pos < t->t_nr; pos++) {
		const struct rdb_kv *kv = t->t_kvs[pos];
		d_iov_t k, v;

		d_iov_set(&k, (void *)kv->kv_data, kv->kv_klen);
		d_iov_set(&v, (void *)(kv->kv_data + kv->kv_klen), kv->kv_vlen);
		rc = cb(&k, &v, arg);
		if (rc != 0)
			return rc > 0 ? 0 : rc;
	}
	return 0;
}

/*
 * Lifecycle.
 */

static void
db_free(struct rdb *db)
{
	rdb_stop_cb_t cb = db->d_stop_cb;
	void *arg = db->d_stop_arg;

	rdb_store_fini(&db->d_store);
	pthread_mutex_destroy(&db->d_lock);
	D_FREE(db);
	if (cb != NULL)
		cb(arg);
}

static void
handle_closed(uv_handle_t *h)
{
	struct rdb *db = h->data;

	if (--db->d_closing == 0)
		db_free(db);
}

static void
raft_closed(struct raft *r)
{
	struct rdb *db = r->data;

	raft_uv_close(&db->d_io);
	raft_uv_tcp_close(&db->d_transport);
	if (--db->d_closing == 0)
		db_free(db);
}

/* Refuse queued work, close the handles and raft; db_free runs when all are closed. */
static void
db_close(struct rdb *db, bool handles)
{
	struct rdb_exec *e;

	db->d_stopping = true;
	pthread_mutex_lock(&db->d_lock);
	db->d_closed_queue = true;
	pthread_mutex_unlock(&db->d_lock);
	/* Nobody adds to the queue now: fail what is left without the lock. */
	while ((e = d_list_pop_entry(&db->d_queue, struct rdb_exec, e_link)) != NULL) {
		rdb_tx_abort(e->e_tx);
		e->e_tx = NULL;
		exec_done(e, -DER_SHUTDOWN);
	}
	db->d_closing = 1;
	if (handles) {
		db->d_closing += 2;
		uv_timer_stop(&db->d_watch);
		uv_close((uv_handle_t *)&db->d_watch, handle_closed);
		uv_close((uv_handle_t *)&db->d_async, handle_closed);
	}
	raft_close(&db->d_raft, raft_closed);
}

void
rdb_stop(struct rdb *db, rdb_stop_cb_t cb, void *arg)
{
	D_ASSERT(db != NULL && !db->d_stopping);
	D_INFO("rdb %u: stopping\n", db->d_rank);
	step_down(db);
	db->d_stop_cb = cb;
	db->d_stop_arg = arg;
	db_close(db, true);
}

static int
id_file_write(const char *dir, uint32_t rank, const char *addr)
{
	char path[PATH_MAX];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/" RDB_ID_FILE, dir);
	f = fopen(path, "w");
	if (f == NULL)
		return d_errno2der(errno);
	if (fprintf(f, "%u %s\n", rank, addr) < 0)
		rc = -DER_IO;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -DER_IO;
	if (fclose(f) != 0)
		rc = -DER_IO;
	return rc;
}

static int
id_file_read(const char *dir, uint32_t *rank, char *addr, size_t len)
{
	char path[PATH_MAX], line[RDB_ADDR_LEN + 32], a[RDB_ADDR_LEN];
	FILE *f;
	unsigned int r;

	snprintf(path, sizeof(path), "%s/" RDB_ID_FILE, dir);
	f = fopen(path, "r");
	if (f == NULL)
		return errno == ENOENT ? -DER_NONEXIST : d_errno2der(errno);
	if (fgets(line, sizeof(line), f) == NULL || sscanf(line, "%u %63s", &r, a) != 2) {
		fclose(f);
		D_ERROR("rdb: %s is corrupt\n", path);
		return -DER_PROTO;
	}
	fclose(f);
	*rank = r;
	snprintf(addr, len, "%s", a);
	return 0;
}

static int
membership_check(const struct rdb_replica *reps, int nreps, uint32_t self, const char **addr)
{
	int i, j;

	*addr = NULL;
	if (reps == NULL || (nreps != 1 && nreps != 3 && nreps != 5))
		return -DER_INVAL;
	for (i = 0; i < nreps; i++) {
		if (reps[i].rr_addr == NULL || strlen(reps[i].rr_addr) == 0 ||
		    strlen(reps[i].rr_addr) >= RDB_ADDR_LEN || reps[i].rr_rank == UINT32_MAX)
			return -DER_INVAL;
		for (j = 0; j < i; j++)
			if (reps[j].rr_rank == reps[i].rr_rank ||
			    strcmp(reps[j].rr_addr, reps[i].rr_addr) == 0)
				return -DER_INVAL;
		if (reps[i].rr_rank == self)
			*addr = reps[i].rr_addr;
	}
	return *addr == NULL ? -DER_INVAL : 0;
}

/* Open a replica; with @reps, bootstrap it first. */
static int
db_open(uv_loop_t *loop, const struct rdb_attr *attr, const struct rdb_replica *reps, int nreps,
	const char *join_addr, struct rdb **dbp)
{
	struct raft_configuration conf;
	struct rdb *db;
	const char *addr = NULL;
	char addr_buf[RDB_ADDR_LEN];
	uint32_t rank;
	unsigned et;
	int rc, rv;

	if (loop == NULL || attr == NULL || attr->da_dir == NULL || dbp == NULL)
		return -DER_INVAL;
	if (reps != NULL || join_addr != NULL) {
		if (reps != NULL) {
			rc = membership_check(reps, nreps, attr->da_rank, &addr);
			if (rc != 0)
				return rc;
		} else {
			if (strlen(join_addr) == 0 || strlen(join_addr) >= RDB_ADDR_LEN ||
			    attr->da_rank == UINT32_MAX)
				return -DER_INVAL;
			addr = join_addr;
		}
		if (mkdir(attr->da_dir, 0700) != 0 && errno != EEXIST)
			return d_errno2der(errno);
		rc = id_file_read(attr->da_dir, &rank, addr_buf, sizeof(addr_buf));
		if (rc == 0)
			return -DER_EXIST;
		if (rc != -DER_NONEXIST)
			return rc;
	} else {
		rc = id_file_read(attr->da_dir, &rank, addr_buf, sizeof(addr_buf));
		if (rc != 0)
			return rc;
		if (rank != attr->da_rank) {
			D_ERROR("rdb: %s belongs to rank %u, not %u\n", attr->da_dir, rank,
				attr->da_rank);
			return -DER_INVAL;
		}
		addr = addr_buf;
	}

	D_ALLOC_PTR(db);
	if (db == NULL)
		return -DER_NOMEM;
	db->d_loop = loop;
	db->d_rank = attr->da_rank;
	snprintf(db->d_addr, sizeof(db->d_addr), "%s", addr);
	if (attr->da_cbs != NULL)
		db->d_cbs = *attr->da_cbs;
	db->d_watch_ms = attr->da_watch_interval_ms ?: RDB_WATCH_INTERVAL_DEFAULT_MS;
	rdb_store_init(&db->d_store);
	pthread_mutex_init(&db->d_lock, NULL);
	D_INIT_LIST_HEAD(&db->d_queue);

	db->d_fsm.version = 2;
	db->d_fsm.data = db;
	db->d_fsm.apply = fsm_apply;
	db->d_fsm.snapshot = fsm_snapshot;
	db->d_fsm.snapshot_finalize = fsm_snapshot_finalize;
	db->d_fsm.restore = fsm_restore;

	rv = raft_uv_tcp_init(&db->d_transport, loop);
	if (rv != 0) {
		rc = raft2der(rv);
		goto out_free;
	}
	rv = raft_uv_init(&db->d_io, loop, attr->da_dir, &db->d_transport);
	if (rv != 0) {
		D_ERROR("rdb %u: raft_uv_init(%s): %s\n", db->d_rank, attr->da_dir,
			db->d_io.errmsg);
		rc = raft2der(rv);
		goto out_transport;
	}
	raft_uv_set_segment_size(&db->d_io, attr->da_segment_size ?: RDB_SEGMENT_SIZE_DEFAULT);
	rv = raft_init(&db->d_raft, &db->d_io, &db->d_fsm, (raft_id)db->d_rank + 1, db->d_addr);
	if (rv != 0) {
		rc = raft2der(rv);
		goto out_io;
	}
	db->d_raft.data = db;
	et = attr->da_election_timeout_ms ?: RDB_ELECTION_TIMEOUT_DEFAULT_MS;
	raft_set_election_timeout(&db->d_raft, et);
	raft_set_heartbeat_timeout(&db->d_raft, et / 10 ?: 1);
	raft_set_pre_vote(&db->d_raft, true);
	/*
	 * A snapshot sent to a replica that was down is lost; the leader resends only after
	 * this timeout (libraft's default is 30 s): keep catch-up within seconds.
	 */
	raft_set_install_snapshot_timeout(&db->d_raft, et * 10);
	raft_set_snapshot_threshold(&db->d_raft,
				    attr->da_snapshot_threshold ?: RDB_SNAPSHOT_THRESHOLD_DEFAULT);
	raft_set_snapshot_trailing(&db->d_raft,
				   attr->da_snapshot_threshold ?: RDB_SNAPSHOT_THRESHOLD_DEFAULT);

	if (reps != NULL) {
		int i;

		raft_configuration_init(&conf);
		for (i = 0; i < nreps; i++) {
			rv = raft_configuration_add(&conf, (raft_id)reps[i].rr_rank + 1,
						    reps[i].rr_addr, RAFT_VOTER);
			if (rv != 0)
				break;
		}
		if (rv == 0)
			rv = raft_bootstrap(&db->d_raft, &conf);
		raft_configuration_close(&conf);
		if (rv != 0) {
			D_ERROR("rdb %u: bootstrap in %s: %s\n", db->d_rank, attr->da_dir,
				raft_errmsg(&db->d_raft));
			rc = raft2der(rv);
			goto out_close;
		}
		rc = id_file_write(attr->da_dir, db->d_rank, db->d_addr);
		if (rc != 0)
			goto out_close;
	} else if (join_addr != NULL) {
		rc = id_file_write(attr->da_dir, db->d_rank, db->d_addr);
		if (rc != 0)
			goto out_close;
	}
	rv = raft_start(&db->d_raft);
	if (rv != 0) {
		D_ERROR("rdb %u: start at %s in %s: %s\n", db->d_rank, db->d_addr, attr->da_dir,
			raft_errmsg(&db->d_raft));
		rc = rv == RAFT_IOERR && strstr(raft_errmsg(&db->d_raft), "listen") != NULL
			 ? -DER_BUSY
			 : raft2der(rv);
		goto out_close;
	}

	uv_timer_init(loop, &db->d_watch);
	db->d_watch.data = db;
	uv_async_init(loop, &db->d_async, async_cb);
	db->d_async.data = db;
	uv_timer_start(&db->d_watch, watch_cb, db->d_watch_ms, db->d_watch_ms);
	D_INFO("rdb %u: started at %s in %s\n", db->d_rank, db->d_addr, attr->da_dir);
	*dbp = db;
	return 0;

out_close:
	/* raft_init succeeded: closing is asynchronous; db is freed as the loop runs. */
	db_close(db, false);
	return rc;
out_io:
	raft_uv_close(&db->d_io);
out_transport:
	raft_uv_tcp_close(&db->d_transport);
out_free:
	rdb_store_fini(&db->d_store);
	pthread_mutex_destroy(&db->d_lock);
	D_FREE(db);
	return rc;
}

int
rdb_create(uv_loop_t *loop, const struct rdb_attr *attr, const struct rdb_replica *reps, int nreps,
	   struct rdb **db)
{
	if (reps == NULL)
		return -DER_INVAL;
	return db_open(loop, attr, reps, nreps, NULL, db);
}

int
rdb_join(uv_loop_t *loop, const struct rdb_attr *attr, const char *addr, struct rdb **db)
{
	if (addr == NULL)
		return -DER_INVAL;
	return db_open(loop, attr, NULL, 0, addr, db);
}

int
rdb_start(uv_loop_t *loop, const struct rdb_attr *attr, struct rdb **db)
{
	return db_open(loop, attr, NULL, 0, NULL, db);
}
