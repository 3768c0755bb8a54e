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
	/*
	 * Index only, for benchmarks and scratch pools: transactions keep before-images for
	 * abort but nothing goes to the WAL (no redo record, no flush, no checkpoint while
	 * open); every commit is "durable" at once. vos_pool_close writes every dirty page to
	 * both meta slots, a fresh WAL header and syncs the data file, so a clean close loses
	 * nothing. A crash loses the whole pool, not only what changed since the open: the
	 * meta headers are marked at the open (synced before it returns) and cleared at the
	 * end of a clean close, and every later open that finds the mark fails with
	 * -DER_DATA_LOSS (VOS_POF_FORCE does not override it): the meta file's older state may
	 * reference data-file blocks freed and rewritten since, and a crash inside the close's
	 * checkpoint tears it.
	 */
	VOS_POF_NO_WAL = (1 << 1),
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
 * Where the three files of a pool shard live, each a file path (borrowed). They may lie in
 * different directories (the engine's storage tiers with the meta, wal and data roles);
 * the directories must exist.
 */
struct vos_pool_paths {
	const char *vpp_meta;
	const char *vpp_wal;
	const char *vpp_data;
};

/**
 * As vos_pool_create, with each file at its own path: none of the three may exist; no
 * directory is created or removed. Nothing is left behind on failure.
 * Returns 0, -DER_EXIST, -DER_INVAL, -DER_NOSPACE, -DER_IO, -DER_NOMEM.
 * Context: any thread; blocks on disk I/O.
 */
int vos_pool_create_paths(const struct vos_pool_paths *paths, const uuid_t uuid, daos_size_t scm_sz,
			  daos_size_t data_sz, daos_size_t wal_sz, const struct vos_pool_attr *attr,
			  daos_handle_t *poh);

/**
 * Open the pool shard at @path, whose uuid must be @uuid: load the newest intact checkpoint
 * and replay the WAL after it. Returns 0, -DER_NONEXIST, -DER_CSUM (no intact checkpoint),
 * -DER_DATA_LOSS (the WAL is damaged in its middle, VOS_POF_FORCE opens anyway; or the pool
 * was open with VOS_POF_NO_WAL when its process died, never opened again), -DER_INVAL
 * (not a pool, or another uuid), -DER_IO, -DER_NOMEM.
 * Context: any thread; blocks on disk I/O.
 */
int vos_pool_open(const char *path, const uuid_t uuid, unsigned int flags,
		  const struct vos_pool_attr *attr, daos_handle_t *poh);

/** As vos_pool_open, with the files at @paths (see vos_pool_create_paths). */
int vos_pool_open_paths(const struct vos_pool_paths *paths, const uuid_t uuid, unsigned int flags,
			const struct vos_pool_attr *attr, daos_handle_t *poh);

/**
 * Checkpoint and close. Returns the checkpoint's error if it failed (the pool is closed all
 * the same; its WAL still holds everything -- except under VOS_POF_NO_WAL, where a failed
 * close leaves the pool marked and refused at the next open).
 */
int vos_pool_close(daos_handle_t poh);

/** Remove the pool shard directory @path and its files. -DER_NONEXIST if absent. */
int vos_pool_destroy(const char *path, const uuid_t uuid);

/**
 * Remove the files at @paths, the meta file first (the shard stops existing with it), then
 * the WAL and the data file; no directory is removed. -DER_NONEXIST if none existed.
 */
int vos_pool_destroy_paths(const struct vos_pool_paths *paths, const uuid_t uuid);

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

/**
 * The counters and state of the pool's WAL (bio_wal_query): records appended, flushes,
 * syncs since the open. For metrics: a flush carries every record appended while the
 * previous one was in flight, so appends / flushes is the group commit's batch.
 * Context: the pool's thread; never blocks.
 */
void vos_pool_wal_query(daos_handle_t poh, struct bio_wal_stats *st);

/** Wait (through the pool's wait hook) until @lsn is durable. 0 or -DER_IO. */
int vos_pool_wait(daos_handle_t poh, uint64_t lsn);

/** Call @cb(@arg, @lsn, rc) when @lsn is durable (rc 0) or failed (-DER_IO). */
int vos_pool_on_durable(daos_handle_t poh, uint64_t lsn, bio_wal_durable_cb_t cb, void *arg);

/**
 * Callbacks of vos_pool_on_durable waiting for a WAL flush in flight, and the recent
 * flushes' latency in *@flush_ns (may be NULL): bio_wal_durable_waiters.
 */
uint32_t vos_pool_durable_waiters(daos_handle_t poh, uint64_t *flush_ns);

/**
 * Make progress without blocking: reap WAL completions, start the next flush, release data
 * blocks whose freeing is durable, run a step of garbage collection when there is some,
 * checkpoint if the WAL is filling up. Returns the number
 * of events handled (for an xstream poller) or a negative -DER_*.
 */
int vos_pool_poll(daos_handle_t poh);

/**
 * Garbage collection (vos_gc.c): free what container destroy and aggregation detached, in
 * transactions of a bounded number of records, up to @credits records (<= 0: until there
 * is nothing left), calling @yield_func(@yield_arg) (may be NULL) between transactions; a
 * non-zero return stops. vos_pool_poll runs one such transaction per call when there is
 * work. Returns 0 or -DER_* (-DER_DF_INVAL: a damaged bin).
 * Context: the pool's thread; may wait for the WAL.
 */
int vos_gc_pool(daos_handle_t poh, int credits, int (*yield_func)(void *arg), void *yield_arg);

/** Is there nothing left for garbage collection? Context: the pool's thread. */
bool vos_gc_pool_idle(daos_handle_t poh);

/** The fd an xstream poller can sleep on for this pool's I/O completions. */
int vos_pool_fd(daos_handle_t poh);

/**
 * The arm callback of the pool's poller (vos_pool_poll): 0 if it is safe to sleep on
 * vos_pool_fd(), non-zero if work is due that the fd would not signal: completions of any
 * of the pool's rings (WAL, data file, meta file) that came before the fd was drained,
 * staged WAL records, a checkpoint step or a GC step that can run now.
 *
 *	dss_xstream_poller_add(xs, poll_fn, arm_fn, vos_pool_fd(poh), arg, &p);
 *
 * Context: the pool's thread; never blocks.
 */
int vos_pool_arm(daos_handle_t poh);

/**
 * Whether I/O of the pool progressed since *@seq was taken (then *@seq is updated): a
 * data-file write or a WAL flush completed, or a data-file completion waits to be reaped.
 * A caller that parks the ULTs blocked in its wait hook (vos_pool_attr.pa_wait) wakes them
 * when this is true after vos_pool_poll; they then re-check what they wait for. Context:
 * the pool's thread; never blocks.
 */
bool vos_pool_io_progress(daos_handle_t poh, uint64_t *seq);

/*
 * Containers, objects, keys and values (vos_cont.c, vos_obj.c, vos_io.c).
 *
 * A pool shard holds containers (by uuid); a container an object index (by unit OID); an
 * object a tree of dkeys; a dkey a tree of akeys; an akey either a single value (versioned
 * by epoch) or an array of records (an extent tree). Updates never overwrite: every value
 * carries the epoch it was written at, and objects, dkeys and akeys carry incarnation logs
 * of their creations and punches, so a fetch at epoch E sees, per byte, the newest write
 * at or below E that no punch at or below E removed. Epochs come from the caller (the
 * engine's HLC); 0 is not an epoch, and DAOS_EPOCH_MAX reads the latest.
 *
 * Durability: an update or punch returns once applied in memory; it is durable when
 * vos_pool_wait(vos_cont2poh(coh), vos_pool_last_lsn(...)) returns. A full WAL (or
 * staging buffer) is handled inside: room is made and the operation retried.
 */

struct dcs_iod_csums;
struct dtx_handle;

/** Space and contents of a container (vos_cont_query). */
struct vos_cont_info {
	uuid_t ci_uuid;
	uint64_t ci_nobjs;     /* objects in the object index (punched ones included) */
	uint64_t ci_used;      /* ci_used_scm + ci_used_data */
	uint64_t ci_used_scm;  /* value bytes held in the heap */
	uint64_t ci_used_data; /* bytes of data-file blocks held by values */
};

/**
 * Create an empty container @co_uuid in pool @poh. Returns 0, -DER_EXIST, -DER_NOSPACE,
 * -DER_NOMEM, -DER_IO (the WAL failed).
 * Context: the pool's thread; does not wait for durability.
 */
int vos_cont_create(daos_handle_t poh, const uuid_t co_uuid);

/**
 * Open container @co_uuid; *@coh is the caller's, closed with vos_cont_close before the
 * pool is closed. A container may be opened several times. Returns 0, -DER_NONEXIST,
 * -DER_NOMEM, -DER_INVAL (damaged record).
 * Context: the pool's thread.
 */
int vos_cont_open(daos_handle_t poh, const uuid_t co_uuid, daos_handle_t *coh);

/** Release a handle from vos_cont_open. 0, or -DER_NO_HDL. Context: the pool's thread. */
int vos_cont_close(daos_handle_t coh);

/**
 * Destroy container @co_uuid: one short transaction takes it out of the pool (its uuid is
 * free again at once) and hands what it holds to garbage collection, which frees it in
 * bounded steps from vos_pool_poll (or vos_gc_pool); heap space comes back step by step,
 * data blocks once the freeing steps are durable. A crash leaves the rest to GC after the
 * next open. Returns 0, -DER_NONEXIST, -DER_BUSY (open handles), -DER_NOSPACE, -DER_IO.
 * Context: the pool's thread; may wait for the WAL (through the pool's wait hook).
 */
int vos_cont_destroy(daos_handle_t poh, const uuid_t co_uuid);

/** Contents and space of the container of @coh. Returns 0. Context: the pool's thread. */
int vos_cont_query(daos_handle_t coh, struct vos_cont_info *info);

/** The pool handle of container handle @coh (borrowed). Context: any. */
daos_handle_t vos_cont2poh(daos_handle_t coh);

/**
 * Write @iod_nr values under dkey @dkey of object @oid at @epoch, atomically (one heap
 * transaction: all or nothing). @iods[i] names the akey, its value type and size and, for
 * arrays, the extents; @sgls[i] (may be NULL when every iod punches) holds its data, in
 * order, iov_len bytes per iov. A single value of iod_size 0 punches the value; an array
 * iod of iod_size 0 punches its extents. Values of VOS_DATA_THRESH bytes or more go to the
 * data file: written (O_DIRECT) before the transaction commits, and synced by the WAL
 * flush that carries its record, before the record is written. @flags: DAOS_COND_DKEY_*
 * and DAOS_COND_AKEY_* (or DAOS_COND_PER_AKEY with each iod's iod_flags). An akey keeps
 * the value type of its first update. @pm_ver is recorded; @iods_csums must be NULL.
 * All pointers are borrowed. Returns 0, -DER_INVAL (bad arguments, epoch 0 or
 * DAOS_EPOCH_MAX, value type mismatch), -DER_EXIST / -DER_NONEXIST (a condition failed),
 * -DER_KEY2BIG, -DER_NO_PERM (an update and a punch of one key at one epoch),
 * -DER_VOS_PARTIAL_UPDATE (overlapping extents at one epoch), -DER_NOSPACE, -DER_NOMEM,
 * -DER_IO. On error nothing is applied.
 * Context: the pool's thread; waits for its data-file writes and, when the WAL is full, for
 * room, through the pool's wait hook (blocks without one).
 */
int vos_obj_update(daos_handle_t coh, daos_unit_oid_t oid, daos_epoch_t epoch, uint32_t pm_ver,
		   uint64_t flags, daos_key_t *dkey, unsigned int iod_nr, daos_iod_t *iods,
		   struct dcs_iod_csums *iods_csums, d_sg_list_t *sgls);

/**
 * Read @iod_nr values under dkey @dkey of object @oid as seen at @epoch (DAOS_EPOCH_MAX:
 * the latest). Single values: iod_size becomes the stored size (0: nothing visible) and
 * the value is copied to @sgls[i]; a buffer too small gives -DER_REC2BIG (the sizes are
 * still set). Arrays: iod_size 0 on input asks for the record size (set from the visible
 * extents); each extent's records are copied in order and holes read as zeroes; nothing
 * visible at all sets iod_size to 0. In @sgls, iov_len says how much each iov received and
 * sg_nr_out how many iovs did. @sgls may be NULL to ask for sizes only. @flags:
 * DAOS_COND_DKEY_FETCH / DAOS_COND_AKEY_FETCH (or per akey) turn an absent key into
 * -DER_NONEXIST. Returns 0, -DER_INVAL, -DER_NONEXIST, -DER_REC2BIG, -DER_NOMEM, -DER_IO.
 * Context: the pool's thread; blocks on data-file reads; changes nothing.
 */
int vos_obj_fetch(daos_handle_t coh, daos_unit_oid_t oid, daos_epoch_t epoch, uint64_t flags,
		  daos_key_t *dkey, unsigned int iod_nr, daos_iod_t *iods, d_sg_list_t *sgls);

/**
 * Punch at @epoch: the whole object (@dkey NULL), dkey @dkey (@akey_nr 0), or @akey_nr
 * akeys @akeys of @dkey. What was written at or below @epoch is hidden from readers at
 * or after @epoch (not freed: aggregation does that). A punch of a key that was never
 * written is recorded all the same, so an older update applied later stays hidden.
 * DAOS_COND_PUNCH in @flags: -DER_NONEXIST (nothing applied) unless every target is
 * visible at @epoch. @dth must be NULL for now. Returns 0, -DER_INVAL, -DER_NONEXIST,
 * -DER_NO_PERM, -DER_NOSPACE, -DER_NOMEM, -DER_IO.
 * Context: the pool's thread; may wait for the WAL to make room.
 */
int vos_obj_punch(daos_handle_t coh, daos_unit_oid_t oid, daos_epoch_t epoch, uint32_t pm_ver,
		  uint64_t flags, daos_key_t *dkey, unsigned int akey_nr, daos_key_t *akeys,
		  struct dtx_handle *dth);

/*
 * Enumeration and query key (vos_query.c). What a reader at @epoch sees: visible keys
 * (their incarnation logs say so, under their parents' punches) and visible data extents.
 * Anchors (daos_anchor_t) start zeroed (DAOS_ANCHOR_TYPE_ZERO) and end at
 * DAOS_ANCHOR_TYPE_EOF; in between they hold the last key returned (or the next record
 * index), so an enumeration resumes correctly after keys were added or removed: every key
 * present throughout is returned exactly once (hashed keys longer than 80 bytes may repeat).
 */

/**
 * List the dkeys of object @oid (@dkey NULL) or the akeys of dkey @dkey, visible at @epoch,
 * from @anchor on: up to *@nr keys, their bytes back to back in @sgl (a key may continue in
 * the next iov; iov_len and sg_nr_out say what was written), their lengths in @kds (for
 * akeys kd_val_type is DAOS_IOD_SINGLE or DAOS_IOD_ARRAY). *@nr returns how many; @anchor
 * moves past them, to EOF at the end. A missing object or dkey lists nothing.
 * -DER_KEY2BIG: the next key does not fit in @sgl at all; kds[0].kd_key_len is its size,
 * *@nr is 0 and @anchor has not moved. All pointers borrowed.
 * Returns 0, -DER_KEY2BIG, -DER_INVAL, -DER_NOMEM.
 * Context: the pool's thread; reads only.
 */
int vos_obj_list_keys(daos_handle_t coh, daos_unit_oid_t oid, daos_epoch_t epoch, daos_key_t *dkey,
		      daos_anchor_t *anchor, uint32_t *nr, daos_key_desc_t *kds, d_sg_list_t *sgl);

/**
 * List the extents of array akey @akey under @dkey holding data visible at @epoch, in
 * increasing index order, from @anchor on: up to *@nr in @recxs (adjacent visible pieces
 * are merged within a call), *@nr how many, *@rsize their record size (0: none). Holes and
 * punched ranges are left out. -DER_INVAL for an akey of single values.
 * Returns 0, -DER_INVAL, -DER_NOMEM, -DER_DF_INVAL.
 * Context: the pool's thread; reads only.
 */
int vos_obj_list_recx(daos_handle_t coh, daos_unit_oid_t oid, daos_epoch_t epoch, daos_key_t *dkey,
		      daos_key_t *akey, daos_size_t *rsize, daos_anchor_t *anchor, uint32_t *nr,
		      daos_recx_t *recxs);

/**
 * Query key: @flags is DAOS_GET_MAX or DAOS_GET_MIN with any of DAOS_GET_DKEY, DAOS_GET_AKEY,
 * DAOS_GET_RECX. Searched levels (uint64 keys only) take the largest (smallest) visible key
 * under which the levels below find something; the others use the caller's @dkey / @akey.
 * Found keys are copied into the iov's buffer when it has 8 bytes, else the iov points at
 * the key in the heap (borrowed until the next change). DAOS_GET_RECX gives in @recx the
 * last (first) visible data fragment of the akey: rx_idx + rx_nr is the array's size.
 * Returns 0, -DER_NONEXIST (nothing visible), -DER_INVAL.
 * Context: the pool's thread; reads only.
 */
int vos_obj_query_key(daos_handle_t coh, daos_unit_oid_t oid, uint32_t flags, daos_epoch_t epoch,
		      daos_key_t *dkey, daos_key_t *akey, daos_recx_t *recx);

/*
 * Aggregation and discard (vos_aggregate.c).
 */

/**
 * Aggregate the container of @coh: merge the history in @epr = [epr_lo, epr_hi], epr_hi being
 * the aggregation bound, so that every reader at an epoch above epr_hi and at each epoch of
 * @snapshots (@snap_nr of them, any order, borrowed; those above epr_hi change nothing) sees
 * exactly what it saw before -- values, extents, keys and listings. Readers at other epochs
 * at or below epr_hi are no longer served. Versions written in [epr_lo, epr_hi] that none of
 * those readers can see are removed (single values, and evtree entries fully covered for
 * every such reader; heap extents partly covered are trimmed to what the readers see and
 * merged with their neighbours; data-file extents stay whole), incarnation logs are aggregated
 * with the same bound and snapshots, and keys and objects no such reader sees (punched, with
 * nothing recorded above epr_hi) are handed with everything under them to garbage
 * collection (vos_gc_pool / vos_pool_poll). Versions below epr_lo are left alone. Heap
 * space of removed versions is back when the call returns, that of removed keys as GC runs,
 * data blocks once the freeing transactions are durable (vos_pool_wait, then vos_pool_poll). Work
 * is split into transactions of a bounded number of deletions; a full WAL is handled inside.
 * Running it again with the same arguments changes nothing. The caller must not write at or below
 * epr_hi afterwards. Returns 0, -DER_INVAL, -DER_NOMEM, -DER_NOSPACE (a log could not be
 * rewritten smaller), -DER_DF_INVAL, -DER_IO; on error what was done so far stays done, and
 * calling again completes it.
 * Context: the pool's thread; runs to completion (no yield); may wait for the WAL.
 */
int vos_aggregate(daos_handle_t coh, const daos_epoch_range_t *epr, const daos_epoch_t *snapshots,
		  uint32_t snap_nr);

/**
 * Discard everything written in the container of @coh at epochs in @epr = [epr_lo, epr_hi]
 * (DAOS uses it to undo an aborted epoch range): single values, extents and punches of
 * extents, and the incarnation-log entries (creates and punches of objects, dkeys, akeys) at
 * those epochs, as if the updates never happened; a key or object left with an empty log and
 * nothing under it is removed. Meant for epochs above every aggregation bound (aggregation
 * may have merged older history into the entries being discarded). Idempotent.
 * Returns 0, -DER_INVAL, -DER_NOMEM, -DER_NOSPACE, -DER_DF_INVAL, -DER_IO.
 * Context: the pool's thread; runs to completion (no yield); may wait for the WAL.
 */
int vos_discard(daos_handle_t coh, const daos_epoch_range_t *epr);

/*
 * Iteration (vos_iter.c): every entry of a container -- objects, dkeys, akeys, single-value
 * versions, array extents -- either as a reader at an epoch sees it, or with its whole
 * history. The interface rebuild (and later an aggregation driven by callbacks) builds on;
 * names follow DAOS's vos_iterate.
 */

/** Levels of the index, outermost first. */
typedef enum {
	VOS_ITER_NONE = 0,
	VOS_ITER_COUUID, /* containers of a pool: not iterable yet */
	VOS_ITER_OBJ,    /* objects of a container */
	VOS_ITER_DKEY,   /* dkeys of an object */
	VOS_ITER_AKEY,   /* akeys of a dkey */
	VOS_ITER_SINGLE, /* versions of a single value */
	VOS_ITER_RECX,   /* extents of an array value */
} vos_iter_type_t;

/** vos_iter_param_t::ip_flags */
enum {
	/*
	 * What a reader at epr_hi sees: visible keys only; of a single value the version read
	 * at epr_hi, of an array the visible fragments (holes left out); values written before
	 * epr_lo are left out. Without it: full history -- every key, with its incarnation-log
	 * entries in [epr_lo, epr_hi], every version and every extent (punches included) with
	 * an epoch in [epr_lo, epr_hi], each flagged VISIBLE or COVERED as seen at epr_hi.
	 */
	VOS_IT_VISIBLE = (1 << 0),
};

/** Where to iterate. The walk sets ip_oid, ip_dkey and ip_akey as it descends. */
typedef struct {
	daos_handle_t ip_hdl;      /* the container */
	daos_unit_oid_t ip_oid;    /* levels DKEY and below: the object */
	daos_key_t ip_dkey;        /* levels AKEY and below: the dkey (borrowed) */
	daos_key_t ip_akey;        /* levels SINGLE and RECX: the akey (borrowed) */
	daos_epoch_range_t ip_epr; /* epochs; epr_hi DAOS_EPOCH_MAX for "the latest" */
	uint32_t ip_flags;         /* VOS_IT_* */
} vos_iter_param_t;

/** vos_iter_entry_t::ie_vis_flags */
enum {
	VOS_VIS_FLAG_VISIBLE = (1 << 0), /* a reader at epr_hi sees it (or part of it) */
	VOS_VIS_FLAG_COVERED = (1 << 1), /* a reader at epr_hi does not see it */
	VOS_VIS_FLAG_PARTIAL = (1 << 2), /* RECX, visible mode: a fragment of a larger extent */
};

/** One incarnation-log event of an object or key. */
struct vos_iter_log_ent {
	daos_epoch_t ile_epoch;
	uint16_t ile_minor;
	uint16_t ile_punch; /* 1: a punch; 0: a create (an update under the key) */
	uint32_t ile_pad;
};

/** An entry handed to the callbacks; borrowed for the duration of the call. */
typedef struct {
	daos_unit_oid_t ie_oid; /* OBJ */
	daos_key_t ie_key;      /* DKEY, AKEY: the key's bytes, in the heap */
	/* SINGLE, RECX: the version's epoch; keys: the newest create at or below epr_hi */
	daos_epoch_t ie_epoch;
	/* keys: the newest punch of the key itself at or below epr_hi (0: none) */
	daos_epoch_t ie_punch;
	uint16_t ie_minor_epc;
	uint16_t ie_pad;
	uint32_t ie_vis_flags;       /* VOS_VIS_FLAG_* */
	daos_iod_type_t ie_val_type; /* AKEY: DAOS_IOD_SINGLE, DAOS_IOD_ARRAY, or NONE */
	uint32_t ie_ver;             /* SINGLE, RECX: pool map version of the update */
	daos_size_t ie_rsize; /* SINGLE: value bytes (0: a punch); RECX: record size (0: punch) */
	daos_size_t ie_gsize; /* SINGLE: as ie_rsize; RECX: bytes of ie_recx */
	daos_recx_t ie_recx;  /* RECX: the extent, or in visible mode the visible fragment */
	daos_recx_t ie_orig_recx; /* RECX: the whole extent as written */
	/*
	 * OBJ, DKEY, AKEY in full-history mode, for the pre-callback: log events in
	 * [epr_lo, epr_hi], oldest first (the post-callback gets none)
	 */
	const struct vos_iter_log_ent *ie_log;
	uint32_t ie_log_nr;
	/* private: where the value's bytes are (vos_iter_copy) */
	uint32_t ie_media;
	uint64_t ie_addr;
} vos_iter_entry_t;

/** Actions a callback may ask for in *@acts. */
enum {
	VOS_ITER_CB_SKIP = (1 << 2),  /* pre_cb: do not descend under this entry */
	VOS_ITER_CB_ABORT = (1 << 3), /* stop now; vos_iterate returns 1 */
};

/**
 * Called for an entry of level @type: pre_cb before the walk descends under it, post_cb
 * after. @ih is the container handle; @param the caller's, with ip_oid / ip_dkey / ip_akey
 * set to the entry's parents. Return 0 to go on, or a -DER_* that stops the walk and is
 * returned by vos_iterate. A callback may read the container (vos_obj_fetch, listing,
 * vos_iter_copy) and may change it: the walk resumes at the next key after the current
 * one; values of one akey are collected before their callbacks run, so changes made to
 * them meanwhile are not seen.
 */
typedef int (*vos_iter_cb_t)(daos_handle_t ih, vos_iter_entry_t *entry, vos_iter_type_t type,
			     vos_iter_param_t *param, void *arg, unsigned int *acts);

struct vos_iter_anchors;

/**
 * Walk the entries of level @type under @param (VOS_ITER_OBJ: every object of the
 * container ip_hdl; DKEY: the dkeys of ip_oid; AKEY: the akeys of ip_dkey; SINGLE / RECX:
 * the values of ip_akey), and with @recursive everything under them, depth first, calling
 * @pre_cb (may be NULL) before and @post_cb (may be NULL) after the children of each.
 * Objects and keys come in tree order; single values by increasing epoch; extents by
 * start index (full history: then newest first). @anchors and @dth must be NULL (resuming
 * and distributed transactions come later). Returns 0 at the end, 1 if a callback asked
 * to abort, a callback's error, -DER_INVAL, -DER_NOMEM, -DER_DF_INVAL.
 * Context: the pool's thread; reads only (the callbacks may write); does not yield.
 */
int vos_iterate(vos_iter_param_t *param, vos_iter_type_t type, bool recursive,
		struct vos_iter_anchors *anchors, vos_iter_cb_t pre_cb, vos_iter_cb_t post_cb,
		void *arg, struct dtx_handle *dth);

/**
 * Copy the bytes of a SINGLE or RECX entry (for RECX those of ie_recx) into @iov, whose
 * iov_buf_len must hold ie_gsize bytes; iov_len is set. A punch copies nothing.
 * Valid inside the callback that received @entry, unless a callback freed that version
 * meanwhile (values of an akey are collected before their callbacks run). Returns 0, -DER_INVAL,
 * -DER_REC2BIG, -DER_IO.
 * Context: the pool's thread; blocks on data-file reads.
 */
int vos_iter_copy(daos_handle_t ih, const vos_iter_entry_t *entry, d_iov_t *iov);

#endif /* D_SRV_VOS_H */
