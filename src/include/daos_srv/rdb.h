/*
 * daos_srv/rdb.h: a replicated key-value database over libraft (DESIGN.md §8).
 *
 * A database is one Raft group of 1, 3 or 5 replicas, each identified by a rank and an
 * address "127.0.0.x:port" (the libraft TCP transport listens there). Each replica keeps
 * its raft log and snapshots in its own directory. The replicated state is a set of
 * *tables*, each an ordered map from binary keys to binary values. A *transaction* is a
 * list of table creations/destructions, updates and deletions that the leader proposes as
 * one raft entry; every replica applies it all or nothing, in log order.
 *
 * The management, pool and container services keep their state here; they see it only
 * through this interface, so a service can later move to its own group (one per pool).
 *
 * Leadership. Only the leader serves reads and accepts transactions; other replicas answer
 * -DER_NOTLEADER and rdb_leader_hint() names who they believe leads. A replica that wins
 * an election first commits a barrier (so everything of earlier terms is applied), then
 * calls the owner's step_up(term); when it loses leadership (or stops) it calls
 * step_down(term). Reads on the leader see every transaction it acknowledged. A leader cut
 * off from the majority may still serve reads until its election timer deposes it
 * (about one election timeout): services that must never read stale state call rdb_sync
 * first. rdb_resign hands leadership over (planned stops); rdb_join, rdb_replica_add and
 * rdb_replica_remove change the membership.
 *
 * Outcome of a commit. 0: applied on a majority and locally. A -DER_* from the store
 * (-DER_NONEXIST, -DER_EXIST, ...): the transaction was replicated but had no effect,
 * on any replica. -DER_NOTLEADER: leadership was lost before the outcome was known; the
 * transaction may or may not take effect (make transactions idempotent or check after).
 * -DER_SHUTDOWN: the database stopped first (same uncertainty).
 *
 * Threads. A database lives on the uv loop given to rdb_create/join/start (the engine's
 * control thread, or a test's loop) and is not locked: every function is called on that
 * loop's thread, except the ones marked "any thread":
 *
 *   any thread:     rdb_tx_begin, rdb_tx_table_create/destroy, rdb_tx_update/delete,
 *                   rdb_tx_abort (a transaction is a private buffer until committed),
 *                   rdb_exec_sync and rdb_tx_commit_sync (they wait: not on the loop)
 *   the loop only:  everything else; callbacks (commit, step_up/down, stop) run there
 *
 * A thread that may call a *_sync function keeps @db alive: once rdb_stop has been called
 * they return -DER_SHUTDOWN, but only until the stop completes and @db is freed.
 *
 * Nothing here blocks the loop: raft's disk and network I/O is asynchronous.
 */
#ifndef DAOS_SRV_RDB_H
#define DAOS_SRV_RDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gurt/types.h>

struct rdb;
struct rdb_tx;
/* From <uv.h>. */
struct uv_loop_s;

/** Replicas at creation: 1, 3 or 5 (an odd number survives (n - 1) / 2 failures). */
#define RDB_REPLICAS_MAX 5
/** Room for a replica address "host:port" with its NUL. */
#define RDB_ADDR_LEN 64
/** Longest table name, in bytes (names are NUL-terminated strings). */
#define RDB_TABLE_NAME_MAX 127
/** Largest transaction, bytes of keys, values and headers together. */
#define RDB_TX_MAX (16U << 20)

/** Defaults of struct rdb_attr. */
#define RDB_ELECTION_TIMEOUT_DEFAULT_MS 500
#define RDB_SNAPSHOT_THRESHOLD_DEFAULT 1024
#define RDB_SEGMENT_SIZE_DEFAULT (1U << 20)
#define RDB_WATCH_INTERVAL_DEFAULT_MS 20

/** A member of the group. */
struct rdb_replica {
	uint32_t rr_rank;    /* unique in the group */
	const char *rr_addr; /* "127.0.0.x:port" the replica listens on */
};

/** The owner's leadership callbacks, on the loop thread. Either may be NULL. */
struct rdb_cbs {
	/* This replica became leader of @term and has applied everything before it. */
	void (*dc_step_up)(struct rdb *db, uint64_t term, void *arg);
	/* This replica is no longer leader of @term (deposed, or stopping). */
	void (*dc_step_down)(struct rdb *db, uint64_t term, void *arg);
	void *dc_arg;
};

/** How to open a replica; a zero field takes its default. */
struct rdb_attr {
	/** Directory of this replica's raft log and snapshots (created if missing). */
	const char *da_dir;
	/** This replica's rank; it must be in the membership. */
	uint32_t da_rank;
	/** Leader-election timeout (ms); heartbeats go at a tenth of it. Pre-vote is on. */
	uint32_t da_election_timeout_ms;
	/** Applied entries between two snapshots (and entries kept after one). */
	uint32_t da_snapshot_threshold;
	/** Size of the preallocated log segment files (bytes). */
	uint32_t da_segment_size;
	/** How often leadership is checked for step_up/step_down (ms). */
	uint32_t da_watch_interval_ms;
	/** Leadership callbacks (borrowed; NULL: none). */
	const struct rdb_cbs *da_cbs;
};

/** The state of a replica, for tools and tests. */
struct rdb_stat {
	uint64_t ds_term;       /* current raft term */
	uint64_t ds_applied;    /* index of the last entry applied locally */
	uint64_t ds_last_index; /* index of the last entry in the local log */
	uint64_t ds_tables;     /* tables in the local state */
	uint64_t ds_keys;       /* keys in all tables of the local state */
	bool ds_leader;         /* leader and stepped up (serving) */
};

/** Who this replica believes is the leader. */
struct rdb_hint {
	uint32_t rh_rank;
	uint64_t rh_term;
	char rh_addr[RDB_ADDR_LEN];
};

/*
 * Lifecycle.
 */

/**
 * Create replica @attr->da_rank of a new database whose members are @reps[0 .. @nreps)
 * (borrowed), and start it on @loop. Every member is created with the same membership;
 * they elect a leader once a majority runs. Returns 0 with *@db owned by the caller
 * (release with rdb_stop), -DER_INVAL (bad membership, rank not a member), -DER_EXIST (the
 * directory holds a database already: use rdb_start), -DER_NOMEM, -DER_IO, or -DER_BUSY
 * (the address is in use).
 *
 * Context: the loop thread of @loop.
 */
int rdb_create(struct uv_loop_s *loop, const struct rdb_attr *attr, const struct rdb_replica *reps,
	       int nreps, struct rdb **db);

/**
 * Re-open and start the replica whose state is in @attr->da_dir (its membership and rank
 * come from there; da_rank must match). The local state is rebuilt from the last snapshot
 * and the log; entries not yet known committed are applied once the leader says so.
 * Returns 0 with *@db owned by the caller, -DER_NONEXIST (no database there), -DER_INVAL,
 * -DER_NOMEM, -DER_IO or -DER_BUSY.
 *
 * Context: the loop thread of @loop.
 */
int rdb_start(struct uv_loop_s *loop, const struct rdb_attr *attr, struct rdb **db);

/**
 * Create replica @attr->da_rank of an existing database, listening at @addr, with no
 * membership and no state: it waits until the leader adds it (rdb_replica_add), then
 * receives everything. Restart it later with rdb_start. Returns as rdb_create.
 *
 * Context: the loop thread of @loop.
 */
int rdb_join(struct uv_loop_s *loop, const struct rdb_attr *attr, const char *addr,
	     struct rdb **db);

/** Called when a stopped database has released everything. */
typedef void (*rdb_stop_cb_t)(void *arg);

/**
 * Stop @db: step_down if it was up, fail pending commits with -DER_SHUTDOWN, close raft
 * (files and sockets), then free @db and call @cb(@arg) (may be NULL) on the loop. The
 * caller keeps running the loop until then. @db is invalid as soon as this returns.
 *
 * Context: the loop thread.
 */
void rdb_stop(struct rdb *db, rdb_stop_cb_t cb, void *arg);

/*
 * Leadership and state.
 */

/**
 * Is this replica the stepped-up leader (serving reads and transactions)? If so and @term
 * is not NULL, *@term is the term it stepped up in (0 otherwise). A deposition raft knows
 * of but the watch timer has not seen yet is noticed here: step_down runs first.
 *
 * Context: the loop thread.
 */
bool rdb_is_leader(struct rdb *db, uint64_t *term);

/**
 * Fill @hint with the leader this replica knows of. Returns 0, or -DER_NONEXIST when it
 * knows none (an election is under way). Context: the loop thread.
 */
int rdb_leader_hint(struct rdb *db, struct rdb_hint *hint);

/** Fill @st with this replica's state. Context: the loop thread. */
void rdb_stat_get(struct rdb *db, struct rdb_stat *st);

/*
 * Transactions.
 */

/**
 * Begin a transaction for @db that may only commit in @term (0: whichever term is current
 * at commit; a service passes the term of its step_up so that a transaction built from
 * reads of one term never lands in another). On success *@tx is owned by the caller until
 * rdb_tx_commit(_sync) or rdb_tx_abort consumes it. Returns 0 or -DER_NOMEM.
 *
 * Context: any thread.
 */
int rdb_tx_begin(struct rdb *db, uint64_t term, struct rdb_tx **tx);

/** Add "create table @name" to @tx. Applying it fails (-DER_EXIST) if @name exists. */
int rdb_tx_table_create(struct rdb_tx *tx, const char *name);

/** Add "destroy table @name and everything in it" (-DER_NONEXIST if missing). */
int rdb_tx_table_destroy(struct rdb_tx *tx, const char *name);

/**
 * Add "set @key to @val in table @table" (created or replaced; -DER_NONEXIST if the table
 * is missing). Keys are 1 .. 65535 bytes, values 0 .. RDB_TX_MAX bytes; both are copied.
 * Returns 0, -DER_INVAL or -DER_REC2BIG (the transaction would exceed RDB_TX_MAX).
 * As the other rdb_tx_* builders: any thread owning @tx.
 */
int rdb_tx_update(struct rdb_tx *tx, const char *table, const d_iov_t *key, const d_iov_t *val);

/** Add "delete @key from @table" (-DER_NONEXIST if the table or the key is missing). */
int rdb_tx_delete(struct rdb_tx *tx, const char *table, const d_iov_t *key);

/** Discard @tx (NULL is fine). Context: any thread owning @tx. */
void rdb_tx_abort(struct rdb_tx *tx);

/** The outcome of a commit (see the top of this file), on the loop thread. */
typedef void (*rdb_tx_cb_t)(int rc, void *arg);

/**
 * Propose @tx (consumed, whatever the outcome) and call @cb(rc, @arg) once it is applied
 * locally or failed. Returns 0 (@cb will run, never from within this call), or
 * -DER_NOTLEADER (not the stepped-up leader, or not in @tx's term), -DER_INVAL (empty
 * transaction), -DER_SHUTDOWN or -DER_NOMEM; then @cb never runs.
 *
 * Context: the loop thread.
 */
int rdb_tx_commit(struct rdb_tx *tx, rdb_tx_cb_t cb, void *arg);

/**
 * rdb_tx_commit from another thread: hands @tx (consumed) to the loop and waits for the
 * outcome, which it returns.
 *
 * Context: any thread but the loop's (it blocks; an xstream ULT uses the engine's
 * dss_ctl_exec + rdb_tx_commit instead).
 */
int rdb_tx_commit_sync(struct rdb_tx *tx);

/*
 * Leadership, continued (they complete like a commit).
 */

/**
 * Confirm leadership: commit a barrier in the current term and call @cb(rc, @arg) on the
 * loop once it is applied. rc 0: this replica was still the leader when the barrier
 * committed, so reads made after the callback (while rdb_is_leader) see every transaction
 * acknowledged before rdb_sync was called, closing the window of a deposed leader that has
 * not noticed yet; -DER_NOTLEADER or -DER_SHUTDOWN otherwise. Returns 0 (@cb will run),
 * -DER_NOTLEADER or -DER_NOMEM (then it never runs).
 *
 * Context: the loop thread.
 */
int rdb_sync(struct rdb *db, rdb_tx_cb_t cb, void *arg);

/**
 * Hand leadership over to replica @rank (UINT32_MAX: the most up-to-date one), e.g. before
 * a planned stop so the group need not wait an election timeout. This replica steps down
 * as soon as the other one takes over; @cb(rc, @arg) then runs with 0, or with
 * -DER_TIMEDOUT if nobody took over within an election timeout (it stays leader), or
 * -DER_SHUTDOWN. Returns 0 (@cb will run), -DER_NOTLEADER, -DER_BUSY (a handover is under
 * way), -DER_INVAL (@rank is not another voter) or -DER_NOMEM.
 *
 * Context: the loop thread.
 */
int rdb_resign(struct rdb *db, uint32_t rank, rdb_tx_cb_t cb, void *arg);

/**
 * Add replica @rank at @addr (started with rdb_join) to the membership: the leader first
 * replicates the state to it, then makes it a voter; @cb(rc, @arg) runs when the new
 * membership is committed (0) or failed. One change at a time. Keep groups at 3 or 5
 * voters: add, then remove the one it replaces. Returns 0 (@cb will run), -DER_NOTLEADER,
 * -DER_BUSY (a change is under way), -DER_EXIST (@rank or @addr is a member), -DER_INVAL
 * or -DER_NOMEM.
 *
 * Context: the loop thread.
 */
int rdb_replica_add(struct rdb *db, uint32_t rank, const char *addr, rdb_tx_cb_t cb, void *arg);

/**
 * Remove replica @rank from the membership; @cb(rc, @arg) once that is committed. A leader
 * that removes itself steps down then. The removed replica is no longer told anything:
 * its owner stops it and deletes its directory. Returns 0 (@cb will run),
 * -DER_NOTLEADER, -DER_BUSY, -DER_NONEXIST (@rank is not a member) or -DER_NOMEM.
 *
 * Context: the loop thread.
 */
int rdb_replica_remove(struct rdb *db, uint32_t rank, rdb_tx_cb_t cb, void *arg);

/*
 * Reads, on the leader.
 */

/**
 * Find @key in @table. On success *@val points at the value and *@len is its length;
 * the bytes are borrowed until control returns to the loop (the next apply may free
 * them). Returns 0, -DER_NONEXIST (no such table or key), -DER_NOTLEADER or -DER_INVAL.
 *
 * Context: the loop thread.
 */
int rdb_lookup(struct rdb *db, const char *table, const d_iov_t *key, const void **val,
	       size_t *len);

/**
 * Called for each entry by rdb_iterate; @key and @val are borrowed for the call. Return 0
 * to continue, 1 to stop early (rdb_iterate then returns 0), or a -DER_* that rdb_iterate
 * returns at once. The callback must not commit or stop the database.
 */
typedef int (*rdb_iterate_cb_t)(const d_iov_t *key, const d_iov_t *val, void *arg);

/**
 * Call @cb on the entries of @table in key order (bytes compared as unsigned, a prefix
 * before longer keys), starting at the first key >= @start (NULL: the first key).
 * Returns 0, the callback's error, -DER_NONEXIST (no table), -DER_NOTLEADER or -DER_INVAL.
 *
 * Context: the loop thread.
 */
int rdb_iterate(struct rdb *db, const char *table, const d_iov_t *start, rdb_iterate_cb_t cb,
		void *arg);

/**
 * Run @fn(@arg) on @db's loop thread and wait until it returned, e.g. to do lookups from a
 * service thread. Returns 0 once @fn ran, -DER_SHUTDOWN if @db is stopping, -DER_NOMEM.
 *
 * Context: any thread but the loop's (it blocks).
 */
int rdb_exec_sync(struct rdb *db, void (*fn)(void *arg), void *arg);

#endif /* DAOS_SRV_RDB_H */
