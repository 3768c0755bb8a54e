/*
 * daos_srv/vos.h: the versioned object store of one target (DESIGN.md §7).
 *
 * A VOS pool shard is a directory holding three files:
 *
 *	meta   two alternating checkpoint images of the heap (vos_meta.c)
 *	wal    the write-ahead log of heap transactions (bio WAL)
 *	data   bulk values, in 4 KiB blocks handed out by VEA
 *
 * The heap (umem) holds the whole index in memory. An update applies in memory inside a
 * transaction whose redo record goes to the WAL; the caller then waits for that LSN to be
 * durable (vos_pool_wait, or vos_pool_on_durable) before acknowledging, so many in-flight
 * updates share one flush. Opening a pool loads the newest intact checkpoint and replays
 * the WAL after it.
 *
 * Handles are cookies of daos_handle_t. Context: a pool and everything in it belong to one
 * thread (a target xstream); nothing here locks. Waiting goes through the pool's wait hook:
 * in the engine it yields the ULT; by default (tests, tools) it blocks on the WAL's ring.
 */
#ifndef D_SRV_VOS_H
#define D_SRV_VOS_H

#include <daos_types.h>
#include <daos_srv/bio.h>
#include <daos/object.h>

/* Sizes of a new pool's files: defaults and limits. */
#define VOS_POOL_SCM_MIN (16ULL << 20)
#define VOS_POOL_WAL_MIN (4ULL << 20)
#define VOS_POOL_DATA_MIN (1ULL << 20)
#define VOS_BLK_SIZE 4096U
/** Values of this size or more go to the data file; smaller ones live in the heap. */
#define VOS_DATA_THRESH 4096U

/** Tunables of an open pool; zero fields take defaults. */
struct vos_pool_attr {
	/* Wait for the WAL to make progress (see bio_wal_wait_cb_t); NULL: block on its ring */
	bio_wal_wait_cb_t pa_wait;
	void *pa_wait_arg;
	/* Checkpoint when the WAL is this full (percent, default 50) */
	uint32_t pa_ckpt_pct;
	uint32_t pa_pad;
};

/** Space and state of a pool shard. Tiers as in DAOS: SCM = metadata heap, NVMe = data. */
struct vos_pool_info {
	uuid_t pi_uuid;
	uint64_t pi_scm_total;
	uint64_t pi_scm_free;
	uint64_t pi_data_total;
	uint64_t pi_data_free;
	uint64_t pi_wal_size;
	uint64_t pi_wal_used;
	uint64_t pi_last_lsn;    /* last committed transaction */
	uint64_t pi_durable_lsn; /* last durable one */
	uint64_t pi_ckpt_lsn;    /* covered by the newest checkpoint */
	uint64_t pi_checkpoints; /* taken since open */
};

/** vos_pool_open flags */
enum {
	/* open even if the WAL lost records in its middle (they are gone either way) */
	VOS_POF_FORCE = (1 << 0),
};

/**
 * Create the pool shard directory @path (it must not exist, its parent must) with a heap of
 * @scm_sz bytes, a data file of @data_sz and a WAL of @wal_sz (0 = defaults), and leave it
 * closed, or open in *@poh if @poh is not NULL. Nothing is left behind on failure.
 * Returns 0, -DER_EXIST, -DER_INVAL, -DER_NOSPACE, -DER_IO, -DER_NOMEM.
 * Context: any thread; blocks on disk I/O.
 */
int vos_pool_create(const char *path, const uuid_t uuid, daos_size_t scm_sz, daos_size_t data_sz,
		    daos_size_t wal_sz, const struct vos_pool_attr *attr, daos_handle_t *poh);

/**
 * Open the pool shard at @path, whose uuid must be @uuid: load the newest intact checkpoint
 * and replay the WAL after it. Returns 0, -DER_NONEXIST, -DER_CSUM (no intact checkpoint),
 * -DER_DATA_LOSS (the WAL is damaged in its middle; VOS_POF_FORCE opens anyway), -DER_INVAL
 * (not a pool, or another uuid), -DER_IO, -DER_NOMEM.
 * Context: any thread; blocks on disk I/O.
 */
int vos_pool_open(const char *path, const uuid_t uuid, unsigned int flags,
		  const struct vos_pool_attr *attr, daos_handle_t *poh);

/**
 * Checkpoint and close. Returns the checkpoint's error if it failed (the pool is closed all
 * the same; its WAL still holds everything).
 */
int vos_pool_close(daos_handle_t poh);

/** Remove the pool shard directory @path and its files. -DER_NONEXIST if absent. */
int vos_pool_destroy(const char *path, const uuid_t uuid);

/** Space and state. */
int vos_pool_query(daos_handle_t poh, struct vos_pool_info *info);

/**
 * Write a checkpoint now (normally vos_pool_poll does it when the WAL fills up): wait for
 * the WAL to be durable up to the last transaction, write the older meta slot, trim the
 * WAL. Returns 0, -DER_IO.
 */
int vos_pool_checkpoint(daos_handle_t poh);

/** LSN of the last committed transaction of the pool (0 before any). */
uint64_t vos_pool_last_lsn(daos_handle_t poh);

/** Wait (through the pool's wait hook) until @lsn is durable. 0 or -DER_IO. */
int vos_pool_wait(daos_handle_t poh, uint64_t lsn);

/** Call @cb(@arg, @lsn, rc) when @lsn is durable (rc 0) or failed (-DER_IO). */
int vos_pool_on_durable(daos_handle_t poh, uint64_t lsn, bio_wal_durable_cb_t cb, void *arg);

/**
 * Make progress without blocking: reap WAL completions, start the next flush, release data
 * blocks whose freeing is durable, checkpoint if the WAL is filling up. Returns the number
 * of events handled (for an xstream poller) or a negative -DER_*.
 */
int vos_pool_poll(daos_handle_t poh);

/** The fd an xstream poller can sleep on for this pool's I/O completions. */
int vos_pool_fd(daos_handle_t poh);

#endif /* D_SRV_VOS_H */
