/*
 * daos_srv/pool_tgt.h: the pool shards of this engine's targets, as the control plane and the
 * server modules see them (implemented by the engine, src/engine/srv_vos.c).
 *
 * Each target xstream owns one VOS pool shard per pool (daos_srv/vos.h), kept open while the
 * engine runs: daos_server opens every shard it finds at start and checkpoints and closes
 * them all at stop. A pool exists on this engine when every target has its shard.
 *
 *   ds_pool_tgt_create / _destroy / _query   from a ULT or a thread that is not an
 *                                            xstream: run on every target at once, wait,
 *                                            report per target
 *   ds_pool_child_lookup / _put              from a ULT on a target xstream: that target's
 *                                            shard of a pool, referenced
 *
 * On disk (see src/engine/README.md): <root>/<pool uuid>/vos-<target>/{meta,wal,data}, root
 * being the directory of the storage tier that holds the metadata role.
 */
#ifndef DAOS_SRV_POOL_TGT_H
#define DAOS_SRV_POOL_TGT_H

#include <stdint.h>

#include <daos_types.h>
#include <daos_srv/vos.h>

/** What one target says about its shard of a pool (ds_pool_tgt_query). */
struct ds_pool_tgt_info {
	int32_t ti_rc;               /* 0: open, -DER_NONEXIST: no shard, other: the error */
	uint32_t ti_tgt;             /* the target index */
	struct vos_pool_info ti_vos; /* valid when ti_rc is 0 */
};

/** Number of targets of the running engine (0 before its shards are open). Context: any. */
uint32_t ds_pool_tgt_nr(void);

/**
 * Create the shard of pool @uuid on every target, each with @scm_size / targets bytes of
 * metadata heap and @nvme_size / targets bytes of data file (the totals of this engine, as
 * DAOS's dmg pool create sizes are per engine), and keep it open. All or nothing: if one
 * target fails, the shards the others created are destroyed again before this returns.
 * @tgt_rcs (may be NULL) receives each target's result (@tgt_nr entries, target order;
 * -DER_CANCELED for a shard created and then undone).
 * Returns 0, -DER_UNINIT (the engine's shards are not open), -DER_INVAL (sizes below the
 * VOS minimums per target), -DER_EXIST (a target has that pool already), -DER_NOSPACE (the
 * ram tier's scm_size per target would be exceeded, or the disk is full), -DER_NOMEM,
 * -DER_IO: the first target error.
 * Context: a ULT (it yields; the control thread hands its requests to one on the system
 * xstream) or a thread that is not an xstream (it blocks); the engine is running.
 */
int ds_pool_tgt_create(const uuid_t uuid, uint64_t scm_size, uint64_t nvme_size, int *tgt_rcs,
		       uint32_t tgt_nr);

/**
 * Close and remove the shard of pool @uuid on every target (after the ULTs holding it have
 * put it), files included, also a shard that could not be opened at start. A target without
 * the shard counts as done, so destroy is idempotent. @tgt_rcs as for create.
 * Returns 0, -DER_UNINIT, or the first target error (-DER_IO...).
 * Context: as ds_pool_tgt_create.
 */
int ds_pool_tgt_destroy(const uuid_t uuid, int *tgt_rcs, uint32_t tgt_nr);

/**
 * Destroy container @cont in the shard of pool @pool on every target (vos_cont_destroy:
 * the space comes back through background GC). A target without the shard or the container
 * counts as done (idempotent). @tgt_rcs as for create. Returns 0, -DER_UNINIT, or the first
 * target error (-DER_BUSY: a VOS handle of the container is open there).
 * Context: as ds_pool_tgt_create.
 */
int ds_pool_tgt_cont_destroy(const uuid_t pool, const uuid_t cont, int *tgt_rcs, uint32_t tgt_nr);

/**
 * Query the shard of pool @uuid on every target into @infos (@tgt_nr entries, target order).
 * Returns 0 if every target has it open, -DER_NONEXIST if none has it, -DER_UNINIT, or the
 * first other target error (e.g. -DER_NONEXIST on some targets only: see each ti_rc).
 * Context: as ds_pool_tgt_create.
 */
int ds_pool_tgt_query(const uuid_t uuid, struct ds_pool_tgt_info *infos, uint32_t tgt_nr);

/** A target's open shard of a pool (opaque). */
struct ds_pool_child;

/**
 * The calling target's shard of pool @uuid, referenced: *@child stays open (a destroy waits)
 * until ds_pool_child_put. Returns 0, -DER_NONEXIST, or -DER_INVAL (not on a target
 * xstream). Context: a ULT on a target xstream.
 */
int ds_pool_child_lookup(const uuid_t uuid, struct ds_pool_child **child);

/** The VOS pool handle of @child (borrowed while referenced). Context: @child's xstream. */
daos_handle_t ds_pool_child_hdl(const struct ds_pool_child *child);

/** Drop the reference of ds_pool_child_lookup. Context: @child's xstream. */
void ds_pool_child_put(struct ds_pool_child *child);

#endif /* DAOS_SRV_POOL_TGT_H */
