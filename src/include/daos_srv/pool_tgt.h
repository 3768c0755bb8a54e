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
#include <daos_srv/sched.h>
#include <daos_srv/vos.h>

/** What one target says about its shard of a pool (ds_pool_tgt_query). */
struct ds_pool_tgt_info {
	int32_t ti_rc;               /* 0: open, -DER_NONEXIST: no shard, other: the error */
	uint32_t ti_tgt;             /* the target index */
	struct vos_pool_info ti_vos; /* valid when ti_rc is 0 */
	uint32_t ti_nhdls;           /* container handles the target knows (ds_pool_tgt_hdl) */
	uint32_t ti_map_ver;         /* the pool map version it knows, 0: never told */
};

/** A container handle as the management service tells the targets (ds_pool_tgt_hdl). */
struct ds_tgt_hdl {
	uuid_t th_cont;
	uuid_t th_hdl;
	uint64_t th_capas; /* SEC_CONT_CAPA_* */
};

/** What ds_pool_tgt_hdl does with its handles (mgmt.TgtHdlOp). */
enum ds_tgt_hdl_op {
	DS_TGT_HDL_ADD = 0,    /* add or replace: -DER_NONEXIST without the pool shard */
	DS_TGT_HDL_REMOVE = 1, /* remove (unknown ones, or no shard: done) */
	DS_TGT_HDL_MAP = 2,    /* only the map version */
	DS_TGT_HDL_SET = 3,    /* replace the whole table of the pool */
};

/** Number of targets of the running engine (0 before its shards are open). Context: any. */
uint32_t ds_pool_tgt_nr(void);

/**
 * Create a joinable ULT running @fn(@arg) on target @tgt's xstream (dss_ult_create with the
 * default stack; *@ult for dss_ult_join, which says -DER_CANCELED if it never ran). Lets a
 * handler reach the shards of other targets of this engine: each target's VOS is touched
 * only by its own xstream. Returns 0, -DER_UNINIT (shards not open), -DER_INVAL (no such
 * target), or dss_ult_create's error. Context: a ULT, or a thread that is not an xstream.
 */
int ds_pool_tgt_ult_create(uint32_t tgt, dss_ult_func_t fn, void *arg, struct dss_ult **ult);

/**
 * Have target @tgt's xstream loop call @fn(@arg, 0) without a ULT (dss_call_post: @fn may
 * not block or yield, and reports its own completion). Returns 0, -DER_UNINIT, -DER_INVAL
 * (no such target), or dss_call_post's error. Context: any thread.
 */
int ds_pool_tgt_call(uint32_t tgt, dss_call_func_t fn, void *arg);

/** The index of the target whose xstream calls this, or -1 elsewhere. Context: any. */
int ds_pool_tgt_self(void);

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

/**
 * Tell every target's shard of pool @pool about container handles (@op on @hdls[0 .. @nr))
 * and pool map version @map_ver (each target keeps the highest it was told). Only handles
 * told here are served (ds_pool_child_io_check). Nothing is persisted: a restarted engine
 * knows no handle, and serves none, until the service tells it again. @tgt_rcs as for create.
 * Returns 0, -DER_UNINIT, -DER_INVAL (bad op), or the first target error (-DER_NONEXIST: ADD or SET
 * without the shard, -DER_NOMEM). Context: as ds_pool_tgt_create.
 */
int ds_pool_tgt_hdl(const uuid_t pool, uint32_t map_ver, enum ds_tgt_hdl_op op,
		    const struct ds_tgt_hdl *hdls, uint32_t nr, int *tgt_rcs, uint32_t tgt_nr);

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

/**
 * May a request through container handle @coh on container @cont, placed with pool map
 * version @map_ver, read (or, with @write, modify) in @child? Returns 0; -DER_STALE
 * (@map_ver older than the version the target knows); -DER_NO_PERM (the handle is of
 * another container, or @write without the write-data capability, or no read-data one);
 * -DER_NO_HDL (@coh not told by the service: never opened, closed, or the engine restarted
 * and was not told again yet). One hash lookup, no lock. Context: @child's xstream.
 */
int ds_pool_child_io_check(struct ds_pool_child *child, const uuid_t coh, const uuid_t cont,
			   uint32_t map_ver, bool write);

/** Drop the reference of ds_pool_child_lookup. Context: @child's xstream. */
void ds_pool_child_put(struct ds_pool_child *child);

#endif /* DAOS_SRV_POOL_TGT_H */
